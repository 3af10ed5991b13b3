"""Hypothesis strategies that generate valid calls for any discovery method.

Use them to fuzz your own code that builds requests, or to check that what you send
always validates::

    from hypothesis import given
    from aiogoogle.testing.strategies import arguments_for

    drive = GoogleAPI(drive_document)

    @given(arguments_for(drive.files.list))
    def test_list_calls_build(kwargs):
        request = drive.files.list(**kwargs)
        assert request.url.startswith(drive.root_url)

Values follow the method's own schemas: types and formats (``int32`` ranges, ``int64`` as
ints or decimal strings, RFC 3339 timestamps, durations, field masks, base64), ``enum``,
``pattern`` (generated to match the whole value), ``minimum``/``maximum``, repeated
parameters, and request bodies built from the ``request`` schema with ``$ref`` resolved
to a bounded depth (recursive schemas stop there).
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from aiogoogle._url import format_scalar, path_value_problem, quote_path_value
from aiogoogle.resource import CALL_OPTIONS as _RESERVED
from aiogoogle.resource import Method

__all__ = ["arguments_for", "body_for", "json_values", "parameter_value", "schema_value"]

_IDENT = st.from_regex(r"[a-z][a-zA-Z0-9]{0,8}", fullmatch=True)
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=16)
_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


def _bounds(spec: Mapping[str, Any], lo: int | None, hi: int | None) -> tuple[int | None, int | None]:
    def num(v: Any) -> int | None:
        try:
            return int(float(v))
        except (TypeError, ValueError):
            return None

    mn, mx = num(spec.get("minimum")), num(spec.get("maximum"))
    if mn is not None:
        lo = mn if lo is None else max(lo, mn)
    if mx is not None:
        hi = mx if hi is None else min(hi, mx)
    return lo, hi


_datetimes = st.datetimes(
    min_value=_dt.datetime(1970, 1, 1), max_value=_dt.datetime(2200, 12, 31), timezones=st.just(_dt.UTC)
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + (f".{d.microsecond:06d}" if d.microsecond else "") + "Z")
_dates = st.dates(min_value=_dt.date(1, 1, 1), max_value=_dt.date(9999, 12, 31)).map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
_durations = st.builds(
    lambda s, n, neg: f"{'-' if neg and (s or n) else ''}{s}{'.' + str(n).rjust(9, '0').rstrip('0') if n else ''}s",
    st.integers(0, 10**6),
    st.integers(0, 999_999_999),
    st.booleans(),
)
_field_masks = st.lists(st.lists(_IDENT, min_size=1, max_size=3).map(".".join), min_size=1, max_size=3).map(",".join)
_base64 = st.binary(max_size=24).flatmap(
    lambda b: st.sampled_from([base64.b64encode(b).decode(), base64.urlsafe_b64encode(b).decode().rstrip("=")])
)


def _pattern_text(pattern: str) -> st.SearchStrategy[str] | None:
    # Discovery patterns are RE2 syntax, whose \d, \w and \s are ASCII classes (as the
    # validator, which uses RE2, and Google's servers read them); Python's are Unicode
    # classes unless re.ASCII is given.
    try:
        return st.from_regex(re.compile(pattern, re.ASCII), fullmatch=True)
    except (re.error, Exception):
        return None


def _scalar(spec: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    type_ = spec.get("type")
    fmt = spec.get("format")
    enum = spec.get("enum")
    if isinstance(enum, list) and enum:
        return st.sampled_from(enum)
    pattern = spec.get("pattern")
    if type_ == "string":
        if fmt in ("int64", "uint64"):
            lo, hi = _bounds(spec, *_INT_RANGES[fmt])
            ints = st.integers(lo, hi)
            return st.one_of(ints, ints.map(str))
        if fmt == "byte":
            return _base64
        if fmt == "date":
            return _dates
        if fmt in ("date-time", "google-datetime"):
            return _datetimes
        if fmt == "google-duration":
            return _durations
        if fmt == "google-fieldmask":
            return _field_masks
        if isinstance(pattern, str):
            strat = _pattern_text(pattern)
            if strat is not None:
                return strat
        return _TEXT
    if type_ == "integer":
        lo, hi = _bounds(spec, *_INT_RANGES.get(fmt or "", (None, None)))
        if lo is None and hi is None:
            lo, hi = -(2**31), 2**31 - 1
        return st.integers(lo, hi)
    if type_ == "number":
        return st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32 if fmt == "float" else 64))
    if type_ == "boolean":
        return st.booleans()
    return json_values()


def parameter_value(spec: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A valid value for one discovery parameter (a list for repeated parameters)."""
    one = _scalar(spec)
    if spec.get("repeated"):
        return st.lists(one, min_size=1, max_size=3)
    return one


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Any JSON value (for ``type: any``)."""
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9), st.floats(allow_nan=False, allow_infinity=False), _TEXT)
    return st.recursive(
        leaves,
        lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(_IDENT, children, max_size=3)),
        max_leaves=max_leaves,
    )


def schema_value(
    schema: Mapping[str, Any],
    schemas: Mapping[str, Any],
    *,
    method_id: str = "",
    depth: int = 3,
) -> st.SearchStrategy[Any]:
    """A valid JSON value for a discovery schema node (``$ref`` resolved up to ``depth``)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = schemas.get(ref)
        if not isinstance(target, Mapping):
            return st.nothing()
        if depth <= 0:
            return _minimal(target, schemas, method_id, 4)
        return st.deferred(lambda: schema_value(target, schemas, method_id=method_id, depth=depth - 1))
    type_ = schema.get("type")
    if type_ == "object":
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        if isinstance(props, Mapping) and props:
            required: dict[str, st.SearchStrategy[Any]] = {}
            optional: dict[str, st.SearchStrategy[Any]] = {}
            for name, sub in props.items():
                if not isinstance(sub, Mapping):
                    continue
                ann = sub.get("annotations")
                needed = isinstance(ann, Mapping) and method_id in (ann.get("required") or [])
                strat = schema_value(sub, schemas, method_id=method_id, depth=depth - 1) if depth > 0 else _minimal(sub, schemas, method_id, 4)
                (required if needed else optional)[name] = strat
            return st.fixed_dictionaries(required, optional=optional)
        if isinstance(addl, Mapping):
            if depth <= 0:
                return st.just({})
            return st.dictionaries(_IDENT, schema_value(addl, schemas, method_id=method_id, depth=depth - 1), max_size=2)
        return st.dictionaries(_IDENT, json_values(3), max_size=2)
    if type_ == "array":
        items = schema.get("items")
        if not isinstance(items, Mapping) or depth <= 0:
            return st.just([])
        inner = schema_value(items, schemas, method_id=method_id, depth=depth - 1)
        if isinstance(schema.get("pattern"), str) and items.get("type") == "string" and "pattern" not in items:
            pattern_strategy = _pattern_text(schema["pattern"])
            if pattern_strategy is not None:
                inner = pattern_strategy
        return st.lists(inner, max_size=2)
    if type_ in ("string", "integer", "number", "boolean"):
        return _scalar(schema)
    return json_values(3)


def _minimal(node: Mapping[str, Any], schemas: Mapping[str, Any], method_id: str, budget: int) -> st.SearchStrategy[Any]:
    """The smallest valid value once the depth budget is spent: scalars as usual, empty
    containers, and objects with only the properties this method requires."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = schemas.get(ref)
        if not isinstance(target, Mapping) or budget <= 0:
            return st.just({})
        return _minimal(target, schemas, method_id, budget - 1)
    type_ = node.get("type")
    if type_ in ("string", "integer", "number", "boolean"):
        return _scalar(node)
    if type_ == "array":
        return st.just([])
    props = node.get("properties")
    if type_ == "object" and isinstance(props, Mapping) and budget > 0:
        required = {}
        for name, sub in props.items():
            ann = sub.get("annotations") if isinstance(sub, Mapping) else None
            if isinstance(ann, Mapping) and method_id in (ann.get("required") or []):
                required[name] = _minimal(sub, schemas, method_id, budget - 1)
        return st.fixed_dictionaries(required)
    return st.just({}) if type_ == "object" else json_values(2)


def body_for(method: Method, *, depth: int = 3) -> st.SearchStrategy[Any]:
    """A valid request body for ``method`` (``st.none()`` when it takes none)."""
    request = method["request"] if "request" in method._method_specs else None
    if not isinstance(request, Mapping):
        return st.none()
    schemas = method._ctx.doc.get("schemas") or {}
    return schema_value(request, schemas, method_id=method.id, depth=depth)


def arguments_for(
    method: Method,
    *,
    optional: bool = True,
    body: bool = True,
    depth: int = 3,
    python_names: bool = False,
) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments that make a valid call of ``method``.

    Required parameters are always present; optional ones (the method's own, not the
    global system parameters) appear at random when ``optional``. The body goes in
    ``json`` when ``body`` and the method takes one. With ``python_names`` the Python
    aliases are used as keywords instead of the discovery names.
    """
    plan = method._compiled()
    aliases = {v: k for k, v in method.python_names().items()}
    required: dict[str, st.SearchStrategy[Any]] = {}
    opt: dict[str, st.SearchStrategy[Any]] = {}
    reserved = dict(plan.path.variables)
    for name, param in plan.method_exact.items():
        key = name
        if python_names or name in _RESERVED:
            key = aliases.get(name, name)
        strat = parameter_value(param.spec)
        if param.in_path:
            # A schema pattern (or free text) can match "", "." or "a//b", which no URL
            # may carry as a path value (aiogoogle._url refuses them whatever validate says).
            strat = strat.filter(functools.partial(_fits_path, reserved=reserved.get(name, False)))
        if param.required or param.in_path:
            required[key] = strat
        elif optional and name not in _SYSTEM:
            opt[key] = strat
    base = st.fixed_dictionaries(required, optional=opt)
    if body and "request" in method._method_specs:
        return st.tuples(base, body_for(method, depth=depth)).map(lambda t: {**t[0], "json": t[1]} if t[1] is not None else t[0])
    return base


def _fits_path(value: Any, reserved: bool) -> bool:
    text = value if isinstance(value, str) else format_scalar(value)
    return path_value_problem(quote_path_value(text, reserved)) is None


_SYSTEM = frozenset({"alt", "callback", "key", "oauth_token", "access_token", "uploadType", "upload_protocol"})
