"""The trio adapter: HTTP/1.1 with h11 over trio's TCP and TLS streams.

trio has no maintained HTTP client that fits the seam (asks dropped trio's old API and
aiogoogle 5.x's asks-based trio session fails on current asks, anyio and trio releases), so this
adapter speaks HTTP/1.1 itself through :mod:`aiogoogle.sessions._h11`: keep-alive
connections pooled per ``(scheme, host, port)``, request bodies streamed (chunked when
their length is unknown), response bodies streamed as received (never decompressed, never
redirected), the connect timeout around TCP + TLS and the read timeout around every single
socket read and write. TLS is verified with the system trust store unless ``ca_file`` or
``ssl_context`` say otherwise, or a request sets ``verify_ssl=False``.
"""

from __future__ import annotations

import math
import ssl as _ssl
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import trio

from aiogoogle.excs import RequestTimeout

from ._h11 import Expired, H11Transport, idle_connection_dropped
from .base import BaseSession

__all__ = ["TrioSession"]

T = TypeVar("T")


class _Stream:
    __slots__ = ("_socket", "_stream", "_tls")

    def __init__(self, stream: trio.abc.Stream, sock: Any) -> None:
        self._stream = stream
        self._socket = sock
        self._tls = stream if isinstance(stream, trio.SSLStream) else None

    async def send_all(self, data: bytes) -> None:
        await self._stream.send_all(data)

    async def receive_some(self, max_bytes: int) -> bytes:
        return bytes(await self._stream.receive_some(max_bytes))

    async def aclose(self) -> None:
        await trio.aclose_forcefully(self._stream)

    def readable(self) -> bool:
        tls = self._tls
        if tls is not None:
            # trio's TLS layer reads from the socket in large pieces and decrypts on demand,
            # so bytes sent after a response may already sit above the socket, where
            # select() does not see them: decrypted (SSLObject.pending(), which SSLStream
            # forwards) or still encrypted in its incoming BIO (not public API; if a trio
            # release renames it, only this check is lost).
            incoming = getattr(tls, "_incoming", None)
            if tls.pending() or (incoming is not None and incoming.pending):
                return True
        return idle_connection_dropped(self._socket)


class _TrioIO:
    errors: tuple[type[BaseException], ...] = (trio.BrokenResourceError, trio.ClosedResourceError)

    async def connect(self, host: str, port: int, ssl_context: _ssl.SSLContext | None) -> _Stream:
        tcp = await trio.open_tcp_stream(host, port)
        if ssl_context is None:
            return _Stream(tcp, tcp.socket)
        tls = trio.SSLStream(tcp, ssl_context, server_hostname=host, https_compatible=True)
        try:
            await tls.do_handshake()
        except BaseException:
            await trio.aclose_forcefully(tcp)
            raise
        return _Stream(tls, tcp.socket)

    def timer(self) -> _TrioTimer:
        return _TrioTimer()


class _TrioTimer:
    """One cancel scope whose deadline moves with every :meth:`arm` (see ``_h11.Timer``)."""

    __slots__ = ("_deadline", "_scope")

    def __init__(self) -> None:
        self._scope = trio.CancelScope()
        self._deadline = math.inf

    def __enter__(self) -> _TrioTimer:
        self._scope.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        handled = self._scope.__exit__(*exc)
        if self._scope.cancelled_caught:
            raise Expired
        return handled

    def arm(self, seconds: float | None) -> None:
        deadline = math.inf if seconds is None else trio.current_time() + seconds
        # Moving a scope's deadline costs more than the operations it bounds when they are
        # quick; within a millisecond of the armed deadline nothing needs to move.
        if abs(deadline - self._deadline) > 0.001 or deadline == math.inf != self._deadline:
            self._deadline = deadline
            self._scope.deadline = deadline

    async def wait(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return await fn(*args)


class TrioSession(H11Transport, BaseSession):
    """trio + h11 (options: see :class:`~aiogoogle.sessions._h11.H11Transport`:
    ``ssl_context``, ``ca_file``, ``max_idle``)."""

    _io = _TrioIO()

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        results: list[Any] = [None] * len(thunks)
        failure: list[Exception] = []

        async def run(index: int, thunk: Callable[[], Awaitable[T]], scope: trio.CancelScope) -> None:
            try:
                results[index] = await thunk()
            except Exception as exc:
                # Keep only the first failure and cancel the rest; nothing is raised into
                # the nursery, so the caller gets the exception itself, not a group.
                if not failure:
                    failure.append(exc)
                scope.cancel()

        with trio.move_on_after(math.inf if timeout is None else timeout) as deadline:
            async with trio.open_nursery() as nursery:
                for index, thunk in enumerate(thunks):
                    nursery.start_soon(run, index, thunk, nursery.cancel_scope)
        if failure:
            raise failure[0]
        if deadline.cancelled_caught:
            raise RequestTimeout(f"not finished within the total timeout of {timeout} s; every request still running was cancelled")
        return results

    def lock(self) -> AbstractAsyncContextManager[Any]:
        return trio.Lock()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(fn, *args)
