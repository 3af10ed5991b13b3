"""README.rst's two commands, run as written, in a fresh virtualenv, on a clean copy.

The copy holds exactly the files git tracks (what a new user clones), so a file that was
never committed, or a dependency that is only installed on a developer's machine, fails
here. The main command's install is made once per session (tests/_fresh.py) and shared
with tests/test_readme_venv.py, which runs README's blocks in it. The test command is the
same line ``.ci/run`` executes: run from the virtualenv it makes, this session is its
result and the test checks that environment; run from elsewhere, the command runs in a
fresh virtualenv with ``PYTEST_ADDOPTS`` narrowing the selection (so the suite does not
run itself twice).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._fresh import clean_copy, main_command_install

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text(encoding="utf-8")
INNER = os.environ.get("AIOGOOGLE_README_INNER") == "1"

pytestmark = pytest.mark.skipif(INNER, reason="already inside the README's test command")


def readme_command(marker: str) -> str:
    """The literal command on the first indented line after ``.. <marker>``."""
    match = re.search(rf"^\.\. {re.escape(marker)}\n(?:.*\n)*?    (\S.*)$", README, re.M)
    assert match, f"README.rst has no command after '.. {marker}'"
    return match.group(1)


def main_command_steps() -> tuple[list[str], str]:
    """The main command as its install steps and the step that starts the demo. Run one
    after another in the same folder, they are the command as written (no step changes
    directory or environment: ``test_readme_venv`` pins the install steps)."""
    steps = [step.strip() for step in readme_command("main-command").split("&&")]
    assert steps[-1].endswith("aiogoogle demo"), steps
    assert any("pip install" in step for step in steps[:-1]), steps
    return steps[:-1], steps[-1]


@pytest.fixture(scope="module")
def main_command_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy after the main command's install (made once per session, shared with
    tests/test_readme_venv.py)."""
    return main_command_install(tmp_path_factory, main_command_steps()[0])


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


def test_main_command_runs_the_demo(main_command_copy: Path) -> None:
    result = run(main_command_steps()[1], main_command_copy)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout.lower()
    missing = [step for step in DEMO_STEPS if step not in out]
    assert not missing, f"demo output lacks steps {missing}:\n{result.stdout[-4000:]}"
    assert "traceback" not in (result.stdout + result.stderr).lower()


def _extras_of(command: str) -> list[str]:
    """The extras the test command installs (``pip install ... -e '.[all,test]'``)."""
    match = re.search(r"pip install .*?-e '?\.\[([a-z0-9_,-]+)\]'?", command)
    assert match, f"the test command installs no extras of this project: {command}"
    return match.group(1).split(",")


def _unmet_requirements(extras: list[str], setup_cfg: Path = ROOT / "setup.cfg") -> list[str]:
    """Requirements of ``extras`` (setup.cfg) that this environment does not satisfy."""
    import configparser
    from importlib import metadata

    from packaging.requirements import Requirement

    config = configparser.ConfigParser()
    config.read(setup_cfg, encoding="utf-8")
    unmet = []
    for extra in extras:
        assert config.has_option("options.extras_require", extra), f"the test command names extra {extra!r}, which setup.cfg lacks"
        for line in filter(None, (ln.strip() for ln in config.get("options.extras_require", extra).splitlines())):
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate():
                continue
            try:
                version = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                unmet.append(f"{line} (not installed)")
                continue
            if not requirement.specifier.contains(version, prereleases=True):
                unmet.append(f"{line} (installed {version})")
    return unmet


def test_test_command_installs_and_runs_pytest(tmp_path_factory: pytest.TempPathFactory) -> None:
    command = readme_command("test-command")
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        # This session is the test command's own result: it runs in the virtualenv the
        # command makes (``.venv`` in the checkout; CI runs exactly that command on a clean
        # clone), so the command installed and started pytest. Running it again in a second
        # fresh virtualenv (2-4 minutes on 2 cores) would prove nothing more; what this
        # environment can still show is checked: the extras the command names exist and
        # are installed, with this checkout as the package.
        assert not _unmet_requirements(_extras_of(command)), _unmet_requirements(_extras_of(command))
        import aiogoogle

        assert Path(aiogoogle.__file__).resolve().is_relative_to(ROOT.resolve()), aiogoogle.__file__
        return
    copy = clean_copy(tmp_path_factory.mktemp("clone"))
    result = run(command, copy, AIOGOOGLE_README_INNER="1", PYTEST_ADDOPTS="-k test_public_api -p no:cacheprovider")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]


def test_the_environment_check_sees_what_is_missing(tmp_path: Path) -> None:
    cfg = tmp_path / "setup.cfg"
    cfg.write_text("[options.extras_require]\ntest =\n    pytest<1\n    no-such-distribution-aiogoogle>=1\n    pytest>=1\n")
    assert _unmet_requirements(["test"], cfg) == [f"pytest<1 (installed {pytest.__version__})", "no-such-distribution-aiogoogle>=1 (not installed)"]
    with pytest.raises(AssertionError, match="names extra 'nope'"):
        _unmet_requirements(["nope"], cfg)
    assert _extras_of("python3 -m venv .venv && .venv/bin/pip install -q -e '.[all,test]' && .venv/bin/python -m pytest") == ["all", "test"]
