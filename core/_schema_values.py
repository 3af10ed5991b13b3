"""Values against one scalar schema, and JSON values: the checks every validation tier shares.

A *scalar check* is ``value -> problem message or None`` for one ``type``/``format`` with its
``pattern``, ``enum`` and ``minimum``/``maximum``; :func:`scalar_check` builds and caches
them (thousands of identical ``string/int64`` nodes share one). The rules they enforce are
listed in :mod:`aiogoogle.validate`. Patterns are matched by RE2, in time linear in the
value. Also here: "any JSON value" in both forms (problem-collecting and yes/no), paths
and the short forms of values that messages show.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import reprlib
from collections.abc import Callable, Mapping
from typing import Any

import re2  # type: ignore[import-untyped]

from .excs import DiscoveryError

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
#: Caches keyed by scalar checks (the full checks' wrappers): emptied with ``_SCALARS``.
CLEARED_WITH_SCALARS: list[dict[Any, Any]] = []
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
        lo_all, hi_all = int_range(fmt, minimum, maximum)
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
        for cache in CLEARED_WITH_SCALARS:
            cache.clear()
    _SCALARS[key] = result
    return result


def int_range(fmt: str | None, minimum: Any, maximum: Any) -> tuple[int | float, int | float]:
    """``(lo, hi)``: an exact int ``lo <= n <= hi`` passes ``scalar_check("integer", fmt,
    minimum=..., maximum=...)`` (the format's range and the bounds; unbounded, as far as an
    int can be written as JSON text). The one statement of that range for every tier."""
    int_lo, int_hi = _INT_RANGES.get(fmt or "", (None, None))
    lows = [b for b in (int_lo, _to_number(minimum)) if b is not None]
    highs = [b for b in (int_hi, _to_number(maximum)) if b is not None]
    return (max(lows) if lows else 1 - (1 << _MAX_INT_BITS)), (min(highs) if highs else (1 << _MAX_INT_BITS) - 1)


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

