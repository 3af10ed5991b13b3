"""The fast paths of request building agree exactly with the plain implementations.

Request building takes shortcuts for speed (see benchmarks/bench_build.py): percent-encoding
by translation table instead of urllib's per-byte loop, and compiled "certainly valid"
predicates in front of the problem-collecting validators. Each shortcut is checked here
against the reference it replaces, on generated inputs.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._url import encode_query_value, quote_path_value

_TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.text("ab /?#&=+%~._-\u00e9\u20ac", max_size=20)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_percent_encoding_matches_urllib(text: str) -> None:
    assert quote_path_value(text, reserved=False) == quote(text, safe="")
    assert quote_path_value(text, reserved=True) == quote(text, safe="/")
    assert encode_query_value(text) == quote_plus(text, safe="")


@given(st.integers() | st.booleans() | st.floats(allow_nan=False))
def test_query_scalars(value: object) -> None:
    expected = {True: "true", False: "false"}.get(value) if isinstance(value, bool) else (repr(value) if isinstance(value, float) else str(value))  # type: ignore[call-overload]
    assert encode_query_value(value) == quote_plus(expected, safe="")


def test_lone_surrogate_is_refused_like_urllib() -> None:
    with pytest.raises(UnicodeEncodeError):
        quote("\ud800", safe="")
    with pytest.raises(UnicodeEncodeError):
        quote_path_value("a\ud800", reserved=False)
    with pytest.raises(UnicodeEncodeError):
        encode_query_value("a \ud800")
