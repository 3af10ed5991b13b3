"""Media uploads as core flows (docs/protocol.md §2.1-2.3): simple, multipart and resumable.

See :mod:`aiogoogle.media` for the protocols, their choice and how sources are described.
"""


from __future__ import annotations

import json as _json
from collections.abc import AsyncIterable
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from ._effects import Call, FileOp, Flow, Now, Pull
from ._http import (
    FileRange,
    HttpRequest,
    HttpResponse,
    PipeSource,
    Segment,
    StreamBody,
)
from ._page_tokens import with_query_param as _with_query_param
from ._parse import ascii_int
from ._providers import RandomBytes, hex_token
from ._send import (
    _CREDENTIAL_HEADERS,
    CallOptions,
    _same_origin,
    base_headers,
    build_response,
    exchange_timeout,
    send_flow,
)
from .excs import (
    LocalFileError,
    MediaError,
    ResumableUploadError,
    TransportError,
    ValidationError,
)
from .models import MediaUpload, Request, Response
from .retry import RetryPolicy, RetryState, retry_after_flow, wait_flow

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


def _new_boundary(random_bytes: RandomBytes) -> str:
    # 128 random bits: the chance that streamed media contains the delimiter is nil, so
    # the media (which may be a stream) is not scanned for it (RFC 2046 §5.1.1 asks only
    # that the boundary not occur in the parts).
    return f"aiogoogle-{hex_token(random_bytes, 16)}"


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
        body, headers["content-type"] = multipart_body(metadata, segment, ctype, _new_boundary(options.random_bytes))
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


