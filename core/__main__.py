"""``python -m aiogoogle``: the command line (:mod:`aiogoogle.cli`).

The core stays free of I/O: the command line is imported only when this module runs.
"""

from __future__ import annotations


def _run() -> int:
    from aiogoogle.cli import main

    return main()


if __name__ == "__main__":
    raise SystemExit(_run())
