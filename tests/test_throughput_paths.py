"""The per-request fast paths behind ``as_*`` throughput (issue 3 part 6): each one must
give exactly what the plain path gives."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aiogoogle._http import Headers
from aiogoogle.models import _loads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def outcome(fn: Any, data: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", fn(data))
    except ValueError as exc:
        return ("error", type(exc), str(exc))


@given(
    json_values,
    st.sampled_from(["", " ", "\n", " \t\r\n", "x", " ]", "{}", "\x0b", "\u00a0"]),
    st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"]),
)
def test_loads_matches_json_loads(value: Any, tail: str, encoding: str) -> None:
    data = (json.dumps(value, ensure_ascii=False) + tail).encode(encoding, "surrogatepass")
    assert repr(outcome(_loads, data)) == repr(outcome(json.loads, data))


@given(st.binary(max_size=12))
def test_loads_matches_json_loads_on_any_bytes(prefix: bytes) -> None:
    for data in (prefix, b"{" + prefix, b"[" + prefix, b'{"a":' + prefix + b"}", b"[1]" + prefix):
        assert repr(outcome(_loads, data)) == repr(outcome(json.loads, data))


pairs = st.lists(st.tuples(st.sampled_from(["A", "a", "Content-Type", "content-type", "X-Y", "x-y", "Set-Cookie"]), st.text(max_size=4)), max_size=6)


@given(pairs)
def test_headers_merge_like_the_loop(items: list[tuple[str, str]]) -> None:
    merged: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    for given_as in (items, tuple(items), iter(items)):
        h = Headers(given_as)
        assert dict(h) == merged and h.raw == tuple(items)


def test_wire_types_keep_dataclass_behaviour() -> None:
    # HttpRequest/HttpResponse have a hand-written __init__ (faster): defaults, keywords,
    # equality, hashing, immutability and replace() must be the dataclass ones.
    import dataclasses

    import pytest

    from aiogoogle._http import HttpRequest, HttpResponse, Timeout

    req = HttpRequest("GET", "https://x/")
    assert req == HttpRequest(method="GET", url="https://x/", headers=(), body=b"", timeout=Timeout(), verify_ssl=True, raw=False)
    assert hash(req) == hash(HttpRequest("GET", "https://x/")) and req.timeout == Timeout() and req.raw is False
    assert HttpRequest("GET", "u", timeout=Timeout(1, 2)).timeout == Timeout(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.url = "y"  # type: ignore[misc]
    moved = dataclasses.replace(req, url="https://y/", raw=True)
    assert (moved.url, moved.raw, moved.method, moved.timeout) == ("https://y/", True, "GET", req.timeout)
    resp = HttpResponse(200, Headers([("A", "1")]), url="u", streamed=3)
    assert (resp.status, resp.body, resp.reason, resp.url, resp.streamed, resp.headers["a"]) == (200, b"", "", "u", 3, "1")
    assert [f.name for f in dataclasses.fields(HttpResponse)] == ["status", "headers", "body", "reason", "url", "streamed"]
    assert repr(HttpResponse(204, Headers())) == "HttpResponse(status=204, headers=Headers({}), body=b'', reason='', url='', streamed=None)"
