"""``python -m aiogoogle``: the command line (:mod:`aiogoogle.cli`).

The core stays free of I/O: the command line is imported only when this module runs
(by name, so type-checking the core does not pull the CLI in).
"""

from __future__ import annotations

import importlib


def _run() -> int:
    cli = importlib.import_module("aiogoogle.cli")
    return int(cli.main())


if __name__ == "__main__":
    raise SystemExit(_run())
