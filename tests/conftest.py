"""Shared test fixtures.

``backend`` parametrizes a test over every backend (aiogoogle.sessions.backends). A contract test is written once
as an ``async def`` scenario and run with ``backend.run(scenario)``; inside, it builds its
client with ``backend.client(...)`` (or ``backend.session()``), so every feature is proven
on asyncio (aiohttp), curio (asks, and h11 as 'curio-h11') and trio (h11) by the same
code.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from aiogoogle.sessions.backends import BACKENDS as ALL_BACKENDS
from aiogoogle.sessions.backends import run as run_on
from aiogoogle.sessions.backends import session_class

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


class Backend:
    """One I/O framework: how to run a coroutine function and which session to use."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Backend({self.name})"

    def session_factory(self, **kwargs: Any) -> Callable[[], Any]:
        cls = session_class(self.name)
        return lambda: cls(**kwargs)

    def session(self, **kwargs: Any) -> Any:
        return self.session_factory(**kwargs)()

    def client(self, *args: Any, session_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        from aiogoogle import Aiogoogle

        kwargs.setdefault("discovery_cache", False)
        return Aiogoogle(*args, session_factory=self.session_factory(**(session_kwargs or {})), **kwargs)

    def run(self, fn: Callable[[], Awaitable[Any]], *args: Any) -> Any:
        return run_on(self.name, fn, *args)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return Backend(request.param)


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
