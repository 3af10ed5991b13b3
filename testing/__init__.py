"""Testing helpers: :class:`LocalGoogleServer` (a local Google-compatible server, see
:mod:`aiogoogle.testing.server`), real discovery documents for offline use
(:func:`discovery_document`, :func:`shipped_documents`) and Hypothesis strategies
(:mod:`aiogoogle.testing.strategies`), and :func:`service_account_key`: a service account key
file the local server accepts.

The server is imported lazily, so the documents and the strategies work without aiohttp
installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._documents import discovery_document, shipped_documents

if TYPE_CHECKING:
    from ._server_auth import service_account_key
    from .server import LocalGoogleServer, Recorded, Reply, google_error, pattern_bytes

__all__ = [
    "LocalGoogleServer",
    "Recorded",
    "Reply",
    "discovery_document",
    "google_error",
    "pattern_bytes",
    "service_account_key",
    "shipped_documents",
]

_SERVER_NAMES = {"LocalGoogleServer", "Recorded", "Reply", "google_error", "pattern_bytes"}


def __getattr__(name: str) -> Any:
    if name in _SERVER_NAMES:
        from . import server

        return getattr(server, name)
    if name == "service_account_key":
        from ._server_auth import service_account_key

        return service_account_key
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
