"""Service account keys as pure flows: the JWT-bearer grant (RFC 7523 §2.1; Google's
guide: https://developers.google.com/identity/protocols/oauth2/service-account) and
self-signed JWTs used directly as bearer tokens (https://google.aip.dev/auth/4111).

:class:`ServiceAccountKey` is the token source of a key file (``"type": "service_account"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._effects import Flow, Now
from .._send import CallOptions
from ..excs import AuthError
from ._jwt import sign_rs256
from ._oauth2 import require_strings
from ._tokens import access_token_reply, exchange_flow, form_request
from .creds import ServiceAccountCreds
from .endpoints import Endpoints
from .sources import AccessToken, TokenRequest, TokenSource

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Longest lifetime Google accepts for an assertion or self-signed JWT, in seconds
#: (https://developers.google.com/identity/protocols/oauth2/service-account#jwt-auth).
MAX_JWT_LIFETIME = 3600


def _scopes(value: Any) -> list[str]:
    if not value:
        return []
    return value.split() if isinstance(value, str) else [str(s) for s in value]


def jwt_bearer_assertion(creds: Mapping[str, Any], now: float, token_uri: str, *, scopes: Sequence[str] | None = None, subject: str | None = None) -> str:
    """The signed JWT-bearer assertion of a service account (RFC 7523 §3):
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
    (AIP-4111, https://google.aip.dev/auth/4111): ``iss`` = ``sub`` = client_email and **either** ``aud``
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


def jwt_bearer_flow(creds: Mapping[str, Any], endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    """A service account's access token through the JWT-bearer grant at the key's
    ``token_uri`` (RFC 7523 §2.1). No client authentication is sent."""
    token_uri = str(creds.get("token_uri") or endpoints.token)
    now: float = yield Now()
    assertion = jwt_bearer_assertion(creds, now, token_uri)
    fields = [("grant_type", JWT_BEARER), ("assertion", assertion)]
    _res, body = yield from exchange_flow(form_request(token_uri, fields, options), options, "service account token request", idempotent=True)
    return access_token_reply(body, now, "service account token request")


class ServiceAccountKey(TokenSource):
    """A service account key (``"type": "service_account"``): each token comes from the
    JWT-bearer grant at the key's ``token_uri``, for the scopes asked for (else the key's
    ``scopes``). With ``self_signed=True`` the token is a self-signed JWT instead, with no
    request at all (AIP-4111), unless the key acts for another user (``subject``; domain-wide
    delegation needs the grant). An audience gives a self-signed JWT for that audience."""

    kind = "service_account"

    def __init__(self, creds: Mapping[str, Any], *, self_signed: bool = False) -> None:
        self.creds = creds
        self.self_signed = self_signed

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str, endpoints: Endpoints) -> ServiceAccountKey:
        """The source for a key file's JSON object (``where`` names it in errors)."""
        require_strings(info, ("client_email", "private_key"), where)
        return cls(ServiceAccountCreds(**info))

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        creds = self.creds
        delegated = bool(creds.get("subject")) and creds.get("subject") != creds.get("client_email")
        if wanted.audience is not None or (self.self_signed and not delegated):
            now: float = yield Now()
            token = self_signed_jwt(creds, now, audience=wanted.audience, scopes=wanted.scopes)
            return AccessToken(token, now + MAX_JWT_LIFETIME)
        if wanted.scopes:
            merged = ServiceAccountCreds(**dict(creds))
            merged["scopes"] = list(wanted.scopes)
            creds = merged
        return (yield from jwt_bearer_flow(creds, endpoints, options))
