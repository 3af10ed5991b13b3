"""Run mypy --strict on the aiogoogle package as it is installed: core/, adapters/,
testing/, cli/ and installed_app/.

The source folders are mapped into one import package by setuptools ``package_dir``
(``core/`` -> ``aiogoogle``, ``adapters/`` -> ``aiogoogle.sessions``, ...), which mypy cannot
follow through an editable install. This script lays the package out with symlinks in a
scratch directory and type-checks it there, so error paths still point at the sources.
"""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGE = os.path.join(ROOT, "build", "typecheck")


# Folders installed as subpackages of aiogoogle (setup.cfg package_dir), checked as strictly
# as the core: the adapters, the local server and strategies, the command line, the
# installed-app sign-in.
OUTSIDE_CORE = {"adapters": "sessions", "testing": "testing", "cli": "cli", "installed_app": "installed_app", "sync": "sync"}


def _link(target: str, link: str) -> None:
    # Replace atomically, so concurrent runs (parallel test workers, several shells) never
    # see a half-built tree.
    if os.path.islink(link) and os.readlink(link) == target:
        return
    tmp = f"{link}.{os.getpid()}.tmp"
    os.symlink(target, tmp)
    os.replace(tmp, link)


def stage() -> str:
    pkg = os.path.join(STAGE, "aiogoogle")
    os.makedirs(pkg, exist_ok=True)
    core = os.path.join(ROOT, "core")
    wanted = {name for name in os.listdir(core) if name != "__pycache__"}
    for name in wanted:
        _link(os.path.join(core, name), os.path.join(pkg, name))
    for folder, subpackage in OUTSIDE_CORE.items():
        _link(os.path.join(ROOT, folder), os.path.join(pkg, subpackage))
    for name in os.listdir(pkg):  # files removed from core/ since the last run
        if name not in wanted and name not in OUTSIDE_CORE.values() and os.path.islink(os.path.join(pkg, name)):
            os.remove(os.path.join(pkg, name))
    return STAGE


def main() -> int:
    stage_dir = stage()
    env = dict(os.environ, MYPYPATH=stage_dir)
    cmd = [sys.executable, "-m", "mypy", "--config-file", os.path.join(ROOT, "pyproject.toml"), "-p", "aiogoogle", *sys.argv[1:]]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
