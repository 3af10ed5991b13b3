"""Typed calls proven with both type checkers (issue 14): mypy --strict and pyright
(strict mode, from npm, pinned in tests/typing_tools) run once per session over

* the ready-made stubs (``stubs/aiogoogle_apis``) and the stubs generated here from the
  other documents of ``testing/documents`` (a fixed sample; the full sweep over every
  google-api-python-client document is ``scripts/stubs_sweep.py``): no error;
* ``tests/typed/correct_calls.py``: no error, and it runs against the local server;
* ``tests/typed/mistakes.py``: errors on exactly the marked lines, from each checker.

Without node/npm the pyright half is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiogoogle.stubgen import generate_stubs

ROOT = Path(__file__).resolve().parent.parent
TYPED = ROOT / "tests" / "typed"
TOOLS = ROOT / "tests" / "typing_tools"
APIS = ROOT / "stubs"
DOCUMENTS = ROOT / "testing" / "documents"
CHECKED = [TYPED / "correct_calls.py", TYPED / "mistakes.py"]
MARK = re.compile(r"#\s*error:.*\[(\w+)\]\s*$")


def _stage() -> str:
    """The aiogoogle package laid out for type checkers (scripts/typecheck.py)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import typecheck  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return str(typecheck.stage())


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stubs of the bundled documents not shipped ready-made (books, iamcredentials, oauth2)."""
    out = tmp_path_factory.mktemp("stub_sample")
    shipped = {p.stem for p in (APIS / "aiogoogle_apis").glob("*.pyi")}
    for path in sorted(DOCUMENTS.glob("*.json.gz")):
        doc = json.loads(gzip.decompress(path.read_bytes()))
        files = generate_stubs(doc)
        if any(name.removesuffix(".pyi") in shipped for name in files):
            continue
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
    return out


def _targets(sample: Path) -> list[str]:
    return [str(p) for p in CHECKED] + [str(APIS / "aiogoogle_apis")] + sorted(str(p) for p in sample.glob("*.pyi"))


Diagnostics = dict[str, dict[int, list[str]]]  # file name -> line -> messages


@pytest.fixture(scope="session")
def mypy_result(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Diagnostics:
    stage = _stage()
    cache = tmp_path_factory.mktemp("mypy_cache")
    env = dict(os.environ, MYPYPATH=os.pathsep.join([stage, str(APIS)]))
    cmd = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--explicit-package-bases",
           "--no-error-summary", "--show-error-codes", "--cache-dir", str(cache), "--config-file", os.devnull, *_targets(sample)]
    done = subprocess.run(cmd, cwd=str(sample), env=env, capture_output=True, text=True, timeout=600, check=False)
    found: Diagnostics = {}
    for line in done.stdout.splitlines():
        m = re.match(r"(.+?):(\d+): error: (.*)", line)
        if m:
            found.setdefault(os.path.basename(m.group(1)), {}).setdefault(int(m.group(2)), []).append(m.group(3))
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return found


def _pyright() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed for pyright (tests/typing_tools); not found on PATH")
    import fcntl

    (TOOLS / "node_modules").mkdir(exist_ok=True)  # ignored by git, as the lock inside it
    with open(TOOLS / "node_modules" / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent sessions install once
        installed = TOOLS / "node_modules" / ".package-lock.json"
        if not (installed.exists() and installed.stat().st_mtime >= (TOOLS / "package-lock.json").stat().st_mtime):
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=str(TOOLS),
                                  capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0:
                pytest.skip(f"npm ci failed in tests/typing_tools (offline without a cache?): {done.stderr.strip()[-400:]}")
    return str(TOOLS / "node_modules" / ".bin" / "pyright")


@pytest.fixture(scope="session")
def pyright_result(sample: Path) -> Diagnostics:
    pyright = _pyright()
    stage = _stage()
    config = sample / "pyrightconfig.json"
    config.write_text(json.dumps({"extraPaths": [stage, str(APIS)], "pythonVersion": "3.11", "typeCheckingMode": "strict"}))
    done = subprocess.run([pyright, "--outputjson", "-p", str(config), "--pythonpath", sys.executable, *_targets(sample)],
                          cwd=str(sample), capture_output=True, text=True, timeout=900, check=False)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"pyright gave no JSON report: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    found: Diagnostics = {}
    for diag in report.get("generalDiagnostics", []):
        if diag.get("severity") == "error":
            line = int(diag["range"]["start"]["line"]) + 1
            found.setdefault(os.path.basename(diag["file"]), {}).setdefault(line, []).append(diag["message"])
    return found


@pytest.fixture(params=["mypy", "pyright"])
def checker(request: pytest.FixtureRequest) -> Diagnostics:
    result: Diagnostics = request.getfixturevalue(f"{request.param}_result")
    return result


def _marked() -> dict[int, str]:
    lines = (TYPED / "mistakes.py").read_text(encoding="utf-8").splitlines()
    return {i: m.group(1) for i, text in enumerate(lines, 1) if (m := MARK.search(text))}


def test_the_stubs_check_clean(checker: Diagnostics) -> None:
    stub_errors = {name: lines for name, lines in checker.items() if name.endswith(".pyi")}
    assert stub_errors == {}


def test_correct_typed_calls_check_clean(checker: Diagnostics) -> None:
    assert checker.get("correct_calls.py", {}) == {}


def test_each_deliberate_mistake_is_reported_and_nothing_else(checker: Diagnostics) -> None:
    marked = _marked()
    assert len(marked) == 5
    got = checker.get("mistakes.py", {})
    assert sorted(got) == sorted(marked), got
    for line, name in marked.items():
        assert any(name in message for message in got[line]), (line, name, got[line])


def test_correct_typed_calls_run_against_the_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiogoogle.testing import LocalGoogleServer

    monkeypatch.syspath_prepend(str(APIS))
    monkeypatch.syspath_prepend(str(TYPED))
    import correct_calls  # type: ignore[import-not-found]

    with LocalGoogleServer(fake_apis=True) as server:
        env = server.write_credentials(str(tmp_path / "creds"))
        creds: dict[str, Any] = json.loads(Path(env["AIOGOOGLE_USER_CREDS"]).read_text())
        seen = asyncio.run(correct_calls.run(server.url, creds, str(tmp_path)))
    assert seen["bucket"] == "typed-bucket"
    assert seen["object"] == "hello.txt" and seen["size"] == str(len(b"hello typed world"))
    assert seen["listed"] == ["hello.txt"] and seen["paged"] == ["hello.txt"]
    assert seen["downloaded"] == b"hello typed world"
    assert seen["file"] == ("notes.txt", True) and seen["found"] == ["notes.txt"]
    assert seen["event"] == "Typed" and seen["events"] == ["Typed"]


@pytest.fixture(autouse=True)
def _no_leftover_modules() -> Iterator[None]:
    yield
    for name in [n for n in sys.modules if n == "correct_calls" or n.startswith("aiogoogle_apis")]:
        del sys.modules[name]
