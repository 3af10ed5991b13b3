"""Testing helpers: :class:`LocalGoogleServer` (a local Google-compatible server, see
:mod:`aiogoogle.testing.server`) and Hypothesis strategies (:mod:`aiogoogle.testing.strategies`).

The server is imported lazily, so the strategies work without aiohttp installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import LocalGoogleServer, Recorded, Reply, google_error, pattern_bytes

__all__ = ["LocalGoogleServer", "Recorded", "Reply", "google_error", "pattern_bytes"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
