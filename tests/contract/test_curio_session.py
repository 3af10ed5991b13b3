"""What CurioSession adds over CurioAsksSession, and curio's nested timeouts.

The first tests run on every backend; on ``curio`` (CurioAsksSession) they are expected to
fail, as asks 2.4.12 cannot do it (see ``aiogoogle.sessions.curio_asks_session``): request
bodies streamed (chunked, not first read into memory) and every value of a repeated
response header.

curio has no cancel scopes: :class:`~aiogoogle.sessions.curio_session.CurioSession` sets
the task's timeout around each socket operation. Its own expiry must surface as
:class:`~aiogoogle.excs.ReadTimeout` / :class:`~aiogoogle.excs.ConnectTimeout`, while a
caller's enclosing ``timeout_after`` that expires first must reach the caller as curio's
``TaskTimeout`` (not as ours, not as ``UncaughtTimeoutError``), leaving the session usable.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import curio
import pytest

from aiogoogle import Timeout
from aiogoogle._http import HttpRequest
from aiogoogle.excs import ConnectTimeout, ReadTimeout, RequestTimeout
from aiogoogle.sessions.curio_asks_session import CurioAsksSession
from aiogoogle.sessions.curio_session import CurioSession
from aiogoogle.testing import LocalGoogleServer

from ..conftest import Backend
from ..faultproxy import read_head
from .test_transport import fetch


def asks_cannot(request: pytest.FixtureRequest, backend: Backend, what: str) -> None:
    """On CurioAsksSession the test must fail (strict xfail): the limit is real and documented."""
    if backend.name == "curio":
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"asks 2.4.12 (CurioAsksSession) {what}"))


def test_streamed_request_body_is_sent_chunked(request: pytest.FixtureRequest, backend: Backend, clean_server: LocalGoogleServer) -> None:
    asks_cannot(request, backend, "sends a request body only from memory")

    async def parts() -> AsyncIterator[bytes]:
        for i in range(4):
            yield bytes([i]) * 100_000

    async def scenario() -> None:
        async with backend.session() as s:
            await fetch(s, HttpRequest("PUT", f"{clean_server.url}echo/stream", (("content-type", "application/octet-stream"),), parts()))

    backend.run(scenario)
    (rec,) = clean_server.log
    assert rec.headers.get("transfer-encoding") == "chunked"  # length unknown: not buffered to count it
    assert rec.body == b"".join(bytes([i]) * 100_000 for i in range(4))


@pytest.fixture
def repeated_header_server() -> Iterator[int]:
    """A raw HTTP/1.1 server answering every request with two ``x-goog-hash`` headers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                read_head(conn)
                conn.sendall(b"HTTP/1.1 200 OK\r\nx-goog-hash: crc32c=AAAAAA==\r\nx-goog-hash: md5=1B2M2Y8AsgTpgAmY7PhCfg==\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_repeated_response_headers_are_all_kept(request: pytest.FixtureRequest, backend: Backend, repeated_header_server: int) -> None:
    asks_cannot(request, backend, "keeps only the last value of a repeated header")

    async def scenario() -> Any:
        async with backend.session() as s:
            return await fetch(s, HttpRequest("GET", f"http://127.0.0.1:{repeated_header_server}/o"))

    raw, _, _ = backend.run(scenario)
    assert [v for k, v in raw.headers if k.lower() == "x-goog-hash"] == ["crc32c=AAAAAA==", "md5=1B2M2Y8AsgTpgAmY7PhCfg=="]


def test_an_enclosing_timeout_reaches_the_caller(clean_server: LocalGoogleServer) -> None:
    async def scenario() -> tuple[float, bytes]:
        async with CurioSession() as s:
            started = time.monotonic()
            with pytest.raises(curio.TaskTimeout):
                async with curio.timeout_after(0.3):
                    await fetch(s, HttpRequest("GET", f"{clean_server.url}slow?delay=3", timeout=Timeout(read=5)))
            elapsed = time.monotonic() - started
            _, body, _ = await fetch(s, HttpRequest("GET", f"{clean_server.url}bytes/10"))
            return elapsed, body

    elapsed, body = curio.run(scenario)
    assert 0.25 <= elapsed < 2.5
    assert len(body) == 10


def test_our_read_timeout_inside_a_longer_enclosing_one(clean_server: LocalGoogleServer) -> None:
    async def scenario() -> bytes:
        async with CurioSession() as s, curio.timeout_after(10):
            with pytest.raises(ReadTimeout):
                await fetch(s, HttpRequest("GET", f"{clean_server.url}slow?delay=3", timeout=Timeout(read=0.3)))
            # The enclosing block goes on undisturbed (no stray timeout, no UncaughtTimeoutError).
            await curio.sleep(0.05)
            _, body, _ = await fetch(s, HttpRequest("GET", f"{clean_server.url}bytes/10"))
            return body

    assert len(curio.run(scenario)) == 10


@pytest.mark.parametrize("cls", [CurioSession, CurioAsksSession])
def test_gather_total_timeout_versus_an_enclosing_one(cls: Any) -> None:
    async def scenario() -> None:
        async with cls() as s:
            # Ours, inside a longer enclosing limit: RequestTimeout.
            async with curio.timeout_after(10):
                with pytest.raises(RequestTimeout):
                    await s.gather([lambda: s.sleep(5)], timeout=0.1)
            # The caller's, shorter than ours: curio's TaskTimeout for the caller.
            with pytest.raises(curio.TaskTimeout):
                async with curio.timeout_after(0.1):
                    await s.gather([lambda: s.sleep(5)], timeout=10)

    curio.run(scenario)


def test_timed_out_connects_close_their_sockets() -> None:
    # A TLS handshake to a port that accepts but never answers: the connect timeout (a
    # curio cancellation, not an Exception) must still close the half-made socket.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]

    async def scenario() -> None:
        async with CurioSession() as s:
            for _ in range(5):
                with pytest.raises(ConnectTimeout):
                    await fetch(s, HttpRequest("GET", f"https://127.0.0.1:{port}/", timeout=Timeout(connect=0.05)))

    try:
        before = len(os.listdir("/proc/self/fd"))
        curio.run(scenario)
        after = len(os.listdir("/proc/self/fd"))
    finally:
        listener.close()
    assert after <= before
