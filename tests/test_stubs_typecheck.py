"""Typed calls proven with both type checkers (issue 14): mypy --strict and pyright
(strict mode, from npm, pinned in tests/typing_tools) run once per test session over

* the ready-made stubs (``stubs/aiogoogle_apis``) and the stubs generated here from the
  other documents of ``testing/documents`` and from ``tests/typed/clashes.json`` (a fixed
  sample; the full sweep over every google-api-python-client document is
  ``scripts/stubs_sweep.py``): no error;
* ``tests/typed/correct_calls.py`` (async client), ``sync_calls.py`` (aiogoogle.sync) and
  ``hidden_members.py`` (get_method/get_resource overloads): no error, and they run;
* ``tests/typed/mistakes.py``: errors on exactly the marked lines, from each checker.

pytest-xdist runs these tests in several workers, and a session fixture runs once per
worker: the first worker runs both checkers (at the same time, one process each) under a
file lock in the directory all workers share and writes their diagnostics there as JSON;
the others read them. Pyright's half leaves out ``compute_v1.pyi`` (2.6 MB, about half of
pyright's time here), which ``test_compute_is_left_to_the_sweep`` keeps honest: mypy still
checks it here, and the sweep checks it with both.

Without node/npm the pyright half is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import fcntl
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiogoogle.stubgen import generate_stubs
from tests._fresh import shared_dir

ROOT = Path(__file__).resolve().parent.parent
TYPED = ROOT / "tests" / "typed"
TOOLS = ROOT / "tests" / "typing_tools"
APIS = ROOT / "stubs"
DOCUMENTS = ROOT / "testing" / "documents"
CHECKED = [TYPED / "correct_calls.py", TYPED / "sync_calls.py", TYPED / "hidden_members.py", TYPED / "mistakes.py"]
MARK = re.compile(r"#\s*error:.*\[(\w+)\]\s*$")
# Checked by mypy here and by both checkers in scripts/stubs_sweep.py (see the docstring).
PYRIGHT_LEAVES_OUT = {"compute_v1.pyi"}


def _stage() -> str:
    """The aiogoogle package laid out for type checkers (scripts/typecheck.py)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import typecheck  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return str(typecheck.stage())


def _write_sample(out: Path) -> None:
    """Stubs of the bundled documents not shipped ready-made (books, iamcredentials,
    oauth2) and of tests/typed/clashes.json."""
    shipped = {p.stem for p in (APIS / "aiogoogle_apis").glob("*.pyi")}
    docs = [json.loads(gzip.decompress(path.read_bytes())) for path in sorted(DOCUMENTS.glob("*.json.gz"))]
    docs.append(json.loads((TYPED / "clashes.json").read_text(encoding="utf-8")))
    for doc in docs:
        files = generate_stubs(doc)
        if any(name.removesuffix(".pyi") in shipped for name in files):
            continue
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")


def _targets(sample: Path, leave_out: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    stubs = sorted((APIS / "aiogoogle_apis").glob("*.pyi")) + sorted(sample.glob("*.pyi"))
    return [str(p) for p in CHECKED] + [str(p) for p in stubs if p.name not in leave_out]


Diagnostics = dict[str, dict[int, list[str]]]  # file name -> line -> messages


def _mypy(sample: Path, stage: str, cache: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, MYPYPATH=os.pathsep.join([stage, str(APIS), str(sample)]))
    cmd = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--explicit-package-bases",
           "--no-error-summary", "--show-error-codes", "--cache-dir", str(cache), "--config-file", os.devnull, *_targets(sample)]
    return subprocess.Popen(cmd, cwd=str(sample), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _mypy_diagnostics(stdout: str, stderr: str, returncode: int) -> Diagnostics:
    if returncode not in (0, 1):
        raise RuntimeError(f"mypy failed ({returncode}): {stderr[-2000:]}")
    found: Diagnostics = {}
    for line in stdout.splitlines():
        m = re.match(r"(.+?):(\d+): error: (.*)", line)
        if m:
            found.setdefault(os.path.basename(m.group(1)), {}).setdefault(int(m.group(2)), []).append(m.group(3))
    return found


def _pyright_install() -> str:
    """The pinned pyright (``npm ci`` in tests/typing_tools once); raises ``LookupError``
    with the reason when it cannot be had."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise LookupError("node and npm are needed for pyright (tests/typing_tools); not found on PATH")
    (TOOLS / "node_modules").mkdir(exist_ok=True)  # ignored by git, as the lock inside it
    with open(TOOLS / "node_modules" / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent sessions install once
        installed = TOOLS / "node_modules" / ".package-lock.json"
        if not (installed.exists() and installed.stat().st_mtime >= (TOOLS / "package-lock.json").stat().st_mtime):
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=str(TOOLS),
                                  capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0:
                raise LookupError(f"npm ci failed in tests/typing_tools (offline without a cache?): {done.stderr.strip()[-400:]}")
    return str(TOOLS / "node_modules" / ".bin" / "pyright")


def _pyright(pyright: str, sample: Path, stage: str) -> subprocess.Popen[str]:
    config = sample / "pyrightconfig.json"
    config.write_text(json.dumps({"extraPaths": [stage, str(APIS), str(sample)], "pythonVersion": "3.11", "typeCheckingMode": "strict"}))
    cmd = [pyright, "--outputjson", "-p", str(config), "--pythonpath", sys.executable, *_targets(sample, PYRIGHT_LEAVES_OUT)]
    return subprocess.Popen(cmd, cwd=str(sample), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _pyright_diagnostics(stdout: str, stderr: str) -> Diagnostics:
    try:
        report = json.loads(stdout)
    except ValueError:
        raise RuntimeError(f"pyright gave no JSON report: {stdout[-1000:]} {stderr[-1000:]}") from None
    found: Diagnostics = {}
    for diag in report.get("generalDiagnostics", []):
        if diag.get("severity") == "error":
            line = int(diag["range"]["start"]["line"]) + 1
            found.setdefault(os.path.basename(diag["file"]), {}).setdefault(line, []).append(diag["message"])
    return found


def _run_checkers(shared: Path) -> dict[str, Any]:
    """Both checkers over the targets, at the same time: ``{checker: {"diagnostics": ...}
    | {"skip": why} | {"fail": why}, "seconds": ...}``."""
    sample = shared / "sample"
    if sample.exists():
        shutil.rmtree(sample)
    sample.mkdir()
    _write_sample(sample)
    stage = _stage()
    started = time.perf_counter()
    out: dict[str, Any] = {}
    mypy = _mypy(sample, stage, shared / "mypy_cache")
    try:
        pyright: subprocess.Popen[str] | None = _pyright(_pyright_install(), sample, stage)
    except LookupError as exc:
        pyright, out["pyright"] = None, {"skip": str(exc)}
    for name, proc in (("mypy", mypy), ("pyright", pyright)):
        if proc is None:
            continue
        try:
            stdout, stderr = proc.communicate(timeout=900)
            found = _mypy_diagnostics(stdout, stderr, proc.returncode) if name == "mypy" else _pyright_diagnostics(stdout, stderr)
            out[name] = {"diagnostics": found, "seconds": round(time.perf_counter() - started, 1)}
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            proc.kill()
            out[name] = {"fail": f"{name}: {exc}"}
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


@pytest.fixture(scope="session")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The checkers' results, computed once per test session across xdist workers."""
    shared = shared_dir(tmp_path_factory, "stubs-typecheck")
    cache = shared / "diagnostics.json"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            tmp = shared / f"diagnostics.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(_run_checkers(shared)))
            tmp.replace(cache)
    result: dict[str, Any] = json.loads(cache.read_text())
    return result


@pytest.fixture(params=["mypy", "pyright"])
def checker(request: pytest.FixtureRequest, checked: dict[str, Any]) -> Diagnostics:
    entry: dict[str, Any] = checked[request.param]
    if "skip" in entry:
        pytest.skip(entry["skip"])
    if "fail" in entry:
        pytest.fail(entry["fail"])
    # JSON keys are strings: the line numbers back to ints.
    return {name: {int(line): msgs for line, msgs in lines.items()} for name, lines in entry["diagnostics"].items()}


def _marked() -> dict[int, str]:
    lines = (TYPED / "mistakes.py").read_text(encoding="utf-8").splitlines()
    return {i: m.group(1) for i, text in enumerate(lines, 1) if (m := MARK.search(text))}


def test_the_stubs_check_clean(checker: Diagnostics) -> None:
    stub_errors = {name: lines for name, lines in checker.items() if name.endswith(".pyi")}
    assert stub_errors == {}


@pytest.mark.parametrize("name", ["correct_calls.py", "sync_calls.py", "hidden_members.py"])
def test_correct_typed_calls_check_clean(checker: Diagnostics, name: str) -> None:
    assert checker.get(name, {}) == {}


def test_compute_is_left_to_the_sweep(checked: dict[str, Any]) -> None:
    """Every ready-made stub is checked by both checkers somewhere: here, or (the ones
    pyright leaves out here) by scripts/stubs_sweep.py, which checks every document of
    google-api-python-client, the ready-made ones included."""
    shipped = {p.name for p in (APIS / "aiogoogle_apis").glob("*.pyi")}
    assert shipped >= PYRIGHT_LEAVES_OUT  # a stale name would hide nothing and prove nothing
    sweep = (ROOT / "scripts" / "stubs_sweep.py").read_text(encoding="utf-8")
    assert "discovery_cache" in sweep and "pyright" in sweep
    assert "mypy" in checked and "compute_v1.pyi" not in checked["mypy"].get("diagnostics", {})


def test_each_deliberate_mistake_is_reported_and_nothing_else(checker: Diagnostics) -> None:
    marked = _marked()
    assert len(marked) == 7
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
    for name in [n for n in sys.modules if n in ("correct_calls", "sync_calls", "hidden_members", "clashes_v1") or n.startswith("aiogoogle_apis")]:
        del sys.modules[name]


def test_sync_typed_calls_run_against_the_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiogoogle.testing import LocalGoogleServer

    monkeypatch.syspath_prepend(str(APIS))
    monkeypatch.syspath_prepend(str(TYPED))
    import sync_calls  # type: ignore[import-not-found]

    with LocalGoogleServer(fake_apis=True) as server:
        env = server.write_credentials(str(tmp_path / "creds"))
        creds: dict[str, Any] = json.loads(Path(env["AIOGOOGLE_USER_CREDS"]).read_text())
        seen = sync_calls.run(server.url, creds)
    assert seen["bucket"] == "sync-bucket" and seen["stored"] == ["a.txt", "b.txt"]
    assert seen["listed"] == ["a.txt", "b.txt"]
    assert seen["paged"] == ["a.txt", "b.txt"] and seen["items"] == ["a.txt", "b.txt"]  # one per page, two pages
    assert seen["file"] == "sync.txt" and seen["found"] == ["sync.txt"]
    assert seen["described"] == ("storage:v1", "storage:v1")


def test_hidden_members_build_the_methods_they_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = json.loads((TYPED / "clashes.json").read_text(encoding="utf-8"))
    for name, text in generate_stubs(document).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(TYPED))
    import hidden_members  # type: ignore[import-not-found]

    built = hidden_members.build(document)
    assert [(r.method, r.url.split("example.com/", 1)[1]) for r in built] == [
        ("POST", "v1/projects/p/accounts?dryRun=true"),
        ("GET", "v1/projects/p/accounts?pageSize=5"),
        ("GET", "v1/projects/p:method?view=FULL"),
        ("GET", "v1/projects/p/name"),
        ("GET", "v1/projects/p:all"),
    ]
    assert built[0].json == {"count": 1}
