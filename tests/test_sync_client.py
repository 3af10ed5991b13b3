"""aiogoogle.sync used as a synchronous program uses it (no scenario, no facade): calls from
many threads share one token refresh, pages and items are plain iterators, a total timeout
cancels requests the server is still holding, the connection pool is shared by threads and
reuses its connections. The rest of its behaviour is proven by the contract suite as the
'sync' backend (tests/contract, through aiogoogle.testing.contract)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from aiogoogle import Request, RetryPolicy
from aiogoogle.auth import ClientCreds, Endpoints, UserCreds
from aiogoogle.auth._flows import to_iso
from aiogoogle.discovery import DiscoveryEndpoints
from aiogoogle.excs import ConnectError, RequestTimeout
from aiogoogle.sync import Aiogoogle, SyncSession
from aiogoogle.testing import LocalGoogleServer, Reply
from aiogoogle.testing._server_auth import AuthState

CLIENT = ClientCreds(client_id="test-client", client_secret="test-secret", scopes=["openid"], redirect_uri="http://127.0.0.1:1/cb")
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)


def client(server: LocalGoogleServer, **kw: Any) -> Aiogoogle:
    return Aiogoogle(discovery_endpoints=DiscoveryEndpoints.at(server.url), auth_endpoints=Endpoints.at(server.url), client_creds=CLIENT, retry=FAST, discovery_cache=False, **kw)


def test_calls_from_many_threads_refresh_the_token_once(server: LocalGoogleServer, state: AuthState) -> None:
    creds = UserCreds(access_token="ya29.expired", refresh_token=state.issue_refresh_token(), expires_at=to_iso(1_000_000_000))
    results: list[Any] = []
    start = threading.Barrier(16)
    with client(server, user_creds=creds) as ag:

        def work(i: int) -> None:
            start.wait()
            results.append(ag.as_user(Request("GET", f"{server.url}protected/{i}")))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 16 and all(r["ok"] for r in results)
    assert state.count("refresh_token") == 1
    assert state.live(creds.access_token) is not None


def test_pages_and_items_are_plain_iterators(clean_server: LocalGoogleServer) -> None:
    clean_server.expect("GET", "/rows", Reply(json={"rows": [1, 2], "pageToken": "p2"}), Reply(json={"rows": [3], "pageToken": ""}))
    with client(clean_server) as ag:
        first = ag.as_anon(Request("GET", f"{clean_server.url}rows"), full_res=True)
        pages = ag.pages(first)
        assert next(pages)["rows"] == [1, 2]
        assert clean_server.count("GET", "/rows") == 1  # the next page is fetched as we iterate
        assert [p["rows"] for p in pages] == [[3]]
    clean_server.expect("GET", "/rows", Reply(json={"rows": [1, 2], "pageToken": "p2"}), Reply(json={"rows": [3], "pageToken": ""}))
    with client(clean_server) as ag:
        assert list(ag.items(ag.as_anon(Request("GET", f"{clean_server.url}rows"), full_res=True), "rows")) == [1, 2, 3]


def test_a_total_timeout_cancels_held_requests(clean_server: LocalGoogleServer) -> None:
    release = threading.Event()
    answered: list[int] = []

    async def hold(request: Any) -> Reply:
        while not release.is_set():
            await asyncio.sleep(0.01)
        answered.append(1)
        return Reply(json={})

    clean_server.add_handler("GET", "/slow", hold)
    clean_server.expect("GET", "/fast", Reply(json={"fast": True}))
    try:
        with client(clean_server) as ag:
            began = time.monotonic()
            with pytest.raises(RequestTimeout):
                ag.as_anon(Request("GET", f"{clean_server.url}fast"), Request("GET", f"{clean_server.url}slow"), timeout=0.3)
            # Raised at the deadline, while the server still holds the request.
            assert time.monotonic() - began < 5 and not answered
    finally:
        release.set()


def test_one_pool_for_all_threads_reuses_connections(clean_server: LocalGoogleServer) -> None:
    for i in range(40):
        clean_server.expect("GET", f"/n/{i}", Reply(json={"i": i}))
    session = SyncSession()
    with Aiogoogle(lambda: session, discovery_cache=False, retry=False) as ag:
        errors: list[BaseException] = []

        def work(start: int) -> None:
            try:
                for i in range(start, 40, 4):
                    assert ag.as_anon(Request("GET", f"{clean_server.url}n/{i}")) == {"i": i}
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        idle = sum(len(conns) for conns in session._pool._idle.values())
    assert 1 <= idle <= 4  # at most one connection per thread was ever needed


def test_tls_is_verified_by_default(tls_server: LocalGoogleServer) -> None:
    with Aiogoogle(discovery_cache=False, retry=False) as ag, pytest.raises(ConnectError, match="certificate verification failed"):
        ag.as_anon(Request("GET", f"{tls_server.url}x"))
    trusted = Aiogoogle(lambda: SyncSession(ca_file=tls_server.ca_file), discovery_cache=False, retry=False)
    tls_server.reset()
    tls_server.expect("GET", "/x", Reply(json={"tls": True}))
    with trusted as ag:
        assert ag.as_anon(Request("GET", f"{tls_server.url}x")) == {"tls": True}
