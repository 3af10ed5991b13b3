"""ID tokens for an audience (service-to-service authentication), as pure flows.

A private Cloud Run service, a Cloud Function or an IAP-protected app accepts a
Google-signed OpenID Connect ID token whose ``aud`` is that service
(https://cloud.google.com/run/docs/authenticating/service-to-service,
https://cloud.google.com/docs/authentication/get-id-token). Where it comes from depends
on the credentials:

* a service account key: a JWT-bearer assertion carrying ``target_audience`` instead of
  ``scope``, exchanged at the key's token URI for ``{"id_token"}``
  (https://developers.google.com/identity/protocols/oauth2/service-account, RFC 7523);
* the metadata server: ``.../service-accounts/default/identity?audience=...&format=full``
  (https://cloud.google.com/compute/docs/instances/verifying-instance-identity);
* impersonation: IAM Credentials ``generateIdToken`` (see :mod:`._sts`);
* an ``authorized_user``: the id_token Google returns with a refresh of a grant that
  included ``openid``; its audience is the OAuth client, nothing else.

Every token is checked before use: a JWT whose ``aud`` is the audience asked for and
whose ``exp`` lies ahead (its signature is the receiver's to check; a token for another
audience or an expired one would only be refused there, after a request).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from .._call import CallOptions
from .._effects import Flow, Now
from ..excs import AuthError
from ._jwt import sign_rs256
from ._service_account import JWT_BEARER, MAX_JWT_LIFETIME
from ._tokens import exchange_flow, form_request, get_request
from .endpoints import Endpoints
from .sources import AccessToken, TokenRequest, TokenSource

__all__ = ["ID_TOKEN_FLOWS", "check_id_token", "id_token_flow", "metadata_id_token_flow", "service_account_id_token_flow"]


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else f"a JSON {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def check_id_token(token: Any, audience: str, now: float, what: str) -> AccessToken:
    """``token`` as an :class:`AccessToken` expiring at its ``exp``, after checking that it
    is a JWT for ``audience`` (``aud``, a string or a list holding it) that has not expired.
    Nothing about the token itself appears in a message."""
    from ._external import jwt_expiry
    from ._jwt import unverified_claims

    if not isinstance(token, str) or token.count(".") != 2:
        raise AuthError(f"{what}: the answer is not a JWT")
    try:
        claims = unverified_claims(token)
    except AuthError:
        raise AuthError(f"{what}: the answer is not a readable JWT") from None
    aud = claims.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise AuthError(f"{what}: the token's audience is {_shown(aud)}, not {_shown(audience)}")
    expiry = jwt_expiry(token)
    if expiry is None:
        raise AuthError(f"{what}: the token has no numeric exp")
    if expiry <= now:
        raise AuthError(f"{what}: the token has already expired")
    return AccessToken(token, expiry)


def service_account_id_token_flow(creds: Mapping[str, Any], audience: str, token_uri: str, options: CallOptions) -> Flow[AccessToken]:
    """An ID token for ``audience`` from a service account key: the assertion is
    ``iss`` = ``sub`` = client_email, ``aud`` = the token URI, ``target_audience`` =
    ``audience``, at most an hour long; the reply is ``{"id_token": ...}``."""
    email, key = creds.get("client_email"), creds.get("private_key")
    if not isinstance(email, str) or not email or not isinstance(key, str) or not key:
        raise AuthError("the service account credentials need client_email and private_key")
    now: float = yield Now()
    iat = int(now)
    claims = {"iss": email, "sub": email, "aud": token_uri, "iat": iat, "exp": iat + MAX_JWT_LIFETIME, "target_audience": audience}
    kid = creds.get("private_key_id")
    assertion = sign_rs256(claims, key, kid if isinstance(kid, str) else None)
    what = f"ID token request for service account {email}"
    _res, body = yield from exchange_flow(form_request(token_uri, [("grant_type", JWT_BEARER), ("assertion", assertion)], options), options, what, idempotent=True)
    token = body.get("id_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the reply has no id_token")
    return check_id_token(token, audience, now, what)


def metadata_id_token_flow(root: str, audience: str, options: CallOptions) -> Flow[AccessToken]:
    """An ID token of the metadata server's default service account for ``audience``
    (``format=full`` adds the instance's identity claims on Compute Engine)."""
    url = root + "instance/service-accounts/default/identity?" + urlencode({"audience": audience, "format": "full"})
    now: float = yield Now()
    what = "metadata server ID token request"
    res, _body = yield from exchange_flow(get_request(url, options, (("metadata-flavor", "Google"),)), options, what, idempotent=True)
    try:
        token = res.body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise AuthError(f"{what}: the answer is not a JWT") from None
    return check_id_token(token, audience, now, what)


def authorized_user_id_token(reply_creds: Mapping[str, Any], audience: str, now: float) -> AccessToken:
    """The id_token of refreshed user credentials, which Google issues to the OAuth
    client (``aud`` = client_id): usable only when that is the audience asked for."""
    client_id = reply_creds.get("client_id")
    what = "ID token of authorized_user credentials"
    if audience != client_id:
        raise AuthError(
            f"{what}: a user's ID token is issued to its OAuth client ({_shown(client_id)}), not to {_shown(audience)}; "
            "use a service account (a key, the metadata server or impersonation) for other audiences"
        )
    token = reply_creds.get("id_token_jwt")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{what}: the refresh returned no id_token (the grant must include the openid scope)")
    return check_id_token(token, audience, now, what)


# ---------------------------------------------------------------------------- per source


def _key_id_token(source: Any, audience: str, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    creds = source.creds
    return (yield from service_account_id_token_flow(creds, audience, str(creds.get("token_uri") or endpoints.token), options))


def _metadata_id_token(source: Any, audience: str, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    return (yield from metadata_id_token_flow(source.root, audience, options))


def _impersonated_id_token(source: Any, audience: str, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    from ._adc import CLOUD_PLATFORM_SCOPE
    from ._sts import generate_id_token_flow

    imp = source.imp if hasattr(source, "imp") else source.creds
    paying = yield from imp.source_tokens().token_flow(TokenRequest((CLOUD_PLATFORM_SCOPE,)), endpoints, options)
    url = imp.url[: -len(":generateAccessToken")] + ":generateIdToken"
    token = yield from generate_id_token_flow(url, paying.token, options, target=imp.target, audience=audience, delegates=imp.delegates)
    now: float = yield Now()
    return check_id_token(token, audience, now, f"ID token of service account {imp.target}")


def _user_id_token(source: Any, audience: str, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    from ._oauth2 import refresh_flow

    creds = source.user_creds
    if creds.get("client_id") != audience:
        # Refused before the refresh: no request can produce a token for another audience.
        authorized_user_id_token(creds, audience, 0.0)
    fresh = yield from refresh_flow(creds, source.client, endpoints, options)
    if isinstance(creds, dict):
        creds.update(fresh)
    now: float = yield Now()
    return authorized_user_id_token(fresh, audience, now)


def _external_id_token(source: Any, audience: str, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    from ._external import environ_flow

    env = yield from environ_flow(source.environ)
    token = yield from source.account.id_token_flow(audience, env, options, source.runner)
    now: float = yield Now()
    return check_id_token(token, audience, now, f"ID token of service account {source.account.impersonation_target}")


def _table() -> dict[type, IdTokenFlow]:
    from ._adc import Impersonated, MetadataServer
    from ._external import ExternalAccountSource
    from ._impersonate import ImpersonatedSource
    from ._oauth2 import AuthorizedUser
    from ._service_account import ServiceAccountKey

    return {
        ServiceAccountKey: _key_id_token,
        MetadataServer: _metadata_id_token,
        Impersonated: _impersonated_id_token,
        ImpersonatedSource: _impersonated_id_token,
        AuthorizedUser: _user_id_token,
        ExternalAccountSource: _external_id_token,
    }


IdTokenFlow = Callable[[Any, str, Endpoints, CallOptions], Flow[AccessToken]]
#: Token source class -> how it mints an ID token for an audience (filled on first use;
#: a new kind of source that can mint ID tokens adds one entry).
ID_TOKEN_FLOWS: dict[type, IdTokenFlow] = {}


def id_token_flow(source: TokenSource, audience: str, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
    """An ID token for ``audience`` from ``source`` (an :class:`AccessToken` expiring with
    the token's ``exp``), or :class:`AuthError` for credentials that cannot have one."""
    if not isinstance(audience, str) or not audience:
        raise AuthError("an ID token needs an audience: the URL (or client id) of the service that receives it")
    if not ID_TOKEN_FLOWS:
        ID_TOKEN_FLOWS.update(_table())
    for cls in type(source).__mro__:
        make = ID_TOKEN_FLOWS.get(cls)
        if make is not None:
            return (yield from make(source, audience, endpoints, options))
    raise AuthError(f"{source.kind} credentials cannot issue ID tokens; use a service account key, the metadata server or impersonation")
