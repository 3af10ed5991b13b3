"""A hostile HTTP server for tests: raw sockets on 127.0.0.1, answering with whatever bytes
a test scripts, however wrong.

Unlike :class:`~aiogoogle.testing.LocalGoogleServer`, nothing here is a well-behaved HTTP
server: a route is a function that receives the parsed request and the client socket and
writes anything (a compression bomb, an endless chunked body, a lying ``Content-Length``,
garbage instead of a status line), then says whether the connection may carry another
request. Every accepted connection and every request is recorded, so tests can tell which
connection a response arrived on.

``address_space_limit`` lowers the process's address-space limit (``RLIMIT_AS``) for the
duration of a test, so that a client which does materialise a bomb fails with
``MemoryError`` instead of exhausting the machine.
"""

from __future__ import annotations

import contextlib
import gzip
import resource
import socket
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "HostileServer",
    "Received",
    "address_space_limit",
    "gzip_bomb",
    "http_head",
]


@dataclass
class Received:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int  # the index of the connection it arrived on

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


#: A route: write the answer to the socket; return True to keep the connection for the
#: next request.
Route = Callable[[Received, socket.socket], bool]


@dataclass
class HostileServer:
    """``with HostileServer() as server:`` then ``server.route("/path", fn)``.

    Requests to a path without a route get a 404 with a small JSON body.
    """

    routes: dict[str, Route] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        self._lock = threading.Lock()
        self._clients: list[socket.socket] = []

    def route(self, path: str, fn: Route) -> None:
        self.routes[path] = fn

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._accept, name="hostile-accept", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            with contextlib.suppress(OSError):
                client.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                index = self.connections
                self.connections += 1
                self._clients.append(client)
            threading.Thread(target=self._serve, args=(client, index), daemon=True).start()

    def _serve(self, client: socket.socket, index: int) -> None:
        buffered = b""
        try:
            while not self._closed:
                request, buffered = _read_request(client, buffered, index)
                if request is None:
                    return
                with self._lock:
                    self.received.append(request)
                fn = self.routes.get(request.path, _not_found)
                if not fn(request, client):
                    return
        except OSError:
            return  # the client went away: expected for most hostile answers
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                client.close()


def _read_request(client: socket.socket, buffered: bytes, index: int) -> tuple[Received | None, bytes]:
    while b"\r\n\r\n" not in buffered:
        chunk = client.recv(65536)
        if not chunk:
            return None, b""
        buffered += chunk
    head, _, rest = buffered.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = client.recv(65536)
                if not chunk:
                    return None, b""
                rest += chunk
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = client.recv(65536)
                if not chunk:
                    return None, b""
                rest += chunk
            body += rest[:size]
            rest = rest[size + 2 :]
            if size == 0:
                break
    else:
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            chunk = client.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        body, rest = rest[:length], rest[length:]
    return Received(method, target, headers, body, index), rest


def _not_found(request: Received, client: socket.socket) -> bool:
    client.sendall(
        http_head(404, [("content-type", "application/json"), ("content-length", "28")])
        + b'{"error": {"code": 404}}    '
    )
    return True


def http_head(status: int, headers: Iterable[tuple[str, str]], reason: str = "X") -> bytes:
    """An HTTP/1.1 status line and headers, ending with the blank line."""
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: int, headers: Iterable[tuple[str, str]], body: bytes, *, keep: bool = True) -> Route:
    """A route that sends exactly these bytes after the head (no length added)."""
    raw = http_head(status, headers) + body

    def route(request: Received, client: socket.socket) -> bool:
        client.sendall(raw)
        return keep

    return route


def endless_chunked(status: int, headers: Iterable[tuple[str, str]], piece: bytes = b"[" * 65536) -> Route:
    """A chunked body that never ends: pieces are sent until the client goes away."""
    head = http_head(status, [*headers, ("transfer-encoding", "chunked")])
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    def route(request: Received, client: socket.socket) -> bool:
        client.sendall(head)
        while True:
            client.sendall(frame)  # raises once the client closed: the serving thread ends

    return route


@contextlib.contextmanager
def address_space_limit(headroom: int) -> Iterator[None]:
    """Lower ``RLIMIT_AS`` to the process's current size plus ``headroom`` bytes while the
    block runs (Linux: read from /proc/self/statm), then restore it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[0])
    current = pages * resource.getpagesize()
    limit = current + headroom
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


_MEMBER_CACHE: dict[int, bytes] = {}


def gzip_bomb(decoded_size: int, *, member: int = 1 << 24) -> bytes:
    """A gzip body that decodes to ``decoded_size`` zero bytes: identical gzip members
    (RFC 1952 §2.2) of ``member`` zeros each, about 1/1000 of the decoded size."""
    assert decoded_size % member == 0
    one = _MEMBER_CACHE.get(member)
    if one is None:
        one = _MEMBER_CACHE[member] = gzip.compress(b"\x00" * member, compresslevel=9, mtime=0)
    return one * (decoded_size // member)


def deflate_bomb(decoded_size: int) -> bytes:
    """A single zlib-wrapped deflate stream of ``decoded_size`` zero bytes."""
    comp = zlib.compressobj(9)
    zeros = b"\x00" * (1 << 20)
    parts = [comp.compress(zeros) for _ in range(decoded_size >> 20)]
    parts.append(comp.flush())
    return b"".join(parts)
