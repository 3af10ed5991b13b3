"""The h11 sessions (trio, curio-h11) never hand one request another response's bytes.

A server answers the first request with a complete response followed by more bytes: a
whole fake ``HTTP/1.1 200 OK`` response, after a body longer than its ``Content-Length``,
after a chunked body's last chunk, or some time later. RFC 9112 §6.3: "A client MUST NOT
process, cache, or forward such extra data as a separate response, since such behavior
would be vulnerable to cache poisoning". The second request must get its own answer, on a
new connection (the server counts the connections it accepted), whether the first body was
read whole (``read()``) or streamed (``chunks()``), over plain TCP and over TLS (where the
extra bytes can wait in the TLS layer, above the socket).
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from aiogoogle._http import HttpRequest, Timeout
from aiogoogle.sessions.backends import run, session_class
from tests.hostile import HostileServer, Received, http_head

H11_BACKENDS = ["trio", "curio-h11"]

FAKE = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nfake"
SECOND = b"the real second answer"


def _ok(body: bytes) -> bytes:
    return http_head(200, [("content-length", str(len(body)))]) + body


def _chunked(body: bytes) -> bytes:
    return http_head(200, [("transfer-encoding", "chunked")]) + b"%x\r\n%s\r\n0\r\n\r\n" % (
        len(body),
        body,
    )


@dataclass
class Case:
    """What the server sends for the first request: ``(seconds to wait, bytes)`` pieces."""

    pieces: list[tuple[float, bytes]]
    first: bytes  # the body the client must see
    tls: bool = False
    pause: float = 0.0  # the client's wait between its two requests


LARGE = bytes(range(256)) * 400  # 102400 bytes: many TLS records and socket reads

CASES = {
    # The extra bytes in the same write as the body: usually in the same read too.
    "content-length": Case([(0, _ok(b"first") + FAKE)], b"first"),
    "after-last-chunk": Case([(0, _chunked(b"first") + FAKE)], b"first"),
    "large-content-length": Case([(0, _ok(LARGE) + FAKE)], LARGE),
    # The extra bytes come later, while the connection is idle in the pool.
    "later": Case([(0, _ok(b"first")), (0.1, FAKE)], b"first", pause=0.4),
    "later-after-last-chunk": Case([(0, _chunked(b"first")), (0.1, FAKE)], b"first", pause=0.4),
    # TLS: the body's last record also holds the fake response, or the fake response is a
    # record of its own that arrives right after; either may be taken off the socket by
    # the TLS layer before the body is read, where select() on the socket does not see it.
    "tls-same-record": Case([(0, _ok(LARGE) + FAKE)], LARGE, tls=True),
    "tls-next-record": Case([(0, _ok(b"first")), (0, FAKE)], b"first", tls=True, pause=0.2),
}


@dataclass
class TLSHostileServer(HostileServer):
    """The hostile server behind TLS (a throw-away trustme CA)."""

    context: Any = None

    def _serve(self, client: socket.socket, index: int) -> None:
        try:
            wrapped = self.context.wrap_socket(client, server_side=True)
        except OSError:  # ssl.SSLError included: the client gave up during the handshake
            client.close()
            return
        super()._serve(wrapped, index)


@pytest.fixture(scope="module")
def ca() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


def _server(case: Case, ca: Any) -> HostileServer:
    if not case.tls:
        return HostileServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = TLSHostileServer(context=context)
    server.url = server.url.replace("http://", "https://")
    return server


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


@pytest.fixture
def server(case: Case, ca: Any) -> Iterator[HostileServer]:
    with _server(case, ca) as srv:

        def first(request: Received, client: socket.socket) -> bool:
            for delay, data in case.pieces:
                time.sleep(delay)
                client.sendall(data)
            return True

        def second(request: Received, client: socket.socket) -> bool:
            client.sendall(_ok(SECOND))
            return True

        srv.route("/first", first)
        srv.route("/second", second)
        yield srv


@pytest.mark.parametrize("streamed", [False, True], ids=["read", "chunks"])
@pytest.mark.parametrize("backend", H11_BACKENDS)
def test_bytes_after_a_response_never_answer_the_next_request(
    backend: str, case: Case, server: HostileServer, ca: Any, streamed: bool
) -> None:
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)

    async def body_of(session: Any, path: str) -> bytes:
        raw = await session.send(
            HttpRequest("GET", server.url + path, timeout=Timeout(connect=5, read=5))
        )
        try:
            if streamed:
                return b"".join([chunk async for chunk in raw.chunks()])
            return bytes(await raw.read())
        finally:
            await raw.aclose()

    async def scenario() -> tuple[bytes, bytes]:
        session = session_class(backend)(ssl_context=client_tls)
        try:
            first = await body_of(session, "/first")
            await session.sleep(case.pause)
            return first, await body_of(session, "/second")
        finally:
            await session.close()

    first, second = run(backend, scenario)
    assert first == case.first
    assert second == SECOND
    assert server.connections == 2
    assert [r.connection for r in server.received] == [0, 1]


ENDLESS_HEADS = {
    "chunked": http_head(200, [("transfer-encoding", "chunked")]),
    "content-length": http_head(200, [("content-length", str(10**12))]),
    "until-close": http_head(200, [("connection", "close")]),
}


@pytest.mark.parametrize("framing", list(ENDLESS_HEADS))
@pytest.mark.parametrize("backend", H11_BACKENDS)
def test_read_with_a_limit_stops_an_endless_body(backend: str, framing: str) -> None:
    # A body that never ends, in each framing: read(limit) returns soon after the limit
    # (at most one socket read beyond it), and the connection is not reused.
    from aiogoogle.sessions._h11 import BODY_READ_SIZE

    limit = 300_000
    piece = b"z" * 65536
    frame = b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece

    def endless(request: Received, client: socket.socket) -> bool:
        client.sendall(ENDLESS_HEADS[framing])
        while True:
            client.sendall(frame)  # raises once the client closed: the serving thread ends

    def second(request: Received, client: socket.socket) -> bool:
        client.sendall(_ok(SECOND))
        return True

    async def scenario(url: str) -> tuple[int, bytes]:
        session = session_class(backend)()
        timeout = Timeout(connect=5, read=5)
        try:
            raw = await session.send(HttpRequest("GET", url + "/endless", timeout=timeout))
            try:
                size = len(await raw.read(limit))
            finally:
                await raw.aclose()
            raw = await session.send(HttpRequest("GET", url + "/second", timeout=timeout))
            try:
                return size, bytes(await raw.read(limit))
            finally:
                await raw.aclose()
        finally:
            await session.close()

    with HostileServer() as server:
        server.route("/endless", endless)
        server.route("/second", second)
        size, body = run(backend, scenario, server.url)
        assert limit < size <= limit + BODY_READ_SIZE
        assert body == SECOND
        assert server.connections == 2
