"""What a new user has: a clean copy of the repository (exactly the files git tracks) and
README's main command's install in it, made once per test session.

Several tests need the main command's virtualenv (the demo, every README block, the
premise that google-api-python-client is absent). Building it takes a minute on two cores,
and pytest-xdist runs those tests in several worker processes, so the first worker builds
it under a file lock in the directory all workers share, and the others reuse it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a new user's shell: no virtualenv of ours on PATH, none of our
    settings, no credentials."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS") and not k.startswith(("AIOGOOGLE_", "GOOGLE_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))
    env.update(extra)
    return env


def clean_copy(dest: Path) -> Path:
    """Copy the files git tracks (as a clone has them) into ``dest``."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for raw in filter(None, tracked):
        rel = raw.decode()
        src = ROOT / rel
        if not src.exists():  # deleted in the working tree, not yet committed
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel, follow_symlinks=False)
    return dest


def shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A directory every xdist worker of this session sees (the parent of the workers'
    own temporary roots; without xdist, the session's root)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / name
    path.mkdir(exist_ok=True)
    return path


def main_command_install(tmp_path_factory: pytest.TempPathFactory, steps: list[str]) -> Path:
    """A clean copy with README's main command run up to its install (``steps``), once per
    session; returns the copy. A failed step fails every test that needs it, with its
    output; a machine that cannot create virtualenvs skips them."""
    shared = shared_dir(tmp_path_factory, "main-command")
    copy, done, failed = shared / "copy", shared / "installed", shared / "failed"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists() and not failed.exists():
            if copy.exists():
                shutil.rmtree(copy)
            clean_copy(copy)
            for i, step in enumerate(steps):
                result = subprocess.run(["bash", "-c", step], cwd=copy, env=clean_env(), capture_output=True, text=True,
                                        timeout=900, check=False)
                if result.returncode != 0:
                    kind = "skip" if i == 0 else "fail"  # the first step makes the virtualenv
                    failed.write_text(f"{kind}\n{step!r} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
                    break
            else:
                done.write_text("ok")
    if failed.exists():
        kind, _, why = failed.read_text().partition("\n")
        if kind == "skip":
            pytest.skip(f"cannot create a virtualenv here: {why[-500:]}")
        pytest.fail(why)
    return copy
