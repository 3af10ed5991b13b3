"""Workload identity federation, ID tokens and the device flow as pure flows, driven
without an event loop (tests/flowtools.py): every request the flows build, every reply
they accept or refuse, every malformed credentials file."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._call import CallOptions
from aiogoogle._effects import FileOp, Run
from aiogoogle._http import HttpRequest, HttpResponse
from aiogoogle.auth._aws import AwsCredentials, canonical_query, signed_caller_identity, sigv4_sign
from aiogoogle.auth._device import DeviceCode, device_code_flow, device_token_flow
from aiogoogle.auth._external import (
    ALLOW_EXECUTABLES,
    ExecutableResult,
    ExternalAccount,
    ExternalAuthorizedUser,
    jwt_expiry,
    parse_executable_response,
)
from aiogoogle.auth._idtoken import check_id_token, service_account_id_token_flow
from aiogoogle.auth.endpoints import Endpoints
from aiogoogle.excs import AuthError, RedirectError
from aiogoogle.retry import RetryPolicy

from .flowtools import FlowRunner, response

OPTIONS = CallOptions(retry=RetryPolicy(max_attempts=2, initial_backoff=0.0, max_backoff=0.0))
POOL = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/gh"
WORKFORCE = "//iam.googleapis.com/locations/global/workforcePools/staff/providers/okta"
STS = "https://sts.googleapis.com/v1/token"
SA = "deployer@proj.iam.gserviceaccount.com"
IMPERSONATE = f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{SA}:generateAccessToken"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
SAML = "urn:ietf:params:oauth:token-type:saml2"
NOW = 1_700_000_000.0
AWS_TYPE = "urn:ietf:params:aws:token-type:aws4_request"


def fake_jwt(**claims: Any) -> str:
    def seg(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'RS256'})}.{seg(claims)}.c2ln"


def config(**overrides: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "type": "external_account",
        "audience": POOL,
        "subject_token_type": JWT_TYPE,
        "token_url": STS,
        "credential_source": {"file": "/var/run/token"},
    }
    for key, value in overrides.items():
        if value is None:
            info.pop(key, None)
        else:
            info[key] = value
    return info


def json_response(obj: Any, status: int = 200) -> HttpResponse:
    return response(status, json.dumps(obj).encode(), {"content-type": "application/json"})


def form(request: HttpRequest) -> dict[str, str]:
    assert isinstance(request.body, bytes)
    return dict(parse_qsl(request.body.decode()))


class Runner(FlowRunner):
    """Answers FileOp reads from ``files`` and Run effects with ``programs``."""

    def __init__(self, responder: Any, *, files: dict[str, bytes] | None = None, program: Any = None, clock: float = NOW) -> None:
        super().__init__(responder, clock=clock)
        self.files = files or {}
        self.program = program
        self.runs: list[Any] = []

    def on_fileop(self, effect: FileOp) -> Any:
        assert effect.op == "read"
        if effect.path not in self.files:
            raise FileNotFoundError(2, "No such file", effect.path)
        return self.files[effect.path]

    def on_run(self, effect: Run) -> Any:
        (request,) = effect.args
        self.runs.append(request)
        assert self.program is not None, "no program expected"
        return self.program(request)


def sts_ok(request: HttpRequest) -> HttpResponse:
    return json_response({"access_token": "fed-token", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})


# ---------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"audience": None}, "audience"),
        ({"audience": 5}, "audience"),
        ({"subject_token_type": None}, "subject_token_type"),
        ({"token_url": None}, "token_url"),
        ({"token_url": "http://sts.example.com/v1/token"}, "token_url"),
        ({"token_url": "ftp://x/"}, "token_url"),
        ({"credential_source": None}, "credential_source"),
        ({"credential_source": "file"}, "credential_source"),
        ({"credential_source": {}}, "credential_source"),
        ({"credential_source": {"file": 3}}, "credential_source.file"),
        ({"credential_source": {"file": "/t", "format": {"type": "xml"}}}, "credential_source.format.type"),
        ({"credential_source": {"file": "/t", "format": {"type": "json"}}}, "credential_source.format.subject_token_field_name"),
        ({"credential_source": {"url": "file:///etc/passwd"}}, "credential_source.url"),
        ({"credential_source": {"url": "http://127.0.0.1/t", "headers": {"a": 1}}}, "credential_source.headers"),
        ({"credential_source": {"url": "http://127.0.0.1/t", "headers": {"a": "x\r\nInjected: 1"}}}, "credential_source.headers"),
        ({"credential_source": {"executable": {"command": "relative/prog"}}}, "credential_source.executable.command"),
        ({"credential_source": {"executable": {"command": "/bin/prog 'unbalanced"}}}, "credential_source.executable.command"),
        ({"credential_source": {"executable": {"command": "/bin/prog", "timeout_millis": 10}}}, "credential_source.executable.timeout_millis"),
        ({"credential_source": {"executable": {"command": "/bin/prog", "timeout_millis": 10**9}}}, "credential_source.executable.timeout_millis"),
        ({"credential_source": {"executable": {"command": "/bin/prog", "output_file": "cache.json"}}}, "credential_source.executable.output_file"),
        ({"credential_source": {"executable": {"command": "/bin/prog"}, "file": "/t"}}, "executable and file"),
        ({"credential_source": {"executable": "/bin/prog"}}, "credential_source.executable"),
        ({"subject_token_type": AWS_TYPE, "credential_source": {"environment_id": "aws2", "regional_cred_verification_url": "https://sts.{region}.amazonaws.com"}},
         "environment_id"),
        ({"subject_token_type": AWS_TYPE, "credential_source": {"environment_id": "aws1"}}, "regional_cred_verification_url"),
        ({"service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/x"}, "service_account_impersonation_url"),
        ({"service_account_impersonation_url": "http://evil.example.com/v1/projects/-/serviceAccounts/a:generateAccessToken"}, "service_account_impersonation_url"),
        ({"service_account_impersonation": {"token_lifetime_seconds": 60}}, "token_lifetime_seconds"),
        ({"service_account_impersonation": {"token_lifetime_seconds": 50000}}, "token_lifetime_seconds"),
        ({"service_account_impersonation": {"token_lifetime_seconds": "3600"}}, "token_lifetime_seconds"),
        ({"workforce_pool_user_project": "1234"}, "workforce_pool_user_project"),
        ({"client_secret": "s"}, "client_secret"),
        ({"scopes": "a b", "quota_project_id": 5}, "quota_project_id"),
    ],
)
def test_a_malformed_external_account_file_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(AuthError) as caught:
        ExternalAccount.from_info(config(**overrides), "creds.json")
    assert field in str(caught.value) and "creds.json" in str(caught.value)


def test_an_aws_source_needs_the_aws_token_type_and_metadata_hosts() -> None:
    aws = {"environment_id": "aws1", "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"}
    with pytest.raises(AuthError, match="subject_token_type"):
        ExternalAccount.from_info(config(credential_source=aws))
    with pytest.raises(AuthError, match=r"credential_source\.url .*not host 'evil.example.com'"):
        ExternalAccount.from_info(config(subject_token_type="urn:ietf:params:aws:token-type:aws4_request", credential_source={**aws, "url": "http://evil.example.com/x"}))


def test_secrets_stay_out_of_reprs() -> None:
    account = ExternalAccount.from_info(
        config(client_id="cid", client_secret="TOPSECRET", credential_source={"url": "https://idp.example.com/t", "headers": {"Authorization": "Bearer HEADERSECRET"}})
    )
    user = ExternalAuthorizedUser.from_info(
        {"type": "external_account_authorized_user", "client_id": "c", "client_secret": "CLIENTSECRET", "refresh_token": "REFRESHSECRET", "token_url": STS}
    )
    shown = repr(account) + repr(user)
    assert "TOPSECRET" not in shown and "HEADERSECRET" not in shown and "CLIENTSECRET" not in shown and "REFRESHSECRET" not in shown


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "refresh_token", "token_url"])
def test_a_malformed_external_authorized_user_file_names_the_field(missing: str) -> None:
    info = {"type": "external_account_authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r", "token_url": STS}
    del info[missing]
    with pytest.raises(AuthError, match=missing):
        ExternalAuthorizedUser.from_info(info, "wf.json")


# ---------------------------------------------------------------------------- the exchange


def test_a_file_subject_token_is_exchanged_per_rfc_8693() -> None:
    account = ExternalAccount.from_info(config(credential_source={"file": "/var/run/token"}, scopes=["https://www.googleapis.com/auth/devstorage.read_only"]))
    runner = Runner(sts_ok, files={"/var/run/token": b"  subject.jwt.token\n"})
    token = runner.run(account.access_token_flow(None, {}, OPTIONS))
    assert token.token == "fed-token" and token.expires_at == NOW + 3600
    (sent,) = runner.sent
    assert sent.method == "POST" and sent.url == STS and dict(sent.headers)["content-type"] == "application/x-www-form-urlencoded"
    assert form(sent) == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "subject_token": "subject.jwt.token",
        "subject_token_type": JWT_TYPE,
        "audience": POOL,
        "scope": "https://www.googleapis.com/auth/devstorage.read_only",
    }
    assert "authorization" not in dict(sent.headers)


def test_a_json_file_field_is_the_subject_token() -> None:
    account = ExternalAccount.from_info(config(credential_source={"file": "/t.json", "format": {"type": "json", "subject_token_field_name": "id_token"}}))
    runner = Runner(sts_ok, files={"/t.json": b'{"id_token": "abc.def.ghi", "other": 1}'})
    runner.run(account.access_token_flow(["s"], {}, OPTIONS))
    assert form(runner.sent[0])["subject_token"] == "abc.def.ghi"
    for bad in (b'{"token": "x"}', b"[1]", b"not json", b'{"id_token": ""}'):
        with pytest.raises(AuthError, match=r"subject token file /t\.json"):
            Runner(sts_ok, files={"/t.json": bad}).run(account.access_token_flow(["s"], {}, OPTIONS))


def test_an_unreadable_subject_token_file_is_an_auth_error() -> None:
    account = ExternalAccount.from_info(config())
    with pytest.raises(AuthError, match=r"credential_source\.file /var/run/token cannot be read"):
        Runner(sts_ok).run(account.access_token_flow(None, {}, OPTIONS))


def test_impersonation_asks_sts_for_cloud_platform_and_iam_for_the_scopes_and_lifetime() -> None:
    account = ExternalAccount.from_info(config(service_account_impersonation_url=IMPERSONATE, service_account_impersonation={"token_lifetime_seconds": 2800}))
    assert account.impersonation_target == SA and account.lifetime == 2800

    def responder(request: HttpRequest) -> HttpResponse:
        if request.url == STS:
            return sts_ok(request)
        return json_response({"accessToken": "sa-token", "expireTime": "2023-11-14T23:13:20Z"})

    runner = Runner(responder, files={"/var/run/token": b"t.t.t"})
    token = runner.run(account.access_token_flow(["scope-a", "scope-b"], {}, OPTIONS))
    assert token.token == "sa-token" and token.expires_at == 1700003600.0
    sts, iam = runner.sent
    assert form(sts)["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert iam.url == IMPERSONATE and dict(iam.headers)["authorization"] == "Bearer fed-token"
    assert json.loads(iam.body) == {"delegates": [], "scope": ["scope-a", "scope-b"], "lifetime": "2800s"}  # type: ignore[arg-type]


def test_workforce_pools_send_the_user_project_unless_the_client_authenticates() -> None:
    runner = Runner(sts_ok, files={"/var/run/token": b"t"})
    account = ExternalAccount.from_info(config(audience=WORKFORCE, workforce_pool_user_project="998877", subject_token_type=SAML))
    runner.run(account.access_token_flow(None, {}, OPTIONS))
    assert json.loads(form(runner.sent[0])["options"]) == {"userProject": "998877"}
    with_client = ExternalAccount.from_info(config(audience=WORKFORCE, workforce_pool_user_project="998877", client_id="cid", client_secret="sec ret"))
    runner = Runner(sts_ok, files={"/var/run/token": b"t"})
    runner.run(with_client.access_token_flow(None, {}, OPTIONS))
    sent = runner.sent[0]
    assert "options" not in form(sent)
    assert dict(sent.headers)["authorization"] == "Basic " + base64.b64encode(b"cid:sec%20ret").decode()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"access_token": "x", "token_type": "N_A", "expires_in": 10}, "token_type"),
        ({"access_token": "x", "token_type": "Bearer", "issued_token_type": "urn:ietf:params:oauth:token-type:id_token"}, "issued_token_type"),
        ({"token_type": "Bearer"}, "access_token"),
        ({"access_token": "x", "token_type": "Bearer", "expires_in": -5}, "expires_in"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_an_sts_reply_that_is_not_a_bearer_access_token_is_refused(reply: Any, message: str) -> None:
    account = ExternalAccount.from_info(config())
    with pytest.raises(AuthError, match=message):
        Runner(lambda r: json_response(reply), files={"/var/run/token": b"t"}).run(account.access_token_flow(None, {}, OPTIONS))


def test_an_sts_refusal_carries_the_oauth_error() -> None:
    account = ExternalAccount.from_info(config())
    refusal = json_response({"error": "invalid_grant", "error_description": "The subject token has expired"}, 400)
    with pytest.raises(AuthError, match="invalid_grant: The subject token has expired"):
        Runner(lambda r: refusal, files={"/var/run/token": b"t"}).run(account.access_token_flow(None, {}, OPTIONS))


def test_url_sourced_tokens_send_the_files_headers_and_refuse_other_origins() -> None:
    account = ExternalAccount.from_info(
        config(credential_source={"url": "http://169.254.169.254/token?x=1", "headers": {"Metadata": "True"}, "format": {"type": "json", "subject_token_field_name": "access_token"}})
    )

    def responder(request: HttpRequest) -> HttpResponse:
        if request.url.startswith("http://169.254.169.254/"):
            return json_response({"access_token": "azure.ad.token"})
        return sts_ok(request)

    runner = Runner(responder)
    runner.run(account.access_token_flow(None, {}, OPTIONS))
    first = runner.sent[0]
    assert first.method == "GET" and dict(first.headers)["Metadata"] == "True"
    assert form(runner.sent[1])["subject_token"] == "azure.ad.token"

    redirect = response(302, b"", {"location": "http://evil.example.com/steal"})
    with pytest.raises(RedirectError):
        Runner(lambda r: redirect).run(account.access_token_flow(None, {}, OPTIONS))


def test_without_impersonation_there_is_no_id_token() -> None:
    with pytest.raises(AuthError, match="cannot issue ID tokens"):
        Runner(sts_ok).run(ExternalAccount.from_info(config()).id_token_flow("https://svc", {}, OPTIONS))


def test_id_tokens_through_impersonation_use_generate_id_token() -> None:
    account = ExternalAccount.from_info(config(service_account_impersonation_url=IMPERSONATE))
    token = fake_jwt(aud="https://svc.run.app", exp=NOW + 3600)

    def responder(request: HttpRequest) -> HttpResponse:
        return sts_ok(request) if request.url == STS else json_response({"token": token})

    runner = Runner(responder, files={"/var/run/token": b"t"})
    assert runner.run(account.id_token_flow("https://svc.run.app", {}, OPTIONS)) == token
    iam = runner.sent[1]
    assert iam.url.endswith(f"serviceAccounts/{SA}:generateIdToken")
    assert json.loads(iam.body) == {"audience": "https://svc.run.app", "delegates": [], "includeEmail": True}  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- executables

EXE = {"executable": {"command": "/opt/bin/get-token --flag 'a b'", "timeout_millis": 5000, "output_file": "/tmp/cache.json"}}


def exe_response(**fields: Any) -> bytes:
    base = {"version": 1, "success": True, "token_type": JWT_TYPE, "id_token": "exe.id.token", "expiration_time": int(NOW) + 600}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


def program(output: bytes, returncode: int | None = 0, timed_out: bool = False) -> Any:
    return lambda request: ExecutableResult(returncode, output, timed_out)


ALLOW = {ALLOW_EXECUTABLES: "1"}


def test_executables_need_the_allow_list_variable() -> None:
    account = ExternalAccount.from_info(config(credential_source=EXE))
    runner = Runner(sts_ok, program=program(exe_response()))
    with pytest.raises(AuthError, match=f"{ALLOW_EXECUTABLES}=1"):
        runner.run(account.access_token_flow(None, {ALLOW_EXECUTABLES: "true"}, OPTIONS))
    assert runner.runs == [] and runner.sent == []


def test_an_executable_runs_with_googles_variables_and_its_token_is_exchanged() -> None:
    account = ExternalAccount.from_info(config(credential_source=EXE, service_account_impersonation_url=IMPERSONATE))

    def responder(request: HttpRequest) -> HttpResponse:
        return sts_ok(request) if request.url == STS else json_response({"accessToken": "sa", "expireTime": "2030-01-01T00:00:00Z"})

    runner = Runner(responder, program=program(exe_response()))
    runner.run(account.access_token_flow(None, ALLOW, OPTIONS))
    (request,) = runner.runs
    assert request.argv == ("/opt/bin/get-token", "--flag", "a b") and request.timeout == 5.0
    assert dict(request.env) == {
        "GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE": POOL,
        "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE": JWT_TYPE,
        "GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE": "0",
        "GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL": SA,
        "GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE": "/tmp/cache.json",
    }
    assert form(runner.sent[0])["subject_token"] == "exe.id.token"


def test_a_valid_cached_output_file_saves_running_the_program() -> None:
    account = ExternalAccount.from_info(config(credential_source=EXE))
    runner = Runner(sts_ok, files={"/tmp/cache.json": exe_response(id_token="cached.tok.en")}, program=program(exe_response()))
    runner.run(account.access_token_flow(None, ALLOW, OPTIONS))
    assert runner.runs == [] and form(runner.sent[0])["subject_token"] == "cached.tok.en"


@pytest.mark.parametrize(
    "cached",
    [
        exe_response(expiration_time=int(NOW) - 1),
        exe_response(expiration_time=None),
        exe_response(success=False, code="401", message="expired session", id_token=None),
        # The program's claimed expiry is a lie: the JWT itself died already.
        exe_response(id_token=fake_jwt(exp=NOW - 60), expiration_time=int(NOW) + 3600),
    ],
)
def test_a_stale_cached_output_runs_the_program_again(cached: bytes) -> None:
    account = ExternalAccount.from_info(config(credential_source=EXE))
    runner = Runner(sts_ok, files={"/tmp/cache.json": cached}, program=program(exe_response(id_token="fresh.tok.en")))
    runner.run(account.access_token_flow(None, ALLOW, OPTIONS))
    assert len(runner.runs) == 1 and form(runner.sent[0])["subject_token"] == "fresh.tok.en"


@pytest.mark.parametrize("cached", [b"not json", exe_response(version=2), exe_response(token_type="urn:x"), b"[]"])
def test_a_malformed_cached_output_is_an_error(cached: bytes) -> None:
    account = ExternalAccount.from_info(config(credential_source=EXE))
    runner = Runner(sts_ok, files={"/tmp/cache.json": cached}, program=program(exe_response()))
    with pytest.raises(AuthError, match="executable /opt/bin/get-token"):
        runner.run(account.access_token_flow(None, ALLOW, OPTIONS))
    assert runner.runs == [] and runner.sent == []


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (ExecutableResult(None, b"", timed_out=True), "did not finish within 5000 ms"),
        (ExecutableResult(3, exe_response()), "exited with status 3"),
        (ExecutableResult(0, b""), "printed nothing"),
        (ExecutableResult(0, b"{oops"), "not JSON"),
        (ExecutableResult(0, exe_response(success=False, code="403", message="not allowed", id_token=None)), "failed: 403: not allowed"),
        (ExecutableResult(0, exe_response(expiration_time=None)), "expiration_time, which is required"),
        (ExecutableResult(0, exe_response(expiration_time=int(NOW) - 5)), "expired"),
        (ExecutableResult(0, exe_response(id_token=fake_jwt(exp=NOW - 1), expiration_time=int(NOW) + 9999)), "expired"),
        (ExecutableResult(0, exe_response(token_type=SAML, saml_response="PHNhbWw+", id_token=None)), "does not match"),
        (ExecutableResult(0, exe_response(version=None)), "version"),
    ],
)
def test_a_failing_or_lying_program_is_an_auth_error(result: ExecutableResult, message: str) -> None:
    account = ExternalAccount.from_info(config(credential_source=EXE))
    runner = Runner(sts_ok, program=lambda request: result)
    with pytest.raises(AuthError, match=message):
        runner.run(account.access_token_flow(None, ALLOW, OPTIONS))
    assert runner.sent == []


def test_a_program_that_cannot_start_is_an_auth_error() -> None:
    def missing(request: Any) -> Any:
        raise FileNotFoundError(2, "No such file or directory")

    account = ExternalAccount.from_info(config(credential_source={"executable": {"command": "/nope"}}))
    with pytest.raises(AuthError, match="could not be started"):
        Runner(sts_ok, program=missing).run(account.access_token_flow(None, ALLOW, OPTIONS))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=6), max_leaves=12))
@settings(max_examples=60)
def test_any_executable_answer_is_a_token_or_an_auth_error(info: Any) -> None:
    try:
        token, _expiry = parse_executable_response(info, NOW, need_expiry=False, expected_type=JWT_TYPE, what="executable")
    except AuthError:
        return
    assert isinstance(token, str) and token


@given(st.text(max_size=60))
def test_jwt_expiry_reads_any_string_without_failing(text: str) -> None:
    value = jwt_expiry(text)
    assert value is None or isinstance(value, float)


# ---------------------------------------------------------------------------- AWS

AWS_SOURCE = {
    "environment_id": "aws1",
    "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
    "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
    "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15",
    "imdsv2_session_token_url": "http://169.254.169.254/latest/api/token",
}


def aws_account() -> ExternalAccount:
    return ExternalAccount.from_info(config(subject_token_type=AWS_TYPE, credential_source=AWS_SOURCE))


def botocore_signature(subject: str, secret: str, token: str | None) -> tuple[str, str]:
    """Our Authorization header and the one botocore's SigV4 signer computes for the same
    request at the same time."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = json.loads(unquote(subject))
    headers = {h["key"]: h["value"] for h in request["headers"]}
    ours = headers.pop("authorization")
    key_id = ours.split("Credential=")[1].split("/")[0]
    region = ours.split("/")[2]
    aws = AWSRequest(method=request["method"], url=request["url"], headers=headers, data=b"")
    aws.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(key_id, secret, token), "sts", region)
    canonical = signer.canonical_request(aws)
    theirs = signer.signature(signer.string_to_sign(aws, canonical), aws)
    return ours, f"AWS4-HMAC-SHA256 Credential={signer.scope(aws)}, SignedHeaders={signer.signed_headers(signer.headers_to_sign(aws))}, Signature={theirs}"


def test_aws_credentials_from_the_environment_skip_the_metadata_service() -> None:
    env = {"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env/secret+key", "AWS_SESSION_TOKEN": "sess=="}
    runner = Runner(sts_ok)
    runner.run(aws_account().access_token_flow(None, env, OPTIONS))
    (sent,) = runner.sent
    fields = form(sent)
    assert fields["subject_token_type"] == AWS_TYPE
    request = json.loads(unquote(fields["subject_token"]))
    assert request["url"] == "https://sts.eu-west-3.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15" and request["method"] == "POST"
    headers = {h["key"]: h["value"] for h in request["headers"]}
    assert headers["x-goog-cloud-target-resource"] == POOL and headers["x-amz-security-token"] == "sess=="
    assert headers["x-amz-date"] == time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(NOW))
    ours, theirs = botocore_signature(fields["subject_token"], "env/secret+key", "sess==")
    assert ours == theirs


def test_aws_imdsv2_session_region_role_and_credentials() -> None:
    def responder(request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.url).path
        headers = dict(request.headers)
        if path == "/latest/api/token":
            assert request.method == "PUT" and headers["x-aws-ec2-metadata-token-ttl-seconds"] == "300"
            return response(200, b"imds-session")
        if path.startswith("/latest/meta-data/"):
            assert headers["x-aws-ec2-metadata-token"] == "imds-session"
            if path.endswith("availability-zone"):
                return response(200, b"ap-south-1b")
            if path.endswith("security-credentials"):
                return response(200, b"my-role\n")
            assert path.endswith("/security-credentials/my-role")
            return json_response({"AccessKeyId": "AKIDROLE", "SecretAccessKey": "role-secret", "Token": "role-token"})
        return sts_ok(request)

    runner = Runner(responder)
    runner.run(aws_account().access_token_flow(None, {}, OPTIONS))
    assert [r.method for r in runner.sent] == ["PUT", "GET", "GET", "GET", "POST"]
    subject = form(runner.sent[-1])["subject_token"]
    assert "sts.ap-south-1.amazonaws.com" in unquote(subject)
    ours, theirs = botocore_signature(subject, "role-secret", "role-token")
    assert ours == theirs


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"zone": b"us-east-1/../x"}, "not an availability zone|not a region"),
        ({"role": b"../admin"}, "not a role name"),
        ({"creds": b'{"AccessKeyId": "A"}'}, "lacks SecretAccessKey"),
        ({"creds": b"<html>"}, "not JSON"),
        ({"status": 404}, "HTTP 404"),
    ],
)
def test_bad_metadata_answers_are_auth_errors(answers: dict[str, Any], message: str) -> None:
    def responder(request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.url).path
        if path == "/latest/api/token":
            return response(answers.get("status", 200), b"tok")
        if path.endswith("availability-zone"):
            return response(200, answers.get("zone", b"us-east-1a"))
        if path.endswith("security-credentials"):
            return response(200, answers.get("role", b"r"))
        return response(200, answers.get("creds", b"{}"))

    with pytest.raises(AuthError, match=message):
        Runner(responder).run(aws_account().access_token_flow(None, {}, OPTIONS))


@given(
    st.lists(st.tuples(st.text(alphabet="abcXYZ09-_.~ %/+=&", max_size=6), st.text(alphabet="abcXYZ09-_.~ %/+=", max_size=6)), max_size=4),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/+", min_size=1, max_size=20),
)
@settings(max_examples=40)
def test_sigv4_signatures_match_botocore_for_any_query(pairs: list[tuple[str, str]], secret: str) -> None:
    from urllib.parse import quote

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs if k)
    url = "https://sts.us-east-1.amazonaws.com/?" + query if query else "https://sts.us-east-1.amazonaws.com/"
    creds = AwsCredentials("AKID", secret)
    signed = sigv4_sign("POST", url, {"x-test": "a  b"}, b"", region="us-east-1", service="sts", creds=creds, amz_date="20240101T000000Z")
    headers = {k: v for k, v in signed.items() if k != "authorization"}
    aws = AWSRequest(method="POST", url=url, headers=headers, data=b"")
    aws.context["timestamp"] = "20240101T000000Z"
    signer = SigV4Auth(Credentials("AKID", secret), "sts", "us-east-1")
    expected = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    assert signed["authorization"].endswith("Signature=" + expected), canonical_query(urlsplit(url).query)


def test_the_subject_token_is_googles_serialized_request_shape() -> None:
    subject = signed_caller_identity("https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15", "us-east-2", AwsCredentials("AK", "SK"), POOL, NOW)
    request = json.loads(unquote(subject))
    assert set(request) == {"url", "method", "headers", "body"}
    assert [h["key"] for h in request["headers"]] == ["authorization", "host", "x-amz-date", "x-goog-cloud-target-resource"]
    assert "SignedHeaders=host;x-amz-date;x-goog-cloud-target-resource," in request["headers"][0]["value"]


# ---------------------------------------------------------------------------- external_account_authorized_user


def test_external_authorized_user_refreshes_with_basic_auth_and_keeps_a_new_refresh_token() -> None:
    user = ExternalAuthorizedUser.from_info(
        {"type": "external_account_authorized_user", "audience": WORKFORCE, "client_id": "cid", "client_secret": "csec", "refresh_token": "rt1",
         "token_url": "https://sts.googleapis.com/v1/oauthtoken"}
    )
    runner = Runner(lambda r: json_response({"access_token": "wf", "expires_in": 3600, "refresh_token": "rt2"}))
    token = runner.run(user.access_token_flow(OPTIONS))
    assert token.token == "wf" and user.refresh_token == "rt2"
    sent = runner.sent[0]
    assert form(sent) == {"grant_type": "refresh_token", "refresh_token": "rt1"}
    assert dict(sent.headers)["authorization"] == "Basic " + base64.b64encode(b"cid:csec").decode()


# ---------------------------------------------------------------------------- ID tokens


def test_check_id_token_refuses_another_audience_and_expired_tokens() -> None:
    assert check_id_token(fake_jwt(aud="a", exp=NOW + 10), "a", NOW, "t").expires_at == NOW + 10
    assert check_id_token(fake_jwt(aud=["x", "a"], exp=NOW + 10), "a", NOW, "t").token
    with pytest.raises(AuthError, match="audience is 'b', not 'a'"):
        check_id_token(fake_jwt(aud="b", exp=NOW + 10), "a", NOW, "t")
    with pytest.raises(AuthError, match="already expired"):
        check_id_token(fake_jwt(aud="a", exp=NOW - 1), "a", NOW, "t")
    with pytest.raises(AuthError, match="no numeric exp"):
        check_id_token(fake_jwt(aud="a"), "a", NOW, "t")
    with pytest.raises(AuthError, match="not a JWT"):
        check_id_token("opaque", "a", NOW, "t")


def test_a_service_account_key_asks_for_an_id_token_with_target_audience() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    creds = {"client_email": SA, "private_key": pem, "private_key_id": "k1", "scopes": ["ignored"]}
    issued = fake_jwt(aud="https://svc", exp=NOW + 3600)
    runner = Runner(lambda r: json_response({"id_token": issued}))
    token = runner.run(service_account_id_token_flow(creds, "https://svc", "https://oauth2.googleapis.com/token", OPTIONS))
    assert token.token == issued and token.expires_at == NOW + 3600
    fields = form(runner.sent[0])
    assert fields["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(fields["assertion"], key.public_key(), algorithms=["RS256"], audience="https://oauth2.googleapis.com/token", options={"verify_exp": False})
    assert claims["target_audience"] == "https://svc" and claims["iss"] == claims["sub"] == SA and "scope" not in claims
    assert claims["exp"] - claims["iat"] == 3600


# ---------------------------------------------------------------------------- device flow

DEVICE_URL = "https://oauth2.googleapis.com/device/code"
CLIENT = {"client_id": "tv-client", "client_secret": "tv-secret"}


def device_code(**overrides: Any) -> HttpResponse:
    body = {"device_code": "DC", "user_code": "ABCD-EFGH", "verification_url": "https://www.google.com/device", "expires_in": 1800, "interval": 5}
    body.update(overrides)
    return json_response({k: v for k, v in body.items() if v is not None})


def test_the_device_code_request_and_reply() -> None:
    runner = Runner(lambda r: device_code())
    code = runner.run(device_code_flow(CLIENT, ["email", "profile"], DEVICE_URL, OPTIONS))
    assert code.user_code == "ABCD-EFGH" and code.verification_url == "https://www.google.com/device" and code.interval == 5
    assert code.deadline == runner.monotonic + 1800 and "DC" not in repr(code)
    assert form(runner.sent[0]) == {"client_id": "tv-client", "scope": "email profile"}
    assert "www.google.com/device" in code.prompt() and "ABCD-EFGH" in code.prompt()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"device_code": None}, "device_code"),
        ({"user_code": 5}, "user_code"),
        ({"verification_url": None}, "verification_uri"),
        ({"verification_url": "http://evil.example.com/device"}, "https"),
        ({"expires_in": 0}, "expires_in"),
        ({"expires_in": "soon"}, "expires_in"),
        ({"interval": -1}, "interval"),
    ],
)
def test_a_broken_device_code_reply_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(AuthError, match=message):
        Runner(lambda r: device_code(**overrides)).run(device_code_flow(CLIENT, ["email"], DEVICE_URL, OPTIONS))


def code_for(interval: int = 5, expires_in: int = 1800) -> DeviceCode:
    return DeviceCode(user_code="ABCD-EFGH", verification_url="https://www.google.com/device", expires_in=expires_in, interval=interval, deadline=float(expires_in), device_code="DC", scopes=("email",))


def polling(*answers: HttpResponse) -> Runner:
    queue = list(answers)
    return Runner(lambda r: queue.pop(0))


def oauth_error(status: int, error: str) -> HttpResponse:
    return json_response({"error": error, "error_description": error.replace("_", " ")}, status)


def test_polling_honours_interval_and_slow_down_until_approval() -> None:
    runner = polling(
        oauth_error(428, "authorization_pending"),
        oauth_error(400, "slow_down"),
        oauth_error(428, "authorization_pending"),
        json_response({"access_token": "at", "refresh_token": "rt", "expires_in": 3599, "token_type": "Bearer", "scope": "email"}),
    )
    creds = runner.run(device_token_flow(code_for(), CLIENT, Endpoints(), OPTIONS))
    assert creds["access_token"] == "at" and creds["refresh_token"] == "rt" and creds["scopes"] == ["email"]
    assert runner.slept == [5, 5, 10, 10]
    assert form(runner.sent[0]) == {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "DC", "client_id": "tv-client", "client_secret": "tv-secret"}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (oauth_error(403, "access_denied"), "denied"),
        (oauth_error(400, "expired_token"), "expired"),
        (oauth_error(401, "invalid_client"), "HTTP 401 \\(invalid_client"),
    ],
)
def test_denial_expiry_and_errors_end_polling(answer: HttpResponse, message: str) -> None:
    runner = polling(oauth_error(428, "authorization_pending"), answer)
    with pytest.raises(AuthError, match=message):
        runner.run(device_token_flow(code_for(), CLIENT, Endpoints(), OPTIONS))
    assert len(runner.sent) == 2


def test_polling_stops_at_the_codes_deadline() -> None:
    runner = Runner(lambda r: oauth_error(428, "authorization_pending"))
    with pytest.raises(AuthError, match="expired before the user approved"):
        runner.run(device_token_flow(code_for(interval=5, expires_in=22), CLIENT, Endpoints(), OPTIONS))
    assert len(runner.sent) == 4 and sum(runner.slept) <= 22
