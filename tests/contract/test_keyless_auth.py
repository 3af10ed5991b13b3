"""Keyless and service-to-service auth on every backend, against the local server's
doubles (aiogoogle.testing._auth_doubles): workload identity federation from a file, a
URL, a program and AWS (signature checked by the STS double), single-flight refresh, ID
tokens for a private Cloud Run stand-in, and the attacks the doubles refuse."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from aiogoogle import AuthError, Request, RetryPolicy
from aiogoogle.auth import Endpoints
from aiogoogle.testing import LocalGoogleServer
from aiogoogle.testing._auth_doubles import KeylessState, keyless_state, run_audience, subject_token
from aiogoogle.testing._server_auth import AuthState, service_account_key

from ..conftest import Backend

FAST_RETRY = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
POOL = "//iam.googleapis.com/projects/42/locations/global/workloadIdentityPools/ci/providers/github"
SA = "deployer@test-project.iam.gserviceaccount.com"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"


@pytest.fixture
def keyless(server: LocalGoogleServer, state: AuthState) -> KeylessState:
    ks = keyless_state(server)
    ks.add_pool(POOL)
    state.allow_impersonation(SA)
    return ks


def client(backend: Backend, server: LocalGoogleServer, **kw: Any) -> Any:
    kw.setdefault("retry", FAST_RETRY)
    return backend.client(auth_endpoints=Endpoints.at(server.url), **kw)


def external_file(server: LocalGoogleServer, tmp_path: Any, source: dict[str, Any], *, impersonate: bool = True, **extra: Any) -> str:
    info: dict[str, Any] = {
        "type": "external_account",
        "audience": POOL,
        "subject_token_type": JWT_TYPE,
        "token_url": server.url + "v1/token",
        "credential_source": source,
        **extra,
    }
    if impersonate:
        info["service_account_impersonation_url"] = f"{server.url}v1/projects/-/serviceAccounts/{SA}:generateAccessToken"
    path = tmp_path / "external.json"
    path.write_text(json.dumps(info))
    return str(path)


def adc_env(path: str, **extra: str) -> dict[str, str]:
    return {"GOOGLE_APPLICATION_CREDENTIALS": path, "NO_GCE_CHECK": "true", **extra}


def protected(server: LocalGoogleServer, name: str = "x") -> Request:
    return Request("GET", f"{server.url}protected/{name}")


def test_a_file_sourced_external_account_refreshes_once_for_concurrent_calls(
    backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState, tmp_path: Any
) -> None:
    token_file = tmp_path / "oidc-token"
    token_file.write_text(subject_token(server, POOL) + "\n")
    path = external_file(server, tmp_path, {"file": str(token_file)})

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(path)
            return await ag.as_service_account(*[protected(server, str(i)) for i in range(20)])

    results = backend.run(scenario)
    assert len(results) == 20 and all(r["ok"] for r in results)
    assert keyless.exchanges == [JWT_TYPE] and state.count("generateAccessToken") == 1


def test_url_and_executable_subject_tokens(backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState, tmp_path: Any) -> None:
    subject_token(server, POOL)  # what the URL endpoint serves
    by_url = external_file(
        server, tmp_path, {"url": server.url + "keyless/subject-token", "headers": {"Metadata": "True"}, "format": {"type": "json", "subject_token_field_name": "access_token"}}
    )
    program = tmp_path / "token-helper.py"
    response = {"version": 1, "success": True, "token_type": JWT_TYPE, "id_token": subject_token(server, POOL), "expiration_time": 4102444800}
    program.write_text(
        "import json, os, sys\n"
        "assert os.environ['GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE'] == sys.argv[1]\n"
        f"print(json.dumps({response!r}))\n"
    )
    exe_dir = tmp_path / "exe"
    exe_dir.mkdir()
    by_program = external_file(server, exe_dir, {"executable": {"command": f"{sys.executable} {program} {POOL}", "timeout_millis": 10000}})

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(by_url)
            first = await ag.as_service_account(protected(server))
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(by_program)
            with pytest.raises(AuthError, match="GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1"):
                await ag.as_service_account(protected(server))
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(by_program, GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES="1")
            second = await ag.as_service_account(protected(server))
        return first, second

    first, second = backend.run(scenario)
    assert first["ok"] and second["ok"] and keyless.exchanges == [JWT_TYPE, JWT_TYPE]


def test_aws_imdsv2_signed_request_is_accepted_by_the_sts_double(
    backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState, tmp_path: Any
) -> None:
    keyless.add_aws_key("AKIDKEYLESS", session_token="role-session-token")
    # The double plays AWS too: the signed request names the real regional STS host, which
    # the double checks instead of calling.
    base = server.url.rstrip("/")
    source = {
        "environment_id": "aws1",
        "region_url": base + "/latest/meta-data/placement/availability-zone",
        "url": base + "/latest/meta-data/iam/security-credentials",
        "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
        "imdsv2_session_token_url": base + "/latest/api/token",
    }
    path = external_file(server, tmp_path, source, subject_token_type="urn:ietf:params:aws:token-type:aws4_request")

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(path)
            return await ag.as_service_account(protected(server))

    assert backend.run(scenario)["ok"]
    assert keyless.exchanges == ["urn:ietf:params:aws:token-type:aws4_request"]
    assert server.count("PUT", "/latest/api/token") == 1


@pytest.mark.parametrize(
    ("case", "message"),
    [("expired", "invalid_grant: the subject token has expired"), ("audience", "invalid_grant: the subject token's audience is not allowed")],
)
def test_an_expired_or_misdirected_subject_token_is_refused(
    backend: Backend, server: LocalGoogleServer, keyless: KeylessState, tmp_path: Any, case: str, message: str
) -> None:
    token = subject_token(server, POOL, expires_in=-60) if case == "expired" else subject_token(server, POOL, aud="https://iam.googleapis.com/other-pool")
    (tmp_path / "t").write_text(token)
    path = external_file(server, tmp_path, {"file": str(tmp_path / "t")})

    async def scenario() -> None:
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(path)
            await ag.as_service_account(protected(server))

    with pytest.raises(AuthError, match=message):
        backend.run(scenario)
    assert keyless.exchanges == []


def test_a_url_source_redirected_to_another_origin_is_refused(
    backend: Backend, server: LocalGoogleServer, other_server: LocalGoogleServer, keyless: KeylessState, tmp_path: Any
) -> None:
    from aiogoogle.excs import RedirectError
    from aiogoogle.testing import Reply

    server.expect("GET", "/keyless/moved", Reply.redirect(other_server.url + "steal"))
    path = external_file(server, tmp_path, {"url": server.url + "keyless/moved", "headers": {"Metadata": "True"}})

    async def scenario() -> None:
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(path)
            await ag.as_service_account(protected(server))

    other_server.reset()
    with pytest.raises(RedirectError):
        backend.run(scenario)
    assert other_server.count() == 0


def test_id_tokens_reach_a_private_cloud_run_service_once_per_audience(backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState) -> None:
    key = service_account_key(server, SA)
    audience = run_audience(server)

    async def scenario() -> Any:
        async with client(backend, server, service_account_creds=key) as ag:
            answers = await ag.as_id_token(audience, *[Request("GET", f"{server.url}run/hello/{i}") for i in range(10)])
            token = await ag.id_token(audience)
            return answers, token

    answers, token = backend.run(scenario)
    assert all(a["ok"] and a["caller"] == SA for a in answers)
    assert keyless.id_tokens == [audience] and state.count("id_token") == 1 and token.count(".") == 2


def test_id_tokens_from_the_metadata_server_and_from_impersonation(backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState, tmp_path: Any) -> None:
    audience = run_audience(server)
    host = server.url.split("://", 1)[1].rstrip("/")
    token_file = tmp_path / "oidc"
    token_file.write_text(subject_token(server, POOL))
    federated = external_file(server, tmp_path, {"file": str(token_file)})

    async def scenario() -> Any:
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = {"GCE_METADATA_HOST": host, "HOME": "/nonexistent"}
            from_metadata = await ag.as_id_token(audience, Request("GET", f"{server.url}run/a"))
        async with client(backend, server) as ag:
            ag.service_account_manager.environ = adc_env(federated)
            from_federation = await ag.as_id_token(audience, Request("GET", f"{server.url}run/b"))
        return from_metadata, from_federation

    from_metadata, from_federation = backend.run(scenario)
    assert from_metadata["caller"].startswith("default-sa@") and from_federation["caller"] == SA
    assert keyless.id_tokens == [audience, audience]


def test_an_id_token_for_another_audience_is_refused_by_the_service(backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState) -> None:
    key = service_account_key(server, SA)

    async def scenario() -> None:
        async with client(backend, server, service_account_creds=key) as ag:
            await ag.as_id_token("https://someone-else.example.com", Request("GET", f"{server.url}run/x"))

    with pytest.raises(AuthError):
        backend.run(scenario)
    # One retry with a fresh token after the 401, then the caller's error.
    assert keyless.run_calls == 0 and keyless.id_tokens == ["https://someone-else.example.com"] * 2


def test_the_device_flow_polls_until_approval(backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState) -> None:
    from aiogoogle._driver import Driver
    from aiogoogle.auth._device import device_code_flow, device_token_flow

    keyless.device_interval = 1
    client_creds = {"client_id": "test-client", "client_secret": "test-secret"}
    endpoints = Endpoints.at(server.url)
    options = client(backend, server).options

    async def scenario() -> Any:
        session = backend.session()
        try:
            driver = Driver(session)
            code = await driver.run(device_code_flow(client_creds, ["email"], server.url + "device/code", options))
            keyless.approve(code.user_code)
            return await driver.run(device_token_flow(code, client_creds, endpoints, options))
        finally:
            await session.close()

    creds = backend.run(scenario)
    assert state.live(creds["access_token"]) is not None and creds["refresh_token"]


def test_executable_runner_kills_a_program_at_its_timeout() -> None:
    import time

    from aiogoogle.auth._external import ExecutableRequest
    from aiogoogle.sessions._process import run_executable

    started = time.monotonic()
    result = run_executable(ExecutableRequest((sys.executable, "-c", "import time; time.sleep(30)"), (), 0.5))
    assert result.timed_out and time.monotonic() - started < 10
    echoed = run_executable(ExecutableRequest((sys.executable, "-c", "import os; print(os.environ['X_TEST'])"), (("X_TEST", "v"),), 10))
    assert echoed.returncode == 0 and echoed.stdout.strip() == b"v"
    assert os.environ.get("X_TEST") is None


def test_impersonated_credentials_object_with_delegates_and_lifetime(backend: Backend, server: LocalGoogleServer, state: AuthState, keyless: KeylessState) -> None:
    from aiogoogle.auth._impersonate import ImpersonatedCreds
    from aiogoogle.testing._server_auth import user_credentials

    middle = "middle@test-project.iam.gserviceaccount.com"
    state.allow_impersonation(middle)
    creds = ImpersonatedCreds(user_credentials(server), SA, delegates=[middle], scopes=["https://www.googleapis.com/auth/cloud-platform"],
                              lifetime=600, iam_url=server.url)

    async def scenario() -> Any:
        async with client(backend, server, service_account_creds=creds) as ag:
            answers = await ag.as_service_account(*[protected(server, str(i)) for i in range(5)])
            called = await ag.as_id_token(run_audience(server), Request("GET", f"{server.url}run/imp"))
            return answers, called

    answers, called = backend.run(scenario)
    assert all(a["ok"] for a in answers) and called["caller"] == SA
    (iam,) = server.requests("POST", f"/v1/projects/-/serviceAccounts/{SA}:generateAccessToken")
    assert iam.json() == {"delegates": [f"projects/-/serviceAccounts/{middle}"], "scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "600s"}
