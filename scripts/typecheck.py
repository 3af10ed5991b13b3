"""Run mypy --strict on the aiogoogle package as it is installed (core/ + adapters/).

The source folders are mapped into one import package by setuptools ``package_dir``
(``core/`` -> ``aiogoogle``, ``adapters/`` -> ``aiogoogle.sessions``), which mypy cannot
follow through an editable install. This script lays the package out with symlinks in a
scratch directory and type-checks it there, so error paths still point at the sources.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGE = os.path.join(ROOT, "build", "typecheck")


def stage() -> str:
    pkg = os.path.join(STAGE, "aiogoogle")
    shutil.rmtree(STAGE, ignore_errors=True)
    os.makedirs(pkg)
    core = os.path.join(ROOT, "core")
    for name in os.listdir(core):
        if name == "__pycache__":
            continue
        os.symlink(os.path.join(core, name), os.path.join(pkg, name))
    os.symlink(os.path.join(ROOT, "adapters"), os.path.join(pkg, "sessions"))
    return STAGE


def main() -> int:
    stage_dir = stage()
    env = dict(os.environ, MYPYPATH=stage_dir)
    cmd = [sys.executable, "-m", "mypy", "--config-file", os.path.join(ROOT, "pyproject.toml"), "-p", "aiogoogle", *sys.argv[1:]]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
