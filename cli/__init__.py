"""The ``aiogoogle`` command line (also ``python -m aiogoogle``).

Commands: ``apis``, ``describe``, ``call``, ``auth login``, ``serve`` and ``demo``; run
``aiogoogle COMMAND --help`` for each. Everything here is I/O glue (argument parsing,
files, the environment, printing); the protocol work is done by the library itself.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 API/HTTP error, 2 usage error)."""
    from ._main import main as _main

    return _main(argv)
