"""Batch requests: many API calls in one ``multipart/mixed`` exchange (docs/protocol.md §3).

Usage::

    batch = Request.batch_requests(storage.objects.delete(bucket="b", object="x"),
                                   storage.objects.get(bucket="b", object="y"))
    results = await aiogoogle.as_user(batch)            # one result per part, in order
    results = await aiogoogle.as_user(batch, return_exceptions=True, raise_for_status=False)

Encoding: each part is ``Content-Type: application/http``, ``Content-ID: <prefix+N>``, then
the inner request line (path and query only, never a full URL), the part's own headers and
body. Headers common to all parts (user agent, credentials) travel once, on the outer request,
which Google applies to every part.

Decoding matches each response part to its request by ``Content-ID`` (``<response-prefix+N>``)
and falls back to order when a server leaves the ids out (gcp-storage-emulator does, and it
also omits the blank line before the embedded status line; both are tolerated). Anything that
is not a well-formed reply raises :class:`~aiogoogle.excs.BatchError`.

The flow splits the parts into batches of at most the API's limit, and sends again, once
credentials were refreshed, the parts that failed with 401, and, with the retry policy's
backoff, the idempotent parts that failed with a retryable status (408, 429, 5xx, a rate-limit
403). Non-idempotent parts (POST/PATCH without a precondition) are not re-sent after a 5xx,
by the same rule as single calls (:mod:`aiogoogle.retry`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._effects import Authorize, Flow, Now
from ._http import Headers, HttpRequest, HttpResponse
from ._parse import ascii_int
from ._providers import RandomBytes, hex_token
from ._send import CallOptions, build_response, exchange_timeout, send_flow, to_http
from .excs import AiogoogleError, BatchError, ValidationError
from .models import Request, Response
from .retry import RetryPolicy, RetryState, retry_after_flow, wait_flow

__all__ = ["BatchPart", "batch_flow", "batch_limit", "decode_batch", "encode_batch", "match_parts", "split_parts"]

#: Parts per batch when the API's own limit is not known (Cloud Storage, Drive and Gmail
#: take 100; docs/protocol.md §3).
DEFAULT_LIMIT = 100
#: APIs documented to accept more (Calendar, Directory, Compute: 1000).
_LIMITS = {"calendar": 1000, "admin": 1000, "compute": 1000}
#: Body bytes per batch request (Cloud Storage's limit is 10 MB; some room for framing).
MAX_BATCH_BYTES = 8 * 1024 * 1024
# Headers the outer request carries for every part.
_OUTER_ONLY = frozenset({"user-agent", "x-goog-api-client", "accept-encoding"})


def batch_limit(batch_url: str) -> int:
    """The most parts one batch to ``batch_url`` may carry."""
    path = urlsplit(batch_url).path.strip("/").split("/")
    api = path[1] if len(path) > 1 and path[0] == "batch" else ""
    return _LIMITS.get(api, DEFAULT_LIMIT)


def _new_prefix(random_bytes: RandomBytes) -> str:
    # 96 random bits, fresh per batch request: a reply's Content-IDs are matched to this
    # request's parts by it (https://developers.google.com/drive/api/guides/performance#batch-request-format).
    return hex_token(random_bytes, 12)


#: Fresh boundaries drawn before giving up. With 96 random bits a second draw is already
#: all but impossible; the bound keeps a constant injected ``random_bytes`` from looping.
_BOUNDARY_DRAWS = 8


def _new_boundary(parts: Sequence[HttpRequest], random_bytes: RandomBytes) -> str:
    """A boundary that occurs in no part's body (RFC 2046 §5.1.1 requires it)."""
    for _ in range(_BOUNDARY_DRAWS):
        boundary = f"batch_{_new_prefix(random_bytes)}"
        needle = boundary.encode()
        if not any(isinstance(p.body, bytes) and needle in p.body for p in parts):
            return boundary
    raise ValidationError([("random_bytes", f"gave {_BOUNDARY_DRAWS} batch boundaries in a row that occur in a part's body; it must return random bytes")])


@dataclass(frozen=True, slots=True)
class BatchPart:
    """One inner response, before it becomes a :class:`~aiogoogle.models.Response`."""

    content_id: str | None
    response: HttpResponse


def encode_batch(parts: Sequence[HttpRequest], batch_url: str, *, boundary: str, prefix: str) -> tuple[bytes, str]:
    """The ``multipart/mixed`` body for ``parts`` and its Content-Type.

    Part ``i`` gets ``Content-ID: <prefix+i>``. ``boundary`` must not occur in any part (the
    caller checks, :func:`batch_flow` picks a fresh one).
    """
    out = bytearray()
    for i, part in enumerate(parts):
        split = urlsplit(part.url)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        out += f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{prefix}+{i}>\r\n\r\n".encode()
        out += f"{part.method} {target} HTTP/1.1\r\n".encode()
        body = part.body if isinstance(part.body, bytes) else b""
        for name, value in part.headers:
            if name.lower() not in _OUTER_ONLY and name.lower() != "content-length":
                out += f"{_canonical(name)}: {value}\r\n".encode("latin-1", "replace")
        if body:
            out += f"Content-Length: {len(body)}\r\n".encode()
        out += b"\r\n" + body + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/mixed; boundary={boundary}"


def _canonical(name: str) -> str:
    """``content-type`` → ``Content-Type``: header names are case-insensitive, but some
    batch parsers (gcp-storage-emulator's, for one) only recognise the canonical case."""
    return "-".join(word[:1].upper() + word[1:] for word in name.split("-"))


def _boundary_of(content_type: str | None) -> str:
    ctype = content_type or ""
    if not ctype.split(";", 1)[0].strip().lower().startswith("multipart/"):
        raise BatchError(f"the batch reply is not multipart (Content-Type {ctype!r})")
    for param in ctype.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if value:
                return value
    raise BatchError("the batch reply's Content-Type has no boundary")


def _split_head(block: bytes) -> tuple[list[bytes], bytes]:
    """Header lines and the rest of ``block`` (after the first blank line)."""
    crlf = block.find(b"\r\n\r\n")
    lf = block.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return block[:crlf].split(b"\r\n"), block[crlf + 4 :]
    if lf >= 0:
        return [line.rstrip(b"\r") for line in block[:lf].split(b"\n")], block[lf + 2 :]
    return [line.rstrip(b"\r") for line in block.split(b"\n")], b""


def _parse_headers(lines: list[bytes], what: str) -> list[tuple[str, str]]:
    headers = []
    for raw in lines:
        if not raw.strip():
            continue
        line = raw.decode("latin-1")
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise BatchError(f"malformed header line {line[:60]!r} in {what}")
        headers.append((name.strip(), value.strip()))
    return headers


def _parse_part(block: bytes, index: int) -> BatchPart:
    # Part headers, then an embedded HTTP response. gcp-storage-emulator puts no blank line
    # between the two (docs/testing.md, "gcp-storage-emulator"), so the status line also ends the headers.
    lines: list[bytes] = []
    rest = block.lstrip(b"\r\n")
    while True:
        nl = rest.find(b"\n")
        line = rest if nl < 0 else rest[:nl]
        if line.rstrip(b"\r") == b"" or line.startswith(b"HTTP/"):
            if line.rstrip(b"\r") == b"":
                rest = rest[nl + 1 :] if nl >= 0 else b""
            break
        lines.append(line.rstrip(b"\r"))
        if nl < 0:
            rest = b""
            break
        rest = rest[nl + 1 :]
    part_headers = Headers(_parse_headers(lines, f"batch part {index}"))
    rest = rest.lstrip(b"\r\n")
    head_lines, body = _split_head(rest)
    if not head_lines:
        raise BatchError(f"batch part {index} holds no HTTP response")
    status_line = head_lines[0].decode("latin-1").strip()
    fields = status_line.split(" ", 2)
    # status-code = 3DIGIT (RFC 9112 §4), ASCII digits only.
    status = ascii_int(fields[1], 3) if len(fields) >= 2 and len(fields[1]) == 3 else None
    if status is None or status < 100 or not fields[0].startswith("HTTP/"):
        raise BatchError(f"batch part {index} has no HTTP status line (got {status_line[:60]!r})")
    reason = fields[2] if len(fields) > 2 else ""
    headers = Headers(_parse_headers(head_lines[1:], f"batch part {index}"))
    length = ascii_int(headers.get("content-length"))
    if length is not None and length <= len(body):
        body = body[:length]
    cid = part_headers.get("content-id")
    return BatchPart(cid.strip() if cid else None, HttpResponse(status, headers, body, reason))


def decode_batch(content_type: str | None, body: bytes) -> list[BatchPart]:
    """Split a ``multipart/mixed`` batch reply into its parts (in the order received).

    Raises :class:`~aiogoogle.excs.BatchError` for anything that is not such a reply.
    """
    boundary = _boundary_of(content_type).encode("latin-1", "replace")
    # A delimiter is a line break, "--" and the boundary (RFC 2046 §5.1.1); the first one
    # may open the body. Bare LF line breaks are tolerated.
    pieces = (b"\n" + body).split(b"\n--" + boundary)
    if len(pieces) < 2:
        raise BatchError("the batch reply holds no part (boundary not found)")
    parts: list[BatchPart] = []
    closed = False
    for i, piece in enumerate(pieces[1:]):
        if piece.startswith(b"--"):
            closed = True
            break
        if piece.endswith(b"\r"):
            piece = piece[:-1]
        nl = piece.find(b"\n")
        if nl < 0 or piece[:nl].strip(b" \t\r"):
            raise BatchError(f"batch part {i}: the boundary line is malformed")
        parts.append(_parse_part(piece[nl + 1 :], i))
    if not closed:
        raise BatchError("the batch reply is truncated (no closing boundary)")
    return parts


def _index_of(content_id: str | None, prefix: str, count: int) -> int | None:
    if not content_id:
        return None
    cid = content_id.strip()
    if cid.startswith("<") and cid.endswith(">"):
        cid = cid[1:-1]
    cid = cid.removeprefix("response-")
    head, sep, tail = cid.rpartition("+")
    # An index has as many digits as the batch's size at most (a longer one, even of 4300
    # digits, is simply not ours).
    idx = ascii_int(tail, len(str(count)))
    if not sep or head.strip() != prefix or idx is None:
        return None
    return idx if idx < count else None


def match_parts(parts: list[BatchPart], prefix: str, count: int) -> list[HttpResponse | BatchError]:
    """Each request's reply: by Content-ID, else by position; a :class:`BatchError` for a
    request that got none."""
    out: list[HttpResponse | BatchError | None] = [None] * count
    unmatched: list[BatchPart] = []
    for part in parts:
        idx = _index_of(part.content_id, prefix, count)
        if idx is None or out[idx] is not None:
            unmatched.append(part)
        else:
            out[idx] = part.response
    if unmatched:
        if len(parts) != count:
            raise BatchError(f"the batch reply has {len(parts)} parts for {count} requests and not all carry their Content-ID")
        # No usable ids: parts come back in request order (docs/protocol.md §3).
        free = [i for i, r in enumerate(out) if r is None]
        for i, part in zip(free, unmatched, strict=False):
            out[i] = part.response
    return [r if r is not None else BatchError(f"the batch reply has no answer for part {i}") for i, r in enumerate(out)]


def batch_flow(request: Request, options: CallOptions) -> Flow[list[Response | AiogoogleError]]:
    """Send ``request.batch`` and return one :class:`Response` (or error) per part, in order."""
    parts = request.batch or ()
    if not parts:
        raise BatchError("an empty batch")
    for i, part in enumerate(parts):
        if part.media_upload is not None or part.media_download is not None:
            raise BatchError(f"part {i} uploads or downloads media, which Google's batch endpoint does not carry; send it on its own")
    batch_url = request.url or (parts[0].batch_url or "")
    if not batch_url:
        raise BatchError("the batch has no URL (rootUrl + batchPath)")
    policy = options.policy_for(request)
    results: list[Response | AiogoogleError | None] = [None] * len(parts)
    for chunk in split_parts([to_http(p, options) for p in parts], batch_limit(batch_url)):
        yield from _send_chunk(request, parts, chunk, batch_url, options, policy, results)
    return [r if r is not None else BatchError(f"no result for part {i}") for i, r in enumerate(results)]


def split_parts(wires: Sequence[HttpRequest], limit: int, max_bytes: int = MAX_BATCH_BYTES) -> list[list[int]]:
    """Indices of the parts per batch: at most ``limit`` parts and about ``max_bytes`` of
    body each (Cloud Storage refuses batches of 10 MB or more, docs/protocol.md §3)."""
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, wire in enumerate(wires):
        body = wire.body if isinstance(wire.body, bytes) else b""
        cost = len(body) + len(wire.url) + sum(len(n) + len(v) + 4 for n, v in wire.headers) + 200
        if current and (len(current) >= limit or size + cost > max_bytes):
            groups.append(current)
            current, size = [], 0
        current.append(i)
        size += cost
    if current:
        groups.append(current)
    return groups


def _send_chunk(
    request: Request,
    parts: Sequence[Request],
    indices: list[int],
    batch_url: str,
    options: CallOptions,
    policy: RetryPolicy,
    results: list[Response | AiogoogleError | None],
) -> Flow[None]:
    wires = {i: to_http(parts[i], options) for i in indices}
    idempotent = {i: RetryPolicy.is_idempotent(w.method, w.url, dict(w.headers)) for i, w in wires.items()}
    pending = list(indices)
    state = RetryState(policy, True, (yield Now(monotonic=True)))
    refreshed = False
    while pending:
        auth = yield Authorize(None)
        prefix = _new_prefix(options.random_bytes)
        boundary = _new_boundary([wires[i] for i in pending], options.random_bytes)
        body, ctype = encode_batch([wires[i] for i in pending], batch_url, boundary=boundary, prefix=prefix)
        headers = {n.lower(): v for n, v in to_http(request, options, url=batch_url).headers}
        headers["content-type"] = ctype
        http = HttpRequest("POST", batch_url, tuple(headers.items()), body, exchange_timeout(request, options), request._verify_ssl)
        # The outer POST only carries the parts; whether a part may run twice is decided per
        # part below, so the envelope is retried for failures that prove nothing ran.
        reply = yield from send_flow(http, policy, idempotent=False, max_redirects=options.max_redirects)
        if reply.status >= 300:
            # An outer error fails every part at once (docs/protocol.md §3).
            build_response(reply, request, url=batch_url).raise_for_status()
            raise BatchError(f"the batch endpoint answered {reply.status} {reply.reason}".rstrip())
        answers = match_parts(decode_batch(reply.headers.get("content-type"), reply.body), prefix, len(pending))
        again: list[int] = []
        unauthorized = False
        retry_after: float | None = None
        for i, answer in zip(pending, answers, strict=True):
            if isinstance(answer, BatchError):
                results[i] = answer
                continue
            results[i] = build_response(answer, parts[i], url=parts[i].url)
            status = answer.status
            if status == 401 and not refreshed and auth.token is not None:
                again.append(i)
                unauthorized = True
            elif policy.should_retry(answer, idempotent[i]):
                again.append(i)
                wait = yield from retry_after_flow(answer)
                if wait is not None and (retry_after is None or wait > retry_after):
                    retry_after = wait
        if not again:
            return
        if unauthorized:
            # docs/protocol.md §3: re-send the parts that got 401, once, after a refresh.
            refreshed = True
            yield Authorize(auth.token)
        retried = any(isinstance(results[i], Response) and results[i].status_code != 401 for i in again)  # type: ignore[union-attr]
        if retried and not (yield from wait_flow(state, retry_after)):
            # Out of retries: the last answers stay as the parts' results.
            again = [i for i in again if getattr(results[i], "status_code", None) == 401]
            if not again:
                return
        pending = again
