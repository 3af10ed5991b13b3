"""No token, secret, private key or API key in any repr, log record or exception text
produced while the auth flows run (docs/architecture.md, "Secrets and bad input"), on every adapter."""

from __future__ import annotations

import logging
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aiogoogle import AiogoogleError, Request
from aiogoogle.auth import ClientCreds, Endpoints, ServiceAccountCreds, UserCreds
from aiogoogle.auth._flows import to_iso
from aiogoogle.testing import LocalGoogleServer
from aiogoogle.testing._server_auth import auth_state, service_account_key

from ..conftest import Backend

CLIENT_SECRET = "GOCSPX-leakcheck-client-secret"
API_KEY = "AIzaSyLEAKCHECKapikey0123456789"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def _authorize(url: str) -> dict[str, str]:
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as exc:
        location = exc.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_no_secret_in_reprs_logs_or_errors(backend: Backend, server: LocalGoogleServer, caplog: pytest.LogCaptureFixture) -> None:
    server.reset()
    state = auth_state(server)
    state.clients["leak-client"] = CLIENT_SECRET
    key = service_account_key(server)
    client = ClientCreds(client_id="leak-client", client_secret=CLIENT_SECRET, scopes=["openid", "email"], redirect_uri="http://127.0.0.1:1/cb")
    texts: list[str] = []
    secrets: set[str] = {CLIENT_SECRET, API_KEY}
    secrets.update(line for line in key["private_key"].splitlines() if len(line) > 40)

    def keep(*objects: Any) -> None:
        for obj in objects:
            texts.extend([repr(obj), str(obj)])
            if isinstance(obj, BaseException):
                texts.extend(repr(a) for a in obj.args)
                texts.append(repr(getattr(obj, "req", None)))
                texts.append(repr(getattr(obj, "res", None)))

    async def expect_error(coro: Any) -> None:
        try:
            await coro
        except AiogoogleError as exc:
            keep(exc)
        else:
            raise AssertionError("an error was expected")

    async def scenario() -> None:
        async with backend.client(client_creds=client, api_key=API_KEY, auth_endpoints=Endpoints.at(server.url)) as ag:
            url = ag.openid_connect.authorization_url(pkce=True, access_type="offline")
            callback = _authorize(url)
            secrets.update({callback["code"], client["code_verifier"]})
            creds = await ag.openid_connect.build_user_creds(callback["code"])
            secrets.update({creds.access_token, creds.refresh_token, creds.id_token_jwt})
            keep(creds, creds.id_token, client, ag, ag.oauth2, ag.openid_connect, ag.service_account_manager)
            creds["expires_at"] = to_iso(1_000_000_000)
            ag.user_creds = creds
            keep(await ag.as_user(Request("GET", server.url + "protected/a"), full_res=True))
            secrets.add(creds.access_token)
            state.expire_access_tokens()
            await expect_error(ag.as_user(Request("GET", server.url + "status/401")))
            secrets.add(creds.access_token)
            keep(creds)
            await ag.oauth2.revoke(creds)
            await expect_error(ag.oauth2.refresh(creds))
            await expect_error(ag.openid_connect.decode_and_validate(creds.id_token_jwt, "other-client"))
            await expect_error(ag.as_api_key(Request("GET", server.url + "status/403")))
            keep(await ag.as_api_key(Request("GET", server.url + "echo"), full_res=True))
            sa = ServiceAccountCreds(scopes=["s"], **key)
            keep(sa, await ag.as_service_account(Request("GET", server.url + "protected/b"), service_account_creds=sa))
            ag.service_account_creds = sa
            await ag.service_account_manager.refresh()
            keep(ag.service_account_manager._token)
            broken = ServiceAccountCreds(**{**key, "client_email": "unknown@x"})
            await expect_error(ag.as_service_account(Request("GET", server.url + "protected/c"), service_account_creds=broken))
            bad_key = ServiceAccountCreds(**{**key, "private_key": key["private_key"].replace("MII", "XXX")})
            await expect_error(ag.as_service_account(Request("GET", server.url + "protected/d"), service_account_creds=bad_key))
            ag.service_account_manager.environ = {"GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"}
            ag.service_account_manager.default_creds = None
            await expect_error(ag.service_account_manager.detect_default_creds_source())

    caplog.set_level(logging.DEBUG)
    backend.run(scenario)
    secrets.update(state.access_tokens)
    secrets.update(state.refresh_tokens)
    secrets.discard("")
    records = [r for r in caplog.records if not r.name.startswith(("aiohttp.access", "aiohttp.server", "aiohttp.web"))]
    texts.extend(r.getMessage() for r in records)
    texts.extend(str(r.exc_info[1]) for r in records if r.exc_info and r.exc_info[1] is not None)
    assert len(secrets) >= 10 and len(texts) > 20
    leaks = [(s[:12], t[:120]) for t in texts for s in secrets if s in t]
    assert not leaks, leaks


def test_user_creds_repr_after_refresh_hides_tokens() -> None:
    creds = UserCreds(access_token="ya29.a0-leak", refresh_token="1//0g-leak", client_secret="GOCSPX-leak", id_token_jwt="eyJ.leak.sig")
    assert "leak" not in repr(creds) and "leak" not in f"{creds!s}"
