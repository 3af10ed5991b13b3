"""Client CPU per call spent by aiogoogle itself, without a network: microseconds per
``await as_api_key(request)`` (request built with validation on) against an in-memory
session that answers every request with the same small JSON reply, one call at a time.

    python benchmarks/bench_call_overhead.py             # best of 5 runs of 20000 calls
    python benchmarks/bench_call_overhead.py --profile   # cProfile of one run, by own time

This isolates what ``bench_throughput``'s per-call pattern adds on top of the HTTP library
(building the request, ``as_*`` setup, the driver and flows, the response and its JSON),
on a figure that the machine's other load barely moves. The session is asyncio-free
(nothing it awaits suspends), so the loop below runs on any event loop; asyncio's is used.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _throughput_harness import KEY, QUERY, check, document  # noqa: E402

from aiogoogle import Aiogoogle, GoogleAPI  # noqa: E402
from aiogoogle._http import HttpRequest  # noqa: E402

T = TypeVar("T")
URL = "http://127.0.0.1:8/"

#: The local server's echo of ``bench.items.list(**QUERY)``, with aiohttp's headers.
BODY = (
    b'{"method": "GET", "path": "/bench/items", "query": {"maxResults": ["10"], "q": ["bench"], "key": ["' + KEY.encode() + b'"]}, '
    b'"headers": {"Host": "127.0.0.1:8", "Accept": "application/json"}, "body": ""}'
)
HEADERS = (("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(BODY))), ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
           ("Server", "Python/3.11 aiohttp/3.14"))


class _Reply:
    __slots__ = ("headers", "reason", "status", "url")

    def __init__(self, url: str) -> None:
        self.status = 200
        self.reason = "OK"
        self.headers = HEADERS
        self.url = url

    async def read(self, limit: int | None = None) -> bytes:
        return BODY

    async def chunks(self) -> Any:
        yield BODY

    async def aclose(self) -> None:
        return None


class MemorySession:
    """Answers every request at once with :data:`BODY`."""

    async def send(self, request: HttpRequest) -> _Reply:
        return _Reply(request.url)

    async def gather(self, thunks: Sequence[Callable[[], Awaitable[T]]], timeout: float | None = None) -> list[T]:
        return [await t() for t in thunks]

    async def close(self) -> None:
        return None


async def calls(n: int) -> tuple[float, float]:
    """CPU seconds of ``n`` sequential calls (after a warm-up), and of building their
    requests alone."""
    api = GoogleAPI(document(URL), validate=True)
    method = api.items.list
    async with Aiogoogle(api_key=KEY, session_factory=MemorySession, discovery_cache=False) as ag:  # type: ignore[arg-type]
        for _ in range(200):
            check(await ag.as_api_key(method(**QUERY)))
        t0 = time.process_time()
        for _ in range(n):
            await ag.as_api_key(method(**QUERY))
        t1 = time.process_time()
        for _ in range(n):
            method(**QUERY)
        return t1 - t0, time.process_time() - t1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one run instead")
    args = parser.parse_args()
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(calls(args.calls))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(35)
        return 0
    runs = [asyncio.run(calls(args.calls)) for _ in range(args.repeat)]
    call, build = (min(r[i] for r in runs) / args.calls * 1e6 for i in (0, 1))
    print(f"{call:.2f} us per as_api_key(request) call, request built inside; {build:.2f} us of it building the request; "
          f"{call - build:.2f} us sending it (best of {args.repeat} x {args.calls})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
