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
import socket as _socket
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


#: Operations a stream may complete in a row without giving other tasks a turn (see
#: :class:`_SocketStream`).
_QUICK_RUN = 4


class _SocketStream(trio.abc.Stream):
    """A TCP stream over a non-blocking socket that goes through trio's scheduler only when
    it has to wait.

    trio's ``SocketStream`` ends every socket operation that completes at once with a trip
    through the scheduler (``cancel_shielded_checkpoint``), so that each call looks as if it
    blocked. An exchange of a request and a small answer is a ``send`` that completes at once
    and a ``recv`` that waits for the answer and then completes: two extra trips, each about
    as costly as parsing the answer with h11 (about 36,000 instructions, measured with
    callgrind). Here an operation that completes at once only checks for cancellation; after
    :data:`_QUICK_RUN` such operations in a row it yields once, so a stream that never
    waits (a fast download) still lets other tasks run. Waiting is trio's own
    ``wait_readable``/``wait_writable``, which is where cancel scopes (the read timeout)
    take effect.
    """

    __slots__ = ("_quick", "_socket")

    def __init__(self, sock: _socket.socket) -> None:
        sock.setblocking(False)
        self._socket = sock
        self._quick = 0

    def _completed_at_once(self) -> bool:
        """Count an operation that did not wait; whether it is time to yield. (A plain
        method, not a coroutine: one fewer coroutine per operation, on every request.)"""
        self._quick += 1
        if self._quick < _QUICK_RUN:
            return False
        self._quick = 0
        return True

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        sock = self._socket
        try:
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):
                with memoryview(data) as view:
                    while sent < len(view):
                        await trio.lowlevel.wait_writable(sock)
                        try:
                            sent += sock.send(view[sent:])
                        except BlockingIOError:
                            pass
                self._quick = 0
                return
        except OSError as exc:
            raise _stream_error(sock, exc) from exc
        if self._completed_at_once():
            await trio.lowlevel.cancel_shielded_checkpoint()

    async def wait_send_all_might_not_block(self) -> None:
        if self._socket.fileno() == -1:
            raise trio.ClosedResourceError("the connection was closed")
        try:
            await trio.lowlevel.wait_writable(self._socket)
        except OSError as exc:
            raise _stream_error(self._socket, exc) from exc

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.lowlevel.checkpoint_if_cancelled()
        sock = self._socket
        size = 65536 if max_bytes is None else max_bytes
        try:
            try:
                data = sock.recv(size)
            except BlockingIOError:
                while True:
                    await trio.lowlevel.wait_readable(sock)
                    try:
                        data = sock.recv(size)
                        break
                    except BlockingIOError:
                        pass
                self._quick = 0
                return data
        except OSError as exc:
            raise _stream_error(sock, exc) from exc
        if self._completed_at_once():
            await trio.lowlevel.cancel_shielded_checkpoint()
        return data

    async def aclose(self) -> None:
        # Wakes any task waiting on the socket (with ClosedResourceError) before closing it.
        trio.lowlevel.notify_closing(self._socket)
        self._socket.close()
        await trio.lowlevel.checkpoint()

    def readable(self) -> bool:
        return idle_connection_dropped(self._socket)


def _stream_error(sock: _socket.socket, exc: OSError) -> trio.BrokenResourceError | trio.ClosedResourceError:
    """The :class:`trio.abc.Stream` exception for a socket error, as trio's own streams
    raise it: closed (a closed socket) or broken (anything else)."""
    if sock.fileno() == -1:
        return trio.ClosedResourceError("the connection was closed")
    return trio.BrokenResourceError(f"the connection broke: {exc}")


class _TlsStream:
    """TLS (trio's ``SSLStream``) over a :class:`_SocketStream`."""

    __slots__ = ("_tls", "_transport")

    def __init__(self, tls: trio.SSLStream[_SocketStream], transport: _SocketStream) -> None:
        self._tls = tls
        self._transport = transport

    async def send_all(self, data: bytes) -> None:
        await self._tls.send_all(data)

    async def receive_some(self, max_bytes: int) -> bytes:
        return bytes(await self._tls.receive_some(max_bytes))

    async def aclose(self) -> None:
        await trio.aclose_forcefully(self._tls)

    def readable(self) -> bool:
        tls = self._tls
        # trio's TLS layer reads from the socket in large pieces and decrypts on demand, so
        # bytes sent after a response may already sit above the socket, where select() does
        # not see them: decrypted (SSLObject.pending(), which SSLStream forwards) or still
        # encrypted in its incoming BIO (not public API; if a trio release renames it, only
        # this check is lost).
        incoming = getattr(tls, "_incoming", None)
        if tls.pending() or (incoming is not None and incoming.pending):
            return True
        return self._transport.readable()


class _TrioIO:
    errors: tuple[type[BaseException], ...] = (trio.BrokenResourceError, trio.ClosedResourceError)

    async def connect(self, host: str, port: int, ssl_context: _ssl.SSLContext | None) -> _SocketStream | _TlsStream:
        # trio connects (happy eyeballs, TCP_NODELAY); the socket is then taken out of its
        # SocketStream (detach hands over the descriptor) for _SocketStream's cheaper I/O.
        tcp = await trio.open_tcp_stream(host, port)
        trio_socket = tcp.socket
        try:
            sock = _socket.socket(trio_socket.family, trio_socket.type, trio_socket.proto, fileno=trio_socket.detach())
        except BaseException:
            await trio.aclose_forcefully(tcp)
            raise
        stream = _SocketStream(sock)
        if ssl_context is None:
            return stream
        tls = trio.SSLStream(stream, ssl_context, server_hostname=host, https_compatible=True)
        try:
            await tls.do_handshake()
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return _TlsStream(tls, stream)

    def timer(self) -> _TrioTimer:
        return _TrioTimer()


class _TrioTimer:
    """One cancel scope whose deadline moves with every :meth:`arm` (see ``_h11.Timer``)."""

    __slots__ = ("_clock", "_deadline", "_scope")

    def __init__(self) -> None:
        self._scope = trio.CancelScope()
        self._deadline = math.inf
        # The run's clock, asked directly: trio.current_time() is three calls deep.
        self._clock = trio.lowlevel.current_clock()

    def __enter__(self) -> _TrioTimer:
        self._scope.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        handled = self._scope.__exit__(*exc)
        if self._scope.cancelled_caught:
            raise Expired
        return handled

    def arm(self, seconds: float | None) -> None:
        deadline = math.inf if seconds is None else self._clock.current_time() + seconds
        # Moving a scope's deadline costs more than the operations it bounds when they are
        # quick; within a millisecond of the armed deadline nothing needs to move.
        if abs(deadline - self._deadline) > 0.001 or deadline == math.inf != self._deadline:
            self._deadline = deadline
            self._scope.deadline = deadline

    def wait(self, fn: Callable[..., Awaitable[T]], *args: Any) -> Awaitable[T]:
        # The scope around the block bounds every wait in it: nothing to add.
        return fn(*args)


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
