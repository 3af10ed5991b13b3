"""HTTP/1.1 over any async byte stream, with h11: one request per connection at a time,
idle connections kept for reuse.

Framework-neutral: the adapter supplies an :class:`IO` (open a TCP or TLS stream, bound
waits with a :class:`Timer`) and this module does the HTTP framing, the keep-alive pool and
the translation of failures into :mod:`aiogoogle.excs` (the seam's contract,
``aiogoogle._transport``). It never follows redirects and never decodes the body.

A connection is reused only after an exchange that ended cleanly, with nothing received
beyond the response (see :meth:`ConnectionPool._release`), and only if nothing arrived
while it was idle: a response's bytes never reach another request.
"""

from __future__ import annotations

import re
import select
import ssl as _ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import h11

from aiogoogle._http import HttpRequest, StreamBody
from aiogoogle.excs import ConnectError, ConnectTimeout, ReadTimeout, TransportError

__all__ = ["IO", "ByteStream", "ConnectionPool", "Expired", "H11Response", "H11Transport", "Timer", "idle_connection_dropped"]

T = TypeVar("T")

#: Bytes asked for per socket read while waiting for a response head (small answers).
READ_SIZE = 64 * 1024
#: The most bytes asked for per socket read of a response body. Reads start at
#: READ_SIZE and grow 4x each time one comes back full, so a large download takes few,
#: large reads (fewer trips through the event loop and h11 per byte: a 256 MiB download
#: on trio used 0.43-0.46 client CPU s with 64 KiB reads, ~0.33 with 256 KiB, ~0.31 with
#: 1 MiB) while small bodies never allocate big buffers.
BODY_READ_SIZE = 1024 * 1024


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


class Expired(Exception):
    """Raised out of a :class:`Timer` block when its time ran out."""


class Timer(Protocol):
    """Bounds every wait inside one ``with`` block, in one task.

    ``arm(seconds)`` (re)starts the clock: from now, the waits have ``seconds`` to finish
    (``None``: no limit). It may be called before the block is entered (the cheapest way to
    set the first limit on trio). Re-arming before each socket operation makes the limit a read
    timeout (the longest silence), not a total. When the time runs out the block is left
    with :class:`Expired`: a framework with cancel scopes (trio) cancels the block and turns
    the cancellation into :class:`Expired` on exit; one without (curio) raises it from
    :meth:`wait`. One timer per exchange instead of one per socket operation: a trio cancel
    scope costs ~5 us to open and close, several per request.
    """

    def __enter__(self) -> Timer: ...

    def __exit__(self, *exc: object) -> bool | None: ...

    def arm(self, seconds: float | None) -> None: ...

    def wait(self, fn: Callable[..., Awaitable[T]], *args: Any) -> Awaitable[T]:
        """What to await for ``fn(*args)`` within the armed time (a timer whose block
        already bounds every wait, as trio's cancel scope does, may return ``fn(*args)``
        itself: no coroutine around it)."""
        ...


class ByteStream(Protocol):
    """A connected TCP or TLS stream."""

    async def send_all(self, data: bytes) -> None: ...

    async def receive_some(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` bytes; ``b""`` at end of stream."""
        ...

    async def aclose(self) -> None:
        """Close at once (no graceful TLS shutdown: the connection is being dropped)."""
        ...

    def readable(self) -> bool:
        """Whether anything waits to be received: bytes in the socket, or already taken off
        it by a TLS layer and not yet returned by :meth:`receive_some` (decrypted, or
        still encrypted), or an EOF; also true when the socket is unusable.

        Asked of idle keep-alive connections only, where nothing may be pending (see
        :func:`idle_connection_dropped`); it must not block or read.
        """
        ...


class IO(Protocol):
    """What the framework provides to :class:`ConnectionPool`.

    ``connect`` raises :class:`OSError` (refused, DNS) or :class:`ssl.SSLError` (handshake,
    certificate) on failure; ``errors`` lists the framework's own exceptions for a broken
    or closed stream. ``timer()`` makes a fresh, unarmed :class:`Timer`.
    """

    errors: tuple[type[BaseException], ...]

    async def connect(self, host: str, port: int, ssl_context: _ssl.SSLContext | None) -> ByteStream: ...

    def timer(self) -> Timer: ...


def idle_connection_dropped(sock: _HasFileno | None) -> bool:
    """Whether an idle keep-alive connection was closed by the server (or is unusable).

    An idle HTTP/1.1 connection has nothing to read; if it is readable, the server sent
    EOF (or a TLS close_notify, or garbage) and the connection must not be reused.
    """
    if sock is None:
        return False
    try:
        if sock.fileno() < 0:
            return True
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _Connection:
    __slots__ = ("h11", "key", "reused", "stream")

    def __init__(self, stream: ByteStream, key: tuple[str, str, int, bool]) -> None:
        self.stream = stream
        self.key = key
        self.h11 = h11.Connection(our_role=h11.CLIENT)
        self.reused = False


# scheme://authority, the part of a URL that picks the connection.
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


class ConnectionPool:
    """Keep-alive connections per ``(scheme, host, port, verify)``.

    At most ``max_idle`` idle connections are kept per origin; more concurrent requests
    open more connections, and the surplus is closed when they finish.
    """

    def __init__(self, io: IO, ssl_context: _ssl.SSLContext, *, max_idle: int = 100) -> None:
        self._io = io
        self._errors: tuple[type[BaseException], ...] = (OSError, *io.errors)
        self._ssl = ssl_context
        self._insecure: _ssl.SSLContext | None = None
        self._max_idle = max_idle
        self._idle: dict[tuple[str, str, int, bool], list[_Connection]] = {}
        # origin -> (scheme, host, port, Host header): a client talks to a handful of
        # origins, and urlsplit on every request cost more than the rest of the URL work.
        self._origins: dict[str, tuple[str, str, int, str]] = {}
        # The last bodiless request's (headers, Host header, h11's validated headers): the
        # core gives every plain request of a client the same header tuple, and h11 takes
        # a validated header list as is. Checking a list's names and values (h11's regexes)
        # was 18 us of h11.Request's 23 us per request (trio, 50 tasks one request per
        # call). Only requests without a body: their header list depends on nothing else.
        self._last_head: tuple[tuple[tuple[str, str], ...], str, Any] | None = None
        self._closed = False

    # -- connections -------------------------------------------------------------------

    def _origin(self, url: str) -> tuple[tuple[str, str, int, str], str]:
        """The origin of ``url`` and the request target (path and query, no fragment)."""
        match = _ORIGIN.match(url)
        if match is None:
            raise TransportError("unsupported URL: no scheme://host", url=url)
        origin = match.group()
        target = url[match.end() :].partition("#")[0]
        if not target.startswith("/"):
            target = "/" + target
        info = self._origins.get(origin)
        if info is None:
            parts = urlsplit(origin)
            scheme = parts.scheme.lower()
            if scheme not in ("http", "https") or not parts.hostname:
                raise TransportError(f"unsupported URL scheme {scheme!r}", url=url)
            try:
                port = parts.port or (443 if scheme == "https" else 80)
            except ValueError:
                raise TransportError("invalid port in URL", url=url) from None
            info = (scheme, parts.hostname, port, parts.netloc.rpartition("@")[2])
            if len(self._origins) < 64:
                self._origins[origin] = info
        return info, target

    async def _checkout(self, key: tuple[str, str, int, bool]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            # An idle HTTP/1.1 connection has nothing to read: anything there is an EOF, a
            # TLS alert, or bytes sent after the last response ended. Those are not the
            # answer to the request we are about to send; RFC 9112 §6.3: "A client MUST NOT
            # process, cache, or forward such extra data as a separate response". Bytes
            # that arrive only after the next request went out cannot be told from its
            # answer by any HTTP/1.1 client.
            if not conn.stream.readable():
                conn.reused = True
                return conn
            await conn.stream.aclose()
        return None

    def _context(self, verify: bool) -> _ssl.SSLContext:
        if verify:
            return self._ssl
        if self._insecure is None:
            ctx = _ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = _ssl.CERT_NONE
            self._insecure = ctx
        return self._insecure

    async def _connect(self, key: tuple[str, str, int, bool], timeout: float | None, url: str) -> _Connection:
        scheme, host, port, verify = key
        ctx = self._context(verify) if scheme == "https" else None
        try:
            timer = self._io.timer()
            timer.arm(timeout)
            with timer:
                stream = await timer.wait(self._io.connect, host, port, ctx)
        except Expired:
            raise ConnectTimeout(f"connect timeout ({timeout} s)", url=url) from None
        except _ssl.SSLCertVerificationError as exc:
            raise ConnectError(f"TLS certificate verification failed: {exc.verify_message}", url=url) from None
        except _ssl.SSLError as exc:
            raise ConnectError(f"TLS handshake failed: {exc.reason or exc}", url=url) from None
        except OSError as exc:
            raise ConnectError(f"cannot connect: {exc.strerror or exc}", url=url) from None
        except self._io.errors as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, _ssl.SSLCertVerificationError):
                raise ConnectError(f"TLS certificate verification failed: {cause.verify_message}", url=url) from None
            raise ConnectError(f"cannot connect: {cause or exc}", url=url) from None
        return _Connection(stream, key)

    async def _release(self, conn: _Connection) -> None:
        """Keep ``conn`` for the next request only if its exchange ended cleanly; else close.

        Clean means: the request went out whole and the response was read to the end of
        its framing (RFC 9112 §6.3), neither side asked to close (h11 puts a side in
        MUST_CLOSE for ``Connection: close`` or an HTTP/1.0 answer, RFC 9112 §9.3 and
        §9.6), no protocol error (h11's ERROR state), and nothing received beyond the
        response. Every other way out of an exchange (an error, a cancellation at any
        await, a body left unread, an early answer to a request whose body was not all
        sent, RFC 9112 §9.5) leaves a state other than DONE on some side: the connection
        is closed, because what the server sends next on it is not known.
        """
        state = conn.h11
        if state.our_state is h11.DONE and state.their_state is h11.DONE:
            state.start_next_cycle()
        # IDLE on both sides: the exchange completed on a keep-alive connection (through
        # h11, or through H11Response._raw_chunks, which leaves a fresh h11 state).
        # Bytes h11 received past the end of the response (beyond its Content-Length,
        # after the last chunk, after a bodiless 204/304/HEAD answer) are a framing error
        # or an attempt at response smuggling, never the next response (RFC 9112 §6.3):
        # start_next_cycle() would parse them as one, so the connection goes.
        if (
            not self._closed
            and state.our_state is h11.IDLE
            and state.their_state is h11.IDLE
            and state.trailing_data == _NOTHING_RECEIVED
        ):
            idle = self._idle.setdefault(conn.key, [])
            if len(idle) < self._max_idle:
                idle.append(conn)
                return
        await conn.stream.aclose()

    async def close(self) -> None:
        """Close every idle connection; connections still in use close when released."""
        self._closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                await conn.stream.aclose()

    # -- one exchange ------------------------------------------------------------------

    async def send(self, request: HttpRequest) -> H11Response:
        """Send ``request`` and return once the response headers arrived."""
        (scheme, host, port, host_header), target = self._origin(request.url)
        key = (scheme, host, port, bool(request.verify_ssl))
        head, keep = self._head(request, host_header)
        replayable = isinstance(request.body, bytes)
        conn = await self._checkout(key)
        while True:
            if conn is None:
                conn = await self._connect(key, request.timeout.connect, request.url)
            try:
                return await self._exchange(conn, request, target, head, keep)
            except _Stale:
                # A reused connection the server closed just as we sent: retry once on a
                # fresh one, as every HTTP client does (the request was never processed).
                await conn.stream.aclose()
                if not replayable:
                    raise TransportError("server closed the connection before answering", url=request.url) from None
                conn = None
                replayable = False
            except BaseException:
                await conn.stream.aclose()
                raise

    def _head(self, request: HttpRequest, host_header: str) -> tuple[Any, str | None]:
        """The request's header list, or the validated headers kept from the last bodiless
        request with the same header tuple and Host; and the Host header under which this
        request's validated headers are to be kept (``None``: it has a body)."""
        body = request.body
        if type(body) is bytes and not body:
            last = self._last_head
            if last is not None and last[0] is request.headers and last[1] == host_header:
                return last[2], host_header
            return _request_headers(request, host_header), host_header
        return _request_headers(request, host_header), None

    def _request_event(self, request: HttpRequest, target: str, head: Any, host_header: str | None) -> h11.Request:
        """The request head as an h11 event. ``head`` is a header list, or h11's validated
        headers of an earlier request (taken as they are); ``host_header``: keep the
        validated headers of this (bodiless) request for the next one."""
        event = h11.Request(method=request.method, target=target, headers=head)
        if host_header is not None and head is not event.headers:
            self._last_head = (request.headers, host_header, event.headers)
        return event

    async def _exchange(self, conn: _Connection, request: HttpRequest, target: str, head: Any, host_header: str | None) -> H11Response:
        read_timeout = request.timeout.read
        url = request.url
        phase = "while sending the request"
        try:
            # One timer for the request and the response head, re-armed before every
            # socket operation: each one may take up to the read timeout.
            timer = self._io.timer()
            timer.arm(read_timeout)
            with timer:
                try:
                    await self._write(conn, timer, read_timeout, self._request_event(request, target, head, host_header))
                    body = request.body
                    if isinstance(body, bytes):
                        if body:
                            await self._write(conn, timer, read_timeout, h11.Data(data=body))
                    elif isinstance(body, StreamBody):  # the driver streams these
                        raise TypeError("a StreamBody must be turned into bytes by the driver")
                    else:
                        async for chunk in body:
                            if chunk:
                                await self._write(conn, timer, read_timeout, h11.Data(data=bytes(chunk)))
                    await self._write(conn, timer, read_timeout, h11.EndOfMessage())
                except self._errors as exc:
                    if conn.reused:
                        raise _Stale from exc
                    # The server may have answered early (an error) and closed: prefer its
                    # answer (RFC 9112 §9.5). Our side stays in SEND_BODY, so the connection
                    # is closed when the response is released.
                    if conn.h11.their_state is h11.SEND_RESPONSE:
                        phase = "waiting for the response"
                        try:
                            return await self._read_head(conn, request, timer, url)
                        except TransportError:
                            pass
                    raise _transport_error(exc, url, "while sending the request") from None
                phase = "waiting for the response"
                return await self._read_head(conn, request, timer, url)
        except Expired:
            raise ReadTimeout(f"read timeout ({read_timeout} s) {phase}", url=url) from None

    async def _write(self, conn: _Connection, timer: Timer, read_timeout: float | None, event: Any) -> None:
        data = conn.h11.send(event)
        if data:
            timer.arm(read_timeout)
            await timer.wait(conn.stream.send_all, data)

    async def _read_head(self, conn: _Connection, request: HttpRequest, timer: Timer, url: str) -> H11Response:
        read_timeout = request.timeout.read
        got_bytes = False
        while True:
            try:
                event = conn.h11.next_event()
                if event is h11.NEED_DATA:
                    timer.arm(read_timeout)
                    data = await timer.wait(conn.stream.receive_some, READ_SIZE)
                    if not data and conn.reused and not got_bytes:
                        raise _Stale
                    got_bytes = got_bytes or bool(data)
                    conn.h11.receive_data(data)
                    continue
            except self._errors as exc:
                if conn.reused and not got_bytes:
                    raise _Stale from exc
                raise _transport_error(exc, url, "while waiting for the response") from None
            except h11.RemoteProtocolError as exc:
                if conn.reused and not got_bytes:
                    raise _Stale from exc
                raise TransportError(f"invalid HTTP response: {exc}", url=url) from None
            if isinstance(event, h11.InformationalResponse):
                continue  # 100 Continue and friends
            if isinstance(event, h11.Response):
                return H11Response(self, conn, event, request)
            raise TransportError(f"unexpected HTTP event {type(event).__name__}", url=url)


#: h11's ``trailing_data`` when nothing was received beyond the response (no bytes, no EOF).
_NOTHING_RECEIVED = (b"", False)


class _Stale(Exception):
    """A reused connection turned out to be closed before any response byte arrived."""


def _request_headers(request: HttpRequest, host_header: str) -> list[tuple[str, str]]:
    names = {name.lower() for name, _ in request.headers}
    headers: list[tuple[str, str]] = []
    if "host" not in names:
        headers.append(("Host", host_header))
    headers.extend(request.headers)
    body = request.body
    if "content-length" not in names and "transfer-encoding" not in names:
        if isinstance(body, bytes):
            # An empty POST/PUT/PATCH already carries Content-Length: 0 (the core's
            # request encoding, aiogoogle._send.send_flow).
            if body:
                headers.append(("Content-Length", str(len(body))))
        else:
            headers.append(("Transfer-Encoding", "chunked"))
    return headers


def _transport_error(exc: BaseException, url: str, what: str) -> TransportError:
    cause = exc.__cause__ or exc.__context__
    detail = exc if isinstance(exc, OSError) or cause is None else cause
    text = getattr(detail, "strerror", None) or str(detail) or type(detail).__name__
    return TransportError(f"connection broken {what}: {text}", url=url)


def _raw_body_length(method: str, event: h11.Response, headers: list[tuple[str, str]]) -> int | None:
    """The body length when it can be read straight off the stream, else None.

    That is a ``Content-Length`` body on a response that has one (not to HEAD, not 204 or
    304; h11 has already rejected malformed or conflicting lengths); chunked bodies and
    bodies delimited by the connection's end go through h11.
    """
    if method.upper() == "HEAD" or event.status_code in (204, 304):
        return None
    length = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == "transfer-encoding":
            return None
        if lowered == "content-length":
            length = int(value)
    return length


class H11Response:
    """A response whose headers arrived; the body is read by :meth:`chunks` or :meth:`read`."""

    __slots__ = ("_conn", "_method", "_pool", "_read_timeout", "_response", "headers", "reason", "status", "url")

    def __init__(self, pool: ConnectionPool, conn: _Connection, event: h11.Response, request: HttpRequest) -> None:
        self._pool = pool
        self._conn: _Connection | None = conn
        self._response = event
        self._method = request.method
        self.status = event.status_code
        self.reason = event.reason.decode("latin-1")
        self.headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers.raw_items()]
        self.url = request.url
        self._read_timeout = request.timeout.read

    async def _receive(self, conn: _Connection, size: int) -> bytes:
        try:
            timer = self._pool._io.timer()
            timer.arm(self._read_timeout)
            with timer:
                return await timer.wait(conn.stream.receive_some, size)
        except Expired:
            raise ReadTimeout(f"read timeout ({self._read_timeout} s) while reading the body", url=self.url) from None
        except self._pool._errors as exc:
            raise _transport_error(exc, self.url, "while reading the body") from None

    def _buffered_event(self, conn: _Connection) -> Any:
        """The next body event from what h11 has buffered (``h11.NEED_DATA`` if none)."""
        try:
            event = conn.h11.next_event()
        except h11.RemoteProtocolError as exc:
            raise TransportError(f"incomplete response body: {exc}", url=self.url) from None
        if event is not h11.NEED_DATA and type(event) is not h11.Data and type(event) is not h11.EndOfMessage:
            raise TransportError(f"unexpected HTTP event {type(event).__name__}", url=self.url)
        return event

    async def _next_event(self, conn: _Connection, size: int) -> tuple[Any, int]:
        """The next body event (reading from the socket as needed) and the next read size."""
        while True:
            event = self._buffered_event(conn)
            if event is not h11.NEED_DATA:
                return event, size
            data = await self._receive(conn, size)
            if len(data) >= size and size < BODY_READ_SIZE:
                size = min(size * 4, BODY_READ_SIZE)
            conn.h11.receive_data(data)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, one piece per socket read (never more than one read is
        held). Stopping early leaves the body unread: :meth:`aclose` then closes the
        connection."""
        conn = self._conn
        if conn is None:
            return
        if conn.h11.their_state is h11.SEND_BODY:
            length = _raw_body_length(self._method, self._response, self.headers)
            if length is not None:
                raw = self._raw_chunks(conn, length)
                try:
                    async for chunk in raw:
                        yield chunk
                finally:
                    # Closed in this task when the reader stops early (curio refuses to
                    # finalise an async generator at garbage collection).
                    await raw.aclose()
                return
        size = READ_SIZE
        while True:
            event, size = await self._next_event(conn, size)
            if type(event) is h11.EndOfMessage:
                return
            yield bytes(event.data)

    async def _raw_chunks(self, conn: _Connection, length: int) -> AsyncGenerator[bytes, None]:
        """A ``Content-Length`` body read straight from the stream, bypassing h11.

        h11 would copy every byte twice (into its receive buffer, then out of it) and
        wrap it in an event: for a large download that was a third of the client's CPU.
        Once the last byte arrived, the connection gets a fresh h11 state, so it is reused
        exactly when h11 would have reused it.
        """
        buffered, closed = conn.h11.trailing_data
        remaining = length
        # h11 has seen both heads: a "Connection: close" on either side or an HTTP/1.0
        # answer already moved our side from DONE to MUST_CLOSE.
        reusable = conn.h11.our_state is h11.DONE and not closed
        if buffered:
            if len(buffered) > remaining:
                # Bytes beyond the Content-Length came with the head: a framing error or
                # a smuggled response (RFC 9112 §6.3); never reuse this connection.
                buffered = buffered[:remaining]
                reusable = False
            remaining -= len(buffered)
            yield buffered
        size = READ_SIZE
        while remaining:
            # Never ask for more than the body: bytes after it stay in the socket (or the
            # TLS layer), where the check of idle connections finds them (_checkout).
            data = await self._receive(conn, min(size, remaining))
            if not data:
                raise TransportError(f"incomplete response body: connection closed with {remaining} of {length} bytes missing", url=self.url)
            if len(data) >= size and size < BODY_READ_SIZE:
                size = min(size * 4, BODY_READ_SIZE)
            remaining -= len(data)
            yield data
        if reusable:
            conn.h11 = h11.Connection(our_role=h11.CLIENT)

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body (what :meth:`chunks` yields, joined), or, if it grows past
        ``limit`` bytes, the part that had arrived by then.

        With ``limit=None`` the body is read to its end. Otherwise reading stops as soon as
        more than ``limit`` bytes of body have arrived: the result is then longer than
        ``limit`` (by at most one socket read) and the rest of the body stays unread, so
        :meth:`aclose` closes the connection. A result of at most ``limit`` bytes is the
        whole body. So the memory held is bounded by the limit plus one read, whatever the
        framing (``Content-Length``, chunked, or until the connection closes); the caller
        tells the two outcomes apart by the length. Fails like :meth:`chunks`.

        The usual small body arrived with the head: it is taken from h11's buffer without
        any timer or async generator.
        """
        conn = self._conn
        if conn is None:
            return b""
        parts: list[bytes] = []
        event = self._buffered_event(conn)
        size = READ_SIZE
        while True:
            if event is h11.NEED_DATA:
                event, size = await self._next_event(conn, size)
            if type(event) is h11.EndOfMessage:
                break
            data = bytes(event.data)
            parts.append(data)
            if limit is not None:
                limit -= len(data)
                if limit < 0:
                    break  # past the limit: the body is not read to its end (aclose closes)
            event = self._buffered_event(conn)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def aclose(self) -> None:
        """Back to the pool when the exchange is complete, closed otherwise."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool._release(conn)


class H11Transport:
    """The HTTP half of a session on this pool: ``send`` and ``close``. A framework's
    session class derives from it (before its other bases) and passes its :class:`IO`.

    Args:
        ssl_context: an :class:`ssl.SSLContext` for TLS (e.g. trusting a private CA or
            presenting a client certificate). Certificates are verified by default.
        ca_file: a PEM file of CA certificates to trust instead of the system store.
        max_idle: how many idle keep-alive connections are kept per origin.
    """

    _io: IO

    def __init__(self, *, ssl_context: _ssl.SSLContext | None = None, ca_file: str | None = None, max_idle: int = 100) -> None:
        if ssl_context is None:
            ssl_context = _ssl.create_default_context(cafile=ca_file)
        self._pool = ConnectionPool(self._io, ssl_context, max_idle=max_idle)

    async def send(self, request: HttpRequest) -> H11Response:
        return await self._pool.send(request)

    async def close(self) -> None:
        await self._pool.close()
