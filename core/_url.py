"""URL templates and query strings, by Google's rules.

Path templates (docs/protocol.md §1.7, ``google/api/http.proto``): in the 28,137 method paths of
the 610 real documents only two forms occur. ``{var}`` percent-encodes every byte but the
unreserved set ``[-_.~0-9a-zA-Z]`` (so ``/`` becomes ``%2F`` and a value can never add a
path segment); ``{+var}`` keeps ``/`` as well and nothing else (so ``?`` and ``#`` can never
end the path early - Google deliberately departs from RFC 6570 reserved expansion here).
Values are substituted by *name*, never by position.

A value must not change *which* resource the URL names. RFC 3986 §5.2.4 lets any client,
proxy or server remove dot segments (and §2.3/§6.2.2.2 make ``%2E`` equal to ``.``), so a
segment ``..`` or ``.`` from a value moves the request to another resource
(``b/bk/o/..`` is the bucket ``bk``), and an empty segment names another one too
(``b/bk/o/`` is the object list). :meth:`PathTemplate.expand` therefore refuses, whether or
not schema validation is on, a value whose text on the wire has an empty, ``.`` or ``..``
segment (a ``{var}`` value is one segment; a ``{+var}`` value is split at ``/``, so a
leading, trailing or doubled ``/`` is refused as well), and a value left by a custom
``safe`` set with characters that cannot stand in a path (RFC 3986 §3.3: ``?`` and ``#``
would end it). Values with dots that are not whole segments (``a.b``, ``...``, ``.x``) pass.

Query strings follow what Google's servers expect and googleapiclient sends: UTF-8,
``application/x-www-form-urlencoded`` (space as ``+``), booleans as ``true``/``false``,
repeated parameters as repeated keys, ``None`` dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from sys import intern  # the same literals and names recur across a document's methods
from typing import Any
from urllib.parse import quote

from .excs import DiscoveryError, ValidationError

__all__ = ["PathTemplate", "encode_query", "encode_query_value", "path_value_problem", "quote_path_value"]

_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*\Z").match
_UNRESERVED_SLASH = re.compile(r"[A-Za-z0-9_.~/-]*\Z").match
_QUERY_SAFE = re.compile(r"[A-Za-z0-9_.~-]*\Z").match
_EXPRESSION = re.compile(r"\{([^{}]*)\}")
# An empty, "." or ".." segment anywhere in a "/"-separated text (RFC 3986 §5.2.4).
_BAD_SEGMENT = re.compile(r"(?:\A|/)(\.{0,2})(?:/|\Z)").search
_DOT_SEGMENTS = frozenset({"", ".", ".."})
# What RFC 3986 §3.3 allows in a path: pchar (unreserved, pct-encoded, sub-delims, ":", "@")
# and "/". Only a caller's own ``safe`` set can leave anything else unencoded.
_PATH_TEXT = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*\Z").match
_NOT_PATH_CHAR = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9._~!$&'()*+,;=:@/%-]").search
_PCT_DOT = re.compile(r"%2[Ee]")

# Percent-encoding by table: urllib's quote() walks the bytes in Python, one call per byte;
# str.translate does the same mapping in C (about 4x faster on typical values). Each table
# maps a byte to itself when it is unreserved (RFC 3986: the same set urllib keeps) and to
# "%XX" (upper-case hex, as urllib) otherwise; text is first turned into its UTF-8 bytes,
# held one byte per character, so non-ASCII text is encoded exactly as quote() would.
_UNRESERVED_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_PCT_TABLE = [chr(b) if b in _UNRESERVED_BYTES else f"%{b:02X}" for b in range(256)]
_PCT_SLASH_TABLE = list(_PCT_TABLE)
_PCT_SLASH_TABLE[0x2F] = "/"
_FORM_TABLE = list(_PCT_TABLE)
_FORM_TABLE[0x20] = "+"  # application/x-www-form-urlencoded, as quote_plus


def _percent_encode(text: str, table: list[str]) -> str:
    """``quote(text, safe="")`` (or ``safe="/"``, or ``quote_plus``), per ``table``."""
    if not text.isascii():
        # A lone surrogate raises UnicodeEncodeError here, as it does in quote().
        text = text.encode().decode("latin-1")
    return text.translate(table)


def quote_path_value(value: str, reserved: bool, safe: str | None = None) -> str:
    """Encode one path variable: ``{x}`` (``reserved=False``) or ``{+x}`` (``reserved=True``).

    ``safe`` overrides the characters left unencoded (aiogoogle's ``path_params_safe_chars``).
    """
    if safe is not None:
        return quote(value, safe=safe)
    if reserved:
        if _UNRESERVED_SLASH(value):
            return value
        return _percent_encode(value, _PCT_SLASH_TABLE)
    if _UNRESERVED(value):
        return value
    return _percent_encode(value, _PCT_TABLE)


def _has_bad_segment(text: str) -> bool:
    """``_BAD_SEGMENT(text)`` for the common case, by string tests (a third of the time)."""
    if not text or text[0] == "/" or text[-1] == "/" or "//" in text:
        return True
    if text[0] != "." and "/." not in text:
        return False  # no segment starts with "."
    return not _DOT_SEGMENTS.isdisjoint(text.split("/"))


def path_value_problem(wire: str) -> str | None:
    """Why ``wire``, the encoded text of one path value, would change the resource the URL
    names, or ``None`` when it is safe (see the module docstring)."""
    if not _PATH_TEXT(wire):
        bad = _NOT_PATH_CHAR(wire)
        if bad is None or bad.group() == "%":
            return "leaves a '%' unencoded that does not start a %XX escape (RFC 3986 §2.1)"
        return f"leaves {bad.group()!r} unencoded, which cannot stand in a URL path (RFC 3986 §3.3)"
    if "%" in wire:
        # What the server sees: %2E is "." (RFC 3986 §2.3), so "%2E%2E" is "..".
        wire = _PCT_DOT.sub(".", wire)
    found = _BAD_SEGMENT(wire)
    if found is None:
        return None
    segment = found.group(1)
    if found.start() == 0 and found.end() == len(wire):  # the whole value
        if not segment:
            return "must not be empty: an empty path segment makes the URL name another resource"
        return f"cannot be {segment!r}: dot segments are removed on the way (RFC 3986 §5.2.4), so the URL would name another resource"
    if not segment:
        return "has an empty segment (a leading, trailing or doubled '/'), which makes the URL name another resource"
    return f"has a {segment!r} segment: dot segments are removed on the way (RFC 3986 §5.2.4), so the URL would name another resource"


def _refuse(name: str, value: Any, reason: str) -> ValidationError:
    return ValidationError([(name, reason, value)])


class PathTemplate:
    """A method ``path`` split once into literals and variables, expanded by name."""

    __slots__ = ("literals", "template", "variables")

    def __init__(self, template: str, shared: dict[Any, Any] | None = None) -> None:
        """``shared``: a table (one per document) through which equal tuples are shared."""
        self.template = template
        if shared is None:
            shared = {}
        literals: list[str] = []
        variables: list[tuple[str, bool]] = []
        pos = 0
        for m in _EXPRESSION.finditer(template):
            literals.append(intern(template[pos : m.start()]))
            expr = m.group(1)
            reserved = expr.startswith("+")
            name = expr[1:] if reserved else expr
            if not name or any(c in name for c in "#./;?&,*:=") or expr[:1] in "#./;?&":
                # Only {var} and {+var} occur in Google's documents (docs/protocol.md §1.7).
                raise DiscoveryError(f"unsupported URL template expression {{{expr}}} in path {template!r}")
            pair = (intern(name), reserved)
            variables.append(shared.setdefault(pair, pair))
            pos = m.end()
        literals.append(intern(template[pos:]))
        # Equal tuples are shared: a document repeats the same variables and literals in
        # many methods (memory: benchmarks/bench_build.py).
        lits, names = tuple(literals), tuple(variables)
        self.literals: tuple[str, ...] = shared.setdefault(lits, lits)
        self.variables: tuple[tuple[str, bool], ...] = shared.setdefault(names, names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.variables)

    def expand(self, values: dict[str, Any], safe_chars: dict[str, str] | None = None) -> str:
        """Substitute ``values`` by name, percent-encoded by Google's rule (``safe_chars``:
        per variable, the characters to leave unencoded instead).

        Raises :class:`~aiogoogle.excs.ValidationError` naming the variable when a value
        is missing or would make the URL name another resource: an empty, ``.`` or ``..``
        segment on the wire, or a character a path cannot hold (module docstring).
        """
        lits = self.literals
        if not self.variables:
            return lits[0]
        out = [lits[0]]
        for i, (name, reserved) in enumerate(self.variables):
            value = values.get(name)
            if value is None:
                # An absent value would leave an empty segment (the collection's URL).
                raise ValidationError([(name, "path parameter is missing")])
            text = value if type(value) is str else format_scalar(value)
            if not safe_chars and (_UNRESERVED_SLASH if reserved else _UNRESERVED)(text):
                # Nothing to encode (the common case, without a call). A {var} text has
                # no "/" here, so it is one segment and only "", "." and ".." are wrong.
                if _has_bad_segment(text) if reserved else (text in _DOT_SEGMENTS):
                    raise _refuse(name, value, path_value_problem(text) or "")
                out.append(text)
            else:
                out.append(_encode(name, value, text, reserved, safe_chars.get(name) if safe_chars else None))
            out.append(lits[i + 1])
        return "".join(out)


def _encode(name: str, value: Any, text: str, reserved: bool, safe: Any) -> str:
    """The wire text of one path value that needs encoding, checked."""
    if safe is not None and not isinstance(safe, str):
        raise _refuse(f"path_params_safe_chars[{name!r}]", safe, "must be a string of characters to leave unencoded")
    try:
        wire = quote_path_value(text, reserved, safe)
    except UnicodeEncodeError:
        # A lone surrogate (e.g. from a bad decode) has no UTF-8 form to send.
        raise _refuse(name, value, "is not valid Unicode text (it holds a lone surrogate), so it has no UTF-8 form to send") from None
    problem = path_value_problem(wire)
    if problem is not None:
        raise _refuse(name, value, problem)
    return wire

def format_scalar(value: Any) -> str:
    """The text form of one parameter value on the wire."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def encode_query_value(value: Any) -> str:
    """One query value (or name), form-encoded as ``quote_plus(text, safe="")``."""
    if type(value) is str:
        text = value
    elif type(value) is int:
        return str(value)  # digits and "-" only: nothing to encode
    else:
        text = format_scalar(value)
    if _QUERY_SAFE(text):
        return text
    return _percent_encode(text, _FORM_TABLE)


def encode_query(pairs: Iterable[tuple[str, Any]]) -> str:
    """Encode ``(name, value)`` pairs; list/tuple/set values become repeated keys and
    ``None`` values (also inside lists) are dropped."""
    out: list[str] = []
    for name, value in pairs:
        key = name if _QUERY_SAFE(name) else _percent_encode(name, _FORM_TABLE)
        if isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                if item is not None:
                    out.append(f"{key}={encode_query_value(item)}")
        elif value is not None:
            out.append(f"{key}={encode_query_value(value)}")
    return "&".join(out)
