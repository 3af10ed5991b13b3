"""OAuth 2.0 for users as pure flows: the authorization URL, the code exchange, refresh,
revocation, userinfo and tokeninfo (RFC 6749; Google's guide:
https://developers.google.com/identity/protocols/oauth2/web-server).

:class:`AuthorizedUser` is the token source of refreshable user credentials (an
``authorized_user`` file written by ``gcloud auth application-default login``, or the
credentials ``aiogoogle auth login`` saved).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from .._effects import Flow, Now
from .._http import Headers
from .._parse import json_count
from .._send import CallOptions
from ..excs import AuthError
from ._tokens import (
    MAX_EXPIRES_IN,
    exchange_flow,
    expires_at_ts,
    form_request,
    get_request,
    json_object,
    to_iso,
)
from .creds import UserCreds
from .endpoints import Endpoints
from .sources import AccessToken, TokenRequest, TokenSource

# ---------------------------------------------------------------------------- authorization URL


def authorization_url(endpoint: str, params: Sequence[tuple[str, Any]]) -> str:
    """``endpoint`` with ``params`` (``None`` values dropped, booleans as ``true``/``false``)
    encoded as a query: every value percent-encoded, spaces as ``%20`` (aiogoogle 5 left
    ``redirect_uri`` raw and doubled ``&``)."""
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
    """:class:`UserCreds` from a token endpoint reply (RFC 6749 §5.1).

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
    # Google adds refresh_token_expires_in when the user granted time-based access
    # (https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code).
    refresh_lifetime = reply.get("refresh_token_expires_in")
    if refresh_lifetime is not None:
        refresh_seconds = json_count(refresh_lifetime, MAX_EXPIRES_IN)
        if refresh_seconds is None:
            raise AuthError(f"the token reply's refresh_token_expires_in is not a number of seconds from 0 to {MAX_EXPIRES_IN}")
        creds["refresh_token_expires_in"] = refresh_seconds
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
    """Exchange an authorization code for :class:`UserCreds` (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
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
    return user_creds_from_reply(json_object(body, "authorization code exchange"), now, endpoints=endpoints, requested_scopes=client.get("scopes"))


def refresh_flow(user_creds: Mapping[str, Any], client: Mapping[str, Any] | None, endpoints: Endpoints, options: CallOptions) -> Flow[UserCreds]:
    """Refresh user credentials with their refresh token (RFC 6749 §6).

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
    return user_creds_from_reply(json_object(body, "refresh"), now, previous=user_creds, token_uri=url, endpoints=endpoints)


def revoke_flow(token: str, endpoints: Endpoints, options: CallOptions, client: Mapping[str, Any] | None = None, url: str | None = None) -> Flow[None]:
    """Revoke an access or refresh token (RFC 7009 §2.1)."""
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
    return json_object(body, what)


def tokeninfo_flow(url: str, options: CallOptions, *, access_token: str | None = None, id_token: str | None = None) -> Flow[dict[str, Any]]:
    """Google's tokeninfo (``POST`` form, so the token stays out of URLs and server logs)."""
    if access_token:
        fields = [("access_token", access_token)]
    elif id_token:
        fields = [("id_token", id_token)]
    else:
        raise AuthError("token info: the credentials have no token")
    _res, body = yield from exchange_flow(form_request(url, fields, options), options, "token info", idempotent=True)
    return json_object(body, "token info")


def json_get_flow(url: str, options: CallOptions, what: str) -> Flow[tuple[dict[str, Any], Headers]]:
    """``GET url`` without credentials (openid-configuration, JWKS)."""
    res, body = yield from exchange_flow(get_request(url, options), options, what, idempotent=True)
    return json_object(body, what), res.headers


class AuthorizedUser(TokenSource):
    """User credentials with a refresh token (``"type": "authorized_user"``): each token is
    a refresh at the credentials' ``token_uri`` (RFC 6749 §6). The refreshed fields are
    written back into :attr:`user_creds` (the same dict), so the caller's object stays
    current. The scopes are the ones the user granted; an audience is refused."""

    kind = "authorized_user"

    def __init__(self, creds: Mapping[str, Any], client: Mapping[str, Any] | None = None) -> None:
        self.creds = creds
        self.user_creds = creds
        self.client = client

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str, endpoints: Endpoints) -> AuthorizedUser:
        """The source for an ``authorized_user`` file's JSON object (``where`` names it in errors)."""
        require_strings(info, ("client_id", "client_secret", "refresh_token"), where)
        fields = {k: v for k, v in info.items() if k != "type"}
        creds = UserCreds(**fields, type="authorized_user")
        creds["token_uri"] = info.get("token_uri") or endpoints.token
        return cls(creds)

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        self.refuse_audience(wanted)
        creds = self.user_creds
        assert creds is not None
        fresh = yield from refresh_flow(creds, self.client, endpoints, options)
        if isinstance(creds, dict):
            creds.update(fresh)
        return AccessToken(str(fresh["access_token"]), expires_at_ts(fresh))


def require_strings(info: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    """Raise :class:`AuthError` naming ``where`` unless every key of ``keys`` is a non-empty string in ``info``."""
    missing = [k for k in keys if not info.get(k)]
    if missing:
        raise AuthError(f"{where} lacks {', '.join(missing)}")
    wrong = [k for k in keys if not isinstance(info[k], str)]
    if wrong:
        raise AuthError(f"{where}: {', '.join(wrong)} must be a string")
