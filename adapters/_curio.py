"""What the two curio sessions share: sleep, gather, locks and worker threads.

:class:`~aiogoogle.sessions.curio_session.CurioSession` (h11) and
:class:`~aiogoogle.sessions.curio_asks_session.CurioAsksSession` (asks) differ only in how
they move bytes; everything that is plain curio lives here, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import curio

from aiogoogle.excs import RequestTimeout

from .base import BaseSession

__all__ = ["CurioSessionBase", "deadline"]

T = TypeVar("T")


class _NoDeadline:
    expired = False

    async def __aenter__(self) -> _NoDeadline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def deadline(seconds: float | None) -> Any:
    """``curio.timeout_after`` (which mishandles ``None``), or no limit at all."""
    return _NoDeadline() if seconds is None else curio.timeout_after(seconds)


class CurioSessionBase(BaseSession):
    """``sleep``, ``gather``, ``lock`` and ``run_sync`` on curio; subclasses add ``send``
    and ``close``."""

    async def sleep(self, seconds: float) -> None:
        await curio.sleep(seconds)

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        async def run(thunk: Callable[[], Awaitable[T]]) -> T:
            return await thunk()

        tasks: list[Any] = []
        try:
            # Leaving the group with an exception cancels every task still running.
            async with deadline(timeout) as scope, curio.TaskGroup() as group:
                tasks = [await group.spawn(run, thunk) for thunk in thunks]
                while (task := await group.next_done()) is not None:
                    if task.exception is not None:
                        raise task.exception
        except curio.TaskTimeout:
            # Only our own deadline becomes RequestTimeout; an enclosing timeout_after of
            # the caller's reaches this block as TimeoutCancellationError and passes.
            if scope.expired:
                raise RequestTimeout(f"not finished within the total timeout of {timeout} s; every request still running was cancelled") from None
            raise
        return [task.result for task in tasks]

    def lock(self) -> AbstractAsyncContextManager[Any]:
        return curio.Lock()  # type: ignore[no-any-return]

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await curio.run_in_thread(fn, *args)  # type: ignore[no-any-return]
