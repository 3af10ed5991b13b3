"""ThreadFile on every adapter: large writes overlap with the caller (a writer thread per
file), yet land in order, and a failed background write is not lost."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from aiogoogle.sessions.base import BACKGROUND_WRITE


def test_background_writes_land_in_order(backend: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "out.bin")
    blocks = [bytes([i]) * (BACKGROUND_WRITE + i) for i in range(6)] + [b"tail"]

    async def main() -> tuple[int, bytes]:
        async with backend.session() as session:
            handle = await session.open_file(path, "wb")
            for block in blocks[:3]:
                await handle.write(block)
            size = await handle.size()  # waits for the write in flight
            for block in blocks[3:]:
                await handle.write(block)
            await handle.aclose()
        with open(path, "rb") as fh:
            return size, fh.read()

    size, data = backend.run(main)
    assert size == sum(map(len, blocks[:3]))
    assert data == b"".join(blocks)


def test_resumed_write_after_seek(backend: Any, tmp_path: Path) -> None:
    path = tmp_path / "partial.bin"
    path.write_bytes(b"a" * 10 + b"junk")
    block = os.urandom(BACKGROUND_WRITE * 2)

    async def main() -> None:
        async with backend.session() as session:
            handle = await session.open_file(str(path), "r+b")
            await handle.seek(10)
            await handle.write(block)
            await handle.seek(0)
            assert await handle.read(10) == b"a" * 10
            await handle.aclose()

    backend.run(main)
    assert path.read_bytes() == b"a" * 10 + block


def test_failed_background_write_is_raised(backend: Any, tmp_path: Path) -> None:
    path = tmp_path / "readonly.bin"
    path.write_bytes(b"x")

    async def main() -> None:
        async with backend.session() as session:
            handle = await session.open_file(str(path), "rb")  # not writable
            await handle.write(b"y" * BACKGROUND_WRITE)  # returns before the write ran
            with pytest.raises(OSError):
                await handle.aclose()

    backend.run(main)
    assert path.read_bytes() == b"x"
