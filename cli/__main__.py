"""``python -m aiogoogle.cli`` (same as ``python -m aiogoogle`` and ``aiogoogle``)."""

from __future__ import annotations

from . import main

if __name__ == "__main__":
    raise SystemExit(main())
