"""The adapter interface: the only thing an I/O framework has to provide.

An adapter ("session", for aiogoogle compatibility) moves bytes and nothing else. It sends
one HTTP request and hands back the status, headers and an async stream of the body
*exactly as received* (no decompression, no redirects followed: the core does both, the
same way for every framework). It also offers the few concurrency primitives the client
needs: sleeping, running awaitables concurrently under a total timeout, a lock, running a
blocking function in a worker thread, and closing. Local file access (``open_file`` and
``file_op``) is implemented once for every adapter on top of ``run_sync``
(``aiogoogle.sessions.base.BaseSession``).

Adapters translate their framework's exceptions into :class:`~aiogoogle.excs.TransportError`
(and :class:`~aiogoogle.excs.TransportTimeout`) at this seam, so retry and recovery policy
is written once, in the core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar, runtime_checkable

from ._effects import FileOp
from ._http import HttpRequest

__all__ = ["AsyncFile", "RawResponse", "Session"]

T = TypeVar("T")


@runtime_checkable
class RawResponse(Protocol):
    """A response whose body has not been read yet.

    ``headers`` are the raw ``(name, value)`` pairs in the order received. ``chunks()``
    yields the body as received (still content-encoded) and raises
    :class:`~aiogoogle.excs.TransportError` if the connection breaks or the read timeout
    expires. ``aclose()`` releases the connection: back to the pool when the body was read
    to the end, closed otherwise. It is always called, exactly once.

    An adapter may also offer ``async read(limit: int | None = None) -> bytes``, failing
    the same way as ``chunks()``. It returns the whole body when that is at most ``limit``
    bytes (``None``: no limit). As soon as more than ``limit`` bytes of body have arrived
    it stops reading and returns what it has, which is then longer than ``limit`` (by at
    most one network read): the caller raises
    :class:`~aiogoogle.excs.ResponseTooLarge`, and ``aclose()`` closes the connection
    because the body was not read to its end. The memory it holds stays within the limit
    plus one read whatever the framing (``Content-Length``, chunked, or until the
    connection closes). The driver uses it for bodies it buffers (it costs less than an
    async generator); ``chunks()`` is still used for streamed downloads, where the driver
    counts the bytes itself, and must never hold more than one read either.
    """

    @property
    def status(self) -> int: ...

    @property
    def reason(self) -> str: ...

    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class AsyncFile(Protocol):
    """A local file opened through the adapter (reads and writes run off the event loop)."""

    async def read(self, size: int) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def seek(self, offset: int) -> None: ...

    async def size(self) -> int: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Session(Protocol):
    """What every adapter implements (the seed's ``AbstractSession``).

    ``send`` receives an :class:`~aiogoogle._http.HttpRequest` whose ``body`` is ``bytes``
    or an async iterable of ``bytes`` (a streamed upload; ``Content-Length`` is in the
    headers when the size is known, otherwise the adapter uses chunked encoding or, if its
    HTTP library cannot stream, buffers the body). It must verify TLS unless
    ``verify_ssl`` is false, apply ``timeout.connect`` and ``timeout.read``, never follow
    redirects, never decompress, and reuse connections.

    ``gather`` runs the thunks concurrently and returns their results in order. On the
    first exception it cancels the others and raises that exception itself (never an
    exception group). When ``timeout`` expires it cancels everything and raises
    :class:`~aiogoogle.excs.RequestTimeout`.
    """

    async def send(self, request: HttpRequest) -> RawResponse: ...

    async def sleep(self, seconds: float) -> None: ...

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]: ...

    def lock(self) -> AbstractAsyncContextManager[Any]: ...

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def open_file(self, path: str, mode: str) -> AsyncFile: ...

    async def file_op(self, op: FileOp) -> Any: ...

    async def close(self) -> None: ...
