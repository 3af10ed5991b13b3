"""Fetching discovery documents (docs/protocol.md §1.1), with an optional on-disk cache.

``discover("drive", "v3")`` tries the Discovery v1 URL first and falls back to the newer
per-service ``$discovery`` form on a 404 (as googleapiclient does). Without a version, the
directory is asked for the preferred one first.

The cache keeps one file per document *and discovery URL* (so a document fetched from a
local emulator never stands in for Google's), named ``{api}.{version}.{hash}.json``. A
cached document younger than ``max_age`` is used without asking the network; an older one
is refreshed, and used anyway if the network fails (offline use). A refreshed document
replaces the cached one only when its ``revision`` or ``etag`` changed.
"""

from __future__ import annotations

import hashlib
import json as _json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from ._call import build_response, send_flow, to_http
from ._effects import FileOp, Flow, Now
from ._parse import loads
from .excs import DiscoveryError, HTTPError, TransportError, ValidationError
from .models import Request

__all__ = ["DiscoveryCache", "DiscoveryEndpoints", "discovery_flow", "list_api_flow"]


@dataclass(frozen=True)
class DiscoveryEndpoints:
    """Where discovery documents come from. ``DiscoveryEndpoints.at(root)`` points every
    endpoint at one server (an emulator, :class:`aiogoogle.testing.LocalGoogleServer`)."""

    directory: str = "https://www.googleapis.com/discovery/v1/apis"
    v1: str = "https://www.googleapis.com/discovery/v1/apis/{api}/{version}/rest"
    v2: str = "https://{api}.googleapis.com/$discovery/rest?version={version}"

    @classmethod
    def at(cls, root: str) -> DiscoveryEndpoints:
        root = root if root.endswith("/") else root + "/"
        return cls(
            directory=root + "discovery/v1/apis",
            v1=root + "discovery/v1/apis/{api}/{version}/rest",
            v2=root + "{api}/$discovery/rest?version={version}",
        )


@dataclass(frozen=True)
class DiscoveryCache:
    """Settings of the on-disk document cache (``directory`` must be given by the caller)."""

    directory: str
    max_age: float = 24 * 3600.0

    def path_for(self, api: str, version: str, url: str) -> str:
        digest = hashlib.sha256(url.encode()).hexdigest()[:12]
        safe = quote(f"{api}.{version}", safe="")
        sep = "" if self.directory.endswith(("/", "\\")) else "/"
        return f"{self.directory}{sep}{safe}.{digest}.json"


def _get(url: str, options: Any) -> Flow[Any]:
    request = Request(method="GET", url=url)
    http = to_http(request, options)
    response = yield from send_flow(http, options.retry, authorize=False, max_redirects=options.max_redirects)
    return build_response(response, request)


def list_api_flow(name: str | None, preferred: bool | None, fields: str | None, endpoints: DiscoveryEndpoints, options: Any) -> Flow[Any]:
    """``discovery.apis.list``: the directory of APIs."""
    query = [(k, v) for k, v in (("name", name), ("preferred", None if preferred is None else str(bool(preferred)).lower()), ("fields", fields)) if v is not None]
    url = endpoints.directory + ("?" + urlencode(query) if query else "")
    response = yield from _get(url, options)
    response.raise_for_status()
    return response.json


def _pick_version(directory: Any, api: str) -> str:
    items = directory.get("items") if isinstance(directory, dict) else None
    # Only well-formed entries count: the directory is a server's reply like any other.
    entries = [i for i in items if isinstance(i, dict) and isinstance(i.get("version"), str) and i["version"]] if isinstance(items, list) else []
    if not entries:
        raise DiscoveryError(f"the discovery directory lists no API named {api!r}")
    for item in entries:
        if item.get("preferred"):
            return str(item["version"])
    return str(entries[0]["version"])


def discovery_flow(
    api: str,
    version: str | None,
    endpoints: DiscoveryEndpoints,
    options: Any,
    cache: DiscoveryCache | None = None,
    disco_doc_ver: int | None = None,
) -> Flow[dict[str, Any]]:
    """Fetch (or read from the cache) the discovery document of ``api`` ``version``.

    ``disco_doc_ver`` (aiogoogle 5.x's argument): ``2`` asks the per-service Discovery v2
    URL (``https://{api}.googleapis.com/$discovery/rest``) only, for APIs that Discovery
    v1 does not list; ``1`` or ``None`` asks v1 and falls back to v2 on a 404
    (https://developers.google.com/discovery/v1/reference/apis/getRest).
    """
    if not api or "/" in api:
        raise DiscoveryError(f"invalid API name {api!r}")
    if disco_doc_ver not in (None, 1, 2) or isinstance(disco_doc_ver, bool):
        raise ValidationError([("disco_doc_ver", "must be 1, 2 or None", disco_doc_ver)])
    if version is None:
        directory = yield from list_api_flow(api, True, None, endpoints, options)
        version = _pick_version(directory, api)
    url_v2 = endpoints.v2.format(api=quote(api, safe=""), version=quote(version, safe=""))
    url_v1 = url_v2 if disco_doc_ver == 2 else endpoints.v1.format(api=quote(api, safe=""), version=quote(version, safe=""))
    cached: dict[str, Any] | None = None
    cache_path = cache.path_for(api, version, url_v1) if cache is not None else None
    if cache is not None and cache_path is not None:
        cached, fresh = yield from _read_cache(cache_path, cache.max_age)
        if cached is not None and fresh:
            return cached
    try:
        response = yield from _get(url_v1, options)
        if response.status_code == 404 and url_v2 != url_v1:
            response = yield from _get(url_v2, options)
        if response.status_code == 404:
            raise DiscoveryError(
                f"no discovery document for {api} {version} (tried {url_v1} and the $discovery form); "
                "check the name and version with Aiogoogle.list_api(name) or the command `aiogoogle apis --name NAME`"
            )
        response.raise_for_status()
    except (TransportError, HTTPError):
        if cached is not None:
            return cached  # offline: an old document is better than none
        raise
    document = response.json
    if document is None and isinstance(response.data, (str, bytes)) and response.data:
        # Not decoded as JSON (malformed, nested too deeply, or labelled as another type):
        # decoding it again either succeeds or says why it cannot be a document.
        where = response.url or url_v1
        document = loads(response.data, lambda why: DiscoveryError(f"{where} did not return a discovery document: {why}"))
    if not isinstance(document, dict) or document.get("kind", "discovery#restDescription") != "discovery#restDescription":
        raise DiscoveryError(f"{url_v1} did not return a discovery document")
    if cache_path is not None:
        changed = cached is None or (cached.get("revision"), cached.get("etag")) != (document.get("revision"), document.get("etag"))
        try:
            # Encoding recurses like decoding: a document nested nearly as deeply as the
            # stack allows is used, just not cached.
            data = _json.dumps(document if changed else cached).encode()
        except (ValueError, RecursionError):
            data = None
        try:
            if data is not None:
                yield FileOp("write", cache_path, data=data)  # unchanged: refreshes its age
        except OSError:
            pass  # an unwritable cache never breaks discovery
    return document


def _read_cache(path: str, max_age: float) -> Flow[tuple[dict[str, Any] | None, bool]]:
    try:
        info = yield FileOp("size", path)
        if info is None or info < 0:
            return None, False
        raw = yield FileOp("read", path)
        mtime = yield FileOp("mtime", path)
        now = yield Now()
    except OSError:
        return None, False
    # A damaged or hostile cache file (malformed, nested too deeply) counts as no cache.
    try:
        document = loads(raw, ValueError)
    except ValueError:
        return None, False
    if not isinstance(document, dict):
        return None, False
    return document, (now - float(mtime)) < max_age

