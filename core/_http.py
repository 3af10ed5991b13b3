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

    @classmethod
    def coerce(cls, value: Timeout | float | None, default: Timeout) -> Timeout:
        """Accept a :class:`Timeout`, a number (a total timeout) or ``None`` (the default)."""
        if value is None:
            return default
        if isinstance(value, Timeout):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            from .excs import ValidationError

            raise ValidationError(
                [("timeout", f"must be seconds (a number) or aiogoogle.Timeout, got {type(value).__name__}", value)]
            )
        return cls(connect=default.connect, read=default.read, total=float(value))


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
    every chunk goes through :meth:`feed` (the core's decoding, counting and hashing) and
    the bytes it returns are written to :attr:`target`.
    """

    @property
    def target(self) -> FileTarget | PipeTarget: ...

    def accepts(self, status: int, headers: Headers) -> bool: ...

    def feed(self, chunk: bytes) -> bytes: ...

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
    computed over the stored bytes (PROTOCOL.md §2.5).
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


class ContentDecoder:
    """Incremental decoder for ``Content-Encoding`` (gzip, deflate, identity).

    Adapters hand over the bytes exactly as received; decoding is done once, here, so that
    every adapter behaves the same and raw bytes stay available for checksums.
    """

    __slots__ = ("_decoders",)

    def __init__(self, content_encoding: str | None) -> None:
        self._decoders: list[Any] = []
        if not content_encoding:
            return
        # Encodings are listed in the order they were applied; undo them in reverse.
        for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
            if coding in ("gzip", "x-gzip"):
                self._decoders.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif coding == "deflate":
                self._decoders.append(_Deflate())
            elif coding in ("identity", ""):
                continue
            else:
                from .excs import TransportError

                raise TransportError(f"unsupported Content-Encoding {coding!r}")

    @property
    def active(self) -> bool:
        return bool(self._decoders)

    def decode(self, data: bytes) -> bytes:
        for dec in self._decoders:
            try:
                data = dec.decompress(data)
            except zlib.error as exc:
                from .excs import TransportError

                raise TransportError(f"corrupt compressed response body: {exc}") from None
        return data

    def flush(self) -> bytes:
        out = b""
        for dec in self._decoders:
            out = (dec.decompress(out) if out else b"") + dec.flush()
        return out


class _Deflate:
    """``deflate`` is meant to be zlib-wrapped, but some servers send raw deflate."""

    __slots__ = ("_first", "_obj")

    def __init__(self) -> None:
        self._obj: Any = zlib.decompressobj()
        self._first = True

    def decompress(self, data: bytes) -> bytes:
        if self._first and data:
            self._first = False
            try:
                return bytes(self._obj.decompress(data))
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return bytes(self._obj.decompress(data))

    def flush(self) -> bytes:
        return bytes(self._obj.flush())
