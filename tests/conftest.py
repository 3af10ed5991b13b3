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


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Give each item of a parametrized ``@given`` test the settings the test was declared with.

    Hypothesis's pytest plugin (``_hypothesis_pytestplugin.pytest_runtest_call``) wraps the
    settings of a parametrized test in a new child object on every item, stored on the
    function all its items share, so the chain of parents grows by one per item; with
    ``database=None`` (the CI profile) ``settings.database`` is not cached and walks the
    whole chain, several times per item. The 900 items of one sweep then cost O(n^2):
    measured on 900 trivial parametrized ``@given`` items, 11.2 s, and 5.7 s with this reset.
    Restoring the declared settings before the plugin runs keeps its own wrapping (it still
    suppresses ``differing_executors`` for each item) and the chain one level deep.
    """
    fn = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
    if fn is not None and hasattr(fn, "_hypothesis_internal_use_settings"):
        declared = fn.__dict__.setdefault("_aiogoogle_declared_settings", fn._hypothesis_internal_use_settings)
        fn._hypothesis_internal_use_settings = declared
    yield

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
