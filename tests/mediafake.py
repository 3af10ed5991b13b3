"""Hand-driven media flows: an effect runner with an in-memory file system and byte sources,
and a fake Cloud Storage media endpoint with a scriptable failure schedule.

No event loop: ``Send`` bodies are materialised synchronously, response bodies are streamed
through the flow's consumer chunk by chunk, and a cut connection is a ``TransportError``
thrown into the flow, exactly as the driver does.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google_crc32c

from aiogoogle._effects import Call, FileOp, Pull, Send
from aiogoogle._http import (
    FileRange,
    FileTarget,
    Headers,
    HttpRequest,
    HttpResponse,
    PipeSource,
    PipeTarget,
    StreamBody,
)
from aiogoogle.excs import TransportError

from .flowtools import FlowRunner


class ListSource:
    """An async iterable of byte chunks (a ``pipe_from``) that the runner reads synchronously."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.buffer = bytearray()
        self.done = False
        self.pulled = 0

    def __aiter__(self) -> AsyncIterator[bytes]:  # pragma: no cover - never iterated here
        raise AssertionError("the runner reads this source itself")

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size and self.chunks:
            self.buffer += self.chunks.pop(0)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        self.pulled += len(data)
        return data


@dataclass
class Wire:
    """What the fake server sends back: a status, headers, a body, and optionally a cut
    (the connection breaks after ``cut`` body bytes)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cut: int | None = None


Server = Callable[[HttpRequest, bytes], "Wire | HttpResponse | BaseException"]


class MediaRunner(FlowRunner):
    """:class:`FlowRunner` plus ``Pull``, ``FileOp``, recorded ``Call``s and streamed bodies."""

    def __init__(self, server: Server, *, files: dict[str, bytes] | None = None, chunk: int = 65536) -> None:
        super().__init__(self._respond)
        self.server = server
        self.files: dict[str, bytearray] = {k: bytearray(v) for k, v in (files or {}).items()}
        self.chunk = chunk
        self.calls: list[tuple[Any, ...]] = []
        self.bodies: list[bytes] = []
        self.fileops: list[FileOp] = []
        self.unwritable: set[str] = set()  # paths whose probe_write fails (a directory there)
        self.max_body = 0

    def _respond(self, request: HttpRequest) -> HttpResponse:  # pragma: no cover
        raise AssertionError("not used: on_send streams the bodies itself")

    def on_pull(self, effect: Pull) -> bytes:
        source: Any = effect.source
        return source.read(effect.max_bytes)  # type: ignore[no-any-return]

    def on_call(self, effect: Call) -> Any:
        self.calls.append(effect.args)
        return effect.fn(*effect.args)

    def _materialise(self, body: Any) -> bytes:
        if isinstance(body, bytes):
            return body
        assert isinstance(body, StreamBody), body
        out = bytearray()
        for seg in body.segments:
            if isinstance(seg, bytes):
                out += seg
            elif isinstance(seg, FileRange):
                data = self.files[seg.path]
                end = len(data) if seg.length is None else seg.start + seg.length
                out += data[seg.start : end]
            elif isinstance(seg, PipeSource):
                src: Any = seg.source
                out += src.read(seg.length if seg.length is not None else 1 << 62)
        if body.length is not None:
            assert len(out) == body.length, "StreamBody.length disagrees with its segments"
        return bytes(out)

    def on_send(self, effect: Send) -> HttpResponse:
        request = effect.request
        self.sent.append(request)
        body = self._materialise(request.body)
        self.bodies.append(body)
        self.max_body = max(self.max_body, len(body))
        outcome = self.server(request, body)
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, HttpResponse):
            return outcome
        headers = Headers(outcome.headers)
        consumer = effect.consumer
        payload = outcome.body if outcome.cut is None else outcome.body[: outcome.cut]
        if consumer is not None and consumer.accepts(outcome.status, headers):
            target = consumer.target
            written = 0

            def deliver(pieces: Any, first: bool) -> None:
                nonlocal written
                for data in pieces:
                    if isinstance(target, FileTarget):
                        buf = self.files.setdefault(target.path, bytearray())
                        if target.offset == 0 and written == 0 and first:
                            buf.clear()
                        pos = target.offset + written
                        buf[pos : pos + len(data)] = data
                    else:
                        assert isinstance(target, PipeTarget)
                        target.write(data)
                    written += len(data)
                    first = False

            for i in range(0, len(payload), self.chunk):
                deliver(consumer.feed(payload[i : i + self.chunk]), i == 0)
                consumer.progress()
            if isinstance(target, FileTarget) and not payload and target.offset == 0:
                self.files[target.path] = bytearray()
            if outcome.cut is not None:
                raise TransportError("connection reset by the fake server")
            deliver(consumer.finish(), not payload)
            return HttpResponse(outcome.status, headers, b"", "", request.url, streamed=written)
        if outcome.cut is not None:
            raise TransportError("connection reset by the fake server")
        return HttpResponse(outcome.status, headers, outcome.body, "", request.url)

    def on_fileop(self, op: FileOp) -> Any:
        self.fileops.append(op)
        if op.op == "size":
            return len(self.files[op.path]) if op.path in self.files else -1
        if op.op == "remove":
            self.files.pop(op.path, None)
            return None
        if op.op == "replace":
            assert op.dest is not None
            self.files[op.dest] = self.files.pop(op.path)
            return None
        if op.op == "write":
            self.files[op.path] = bytearray(op.data or b"")
            return None
        if op.op == "probe_write":
            if op.path in self.unwritable:
                raise IsADirectoryError(21, "Is a directory", op.path)
            return None
        raise AssertionError(op)


def b64_crc32c(data: bytes) -> str:
    return base64.b64encode(google_crc32c.Checksum(data).digest()).decode()  # type: ignore[no-untyped-call]


def b64_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


class FakeStorage:
    """A Cloud Storage media endpoint: resumable sessions and downloads, with faults.

    ``chunk_plan`` is consumed one entry per data-carrying PUT: ``"ok"``; ``("cut", k)``
    keeps ``k`` bytes of the chunk (rounded down to ``granule``) and breaks the connection;
    ``("lose", k)`` stores the whole chunk but then acknowledges only ``k`` bytes fewer
    (a server persisting less than it got); ``("status", code)``; ``"connect"`` fails before
    anything reaches the server. ``query_plan`` is consumed per status query: ``"ok"``,
    ``("status", code)`` or ``"connect"``.
    """

    SESSION = "http://fake/upload/session?upload_id=xyz"

    def __init__(self, *, granule: int = 256 * 1024, object_data: bytes = b"") -> None:
        self.granule = granule
        self.stored = bytearray()
        self.total: int | None = None
        self.done = False
        self.chunk_plan: list[Any] = []
        self.query_plan: list[Any] = []
        self.initiations = 0
        self.object = object_data
        self.download_plan: list[Any] = []
        self.generation = "1234"
        self.ranges: list[str | None] = []

    def resource(self) -> dict[str, Any]:
        return {"name": "obj", "size": str(len(self.stored)), "md5Hash": b64_md5(bytes(self.stored))}

    def __call__(self, request: HttpRequest, body: bytes) -> Wire | BaseException:
        if request.method == "GET":
            return self.download(request)
        query = parse_qs(urlsplit(request.url).query)
        if "upload_id" not in query:
            self.initiations += 1
            return Wire(200, {"Location": self.SESSION})
        crange = request.header("content-range") or ""
        spec, _, total = crange.removeprefix("bytes ").partition("/")
        if total != "*":
            self.total = int(total)
        if spec == "*":
            plan = self.query_plan.pop(0) if self.query_plan else "ok"
            if plan == "connect":
                return TransportError("connection refused")
            if isinstance(plan, tuple):
                return Wire(plan[1])
            return self._state()
        plan = self.chunk_plan.pop(0) if self.chunk_plan else "ok"
        if plan == "connect":
            return TransportError("connection refused")
        if isinstance(plan, tuple) and plan[0] == "status":
            return Wire(plan[1])
        first, _, last = spec.partition("-")
        start = int(first)
        assert start <= len(self.stored), f"chunk starts at {start} but the server holds {len(self.stored)}"
        assert int(last) - start + 1 == len(body)
        new = body[len(self.stored) - start :]
        if isinstance(plan, tuple) and plan[0] == "cut":
            # Keep what arrived before the break, in whole granules (as Cloud Storage does).
            keep = len(self.stored) + min(plan[1], len(new))
            keep = max(keep - keep % self.granule, len(self.stored))
            self.stored += new[: keep - len(self.stored)]
            return TransportError("connection reset mid-chunk")
        self.stored += new
        if isinstance(plan, tuple) and plan[0] == "lose":
            drop = min(plan[1], len(self.stored))
            del self.stored[len(self.stored) - drop :]
        return self._state()

    def _state(self) -> Wire:
        if self.total is not None and len(self.stored) == self.total:
            self.done = True
            return Wire(200, {"content-type": "application/json"}, _json(self.resource()))
        headers = {"range": f"bytes=0-{len(self.stored) - 1}"} if self.stored else {}
        return Wire(308, headers)

    def download(self, request: HttpRequest) -> Wire | BaseException:
        rng = request.header("range")
        self.ranges.append(rng)
        data = self.object
        plan = self.download_plan.pop(0) if self.download_plan else "ok"
        if plan == "connect":
            return TransportError("connection refused")
        if isinstance(plan, tuple) and plan[0] == "status":
            return Wire(plan[1], {"content-type": "application/json"}, _json({"error": {"code": plan[1], "message": "boom"}}))
        headers = {
            "x-goog-hash": f"crc32c={b64_crc32c(data)},md5={b64_md5(data)}",
            "x-goog-generation": self.generation,
        }
        if plan == "wrong_hash":
            headers["x-goog-hash"] = f"crc32c={b64_crc32c(data + b'x')}"
        status, start, end = 200, 0, len(data)
        if rng and plan != "ignore_range":
            a, _, b = rng.removeprefix("bytes=").partition("-")
            start = int(a)
            end = min(int(b) + 1, len(data)) if b else len(data)
            if start >= len(data):
                return Wire(416, {"content-range": f"bytes */{len(data)}"})
            status = 206
            headers["content-range"] = f"bytes {start}-{end - 1}/{len(data)}"
        headers["content-length"] = str(end - start)
        cut = plan[1] if isinstance(plan, tuple) and plan[0] == "cut" else None
        return Wire(status, headers, data[start:end], cut)


def _json(obj: Any) -> bytes:
    import json

    return json.dumps(obj).encode()
