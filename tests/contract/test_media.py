"""Media, batch, retries and pagination on every adapter, against LocalGoogleServer with the
real ``storage.v1`` discovery document (docs/protocol.md §2-§5)."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import google_crc32c
import pytest

from aiogoogle import HTTPError, Request, RetryPolicy
from aiogoogle.discovery import DiscoveryEndpoints
from aiogoogle.excs import ChecksumMismatch
from aiogoogle.testing import LocalGoogleServer, Reply
from aiogoogle.testing._server_media import MediaState, media_state

from ..conftest import Backend

G = 256 * 1024
FAST = RetryPolicy(max_attempts=6, initial_backoff=0.01, max_backoff=0.05, deadline=20)


@pytest.fixture
def media(server: LocalGoogleServer) -> MediaState:
    server.reset()
    return media_state(server)


def client(backend: Backend, server: LocalGoogleServer, **kw: Any) -> Any:
    kw.setdefault("retry", FAST)
    return backend.client(discovery_endpoints=DiscoveryEndpoints.at(server.url), **kw)


def download(backend: Backend, server: LocalGoogleServer, name: str, dest: Any) -> None:
    """Download the object ``bkt/<name>`` to the file ``dest`` (storage.objects.get)."""

    async def scenario() -> None:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            await ag.as_anon(storage.objects.get(bucket="bkt", object=name, download_file=str(dest)))

    backend.run(scenario)


def payload(n: int, seed: int = 0) -> bytes:
    return (hashlib.sha256(str(seed).encode()).digest() * (n // 32 + 1))[:n]


def crc(data: bytes) -> str:
    return base64.b64encode(google_crc32c.Checksum(data).digest()).decode()  # type: ignore[no-untyped-call]


def chunk_ranges(server: LocalGoogleServer) -> list[str]:
    return [r.headers.get("content-range", "") for r in server.log if "upload_id" in r.query]


@pytest.mark.parametrize("size", [0, 1, G - 1, G, G + 1, 3 * 1024 * 1024 + 7])
@pytest.mark.parametrize("protocol", ["simple", "multipart", "resumable"])
def test_upload_then_download_round_trip(backend: Backend, server: LocalGoogleServer, media: MediaState, tmp_path: Any, size: int, protocol: str) -> None:
    data = payload(size, size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    dest = tmp_path / "out.bin"

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            kw: dict[str, Any] = {"bucket": "bkt", "upload_file": str(src), "resumable": protocol == "resumable"}
            if protocol == "multipart":
                kw["json"] = {"name": f"dir/obj {size}", "metadata": {"k": "v"}}
            else:
                kw["name"] = f"dir/obj {size}"
            if protocol == "resumable":
                kw["chunk_size"] = G
            obj = await ag.as_anon(storage.objects.insert(**kw))
            await ag.as_anon(storage.objects.get(bucket="bkt", object=f"dir/obj {size}", download_file=str(dest)))
            return obj

    obj = backend.run(scenario)
    assert obj["size"] == str(size) and obj["crc32c"] == crc(data)
    if protocol == "multipart":
        assert obj["metadata"] == {"k": "v"}
    assert dest.read_bytes() == data
    assert not (tmp_path / "out.bin.part").exists()
    if protocol == "resumable" and size > G:
        assert chunk_ranges(server)[0] == f"bytes 0-{G - 1}/{size}"


def test_resumable_upload_cut_mid_chunk_and_5xx_completes_byte_exact(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    data = payload(5 * G + 11, 1)
    media.chunk_faults = {1: ("cut", G // 3), 3: ("status", 503), 4: ("status", 429, 0)}
    progress: list[tuple[int, int | None]] = []

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            req = storage.objects.insert(bucket="bkt", name="cut", upload_file=data, resumable=True, chunk_size=G, progress=lambda d, t: progress.append((d, t)))
            return await ag.as_anon(req)

    obj = backend.run(scenario)
    assert obj["md5Hash"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    ranges = chunk_ranges(server)
    assert f"bytes */{len(data)}" in ranges  # status queries after the cut and the 5xx
    assert progress[-1] == (len(data), len(data))
    stored = media.objects["/storage/v1/b/bkt/o/cut"]
    with open(stored.path, "rb") as fh:
        assert fh.read() == data


def test_pipe_from_of_unknown_length(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    data = payload(2 * G + 100, 2)

    async def source() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 10_000):
            yield data[i : i + 10_000]

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            return await ag.as_anon(storage.objects.insert(bucket="bkt", name="piped", pipe_from=source(), chunk_size=G))

    obj = backend.run(scenario)
    assert obj["crc32c"] == crc(data)
    ranges = chunk_ranges(server)
    assert ranges[0] == f"bytes 0-{G - 1}/*" and ranges[-1].endswith(f"/{len(data)}")


def test_download_to_async_pipe_with_range_chunks(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    data = payload(300_000, 3)
    media.put("/storage/v1/b/bkt/o/big", data)
    got: list[bytes] = []

    class Sink:
        async def write(self, chunk: bytes) -> None:
            got.append(chunk)

    async def scenario() -> None:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            req = storage.objects.get(bucket="bkt", object="big", pipe_to=Sink(), chunk_size=100_000)
            req.media_download.range_chunks = True
            await ag.as_anon(req)

    backend.run(scenario)
    assert b"".join(got) == data
    ranges = [r.headers.get("range") for r in server.log if r.query.get("alt") == ["media"]]
    assert ranges == ["bytes=0-99999", "bytes=100000-199999", "bytes=200000-299999"]


@pytest.mark.parametrize("fault", [("truncate", 70_000), ("drop", 150_000)])
def test_broken_download_resumes_with_pinned_generation(backend: Backend, server: LocalGoogleServer, media: MediaState, tmp_path: Any, fault: tuple[Any, ...]) -> None:
    data = payload(400_000, 4)
    obj = media.put("/storage/v1/b/bkt/o/f", data)
    media.download_faults.append(fault)
    dest = tmp_path / "f.bin"

    download(backend, server, "f", dest)
    assert dest.read_bytes() == data
    gets = [r for r in server.log if r.query.get("alt") == ["media"]]
    assert len(gets) == 2
    # It continues after the bytes that arrived (an adapter may drop bytes still buffered
    # when the connection broke; then it starts over): never a Range from 0, never beyond.
    rng = gets[1].headers.get("range")
    if rng is not None:
        start = int(rng.removeprefix("bytes=").rstrip("-"))
        assert 0 < start <= fault[1]
    assert gets[1].query["generation"] == [str(obj.generation)]


def test_wrong_hash_raises_and_leaves_no_file(backend: Backend, server: LocalGoogleServer, media: MediaState, tmp_path: Any) -> None:
    media.put("/storage/v1/b/bkt/o/h", payload(5000, 5))
    media.download_faults.append(("wrong_hash",))
    dest = tmp_path / "h.bin"

    with pytest.raises(ChecksumMismatch):
        download(backend, server, "h", dest)
    assert not dest.exists() and not (tmp_path / "h.bin.part").exists()


def test_error_response_is_raised_and_never_written(backend: Backend, server: LocalGoogleServer, media: MediaState, tmp_path: Any) -> None:
    media.put("/storage/v1/b/bkt/o/exists", b"x")
    dest = tmp_path / "keep.bin"
    dest.write_bytes(b"precious")

    with pytest.raises(HTTPError) as info:
        download(backend, server, "missing", dest)
    assert info.value.status_code == 404
    assert dest.read_bytes() == b"precious"
    assert not (tmp_path / "keep.bin.part").exists()


def test_download_retries_a_503_storm(backend: Backend, server: LocalGoogleServer, media: MediaState, tmp_path: Any) -> None:
    data = payload(1000, 6)
    media.put("/storage/v1/b/bkt/o/s", data)
    media.download_faults.extend([("status", 503)] * 3)
    dest = tmp_path / "s.bin"

    download(backend, server, "s", dest)
    assert dest.read_bytes() == data


# ------------------------------------------------------------------------------ batch


def test_batch_round_trip_with_partial_failure(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    media.put("/storage/v1/b/bkt/o/a", b"aaa")
    media.put("/storage/v1/b/bkt/o/b", b"bbbb")

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            batch = Request.batch_requests(
                storage.objects.get(bucket="bkt", object="a"),
                storage.objects.get(bucket="bkt", object="nope"),
                storage.objects.get(bucket="bkt", object="b"),
            )
            return await ag.as_anon(batch, full_res=True, raise_for_status=False)

    results = backend.run(scenario)
    assert [r.status_code for r in results] == [200, 404, 200]
    assert results[0].json["size"] == "3" and results[2].json["size"] == "4"
    outer = [r for r in server.log if r.path == "/batch/storage/v1"]
    assert len(outer) == 1 and outer[0].headers["content-type"].startswith("multipart/mixed; boundary=")


def test_batch_resends_a_part_that_got_503(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    media.put("/storage/v1/b/bkt/o/a", b"aaa")
    server.expect("GET", "/storage/v1/b/bkt/o/a", Reply.error(503, "busy"))

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            batch = Request.batch_requests(storage.objects.get(bucket="bkt", object="a"))
            return await ag.as_anon(batch)

    assert backend.run(scenario)[0]["size"] == "3"
    assert server.count("POST", "/batch/storage/v1") == 2


def test_batch_raises_for_a_failed_part_by_default(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    async def scenario() -> Any:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            media.put("/storage/v1/b/bkt/o/a", b"a")
            return await ag.as_anon(Request.batch_requests(storage.objects.get(bucket="bkt", object="zzz")))

    with pytest.raises(HTTPError):
        backend.run(scenario)


def test_batch_return_exceptions_gives_per_part_errors(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    media.put("/storage/v1/b/bkt/o/a", b"aaa")

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            storage = await ag.discover("storage", "v1")
            batch = Request.batch_requests(storage.objects.get(bucket="bkt", object="nope"), storage.objects.get(bucket="bkt", object="a"))
            return await ag.as_anon(batch, return_exceptions=True)

    missing, found = backend.run(scenario)
    assert isinstance(missing, HTTPError) and missing.status_code == 404
    assert found["size"] == "3"


# ------------------------------------------------------------------------------ retries / pagination


def test_retry_after_is_honoured(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    server.expect("GET", "/storage/v1/b", Reply.error(429, "slow down", headers={"Retry-After": "1"}), Reply(json={"items": []}))

    async def scenario() -> Any:
        async with client(backend, server, retry=RetryPolicy(initial_backoff=0.001, max_backoff=0.001)) as ag:
            storage = await ag.discover("storage", "v1")
            t0 = time.monotonic()
            out = await ag.as_anon(storage.buckets.list(project="p"))
            return out, time.monotonic() - t0

    out, elapsed = backend.run(scenario)
    assert out == {"items": []}
    assert elapsed >= 0.95


def test_pages_with_body_tokens_stop_on_repeated_token(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    server.expect(
        "POST",
        "/search",
        Reply(json={"items": [1], "nextPageToken": "t1"}),
        Reply(json={"items": [2], "nextPageToken": "t2"}),
        Reply(json={"items": [3], "nextPageToken": "t1"}),  # repeats: a server bug, stop
    )

    async def scenario() -> list[Any]:
        async with client(backend, server) as ag:
            first = await ag.as_anon(Request("POST", f"{server.url}search", json={"q": "x"}), full_res=True)
            return [page async for page in first(json_req=True)]

    pages = backend.run(scenario)
    assert [p["items"] for p in pages] == [[1], [2], [3]]
    bodies = [r.json() for r in server.log if r.path == "/search"]
    assert bodies == [{"q": "x"}, {"q": "x", "pageToken": "t1"}, {"q": "x", "pageToken": "t2"}]


def test_bigquery_style_page_token_in_response(backend: Backend, server: LocalGoogleServer, media: MediaState) -> None:
    server.expect("GET", "/rows", Reply(json={"rows": [1], "pageToken": "p2"}), Reply(json={"rows": [2], "pageToken": ""}))

    async def scenario() -> list[Any]:
        async with client(backend, server) as ag:
            first = await ag.as_anon(Request("GET", f"{server.url}rows?maxResults=1"), full_res=True)
            return [item async for item in ag.items(first, "rows")]

    assert backend.run(scenario) == [1, 2]
    assert server.requests("GET", "/rows")[1].query["pageToken"] == ["p2"]


def test_local_files_are_not_left_behind(tmp_path: Any) -> None:
    # The media plugin keeps its bytes in a temporary directory removed with its state.
    with LocalGoogleServer() as srv:
        state = media_state(srv)
        state.put("/x/y/o/z", b"1")
        directory = state.directory
        assert os.path.isdir(directory)
        srv.reset()
        del state
    import gc

    gc.collect()
    assert not os.path.exists(directory)
