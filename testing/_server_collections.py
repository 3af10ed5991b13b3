"""In-memory collections of :class:`~aiogoogle.testing.LocalGoogleServer`
(:meth:`_Collections.add_collection`): list with pagination
(https://cloud.google.com/apis/design/design_patterns#list_pagination), the ``:search``
form that reads its page token from the body, get, insert, patch, put and delete.

These are the generic collections a test sets up; the stateful fakes of real Google APIs
that ``aiogoogle serve`` runs are in :mod:`aiogoogle.testing._server_apis`,
:mod:`aiogoogle.testing._server_media` and :mod:`aiogoogle.testing._server_auth`.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from aiogoogle.testing._server_replies import (
    error_response,
    json_response,
    norm_path,
    read_body,
    read_json_body,
)


class _Collection:
    def __init__(
        self,
        prefix: str,
        items: Iterable[Mapping[str, Any]],
        *,
        id_field: str,
        items_field: str,
        page_size: int,
        max_page_size: int,
        token_field: str,
        repeat_token: bool,
        kind: str | None,
    ) -> None:
        self.prefix = prefix
        self.initial = [dict(item) for item in items]
        self.id_field = id_field
        self.items_field = items_field
        self.page_size = page_size
        self.max_page_size = max_page_size
        self.token_field = token_field
        self.repeat_token = repeat_token
        self.kind = kind
        self.items: dict[str, dict[str, Any]] = {}
        self.next_id = 0
        self.restore()

    def restore(self) -> None:
        self.items = {}
        self.next_id = 0
        for item in self.initial:
            self.insert(dict(item))

    def insert(self, item: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        if item.get(self.id_field) in (None, ""):
            item[self.id_field] = str(self.next_id)
        self.items[str(item[self.id_field])] = item
        return item

    def page(self, token: str | None, size: Any) -> web.Response:
        try:
            n = int(size) if size not in (None, "") else self.page_size
        except (TypeError, ValueError):
            return error_response(400, f"Invalid page size {size!r}", "invalid")
        n = max(1, min(n, self.max_page_size))
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
            except ValueError:
                return error_response(400, "Invalid page token", "invalid")
        values = list(self.items.values())
        out: dict[str, Any] = {} if self.kind is None else {"kind": self.kind}
        out[self.items_field] = values[start : start + n]
        if self.repeat_token:
            # A broken server that hands back the same token forever: the client must stop.
            out[self.token_field] = _token(n)
        elif start + n < len(values):
            out[self.token_field] = _token(start + n)
        return json_response(200, out)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


class _Collections:
    """The server's collections, by path prefix (a base of
    :class:`~aiogoogle.testing.LocalGoogleServer`)."""

    _lock: threading.Lock  # the server's, shared by every part of it

    def __init__(self) -> None:
        self._collections: dict[str, _Collection] = {}
        super().__init__()

    def add_collection(
        self,
        prefix: str,
        items: Iterable[Mapping[str, Any]] = (),
        *,
        id_field: str = "id",
        items_field: str = "items",
        page_size: int = 10,
        max_page_size: int = 1000,
        token_field: str = "nextPageToken",
        repeat_token: bool = False,
        kind: str | None = None,
    ) -> None:
        """An in-memory resource collection at ``prefix`` (e.g. ``/storage/v1/b``):

        * ``GET prefix`` lists ``items_field`` in pages: ``maxResults`` or ``pageSize`` (else
          ``page_size``), ``pageToken``; the response carries ``token_field`` (default
          ``nextPageToken``; BigQuery's ``tabledata.list`` uses ``pageToken``) until the
          last page;
        * ``POST prefix:search`` lists the same way, reading ``pageToken`` and
          ``pageSize``/``maxResults`` from the JSON body (the 148 body-token methods);
        * ``POST prefix`` inserts the JSON body (an ``id_field`` is assigned if missing);
        * ``GET``/``PATCH``/``PUT``/``DELETE prefix/{id}``; unknown ids give a Google 404.

        ``repeat_token=True`` always answers with the same token, to check that a client
        stops when a server repeats itself.
        """
        prefix = norm_path(prefix).rstrip("/") or "/"
        with self._lock:
            self._collections[prefix] = _Collection(
                prefix, items, id_field=id_field, items_field=items_field, page_size=page_size,
                max_page_size=max_page_size, token_field=token_field, repeat_token=repeat_token, kind=kind,
            )

    def collection(self, prefix: str) -> dict[str, dict[str, Any]]:
        """The live items of the collection at ``prefix``, by id."""
        return self._collections[norm_path(prefix).rstrip("/") or "/"].items

    async def _collection_route(self, request: web.Request, path: str) -> web.StreamResponse | None:
        colls = self._collections
        if not colls:
            return None
        method = request.method
        coll = colls.get(path)
        if coll is not None:
            if method == "GET":
                q = request.query
                return coll.page(q.get("pageToken"), q.get("maxResults", q.get("pageSize")))
            if method == "POST":
                item = await read_json_body(request)
                if not isinstance(item, dict):
                    return error_response(400, "The request body must be a JSON object", "parseError")
                return json_response(200, coll.insert(item))
            return error_response(405, f"{method} not allowed on {path}", "methodNotAllowed")
        if path.endswith(":search"):
            coll = colls.get(path[: -len(":search")])
            if coll is not None and method == "POST":
                body = await read_json_body(request)
                body = body if isinstance(body, dict) else {}
                return coll.page(body.get("pageToken"), body.get("pageSize", body.get("maxResults")))
        parent, _, ident = path.rpartition("/")
        coll = colls.get(parent or "/")
        if coll is None:
            return None
        item = coll.items.get(ident)
        if item is None:
            await read_body(request)
            return error_response(404, f"Not Found: {ident}", "notFound")
        if method == "GET":
            return json_response(200, item)
        if method in ("PATCH", "PUT"):
            patch = await read_json_body(request)
            if not isinstance(patch, dict):
                return error_response(400, "The request body must be a JSON object", "parseError")
            if method == "PUT":
                item.clear()
            item.update(patch)
            item[coll.id_field] = ident
            return json_response(200, item)
        if method == "DELETE":
            del coll.items[ident]
            return web.Response(status=204)
        return error_response(405, f"{method} not allowed on {path}", "methodNotAllowed")

    def _restore_collections(self) -> None:
        """Every collection back to its initial items (the caller holds the lock)."""
        for coll in self._collections.values():
            coll.restore()
