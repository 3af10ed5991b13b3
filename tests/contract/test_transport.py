"""The adapter seam, on every adapter (``aiogoogle._transport.Session``).

Each test talks to a session directly with :class:`~aiogoogle._http.HttpRequest` and checks
what the seam promises: bytes exactly as received (no decompression, no redirects, no 308
handling), TLS verified, connect/read timeouts and broken connections translated into
:mod:`aiogoogle.excs`, connections reused, and ``gather`` semantics (order, first failure
raised itself and the rest cancelled, total timeout).
"""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from aiogoogle import Timeout
from aiogoogle._http import HttpRequest
from aiogoogle.excs import ConnectError, ConnectTimeout, ReadTimeout, RequestTimeout, TransportError
from aiogoogle.testing import LocalGoogleServer, Reply
from aiogoogle.testing.server import pattern_bytes

from ..conftest import Backend
from ..faultproxy import read_head


async def fetch(session: Any, request: HttpRequest) -> tuple[Any, bytes, int]:
    """Send, read the body chunk by chunk, release; (raw response, body, chunk count)."""
    raw = await session.send(request)
    try:
        chunks = [chunk async for chunk in raw.chunks()]
    finally:
        await raw.aclose()
    return raw, b"".join(chunks), len(chunks)


def get(url: str, **kw: Any) -> HttpRequest:
    return HttpRequest("GET", url, **kw)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (kernel backlog) but never says anything."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def test_status_headers_and_streamed_body(backend: Backend, clean_server: LocalGoogleServer) -> None:
    n = 300_000

    async def scenario() -> Any:
        async with backend.session() as s:
            return await fetch(s, get(f"{clean_server.url}bytes/{n}?chunk=16384&delay=0.001"))

    raw, body, count = backend.run(scenario)
    assert raw.status == 200 and raw.reason == "OK"
    names = {k.lower(): v for k, v in raw.headers}
    assert names["content-length"] == str(n) and names["content-type"] == "application/octet-stream"
    assert body == pattern_bytes(n)
    assert count > 1  # streamed as it arrived, not buffered into one piece


def test_request_bodies_bytes_and_streamed(backend: Backend, clean_server: LocalGoogleServer) -> None:
    payload = pattern_bytes(200_000)

    async def parts() -> Any:
        for i in range(0, len(payload), 50_000):
            yield payload[i : i + 50_000]

    async def scenario() -> Any:
        async with backend.session() as s:
            a = await fetch(s, HttpRequest("POST", f"{clean_server.url}echo/a", (("content-type", "application/octet-stream"),), payload))
            b = await fetch(s, HttpRequest("PUT", f"{clean_server.url}echo/b", (("content-type", "application/octet-stream"),), parts()))
            return a, b

    backend.run(scenario)
    a, b = clean_server.log
    assert a.body == payload and b.body == payload
    assert a.headers["content-length"] == str(len(payload))
    # An empty POST's Content-Length: 0 is the core's request encoding, not the seam's:
    # tests/contract/test_empty_body_length.py checks it on every adapter.


def test_gzip_is_kept_raw_at_the_seam(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with backend.session() as s:
            return await fetch(s, get(f"{clean_server.url}gzip?size=5000", headers=(("accept-encoding", "gzip"),)))

    raw, body, _ = backend.run(scenario)
    assert dict((k.lower(), v) for k, v in raw.headers)["content-encoding"] == "gzip"
    assert body[:2] == b"\x1f\x8b"
    assert gzip.decompress(body).startswith(b'{"gzipped": true')


def test_308_and_redirects_are_returned_not_followed(backend: Backend, clean_server: LocalGoogleServer) -> None:
    target = f"{clean_server.url}echo/target"

    async def scenario() -> Any:
        async with backend.session() as s:
            r308 = await fetch(s, HttpRequest("PUT", f"{clean_server.url}resume308?received=10", body=b"0123456789"))
            out = [r308]
            for status in (301, 302, 303, 307, 308):
                out.append(await fetch(s, get(f"{clean_server.url}redirect?status={status}&to={target}")))
            return out

    r308, *redirects = backend.run(scenario)
    assert r308[0].status == 308 and ("range", "bytes=0-9") in [(k.lower(), v) for k, v in r308[0].headers]
    assert [r[0].status for r in redirects] == [301, 302, 303, 307, 308]
    for raw, _, _ in redirects:
        assert dict((k.lower(), v) for k, v in raw.headers)["location"] == target
    assert clean_server.count(path="/echo/target") == 0


def test_tls_with_the_test_ca(backend: Backend, tls_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with backend.session(ca_file=tls_server.ca_file) as s:
            return await fetch(s, get(f"{tls_server.url}echo/tls"))

    raw, body, _ = backend.run(scenario)
    assert tls_server.url.startswith("https://localhost:")
    assert raw.status == 200 and b'"/echo/tls"' in body


def test_tls_untrusted_ca_fails_with_connect_error(backend: Backend, tls_server: LocalGoogleServer, tmp_path: Any) -> None:
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))

    async def attempt(kw: dict[str, Any]) -> BaseException:
        async with backend.session(**kw) as s:
            try:
                await fetch(s, get(f"{tls_server.url}echo/tls"))
            except TransportError as exc:
                return exc
        raise AssertionError("an untrusted certificate was accepted")

    for kw in ({}, {"ca_file": str(stranger)}):  # the system store, then another CA
        exc = backend.run(attempt, kw)
        assert type(exc) is ConnectError, exc
        assert "certificate" in str(exc).lower()


def test_tls_verification_can_be_switched_off_per_request(backend: Backend, tls_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with backend.session() as s:
            return await fetch(s, get(f"{tls_server.url}echo/insecure", verify_ssl=False))

    assert backend.run(scenario)[0].status == 200


def test_connection_refused_is_connect_error(backend: Backend) -> None:
    port = closed_port()

    async def scenario() -> BaseException:
        async with backend.session() as s:
            with pytest.raises(ConnectError) as info:
                await fetch(s, get(f"http://127.0.0.1:{port}/x", timeout=Timeout(connect=5)))
            return info.value

    exc = backend.run(scenario)
    assert not isinstance(exc, ConnectTimeout)
    assert f"127.0.0.1:{port}" in str(exc)


def test_connect_timeout_covers_the_tls_handshake(backend: Backend, silent_port: int) -> None:
    async def scenario() -> float:
        async with backend.session() as s:
            started = time.monotonic()
            with pytest.raises(ConnectTimeout):
                await fetch(s, get(f"https://127.0.0.1:{silent_port}/x", timeout=Timeout(connect=0.3, read=30)))
            return time.monotonic() - started

    assert 0.25 <= backend.run(scenario) < 5


def test_read_timeout_waiting_for_headers_and_between_body_chunks(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> tuple[float, float, bytes]:
        async with backend.session() as s:
            started = time.monotonic()
            with pytest.raises(ReadTimeout):
                await fetch(s, get(f"{clean_server.url}slow?delay=3", timeout=Timeout(read=0.3)))
            first = time.monotonic() - started
            started = time.monotonic()
            with pytest.raises(ReadTimeout):
                await fetch(s, get(f"{clean_server.url}bytes/1000?chunk=100&delay=3", timeout=Timeout(read=0.3)))
            second = time.monotonic() - started
            # A slow but steady body never times out: each read is bounded, not the whole.
            _, body, _ = await fetch(s, get(f"{clean_server.url}bytes/2000?chunk=200&delay=0.1", timeout=Timeout(read=0.5)))
            return first, second, body

    first, second, body = backend.run(scenario)
    assert 0.25 <= first < 2.5 and 0.25 <= second < 2.5
    assert body == pattern_bytes(2000)


@pytest.mark.parametrize("fault", ["drop_after", "truncate"])
def test_connection_cut_mid_body_is_transport_error(backend: Backend, clean_server: LocalGoogleServer, fault: str) -> None:
    clean_server.expect("GET", "/cut", Reply(body=pattern_bytes(50_000), **{fault: 1000}))

    async def scenario() -> BaseException:
        async with backend.session() as s:
            with pytest.raises(TransportError) as info:
                await fetch(s, get(f"{clean_server.url}cut", timeout=Timeout(read=10)))
            # The session is still usable afterwards (a fresh connection).
            _, body, _ = await fetch(s, get(f"{clean_server.url}bytes/10"))
            assert body == pattern_bytes(10)
            return info.value

    exc = backend.run(scenario)
    assert not isinstance(exc, (ReadTimeout, ConnectError))


def test_connections_are_reused(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> None:
        async with backend.session() as s:
            for i in range(5):
                await fetch(s, get(f"{clean_server.url}echo/{i}"))
            await fetch(s, HttpRequest("POST", f"{clean_server.url}echo/post", body=b"x" * 1000))
            await fetch(s, get(f"{clean_server.url}gzip"))
            # A response abandoned before its end closes its connection instead.
            raw = await s.send(get(f"{clean_server.url}bytes/200000"))
            await raw.aclose()
            await fetch(s, get(f"{clean_server.url}echo/after"))

    backend.run(scenario)
    ports = [r.peer_port for r in clean_server.log]
    assert len(set(ports[:8])) == 1, ports
    assert ports[8] != ports[0]


def test_gather_returns_results_in_order(backend: Backend) -> None:
    async def scenario() -> list[int]:
        async with backend.session() as s:

            def thunk(i: int) -> Any:
                async def run() -> int:
                    await s.sleep(0.01 * (10 - i))  # finish in reverse order
                    return i

                return run

            result: list[int] = await s.gather([thunk(i) for i in range(10)])
            return result

    assert backend.run(scenario) == list(range(10))


def test_gather_first_failure_cancels_the_rest_and_is_raised_itself(backend: Backend) -> None:
    cancelled: list[int] = []

    async def scenario() -> float:
        async with backend.session() as s:

            async def slow(i: int) -> int:
                try:
                    await s.sleep(5)
                finally:
                    cancelled.append(i)
                return i

            async def boom() -> int:
                await s.sleep(0.05)
                raise ValueError("boom")

            started = time.monotonic()
            with pytest.raises(ValueError, match="boom"):
                await s.gather([lambda: slow(0), boom, lambda: slow(2)])
            return time.monotonic() - started

    assert backend.run(scenario) < 2
    assert sorted(cancelled) == [0, 2]


def test_gather_total_timeout(backend: Backend) -> None:
    async def scenario() -> float:
        async with backend.session() as s:
            started = time.monotonic()
            with pytest.raises(RequestTimeout):
                await s.gather([lambda: s.sleep(0.01), lambda: s.sleep(5)], timeout=0.2)
            return time.monotonic() - started

    assert 0.15 <= backend.run(scenario) < 2


def test_lock_run_sync_and_sleep(backend: Backend) -> None:
    import threading

    async def scenario() -> tuple[list[str], bool]:
        async with backend.session() as s:
            lock = s.lock()
            trace: list[str] = []

            async def critical(name: str) -> None:
                async with lock:
                    trace.append(f"{name}+")
                    await s.sleep(0.02)
                    trace.append(f"{name}-")

            await s.gather([lambda: critical("a"), lambda: critical("b")])
            other_thread = await s.run_sync(lambda: threading.current_thread() is not threading.main_thread())
            return trace, other_thread

    trace, other_thread = backend.run(scenario)
    assert trace in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])
    # Off the event loop; a blocking backend has none to keep free and calls it inline.
    assert other_thread or backend.blocking


class _ClosingServer:
    """A raw HTTP/1.1 server that answers one request per connection with keep-alive
    framing, then closes the connection shortly after (as servers do with idle ones)."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                read_head(conn)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.05)

    def close(self) -> None:
        self.sock.close()


def test_a_pooled_connection_the_server_closed_is_not_reused(backend: Backend) -> None:
    server = _ClosingServer()

    async def scenario() -> list[bytes]:
        async with backend.session() as s:
            bodies = []
            for _ in range(3):
                bodies.append((await fetch(s, get(f"http://127.0.0.1:{server.port}/x")))[1])
                await s.sleep(0.2)  # the server closes the idle connection meanwhile
            return bodies

    try:
        assert backend.run(scenario) == [b"ok"] * 3
        assert server.connections == 3
    finally:
        server.close()


def test_head_and_no_content(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> list[Any]:
        async with backend.session() as s:
            head = await fetch(s, HttpRequest("HEAD", f"{clean_server.url}echo/head"))
            empty = await fetch(s, HttpRequest("DELETE", f"{clean_server.url}status/204"))
            after = await fetch(s, get(f"{clean_server.url}bytes/10"))
            return [head, empty, after]

    head, empty, after = backend.run(scenario)
    assert head[0].status == 200 and head[1] == b""
    assert empty[0].status == 204 and empty[1] == b""
    assert after[1] == pattern_bytes(10)
    ports = {r.peer_port for r in clean_server.log}
    assert len(ports) == 1  # none of them spoiled the connection


def test_ssl_context_option(backend: Backend, tls_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with backend.session(ssl_context=tls_server.client_ssl_context()) as s:
            first = await fetch(s, get(f"{tls_server.url}echo/ctx1"))
            second = await fetch(s, get(f"{tls_server.url}echo/ctx2"))
            return first, second

    tls_server.reset()
    first, second = backend.run(scenario)
    assert first[0].status == 200 and second[0].status == 200
    assert len({r.peer_port for r in tls_server.log}) == 1  # TLS connections are reused too


def test_user_agent_is_sent_as_given(backend: Backend, clean_server: LocalGoogleServer) -> None:
    # The core always sets its own User-Agent; the adapter must not add or replace one
    # (AiohttpSession tells aiohttp to skip its default only when a request has none).
    async def scenario() -> None:
        async with backend.session() as s:
            for path in ("ua/1", "ua/2"):
                await fetch(s, get(f"{clean_server.url}{path}", headers=(("user-agent", "mine/1.0"),)))
            await fetch(s, get(f"{clean_server.url}ua/none"))
            await fetch(s, get(f"{clean_server.url}ua/3", headers=(("User-Agent", "mine/2.0"),)))

    backend.run(scenario)
    agents = [r.headers.get("user-agent") for r in clean_server.log]
    assert agents[:2] == ["mine/1.0", "mine/1.0"] and agents[3] == "mine/2.0"
    if backend.name == "asyncio":
        assert agents[2] is None  # not aiohttp's "Python/3.x aiohttp/..."
