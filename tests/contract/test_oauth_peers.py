"""The auth managers against real OAuth2/OpenID Connect servers from npm (docs/testing.md, "OAuth peers"):
oauth2-mock-server made Google-like (``tests/oauth_peers/mock_google.mjs``) and
oidc-provider (``tests/oauth_peers/oidc_op.mjs``), installed with ``npm ci`` from the
committed lockfile and started on 127.0.0.1 by the session fixtures below.

Proven here: the authorization-code flow with PKCE driven headlessly (also through
:func:`aiogoogle.installed_app.login`), refresh, revoke-then-refresh fails, userinfo,
id_token verification against each server's JWKS, and the jwt-bearer grant verified by the
server with the service account's public key. Without node/npm the tests are skipped
with the reason.
"""

from __future__ import annotations

import http.cookiejar
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from aiogoogle import AuthError
from aiogoogle.auth import ClientCreds, ServiceAccountCreds, UserCreds
from aiogoogle.installed_app import login

from ..conftest import Backend
from .conftest import stop_process

pytestmark = pytest.mark.npm

PEERS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "oauth_peers")
REDIRECT = "http://127.0.0.1:53682/callback"  # registered at oidc-provider; nothing listens there


def _npm_ci() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed for the npm OAuth peers (see docs/testing.md); not found on PATH")
    import fcntl

    with open(os.path.join(PEERS, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test sessions install once
        installed = os.path.join(PEERS, "node_modules", ".package-lock.json")
        if os.path.exists(installed) and os.path.getmtime(installed) >= os.path.getmtime(os.path.join(PEERS, "package-lock.json")):
            return
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], check=False, cwd=PEERS, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm ci failed in tests/oauth_peers (offline without a cache?): {done.stderr.strip()[-400:]}")


@pytest.fixture(scope="session")
def sa_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A service account key pair: (private PEM, path of the public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    path = tmp_path_factory.mktemp("sa") / "sa.pub.pem"
    path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, str(path)


def _start(script: str, *args: str) -> Iterator[str]:
    _npm_ci()
    import tempfile

    with tempfile.TemporaryFile("w+") as errors, subprocess.Popen(["node", script, *args], cwd=PEERS, stdout=subprocess.PIPE, stderr=errors, text=True) as proc:
        try:
            line: list[str] = []
            reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
            reader.start()
            reader.join(30)
            if not line or not line[0].startswith("READY "):
                proc.kill()
                proc.wait(5)
                errors.seek(0)
                pytest.fail(f"{script} did not start: {errors.read()[-800:]}")
            yield f"http://127.0.0.1:{int(line[0].split()[1])}"
        finally:
            stop_process(proc, 5)


@pytest.fixture(scope="session")
def mock_google(sa_key: tuple[str, str]) -> Iterator[str]:
    """The issuer URL of oauth2-mock-server with the Google-like hooks."""
    yield from _start("mock_google.mjs", sa_key[1])


@pytest.fixture(scope="session")
def oidc_op(sa_key: tuple[str, str]) -> Iterator[str]:
    """The issuer URL of oidc-provider."""
    yield from _start("oidc_op.mjs", sa_key[1], REDIRECT)


class _Stop(urllib.request.HTTPRedirectHandler):
    """Follows redirects (with cookies) until one goes to the app's redirect URI."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.landed: str | None = None

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if newurl.startswith(self.prefix):
            self.landed = newurl
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def headless_browser(url: str, redirect_prefix: str = REDIRECT) -> dict[str, str]:
    """Play the user: follow the provider's login/consent redirects, return the callback query."""
    stop = _Stop(redirect_prefix)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), stop)
    try:
        opener.open(url, timeout=10).read()
    except urllib.error.HTTPError as exc:
        if stop.landed is None:
            raise AssertionError(f"the provider answered {exc.code}: {exc.read()[:300]!r}") from None
    assert stop.landed is not None, "never redirected back to the app"
    return {k: v[0] for k, v in parse_qs(urlsplit(stop.landed).query).items()}


async def _use_refresh_revoke(ag: Any, creds: UserCreds) -> tuple[dict[str, Any], UserCreds, AuthError | None]:
    """After a sign-in: the userinfo, a refresh, a revoke of the refreshed credentials and
    a second refresh, which should fail (returned as the third item, None if it did not)."""
    info = await ag.openid_connect.get_user_info(creds)
    fresh = await ag.oauth2.refresh(creds)
    await ag.oauth2.revoke(fresh)
    try:
        await ag.oauth2.refresh(fresh)
    except AuthError as exc:
        return info, fresh, exc
    return info, fresh, None


# ------------------------------------------------------------------------ oauth2-mock-server (Google-like)


def test_mock_google_installed_app_login_refresh_revoke(backend: Backend, mock_google: str) -> None:
    def browse(url: str) -> None:
        threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=10).read(), daemon=True).start()

    async def scenario() -> Any:
        async with backend.client(client_creds=ClientCreds(client_id="desktop-app")) as ag:
            await ag.oauth2.discover_endpoints(mock_google)
            creds = await login(ag, scopes=["openid", "email"], open_browser=browse, timeout=20)
            return (creds, *await _use_refresh_revoke(ag, creds))

    creds, info, fresh, error = backend.run(scenario)
    assert creds.id_token["iss"] == mock_google and creds.id_token["aud"] == "desktop-app"
    assert creds.id_token["email"] == "johndoe@example.com" and creds.id_token["hd"] == "example.com" and creds.id_token["nonce"]
    assert info["sub"] == "johndoe"
    # The mock's tokens are JWTs that can repeat within one second; its refresh tokens rotate.
    assert fresh.refresh_token and fresh.refresh_token != creds.refresh_token and fresh.expires_at
    assert isinstance(error, AuthError) and "invalid_grant" in str(error) and "revoked or has expired" in str(error)


def test_mock_google_rejects_a_wrong_pkce_verifier(backend: Backend, mock_google: str) -> None:
    async def scenario() -> None:
        async with backend.client() as ag:
            await ag.oauth2.discover_endpoints(mock_google)
            client = ClientCreds(client_id="c", redirect_uri=REDIRECT, scopes=["openid"])
            url = ag.openid_connect.authorization_url(client, pkce=True)
            code = headless_browser(url)["code"]
            await ag.openid_connect.build_user_creds(code, client, code_verifier="W" * 43)

    with pytest.raises(AuthError, match="authorization code exchange failed: HTTP 400"):
        backend.run(scenario)


def test_mock_google_verifies_the_jwt_bearer_assertion(backend: Backend, mock_google: str, sa_key: tuple[str, str]) -> None:
    good = ServiceAccountCreds(client_email="sa@p.iam.gserviceaccount.com", private_key=sa_key[0], private_key_id="k1", token_uri=mock_google + "/token", scopes=["s1"])
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = ServiceAccountCreds(**{**good, "private_key": forged_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()})

    async def scenario() -> Any:
        async with backend.client(service_account_creds=good) as ag:
            refreshed = await ag.service_account_manager.refresh()
            token = ag.service_account_manager.access_token
            ag.service_account_manager.creds = forged
            ag.service_account_manager._token = None
            try:
                await ag.service_account_manager.refresh()
            except AuthError as exc:
                return refreshed, token, exc
            return refreshed, token, None

    refreshed, token, error = backend.run(scenario)
    import jwt

    assert refreshed and jwt.decode(token, options={"verify_signature": False})["sub"] == "sa@p.iam.gserviceaccount.com"
    assert isinstance(error, AuthError) and "invalid_grant" in str(error) and "signature" in str(error).lower()


# ------------------------------------------------------------------------ oidc-provider


@pytest.mark.parametrize("client_kind", ["confidential", "public"])
def test_oidc_provider_code_flow_userinfo_refresh_revoke(client_kind: str, backend: Backend, oidc_op: str) -> None:
    if client_kind == "confidential":
        client = ClientCreds(client_id="test-client", client_secret="test-secret", redirect_uri=REDIRECT, token_endpoint_auth_method="client_secret_basic")
    else:
        client = ClientCreds(client_id="installed-app", redirect_uri=REDIRECT)
    client["scopes"] = ["openid", "email", "offline_access"]

    async def scenario() -> Any:
        async with backend.client(client_creds=client) as ag:
            await ag.openid_connect.discover_endpoints(oidc_op)
            url = ag.openid_connect.authorization_url(prompt="consent", pkce=True, access_type="offline")
            callback = headless_browser(url)
            assert callback["state"] == client["state"] and callback.get("iss") == oidc_op
            creds = await ag.openid_connect.build_user_creds(callback["code"])
            return (creds, *await _use_refresh_revoke(ag, creds))

    creds, info, fresh, error = backend.run(scenario)
    assert creds.id_token["iss"] == oidc_op and creds.id_token["aud"] == client.client_id and creds.id_token["nonce"] == client["nonce"]
    assert creds.id_token["email"] == "johndoe@example.com" and creds.refresh_token
    assert info["sub"] == "johndoe" and info["email"] == "johndoe@example.com"
    assert fresh.access_token != creds.access_token
    assert isinstance(error, AuthError) and "invalid_grant" in str(error)


def test_oidc_provider_id_token_for_another_client_is_rejected(backend: Backend, oidc_op: str) -> None:
    client = ClientCreds(client_id="installed-app", redirect_uri=REDIRECT, scopes=["openid", "email"])

    async def scenario() -> None:
        async with backend.client(client_creds=client) as ag:
            await ag.openid_connect.discover_endpoints(oidc_op)
            code = headless_browser(ag.openid_connect.authorization_url(pkce=True))["code"]
            creds = await ag.openid_connect.build_user_creds(code, verify=False)
            assert creds.id_token["aud"] == "installed-app"
            await ag.openid_connect.decode_and_validate(creds.id_token_jwt, "some-other-client", client["nonce"])

    with pytest.raises(AuthError, match=r"id_token rejected \(aud\)"):
        backend.run(scenario)


# ------------------------------------------------------------------------ workload identity federation


def _workload_token(issuer: str, audience: str, client_id: str = "ci-runner") -> str:
    """A workload identity token from oauth2-mock-server (client_credentials), as a CI
    system issues one to a job."""
    import json as _json
    from urllib.parse import urlencode

    body = urlencode({"grant_type": "client_credentials", "client_id": client_id, "aud": audience}).encode()
    with urllib.request.urlopen(urllib.request.Request(issuer + "/token", data=body), timeout=10) as reply:
        return str(_json.loads(reply.read())["access_token"])


def test_a_subject_token_from_a_real_oidc_issuer(backend: Backend, mock_google: str, server: Any, tmp_path: Any) -> None:
    """The subject token is issued by a real OpenID provider (oauth2-mock-server, its own
    keys); the STS double verifies it against the keys the provider's OpenID configuration
    publishes, as Google's STS does, and the token from the exchange then calls an API."""
    import json as _json

    from aiogoogle import Request
    from aiogoogle.auth import Endpoints
    from aiogoogle.testing._auth_doubles import keyless_state

    pool = "//iam.googleapis.com/projects/7/locations/global/workloadIdentityPools/ci/providers/mock"
    allowed = "https:" + pool
    keyless = keyless_state(server)
    keyless.add_pool(pool, issuer=mock_google)
    config = {
        "type": "external_account",
        "audience": pool,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": server.url + "v1/token",
        "credential_source": {"file": str(tmp_path / "token")},
    }

    async def call(token: str) -> Any:
        (tmp_path / "token").write_text(token)
        async with backend.client(service_account_creds=dict(config), auth_endpoints=Endpoints.at(server.url)) as ag:
            return await ag.as_service_account(Request("GET", f"{server.url}protected/federated"))

    answer = backend.run(call, _workload_token(mock_google, allowed))
    assert answer["ok"] and keyless.exchanges[-1] == "urn:ietf:params:oauth:token-type:jwt"
    # A token the provider issued for another audience, and one signed with a key the
    # provider never published, are refused by the exchange.
    with pytest.raises(AuthError, match="audience is not allowed"):
        backend.run(call, _workload_token(mock_google, "https://someone-else.example.com"))
    import jwt

    genuine = _workload_token(mock_google, allowed)
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(jwt.decode(genuine, options={"verify_signature": False}), forged_key, algorithm="RS256",
                        headers={"kid": jwt.get_unverified_header(genuine)["kid"]})
    with pytest.raises(AuthError, match="subject token is not valid"):
        backend.run(call, forged)
    assert _json.dumps(config)  # the file stayed plain JSON
