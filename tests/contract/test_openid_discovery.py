"""OpenID discovery and id_token key handling through the managers, on every backend,
against the local Google-compatible server (plain http on 127.0.0.1, which discovery
accepts as a loopback host).

Proven here: ``discover_endpoints`` takes the server's own document and refuses one whose
``issuer`` is another (OpenID Connect Discovery 1.0 §4.3) or whose endpoints are plain http
to another host, leaving the endpoints as they were; an id_token from the server verifies,
and tokens naming unknown key ids re-fetch the JWKS at most once per minute of the
manager's clock.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from aiogoogle import AuthError
from aiogoogle.auth import ClientCreds, UserCreds
from aiogoogle.auth.endpoints import Endpoints
from aiogoogle.auth.managers import OpenIdConnectManager
from aiogoogle.testing import LocalGoogleServer, Reply
from aiogoogle.testing._server_auth import AuthState

from ..conftest import Backend

CLIENT = ClientCreds(client_id="test-client", client_secret="test-secret", scopes=["openid", "email"], redirect_uri="http://127.0.0.1:1/cb")
CERTS = "/oauth2/v3/certs"


def configuration(issuer: str, base: str, **over: Any) -> dict[str, Any]:
    doc = {
        "issuer": issuer,
        "authorization_endpoint": base + "o/oauth2/v2/auth",
        "token_endpoint": base + "token",
        "userinfo_endpoint": base + "v1/userinfo",
        "revocation_endpoint": base + "revoke",
        "jwks_uri": base + "oauth2/v3/certs",
    }
    doc.update(over)
    return doc


def test_discovery_takes_the_servers_document_and_refuses_other_issuers_and_plain_http(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    base = server.url
    server.expect("GET", "/forged/.well-known/openid-configuration", Reply(json=configuration("https://accounts.google.com", base)))
    server.expect("GET", "/plain/.well-known/openid-configuration", Reply(json=configuration(base + "plain", base, jwks_uri="http://keys.example/jwks")))

    async def scenario() -> Any:
        async with backend.client(client_creds=CLIENT, auth_endpoints=Endpoints.at("https://unused.example/")) as ag:
            found = await ag.openid_connect.discover_endpoints(base)
            errors = []
            for path in ("forged", "plain"):
                try:
                    await ag.openid_connect.discover_endpoints(base + path)
                except AuthError as exc:
                    errors.append(str(exc))
            return found, errors, ag.openid_connect.endpoints

    found, errors, after = backend.run(scenario)
    assert found.issuer == base.rstrip("/") and found.jwks == base + "oauth2/v3/certs" and found.token == base + "token"
    assert "'https://accounts.google.com' is not" in errors[0] and "§4.3" in errors[0]
    assert "openid-configuration: jwks_uri must use https (got http to host 'keys.example')" in errors[1]
    assert after == found  # a refused document changes nothing
    assert server.count("GET", "/.well-known/openid-configuration") == 1 and server.pending() == 0


def test_unknown_key_ids_refetch_the_jwks_at_most_once_a_minute(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    offset = [0.0]
    factory = backend.session_factory()
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    creds = UserCreds(refresh_token=state.issue_refresh_token(scopes=["openid", "email"]))

    def forged(i: int) -> str:
        now = int(time.time())
        claims = {"iss": server.url.rstrip("/"), "aud": "test-client", "sub": "x", "iat": now, "exp": now + 3600}
        return jwt.encode(claims, forged_key, algorithm="RS256", headers={"kid": f"forged-{i}"})

    async def attempts(manager: OpenIdConnectManager, first: int, n: int) -> list[str]:
        out = []
        for i in range(first, first + n):
            try:
                await manager.decode_and_validate(forged(i))
            except AuthError as exc:
                out.append(str(exc))
        return out

    async def scenario() -> Any:
        manager = OpenIdConnectManager(factory, CLIENT, endpoints=Endpoints.at(server.url), clock=lambda: time.time() + offset[0])
        async with manager:
            fresh = await manager.refresh(creds)
            claims = await manager.decode_and_validate(fresh["id_token_jwt"])  # the JWKS is fetched once
            flood = await attempts(manager, 0, 20)
            before = server.count("GET", CERTS)
            offset[0] += 61  # the minute is over: one re-fetch, then quiet again
            later = await attempts(manager, 20, 5)
            return claims, flood, before, later

    claims, flood, before, later = backend.run(scenario)
    assert claims["sub"] == "johndoe" and claims["aud"] == "test-client"
    assert len(flood) == 20 and all("id_token rejected (kid)" in e and "at most every 60 s" in e for e in flood)
    assert before == 1
    assert "even after re-fetching" in later[0] and all("at most every 60 s" in e for e in later[1:])
    assert server.count("GET", CERTS) == 2
