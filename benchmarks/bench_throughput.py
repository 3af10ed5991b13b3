"""Requests per second and client CPU per request through ``Aiogoogle.as_api_key`` on each
adapter, next to raw aiohttp, raw trio+h11 and aiogoogle 5.19 on the same local server, in
the same run.

    python benchmarks/bench_throughput.py                       # both patterns, every client
    python benchmarks/bench_throughput.py --pattern per-call --repeat 5
    python benchmarks/bench_throughput.py --clients "raw aiohttp,asyncio" --requests 4000
    python benchmarks/bench_throughput.py --compare /path/to/old   # each adapter also as it was

Two call patterns (``--pattern``):

* ``per-call`` (how most programs call the client): ``--workers`` (50) concurrent tasks
  (asyncio tasks, trio tasks, curio tasks), each awaiting ``as_api_key(request)`` for one
  request at a time until the batch's ``--requests`` (2000) are done;
* ``batched``: rounds of 50 requests, each round one ``as_api_key(r1, ..., r50)`` call
  (``asyncio.gather`` of 50 / a nursery of 50 for the raw clients).

Every request of ours (and aiogoogle 5.19's) is built inside the loop, with validation on,
from a one-method discovery document rooted at the local server
(``bench.items.list(maxResults=10, q="bench")``); the raw clients GET the same URL. Every
answer (the server's small JSON echo) is decoded and checked.

The server (``LocalGoogleServer(record=False)``) runs in its own process, and every client
in a fresh process of its own: one warm-up batch, then ``--batches`` (5) timed batches,
each measured in wall-clock time and in the client process's CPU time
(``resource.getrusage``: user + system). The clients run in turn, ``--repeat`` (3) times,
alternating, so drifting machine state favours no one. Reported per client: the best
batch's requests/s and the lowest CPU time per request. CPU per request is the stable
figure on a small machine, where the local server (sharing the cores) can be the
bottleneck rather than the client.

aiogoogle 5.19 runs in its own virtualenv (``benchmarks/.venvs/aiogoogle519``, made by
``bench_build.ensure_venv``). "raw trio+h11" is the floor of the trio and curio (h11)
sessions: the same GETs through h11 on trio with nothing around them (a list of idle
connections, one timeout per exchange, the JSON decoded; no request model, no retries, no
auth).

Targets (issue 16): per-call on asyncio >= 0.9x raw aiohttp's requests/s and <= 1.15x its
CPU per request; trio and curio (h11) >= 0.9x the raw trio+h11 floor.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _throughput_harness import KEY, QUERY, batched, check, document, measure, per_call, raw_target  # noqa: E402
from bench_build import VENVS, ensure_venv  # noqa: E402

from aiogoogle.sessions.backends import TABLE  # noqa: E402

# The event-loop adapters (the blocking "sync" one has no concurrent tasks to measure).
ADAPTERS = [name for name, entry in TABLE.items() if not entry.blocking]
RAW = ("raw aiohttp", "raw trio+h11")
PEER = "aiogoogle 5.19"
PATTERNS = ("per-call", "batched")
#: Suffix of the clients run from --compare.
BEFORE = " (before)"
#: Requests per call in the batched pattern.
CONCURRENCY = 50

# The local server without its request log: a log of many thousand requests makes the
# server's garbage collections ever longer, which would slow down whoever runs last.
SERVER = textwrap.dedent(
    """
    import threading
    from aiogoogle.testing import LocalGoogleServer

    with LocalGoogleServer(record=False) as server:
        print(server.url, flush=True)
        threading.Event().wait()
    """
)

# aiogoogle 5.19 (its own virtualenv, where "aiogoogle" is 5.19): the same calls through its
# as_api_key, requests built by its GoogleAPI with validation on.
AIOGOOGLE_519 = textwrap.dedent(
    """
    import asyncio, json, sys
    sys.path.insert(0, sys.argv[1])
    from _throughput_harness import KEY, QUERY, batched, check, document, measure, per_call
    from aiogoogle import Aiogoogle
    from aiogoogle.resource import GoogleAPI

    here, url, pattern, requests, batches, workers = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
    api = GoogleAPI(document(url))

    async def main():
        async with Aiogoogle(api_key=KEY) as ag:
            async def one():
                check(await ag.as_api_key(api.items.list(**QUERY, validate=True)))

            async def many(k):
                results = await ag.as_api_key(*[api.items.list(**QUERY, validate=True) for _ in range(k)])
                for r in results:
                    check(r)

            async def spawn(fns):
                await asyncio.gather(*(fn() for fn in fns))

            run = per_call(one, spawn, workers) if pattern == "per-call" else batched(many, 50)
            return await measure(run, requests, batches)

    print(json.dumps(asyncio.run(main())))
    """
)


# ---------------------------------------------------------------------- clients (workers)

Spawn = Callable[[Sequence[Callable[[], Awaitable[Any]]]], Awaitable[Any]]


def spawner(framework: str) -> Spawn:
    """Run coroutine functions concurrently, as tasks of ``framework``."""
    if framework == "asyncio":
        import asyncio

        async def spawn_asyncio(fns: Sequence[Callable[[], Awaitable[Any]]]) -> None:
            await asyncio.gather(*(fn() for fn in fns))

        return spawn_asyncio
    if framework == "trio":
        import trio

        async def spawn_trio(fns: Sequence[Callable[[], Awaitable[Any]]]) -> None:
            async with trio.open_nursery() as nursery:
                for fn in fns:
                    nursery.start_soon(fn)

        return spawn_trio
    import curio

    async def spawn_curio(fns: Sequence[Callable[[], Awaitable[Any]]]) -> None:
        async with curio.TaskGroup(wait=all) as group:
            for fn in fns:
                await group.spawn(fn)

    return spawn_curio


def runner(pattern: str, one: Callable[[], Awaitable[Any]], many: Callable[[int], Awaitable[Any]], spawn: Spawn, workers: int) -> Callable[[int], Awaitable[None]]:
    return per_call(one, spawn, workers) if pattern == "per-call" else batched(many, CONCURRENCY)


def raw_aiohttp(url: str, pattern: str, requests: int, batches: int, workers: int) -> dict[str, Any]:
    """The baseline: aiohttp with nothing around it."""
    import asyncio

    import aiohttp

    target = raw_target(url)

    async def main() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:

            async def one() -> None:
                async with session.get(target) as resp:
                    resp.raise_for_status()
                    check(await resp.json())

            async def many(k: int) -> None:
                await asyncio.gather(*[one() for _ in range(k)])

            return await measure(runner(pattern, one, many, spawner("asyncio"), workers), requests, batches)

    return asyncio.run(main())


def raw_trio_h11(url: str, pattern: str, requests: int, batches: int, workers: int) -> dict[str, Any]:
    """The floor of the h11 sessions: the same GETs through h11 on trio, a list of idle
    connections, one timeout per exchange, the same headers ours send."""
    from urllib.parse import urlsplit

    import h11
    import trio

    parts = urlsplit(raw_target(url))
    assert parts.hostname is not None and parts.port is not None
    host, port = parts.hostname, parts.port
    target = f"{parts.path}?{parts.query}"
    headers = [("Host", parts.netloc), ("User-Agent", "bench"), ("Accept-Encoding", "gzip, deflate"), ("Accept", "application/json")]
    idle: list[tuple[Any, Any]] = []

    async def one() -> None:
        stream, conn = idle.pop() if idle else (await trio.open_tcp_stream(host, port), h11.Connection(h11.CLIENT))
        with trio.fail_after(60):
            await stream.send_all(conn.send(h11.Request(method="GET", target=target, headers=headers)) + conn.send(h11.EndOfMessage()))
            body = []
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                elif type(event) is h11.Response:
                    assert event.status_code == 200
                elif type(event) is h11.Data:
                    body.append(event.data)
                elif type(event) is h11.EndOfMessage:
                    break
        check(json.loads(b"".join(body)))
        conn.start_next_cycle()
        idle.append((stream, conn))

    async def many(k: int) -> None:
        async with trio.open_nursery() as nursery:
            for _ in range(k):
                nursery.start_soon(one)

    async def main() -> dict[str, Any]:
        return await measure(runner(pattern, one, many, spawner("trio"), workers), requests, batches)

    return trio.run(main)  # type: ignore[no-any-return]


def ours(adapter: str, url: str, pattern: str, requests: int, batches: int, workers: int) -> dict[str, Any]:
    """aiogoogle on ``adapter``: requests built with validation on, sent by as_api_key."""
    from aiogoogle import Aiogoogle, GoogleAPI
    from aiogoogle.sessions.backends import run, session_class

    api = GoogleAPI(document(url), validate=True)
    method = api.items.list
    framework = "curio" if adapter.startswith("curio") else adapter

    async def main() -> dict[str, Any]:
        async with Aiogoogle(api_key=KEY, session_factory=session_class(adapter), discovery_cache=False) as ag:

            async def one() -> None:
                check(await ag.as_api_key(method(**QUERY)))

            async def many(k: int) -> None:
                for answer in await ag.as_api_key(*[method(**QUERY) for _ in range(k)]):
                    check(answer)

            return await measure(runner(pattern, one, many, spawner(framework), workers), requests, batches)

    return run(adapter, main)  # type: ignore[no-any-return]


def worker(name: str, url: str, pattern: str, requests: int, batches: int, workers: int) -> dict[str, Any]:
    if name == "raw aiohttp":
        return raw_aiohttp(url, pattern, requests, batches, workers)
    if name == "raw trio+h11":
        return raw_trio_h11(url, pattern, requests, batches, workers)
    return ours(name, url, pattern, requests, batches, workers)


# ---------------------------------------------------------------------- the run


def run_client(name: str, url: str, pattern: str, args: argparse.Namespace) -> dict[str, Any] | str:
    """One client process; its measurements, or the last line of its error output."""
    numbers = [str(args.requests), str(args.batches), str(args.workers)]
    if name == PEER:
        python = ensure_venv("aiogoogle519", "aiogoogle==5.19.0")
        cmd = [python, "-c", AIOGOOGLE_519, HERE, url, pattern, *numbers]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--url", url, "--pattern", pattern,
               "--requests", numbers[0], "--batches", numbers[1], "--workers", numbers[2]]
    env = None
    if name.endswith(BEFORE):
        # The same worker, importing aiogoogle from --compare (another checkout).
        env = {**os.environ, "PYTHONPATH": args.compare}
        cmd[cmd.index("--worker") + 1] = name[: -len(BEFORE)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=VENVS if name == PEER else None, env=env)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def summary(results: list[dict[str, Any]]) -> dict[str, float]:
    """The best batch's requests/s and the lowest CPU microseconds per request over every
    batch of every process of one client."""
    batches = [(r["requests"], b) for r in results for b in r["batches"]]
    return {
        "rps": max(n / b["seconds"] for n, b in batches),
        "cpu_us": min(b["cpu"] / n for n, b in batches) * 1e6,
    }


def label(name: str) -> str:
    return f"ours, {name}" if name in ADAPTERS or name.endswith(BEFORE) else name


def report(pattern: str, clients: list[str], found: dict[str, list[dict[str, Any]]], errors: dict[str, str], args: argparse.Namespace) -> None:
    figures = {name: summary(found[name]) for name in clients if found.get(name)}
    base, floor = figures.get("raw aiohttp"), figures.get("raw trio+h11")
    what = f"{args.workers} tasks, one request per call" if pattern == "per-call" else f"rounds of {CONCURRENCY} requests per call"
    print(f"\n{pattern}: {what}; best of {args.batches} batches of {args.requests} x {args.repeat} processes")
    print(f"{'client':29} {'requests/s':>10} {'vs aiohttp':>10} {'vs trio+h11':>11} {'CPU us/req':>10} {'CPU vs aiohttp':>14} {'CPU vs trio+h11':>15}")
    for name in clients:
        f = figures.get(name)
        if f is None:
            print(f"{label(name):29} {'-':>10}  ({errors.get(name, 'no result')})")
            continue

        def ratio(x: float, ref: dict[str, float] | None, key: str) -> str:
            return f"{x / ref[key]:.2f}x" if ref else "-"

        print(
            f"{label(name):29} {f['rps']:10.0f} {ratio(f['rps'], base, 'rps'):>10} {ratio(f['rps'], floor, 'rps'):>11} "
            f"{f['cpu_us']:10.1f} {ratio(f['cpu_us'], base, 'cpu_us'):>14} {ratio(f['cpu_us'], floor, 'cpu_us'):>15}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pattern", default=",".join(PATTERNS), help="per-call, batched, or both (comma-separated)")
    parser.add_argument("--clients", default=",".join([*RAW, *ADAPTERS, PEER]), help="comma-separated: raw aiohttp, raw trio+h11, the adapters, aiogoogle 5.19")
    parser.add_argument("--requests", type=int, default=2000, help="requests per timed batch")
    parser.add_argument("--batches", type=int, default=5, help="timed batches per process")
    parser.add_argument("--repeat", type=int, default=3, help="processes per client, alternating between clients")
    parser.add_argument("--workers", type=int, default=50, help="concurrent tasks of the per-call pattern")
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument("--compare", metavar="DIR", help="also run each adapter with aiogoogle imported from DIR (another "
                        "version, e.g. a directory holding an 'aiogoogle' package), as '<adapter> (before)'")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.url, args.pattern, args.requests, args.batches, args.workers)))
        return 0
    if args.requests % CONCURRENCY:
        parser.error(f"--requests must be a multiple of {CONCURRENCY}")
    patterns = [p for p in args.pattern.split(",") if p]
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for p in patterns:
        if p not in PATTERNS:
            parser.error(f"unknown pattern {p!r}")
    for c in clients:
        if c not in (*RAW, *ADAPTERS, PEER):
            parser.error(f"unknown client {c!r}")
    if args.compare:
        clients = [x for c in clients for x in ((c, c + BEFORE) if c in ADAPTERS else (c,))]

    os.makedirs(VENVS, exist_ok=True)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    everything: dict[str, dict[str, list[dict[str, Any]]]] = {}
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        print(f"local server {url} (pid {server.pid})")
        for pattern in patterns:
            found: dict[str, list[dict[str, Any]]] = {}
            errors: dict[str, str] = {}
            for _ in range(args.repeat):
                for name in clients:
                    out = run_client(name, url, pattern, args)
                    if isinstance(out, dict):
                        found.setdefault(name, []).append(out)
                    else:
                        errors[name] = out
            everything[pattern] = found
            report(pattern, clients, found, errors, args)
    finally:
        server.terminate()
        server.wait(10)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "results": everything}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
