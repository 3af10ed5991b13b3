"""The adapter interface as abstract classes, and what every adapter shares.

An adapter (a *session*, aiogoogle's word for it since 5.x) has two halves:

* :class:`Transport` moves bytes: ``send`` one HTTP request, ``close`` the connections;
* :class:`Runtime` is the framework: ``sleep``, ``gather`` (concurrency under a total
  timeout), ``lock`` and ``run_sync`` (a blocking call off the event loop); local file
  access (``open_file``, ``file_op``) is implemented here, once, on top of ``run_sync``.

:class:`BaseSession` is both; a new adapter derives from it and implements the six
abstract methods, then gets a name in :mod:`aiogoogle.sessions.backends`.

Local files are read and written in worker threads (``run_sync``), so large uploads and
downloads never block the event loop, whatever the framework. Writes of small files
(credentials, the discovery cache) are atomic: a temporary file in the same directory,
then a rename. :class:`LocalFiles` is the same file access with the calls made inline,
for loops without an event loop (:func:`aiogoogle.sansio.run_sync`).
"""

from __future__ import annotations

import abc
import errno
import os
import stat
import tempfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import AbstractAsyncContextManager
from typing import IO, Any, TypeVar

from aiogoogle._effects import FileOp
from aiogoogle._http import HttpRequest
from aiogoogle._transport import RawResponse

__all__ = ["BaseSession", "FileAccess", "LocalFiles", "Runtime", "ThreadFile", "Transport", "default_cache_dir", "process_environ"]

T = TypeVar("T")

#: Writes of at least this many bytes go to the file's writer thread without waiting (the
#: driver writes downloads in blocks of ``aiogoogle._driver.WRITE_BUFFER``, 6 MiB).
BACKGROUND_WRITE = 256 * 1024


class ThreadFile:
    """A file whose blocking calls run in the adapter's worker threads.

    Large writes overlap with the caller's next step: :meth:`write` hands a block of at
    least :data:`BACKGROUND_WRITE` bytes to this file's own writer thread and returns once
    the *previous* block is on its way to disk (double buffering), so a download reads the
    network while the last block is written. A failed background write is raised by the
    next call on the file (write, read, seek, size or close).
    """

    __slots__ = ("_file", "_pending", "_session", "_writer")

    def __init__(self, session: FileAccess, file: IO[bytes]) -> None:
        self._session = session
        self._file = file
        self._writer: ThreadPoolExecutor | None = None
        self._pending: Future[int] | None = None

    async def _drain(self) -> None:
        """Wait for the write still running in the writer thread; raise its failure."""
        pending = self._pending
        if pending is not None:
            if not pending.done():
                await self._session.run_sync(futures_wait, (pending,))
            self._pending = None
            pending.result()

    async def read(self, size: int) -> bytes:
        await self._drain()
        return await self._session.run_sync(self._file.read, size)

    async def write(self, data: bytes) -> None:
        await self._drain()
        if len(data) < BACKGROUND_WRITE:
            await self._session.run_sync(self._file.write, data)
            return
        if self._writer is None:
            # One thread per file keeps the writes in order; it ends with aclose().
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aiogoogle-write")
        self._pending = self._writer.submit(self._file.write, data)

    async def seek(self, offset: int) -> None:
        await self._drain()
        await self._session.run_sync(self._file.seek, offset)

    async def size(self) -> int:
        await self._drain()
        return await self._session.run_sync(lambda: os.fstat(self._file.fileno()).st_size)

    async def aclose(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            await self._session.run_sync(self._file.close)
            return
        # The close is queued behind any write still running, so the file is closed even if
        # this task is cancelled while waiting; the thread exits once the queue is empty.
        closing = writer.submit(self._file.close)
        writer.shutdown(wait=False)
        try:
            await self._drain()
        finally:
            if not closing.done():
                await self._session.run_sync(futures_wait, (closing,))
            closing.result()


def _size(path: str) -> int:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return -1
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    return info.st_size


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _probe_write(path: str) -> None:
    """Raise the OSError that creating or replacing a regular file at ``path`` would meet."""
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(errno.ENOENT, "directory does not exist", parent)
    # access() also reports a read-only file system (EROFS) for W_OK.
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "directory is not writable", parent)
    if os.path.lexists(path) and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "file is not writable", path)


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


def default_cache_dir(environ: Mapping[str, str] | None = None) -> str:
    """Where the client caches discovery documents by default: ``$AIOGOOGLE_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/aiogoogle/discovery`` (the XDG Base Directory specification),
    else ``~/.cache/aiogoogle/discovery``. ``environ`` defaults to the process environment;
    the core never reads either itself."""
    env = os.environ if environ is None else environ
    explicit = env.get("AIOGOOGLE_CACHE_DIR")
    if explicit:
        return explicit
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aiogoogle", "discovery")


class FileAccess:
    """Local file access (:class:`~aiogoogle._transport.Session`'s ``open_file`` and
    ``file_op``) on top of ``run_sync``, which a subclass provides."""

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
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
        if op.op == "probe_write":
            return await self.run_sync(_probe_write, op.path)
        raise ValueError(f"unknown file operation {op.op!r}")



class LocalFiles(FileAccess):
    """Local file access with every blocking call made inline: for a driver that runs
    without an event loop (:func:`aiogoogle.sansio.run_sync`, :mod:`aiogoogle.sync`)."""

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(*args)


class Transport(abc.ABC):
    """The half of an adapter that moves bytes (see :class:`~aiogoogle._transport.Session`
    for the contract of ``send``)."""

    @abc.abstractmethod
    async def send(self, request: HttpRequest) -> RawResponse:
        """Send ``request``; return once the response head arrived."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close every connection."""


class Runtime(FileAccess, abc.ABC):
    """The half of an adapter that is its framework: waiting and concurrency (file access
    comes with it, built on ``run_sync``)."""

    @abc.abstractmethod
    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""

    @abc.abstractmethod
    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        """Run the thunks concurrently; results in order; the first failure cancels the
        rest and is raised itself; ``timeout`` (a total) cancels everything and raises
        :class:`~aiogoogle.excs.RequestTimeout`."""

    @abc.abstractmethod
    def lock(self) -> AbstractAsyncContextManager[Any]:
        """A new lock of this framework (single-flight token refresh)."""

    @abc.abstractmethod
    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, which blocks, run off the event loop."""


class BaseSession(Transport, Runtime):
    """Base class of the adapters: a :class:`Transport` and a :class:`Runtime`. Subclasses
    implement ``send``, ``close``, ``sleep``, ``gather``, ``lock`` and ``run_sync``."""

    async def __aenter__(self) -> BaseSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
