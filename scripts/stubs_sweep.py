"""The full sweep of typed stubs: generate them for every discovery document shipped in
google-api-python-client and run mypy --strict and pyright (strict) over all of them.

    nice -n 19 .venv/bin/python scripts/stubs_sweep.py [OUT_DIR] [--shards N]

OUT_DIR defaults to build/stubs-sweep. Pyright runs in N processes one after another
(default 4, each over a quarter of the stubs by size: one process over all of them holds
every module's types at once, several GB); mypy in one. Prints the generation time, the total size, and
each checker's error count (and the first errors); exits 1 if either reports any. Needs
pyright from tests/typing_tools (``npm ci`` there) for the pyright half. The tests check
a fixed sample (tests/test_stubs_typecheck.py); this is the whole set (several minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv: list[str]) -> int:
    import googleapiclient

    from aiogoogle.stubgen import generate_stubs

    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import typecheck

    shards = 4
    if "--shards" in argv:
        at = argv.index("--shards")
        shards = max(1, int(argv[at + 1]))
        argv = argv[:at] + argv[at + 2:]
    out = os.path.abspath(argv[0]) if argv else os.path.join(ROOT, "build", "stubs-sweep")
    begun = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    docs = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
    started, size, count, failed = time.perf_counter(), 0, 0, []
    written: list[str] = []
    for name in sorted(os.listdir(docs)):
        if not name.endswith(".json") or name == "index.json":  # index.json: the directory, not an API
            continue
        with open(os.path.join(docs, name), encoding="utf-8") as fh:
            doc = json.load(fh)
        try:
            files = generate_stubs(doc)
        except Exception as exc:  # report every document that fails, then fail
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        count += 1
        for filename, text in files.items():
            with open(os.path.join(out, filename), "w", encoding="utf-8") as fh:
                fh.write(text)
            if filename.endswith(".pyi"):
                written.append(os.path.join(out, filename))
            size += len(text.encode())
    print(f"generated {count} documents' stubs in {time.perf_counter() - started:.1f} s, {size / 2**20:.1f} MiB; {len(failed)} failed")
    for line in failed:
        print("  " + line)
    stage = typecheck.stage()
    env = dict(os.environ, MYPYPATH=stage)
    # Not what an earlier run left in OUT_DIR; once each (googleapiclient ships some
    # documents under two names, e.g. admin.directory_v1 and admin.directoryv1).
    pyi = sorted(set(written))
    print(f"{len(pyi)} stub modules ({len(written) - len(pyi)} documents are another's copy under a second name)")
    status = 1 if failed else 0
    t = time.perf_counter()
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--config-file", os.devnull,
                           "--cache-dir", os.path.join(out, ".mypy_cache"), *pyi], env=env, capture_output=True, text=True, check=False)
    errors = [line for line in mypy.stdout.splitlines() if ": error:" in line]
    print(f"mypy --strict: {len(errors)} errors in {time.perf_counter() - t:.0f} s")
    for e in errors[:20]:
        print("  " + e)
    status |= bool(errors) or mypy.returncode not in (0, 1)
    pyright = os.path.join(ROOT, "tests", "typing_tools", "node_modules", ".bin", "pyright")
    if not os.path.exists(pyright):
        print("pyright: not installed (cd tests/typing_tools && npm ci)")
        return 1
    config = os.path.join(out, "pyrightconfig.json")
    with open(config, "w", encoding="utf-8") as fh:
        json.dump({"extraPaths": [stage], "pythonVersion": "3.11", "typeCheckingMode": "strict"}, fh)
    t = time.perf_counter()
    # Shards balanced by size, largest stubs first (greedy).
    groups: list[list[str]] = [[] for _ in range(min(shards, len(pyi)) or 1)]
    sizes = [0] * len(groups)
    for path in sorted(pyi, key=os.path.getsize, reverse=True):
        i = sizes.index(min(sizes))
        groups[i].append(path)
        sizes[i] += os.path.getsize(path)
    diags: list[Any] = []
    for i, group in enumerate(groups, 1):
        t0 = time.perf_counter()
        done = subprocess.run([pyright, "--outputjson", "-p", config, "--pythonpath", sys.executable, *group],
                              capture_output=True, text=True, check=False)
        try:
            report = json.loads(done.stdout)
        except ValueError:
            print(f"pyright shard {i}: no JSON report: {done.stdout[-500:]} {done.stderr[-500:]}")
            return 1
        found = [d for d in report.get("generalDiagnostics", []) if d.get("severity") == "error"]
        print(f"  pyright shard {i}/{len(groups)}: {len(group)} stubs, {sizes[i - 1] / 2**20:.1f} MiB, {len(found)} errors in {time.perf_counter() - t0:.0f} s")
        diags += found
    print(f"pyright strict: {len(diags)} errors in {time.perf_counter() - t:.0f} s")
    for d in diags[:20]:
        print(f"  {os.path.basename(d['file'])}:{d['range']['start']['line'] + 1}: {d['message'].splitlines()[0]}")
    print(f"total wall time {time.perf_counter() - begun:.0f} s")
    return 1 if status or diags else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
