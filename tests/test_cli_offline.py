"""The command line without the network: ``--offline`` documents, the fallback when Google's
Discovery service cannot be reached, and KEY=VALUE arguments named like library options."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from aiogoogle.cli import main
from aiogoogle.cli._common import Settings, discover_api
from aiogoogle.excs import ConnectError


@pytest.fixture(autouse=True)
def _no_google(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Nothing here may reach the network: no root URL means Google's, so every test uses
    # --offline or a client that fails before sending.
    for name in ("AIOGOOGLE_ROOT_URL", "AIOGOOGLE_DISCOVERY_URL", "AIOGOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIOGOOGLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "100")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_dry_run_offline_uses_the_shipped_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "call", "storage", "v1", "objects.list", "--offline", "--dry-run", "bucket=b", "prefix=a/")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["method"] == "GET" and shown["url"] == "https://storage.googleapis.com/storage/v1/b/b/o?prefix=a%2F"


def test_describe_offline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "describe", "drive", "v3", "files.list", "--offline")
    assert code == 0, err
    assert out.startswith("drive.files.list  GET files")


def test_offline_without_a_copy_names_what_is_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "describe", "nosuchapi", "v9", "--offline")
    assert code != 0
    assert "no discovery document for nosuchapi v9 is available offline; shipped:" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argument", "line"),
    [
        ('body={"name":"x"}', 'body={"name":"x"}: unknown parameter for storage.objects.list; the request body goes in --json'),
        ('json={"name":"x"}', "json={\"name\":\"x\"}: storage.objects.list has no API parameter 'json'; the request body goes in --json"),
        ("timeout=3", "timeout=3: storage.objects.list has no API parameter 'timeout'"),
        ("validate=false", "validate=false: storage.objects.list has no API parameter 'validate'"),
        ("media_body=x", "media_body=x: unknown parameter for storage.objects.list; uploads go in --upload"),
    ],
)
def test_key_value_arguments_never_become_library_options(capsys: pytest.CaptureFixture[str], argument: str, line: str) -> None:
    # json=... once reached the call as a second json keyword: an internal TypeError.
    code, out, err = run_cli(capsys, "call", "storage", "v1", "objects.list", "--offline", "--dry-run", "bucket=b", argument)
    assert code == 2 and out == ""
    assert line in err and "internal error" not in err and "json=..." not in err


class _Unreachable:
    async def discover(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectError("cannot connect: Name or service not known")


def test_unreachable_discovery_service_falls_back_to_the_offline_copy(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.from_args(_args(), environ={})
    api = asyncio.run(discover_api(_Unreachable(), settings, "storage", "v1"))
    assert api["name"] == "storage"
    assert "cannot reach Google's Discovery service" in capsys.readouterr().err


def test_a_named_server_is_never_replaced_by_the_offline_copy() -> None:
    settings = Settings.from_args(_args(root_url="http://127.0.0.1:9/"), environ={})
    with pytest.raises(ConnectError):
        asyncio.run(discover_api(_Unreachable(), settings, "storage", "v1"))


def _args(**values: Any) -> Any:
    import argparse

    return argparse.Namespace(**values)
