"""Sessions and event loops by name, for code that picks its framework at run time (the
command line, the test suite, the benchmarks).

=============  ===================================================  ==========
name           session                                              event loop
=============  ===================================================  ==========
``asyncio``    :class:`~aiogoogle.sessions.aiohttp_session.AiohttpSession`        asyncio
``curio``      :class:`~aiogoogle.sessions.curio_asks_session.CurioAsksSession`   curio
``curio-h11``  :class:`~aiogoogle.sessions.curio_session.CurioSession`            curio
``trio``       :class:`~aiogoogle.sessions.trio_session.TrioSession`              trio
=============  ===================================================  ==========

Nothing is imported until asked for: a missing framework raises :class:`ImportError` then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["BACKENDS", "run", "session_class"]

#: Every backend name, the default (asyncio) first.
BACKENDS = ("asyncio", "curio", "curio-h11", "trio")


def session_class(backend: str) -> type[Any]:
    """The session class of ``backend`` (one of :data:`BACKENDS`)."""
    if backend == "asyncio":
        from .aiohttp_session import AiohttpSession

        return AiohttpSession
    if backend == "curio":
        from .curio_asks_session import CurioAsksSession

        return CurioAsksSession
    if backend == "curio-h11":
        from .curio_session import CurioSession

        return CurioSession
    if backend == "trio":
        from .trio_session import TrioSession

        return TrioSession
    raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")


def run(backend: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run ``fn(*args)`` to completion on ``backend``'s event loop and return its result."""
    if backend == "asyncio":
        import asyncio

        async def main() -> Any:
            return await fn(*args)

        return asyncio.run(main())
    if backend in ("curio", "curio-h11"):
        import curio

        return curio.run(fn, *args)
    if backend == "trio":
        import trio

        return trio.run(fn, *args)
    raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
