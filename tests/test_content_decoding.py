"""Content-Encoding is undone incrementally and within bounds (aiogoogle._http.ContentDecoder).

No event loop: the decoder is pure. Bombs are built from repeated gzip members, so a
gigabyte of output costs about a megabyte of input and no time to build.
"""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._http import DECODE_STEP, MAX_CODINGS, ContentDecoder
from aiogoogle.excs import ResponseTooLarge, TransportError
from tests.hostile import deflate_bomb, gzip_bomb

GIB = 1 << 30


def decode_in_pieces(decoder: ContentDecoder, data: bytes, read: int) -> tuple[bytes, int]:
    """Feed ``data`` ``read`` bytes at a time; the decoded bytes and the largest piece."""
    out: list[bytes] = []
    for i in range(0, len(data), read):
        out.extend(decoder.decode(data[i : i + read]))
    out.extend(decoder.finish())
    return b"".join(out), max((len(p) for p in out), default=0)


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "GZIP", " gzip ", "identity, gzip", "gzip, identity"])
def test_one_coding_round_trips(coding: str) -> None:
    payload = b'{"items": [' + b'{"id": 1},' * 5000 + b"{}]}"
    wire = zlib.compress(payload) if "deflate" in coding else gzip.compress(payload)
    body, _ = decode_in_pieces(ContentDecoder(coding), wire, 1000)
    assert body == payload


def test_raw_deflate_is_accepted_too() -> None:
    comp = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    payload = b"raw deflate " * 1000
    wire = comp.compress(payload) + comp.flush()
    assert ContentDecoder("deflate").decode_all(wire, None) == payload


@pytest.mark.parametrize("coding", ["gzip, gzip", "gzip,deflate", "deflate, gzip, gzip"])
def test_stacked_codings_are_refused_before_decoding(coding: str) -> None:
    # "gzip, gzip" lets 1 kB expand to 1 GiB; at most MAX_CODINGS (one) is accepted.
    assert MAX_CODINGS == 1
    with pytest.raises(TransportError, match=r"stacks [23] codings"):
        ContentDecoder(coding)


@pytest.mark.parametrize("coding", ["br", "compress", "zstd", "gzip;q=1"])
def test_unknown_codings_are_transport_errors(coding: str) -> None:
    with pytest.raises(TransportError, match="unsupported Content-Encoding"):
        ContentDecoder(coding)


def test_a_gigabyte_bomb_is_decoded_in_bounded_pieces() -> None:
    wire = gzip_bomb(GIB)
    assert len(wire) < 2 * 1024 * 1024
    decoder = ContentDecoder("gzip")
    total = 0
    largest = 0
    for i in range(0, len(wire), 64 * 1024):
        for piece in decoder.decode(wire[i : i + 64 * 1024]):
            largest = max(largest, len(piece))
            total += len(piece)
    for piece in decoder.finish():
        total += len(piece)
    assert total == GIB
    assert largest <= DECODE_STEP


def test_a_single_stream_deflate_bomb_is_bounded_per_step() -> None:
    wire = deflate_bomb(64 << 20)
    decoder = ContentDecoder("deflate", step=4096)
    pieces = list(decoder.decode(wire))  # the whole body in one read
    assert sum(map(len, pieces)) == 64 << 20
    assert max(map(len, pieces)) <= 4096


def test_decode_all_stops_at_the_limit_without_decoding_the_rest() -> None:
    decoder = ContentDecoder("gzip")
    with pytest.raises(ResponseTooLarge, match="limit of 1048576 bytes") as info:
        decoder.decode_all(gzip_bomb(GIB), 1 << 20, url="https://x.test/y?key=SECRET")
    assert info.value.limit == 1 << 20
    assert "SECRET" not in str(info.value)
    assert "max_response_size" in str(info.value)


def test_decode_all_without_a_coding_checks_the_limit_too() -> None:
    with pytest.raises(ResponseTooLarge):
        ContentDecoder(None).decode_all(b"x" * 11, 10)
    assert ContentDecoder(None).decode_all(b"x" * 10, 10) == b"x" * 10


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (gzip.compress(b"hello")[:-6], "truncated"),
        (gzip.compress(b"hello") + b"garbage", "after the end"),
        (b"\x1f\x8b\x08\x00garbage-that-is-not-deflate", "corrupt"),
        (gzip.compress(b"hello") + b"\x1f", "after the end"),
    ],
    ids=["truncated", "trailing-garbage", "corrupt", "half-a-magic"],
)
def test_broken_streams_are_transport_errors(wire: bytes, message: str) -> None:
    with pytest.raises(TransportError, match=message):
        decode_in_pieces(ContentDecoder("gzip"), wire, 7)


def test_zero_padding_after_the_stream_is_ignored() -> None:
    assert ContentDecoder("gzip").decode_all(gzip.compress(b"ok") + b"\x00" * 10, None) == b"ok"


@settings(max_examples=60, deadline=None)
@given(
    members=st.lists(st.binary(max_size=3000), min_size=1, max_size=4),
    read=st.integers(1, 5000),
    step=st.integers(1, 5000),
)
def test_any_members_in_any_read_and_step_sizes_decode_exactly(members: list[bytes], read: int, step: int) -> None:
    wire = b"".join(gzip.compress(m) for m in members)
    body, largest = decode_in_pieces(ContentDecoder("gzip", step=step), wire, read)
    assert body == b"".join(members)
    assert largest <= step


@settings(max_examples=60, deadline=None)
@given(wire=st.binary(max_size=400), coding=st.sampled_from(["gzip", "deflate"]), read=st.integers(1, 64))
def test_any_bytes_give_output_or_a_transport_error(wire: bytes, coding: str, read: int) -> None:
    try:
        decode_in_pieces(ContentDecoder(coding), wire, read)
    except TransportError:
        pass
