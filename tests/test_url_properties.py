"""Properties of path templates and query strings, no event loop.

Path values must never change which resource a URL names: RFC 3986 §5.2.4 lets any
client, proxy or server remove ``.``/``..`` segments (and §2.3 makes ``%2E`` equal to
``.``), and an empty segment names another resource too (``b/bk/o/`` lists objects). Such
values are refused with a ValidationError naming the parameter, whatever ``validate`` says.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle import GoogleAPI
from aiogoogle._url import PathTemplate, _has_bad_segment, encode_query, path_value_problem
from aiogoogle.excs import ValidationError
from aiogoogle.resource import CALL_OPTIONS

from ._docs import load

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SIMPLE = PathTemplate("v1/b/{bucket}/o/{object}")
RESERVED = PathTemplate("v1/{+name}:get")
DOTS = {"", ".", ".."}


def bad_segments(text: str) -> list[str]:
    """The empty, ``.`` or ``..`` segments of a "/"-separated wire text, as a server sees
    them (``%2E`` decoded, RFC 3986 §2.3)."""
    return [s for s in text.split("/") if re.sub("%2[eE]", ".", s) in DOTS]


# ------------------------------------------------------------------------ one template


@given(TEXT, TEXT)
def test_simple_values_stay_one_segment_or_are_refused(bucket: str, obj: str) -> None:
    try:
        path = SIMPLE.expand({"bucket": bucket, "object": obj})
    except ValidationError as exc:
        # The first value that is empty, "." or ".." is named (bucket comes first).
        assert exc.problems[0].path == ("bucket" if bucket in DOTS else "object")
        assert obj in DOTS or bucket in DOTS
        return
    assert bucket not in DOTS and obj not in DOTS
    segments = path.split("/")
    assert len(segments) == 5
    assert "?" not in path and "#" not in path
    assert unquote(segments[2]) == bucket and unquote(segments[4]) == obj
    assert all(c.isascii() and not c.isspace() for c in path)
    assert not bad_segments(path)


@given(st.one_of(TEXT, st.lists(st.sampled_from(["", ".", "..", "a", "a.b", "...", ".x", "é", "%2E"]), max_size=4).map("/".join)))
def test_reserved_values_never_add_a_query_fragment_or_dot_segment(name: str) -> None:
    try:
        path = RESERVED.expand({"name": name})
    except ValidationError as exc:
        assert [p.path for p in exc.problems] == ["name"]
        assert any(s in DOTS for s in name.split("/"))
        return
    assert not any(s in DOTS for s in name.split("/"))
    assert path.startswith("v1/") and path.endswith(":get")
    inner = path[3:-4]
    assert "?" not in inner and "#" not in inner
    assert inner.count("/") == name.count("/")
    assert unquote(inner) == name
    assert all(c.isascii() and not c.isspace() for c in inner)
    assert not bad_segments(path)


@settings(max_examples=300)
@given(st.text("a./~-", max_size=12) | st.lists(st.sampled_from(["", ".", "..", "a", ".a", "a.", "..."]), max_size=5).map("/".join))
def test_the_fast_segment_check_agrees_with_the_full_one(text: str) -> None:
    """The string-test shortcut for already-unreserved {+x} values finds exactly the empty,
    "." and ".." segments that the general check (and a plain split) finds."""
    expected = bool(bad_segments(text))
    assert _has_bad_segment(text) is expected
    assert (path_value_problem(text) is not None) is expected


@pytest.mark.parametrize("value", ["a.b", "...", ".x", "x.", "..a", "a..", "é.", 0, -1, 1.5, True])
def test_ordinary_values_with_dots_pass(value: object) -> None:
    text = "true" if value is True else str(value)
    assert SIMPLE.expand({"bucket": "bk", "object": value}) == "v1/b/bk/o/" + quote(text, safe="")
    assert RESERVED.expand({"name": f"p/{text}/{text}"}) == "v1/p/" + quote(text, safe="") + "/" + quote(text, safe="") + ":get"


@pytest.mark.parametrize(
    ("template", "values", "safe", "named", "reason"),
    [
        (SIMPLE, {"bucket": "bk", "object": ""}, None, "object", "must not be empty"),
        (SIMPLE, {"bucket": "", "object": "x"}, None, "bucket", "must not be empty"),
        (SIMPLE, {"bucket": "bk", "object": "."}, None, "object", "cannot be '.'"),
        (SIMPLE, {"bucket": "bk", "object": ".."}, None, "object", "cannot be '..'"),
        (SIMPLE, {"bucket": ".."}, None, "bucket", "cannot be '..'"),  # checked before the missing one
        (SIMPLE, {"bucket": "bk"}, None, "object", "path parameter is missing"),
        # What reaches the wire: a safe set that keeps "%" lets %2E through, and %2E is ".".
        (SIMPLE, {"bucket": "bk", "object": "%2E%2E"}, {"object": "%"}, "object", "cannot be '..'"),
        (SIMPLE, {"bucket": "bk", "object": "%2e"}, {"object": "%"}, "object", "cannot be '.'"),
        (SIMPLE, {"bucket": "bk", "object": "%zz"}, {"object": "%"}, "object", "%XX escape"),
        # A safe "/" lets a {var} value span segments: each one is checked.
        (SIMPLE, {"bucket": "bk", "object": "a/../b"}, {"object": "/"}, "object", "has a '..' segment"),
        (SIMPLE, {"bucket": "bk", "object": "a//b"}, {"object": "/"}, "object", "empty segment"),
        (SIMPLE, {"bucket": "bk", "object": "a/"}, {"object": "/"}, "object", "empty segment"),
        # Characters that end the path (or cannot stand in it) when a safe set keeps them.
        (SIMPLE, {"bucket": "bk", "object": "a?b"}, {"object": "?"}, "object", "'?' unencoded"),
        (SIMPLE, {"bucket": "bk", "object": "a#b"}, {"object": "#"}, "object", "'#' unencoded"),
        (SIMPLE, {"bucket": "bk", "object": "a b"}, {"object": " "}, "object", "' ' unencoded"),
        (SIMPLE, {"bucket": "bk", "object": "x"}, {"object": ["/"]}, "path_params_safe_chars['object']", "must be a string"),
        (SIMPLE, {"bucket": "bk", "object": "a\ud800"}, None, "object", "lone surrogate"),
        (RESERVED, {"name": ""}, None, "name", "must not be empty"),
        (RESERVED, {"name": "/projects/p"}, None, "name", "empty segment"),
        (RESERVED, {"name": "projects/p/"}, None, "name", "empty segment"),
        (RESERVED, {"name": "projects//p"}, None, "name", "empty segment"),
        (RESERVED, {"name": "../x"}, None, "name", "has a '..' segment"),
        (RESERVED, {"name": "a/../b"}, None, "name", "has a '..' segment"),
        (RESERVED, {"name": "a/./b"}, None, "name", "has a '.' segment"),
        (RESERVED, {"name": "a/.."}, None, "name", "has a '..' segment"),
        (RESERVED, {"name": "é/.."}, None, "name", "has a '..' segment"),  # the encoding path too
        (RESERVED, {"name": ".."}, None, "name", "cannot be '..'"),
        (RESERVED, {"name": "a/%2E%2E"}, {"name": "/%"}, "name", "has a '..' segment"),
    ],
)
def test_values_that_change_the_target_are_refused_naming_the_parameter(
    template: PathTemplate, values: dict[str, Any], safe: dict[str, Any] | None, named: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as info:
        template.expand(values, safe)
    assert [p.path for p in info.value.problems] == [named]
    assert reason in str(info.value)
    assert named in str(info.value)


def test_a_custom_safe_set_still_builds_ordinary_urls() -> None:
    assert SIMPLE.expand({"bucket": "bk", "object": "a/b.c"}, {"object": "/"}) == "v1/b/bk/o/a/b.c"
    assert SIMPLE.expand({"bucket": "bk", "object": "a%2Fb"}, {"object": "%"}) == "v1/b/bk/o/a%2Fb"
    assert SIMPLE.expand({"bucket": "bk", "object": "%2E%2Ex"}, {"object": "%"}) == "v1/b/bk/o/%2E%2Ex"
    assert SIMPLE.expand({"bucket": "b:c", "object": "u@x"}, {"bucket": ":", "object": "@"}) == "v1/b/b:c/o/u@x"
    # Without "%" in the safe set a "%2E%2E" value is sent as "%252E%252E": not a dot segment.
    assert SIMPLE.expand({"bucket": "bk", "object": "%2E%2E"}) == "v1/b/bk/o/%252E%252E"


# ------------------------------------------------------------------------ through a real method


@pytest.mark.parametrize("validate", [True, False])
def test_storage_object_dot_dot_never_addresses_the_bucket(validate: bool) -> None:
    storage = GoogleAPI(load("storage.v1"))
    for call, kwargs, named in [
        (storage.objects.delete, {"bucket": "bk", "object": ".."}, "object"),
        (storage.objects.delete, {"bucket": "bk", "object": "."}, "object"),
        (storage.objects.get, {"bucket": "bk", "object": ""}, "object"),
        (storage.buckets.delete, {"bucket": ".."}, "bucket"),
        (storage.objects.get, {"bucket": "bk", "object": "%2E%2E", "path_params_safe_chars": {"object": "%"}}, "object"),
    ]:
        with pytest.raises(ValidationError) as info:
            call(validate=validate, **kwargs)
        assert named in [p.path for p in info.value.problems], (kwargs, info.value)
    assert storage.objects.get(bucket="bk", object="..x", validate=validate).url.split("?")[0].endswith("/b/bk/o/..x")


@given(TEXT.filter(lambda t: t not in DOTS))
def test_object_names_stay_one_segment_through_a_real_method(name: str) -> None:
    storage = GoogleAPI(load("storage.v1"))
    url = storage.objects.get(bucket="b", object=name).url
    path = urlsplit(url).path
    assert path.count("/") == 6  # /storage/v1/b/b/o/<one segment>
    assert unquote(path.rsplit("/", 1)[1]) == name


@given(st.lists(st.tuples(st.sampled_from(["q", "pageToken", "$.xgafv", "a b", "é"]), st.one_of(TEXT, st.integers(), st.booleans(), st.lists(TEXT, max_size=3))), max_size=6))
def test_query_strings_round_trip(pairs: list[tuple[str, object]]) -> None:
    encoded = encode_query(pairs)
    expected = []
    for name, value in pairs:
        for v in value if isinstance(value, list) else [value]:
            expected.append((name, "true" if v is True else "false" if v is False else str(v)))
    assert parse_qsl(encoded, keep_blank_values=True) == expected


# ------------------------------------------------------------------------ every real document


class PathMethod:
    """One discovery method with path parameters: its document, resource path and template."""

    def __init__(self, doc: str, where: tuple[str, ...], spec: dict[str, Any]) -> None:
        self.doc, self.where, self.template = doc, where, PathTemplate(spec["path"])
        self.reserved = dict(self.template.variables)


def _walk(node: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    for name, spec in (node.get("methods") or {}).items():
        yield (*prefix, name), spec
    for name, res in (node.get("resources") or {}).items():
        yield from _walk(res, (*prefix, name))


def _read(discovery_dir: str, name: str) -> dict[str, Any]:
    with open(os.path.join(discovery_dir, name + ".json"), encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1)
def _path_methods(discovery_dir: str) -> tuple[PathMethod, ...]:
    out = []
    for fn in sorted(os.listdir(discovery_dir)):
        if fn.endswith(".json") and fn != "index.json":
            doc = _read(discovery_dir, fn[:-5])
            out.extend(PathMethod(fn[:-5], where, spec) for where, spec in _walk(doc) if "{" in spec.get("path", ""))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _api(discovery_dir: str, name: str) -> GoogleAPI:
    return GoogleAPI(_read(discovery_dir, name), validate=False)


def _method(api: GoogleAPI, where: tuple[str, ...]) -> Any:
    node: Any = api
    for name in where[:-1]:
        node = node.get_resource(name)
    return node.get_method(where[-1])


def _keyword(method: Any, names: list[str]) -> Callable[[str], str]:
    """The keyword that passes a discovery parameter (an alias when the name is a call option)."""
    if not CALL_OPTIONS.intersection(names):
        return str
    aliases = {wire: alias for alias, wire in method.python_names().items()}
    return lambda name: aliases.get(name, name) if name in CALL_OPTIONS else name


def check_built_path(pm: PathMethod, method: Any, values: dict[str, Any], safe: dict[str, str], url: str) -> None:
    """The URL path is the template with each value encoded (as urllib does), has no
    empty, ``.`` or ``..`` segment, and each ``{x}`` value (without a safe ``/``) is one segment."""
    base = method._ctx.base_url
    assert url.startswith(base), (url, base)
    expected = [pm.template.literals[0]]
    for i, (name, reserved) in enumerate(pm.template.variables):
        text = "true" if values[name] is True else "false" if values[name] is False else str(values[name])
        expected.append(quote(text, safe=safe.get(name, "/" if reserved else "")))
        expected.append(pm.template.literals[i + 1])
    path = "".join(expected)
    assert url[len(base) :].split("?", 1)[0] == path, (url, path)
    full = urlsplit(url).path
    assert not bad_segments(full[1:]), (pm.doc, pm.where, url)
    # Each {x} value occupies one segment: its encoded text adds no "/".
    slashes = sum(lit.count("/") for lit in pm.template.literals)
    for name, reserved in pm.template.variables:
        if reserved or "/" in safe.get(name, ""):
            slashes += expected[1 + 2 * [n for n, _ in pm.template.variables].index(name)].count("/")
    assert path.count("/") == slashes


BENIGN = ["a.b", "...", ".x", "é.", "x y"]
# (value, safe set for it): the fixed hostile values of the deterministic sweep.
HOSTILE_SIMPLE: list[tuple[Any, str | None]] = [("", None), (".", None), ("..", None), ("%2E%2E", "%"), ("a/../b", "/")]
HOSTILE_RESERVED: list[tuple[Any, str | None]] = [("", None), ("..", None), ("/a", None), ("a/", None), ("a//b", None), ("../x", None), ("a/./b", None), ("a/%2e%2E", "%/")]


def test_every_real_method_refuses_hostile_path_values_and_builds_clean_urls(discovery_dir: str) -> None:
    """Every method with path parameters of every shipped document: ordinary values build
    the exact URL with clean segments; each hostile value, in each path parameter in turn,
    is refused naming that parameter (validation off, so no schema pattern does it)."""
    methods = _path_methods(discovery_dir)
    assert len({pm.doc for pm in methods}) > 550 and len(methods) > 25000  # 568 documents, 27,094 methods
    for n, pm in enumerate(methods):
        method = _method(_api(discovery_dir, pm.doc), pm.where)
        names = [name for name, _ in pm.template.variables]
        key = _keyword(method, names)
        values = {name: BENIGN[(n + i) % len(BENIGN)] for i, name in enumerate(names)}
        if any(pm.reserved.values()):
            values.update({name: f"p/{values[name]}/q" for name in names if pm.reserved[name]})
        request = method(**{key(k): v for k, v in values.items()})
        check_built_path(pm, method, values, {}, request.url)
        for i, name in enumerate(names):
            hostile = HOSTILE_RESERVED if pm.reserved[name] else HOSTILE_SIMPLE
            # One hostile value per parameter, rotating so that every value meets every
            # kind of template (first, middle, last; before "/", ":" or the end) many times.
            value, safe = hostile[(n + i) % len(hostile)]
            kwargs = {key(k): v for k, v in {**values, name: value}.items()}
            if safe is not None:
                kwargs["path_params_safe_chars"] = {name: safe}
            try:
                method(**kwargs)
            except ValidationError as exc:
                assert [p.path for p in exc.problems] == [name], (pm.doc, pm.where, name, value, exc)
            else:
                raise AssertionError(f"{pm.doc} {'.'.join(pm.where)}: {name}={value!r} was not refused")


_SEGMENT = st.one_of(st.sampled_from(["", ".", "..", "a", "a.b", "...", ".x", "%2E", "%2e%2E", "é", "?", "#", "%", " "]), st.text(st.characters(blacklist_categories=("Cs",)), max_size=4))
_VALUE = st.one_of(st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join), st.integers(-5, 10**6), st.booleans())


def _expected_problem(value: Any, reserved: bool, safe: str | None) -> bool:
    """Independently of aiogoogle: would the wire text (urllib's quote) change the target?"""
    text = "true" if value is True else "false" if value is False else str(value)
    wire = quote(text, safe=safe if safe is not None else ("/" if reserved else ""))
    if not re.fullmatch(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*", wire):
        return True
    return bool(bad_segments(wire))


@settings(max_examples=60)
@given(data=st.data())
def test_any_values_on_any_real_method_are_refused_or_build_a_clean_url(discovery_dir: str, data: st.DataObject) -> None:
    """Hypothesis picks a method of any shipped document and values (and sometimes a safe
    set) for its path parameters: the call is refused naming a path parameter exactly when
    a value's wire text would change the target, and otherwise builds a clean URL."""
    pm = data.draw(st.sampled_from(_path_methods(discovery_dir)), label="method")
    method = _method(_api(discovery_dir, pm.doc), pm.where)
    names = [name for name, _ in pm.template.variables]
    key = _keyword(method, names)
    values = {name: data.draw(_VALUE, label=name) for name in names}
    safe = data.draw(st.dictionaries(st.sampled_from(names), st.sampled_from(["", "/", "%", "/%", ":@"]), max_size=len(names)), label="safe")
    kwargs: dict[str, Any] = {key(k): v for k, v in values.items()}
    if safe:
        kwargs["path_params_safe_chars"] = safe
    refused = [name for name in names if _expected_problem(values[name], pm.reserved[name], safe.get(name))]
    try:
        request = method(**kwargs)
    except ValidationError as exc:
        assert refused and [p.path for p in exc.problems] == refused[:1], (refused, exc)
        return
    assert not refused
    check_built_path(pm, method, values, safe, request.url)
