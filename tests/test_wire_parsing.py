"""Numbers and JSON read from the wire (issue 10 item 4): only ASCII digits of bounded
length, and every malformed or too deeply nested value ends in a value or in our error,
never in ValueError, RecursionError or OverflowError. Driven without an event loop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._call import CallOptions
from aiogoogle._effects import FileOp
from aiogoogle._http import Headers, HttpResponse
from aiogoogle._parse import ascii_int, decode, json_count, loads
from aiogoogle.auth import _flows as flows
from aiogoogle.auth.endpoints import Endpoints
from aiogoogle.batch import BatchPart, batch_flow, decode_batch, match_parts
from aiogoogle.discovery import DiscoveryCache, DiscoveryEndpoints, discovery_flow
from aiogoogle.excs import (
    AuthError,
    BatchError,
    DiscoveryError,
    ResumableUploadError,
    google_error_info,
)
from aiogoogle.media import _content_range, parse_persisted
from aiogoogle.models import Request, Response, decode_body
from aiogoogle.pagination import next_page_token
from aiogoogle.retry import RetryPolicy, parse_http_date, parse_retry_after

from .flowtools import FlowRunner, response

# Digits that str.isdigit() accepts and int() rejects (superscripts, circled) or reads as
# another script's digits (Arabic-Indic, Devanagari, fullwidth).
NON_ASCII_DIGITS = ["²", "³", "¹", "①", "\u0663", "\u0967", "\uff13", "\U0001d7d7"]
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
OPTIONS = CallOptions(retry=RetryPolicy(max_attempts=2, initial_backoff=0.01, random=lambda: 1.0))


# ------------------------------------------------------------------------------ the helpers


@pytest.mark.parametrize("digit", NON_ASCII_DIGITS)
def test_only_ascii_digits_are_numbers(digit: str) -> None:
    assert digit.isdigit()  # what the old checks relied on
    for text in (digit, f"1{digit}", f"{digit}0", f" {digit} "):
        assert ascii_int(text) is None
        assert json_count(text, 10**9) is None


def test_ascii_int_bounds_the_length() -> None:
    assert ascii_int("1" * 18) == int("1" * 18)
    assert ascii_int("1" * 19) is None
    assert ascii_int("1" * 4301) is None and ascii_int("1" * 100_000) is None
    assert ascii_int("123", 2) is None and ascii_int("12", 2) == 12
    assert ascii_int(" \t42\t ") == 42 and ascii_int(b"42") == 42
    for bad in ("", " ", "+1", "-1", "1_000", "1.0", "0x10", "1e3", "\u00a012", None):
        assert ascii_int(bad) is None, bad


@given(st.text(max_size=30) | st.text(alphabet="0123456789 \t", max_size=25))
def test_ascii_int_is_exact_or_none(text: str) -> None:
    value = ascii_int(text)
    stripped = text.strip(" \t")
    if value is None:
        assert not (0 < len(stripped) <= 18 and stripped.isascii() and stripped.isdigit())
    else:
        assert str(value) == stripped.lstrip("0") or (value == 0 and set(stripped) == {"0"})


def test_json_count() -> None:
    assert json_count(3599, 3600) == 3599 and json_count(3599.9, 3600) == 3599 and json_count("3599", 3600) == 3599
    for bad in (True, False, -1, 3601, "3601", float("inf"), float("-inf"), float("nan"), 1e300, "²", "3599.0", None, [1], {"a": 1}):
        assert json_count(bad, 3600) is None, bad


class Bad(Exception):
    pass


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (DEEP, "nested too deeply"),
        (DEEP_OBJECT, "nested too deeply"),
        (b"[" * 100_000, "nested too deeply"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe\xfa", "not valid JSON"),
        (b"1" * 5000, "not valid JSON"),
        ("[1,]", "not valid JSON"),
    ],
)
def test_loads_raises_the_callers_error(data: bytes | str, why: str) -> None:
    with pytest.raises(Bad, match=why) as info:
        loads(data, Bad)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@settings(max_examples=60)
@given(st.binary(max_size=200) | st.text(max_size=100).map(str.encode) | st.integers(1, 3000).map(lambda n: b"[" * n))
def test_loads_gives_a_value_or_the_callers_error(data: bytes) -> None:
    try:
        value = loads(data, Bad)
    except Bad:
        return
    assert value == json.loads(data)


# ------------------------------------------------------------------------------ headers


@pytest.mark.parametrize("digit", NON_ASCII_DIGITS)
def test_retry_after_with_other_digits_is_ignored(digit: str) -> None:
    assert parse_retry_after(digit, 0) is None
    assert parse_retry_after(f"1{digit}", 0) is None
    assert parse_http_date(f"Sun, 0{digit} Nov 1994 08:49:37 GMT") is None
    assert parse_http_date(f"Sun Nov  {digit} 08:49:37 1994") is None


def test_retry_after_bounds_and_dates() -> None:
    assert parse_retry_after("7", 0) == 7.0 and parse_retry_after(" 7 ", 0) == 7.0
    assert parse_retry_after("9" * 10, 0) == 9999999999.0
    assert parse_retry_after("9" * 11, 0) is None and parse_retry_after("1" * 5000, 0) is None
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777.0
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777.0
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777.0
    for bad in ("Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 0000 08:49:37 GMT"):
        assert parse_http_date(bad) is None, bad


@settings(max_examples=60)
@given(st.text(max_size=40))
def test_retry_after_never_raises(text: str) -> None:
    result = parse_retry_after(text, 1e9)
    assert result is None or result >= 0


@pytest.mark.parametrize("digit", NON_ASCII_DIGITS)
def test_resumable_range_with_other_digits_is_our_error(digit: str) -> None:
    for value in (f"bytes=0-{digit}", f"bytes={digit}-5", f"bytes=0-1{digit}"):
        with pytest.raises(ResumableUploadError, match="not of the form"):
            parse_persisted(value)


def test_resumable_range_of_thousands_of_digits_is_our_error() -> None:
    with pytest.raises(ResumableUploadError) as info:
        parse_persisted("bytes=0-" + "9" * 5000)
    assert len(str(info.value)) < 400  # the header is not quoted whole


@settings(max_examples=60)
@given(st.text(max_size=40))
def test_range_and_content_range_never_raise_anything_else(text: str) -> None:
    try:
        assert parse_persisted(text) >= 1 or not text.strip()
    except ResumableUploadError:
        pass
    first, last, total = _content_range(text)
    assert all(v is None or v >= 0 for v in (first, last, total))


@pytest.mark.parametrize("digit", NON_ASCII_DIGITS)
def test_download_headers_with_other_digits_are_ignored(digit: str) -> None:
    from aiogoogle.media import _DownloadConsumer
    from aiogoogle.models import MediaDownload

    assert _content_range(f"bytes 0-{digit}/10") == (0, None, 10)
    assert _content_range(f"bytes {digit}-9/{digit}") == (None, 9, None)
    consumer = _DownloadConsumer(MediaDownload(pipe_to=lambda b: None, verify=False), None, 0)  # type: ignore[arg-type]
    assert consumer.accepts(200, Headers({"content-length": f"1{digit}", "x-goog-generation": f"12{digit}"}))
    assert consumer.total is None and consumer.generation is None
    assert consumer.accepts(200, Headers({"content-length": "12", "x-goog-generation": "1" * 5000}))
    assert consumer.total == 12 and consumer.generation is None


# ------------------------------------------------------------------------------ batch replies


def batch_reply(status_line: str, *, cid: str = "<response-p+0>", headers: str = "Content-Type: application/json\r\n", body: bytes = b"{}") -> bytes:
    return (
        f"--b\r\nContent-Type: application/http\r\nContent-ID: {cid}\r\n\r\n{status_line}\r\n{headers}\r\n".encode()
        + body
        + b"\r\n--b--\r\n"
    )


@pytest.mark.parametrize("digit", NON_ASCII_DIGITS)
def test_batch_status_line_with_other_digits_is_a_batch_error(digit: str) -> None:
    for status in (f"{digit}00", f"2{digit}0", digit * 3):
        with pytest.raises(BatchError, match="no HTTP status line"):
            decode_batch("multipart/mixed; boundary=b", batch_reply(f"HTTP/1.1 {status} OK"))
    with pytest.raises(BatchError, match="no HTTP status line"):
        decode_batch("multipart/mixed; boundary=b", batch_reply("HTTP/1.1 099 Low"))


@pytest.mark.parametrize("length", ["²", "1²", "9" * 5000, "-1", "+2"])
def test_batch_part_content_length_that_is_not_a_number_is_ignored(length: str) -> None:
    [part] = decode_batch("multipart/mixed; boundary=b", batch_reply("HTTP/1.1 200 OK", headers=f"Content-Length: {length}\r\n", body=b"abc"))
    assert part.response.status == 200 and part.response.body == b"abc"


@pytest.mark.parametrize("tail", ["9" * 4300, "9" * 5000, "²", "0²", "\u0661"])
def test_batch_content_ids_that_are_not_indices_fall_back_to_order(tail: str) -> None:
    parts = [BatchPart(f"<response-p+{tail}>", HttpResponse(200, Headers({}), b"a")), BatchPart("<response-p+0>", HttpResponse(200, Headers({}), b"b"))]
    answers = match_parts(parts, "p", 2)
    assert [a.body for a in answers if isinstance(a, HttpResponse)] == [b"b", b"a"]
    with pytest.raises(BatchError, match="not all carry their Content-ID"):
        match_parts(parts, "p", 3)


def test_a_deeply_nested_batch_part_is_kept_as_text() -> None:
    parts = [Request("GET", "https://storage.googleapis.com/storage/v1/b/x/o/a", batch_url="https://storage.googleapis.com/batch/storage/v1")]

    def server(http: Any) -> HttpResponse:
        cid = http.body.split(b"Content-ID: <", 1)[1].split(b">", 1)[0].decode()
        return response(200, batch_reply("HTTP/1.1 200 OK", cid=f"<response-{cid}>", body=DEEP), {"content-type": "multipart/mixed; boundary=b"})

    [result] = FlowRunner(server).run(batch_flow(Request.batch_requests(*parts), OPTIONS))
    assert result.status_code == 200 and result.json is None and result.data.startswith("[[[")


# ------------------------------------------------------------------------------ JSON bodies


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
@pytest.mark.parametrize("ctype", ["application/json", "application/problem+json", None])
def test_a_deeply_nested_body_is_kept_as_text(body: bytes, ctype: str | None) -> None:
    json_body, data = decode_body(ctype, body)
    assert json_body is None
    assert data == (body.decode() if ctype else body)


def test_error_details_of_a_deeply_nested_body_are_its_text() -> None:
    res = Response(status_code=500, data=DEEP.decode(), headers={"content-type": "application/json"}, req=Request("GET", "https://h/x"))
    assert google_error_info(res)["message"].startswith("[[[")
    assert google_error_info(Response(status_code=500, data=DEEP))["message"].startswith("[[[")
    assert res.error_msg is not None and res.error_msg.startswith("500")
    with pytest.raises(Exception) as info:
        res.raise_for_status()
    assert type(info.value).__name__ == "HTTPError"


def test_a_page_token_that_is_not_a_string_ends_the_iteration() -> None:
    assert next_page_token({"nextPageToken": json.loads(b"[" * 500 + b"]" * 500)}) is None
    assert next_page_token({"nextPageToken": {"a": 1}}) is None
    assert next_page_token({"nextPageToken": True}) is None
    assert next_page_token({"nextPageToken": 12}) == "12"
    assert next_page_token({"nextPageToken": "t"}) == "t"


# ------------------------------------------------------------------------------ token replies

EP = Endpoints.at("http://idp.test/")
USER = {"refresh_token": "RT", "client_id": "cid", "client_secret": "sec"}


def token_reply(body: bytes) -> Any:
    return lambda req: HttpResponse(200, Headers({"content-type": "application/json"}), body)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"{" * 3000])
def test_a_deeply_nested_token_reply_is_an_auth_error(body: bytes) -> None:
    with pytest.raises(AuthError, match="not a JSON object"):
        FlowRunner(token_reply(body)).run(flows.refresh_flow(USER, None, EP, OPTIONS))
    with pytest.raises(AuthError, match="not a JSON object"):
        FlowRunner(token_reply(body)).run(flows.metadata_token_flow("http://md.test/computeMetadata/v1/", OPTIONS))


@pytest.mark.parametrize("expires_in", ["²", "3599²", "1" * 5000, "3599.5", 1e300, -5, True, [3599], {"s": 1}])
def test_an_expires_in_that_is_not_seconds_is_an_auth_error(expires_in: Any) -> None:
    body = json.dumps({"access_token": "AT", "expires_in": expires_in}).encode()
    with pytest.raises(AuthError, match="expires_in is not a number of seconds"):
        FlowRunner(token_reply(body)).run(flows.refresh_flow(USER, None, EP, OPTIONS))
    with pytest.raises(AuthError, match="expires_in is not a number of seconds"):
        FlowRunner(token_reply(body)).run(flows.metadata_token_flow("http://md.test/computeMetadata/v1/", OPTIONS))


@pytest.mark.parametrize("literal", [b"Infinity", b"-Infinity", b"NaN", b"1e999"])
def test_infinite_or_nan_expires_in_is_an_auth_error(literal: bytes) -> None:
    body = b'{"access_token": "AT", "expires_in": ' + literal + b"}"
    with pytest.raises(AuthError, match="expires_in"):
        FlowRunner(token_reply(body)).run(flows.refresh_flow(USER, None, EP, OPTIONS))
    with pytest.raises(AuthError, match="expires_in"):
        FlowRunner(token_reply(body)).run(flows.metadata_token_flow("http://md.test/computeMetadata/v1/", OPTIONS))


def test_usual_expires_in_values_still_work() -> None:
    for value in (3599, "3599", 3599.0):
        body = json.dumps({"access_token": "AT", "expires_in": value}).encode()
        creds = FlowRunner(token_reply(body)).run(flows.refresh_flow(USER, None, EP, OPTIONS))
        assert creds["expires_in"] == 3599
        token = FlowRunner(token_reply(body)).run(flows.metadata_token_flow("http://md.test/computeMetadata/v1/", OPTIONS))
        assert token.expires_at == 1000.0 + 3599


@pytest.mark.parametrize("value", ["max-age=²", "max-age=1e999", "max-age=inf", "max-age=nan", "max-age=-5", "max-age=" + "9" * 5000])
def test_a_max_age_that_is_not_delta_seconds_is_ignored(value: str) -> None:
    assert flows.cache_max_age(value) is None
    assert flows.cache_max_age("public, max-age=600") == 600.0


# ------------------------------------------------------------------------------ discovery

ENDPOINTS = DiscoveryEndpoints.at("https://disco.test/")


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"{not json"])
def test_a_discovery_document_that_cannot_be_decoded_is_a_discovery_error(body: bytes) -> None:
    runner = FlowRunner(lambda req: HttpResponse(200, Headers({"content-type": "application/json"}), body))
    with pytest.raises(DiscoveryError, match="did not return a discovery document: it is") as info:
        runner.run(discovery_flow("x", "v1", ENDPOINTS, OPTIONS))
    assert "[[[" not in str(info.value)


def test_a_discovery_directory_with_malformed_items_is_a_discovery_error() -> None:
    for directory in ({"items": [1, "x", None]}, {"items": "x"}, {"items": [{"version": 3}]}, {"items": [{"preferred": True}]}):
        runner = FlowRunner(lambda req, d=directory: response(200, json.dumps(d).encode(), {"content-type": "application/json"}))
        with pytest.raises(DiscoveryError, match="lists no API"):
            runner.run(discovery_flow("x", None, ENDPOINTS, OPTIONS))


class CacheRunner(FlowRunner):
    def __init__(self, responder: Any, files: dict[str, bytes]) -> None:
        super().__init__(responder)
        self.files = files

    def on_fileop(self, op: FileOp) -> Any:
        if op.op == "size":
            return len(self.files[op.path]) if op.path in self.files else -1
        if op.op == "read":
            return self.files[op.path]
        if op.op == "mtime":
            return self.clock
        if op.op == "write":
            assert op.data is not None
            self.files[op.path] = op.data
            return None
        raise AssertionError(op)


@pytest.mark.parametrize("damage", [DEEP, b"[1, 2", b"\xff\xfe"])
def test_a_damaged_cache_file_counts_as_no_cache(damage: bytes) -> None:
    document = {"kind": "discovery#restDescription", "name": "x", "version": "v1", "revision": "2"}
    cache = DiscoveryCache("/cache")
    path = cache.path_for("x", "v1", ENDPOINTS.v1.format(api="x", version="v1"))
    runner = CacheRunner(lambda req: response(200, json.dumps(document).encode(), {"content-type": "application/json"}), {path: damage})
    assert runner.run(discovery_flow("x", "v1", ENDPOINTS, OPTIONS, cache)) == document
    assert len(runner.sent) == 1 and json.loads(runner.files[path]) == document


def test_decode_matches_json_loads_on_the_fast_path() -> None:
    for data in (b'{"a": [1, 2]}', b"[1]  \n", b'{"a": 1} x', b"[\x00]"):
        try:
            expected: Any = json.loads(data)
        except ValueError as exc:
            expected = type(exc)
        try:
            got: Any = decode(data)
        except ValueError as exc:
            got = type(exc)
        assert got == expected


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def test_error_fields_nested_too_deeply_to_show_are_named_not_raised() -> None:
    deep = _nested(5000)
    info = google_error_info(Response(json={"error": {"message": deep, "status": deep, "errors": [{"reason": deep}]}}))
    assert info["message"] == info["status"] == info["reason"] == "<a list nested too deeply to show>"
    assert google_error_info(Response(json={"error": "invalid_grant", "error_description": deep}))["message"] == "<a list nested too deeply to show>"
    res = Response(status_code=400, json={"error": {"message": deep}}, req=Request("GET", "https://h/x"))
    with pytest.raises(Exception, match="400: <a list nested too deeply to show>") as raised:
        res.raise_for_status()
    assert type(raised.value).__name__ == "HTTPError"


@pytest.mark.parametrize("content", [DEEP, b'{"type": "service_account", ' + b"[" * 10_000])
def test_an_adc_file_nested_too_deeply_is_an_auth_error(content: bytes) -> None:
    class FileRunner(FlowRunner):
        def on_fileop(self, op: FileOp) -> bytes:
            assert op.op == "read"
            return content

    env = {"GOOGLE_APPLICATION_CREDENTIALS": "/creds.json", "NO_GCE_CHECK": "1"}
    with pytest.raises(AuthError, match=r"/creds\.json is not JSON"):
        FileRunner(lambda req: AssertionError("no request")).run(flows.default_creds_flow(env, EP, OPTIONS))


def test_from_response_without_a_request_is_our_error() -> None:
    from aiogoogle.excs import ValidationError

    with pytest.raises(ValidationError, match="carries no request"):
        Request.from_response(Response(status_code=200))
