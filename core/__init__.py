"""aiogoogle: an async Google API client on a sans-IO core.

The names documented by aiogoogle 5.x are here under the same paths::

    from aiogoogle import Aiogoogle, GoogleAPI
    from aiogoogle.excs import HTTPError, AuthError, ValidationError
    from aiogoogle.auth.creds import UserCreds, ClientCreds, ServiceAccountCreds
    from aiogoogle.sessions.aiohttp_session import AiohttpSession
"""

from __future__ import annotations

from .__version__ import __version__
from ._http import DEFAULT_MAX_RESPONSE_SIZE, Timeout
from .client import Aiogoogle
from .discovery import DiscoveryEndpoints
from .excs import (
    AiogoogleError,
    AuthError,
    BatchError,
    ChecksumMismatch,
    DiscoveryError,
    HTTPError,
    LocalFileError,
    MediaError,
    RedirectError,
    RequestTimeout,
    ResponseTooLarge,
    ResumableUploadError,
    TransportError,
    ValidationError,
)
from .models import MediaDownload, MediaUpload, Request, Response, ResumableUpload
from .resource import GoogleAPI, Method, Resource
from .retry import RetryPolicy

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "Aiogoogle",
    "AiogoogleError",
    "AuthError",
    "BatchError",
    "ChecksumMismatch",
    "DiscoveryEndpoints",
    "DiscoveryError",
    "GoogleAPI",
    "HTTPError",
    "LocalFileError",
    "MediaDownload",
    "MediaError",
    "MediaUpload",
    "Method",
    "RedirectError",
    "Request",
    "RequestTimeout",
    "Resource",
    "Response",
    "ResponseTooLarge",
    "ResumableUpload",
    "ResumableUploadError",
    "RetryPolicy",
    "Timeout",
    "TransportError",
    "ValidationError",
    "__version__",
]
