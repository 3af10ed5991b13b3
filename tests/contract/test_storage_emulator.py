"""Uploads and downloads against gcp-storage-emulator (PyPI), through the real ``storage.v1``
discovery document, on every adapter (docs/protocol.md §2; emulator quirks: docs/testing.md, "gcp-storage-emulator").

The emulator runs as a subprocess on 127.0.0.1 (a free port, in memory) and is stopped by
its pid. A fault-injecting TCP proxy (tests/faultproxy.py) sits in front of it to break a
resumable upload's connection in the middle of a chunk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import google_crc32c
import pytest

from aiogoogle import RetryPolicy
from aiogoogle.excs import ChecksumMismatch
from aiogoogle.resource import GoogleAPI

from ..conftest import Backend
from ..faultproxy import FaultProxy
from .conftest import stop_process

pytest.importorskip("gcp_storage_emulator")

G = 256 * 1024
FAST = RetryPolicy(max_attempts=6, initial_backoff=0.01, max_backoff=0.05, deadline=30)
SIZES = [0, 1, G - 1, G, G + 1, 3 * 1024 * 1024 + 5]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    workdir = tmp_path_factory.mktemp("gcs-emulator")
    log = open(workdir / "emulator.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "-q"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:  # 127.0.0.1 only
                    if r.read() == b"OK":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gcp-storage-emulator did not start: {(workdir / 'emulator.log').read_text()[-2000:]}")
            time.sleep(0.1)
        req = urllib.request.Request(url + "storage/v1/b?project=test", data=json.dumps({"name": "bkt"}).encode(), headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()
        yield url
    finally:
        stop_process(proc, 10)
        log.close()


@pytest.fixture(scope="module")
def storage_doc(load_doc: Any) -> dict[str, Any]:
    return load_doc("storage.v1")


def api(doc: dict[str, Any], root: str) -> GoogleAPI:
    return GoogleAPI(doc, root_url=root)


def payload(n: int, seed: int) -> bytes:
    block = hashlib.sha256(f"{seed}".encode()).digest()
    return (block * (n // 32 + 1))[:n]


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("protocol", ["simple", "multipart", "resumable"])
def test_upload_and_download(backend: Backend, emulator: str, storage_doc: dict[str, Any], tmp_path: Any, size: int, protocol: str) -> None:
    if protocol == "simple" and size == 0:
        pytest.skip("gcp-storage-emulator crashes on an empty uploadType=media body (len(None) in _media_upload); covered by the local server")
    data = payload(size, size)
    name = f"{backend.name}/{protocol}/{size} x"
    src = tmp_path / "src"
    src.write_bytes(data)
    dest = tmp_path / "dest"
    storage = api(storage_doc, emulator)

    async def scenario() -> Any:
        async with backend.client(retry=FAST) as ag:
            kw: dict[str, Any] = {"bucket": "bkt", "upload_file": str(src) if size % 2 else data}
            if protocol == "multipart":
                kw["json"] = {"name": name, "metadata": {"by": "aiogoogle"}}
            else:
                kw["name"] = name
            if protocol == "resumable":
                kw["resumable"] = True
                kw["chunk_size"] = G
            else:
                kw["resumable"] = False
            obj = await ag.as_anon(storage.objects.insert(**kw))
            await ag.as_anon(storage.objects.get(bucket="bkt", object=name, download_file=str(dest)))
            return obj

    obj = backend.run(scenario)
    assert obj["size"] == str(size)
    assert obj["md5Hash"] == b64(hashlib.md5(data).digest())
    assert obj["crc32c"] == b64(google_crc32c.Checksum(data).digest())  # type: ignore[no-untyped-call]
    if protocol == "multipart":
        assert obj["metadata"] == {"by": "aiogoogle"}
    assert dest.read_bytes() == data


@pytest.mark.parametrize(
    ("chunk_start", "cut_after"),
    [
        (G, 10_000),  # the second chunk's connection breaks after 10,000 of its bytes
        # The first chunk breaks before any byte: the emulator then answers the status query
        # with "bytes=0-0" (Cloud Storage: no Range), which must not be taken as 1 byte.
        (0, 0),
    ],
)
def test_resumable_upload_cut_mid_chunk_completes_byte_exact(
    backend: Backend, emulator: str, storage_doc: dict[str, Any], chunk_start: int, cut_after: int
) -> None:
    data = payload(4 * G + 1234, 99 + chunk_start)
    name = f"{backend.name}/cut-{chunk_start}"
    port = int(emulator.rstrip("/").rsplit(":", 1)[1])
    with FaultProxy(port) as proxy:
        proxy.cut(lambda head: head.startswith(b"PUT ") and b"upload_id=" in head and f"bytes {chunk_start}-".encode() in head, cut_after)
        storage = api(storage_doc, proxy.url)

        async def scenario() -> Any:
            async with backend.client(retry=FAST) as ag:
                req = storage.objects.insert(bucket="bkt", name=name, upload_file=data, resumable=True, chunk_size=G)
                obj = await ag.as_anon(req)
                return obj, req.media_upload.offset

        obj, offset = backend.run(scenario)
        assert proxy.cuts == 1
    assert offset == len(data)
    assert obj["md5Hash"] == b64(hashlib.md5(data).digest())
    with urllib.request.urlopen(f"{emulator}storage/v1/b/bkt/o/{name.replace('/', '%2F')}?alt=media", timeout=10) as r:
        assert r.read() == data


def test_pipe_from_unknown_length(backend: Backend, emulator: str, storage_doc: dict[str, Any]) -> None:
    data = payload(2 * G + 77, 7)
    storage = api(storage_doc, emulator)

    async def source() -> Any:
        for i in range(0, len(data), 50_000):
            yield data[i : i + 50_000]

    async def scenario() -> Any:
        async with backend.client(retry=FAST) as ag:
            return await ag.as_anon(storage.objects.insert(bucket="bkt", name=f"{backend.name}/pipe", pipe_from=source(), chunk_size=G))

    obj = backend.run(scenario)
    assert obj["md5Hash"] == b64(hashlib.md5(data).digest())


@pytest.mark.parametrize("size", [1, 100_000, G + 1])
def test_ranged_chunked_download(backend: Backend, emulator: str, storage_doc: dict[str, Any], size: int) -> None:
    data = payload(size, 1000 + size)
    name = f"{backend.name}/ranged/{size}"
    storage = api(storage_doc, emulator)
    got: list[bytes] = []

    async def scenario() -> None:
        async with backend.client(retry=FAST) as ag:
            await ag.as_anon(storage.objects.insert(bucket="bkt", name=name, upload_file=data, resumable=False))
            req = storage.objects.get(bucket="bkt", object=name, pipe_to=got.append, chunk_size=64 * 1024)
            req.media_download.range_chunks = True
            await ag.as_anon(req)

    backend.run(scenario)
    assert b"".join(got) == data


def test_checksum_is_checked_on_full_downloads(backend: Backend, emulator: str, storage_doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # The emulator sends x-goog-hash on full responses; a corrupting proxy must be caught.
    data = payload(50_000, 5)
    name = f"{backend.name}/hash"
    storage = api(storage_doc, emulator)

    async def upload() -> None:
        async with backend.client(retry=FAST) as ag:
            await ag.as_anon(storage.objects.insert(bucket="bkt", name=name, upload_file=data, resumable=False))

    backend.run(upload)

    seen: dict[str, str] = {}

    async def download(verify: bool) -> bytes:
        got: list[bytes] = []
        async with backend.client(retry=FAST) as ag:
            req = storage.objects.get(bucket="bkt", object=name, pipe_to=got.append)
            req.media_download.verify = verify
            res = await ag.as_anon(req, full_res=True)
            seen.update({k.lower(): v for k, v in res.headers.items()})
        return b"".join(got)

    assert backend.run(download, True) == data
    assert "crc32c=" in seen.get("x-goog-hash", "")

    # The same real response, with the expected digests swapped for wrong ones as they are
    # read: the computed crc32c no longer matches and the download must fail.
    from aiogoogle import _download as download_mod

    original = download_mod._hashes

    def wrong(headers: Any) -> dict[str, str]:
        return {k: b64(b"\x00" * (4 if k == "crc32c" else 16)) for k in original(headers)}

    monkeypatch.setattr(download_mod, "_hashes", wrong)
    with pytest.raises(ChecksumMismatch):
        backend.run(download, True)
    # verify=False accepts the bytes as they are.
    assert backend.run(download, False) == data


def test_batch_against_the_emulator(backend: Backend, emulator: str, storage_doc: dict[str, Any]) -> None:
    # Its replies carry no Content-ID and no blank line before each embedded status line
    # (docs/testing.md, "gcp-storage-emulator"): parts are matched by order and still parsed.
    from aiogoogle import Request

    storage = api(storage_doc, emulator)
    a, b = f"{backend.name}/batch-a", f"{backend.name}/batch-b"

    async def scenario() -> Any:
        async with backend.client(retry=FAST) as ag:
            for name in (a, b):
                await ag.as_anon(storage.objects.insert(bucket="bkt", name=name, upload_file=b"x", resumable=False))
            batch = Request.batch_requests(
                storage.objects.patch(bucket="bkt", object=a, json={"metadata": {"k": "v"}}),
                storage.objects.delete(bucket="bkt", object=b),
                storage.objects.delete(bucket="bkt", object=f"{backend.name}/never-there"),
            )
            return await ag.as_anon(batch, full_res=True, raise_for_status=False)

    patched, deleted, missing = backend.run(scenario)
    assert patched.status_code == 200 and patched.json["metadata"] == {"k": "v"}, patched.json
    assert deleted.status_code in (200, 204)  # the emulator answers 200 where GCS sends 204
    assert missing.status_code == 404
