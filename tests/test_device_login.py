"""``aiogoogle auth login --device``: the RFC 8628 device flow from the command line, against
the local server's device endpoints (the "other device" is a plain HTTP GET of the
verification URL with the code, which the local provider takes as the user's approval)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiogoogle.testing import LocalGoogleServer
from aiogoogle.testing._auth_doubles import keyless_state


@pytest.fixture
def server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as srv:
        keyless_state(srv).device_interval = 1
        yield srv


def cli_env(server: LocalGoogleServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AIOGOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "PYTEST_ADDOPTS", "GCE_METADATA_HOST")}
    env.update({"AIOGOOGLE_ROOT_URL": server.url, "AIOGOOGLE_CACHE_DIR": str(tmp_path / "cache"), "CLOUDSDK_CONFIG": str(tmp_path / "no-gcloud")})
    return env


def login(server: LocalGoogleServer, tmp_path: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aiogoogle", "auth", "login", "--device", "--client-id", "test-client", "--client-secret", "test-secret",
         "--scopes", "openid,email", "--out", str(out)],
        env=cli_env(server, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def read_prompt(proc: subprocess.Popen[str]) -> tuple[str, str]:
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        match = re.search(r"visit (\S+) and enter the code (\S+) ", line)
        if match:
            return match.group(1), match.group(2)
    raise AssertionError("".join(seen))


def test_device_login_saves_private_credentials(server: LocalGoogleServer, tmp_path: Path) -> None:
    out = tmp_path / "user.json"
    proc = login(server, tmp_path, out)
    try:
        url, code = read_prompt(proc)
        assert url == server.url + "device"
        with urllib.request.urlopen(f"{url}?user_code={code}", timeout=10) as page:
            assert b"Approved" in page.read()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    saved = json.loads(out.read_text())
    assert saved["refresh_token"] and saved["access_token"] and saved["client_id"] == "test-client"
    assert json.loads(stdout)["refreshable"] is True
    for secret in (saved["access_token"], saved["refresh_token"], "test-secret"):
        assert secret not in stdout + stderr


def test_a_denied_device_login_fails_cleanly(server: LocalGoogleServer, tmp_path: Path) -> None:
    out = tmp_path / "user.json"
    proc = login(server, tmp_path, out)
    try:
        _url, code = read_prompt(proc)
        keyless_state(server).deny(code)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and "the user denied access" in stderr and "Traceback" not in stderr
    assert not out.exists()
