"""A server that sends too much: bounded memory on every backend.

Each scenario runs against :class:`tests.hostile.HostileServer` (raw sockets, 127.0.0.1)
under an address-space limit (``RLIMIT_AS``) of the process's current size plus a
headroom far below what the bomb expands to, so a client that materialised the body would
fail with ``MemoryError`` instead of passing, or exhausting the machine.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import signal
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from aiogoogle import DEFAULT_MAX_RESPONSE_SIZE, MediaDownload, Request, Timeout
from aiogoogle.auth.creds import ServiceAccountCreds
from aiogoogle.discovery import DiscoveryEndpoints
from aiogoogle.excs import AiogoogleError, LocalFileError, ResponseTooLarge, TransportError

from ..conftest import Backend
from ..hostile import (
    HostileServer,
    Received,
    address_space_limit,
    answer,
    endless_chunked,
    gzip_bomb,
    http_head,
)

MIB = 1 << 20
GIB = 1 << 30
HEADROOM = 600 * MIB  # far below the 1 GiB bombs; above the 256 MiB default limit


@pytest.fixture(scope="module")
def rsa_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def client(backend: Backend, **kw: Any) -> Any:
    kw.setdefault("retry", False)
    kw.setdefault("timeout", Timeout(connect=5, read=10))
    return backend.client(**kw)


def run_bounded(backend: Backend, scenario: Any, headroom: int = HEADROOM) -> Any:
    with address_space_limit(headroom):
        return backend.run(scenario)


def json_gzip(status: int, body: bytes, coding: str = "gzip") -> Any:
    return answer(
        status,
        [("content-type", "application/json"), ("content-encoding", coding), ("content-length", str(len(body)))],
        body,
    )


def get(server: HostileServer, path: str, **kw: Any) -> Request:
    return Request(method="GET", url=server.url + path, **kw)


def test_stacked_codings_are_refused(backend: Backend, hostile: HostileServer) -> None:
    # 'gzip, gzip': about 1 kB on the wire, 1 GiB once both layers are undone.
    inner = gzip_bomb(GIB)
    hostile.route("/json", json_gzip(200, gzip.compress(inner, compresslevel=9), "gzip, gzip"))

    async def scenario() -> None:
        async with client(backend) as ag:
            with pytest.raises(TransportError, match="stacks 2 codings"):
                await ag.as_anon(get(hostile, "/json"))

    run_bounded(backend, scenario)


def test_a_gzip_bomb_stops_at_the_default_limit(backend: Backend, hostile: HostileServer) -> None:
    hostile.route("/json", json_gzip(200, gzip_bomb(GIB)))

    async def scenario() -> None:
        async with client(backend) as ag:
            with pytest.raises(ResponseTooLarge) as info:
                await ag.as_anon(get(hostile, "/json"))
            assert info.value.limit == DEFAULT_MAX_RESPONSE_SIZE
            assert "max_response_size" in str(info.value)

    run_bounded(backend, scenario)


def test_an_endless_chunked_body_stops_at_the_client_limit(backend: Backend, hostile: HostileServer) -> None:
    hostile.route("/json", endless_chunked(200, [("content-type", "application/json")]))

    async def scenario() -> None:
        async with client(backend, max_response_size=MIB) as ag:
            with pytest.raises(ResponseTooLarge, match=f"limit of {MIB} bytes"):
                await ag.as_anon(get(hostile, "/json"))

    run_bounded(backend, scenario, 200 * MIB)


def test_an_oversized_content_length_is_refused_before_reading(backend: Backend, hostile: HostileServer) -> None:
    # The body never comes: a client that waited for it would hit the read timeout.
    hostile.route("/json", answer(200, [("content-type", "application/json"), ("content-length", str(10**12))], b"[1,"))

    async def scenario() -> None:
        async with client(backend, timeout=Timeout(connect=5, read=30)) as ag:
            with pytest.raises(ResponseTooLarge):
                await ag.as_anon(get(hostile, "/json"))

    run_bounded(backend, scenario)


def test_a_request_sets_its_own_limit(backend: Backend, hostile: HostileServer) -> None:
    body = json.dumps({"items": list(range(100))}).encode()
    hostile.route("/json", answer(200, [("content-type", "application/json"), ("content-length", str(len(body)))], body))

    async def scenario() -> None:
        async with client(backend, max_response_size=len(body)) as ag:
            assert (await ag.as_anon(get(hostile, "/json")))["items"][99] == 99
            with pytest.raises(ResponseTooLarge, match="limit of 50 bytes"):
                await ag.as_anon(get(hostile, "/json", max_response_size=50))
            # A request may also raise the client's limit for itself.
        async with client(backend, max_response_size=10) as ag:
            assert (await ag.as_anon(get(hostile, "/json", max_response_size=len(body))))["items"][0] == 0

    backend.run(scenario)


def test_an_error_body_bomb_is_bounded_too(backend: Backend, hostile: HostileServer) -> None:
    hostile.route("/json", json_gzip(400, gzip_bomb(GIB)))

    async def scenario() -> None:
        async with client(backend, max_response_size=4 * MIB) as ag:
            with pytest.raises(ResponseTooLarge):
                await ag.as_anon(get(hostile, "/json"))

    run_bounded(backend, scenario)


def test_a_discovery_document_bomb_is_bounded(backend: Backend, hostile: HostileServer) -> None:
    hostile.route("/discovery/v1/apis/bomb/v1/rest", json_gzip(200, gzip_bomb(GIB)))

    async def scenario() -> None:
        async with client(backend, discovery_endpoints=DiscoveryEndpoints.at(hostile.url), max_response_size=8 * MIB) as ag:
            with pytest.raises(ResponseTooLarge):
                await ag.discover("bomb", "v1")

    run_bounded(backend, scenario)


def test_a_token_reply_bomb_is_bounded(backend: Backend, hostile: HostileServer, rsa_key_pem: str) -> None:
    hostile.route("/token", json_gzip(200, gzip_bomb(GIB)))
    hostile.route("/api", answer(200, [("content-type", "application/json"), ("content-length", "2")], b"{}"))
    creds = ServiceAccountCreds(
        type="service_account",
        client_email="sa@p.iam.gserviceaccount.com",
        private_key=rsa_key_pem,
        private_key_id="k1",
        token_uri=hostile.url + "/token",
        scopes=["https://www.googleapis.com/auth/cloud-platform"],
    )

    async def scenario() -> None:
        async with client(backend, service_account_creds=creds, max_response_size=8 * MIB) as ag:
            with pytest.raises(AiogoogleError) as info:
                await ag.as_service_account(get(hostile, "/api"))
            chain = [info.value, info.value.__cause__, info.value.__context__]
            assert any(isinstance(e, ResponseTooLarge) for e in chain), repr(info.value)

    run_bounded(backend, scenario)


def test_a_download_bomb_streams_in_bounded_pieces(backend: Backend, hostile: HostileServer) -> None:
    # 1 GiB decoded from about 1 MiB on the wire, under a 600 MiB address-space headroom:
    # delivered piece by piece, never whole, and not limited by max_response_size.
    hostile.route("/media", json_gzip(200, gzip_bomb(GIB)))
    seen = {"total": 0, "largest": 0}

    def sink(chunk: bytes) -> None:
        seen["total"] += len(chunk)
        seen["largest"] = max(seen["largest"], len(chunk))

    async def scenario() -> None:
        async with client(backend, max_response_size=MIB) as ag:
            await ag.as_anon(get(hostile, "/media", media_download=MediaDownload(pipe_to=sink)))

    run_bounded(backend, scenario)
    assert seen["total"] == GIB
    assert seen["largest"] <= MIB


def test_a_download_to_a_file_bomb_is_bounded(backend: Backend, hostile: HostileServer, tmp_path: Any) -> None:
    hostile.route("/media", json_gzip(200, gzip_bomb(256 * MIB)))
    dest = tmp_path / "out.bin"

    async def scenario() -> None:
        async with client(backend) as ag:
            await ag.as_anon(get(hostile, "/media", media_download=MediaDownload(file_path=str(dest))))

    run_bounded(backend, scenario, 200 * MIB)
    assert dest.stat().st_size == 256 * MIB
    assert not os.path.exists(f"{dest}.part")


# ---------------------------------------------------------------------------- local files


def test_a_directory_as_download_target_fails_before_sending(backend: Backend, hostile: HostileServer, tmp_path: Any) -> None:
    hostile.route("/media", answer(200, [("content-length", "3")], b"abc"))

    async def scenario() -> None:
        async with client(backend) as ag:
            with pytest.raises(LocalFileError, match="Is a directory") as info:
                await ag.as_anon(get(hostile, "/media", media_download=MediaDownload(file_path=str(tmp_path))))
            assert info.value.path == str(tmp_path)
            with pytest.raises(LocalFileError, match="directory does not exist"):
                await ag.as_anon(get(hostile, "/media", media_download=MediaDownload(file_path=str(tmp_path / "no" / "x"))))

    backend.run(scenario)
    assert hostile.received == []
    assert sorted(os.listdir(tmp_path)) == []


@pytest.fixture
def file_size_limit() -> Iterator[int]:
    """Writes past 1 MiB fail with EFBIG (RLIMIT_FSIZE, SIGXFSZ ignored): a full disk for
    this process, on a real file system."""
    limit = MIB
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)


def test_a_failing_disk_write_is_a_local_file_error_and_leaves_nothing(
    backend: Backend, hostile: HostileServer, tmp_path: Any, file_size_limit: int
) -> None:
    body = os.urandom(8 * MIB)
    hostile.route("/media", answer(200, [("content-length", str(len(body)))], body))
    dest = tmp_path / "out.bin"

    async def scenario() -> None:
        async with client(backend) as ag:
            with pytest.raises(LocalFileError, match="File too large") as info:
                await ag.as_anon(get(hostile, "/media", media_download=MediaDownload(file_path=str(dest))))
            assert info.value.path == f"{dest}.part"
            assert "nothing was kept" in str(info.value)

    backend.run(scenario)
    assert os.listdir(tmp_path) == []


def test_a_directory_as_upload_source_is_a_local_file_error(backend: Backend, hostile: HostileServer, tmp_path: Any) -> None:
    from aiogoogle import MediaUpload

    async def scenario() -> None:
        async with client(backend) as ag:
            request = Request(method="POST", url=hostile.url + "/upload?uploadType=media", media_upload=MediaUpload(str(tmp_path), upload_path=hostile.url + "/upload"))
            with pytest.raises(LocalFileError, match=str(tmp_path)):
                await ag.as_anon(request)

    backend.run(scenario)
    assert hostile.received == []


# ---------------------------------------------------------------------------- secrets


def test_a_transport_error_never_shows_the_api_key(backend: Backend, hostile: HostileServer) -> None:
    def slam(request: Received, client_sock: socket.socket) -> bool:
        client_sock.sendall(http_head(200, [("content-length", "100")]) + b"short")
        return False

    hostile.route("/json", slam)

    async def scenario() -> None:
        async with client(backend, api_key="AIzaSECRETSECRETSECRET") as ag:
            with pytest.raises(TransportError) as info:
                await ag.as_api_key(get(hostile, "/json"))
            assert "AIzaSECRET" not in str(info.value)
            assert "AIzaSECRET" not in repr(info.value)

    backend.run(scenario)


# ---------------------------------------------------------------------------- redirects


def test_the_client_redirect_limit(backend: Backend, hostile: HostileServer) -> None:
    from aiogoogle import RedirectError, ValidationError

    hostile.route("/a", answer(302, [("location", "/b"), ("content-length", "0")], b""))
    hostile.route("/b", answer(302, [("location", "/c"), ("content-length", "0")], b""))
    hostile.route("/c", answer(200, [("content-type", "application/json"), ("content-length", "2")], b"{}"))

    async def scenario() -> None:
        async with client(backend, max_redirects=2) as ag:
            assert await ag.as_anon(get(hostile, "/a")) == {}
        async with client(backend, max_redirects=1) as ag:
            with pytest.raises(RedirectError) as info:
                await ag.as_anon(get(hostile, "/a"))
            assert [url.rpartition("/")[2] for url in info.value.chain] == ["a", "b"]

    backend.run(scenario)
    with pytest.raises(ValidationError, match="max_redirects"):
        backend.client(max_redirects=-1)
