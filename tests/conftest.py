"""Shared test fixtures.

``backend`` parametrizes a test over every backend (aiogoogle.sessions.backends.TABLE; the
plugin aiogoogle.testing.contract provides it, ``--aiogoogle-backend`` narrows it). A
contract test is written once as an ``async def`` scenario and run with
``backend.run(scenario)``; inside, it builds its client with ``backend.client(...)`` (or
``backend.session()``), so every feature is proven on asyncio (aiohttp), curio (asks, and
h11 as 'curio-h11'), trio (h11) and without an event loop ('sync': the synchronous client
on blocking sockets) by the same code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from aiogoogle.sessions.backends import BACKENDS as ALL_BACKENDS

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

BACKENDS = list(ALL_BACKENDS)

# The contract suite's fixtures (``backend``, the local servers) come from the plugin that
# ships them to adapter authors: these tests use it exactly as they would.
pytest_plugins = ["aiogoogle.testing.contract"]



def __getattr__(name: str) -> Any:
    # ``Backend``: one backend as the tests see it (``backend.run``, ``backend.client``,
    # ``backend.session``), the plugin's class. Imported on first use, once pytest has
    # loaded the plugin (importing it here first would keep pytest from registering it).
    if name == "Backend":
        from aiogoogle.testing.contract import ContractBackend

        return ContractBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@pytest.fixture(scope="session")
def discovery_dir() -> str:
    """The real discovery documents shipped in google-api-python-client."""
    import googleapiclient

    return os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")


@pytest.fixture(scope="session")
def load_doc(discovery_dir: str) -> Callable[[str], dict[str, Any]]:
    import json

    cache: dict[str, dict[str, Any]] = {}

    def load(name: str) -> dict[str, Any]:
        if name not in cache:
            with open(os.path.join(discovery_dir, f"{name}.json"), encoding="utf-8") as fh:
                cache[name] = json.load(fh)
        return cache[name]

    return load
