"""Media flows driven by hand (no event loop): uploads of every protocol, resumable recovery
under failure schedules, downloads with resumption and checksums (docs/protocol.md §2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._call import CallOptions
from aiogoogle.excs import ChecksumMismatch, MediaError, ResumableUploadError, ValidationError
from aiogoogle.media import (
    UPLOAD_GRANULE,
    choose_protocol,
    download_flow,
    parse_persisted,
    upload_flow,
)
from aiogoogle.models import MediaDownload, MediaUpload, Request, ResumableUpload
from aiogoogle.retry import RetryPolicy

from .mediafake import FakeStorage, ListSource, MediaRunner, Wire, b64_crc32c, b64_md5

G = UPLOAD_GRANULE
UPLOAD = "http://fake/upload/storage/v1/b/bkt/o?name=obj&uploadType=media"
OPTIONS = CallOptions(retry=RetryPolicy(max_attempts=6, initial_backoff=0.5, max_backoff=4, deadline=30, random=lambda: 1.0))


def upload_request(source: Any, *, resumable: bool | None = True, chunk: int = G, metadata: Any = None, **kw: Any) -> Request:
    media = MediaUpload(
        source if not isinstance(source, ListSource) else None,
        upload_path=UPLOAD,
        resumable=ResumableUpload(),
        chunk_size=chunk,
        pipe_from=source if isinstance(source, ListSource) else None,  # type: ignore[arg-type]
        use_resumable=resumable,
        multipart=metadata is not None,
        **kw,
    )
    return Request("POST", "http://fake/storage/v1/b/bkt/o?name=obj", json=metadata, media_upload=media)


def data_of(n: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(n))


# ------------------------------------------------------------------------------ helpers


def test_parse_persisted() -> None:
    assert parse_persisted(None) == 0  # no Range: nothing persisted (docs/protocol.md §2.3)
    assert parse_persisted("") == 0
    assert parse_persisted("bytes=0-0") == 1
    assert parse_persisted("bytes=0-262143") == G
    for bad in ("bytes=5-10", "items=0-1", "bytes=0-", "garbage"):
        with pytest.raises(ResumableUploadError):
            parse_persisted(bad)


def test_choose_protocol() -> None:
    small = MediaUpload(b"x", upload_path=UPLOAD, resumable=ResumableUpload())
    assert choose_protocol(small, 1, False) == "simple"
    assert choose_protocol(small, 1, True) == "multipart"
    assert choose_protocol(small, None, False) == "resumable"  # unknown size
    assert choose_protocol(small, 100 << 20, False) == "resumable"
    no_resumable = MediaUpload(b"x", upload_path=UPLOAD)
    assert choose_protocol(no_resumable, 100 << 20, False) == "simple"
    forced = MediaUpload(b"x", upload_path=UPLOAD, use_resumable=False, resumable=ResumableUpload())
    assert choose_protocol(forced, None, True) == "multipart"


# ------------------------------------------------------------------------------ simple / multipart


def test_simple_upload_sends_raw_bytes_with_media_type() -> None:
    seen: list[Any] = []

    def server(req: Any, body: bytes) -> Wire:
        seen.append((req, body))
        return Wire(200, {"content-type": "application/json"}, b'{"name": "obj"}')

    runner = MediaRunner(server)
    res = runner.run(upload_flow(upload_request(b"hello", resumable=False, content_type="text/plain"), OPTIONS))
    assert res.json == {"name": "obj"}
    req, body = seen[0]
    assert body == b"hello"
    assert "uploadType=media" in req.url
    assert req.header("content-type") == "text/plain"


def test_multipart_upload_framing() -> None:
    seen: list[Any] = []

    def server(req: Any, body: bytes) -> Wire:
        seen.append((req, body))
        return Wire(200, {"content-type": "application/json"}, b"{}")

    runner = MediaRunner(server, files={"/f.bin": b"\x00\r\n--x\xff"})
    runner.run(upload_flow(upload_request("/f.bin", resumable=False, metadata={"name": "dir/a b"}, content_type="image/png"), OPTIONS))
    req, body = seen[0]
    assert "uploadType=multipart" in req.url
    ctype = req.header("content-type")
    assert ctype.startswith("multipart/related; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    assert body == (
        b"--" + boundary + b"\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
        b'{"name":"dir/a b"}\r\n--' + boundary + b"\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        b"\x00\r\n--x\xff\r\n--" + boundary + b"--\r\n"
    )
    # The stdlib MIME parser reads the same two parts back.
    import email.parser

    msg = email.parser.BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    meta, media = msg.get_payload()
    assert json.loads(meta.get_payload()) == {"name": "dir/a b"}
    assert media.get_payload(decode=True) == b"\x00\r\n--x\xff"


def test_no_metadata_means_no_metadata_part() -> None:
    # aiogoogle sent a literal "null" part and corrupted the file; here it is a simple upload.
    seen: list[Any] = []
    runner = MediaRunner(lambda req, body: seen.append((req, body)) or Wire(200, {}, b""))
    req = upload_request(b"data", resumable=False)
    req.media_upload.multipart = True  # type: ignore[union-attr]
    runner.run(upload_flow(req, OPTIONS))
    assert seen[0][1] == b"data"
    assert "uploadType=media" in seen[0][0].url
    assert b"null" not in seen[0][1]


def test_max_size_and_accept_are_checked_before_sending() -> None:
    runner = MediaRunner(lambda req, body: pytest.fail("sent"))
    with pytest.raises(MediaError, match="maxSize"):
        runner.run(upload_flow(upload_request(b"12345", max_size=4), OPTIONS))
    with pytest.raises(MediaError, match="accepts only"):
        runner.run(upload_flow(upload_request(b"1", mime_range=["image/*"], content_type="text/plain"), OPTIONS))
    # A pipe of unknown size is checked as it is read: before more than maxSize is sent.
    server = FakeStorage()
    with pytest.raises(MediaError, match="maxSize"):
        MediaRunner(server).run(upload_flow(upload_request(ListSource([b"x" * G] * 3), max_size=G), OPTIONS))
    assert not server.stored


def test_missing_file_is_a_media_error() -> None:
    with pytest.raises(MediaError, match="no such file"):
        MediaRunner(lambda r, b: pytest.fail("sent")).run(upload_flow(upload_request("/nope"), OPTIONS))


def test_chunk_size_must_be_a_multiple_of_256k() -> None:
    with pytest.raises(ValidationError, match="multiple of 256 KiB"):
        MediaRunner(FakeStorage()).run(upload_flow(upload_request(b"x", chunk=1000), OPTIONS))


# ------------------------------------------------------------------------------ resumable


@pytest.mark.parametrize("size", [0, 1, G - 1, G, G + 1, 3 * G + 17])
@pytest.mark.parametrize("kind", ["bytes", "file", "pipe"])
def test_resumable_upload_sizes(size: int, kind: str) -> None:
    data = data_of(size)
    server = FakeStorage()
    runner = MediaRunner(server, files={"/src": data})
    source: Any = {"bytes": data, "file": "/src", "pipe": ListSource([data[i : i + 1000] for i in range(0, size, 1000)])}[kind]
    progress: list[tuple[int, int | None]] = []
    req = upload_request(source, progress=lambda done, total: progress.append((done, total)))
    res = runner.run(upload_flow(req, OPTIONS))
    assert bytes(server.stored) == data and server.done
    assert res.json["size"] == str(size)
    assert req.media_upload.offset == size  # type: ignore[union-attr]
    assert progress[-1] == (size, size)
    ranges = [r.header("content-range") for r in runner.sent[1:]]
    if kind == "pipe" and size > G:
        assert ranges[0].endswith("/*")  # total unknown until the source ends
    assert ranges[-1].endswith(f"/{size}")
    # Every chunk but the last is a multiple of 256 KiB.
    assert all(len(b) % G == 0 for b in runner.bodies[1:-1])
    assert runner.max_body <= G


def test_initiation_carries_metadata_and_upload_headers() -> None:
    server = FakeStorage()
    runner = MediaRunner(server)
    runner.run(upload_flow(upload_request(b"abc", metadata={"name": "obj"}, content_type="text/plain"), OPTIONS))
    init = runner.sent[0]
    assert "uploadType=resumable" in init.url
    assert init.header("x-upload-content-type") == "text/plain"
    assert init.header("x-upload-content-length") == "3"
    assert json.loads(runner.bodies[0]) == {"name": "obj"}


def test_broken_connection_mid_chunk_resumes_from_server_offset() -> None:
    data = data_of(4 * G + 5)
    server = FakeStorage()
    server.chunk_plan = ["ok", ("cut", G // 2), "ok"]
    runner = MediaRunner(server)
    runner.run(upload_flow(upload_request(data), OPTIONS))
    assert bytes(server.stored) == data
    ranges = [r.header("content-range") for r in runner.sent[1:]]
    assert ranges[:4] == [f"bytes 0-{G - 1}/{len(data)}", f"bytes {G}-{2 * G - 1}/{len(data)}", f"bytes */{len(data)}", f"bytes {G}-{2 * G - 1}/{len(data)}"]
    assert runner.slept and runner.slept[0] > 0


def test_server_persisting_less_than_sent_gets_the_rest_again() -> None:
    data = data_of(3 * G)
    server = FakeStorage()
    server.chunk_plan = [("lose", 1000)]
    runner = MediaRunner(server)
    runner.run(upload_flow(upload_request(data, chunk=2 * G), OPTIONS))
    assert bytes(server.stored) == data
    assert runner.sent[2].header("content-range") == f"bytes {2 * G - 1000}-{3 * G - 1}/{3 * G}"


def test_no_range_on_308_means_zero_bytes() -> None:
    data = data_of(G + 1)
    server = FakeStorage()
    server.chunk_plan = [("cut", 100)]  # < one granule: the server keeps nothing
    runner = MediaRunner(server)
    runner.run(upload_flow(upload_request(data), OPTIONS))
    assert bytes(server.stored) == data
    assert runner.sent[3].header("content-range") == f"bytes 0-{G - 1}/{G + 1}"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_retryable_status_on_chunk_queries_then_resumes(status: int) -> None:
    data = data_of(2 * G)
    server = FakeStorage()
    server.chunk_plan = ["ok", ("status", status)]
    runner = MediaRunner(server)
    runner.run(upload_flow(upload_request(data), OPTIONS))
    assert bytes(server.stored) == data
    assert runner.sent[3].header("content-range") == f"bytes */{2 * G}"


def test_retry_after_is_honoured_on_chunks() -> None:
    data = data_of(G)
    runner_box: list[MediaRunner] = []

    def server(req: Any, body: bytes) -> Wire:
        if "upload_id" not in req.url:
            return Wire(200, {"location": FakeStorage.SESSION})
        if len(runner_box[0].sent) == 2:
            return Wire(429, {"retry-after": "7"})
        if req.header("content-range").startswith("bytes */"):
            return Wire(308)
        return Wire(200, {}, b"{}")

    runner = MediaRunner(server)
    runner_box.append(runner)
    runner.run(upload_flow(upload_request(data), OPTIONS))
    assert runner.slept == [7.0]


def test_other_4xx_is_returned_as_the_error_response() -> None:
    def server(req: Any, body: bytes) -> Wire:
        if "upload_id" not in req.url:
            return Wire(200, {"location": FakeStorage.SESSION})
        return Wire(400, {"content-type": "application/json"}, b'{"error": {"code": 400, "message": "bad chunk"}}')

    res = MediaRunner(server).run(upload_flow(upload_request(data_of(10)), OPTIONS))
    assert res.status_code == 400
    assert "bad chunk" in res.error_msg


def test_initiation_error_is_returned() -> None:
    res = MediaRunner(lambda r, b: Wire(403, {"content-type": "application/json"}, b'{"error": {"code": 403, "message": "no"}}')).run(
        upload_flow(upload_request(b"x"), OPTIONS)
    )
    assert res.status_code == 403


@pytest.mark.parametrize("status", [404, 410])
def test_expired_session_raises_with_resume_info(status: int) -> None:
    server = FakeStorage()
    server.chunk_plan = [("status", 503)]
    server.query_plan = [("status", status)]
    req = upload_request(data_of(10))
    with pytest.raises(ResumableUploadError, match="session is gone") as info:
        MediaRunner(server).run(upload_flow(req, OPTIONS))
    assert info.value.session_uri == FakeStorage.SESSION
    assert info.value.offset == 0
    assert "upload_id=xyz" not in str(info.value) or "***" in str(info.value)


def test_gives_up_after_the_retry_budget_with_session_and_offset() -> None:
    data = data_of(3 * G)
    server = FakeStorage()
    server.chunk_plan = ["ok"] + [("status", 503)] * 50
    req = upload_request(data)
    runner = MediaRunner(server)
    with pytest.raises(ResumableUploadError, match="gave up") as info:
        runner.run(upload_flow(req, OPTIONS))
    assert info.value.offset == G
    assert info.value.session_uri == FakeStorage.SESSION
    assert req.media_upload.session_uri == FakeStorage.SESSION  # type: ignore[union-attr]


def test_resume_in_another_process_from_session_uri() -> None:
    data = data_of(3 * G)
    server = FakeStorage()
    server.chunk_plan = ["ok"] + [("status", 503)] * 50
    first = upload_request(data)
    with pytest.raises(ResumableUploadError) as info:
        MediaRunner(server).run(upload_flow(first, OPTIONS))
    server.chunk_plan = []
    # A new process: only the session URI survived.
    second = upload_request(data, session_uri=info.value.session_uri)
    runner = MediaRunner(server)
    runner.run(upload_flow(second, OPTIONS))
    assert bytes(server.stored) == data
    assert server.initiations == 1
    assert runner.sent[0].header("content-range") == f"bytes */{3 * G}"
    assert runner.sent[1].header("content-range") == f"bytes {G}-{2 * G - 1}/{3 * G}"


def test_status_query_completes_an_upload_that_already_finished() -> None:
    data = data_of(G)
    server = FakeStorage()
    server.stored = bytearray(data)
    server.total = G
    runner = MediaRunner(server)
    res = runner.run(upload_flow(upload_request(data, session_uri=FakeStorage.SESSION), OPTIONS))
    assert res.status_code == 200 and len(runner.sent) == 1


def test_emulator_zero_byte_quirk_before_any_byte() -> None:
    # gcp-storage-emulator answers bytes=0-0 to a status query before any byte arrived
    # (docs/testing.md, "gcp-storage-emulator"); nothing was sent, so the upload starts at 0 regardless.
    data = data_of(10)
    calls = {"n": 0}

    def server(req: Any, body: bytes) -> Wire | Exception:
        calls["n"] += 1
        if "upload_id" not in req.url:
            return Wire(200, {"location": FakeStorage.SESSION})
        if calls["n"] == 2:
            from aiogoogle.excs import ConnectError

            return ConnectError("refused")
        if req.header("content-range").startswith("bytes */"):
            return Wire(308, {"range": "bytes=0-0"})
        assert req.header("content-range") == "bytes 0-9/10", req.header("content-range")
        return Wire(200, {}, b"{}")

    MediaRunner(server).run(upload_flow(upload_request(data), OPTIONS))


def test_server_claiming_bytes_never_sent_is_an_error() -> None:
    def server(req: Any, body: bytes) -> Wire:
        if "upload_id" not in req.url:
            return Wire(200, {"location": FakeStorage.SESSION})
        return Wire(308, {"range": f"bytes=0-{5 * G}"})

    with pytest.raises(ResumableUploadError, match="claims"):
        MediaRunner(server).run(upload_flow(upload_request(data_of(2 * G)), OPTIONS))


def test_pipe_source_holds_at_most_a_chunk() -> None:
    data = data_of(8 * G + 3)
    source = ListSource([data[i : i + 4096] for i in range(0, len(data), 4096)])
    server = FakeStorage()
    server.chunk_plan = ["ok", ("cut", G + 5)]
    runner = MediaRunner(server)
    runner.run(upload_flow(upload_request(source, chunk=2 * G), OPTIONS))
    assert bytes(server.stored) == data
    assert runner.max_body <= 2 * G


def test_pipe_declared_size_mismatch() -> None:
    source = ListSource([b"abc"])
    with pytest.raises(ResumableUploadError, match="declared"):
        MediaRunner(FakeStorage()).run(upload_flow(upload_request(source, size=10), OPTIONS))


# Failure schedules for the property test: what happens to each data PUT / status query.
chunk_event = st.one_of(
    st.just("ok"),
    st.just("connect"),
    st.tuples(st.just("status"), st.sampled_from([500, 502, 503, 504, 429, 408])),
    st.tuples(st.just("cut"), st.integers(0, 3 * G)),
    st.tuples(st.just("lose"), st.integers(1, 2 * G)),
)
query_event = st.one_of(st.just("ok"), st.just("connect"), st.tuples(st.just("status"), st.sampled_from([500, 503])))


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(0, 6 * G + 3),
    chunk_granules=st.integers(1, 3),
    kind=st.sampled_from(["bytes", "file", "pipe"]),
    chunk_plan=st.lists(chunk_event, max_size=25),
    query_plan=st.lists(query_event, max_size=10),
    granule=st.sampled_from([1, G]),
)
def test_random_failure_schedules_complete_byte_exact_or_raise_after_deadline(
    size: int, chunk_granules: int, kind: str, chunk_plan: list[Any], query_plan: list[Any], granule: int
) -> None:
    data = data_of(size)
    server = FakeStorage(granule=granule)
    server.chunk_plan = list(chunk_plan)
    server.query_plan = list(query_plan)
    runner = MediaRunner(server, files={"/src": data})
    source: Any = {"bytes": data, "file": "/src", "pipe": ListSource([data[i : i + 70000] for i in range(0, size, 70000)])}[kind]
    req = upload_request(source, chunk=chunk_granules * G)
    policy = OPTIONS.retry
    try:
        res = runner.run(upload_flow(req, OPTIONS))
    except ResumableUploadError as exc:
        # A clear error, only once a run of failures without progress exhausted the policy.
        assert exc.session_uri == FakeStorage.SESSION
        assert exc.offset == req.media_upload.offset  # type: ignore[union-attr]
        assert "gave up" in str(exc) or "pipe_from buffer" in str(exc)
        if "gave up" in str(exc):
            assert len(runner.slept) >= 1
        return
    assert res.status_code == 200
    assert bytes(server.stored) == data
    # Waiting never exceeds the deadline per run of failures.
    assert all(s <= policy.max_backoff for s in runner.slept)


# ------------------------------------------------------------------------------ 308 without progress


def session_server(chunk_reply: Any, *, session: str = FakeStorage.SESSION) -> Any:
    """A server that opens ``session`` and answers every chunk with ``chunk_reply(n)``
    (n counts chunk requests from 1) and every status query with the real state."""
    count = {"n": 0}

    def server(req: Any, body: bytes) -> Wire:
        if "upload_id" not in req.url:
            return Wire(200, {"location": session})
        count["n"] += 1
        if count["n"] > 100:  # the unbounded loop this guards against
            raise AssertionError("more than 100 session requests")
        return chunk_reply(count["n"], req)

    return server


@pytest.mark.parametrize("reply", [Wire(308), Wire(308, {"range": "bytes=0-0"})], ids=["no-range", "range-0-0"])
def test_308_without_progress_forever_backs_off_and_gives_up(reply: Wire) -> None:
    """A server answering 308 with no Range (or an emulator's bytes=0-0) to every chunk used
    to get the first chunk re-sent at wire speed forever."""
    runner = MediaRunner(session_server(lambda n, req: reply))
    req = upload_request(data_of(2 * G))
    with pytest.raises(ResumableUploadError, match="gave up after 6 attempts") as info:
        runner.run(upload_flow(req, OPTIONS))
    policy = OPTIONS.retry
    # max_attempts PUTs of the first chunk, and a growing wait before each but the first.
    puts = runner.sent[1:]
    assert len(puts) == policy.max_attempts
    assert {r.header("content-range") for r in puts} == {f"bytes 0-{G - 1}/{2 * G}"}
    assert runner.slept == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert info.value.session_uri == FakeStorage.SESSION and info.value.offset == 0
    assert "308 without taking any of the bytes sent" in str(info.value)


def test_a_range_that_stops_advancing_counts_against_the_budget() -> None:
    # The first chunk is taken, then the server stays at G whatever is sent.
    runner = MediaRunner(session_server(lambda n, req: Wire(308, {"range": f"bytes=0-{G - 1}"})))
    req = upload_request(data_of(3 * G))
    with pytest.raises(ResumableUploadError, match="gave up") as info:
        runner.run(upload_flow(req, OPTIONS))
    assert info.value.offset == G
    ranges = [r.header("content-range") for r in runner.sent[1:]]
    assert ranges[0] == f"bytes 0-{G - 1}/{3 * G}"
    assert set(ranges[1:]) == {f"bytes {G}-{2 * G - 1}/{3 * G}"} and len(ranges) == 1 + OPTIONS.retry.max_attempts


def test_no_retries_means_the_first_308_without_progress_fails() -> None:
    runner = MediaRunner(session_server(lambda n, req: Wire(308)))
    options = CallOptions(retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ResumableUploadError, match="gave up after 1 attempts"):
        runner.run(upload_flow(upload_request(data_of(G)), options))
    assert len(runner.sent) == 2 and runner.slept == []


def test_progress_between_stalls_renews_the_budget() -> None:
    # Each chunk is refused once (308, nothing more held), then taken: the upload completes
    # although the stalls add up to more than the budget of one run of failures.
    data = data_of(8 * G)
    server = FakeStorage()
    server.chunk_plan = [("lose", G), "ok"] * 8
    runner = MediaRunner(server)
    res = runner.run(upload_flow(upload_request(data), OPTIONS))
    assert res.status_code == 200 and bytes(server.stored) == data
    assert len(runner.slept) == 8 and set(runner.slept) == {0.5}


def test_the_deadline_bounds_a_stall_too() -> None:
    runner = MediaRunner(session_server(lambda n, req: Wire(308)))
    options = CallOptions(retry=RetryPolicy(max_attempts=1000, initial_backoff=10, max_backoff=10, deadline=35, random=lambda: 1.0))
    with pytest.raises(ResumableUploadError, match="gave up"):
        runner.run(upload_flow(upload_request(data_of(G)), options))
    assert runner.slept == [10, 10, 10]


# ------------------------------------------------------------------------------ session URI and origins

OTHER_SESSION = "http://uploads.elsewhere.example/session?upload_id=xyz"


class KeyRunner(MediaRunner):
    """Credentials that are an API key (a query parameter) plus a quota project header."""

    def authorize(self, stale: str | None) -> Any:
        from aiogoogle._effects import AuthInfo

        self.authorize_calls.append(stale)
        return AuthInfo(headers=(("x-goog-user-project", "proj"),), query=(("key", "APIKEY"),), token=None)


@pytest.mark.parametrize("runner_class", [MediaRunner, KeyRunner])
def test_a_session_uri_on_another_origin_gets_no_credentials(runner_class: Any) -> None:
    data = data_of(2 * G)
    server = FakeStorage()
    server.SESSION = OTHER_SESSION  # type: ignore[misc]
    runner = runner_class(server)
    req = upload_request(data)
    req.headers["Authorization"] = "Bearer set-by-hand"
    res = runner.run(upload_flow(req, OPTIONS))
    assert res.status_code == 200 and bytes(server.stored) == data
    init, *puts = runner.sent
    assert init.header("authorization") or "key=APIKEY" in init.url
    assert puts and all(p.url.startswith(OTHER_SESSION) for p in puts)
    for p in puts:
        assert p.header("authorization") is None and p.header("x-goog-user-project") is None and "APIKEY" not in p.url
    assert runner.authorize_calls == [None]  # asked once, for the initiation only


def test_a_session_uri_on_the_api_origin_keeps_credentials() -> None:
    runner = MediaRunner(FakeStorage())
    runner.run(upload_flow(upload_request(data_of(G)), OPTIONS))
    assert all(r.header("authorization") == "Bearer t1" for r in runner.sent)


def test_a_resumed_session_uri_on_another_origin_gets_no_credentials() -> None:
    server = FakeStorage()
    server.SESSION = OTHER_SESSION  # type: ignore[misc]
    runner = MediaRunner(server)
    runner.run(upload_flow(upload_request(data_of(G), session_uri=OTHER_SESSION), OPTIONS))
    assert runner.sent and all(r.header("authorization") is None for r in runner.sent)
    assert runner.authorize_calls == []


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("ftp://fake/session?upload_id=1", "not an http\\(s\\) URL"),
        ("javascript:alert(1)", "not an http\\(s\\) URL"),
        ("http://fake:99999/session", "malformed"),
    ],
)
def test_a_session_uri_that_is_not_http_is_refused(location: str, why: str) -> None:
    runner = MediaRunner(lambda req, body: Wire(200, {"location": location}))
    with pytest.raises(ResumableUploadError, match=why):
        runner.run(upload_flow(upload_request(data_of(10)), OPTIONS))
    assert len(runner.sent) == 1


def test_a_session_uri_may_not_downgrade_https_to_http() -> None:
    runner = MediaRunner(lambda req, body: Wire(200, {"location": "http://fake/upload/session?upload_id=1"}))
    media = upload_request(data_of(10)).media_upload
    assert media is not None
    media.upload_path = "https://fake/upload/storage/v1/b/bkt/o?name=obj"
    with pytest.raises(ResumableUploadError, match="unencrypted"):
        runner.run(upload_flow(Request("POST", "https://fake/storage/v1/b/bkt/o", media_upload=media), OPTIONS))
    assert len(runner.sent) == 1


def test_a_redirect_during_a_session_is_an_error() -> None:
    from aiogoogle.excs import RedirectError

    runner = MediaRunner(session_server(lambda n, req: Wire(302, {"location": "http://fake/elsewhere"})))
    with pytest.raises(RedirectError, match="not followed for this request"):
        runner.run(upload_flow(upload_request(data_of(10)), OPTIONS))
    assert len(runner.sent) == 2


def test_an_initiation_answered_with_308_is_an_error_not_a_session() -> None:
    from aiogoogle.excs import RedirectError

    runner = MediaRunner(lambda req, body: Wire(308, {"range": "bytes=0-9"}))
    with pytest.raises(RedirectError, match="308"):
        runner.run(upload_flow(upload_request(data_of(10)), OPTIONS))


def test_an_initiation_redirected_on_its_origin_is_followed() -> None:
    server = FakeStorage()

    def redirecting(req: Any, body: bytes) -> Any:
        if "moved" not in req.url and "upload_id" not in req.url:
            return Wire(307, {"location": req.url.replace("/upload/", "/moved/upload/")})
        return server(req, body)

    runner = MediaRunner(redirecting)
    data = data_of(G)
    res = runner.run(upload_flow(upload_request(data, metadata={"name": "obj"}), OPTIONS))
    assert res.status_code == 200 and bytes(server.stored) == data
    assert runner.bodies[1] == runner.bodies[0] == b'{"name":"obj"}'


# ------------------------------------------------------------------------------ downloads


def download_request(**kw: Any) -> Request:
    return Request("GET", "http://fake/storage/v1/b/bkt/o/obj?alt=media", media_download=MediaDownload(**kw))


def test_download_to_file_verifies_and_renames() -> None:
    data = data_of(5 * 65536 + 3)
    server = FakeStorage(object_data=data)
    runner = MediaRunner(server)
    progress: list[int] = []
    res = runner.run(download_flow(download_request(file_path="/out", progress=lambda done, total: progress.append(done)), OPTIONS))
    assert res.status_code == 200
    assert bytes(runner.files["/out"]) == data
    assert "/out.part" not in runner.files
    assert progress[-1] == len(data)
    assert runner.sent[0].raw  # hashes are over the raw bytes (docs/protocol.md §2.5)


def test_download_to_pipe() -> None:
    data = data_of(200_000)
    got: list[bytes] = []
    runner = MediaRunner(FakeStorage(object_data=data))
    runner.run(download_flow(download_request(pipe_to=got.append), OPTIONS))
    assert b"".join(got) == data


def test_broken_download_resumes_with_range_and_pinned_generation() -> None:
    data = data_of(300_000)
    server = FakeStorage(object_data=data)
    server.download_plan = [("cut", 100_000), ("cut", 50_000)]
    runner = MediaRunner(server)
    runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert bytes(runner.files["/out"]) == data
    assert server.ranges == [None, "bytes=100000-", "bytes=150000-"]
    assert "generation=1234" not in runner.sent[0].url
    assert all("generation=1234" in r.url for r in runner.sent[1:])


def test_server_ignoring_range_restarts_without_duplicating() -> None:
    data = data_of(300_000)
    server = FakeStorage(object_data=data)
    server.download_plan = [("cut", 100_000), "ignore_range"]
    got: list[bytes] = []
    runner = MediaRunner(server)
    runner.run(download_flow(download_request(pipe_to=got.append), OPTIONS))
    assert b"".join(got) == data


def test_checksum_mismatch_raises_and_keeps_nothing() -> None:
    server = FakeStorage(object_data=data_of(1000))
    server.download_plan = ["wrong_hash"]
    runner = MediaRunner(server)
    with pytest.raises(ChecksumMismatch):
        runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert "/out" not in runner.files and "/out.part" not in runner.files


def test_verify_false_skips_the_check() -> None:
    server = FakeStorage(object_data=data_of(1000))
    server.download_plan = ["wrong_hash"]
    runner = MediaRunner(server)
    runner.run(download_flow(download_request(file_path="/out", verify=False), OPTIONS))
    assert bytes(runner.files["/out"]) == data_of(1000)


def test_md5_is_used_when_crc32c_is_absent() -> None:
    data = data_of(1000)

    def server(req: Any, body: bytes) -> Wire:
        return Wire(200, {"x-goog-hash": f"md5={b64_md5(data + b'!')}", "content-length": "1000"}, data)

    with pytest.raises(ChecksumMismatch, match="md5"):
        MediaRunner(server).run(download_flow(download_request(pipe_to=lambda b: None), OPTIONS))

    def good(req: Any, body: bytes) -> Wire:
        return Wire(200, {"x-goog-hash": f"md5={b64_md5(data)}", "content-length": "1000"}, data)

    MediaRunner(good).run(download_flow(download_request(pipe_to=lambda b: None), OPTIONS))


def test_gzip_stored_object_hashes_raw_bytes_and_writes_decoded() -> None:
    import gzip

    plain = data_of(50_000)
    stored = gzip.compress(plain)

    def server(req: Any, body: bytes) -> Wire:
        return Wire(200, {"content-encoding": "gzip", "x-goog-stored-content-encoding": "gzip", "x-goog-hash": f"crc32c={b64_crc32c(stored)}", "content-length": str(len(stored))}, stored)

    runner = MediaRunner(server)
    runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert bytes(runner.files["/out"]) == plain


def test_decompressive_transcoding_skips_the_check() -> None:
    plain = data_of(5000)

    def server(req: Any, body: bytes) -> Wire:
        # Served decompressed: the stored hash describes the compressed bytes (§2.5).
        return Wire(200, {"x-goog-stored-content-encoding": "gzip", "x-goog-hash": "crc32c=AAAAAA==", "content-length": "5000"}, plain)

    runner = MediaRunner(server)
    runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert bytes(runner.files["/out"]) == plain


def test_error_response_is_returned_and_never_written() -> None:
    server = FakeStorage(object_data=b"x")
    server.download_plan = [("status", 404)]
    runner = MediaRunner(server, files={"/out": b"precious"})
    res = runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert res.status_code == 404
    assert bytes(runner.files["/out"]) == b"precious"
    assert "/out.part" not in runner.files


def test_retryable_download_status_is_retried() -> None:
    data = data_of(100)
    server = FakeStorage(object_data=data)
    server.download_plan = [("status", 503), "connect"]
    runner = MediaRunner(server)
    runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert bytes(runner.files["/out"]) == data
    assert len(runner.slept) == 2


def test_download_gives_up_and_keeps_partial_for_resumption() -> None:
    data = data_of(300_000)
    server = FakeStorage(object_data=data)
    server.download_plan = [("cut", 100_000)] + ["connect"] * 20
    runner = MediaRunner(server)
    with pytest.raises(MediaError, match=r"start = 100000"):
        runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert bytes(runner.files["/out.part"]) == data[:100_000]
    assert "/out" not in runner.files
    # Later (another process): resume from the partial file.
    server.download_plan = []
    runner2 = MediaRunner(server, files={"/out.part": data[:100_000]})
    runner2.run(download_flow(download_request(file_path="/out", start=100_000), OPTIONS))
    assert bytes(runner2.files["/out"]) == data
    assert server.ranges[-1] == "bytes=100000-"


@pytest.mark.parametrize("size", [0, 1, 1000, 4096, 10_000])
def test_range_chunked_download(size: int) -> None:
    data = data_of(size)
    server = FakeStorage(object_data=data)
    runner = MediaRunner(server)
    runner.run(download_flow(download_request(file_path="/out", range_chunks=True, chunk_size=4096), OPTIONS))
    assert bytes(runner.files["/out"]) == data
    assert server.ranges[0] == "bytes=0-4095"
    assert len(server.ranges) == max(1, -(-size // 4096))


def test_truncated_body_without_transport_error_is_resumed() -> None:
    data = data_of(10_000)
    calls = {"n": 0}

    def server(req: Any, body: bytes) -> Wire:
        calls["n"] += 1
        if calls["n"] == 1:
            # Content-Length says 10000 but only 4000 arrive and the stream "ends".
            return Wire(200, {"content-length": "10000"}, data[:4000])
        assert req.header("range") == "bytes=4000-"
        return Wire(206, {"content-range": "bytes 4000-9999/10000", "content-length": "6000"}, data[4000:])

    runner = MediaRunner(server)
    runner.run(download_flow(download_request(file_path="/out"), OPTIONS))
    assert bytes(runner.files["/out"]) == data


@settings(max_examples=40, deadline=None)
@given(size=st.integers(0, 200_000), cuts=st.lists(st.integers(0, 200_000), max_size=4), chunked=st.booleans())
def test_downloads_with_random_cuts_are_byte_exact(size: int, cuts: list[int], chunked: bool) -> None:
    data = data_of(size)
    server = FakeStorage(object_data=data)
    server.download_plan = [("cut", c) for c in cuts]
    runner = MediaRunner(server, chunk=7919)
    runner.run(download_flow(download_request(file_path="/out", range_chunks=chunked, chunk_size=65536), OPTIONS))
    assert bytes(runner.files["/out"]) == data
