"""examples/httpx_anyio_session.py passes the contract suite through the plugin, as an
adapter author runs it (``-p aiogoogle.testing.contract --aiogoogle-backend=module:Class@runner``).

httpx and httpcore need anyio>=4, while the test virtualenv pins anyio==2.2.0 for asks (the
curio backend), so the suite runs in a subprocess that sees anyio 4 first: httpx, httpcore
and anyio 4 are installed once per test session (under a file lock, in tests/_fresh.py's
shared directory, as for README's main command) with ``pip install --target`` into a folder
that ``PYTHONPATH`` puts ahead of this environment's site-packages. ``import anyio`` is
anyio 4 there, and everything else (aiogoogle, pytest, aiohttp, trustme, hypothesis, ...)
is this environment's, installed once; nothing in the selection imports asks. No second
virtualenv is made (creating one with its own pip cost about 6 s of CPU more than the
install itself).

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


def httpx_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding httpx, httpcore and anyio 4 (installed once per session)."""
    shared = shared_dir(tmp_path_factory, "httpx-packages")
    target, done, failed = shared / "site", shared / "ready", shared / "failed"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists() and not failed.exists():
            step = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "--target", str(target),
                    *PACKAGES]
            result = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
            if result.returncode != 0:
                failed.write_text(f"{step!r} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
            else:
                done.write_text("ok")
    if failed.exists():
        pytest.fail(failed.read_text())
    return target


def anyio4_env(packages: Path) -> dict[str, str]:
    """This environment with ``packages`` first on ``sys.path`` (and no xdist worker)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS", "PYTHONPATH")}
    env["PYTHONPATH"] = str(packages)
    return env


def test_the_httpx_session_passes_the_contract_suite(tmp_path_factory: pytest.TempPathFactory) -> None:
    env = anyio4_env(httpx_packages(tmp_path_factory))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "-p", "aiogoogle.testing.contract",
         f"--aiogoogle-backend={BACKEND}", *SELECTION],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    # The suite really ran on httpx with anyio 4, not on another backend.
    versions = subprocess.run([sys.executable, "-c", "import anyio, httpx, importlib.metadata as m; print(m.version('anyio'), anyio.__file__)"],
                              env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert int(versions.split(".")[0]) >= 4 and versions.split()[1].startswith(str(env["PYTHONPATH"])), versions
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
