"""The fast paths of request building agree exactly with the plain implementations.

Request building takes shortcuts for speed (see benchmarks/bench_build.py): percent-encoding
by translation table instead of urllib's per-byte loop, and compiled "certainly valid"
predicates in front of the problem-collecting validators. Each shortcut is checked here
against the reference it replaces, on generated inputs.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiogoogle import GoogleAPI
from aiogoogle import validate as validate_module
from aiogoogle._call import API_CLIENT, CallOptions, base_headers, encode_body, to_http
from aiogoogle._url import encode_query_value, quote_path_value
from aiogoogle.excs import ValidationError
from aiogoogle.models import MediaDownload, Request
from aiogoogle.testing.strategies import body_for
from aiogoogle.validate import _INT_RANGES, SchemaCompiler, _interpret, scalar_check

from ._docs import load, methods_with_a_body, resolve

_TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.text("ab /?#&=+%~._-\u00e9\u20ac", max_size=20)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_percent_encoding_matches_urllib(text: str) -> None:
    assert quote_path_value(text, reserved=False) == quote(text, safe="")
    assert quote_path_value(text, reserved=True) == quote(text, safe="/")
    assert encode_query_value(text) == quote_plus(text, safe="")


@given(st.integers() | st.booleans() | st.floats(allow_nan=False))
def test_query_scalars(value: object) -> None:
    expected = {True: "true", False: "false"}.get(value) if isinstance(value, bool) else (repr(value) if isinstance(value, float) else str(value))  # type: ignore[call-overload]
    assert encode_query_value(value) == quote_plus(expected, safe="")


def test_lone_surrogate_is_refused_like_urllib() -> None:
    with pytest.raises(UnicodeEncodeError):
        quote("\ud800", safe="")
    with pytest.raises(UnicodeEncodeError):
        quote_path_value("a\ud800", reserved=False)
    with pytest.raises(UnicodeEncodeError):
        encode_query_value("a \ud800")


# ------------------------------------------------------------------ validation predicates

FAST_METHODS = methods_with_a_body(1500, seed=11, limit=80)


class _Text(str):
    pass


class _NotJson:
    pass


# Values each schema node accepts or refuses in different ways: wrong scalar types, strings
# no format or enum accepts, NaN, big ints, tuples and a str subclass (which the predicates
# leave to the full checks), unknown fields, None.
_REPLACEMENTS: list[Any] = [
    _NotJson(), 1, -1, 1.5, math.nan, math.inf, True, False, "x", "", "10", "2024-02-30", "3.5s",
    None, [], {}, ("a",), [None], {"unknownField": 1}, {"": None}, 2**70, _Text("x"), b"x",
]


def _spots(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_spots(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_spots(v, (*path, i)))
    return out


def _replace(body: Any, where: tuple[Any, ...], new: Any, add_key: str | None) -> Any:
    if not where and add_key is None:
        return new
    mutated = copy.deepcopy(body)
    parent = mutated
    for key in where[:-1] if add_key is None else where:
        parent = parent[key]
    if add_key is not None:
        if isinstance(parent, dict):
            parent[add_key] = new
        return mutated
    parent[where[-1]] = new
    return mutated


@pytest.mark.parametrize(("doc_name", "path"), FAST_METHODS, ids=[f"{d}:{'.'.join(p)}" for d, p in FAST_METHODS])
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_predicates_agree_with_the_full_checks(doc_name: str, path: tuple[str, ...], data: st.DataObject) -> None:
    """A predicate (generated or interpreted) says "valid" only where the full check finds
    nothing, and the check used for requests (predicate first, in either tier) reports
    exactly the problems of the full check."""
    method = resolve(GoogleAPI(load(doc_name)), path)
    body = data.draw(body_for(method), label="body")
    plan = method._compiled()
    doc = load(doc_name)
    compiler = SchemaCompiler(doc.get("schemas"))
    full = compiler.compile(plan.request_schema)
    ok = compiler.compile_fast(plan.request_schema)
    schemas = doc.get("schemas") or {}
    interpreted = SchemaCompiler(schemas).checker(plan.request_schema)  # first uses: interpreted
    generated = SchemaCompiler(schemas).checker(plan.request_schema)
    for _ in range(validate_module.GENERATE_AFTER):
        generated(body, "json", [], plan.method_id)  # now past the threshold: generated

    def problems(check: Any, value: Any) -> list[Any]:
        found: list[Any] = []
        check(value, "json", found, plan.method_id)
        return found

    # Valid generated bodies take the fast path (that is the point of it).
    assert problems(full, body) == []
    assert ok(body, plan.method_id)
    assert _interpret(plan.request_schema, body, plan.method_id, schemas)
    for _ in range(4):
        where = data.draw(st.sampled_from(_spots(body)), label="spot")
        new = data.draw(st.sampled_from(_REPLACEMENTS), label="new")
        add_key = data.draw(st.none() | st.sampled_from(["unknownField", "etag", "name", "kind", "id"]), label="add")
        mutated = _replace(body, where, new, add_key)
        expected = problems(full, mutated)
        if ok(mutated, plan.method_id):
            assert expected == []
        if _interpret(plan.request_schema, mutated, plan.method_id, schemas):
            assert expected == []
        assert problems(interpreted, mutated) == expected
        assert problems(generated, mutated) == expected


# ------------------------------------------------------------------ wire encoding


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON.filter(lambda v: v is not None))
def test_json_bodies_encode_exactly_as_the_checking_encoder(value: Any) -> None:
    from aiogoogle import _send as _call  # where the encoder lives

    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    body, ctype = encode_body(Request(method="POST", url="https://x/", json=value))
    assert body == expected
    assert ctype == "application/json"
    # Also without the prebuilt C encoder (an interpreter without one).
    kept, _call._json_chunks = _call._json_chunks, None
    try:
        assert encode_body(Request(method="POST", url="https://x/", json=value))[0] == expected
    finally:
        _call._json_chunks = kept


def test_cyclic_and_non_finite_bodies_are_refused_with_the_usual_messages() -> None:
    cyclic: dict[str, Any] = {"a": [1]}
    cyclic["a"].append(cyclic)
    with pytest.raises(ValidationError, match="Circular reference detected"):
        encode_body(Request(method="POST", url="https://x/", json=cyclic))
    with pytest.raises(ValidationError, match="Out of range float values are not JSON compliant"):
        encode_body(Request(method="POST", url="https://x/", json={"x": math.nan}))


def test_base_headers_follow_each_options_object() -> None:
    request = Request(method="GET", url="https://x/", headers={"X-Goog-Api-Version": "v1", "User-Agent": "mine"})
    first = CallOptions(extra_headers=(("X-Extra", "1"),))
    second = CallOptions(user_agent="other")
    for _ in range(2):
        assert base_headers(request, first) == {"user-agent": "mine", "x-goog-api-client": base_headers(request, second)["x-goog-api-client"], "accept-encoding": "gzip, deflate", "x-extra": "1", "x-goog-api-version": "v1"}
        assert base_headers(Request(method="GET", url="https://x/"), second)["user-agent"] == "other"
    # The cached table is never handed out: changing a result changes nothing later.
    base_headers(request, first)["x-extra"] = "changed"
    assert base_headers(request, first)["x-extra"] == "1"
    http = to_http(Request(method="post", url="https://x/", json={"a": 1}), second)
    assert http.method == "POST" and http.body == b'{"a":1}'
    assert dict(http.headers)["content-type"] == "application/json" and dict(http.headers)["accept"] == "application/json"


def test_every_property_of_a_large_schema_refuses_a_wrong_type() -> None:
    """compute.v1 Instance (dozens of properties, several levels inlined): each property
    given a value of a type it cannot take makes the generated predicate answer False, and
    the request check reports it at its path."""
    doc = load("compute.v1")
    compiler = SchemaCompiler(doc["schemas"])
    ok = compiler.compile_fast({"$ref": "Instance"})
    props = doc["schemas"]["Instance"]["properties"]
    assert ok({}, "compute.instances.get")
    for name, sub in props.items():
        wrong: Any = 5 if sub.get("type") in ("string", "boolean", "array", "object", None) else "not a number"
        if sub.get("format") in ("int64", "uint64"):
            wrong = "12x"
        assert not ok({name: wrong}, "compute.instances.get"), name
        found: list[Any] = []
        compiler.checker({"$ref": "Instance"})({name: wrong}, "json", found, "compute.instances.get")
        assert [p[0] for p in found] == [f"json.{name}"], name


@given(
    st.integers(min_value=-(2**65), max_value=2**65) | st.booleans() | st.floats(allow_nan=False) | st.text("-0123456789", max_size=21),
    st.sampled_from([None, "int32", "uint32", "int64", "uint64"]),
    st.none() | st.integers(-5, 5).map(str),
    st.none() | st.integers(-5, 2**40).map(str),
)
def test_integer_checks_accept_exactly_the_values_in_range(value: Any, fmt: str | None, minimum: str | None, maximum: str | None) -> None:
    check = scalar_check("integer", fmt, minimum=minimum, maximum=maximum)
    assert check is not None
    n: Any = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value  # only ints: "12" and 12.0 are refused, as aiogoogle 5.x refused them
    lo, hi = _INT_RANGES.get(fmt or "", (None, None))
    expected = (
        n is not None
        and (lo is None or lo <= n <= hi)  # type: ignore[operator]
        and (minimum is None or n >= int(minimum))
        and (maximum is None or n <= int(maximum))
    )
    assert (check(value) is None) == expected


_HEADER_NAMES = st.sampled_from(["Accept", "content-type", "User-Agent", "X-Extra", "x-goog-api-version"])


@given(
    extra=st.lists(st.tuples(_HEADER_NAMES, st.text("ab", min_size=1, max_size=2)), max_size=3).map(tuple),
    own=st.dictionaries(_HEADER_NAMES, st.text("cd", min_size=1, max_size=2), max_size=3),
    body=st.sampled_from(["none", "json", "bytes", "text"]),
    download=st.booleans(),
    rounds=st.integers(1, 3),
)
def test_wire_headers_match_the_plain_rule(extra: Any, own: dict[str, str], body: str, download: bool, rounds: int) -> None:
    """Cached or not, to_http's headers are: the base headers, the options' extra headers,
    the request's own (lower-cased, later wins), then content type and accept if absent."""
    options = CallOptions(extra_headers=extra)
    kwargs: dict[str, Any] = {"json": {"a": 1}} if body == "json" else {"data": b"x"} if body == "bytes" else {"data": "x"} if body == "text" else {}
    expected: dict[str, str] = {"user-agent": options.user_agent, "x-goog-api-client": API_CLIENT, "accept-encoding": "gzip, deflate"}
    for name, value in (*extra, *own.items()):
        expected[name.lower()] = value
    ctype = {"json": "application/json", "bytes": "application/octet-stream", "text": "text/plain; charset=utf-8"}.get(body)
    if ctype is not None:
        expected.setdefault("content-type", ctype)
    expected.setdefault("accept", "*/*" if download else "application/json")
    for _ in range(rounds):
        request = Request(method="GET", url="https://x/", headers=dict(own), media_download=MediaDownload("f") if download else None, **kwargs)
        assert to_http(request, options).headers == tuple(expected.items())


@settings(max_examples=50)
@given(st.lists(st.text("ab-1", max_size=4), min_size=1, max_size=40))
def test_remembered_parameter_values_give_the_same_answers(values: list[str]) -> None:
    """Lenient string checks remember recent valid values; the answers never change."""
    check = scalar_check("string", pattern="[a-z]+(-[0-9])?", enum=None, lenient=True)
    assert check is not None
    for value in values * 2:
        ok = re.fullmatch("[a-z]+(-[0-9])?", value) is not None
        assert (check(value) is None) == ok
        assert (check(_Text(value)) is None) == ok


def test_remembered_attributes_are_the_same_objects() -> None:
    doc = {
        "name": "t",
        "rootUrl": "https://t.example/",
        "servicePath": "",
        "resources": {
            "things": {
                "methods": {"list": {"id": "t.things.list", "httpMethod": "GET", "path": "things"}, "parts": {"id": "t.things.parts", "httpMethod": "GET", "path": "p"}},
                "resources": {"parts": {"methods": {"get": {"id": "t.things.parts.get", "httpMethod": "GET", "path": "x"}}}},
            }
        },
    }
    api = GoogleAPI(doc)
    first = api.things.list
    assert api.things.list is first and api.things is api.get_resource("things")
    assert api.things.parts is api.things.get_resource("parts")  # resources first, as documented
    assert api.things.get_method("parts").id == "t.things.parts"
    assert api.things.parts.get().url == "https://t.example/x"
    with pytest.raises(AttributeError, match="did you mean"):
        api.things.lst  # noqa: B018
    assert "list" in dir(api.things) and "__dict__" not in dir(api.things)
