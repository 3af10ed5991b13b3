"""LocalGoogleServer (aiogoogle.testing.server), exercised with plain aiohttp and urllib."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiogoogle.testing import LocalGoogleServer, Recorded, Reply
from aiogoogle.testing.server import BODY_RECORD_LIMIT, pattern_bytes


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as server:
        yield server


@pytest.fixture
def server(shared: LocalGoogleServer) -> LocalGoogleServer:
    shared.reset()
    return shared


def fetch(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """A urllib request that returns error statuses instead of raising."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers.items()), exc.read()


def get_json(url: str) -> Any:
    status, _, body = fetch("GET", url)
    assert status == 200, body
    return json.loads(body)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- lifecycle -----------------------------------------------------------------------------


def _connectable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_lifecycle_start_stop_closes_socket_and_joins_thread() -> None:
    server = LocalGoogleServer()
    assert not server.running
    server.start()
    try:
        assert server.running
        assert server.url == f"http://127.0.0.1:{server.port}/"
        assert server.discovery_root == server.url
        assert _connectable(server.port)
        with pytest.raises(RuntimeError):
            server.start()
        thread = server._thread
        assert thread is not None and thread.daemon
    finally:
        server.stop()
    assert not thread.is_alive()
    assert not server.running
    assert not _connectable(server.port)
    server.stop()  # idempotent


def test_context_manager_and_stop_with_open_keepalive_and_pending_delay() -> None:
    async def main(server: LocalGoogleServer) -> None:
        async with aiohttp.ClientSession() as client:
            async with client.get(server.url + "x") as resp:
                assert resp.status == 200
                await resp.read()
            server.expect("GET", "/slow-script", Reply(delay=30))
            task = asyncio.ensure_future(client.get(server.url + "slow-script"))
            while server.count(path="/slow-script") == 0:
                await asyncio.sleep(0.01)
            started = time.monotonic()
            await asyncio.get_running_loop().run_in_executor(None, server.stop)
            assert time.monotonic() - started < 3
            with pytest.raises(aiohttp.ClientError):
                await task

    with LocalGoogleServer() as server:
        run(main(server))
        assert not _connectable(server.port)


def test_only_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        LocalGoogleServer(host="0.0.0.0")
    with LocalGoogleServer() as server:
        peer = socket.create_connection(("127.0.0.1", server.port))
        peer.close()
        runner = server._runner
        assert runner is not None
        assert {addr[0] for addr in runner.addresses} == {"127.0.0.1"}


# -- echo, log, count, reset ---------------------------------------------------------------


def test_echo_and_recorded(server: LocalGoogleServer) -> None:
    status, headers, body = fetch("POST", server.url + "some/path?a=1&a=2&b=x", data=b'{"k": [1, 2]}',
                                  headers={"Content-Type": "application/json", "X-Custom": "v"})
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    echo = json.loads(body)
    assert echo["method"] == "POST"
    assert echo["path"] == "/some/path"
    assert echo["query"] == {"a": ["1", "2"], "b": ["x"]}
    assert echo["headers"]["x-custom"] == "v"
    assert echo["json"] == {"k": [1, 2]}
    assert echo["body_size"] == len(b'{"k": [1, 2]}')
    [rec] = server.log
    assert isinstance(rec, Recorded)
    assert (rec.method, rec.path, rec.query) == ("POST", "/some/path", {"a": ["1", "2"], "b": ["x"]})
    assert rec.headers["x-custom"] == "v" and rec.headers["content-type"] == "application/json"
    assert rec.json() == {"k": [1, 2]}
    assert rec.param("a") == "1" and rec.param("zz") is None
    assert rec.peer_port > 0


def test_count_requests_and_reset(server: LocalGoogleServer) -> None:
    for path in ("/a", "/a", "/b"):
        fetch("GET", server.url + path.lstrip("/") + "?q=1")
    fetch("DELETE", server.url + "a")
    assert server.count() == 4
    assert server.count("GET") == 3
    assert server.count("get", "/a") == 2
    assert server.count(path="a") == 3
    assert server.count("PUT") == 0
    assert [r.method for r in server.requests(path="/a")] == ["GET", "GET", "DELETE"]
    server.expect("GET", "/a", Reply(status=500))
    server.state["x"] = 1
    server.reset()
    assert server.log == [] and server.state == {} and server.pending() == 0
    assert fetch("GET", server.url + "a")[0] == 200


def test_large_body_is_counted_not_kept(server: LocalGoogleServer) -> None:
    size = BODY_RECORD_LIMIT * 3 + 5

    async def main() -> Any:
        async with aiohttp.ClientSession() as client, \
                client.put(server.url + "upload", data=io.BytesIO(b"z" * size)) as resp:
            return await resp.json()

    echo = run(main())
    assert echo["body_size"] == size
    [rec] = server.log
    assert rec.body_size == size
    assert len(rec.body) == BODY_RECORD_LIMIT and set(rec.body) == {ord("z")}


def test_record_false_keeps_no_log() -> None:
    with LocalGoogleServer(record=False) as server:
        assert fetch("GET", server.url + "x")[0] == 200
        assert server.log == [] and server.count() == 0


# -- scripting -----------------------------------------------------------------------------


def test_expect_fifo_then_normal_routing(server: LocalGoogleServer) -> None:
    server.expect("GET", "/s", Reply(status=429, headers={"Retry-After": "1"}), Reply(json={"n": 2}))
    server.expect("GET", "s", Reply(body=b"third", headers={"Content-Type": "text/plain"}))
    assert server.pending() == 3 and server.pending("GET", "/s") == 3 and server.pending("POST") == 0
    status, headers, body = fetch("GET", server.url + "s?ignored=1")
    assert (status, headers["Retry-After"]) == (429, "1")
    status, headers, body = fetch("GET", server.url + "s")
    assert (status, json.loads(body)) == (200, {"n": 2})
    assert headers["Content-Type"].startswith("application/json")
    assert fetch("GET", server.url + "s")[2] == b"third"
    assert json.loads(fetch("GET", server.url + "s")[2])["path"] == "/s"  # echo again
    assert server.pending() == 0


def test_expect_matches_method_and_wildcard(server: LocalGoogleServer) -> None:
    server.expect("POST", "/m", Reply(status=201))
    server.expect("*", "/m", Reply(status=202))
    assert fetch("GET", server.url + "m")[0] == 202
    assert fetch("POST", server.url + "m", data=b"x")[0] == 201
    assert fetch("POST", server.url + "m", data=b"x")[0] == 200
    assert server.log[1].body == b"x"


def test_reply_error_shape(server: LocalGoogleServer) -> None:
    server.expect("GET", "/e", Reply.error(403, "Quota exceeded", "rateLimitExceeded"), Reply.error(404, "nope"))
    status, _, body = fetch("GET", server.url + "e")
    assert status == 403
    assert json.loads(body) == {"error": {
        "code": 403, "message": "Quota exceeded", "status": "PERMISSION_DENIED",
        "errors": [{"message": "Quota exceeded", "domain": "global", "reason": "rateLimitExceeded"}]}}
    status, _, body = fetch("GET", server.url + "e")
    err = json.loads(body)["error"]
    assert (status, err["status"], err["errors"][0]["reason"]) == (404, "NOT_FOUND", "notFound")


def test_add_handler_sync_and_async(server: LocalGoogleServer) -> None:
    server.add_handler("GET", "/h", lambda request: Reply(json={"q": request.query.get("q")}))

    async def handler(request: Any) -> Reply:
        body = await server.read_body(request)
        return Reply(status=201, json={"len": len(body)})

    server.add_handler("*", "/h2", handler)
    assert get_json(server.url + "h?q=7") == {"q": "7"}
    status, _, body = fetch("PUT", server.url + "h2", data=b"12345")
    assert (status, json.loads(body)) == (201, {"len": 5})
    assert server.log[-1].body == b"12345" and server.log[-1].body_size == 5


def test_fault_delay(server: LocalGoogleServer) -> None:
    server.expect("GET", "/d", Reply(json={}, delay=0.3))
    started = time.monotonic()
    assert fetch("GET", server.url + "d")[0] == 200
    assert time.monotonic() - started >= 0.3
    server.expect("GET", "/d", Reply(delay=2))
    with pytest.raises(OSError):  # the client's timeout fires first
        fetch("GET", server.url + "d", timeout=0.2)


def _raw_get(server: LocalGoogleServer, path: str) -> tuple[bytes, bytes, str]:
    """Send one GET on a raw socket; returns the head, the body bytes received and how the
    connection ended ("eof" or "reset")."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        ended = "eof"
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            ended = "reset"
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body, ended


def test_fault_drop_after_resets_mid_body(server: LocalGoogleServer) -> None:
    server.expect("GET", "/f", Reply(body=b"a" * 1000, drop_after=10))
    head, body, _ = _raw_get(server, "/f")
    assert b"Content-Length: 1000" in head
    assert body == b"a" * 10

    server.expect("GET", "/f", Reply(body=b"b" * 1000, drop_after=0))

    async def main() -> None:
        async with aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.ClientPayloadError):
                async with client.get(server.url + "f") as resp:
                    assert resp.status == 200
                    await resp.read()

    run(main())


def test_fault_truncate_closes_short_of_content_length(server: LocalGoogleServer) -> None:
    server.expect("GET", "/t", Reply(body=bytes(range(200)), truncate=50))
    head, body, ended = _raw_get(server, "/t")
    assert b"Content-Length: 200" in head
    assert (body, ended) == (bytes(range(50)), "eof")

    server.expect("GET", "/t", Reply(json={"x": "y" * 100}, truncate=20))

    async def main() -> None:
        async with aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.ClientPayloadError):
                async with client.get(server.url + "t") as resp:
                    await resp.read()

    run(main())


def test_fault_gzip(server: LocalGoogleServer) -> None:
    server.expect("GET", "/g", Reply(json={"zipped": True}, gzip=True), Reply(json={"zipped": True}, gzip=True))
    head, body, _ = _raw_get(server, "/g")
    assert b"Content-Encoding: gzip" in head
    assert json.loads(gzip.decompress(body)) == {"zipped": True}

    async def main() -> Any:
        async with aiohttp.ClientSession() as client, client.get(server.url + "g") as resp:
            return await resp.json()

    assert run(main()) == {"zipped": True}


# -- discovery (https://developers.google.com/discovery/v1/reference) ---------------------------


def test_discovery_directory(server: LocalGoogleServer) -> None:
    directory = get_json(server.url + "discovery/v1/apis")
    assert directory["kind"] == "discovery#directoryList"
    assert len(directory["items"]) > 300
    drive = get_json(server.url + "discovery/v1/apis?name=drive&preferred=true")["items"]
    assert [(i["name"], i["version"]) for i in drive] == [("drive", "v3")]
    assert drive[0]["discoveryRestUrl"] == server.url + "discovery/v1/apis/drive/v3/rest"
    versions = {i["version"] for i in get_json(server.url + "discovery/v1/apis?name=drive")["items"]}
    assert {"v2", "v3"} <= versions


def test_discovery_document_rewritten(server: LocalGoogleServer) -> None:
    doc = get_json(server.url + "discovery/v1/apis/storage/v1/rest")
    assert (doc["name"], doc["version"]) == ("storage", "v1")
    assert doc["rootUrl"] == server.url
    assert doc["mtlsRootUrl"] == server.url
    assert doc["baseUrl"] == server.url + doc["servicePath"]
    assert "buckets" in doc["resources"]
    assert all(e["endpointUrl"] == server.url for e in doc.get("endpoints", []))
    assert server.document("storage", "v1") == doc
    # The per-service $discovery form serves the same document.
    assert get_json(server.url + "storage/$discovery/rest?version=v1") == doc
    assert get_json(server.url + "storage/v1/$discovery/rest") == doc


def test_discovery_unknown_is_google_404(server: LocalGoogleServer) -> None:
    for path in ("discovery/v1/apis/nosuchapi/v1/rest", "nosuchapi/$discovery/rest?version=v1",
                 "storage/$discovery/rest"):
        status, _, body = fetch("GET", server.url + path)
        assert status == 404, path
        assert json.loads(body)["error"]["code"] == 404
    with pytest.raises(KeyError):
        server.document("nosuchapi", "v1")


def test_add_document_and_v2_only_fallback(server: LocalGoogleServer) -> None:
    doc = {"kind": "discovery#restDescription", "name": "toy", "version": "v9", "title": "Toy",
           "rootUrl": "https://toy.googleapis.com/", "servicePath": "toy/v9/", "resources": {}}
    served = server.add_document(doc, v1=False)
    assert served["rootUrl"] == server.url and served["baseUrl"] == server.url + "toy/v9/"
    assert doc["rootUrl"] == "https://toy.googleapis.com/"  # the caller's dict is untouched
    assert fetch("GET", server.url + "discovery/v1/apis/toy/v9/rest")[0] == 404
    assert get_json(server.url + "toy/$discovery/rest?version=v9") == served
    [item] = get_json(server.url + "discovery/v1/apis?name=toy")["items"]
    assert item["discoveryRestUrl"] == server.url + "toy/$discovery/rest?version=v9"
    assert item["preferred"] is True
    kept = server.add_document({**doc, "version": "v10"}, rewrite=False)
    assert get_json(server.url + "discovery/v1/apis/toy/v10/rest")["rootUrl"] == kept["rootUrl"]


# -- collections and pagination (https://cloud.google.com/apis/design/design_patterns#list_pagination)


def _items(n: int) -> list[dict[str, Any]]:
    return [{"id": f"i{k}", "n": k} for k in range(n)]


def test_collection_list_pages_get_insert(server: LocalGoogleServer) -> None:
    server.add_collection("/api/v1/things", _items(25), kind="api#things")
    seen: list[int] = []
    tokens: list[str | None] = []
    token: str | None = None
    while True:
        page = get_json(server.url + "api/v1/things?maxResults=10" + (f"&pageToken={token}" if token else ""))
        assert page["kind"] == "api#things"
        seen += [i["n"] for i in page["items"]]
        token = page.get("nextPageToken")
        tokens.append(token)
        if not token:
            break
    assert seen == list(range(25))
    assert len(tokens) == 3 and tokens[-1] is None
    assert len(get_json(server.url + "api/v1/things?pageSize=7")["items"]) == 7
    assert len(get_json(server.url + "api/v1/things")["items"]) == 10  # the default page size

    assert get_json(server.url + "api/v1/things/i3") == {"id": "i3", "n": 3}
    status, _, body = fetch("GET", server.url + "api/v1/things/nope")
    err = json.loads(body)["error"]
    assert (status, err["code"], err["status"], err["errors"][0]["reason"]) == (404, 404, "NOT_FOUND", "notFound")

    status, _, body = fetch("POST", server.url + "api/v1/things", data=b'{"n": 99}',
                            headers={"Content-Type": "application/json"})
    created = json.loads(body)
    assert status == 200 and created["n"] == 99 and created["id"]
    assert get_json(server.url + f"api/v1/things/{created['id']}") == created
    assert created["id"] in server.collection("/api/v1/things")

    status, _, body = fetch("PATCH", server.url + "api/v1/things/i3", data=b'{"n": -3}')
    assert (status, json.loads(body)) == (200, {"id": "i3", "n": -3})
    assert fetch("DELETE", server.url + "api/v1/things/i3")[0] == 204
    assert fetch("GET", server.url + "api/v1/things/i3")[0] == 404

    server.reset()  # back to the initial items
    assert get_json(server.url + "api/v1/things/i3") == {"id": "i3", "n": 3}
    assert created["id"] not in server.collection("/api/v1/things")


def test_collection_bad_token_and_body_tokens(server: LocalGoogleServer) -> None:
    server.add_collection("/v1/projects/p/agents", _items(5), items_field="agents")
    status, _, body = fetch("GET", server.url + "v1/projects/p/agents?pageToken=%25%25garbage")
    assert status == 400 and json.loads(body)["error"]["status"] == "INVALID_ARGUMENT"

    seen: list[str] = []
    request: dict[str, Any] = {"pageSize": 2}
    for _ in range(10):
        status, _, body = fetch("POST", server.url + "v1/projects/p/agents:search",
                                data=json.dumps(request).encode(), headers={"Content-Type": "application/json"})
        page = json.loads(body)
        seen += [a["id"] for a in page["agents"]]
        if "nextPageToken" not in page:
            break
        request["pageToken"] = page["nextPageToken"]
    assert seen == [f"i{k}" for k in range(5)]


def test_collection_bigquery_token_field_and_repeating_token(server: LocalGoogleServer) -> None:
    server.add_collection("/bq/data", _items(3), items_field="rows", token_field="pageToken", page_size=2)
    first = get_json(server.url + "bq/data")
    assert "nextPageToken" not in first and first["pageToken"]
    last = get_json(server.url + f"bq/data?pageToken={first['pageToken']}")
    assert [r["n"] for r in last["rows"]] == [2] and "pageToken" not in last

    server.add_collection("/loop", _items(10), repeat_token=True, page_size=3)
    one = get_json(server.url + "loop")
    two = get_json(server.url + f"loop?pageToken={one['nextPageToken']}")
    assert one["nextPageToken"] == two["nextPageToken"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 40), size=st.integers(1, 15), param=st.sampled_from(["maxResults", "pageSize"]))
def test_pagination_property(shared: LocalGoogleServer, n: int, size: int, param: str) -> None:
    shared.add_collection("/prop", _items(n))
    got: list[int] = []
    token = ""
    pages = 0
    while True:
        page = get_json(shared.url + f"prop?{param}={size}&pageToken={token}")
        pages += 1
        assert len(page["items"]) <= size
        got += [i["n"] for i in page["items"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert got == list(range(n))
    assert pages == max(1, -(-n // size))


# -- helper routes ----------------------------------------------------------------------------


def test_redirect_and_resume308_routes(server: LocalGoogleServer) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as client:
            async with client.get(server.url + "redirect", params={"to": server.url + "landed", "status": "307"},
                                  allow_redirects=False) as resp:
                assert resp.status == 307 and resp.headers["Location"] == server.url + "landed"
            async with client.get(server.url + "redirect", params={"to": server.url + "landed"}) as resp:
                assert (await resp.json())["path"] == "/landed"
            async with client.put(server.url + "resume308?received=100", data=b"x") as resp:
                assert resp.status == 308
                assert "Location" not in resp.headers
                assert resp.headers["Range"] == "bytes=0-99"
            async with client.get(server.url + "redirect") as resp:
                assert resp.status == 400

    run(main())
    assert server.count(path="/landed") == 1


def test_status_gzip_slow_routes(server: LocalGoogleServer) -> None:
    status, _, body = fetch("GET", server.url + "status/503?reason=backendError")
    assert status == 503 and json.loads(body)["error"]["errors"][0]["reason"] == "backendError"
    assert fetch("GET", server.url + "status/204")[0] == 204
    head, body, _ = _raw_get(server, "/gzip?size=10")
    assert b"Content-Encoding: gzip" in head
    assert json.loads(gzip.decompress(body)) == {"gzipped": True, "data": "x" * 10}
    started = time.monotonic()
    assert get_json(server.url + "slow?delay=0.2") == {"slept": 0.2}
    assert time.monotonic() - started >= 0.2


def test_bytes_route_and_connection_reuse(server: LocalGoogleServer) -> None:
    n = 300_000

    async def main() -> list[bytes]:
        out = []
        async with aiohttp.ClientSession() as client:
            for size in (n, 0, 1):
                async with client.get(server.url + f"bytes/{size}") as resp:
                    assert resp.headers["Content-Length"] == str(size)
                    out.append(await resp.read())
        return out

    big, empty, one = run(main())
    assert big == pattern_bytes(n) and empty == b"" and one == b"\x00"
    assert big[251] == 0 and big[252] == 1
    ports = [r.peer_port for r in server.log]
    assert len(ports) == 3 and len(set(ports)) == 1  # one keep-alive connection
    fetch("GET", server.url + "x")  # urllib closes its connection each time
    fetch("GET", server.url + "x")
    assert server.log[-1].peer_port != server.log[-2].peer_port


# -- TLS -------------------------------------------------------------------------------------------


def test_tls() -> None:
    with LocalGoogleServer(tls=True) as server:
        assert server.url == f"https://localhost:{server.port}/"
        assert server.ca_file is not None and os.path.isfile(server.ca_file)
        ca_file = server.ca_file
        with open(ca_file) as fh:
            assert "BEGIN CERTIFICATE" in fh.read()

        async def main() -> None:
            ctx = ssl.create_default_context(cafile=ca_file)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as client:
                async with client.get(server.url + "discovery/v1/apis/drive/v3/rest") as resp:
                    assert (await resp.json())["rootUrl"] == server.url
                async with client.get(f"https://127.0.0.1:{server.port}/x") as resp:  # IP SAN too
                    assert resp.status == 200
            async with aiohttp.ClientSession() as client:  # the system store does not trust it
                with pytest.raises(aiohttp.ClientConnectorCertificateError):
                    await client.get(server.url + "x")

        run(main())
        urllib.request.urlopen(server.url + "x", context=server.client_ssl_context(), timeout=5).close()
    assert not os.path.exists(ca_file)
    assert server.ca_file is None


# -- plugins --------------------------------------------------------------------------------------


def test_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = types.ModuleType("aiogoogle_test_plugin_ok")

    urls_at_install: list[str] = []

    def install(server: LocalGoogleServer, app: Any) -> None:
        urls_at_install.append(server.url)

        async def hello(request: Any) -> Any:
            server.state["hits"] = server.state.get("hits", 0) + 1
            return aiohttp.web.json_response({"hits": server.state["hits"]})

        app.router.add_get("/plugin/hello", hello)

    plugin.install = install  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, plugin.__name__, plugin)
    monkeypatch.setattr(LocalGoogleServer, "PLUGINS", ["aiogoogle_no_such_plugin_module", plugin.__name__])
    with LocalGoogleServer() as server:
        assert urls_at_install == [server.url]  # bound before plugins install
        assert get_json(server.url + "plugin/hello") == {"hits": 1}
        assert get_json(server.url + "plugin/hello") == {"hits": 2}
        assert server.count(path="/plugin/hello") == 2
        assert get_json(server.url + "plugin/other")["path"] == "/plugin/other"  # echo still last

    broken = types.ModuleType("aiogoogle_test_plugin_broken")
    monkeypatch.setitem(sys.modules, broken.__name__, broken)
    monkeypatch.setattr(LocalGoogleServer, "PLUGINS", [broken.__name__])
    failed = LocalGoogleServer()
    with pytest.raises(AttributeError):
        failed.start()
    assert failed.url == "" and not failed.running
    assert not [t for t in threading.enumerate() if t.name.startswith("LocalGoogleServer") and t.is_alive()
                and not t.daemon]


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_serves_until_interrupted() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "aiogoogle.testing.server", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        assert get_json(url + "cli/check")["path"] == "/cli/check"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_encoded_paths_match_decoded_or_raw(server: LocalGoogleServer) -> None:
    server.expect("GET", "/storage/v1/b/bk/o/a%2Fb", Reply(status=201))
    server.expect("GET", "/storage/v1/b/bk/o/c/d", Reply(status=202))
    assert fetch("GET", server.url + "storage/v1/b/bk/o/a%2Fb?alt=json")[0] == 201
    assert fetch("GET", server.url + "storage/v1/b/bk/o/c%2Fd")[0] == 202
    first, second = server.log
    assert first.raw_path == "/storage/v1/b/bk/o/a%2Fb?alt=json"
    assert first.path == "/storage/v1/b/bk/o/a/b"
    assert second.raw_path == "/storage/v1/b/bk/o/c%2Fd"


def test_bytes_route_trickles_in_phase(server: LocalGoogleServer) -> None:
    started = time.monotonic()
    status, _, body = fetch("GET", server.url + "bytes/1000?chunk=300&delay=0.05")
    assert status == 200 and body == pattern_bytes(1000)
    assert time.monotonic() - started >= 0.15  # 4 chunks, 3 pauses
    assert fetch("GET", server.url + "bytes/10?chunk=x")[0] == 400
    assert pattern_bytes(5, offset=250) == bytes([250, 0, 1, 2, 3])


def test_head_on_bytes_sends_headers_only_and_keeps_the_connection_usable(server: LocalGoogleServer) -> None:
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        # Pipelined: if HEAD leaked a body, the GET's status line would not follow directly.
        sock.sendall(b"HEAD /bytes/10 HTTP/1.1\r\nHost: t\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: t\r\n\r\n")
        data = b""
        while not data.endswith(b"\r\n\r\n\x00\x01\x02"):
            chunk = sock.recv(4096)
            assert chunk, f"connection closed early: {data!r}"
            data += chunk
    head, get = data.split(b"HTTP/1.1 200", 2)[1:]
    assert b"Content-Length: 10" in head and head.endswith(b"\r\n\r\n")
    assert b"Content-Length: 3" in get


def test_routers_answer_before_the_built_in_routes_and_replace_by_key(server: LocalGoogleServer) -> None:
    from aiohttp import web

    async def first(request: web.Request) -> web.StreamResponse | None:
        return web.json_response({"router": 1}) if request.path == "/routed" else None

    async def second(request: web.Request) -> web.StreamResponse | None:
        return web.json_response({"router": 2}) if request.path == "/routed" else None

    server.add_router(first, key="mine")
    assert get_json(server.url + "routed") == {"router": 1}
    assert get_json(server.url + "elsewhere")["path"] == "/elsewhere"  # passed on: the echo
    server.add_router(second, key="mine")
    assert get_json(server.url + "routed") == {"router": 2}
    server.expect("GET", "/routed", Reply(json={"scripted": True}))
    assert get_json(server.url + "routed") == {"scripted": True}  # scripts come first

    async def passes(request: web.Request) -> web.StreamResponse | None:
        return None

    server.add_router(passes, key="mine")  # leave the shared server as it was
    assert get_json(server.url + "routed")["path"] == "/routed"
