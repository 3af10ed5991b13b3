"""Summarise a py-spy profile by function: the share of samples spent in each function
itself and in it with everything it called.

    py-spy record -r 1000 -f raw -o /tmp/trio.txt -- \\
        python benchmarks/bench_throughput.py --worker trio --url http://127.0.0.1:PORT/ \\
        --pattern per-call --requests 4000 --batches 2
    python benchmarks/profile_summary.py /tmp/trio.txt --within per_call --top 40

(``--worker`` runs one client of ``bench_throughput`` against a server already running,
e.g. ``aiogoogle serve``; ``--within`` keeps only samples whose stack contains that text,
here the timed requests.) py-spy samples a thread while it runs or waits for a CPU, so on
a loaded machine time spent in system calls that wake another process (a socket send on
loopback) is over-counted; compare pure-Python frames across clients rather than those.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", help="py-spy output in raw (collapsed stack) format")
    parser.add_argument("--within", help="keep only stacks with a frame containing this text")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    own: collections.Counter[str] = collections.Counter()
    total_in: collections.Counter[str] = collections.Counter()
    total = 0
    with open(args.profile, encoding="utf-8") as fh:
        for line in fh:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            n = int(count)
            # "function (file:line)" -> "function (file)": lines of one function together.
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
            if args.within and not any(args.within in f for f in frames):
                continue
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                total_in[frame] += n
    if not total:
        print("no samples", file=sys.stderr)
        return 1
    print(f"{total} samples\n\n  own  with callees  function")
    for frame, n in own.most_common(args.top):
        print(f"{100 * n / total:5.1f}% {100 * total_in[frame] / total:6.1f}%       {frame}")
    print("\nwith callees")
    for frame, n in total_in.most_common(args.top):
        print(f"{100 * n / total:5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
