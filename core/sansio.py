"""The public sans-IO API: aiogoogle's protocols without any I/O, for embedding.

Everything aiogoogle does on the wire is a *flow*: a generator that yields *effects*
(:class:`Send` this request, :class:`Sleep`, read the clock, ask for credentials, ...) and
receives their results. A flow never performs I/O, so the same flows run inside any
framework. This module is the stable surface for that: the flows, the effect and wire
types, and two driver loops, :func:`run_sync` and :func:`run_async`, with which an
embedder writes only "send this request" (and, optionally, "sleep")::

    from aiogoogle.sansio import CallOptions, Reply, call_flow, run_sync

    def send(request):                     # an HttpRequest
        r = my_http.request(request.method, request.url, headers=request.headers,
                            body=request.body, redirect=False, decode_content=False)
        return Reply(r.status, r.headers.items(), r.data)

    response = run_sync(call_flow(api.objects.list(bucket="b"), CallOptions()), send)

What ``send`` must do, and never do (the driver contract):

* send ``request.url`` byte for byte as given (it is already percent-encoded) with
  ``request.method``, ``request.headers`` and ``request.body`` (``bytes``, or an iterable
  of ``bytes`` for a streamed upload: its length is in ``Content-Length`` when known,
  otherwise send it chunked), verifying TLS unless ``request.verify_ssl`` is false and
  applying ``request.timeout.connect`` and ``request.timeout.read``;
* never follow redirects and never decompress: the flows do both, the same way everywhere
  (https://www.rfc-editor.org/rfc/rfc9110#section-15.4, #section-8.4);
* never log URLs or headers: they carry API keys and tokens;
* turn its own failures into :class:`~aiogoogle.excs.TransportError` (or
  :class:`~aiogoogle.excs.TransportTimeout`), so that the flow's retry policy sees them.
  Any other exception is wrapped into a ``TransportError`` naming only its type.

Local files (uploads from and downloads to a path) are read and written by the loop
itself: blocking calls by default, or the ``files`` object given.
"""

from __future__ import annotations

import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import replace
from typing import Any, TypeVar

from ._call import CallOptions, call_flow, plain_call_flow, send_flow
from ._driver import Driver
from ._effects import (
    NO_AUTH,
    AuthInfo,
    Authorize,
    Call,
    Effect,
    Emit,
    FileOp,
    Flow,
    Now,
    Pull,
    Run,
    Send,
    Sleep,
)
from ._http import (
    DEFAULT_MAX_RESPONSE_SIZE,
    BodyConsumer,
    ContentDecoder,
    FileRange,
    FileTarget,
    Headers,
    HttpRequest,
    HttpResponse,
    PipeSource,
    PipeTarget,
    StreamBody,
    Timeout,
)
from ._providers import monotonic_clock, wall_clock
from ._transport import AsyncFile, RawResponse, Session
from .auth._adc import default_creds_flow, metadata_token_flow, source_for_creds
from .auth._device import device_code_flow, device_token_flow
from .auth._idtoken import id_token_flow
from .auth._oauth2 import code_exchange_flow, refresh_flow, revoke_flow
from .auth._service_account import jwt_bearer_flow
from .auth._sts import sts_exchange_flow
from .auth.endpoints import Endpoints
from .auth.sources import AccessToken, TokenRequest, TokenSource
from .batch import batch_flow
from .discovery import DiscoveryCache, DiscoveryEndpoints, discovery_flow, list_api_flow
from .excs import AiogoogleError, TransportError
from .media import download_flow, upload_flow
from .models import Request, Response
from .pagination import items_of, pages_flow
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "NO_AUTH",
    "AccessToken",
    "AsyncFile",
    "AuthInfo",
    "Authorize",
    "BodyConsumer",
    "Call",
    "CallOptions",
    "ContentDecoder",
    "DiscoveryCache",
    "DiscoveryEndpoints",
    "Effect",
    "Emit",
    "Endpoints",
    "FileOp",
    "FileRange",
    "FileTarget",
    "Flow",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Now",
    "PipeSource",
    "PipeTarget",
    "Pull",
    "RawResponse",
    "Reply",
    "Request",
    "Response",
    "RetryPolicy",
    "Run",
    "Send",
    "Session",
    "Sleep",
    "StreamBody",
    "Timeout",
    "TokenRequest",
    "TokenSource",
    "batch_flow",
    "call_flow",
    "code_exchange_flow",
    "complete",
    "default_creds_flow",
    "device_code_flow",
    "device_token_flow",
    "discovery_flow",
    "download_flow",
    "id_token_flow",
    "items_of",
    "iterate_async",
    "iterate_sync",
    "jwt_bearer_flow",
    "list_api_flow",
    "metadata_token_flow",
    "pages_flow",
    "plain_call_flow",
    "refresh_flow",
    "revoke_flow",
    "run_async",
    "run_sync",
    "send_flow",
    "source_for_creds",
    "sts_exchange_flow",
    "token_flow",
    "upload_flow",
]

T = TypeVar("T")

#: ``send`` for :func:`run_sync`: one blocking HTTP exchange.
SyncSend = Callable[[HttpRequest], "Reply"]
#: ``send`` for :func:`run_async`.
AsyncSend = Callable[[HttpRequest], Awaitable["Reply"]]
#: ``authorize`` for the loops: given the token a 401 came back with (or ``None``), the
#: headers and query parameters to authorise the next request with.
SyncAuthorize = Callable[[str | None], AuthInfo]
AsyncAuthorize = Callable[[str | None], Awaitable[AuthInfo]]


class Reply:
    """What an embedder's ``send`` returns: the status, the raw header pairs in the order
    received, and the body *as received* (still content-encoded).

    ``body`` is ``bytes``, or an iterable of ``bytes`` read lazily (a sync iterable for
    :func:`run_sync`, a sync or async one for :func:`run_async`), so that downloads stream
    to their target without being held in memory. ``close`` (optional) is called exactly
    once when the loop is done with the body, read to its end or not (release the
    connection there).
    """

    __slots__ = ("_close", "body", "headers", "reason", "status")

    def __init__(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes | Iterable[bytes] | AsyncIterable[bytes] = b"",
        reason: str = "",
        close: Callable[[], Any] | None = None,
    ) -> None:
        self.status = status
        self.headers = [(str(k), str(v)) for k, v in headers]
        self.body = body
        self.reason = reason
        self._close = close

    def __repr__(self) -> str:
        # Headers are left out: they may carry cookies or session URIs.
        return f"<Reply {self.status} {self.reason}>".replace(" >", ">")


def complete(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to its end without an event loop.

    For coroutines every ``await`` of which finishes at once: those of the core's driver on
    a blocking session (:func:`run_sync`, :mod:`aiogoogle.sync`). One that really suspends
    (awaits an event loop's future) raises :class:`~aiogoogle.excs.AiogoogleError` instead
    of hanging.
    """
    coro: Any = awaitable if isinstance(awaitable, Coroutine) else awaitable.__await__()
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise AiogoogleError(
        "an awaitable suspended without an event loop: with the synchronous loop or client, "
        "callbacks, pipe_from sources and pipe_to targets must be synchronous (or never really wait)"
    )


def _unknown_failure(exc: BaseException, url: str) -> TransportError:
    # Only the type: a library's message may quote the URL (an API key) or headers.
    return TransportError(f"the send function failed with {type(exc).__name__}; it must raise aiogoogle.excs.TransportError", url=url)


class _BlockingBody:
    """A streamed request body handed to a blocking ``send`` as a plain iterator."""

    __slots__ = ("_source",)

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source

    def __iter__(self) -> Iterator[bytes]:
        source = self._source
        while True:
            try:
                chunk = complete(source.__anext__())
            except StopAsyncIteration:
                return
            yield chunk


class _ReplyResponse:
    """A :class:`Reply` as the driver's :class:`RawResponse`."""

    __slots__ = ("_reply", "headers", "reason", "status", "url")

    def __init__(self, reply: Reply, url: str) -> None:
        self.url = url
        if not isinstance(reply, Reply):
            raise TransportError(f"the send function returned {type(reply).__name__}; it must return aiogoogle.sansio.Reply", url=url)
        self._reply = reply
        self.status = reply.status
        self.reason = reply.reason
        self.headers = reply.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        body = self._reply.body
        if isinstance(body, (bytes, bytearray, memoryview)):
            if body:
                yield bytes(body)
            return
        # The embedder's library fails while the body streams too: its errors become
        # TransportError here as in send, so the flow's retry and resume policy sees them.
        try:
            if isinstance(body, AsyncIterable):
                async for chunk in body:
                    yield bytes(chunk)
            else:
                for chunk in body:
                    yield bytes(chunk)
        except AiogoogleError:
            raise
        except Exception as exc:
            raise _unknown_failure(exc, self.url) from None

    async def aclose(self) -> None:
        close, self._reply._close = self._reply._close, None
        if close is not None:
            result = close()
            if isinstance(result, Awaitable):
                await result


def _local_files() -> Any:
    # The core does no file I/O itself: blocking local file access is the adapters' (the
    # same code the async sessions run in worker threads), here called inline.
    from aiogoogle.sessions.base import LocalFiles

    return LocalFiles()


class _EmbeddedSession:
    """The driver's session interface over an embedder's ``send``/``sleep``."""

    __slots__ = ("_async", "_files", "_send", "_sleep")

    def __init__(self, send: Callable[[HttpRequest], Any], sleep: Callable[[float], Any], files: Any, is_async: bool) -> None:
        self._send = send
        self._sleep = sleep
        self._files = files
        self._async = is_async

    async def send(self, request: HttpRequest) -> _ReplyResponse:
        body = request.body
        if not self._async and not isinstance(body, bytes):
            request = replace(request, body=_BlockingBody(body))  # type: ignore[arg-type]
        try:
            reply = self._send(request)
            if self._async:
                reply = await reply
        except AiogoogleError:
            raise
        except Exception as exc:
            raise _unknown_failure(exc, request.url) from None
        return _ReplyResponse(reply, request.url)

    async def sleep(self, seconds: float) -> None:
        result = self._sleep(seconds)
        if self._async:
            await result

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)

    async def open_file(self, path: str, mode: str) -> Any:
        files = self._files if self._files is not None else _local_files()
        return await files.open_file(path, mode)

    async def file_op(self, op: FileOp) -> Any:
        files = self._files if self._files is not None else _local_files()
        return await files.file_op(op)


def _sync_authorizer(authorize: SyncAuthorize | None) -> Callable[[str | None], Awaitable[AuthInfo]] | None:
    if authorize is None:
        return None

    async def answer(stale: str | None) -> AuthInfo:
        return authorize(stale)

    return answer


def _driver(session: Any, authorize: Any, clock: Callable[[], float], monotonic: Callable[[], float], max_response_size: int | None) -> Driver:
    return Driver(session, authorize, clock=clock, monotonic=monotonic, max_response_size=max_response_size)


def run_sync(
    flow: Flow[T],
    send: SyncSend,
    *,
    sleep: Callable[[float], None] = time.sleep,
    authorize: SyncAuthorize | None = None,
    files: Any = None,
    clock: Callable[[], float] = wall_clock,
    monotonic: Callable[[], float] = monotonic_clock,
    max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
) -> T:
    """Run ``flow`` to its end with a blocking ``send`` and return its result.

    ``send(request: HttpRequest) -> Reply`` performs one exchange (see the module docstring
    for what it must and must never do). ``sleep`` waits between retries. ``authorize``
    answers the flow's :class:`Authorize` effects (default: no credentials). ``files``
    replaces local file access (an object with ``async open_file(path, mode)`` and
    ``async file_op(op)`` that never suspend; default: blocking calls). ``clock`` and
    ``monotonic`` are the wall and monotonic clocks the flows read. Emitted items are
    dropped (see :func:`iterate_sync`).
    """
    session = _EmbeddedSession(send, sleep, files, is_async=False)
    return complete(_driver(session, _sync_authorizer(authorize), clock, monotonic, max_response_size).run(flow))


def iterate_sync(
    flow: Flow[Any],
    send: SyncSend,
    *,
    sleep: Callable[[float], None] = time.sleep,
    authorize: SyncAuthorize | None = None,
    files: Any = None,
    clock: Callable[[], float] = wall_clock,
    monotonic: Callable[[], float] = monotonic_clock,
    max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
) -> Iterator[Any]:
    """Like :func:`run_sync`, yielding every item the flow emits (the pages of
    :func:`pages_flow`), one flow step at a time."""
    session = _EmbeddedSession(send, sleep, files, is_async=False)
    items = _driver(session, _sync_authorizer(authorize), clock, monotonic, max_response_size).iterate(flow)
    try:
        while True:
            try:
                item = complete(items.__anext__())
            except StopAsyncIteration:
                return
            yield item
    finally:
        complete(items.aclose())  # type: ignore[attr-defined]


async def run_async(
    flow: Flow[T],
    send: AsyncSend,
    *,
    sleep: Callable[[float], Awaitable[None]],
    authorize: AsyncAuthorize | None = None,
    files: Any = None,
    clock: Callable[[], float] = wall_clock,
    monotonic: Callable[[], float] = monotonic_clock,
    max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
) -> T:
    """Run ``flow`` to its end with an async ``send`` (any event loop) and return its
    result. ``sleep`` is the framework's sleep (``asyncio.sleep``, ``trio.sleep``,
    ``anyio.sleep``); the rest as in :func:`run_sync`. Local file access blocks the loop
    briefly unless ``files`` (e.g. an adapter session) is given."""
    session = _EmbeddedSession(send, sleep, files, is_async=True)
    return await _driver(session, authorize, clock, monotonic, max_response_size).run(flow)


async def iterate_async(
    flow: Flow[Any],
    send: AsyncSend,
    *,
    sleep: Callable[[float], Awaitable[None]],
    authorize: AsyncAuthorize | None = None,
    files: Any = None,
    clock: Callable[[], float] = wall_clock,
    monotonic: Callable[[], float] = monotonic_clock,
    max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
) -> AsyncIterator[Any]:
    """Like :func:`run_async`, yielding every item the flow emits."""
    session = _EmbeddedSession(send, sleep, files, is_async=True)
    items = _driver(session, authorize, clock, monotonic, max_response_size).iterate(flow)
    try:
        async for item in items:
            yield item
    finally:
        await items.aclose()  # type: ignore[attr-defined]


def token_flow(source: TokenSource, endpoints: Endpoints | None = None, options: CallOptions | None = None, *, scopes: Sequence[str] | None = None, audience: str | None = None) -> Flow[AccessToken]:
    """The flow that gets a fresh :class:`AccessToken` from ``source`` (see
    :func:`source_for_creds`: a service account key, ``authorized_user`` credentials, the
    metadata server, an ``external_account`` ...), for ``scopes`` or an ``audience``."""
    wanted = TokenRequest(scopes=tuple(scopes) if scopes is not None else None, audience=audience)
    return source.token_flow(wanted, endpoints or Endpoints(), options or CallOptions())
