"""Service account impersonation as credentials of their own
(https://cloud.google.com/iam/docs/service-account-impersonation): the source credentials
(a service account key or a user) pay for a short-lived token of the *target* service
account, asked of the IAM Credentials API with an optional chain of ``delegates``
(https://cloud.google.com/iam/docs/create-short-lived-credentials-delegated), the
``scopes`` wanted and a ``lifetime`` (an hour at most, up to 12 hours where an
organisation policy allows it).

:class:`ImpersonatedCreds` is a plain credentials dict in the format gcloud writes
(``"type": "impersonated_service_account"``), built from named arguments; a dict of that
format read from anywhere works the same. :class:`ImpersonatedSource` is its token
source; ID tokens of the target come from ``generateIdToken``
(:func:`aiogoogle.auth._idtoken.id_token_flow`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .._call import CallOptions
from .._effects import Flow
from .._parse import json_count
from ..excs import AuthError
from ._sts import generate_access_token_flow
from .creds import _Creds
from .endpoints import Endpoints
from .sources import AccessToken, TokenRequest, TokenSource

__all__ = ["IAM_CREDENTIALS", "ImpersonatedCreds", "ImpersonatedSource"]

IMPERSONATED = "impersonated_service_account"
#: The IAM Credentials API.
IAM_CREDENTIALS = "https://iamcredentials.googleapis.com/"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: generateAccessToken's lifetime: at most an hour, or 12 hours where the organisation
#: policy constraints/iam.allowServiceAccountCredentialLifetimeExtension allows it.
MAX_LIFETIME = 43200
DEFAULT_LIFETIME = 3600


class ImpersonatedCreds(_Creds):
    """Credentials that impersonate ``target_principal`` (a service account email) with
    ``source_credentials`` (a service account key or ``authorized_user`` dict), through
    ``delegates`` (service account emails, in order), for ``scopes`` (default
    cloud-platform) and ``lifetime`` seconds. Pass it as ``service_account_creds``; its
    ``repr`` hides the source's secrets."""

    __slots__ = ()

    def __init__(
        self,
        source_credentials: Mapping[str, Any] | None = None,
        target_principal: str | None = None,
        *,
        delegates: Sequence[str] = (),
        scopes: Sequence[str] | None = None,
        lifetime: int = DEFAULT_LIFETIME,
        iam_url: str = IAM_CREDENTIALS,
        **fields: Any,
    ) -> None:
        super().__init__(**fields)
        self["type"] = IMPERSONATED
        if source_credentials is not None:
            self["source_credentials"] = dict(source_credentials)
        if target_principal is not None:
            base = iam_url if iam_url.endswith("/") else iam_url + "/"
            self["service_account_impersonation_url"] = f"{base}v1/projects/-/serviceAccounts/{quote(target_principal, safe='@.')}:generateAccessToken"
        self["delegates"] = list(delegates)
        if scopes is not None:
            self["scopes"] = list(scopes)
        self["lifetime"] = lifetime


def _lifetime(value: Any, where: str) -> int:
    if isinstance(value, str) and value.endswith("s"):
        value = value[:-1]
    seconds = json_count(value, MAX_LIFETIME) if not isinstance(value, float) or value.is_integer() else None
    if seconds is None or seconds < 1:
        raise AuthError(f"{where}: lifetime must be a whole number of seconds from 1 to {MAX_LIFETIME}")
    return seconds


class ImpersonatedSource(TokenSource):
    """Tokens of the impersonated service account: the source's cloud-platform token
    (which IAM requires) pays for ``generateAccessToken`` with the delegates, the scopes
    asked (else the credentials', else cloud-platform) and the lifetime."""

    kind = IMPERSONATED

    def __init__(self, info: Mapping[str, Any], where: str = "service_account_creds", endpoints: Endpoints | None = None) -> None:
        from ._adc import _impersonation

        self.imp = _impersonation(info, where, endpoints or Endpoints())
        self.lifetime = _lifetime(info.get("lifetime", DEFAULT_LIFETIME), where)
        quota = info.get("quota_project_id") or self.imp.source.get("quota_project_id")
        self.quota_project = quota if isinstance(quota, str) and quota else None

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str, endpoints: Endpoints) -> ImpersonatedSource:
        """The source for an impersonated-credentials dict (gcloud's file format, plus ``lifetime``)."""
        return cls(info, where, endpoints)

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        self.refuse_audience(wanted)
        paying = yield from self.imp.source_tokens().token_flow(TokenRequest((CLOUD_PLATFORM_SCOPE,)), endpoints, options)
        scopes = list(wanted.scopes or self.imp.scopes or (CLOUD_PLATFORM_SCOPE,))
        return (
            yield from generate_access_token_flow(
                self.imp.url, paying.token, options, target=self.imp.target, scopes=scopes, delegates=self.imp.delegates,
                lifetime=self.lifetime, quota_project=self.quota_project,
            )
        )

    def __repr__(self) -> str:
        return f"<ImpersonatedSource target={self.imp.target!r} delegates={list(self.imp.delegates)!r} lifetime={self.lifetime}>"
