"""Validation rules are described once (aiogoogle._schema_rules) and every tier follows them.

The problem-collecting checks, the interpreted predicate and the generated predicate never
read a schema keyword themselves: each walks the ``Rule`` of a node. These tests change the
description and see every tier change with it, check that no tier reads keywords on its
own, and that the quick tests a rule offers never accept what its check refuses, on the
scalar schemas of real discovery documents.
"""

from __future__ import annotations

import ast
import gzip
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle import _schema_rules as rules
from aiogoogle import validate as validate_module
from aiogoogle._schema_rules import SCALAR, STRING, Rule, rule_of, sure_test
from aiogoogle.excs import ValidationError
from aiogoogle.validate import SchemaCompiler, _interpret, validate

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"$ref", "type", "format", "pattern", "enum", "minimum", "maximum", "properties", "additionalProperties", "items", "annotations", "required", "id"}


def _tiers(node: Mapping[str, Any], schemas: Mapping[str, Any], value: Any, method_id: str = "m") -> tuple[list[Any], bool, list[Any], list[Any]]:
    """(full check's problems, interpreted answer, problems through the interpreted tier,
    problems through the generated tier) for ``value``."""
    full: list[Any] = []
    SchemaCompiler(schemas).compile(node)(value, "json", full, method_id)
    interpreted = _interpret(node, value, method_id, schemas)
    first: list[Any] = []
    SchemaCompiler(schemas).checker(node)(value, "json", first, method_id)
    hot = SchemaCompiler(schemas).checker(node)
    for _ in range(validate_module.GENERATE_AFTER):
        hot(value, "json", [], method_id)
    generated: list[Any] = []
    hot(value, "json", generated, method_id)
    return full, interpreted, first, generated


SCHEMAS = {
    "Thing": {
        "id": "Thing",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "flags": {"type": "array", "items": {"type": "boolean"}},
            "size": {"type": "string", "format": "int64"},
        },
    }
}
THING = {"$ref": "Thing"}


def test_changing_a_rule_changes_every_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"name": "forbidden", "labels": {"a": "forbidden"}, "tags": ["ok", "forbidden"], "size": "12"}
    # As described: plain strings, so every tier accepts the body.
    full, interpreted, first, generated = _tiers(THING, SCHEMAS, body)
    assert (full, interpreted, first, generated) == ([], True, [], [])

    # One change to the description: a plain string now refuses "forbidden".
    def refuse(value: Any) -> str | None:
        return "is forbidden" if value == "forbidden" else None if isinstance(value, str) else "expected a string"

    plain_rule_of = rules.rule_of

    def changed(node: Mapping[str, Any]) -> Rule:
        rule = plain_rule_of(node)
        return Rule(SCALAR, check=refuse) if rule.kind == STRING else rule

    monkeypatch.setattr(rules, "rule_of", changed)
    full, interpreted, first, generated = _tiers(THING, SCHEMAS, body)
    assert full == [("json.name", "is forbidden", "forbidden"), ("json.labels.a", "is forbidden", "forbidden"), ("json.tags[1]", "is forbidden", "forbidden")]
    assert interpreted is False
    assert first == full and generated == full
    fine = {"name": "fine", "labels": {"a": "b"}, "tags": ["ok"]}
    assert _tiers(THING, SCHEMAS, fine) == ([], True, [], [])


def test_changing_a_shape_changes_every_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    # The table of Python types: arrays no longer accept tuples in the full checks.
    monkeypatch.setitem(rules.SHAPES, rules.ARRAY, rules.Shape(list, list, "a list"))
    full, interpreted, first, generated = _tiers(THING, SCHEMAS, {"tags": ("a",)})
    assert [m for _, m, _ in full] == ["expected a list, got tuple"]
    assert interpreted is False and first == full and generated == full


def _string_constants(tree: ast.AST) -> Iterator[tuple[int, str]]:
    docstrings = {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body and isinstance(node.body[0], ast.Expr)}
    # Keys of dict literals are names of the tiers' own (the generated code's builtins).
    keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys if key is not None}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings | keys:
            yield node.lineno, node.value


@pytest.mark.parametrize("module", ["_schema_checks.py", "_schema_fast.py"])
def test_no_tier_reads_a_schema_keyword(module: str) -> None:
    source = (ROOT / "core" / module).read_text(encoding="utf-8")
    read = [(line, text) for line, text in _string_constants(ast.parse(source)) if text in KEYWORDS]
    assert not read, f"{module} reads schema keywords itself (describe them in _schema_rules.rule_of): {read}"


def test_an_array_of_booleans_reports_a_wrong_item() -> None:
    # Found when the tiers were derived from one description: the full check of a
    # [boolean] array called a missing check for a wrong item (a TypeError from inside us).
    schema = {"type": "array", "items": {"type": "boolean"}}
    with pytest.raises(ValidationError) as err:
        validate([True, 1, None], schema)
    assert [(p.path, p.message) for p in err.value.problems] == [("instance[1]", "expected a boolean, got int")]
    full, interpreted, first, generated = _tiers(schema, {}, [True, 1])
    assert not interpreted and first == full == generated and len(full) == 1


def test_other_fields_of_an_object_need_string_keys() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}
    full, interpreted, first, generated = _tiers(schema, {}, {"a": "x", 1: "y"})
    assert [m for _, m, _ in full] == ["object keys must be strings, got int"]
    assert not interpreted and first == full == generated


# ------------------------------------------------------------------ real documents


def _scalar_nodes(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if node.get("type") in ("string", "integer", "number", "boolean") and "$ref" not in node:
            yield node
        for value in node.values():
            yield from _scalar_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _scalar_nodes(value)


def _document_scalars() -> list[Mapping[str, Any]]:
    seen: dict[str, Mapping[str, Any]] = {}
    for path in sorted((ROOT / "testing" / "documents").glob("*.json.gz")):
        doc = json.loads(gzip.decompress(path.read_bytes()))
        for node in _scalar_nodes(doc.get("schemas") or {}):
            seen.setdefault(json.dumps(node, sort_keys=True), node)
    return list(seen.values())


SCALARS = _document_scalars()
SURE = [node for node in SCALARS if rule_of(node).sure is not None]


def test_every_scalar_of_the_documents_has_a_rule() -> None:
    kinds = {rule_of(node).kind for node in SCALARS}
    assert {rules.STRING, rules.BOOLEAN, rules.SCALAR} <= kinds
    assert len(SURE) > 20


def _values_for(node: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    enum = node.get("enum") or []
    return (
        st.sampled_from(enum or ["x"]) | st.integers() | st.integers(-(2**64), 2**64) | st.from_regex(r"\A-?[0-9]{1,20}\Z")
        | st.text(max_size=12) | st.booleans() | st.floats() | st.none()
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_rules_quick_test_never_accepts_what_its_check_refuses(data: st.DataObject) -> None:
    node = data.draw(st.sampled_from(SURE), label="node")
    rule = rule_of(node)
    assert rule.sure is not None and rule.check is not None
    value = data.draw(_values_for(node), label="value")
    if sure_test(rule.sure, value):
        assert rule.check(value) is None, (node, value)
    # And the tiers agree on it, whatever the quick test says.
    full, interpreted, first, generated = _tiers(node, {}, value)
    assert first == full == generated
    assert not interpreted or full == []
