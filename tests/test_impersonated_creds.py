"""Impersonation as credentials of their own (aiogoogle.auth._impersonate): the request to
IAM Credentials carries the delegates, scopes and lifetime asked for; ID tokens of the
target come from generateIdToken; malformed values are AuthErrors naming the field."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from aiogoogle._call import CallOptions
from aiogoogle._http import HttpRequest, HttpResponse
from aiogoogle.auth._adc import AuthorizedUser, source_for_creds
from aiogoogle.auth._idtoken import id_token_flow
from aiogoogle.auth._impersonate import ImpersonatedCreds, ImpersonatedSource
from aiogoogle.auth.endpoints import Endpoints
from aiogoogle.auth.sources import TokenRequest
from aiogoogle.excs import AuthError
from aiogoogle.retry import RetryPolicy

from .flowtools import FlowRunner, response
from .test_external_account import NOW, fake_jwt

OPTIONS = CallOptions(retry=RetryPolicy(max_attempts=1))
TARGET = "target@proj.iam.gserviceaccount.com"
USER = {"type": "authorized_user", "client_id": "cid", "client_secret": "csecret", "refresh_token": "1//SECRET-RT", "token_uri": "https://oauth2.googleapis.com/token"}


def json_response(obj: Any, status: int = 200) -> HttpResponse:
    return response(status, json.dumps(obj).encode(), {"content-type": "application/json"})


def responder(request: HttpRequest) -> HttpResponse:
    if request.url == USER["token_uri"]:
        return json_response({"access_token": "source-token", "expires_in": 3600, "token_type": "Bearer"})
    if request.url.endswith(":generateAccessToken"):
        return json_response({"accessToken": "target-token", "expireTime": "2023-11-14T23:13:20Z"})
    return json_response({"token": fake_jwt(aud="https://svc.example.com", exp=NOW + 3600)})


def test_the_object_is_gclouds_dict_and_hides_secrets() -> None:
    creds = ImpersonatedCreds(USER, TARGET, delegates=["mid@proj.iam.gserviceaccount.com"], scopes=["s1"], lifetime=600)
    assert creds["type"] == "impersonated_service_account"
    assert creds["service_account_impersonation_url"] == f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{TARGET}:generateAccessToken"
    assert "SECRET" not in repr(creds) and "csecret" not in repr(creds)
    assert isinstance(source_for_creds(creds), ImpersonatedSource) and isinstance(source_for_creds(USER), AuthorizedUser)


def test_delegates_scopes_lifetime_and_quota_project_reach_iam() -> None:
    creds = ImpersonatedCreds({**USER, "quota_project_id": "billing"}, TARGET, delegates=["mid@proj.iam.gserviceaccount.com"], scopes=["s1"], lifetime=600)
    runner = FlowRunner(responder, clock=NOW)
    token = runner.run(ImpersonatedSource(creds).token_flow(TokenRequest(("s2", "s3")), Endpoints(), OPTIONS))
    assert token.token == "target-token"
    refresh, iam = runner.sent
    assert dict(parse_qsl(refresh.body.decode()))["grant_type"] == "refresh_token"  # type: ignore[union-attr]
    assert dict(iam.headers)["authorization"] == "Bearer source-token" and dict(iam.headers)["x-goog-user-project"] == "billing"
    assert json.loads(iam.body) == {  # type: ignore[arg-type]
        "delegates": ["projects/-/serviceAccounts/mid@proj.iam.gserviceaccount.com"],
        "scope": ["s2", "s3"],
        "lifetime": "600s",
    }
    # Without scopes in the request, the credentials' own.
    runner = FlowRunner(responder, clock=NOW)
    runner.run(ImpersonatedSource(creds).token_flow(TokenRequest(), Endpoints(), OPTIONS))
    assert json.loads(runner.sent[1].body)["scope"] == ["s1"]  # type: ignore[arg-type]


def test_id_tokens_of_the_target_come_from_generate_id_token() -> None:
    creds = ImpersonatedCreds(USER, TARGET)
    runner = FlowRunner(responder, clock=NOW)
    token = runner.run(id_token_flow(ImpersonatedSource(creds), "https://svc.example.com", Endpoints(), OPTIONS))
    assert token.expires_at == NOW + 3600
    assert runner.sent[1].url.endswith(f"serviceAccounts/{TARGET}:generateIdToken")
    assert json.loads(runner.sent[1].body) == {"audience": "https://svc.example.com", "delegates": [], "includeEmail": True}  # type: ignore[arg-type]
    with pytest.raises(AuthError, match=r"audience is 'https://svc\.example\.com', not 'https://other'"):
        FlowRunner(responder, clock=NOW).run(id_token_flow(ImpersonatedSource(creds), "https://other", Endpoints(), OPTIONS))


@pytest.mark.parametrize(
    ("creds", "message"),
    [
        (ImpersonatedCreds(USER, TARGET, lifetime=0), "lifetime"),
        (ImpersonatedCreds(USER, TARGET, lifetime=50000), "lifetime"),
        (ImpersonatedCreds(USER, TARGET, lifetime="forever"), "lifetime"),  # type: ignore[arg-type]
        (ImpersonatedCreds(None, TARGET), "source_credentials"),
        (ImpersonatedCreds({"type": "external_account"}, TARGET), "source_credentials has type 'external_account'"),
        (ImpersonatedCreds(USER, None), "service_account_impersonation_url"),
        (ImpersonatedCreds(USER, TARGET, delegates=[5]), "delegates"),  # type: ignore[list-item]
    ],
)
def test_malformed_impersonated_credentials_name_the_field(creds: ImpersonatedCreds, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        ImpersonatedSource(creds)


def test_an_audience_is_not_an_access_token_request() -> None:
    with pytest.raises(AuthError, match="audience"):
        FlowRunner(responder).run(ImpersonatedSource(ImpersonatedCreds(USER, TARGET)).token_flow(TokenRequest(audience="x"), Endpoints(), OPTIONS))


def test_public_names_of_keyless_and_device_auth() -> None:
    from aiogoogle import auth
    from aiogoogle.auth import _device, _impersonate
    from aiogoogle.testing import _server_auth, service_account_key

    assert auth.ImpersonatedCreds is _impersonate.ImpersonatedCreds
    assert auth.device_login is _device.device_login and auth.DeviceCode is _device.DeviceCode
    assert service_account_key is _server_auth.service_account_key
    assert {"ImpersonatedCreds", "device_login", "DeviceCode"} <= set(auth.__all__)


def test_every_credentials_type_passed_as_service_account_creds_has_its_source() -> None:
    # An external_account dict once fell through to the metadata server without a word.
    from aiogoogle.auth._external import ExternalAccountSource, ExternalAuthorizedUserSource

    external = {
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "credential_source": {"file": "/var/run/token"},
    }
    assert isinstance(source_for_creds(external), ExternalAccountSource)
    workforce = {"type": "external_account_authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r",
                 "token_url": "https://sts.googleapis.com/v1/oauthtoken"}
    assert isinstance(source_for_creds(workforce), ExternalAuthorizedUserSource)
    with pytest.raises(AuthError, match=r"service_account_creds of type external_account.*audience"):
        source_for_creds({**external, "audience": 7})
    assert source_for_creds({"scopes": ["s"]}) is None
