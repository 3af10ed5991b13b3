"""Every way of getting a token behind one interface (aiogoogle.auth.sources): each built-in
source through ``token_flow``, the one table of credential-file types, and a new source
added the documented way (a class plus one table entry) found by ADC detection."""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from aiogoogle._call import CallOptions
from aiogoogle._effects import Now
from aiogoogle._http import HttpRequest, HttpResponse
from aiogoogle.auth import _adc, _flows
from aiogoogle.auth.endpoints import Endpoints
from aiogoogle.auth.sources import AccessToken, TokenRequest, TokenSource
from aiogoogle.excs import AuthError

from .test_auth_flows import EP, NOW, OPTIONS, Runner, form, pem, reply


@pytest.fixture(scope="module")
def key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sa_info(key: Any, **over: Any) -> dict[str, Any]:
    info = {"type": "service_account", "client_email": "sa@p.iam.gserviceaccount.com", "private_key": pem(key), "token_uri": "http://idp.test/token", "scopes": ["s1"]}
    info.update(over)
    return info


USER = {"type": "authorized_user", "client_id": "cid", "client_secret": "cs", "refresh_token": "1//r"}


def token_reply(request: HttpRequest) -> HttpResponse:
    return reply(200, {"access_token": "ya29.new", "expires_in": 3600})


def test_file_types_is_the_one_table_of_credential_files(key: Any) -> None:
    assert set(_adc.FILE_TYPES) == {"service_account", "authorized_user", "impersonated_service_account", "external_account", "external_account_authorized_user"}
    for kind, cls in _adc.FILE_TYPES.items():
        assert issubclass(cls, TokenSource) and cls.kind == kind
    assert isinstance(_adc.source_from_info(sa_info(key), "--creds", "k.json", EP), _flows.ServiceAccountKey)
    assert isinstance(_adc.source_from_info(dict(USER), "--creds", "u.json", EP), _flows.AuthorizedUser)
    with pytest.raises(AuthError, match=r"--creds: x.json has credentials of type 'nope'; supported: service_account, authorized_user"):
        _adc.source_from_info({"type": "nope"}, "--creds", "x.json", EP)
    with pytest.raises(AuthError, match=r"--creds: the authorized_user file u.json lacks refresh_token"):
        _adc.source_from_info({"type": "authorized_user", "client_id": "c", "client_secret": "s"}, "--creds", "u.json", EP)
    with pytest.raises(AuthError, match=r"x.json is not a JSON object"):
        _adc.source_from_info([1], "--creds", "x.json", EP)


def test_service_account_key_source_asks_for_the_wanted_scopes(key: Any) -> None:
    source = _flows.ServiceAccountKey(sa_info(key))
    runner = Runner(token_reply)
    token = runner.run(source.token_flow(TokenRequest(("a", "b")), EP, OPTIONS))
    assert token == AccessToken("ya29.new", NOW + 3600)
    claims = jwt.decode(form(runner.sent[0])["assertion"], options={"verify_signature": False})
    assert claims["scope"] == "a b" and runner.sent[0].url == "http://idp.test/token"
    # No scopes asked: the key's own; the key itself is never changed.
    runner = Runner(token_reply)
    runner.run(source.token_flow(TokenRequest(), EP, OPTIONS))
    assert jwt.decode(form(runner.sent[0])["assertion"], options={"verify_signature": False})["scope"] == "s1"
    assert source.creds["scopes"] == ["s1"]


def test_service_account_key_source_self_signed_and_audience(key: Any) -> None:
    runner = Runner(token_reply)
    token = runner.run(_flows.ServiceAccountKey(sa_info(key), self_signed=True).token_flow(TokenRequest(), EP, OPTIONS))
    assert runner.sent == [] and token.expires_at == NOW + 3600
    assert jwt.decode(token.token, options={"verify_signature": False})["scope"] == "s1"
    token = Runner(token_reply).run(_flows.ServiceAccountKey(sa_info(key)).token_flow(TokenRequest(audience="https://x.googleapis.com/"), EP, OPTIONS))
    assert jwt.decode(token.token, options={"verify_signature": False}, audience="https://x.googleapis.com/")["aud"] == "https://x.googleapis.com/"


def test_authorized_user_source_refreshes_in_place_and_refuses_an_audience() -> None:
    source = _adc.source_from_info(dict(USER), "test", "u.json", EP)
    runner = Runner(token_reply)
    token = runner.run(source.token_flow(TokenRequest(("ignored",)), EP, OPTIONS))
    assert token == AccessToken("ya29.new", NOW + 3600)
    assert source.user_creds is not None and source.user_creds["access_token"] == "ya29.new"
    assert form(runner.sent[0])["grant_type"] == "refresh_token"
    with pytest.raises(AuthError, match="authorized_user credentials cannot issue a token for an audience"):
        Runner(token_reply).run(source.token_flow(TokenRequest(audience="aud"), EP, OPTIONS))


def test_metadata_source_passes_scopes() -> None:
    runner = Runner(token_reply)
    source = _adc.MetadataServer("http://127.0.0.1:9/computeMetadata/v1/")
    assert runner.run(source.token_flow(TokenRequest(("a", "b")), EP, OPTIONS)).token == "ya29.new"
    assert runner.sent[0].url == "http://127.0.0.1:9/computeMetadata/v1/instance/service-accounts/default/token?scopes=a%2Cb"
    assert ("metadata-flavor", "Google") in runner.sent[0].headers


def test_adc_found_credentials_carry_their_source(key: Any) -> None:
    runner = Runner(files={"/k.json": json.dumps(sa_info(key)).encode()})
    found = runner.run(_flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/k.json"}, EP, OPTIONS))
    assert isinstance(found.token_source, _flows.ServiceAccountKey) and found.token_source.kind == found.kind == "service_account"
    assert found.creds is found.token_source.creds


def test_gcloud_adc_path_honours_every_config_location() -> None:
    assert _adc.gcloud_adc_path({"CLOUDSDK_CONFIG": "/c"}) == "/c/application_default_credentials.json"
    assert _adc.gcloud_adc_path({"HOME": "/h"}) == "/h/.config/gcloud/application_default_credentials.json"
    assert _adc.gcloud_adc_path({"APPDATA": "C:\\Users\\u\\AppData\\Roaming"}) == "C:\\Users\\u\\AppData\\Roaming\\gcloud\\application_default_credentials.json"
    assert _adc.gcloud_adc_path({}) is None


class _Fixed(TokenSource):
    """A new kind of source, added the documented way: a class and one table entry."""

    kind = "fixed_for_test"

    def __init__(self, creds: Mapping[str, Any]) -> None:
        self.creds = creds

    @classmethod
    def from_info(cls, info: Mapping[str, Any], where: str, endpoints: Endpoints) -> _Fixed:
        if not isinstance(info.get("value"), str):
            raise AuthError(f"{where} lacks value")
        return cls(info)

    def token_flow(self, wanted: TokenRequest, endpoints: Endpoints, options: CallOptions) -> Generator[Any, Any, AccessToken]:
        self.refuse_audience(wanted)
        now: float = yield Now()
        return AccessToken(f"{self.creds['value']}:{','.join(wanted.scopes or ())}", now + 60)


def test_a_new_source_needs_a_class_and_one_table_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_adc.FILE_TYPES, _Fixed.kind, _Fixed)
    runner = Runner(files={"/f.json": json.dumps({"type": "fixed_for_test", "value": "v"}).encode()})
    found = runner.run(_flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/f.json"}, EP, OPTIONS))
    assert found.kind == "fixed_for_test" and isinstance(found.token_source, _Fixed)
    assert Runner().run(found.token_source.token_flow(TokenRequest(("s",)), EP, OPTIONS)) == AccessToken("v:s", NOW + 60)
    with pytest.raises(AuthError, match=r"GOOGLE_APPLICATION_CREDENTIALS: the fixed_for_test file /g.json lacks value"):
        Runner(files={"/g.json": b'{"type": "fixed_for_test"}'}).run(_flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/g.json"}, EP, OPTIONS))


def test_sources_never_show_secrets(key: Any) -> None:
    for source in (_flows.ServiceAccountKey(sa_info(key)), _flows.AuthorizedUser(dict(USER)), _adc.MetadataServer("http://m/")):
        assert "PRIVATE" not in repr(source) and "1//r" not in repr(source)
    assert "ya29" not in repr(AccessToken("ya29.secret", None))
