"""The contract suite's pytest plugin: run aiogoogle's adapter contract tests against any
adapter, with one fixture.

Every contract test is written once, as an ``async def`` scenario, and takes the
``backend`` fixture: ``backend.run(scenario)`` runs it on the adapter's framework, and
inside, ``backend.client(...)`` (an :class:`aiogoogle.Aiogoogle` on the adapter) or
``backend.session()`` (the adapter itself) do the I/O. The plugin provides that fixture
(parametrized over the backends chosen) and the servers the tests use (``server``,
``clean_server``, ``state``, ``tls_server``, ``other_server``).

An adapter author runs the suite against their adapter::

    pytest -p aiogoogle.testing.contract --aiogoogle-backend=mypkg.session:MySession \\
        path/to/aiogoogle/tests/contract

``--aiogoogle-backend`` takes a name of :data:`aiogoogle.sessions.backends.TABLE` or
``module:SessionClass`` (an async adapter run on asyncio; add
``@trio``/``@curio``/``@sync`` for another runner), and may be repeated; without it every
backend of the table runs. A ``conftest.py`` may also
:func:`~aiogoogle.sessions.backends.register` a backend and name it.

Blocking backends (``sync``): ``backend.run`` drives the scenario without an event loop,
and ``backend.client()`` is the synchronous client (:class:`aiogoogle.sync.Aiogoogle`)
behind an awaitable facade, so the same scenario proves it; the requests of one call run
in threads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from aiogoogle.sessions import backends as _backends

__all__ = ["ContractBackend", "backend_names"]

_OPTION = "--aiogoogle-backend"


class _Awaitable:
    """:class:`aiogoogle.sync.Aiogoogle` with the async client's awaitable methods, for
    scenarios written once for every backend. What the synchronous client does not wrap
    (the managers' async methods, ``options``) is the async client it runs, which a
    blocking session drives without an event loop as well."""

    _CALLS = frozenset({"discover", "list_api", "as_user", "as_service_account", "as_api_key", "as_anon", "as_id_token", "id_token", "send", "close"})

    def __init__(self, client: Any) -> None:
        object.__setattr__(self, "_client", client)

    async def __aenter__(self) -> _Awaitable:
        self._client.__enter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._client.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        client = self._client
        if name in self._CALLS:
            call = getattr(client, name)

            async def awaitable(*args: Any, **kwargs: Any) -> Any:
                return call(*args, **kwargs)

            return awaitable
        if name == "items":
            return lambda response, field=None: _aiter(client.items(response, field))
        return getattr(client.aio, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._client, name, value)

    def __repr__(self) -> str:
        return repr(self._client)


async def _aiter(items: Iterator[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


class ContractBackend:
    """One backend as the contract tests use it: ``run`` a scenario on its framework,
    make its ``session()`` or a ``client()`` on it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.entry = _resolve(name)

    def __repr__(self) -> str:
        return f"Backend({self.name})"

    @property
    def blocking(self) -> bool:
        return self.entry.blocking

    def session_factory(self, **kwargs: Any) -> Callable[[], Any]:
        cls = self.entry.session_class()
        return lambda: cls(**kwargs)

    def session(self, **kwargs: Any) -> Any:
        return self.session_factory(**kwargs)()

    def client(self, *args: Any, session_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("discovery_cache", False)
        factory = self.session_factory(**(session_kwargs or {}))
        if self.entry.blocking:
            from aiogoogle.sync import Aiogoogle as SyncAiogoogle

            return _Awaitable(SyncAiogoogle(factory, *args, **kwargs))
        from aiogoogle import Aiogoogle

        return Aiogoogle(factory, *args, **kwargs)

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.entry.run(fn, *args)


_RUNNERS = {"asyncio": "asyncio", "trio": "trio", "curio": "curio", "sync": "sync"}


def _resolve(name: str) -> _backends.Backend:
    """A table name, or ``module:Class[@runner]`` registered under that spelling."""
    if name in _backends.TABLE:
        return _backends.TABLE[name]
    if ":" not in name:
        return _backends.backend(name)  # raises, naming the choices
    session, _, runner = name.partition("@")
    runner = runner or "asyncio"
    if runner not in _RUNNERS:
        raise ValueError(f"unknown runner {runner!r} in {name!r} (choose from {', '.join(_RUNNERS)})")
    model = _backends.TABLE["sync" if runner == "sync" else ("curio-h11" if runner == "curio" else runner)]
    entry = _backends.Backend(name, session, model.runner, blocking=model.blocking)
    _backends.register(entry)
    return entry


def backend_names(config: pytest.Config) -> list[str]:
    """The backends chosen on the command line (default: the whole table)."""
    chosen = config.getoption(_OPTION, default=None) or []
    return list(chosen) or list(_backends.TABLE)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiogoogle", "aiogoogle contract suite")
    group.addoption(
        _OPTION,
        action="append",
        default=[],
        metavar="NAME",
        help="backend to run the contract tests on: a name of aiogoogle.sessions.backends.TABLE or module:SessionClass[@runner] (repeatable; default: all)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    # A test that parametrizes ``backend`` itself (a subset of backends) keeps its own.
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if "backend" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)):
            return
    chosen = backend_names(metafunc.config)
    metafunc.parametrize("backend", chosen, indirect=True, ids=chosen)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> ContractBackend:
    """The backend a contract test runs on (one test per chosen backend)."""
    return ContractBackend(request.param)


@pytest.fixture(scope="session")
def server() -> Iterator[Any]:
    """One plain-HTTP :class:`~aiogoogle.testing.LocalGoogleServer` for the session."""
    from aiogoogle.testing import LocalGoogleServer

    with LocalGoogleServer() as srv:
        yield srv


@pytest.fixture
def clean_server(server: Any) -> Any:
    """:func:`server`, reset before the test."""
    server.reset()
    return server


@pytest.fixture
def state(server: Any) -> Any:
    """The auth plugin's state of the freshly reset :func:`server`."""
    from aiogoogle.testing._server_auth import auth_state

    server.reset()
    return auth_state(server)


@pytest.fixture(scope="session")
def tls_server() -> Iterator[Any]:
    """The same server over TLS, with its own (trustme) CA."""
    from aiogoogle.testing import LocalGoogleServer

    with LocalGoogleServer(tls=True) as srv:
        yield srv


@pytest.fixture(scope="session")
def other_server() -> Iterator[Any]:
    """A second origin (cross-origin redirects)."""
    from aiogoogle.testing import LocalGoogleServer

    with LocalGoogleServer() as srv:
        yield srv
