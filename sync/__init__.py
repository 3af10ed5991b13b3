"""aiogoogle without async: the synchronous client, for programs that are not async
(Django and Flask views, scripts, notebooks, Celery tasks).

It is the same client on the same core (:class:`aiogoogle.Aiogoogle`, its flows, retries,
redirects, token refresh, media and batch), run on :class:`~aiogoogle.sync.session.SyncSession`
(h11 over blocking sockets, TLS verified) without any event loop::

    from aiogoogle.sync import Aiogoogle

    with Aiogoogle(api_key="...") as ag:
        books = ag.discover("books", "v1")
        found = ag.as_api_key(books.volumes.list(q="sans-io"))
        for page in ag.pages(ag.as_api_key(books.volumes.list(q="h11"), full_res=True)):
            ...

Every method of the async client that awaits is here a plain call returning the same
result; ``pages``/``items`` are plain iterators. Several requests given to one ``as_*``
call run concurrently in threads (``timeout`` is their total, as in the async client).
One client may be shared between threads: connections are pooled, and credentials are
refreshed once for all of them (single flight). Callbacks (``on_refresh``, ``pipe_from``
sources, ``pipe_to`` targets) must be synchronous.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal, TypeVar, overload

from aiogoogle import client as _client
from aiogoogle.models import Request, Response
from aiogoogle.resource import GoogleAPI
from aiogoogle.sansio import complete

from .session import SyncSession

__all__ = ["Aiogoogle", "SyncSession", "iterate"]

_T = TypeVar("_T")
_A = TypeVar("_A")


def iterate(items: AsyncIterator[Any]) -> Iterator[Any]:
    """A plain iterator over an async iterator of the core whose steps never suspend
    (pages of a response fetched through a :class:`SyncSession`)."""
    try:
        while True:
            try:
                item = complete(items.__anext__())
            except StopAsyncIteration:
                return
            yield item
    finally:
        close = getattr(items, "aclose", None)
        if close is not None:
            complete(close())


class _Blocking:
    """An object of the async API (a manager) whose coroutine methods are plain calls."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value) or isinstance(value, type):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if hasattr(result, "__anext__"):
                return iterate(result)
            if hasattr(result, "__await__"):
                return complete(result)
            return result

        call.__name__ = name
        call.__doc__ = value.__doc__
        return call

    def __repr__(self) -> str:
        return f"<blocking {self._target!r}>"


class Aiogoogle:
    """The synchronous client. Takes the arguments of :class:`aiogoogle.Aiogoogle`
    (``api_key``, ``user_creds``, ``client_creds``, ``service_account_creds``, and the
    keyword-only ``retry``, ``timeout``, ``discovery_endpoints``, ``discovery_cache``,
    ``on_refresh``, ``refresh_margin``, ``auth_endpoints``, ``max_response_size``,
    ``max_redirects``); ``session_factory`` defaults to :class:`SyncSession` and must make
    blocking sessions. ``oauth2``, ``openid_connect``, ``service_account_manager`` and
    ``api_key_manager`` are the async client's managers with plain methods.
    """

    def __init__(
        self,
        session_factory: Callable[[], Any] | None = None,
        api_key: str | None = None,
        user_creds: Any = None,
        client_creds: Any = None,
        service_account_creds: Any = None,
        **kwargs: Any,
    ) -> None:
        self.aio = _client.Aiogoogle(session_factory or SyncSession, api_key, user_creds, client_creds, service_account_creds, **kwargs)
        self.oauth2 = _Blocking(self.aio.oauth2)
        self.openid_connect = _Blocking(self.aio.openid_connect)
        self.service_account_manager = _Blocking(self.aio.service_account_manager)
        self.api_key_manager = _Blocking(self.aio.api_key_manager)

    # The credentials are the async client's: setting them here sets them there.
    api_key = property(lambda self: self.aio.api_key, lambda self, v: setattr(self.aio, "api_key", v))
    user_creds = property(lambda self: self.aio.user_creds, lambda self, v: setattr(self.aio, "user_creds", v))
    client_creds = property(lambda self: self.aio.client_creds, lambda self, v: setattr(self.aio, "client_creds", v))
    service_account_creds = property(lambda self: self.aio.service_account_creds, lambda self, v: setattr(self.aio, "service_account_creds", v))

    def __enter__(self) -> Aiogoogle:
        complete(self.aio.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        complete(self.aio.__aexit__(*exc))

    def close(self) -> None:
        """Close the connections. The client can be used again later."""
        complete(self.aio.close())

    @overload
    def discover(
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
    def discover(
        self,
        api_name: str,
        api_version: str | None = None,
        validate: bool = True,
        *,
        disco_doc_ver: int | None = None,
        root_url: str | None = None,
        typed: type[_A],
    ) -> _A: ...

    def discover(self, api_name: str, api_version: str | None = None, validate: bool = True, **kwargs: Any) -> Any:
        """See :meth:`aiogoogle.Aiogoogle.discover`; ``typed=DriveV3`` (generated stubs)
        returns the API as that class, as there."""
        return complete(self.aio.discover(api_name, api_version, validate, **kwargs))

    def list_api(self, name: str | None = None, preferred: bool | None = None, fields: str | None = None) -> Any:
        """See :meth:`aiogoogle.Aiogoogle.list_api`."""
        return complete(self.aio.list_api(name, preferred, fields))

    # The overloads of every send method are the async client's (one Request[T] gives a
    # T, or a Response[T] with full_res=True; several requests, raise_for_status=False or
    # return_exceptions=True give Any), so typed stubs type synchronous calls alike.

    @overload
    def as_user(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[False] = False,
                user_creds: Any = None, raise_for_status: Literal[True] = True, return_exceptions: Literal[False] = False) -> _T: ...

    @overload
    def as_user(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[True],
                user_creds: Any = None, raise_for_status: bool = True, return_exceptions: Literal[False] = False) -> Response[_T]: ...

    @overload
    def as_user(self, *requests: Request[Any], timeout: float | None = None, full_res: bool = False, user_creds: Any = None,
                raise_for_status: bool = True, return_exceptions: bool = False) -> Any: ...

    def as_user(self, *requests: Request[Any], **kwargs: Any) -> Any:
        """See :meth:`aiogoogle.Aiogoogle.as_user`."""
        return complete(self.aio.as_user(*requests, **kwargs))

    @overload
    def as_service_account(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[False] = False,
                           service_account_creds: Any = None, raise_for_status: Literal[True] = True,
                           return_exceptions: Literal[False] = False) -> _T: ...

    @overload
    def as_service_account(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[True],
                           service_account_creds: Any = None, raise_for_status: bool = True,
                           return_exceptions: Literal[False] = False) -> Response[_T]: ...

    @overload
    def as_service_account(self, *requests: Request[Any], timeout: float | None = None, full_res: bool = False,
                           service_account_creds: Any = None, raise_for_status: bool = True, return_exceptions: bool = False) -> Any: ...

    def as_service_account(self, *requests: Request[Any], **kwargs: Any) -> Any:
        """See :meth:`aiogoogle.Aiogoogle.as_service_account`."""
        return complete(self.aio.as_service_account(*requests, **kwargs))

    @overload
    def as_api_key(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[False] = False,
                   api_key: str | None = None, raise_for_status: Literal[True] = True, return_exceptions: Literal[False] = False) -> _T: ...

    @overload
    def as_api_key(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[True],
                   api_key: str | None = None, raise_for_status: bool = True, return_exceptions: Literal[False] = False) -> Response[_T]: ...

    @overload
    def as_api_key(self, *requests: Request[Any], timeout: float | None = None, full_res: bool = False, api_key: str | None = None,
                   raise_for_status: bool = True, return_exceptions: bool = False) -> Any: ...

    def as_api_key(self, *requests: Request[Any], **kwargs: Any) -> Any:
        """See :meth:`aiogoogle.Aiogoogle.as_api_key`."""
        return complete(self.aio.as_api_key(*requests, **kwargs))

    @overload
    def as_anon(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[False] = False,
                raise_for_status: Literal[True] = True, return_exceptions: Literal[False] = False) -> _T: ...

    @overload
    def as_anon(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[True],
                raise_for_status: bool = True, return_exceptions: Literal[False] = False) -> Response[_T]: ...

    @overload
    def as_anon(self, *requests: Request[Any], timeout: float | None = None, full_res: bool = False,
                raise_for_status: bool = True, return_exceptions: bool = False) -> Any: ...

    def as_anon(self, *requests: Request[Any], **kwargs: Any) -> Any:
        """See :meth:`aiogoogle.Aiogoogle.as_anon`."""
        return complete(self.aio.as_anon(*requests, **kwargs))

    @overload
    def as_id_token(self, audience: str, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[False] = False,
                    service_account_creds: Any = None, raise_for_status: Literal[True] = True,
                    return_exceptions: Literal[False] = False) -> _T: ...

    @overload
    def as_id_token(self, audience: str, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[True],
                    service_account_creds: Any = None, raise_for_status: bool = True,
                    return_exceptions: Literal[False] = False) -> Response[_T]: ...

    @overload
    def as_id_token(self, audience: str, *requests: Request[Any], timeout: float | None = None, full_res: bool = False,
                    service_account_creds: Any = None, raise_for_status: bool = True, return_exceptions: bool = False) -> Any: ...

    def as_id_token(self, audience: str, *requests: Request[Any], **kwargs: Any) -> Any:
        """See :meth:`aiogoogle.Aiogoogle.as_id_token`."""
        return complete(self.aio.as_id_token(audience, *requests, **kwargs))

    def id_token(self, audience: str, **kwargs: Any) -> str:
        """See :meth:`aiogoogle.Aiogoogle.id_token`."""
        token: str = complete(self.aio.id_token(audience, **kwargs))
        return token

    @overload
    def send(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[False] = False,
             raise_for_status: Literal[True] = True, return_exceptions: Literal[False] = False) -> _T: ...

    @overload
    def send(self, request: Request[_T], /, *, timeout: float | None = None, full_res: Literal[True],
             raise_for_status: bool = True, return_exceptions: Literal[False] = False) -> Response[_T]: ...

    @overload
    def send(self, *requests: Request[Any], timeout: float | None = None, full_res: bool = False,
             raise_for_status: bool = True, return_exceptions: bool = False) -> Any: ...

    def send(self, *requests: Request[Any], **kwargs: Any) -> Any:
        """Same as :meth:`as_anon`."""
        return self.as_anon(*requests, **kwargs)

    def pages(self, response: Response[_T]) -> Iterator[_T]:
        """Every page of a ``full_res=True`` response, the first one included, as a plain
        iterator (the next page is fetched as you iterate). Typed: the pages of a
        ``Response[FileList]`` are ``FileList``s."""
        return iterate(response.__aiter__())

    def items(self, response: Response[Any], field: str | None = None) -> Iterator[Any]:
        """Every item of every page (see :meth:`aiogoogle.Aiogoogle.items`)."""
        return iterate(self.aio.items(response, field))

    def __repr__(self) -> str:
        return repr(self.aio).replace("<Aiogoogle", "<aiogoogle.sync.Aiogoogle", 1)
