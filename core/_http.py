"""Wire-level request and response descriptions shared by the core and the adapters.

Theory of operation
-------------------
The core never performs I/O. It describes an HTTP exchange as an :class:`HttpRequest`
(method, absolute URL, headers, body, timeouts) and receives an :class:`HttpResponse`
(status, headers, body bytes) back. Bodies that are too large to hold in memory are
*described*, not materialised: a :class:`StreamBody` is a sequence of segments that are
either bytes the core generated (multipart framing, JSON metadata) or references to the
caller's data (:class:`FileRange`, :class:`PipeSource`). The driver turns that description
into an async byte stream through the adapter, so file and socket access stay outside the
core. Downloads work the other way round: a :class:`BodyConsumer` tells the driver to stream
a successful body into a :class:`FileTarget` or :class:`PipeTarget` instead of buffering it.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "BodyConsumer",
    "ContentDecoder",
    "FileRange",
    "FileTarget",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "PipeSource",
    "PipeTarget",
    "StreamBody",
    "Timeout",
]


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive view of HTTP headers.

    Repeated headers are joined with ``", "`` when read through the mapping interface
    (RFC 9110 §5.3); :meth:`getall` returns them one by one. ``raw`` keeps the original
    ``(name, value)`` pairs in order.
    """

    __slots__ = ("_map", "raw")

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        raw: tuple[tuple[str, str], ...]
        if type(items) is list or type(items) is tuple:  # adapters' pairs; skips the ABC check
            raw = tuple(items)
        else:
            raw = tuple(items.items()) if isinstance(items, Mapping) else tuple(items)
        self.raw = raw
        # Every response is parsed once; a comprehension is the fast way when no name
        # repeats (the usual case), detected by the size of the result.
        merged: dict[str, str] = {name.lower(): value for name, value in raw}
        if len(merged) != len(raw):
            merged = {}
            for name, value in raw:
                key = name.lower()
                merged[key] = f"{merged[key]}, {value}" if key in merged else value
        self._map = merged

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:
        return self._map.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._map

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def getall(self, name: str) -> list[str]:
        key = name.lower()
        return [v for n, v in self.raw if n.lower() == key]

    def __repr__(self) -> str:
        return f"Headers({dict(self._map)!r})"


@dataclass(frozen=True, slots=True)
class Timeout:
    """Timeouts, in seconds, for one HTTP exchange (``None`` disables that limit).

    ``connect`` bounds establishing the connection (TCP and TLS). ``read`` bounds every
    single wait for the network once connected (each read of the response and each write
    of the request body), so a slow but steady transfer of any size never times out while
    a stalled one does. ``total`` bounds the whole exchange including the body.
    """

    connect: float | None = 10.0
    read: float | None = 60.0
    total: float | None = None


@dataclass(frozen=True, slots=True)
class FileRange:
    """``length`` bytes of the local file at ``path`` starting at ``start`` (``None``: to the end)."""

    path: str
    start: int = 0
    length: int | None = None


@dataclass(frozen=True, slots=True)
class PipeSource:
    """Bytes pulled from the caller's async iterable (``pipe_from``).

    ``length`` is how many bytes this segment takes from the source (``None``: everything
    that is left). The driver remembers how far each source has been read, so successive
    segments continue where the previous one stopped.
    """

    source: AsyncIterable[bytes]
    length: int | None = None


Segment = bytes | FileRange | PipeSource


@dataclass(frozen=True, slots=True)
class StreamBody:
    """A request body described as segments, materialised lazily by the driver.

    ``length`` is the total number of bytes when known (it becomes ``Content-Length``);
    ``None`` sends the body with chunked transfer encoding.
    """

    segments: tuple[Segment, ...]
    length: int | None

    @classmethod
    def of(cls, *segments: Segment) -> StreamBody:
        total: int | None = 0
        for seg in segments:
            if isinstance(seg, bytes):
                size: int | None = len(seg)
            else:
                size = seg.length
            total = None if total is None or size is None else total + size
        return cls(tuple(segments), total)


Body = bytes | StreamBody | AsyncIterable[bytes]


@dataclass(frozen=True, slots=True)
class FileTarget:
    """Write a streamed response body into the file at ``path`` starting at byte ``offset``.

    ``offset == 0`` truncates the file first; a positive offset continues a partial file
    (download resumption).
    """

    path: str
    offset: int = 0


@dataclass(frozen=True, slots=True)
class PipeTarget:
    """Hand each chunk of a streamed response body to ``write`` (sync or async callable)."""

    write: Callable[[bytes], Any]


class BodyConsumer(Protocol):
    """What the core gives the driver to stream a response body instead of buffering it.

    The driver calls :meth:`accepts` with the status and headers; when it returns false the
    body is buffered as usual (error bodies are small and the core parses them). Otherwise
    every chunk goes through :meth:`feed` (the core's decoding, counting and hashing), which
    returns the bytes to write to :attr:`target` as pieces of bounded size (a compressed
    chunk may expand a thousandfold: it is never materialised whole), and once the body
    ended :meth:`finish` returns the last pieces.
    """

    @property
    def target(self) -> FileTarget | PipeTarget: ...

    def accepts(self, status: int, headers: Headers) -> bool: ...

    def feed(self, chunk: bytes) -> Iterable[bytes]: ...

    def finish(self) -> Iterable[bytes]: ...

    def progress(self) -> Awaitable[None] | None: ...


# Every request builds two HttpRequests and one HttpResponse: their __init__ sets the slots
# through the slot descriptors (bound below, once the dataclass made the slotted class)
# instead of the generated object.__setattr__ per field: 0.62 -> 0.40 us each. Same fields,
# defaults, equality, repr, immutability and dataclasses.replace().
_DEFAULT_TIMEOUT: Any = object()


@dataclass(frozen=True, slots=True, init=False)
class HttpRequest:
    """One HTTP exchange as the core wants it on the wire.

    ``url`` is absolute and already percent-encoded. ``headers`` are sent as given (the
    adapter adds only ``Host``, ``Content-Length``/``Transfer-Encoding`` and connection
    management). ``raw`` asks the driver not to undo ``Content-Encoding`` so checksums can be
    computed over the stored bytes (docs/protocol.md §2.5).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: Body = b""
    timeout: Timeout = field(default_factory=Timeout)
    verify_ssl: bool = True
    raw: bool = False

    def __init__(
        self,
        method: str,
        url: str,
        headers: tuple[tuple[str, str], ...] = (),
        body: Body = b"",
        timeout: Timeout = _DEFAULT_TIMEOUT,
        verify_ssl: bool = True,
        raw: bool = False,
    ) -> None:
        s = _REQUEST_SLOTS
        s[0](self, method)
        s[1](self, url)
        s[2](self, headers)
        s[3](self, body)
        s[4](self, Timeout() if timeout is _DEFAULT_TIMEOUT else timeout)
        s[5](self, verify_ssl)
        s[6](self, raw)

    def header(self, name: str) -> str | None:
        key = name.lower()
        for n, v in self.headers:
            if n.lower() == key:
                return v
        return None


@dataclass(frozen=True, slots=True, init=False)
class HttpResponse:
    """A finished HTTP exchange. ``body`` is empty when the body was streamed to a target;
    ``streamed`` then says how many (decoded) bytes were delivered there."""

    status: int
    headers: Headers
    body: bytes = b""
    reason: str = ""
    url: str = ""
    streamed: int | None = None

    def __init__(self, status: int, headers: Headers, body: bytes = b"", reason: str = "", url: str = "", streamed: int | None = None) -> None:
        s = _RESPONSE_SLOTS
        s[0](self, status)
        s[1](self, headers)
        s[2](self, body)
        s[3](self, reason)
        s[4](self, url)
        s[5](self, streamed)


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


_REQUEST_SLOTS = _slot_setters(HttpRequest, ("method", "url", "headers", "body", "timeout", "verify_ssl", "raw"))
_RESPONSE_SLOTS = _slot_setters(HttpResponse, ("status", "headers", "body", "reason", "url", "streamed"))


#: The content codings the client undoes (RFC 9110 §8.4.1), the ones it offers in
#: ``Accept-Encoding``. ``identity`` (no coding) is always accepted.
SUPPORTED_CODINGS = ("gzip", "x-gzip", "deflate")
#: At most this many non-identity codings may be stacked on one response. RFC 9110 §8.4
#: allows a list, but no Google server stacks them, and every extra layer multiplies what a
#: small compressed body can expand to (``gzip, gzip`` turns 1 kB into 1 GiB).
MAX_CODINGS = 1
#: The most decoded bytes produced from one step of input, however small the input was:
#: memory per step stays bounded while a stream expands (a compression "bomb").
DECODE_STEP = 1024 * 1024
#: Buffered response bodies (JSON replies, error bodies, token, JWKS, discovery and batch
#: replies) larger than this, after decoding, raise ResponseTooLarge. The largest Google
#: JSON replies are BigQuery's ``tabledata.list`` pages, up to about 100 MB of row data
#: (https://cloud.google.com/bigquery/docs/paging-results), and discovery documents (about
#: 6 MB for compute alpha); streamed downloads are never buffered and not limited by it.
DEFAULT_MAX_RESPONSE_SIZE = 256 * 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"


def too_large(limit: int, url: str | None = None, what: str = "response body") -> Exception:
    """The :class:`~aiogoogle.excs.ResponseTooLarge` raised when a buffered body passes ``limit``."""
    from .excs import ResponseTooLarge

    return ResponseTooLarge(
        f"{what} exceeds the client's limit of {limit} bytes (after decoding); reading stopped. "
        "Raise it with Aiogoogle(max_response_size=...) or request.max_response_size, "
        "or stream large media with download_file= / pipe_to=",
        limit=limit,
        url=url,
    )


class ContentDecoder:
    """Incremental, bounded decoder for ``Content-Encoding`` (gzip, deflate, identity).

    Adapters hand over the bytes exactly as received; decoding is done once, here, so that
    every adapter behaves the same and raw bytes stay available for checksums. Output is
    produced in pieces of at most ``step`` bytes (:meth:`decode`), so a body that expands a
    thousandfold never needs more than one piece in memory; :meth:`decode_all` decodes a
    whole buffered body up to a size limit.

    Raises :class:`~aiogoogle.excs.TransportError` for an unknown coding, more than
    :data:`MAX_CODINGS` codings, corrupt or truncated compressed data, or bytes after the
    end of the compressed stream (other than further gzip members, RFC 1952 §2.2).
    """

    __slots__ = ("_carry", "_coding", "_decoder", "_ended", "_step")

    def __init__(self, content_encoding: str | None, *, step: int = DECODE_STEP) -> None:
        self._step = step
        self._decoder: Any = None
        self._coding = ""
        self._ended = False
        self._carry = b""
        if not content_encoding:
            return
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c not in ("identity", "")]
        for coding in codings:
            if coding not in SUPPORTED_CODINGS:
                raise _decode_error(f"unsupported Content-Encoding {coding!r} (supported: gzip, deflate, identity)")
        if len(codings) > MAX_CODINGS:
            raise _decode_error(
                f"Content-Encoding {content_encoding.strip()!r} stacks {len(codings)} codings; "
                f"at most {MAX_CODINGS} is accepted"
            )
        if codings:
            self._coding = codings[0]
            self._decoder = _new_gzip() if self._coding != "deflate" else _Deflate()

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of the next piece of input, in pieces of at most ``step`` bytes."""
        dec = self._decoder
        if dec is None:
            if data:
                yield data
            return
        step = self._step
        pending = data
        if self._carry:
            pending, self._carry = self._carry + data, b""
        while True:
            if self._ended:
                more = self._after_end(pending)
                if more is None:
                    return
                pending, dec = more, self._decoder
            try:
                out = dec.decompress(pending, step)
            except zlib.error as exc:
                raise _decode_error(f"corrupt compressed response body: {exc}") from None
            if out:
                yield out
            if dec.eof:
                self._ended = True
                pending = dec.unused_data
                continue
            pending = dec.unconsumed_tail
            # A full piece may leave output inside zlib even when all input was taken.
            if not pending and len(out) < step:
                return

    def _after_end(self, data: bytes) -> bytes | None:
        """Input after the end of a compressed stream: another gzip member starts a new
        decoder (RFC 1952 §2.2) and is returned to be decoded; zero padding is ignored;
        anything else is an error. ``None``: nothing (yet) to decode."""
        if not data:
            return None
        if self._coding != "deflate" and data[:2] == _GZIP_MAGIC[: len(data)]:
            if len(data) < 2:
                self._carry = data  # the second magic byte is in the next read
                return None
            self._decoder = _new_gzip()
            self._ended = False
            return data
        if not data.strip(b"\x00"):
            return None
        raise _decode_error("response body has data after the end of its compressed stream")

    def finish(self) -> Iterator[bytes]:
        """The last decoded bytes once the body ended; raises if the stream was truncated."""
        dec = self._decoder
        if dec is None:
            return
        yield from self.decode(b"")
        if self._carry:
            raise _decode_error("response body has data after the end of its compressed stream")
        if not self._ended:
            raise _decode_error("compressed response body is truncated (the stream does not end)")

    def decode_all(self, data: bytes, limit: int | None, url: str | None = None) -> bytes:
        """Decode a whole buffered body; :class:`~aiogoogle.excs.ResponseTooLarge` once the
        output passes ``limit`` bytes (``None``: no limit)."""
        if self._decoder is None:
            if limit is not None and len(data) > limit:
                raise too_large(limit, url)
            return data
        parts: list[bytes] = []
        size = 0
        for pieces in (self.decode(data), self.finish()):
            for piece in pieces:
                size += len(piece)
                if limit is not None and size > limit:
                    raise too_large(limit, url)
                parts.append(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)


def _decode_error(msg: str) -> Exception:
    from .excs import TransportError

    return TransportError(msg)


def _new_gzip() -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)


class _Deflate:
    """``deflate`` is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send
    raw deflate: the first bytes decide."""

    __slots__ = ("_first", "_obj")

    def __init__(self) -> None:
        self._obj: Any = zlib.decompressobj()
        self._first = True

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._first and data:
            self._first = False
            try:
                return bytes(self._obj.decompress(data, max_length))
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return bytes(self._obj.decompress(data, max_length))

    @property
    def eof(self) -> bool:
        return bool(self._obj.eof)

    @property
    def unused_data(self) -> bytes:
        return bytes(self._obj.unused_data)

    @property
    def unconsumed_tail(self) -> bytes:
        return bytes(self._obj.unconsumed_tail)
