"""The blocking adapter: HTTP/1.1 with h11 over blocking sockets, no event loop.

It is an adapter like the async ones (:class:`~aiogoogle.sessions.base.BaseSession`, the
same HTTP code: :class:`~aiogoogle.sessions._h11.ConnectionPool`, with its keep-alive reuse
checks), whose awaitables all finish at once: every socket operation blocks the calling
thread. The core's driver then runs on it with :func:`aiogoogle.sansio.complete`, no event
loop involved. Concurrency is threads:

* ``gather`` runs each thunk in a thread of its own; the first failure, or the total
  timeout, *cancels* the others: their socket operations and sleeps end at once (the
  socket in use is shut down, sleeps wait on an event) with :class:`Cancelled`, a
  ``BaseException`` like trio's, which no flow catches;
* ``lock`` is a :class:`threading.Lock` (single-flight token refresh across threads);
* ``run_sync`` calls the function inline.

TLS is verified with ``ssl.create_default_context()`` unless ``ca_file``/``ssl_context``
say otherwise or a request sets ``verify_ssl=False``. Connect and read timeouts are socket
timeouts (``request.timeout``), shortened to the enclosing total timeout.
"""

from __future__ import annotations

import socket
import ssl as _ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from aiogoogle.excs import RequestTimeout
from aiogoogle.sansio import complete
from aiogoogle.sessions._h11 import ConnectionPool, Expired, H11Transport, idle_connection_dropped
from aiogoogle.sessions.base import BaseSession

__all__ = ["Cancelled", "SyncSession"]

T = TypeVar("T")

_local = threading.local()


class Cancelled(BaseException):
    """Raised in a thread of :meth:`SyncSession.gather` whose work was cancelled (another
    thunk failed, or the total timeout expired). Never seen by callers of ``gather``."""


class _Scope:
    """The cancellation state of one gathered thunk (its thread and nested gathers)."""

    __slots__ = ("_children", "cancelled", "deadline", "event", "socket")

    deadline: float | None

    def __init__(self, deadline: float | None, parent: _Scope | None) -> None:
        if parent is not None and parent.deadline is not None and (deadline is None or parent.deadline < deadline):
            deadline = parent.deadline
        self.deadline = deadline
        self.cancelled = False
        self.event = threading.Event()
        self.socket: socket.socket | None = None
        self._children: list[_Scope] = []
        if parent is not None:
            parent._children.append(self)
            if parent.cancelled:
                self.cancel()

    def cancel(self) -> None:
        self.cancelled = True
        self.event.set()
        sock = self.socket
        if sock is not None:
            try:
                # socket.socket's own shutdown, also for an SSLSocket: it wakes a recv
                # blocked in another thread without touching the TLS state.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass
        for child in self._children:
            child.cancel()

    def check(self) -> None:
        if self.cancelled or (self.deadline is not None and time.monotonic() >= self.deadline):
            raise Cancelled


def _scope() -> _Scope | None:
    return getattr(_local, "scope", None)


def _timeout(seconds: float | None, scope: _Scope | None) -> float | None:
    """The socket timeout for the next operation: the armed one, cut to the scope's
    deadline."""
    if scope is None or scope.deadline is None:
        return seconds
    left = scope.deadline - time.monotonic()
    if left <= 0:
        raise Cancelled
    return left if seconds is None or left < seconds else seconds


class _Stream:
    """A connected blocking socket (TCP or TLS) as ``_h11.ByteStream``."""

    __slots__ = ("_sock", "_timeout")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._timeout: float | None = -1.0

    def _arm(self) -> _Scope | None:
        scope = _scope()
        timeout = _timeout(getattr(_local, "timeout", None), scope)
        if scope is not None:
            scope.check()
            scope.socket = self._sock
        if timeout != self._timeout:
            self._sock.settimeout(timeout)
            self._timeout = timeout
        return scope

    async def send_all(self, data: bytes) -> None:
        scope = self._arm()
        try:
            self._sock.sendall(data)
        except TimeoutError:
            _expired(scope)
        except OSError:
            if scope is not None and scope.cancelled:
                raise Cancelled from None
            raise

    async def receive_some(self, max_bytes: int) -> bytes:
        scope = self._arm()
        try:
            data = self._sock.recv(max_bytes)
        except TimeoutError:
            _expired(scope)
        except OSError:
            if scope is not None and scope.cancelled:
                raise Cancelled from None
            raise
        if not data and scope is not None and scope.cancelled:
            raise Cancelled
        return data

    async def aclose(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    def readable(self) -> bool:
        sock = self._sock
        # Decrypted bytes already taken off the socket by the TLS layer are not seen by
        # select(): SSLSocket.pending() counts them.
        if isinstance(sock, _ssl.SSLSocket):
            try:
                if sock.pending():
                    return True
            except (OSError, ValueError):
                return True
        return idle_connection_dropped(sock)


def _expired(scope: _Scope | None) -> Any:
    if scope is not None and scope.deadline is not None and time.monotonic() >= scope.deadline - 0.001:
        raise Cancelled from None
    raise Expired from None


class _BlockingIO:
    errors: tuple[type[BaseException], ...] = ()

    async def connect(self, host: str, port: int, ssl_context: _ssl.SSLContext | None) -> _Stream:
        scope = _scope()
        timeout = _timeout(getattr(_local, "timeout", None), scope)
        if scope is not None:
            scope.check()
        try:
            sock = socket.create_connection((host, port), timeout)
        except TimeoutError:
            _expired(scope)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ssl_context is not None:
                if scope is not None:
                    scope.socket = sock
                sock = ssl_context.wrap_socket(sock, server_hostname=host)
        except TimeoutError:
            sock.close()
            _expired(scope)
        except BaseException:
            sock.close()
            if scope is not None and scope.cancelled:
                raise Cancelled from None
            raise
        stream = _Stream(sock)
        stream._timeout = timeout
        return stream

    def timer(self) -> _Timer:
        return _Timer()


class _Timer:
    """``_h11.Timer`` for blocking sockets: the armed seconds become the socket timeout of
    each operation (a socket timeout is a read timeout: it bounds one operation)."""

    __slots__ = ("_seconds",)

    def __init__(self) -> None:
        self._seconds: float | None = None

    def __enter__(self) -> _Timer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def arm(self, seconds: float | None) -> None:
        self._seconds = seconds

    async def wait(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        _local.timeout = self._seconds
        return await fn(*args)


class _ThreadSafePool(ConnectionPool):
    """The h11 pool, its idle lists guarded against concurrent threads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = threading.Lock()

    async def _checkout(self, key: tuple[str, str, int, bool]) -> Any:
        with self._guard:
            return complete(super()._checkout(key))

    async def _release(self, conn: Any) -> None:
        with self._guard:
            complete(super()._release(conn))

    async def close(self) -> None:
        with self._guard:
            complete(super().close())


class _ThreadLock:
    """A :class:`threading.Lock` as the async context manager the client asks for."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def locked(self) -> bool:
        return self._lock.locked()

    async def __aenter__(self) -> _ThreadLock:
        scope = _scope()
        if scope is None:
            self._lock.acquire()
            return self
        # Wait in steps so that a cancelled thread stops waiting.
        while not self._lock.acquire(timeout=0.05):
            scope.check()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._lock.release()


class SyncSession(H11Transport, BaseSession):
    """The blocking session (options: see :class:`~aiogoogle.sessions._h11.H11Transport`:
    ``ssl_context``, ``ca_file``, ``max_idle``). Safe to share between threads."""

    _io = _BlockingIO()

    def __init__(self, *, ssl_context: _ssl.SSLContext | None = None, ca_file: str | None = None, max_idle: int = 100) -> None:
        if ssl_context is None:
            ssl_context = _ssl.create_default_context(cafile=ca_file)
        self._pool = _ThreadSafePool(self._io, ssl_context, max_idle=max_idle)

    async def sleep(self, seconds: float) -> None:
        scope = _scope()
        if scope is None:
            if seconds > 0:
                time.sleep(seconds)
            return
        scope.check()
        wait = _timeout(seconds, scope)
        if scope.event.wait(wait):
            raise Cancelled
        scope.check()

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        parent = _scope()
        if parent is not None:
            parent.check()
        deadline = None if timeout is None else time.monotonic() + timeout
        scopes = [_Scope(deadline, parent) for _ in thunks]
        results: list[Any] = [None] * len(thunks)
        failures: list[BaseException] = []
        guard = threading.Lock()

        def work(index: int) -> None:
            scope = scopes[index]
            _local.scope = scope
            try:
                results[index] = complete(thunks[index]())
            except Cancelled:
                with guard:
                    interrupted.append(index)
            except BaseException as exc:
                with guard:
                    first = not failures
                    failures.append(exc)
                if first:
                    for other in scopes:
                        if other is not scope:
                            other.cancel()

        interrupted: list[int] = []
        threads = [threading.Thread(target=work, args=(i,), name="aiogoogle-gather", daemon=True) for i in range(len(thunks))]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                left = None if deadline is None else deadline - time.monotonic()
                if (parent is not None and parent.cancelled) or (left is not None and left <= 0):
                    for scope in scopes:
                        scope.cancel()
                    thread.join()
                    break
                thread.join(0.5 if left is None or left > 0.5 else left)
        if parent is not None:
            parent.check()
        if failures:
            raise failures[0]
        if interrupted:
            raise RequestTimeout(f"not finished within the total timeout of {timeout} s; every request still running was cancelled")
        return results

    def lock(self) -> _ThreadLock:
        return _ThreadLock()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)
