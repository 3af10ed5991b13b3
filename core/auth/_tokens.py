"""What every auth protocol shares: times, token-endpoint requests, token replies.

The protocol modules (:mod:`._oauth2`, :mod:`._service_account`, :mod:`._adc`,
:mod:`._oidc`) build on these. Every exchange goes through
:func:`aiogoogle._call.send_flow` with ``authorize=False`` (token endpoints take no bearer
token), so retries and redirects behave as for API calls. Errors are
:class:`~aiogoogle.excs.AuthError` with the endpoint's RFC 6749 §5.2 error code and
description; tokens, secrets and assertions never appear in them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from .._effects import Flow
from .._http import HttpRequest, HttpResponse, Timeout
from .._parse import json_count
from .._send import API_CLIENT, USER_AGENT, CallOptions, send_flow
from ..excs import AuthError, google_error_info
from ..models import Response, decode_body
from ..retry import RetryPolicy
from .sources import AccessToken

#: Default seconds before expiry at which credentials count as expired (google-auth's
#: ``REFRESH_THRESHOLD``, 3 min 45 s:
#: https://github.com/googleapis/google-auth-library-python/blob/main/google/auth/_helpers.py).
DEFAULT_REFRESH_MARGIN = 225.0
#: The longest token lifetime (``expires_in``) read from a reply: ten years. Google's tokens
#: live an hour; a larger value is a broken reply (and would overflow date arithmetic).
MAX_EXPIRES_IN = 10 * 366 * 24 * 3600
#: Hosts a credential-bearing URL may reach over plain HTTP (local test servers only).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


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
    (a 401 will still trigger one refresh: RFC 6750 §3.1, ``invalid_token``)."""
    if not creds.get("access_token"):
        return True
    expiry = expires_at_ts(creds)
    return expiry is not None and now + margin >= expiry


# ---------------------------------------------------------------------------- wire helpers

_FORM = "application/x-www-form-urlencoded"


def token_headers(extra: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """The headers of every request to a token endpoint, then ``extra``."""
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
        headers=token_headers((("content-type", _FORM), *headers)),
        body=body,
        timeout=options.timeout,
    )


def get_request(url: str, options: CallOptions, headers: Sequence[tuple[str, str]] = (), timeout: Timeout | None = None) -> HttpRequest:
    return HttpRequest(method="GET", url=url, headers=token_headers(headers), body=b"", timeout=timeout or options.timeout)


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


def json_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise AuthError(f"{what}: the reply is not a JSON object")
    return body


def access_token_reply(body: Any, now: float, what: str) -> AccessToken:
    reply = json_object(body, what)
    token = reply.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the reply has no access_token")
    raw = reply.get("expires_in")
    expires_in = json_count(raw, MAX_EXPIRES_IN) if raw is not None else None
    if raw is not None and expires_in is None:
        raise AuthError(f"{what}: expires_in is not a number of seconds from 0 to {MAX_EXPIRES_IN}")
    return AccessToken(token, now + expires_in if expires_in is not None else None)
