"""OpenID Connect as pure flows: id_token verification against the provider's cached
signing keys (OpenID Connect Core 1.0 §3.1.3.7) and discovery documents (OpenID Connect
Discovery 1.0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from .._effects import Flow, Now
from .._parse import ascii_int
from .._send import CallOptions
from ..excs import AuthError
from ._jwt import UnknownKeyError, jwks_keys, validate_id_token
from ._oauth2 import json_get_flow
from ._tokens import LOOPBACK_HOSTS
from .endpoints import Endpoints

#: Seconds that must pass after a JWKS fetch before a token naming an unknown key id makes
#: another one. OpenID Connect Core 1.0 §10.1.1 has verifiers re-fetch the JWKS when they
#: see an unfamiliar ``kid`` (keys rotate); without a bound every forged ``kid`` would cost
#: a request to the provider (jose's createRemoteJWKSet has the same guard, 30 s there).
MIN_JWKS_REFETCH_INTERVAL = 60.0


class JwksCache:
    """The provider's signing keys, kept until the JWKS reply's ``Cache-Control: max-age``
    runs out (keys rotate: OpenID Connect Core 1.0 §10.1.1). Without ``max-age`` they are kept for
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
    if scheme != "https" and host not in LOOPBACK_HOSTS:
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
