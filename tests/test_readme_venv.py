"""Every Python block of README.rst runs after README's main command alone.

A new user runs the main command (``pip install -e '.[all]'``, then the demo) and then
tries README's examples. The test suite itself runs with ``[all,test]``, which brings
google-api-python-client and its 600 documents; this test does not: it makes a virtualenv
with exactly the main command's install, from a clean copy of the repository (the files
git tracks), and runs every ``.. code-block:: python`` block of README.rst with that
virtualenv's Python. pip reuses its cache, so this takes about a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_examples import readme_blocks, run_python_block
from tests.test_readme import INNER, readme_command

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(INNER, reason="already inside the README's test command")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS") and not k.startswith(("AIOGOOGLE_", "GOOGLE_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))
    env.update(extra)
    return env


def install_part() -> list[str]:
    """The main command up to its install (it ends by starting the demo, which
    tests/test_readme.py runs)."""
    steps = [step.strip() for step in readme_command("main-command").split("&&")]
    assert steps[-1].endswith("aiogoogle demo"), steps
    assert any("pip install" in step for step in steps[:-1]), steps
    return steps[:-1]


def test_the_install_part_is_the_main_command_without_the_demo() -> None:
    assert install_part() == ["python3 -m venv .venv", ".venv/bin/pip install -q -e '.[all]'"]


@pytest.fixture(scope="module")
def main_command_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("clean-copy")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for raw in filter(None, tracked):
        src = ROOT / raw.decode()
        if src.exists():
            (copy / raw.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / raw.decode(), follow_symlinks=False)
    first, *rest = install_part()
    made = subprocess.run(["bash", "-c", first], cwd=copy, env=_clean_env(), capture_output=True, text=True, timeout=300, check=False)
    if made.returncode != 0 or not (copy / ".venv" / "bin" / "python").exists():
        pytest.skip(f"cannot create a virtualenv here ({first!r} failed): {made.stderr.strip()[-500:]}")
    for step in rest:
        done = subprocess.run(["bash", "-c", step], cwd=copy, env=_clean_env(), capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, f"{step}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return copy / ".venv" / "bin" / "python"


def test_the_venv_lacks_googleapiclient(main_command_venv: Path) -> None:
    """The premise: README's examples may not lean on what only the test extra installs."""
    probe = subprocess.run([str(main_command_venv), "-c", "import googleapiclient"], env=_clean_env(), capture_output=True,
                           text=True, timeout=60, check=False)
    assert probe.returncode != 0 and "No module named 'googleapiclient'" in probe.stderr


_BLOCKS = [b for b in readme_blocks() if b[2]]


@pytest.mark.parametrize(("line", "code"), [b[:2] for b in _BLOCKS], ids=[f"README.rst:{b[0]}" for b in _BLOCKS])
def test_readme_block_after_the_main_command(main_command_venv: Path, tmp_path: Path, line: int, code: str) -> None:
    env = _clean_env(AIOGOOGLE_CACHE_DIR=str(tmp_path / "cache"), CLOUDSDK_CONFIG=str(tmp_path / "no-gcloud"))
    run_python_block(code, line, tmp_path, python=str(main_command_venv), env=env)
