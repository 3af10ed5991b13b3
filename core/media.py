"""Media uploads and downloads as core flows (docs/protocol.md §2).

Uploads
-------
Three protocols, chosen per call (:func:`choose_protocol`):

* **simple** (``uploadType=media``, §2.1): the bytes are the body;
* **multipart** (``uploadType=multipart``, §2.2): a ``multipart/related`` body, JSON metadata
  first, then the media, CRLF framing. Without metadata there is *no* metadata part: the
  upload is sent as a simple one (aiogoogle sent a literal ``null`` part and corrupted files);
* **resumable** (``uploadType=resumable``, §2.3): a session is initiated, then the media goes
  in chunks (multiples of 256 KiB) with ``Content-Range``. Every 308 reply says how much the
  server persisted (``Range: bytes=0-N``; *no* ``Range`` means nothing) and the next chunk
  starts right after it, so bytes the server dropped are sent again. After a broken
  connection, a timeout, a 408/429/5xx or a rate-limit 403, the flow backs off and asks the
  server where it stands (``Content-Range: bytes */total`` or ``bytes */*``) before going on.
  :attr:`MediaUpload.session_uri` and :attr:`MediaUpload.offset` are kept up to date, so an
  upload can be resumed later, in another process (pass ``session_uri`` back in).

Sources are described, not read, by the core: a local file becomes
:class:`~aiogoogle._http.FileRange` segments the driver streams from disk; bytes are sliced;
an async iterable (``pipe_from``) is pulled chunk by chunk with :class:`~aiogoogle._effects.Pull`
and the current chunk is held until the server confirmed it, because it cannot be re-read.
Memory is thus bounded by about twice the chunk size whatever the upload's size.

Downloads
---------
The body streams into a temporary file ``<file_path>.part`` (renamed over ``file_path`` only
once complete and verified) or into ``pipe_to``. The request asks for raw bytes: decoding of
``Content-Encoding`` happens here, after hashing, because ``x-goog-hash`` describes the bytes
as stored (§2.5). After a broken connection the download continues with
``Range: bytes=<received>-``, pinned to the object's ``generation`` when the server named it
(``x-goog-generation``), so a concurrent overwrite cannot splice two versions together. A
server that ignores the range and answers 200 is handled too: the bytes already delivered are
skipped. ``range_chunks=True`` downloads in ``Range`` requests of ``chunk_size`` bytes.
crc32c (preferred) or md5 from ``x-goog-hash`` is checked when the whole object was received;
it is skipped for decompressive transcoding (``x-goog-stored-content-encoding: gzip`` served
without ``Content-Encoding: gzip``), where the stored hash cannot match (§2.5). An error
response is returned (and raised by the client), never written to the destination.
"""

from __future__ import annotations

import base64
import hashlib
import json as _json
import random as _random
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from ._effects import Call, FileOp, Flow, Now, Pull
from ._http import (
    DEFAULT_MAX_RESPONSE_SIZE,
    ContentDecoder,
    FileRange,
    FileTarget,
    Headers,
    HttpRequest,
    HttpResponse,
    PipeSource,
    PipeTarget,
    Segment,
    StreamBody,
)
from ._page_tokens import with_query_param as _with_query_param
from ._parse import ascii_int
from ._send import (
    _CREDENTIAL_HEADERS,
    CallOptions,
    _same_origin,
    base_headers,
    build_response,
    exchange_timeout,
    send_flow,
    to_http,
)
from .excs import (
    ChecksumMismatch,
    LocalFileError,
    MediaError,
    ResumableUploadError,
    TransportError,
    ValidationError,
)
from .models import MediaDownload, MediaUpload, Request, Response
from .retry import RetryPolicy, RetryState, retry_after_flow, wait_flow

__all__ = [
    "RESUMABLE_THRESHOLD",
    "UPLOAD_GRANULE",
    "choose_protocol",
    "download_flow",
    "multipart_body",
    "parse_persisted",
    "upload_flow",
    "upload_url",
]

#: Every resumable chunk but the last must be a multiple of this (docs/protocol.md §2.3).
UPLOAD_GRANULE = 256 * 1024
#: Uploads larger than this (or of unknown size) go resumable when the method allows it and
#: the caller did not choose; smaller ones are sent in one request (GCS's own threshold).
RESUMABLE_THRESHOLD = 8 * 1024 * 1024

Protocol = Literal["simple", "multipart", "resumable"]

_SINGLE_TRY = RetryPolicy(max_attempts=1)
#: Google's "Resume Incomplete": the answer to a resumable session's requests, not a
#: redirect (https://cloud.google.com/storage/docs/performing-resumable-uploads).
_RESUME_INCOMPLETE = frozenset({308})


# ---------------------------------------------------------------------------------- sources


class _Source:
    """Where the upload's bytes come from: ``bytes``, a local file, or an async iterable."""

    __slots__ = ("data", "path", "pipe", "size")

    def __init__(self, data: bytes | None, path: str | None, pipe: AsyncIterable[bytes] | None, size: int | None) -> None:
        self.data = data
        self.path = path
        self.pipe = pipe
        self.size = size

    def segment(self, start: int, length: int) -> Segment:
        """``length`` bytes from ``start`` (file and bytes sources only)."""
        if self.data is not None:
            if start == 0 and length == len(self.data):
                return self.data
            return self.data[start : start + length]
        assert self.path is not None
        return FileRange(self.path, start, length)


def _open_source(media: MediaUpload) -> Flow[_Source]:
    if media.pipe_from is not None:
        if media.file_path_or_bytes is not None:
            raise MediaError("an upload takes either a file/bytes or pipe_from, not both")
        return _Source(None, None, media.pipe_from, media.size)
    src = media.file_path_or_bytes
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        return _Source(data, None, None, len(data))
    if isinstance(src, str):
        try:
            size = yield FileOp("size", src)
        except OSError as exc:
            raise LocalFileError(f"cannot upload {src!r}: {exc.strerror or exc}", path=src) from None
        if size < 0:
            raise LocalFileError(f"cannot upload {src!r}: no such file", path=src)
        return _Source(None, src, None, int(size))
    raise MediaError("this upload has no source: give upload_file= (a path or bytes) or pipe_from=")


def _mime_ok(content_type: str, accept: list[str]) -> bool:
    ctype = content_type.split(";", 1)[0].strip().lower()
    for rng in accept:
        r = rng.split(";", 1)[0].strip().lower()
        if r in ("*/*", ctype) or (r.endswith("/*") and r[:-2] == ctype.split("/", 1)[0]):
            return True
    return False


def _check_size(media: MediaUpload, size: int | None) -> None:
    if media.validate and media.max_size is not None and size is not None and size > media.max_size:
        raise MediaError(f"upload of {size} bytes exceeds this method's maxSize of {media.max_size} bytes")


def choose_protocol(media: MediaUpload, size: int | None, has_metadata: bool) -> Protocol:
    """Which upload protocol to use.

    ``use_resumable=True`` forces resumable, ``False`` forbids it; otherwise it is used when
    the method supports it and the size is unknown or above :data:`RESUMABLE_THRESHOLD`.
    Otherwise: multipart when there is metadata, simple when there is none.
    """
    if media.use_resumable is True:
        return "resumable"
    if media.use_resumable is None and media.resumable is not None and (size is None or size > RESUMABLE_THRESHOLD):
        return "resumable"
    if media.session_uri is not None:
        return "resumable"
    return "multipart" if has_metadata else "simple"


#: The ``uploadType`` query value of each protocol.
_UPLOAD_TYPE: dict[str, str] = {"simple": "media", "multipart": "multipart", "resumable": "resumable"}


def upload_url(media: MediaUpload, protocol: Protocol) -> str:
    """The URL an upload with ``protocol`` (from :func:`choose_protocol`) is sent to (a
    resumable upload: where its session starts). What ``aiogoogle call --dry-run`` shows."""
    return _with_query_param(media.upload_path or "", "uploadType", _UPLOAD_TYPE[protocol])


def _content_type(media: MediaUpload, request: Request) -> str:
    return media.content_type or request.upload_file_content_type or "application/octet-stream"


def _new_boundary() -> str:
    # 128 random bits: the chance that streamed media contains the delimiter is nil.
    return f"aiogoogle-{_random.SystemRandom().getrandbits(128):032x}"


def multipart_body(metadata: bytes, media: Segment, media_type: str, boundary: str) -> tuple[StreamBody, str]:
    """The ``multipart/related`` body of a multipart upload and its Content-Type (§2.2)."""
    head = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode()
        + metadata
        + f"\r\n--{boundary}\r\nContent-Type: {media_type}\r\nContent-Transfer-Encoding: binary\r\n\r\n".encode()
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    return StreamBody.of(head, media, tail), f"multipart/related; boundary={boundary}"


def _metadata_bytes(request: Request) -> bytes | None:
    if request.json is None:
        return None
    try:
        return _json.dumps(request.json, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ValidationError([("json", f"cannot be encoded as JSON: {exc}", request.json)]) from None


# ---------------------------------------------------------------------------------- uploads


def upload_flow(request: Request, options: CallOptions) -> Flow[Response]:
    """Upload ``request.media_upload`` with the protocol :func:`choose_protocol` picks."""
    media = request.media_upload
    assert media is not None
    if not media.upload_path:
        raise MediaError("this upload has no upload URL (build it from a discovery method that supports media upload)")
    source = yield from _open_source(media)
    _check_size(media, source.size)
    ctype = _content_type(media, request)
    if media.validate and media.mime_range and not _mime_ok(ctype, media.mime_range):
        raise MediaError(f"this method accepts only {', '.join(media.mime_range)}; the upload is {ctype}")
    metadata = _metadata_bytes(request)
    protocol = choose_protocol(media, source.size, metadata is not None)
    policy = options.policy_for(request)
    if protocol == "resumable":
        response = yield from _resumable(request, options, media, source, ctype, metadata, policy)
        return build_response(response, request)

    url = upload_url(media, protocol)
    headers = base_headers(request, options)
    headers.setdefault("accept", "application/json")
    segment: Segment
    if source.pipe is not None:
        segment = PipeSource(source.pipe, source.size)
        # The pipe is consumed by the first attempt: it cannot be sent twice.
        policy = _SINGLE_TRY
    else:
        segment = source.segment(0, source.size or 0)
    if protocol == "multipart":
        assert metadata is not None
        body, headers["content-type"] = multipart_body(metadata, segment, ctype, _new_boundary())
    else:
        body = StreamBody.of(segment)
        headers["content-type"] = ctype
    http = HttpRequest(
        method=(request.method or "POST").upper(),
        url=url,
        headers=tuple(headers.items()),
        body=body,
        timeout=exchange_timeout(request, options),
        verify_ssl=request._verify_ssl,
    )
    response = yield from send_flow(http, policy, max_redirects=options.max_redirects)
    if response.status < 300:
        yield from _progress(media, source.size or 0, source.size)
    return build_response(response, request)


def _progress(media: MediaUpload, done: int, total: int | None) -> Flow[None]:
    if media.progress is not None:
        yield Call(media.progress, (done, total))


def parse_persisted(range_header: str | None) -> int:
    """How many bytes a 308 reply says the server holds (§2.3): ``bytes=0-N`` → ``N + 1``;
    no header → 0 (the server holds nothing)."""
    if range_header is None or not range_header.strip():
        return 0
    value = range_header.strip()
    unit, _, spec = value.partition("=")
    first, _, last = spec.partition("-")
    start, end = ascii_int(first), ascii_int(last)
    if unit.strip().lower() != "bytes" or start != 0 or end is None:
        raise ResumableUploadError(f"the server's Range header {value[:80]!r} is not of the form bytes=0-N")
    return end + 1


class _Resumable:
    """Book-keeping of one resumable upload (the pipe buffer and how far we got)."""

    __slots__ = ("buf", "buf_start", "eof", "media", "sent_high", "total")

    def __init__(self, media: MediaUpload, total: int | None, sent_high: int | None) -> None:
        self.media = media
        self.total = total
        self.buf = bytearray()
        self.buf_start = 0
        self.eof = False
        # Upper bound of what this process sent (None: resuming a session started elsewhere).
        self.sent_high = sent_high

    def fail(self, msg: str) -> ResumableUploadError:
        media = self.media
        return ResumableUploadError(
            f"{msg} (resumable upload stopped at byte {media.offset}; to resume, even in another process, send a request whose media_upload.session_uri is this error's session_uri)",
            session_uri=media.session_uri,
            offset=media.offset,
        )


def _resumable(
    request: Request,
    options: CallOptions,
    media: MediaUpload,
    source: _Source,
    ctype: str,
    metadata: bytes | None,
    policy: RetryPolicy,
) -> Flow[HttpResponse]:
    chunk = media.chunk_size
    if chunk <= 0 or chunk % UPLOAD_GRANULE:
        suggestion = max(1, round(chunk / UPLOAD_GRANULE)) * UPLOAD_GRANULE
        raise ValidationError(
            [("chunk_size", f"resumable upload chunks must be a positive multiple of 256 KiB (262144 bytes), e.g. {suggestion}", chunk)]
        )
    assert media.upload_path is not None
    timeout = exchange_timeout(request, options)
    common = base_headers(request, options)
    common.pop("content-type", None)
    common.setdefault("accept", "application/json")
    method = (request.method or "POST").upper()

    resuming = media.session_uri is not None
    up = _Resumable(media, source.size, None if resuming else 0)
    if not resuming:
        url = upload_url(media, "resumable")
        headers = dict(common)
        headers["x-upload-content-type"] = ctype
        if source.size is not None:
            headers["x-upload-content-length"] = str(source.size)
        if metadata is not None:
            headers["content-type"] = "application/json; charset=UTF-8"
        init = HttpRequest(method, url, tuple(headers.items()), metadata or b"", timeout, request._verify_ssl)
        # Initiating twice only opens two sessions, so it is retried like an idempotent call.
        reply = yield from send_flow(init, policy, idempotent=True, max_redirects=options.max_redirects)
        if reply.status >= 300:
            return reply  # an error (or a 304 the request asked for): raise_for_status raises it
        location = reply.headers.get("location")
        if not location or not location.strip():
            raise ResumableUploadError(f"starting the resumable upload gave {reply.status} without a Location header")
        try:
            media.session_uri = urljoin(url, location.strip())
        except ValueError:
            raise ResumableUploadError("starting the resumable upload gave a malformed Location header") from None
        media.offset = 0
    session_uri = media.session_uri
    assert session_uri is not None
    # The session URI is itself the authorisation to upload ("the session URI acts as an
    # authentication token", https://cloud.google.com/storage/docs/resumable-uploads), so
    # its requests need no credentials; they get them only on the API's own origin, as
    # before, and never on another one (a server, or a session_uri passed in, could point
    # the bearer token anywhere).
    authorize = _check_session_uri(up, session_uri, media.upload_path)
    if not authorize:
        common = {n: v for n, v in common.items() if n not in _CREDENTIAL_HEADERS}

    state = RetryState(policy, True, (yield Now(monotonic=True)))
    need_status = resuming
    last_problem = ""
    while True:
        query = need_status
        if need_status:
            total = up.total
            headers = dict(common)
            headers["content-range"] = f"bytes */{total if total is not None else '*'}"
            http = HttpRequest("PUT", session_uri, tuple(headers.items()), b"", timeout, request._verify_ssl)
        else:
            http = yield from _next_chunk(up, source, common, session_uri, timeout, request._verify_ssl, chunk)
        try:
            # 308 is this protocol's "Resume Incomplete"; any other 3xx is a RedirectError.
            reply = yield from send_flow(http, _SINGLE_TRY, idempotent=True, max_redirects=0, answers=_RESUME_INCOMPLETE, authorize=authorize)
        except TransportError as exc:
            need_status = True
            last_problem = str(exc)
            yield from _backoff(up, state, None, last_problem)
            continue
        status = reply.status
        if status in (200, 201):
            media.offset = up.total if up.total is not None else media.offset
            yield from _progress(media, media.offset, up.total)
            return reply
        if status == 308:
            confirmed = parse_persisted(reply.headers.get("range"))
            if confirmed == 1:
                # "bytes=0-0": gcp-storage-emulator's answer when it holds nothing, where
                # Cloud Storage sends no Range (docs/testing.md, "gcp-storage-emulator"). Servers keep bytes
                # in 256 KiB units and ignore bytes they already hold, so sending from 0 is
                # right in both readings.
                confirmed = 0
            if up.sent_high is not None and confirmed > up.sent_high:
                raise up.fail(f"the server claims {confirmed} bytes but only {up.sent_high} were sent")
            if up.total is not None and confirmed > up.total:
                raise up.fail(f"the server claims {confirmed} bytes of a {up.total}-byte upload")
            progressed = confirmed > media.offset
            if progressed:
                # Progress: a new run of failures gets a fresh retry budget and deadline.
                state = RetryState(policy, True, (yield Now(monotonic=True)))
            media.offset = confirmed
            need_status = False
            yield from _progress(media, confirmed, up.total)
            if not progressed and not query:
                # Bytes were sent and the server holds no more than before (no Range, or
                # one that did not advance): a failure like any other, so it waits and
                # counts against the retry budget instead of re-sending at wire speed
                # forever.
                last_problem = f"the server answered 308 without taking any of the bytes sent (it holds {confirmed})"
                yield from _backoff(up, state, None, last_problem)
            continue
        if status in (404, 410):
            raise up.fail(f"the upload session is gone ({status}); start a new upload")
        # The session URI is the upload's own: asking it again is always safe.
        if policy.should_retry(reply, True):
            retry_after = yield from retry_after_flow(reply)
            need_status = True
            last_problem = f"HTTP {status}"
            yield from _backoff(up, state, retry_after, last_problem)
            continue
        return reply


def _check_session_uri(up: _Resumable, session_uri: str, upload_path: str) -> bool:
    """Refuse a session URI that is not an http(s) URL or that would move the upload from
    https to plain http; return whether it is on the API's origin (and so may receive the
    call's credentials)."""
    try:
        parts = urlsplit(session_uri)
        scheme = parts.scheme.lower()
        _ = parts.port  # ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise up.fail("the upload session URI is malformed") from None
    if scheme not in ("http", "https") or not parts.hostname:
        raise up.fail("the upload session URI is not an http(s) URL")
    if scheme == "http" and urlsplit(upload_path).scheme.lower() == "https":
        raise up.fail("the upload session URI is plain http for an https upload; the media would travel unencrypted")
    return _same_origin(session_uri, upload_path)


def _backoff(up: _Resumable, state: RetryState, retry_after: float | None, problem: str) -> Flow[None]:
    if not (yield from wait_flow(state, retry_after)):
        raise up.fail(f"gave up after {state.attempt} attempts without progress; last problem: {problem}")


def _next_chunk(
    up: _Resumable,
    source: _Source,
    common: dict[str, str],
    session_uri: str,
    timeout: Any,
    verify_ssl: bool,
    chunk: int,
) -> Flow[HttpRequest]:
    offset = up.media.offset
    body: Segment
    if source.pipe is not None:
        if offset < up.buf_start:
            raise up.fail(
                f"the server now holds only {offset} bytes, but bytes from {up.buf_start} on were already "
                "dropped from the pipe_from buffer, so they cannot be sent again"
            )
        if offset > up.buf_start + len(up.buf):
            raise up.fail(f"the server claims {offset} bytes but only {up.buf_start + len(up.buf)} were read")
        del up.buf[: offset - up.buf_start]
        up.buf_start = offset
        # Read one byte more than a chunk: whether the source has ended decides whether this
        # chunk is the last one (and so whether the total goes into Content-Range).
        while not up.eof and len(up.buf) <= chunk:
            want = chunk + 1 - len(up.buf)
            data = yield Pull(source.pipe, want)
            if len(data) < want:
                up.eof = True
            up.buf += data
            media = up.media
            if media.validate and media.max_size is not None and up.buf_start + len(up.buf) > media.max_size:
                raise MediaError(f"upload exceeds this method's maxSize of {media.max_size} bytes")
        if up.eof:
            end = up.buf_start + len(up.buf)
            if up.total is not None and end != up.total:
                raise up.fail(f"pipe_from gave {end} bytes but the upload was declared as {up.total}")
            up.total = end
        n = min(chunk, len(up.buf))
        body = bytes(up.buf[:n])
    else:
        assert up.total is not None
        n = min(chunk, up.total - offset)
        body = source.segment(offset, n)
    total = up.total
    final = total is not None and offset + n == total
    headers = dict(common)
    if n == 0:
        headers["content-range"] = f"bytes */{total}"
    else:
        headers["content-range"] = f"bytes {offset}-{offset + n - 1}/{total if final or total is not None else '*'}"
    if up.sent_high is not None:
        up.sent_high = max(up.sent_high, offset + n)
    return HttpRequest("PUT", session_uri, tuple(headers.items()), StreamBody.of(body), timeout, verify_ssl)


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
