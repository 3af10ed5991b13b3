"""A small fault-injecting TCP proxy for tests (127.0.0.1 only).

Every client connection is forwarded to ``upstream``. A *cut rule* matches the head of an
HTTP request (request line and headers) and, the first time it matches, forwards only the
head and ``body_bytes`` bytes of the body, then closes both sides: the server sees a body
shorter than its ``Content-Length`` and the client a connection broken mid-request, like a
network failure in the middle of an upload chunk.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CutRule", "FaultProxy", "read_head"]


def read_head(sock: socket.socket) -> bytes:
    """Receive until the blank line that ends an HTTP head (or the peer stops sending):
    the head and whatever followed it in the same reads."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@dataclass
class CutRule:
    matches: Callable[[bytes], bool]
    body_bytes: int
    fired: bool = False


class FaultProxy:
    """``with FaultProxy(port) as proxy:`` then send to ``proxy.url`` instead of the server."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rules: list[CutRule] = []
        self.cuts = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._lock = threading.Lock()

    def cut(self, matches: Callable[[bytes], bool], body_bytes: int) -> CutRule:
        rule = CutRule(matches, body_bytes)
        with self._lock:
            self.rules.append(rule)
        return rule

    def __enter__(self) -> FaultProxy:
        t = threading.Thread(target=self._accept, name="faultproxy-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _rule_for(self, head: bytes) -> CutRule | None:
        with self._lock:
            for rule in self.rules:
                if not rule.fired and rule.matches(head):
                    rule.fired = True
                    return rule
        return None

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        cut = threading.Event()
        back = threading.Thread(target=self._pump, args=(upstream, client, cut), daemon=True)
        back.start()
        try:
            buffered = read_head(client)
            head, sep, rest = buffered.partition(b"\r\n\r\n")
            rule = self._rule_for(head) if sep else None
            if rule is None:
                upstream.sendall(buffered)
                self._pump(client, upstream, None)
                return
            upstream.sendall(head + sep)
            sent = 0
            pending = rest
            while sent < rule.body_bytes:
                if not pending:
                    pending = client.recv(65536)
                    if not pending:
                        break
                take = pending[: rule.body_bytes - sent]
                upstream.sendall(take)
                sent += len(take)
                pending = pending[len(take) :]
            self.cuts += 1
            # Break both sides: first a reset towards the client, then a short body towards
            # the server. Whatever the server answers to the short request is never passed
            # on (gcp-storage-emulator, for one, answers a 308 claiming the whole chunk).
            cut.set()
            with contextlib.suppress(OSError):
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.close()
            back.join(5)
            with contextlib.suppress(OSError):
                upstream.close()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, cut: threading.Event | None) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if cut is not None and cut.is_set():
                    continue  # the connection was cut: nothing more reaches the client
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
