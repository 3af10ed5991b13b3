"""Loops that looked like success, and credentials crossing origins (issue 10 items 3 and 5),
on every backend against LocalGoogleServer.

A redirect to itself, a redirect chain past the limit, a 300, a 304 nobody asked for and a
3xx without Location raise RedirectError (never a ``None`` result, also for DELETE and with
``raise_for_status=False``); a 307 never carries a body to another origin; a token refresh
never follows a redirect off its origin; a resumable session on another origin gets no
credentials; a session answering 308 without progress backs off and gives up.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from aiogoogle import Request
from aiogoogle.auth import ClientCreds, Endpoints, UserCreds
from aiogoogle.auth._flows import to_iso
from aiogoogle.excs import RedirectError, ResumableUploadError
from aiogoogle.models import MediaUpload, ResumableUpload
from aiogoogle.retry import RetryPolicy
from aiogoogle.testing import LocalGoogleServer, Reply

from ..conftest import Backend

TOKEN = "ya29.a0-contract-secret-token"
REFRESH = "1//refresh-secret-value"
FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
CLIENT = ClientCreds(client_id="test-client", client_secret="client-secret-value", scopes=["openid"])


def client(backend: Backend, server: LocalGoogleServer, **kw: Any) -> Any:
    kw.setdefault("retry", FAST_RETRY)
    return backend.client(auth_endpoints=Endpoints.at(server.url), **kw)


def live_user() -> UserCreds:
    return UserCreds(access_token=TOKEN, expires_at="2099-01-01T00:00:00Z")


async def outcome(coro: Any) -> Any:
    """The call's result, or the exception it raised (returned, so it can be checked after
    the event loop of any backend has finished)."""
    try:
        return await coro
    except Exception as exc:
        return exc


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_redirect_to_itself_raises_with_the_chain(backend: Backend, clean_server: LocalGoogleServer, method: str) -> None:
    url = f"{clean_server.url}loop?x=1"
    clean_server.expect(method, "/loop", Reply.redirect(url))

    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await outcome(ag.as_anon(Request(method, url), raise_for_status=False))

    err = backend.run(scenario)
    assert isinstance(err, RedirectError) and "redirect loop" in str(err)
    assert err.chain == (url,) and err.location == url and err.status_code == 302
    assert err.req is not None and err.req.method == method
    assert clean_server.count(method, "/loop") == 1


def test_a_chain_past_the_limit_raises_listing_every_url(backend: Backend, clean_server: LocalGoogleServer) -> None:
    def hop(request: web.Request) -> Reply:
        n = int(request.query.get("n", "0"))
        return Reply.redirect(f"{clean_server.url}hop?n={n + 1}", status=307)

    clean_server.add_handler("GET", "/hop", hop)

    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await outcome(ag.as_anon(Request("GET", f"{clean_server.url}hop")))

    err = backend.run(scenario)
    assert isinstance(err, RedirectError) and "more than 10 redirects" in str(err)
    assert err.chain == (f"{clean_server.url}hop", *(f"{clean_server.url}hop?n={i}" for i in range(1, 11)))
    assert err.location == f"{clean_server.url}hop?n=11"
    assert clean_server.count("GET", "/hop") == 11


@pytest.mark.parametrize(("status", "why"), [(300, "not a redirect the client follows"), (305, "not a redirect"), (304, "not conditional"), (302, "without a Location")])
def test_a_3xx_that_is_not_followed_is_an_error(backend: Backend, clean_server: LocalGoogleServer, status: int, why: str) -> None:
    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return (
                await outcome(ag.as_anon(Request("GET", f"{clean_server.url}status/{status}"))),
                await outcome(ag.as_anon(Request("DELETE", f"{clean_server.url}status/{status}"), raise_for_status=False)),
            )

    for err in backend.run(scenario):
        assert isinstance(err, RedirectError) and why in str(err) and err.status_code == status


def test_a_304_to_a_conditional_request_is_returned(backend: Backend, clean_server: LocalGoogleServer) -> None:
    async def scenario() -> Any:
        async with client(backend, clean_server) as ag:
            return await ag.as_anon(Request("GET", f"{clean_server.url}status/304", headers={"If-None-Match": '"v1"'}), full_res=True)

    res = backend.run(scenario)
    assert res.status_code == 304


def test_a_307_never_carries_a_body_to_another_origin(backend: Backend, clean_server: LocalGoogleServer, other_server: LocalGoogleServer) -> None:
    other_server.reset()
    clean_server.expect("POST", "/move", Reply.redirect(f"{other_server.url}landing", status=307))

    async def scenario() -> Any:
        async with client(backend, clean_server, user_creds=live_user()) as ag:
            return await outcome(ag.as_user(Request("POST", f"{clean_server.url}move", json={"secret": "body-secret"})))

    err = backend.run(scenario)
    assert isinstance(err, RedirectError) and "would send the request body there" in str(err)
    assert clean_server.log[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert other_server.log == []


@pytest.mark.parametrize("status", [307, 302])
def test_a_token_refresh_never_follows_a_redirect_off_its_origin(
    backend: Backend, clean_server: LocalGoogleServer, other_server: LocalGoogleServer, status: int
) -> None:
    other_server.reset()
    clean_server.expect("POST", "/token", Reply.redirect(f"{other_server.url}token", status=status))
    expired = UserCreds(access_token="ya29.expired", refresh_token=REFRESH, expires_at=to_iso(1_000_000_000))

    async def scenario() -> Any:
        async with client(backend, clean_server, user_creds=expired, client_creds=CLIENT) as ag:
            return await outcome(ag.as_user(Request("GET", f"{clean_server.url}echo/x")))

    err = backend.run(scenario)
    assert isinstance(err, RedirectError)
    assert "refused" in str(err) and REFRESH not in str(err) and "client-secret-value" not in str(err)
    assert clean_server.count("POST", "/token") == 1 and "refresh-secret-value" in clean_server.requests("POST", "/token")[0].body.decode()
    assert other_server.log == []  # neither the refresh token nor the client secret went there
    assert clean_server.count("GET", "/echo/x") == 0


def upload_request(server: LocalGoogleServer, data: bytes) -> Request:
    media = MediaUpload(data, upload_path=f"{server.url}upload/storage/v1/b/bkt/o?name=obj", resumable=ResumableUpload(), use_resumable=True)
    return Request("POST", f"{server.url}storage/v1/b/bkt/o?name=obj", media_upload=media)


def test_a_resumable_session_on_another_origin_gets_no_credentials(
    backend: Backend, clean_server: LocalGoogleServer, other_server: LocalGoogleServer
) -> None:
    other_server.reset()
    session = f"{other_server.url}session?upload_id=capability"
    clean_server.expect("POST", "/upload/storage/v1/b/bkt/o", Reply(headers={"Location": session}))
    other_server.expect("PUT", "/session", Reply(json={"name": "obj", "size": "5"}))

    async def scenario() -> Any:
        async with client(backend, clean_server, user_creds=live_user()) as ag:
            return await ag.as_user(upload_request(clean_server, b"hello"))

    result = backend.run(scenario)
    assert result == {"name": "obj", "size": "5"}
    assert clean_server.log[0].headers["authorization"] == f"Bearer {TOKEN}"
    [put] = other_server.log
    assert put.body == b"hello" and put.headers["content-range"] == "bytes 0-4/5"
    assert "authorization" not in put.headers and "x-goog-api-key" not in put.headers


def test_a_session_answering_308_without_progress_backs_off_and_gives_up(backend: Backend, clean_server: LocalGoogleServer) -> None:
    session = f"{clean_server.url}session?upload_id=stuck"
    clean_server.expect("POST", "/upload/storage/v1/b/bkt/o", Reply(headers={"Location": session}))
    clean_server.add_handler("PUT", "/session", lambda request: Reply(status=308))

    async def scenario() -> Any:
        async with client(backend, clean_server, user_creds=live_user()) as ag:
            return await outcome(ag.as_user(upload_request(clean_server, b"x" * 1000)))

    err = backend.run(scenario)
    assert isinstance(err, ResumableUploadError) and "gave up after 3 attempts" in str(err)
    assert err.session_uri == session and err.offset == 0
    assert clean_server.count("PUT", "/session") == FAST_RETRY.max_attempts
