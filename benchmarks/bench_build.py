"""Request building speed and memory, against aiogoogle 5.19 and google-api-python-client.

Each peer runs in its own virtualenv (created on first use under ``benchmarks/.venvs``;
aiogoogle 5.19 shares our import name) in a subprocess, in the same run, on the same
discovery documents, and prints its timings as JSON. Ratios are printed at the end.

    python benchmarks/bench_build.py            # all cases
    python benchmarks/bench_build.py --quick    # fewer repetitions, one round

Cases (validation on everywhere; aiogoogle 5.19 defaults it off, so it is passed
explicitly; googleapiclient always checks parameters and never checks bodies):

* drive ``files.list(pageSize=10, q=...)``
* calendar ``events.list(calendarId="primary", maxResults=5)``
* youtube ``videos.list(part="snippet", id="abc")``
* compute ``instances.insert(project, zone, json=<realistic instance>)``

"method held" = the method object is resolved once outside the loop (googleapiclient's
fast path: its ``service.resource()`` rebuilds every method of the resource per call).
googleapiclient's held call also makes its HttpRequest (URL, headers, the body serialised),
so "vs GAC" compares it with ours built *and* encoded for the wire (``+wire``: to_http,
which JSON-encodes the body); "vs AG" compares with ours built (aiogoogle 5.19 encodes
nothing while building either).

Memory: held for compute.v1 beyond the parsed document after building every method once
(validation on), and after building every method often enough that every request schema
has its generated predicate (see ``aiogoogle.validate.GENERATE_AFTER``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import textwrap
import timeit
from collections.abc import Callable, Sequence
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
VENVS = os.path.join(HERE, ".venvs")

BODY = {
    "name": "instance-1",
    "machineType": "zones/us-central1-a/machineTypes/e2-medium",
    "description": "benchmark instance",
    "disks": [
        {
            "boot": True,
            "autoDelete": True,
            "type": "PERSISTENT",
            "mode": "READ_WRITE",
            "initializeParams": {"sourceImage": "projects/debian-cloud/global/images/family/debian-12", "diskSizeGb": "10", "diskType": "zones/us-central1-a/diskTypes/pd-balanced"},
        }
    ],
    "networkInterfaces": [{"network": "global/networks/default", "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "name": "External NAT", "networkTier": "PREMIUM"}]}],
    "labels": {"env": "dev", "team": "infra"},
    "metadata": {"items": [{"key": "startup-script", "value": "#!/bin/bash\necho hi"}]},
    "tags": {"items": ["http-server", "https-server"]},
    "serviceAccounts": [{"email": "default", "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}],
    "scheduling": {"preemptible": False, "onHostMaintenance": "MIGRATE", "automaticRestart": True},
    "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
}

CASES = {
    "drive files.list": ("drive.v3", ("files", "list"), {"pageSize": 10, "q": "name contains 'report'"}),
    "calendar events.list": ("calendar.v3", ("events", "list"), {"calendarId": "primary", "maxResults": 5}),
    "youtube videos.list": ("youtube.v3", ("videos", "list"), {"part": "snippet", "id": "abc"}),
    "compute instances.insert": ("compute.v1", ("instances", "insert"), {"project": "my-project", "zone": "us-central1-a", "json": BODY}),
}


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Microseconds per call of ``fn``: the best of ``repeat`` runs of ``number`` calls,
    after one warm-up call. The peers run this same function (PEER_SCRIPT carries its
    source), so every side is timed alike."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def walk(node: Any, path: Sequence[str]) -> Any:
    """``api.a.b.c`` for ``path`` ``("a", "b", "c")`` (ours and aiogoogle 5.19 alike)."""
    for p in path:
        node = getattr(node, p)
    return node


# What each peer's virtualenv runs (aiogoogle 5.19 shares our import name, so nothing of
# ours is imported there): best_us and walk as defined above, then this.
_PEER_MAIN = textwrap.dedent(
    r"""
    kind, docs_dir, number, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    cases = json.loads(sys.stdin.read())
    def best(fn):
        return best_us(fn, number, repeat)
    out = {"version": None, "results": {}}
    for name, (doc_name, path, kwargs) in cases.items():
        doc = json.load(open(f"{docs_dir}/{doc_name}.json"))
        if kind == "aiogoogle519":
            import aiogoogle
            from aiogoogle import GoogleAPI
            from importlib.metadata import version
            out["version"] = version("aiogoogle")
            api = GoogleAPI(copy.deepcopy(doc))
            def chain(api=api, path=path, kwargs=kwargs):
                node = api
                for p in path:
                    node = getattr(node, p)
                return node(validate=True, **kwargs)
            held = walk(api, path)
            out["results"][name] = {"chain": best(chain), "held": best(lambda: held(validate=True, **kwargs))}
        else:
            import googleapiclient
            from googleapiclient.discovery import build_from_document
            from googleapiclient.http import HttpMock
            from importlib.metadata import version
            out["version"] = version("google-api-python-client")
            svc = build_from_document(copy.deepcopy(doc), http=HttpMock(None, {"status": "200"}))
            gkw = {("body" if k == "json" else k): v for k, v in kwargs.items()}
            def chain(svc=svc, path=path, gkw=gkw):
                node = svc
                for p in path[:-1]:
                    node = getattr(node, p)()
                return getattr(node, path[-1])(**gkw)
            node = svc
            for p in path[:-1]:
                node = getattr(node, p)()
            held = getattr(node, path[-1])
            out["results"][name] = {"chain": best(chain), "held": best(lambda: held(**gkw))}
    print(json.dumps(out))
    """
)
PEER_SCRIPT = (
    "import json, sys, timeit, copy\nfrom typing import Any, Callable, Sequence\n\n"
    + inspect.getsource(best_us) + "\n" + inspect.getsource(walk) + _PEER_MAIN
)


def ensure_venv(name: str, requirement: str) -> str:
    path = os.path.join(VENVS, name)
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        print(f"creating {path} ({requirement}) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", requirement], check=True, stderr=subprocess.DEVNULL)
    return python


def docs_dir() -> str:
    import googleapiclient

    return os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")


def ours(number: int, repeat: int) -> dict[str, dict[str, float]]:
    from aiogoogle import GoogleAPI
    from aiogoogle._call import CallOptions, to_http

    options = CallOptions()
    results: dict[str, dict[str, float]] = {}
    for name, (doc_name, path, kwargs) in CASES.items():
        with open(os.path.join(docs_dir(), f"{doc_name}.json"), encoding="utf-8") as fh:
            api = GoogleAPI(json.load(fh))

        def chain(api=api, path=path, kwargs=kwargs):  # type: ignore[no-untyped-def]
            node = api
            for p in path:
                node = getattr(node, p)
            return node(validate=True, **kwargs)

        held = walk(api, path)

        def best(fn: Callable[[], object]) -> float:
            return best_us(fn, number, repeat)

        results[name] = {
            "chain": best(chain),
            "held": best(lambda held=held, kwargs=kwargs: held(validate=True, **kwargs)),
            "held+wire": best(lambda held=held, kwargs=kwargs: to_http(held(validate=True, **kwargs), options)),
        }
    return results


def memory_compute(times: int = 1) -> dict[str, float]:
    """MB held beyond the parsed compute.v1 document after building every method ``times``."""
    code = textwrap.dedent(
        f"""
        import gc, json, tracemalloc, sys
        sys.path.insert(0, {os.path.dirname(HERE)!r})
        from aiogoogle import GoogleAPI
        from aiogoogle.excs import ValidationError
        from tests._docs import walk_methods
        doc = json.load(open({os.path.join(docs_dir(), "compute.v1.json")!r}))
        gc.collect(); tracemalloc.start()
        t0 = tracemalloc.get_traced_memory()[0]
        api = GoogleAPI(doc)
        for path, spec in walk_methods(doc):
            node = api
            for p in path[:-1]:
                node = node.get_resource(p)
            m = node.get_method(path[-1])
            for _ in range({times}):
                try:  # validation on, so the parameter and body checks are compiled too
                    m(validate=True, **{{n: "1" for n in m.required_parameters}}, json={{}} if m.request else None)
                except ValidationError:
                    pass
        gc.collect()
        print(json.dumps({{"methods": sum(1 for _ in walk_methods(doc)), "mb": (tracemalloc.get_traced_memory()[0] - t0) / 2**20}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=VENVS)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


GENERATE_AFTER = 8  # aiogoogle.validate.GENERATE_AFTER, read in main()


def _keep_best(best: dict[str, dict[str, float]], new: dict[str, dict[str, float]]) -> None:
    for case, figures in new.items():
        kept = best.setdefault(case, {})
        for key, value in figures.items():
            kept[key] = min(value, kept.get(key, value))


def main() -> None:
    global GENERATE_AFTER
    from aiogoogle import validate

    GENERATE_AFTER = validate.GENERATE_AFTER
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="measure everything this many times, alternating, and keep each figure's best (other load on the machine only ever adds time)")
    args = parser.parse_args()
    number, repeat = (300, 3) if args.quick else (2000, 7)
    rounds = 1 if args.quick else max(1, args.rounds)
    cases_json = json.dumps(CASES)
    peers: dict[str, dict[str, Any]] = {}
    mine: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, req in (("aiogoogle519", "aiogoogle==5.19.0"), ("googleapiclient", "google-api-python-client==2.202.0")):
            python = ensure_venv(name, req)
            out = subprocess.run([python, "-c", PEER_SCRIPT, name, docs_dir(), str(number // 4 if name != "aiogoogle519" else number // 10 or 1), str(repeat)], input=cases_json, capture_output=True, text=True, check=True, cwd=VENVS)
            found = json.loads(out.stdout)
            if name in peers:
                _keep_best(peers[name]["results"], found["results"])
            else:
                peers[name] = found
        _keep_best(mine, ours(number, repeat))
    print(f"{'case (µs per request)':28} {'ours held':>10} {'+wire':>8} {'AG held':>9} {'GAC held':>9} {'vs AG':>7} {'vs GAC':>7}   {'ours chain':>10} {'AG chain':>9} {'GAC chain':>9}")
    met = True
    for name in CASES:
        o = mine[name]
        ag = peers["aiogoogle519"]["results"][name]
        gac = peers["googleapiclient"]["results"][name]
        vs_ag, vs_gac = ag["held"] / o["held"], gac["held"] / o["held+wire"]
        met = met and vs_ag >= 10 and vs_gac >= 2
        print(
            f"{name:28} {o['held']:10.2f} {o['held+wire']:8.2f} {ag['held']:9.2f} {gac['held']:9.2f} "
            f"{vs_ag:6.1f}x {vs_gac:6.1f}x   {o['chain']:10.2f} {ag['chain']:9.2f} {gac['chain']:9.2f}"
        )
    once = memory_compute(1)
    hot = memory_compute(GENERATE_AFTER + 1)
    met = met and once["mb"] < 2
    print(f"\ncompute.v1: memory held beyond the parsed document after building all {once['methods']} methods once: {once['mb']:.2f} MB")
    print(f"            after building each {GENERATE_AFTER + 1} times (every request schema's predicate generated): {hot['mb']:.2f} MB")
    print(f"targets (>=10x aiogoogle, >=2x googleapiclient on +wire, every case; < 2 MB once): {'met' if met else 'NOT met'}")
    print(f"peers: aiogoogle {peers['aiogoogle519']['version']}, google-api-python-client {peers['googleapiclient']['version']}; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
