"""Drop-in for aiogoogle 5.x code (issue 11), proven against aiogoogle 5.19 itself.

aiogoogle 5.19 runs in its own virtualenv (made once and cached under benchmarks/.venvs,
git-ignored) in ONE subprocess for this module (tests/compat/harness.py). The same
scripted operations (tests/compat/ops.py) run there and here, and the answers must be
equal, or differ only as an entry of tests/compat/allowed_519.json says (each entry
names its README "Migrating from aiogoogle 5.x" entry). ``python scripts/compat_519.py
report`` runs every comparison over every document and prints the counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aiogoogle import GoogleAPI
from aiogoogle.testing.strategies import arguments_for
from tests.compat import harness
from tests.compat.names import check, is_ours, pairs

ALLOWED = harness.load_allowed()


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def allowed_by_key(key: str) -> str | None:
    """The allow-list entry whose ``keys`` (``*`` matches anything) cover ``key``."""
    for entry in ALLOWED.values():
        if any(_glob(pattern).match(key) for pattern in entry.get("keys", [])):
            return str(entry["id"])
    return None


@pytest.fixture(scope="module")
def peer() -> Iterator[harness.Peer]:
    try:
        p = harness.Peer()
    except harness.PeerUnavailable as exc:
        pytest.skip(f"aiogoogle 5.19 cannot be installed (PyPI unreachable): {exc}")
    yield p
    p.close()


def settle(tally: harness.Tally) -> None:
    """Fail on every difference no allow-list key pattern covers."""
    left = []
    for diff in tally.differences:
        if allowed_by_key(diff["key"]) is None:
            left.append(diff)
    assert not left, f"{len(left)} differences from aiogoogle 5.19:\n" + harness.diff_text(left)


# ------------------------------------------------------------------------ names

NAME_PAIRS = [(m, n, e) for m, n, e in pairs() if is_ours(e.get("origin"))]


@pytest.mark.parametrize(("module", "name", "entry"), NAME_PAIRS, ids=[f"{m}.{n}" for m, n, _ in NAME_PAIRS])
def test_every_public_name_of_519_is_here(module: str, name: str, entry: dict[str, Any]) -> None:
    problem = check(module, name, entry)
    allowed = allowed_by_key(f"names {module}.{name}")
    if allowed == "pending-adapters":
        assert problem is not None, f"{module}.{name} exists now: remove it from 'pending-adapters' in allowed_519.json"
        return
    assert problem is None or allowed is not None, problem


def _modules() -> list[str]:
    with open(harness.NAMES_FILE, encoding="utf-8") as fh:
        return sorted(json.load(fh)["modules"])


@pytest.mark.parametrize("module", _modules())
def test_every_module_of_519_imports(module: str) -> None:
    import importlib

    importlib.import_module(module)


def test_the_name_list_is_5_19s_and_complete() -> None:
    with open(harness.NAMES_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    assert data["aiogoogle"] == "5.19.0"
    modules = set(data["modules"])
    assert {"aiogoogle.auth.data", "aiogoogle.data", "aiogoogle.sessions.common", "aiogoogle.validate"} <= modules
    # Names 5.19 only imported (json, re, typing helpers, aiohttp's ClientSession) are the
    # 'imported-helpers' entry; every other name is checked above.
    helpers = [(m, n) for m, n, e in pairs() if not is_ours(e.get("origin"))]
    assert len(helpers) + len(NAME_PAIRS) == sum(len(i["names"]) for i in data["modules"].values())
    assert "imported-helpers" in ALLOWED


def test_the_issue_names_mean_what_they_meant() -> None:
    from aiogoogle.auth.data import WELLKNOWN_OPENID_CONFIGS
    from aiogoogle.auth.managers import OPENID_CONFIGS_DISCOVERY_DOC_URL
    from aiogoogle.client import DISCOVERY_SERVICE_V1_DISCOVERY_DOC
    from aiogoogle.resource import (
        RESERVED_KEYWORDS,
        STACK_QUERY_PARAMETER_DEFAULT_VALUE,
        STACK_QUERY_PARAMETERS,
    )
    from aiogoogle.validate import JSON_PYTHON_TYPE_MAPPING, KNOWN_FORMATS

    assert frozenset({"trace", "pp", "strict"}) == STACK_QUERY_PARAMETERS
    assert STACK_QUERY_PARAMETER_DEFAULT_VALUE == {"type": "string", "location": "query"}
    assert "timeout" in RESERVED_KEYWORDS and "json" in RESERVED_KEYWORDS
    assert DISCOVERY_SERVICE_V1_DISCOVERY_DOC["id"] == "discovery:v1"
    assert GoogleAPI(DISCOVERY_SERVICE_V1_DISCOVERY_DOC).apis.getRest(api="drive", version="v3").url.endswith("/apis/drive/v3/rest")
    assert "int64" in KNOWN_FORMATS and JSON_PYTHON_TYPE_MAPPING["array"] == (list, set, tuple)
    assert OPENID_CONFIGS_DISCOVERY_DOC_URL == "https://accounts.google.com/.well-known/openid-configuration"
    assert WELLKNOWN_OPENID_CONFIGS["issuer"] == "https://accounts.google.com"


# ------------------------------------------------------------------------ browsing

BROWSE_DOCS = ["drive.v3", "calendar.v3", "storage.v1", "youtube.v3", "gmail.v1", "sheets.v4", "recaptchaenterprise.v1", "youtubeAnalytics.v2", "blogger.v3", "discovery.v1", "analytics.v3"]


def test_browsing_and_getitem_match_519(peer: harness.Peer) -> None:
    tally = harness.Tally()
    for name in BROWSE_DOCS:
        harness.compare_browse(peer, name, tally)
    assert tally.counts["compared"] > 1000
    settle(tally)


# ------------------------------------------------------------------------ generated calls

# Methods with {x} and {+x} paths, repeated and boolean query parameters, bodies.
CALL_METHODS = [
    ("drive.v3", ["files", "list"]),
    ("drive.v3", ["files", "update"]),
    ("calendar.v3", ["events", "list"]),
    ("calendar.v3", ["events", "insert"]),
    ("storage.v1", ["objects", "get"]),
    ("storage.v1", ["objects", "rewrite"]),
    ("gmail.v1", ["users", "messages", "list"]),
    ("sheets.v4", ["spreadsheets", "values", "append"]),
    ("pubsub.v1", ["projects", "topics", "publish"]),
    ("youtube.v3", ["videos", "list"]),
    ("compute.v1", ["instances", "setDiskAutoDelete"]),
    ("secretmanager.v1", ["projects", "secrets", "versions", "access"]),
]
_APIS: dict[str, GoogleAPI] = {}


def method_of(doc: str, path: list[str]) -> Any:
    api = _APIS.get(doc)
    if api is None:
        with open(harness.doc_path(doc), encoding="utf-8") as fh:
            api = _APIS[doc] = GoogleAPI(json.load(fh))
    node: Any = api
    for p in path:
        node = getattr(node, p)
    return node


def compare_call(peer: harness.Peer, tally: harness.Tally, doc: str, path: list[str], kwargs: dict[str, Any], key: str) -> str:
    theirs = peer("call", path=harness.doc_path(doc), method=path, kwargs=kwargs)
    mine = harness.ours("call", path=harness.doc_path(doc), method=path, kwargs=kwargs)
    for side in (theirs, mine):
        if isinstance(side, dict) and "url" in side:
            side["url"] = harness.norm_url(side["url"])
    return tally.add(key, "call", mine, theirs)


def as_519_accepts(value: Any, spec: Any, schemas: Any, depth: int = 0) -> Any:
    """``value`` with the spellings 5.19 insisted on where Google takes both (the
    'accepts-more' entry): int64/uint64 as decimal strings, double/float as floats,
    base64 padded."""
    if not isinstance(spec, dict) or depth > 12:
        return value
    ref = spec.get("$ref")
    if isinstance(ref, str):
        return as_519_accepts(value, schemas.get(ref), schemas, depth + 1)
    if isinstance(value, list):
        item = spec.get("items", spec)
        return [as_519_accepts(v, item, schemas, depth + 1) for v in value]
    if isinstance(value, dict):
        props = spec.get("properties") or {}
        extra = spec.get("additionalProperties")
        return {k: as_519_accepts(v, props.get(k, extra), schemas, depth + 1) for k, v in value.items()}
    if type(value) is int and spec.get("type") == "string" and spec.get("format") in ("int64", "uint64"):
        return str(value)
    if type(value) is int and spec.get("type") == "number":
        return float(value)
    if type(value) is str and spec.get("format") == "byte" and len(value) % 4:
        return value + "=" * (-len(value) % 4)  # base64 without padding: 5.19 wanted it
    return value


def accepted_by_519(method: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    params = method.parameters
    schemas = method._ctx.doc.get("schemas") or {}
    out = {}
    for k, v in kwargs.items():
        if k == "json":
            out[k] = as_519_accepts(v, method["request"], schemas)
        else:
            spec = params.get(k)
            out[k] = as_519_accepts(v, {**spec, "items": spec} if spec and spec.get("repeated") else spec, schemas)
    return out


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_generated_calls_build_the_same_request(peer: harness.Peer, data: st.DataObject) -> None:
    doc, path = data.draw(st.sampled_from(CALL_METHODS))
    method = method_of(doc, path)
    kwargs = accepted_by_519(method, data.draw(arguments_for(method)))
    # 5.19's int64 and uint64 ranges are one short at the ends (it refuses -2**63 and
    # 2**64 - 1); the VALIDATION cases pin that divergence by name, so the generated calls
    # leave those two values out rather than allow every difference a call could have.
    assume(not re.search(r'"(-9223372036854775808|18446744073709551615)"', json.dumps(kwargs)))
    tally = harness.Tally()
    compare_call(peer, tally, doc, path, {**kwargs, "validate": True}, f"call {doc} {'.'.join(path)}")
    settle(tally)


# ------------------------------------------------------------------------ validation outcomes

BODY = {"summary": "x", "start": {"dateTime": "2024-05-01T12:00:00Z"}, "end": {"dateTime": "2024-05-01T13:00:00Z"}}
VALIDATION = [
    # (doc, method, kwargs): outcome and request compared; validate=True unless given
    ("calendar.v3", ["events", "list"], {"calendarId": 1}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "maxResults": "10"}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "maxResults": 10, "singleEvents": "true"}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "orderBy": "nope"}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "timeMin": "yesterday"}),
    ("calendar.v3", ["events", "insert"], {"calendarId": "primary", "json": BODY}),
    ("calendar.v3", ["events", "insert"], {"calendarId": "primary", "json": {"summary": 5}}),
    ("calendar.v3", ["events", "insert"], {"calendarId": "primary", "json": {"sequence": "123"}}),
    ("calendar.v3", ["events", "insert"], {"calendarId": "primary", "json": {**BODY, "sequence": 123}}),
    ("calendar.v3", ["events", "insert"], {"calendarId": "primary", "data": {"summary": 5}}),
    ("calendar.v3", ["events", "insert"], {"calendarId": "primary", "data": BODY}),
    ("calendar.v3", ["events", "insert"], {"calendarId": "primary", "json": BODY, "data": {"a": 1}}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "json": {"a": 1}}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "timeout": "soon"}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "timeout": 30}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "download_file": "/tmp/x"}),
    ("calendar.v3", ["events", "list"], {"calendarId": "primary", "validate": False, "download_file": "/tmp/x"}),
    ("calendar.v3", ["events", "list"], {}),
    ("calendar.v3", ["events", "list"], {"validate": False}),
    ("drive.v3", ["files", "list"], {"pageSize": 10, "q": "name = 'x'", "fields": "files(id)"}),
    ("drive.v3", ["files", "list"], {"pageSize": 10.5}),
    ("drive.v3", ["files", "get"], {"fileId": "abc", "supportsAllDrives": True}),
    ("drive.v3", ["files", "list"], {"trace": "token:x", "pp": "1"}),
    ("drive.v3", ["files", "list"], {"corpora": ["user", "drive"]}),
    ("drive.v3", ["files", "create"], {"upload_file": {"__bytes__": "6869"}, "json": {"name": "n"}}),
    ("drive.v3", ["files", "create"], {"upload_file": {"__bytes__": "6869"}}),
    ("storage.v1", ["objects", "insert"], {"bucket": "b", "name": "n", "upload_file": {"__bytes__": "00"}}),
    ("storage.v1", ["objects", "get"], {"bucket": "b", "object": "o", "alt": "media", "download_file": "/tmp/x"}),
    ("storage.v1", ["objects", "list"], {"bucket": "b", "maxResults": 5, "versions": False}),
    ("youtube.v3", ["videos", "list"], {"part": ["snippet", "statistics"], "id": "abc", "maxResults": 51}),
    ("youtube.v3", ["videos", "list"], {"part": "snippet", "maxResults": 0}),
    ("compute.v1", ["instances", "get"], {"project": "p", "zone": "bad zone!", "instance": "i"}),
    ("storage.v1", ["objects", "get"], {"bucket": "b", "object": "o", "generation": "-9223372036854775808"}),
]


def test_validation_outcomes_match_519(peer: harness.Peer) -> None:
    tally = harness.Tally()
    for i, (doc, path, kwargs) in enumerate(VALIDATION):
        kw = {"validate": True, **kwargs}
        compare_call(peer, tally, doc, path, kw, f"validation {i} {doc} {'.'.join(path)} {json.dumps(kwargs)[:80]}")
    settle(tally)


# ------------------------------------------------------------------------ media models

MEDIA = [
    {"kind": "MediaUpload", "args": {"file_path_or_bytes": {"__bytes__": "00010203040506070809"}, "chunk_size": 3}, "attrs": ["file_path", "file_body", "chunk_size", "multipart", "validate", "max_size", "upload_path"]},
    {"kind": "MediaUpload", "args": {"file_path_or_bytes": {"__bytes__": "0001"}, "max_size": 1}, "attrs": ["file_body", "max_size"]},
    {"kind": "MediaUpload", "args": {"file_path_or_bytes": "/data/report.csv", "chunk_size": 5, "upload_path": "https://h/upload/x", "multipart": True}, "attrs": ["file_path", "file_body", "chunk_size", "upload_path", "multipart"]},
    {"kind": "MediaUpload", "args": {"file_path_or_bytes": "/data/r", "max_size": 100000}, "attrs": ["file_path"]},
    {"kind": "MediaDownload", "args": {"file_path": "/tmp/out", "chunk_size": 7}, "attrs": ["file_path", "chunk_size", "pipe_to"]},
    {"kind": "MediaDownload", "args": {}, "attrs": ["file_path", "chunk_size"]},
    {"kind": "ResumableUpload", "args": {"multipart": False, "upload_path": "https://h/resumable/upload/x"}, "attrs": ["multipart", "upload_path"]},
]


def test_media_models_match_519(peer: harness.Peer) -> None:
    tally = harness.Tally()
    for i, case in enumerate(MEDIA):
        tally.add(f"media {i} {case['kind']}", "media", harness.ours("media", case=case), peer("media", case=case))
    settle(tally)


# ------------------------------------------------------------------------ auth (pure parts)

CLIENT = {"client_id": "cid.apps.googleusercontent.com", "client_secret": "s3cret", "scopes": ["openid", "email"], "redirect_uri": "https://app.example/cb"}
AUTH = [
    {"op": "is_ready", "client_creds": CLIENT},
    {"op": "is_ready", "client_creds": {**CLIENT, "client_secret": None}},
    {"op": "is_ready", "client_creds": {**CLIENT, "scopes": "openid"}},
    {"op": "is_ready", "client_creds": {"client_id": "c"}},
    {"op": "is_expired", "creds": {"access_token": "ya29.T", "expires_at": "2001-01-01T00:00:00"}},
    {"op": "is_expired", "creds": {"access_token": "ya29.T", "expires_at": "2999-01-01T00:00:00"}},
    {"op": "oauth2_api"},
    {"op": "api_key", "url": "https://www.googleapis.com/drive/v3/files", "key": "AIzaKEY"},
    {"op": "api_key", "url": "https://www.googleapis.com/drive/v3/files?q=a", "key": "AIzaKEY"},
    {"op": "api_key", "url": "https://www.googleapis.com/drive/v3/files", "key": "AIzaKEY", "per_call": "OTHER"},
    {"op": "user_authorize", "creds": {"access_token": "ya29.T"}},
    {"op": "sa_authorize", "token": "ya29.S"},
    {"op": "authorized_for_method", "doc": "drive.v3", "method": ["files", "list"], "creds": {"scopes": ["https://www.googleapis.com/auth/drive"]}},
    {"op": "authorized_for_method", "doc": "drive.v3", "method": ["files", "list"], "creds": {"scopes": ["https://www.googleapis.com/auth/calendar"]}},
    {"op": "creds", "cls": "UserCreds", "kwargs": {"access_token": "a", "refresh_token": "r"}, "attrs": ["access_token", "refresh_token", "expires_at"]},
    {"op": "creds", "cls": "ClientCreds", "kwargs": {"client_id": "c", "client_secret": "s", "scopes": ["x"]}, "attrs": ["client_id", "scopes", "redirect_uri"]},
    {"op": "creds", "cls": "ServiceAccountCreds", "kwargs": {"client_email": "sa@p.iam.gserviceaccount.com", "scopes": ["x"]}, "attrs": ["client_email", "scopes", "subject"]},
    {"op": "creds", "cls": "ApiKey", "kwargs": {}, "attrs": []},
]


def test_pure_auth_parts_match_519(peer: harness.Peer) -> None:
    tally = harness.Tally()
    for i, case in enumerate(AUTH):
        if case.get("doc"):
            case = {**case, "doc": harness.doc_path(case["doc"])}
        tally.add(f"auth {i} {case['op']} {json.dumps(case)[:60]}", "auth", harness.ours("auth", case=case), peer("auth", case=case))
    settle(tally)


# ------------------------------------------------------------------------ discover(disco_doc_ver=)


def test_disco_doc_ver_2_asks_discovery_v2_only() -> None:
    from aiogoogle._call import CallOptions
    from aiogoogle.discovery import DiscoveryEndpoints, discovery_flow
    from aiogoogle.excs import ValidationError
    from tests.flowtools import FlowRunner

    asked: list[str] = []

    def reply(req: Any) -> Any:
        from aiogoogle._http import Headers, HttpResponse

        asked.append(req.url)
        body = json.dumps({"kind": "discovery#restDescription", "name": "places", "version": "v1"}).encode()
        return HttpResponse(200, Headers({"content-type": "application/json"}), body)

    doc = FlowRunner(reply).run(discovery_flow("places", "v1", DiscoveryEndpoints(), CallOptions(), None, 2))
    assert doc["name"] == "places"
    assert asked == ["https://places.googleapis.com/$discovery/rest?version=v1"]
    asked.clear()
    FlowRunner(reply).run(discovery_flow("drive", "v3", DiscoveryEndpoints(), CallOptions(), None, 1))
    assert asked == ["https://www.googleapis.com/discovery/v1/apis/drive/v3/rest"]
    with pytest.raises(ValidationError, match="disco_doc_ver"):
        FlowRunner(reply).run(discovery_flow("drive", "v3", DiscoveryEndpoints(), CallOptions(), None, 3))


def test_http_proxy_of_5x_is_the_default_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiogoogle.sessions import aiohttp_session

    monkeypatch.setattr(aiohttp_session, "HTTP_PROXY", "http://127.0.0.1:3128")
    assert aiohttp_session.AiohttpSession()._proxy == "http://127.0.0.1:3128"
    assert aiohttp_session.AiohttpSession(proxy="http://127.0.0.1:8080")._proxy == "http://127.0.0.1:8080"
    monkeypatch.setattr(aiohttp_session, "HTTP_PROXY", "")
    assert aiohttp_session.AiohttpSession()._proxy is None
