"""The auth protocols as pure flows (PROTOCOL.md §6): build each request, parse each reply.

Every function here is synchronous and does no I/O: the flows yield effects
(:mod:`aiogoogle._effects`) and the driver performs them. The clock comes in through
``Now``, local files through ``FileOp("read")`` and the environment as a plain mapping the
caller obtained outside the core (see :func:`default_creds_flow`). Every exchange goes
through :func:`aiogoogle._call.send_flow` with ``authorize=False`` (token endpoints take
no bearer token), so retries and redirects behave as for API calls.

Errors are :class:`~aiogoogle.excs.AuthError` with the endpoint's RFC 6749 §5.2 error code
and description; tokens, secrets and assertions never appear in them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from .._call import API_CLIENT, USER_AGENT, CallOptions, send_flow
from .._effects import FileOp, Flow, Now
from .._http import Headers, HttpRequest, HttpResponse, Timeout
from .._parse import ascii_int, json_count, loads
from ..excs import AuthError, RedirectError, TransportError, google_error_info
from ..models import Response, decode_body
from ..retry import RetryPolicy
from ._jwt import UnknownKeyError, jwks_keys, sign_rs256, validate_id_token
from .creds import ServiceAccountCreds, UserCreds
from .endpoints import Endpoints

__all__ = [
    "DefaultCreds",
    "Impersonation",
    "authorization_url",
    "code_exchange_flow",
    "default_creds_flow",
    "expires_at_ts",
    "impersonated_token_flow",
    "is_expired",
    "jwt_bearer_assertion",
    "jwt_bearer_flow",
    "metadata_token_flow",
    "refresh_flow",
    "revoke_flow",
    "rfc3339_ts",
    "self_signed_jwt",
    "to_iso",
    "user_creds_from_reply",
]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Longest lifetime Google accepts for an assertion or self-signed JWT (PROTOCOL.md §6.5).
MAX_JWT_LIFETIME = 3600
#: Default seconds before expiry at which credentials count as expired (google-auth's
#: ``REFRESH_THRESHOLD``, 3 min 45 s; ANCHORS-google.md §1.7).
DEFAULT_REFRESH_MARGIN = 225.0
#: The longest token lifetime (``expires_in``) read from a reply: ten years. Google's tokens
#: live an hour; a larger value is a broken reply (and would overflow date arithmetic).
MAX_EXPIRES_IN = 10 * 366 * 24 * 3600


# ---------------------------------------------------------------------------- time


def to_iso(timestamp: float) -> str:
    """A UNIX timestamp as ISO 8601 UTC with a ``Z`` (how ``expires_at`` is stored)."""
    return datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expires_at_ts(creds: Mapping[str, Any]) -> float | None:
    """``creds['expires_at']`` as a UNIX timestamp (``None`` when absent or unreadable).

    Accepts ``...Z``, explicit offsets and naive values (aiogoogle 5 stored naive UTC)."""
    value = creds.get("expires_at")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def rfc3339_ts(value: Any) -> float | None:
    """An RFC 3339 time (``2026-11-29T09:04:18Z``, fractional seconds and offsets allowed;
    a value without an offset is read as UTC) as a UNIX timestamp, ``None`` if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def is_expired(creds: Mapping[str, Any], now: float, margin: float = 0.0) -> bool:
    """Whether ``creds`` must be refreshed before use: no access token, or ``expires_at``
    within ``margin`` seconds of ``now``. Without ``expires_at`` a token counts as valid
    (a 401 will still trigger one refresh, PROTOCOL.md §4.1)."""
    if not creds.get("access_token"):
        return True
    expiry = expires_at_ts(creds)
    return expiry is not None and now + margin >= expiry


# ---------------------------------------------------------------------------- wire helpers

_FORM = "application/x-www-form-urlencoded"


def _headers(extra: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    return (
        ("user-agent", USER_AGENT),
        ("x-goog-api-client", API_CLIENT),
        ("accept", "application/json"),
        ("accept-encoding", "gzip, deflate"),
        *extra,
    )


def form_request(url: str, fields: Sequence[tuple[str, str]], options: CallOptions, headers: Sequence[tuple[str, str]] = ()) -> HttpRequest:
    """A ``POST`` of ``fields`` as ``application/x-www-form-urlencoded``."""
    body = urlencode(list(fields)).encode()
    return HttpRequest(
        method="POST",
        url=url,
        headers=_headers((("content-type", _FORM), *headers)),
        body=body,
        timeout=options.timeout,
    )


def get_request(url: str, options: CallOptions, headers: Sequence[tuple[str, str]] = (), timeout: Timeout | None = None) -> HttpRequest:
    return HttpRequest(method="GET", url=url, headers=_headers(headers), body=b"", timeout=timeout or options.timeout)


def _response(http: HttpResponse, url: str) -> Response:
    json_body, data = decode_body(http.headers.get("content-type"), http.body)
    return Response(status_code=http.status, headers=http.headers, url=url, json=json_body, data=data, reason=http.reason)


def _failure(what: str, http: HttpResponse, url: str) -> AuthError:
    res = _response(http, url)
    info = google_error_info(res)
    code = info.get("reason") or ""
    text = info.get("message") or http.reason or ""
    detail = f"{code}: {text}" if code and text and text != code else (code or text)
    msg = f"{what} failed: HTTP {http.status}" + (f" {detail}" if detail else "")
    if code == "invalid_grant" and what.startswith("refresh"):
        msg += " (the refresh token was revoked or has expired; the user must sign in again)"
    elif http.status == 403 and what.startswith("impersonation"):
        if code == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
            msg += " (the source credentials' token lacks the cloud-platform scope)"
        else:
            msg += " (the source credentials need the Service Account Token Creator role, roles/iam.serviceAccountTokenCreator, on the target service account)"
    return AuthError(msg, res=res)


def exchange_flow(http: HttpRequest, options: CallOptions, what: str, *, idempotent: bool, retry: RetryPolicy | None = None) -> Flow[tuple[HttpResponse, Any]]:
    """Send ``http`` (no credentials) and return the response with its JSON body; a status
    of 400 or more raises :class:`AuthError` naming ``what`` and the server's error."""
    # cross_origin=False: a token endpoint's reply is trusted as a credential, and its
    # requests carry secrets in the body; no redirect may take them to another origin.
    response = yield from send_flow(
        http, retry or options.retry, authorize=False, idempotent=idempotent, max_redirects=options.max_redirects, cross_origin=False
    )
    if response.status >= 400:
        raise _failure(what, response, http.url)
    body, _data = decode_body(response.headers.get("content-type") or "application/json", response.body)
    return response, body


def _json_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise AuthError(f"{what}: the reply is not a JSON object")
    return body


# ---------------------------------------------------------------------------- authorization URL


def authorization_url(endpoint: str, params: Sequence[tuple[str, Any]]) -> str:
    """``endpoint`` with ``params`` (``None`` values dropped, booleans as ``true``/``false``)
    encoded as a query: every value percent-encoded, spaces as ``%20`` (aiogoogle 5 left
    ``redirect_uri`` raw and doubled ``&``, ANCHORS-aiogoogle.md)."""
    pairs: list[tuple[str, str]] = []
    for name, value in params:
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        pairs.append((name, str(value)))
    sep = "&" if "?" in endpoint else "?"
    return endpoint + sep + urlencode(pairs, quote_via=quote, safe="")


# ---------------------------------------------------------------------------- user credentials


def _client_auth(client: Mapping[str, Any] | None, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Client authentication (RFC 6749 §2.3.1): the id and secret in the body by default
    (``client_secret_post``), or HTTP Basic when ``token_endpoint_auth_method`` says
    ``client_secret_basic``. Returns the extra headers."""
    if not client or not client.get("client_id"):
        return []
    client_id, secret = str(client["client_id"]), client.get("client_secret")
    if secret and client.get("token_endpoint_auth_method") == "client_secret_basic":
        raw = f"{quote(client_id, safe='')}:{quote(str(secret), safe='')}".encode()
        return [("authorization", "Basic " + base64.b64encode(raw).decode("ascii"))]
    fields.append(("client_id", client_id))
    if secret:
        fields.append(("client_secret", str(secret)))
    return []


def user_creds_from_reply(
    reply: Mapping[str, Any],
    now: float,
    *,
    previous: Mapping[str, Any] | None = None,
    token_uri: str | None = None,
    endpoints: Endpoints | None = None,
    requested_scopes: Sequence[str] | None = None,
) -> UserCreds:
    """:class:`UserCreds` from a token endpoint reply (PROTOCOL.md §6.2).

    A refresh reply usually has no ``refresh_token``: the previous one is kept. Fields the
    reply does not cover (``client_id`` of an ADC file, ``quota_project_id``, the previous
    ``id_token_jwt``) are carried over from ``previous``.
    """
    access = reply.get("access_token")
    if not isinstance(access, str) or not access:
        raise AuthError("the token reply has no access_token")
    creds = UserCreds(**dict(previous)) if previous else UserCreds()
    creds["access_token"] = access
    expires_in = reply.get("expires_in")
    seconds = json_count(expires_in, MAX_EXPIRES_IN) if expires_in is not None else None
    if expires_in is not None and seconds is None:
        raise AuthError(f"the token reply's expires_in is not a number of seconds from 0 to {MAX_EXPIRES_IN}")
    creds["expires_in"] = seconds
    creds["expires_at"] = to_iso(now + seconds) if seconds is not None else None
    if isinstance(reply.get("refresh_token"), str) and reply["refresh_token"]:
        creds["refresh_token"] = reply["refresh_token"]
    scope = reply.get("scope")
    if isinstance(scope, str):
        creds["scopes"] = scope.split()
    elif creds.get("scopes") is None and requested_scopes is not None:
        creds["scopes"] = list(requested_scopes)
    if isinstance(reply.get("id_token"), str):
        creds["id_token_jwt"] = reply["id_token"]
        creds["id_token"] = None
    creds["token_type"] = reply.get("token_type") or creds.get("token_type") or "Bearer"
    if endpoints is not None:
        creds["token_uri"] = token_uri or creds.get("token_uri") or endpoints.token
        creds["revoke_uri"] = creds.get("revoke_uri") or endpoints.revocation
        creds["token_info_uri"] = creds.get("token_info_uri") or endpoints.tokeninfo
    elif token_uri:
        creds["token_uri"] = token_uri
    return creds


def code_exchange_flow(
    code: str,
    client: Mapping[str, Any],
    endpoints: Endpoints,
    options: CallOptions,
    *,
    grant_type: str = "authorization_code",
    redirect_uri: str | None = None,
    code_verifier: str | None = None,
) -> Flow[UserCreds]:
    """Exchange an authorization code for :class:`UserCreds` (PROTOCOL.md §6.2)."""
    if not code:
        raise AuthError("no authorization code (grant) to exchange")
    fields = [("grant_type", grant_type), ("code", code)]
    redirect = redirect_uri or client.get("redirect_uri")
    if redirect:
        fields.append(("redirect_uri", str(redirect)))
    if code_verifier:
        fields.append(("code_verifier", code_verifier))
    headers = _client_auth(client, fields)
    # A code can be redeemed once: never repeat the exchange after an ambiguous failure.
    _res, body = yield from exchange_flow(form_request(endpoints.token, fields, options, headers), options, "authorization code exchange", idempotent=False)
    now: float = yield Now()
    return user_creds_from_reply(_json_object(body, "authorization code exchange"), now, endpoints=endpoints, requested_scopes=client.get("scopes"))


def refresh_flow(user_creds: Mapping[str, Any], client: Mapping[str, Any] | None, endpoints: Endpoints, options: CallOptions) -> Flow[UserCreds]:
    """Refresh user credentials with their refresh token (PROTOCOL.md §6.2).

    The client id and secret come from ``client`` or, for gcloud's ADC files, from the
    credentials themselves. The request goes to the credentials' ``token_uri`` when set.
    """
    refresh_token = user_creds.get("refresh_token")
    if not refresh_token:
        raise AuthError("cannot refresh: the user credentials have no refresh_token (sign in again with access_type='offline')")
    owner: Mapping[str, Any] | None = client if client and client.get("client_id") else None
    if owner is None and user_creds.get("client_id"):
        owner = user_creds
    if owner is None:
        raise AuthError("cannot refresh: no client_id (pass client_creds to Aiogoogle or to refresh())")
    fields = [("grant_type", "refresh_token"), ("refresh_token", str(refresh_token))]
    headers = _client_auth(owner, fields)
    url = str(user_creds.get("token_uri") or endpoints.token)
    # Refreshing twice is harmless, so 5xx and dropped connections are retried.
    _res, body = yield from exchange_flow(form_request(url, fields, options, headers), options, "refresh of user credentials", idempotent=True)
    now: float = yield Now()
    return user_creds_from_reply(_json_object(body, "refresh"), now, previous=user_creds, token_uri=url, endpoints=endpoints)


def revoke_flow(token: str, endpoints: Endpoints, options: CallOptions, client: Mapping[str, Any] | None = None, url: str | None = None) -> Flow[None]:
    """Revoke an access or refresh token (RFC 7009; PROTOCOL.md §6.2)."""
    if not token:
        raise AuthError("nothing to revoke: the credentials have no token")
    fields = [("token", token)]
    headers = _client_auth(client, fields)
    yield from exchange_flow(form_request(url or endpoints.revocation, fields, options, headers), options, "token revocation", idempotent=True)
    return None


def bearer_get_flow(url: str, access_token: str, options: CallOptions, what: str) -> Flow[dict[str, Any]]:
    """``GET url`` with ``Authorization: Bearer`` (userinfo) and return the JSON object."""
    if not access_token:
        raise AuthError(f"{what}: the credentials have no access_token")
    http = get_request(url, options, (("authorization", f"Bearer {access_token}"),))
    _res, body = yield from exchange_flow(http, options, what, idempotent=True)
    return _json_object(body, what)


def tokeninfo_flow(url: str, options: CallOptions, *, access_token: str | None = None, id_token: str | None = None) -> Flow[dict[str, Any]]:
    """Google's tokeninfo (``POST`` form, so the token stays out of URLs and server logs)."""
    if access_token:
        fields = [("access_token", access_token)]
    elif id_token:
        fields = [("id_token", id_token)]
    else:
        raise AuthError("token info: the credentials have no token")
    _res, body = yield from exchange_flow(form_request(url, fields, options), options, "token info", idempotent=True)
    return _json_object(body, "token info")


def json_get_flow(url: str, options: CallOptions, what: str) -> Flow[tuple[dict[str, Any], Headers]]:
    """``GET url`` without credentials (openid-configuration, JWKS)."""
    res, body = yield from exchange_flow(get_request(url, options), options, what, idempotent=True)
    return _json_object(body, what), res.headers


# ---------------------------------------------------------------------------- service accounts


def _scopes(value: Any) -> list[str]:
    if not value:
        return []
    return value.split() if isinstance(value, str) else [str(s) for s in value]


def jwt_bearer_assertion(creds: Mapping[str, Any], now: float, token_uri: str, *, scopes: Sequence[str] | None = None, subject: str | None = None) -> str:
    """The signed JWT-bearer assertion of a service account (PROTOCOL.md §6.5; RFC 7523):
    ``iss`` = client_email, ``scope``, ``aud`` = the token URI, ``iat``, ``exp`` = iat+3600,
    ``sub`` only for domain-wide delegation, plus ``additional_claims``."""
    email, key = creds.get("client_email"), creds.get("private_key")
    if not email or not key:
        raise AuthError("the service account credentials need client_email and private_key")
    iat = int(now)
    claims: dict[str, Any] = {"iss": email, "aud": token_uri, "iat": iat, "exp": iat + MAX_JWT_LIFETIME}
    scope = _scopes(scopes if scopes is not None else creds.get("scopes"))
    if scope:
        claims["scope"] = " ".join(scope)
    sub = subject or creds.get("subject")
    if sub:
        claims["sub"] = sub
    extra = creds.get("additional_claims")
    if isinstance(extra, Mapping):
        claims.update(extra)
    return sign_rs256(claims, str(key), creds.get("private_key_id"))


def self_signed_jwt(creds: Mapping[str, Any], now: float, *, audience: str | None = None, scopes: Sequence[str] | None = None, lifetime: int = MAX_JWT_LIFETIME) -> str:
    """A self-signed JWT used directly as the bearer token, with no token exchange
    (PROTOCOL.md §6.5; AIP-4111): ``iss`` = ``sub`` = client_email and **either** ``aud``
    (``https://{service}.googleapis.com/``) **or** ``scope``, never both."""
    email, key = creds.get("client_email"), creds.get("private_key")
    if not email or not key:
        raise AuthError("the service account credentials need client_email and private_key")
    if creds.get("subject") and creds.get("subject") != email:
        raise AuthError("a self-signed JWT cannot act for another user (domain-wide delegation needs the token exchange)")
    iat = int(now)
    claims: dict[str, Any] = {"iss": email, "sub": email, "iat": iat, "exp": iat + min(lifetime, MAX_JWT_LIFETIME)}
    if audience:
        claims["aud"] = audience
    else:
        scope = _scopes(scopes if scopes is not None else creds.get("scopes"))
        if not scope:
            raise AuthError("a self-signed JWT needs an audience or scopes")
        claims["scope"] = " ".join(scope)
    return sign_rs256(claims, str(key), creds.get("private_key_id"))


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and its expiry (UNIX time; ``None`` if unknown). Never shows the token."""

    token: str
    expires_at: float | None

    def __repr__(self) -> str:
        return f"AccessToken(token='***', expires_at={self.expires_at!r})"


def _access_token(body: Any, now: float, what: str) -> AccessToken:
    reply = _json_object(body, what)
    token = reply.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the reply has no access_token")
    raw = reply.get("expires_in")
    expires_in = json_count(raw, MAX_EXPIRES_IN) if raw is not None else None
    if raw is not None and expires_in is None:
        raise AuthError(f"{what}: expires_in is not a number of seconds from 0 to {MAX_EXPIRES_IN}")
    return AccessToken(token, now + expires_in if expires_in is not None else None)


def jwt_bearer_flow(creds: Mapping[str, Any], endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    """A service account's access token through the JWT-bearer grant at the key's
    ``token_uri`` (PROTOCOL.md §6.5). No client authentication is sent."""
    token_uri = str(creds.get("token_uri") or endpoints.token)
    now: float = yield Now()
    assertion = jwt_bearer_assertion(creds, now, token_uri)
    fields = [("grant_type", JWT_BEARER), ("assertion", assertion)]
    _res, body = yield from exchange_flow(form_request(token_uri, fields, options), options, "service account token request", idempotent=True)
    return _access_token(body, now, "service account token request")


def metadata_token_flow(root: str, options: CallOptions, scopes: Sequence[str] | None = None) -> Flow[AccessToken]:
    """The default service account's token from the metadata server (PROTOCOL.md §6.6);
    the request carries ``Metadata-Flavor: Google``, without which the server refuses it."""
    url = root + "instance/service-accounts/default/token"
    if scopes:
        url += "?" + urlencode({"scopes": ",".join(scopes)})
    now: float = yield Now()
    http = get_request(url, options, (("metadata-flavor", "Google"),))
    _res, body = yield from exchange_flow(http, options, "metadata server token request", idempotent=True)
    return _access_token(body, now, "metadata server token request")


# ---------------------------------------------------------------------------- Application Default Credentials


@dataclass(frozen=True)
class DefaultCreds:
    """What :func:`default_creds_flow` found.

    ``kind`` is ``"service_account"`` (``creds`` is a :class:`ServiceAccountCreds`),
    ``"authorized_user"`` (``creds`` is a refreshable :class:`UserCreds`),
    ``"impersonated_service_account"`` (``creds`` is an :class:`Impersonation` holding the
    source credentials) or ``"metadata"`` (``metadata_root`` is the server's
    ``computeMetadata/v1/`` URL). ``source`` says where it came from; ``project_id`` and
    ``quota_project_id`` are filled from the file or the environment (PROTOCOL.md §6.7).
    """

    kind: str
    source: str
    creds: Any = None
    metadata_root: str | None = None
    project_id: str | None = None
    quota_project_id: str | None = None

    def __repr__(self) -> str:
        return f"DefaultCreds(kind={self.kind!r}, source={self.source!r}, project_id={self.project_id!r})"


@dataclass(frozen=True)
class Impersonation:
    """An ``impersonated_service_account`` ADC file, as written by ``gcloud auth
    application-default login --impersonate-service-account`` (PROTOCOL.md §6.7).

    ``source`` is the credential that asks for the token (``source_kind``
    ``"authorized_user"``: a refreshable :class:`UserCreds`; ``"service_account"``: a
    :class:`ServiceAccountCreds` key); ``url`` is the IAM Credentials
    ``...serviceAccounts/<target>:generateAccessToken`` endpoint; ``delegates`` the chain
    of service accounts between the two; ``scopes`` the file's own scopes, if any.
    The ``repr`` never shows the source credentials.
    """

    source_kind: str
    source: Any
    url: str
    target: str
    delegates: tuple[str, ...] = ()
    scopes: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return f"Impersonation(target={self.target!r}, source_kind={self.source_kind!r}, delegates={list(self.delegates)!r})"


#: How long the metadata-server probe waits (google-auth: 3 s, ``GCE_METADATA_TIMEOUT``).
METADATA_DETECT_TIMEOUT = 3.0
IMPERSONATED = "impersonated_service_account"
_SUPPORTED_FILE_TYPES = ("service_account", "authorized_user", IMPERSONATED)
_SUPPORTED_SOURCE_TYPES = ("authorized_user", "service_account")
#: The scope a service-account source needs to call the IAM Credentials API, and the
#: default scope of an impersonated token (google-auth's ``iam._IAM_SCOPE``).
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: Lifetime asked for an impersonated token: google-auth's default and the API's maximum
#: unless an organisation policy allows longer (PROTOCOL.md §6.7).
IMPERSONATION_LIFETIME = 3600
#: Hosts an impersonation URL may reach over plain HTTP (local test servers only: the
#: source credentials' token travels in that request).
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_GENERATE = ":generateAccessToken"


def _require(info: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    missing = [k for k in keys if not info.get(k)]
    if missing:
        raise AuthError(f"{where} lacks {', '.join(missing)}")
    wrong = [k for k in keys if not isinstance(info[k], str)]
    if wrong:
        raise AuthError(f"{where}: {', '.join(wrong)} must be a string")


def _service_account(info: dict[str, Any], where: str) -> ServiceAccountCreds:
    _require(info, ("client_email", "private_key"), where)
    return ServiceAccountCreds(**info)


def _authorized_user(info: dict[str, Any], where: str, endpoints: Endpoints) -> UserCreds:
    _require(info, ("client_id", "client_secret", "refresh_token"), where)
    fields = {k: v for k, v in info.items() if k != "type"}
    creds = UserCreds(**fields, type="authorized_user")
    creds["token_uri"] = info.get("token_uri") or endpoints.token
    return creds


def _impersonation_target(url: str, where: str) -> str:
    """The service account named by ``url`` (``.../serviceAccounts/<sa>:generateAccessToken``).

    The URL must be ``https`` (or plain ``http`` to a loopback host, for local test
    servers): the source credentials' access token is sent there. Messages name the field,
    scheme and host only, never the rest of the URL."""
    field = "service_account_impersonation_url"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise AuthError(f"{where}: {field} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if not host or scheme not in ("https", "http"):
        raise AuthError(f"{where}: {field} is not an absolute https URL")
    if scheme != "https" and host not in _LOOPBACK_HOSTS:
        raise AuthError(f"{where}: {field} must use https (got http to host {host!r}); the source credentials' token is sent there")
    if parts.username is not None or parts.password is not None:
        raise AuthError(f"{where}: {field} must not carry a user name or password")
    path = parts.path
    marker = path.rfind("/serviceAccounts/")
    if marker < 0 or not path.endswith(_GENERATE):
        raise AuthError(f"{where}: {field} does not end in /serviceAccounts/<email>{_GENERATE}")
    target = unquote(path[marker + len("/serviceAccounts/") : -len(_GENERATE)])
    if not target or "/" in target:
        raise AuthError(f"{where}: {field} names no service account before {_GENERATE}")
    return target


def _string_list(value: Any, name: str, where: str, *, split: bool = False) -> tuple[str, ...]:
    if split and isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AuthError(f"{where}: {name} must be a list of strings")
    return tuple(value)


def _impersonation(info: dict[str, Any], where: str, endpoints: Endpoints) -> Impersonation:
    source_info = info.get("source_credentials")
    if source_info is None:
        raise AuthError(f"{where} lacks source_credentials")
    if not isinstance(source_info, dict):
        raise AuthError(f"{where}: source_credentials is not a JSON object")
    source_kind = source_info.get("type")
    source: Any
    if source_kind == "service_account":
        source = _service_account(source_info, f"{where}: source_credentials (service_account)")
    elif source_kind == "authorized_user":
        source = _authorized_user(source_info, f"{where}: source_credentials (authorized_user)", endpoints)
    else:
        raise AuthError(f"{where}: source_credentials has type {source_kind!r}; supported: {', '.join(_SUPPORTED_SOURCE_TYPES)}")
    url = info.get("service_account_impersonation_url")
    if not url:
        raise AuthError(f"{where} lacks service_account_impersonation_url")
    if not isinstance(url, str):
        raise AuthError(f"{where}: service_account_impersonation_url must be a string")
    target = _impersonation_target(url, where)
    delegates = info.get("delegates")
    scopes = info.get("scopes")
    return Impersonation(
        source_kind=source_kind,
        source=source,
        url=url,
        target=target,
        delegates=() if delegates is None else _string_list(delegates, "delegates", where),
        scopes=None if scopes is None else (_string_list(scopes, "scopes", where, split=True) or None),
    )


def _from_file(data: bytes, path: str, source: str, endpoints: Endpoints, env: Mapping[str, str]) -> DefaultCreds:
    # The reason names the position, never the content (the file holds secrets).
    info = loads(data, lambda why: AuthError(f"{source}: {path} is not JSON ({why})"))
    if not isinstance(info, dict):
        raise AuthError(f"{source}: {path} is not a JSON object")
    kind = info.get("type")
    quota = env.get("GOOGLE_CLOUD_QUOTA_PROJECT") or info.get("quota_project_id")
    project = env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT") or info.get("project_id")
    origin = f"{source} ({path})"
    if kind == "service_account":
        creds: Any = _service_account(info, f"{source}: the service account key in {path}")
    elif kind == "authorized_user":
        creds = _authorized_user(info, f"{source}: the authorized_user file {path}", endpoints)
    elif kind == IMPERSONATED:
        creds = _impersonation(info, f"{source}: the {IMPERSONATED} file {path}", endpoints)
    else:
        raise AuthError(f"{source}: {path} has credentials of type {kind!r}; supported: {', '.join(_SUPPORTED_FILE_TYPES)}")
    return DefaultCreds(str(kind), origin, creds, project_id=project, quota_project_id=quota)


def _source_token(imp: Impersonation, endpoints: Endpoints, options: CallOptions) -> Flow[str]:
    """The source credentials' access token: a refresh for a user, a JWT-bearer grant with
    the cloud-platform scope (which IAM requires) for a service account key. It is
    fetched each time: it lives as long as the impersonated token it pays for, so by the
    time that one needs replacing the source token would need it too."""
    if imp.source_kind == "authorized_user":
        user = yield from refresh_flow(imp.source, None, endpoints, options)
        return str(user["access_token"])
    key = ServiceAccountCreds(**dict(imp.source))
    key["scopes"] = [CLOUD_PLATFORM_SCOPE]
    token = yield from jwt_bearer_flow(key, endpoints, options)
    return token.token


def impersonated_token_flow(imp: Impersonation, endpoints: Endpoints, options: CallOptions, scopes: Sequence[str] | None = None) -> Flow[AccessToken]:
    """An access token of the impersonated service account (PROTOCOL.md §6.7; the IAM
    Credentials API's ``generateAccessToken``).

    Gets the source credentials' token, then ``POST``s ``{"delegates", "scope",
    "lifetime": "3600s"}`` as JSON to ``imp.url`` with ``Authorization: Bearer <source
    token>`` and reads ``{"accessToken", "expireTime"}`` (RFC 3339). ``scope`` is
    ``scopes``, else the file's ``scopes``, else cloud-platform. A refusal (e.g. 403
    ``PERMISSION_DENIED`` when the source may not impersonate the target) raises
    :class:`AuthError` carrying Google's message; no token ever appears in a message.
    """
    source_token = yield from _source_token(imp, endpoints, options)
    wanted = list(scopes or imp.scopes or (CLOUD_PLATFORM_SCOPE,))
    body = {"delegates": list(imp.delegates), "scope": wanted, "lifetime": f"{IMPERSONATION_LIFETIME}s"}
    extra = [("content-type", "application/json"), ("authorization", f"Bearer {source_token}")]
    quota = imp.source.get("quota_project_id")
    if isinstance(quota, str) and quota:
        # google-auth applies the source credentials' headers, quota project included.
        extra.append(("x-goog-user-project", quota))
    http = HttpRequest(method="POST", url=imp.url, headers=_headers(extra), body=json.dumps(body).encode(), timeout=options.timeout)
    what = f"impersonation of service account {imp.target}"
    # Asking for another token is harmless, so 5xx and dropped connections are retried.
    _res, reply = yield from exchange_flow(http, options, what, idempotent=True)
    data = _json_object(reply, what)
    token = data.get("accessToken")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the reply has no accessToken")
    expires = rfc3339_ts(data.get("expireTime"))
    if expires is None:
        raise AuthError(f"{what}: the reply's expireTime is missing or not an RFC 3339 time")
    return AccessToken(token, expires)


def gcloud_config_dir(env: Mapping[str, str]) -> str | None:
    """gcloud's configuration directory: ``$CLOUDSDK_CONFIG``, else ``%APPDATA%\\gcloud`` on
    Windows (no ``HOME``), else ``$HOME/.config/gcloud`` (PROTOCOL.md §6.7)."""
    if env.get("CLOUDSDK_CONFIG"):
        return env["CLOUDSDK_CONFIG"]
    if env.get("APPDATA") and not env.get("HOME"):
        return env["APPDATA"].rstrip("\\/") + "\\gcloud"
    if env.get("HOME"):
        return env["HOME"].rstrip("/") + "/.config/gcloud"
    return None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def default_creds_flow(env: Mapping[str, str], endpoints: Endpoints, options: CallOptions, *, detect_timeout: float = METADATA_DETECT_TIMEOUT) -> Flow[DefaultCreds]:
    """Application Default Credentials, in Google's order (PROTOCOL.md §6.7):

    1. ``GOOGLE_APPLICATION_CREDENTIALS``: a ``service_account`` key, an ``authorized_user``
       file or an ``impersonated_service_account`` file (an unreadable file named there is
       an error, not a fall-through);
    2. gcloud's ``application_default_credentials.json`` (``CLOUDSDK_CONFIG`` honoured);
    3. the metadata server at ``GCE_METADATA_HOST`` (or ``endpoints.metadata_host``), probed
       once with ``Metadata-Flavor: Google`` and a short timeout, unless ``NO_GCE_CHECK``
       is true.

    ``env`` is a mapping handed in by the caller: the core never reads ``os.environ``
    itself (the client passes a snapshot taken in the adapter layer,
    :func:`aiogoogle.sessions.base.process_environ`). Nothing found raises
    :class:`AuthError` listing every place tried.
    """
    tried: list[str] = []
    explicit = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        try:
            data: bytes = yield FileOp("read", explicit)
        except OSError as exc:
            raise AuthError(f"GOOGLE_APPLICATION_CREDENTIALS names {explicit}, which cannot be read ({exc.strerror or type(exc).__name__})") from None
        return _from_file(data, explicit, "GOOGLE_APPLICATION_CREDENTIALS", endpoints, env)
    tried.append("GOOGLE_APPLICATION_CREDENTIALS (not set)")
    config = gcloud_config_dir(env)
    if config:
        sep = "\\" if "\\" in config and "/" not in config else "/"
        path = config.rstrip("\\/") + sep + "application_default_credentials.json"
        try:
            data = yield FileOp("read", path)
        except OSError:
            tried.append(f"gcloud credentials {path} (not found)")
        else:
            return _from_file(data, path, "gcloud application default credentials", endpoints, env)
    else:
        tried.append("gcloud credentials (no CLOUDSDK_CONFIG or HOME)")
    if _truthy(env.get("NO_GCE_CHECK")):
        tried.append("metadata server (skipped: NO_GCE_CHECK)")
    else:
        host = env.get("GCE_METADATA_HOST") or env.get("GCE_METADATA_ROOT") or endpoints.metadata_host
        root = endpoints.metadata_root(host)
        probe = get_request(root, options, (("metadata-flavor", "Google"),), timeout=Timeout(connect=detect_timeout, read=detect_timeout))
        try:
            response = yield from send_flow(probe, RetryPolicy(max_attempts=1), authorize=False, max_redirects=0)
        except TransportError as exc:
            tried.append(f"metadata server {host} (no answer: {type(exc).__name__})")
        except RedirectError as exc:
            tried.append(f"metadata server {host} (HTTP {exc.status_code}, not a metadata server)")
        else:
            if response.status == 200 and response.headers.get("metadata-flavor", "").lower() == "google":
                project = env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT")
                return DefaultCreds("metadata", f"metadata server {host}", None, metadata_root=root, project_id=project, quota_project_id=env.get("GOOGLE_CLOUD_QUOTA_PROJECT"))
            tried.append(f"metadata server {host} (HTTP {response.status}, not a metadata server)")
    raise AuthError("no Application Default Credentials found; tried: " + "; ".join(tried))


def with_scopes(creds: Mapping[str, Any], scopes: Sequence[str] | None) -> Any:
    """A copy of service-account ``creds`` with ``scopes`` (when given)."""
    if not scopes:
        return creds
    copy = type(creds)(**dict(creds)) if isinstance(creds, ServiceAccountCreds) else dict(creds)
    copy["scopes"] = list(scopes)
    return copy



# ---------------------------------------------------------------------------- id_token verification


#: Seconds that must pass after a JWKS fetch before a token naming an unknown key id makes
#: another one. OpenID Connect Core 1.0 §10.1.1 has verifiers re-fetch the JWKS when they
#: see an unfamiliar ``kid`` (keys rotate); without a bound every forged ``kid`` would cost
#: a request to the provider (jose's createRemoteJWKSet has the same guard, 30 s there).
MIN_JWKS_REFETCH_INTERVAL = 60.0


class JwksCache:
    """The provider's signing keys, kept until the JWKS reply's ``Cache-Control: max-age``
    runs out (keys rotate; PROTOCOL.md §6.4). Without ``max-age`` they are kept for
    ``default_ttl`` seconds.

    A token whose key id is not in the cached keys re-fetches them, but at most once per
    ``min_refetch_interval`` seconds (default :data:`MIN_JWKS_REFETCH_INTERVAL`, 60) after
    the last fetch attempt, by the clock the flows are given; within it such a token is
    rejected without a request."""

    __slots__ = ("attempted", "default_ttl", "expires", "fetches", "keys", "min_refetch_interval", "url")

    def __init__(self, default_ttl: float = 3600.0, min_refetch_interval: float = MIN_JWKS_REFETCH_INTERVAL) -> None:
        self.url: str | None = None
        self.keys: dict[str | None, Any] = {}
        self.expires = 0.0
        self.default_ttl = default_ttl
        self.min_refetch_interval = min_refetch_interval
        self.fetches = 0
        #: When the last fetch was started (``None``: never); a failed fetch counts too.
        self.attempted: float | None = None

    def fresh(self, url: str, now: float) -> bool:
        return self.url == url and bool(self.keys) and now < self.expires


def cache_max_age(cache_control: str | None) -> float | None:
    """``max-age`` of a ``Cache-Control`` header (``None`` when absent; ``0`` for
    ``no-store``/``no-cache``)."""
    if not cache_control:
        return None
    age: float | None = None
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age":
            # delta-seconds = 1*DIGIT (RFC 9111 §1.2.2); anything else is ignored.
            seconds = ascii_int(value.strip().strip('"'))
            age = float(seconds) if seconds is not None else None
    return age


def jwks_flow(cache: JwksCache, url: str, options: CallOptions) -> Flow[dict[str | None, Any]]:
    """Fetch the JWKS at ``url`` into ``cache`` and return its keys."""
    # Stamped before the request, so concurrent checks and failed fetches are limited too.
    cache.attempted = yield Now()
    body, headers = yield from json_get_flow(url, options, "JWKS fetch")
    now: float = yield Now()
    keys = jwks_keys(body)
    max_age = cache_max_age(headers.get("cache-control"))
    cache.url, cache.keys, cache.fetches = url, keys, cache.fetches + 1
    cache.expires = now + (cache.default_ttl if max_age is None else max_age)
    return keys


def verify_id_token_flow(
    token: str,
    cache: JwksCache,
    endpoints: Endpoints,
    options: CallOptions,
    *,
    client_ids: Sequence[str] | None,
    nonce: str | None = None,
    hd: str | None = None,
    skew: float = 0.0,
) -> Flow[dict[str, Any]]:
    """Verify an id_token against the provider's JWKS (cached) and return its claims.

    A ``kid`` missing from the cached JWKS re-fetches it once (keys rotate) unless the last
    fetch started less than ``cache.min_refetch_interval`` seconds ago; if the key is still
    unknown the token is rejected.
    """
    now: float = yield Now()
    if not cache.fresh(endpoints.jwks, now):
        yield from jwks_flow(cache, endpoints.jwks, options)
    check = dict(now=now, client_ids=client_ids, issuers=endpoints.issuers, nonce=nonce, hd=hd, skew=skew)
    try:
        return validate_id_token(token, cache.keys, **check)  # type: ignore[arg-type]
    except UnknownKeyError as exc:
        unknown = exc
    current: float = yield Now()
    since = current - cache.attempted if cache.attempted is not None else None
    # A clock that went back (since < 0) does not hold re-fetches off for that long.
    if since is not None and 0 <= since < cache.min_refetch_interval:
        raise UnknownKeyError(
            f"{unknown} (fetched {since:.0f} s ago; an unknown key id fetches it again at most every {cache.min_refetch_interval:g} s)"
        )
    yield from jwks_flow(cache, endpoints.jwks, options)
    try:
        return validate_id_token(token, cache.keys, **check)  # type: ignore[arg-type]
    except UnknownKeyError as exc:
        raise UnknownKeyError(f"{exc}, even after re-fetching it") from None


# ---------------------------------------------------------------------------- OpenID discovery

#: The endpoints of an openid-configuration that requests go to (OpenID Connect Discovery
#: 1.0 §3; ``revocation_endpoint`` from RFC 8414 §2): each must be https.
OPENID_ENDPOINT_FIELDS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "revocation_endpoint", "jwks_uri")


def require_https(url: Any, what: str) -> str:
    """``url`` when it is an absolute ``https`` URL, or ``http`` to a loopback host
    (127.0.0.1, ::1, localhost: local test servers); else :class:`AuthError` naming
    ``what``. Plain http elsewhere would let anyone on the path swap keys or take codes."""
    if not isinstance(url, str):
        raise AuthError(f"{what} is {type(url).__name__}, not a URL string")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise AuthError(f"{what} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if not host or scheme not in ("https", "http"):
        raise AuthError(f"{what} is not an absolute https URL")
    if scheme != "https" and host not in _LOOPBACK_HOSTS:
        raise AuthError(f"{what} must use https (got http to host {host!r}); plain http is allowed only to 127.0.0.1, ::1 and localhost")
    return url


def check_openid_configuration(config: Mapping[str, Any], issuer: str) -> None:
    """Raise :class:`AuthError` unless ``config`` (an openid-configuration document) may be
    used for ``issuer``: its ``issuer`` is the one it was fetched for (OpenID Connect
    Discovery 1.0 §4.3: "MUST be identical"; a trailing ``/`` is not told apart) and every
    endpoint it lists is https (:func:`require_https`)."""
    got = config.get("issuer")
    if not isinstance(got, str):
        raise AuthError("openid-configuration lacks issuer")
    if got.rstrip("/") != issuer.rstrip("/"):
        shown = got if len(got) <= 200 else got[:197] + "..."
        raise AuthError(
            f"openid-configuration: the document's issuer {shown!r} is not {issuer!r}, the issuer it was fetched for "
            "(OpenID Connect Discovery 1.0 §4.3: they must be identical)"
        )
    for field in OPENID_ENDPOINT_FIELDS:
        if config.get(field) is not None:
            require_https(config[field], f"openid-configuration: {field}")


def openid_configuration_flow(url: str, issuer: str, options: CallOptions) -> Flow[dict[str, Any]]:
    """Fetch the openid-configuration at ``url`` (https, or http to a loopback host) and
    check it for ``issuer`` (:func:`check_openid_configuration`)."""
    require_https(url, "the openid-configuration URL")
    config, _headers = yield from json_get_flow(url, options, "openid-configuration fetch")
    check_openid_configuration(config, issuer)
    return config
