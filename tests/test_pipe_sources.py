"""``pipe_from`` sources: async iterables, plain iterables and bytes are read the same way;
anything else is our MediaError (an AttributeError escaped before)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from aiogoogle._driver import _PipeReader
from aiogoogle.excs import MediaError
from aiogoogle.sansio import complete


async def _async_chunks() -> AsyncIterator[bytes]:
    for chunk in (b"ab", b"cde", b"", b"f"):
        yield chunk


def _sync_chunks() -> Iterator[bytes]:
    yield from (b"ab", b"cde", b"", b"f")


def _read_all(source: Any, size: int) -> list[bytes]:
    reader = _PipeReader(source)

    async def drain() -> list[bytes]:
        out = []
        while True:
            data = await reader.read(size)
            out.append(data)
            if not data:
                return out

    return list(complete(drain()))


@pytest.mark.parametrize("source", [_async_chunks, _sync_chunks, lambda: [b"ab", b"cde", b"f"], lambda: b"abcdef",
                                    lambda: bytearray(b"abcdef"), lambda: memoryview(b"abcdef")])
def test_every_kind_of_source_reads_the_same_bytes(source: Any) -> None:
    assert _read_all(source(), 4) == [b"abcd", b"ef", b""]


@pytest.mark.parametrize("source", [42, "text", None, object()])
def test_a_source_that_is_not_bytes_is_a_media_error(source: Any) -> None:
    with pytest.raises(MediaError, match=r"pipe_from is .*; it must be bytes or an"):
        _PipeReader(source)


def test_a_chunk_that_is_not_bytes_is_a_media_error() -> None:
    with pytest.raises(MediaError, match="pipe_from yielded int"):
        _read_all([b"ab", 3], 10)
