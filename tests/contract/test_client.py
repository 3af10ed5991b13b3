"""The Aiogoogle client on every adapter, against LocalGoogleServer: discovery (fallback,
preferred version, disk cache working offline), list_api, as_api_key/as_user/as_anon,
concurrency and ordering, total timeouts, full_res, errors, return_exceptions,
raise_for_status=False, gzip, redirects, Retry-After, and closing cleanly."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from typing import Any

import pytest
from aiohttp import web

from aiogoogle import Aiogoogle, HTTPError, Request
from aiogoogle.auth.creds import UserCreds
from aiogoogle.discovery import DiscoveryEndpoints
from aiogoogle.excs import RequestTimeout, TransportError
from aiogoogle.models import Response
from aiogoogle.sessions.backends import session_class
from aiogoogle.testing import LocalGoogleServer, Reply
from aiogoogle.testing.server import google_error

from ..conftest import Backend

KEY = "AIzaSy-test-key-0123456789abcdefghijk"
TOKEN = "ya29.a0-secret-token-value"


def client(backend: Backend, server: LocalGoogleServer, **kw: Any) -> Any:
    return backend.client(discovery_endpoints=DiscoveryEndpoints.at(server.url), **kw)


def get(server: LocalGoogleServer, path: str, **kw: Any) -> Request:
    return Request(method="GET", url=f"{server.url}{path}", **kw)


def test_discover_by_v1_url_and_preferred_version(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await ag.discover("storage", "v1"), await ag.discover("storage")

    explicit, preferred = backend.run(scenario)
    assert explicit["name"] == "storage" and preferred["version"] == "v1"
    assert clean_server.count("GET", "/discovery/v1/apis/storage/v1/rest") == 2
    assert clean_server.count("GET", "/discovery/v1/apis") == 1  # the preferred version
    # Requests built from the document go to the server (rootUrl rewritten).
    assert explicit.objects.list(bucket="b").url.startswith(f"{clean_server.url}storage/v1/b/b/o")


def test_discover_falls_back_to_the_discovery_form(backend: Backend, clean_server: LocalGoogleServer) -> None:
    doc = dict(clean_server.document("storage", "v1"), name="onlyv2", id="onlyv2:v1")
    clean_server.add_document(doc, v1=False)

    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await ag.discover("onlyv2", "v1")

    api = backend.run(scenario)
    assert api["name"] == "onlyv2"
    paths = [r.path for r in clean_server.log]
    assert paths == ["/discovery/v1/apis/onlyv2/v1/rest", "/onlyv2/$discovery/rest"]
    assert clean_server.log[1].query == {"version": ["v1"]}


def test_discovery_cache_works_offline(backend: Backend, tmp_path: Any) -> None:
    cache = str(tmp_path / "cache")
    with LocalGoogleServer() as srv:
        endpoints = DiscoveryEndpoints.at(srv.url)

        async def first() -> Any:
            async with backend.client(discovery_endpoints=endpoints, discovery_cache=cache) as ag:
                return await ag.discover("storage", "v1")

        online = backend.run(first)
        assert srv.count("GET", "/discovery/v1/apis/storage/v1/rest") == 1

    async def offline(use_cache: bool) -> Any:
        async with backend.client(discovery_endpoints=endpoints, discovery_cache=cache if use_cache else False, retry=False) as ag:
            return await ag.discover("storage", "v1")

    again = backend.run(offline, True)  # the server is gone
    assert again.discovery_document == online.discovery_document
    with pytest.raises(TransportError):
        backend.run(offline, False)


def test_list_api(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await ag.list_api("storage", preferred=True)

    listing = backend.run(scenario)
    assert [(i["name"], i["version"]) for i in listing["items"]] == [("storage", "v1")]
    assert clean_server.log[0].query == {"name": ["storage"], "preferred": ["true"]}


def test_as_api_key_sends_the_key_and_masks_it_in_errors(backend: Backend, clean_server: LocalGoogleServer) -> None:
    clean_server.expect("GET", "/keyed/bad", Reply.error(400, "Invalid value for field", "invalid"))

    async def scenario() -> Any:
        async with client(backend, clean_server, api_key=KEY) as ag:
            ok = await ag.as_api_key(get(clean_server, "keyed/ok?a=1"))
            with pytest.raises(HTTPError) as info:
                await ag.as_api_key(get(clean_server, "keyed/bad?a=1"))
            return ok, info.value

    ok, exc = backend.run(scenario)
    assert ok["query"] == {"a": ["1"], "key": [KEY]}
    assert clean_server.log[1].param("key") == KEY
    assert exc.status_code == 400 and exc.message == "Invalid value for field" and exc.reason == "invalid"
    for text in (str(exc), repr(exc), repr(exc.req), repr(exc.res)):
        assert KEY not in text
    assert "keyed/bad" in str(exc)


def _held(server: LocalGoogleServer, path: str) -> list[str]:
    """Route ``path`` to a handler that answers only when the test releases it (or after
    10 s, a fail-safe that makes a test expecting an earlier outcome fail): the test's
    clock is the server's progress, never the wall clock. Returns the list of answers
    given so far."""
    answered: list[str] = []
    release = threading.Event()

    async def handler(request: web.Request) -> Reply:
        for _ in range(1000):
            if release.is_set():
                break
            await asyncio.sleep(0.01)
        answered.append(request.path)
        return Reply(json={"held": True})

    server.add_handler("GET", path, handler)
    _RELEASES.append(release)
    return answered


_RELEASES: list[threading.Event] = []


@pytest.fixture(autouse=True)
def _release_held() -> Any:
    yield
    while _RELEASES:
        _RELEASES.pop().set()


def test_many_requests_come_back_in_request_order(backend: Backend, clean_server: LocalGoogleServer) -> None:
    n = 30
    arrived: list[int] = []

    async def handler(request: web.Request) -> Reply:
        i = int(request.query["i"])
        arrived.append(i)
        # Every request waits until all n are in flight (so they must be concurrent: sent
        # one after the other, the first would wait forever and fail), then later
        # requests answer first.
        for _ in range(1000):
            if len(arrived) == n:
                break
            await asyncio.sleep(0.01)
        else:
            return Reply.error(500, f"only {len(arrived)} of {n} requests arrived together")
        await asyncio.sleep(0.002 * (n - i))
        return Reply(json={"i": i})

    clean_server.add_handler("GET", "/order", handler)

    async def scenario() -> list[Any]:
        async with client(backend, clean_server) as ag:
            return await ag.as_anon(*[get(clean_server, f"order?i={i}") for i in range(n)])  # type: ignore[no-any-return]

    results = backend.run(scenario)
    assert [r["i"] for r in results] == list(range(n))
    assert sorted(arrived) == list(range(n))


def test_total_timeout_raises_and_cancels(backend: Backend, clean_server: LocalGoogleServer) -> None:
    answered = _held(clean_server, "/hold")

    async def scenario() -> tuple[list[str], list[str]]:
        async with client(backend, clean_server) as ag:
            with pytest.raises(RequestTimeout):
                await ag.as_anon(get(clean_server, "hold"), get(clean_server, "echo/fast"), timeout=0.3)
            whole = list(answered)
            with pytest.raises(RequestTimeout):
                await ag.as_anon(get(clean_server, "hold", timeout=0.3))  # per request
            return whole, list(answered)

    # The timeout fired while the server still held the request: it did not wait for it.
    assert backend.run(scenario) == ([], [])


def test_full_res(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await ag.as_anon(get(clean_server, "echo/full?x=1"), full_res=True)

    res = backend.run(scenario)
    assert isinstance(res, Response)
    assert res.status_code == 200 and res.reason == "OK"
    assert res.headers["Content-Type"].startswith("application/json")
    assert res.url == f"{clean_server.url}echo/full?x=1"
    assert res.json["path"] == "/echo/full" and res.content == res.json
    assert res.req is not None and res.req.url == res.url
    assert res.error_msg is None
    res.raise_for_status()


def test_http_error_carries_googles_message_status_and_reason(backend: Backend, clean_server: LocalGoogleServer) -> None:
    clean_server.expect("GET", "/missing", Reply.error(404, "No such object: b/o"))

    async def scenario() -> HTTPError:
        async with client(backend, clean_server) as ag:
            with pytest.raises(HTTPError) as info:
                await ag.as_anon(get(clean_server, "missing"))
            return info.value

    exc = backend.run(scenario)
    assert exc.status_code == 404 and exc.status == "NOT_FOUND" and exc.reason == "notFound"
    assert exc.message == "No such object: b/o" and "No such object: b/o" in str(exc)
    assert exc.res is not None and exc.res.status_code == 404


def test_return_exceptions_and_raise_for_status_false(backend: Backend, clean_server: LocalGoogleServer) -> None:
    clean_server.expect("GET", "/missing", Reply.error(404, "gone"), Reply.error(404, "gone"), Reply.error(404, "gone"))

    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            mixed = await ag.as_anon(get(clean_server, "echo/1"), get(clean_server, "missing"), get(clean_server, "echo/3"), return_exceptions=True)
            full = await ag.as_anon(get(clean_server, "missing"), raise_for_status=False, full_res=True)
            content = await ag.as_anon(get(clean_server, "missing"), raise_for_status=False)
            return mixed, full, content

    mixed, full, content = backend.run(scenario)
    assert mixed[0]["path"] == "/echo/1" and mixed[2]["path"] == "/echo/3"
    assert isinstance(mixed[1], HTTPError) and mixed[1].status_code == 404
    assert full.status_code == 404 and full.error_msg and "gone" in full.error_msg
    with pytest.raises(HTTPError):
        full.raise_for_status()
    assert content == google_error(404, "gone")


def test_first_failure_is_raised_and_the_rest_cancelled(backend: Backend, clean_server: LocalGoogleServer) -> None:
    clean_server.expect("GET", "/missing", Reply.error(404, "gone", delay=0.05))
    answered = _held(clean_server, "/hold")

    async def scenario() -> list[str]:
        async with client(backend, clean_server) as ag:
            with pytest.raises(HTTPError):
                await ag.as_anon(get(clean_server, "hold"), get(clean_server, "missing"))
            return list(answered)

    # Raised as soon as the 404 came, while the other request was still held.
    assert backend.run(scenario) == []


def test_gzip_is_decoded(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await ag.as_anon(get(clean_server, "gzip?size=3000"), full_res=True)

    res = backend.run(scenario)
    assert res.json == {"gzipped": True, "data": "x" * 3000}
    assert clean_server.log[0].headers["accept-encoding"].startswith("gzip")


def test_redirects_followed_and_authorization_dropped_across_origins(
    backend: Backend, clean_server: LocalGoogleServer, other_server: LocalGoogleServer
) -> None:
    other_server.reset()
    creds = UserCreds(access_token=TOKEN, expires_at="2099-01-01T00:00:00Z")
    same = f"{clean_server.url}echo/same"
    cross = f"{other_server.url}echo/cross"

    async def scenario() -> Any:
        async with client(backend, clean_server, user_creds=creds) as ag:
            a = await ag.as_user(get(clean_server, f"redirect?status=302&to={same}"))
            b = await ag.as_user(get(clean_server, f"redirect?status=307&to={cross}"))
            return a, b

    a, b = backend.run(scenario)
    assert a["path"] == "/echo/same" and a["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert b["path"] == "/echo/cross" and "authorization" not in b["headers"]
    assert clean_server.log[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert all("authorization" not in r.headers for r in other_server.log)


def test_429_with_retry_after_is_retried(backend: Backend, clean_server: LocalGoogleServer) -> None:
    clean_server.expect(
        "GET", "/busy",
        Reply(status=429, headers={"Retry-After": "1"}, json=google_error(429, "slow down")),
        Reply(json={"ok": True}),
    )
    slept: list[float] = []
    base = session_class(backend.name)

    class ControlledClock(base):  # type: ignore[misc,valid-type]
        """The adapter with a controlled clock: waits are recorded, not slept."""

        async def sleep(self, seconds: float) -> None:
            slept.append(seconds)

    async def scenario() -> Any:
        async with Aiogoogle(session_factory=ControlledClock, discovery_cache=False) as ag:
            return await ag.as_anon(get(clean_server, "busy"))

    assert backend.run(scenario) == {"ok": True}
    assert clean_server.count("GET", "/busy") == 2
    # Retry-After: 1 is a floor on the jittered backoff (at most 1 s for the first retry).
    assert slept == [1.0]


def test_close_without_context_manager_leaves_no_warnings(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> None:
        ag = client(backend, clean_server)
        await ag.as_anon(get(clean_server, "echo/1"), get(clean_server, "bytes/100000"))
        await ag.discover("storage", "v1")
        await ag.close()
        await ag.close()  # idempotent

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend.run(scenario)
        gc.collect()
    assert [str(w.message) for w in caught] == []
