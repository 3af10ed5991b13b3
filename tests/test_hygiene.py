"""Lint and strict typing are part of the test suite, so CI checks them on every run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tool(name: str) -> str:
    # Prefer the tool installed next to this interpreter (the project's virtualenv).
    local = os.path.join(os.path.dirname(sys.executable), name)
    found = local if os.path.exists(local) else shutil.which(name)
    assert found, f"{name} is not installed (it is part of the 'test' extra)"
    return found


def test_ruff_is_clean() -> None:
    out = subprocess.run([_tool("ruff"), "check", "--no-cache", ROOT], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict_is_clean_on_core_and_adapters() -> None:
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "typecheck.py")], capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
