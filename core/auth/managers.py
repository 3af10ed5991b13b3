"""The auth managers (seed ``aiogoogle.auth.managers``): thin async wrappers over the pure
flows of :mod:`aiogoogle.auth._flows`.

A manager runs each flow through the framework-neutral :class:`~aiogoogle._driver.Driver`:
on its client's session when it belongs to an :class:`~aiogoogle.Aiogoogle` (``aiogoogle.oauth2``
and friends, so token calls reuse the client's connections, retry policy and endpoints),
or on a session of its own (``session_factory``) when created standalone; ``async with
manager:`` keeps one session open for several calls.

Every endpoint is injectable (``endpoints=``, an :class:`~aiogoogle.auth.endpoints.Endpoints`),
so the managers work with Google, with any OpenID Connect provider and with local servers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .._call import CallOptions
from .._driver import Driver
from .._effects import Flow
from .._providers import RandomBytes
from .._providers import wall_clock as _wall_clock
from .._transport import Session
from ..excs import AuthError
from ..models import Request
from ..resource import GoogleAPI
from . import _flows as flows
from .creds import ApiKey, IdToken, UserCreds
from .data import OAUTH2_V2_DISCVOCERY_DOC, WELLKNOWN_OPENID_CONFIGS
from .endpoints import Endpoints
from .utils import create_secret, pkce_challenge, pkce_pair

__all__ = ["ApiKeyManager", "Oauth2Manager", "OpenIdConnectManager", "ServiceAccountManager"]

T = TypeVar("T")

# aiogoogle 5.x's constants, with 5.x's values (the endpoints themselves are in
# aiogoogle.auth.endpoints, which every flow reads and tests can redirect).
#: https://accounts.google.com/.well-known/openid-configuration (OpenID Connect Discovery 1.0 §4)
OPENID_CONFIGS_DISCOVERY_DOC_URL = "https://accounts.google.com/.well-known/openid-configuration"
OAUTH2_DISCOVERY_DOCUMENT_URL = "https://www.googleapis.com/discovery/v1/apis/oauth2/v2/rest"
AUTH_CODE_RESPONSE_TYPE = "code"  # RFC 6749 §4.1.1
HYBRID_RESPONSE_TYPE = "code id_token"  # OpenID Connect Core 1.0 §3.3
AUTH_CODE_GRANT_TYPE = "authorization_code"  # RFC 6749 §4.1.3
REFRESH_GRANT_TYPE = "refresh_token"  # RFC 6749 §6
JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"  # RFC 7523 §2.1
URLENCODED_CONTENT_TYPE = "application/x-www-form-urlencoded"
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
DEFAULT_ISS = ("https://accounts.google.com", "accounts.google.com")
GOOGLE_OAUTH2_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
TOKEN_INFO_URI = "https://www.googleapis.com/oauth2/v4/tokeninfo"
GCE_METADATA_SERVER_URI = "http://metadata.google.internal/computeMetadata/v1/instance/"
GCE_DEFAULT_SERVICE_ACCOUNT_URL = "service-accounts/default/token"
GCE_METADATA_FLAVOR_HEADER = "metadata-flavor"
GCE_METADATA_FLAVOR_VALUE = "Google"
GCE_METADATA_HEADERS = {GCE_METADATA_FLAVOR_HEADER: GCE_METADATA_FLAVOR_VALUE}
#: The name of the environment variable that overrides the metadata server's address
#: (google-auth's ``google.auth.environment_vars.GCE_METADATA_IP``).
GCE_METADATA_IP = "GCE_METADATA_IP"
#: The metadata server's default root. 5.x read the variable above when imported; here
#: the credential sources read the environment when they run (this module reads none).
GCE_METADATA_IP_ROOT = "http://169.254.169.254"
GCE_METADATA_DEFAULT_TIMEOUT = 3


def __getattr__(name: str) -> Any:
    # 5.x exposed its default session class here; it is imported when asked for, as the
    # pure core imports no I/O framework (aiohttp is optional).
    if name == "AiohttpSession":
        from aiogoogle.sessions.aiohttp_session import AiohttpSession

        return AiohttpSession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def wall_clock() -> float:
    """The current UNIX time (the managers' default clock; inject another for tests)."""
    return _wall_clock()


def _default_session_factory() -> Session:
    from aiogoogle.sessions.aiohttp_session import AiohttpSession

    return AiohttpSession()


class _Manager:
    """Runs flows on the owning client's session, or on the manager's own."""

    def __init__(
        self,
        session_factory: Callable[[], Session] | None = None,
        *,
        endpoints: Endpoints | None = None,
        client: Any = None,
        clock: Callable[[], float] | None = None,
        random_bytes: RandomBytes | None = None,
    ) -> None:
        self.session_factory = session_factory or _default_session_factory
        self._client = client
        self._endpoints = endpoints or Endpoints()
        self._session: Session | None = None
        self._openid_config: Mapping[str, Any] | None = None
        self.clock: Callable[[], float] = clock or wall_clock
        self._random_bytes = random_bytes

    @property
    def endpoints(self) -> Endpoints:
        """The provider's URLs (shared with the client when the manager belongs to one)."""
        if self._client is not None:
            return self._client._auth.endpoints  # type: ignore[no-any-return]
        return self._endpoints

    @endpoints.setter
    def endpoints(self, value: Endpoints) -> None:
        if self._client is not None:
            self._client._auth.endpoints = value
        else:
            self._endpoints = value

    @property
    def options(self) -> CallOptions:
        if self._client is not None:
            return self._client.options  # type: ignore[no-any-return]
        if self._random_bytes is not None:
            return CallOptions(random_bytes=self._random_bytes)
        return CallOptions()

    @property
    def random_bytes(self) -> RandomBytes:
        """The source of the generated ``state``, ``nonce`` and PKCE verifier: the manager's
        ``random_bytes=`` when given, else its call options' (the client's
        ``CallOptions.random_bytes``; by default the operating system's CSPRNG)."""
        if self._random_bytes is not None:
            return self._random_bytes
        return self.options.random_bytes

    async def _run(self, flow: Flow[T]) -> T:
        if self._client is not None:
            async with self._client._temporary_session() as session:
                return await Driver(session, clock=self.clock).run(flow)
        if self._session is not None:
            return await Driver(self._session, clock=self.clock).run(flow)
        session = self.session_factory()
        try:
            return await Driver(session, clock=self.clock).run(flow)
        finally:
            await session.close()

    async def __aenter__(self) -> Any:
        if self._client is None and self._session is None:
            self._session = self.session_factory()
        return self

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def discover_endpoints(self, issuer: str | None = None, **overrides: Any) -> Endpoints:
        """Load ``{issuer}/.well-known/openid-configuration`` (default: the current
        endpoints' issuer and configuration URL) and use the endpoints it lists from now on;
        returns them.

        Raises :class:`~aiogoogle.excs.AuthError` when the document's ``issuer`` is not the
        issuer it was fetched for (OpenID Connect Discovery 1.0 §4.3; a trailing ``/`` is not
        told apart), or when the configuration URL or any endpoint it lists
        (``authorization_endpoint``, ``token_endpoint``, ``userinfo_endpoint``,
        ``revocation_endpoint``, ``jwks_uri``) is not ``https`` - plain ``http`` is accepted
        only to 127.0.0.1, ::1 and localhost. ``overrides`` are taken as given."""
        if issuer:
            url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        else:
            url, issuer = self.endpoints.openid_configuration, self.endpoints.issuer
        config = await self._run(flows.openid_configuration_flow(url, issuer, self.options))
        endpoints = Endpoints.from_openid_configuration(config, **overrides)
        self.endpoints = endpoints
        self._openid_config = config
        return endpoints


def _with_header(request: Request, name: str, value: str) -> Request:
    """``request`` with the header set, in a new headers dict (a dict the caller passed in
    and may share with other requests is left as it was)."""
    request.headers = dict(request.headers or {})
    request.headers[name] = value
    return request


def _client_creds(given: Mapping[str, Any] | None, default: Mapping[str, Any] | None) -> Mapping[str, Any]:
    creds = given if given is not None else default
    if not creds:
        raise AuthError("no client_creds: pass them to the manager, to Aiogoogle(client_creds=...) or to this call")
    return creds


class Oauth2Manager(_Manager):
    """OAuth2 authorization-code flow for users (docs/protocol.md §6.2), with PKCE (RFC 7636).

    Args:
        session_factory: the session class used when the manager is standalone.
        client_creds: default :class:`~aiogoogle.auth.creds.ClientCreds`.

    Keyword-only (beyond the seed): ``endpoints`` (an
    :class:`~aiogoogle.auth.endpoints.Endpoints`, default Google's), ``clock`` and
    ``random_bytes`` (``random_bytes(n) -> bytes``, the source of generated ``state``,
    ``nonce`` and PKCE verifiers; fix it to make authorization URLs reproducible).

    PKCE: pass ``code_verifier=`` (e.g. from :func:`aiogoogle.auth.utils.pkce_pair`) to
    :meth:`authorization_url` and the same verifier to :meth:`build_user_creds`, or pass
    ``pkce=True`` and a verifier is generated and stored as ``client_creds["code_verifier"]``,
    where :meth:`build_user_creds` finds it.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session] | None = None,
        client_creds: Mapping[str, Any] | None = None,
        *,
        endpoints: Endpoints | None = None,
        client: Any = None,
        clock: Callable[[], float] | None = None,
        random_bytes: RandomBytes | None = None,
    ) -> None:
        super().__init__(session_factory, endpoints=endpoints, client=client, clock=clock, random_bytes=random_bytes)
        self._client_creds = client_creds

    @property
    def client_creds(self) -> Mapping[str, Any] | None:
        if self._client_creds is None and self._client is not None:
            return self._client.client_creds  # type: ignore[no-any-return]
        return self._client_creds

    @client_creds.setter
    def client_creds(self, value: Mapping[str, Any] | None) -> None:
        self._client_creds = value

    def __getitem__(self, key: str) -> Any:
        """An openid-configuration value (``scopes_supported``, ``claims_supported``, ...):
        the provider's when :meth:`discover_endpoints` has run, otherwise Google's."""
        config = self._openid_config if self._openid_config is not None else WELLKNOWN_OPENID_CONFIGS
        return config[key]

    @property
    def oauth2_api(self) -> GoogleAPI:
        """Google's OAuth2 v2 API (``tokeninfo``, ``userinfo``), as in 5.x."""
        api = self.__dict__.get("_oauth2_api")
        if api is None:
            api = self.__dict__["_oauth2_api"] = GoogleAPI(OAUTH2_V2_DISCVOCERY_DOC)
        return api

    @property
    def openid_configs(self) -> Mapping[str, Any]:
        """The OpenID configuration in use (5.x's attribute; see :meth:`__getitem__`)."""
        return self._openid_config if self._openid_config is not None else WELLKNOWN_OPENID_CONFIGS

    # ------------------------------------------------------------------ step 1

    def _auth_params(
        self,
        client_creds: Mapping[str, Any] | None,
        state: str | None,
        response_type: str,
        scopes: Sequence[str] | None,
        code_verifier: str | None,
        pkce: bool,
        redirect_uri: str | None,
    ) -> tuple[Mapping[str, Any], list[tuple[str, Any]]]:
        creds = _client_creds(client_creds, self.client_creds)
        if not creds.get("client_id"):
            raise AuthError("client_creds have no client_id")
        redirect = redirect_uri or creds.get("redirect_uri")
        if not redirect:
            raise AuthError("client_creds have no redirect_uri")
        scope_list = list(scopes if scopes is not None else (creds.get("scopes") or []))
        if state is None:
            # Documented: a generated state is stored in the client creds for the callback check.
            state = create_secret(32, random_bytes=self.random_bytes)
            if isinstance(creds, dict):
                creds["state"] = state
        if pkce and code_verifier is None:
            code_verifier, _challenge = pkce_pair(random_bytes=self.random_bytes)
            if isinstance(creds, dict):
                creds["code_verifier"] = code_verifier
        params: list[tuple[str, Any]] = [
            ("client_id", creds["client_id"]),
            ("redirect_uri", redirect),
            ("response_type", response_type),
            ("scope", " ".join(scope_list) or None),
            ("state", state),
        ]
        if code_verifier:
            params += [("code_challenge", pkce_challenge(code_verifier)), ("code_challenge_method", "S256")]
        return creds, params

    def authorization_url(
        self,
        client_creds: Mapping[str, Any] | None = None,
        state: str | None = None,
        access_type: str | None = None,
        include_granted_scopes: bool | None = None,
        login_hint: str | None = None,
        prompt: str | None = None,
        response_type: str = "code",
        scopes: Sequence[str] | None = None,
        *,
        code_verifier: str | None = None,
        pkce: bool = False,
        redirect_uri: str | None = None,
        hd: str | None = None,
    ) -> str:
        """First step of the authorization-code flow: the URL to send the user to.

        Every value is percent-encoded. Without ``state`` a random one is generated and
        stored as ``client_creds["state"]`` (check it when the user comes back). With
        ``code_verifier`` (or ``pkce=True``) the S256 ``code_challenge`` is added.
        """
        _creds, params = self._auth_params(client_creds, state, response_type, scopes, code_verifier, pkce, redirect_uri)
        params += [
            ("access_type", access_type),
            ("include_granted_scopes", include_granted_scopes),
            ("login_hint", login_hint),
            ("prompt", prompt),
            ("hd", hd),
        ]
        return flows.authorization_url(self.endpoints.authorization, params)

    # ------------------------------------------------------------------ step 2

    async def build_user_creds(
        self,
        grant: str,
        client_creds: Mapping[str, Any] | None = None,
        grant_type: str = "authorization_code",
        *,
        code_verifier: str | None = None,
        redirect_uri: str | None = None,
    ) -> UserCreds:
        """Exchange the authorization code (``grant``) for :class:`UserCreds`. Pass the
        PKCE ``code_verifier`` used for the authorization URL (default:
        ``client_creds["code_verifier"]`` when ``pkce=True`` generated it)."""
        creds = _client_creds(client_creds, self.client_creds)
        verifier = code_verifier or creds.get("code_verifier")
        return await self._run(
            flows.code_exchange_flow(grant, creds, self.endpoints, self.options, grant_type=grant_type, redirect_uri=redirect_uri, code_verifier=verifier)
        )

    async def refresh(self, user_creds: Mapping[str, Any], client_creds: Mapping[str, Any] | None = None) -> UserCreds:
        """New :class:`UserCreds` with a fresh access token (the refresh token is kept when
        the server sends none). A revoked or expired refresh token raises
        :class:`~aiogoogle.excs.AuthError` saying so (``invalid_grant``)."""
        client = client_creds if client_creds is not None else self.client_creds
        return await self._run(flows.refresh_flow(user_creds, client, self.endpoints, self.options))

    async def revoke(self, user_creds: Mapping[str, Any]) -> None:
        """Revoke the credentials' refresh token (or, without one, the access token)."""
        token = user_creds.get("refresh_token") or user_creds.get("access_token")
        url = user_creds.get("revoke_uri") or None
        client = self.client_creds
        await self._run(flows.revoke_flow(str(token or ""), self.endpoints, self.options, client, url))

    async def get_token_info(self, user_creds: Mapping[str, Any]) -> dict[str, Any]:
        """Google's tokeninfo for the access token."""
        url = str(user_creds.get("token_info_uri") or self.endpoints.tokeninfo)
        return await self._run(flows.tokeninfo_flow(url, self.options, access_token=user_creds.get("access_token")))

    async def get_me_info(self, user_creds: Mapping[str, Any]) -> dict[str, Any]:
        """The user's profile (``oauth2/v2/userinfo``) for the access token."""
        return await self._run(flows.bearer_get_flow(self.endpoints.me_info, str(user_creds.get("access_token") or ""), self.options, "user info"))

    # ------------------------------------------------------------------ checks

    @staticmethod
    def is_expired(creds: Mapping[str, Any], now: float | None = None, margin: float = 0.0) -> bool:
        """Whether the access token has expired (``expires_at`` is past, or within
        ``margin`` seconds). Credentials without ``expires_at`` count as not expired."""
        return flows.is_expired(creds, wall_clock() if now is None else now, margin)

    def is_ready(self, client_creds: Mapping[str, Any] | None = None) -> bool:
        """Whether the client credentials hold what the authorization-code flow needs:
        ``client_id``, ``client_secret``, ``scopes`` (a list or tuple) and ``redirect_uri``,
        each non-empty, as in 5.x. (A public client using PKCE without a secret can run
        the flow all the same; this answers 5.x's question.)"""
        creds = client_creds if client_creds is not None else self.client_creds
        return bool(
            creds
            and creds.get("client_id")
            and creds.get("client_secret")
            and creds.get("scopes")
            and isinstance(creds.get("scopes"), (list, tuple))
            and creds.get("redirect_uri")
        )

    @staticmethod
    def authorized_for_method(method: Any, user_creds: Mapping[str, Any]) -> bool:
        """Whether ``user_creds`` hold one of the scopes the discovery method accepts
        (``api.resource.method``, not a built request). Validity is not checked."""
        specs = getattr(method, "_method_specs", method)
        try:
            wanted = specs.get("scopes") if isinstance(specs, Mapping) else method["scopes"]
        except (KeyError, TypeError):
            wanted = None
        if not wanted:
            return True
        have = set(user_creds.get("scopes") or [])
        return any(scope in have for scope in wanted)

    @staticmethod
    def authorize(request: Request, user_creds: Mapping[str, Any]) -> Request:
        """``request`` with ``Authorization: Bearer <access_token>``."""
        token = user_creds.get("access_token")
        if not token:
            raise AuthError("the user credentials have no access_token")
        return _with_header(request, "Authorization", f"Bearer {token}")


class OpenIdConnectManager(Oauth2Manager):
    """OpenID Connect on top of OAuth2: the ``nonce``, verified id_tokens and userinfo
    (docs/protocol.md §6.4).

    ``clock_skew`` (seconds, default 10) is the tolerance of the ``exp``/``iat``/``nbf``
    checks. The provider's JWKS is cached per its ``Cache-Control`` and re-fetched once when
    a token names an unknown key id, at most once a minute (``jwks_cache.min_refetch_interval``,
    by the manager's clock); within that minute such a token is rejected without a request.
    """

    def __init__(self, *args: Any, clock_skew: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock_skew = clock_skew
        self.jwks_cache = flows.JwksCache()

    def authorization_url(  # type: ignore[override]
        self,
        client_creds: Mapping[str, Any] | None = None,
        nonce: str | None = None,
        state: str | None = None,
        prompt: str | None = None,
        display: str | None = None,
        login_hint: str | None = None,
        access_type: str | None = None,
        include_granted_scopes: bool | None = None,
        openid_realm: str | None = None,
        hd: str | None = None,
        response_type: str = "code",
        scopes: Sequence[str] | None = None,
        *,
        code_verifier: str | None = None,
        pkce: bool = False,
        redirect_uri: str | None = None,
    ) -> str:
        """The authorization URL with the OpenID Connect parameters. Without ``nonce`` one
        is generated and stored as ``client_creds["nonce"]`` (pass it to
        :meth:`build_user_creds`)."""
        creds, params = self._auth_params(client_creds, state, response_type, scopes, code_verifier, pkce, redirect_uri)
        if nonce is None:
            nonce = create_secret(32, random_bytes=self.random_bytes)
            if isinstance(creds, dict):
                creds["nonce"] = nonce
        params += [
            ("nonce", nonce),
            ("prompt", prompt),
            ("display", display),
            ("login_hint", login_hint),
            ("access_type", access_type),
            ("include_granted_scopes", include_granted_scopes),
            ("openid.realm", openid_realm),
            ("hd", hd),
        ]
        return flows.authorization_url(self.endpoints.authorization, params)

    async def build_user_creds(
        self,
        grant: str,
        client_creds: Mapping[str, Any] | None = None,
        grant_type: str = "authorization_code",
        nonce: str | None = None,
        hd: str | None = None,
        verify: bool = True,
        *,
        code_verifier: str | None = None,
        redirect_uri: str | None = None,
    ) -> UserCreds:
        """Exchange the code and decode the id_token into ``creds.id_token``, verifying it
        (signature, ``iss``, ``aud``, ``azp``, ``exp``/``iat``, ``nonce``, ``hd``) unless
        ``verify=False``."""
        creds = _client_creds(client_creds, self.client_creds)
        user_creds = await super().build_user_creds(grant, creds, grant_type, code_verifier=code_verifier, redirect_uri=redirect_uri)
        token = user_creds.get("id_token_jwt")
        if token:
            expected_nonce = nonce if nonce is not None else creds.get("nonce")
            if verify:
                claims = await self.decode_and_validate(token, creds.get("client_id"), expected_nonce, hd)
            else:
                from ._jwt import unverified_claims

                claims = IdToken(unverified_claims(token))
            user_creds["id_token"] = claims
        elif verify:
            raise AuthError("the token reply has no id_token (was the 'openid' scope requested?)")
        return user_creds

    async def decode_and_validate(self, id_token_jwt: str, client_id: str | None = None, nonce: str | None = None, hd: str | None = None) -> IdToken:
        """Verify an id_token against the provider's JWKS and return its claims.

        ``client_id`` is checked against ``aud`` (a string or a list) and ``azp``; without
        it the client creds' ``client_id`` is used. Each failure raises
        :class:`~aiogoogle.excs.AuthError` naming the check, e.g. ``(aud)`` or ``(nonce)``.
        """
        if client_id is None and self.client_creds:
            client_id = self.client_creds.get("client_id")
        if not client_id:
            raise AuthError("id_token rejected (aud): no client_id to check the audience against")
        claims = await self._run(
            flows.verify_id_token_flow(
                id_token_jwt, self.jwks_cache, self.endpoints, self.options, client_ids=[client_id], nonce=nonce, hd=hd, skew=self.clock_skew
            )
        )
        return IdToken(claims)

    async def get_user_info(self, user_creds: Mapping[str, Any]) -> dict[str, Any]:
        """The OpenID Connect userinfo (``sub``, ``email``, ``name``, ...)."""
        return await self._run(flows.bearer_get_flow(self.endpoints.userinfo, str(user_creds.get("access_token") or ""), self.options, "userinfo"))

    async def get_token_info_jwt(self, user_creds: Mapping[str, Any]) -> dict[str, Any]:
        """Google's tokeninfo for the id_token (instead of the access token)."""
        url = str(user_creds.get("token_info_uri") or self.endpoints.tokeninfo)
        return await self._run(flows.tokeninfo_flow(url, self.options, id_token=user_creds.get("id_token_jwt")))


class ServiceAccountManager(_Manager):
    """Service accounts (docs/protocol.md §6.5-6.7): a key (JWT-bearer grant at the key's
    ``token_uri``, or a self-signed JWT when ``self_signed_jwt`` is true), gcloud's
    ``authorized_user`` credentials, an ``impersonated_service_account`` ADC file (the IAM
    Credentials API's ``generateAccessToken`` with the source credentials' token), or the
    metadata server.

    ``environ`` is the environment that :meth:`detect_default_creds_source` reads: a
    mapping, or a callable returning one. By default it is a snapshot of the process
    environment taken by the adapter layer (:func:`aiogoogle.sessions.base.process_environ`):
    the core itself never reads ``os.environ``.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session] | None = None,
        creds: Mapping[str, Any] | None = None,
        *,
        endpoints: Endpoints | None = None,
        client: Any = None,
        clock: Callable[[], float] | None = None,
        environ: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        self_signed_jwt: bool = False,
        refresh_margin: float = flows.DEFAULT_REFRESH_MARGIN,
    ) -> None:
        super().__init__(session_factory, endpoints=endpoints, client=client, clock=clock)
        self._creds = creds
        self.environ = environ
        self.self_signed_jwt = self_signed_jwt
        self.refresh_margin = refresh_margin
        #: What :meth:`detect_default_creds_source` found (``None`` before it ran).
        self.default_creds: flows.DefaultCreds | None = None
        self._token: flows.AccessToken | None = None

    @property
    def creds(self) -> Mapping[str, Any] | None:
        if self._creds is None and self._client is not None:
            return self._client.service_account_creds  # type: ignore[no-any-return]
        return self._creds

    @creds.setter
    def creds(self, value: Mapping[str, Any] | None) -> None:
        if self._client is not None and self._creds is None:
            self._client.service_account_creds = value
        else:
            self._creds = value

    @property
    def access_token(self) -> str | None:
        """The current access token (after :meth:`refresh`)."""
        return self._token.token if self._token is not None else None

    def environment(self) -> Mapping[str, str]:
        """The environment mapping ADC detection reads (see the class docstring)."""
        env = self.environ
        if env is None:
            from aiogoogle.sessions.base import process_environ

            return process_environ()
        return env() if callable(env) else env

    async def detect_default_creds_source(self) -> None:
        """Find Application Default Credentials (docs/protocol.md §6.7):
        ``GOOGLE_APPLICATION_CREDENTIALS`` (service account key, ``authorized_user`` or
        ``impersonated_service_account`` file), then gcloud's ``application_default_credentials.json``, then the metadata
        server. A service account key found this way is merged into the current
        credentials (``scopes``, ``subject`` and ``additional_claims`` already set are kept).
        Raises :class:`~aiogoogle.excs.AuthError` listing what was tried when nothing is found.
        """
        found = await self._run(flows.default_creds_flow(self.environment(), self.endpoints, self.options))
        self.default_creds = found
        self._token = None
        if found.kind == "service_account":
            current = self.creds
            if isinstance(current, dict):
                for key, value in found.creds.items():
                    if value is not None and (current.get(key) is None or key not in ("scopes", "subject", "additional_claims")):
                        current[key] = value
            else:
                self.creds = found.creds
        if self._client is not None:
            self._client._auth.forget_service_account_tokens()

    async def refresh(self) -> bool:
        """Make sure there is an unexpired access token for :attr:`creds` (or the detected
        default credentials); returns whether a new one was fetched."""
        now = self.clock()
        if self._token is not None and (self._token.expires_at is None or now + self.refresh_margin < self._token.expires_at):
            return False
        self._token = await self._run(self.token_flow(self.creds))
        return True

    def token_flow(self, creds: Mapping[str, Any] | None) -> Flow[flows.AccessToken]:
        """The flow that obtains an access token for ``creds`` (a key, an
        ``authorized_user`` dict, or nothing: the detected default, which may be an
        impersonated service account)."""
        return _sa_token_flow(self, creds)

    def authorize(self, request: Request, access_token: str | None = None) -> Request:
        """``request`` with ``Authorization: Bearer`` (the given token or the current one)."""
        token = access_token or self.access_token
        if not token:
            raise AuthError("no service account access token: call refresh() first")
        return _with_header(request, "Authorization", f"Bearer {token}")


def _sa_token_flow(manager: ServiceAccountManager, creds: Mapping[str, Any] | None) -> Flow[flows.AccessToken]:
    scopes = tuple(creds.get("scopes") or ()) if creds else ()
    source = flows.source_for_creds(creds, self_signed=manager.self_signed_jwt)
    if source is None:
        found = manager.default_creds
        if found is None or found.token_source is None:
            raise AuthError(
                "no service account credentials: pass service_account_creds with a private_key, "
                "or call service_account_manager.detect_default_creds_source()"
            )
        # The scopes of the credentials in use (as_service_account's) are asked of the
        # detected source.
        source = found.token_source
    return (yield from source.token_flow(flows.TokenRequest(scopes or None), manager.endpoints, manager.options))


class ApiKeyManager:
    """API keys (docs/protocol.md §6.8): as the ``key`` query parameter (default, properly
    encoded) or, with ``header=True``, as the ``X-Goog-Api-Key`` header (keeps the key out
    of URLs and server logs)."""

    def __init__(self, api_key: str | None = None, *, header: bool = False) -> None:
        self.key = ApiKey(api_key) if api_key is not None else None
        self.header = header

    def authorize(self, request: Request, key: str | None = None) -> Request:
        """``request`` carrying the API key."""
        key = key or self.key
        if not key:
            raise AuthError("no API key")
        if self.header:
            return _with_header(request, "X-Goog-Api-Key", str(key))
        from urllib.parse import quote

        url = request.url or ""
        request.url = f"{url}{'&' if '?' in url else '?'}key={quote(str(key), safe='')}"
        return request


