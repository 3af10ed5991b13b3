"""The OAuth 2.0 Device Authorization Grant (RFC 8628), as pure flows: sign in on a
device without a browser (a headless server, a TV) by visiting a URL elsewhere and typing
a short code (https://developers.google.com/identity/protocols/oauth2/limited-input-device).

1. :func:`device_code_flow` asks the device authorization endpoint for a ``device_code``
   and a ``user_code`` (RFC 8628 §3.1-3.2); the caller shows the user the code and the
   verification URL;
2. :func:`device_token_flow` polls the token endpoint (§3.4-3.5) every ``interval``
   seconds until the user approves (tokens), denies (``access_denied``) or the code expires
   (``expired_token``, or its ``expires_in`` passed); ``slow_down`` adds 5 seconds to the
   interval for every later request, as §3.5 requires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._call import CallOptions, send_flow
from .._effects import Flow, Now, Sleep
from .._parse import json_count
from ..excs import AuthError
from ..models import decode_body
from ._oauth2 import user_creds_from_reply
from ._oidc import require_https
from ._tokens import exchange_flow, form_request
from .creds import UserCreds
from .endpoints import Endpoints

__all__ = ["DEVICE_CODE_GRANT", "GOOGLE_DEVICE_ENDPOINT", "DeviceCode", "device_code_flow", "device_endpoint_for", "device_login", "device_token_flow"]

#: RFC 8628 §7.2: the grant type of the device access token request.
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: Google's device authorization endpoint (its openid-configuration lists
#: ``device_authorization_endpoint``).
GOOGLE_DEVICE_ENDPOINT = "https://oauth2.googleapis.com/device/code"
#: RFC 8628 §3.2: the polling interval when the server names none.
DEFAULT_INTERVAL = 5
#: RFC 8628 §3.5: ``slow_down`` increases the interval by 5 seconds.
SLOW_DOWN_STEP = 5
#: Bounds on what a server may ask for: codes live at most a day, polls wait at most 5 min.
MAX_EXPIRES_IN = 24 * 3600
MAX_INTERVAL = 300


@dataclass(frozen=True)
class DeviceCode:
    """What the user needs (``user_code``, ``verification_url``, and the optional
    ``verification_url_complete`` with the code filled in) and what polling needs
    (the secret ``device_code``, not shown in the ``repr``; ``interval``; the monotonic
    time ``deadline`` after which the code is dead)."""

    user_code: str
    verification_url: str
    expires_in: int
    interval: int
    deadline: float
    device_code: str = field(repr=False)
    verification_url_complete: str | None = None
    scopes: tuple[str, ...] = ()

    def prompt(self) -> str:
        """One line telling the user what to do."""
        return f"To sign in, visit {self.verification_url} and enter the code {self.user_code} (valid for {self.expires_in // 60} minutes)."


def _client_fields(client: Mapping[str, Any]) -> list[tuple[str, str]]:
    client_id = client.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise AuthError("device flow: the client credentials have no client_id")
    fields = [("client_id", client_id)]
    secret = client.get("client_secret")
    if isinstance(secret, str) and secret:
        # Google's "TVs and Limited Input devices" clients send their secret (RFC 6749 §2.3.1, in the body).
        fields.append(("client_secret", secret))
    return fields


def device_code_flow(client: Mapping[str, Any], scopes: Sequence[str], url: str, options: CallOptions) -> Flow[DeviceCode]:
    """Ask ``url`` (the device authorization endpoint) for a device code (RFC 8628 §3.1)."""
    require_https(url, "the device authorization endpoint")
    fields = [("client_id", _client_fields(client)[0][1])]
    if scopes:
        fields.append(("scope", " ".join(scopes)))
    what = "device authorization request"
    # A second request only yields another code: failures may be retried.
    _res, body = yield from exchange_flow(form_request(url, fields, options), options, what, idempotent=True)
    started: float = yield Now(monotonic=True)
    if not isinstance(body, dict):
        raise AuthError(f"{what}: the reply is not a JSON object")
    strings = {}
    for name in ("device_code", "user_code"):
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise AuthError(f"{what}: the reply has no {name}")
        strings[name] = value
    # RFC 8628 names it verification_uri; Google's reply says verification_url.
    verification = body.get("verification_uri") or body.get("verification_url")
    if not isinstance(verification, str):
        raise AuthError(f"{what}: the reply has no verification_uri")
    require_https(verification, f"{what}: verification_uri")
    complete = body.get("verification_uri_complete")
    if complete is not None and not isinstance(complete, str):
        complete = None
    if complete is not None:
        require_https(complete, f"{what}: verification_uri_complete")
    expires_in = json_count(body.get("expires_in"), MAX_EXPIRES_IN)
    if expires_in is None or expires_in == 0:
        raise AuthError(f"{what}: expires_in is not a number of seconds from 1 to {MAX_EXPIRES_IN}")
    raw_interval = body.get("interval")
    interval = DEFAULT_INTERVAL if raw_interval is None else json_count(raw_interval, MAX_INTERVAL)
    if interval is None:
        raise AuthError(f"{what}: interval is not a number of seconds from 0 to {MAX_INTERVAL}")
    return DeviceCode(
        user_code=strings["user_code"],
        verification_url=verification,
        expires_in=expires_in,
        interval=max(interval, 1),
        deadline=started + expires_in,
        device_code=strings["device_code"],
        verification_url_complete=complete,
        scopes=tuple(scopes),
    )


def device_token_flow(code: DeviceCode, client: Mapping[str, Any], endpoints: Endpoints, options: CallOptions, *, token_url: str | None = None) -> Flow[UserCreds]:
    """Poll the token endpoint until the user decides (RFC 8628 §3.4-3.5); return the
    :class:`UserCreds`. Denial, expiry and any other error raise :class:`AuthError`."""
    url = token_url or endpoints.token
    fields = [("grant_type", DEVICE_CODE_GRANT), ("device_code", code.device_code), *_client_fields(client)]
    interval = code.interval
    what = "device flow"
    while True:
        now: float = yield Now(monotonic=True)
        if now + interval > code.deadline:
            raise AuthError(f"{what}: the code {code.user_code} expired before the user approved it; start again")
        yield Sleep(interval)
        # One poll is never repeated by the retry policy: the next poll is the retry.
        response = yield from send_flow(
            form_request(url, fields, options), options.retry, authorize=False, idempotent=True, max_redirects=options.max_redirects, cross_origin=False
        )
        body, _data = decode_body(response.headers.get("content-type") or "application/json", response.body)
        if response.status < 400:
            if not isinstance(body, dict):
                raise AuthError(f"{what}: the token reply is not a JSON object")
            wall: float = yield Now()
            return user_creds_from_reply(body, wall, endpoints=endpoints, token_uri=url, requested_scopes=list(code.scopes) or None)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):  # Google's newer error shape
            error = error.get("status") or error.get("message")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval = min(interval + SLOW_DOWN_STEP, MAX_INTERVAL)
            continue
        if error == "access_denied":
            raise AuthError(f"{what}: the user denied access")
        if error == "expired_token":
            raise AuthError(f"{what}: the code {code.user_code} expired before the user approved it; start again")
        detail = body.get("error_description") if isinstance(body, dict) else None
        shown = f"{str(error)[:80]}" + (f": {str(detail)[:200]}" if isinstance(detail, str) else "") if error else "no error code"
        raise AuthError(f"{what}: the token endpoint answered HTTP {response.status} ({shown})")


def device_endpoint_for(endpoints: Endpoints) -> str:
    """The device authorization endpoint next to the token endpoint: Google's
    ``https://oauth2.googleapis.com/device/code`` beside ``.../token`` (and the same layout
    on a local server made with :meth:`Endpoints.at`)."""
    token = endpoints.token
    if token.endswith("/token"):
        return token[: -len("token")] + "device/code"
    return GOOGLE_DEVICE_ENDPOINT


async def device_login(
    client: Any,
    scopes: Sequence[str],
    show: Callable[[DeviceCode], Any],
    *,
    client_creds: Mapping[str, Any] | None = None,
    device_url: str | None = None,
) -> UserCreds:
    """Sign a user in with the device flow on ``client``'s session and return their
    :class:`UserCreds`: ask for a code, hand it to ``show`` (sync or async; print
    ``code.prompt()``), then poll until the user approves, denies or the code expires.
    ``client_creds`` default to the client's (a "TVs and Limited Input devices" OAuth
    client); ``device_url`` to the endpoint beside the client's token endpoint."""
    import inspect

    from .._driver import Driver

    creds = client_creds if client_creds is not None else client.client_creds
    if not creds:
        raise AuthError("device flow: no client_creds (pass them, or set Aiogoogle(client_creds=...))")
    endpoints = client._auth.endpoints
    url = device_url or device_endpoint_for(endpoints)
    async with client._temporary_session() as session:
        driver = Driver(session, clock=client._auth.clock)
        code = await driver.run(device_code_flow(creds, scopes, url, client.options))
        shown = show(code)
        if inspect.isawaitable(shown):
            await shown
        return await driver.run(device_token_flow(code, creds, endpoints, client.options))
