"""The synchronous client against google-api-python-client (httplib2) and plain requests.

One local HTTP server in a child process (aiohttp, keep-alive) answers
``GET /storage/v1/b/bkt/o/obj`` with a small JSON object. In this process, one thread makes
the same call ``--requests`` times with each client, alternating clients over ``--rounds``
rounds, and the best round counts:

* ``aiogoogle.sync``: ``storage.objects.get(bucket=, object=)`` built from the real
  storage v1 discovery document (validated), sent with ``as_anon``, JSON decoded;
* ``googleapiclient``: ``build_from_document`` on the same document, ``.execute()`` over
  one ``httplib2.Http``;
* ``requests``: ``Session.get(url).json()`` (no request building, no validation).

Reported: requests per second (wall) and client CPU per request (``time.process_time``,
this process only: the server's CPU is in the child).

    python benchmarks/bench_sync.py [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

SERVER = textwrap.dedent(
    """
    import sys
    from aiohttp import web

    BODY = b'{"kind":"storage#object","bucket":"bkt","name":"obj","size":"5","generation":"1"}'

    async def obj(request):
        return web.Response(body=BODY, content_type="application/json")

    app = web.Application()
    app.router.add_get("/storage/v1/b/bkt/o/obj", obj)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def storage_document(root: str) -> dict[str, Any]:
    import googleapiclient

    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents", "storage.v1.json")
    with open(path, encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    doc["rootUrl"] = root
    doc["baseUrl"] = root + "storage/v1/"
    return doc


def aiogoogle_sync(root: str, doc: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[], None]]:
    from aiogoogle import GoogleAPI
    from aiogoogle.sync import Aiogoogle

    api = GoogleAPI(doc)
    ag = Aiogoogle(discovery_cache=False)
    ag.__enter__()

    def call() -> Any:
        return ag.as_anon(api.objects.get(bucket="bkt", object="obj"))

    return call, ag.close


def googleapiclient_client(root: str, doc: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[], None]]:
    import httplib2
    from googleapiclient.discovery import build_from_document

    service = build_from_document(doc, http=httplib2.Http())
    objects = service.objects()

    def call() -> Any:
        return objects.get(bucket="bkt", object="obj").execute()

    return call, lambda: None


def requests_client(root: str, doc: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[], None]]:
    import requests

    session = requests.Session()
    url = root + "storage/v1/b/bkt/o/obj"

    def call() -> Any:
        response = session.get(url)
        response.raise_for_status()
        return response.json()

    return call, session.close


CLIENTS = {"aiogoogle.sync": aiogoogle_sync, "googleapiclient": googleapiclient_client, "requests": requests_client}


def measure(call: Callable[[], Any], n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        result = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert result["name"] == "obj"
    return n / wall, cpu / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    root = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        doc = storage_document(root)
        clients = {name: make(root, doc) for name, make in CLIENTS.items()}
        for call, _ in clients.values():
            for _ in range(50):  # warm up: connections, caches
                call()
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.rounds):
            for name, (call, _) in clients.items():
                rate, cpu = measure(call, args.requests)
                if name not in best or rate > best[name][0]:
                    best[name] = (rate, cpu)
        for _, close in clients.values():
            close()
    finally:
        server.terminate()
        server.wait(10)
    base = best["requests"]
    print(f"{'client':<18}{'req/s':>10}{'CPU us/req':>12}{'vs requests':>13}")
    for name, (rate, cpu) in best.items():
        print(f"{name:<18}{rate:>10.0f}{cpu:>12.0f}{rate / base[0]:>12.2f}x")


if __name__ == "__main__":
    main()
