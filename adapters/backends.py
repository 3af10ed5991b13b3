"""The backend table: every adapter by name, for code that picks its framework at run time
(the command line, the test suite and its contract plugin, the benchmarks).

A *backend* is an adapter (a session class, :class:`~aiogoogle.sessions.base.BaseSession`)
together with the runner of the framework it needs:

=============  ===============================================================  ==========
name           session                                                          runner
=============  ===============================================================  ==========
``asyncio``    :class:`~aiogoogle.sessions.aiohttp_session.AiohttpSession`      asyncio
``curio``      :class:`~aiogoogle.sessions.curio_asks_session.CurioAsksSession` curio
``curio-h11``  :class:`~aiogoogle.sessions.curio_session.CurioSession`          curio
``trio``       :class:`~aiogoogle.sessions.trio_session.TrioSession`            trio
``sync``       :class:`~aiogoogle.sync.session.SyncSession`                     none (blocking)
=============  ===============================================================  ==========

Adding an adapter means adding its module and one :class:`Backend` line to
:data:`TABLE` (or, for one outside this package, :func:`register`). Nothing is imported
until asked for: a missing framework raises :class:`ImportError` then.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BACKENDS", "TABLE", "Backend", "backend", "register", "run", "session_class"]


def _run_asyncio(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    import asyncio

    async def main() -> Any:
        return await fn(*args)

    return asyncio.run(main())


def _run_curio(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    import curio

    return curio.run(fn, *args)


def _run_trio(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    import trio

    return trio.run(fn, *args)


def _run_blocking(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    # A blocking session's awaitables finish at once: no event loop is needed.
    from aiogoogle.sansio import complete

    return complete(fn(*args))


@dataclass(frozen=True)
class Backend:
    """One adapter: ``session`` is ``"module:Class"`` (imported on first use) and
    ``runner(fn, *args)`` runs ``fn(*args)`` on the adapter's framework. ``blocking``: the
    session blocks the calling thread (concurrency is threads) instead of running on an
    event loop."""

    name: str
    session: str
    runner: Callable[..., Any]
    blocking: bool = False

    def session_class(self) -> type[Any]:
        module, _, attr = self.session.partition(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]

    def run(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return self.runner(fn, *args)


#: Every backend, the default (asyncio) first.
TABLE: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("asyncio", "aiogoogle.sessions.aiohttp_session:AiohttpSession", _run_asyncio),
        Backend("curio", "aiogoogle.sessions.curio_asks_session:CurioAsksSession", _run_curio),
        Backend("curio-h11", "aiogoogle.sessions.curio_session:CurioSession", _run_curio),
        Backend("trio", "aiogoogle.sessions.trio_session:TrioSession", _run_trio),
        Backend("sync", "aiogoogle.sync.session:SyncSession", _run_blocking, blocking=True),
    )
}

#: Every backend name, the default (asyncio) first.
BACKENDS = tuple(TABLE)


def register(entry: Backend) -> None:
    """Add (or replace) a backend, e.g. an adapter of another package, so that the test
    plugin (:mod:`aiogoogle.testing.contract`) and the command line can use it by name."""
    global BACKENDS
    TABLE[entry.name] = entry
    BACKENDS = tuple(TABLE)


def backend(name: str) -> Backend:
    """The backend called ``name``."""
    entry = TABLE.get(name)
    if entry is None:
        raise ValueError(f"unknown backend {name!r} (choose from {', '.join(TABLE)})")
    return entry


def session_class(name: str) -> type[Any]:
    """The session class of backend ``name`` (one of :data:`BACKENDS`)."""
    return backend(name).session_class()


def run(name: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run ``fn(*args)`` to completion on backend ``name``'s framework and return its result."""
    return backend(name).run(fn, *args)
