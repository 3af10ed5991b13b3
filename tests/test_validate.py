"""Validation against discovery schemas: formats, ranges, patterns, enums, $ref, paths."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiogoogle import GoogleAPI
from aiogoogle.excs import ValidationError
from aiogoogle.testing.strategies import body_for
from aiogoogle.validate import MAX_DEPTH, scalar_check, validate

from ._docs import load, methods_with_a_body, resolve


def ok(check: Any, value: Any) -> bool:
    return check(value) is None


@pytest.mark.parametrize(
    ("type_", "fmt", "good", "bad"),
    [
        # An integer is an int ("42" and 7.0 are refused, as aiogoogle 5.x refused them).
        ("integer", "int32", [0, -(2**31), 2**31 - 1], [2**31, -(2**31) - 1, "4x", True, 1.5, None, "42", 7.0]),
        ("integer", "uint32", [0, 2**32 - 1], [-1, 2**32]),
        ("string", "int64", [-(2**63), 2**63 - 1, "123", "-5"], [2**63, -(2**63) - 1, "1.5", "abc", True, 1.0]),
        ("string", "uint64", [0, 2**64 - 1, "18446744073709551615"], [-1, 2**64, "-1"]),
        ("number", "double", [1, 1.5, -0.0, "NaN", "Infinity", "-Infinity", "1e5"], [True, "x", None, [1]]),
        ("number", "float", [3, 2.5], ["1.2.3"]),
        ("boolean", None, [True, False], ["yes", 0, None]),
        ("string", "byte", ["", "YWJj", "YWJjZA==", "YWJjZA", "-_8=", "+/8="], ["a", "not base64!", b"abc", 5]),
        ("string", "date", ["2024-02-29", "0001-01-01"], ["2023-02-29", "2024-13-01", "2024-1-1", "20240101"]),
        ("string", "date-time", ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123456789+05:30", "2016-12-31T23:59:60Z"], ["2024-05-01T12:00:00", "2024-05-01", "2024-05-01T25:00:00Z", "yesterday"]),
        ("string", "google-datetime", ["2014-10-02T15:01:23.045123456Z"], ["2014-10-02 15:01"]),
        ("string", "google-duration", ["3.5s", "0s", "-1.000000001s", "60s"], ["3.5", "1m", "1.0000000001s", "315576000001s", 3]),
        ("string", "google-fieldmask", ["name", "name,labels", "a.b.c, d", "*", "metadata.`my-key`", ""], ["a,,b", "a b", "1abc"]),
        ("string", None, ["anything", ""], [5, None, b"x"]),
    ],
)
def test_formats(type_: str, fmt: str | None, good: list[Any], bad: list[Any]) -> None:
    check = scalar_check(type_, fmt, in_body=True)
    assert check is not None
    for value in good:
        assert ok(check, value), (value, check(value))
    for value in bad:
        assert not ok(check, value), value


def test_pattern_must_match_the_whole_value() -> None:
    check = scalar_check("string", pattern="[a-z]([-a-z0-9]*[a-z0-9])?")
    assert check is not None
    assert ok(check, "good-name")
    assert not ok(check, "bad name!")  # re.match would accept the prefix "bad"
    anchored = scalar_check("string", pattern="^projects/[^/]+/topics/[^/]+$")
    assert anchored is not None
    assert ok(anchored, "projects/p/topics/t")
    assert not ok(anchored, "projects/p/topics/t/extra")


def test_enum_minimum_maximum() -> None:
    check = scalar_check("string", enum=("A", "B"))
    assert check is not None and ok(check, "A") and not ok(check, "C")
    ranged = scalar_check("integer", "int32", minimum="1", maximum="1000", lenient=True)
    assert ranged is not None and ok(ranged, 1) and ok(ranged, "1000") and not ok(ranged, 0) and not ok(ranged, 1001)


def test_lenient_query_values() -> None:
    text = scalar_check("string", lenient=True)
    boolean = scalar_check("boolean", lenient=True)
    assert text is not None and not ok(text, 5) and not ok(text, True)  # calendarId=1: refused, as in 5.x
    assert boolean is not None and ok(boolean, "true") and not ok(boolean, "yes")


def test_repeated_enum_elements_are_each_checked() -> None:
    adsense = GoogleAPI(load("adsense.v2"))
    generate = adsense.accounts.reports.generate
    req = generate(account="accounts/a", dimensions=["DATE", "WEEK"], metrics="PAGE_VIEWS")
    assert "dimensions=DATE&dimensions=WEEK" in req.url
    with pytest.raises(ValidationError) as err:
        generate(account="accounts/a", dimensions=["DATE", "FORTNIGHT"], metrics=["PAGE_VIEWS", "CLICKS", "LIKES"], dateRange=5)
    assert [p.path for p in err.value.problems] == ["dimensions[1]", "metrics[2]", "dateRange"]
    with pytest.raises(ValidationError, match="takes a single value, not a list"):
        GoogleAPI(load("drive.v3")).files.list(pageSize=[1, 2])


def test_recursive_schemas_are_validated_lazily_and_deeply() -> None:
    schemas = {
        "Node": {"id": "Node", "type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "Node"}}}},
    }

    def tree(levels: int) -> dict[str, Any]:
        node: dict[str, Any] = {"name": "leaf"}
        for i in range(levels):
            node = {"name": f"n{i}", "children": [node]}
        return node

    # Each level is an object and its children array: 49 levels and the leaf nest 99
    # containers, inside the bound; 50 levels put the leaf at depth 101.
    deep = tree((MAX_DEPTH - 1) // 2)
    validate(deep, {"$ref": "Node"}, schemas)
    broken = copy.deepcopy(deep)
    node = broken
    for _ in range(40):
        node = node["children"][0]
    node["name"] = 5
    with pytest.raises(ValidationError) as err:
        validate(broken, {"$ref": "Node"}, schemas, "body")
    assert err.value.problems[0].path == "body" + ".children[0]" * 40 + ".name"
    levels = (MAX_DEPTH + 1) // 2
    with pytest.raises(ValidationError) as err:
        validate(tree(levels), {"$ref": "Node"}, schemas, "body")
    assert [p.path for p in err.value.problems] == ["body" + ".children[0]" * levels]
    assert f"nested more than {MAX_DEPTH} objects and arrays deep" in str(err.value)


def test_maps_arrays_any_and_unknown_fields() -> None:
    schemas = {
        "S": {
            "id": "S",
            "type": "object",
            "properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                "extra": {"type": "any"},
                "count": {"type": "string", "format": "int64"},
            },
        }
    }
    validate({"labels": {"k-1": "v"}, "tags": ["a"], "extra": {"x": [1, None, "y"]}, "count": 5}, {"$ref": "S"}, schemas)
    import datetime

    with pytest.raises(ValidationError) as err:
        validate(
            {"labels": {"k-1": 5}, "tags": ["c", "a", 3], "extra": {"when": datetime.date(2024, 1, 1), "n": float("nan")}, "nope": 1},
            {"$ref": "S"},
            schemas,
            "json",
        )
    assert [p.path for p in err.value.problems] == [
        "json.labels['k-1']",
        "json.tags[0]",
        "json.tags[2]",
        "json.extra.when",
        "json.extra.n",
        "json.nope",
    ]
    assert "isoformat" in str(err.value)


def test_secret_values_are_not_shown_in_messages() -> None:
    drive = GoogleAPI(load("drive.v3"))
    with pytest.raises(ValidationError) as err:
        drive.files.list(key=12345678901234.5, pageSize="x", access_token=object())
    text = str(err.value)
    assert "12345678901234" not in text
    assert "pageSize" in text


# ------------------------------------------------------------------ properties over real schemas

BODY_METHODS = methods_with_a_body(900, seed=7, limit=60)


def _mutations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_mutations(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_mutations(v, (*path, i)))
    return out


def _render(path: tuple[Any, ...]) -> str:
    out = "json"
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if key.isidentifier() else f"[{key!r}]")
    return out


class _NotJson:
    pass


@pytest.mark.parametrize(("doc_name", "path"), BODY_METHODS, ids=[f"{d}:{'.'.join(p)}" for d, p in BODY_METHODS])
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_valid_bodies_pass_and_one_mutation_fails_at_its_path(doc_name: str, path: tuple[str, ...], data: st.DataObject) -> None:
    method = resolve(GoogleAPI(load(doc_name)), path)
    body = data.draw(body_for(method), label="body")
    plan = method._compiled()
    problems: list[Any] = []
    check = method._ctx.compiler.compile(plan.request_schema)
    check(body, "json", problems, plan.method_id)
    assert problems == []
    # One mutation: a value no JSON schema node accepts (not JSON at all), or an unknown
    # field in an object that declares its properties.
    spots = _mutations(body)
    where, _ = data.draw(st.sampled_from(spots), label="spot")
    mutated = copy.deepcopy(body)
    if where:
        parent = mutated
        for key in where[:-1]:
            parent = parent[key]
        parent[where[-1]] = _NotJson()
        expected = _render(where)
    else:
        mutated = _NotJson()
        expected = "json"
    found: list[Any] = []
    check(mutated, "json", found, plan.method_id)
    assert [p[0] for p in found] == [expected]
