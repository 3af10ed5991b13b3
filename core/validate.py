"""Validation of parameters and bodies against discovery schemas.

Theory of operation
-------------------
Discovery schemas are a small JSON-Schema draft 3 dialect (docs/protocol.md §1.5): ``type``,
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
import math
import re
import reprlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]

from .excs import DiscoveryError, ValidationError


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

#: Objects and arrays a value may nest (the root counts as one): the default limit of
#: protobuf's JSON parser, the reference implementation of the proto3 JSON mapping that
#: Google's APIs use ("Message too deep", ``kDefaultMaxRecursionDepth = 100`` in
#: https://github.com/protocolbuffers/protobuf/blob/v3.21.12/src/google/protobuf/util/internal/json_stream_parser.cc).
#: It also bounds the recursion of every check here.
MAX_DEPTH = 100
#: Levels of inline schemas (``properties``, ``items``, ``additionalProperties``) one
#: schema may nest before a ``$ref``. The deepest of the 610 documents googleapiclient
#: ships nests 11 (books.v1 ``Dictlayerdata``).
MAX_SCHEMA_DEPTH = 32
#: Characters a ``pattern`` may have. The longest of the 2,446 distinct patterns in the
#: documents googleapiclient ships has 517.
MAX_PATTERN_LENGTH = 4096

Path = Any  # a str root, or a (parent, key) pair; rendered only when a problem is found
Problems = list[tuple[str, str, Any]]
ScalarCheck = Callable[[Any], "str | None"]


class Check(Protocol):
    """A compiled schema check: appends ``(path, message, value)`` for every problem.

    ``depth`` is the number of objects and arrays around ``value`` (0 at the root)."""

    def __call__(self, value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0, /) -> None: ...


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$@-]{1,80}\Z")


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


def json_path(where: str, key: Any) -> str:
    """``where`` (a JSON path into the document, ``""`` at its root) extended by ``key``:
    ``schemas.File``, ``parameters['$.xgafv']``."""
    if isinstance(key, str) and _PLAIN_KEY.match(key):
        return f"{where}.{key}" if where else key
    return f"{where}[{brief(key)}]"


_BRIEF = reprlib.Repr()
_BRIEF.maxlevel = 3
_BRIEF.maxstring = 60
_BRIEF.maxother = 60
_BRIEF.maxlong = 40
_BRIEF.maxlist = _BRIEF.maxtuple = _BRIEF.maxset = _BRIEF.maxfrozenset = _BRIEF.maxdict = 6


def brief(value: Any) -> str:
    """A short ``repr()`` of a value for a message: bounded in length and depth, and never
    raising (a document can hold a 5 MB string or an int too long to print)."""
    try:
        return _BRIEF.repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


class _Shown:
    """Stands in for a problem's value whose ``repr()`` cannot be built (a list nested
    past the interpreter's recursion limit, an int too long to print): shows as
    :func:`brief` shows the value."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def safe_value(value: Any) -> Any:
    """``value`` itself when its ``repr()`` can be built, else a stand-in that shows a
    short form: for the values of :class:`~aiogoogle.excs.ValidationError` problems,
    whose message shows them."""
    t = type(value)
    if t is str or t is bool or t is float or value is None:
        return value
    if t is int:
        # repr() refuses ints of more than 4,300 digits (sys.int_info.default_max_str_digits).
        return value if value.bit_length() < 14_000 else _Shown(f"<int of {value.bit_length()} bits>")
    try:
        repr(value)
    except Exception:
        return _Shown(brief(value))
    return value


def _doc_error(where: str, key: str, message: str) -> DiscoveryError:
    return DiscoveryError(f"{json_path(where, key)}: {message}")


# --------------------------------------------------------------------------- patterns
#
# Python's re backtracks: "^(a+)+$" against "aaa...ab" takes exponential time. RE2
# guarantees time linear in the text (https://github.com/google/re2/wiki/WhyRE2), and its
# syntax is the one discovery documents use. Only "does the whole value match" is asked,
# so submatches are never tracked (never_capture), and RE2's own error log is off: a
# pattern it refuses becomes our DiscoveryError.

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.never_capture = True

Matcher = Callable[[str], bool]
_PATTERNS: dict[str, Matcher | str] = {}
_CACHE_MAX = 8192  # entries in each module-level cache before it starts again


_RECENT_MAX = 16  # strings each pattern remembers as matching
_RECENT_CHARS = 256  # longer strings are not remembered


def _fullmatcher(compiled: Any) -> Matcher:
    """``text -> bool``: does ``compiled`` match the whole of ``text``?

    The package's ``fullmatch`` builds a match object and maps byte offsets back to
    characters (about 9 us a call); asking the underlying RE2 object with both ends
    anchored answers the same question in about 1 us. If a later release changes those
    internals, the public call is used. Text is handed over as UTF-8; a lone surrogate
    (which no JSON text can carry) is passed through rather than raising.

    Values repeat from call to call (a project, a zone, a resource name, the fields of
    bodies built in a loop), so the last few short strings found to match are remembered:
    a str cannot change, so the answer holds, and the set is bounded. Only exact strs are
    looked up (a subclass could claim to equal one)."""
    raw = getattr(compiled, "_regexp", None)
    anchor = getattr(getattr(re2, "_Anchor", None), "ANCHOR_BOTH", None)
    match = getattr(raw, "Match", None)
    encode = str.encode
    if match is None or anchor is None:
        public = compiled.fullmatch

        def match_public(text: str) -> bool:
            return public(encode(text, "utf-8", "surrogatepass")) is not None

        test = match_public
    else:

        def match_raw(text: str) -> bool:
            data = encode(text, "utf-8", "surrogatepass")
            return match(anchor, data, 0, len(data))[0][0] >= 0  # type: ignore[no-any-return]

        test = match_raw
    recent: set[str] = set()

    def fullmatch(text: str) -> bool:
        exact = type(text) is str
        if exact and text in recent:
            return True
        if not test(text):
            return False
        if exact and len(text) <= _RECENT_CHARS:
            if len(recent) >= _RECENT_MAX:
                recent.clear()
            recent.add(text)
        return True

    return fullmatch


def _pattern_matcher(pattern: str) -> Matcher | str:
    """The whole-value matcher of an RE2 ``pattern``, or why it cannot be used (cached)."""
    found = _PATTERNS.get(pattern)
    if found is not None:
        return found
    result: Matcher | str
    if len(pattern) > MAX_PATTERN_LENGTH:
        result = f"a pattern of {len(pattern)} characters; at most {MAX_PATTERN_LENGTH} are accepted"
    else:
        try:
            compiled = re2.compile(pattern, _RE2_OPTIONS)
        except (re2.error, UnicodeError) as exc:
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            result = f"not an RE2 regular expression ({str(reason)[:200]}): {brief(pattern)}"
        else:
            result = _fullmatcher(compiled)
    if len(_PATTERNS) >= _CACHE_MAX:
        _PATTERNS.clear()
    _PATTERNS[pattern] = result
    return result


def _shown_pattern(pattern: str) -> str:
    return pattern if len(pattern) <= 200 else pattern[:197] + "..."


# --------------------------------------------------------------------------- scalars

_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_DECIMAL = re.compile(r"-?[0-9]+\Z")
# More significant digits than any 64-bit value has: such a decimal string is out of every
# range, and int() is never asked to convert it (int() refuses more than 4,300 digits, and
# takes quadratic time where that limit is lifted).
_MAX_INT_DIGITS = 40
# An int longer than this cannot be written as JSON text: str() refuses more than 4,300
# digits by default (sys.int_info.default_max_str_digits), about 14,284 bits.
_MAX_INT_BITS = 14_000


def _too_long(n: int) -> str:
    return f"an integer of {n.bit_length()} bits is too long to write as JSON text (at most {_MAX_INT_BITS} bits)"
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
                if len(value.lstrip("-0")) > _MAX_INT_DIGITS:
                    return f"out of {fmt} range [{lo}, {hi}]"
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


def _integer_check(fmt: str | None, *, lenient: bool = False) -> ScalarCheck:
    lo, hi = _INT_RANGES.get(fmt or "", (None, None))
    label = fmt or "integer"

    def check_integer(value: Any) -> str | None:
        if isinstance(value, bool):
            return f"expected an integer ({label}), got bool"
        if isinstance(value, int):
            n = value
        elif lenient and isinstance(value, str) and _DECIMAL.match(value):
            if lo is None:
                return None  # any integer: no need to convert it
            if len(value.lstrip("-0")) > _MAX_INT_DIGITS:
                return f"out of {label} range [{lo}, {hi}]"
            n = int(value)
        else:
            hint = " (the schema says integer: pass an int)" if isinstance(value, str) and _DECIMAL.match(value) else ""
            return f"expected an integer ({label}), got {_type_name(value)}{hint}"
        if lo is not None:
            if n < lo or n > hi:  # type: ignore[operator]
                return f"out of {label} range [{lo}, {hi}]"
        elif n.bit_length() > _MAX_INT_BITS:
            return _too_long(n)
        return None

    return check_integer


def _number_check(fmt: str | None, *, in_body: bool) -> ScalarCheck:
    label = fmt or "number"

    def check_number(value: Any) -> str | None:
        if isinstance(value, bool):
            return f"expected a number ({label}), got bool"
        if isinstance(value, int):
            return _too_long(value) if value.bit_length() > _MAX_INT_BITS else None
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
        # Numbers are refused even for parameters (aiogoogle 5.x refused calendarId=1): a
        # number where the schema says string is usually the wrong argument.
        return f"expected a string, got {_type_name(value)}"

    return check_string


_SCALARS: dict[tuple[Any, ...], ScalarCheck | None] = {}
_BOUND_MAX_CHARS = 64  # a minimum or maximum written with more characters is not a number


def _scalar_args(
    type_: Any, fmt: Any, pattern: Any, enum: Any, minimum: Any, maximum: Any, where: str
) -> tuple[str | None, str | None, str | None, tuple[str, ...] | None, Any, Any]:
    """The constraints of one scalar schema, each checked to have its JSON type (else a
    DiscoveryError naming ``where`` and the keyword); ``enum`` as a tuple."""
    for key, value in (("type", type_), ("format", fmt)):
        if value is not None and not isinstance(value, str):
            raise _doc_error(where, key, f"must be a string, got {_type_name(value)} {brief(value)}")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise _doc_error(where, "pattern", f"must be a string (an RE2 regular expression), got {_type_name(pattern)} {brief(pattern)}")
        if pattern:
            matcher = _pattern_matcher(pattern)
            if isinstance(matcher, str):
                raise _doc_error(where, "pattern", matcher)
    enum_t: tuple[str, ...] | None = None
    if enum is not None:
        if not isinstance(enum, (list, tuple)):
            raise _doc_error(where, "enum", f"must be a list of strings, got {_type_name(enum)} {brief(enum)}")
        for i, item in enumerate(enum):
            if not isinstance(item, str):
                raise _doc_error(where, "enum", f"must be a list of strings; item {i} is {_type_name(item)} {brief(item)}")
        enum_t = tuple(enum)
    for key, value in (("minimum", minimum), ("maximum", maximum)):
        if value is None:
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number and not (isinstance(value, str) and len(value) <= _BOUND_MAX_CHARS and _to_number(value) is not None):
            raise _doc_error(where, key, f"must be a number or a numeric string, got {_type_name(value)} {brief(value)}")
    return type_, fmt, pattern, enum_t, minimum, maximum


def scalar_constraints(spec: Mapping[str, Any], where: str) -> tuple[str | None, str | None, str | None, tuple[str, ...] | None, Any, Any]:
    """``(type, format, pattern, enum, minimum, maximum)`` of a parameter or schema node
    ``spec`` found at JSON path ``where`` in the document, each checked to have its JSON
    type (else a :class:`~aiogoogle.excs.DiscoveryError` naming the keyword's path)."""
    get = spec.get
    return _scalar_args(get("type"), get("format"), get("pattern"), get("enum"), get("minimum"), get("maximum"), where)


def scalar_check(
    type_: str | None,
    fmt: str | None = None,
    *,
    pattern: str | None = None,
    enum: tuple[str, ...] | list[str] | None = None,
    minimum: str | float | None = None,
    maximum: str | float | None = None,
    lenient: bool = False,
    in_body: bool = False,
    where: str = "schema",
) -> ScalarCheck | None:
    """Return a (cached) check ``value -> problem message or None`` for one scalar schema.

    ``lenient`` is for query and path parameters, whose values travel as text: decimal
    text is accepted for integers and ``"true"``/``"false"`` for booleans (the same text
    on the wire; aiogoogle 5.x refused them, so 5.x code never relies on the refusal).
    Numbers are never accepted for strings, lenient or not (5.x refused ``calendarId=1``). Returns ``None`` when
    the schema constrains nothing.

    Raises:
        DiscoveryError: a constraint of the wrong JSON type, or a pattern RE2 refuses or
            longer than :data:`MAX_PATTERN_LENGTH`; the message names ``where`` (the
            schema's JSON path in its document) and the keyword.
    """
    if isinstance(enum, list):
        enum = tuple(enum)
    key = (type_, fmt, pattern, enum, minimum, maximum, lenient, in_body)
    try:
        return _SCALARS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable constraint, refused below
        pass
    type_, fmt, pattern, enum, minimum, maximum = _scalar_args(type_, fmt, pattern, enum, minimum, maximum, where)
    base: ScalarCheck | None
    if type_ == "string":
        base = _string_format_check(fmt)
        if base is None:
            base = _string_check(lenient=lenient)
    elif type_ == "integer":
        base = _integer_check(fmt, lenient=lenient)
    elif type_ == "number":
        base = _number_check(fmt, in_body=in_body)
    elif type_ == "boolean":
        base = _bool_check(lenient=lenient)
    else:
        base = None
    checks: list[ScalarCheck] = [base] if base is not None else []
    if enum:
        allowed = frozenset(enum)
        shown = ", ".join(e if len(e) <= 40 else e[:37] + "..." for e in enum[:12]) + (", ..." if len(enum) > 12 else "")

        def check_enum(value: Any) -> str | None:
            if isinstance(value, str) and value in allowed:
                return None
            if isinstance(value, bool) and str(value).lower() in allowed:
                return None
            return f"not one of the allowed values ({shown})"

        checks.append(check_enum)
    if pattern:
        matcher = _pattern_matcher(pattern)
        assert not isinstance(matcher, str)  # _scalar_args refused it
        shown_pattern = _shown_pattern(pattern)

        def check_pattern(value: Any) -> str | None:
            if isinstance(value, str) and not matcher(value):
                return f"does not match the pattern {shown_pattern}"
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

        def check_string_value(value: Any) -> str | None:
            if type(value) is not str:
                msg = type_check(value)
                if msg is not None:
                    return msg
            for c in value_checks:
                msg = c(value)
                if msg is not None:
                    return msg
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
        # Unbounded: as far as an int can be written as JSON text.
        lo_all = max(lows) if lows else 1 - (1 << _MAX_INT_BITS)
        hi_all = min(highs) if highs else (1 << _MAX_INT_BITS) - 1
        full = result

        def check_int_fast(value: Any) -> str | None:
            if type(value) is int and lo_all <= value <= hi_all:
                return None
            return full(value)

        result = check_int_fast
    if len(_SCALARS) >= _CACHE_MAX:
        # Bounded: a process that reads many documents keeps only the recent checks (the
        # compiled checks keep their own; entries are found again or made anew).
        _SCALARS.clear()
        _SCALAR_OF_NODE.clear()
        _NODE_OF_SCALAR.clear()
    _SCALARS[key] = result
    return result


def _body_scalar_check(node: Mapping[str, Any], type_: str) -> ScalarCheck | None:
    """:func:`scalar_check` for a scalar schema node of a body: the one place the full
    checks, the interpreted predicate and the generated one read its constraints from
    (the node's tree has been checked, so the constraints have their JSON types)."""
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
        if len(value) <= _MAX_INT_DIGITS:
            try:
                return int(value)
            except ValueError:
                pass
        try:
            # Long digit strings as floats: int() would refuse them (or take quadratic time).
            return float(value)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- JSON values

_JSON_SCALARS = (str, int, float, bool, type(None))
_TOO_DEEP = f"nested more than {MAX_DEPTH} objects and arrays deep (Google's JSON parser refuses deeper bodies)"


def _check_json(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
    """``type: any``: the value must be representable as JSON."""
    t = type(value)
    if t is str or t is bool or value is None:
        return
    if t is int:
        if value.bit_length() > _MAX_INT_BITS:
            problems.append((render_path(path), _too_long(value), value))
        return
    if t is float:
        if not math.isfinite(value):
            problems.append((render_path(path), "JSON cannot carry NaN or infinity", value))
        return
    if isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            problems.append((render_path(path), _TOO_DEEP, value))
            return
        for k, v in value.items():
            if not isinstance(k, str):
                problems.append((render_path(path), f"JSON object keys must be strings, got {_type_name(k)}", k))
                continue
            _check_json(v, (path, k), problems, method_id, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH:
            problems.append((render_path(path), _TOO_DEEP, value))
            return
        for i, v in enumerate(value):
            _check_json(v, (path, i), problems, method_id, depth + 1)
        return
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _MAX_INT_BITS:
            problems.append((render_path(path), _too_long(value), value))
        return
    if isinstance(value, _JSON_SCALARS):
        return
    hint = ""
    if isinstance(value, (_dt.datetime, _dt.date)):
        hint = " (send value.isoformat())"
    elif isinstance(value, (bytes, bytearray)):
        hint = " (base64-encode bytes)"
    problems.append((render_path(path), f"{_type_name(value)} is not a JSON value{hint}", value))


def _check_plain_string(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
    if type(value) is not str and not isinstance(value, str):
        problems.append((render_path(path), f"expected a string, got {_type_name(value)}", value))


def _check_plain_bool(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
    if value is not True and value is not False:
        problems.append((render_path(path), f"expected a boolean, got {_type_name(value)}", value))


def _scalar_node(check: ScalarCheck) -> Check:
    # Shared like the scalar checks themselves: thousands of properties have the same one.
    cached = _NODE_OF_SCALAR.get(check)
    if cached is not None:
        return cached

    def node(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
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


# --------------------------------------------------------------------------- the document


def _check_tree(node: Any, where: str, level: int, schemas: Mapping[str, Any]) -> None:
    """Check a schema and its inline schemas (not the targets of its ``$ref`` s, which are
    checked when a value reaches them): see "The document is checked too" above. Raises a
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
            _check_tree(sub, json_path(inner, name), level + 1, schemas)
    addl = node.get("additionalProperties")
    if addl is not None and not isinstance(addl, bool):
        _check_tree(addl, json_path(where, "additionalProperties"), level + 1, schemas)
    items = node.get("items")
    if items is not None:
        _check_tree(items, json_path(where, "items"), level + 1, schemas)
    ann = node.get("annotations")
    if ann is not None:
        if not isinstance(ann, Mapping):
            raise _doc_error(where, "annotations", f"must be an object, got {_type_name(ann)} {brief(ann)}")
        required = ann.get("required")
        if required is not None and not (isinstance(required, list) and all(isinstance(m, str) for m in required)):
            raise _doc_error(json_path(where, "annotations"), "required", f"must be a list of method ids (strings), got {brief(required)}")


class SchemaCompiler:
    """Compiles the schemas of one discovery document into checks, lazily and once.

    ``compile_ref(name)`` returns the check for the named schema; ``compile(node)`` for an
    inline schema node. Checks take ``(value, path, problems, method_id)``; ``method_id``
    lets ``annotations.required`` (required only for some methods) apply.

    Every schema is checked (:func:`_check_tree`) before it is first used, by any tier;
    ``where`` arguments name a node's JSON path in the document for those messages.

    Raises:
        DiscoveryError: ``schemas`` is neither an object nor ``None``.
    """

    __slots__ = ("_by_node", "_fast", "_refs", "_roots", "_schemas", "_targets")

    def __init__(self, schemas: Mapping[str, Any] | None) -> None:
        if schemas is None:
            schemas = {}
        elif not isinstance(schemas, Mapping):
            raise DiscoveryError(f"schemas: must be an object mapping schema names to schemas, got {_type_name(schemas)} {brief(schemas)}")
        self._schemas = schemas
        self._refs: dict[str, Check] = {}
        self._by_node: dict[int, tuple[Any, Check]] = {}
        self._fast: _FastPath | None = None
        self._targets: dict[str, tuple[str, Mapping[str, Any]]] = {}
        self._roots: dict[int, Any] = {}

    def resolve(self, name: str) -> Mapping[str, Any]:
        """The schema ``$ref: name`` stands for (checked; a chain of plain ``$ref`` s is
        followed to its end)."""
        return self._resolve(name)[1]

    def _resolve(self, name: str) -> tuple[str, Mapping[str, Any]]:
        found = self._targets.get(name)
        if found is not None:
            return found
        chain = [name]
        current = name
        while True:
            if not isinstance(current, str) or current not in self._schemas:
                raise DiscoveryError(f"schema {brief(current)} is referenced but not defined in the discovery document")
            schema = self._schemas[current]
            where = json_path("schemas", current)
            target = schema.get("$ref") if isinstance(schema, Mapping) else None
            if target is None:
                break
            if not isinstance(target, str):
                raise _doc_error(where, "$ref", f"must be the name of a schema (a string), got {_type_name(target)} {brief(target)}")
            if target in chain:
                shown = " -> ".join(brief(n) for n in [*chain[:8], target])
                raise _doc_error(where, "$ref", f"the chain of $ref {shown} never reaches a schema")
            chain.append(target)
            current = target
        _check_tree(schema, where, 0, self._schemas)
        found = (current, schema)
        for alias in chain:
            self._targets[alias] = found
        return found

    def _checked_root(self, node: Any, where: str) -> None:
        """Check an inline root schema (a method's ``request``) once."""
        if type(node) is dict and len(node) == 1:
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in self._schemas:
                return  # {"$ref": name}, nearly every request: nothing to remember
        if id(node) not in self._roots or self._roots[id(node)] is not node:
            _check_tree(node, where, 0, self._schemas)
            self._roots[id(node)] = node  # kept, so the id stays this node's

    def compile_fast(self, node: Mapping[str, Any], where: str = "schema") -> Predicate:
        """A predicate ``(value, method_id) -> bool`` that is True only when ``compile(node)``
        would report no problem (False means "run the full check"; see the fast-path notes)."""
        self._checked_root(node, where)
        fast = self._fast
        if fast is None:
            fast = self._fast = _FastPath(self.resolve)
        return fast.node(node)

    def checker(self, node: Mapping[str, Any], where: str = "schema") -> Check:
        """The check for ``node``: a predicate first (interpreted for the first
        :data:`GENERATE_AFTER` uses, then generated), the full check (compiled on first need)
        only when the predicate is not sure. Same problems as ``compile(node)``.

        Raises:
            DiscoveryError: ``node`` (at JSON path ``where``) is malformed.
        """
        self._checked_root(node, where)
        return _TieredCheck(self, node)

    def compile_ref(self, name: str) -> Check:
        try:
            return self._refs[name]
        except KeyError:
            pass
        final, schema = self._resolve(name)
        check = self._refs.get(final)
        if check is None:
            # Register a forwarding stub first so that recursive references resolve.
            slot: list[Check] = []

            def forward(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
                slot[0](value, path, problems, method_id, depth)

            self._refs[final] = forward
            try:
                check = self._compile(schema)
            except BaseException:
                del self._refs[final]
                raise
            slot.append(check)
            self._refs[final] = check
        self._refs[name] = check
        return check

    def _lazy_ref(self, name: str) -> Check:
        refs = self._refs

        def lazy(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            check = refs.get(name)
            if check is None:
                check = self.compile_ref(name)
            check(value, path, problems, method_id, depth)

        return lazy

    def compile(self, node: Mapping[str, Any], where: str = "schema") -> Check:
        """The full check for the schema ``node`` (``where``: its JSON path, for messages
        about the document)."""
        self._checked_root(node, where)
        return self._compile_node(node)

    def _compile_node(self, node: Mapping[str, Any]) -> Check:
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
        item_check: Check = self._compile_node(items) if isinstance(items, Mapping) else _check_json
        pattern = node.get("pattern")
        if isinstance(pattern, str) and isinstance(items, Mapping) and "pattern" not in items:
            # A few documents put the pattern on the array; it constrains each element.
            extra = scalar_check("string", pattern=pattern)
            inner = item_check

            def item_check(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
                inner(value, path, problems, method_id, depth)
                if extra is not None and isinstance(value, str):
                    msg = extra(value)
                    if msg:
                        problems.append((render_path(path), msg, value))

        kind, fn = _entry(item_check)

        def check_array(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            if type(value) is not list and not isinstance(value, (list, tuple)):
                problems.append((render_path(path), f"expected an array (list), got {_type_name(value)}", value))
                return
            if depth >= MAX_DEPTH:
                problems.append((render_path(path), _TOO_DEEP, value))
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
                inner_depth = depth + 1
                for i, item in enumerate(value):
                    if item is not None:
                        fn(item, (path, i), problems, method_id, inner_depth)

        return check_array

    def _compile_object(self, node: Mapping[str, Any]) -> Check:
        props = node.get("properties")
        addl = node.get("additionalProperties")
        addl_check: Check | None = None
        if isinstance(addl, Mapping):
            addl_check = self._compile_node(addl)
        elif addl is True:
            addl_check = _check_json
        if not isinstance(props, Mapping) or not props:
            if addl_check is None:
                # A free-form object (no properties declared): any JSON object.
                def check_free(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
                    if not isinstance(value, Mapping):
                        problems.append((render_path(path), f"expected an object (dict), got {_type_name(value)}", value))
                        return
                    _check_json(value, path, problems, method_id, depth)

                return check_free
            map_check = addl_check
            strings_only = map_check is _check_plain_string

            def check_map(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
                if not isinstance(value, Mapping):
                    problems.append((render_path(path), f"expected an object (dict), got {_type_name(value)}", value))
                    return
                if depth >= MAX_DEPTH:
                    problems.append((render_path(path), _TOO_DEEP, value))
                    return
                inner_depth = depth + 1
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
                        map_check(v, (path, k), problems, method_id, inner_depth)

            return check_map

        compiled: dict[str, tuple[int, Any]] = {}
        required_for: list[tuple[str, frozenset[str]]] = []
        for name, sub in props.items():
            compiled[name] = _entry(self._compile_node(sub))
            ann = sub.get("annotations")
            if isinstance(ann, Mapping) and isinstance(ann.get("required"), list):
                required_for.append((name, frozenset(ann["required"])))
        known = ", ".join(n if len(n) <= 40 else n[:37] + "..." for n in list(compiled)[:10]) + (", ..." if len(compiled) > 10 else "")
        schema_id = node.get("id")
        where = f" of {schema_id if isinstance(schema_id, str) and len(schema_id) <= 80 else brief(schema_id)}" if schema_id else ""
        get = compiled.get
        extra_check = addl_check
        required = tuple(required_for)

        def check_object(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            if type(value) is not dict and not isinstance(value, Mapping):
                problems.append((render_path(path), f"expected an object (dict), got {_type_name(value)}", value))
                return
            if depth >= MAX_DEPTH:
                problems.append((render_path(path), _TOO_DEEP, value))
                return
            inner_depth = depth + 1
            for k, v in value.items():
                entry = get(k)
                if entry is None:
                    if extra_check is not None:
                        if v is not None:
                            extra_check(v, (path, k), problems, method_id, inner_depth)
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
                        fn(v, (path, k), problems, method_id, inner_depth)
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
        self.node = node  # checked by SchemaCompiler.checker
        self.predicate: Predicate | None = None
        self.uses = 0

    def __call__(self, value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
        predicate = self.predicate
        compiler = self.compiler
        if predicate is not None:
            if predicate(value, method_id, depth):
                return
        elif self.uses < GENERATE_AFTER:
            # Generating a predicate costs as much as a few dozen interpreted checks, and
            # most methods of a document are called rarely or never.
            self.uses += 1
            if _interp(self.node, value, method_id, compiler.resolve, depth):
                return
        else:
            predicate = self.predicate = compiler.compile_fast(self.node)
            if predicate(value, method_id, depth):
                return
        # Not certainly valid: the full check finds and describes the problems (if any).
        compiler.compile(self.node)(value, path, problems, method_id, depth)


def validate(instance: Any, schema: Mapping[str, Any], schemas: Mapping[str, Any] | None = None, schema_name: str | None = None) -> None:
    """Validate ``instance`` against a discovery ``schema`` (seed API).

    ``schemas`` resolves ``$ref``; ``schema_name`` names the root in messages. Raises
    :class:`~aiogoogle.excs.ValidationError` listing every problem, or returns ``None``;
    :class:`~aiogoogle.excs.DiscoveryError` when ``schema`` or ``schemas`` is malformed.
    """
    compiler = SchemaCompiler(schemas)
    problems: Problems = []
    compiler.checker(schema)(instance, schema_name or "instance", problems, "")
    if problems:
        raise ValidationError([(path, message, safe_value(value)) for path, message, value in problems])


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

class Predicate(Protocol):
    """``(value, method_id, depth=0) -> bool``: True only when the full check would find
    no problem in ``value``, which ``depth`` objects and arrays enclose."""

    def __call__(self, value: Any, method_id: str, depth: int = 0, /) -> bool: ...


#: A schema checked this many times by :meth:`SchemaCompiler.checker` gets its predicate
#: generated; before that the schema is interpreted (same answers, nothing kept in memory).
GENERATE_AFTER = 8


class _Unsupported(Exception):
    """A schema the generator does not handle: the predicate always defers to the checks."""


def _json_ok(value: Any, depth: int = 0) -> bool:
    """True only if :func:`_check_json` finds no problem in ``value``."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return bool(value.bit_length() <= _MAX_INT_BITS)
    if t is float:
        return math.isfinite(value)
    if t is dict:
        if depth >= MAX_DEPTH:
            return False
        depth += 1
        for k, v in value.items():  # noqa: SIM110 - a loop is faster than all() over a generator
            if type(k) is not str or not _json_ok(v, depth):
                return False
        return True
    if t is list:
        if depth >= MAX_DEPTH:
            return False
        depth += 1
        for v in value:  # noqa: SIM110
            if not _json_ok(v, depth):
                return False
        return True
    return False


def _never(value: Any, method_id: str, depth: int = 0) -> bool:
    return False


def _interpret(node: Any, value: Any, mid: str, schemas: Mapping[str, Any] | None, depth: int = 0) -> bool:
    """The generated predicates' answer for ``node`` (a schema of the document whose
    ``schemas`` are given), computed by walking it; raises DiscoveryError for a malformed
    document, as the full check does."""
    compiler = SchemaCompiler(schemas)
    compiler._checked_root(node, "schema")
    return _interp(node, value, mid, compiler.resolve, depth)


def _interp(node: Mapping[str, Any], value: Any, mid: str, resolve: Callable[[str], Mapping[str, Any]], depth: int) -> bool:
    """:func:`_interpret` on a checked schema (nothing compiled, nothing kept): used until
    a schema is checked often enough to be worth generating. ``resolve`` gives (and
    checks) the target of a ``$ref``."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        return _interp(resolve(ref), value, mid, resolve, depth)
    type_ = node.get("type")
    if type_ == "object":
        if type(value) is not dict or depth >= MAX_DEPTH:
            return False
        inner = depth + 1
        props = node.get("properties")
        addl = node.get("additionalProperties")
        addl_node = addl if isinstance(addl, Mapping) else None
        has_extra = addl_node is not None or addl is True
        if not isinstance(props, Mapping) or not props:
            if not has_extra:
                return _json_ok(value, depth)
            for k, x in value.items():
                if type(k) is not str:
                    return False
                if x is not None and not (_json_ok(x, inner) if addl_node is None else _interp(addl_node, x, mid, resolve, inner)):
                    return False
            return True
        for k, x in value.items():
            sub = props.get(k)
            if sub is None:
                if not has_extra or k in props:
                    return False
                if x is not None and not (_json_ok(x, inner) if addl_node is None else _interp(addl_node, x, mid, resolve, inner)):
                    return False
            elif x is not None and not _interp(sub, x, mid, resolve, inner):
                return False
        for name, sub in props.items():
            ann = sub.get("annotations")
            if isinstance(ann, Mapping) and isinstance(ann.get("required"), list) and mid in ann["required"] and value.get(name) is None:
                return False
        return True
    if type_ == "array":
        if type(value) is not list or depth >= MAX_DEPTH:
            return False
        inner = depth + 1
        items = node.get("items")
        pattern = node.get("pattern")
        extra = None
        if isinstance(pattern, str) and isinstance(items, Mapping) and "pattern" not in items:
            extra = scalar_check("string", pattern=pattern)
        for y in value:
            if y is None:
                continue
            if not (_interp(items, y, mid, resolve, inner) if isinstance(items, Mapping) else _json_ok(y, inner)):
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
            return _json_ok(value, depth)
        return check(value) is None
    return _json_ok(value, depth)


_KNOWN_STRING_FORMATS = frozenset(
    {"int64", "uint64", "byte", "date", "date-time", "google-datetime", "google-duration", "google-fieldmask"}
)


# Python refuses a function with more than 20 nested blocks (each inline object or array is
# a for loop) or 100 levels of indentation: an inline schema deeper than _INLINE_DEPTH
# containers, or starting past _INLINE_INDENT levels of indentation, gets a predicate of
# its own, called like a $ref.
_INLINE_DEPTH = 8
_INLINE_INDENT = 40


class _Generator:
    """Writes the source of one schema's predicate (see the section comment).

    In the source, ``d`` is the number of objects and arrays around ``v``; a value at static
    nesting ``depth`` below ``v`` has ``d + depth`` around it. The function starts with
    ``if d > limit: return False`` so that no container it walks inline is deeper than
    :data:`MAX_DEPTH` (``deepest`` is the static depth of the deepest one); calls it makes
    (``$ref`` targets, :func:`_json_ok`, split-off inline schemas) get their own depth."""

    def __init__(self, fast: _FastPath) -> None:
        self.fast = fast
        self.lines: list[str] = []
        self.deepest = 0

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    @staticmethod
    def at(depth: int) -> str:
        return f"d + {depth}" if depth else "d"

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
            self.emit(indent, f"if not {fast.ref_slot(ref)}({var}, mid, {self.at(depth)}): return False")
            return
        type_ = node.get("type")
        if type_ in ("object", "array") and depth and (depth >= _INLINE_DEPTH or indent >= _INLINE_INDENT):
            self.emit(indent, f"if not {fast.node_slot(node)}({var}, mid, {self.at(depth)}): return False")
            return
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
                self.emit(indent, f"if not _json_ok({var}, {self.at(depth)}): return False")
                return
            if type_ == "string" and fmt not in _KNOWN_STRING_FORMATS and not bounded:
                # A plain string with an enum and/or a pattern: for an exact str the check
                # above is "in the enum" and "matches the whole pattern", inlined here.
                conds = [f"type({var}) is not str"]
                if isinstance(enum, list) and enum:
                    conds.append(f"{var} not in {fast.const(frozenset(enum))}")
                if isinstance(pattern, str) and pattern:
                    conds.append(f"not {self.matcher(pattern)}({var})")
                self.emit(indent, f"if {' or '.join(conds)}: return False")
                return
            # Otherwise the check itself, behind an inline test for the common valid values
            # (the test implies the check would pass; anything else asks the check).
            fast_ok = None
            if enum is None and pattern is None and not bounded:
                if type_ == "integer":
                    lo, hi = _INT_RANGES.get(fmt, (None, None)) if isinstance(fmt, str) else (None, None)
                    fast_ok = f"type({var}) is int and " + (f"{lo} <= {var} <= {hi}" if lo is not None else f"{var}.bit_length() <= {_MAX_INT_BITS}")
                elif type_ == "string" and fmt in ("int64", "uint64"):
                    # 1 to 18 ASCII digits: a decimal within both ranges.
                    fast_ok = f"type({var}) is str and len({var}) < 19 and {var}.isdigit() and {var}.isascii()"
            if fast_ok is not None:
                self.emit(indent, f"if not ({fast_ok}) and {fast.const(check)}({var}) is not None: return False")
            else:
                self.emit(indent, f"if {fast.const(check)}({var}) is not None: return False")
            return
        self.emit(indent, f"if not _json_ok({var}, {self.at(depth)}): return False")

    def matcher(self, pattern: str) -> str:
        matcher = _pattern_matcher(pattern)
        if isinstance(matcher, str):
            raise _Unsupported  # never reached: the document check refused the pattern
        return self.fast.const(matcher, ("fullmatch", pattern))

    def array(self, node: Mapping[str, Any], var: str, indent: int, depth: int) -> None:
        self.deepest = max(self.deepest, depth)
        items = node.get("items")
        item = f"y{depth}"
        self.emit(indent, f"if type({var}) is not list: return False")
        self.emit(indent, f"for {item} in {var}:")
        self.emit(indent + 1, f"if {item} is None: continue")
        if isinstance(items, Mapping):
            self.value(items, item, indent + 1, depth + 1)
        else:
            self.emit(indent + 1, f"if not _json_ok({item}, {self.at(depth + 1)}): return False")
        pattern = node.get("pattern")
        if isinstance(pattern, str) and isinstance(items, Mapping) and "pattern" not in items and pattern:
            # The full check applies scalar_check("string", pattern=...) to str items: for a
            # str that is exactly "matches the whole pattern".
            self.emit(indent + 1, f"if isinstance({item}, str) and not {self.matcher(pattern)}({item}): return False")

    def object(self, node: Mapping[str, Any], var: str, indent: int, depth: int) -> None:
        """Statements that ``return False`` unless ``var`` certainly passes an object schema."""
        self.deepest = max(self.deepest, depth)
        fast = self.fast
        k, x, c = f"k{depth}", f"x{depth}", f"c{depth}"
        props = node.get("properties")
        addl = node.get("additionalProperties")
        has_extra = isinstance(addl, Mapping) or addl is True
        self.emit(indent, f"if type({var}) is not dict: return False")
        if not isinstance(props, Mapping) or not props:
            if not has_extra:
                self.emit(indent, f"if not _json_ok({var}, {self.at(depth)}): return False")
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
            if not isinstance(sub, Mapping) or not isinstance(name, str):
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
            self.emit(indent, f"if mid in {fast.const(methods)} and {var}.get({fast.const(name, ('name', name))}) is None: return False")

    def extra(self, addl: Any, var: str, indent: int, depth: int) -> None:
        if addl is True:
            self.emit(indent, f"if not _json_ok({var}, {self.at(depth)}): return False")
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
    """The predicates of one :class:`SchemaCompiler`, sharing one namespace. ``resolve``
    gives (and checks) the schema a ``$ref`` names."""

    __slots__ = ("_consts", "_nodes", "_refs", "ns", "resolve")

    def __init__(self, resolve: Callable[[str], Mapping[str, Any]]) -> None:
        self.resolve = resolve
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

                def lazy(value: Any, method_id: str, depth: int = 0) -> bool:
                    predicate = ns[name] = self.ref(ref)
                    return predicate(value, method_id, depth)

                found = lazy
            self.ns[name] = found
        return name

    def node_slot(self, node: Mapping[str, Any]) -> str:
        """A global name that calls the predicate of the inline schema ``node``, generated
        on first use (deep inline schemas are split into functions of their own)."""
        key = ("node", id(node))  # the closure below keeps node alive: its id stays unique
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = f"N{len(self._consts)}"
            ns = self.ns

            def lazy(value: Any, method_id: str, depth: int = 0) -> bool:
                predicate = ns[name] = self.node(node)
                return predicate(value, method_id, depth)

            ns[name] = lazy
        return name

    def ref(self, ref: str) -> Predicate:
        found = self._refs.get(ref)
        if found is None:
            try:
                schema = self.resolve(ref)
            except DiscoveryError:
                found = _never  # the full check raises it, with its path
            else:
                found = self.node(schema, ref)
            self._refs[ref] = found
        return found

    def node(self, node: Mapping[str, Any], ref: str | None = None) -> Predicate:
        """The predicate for a checked schema node (``ref``: the name it has); never raises
        for odd schemas (see _Unsupported)."""
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
            # No container walked inline may be deeper than MAX_DEPTH (see _Generator).
            gen.lines.insert(0, f"    if d > {MAX_DEPTH - 1 - gen.deepest}: return False")
            label = ref or (node.get("id") or node.get("type") or "value" if isinstance(node, Mapping) else "value")
            predicate = self._define(gen, label if isinstance(label, str) and len(label) <= 80 else brief(label))
        except (_Unsupported, DiscoveryError):
            predicate = _never
        self._nodes[id(node)] = (node, predicate)
        return predicate

    def _define(self, gen: _Generator, label: str) -> Predicate:
        name = f"P{len(self.ns)}"
        source = f"def {name}(v, mid, d=0):\n" + "\n".join(gen.lines) + "\n"
        exec(compile(source, f"<aiogoogle schema {label}>", "exec"), self.ns)
        predicate: Predicate = self.ns.pop(name)
        return predicate


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
