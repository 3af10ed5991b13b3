"""One exchange with a server: a :class:`~aiogoogle.models.Request` encoded for the wire,
sent with credentials, redirects and retries, and its answer as a
:class:`~aiogoogle.models.Response`.

Every exchange with a server goes through :func:`send_flow`, the single place where
credentials are applied (and refreshed once after a 401), redirects are followed, and the
retry policy is applied. Media, batch, pagination and token flows all reuse it, so these
policies behave the same everywhere.

Redirects (RFC 9110 §15.4): 301, 302, 303 and 307 with an http(s) ``Location`` are
followed, at most ``max_redirects`` times. Every other 3xx has no result to give and raises
:class:`~aiogoogle.excs.RedirectError` (with the chain of URLs), as do a loop (a target
already requested with the same method) and a redirect past the limit; a 3xx is never
returned as if it were an answer, except a 304 to a conditional request and the statuses a
caller names as its protocol's answers. 308 is not followed: Google uses it as a resumable
upload's "Resume Incomplete" (https://cloud.google.com/storage/docs/performing-resumable-uploads),
as googleapiclient does not follow it either. When a redirect leaves the origin (scheme,
host, port), credentials stay behind: no ``Authorization``, API key, cookie or user-project
header is sent there and no credentials are asked for. A redirect that keeps the body (307,
and 301/302 of methods other than POST) never sends a non-empty body to another origin,
because request bodies carry secrets (a token endpoint's refresh token, client secret,
assertion or code) that header stripping does not remove, and never sends a streamed body
that cannot be read twice. Requests to token endpoints (``cross_origin=False``) follow no
redirect that leaves their origin at all: their reply is trusted as a credential.
"""

from __future__ import annotations

import functools
import json as _json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from json import encoder as _json_encoder
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from .__version__ import __version__
from ._effects import NO_AUTH, AuthInfo, Authorize, Flow, Now, Send
from ._http import (
    DEFAULT_MAX_RESPONSE_SIZE,
    BodyConsumer,
    HttpRequest,
    HttpResponse,
    PipeSource,
    StreamBody,
    Timeout,
)
from ._providers import RandomBytes, system_random_bytes
from .excs import RedirectError, TransportError, ValidationError, redact_url
from .models import Request, Response, asks_not_modified, decode_body
from .retry import DEFAULT_RETRY, NO_RETRY, RetryPolicy, RetryState, retry_after_flow, wait_flow

__all__ = ["CallOptions", "apply_auth", "build_response", "plain_call_flow", "send_flow", "to_http"]

USER_AGENT = f"aiogoogle/{__version__} (gzip)"
API_CLIENT = f"aiogoogle/{__version__} gl-python/{platform.python_version()}"
# 308 is left out on purpose (see the module docstring).
_REDIRECTS = frozenset({301, 302, 303, 307})
_NO_STATUSES: frozenset[int] = frozenset()
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
    #: ``random_bytes(n) -> n bytes``: the one source of randomness of the flows (multipart
    #: and batch boundaries, batch Content-IDs). Fix it for byte-identical requests.
    random_bytes: RandomBytes = field(default=system_random_bytes, compare=False, repr=False)

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
    """``http`` with the credential's headers and query parameters applied: a query
    parameter the URL already has is not added again; an auth header replaces the
    request's header of the same name."""
    if auth is NO_AUTH:
        return http
    query_pairs, auth_headers = auth.query, auth.headers
    if not auth_headers and not query_pairs:
        return http
    url = http.url
    if query_pairs:
        extra = query_pairs
        # A parameter name can only be among the query's if it occurs in the URL: the URL
        # is parsed only then (with an API key: 2.2 -> 1.0 us per request).
        has_query = "?" in url
        if has_query:
            for k, _ in extra:
                if k in url:
                    query = urlsplit(url).query
                    if query:
                        existing = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
                        extra = tuple((k, v) for k, v in extra if k not in existing)
                    break
        if extra:
            url = f"{url}{'&' if has_query else '?'}{_encoded_auth_query(extra)}"
    headers = http.headers
    if auth_headers:
        headers = _with_auth_headers(headers, auth_headers)
    # Positional, as in to_http (dataclasses.replace costs more than the rest of this).
    return HttpRequest(http.method, url, headers, http.body, http.timeout, http.verify_ssl, http.raw)


# The last (request headers, auth headers, merged) seen: to_http hands every plain request
# of a client the same header tuple and credentials give the same AuthInfo until they are
# refreshed, so the merge is usually the last one (1.2 -> 0.1 us per request with a bearer
# token). A tuple is swapped in whole (threads of
# the synchronous client may call this concurrently) and it keeps both keys alive, so an
# identity match is never a recycled id.
_last_merge: tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = ((), (), ())


def _with_auth_headers(headers: tuple[tuple[str, str], ...], auth_headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    global _last_merge
    last = _last_merge
    if last[0] is headers and last[1] is auth_headers:
        return last[2]
    names = {name.lower() for name, _ in auth_headers}
    merged = tuple((n, v) for n, v in headers if n.lower() not in names) + auth_headers
    _last_merge = (headers, auth_headers, merged)
    return merged


# The same key is appended to every request of a client: encode it once.
@functools.lru_cache(maxsize=32)
def _encoded_auth_query(pairs: tuple[tuple[str, str], ...]) -> str:
    return urlencode(pairs)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80 if scheme == "http" else None)


def _same_origin(a: str, b: str) -> bool:
    """RFC 6454 §4: scheme, host and port (the scheme's default port when none is given)."""
    try:
        return _origin(a) == _origin(b)
    except ValueError:  # a port that is not a number in 0-65535
        return False


def shown_url(url: str) -> str:
    """``url`` as an error message may show it: credential query values masked
    (:func:`~aiogoogle.excs.redact_url`) and no ``user:password@``."""
    try:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    except ValueError:
        pass
    return redact_url(url)


def _replayable(body: Any) -> bool:
    """Whether the driver can send ``body`` again: bytes and file ranges can be re-read, a
    caller's async iterable (``pipe_from``) cannot."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return True
    if isinstance(body, StreamBody):
        return not any(isinstance(seg, PipeSource) for seg in body.segments)
    return False


def _has_body(body: Any) -> bool:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return len(body) > 0
    if isinstance(body, StreamBody):
        return body.length != 0
    return body is not None


def _redirect_error(why: str, response: HttpResponse, chain: list[str], location: str | None) -> RedirectError:
    json_body, data = decode_body(response.headers.get("content-type"), response.body)
    res = Response(
        status_code=response.status,
        headers=response.headers,
        url=chain[-1],
        json=json_body,
        data=data,
        reason=response.reason or _reason(response.status),
    )
    shown = tuple(shown_url(u) for u in chain)
    target: str | None = None
    if location is not None:
        try:
            target = shown_url(urljoin(chain[-1], location.strip()))
        except ValueError:
            target = shown_url(location)
    path = " -> ".join(shown + ((target,) if target is not None else ()))
    return RedirectError(f"{why} ({path})", res=res, chain=shown, location=target)


def _redirected(
    http: HttpRequest,
    response: HttpResponse,
    chain: list[str],
    seen: set[tuple[str, str]],
    max_redirects: int,
    cross_origin: bool,
) -> HttpRequest:
    """The request that follows ``response`` (a 3xx to ``http``), or a RedirectError.

    ``chain`` holds the URLs requested so far (the last is ``http.url``) and ``seen`` the
    (method, URL) pairs; both are extended by the redirect followed.
    """
    status = response.status
    raw = response.headers.get("location")
    if status not in _REDIRECTS:
        if status == 308:
            why = "308 is not followed as a redirect (Google sends it only as a resumable upload's Resume Incomplete)"
        elif status == 304:
            why = "304 Not Modified answered a request that was not conditional"
        else:
            why = f"HTTP {status} {response.reason or _reason(status)}".rstrip() + " is not a redirect the client follows"
        raise _redirect_error(why, response, chain, raw)
    if not raw or not raw.strip():
        raise _redirect_error(f"HTTP {status} redirect without a Location header", response, chain, None)
    try:
        target = urljoin(http.url, raw.strip())
        parts = urlsplit(target)
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise _redirect_error(f"HTTP {status} redirect to a malformed Location", response, chain, raw) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _redirect_error(f"HTTP {status} redirect to a Location that is not an http(s) URL", response, chain, raw)
    target = urlunsplit(parts._replace(fragment=""))
    method, body, headers = http.method, http.body, http.headers
    if status == 303 or (status in (301, 302) and method == "POST"):
        # RFC 9110 §15.4.2-4: the follow-up is a GET (HEAD stays HEAD) without the body.
        method, body = ("GET" if method != "HEAD" else "HEAD"), b""
        headers = tuple((n, v) for n, v in headers if not n.lower().startswith("content-"))
    if (method, target) in seen:
        raise _redirect_error(f"redirect loop: HTTP {status} back to a URL already requested", response, chain, target)
    if len(chain) > max_redirects:
        why = "redirects are not followed for this request" if max_redirects <= 0 else f"more than {max_redirects} redirects"
        raise _redirect_error(f"HTTP {status}: {why}", response, chain, target)
    same = _same_origin(http.url, target)
    if not same:
        if not cross_origin:
            raise _redirect_error(
                f"HTTP {status} redirect to another origin refused: a token endpoint's requests never leave its origin", response, chain, target
            )
        if _has_body(body):
            raise _redirect_error(
                f"HTTP {status} redirect to another origin refused: it would send the request body there", response, chain, target
            )
        # Never hand credentials to another origin.
        headers = tuple((n, v) for n, v in headers if n.lower() not in _CREDENTIAL_HEADERS)
    elif _has_body(body) and not _replayable(body):
        raise _redirect_error(f"HTTP {status} redirect refused: the streamed request body cannot be sent again", response, chain, target)
    chain.append(target)
    seen.add((method, target))
    return replace(http, method=method, url=target, body=body, headers=headers)


#: Methods that carry a body by definition (RFC 9110 §8.6: a user agent SHOULD send
#: Content-Length when the method defines a meaning for an enclosed body). Google's front
#: end answers an empty one without the header with 411 Length Required, so it is sent as
#: ``Content-Length: 0`` here, for every adapter.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _with_empty_length(http: HttpRequest) -> HttpRequest:
    for name, _ in http.headers:
        lowered = name.lower()
        if lowered in ("content-length", "transfer-encoding"):
            return http
    return replace(http, headers=(*http.headers, ("content-length", "0")))


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
    answers: frozenset[int] = _NO_STATUSES,
    cross_origin: bool = True,
) -> Flow[HttpResponse]:
    """Send ``http`` with credentials, redirects and retries; return the final response.

    Error statuses that are not retried (or whose retries ran out) are *returned*, not
    raised: the caller decides (``raise_for_status``). Transport failures that cannot be
    retried are raised. A 3xx is returned only when it is one of ``answers`` (the
    statuses the caller's protocol expects, 308 for a resumable session) or a 304 to a
    conditional request; every other one is followed or raises
    :class:`~aiogoogle.excs.RedirectError` (see the module docstring). ``cross_origin=False``
    refuses every redirect that leaves the request's origin (token endpoints).
    """
    # Whether the request is idempotent matters only once something failed: worked out
    # then (see _idempotent), not for every request.
    state: RetryState | None = None
    stale: str | None = None
    auth_retried = False
    # The URLs and (method, URL) pairs requested so far: made by the first redirect.
    chain: list[str] | None = None
    seen: set[tuple[str, str]] | None = None
    if http.method in _BODY_METHODS and not _has_body(http.body):
        http = _with_empty_length(http)
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
            if not policy.should_retry(exc, idempotent):
                raise
            if state is None:
                state = RetryState(policy, idempotent, started)
            if not (yield from wait_flow(state)):
                raise
            continue
        status = response.status
        if status < 300:
            return response
        if status < 400:
            if status in answers or (status == 304 and asks_not_modified(current.url, (n for n, _ in current.headers))):
                return response
            if chain is None or seen is None:
                chain = [current.url]
                seen = {(current.method, current.url)}
            nxt = _redirected(current, response, chain, seen, max_redirects, cross_origin)
            if not _same_origin(current.url, nxt.url):
                authorize = False
            current = nxt
            continue
        if status == 401 and not auth_retried and auth.token is not None:
            # The token may have expired or been revoked early: refresh once and retry.
            auth_retried = True
            stale = auth.token
            continue
        if idempotent is None:
            idempotent = _idempotent(http)
        if policy.should_retry(response, idempotent):
            if state is None:
                state = RetryState(policy, idempotent, started)
            if (yield from wait_flow(state, (yield from retry_after_flow(response)))):
                continue
        return response


def _idempotent(http: HttpRequest) -> bool:
    return RetryPolicy.is_idempotent(http.method, http.url, dict(http.headers))


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


def plain_call_flow(request: Request, options: CallOptions) -> Flow[Response]:
    """A call without media or batch parts (every page of a listing is one)."""
    http = to_http(request, options)
    try:
        response = yield from send_flow(http, options.policy_for(request), max_redirects=options.max_redirects)
    except RedirectError as exc:
        _name_request(exc, request)
        raise
    return build_response(response, request)


def _name_request(exc: RedirectError, request: Request) -> None:
    # send_flow knows only the wire request: the error names the user's.
    if exc.req is None:
        exc.req = request
        if exc.res is not None:
            exc.res.req = request
