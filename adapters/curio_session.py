"""The fast curio adapter: HTTP/1.1 with h11 over curio's own sockets.

The same HTTP/1.1 pool as the trio adapter (:mod:`aiogoogle.sessions._h11`): keep-alive
connections per ``(scheme, host, port)``, request bodies streamed (chunked when their
length is unknown), response bodies streamed as received (never decompressed, never
redirected), every response header kept (repeated ones too), the connect timeout around
TCP + TLS and the read timeout around every single socket read and write. TLS is verified
with the system trust store unless ``ca_file`` or ``ssl_context`` say otherwise, or a
request sets ``verify_ssl=False``.

It has none of :class:`~aiogoogle.sessions.curio_asks_session.CurioAsksSession`'s asks
limitations and is several times cheaper per request; ``CurioAsksSession`` stays for code
that names it.
"""

from __future__ import annotations

import socket as _socket
import ssl as _ssl
from collections.abc import Awaitable, Callable
from time import monotonic as _monotonic
from typing import Any, TypeVar

import curio
import curio.io
import curio.socket
from curio.traps import _get_current, _set_timeout, _unset_timeout

from ._curio import CurioSessionBase
from ._h11 import Expired, H11Transport, idle_connection_dropped

__all__ = ["CurioSession"]

T = TypeVar("T")


class _Stream:
    """A connected curio socket (TCP, or TLS on top of it), as ``_h11.ByteStream``."""

    __slots__ = ("_sock",)

    def __init__(self, sock: curio.io.Socket) -> None:
        self._sock = sock

    async def send_all(self, data: bytes) -> None:
        await self._sock.sendall(data)

    async def receive_some(self, max_bytes: int) -> bytes:
        return await self._sock.recv(max_bytes)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        # curio's close() also drops the task's registration of the socket with the
        # selector, which a plain socket.close() would leave behind.
        await self._sock.close()

    def readable(self) -> bool:
        sock = self._sock._socket
        # A TLS record already read from the socket may hold more than was asked for: the
        # rest waits, decrypted, in the SSL object where select() does not see it.
        if isinstance(sock, _ssl.SSLSocket) and sock.pending():
            return True
        return idle_connection_dropped(sock)


async def _tcp_connect(host: str, port: int) -> curio.io.Socket:
    """A TCP connection to the first address of ``host`` that accepts one.

    curio's ``create_connection`` and ``open_connection`` close a half-made socket only on
    an ``Exception``; a timeout or cancellation (curio's are BaseExceptions) would leak it.
    """
    try:
        # A numeric address needs no resolver thread.
        infos = _socket.getaddrinfo(host, port, type=_socket.SOCK_STREAM, flags=_socket.AI_NUMERICHOST)
    except _socket.gaierror:
        infos = await curio.socket.getaddrinfo(host, port, type=_socket.SOCK_STREAM)
    error: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = curio.socket.socket(family, kind, proto)
        try:
            # Request heads and bodies go out as separate writes: without TCP_NODELAY the
            # second one could wait for the server's delayed ACK (up to 40 ms on Linux).
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            await sock.connect(address)
        except OSError as exc:
            await sock.close()
            error = exc
            continue
        except BaseException:
            await sock.close()
            raise
        return sock
    raise error or OSError(f"no address found for {host}")


class _CurioIO:
    """``_h11.IO`` on curio."""

    # curio raises OSError (the pool's default) for broken sockets; ResourceBusy when two
    # tasks wait on one socket, which the pool never does but which must not escape raw.
    errors: tuple[type[BaseException], ...] = (curio.errors.ResourceBusy,)

    async def connect(self, host: str, port: int, ssl_context: _ssl.SSLContext | None) -> _Stream:
        sock = await _tcp_connect(host, port)
        if ssl_context is None:
            return _Stream(sock)
        try:
            # The stdlib context wraps the plain socket (curio's open_connection does the
            # same); the handshake runs on curio's non-blocking wrapper.
            tls = curio.io.Socket(ssl_context.wrap_socket(sock._socket, server_hostname=host, do_handshake_on_connect=False))
        except BaseException:
            await sock.close()
            raise
        try:
            await tls.do_handshake()
        except BaseException:
            await tls.close()
            raise
        return _Stream(tls)

    def timer(self) -> _CurioTimer:
        return _CurioTimer()


class _CurioTimer:
    """``_h11.Timer`` on curio, which has no cancel scopes: the block itself does nothing,
    and every :meth:`wait` sets the task's timeout to the armed seconds from now.

    This is what ``curio.timeout_after`` does, without its overhead (four kernel traps,
    the coroutine's inspection and a list entry per call; dropping it took the throughput
    benchmark's worker from 0.78-0.82 s to 0.69-0.74 s): a timeout trap before the
    operation, one after. Nested timeouts
    are told apart as curio does it (``curio/time.py``): curio raises ``TaskTimeout`` with
    the clock it expired at; if an enclosing ``timeout_after`` (the caller's own limit) had
    expired by then, this wait raises ``TimeoutCancellationError`` out of itself, as a
    curio inner block does, so it passes every handler of ``TaskTimeout`` in between and
    the enclosing block turns it back into ``TaskTimeout`` for its owner. Otherwise the
    expiry is this wait's own and becomes :class:`~aiogoogle.sessions._h11.Expired` (the
    pool turns that into ``ConnectTimeout``/``ReadTimeout``).
    """

    __slots__ = ("_seconds",)

    def __init__(self) -> None:
        self._seconds: float | None = None

    def __enter__(self) -> _CurioTimer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def arm(self, seconds: float | None) -> None:
        self._seconds = seconds

    async def wait(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        seconds = self._seconds
        if seconds is None:
            return await fn(*args)
        # curio's kernel clock is time.monotonic; reading it needs no trap.
        deadline = _monotonic() + seconds
        # The kernel keeps the earlier of this and an enclosing deadline.
        prior = await _set_timeout(deadline)
        try:
            return await fn(*args)
        except curio.TaskTimeout as exc:
            expired_at = exc.args[0] if exc.args else deadline
            task = await _get_current()
            if any(outer is not None and outer <= expired_at for outer in task._deadlines):
                raise curio.TimeoutCancellationError(expired_at).with_traceback(exc.__traceback__) from None
            if deadline <= expired_at:
                raise Expired from None
            # Nobody's deadline had passed (a stale timeout): what curio's blocks raise.
            raise curio.UncaughtTimeoutError("Uncaught timeout received") from exc
        finally:
            await _unset_timeout(prior)


class CurioSession(H11Transport, CurioSessionBase):
    """curio + h11 (options: see :class:`~aiogoogle.sessions._h11.H11Transport`:
    ``ssl_context``, ``ca_file``, ``max_idle``)."""

    _io = _CurioIO()
