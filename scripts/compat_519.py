"""aiogoogle 5.19 compatibility: regenerate the committed test data, or run the whole
differential harness and print its counts (issue 11).

    python scripts/compat_519.py names     # rewrite tests/compat/names_519.json from 5.19
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
    print(tally.summary())
    print(harness.diff_text(tally.differences, args.show))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    rep = sub.add_parser("report")
    rep.add_argument("--docs", type=int, default=0, help="only the first N documents")
    rep.add_argument("--save")
    rep.add_argument("--baseline")
    rep.add_argument("--show", type=int, default=10)
    args = parser.parse_args()
    if args.cmd == "report":
        return report(args)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
