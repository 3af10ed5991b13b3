"""Validation of parameters and bodies against discovery schemas.

Theory of operation
-------------------
Discovery schemas are a small JSON-Schema draft 3 dialect (docs/protocol.md §1.5): ``type``,
``format``, ``properties``, ``additionalProperties``, ``items``, ``$ref``, ``enum``,
``pattern``, ``minimum``/``maximum`` and ``annotations.required``. This module is the
public face of four private ones, each with one job:

* :mod:`aiogoogle._schema_values`: checks of one scalar value against its ``type``,
  ``format``, ``pattern``, ``enum`` and bounds (cached by constraints, so the thousands of
  identical ``string/int64`` nodes share one), "any JSON value", paths and short forms.
* :mod:`aiogoogle._schema_rules`: what a schema node means, as a ``Rule`` (the one place
  that reads schema keywords), the table of Python types for each JSON kind, and the check
  of the document's own shape.
* :mod:`aiogoogle._schema_checks`: the problem-collecting checks (:class:`SchemaCompiler`),
  compiled once per node from its rule.
* :mod:`aiogoogle._schema_fast`: the "certainly valid?" predicates, interpreted and then
  generated as Python source from the same rules.

Requests are checked in two tiers: a predicate that only answers "certainly valid?" runs
first, and the problem-collecting checks run only when it is not sure, so valid bodies
never pay for paths and messages. Checks never stop at the first problem: every problem is
listed with its path into the arguments (``json.disks[0].initializeParams.diskSizeGb``) in
one :class:`~aiogoogle.excs.ValidationError`.

Rules (docs/protocol.md §1.4-1.5, proto3 JSON mapping):

* ``type: integer`` (``int32``, ``uint32``) accepts Python ints only in bodies, as
  aiogoogle 5.x did (``"123"`` is refused: the schema says integer). ``type: string`` with format
  ``int64``/``uint64`` accepts decimal strings within range and Python ints (JSON
  numbers lose precision above 2**53, so 64-bit values travel as strings; the proto3
  JSON mapping accepts both: https://protobuf.dev/programming-guides/proto3/#json).
* ``type: string`` accepts ``str`` only, in bodies and parameters alike (5.x refused
  ``calendarId=1``). Query and path parameters also take decimal text for integers and
  ``"true"``/``"false"`` for booleans (the same text on the wire).
* ``float``/``double`` accept ints and floats (not bools) and the strings ``"NaN"``,
  ``"Infinity"``, ``"-Infinity"``; a non-finite Python float is refused in a JSON body
  because JSON cannot carry it.
* ``byte`` is base64, standard or URL-safe alphabet, padding optional.
* ``date`` is ``YYYY-MM-DD``; ``date-time`` and ``google-datetime`` are RFC 3339 with a
  time zone; ``google-duration`` is ``"3.5s"``; ``google-fieldmask`` is comma-separated
  field paths.
* ``pattern`` must match the *whole* value (Java ``matches()`` semantics), not a prefix.
  Patterns are RE2 syntax (https://github.com/google/re2/wiki/Syntax) and are matched by
  RE2 itself (the ``google-re2`` package): in time linear in the value, whatever the
  pattern, and with Google's meaning (``\\d`` is an ASCII digit, as on the server).
* ``enum`` is checked for each element of repeated values.
* An object with ``properties`` and no ``additionalProperties`` refuses unknown fields
  (Google answers them with 400 "Unknown name"); ``any`` accepts any JSON value.

The document is checked too
---------------------------
A discovery document is data from the network, so nothing here trusts its shape. Before
any tier uses a schema, the schema's inline tree (down to, not through, its ``$ref`` s) is
checked once: every keyword has the JSON type the dialect gives it (``type``, ``format``,
``pattern`` strings; ``enum`` a list of strings; ``minimum``/``maximum`` numbers or numeric
strings; ``properties`` an object of schemas; ...), every ``$ref`` names a schema that
exists, every pattern compiles in RE2 and has at most :data:`MAX_PATTERN_LENGTH`
characters, and inline schemas nest at most :data:`MAX_SCHEMA_DEPTH` levels. A ``$ref``
chain that never reaches a schema (``A -> A``, ``A -> B -> A``) is refused; recursion
*through* a schema (a tree node whose ``children`` are nodes) is fine. Each problem is a
:class:`~aiogoogle.excs.DiscoveryError` naming its JSON path in the document
(``schemas.File.properties.name.pattern``). Values may nest at most :data:`MAX_DEPTH`
objects and arrays; deeper ones are a :class:`~aiogoogle.excs.ValidationError`. So every
check finishes in time linear in the value and the part of the document it reaches.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Any

# The building blocks keep the names they had here when this was one module: the tests of
# each tier and the benchmarks reach them here (hence the noqa: F401 re-exports).
from ._schema_checks import (
    Check,  # noqa: F401
    SchemaCompiler,
    _interpret,  # noqa: F401
    validate,
)
from ._schema_fast import GENERATE_AFTER, Predicate  # noqa: F401
from ._schema_rules import check_tree as _check_tree  # noqa: F401
from ._schema_rules import rule_of  # noqa: F401
from ._schema_values import (
    _INT_RANGES,  # noqa: F401
    MAX_DEPTH,
    MAX_PATTERN_LENGTH,
    MAX_SCHEMA_DEPTH,
    Path,  # noqa: F401
    Problems,  # noqa: F401
    ScalarCheck,
    _check_json,  # noqa: F401
    _fullmatcher,  # noqa: F401
    _json_ok,  # noqa: F401
    _pattern_matcher,  # noqa: F401
    _type_name,
    brief,
    json_path,
    render_path,
    safe_value,
    scalar_check,
    scalar_constraints,
)
from .excs import ValidationError


class ValidationTypeError(ValidationError, TypeError):
    """An argument of the wrong kind where aiogoogle 5.x raised ``TypeError`` (both
    ``json=`` and ``data=``; a ``timeout=`` that is not a number): ``except TypeError``
    written for 5.x and ``except ValidationError`` both catch it."""

__all__ = [
    "IGNORABLE_FORMATS",
    "JSON_PYTHON_TYPE_MAPPING",
    "KNOWN_FORMATS",
    "MAX_DEPTH",
    "MAX_PATTERN_LENGTH",
    "MAX_SCHEMA_DEPTH",
    "SchemaCompiler",
    "ScalarCheck",
    "brief",
    "json_path",
    "render_path",
    "safe_value",
    "scalar_check",
    "scalar_constraints",
    "validate",
    "ValidationTypeError",
    "TYPE_FORMAT_MAPPING",
    # aiogoogle 5.x's per-type validator functions, kept under their names (defined at the end)
    "any_validator",
    "array_validator",
    "boolean_validator",
    "byte_validator",
    "date_validator",
    "datetime_validator",
    "double_validator",
    "float_validator",
    "handle_type_and_value_errors",
    "int32_validator",
    "int64_validator",
    "integer_validator",
    "make_validation_error_msg",
    "maximum_validator",
    "minimum_validator",
    "null_validator",
    "number_validator",
    "object_validator",
    "parse_rfc3339_datetime",
    "string_validator",
    "uint32_validator",
    "uint64_validator",
    "validate_all",
    "validate_enum",
    "validate_format",
    "validate_pattern",
    "validate_range",
    "validate_type",
]


# --------------------------------------------------------------------------- aiogoogle 5.x names
#
# aiogoogle 5.x exposed its validator building blocks from this module; 5.x code and test
# suites call them directly. They keep their names, arguments and "raise ValidationError
# or return None" contract, and check with the rules above (so ``double_validator(1)``
# passes: 1 is a JSON number).

#: JSON types and the Python types that carry them (as in aiogoogle 5.x).
JSON_PYTHON_TYPE_MAPPING: dict[str, Any] = {
    "number": (float, int),
    "integer": (int),
    "string": (str),
    "object": (dict),
    "array": (list, set, tuple),
    "boolean": (bool),
    "null": (),
    "any": (float, int, str, dict, list, set, tuple, bool),
}
#: Formats 5.x knew (https://developers.google.com/discovery/v1/type-format).
KNOWN_FORMATS = [
    "int32", "uint32", "double", "float", "null", "byte", "date", "date-time", "int64", "uint64",
    "google-fieldmask", "google-duration", "google-datetime", "google.protobuf.Any",
]  # fmt: skip
#: Formats 5.x did not check (this module checks all but ``google.protobuf.Any``).
IGNORABLE_FORMATS = ["google-fieldmask", "google-duration", "google-datetime", "google.protobuf.Any"]
#: 5.x's table of the formats each type may have, as 5.x wrote it.
TYPE_FORMAT_MAPPING: dict[str, list[str]] = {
    "any": [],
    "array": [],
    "boolean": [],
    "integer": ["int32", "unint32"],
    "number": ["double", "float"],
    "object": [],
    "string": ["null", "byte", "date", "date-time", "int64", "uint64"],
}


def make_validation_error_msg(checked_value: Any, correct_criteria: Any, schema_name: Any = None) -> str:
    """5.x's message text for a value that does not meet ``correct_criteria``."""
    return f'\n\n Invalid instance: "{schema_name}"\n\n{brief(checked_value)} isn\'t valid. Expected a value that meets the following criteria: {correct_criteria}'


def handle_type_and_value_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: a ``ValueError`` or ``TypeError`` raised by a validator becomes a
    :class:`~aiogoogle.excs.ValidationError` (as in 5.x)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, schema_name: Any = None) -> Any:
        try:
            return fn(*args, schema_name=schema_name)
        except ValidationError:
            raise
        except (ValueError, TypeError) as exc:
            raise ValidationError([(str(schema_name or "instance"), f"{type(exc).__name__}: {exc}", args[0] if args else None)]) from None

    return wrapper


def _scalar_validator(type_: str, fmt: str | None = None) -> Callable[..., None]:
    def validator(value: Any, schema_name: Any = None) -> None:
        check = scalar_check(type_, fmt)
        msg = check(value) if check is not None else None
        if msg is not None:
            raise ValidationError([(str(schema_name or "instance"), msg, value)])

    validator.__name__ = f"{fmt or type_}_validator".replace("-", "")
    validator.__doc__ = f"Raise ValidationError unless ``value`` is a valid {fmt or type_} (5.x API)."
    return validator


def _container_validator(name: str, types: tuple[type, ...]) -> Callable[..., None]:
    def validator(value: Any, schema_name: Any = None) -> None:
        if not isinstance(value, types):
            raise ValidationError([(str(schema_name or "instance"), f"expected {name}, got {_type_name(value)}", value)])

    validator.__name__ = f"{name}_validator"
    validator.__doc__ = f"Raise ValidationError unless ``value`` is a JSON {name} (5.x API)."
    return validator


def any_validator(value: Any, schema_name: Any = None) -> None:
    """Any value is valid (5.x API)."""


array_validator = _container_validator("array", (list, set, tuple))
object_validator = _container_validator("object", (dict, Mapping))
boolean_validator = _scalar_validator("boolean")
integer_validator = _scalar_validator("integer")
number_validator = _scalar_validator("number")
string_validator = _scalar_validator("string")
int32_validator = _scalar_validator("integer", "int32")
uint32_validator = _scalar_validator("integer", "uint32")
int64_validator = _scalar_validator("string", "int64")
uint64_validator = _scalar_validator("string", "uint64")
double_validator = _scalar_validator("number", "double")
float_validator = _scalar_validator("number", "float")
byte_validator = _scalar_validator("string", "byte")
date_validator = _scalar_validator("string", "date")
datetime_validator = _scalar_validator("string", "date-time")


def null_validator(value: Any, schema_name: Any = None) -> None:
    """5.x's ``null`` format: the string ``"null"`` (not ``None``)."""
    if value != "null":
        raise ValidationError([(str(schema_name or "instance"), "expected the string 'null' (not None)", value)])


def minimum_validator(value: Any, minimum: Any, schema_name: Any = None) -> None:
    """Raise ValidationError if ``value`` is below ``minimum`` (5.x API)."""
    validate_range(value, {"minimum": minimum}, schema_name)


def maximum_validator(value: Any, maximum: Any, schema_name: Any = None) -> None:
    """Raise ValidationError if ``value`` is above ``maximum`` (5.x API)."""
    validate_range(value, {"maximum": maximum}, schema_name)


def parse_rfc3339_datetime(value: str) -> _dt.datetime:
    """An RFC 3339 timestamp as an aware ``datetime`` (5.x API; ``Z`` means UTC)."""
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


def _check_part(instance: Any, schema: Mapping[str, Any], schema_name: Any, **part: Any) -> None:
    check = scalar_check(**part)
    msg = check(instance) if check is not None else None
    if msg is not None:
        raise ValidationError([(str(schema_name or "instance"), msg, instance)])


def validate_type(instance: Any, schema: Mapping[str, Any], schema_name: Any = None) -> None:
    """Check ``instance`` against the schema's ``type`` only (5.x API)."""
    type_ = schema.get("type")
    if type_ == "array":
        array_validator(instance, schema_name=schema_name)
    elif type_ == "object":
        object_validator(instance, schema_name=schema_name)
    elif type_ in ("string", "integer", "number", "boolean"):
        _check_part(instance, schema, schema_name, type_=type_)


def validate_format(instance: Any, schema: Mapping[str, Any], schema_name: Any = None) -> None:
    """Check ``instance`` against the schema's ``format`` only (5.x API)."""
    fmt = schema.get("format")
    if fmt == "null":
        null_validator(instance, schema_name=schema_name)
    elif isinstance(fmt, str) and fmt in KNOWN_FORMATS and fmt != "google.protobuf.Any":
        type_ = "integer" if fmt in ("int32", "uint32") else "number" if fmt in ("double", "float") else "string"
        _check_part(instance, schema, schema_name, type_=type_, fmt=fmt)


def validate_range(instance: Any, schema: Mapping[str, Any], schema_name: Any = None) -> None:
    """Check ``instance`` against the schema's ``minimum`` and ``maximum`` (5.x API)."""
    if schema.get("minimum") is not None or schema.get("maximum") is not None:
        _check_part(instance, schema, schema_name, type_=None, minimum=schema.get("minimum"), maximum=schema.get("maximum"))


def validate_pattern(instance: Any, schema: Mapping[str, Any], schema_name: Any = None) -> None:
    """Check ``instance`` against the schema's ``pattern`` (the whole value, 5.x API)."""
    if schema.get("pattern") is not None:
        _check_part(instance, schema, schema_name, type_=None, pattern=schema.get("pattern"))


def validate_enum(instance: Any, schema: Mapping[str, Any], schema_name: Any = None) -> None:
    """Check ``instance`` against the schema's ``enum`` (5.x API)."""
    enum = schema.get("enum")
    if enum is not None:
        _check_part(instance, schema, schema_name, type_=None, enum=enum)


def validate_all(instance: Any, schema: Mapping[str, Any], schema_name: Any = None) -> None:
    """Check a scalar against its schema: type, format, range, pattern, enum (5.x API)."""
    validate(instance, schema, None, schema_name)
