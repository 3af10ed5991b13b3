"""Large transfers: a resumable upload and a streamed download on each adapter, against the
local server, next to a plain aiohttp PUT/GET of the same bytes in the same run.

    python benchmarks/bench_transfer.py              # 1 GiB
    python benchmarks/bench_transfer.py --size-mib 256 --repeat 2

The server (``python -m aiogoogle.testing.server``) runs in its own process, so its memory
and CPU are not counted against the client. Every measurement runs in a fresh subprocess:
it sets up the client (discovery included), then samples its own resident set size every
5 ms from another thread while the transfer runs; "RSS growth" is the peak during the
transfer minus the RSS just before it. Throughput is bytes / wall time of the transfer.

Targets (issue 5): RSS growth at most 64 MiB; throughput within 20 % of plain aiohttp.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from aiogoogle.sessions.backends import BACKENDS, session_class
from aiogoogle.sessions.backends import run as run_on

HERE = os.path.dirname(os.path.abspath(__file__))
ADAPTERS = list(BACKENDS)


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Sampler:
    """Peak RSS while a block runs (a thread polling /proc/self/statm)."""

    def __init__(self) -> None:
        self.base = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    def __enter__(self) -> Sampler:
        self.base = self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.base


# ------------------------------------------------------------------------------ workers


def worker(args: argparse.Namespace) -> dict[str, Any]:
    if args.adapter == "plain":
        return plain_worker(args)
    from aiogoogle import Aiogoogle
    from aiogoogle.discovery import DiscoveryEndpoints

    factory = session_class(args.adapter)
    result: dict[str, Any] = {}

    async def main() -> None:
        async with Aiogoogle(session_factory=factory, discovery_endpoints=DiscoveryEndpoints.at(args.url), discovery_cache=False) as ag:
            storage = await ag.discover("storage", "v1")
            if args.op == "upload":
                req = storage.objects.insert(bucket="bench", name=args.name, upload_file=args.file, resumable=True, chunk_size=args.chunk_mib << 20)
            else:
                req = storage.objects.get(bucket="bench", object=args.name, download_file=args.file)
            with Sampler() as sampler:
                t0, c0 = time.perf_counter(), time.process_time()
                out = await ag.as_anon(req)
                result["seconds"] = time.perf_counter() - t0
                result["cpu"] = time.process_time() - c0
            result["rss_growth"] = sampler.growth
            if args.op == "upload":
                result["size"] = int(out["size"])

    run_on(args.adapter, main)
    return result


def plain_worker(args: argparse.Namespace) -> dict[str, Any]:
    import asyncio

    import aiohttp

    result: dict[str, Any] = {}

    async def main() -> None:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            with Sampler() as sampler:
                t0, c0 = time.perf_counter(), time.process_time()
                if args.op == "upload":
                    url = f"{args.url}upload/storage/v1/b/bench/o?uploadType=media&name={args.name}"
                    with open(args.file, "rb") as fh:
                        async with session.put(url, data=fh, headers={"Content-Type": "application/octet-stream"}) as resp:
                            out = await resp.json()
                            result["size"] = int(out["size"])
                else:
                    url = f"{args.url}storage/v1/b/bench/o/{args.name}?alt=media"
                    async with session.get(url) as resp:
                        resp.raise_for_status()
                        with open(args.file, "wb") as fh:
                            async for chunk in resp.content.iter_chunked(1 << 20):
                                fh.write(chunk)
                result["seconds"] = time.perf_counter() - t0
                result["cpu"] = time.process_time() - c0
            result["rss_growth"] = sampler.growth

    asyncio.run(main())
    return result


# ------------------------------------------------------------------------------ driver


def run_worker(**kw: Any) -> dict[str, Any] | str:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker"]
    for k, v in kw.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-mib", type=int, default=8, help="resumable chunk size (default 8 MiB)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is kept")
    parser.add_argument("--adapters", default=",".join(ADAPTERS))
    parser.add_argument(
        "--dir",
        default="/dev/shm" if os.path.isdir("/dev/shm") else None,
        help="where the source, the downloads and the server's store live (default: /dev/shm, so "
        "disk write-back does not drown the client's own cost)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--adapter", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    size = args.size_mib << 20
    tmp = tempfile.mkdtemp(prefix="aiogoogle-bench-", dir=args.dir)
    src = os.path.join(tmp, "src.bin")
    block = os.urandom(1 << 20)
    with open(src, "wb") as fh:
        for _ in range(args.size_mib):
            fh.write(block)
    env = {**os.environ, "TMPDIR": tmp}
    server = subprocess.Popen([sys.executable, "-m", "aiogoogle.testing.server"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        print(f"local server {url} (pid {server.pid}); {args.size_mib} MiB in {tmp}; resumable chunks of {args.chunk_mib} MiB; best of {args.repeat}")
        adapters = ["plain", *[a for a in args.adapters.split(",") if a]]
        best: dict[tuple[str, str], dict[str, Any] | str] = {}
        # Repeats are interleaved across adapters, so drifting machine state (page cache,
        # write-back, other load) does not favour whoever runs first.
        for i in range(args.repeat):
            for adapter in adapters:
                for op in ("upload", "download"):
                    # Every adapter downloads the object plain aiohttp uploaded first; later
                    # uploads overwrite one object, so the server's store (files in --dir,
                    # i.e. memory with /dev/shm) holds two objects, not one per upload.
                    if op == "download":
                        name = "plain-0"
                    else:
                        name = "plain-0" if (adapter, i) == ("plain", 0) else "upload"
                    dest = src if op == "upload" else os.path.join(tmp, f"dl-{adapter}.bin")
                    out = run_worker(adapter=adapter, op=op, url=url, file=dest, name=name, chunk_mib=args.chunk_mib)
                    if isinstance(out, dict) and op == "download":
                        assert os.path.getsize(dest) == size, "download size mismatch"
                        os.remove(dest)
                    prev = best.get((adapter, op))
                    if not isinstance(prev, dict) or (isinstance(out, dict) and out["seconds"] < prev["seconds"]):
                        best[(adapter, op)] = out
        rows = [(a, op, best[(a, op)]) for a in adapters for op in ("upload", "download")]
        base = {op: r for a, op, r in rows if a == "plain" and isinstance(r, dict)}
        print(f"\n{'adapter':10} {'operation':10} {'MiB/s':>9} {'vs plain':>9} {'client CPU s':>13} {'RSS growth':>11}")
        for adapter, op, r in rows:
            if not isinstance(r, dict):
                print(f"{adapter:10} {op:10} {'-':>9} {'-':>9} {'-':>13} {'-':>11}  ({r})")
                continue
            mibs = size / r["seconds"] / (1 << 20)
            ratio = f"{mibs / (size / base[op]['seconds'] / (1 << 20)):.0%}" if op in base else "-"
            print(f"{adapter:10} {op:10} {mibs:9.0f} {ratio:>9} {r['cpu']:13.2f} {r['rss_growth'] / (1 << 20):7.1f} MiB")
    finally:
        server.terminate()
        server.wait(10)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
