"""The driver's streamed request bodies (``Driver._body_stream``) on every adapter: local
file ranges and ``pipe_from`` sources read in READ_SIZE steps up to their declared
lengths, short sources refused with MediaError, upload files always closed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiogoogle._driver import READ_SIZE, Driver
from aiogoogle._http import FileRange, PipeSource, StreamBody
from aiogoogle.excs import MediaError

from ..conftest import Backend


class _TrackedFile:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.closed = False

    async def read(self, size: int) -> bytes:
        assert not self.closed, "read after close"
        return await self.inner.read(size)  # type: ignore[no-any-return]

    async def seek(self, offset: int) -> None:
        await self.inner.seek(offset)

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


class _TrackingSession:
    """The backend's session, with every opened file recorded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.files: list[_TrackedFile] = []

    async def open_file(self, path: str, mode: str) -> _TrackedFile:
        tracked = _TrackedFile(await self.inner.open_file(path, mode))
        self.files.append(tracked)
        return tracked


async def _source(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _run(backend: Backend, scenario: Any) -> Any:
    async def main() -> Any:
        inner = backend.session()
        try:
            session = _TrackingSession(inner)
            return await scenario(Driver(session), session)  # type: ignore[arg-type]
        finally:
            await inner.close()

    return backend.run(main)


@pytest.fixture
def data_file(tmp_path: Any) -> tuple[str, bytes]:
    data = os.urandom(2 * READ_SIZE + 123)
    path = str(tmp_path / "upload.bin")
    with open(path, "wb") as fh:
        fh.write(data)
    return path, data


def test_segments_stream_exactly(backend: Backend, data_file: tuple[str, bytes]) -> None:
    path, data = data_file
    piped = os.urandom(READ_SIZE + 7)
    length = READ_SIZE + 5

    async def scenario(driver: Driver, session: _TrackingSession) -> None:
        source = _source(piped[:3], piped[3:READ_SIZE], piped[READ_SIZE:])
        body = StreamBody.of(b"head", FileRange(path, 100, length), PipeSource(source, 10), PipeSource(source), FileRange(path), b"tail")
        chunks = []
        closed_at_receipt = []
        async for chunk in driver._body_stream(body):
            chunks.append(chunk)
            closed_at_receipt.append([f.closed for f in session.files])
        assert b"".join(chunks) == b"head" + data[100 : 100 + length] + piped + data + b"tail"
        assert len(session.files) == 2 and all(f.closed for f in session.files)
        # The ranged file's last chunk is handed over only after the file was closed (an
        # adapter may drop the stream once the server answered).
        assert closed_at_receipt[1] == [False] and closed_at_receipt[2] == [True]
        assert max(len(c) for c in chunks) <= READ_SIZE

    _run(backend, scenario)


def test_short_file_and_short_pipe_are_refused(backend: Backend, data_file: tuple[str, bytes]) -> None:
    path, data = data_file

    async def scenario(driver: Driver, session: _TrackingSession) -> None:
        with pytest.raises(MediaError, match=r"is 10 bytes shorter than when the upload started"):
            async for _chunk in driver._body_stream(StreamBody.of(FileRange(path, 0, len(data) + 10))):
                pass
        assert session.files[-1].closed
        with pytest.raises(MediaError, match=r"pipe_from ended 3 bytes before the declared size"):
            async for _chunk in driver._body_stream(StreamBody.of(PipeSource(_source(b"12345"), 8))):
                pass
        with pytest.raises(MediaError, match=r"cannot read .*missing\.bin"):
            async for _chunk in driver._body_stream(StreamBody.of(FileRange(path + "missing.bin"))):
                pass

    _run(backend, scenario)


def test_a_stream_closed_early_closes_its_file(backend: Backend, data_file: tuple[str, bytes]) -> None:
    path, data = data_file

    async def scenario(driver: Driver, session: _TrackingSession) -> None:
        stream = driver._body_stream(StreamBody.of(FileRange(path, 1)))
        first = await stream.__anext__()
        assert first == data[1 : 1 + READ_SIZE] and not session.files[0].closed
        await stream.aclose()
        assert session.files[0].closed

    _run(backend, scenario)
