"""The aiogoogle 5.19 side of the differential harness: one process answering JSON lines.

Run by tests/compat/harness.py with the Python of a virtualenv holding aiogoogle 5.19:
each stdin line is ``{"op": name, "args": {...}}`` for an operation of ops.py, each
stdout line ``{"ok": result}`` or ``{"error": traceback}``. Only this directory is on
``sys.path`` (the script's own), so ``aiogoogle`` here is 5.19, never this repository's.
"""

import json
import sys
import traceback

import ops


def main() -> None:
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            reply = {"ok": ops.OPS[msg["op"]](**msg["args"])}
        except Exception:  # reported to the harness, which fails the test
            reply = {"error": traceback.format_exc()}
        out.write(json.dumps(reply, default=repr) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
