"""aiogoogle 5.x's name for the trio session: :class:`~aiogoogle.sessions.trio_session.TrioSession`.

It no longer uses asks (asks dropped trio's old API; see
:mod:`aiogoogle.sessions.trio_session`), the name is kept so existing imports work.
"""

from aiogoogle.models import Response

from .abc import AbstractSession
from .trio_session import TrioSession

#: The seed's name for :class:`TrioSession`.
TrioAsksSession = TrioSession

# AbstractSession and Response are importable from here as in aiogoogle 5.x.
__all__ = ["AbstractSession", "Response", "TrioAsksSession", "TrioSession"]
