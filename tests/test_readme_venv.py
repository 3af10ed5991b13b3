"""Every Python block of README.rst runs after README's main command alone.

A new user runs the main command (``pip install -e '.[all]'``, then the demo) and then
tries README's examples. The test suite itself runs with ``[all,test]``, which brings
google-api-python-client and its 600 documents; this test does not: it makes a virtualenv
with exactly the main command's install, from a clean copy of the repository (the files
git tracks), and runs every ``.. code-block:: python`` block of README.rst with that
virtualenv's Python. The virtualenv is made once per session and shared with the demo's
test (tests/_fresh.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests._fresh import clean_env, main_command_install
from tests.test_examples import readme_blocks, run_python_block
from tests.test_readme import INNER, main_command_steps

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(INNER, reason="already inside the README's test command")


def install_part() -> list[str]:
    """The main command up to its install (it ends by starting the demo, which
    tests/test_readme.py runs in the same virtualenv)."""
    return main_command_steps()[0]


def test_the_install_part_is_the_main_command_without_the_demo() -> None:
    assert install_part() == ["python3 -m venv .venv", ".venv/bin/pip install -q -e '.[all]'"]


@pytest.fixture(scope="module")
def main_command_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return main_command_install(tmp_path_factory, install_part()) / ".venv" / "bin" / "python"


def test_the_venv_lacks_googleapiclient(main_command_venv: Path) -> None:
    """The premise: README's examples may not lean on what only the test extra installs."""
    probe = subprocess.run([str(main_command_venv), "-c", "import googleapiclient"], env=clean_env(), capture_output=True,
                           text=True, timeout=60, check=False)
    assert probe.returncode != 0 and "No module named 'googleapiclient'" in probe.stderr


_BLOCKS = [b for b in readme_blocks() if b[2]]


@pytest.mark.parametrize(("line", "code"), [b[:2] for b in _BLOCKS], ids=[f"README.rst:{b[0]}" for b in _BLOCKS])
def test_readme_block_after_the_main_command(main_command_venv: Path, tmp_path: Path, line: int, code: str) -> None:
    env = clean_env(AIOGOOGLE_CACHE_DIR=str(tmp_path / "cache"), CLOUDSDK_CONFIG=str(tmp_path / "no-gcloud"))
    run_python_block(code, line, tmp_path, python=str(main_command_venv), env=env)
