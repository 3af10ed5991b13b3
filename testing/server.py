"""A local, Google-compatible HTTP server for tests and benchmarks.

:class:`LocalGoogleServer` runs ``aiohttp.web`` on its own event loop in a daemon thread,
bound to ``127.0.0.1`` on an ephemeral port (never any other interface), so it can be used
from synchronous tests and from any async library (asyncio, curio, trio) alike::

    from aiogoogle.testing import LocalGoogleServer, Reply

    with LocalGoogleServer() as server:
        server.expect("GET", "/storage/v1/b", Reply(status=429), Reply(json={"items": []}))
        ...  # point a client at server.url
        assert server.count("GET", "/storage/v1/b") == 2

What it serves, in the order a request is matched:

1. scripted replies (:meth:`LocalGoogleServer.expect`), first in, first out, per
   ``(method, path)``; they can inject faults: delays, dropped or truncated bodies, gzip;
2. handlers added with :meth:`LocalGoogleServer.add_handler`;
3. in-memory collections (:meth:`LocalGoogleServer.add_collection`): list with pagination
   (https://cloud.google.com/apis/design/design_patterns#list_pagination), get, insert,
   patch, delete;
4. routers plugins add (:meth:`LocalGoogleServer.add_router`): with ``fake_apis=True``
   (what ``aiogoogle serve`` runs) stateful fakes of Cloud Storage, Drive, Calendar, People
   and Translation (:mod:`aiogoogle.testing._server_apis`);
5. built-in routes: the discovery directory and documents
   (https://developers.google.com/discovery/v1/reference) with ``rootUrl`` rewritten to the
   server, ``/redirect``, ``/resume308``, ``/status/{code}``, ``/gzip``, ``/slow``,
   ``/bytes/{n}``, and whatever plugin modules add (:attr:`LocalGoogleServer.PLUGINS`);
6. anything else: an echo, a 200 JSON object describing the request.

The discovery documents are those shipped with the package (a curated set, see
:mod:`aiogoogle.testing._documents`) and, when google-api-python-client is installed, its
600-odd more.

Every request is recorded in :attr:`LocalGoogleServer.log` (:class:`Recorded`), with at
most 1 MiB of its body kept (``body_size`` has the full size) so throughput benchmarks do
not keep large bodies in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import functools
import gzip as _gzip
import importlib
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web

from aiogoogle.testing._documents import bundled_directory_items as _bundled_directory_items
from aiogoogle.testing._documents import bundled_document as _bundled_document

__all__ = ["BODY_RECORD_LIMIT", "CREDENTIAL_FILES", "LocalGoogleServer", "Recorded", "Reply", "google_error", "pattern_bytes", "serve",
           "write_credentials"]

#: How much of each request body :class:`Recorded` keeps (the rest is counted, not kept).
BODY_RECORD_LIMIT = 1 << 20

# Per-request storage keys (typed keys avoid aiohttp's NotAppKeyWarning).
_RECORDED: Any = getattr(web, "RequestKey", lambda name, t: name)("aiogoogle_recorded", object)
_BODY_DONE: Any = getattr(web, "RequestKey", lambda name, t: name)("aiogoogle_body_done", bool)
_HOSTS_ALLOWED = ("127.0.0.1", "localhost")

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


# ---------------------------------------------------------------------------------------
# Discovery documents (https://developers.google.com/discovery/v1/reference), loaded
# lazily and shared by all servers: the shipped set, and google-api-python-client's.


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


# ---------------------------------------------------------------------------------------
# In-memory collections (list/get/insert/patch/delete with pagination,
# https://cloud.google.com/apis/design/design_patterns#list_pagination).


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
            return _error_response(400, f"Invalid page size {size!r}", "invalid")
        n = max(1, min(n, self.max_page_size))
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
            except ValueError:
                return _error_response(400, "Invalid page token", "invalid")
        values = list(self.items.values())
        out: dict[str, Any] = {} if self.kind is None else {"kind": self.kind}
        out[self.items_field] = values[start : start + n]
        if self.repeat_token:
            # A broken server that hands back the same token forever: the client must stop.
            out[self.token_field] = _token(n)
        elif start + n < len(values):
            out[self.token_field] = _token(start + n)
        return _json_response(200, out)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _json_response(status: int, obj: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=json.dumps(obj).encode(), headers=headers,
                        content_type="application/json", charset="UTF-8")


def _error_response(status: int, message: str, reason: str | None = None) -> web.Response:
    return _json_response(status, google_error(status, message, reason))


# ---------------------------------------------------------------------------------------
# TLS: one trustme CA per process (key generation is the slow part).


@functools.lru_cache(maxsize=1)
def _ca() -> Any:
    import trustme

    return trustme.CA(organization_name="aiogoogle LocalGoogleServer")


# ---------------------------------------------------------------------------------------


class LocalGoogleServer:
    """A Google-compatible server on ``127.0.0.1`` in a daemon thread (see the module docs).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``tls=True``
    serves HTTPS with a certificate for ``localhost`` and ``127.0.0.1`` issued by a
    throw-away CA whose PEM is at :attr:`ca_file`. ``record=False`` keeps no log (for
    long benchmarks). ``port=0`` picks a free port.

    ``fake_apis=True`` makes it a stateful fake of the Google APIs the examples use (Cloud
    Storage buckets and objects, Drive files, Calendar events, People contacts, Translation;
    see :mod:`aiogoogle.testing._server_apis`): what is inserted is listed, fetched,
    patched and deleted, and every call needs credentials the server issued. Without it
    (the default) those paths echo requests back, for tests that inspect what was sent.
    """

    #: Plugin modules (dotted names) imported if they exist; each has ``install(server, app)``.
    PLUGINS: list[str] = ["aiogoogle.testing._server_media", "aiogoogle.testing._server_auth", "aiogoogle.testing._auth_doubles",
                          "aiogoogle.testing._server_apis"]

    def __init__(self, *, tls: bool = False, port: int = 0, record: bool = True, host: str = "127.0.0.1",
                 fake_apis: bool = False) -> None:
        if host not in _HOSTS_ALLOWED:
            raise ValueError(f"LocalGoogleServer binds only 127.0.0.1, not {host!r}")
        self.tls = tls
        self.record = record
        self.fake_apis = fake_apis
        self._port_wanted = port
        self.port = 0
        self.url = ""
        self.ca_file: str | None = None
        self.log: list[Recorded] = []
        self.state: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._scripts: dict[tuple[str, str], collections.deque[Reply]] = {}
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._collections: dict[str, _Collection] = {}
        self._routers: dict[object, Router] = {}
        self._documents: dict[tuple[str, str], _Document] = {}
        self._served: dict[tuple[str, str], bytes] = {}  # rewritten bundled documents
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._transports: dict[Any, asyncio.Transport] = {}  # open connections, by handler
        self._tmpdir: str | None = None
        self._ssl: ssl.SSLContext | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> LocalGoogleServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LocalGoogleServer {self.url or 'stopped'}>"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def discovery_root(self) -> str:
        """The root for ``DiscoveryEndpoints.at(...)``: the server's URL."""
        return self.url

    def start(self) -> LocalGoogleServer:
        """Start serving; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("LocalGoogleServer already started")
        if self.tls:
            self._setup_tls()
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._main(ready, failure))
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"LocalGoogleServer-{id(self):x}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = self._loop = None
            self.url, self.port = "", 0
            self._cleanup_tls()
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listening socket and every connection, and join the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None:
            return
        if stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"LocalGoogleServer thread did not stop within {timeout} s")
        self._thread = self._loop = self._runner = self._stopping = None
        self._cleanup_tls()

    async def _main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        """The server thread's whole life: start, serve until stop(), then close everything
        while the loop still runs (closing transports needs loop iterations)."""
        try:
            self._stopping = asyncio.Event()
            await self._astart()
        except BaseException as exc:
            failure.append(exc)
            if self._runner is not None:
                await self._runner.cleanup()
            return
        finally:
            ready.set()
        try:
            await self._stopping.wait()
        finally:
            runner = self._runner
            if runner is not None:
                await self._close_runner(runner, self._transports)
            me = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not me]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            for _ in range(5):  # let connection_lost callbacks run
                await asyncio.sleep(0)

    @staticmethod
    async def _close_runner(runner: web.AppRunner, transports: dict[Any, asyncio.Transport]) -> None:
        # Stop accepting before closing the listening socket, and give connections accepted
        # in the same loop iteration time to set up: an asyncio.Server closed while an
        # accepted socket still waits for its transport leaves that socket open (CPython
        # 3.11's Server._attach asserts and the half-built transport is dropped). Then
        # runner.cleanup() closes the listener and every connection aiohttp knows of.
        loop = asyncio.get_running_loop()
        for site in list(runner.sites):
            listener = getattr(site, "_server", None)
            for sock in getattr(listener, "sockets", None) or ():
                loop.remove_reader(sock.fileno())
        for _ in range(5):
            await asyncio.sleep(0)
        await runner.cleanup()
        # TLS transports close gracefully (close_notify, then wait for the peer's), which
        # can outlast the loop: after a short grace period, abort whatever is left.
        for _ in range(20):
            if not transports:
                break
            await asyncio.sleep(0.005)
        for transport in list(transports.values()):
            transport.abort()
        for _ in range(3):
            await asyncio.sleep(0)

    async def _astart(self) -> None:
        # Bind first, so server.url is known while plugins install their routes.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self._port_wanted))
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self.port = int(sock.getsockname()[1])
        scheme, host = ("https", "localhost") if self.tls else ("http", "127.0.0.1")
        self.url = f"{scheme}://{host}:{self.port}/"
        try:
            await self._serve_on(sock)
        except BaseException:
            sock.close()
            raise

    async def _serve_on(self, sock: socket.socket) -> None:
        app = self._build_app()
        # shutdown_timeout is short: a scripted delay must not hold up stop().
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25, handle_signals=False)
        await runner.setup()
        self._runner = runner
        # Track every connection's transport, so stop() can make sure all are closed.
        web_server = runner.server
        if web_server is not None:
            made, lost = web_server.connection_made, web_server.connection_lost
            transports = self._transports

            def connection_made(handler: Any, transport: asyncio.Transport) -> None:
                transports[handler] = transport
                made(handler, transport)

            def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
                transports.pop(handler, None)
                lost(handler, exc)

            web_server.connection_made = connection_made  # type: ignore[method-assign]
            web_server.connection_lost = connection_lost  # type: ignore[method-assign]
        site = web.SockSite(runner, sock, ssl_context=self._ssl)
        await site.start()

    def _setup_tls(self) -> None:
        ca = _ca()
        cert = ca.issue_cert("localhost", "127.0.0.1")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self._ssl = ctx
        self._tmpdir = tempfile.mkdtemp(prefix="aiogoogle-server-")
        self.ca_file = os.path.join(self._tmpdir, "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)

    def _cleanup_tls(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = None
        self.ca_file = None
        self._ssl = None

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this server's CA (for plain aiohttp/ssl clients)."""
        if self.ca_file is None:
            raise RuntimeError("the server is not running with tls=True")
        return ssl.create_default_context(cafile=self.ca_file)

    # -- scripting -----------------------------------------------------------------------

    def expect(self, method: str, path: str, *replies: Reply) -> None:
        """Queue ``replies`` for requests ``method path`` (exact path, decoded or as sent;
        query ignored; ``method="*"`` matches any method). They are used first in, first out; after
        that normal routing resumes."""
        key = (method.upper(), _norm(path))
        with self._lock:
            self._scripts.setdefault(key, collections.deque()).extend(replies)

    def pending(self, method: str | None = None, path: str | None = None) -> int:
        """How many scripted replies are still unused (optionally for one method/path)."""
        with self._lock:
            return sum(len(q) for (m, p), q in self._scripts.items()
                       if (method is None or m == method.upper()) and (path is None or p == _norm(path)))

    def add_handler(self, method: str, path: str, handler: Handler) -> None:
        """Route ``method path`` (exact; ``"*"`` for any method) to ``handler(request)``,
        which may be sync or async and returns a :class:`Reply` or an aiohttp response.
        Can be called while the server runs."""
        with self._lock:
            self._handlers[(method.upper(), _norm(path))] = handler

    def write_credentials(self, directory: str) -> dict[str, str]:
        """Write credentials this server accepts into ``directory``: a service account key,
        refreshable user credentials, an API key and an ``env.sh`` that exports them with
        ``AIOGOOGLE_ROOT_URL`` (see :func:`write_credentials`). Returns those variables."""
        return write_credentials(self, directory)

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
        p = _norm(path) if path else None
        return sum(1 for r in list(self.log) if (m is None or r.method == m) and (p is None or r.path == p))

    def requests(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """The recorded requests matching ``method`` and ``path``."""
        m = method.upper() if method else None
        p = _norm(path) if path else None
        return [r for r in list(self.log) if (m is None or r.method == m) and (p is None or r.path == p)]

    def reset(self) -> None:
        """Forget scripts, handlers, the log and plugin state; collections go back to their
        initial items. Documents added with :meth:`add_document` stay."""
        with self._lock:
            self._scripts.clear()
            self._handlers.clear()
            self.log.clear()
            self.state.clear()
            for coll in self._collections.values():
                coll.restore()

    # -- discovery -----------------------------------------------------------------------

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

    # -- collections ---------------------------------------------------------------------

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
        prefix = _norm(prefix).rstrip("/") or "/"
        with self._lock:
            self._collections[prefix] = _Collection(
                prefix, items, id_field=id_field, items_field=items_field, page_size=page_size,
                max_page_size=max_page_size, token_field=token_field, repeat_token=repeat_token, kind=kind,
            )

    def collection(self, prefix: str) -> dict[str, dict[str, Any]]:
        """The live items of the collection at ``prefix``, by id."""
        return self._collections[_norm(prefix).rstrip("/") or "/"].items

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
                item = await self._json_body(request)
                if not isinstance(item, dict):
                    return _error_response(400, "The request body must be a JSON object", "parseError")
                return _json_response(200, coll.insert(item))
            return _error_response(405, f"{method} not allowed on {path}", "methodNotAllowed")
        if path.endswith(":search"):
            coll = colls.get(path[: -len(":search")])
            if coll is not None and method == "POST":
                body = await self._json_body(request)
                body = body if isinstance(body, dict) else {}
                return coll.page(body.get("pageToken"), body.get("pageSize", body.get("maxResults")))
        parent, _, ident = path.rpartition("/")
        coll = colls.get(parent or "/")
        if coll is None:
            return None
        item = coll.items.get(ident)
        if item is None:
            await self.read_body(request)
            return _error_response(404, f"Not Found: {ident}", "notFound")
        if method == "GET":
            return _json_response(200, item)
        if method in ("PATCH", "PUT"):
            patch = await self._json_body(request)
            if not isinstance(patch, dict):
                return _error_response(400, "The request body must be a JSON object", "parseError")
            if method == "PUT":
                item.clear()
            item.update(patch)
            item[coll.id_field] = ident
            return _json_response(200, item)
        if method == "DELETE":
            del coll.items[ident]
            return web.Response(status=204)
        return _error_response(405, f"{method} not allowed on {path}", "methodNotAllowed")

    async def _json_body(self, request: web.Request) -> Any:
        raw = await self.read_body(request)
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    # -- bodies --------------------------------------------------------------------------

    async def read_body(self, request: web.Request) -> bytes:
        """Read the whole request body (plugins: use this rather than ``request.read()`` so
        the log records it). Returns it in full."""
        raw = await request.read()
        rec = request.get(_RECORDED)
        if rec is not None:
            rec.body = raw[:BODY_RECORD_LIMIT]
            rec.body_size = len(raw)
            request[_BODY_DONE] = True
        return raw

    async def _drain(self, request: web.Request) -> None:
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

    # -- the app -------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 40)
        r = app.router
        r.add_get("/discovery/v1/apis", self._h_directory)
        r.add_get("/discovery/v1/apis/{api}/{version}/rest", self._h_document_v1)
        r.add_get("/{api}/$discovery/rest", self._h_document_v2)
        r.add_get("/{api}/{version}/$discovery/rest", self._h_document_v2)
        r.add_get("/$discovery/rest", self._h_document_v2)
        r.add_route("*", "/redirect", self._h_redirect)
        r.add_route("*", "/resume308", self._h_resume308)
        r.add_route("*", "/status/{code:\\d+}", self._h_status)
        r.add_get("/gzip", self._h_gzip)
        r.add_route("*", "/slow", self._h_slow)
        r.add_get("/bytes/{n:\\d+}", self._h_bytes)
        for name in self.PLUGINS:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name is not None and name.startswith(exc.name):
                    continue  # the plugin is not written (yet): fine
                raise
            module.install(self, app)
        r.add_route("*", "/{tail:.*}", self._h_echo)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        path = request.path
        method = request.method
        if self.record:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            headers: dict[str, str] = {}
            for k, v in request.headers.items():
                k = k.lower()
                headers[k] = f"{headers[k]}, {v}" if k in headers else v
            query: dict[str, list[str]] = {}
            for k, v in request.query.items():
                query.setdefault(k, []).append(v)
            rec = Recorded(method, path, query, headers, peer_port=int(peer[1]) if peer else 0,
                           raw_path=request.raw_path)
            request[_RECORDED] = rec
            self.log.append(rec)
        reply: Reply | None = None
        custom: Handler | None = None
        if self._scripts or self._handlers:
            raw = request.raw_path.split("?", 1)[0]
            keys = [(method, path), ("*", path)]
            if raw != path:  # percent-encoded paths match in either form
                keys += [(method, raw), ("*", raw)]
            with self._lock:
                for key in keys:
                    queue = self._scripts.get(key)
                    if queue:
                        reply = queue.popleft()
                        break
                if reply is None:
                    for key in keys:
                        custom = self._handlers.get(key)
                        if custom is not None:
                            break
        try:
            if reply is not None:
                await self._drain(request)
                return await self._send(request, reply)
            if custom is not None:
                result = custom(request)
                if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
                    result = await result
                if isinstance(result, Reply):
                    await self._drain(request)
                    return await self._send(request, result)
                return result
            response = await self._collection_route(request, path)
            if response is not None:
                return response
            for router in list(self._routers.values()):
                routed = await router(request)
                if routed is not None:
                    return routed
            return await handler(request)
        except ConnectionError:
            # The client went away mid-transfer (a reset, a closed socket): there is no one
            # to answer, and nothing worth a traceback in the server's output (aiohttp logs
            # one for any exception a handler lets out). aiohttp's own response writing
            # already ignores ConnectionError.
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=499)
        finally:
            await self._drain_quietly(request)

    async def _drain_quietly(self, request: web.Request) -> None:
        with contextlib.suppress(Exception):
            await self._drain(request)

    async def _send(self, request: web.Request, reply: Reply) -> web.StreamResponse:
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

    # -- built-in routes -----------------------------------------------------------------

    async def _h_directory(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        return _json_response(200, self._directory(q.get("name"), q.get("preferred", "false").lower() == "true"))

    async def _h_document_v1(self, request: web.Request) -> web.StreamResponse:
        api, version = request.match_info["api"], request.match_info["version"]
        body = self._document_body(api, version, v2=False)
        if body is None:
            return _error_response(404, f"Discovery document not found for API service: {api} {version}", "notFound")
        return web.Response(body=body, content_type="application/json", charset="UTF-8")

    async def _h_document_v2(self, request: web.Request) -> web.StreamResponse:
        api = request.match_info.get("api") or (request.host.split(".")[0] if request.host else "")
        version = request.match_info.get("version") or request.query.get("version", "")
        body = self._document_body(api, version, v2=True) if version else None
        if body is None:
            return _error_response(404, f"Discovery document not found for API service: {api} {version}", "notFound")
        return web.Response(body=body, content_type="application/json", charset="UTF-8")

    async def _h_redirect(self, request: web.Request) -> web.StreamResponse:
        to = request.query.get("to")
        if not to:
            return _error_response(400, "redirect needs ?to=<url>", "required")
        status = int(request.query.get("status", "302"))
        if status not in (301, 302, 303, 307, 308):
            return _error_response(400, f"not a redirect status: {status}", "invalid")
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
        return _error_response(code, request.query.get("message", f"status {code}"), request.query.get("reason"))

    async def _h_gzip(self, request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("size", "64"))
        payload = {"gzipped": True, "data": "x" * size}
        body, headers = Reply(json=payload, gzip=True).encoded()
        return web.Response(body=body, headers=headers)

    async def _h_slow(self, request: web.Request) -> web.StreamResponse:
        delay = float(request.query.get("delay", "1"))
        await asyncio.sleep(delay)
        return _json_response(200, {"slept": delay})

    async def _h_bytes(self, request: web.Request) -> web.StreamResponse:
        # n deterministic bytes (pattern_bytes), streamed; ?chunk=<bytes>&delay=<seconds>
        # trickles them (a pause before each chunk after the first), for read timeouts.
        n = int(request.match_info["n"])
        try:
            chunk_size = max(1, min(int(request.query.get("chunk", _MAX_CHUNK)), _MAX_CHUNK))
            delay = float(request.query.get("delay", "0"))
        except ValueError:
            return _error_response(400, "chunk must be an integer and delay a number", "invalid")
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
        await self._drain(request)
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
        return _json_response(200, out)


def pattern_bytes(n: int, offset: int = 0) -> bytes:
    """The deterministic bytes ``GET /bytes/{n}`` serves (byte ``i`` is ``i % 251``)."""
    return bytes((i % 251) for i in range(offset, offset + n))


# 251 is prime, so chunks never line up with a power-of-two buffer by accident.
_PATTERN = pattern_bytes(251 * 262)  # ~64 KiB, a whole number of periods
_MAX_CHUNK = len(_PATTERN) - 251  # a chunk may start at any phase of the period


def _norm(path: str) -> str:
    path = path.split("?", 1)[0]
    return path if path.startswith("/") else "/" + path


# ---------------------------------------------------------------------------------------


#: The files :meth:`LocalGoogleServer.write_credentials` writes, and what they are for.
CREDENTIAL_FILES = {
    "service-account.json": "a service account key (GOOGLE_APPLICATION_CREDENTIALS, call --creds)",
    "user-creds.json": "user credentials, refreshable (call --creds, AIOGOOGLE_USER_CREDS for examples/)",
    "api-key.txt": "an API key (AIOGOOGLE_API_KEY)",
    "env.sh": "all of them and AIOGOOGLE_ROOT_URL, for a shell: . env.sh",
}


def _write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (keys and tokens), atomically."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _read_json_object(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_credentials(server: LocalGoogleServer, directory: str) -> dict[str, str]:
    """Write credentials ``server`` accepts into ``directory`` (created if needed; see
    :data:`CREDENTIAL_FILES`) and return the environment variables ``env.sh`` sets.

    Credentials found there from an earlier run (the service account's private key, the
    user's tokens, the API key) are accepted again rather than replaced, so configuration
    that names these files keeps working across restarts; only their URLs are updated.
    """
    from aiogoogle.testing._server_auth import auth_state, service_account_key, user_credentials

    os.makedirs(directory, exist_ok=True)
    directory = os.path.abspath(directory)
    sa_path = os.path.join(directory, "service-account.json")
    user_path = os.path.join(directory, "user-creds.json")
    key_path = os.path.join(directory, "api-key.txt")
    old_sa = _read_json_object(sa_path) or {}
    private = old_sa.get("private_key")
    try:
        key = service_account_key(server, private_key=private if isinstance(private, str) else None)
    except ValueError:  # not a usable PEM private key: make a new one
        key = service_account_key(server)
    # A day: long enough for a test session; the refresh token renews it after that.
    user = user_credentials(server, expires_in=86400, reuse=_read_json_object(user_path))
    old_key = ""
    with contextlib.suppress(OSError, UnicodeDecodeError), open(key_path, encoding="utf-8") as fh:
        old_key = fh.read().strip()
    api_key = auth_state(server).issue_api_key(old_key if old_key.startswith("AIza") and old_key.isprintable() else None)
    _write_private(sa_path, json.dumps(key, indent=2) + "\n")
    _write_private(user_path, json.dumps(user, indent=2) + "\n")
    _write_private(key_path, api_key + "\n")
    env = {
        "AIOGOOGLE_ROOT_URL": server.url,
        "GOOGLE_APPLICATION_CREDENTIALS": sa_path,
        "AIOGOOGLE_USER_CREDS": user_path,
        "AIOGOOGLE_API_KEY": api_key,
    }
    if server.ca_file:
        env["AIOGOOGLE_CA_FILE"] = server.ca_file
    lines = ["# Credentials the local Google server at " + server.url + " accepts (written by aiogoogle serve)."]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    _write_private(os.path.join(directory, "env.sh"), "\n".join(lines) + "\n")
    return env


def serve(host: str = "127.0.0.1", port: int = 0, tls: bool = False, *, creds_dir: str | None = None,
          fake_apis: bool = True) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM).

    Prints on stdout the URL, the CA file (with TLS) and the folder of credentials the
    server accepts (:func:`write_credentials`; ``creds_dir``, else a temporary folder
    removed at exit), and on stderr what each file is for. ``fake_apis`` (the default here)
    keeps state for the APIs of :mod:`aiogoogle.testing._server_apis`.

    The signal handlers are installed before the URL is printed, so a client that reads the
    URL and signals at once can never interrupt the start or the shutdown half-way; they only
    ask the serving loop to return, and the server then stops cleanly.
    """
    stop = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    scratch = None if creds_dir is not None else tempfile.mkdtemp(prefix="aiogoogle-serve-")
    folder = creds_dir if creds_dir is not None else scratch
    assert folder is not None
    try:
        with LocalGoogleServer(host=host, port=port, tls=tls, fake_apis=fake_apis) as server:
            server.write_credentials(folder)
            print(server.url, flush=True)
            if server.ca_file:
                print(f"CA certificate: {server.ca_file}", flush=True)
            print(f"credentials: {os.path.abspath(folder)}", flush=True)
            for name, what in CREDENTIAL_FILES.items():
                print(f"  {name:<21} {what}", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
    finally:
        for restored, handler in previous.items():
            signal.signal(restored, handler)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aiogoogle.testing.server",
                                     description="Run a local Google-compatible server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA")
    parser.add_argument("--creds-dir", metavar="DIR", help="write credentials the server accepts here (default: a temporary folder)")
    parser.add_argument("--echo", action="store_true", help="echo API requests back instead of keeping state (the test default)")
    args = parser.parse_args(argv)
    serve("127.0.0.1", args.port, args.tls, creds_dir=args.creds_dir, fake_apis=not args.echo)
    return 0


if __name__ == "__main__":
    # Run the importable module's main, not this __main__ copy, so plugins that import
    # aiogoogle.testing.server share its classes (Reply isinstance checks).
    sys.exit(importlib.import_module("aiogoogle.testing.server").main())
