"""Scripted replies and the request log of :class:`~aiogoogle.testing.LocalGoogleServer`:
:class:`Reply` (a canned answer, faults included), :class:`Recorded` (one request as
received), the per-``(method, path)`` queues of :meth:`~_Replies.expect` and the handlers of
:meth:`~_Replies.add_handler`, body reading that records at most :data:`BODY_RECORD_LIMIT`
bytes, and the built-in test routes (``/redirect``, ``/resume308``, ``/status/{code}``,
``/gzip``, ``/slow``, ``/bytes/{n}`` and the echo every unknown path gets).

:class:`_Replies` is the part of the server class that keeps this state; the server's
lifecycle is in :mod:`aiogoogle.testing.server`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gzip as _gzip
import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

#: How much of each request body :class:`Recorded` keeps (the rest is counted, not kept).
BODY_RECORD_LIMIT = 1 << 20

# Per-request storage keys (typed keys avoid aiohttp's NotAppKeyWarning).
_RECORDED: Any = getattr(web, "RequestKey", lambda name, t: name)("aiogoogle_recorded", object)
_BODY_DONE: Any = getattr(web, "RequestKey", lambda name, t: name)("aiogoogle_body_done", bool)

# google.rpc.Code names for the HTTP statuses Google maps them to
# (https://cloud.google.com/apis/design/errors#http_mapping).
_STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    416: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_REASONS: dict[int, str] = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    409: "conflict",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}


def google_error(status: int, message: str, reason: str | None = None, domain: str = "global") -> dict[str, Any]:
    """The v2 error body Google APIs send (https://cloud.google.com/apis/design/errors#http_mapping)."""
    return {
        "error": {
            "code": status,
            "message": message,
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
            "errors": [{"message": message, "domain": domain, "reason": reason or _REASONS.get(status, "unknown")}],
        }
    }


@dataclass
class Reply:
    """One scripted answer (see :meth:`LocalGoogleServer.expect`).

    ``json`` (if not None) becomes the body with ``Content-Type: application/json``,
    otherwise ``body`` is sent as is. Faults: ``delay`` seconds before answering;
    ``drop_after`` sends the headers and that many body bytes, then aborts the connection
    (a reset); ``truncate`` advertises the full ``Content-Length`` but sends only that many
    bytes, then closes the connection cleanly; ``gzip`` compresses the body and sets
    ``Content-Encoding: gzip`` (the byte counts of the faults then apply to the compressed
    body).
    """

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop_after: int | None = None
    truncate: int | None = None
    gzip: bool = False

    @classmethod
    def error(cls, status: int, message: str, reason: str | None = None, **kwargs: Any) -> Reply:
        """A Google-style JSON error: ``{"error": {"code", "message",
        "status", "errors": [{"reason", ...}]}}``. ``reason`` defaults to the usual one for
        the status (``notFound``, ``rateLimitExceeded``, ``backendError``...)."""
        return cls(status=status, json=google_error(status, message, reason), **kwargs)

    @classmethod
    def redirect(cls, location: str, status: int = 302, **kwargs: Any) -> Reply:
        """A redirect to ``location``."""
        headers = {"Location": location, **dict(kwargs.pop("headers", {}))}
        return cls(status=status, headers=headers, **kwargs)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """The body bytes as sent and the headers to send with them."""
        headers = dict(self.headers)
        lower = {k.lower() for k in headers}
        if self.json is not None:
            body = json.dumps(self.json).encode()
            if "content-type" not in lower:
                headers["Content-Type"] = "application/json; charset=UTF-8"
        else:
            body = bytes(self.body)
        if self.gzip:
            body = _gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        return body, headers


@dataclass
class Recorded:
    """One request the server received.

    ``path`` is percent-decoded and ``raw_path`` is the request target as sent (still
    encoded, query included); ``headers`` has lower-case names (repeated headers joined with
    ``", "``); ``body`` keeps at most :data:`BODY_RECORD_LIMIT` bytes and ``body_size`` is
    the full size; ``peer_port`` is the client's source port, the same for requests that
    reused one connection.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    body_size: int = 0
    peer_port: int = 0
    raw_path: str = ""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse | Reply] | web.StreamResponse | Reply]
#: A router answers the requests it knows (a response) and passes on the others (None).
Router = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


def json_response(status: int, obj: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response as Google sends it (``application/json; charset=UTF-8``)."""
    return web.Response(status=status, body=json.dumps(obj).encode(), headers=headers,
                        content_type="application/json", charset="UTF-8")


def error_response(status: int, message: str, reason: str | None = None) -> web.Response:
    """A Google-style JSON error response (:func:`google_error`)."""
    return json_response(status, google_error(status, message, reason))


def norm_path(path: str) -> str:
    """``path`` without its query, with a leading ``/``: the key scripts and handlers use."""
    path = path.split("?", 1)[0]
    return path if path.startswith("/") else "/" + path


def pattern_bytes(n: int, offset: int = 0) -> bytes:
    """The deterministic bytes ``GET /bytes/{n}`` serves (byte ``i`` is ``i % 251``)."""
    return bytes((i % 251) for i in range(offset, offset + n))


# 251 is prime, so chunks never line up with a power-of-two buffer by accident.
_PATTERN = pattern_bytes(251 * 262)  # ~64 KiB, a whole number of periods
_MAX_CHUNK = len(_PATTERN) - 251  # a chunk may start at any phase of the period


async def read_body(request: web.Request) -> bytes:
    """Read the whole request body (plugins: use this rather than ``request.read()`` so
    the log records it). Returns it in full."""
    raw = await request.read()
    rec = request.get(_RECORDED)
    if rec is not None:
        rec.body = raw[:BODY_RECORD_LIMIT]
        rec.body_size = len(raw)
        request[_BODY_DONE] = True
    return raw


async def read_json_body(request: web.Request) -> Any:
    """The request body parsed as JSON (recorded like :func:`read_body`); None when it is
    empty or not JSON."""
    raw = await read_body(request)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


async def drain(request: web.Request) -> None:
    """Consume whatever is left of the body, keeping at most BODY_RECORD_LIMIT bytes."""
    if request.get(_BODY_DONE):
        return
    request[_BODY_DONE] = True
    rec: Recorded | None = request.get(_RECORDED)
    if not request.body_exists:
        return
    content = request.content
    if content.at_eof():
        # Read already (request.read() caches its result) or streamed by a handler.
        raw = await request.read()
        if rec is not None:
            rec.body, rec.body_size = raw[:BODY_RECORD_LIMIT], len(raw)
        return
    kept: list[bytes] = []
    kept_size = size = 0
    while True:
        chunk = await content.readany()
        if not chunk:
            break
        size += len(chunk)
        if rec is not None and kept_size < BODY_RECORD_LIMIT:
            chunk = chunk[: BODY_RECORD_LIMIT - kept_size]
            kept.append(chunk)
            kept_size += len(chunk)
    if rec is not None:
        rec.body, rec.body_size = b"".join(kept), size


async def send_reply(request: web.Request, reply: Reply) -> web.StreamResponse:
    """Answer with ``reply``, faults included."""
    if reply.delay:
        await asyncio.sleep(reply.delay)
    body, headers = reply.encoded()
    if reply.drop_after is None and reply.truncate is None:
        return web.Response(status=reply.status, body=body if reply.status not in (204, 304) else None, headers=headers)
    cut = reply.drop_after if reply.drop_after is not None else reply.truncate
    assert cut is not None
    response = web.StreamResponse(status=reply.status, headers=headers)
    response.content_length = len(body)
    await response.prepare(request)
    if cut:
        await response.write(body[:cut])
    transport = request.transport
    if transport is not None:
        if reply.drop_after is not None:
            transport.abort()  # a reset mid-body
        else:
            transport.close()  # a clean close, short of Content-Length
    return response


class _Replies:
    """The server's scripts, handlers, routers and request log (a base of
    :class:`~aiogoogle.testing.LocalGoogleServer`)."""

    _lock: threading.Lock  # the server's, shared by every part of it
    record: bool

    def __init__(self) -> None:
        self.log: list[Recorded] = []
        self._scripts: dict[tuple[str, str], collections.deque[Reply]] = {}
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._routers: dict[object, Router] = {}
        super().__init__()

    def expect(self, method: str, path: str, *replies: Reply) -> None:
        """Queue ``replies`` for requests ``method path`` (exact path, decoded or as sent;
        query ignored; ``method="*"`` matches any method). They are used first in, first out; after
        that normal routing resumes."""
        key = (method.upper(), norm_path(path))
        with self._lock:
            self._scripts.setdefault(key, collections.deque()).extend(replies)

    def pending(self, method: str | None = None, path: str | None = None) -> int:
        """How many scripted replies are still unused (optionally for one method/path)."""
        with self._lock:
            return sum(len(q) for (m, p), q in self._scripts.items()
                       if (method is None or m == method.upper()) and (path is None or p == norm_path(path)))

    def add_handler(self, method: str, path: str, handler: Handler) -> None:
        """Route ``method path`` (exact; ``"*"`` for any method) to ``handler(request)``,
        which may be sync or async and returns a :class:`Reply` or an aiohttp response.
        Can be called while the server runs."""
        with self._lock:
            self._handlers[(method.upper(), norm_path(path))] = handler

    def add_router(self, router: Router, *, key: object = None) -> None:
        """Ask ``router(request)`` about every request that no script, handler or collection
        answered, before the built-in routes (in the order added); it returns a response, or
        None to pass the request on. A router added with the ``key`` of an earlier one
        replaces it (plugins add theirs under their module name each time the server
        starts; the fake APIs are one). Can be called while the server runs."""
        with self._lock:
            self._routers[router if key is None else key] = router

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many recorded requests match ``method`` and ``path`` (None matches all)."""
        m = method.upper() if method else None
        p = norm_path(path) if path else None
        return sum(1 for r in list(self.log) if (m is None or r.method == m) and (p is None or r.path == p))

    def requests(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """The recorded requests matching ``method`` and ``path``."""
        m = method.upper() if method else None
        p = norm_path(path) if path else None
        return [r for r in list(self.log) if (m is None or r.method == m) and (p is None or r.path == p)]

    def _forget_replies(self) -> None:
        """Drop scripts, handlers and the log (the caller holds the lock)."""
        self._scripts.clear()
        self._handlers.clear()
        self.log.clear()

    #: :func:`read_body`, for plugins that have the server at hand.
    read_body = staticmethod(read_body)

    def _record(self, request: web.Request) -> None:
        """Add ``request`` to the log (its body is filled in as it is read)."""
        peer = request.transport.get_extra_info("peername") if request.transport else None
        headers: dict[str, str] = {}
        for k, v in request.headers.items():
            k = k.lower()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        query: dict[str, list[str]] = {}
        for k, v in request.query.items():
            query.setdefault(k, []).append(v)
        rec = Recorded(request.method, request.path, query, headers, peer_port=int(peer[1]) if peer else 0,
                       raw_path=request.raw_path)
        request[_RECORDED] = rec
        self.log.append(rec)

    async def _scripted_answer(self, request: web.Request) -> web.StreamResponse | None:
        """The answer of the next scripted reply for ``request``, else of its handler;
        None when it has neither."""
        method, path = request.method, request.path
        raw = request.raw_path.split("?", 1)[0]
        keys = [(method, path), ("*", path)]
        if raw != path:  # percent-encoded paths match in either form
            keys += [(method, raw), ("*", raw)]
        reply: Reply | None = None
        custom: Handler | None = None
        with self._lock:
            for key in keys:
                queue = self._scripts.get(key)
                if queue:
                    reply = queue.popleft()
                    break
            else:
                for key in keys:
                    custom = self._handlers.get(key)
                    if custom is not None:
                        break
        if custom is not None:
            result = custom(request)
            if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
                result = await result
            if not isinstance(result, Reply):
                return result
            reply = result
        if reply is None:
            return None
        await drain(request)
        return await send_reply(request, reply)

    async def _route(self, request: web.Request) -> web.StreamResponse | None:
        """The first answer of the routers (in the order added), or None."""
        for router in list(self._routers.values()):
            routed = await router(request)
            if routed is not None:
                return routed
        return None

    # -- built-in routes -----------------------------------------------------------------

    def _add_builtin_routes(self, r: web.UrlDispatcher) -> None:
        r.add_route("*", "/redirect", self._h_redirect)
        r.add_route("*", "/resume308", self._h_resume308)
        r.add_route("*", "/status/{code:\\d+}", self._h_status)
        r.add_get("/gzip", self._h_gzip)
        r.add_route("*", "/slow", self._h_slow)
        r.add_get("/bytes/{n:\\d+}", self._h_bytes)

    async def _h_redirect(self, request: web.Request) -> web.StreamResponse:
        to = request.query.get("to")
        if not to:
            return error_response(400, "redirect needs ?to=<url>", "required")
        status = int(request.query.get("status", "302"))
        if status not in (301, 302, 303, 307, 308):
            return error_response(400, f"not a redirect status: {status}", "invalid")
        return web.Response(status=status, headers={"Location": to})

    async def _h_resume308(self, request: web.Request) -> web.StreamResponse:
        # Google's "Resume Incomplete" (https://cloud.google.com/storage/docs/performing-
        # resumable-uploads#status-check): a 308 without Location that a
        # client must not follow as a redirect.
        received = request.query.get("received")
        headers = {"Range": f"bytes=0-{int(received) - 1}"} if received and int(received) > 0 else {}
        return web.Response(status=308, headers=headers)

    async def _h_status(self, request: web.Request) -> web.StreamResponse:
        code = int(request.match_info["code"])
        if code < 400:
            return web.Response(status=code)
        return error_response(code, request.query.get("message", f"status {code}"), request.query.get("reason"))

    async def _h_gzip(self, request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("size", "64"))
        payload = {"gzipped": True, "data": "x" * size}
        body, headers = Reply(json=payload, gzip=True).encoded()
        return web.Response(body=body, headers=headers)

    async def _h_slow(self, request: web.Request) -> web.StreamResponse:
        delay = float(request.query.get("delay", "1"))
        await asyncio.sleep(delay)
        return json_response(200, {"slept": delay})

    async def _h_bytes(self, request: web.Request) -> web.StreamResponse:
        # n deterministic bytes (pattern_bytes), streamed; ?chunk=<bytes>&delay=<seconds>
        # trickles them (a pause before each chunk after the first), for read timeouts.
        n = int(request.match_info["n"])
        try:
            chunk_size = max(1, min(int(request.query.get("chunk", _MAX_CHUNK)), _MAX_CHUNK))
            delay = float(request.query.get("delay", "0"))
        except ValueError:
            return error_response(400, "chunk must be an integer and delay a number", "invalid")
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = n
        await response.prepare(request)
        if request.method == "HEAD":
            # Headers only (RFC 9110 §9.3.2); a body here would desynchronise keep-alive clients.
            await response.write_eof()
            return response
        sent = 0
        while sent < n:
            if sent and delay:
                await asyncio.sleep(delay)
            phase = sent % 251
            chunk = _PATTERN[phase : phase + min(chunk_size, n - sent)]
            await response.write(chunk)
            sent += len(chunk)
        await response.write_eof()
        return response

    async def _h_echo(self, request: web.Request) -> web.StreamResponse:
        await drain(request)
        rec: Recorded | None = request.get(_RECORDED)
        out: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": {k: request.query.getall(k) for k in request.query},
            "headers": {k.lower(): v for k, v in request.headers.items()},
        }
        if rec is not None:
            out["body_size"] = rec.body_size
            text = rec.body.decode("utf-8", "replace") if rec.body else ""
            out["body"] = text
            if "json" in request.headers.get("Content-Type", "") and rec.body:
                with contextlib.suppress(ValueError):
                    out["json"] = json.loads(rec.body)
        return json_response(200, out)
