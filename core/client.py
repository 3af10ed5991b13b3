"""The ``Aiogoogle`` client: discovery, sending requests as a user, a service account, with
an API key or anonymously, concurrency, pagination.

It is async but framework-neutral: it awaits only the session (adapter) it was given, so
the same client runs on asyncio (``AiohttpSession``, the default), curio
(``CurioSession``, or ``CurioAsksSession`` on asks) and trio (``TrioSession``, also
importable as ``TrioAsksSession``).

Sessions
--------
The client owns one session (one connection pool), created on first use and closed by
``close()`` or when the outermost ``async with`` block ends. Every request, page, token
refresh and discovery call goes through it. Pages iterated after the client was closed
(as in aiogoogle's own examples) use a temporary session that is closed when the
iteration ends.

Concurrency
-----------
``as_user(r1, r2, r3)`` sends the requests concurrently and returns their results in the
order given. By default the first failure cancels the rest and is raised (as our own
exception type, on every framework). With ``return_exceptions=True`` every request runs
to the end and failures take their place in the result list. ``timeout`` is a total for
all of them: when it expires everything still running is cancelled and
:class:`~aiogoogle.excs.RequestTimeout` is raised; nothing is ever returned partially.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Literal, TypeVar, overload

from ._call import CallOptions, call_flow
from ._driver import Authorizer, Driver
from ._http import DEFAULT_MAX_RESPONSE_SIZE, Timeout
from ._providers import RandomBytes, system_random_bytes
from ._transport import Session
from .auth.creds import ApiKey
from .auth.managers import ApiKeyManager, Oauth2Manager, OpenIdConnectManager, ServiceAccountManager
from .data import DISCOVERY_SERVICE_V1_DISCOVERY_DOC
from .discovery import DiscoveryCache, DiscoveryEndpoints, discovery_flow, list_api_flow
from .excs import AiogoogleError, DiscoveryError, HTTPError, ValidationError
from .models import Request, Response
from .pagination import items_of, pages_flow
from .resource import GoogleAPI
from .retry import DEFAULT_RETRY, RetryPolicy

__all__ = ["Aiogoogle"]

# Typed calls (generated stubs, ``aiogoogle stubs``): what one request gives back, and the
# typed API class ``discover(..., typed=...)`` returns.
_T = TypeVar("_T")
_A = TypeVar("_A")

# aiogoogle 5.x's names in this module: the Discovery v2 URL form it used for
# ``disco_doc_ver=2`` (https://developers.google.com/discovery/v2/reference), and, imported
# above, the Discovery Service's own document and the manager classes.
GOOGLE_DISCOVERY_SERVICE_URL_FMT_V2 = "https://{api}.googleapis.com/$discovery/rest?version={api_version}"
_V5_REEXPORTS = (DISCOVERY_SERVICE_V1_DISCOVERY_DOC, HTTPError, ApiKeyManager, Oauth2Manager, OpenIdConnectManager, ServiceAccountManager)


def __getattr__(name: str) -> Any:
    # 5.x's default session class, imported when asked for (aiohttp is optional).
    if name == "AiohttpSession":
        from aiogoogle.sessions.aiohttp_session import AiohttpSession

        return AiohttpSession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _size_limit(value: Any, name: str = "max_response_size") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError([(name, "must be a positive number of bytes or None (no limit)", value)])
    return value


def _default_session_factory() -> Session:
    from aiogoogle.sessions.aiohttp_session import AiohttpSession

    return AiohttpSession()


def default_cache_dir() -> str:
    """``$AIOGOOGLE_CACHE_DIR``, else ``$XDG_CACHE_HOME/aiogoogle/discovery``, else
    ``~/.cache/aiogoogle/discovery``. The environment and the home folder are read at the
    edge, by the adapter layer (:func:`aiogoogle.sessions.base.default_cache_dir`)."""
    from aiogoogle.sessions.base import default_cache_dir as from_environment

    return from_environment()


def _typed_api_class(typed: Any) -> type[GoogleAPI]:
    """``discover(typed=...)``: the class to build the API with (GoogleAPI by default)."""
    if typed is None:
        return GoogleAPI
    if not (isinstance(typed, type) and issubclass(typed, GoogleAPI)):
        raise ValidationError([("typed", "must be the API class of generated stubs (a GoogleAPI subclass such as DriveV3)", typed)])
    return typed


def _check_typed(cls: type[GoogleAPI], document: Any) -> None:
    """A typed API class describes one API version: refuse it for another document (its
    types would be another API's)."""
    wanted = getattr(cls, "__discovery_id__", None)
    if not isinstance(wanted, str):
        return
    got = f"{document.get('name')}:{document.get('version')}" if isinstance(document, dict) else "?"
    if got != wanted:
        raise DiscoveryError(f"typed={cls.__name__} describes {wanted}, but the discovery document fetched is {got}")


class Aiogoogle:
    """The client.

    Args:
        session_factory: a callable returning a session (adapter); default
            :class:`~aiogoogle.sessions.aiohttp_session.AiohttpSession`.
        api_key, user_creds, client_creds, service_account_creds: default credentials
            (each ``as_*`` call can override them).

    Keyword-only (beyond the seed):
        retry: the default :class:`~aiogoogle.RetryPolicy` (``False`` disables retries).
        timeout: default connect/read :class:`~aiogoogle.Timeout` of every exchange.
        discovery_endpoints: where ``discover``/``list_api`` look (e.g.
            ``DiscoveryEndpoints.at(local_server.url)``).
        discovery_cache: ``True`` (default) caches documents in :func:`default_cache_dir`,
            a path caches them there, ``False``/``None`` disables the cache.
        on_refresh: called (sync or async) with the new credentials each time the client
            refreshes user or service-account credentials (aiogoogle issue #149).
        refresh_margin: seconds before expiry at which credentials are refreshed (225).
        auth_endpoints: where OAuth2, OpenID Connect and metadata-server requests go
            (see :class:`aiogoogle.auth.Endpoints`).
        max_response_size: the largest response body the client holds in memory, in bytes
            after decoding (default 256 MiB, :data:`aiogoogle.DEFAULT_MAX_RESPONSE_SIZE`;
            ``None``: no limit): JSON replies, error bodies, token, JWKS, discovery and
            batch replies. A larger one raises :class:`~aiogoogle.excs.ResponseTooLarge`
            as soon as it passes the limit. ``request.max_response_size`` overrides it for
            one call; media downloads to a file or ``pipe_to`` stream and are not limited.
        max_redirects: how many redirects (301, 302, 303, 307) one exchange follows; one
            more, or a loop, raises :class:`~aiogoogle.excs.RedirectError` listing the chain
            (``0``: none is followed).
        random_bytes: ``n -> n random bytes``, the one source of the randomness requests
            carry (multipart and batch boundaries, batch Content-IDs, OAuth ``state``,
            ``nonce`` and PKCE verifiers); default :func:`secrets.token_bytes`. Fixed, the
            same calls give byte-identical requests.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session] | None = None,
        api_key: str | None = None,
        user_creds: Any = None,
        client_creds: Any = None,
        service_account_creds: Any = None,
        *,
        retry: RetryPolicy | bool = True,
        timeout: Timeout | None = None,
        discovery_endpoints: DiscoveryEndpoints | None = None,
        discovery_cache: bool | str | None = True,
        on_refresh: Callable[[Any], Any] | None = None,
        refresh_margin: float | None = None,
        auth_endpoints: Any = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        max_redirects: int = 10,
        random_bytes: RandomBytes | None = None,
    ) -> None:
        from .auth._authorize import ClientAuth

        self.session_factory = session_factory or _default_session_factory
        self.api_key = api_key
        self.user_creds = user_creds
        self.client_creds = client_creds
        self.service_account_creds = service_account_creds
        if retry is True:
            policy = DEFAULT_RETRY
        elif retry is False:
            policy = RetryPolicy(max_attempts=1)
        elif isinstance(retry, RetryPolicy):
            policy = retry
        else:
            raise ValidationError([("retry", "must be a RetryPolicy, True or False", retry)])
        if isinstance(max_redirects, bool) or not isinstance(max_redirects, int) or max_redirects < 0:
            raise ValidationError([("max_redirects", "must be a whole number of redirects (0 or more)", max_redirects)])
        self._options = CallOptions(
            retry=policy,
            timeout=timeout or Timeout(),
            max_response_size=_size_limit(max_response_size),
            max_redirects=max_redirects,
            random_bytes=random_bytes or system_random_bytes,
        )
        self.discovery_endpoints = discovery_endpoints or DiscoveryEndpoints()
        if discovery_cache is True:
            self._cache: DiscoveryCache | None = DiscoveryCache(default_cache_dir())
        elif isinstance(discovery_cache, str):
            self._cache = DiscoveryCache(discovery_cache)
        else:
            self._cache = None
        self.on_refresh = on_refresh
        self._session: Session | None = None
        self._entered = 0
        self._auth = ClientAuth(self, refresh_margin=refresh_margin, endpoints=auth_endpoints)
        # The authorizers of as_user()/as_service_account() without per-call credentials
        # (they read the client's credentials when a request is sent) and of as_api_key()
        # for the last key, made once instead of for every call; and the pager of the last
        # authorizer used. See _authorizer.
        self._authorizers: dict[str, tuple[Any, Any, Authorizer]] = {}
        self._last_pager: tuple[Authorizer | None, Callable[..., AsyncIterator[Any]]] | None = None
        self.oauth2 = self._auth.oauth2
        self.openid_connect = self._auth.openid_connect
        self.service_account_manager = self._auth.service_account_manager
        self.api_key_manager = self._auth.api_key_manager

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Aiogoogle:
        await self._ensure_session()
        self._entered += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._entered = max(0, self._entered - 1)
        if self._entered == 0:
            await self.close()

    async def close(self) -> None:
        """Close the session and its connections. The client can be used again later."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _ensure_session(self) -> Session:
        if self._session is None:
            self._session = self.session_factory()
        return self._session

    @asynccontextmanager
    async def _temporary_session(self) -> AsyncIterator[Session]:
        if self._session is not None:
            yield self._session
            return
        session = self.session_factory()
        try:
            yield session
        finally:
            await session.close()

    @property
    def options(self) -> CallOptions:
        return self._options

    def _driver_for(self, session: Session, authorize: Authorizer | None = None, request: Request | None = None) -> Driver:
        """A driver for one call on ``session``: the client's response-size limit, or
        ``request``'s own."""
        limit = self._options.max_response_size
        if request is not None and request.max_response_size is not None:
            limit = _size_limit(request.max_response_size, "request.max_response_size")
        return Driver(session, authorize, max_response_size=limit)

    # ------------------------------------------------------------------ discovery

    async def list_api(self, name: str | None = None, preferred: bool | None = None, fields: str | None = None) -> Any:
        """``discovery.apis.list``: APIs (and versions) known to the Discovery Service."""
        session = await self._ensure_session()
        return await self._driver_for(session).run(list_api_flow(name, preferred, fields, self.discovery_endpoints, self._options))

    @overload
    async def discover(
        self,
        api_name: str,
        api_version: str | None = None,
        validate: bool = True,
        *,
        disco_doc_ver: int | None = None,
        root_url: str | None = None,
        typed: None = None,
    ) -> GoogleAPI: ...

    @overload
    async def discover(
        self,
        api_name: str,
        api_version: str | None = None,
        validate: bool = True,
        *,
        disco_doc_ver: int | None = None,
        root_url: str | None = None,
        typed: type[_A],
    ) -> _A: ...

    async def discover(
        self,
        api_name: str,
        api_version: str | None = None,
        validate: bool = True,
        *,
        disco_doc_ver: int | None = None,
        root_url: str | None = None,
        typed: type[Any] | None = None,
    ) -> Any:
        """Fetch a discovery document and return the :class:`~aiogoogle.resource.GoogleAPI`.

        Without ``api_version`` the preferred version is looked up first (two requests).
        ``disco_doc_ver=2`` asks Discovery v2 only (APIs Discovery v1 does not list, as
        in 5.x); by default v1 is asked and v2 on a 404.
        ``root_url`` re-roots every URL of the API (an emulator, a private endpoint).

        ``typed``: the API class of generated stubs (``aiogoogle stubs``, or the
        ``aiogoogle_apis`` package), e.g. ``typed=DriveV3``: the API is returned as that
        class (a :class:`GoogleAPI` subclass), so type checkers know its resources,
        methods, parameters and response types. It must describe the document fetched
        (its ``__discovery_id__``, e.g. ``drive:v3``), else :class:`DiscoveryError`.
        """
        cls = _typed_api_class(typed)
        session = await self._ensure_session()
        document = await self._driver_for(session).run(
            discovery_flow(api_name, api_version, self.discovery_endpoints, self._options, self._cache, disco_doc_ver)
        )
        if cls is not GoogleAPI:
            _check_typed(cls, document)
        return cls(document, validate, root_url=root_url)

    # ------------------------------------------------------------------ sending

    @overload
    async def as_user(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[False] = False,
        user_creds: Any = None,
        raise_for_status: Literal[True] = True,
        return_exceptions: Literal[False] = False,
    ) -> _T: ...

    @overload
    async def as_user(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[True],
        user_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: Literal[False] = False,
    ) -> Response[_T]: ...

    @overload
    async def as_user(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        user_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any: ...

    async def as_user(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        user_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any:
        """Send requests on behalf of a user (OAuth2 ``user_creds``), refreshing the access
        token when it is about to expire (once for all concurrent requests) and once more
        after a 401.

        Typed (every ``as_*`` method): one ``Request[T]`` gives a ``T`` (a generated stub's
        response type, e.g. ``FileList``), ``Response[T]`` with ``full_res=True`` (its pages
        are ``T``s); several requests, ``raise_for_status=False`` or
        ``return_exceptions=True`` give ``Any``."""
        return await self._send(requests, self._authorizer("user", user_creds), timeout, full_res, raise_for_status, return_exceptions)

    @overload
    async def as_service_account(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[False] = False,
        service_account_creds: Any = None,
        raise_for_status: Literal[True] = True,
        return_exceptions: Literal[False] = False,
    ) -> _T: ...

    @overload
    async def as_service_account(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[True],
        service_account_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: Literal[False] = False,
    ) -> Response[_T]: ...

    @overload
    async def as_service_account(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        service_account_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any: ...

    async def as_service_account(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        service_account_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any:
        """Send requests as a service account (a key, Application Default Credentials or the
        metadata server)."""
        return await self._send(
            requests, self._authorizer("service_account", service_account_creds), timeout, full_res, raise_for_status, return_exceptions
        )

    async def id_token(self, audience: str, *, service_account_creds: Any = None) -> str:
        """An ID token (a Google-signed JWT) for ``audience``, the receiving service's URL
        or client id, from the service account credentials in use (a key, an impersonated
        service account, an ``external_account`` file with impersonation, the metadata
        server, or an ``authorized_user`` file for its own client id). Kept per audience
        and replaced shortly before it expires, once for all concurrent callers."""
        info = await self._auth.id_token(audience, service_account_creds)(None)
        assert info.token is not None
        return info.token

    @overload
    async def as_id_token(
        self,
        audience: str,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[False] = False,
        service_account_creds: Any = None,
        raise_for_status: Literal[True] = True,
        return_exceptions: Literal[False] = False,
    ) -> _T: ...

    @overload
    async def as_id_token(
        self,
        audience: str,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[True],
        service_account_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: Literal[False] = False,
    ) -> Response[_T]: ...

    @overload
    async def as_id_token(
        self,
        audience: str,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        service_account_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any: ...

    async def as_id_token(
        self,
        audience: str,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        service_account_creds: Any = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any:
        """Send requests to a service that checks ID tokens (a private Cloud Run service, a
        Cloud Function, an IAP-protected app: any URL, ``Request("GET", url)``) with
        ``Authorization: Bearer <ID token for audience>`` (see :meth:`id_token`)."""
        authorize = self._auth.id_token(audience, service_account_creds)
        return await self._send(requests, authorize, timeout, full_res, raise_for_status, return_exceptions)

    @overload
    async def as_api_key(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[False] = False,
        api_key: str | None = None,
        raise_for_status: Literal[True] = True,
        return_exceptions: Literal[False] = False,
    ) -> _T: ...

    @overload
    async def as_api_key(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[True],
        api_key: str | None = None,
        raise_for_status: bool = True,
        return_exceptions: Literal[False] = False,
    ) -> Response[_T]: ...

    @overload
    async def as_api_key(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        api_key: str | None = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any: ...

    async def as_api_key(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        api_key: str | None = None,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any:
        """Send requests with an API key."""
        return await self._send(requests, self._authorizer("api_key", api_key), timeout, full_res, raise_for_status, return_exceptions)

    @overload
    async def as_anon(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[False] = False,
        raise_for_status: Literal[True] = True,
        return_exceptions: Literal[False] = False,
    ) -> _T: ...

    @overload
    async def as_anon(
        self,
        request: Request[_T],
        /,
        *,
        timeout: float | None = None,
        full_res: Literal[True],
        raise_for_status: bool = True,
        return_exceptions: Literal[False] = False,
    ) -> Response[_T]: ...

    @overload
    async def as_anon(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any: ...

    async def as_anon(
        self,
        *requests: Request[Any],
        timeout: float | None = None,
        full_res: bool = False,
        raise_for_status: bool = True,
        return_exceptions: bool = False,
    ) -> Any:
        """Send requests without credentials."""
        return await self._send(requests, None, timeout, full_res, raise_for_status, return_exceptions)

    @overload
    async def send(self, request: Request[_T], /) -> _T: ...

    @overload
    async def send(self, *requests: Request[Any], **kwargs: Any) -> Any: ...

    async def send(self, *requests: Request[Any], **kwargs: Any) -> Any:
        """Same as :meth:`as_anon` (seed API)."""
        return await self.as_anon(*requests, **kwargs)

    def _authorizer(self, kind: str, given: Any) -> Authorizer:
        """The authorizer of ``as_<kind>(..., <kind>=given)``.

        :class:`~aiogoogle.auth._authorize.ClientAuth` makes a new one (a closure; for a key
        also its two ``AuthInfo``) on every call: about 4 us of the core's ~50 us per call
        (``benchmarks/bench_call_overhead.py``). It is reused whenever a new one could not
        differ: without per-call credentials, the user and service-account authorizers read
        the client's credentials each time a request is sent; a key's depends only on the
        key's text (header or query is decided per request). Per-call credentials get a new
        one, as before.
        """
        auth = self._auth
        key: Any
        if kind == "api_key":
            value = given if given is not None else self.api_key
            if type(value) is not str and not isinstance(value, ApiKey):
                return auth.api_key(given)
            key = (value, auth.api_key_manager)
        elif given is not None:
            return auth.user(given) if kind == "user" else auth.service_account(given)
        else:
            key = auth.service_account_manager if kind == "service_account" else None
        entry = self._authorizers.get(kind)
        if entry is not None and entry[0] is auth and entry[1] == key:
            return entry[2]
        if kind == "api_key":
            authorize = auth.api_key(given)
        else:
            authorize = auth.user(None) if kind == "user" else auth.service_account(None)
        self._authorizers[kind] = (auth, key, authorize)
        return authorize

    def _send(
        self,
        requests: Sequence[Any],
        authorize: Authorizer | None,
        timeout: float | None,
        full_res: bool,
        raise_for_status: bool,
        return_exceptions: bool,
    ) -> Awaitable[Any]:
        """What ``as_*`` awaits. The usual call, one request without a total timeout on an
        open session, is that request's own coroutine, awaited in the caller's task: no
        gather, no task, no coroutine around it (with the driver's inline body read,
        168k -> 157k instructions per call in ``benchmarks/bench_call_overhead.py``)."""
        session = self._session
        if session is not None and len(requests) == 1 and timeout is None and isinstance(requests[0], Request):
            return self._one(session, requests[0], authorize, full_res, raise_for_status, return_exceptions)
        return self._send_all(requests, authorize, timeout, full_res, raise_for_status, return_exceptions)

    async def _send_all(
        self,
        requests: Sequence[Any],
        authorize: Authorizer | None,
        timeout: float | None,
        full_res: bool,
        raise_for_status: bool,
        return_exceptions: bool,
    ) -> Any:
        if not requests:
            raise ValidationError("no request to send")
        for i, req in enumerate(requests):
            if not isinstance(req, Request):
                hint = " (call the method: api.res.method(...), not api.res.method)" if callable(req) else ""
                raise ValidationError([(f"requests[{i}]", f"is a {type(req).__name__}, not an aiogoogle Request{hint}", req)])
        session = await self._ensure_session()
        if len(requests) == 1 and timeout is None:
            return await self._one(session, requests[0], authorize, full_res, raise_for_status, return_exceptions)
        # partial objects instead of a closure and a wrapping coroutine per request.
        one = self._one
        results = await session.gather(
            [partial(one, session, r, authorize, full_res, raise_for_status, return_exceptions) for r in requests],
            timeout=timeout,
        )
        return results[0] if len(requests) == 1 else results

    async def _one(
        self,
        session: Session,
        request: Request,
        authorize: Authorizer | None,
        full_res: bool,
        raise_for_status: bool,
        return_exceptions: bool = False,
    ) -> Any:
        try:
            total = request.timeout.total if isinstance(request.timeout, Timeout) else request.timeout
            if total is not None:
                outcome = await self._run_with_total(session, request, authorize, total)
            else:
                # No closure in this function: its captured variables would become cells,
                # allocated for every request (and every live object adds to GC work).
                outcome = await self._driver_for(session, authorize, request).run(call_flow(request, self._options))
            pager = self._pager(authorize)
            if isinstance(outcome, list):  # a batch: one outcome per part, in request order
                results: list[Any] = []
                for part in outcome:
                    try:
                        results.append(self._finish(part, pager, full_res, raise_for_status))
                    except AiogoogleError as exc:
                        # return_exceptions=True: a failed part takes its place in the list.
                        if not return_exceptions:
                            raise
                        results.append(exc)
                return results
            return self._finish(outcome, pager, full_res, raise_for_status)
        except AiogoogleError as exc:
            if return_exceptions:
                return exc
            raise

    async def _run_with_total(self, session: Session, request: Request, authorize: Authorizer | None, total: Any) -> Any:
        if isinstance(total, bool) or not isinstance(total, (int, float)):
            raise ValidationError([("timeout", "must be seconds (a number) or aiogoogle.Timeout", total)])
        driver = self._driver_for(session, authorize, request)
        [outcome] = await session.gather([lambda: driver.run(call_flow(request, self._options))], timeout=float(total))
        return outcome

    def _finish(self, outcome: Any, pager: Callable[..., AsyncIterator[Any]], full_res: bool, raise_for_status: bool) -> Any:
        if isinstance(outcome, BaseException):
            raise outcome
        response: Response = outcome
        response._pager = pager
        response.session_factory = self.session_factory
        if raise_for_status:
            response.raise_for_status()
        req = response.req
        if full_res:
            return response
        content = response.content
        if req is not None and req.callback is not None:
            content = req.callback(content)
        return content

    def _pager(self, authorize: Authorizer | None) -> Callable[..., AsyncIterator[Any]]:
        """What iterates the pages of a response sent with ``authorize``: made once per
        authorizer (the last one is kept), not once per response."""
        last = self._last_pager
        if last is not None and last[0] is authorize:
            return last[1]
        client = self

        def pager(response: Response, req_token_name: str | None, res_token_name: str | None, json_req: bool) -> AsyncIterator[Any]:
            async def pages() -> AsyncIterator[Any]:
                async with client._temporary_session() as session:
                    it = client._driver_for(session, authorize, response.req).iterate(pages_flow(response, client._options, req_token_name, res_token_name, json_req))
                    async for page in it:
                        yield page

            return pages()

        self._last_pager = (authorize, pager)
        return pager

    async def items(self, response: Response, field: str | None = None) -> AsyncIterator[Any]:
        """Every item of every page of a ``full_res=True`` list response (``field``: the
        list field, by default ``items`` or the page's only list)."""
        async for page in response:
            for item in items_of(page, field):
                yield item

    def __repr__(self) -> str:
        kinds = [k for k, v in (("user", self.user_creds), ("service account", self.service_account_creds), ("api key", self.api_key)) if v]
        return f"<Aiogoogle {', '.join(kinds) or 'anonymous'}{' (open)' if self._session else ''}>"
