"""The client's token lifecycle on every adapter, against the local server's Google-like
token endpoint (docs/protocol.md §4.1, §6): single flight, 401 recovery, on_refresh, per-call
credentials, service accounts (key, ADC file, metadata server), API keys, quota project."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from aiogoogle import AuthError, Request, RetryPolicy
from aiogoogle.auth import ClientCreds, Endpoints, ServiceAccountCreds, UserCreds
from aiogoogle.auth._flows import to_iso
from aiogoogle.testing import LocalGoogleServer, Reply
from aiogoogle.testing._server_auth import JWT_BEARER, AuthState, service_account_key

from ..conftest import Backend

FAST_RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.02)
CLIENT = ClientCreds(client_id="test-client", client_secret="test-secret", scopes=["openid", "email"], redirect_uri="http://127.0.0.1:1/cb")


def expired_user(state: AuthState) -> UserCreds:
    return UserCreds(access_token="ya29.expired", refresh_token=state.issue_refresh_token(), expires_at=to_iso(1_000_000_000))


def client(backend: Backend, server: LocalGoogleServer, **kw: Any) -> Any:
    kw.setdefault("client_creds", CLIENT)
    kw.setdefault("retry", FAST_RETRY)
    return backend.client(auth_endpoints=Endpoints.at(server.url), **kw)


def protected(server: LocalGoogleServer, name: str = "x") -> Request:
    return Request("GET", f"{server.url}protected/{name}")


def test_100_concurrent_calls_with_an_expired_token_make_one_token_request(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    creds = expired_user(state)
    reported: list[Any] = []

    async def scenario() -> list[Any]:
        async with client(backend, server, user_creds=creds, on_refresh=reported.append) as ag:
            return await ag.as_user(*[protected(server, str(i)) for i in range(100)])

    results = backend.run(scenario)
    assert len(results) == 100 and all(r["ok"] for r in results)
    assert state.count("refresh_token") == 1 and state.count() == 1
    assert len(reported) == 1 and reported[0] is creds
    assert creds.access_token != "ya29.expired" and state.live(creds.access_token) is not None
    assert server.count("GET") == 100


def test_a_401_refreshes_once_and_retries(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    live = state.issue_access_token()
    creds = UserCreds(access_token=live, refresh_token=state.issue_refresh_token())  # no expiry known
    reported: list[Any] = []

    async def scenario() -> Any:
        async with client(backend, server, user_creds=creds, on_refresh=reported.append) as ag:
            first = await ag.as_user(protected(server))
            state.expire_access_tokens()  # revoked early: the server now answers 401
            second = await ag.as_user(protected(server))
            return first, second

    first, second = backend.run(scenario)
    assert first["ok"] and second["ok"]
    assert state.count("refresh_token") == 1 and len(reported) == 1
    assert [r.headers["authorization"] for r in server.requests("GET", "/protected/x")][1:] == [f"Bearer {live}", f"Bearer {creds.access_token}"]


def test_a_second_401_is_the_callers_auth_error(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    creds = UserCreds(access_token=state.issue_access_token(), refresh_token=state.issue_refresh_token())
    unauthorized = Reply.error(401, "Request had invalid authentication credentials.", "authError")
    server.expect("GET", "/protected/x", unauthorized, unauthorized, unauthorized)

    async def scenario() -> None:
        async with client(backend, server, user_creds=creds) as ag:
            await ag.as_user(protected(server))

    with pytest.raises(AuthError, match="401"):
        backend.run(scenario)
    assert state.count("refresh_token") == 1 and server.count("GET", "/protected/x") == 2


def test_a_revoked_refresh_token_raises_auth_error(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    creds = expired_user(state)
    state.revoked.add(creds.refresh_token)

    async def scenario() -> None:
        async with client(backend, server, user_creds=creds) as ag:
            await ag.as_user(protected(server))

    with pytest.raises(AuthError, match="revoked or has expired"):
        backend.run(scenario)
    assert server.count("GET", "/protected/x") == 0


def test_per_call_user_creds_are_refreshed_in_place_and_reported(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    default = UserCreds(access_token=state.issue_access_token())
    per_call = expired_user(state)
    reported: list[Any] = []

    async def scenario() -> Any:
        async with client(backend, server, user_creds=default, on_refresh=reported.append) as ag:
            return await ag.as_user(protected(server), user_creds=per_call)

    assert backend.run(scenario)["ok"]
    assert reported == [per_call] and per_call.access_token != "ya29.expired"
    assert state.live(default.access_token) is not None  # the client's own creds untouched
    assert server.requests("GET", "/protected/x")[0].headers["authorization"] == f"Bearer {per_call.access_token}"


def test_proactive_refresh_margin(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    import time

    soon = UserCreds(access_token=state.issue_access_token(), refresh_token=state.issue_refresh_token(), expires_at=to_iso(time.time() + 120))

    async def scenario(margin: float) -> Any:
        async with client(backend, server, user_creds=soon, refresh_margin=margin) as ag:
            return await ag.as_user(protected(server))

    before = soon.access_token
    backend.run(scenario, 60.0)  # expires in 120 s, margin 60 s: still used as is
    assert state.count() == 0 and soon.access_token == before
    backend.run(scenario, 300.0)  # within the margin: refreshed first
    assert state.count("refresh_token") == 1 and soon.access_token != before


def test_token_endpoint_5xx_is_retried(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    creds = expired_user(state)
    state.fail_token_requests(2, 503)

    async def scenario() -> Any:
        async with client(backend, server, user_creds=creds) as ag:
            return await ag.as_user(protected(server))

    assert backend.run(scenario)["ok"]
    assert state.count("refresh_token") == 3


def test_service_account_key_and_per_call_creds(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    default = ServiceAccountCreds(scopes=["https://www.googleapis.com/auth/cloud-platform"], **service_account_key(server, "default@p.iam.gserviceaccount.com"))
    other = ServiceAccountCreds(scopes=["s2"], **service_account_key(server, "other@p.iam.gserviceaccount.com", name="other"))

    async def scenario() -> Any:
        async with client(backend, server, service_account_creds=default) as ag:
            results = await ag.as_service_account(protected(server, "a"), protected(server, "b"))
            results.append(await ag.as_service_account(protected(server, "c"), service_account_creds=other))
            results.append(await ag.as_service_account(protected(server, "d")))
            return results

    assert all(r["ok"] for r in backend.run(scenario))
    assertions = [dict(p.split("=", 1) for p in r.body.decode().split("&"))["assertion"] for r in server.requests("POST", "/token")]
    issuers = [jwt.decode(a, options={"verify_signature": False})["iss"] for a in assertions]
    assert issuers == ["default@p.iam.gserviceaccount.com", "other@p.iam.gserviceaccount.com"]  # per-call creds honoured, tokens cached


def test_concurrent_service_account_calls_make_one_token_request(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    creds = ServiceAccountCreds(scopes=["s"], **service_account_key(server))

    async def scenario() -> Any:
        async with client(backend, server, service_account_creds=creds) as ag:
            return await ag.as_service_account(*[protected(server, str(i)) for i in range(50)])

    assert len(backend.run(scenario)) == 50
    assert state.count() == 1


def test_self_signed_jwt_needs_no_token_request(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    creds = ServiceAccountCreds(scopes=["s"], **service_account_key(server))

    async def scenario() -> Any:
        async with client(backend, server, service_account_creds=creds) as ag:
            ag.service_account_manager.self_signed_jwt = True
            return await ag.as_service_account(protected(server))

    assert backend.run(scenario)["ok"] and state.count() == 0


def test_adc_file_from_environment(backend: Backend, server: LocalGoogleServer, state: AuthState, tmp_path: Any) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(service_account_key(server)))
    creds = ServiceAccountCreds(scopes=["https://www.googleapis.com/auth/devstorage.read_only"])

    async def scenario() -> Any:
        ag = client(backend, server, service_account_creds=creds)
        ag.service_account_manager.environ = {"GOOGLE_APPLICATION_CREDENTIALS": str(path), "NO_GCE_CHECK": "true"}
        await ag.service_account_manager.detect_default_creds_source()  # the seed's way
        async with ag:
            return await ag.as_service_account(protected(server))

    assert backend.run(scenario)["ok"]
    assert creds.client_email == "sa@test-project.iam.gserviceaccount.com" and creds.scopes == ["https://www.googleapis.com/auth/devstorage.read_only"]
    assert state.count("urn:ietf:params:oauth:grant-type:jwt-bearer") == 1


def test_adc_authorized_user_file_with_quota_project(backend: Backend, server: LocalGoogleServer, state: AuthState, tmp_path: Any) -> None:
    (tmp_path / "application_default_credentials.json").write_text(
        json.dumps({"type": "authorized_user", "client_id": "test-client", "client_secret": "test-secret", "refresh_token": state.issue_refresh_token(), "quota_project_id": "billing-proj", "token_uri": server.url + "token"})
    )

    async def scenario() -> Any:
        async with client(backend, server, client_creds=None) as ag:
            ag.service_account_manager.environ = {"CLOUDSDK_CONFIG": str(tmp_path), "NO_GCE_CHECK": "1"}
            return await ag.as_service_account(protected(server))  # detected on first use

    assert backend.run(scenario)["user_project"] == "billing-proj"
    assert state.count("refresh_token") == 1


def test_adc_metadata_server(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    host = server.url.split("://", 1)[1].rstrip("/")

    async def scenario() -> Any:
        async with backend.client(auth_endpoints=Endpoints(), retry=FAST_RETRY) as ag:  # Google's endpoints: only the env points here
            ag.service_account_manager.environ = {"GCE_METADATA_HOST": host, "HOME": "/nonexistent", "GOOGLE_CLOUD_QUOTA_PROJECT": "env-proj"}
            results = await ag.as_service_account(protected(server, "1"), protected(server, "2"))
            return results, ag.service_account_manager.default_creds

    results, found = backend.run(scenario)
    assert found.kind == "metadata" and all(r["ok"] for r in results) and results[0]["user_project"] == "env-proj"
    assert state.count("metadata") == 1
    assert all(r.headers.get("metadata-flavor") == "Google" for r in server.log if r.path.startswith("/computeMetadata"))


def test_detected_credentials_get_one_token_per_scope_set(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    host = server.url.split("://", 1)[1].rstrip("/")
    read_only = ServiceAccountCreds(scopes=["https://www.googleapis.com/auth/devstorage.read_only"])
    full = ServiceAccountCreds(scopes=["https://www.googleapis.com/auth/devstorage.full_control"])

    async def scenario() -> None:
        async with backend.client(auth_endpoints=Endpoints(), retry=FAST_RETRY) as ag:
            ag.service_account_manager.environ = {"GCE_METADATA_HOST": host, "HOME": "/nonexistent"}
            for creds in (read_only, full, read_only, None, full):
                await ag.as_service_account(protected(server), service_account_creds=creds)

    backend.run(scenario)
    asked = [r.query.get("scopes") for r in server.log if r.path.endswith("/token") and r.path.startswith("/computeMetadata")]
    assert asked == [read_only.scopes, full.scopes, None], asked


def test_api_key_query_and_header(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    async def scenario() -> None:
        async with client(backend, server, api_key="AIza key/+&") as ag:
            await ag.as_api_key(Request("GET", server.url + "echo/q?a=1"))
            ag.api_key_manager.header = True
            await ag.as_api_key(Request("GET", server.url + "echo/h"))

    backend.run(scenario)
    [query_req] = server.requests("GET", "/echo/q")
    assert query_req.query["key"] == ["AIza key/+&"] and query_req.query["a"] == ["1"]
    [header_req] = server.requests("GET", "/echo/h")
    assert header_req.headers["x-goog-api-key"] == "AIza key/+&" and "key" not in header_req.query


def test_user_quota_project_header(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    creds = UserCreds(access_token=state.issue_access_token(), quota_project_id="qp-1")

    async def scenario() -> Any:
        async with client(backend, server, user_creds=creds) as ag:
            return await ag.as_user(protected(server))

    assert backend.run(scenario)["user_project"] == "qp-1"


def test_standalone_managers_open_their_own_sessions(backend: Backend, server: LocalGoogleServer, state: AuthState) -> None:
    from aiogoogle.auth.managers import Oauth2Manager, ServiceAccountManager

    factory = backend.session_factory()
    endpoints = Endpoints.at(server.url)
    creds = expired_user(state)
    key = ServiceAccountCreds(scopes=["s"], **service_account_key(server))

    async def scenario() -> Any:
        oauth2 = Oauth2Manager(factory, CLIENT, endpoints=endpoints)
        fresh = await oauth2.refresh(creds)  # a session for this one call
        async with oauth2:  # one session for several calls
            info = await oauth2.get_token_info(fresh)
            me = await oauth2.get_me_info(fresh)
        sa = ServiceAccountManager(factory, key, endpoints=endpoints)
        first, second = await sa.refresh(), await sa.refresh()
        return fresh, info, me, first, second, sa.access_token

    fresh, info, me, first, second, token = backend.run(scenario)
    assert state.live(fresh.access_token) is not None and info["aud"] == "test-client" and me["email"] == "johndoe@example.com"
    assert (first, second) == (True, False) and state.live(token) is not None
    assert state.count("refresh_token") == 1 and state.count("urn:ietf:params:oauth:grant-type:jwt-bearer") == 1


# ------------------------------------------------------------------------ impersonated service accounts (docs/protocol.md §6.7)

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
TARGET = "target@test-project.iam.gserviceaccount.com"
MIDDLE = "middle@test-project.iam.gserviceaccount.com"


def impersonated_file(server: LocalGoogleServer, source: dict[str, Any], **extra: Any) -> str:
    url = f"{server.url}v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
    return json.dumps({"type": "impersonated_service_account", "source_credentials": source, "service_account_impersonation_url": url, **extra})


def user_source(server: LocalGoogleServer, state: AuthState, scopes: list[str] | None = None) -> dict[str, Any]:
    refresh = state.issue_refresh_token(scopes=scopes or [CLOUD_PLATFORM])
    return {"type": "authorized_user", "client_id": "test-client", "client_secret": "test-secret", "refresh_token": refresh, "token_uri": server.url + "token"}


def test_adc_impersonated_service_account_with_a_service_account_source(backend: Backend, server: LocalGoogleServer, state: AuthState, tmp_path: Any) -> None:
    source_key = service_account_key(server, "source@test-project.iam.gserviceaccount.com")
    path = tmp_path / "impersonated.json"
    path.write_text(impersonated_file(server, source_key, delegates=[f"projects/-/serviceAccounts/{MIDDLE}"], quota_project_id="imp-qp"))
    state.allow_impersonation(TARGET, MIDDLE)
    wanted = ServiceAccountCreds(scopes=["https://www.googleapis.com/auth/devstorage.read_only"])  # scopes only: the key comes from ADC

    async def scenario() -> Any:
        async with client(backend, server, client_creds=None, service_account_creds=wanted) as ag:
            ag.service_account_manager.environ = {"GOOGLE_APPLICATION_CREDENTIALS": str(path), "NO_GCE_CHECK": "1"}
            return await ag.as_service_account(*[protected(server, str(i)) for i in range(10)]), ag.service_account_manager.default_creds

    results, found = backend.run(scenario)
    assert found.kind == "impersonated_service_account" and all(r["ok"] and r["user_project"] == "imp-qp" for r in results)
    assert state.count(JWT_BEARER) == 1 and state.count("generateAccessToken") == 1 and state.count() == 2  # one source token, one impersonation, for 10 calls
    [grant_req] = server.requests("POST", "/token")
    assertion = dict(p.split("=", 1) for p in grant_req.body.decode().split("&"))["assertion"]
    assert jwt.decode(assertion, options={"verify_signature": False})["scope"] == CLOUD_PLATFORM  # IAM needs it, whatever the key's scopes
    [iam] = [r for r in server.log if r.path.endswith(":generateAccessToken")]
    source_token = iam.headers["authorization"].removeprefix("Bearer ")
    assert state.access_tokens[source_token][0].client_id == "source@test-project.iam.gserviceaccount.com"
    assert json.loads(iam.body) == {"delegates": [f"projects/-/serviceAccounts/{MIDDLE}"], "scope": wanted.scopes, "lifetime": "3600s"}
    api_tokens = {r.headers["authorization"] for r in server.log if r.path.startswith("/protected/")}
    [api_token] = api_tokens
    assert api_token.startswith("Bearer ya29.imp-") and state.access_tokens[api_token[7:]][0].client_id == TARGET


def test_adc_impersonated_token_refreshes_once_near_its_expire_time(backend: Backend, server: LocalGoogleServer, state: AuthState, tmp_path: Any) -> None:
    import time

    (tmp_path / "application_default_credentials.json").write_text(impersonated_file(server, user_source(server, state)))
    state.allow_impersonation(TARGET)
    margin = 225.0

    async def scenario() -> list[tuple[int, int, set[str]]]:
        seen: list[tuple[int, int, set[str]]] = []
        async with client(backend, server, client_creds=None, refresh_margin=margin) as ag:
            ag.service_account_manager.environ = {"CLOUDSDK_CONFIG": str(tmp_path), "NO_GCE_CHECK": "1"}
            # Time passes without sleeping: the client's clock (it has no public one) and the
            # IAM endpoint's (its expireTime is absolute) move to just before, then just
            # inside, the refresh margin of the first impersonated token's expireTime.
            for shift in (0.0, 3600 - margin - 60, 3600 - margin + 60):
                ag._auth.clock = lambda s=shift: time.time() + s
                state.iam_clock_offset = shift
                await ag.as_service_account(*[protected(server, str(i)) for i in range(5)])
                used = {r.headers["authorization"] for r in server.log if r.path.startswith("/protected/")}
                seen.append((state.count("refresh_token"), state.count("generateAccessToken"), used))
                server.log.clear()
        return seen

    first, before_margin, inside_margin = backend.run(scenario)
    assert first[:2] == (1, 1) and before_margin[:2] == (1, 1) and inside_margin[:2] == (2, 2)
    assert len(first[2]) == len(inside_margin[2]) == 1 and first[2] == before_margin[2] != inside_margin[2]


@pytest.mark.parametrize(
    ("allowed", "source_scopes", "expected"),
    [
        (False, [CLOUD_PLATFORM], r"HTTP 403 IAM_PERMISSION_DENIED: Permission 'iam\.serviceAccounts\.getAccessToken' denied.*Token Creator"),
        (True, ["openid", "email"], r"HTTP 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT: Request had insufficient authentication scopes\. \(the source credentials' token lacks the cloud-platform scope\)"),
    ],
)
def test_adc_impersonation_refused_is_an_auth_error(
    backend: Backend, server: LocalGoogleServer, state: AuthState, tmp_path: Any, allowed: bool, source_scopes: list[str], expected: str
) -> None:
    path = tmp_path / "impersonated.json"
    path.write_text(impersonated_file(server, user_source(server, state, source_scopes)))
    if allowed:
        state.allow_impersonation(TARGET)

    async def scenario() -> None:
        async with client(backend, server, client_creds=None) as ag:
            ag.service_account_manager.environ = {"GOOGLE_APPLICATION_CREDENTIALS": str(path), "NO_GCE_CHECK": "1"}
            await ag.as_service_account(protected(server))

    with pytest.raises(AuthError, match=expected) as caught:
        backend.run(scenario)
    err = caught.value
    assert err.status_code == 403 and err.status == "PERMISSION_DENIED" and f"impersonation of service account {TARGET}" in str(err)
    assert not any(token in str(err) for token in state.access_tokens)
    assert server.count(path="/protected/x") == 0 and state.count("generateAccessToken") == 1  # a 403 is not retried


def test_standalone_service_account_manager_with_an_impersonated_adc_file(backend: Backend, server: LocalGoogleServer, state: AuthState, tmp_path: Any) -> None:
    from aiogoogle.auth.managers import ServiceAccountManager

    path = tmp_path / "impersonated.json"
    path.write_text(impersonated_file(server, user_source(server, state), scopes=["https://www.googleapis.com/auth/drive"]))
    state.allow_impersonation(TARGET)
    manager = ServiceAccountManager(backend.session_factory(), endpoints=Endpoints.at(server.url), environ={"GOOGLE_APPLICATION_CREDENTIALS": str(path), "NO_GCE_CHECK": "1"})

    async def scenario() -> Any:
        await manager.detect_default_creds_source()
        return await manager.refresh(), await manager.refresh(), manager.access_token

    first, second, token = backend.run(scenario)
    assert (first, second) == (True, False) and state.count("generateAccessToken") == 1
    grant = state.live(token)
    assert grant is not None and grant.client_id == TARGET and grant.scopes == ["https://www.googleapis.com/auth/drive"]  # the file's scopes
