"""An aiogoogle session on httpx + anyio: an adapter written outside the package, on public
names only (``aiogoogle.sessions.base.BaseSession``, ``aiogoogle.excs``).

Use it like any session (anyio runs it on asyncio or trio)::

    async with Aiogoogle(session_factory=HttpxSession) as aiogoogle:
        drive = await aiogoogle.discover("drive", "v3")

It passes aiogoogle's contract suite, run the way any adapter author runs it
(tests/test_httpx_example.py does, in a virtualenv of its own: httpx needs anyio>=4)::

    pytest -p aiogoogle.testing.contract \\
        --aiogoogle-backend=examples.httpx_anyio_session:HttpxSession@asyncio tests/contract

What the session must do is aiogoogle's driver contract: send the URL, method, headers and
body exactly as given, never follow a redirect, never decompress, never log a URL or a
header, verify TLS unless the request says otherwise, and turn every failure into
``aiogoogle.excs.TransportError``. It therefore uses httpx's *transport*
(``httpx.AsyncHTTPTransport``) rather than ``httpx.AsyncClient``: the client adds headers
(``Accept-Encoding``, ``User-Agent``), keeps cookies, follows redirects when asked and logs
every request's URL at INFO level (https://www.python-httpx.org/logging/); the transport
does none of that.
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import httpx

from aiogoogle.excs import ConnectError, ConnectTimeout, ReadTimeout, RequestTimeout, TransportError
from aiogoogle.sansio import HttpRequest
from aiogoogle.sessions.base import BaseSession

__all__ = ["HttpxSession"]

T = TypeVar("T")


def _translate(exc: httpx.TransportError, url: str) -> TransportError:
    """httpx's exceptions (https://www.python-httpx.org/exceptions/) as aiogoogle's; the
    message names the failure, never the URL's query or a header."""
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return ConnectTimeout("connect timeout", url=url)
    if isinstance(exc, httpx.TimeoutException):
        return ReadTimeout("read timeout", url=url)
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, _ssl.SSLCertVerificationError):
                return ConnectError(f"TLS certificate verification failed: {cause.verify_message}", url=url)
            cause = cause.__cause__ or cause.__context__
        return ConnectError(f"cannot connect: {exc}", url=url)
    if isinstance(exc, httpx.RemoteProtocolError):
        return TransportError(f"the server broke the HTTP protocol: {exc}", url=url)
    return TransportError(f"{type(exc).__name__}: {exc}", url=url)


class _Response:
    """The response head, with the body still on the connection (see
    ``aiogoogle.sessions.base.BaseSession.send``)."""

    __slots__ = ("_response", "_url", "headers", "reason", "status")

    def __init__(self, response: httpx.Response, url: str) -> None:
        self._response = response
        self._url = url
        self.status = response.status_code
        self.reason = response.reason_phrase
        # In the order received, repeats kept, as sent (httpx keeps the raw pairs).
        self.headers = tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers.raw)

    async def chunks(self) -> AsyncIterator[bytes]:
        # aiter_raw: the bytes as received, still content-encoded (the core decodes).
        try:
            async for chunk in self._response.aiter_raw():
                if chunk:
                    yield chunk
        except httpx.TransportError as exc:
            raise _translate(exc, self._url) from None

    async def aclose(self) -> None:
        # A body read to its end returns the connection to the pool; otherwise httpcore
        # closes it.
        await self._response.aclose()


class HttpxSession(BaseSession):
    """anyio + httpx's connection pool (HTTP/1.1, keep-alive).

    Args:
        ssl_context: an :class:`ssl.SSLContext` for TLS (e.g. trusting a private CA).
        ca_file: a PEM file of CA certificates to trust instead of the system store.
        max_connections: the pool's limit (all hosts).
    """

    def __init__(self, *, ssl_context: _ssl.SSLContext | None = None, ca_file: str | None = None, max_connections: int = 100) -> None:
        if ssl_context is None and ca_file is not None:
            ssl_context = _ssl.create_default_context(cafile=ca_file)
        self._ssl_context = ssl_context
        self._limits = httpx.Limits(max_connections=max_connections)
        # httpx verifies per transport, not per request: one pool verifies, and another
        # that does not is made only if a request sets verify_ssl=False.
        self._transports: dict[bool, httpx.AsyncHTTPTransport] = {}

    def _transport(self, verify: bool) -> httpx.AsyncHTTPTransport:
        transport = self._transports.get(verify)
        if transport is None:
            setting: Any = (self._ssl_context or True) if verify else False
            transport = self._transports[verify] = httpx.AsyncHTTPTransport(verify=setting, limits=self._limits, trust_env=False)
        return transport

    async def send(self, request: HttpRequest) -> _Response:
        timeout = request.timeout
        body = request.body
        outgoing = httpx.Request(
            request.method,
            request.url,
            headers=list(request.headers),
            content=body if isinstance(body, bytes) else _stream(body),
            extensions={"timeout": {"connect": timeout.connect, "read": timeout.read, "write": timeout.read, "pool": timeout.connect}},
        )
        try:
            response = await self._transport(bool(request.verify_ssl)).handle_async_request(outgoing)
        except httpx.TransportError as exc:
            raise _translate(exc, request.url) from None
        return _Response(response, request.url)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        results: list[Any] = [None] * len(thunks)
        failure: list[Exception] = []

        async def run(index: int, thunk: Callable[[], Awaitable[T]], group: anyio.abc.TaskGroup) -> None:
            try:
                results[index] = await thunk()
            except Exception as exc:
                # The first failure cancels the rest and is raised itself, not as a group.
                if not failure:
                    failure.append(exc)
                group.cancel_scope.cancel()

        with anyio.move_on_after(timeout) as deadline:
            async with anyio.create_task_group() as group:
                for index, thunk in enumerate(thunks):
                    group.start_soon(run, index, thunk, group)
        if failure:
            raise failure[0]
        if deadline.cancelled_caught:
            raise RequestTimeout(f"not finished within the total timeout of {timeout} s; every request still running was cancelled")
        return results

    def lock(self) -> AbstractAsyncContextManager[Any]:
        return anyio.Lock()

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args)

    async def close(self) -> None:
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            await transport.aclose()


async def _stream(body: Any) -> AsyncIterator[bytes]:
    """A streamed upload (``Content-Length`` is in the headers when known; httpx sends
    the body chunked otherwise)."""
    async for chunk in body:
        yield bytes(chunk)
