"""OAuth 2.0 Token Exchange (RFC 8693) and the IAM Credentials calls built on it, as
pure flows.

Google's Security Token Service (https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token)
takes a token from another identity provider (an OIDC id_token, a SAML assertion, a signed
AWS request) and answers with a Google access token; the IAM Credentials API then turns a
Google access token into one of a service account
(https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken)
or into an ID token for an audience
(https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateIdToken).

Every function yields effects (:mod:`aiogoogle._effects`) and never performs I/O; errors
are :class:`~aiogoogle.excs.AuthError` naming the step, never showing a token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .._call import API_CLIENT, USER_AGENT, CallOptions
from .._effects import Flow, Now
from .._http import HttpRequest
from .._parse import json_count
from ..excs import AuthError
from ._oidc import require_https
from ._tokens import MAX_EXPIRES_IN, exchange_flow, form_request, rfc3339_ts
from .sources import AccessToken

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "TOKEN_EXCHANGE_GRANT",
    "generate_access_token_flow",
    "generate_id_token_flow",
    "json_request",
    "service_account_from_url",
    "sts_exchange_flow",
]

#: RFC 8693 §2.1: the grant type of a token exchange.
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
#: RFC 8693 §3: the token type identifier of an OAuth 2.0 access token.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def json_request(url: str, body: Mapping[str, Any], options: CallOptions, bearer: str | None = None, extra: Sequence[tuple[str, str]] = ()) -> HttpRequest:
    """A ``POST`` of ``body`` as JSON, with ``Authorization: Bearer`` when given."""
    headers: list[tuple[str, str]] = [
        ("user-agent", USER_AGENT),
        ("x-goog-api-client", API_CLIENT),
        ("accept", "application/json"),
        ("accept-encoding", "gzip, deflate"),
        ("content-type", "application/json"),
    ]
    if bearer is not None:
        headers.append(("authorization", f"Bearer {bearer}"))
    headers.extend(extra)
    return HttpRequest(method="POST", url=url, headers=tuple(headers), body=json.dumps(dict(body)).encode(), timeout=options.timeout)


def basic_auth(client_id: str, client_secret: str | None) -> tuple[str, str]:
    """RFC 6749 §2.3.1 HTTP Basic client authentication: both parts form-encoded first."""
    raw = f"{quote(client_id, safe='')}:{quote(client_secret or '', safe='')}".encode()
    return ("authorization", "Basic " + base64.b64encode(raw).decode("ascii"))


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise AuthError(f"{what}: the reply is not a JSON object")
    return body


def sts_exchange_flow(
    token_url: str,
    options: CallOptions,
    *,
    subject_token: str,
    subject_token_type: str,
    audience: str,
    scopes: Sequence[str],
    client: tuple[str, str | None] | None = None,
    extra_options: Mapping[str, Any] | None = None,
) -> Flow[AccessToken]:
    """Exchange ``subject_token`` for a Google access token at ``token_url`` (RFC 8693 §2.1).

    The form carries ``grant_type`` (token-exchange), ``requested_token_type``
    (access_token), ``subject_token``, ``subject_token_type``, ``audience`` (the workload
    or workforce pool provider) and ``scope``; ``extra_options`` become Google's
    ``options`` field (JSON, e.g. ``{"userProject": ...}`` for workforce pools). ``client``
    (id, secret) authenticates with HTTP Basic (RFC 6749 §2.3.1). The reply (RFC 8693
    §2.2.1) must hold ``access_token`` with ``token_type`` Bearer and, when present,
    ``issued_token_type`` access_token."""
    if not subject_token:
        raise AuthError("token exchange: the subject token is empty")
    fields = [
        ("grant_type", TOKEN_EXCHANGE_GRANT),
        ("requested_token_type", ACCESS_TOKEN_TYPE),
        ("subject_token", subject_token),
        ("subject_token_type", subject_token_type),
        ("audience", audience),
    ]
    if scopes:
        fields.append(("scope", " ".join(scopes)))
    if extra_options:
        fields.append(("options", json.dumps(dict(extra_options), separators=(",", ":"))))
    headers = [basic_auth(*client)] if client is not None else []
    what = "token exchange (RFC 8693) at the security token service"
    # Exchanging the same subject token twice is harmless, so failures are retried.
    _res, body = yield from exchange_flow(form_request(token_url, fields, options, headers), options, what, idempotent=True)
    now: float = yield Now()
    reply = _object(body, what)
    token = reply.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the reply has no access_token")
    kind = reply.get("token_type")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        # RFC 8693 §2.2.1: token_type is required; a non-Bearer token cannot be sent as one.
        raise AuthError(f"{what}: the reply's token_type is {kind!r}, not Bearer")
    issued = reply.get("issued_token_type")
    if issued is not None and issued != ACCESS_TOKEN_TYPE:
        raise AuthError(f"{what}: the reply's issued_token_type is {issued!r}, not {ACCESS_TOKEN_TYPE}")
    raw = reply.get("expires_in")
    seconds = json_count(raw, MAX_EXPIRES_IN) if raw is not None else None
    if raw is not None and seconds is None:
        raise AuthError(f"{what}: expires_in is not a number of seconds from 0 to {MAX_EXPIRES_IN}")
    return AccessToken(token, now + seconds if seconds is not None else None)


_GENERATE_ACCESS = ":generateAccessToken"


def service_account_from_url(url: Any, field: str, where: str) -> str:
    """The service account a ``.../serviceAccounts/<email>:generateAccessToken`` URL names.

    The URL must be https (plain http only to a loopback test server: a bearer token is
    sent there) with no user information. Messages name ``field``, never the URL."""
    if not isinstance(url, str) or not url:
        raise AuthError(f"{where}: {field} must be a non-empty string")
    require_https(url, f"{where}: {field}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise AuthError(f"{where}: {field} is not a valid URL") from None
    if parts.username is not None or parts.password is not None:
        raise AuthError(f"{where}: {field} must not carry a user name or password")
    path = parts.path
    marker = path.rfind("/serviceAccounts/")
    if marker < 0 or not path.endswith(_GENERATE_ACCESS):
        raise AuthError(f"{where}: {field} does not end in /serviceAccounts/<email>{_GENERATE_ACCESS}")
    target = unquote(path[marker + len("/serviceAccounts/") : -len(_GENERATE_ACCESS)])
    if not target or "/" in target:
        raise AuthError(f"{where}: {field} names no service account before {_GENERATE_ACCESS}")
    return target


def generate_access_token_flow(
    url: str,
    bearer: str,
    options: CallOptions,
    *,
    target: str,
    scopes: Sequence[str],
    delegates: Sequence[str] = (),
    lifetime: int = 3600,
    quota_project: str | None = None,
) -> Flow[AccessToken]:
    """``POST url`` (IAM Credentials ``generateAccessToken``) with ``{"delegates", "scope",
    "lifetime": "<n>s"}`` and ``Authorization: Bearer <bearer>``; reads ``{"accessToken",
    "expireTime"}`` (RFC 3339). Delegates are sent as ``projects/-/serviceAccounts/<email>``,
    the form the API takes."""
    body = {"delegates": [_delegate(d) for d in delegates], "scope": list(scopes), "lifetime": f"{int(lifetime)}s"}
    extra = [("x-goog-user-project", quota_project)] if quota_project else []
    what = f"impersonation of service account {target}"
    _res, reply = yield from exchange_flow(json_request(url, body, options, bearer, extra), options, what, idempotent=True)
    data = _object(reply, what)
    token = data.get("accessToken")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the reply has no accessToken")
    expires = rfc3339_ts(data.get("expireTime"))
    if expires is None:
        raise AuthError(f"{what}: the reply's expireTime is missing or not an RFC 3339 time")
    return AccessToken(token, expires)


def generate_id_token_flow(
    url: str, bearer: str, options: CallOptions, *, target: str, audience: str, delegates: Sequence[str] = (), include_email: bool = True
) -> Flow[str]:
    """``POST url`` (IAM Credentials ``generateIdToken``) with ``{"audience", "delegates",
    "includeEmail"}`` and ``Authorization: Bearer <bearer>``; returns the ``token``."""
    body = {"audience": audience, "delegates": [_delegate(d) for d in delegates], "includeEmail": include_email}
    what = f"ID token of service account {target} for audience {_short(audience)}"
    _res, reply = yield from exchange_flow(json_request(url, body, options, bearer), options, what, idempotent=True)
    token = _object(reply, what).get("token")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the reply has no token")
    return token


def _delegate(value: str) -> str:
    return value if value.startswith("projects/") else f"projects/-/serviceAccounts/{value}"


def _short(value: str) -> str:
    return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
