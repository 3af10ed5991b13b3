"""The h11 connection pool (adapters/_h11.py) against scripted servers, without sockets.

The fake streams never block, so every coroutine runs to completion on the first
``send(None)``: no event loop is needed, and each case is exact about what the server sent
and what the client did with its connections.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._http import HttpRequest
from aiogoogle.excs import TransportError
from aiogoogle.sessions._h11 import ConnectionPool

T = TypeVar("T")
# Never used by the fake streams; create_default_context() would load the system's CA
# store (~0.1 s) for every pool.
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    raise AssertionError("the coroutine waited for something")


class Boom(BaseException):
    """Stands for a cancellation (trio.Cancelled, curio.TaskCancelled) arriving at an await."""


class FakeStream:
    """Answers each request it receives with the next scripted response bytes.

    ``boom_at``: raise :class:`Boom` from the socket operation with that index (counted
    over sends and receives together), as a cancellation at that await would.
    ``fail_body_send``: every send after the request head fails like a broken pipe, as when
    a server answers early and closes without reading the body.
    """

    def __init__(self, io: FakeIO) -> None:
        self.io = io
        self.pending = bytearray()
        self.sent = b""
        self.received = 0
        self.closed = False

    def _tick(self) -> None:
        self.io.operations += 1
        if self.io.operations - 1 == self.io.boom_at:
            raise Boom

    async def send_all(self, data: bytes) -> None:
        assert not self.closed
        self._tick()
        if self.io.fail_body_send and self.sent.endswith(b"\r\n\r\n"):
            raise BrokenPipeError(32, "Broken pipe")
        self.sent += data
        if data.endswith(b"\r\n\r\n") and self.io.answers:
            self.pending += self.io.answers.pop(0)

    async def receive_some(self, max_bytes: int) -> bytes:
        assert not self.closed
        self._tick()
        size = min(max_bytes, self.io.read_size or max_bytes)
        data = bytes(self.pending[:size])
        del self.pending[:size]  # cheap at the front of a bytearray: bytewise reads stay fast
        self.received += len(data)
        return data

    async def aclose(self) -> None:
        self.closed = True

    def readable(self) -> bool:
        return bool(self.pending)


class NullTimer:
    def __enter__(self) -> NullTimer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def arm(self, seconds: float | None) -> None:
        pass

    async def wait(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return await fn(*args)


class FakeIO:
    errors: tuple[type[BaseException], ...] = ()

    def __init__(self, answers: list[bytes], read_size: int | None = None) -> None:
        self.answers = answers
        self.read_size = read_size
        self.streams: list[FakeStream] = []
        self.operations = 0
        self.boom_at: int | None = None
        self.fail_body_send = False

    async def connect(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> FakeStream:
        # Each connection answers from the shared script, in order.
        stream = FakeStream(self)
        self.streams.append(stream)
        return stream

    def timer(self) -> NullTimer:
        return NullTimer()


def exchange(
    pool: ConnectionPool,
    method: str = "GET",
    streamed: bool = True,
    *,
    limit: int | None = None,
    body: bytes = b"",
    sizes: list[int] | None = None,
) -> bytes:
    """One request through ``pool``: the body by ``chunks()`` (their sizes appended to
    ``sizes``) or by ``read(limit)``, then ``aclose()`` whatever happened."""

    async def go() -> bytes:
        raw = await pool.send(HttpRequest(method, "http://example.test/x", body=body))
        try:
            if streamed:
                parts = [chunk async for chunk in raw.chunks()]
                if sizes is not None:
                    sizes.extend(map(len, parts))
                return b"".join(parts)
            return await raw.read(limit)
        finally:
            await raw.aclose()

    return run(go())


def ok(body: bytes, *extra: bytes, version: bytes = b"1.1") -> bytes:
    head = b"HTTP/" + version + b" 200 OK\r\ncontent-length: " + str(len(body)).encode() + b"\r\n"
    return head + b"".join(h + b"\r\n" for h in extra) + b"\r\n" + body


@pytest.mark.parametrize("streamed", [True, False], ids=["chunks", "read"])
@pytest.mark.parametrize(
    ("first", "method", "reused"),
    [
        (ok(b"a" * 300_000), "GET", True),
        (ok(b"abc", b"connection: close"), "GET", False),
        (ok(b"abc", version=b"1.0"), "GET", False),
        (ok(b""), "GET", True),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n", "HEAD", True),
        (b"HTTP/1.1 204 No Content\r\n\r\n", "GET", True),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "GET",
            True,
        ),
    ],
    ids=["large", "connection-close", "http-1.0", "empty", "head", "204", "chunked"],
)
def test_connections_are_reused_exactly_when_http_allows(
    first: bytes, method: str, reused: bool, streamed: bool
) -> None:
    io = FakeIO([first, ok(b"second")], read_size=65536)
    pool = ConnectionPool(io, TLS)
    body = exchange(pool, method, streamed)
    expected = first.partition(b"\r\n\r\n")[2] if method != "HEAD" else b""
    if b"chunked" in first:
        expected = b"abc"
    assert body == expected
    assert exchange(pool, streamed=streamed) == b"second"
    assert len(io.streams) == (1 if reused else 2)
    assert io.streams[0].closed is not reused


def test_bytes_beyond_the_content_length_are_dropped_with_the_connection() -> None:
    io = FakeIO([ok(b"abc") + b"garbage", ok(b"second")])
    pool = ConnectionPool(io, TLS)
    assert exchange(pool) == b"abc"
    assert exchange(pool) == b"second"
    assert len(io.streams) == 2 and io.streams[0].closed


# A complete response a confused server (or an attacker who controls part of a body) may
# append: a client that reused the connection would take it as the next request's answer.
FAKE = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nfake"
CHUNKED = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
# name -> (method, answer, body the client must see)
FRAMINGS = {
    "content-length": ("GET", ok(b"abc"), b"abc"),
    # Larger than the first read (READ_SIZE): the rest comes straight off the stream.
    "large": ("GET", ok(b"L" * 70_000), b"L" * 70_000),
    "chunked": ("GET", CHUNKED + b"3\r\nabc\r\n0\r\n\r\n", b"abc"),
    "chunked-trailer": ("GET", CHUNKED + b"3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n", b"abc"),
    "head": ("HEAD", b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n", b""),
    "204": ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", b""),
    "304": ("GET", b"HTTP/1.1 304 Not Modified\r\ncontent-length: 3\r\n\r\n", b""),
    "informational": ("GET", b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"abc"), b"abc"),
}


@pytest.mark.parametrize("streamed", [True, False], ids=["chunks", "read"])
@pytest.mark.parametrize("read_size", [None, 1, 7], ids=["one-read", "bytewise", "small-reads"])
@pytest.mark.parametrize("framing", list(FRAMINGS))
def test_a_clean_exchange_keeps_its_connection(
    framing: str, read_size: int | None, streamed: bool
) -> None:
    # The control for the tests below: the same answers without extra bytes are reused, so
    # closing is caused by the extra bytes, not by the framing.
    method, answer, expected = FRAMINGS[framing]
    io = FakeIO([answer, ok(b"second")], read_size=read_size)
    pool = ConnectionPool(io, TLS)
    assert exchange(pool, method, streamed) == expected
    assert exchange(pool, streamed=streamed) == b"second"
    assert len(io.streams) == 1 and not io.streams[0].closed


@pytest.mark.parametrize("streamed", [True, False], ids=["chunks", "read"])
@pytest.mark.parametrize("arrival", ["with-the-body", "bytewise", "small-reads", "later"])
@pytest.mark.parametrize(
    "extra", [FAKE, b"garbage", b"\r\n"], ids=["fake-response", "garbage", "crlf"]
)
@pytest.mark.parametrize("framing", list(FRAMINGS))
def test_bytes_after_a_response_close_its_connection(
    framing: str, extra: bytes, arrival: str, streamed: bool
) -> None:
    # RFC 9112 §6.3: "A client MUST NOT process, cache, or forward such extra data as a
    # separate response". Whether the extra bytes came in the read that ended the body,
    # stayed in the socket, or arrived while the connection sat idle, the next request
    # gets its own answer on a new connection.
    method, answer, expected = FRAMINGS[framing]
    read_size = {"bytewise": 1, "small-reads": 7}.get(arrival)
    io = FakeIO(
        [answer if arrival == "later" else answer + extra, ok(b"second")], read_size=read_size
    )
    pool = ConnectionPool(io, TLS)
    assert exchange(pool, method, streamed) == expected
    if arrival == "later":
        io.streams[0].pending += extra
    assert exchange(pool, streamed=streamed) == b"second"
    assert len(io.streams) == 2 and io.streams[0].closed


@pytest.mark.parametrize("streamed", [True, False], ids=["chunks", "read"])
def test_an_early_answer_while_the_body_is_sent_closes_the_connection(streamed: bool) -> None:
    # The server answered before reading the whole request body and stopped reading
    # (RFC 9112 §9.5): the client takes the answer, but the request was never completed,
    # so the connection cannot carry another one.
    io = FakeIO([b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\n\r\nbig", ok(b"second")])
    io.fail_body_send = True
    pool = ConnectionPool(io, TLS)
    assert exchange(pool, "POST", streamed, body=b"x" * 100) == b"big"
    assert io.streams[0].closed
    assert exchange(pool, streamed=streamed) == b"second"
    assert len(io.streams) == 2


@pytest.mark.parametrize("streamed", [True, False], ids=["chunks", "read"])
@pytest.mark.parametrize("framing", ["content-length", "large", "chunked", "informational"])
def test_a_cancellation_at_any_await_closes_the_connection(framing: str, streamed: bool) -> None:
    # Every socket operation of one exchange, in turn, raises a BaseException (what a
    # trio or curio cancellation is): it propagates as is, the half-used connection is
    # closed, and the next exchange gets a fresh one.
    method, answer, expected = FRAMINGS[framing]
    # Small reads, so that the head and the body each take several.
    read_size = 4096 if framing == "large" else 5
    dry = FakeIO([answer], read_size=read_size)
    assert exchange(ConnectionPool(dry, TLS), method, streamed) == expected
    assert dry.operations >= 4
    for boom_at in range(dry.operations):
        io = FakeIO([answer, ok(b"second")], read_size=read_size)
        io.boom_at = boom_at
        pool = ConnectionPool(io, TLS)
        with pytest.raises(Boom):
            exchange(pool, method, streamed)
        assert io.streams[0].closed, boom_at
        io.answers[:] = [ok(b"second")]  # the first answer may not have been taken yet
        assert exchange(pool, streamed=streamed) == b"second"
        assert len(io.streams) == 2


BIG = bytes(range(256)) * 400  # 102400 bytes
LIMIT_ANSWERS = {
    "content-length": ok(BIG),
    "chunked": CHUNKED
    + b"".join(
        b"%x\r\n" % len(BIG[i : i + 1000]) + BIG[i : i + 1000] + b"\r\n"
        for i in range(0, len(BIG), 1000)
    )
    + b"0\r\n\r\n",
    "one-big-chunk": CHUNKED + b"%x\r\n" % len(BIG) + BIG + b"\r\n0\r\n\r\n",
    "until-close": b"HTTP/1.1 200 OK\r\n\r\n" + BIG,
}


@pytest.mark.parametrize("limit", [None, 0, 1, 5000, len(BIG) - 1, len(BIG), 10**9])
@pytest.mark.parametrize("framing", list(LIMIT_ANSWERS))
def test_read_with_a_limit_stops_soon_after_it(framing: str, limit: int | None) -> None:
    read_size = 4096
    answer = LIMIT_ANSWERS[framing]
    head = answer.index(b"\r\n\r\n") + 4
    io = FakeIO([answer, ok(b"second")], read_size=read_size)
    pool = ConnectionPool(io, TLS)
    body = exchange(pool, streamed=False, limit=limit)
    assert BIG.startswith(body)
    whole = limit is None or limit >= len(BIG)
    if whole:
        assert body == BIG
    else:
        # Stopped as soon as it had more than the limit: at most one read beyond it was
        # returned, and at most one more read (and chunk framing) was taken from the socket.
        assert limit < len(body) <= limit + read_size
        assert io.streams[0].received - head <= limit + limit // 100 + 2 * read_size
        assert io.streams[0].closed  # the rest of the body is still coming: never reused
    assert exchange(pool) == b"second"
    assert len(io.streams) == (1 if whole and framing != "until-close" else 2)


@pytest.mark.parametrize("framing", list(LIMIT_ANSWERS))
def test_chunks_hold_at_most_one_read(framing: str) -> None:
    io = FakeIO([LIMIT_ANSWERS[framing]], read_size=3000)
    pool = ConnectionPool(io, TLS)
    sizes: list[int] = []
    assert exchange(pool, sizes=sizes) == BIG
    assert max(sizes) <= 3000


@pytest.mark.parametrize("streamed", [True, False], ids=["chunks", "read"])
def test_a_body_cut_short_raises_and_closes_the_connection(streamed: bool) -> None:
    io = FakeIO([b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n" + b"x" * 60])
    pool = ConnectionPool(io, TLS)
    with pytest.raises(TransportError, match="incomplete response body"):
        exchange(pool, streamed=streamed)
    assert io.streams[0].closed


def test_an_abandoned_body_closes_the_connection() -> None:
    io = FakeIO([ok(b"z" * 200_000), ok(b"second")], read_size=1000)
    pool = ConnectionPool(io, TLS)

    async def go() -> bytes:
        raw = await pool.send(HttpRequest("GET", "http://example.test/x"))
        chunks = raw.chunks()
        first = await chunks.__anext__()
        await chunks.aclose()  # type: ignore[attr-defined]
        await raw.aclose()
        return first

    assert run(go())
    assert io.streams[0].closed
    assert exchange(pool) == b"second" and len(io.streams) == 2


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=5000), read_size=st.integers(1, 4096), streamed=st.booleans())
def test_any_body_in_any_read_sizes_arrives_whole(
    body: bytes, read_size: int, streamed: bool
) -> None:
    io = FakeIO([ok(body), ok(b"next")], read_size=read_size)
    pool = ConnectionPool(io, TLS)
    assert exchange(pool, streamed=streamed) == body
    assert exchange(pool, streamed=streamed) == b"next"
    assert len(io.streams) == 1


@pytest.mark.parametrize(
    ("url", "target", "host"),
    [
        ("http://example.test", "/", "example.test"),
        ("http://example.test?a=1#frag", "/?a=1", "example.test"),
        ("http://user:pw@example.test:8080/p/q?x=%2F#f", "/p/q?x=%2F", "example.test:8080"),
        ("HTTP://Example.test/a", "/a", "Example.test"),
    ],
)
def test_request_target_and_host_header(url: str, target: str, host: str) -> None:
    io = FakeIO([ok(b"")])
    pool = ConnectionPool(io, TLS)

    async def go() -> None:
        raw = await pool.send(HttpRequest("GET", url))
        await raw.read()
        await raw.aclose()

    run(go())
    head = io.streams[0].sent.split(b"\r\n")
    assert head[0] == b"GET " + target.encode() + b" HTTP/1.1"
    assert b"Host: " + host.encode() in head


@pytest.mark.parametrize(
    "url", ["ftp://example.test/x", "example.test/x", "http:///x", "http://example.test:99999/"]
)
def test_unusable_urls_raise_transport_errors(url: str) -> None:
    pool = ConnectionPool(FakeIO([]), TLS)
    with pytest.raises(TransportError):
        run(pool.send(HttpRequest("GET", url)))


@settings(max_examples=300, deadline=None)
@given(
    answer=st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda version, status, headers, body, extra: (
                version + b" " + status + b"\r\n" + headers + b"\r\n" + body + extra
            ),
            st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"HTTX/1.1"]),
            st.sampled_from(
                [
                    b"200 OK",
                    b"204 No Content",
                    b"304 Not Modified",
                    b"100 Continue",
                    b"101 Switching",
                    b"999 X",
                    b"20 Short",
                    b"200",
                ]
            ),
            st.lists(
                st.sampled_from(
                    [
                        b"content-length: 3\r\n",
                        b"content-length: 0\r\n",
                        b"content-length: -1\r\n",
                        b"content-length: 99999999999999999999\r\n",
                        b"content-length: 3, 4\r\n",
                        b"transfer-encoding: chunked\r\n",
                        b"transfer-encoding: gzip\r\n",
                        b"connection: close\r\n",
                        b"x: \x00\r\n",
                        b" folded\r\n",
                        b"no-colon\r\n",
                    ]
                ),
                max_size=4,
            ).map(b"".join),
            st.one_of(
                st.binary(max_size=40),
                st.sampled_from(
                    [b"", b"abc", b"3\r\nabc\r\n0\r\n\r\n", b"3\r\nabc\r\n0\r\nt: 1\r\n\r\n"]
                ),
            ),
            st.sampled_from([b"", b"", FAKE, b"garbage", b"\r\n", b"0\r\n\r\n"]),
        ),
    ),
    read_size=st.integers(1, 64),
    streamed=st.booleans(),
    limit=st.one_of(st.none(), st.integers(0, 50)),
)
def test_any_server_bytes_give_a_body_or_a_transport_error(
    answer: bytes, read_size: int, streamed: bool, limit: int | None
) -> None:
    # Whatever a server sends (then closing the connection), the pool answers with a body or
    # our TransportError: never an h11 or ValueError exception, never a hang; a buffered
    # body stays within its limit plus one read; and the next request gets its own answer:
    # after an error, a body read only in part or bytes left over, on a new connection.
    io = FakeIO([answer, ok(b"second")], read_size=read_size)
    pool = ConnectionPool(io, TLS)
    sizes: list[int] = []
    clean = True
    try:
        body = exchange(pool, streamed=streamed, limit=limit, sizes=sizes)
    except TransportError:
        clean = False
    else:
        assert isinstance(body, bytes)
        assert max(sizes, default=0) <= read_size
        if limit is not None and len(body) > limit:
            assert len(body) <= limit + read_size
            clean = False
    if io.streams[0].pending:
        clean = False  # bytes the client never read
    assert exchange(pool, streamed=streamed) == b"second"
    # No connection kept open has bytes nobody read: the real answer was not left behind
    # a fake one taken in its place.
    assert all(stream.closed or not stream.pending for stream in io.streams)
    if not clean:
        assert io.streams[0].closed and len(io.streams) == 2
