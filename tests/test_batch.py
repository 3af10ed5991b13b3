"""Batch requests (docs/protocol.md §3) driven by hand: encoding, parsing (including hostile
input), Content-ID matching, splitting, and per-part re-sends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._call import CallOptions, to_http
from aiogoogle._http import Headers, HttpRequest, HttpResponse
from aiogoogle.batch import (
    BatchPart,
    batch_flow,
    batch_limit,
    decode_batch,
    encode_batch,
    match_parts,
    split_parts,
)
from aiogoogle.excs import AuthError, BatchError, HTTPError
from aiogoogle.models import MediaUpload, Request, Response
from aiogoogle.retry import RetryPolicy

from .flowtools import FlowRunner, response

BATCH_URL = "https://storage.googleapis.com/batch/storage/v1"
OPTIONS = CallOptions(retry=RetryPolicy(max_attempts=4, initial_backoff=1, deadline=60, random=lambda: 1.0))


def part(method: str = "GET", path: str = "/storage/v1/b/bkt/o/a", json_body: Any = None) -> Request:
    return Request(method, "https://storage.googleapis.com" + path, batch_url=BATCH_URL, json=json_body)


def parse_request_parts(http: HttpRequest) -> list[tuple[str, str, str, dict[str, str], bytes]]:
    """The server side: (content-id, method, target, headers, body) per part."""
    ctype = http.header("content-type") or ""
    boundary = ctype.split("boundary=", 1)[1].encode()
    assert isinstance(http.body, bytes)
    pieces = (b"\r\n" + http.body).split(b"\r\n--" + boundary)
    assert pieces[-1].startswith(b"--")
    out = []
    for piece in pieces[1:-1]:
        head, _, inner = piece[2:].partition(b"\r\n\r\n")
        part_headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        assert part_headers["Content-Type"] == "application/http"
        req_head, _, body = inner.partition(b"\r\n\r\n")
        lines = req_head.decode().split("\r\n")
        method, target, version = lines[0].split(" ")
        assert version == "HTTP/1.1"
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        out.append((part_headers["Content-ID"], method, target, headers, body))
    return out


def reply_for(http: HttpRequest, answers: list[tuple[int, Any]], *, ids: bool = True, order: list[int] | None = None) -> HttpResponse:
    parts = parse_request_parts(http)
    boundary = "resp_boundary_1"
    chunks = []
    indices = order if order is not None else list(range(len(parts)))
    for i in indices:
        cid = parts[i][0]
        status, body = answers[i]
        payload = json.dumps(body).encode()
        head = f"--{boundary}\r\nContent-Type: application/http\r\n"
        if ids:
            head += f"Content-ID: <response-{cid[1:-1]}>\r\n"
        head += f"\r\nHTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        chunks.append(head.encode() + payload + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return response(200, b"".join(chunks), {"content-type": f"multipart/mixed; boundary={boundary}"})


# ------------------------------------------------------------------------------ building


def test_batch_requests_refuses_media_and_mixed_apis() -> None:
    up = part()
    up.media_upload = MediaUpload(b"x")
    with pytest.raises(BatchError, match="media"):
        Request.batch_requests(part(), up)
    other = Request("GET", "https://x/y", batch_url="https://www.googleapis.com/batch/drive/v3")
    with pytest.raises(BatchError, match="same API"):
        Request.batch_requests(part(), other)
    with pytest.raises(BatchError):
        Request.batch_requests()


def test_encoding_uses_path_and_query_only_and_ids() -> None:
    wires = [to_http(part("GET", "/storage/v1/b/bkt/o/a?alt=json"), OPTIONS), to_http(part("PATCH", "/storage/v1/b/bkt/o/b", {"k": "v"}), OPTIONS)]
    body, ctype = encode_batch(wires, BATCH_URL, boundary="BND", prefix="pfx")
    assert ctype == "multipart/mixed; boundary=BND"
    http = HttpRequest("POST", BATCH_URL, (("content-type", ctype),), body)
    parsed = parse_request_parts(http)
    assert [p[0] for p in parsed] == ["<pfx+0>", "<pfx+1>"]
    assert [(p[1], p[2]) for p in parsed] == [("GET", "/storage/v1/b/bkt/o/a?alt=json"), ("PATCH", "/storage/v1/b/bkt/o/b")]
    assert json.loads(parsed[1][4]) == {"k": "v"}
    assert parsed[1][3]["content-length"] == str(len(parsed[1][4]))
    assert "user-agent" not in parsed[0][3]  # sent once, on the outer request


def test_split_by_count_and_payload_size() -> None:
    small = [HttpRequest("GET", f"https://h/x/{i}") for i in range(5)]
    assert split_parts(small, 2) == [[0, 1], [2, 3], [4]]
    big = [HttpRequest("POST", "https://h/x", (), b"x" * 400) for _ in range(5)]
    groups = split_parts(big, 100, max_bytes=1500)
    assert [len(g) for g in groups] == [2, 2, 1]
    assert split_parts([HttpRequest("POST", "https://h/x", (), b"x" * 5000)], 100, max_bytes=1000) == [[0]]


def test_batch_limit() -> None:
    assert batch_limit(BATCH_URL) == 100
    assert batch_limit("https://www.googleapis.com/batch/calendar/v3") == 1000


# ------------------------------------------------------------------------------ parsing


def test_parse_emulator_style_reply_without_ids_or_blank_line() -> None:
    # gcp-storage-emulator: no Content-ID, no blank line before the status line, no closing CRLF.
    body = (
        b"--b\r\nContent-Type: application/http\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
        b'{"a": 1}\r\n\r\n--b\r\nContent-Type: application/http\r\nHTTP/1.1 404 Not Found\r\n'
        b'Content-Type: application/json; charset=UTF-8\r\n\r\n{"error": {"code": 404}}\r\n\r\n--b--'
    )
    parts = decode_batch("multipart/mixed; boundary=b", body)
    assert [p.response.status for p in parts] == [200, 404]
    assert json.loads(parts[0].response.body) == {"a": 1}
    assert [p.content_id for p in parts] == [None, None]
    matched = match_parts(parts, "pfx", 2)
    assert [m.status for m in matched] == [200, 404]  # type: ignore[union-attr]


def test_match_by_content_id_when_out_of_order() -> None:
    parts = [
        BatchPart("<response-pfx+1>", HttpResponse(201, Headers())),
        BatchPart("<response-pfx+0>", HttpResponse(200, Headers())),
    ]
    assert [m.status for m in match_parts(parts, "pfx", 2)] == [200, 201]  # type: ignore[union-attr]


def test_missing_answer_is_a_per_part_error() -> None:
    parts = [BatchPart("<response-pfx+1>", HttpResponse(201, Headers()))]
    out = match_parts(parts, "pfx", 2)
    assert isinstance(out[0], BatchError)
    assert out[1].status == 201  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("application/json", b"{}"),
        ("multipart/mixed", b"--x--"),
        ("multipart/mixed; boundary=x", b"nothing here"),
        ("multipart/mixed; boundary=x", b"--x\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{}"),
        ("multipart/mixed; boundary=x", b"--x\r\n\r\nnot a status line\r\n--x--"),
        ("multipart/mixed; boundary=x", b"--x\r\n\r\nHTTP/1.1 2000 OK\r\n\r\n--x--"),
        ("multipart/mixed; boundary=x", b"--x\r\n\r\nHTTP/1.1 200 OK\r\nbad header\r\n\r\n--x--"),
    ],
)
def test_malformed_replies_raise_batch_error(ctype: str, body: bytes) -> None:
    with pytest.raises(BatchError):
        decode_batch(ctype, body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["b", "batch_x", "--"]))
def test_arbitrary_bytes_parse_or_raise_batch_error(body: bytes, boundary: str) -> None:
    try:
        parts = decode_batch(f"multipart/mixed; boundary={boundary}", body)
    except BatchError:
        return
    for p in parts:
        assert 100 <= p.response.status <= 999


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=4).map(lambda xs: b"--b\r\n" + b"\r\n--b\r\n".join(xs) + b"\r\n--b--"))
def test_structured_noise_parses_or_raises_batch_error(body: bytes) -> None:
    try:
        decode_batch("multipart/mixed; boundary=b", body)
    except BatchError:
        pass


header_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).filter(lambda s: s not in ("content-length", "user-agent", "x-goog-api-client", "accept-encoding") and not s.startswith("-"))
header_value = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
wire_part = st.builds(
    lambda method, path, headers, body: HttpRequest(method, "https://h" + path, tuple(headers.items()), body),
    st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"]),
    st.from_regex(r"/[a-z0-9/]{0,20}(\?[a-z]=[a-z0-9]{1,5})?", fullmatch=True),
    st.dictionaries(header_name, header_value, max_size=3),
    st.binary(max_size=80),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(wire_part, min_size=1, max_size=6), st.lists(st.tuples(st.integers(100, 599), st.binary(max_size=60)), min_size=6, max_size=6))
def test_round_trip(parts: list[HttpRequest], answers: list[tuple[int, bytes]]) -> None:
    boundary = "bnd_7f3a9c"
    body, ctype = encode_batch(parts, BATCH_URL, boundary=boundary, prefix="p")
    http = HttpRequest("POST", BATCH_URL, (("content-type", ctype),), body)
    # The server side reads back every part as sent...
    parsed = parse_request_parts(http)
    assert len(parsed) == len(parts)
    for (_cid, method, target, headers, pbody), sent in zip(parsed, parts, strict=True):
        assert method == sent.method and pbody == sent.body
        assert "https://h" + target == sent.url
        for k, v in sent.headers:
            assert headers[k.lower()] == v
    # ...and a reply built from answers decodes back to them, in request order.
    chunks = []
    for (cid, *_), (status, rbody) in zip(parsed, answers, strict=False):
        chunks.append(
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{cid[1:-1]}>\r\n\r\nHTTP/1.1 {status} R\r\nContent-Length: {len(rbody)}\r\n\r\n".encode()
            + rbody
            + b"\r\n"
        )
    reply = b"".join(chunks) + f"--{boundary}--".encode()
    decoded = match_parts(decode_batch(ctype, reply), "p", len(parts))
    for got, (status, rbody) in zip(decoded, answers, strict=False):
        assert isinstance(got, HttpResponse)
        assert (got.status, got.body) == (status, rbody)


# ------------------------------------------------------------------------------ the flow


def run_batch(parts: list[Request], server: Any, options: CallOptions = OPTIONS) -> tuple[list[Any], FlowRunner]:
    runner = FlowRunner(server)
    out = runner.run(batch_flow(Request.batch_requests(*parts), options))
    return out, runner


def test_flow_returns_results_in_request_order() -> None:
    parts = [part(path=f"/storage/v1/b/bkt/o/{i}") for i in range(3)]
    out, runner = run_batch(parts, lambda http: reply_for(http, [(200, {"i": 0}), (404, {"error": {"code": 404, "message": "gone"}}), (200, {"i": 2})], order=[2, 0, 1]))
    assert [r.status_code for r in out] == [200, 404, 200]
    assert out[0].json == {"i": 0} and out[2].json == {"i": 2}
    assert out[1].req is parts[1]
    with pytest.raises(HTTPError, match="gone"):
        out[1].raise_for_status()
    assert runner.sent[0].url == BATCH_URL
    assert runner.sent[0].header("authorization") == "Bearer t1"


def test_flow_falls_back_to_order_without_ids() -> None:
    out, _ = run_batch([part(), part()], lambda http: reply_for(http, [(200, {"n": 1}), (200, {"n": 2})], ids=False))
    assert [r.json for r in out] == [{"n": 1}, {"n": 2}]


def test_flow_splits_above_the_limit() -> None:
    parts = [part(path=f"/storage/v1/b/bkt/o/{i}") for i in range(230)]
    sizes: list[int] = []

    def server(http: HttpRequest) -> HttpResponse:
        n = len(parse_request_parts(http))
        sizes.append(n)
        return reply_for(http, [(200, {})] * n)

    out, _ = run_batch(parts, server)
    assert sizes == [100, 100, 30]
    assert len(out) == 230 and all(isinstance(r, Response) and r.status_code == 200 for r in out)


def test_unauthorized_parts_are_resent_once_after_refresh() -> None:
    calls: list[list[str]] = []

    def server(http: HttpRequest) -> HttpResponse:
        parsed = parse_request_parts(http)
        calls.append([p[2] for p in parsed])
        if len(calls) == 1:
            return reply_for(http, [(200, {"ok": 1}), (401, {"error": {"code": 401}})])
        assert http.header("authorization") == "Bearer t2"
        return reply_for(http, [(200, {"ok": 2})])

    out, runner = run_batch([part(path="/storage/v1/b/bkt/o/a"), part(path="/storage/v1/b/bkt/o/b")], server)
    assert calls == [["/storage/v1/b/bkt/o/a", "/storage/v1/b/bkt/o/b"], ["/storage/v1/b/bkt/o/b"]]
    assert [r.json for r in out] == [{"ok": 1}, {"ok": 2}]
    assert runner.refreshes == 1


def test_persistent_401_part_is_returned_after_one_refresh() -> None:
    out, runner = run_batch([part()], lambda http: reply_for(http, [(401, {"error": {"code": 401, "message": "nope"}})]))
    assert out[0].status_code == 401 and runner.refreshes == 1
    with pytest.raises(AuthError):
        out[0].raise_for_status()


def test_retryable_parts_are_resent_with_backoff_and_retry_after() -> None:
    calls = []

    def server(http: HttpRequest) -> HttpResponse:
        parsed = parse_request_parts(http)
        calls.append(len(parsed))
        if len(calls) == 1:
            resp = reply_for(http, [(503, {}), (200, {"x": 1}), (429, {})])
            return resp
        return reply_for(http, [(200, {"y": i}) for i in range(len(parsed))])

    out, runner = run_batch([part(), part(), part()], server)
    assert calls == [3, 2]
    assert [r.status_code for r in out] == [200, 200, 200]
    assert runner.slept == [1.0]


def test_non_idempotent_part_is_not_resent_after_5xx() -> None:
    calls = []

    def server(http: HttpRequest) -> HttpResponse:
        calls.append(len(parse_request_parts(http)))
        return reply_for(http, [(503, {})] * calls[-1])

    out, _ = run_batch([part("POST", "/storage/v1/b/bkt/o/a/copyTo/b/bkt/o/c")], server)
    assert calls == [1]
    assert out[0].status_code == 503


def test_retries_stop_with_the_policy() -> None:
    calls = []

    def server(http: HttpRequest) -> HttpResponse:
        calls.append(1)
        return reply_for(http, [(503, {})])

    out, _ = run_batch([part()], server)
    assert len(calls) == 4  # max_attempts
    assert out[0].status_code == 503


def test_outer_error_fails_the_whole_batch() -> None:
    with pytest.raises(HTTPError):
        run_batch([part()], lambda http: response(400, b'{"error": {"code": 400, "message": "bad batch"}}', {"content-type": "application/json"}))


def test_unparseable_reply_raises_batch_error() -> None:
    with pytest.raises(BatchError):
        run_batch([part()], lambda http: response(200, b"oops", {"content-type": "text/plain"}))
