"""Retry policy properties and pagination flows, driven by hand (docs/protocol.md §4.2-4.3, §5)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._call import CallOptions, call_flow, send_flow
from aiogoogle._http import HttpRequest, HttpResponse
from aiogoogle.excs import HTTPError, TransportError
from aiogoogle.models import Request, Response
from aiogoogle.pagination import items_of, next_page_token, pages_flow
from aiogoogle.retry import DEFAULT_RETRY, NO_RETRY, RetryPolicy

from .flowtools import FlowRunner, response

# ------------------------------------------------------------------------------ retries

failure = st.one_of(
    st.sampled_from([408, 429, 500, 502, 503, 504]).map(lambda s: ("status", s, None)),
    st.tuples(st.just("status"), st.sampled_from([429, 503]), st.integers(0, 90)),
    st.just(("reset", 0, None)),
)


@settings(max_examples=200, deadline=None)
@given(
    failures=st.lists(failure, max_size=12),
    attempts=st.integers(1, 8),
    deadline=st.one_of(st.none(), st.floats(1, 200)),
    jitter=st.floats(0, 1),
)
def test_retries_never_exceed_attempts_or_deadline(failures: list[Any], attempts: int, deadline: float | None, jitter: float) -> None:
    policy = RetryPolicy(max_attempts=attempts, initial_backoff=1, max_backoff=32, deadline=deadline, random=lambda: jitter)
    outcomes = iter(failures)

    def server(req: HttpRequest) -> HttpResponse | BaseException:
        kind, status, retry_after = next(outcomes, ("ok", 200, None))
        if kind == "reset":
            return TransportError("reset")
        return response(status, headers={"retry-after": str(retry_after)} if retry_after is not None else {})

    runner = FlowRunner(server)
    try:
        result = runner.run(send_flow(HttpRequest("GET", "https://api.example/x"), policy))
    except TransportError:
        result = None
    assert len(runner.sent) <= attempts
    if deadline is not None:
        # No retry starts after the deadline: the waits fit inside it.
        assert sum(runner.slept) <= deadline + 1e-9
    if result is not None and result.status == 200:
        assert len(runner.sent) == min(len(failures), attempts - 1) + 1 or len(runner.sent) == len(failures) + 1
    for i, slept in enumerate(runner.slept):
        cap = min(32, 2.0**i)
        assert slept >= jitter * cap - 1e-9  # at least the jittered backoff (Retry-After may add)


def test_default_policy_is_on_and_safe() -> None:
    assert DEFAULT_RETRY.max_attempts > 1
    assert DEFAULT_RETRY.deadline is not None
    assert not DEFAULT_RETRY.retry_non_idempotent
    assert DEFAULT_RETRY.statuses == frozenset({408, 429, 500, 502, 503, 504})


def test_full_jitter_draws_between_zero_and_the_cap() -> None:
    draws = iter([0.0, 0.5, 1.0])
    policy = RetryPolicy(initial_backoff=2, multiplier=3, max_backoff=10, random=lambda: next(draws))
    assert [policy.backoff(1), policy.backoff(2), policy.backoff(3)] == [0.0, 3.0, 10.0]


def test_per_call_policy_overrides_the_client() -> None:
    options = CallOptions(retry=RetryPolicy(random=lambda: 0.0))
    request = Request("GET", "https://api.example/x", retry=False)
    assert options.policy_for(request) is NO_RETRY
    runner = FlowRunner(lambda req: response(503))
    assert runner.run(call_flow(request, options)).status_code == 503
    assert len(runner.sent) == 1
    mine = RetryPolicy(max_attempts=2, random=lambda: 0.0)
    request = Request("GET", "https://api.example/x", retry=mine)
    runner = FlowRunner(lambda req: response(503))
    runner.run(call_flow(request, options))
    assert len(runner.sent) == 2
    with pytest.raises(ValueError):
        options.policy_for(Request("GET", "https://x", retry="often"))  # type: ignore[arg-type]


def test_retry_non_idempotent_is_an_explicit_opt_in() -> None:
    post = HttpRequest("POST", "https://api.example/x")
    runner = FlowRunner(lambda req: response(503))
    runner.run(send_flow(post, RetryPolicy(max_attempts=3, random=lambda: 0.0)))
    assert len(runner.sent) == 1
    runner = FlowRunner(lambda req: response(503))
    runner.run(send_flow(post, RetryPolicy(max_attempts=3, random=lambda: 0.0, retry_non_idempotent=True)))
    assert len(runner.sent) == 3


def test_retry_after_can_be_ignored() -> None:
    statuses = iter([response(429, headers={"retry-after": "50"}), response(200)])
    runner = FlowRunner(lambda req: next(statuses))
    runner.run(send_flow(HttpRequest("GET", "https://a/x"), RetryPolicy(random=lambda: 0.0, respect_retry_after=False)))
    assert runner.slept == [0.0]


# ------------------------------------------------------------------------------ pagination


def page(body: dict[str, Any]) -> HttpResponse:
    return response(200, json.dumps(body).encode(), {"content-type": "application/json"})


def first_response(request: Request, body: dict[str, Any]) -> Response:
    return Response(200, {}, request.url, json=body, req=request)


def test_pages_follow_query_tokens_and_refresh_credentials_per_page() -> None:
    replies = iter([page({"items": [2], "nextPageToken": "b"}), response(401), page({"items": [3]})])
    runner = FlowRunner(lambda req: next(replies))
    req = Request("GET", "https://api.example/v1/things?pageSize=1&q=a%20b")
    runner.run(pages_flow(first_response(req, {"items": [1], "nextPageToken": "a/1"}), CallOptions()))
    assert [p["items"] for p in runner.emitted] == [[1], [2], [3]]
    assert runner.sent[0].url == "https://api.example/v1/things?pageSize=1&q=a%20b&pageToken=a%2F1"
    # Each page asks for credentials; the 401 on page 3 refreshed them.
    assert [r.header("authorization") for r in runner.sent] == ["Bearer t1", "Bearer t1", "Bearer t2"]


def test_pages_with_tokens_in_the_json_body() -> None:
    replies = iter([page({"results": [2], "nextPageToken": "n2"}), page({"results": [3], "nextPageToken": ""})])
    runner = FlowRunner(lambda req: next(replies))
    req = Request("POST", "https://api.example/v1/things:search", json={"query": "x"})
    runner.run(pages_flow(first_response(req, {"results": [1], "nextPageToken": "n1"}), CallOptions(), json_req=True))
    assert [json.loads(r.body) for r in runner.sent] == [{"query": "x", "pageToken": "n1"}, {"query": "x", "pageToken": "n2"}]
    assert "pageToken" not in runner.sent[0].url
    assert req.json == {"query": "x"}  # the original request is untouched


def test_bigquery_page_token_field_and_custom_names() -> None:
    assert next_page_token({"rows": [], "pageToken": "p"}) == "p"
    assert next_page_token({"nextPageToken": "", "pageToken": "p"}) is None  # explicit field wins
    assert next_page_token({"cursor": "c"}, "cursor") == "c"
    replies = iter([page({"rows": [2]})])
    runner = FlowRunner(lambda req: next(replies))
    req = Request("GET", "https://bq.example/tabledata?maxResults=1")
    runner.run(pages_flow(first_response(req, {"rows": [1], "pageToken": "t"}), CallOptions(), req_token_name="pageToken", res_token_name="pageToken"))
    assert runner.sent[0].url.endswith("&pageToken=t")


def test_repeated_token_stops_including_the_first_requests_own_token() -> None:
    replies = iter([page({"items": [2], "nextPageToken": "a"})])
    runner = FlowRunner(lambda req: next(replies))
    req = Request("GET", "https://api.example/v1/things")
    runner.run(pages_flow(first_response(req, {"items": [1], "nextPageToken": "a"}), CallOptions()))
    assert len(runner.sent) == 1 and len(runner.emitted) == 2
    # A request that already carried the token the server sends back stops at once.
    runner = FlowRunner(lambda req: pytest.fail("must not fetch the same page again"))
    req = Request("GET", "https://api.example/v1/things?pageToken=z")
    runner.run(pages_flow(first_response(req, {"items": [1], "nextPageToken": "z"}), CallOptions()))
    assert len(runner.emitted) == 1


def test_an_error_page_raises() -> None:
    runner = FlowRunner(lambda req: response(404, b'{"error": {"code": 404, "message": "gone"}}', {"content-type": "application/json"}))
    req = Request("GET", "https://api.example/v1/things")
    with pytest.raises(HTTPError, match="gone"):
        runner.run(pages_flow(first_response(req, {"items": [1], "nextPageToken": "a"}), CallOptions(retry=NO_RETRY)))


def test_items_of() -> None:
    assert list(items_of({"items": [1, 2]})) == [1, 2]
    assert list(items_of({"files": [1], "kind": "x"})) == [1]
    assert list(items_of({"a": [1], "b": [2]})) == []
    assert list(items_of({"a": [1], "b": [2]}, "b")) == [2]
    assert list(items_of(None)) == []
