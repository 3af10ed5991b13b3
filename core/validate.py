"""Validation of parameters and bodies against discovery schemas.

Theory of operation
-------------------
Discovery schemas are a small JSON-Schema draft 3 dialect (PROTOCOL.md §1.5): ``type``,
``format``, ``properties``, ``additionalProperties``, ``items``, ``$ref``, ``enum``,
``pattern``, ``minimum``/``maximum`` and ``annotations.required``. Instead of interpreting a
schema on every call, each schema node is *compiled once* into a small closure, and the
closures are cached: scalar checks by their constraints (so the thousands of identical
``string/int64`` nodes share one), named schemas by id. ``$ref`` compiles lazily, when a
value first reaches it, so recursive schemas and huge documents cost nothing up front.

Requests are checked in two tiers (see "fast path" below): a generated predicate that only
answers "certainly valid?" runs first, and the problem-collecting checks described here run
only when it is not sure, so valid bodies never pay for paths and messages.

Checks never stop at the first problem: every problem is appended to a list with its path
into the arguments (``json.disks[0].initializeParams.diskSizeGb``), and the caller raises
one :class:`~aiogoogle.excs.ValidationError` listing them all. Paths are passed down as
cheap ``(parent, key)`` pairs and only rendered to text when a problem is found.

Rules (PROTOCOL.md §1.4-1.5, proto3 JSON mapping):

* ``int32``/``uint32``/``int64``/``uint64`` accept Python ints and decimal strings within
  range (JSON numbers lose precision above 2**53, so 64-bit values are usually strings).
* ``float``/``double`` accept ints and floats (not bools) and the strings ``"NaN"``,
  ``"Infinity"``, ``"-Infinity"``; a non-finite Python float is refused in a JSON body
  because JSON cannot carry it.
* ``byte`` is base64, standard or URL-safe alphabet, padding optional.
* ``date`` is ``YYYY-MM-DD``; ``date-time`` and ``google-datetime`` are RFC 3339 with a
  time zone; ``google-duration`` is ``"3.5s"``; ``google-fieldmask`` is comma-separated
  field paths.
* ``pattern`` must match the *whole* value (Java ``matches()`` semantics), not a prefix.
* ``enum`` is checked for each element of repeated values.
* An object with ``properties`` and no ``additionalProperties`` refuses unknown fields
  (Google answers them with 400 "Unknown name"); ``any`` accepts any JSON value.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from .excs import DiscoveryError, ValidationError

__all__ = ["SchemaCompiler", "ScalarCheck", "render_path", "scalar_check", "validate"]

Path = Any  # a str root, or a (parent, key) pair; rendered only when a problem is found
Problems = list[tuple[str, str, Any]]
Check = Callable[[Any, Path, Problems, str], None]
ScalarCheck = Callable[[Any], "str | None"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def render_path(path: Path) -> str:
    """Render a ``(parent, key)`` chain as ``json.items[0].name``."""
    parts: list[Any] = []
    while isinstance(path, tuple):
        path, key = path
        parts.append(key)
    out = [str(path)]
    for key in reversed(parts):
        if isinstance(key, int):
            out.append(f"[{key}]")
        elif _IDENT.match(key):
            out.append(f".{key}" if out[-1] else key)
        else:
            out.append(f"[{key!r}]")
    return "".join(out)


# --------------------------------------------------------------------------- scalars

_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_DECIMAL = re.compile(r"-?[0-9]+\Z")
_NUMBER_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOATS = frozenset({"NaN", "Infinity", "-Infinity"})
_BASE64 = re.compile(r"[A-Za-z0-9+/\-_]*={0,2}\Z")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)
_DURATION = re.compile(r"-?[0-9]+(?:\.[0-9]{1,9})?s\Z")
_MAX_DURATION_SECONDS = 315_576_000_000  # google.protobuf.Duration range
_FIELD_SEGMENT = r"(?:[A-Za-z_][A-Za-z0-9_]*|\*|`[^`]*`)"
_FIELD_MASK = re.compile(
    rf"(?:{_FIELD_SEGMENT}(?:\.{_FIELD_SEGMENT})*(?:\s*,\s*{_FIELD_SEGMENT}(?:\.{_FIELD_SEGMENT})*)*)?\Z"
)
_PATTERNS: dict[str, re.Pattern[str] | None] = {}


def _compile_pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return _PATTERNS[pattern]
    except KeyError:
        pass
    try:
        compiled: re.Pattern[str] | None = re.compile(pattern)
    except re.error:
        # A Java-only construct Python cannot compile: do not block the call on it.
        compiled = None
    _PATTERNS[pattern] = compiled
    return compiled


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_date(m: re.Match[str]) -> bool:
    try:
        _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True


def _check_datetime(m: re.Match[str]) -> bool:
    if not _check_date(m):
        return False
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if hour > 23 or minute > 59 or second > 60:
        return False
    tz = m.group(8)
    return tz in ("Z", "z") or (int(tz[1:3]) <= 23 and int(tz[4:6]) <= 59)


def _string_format_check(fmt: str | None) -> ScalarCheck | None:
    """A check for a ``type: string`` value of the given format, or None if unconstrained."""
    if fmt in ("int64", "uint64"):
        lo, hi = _INT_RANGES[fmt]

        def check_int64(value: Any) -> str | None:
            if isinstance(value, str):
                if not _DECIMAL.match(value):
                    return f"expected a decimal {fmt} string"
                n = int(value)
            elif type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
                n = value
            else:
                return f"expected an {fmt} (int or decimal string), got {_type_name(value)}"
            if n < lo or n > hi:
                return f"out of {fmt} range [{lo}, {hi}]"
            return None

        return check_int64
    if fmt == "byte":

        def check_byte(value: Any) -> str | None:
            if not isinstance(value, str):
                if isinstance(value, (bytes, bytearray)):
                    return "expected base64 text, got bytes (use base64.b64encode(data).decode())"
                return f"expected a base64 string, got {_type_name(value)}"
            if not _BASE64.match(value) or len(value.rstrip("=")) % 4 == 1:
                return "expected base64 (standard or URL-safe alphabet)"
            return None

        return check_byte
    if fmt == "date":

        def check_date(value: Any) -> str | None:
            if not isinstance(value, str):
                return f"expected a date string YYYY-MM-DD, got {_type_name(value)}"
            m = _DATE.match(value)
            if m is None or not _check_date(m):
                return "expected a date YYYY-MM-DD"
            return None

        return check_date
    if fmt in ("date-time", "google-datetime"):

        def check_datetime(value: Any) -> str | None:
            if not isinstance(value, str):
                hint = " (use .isoformat() on an aware datetime)" if isinstance(value, _dt.datetime) else ""
                return f"expected an RFC 3339 timestamp string, got {_type_name(value)}{hint}"
            m = _DATETIME.match(value)
            if m is None or not _check_datetime(m):
                return "expected an RFC 3339 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z"
            return None

        return check_datetime
    if fmt == "google-duration":

        def check_duration(value: Any) -> str | None:
            if not isinstance(value, str):
                return f"expected a duration string such as '3.5s', got {_type_name(value)}"
            if not _DURATION.match(value):
                return "expected a duration in seconds such as '3.5s' or '60s'"
            if abs(float(value[:-1])) > _MAX_DURATION_SECONDS:
                return "duration out of range (at most 10,000 years)"
            return None

        return check_duration
    if fmt == "google-fieldmask":

        def check_fieldmask(value: Any) -> str | None:
            if not isinstance(value, str):
                return f"expected a field mask string such as 'name,labels', got {_type_name(value)}"
            if not _FIELD_MASK.match(value):
                return "expected a field mask: comma-separated field paths such as 'name,metadata.labels'"
            return None

        return check_fieldmask
    return None


def _integer_check(fmt: str | None) -> ScalarCheck:
    lo, hi = _INT_RANGES.get(fmt or "", (None, None))
    label = fmt or "integer"

    def check_integer(value: Any) -> str | None:
        if isinstance(value, bool):
            return f"expected an integer ({label}), got bool"
        if isinstance(value, int):
            n = value
        elif (isinstance(value, str) and _DECIMAL.match(value)) or (isinstance(value, float) and value.is_integer()):
            n = int(value)
        else:
            return f"expected an integer ({label}), got {_type_name(value)}"
        if lo is not None and (n < lo or n > hi):  # type: ignore[operator]
            return f"out of {label} range [{lo}, {hi}]"
        return None

    return check_integer


def _number_check(fmt: str | None, *, in_body: bool) -> ScalarCheck:
    label = fmt or "number"

    def check_number(value: Any) -> str | None:
        if isinstance(value, bool):
            return f"expected a number ({label}), got bool"
        if isinstance(value, int):
            return None
        if isinstance(value, float):
            if in_body and not math.isfinite(value):
                return "JSON cannot carry NaN or infinity; send the strings 'NaN', 'Infinity' or '-Infinity'"
            return None
        if isinstance(value, str) and (value in _SPECIAL_FLOATS or _NUMBER_TEXT.match(value)):
            return None
        return f"expected a number ({label}), got {_type_name(value)}"

    return check_number


def _bool_check(*, lenient: bool) -> ScalarCheck:
    def check_bool(value: Any) -> str | None:
        if isinstance(value, bool):
            return None
        if lenient and value in ("true", "false"):
            return None
        return f"expected a boolean, got {_type_name(value)}"

    return check_bool


def _string_check(*, lenient: bool) -> ScalarCheck:
    def check_string(value: Any) -> str | None:
        if isinstance(value, str):
            return None
        if lenient and isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        return f"expected a string, got {_type_name(value)}"

    return check_string


_SCALARS: dict[tuple[Any, ...], ScalarCheck | None] = {}
_KNOWN_GOOD_MAX = 16


def scalar_check(
    type_: str | None,
    fmt: str | None = None,
    *,
    pattern: str | None = None,
    enum: tuple[str, ...] | None = None,
    minimum: str | None = None,
    maximum: str | None = None,
    lenient: bool = False,
    in_body: bool = False,
) -> ScalarCheck | None:
    """Return a (cached) check ``value -> problem message or None`` for one scalar schema.

    ``lenient`` is for query and path parameters, whose values travel as text: numbers
    are accepted for strings and ``"true"``/``"false"`` for booleans. Returns ``None`` when
    the schema constrains nothing.
    """
    key = (type_, fmt, pattern, enum, minimum, maximum, lenient, in_body)
    try:
        return _SCALARS[key]
    except KeyError:
        pass
    base: ScalarCheck | None
    if type_ == "string":
        base = _string_format_check(fmt)
        if base is None:
            base = _string_check(lenient=lenient)
    elif type_ == "integer":
        base = _integer_check(fmt)
    elif type_ == "number":
        base = _number_check(fmt, in_body=in_body)
    elif type_ == "boolean":
        base = _bool_check(lenient=lenient)
    else:
        base = None
    checks: list[ScalarCheck] = [base] if base is not None else []
    if enum:
        allowed = frozenset(enum)
        shown = ", ".join(enum[:12]) + (", ..." if len(enum) > 12 else "")

        def check_enum(value: Any) -> str | None:
            if isinstance(value, str) and value in allowed:
                return None
            if isinstance(value, bool) and str(value).lower() in allowed:
                return None
            return f"not one of the allowed values ({shown})"

        checks.append(check_enum)
    if pattern:
        regex = _compile_pattern(pattern)
        if regex is not None:
            fullmatch = regex.fullmatch

            def check_pattern(value: Any) -> str | None:
                if isinstance(value, str) and fullmatch(value) is None:
                    return f"does not match the pattern {pattern}"
                return None

            checks.append(check_pattern)
    if minimum is not None or maximum is not None:
        lo = _to_number(minimum)
        hi = _to_number(maximum)

        def check_range(value: Any) -> str | None:
            n = _to_number(value)
            if n is None:
                return None  # the type check reports it
            if lo is not None and n < lo:
                return f"below the minimum {minimum}"
            if hi is not None and n > hi:
                return f"above the maximum {maximum}"
            return None

        checks.append(check_range)

    result: ScalarCheck | None
    if type_ == "string" and fmt is None and (enum or pattern) and len(checks) > 1:
        # The common body case (an enum or a pattern on a plain string) as one call: a str
        # needs only the value checks; anything else gets the type message first.
        type_check, value_checks = checks[0], tuple(checks[1:])
        # Parameters (project, zone, a resource name) repeat from call to call and their
        # patterns are long: the last few strings found valid are remembered (a str cannot
        # change, so the answer holds; bounded, so memory stays small).
        known_good: set[str] | None = set() if lenient else None

        def check_string_value(value: Any) -> str | None:
            if type(value) is not str:
                msg = type_check(value)
                if msg is not None:
                    return msg
            elif known_good is not None and value in known_good:
                return None
            for c in value_checks:
                msg = c(value)
                if msg is not None:
                    return msg
            if known_good is not None and type(value) is str:
                if len(known_good) >= _KNOWN_GOOD_MAX:
                    known_good.clear()
                known_good.add(value)
            return None

        result = check_string_value
    elif not checks:
        result = None
    elif len(checks) == 1:
        result = checks[0]
    else:
        first, rest = checks[0], tuple(checks[1:])

        def check_all(value: Any) -> str | None:
            msg = first(value)
            if msg is not None:
                return msg
            for c in rest:
                msg = c(value)
                if msg is not None:
                    return msg
            return None

        result = check_all
    if result is not None and type_ == "integer" and not enum and not pattern:
        # Exact ints inside the format's range and the bounds pass every check above; test
        # that inline and ask the checks only about anything else.
        int_lo, int_hi = _INT_RANGES.get(fmt or "", (None, None))
        bound_lo, bound_hi = _to_number(minimum), _to_number(maximum)
        lows = [b for b in (int_lo, bound_lo) if b is not None]
        highs = [b for b in (int_hi, bound_hi) if b is not None]
        lo_all = max(lows) if lows else -math.inf
        hi_all = min(highs) if highs else math.inf
        full = result

        def check_int_fast(value: Any) -> str | None:
            if type(value) is int and lo_all <= value <= hi_all:
                return None
            return full(value)

        result = check_int_fast
    _SCALARS[key] = result
    return result


def _body_scalar_check(node: Mapping[str, Any], type_: str) -> ScalarCheck | None:
    """:func:`scalar_check` for a scalar schema node of a body: the one place the full
    checks, the interpreted predicate and the generated one read its constraints from."""
    enum = node.get("enum")
    return scalar_check(
        type_,
        node.get("format"),
        pattern=node.get("pattern"),
        enum=tuple(enum) if isinstance(enum, list) else None,
        minimum=node.get("minimum"),
        maximum=node.get("maximum"),
        in_body=True,
    )


def _to_number(value: Any) -> float | int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


# --------------------------------------------------------------------------- JSON values

_JSON_SCALARS = (str, int, float, bool, type(None))


def _check_json(value: Any, path: Path, problems: Problems, method_id: str) -> None:
    """``type: any``: the value must be representable as JSON."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return
    if t is float:
        if not math.isfinite(value):
            problems.append((render_path(path), "JSON cannot carry NaN or infinity", value))
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                problems.append((render_path(path), f"JSON object keys must be strings, got {_type_name(k)}", k))
                continue
            _check_json(v, (path, k), problems, method_id)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json(v, (path, i), problems, method_id)
        return
    if isinstance(value, _JSON_SCALARS):
        return
    hint = ""
    if isinstance(value, (_dt.datetime, _dt.date)):
        hint = " (send value.isoformat())"
    elif isinstance(value, (bytes, bytearray)):
        hint = " (base64-encode bytes)"
    problems.append((render_path(path), f"{_type_name(value)} is not a JSON value{hint}", value))


def _check_plain_string(value: Any, path: Path, problems: Problems, method_id: str) -> None:
    if type(value) is not str and not isinstance(value, str):
        problems.append((render_path(path), f"expected a string, got {_type_name(value)}", value))


def _check_plain_bool(value: Any, path: Path, problems: Problems, method_id: str) -> None:
    if value is not True and value is not False:
        problems.append((render_path(path), f"expected a boolean, got {_type_name(value)}", value))


def _scalar_node(check: ScalarCheck) -> Check:
    # Shared like the scalar checks themselves: thousands of properties have the same one.
    cached = _NODE_OF_SCALAR.get(check)
    if cached is not None:
        return cached

    def node(value: Any, path: Path, problems: Problems, method_id: str) -> None:
        msg = check(value)
        if msg is not None:
            problems.append((render_path(path), msg, value))

    _SCALAR_OF_NODE[node] = check
    _NODE_OF_SCALAR[check] = node
    return node


# Containers call scalar checks directly (one call per value instead of two) and test plain
# strings inline: bodies are mostly scalars, so this is where validation time goes.
_SCALAR_OF_NODE: dict[Check, ScalarCheck] = {}
_NODE_OF_SCALAR: dict[ScalarCheck, Check] = {}
_PLAIN_STRING, _SCALAR, _NODE, _PLAIN_BOOL = 0, 1, 2, 3


def _entry(check: Check) -> tuple[int, Any]:
    if check is _check_plain_string:
        return _PLAIN_STRING, None
    if check is _check_plain_bool:
        return _PLAIN_BOOL, None
    scalar = _SCALAR_OF_NODE.get(check)
    if scalar is not None:
        return _SCALAR, scalar
    return _NODE, check


class SchemaCompiler:
    """Compiles the schemas of one discovery document into checks, lazily and once.

    ``compile_ref(name)`` returns the check for the named schema; ``compile(node)`` for an
    inline schema node. Checks take ``(value, path, problems, method_id)``; ``method_id``
    lets ``annotations.required`` (required only for some methods) apply.
    """

    __slots__ = ("_by_node", "_fast", "_refs", "_schemas")

    def __init__(self, schemas: Mapping[str, Any] | None) -> None:
        self._schemas = schemas if isinstance(schemas, Mapping) else {}
        self._refs: dict[str, Check] = {}
        self._by_node: dict[int, tuple[Any, Check]] = {}
        self._fast: _FastPath | None = None

    def compile_fast(self, node: Mapping[str, Any]) -> Predicate:
        """A predicate ``(value, method_id) -> bool`` that is True only when ``compile(node)``
        would report no problem (False means "run the full check"; see the fast-path notes)."""
        fast = self._fast
        if fast is None:
            fast = self._fast = _FastPath(self._schemas)
        return fast.node(node)

    def checker(self, node: Mapping[str, Any]) -> Check:
        """The check for ``node``: a predicate first (interpreted for the first
        :data:`GENERATE_AFTER` uses, then generated), the full check (compiled on first need)
        only when the predicate is not sure. Same problems as ``compile(node)``."""
        return _TieredCheck(self, node)

    def compile_ref(self, name: str) -> Check:
        try:
            return self._refs[name]
        except KeyError:
            pass
        schema = self._schemas.get(name)
        if not isinstance(schema, Mapping):
            raise DiscoveryError(f"schema {name!r} is referenced but not defined in the discovery document")
        # Register a forwarding stub first so that recursive references resolve.
        slot: list[Check] = []

        def forward(value: Any, path: Path, problems: Problems, method_id: str) -> None:
            slot[0](value, path, problems, method_id)

        self._refs[name] = forward
        check = self.compile(schema)
        slot.append(check)
        self._refs[name] = check
        return check

    def _lazy_ref(self, name: str) -> Check:
        refs = self._refs

        def lazy(value: Any, path: Path, problems: Problems, method_id: str) -> None:
            check = refs.get(name)
            if check is None:
                check = self.compile_ref(name)
            check(value, path, problems, method_id)

        return lazy

    def compile(self, node: Mapping[str, Any]) -> Check:
        cached = self._by_node.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        check = self._compile(node)
        if node.get("type") in ("object", "array"):
            # Only containers get closures of their own; scalars share cached checks and
            # $ref nodes are cached by name, so remembering them would only cost memory.
            self._by_node[id(node)] = (node, check)
        return check

    def _compile(self, node: Mapping[str, Any]) -> Check:
        if not isinstance(node, Mapping):
            raise DiscoveryError(f"a schema must be an object, got {_type_name(node)}")
        ref = node.get("$ref")
        if isinstance(ref, str):
            # Compiled when a value first reaches it (recursive and unused schemas cost
            # nothing); a cycle through a schema being compiled resolves through the
            # forwarding stub compile_ref registers before compiling.
            compiled = self._refs.get(ref)
            return compiled if compiled is not None else self._lazy_ref(ref)
        type_ = node.get("type")
        if type_ == "object":
            return self._compile_object(node)
        if type_ == "array":
            return self._compile_array(node)
        if type_ in ("string", "integer", "number", "boolean"):
            enum = node.get("enum")
            if "format" not in node and "pattern" not in node and enum is None and "minimum" not in node and "maximum" not in node:
                if type_ == "string":
                    return _check_plain_string
                if type_ == "boolean":
                    return _check_plain_bool
            check = _body_scalar_check(node, type_)
            return _scalar_node(check) if check is not None else _check_json
        # "any", a missing type, or an unknown one: any JSON value.
        return _check_json

    def _compile_array(self, node: Mapping[str, Any]) -> Check:
        items = node.get("items")
        item_check = self.compile(items) if isinstance(items, Mapping) else _check_json
        pattern = node.get("pattern")
        if isinstance(pattern, str) and isinstance(items, Mapping) and "pattern" not in items:
            # A few documents put the pattern on the array; it constrains each element.
            extra = scalar_check("string", pattern=pattern)
            inner = item_check

            def item_check(value: Any, path: Path, problems: Problems, method_id: str) -> None:
                inner(value, path, problems, method_id)
                if extra is not None and isinstance(value, str):
                    msg = extra(value)
                    if msg:
                        problems.append((render_path(path), msg, value))

        kind, fn = _entry(item_check)

        def check_array(value: Any, path: Path, problems: Problems, method_id: str) -> None:
            if type(value) is not list and not isinstance(value, (list, tuple)):
                problems.append((render_path(path), f"expected an array (list), got {_type_name(value)}", value))
                return
            if kind == _PLAIN_STRING:
                for i, item in enumerate(value):
                    if type(item) is not str and item is not None and not isinstance(item, str):
                        problems.append((render_path((path, i)), f"expected a string, got {_type_name(item)}", item))
            elif kind == _SCALAR:
                for i, item in enumerate(value):
                    if item is not None:
                        msg = fn(item)
                        if msg is not None:
                            problems.append((render_path((path, i)), msg, item))
            else:
                for i, item in enumerate(value):
                    if item is not None:
                        fn(item, (path, i), problems, method_id)

        return check_array

    def _compile_object(self, node: Mapping[str, Any]) -> Check:
        props = node.get("properties")
        addl = node.get("additionalProperties")
        addl_check: Check | None = None
        if isinstance(addl, Mapping):
            addl_check = self.compile(addl)
        elif addl is True:
            addl_check = _check_json
        if not isinstance(props, Mapping) or not props:
            if addl_check is None:
                # A free-form object (no properties declared): any JSON object.
                def check_free(value: Any, path: Path, problems: Problems, method_id: str) -> None:
                    if not isinstance(value, Mapping):
                        problems.append((render_path(path), f"expected an object (dict), got {_type_name(value)}", value))
                        return
                    _check_json(value, path, problems, method_id)

                return check_free
            map_check = addl_check
            strings_only = map_check is _check_plain_string

            def check_map(value: Any, path: Path, problems: Problems, method_id: str) -> None:
                if not isinstance(value, Mapping):
                    problems.append((render_path(path), f"expected an object (dict), got {_type_name(value)}", value))
                    return
                for k, v in value.items():
                    if type(k) is not str and not isinstance(k, str):
                        problems.append((render_path(path), f"object keys must be strings, got {_type_name(k)}", k))
                    elif v is None:
                        continue
                    elif strings_only:
                        # map<string, string> (labels, metadata): the common case, inline.
                        if type(v) is not str and not isinstance(v, str):
                            problems.append((render_path((path, k)), f"expected a string, got {_type_name(v)}", v))
                    else:
                        map_check(v, (path, k), problems, method_id)

            return check_map

        compiled: dict[str, tuple[int, Any]] = {}
        required_for: list[tuple[str, frozenset[str]]] = []
        for name, sub in props.items():
            if not isinstance(sub, Mapping):
                raise DiscoveryError(f"property {name!r} has a schema that is not an object")
            compiled[name] = _entry(self.compile(sub))
            ann = sub.get("annotations")
            if isinstance(ann, Mapping) and isinstance(ann.get("required"), list):
                required_for.append((name, frozenset(ann["required"])))
        known = ", ".join(list(compiled)[:10]) + (", ..." if len(compiled) > 10 else "")
        schema_id = node.get("id")
        where = f" of {schema_id}" if schema_id else ""
        get = compiled.get
        extra_check = addl_check
        required = tuple(required_for)

        def check_object(value: Any, path: Path, problems: Problems, method_id: str) -> None:
            if type(value) is not dict and not isinstance(value, Mapping):
                problems.append((render_path(path), f"expected an object (dict), got {_type_name(value)}", value))
                return
            for k, v in value.items():
                entry = get(k)
                if entry is None:
                    if extra_check is not None:
                        if v is not None:
                            extra_check(v, (path, k), problems, method_id)
                    else:
                        problems.append(
                            (render_path((path, k)) if isinstance(k, str) else render_path(path),
                             f"unknown field{where} (known: {known}; validate=False sends it anyway)", v)
                        )
                elif v is not None:
                    kind, fn = entry
                    if kind == _PLAIN_STRING:
                        if type(v) is not str and not isinstance(v, str):
                            problems.append((render_path((path, k)), f"expected a string, got {_type_name(v)}", v))
                    elif kind == _SCALAR:
                        msg = fn(v)
                        if msg is not None:
                            problems.append((render_path((path, k)), msg, v))
                    elif kind == _PLAIN_BOOL:
                        if v is not True and v is not False:
                            problems.append((render_path((path, k)), f"expected a boolean, got {_type_name(v)}", v))
                    else:
                        fn(v, (path, k), problems, method_id)
            if required:
                for name, methods in required:
                    if method_id in methods and value.get(name) is None:
                        problems.append((render_path((path, name)), f"required by {method_id}", None))

        return check_object


class _TieredCheck:
    """:meth:`SchemaCompiler.checker`'s check (an object rather than a closure: one per
    method with a body, so its size matters)."""

    __slots__ = ("compiler", "node", "predicate", "uses")

    def __init__(self, compiler: SchemaCompiler, node: Mapping[str, Any]) -> None:
        self.compiler = compiler
        self.node = node
        self.predicate: Predicate | None = None
        self.uses = 0

    def __call__(self, value: Any, path: Path, problems: Problems, method_id: str) -> None:
        predicate = self.predicate
        if predicate is not None:
            if predicate(value, method_id):
                return
        elif self.uses < GENERATE_AFTER:
            # Generating a predicate costs as much as a few dozen interpreted checks, and
            # most methods of a document are called rarely or never.
            self.uses += 1
            if _interpret(self.node, value, method_id, self.compiler._schemas):
                return
        else:
            predicate = self.predicate = self.compiler.compile_fast(self.node)
            if predicate(value, method_id):
                return
        # Not certainly valid: the full check finds and describes the problems (if any).
        self.compiler.compile(self.node)(value, path, problems, method_id)


def validate(instance: Any, schema: Mapping[str, Any], schemas: Mapping[str, Any] | None = None, schema_name: str | None = None) -> None:
    """Validate ``instance`` against a discovery ``schema`` (seed API).

    ``schemas`` resolves ``$ref``; ``schema_name`` names the root in messages. Raises
    :class:`~aiogoogle.excs.ValidationError` listing every problem, or returns ``None``.
    """
    compiler = SchemaCompiler(schemas)
    problems: Problems = []
    compiler.checker(schema)(instance, schema_name or "instance", problems, "")
    if problems:
        raise ValidationError(problems)


# --------------------------------------------------------------------------- fast path
#
# Most bodies are valid, and for a valid body the checks above spend their time walking
# paths and dispatching through closures only to find nothing. So each schema also gets a
# *predicate* ``(value, method_id) -> bool`` that answers "certainly valid?" without paths
# or a problem list: Python source generated per named schema, with its property checks
# inlined (plain strings and booleans by one dict lookup on the value's exact type, other
# properties by a branch number; enums and patterns by set membership and a compiled
# regex, common int and int64 values by an inline test, inline objects and arrays as
# nested loops), compiled once and cached per schema. The rule that keeps validation exactly as strict: a
# predicate returns True only when the checks above would report no problem; anything it
# is not sure about (a tuple, a Mapping that is not a dict, a str subclass, a bad value)
# returns False, and the checks above then run, unchanged, to find and describe the
# problems. So messages, paths and their order never depend on the fast path, and an
# invalid body costs one extra quick pass. $ref targets are generated lazily, the first
# time a value reaches them, so recursive schemas terminate and unused ones cost nothing.
# A schema is interpreted (same answers, nothing generated) until it has been checked
# GENERATE_AFTER times, so rarely used methods cost no generated code at all.

Predicate = Callable[[Any, str], bool]

#: A schema checked this many times by :meth:`SchemaCompiler.checker` gets its predicate
#: generated; before that the schema is interpreted (same answers, nothing kept in memory).
GENERATE_AFTER = 8


class _Unsupported(Exception):
    """A schema the generator does not handle: the predicate always defers to the checks."""


def _json_ok(value: Any) -> bool:
    """True only if :func:`_check_json` finds no problem in ``value``."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return True
    if t is float:
        return math.isfinite(value)
    if t is dict:
        for k, v in value.items():  # noqa: SIM110 - a loop is faster than all() over a generator
            if type(k) is not str or not _json_ok(v):
                return False
        return True
    if t is list:
        for v in value:  # noqa: SIM110
            if not _json_ok(v):
                return False
        return True
    return False


def _never(value: Any, method_id: str) -> bool:
    return False


def _interpret(node: Any, value: Any, mid: str, schemas: Mapping[str, Any]) -> bool:
    """The generated predicates' answer, computed by walking the schema (nothing compiled,
    nothing kept): used until a schema is checked often enough to be worth generating."""
    if not isinstance(node, Mapping):
        return False
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = schemas.get(ref)
        return isinstance(target, Mapping) and _interpret(target, value, mid, schemas)
    type_ = node.get("type")
    if type_ == "object":
        if type(value) is not dict:
            return False
        props = node.get("properties")
        addl = node.get("additionalProperties")
        has_extra = isinstance(addl, Mapping) or addl is True
        if not isinstance(props, Mapping) or not props:
            if not has_extra:
                return _json_ok(value)
            for k, x in value.items():
                if type(k) is not str:
                    return False
                if x is not None and not (_json_ok(x) if addl is True else _interpret(addl, x, mid, schemas)):
                    return False
            return True
        for k, x in value.items():
            sub = props.get(k)
            if sub is None:
                if not has_extra or k in props:
                    return False
                if x is not None and not (_json_ok(x) if addl is True else _interpret(addl, x, mid, schemas)):
                    return False
            elif x is not None and not _interpret(sub, x, mid, schemas):
                return False
        for name, sub in props.items():
            if not isinstance(sub, Mapping):
                return False  # the full check reports the malformed document
            ann = sub.get("annotations")
            if isinstance(ann, Mapping) and isinstance(ann.get("required"), list) and mid in ann["required"] and value.get(name) is None:
                return False
        return True
    if type_ == "array":
        if type(value) is not list:
            return False
        items = node.get("items")
        pattern = node.get("pattern")
        extra = None
        if isinstance(pattern, str) and isinstance(items, Mapping) and "pattern" not in items:
            extra = scalar_check("string", pattern=pattern)
        for y in value:
            if y is None:
                continue
            if not (_interpret(items, y, mid, schemas) if isinstance(items, Mapping) else _json_ok(y)):
                return False
            if extra is not None and isinstance(y, str) and extra(y) is not None:
                return False
        return True
    if type_ in ("string", "integer", "number", "boolean"):
        enum = node.get("enum")
        fmt = node.get("format")
        pattern = node.get("pattern")
        if fmt is None and pattern is None and enum is None and "minimum" not in node and "maximum" not in node:
            if type_ == "string":
                return type(value) is str
            if type_ == "boolean":
                return value is True or value is False
        check = _body_scalar_check(node, type_)
        if check is None:
            return _json_ok(value)
        return check(value) is None
    return _json_ok(value)


_KNOWN_STRING_FORMATS = frozenset(
    {"int64", "uint64", "byte", "date", "date-time", "google-datetime", "google-duration", "google-fieldmask"}
)


class _Generator:
    """Writes the source of one schema's predicate (see the section comment)."""

    def __init__(self, fast: _FastPath) -> None:
        self.fast = fast
        self.lines: list[str] = []

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def value(self, node: Any, var: str, indent: int, depth: int) -> None:
        """Statements that ``return False`` unless ``var`` (not None) certainly passes ``node``."""
        fast = self.fast
        if not isinstance(node, Mapping):
            raise _Unsupported
        ref = node.get("$ref")
        if isinstance(ref, str):
            # A call to the named schema's own predicate, generated when first reached.
            # (Inlining it here measured ~4% faster on compute's Instance but generated
            # code for every nested schema, used or not: 40% more memory once hot.)
            self.emit(indent, f"if not {fast.ref_slot(ref)}({var}, mid): return False")
            return
        type_ = node.get("type")
        if type_ == "object":
            self.object(node, var, indent, depth)
            return
        if type_ == "array":
            self.array(node, var, indent, depth)
            return
        if type_ in ("string", "integer", "number", "boolean"):
            enum = node.get("enum")
            fmt = node.get("format")
            pattern = node.get("pattern")
            bounded = "minimum" in node or "maximum" in node
            if fmt is None and pattern is None and enum is None and not bounded:
                if type_ == "string":
                    self.emit(indent, f"if type({var}) is not str: return False")
                    return
                if type_ == "boolean":
                    self.emit(indent, f"if {var} is not True and {var} is not False: return False")
                    return
            check = _body_scalar_check(node, type_)
            if check is None:
                self.emit(indent, f"if not _json_ok({var}): return False")
                return
            if type_ == "string" and fmt not in _KNOWN_STRING_FORMATS and not bounded:
                # A plain string with an enum and/or a pattern: for an exact str the check
                # above is "in the enum" and "matches the whole pattern", inlined here.
                conds = [f"type({var}) is not str"]
                if isinstance(enum, list) and enum:
                    conds.append(f"{var} not in {fast.const(frozenset(enum))}")
                regex = _compile_pattern(pattern) if isinstance(pattern, str) and pattern else None
                if regex is not None:
                    conds.append(f"{fast.const(regex.fullmatch, ('fullmatch', regex))}({var}) is None")
                self.emit(indent, f"if {' or '.join(conds)}: return False")
                return
            # Otherwise the check itself, behind an inline test for the common valid values
            # (the test implies the check would pass; anything else asks the check).
            fast_ok = None
            if enum is None and pattern is None and not bounded:
                if type_ == "integer":
                    lo, hi = _INT_RANGES.get(fmt, (None, None)) if isinstance(fmt, str) else (None, None)
                    fast_ok = f"type({var}) is int" + (f" and {lo} <= {var} <= {hi}" if lo is not None else "")
                elif type_ == "string" and fmt in ("int64", "uint64"):
                    # 1 to 18 ASCII digits: a decimal within both ranges.
                    fast_ok = f"type({var}) is str and len({var}) < 19 and {var}.isdigit() and {var}.isascii()"
            if fast_ok is not None:
                self.emit(indent, f"if not ({fast_ok}) and {fast.const(check)}({var}) is not None: return False")
            else:
                self.emit(indent, f"if {fast.const(check)}({var}) is not None: return False")
            return
        self.emit(indent, f"if not _json_ok({var}): return False")

    def array(self, node: Mapping[str, Any], var: str, indent: int, depth: int) -> None:
        items = node.get("items")
        item = f"y{depth}"
        self.emit(indent, f"if type({var}) is not list: return False")
        self.emit(indent, f"for {item} in {var}:")
        self.emit(indent + 1, f"if {item} is None: continue")
        if isinstance(items, Mapping):
            self.value(items, item, indent + 1, depth + 1)
        else:
            self.emit(indent + 1, f"if not _json_ok({item}): return False")
        pattern = node.get("pattern")
        if isinstance(pattern, str) and isinstance(items, Mapping) and "pattern" not in items:
            # The full check applies scalar_check("string", pattern=...) to str items: for a
            # str that is exactly "matches the whole pattern" (nothing if it cannot compile).
            regex = _compile_pattern(pattern) if pattern else None
            if regex is not None:
                fullmatch = self.fast.const(regex.fullmatch, ("fullmatch", regex))
                self.emit(indent + 1, f"if isinstance({item}, str) and {fullmatch}({item}) is None: return False")

    def object(self, node: Mapping[str, Any], var: str, indent: int, depth: int) -> None:
        """Statements that ``return False`` unless ``var`` certainly passes an object schema."""
        fast = self.fast
        k, x, c = f"k{depth}", f"x{depth}", f"c{depth}"
        props = node.get("properties")
        addl = node.get("additionalProperties")
        has_extra = isinstance(addl, Mapping) or addl is True
        self.emit(indent, f"if type({var}) is not dict: return False")
        if not isinstance(props, Mapping) or not props:
            if not has_extra:
                self.emit(indent, f"if not _json_ok({var}): return False")
                return
            self.emit(indent, f"for {k}, {x} in {var}.items():")
            self.emit(indent + 1, f"if type({k}) is not str: return False")
            self.emit(indent + 1, f"if {x} is None: continue")
            self.extra(addl, x, indent + 1, depth + 1)
            return
        # One table per object: a plain string or boolean property maps to its exact type
        # (checked by identity), any other property to the number of its branch below.
        table: dict[str, Any] = {}
        complex_: list[Mapping[str, Any]] = []
        required: list[tuple[str, frozenset[str]]] = []
        for name, sub in props.items():
            if not isinstance(sub, Mapping):
                raise _Unsupported
            ann = sub.get("annotations")
            if isinstance(ann, Mapping) and isinstance(ann.get("required"), list):
                required.append((name, frozenset(ann["required"])))
            plain = "$ref" not in sub and not any(key in sub for key in ("format", "pattern", "enum", "minimum", "maximum"))
            if plain and sub.get("type") == "string":
                table[name] = str
            elif plain and sub.get("type") == "boolean":
                table[name] = bool
            else:
                table[name] = len(complex_)
                complex_.append(sub)
        if not has_extra:
            # Unknown fields are problems even with a None value (Google rejects them).
            known = frozenset(props)
            self.emit(indent, f"if not {fast.const(known.issuperset, ('issuperset', known))}({var}): return False")
        self.emit(indent, f"for {k}, {x} in {var}.items():")
        body = indent + 1
        self.emit(body, f"{c} = {fast.const(table.get, ('get', id(table)))}({k})")
        self.emit(body, f"if {c} is type({x}): continue")
        self.emit(body, f"if {x} is None: continue")  # after the common case: None is rare
        if has_extra:
            self.emit(body, f"if {c} is None:")  # an unknown field
            self.extra(addl, x, body + 1, depth + 1)
            self.emit(body + 1, "continue")
        # Here c is a branch number, or the type of a plain property whose value has another
        # type: comparing a type with a number raises TypeError, which the predicate answers
        # with False, and the chains of == end in "else: return False".
        if complex_:
            self.tree(complex_, 0, len(complex_), c, x, body, depth)
        else:
            self.emit(body, "return False")
        for name, methods in required:
            self.emit(indent, f"if mid in {fast.const(methods)} and {var}.get({name!r}) is None: return False")

    def extra(self, addl: Any, var: str, indent: int, depth: int) -> None:
        if addl is True:
            self.emit(indent, f"if not _json_ok({var}): return False")
        else:
            self.value(addl, var, indent, depth)

    def tree(self, props: list[Mapping[str, Any]], lo: int, hi: int, c: str, x: str, indent: int, depth: int) -> None:
        """Dispatch on the branch number ``c`` in [lo, hi) by halving, then inline checks."""
        if hi - lo <= 3:
            for i in range(lo, hi):
                self.emit(indent, f"{'if' if i == lo else 'elif'} {c} == {i}:")
                self.value(props[i], x, indent + 1, depth + 1)
            self.emit(indent, "else:")
            self.emit(indent + 1, "return False")
            return
        mid = (lo + hi) // 2
        self.emit(indent, f"if {c} < {mid}:")
        self.tree(props, lo, mid, c, x, indent + 1, depth)
        self.emit(indent, "else:")
        self.tree(props, mid, hi, c, x, indent + 1, depth)


class _FastPath:
    """The predicates of one :class:`SchemaCompiler`, sharing one namespace."""

    __slots__ = ("_consts", "_nodes", "_refs", "ns", "schemas")

    def __init__(self, schemas: Mapping[str, Any]) -> None:
        self.schemas = schemas
        self.ns: dict[str, Any] = {"_json_ok": _json_ok, "__builtins__": {"type": type, "len": len, "str": str, "int": int, "list": list, "dict": dict, "isinstance": isinstance, "TypeError": TypeError}}
        self._consts: dict[Any, str] = {}
        self._refs: dict[str, Predicate] = {}
        self._nodes: dict[int, tuple[Any, Predicate]] = {}

    def const(self, value: Any, key: Any = None) -> str:
        """A global name bound to ``value`` (equal frozensets, the same object, or the same
        ``key`` share a name)."""
        if key is None:
            key = (frozenset, value) if type(value) is frozenset else id(value)  # alive in ns: ids stay unique
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = f"K{len(self._consts)}"
            self.ns[name] = value
        return name

    def ref_slot(self, ref: str) -> str:
        """A global name that calls the predicate of schema ``ref``, generated on first use."""
        key = ("$ref", ref)
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = f"R{len(self._consts)}"
            found = self._refs.get(ref)
            if found is None:
                ns = self.ns

                def lazy(value: Any, method_id: str) -> bool:
                    predicate = ns[name] = self.ref(ref)
                    return predicate(value, method_id)

                found = lazy
            self.ns[name] = found
        return name

    def ref(self, ref: str) -> Predicate:
        found = self._refs.get(ref)
        if found is None:
            schema = self.schemas.get(ref)
            if not isinstance(schema, Mapping):
                raise DiscoveryError(f"schema {ref!r} is referenced but not defined in the discovery document")
            found = self._refs[ref] = self.node(schema, ref)
        return found

    def node(self, node: Mapping[str, Any], ref: str | None = None) -> Predicate:
        """The predicate for a schema node (``ref``: the name it has); never raises for odd
        schemas (see _Unsupported)."""
        target = node.get("$ref") if isinstance(node, Mapping) else None
        if isinstance(target, str):
            return self.ref(target)
        cached = self._nodes.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        try:
            gen = _Generator(self)
            gen.emit(1, "try:")
            gen.value(node, "v", 2, 0)
            gen.emit(1, "except TypeError:")  # see _Generator.object: never "valid" by accident
            gen.emit(2, "return False")
            gen.emit(1, "return True")
            label = ref or (str(node.get("id") or node.get("type") or "value") if isinstance(node, Mapping) else "value")
            predicate = self._define(gen, label)
        except (_Unsupported, DiscoveryError):
            predicate = _never
        self._nodes[id(node)] = (node, predicate)
        return predicate

    def _define(self, gen: _Generator, label: str) -> Predicate:
        name = f"P{len(self.ns)}"
        source = f"def {name}(v, mid):\n" + "\n".join(gen.lines) + "\n"
        exec(compile(source, f"<aiogoogle schema {label}>", "exec"), self.ns)
        predicate: Predicate = self.ns.pop(name)
        return predicate
