"""README.rst's two commands, run as written, in a fresh virtualenv, on a clean copy.

The copy holds exactly the files git tracks (what a new user clones), so a file that was
never committed, or a dependency that is only installed on a developer's machine, fails
here. The test command is the same line ``.ci/run`` executes; here it runs with
``PYTEST_ADDOPTS`` narrowing the selection (so the suite does not run itself twice).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text(encoding="utf-8")
INNER = os.environ.get("AIOGOOGLE_README_INNER") == "1"

pytestmark = pytest.mark.skipif(INNER, reason="already inside the README's test command")


def readme_command(marker: str) -> str:
    """The literal command on the first indented line after ``.. <marker>``."""
    match = re.search(rf"^\.\. {re.escape(marker)}\n(?:.*\n)*?    (\S.*)$", README, re.M)
    assert match, f"README.rst has no command after '.. {marker}'"
    return match.group(1)


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("clone")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for raw in filter(None, tracked):
        rel = raw.decode()
        src = ROOT / rel
        if not src.exists():  # deleted in the working tree, not yet committed
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel, follow_symlinks=False)
    return dest


def run(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean_env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS")}
    clean_env["PATH"] = os.pathsep.join(p for p in clean_env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))
    clean_env.update(env)
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=clean_env, capture_output=True, text=True, timeout=900, check=False)


def test_readme_gives_exactly_the_two_commands() -> None:
    assert readme_command("main-command").startswith("python3 -m venv .venv")
    assert readme_command("test-command").startswith("python3 -m venv .venv")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".. test-command" in ci, ".ci/run must read its command from README.rst"


DEMO_STEPS = [
    "discover",
    "browse",
    "pagination",
    "multipart upload",
    "resumable upload",
    "ranged download",
    "batch",
    "retry",
    "service account",
]


def test_main_command_runs_the_demo(clean_copy: Path) -> None:
    result = run(readme_command("main-command"), clean_copy)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout.lower()
    missing = [step for step in DEMO_STEPS if step not in out]
    assert not missing, f"demo output lacks steps {missing}:\n{result.stdout[-4000:]}"
    assert "traceback" not in (result.stdout + result.stderr).lower()


def test_test_command_installs_and_runs_pytest(clean_copy: Path) -> None:
    result = run(readme_command("test-command"), clean_copy, AIOGOOGLE_README_INNER="1", PYTEST_ADDOPTS="-k test_public_api -p no:cacheprovider")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]
