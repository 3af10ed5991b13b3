"""aiogoogle 5.19 compatibility: regenerate the committed test data, or run the whole
differential harness and print its counts (issue 11).

    python scripts/compat_519.py names     # rewrite tests/compat/names_519.json from 5.19
    python scripts/compat_519.py data      # rewrite core/data.py and core/auth/data.py from 5.19
    python scripts/compat_519.py report    # every document, every comparison, counts
    python scripts/compat_519.py report --save FILE / --baseline FILE

The tests (tests/test_compat_519.py) run a sample of the same comparisons.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.compat import harness  # noqa: E402


def report(args: argparse.Namespace) -> int:
    peer = harness.Peer()
    tally = harness.Tally()
    t0 = time.monotonic()
    try:
        docs = harness.all_docs()
        if args.docs:
            docs = docs[: args.docs]
        for name in docs:
            harness.compare_browse(peer, name, tally)
        print("browse:", tally.summary(), f"{time.monotonic() - t0:.1f}s", file=sys.stderr)
        from tests import test_compat_519 as t
        from tests.compat.names import check, pairs

        for module, name, entry in pairs():
            problem = check(module, name, entry) if t.is_ours(entry.get("origin")) else "imported helper"
            key = f"names {module}.{name}"
            tally.add(key, "names", problem, None)
        for i, (doc, path, kwargs) in enumerate(t.VALIDATION):
            t.compare_call(peer, tally, doc, path, {"validate": True, **kwargs}, f"validation {i} {doc} {'.'.join(path)} {json.dumps(kwargs)[:80]}")
        for i, case in enumerate(t.MEDIA):
            tally.add(f"media {i} {case['kind']}", "media", harness.ours("media", case=case), peer("media", case=case))
        for i, case in enumerate(t.AUTH):
            case = {**case, "doc": harness.doc_path(case["doc"])} if case.get("doc") else case
            tally.add(f"auth {i} {case['op']} {json.dumps(case)[:60]}", "auth", harness.ours("auth", case=case), peer("auth", case=case))
    finally:
        peer.close()
    keys = sorted(d["key"] for d in tally.differences)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as fh:
            json.dump({"counts": tally.counts, "differences": keys}, fh, indent=1)
    if args.baseline:
        with open(args.baseline, encoding="utf-8") as fh:
            before = json.load(fh)
        fixed = sorted(set(before["differences"]) - set(keys))
        print(f"fixed since baseline: {len(fixed)}")
    from tests.test_compat_519 import allowed_by_key

    by_entry: dict[str, int] = {}
    unexplained = []
    for d in tally.differences:
        entry = allowed_by_key(d["key"]) or ("imported-helpers" if d["ours"] == "imported helper" else None)
        if entry is None:
            unexplained.append(d)
        else:
            by_entry[entry] = by_entry.get(entry, 0) + 1
    print(tally.summary())
    print("allowed by key:", ", ".join(f"{k}={v}" for k, v in sorted(by_entry.items())))
    print(f"unexplained differences: {len(unexplained)}")
    print(harness.diff_text(unexplained, args.show))
    return 0


def names() -> int:
    """Regenerate tests/compat/names_519.json from aiogoogle 5.19 itself."""
    import subprocess

    script = os.path.join(harness.HERE, "names519.py")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AIOGOOGLE_HTTP_PROXY")}
    out = subprocess.run([harness.peer_python(), "-I", script], capture_output=True, text=True, check=True, env=env, cwd=harness.HERE).stdout
    with open(harness.NAMES_FILE, "w", encoding="utf-8") as fh:
        fh.write(out + "\n")
    data = json.loads(out)
    count = sum(len(m["names"]) for m in data["modules"].values())
    print(f"{harness.NAMES_FILE}: {len(data['modules'])} modules, {count} names")
    return 0


def data() -> int:
    """Regenerate core/data.py and core/auth/data.py (5.19's data modules) from 5.19."""
    import subprocess

    script = os.path.join(harness.HERE, "data519.py")
    for which, target in (("data", "core/data.py"), ("auth.data", "core/auth/data.py")):
        out = subprocess.run([harness.peer_python(), "-I", script, which], capture_output=True, text=True, check=True, cwd=harness.HERE).stdout
        with open(os.path.join(REPO, target), "w", encoding="utf-8") as fh:
            fh.write(out)
        print(f"{target}: {len(out)} characters")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    rep = sub.add_parser("report")
    rep.add_argument("--docs", type=int, default=0, help="only the first N documents")
    rep.add_argument("--save")
    rep.add_argument("--baseline")
    rep.add_argument("--show", type=int, default=10)
    sub.add_parser("names")
    sub.add_parser("data")
    args = parser.parse_args()
    if args.cmd == "data":
        return data()
    if args.cmd == "names":
        return names()
    if args.cmd == "report":
        return report(args)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
