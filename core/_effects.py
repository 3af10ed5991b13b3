"""Effects: what a core flow asks the driver to do.

A *flow* is a generator that yields effects and receives their results back
(``Generator[Effect, Any, T]``; the httpx ``auth_flow`` shape, generalised). It never
performs I/O itself, so every multi-step protocol (retries, token refresh, resumable
uploads, pagination, batch) is plain synchronous code that tests drive by hand, without an
event loop. Transport failures come back into the flow as exceptions thrown at the
``yield`` (``gen.throw``), so the flow's own ``try``/``except`` is the recovery policy.

=================  =====================================================  ==================
effect             the driver ...                                         and sends back
=================  =====================================================  ==================
``Send``           performs the HTTP exchange (streams ``StreamBody``      ``HttpResponse``
                   segments in, streams accepted bodies to the consumer)
``Sleep``          waits                                                  ``None``
``Now``            reads the clock (wall or monotonic)                    ``float``
``Emit``           hands an item to the consumer of ``drive()``           ``None``
``Authorize``      asks the call's credentials for headers, refreshing    ``AuthInfo``
                   first when they are stale (single flight)
``Pull``           reads up to ``max_bytes`` from an async byte source    ``bytes`` (b"" = end)
``FileOp``         stats, removes or renames a local file                 see ``FileOp``
``Call``           calls a user callback, awaiting it if it is async      its result
``Run``            runs a blocking function in a worker thread (the       its result
                   adapter's ``run_sync``), e.g. a credential helper
=================  =====================================================  ==================
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ._http import BodyConsumer, HttpRequest

__all__ = ["AuthInfo", "Authorize", "Call", "Effect", "Emit", "FileOp", "Flow", "Now", "Pull", "Run", "Send", "Sleep"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Send:
    request: HttpRequest
    consumer: BodyConsumer | None = None


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Now:
    monotonic: bool = False


@dataclass(frozen=True, slots=True)
class Emit:
    item: Any


@dataclass(frozen=True, slots=True)
class Authorize:
    """Ask for credentials. ``stale`` is the token a 401 was just received with: if the
    credentials still hold it, they are refreshed before answering (docs/protocol.md §4.1)."""

    stale: str | None = None


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """How to authorise one request: headers to set, query parameters to add, and an
    opaque ``token`` identifying the credential used (passed back as ``Authorize.stale``)."""

    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    token: str | None = field(default=None, repr=False)


NO_AUTH = AuthInfo()


@dataclass(frozen=True, slots=True)
class Pull:
    source: AsyncIterable[bytes]
    max_bytes: int


@dataclass(frozen=True, slots=True)
class FileOp:
    """``size`` → int (``-1`` if missing; a directory raises ``IsADirectoryError``); ``mtime`` → float (modification time);
    ``remove`` → None (missing is fine); ``probe_write`` → None, or the ``OSError`` that
    creating or replacing a file at ``path`` would meet (a directory there, a missing or
    unwritable directory, a read-only file system), checked before a download starts;
    ``replace`` → None (atomically renames ``path`` to ``dest``); ``read`` → bytes (the whole
    small file, e.g. a credentials file); ``write`` → None (writes ``data`` atomically, owner-only
    permissions when ``private``)."""

    op: Literal["size", "mtime", "remove", "replace", "read", "write", "probe_write"]
    path: str
    dest: str | None = None
    data: bytes | None = field(default=None, repr=False)
    private: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    """Run ``fn(*args)``, which blocks (a child process, say), off the event loop."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


Effect = Send | Sleep | Now | Emit | Authorize | Pull | FileOp | Call | Run
Flow = Generator[Effect, Any, T]
