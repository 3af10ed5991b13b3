"""Keyless-auth routes of :class:`~aiogoogle.testing.LocalGoogleServer`: stand-ins for the
services workload identity federation, ID tokens and the device flow talk to. Each checks
what it receives as strictly as the real service documents.

* ``POST /v1/token``: Google's Security Token Service
  (https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token; RFC 8693 §2.1):
  ``grant_type`` token-exchange, ``requested_token_type`` access_token, a registered
  ``audience`` (:meth:`KeylessState.add_pool`), ``scope``; the ``subject_token`` is verified
  by its ``subject_token_type``: a JWT (or id_token) must be signed by this server's OIDC
  issuer (:meth:`KeylessState.subject_token`), name the pool's allowed audience
  (``https://iam.googleapis.com/`` + the provider, Google's default) and be unexpired; an
  ``aws4_request`` must be a ``POST`` of ``GetCallerIdentity`` to a regional AWS STS host,
  signed (Signature Version 4,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) by an
  access key of :meth:`KeylessState.add_aws_key`, within 15 minutes, with
  ``x-goog-cloud-target-resource`` = the audience among the signed headers. Workforce
  pools without client authentication need ``options.userProject``. Answers
  ``{"access_token", "issued_token_type", "token_type": "Bearer", "expires_in"}``; the
  token is live for ``/protected`` and the IAM endpoints;
* ``POST /v1/oauthtoken``: the refresh of ``external_account_authorized_user`` files
  (HTTP Basic client authentication, :meth:`KeylessState.issue_workforce_refresh_token`);
* ``/latest/...``: an EC2 instance metadata service (IMDSv2 session tokens from
  ``PUT /latest/api/token``, required on every other request when
  :attr:`KeylessState.imdsv2_required`), with the zone, role name and role credentials;
* ``GET /keyless/subject-token``: a URL-sourced subject token endpoint (Azure-like: the
  ``Metadata: True`` header is required; JSON ``{"access_token": ...}``, or text with
  ``?format=text``): the last :func:`subject_token` made, else one for :data:`DEMO_POOL`
  (a pool every server accepts);
* ``POST /v1/projects/-/serviceAccounts/{sa}:generateIdToken``: IAM Credentials
  (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateIdToken),
  the same checks as ``generateAccessToken``;
* ``GET /computeMetadata/v1/instance/service-accounts/default/identity``: the metadata
  server's ID tokens (``audience`` required, ``Metadata-Flavor: Google``);
* ``POST /token`` with a JWT-bearer assertion carrying ``target_audience``: a service
  account key's ID token (the assertion verified as for access tokens);
* ``POST /device/code`` and ``POST /token`` with the device_code grant (RFC 8628 §3.1-3.5;
  ``authorization_pending`` answered 428 as Google does, ``slow_down`` when polled faster
  than the interval); ``GET /device?user_code=...`` approves (what a user does in a
  browser), :meth:`KeylessState.deny` refuses;
* ``* /run/...``: a private Cloud Run service: answers only requests with an ID token
  signed by this server for the audience :func:`run_audience`.

ID tokens are signed with the provider key of :mod:`aiogoogle.testing._server_auth` (its
JWKS verifies them). Controls and counters are on :func:`keyless_state`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from aiohttp import web

from aiogoogle.testing._server_auth import (
    CLOUD_PLATFORM,
    JWT_BEARER,
    KEY_ID,
    _Grant,
    _rpc_error,
    _rsa_key,
    auth_state,
)

__all__ = ["DEMO_POOL", "KeylessState", "install", "keyless_state", "run_audience", "subject_token"]

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
JWT_TYPES = ("urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token")
AWS_TYPE = "urn:ietf:params:aws:token-type:aws4_request"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: A workload identity pool provider every server accepts, so ``aiogoogle serve`` can
#: demonstrate federation: ``/keyless/subject-token`` serves tokens for it.
DEMO_POOL = "//iam.googleapis.com/projects/0/locations/global/workloadIdentityPools/local/providers/local"
#: AWS refuses signed requests more than 15 minutes away from its clock.
AWS_SKEW = 15 * 60


@dataclass
class _Device:
    client_id: str
    scopes: list[str]
    user_code: str
    expires: float
    interval: int
    status: str = "pending"
    last_poll: float = 0.0


@dataclass
class KeylessState:
    """Pools, AWS keys, device codes and counters (see the module docstring)."""

    #: audience (provider resource name, ``//iam.googleapis.com/...``) -> allowed ``aud`` of OIDC subject tokens.
    pools: dict[str, str] = field(default_factory=lambda: {DEMO_POOL: "https:" + DEMO_POOL})
    #: audience -> an outside OpenID issuer whose tokens the pool accepts (see :meth:`add_pool`).
    pool_issuers: dict[str, str] = field(default_factory=dict)
    #: OAuth clients allowed to authenticate to STS (id -> secret).
    sts_clients: dict[str, str] = field(default_factory=dict)
    aws_keys: dict[str, str] = field(default_factory=dict)  # access key id -> secret
    aws_session_tokens: dict[str, str] = field(default_factory=dict)  # access key id -> session token
    aws_role: str = "keyless-role"
    aws_zone: str = "us-east-1d"
    imdsv2_required: bool = True
    imdsv2_tokens: set[str] = field(default_factory=set)
    #: The last subject token served at ``/keyless/subject-token`` (set by :meth:`subject_token`).
    url_token: str | None = None
    workforce_refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> client id
    devices: dict[str, _Device] = field(default_factory=dict)  # device_code -> state
    #: The polling interval new device codes announce (RFC 8628 §3.2; Google says 5).
    device_interval: int = 5
    #: Every STS exchange's subject_token_type, in order; the user projects received.
    exchanges: list[str] = field(default_factory=list)
    user_projects: list[str | None] = field(default_factory=list)
    id_tokens: list[str] = field(default_factory=list)  # audiences of ID tokens issued
    run_calls: int = 0

    def add_pool(self, audience: str, allowed_audience: str | None = None, *, issuer: str | None = None) -> str:
        """Accept ``audience`` at STS; OIDC subject tokens must carry ``allowed_audience``
        (default ``https://iam.googleapis.com/`` + the provider, as Google does).

        ``issuer`` trusts another OpenID provider for this pool (a real one on 127.0.0.1 in
        the tests): its tokens are verified as Google's STS does, against the keys its
        OpenID configuration's ``jwks_uri`` publishes
        (https://cloud.google.com/iam/docs/workload-identity-federation-with-other-providers).
        Without it, tokens must come from this server's own issuer (:func:`subject_token`)."""
        self.pools[audience] = allowed_audience or "https:" + audience
        if issuer is not None:
            if not issuer.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
                raise ValueError(f"the test double only fetches keys from 127.0.0.1, not {issuer!r}")
            self.pool_issuers[audience] = issuer.rstrip("/")
        return audience

    def add_aws_key(self, access_key_id: str = "AKIDKEYLESSEXAMPLE", secret: str | None = None, session_token: str | None = None) -> tuple[str, str, str | None]:
        """An AWS access key the STS double accepts signatures of (also the role's
        credentials at the instance metadata service)."""
        secret = secret or secrets.token_urlsafe(30)
        self.aws_keys[access_key_id] = secret
        if session_token:
            self.aws_session_tokens[access_key_id] = session_token
        return access_key_id, secret, session_token

    def issue_workforce_refresh_token(self, client_id: str) -> str:
        token = "wf-rt-" + secrets.token_urlsafe(16)
        self.workforce_refresh[token] = client_id
        return token

    def approve(self, user_code: str) -> None:
        for device in self.devices.values():
            if device.user_code == user_code:
                device.status = "approved"

    def deny(self, user_code: str) -> None:
        for device in self.devices.values():
            if device.user_code == user_code:
                device.status = "denied"


def keyless_state(server: Any) -> KeylessState:
    """The keyless plugin's state on ``server`` (created on first use and after ``reset()``)."""
    state = server.state.get("keyless")
    if state is None:
        state = server.state.setdefault("keyless", KeylessState())
    return state  # type: ignore[no-any-return]


def oidc_issuer(server: Any) -> str:
    """The issuer of the subject tokens :func:`subject_token` makes."""
    return str(server.url) + "oidc"


def subject_token(server: Any, audience: str, *, expires_in: int = 600, sub: str = "repo:example/app:ref:refs/heads/main", aud: str | None = None) -> str:
    """An OIDC token of this server's issuer for the pool ``audience`` (what a CI system
    such as GitHub Actions hands a job); ``aud`` overrides the audience claim (attacks).
    It is also what ``/keyless/subject-token`` serves from now on."""
    import jwt

    state = keyless_state(server)
    now = int(time.time())
    claims = {"iss": oidc_issuer(server), "sub": sub, "aud": aud or state.pools.get(audience) or "https:" + audience, "iat": now, "exp": now + expires_in}
    token = jwt.encode(claims, _rsa_key("keyless-oidc"), algorithm="RS256", headers={"kid": "keyless-oidc-1"})
    state.url_token = token
    return token


def run_audience(server: Any) -> str:
    """The audience the ``/run/`` service (a private Cloud Run service) accepts."""
    return str(server.url) + "run"


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _basic(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        raw = base64.b64decode(header[6:], validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return ("", "")
    cid, _, secret = raw.partition(":")
    return unquote(cid), unquote(secret)


# ---------------------------------------------------------------------------- SigV4 check


def _aws_canonical_query(query: str) -> str:
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{k}={v}" for k, v in pairs)


def _aws_problem(state: KeylessState, token: str, audience: str) -> str | None:
    """Why the serialized signed request is not a valid GetCallerIdentity for
    ``audience`` (``None``: it is)."""
    try:
        request = json.loads(unquote(token))
    except ValueError:
        return "the AWS subject token is not URL-encoded JSON"
    if not isinstance(request, dict) or request.get("method") != "POST" or not isinstance(request.get("url"), str):
        return "the AWS subject token is not a POST request"
    url = urlsplit(request["url"])
    host = url.hostname or ""
    query = dict(parse_qsl(url.query))
    if url.scheme != "https" or not (host.startswith("sts.") or host.startswith("sts-fips.")) or not host.endswith(".amazonaws.com"):
        return "the AWS request does not go to a regional AWS STS endpoint"
    if query.get("Action") != "GetCallerIdentity" or query.get("Version") != "2011-06-15":
        return "the AWS request is not GetCallerIdentity (Version 2011-06-15)"
    headers_list = request.get("headers")
    if not isinstance(headers_list, list):
        return "the AWS request has no headers"
    headers = {}
    for item in headers_list:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("value"), str):
            return "an AWS request header is not {key, value}"
        headers[item["key"].lower()] = item["value"]
    if headers.get("x-goog-cloud-target-resource") != audience:
        return "x-goog-cloud-target-resource is not the audience"
    if headers.get("host") != url.netloc:
        return "the host header does not match the URL"
    auth = headers.pop("authorization", "")
    prefix = "AWS4-HMAC-SHA256 "
    if not auth.startswith(prefix):
        return "the AWS request is not signed with AWS4-HMAC-SHA256"
    parts = dict(p.strip().split("=", 1) for p in auth[len(prefix):].split(",") if "=" in p)
    try:
        key_id, date, region, service, terminal = parts["Credential"].split("/")
        signed_names = parts["SignedHeaders"].split(";")
        signature = parts["Signature"]
    except (KeyError, ValueError):
        return "the Authorization header is malformed"
    secret = state.aws_keys.get(key_id)
    if secret is None:
        return "the AWS access key is unknown"
    if service != "sts" or terminal != "aws4_request" or (not host.startswith(f"sts.{region}.") and not host.startswith(f"sts-fips.{region}.")):
        return "the credential scope does not match the endpoint"
    if "x-goog-cloud-target-resource" not in signed_names or "host" not in signed_names or "x-amz-date" not in signed_names:
        return "host, x-amz-date and x-goog-cloud-target-resource must be signed"
    if sorted(signed_names) != signed_names or set(signed_names) != set(headers):
        return "SignedHeaders does not list exactly the headers sent"
    expected_session = state.aws_session_tokens.get(key_id)
    if expected_session is not None and headers.get("x-amz-security-token") != expected_session:
        return "the session token does not belong to the access key"
    amz = headers.get("x-amz-date", "")
    try:
        when = time.mktime(time.strptime(amz, "%Y%m%dT%H%M%SZ")) - time.timezone
    except ValueError:
        return "x-amz-date is not YYYYMMDDTHHMMSSZ"
    if amz[:8] != date or abs(when - time.time()) > AWS_SKEW:
        return "the signature is expired or not yet valid (x-amz-date more than 15 minutes away)"
    canonical = "\n".join(
        [
            "POST",
            quote(url.path or "/", safe="/-_.~"),
            _aws_canonical_query(url.query),
            "".join(f"{n}:{' '.join(headers[n].split())}\n" for n in signed_names),
            ";".join(signed_names),
            hashlib.sha256(str(request.get("body") or "").encode()).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
        return "the AWS signature does not match"
    return None


# ---------------------------------------------------------------------------- routes


def install(server: Any, app: web.Application) -> None:
    """Add the keyless routes to ``app`` (called by LocalGoogleServer)."""
    import jwt

    provider = _rsa_key("provider")
    oidc_public = _rsa_key("keyless-oidc").public_key()

    def issuer() -> str:
        return str(server.url).rstrip("/")

    def id_token(audience: str, email: str) -> str:
        now = int(time.time())
        claims = {"iss": issuer(), "aud": audience, "azp": email, "sub": email, "email": email, "email_verified": True, "iat": now, "exp": now + 3600}
        keyless_state(server).id_tokens.append(audience)
        return jwt.encode(claims, provider, algorithm="RS256", headers={"kid": KEY_ID})

    def new_access(scopes: list[str], subject: str) -> tuple[str, int]:
        auth = auth_state(server)
        token = "ya29.sts-" + secrets.token_urlsafe(24)
        auth.access_tokens[token] = (_Grant("sts", scopes, subject), time.time() + auth.expires_in)
        return token, auth.expires_in

    def oidc_problem(token: str, allowed: str) -> str | None:
        try:
            jwt.decode(token, oidc_public, algorithms=["RS256"], audience=allowed, issuer=oidc_issuer(server), options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            return "the subject token has expired"
        except jwt.InvalidAudienceError:
            return "the subject token's audience is not allowed by the provider"
        except jwt.PyJWTError as exc:
            return f"the subject token is not valid ({type(exc).__name__})"
        return None

    async def outside_oidc_problem(token: str, allowed: str, issuer: str) -> str | None:
        # The provider's OpenID configuration names its JWKS (OpenID Connect Discovery 1.0
        # §3); the token must verify with one of those keys and name that issuer.
        import aiohttp

        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(issuer + "/.well-known/openid-configuration") as reply:
                    config = await reply.json(content_type=None)
                async with http.get(str(config["jwks_uri"])) as reply:
                    keys = jwt.PyJWKSet.from_dict(await reply.json(content_type=None))
            kid = jwt.get_unverified_header(token).get("kid")
            key = next(k for k in keys.keys if k.key_id == kid)
        except (aiohttp.ClientError, ValueError, KeyError, TypeError, StopIteration, jwt.PyJWTError):
            return "the subject token's issuer keys could not be found"
        try:
            jwt.decode(token, key.key, algorithms=["RS256", "ES256"], audience=allowed, issuer=issuer,
                       options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            return "the subject token has expired"
        except jwt.InvalidAudienceError:
            return "the subject token's audience is not allowed by the provider"
        except jwt.PyJWTError as exc:
            return f"the subject token is not valid ({type(exc).__name__})"
        return None

    async def sts_token(request: web.Request) -> web.StreamResponse:
        state = keyless_state(server)
        form = await request.post()
        if form.get("grant_type") != TOKEN_EXCHANGE:
            return _oauth_error(400, "unsupported_grant_type", "grant_type must be token-exchange")
        if form.get("requested_token_type") != ACCESS_TOKEN_TYPE:
            return _oauth_error(400, "invalid_request", "requested_token_type must be access_token")
        audience = str(form.get("audience", ""))
        if audience not in state.pools:
            return _oauth_error(400, "invalid_target", "The target service indicated by the audience parameter is invalid.")
        scopes = str(form.get("scope", "")).split()
        if not scopes:
            return _oauth_error(400, "invalid_scope", "scope is required")
        client = _basic(request)
        if client is not None and state.sts_clients.get(client[0]) != client[1]:
            return _oauth_error(401, "invalid_client", "The client is not authorized.")
        options: dict[str, Any] = {}
        if form.get("options"):
            try:
                parsed: Any = json.loads(str(form["options"]))
            except ValueError:
                return _oauth_error(400, "invalid_request", "options must be a JSON object")
            if not isinstance(parsed, dict):
                return _oauth_error(400, "invalid_request", "options must be a JSON object")
            options = parsed
        if "/workforcePools/" in audience and client is None and not options.get("userProject"):
            return _oauth_error(400, "invalid_request", "workforce pools need options.userProject or client authentication")
        kind = str(form.get("subject_token_type", ""))
        token = str(form.get("subject_token", ""))
        if kind in JWT_TYPES and audience in state.pool_issuers:
            problem = await outside_oidc_problem(token, state.pools[audience], state.pool_issuers[audience])
        elif kind in JWT_TYPES:
            problem = oidc_problem(token, state.pools[audience])
        elif kind == AWS_TYPE:
            problem = _aws_problem(state, token, audience)
        else:
            problem = f"subject_token_type {kind!r} is not supported"
        if problem is not None:
            return _oauth_error(400, "invalid_grant", problem)
        state.exchanges.append(kind)
        state.user_projects.append(options.get("userProject"))
        access, expires_in = new_access(scopes, "federated:" + audience)
        return web.json_response({"access_token": access, "issued_token_type": ACCESS_TOKEN_TYPE, "token_type": "Bearer", "expires_in": expires_in})

    async def sts_oauthtoken(request: web.Request) -> web.StreamResponse:
        state = keyless_state(server)
        form = await request.post()
        client = _basic(request)
        if client is None or state.sts_clients.get(client[0]) != client[1]:
            return _oauth_error(401, "invalid_client", "HTTP Basic client authentication is required.")
        if form.get("grant_type") != "refresh_token":
            return _oauth_error(400, "unsupported_grant_type", "only refresh_token")
        refresh = str(form.get("refresh_token", ""))
        if state.workforce_refresh.get(refresh) != client[0]:
            return _oauth_error(400, "invalid_grant", "The refresh token is not valid.")
        access, expires_in = new_access([CLOUD_PLATFORM], "workforce-user")
        return web.json_response({"access_token": access, "token_type": "Bearer", "expires_in": expires_in})

    # -- AWS instance metadata

    def imds_guard(request: web.Request) -> web.Response | None:
        state = keyless_state(server)
        if state.imdsv2_required and request.headers.get("X-aws-ec2-metadata-token") not in state.imdsv2_tokens:
            return web.Response(status=401, text="")
        return None

    async def imds_token(request: web.Request) -> web.StreamResponse:
        ttl = request.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return web.Response(status=400, text="")
        token = "imds-" + secrets.token_urlsafe(16)
        keyless_state(server).imdsv2_tokens.add(token)
        return web.Response(text=token)

    async def imds_zone(request: web.Request) -> web.StreamResponse:
        return imds_guard(request) or web.Response(text=keyless_state(server).aws_zone)

    async def imds_role(request: web.Request) -> web.StreamResponse:
        return imds_guard(request) or web.Response(text=keyless_state(server).aws_role)

    async def imds_credentials(request: web.Request) -> web.StreamResponse:
        refused = imds_guard(request)
        if refused is not None:
            return refused
        state = keyless_state(server)
        if request.match_info["role"] != state.aws_role or not state.aws_keys:
            return web.Response(status=404, text="")
        key_id = next(iter(state.aws_keys))
        return web.json_response(
            {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key_id, "SecretAccessKey": state.aws_keys[key_id], "Token": state.aws_session_tokens.get(key_id)}
        )

    async def url_subject_token(request: web.Request) -> web.StreamResponse:
        state = keyless_state(server)
        if request.headers.get("Metadata") != "True":
            return web.json_response({"error": "bad_request", "error_description": "Required metadata header not specified"}, status=400)
        if state.url_token is None:
            subject_token(server, DEMO_POOL)
        assert state.url_token is not None
        if request.query.get("format") == "text":
            return web.Response(text=state.url_token)
        return web.json_response({"access_token": state.url_token, "token_type": "Bearer"})

    # -- ID tokens

    async def generate_id_token(request: web.Request) -> web.StreamResponse:
        auth = auth_state(server)
        target = request.match_info["sa"]
        header = request.headers.get("Authorization", "")
        grant = auth.live(header[7:]) if header.startswith("Bearer ") else None
        if grant is None:
            return _rpc_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if CLOUD_PLATFORM not in grant.scopes:
            return _rpc_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        try:
            payload = await request.json()
        except ValueError:
            return _rpc_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        audience = payload.get("audience") if isinstance(payload, dict) else None
        if not isinstance(audience, str) or not audience:
            return _rpc_error(400, "INVALID_ARGUMENT", "audience is required.")
        delegates = payload.get("delegates") or []
        if not isinstance(delegates, list) or not all(isinstance(d, str) and d.startswith("projects/-/serviceAccounts/") for d in delegates):
            return _rpc_error(400, "INVALID_ARGUMENT", "Invalid form of delegates: expected projects/-/serviceAccounts/{ACCOUNT}.")
        for account in [d.rsplit("/", 1)[1] for d in delegates] + [target]:
            if account not in auth.impersonable:
                return _rpc_error(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).",
                                  "IAM_PERMISSION_DENIED")
        return web.json_response({"token": id_token(audience, target)})

    async def metadata_identity(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Metadata-Flavor") != "Google" or "X-Forwarded-For" in request.headers:
            return web.Response(status=403, text="Missing required header: Metadata-Flavor", headers={"Metadata-Flavor": "Google"})
        audience = request.query.get("audience")
        if not audience:
            return web.Response(status=400, text="non-empty audience parameter required", headers={"Metadata-Flavor": "Google"})
        token = id_token(audience, "default-sa@test-project.iam.gserviceaccount.com")
        return web.Response(text=token, headers={"Metadata-Flavor": "Google"})

    async def cloud_run(request: web.Request) -> web.StreamResponse:
        state = keyless_state(server)
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        try:
            claims = jwt.decode(token, provider.public_key(), algorithms=["RS256"], audience=run_audience(server), issuer=issuer(),
                                options={"require": ["exp", "iat", "aud", "iss"]})
        except jwt.PyJWTError as exc:
            return web.Response(status=401, text=f"Unauthorized ({type(exc).__name__})", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        state.run_calls += 1
        await request.read()
        return web.json_response({"ok": True, "path": request.path, "caller": claims.get("email")})

    # -- device flow (RFC 8628)

    async def device_code(request: web.Request) -> web.StreamResponse:
        state = keyless_state(server)
        form = await request.post()
        client_id = str(form.get("client_id", ""))
        if client_id not in auth_state(server).clients:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        code = "dc-" + secrets.token_urlsafe(24)
        user_code = "-".join(secrets.token_hex(2).upper() for _ in range(2))
        state.devices[code] = _Device(client_id, str(form.get("scope", "")).split(), user_code, time.time() + 1800, state.device_interval)
        return web.json_response(
            {"device_code": code, "user_code": user_code, "verification_url": str(server.url) + "device", "expires_in": 1800,
             "interval": state.device_interval}
        )

    async def device_page(request: web.Request) -> web.StreamResponse:
        user_code = request.query.get("user_code", "")
        state = keyless_state(server)
        if not any(d.user_code == user_code for d in state.devices.values()):
            return web.Response(status=404, text="unknown code")
        state.approve(user_code)
        return web.Response(text="Approved: return to your device.")

    async def device_token(form: Any) -> web.StreamResponse:
        state = keyless_state(server)
        auth = auth_state(server)
        client_id = str(form.get("client_id", ""))
        if client_id not in auth.clients or (auth.clients[client_id] is not None and form.get("client_secret") != auth.clients[client_id]):
            return _oauth_error(401, "invalid_client", "Unauthorized")
        device = state.devices.get(str(form.get("device_code", "")))
        if device is None or device.client_id != client_id:
            return _oauth_error(400, "invalid_grant", "Malformed device code.")
        now = time.time()
        if now > device.expires:
            return _oauth_error(400, "expired_token", "The device code has expired.")
        too_soon = device.last_poll and now - device.last_poll < device.interval
        device.last_poll = now
        if too_soon:
            device.interval += 5
            return _oauth_error(400, "slow_down", "Polling too frequently.")
        if device.status == "denied":
            return _oauth_error(403, "access_denied", "The user denied the request.")
        if device.status != "approved":
            return _oauth_error(428, "authorization_pending", "Precondition Required")
        del state.devices[str(form.get("device_code"))]
        grant = _Grant(client_id, device.scopes, "johndoe")
        refresh = auth.issue_refresh_token(client_id, device.scopes)
        access = "ya29.dev-" + secrets.token_urlsafe(24)
        auth.access_tokens[access] = (grant, now + auth.expires_in)
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": auth.expires_in, "token_type": "Bearer",
                                  "scope": " ".join(device.scopes)})

    async def sa_id_token(form: Any) -> web.StreamResponse | None:
        assertion = str(form.get("assertion", ""))
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        if "target_audience" not in unverified:
            return None  # an access-token assertion: the built-in route answers
        auth = auth_state(server)
        public = auth.service_accounts.get(str(unverified.get("iss")))
        if public is None:
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        try:
            claims = jwt.decode(assertion, public, algorithms=["RS256"], audience=str(server.url) + "token", options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            return _oauth_error(400, "invalid_grant", f"Invalid JWT: {type(exc).__name__}")
        if claims["exp"] - claims["iat"] > 3600 or "scope" in claims:
            return _oauth_error(400, "invalid_grant", "Invalid JWT: an ID token assertion is short-lived and has no scope")
        audience = claims["target_audience"]
        if not isinstance(audience, str) or not audience:
            return _oauth_error(400, "invalid_grant", "target_audience must be a non-empty string")
        auth.token_requests.append("id_token")
        return web.json_response({"id_token": id_token(audience, str(claims["iss"]))})

    async def token_router(request: web.Request) -> web.StreamResponse | None:
        # Answers the grants the built-in /token does not know, before it.
        if request.method != "POST" or request.path != "/token":
            return None
        form = await request.post()
        grant_type = form.get("grant_type")
        if grant_type == DEVICE_GRANT:
            auth_state(server).token_requests.append(DEVICE_GRANT)
            return await device_token(form)
        if grant_type == JWT_BEARER:
            return await sa_id_token(form)
        return None

    server.add_router(token_router, key=__name__)
    r = app.router
    r.add_post("/v1/token", sts_token)
    r.add_post("/v1/oauthtoken", sts_oauthtoken)
    r.add_put("/latest/api/token", imds_token)
    r.add_get("/latest/meta-data/placement/availability-zone", imds_zone)
    r.add_get("/latest/meta-data/iam/security-credentials", imds_role)
    r.add_get("/latest/meta-data/iam/security-credentials/{role}", imds_credentials)
    r.add_get("/keyless/subject-token", url_subject_token)
    r.add_post("/v1/projects/{project}/serviceAccounts/{sa}:generateIdToken", generate_id_token)
    r.add_get("/computeMetadata/v1/instance/service-accounts/default/identity", metadata_identity)
    r.add_route("*", "/run/{tail:.*}", cloud_run)
    r.add_post("/device/code", device_code)
    r.add_get("/device", device_page)
