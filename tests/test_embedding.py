"""The public sans-IO API (aiogoogle.sansio) driven by an embedder: the README's urllib3
embedding (examples/sync_embedding.py) runs calls, resumable uploads from a file, checked
downloads to a file, pagination and batch through run_sync against LocalGoogleServer, and
the same flows through run_async; failures of the embedder's library become our
exceptions; the sync loop never imports an event loop."""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import google_crc32c
import pytest

from aiogoogle import GoogleAPI, Request, RetryPolicy, sansio
from aiogoogle.excs import AiogoogleError, ChecksumMismatch, TransportError
from aiogoogle.sansio import (
    CallOptions,
    DiscoveryEndpoints,
    HttpRequest,
    Reply,
    call_flow,
    discovery_flow,
    iterate_sync,
    pages_flow,
    run_async,
    run_sync,
)
from aiogoogle.testing import LocalGoogleServer
from aiogoogle.testing import Reply as ServerReply
from aiogoogle.testing._server_media import MediaState, media_state

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sync_embedding.py"
G = 256 * 1024
OPTIONS = CallOptions(retry=RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.02))


def _load_example() -> Any:
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        spec = importlib.util.spec_from_file_location("sync_embedding", EXAMPLE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLE.parent))


embedding = _load_example()
send = embedding.send


@pytest.fixture
def media(server: LocalGoogleServer) -> MediaState:
    server.reset()
    return media_state(server)


def storage(server: LocalGoogleServer) -> GoogleAPI:
    return GoogleAPI(run_sync(discovery_flow("storage", "v1", DiscoveryEndpoints.at(server.url), OPTIONS, None), send))


def crc(data: bytes) -> str:
    return base64.b64encode(google_crc32c.Checksum(data).digest()).decode()  # type: ignore[no-untyped-call]


def test_the_embedding_example_imports_public_names_only() -> None:
    tree = ast.parse(EXAMPLE.read_text(encoding="utf-8"))
    imported = [(node.module or "", alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names]
    ours = [(m, n) for m, n in imported if m.startswith("aiogoogle")]
    assert ours, "the example imports nothing of aiogoogle"
    for module, name in ours:
        assert not any(part.startswith("_") for part in module.split(".")), module
        assert not name.startswith("_"), f"{module}.{name}"
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sansio"}
    assert used and used <= set(sansio.__all__), used - set(sansio.__all__)
    # README promises at most 60 lines.
    assert len(EXAMPLE.read_text(encoding="utf-8").splitlines()) <= 60


def test_resumable_upload_from_a_file_then_checked_download_to_a_file(server: LocalGoogleServer, media: MediaState, tmp_path: Path) -> None:
    data = hashlib.sha256(b"x").digest() * (3 * G // 32 + 5)
    src, dest = tmp_path / "src.bin", tmp_path / "dest.bin"
    src.write_bytes(data)
    api = storage(server)
    upload = api.objects.insert(bucket="bkt", name="emb/obj", upload_file=str(src), resumable=True, chunk_size=G)
    response = run_sync(call_flow(upload, OPTIONS), send)
    response.raise_for_status()
    assert response.json["size"] == str(len(data)) and response.json["crc32c"] == crc(data)
    ranges = [r.headers.get("content-range", "") for r in server.log if "upload_id" in r.query]
    assert len(ranges) == 4, ranges  # 3 full granules and the tail, streamed from the file
    got = run_sync(call_flow(api.objects.get(bucket="bkt", object="emb/obj", download_file=str(dest)), OPTIONS), send)
    got.raise_for_status()
    assert dest.read_bytes() == data


def test_a_corrupted_download_is_refused(server: LocalGoogleServer, media: MediaState, tmp_path: Path) -> None:
    media.put("/storage/v1/b/bkt/o/h", b"hello world" * 100)
    media.download_faults.append(("wrong_hash",))
    dest = tmp_path / "h.bin"
    with pytest.raises(ChecksumMismatch):
        run_sync(call_flow(storage(server).objects.get(bucket="bkt", object="h", download_file=str(dest)), OPTIONS), send)
    assert not dest.exists()


def test_pages_and_batch_through_the_public_loops(server: LocalGoogleServer, media: MediaState) -> None:
    media.put("/storage/v1/b/bkt/o/a", b"aaa")
    media.put("/storage/v1/b/bkt/o/b", b"bbbb")
    api = storage(server)
    batch = Request.batch_requests(api.objects.get(bucket="bkt", object="a"), api.objects.get(bucket="bkt", object="nope"), api.objects.get(bucket="bkt", object="b"))
    parts = run_sync(call_flow(batch, OPTIONS), send)
    assert [p.status_code for p in parts] == [200, 404, 200]
    assert parts[0].content == b"aaa" or parts[0].json["name"] == "a"
    server.expect("GET", "/rows", ServerReply(json={"rows": [1], "pageToken": "p2"}), ServerReply(json={"rows": [2], "pageToken": ""}))
    first = run_sync(call_flow(Request("GET", f"{server.url}rows?maxResults=1"), OPTIONS), send)
    pages = list(iterate_sync(pages_flow(first, OPTIONS), send))
    assert [p["rows"] for p in pages] == [[1], [2]]
    assert server.requests("GET", "/rows")[1].query["pageToken"] == ["p2"]


def test_retries_sleep_through_the_embedders_sleep(server: LocalGoogleServer) -> None:
    server.reset()
    server.expect("GET", "/flaky", ServerReply(status=503, headers={"retry-after": "1"}), ServerReply(json={"ok": True}))
    slept: list[float] = []
    response = run_sync(call_flow(Request("GET", f"{server.url}flaky"), OPTIONS), send, sleep=slept.append)
    assert response.json == {"ok": True} and slept == [1.0]


def test_the_async_loop_runs_the_same_flows(server: LocalGoogleServer, media: MediaState) -> None:
    async def asend(request: HttpRequest) -> Reply:
        body = request.body
        if not isinstance(body, bytes):
            body = b"".join([chunk async for chunk in body])
        reply = await asyncio.to_thread(send, HttpRequest(request.method, request.url, request.headers, body, request.timeout, request.verify_ssl, request.raw))
        return Reply(reply.status, reply.headers, await asyncio.to_thread(lambda: b"".join(reply.body)), reply.reason, close=reply._close)

    async def main() -> Any:
        api = GoogleAPI(await run_async(discovery_flow("storage", "v1", DiscoveryEndpoints.at(server.url), OPTIONS, None), asend, sleep=asyncio.sleep))
        got = await run_async(call_flow(api.objects.get(bucket="bkt", object="a", alt="media"), OPTIONS), asend, sleep=asyncio.sleep)
        return got.content

    media.put("/storage/v1/b/bkt/o/a", b"abc")
    assert asyncio.run(main()) == b"abc"


def test_a_foreign_exception_becomes_a_transport_error_without_the_url_secrets() -> None:
    def broken(request: HttpRequest) -> Reply:
        raise ConnectionResetError(f"boom while fetching {request.url}")

    request = Request("GET", "https://example.invalid/x?key=AIzaSy-secret-key-0123456789abcdefghi")
    with pytest.raises(TransportError) as info:
        run_sync(call_flow(request, CallOptions(retry=RetryPolicy(max_attempts=1))), broken)
    assert "ConnectionResetError" in str(info.value) and "AIzaSy-secret" not in str(info.value)

    def wrong(request: HttpRequest) -> Any:
        return (200, [], b"")

    with pytest.raises(TransportError, match=r"must return aiogoogle\.sansio\.Reply"):
        run_sync(call_flow(Request("GET", "https://example.invalid/"), CallOptions(retry=RetryPolicy(max_attempts=1))), wrong)


def test_a_body_that_fails_while_streaming_becomes_a_transport_error() -> None:
    def half(request: HttpRequest) -> Reply:
        def chunks() -> Any:
            yield b'{"a":'
            raise OSError("connection reset")

        return Reply(200, [("content-type", "application/json")], chunks())

    with pytest.raises(TransportError, match="OSError"):
        run_sync(call_flow(Request("GET", "https://example.invalid/"), CallOptions(retry=RetryPolicy(max_attempts=1))), half)


def test_complete_refuses_an_awaitable_that_really_suspends() -> None:
    async def waits() -> None:
        await asyncio.sleep(0)

    with pytest.raises(AiogoogleError, match="suspended without an event loop"):
        sansio.complete(waits())


def test_the_sync_loop_and_client_load_no_event_loop() -> None:
    code = textwrap.dedent(
        """
        import sys
        import aiogoogle.sansio, aiogoogle.sync
        aiogoogle.sync.Aiogoogle(discovery_cache=False)
        print(",".join(m for m in ("asyncio", "trio", "curio", "anyio", "aiohttp") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
