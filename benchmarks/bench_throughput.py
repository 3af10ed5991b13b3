"""Requests per second through ``Aiogoogle.as_api_key`` on each adapter, next to raw aiohttp
and aiogoogle 5.19 on the same local server, in the same run.

    python benchmarks/bench_throughput.py                 # 200 rounds of 50, best of 3
    python benchmarks/bench_throughput.py --rounds 50 --repeat 1

The server (``LocalGoogleServer(record=False)``) runs in its own process. Every client
runs in a fresh subprocess and sends the same thing: rounds of 50 concurrent GETs of a
small JSON echo (``/bench/items?key=...``), each round awaited as a whole (``as_api_key``
with 50 requests; ``asyncio.gather`` of 50 for raw aiohttp), with the JSON decoded. One
round warms up (connections, imports) before the clock starts. aiogoogle 5.19 runs in its
own virtualenv (``benchmarks/.venvs/aiogoogle519``, made by ``bench_build.ensure_venv``).
"raw trio+h11" is the floor of the trio and curio (h11) sessions: the same GETs through h11
on trio with nothing around them.

Target (issue 3): every adapter within 10 % of raw aiohttp at 50 concurrent requests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from typing import Any

from aiogoogle.sessions.backends import BACKENDS, session_class
from aiogoogle.sessions.backends import run as run_on

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_build import VENVS, ensure_venv  # noqa: E402

ADAPTERS = list(BACKENDS)
KEY = "AIzaSy-bench-key-0000000000000000000"
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

# Raw aiohttp, in whichever interpreter runs it: the baseline.
RAW_AIOHTTP = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import aiohttp

    url, rounds, concurrency, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

    async def main():
        target = url + "bench/items?key=" + key
        async with aiohttp.ClientSession() as session:
            async def one():
                async with session.get(target) as resp:
                    resp.raise_for_status()
                    return await resp.json()

            async def round_():
                results = await asyncio.gather(*[one() for _ in range(concurrency)])
                assert len(results) == concurrency

            await round_()
            t0 = time.perf_counter()
            for _ in range(rounds):
                await round_()
            return time.perf_counter() - t0

    print(json.dumps({"seconds": asyncio.run(main())}))
    """
)

# trio + h11 with nothing around them: the floor for the trio and curio (h11) sessions, which
# use the same HTTP library. Same headers as ours send, a keep-alive pool, one read timeout
# per exchange, the JSON decoded; no request model, no retries, no auth.
RAW_TRIO_H11 = textwrap.dedent(
    """
    import json, sys, time
    from urllib.parse import urlsplit
    import h11, trio

    url, rounds, concurrency, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    parts = urlsplit(url)
    target = parts.path + "bench/items?key=" + key
    headers = [("Host", parts.netloc), ("User-Agent", "bench"), ("Accept-Encoding", "gzip, deflate"), ("Accept", "application/json")]
    idle = []

    async def one():
        stream, conn = idle.pop() if idle else (await trio.open_tcp_stream(parts.hostname, parts.port), h11.Connection(h11.CLIENT))
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
        assert json.loads(b"".join(body))["path"] == "/bench/items"
        conn.start_next_cycle()
        idle.append((stream, conn))

    async def round_():
        async with trio.open_nursery() as nursery:
            for _ in range(concurrency):
                nursery.start_soon(one)

    async def main():
        await round_()
        t0 = time.perf_counter()
        for _ in range(rounds):
            await round_()
        return time.perf_counter() - t0

    print(json.dumps({"seconds": trio.run(main)}))
    """
)

# aiogoogle 5.19 (its own virtualenv): the same rounds through its as_api_key.
AIOGOOGLE_519 = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from aiogoogle import Aiogoogle
    from aiogoogle.models import Request

    url, rounds, concurrency, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

    async def main():
        async with Aiogoogle(api_key=key) as ag:
            async def round_():
                reqs = [Request(method="GET", url=url + "bench/items") for _ in range(concurrency)]
                results = await ag.as_api_key(*reqs)
                assert len(results) == concurrency and results[0]["path"] == "/bench/items"

            await round_()
            t0 = time.perf_counter()
            for _ in range(rounds):
                await round_()
            return time.perf_counter() - t0

    print(json.dumps({"seconds": asyncio.run(main())}))
    """
)


def worker(adapter: str, url: str, rounds: int, concurrency: int) -> dict[str, Any]:
    """Ours, on ``adapter``: the timed rounds (run in a subprocess)."""
    from aiogoogle import Aiogoogle, Request

    factory = session_class(adapter)

    async def main() -> float:
        async with Aiogoogle(api_key=KEY, session_factory=factory, discovery_cache=False) as ag:

            async def round_() -> None:
                reqs = [Request(method="GET", url=f"{url}bench/items") for _ in range(concurrency)]
                results = await ag.as_api_key(*reqs)
                assert len(results) == concurrency and results[0]["query"]["key"] == [KEY]

            await round_()
            t0 = time.perf_counter()
            for _ in range(rounds):
                await round_()
            return time.perf_counter() - t0

    return {"seconds": run_on(adapter, main)}


def run_client(name: str, url: str, rounds: int) -> dict[str, Any] | str:
    args = [url, str(rounds), str(CONCURRENCY), KEY]
    if name == "raw aiohttp":
        cmd = [sys.executable, "-c", RAW_AIOHTTP, *args]
    elif name == "raw trio+h11":
        cmd = [sys.executable, "-c", RAW_TRIO_H11, *args]
    elif name == "aiogoogle 5.19":
        python = ensure_venv("aiogoogle519", "aiogoogle==5.19.0")
        cmd = [python, "-c", AIOGOOGLE_519, *args]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--url", url, "--rounds", str(rounds)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=VENVS if name == "aiogoogle 5.19" else None)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200, help="timed rounds of 50 concurrent requests")
    parser.add_argument("--repeat", type=int, default=3, help="runs per client; the best is kept")
    parser.add_argument("--adapters", default=",".join(ADAPTERS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.url, args.rounds, CONCURRENCY)))
        return 0

    os.makedirs(VENVS, exist_ok=True)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        total = args.rounds * CONCURRENCY
        print(f"local server {url} (pid {server.pid}); {args.rounds} rounds of {CONCURRENCY} concurrent GETs ({total} requests) per run, best of {args.repeat}")
        clients = ["raw aiohttp", "raw trio+h11", *[a for a in args.adapters.split(",") if a], "aiogoogle 5.19"]
        best: dict[str, dict[str, Any] | str] = {}
        # Repeats are interleaved across clients, so drifting machine state does not favour
        # whoever runs first.
        for _ in range(args.repeat):
            for name in clients:
                out = run_client(name, url, args.rounds)
                prev = best.get(name)
                if not isinstance(prev, dict) or (isinstance(out, dict) and out["seconds"] < prev["seconds"]):
                    best[name] = out
        base = best.get("raw aiohttp")
        base_rps = total / base["seconds"] if isinstance(base, dict) else None
        print(f"\n{'client':16} {'requests/s':>11} {'vs raw aiohttp':>15}")
        for name in clients:
            r = best[name]
            label = f"ours, {name}" if name in ADAPTERS else name
            if not isinstance(r, dict):
                print(f"{label:16} {'-':>11} {'-':>15}  ({r})")
                continue
            rps = total / r["seconds"]
            ratio = f"{rps / base_rps:.0%}" if base_rps else "-"
            print(f"{label:16} {rps:11.0f} {ratio:>15}")
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
