"""What a discovery schema node means: the one description every validation tier reads.

Discovery schemas are a small JSON-Schema draft 3 dialect (docs/protocol.md §1.5). Values
are checked by three tiers (see :mod:`aiogoogle.validate`): the problem-collecting checks
(:mod:`aiogoogle._schema_checks`), and the "certainly valid?" predicates, interpreted or
generated as Python source (:mod:`aiogoogle._schema_fast`). None of them reads a schema
keyword: each asks :func:`rule_of` for a node's :class:`Rule` and walks that. So which
keyword means what (a plain string, unknown fields refused, ``annotations.required``, an
array's own ``pattern``, which values are certainly valid) is written once, here, and a
change here reaches every tier (tests/test_schema_rules.py changes it and sees them agree).

The other table here, :data:`SHAPES`, says which Python values carry each JSON kind: the
exact type the predicates test by identity, and what the full checks accept (a ``Mapping``
that is not a dict, a tuple, a str subclass: the predicates answer "not sure" for those and
the full checks decide).

Also here: :func:`check_tree`, the check of the document's own shape that every schema
passes before any tier uses it (so rules read keywords that have their JSON types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ._schema_values import (
    CLEARED_WITH_SCALARS,
    MAX_SCHEMA_DEPTH,
    ScalarCheck,
    _doc_error,
    _type_name,
    brief,
    int_range,
    json_path,
    scalar_check,
    scalar_constraints,
)
from .excs import DiscoveryError

# The kinds of rule.
REF, OBJECT, MAP, FREE, ARRAY, STRING, BOOLEAN, SCALAR, JSON = range(9)


class _AnyJson:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY_JSON"


#: ``Rule.extra`` for ``additionalProperties: true``: other fields may hold any JSON value.
ANY_JSON: Any = _AnyJson()


class Shape(NamedTuple):
    """The Python values that carry one JSON kind."""

    exact: Any  # the predicates accept exactly this type (tested with ``is``)
    accepts: Any  # the full checks accept ``isinstance(value, accepts)``
    expected: str  # the full checks' words for it: "expected {expected}, got int"


#: JSON kinds and the Python values that carry them (read when the checks are built).
SHAPES: dict[int, Shape] = {
    OBJECT: Shape(dict, Mapping, "an object (dict)"),
    ARRAY: Shape(list, (list, tuple), "an array (list)"),
    STRING: Shape(str, str, "a string"),
    BOOLEAN: Shape(bool, bool, "a boolean"),
}


class Rule(NamedTuple):
    """One schema node, as every tier checks it.

    ``kind`` is one of:

    * ``REF``: the schema named ``ref``.
    * ``OBJECT``: a dict whose ``fields`` (name -> schema node) are checked, ``None`` values
      skipped; other fields hold ``extra`` (a schema node, :data:`ANY_JSON`, or ``None``:
      refused, even with a ``None`` value, as Google answers them with 400 "Unknown
      name"); a field of ``required`` (name, method ids) must be present and not ``None``
      for those methods.
    * ``MAP``: a dict with str keys whose values (``None`` skipped) hold ``extra``.
    * ``FREE``: any JSON object.
    * ``ARRAY``: a list whose items (``None`` skipped) hold ``items`` (a schema node, or
      ``None``: any JSON value), and whose str items match ``item_pattern`` if given.
    * ``STRING``, ``BOOLEAN``: a value of that :data:`SHAPES` kind, nothing more.
    * ``SCALAR``: ``check(value)`` is ``None``. ``sure`` describes values certainly valid
      by a quicker test (``sure(value)`` implies ``check(value) is None``):
      ``("str", enum or None, pattern or None)`` an exact str in the enum matching the
      whole pattern; ``("int", lo, hi)`` an exact int in ``[lo, hi]``; ``("digits",)``
      1 to 18 ASCII digits.
    * ``JSON``: any JSON value.

    ``name`` is the schema's ``id`` (for messages and labels)."""

    kind: int
    ref: str | None = None
    fields: Mapping[str, Any] | None = None
    extra: Any = None
    required: tuple[tuple[str, frozenset[str]], ...] = ()
    items: Mapping[str, Any] | None = None
    item_pattern: str | None = None
    check: ScalarCheck | None = None
    sure: tuple[Any, ...] | None = None
    name: Any = None


_STRING_RULE = Rule(STRING)
_BOOLEAN_RULE = Rule(BOOLEAN)
_JSON_RULE = Rule(JSON)
_FREE_RULE = Rule(FREE)
_SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})
# Formats with their own check (see _schema_values._string_format_check): a string of any
# other format is a plain string, checked by its enum and pattern alone.
_STRING_FORMATS = frozenset({"int64", "uint64", "byte", "date", "date-time", "google-datetime", "google-duration", "google-fieldmask"})
# The SCALAR rule of each scalar check (a check stands for its constraints, see scalar_check).
_SCALAR_RULES: dict[ScalarCheck, Rule] = {}
CLEARED_WITH_SCALARS.append(_SCALAR_RULES)


def rule_of(node: Mapping[str, Any]) -> Rule:
    """The :class:`Rule` of a schema node that :func:`check_tree` has checked."""
    get = node.get
    ref = get("$ref")
    if isinstance(ref, str):
        return Rule(REF, ref)
    type_ = get("type")
    # (type(x) is dict first: isinstance() against the Mapping ABC costs ~10 times more, and
    # rules are asked for on every step of an interpreted check.)
    if type_ == "object":
        props = get("properties")
        addl = get("additionalProperties")
        extra = addl if addl is not None and (type(addl) is dict or isinstance(addl, Mapping)) else ANY_JSON if addl is True else None
        if not props or (type(props) is not dict and not isinstance(props, Mapping)):
            return _FREE_RULE if extra is None else Rule(MAP, None, None, extra)
        required = []
        for field, sub in props.items():
            ann = sub.get("annotations")
            if ann is not None and (type(ann) is dict or isinstance(ann, Mapping)) and isinstance(ann.get("required"), list):
                required.append((field, frozenset(ann["required"])))
        return Rule(OBJECT, None, props, extra, tuple(required), None, None, None, None, get("id"))
    if type_ == "array":
        items = get("items")
        if items is None or (type(items) is not dict and not isinstance(items, Mapping)):
            return Rule(ARRAY)
        pattern = get("pattern")
        # A few documents put the pattern on the array; it constrains each (str) element.
        own = pattern if isinstance(pattern, str) and pattern and "pattern" not in items else None
        return Rule(ARRAY, None, None, None, (), items, own)
    if type_ in _SCALAR_TYPES:
        fmt, pattern, enum, minimum, maximum = get("format"), get("pattern"), get("enum"), get("minimum"), get("maximum")
        if fmt is None and pattern is None and enum is None and minimum is None and maximum is None:
            if type_ == "string":
                return _STRING_RULE
            if type_ == "boolean":
                return _BOOLEAN_RULE
        check = scalar_check(
            type_, fmt, pattern=pattern, enum=tuple(enum) if isinstance(enum, list) else None,
            minimum=minimum, maximum=maximum, in_body=True,
        )
        if check is None:
            return _JSON_RULE
        found = _SCALAR_RULES.get(check)
        if found is None:
            found = _SCALAR_RULES[check] = Rule(SCALAR, check=check, sure=_sure(type_, fmt, pattern, enum, minimum, maximum))
        return found
    # "any", a missing type, or an unknown one: any JSON value.
    return _JSON_RULE


def _sure(type_: str, fmt: Any, pattern: Any, enum: Any, minimum: Any, maximum: Any) -> tuple[Any, ...] | None:
    """``Rule.sure`` of a scalar (see :class:`Rule`), or None: no quicker test."""
    bounded = minimum is not None or maximum is not None
    if type_ == "string" and fmt not in _STRING_FORMATS and not bounded:
        return ("str", frozenset(enum) if isinstance(enum, list) and enum else None, pattern or None)
    if enum is not None or pattern is not None:
        return None
    if type_ == "integer":
        return ("int", *int_range(fmt if isinstance(fmt, str) else None, minimum, maximum))
    if type_ == "string" and fmt in ("int64", "uint64") and not bounded:
        # 1 to 18 ASCII digits: a decimal inside both ranges (2**63 - 1 has 19 digits).
        return ("digits",)
    return None


def sure_test(sure: tuple[Any, ...], value: Any) -> bool:
    """``Rule.sure`` evaluated (the generated predicates inline the same test as source)."""
    if sure[0] == "str":
        enum, pattern = sure[1], sure[2]
        if type(value) is not str or (enum is not None and value not in enum):
            return False
        if pattern is None:
            return True
        from ._schema_values import _pattern_matcher

        matcher = _pattern_matcher(pattern)
        return not isinstance(matcher, str) and matcher(value)
    if sure[0] == "int":
        return type(value) is int and sure[1] <= value <= sure[2]
    return type(value) is str and len(value) < 19 and value.isdigit() and value.isascii()


def check_tree(node: Any, where: str, level: int, schemas: Mapping[str, Any]) -> None:
    """Check a schema and its inline schemas (not the targets of its ``$ref`` s, which are
    checked when a value reaches them): every keyword has the JSON type the dialect gives
    it, every ``$ref`` names a schema that exists, every pattern compiles, inline schemas
    nest at most :data:`~aiogoogle.validate.MAX_SCHEMA_DEPTH` levels. Raises a
    DiscoveryError naming the JSON path ``where`` of the first problem."""
    if not isinstance(node, Mapping):
        raise DiscoveryError(f"{where}: a schema must be an object, got {_type_name(node)} {brief(node)}")
    if level > MAX_SCHEMA_DEPTH:
        raise DiscoveryError(f"{where}: inline schemas nested more than {MAX_SCHEMA_DEPTH} levels deep (give the inner ones names and refer to them with $ref)")
    ref = node.get("$ref")
    if ref is not None:
        if not isinstance(ref, str):
            raise _doc_error(where, "$ref", f"must be the name of a schema (a string), got {_type_name(ref)} {brief(ref)}")
        if ref not in schemas:
            raise _doc_error(where, "$ref", f"schema {brief(ref)} is referenced but not defined in the discovery document")
        return  # the other keywords of a $ref node are not used
    scalar_constraints(node, where)
    props = node.get("properties")
    if props is not None:
        if not isinstance(props, Mapping):
            raise _doc_error(where, "properties", f"must be an object mapping field names to schemas, got {_type_name(props)} {brief(props)}")
        inner = json_path(where, "properties")
        for name, sub in props.items():
            if not isinstance(name, str):
                raise DiscoveryError(f"{inner}: field names must be strings, got {_type_name(name)} {brief(name)}")
            check_tree(sub, json_path(inner, name), level + 1, schemas)
    addl = node.get("additionalProperties")
    if addl is not None and not isinstance(addl, bool):
        check_tree(addl, json_path(where, "additionalProperties"), level + 1, schemas)
    items = node.get("items")
    if items is not None:
        check_tree(items, json_path(where, "items"), level + 1, schemas)
    ann = node.get("annotations")
    if ann is not None:
        if not isinstance(ann, Mapping):
            raise _doc_error(where, "annotations", f"must be an object, got {_type_name(ann)} {brief(ann)}")
        required = ann.get("required")
        if required is not None and not (isinstance(required, list) and all(isinstance(m, str) for m in required)):
            raise _doc_error(json_path(where, "annotations"), "required", f"must be a list of method ids (strings), got {brief(required)}")


def ref_target(node: Any, schemas: Mapping[str, Any]) -> str | None:
    """The name a ``{"$ref": name}`` node refers to when that is all it says and the name
    is defined (nearly every method's request), else None."""
    if type(node) is dict and len(node) == 1:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in schemas:
            return ref
    return None


def follow_refs(schemas: Mapping[str, Any], name: str) -> tuple[str, Mapping[str, Any], list[str]]:
    """``(final, schema, chain)``: the schema ``$ref: name`` stands for, following a chain
    of schemas that are only another's name (``chain``: the names on the way, ``name``
    first). Raises DiscoveryError for an undefined name or a chain that never reaches a
    schema (``A -> B -> A``)."""
    chain = [name]
    current = name
    while True:
        if not isinstance(current, str) or current not in schemas:
            raise DiscoveryError(f"schema {brief(current)} is referenced but not defined in the discovery document")
        schema = schemas[current]
        target = schema.get("$ref") if isinstance(schema, Mapping) else None
        if target is None:
            return current, schema, chain
        where = json_path("schemas", current)
        if not isinstance(target, str):
            raise _doc_error(where, "$ref", f"must be the name of a schema (a string), got {_type_name(target)} {brief(target)}")
        if target in chain:
            shown = " -> ".join(brief(n) for n in [*chain[:8], target])
            raise _doc_error(where, "$ref", f"the chain of $ref {shown} never reaches a schema")
        chain.append(target)
        current = target
