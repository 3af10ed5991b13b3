"""The adapter interface under aiogoogle's old name (``AbstractSession``)."""

from aiogoogle._transport import AsyncFile, RawResponse, Session

from .base import BaseSession

#: aiogoogle 5.x called the session interface ``AbstractSession``.
AbstractSession = Session

__all__ = ["AbstractSession", "AsyncFile", "BaseSession", "RawResponse", "Session"]
