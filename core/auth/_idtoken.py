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

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from .._call import CallOptions
from .._effects import Flow, Now
from ..excs import AuthError
from ._flows import (
    JWT_BEARER,
    MAX_JWT_LIFETIME,
    AccessToken,
    exchange_flow,
    form_request,
    get_request,
)
from ._jwt import sign_rs256

__all__ = ["check_id_token", "metadata_id_token_flow", "service_account_id_token_flow"]


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
