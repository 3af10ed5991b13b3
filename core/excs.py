"""The exception hierarchy, and the redaction helpers every error message goes through.

::

    AiogoogleError
    ├── ValidationError        bad arguments; lists every problem with its path
    ├── DiscoveryError         a malformed or unusable discovery document
    ├── HTTPError              the server answered with an error status
    │   ├── AuthError          authentication or authorisation failed
    │   └── RedirectError      a 3xx that was not followed (loop, limit, refused target)
    ├── TransportError         no usable HTTP response (connection, TLS, protocol)
    │   ├── ConnectError       the connection could not be made (request never sent)
    │   │   └── ConnectTimeout
    │   ├── TransportTimeout   connect or read timeout (also a builtin TimeoutError)
    │   │   └── ReadTimeout
    │   └── ResponseTooLarge   a buffered body (after decoding) exceeded the size limit
    ├── RequestTimeout         a total timeout expired (also a builtin TimeoutError)
    ├── MediaError             an upload or download cannot proceed
    │   ├── ResumableUploadError
    │   ├── ChecksumMismatch   downloaded bytes do not match x-goog-hash
    │   └── LocalFileError     a local file cannot be read or written (names the path)
    └── BatchError             a batch request cannot be built or its reply parsed

Secrets (access and refresh tokens, API keys, client secrets, private keys, upload
session ids) never appear in messages: URLs and headers shown in errors go through
:func:`redact_url` and :func:`redact_headers`.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ._parse import decode as _json_decode

if TYPE_CHECKING:
    from .models import Request, Response

__all__ = [
    "AiogoogleError",
    "AuthError",
    "BatchError",
    "ChecksumMismatch",
    "ConnectError",
    "ConnectTimeout",
    "ReadTimeout",
    "DiscoveryError",
    "HTTPError",
    "LocalFileError",
    "MediaError",
    "Problem",
    "RedirectError",
    "RequestTimeout",
    "ResponseTooLarge",
    "ResumableUploadError",
    "TransportError",
    "TransportTimeout",
    "ValidationError",
    "redact_headers",
    "redact_text",
    "redact_url",
]

# Query parameters whose values are credentials (docs/protocol.md §1.4 global parameters, §6.8)
# or capabilities (a resumable session's upload_id lets anyone write the object).
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:key|access_token|oauth_token|token|upload_id|client_secret|refresh_token|code|assertion|id_token)=)([^&#\s'\"<>]*)"
)
_SECRET_HEADERS = frozenset(
    {"authorization", "x-goog-api-key", "proxy-authorization", "cookie", "set-cookie"}
)
# Names that mark a value as secret wherever it appears (parameters, body fields).
_SECRET_NAME = re.compile(r"(?i)(?:^|[._-])(?:key|apikey|token|secret|password|passwd|credential|private_?key|assertion)s?$|access_?token|refresh_?token|client_?secret|private_?key|api_?key")


def redact_url(url: str) -> str:
    """Return ``url`` with credential-bearing query values masked."""
    return _SECRET_QUERY.sub(lambda m: m.group(1) + ("***" if m.group(2) else ""), url)


# A credential in free text (a third-party library's exception message, which may quote
# the request's URL or headers): secret query values and Authorization-style values.
_SECRET_TEXT_AUTH = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{4,}")


def redact_text(text: str) -> str:
    """Return ``text`` with credential-bearing query values and ``Bearer``/``Basic``
    credentials masked: for messages that quote another library's exception text."""
    return _SECRET_TEXT_AUTH.sub(lambda m: f"{m.group(1)}{m.group(2)}***", redact_url(text))


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """Return a copy of ``headers`` with credential headers masked."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        if name.lower() in _SECRET_HEADERS:
            scheme, _, rest = str(value).partition(" ")
            out[name] = f"{scheme} ***" if rest else "***"
        else:
            out[name] = value
    return out


def is_secret_name(name: str) -> bool:
    """True when a parameter or field called ``name`` holds a credential."""
    return bool(_SECRET_NAME.search(name))


class AiogoogleError(Exception):
    """Root of every exception raised by aiogoogle."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (multiprocessing, task queues) and copied as they are: the message and
        # every attribute, without running __init__ again, whose arguments differ from
        # ``args`` in most subclasses (and which would redact or format the message twice).
        # An HTTPError's ``req`` and ``res`` pickle their data, not their links to a client
        # or the caller's hooks (see Request and Response).
        return (_rebuild, (type(self), self.args, self.__dict__))


class Problem(NamedTuple):
    """One validation problem: where (``path`` into the arguments), what, and the value."""

    path: str
    message: str
    value: Any = None

    def describe(self) -> str:
        if self.value is _NO_VALUE:
            return f"{self.path}: {self.message}"
        last = re.split(r"[.\[]", self.path)[-1].rstrip("]")
        if is_secret_name(last):
            shown = "<redacted>"
        else:
            shown = repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
        return f"{self.path}: {self.message} (got {shown})"


class _NoValue:
    """The marker of a problem that has no value to show; pickles as this module's single
    instance, so that a copied or unpickled error tells it apart as the original does."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "_NO_VALUE"


_NO_VALUE: Any = _NoValue()


class _Shown:
    """Stands in, in a pickled error, for a problem's value that cannot be pickled (a
    function, an open stream): it shows as the value did."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Shown, (self.text,))


def _portable(value: Any) -> Any:
    """``value`` when it can be pickled, else a :class:`_Shown` with its ``repr``."""
    try:
        pickle.dumps(value)
    except Exception:
        return _Shown(repr(value))
    return value


class ValidationError(AiogoogleError, ValueError):
    """Arguments that do not fit the method's discovery schema.

    ``problems`` lists every problem found, each with its path into the arguments
    (``pageSize``, ``json.disks[0].initializeParams.diskSizeGb``) and the offending value.
    The message shows them all; values of secret-looking fields are redacted.
    """

    problems: tuple[Problem, ...]

    def __init__(self, problems: Iterable[tuple[str, str] | tuple[str, str, Any]] | str) -> None:
        if isinstance(problems, str):
            self.problems = (Problem("", problems, _NO_VALUE),)
        else:
            self.problems = tuple(
                Problem(p[0], p[1], p[2] if len(p) > 2 else _NO_VALUE) for p in problems
            )
        super().__init__(self._message())

    def __reduce__(self) -> tuple[Any, ...]:
        # The values are whatever the caller passed (a bound method instead of a Request,
        # a lambda): those that cannot be pickled are kept as their repr.
        state = dict(self.__dict__)
        state["problems"] = tuple(p._replace(value=_portable(p.value)) for p in self.problems)
        return (_rebuild, (type(self), self.args, state))

    def _message(self) -> str:
        lines = [p.describe() if p.path else p.message for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems:\n  " + "\n  ".join(lines)


class DiscoveryError(AiogoogleError, ValueError):
    """A discovery document is malformed, or names something that does not exist."""


class HTTPError(AiogoogleError):
    """The server answered with an error status (or an auth endpoint refused).

    ``req`` and ``res`` are the :class:`~aiogoogle.models.Request` and
    :class:`~aiogoogle.models.Response` (either may be ``None``). Google's error body
    (docs/protocol.md §4.1) is parsed into ``status_code``, ``message`` (Google's text),
    ``status`` (the google.rpc code name, e.g. ``PERMISSION_DENIED``), ``reason`` (the first
    ``errors[].reason`` or ``ErrorInfo.reason``, e.g. ``rateLimitExceeded``), ``errors``
    and ``details``.
    """

    def __init__(self, msg: str, req: Request | None = None, res: Response | None = None) -> None:
        super().__init__(msg)
        self.req = req
        self.res = res
        info = google_error_info(res) if res is not None else {}
        self.status_code: int | None = getattr(res, "status_code", None)
        self.message: str | None = info.get("message")
        self.status: str | None = info.get("status")
        self.reason: str | None = info.get("reason")
        self.errors: list[Any] = info.get("errors") or []
        self.details: list[Any] = info.get("details") or []


class AuthError(HTTPError):
    """Authentication or authorisation failed: a 401, a refused token grant, a revoked
    refresh token, or an id_token that failed a check (the message names the check)."""


class TransportError(AiogoogleError):
    """No usable HTTP response: connection refused or reset, TLS failure, a malformed or
    truncated response. Raised by adapters and fed back into the core's retry policy."""

    def __init__(self, msg: str, *, url: str | None = None) -> None:
        self.url = redact_url(url) if url else None
        # The message often quotes a third-party exception, whose text may carry the
        # request URL with its API key: scrubbed here, for every adapter at once.
        msg = redact_text(msg)
        super().__init__(f"{msg} ({self.url})" if self.url else msg)


class ConnectError(TransportError):
    """The connection could not be established (refused, DNS, TLS handshake): the request
    certainly did not reach the server, so retrying is safe for every method."""


class TransportTimeout(TransportError, TimeoutError):
    """A connect or read timeout expired."""


class ConnectTimeout(ConnectError, TransportTimeout):
    """Connecting took longer than ``Timeout.connect``."""


class ReadTimeout(TransportTimeout):
    """Once connected, the server sent nothing for longer than ``Timeout.read``."""


class ResponseTooLarge(TransportError):
    """A response body that the client buffers in memory (JSON replies, error bodies,
    token, JWKS and discovery replies, batch replies) grew past ``limit`` bytes after
    ``Content-Encoding`` was undone, or a compressed body expanded beyond it.

    Reading stopped there and the connection was closed, so a hostile or broken server
    cannot make the client hold unbounded memory. The limit is the client's
    ``max_response_size`` (``Aiogoogle(max_response_size=...)``), or a request's own
    ``request.max_response_size``; streamed downloads (``download_file`` / ``pipe_to``)
    never buffer and are not limited by it. Never retried: the same request would get
    the same body.
    """

    def __init__(self, msg: str, *, limit: int, url: str | None = None) -> None:
        self.limit = limit
        super().__init__(msg, url=url)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    """Unpickle an exception whose ``__init__`` takes other arguments than ``args``."""
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class RequestTimeout(AiogoogleError, TimeoutError):
    """A total timeout (``timeout=`` of ``as_*`` or of a request) expired. Nothing is
    returned partially: every request still running was cancelled."""


class MediaError(AiogoogleError):
    """An upload or download cannot proceed (size over ``maxSize``, MIME type not
    accepted, a source that cannot be re-read, a destination that cannot be written)."""


class ResumableUploadError(MediaError):
    """A resumable upload failed. ``session_uri`` and ``offset`` say where it stopped so
    that it can be resumed (docs/protocol.md §2.3); a 404/410 means the session expired."""

    def __init__(self, msg: str, *, session_uri: str | None = None, offset: int | None = None) -> None:
        super().__init__(msg)
        self.session_uri = session_uri
        self.offset = offset


class ChecksumMismatch(MediaError):
    """Downloaded bytes do not match the checksum the server sent (``x-goog-hash``)."""


class LocalFileError(MediaError):
    """A local file of an upload or download cannot be read or written: a directory in
    its place, a missing or read-only directory, a full disk. ``path`` names the file and
    the message the reason (``No space left on device``)."""

    def __init__(self, msg: str, *, path: str) -> None:
        super().__init__(msg)
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


class BatchError(AiogoogleError):
    """A batch request cannot be built (media parts, mixed APIs) or its reply parsed."""


def google_error_info(res: Any) -> dict[str, Any]:
    """Extract Google's error fields from a response (its decoded ``json``, else its raw
    ``data``): see :func:`error_info`."""
    return error_info(getattr(res, "json", None), getattr(res, "data", None))


def error_info(body: Any, data: Any = None) -> dict[str, Any]:
    """Google's error fields from an error body, already decoded (``body``) or raw bytes or
    text (``data``, read as JSON when ``body`` is ``None``), tolerating every shape seen in
    practice: v2 ``{"error": {...}}`` (https://cloud.google.com/apis/design/errors), a list
    of those, OAuth's ``{"error": "invalid_grant", "error_description": ...}`` (RFC 6749
    §5.2), plain text and empty bodies."""
    if body is None and isinstance(data, (bytes, str)) and data:
        try:
            body = _json_decode(data)
        except (ValueError, RecursionError):
            # Not JSON, or nested too deeply to decode: shown as the text it is.
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            return {"message": text.strip()[:500] or None}
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return {}
    err = body.get("error")
    if isinstance(err, str):
        # RFC 6749 §5.2 token-endpoint error.
        return {"reason": err, "message": _text(body.get("error_description")) or err, "status": None}
    if not isinstance(err, dict):
        return {}
    raw_errors, raw_details = err.get("errors"), err.get("details")
    errors: list[Any] = raw_errors if isinstance(raw_errors, list) else []
    details: list[Any] = raw_details if isinstance(raw_details, list) else []
    reason = None
    for e in errors:
        if isinstance(e, dict) and e.get("reason"):
            reason = _text(e["reason"])
            break
    if reason is None:
        for d in details:
            if isinstance(d, dict) and (_text(d.get("@type")) or "").endswith("google.rpc.ErrorInfo") and d.get("reason"):
                reason = _text(d["reason"])
                break
    message = err.get("message")
    return {
        "message": _text(message),
        "status": _text(err.get("status")),
        "reason": reason,
        "errors": errors,
        "details": details,
    }


def _text(value: Any) -> str | None:
    """A field of an error body as text. Servers may put any JSON there, and ``str()`` of
    a deeply nested value recurses until ``RecursionError``."""
    if value is None or isinstance(value, str):
        return value
    try:
        return str(value)[:500]
    except RecursionError:
        return f"<a {type(value).__name__} nested too deeply to show>"


class RedirectError(HTTPError):
    """A redirect (3xx) that the client did not follow, so the call has no result.

    Raised for a redirect loop (a target already requested in this chain), more redirects
    than ``max_redirects``, a 3xx that is not a redirect to follow (300, 305, 304 for a
    request that was not conditional, 308 outside a resumable upload), a missing, malformed
    or non-http(s) ``Location``, and a redirect the client refuses for safety: one that
    would send a request body to another origin, that cannot send a streamed body again,
    or that leaves the origin of a token endpoint. Never a success: with
    ``raise_for_status=False`` too, since there is no answer to return.

    ``chain`` lists the URLs requested, in order, and ``location`` the target that was not
    followed (``None`` when there was none); both are redacted (:func:`redact_url`, no
    ``user:password@``). ``res`` is the 3xx response.
    """

    def __init__(
        self,
        msg: str,
        req: Request | None = None,
        res: Response | None = None,
        *,
        chain: Iterable[str] = (),
        location: str | None = None,
    ) -> None:
        super().__init__(msg, req, res)
        self.chain: tuple[str, ...] = tuple(chain)
        self.location = location
