"""Docs that run: every script in ``examples/`` and every ``.. code-block:: python`` block of
README.rst is executed, as a user would run it (a subprocess), against the local server.

The examples point at Google unless ``AIOGOOGLE_ROOT_URL`` is set (``examples/_where.py``),
so here they run against :class:`~aiogoogle.testing.LocalGoogleServer` with credentials the
server issued. Each check looks at both what the example printed and what the server
received (paths, parameters, credentials). An example that names a framework (curio, trio)
runs on it.

README.rst convention: every ``.. code-block:: python`` block runs as a script (with the
environment below, in a scratch directory); a block preceded by the comment
``.. fragment`` is only compiled (for snippets that are not whole programs). Every
``.. code-block:: console`` block's ``$ aiogoogle ...`` lines run too, in order, each
expected to exit 0 (a file named by ``--upload`` is created first with random bytes). Blocks get
``AIOGOOGLE_ROOT_URL`` (the server), ``AIOGOOGLE_API_KEY``, ``AIOGOOGLE_USER_CREDS`` (a user
credentials file) and ``GOOGLE_APPLICATION_CREDENTIALS`` (a service account key), and the
server holds the data the examples use (Drive files, calendar events, contacts, a bucket).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiogoogle.testing import LocalGoogleServer, Reply

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
README = ROOT / "README.rst"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as srv:
        yield srv


class World:
    """The server, reset and filled with the examples' data, and the credentials files."""

    def __init__(self, server: LocalGoogleServer, tmp: Path) -> None:
        from aiogoogle.testing._server_auth import auth_state, service_account_key

        self.server = server
        self.tmp = tmp
        server.reset()
        state = auth_state(server)
        self.access_token = state.issue_access_token(scopes=["https://www.googleapis.com/auth/drive"])
        creds = {
            "access_token": self.access_token,
            "refresh_token": state.issue_refresh_token(),
            "client_id": "test-client",
            "client_secret": "test-secret",
            "token_uri": server.url + "token",
        }
        self.user_file = tmp / "user-creds.json"
        self.user_file.write_text(json.dumps(creds))
        self.sa_key = service_account_key(server)
        self.sa_file = tmp / "sa.json"
        self.sa_file.write_text(json.dumps(self.sa_key))
        self.api_key = "AIza-test-key"
        self.files = [{"id": f"f{i}", "name": name, "kind": "drive#file"} for i, name in enumerate(["report.pdf", "notes.txt", "photo.jpg"])]
        server.add_collection("/drive/v3/files", self.files, items_field="files", kind="drive#fileList")
        self.events = [{"id": f"e{i}", "summary": f"Meeting {i}", "start": {"dateTime": f"2026-01-0{i + 1}T10:00:00Z"}} for i in range(4)]
        server.add_collection("/calendar/v3/calendars/primary/events", self.events, kind="calendar#events")
        self.contacts = [
            {"resourceName": f"people/c{i}", "names": [{"displayName": f"Person {i}"}], "phoneNumbers": [{"value": f"+1 555 01{i:02d}"}]}
            for i in range(23)
        ]
        server.add_collection("/v1/people/me/connections", self.contacts, id_field="resourceName", items_field="connections", page_size=10)
        self.objects = [{"name": f"logs/{i}.txt", "size": str(100 + i), "bucket": "my-bucket"} for i in range(5)]
        server.add_collection("/storage/v1/b/my-bucket/o", self.objects, id_field="name", page_size=2, kind="storage#objects")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOGOOGLE_", "GOOGLE_", "PYTEST_"))}
        env.update({
            "AIOGOOGLE_ROOT_URL": self.server.url,
            "AIOGOOGLE_USER_CREDS": str(self.user_file),
            "AIOGOOGLE_API_KEY": self.api_key,
            "GOOGLE_APPLICATION_CREDENTIALS": str(self.sa_file),
            "AIOGOOGLE_CACHE_DIR": str(self.tmp / "cache"),
            "CLOUDSDK_CONFIG": str(self.tmp / "no-gcloud"),
        })
        return env

    def run(self, script: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, str(script), *args], env=self.env(), cwd=cwd or self.tmp, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr
        return result

    def api_requests(self, prefix: str) -> list[Any]:
        return [r for r in self.server.log if r.path.startswith(prefix)]

    def assert_user_auth(self, prefix: str) -> None:
        calls = self.api_requests(prefix)
        assert calls, f"no request to {prefix}"
        assert {r.headers.get("authorization") for r in calls} == {f"Bearer {self.access_token}"}


@pytest.fixture
def world(server: LocalGoogleServer, tmp_path: Path) -> World:
    return World(server, tmp_path)


def _adapter(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not in this tree yet")


# ---------------------------------------------------------------------------- examples/


def test_every_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    tested = {name for name in re.findall(r'EXAMPLES / "([a-z][a-z_]*\.py)"', Path(__file__).read_text())}
    assert scripts == tested


def test_list_drive_files(world: World) -> None:
    result = world.run(EXAMPLES / "list_drive_files.py")
    assert result.stdout.splitlines() == ["report.pdf", "notes.txt", "photo.jpg"]
    world.assert_user_auth("/drive/v3/files")


def test_download_drive_file(world: World) -> None:
    from aiogoogle.testing._server_media import media_state

    data = os.urandom(200_000)
    media_state(world.server).put("/drive/v3/files/abc123", data)
    dest = world.tmp / "my_file.zip"
    world.run(EXAMPLES / "download_drive_file.py", "abc123", str(dest))
    assert dest.read_bytes() == data
    [get] = [r for r in world.server.log if r.path.endswith("/drive/v3/files/abc123")]
    assert get.param("alt") == "media"
    assert get.headers["authorization"] == f"Bearer {world.access_token}"


def test_upload_drive_file(world: World) -> None:
    from aiogoogle.testing._server_media import media_state

    data = os.urandom(150_000)
    src = world.tmp / "my_cool_gif.gif"
    src.write_bytes(data)
    result = world.run(EXAMPLES / "upload_drive_file.py", str(src))
    file_id = result.stdout.strip()
    [up] = world.api_requests("/upload/drive/v3/files")
    assert up.headers["authorization"] == f"Bearer {world.access_token}"
    assert up.headers["content-type"] == "image/gif"
    stored = [o for k, o in media_state(world.server).objects.items() if k.startswith("/drive/v3/files/")]
    assert len(stored) == 1 and stored[0].resource["id"].endswith(file_id)
    assert Path(stored[0].path).read_bytes() == data


def test_list_contacts_with_pagination(world: World) -> None:
    result = world.run(EXAMPLES / "list_contacts.py")
    lines = result.stdout.splitlines()
    assert lines[0::2] == [repr(c["names"]) for c in world.contacts]
    assert lines[1::2] == [repr(c["phoneNumbers"]) for c in world.contacts]
    pages = world.api_requests("/v1/people/me/connections")
    assert len(pages) == 3
    assert all(p.param("personFields") == "names,phoneNumbers" for p in pages)
    assert pages[0].param("pageToken") is None and all(p.param("pageToken") for p in pages[1:])
    world.assert_user_auth("/v1/people/me/connections")


@pytest.mark.parametrize(("script", "adapter"), [
    ("list_calendar_events.py", "aiogoogle.sessions.aiohttp_session"),
    ("list_calendar_events_curio.py", "aiogoogle.sessions.curio_asks_session"),
    ("list_calendar_events_trio.py", "aiogoogle.sessions.trio_asks_session"),
])
def test_list_calendar_events(world: World, script: str, adapter: str) -> None:
    _adapter(adapter)
    result = world.run(EXAMPLES / script)
    for event in world.events:
        assert f"'summary': '{event['summary']}'" in result.stdout
    assert "'kind': 'calendar#events'" in result.stdout
    world.assert_user_auth("/calendar/v3/calendars/primary/events")


# The parametrized names above, for test_every_example_is_tested:
# EXAMPLES / "list_calendar_events.py", EXAMPLES / "list_calendar_events_curio.py", EXAMPLES / "list_calendar_events_trio.py"


def test_translate_with_an_api_key(world: World) -> None:
    world.server.expect("GET", "/language/translate/v2", Reply(json={"data": {"translations": [
        {"translatedText": "Bonjour", "detectedSourceLanguage": "en"},
        {"translatedText": "le monde", "detectedSourceLanguage": "en"},
    ]}}))
    result = world.run(EXAMPLES / "translate_text.py", "fr", "Hello", "the world")
    assert result.stdout.splitlines()[:2] == ["Bonjour", "le monde"]
    [call] = world.api_requests("/language/translate/v2")
    assert call.query["q"] == ["Hello", "the world"] and call.param("target") == "fr"
    assert call.param("key") == world.api_key and "authorization" not in call.headers


def test_storage_with_a_service_account(world: World) -> None:
    from aiogoogle.testing._server_auth import JWT_BEARER, auth_state

    result = world.run(EXAMPLES / "storage_service_account.py", "my-bucket")
    assert result.stdout.splitlines() == [f"{o['name']} {o['size']}" for o in world.objects]
    state = auth_state(world.server)
    assert state.token_requests == [JWT_BEARER]
    pages = world.api_requests("/storage/v1/b/my-bucket/o")
    assert len(pages) == 3
    tokens = {r.headers["authorization"].removeprefix("Bearer ") for r in pages}
    assert len(tokens) == 1
    grant = state.live(tokens.pop())
    assert grant is not None and grant.client_id == world.sa_key["client_email"]
    assert grant.scopes == ["https://www.googleapis.com/auth/devstorage.read_only"]


def test_examples_point_at_google_without_the_variable() -> None:
    """Unset, the examples' only addition changes nothing: Google's own endpoints."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("_where_check", EXAMPLES / "_where.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        saved = os.environ.pop("AIOGOOGLE_ROOT_URL", None)
        try:
            assert module.endpoints() == {}
        finally:
            if saved is not None:
                os.environ["AIOGOOGLE_ROOT_URL"] = saved
    finally:
        sys.path.remove(str(EXAMPLES))


# ---------------------------------------------------------------------------- README.rst


def readme_blocks(language: str = "python") -> list[tuple[int, str, bool]]:
    """``(line, code, runnable)`` for every ``.. code-block:: <language>`` block."""
    lines = README.read_text(encoding="utf-8").splitlines() if README.exists() else []
    blocks = []
    i = 0
    while i < len(lines):
        if re.match(rf"^\.\. code-block:: {language}3?\s*$", lines[i]):
            start = i
            # A ".. fragment" comment among the lines just before marks a compile-only block.
            before = [ln.strip() for ln in lines[max(0, i - 3):i]]
            runnable = ".. fragment" not in before
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith(":")):
                if lines[i].strip():
                    i += 1
                    continue
                i += 1
                break
            body: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                body.append(lines[i])
                i += 1
            code = "\n".join(body)
            indent = min((len(ln) - len(ln.lstrip()) for ln in body if ln.strip()), default=0)
            code = "\n".join(ln[indent:] for ln in body).strip("\n") + "\n"
            blocks.append((start + 1, code, runnable))
        else:
            i += 1
    return blocks


_BLOCKS = readme_blocks()


@pytest.mark.parametrize(("line", "code", "runnable"), _BLOCKS, ids=[f"README.rst:{b[0]}" for b in _BLOCKS])
def test_readme_code_block(world: World, line: int, code: str, runnable: bool) -> None:
    compile(code, f"README.rst:{line}", "exec")
    if not runnable:
        return
    script = world.tmp / f"readme_{line}.py"
    script.write_text(code, encoding="utf-8")
    world.run(script)


_CONSOLE = readme_blocks("console")
_SESSION_MODULES = {"curio": "aiogoogle.sessions.curio_asks_session", "trio": "aiogoogle.sessions.trio_session"}


@pytest.mark.parametrize(("line", "code"), [b[:2] for b in _CONSOLE], ids=[f"README.rst:{b[0]}" for b in _CONSOLE])
def test_readme_console_block(world: World, line: int, code: str) -> None:
    import shlex

    commands = [ln[2:] for ln in code.splitlines() if ln.startswith("$ ")]
    assert commands, f"README.rst:{line}: a console block without '$ ' commands"
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "aiogoogle", f"README.rst:{line}: only aiogoogle commands run here: {command}"
        if "--backend" in argv:
            module = _SESSION_MODULES.get(argv[argv.index("--backend") + 1])
            if module is not None and importlib.util.find_spec(module) is None:
                pytest.skip(f"{module} is not in this tree yet")
        if "--upload" in argv:
            target = world.tmp / argv[argv.index("--upload") + 1]
            if not target.exists():
                target.write_bytes(os.urandom(300_000))
        result = subprocess.run([sys.executable, "-m", "aiogoogle", *argv[1:]], env=world.env(), cwd=world.tmp,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, f"README.rst:{line}: {command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr


def test_readme_blocks_are_found() -> None:
    """The extractor itself: a python block, a fragment and a literal block."""
    sample = "Intro\n\n.. code-block:: python\n\n    print(1)\n    if True:\n\n        print(2)\n\nText\n\n.. fragment\n\n.. code-block:: python\n\n    x = (\n\nDone::\n\n    not python\n"
    global README
    saved = README
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"readme-probe-{os.getpid()}.rst"
    tmp.write_text(sample)
    README = tmp
    try:
        blocks = readme_blocks()
    finally:
        README = saved
        tmp.unlink()
    assert blocks == [(3, "print(1)\nif True:\n\n    print(2)\n", True), (14, "x = (\n", False)]
