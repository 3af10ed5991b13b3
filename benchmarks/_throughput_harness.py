"""What every client of ``bench_throughput`` shares: the endpoint, the two call patterns and
the timing. Standard library only: aiogoogle 5.19 imports it from its own virtualenv.

A client provides ``one()`` (send one request, check its decoded answer), ``many(k)``
(``k`` requests in one call, the batched pattern) and ``spawn(fns)`` (run the coroutine
functions concurrently on its event loop); :func:`measure` does the rest. Nothing here
imports an event loop: every wait is an ``await`` on what the client gave.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

KEY = "AIzaSy-bench-key-0000000000000000000"
#: The query every request carries (built by the client's method with validation on).
QUERY: dict[str, Any] = {"maxResults": 10, "q": "bench"}


def document(url: str) -> dict[str, Any]:
    """A one-method discovery document rooted at the local server: ``bench.items.list``
    answers with the server's echo (a small JSON object describing the request)."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "bench:v1",
        "name": "bench",
        "version": "v1",
        "rootUrl": url,
        "servicePath": "bench/",
        "batchPath": "batch/bench/v1",
        "parameters": {"key": {"type": "string", "location": "query"}},
        "resources": {
            "items": {
                "methods": {
                    "list": {
                        "id": "bench.items.list",
                        "httpMethod": "GET",
                        "path": "items",
                        "parameters": {
                            "maxResults": {"type": "integer", "format": "int32", "minimum": "1", "maximum": "100", "location": "query"},
                            "q": {"type": "string", "location": "query"},
                        },
                    }
                }
            }
        },
    }


def raw_target(url: str) -> str:
    """The URL the raw clients request: what ``bench.items.list(**QUERY)`` with the key sends."""
    return f"{url}bench/items?maxResults=10&q=bench&key={KEY}"


def check(answer: Any) -> None:
    """Every answer must be the echo of the benchmark's request."""
    if answer["path"] != "/bench/items" or answer["query"]["key"] != [KEY]:
        raise AssertionError(f"unexpected answer {answer!r}")


def cpu_seconds() -> float:
    """User + system CPU time of this (client) process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_call(one: Callable[[], Awaitable[Any]], spawn: Callable[[Sequence[Callable[[], Awaitable[Any]]]], Awaitable[Any]], workers: int) -> Callable[[int], Awaitable[None]]:
    """``n`` requests from ``workers`` concurrent tasks, each awaiting one call per request."""

    async def batch(n: int) -> None:
        left = [n]

        async def worker() -> None:
            while left[0] > 0:
                left[0] -= 1
                await one()

        await spawn([worker] * workers)

    return batch


def batched(many: Callable[[int], Awaitable[Any]], concurrency: int) -> Callable[[int], Awaitable[None]]:
    """``n`` requests as rounds of ``concurrency`` requests, each round one call."""

    async def batch(n: int) -> None:
        for _ in range(max(1, n // concurrency)):
            await many(concurrency)

    return batch


async def measure(run: Callable[[int], Awaitable[None]], requests: int, batches: int) -> dict[str, Any]:
    """Wall-clock and client CPU seconds of each of ``batches`` batches of ``requests``,
    after one warm-up batch (connections, imports, compiled validators)."""
    await run(requests // 4)
    results = []
    for _ in range(batches):
        c0, t0 = cpu_seconds(), time.perf_counter()
        await run(requests)
        t1, c1 = time.perf_counter(), cpu_seconds()
        results.append({"seconds": t1 - t0, "cpu": c1 - c0})
    return {"requests": requests, "batches": results}
