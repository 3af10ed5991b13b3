"""The request flow (credentials, 401, redirects, retries) driven by hand, no event loop."""

from __future__ import annotations

import json
import random

import pytest

from aiogoogle._call import CallOptions, call_flow, send_flow
from aiogoogle._http import HttpRequest
from aiogoogle.excs import ConnectError, TransportError
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
    assert runner.run(send_flow(get(), POLICY)).status == 308
    assert [r.url for r in runner.sent] == ["https://api.example/v1/x", "https://api.example/y"]


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
