"""The auth protocols as pure flows, gathered under one name.

Each protocol has its own module: :mod:`._tokens` (times, token-endpoint requests and
replies), :mod:`._oauth2` (users: authorization URL, code exchange, refresh, revocation),
:mod:`._service_account` (keys: JWT-bearer grant, self-signed JWTs), :mod:`._adc`
(Application Default Credentials, impersonation, the metadata server, credential files)
and :mod:`._oidc` (id_token verification, discovery documents). Every function there is
synchronous and does no I/O: the flows yield effects (:mod:`aiogoogle._effects`) and the
driver performs them. The ways of getting a token share one interface,
:class:`aiogoogle.auth.sources.TokenSource`.
"""

from __future__ import annotations

from ._adc import (
    CLOUD_PLATFORM_SCOPE,
    FILE_TYPES,
    IMPERSONATION_LIFETIME,
    METADATA_DETECT_TIMEOUT,
    DefaultCreds,
    Impersonated,
    Impersonation,
    MetadataServer,
    default_creds_flow,
    gcloud_adc_path,
    gcloud_config_dir,
    impersonated_token_flow,
    metadata_token_flow,
    source_for_creds,
    source_from_info,
)
from ._impersonate import IMPERSONATED
from ._oauth2 import (
    AuthorizedUser,
    authorization_url,
    bearer_get_flow,
    code_exchange_flow,
    json_get_flow,
    refresh_flow,
    revoke_flow,
    tokeninfo_flow,
    user_creds_from_reply,
)
from ._oidc import (
    MIN_JWKS_REFETCH_INTERVAL,
    OPENID_ENDPOINT_FIELDS,
    JwksCache,
    cache_max_age,
    check_openid_configuration,
    jwks_flow,
    openid_configuration_flow,
    require_https,
    verify_id_token_flow,
)
from ._service_account import (
    JWT_BEARER,
    MAX_JWT_LIFETIME,
    ServiceAccountKey,
    jwt_bearer_assertion,
    jwt_bearer_flow,
    self_signed_jwt,
)
from ._tokens import (
    DEFAULT_REFRESH_MARGIN,
    MAX_EXPIRES_IN,
    exchange_flow,
    expires_at_ts,
    form_request,
    get_request,
    is_expired,
    rfc3339_ts,
    to_iso,
)
from .sources import AccessToken, TokenRequest, TokenSource

__all__ = [
    "CLOUD_PLATFORM_SCOPE",
    "DEFAULT_REFRESH_MARGIN",
    "FILE_TYPES",
    "IMPERSONATED",
    "IMPERSONATION_LIFETIME",
    "JWT_BEARER",
    "MAX_EXPIRES_IN",
    "MAX_JWT_LIFETIME",
    "METADATA_DETECT_TIMEOUT",
    "MIN_JWKS_REFETCH_INTERVAL",
    "OPENID_ENDPOINT_FIELDS",
    "AccessToken",
    "AuthorizedUser",
    "DefaultCreds",
    "Impersonated",
    "Impersonation",
    "JwksCache",
    "MetadataServer",
    "ServiceAccountKey",
    "TokenRequest",
    "TokenSource",
    "authorization_url",
    "bearer_get_flow",
    "cache_max_age",
    "check_openid_configuration",
    "code_exchange_flow",
    "default_creds_flow",
    "exchange_flow",
    "expires_at_ts",
    "form_request",
    "gcloud_adc_path",
    "gcloud_config_dir",
    "get_request",
    "impersonated_token_flow",
    "is_expired",
    "json_get_flow",
    "jwks_flow",
    "jwt_bearer_assertion",
    "jwt_bearer_flow",
    "metadata_token_flow",
    "openid_configuration_flow",
    "refresh_flow",
    "require_https",
    "revoke_flow",
    "rfc3339_ts",
    "self_signed_jwt",
    "source_for_creds",
    "source_from_info",
    "to_iso",
    "tokeninfo_flow",
    "user_creds_from_reply",
    "verify_id_token_flow",
]
