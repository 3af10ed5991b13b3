"""Stateful fakes of the Google APIs the examples use, for
``LocalGoogleServer(fake_apis=True)`` and ``aiogoogle serve``.

What one call stores, the next one sees: a bucket inserted is listed, an object uploaded
is listed, fetched, patched, downloaded and deleted. The shapes, paths, parameters and
errors are Google's, as their references document them:

* **Cloud Storage** (https://cloud.google.com/storage/docs/json_api/v1): ``buckets``
  insert, list (``project``, ``prefix``, pagination), get, patch, update, delete (409 while
  not empty); ``objects`` insert (simple, multipart and resumable uploads to an existing
  bucket), list (``prefix``, ``delimiter`` with ``prefixes``, ``startOffset``,
  ``endOffset``, ``includeTrailingDelimiter``, ``maxResults`` counting items and prefixes
  together, name-ordered ``pageToken``), get (metadata, or ``alt=media`` with ``Range``
  and ``x-goog-hash``), patch (``metadata`` merged, ``null`` removes a key), update, delete;
  the ``ifGenerationMatch``/``ifMetagenerationMatch`` preconditions (and ``NotMatch``).
* **Drive** (https://developers.google.com/drive/api/reference/rest/v3/files): ``files``
  create (metadata only, or with media by any upload protocol; an ``id`` may be given),
  list (``pageSize``, ``pageToken``, ``orderBy`` by name or time, and ``q`` with
  ``name``/``mimeType`` ``=``/``!=``/``contains``, ``'ID' in parents`` and ``trashed``
  joined by ``and``), get (``alt=media`` downloads the content), update (metadata and
  media), delete, generateIds. Without ``fields`` a file shows ``kind``, ``id``, ``name``
  and ``mimeType``, as Drive does.
* **Calendar** (https://developers.google.com/calendar/api/v3/reference/events):
  ``calendars.insert``/``get`` and ``events`` insert (``start`` and ``end`` required),
  list (``maxResults``, ``pageToken``, ``timeMin``, ``timeMax``, ``q``,
  ``orderBy=startTime``), get, patch, update, delete; ``primary`` always exists.
* **People** (https://developers.google.com/people/api/rest/v1/people): ``createContact``,
  ``connections.list`` of ``people/me`` (``personFields`` required, ``pageSize``,
  ``pageToken``), ``get``, ``updateContact`` (``updatePersonFields``), ``deleteContact``.
* **Cloud Translation v2** (https://cloud.google.com/translate/docs/reference/rest/v2):
  ``translations`` list/translate (``q`` repeated, ``target`` required), ``detections``,
  ``languages``. The fake translates nothing: each text comes back as ``[target] text``,
  so a test sees which text went with which target; the detected language is ``en``.

``fields`` (partial responses, https://cloud.google.com/storage/docs/json_api#partial-response)
works on every answer. Every call needs credentials the server accepts (a live token it
issued, a registered service account's self-signed JWT, or an API key it issued; see
:func:`aiogoogle.testing._server_auth.caller_problem`); scopes are not checked. Methods of
these APIs that are not listed answer 501 saying what the fake implements; other APIs are
left to the server's other routes (the echo).
"""

from __future__ import annotations

import base64
import datetime as _dt
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from aiohttp import web

from aiogoogle.testing._server_auth import caller_problem
from aiogoogle.testing._server_media import (
    StoredObject,
    UploadTarget,
    media_state,
    receive_upload,
    send_object,
)
from aiogoogle.testing.server import google_error

__all__ = ["ApiState", "api_state", "install"]

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
_GOOGLE_APPS = "application/vnd.google-apps."
_LANGUAGES = ["ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "nl", "pl", "pt", "ru", "sv", "tr", "uk", "zh"]


def _now() -> str:
    """RFC 3339 UTC with milliseconds, as Google writes timestamps."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


@dataclass
class ApiState:
    """Everything the fake APIs hold (``server.state["apis"]``; ``reset()`` empties it).
    Object and file contents live in the media store (:func:`media_state`)."""

    buckets: dict[str, dict[str, Any]] = field(default_factory=dict)
    drive_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    calendars: dict[str, dict[str, Any]] = field(default_factory=lambda: {"primary": {"id": "primary", "summary": "primary"}})
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {"primary": {}})
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next(self) -> int:
        return next(self.serial)


def api_state(server: Any) -> ApiState:
    """The fake APIs' state on ``server`` (created on first use and after ``reset()``)."""
    state = server.state.get("apis")
    if state is None:
        state = server.state.setdefault("apis", ApiState())
    return state  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- replies


def _json(obj: Any, status: int = 200, request: web.Request | None = None, default_fields: str | None = None) -> web.Response:
    """``obj`` as JSON, narrowed to the request's ``fields`` (else ``default_fields``)."""
    if request is not None:
        spec = request.query.get("fields") or default_fields
        if spec:
            try:
                obj = _select(obj, _parse_fields(spec))
            except ValueError as exc:
                return _error(400, f"Invalid field selection {spec}: {exc}", "invalidParameter", location="fields")
    return web.json_response(obj, status=status)


def _error(status: int, message: str, reason: str | None = None, *, location: str | None = None) -> web.Response:
    body = google_error(status, message, reason)
    if location is not None:
        body["error"]["errors"][0].update(location=location, locationType="parameter")
    return web.json_response(body, status=status)


def _not_found(what: str, location: str | None = None) -> web.Response:
    return _error(404, what, "notFound", location=location)


def _required(name: str) -> web.Response:
    return _error(400, f"Required parameter: {name}", "required", location=name)


def _int_param(request: web.Request, name: str, default: int, maximum: int) -> int | web.Response:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return _error(400, f"Invalid value for {name}: {raw!r} is not an integer", "invalid", location=name)
    if value < 0:
        return _error(400, f"Invalid value for {name}: {value} must not be negative", "invalid", location=name)
    return max(1, min(value, maximum))


async def _body(server: Any, request: web.Request) -> dict[str, Any] | web.Response:
    """The JSON object a request carries (an empty one when it has no body)."""
    raw = await server.read_body(request)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return _error(400, "Parse Error: the request body is not JSON", "parseError")
    if not isinstance(value, dict):
        return _error(400, "The request body must be a JSON object", "parseError")
    return value


def _token(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode()


def _untoken(token: str | None) -> str | web.Response | None:
    if not token:
        return None
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except ValueError:  # not base64, or not UTF-8 (binascii.Error and UnicodeDecodeError are ValueErrors)
        return _error(400, "Invalid pageToken", "invalid", location="pageToken")


# -------------------------------------------------------------------- partial responses


Fields = dict[str, "Fields | None"]
_FIELD = re.compile(r"\s*([A-Za-z0-9_*.@$-]+(?:/[A-Za-z0-9_*.@$-]+)*)\s*")


def _parse_fields(spec: str) -> Fields:
    """``"kind,files(id,name),a/b"`` -> ``{"kind": None, "files": {"id": None, "name": None},
    "a": {"b": None}}`` (None: the whole value). ValueError on bad syntax."""
    pos = 0

    def parse_list(nested: bool) -> Fields:
        nonlocal pos
        tree: Fields = {}
        while True:
            match = _FIELD.match(spec, pos)
            if match is None:
                raise ValueError(f"a field name is expected at position {pos + 1}")
            pos = match.end()
            sub: Fields | None = None
            if spec.startswith("(", pos):
                pos += 1
                sub = parse_list(True)
            for name in reversed(match.group(1).split("/")[1:]):
                sub = {name: sub}
            head = match.group(1).split("/")[0]
            tree[head] = _merge(tree[head], sub) if head in tree else sub
            while spec.startswith(" ", pos):
                pos += 1
            if spec.startswith(",", pos):
                pos += 1
            elif nested:
                if not spec.startswith(")", pos):
                    raise ValueError(f"')' expected at position {pos + 1}")
                pos += 1
                return tree
            elif pos != len(spec):
                raise ValueError(f"unexpected {spec[pos]!r} at position {pos + 1}")
            else:
                return tree

    return parse_list(False)


def _merge(old: Fields | None, new: Fields | None) -> Fields | None:
    if old is None or new is None:
        return None  # one of them asks for the whole value
    merged = dict(old)
    for key, value in new.items():
        merged[key] = _merge(merged[key], value) if key in merged else value
    return merged


def _select(value: Any, tree: Fields | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [_select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        return {k: _select(v, tree["*"]) for k, v in value.items()}
    return {k: _select(value[k], sub) for k, sub in tree.items() if k in value}


# ------------------------------------------------------------------------------ routing


def _segments(request: web.Request) -> list[str]:
    return [unquote(s) for s in request.rel_url.raw_path.strip("/").split("/")] if request.rel_url.raw_path.strip("/") else []


def install(server: Any, app: web.Application) -> None:
    """Add the fake APIs' router (it answers only when ``server.fake_apis`` is true)."""

    async def route(request: web.Request) -> web.StreamResponse | None:
        if not getattr(server, "fake_apis", False):
            return None
        raw = _segments(request)
        segments, upload, download = raw, False, False
        if raw[:1] == ["upload"]:
            segments, upload = raw[1:], True
        elif raw[:1] == ["download"]:
            segments, download = raw[1:], True
        handler = _dispatch(segments)
        if handler is None:
            return None
        if upload and "upload_id" in request.query:
            return None  # a resumable session's chunk: the session URI is its credential
        refused = caller_problem(server, request)
        if refused is not None:
            return refused
        return await handler(server, request, segments, upload or download)

    server.add_router(route, key=__name__)


Route = Callable[[Any, web.Request, list[str], bool], Awaitable[web.StreamResponse]]


def _dispatch(segments: list[str]) -> Route | None:
    if segments[:2] == ["storage", "v1"]:
        return _storage
    if segments[:2] == ["drive", "v3"]:
        return _drive
    if segments[:2] == ["calendar", "v3"]:
        return _calendar
    if segments[:1] == ["v1"] and len(segments) > 1 and re.match(r"people(:|$)", segments[1]):
        return _people
    if segments[:3] == ["language", "translate", "v2"]:
        return _translate
    return None


def _unimplemented(api: str, request: web.Request, implemented: str) -> web.Response:
    return _error(501, f"the local fake of {api} does not implement {request.method} {request.path}; it implements {implemented}",
                  "notImplemented")


# ------------------------------------------------------------------------ Cloud Storage

_STORAGE_DOES = "buckets and objects: insert, list, get, patch, update, delete, and media uploads and downloads"
_OBJECT_WRITABLE = ("contentType", "metadata", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage",
                    "customTime", "temporaryHold", "eventBasedHold", "storageClass")
_BUCKET_WRITABLE = ("labels", "location", "storageClass", "versioning", "lifecycle", "cors", "website", "logging",
                    "retentionPolicy", "iamConfiguration", "defaultEventBasedHold", "billing", "encryption", "autoclass")


def _object_key(bucket: str, name: str) -> str:
    return f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"


def _etag(*parts: object) -> str:
    return base64.b64encode(":".join(map(str, parts)).encode()).decode().rstrip("=")


def _preconditions(request: web.Request, generation: int | None, metageneration: int | None) -> web.Response | None:
    """Cloud Storage's request preconditions
    (https://cloud.google.com/storage/docs/request-preconditions); a missing object has
    generation 0."""
    q = request.query
    checks = (("ifGenerationMatch", generation or 0, True), ("ifGenerationNotMatch", generation or 0, False),
              ("ifMetagenerationMatch", metageneration, True), ("ifMetagenerationNotMatch", metageneration, False))
    for name, actual, must_equal in checks:
        wanted = q.get(name)
        if wanted is None:
            continue
        if not wanted.lstrip("-").isdigit():
            return _error(400, f"Invalid value for {name}: {wanted!r}", "invalid", location=name)
        if actual is None:
            return _error(412, "At least one of the pre-conditions you specified did not hold.", "conditionNotMet", location=name)
        if (int(wanted) == actual) != must_equal:
            if not must_equal and request.method in ("GET", "HEAD"):
                return web.Response(status=304)
            return _error(412, "At least one of the pre-conditions you specified did not hold.", "conditionNotMet", location=name)
    return None


async def _storage(server: Any, request: web.Request, segments: list[str], media_path: bool) -> web.StreamResponse:
    st = api_state(server)
    rest = segments[2:]
    method = request.method
    if rest[:1] != ["b"]:
        return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
    if len(rest) == 1:
        if media_path:
            return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
        if method == "GET":
            return _buckets_list(st, request)
        if method == "POST":
            return await _buckets_insert(server, st, request)
        return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
    bucket = rest[1]
    if len(rest) == 2:
        if media_path:
            return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
        return await _bucket(server, st, request, bucket)
    if rest[2] != "o":
        return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
    if bucket not in st.buckets:
        return _not_found("The specified bucket does not exist.")
    if len(rest) == 3:
        if method == "POST" and request.path.startswith("/upload/"):
            return await _objects_upload(server, st, request, bucket)
        if method == "POST":
            return _error(400, "Upload requests must include an uploadType URL parameter and a URL path beginning with /upload/",
                          "wrongUrlForUpload")
        if method == "GET" and not media_path:
            return _objects_list(server, request, bucket)
        return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
    if len(rest) > 4 and rest[4] in ("compose", "copyTo", "rewriteTo", "moveTo", "iam", "restore", "viewFullContext"):
        return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
    return await _object(server, request, bucket, "/".join(rest[3:]), media_path)


def _buckets_list(st: ApiState, request: web.Request) -> web.Response:
    project = request.query.get("project")
    if not project:
        return _required("project")
    size = _int_param(request, "maxResults", 1000, 1000)
    if isinstance(size, web.Response):
        return size
    after = _untoken(request.query.get("pageToken"))
    if isinstance(after, web.Response):
        return after
    prefix = request.query.get("prefix", "")
    names = sorted(n for n, b in st.buckets.items() if b["_project"] == project and n.startswith(prefix) and (after is None or n > after))
    page = names[:size]
    out: dict[str, Any] = {"kind": "storage#buckets"}
    if page:
        out["items"] = [_public(st.buckets[n]) for n in page]
    if len(names) > size:
        out["nextPageToken"] = _token(page[-1])
    return _json(out, request=request)


def _public(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


async def _buckets_insert(server: Any, st: ApiState, request: web.Request) -> web.Response:
    project = request.query.get("project")
    if not project:
        return _required("project")
    body = await _body(server, request)
    if isinstance(body, web.Response):
        return body
    name = body.get("name")
    if not isinstance(name, str) or not name:
        return _error(400, "Required field: name", "required")
    if not _BUCKET_NAME.match(name) or ".." in name or (len(name) > 63 and "." not in name):
        return _error(400, f"Invalid bucket name: '{name}'", "invalid")
    if name in st.buckets:
        return _error(409, "Your previous request to create the named bucket succeeded and you already own it.", "conflict")
    now = _now()
    resource = {
        "kind": "storage#bucket",
        "selfLink": f"{server.url}storage/v1/b/{quote(name, safe='')}",
        "id": name,
        "name": name,
        "projectNumber": str(100000000000 + sum(map(ord, project))),
        "metageneration": "1",
        "location": "US",
        "storageClass": "STANDARD",
        "locationType": "multi-region",
        "timeCreated": now,
        "updated": now,
        "_project": project,
    }
    resource.update({k: v for k, v in body.items() if k in _BUCKET_WRITABLE})
    resource["etag"] = _etag(name, 1)
    st.buckets[name] = resource
    return _json(_public(resource), request=request)


async def _bucket(server: Any, st: ApiState, request: web.Request, name: str) -> web.Response:
    resource = st.buckets.get(name)
    if resource is None:
        await server.read_body(request)
        return _not_found("The specified bucket does not exist.")
    metageneration = int(resource["metageneration"])
    refused = _preconditions(request, None, metageneration)
    if refused is not None:
        return refused
    method = request.method
    if method == "GET":
        return _json(_public(resource), request=request)
    if method in ("PATCH", "PUT"):
        body = await _body(server, request)
        if isinstance(body, web.Response):
            return body
        if method == "PUT":
            for key in _BUCKET_WRITABLE:
                resource.pop(key, None)
        _apply_patch(resource, {k: v for k, v in body.items() if k in _BUCKET_WRITABLE}, maps=("labels",))
        resource["metageneration"] = str(metageneration + 1)
        resource["updated"] = _now()
        resource["etag"] = _etag(name, metageneration + 1)
        return _json(_public(resource), request=request)
    if method == "DELETE":
        prefix = f"/storage/v1/b/{quote(name, safe='')}/o/"
        if any(key.startswith(prefix) for key in media_state(server).objects):
            return _error(409, "The bucket you tried to delete is not empty.", "conflict")
        del st.buckets[name]
        return web.Response(status=204)
    return _unimplemented("Cloud Storage", request, _STORAGE_DOES)


def _apply_patch(resource: dict[str, Any], patch: dict[str, Any], maps: tuple[str, ...]) -> None:
    """A JSON merge patch: fields replaced, ``null`` removes; the ``maps`` (user metadata,
    labels) are merged key by key, as Cloud Storage does."""
    for key, value in patch.items():
        if value is None:
            resource.pop(key, None)
        elif key in maps and isinstance(value, dict):
            merged = dict(resource.get(key) or {})
            for k, v in value.items():
                if v is None:
                    merged.pop(k, None)
                else:
                    merged[k] = v
            resource[key] = merged
        else:
            resource[key] = value


def _objects_in(server: Any, bucket: str) -> dict[str, StoredObject]:
    prefix = f"/storage/v1/b/{quote(bucket, safe='')}/o/"
    return {obj.resource["name"]: obj for key, obj in list(media_state(server).objects.items()) if key.startswith(prefix)}


def _objects_list(server: Any, request: web.Request, bucket: str) -> web.Response:
    q = request.query
    size = _int_param(request, "maxResults", 1000, 1000)
    if isinstance(size, web.Response):
        return size
    after = _untoken(q.get("pageToken"))
    if isinstance(after, web.Response):
        return after
    if q.get("matchGlob"):
        return _error(400, "matchGlob is not implemented by the local fake of Cloud Storage; use prefix and delimiter", "invalid",
                      location="matchGlob")
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    start, end = q.get("startOffset"), q.get("endOffset")
    trailing = q.get("includeTrailingDelimiter", "false").lower() == "true"
    objects = _objects_in(server, bucket)
    # Entries in name order: an object, or the prefix that a delimiter collapses it into
    # (each prefix once; with includeTrailingDelimiter an object named like its prefix is
    # listed too, after it). The page token is the last entry given.
    entries: set[tuple[str, int]] = set()  # (name or prefix, 0 for a prefix, 1 for an object)
    for name in objects:
        if not name.startswith(prefix) or (start and name < start) or (end and name >= end):
            continue
        cut = name.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            entries.add((name[: cut + len(delimiter)], 0))
            if not (trailing and cut + len(delimiter) == len(name)):
                continue
        entries.add((name, 1))
    ordered = sorted(entries)
    if after is not None:
        value, _, rank = after.rpartition("\n")
        ordered = [e for e in ordered if e > (value, int(rank) if rank.isdigit() else 1)]
    page = ordered[:size]
    out: dict[str, Any] = {"kind": "storage#objects"}
    prefixes = [value for value, rank in page if rank == 0]
    items = [objects[value].resource for value, rank in page if rank == 1]
    if prefixes:
        out["prefixes"] = prefixes
    if items:
        out["items"] = items
    if len(ordered) > size:
        out["nextPageToken"] = _token(f"{page[-1][0]}\n{page[-1][1]}")
    return _json(out, request=request)


async def _objects_upload(server: Any, st: ApiState, request: web.Request, bucket: str) -> web.StreamResponse:
    def target(req: web.Request, base: str, metadata: dict[str, Any]) -> UploadTarget | web.Response:
        name = req.query.get("name") or metadata.get("name")
        if not isinstance(name, str) or not name:
            return _required("name")
        old = _objects_in(server, bucket).get(name)
        refused = _preconditions(req, old.generation if old else None, int(old.resource.get("metageneration", 1)) if old else None)
        if refused is not None:
            return refused
        writable = {k: v for k, v in metadata.items() if k in _OBJECT_WRITABLE and v is not None}

        def complete(obj: StoredObject) -> dict[str, Any]:
            now = _now()
            key = _object_key(bucket, name)
            obj.resource = {
                "kind": "storage#object",
                "id": f"{bucket}/{name}/{obj.generation}",
                "selfLink": f"{server.url}storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}",
                "mediaLink": f"{server.url}download{key}?generation={obj.generation}&alt=media",
                "name": name,
                "bucket": bucket,
                "generation": str(obj.generation),
                "metageneration": "1",
                "contentType": obj.content_type,
                "storageClass": st.buckets[bucket].get("storageClass", "STANDARD") if bucket in st.buckets else "STANDARD",
                "size": str(obj.size),
                "md5Hash": obj.md5,
                "crc32c": obj.crc32c,
                "etag": _etag(obj.generation, 1),
                "timeCreated": now,
                "updated": now,
                "timeStorageClassUpdated": now,
                **writable,
            }
            return _select_for(request, obj.resource)

        return UploadTarget(_object_key(bucket, name), name, complete)

    return await receive_upload(server, request, f"/storage/v1/b/{quote(bucket, safe='')}/o", target)


def _select_for(request: web.Request, resource: dict[str, Any], default: str | None = None) -> dict[str, Any]:
    spec = request.query.get("fields") or default
    if not spec:
        return resource
    try:
        selected: dict[str, Any] = _select(resource, _parse_fields(spec))
    except ValueError:
        return resource
    return selected


async def _object(server: Any, request: web.Request, bucket: str, name: str, media_path: bool) -> web.StreamResponse:
    obj = _objects_in(server, bucket).get(name)
    method = request.method
    if obj is None:
        await server.read_body(request)
        return _not_found(f"No such object: {bucket}/{name}")
    generation = request.query.get("generation")
    if generation is not None and generation != str(obj.generation):
        await server.read_body(request)
        return _not_found(f"No such object: {bucket}/{name}#{generation}")
    metageneration = int(obj.resource.get("metageneration", 1))
    refused = _preconditions(request, obj.generation, metageneration)
    if refused is not None:
        return refused
    if method == "GET":
        if media_path or request.query.get("alt") == "media":
            return await send_object(server, request, obj)
        return _json(obj.resource, request=request)
    if media_path:
        return _unimplemented("Cloud Storage", request, _STORAGE_DOES)
    if method in ("PATCH", "PUT"):
        body = await _body(server, request)
        if isinstance(body, web.Response):
            return body
        resource = obj.resource
        if method == "PUT":
            for key in _OBJECT_WRITABLE:
                resource.pop(key, None)
            resource["contentType"] = obj.content_type
        _apply_patch(resource, {k: v for k, v in body.items() if k in _OBJECT_WRITABLE}, maps=("metadata",))
        if isinstance(resource.get("contentType"), str):
            obj.content_type = resource["contentType"]
        resource["metageneration"] = str(metageneration + 1)
        resource["updated"] = _now()
        resource["etag"] = _etag(obj.generation, metageneration + 1)
        return _json(resource, request=request)
    if method == "DELETE":
        media_state(server).remove(obj.key)
        return web.Response(status=204)
    return _unimplemented("Cloud Storage", request, _STORAGE_DOES)


# --------------------------------------------------------------------------------- Drive

_DRIVE_DOES = "files: create (with or without media), list, get (alt=media too), update, delete, generateIds"
_FILE_DEFAULT = "kind,id,name,mimeType"
_FILE_WRITABLE = ("name", "mimeType", "description", "starred", "trashed", "properties", "appProperties",
                  "originalFilename", "modifiedTime", "viewedByMeTime", "writersCanShare", "folderColorRgb")
_DRIVE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _drive_id() -> str:
    # Drive ids are 33 URL-safe characters, starting with "1" for files made by the v3 API.
    return "1" + secrets.token_urlsafe(24)[:32]


async def _drive(server: Any, request: web.Request, segments: list[str], media_path: bool) -> web.StreamResponse:
    st = api_state(server)
    rest = segments[2:]
    method = request.method
    if rest[:1] != ["files"]:
        return _unimplemented("Drive", request, _DRIVE_DOES)
    if len(rest) == 1:
        if method == "POST":
            return await _drive_create(server, st, request, upload=request.path.startswith("/upload/"))
        if method == "GET" and not media_path:
            return _drive_list(st, request)
        return _unimplemented("Drive", request, _DRIVE_DOES)
    if len(rest) == 2 and rest[1] == "generateIds" and method == "GET":
        count = _int_param(request, "count", 10, 1000)
        if isinstance(count, web.Response):
            return count
        return _json({"kind": "drive#generatedIds", "space": request.query.get("space", "drive"),
                      "ids": [_drive_id() for _ in range(count)]}, request=request)
    if len(rest) != 2:
        return _unimplemented("Drive", request, _DRIVE_DOES)
    file_id = rest[1]
    record = st.drive_files.get(file_id)
    if record is None:
        await server.read_body(request)
        return _not_found(f"File not found: {file_id}.", location="fileId")
    if method == "GET":
        if media_path or request.query.get("alt") == "media":
            if str(record.get("mimeType", "")).startswith(_GOOGLE_APPS):
                return _error(403, "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                              "fileNotDownloadable", location="alt")
            obj = media_state(server).objects.get(f"/drive/v3/files/{quote(file_id, safe='')}")
            if obj is None:
                return web.Response(body=b"", content_type=str(record.get("mimeType") or "application/octet-stream"))
            return await send_object(server, request, obj)
        return _json(record, request=request, default_fields=_FILE_DEFAULT)
    if method == "PATCH":
        if request.path.startswith("/upload/"):
            return await _drive_upload(server, st, request, file_id)
        body = await _body(server, request)
        if isinstance(body, web.Response):
            return body
        _drive_apply(record, body, request)
        return _json(record, request=request, default_fields=_FILE_DEFAULT)
    if method == "DELETE":
        del st.drive_files[file_id]
        media_state(server).remove(f"/drive/v3/files/{quote(file_id, safe='')}")
        return web.Response(status=204)
    return _unimplemented("Drive", request, _DRIVE_DOES)


def _drive_apply(record: dict[str, Any], metadata: dict[str, Any], request: web.Request) -> None:
    _apply_patch(record, {k: v for k, v in metadata.items() if k in _FILE_WRITABLE}, maps=("properties", "appProperties"))
    parents = list(record.get("parents") or [])
    for parent in filter(None, request.query.get("removeParents", "").split(",")):
        if parent in parents:
            parents.remove(parent)
    for parent in filter(None, request.query.get("addParents", "").split(",")):
        if parent not in parents:
            parents.append(parent)
    record["parents"] = parents
    record["modifiedTime"] = _now()
    record["version"] = str(int(record.get("version", "1")) + 1)


def _drive_new(st: ApiState, metadata: dict[str, Any]) -> dict[str, Any] | web.Response:
    file_id = metadata.get("id")
    if file_id is not None:
        if not isinstance(file_id, str) or not _DRIVE_ID.match(file_id):
            return _error(400, f"The provided file ID is not usable: {file_id!r}", "fileIdNotUsable")
        if file_id in st.drive_files:
            return _error(409, "A file already exists with the provided ID.", "fileIdInUse")
    now = _now()
    record: dict[str, Any] = {
        "kind": "drive#file",
        "id": file_id or _drive_id(),
        "name": "Untitled",
        "mimeType": "application/octet-stream",
        "parents": list(metadata.get("parents") or ["root"]),
        "createdTime": now,
        "modifiedTime": now,
        "trashed": False,
        "starred": False,
        "version": "1",
    }
    record.update({k: v for k, v in metadata.items() if k in _FILE_WRITABLE and v is not None})
    return record


async def _drive_create(server: Any, st: ApiState, request: web.Request, upload: bool) -> web.StreamResponse:
    if upload:
        return await _drive_upload(server, st, request, None)
    body = await _body(server, request)
    if isinstance(body, web.Response):
        return body
    record = _drive_new(st, body)
    if isinstance(record, web.Response):
        return record
    st.drive_files[record["id"]] = record
    return _json(record, request=request, default_fields=_FILE_DEFAULT)


async def _drive_upload(server: Any, st: ApiState, request: web.Request, file_id: str | None) -> web.StreamResponse:
    def target(req: web.Request, base: str, metadata: dict[str, Any]) -> UploadTarget | web.Response:
        if file_id is None:
            made = _drive_new(st, metadata)
            if isinstance(made, web.Response):
                return made
            record = made
        else:
            record = st.drive_files[file_id]
        key = f"/drive/v3/files/{quote(record['id'], safe='')}"

        def complete(obj: StoredObject) -> dict[str, Any]:
            if file_id is None:
                st.drive_files[record["id"]] = record
                if "mimeType" not in metadata:
                    record["mimeType"] = obj.content_type
            else:
                _drive_apply(record, metadata, req)
                if "mimeType" not in metadata:
                    record["mimeType"] = obj.content_type
            record.update(size=str(obj.size), md5Checksum=base64.b64decode(obj.md5).hex(), headRevisionId=str(obj.generation))
            obj.resource = record
            return _select_for(req, record, _FILE_DEFAULT)

        return UploadTarget(key, str(record["name"]), complete)

    base = "/drive/v3/files" + (f"/{quote(file_id, safe='')}" if file_id else "")
    return await receive_upload(server, request, base, target)


_Q_TERM = re.compile(
    r"""\s*(?:
        (?P<field>name|mimeType|fullText)\s*(?P<op>=|!=|contains)\s*'(?P<value>(?:[^'\\]|\\.)*)'
      | '(?P<parent>(?:[^'\\]|\\.)*)'\s+in\s+parents
      | (?P<flag>trashed|starred)\s*(?P<flagop>=|!=)\s*(?P<bool>true|false)
    )\s*""",
    re.X,
)


def _drive_query(q: str) -> Callable[[dict[str, Any]], bool] | str:
    """A predicate for Drive's ``q`` (https://developers.google.com/drive/api/guides/ref-search-terms),
    for the terms the fake understands joined by ``and``; or the reason it cannot."""
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for part in re.split(r"\s+and\s+", q.strip()):
        m = _Q_TERM.fullmatch(part)
        if m is None:
            return (f"the local fake of Drive understands name/mimeType =, != and contains, "
                    f"'ID' in parents, and trashed/starred = true|false, joined by 'and'; not {part.strip()!r}")
        tests.append(_drive_term(m))
    return lambda record: all(t(record) for t in tests)


def _drive_term(m: re.Match[str]) -> Callable[[dict[str, Any]], bool]:
    def unescape(text: str) -> str:
        return re.sub(r"\\(.)", r"\1", text)

    if m.group("parent") is not None:
        parent = unescape(m.group("parent"))
        return lambda r: parent in (r.get("parents") or [])
    if m.group("flag"):
        flag, wanted = m.group("flag"), (m.group("bool") == "true") != (m.group("flagop") == "!=")
        return lambda r: bool(r.get(flag)) == wanted
    key = "name" if m.group("field") == "fullText" else m.group("field")
    value, op = unescape(m.group("value")), m.group("op")
    if op == "contains":
        return lambda r: value.lower() in str(r.get(key, "")).lower()
    equal = op == "="
    return lambda r: (str(r.get(key, "")) == value) == equal


def _drive_list(st: ApiState, request: web.Request) -> web.Response:
    size = _int_param(request, "pageSize", 100, 1000)
    if isinstance(size, web.Response):
        return size
    offset = _untoken(request.query.get("pageToken"))
    if isinstance(offset, web.Response):
        return offset
    files = list(st.drive_files.values())
    q = request.query.get("q")
    if q:
        test = _drive_query(q)
        if isinstance(test, str):
            return _error(400, f"Invalid Value: {test}", "invalid", location="q")
        files = [f for f in files if test(f)]
    elif "trashed" not in (q or ""):
        files = [f for f in files if not f.get("trashed")]
    for key in reversed([k.strip() for k in request.query.get("orderBy", "").split(",") if k.strip()]):
        field_name, _, direction = key.partition(" ")
        if field_name not in ("name", "createdTime", "modifiedTime", "folder", "starred"):
            return _error(400, f"Invalid Value: orderBy {field_name!r} (the fake sorts by name, createdTime or modifiedTime)",
                          "invalid", location="orderBy")
        sort_key = "mimeType" if field_name == "folder" else field_name
        files.sort(key=lambda f: str(f.get(sort_key, "")), reverse=direction == "desc")
    start = int(offset) if offset and offset.isdigit() else 0
    page = files[start : start + size]
    out: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False, "files": page}
    if start + size < len(files):
        out["nextPageToken"] = _token(str(start + size))
    default = "kind,incompleteSearch,nextPageToken,files(" + _FILE_DEFAULT + ")"
    return _json(out, request=request, default_fields=default)


# ------------------------------------------------------------------------------ Calendar

_CALENDAR_DOES = "calendars insert/get and events: insert, list, get, patch, update, delete"


def _parse_time(value: Any) -> float | None:
    """An event time (``{"dateTime"}`` or ``{"date"}``) or an RFC 3339 string, as a timestamp."""
    if isinstance(value, dict):
        value = value.get("dateTime") or value.get("date")
    if not isinstance(value, str):
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed.timestamp()


async def _calendar(server: Any, request: web.Request, segments: list[str], media_path: bool) -> web.StreamResponse:
    st = api_state(server)
    rest = segments[2:]
    method = request.method
    if media_path or rest[:1] != ["calendars"]:
        return _unimplemented("Calendar", request, _CALENDAR_DOES)
    if len(rest) == 1 and method == "POST":
        body = await _body(server, request)
        if isinstance(body, web.Response):
            return body
        if not body.get("summary"):
            return _error(400, "Missing title.", "required")
        calendar_id = f"c_{secrets.token_hex(16)}@group.calendar.google.com"
        st.calendars[calendar_id] = {"kind": "calendar#calendar", "etag": _etag(calendar_id), "id": calendar_id,
                                     "summary": body["summary"], "timeZone": body.get("timeZone", "UTC")}
        st.events[calendar_id] = {}
        return _json(st.calendars[calendar_id], request=request)
    if len(rest) < 2:
        return _unimplemented("Calendar", request, _CALENDAR_DOES)
    calendar_id = rest[1]
    if calendar_id not in st.calendars:
        await server.read_body(request)
        return _not_found("Not Found")
    events = st.events[calendar_id]
    if len(rest) == 2:
        if method == "GET":
            return _json({"kind": "calendar#calendar", "timeZone": "UTC", **st.calendars[calendar_id]}, request=request)
        return _unimplemented("Calendar", request, _CALENDAR_DOES)
    if rest[2] != "events" or len(rest) > 4:
        return _unimplemented("Calendar", request, _CALENDAR_DOES)
    if len(rest) == 3:
        if method == "GET":
            return _events_list(st, request, calendar_id)
        if method == "POST":
            body = await _body(server, request)
            if isinstance(body, web.Response):
                return body
            return _event_store(st, request, calendar_id, None, body)
        return _unimplemented("Calendar", request, _CALENDAR_DOES)
    event_id = rest[3]
    if event_id in ("import", "quickAdd", "watch"):
        return _unimplemented("Calendar", request, _CALENDAR_DOES)
    event = events.get(event_id)
    if event is None:
        await server.read_body(request)
        return _not_found("Not Found")
    if method == "GET":
        return _json(event, request=request)
    if method in ("PATCH", "PUT"):
        body = await _body(server, request)
        if isinstance(body, web.Response):
            return body
        merged = {**event, **body} if method == "PATCH" else body
        return _event_store(st, request, calendar_id, event, merged)
    if method == "DELETE":
        del events[event_id]
        return web.Response(status=204)
    return _unimplemented("Calendar", request, _CALENDAR_DOES)


def _event_store(st: ApiState, request: web.Request, calendar_id: str, old: dict[str, Any] | None, body: dict[str, Any]) -> web.Response:
    times = {}
    for end in ("start", "end"):
        if not body.get(end):
            return _error(400, f"Missing {end} time.", "required")
        times[end] = _parse_time(body[end])
        if times[end] is None:
            return _error(400, f"Invalid {end} time: give dateTime (RFC 3339) or date (YYYY-MM-DD).", "invalid")
    if (times["end"] or 0) < (times["start"] or 0):
        return _error(400, "The specified time range is empty.", "timeRangeEmpty")
    events = st.events[calendar_id]
    now = _now()
    if old is None:
        event_id = body.get("id")
        if event_id is not None:
            if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
                return _error(400, "Invalid resource id value.", "invalid")
            if event_id in events:
                return _error(409, "The requested identifier already exists.", "duplicate")
        else:
            event_id = base64.b32hexencode(secrets.token_bytes(15)).decode().lower()
        event = {"kind": "calendar#event", "id": event_id, "status": "confirmed", "created": now, "sequence": 0,
                 "iCalUID": f"{event_id}@google.com", "creator": {"email": "johndoe@example.com", "self": True},
                 "organizer": {"email": "johndoe@example.com", "self": True},
                 "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}"}
    else:
        event = {k: old[k] for k in ("kind", "id", "created", "iCalUID", "creator", "organizer", "htmlLink", "status")}
        event["sequence"] = int(old.get("sequence", 0)) + 1
    event.update({k: v for k, v in body.items() if k not in event or k in ("status", "summary")})
    event["updated"] = now
    event["etag"] = f'"{int(time.time() * 1000)}{st.next()}"'
    events[str(event["id"])] = event
    return _json(event, request=request)


def _events_list(st: ApiState, request: web.Request, calendar_id: str) -> web.Response:
    q = request.query
    size = _int_param(request, "maxResults", 250, 2500)
    if isinstance(size, web.Response):
        return size
    offset = _untoken(q.get("pageToken"))
    if isinstance(offset, web.Response):
        return offset
    events = list(st.events[calendar_id].values())
    bounds: dict[str, float] = {}
    for name in ("timeMin", "timeMax"):
        if q.get(name):
            bound = _parse_time(q[name])
            if bound is None:
                return _error(400, f"Bad Request: {name} must be an RFC 3339 timestamp with a time zone", "badRequest", location=name)
            bounds[name] = bound
    # An event is listed when it ends after timeMin and starts before timeMax.
    if "timeMin" in bounds:
        events = [e for e in events if (_parse_time(e.get("end")) or 0) > bounds["timeMin"]]
    if "timeMax" in bounds:
        events = [e for e in events if (_parse_time(e.get("start")) or 0) < bounds["timeMax"]]
    if q.get("q"):
        text = q["q"].lower()
        events = [e for e in events if any(text in str(e.get(k, "")).lower() for k in ("summary", "description", "location"))]
    if q.get("orderBy") == "startTime":
        events.sort(key=lambda e: _parse_time(e.get("start")) or 0)
    elif q.get("orderBy") == "updated":
        events.sort(key=lambda e: str(e.get("updated")))
    start = int(offset) if offset and offset.isdigit() else 0
    calendar = st.calendars[calendar_id]
    out: dict[str, Any] = {
        "kind": "calendar#events", "etag": _etag(calendar_id, len(events)), "summary": calendar.get("summary", calendar_id),
        "updated": _now(), "timeZone": calendar.get("timeZone", "UTC"), "accessRole": "owner", "defaultReminders": [],
        "items": events[start : start + size],
    }
    if start + size < len(events):
        out["nextPageToken"] = _token(str(start + size))
    return _json(out, request=request)


# -------------------------------------------------------------------------------- People

_PEOPLE_DOES = "people: createContact, get, updateContact, deleteContact, and connections.list of people/me"
_PERSON_FIELDS = ("addresses", "biographies", "birthdays", "emailAddresses", "genders", "names", "nicknames", "occupations",
                  "organizations", "phoneNumbers", "photos", "relations", "urls", "userDefined", "memberships", "events",
                  "externalIds", "imClients", "interests", "locales", "locations", "miscKeywords", "sipAddresses",
                  "skills", "calendarUrls", "clientData", "coverPhotos", "ageRanges", "metadata")


def _person_fields(request: web.Request, name: str, required: bool) -> list[str] | web.Response | None:
    raw = request.query.get(name) or request.query.get("requestMask.includeField")
    if not raw:
        if required:
            return _error(400, f"{name} mask is required. Please specify one or more valid paths. Valid paths are documented at "
                               "https://developers.google.com/people/api/rest/v1/people/get.", "badRequest", location=name)
        return None
    fields = [f.strip().removeprefix("person.") for f in raw.split(",") if f.strip()]
    unknown = [f for f in fields if f not in _PERSON_FIELDS]
    if unknown:
        return _error(400, f"Invalid {name} mask path: {unknown[0]!r}. Valid paths are documented at "
                           "https://developers.google.com/people/api/rest/v1/people/get.", "badRequest", location=name)
    return fields


def _person_view(person: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if fields is None:
        return dict(person)
    return {k: v for k, v in person.items() if k in ("resourceName", "etag") or k in fields}


async def _people(server: Any, request: web.Request, segments: list[str], media_path: bool) -> web.StreamResponse:
    st = api_state(server)
    method = request.method
    rest = segments[1:]
    if media_path:
        return _unimplemented("People", request, _PEOPLE_DOES)
    if rest == ["people:createContact"] and method == "POST":
        fields = _person_fields(request, "personFields", False)
        if isinstance(fields, web.Response):
            return fields
        body = await _body(server, request)
        if isinstance(body, web.Response):
            return body
        number = st.next()
        source = f"{number:x}"
        person = {k: v for k, v in body.items() if k in _PERSON_FIELDS and k != "metadata"}
        person.update(resourceName=f"people/c{number}", etag=_etag("person", number, 0),
                      metadata={"sources": [{"type": "CONTACT", "id": source, "etag": _etag("source", number)}],
                                "objectType": "PERSON"})
        st.contacts[person["resourceName"]] = person
        return _json(_person_view(person, fields), request=request)
    if len(rest) == 3 and rest[1] == "me" and rest[2] == "connections":
        if method != "GET":
            return _unimplemented("People", request, _PEOPLE_DOES)
        return _connections(st, request)
    if len(rest) != 2 or rest[0] != "people":
        return _unimplemented("People", request, _PEOPLE_DOES)
    ident, _, action = rest[1].partition(":")
    resource_name = f"people/{ident}"
    contact = st.contacts.get(resource_name)
    if contact is None:
        await server.read_body(request)
        return _not_found("Requested entity was not found.")
    if method == "GET" and not action:
        fields = _person_fields(request, "personFields", True)
        if isinstance(fields, web.Response):
            return fields
        return _json(_person_view(contact, fields), request=request)
    if method == "PATCH" and action == "updateContact":
        updated = _person_fields(request, "updatePersonFields", True)
        if isinstance(updated, web.Response):
            return updated
        body = await _body(server, request)
        if isinstance(body, web.Response):
            return body
        if body.get("etag") != contact["etag"]:
            return _error(400, "Request person.etag is different than the current person.etag. Clear local cache and get "
                               "the latest person.", "failedPrecondition")
        for name in updated or ():
            if name in body:
                contact[name] = body[name]
            else:
                contact.pop(name, None)
        contact["etag"] = _etag("person", resource_name, st.next())
        shown = _person_fields(request, "personFields", False)
        if isinstance(shown, web.Response):
            return shown
        return _json(_person_view(contact, shown), request=request)
    if method == "DELETE" and action == "deleteContact":
        del st.contacts[resource_name]
        return _json({}, request=request)
    return _unimplemented("People", request, _PEOPLE_DOES)


def _connections(st: ApiState, request: web.Request) -> web.Response:
    fields = _person_fields(request, "personFields", True)
    if isinstance(fields, web.Response):
        return fields
    size = _int_param(request, "pageSize", 100, 1000)
    if isinstance(size, web.Response):
        return size
    offset = _untoken(request.query.get("pageToken"))
    if isinstance(offset, web.Response):
        return offset
    people = list(st.contacts.values())
    if request.query.get("sortOrder") in ("FIRST_NAME_ASCENDING", "LAST_NAME_ASCENDING"):
        part = "givenName" if request.query["sortOrder"] == "FIRST_NAME_ASCENDING" else "familyName"
        people.sort(key=lambda p: str(((p.get("names") or [{}])[0]).get(part, "")))
    start = int(offset) if offset and offset.isdigit() else 0
    page = people[start : start + size]
    # Empty lists are left out of the reply, as the People API (proto3 JSON) does.
    out: dict[str, Any] = {"totalPeople": len(people), "totalItems": len(people)}
    if page:
        out["connections"] = [_person_view(p, fields) for p in page]
    if start + size < len(people):
        out["nextPageToken"] = _token(str(start + size))
    return _json(out, request=request)


# --------------------------------------------------------------------------- Translation

_TRANSLATE_DOES = "translations (list, translate), detections (list, detect) and languages.list"


async def _translate_params(server: Any, request: web.Request) -> dict[str, list[str]] | web.Response:
    """The query and, for POST, the form or JSON body: every value as a list."""
    params: dict[str, list[str]] = {k: request.query.getall(k) for k in request.query}
    if request.method == "POST":
        raw = await server.read_body(request)
        if raw:
            ctype = request.headers.get("Content-Type", "")
            if "json" in ctype:
                try:
                    body = json.loads(raw)
                except ValueError:
                    return _error(400, "Parse Error: the request body is not JSON", "parseError")
                if not isinstance(body, dict):
                    return _error(400, "The request body must be a JSON object", "parseError")
                for key, value in body.items():
                    params.setdefault(key, []).extend(map(str, value if isinstance(value, list) else [value]))
            else:
                for key, values in parse_qs(raw.decode("utf-8", "replace")).items():
                    params.setdefault(key, []).extend(values)
    return params


def _first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


async def _translate(server: Any, request: web.Request, segments: list[str], media_path: bool) -> web.StreamResponse:
    rest = segments[3:]
    if media_path or request.method not in ("GET", "POST") or len(rest) > 1:
        return _unimplemented("Cloud Translation", request, _TRANSLATE_DOES)
    params = await _translate_params(server, request)
    if isinstance(params, web.Response):
        return params
    if rest == ["languages"]:
        target = _first(params, "target")
        languages = [{"language": code, **({"name": code} if target else {})} for code in _LANGUAGES]
        return _json({"data": {"languages": languages}}, request=request)
    texts = params.get("q") or []
    if not texts:
        return _error(400, "Required Text", "required", location="q")
    if rest == ["detect"]:
        return _json({"data": {"detections": [[{"language": "en", "isReliable": False, "confidence": 1}] for _ in texts]}},
                     request=request)
    if rest:
        return _unimplemented("Cloud Translation", request, _TRANSLATE_DOES)
    target = _first(params, "target")
    if not target:
        return _error(400, "Required Target Language", "required", location="target")
    if target not in _LANGUAGES and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", target):
        return _error(400, "Invalid Value", "invalid", location="target")
    source = _first(params, "source")
    translations = []
    for text in texts:
        item: dict[str, Any] = {"translatedText": f"[{target}] {text}"}
        if not source:
            item["detectedSourceLanguage"] = "en"
        translations.append(item)
    return _json({"data": {"translations": translations}}, request=request)
