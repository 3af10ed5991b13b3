"""Discovery serving of :class:`~aiogoogle.testing.LocalGoogleServer`: the directory
(``GET /discovery/v1/apis``) and documents at the v1 URL
(``/discovery/v1/apis/{api}/{version}/rest``) and the ``$discovery`` forms
(https://developers.google.com/discovery/v1/reference), with every endpoint of a served
document rewritten to point at the server.

The documents are those shipped with the package (:mod:`aiogoogle.testing._documents`:
a curated set, and google-api-python-client's 600-odd more when it is installed), loaded
lazily and rewritten once per server, and any added with
:meth:`_DiscoveryServing.add_document`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from aiogoogle.testing._documents import bundled_directory_items as _bundled_directory_items
from aiogoogle.testing._documents import bundled_document as _bundled_document
from aiogoogle.testing._server_replies import error_response, json_response


def _rewrite(document: Mapping[str, Any], root: str) -> dict[str, Any]:
    """A shallow copy of ``document`` whose endpoints all point at ``root``."""
    doc = dict(document)
    doc["rootUrl"] = root
    if "mtlsRootUrl" in doc:
        doc["mtlsRootUrl"] = root
    doc["baseUrl"] = root + str(doc.get("servicePath", ""))
    if isinstance(doc.get("endpoints"), list):
        doc["endpoints"] = [{**e, "endpointUrl": root} if isinstance(e, dict) else e for e in doc["endpoints"]]
    return doc


@dataclass
class _Document:
    body: bytes
    v1: bool
    v2: bool
    item: dict[str, Any]


class _DiscoveryServing:
    """The server's discovery documents and directory (a base of
    :class:`~aiogoogle.testing.LocalGoogleServer`)."""

    _lock: threading.Lock  # the server's, shared by every part of it
    url: str

    def __init__(self) -> None:
        self._documents: dict[tuple[str, str], _Document] = {}
        self._served: dict[tuple[str, str], bytes] = {}  # rewritten bundled documents
        super().__init__()

    def add_document(self, document: Mapping[str, Any], *, v1: bool = True, v2: bool = True,
                     preferred: bool = True, rewrite: bool = True) -> dict[str, Any]:
        """Serve ``document`` (its ``name`` and ``version``) at the v1 discovery URL and/or
        the ``$discovery`` form (``v1=False`` makes clients fall back),
        and list it in the directory. With ``rewrite`` its ``rootUrl`` (and ``mtlsRootUrl``,
        ``baseUrl``, ``endpoints``) point at this server, which requires a started server.
        Returns the document as served."""
        api, version = str(document.get("name")), str(document.get("version"))
        if rewrite:
            if not self.url:
                raise RuntimeError("start the server before add_document(rewrite=True)")
            document = _rewrite(document, self.url)
        doc = dict(document)
        item = {
            "kind": "discovery#directoryItem", "id": f"{api}:{version}", "name": api, "version": version,
            "title": doc.get("title", api), "description": doc.get("description", ""),
            "discoveryRestUrl": "", "preferred": preferred,
        }
        with self._lock:
            self._documents[(api, version)] = _Document(json.dumps(doc).encode(), v1, v2, item)
        return doc

    def document(self, api: str, version: str) -> dict[str, Any]:
        """The document the server serves for ``api`` ``version`` (rewritten); KeyError if none."""
        body = self._document_body(api, version, v2=False) or self._document_body(api, version, v2=True)
        if body is None:
            raise KeyError(f"{api}.{version}")
        result: dict[str, Any] = json.loads(body)
        return result

    def _document_body(self, api: str, version: str, v2: bool) -> bytes | None:
        custom = self._documents.get((api, version))
        if custom is not None:
            return custom.body if (custom.v2 if v2 else custom.v1) else None
        key = (api, version)
        body = self._served.get(key)
        if body is None:
            original = _bundled_document(api, version)
            if original is None:
                return None
            body = json.dumps(_rewrite(original, self.url)).encode()
            self._served[key] = body
        return body

    def _directory(self, name: str | None, preferred: bool) -> dict[str, Any]:
        custom = dict(self._documents)
        items: list[dict[str, Any]] = []
        for doc in custom.values():
            items.append(self._directory_item(doc.item, v1=doc.v1))
        for item in _bundled_directory_items():
            key = (str(item.get("name")), str(item.get("version")))
            if key not in custom:
                items.append(self._directory_item(item, v1=True))
        if name is not None:
            items = [i for i in items if i.get("name") == name]
        if preferred:
            items = [i for i in items if i.get("preferred")]
        return {"kind": "discovery#directoryList", "discoveryVersion": "v1", "items": items}

    def _directory_item(self, item: Mapping[str, Any], v1: bool) -> dict[str, Any]:
        api, version = quote(str(item.get("name")), safe=""), quote(str(item.get("version")), safe="")
        url = (f"{self.url}discovery/v1/apis/{api}/{version}/rest" if v1
               else f"{self.url}{api}/$discovery/rest?version={version}")
        return {**item, "discoveryRestUrl": url, "discoveryLink": f"./apis/{api}/{version}/rest"}

    def _add_discovery_routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/discovery/v1/apis", self._h_directory)
        r.add_get("/discovery/v1/apis/{api}/{version}/rest", self._h_document_v1)
        r.add_get("/{api}/$discovery/rest", self._h_document_v2)
        r.add_get("/{api}/{version}/$discovery/rest", self._h_document_v2)
        r.add_get("/$discovery/rest", self._h_document_v2)

    async def _h_directory(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        return json_response(200, self._directory(q.get("name"), q.get("preferred", "false").lower() == "true"))

    async def _h_document_v1(self, request: web.Request) -> web.StreamResponse:
        api, version = request.match_info["api"], request.match_info["version"]
        body = self._document_body(api, version, v2=False)
        if body is None:
            return error_response(404, f"Discovery document not found for API service: {api} {version}", "notFound")
        return web.Response(body=body, content_type="application/json", charset="UTF-8")

    async def _h_document_v2(self, request: web.Request) -> web.StreamResponse:
        api = request.match_info.get("api") or (request.host.split(".")[0] if request.host else "")
        version = request.match_info.get("version") or request.query.get("version", "")
        body = self._document_body(api, version, v2=True) if version else None
        if body is None:
            return error_response(404, f"Discovery document not found for API service: {api} {version}", "notFound")
        return web.Response(body=body, content_type="application/json", charset="UTF-8")
