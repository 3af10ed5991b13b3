"""Testing helpers: :class:`LocalGoogleServer` (a local Google-compatible server, see
:mod:`aiogoogle.testing.server`), real discovery documents for offline use
(:func:`discovery_document`, :func:`shipped_documents`) and Hypothesis strategies
(:mod:`aiogoogle.testing.strategies`).

The server is imported lazily, so the documents and the strategies work without aiohttp
installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._documents import discovery_document, shipped_documents

if TYPE_CHECKING:
    from .server import LocalGoogleServer, Recorded, Reply, google_error, pattern_bytes

__all__ = ["LocalGoogleServer", "Recorded", "Reply", "discovery_document", "google_error", "pattern_bytes", "shipped_documents"]

_SERVER_NAMES = {"LocalGoogleServer", "Recorded", "Reply", "google_error", "pattern_bytes"}


def __getattr__(name: str) -> Any:
    if name in _SERVER_NAMES:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
