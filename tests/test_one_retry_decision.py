"""Retries are decided in one place and waited for in one place (issue 17 part 1).

Every flow that retries (single calls, batch parts, resumable uploads, downloads) asks
``RetryPolicy.should_retry`` and waits with ``retry.wait_flow``. These tests read the core's
source: a second place that looks at the policy's rules, or computes and sleeps its own
backoff, fails them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from aiogoogle._http import Headers, HttpResponse
from aiogoogle.excs import ConnectError, ReadTimeout, ResponseTooLarge
from aiogoogle.retry import RetryPolicy

CORE = Path(__file__).resolve().parent.parent / "core"
#: The policy's rules: what only the deciding function may read.
RULES = {"statuses", "rate_limit_reasons", "retry_non_idempotent", "_REJECTED_STATUSES"}


def _functions_using(names: set[str], *, attribute_only: bool = False) -> list[str]:
    found: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                name = node.attr if isinstance(node, ast.Attribute) else (node.id if isinstance(node, ast.Name) and not attribute_only else None)
                if name in names:
                    found.append(f"{path.relative_to(CORE)}:{func.name}")
                    break
    # A nested function is listed with its parent too: keep each place once.
    return sorted(set(found))


def test_exactly_one_place_decides_whether_to_retry() -> None:
    assert _functions_using(RULES) == ["retry.py:_decide"]


def test_exactly_one_place_computes_the_wait_between_attempts() -> None:
    assert _functions_using({"next_delay"}, attribute_only=True) == ["retry.py:wait_flow"]


def test_no_wrapper_classes_for_error_bodies() -> None:
    # google_error_info takes anything with .json/.data; flows read bodies with error_info.
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        assert not names & {"_BodyView", "_Body", "_R"}, path


def _reply(status: int, reason: str | None = None) -> HttpResponse:
    body = b'{"error": {"errors": [{"reason": "%s"}]}}' % reason.encode() if reason else b""
    return HttpResponse(status, Headers({"content-type": "application/json"}), body)


@given(status=st.sampled_from([400, 403, 404, 408, 429, 500, 502, 503, 504, 418]), idempotent=st.booleans(),
       reason=st.sampled_from([None, "rateLimitExceeded", "userRateLimitExceeded", "forbidden"]), lenient=st.booleans())
def test_should_retry_is_the_documented_rule(status: int, idempotent: bool, reason: str | None, lenient: bool) -> None:
    policy = RetryPolicy(retry_non_idempotent=lenient)
    if status == 403:
        expected = reason in ("rateLimitExceeded", "userRateLimitExceeded")
    elif status in (408, 429):
        expected = True
    elif status in (500, 502, 503, 504):
        expected = idempotent or lenient
    else:
        expected = False
    assert policy.should_retry(_reply(status, reason), idempotent) is expected


def test_should_retry_transport_failures() -> None:
    policy = RetryPolicy()
    assert policy.should_retry(ConnectError("refused"), False)
    assert not policy.should_retry(ReadTimeout("slow"), False) and policy.should_retry(ReadTimeout("slow"), True)
    assert not policy.should_retry(ResponseTooLarge("big", limit=10), True)
    assert not policy.should_retry(ValueError("ours"), True)
