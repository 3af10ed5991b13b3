"""The request flow (credentials, 401, redirects, retries) driven by hand, no event loop."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._call import CallOptions, call_flow, send_flow
from aiogoogle._http import HttpRequest
from aiogoogle.excs import ConnectError, RedirectError, TransportError
from aiogoogle.models import Request
from aiogoogle.retry import RetryPolicy, parse_retry_after

from .flowtools import FlowRunner, response

POLICY = RetryPolicy(random=random.Random(1).random)


def get(url: str = "https://api.example/v1/x", method: str = "GET") -> HttpRequest:
    return HttpRequest(method, url, (("accept", "application/json"),))


def test_credentials_are_applied_and_a_401_refreshes_once() -> None:
    statuses = iter([401, 200])
    runner = FlowRunner(lambda req: response(next(statuses)))
    result = runner.run(send_flow(get(), POLICY))
    assert result.status == 200
    assert [r.header("authorization") for r in runner.sent] == ["Bearer t1", "Bearer t2"]
    assert runner.authorize_calls == [None, "t1"]


def test_a_second_401_is_returned_to_the_caller() -> None:
    runner = FlowRunner(lambda req: response(401))
    assert runner.run(send_flow(get(), POLICY)).status == 401
    assert len(runner.sent) == 2


def test_redirects_are_followed_but_never_308() -> None:
    def answer(req: HttpRequest):
        if req.url.endswith("/x"):
            return response(302, headers={"location": "/y"})
        if req.url.endswith("/y"):
            return response(308, headers={"location": "/z", "range": "bytes=0-9"})
        return response(200)

    runner = FlowRunner(answer)
    with pytest.raises(RedirectError, match="308 is not followed") as info:
        runner.run(send_flow(get(), POLICY))
    assert [r.url for r in runner.sent] == ["https://api.example/v1/x", "https://api.example/y"]
    assert info.value.chain == ("https://api.example/v1/x", "https://api.example/y")
    assert info.value.location == "https://api.example/z" and info.value.status_code == 308
    # ... but a 308 is returned where the caller's protocol expects it (resumable sessions)
    runner = FlowRunner(answer)
    assert runner.run(send_flow(get("https://api.example/y"), POLICY, answers=frozenset({308}))).status == 308


def test_credentials_are_dropped_on_a_redirect_to_another_origin() -> None:
    def answer(req: HttpRequest):
        if "api.example" in req.url:
            return response(307, headers={"location": "https://other.example/file"})
        return response(200)

    req = HttpRequest("GET", "https://api.example/v1/x?key=SECRET", (("authorization", "Bearer zzz"), ("x-goog-api-key", "k")))
    runner = FlowRunner(answer)
    runner.run(send_flow(req, POLICY))
    assert runner.sent[1].url == "https://other.example/file"
    assert runner.sent[1].header("authorization") is None
    assert runner.sent[1].header("x-goog-api-key") is None
    assert runner.authorize_calls == [None]  # no credentials asked for the other origin


def test_303_turns_a_post_into_a_get_without_body() -> None:
    statuses = iter([response(303, headers={"location": "/done"}), response(200)])
    runner = FlowRunner(lambda req: next(statuses))
    runner.run(send_flow(HttpRequest("POST", "https://a/x", (("content-type", "application/json"),), b"{}"), POLICY))
    assert runner.sent[1].method == "GET" and runner.sent[1].body == b"" and runner.sent[1].header("content-type") is None


def test_retry_after_is_honoured() -> None:
    statuses = iter([response(429, headers={"retry-after": "7"}), response(503, headers={"retry-after": "Sun, 06 Nov 1994 08:49:47 GMT"}), response(200)])
    runner = FlowRunner(lambda req: next(statuses), clock=784111777.0)
    assert runner.run(send_flow(get(), POLICY)).status == 200
    assert runner.slept[0] >= 7
    assert runner.slept[1] >= 10 - 7  # an HTTP date, 10 s after "now" minus the 7 s slept


def test_backoff_is_capped_full_jitter_and_bounded_by_attempts() -> None:
    runner = FlowRunner(lambda req: response(500))
    policy = RetryPolicy(max_attempts=4, initial_backoff=1, max_backoff=3, deadline=None, random=lambda: 1.0)
    assert runner.run(send_flow(get(), policy)).status == 500
    assert runner.slept == [1, 2, 3]
    assert len(runner.sent) == 4


def test_the_deadline_stops_retries_without_sleeping_in_vain() -> None:
    runner = FlowRunner(lambda req: response(503, headers={"retry-after": "3600"}))
    assert runner.run(send_flow(get(), RetryPolicy(deadline=60))).status == 503
    assert runner.slept == [] and len(runner.sent) == 1


def test_rate_limit_403_is_retried_other_403_is_not() -> None:
    body = json.dumps({"error": {"code": 403, "message": "slow down", "errors": [{"reason": "userRateLimitExceeded"}]}}).encode()
    statuses = iter([response(403, body, {"content-type": "application/json"}), response(200)])
    runner = FlowRunner(lambda req: next(statuses))
    assert runner.run(send_flow(get(), POLICY)).status == 200
    body = json.dumps({"error": {"code": 403, "message": "no", "errors": [{"reason": "insufficientPermissions"}]}}).encode()
    runner = FlowRunner(lambda req: response(403, body, {"content-type": "application/json"}))
    assert runner.run(send_flow(get(), POLICY)).status == 403
    assert len(runner.sent) == 1


def test_non_idempotent_requests_are_not_retried_blindly() -> None:
    runner = FlowRunner(lambda req: response(500))
    assert runner.run(send_flow(get(method="POST"), POLICY)).status == 500
    assert len(runner.sent) == 1
    # ... but a 429 proves the request was not executed
    statuses = iter([response(429), response(200)])
    runner = FlowRunner(lambda req: next(statuses))
    assert runner.run(send_flow(get(method="POST"), POLICY)).status == 200
    # ... and a precondition makes it idempotent
    statuses = iter([response(503), response(200)])
    runner = FlowRunner(lambda req: next(statuses))
    assert runner.run(send_flow(get("https://a/o?ifGenerationMatch=0", method="POST"), POLICY)).status == 200


def test_transport_errors() -> None:
    errors = iter([TransportError("reset"), ConnectError("refused"), response(200)])
    runner = FlowRunner(lambda req: next(errors))
    assert runner.run(send_flow(get(), POLICY)).status == 200
    # a POST may have been executed when the connection broke: not retried ...
    runner = FlowRunner(lambda req: TransportError("reset"))
    with pytest.raises(TransportError):
        runner.run(send_flow(get(method="POST"), POLICY))
    assert len(runner.sent) == 1
    # ... unless it never reached the server
    errors = iter([ConnectError("refused"), response(200)])
    runner = FlowRunner(lambda req: next(errors))
    assert runner.run(send_flow(get(method="POST"), POLICY)).status == 200


def test_call_flow_builds_the_response() -> None:
    runner = FlowRunner(lambda req: response(200, b'{"a": 1}', {"content-type": "application/json; charset=UTF-8"}))
    req = Request(method="POST", url="https://a/x", json={"q": "é"})
    res = runner.run(call_flow(req, CallOptions()))
    assert res.json == {"a": 1} and res.status_code == 200 and res.req is req and res.reason == "OK"
    sent = runner.sent[0]
    assert sent.body == '{"q":"é"}'.encode() and sent.header("content-type") == "application/json"
    assert sent.header("accept-encoding") == "gzip, deflate" and sent.header("user-agent").startswith("aiogoogle/")


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", 0) == 120
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0 - 5) == 5
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0 + 5) == 0
    assert parse_retry_after("soon", 0) is None and parse_retry_after(None, 0) is None


# ------------------------------------------------------------------------------ redirects


def test_a_redirect_to_itself_is_a_loop_reported_at_once() -> None:
    runner = FlowRunner(lambda req: response(302, headers={"location": req.url}))
    with pytest.raises(RedirectError, match="redirect loop") as info:
        runner.run(send_flow(get(), POLICY))
    assert len(runner.sent) == 1
    assert info.value.chain == ("https://api.example/v1/x",) and info.value.location == "https://api.example/v1/x"
    assert "https://api.example/v1/x -> https://api.example/v1/x" in str(info.value)


def test_a_loop_through_other_urls_is_reported_when_it_closes() -> None:
    hops = {"/a": "/b", "/b": "/c", "/c": "/a"}
    runner = FlowRunner(lambda req: response(301, headers={"location": hops[req.url.removeprefix("https://h")]}))
    with pytest.raises(RedirectError, match="loop") as info:
        runner.run(send_flow(get("https://h/a", "DELETE"), POLICY))
    assert [r.url for r in runner.sent] == ["https://h/a", "https://h/b", "https://h/c"]
    assert info.value.chain == ("https://h/a", "https://h/b", "https://h/c")


def test_post_then_303_to_the_same_url_is_not_a_loop() -> None:
    replies = iter([response(303, headers={"location": "https://h/form"}), response(200)])
    runner = FlowRunner(lambda req: next(replies))
    assert runner.run(send_flow(HttpRequest("POST", "https://h/form", (), b"a=1"), POLICY)).status == 200
    assert [(r.method, r.url) for r in runner.sent] == [("POST", "https://h/form"), ("GET", "https://h/form")]


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_the_redirect_limit_is_enforced_with_the_chain_in_the_error(limit: int) -> None:
    runner = FlowRunner(lambda req: response(302, headers={"location": f"{req.url}x"}))
    with pytest.raises(RedirectError, match="not followed for this request" if limit == 0 else f"more than {limit} redirects") as info:
        runner.run(send_flow(get("https://h/p"), POLICY, max_redirects=limit))
    assert len(runner.sent) == limit + 1
    assert info.value.chain == tuple("https://h/p" + "x" * i for i in range(limit + 1))
    assert info.value.location == "https://h/p" + "x" * (limit + 1)


@pytest.mark.parametrize(
    ("status", "headers", "why"),
    [
        (300, {"location": "/other"}, "HTTP 300 Multiple Choices is not a redirect"),
        (305, {"location": "/proxy"}, "HTTP 305"),
        (304, {}, "304 Not Modified answered a request that was not conditional"),
        (306, {"location": "/x"}, "HTTP 306"),
        (399, {"location": "/x"}, "HTTP 399"),
        (302, {}, "without a Location"),
        (307, {"location": "  "}, "without a Location"),
        (301, {"location": "ftp://h/file"}, "not an http\\(s\\) URL"),
        (302, {"location": "javascript:alert(1)"}, "not an http\\(s\\) URL"),
        (302, {"location": "file:///etc/passwd"}, "not an http\\(s\\) URL"),
        (302, {"location": "http://h:99999/x"}, "malformed Location"),
        (302, {"location": "http:///nohost"}, "not an http\\(s\\) URL"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_3xx_that_is_not_followed_is_an_error_never_a_result(status: int, headers: dict[str, str], why: str, method: str) -> None:
    runner = FlowRunner(lambda req: response(status, b"moved", headers))
    with pytest.raises(RedirectError, match=why) as info:
        runner.run(call_flow(Request(method=method, url="https://h/thing"), CallOptions()))
    assert len(runner.sent) == 1
    err = info.value
    assert err.status_code == status and err.res is not None and err.res.status_code == status
    assert err.req is not None and err.req.method == method and err.res.req is err.req
    assert err.chain == ("https://h/thing",)


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("https://h/o", (("if-none-match", '"etag"'),)),
        ("https://h/o", (("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"),)),
        ("https://h/o?alt=media&ifGenerationNotMatch=7", ()),
        ("https://h/o?ifMetagenerationNotMatch=3", ()),
    ],
)
def test_a_304_to_a_conditional_request_is_the_answer(url: str, headers: tuple[tuple[str, str], ...]) -> None:
    runner = FlowRunner(lambda req: response(304))
    assert runner.run(send_flow(HttpRequest("GET", url, headers), POLICY)).status == 304
    request = Request(method="GET", url=url, headers=dict(headers))
    res = FlowRunner(lambda req: response(304)).run(call_flow(request, CallOptions()))
    res.raise_for_status()  # not an error: the request asked for it


def test_raise_for_status_refuses_any_other_3xx_response() -> None:
    from aiogoogle.models import Response

    for status in (300, 301, 304, 308):
        res = Response(status_code=status, url="https://h/x?key=SECRET", headers={"location": "https://u:p@o/y?key=K"}, req=Request("GET", "https://h/x?key=SECRET"))
        with pytest.raises(RedirectError, match=f"{status}") as info:
            res.raise_for_status()
        assert "SECRET" not in str(info.value) and info.value.chain == ("https://h/x?key=***",)
    Response(status_code=204).raise_for_status()


def test_a_body_is_never_sent_to_another_origin() -> None:
    for status, method in ((307, "POST"), (307, "PUT"), (302, "PUT"), (301, "PATCH")):
        runner = FlowRunner(lambda req, status=status: response(status, headers={"location": "https://evil.example/steal"}))
        http = HttpRequest(method, "https://oauth2.example/token", (("content-type", "application/x-www-form-urlencoded"),), b"refresh_token=RT&client_secret=CS")
        with pytest.raises(RedirectError, match="would send the request body there") as info:
            runner.run(send_flow(http, POLICY))
        assert [r.url for r in runner.sent] == ["https://oauth2.example/token"]
        assert "RT" not in str(info.value) and info.value.location == "https://evil.example/steal"


def test_a_redirect_that_drops_the_body_may_cross_origins_without_credentials() -> None:
    for status in (302, 303):
        replies = iter([response(status, headers={"location": "https://other.example/result"}), response(200)])
        runner = FlowRunner(lambda req, replies=replies: next(replies))
        http = HttpRequest("POST", "https://api.example/x", (("content-type", "application/json"), ("x-goog-user-project", "p")), b'{"a":1}')
        assert runner.run(send_flow(http, POLICY)).status == 200
        follow = runner.sent[1]
        assert (follow.method, follow.body, follow.url) == ("GET", b"", "https://other.example/result")
        assert follow.header("authorization") is None and follow.header("x-goog-user-project") is None
        assert runner.authorize_calls == [None]


def test_a_bodyless_same_origin_307_keeps_the_body_and_credentials() -> None:
    replies = iter([response(307, headers={"location": "/v2/x"}), response(200)])
    runner = FlowRunner(lambda req: next(replies))
    assert runner.run(send_flow(HttpRequest("POST", "https://api.example/v1/x", (), b"data"), POLICY)).status == 200
    assert runner.sent[1].body == b"data" and runner.sent[1].header("authorization") == "Bearer t1"


def test_a_streamed_body_is_not_sent_twice() -> None:
    from aiogoogle._http import PipeSource, StreamBody

    async def pipe():  # never iterated: the flow refuses before
        yield b"x"

    runner = FlowRunner(lambda req: response(307, headers={"location": "/again"}))
    body = StreamBody.of(b"head", PipeSource(pipe(), 10))
    with pytest.raises(RedirectError, match="cannot be sent again"):
        runner.run(send_flow(HttpRequest("PUT", "https://h/up", (), body), POLICY))
    assert len(runner.sent) == 1


def test_token_endpoint_requests_never_leave_their_origin() -> None:
    # cross_origin=False (what the token flows pass): not even a bodyless GET follows.
    runner = FlowRunner(lambda req: response(302, headers={"location": "https://elsewhere.example/jwks"}))
    with pytest.raises(RedirectError, match="never leave its origin"):
        runner.run(send_flow(get("https://www.googleapis.com/oauth2/v3/certs"), POLICY, authorize=False, cross_origin=False))
    assert len(runner.sent) == 1
    replies = iter([response(302, headers={"location": "/oauth2/v3/certs2"}), response(200)])
    runner = FlowRunner(lambda req: next(replies))
    assert runner.run(send_flow(get("https://www.googleapis.com/oauth2/v3/certs"), POLICY, authorize=False, cross_origin=False)).status == 200


def test_an_origin_is_scheme_host_and_port() -> None:
    for target, same in (
        ("https://api.example:443/y", True),
        ("https://API.example/y", True),
        ("http://api.example/y", False),
        ("https://api.example:8443/y", False),
        ("https://api.example.evil/y", False),
    ):
        replies = iter([response(307, headers={"location": target}), response(200)])
        runner = FlowRunner(lambda req, replies=replies: next(replies))
        runner.run(send_flow(get("https://api.example/x"), POLICY))
        assert (runner.sent[1].header("authorization") is not None) is same, target


def test_redirect_errors_never_show_secrets() -> None:
    runner = FlowRunner(lambda req: response(302, headers={"location": "https://user:pa55w0rd@h/next?key=APIKEY&upload_id=U"}))
    with pytest.raises(RedirectError) as info:
        runner.run(send_flow(get("https://h/start?access_token=TOKEN"), POLICY, max_redirects=0))
    text = str(info.value) + repr(info.value) + repr(info.value.chain) + str(info.value.location)
    for secret in ("pa55w0rd", "APIKEY", "TOKEN", "=U"):
        assert secret not in text
    assert "https://h/next?key=***&upload_id=***" in text


def test_a_redirect_error_pickles_with_its_chain_and_response() -> None:
    import pickle

    runner = FlowRunner(lambda req: response(302, b'{"error": "moved"}', {"location": req.url, "content-type": "application/json"}))
    request = Request(method="GET", url="https://h/self", callback=lambda content: content)
    with pytest.raises(RedirectError) as info:
        runner.run(call_flow(request, CallOptions()))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is RedirectError and str(copy) == str(info.value)
    assert copy.chain == info.value.chain and copy.location == info.value.location and copy.status_code == 302
    assert copy.res.json == {"error": "moved"} and copy.req.url == "https://h/self" and copy.req.callback is None


_STATUSES = st.sampled_from([200, 204, 300, 301, 302, 303, 304, 305, 307, 308, 404, 500])
_TARGETS = st.sampled_from(["/a", "/b", "/c", "https://o.example/a", "ftp://x/y", "", "//o.example/b", "/a?x=1"])


@settings(max_examples=60)
@given(st.lists(st.tuples(_STATUSES, _TARGETS), min_size=1, max_size=15), st.integers(0, 4), st.sampled_from(["GET", "POST", "DELETE"]))
def test_any_reply_sequence_ends_in_an_answer_or_our_error(replies: list[tuple[int, str]], limit: int, method: str) -> None:
    """Whatever 3xx replies a server sends: no 3xx is returned, no loop, at most limit + 1
    requests per redirect chain, and every failure is a RedirectError."""
    script = iter(replies)

    def answer(req: HttpRequest):
        status, target = next(script, (200, ""))
        return response(status, headers={"location": target} if target else {})

    runner = FlowRunner(answer)
    policy = RetryPolicy(max_attempts=2, random=lambda: 0.0)
    try:
        result = runner.run(send_flow(HttpRequest(method, "https://h/a", (), b"x" if method == "POST" else b""), policy, max_redirects=limit))
    except RedirectError as exc:
        assert exc.status_code is not None and 300 <= exc.status_code < 400
        assert len(exc.chain) <= limit + 1
    else:
        assert not 300 <= result.status < 400
    seen = [(r.method, r.url) for r in runner.sent]
    assert len(runner.sent) <= len(replies) + 1
    assert all(r.url.startswith(("https://h/", "https://o.example/")) for r in runner.sent), seen
    # Nothing is sent to another origin with a body, or with credentials.
    for r in runner.sent:
        if not r.url.startswith("https://h/"):
            assert r.body == b"" and r.header("authorization") is None


def test_a_metadata_probe_answered_with_a_redirect_is_not_a_metadata_server() -> None:
    from aiogoogle.auth import _flows as flows
    from aiogoogle.auth.endpoints import Endpoints
    from aiogoogle.excs import AuthError

    runner = FlowRunner(lambda req: response(302, headers={"location": "http://captive.portal/login"}))
    runner.on_fileop = None
    with pytest.raises(AuthError, match=r"metadata server .* \(HTTP 302, not a metadata server\)"):
        runner.run(flows.default_creds_flow({}, Endpoints.at("http://idp.test/"), CallOptions()))
    assert len(runner.sent) == 1  # the probe follows no redirect


def test_a_batch_part_answered_with_a_3xx_is_a_redirect_error_for_that_part() -> None:
    from aiogoogle.batch import batch_flow

    def server(http: HttpRequest):
        assert isinstance(http.body, bytes)
        cids = [line.split(b"<", 1)[1].split(b">", 1)[0].decode() for line in http.body.split(b"\r\n") if line.startswith(b"Content-ID:")]
        parts = [
            f"--b\r\nContent-Type: application/http\r\nContent-ID: <response-{cids[0]}>\r\n\r\nHTTP/1.1 302 Found\r\nLocation: https://h/elsewhere\r\n\r\n\r\n",
            f"--b\r\nContent-Type: application/http\r\nContent-ID: <response-{cids[1]}>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{{}}\r\n",
        ]
        return response(200, ("".join(parts) + "--b--\r\n").encode(), {"content-type": "multipart/mixed; boundary=b"})

    batch_url = "https://storage.googleapis.com/batch/storage/v1"
    parts = [Request("GET", f"https://storage.googleapis.com/storage/v1/b/x/o/{n}", batch_url=batch_url) for n in "ab"]
    moved, ok = FlowRunner(server).run(batch_flow(Request.batch_requests(*parts), CallOptions()))
    ok.raise_for_status()
    with pytest.raises(RedirectError, match="302 Found: a redirect that was not followed") as info:
        moved.raise_for_status()
    assert info.value.req is parts[0] and info.value.location == "https://h/elsewhere"
