"""The seed's public names and module paths all import, with the documented signatures.

This pins the API that aiogoogle 5.x documents (https://aiogoogle.readthedocs.io): a
rename or a dropped parameter fails here before it reaches a user.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

# module path -> names the seed documents there
SEED_NAMES: dict[str, list[str]] = {
    "aiogoogle": ["Aiogoogle", "GoogleAPI", "HTTPError", "AuthError", "ValidationError", "AiogoogleError"],
    "aiogoogle.client": ["Aiogoogle"],
    "aiogoogle.resource": ["GoogleAPI", "Resource", "Method"],
    "aiogoogle.models": ["Request", "Response", "MediaUpload", "MediaDownload", "ResumableUpload"],
    "aiogoogle.excs": ["AiogoogleError", "HTTPError", "AuthError", "ValidationError"],
    "aiogoogle.validate": ["validate"],
    "aiogoogle.utils": ["_dict"],
    "aiogoogle.auth": ["UserCreds", "ClientCreds", "ServiceAccountCreds", "ApiKey", "IdToken"],
    "aiogoogle.auth.creds": ["UserCreds", "ClientCreds", "ServiceAccountCreds", "ApiKey", "IdToken"],
    "aiogoogle.auth.managers": ["Oauth2Manager", "OpenIdConnectManager", "ServiceAccountManager", "ApiKeyManager"],
    "aiogoogle.auth.utils": ["create_secret"],
    "aiogoogle.sessions.abc": ["AbstractSession"],
    "aiogoogle.sessions.aiohttp_session": ["AiohttpSession"],
    "aiogoogle.sessions.curio_asks_session": ["CurioAsksSession"],
    "aiogoogle.sessions.trio_asks_session": ["TrioAsksSession"],
}

PAIRS = [(module, name) for module, names in SEED_NAMES.items() for name in names]


@pytest.mark.parametrize(("module", "name"), PAIRS, ids=[f"{m}.{n}" for m, n in PAIRS])
def test_seed_name_imports(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"{module}.{name} is missing"


def _params(obj: Any) -> list[str]:
    return list(inspect.signature(obj).parameters)


# callable -> the parameters the seed documents, in order (ours may add keyword-only ones after)
SIGNATURES: dict[str, list[str]] = {
    "aiogoogle.client.Aiogoogle.__init__": ["self", "session_factory", "api_key", "user_creds", "client_creds", "service_account_creds"],
    "aiogoogle.client.Aiogoogle.as_anon": ["self", "requests", "timeout", "full_res"],
    "aiogoogle.client.Aiogoogle.as_api_key": ["self", "requests", "timeout", "full_res", "api_key"],
    "aiogoogle.client.Aiogoogle.as_service_account": ["self", "requests", "timeout", "full_res", "service_account_creds"],
    "aiogoogle.client.Aiogoogle.as_user": ["self", "requests", "timeout", "full_res", "user_creds"],
    "aiogoogle.client.Aiogoogle.discover": ["self", "api_name", "api_version", "validate"],
    "aiogoogle.client.Aiogoogle.list_api": ["self", "name", "preferred", "fields"],
    "aiogoogle.resource.Method.__call__": ["self", "validate", "data", "json", "upload_file", "download_file", "timeout"],
    "aiogoogle.models.Response.next_page": ["self", "req_token_name", "res_token_name", "json_req"],
    "aiogoogle.models.Response.__call__": ["self", "session_factory", "req_token_name", "res_token_name", "json_req"],
    "aiogoogle.validate.validate": ["instance", "schema", "schemas", "schema_name"],
    "aiogoogle.auth.utils.create_secret": ["bytes_length"],
    "aiogoogle.auth.managers.ApiKeyManager.authorize": ["self", "request", "key"],
    "aiogoogle.auth.managers.Oauth2Manager.authorization_url": [
        "self", "client_creds", "state", "access_type", "include_granted_scopes", "login_hint", "prompt", "response_type", "scopes",
    ],
    "aiogoogle.auth.managers.Oauth2Manager.build_user_creds": ["self", "grant", "client_creds", "grant_type"],
    "aiogoogle.auth.managers.Oauth2Manager.refresh": ["self", "user_creds", "client_creds"],
    "aiogoogle.auth.managers.Oauth2Manager.revoke": ["self", "user_creds"],
    "aiogoogle.auth.managers.Oauth2Manager.get_me_info": ["self", "user_creds"],
    "aiogoogle.auth.managers.Oauth2Manager.get_token_info": ["self", "user_creds"],
    "aiogoogle.auth.managers.Oauth2Manager.is_ready": ["self", "client_creds"],
    "aiogoogle.auth.managers.OpenIdConnectManager.authorization_url": [
        "self", "client_creds", "nonce", "state", "prompt", "display", "login_hint", "access_type",
        "include_granted_scopes", "openid_realm", "hd", "response_type", "scopes",
    ],
    "aiogoogle.auth.managers.OpenIdConnectManager.build_user_creds": ["self", "grant", "client_creds", "grant_type", "nonce", "hd", "verify"],
    "aiogoogle.auth.managers.OpenIdConnectManager.decode_and_validate": ["self", "id_token_jwt", "client_id", "nonce", "hd"],
    "aiogoogle.auth.managers.OpenIdConnectManager.get_user_info": ["self", "user_creds"],
    "aiogoogle.auth.managers.OpenIdConnectManager.get_token_info_jwt": ["self", "user_creds"],
    "aiogoogle.auth.managers.ServiceAccountManager.detect_default_creds_source": ["self"],
    "aiogoogle.auth.managers.ServiceAccountManager.refresh": ["self"],
}


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("dotted", sorted(SIGNATURES))
def test_seed_signature(dotted: str) -> None:
    expected = SIGNATURES[dotted]
    actual = _params(_resolve(dotted))
    assert actual[: len(expected)] == expected, f"{dotted}{actual} does not start with the seed's {expected}"


def test_client_has_the_documented_managers() -> None:
    from aiogoogle import Aiogoogle
    from aiogoogle.auth.managers import (
        ApiKeyManager,
        Oauth2Manager,
        OpenIdConnectManager,
        ServiceAccountManager,
    )

    key_creds = {"type": "service_account", "client_email": "robot@example.iam.gserviceaccount.com"}
    client = Aiogoogle(api_key="k-123", service_account_creds=key_creds, discovery_cache=False)
    # Each manager is the documented class, and works for this client: it reads the
    # client's credentials and endpoints, not copies taken when it was made.
    assert type(client.oauth2) is Oauth2Manager
    assert type(client.openid_connect) is OpenIdConnectManager
    assert type(client.service_account_manager) is ServiceAccountManager
    assert type(client.api_key_manager) is ApiKeyManager
    assert client.oauth2.endpoints is client.openid_connect.endpoints is client.service_account_manager.endpoints
    assert client.service_account_manager.creds is key_creds
    other = {"type": "service_account", "client_email": "other@example.iam.gserviceaccount.com"}
    client.service_account_creds = other
    assert client.service_account_manager.creds is other
    assert client.api_key_manager.key == "k-123" and "k-123" not in repr(client.api_key_manager.key)


# ------------------------------------------------------------------ embedding (issue 12)

#: The public sans-IO API, pinned: adding a name is a decision, dropping one a break.
SANSIO_NAMES = {
    # effects and the flow type
    "Effect", "Flow", "Send", "Sleep", "Now", "Emit", "Authorize", "AuthInfo", "NO_AUTH", "Pull", "FileOp", "Call", "Run",
    # wire types, bodies, content decoding, options
    "HttpRequest", "HttpResponse", "Headers", "Timeout", "StreamBody", "FileRange", "PipeSource", "FileTarget", "PipeTarget",
    "BodyConsumer", "ContentDecoder", "DEFAULT_MAX_RESPONSE_SIZE", "CallOptions", "RetryPolicy", "Request", "Response",
    "Session", "RawResponse", "AsyncFile", "Reply",
    # flows
    "call_flow", "plain_call_flow", "send_flow", "pages_flow", "items_of", "upload_flow", "download_flow", "batch_flow",
    "discovery_flow", "list_api_flow", "DiscoveryEndpoints", "DiscoveryCache",
    # token flows
    "Endpoints", "TokenSource", "TokenRequest", "AccessToken", "source_for_creds", "token_flow", "refresh_flow",
    "code_exchange_flow", "revoke_flow", "jwt_bearer_flow", "metadata_token_flow", "default_creds_flow", "id_token_flow",
    "device_code_flow", "device_token_flow", "sts_exchange_flow",
    # driver loops
    "run_sync", "run_async", "iterate_sync", "iterate_async", "complete",
}


def test_sansio_exports_exactly_its_documented_names() -> None:
    from aiogoogle import sansio

    assert set(sansio.__all__) == SANSIO_NAMES
    for name in SANSIO_NAMES:
        value = getattr(sansio, name)
        assert value is not None or name == "NO_AUTH", name
        if inspect.isfunction(value):
            assert value.__doc__, f"aiogoogle.sansio.{name} has no docstring"


@pytest.mark.parametrize(
    ("dotted", "expected"),
    [
        ("aiogoogle.sansio.run_sync", ["flow", "send", "sleep", "authorize", "files", "clock", "monotonic", "max_response_size"]),
        ("aiogoogle.sansio.run_async", ["flow", "send", "sleep", "authorize", "files", "clock", "monotonic", "max_response_size"]),
        ("aiogoogle.sansio.Reply.__init__", ["self", "status", "headers", "body", "reason", "close"]),
        ("aiogoogle.sync.Aiogoogle.__init__", ["self", "session_factory", "api_key", "user_creds", "client_creds", "service_account_creds", "kwargs"]),
        ("aiogoogle.sync.Aiogoogle.as_user", ["self", "requests", "kwargs"]),
        ("aiogoogle.sync.Aiogoogle.pages", ["self", "response"]),
        ("aiogoogle.sync.Aiogoogle.items", ["self", "response", "field"]),
    ],
)
def test_embedding_signatures(dotted: str, expected: list[str]) -> None:
    assert _params(_resolve(dotted)) == expected


def test_sync_client_offers_the_async_clients_calls() -> None:
    from aiogoogle import Aiogoogle
    from aiogoogle.sync import Aiogoogle as SyncAiogoogle

    calls = {"discover", "list_api", "as_user", "as_service_account", "as_api_key", "as_anon", "as_id_token", "id_token", "send", "items", "close"}
    for name in calls:
        assert callable(getattr(Aiogoogle, name)) and callable(getattr(SyncAiogoogle, name)), name
        assert not inspect.iscoroutinefunction(getattr(SyncAiogoogle, name)), name
    client = SyncAiogoogle(api_key="AIzaSy-k", discovery_cache=False)
    assert client.api_key == "AIzaSy-k" and client.aio.api_key == "AIzaSy-k"
    assert type(client.oauth2._target).__name__ == "Oauth2Manager"


def test_one_backend_table() -> None:
    from aiogoogle.sessions.backends import BACKENDS, TABLE, session_class
    from aiogoogle.sessions.base import BaseSession

    assert BACKENDS == ("asyncio", "curio", "curio-h11", "trio", "sync")
    for name in BACKENDS:
        cls = session_class(name)
        assert issubclass(cls, BaseSession) and not inspect.isabstract(cls), name
    assert TABLE["sync"].blocking and not TABLE["trio"].blocking
    assert sorted(BaseSession.__abstractmethods__) == ["close", "gather", "lock", "run_sync", "send", "sleep"]
