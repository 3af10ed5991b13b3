"""Properties of path templates and query strings (PROTOCOL.md §1.7), no event loop."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from aiogoogle import GoogleAPI
from aiogoogle._url import PathTemplate, encode_query

from ._docs import load

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SIMPLE = PathTemplate("v1/b/{bucket}/o/{object}")
RESERVED = PathTemplate("v1/{+name}:get")


@given(TEXT, TEXT)
def test_simple_values_never_add_a_segment_query_or_fragment(bucket: str, obj: str) -> None:
    path = SIMPLE.expand({"bucket": bucket, "object": obj})
    segments = path.split("/")
    assert len(segments) == 5
    assert "?" not in path and "#" not in path
    assert unquote(segments[2]) == bucket and unquote(segments[4]) == obj
    assert all(c.isascii() and not c.isspace() for c in path)


@given(TEXT)
def test_reserved_values_never_add_a_query_or_fragment(name: str) -> None:
    path = RESERVED.expand({"name": name})
    assert path.startswith("v1/") and path.endswith(":get")
    inner = path[3:-4]
    assert "?" not in inner and "#" not in inner
    assert inner.count("/") == name.count("/")
    assert unquote(inner) == name
    assert all(c.isascii() and not c.isspace() for c in inner)


@given(st.lists(st.tuples(st.sampled_from(["q", "pageToken", "$.xgafv", "a b", "é"]), st.one_of(TEXT, st.integers(), st.booleans(), st.lists(TEXT, max_size=3))), max_size=6))
def test_query_strings_round_trip(pairs: list[tuple[str, object]]) -> None:
    encoded = encode_query(pairs)
    expected = []
    for name, value in pairs:
        for v in value if isinstance(value, list) else [value]:
            expected.append((name, "true" if v is True else "false" if v is False else str(v)))
    assert parse_qsl(encoded, keep_blank_values=True) == expected


@given(TEXT.filter(bool))
def test_object_names_stay_one_segment_through_a_real_method(name: str) -> None:
    storage = GoogleAPI(load("storage.v1"))
    url = storage.objects.get(bucket="b", object=name).url
    path = urlsplit(url).path
    assert path.count("/") == 6  # /storage/v1/b/b/o/<one segment>
    assert unquote(path.rsplit("/", 1)[1]) == name
