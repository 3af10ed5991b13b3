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


def run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    raise AssertionError("the coroutine waited for something")


class FakeStream:
    """Answers each request it receives with the next scripted response bytes."""

    def __init__(self, answers: list[bytes], read_size: int | None) -> None:
        self.answers = answers
        self.pending = b""
        self.sent = b""
        self.closed = False
        self.read_size = read_size

    async def send_all(self, data: bytes) -> None:
        assert not self.closed
        self.sent += data
        if data.endswith(b"\r\n\r\n") and self.answers:
            self.pending += self.answers.pop(0)

    async def receive_some(self, max_bytes: int) -> bytes:
        size = min(max_bytes, self.read_size or max_bytes)
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    async def aclose(self) -> None:
        self.closed = True

    def raw_socket(self) -> None:
        return None


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

    async def connect(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> FakeStream:
        # Each connection answers from the shared script, in order.
        stream = FakeStream(self.answers, self.read_size)
        self.streams.append(stream)
        return stream

    def timer(self) -> NullTimer:
        return NullTimer()


def exchange(pool: ConnectionPool, method: str = "GET", streamed: bool = True) -> bytes:
    async def go() -> bytes:
        raw = await pool.send(HttpRequest(method, "http://example.test/x"))
        try:
            if streamed:
                return b"".join([chunk async for chunk in raw.chunks()])
            return await raw.read()
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
    pool = ConnectionPool(io, ssl.create_default_context())
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
    pool = ConnectionPool(io, ssl.create_default_context())
    assert exchange(pool) == b"abc"
    assert exchange(pool) == b"second"
    assert len(io.streams) == 2 and io.streams[0].closed


@pytest.mark.parametrize("streamed", [True, False], ids=["chunks", "read"])
def test_a_body_cut_short_raises_and_closes_the_connection(streamed: bool) -> None:
    io = FakeIO([b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n" + b"x" * 60])
    pool = ConnectionPool(io, ssl.create_default_context())
    with pytest.raises(TransportError, match="incomplete response body"):
        exchange(pool, streamed=streamed)
    assert io.streams[0].closed


def test_an_abandoned_body_closes_the_connection() -> None:
    io = FakeIO([ok(b"z" * 200_000), ok(b"second")], read_size=1000)
    pool = ConnectionPool(io, ssl.create_default_context())

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
    pool = ConnectionPool(io, ssl.create_default_context())
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
    pool = ConnectionPool(io, ssl.create_default_context())

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
    pool = ConnectionPool(FakeIO([]), ssl.create_default_context())
    with pytest.raises(TransportError):
        run(pool.send(HttpRequest("GET", url)))


@settings(max_examples=300, deadline=None)
@given(
    answer=st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda status, headers, body: b"HTTP/1.1 " + status + b"\r\n" + headers + b"\r\n" + body,
            st.sampled_from([b"200 OK", b"204 No Content", b"100 Continue", b"999 X", b"20 Short", b"200"]),
            st.lists(
                st.sampled_from(
                    [
                        b"content-length: 3\r\n",
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
            st.binary(max_size=40),
        ),
    ),
    read_size=st.integers(1, 64),
    streamed=st.booleans(),
)
def test_any_server_bytes_give_a_body_or_a_transport_error(answer: bytes, read_size: int, streamed: bool) -> None:
    # Whatever a server sends (then closing the connection), the pool answers with a body or
    # our TransportError: never an h11 or ValueError exception, never a hang.
    io = FakeIO([answer], read_size=read_size)
    pool = ConnectionPool(io, ssl.create_default_context())
    try:
        body = exchange(pool, streamed=streamed)
    except TransportError:
        return
    assert isinstance(body, bytes)
