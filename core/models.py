"""User-visible request and response models (the seed's ``aiogoogle.models``).

A :class:`Request` is what ``api.resource.method(...)`` returns: an unsent, mutable
description of one API call. The client turns it into wire requests
(:mod:`aiogoogle._http`) when it is sent, applying credentials, media protocols, retries and
pagination. A :class:`Response` is what comes back (``full_res=True``) or what an
:class:`~aiogoogle.excs.HTTPError` carries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic

from ._parse import decode as _json_decode
from .excs import (
    AuthError,
    BatchError,
    HTTPError,
    MediaError,
    RedirectError,
    ValidationError,
    google_error_info,
    redact_url,
)

if TYPE_CHECKING:
    # The type of what sending a request gives back (its response body, e.g. a generated
    # stub's FileList), ``Any`` when not written (PEP 696 defaults, typing_extensions
    # being a type checker's own). Typing only: at run time a plain TypeVar.
    from typing_extensions import TypeVar

    from .retry import RetryPolicy

    _R_co = TypeVar("_R_co", covariant=True, default=Any)
else:
    from typing import TypeVar

    _R_co = TypeVar("_R_co", covariant=True)

__all__ = ["MediaDownload", "MediaUpload", "Request", "Response", "ResumableUpload"]

DEFAULT_UPLOAD_CHUNK_SIZE = 8 * 1024 * 1024  # multiple of 256 KiB (docs/protocol.md §2.3)
DEFAULT_DOWNLOAD_CHUNK_SIZE = 1024 * 1024

ProgressCallback = Callable[[int, "int | None"], Any]


class ResumableUpload:
    """What a method's discovery document says about its resumable protocol.

    Present on :attr:`MediaUpload.resumable` when the method supports resumable uploads.
    ``upload_path`` is the document's ``protocols.resumable.path`` expanded to a URL; the
    client sends resumable sessions to the ``/upload/`` URL with ``uploadType=resumable``
    instead, as Google's own clients do (docs/protocol.md §1.6, item 4).
    """

    def __init__(self, multipart: bool | None = None, chunk_size: int | None = None, upload_path: str | None = None) -> None:
        self.multipart = multipart
        self.chunk_size = chunk_size or DEFAULT_UPLOAD_CHUNK_SIZE
        self.upload_path = upload_path

    def __repr__(self) -> str:
        return f"ResumableUpload(multipart={self.multipart!r}, chunk_size={self.chunk_size!r})"


class MediaUpload:
    """The media part of an upload request.

    Args:
        file_path_or_bytes: a local file path, or the bytes to upload.
        upload_path: the full upload URL (``rootUrl + "upload/" + servicePath + path``).
        mime_range: MIME ranges the method accepts (the document's ``mediaUpload.accept``).
        max_size: the largest accepted upload in bytes (``mediaUpload.maxSize``).
        multipart: whether the method accepts metadata and media in one request.
        chunk_size: bytes per resumable chunk, a multiple of 256 KiB.
        resumable: a :class:`ResumableUpload` when the method supports the protocol.
        validate: check ``max_size`` and ``mime_range`` before sending.
        pipe_from: an async iterable of bytes to upload instead of a file or bytes.

    Beyond the seed: ``content_type`` (the media's MIME type; guessed from the file name
    when not given), ``use_resumable`` (``True``/``False`` to force the protocol, ``None`` to
    pick resumable for large or unknown-size uploads), ``size`` (the length when known in
    advance, e.g. for ``pipe_from``) and ``progress`` (called with ``(bytes_sent, total)``).
    After a resumable upload started, ``session_uri`` and ``offset`` say where it stands, so
    it can be resumed in another process.
    """

    def __init__(
        self,
        file_path_or_bytes: str | bytes | None = None,
        upload_path: str | None = None,
        mime_range: list[str] | None = None,
        max_size: int | None = None,
        multipart: bool = False,
        chunk_size: int | None = None,
        resumable: ResumableUpload | None = None,
        validate: bool = True,
        pipe_from: AsyncIterable[bytes] | None = None,
        *,
        content_type: str | None = None,
        use_resumable: bool | None = None,
        size: int | None = None,
        progress: ProgressCallback | None = None,
        session_uri: str | None = None,
    ) -> None:
        self.file_path_or_bytes = file_path_or_bytes
        self.upload_path = upload_path
        self.mime_range = mime_range
        self.max_size = max_size
        self.multipart = multipart
        self.chunk_size = chunk_size if chunk_size is not None else DEFAULT_UPLOAD_CHUNK_SIZE
        self.resumable = resumable
        self.validate = validate
        self.pipe_from = pipe_from
        self.content_type = content_type
        self.use_resumable = use_resumable
        self.size = size if size is not None else (len(file_path_or_bytes) if isinstance(file_path_or_bytes, bytes) else None)
        self.progress = progress
        self.session_uri = session_uri
        self.offset = 0

    @property
    def file_path(self) -> str | None:
        """The local file to upload, or ``None``."""
        return self.file_path_or_bytes if isinstance(self.file_path_or_bytes, str) else None

    @property
    def file_body(self) -> bytes | None:
        """The bytes to upload, or ``None`` (5.x's attribute)."""
        return self.file_path_or_bytes if isinstance(self.file_path_or_bytes, bytes) else None

    async def run_validation(self, size_func: Callable[[str], Awaitable[int]]) -> None:
        """Check ``max_size`` (seed API; the client does this itself before sending)."""
        if not self.validate or self.max_size is None:
            return
        if isinstance(self.file_path_or_bytes, bytes):
            size = len(self.file_path_or_bytes)
        elif isinstance(self.file_path_or_bytes, str):
            size = await size_func(self.file_path_or_bytes)
        else:
            return
        if size > self.max_size:
            # A ValidationError, as 5.x raised here (the client's own check before sending,
            # in aiogoogle.media, raises MediaError).
            raise ValidationError([("upload_file", f"an upload of {size} bytes exceeds this method's maxSize of {self.max_size} bytes")])

    async def read_file(self, read_func: Callable[[str], Awaitable[bytes]]) -> bytes:
        """Return the whole upload (seed API; the client streams instead)."""
        if isinstance(self.file_path_or_bytes, bytes):
            return self.file_path_or_bytes
        if self.file_path_or_bytes is None:
            raise MediaError("this upload has no file or bytes (it uses pipe_from)")
        return await read_func(self.file_path_or_bytes)

    def aiter_file(self, aiter_func: Callable[[str, int], AsyncIterator[bytes]]) -> AsyncIterator[bytes]:
        """Iterate over the upload in pieces of at most ``chunk_size`` bytes (seed API): a
        file through ``aiter_func(path, chunk_size)``, bytes sliced here, ``pipe_from`` as
        it yields (or, an object with a ``read()`` method, its whole content, as in 5.x)."""
        if isinstance(self.file_path_or_bytes, bytes) and self.pipe_from is None:
            data, size = self.file_path_or_bytes, max(1, self.chunk_size)

            async def slices() -> AsyncIterator[bytes]:
                for start in range(0, len(data), size):
                    yield data[start : start + size]

            return slices()
        if self.pipe_from is not None:
            pipe: Any = self.pipe_from
            if not hasattr(pipe, "__aiter__") and callable(getattr(pipe, "read", None)):

                async def read_all() -> AsyncIterator[bytes]:
                    yield pipe.read()

                return read_all()
            return pipe.__aiter__()  # type: ignore[no-any-return]
        path = self.file_path
        if path is None:
            raise MediaError("this upload has no source")
        return aiter_func(path, self.chunk_size)

    def __str__(self) -> str:
        # 5.x's text: the file path, or "File object" for bytes and pipes.
        return self.file_path or "File object"

    def __repr__(self) -> str:
        src = (
            f"<{len(self.file_path_or_bytes)} bytes>"
            if isinstance(self.file_path_or_bytes, bytes)
            else repr(self.file_path_or_bytes) if self.file_path_or_bytes is not None else "pipe_from"
        )
        return f"MediaUpload({src}, multipart={self.multipart}, resumable={self.resumable is not None})"

    def __getstate__(self) -> dict[str, Any]:
        # Pickling keeps the description and drops the hooks (an async iterable being
        # read, a progress callback: live objects of this process). Unpickled, pipe_from
        # and progress are None.
        state = dict(self.__dict__)
        state["pipe_from"] = None
        state["progress"] = None
        return state


class MediaDownload:
    """Where a download goes: a local ``file_path`` or an async consumer ``pipe_to``
    (an object with an ``async write(chunk)`` method, or a callable taking each chunk).

    Beyond the seed: ``chunk_size`` also sets the size of ``Range`` requests when
    ``range_chunks`` is true; ``progress`` is called with ``(bytes_received, total)``;
    ``verify`` checks ``x-goog-hash`` (crc32c/md5) on full responses; ``start`` resumes a
    download that stopped at that byte (for ``file_path``, the bytes before it are in the
    partial file ``<file_path>.part`` the failed attempt kept). A file download is written
    to ``<file_path>.part`` and renamed to ``file_path`` only once complete and verified.
    """

    def __init__(
        self,
        file_path: str | None = None,
        chunk_size: int | None = None,
        pipe_to: Any = None,
        *,
        progress: ProgressCallback | None = None,
        range_chunks: bool = False,
        verify: bool = True,
        start: int = 0,
    ) -> None:
        self.file_path = file_path
        self.chunk_size = chunk_size if chunk_size is not None else DEFAULT_DOWNLOAD_CHUNK_SIZE
        self.pipe_to = pipe_to
        self.progress = progress
        self.range_chunks = range_chunks
        self.verify = verify
        self.start = start

    def __repr__(self) -> str:
        dest = repr(self.file_path) if self.file_path is not None else "pipe_to"
        return f"MediaDownload({dest})"

    def __getstate__(self) -> dict[str, Any]:
        # As MediaUpload: pipe_to and progress are live objects, None once unpickled.
        state = dict(self.__dict__)
        state["pipe_to"] = None
        state["progress"] = None
        return state


class Request(Generic[_R_co]):
    """An unsent API call.

    ``Request[T]``: sending it gives a ``T`` (``Response[T]`` with ``full_res=True``), the
    response type generated stubs declare (``aiogoogle stubs``); a bare ``Request`` is
    ``Request[Any]``. A ``callback`` changes what is given back; the type does not follow it.

    Attributes mirror aiogoogle's: ``method``, ``url`` (absolute, query included),
    ``batch_url``, ``headers`` (a dict), ``json`` (a JSON body), ``data`` (a raw body: bytes,
    str, or a dict sent form-encoded), ``media_upload``, ``media_download``, ``timeout``
    (a total number of seconds, or an :class:`aiogoogle.Timeout`), ``callback`` (called with
    the response content, returns the content to give back), ``upload_file_content_type``.

    Beyond the seed: ``retry`` (a :class:`aiogoogle.RetryPolicy` for this call, ``False`` to
    disable retries), ``batch`` (the parts of a batch request), ``method_id`` (the
    discovery id, e.g. ``drive.files.list``) and ``max_response_size`` (the largest reply
    this call buffers in memory, in bytes after decoding; ``None``: the client's
    ``max_response_size``).
    """

    __slots__ = (
        "__weakref__",
        "_verify_ssl",
        "batch",
        "batch_url",
        "callback",
        "data",
        "headers",
        "json",
        "max_response_size",
        "media_download",
        "media_upload",
        "method",
        "method_id",
        "retry",
        "timeout",
        "upload_file_content_type",
        "url",
    )

    def __init__(
        self,
        method: str | None = None,
        url: str | None = None,
        batch_url: str | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        media_upload: MediaUpload | None = None,
        media_download: MediaDownload | None = None,
        timeout: Any = None,
        callback: Callable[[Any], Any] | None = None,
        _verify_ssl: bool = True,
        upload_file_content_type: str | None = None,
        *,
        retry: RetryPolicy | bool | None = None,
        batch: tuple[Request, ...] | None = None,
        method_id: str | None = None,
        max_response_size: int | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.batch_url = batch_url
        self.headers = headers if headers is not None else {}
        self.json = json
        self.data = data
        self.media_upload = media_upload
        self.media_download = media_download
        self.timeout = timeout
        self.callback = callback
        self._verify_ssl = _verify_ssl
        self.upload_file_content_type = upload_file_content_type
        self.retry = retry
        self.batch = batch
        self.method_id = method_id
        self.max_response_size = max_response_size

    @classmethod
    def batch_requests(cls, *requests: Request[Any]) -> Request[Any]:
        """Combine requests to one API into a single batch request (docs/protocol.md §3).

        The result is sent like any request (``await aiogoogle.as_user(batch)``) and gives
        back one result per part, in the order given. Parts are sent to the API's
        ``rootUrl + batchPath``; media uploads and downloads cannot be batched.
        """
        if not requests:
            raise BatchError("batch_requests() needs at least one request")
        urls = set()
        for i, req in enumerate(requests):
            if not isinstance(req, Request):
                raise BatchError(f"part {i} is a {type(req).__name__}, not an aiogoogle Request")
            if req.batch is not None:
                raise BatchError(f"part {i} is itself a batch; batches cannot be nested")
            if req.media_upload is not None or req.media_download is not None:
                raise BatchError(
                    f"part {i} ({req.method_id or req.method}) uploads or downloads media; "
                    "Google's batch endpoint does not carry media (send it on its own)"
                )
            if not req.batch_url:
                raise BatchError(f"part {i} has no batch_url (build it from a discovery method)")
            urls.add(req.batch_url)
        if len(urls) > 1:
            raise BatchError(
                "every part of a batch must go to the same API; got batch URLs " + ", ".join(sorted(urls))
            )
        return cls(method="POST", url=urls.pop(), batch=tuple(requests), method_id="batch")

    @classmethod
    def from_response(cls, response: Response[Any]) -> Request[Any]:
        """A copy of the request that produced ``response`` (seed API)."""
        req = response.req
        if req is None:
            raise ValidationError("this response carries no request")
        return req.copy()

    def copy(self) -> Request[_R_co]:
        return Request(
            method=self.method,
            url=self.url,
            batch_url=self.batch_url,
            headers=dict(self.headers),
            json=self.json,
            data=self.data,
            media_upload=self.media_upload,
            media_download=self.media_download,
            timeout=self.timeout,
            callback=self.callback,
            _verify_ssl=self._verify_ssl,
            upload_file_content_type=self.upload_file_content_type,
            retry=self.retry,
            batch=self.batch,
            method_id=self.method_id,
            max_response_size=self.max_response_size,
        )

    def __getstate__(self) -> dict[str, Any]:
        # An HTTPError carries its Request to other processes (multiprocessing, task
        # queues): the request's data is pickled, its ``callback`` (user code, often a
        # lambda or closure) is not and is None once unpickled.
        state = {name: getattr(self, name) for name in _REQUEST_FIELDS}
        state["callback"] = None
        return state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        for name in _REQUEST_FIELDS:
            setattr(self, name, state.get(name))
        self.headers = state.get("headers") or {}

    def __repr__(self) -> str:
        if self.batch is not None:
            return f"<Request batch of {len(self.batch)} -> {self.url}>"
        extra = ""
        if self.media_upload is not None:
            extra = " +upload"
        elif self.media_download is not None:
            extra = " +download"
        return f"<Request {self.method} {redact_url(self.url or '')}{extra}>"


_REQUEST_FIELDS = tuple(name for name in Request.__slots__ if name != "__weakref__")

#: Cloud Storage's negative preconditions, answered with 304 Not Modified when the object
#: has that generation (https://cloud.google.com/storage/docs/request-preconditions).
_NOT_MATCH_QUERY = re.compile(r"[?&]if[A-Za-z]*NotMatch=", re.IGNORECASE)


def asks_not_modified(url: str, header_names: Iterable[str]) -> bool:
    """Whether a ``304 Not Modified`` answers what the request asked: it is conditional
    (``If-None-Match`` or ``If-Modified-Since``, RFC 9110 §13.1.2-3 and §15.4.5), or
    carries a Cloud Storage ``if...NotMatch`` parameter. Any other 304 is a 3xx that the
    client cannot use (:class:`~aiogoogle.excs.RedirectError`)."""
    for name in header_names:
        if name.lower() in ("if-none-match", "if-modified-since"):
            return True
    return bool(_NOT_MATCH_QUERY.search(url))


class Response(Generic[_R_co]):
    """An HTTP response as returned with ``full_res=True``.

    ``Response[T]`` (from a ``Request[T]``): its pages are ``T``s.

    ``json`` holds the decoded body when the server sent JSON, ``data`` the body otherwise
    (text for text types, bytes for the rest); ``content`` is whichever is set.
    ``async for page in response`` walks the pages of a paginated list (see
    :meth:`__call__` for other token names).
    """

    def __init__(
        self,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
        url: str | None = None,
        json: Any = None,
        data: Any = None,
        reason: str | None = None,
        req: Request | None = None,
        download_file: str | None = None,
        upload_file: str | None = None,
        session_factory: Any = None,
        *,
        pager: Callable[..., AsyncIterator[Any]] | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers if headers is not None else {}
        self.url = url
        self.json = json
        self.data = data
        self.reason = reason
        self.req = req
        self.download_file = download_file
        self.upload_file = upload_file
        self.session_factory = session_factory
        self._pager = pager

    @property
    def content(self) -> Any:
        """``json`` when the body was JSON (even ``{}`` or ``[]``), else ``data``."""
        return self.json if self.json is not None else self.data

    @property
    def error_msg(self) -> str | None:
        """Google's error message for an error response (``None`` for a success)."""
        if self.status_code is None or self.status_code < 400:
            return None
        info = google_error_info(self)
        parts = [f"{self.status_code} {self.reason or ''}".rstrip()]
        if info.get("message"):
            parts.append(str(info["message"]))
        if info.get("reason"):
            parts.append(f"[{info['reason']}]")
        return ": ".join(parts[:2]) + (f" {parts[2]}" if len(parts) > 2 else "")

    def raise_for_status(self) -> None:
        """Raise :class:`~aiogoogle.excs.AuthError` for 401,
        :class:`~aiogoogle.excs.HTTPError` for any other status of 400 or more, and
        :class:`~aiogoogle.excs.RedirectError` for a 3xx (a redirect is never a result),
        except a 304 the request asked for (:func:`asks_not_modified`)."""
        status = self.status_code
        if status is None or status < 300:
            return
        where = ""
        if self.req is not None and self.req.method:
            where = f" ({self.req.method} {redact_url(self.req.url or self.url or '')})"
        if status < 400:
            req = self.req
            if status == 304 and req is not None and asks_not_modified(req.url or "", req.headers):
                return
            location = self.headers.get("location")
            raise RedirectError(
                f"{status} {self.reason or ''}".rstrip() + f": a redirect that was not followed{where}",
                req=req,
                res=self,
                chain=(redact_url(self.url or (req.url if req is not None else None) or ""),),
                location=redact_url(location) if location else None,
            )
        msg = f"{self.error_msg}{where}"
        if self.status_code == 401:
            raise AuthError(msg, req=self.req, res=self)
        raise HTTPError(msg, req=self.req, res=self)

    def next_page(self, req_token_name: str | None = None, res_token_name: str | None = None, json_req: bool = False) -> Request[_R_co] | None:
        """The request for the next page, or ``None`` on the last page.

        The token is read from the response field ``res_token_name`` (default
        ``nextPageToken``) and sent as ``req_token_name`` (default ``pageToken``), in the
        query, or in the JSON body when ``json_req`` is true (docs/protocol.md §5). The original
        request is not modified.
        """
        from ._page_tokens import next_page_request

        return next_page_request(self, req_token_name, res_token_name, json_req)

    def __call__(
        self,
        session_factory: Any = None,
        req_token_name: str | None = None,
        res_token_name: str | None = None,
        json_req: bool = False,
    ) -> AsyncIterator[_R_co]:
        """Iterate over this page and the following ones, with custom token names.

        ``async for page in response(res_token_name="pageToken")`` (BigQuery). Pages are
        fetched through the client that produced this response, on its connection pool,
        with its credentials refreshed as needed.
        """
        if self._pager is None:
            raise TypeError(
                "this Response did not come from an Aiogoogle client, so it cannot fetch more "
                "pages; send the request with full_res=True through Aiogoogle.as_*()"
            )
        return self._pager(self, req_token_name, res_token_name, json_req)

    def __aiter__(self) -> AsyncIterator[_R_co]:
        return self()

    def __repr__(self) -> str:
        return f"<Response {self.status_code} {redact_url(self.url or '')}>"

    def __getstate__(self) -> dict[str, Any]:
        # Pickling (an HTTPError sent to another process) keeps the response's data; its
        # links to the client that received it (the pager, a closure over the client, and
        # the session factory) stay behind: None once unpickled, so such a response cannot
        # fetch further pages.
        state = dict(self.__dict__)
        state["_pager"] = None
        state["session_factory"] = None
        return state


# json.loads with a fast path for the usual body (the name the tests and benchmarks use).
_loads = _json_decode


def decode_body(content_type: str | None, body: bytes) -> tuple[Any, Any]:
    """Split a body into ``(json, data)`` by its content type.

    JSON types (``application/json``, ``+json``, ``text/javascript`` as some Google APIs
    label JSON) are decoded; text types become ``str``; everything else stays ``bytes``.
    An empty body gives ``(None, None)``. A body labelled JSON that does not parse, or is
    nested too deeply for Python to decode (a thousand ``[``), is kept as text rather than
    raising, so an error's real content is never hidden and no ``RecursionError`` escapes;
    the layer that needs JSON (token replies, discovery documents, batch parts) then raises
    its own error for a body that is not the JSON it expects.
    """
    if not body:
        return None, None
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json") or ctype == "text/javascript":
        try:
            return _loads(body), None
        except (ValueError, RecursionError):
            return None, body.decode("utf-8", "replace")
    if ctype.startswith("text/") or ctype in ("application/xml", "application/x-www-form-urlencoded"):
        charset = "utf-8"
        for param in (content_type or "").split(";")[1:]:
            k, _, v = param.strip().partition("=")
            if k.lower() == "charset" and v:
                charset = v.strip('"')
        try:
            return None, body.decode(charset, "replace")
        except LookupError:
            return None, body.decode("utf-8", "replace")
    if not ctype:
        # Untyped bodies: JSON if it parses (some servers omit the header), else bytes.
        stripped = body.lstrip()[:1]
        if stripped in (b"{", b"["):
            try:
                return _loads(body), None
            except (ValueError, RecursionError):
                pass
    return None, body
