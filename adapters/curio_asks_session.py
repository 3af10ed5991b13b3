"""The curio adapter, on asks 2.4.12 (anyio 2.2 under curio 1.6).

asks 3.x dropped curio; 2.4.12 is the last release that runs on it, through anyio 2.2. It
is used here strictly as a byte mover: ``follow_redirects=False`` (a resumable upload's 308
is not a redirect, docs/protocol.md §2.3), ``retries=0`` (retry policy lives in the core),
``stream=True`` with asks' own decompression switched off (the core decodes, and keeps
the raw bytes for checksums, docs/protocol.md §2.5), no cookies.

What asks 2.4.12 cannot do, and what this adapter does about it:

* **Streamed request bodies.** asks sends a body only as one ``bytes`` object. A streamed
  upload (``HttpRequest.body`` an async iterable, e.g. a file being uploaded) is therefore
  read into memory first, then sent. Resumable uploads send one chunk per request
  (``chunk_size``), which bounds the memory; use them for large files on curio.
* **Per-read timeouts while sending.** asks applies one timeout to "send the request and
  receive the response headers". It is set to ``timeout.read`` plus the time the body
  takes at ``min_upload_rate`` bytes per second, so a large upload over a slow but steady
  link does not time out while a stalled one still does. Response bodies get the read
  timeout on every single read, as documented.
* **Connect timeout and errors.** asks folds them into its request timeout; the connection
  is made here (``_Pool._make_connection``) so they surface as
  :class:`~aiogoogle.excs.ConnectTimeout` / :class:`~aiogoogle.excs.ConnectError`. Pools
  are kept per ``(verify_ssl, timeout.connect)`` because asks has no per-request option
  for either.
* **Connection reuse with streamed responses.** asks never returns the socket of a
  streamed response to its pool; it is returned here once the body was read to its end
  (and closed otherwise). A pooled connection the server has closed meanwhile is
  detected (readable while idle) and discarded instead of failing the next request.
* **Cancellation under anyio 2.2.** Its curio backend swallows a curio cancellation that
  reaches one of its cancel scopes (asks' timeouts, the happy-eyeballs connect), and a
  ``curio.timeout_after`` cannot cancel its connect task group. The connect timeout is
  therefore anyio's own, and a cancellation anyio swallowed is raised again
  (``_reraise_swallowed_cancel``), so ``gather``'s first-failure and total-timeout
  cancellation really stop the other requests.
* **Repeated response headers.** asks keeps only the last value of a repeated header
  (except ``Set-Cookie``), so a repeated ``x-goog-hash`` keeps one of its checksums.
* **Headers asks always sends**: ``Accept``, ``Accept-Encoding`` and ``User-Agent`` when
  the request has none (the core always sets them), ``Content-Type: text/plain`` for a
  body without a content type, ``Connection: keep-alive`` (sent explicitly; asks would
  otherwise send ``Connection: close``).
"""

from __future__ import annotations

import ssl as _ssl
import warnings
from collections.abc import AsyncIterator
from typing import Any

import anyio
import curio
import h11
from anyio.abc import SocketAttribute

with warnings.catch_warnings():
    # asks 2.4.12 calls random.randint() with floats at import time (deprecated since 3.10).
    warnings.simplefilter("ignore", DeprecationWarning)
    import asks
    from asks.errors import BadHttpResponse
    from asks.errors import RequestTimeout as AsksTimeout
    from asks.response_objects import StreamBody

from aiogoogle._http import Headers, HttpRequest
from aiogoogle.excs import ConnectError, ConnectTimeout, ReadTimeout, TransportError
from aiogoogle.models import Response

from ._curio import CurioSessionBase
from ._h11 import idle_connection_dropped
from .abc import AbstractSession

# AbstractSession and Response are importable from here as in aiogoogle 5.x.
__all__ = ["AbstractSession", "CurioAsksSession", "Response"]

# Errors a socket or the HTTP parser raises once a connection is established.
_IO_ERRORS = (
    OSError,
    h11.ProtocolError,
    BadHttpResponse,
    anyio.EndOfStream,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)


def _io_error(exc: BaseException, url: str, what: str) -> TransportError:
    if isinstance(exc, AsksTimeout):
        return ReadTimeout("read timeout", url=url)
    if isinstance(exc, (anyio.EndOfStream, anyio.ClosedResourceError)):
        return TransportError(f"server closed the connection {what}", url=url)
    if isinstance(exc, h11.ProtocolError):
        return TransportError(f"invalid or incomplete HTTP response {what}: {exc}", url=url)
    if isinstance(exc, BadHttpResponse):
        cause = exc.__cause__
        detail = f": {cause}" if cause else ""
        return TransportError(f"invalid or incomplete HTTP response {what}{detail}", url=url)
    if isinstance(exc, anyio.BrokenResourceError):
        cause = exc.__cause__
        return TransportError(f"connection broken {what}: {cause or 'reset'}", url=url)
    return TransportError(f"{type(exc).__name__} {what}: {exc}", url=url)


async def _reraise_swallowed_cancel() -> None:
    """anyio 2.2's curio backend treats *any* curio cancellation that reaches one of its
    cancel scopes (asks' timeouts, its happy-eyeballs connect) as aimed at that scope and
    swallows it, so a task cancelled by ``gather`` could carry on. curio marks the task
    ``cancelled`` (anyio resets the flag only for its own cancellations): raise it again."""
    task = await curio.current_task()
    if task is not None and task.cancelled:
        raise curio.TaskCancelled("cancelled (re-raised after anyio swallowed it)")


class _Pool(asks.Session):  # type: ignore[misc]
    """An asks session whose connections are made with our connect timeout and errors,
    and whose idle connections are checked before reuse."""

    def __init__(self, ssl_context: _ssl.SSLContext, connect_timeout: float | None, connections: int) -> None:
        super().__init__(ssl_context=ssl_context, connections=connections)
        self._connect_timeout = connect_timeout

    def _checkout_connection(self, host_loc: str) -> Any:
        while True:
            sock = super()._checkout_connection(host_loc)
            if sock is None or not idle_connection_dropped(sock.extra(SocketAttribute.raw_socket)):
                return sock
            # The server closed it while it sat idle: drop it (its fd is closed below).
            sock._active = False
            sock.extra(SocketAttribute.raw_socket).close()

    async def _make_connection(self, host_loc: str) -> Any:
        try:
            # anyio's own timeout: anyio 2.2 connects in an anyio task group (happy
            # eyeballs), which a curio.timeout_after around it cannot cancel.
            async with anyio.fail_after(self._connect_timeout):
                sock = await super()._make_connection(host_loc)
            await _reraise_swallowed_cancel()
            return sock
        except TimeoutError:
            raise ConnectTimeout(f"connect timeout ({self._connect_timeout} s)", url=host_loc) from None
        except _ssl.SSLCertVerificationError as exc:
            raise ConnectError(f"TLS certificate verification failed: {exc.verify_message}", url=host_loc) from None
        except (_ssl.SSLError, anyio.BrokenResourceError) as exc:
            cause = exc.__cause__ or exc
            if isinstance(cause, _ssl.SSLCertVerificationError):
                raise ConnectError(f"TLS certificate verification failed: {cause.verify_message}", url=host_loc) from None
            raise ConnectError(f"TLS handshake failed: {cause}", url=host_loc) from None
        except OSError as exc:
            raise ConnectError(f"cannot connect: {exc.strerror or exc}", url=host_loc) from None


class _Response:
    __slots__ = ("_body", "_buffered", "_done", "_keep_alive", "_pool", "_read_timeout", "headers", "reason", "status", "url")

    def __init__(self, pool: _Pool, resp: Any, url: str, read_timeout: float | None) -> None:
        self._pool = pool
        self.status: int = resp.status_code
        self.reason: str = resp.reason_phrase or ""
        headers: list[tuple[str, str]] = []
        for name, value in resp.headers.items():
            if isinstance(value, list):  # asks gathers Set-Cookie into a list
                headers.extend((name, v) for v in value)
            else:
                headers.append((name, value))
        self.headers = headers
        self.url = url
        self._read_timeout = read_timeout
        # HTTP/1.0 closes after each response unless it says keep-alive (RFC 9112 §9.3);
        # reusing such a connection fails the next request (gcp-storage-emulator is 1.0).
        connection = Headers(headers).get("connection", "").lower()
        http_1_0 = str(getattr(resp, "http_version", "1.1")) == "1.0"
        self._keep_alive = connection != "close" and (not http_1_0 or connection == "keep-alive")
        body = resp.body
        self._body: StreamBody | None = body if isinstance(body, StreamBody) else None
        self._buffered = b"" if self._body is not None else bytes(body or b"")
        self._done = self._body is None

    async def chunks(self) -> AsyncIterator[bytes]:
        stream = self._body
        if stream is None:
            if self._buffered:
                yield self._buffered
            return
        stream.decompress_data = False
        stream.timeout = self._read_timeout  # applied to every single socket read
        # asks reads 10,000 bytes per socket read: ~100,000 generator steps per GiB.
        stream.read_size = 256 * 1024
        body = stream.__aiter__()
        try:
            async for chunk in body:
                await _reraise_swallowed_cancel()
                yield bytes(chunk)
        except (AsksTimeout, *_IO_ERRORS) as exc:
            await _reraise_swallowed_cancel()
            raise _io_error(exc, self.url, "while reading the body") from None
        finally:
            # Left early (a size limit, a consumer's error): asks' body iterator must be
            # finalised here, in this task; curio refuses to do it at garbage collection.
            close = getattr(body, "aclose", None)
            if close is not None:
                await close()
        await _reraise_swallowed_cancel()
        self._done = True

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body (what :meth:`chunks` yields, joined); once more than ``limit``
        bytes arrived, what has arrived so far (:meth:`aclose` then drops the connection)."""
        if self._body is None:
            return self._buffered
        parts: list[bytes] = []
        size = 0
        chunks = self.chunks()
        try:
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if limit is not None and size > limit:
                    break
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
        return b"".join(parts)

    async def aclose(self) -> None:
        stream, self._body = self._body, None
        if stream is None:
            return
        sock = stream.sock
        keep = self._done and getattr(sock, "_active", False) and self._keep_alive
        if keep:
            await self._pool.return_to_pool(sock)
        else:
            sock._active = False
            await sock.aclose()


class CurioAsksSession(CurioSessionBase):
    """curio + asks 2.4.12 (see the module docstring for what asks cannot do).

    Args:
        ssl_context: an :class:`ssl.SSLContext` for TLS (e.g. trusting a private CA or
            presenting a client certificate). Certificates are verified by default.
        ca_file: a PEM file of CA certificates to trust instead of the system store.
        connections: the maximum number of requests in flight at once (asks' semaphore).
        min_upload_rate: bytes per second a request body is allowed to take on top of the
            read timeout while it is sent (asks cannot time each write separately).
    """

    def __init__(
        self,
        *,
        ssl_context: _ssl.SSLContext | None = None,
        ca_file: str | None = None,
        connections: int = 100,
        min_upload_rate: float = 128 * 1024,
    ) -> None:
        if ssl_context is None:
            ssl_context = _ssl.create_default_context(cafile=ca_file)
        self._ssl = ssl_context
        self._connections = connections
        self._min_upload_rate = min_upload_rate
        self._pools: dict[tuple[bool, float | None], _Pool] = {}

    def _pool(self, verify: bool, connect_timeout: float | None) -> _Pool:
        key = (verify, connect_timeout)
        pool = self._pools.get(key)
        if pool is None:
            ctx = self._ssl
            if not verify:
                ctx = _ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = _ssl.CERT_NONE
            pool = self._pools[key] = _Pool(ctx, connect_timeout, self._connections)
        return pool

    async def send(self, request: HttpRequest) -> _Response:
        body = request.body
        if not isinstance(body, bytes):
            # asks sends bodies as one bytes object: a streamed upload is buffered here.
            body = b"".join([bytes(chunk) async for chunk in body])  # type: ignore[union-attr]
        timeout = request.timeout
        phase = timeout.read
        if phase is not None and body:
            phase += len(body) / self._min_upload_rate
        headers = dict(Headers(request.headers))
        headers["Connection"] = "keep-alive"
        url = request.url
        pool = self._pool(request.verify_ssl, timeout.connect)
        kwargs: dict[str, Any] = {"data": body} if body else {}
        try:
            resp = await pool.request(
                request.method,
                url,
                headers=headers,
                follow_redirects=False,
                retries=0,
                stream=True,
                timeout=phase,
                connection_timeout=None,
                **kwargs,
            )
        except Exception as exc:
            await _reraise_swallowed_cancel()
            if isinstance(exc.__cause__, TransportError):
                # Ours, from _Pool._make_connection; asks wraps a ConnectTimeout (a
                # TimeoutError) into its RequestTimeout.
                raise exc.__cause__ from None
            if isinstance(exc, (AsksTimeout, *_IO_ERRORS)):
                raise _io_error(exc, url, "while waiting for the response") from None
            if isinstance(exc, TypeError):
                # asks unpacks what its timeout helper returns; anyio 2.2 can end that
                # helper's cancel scope with neither an answer nor an error (the swallowed
                # cancellation above, seen when curio's and anyio's timers fire together on
                # a loaded machine): asks then fails unpacking None. The exchange gave no
                # response; say so in our terms instead of leaking asks' TypeError.
                raise TransportError("asks ended the exchange without a response or an error (anyio 2.2 lost a timeout)", url=url) from None
            raise
        response = _Response(pool, resp, url, timeout.read)
        try:
            await _reraise_swallowed_cancel()
        except BaseException:
            await response.aclose()
            raise
        return response

    async def close(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            await pool.close()
