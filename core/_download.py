"""Media downloads as a core flow (docs/protocol.md §2.4-2.5): streaming to a file or a pipe,
resuming with ``Range``, hash checks, decoding after hashing.

See :mod:`aiogoogle.media` for the behaviour in full.
"""


from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from ._effects import FileOp, Flow, Now
from ._http import (
    DEFAULT_MAX_RESPONSE_SIZE,
    ContentDecoder,
    FileTarget,
    Headers,
    HttpRequest,
    HttpResponse,
    PipeTarget,
)
from ._page_tokens import with_query_param as _with_query_param
from ._parse import ascii_int
from ._send import (
    CallOptions,
    build_response,
    send_flow,
    to_http,
)
from ._upload import _SINGLE_TRY
from .excs import (
    ChecksumMismatch,
    LocalFileError,
    MediaError,
    TransportError,
    ValidationError,
)
from .models import MediaDownload, Request, Response
from .retry import RetryState, retry_after_flow, wait_flow

# ---------------------------------------------------------------------------------- downloads


def _hashes(headers: Headers) -> dict[str, str]:
    """``x-goog-hash: crc32c=...,md5=...`` (possibly repeated) as a dict."""
    found: dict[str, str] = {}
    for value in headers.getall("x-goog-hash"):
        for part in value.split(","):
            name, sep, digest = part.strip().partition("=")
            if sep and name.strip().lower() in ("crc32c", "md5"):
                found[name.strip().lower()] = digest.strip()
    return found


class _Crc32c:
    __slots__ = ("_c",)

    def __init__(self) -> None:
        import google_crc32c

        self._c: Any = google_crc32c.Checksum()  # type: ignore[no-untyped-call]

    def update(self, data: bytes) -> None:
        self._c.update(data)

    def digest(self) -> bytes:
        return bytes(self._c.digest())


class _DownloadConsumer:
    """Streams successful bodies to the destination, hashing raw bytes and decoding them.

    ``raw`` counts raw (still encoded) bytes of the object received so far, which is where
    a ``Range`` resumption starts; ``delivered`` counts decoded bytes the destination has
    (or, for ``pipe_to``, was handed), which is where writing continues.
    """

    __slots__ = (
        "_decoder",
        "_hasher",
        "_skip",
        "delivered",
        "download",
        "expect_end",
        "expected",
        "generation",
        "hash_complete",
        "hash_name",
        "raw",
        "requested",
        "target",
        "total",
        "transcoded",
    )

    def __init__(self, download: MediaDownload, target: FileTarget | PipeTarget, start: int) -> None:
        self.download = download
        self.target = target
        self.raw = start
        self.delivered = start
        self.requested = start
        self.total: int | None = None
        self.expect_end: int | None = None
        self.transcoded = False
        self.generation: str | None = None
        self.expected: dict[str, str] = {}
        self.hash_name: str | None = None
        self.hash_complete = False
        self._hasher: Any = None
        self._decoder: ContentDecoder | None = None
        self._skip = 0

    def _start_hash(self, headers: Headers) -> None:
        """Hashes describe the whole object, so hashing starts only at byte 0."""
        self._hasher, self.hash_name, self.hash_complete = None, None, False
        if not self.download.verify:
            return
        found = _hashes(headers) or self.expected
        if found:
            self.expected = found
            self.hash_name = "crc32c" if "crc32c" in found else "md5"
            self._hasher = _Crc32c() if self.hash_name == "crc32c" else hashlib.md5(usedforsecurity=False)
            self.hash_complete = True

    def accepts(self, status: int, headers: Headers) -> bool:
        if status not in (200, 206):
            return False
        encoding = (headers.get("content-encoding") or "").strip().lower()
        stored = (headers.get("x-goog-stored-content-encoding") or "").strip().lower()
        self.transcoded = stored == "gzip" and encoding != "gzip"
        generation = ascii_int(headers.get("x-goog-generation"))
        if generation is not None:
            self.generation = str(generation)
        if status == 206:
            first, last, total = _content_range(headers.get("content-range"))
            if first != self.requested or first != self.raw:
                raise MediaError(f"asked for bytes from {self.requested} but the server sent them from {first}")
            if first == 0:
                self._start_hash(headers)
            if self._decoder is None and encoding not in ("", "identity"):
                self._decoder = ContentDecoder(encoding)
            self.total = total
            self.expect_end = last + 1 if last is not None else total
        else:
            # The whole object (the first request, or a server ignoring Range): decode and
            # hash from byte 0 again and drop the bytes the destination already has.
            self._skip = self.delivered
            self.delivered = 0
            self.raw = 0
            self._start_hash(headers)
            self._decoder = ContentDecoder(encoding) if encoding not in ("", "identity") else None
            self.total = ascii_int(headers.get("content-length"))
            self.expect_end = self.total
        return True

    def feed(self, chunk: bytes) -> Iterable[bytes]:
        self.raw += len(chunk)
        if self._hasher is not None:
            self._hasher.update(chunk)
        decoder = self._decoder
        if decoder is None:
            return self._deliver(chunk)
        # Decoded in bounded pieces: a small compressed chunk may expand a thousandfold.
        return (data for piece in decoder.decode(chunk) for data in self._deliver(piece))

    def finish(self) -> Iterable[bytes]:
        """The decoder's last bytes, once the whole object arrived (a decoder spans the
        ``Range`` responses of one object, so the end of a response is not the end)."""
        decoder = self._decoder
        if decoder is None or (self.total is not None and self.raw < self.total):
            return ()
        return (data for piece in decoder.finish() for data in self._deliver(piece))

    def _deliver(self, data: bytes) -> tuple[bytes, ...]:
        """``data`` minus the bytes the destination already has (after a restart)."""
        if self._skip:
            if len(data) <= self._skip:
                self._skip -= len(data)
                self.delivered += len(data)
                return ()
            cut = self._skip
            self._skip = 0
            self.delivered += cut
            data = data[cut:]
        if not data:
            return ()
        self.delivered += len(data)
        return (data,)

    def progress(self) -> Any:
        callback = self.download.progress
        if callback is None:
            return None
        return callback(self.delivered, self.total)

    def verify(self) -> None:
        """Raise :class:`ChecksumMismatch` unless the bytes match ``x-goog-hash`` (§2.5)."""
        name = self.hash_name
        if not self.download.verify or name is None or self._hasher is None or not self.hash_complete or self.transcoded:
            return
        digest = bytes(self._hasher.digest())
        try:
            want = base64.b64decode(self.expected[name], validate=True)
        except ValueError:
            raise ChecksumMismatch(f"the server's x-goog-hash {name} value is not base64") from None
        if digest != want:
            raise ChecksumMismatch(
                f"downloaded bytes do not match the server's {name}: expected {self.expected[name]}, "
                f"got {base64.b64encode(digest).decode()}; nothing was kept"
            )


def _content_range(value: str | None) -> tuple[int | None, int | None, int | None]:
    """``bytes a-b/total`` → ``(a, b, total)`` (``None`` for ``*`` or a malformed header)."""
    if not value:
        return None, None, None
    unit, _, rest = value.strip().partition(" ")
    if unit.lower() != "bytes":
        return None, None, None
    span, _, total = rest.partition("/")
    first, _, last = span.partition("-")
    return ascii_int(first), ascii_int(last), ascii_int(total)


def _pipe_writer(pipe_to: Any) -> Callable[[bytes], Any]:
    write = getattr(pipe_to, "write", None)
    if callable(write):
        return write  # type: ignore[no-any-return]
    if callable(pipe_to):
        return pipe_to  # type: ignore[no-any-return]
    raise MediaError("pipe_to must have a write(chunk) method or be a callable taking each chunk")


def download_flow(request: Request, options: CallOptions) -> Flow[Response]:
    """Download ``request``'s media to ``media_download.file_path`` or ``pipe_to``."""
    download = request.media_download
    assert download is not None
    if download.file_path is None and download.pipe_to is None:
        raise MediaError("a download needs file_path= (download_file=) or pipe_to=")
    if download.range_chunks and download.chunk_size <= 0:
        raise ValidationError([("chunk_size", "must be a positive number of bytes", download.chunk_size)])
    policy = options.policy_for(request)
    partial = f"{download.file_path}.part" if download.file_path is not None else None
    start = max(0, int(download.start or 0))
    if partial is not None and download.file_path is not None:
        # Before anything is sent: a directory in the target's place or an unwritable
        # folder would otherwise be found only once the whole body had been read.
        for path in (download.file_path, partial):
            try:
                yield FileOp("probe_write", path)
            except OSError as exc:
                raise LocalFileError(f"cannot download to {path!r}: {exc.strerror or exc}", path=path) from None
    if partial is not None and start:
        # Resuming a download that stopped at ``start``: its bytes are in the partial file.
        have = yield FileOp("size", partial)
        if have < start:
            raise MediaError(f"cannot resume at byte {start}: {partial!r} holds only {max(have, 0)} bytes")
    target: FileTarget | PipeTarget = FileTarget(partial, start) if partial is not None else PipeTarget(_pipe_writer(download.pipe_to))
    consumer = _DownloadConsumer(download, target, start)
    url = request.url or ""
    state = RetryState(policy, True, (yield Now(monotonic=True)))
    final: HttpResponse | None = None
    try:
        while True:
            base = to_http(request, options, url=url)
            headers = [(n, v) for n, v in base.headers if n.lower() != "range"]
            # Decompressive transcoding: ranges would be over the stored (compressed) bytes,
            # so a resumption starts over and skips what was delivered (§2.5).
            pos = 0 if consumer.transcoded else consumer.raw
            end: int | None = None
            if download.range_chunks:
                end = pos + download.chunk_size - 1
                headers.append(("range", f"bytes={pos}-{end}"))
            elif pos > 0:
                headers.append(("range", f"bytes={pos}-"))
            consumer.requested = pos
            if partial is not None:
                consumer.target = FileTarget(partial, consumer.delivered)
            http = HttpRequest(base.method, url, tuple(headers), b"", base.timeout, base.verify_ssl, raw=True)
            before = consumer.raw
            try:
                reply = yield from send_flow(http, _SINGLE_TRY, consumer=consumer, idempotent=True, max_redirects=options.max_redirects)
            except TransportError as exc:
                url = _pin_generation(url, consumer.generation)
                if consumer.raw > before:
                    state = RetryState(policy, True, (yield Now(monotonic=True)))
                yield from _download_backoff(state, None, str(exc), consumer)
                continue
            status = reply.status
            if status in (200, 206):
                url = _pin_generation(url, consumer.generation)
                if consumer.raw > before:
                    state = RetryState(policy, True, (yield Now(monotonic=True)))
                if consumer.expect_end is not None and consumer.raw < consumer.expect_end:
                    # A body shorter than announced is a broken transfer, not the end.
                    problem = f"response ended after byte {consumer.raw} of {consumer.expect_end}"
                    yield from _download_backoff(state, None, problem, consumer)
                    continue
                final = reply
                if consumer.total is not None and consumer.raw < consumer.total:
                    continue
                break
            if status == 416:
                _, _, total = _content_range(reply.headers.get("content-range"))
                if total is not None and consumer.raw >= total:
                    # Nothing (left) to read: an empty object, or the last range was exact.
                    final = reply
                    break
            if policy.should_retry(_decoded(reply), True):
                retry_after = yield from retry_after_flow(reply)
                yield from _download_backoff(state, retry_after, f"HTTP {status}", consumer)
                continue
            # An error response: returned (the client raises it), never written anywhere.
            if partial is not None and not start:
                yield from _remove_quietly(partial)
            return build_response(_decoded(reply), request)
        consumer.verify()
    except GeneratorExit:
        raise
    except Exception as exc:
        if partial is None:
            raise
        if isinstance(exc, LocalFileError):
            # The disk refused a write (full, read-only): how much of the body reached the
            # file is unknown, so a fresh download's partial file cannot be resumed and is
            # removed; a resumed one keeps what it held.
            if start:
                raise LocalFileError(f"{exc}; {partial!r} was kept (check its size before resuming)", path=exc.path) from exc
            yield from _remove_quietly(partial)
            raise LocalFileError(f"{exc}; nothing was kept", path=exc.path) from exc
        if (not start or isinstance(exc, ChecksumMismatch)) and (consumer.delivered == 0 or isinstance(exc, ChecksumMismatch)):
            yield from _remove_quietly(partial)
        elif isinstance(exc, MediaError) and not isinstance(exc, ChecksumMismatch):
            raise MediaError(f"{exc}; the {consumer.delivered} bytes received are kept in {partial!r} (sending it again with media_download.start = {consumer.raw} resumes)") from exc
        raise
    assert final is not None
    if partial is not None and download.file_path is not None:
        try:
            if final.status == 416 and consumer.delivered == 0:
                # An empty object: no body was streamed, so no partial file was created.
                yield FileOp("write", partial, data=b"")
            yield FileOp("replace", partial, dest=download.file_path)
        except OSError as exc:
            # Every byte arrived and was verified: keep them rather than lose the download.
            raise LocalFileError(
                f"cannot move the finished download {partial!r} to {download.file_path!r}: {exc.strerror or exc}; "
                f"the complete file is kept as {partial!r}",
                path=download.file_path,
            ) from None
    response = HttpResponse(200 if final.status in (206, 416) else final.status, final.headers, b"", final.reason, url, streamed=consumer.delivered)
    return build_response(response, request)


def _remove_quietly(path: str) -> Flow[None]:
    """Remove a partial file while another failure is on its way out: a failing removal
    (a read-only file system) must not hide that failure."""
    try:
        yield FileOp("remove", path)
    except OSError:
        pass


def _pin_generation(url: str, generation: str | None) -> str:
    """Later requests of a download must read the version the first one started on."""
    if generation is None or "generation=" in url:
        return url
    return _with_query_param(url, "generation", generation)


def _decoded(reply: HttpResponse) -> HttpResponse:
    encoding = reply.headers.get("content-encoding")
    if not encoding or not reply.body:
        return reply
    try:
        # Bounded like every buffered body: an error reply cannot expand without limit.
        body = ContentDecoder(encoding).decode_all(reply.body, DEFAULT_MAX_RESPONSE_SIZE)
    except (TransportError, ValueError):
        return reply
    return HttpResponse(reply.status, reply.headers, body, reply.reason, reply.url)


def _download_backoff(
    state: RetryState, retry_after: float | None, problem: str, consumer: _DownloadConsumer, reply: HttpResponse | None = None
) -> Flow[None]:
    if not (yield from wait_flow(state, retry_after)):
        raise MediaError(
            f"download stopped after {consumer.delivered} bytes and {state.attempt} attempts; last problem: {problem}"
        )
