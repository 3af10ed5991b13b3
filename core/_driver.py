"""The one driver loop: runs core flows by awaiting only the adapter interface.

It is async but framework-neutral: it never imports an event loop library; every wait is
an ``await`` on a :class:`~aiogoogle._transport.Session` method. Its jobs, all mechanical:

* step the flow, performing each effect (see :mod:`aiogoogle._effects`);
* throw every failure of an effect back into the flow, so the flow decides (retry,
  recover, clean up, re-raise);
* turn described request bodies (:class:`~aiogoogle._http.StreamBody`) into byte streams
  from local files and async sources, without holding them whole in memory;
* undo ``Content-Encoding`` (unless the request asked for raw bytes) and either buffer a
  response body or stream it through the flow's :class:`~aiogoogle._http.BodyConsumer` into
  a file or a pipe.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

from ._effects import (
    NO_AUTH,
    AuthInfo,
    Authorize,
    Call,
    Emit,
    FileOp,
    Flow,
    Now,
    Pull,
    Run,
    Send,
    Sleep,
)
from ._http import (
    DEFAULT_MAX_RESPONSE_SIZE,
    ContentDecoder,
    FileRange,
    FileTarget,
    Headers,
    HttpResponse,
    PipeSource,
    StreamBody,
    too_large,
)
from ._providers import monotonic_clock, wall_clock
from ._transport import AsyncFile, Session
from .excs import LocalFileError, MediaError

__all__ = ["Driver", "READ_SIZE"]

T = TypeVar("T")

#: Bytes read from a local file or an async source per step when streaming an upload.
READ_SIZE = 1024 * 1024
#: Downloaded bytes are buffered up to this size before each write to a local file. Each
#: block goes to the file's writer thread while the next one is read (adapters' ThreadFile);
#: every hand-over costs thread wake-ups and GIL switches, so blocks are large. Per GiB,
#: 2 -> 4 MiB saved ~0.1 client CPU s (asyncio), 4 -> 6 MiB another ~0.1-0.2 s on trio;
#: 8 MiB saved no more but grew peak RSS to ~47 MiB (6 MiB: ~26 asyncio, ~36 trio).
WRITE_BUFFER = 6 * 1024 * 1024

Authorizer = Callable[[str | None], Awaitable[AuthInfo]]

_EMIT = object()
_DONE = object()


class _PipeReader:
    """Reads exact amounts from a ``pipe_from`` source, keeping what was read too much.

    A source is an async iterable of bytes, a plain iterable of bytes (a generator, a list
    of chunks: what synchronous code has), or one bytes-like object (the whole body).
    Anything else is a :class:`MediaError` naming ``pipe_from``, not an AttributeError.
    """

    __slots__ = ("_buffer", "_done", "_iterator", "_sync")

    def __init__(self, source: Any) -> None:
        self._buffer = bytearray()
        self._done = False
        self._sync: Iterator[Any] | None = None
        self._iterator: AsyncIterator[Any] | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._buffer += source
            self._done = True
        elif hasattr(source, "__aiter__"):
            self._iterator = source.__aiter__()
        elif hasattr(source, "__iter__") and not isinstance(source, str):
            self._sync = iter(source)
        else:
            raise MediaError(f"pipe_from is {type(source).__name__}; it must be bytes or an (async) iterable of bytes")

    async def _next(self) -> Any:
        if self._sync is not None:
            return next(self._sync, _DONE)
        assert self._iterator is not None
        try:
            return await self._iterator.__anext__()
        except StopAsyncIteration:
            return _DONE

    async def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; fewer only at the end of the source; b"" once exhausted."""
        while len(self._buffer) < size and not self._done:
            chunk = await self._next()
            if chunk is _DONE:
                self._done = True
                break
            if isinstance(chunk, str):
                chunk = chunk.encode()
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise MediaError(f"pipe_from yielded {type(chunk).__name__}; it must yield bytes")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class Driver:
    """Runs flows against one session, for one logical call.

    ``authorize`` answers :class:`~aiogoogle._effects.Authorize` effects (the client binds
    it to the call's credentials); without one, requests go out unauthenticated.
    ``max_response_size`` bounds every response body the driver buffers, after decoding
    (``None``: no bound); bodies streamed to a consumer are not buffered and not bounded.
    """

    __slots__ = ("_authorize", "_pipes", "clock", "max_response_size", "monotonic", "session")

    def __init__(
        self,
        session: Session,
        authorize: Authorizer | None = None,
        *,
        clock: Callable[[], float] = wall_clock,
        monotonic: Callable[[], float] = monotonic_clock,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self.session = session
        self.max_response_size = max_response_size
        self._authorize = authorize
        self._pipes: dict[int, _PipeReader] | None = None  # made by the first pipe_from read
        self.clock = clock
        self.monotonic = monotonic

    async def run(self, flow: Flow[T]) -> T:
        """Run ``flow`` to completion and return its result (emitted items are dropped)."""
        # The same loop as _advance, inlined: every request of a call runs through here,
        # so the common effects are dispatched without an extra coroutine per effect, and
        # ``Now`` (a clock read) is answered without awaiting anything.
        reply: Any = None
        error: BaseException | None = None
        effect: Any
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            error = None
            kind = type(effect)
            if kind is Now:
                reply = self.monotonic() if effect.monotonic else self.clock()
                continue
            if kind is Emit:
                reply = None
                continue
            try:
                if kind is Send:
                    reply = await self._send(effect)
                elif kind is Authorize and self._authorize is not None:
                    reply = await self._authorize(effect.stale)
                else:
                    reply = await self._perform(effect)
            except Exception as exc:
                # Every failure goes back into the flow: the flow is the policy.
                reply, error = None, exc

    def iterate(self, flow: Flow[Any]) -> AsyncIterator[Any]:
        """Run ``flow``, yielding every item it emits."""
        return _FlowIterator(self, flow)

    async def _advance(self, flow: Flow[Any], reply: Any, error: BaseException | None) -> tuple[object, Any, Any, BaseException | None]:
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(reply)
            except StopIteration as stop:
                return _DONE, stop.value, None, None
            reply, error = None, None
            if type(effect) is Emit:
                return _EMIT, effect.item, None, None
            try:
                reply = await self._perform(effect)
            except Exception as exc:
                # Every failure goes back into the flow: the flow is the policy.
                error = exc

    async def _perform(self, effect: Any) -> Any:
        kind = type(effect)
        if kind is Send:
            return await self._send(effect)
        if kind is Authorize:
            if self._authorize is None:
                return NO_AUTH
            return await self._authorize(effect.stale)
        if kind is Sleep:
            if effect.seconds > 0:
                await self.session.sleep(effect.seconds)
            return None
        if kind is Now:
            return self.monotonic() if effect.monotonic else self.clock()
        if kind is Pull:
            return await self._reader(effect.source).read(effect.max_bytes)
        if kind is FileOp:
            return await self.session.file_op(effect)
        if kind is Call:
            result = effect.fn(*effect.args)
            if inspect.isawaitable(result):
                result = await result
            return result
        if kind is Run:
            return await self.session.run_sync(effect.fn, *effect.args)
        raise TypeError(f"a flow yielded {effect!r}, which is not an effect")

    def _reader(self, source: AsyncIterable[bytes]) -> _PipeReader:
        pipes = self._pipes
        if pipes is None:
            pipes = self._pipes = {}
        reader = pipes.get(id(source))
        if reader is None:
            reader = pipes[id(source)] = _PipeReader(source)
        return reader

    # ------------------------------------------------------------------ HTTP

    async def _send(self, effect: Send) -> HttpResponse:
        request = effect.request
        stream: Any = None
        if isinstance(request.body, StreamBody):
            length = request.body.length
            sent_headers = request.headers
            if length is not None and request.header("content-length") is None:
                # StreamBody.length becomes Content-Length; without it the body is chunked.
                sent_headers = (*sent_headers, ("content-length", str(length)))
            stream = self._body_stream(request.body)
            request = replace(request, body=stream, headers=sent_headers)
        try:
            raw = await self.session.send(request)
            try:
                headers = Headers(raw.headers)
                decoder = None
                if not request.raw:
                    encoding = headers.get("content-encoding")
                    if encoding and encoding.strip().lower() != "identity":
                        decoder = ContentDecoder(encoding)
                consumer = effect.consumer
                if consumer is not None and consumer.accepts(raw.status, headers):
                    chunks = raw.chunks()
                    try:
                        count = await self._pump(chunks, decoder, consumer)
                    finally:
                        await _aclose(chunks)
                    return HttpResponse(raw.status, headers, b"", raw.reason, request.url, streamed=count)
                if decoder is not None:
                    body = await self._buffer_decoded(raw, decoder, request.url)
                else:
                    # The usual body, read here rather than in another coroutine (see
                    # Aiogoogle._send for the measured gain).
                    limit = self.max_response_size
                    if limit is not None:
                        _refuse_declared_size(headers, limit, request.url)
                    # An adapter may offer read(limit) (the body, stopping once past the
                    # limit; same errors as chunks()): cheaper than an async generator for
                    # the usual small body.
                    read = getattr(raw, "read", None)
                    if read is not None:
                        body = await read(limit)
                    else:
                        chunks = raw.chunks()
                        try:
                            body = await _join_chunks(chunks, limit)
                        finally:
                            await _aclose(chunks)
                    if limit is not None and len(body) > limit:
                        raise too_large(limit, request.url)
                return HttpResponse(raw.status, headers, body, raw.reason, request.url)
            finally:
                await raw.aclose()
        finally:
            if stream is not None:
                try:
                    await stream.aclose()
                except RuntimeError:
                    # Still being consumed by the adapter's writer task, which ends with
                    # the connection; the generator's own finally closes its file then.
                    pass

    async def _buffer_decoded(self, raw: Any, decoder: ContentDecoder, url: str) -> bytes:
        """The whole decoded body in memory, never more than ``max_response_size`` decoded
        bytes (plus one read): reading stops, and the caller closes the connection, as soon
        as the limit is passed."""
        limit = self.max_response_size
        parts: list[bytes] = []
        size = 0
        chunks = raw.chunks()
        try:
            async for chunk in chunks:
                for piece in decoder.decode(chunk):
                    size += len(piece)
                    if limit is not None and size > limit:
                        raise too_large(limit, url)
                    parts.append(piece)
        finally:
            # Closed here, in this task, when reading stopped early (curio insists).
            await _aclose(chunks)
        for piece in decoder.finish():
            size += len(piece)
            if limit is not None and size > limit:
                raise too_large(limit, url)
            parts.append(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def _body_stream(self, body: StreamBody) -> AsyncIterator[bytes]:
        for segment in body.segments:
            if isinstance(segment, bytes):
                if segment:
                    yield segment
                continue
            # A local file range or a pipe_from source: read in READ_SIZE steps up to its
            # declared length (to its end when it has none). An upload file is opened here,
            # not in a nested generator, so closing this stream closes the file at once.
            handle: AsyncFile | None = None
            read: Callable[[int], Awaitable[bytes]]
            if isinstance(segment, FileRange):
                handle = await self._open_upload(segment)
                read = handle.read
            elif isinstance(segment, PipeSource):
                read = self._reader(segment.source).read
            else:
                raise TypeError(f"unknown body segment {segment!r}")
            try:
                remaining = segment.length
                while remaining is None or remaining > 0:
                    want = READ_SIZE if remaining is None else min(READ_SIZE, remaining)
                    try:
                        chunk = await read(want)
                    except OSError as exc:
                        raise _file_error("cannot read", getattr(segment, "path", "pipe_from"), exc) from None
                    if not chunk:
                        if remaining:
                            raise MediaError(_short_source(segment, remaining))
                        break
                    if remaining is not None:
                        remaining -= len(chunk)
                        if remaining == 0 and handle is not None:
                            # Close before handing over the last bytes: once the server
                            # has them it may answer at once, and the adapter may then drop
                            # this generator without resuming it, which would leak the file.
                            done, handle = handle, None
                            await done.aclose()
                    yield chunk
            finally:
                if handle is not None:
                    await handle.aclose()

    async def _open_upload(self, segment: FileRange) -> AsyncFile:
        try:
            handle: AsyncFile = await self.session.open_file(segment.path, "rb")
        except OSError as exc:
            raise _file_error("cannot read", segment.path, exc) from None
        if segment.start:
            try:
                await handle.seek(segment.start)
            except BaseException:
                await handle.aclose()
                raise
        return handle

    async def _pump(self, chunks: AsyncIterator[bytes], decoder: ContentDecoder | None, consumer: Any) -> int:
        target = consumer.target
        feed = consumer.feed
        if isinstance(target, FileTarget):
            return await self._pump_to_file(chunks, decoder, consumer, target)
        write = target.write
        count = 0
        async for chunk in chunks:
            for piece in decoder.decode(chunk) if decoder is not None else (chunk,):
                for data in feed(piece):
                    count += len(data)
                    await _maybe_await(write(data))
            await _maybe_await(consumer.progress())
        for data in _tail(decoder, consumer):
            count += len(data)
            await _maybe_await(write(data))
        return count

    async def _pump_to_file(self, chunks: AsyncIterator[bytes], decoder: ContentDecoder | None, consumer: Any, target: FileTarget) -> int:
        path = target.path
        try:
            handle = await self.session.open_file(path, "r+b" if target.offset else "wb")
            if target.offset:
                await handle.seek(target.offset)
        except OSError as exc:
            raise _file_error("cannot write", path, exc) from None
        feed = consumer.feed
        count = 0
        # Chunks are gathered in a list and joined once per write: one copy of every byte
        # instead of two (a bytearray, then bytes() of it). Every piece a decoder or
        # consumer yields is bounded, so memory stays under WRITE_BUFFER plus one piece.
        pending: list[bytes] = []
        pending_size = 0
        failed = False
        try:
            async for chunk in chunks:
                for piece in decoder.decode(chunk) if decoder is not None else (chunk,):
                    for data in feed(piece):
                        pending.append(data)
                        pending_size += len(data)
                        count += len(data)
                        if pending_size >= WRITE_BUFFER:
                            block = pending[0] if len(pending) == 1 else b"".join(pending)
                            pending.clear()
                            pending_size = 0
                            await _write(handle, block, path)
                await _maybe_await(consumer.progress())
            for data in _tail(decoder, consumer):
                pending.append(data)
                count += len(data)
        except BaseException:
            failed = True
            raise
        finally:
            # Bytes that arrived before a failure are kept: a resumed download continues
            # after them. A failure while keeping them, or while closing, must not hide the
            # failure that is already on its way out.
            try:
                try:
                    if pending:
                        await _write(handle, b"".join(pending), path)
                finally:
                    try:
                        await handle.aclose()
                    except OSError as exc:
                        raise _file_error("cannot write", path, exc) from None
            except MediaError:
                if not failed:
                    raise
        return count


def _tail(decoder: ContentDecoder | None, consumer: Any) -> Iterator[bytes]:
    """What is left once the body ended: the decoder's last output, then the consumer's."""
    if decoder is not None:
        for piece in decoder.finish():
            yield from consumer.feed(piece)
    yield from consumer.finish()


async def _write(handle: AsyncFile, data: bytes, path: str) -> None:
    try:
        await handle.write(data)
    except OSError as exc:
        raise _file_error("cannot write", path, exc) from None


def _file_error(what: str, path: str, exc: OSError) -> LocalFileError:
    """A local file failure as :class:`LocalFileError`, naming the file and the reason
    (``No space left on device``, ``Is a directory``, ``Read-only file system``)."""
    return LocalFileError(f"{what} {path!r}: {exc.strerror or exc}", path=path)


async def _aclose(chunks: AsyncIterator[bytes]) -> None:
    """Finish an adapter's body iterator that may have been left early."""
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()


def _refuse_declared_size(headers: Headers, limit: int, url: str) -> None:
    """Refuse a body before reading it when the server announces more than ``limit``
    bytes (ASCII digits only: RFC 9110 §8.6; a malformed value is the transport's to
    reject). Only for bodies without a content coding, whose length is the decoded size."""
    declared = headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and (len(declared) > 20 or int(declared) > limit):
        raise too_large(limit, url)


async def _join_chunks(chunks: AsyncIterator[bytes], limit: int | None) -> bytes:
    """The chunks joined, stopping as soon as there are more than ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            break
    return b"".join(parts)


def _short_source(segment: FileRange | PipeSource, missing: int) -> str:
    if isinstance(segment, FileRange):
        return f"{segment.path!r} is {missing} bytes shorter than when the upload started"
    return f"pipe_from ended {missing} bytes before the declared size"


async def _maybe_await(value: Any) -> None:
    if value is not None and inspect.isawaitable(value):
        await value


class _FlowIterator:
    """``async for item in driver.iterate(flow)``: one flow step per ``__anext__``."""

    __slots__ = ("_driver", "_error", "_finished", "_flow", "_reply")

    def __init__(self, driver: Driver, flow: Flow[Any]) -> None:
        self._driver = driver
        self._flow = flow
        self._reply: Any = None
        self._error: BaseException | None = None
        self._finished = False

    def __aiter__(self) -> _FlowIterator:
        return self

    async def __anext__(self) -> Any:
        if self._finished:
            raise StopAsyncIteration
        try:
            kind, value, self._reply, self._error = await self._driver._advance(self._flow, self._reply, self._error)
        except BaseException:
            self._finished = True
            raise
        if kind is _DONE:
            self._finished = True
            raise StopAsyncIteration
        return value

    async def aclose(self) -> None:
        self._finished = True
        self._flow.close()

