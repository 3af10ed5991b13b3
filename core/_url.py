"""URL templates and query strings, by Google's rules.

Path templates (PROTOCOL.md §1.7, ``google/api/http.proto``): in the 28,137 method paths of
the 610 real documents only two forms occur. ``{var}`` percent-encodes every byte but the
unreserved set ``[-_.~0-9a-zA-Z]`` (so ``/`` becomes ``%2F`` and a value can never add a
path segment); ``{+var}`` keeps ``/`` as well and nothing else (so ``?`` and ``#`` can never
end the path early - Google deliberately departs from RFC 6570 reserved expansion here).
Values are substituted by *name*, never by position.

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

from .excs import DiscoveryError

__all__ = ["PathTemplate", "encode_query", "encode_query_value", "quote_path_value"]

_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*\Z").match
_UNRESERVED_SLASH = re.compile(r"[A-Za-z0-9_.~/-]*\Z").match
_QUERY_SAFE = re.compile(r"[A-Za-z0-9_.~-]*\Z").match
_EXPRESSION = re.compile(r"\{([^{}]*)\}")

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
                # Only {var} and {+var} occur in Google's documents (PROTOCOL.md §1.7).
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
        """Substitute ``values`` by name; a missing variable expands to the empty string
        (callers check ``required`` first)."""
        lits = self.literals
        if not self.variables:
            return lits[0]
        out = [lits[0]]
        for i, (name, reserved) in enumerate(self.variables):
            value = values.get(name)
            if value is not None:
                text = value if type(value) is str else format_scalar(value)
                if not safe_chars and (_UNRESERVED_SLASH if reserved else _UNRESERVED)(text):
                    out.append(text)  # nothing to encode (the common case, without a call)
                else:
                    out.append(quote_path_value(text, reserved, safe_chars.get(name) if safe_chars else None))
            out.append(lits[i + 1])
        return "".join(out)


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
