"""Application Default Credentials as pure flows, and the credential files they read
(https://cloud.google.com/docs/authentication/application-default-credentials).

:data:`FILE_TYPES` is the one table from a credentials file's ``"type"`` to its
:class:`~aiogoogle.auth.sources.TokenSource`; :func:`source_from_info` reads a file's JSON
object through it, for ADC here and for ``aiogoogle call --creds``. The sources defined
here are the ones only ADC finds: :class:`Impersonated` (an
``impersonated_service_account`` file) and :class:`MetadataServer`.

The environment is a plain mapping the caller obtained outside the core, and files are
read through ``FileOp("read")``: nothing here reads ``os.environ`` or the disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .._effects import FileOp, Flow, Now
from .._http import Timeout
from .._parse import loads
from .._send import CallOptions, send_flow
from ..excs import AuthError, RedirectError, TransportError
from ..retry import RetryPolicy
from ._external import ExternalAccountSource, ExternalAuthorizedUserSource
from ._impersonate import IMPERSONATED, ImpersonatedSource
from ._oauth2 import AuthorizedUser
from ._service_account import ServiceAccountKey
from ._sts import generate_access_token_flow, service_account_from_url
from ._tokens import (
    access_token_reply,
    exchange_flow,
    get_request,
)
from .endpoints import Endpoints
from .sources import AccessToken, TokenRequest, TokenSource

#: How long the metadata-server probe waits (google-auth: 3 s, ``GCE_METADATA_TIMEOUT``).
METADATA_DETECT_TIMEOUT = 3.0
#: The scope a service-account source needs to call the IAM Credentials API, and the
#: default scope of an impersonated token (google-auth's ``iam._IAM_SCOPE``).
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: Lifetime asked for an impersonated token: google-auth's default and the API's maximum
#: unless an organisation policy allows longer
#: (https://cloud.google.com/iam/docs/service-account-creds#short-lived-credentials).
IMPERSONATION_LIFETIME = 3600
#: The name of gcloud's ADC file in its configuration directory.
GCLOUD_ADC_FILE = "application_default_credentials.json"


# ---------------------------------------------------------------------------- sources


class MetadataServer(TokenSource):
    """The default service account of the machine, from the metadata server (GCE, GKE,
    Cloud Run, ...), for the scopes asked for (else the instance's)."""

    kind = "metadata"

    def __init__(self, root: str) -> None:
        self.root = root

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        self.refuse_audience(wanted)
        return (yield from metadata_token_flow(self.root, options, wanted.scopes))


def metadata_token_flow(root: str, options: CallOptions, scopes: Sequence[str] | None = None) -> Flow[AccessToken]:
    """The default service account's token from the metadata server (https://cloud.google.com/compute/docs/access/authenticate-workloads#applications);
    the request carries ``Metadata-Flavor: Google``, without which the server refuses it."""
    url = root + "instance/service-accounts/default/token"
    if scopes:
        url += "?" + urlencode({"scopes": ",".join(scopes)})
    now: float = yield Now()
    http = get_request(url, options, (("metadata-flavor", "Google"),))
    _res, body = yield from exchange_flow(http, options, "metadata server token request", idempotent=True)
    return access_token_reply(body, now, "metadata server token request")


# ---------------------------------------------------------------------------- impersonation


@dataclass(frozen=True)
class Impersonation:
    """An ``impersonated_service_account`` ADC file, as written by ``gcloud auth
    application-default login --impersonate-service-account``
    (https://cloud.google.com/docs/authentication/use-service-account-impersonation).

    ``source`` is the credential that asks for the token (``source_kind``
    ``"authorized_user"``: a refreshable :class:`UserCreds`; ``"service_account"``: a
    :class:`ServiceAccountCreds` key); ``url`` is the IAM Credentials
    ``...serviceAccounts/<target>:generateAccessToken`` endpoint; ``delegates`` the chain
    of service accounts between the two; ``scopes`` the file's own scopes, if any.
    The ``repr`` never shows the source credentials.
    """

    source_kind: str
    source: Any
    url: str
    target: str
    delegates: tuple[str, ...] = ()
    scopes: tuple[str, ...] | None = None
    #: The source credentials' token source (built from ``source_kind`` and ``source``
    #: when not given).
    via: TokenSource | None = field(default=None, compare=False)

    def source_tokens(self) -> TokenSource:
        """The token source that pays for the impersonation."""
        if self.via is not None:
            return self.via
        kind = SOURCE_TYPES.get(self.source_kind)
        if kind is None:
            raise AuthError(f"impersonation of {self.target}: source credentials of type {self.source_kind!r} are not supported")
        return kind(self.source)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Impersonation(target={self.target!r}, source_kind={self.source_kind!r}, delegates={list(self.delegates)!r})"


def _string_list(value: Any, name: str, where: str, *, split: bool = False) -> tuple[str, ...]:
    if split and isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AuthError(f"{where}: {name} must be a list of strings")
    return tuple(value)


def _impersonation(info: Mapping[str, Any], where: str, endpoints: Endpoints) -> Impersonation:
    source_info = info.get("source_credentials")
    if source_info is None:
        raise AuthError(f"{where} lacks source_credentials")
    if not isinstance(source_info, dict):
        raise AuthError(f"{where}: source_credentials is not a JSON object")
    source_kind = source_info.get("type")
    kind = SOURCE_TYPES.get(source_kind) if isinstance(source_kind, str) else None
    if kind is None:
        raise AuthError(f"{where}: source_credentials has type {source_kind!r}; supported: {', '.join(SOURCE_TYPES)}")
    via = kind.from_info(source_info, f"{where}: source_credentials ({source_kind})", endpoints)
    url = info.get("service_account_impersonation_url")
    if not url:
        raise AuthError(f"{where} lacks service_account_impersonation_url")
    if not isinstance(url, str):
        raise AuthError(f"{where}: service_account_impersonation_url must be a string")
    target = service_account_from_url(url, "service_account_impersonation_url", where)
    delegates = info.get("delegates")
    scopes = info.get("scopes")
    return Impersonation(
        source_kind=str(source_kind),
        source=via.creds,
        url=url,
        target=target,
        delegates=() if delegates is None else _string_list(delegates, "delegates", where),
        scopes=None if scopes is None else (_string_list(scopes, "scopes", where, split=True) or None),
        via=via,
    )


def _source_token(imp: Impersonation, endpoints: Endpoints, options: CallOptions) -> Flow[str]:
    """The source credentials' access token, with the cloud-platform scope (which IAM
    requires) where the source takes scopes. It is fetched each time: it lives as long as
    the impersonated token it pays for, so by the time that one needs replacing the source
    token would need it too."""
    token = yield from imp.source_tokens().token_flow(TokenRequest((CLOUD_PLATFORM_SCOPE,)), endpoints, options)
    return token.token


def impersonated_token_flow(imp: Impersonation, endpoints: Endpoints, options: CallOptions, scopes: Sequence[str] | None = None) -> Flow[AccessToken]:
    """An access token of the impersonated service account (the IAM Credentials API's
    ``generateAccessToken``: https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken).

    Gets the source credentials' token, then ``POST``s ``{"delegates", "scope",
    "lifetime": "3600s"}`` as JSON to ``imp.url`` with ``Authorization: Bearer <source
    token>`` and reads ``{"accessToken", "expireTime"}`` (RFC 3339). ``scope`` is
    ``scopes``, else the file's ``scopes``, else cloud-platform. A refusal (e.g. 403
    ``PERMISSION_DENIED`` when the source may not impersonate the target) raises
    :class:`AuthError` carrying Google's message; no token ever appears in a message.
    """
    source_token = yield from _source_token(imp, endpoints, options)
    quota = imp.source.get("quota_project_id")
    # google-auth applies the source credentials' headers, quota project included.
    return (
        yield from generate_access_token_flow(
            imp.url,
            source_token,
            options,
            target=imp.target,
            scopes=list(scopes or imp.scopes or (CLOUD_PLATFORM_SCOPE,)),
            delegates=imp.delegates,
            lifetime=IMPERSONATION_LIFETIME,
            quota_project=quota if isinstance(quota, str) and quota else None,
        )
    )


class Impersonated(TokenSource):
    """An ``impersonated_service_account`` file: each token comes from the IAM Credentials
    API, paid for by a token of the source credentials (:func:`impersonated_token_flow`)."""

    kind = IMPERSONATED

    def __init__(self, imp: Impersonation) -> None:
        self.creds = imp

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str, endpoints: Endpoints) -> Impersonated:
        """The source for an ``impersonated_service_account`` file's JSON object."""
        return cls(_impersonation(info, where, endpoints))

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Flow[AccessToken]:
        self.refuse_audience(wanted)
        return (yield from impersonated_token_flow(self.creds, endpoints, options, wanted.scopes))


#: Credentials file ``"type"`` -> its token source (see :mod:`aiogoogle.auth.sources` for
#: adding one). Google's formats:
#: https://google.aip.dev/auth/4112 (service_account), https://google.aip.dev/auth/4113
#: (authorized_user, external_account), impersonated_service_account (gcloud).
FILE_TYPES: dict[str, Any] = {
    ServiceAccountKey.kind: ServiceAccountKey,
    AuthorizedUser.kind: AuthorizedUser,
    Impersonated.kind: Impersonated,
    ExternalAccountSource.kind: ExternalAccountSource,
    ExternalAuthorizedUserSource.kind: ExternalAuthorizedUserSource,
}
#: The types an impersonated_service_account file's ``source_credentials`` may have.
SOURCE_TYPES: dict[str, Any] = {AuthorizedUser.kind: AuthorizedUser, ServiceAccountKey.kind: ServiceAccountKey}


def source_from_info(info: Any, origin: str, path: str, endpoints: Endpoints) -> TokenSource:
    """The token source for a credentials file's parsed JSON: :class:`AuthError` for
    anything that is not an object of a type in :data:`FILE_TYPES`, or lacks what that
    type needs. Messages name ``origin`` (how the file was found) and ``path``, never the
    file's content."""
    if not isinstance(info, dict):
        raise AuthError(f"{origin}: {path} is not a JSON object")
    kind = info.get("type")
    factory = FILE_TYPES.get(kind) if isinstance(kind, str) else None
    if factory is None:
        raise AuthError(f"{origin}: {path} has credentials of type {kind!r}; supported: {', '.join(FILE_TYPES)}")
    what = "the service account key in" if kind == ServiceAccountKey.kind else f"the {kind} file"
    return factory.from_info(info, f"{origin}: {what} {path}", endpoints)  # type: ignore[no-any-return]


def source_for_creds(creds: Mapping[str, Any] | None, *, self_signed: bool = False) -> TokenSource | None:
    """The token source of credentials given to the client (``service_account_creds``):
    a key when they hold a ``private_key`` (``self_signed``: tokens are self-signed JWTs),
    else the source of their ``type`` when it is a credentials file type other than a key
    (``authorized_user``, ``impersonated_service_account``, ``external_account``,
    ``external_account_authorized_user``: the same dict a file of that type holds, checked
    the same way), else ``None`` (only scopes: the client falls back to Application
    Default Credentials)."""
    if not creds:
        return None
    if creds.get("private_key"):
        return ServiceAccountKey(creds, self_signed=self_signed)
    kind = creds.get("type")
    if kind == AuthorizedUser.kind:
        return AuthorizedUser(creds)
    if kind == IMPERSONATED:
        return ImpersonatedSource(creds)
    if kind in (ExternalAccountSource.kind, ExternalAuthorizedUserSource.kind):
        factory = FILE_TYPES[kind]
        return factory.from_info(creds, f"service_account_creds of type {kind}")  # type: ignore[no-any-return]
    return None


# ---------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class DefaultCreds:
    """What :func:`default_creds_flow` found.

    ``kind`` is ``"service_account"`` (``creds`` is a :class:`ServiceAccountCreds`),
    ``"authorized_user"`` (``creds`` is a refreshable :class:`UserCreds`),
    ``"impersonated_service_account"`` (``creds`` is an :class:`Impersonation` holding the
    source credentials) or ``"metadata"`` (``metadata_root`` is the server's
    ``computeMetadata/v1/`` URL); :attr:`token_source` gets tokens from it. ``source``
    says where it came from; ``project_id`` and ``quota_project_id`` are filled from the
    file or the environment.
    """

    kind: str
    source: str
    creds: Any = None
    metadata_root: str | None = None
    project_id: str | None = None
    quota_project_id: str | None = None
    #: How to get tokens from what was found.
    token_source: TokenSource | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"DefaultCreds(kind={self.kind!r}, source={self.source!r}, project_id={self.project_id!r})"


def gcloud_config_dir(env: Mapping[str, str]) -> str | None:
    """gcloud's configuration directory: ``$CLOUDSDK_CONFIG``, else ``%APPDATA%\\gcloud`` on
    Windows (no ``HOME``), else ``$HOME/.config/gcloud`` (google-auth's ``_cloud_sdk.get_config_path``)."""
    if env.get("CLOUDSDK_CONFIG"):
        return env["CLOUDSDK_CONFIG"]
    if env.get("APPDATA") and not env.get("HOME"):
        return env["APPDATA"].rstrip("\\/") + "\\gcloud"
    if env.get("HOME"):
        return env["HOME"].rstrip("/") + "/.config/gcloud"
    return None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def gcloud_adc_path(env: Mapping[str, str]) -> str | None:
    """Where gcloud keeps Application Default Credentials (``application_default_credentials.json``
    in :func:`gcloud_config_dir`), ``None`` when no configuration directory is known."""
    config = gcloud_config_dir(env)
    if not config:
        return None
    sep = "\\" if "\\" in config and "/" not in config else "/"
    return config.rstrip("\\/") + sep + GCLOUD_ADC_FILE


def _from_file(data: bytes, path: str, source: str, endpoints: Endpoints, env: Mapping[str, str]) -> DefaultCreds:
    # The reason names the position, never the content (the file holds secrets).
    info = loads(data, lambda why: AuthError(f"{source}: {path} is not JSON ({why})"))
    found = source_from_info(info, source, path, endpoints)
    if isinstance(found, ExternalAccountSource) and found.environ is None:
        # Its subject token source reads the environment the file was found in.
        found.environ = env
    quota = env.get("GOOGLE_CLOUD_QUOTA_PROJECT") or info.get("quota_project_id")
    project = env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT") or info.get("project_id")
    creds: Any = getattr(found, "creds", None)
    return DefaultCreds(found.kind, f"{source} ({path})", creds, project_id=project, quota_project_id=quota, token_source=found)


def default_creds_flow(env: Mapping[str, str], endpoints: Endpoints, options: CallOptions, *, detect_timeout: float = METADATA_DETECT_TIMEOUT) -> Flow[DefaultCreds]:
    """Application Default Credentials, in Google's order (https://google.aip.dev/auth/4110):

    1. ``GOOGLE_APPLICATION_CREDENTIALS``: a ``service_account`` key, an ``authorized_user``
       file or an ``impersonated_service_account`` file (an unreadable file named there is
       an error, not a fall-through);
    2. gcloud's ``application_default_credentials.json`` (``CLOUDSDK_CONFIG`` honoured);
    3. the metadata server at ``GCE_METADATA_HOST`` (or ``endpoints.metadata_host``), probed
       once with ``Metadata-Flavor: Google`` and a short timeout, unless ``NO_GCE_CHECK``
       is true.

    ``env`` is a mapping handed in by the caller: the core never reads ``os.environ``
    itself (the client passes a snapshot taken in the adapter layer,
    :func:`aiogoogle.sessions.base.process_environ`). Nothing found raises
    :class:`AuthError` listing every place tried.
    """
    tried: list[str] = []
    explicit = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        try:
            data: bytes = yield FileOp("read", explicit)
        except OSError as exc:
            raise AuthError(f"GOOGLE_APPLICATION_CREDENTIALS names {explicit}, which cannot be read ({exc.strerror or type(exc).__name__})") from None
        return _from_file(data, explicit, "GOOGLE_APPLICATION_CREDENTIALS", endpoints, env)
    tried.append("GOOGLE_APPLICATION_CREDENTIALS (not set)")
    path = gcloud_adc_path(env)
    if path:
        try:
            data = yield FileOp("read", path)
        except OSError:
            tried.append(f"gcloud credentials {path} (not found)")
        else:
            return _from_file(data, path, "gcloud application default credentials", endpoints, env)
    else:
        tried.append("gcloud credentials (no CLOUDSDK_CONFIG or HOME)")
    if _truthy(env.get("NO_GCE_CHECK")):
        tried.append("metadata server (skipped: NO_GCE_CHECK)")
    else:
        host = env.get("GCE_METADATA_HOST") or env.get("GCE_METADATA_ROOT") or endpoints.metadata_host
        root = endpoints.metadata_root(host)
        probe = get_request(root, options, (("metadata-flavor", "Google"),), timeout=Timeout(connect=detect_timeout, read=detect_timeout))
        try:
            response = yield from send_flow(probe, RetryPolicy(max_attempts=1), authorize=False, max_redirects=0)
        except TransportError as exc:
            tried.append(f"metadata server {host} (no answer: {type(exc).__name__})")
        except RedirectError as exc:
            tried.append(f"metadata server {host} (HTTP {exc.status_code}, not a metadata server)")
        else:
            if response.status == 200 and response.headers.get("metadata-flavor", "").lower() == "google":
                project = env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCLOUD_PROJECT")
                return DefaultCreds(
                    "metadata",
                    f"metadata server {host}",
                    None,
                    metadata_root=root,
                    project_id=project,
                    quota_project_id=env.get("GOOGLE_CLOUD_QUOTA_PROJECT"),
                    token_source=MetadataServer(root),
                )
            tried.append(f"metadata server {host} (HTTP {response.status}, not a metadata server)")
    raise AuthError("no Application Default Credentials found; tried: " + "; ".join(tried))
