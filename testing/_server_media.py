"""Media and batch routes of :class:`~aiogoogle.testing.LocalGoogleServer`.

The protocols are Google's: uploads as in
https://cloud.google.com/storage/docs/json_api/v1/how-tos/upload (simple, multipart,
resumable: https://cloud.google.com/storage/docs/performing-resumable-uploads), downloads
with ``Range`` and ``x-goog-hash`` as in
https://cloud.google.com/storage/docs/json_api/v1/objects/get, batches as in
https://cloud.google.com/storage/docs/batch.

Routes, for any discovery API whose ``rootUrl`` points here:

* ``POST|PUT|PATCH /upload/{servicePath}{path}?uploadType=media|multipart|resumable``:
  simple, ``multipart/related`` and resumable uploads. Resumable sessions answer chunks with
  308 + ``Range: bytes=0-N`` (no ``Range`` while nothing is stored), status queries
  (``Content-Range: bytes */total`` or ``bytes */*``) likewise, and 200 with the resource on
  completion (also to a status query after completion, as Cloud Storage does). A chunk
  whose connection breaks keeps what arrived, rounded down to ``granule`` bytes (256 KiB
  like Cloud Storage; 1 keeps every byte).
* The object store: an upload to ``/upload/X`` named ``N`` (the ``name`` parameter or the
  metadata's ``name``; else a generated id) is stored as ``/X/<N percent-encoded>``, so
  ``GET /X/N?alt=media`` (also under ``/download/``) serves it back, with ``Range``
  (``bytes=a-b``, ``a-``, ``-n``; 206, or 416 with ``bytes */size``), ``x-goog-hash``
  (crc32c and md5), ``x-goog-generation`` and ``x-goog-stored-content-length``; ``generation=``
  must match. ``GET /X/N`` without ``alt=media`` gives the resource JSON.
* ``POST /batch/...``: a ``multipart/mixed`` batch; every part is sent to this server's own
  routes (scripts, faults and the echo included) and the answers come back as
  ``multipart/mixed`` with ``Content-ID: <response-...>``.

Where an upload is stored and what it answers is decided by an :class:`UploadTarget`: by
default the object store above; the fake APIs (``_server_apis``) pass their own, so a
Cloud Storage upload lands in its bucket and a Drive upload gets a file id.

Uploads and downloads stream through temporary files: no request or response body is ever
held whole in memory (the 1 GiB benchmark relies on it).

Faults, set on :func:`media_state`: ``chunk_faults[k]`` acts on the k-th data-carrying PUT
of every session (0-based): ``("cut", n)`` reads ``n`` bytes of it and aborts the connection,
``("status", code)`` answers ``code`` (with ``Retry-After`` when given as a third item) after
storing nothing; each fires once. ``download_faults`` is a FIFO of ``("truncate", n)`` (full
``Content-Length``, ``n`` bytes, clean close), ``("drop", n)`` (``n`` bytes, reset),
``("status", code)`` and ``("wrong_hash",)`` applied to the next downloads.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import itertools
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

__all__ = ["MediaState", "StoredObject", "UploadTarget", "install", "media_state", "receive_upload", "send_object"]

GRANULE = 256 * 1024
_COPY = 1 << 20


def _crc32c() -> Any:
    import google_crc32c

    return google_crc32c.Checksum()  # type: ignore[no-untyped-call]


@dataclass
class StoredObject:
    """One stored media object: its bytes live in ``path``."""

    key: str
    path: str
    size: int
    crc32c: str
    md5: str
    generation: int
    content_type: str
    resource: dict[str, Any]


@dataclass
class UploadTarget:
    """Where an upload is stored (``key``, ``name``) and what the upload answers.

    ``complete(obj)``, when given, runs once the media is stored and returns the resource
    the upload answers with (it may also record it elsewhere, as the fake Cloud Storage
    and Drive do); without it the answer is ``obj.resource``.
    """

    key: str
    name: str
    complete: Callable[[StoredObject], dict[str, Any]] | None = None


#: Decides an upload's target from the request, the upload path without ``/upload`` (e.g.
#: ``/storage/v1/b/bkt/o``) and the metadata, or refuses it with an error response.
Resolver = Callable[[web.Request, str, dict[str, Any]], "UploadTarget | web.Response"]


@dataclass
class _Session:
    upload_id: str
    target: UploadTarget
    path: str
    content_type: str
    metadata: dict[str, Any]
    total: int | None = None
    received: int = 0
    chunks: int = 0
    done: StoredObject | None = None
    reply: dict[str, Any] | None = None


@dataclass
class MediaState:
    """The plugin's state (``server.state["media"]``) and its fault switches."""

    directory: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="aiogoogle-media-"))
    objects: dict[str, StoredObject] = field(default_factory=dict)
    sessions: dict[str, _Session] = field(default_factory=dict)
    granule: int = GRANULE
    chunk_faults: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    download_faults: collections.deque[tuple[Any, ...]] = field(default_factory=collections.deque)
    generations: itertools.count[int] = field(default_factory=lambda: itertools.count(1_700_000_000_000_001))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.directory, True)

    def new_file(self) -> str:
        fd, path = tempfile.mkstemp(dir=self.directory)
        os.close(fd)
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        """Store ``data`` as object ``key`` (a path like ``/storage/v1/b/bkt/o/name``)."""
        path = self.new_file()
        with open(path, "wb") as fh:
            fh.write(data)
        crc = _crc32c()
        crc.update(data)
        name = unquote(key.rsplit("/", 1)[-1])
        return self._store(key, name, path, len(data), crc.digest(), hashlib.md5(data).digest(), content_type, {})

    def _store(self, key: str, name: str, path: str, size: int, crc: bytes, md5: bytes, ctype: str, metadata: dict[str, Any]) -> StoredObject:
        generation = next(self.generations)
        crc_b64 = base64.b64encode(crc).decode()
        md5_b64 = base64.b64encode(md5).decode()
        resource = {
            **{k: v for k, v in metadata.items() if k not in ("size", "crc32c", "md5Hash", "generation")},
            "id": name if "/" not in key.strip("/") else f"{key.strip('/')}/{generation}",
            "name": name,
            "size": str(size),
            "crc32c": crc_b64,
            "md5Hash": md5_b64,
            "generation": str(generation),
            "contentType": ctype,
        }
        obj = StoredObject(key, path, size, crc_b64, md5_b64, generation, ctype, resource)
        with self.lock:
            old = self.objects.get(key)
            self.objects[key] = obj
        if old is not None and old.path != path:
            _unlink(old.path)
        return obj

    def remove(self, key: str) -> StoredObject | None:
        """Forget object ``key`` and delete its bytes; returns it (None if there was none)."""
        with self.lock:
            obj = self.objects.pop(key, None)
        if obj is not None:
            _unlink(obj.path)
        return obj


def _unlink(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def media_state(server: Any) -> MediaState:
    """The media plugin's state on ``server`` (created on first use, cleared by ``reset``)."""
    state = server.state.get("media")
    if state is None:
        state = server.state["media"] = MediaState()
    return state  # type: ignore[no-any-return]


def _error(status: int, message: str, reason: str = "invalid", headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"code": status, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}}
    return web.json_response(body, status=status, headers=headers)


def _content_range(value: str | None) -> tuple[int | None, int | None, int | None, bool]:
    """``bytes a-b/t`` → (a, b, t, ok); ``bytes */t`` → (None, None, t, ok); t None for ``*``."""
    if not value:
        return None, None, None, False
    m = re.fullmatch(r"\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*", value)
    if not m:
        return None, None, None, False
    first = int(m.group(1)) if m.group(1) is not None else None
    last = int(m.group(2)) if m.group(2) is not None else None
    total = int(m.group(3)) if m.group(3) != "*" else None
    return first, last, total, True


class _Hasher:
    __slots__ = ("crc", "md5", "size")

    def __init__(self) -> None:
        self.crc = _crc32c()
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def update(self, data: bytes) -> None:
        self.crc.update(data)
        self.md5.update(data)
        self.size += len(data)


def _hash_file(path: str) -> _Hasher:
    hasher = _Hasher()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_COPY)
            if not block:
                break
            hasher.update(block)
    return hasher


def _key_for(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + quote(name, safe="")


def _object_url(server: Any, key: str) -> str:
    return str(server.url).rstrip("/") + key


def default_target(server: Any, request: web.Request, base: str, metadata: dict[str, Any]) -> UploadTarget:
    """The object store's own placement: ``base/<name percent-encoded>``, where the name is
    the ``name`` parameter, else the metadata's ``name``, else a generated id."""
    name = request.query.get("name") or metadata.get("name")
    name = str(name) if name else secrets.token_hex(8)
    key = _key_for(base, name)
    bucket = re.search(r"/b/([^/]+)/o$", base)

    def complete(obj: StoredObject) -> dict[str, Any]:
        obj.resource["selfLink"] = _object_url(server, key)
        obj.resource["mediaLink"] = _object_url(server, key) + f"?generation={obj.generation}&alt=media"
        if bucket:
            obj.resource["bucket"] = unquote(bucket.group(1))
            obj.resource["kind"] = "storage#object"
        return obj.resource

    return UploadTarget(key, name, complete)


def _finish(server: Any, target: UploadTarget, path: str, hasher: _Hasher, ctype: str, metadata: dict[str, Any]) -> tuple[StoredObject, dict[str, Any]]:
    obj = media_state(server)._store(target.key, target.name, path, hasher.size, hasher.crc.digest(), hasher.md5.digest(), ctype, metadata)
    return obj, (target.complete(obj) if target.complete is not None else obj.resource)


def _check_upload_hash(metadata: dict[str, Any], hasher: _Hasher) -> web.Response | None:
    # Cloud Storage checks the hashes a client gives in the metadata
    # (https://cloud.google.com/storage/docs/data-validation#json-api).
    for name, digest in (("crc32c", hasher.crc.digest()), ("md5Hash", hasher.md5.digest())):
        given = metadata.get(name)
        if given is not None and given != base64.b64encode(digest).decode():
            return _error(400, f"Provided {name} \"{given}\" doesn't match calculated {name}.", "invalid")
    return None


async def _stream_to(request: web.Request, fh: Any, hasher: _Hasher | None, limit: int | None = None) -> int:
    """Copy the request body (at most ``limit`` bytes) into ``fh``."""
    count = 0
    content = request.content
    while limit is None or count < limit:
        want = _COPY if limit is None else min(_COPY, limit - count)
        block = await content.read(want)
        if not block:
            break
        fh.write(block)
        if hasher is not None:
            hasher.update(block)
        count += len(block)
    return count


def _resolve(server: Any, resolve: Resolver | None, request: web.Request, base: str, metadata: dict[str, Any]) -> UploadTarget | web.Response:
    if resolve is None:
        return default_target(server, request, base, metadata)
    return resolve(request, base, metadata)


# ------------------------------------------------------------------------ uploads


async def receive_upload(server: Any, request: web.Request, base: str, resolve: Resolver | None = None) -> web.StreamResponse:
    """Answer an upload request (``uploadType`` media, multipart or resumable, or a chunk of
    a resumable session) to the upload path ``base`` (without ``/upload``); ``resolve``
    decides where it goes (default: :func:`default_target`)."""
    if "upload_id" in request.query:
        return await _resumable_put(server, request)
    upload_type = request.query.get("uploadType", "")
    if upload_type == "media":
        target = _resolve(server, resolve, request, base, {})
        if isinstance(target, web.Response):
            return target
        st = media_state(server)
        path = st.new_file()
        hasher = _Hasher()
        try:
            with open(path, "wb") as fh:
                await _stream_to(request, fh, hasher)
        except BaseException:
            _unlink(path)  # the client went away: nothing is stored
            raise
        ctype = request.headers.get("Content-Type", "application/octet-stream")
        return web.json_response(_finish(server, target, path, hasher, ctype, {})[1])
    if upload_type == "multipart":
        return await _multipart(server, request, base, resolve)
    if upload_type == "resumable":
        return await _initiate(server, request, base, resolve)
    return _error(400, f"Invalid upload type {upload_type!r}: use media, multipart or resumable", "invalidUploadType")


async def _multipart(server: Any, request: web.Request, base: str, resolve: Resolver | None) -> web.StreamResponse:
    ctype = request.headers.get("Content-Type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.lower().startswith("multipart/related") or not m:
        return _error(400, f"multipart upload needs Content-Type multipart/related with a boundary, got {ctype!r}")
    boundary = m.group(1).encode()
    st = media_state(server)
    raw_path = st.new_file()
    try:
        with open(raw_path, "w+b") as fh:
            size = await _stream_to(request, fh, None)
            # The metadata part is small and comes first; the media part runs up to the
            # closing delimiter at the end of the body.
            fh.seek(0)
            head = fh.read(min(size, 1 << 20))
            delim = b"--" + boundary
            if not head.startswith(delim + b"\r\n"):
                return _error(400, "multipart body does not start with the boundary")
            parts_at = []
            pos = 0
            for _ in range(2):
                idx = head.find(delim, pos)
                if idx < 0:
                    break
                parts_at.append(idx)
                pos = idx + len(delim)
            if len(parts_at) != 2:
                return _error(400, "multipart upload needs exactly two parts: metadata, then media")
            meta_block = head[parts_at[0] + len(delim) + 2 : parts_at[1]]
            meta_head, sep, meta_body = meta_block.partition(b"\r\n\r\n")
            if not sep or b"application/json" not in meta_head.lower():
                return _error(400, "the first multipart part must be the JSON metadata")
            if not meta_body.endswith(b"\r\n"):
                return _error(400, "multipart framing: CRLF expected before the boundary")
            try:
                metadata = json.loads(meta_body[:-2])
            except ValueError:
                return _error(400, "the metadata part is not JSON", "parseError")
            if not isinstance(metadata, dict):
                return _error(400, "the metadata part must be a JSON object")
            target = _resolve(server, resolve, request, base, metadata)
            if isinstance(target, web.Response):
                return target
            media_start = head.find(b"\r\n\r\n", parts_at[1])
            if media_start < 0:
                return _error(400, "the media part has no headers")
            media_head = head[parts_at[1] + len(delim) + 2 : media_start].decode("latin-1")
            media_start += 4
            closing = b"\r\n" + delim + b"--"
            tail_len = min(size, len(closing) + 4)
            fh.seek(size - tail_len)
            tail = fh.read(tail_len)
            end_idx = tail.rfind(closing)
            if end_idx < 0:
                return _error(400, "multipart body does not end with the closing boundary")
            media_end = size - tail_len + end_idx
            if media_end < media_start:
                return _error(400, "multipart framing is broken")
            media_type = "application/octet-stream"
            for line in media_head.split("\r\n"):
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-type":
                    media_type = v.strip()
            path = st.new_file()
            hasher = _Hasher()
            fh.seek(media_start)
            remaining = media_end - media_start
            with open(path, "wb") as out:
                while remaining:
                    block = fh.read(min(_COPY, remaining))
                    if not block:
                        break
                    out.write(block)
                    hasher.update(block)
                    remaining -= len(block)
    finally:
        _unlink(raw_path)
    bad = _check_upload_hash(metadata, hasher)
    if bad is not None:
        _unlink(path)
        return bad
    return web.json_response(_finish(server, target, path, hasher, str(metadata.get("contentType") or media_type), metadata)[1])


async def _initiate(server: Any, request: web.Request, base: str, resolve: Resolver | None) -> web.StreamResponse:
    raw = await server.read_body(request)
    metadata: dict[str, Any] = {}
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            return _error(400, "the resumable upload metadata is not JSON", "parseError")
        if not isinstance(parsed, dict):
            return _error(400, "the resumable upload metadata must be a JSON object")
        metadata = parsed
    target = _resolve(server, resolve, request, base, metadata)
    if isinstance(target, web.Response):
        return target
    length = request.headers.get("X-Upload-Content-Length")
    st = media_state(server)
    upload_id = secrets.token_urlsafe(16)
    sess = _Session(
        upload_id=upload_id,
        target=target,
        path=st.new_file(),
        content_type=request.headers.get("X-Upload-Content-Type") or str(metadata.get("contentType") or "application/octet-stream"),
        metadata=metadata,
        total=int(length) if length and length.isdigit() else None,
    )
    with st.lock:
        st.sessions[upload_id] = sess
    query = request.rel_url.raw_query_string
    location = f"{str(server.url).rstrip('/')}{request.rel_url.raw_path}?{query}&upload_id={upload_id}"
    return web.Response(status=200, headers={"Location": location, "X-GUploader-UploadID": upload_id})


def _incomplete(sess: _Session) -> web.Response:
    headers = {"Range": f"bytes=0-{sess.received - 1}"} if sess.received else {}
    return web.Response(status=308, headers=headers)


async def _resumable_put(server: Any, request: web.Request) -> web.StreamResponse:
    st = media_state(server)
    sess = st.sessions.get(request.query["upload_id"])
    if sess is None:
        return _error(404, "No such upload session", "notFound")
    if request.method == "DELETE":
        st.sessions.pop(sess.upload_id, None)
        _unlink(sess.path)
        return web.Response(status=499)
    first, last, total, ok = _content_range(request.headers.get("Content-Range"))
    length = request.content_length or 0
    if not ok:
        if request.headers.get("Content-Range") is None:
            # The whole media in one request.
            first, last, total = (0, length - 1, length) if length else (None, None, 0)
        else:
            return _error(400, f"malformed Content-Range {request.headers.get('Content-Range')!r}")
    if sess.reply is not None:
        return web.json_response(sess.reply)
    if total is not None:
        if sess.total is not None and sess.total != total:
            return _error(400, f"the upload's total size changed from {sess.total} to {total}")
        sess.total = total
    if first is None:
        # A status query (Content-Range: bytes */total, https://cloud.google.com/storage/
        # docs/performing-resumable-uploads#status-check), or the end of an upload whose
        # size became known only now.
        if length:
            return _error(400, "a status query must have an empty body")
        if sess.total is not None and sess.received == sess.total:
            return _complete(server, sess)
        return _incomplete(sess)
    assert last is not None
    if last < first or last - first + 1 != length:
        return _error(400, f"Content-Range {first}-{last} does not match Content-Length {length}")
    if first > sess.received:
        return _error(400, f"the chunk starts at {first} but only {sess.received} bytes are stored", "badRequest")
    final = sess.total is not None and last + 1 == sess.total
    if not final and length % GRANULE:
        return _error(400, f"a chunk that is not the last must be a multiple of 262144 bytes (got {length})", "invalid")
    index = sess.chunks
    sess.chunks += 1
    fault = st.chunk_faults.pop(index, None)
    if fault is not None and fault[0] == "status":
        headers = {"Retry-After": str(fault[2])} if len(fault) > 2 else None
        return _error(int(fault[1]), "injected failure", "backendError", headers=headers)
    skip = sess.received - first
    with open(sess.path, "r+b") as fh:
        fh.seek(sess.received)
        if skip:
            # Bytes the server holds already: read and drop them.
            left = skip
            while left:
                block = await request.content.read(min(_COPY, left))
                if not block:
                    break
                left -= len(block)
        limit = None if fault is None else max(0, int(fault[1]) - skip)
        try:
            got = await _stream_to(request, fh, None, limit)
        except ConnectionError:
            # The client went away mid-chunk: keep what arrived, as after a "cut" fault.
            got, fault = fh.tell() - sess.received, ("cut", 0)
        received = sess.received + got
        if fault is not None and fault[0] == "cut":
            # The connection broke mid-chunk: keep whole granules only (as GCS does).
            keep = received if received == sess.total else received - (received % st.granule)
            sess.received = max(sess.received, keep)
            fh.truncate(sess.received)
            fh.close()
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)
        sess.received = received
        fh.truncate(sess.received)
    if sess.total is not None and sess.received == sess.total:
        return _complete(server, sess)
    return _incomplete(sess)


def _complete(server: Any, sess: _Session) -> web.Response:
    if sess.reply is None:
        hasher = _hash_file(sess.path)
        bad = _check_upload_hash(sess.metadata, hasher)
        if bad is not None:
            return bad
        sess.done, sess.reply = _finish(server, sess.target, sess.path, hasher, sess.content_type, sess.metadata)
    return web.json_response(sess.reply)


# ------------------------------------------------------------------------ downloads


async def send_object(server: Any, request: web.Request, obj: StoredObject) -> web.StreamResponse:
    """Serve ``obj``'s bytes (``alt=media``): the whole object or a ``Range`` of it, with
    ``x-goog-hash`` and the download faults of :class:`MediaState`."""
    st = media_state(server)
    fault = st.download_faults.popleft() if st.download_faults else None
    if fault is not None and fault[0] == "status":
        return _error(int(fault[1]), "injected failure", "backendError")
    size = obj.size
    headers = {
        "Content-Type": obj.content_type,
        "Accept-Ranges": "bytes",
        "x-goog-generation": str(obj.generation),
        "x-goog-stored-content-length": str(size),
        "x-goog-stored-content-encoding": "identity",
        "ETag": f'"{obj.md5}"',
    }
    crc = obj.crc32c
    if fault is not None and fault[0] == "wrong_hash":
        crc = base64.b64encode(b"\x00\x00\x00\x00" if crc != "AAAAAA==" else b"\x00\x00\x00\x01").decode()
        headers["x-goog-hash"] = f"crc32c={crc},md5={base64.b64encode(bytes(16)).decode()}"
    else:
        headers["x-goog-hash"] = f"crc32c={crc},md5={obj.md5}"
    start, end = 0, size - 1
    status = 200
    spec = request.headers.get("Range")
    if spec:
        m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", spec)
        if not m or (not m.group(1) and not m.group(2)):
            return _error(400, f"malformed Range {spec!r}")
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:
            start = max(0, size - int(m.group(2)))
        if start >= size or end < start:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = end - start + 1 if size else 0
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = length
    await response.prepare(request)
    cut = None
    if fault is not None and fault[0] in ("truncate", "drop"):
        cut = int(fault[1])
    sent = 0
    with open(obj.path, "rb") as fh:
        fh.seek(start)
        while sent < length:
            want = min(_COPY, length - sent)
            if cut is not None:
                want = min(want, cut - sent)
                if want <= 0:
                    break
            block = fh.read(want)
            if not block:
                break
            await response.write(block)
            sent += len(block)
    if cut is not None:
        transport = request.transport
        if transport is not None:
            if fault is not None and fault[0] == "drop":
                transport.abort()
            else:
                transport.close()
        return response
    await response.write_eof()
    return response


def find_object(server: Any, key: str) -> StoredObject | None:
    """The stored object at request path ``key`` (percent-encoded as sent), or None."""
    return media_state(server).objects.get(_canonical(key))


# ------------------------------------------------------------------------ routes


def install(server: Any, app: web.Application) -> None:
    """Add the media and batch routes to ``app`` (called by LocalGoogleServer)."""

    async def upload(request: web.Request) -> web.StreamResponse:
        return await receive_upload(server, request, "/" + request.match_info["tail"])

    async def get_object(request: web.Request) -> web.StreamResponse:
        path = request.rel_url.raw_path  # still percent-encoded: "a/b" is one segment
        key = path[len("/download") :] if path.startswith("/download/") else path
        obj = find_object(server, key)
        if obj is None:
            if _looks_stored(media_state(server), key):
                return _error(404, f"No such object: {key}", "notFound")
            echoed: web.StreamResponse = await server._h_echo(request)
            return echoed
        gen = request.query.get("generation")
        if gen is not None and gen != str(obj.generation):
            return _error(404, f"No such object: {key} (generation {gen})", "notFound")
        if request.query.get("alt") != "media":
            return web.json_response(obj.resource)
        return await send_object(server, request, obj)

    async def batch(request: web.Request) -> web.StreamResponse:
        return await answer_batch(server, request)

    r = app.router
    r.add_route("*", "/upload/{tail:.*}", upload)
    r.add_post("/batch/{tail:.*}", batch)
    r.add_post("/batch", batch)
    r.add_get("/{tail:.*}", get_object)


# ------------------------------------------------------------------------ batch


async def answer_batch(server: Any, request: web.Request) -> web.StreamResponse:
    """A ``multipart/mixed`` batch: every part is sent to this server's own routes and the
    answers come back as ``multipart/mixed`` with ``Content-ID: <response-...>``."""
    import aiohttp

    raw = await server.read_body(request)
    ctype = request.headers.get("Content-Type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.lower().startswith("multipart/mixed") or not m:
        return _error(400, "a batch needs Content-Type multipart/mixed with a boundary")
    try:
        parts = _split_batch(raw, m.group(1).encode())
    except ValueError as exc:
        return _error(400, f"malformed batch body: {exc}")
    out_boundary = "batch_" + secrets.token_hex(12)
    chunks: list[bytes] = []
    outer_auth = request.headers.get("Authorization")
    async with aiohttp.ClientSession(auto_decompress=False) as client:
        for cid, method, target, headers, body in parts:
            if target.startswith(("http://", "https://")):
                target = urlsplit(target)._replace(scheme="", netloc="").geturl()
            if outer_auth and not any(k.lower() == "authorization" for k, _ in headers):
                headers.append(("Authorization", outer_auth))
            url = str(server.url).rstrip("/") + target
            ssl_ctx: Any = server.client_ssl_context() if getattr(server, "tls", False) else True
            async with client.request(method, url, headers=headers, data=body or None, allow_redirects=False, ssl=ssl_ctx) as resp:
                rbody = await resp.read()
                status_line = f"HTTP/1.1 {resp.status} {resp.reason or ''}".rstrip()
                rheaders = [(k, v) for k, v in resp.headers.items() if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server")]
            head = f"--{out_boundary}\r\nContent-Type: application/http\r\n"
            if cid:
                inner = cid.strip()
                inner = inner[1:-1] if inner.startswith("<") and inner.endswith(">") else inner
                head += f"Content-ID: <response-{inner}>\r\n"
            head += "\r\n" + status_line + "\r\n"
            for k, v in rheaders:
                head += f"{k}: {v}\r\n"
            head += f"Content-Length: {len(rbody)}\r\n\r\n"
            chunks.append(head.encode("latin-1") + rbody + b"\r\n")
    chunks.append(f"--{out_boundary}--\r\n".encode())
    return web.Response(body=b"".join(chunks), headers={"Content-Type": f"multipart/mixed; boundary={out_boundary}"})


def _canonical(key: str) -> str:
    """The store key of a request path: the last segment percent-encoded as by ``quote``."""
    base, _, last = key.rstrip("/").rpartition("/")
    return f"{base}/{quote(unquote(last), safe='')}"


def _looks_stored(state: MediaState, key: str) -> bool:
    base = key.rstrip("/").rpartition("/")[0]
    return any(k.rpartition("/")[0] == base for k in state.objects)


def _split_batch(raw: bytes, boundary: bytes) -> list[tuple[str | None, str, str, list[tuple[str, str]], bytes]]:
    pieces = (b"\r\n" + raw).split(b"\r\n--" + boundary)
    if len(pieces) < 2:
        raise ValueError("boundary not found")
    out = []
    closed = False
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            closed = True
            break
        if not piece.startswith(b"\r\n"):
            raise ValueError("boundary line not followed by CRLF")
        head, sep, inner = piece[2:].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("part without headers")
        cid = None
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-id":
                cid = v.strip()
        req_head, sep, body = inner.partition(b"\r\n\r\n")
        lines = req_head.decode("latin-1").split("\r\n")
        request_line = lines[0].split(" ")
        if len(request_line) != 3 or not request_line[2].startswith("HTTP/"):
            raise ValueError(f"bad request line {lines[0][:60]!r}")
        headers = []
        for line in lines[1:]:
            k, s, v = line.partition(":")
            if not s:
                raise ValueError(f"bad header line {line[:60]!r}")
            if k.strip().lower() not in ("content-length", "host"):
                headers.append((k.strip(), v.strip()))
        out.append((cid, request_line[0], request_line[1], headers, body))
    if not closed:
        raise ValueError("no closing boundary")
    return out
