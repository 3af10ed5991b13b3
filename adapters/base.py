"""What every adapter shares: local file access on top of the adapter's ``run_sync``.

Local files are read and written in worker threads (``run_sync``), so large uploads and
downloads never block the event loop, whatever the framework. Writes of small files
(credentials, the discovery cache) are atomic: a temporary file in the same directory,
then a rename.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import IO, Any, TypeVar

from aiogoogle._effects import FileOp
from aiogoogle._http import HttpRequest
from aiogoogle._transport import RawResponse

__all__ = ["BaseSession", "ThreadFile", "process_environ"]

T = TypeVar("T")


class ThreadFile:
    """A file whose blocking calls run in the adapter's worker threads."""

    __slots__ = ("_file", "_session")

    def __init__(self, session: BaseSession, file: IO[bytes]) -> None:
        self._session = session
        self._file = file

    async def read(self, size: int) -> bytes:
        return await self._session.run_sync(self._file.read, size)

    async def write(self, data: bytes) -> None:
        await self._session.run_sync(self._file.write, data)

    async def seek(self, offset: int) -> None:
        await self._session.run_sync(self._file.seek, offset)

    async def size(self) -> int:
        return await self._session.run_sync(lambda: os.fstat(self._file.fileno()).st_size)

    async def aclose(self) -> None:
        await self._session.run_sync(self._file.close)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return -1


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _write_atomic(path: str, data: bytes, private: bool) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".aiogoogle-", dir=directory)
    try:
        if private:
            os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def process_environ() -> dict[str, str]:
    """A snapshot of the process environment, for the core's auth flows.

    The core never reads ``os.environ`` (it is pure); Application Default Credentials
    detection and the quota-project header take the environment as a mapping, and this is
    where the client gets it by default (``ServiceAccountManager.environ`` overrides it,
    e.g. with a dict in tests).
    """
    return dict(os.environ)


class BaseSession:
    """Base class of the adapters. Subclasses implement ``send``, ``sleep``, ``gather``,
    ``lock``, ``run_sync`` and ``close``; file access comes from here."""

    async def send(self, request: HttpRequest) -> RawResponse:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        raise NotImplementedError

    def lock(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def open_file(self, path: str, mode: str) -> ThreadFile:
        if "r" in mode and "+" in mode:
            # Continuing a partial download: create the file if it vanished.
            def open_rw() -> IO[bytes]:
                try:
                    return open(path, mode)
                except FileNotFoundError:
                    return open(path, "w+b")

            return ThreadFile(self, await self.run_sync(open_rw))
        if "w" in mode:
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise FileNotFoundError(2, "directory does not exist", parent)
        return ThreadFile(self, await self.run_sync(open, path, mode))

    async def file_op(self, op: FileOp) -> Any:
        if op.op == "size":
            return await self.run_sync(_size, op.path)
        if op.op == "mtime":
            return await self.run_sync(os.path.getmtime, op.path)
        if op.op == "remove":
            return await self.run_sync(_remove, op.path)
        if op.op == "replace":
            assert op.dest is not None
            return await self.run_sync(os.replace, op.path, op.dest)
        if op.op == "read":
            return await self.run_sync(_read, op.path)
        if op.op == "write":
            return await self.run_sync(_write_atomic, op.path, op.data or b"", op.private)
        raise ValueError(f"unknown file operation {op.op!r}")

    async def __aenter__(self) -> BaseSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
