"""Auth routes of :class:`~aiogoogle.testing.LocalGoogleServer`: a Google-like OAuth2 /
OpenID Connect provider (https://developers.google.com/identity/protocols/oauth2/web-server,
https://developers.google.com/identity/openid-connect/openid-connect) and a GCE metadata
server (https://cloud.google.com/compute/docs/metadata/overview), for tests.

Routes (paths mirror Google's, so ``Endpoints.at(server.url)`` points a client here):

* ``GET /o/oauth2/v2/auth``: consents at once and redirects to ``redirect_uri`` with
  ``code`` and ``state`` (``error=...`` for an unknown client or a redirect URI it did not
  register); remembers ``code_challenge``, ``nonce`` and the scopes;
* ``POST /token``: grants ``authorization_code`` (PKCE ``S256``/``plain`` checked,
  single-use codes), ``refresh_token`` and ``urn:ietf:params:oauth:grant-type:jwt-bearer``
  (the assertion is verified with the registered service account's public key: RS256,
  ``aud`` = this token URL, at most 1 h, not expired); client secrets in the body or HTTP
  Basic; id_tokens (RS256, ``kid`` ``local-key-1``) when ``openid`` was granted;
* ``POST /revoke``, ``GET|POST /tokeninfo``, ``GET /v1/userinfo`` and
  ``GET /oauth2/v2/userinfo`` (bearer checked), ``GET /oauth2/v3/certs`` (JWKS, with
  ``Cache-Control: max-age``), ``GET /.well-known/openid-configuration``;
* ``/computeMetadata/v1/...``: ``instance/service-accounts/default/token``,
  ``project/project-id`` and the root (every request must carry
  ``Metadata-Flavor: Google``; replies carry it too);
* ``* /protected/...``: an API stand-in that answers 401 unless the bearer token is a live
  access token (or a self-signed JWT of a registered service account);
* ``POST /v1/projects/{project}/serviceAccounts/{sa}:generateAccessToken``: the IAM
  Credentials API (service account impersonation,
  https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken).
  The bearer token must
  be a live token of this server granted the cloud-platform scope (401
  ``UNAUTHENTICATED`` / 403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT`` otherwise); the JSON body
  needs ``scope`` (a non-empty list), and may carry ``delegates`` (a list of
  ``projects/-/serviceAccounts/<email>``) and ``lifetime`` (``"<n>s"``, at most 3600);
  the target and every delegate must have been allowed with
  :meth:`AuthState.allow_impersonation`, else 403 ``IAM_PERMISSION_DENIED`` in Google's
  error shape. Answers ``{"accessToken", "expireTime"}`` (RFC 3339, UTC).

Test controls live on :func:`auth_state` (``auth_state(server)``): register clients and
service accounts, issue refresh tokens, make the token endpoint fail with a 5xx ``N``
times, expire or revoke tokens, allow impersonation of service accounts, and count token
requests (``token_requests``; impersonations count as ``"generateAccessToken"``), and
issue API keys (:meth:`AuthState.issue_api_key`).

:func:`caller_problem` is how the fake APIs (``fake_apis=True``) check a request's
credentials: a live access token of this server, a self-signed JWT of a registered service
account, or an API key it issued. :func:`service_account_key` and :func:`user_credentials`
make credentials files the server accepts (``aiogoogle serve`` writes them).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

__all__ = ["AuthState", "auth_state", "caller_problem", "install", "service_account_key", "user_credentials"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
KEY_ID = "local-key-1"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
GENERATE_ACCESS_TOKEN = "generateAccessToken"
_LIFETIME = re.compile(r"^(\d+)(?:\.\d{1,9})?s$")


@functools.lru_cache(maxsize=4)
def _rsa_key(name: str) -> Any:
    """An RSA key generated once per process per name (2048 bits)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: Any) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization

    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def service_account_key(server: Any, email: str = "sa@test-project.iam.gserviceaccount.com", *, name: str = "sa",
                        private_key: str | None = None) -> dict[str, Any]:
    """A service account key file (as JSON) whose public key the server knows, with
    ``token_uri`` pointing at the server. ``private_key`` (PEM) reuses a key, e.g. from an
    earlier key file; otherwise one is generated per process and ``name``."""
    if private_key is not None:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        private, public = _pem(load_pem_private_key(private_key.encode(), password=None))
    else:
        private, public = _pem(_rsa_key(name))
    key_id = hashlib.sha256(public.encode()).hexdigest()[:16]
    auth_state(server).service_accounts[email] = public
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": key_id,
        "private_key": private,
        "client_email": email,
        "client_id": "1234567890",
        "auth_uri": server.url + "o/oauth2/v2/auth",
        "token_uri": server.url + "token",
    }


@dataclass
class _Grant:
    client_id: str
    scopes: list[str]
    sub: str
    nonce: str | None = None
    redirect_uri: str | None = None
    challenge: str | None = None
    method: str | None = None


@dataclass
class AuthState:
    """The provider's state and the test controls (see the module docstring)."""

    clients: dict[str, str | None] = field(default_factory=lambda: {"test-client": "test-secret", "installed-app": None})
    service_accounts: dict[str, str] = field(default_factory=dict)  # email -> public key PEM
    codes: dict[str, _Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, _Grant] = field(default_factory=dict)
    access_tokens: dict[str, tuple[_Grant, float]] = field(default_factory=dict)  # token -> (grant, expiry)
    revoked: set[str] = field(default_factory=set)
    #: Service accounts a live cloud-platform token may impersonate (or name as a delegate).
    impersonable: set[str] = field(default_factory=set)
    #: Seconds the IAM endpoint adds to its clock. Its ``expireTime`` is absolute, so a
    #: test that moves a client's clock forward moves this one too (tokens stay live).
    iam_clock_offset: float = 0.0
    #: API keys the fake APIs accept (:meth:`issue_api_key`).
    api_keys: set[str] = field(default_factory=set)
    #: Every token request's grant_type, in order.
    token_requests: list[str] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
    expires_in: int = 3599
    jwks_max_age: int = 300
    hd: str | None = "example.com"
    email: str = "johndoe@example.com"
    project_id: str = "test-project"
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail_token_requests(self, times: int, status: int = 503) -> None:
        """Make the next ``times`` token requests fail with ``status``."""
        self.fail_next, self.fail_status = times, status

    def allow_impersonation(self, *emails: str) -> None:
        """Let any live cloud-platform token impersonate these service accounts (and name
        them as delegates); others get 403 ``IAM_PERMISSION_DENIED``."""
        self.impersonable.update(emails)

    def issue_refresh_token(self, client_id: str = "test-client", scopes: list[str] | None = None, sub: str = "johndoe",
                            *, token: str | None = None) -> str:
        """A valid refresh token for ``client_id`` (to build ``UserCreds`` in tests);
        ``token`` makes a given value valid (credentials kept from an earlier run)."""
        token = token or "1//rt-" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = _Grant(client_id, list(scopes or ["openid", "email"]), sub)
        return token

    def issue_access_token(self, client_id: str = "test-client", scopes: list[str] | None = None, expires_in: int | None = None,
                           *, token: str | None = None) -> str:
        """A live access token (e.g. to start from credentials that are not expired);
        ``token`` makes a given value live."""
        token = token or "ya29.at-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = (_Grant(client_id, list(scopes or []), "johndoe"), time.time() + (expires_in or self.expires_in))
        return token

    def issue_api_key(self, key: str | None = None) -> str:
        """A new API key, shaped like Google's (``AIza`` and 35 more characters), that the
        fake APIs accept (``key``: accept that one)."""
        key = key or "AIza" + secrets.token_urlsafe(27)[:35]
        self.api_keys.add(key)
        return key

    def expire_access_tokens(self) -> None:
        """Invalidate every access token issued so far (the next API call gets a 401)."""
        self.access_tokens.clear()

    def count(self, grant_type: str | None = None) -> int:
        """How many token requests were made (of ``grant_type``, if given)."""
        return sum(1 for g in self.token_requests if grant_type is None or g == grant_type)

    def live(self, token: str) -> _Grant | None:
        entry = self.access_tokens.get(token)
        if entry is None or token in self.revoked or entry[1] < time.time():
            return None
        return entry[0]


def auth_state(server: Any) -> AuthState:
    """The auth plugin's state on ``server`` (created on first use and after ``reset()``)."""
    state = server.state.get("auth")
    if state is None:
        state = server.state.setdefault("auth", AuthState())
    return state  # type: ignore[no-any-return]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwk(key: Any) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()

    def enc(n: int) -> str:
        return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID, "n": enc(numbers.n), "e": enc(numbers.e)}


def _error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _rpc_error(status: int, code: str, message: str, reason: str | None = None, **metadata: str) -> web.Response:
    """Google's error shape for the newer (google.rpc) APIs such as IAM Credentials:
    ``{"error": {"code", "message", "status", "details": [ErrorInfo]}}``."""
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "iam.googleapis.com", "metadata": metadata}]
    return web.json_response({"error": error}, status=status)


def _self_signed_ok(state: AuthState, value: str) -> bool:
    """Whether ``value`` is a self-signed JWT of a registered service account
    (https://google.aip.dev/auth/4111): ``iss`` = ``sub`` = its email, RS256 with its key."""
    import jwt

    try:
        claims = jwt.decode(value, options={"verify_signature": False})
        public = state.service_accounts.get(str(claims.get("iss")))
        if public is None or claims.get("sub") != claims.get("iss"):
            return False
        jwt.decode(value, public, algorithms=["RS256"], options={"verify_aud": False, "require": ["exp", "iat"]})
    except jwt.PyJWTError:
        return False
    return True


def _api_error(status: int, message: str, reason: str, google_status: str, **extra: str) -> web.Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": google_status,
                             "errors": [{"message": message, "domain": "global", "reason": reason, **extra}]}
    return web.json_response({"error": error}, status=status)


def caller_problem(server: Any, request: web.Request) -> web.Response | None:
    """None when ``request`` carries credentials the server accepts (a live access token, a
    registered service account's self-signed JWT, or an API key it issued, as ``key=`` or
    ``X-Goog-Api-Key``); otherwise the error Google answers: 401 for a missing or invalid
    token, 400 for an unknown API key
    (https://cloud.google.com/docs/authentication/api-keys-use#using-with-rest)."""
    state = auth_state(server)
    header = request.headers.get("Authorization", "")
    key = request.query.get("key") or request.headers.get("X-Goog-Api-Key")
    if header:
        token = header[7:] if header[:7].lower() == "bearer " else ""
        if token and (state.live(token) is not None or (token.count(".") == 2 and _self_signed_ok(state, token))):
            return None
        return _api_error(401, "Invalid Credentials", "authError", "UNAUTHENTICATED", location="Authorization", locationType="header")
    if key:
        if key in state.api_keys:
            return None
        return _api_error(400, "API key not valid. Please pass a valid API key.", "keyInvalid", "INVALID_ARGUMENT")
    return _api_error(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
        "or other valid authentication credential.",
        "required",
        "UNAUTHENTICATED",
        location="Authorization",
        locationType="header",
    )


def user_credentials(server: Any, scopes: list[str] | None = None, *, expires_in: int | None = None,
                     reuse: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """User credentials the server accepts, as ``aiogoogle auth login`` saves them: a live
    access token (``expires_in`` seconds, default the server's), a refresh token of the
    ``test-client`` OAuth client with its id and secret (so the token can be refreshed) and
    the server's token URL. ``scopes`` default to every scope a user would grant. ``reuse``
    (earlier credentials) makes their tokens valid again instead of issuing new ones."""
    state = auth_state(server)
    granted = list(scopes) if scopes else ["openid", "email", "profile", CLOUD_PLATFORM]
    old = reuse or {}
    access, refresh = old.get("access_token"), old.get("refresh_token")
    return {
        "type": "authorized_user",
        "access_token": state.issue_access_token(scopes=granted, expires_in=expires_in,
                                                 token=access if isinstance(access, str) and access else None),
        "refresh_token": state.issue_refresh_token(scopes=granted, token=refresh if isinstance(refresh, str) and refresh else None),
        "token_type": "Bearer",
        "scopes": granted,
        "client_id": "test-client",
        "client_secret": state.clients["test-client"],
        "token_uri": server.url + "token",
    }


def install(server: Any, app: web.Application) -> None:
    """Add the auth routes to ``app`` (called by LocalGoogleServer)."""
    import jwt

    signing_key = _rsa_key("provider")

    def issuer() -> str:
        return str(server.url).rstrip("/")

    def new_access(state: AuthState, grant: _Grant) -> str:
        token = "ya29.at-" + secrets.token_urlsafe(24)
        state.access_tokens[token] = (grant, time.time() + state.expires_in)
        return token

    def id_token(state: AuthState, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer(),
            "aud": grant.client_id,
            "azp": grant.client_id,
            "sub": grant.sub,
            "email": state.email,
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        }
        if state.hd:
            claims["hd"] = state.hd
        if grant.nonce:
            claims["nonce"] = grant.nonce
        return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": KEY_ID})

    def token_reply(state: AuthState, grant: _Grant, refresh: str | None) -> web.Response:
        body: dict[str, Any] = {
            "access_token": new_access(state, grant),
            "expires_in": state.expires_in,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if refresh:
            body["refresh_token"] = refresh
        if "openid" in grant.scopes:
            body["id_token"] = id_token(state, grant)
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    def client_auth(state: AuthState, request: web.Request, form: Any) -> tuple[str | None, str | None]:
        """The authenticated client id, or (None, error description)."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            from urllib.parse import unquote

            raw = base64.b64decode(header[6:]).decode()
            cid, _, sec = raw.partition(":")
            client_id, secret = unquote(cid), unquote(sec)
        if client_id not in state.clients:
            return None, "The OAuth client was not found."
        expected = state.clients[client_id]
        if expected is not None and secret != expected:
            return None, "Unauthorized"
        return client_id, None

    async def authorize(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        q = request.query
        redirect = q.get("redirect_uri")
        if not redirect:
            return _error(400, "invalid_request", "Missing required parameter: redirect_uri")
        if q.get("client_id") not in state.clients:
            return _error(401, "invalid_client", "The OAuth client was not found.")
        if q.get("response_type") != "code":
            return _error(400, "unsupported_response_type", "only code")
        code = "4/code-" + secrets.token_urlsafe(16)
        state.codes[code] = _Grant(
            str(q["client_id"]),
            q.get("scope", "").split(),
            "johndoe",
            nonce=q.get("nonce"),
            redirect_uri=redirect,
            challenge=q.get("code_challenge"),
            method=q.get("code_challenge_method") or ("plain" if q.get("code_challenge") else None),
        )
        params = {"code": code, "scope": q.get("scope", ""), "iss": issuer()}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect else "?"
        raise web.HTTPFound(redirect + sep + urlencode(params))

    async def token(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        form = await request.post()
        grant_type = str(form.get("grant_type", ""))
        with state.lock:
            state.token_requests.append(grant_type)
            if state.fail_next > 0:
                state.fail_next -= 1
                return web.json_response({"error": "internal_failure", "error_description": "Backend Error"}, status=state.fail_status)
        if grant_type == "authorization_code":
            client_id, problem = client_auth(state, request, form)
            if client_id is None:
                return _error(401, "invalid_client", str(problem))
            grant = state.codes.pop(str(form.get("code", "")), None)
            if grant is None or grant.client_id != client_id:
                return _error(400, "invalid_grant", "Malformed auth code.")
            if grant.redirect_uri != form.get("redirect_uri"):
                return _error(400, "redirect_uri_mismatch", "Bad Request")
            if grant.challenge is not None:
                verifier = str(form.get("code_verifier", ""))
                if not verifier:
                    return _error(400, "invalid_grant", "Missing code verifier.")
                expected = _b64(hashlib.sha256(verifier.encode()).digest()) if grant.method == "S256" else verifier
                if expected != grant.challenge:
                    return _error(400, "invalid_grant", "Invalid code verifier.")
            refresh = "1//rt-" + secrets.token_urlsafe(24)
            state.refresh_tokens[refresh] = grant
            return token_reply(state, grant, refresh)
        if grant_type == "refresh_token":
            client_id, problem = client_auth(state, request, form)
            if client_id is None:
                return _error(401, "invalid_client", str(problem))
            refresh_token = str(form.get("refresh_token", ""))
            grant = state.refresh_tokens.get(refresh_token)
            if grant is None or refresh_token in state.revoked or grant.client_id != client_id:
                return _error(400, "invalid_grant", "Token has been expired or revoked.")
            return token_reply(state, _Grant(grant.client_id, grant.scopes, grant.sub), None)
        if grant_type == JWT_BEARER:
            assertion = str(form.get("assertion", ""))
            try:
                claims = jwt.decode(assertion, options={"verify_signature": False})
                public = state.service_accounts.get(str(claims.get("iss")))
                if public is None:
                    return _error(400, "invalid_grant", "Invalid JWT Signature.")
                claims = jwt.decode(
                    assertion, public, algorithms=["RS256"], audience=server.url + "token", options={"require": ["exp", "iat", "iss", "aud"]}
                )
            except jwt.InvalidSignatureError:
                return _error(400, "invalid_grant", "Invalid JWT Signature.")
            except jwt.PyJWTError as exc:
                return _error(400, "invalid_grant", f"Invalid JWT: {type(exc).__name__}")
            if claims["exp"] - claims["iat"] > 3600:
                return _error(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes)")
            grant = _Grant(str(claims["iss"]), str(claims.get("scope", "")).split(), str(claims.get("sub") or claims["iss"]))
            return web.json_response({"access_token": new_access(state, grant), "expires_in": state.expires_in, "token_type": "Bearer"})
        return _error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    async def revoke(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        form = await request.post()
        value = str(form.get("token", ""))
        if value in state.refresh_tokens:
            state.revoked.add(value)
            # Revoking a refresh token also ends its access tokens (RFC 7009 §2.1).
            grant = state.refresh_tokens[value]
            for tok, (g, _exp) in list(state.access_tokens.items()):
                if g is grant or (g.client_id == grant.client_id and g.sub == grant.sub):
                    state.revoked.add(tok)
            return web.json_response({})
        if value in state.access_tokens:
            state.revoked.add(value)
            return web.json_response({})
        return _error(400, "invalid_token", "Token is not valid.")

    def bearer(request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else ""

    async def userinfo(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        grant = state.live(bearer(request))
        if grant is None:
            return web.json_response({"error": "invalid_request", "error_description": "Invalid Credentials"}, status=401)
        info = {"sub": grant.sub, "email": state.email, "email_verified": True, "name": "John Doe"}
        if state.hd:
            info["hd"] = state.hd
        return web.json_response(info)

    async def tokeninfo(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        params: Any = await request.post() if request.method == "POST" else request.query
        if params.get("access_token"):
            token_value = str(params["access_token"])
            grant = state.live(token_value)
            if grant is None:
                return _error(400, "invalid_token", "Invalid Value")
            expiry = state.access_tokens[token_value][1]
            return web.json_response(
                {"azp": grant.client_id, "aud": grant.client_id, "sub": grant.sub, "scope": " ".join(grant.scopes), "expires_in": int(expiry - time.time()), "email": state.email}
            )
        if params.get("id_token"):
            try:
                claims = jwt.decode(str(params["id_token"]), signing_key.public_key(), algorithms=["RS256"], options={"verify_aud": False})
            except jwt.PyJWTError:
                return _error(400, "invalid_token", "Invalid Value")
            return web.json_response({k: str(v) for k, v in claims.items()})
        return _error(400, "invalid_request", "access_token or id_token required")

    async def certs(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        return web.json_response({"keys": [_jwk(signing_key)]}, headers={"Cache-Control": f"public, max-age={state.jwks_max_age}"})

    async def openid_configuration(request: web.Request) -> web.StreamResponse:
        base = server.url
        return web.json_response(
            {
                "issuer": issuer(),
                "authorization_endpoint": base + "o/oauth2/v2/auth",
                "token_endpoint": base + "token",
                "revocation_endpoint": base + "revoke",
                "userinfo_endpoint": base + "v1/userinfo",
                "jwks_uri": base + "oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["plain", "S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "grant_types_supported": ["authorization_code", "refresh_token", JWT_BEARER],
            }
        )

    def metadata_guard(request: web.Request) -> web.Response | None:
        if request.headers.get("Metadata-Flavor") != "Google" or "X-Forwarded-For" in request.headers:
            return web.Response(status=403, text="Missing required header: Metadata-Flavor", headers={"Metadata-Flavor": "Google"})
        return None

    async def metadata_root(request: web.Request) -> web.StreamResponse:
        refused = metadata_guard(request)
        return refused or web.Response(text="instance/\nproject/\n", headers={"Metadata-Flavor": "Google"})

    async def metadata_token(request: web.Request) -> web.StreamResponse:
        refused = metadata_guard(request)
        if refused is not None:
            return refused
        state = auth_state(server)
        with state.lock:
            state.token_requests.append("metadata")
            if state.fail_next > 0:
                state.fail_next -= 1
                return web.Response(status=state.fail_status, headers={"Metadata-Flavor": "Google"})
        scopes = request.query.get("scopes", "").split(",") if request.query.get("scopes") else ["https://www.googleapis.com/auth/cloud-platform"]
        grant = _Grant("default", scopes, "default-sa@test-project.iam.gserviceaccount.com")
        return web.json_response({"access_token": new_access(state, grant), "expires_in": state.expires_in, "token_type": "Bearer"}, headers={"Metadata-Flavor": "Google"})

    async def metadata_project(request: web.Request) -> web.StreamResponse:
        refused = metadata_guard(request)
        return refused or web.Response(text=auth_state(server).project_id, headers={"Metadata-Flavor": "Google"})

    async def protected(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        value = bearer(request)
        ok = state.live(value) is not None
        if not ok and value.count(".") == 2:
            ok = _self_signed_ok(state, value)
        if not ok:
            return web.json_response(
                {"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}, status=401
            )
        await request.read()
        return web.json_response({"ok": True, "path": request.path, "user_project": request.headers.get("x-goog-user-project")})

    async def generate_access_token(request: web.Request) -> web.StreamResponse:
        state = auth_state(server)
        target = request.match_info["sa"]
        with state.lock:
            state.token_requests.append(GENERATE_ACCESS_TOKEN)
            if state.fail_next > 0:
                state.fail_next -= 1
                return _rpc_error(state.fail_status, "UNAVAILABLE", "The service is currently unavailable.")
        source = state.live(bearer(request))
        if source is None:
            return _rpc_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
            )
        if CLOUD_PLATFORM not in source.scopes:
            return _rpc_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        try:
            payload = await request.json()
        except ValueError:
            return _rpc_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if not isinstance(payload, dict):
            return _rpc_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
        scopes = payload.get("scope")
        if not isinstance(scopes, list) or not scopes or not all(isinstance(x, str) and x for x in scopes):
            return _rpc_error(400, "INVALID_ARGUMENT", "Scope required.")
        delegates = payload.get("delegates")
        if delegates is None:
            delegates = []
        if not isinstance(delegates, list) or not all(isinstance(d, str) and d.startswith("projects/-/serviceAccounts/") for d in delegates):
            return _rpc_error(400, "INVALID_ARGUMENT", "Invalid form of delegates: expected projects/-/serviceAccounts/{ACCOUNT}.")
        lifetime = payload.get("lifetime", "3600s")
        match = _LIFETIME.match(lifetime) if isinstance(lifetime, str) else None
        if match is None or not 0 < int(match.group(1)) <= 3600:
            return _rpc_error(400, "INVALID_ARGUMENT", "The lifetime must be between 1s and 3600s.")
        for account in [d.rsplit("/", 1)[1] for d in delegates] + [target]:
            if account not in state.impersonable:
                return _rpc_error(
                    403,
                    "PERMISSION_DENIED",
                    "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
                    "IAM_PERMISSION_DENIED",
                    permission="iam.serviceAccounts.getAccessToken",
                )
        expiry = int(time.time() + state.iam_clock_offset) + int(match.group(1))
        token = "ya29.imp-" + secrets.token_urlsafe(24)
        state.access_tokens[token] = (_Grant(target, list(scopes), target), float(expiry) - state.iam_clock_offset)
        expire_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))
        return web.json_response({"accessToken": token, "expireTime": expire_time})

    r = app.router
    r.add_get("/o/oauth2/v2/auth", authorize)
    r.add_post("/token", token)
    r.add_post("/revoke", revoke)
    r.add_get("/v1/userinfo", userinfo)
    r.add_get("/oauth2/v2/userinfo", userinfo)
    r.add_route("*", "/tokeninfo", tokeninfo)
    r.add_get("/oauth2/v3/certs", certs)
    r.add_get("/.well-known/openid-configuration", openid_configuration)
    r.add_get("/computeMetadata/v1/", metadata_root)
    r.add_get("/computeMetadata/v1/instance/service-accounts/default/token", metadata_token)
    r.add_get("/computeMetadata/v1/project/project-id", metadata_project)
    r.add_route("*", "/protected/{tail:.*}", protected)
    r.add_post("/v1/projects/{project}/serviceAccounts/{sa}:generateAccessToken", generate_access_token)

