"""The flow of one API call: from a :class:`~aiogoogle.models.Request` to a
:class:`~aiogoogle.models.Response`.

Every exchange with a server goes through :func:`send_flow`, the single place where
credentials are applied (and refreshed once after a 401), redirects are followed (never a
308: resumable uploads use it, PROTOCOL.md §2.3) with credentials dropped when the origin
changes, and the retry policy is applied. Media, batch, pagination and token flows all
reuse it, so these policies behave the same everywhere.
"""

from __future__ import annotations

import functools
import json as _json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from json import encoder as _json_encoder
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from .__version__ import __version__
from ._effects import NO_AUTH, AuthInfo, Authorize, Flow, Now, Send, Sleep
from ._http import DEFAULT_MAX_RESPONSE_SIZE, BodyConsumer, HttpRequest, HttpResponse, Timeout
from .excs import TransportError, ValidationError, google_error_info
from .models import Request, Response, decode_body
from .retry import DEFAULT_RETRY, NO_RETRY, RetryPolicy, RetryState

__all__ = ["CallOptions", "apply_auth", "build_response", "call_flow", "send_flow", "to_http"]

USER_AGENT = f"aiogoogle/{__version__} (gzip)"
API_CLIENT = f"aiogoogle/{__version__} gl-python/{platform.python_version()}"
_REDIRECTS = frozenset({301, 302, 303, 307})
_CREDENTIAL_HEADERS = frozenset({"authorization", "x-goog-api-key", "cookie", "proxy-authorization", "x-goog-user-project"})


@dataclass(frozen=True)
class CallOptions:
    """Client-wide settings a call flow needs (all overridable per request)."""

    retry: RetryPolicy = DEFAULT_RETRY
    timeout: Timeout = field(default_factory=Timeout)
    max_redirects: int = 10
    #: The largest response body buffered in memory, in bytes after decoding (``None``: no
    #: limit); see :class:`~aiogoogle.excs.ResponseTooLarge`.
    max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE
    user_agent: str = USER_AGENT
    extra_headers: tuple[tuple[str, str], ...] = ()

    def policy_for(self, request: Request) -> RetryPolicy:
        retry = request.retry
        if retry is None or retry is True:
            return self.retry
        if retry is False:
            return NO_RETRY
        if isinstance(retry, RetryPolicy):
            return retry
        raise ValidationError([("retry", "must be a RetryPolicy, True or False", retry)])


# Built once: json.dumps with non-default options constructs an encoder on every call.
# Compact, UTF-8 (not \u escapes), and NaN/Infinity refused because JSON cannot carry them.
_JSON_ENCODER = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# The same without the circular-reference bookkeeping (about 15% of encoding time). Its
# output is the same for every body that has no cycle; a body with one makes it recurse
# until RecursionError, and the checking encoder then runs to give its usual error.
_JSON_ENCODER_UNCHECKED = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False)
# JSONEncoder.encode builds json's C encoder anew on every call (its circular-reference
# table is per call); without that table it holds no state, so it is built once here with
# exactly the arguments encode() would pass. Where the C encoder is missing (or its
# signature ever changes) encode() itself is used: the output is the same either way.
_json_chunks: Any = None
try:
    _make = getattr(_json_encoder, "c_make_encoder", None)
    if _make is not None:
        _json_chunks = _make(
            None,  # no circular-reference table
            _JSON_ENCODER_UNCHECKED.default,
            _json_encoder.encode_basestring,  # ensure_ascii=False
            None,  # indent
            ":",
            ",",
            False,  # sort_keys
            False,  # skipkeys
            False,  # allow_nan
        )
except TypeError:
    _json_chunks = None


def encode_body(request: Request) -> tuple[bytes, str | None]:
    """The request body as bytes and its default content type."""
    if request.json is not None:
        try:
            try:
                if _json_chunks is not None:
                    text = "".join(_json_chunks(request.json, 0))
                else:
                    text = _JSON_ENCODER_UNCHECKED.encode(request.json)
            except RecursionError:
                text = _JSON_ENCODER.encode(request.json)
            return text.encode(), "application/json"
        except (TypeError, ValueError) as exc:
            raise ValidationError([("json", f"cannot be encoded as JSON: {exc}", request.json)]) from None
    data = request.data
    if data is None:
        return b"", None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), "application/octet-stream"
    if isinstance(data, str):
        return data.encode(), "text/plain; charset=utf-8"
    if isinstance(data, Mapping):
        return urlencode(list(data.items()), doseq=True).encode(), "application/x-www-form-urlencoded"
    raise ValidationError([("data", "must be bytes, str or a dict", data)])


# The headers every request of one CallOptions object starts with, and for requests without
# headers of their own, the finished header tuples by (content type, JSON accept). Options
# are frozen, so these are computed once per options object (the last one used).
_Wire = tuple[tuple[str, str], ...]
_last_base: tuple[CallOptions | None, dict[str, str], dict[tuple[str | None, bool], _Wire]] = (None, {}, {})


def _options_base(options: CallOptions) -> tuple[CallOptions | None, dict[str, str], dict[tuple[str | None, bool], _Wire]]:
    global _last_base
    last = _last_base
    if last[0] is not options:
        base: dict[str, str] = {
            "user-agent": options.user_agent,
            "x-goog-api-client": API_CLIENT,
            "accept-encoding": "gzip, deflate",
        }
        for name, value in options.extra_headers:
            base[name.lower()] = value
        last = _last_base = (options, base, {})
    return last


def base_headers(request: Request, options: CallOptions) -> dict[str, str]:
    headers = _options_base(options)[1].copy()
    for name, value in request.headers.items():
        headers[name.lower()] = str(value)
    return headers


def _finish_headers(headers: dict[str, str], ctype: str | None, json_accept: bool) -> _Wire:
    if ctype is not None and "content-type" not in headers:
        headers["content-type"] = ctype
    if "accept" not in headers:
        headers["accept"] = "application/json" if json_accept else "*/*"
    return tuple(headers.items())


def to_http(request: Request, options: CallOptions, *, url: str | None = None) -> HttpRequest:
    """The wire form of a plain (non-media, non-batch) request, before credentials."""
    if not request.method or not (url or request.url):
        raise ValidationError([("request", "has no method or url", request)])
    body, ctype = encode_body(request)
    json_accept = request.media_download is None
    if request.headers:
        headers = _finish_headers(base_headers(request, options), ctype, json_accept)
    else:
        wires = _options_base(options)[2]
        key = (ctype, json_accept)
        found = wires.get(key)
        headers = found if found is not None else wires.setdefault(key, _finish_headers(base_headers(request, options), ctype, json_accept))
    # Positional (method, url, headers, body, timeout, verify_ssl): a frozen dataclass
    # builds about 25% faster so.
    return HttpRequest(
        request.method.upper(),
        url or request.url or "",
        headers,
        body,
        exchange_timeout(request, options),
        request._verify_ssl,
    )


def exchange_timeout(request: Request, options: CallOptions) -> Timeout:
    """Connect/read limits for each exchange of ``request`` (a number as ``request.timeout``
    is a total for the whole call, enforced by the client)."""
    return request.timeout if isinstance(request.timeout, Timeout) else options.timeout


def apply_auth(http: HttpRequest, auth: AuthInfo) -> HttpRequest:
    """``http`` with the credential's headers and query parameters applied."""
    if auth is NO_AUTH or (not auth.headers and not auth.query):
        return http
    url = http.url
    if auth.query:
        extra = auth.query
        query = urlsplit(url).query if "?" in url else ""
        if query:
            existing = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
            extra = tuple((k, v) for k, v in extra if k not in existing)
        if extra:
            url = f"{url}{'&' if '?' in url else '?'}{_encoded_auth_query(extra)}"
    headers = http.headers
    if auth.headers:
        names = {name.lower() for name, _ in auth.headers}
        headers = tuple((n, v) for n, v in headers if n.lower() not in names) + auth.headers
    # Positional, as in to_http (dataclasses.replace costs more than the rest of this).
    return HttpRequest(http.method, url, headers, http.body, http.timeout, http.verify_ssl, http.raw)


@functools.lru_cache(maxsize=32)
def _encoded_auth_query(pairs: tuple[tuple[str, str], ...]) -> str:
    # The same key is appended to every request of a client: encode it once.
    return urlencode(pairs)


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _redirected(http: HttpRequest, response: HttpResponse) -> HttpRequest | None:
    location = response.headers.get("location")
    if not location:
        return None
    target = urljoin(http.url, location)
    method, body, headers = http.method, http.body, http.headers
    if response.status == 303 or (response.status in (301, 302) and method == "POST"):
        # RFC 9110 §15.4: the follow-up is a GET without the body.
        method, body = ("GET" if method != "HEAD" else "HEAD"), b""
        headers = tuple((n, v) for n, v in headers if not n.lower().startswith("content-"))
    if not _same_origin(http.url, target):
        # Never hand credentials to another origin.
        headers = tuple((n, v) for n, v in headers if n.lower() not in _CREDENTIAL_HEADERS)
    return replace(http, method=method, url=target, body=body, headers=headers)


# Effects are immutable: the two every request yields are made once.
_NOW_MONOTONIC = Now(monotonic=True)
_AUTHORIZE = Authorize(None)


def send_flow(
    http: HttpRequest,
    policy: RetryPolicy,
    *,
    consumer: BodyConsumer | None = None,
    authorize: bool = True,
    max_redirects: int = 10,
    idempotent: bool | None = None,
) -> Flow[HttpResponse]:
    """Send ``http`` with credentials, redirects and retries; return the final response.

    Error statuses that are not retried (or whose retries ran out) are *returned*, not
    raised: the caller decides (``raise_for_status``). Transport failures that cannot be
    retried are raised.
    """
    # Whether the request is idempotent matters only once something failed: worked out
    # then (see _idempotent), not for every request.
    state: RetryState | None = None
    stale: str | None = None
    auth_retried = False
    redirects = 0
    current = http
    started: float = yield _NOW_MONOTONIC
    while True:
        if authorize:
            auth = yield (_AUTHORIZE if stale is None else Authorize(stale))
        else:
            auth = NO_AUTH
        stale = None
        try:
            response: HttpResponse = yield Send(apply_auth(current, auth), consumer)
        except TransportError as exc:
            if idempotent is None:
                idempotent = _idempotent(http)
            if state is None:
                state = RetryState(policy, idempotent, started)
            if not policy.error_is_retryable(exc, idempotent):
                raise
            delay = state.next_delay((yield Now(monotonic=True)), None)
            if delay is None:
                raise
            yield Sleep(delay)
            continue
        status = response.status
        if status < 300:
            return response
        if status in _REDIRECTS and redirects < max_redirects:
            nxt = _redirected(current, response)
            if nxt is not None:
                redirects += 1
                if not _same_origin(current.url, nxt.url):
                    authorize = False
                current = nxt
                continue
        if status == 401 and not auth_retried and auth.token is not None:
            # The token may have expired or been revoked early: refresh once and retry.
            auth_retried = True
            stale = auth.token
            continue
        if status >= 400 and (status in policy.statuses or status == 403):
            info = google_error_info(_BodyView(response)) if status == 403 else None
            if idempotent is None:
                idempotent = _idempotent(http)
            if state is None:
                state = RetryState(policy, idempotent, started)
            if state.should_retry_response(status, info):
                from .retry import parse_retry_after

                now_wall = yield Now()
                retry_after = parse_retry_after(response.headers.get("retry-after"), now_wall)
                delay = state.next_delay((yield Now(monotonic=True)), retry_after)
                if delay is not None:
                    yield Sleep(delay)
                    continue
        return response


def _idempotent(http: HttpRequest) -> bool:
    return RetryPolicy.is_idempotent(http.method, http.url, dict(http.headers))


class _BodyView:
    """Adapts an :class:`HttpResponse` to :func:`~aiogoogle.excs.google_error_info`."""

    __slots__ = ("data", "json")

    def __init__(self, response: HttpResponse) -> None:
        self.json, self.data = decode_body(response.headers.get("content-type"), response.body)


def build_response(http: HttpResponse, request: Request, *, url: str | None = None) -> Response:
    """The user-facing :class:`Response` for a finished exchange."""
    json_body, data = decode_body(http.headers.get("content-type"), http.body)
    download = request.media_download.file_path if request.media_download is not None else None
    upload = request.media_upload.file_path if request.media_upload is not None else None
    return Response(
        status_code=http.status,
        headers=http.headers,
        url=url or http.url or request.url,
        json=json_body,
        data=data,
        reason=http.reason or _reason(http.status),
        req=request,
        download_file=download,
        upload_file=upload,
    )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def call_flow(request: Request, options: CallOptions) -> Flow[Response]:
    """The whole call: dispatches media, batch and plain requests."""
    if request.batch is not None:
        from .batch import batch_flow

        # A batch yields one outcome per part; Aiogoogle._one unpacks the list.
        return (yield from batch_flow(request, options))  # type: ignore[return-value]
    if request.media_upload is not None:
        from .media import upload_flow

        return (yield from upload_flow(request, options))
    if request.media_download is not None:
        from .media import download_flow

        return (yield from download_flow(request, options))
    http = to_http(request, options)
    response = yield from send_flow(http, options.policy_for(request), max_redirects=options.max_redirects)
    return build_response(response, request)

