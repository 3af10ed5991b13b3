"""The auth protocols as pure flows, driven by hand (no event loop, no network):
request building, reply parsing, id_token checks (attack cases), service-account JWTs and
the Application Default Credentials order (docs/protocol.md §6)."""

from __future__ import annotations

import base64
import copy
import json
import pickle
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle._call import CallOptions
from aiogoogle._effects import FileOp, Now, Sleep
from aiogoogle._http import Headers, HttpRequest, HttpResponse
from aiogoogle.auth import _flows as flows
from aiogoogle.auth._jwt import UnknownKeyError, jwks_keys, unverified_claims, validate_id_token
from aiogoogle.auth.creds import ApiKey, ClientCreds, IdToken, ServiceAccountCreds, UserCreds
from aiogoogle.auth.endpoints import Endpoints
from aiogoogle.auth.managers import (
    ApiKeyManager,
    Oauth2Manager,
    OpenIdConnectManager,
    ServiceAccountManager,
)
from aiogoogle.auth.utils import pkce_challenge, pkce_pair
from aiogoogle.excs import AuthError, ConnectError
from aiogoogle.models import Request
from aiogoogle.retry import RetryPolicy

from .flowtools import FlowRunner

NOW = 1_800_000_000.0
EP = Endpoints.at("http://idp.test/")
OPTIONS = CallOptions(retry=RetryPolicy(max_attempts=3, initial_backoff=0.01, random=lambda: 1.0))


def reply(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> HttpResponse:
    data = json.dumps(body).encode() if body is not None else b""
    return HttpResponse(status, Headers({"content-type": "application/json", **(headers or {})}), data)


class Runner(FlowRunner):
    """Answers ``Send`` from ``responder``, files from ``files``, both clocks from ``now``;
    auth flows yield no other effects."""

    on_authorize = on_emit = on_call = None

    def __init__(self, responder: Callable[[HttpRequest], HttpResponse | BaseException] | None = None, *, files: dict[str, bytes] | None = None) -> None:
        super().__init__(responder or (lambda req: reply(404)))
        self.files = files or {}
        self.read: list[str] = []
        self.now = NOW

    def on_now(self, effect: Now) -> float:
        return self.now

    def on_sleep(self, effect: Sleep) -> None:
        self.now += effect.seconds

    def on_fileop(self, effect: FileOp) -> bytes:
        assert effect.op == "read", effect
        self.read.append(effect.path)
        if effect.path not in self.files:
            raise FileNotFoundError(2, "No such file or directory", effect.path)
        return self.files[effect.path]


def form(request: HttpRequest) -> dict[str, str]:
    assert isinstance(request.body, bytes)
    return dict(parse_qsl(request.body.decode()))


# ------------------------------------------------------------------------ keys


@pytest.fixture(scope="module")
def provider_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk_of(key: Any, kid: str) -> dict[str, Any]:
    entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    entry.update(kid=kid, alg="RS256", use="sig")
    return entry  # type: ignore[no-any-return]


def pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[no-any-return]


def claims(**over: Any) -> dict[str, Any]:
    base = {"iss": EP.issuer, "aud": "cid", "sub": "u1", "iat": int(NOW) - 10, "exp": int(NOW) + 3600, "nonce": "n1", "hd": "example.com"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Any, kid: str = "k1", alg: str = "RS256", **over: Any) -> str:
    return jwt.encode(claims(**over), key, algorithm=alg, headers={"kid": kid})


def check(token: str, keys: Any, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(now=NOW, client_ids=["cid"], issuers=EP.issuers, nonce="n1", hd="example.com", skew=0.0)
    args.update(kw)
    return validate_id_token(token, keys, **args)


# ------------------------------------------------------------------------ credentials


def test_creds_are_json_dicts_with_attribute_access_and_survive_copy_and_pickle() -> None:
    creds = UserCreds(access_token="ya29.SECRET-ACCESS", refresh_token="1//SECRET-REFRESH", scopes=["a", "b"], id_token={"sub": "1", "nonce": "NONCE-SECRET"})
    assert creds.access_token == creds["access_token"] == "ya29.SECRET-ACCESS"
    assert creds.client_id is None
    assert isinstance(creds.id_token, IdToken)
    assert json.loads(json.dumps(creds)) == creds
    for clone in (copy.copy(creds), copy.deepcopy(creds), pickle.loads(pickle.dumps(creds))):
        assert clone == creds and type(clone) is UserCreds
    sa = ServiceAccountCreds(private_key="-----BEGIN PRIVATE KEY-----X", client_email="a@b", scopes="s1 s2", custom="kept")
    assert sa.scopes == ["s1", "s2"] and sa.custom == "kept"
    assert pickle.loads(pickle.dumps(sa)) == sa


@pytest.mark.parametrize(
    "creds",
    [
        UserCreds(access_token="ya29.SECRET-ACCESS", refresh_token="1//SECRET-REFRESH", id_token_jwt="eyJSECRET.JWT.SIG"),
        ClientCreds(client_id="cid", client_secret="GOCSPX-SECRET", scopes=["s"], redirect_uri="http://127.0.0.1/"),
        ServiceAccountCreds(private_key="-----BEGIN PRIVATE KEY-----SECRET", private_key_id="SECRETKEYID", client_email="sa@x"),
        IdToken(sub="1", nonce="NONCE-SECRET"),
    ],
)
def test_reprs_never_show_secrets(creds: Any) -> None:
    for text in (repr(creds), str(creds), f"{creds}", repr([creds]), repr({"c": creds})):
        assert "SECRET" not in text, text
    assert type(creds).__name__ in repr(creds)


def test_api_key_is_a_str_with_a_hidden_repr() -> None:
    key = ApiKey("AIzaSECRET")
    assert key == "AIzaSECRET" and str(key) == "AIzaSECRET"
    assert "SECRET" not in repr(key) and "SECRET" not in repr([key])
    assert pickle.loads(pickle.dumps(key)) == key


# ------------------------------------------------------------------------ authorization URL and PKCE


def test_pkce_matches_the_rfc_7636_example_and_generates_valid_verifiers() -> None:
    assert pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128 and set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    assert challenge == pkce_challenge(verifier) and "=" not in challenge


@given(st.dictionaries(st.sampled_from(["redirect_uri", "login_hint", "state", "scope", "hd", "x"]), st.text(min_size=1), min_size=1))
def test_authorization_url_encodes_every_value(params: dict[str, str]) -> None:
    url = flows.authorization_url("https://idp.test/auth", list(params.items()))
    query = urlsplit(url).query
    assert "&&" not in query and " " not in url
    assert dict(parse_qsl(query, keep_blank_values=True)) == params


def test_oauth2_authorization_url_state_pkce_and_encoding() -> None:
    manager = Oauth2Manager(endpoints=EP)
    client = ClientCreds(client_id="cid", client_secret="sec", scopes=["openid", "https://www.googleapis.com/auth/drive"], redirect_uri="http://127.0.0.1:8080/cb?a=1&b=2")
    url = manager.authorization_url(client, access_type="offline", include_granted_scopes=True, prompt="consent select_account", pkce=True)
    assert url.startswith(EP.authorization + "?")
    q = parse_qs(urlsplit(url).query)
    assert q["redirect_uri"] == ["http://127.0.0.1:8080/cb?a=1&b=2"]
    assert q["scope"] == ["openid https://www.googleapis.com/auth/drive"]
    assert q["state"] == [client["state"]] and len(client["state"]) >= 32
    assert q["code_challenge"] == [pkce_challenge(client["code_verifier"])] and q["code_challenge_method"] == ["S256"]
    assert q["include_granted_scopes"] == ["true"] and q["prompt"] == ["consent select_account"]
    assert "login_hint" not in q and "%20" in url and "+" not in urlsplit(url).query
    explicit = manager.authorization_url(client, state="given", code_verifier="v" * 43)
    q2 = parse_qs(urlsplit(explicit).query)
    assert q2["state"] == ["given"] and q2["code_challenge"] == [pkce_challenge("v" * 43)]


def test_openid_authorization_url_adds_nonce_hd_display_realm() -> None:
    manager = OpenIdConnectManager(endpoints=EP)
    client = ClientCreds(client_id="cid", scopes=["openid", "email"], redirect_uri="http://127.0.0.1/cb")
    q = parse_qs(urlsplit(manager.authorization_url(client, hd="example.com", display="popup", openid_realm="https://r.example/")).query)
    assert q["nonce"] == [client["nonce"]] and q["hd"] == ["example.com"] and q["display"] == ["popup"] and q["openid.realm"] == ["https://r.example/"]


def test_authorization_url_needs_client_id_and_redirect_uri() -> None:
    with pytest.raises(AuthError, match="client_id"):
        Oauth2Manager(endpoints=EP).authorization_url(ClientCreds(redirect_uri="http://x/"))
    with pytest.raises(AuthError, match="redirect_uri"):
        Oauth2Manager(endpoints=EP).authorization_url(ClientCreds(client_id="c"))


# ------------------------------------------------------------------------ token endpoint


TOKEN_REPLY = {"access_token": "ya29.new", "expires_in": 3599, "token_type": "Bearer", "scope": "openid email", "refresh_token": "1//r1", "id_token": "a.b.c"}


def test_code_exchange_builds_the_form_and_parses_the_reply() -> None:
    runner = Runner(lambda req: reply(200, TOKEN_REPLY))
    client = ClientCreds(client_id="cid", client_secret="sec", redirect_uri="http://127.0.0.1:1/cb")
    creds = runner.run(flows.code_exchange_flow("4/code", client, EP, OPTIONS, code_verifier="verifier"))
    [req] = runner.sent
    assert req.method == "POST" and req.url == EP.token
    assert dict(req.headers)["content-type"] == "application/x-www-form-urlencoded"
    assert form(req) == {"grant_type": "authorization_code", "code": "4/code", "redirect_uri": "http://127.0.0.1:1/cb", "code_verifier": "verifier", "client_id": "cid", "client_secret": "sec"}
    assert isinstance(creds, UserCreds)
    assert creds.access_token == "ya29.new" and creds.refresh_token == "1//r1" and creds.id_token_jwt == "a.b.c"
    assert creds.expires_at == flows.to_iso(NOW + 3599) and creds.scopes == ["openid", "email"]
    assert creds.token_uri == EP.token and creds.revoke_uri == EP.revocation


def test_code_exchange_with_client_secret_basic_and_no_retry_of_a_single_use_code() -> None:
    runner = Runner(lambda req: reply(503, {"error": "internal"}))
    client = ClientCreds(client_id="c i:d", client_secret="s&c", redirect_uri="http://x/", token_endpoint_auth_method="client_secret_basic")
    with pytest.raises(AuthError, match="authorization code exchange failed: HTTP 503"):
        runner.run(flows.code_exchange_flow("code", client, EP, OPTIONS))
    assert len(runner.sent) == 1  # a code is single-use: never retried
    auth = dict(runner.sent[0].headers)["authorization"]
    assert base64.b64decode(auth.split()[1]) == b"c%20i%3Ad:s%26c"
    assert "client_secret" not in form(runner.sent[0])


def test_refresh_keeps_the_refresh_token_and_other_fields() -> None:
    runner = Runner(lambda req: reply(200, {"access_token": "ya29.fresh", "expires_in": 100}))
    old = UserCreds(access_token="old", refresh_token="1//keep", token_uri="http://other.test/token", scopes=["a"], quota_project_id="qp")
    new = runner.run(flows.refresh_flow(old, ClientCreds(client_id="cid", client_secret="s"), EP, OPTIONS))
    assert runner.sent[0].url == "http://other.test/token"
    assert form(runner.sent[0]) == {"grant_type": "refresh_token", "refresh_token": "1//keep", "client_id": "cid", "client_secret": "s"}
    assert new.access_token == "ya29.fresh" and new.refresh_token == "1//keep" and new.scopes == ["a"] and new.quota_project_id == "qp"
    assert new.expires_at == flows.to_iso(NOW + 100) and old.access_token == "old"


def test_refresh_uses_the_creds_own_client_for_gcloud_files_and_retries_5xx() -> None:
    answers = [reply(503, {"error": "backend"}), ConnectError("refused"), reply(200, {"access_token": "ya29.ok", "expires_in": 10})]
    runner = Runner(lambda req: answers.pop(0))
    adc = UserCreds(refresh_token="1//r", client_id="gcloud-id", client_secret="gcloud-secret", type="authorized_user")
    new = runner.run(flows.refresh_flow(adc, None, EP, OPTIONS))
    assert new.access_token == "ya29.ok" and len(runner.sent) == 3
    assert form(runner.sent[-1])["client_id"] == "gcloud-id"


def test_refresh_invalid_grant_says_revoked_or_expired() -> None:
    runner = Runner(lambda req: reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}))
    with pytest.raises(AuthError) as info:
        runner.run(flows.refresh_flow(UserCreds(refresh_token="1//SECRET"), ClientCreds(client_id="c"), EP, OPTIONS))
    text = str(info.value)
    assert "invalid_grant" in text and "revoked or has expired" in text and "SECRET" not in text
    assert info.value.status_code == 400 and info.value.reason == "invalid_grant"


@pytest.mark.parametrize(
    ("creds", "client", "message"),
    [(UserCreds(access_token="a"), ClientCreds(client_id="c"), "no refresh_token"), (UserCreds(refresh_token="r"), None, "no client_id")],
)
def test_refresh_preconditions(creds: Any, client: Any, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        Runner().run(flows.refresh_flow(creds, client, EP, OPTIONS))


def test_token_reply_without_access_token_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="no access_token"):
        Runner(lambda req: reply(200, {"token_type": "Bearer"})).run(flows.refresh_flow(UserCreds(refresh_token="r"), ClientCreds(client_id="c"), EP, OPTIONS))


def test_refresh_token_lifetime_of_a_time_based_grant_is_kept() -> None:
    # Time-based access: the reply says how long the refresh token lives.
    body = {"access_token": "ya29.n", "expires_in": 3599, "refresh_token": "1//n", "refresh_token_expires_in": 604799}
    creds = Runner(lambda req: reply(200, body)).run(flows.refresh_flow(UserCreds(refresh_token="r"), ClientCreds(client_id="c"), EP, OPTIONS))
    assert creds["refresh_token_expires_in"] == 604799 and creds["refresh_token"] == "1//n"
    assert UserCreds()["refresh_token_expires_in"] is None
    with pytest.raises(AuthError, match="refresh_token_expires_in is not a number of seconds"):
        Runner(lambda req: reply(200, {**body, "refresh_token_expires_in": -1})).run(
            flows.refresh_flow(UserCreds(refresh_token="r"), ClientCreds(client_id="c"), EP, OPTIONS)
        )


def test_revoke_userinfo_tokeninfo_requests() -> None:
    runner = Runner(lambda req: reply(200, {"sub": "1"}))
    runner.run(flows.revoke_flow("1//tok", EP, OPTIONS))
    assert runner.sent[-1].url == EP.revocation and form(runner.sent[-1]) == {"token": "1//tok"}
    assert runner.run(flows.bearer_get_flow(EP.userinfo, "ya29.x", OPTIONS, "userinfo")) == {"sub": "1"}
    assert dict(runner.sent[-1].headers)["authorization"] == "Bearer ya29.x" and runner.sent[-1].method == "GET"
    runner.run(flows.tokeninfo_flow(EP.tokeninfo, OPTIONS, id_token="a.b.c"))
    assert runner.sent[-1].method == "POST" and form(runner.sent[-1]) == {"id_token": "a.b.c"} and "a.b.c" not in runner.sent[-1].url
    bad = Runner(lambda req: reply(400, {"error": "invalid_token"}))
    with pytest.raises(AuthError, match="token revocation failed: HTTP 400 invalid_token"):
        bad.run(flows.revoke_flow("x", EP, OPTIONS))


@pytest.mark.parametrize(
    ("expires_at", "margin", "expired"),
    [(None, 0, False), (flows.to_iso(NOW + 100), 0, False), (flows.to_iso(NOW + 100), 225, True), (flows.to_iso(NOW - 1), 0, True), ("2020-01-01T00:00:00", 0, True), ("2999-01-01T00:00:00+00:00", 0, False)],
)
def test_is_expired(expires_at: Any, margin: float, expired: bool) -> None:
    assert flows.is_expired(UserCreds(access_token="a", expires_at=expires_at), NOW, margin) is expired
    assert flows.is_expired(UserCreds(expires_at=expires_at), NOW) is True  # no token at all


# ------------------------------------------------------------------------ id_token validation


def test_a_valid_id_token_passes(provider_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    assert check(sign(provider_key), keys)["sub"] == "u1"
    assert check(sign(provider_key, aud=["other", "cid"]), keys)["sub"] == "u1"  # list audience
    assert check(sign(provider_key, iat=int(NOW) + 5), keys, skew=10)["sub"] == "u1"  # within the skew
    assert check(sign(provider_key, nonce=None, hd=None), keys, nonce=None, hd=None)["sub"] == "u1"


@pytest.mark.parametrize(
    ("make", "kw", "check_name"),
    [
        ("forged", {}, "signature"),
        ("wrong_aud", {}, "aud"),
        ("wrong_iss", {}, "iss"),
        ("expired", {}, "exp"),
        ("iat_future", {"skew": 30}, "iat"),
        ("wrong_nonce", {}, "nonce"),
        ("missing_nonce", {}, "nonce"),
        ("missing_hd", {}, "hd"),
        ("wrong_hd", {}, "hd"),
        ("alg_none", {}, "alg"),
        ("hs256_public_key", {}, "alg"),
        ("wrong_azp", {}, "azp"),
        ("no_exp", {}, "exp"),
        ("garbage", {}, "format"),
    ],
)
def test_id_token_attacks_are_rejected_naming_the_check(make: str, kw: dict[str, Any], check_name: str, provider_key: Any, other_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    if make == "forged":
        token = sign(other_key)  # same kid, another key
    elif make == "wrong_aud":
        token = sign(provider_key, aud="attacker-client")
    elif make == "wrong_iss":
        token = sign(provider_key, iss="https://evil.example")
    elif make == "expired":
        token = sign(provider_key, iat=int(NOW) - 7200, exp=int(NOW) - 3600)
    elif make == "iat_future":
        token = sign(provider_key, iat=int(NOW) + 300)
    elif make == "wrong_nonce":
        token = sign(provider_key, nonce="replayed")
    elif make == "missing_nonce":
        token = sign(provider_key, nonce=None)
    elif make == "missing_hd":
        token = sign(provider_key, hd=None)
    elif make == "wrong_hd":
        token = sign(provider_key, hd="evil.example")
    elif make == "alg_none":
        token = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    elif make == "hs256_public_key":
        # The classic key-confusion attack: HMAC "signed" with the provider's public key.
        segs = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in ({"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims())]
        import hashlib
        import hmac

        sig = hmac.new(public_pem(provider_key), b".".join(segs), hashlib.sha256).digest()
        token = b".".join([*segs, base64.urlsafe_b64encode(sig).rstrip(b"=")]).decode()
    elif make == "wrong_azp":
        token = sign(provider_key, azp="someone-else")
    elif make == "no_exp":
        token = sign(provider_key, exp=None)
    else:
        token = "not-a-jwt"
    with pytest.raises(AuthError) as info:
        check(token, keys, **kw)
    assert f"id_token rejected ({check_name})" in str(info.value)
    assert token not in str(info.value)
    assert not isinstance(info.value, KeyError)


def raw_token(header: Any, payload: Any, key: Any) -> str:
    """An RS256 JWT signed by hand, so header and payload can hold anything (JSON text as
    ``str``, raw ``bytes``, or a value to ``json.dumps``, which writes NaN/Infinity)."""

    def segment(part: Any) -> str:
        data = part if isinstance(part, bytes) else part.encode() if isinstance(part, str) else json.dumps(part).encode()
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


HEADER = {"alg": "RS256", "kid": "k1", "typ": "JWT"}


def with_literal(name: str, literal: str) -> str:
    """The claims as JSON text with ``name`` set to the JSON (or JSON-like) ``literal``."""
    return json.dumps(claims(**{name: "@@"})).replace('"@@"', literal)


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "literal", ["NaN", "Infinity", "-Infinity", '"1800000000"', "true", "false", "null", "[1800000000]", '{"t": 1}', "1e400", "-1e400", "1" + "0" * 400]
)
def test_time_claims_must_be_finite_json_numbers(name: str, literal: str, provider_key: Any) -> None:
    """RFC 7519 §2 NumericDate: a NaN or infinite exp never expired before; strings,
    booleans and numbers no float holds are refused too, naming the claim."""
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    token = raw_token(HEADER, with_literal(name, literal), provider_key)
    with pytest.raises(AuthError) as info:
        check(token, keys, skew=30)
    assert f"id_token rejected ({name})" in str(info.value)
    assert len(str(info.value)) < 300


def test_nbf_is_checked_with_the_same_skew_as_iat(provider_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    assert check(sign(provider_key, nbf=int(NOW) - 100), keys)["sub"] == "u1"
    assert check(sign(provider_key, nbf=int(NOW) + 20), keys, skew=30)["sub"] == "u1"  # within the skew
    assert check(sign(provider_key, nbf=NOW + 0.5), keys, skew=0.5)["sub"] == "u1"  # the edge
    with pytest.raises(AuthError, match=r"id_token rejected \(nbf\): the token is not valid for another 300 s \(allowed clock skew 30 s\)"):
        check(sign(provider_key, nbf=int(NOW) + 300), keys, skew=30)
    with pytest.raises(AuthError, match=r"\(nbf\)"):
        check(sign(provider_key, nbf=NOW + 0.01), keys, skew=0)
    # The other numeric claims accept floats (RFC 7519 §2 allows non-integer values).
    assert check(sign(provider_key, exp=NOW + 10.5, iat=NOW - 0.5), keys)["sub"] == "u1"


@pytest.mark.parametrize("kid", [5, 1.5, True, ["k1"], {"k": "k1"}])
def test_a_non_string_kid_is_an_auth_error(kid: Any, provider_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    token = raw_token({**HEADER, "kid": kid}, claims(), provider_key)
    with pytest.raises(AuthError, match=r"id_token rejected \(kid\): the header's key id is .*not a string") as info:
        check(token, keys)
    assert not isinstance(info.value, UnknownKeyError)  # not worth a JWKS fetch
    # A JWKS entry with such a kid is skipped instead of breaking the key table.
    assert list(jwks_keys({"keys": [{**jwk_of(provider_key, "x"), "kid": kid}, jwk_of(provider_key, "k1")]})) == ["k1"]


def test_token_values_in_messages_are_shortened(provider_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    for token, check_name in [
        (raw_token({**HEADER, "kid": "K" * 5000}, claims(), provider_key), "kid"),
        (sign(provider_key, iss="https://" + "i" * 5000), "iss"),
        (sign(provider_key, aud=["a" * 5000, {"x": 1}]), "aud"),
        (sign(provider_key, azp=["x"] * 1000), "azp"),
        (sign(provider_key, hd="h" * 5000), "hd"),
    ]:
        with pytest.raises(AuthError, match=rf"\({check_name}\)") as info:
            check(token, keys)
        assert len(str(info.value)) < 300, check_name


@pytest.mark.parametrize("depth", [1000, 100_000])
@pytest.mark.parametrize("where", ["header", "header claim", "payload", "payload claim"])
def test_deeply_nested_json_is_a_format_error(depth: int, where: str, provider_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    nested = "[" * depth + "]" * depth
    header = nested if where == "header" else json.dumps(HEADER)[:-1] + f', "x": {nested}}}' if where == "header claim" else HEADER
    payload = nested if where == "payload" else json.dumps(claims())[:-1] + f', "x": {nested}}}' if where == "payload claim" else claims()
    token = raw_token(header, payload, provider_key)
    with pytest.raises(AuthError, match=r"id_token rejected \(format\)"):
        check(token, keys)
    if where.startswith("payload"):
        with pytest.raises(AuthError, match=r"id_token rejected \(format\)"):
            unverified_claims(token)


_JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["alg", "kid", "iss", "aud", "azp", "exp", "iat", "nbf", "nonce", "hd", "x"]), inner, max_size=6)),
    max_leaves=12,
)


@settings(max_examples=40)
@given(
    header=st.one_of(_JSONISH, st.fixed_dictionaries({"alg": st.just("RS256"), "kid": _JSONISH})),
    payload=st.one_of(_JSONISH, st.fixed_dictionaries({}, optional={k: _JSONISH for k in ("iss", "aud", "azp", "exp", "iat", "nbf", "nonce", "hd")})),
    junk=st.binary(max_size=16),
)
def test_any_header_and_payload_give_claims_or_an_auth_error(header: Any, payload: Any, junk: bytes, provider_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    for token in (raw_token(header, payload, provider_key), raw_token(junk, payload, provider_key), raw_token(header, junk, provider_key)):
        try:
            got = check(token, keys, nonce=None, hd=None)
        except AuthError as exc:
            assert str(exc).startswith("id_token rejected (") and len(str(exc)) < 400
        else:
            assert isinstance(got, dict)
        try:
            unverified_claims(token)
        except AuthError as exc:
            assert "(format)" in str(exc)


@pytest.mark.parametrize("skew", [float("nan"), float("inf"), -1.0])
def test_the_clock_skew_must_be_finite_and_not_negative(skew: float, provider_key: Any) -> None:
    keys = jwks_keys({"keys": [jwk_of(provider_key, "k1")]})
    with pytest.raises(AuthError, match="clock skew"):
        check(sign(provider_key, exp=int(NOW) - 10**9), keys, skew=skew)


def test_unknown_kid_refetches_the_jwks_once_then_rejects(provider_key: Any, other_key: Any) -> None:
    jwks = {"keys": [jwk_of(provider_key, "k1")]}
    runner = Runner(lambda req: reply(200, jwks, {"cache-control": "public, max-age=600"}))
    cache = flows.JwksCache()
    token = sign(provider_key)
    assert runner.run(flows.verify_id_token_flow(token, cache, EP, OPTIONS, client_ids=["cid"], nonce="n1", hd="example.com"))["sub"] == "u1"
    assert cache.fetches == 1 and cache.expires == NOW + 600
    runner.run(flows.verify_id_token_flow(token, cache, EP, OPTIONS, client_ids=["cid"]))
    assert cache.fetches == 1  # cached per max-age
    runner.now += 61  # past the minimum re-fetch interval
    unknown = sign(other_key, kid="rotated-away")
    with pytest.raises(UnknownKeyError, match=r"id_token rejected \(kid\).*'rotated-away'.*even after re-fetching"):
        runner.run(flows.verify_id_token_flow(unknown, cache, EP, OPTIONS, client_ids=["cid"]))
    assert cache.fetches == 2 and all(r.url == EP.jwks for r in runner.sent)
    # Keys rotate: a new kid appears in the JWKS and is found after one re-fetch.
    jwks["keys"].append(jwk_of(other_key, "k2"))
    runner.now += 61
    assert runner.run(flows.verify_id_token_flow(sign(other_key, kid="k2"), cache, EP, OPTIONS, client_ids=["cid"]))["sub"] == "u1"
    assert cache.fetches == 3
    runner.now += 601  # the cache expired
    runner.run(flows.verify_id_token_flow(token, cache, EP, OPTIONS, client_ids=["cid"]))
    assert cache.fetches == 4


def test_unknown_kids_refetch_the_jwks_at_most_once_per_interval(provider_key: Any, other_key: Any) -> None:
    jwks = {"keys": [jwk_of(provider_key, "k1")]}
    runner = Runner(lambda req: reply(200, jwks, {"cache-control": "max-age=3600"}))
    cache = flows.JwksCache()
    assert cache.min_refetch_interval == flows.MIN_JWKS_REFETCH_INTERVAL == 60
    runner.run(flows.verify_id_token_flow(sign(provider_key), cache, EP, OPTIONS, client_ids=["cid"], nonce="n1", hd="example.com"))
    assert len(runner.sent) == 1
    # A flood of forged key ids within the interval: rejected, no request to the provider.
    for i in range(59):
        runner.now += 1.0
        with pytest.raises(UnknownKeyError, match=r"\(kid\).*fetched \d+ s ago; an unknown key id fetches it again at most every 60 s"):
            runner.run(flows.verify_id_token_flow(sign(other_key, kid=f"forged-{i}"), cache, EP, OPTIONS, client_ids=["cid"]))
    assert len(runner.sent) == 1
    runner.now = NOW + 60  # exactly the interval: one re-fetch, then the interval starts again
    with pytest.raises(UnknownKeyError, match="even after re-fetching"):
        runner.run(flows.verify_id_token_flow(sign(other_key, kid="forged-x"), cache, EP, OPTIONS, client_ids=["cid"]))
    with pytest.raises(UnknownKeyError, match="fetched 0 s ago"):
        runner.run(flows.verify_id_token_flow(sign(other_key, kid="forged-y"), cache, EP, OPTIONS, client_ids=["cid"]))
    assert len(runner.sent) == 2
    # Known keys keep verifying meanwhile, from the cache.
    runner.run(flows.verify_id_token_flow(sign(provider_key), cache, EP, OPTIONS, client_ids=["cid"]))
    assert len(runner.sent) == 2
    # A clock that went back does not hold re-fetches off.
    runner.now = NOW - 3600
    with pytest.raises(UnknownKeyError, match="even after re-fetching"):
        runner.run(flows.verify_id_token_flow(sign(other_key, kid="forged-z"), cache, EP, OPTIONS, client_ids=["cid"]))
    assert len(runner.sent) == 3


def test_a_failed_refetch_counts_toward_the_interval(provider_key: Any, other_key: Any) -> None:
    answers = [reply(200, {"keys": [jwk_of(provider_key, "k1")]}, {"cache-control": "max-age=3600"})]
    runner = Runner(lambda req: answers.pop(0) if answers else reply(404, {"error": "gone"}))
    cache = flows.JwksCache(min_refetch_interval=30)
    runner.run(flows.verify_id_token_flow(sign(provider_key), cache, EP, OPTIONS, client_ids=["cid"], nonce="n1", hd="example.com"))
    runner.now += 30
    with pytest.raises(AuthError, match="JWKS fetch"):
        runner.run(flows.verify_id_token_flow(sign(other_key, kid="k9"), cache, EP, OPTIONS, client_ids=["cid"]))
    sent = len(runner.sent)
    runner.now += 29
    with pytest.raises(UnknownKeyError, match="at most every 30 s"):
        runner.run(flows.verify_id_token_flow(sign(other_key, kid="k9"), cache, EP, OPTIONS, client_ids=["cid"]))
    assert len(runner.sent) == sent
    # The cached keys still verify (the failed fetch left them in place).
    assert runner.run(flows.verify_id_token_flow(sign(provider_key), cache, EP, OPTIONS, client_ids=["cid"]))["sub"] == "u1"


def test_cache_control_parsing() -> None:
    assert flows.cache_max_age("public, max-age=19800, must-revalidate") == 19800
    assert flows.cache_max_age("no-store") == 0 and flows.cache_max_age(None) is None and flows.cache_max_age("max-age=x") is None


def test_jwks_ignores_keys_it_cannot_use(provider_key: Any) -> None:
    keys = jwks_keys({"keys": [{"kty": "EC", "kid": "ec"}, {"kty": "RSA", "kid": "enc", "use": "enc", "n": "x", "e": "AQAB"}, jwk_of(provider_key, "k1")]})
    assert list(keys) == ["k1"]
    with pytest.raises(AuthError, match="no 'keys'"):
        jwks_keys({"nope": 1})


# ------------------------------------------------------------------------ service accounts


def sa_creds(key: Any, **over: Any) -> ServiceAccountCreds:
    base: dict[str, Any] = dict(type="service_account", client_email="sa@p.iam.gserviceaccount.com", private_key=pem(key), private_key_id="kid-1", token_uri="http://idp.test/token", scopes=["s1", "s2"])
    base.update(over)
    return ServiceAccountCreds(**base)


def test_jwt_bearer_assertion_claims(provider_key: Any) -> None:
    runner = Runner(lambda req: reply(200, {"access_token": "ya29.sa", "expires_in": 3599, "token_type": "Bearer"}))
    token = runner.run(flows.jwt_bearer_flow(sa_creds(provider_key, additional_claims={"extra": "x"}), EP, OPTIONS))
    assert token.token == "ya29.sa" and token.expires_at == NOW + 3599 and "ya29" not in repr(token)
    fields = form(runner.sent[0])
    assert runner.sent[0].url == "http://idp.test/token" and set(fields) == {"grant_type", "assertion"}
    assert fields["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert jwt.get_unverified_header(fields["assertion"])["kid"] == "kid-1"
    got = jwt.decode(fields["assertion"], provider_key.public_key(), algorithms=["RS256"], audience="http://idp.test/token", options={"verify_exp": False, "verify_iat": False})
    assert got == {"iss": "sa@p.iam.gserviceaccount.com", "aud": "http://idp.test/token", "iat": int(NOW), "exp": int(NOW) + 3600, "scope": "s1 s2", "extra": "x"}
    with_subject = flows.jwt_bearer_assertion(sa_creds(provider_key, subject="user@example.com"), NOW, "http://t/")
    assert jwt.decode(with_subject, options={"verify_signature": False})["sub"] == "user@example.com"


def test_self_signed_jwt(provider_key: Any) -> None:
    creds = sa_creds(provider_key)
    by_scope = jwt.decode(flows.self_signed_jwt(creds, NOW), provider_key.public_key(), algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
    assert by_scope["iss"] == by_scope["sub"] == creds.client_email and by_scope["scope"] == "s1 s2" and "aud" not in by_scope
    by_aud = jwt.decode(flows.self_signed_jwt(creds, NOW, audience="https://storage.googleapis.com/"), options={"verify_signature": False})
    assert by_aud["aud"] == "https://storage.googleapis.com/" and "scope" not in by_aud and by_aud["exp"] - by_aud["iat"] == 3600
    with pytest.raises(AuthError, match="domain-wide delegation"):
        flows.self_signed_jwt(sa_creds(provider_key, subject="someone@example.com"), NOW)
    with pytest.raises(AuthError, match="client_email and private_key"):
        flows.self_signed_jwt(ServiceAccountCreds(client_email="x"), NOW)


def test_a_broken_private_key_is_an_auth_error_without_the_key() -> None:
    with pytest.raises(AuthError) as info:
        flows.jwt_bearer_assertion(ServiceAccountCreds(client_email="a@b", private_key="-----BEGIN PRIVATE KEY-----\nSECRETSTUFF\n-----END PRIVATE KEY-----\n"), NOW, "http://t/")
    assert "SECRETSTUFF" not in str(info.value)


def test_metadata_token_request() -> None:
    runner = Runner(lambda req: reply(200, {"access_token": "ya29.md", "expires_in": 100, "token_type": "Bearer"}))
    token = runner.run(flows.metadata_token_flow("http://md.test/computeMetadata/v1/", OPTIONS, ["a", "b"]))
    req = runner.sent[0]
    assert req.method == "GET" and req.url == "http://md.test/computeMetadata/v1/instance/service-accounts/default/token?scopes=a%2Cb"
    assert dict(req.headers)["metadata-flavor"] == "Google" and token.token == "ya29.md"


# ------------------------------------------------------------------------ Application Default Credentials


SA_FILE = json.dumps({"type": "service_account", "client_email": "sa@p", "private_key": "PEM", "project_id": "p1"}).encode()
USER_FILE = json.dumps({"type": "authorized_user", "client_id": "cid", "client_secret": "cs", "refresh_token": "1//r", "quota_project_id": "qp"}).encode()


def md_responder(flavor: str | None = "Google") -> Callable[[HttpRequest], HttpResponse]:
    def respond(req: HttpRequest) -> HttpResponse:
        return HttpResponse(200, Headers({"metadata-flavor": flavor} if flavor else {}), b"")

    return respond


def test_adc_explicit_file_first() -> None:
    runner = Runner(md_responder(), files={"/k.json": SA_FILE, "/home/u/.config/gcloud/application_default_credentials.json": USER_FILE})
    found = runner.run(flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/k.json", "HOME": "/home/u"}, EP, OPTIONS))
    assert found.kind == "service_account" and isinstance(found.creds, ServiceAccountCreds) and found.project_id == "p1"
    assert runner.read == ["/k.json"] and runner.sent == [] and "PEM" not in repr(found)


def test_adc_explicit_authorized_user_file_and_quota_project_from_env() -> None:
    runner = Runner(files={"/u.json": USER_FILE})
    found = runner.run(flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/u.json", "GOOGLE_CLOUD_QUOTA_PROJECT": "env-qp"}, EP, OPTIONS))
    assert found.kind == "authorized_user" and found.creds.refresh_token == "1//r" and found.creds.token_uri == EP.token
    assert found.quota_project_id == "env-qp"


def test_adc_explicit_file_missing_is_an_error_not_a_fall_through() -> None:
    with pytest.raises(AuthError, match=r"GOOGLE_APPLICATION_CREDENTIALS names /nope\.json"):
        Runner(md_responder()).run(flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/nope.json"}, EP, OPTIONS))


@pytest.mark.parametrize(
    ("env", "path"),
    [
        ({"HOME": "/home/u"}, "/home/u/.config/gcloud/application_default_credentials.json"),
        ({"HOME": "/home/u", "CLOUDSDK_CONFIG": "/cfg"}, "/cfg/application_default_credentials.json"),
        ({"APPDATA": "C:\\Users\\u\\AppData\\Roaming"}, "C:\\Users\\u\\AppData\\Roaming\\gcloud\\application_default_credentials.json"),
    ],
)
def test_adc_gcloud_file(env: dict[str, str], path: str) -> None:
    runner = Runner(files={path: USER_FILE})
    found = runner.run(flows.default_creds_flow(env, EP, OPTIONS))
    assert found.kind == "authorized_user" and found.quota_project_id == "qp" and runner.read == [path]


def test_adc_metadata_server_with_host_override() -> None:
    runner = Runner(md_responder())
    found = runner.run(flows.default_creds_flow({"HOME": "/h", "GCE_METADATA_HOST": "127.0.0.1:9", "GOOGLE_CLOUD_PROJECT": "gp"}, EP, OPTIONS))
    assert found.kind == "metadata" and found.metadata_root == "http://127.0.0.1:9/computeMetadata/v1/" and found.project_id == "gp"
    probe = runner.sent[0]
    assert dict(probe.headers)["metadata-flavor"] == "Google" and probe.timeout.connect == flows.METADATA_DETECT_TIMEOUT


def test_adc_nothing_found_lists_what_was_tried() -> None:
    runner = Runner(lambda req: ConnectError("no route"))
    with pytest.raises(AuthError) as info:
        runner.run(flows.default_creds_flow({"HOME": "/h"}, EP, OPTIONS))
    text = str(info.value)
    for part in ("GOOGLE_APPLICATION_CREDENTIALS (not set)", "/h/.config/gcloud/application_default_credentials.json", "metadata server idp.test (no answer: ConnectError)"):
        assert part in text
    assert len(runner.sent) == 1  # one short probe, no retries
    with pytest.raises(AuthError, match="skipped: NO_GCE_CHECK"):
        Runner(md_responder()).run(flows.default_creds_flow({"NO_GCE_CHECK": "True"}, EP, OPTIONS))
    with pytest.raises(AuthError, match="not a metadata server"):
        Runner(md_responder(None)).run(flows.default_creds_flow({}, EP, OPTIONS))


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", "is not JSON"), (json.dumps({"type": "external_account"}).encode(), "the external_account file /f lacks audience"), (json.dumps({"type": "service_account"}).encode(), "lacks client_email, private_key")],
)
def test_adc_bad_files(content: bytes, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        Runner(files={"/f": content}).run(flows.default_creds_flow({"GOOGLE_APPLICATION_CREDENTIALS": "/f"}, EP, OPTIONS))


# ------------------------------------------------------------------------ managers' sync helpers and endpoints


def test_api_key_manager_query_and_header() -> None:
    req = ApiKeyManager("k&y=1").authorize(Request("GET", "https://x.test/a?b=1"))
    assert req.url == "https://x.test/a?b=1&key=k%26y%3D1"
    hreq = ApiKeyManager("AIza", header=True).authorize(Request("GET", "https://x.test/a"))
    assert hreq.headers["X-Goog-Api-Key"] == "AIza" and hreq.url == "https://x.test/a"


def test_managers_authorize_leave_a_shared_headers_dict_alone() -> None:
    shared = {"X-Trace": "1"}
    for manager_authorize, name, value in (
        (lambda r: Oauth2Manager.authorize(r, {"access_token": "t"}), "Authorization", "Bearer t"),
        (lambda r: ServiceAccountManager(endpoints=EP).authorize(r, "s"), "Authorization", "Bearer s"),
        (ApiKeyManager("AIza", header=True).authorize, "X-Goog-Api-Key", "AIza"),
    ):
        req = manager_authorize(Request("GET", "https://x.test/a", headers=shared))
        assert req.headers == {"X-Trace": "1", name: value}
        assert shared == {"X-Trace": "1"}
    with pytest.raises(AuthError, match="refresh"):
        ServiceAccountManager(endpoints=EP).authorize(Request("GET", "https://x.test/a"))


def test_oauth2_static_helpers() -> None:
    assert Oauth2Manager.authorize(Request("GET", "https://x/"), {"access_token": "t"}).headers["Authorization"] == "Bearer t"
    assert Oauth2Manager.authorized_for_method({"scopes": ["a", "b"]}, {"scopes": ["b"]})
    assert not Oauth2Manager.authorized_for_method({"scopes": ["a"]}, {"scopes": ["b"]})
    assert Oauth2Manager.is_expired({"access_token": "t", "expires_at": "2000-01-01T00:00:00Z"})
    assert Oauth2Manager(endpoints=EP).is_ready(ClientCreds(client_id="c", client_secret="s", scopes=["x"], redirect_uri="http://x/"))
    assert not Oauth2Manager(endpoints=EP).is_ready(ClientCreds(client_id="c"))
    assert "openid" in Oauth2Manager()["scopes_supported"]


def test_endpoints_from_openid_configuration() -> None:
    ep = Endpoints.from_openid_configuration(
        {"issuer": "http://127.0.0.1:1", "authorization_endpoint": "http://127.0.0.1:1/auth", "token_endpoint": "http://127.0.0.1:1/token", "jwks_uri": "http://127.0.0.1:1/jwks", "userinfo_endpoint": "http://127.0.0.1:1/me"}
    )
    assert ep.issuers == ("http://127.0.0.1:1",) and ep.token.endswith("/token") and ep.jwks.endswith("/jwks") and ep.userinfo == ep.me_info
    assert ep.revocation == Endpoints().revocation  # not advertised: Google's default kept
    with pytest.raises(AuthError, match="token_endpoint"):
        Endpoints.from_openid_configuration({"issuer": "x", "authorization_endpoint": "y"})
    assert "accounts.google.com" in Endpoints().issuers and "https://accounts.google.com" in Endpoints().issuers


# ------------------------------------------------------------------------ OpenID discovery


def provider_config(iss: str, base: str | None = None, **over: Any) -> dict[str, Any]:
    base = base or iss
    doc = {
        "issuer": iss,
        "authorization_endpoint": base + "/auth",
        "token_endpoint": base + "/token",
        "userinfo_endpoint": base + "/userinfo",
        "revocation_endpoint": base + "/revoke",
        "jwks_uri": base + "/jwks",
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def discover(url: str, issuer: str, doc: Any) -> tuple[dict[str, Any], Runner]:
    runner = Runner(lambda req: reply(200, doc) if req.url == url else reply(404))
    return runner.run(flows.openid_configuration_flow(url, issuer, OPTIONS)), runner


@pytest.mark.parametrize(
    ("issuer", "doc_issuer"),
    [
        ("https://idp.example", "https://idp.example"),
        ("https://idp.example/tenant", "https://idp.example/tenant"),
        ("https://tenant.example/", "https://tenant.example/"),  # Auth0 style, slash kept
        ("https://tenant.example", "https://tenant.example/"),  # a trailing slash is not told apart
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://localhost:8080", "http://localhost:8080"),
    ],
)
def test_openid_discovery_accepts_a_document_for_its_own_issuer(issuer: str, doc_issuer: str) -> None:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    config, runner = discover(url, issuer, provider_config(doc_issuer, issuer.rstrip("/")))
    assert [r.url for r in runner.sent] == [url]
    ep = Endpoints.from_openid_configuration(config)
    assert ep.issuers == (doc_issuer,) and ep.jwks == issuer.rstrip("/") + "/jwks"


@pytest.mark.parametrize(
    "doc_issuer", ["https://accounts.google.com", "https://idp.example.evil", "https://idp.example/other", "http://idp.example", "HTTPS://IDP.EXAMPLE", None, 5]
)
def test_openid_discovery_refuses_a_document_for_another_issuer(doc_issuer: Any) -> None:
    """OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be the one it was
    fetched for; otherwise a provider could vouch for tokens of another issuer."""
    issuer = "https://idp.example"
    with pytest.raises(AuthError, match=r"openid-configuration.*issuer") as info:
        discover(issuer + "/.well-known/openid-configuration", issuer, provider_config(issuer, issuer=doc_issuer))
    if isinstance(doc_issuer, str):
        assert "§4.3" in str(info.value) and repr(doc_issuer) in str(info.value)


@pytest.mark.parametrize("field", flows.OPENID_ENDPOINT_FIELDS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://idp.example/x", "must use https (got http to host 'idp.example')"),
        ("http://127.0.0.2.evil.example/x", "must use https"),
        ("ftp://idp.example/x", "not an absolute https URL"),
        ("/relative/path", "not an absolute https URL"),
        ("https://[::1/x", "not a valid URL"),
        (["https://idp.example/x"], "not a URL string"),
    ],
)
def test_openid_discovery_refuses_endpoints_that_are_not_https(field: str, value: Any, message: str) -> None:
    issuer = "https://idp.example"
    with pytest.raises(AuthError) as info:
        discover(issuer + "/.well-known/openid-configuration", issuer, provider_config(issuer, **{field: value}))
    assert f"openid-configuration: {field}" in str(info.value) and message in str(info.value)


def test_openid_discovery_allows_loopback_http_endpoints_and_absent_optional_ones() -> None:
    issuer = "https://idp.example"
    doc = provider_config(issuer, jwks_uri="http://127.0.0.1:9/jwks", userinfo_endpoint="http://localhost:9/me", revocation_endpoint=None)
    config, _ = discover(issuer + "/.well-known/openid-configuration", issuer, {**doc, "end_session_endpoint": "http://idp.example/logout"})
    assert config["jwks_uri"] == "http://127.0.0.1:9/jwks"  # fields we never call are not checked


def test_openid_discovery_over_plain_http_is_refused_before_any_request() -> None:
    runner = Runner()
    with pytest.raises(AuthError, match=r"the openid-configuration URL must use https \(got http to host 'idp.example'\)"):
        runner.run(flows.openid_configuration_flow("http://idp.example/.well-known/openid-configuration", "http://idp.example", OPTIONS))
    assert runner.sent == []


# ------------------------------------------------------------------------ properties

_SECRET_FIELDS = ["access_token", "refresh_token", "client_secret", "private_key", "id_token_jwt", "api_key", "code_verifier", "private_key_id"]
_secret_values = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=12, max_size=40)


@given(st.dictionaries(st.sampled_from(_SECRET_FIELDS), _secret_values, min_size=1), st.sampled_from([UserCreds, ClientCreds, ServiceAccountCreds]))
def test_no_secret_field_value_ever_shows_in_a_repr(fields: dict[str, str], kind: Any) -> None:
    creds = kind(**fields)
    shown = repr(creds) + str(creds) + repr([creds, {"nested": creds}])
    assert not any(value in shown for value in fields.values())


@given(
    st.one_of(st.none(), _secret_values),
    st.fixed_dictionaries({"access_token": _secret_values}, optional={"refresh_token": _secret_values, "expires_in": st.integers(0, 10**6), "scope": st.text(max_size=30)}),
)
def test_a_token_reply_never_loses_the_refresh_token(previous_refresh: str | None, reply_body: dict[str, Any]) -> None:
    previous = UserCreds(access_token="old", refresh_token=previous_refresh, scopes=["x"])
    creds = flows.user_creds_from_reply(reply_body, NOW, previous=previous, endpoints=EP)
    assert creds.access_token == reply_body["access_token"]
    assert creds.refresh_token == (reply_body.get("refresh_token") or previous_refresh)
    if "expires_in" in reply_body:
        assert flows.expires_at_ts(creds) == float(int(NOW + reply_body["expires_in"]))


@given(st.floats(0, 4e9), st.floats(0, 1e5), st.floats(0, 1e4), st.floats(0, 1e4))
def test_is_expired_is_monotone_in_time_and_margin(expiry: float, now: float, later: float, margin: float) -> None:
    creds = {"access_token": "t", "expires_at": flows.to_iso(expiry)}
    if flows.is_expired(creds, now, margin):
        assert flows.is_expired(creds, now + later, margin) and flows.is_expired(creds, now, margin + later)
