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

This module is the server's lifecycle (the thread and its event loop, the socket, TLS, the
credential files) and its public face; the parts of the server class are in
:mod:`aiogoogle.testing._server_replies` (scripts, handlers, routers, the log, the built-in
routes), :mod:`aiogoogle.testing._server_discovery` and
:mod:`aiogoogle.testing._server_collections`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
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
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from aiogoogle.testing._server_collections import _Collections
from aiogoogle.testing._server_discovery import _DiscoveryServing
from aiogoogle.testing._server_replies import (
    BODY_RECORD_LIMIT,
    Handler,  # noqa: F401  (the handler and router types: importable from here)
    Recorded,
    Reply,
    Router,  # noqa: F401
    _Replies,
    drain,
    google_error,
    pattern_bytes,
)

__all__ = ["BODY_RECORD_LIMIT", "CREDENTIAL_FILES", "LocalGoogleServer", "Recorded", "Reply", "google_error", "pattern_bytes", "serve",
           "write_credentials"]

_HOSTS_ALLOWED = ("127.0.0.1", "localhost")

# ---------------------------------------------------------------------------------------
# TLS: one trustme CA per process (key generation is the slow part).


@functools.lru_cache(maxsize=1)
def _ca() -> Any:
    import trustme

    return trustme.CA(organization_name="aiogoogle LocalGoogleServer")


# ---------------------------------------------------------------------------------------


class LocalGoogleServer(_Replies, _DiscoveryServing, _Collections):
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
        self.state: dict[str, Any] = {}
        self._lock = threading.Lock()
        super().__init__()  # the state of the scripts, the discovery documents, the collections
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

    def write_credentials(self, directory: str) -> dict[str, str]:
        """Write credentials this server accepts into ``directory``: a service account key,
        refreshable user credentials, an API key and an ``env.sh`` that exports them with
        ``AIOGOOGLE_ROOT_URL`` (see :func:`write_credentials`). Returns those variables."""
        return write_credentials(self, directory)

    def reset(self) -> None:
        """Forget scripts, handlers, the log and plugin state; collections go back to their
        initial items. Documents added with :meth:`add_document` stay."""
        with self._lock:
            self._forget_replies()
            self.state.clear()
            self._restore_collections()

    # -- the app -------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 40)
        r = app.router
        self._add_discovery_routes(r)
        self._add_builtin_routes(r)
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
        # Every request in the order the module docstring gives: scripts, handlers,
        # collections, routers, then the app's routes. Each step is skipped when it has
        # nothing registered (the throughput benchmark's server has none of them).
        if self.record:
            self._record(request)
        try:
            if self._scripts or self._handlers:
                scripted = await self._scripted_answer(request)
                if scripted is not None:
                    return scripted
            if self._collections:
                response = await self._collection_route(request, request.path)
                if response is not None:
                    return response
            if self._routers:
                routed = await self._route(request)
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
            with contextlib.suppress(Exception):
                await drain(request)


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
