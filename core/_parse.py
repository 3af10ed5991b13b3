"""Reading numbers and JSON that came from a server, without leaving our exception hierarchy.

Headers and bodies come from servers the client does not control, so every parse of them
must end in a value or in an error the caller chooses, never in a ``ValueError``,
``RecursionError`` or ``OverflowError`` from deep inside Python:

* ``str.isdigit()`` is true for superscripts (``"²"``) and other Unicode digits that
  ``int()`` rejects, or reads as digits of another script (``"٣"`` is 3). HTTP's numbers are
  ``1*DIGIT`` (``Content-Length``, RFC 9110 §8.6; ``delta-seconds``, §10.2.3), with
  ``DIGIT = %x30-39``, RFC 5234's core rule (appendix B.1) that RFC 9110 §1.2 imports,
  so only ASCII digits are accepted here, and only up to a length that fits the use
  (``int()`` of more than 4300 digits raises ``ValueError``: CPython's limit against
  quadratic-time conversion, https://docs.python.org/3/library/stdtypes.html#int-max-str-digits).
* ``json.loads`` recurses once per nesting level and raises ``RecursionError`` for a body of
  a thousand ``[``; it raises ``ValueError`` for anything malformed (including undecodable
  bytes and numbers too long to convert). :func:`loads` turns both into the caller's error;
  :func:`decode` is the same decoding for callers that keep such a body as text instead.

Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import json as _json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["ascii_int", "decode", "json_count", "loads"]

#: Digits of an integer header value (Content-Length, Range, Retry-After...): 18 digits
#: hold any byte count or number of seconds that can occur and always fit in 64 bits.
MAX_DIGITS = 18


def ascii_int(text: str | bytes | None, max_digits: int = MAX_DIGITS) -> int | None:
    """The value of ``text`` when it is 1 to ``max_digits`` ASCII digits (surrounding
    spaces and tabs, HTTP's optional whitespace, are ignored), else ``None``.

    No sign, no ``_`` separators, no other script's digits, no superscripts.
    """
    if text is None:
        return None
    value = text.strip(" \t") if isinstance(text, str) else text.strip(b" \t")
    if not 0 < len(value) <= max_digits or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def json_count(value: Any, maximum: int) -> int | None:
    """A non-negative whole quantity (seconds, a count) read from a JSON reply: an integer
    (not a boolean), a finite number (truncated), or a string of ASCII digits, no more than
    ``maximum``. ``None`` for anything else (negative, NaN, infinite, too large, text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = int(value)
    elif isinstance(value, str):
        parsed = ascii_int(value, len(str(maximum)))
        if parsed is None:
            return None
        number = parsed
    else:
        return None
    return number if 0 <= number <= maximum else None


# json's own scanner (what json.loads ends up calling), used directly for the usual body:
# UTF-8 text starting with "{" or "[". json.loads would first guess the encoding, decode,
# skip leading whitespace and then call this same scanner.
_scan_once: Callable[[str, int], tuple[Any, int]] = _json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_SPACE = " \t\n\r"


def decode(data: bytes | str) -> Any:
    """``json.loads(data)``: the same result, and the same errors (``ValueError`` for
    malformed input, ``RecursionError`` for input nested too deeply for the stack)."""
    # json.detect_encoding says UTF-8 when neither of the first two bytes is NUL and there
    # is no BOM; "{" or "[" first rules out every BOM.
    if isinstance(data, bytes) and len(data) > 1 and data[0] in b"{[" and data[1]:
        text = data.decode("utf-8", "surrogatepass")
        try:
            value, end = _scan_once(text, 0)
        except StopIteration:
            return _json.loads(text)  # json's own error message
        if end == len(text) or not text[end:].strip(_JSON_SPACE):
            return value
    return _json.loads(data)


def loads(data: bytes | str, fail: Callable[[str], BaseException]) -> Any:
    """Decode JSON ``data``, raising ``fail(reason)`` (an exception of the caller's layer)
    when it is malformed or nested deeper than the stack allows. ``reason`` says which,
    without quoting the data (which may hold secrets)."""
    try:
        return decode(data)
    except RecursionError:
        raise fail("it is nested too deeply to decode") from None
    except ValueError as exc:
        raise fail(f"it is not valid JSON ({_reason(exc)})") from None


def _reason(exc: ValueError) -> str:
    if isinstance(exc, _json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text at byte {exc.start}"
    # int() of a number with too many digits, and the like: the message names no data.
    return str(exc).split(";", 1)[0][:120]
