"""The installed-app loopback sign-in (RFC 8252, docs/protocol.md §6.3), driven headlessly: a
thread plays the user's browser, following the local server's consent redirect back to
the loopback listener."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aiogoogle import AuthError
from aiogoogle.auth import ClientCreds, Endpoints
from aiogoogle.installed_app import LoopbackListener, login
from aiogoogle.testing import LocalGoogleServer
from aiogoogle.testing._server_auth import AuthState

from ..conftest import Backend

CLIENT = ClientCreds(client_id="installed-app", scopes=["openid", "email"])


def browser(action: Callable[[str], Any], seen: list[str]) -> Callable[[str], None]:
    """An ``open_browser`` that acts in a thread, as a real browser would."""

    def open_url(url: str) -> None:
        seen.append(url)
        threading.Thread(target=action, args=(url,), daemon=True).start()

    return open_url


def follow(url: str) -> None:
    urllib.request.urlopen(url, timeout=10).read()  # follows the 302 to the loopback listener


def test_login_full_flow_with_pkce_state_and_verified_id_token(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    seen: list[str] = []

    async def scenario() -> Any:
        async with backend.client(client_creds=CLIENT, auth_endpoints=Endpoints.at(server.url)) as ag:
            return await login(ag, open_browser=browser(follow, seen), timeout=20)

    creds = backend.run(scenario)
    query = parse_qs(urlsplit(seen[0]).query)
    redirect = query["redirect_uri"][0]
    assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/")
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 32 and query["nonce"]
    assert creds.access_token and creds.refresh_token and creds.id_token["sub"] == "johndoe"
    assert creds.id_token["nonce"] == query["nonce"][0]
    token_form = server.requests("POST", "/token")[0].body.decode()
    assert "code_verifier=" in token_form and "redirect_uri=" in token_form
    with pytest.raises(OSError):  # the listener is closed after the one redirect
        urllib.request.urlopen(redirect + "?code=x", timeout=2)


def test_login_without_openid_prints_the_url_by_default(backend: Backend, server: LocalGoogleServer, state: AuthState, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    async def scenario() -> Any:
        async with backend.client(client_creds=ClientCreds(client_id="test-client", client_secret="test-secret"), auth_endpoints=Endpoints.at(server.url)) as ag:
            import aiogoogle.installed_app as module

            original = module._print_url

            def printed(url: str) -> None:
                original(url)
                browser(follow, seen)(url)

            module._print_url = printed
            try:
                return await login(ag, scopes=["https://www.googleapis.com/auth/drive"], timeout=20)
            finally:
                module._print_url = original

    creds = backend.run(scenario)
    assert creds.access_token and creds.id_token is None and creds.scopes == ["https://www.googleapis.com/auth/drive"]
    assert seen[0] in capsys.readouterr().err


@pytest.mark.parametrize("case", ["wrong_state", "denied", "wrong_issuer"])
def test_login_rejects_forged_or_denied_redirects(case: str, backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    def attacker(url: str) -> None:
        q = parse_qs(urlsplit(url).query)
        target = q["redirect_uri"][0]
        try:
            urllib.request.urlopen(target + "favicon.ico", timeout=5)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404  # not the redirect: ignored, still listening
        if case == "wrong_state":
            urllib.request.urlopen(target + "?code=stolen&state=forged", timeout=5).read()
        elif case == "wrong_issuer":
            urllib.request.urlopen(target + "?code=c&iss=https%3A%2F%2Fevil.example&state=" + q["state"][0], timeout=5).read()
        else:
            urllib.request.urlopen(target + "?error=access_denied&state=" + q["state"][0], timeout=5).read()

    async def scenario() -> Any:
        async with backend.client(client_creds=CLIENT, auth_endpoints=Endpoints.at(server.url)) as ag:
            return await login(ag, open_browser=browser(attacker, []), timeout=20)

    expected = {"wrong_state": "state does not match", "denied": "sign-in failed: access_denied", "wrong_issuer": "from issuer 'https://evil.example'"}
    with pytest.raises(AuthError, match=expected[case]):
        backend.run(scenario)
    assert state.count() == 0  # no code was exchanged


def test_login_times_out(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    async def scenario() -> Any:
        async with backend.client(client_creds=CLIENT, auth_endpoints=Endpoints.at(server.url)) as ag:
            return await login(ag, open_browser=lambda url: None, timeout=0.5)

    with pytest.raises(AuthError, match="no authorization redirect arrived"):
        backend.run(scenario)


def test_listener_binds_only_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        LoopbackListener("0.0.0.0")
    listener = LoopbackListener()
    try:
        assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/" and listener.port > 0
    finally:
        listener.close()
