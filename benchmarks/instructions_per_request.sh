#!/bin/sh
# Client CPU instructions per request of one bench_throughput client (one request per call,
# 50 tasks), counted by valgrind's callgrind: a figure the machine's other load does not
# move, unlike CPU time. Needs valgrind and a server already running (e.g. `aiogoogle serve`
# or the SERVER snippet of bench_throughput.py). Kernel time (system calls) is not counted.
#
#   sh benchmarks/instructions_per_request.sh http://127.0.0.1:PORT/ "raw aiohttp"
#   sh benchmarks/instructions_per_request.sh http://127.0.0.1:PORT/ asyncio
#   PYTHONPATH=/path/to/old sh benchmarks/instructions_per_request.sh URL trio   # another version
#
# Two runs (A and B requests, each after a warm-up of a quarter as many) under callgrind;
# the difference of their totals divided by the difference of their requests leaves out
# start-up and imports.
set -eu
url=$1
client=$2
a=${3:-200}
b=${4:-1000}
here=$(dirname "$0")
python=${PYTHON:-python}
out=$(mktemp -d)
count() {
    PYTHONMALLOC=malloc valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1" \
        "$python" "$here/bench_throughput.py" --worker "$client" --url "$url" --pattern per-call \
        --requests "$1" --batches 1 >/dev/null 2>&1
    grep -E "^(summary|totals):" "$out/cg.$1" | head -1 | awk '{print $2}'
}
x=$(count "$a")
y=$(count "$b")
rm -rf "$out"
echo "$client: $(( (y - x) * 4 / (5 * (b - a)) )) instructions per request"
