"""examples/httpx_anyio_session.py passes the contract suite through the plugin, as an
adapter author runs it (``-p aiogoogle.testing.contract --aiogoogle-backend=module:Class@runner``).

httpx and httpcore need anyio>=4, while the test virtualenv pins anyio==2.2.0 for asks (the
curio backend), so the suite runs in a virtualenv of its own, made once per test session
under a file lock (tests/_fresh.py's shared directory, as for README's main command). That
virtualenv holds only httpx, httpcore and anyio 4, and reaches everything else (aiogoogle,
pytest, aiohttp, trustme, hypothesis, ...) through a ``.pth`` file naming this
environment's site-packages: its own site-packages come first on ``sys.path``, so
``import anyio`` is anyio 4 there, and nothing else is installed twice (about 10 s of pip
instead of a minute).

The selection is the part of the suite about the session itself - bytes and headers as
given, streamed bodies, timeouts, broken connections, redirects left alone, no
decompression, pooling, concurrency and locks (auth single flight, gather and total
timeouts), media streaming, download resumption - about 130 tests in ~40 s. Left out: the
files that test other adapters' internals (test_curio_session, test_h11_reuse,
test_thread_file), test_hostile_bytes (it parametrizes its own backends, curio's asks among
them, which cannot import under anyio 4), and the protocol suites against external peers
(test_oauth_peers, test_storage_emulator, test_installed_app, test_keyless_auth,
test_openid_discovery), which check the core's flows and take most of the suite's time;
the session is the same object there.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests._fresh import shared_dir

ROOT = Path(__file__).resolve().parent.parent
BACKEND = "examples.httpx_anyio_session:HttpxSession@asyncio"
SELECTION = [
    "tests/contract/test_transport.py",
    "tests/contract/test_auth_secrets.py",
    "tests/contract/test_redirects_and_loops.py",
    "tests/contract/test_body_stream.py",
    "tests/contract/test_empty_body_length.py",
    "tests/contract/test_hostile_bodies.py",
    "tests/contract/test_media.py",
    "tests/contract/test_auth.py",
    "tests/contract/test_client.py",
    "tests/contract/test_download_resume.py",
]
PACKAGES = ["httpx>=0.27", "httpcore>=1.0", "anyio>=4"]


def httpx_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of the httpx virtualenv (built once per session)."""
    shared = shared_dir(tmp_path_factory, "httpx-venv")
    venv, done, failed = shared / "venv", shared / "ready", shared / "failed"
    python = venv / "bin" / "python"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists() and not failed.exists():
            steps = [
                [sys.executable, "-m", "venv", str(venv)],
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", *PACKAGES],
            ]
            for i, step in enumerate(steps):
                result = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
                if result.returncode != 0:
                    kind = "skip" if i == 0 else "fail"
                    failed.write_text(f"{kind}\n{step!r} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
                    break
            else:
                purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                         capture_output=True, text=True, check=True).stdout.strip()
                # addsitedir also runs this environment's .pth files (aiogoogle's editable install).
                ours = sysconfig.get_paths()["purelib"]
                Path(purelib, "zz_aiogoogle_test_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
                done.write_text("ok")
    if failed.exists():
        kind, _, why = failed.read_text().partition("\n")
        if kind == "skip":
            pytest.skip(f"cannot create a virtualenv here: {why[-500:]}")
        pytest.fail(why)
    return python


def test_the_httpx_session_passes_the_contract_suite(tmp_path_factory: pytest.TempPathFactory) -> None:
    python = httpx_python(tmp_path_factory)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS", "VIRTUAL_ENV", "PYTHONPATH")}
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-p", "aiogoogle.testing.contract",
         f"--aiogoogle-backend={BACKEND}", *SELECTION],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    # The suite really ran on httpx with anyio 4, not on another backend.
    versions = subprocess.run([str(python), "-c", "import anyio, httpx, importlib.metadata as m; print(m.version('anyio'))"],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert int(versions.split(".")[0]) >= 4, versions
    # Every selected file ran (a selection that collected nothing would "pass" too).
    assert int(summary.split(" passed")[0].split()[-1]) >= 100, summary


def test_the_example_is_an_adapter_on_public_names() -> None:
    source = (ROOT / "examples" / "httpx_anyio_session.py").read_text()
    imported = [line for line in source.splitlines() if line.startswith(("from aiogoogle", "import aiogoogle"))]
    assert imported, "the example imports aiogoogle"
    for line in imported:
        module = line.split()[1]
        assert not any(part.startswith("_") for part in module.split(".")), line
        names = line.split(" import ", 1)[1] if " import " in line else ""
        assert not any(name.strip().startswith("_") for name in names.split(",")), line
