"""The asyncio adapter, on aiohttp (the default ``session_factory``).

It only moves bytes: no redirects (``allow_redirects=False``; a resumable upload's 308 is
not a redirect), no decompression (``auto_decompress=False``; the core decodes, and keeps
raw bytes for checksums), no cookies. TLS is verified with the system trust store unless
``ssl``/``ca_file`` say otherwise or a request sets ``verify_ssl=False``.
"""

from __future__ import annotations

import asyncio
import os
import ssl as _ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from types import CoroutineType
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from aiogoogle._http import HttpRequest, Timeout
from aiogoogle.excs import ConnectError, ConnectTimeout, ReadTimeout, RequestTimeout, TransportError
from aiogoogle.models import Response

from .abc import AbstractSession
from .base import BaseSession

__all__ = ["HTTP_PROXY", "AbstractSession", "AiohttpSession", "Response"]

#: aiogoogle 5.x's proxy setting, kept under its name: the ``AIOGOOGLE_HTTP_PROXY``
#: environment variable as read when this module is imported ("" for none). A session
#: created without ``proxy=`` uses it; assigning the module attribute before creating a
#: session works too.
HTTP_PROXY = os.environ.get("AIOGOOGLE_HTTP_PROXY", "")

T = TypeVar("T")


# aiohttp >= 3.10 tells a read timeout (SocketTimeoutError) from a connect timeout.
_SKIP_USER_AGENT = ("User-Agent",)

_SocketTimeout: type[BaseException] = getattr(aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError)


def _translate(exc: BaseException, url: str, *, connecting: bool) -> TransportError:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeout("connect timeout", url=url)
    if isinstance(exc, _SocketTimeout):
        return ReadTimeout("read timeout", url=url)
    if connecting and isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return ConnectTimeout("connect timeout", url=url)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return ReadTimeout("read timeout", url=url)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return ConnectError(f"TLS certificate verification failed: {exc.certificate_error}", url=url)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect: {exc.os_error.strerror or exc.os_error}", url=url)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return TransportError(f"incomplete response body: {exc}", url=url)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return TransportError("server closed the connection", url=url)
    return TransportError(f"{type(exc).__name__}: {exc}", url=url)


def _buffered_rest(content: aiohttp.StreamReader) -> bytes:
    """The bytes a failed response body still holds (aiohttp keeps them private)."""
    if not getattr(content, "_buffer", None):
        return b""
    try:
        return bytes(content._read_nowait(-1))
    except Exception:
        return b""


class _Response:
    __slots__ = ("_done", "_resp", "headers", "reason", "status", "url")

    def __init__(self, resp: aiohttp.ClientResponse, url: str) -> None:
        self._resp = resp
        self._done = False
        self.status = resp.status
        self.reason = resp.reason or ""
        # In order received, repeats kept; a tuple, which Headers() keeps without copying.
        self.headers = tuple(resp.headers.items())
        self.url = url

    async def chunks(self) -> AsyncIterator[bytes]:
        content = self._resp.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    break
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = _translate(exc, self.url, connecting=False)
        else:
            self._done = True
            return
        # readany() raises as soon as the body failed, even with received bytes still
        # buffered; hand them over first, so a resumed download continues after them
        # instead of starting over (docs/protocol.md §2.4).
        rest = _buffered_rest(content)
        if rest:
            yield rest
        raise error

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body (what ``chunks()`` would yield, joined); once more than ``limit``
        bytes arrived, what has arrived so far (the body is then not read to its end, and
        :meth:`aclose` drops the connection)."""
        content = self._resp.content
        try:
            if limit is None:
                body = await content.read()
            else:
                parts: list[bytes] = []
                size = 0
                while True:
                    chunk = await content.read(limit + 1 - size)
                    if not chunk:
                        break
                    parts.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        return b"".join(parts)
                body = parts[0] if len(parts) == 1 else b"".join(parts)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, self.url, connecting=False) from None
        self._done = True
        return body

    async def aclose(self) -> None:
        if self._done:
            self._resp.release()
        else:
            self._resp.close()


class AiohttpSession(BaseSession):
    """asyncio + aiohttp.

    Args:
        ssl: an :class:`ssl.SSLContext` to use for TLS (e.g. trusting a private CA).
        ssl_context: the same, under the name the curio and trio sessions use.
        ca_file: a PEM file of CA certificates to trust instead of the system store.
        limit: the maximum number of connections (all hosts).
        limit_per_host: the maximum number of connections per host (0: no limit).
        proxy: an HTTP proxy URL for every request (default: :data:`HTTP_PROXY`, if set).
        trust_env: honour ``HTTP(S)_PROXY``/``NO_PROXY`` and ``.netrc`` (aiohttp's option).
        **client_session_kwargs: passed to :class:`aiohttp.ClientSession` as is.
    """

    def __init__(
        self,
        *,
        ssl: _ssl.SSLContext | None = None,
        ssl_context: _ssl.SSLContext | None = None,
        ca_file: str | None = None,
        limit: int = 100,
        limit_per_host: int = 0,
        proxy: str | None = None,
        trust_env: bool = False,
        **client_session_kwargs: Any,
    ) -> None:
        if ssl is None:
            ssl = ssl_context
        if ssl is None and ca_file is not None:
            ssl = _ssl.create_default_context(cafile=ca_file)
        self._ssl = ssl
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._proxy = proxy if proxy is not None else (HTTP_PROXY or None)
        self._trust_env = trust_env
        self._kwargs = client_session_kwargs
        self._client: aiohttp.ClientSession | None = None
        # One aiohttp.ClientTimeout per distinct Timeout (usually one per client).
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}
        self._last_headers: tuple[Any, CIMultiDict[str], tuple[str, ...] | None] = (None, CIMultiDict(), None)

    def _session(self) -> aiohttp.ClientSession:
        client = self._client
        if client is None or client.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                ssl=self._ssl if self._ssl is not None else True,
            )
            client = self._client = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=self._trust_env,
                timeout=aiohttp.ClientTimeout(total=None),
                **self._kwargs,
            )
        return client

    async def send(self, request: HttpRequest) -> _Response:
        timeout = request.timeout
        client_timeout = self._timeouts.get(timeout)
        if client_timeout is None:
            client_timeout = self._timeouts[timeout] = aiohttp.ClientTimeout(
                total=None, sock_connect=timeout.connect, sock_read=timeout.read, connect=timeout.connect
            )
        body = request.body
        data: Any = body if body else None
        # The core hands every plain request of a client the same headers tuple: its
        # multidict (aiohttp would convert the tuple for every request) is kept for the
        # last tuple seen. aiohttp adds its own User-Agent unless told to skip it; telling
        # it costs another multidict per request, so only requests without one say so.
        headers, multi, skip = self._last_headers
        if headers is not request.headers:
            headers = request.headers
            multi = CIMultiDict(headers)
            skip = _SKIP_USER_AGENT if request.header("user-agent") is None else None
            self._last_headers = (headers, multi, skip)
        try:
            resp = await self._session().request(
                request.method,
                URL(request.url, encoded=True),
                headers=multi,
                data=data,
                allow_redirects=False,
                timeout=client_timeout,
                ssl=bool(request.verify_ssl),
                proxy=self._proxy,
                skip_auto_headers=skip,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _translate(exc, request.url, connecting=True) from None
        return _Response(resp, request.url)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        create = asyncio.get_running_loop().create_task
        ensure = asyncio.ensure_future
        # create_task directly for coroutines (the usual thunk); anything else awaitable
        # goes through ensure_future.
        tasks: list[asyncio.Future[T]] = []
        for thunk in thunks:
            aw = thunk()
            tasks.append(create(aw) if type(aw) is CoroutineType else ensure(aw))
        try:
            async with asyncio.timeout(timeout) as scope:
                return list(await asyncio.gather(*tasks))
        except TimeoutError:
            if scope.expired():
                raise RequestTimeout(f"not finished within the total timeout of {timeout} s; every request still running was cancelled") from None
            raise
        finally:
            pending = [t for t in tasks if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            for t in tasks:
                if t.done() and not t.cancelled():
                    t.exception()  # mark retrieved: only the first failure is raised

    def lock(self) -> AbstractAsyncContextManager[Any]:
        return asyncio.Lock()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.closed:
            await client.close()
