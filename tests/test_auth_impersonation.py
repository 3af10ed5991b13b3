"""Application Default Credentials of type ``impersonated_service_account`` as pure flows,
driven by hand (no event loop, no network): parsing and validating the file, the source
token, the IAM Credentials ``generateAccessToken`` request and its reply, error mapping
(docs/protocol.md §6.7)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from aiogoogle._http import HttpRequest, HttpResponse
from aiogoogle.auth import _flows as flows
from aiogoogle.auth.creds import ServiceAccountCreds, UserCreds
from aiogoogle.auth.managers import ServiceAccountManager
from aiogoogle.excs import AuthError

from .test_auth_flows import EP, NOW, OPTIONS, Runner, form, pem, reply

TARGET = "target@proj.iam.gserviceaccount.com"
IAM_URL = f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
CLOUD = "https://www.googleapis.com/auth/cloud-platform"
USER_SOURCE = {"type": "authorized_user", "client_id": "cid", "client_secret": "cs-SECRET", "refresh_token": "1//rt-SECRET", "quota_project_id": "src-qp"}
DELEGATES = ["projects/-/serviceAccounts/middle@proj.iam.gserviceaccount.com"]


@pytest.fixture(scope="module")
def sa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sa_source(key: Any) -> dict[str, Any]:
    return {"type": "service_account", "client_email": "src@proj.iam.gserviceaccount.com", "private_key": pem(key), "private_key_id": "k1", "token_uri": "http://idp.test/token", "scopes": ["other"]}


def adc_file(source: Any = None, **over: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"type": "impersonated_service_account", "source_credentials": source if source is not None else dict(USER_SOURCE), "service_account_impersonation_url": IAM_URL, "delegates": DELEGATES}
    info.update(over)
    return {k: v for k, v in info.items() if v is not None}


def parse(info: Any, env: dict[str, str] | None = None) -> flows.DefaultCreds:
    runner = Runner(files={"/adc.json": json.dumps(info).encode()})
    return runner.run(flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/adc.json", **(env or {})}, EP, OPTIONS))  # type: ignore[no-any-return]


def iam_ok(token: str = "ya29.impersonated", expire: Any = "2027-01-15T09:00:00Z") -> HttpResponse:
    return reply(200, {"accessToken": token, "expireTime": expire})


def responder(iam: Callable[[HttpRequest], HttpResponse] | HttpResponse | list[HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """The token endpoint answers refreshes and JWT grants with ``ya29.source``; the IAM
    URL answers with ``iam`` (a reply, a list of replies in order, or a function)."""
    queue = list(iam) if isinstance(iam, list) else None

    def respond(req: HttpRequest) -> HttpResponse:
        if req.url == "http://idp.test/token":
            return reply(200, {"access_token": "ya29.source", "expires_in": 3599, "token_type": "Bearer"})
        assert req.url == IAM_URL, req.url
        if queue is not None:
            return queue.pop(0)
        return iam(req) if callable(iam) else iam

    return respond


def body(req: HttpRequest) -> Any:
    assert isinstance(req.body, bytes)
    return json.loads(req.body)


# ------------------------------------------------------------------------ parsing


def test_parse_with_an_authorized_user_source() -> None:
    found = parse(adc_file(quota_project_id="file-qp"), {"GOOGLE_CLOUD_PROJECT": "gp"})
    assert found.kind == "impersonated_service_account" and found.quota_project_id == "file-qp" and found.project_id == "gp"
    imp = found.creds
    assert isinstance(imp, flows.Impersonation) and imp.source_kind == "authorized_user" and isinstance(imp.source, UserCreds)
    assert imp.target == TARGET and imp.url == IAM_URL and imp.delegates == tuple(DELEGATES) and imp.scopes is None
    assert imp.source.refresh_token == "1//rt-SECRET" and imp.source.token_uri == EP.token and imp.source.type == "authorized_user"
    shown = repr(found) + repr(imp) + str(imp)
    assert "SECRET" not in shown and TARGET in repr(imp)


def test_parse_with_a_service_account_source_scopes_and_no_delegates(sa_key: Any) -> None:
    found = parse(adc_file(sa_source(sa_key), delegates=None, scopes="a b"), {"GOOGLE_CLOUD_QUOTA_PROJECT": "env-qp"})
    imp = found.creds
    assert imp.source_kind == "service_account" and isinstance(imp.source, ServiceAccountCreds) and imp.source.client_email == "src@proj.iam.gserviceaccount.com"
    assert imp.delegates == () and imp.scopes == ("a", "b") and found.quota_project_id == "env-qp"
    assert "PRIVATE KEY" not in repr(found) + repr(imp)


def test_an_http_url_is_accepted_for_loopback_test_servers_only() -> None:
    for host in ("127.0.0.1:8080", "localhost", "[::1]:9"):
        url = f"http://{host}/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
        assert parse(adc_file(service_account_impersonation_url=url)).creds.target == TARGET
    encoded = "https://iam.test/v1/projects/-/serviceAccounts/sa%40p.iam.gserviceaccount.com:generateAccessToken"
    assert parse(adc_file(service_account_impersonation_url=encoded)).creds.target == "sa@p.iam.gserviceaccount.com"


_BAD: list[tuple[dict[str, Any], str]] = [
    ({"source_credentials": None}, "lacks source_credentials"),
    ({"source_credentials": "x"}, "source_credentials is not a JSON object"),
    ({"source_credentials": {"type": "external_account_authorized_user"}}, "source_credentials has type 'external_account_authorized_user'; supported: authorized_user, service_account"),
    ({"source_credentials": {"client_id": "c"}}, "source_credentials has type None"),
    ({"source_credentials": {**USER_SOURCE, "refresh_token": None}}, r"source_credentials \(authorized_user\) lacks refresh_token"),
    ({"source_credentials": {**USER_SOURCE, "client_id": 7}}, r"source_credentials \(authorized_user\): client_id must be a string"),
    ({"source_credentials": {"type": "service_account", "client_email": "e@p"}}, r"source_credentials \(service_account\) lacks private_key"),
    ({"service_account_impersonation_url": None}, "lacks service_account_impersonation_url"),
    ({"service_account_impersonation_url": 12}, "service_account_impersonation_url must be a string"),
    ({"service_account_impersonation_url": "http://evil.test/v1/projects/-/serviceAccounts/SECRETPATH:generateAccessToken"}, "must use https \\(got http to host 'evil.test'\\)"),
    ({"service_account_impersonation_url": "ftp://iam.test/serviceAccounts/a:generateAccessToken"}, "not an absolute https URL"),
    ({"service_account_impersonation_url": "/v1/projects/-/serviceAccounts/a:generateAccessToken"}, "not an absolute https URL"),
    ({"service_account_impersonation_url": "https://[::1/serviceAccounts/a:generateAccessToken"}, "is not a valid URL"),
    ({"service_account_impersonation_url": "https://user:SECRETPATH@iam.test/v1/projects/-/serviceAccounts/a:generateAccessToken"}, "must not carry a user name or password"),
    ({"service_account_impersonation_url": "https://iam.test/v1/projects/-/serviceAccounts/a:signJwt"}, "does not end in /serviceAccounts/<email>:generateAccessToken"),
    ({"service_account_impersonation_url": "https://iam.test/v1/projects/-/serviceAccounts/:generateAccessToken"}, "names no service account"),
    ({"delegates": "projects/-/serviceAccounts/x"}, "delegates must be a list of strings"),
    ({"delegates": [1]}, "delegates must be a list of strings"),
    ({"scopes": {"a": 1}}, "scopes must be a list of strings"),
]


@pytest.mark.parametrize(("over", "message"), _BAD)
def test_malformed_files_are_auth_errors_naming_file_and_field(over: dict[str, Any], message: str) -> None:
    info = adc_file()
    for key, value in over.items():
        if value is None:
            info.pop(key, None)
        else:
            info[key] = value
    with pytest.raises(AuthError, match=message) as caught:
        parse(info)
    text = str(caught.value)
    assert text.startswith("GOOGLE_APPLICATION_CREDENTIALS: the impersonated_service_account file /adc.json")
    assert "SECRET" not in text


def test_unknown_types_list_the_supported_ones() -> None:
    with pytest.raises(
        AuthError,
        match="type 'gdch_service_account'; supported: service_account, authorized_user, impersonated_service_account, "
        "external_account, external_account_authorized_user",
    ):
        parse({"type": "gdch_service_account"})


# ------------------------------------------------------------------------ the token flow


def imp_of(info: dict[str, Any]) -> flows.Impersonation:
    imp = parse(info).creds
    assert isinstance(imp, flows.Impersonation)
    return imp


def test_user_source_refresh_then_generate_access_token() -> None:
    runner = Runner(responder(iam_ok()))
    token = runner.run(flows.impersonated_token_flow(imp_of(adc_file()), EP, OPTIONS))
    refresh, iam = runner.sent
    assert form(refresh)["grant_type"] == "refresh_token" and form(refresh)["refresh_token"] == "1//rt-SECRET" and form(refresh)["client_id"] == "cid"
    headers = dict(iam.headers)
    assert iam.method == "POST" and iam.url == IAM_URL
    assert headers["authorization"] == "Bearer ya29.source" and headers["content-type"] == "application/json"
    assert headers["x-goog-user-project"] == "src-qp"
    assert body(iam) == {"delegates": DELEGATES, "scope": [CLOUD], "lifetime": "3600s"}
    assert token.token == "ya29.impersonated" and token.expires_at == NOW + 3600  # 2027-01-15T09:00:00Z
    assert "ya29" not in repr(token)


def test_service_account_source_asks_for_cloud_platform_and_scopes_pass_through(sa_key: Any) -> None:
    runner = Runner(responder(iam_ok()))
    runner.run(flows.impersonated_token_flow(imp_of(adc_file(sa_source(sa_key), delegates=None)), EP, OPTIONS, ["https://www.googleapis.com/auth/devstorage.read_only"]))
    grant, iam = runner.sent
    assertion = form(grant)["assertion"]
    claims = jwt.decode(assertion, sa_key.public_key(), algorithms=["RS256"], audience="http://idp.test/token", options={"verify_exp": False, "verify_iat": False})
    assert claims["iss"] == "src@proj.iam.gserviceaccount.com" and claims["scope"] == CLOUD and claims["iat"] == int(NOW)
    assert body(iam) == {"delegates": [], "scope": ["https://www.googleapis.com/auth/devstorage.read_only"], "lifetime": "3600s"}
    assert "x-goog-user-project" not in dict(iam.headers)


def test_the_files_scopes_are_the_default() -> None:
    runner = Runner(responder(iam_ok()))
    runner.run(flows.impersonated_token_flow(imp_of(adc_file(scopes=["s1", "s2"])), EP, OPTIONS))
    assert body(runner.sent[1])["scope"] == ["s1", "s2"]


@pytest.mark.parametrize(
    ("expire", "expected"),
    [
        ("2027-01-15T09:00:00Z", NOW + 3600),
        ("2027-01-15T09:00:00.123456789Z", NOW + 3600.123456),
        ("2027-01-15t09:00:00z", NOW + 3600),
        ("2027-01-15T10:00:00+01:00", NOW + 3600),
        ("2027-01-15T09:00:00", NOW + 3600),  # no offset: read as UTC
    ],
)
def test_expire_time_is_rfc_3339(expire: str, expected: float) -> None:
    token = Runner(responder(iam_ok(expire=expire))).run(flows.impersonated_token_flow(imp_of(adc_file()), EP, OPTIONS))
    assert token.expires_at == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("reply_body", "message"),
    [
        ({"expireTime": "2027-01-15T09:00:00Z"}, "the reply has no accessToken"),
        ({"accessToken": "", "expireTime": "2027-01-15T09:00:00Z"}, "the reply has no accessToken"),
        ({"accessToken": "ya29.x"}, "expireTime is missing or not an RFC 3339 time"),
        ({"accessToken": "ya29.x", "expireTime": "tomorrow"}, "expireTime is missing or not an RFC 3339 time"),
        ({"accessToken": "ya29.x", "expireTime": 1800003600}, "expireTime is missing or not an RFC 3339 time"),
        (["not", "an", "object"], "the reply is not a JSON object"),
    ],
)
def test_a_malformed_reply_is_an_auth_error(reply_body: Any, message: str) -> None:
    with pytest.raises(AuthError, match=message) as caught:
        Runner(responder(reply(200, reply_body))).run(flows.impersonated_token_flow(imp_of(adc_file()), EP, OPTIONS))
    assert f"impersonation of service account {TARGET}" in str(caught.value) and "ya29" not in str(caught.value)


PERMISSION_DENIED = {
    "error": {
        "code": 403,
        "message": "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
        "status": "PERMISSION_DENIED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "iam.googleapis.com",
                "metadata": {"permission": "iam.serviceAccounts.getAccessToken"},
            }
        ],
    }
}


def test_permission_denied_is_an_auth_error_with_googles_message_and_no_token() -> None:
    runner = Runner(responder(reply(403, PERMISSION_DENIED)))
    with pytest.raises(AuthError) as caught:
        runner.run(flows.impersonated_token_flow(imp_of(adc_file()), EP, OPTIONS))
    err = caught.value
    text = str(err)
    assert text.startswith(f"impersonation of service account {TARGET} failed: HTTP 403 IAM_PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied")
    assert "roles/iam.serviceAccountTokenCreator" in text
    assert err.status_code == 403 and err.status == "PERMISSION_DENIED" and err.reason == "IAM_PERMISSION_DENIED"
    assert "ya29.source" not in text + repr(err) and "SECRET" not in text
    assert len(runner.sent) == 2  # a 403 is not retried


def test_iam_5xx_is_retried_and_a_failing_source_stops_before_iam() -> None:
    runner = Runner(responder([reply(503, {"error": {"code": 503, "message": "unavailable", "status": "UNAVAILABLE"}}), iam_ok()]))
    assert runner.run(flows.impersonated_token_flow(imp_of(adc_file()), EP, OPTIONS)).token == "ya29.impersonated"
    assert [r.url for r in runner.sent] == ["http://idp.test/token", IAM_URL, IAM_URL]

    def revoked(req: HttpRequest) -> HttpResponse:
        assert req.url == "http://idp.test/token", "no IAM request without a source token"
        return reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})

    with pytest.raises(AuthError, match="refresh of user credentials failed: HTTP 400 invalid_grant"):
        Runner(revoked).run(flows.impersonated_token_flow(imp_of(adc_file()), EP, OPTIONS))


def test_the_service_account_manager_dispatches_detected_impersonation() -> None:
    manager = ServiceAccountManager(endpoints=EP, environ={})
    manager.default_creds = parse(adc_file())
    runner = Runner(responder(iam_ok()))
    token = runner.run(manager.token_flow({"scopes": ["https://www.googleapis.com/auth/drive"]}))
    assert token.token == "ya29.impersonated" and body(runner.sent[1])["scope"] == ["https://www.googleapis.com/auth/drive"]
    runner = Runner(responder(iam_ok()))
    runner.run(manager.token_flow(None))
    assert body(runner.sent[1])["scope"] == [CLOUD]


@given(st.integers(0, 2**33))
def test_rfc3339_reads_what_to_iso_writes(ts: int) -> None:
    assert flows.rfc3339_ts(flows.to_iso(ts)) == float(ts)
