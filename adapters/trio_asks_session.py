"""aiogoogle 5.x's name for the trio session: :class:`~aiogoogle.sessions.trio_session.TrioSession`.

It no longer uses asks (asks dropped trio's old API; see
:mod:`aiogoogle.sessions.trio_session`), the name is kept so existing imports work.
"""

from .trio_session import TrioSession

#: The seed's name for :class:`TrioSession`.
TrioAsksSession = TrioSession

__all__ = ["TrioAsksSession", "TrioSession"]
