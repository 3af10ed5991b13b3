"""testing/server.py split by job (issue 17): lifecycle in ``aiogoogle.testing.server``, scripted
replies in ``_server_replies``, discovery in ``_server_discovery``, collections in
``_server_collections``. The public names stay where they were, and the server still answers
in the documented order across the parts (scripts, handlers, collections, routers, built-in
routes), which is now composed from them in one place."""

from __future__ import annotations

import gzip
import json
import urllib.request
from typing import Any

import pytest
from aiohttp import web

import aiogoogle.testing
from aiogoogle.testing import _server_discovery, _server_replies, server
from aiogoogle.testing.server import LocalGoogleServer, Reply

MOVED = {
    "BODY_RECORD_LIMIT": _server_replies,
    "Recorded": _server_replies,
    "Reply": _server_replies,
    "google_error": _server_replies,
    "pattern_bytes": _server_replies,
    "Handler": _server_replies,
    "Router": _server_replies,
}


def test_server_module_keeps_every_name() -> None:
    for name in server.__all__:
        assert hasattr(server, name), name
    for name in ("LocalGoogleServer", "CREDENTIAL_FILES", "serve", "write_credentials", "main"):
        assert callable(getattr(server, name)) or name == "CREDENTIAL_FILES", name
    for name, home in MOVED.items():
        assert getattr(server, name) is getattr(home, name), name
    for name in ("LocalGoogleServer", "Recorded", "Reply", "google_error", "pattern_bytes"):
        assert getattr(aiogoogle.testing, name) is getattr(server, name), name
    # Plugins reach these on the server they are given.
    for attr in ("read_body", "add_router", "state", "url", "_h_echo", "document"):
        assert hasattr(LocalGoogleServer(), attr), attr


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = resp.read()
        return json.loads(gzip.decompress(body) if resp.headers.get("Content-Encoding") == "gzip" else body)


async def _router(request: web.Request) -> web.StreamResponse | None:
    return web.json_response({"from": "router"}) if request.path == "/gzip" else None


def _register(srv: LocalGoogleServer, layers: list[str]) -> None:
    # The same path, GET /gzip (a built-in route), claimed by every layer asked for.
    if "script" in layers:
        srv.expect("GET", "/gzip", Reply(json={"from": "script"}))
    if "handler" in layers:
        srv.add_handler("GET", "/gzip", lambda request: Reply(json={"from": "handler"}))
    if "collection" in layers:
        srv.add_collection("/gzip", [{"id": "a"}], kind="collection")
    if "router" in layers:
        srv.add_router(_router)


LAYERS = ["script", "handler", "collection", "router", "built-in"]


@pytest.mark.parametrize("first", range(len(LAYERS)))
def test_layers_answer_in_the_documented_order(first: int) -> None:
    with LocalGoogleServer() as srv:
        _register(srv, LAYERS[first:])
        answer = _get(srv.url + "gzip")
        got = "built-in" if answer.get("gzipped") else "collection" if answer.get("kind") == "collection" else answer["from"]
        assert got == LAYERS[first]
        assert srv.count("GET", "/gzip") == 1  # and the log recorded it, whichever part answered


def test_reset_reaches_every_part() -> None:
    with LocalGoogleServer() as srv:
        _register(srv, ["script", "handler", "collection"])
        doc = srv.add_document({"name": "mine", "version": "v1", "rootUrl": "https://x.test/"})
        _get(srv.url + "gzip")
        srv.collection("/gzip")["b"] = {"id": "b"}
        srv.state["plugin"] = 1
        srv.reset()
        # Scripts, handlers, the log and plugin state are gone; the collection is back to
        # its initial items; added documents stay.
        assert (srv.pending(), srv.log, srv.state) == (0, [], {})
        assert list(srv.collection("/gzip")) == ["a"]
        assert _get(srv.url + "gzip")["kind"] == "collection"
        assert srv.document("mine", "v1") == doc
        assert isinstance(srv, _server_discovery._DiscoveryServing)
