"""The contract suite as a pytest plugin (aiogoogle.testing.contract), used the way an
adapter author uses it: an adapter in a module of its own, named on the command line
(which registers it in the backend table), and the suite run against it. A correct adapter
passes; one that drops a header it was given fails the same suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ADAPTER = '''
"""An adapter of another package: the blocking session, sending through a counter."""

from dataclasses import replace

from aiogoogle.sync.session import SyncSession

SENT = []


class FakeSession(SyncSession):
    async def send(self, request):
        SENT.append(request.method)
        return await super().send(request)


class BrokenSession(SyncSession):
    """Loses the Authorization header: the suite must notice."""

    async def send(self, request):
        headers = tuple(h for h in request.headers if h[0].lower() != "authorization")
        return await super().send(replace(request, headers=headers))
'''

SELECTION = ["tests/contract/test_auth.py::test_a_401_refreshes_once_and_retries", "tests/contract/test_auth.py::test_100_concurrent_calls_with_an_expired_token_make_one_token_request", "tests/contract/test_client.py::test_discover_by_v1_url_and_preferred_version", "tests/contract/test_transport.py"]


def run_suite(tmp_path: Path, backend: str, selection: list[str] = SELECTION) -> subprocess.CompletedProcess[str]:
    (tmp_path / "fake_adapter.py").write_text(textwrap.dedent(ADAPTER), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "aiogoogle.testing.contract", f"--aiogoogle-backend={backend}", *selection],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


@pytest.mark.parametrize(("backend", "passes"), [("fake_adapter:FakeSession@sync", True), ("fake_adapter:BrokenSession@sync", False)])
def test_an_adapter_runs_the_contract_suite_through_the_plugin(tmp_path: Path, backend: str, passes: bool) -> None:
    result = run_suite(tmp_path, backend, SELECTION if passes else SELECTION[:2])
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    if passes:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert " passed" in summary and "failed" not in summary
    else:
        assert result.returncode == 1 and "failed" in summary, summary
        assert "test_a_401_refreshes_once_and_retries" in result.stdout
    # Every test ran on the named adapter and on no other backend.
    assert f"[{backend}]" in result.stdout
    assert "[asyncio]" not in result.stdout and "[trio]" not in result.stdout


def test_an_unknown_backend_is_refused_naming_the_choices(tmp_path: Path) -> None:
    result = run_suite(tmp_path, "twisted", SELECTION[:1])
    assert result.returncode != 0
    assert "unknown backend 'twisted'" in result.stdout + result.stderr
