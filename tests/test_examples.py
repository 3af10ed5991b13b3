"""Docs that run: every script in ``examples/`` and every code block of README.rst is
executed, as a user would run it (a subprocess).

The examples point at Google unless ``AIOGOOGLE_ROOT_URL`` is set (``examples/_where.py``);
here they run against ``aiogoogle serve`` (the real entry point, a subprocess), with the
environment of the ``env.sh`` it writes and nothing else: the root URL and credentials the
server issued. The fake Google keeps state and checks credentials, so an example only
prints the data when it sent the right requests with the right credentials; the data is
put there first with ``aiogoogle call``, as README's Examples section does (run in this
process, ``Served.cli``: the examples are what these tests check). An example
that names a framework (curio, trio) runs on it.

README.rst convention: every ``.. code-block:: python`` block runs as a script (in a
scratch directory, with a private discovery cache); a block preceded by the comment
``.. fragment`` is only compiled (for snippets that are not whole programs). Every
``.. code-block:: console`` block runs too, line by line, against a fresh ``aiogoogle
serve``: ``$ aiogoogle ...`` and ``$ python examples/...`` lines, each expected to exit 0
(a file named by ``--upload`` is created first with random bytes).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served import EXAMPLES, Served

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.rst"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One ``aiogoogle serve`` for the examples of this module (each test uses its own data)."""
    server = Served(tmp_path_factory.mktemp("served"))
    try:
        yield server
    finally:
        server.stop()


def _adapter(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not in this tree yet")


# ---------------------------------------------------------------------------- examples/


#: Examples that are adapters (a session class, not a script): each is proven by the contract
#: suite in a test of its own, and README's table gives the command that runs that suite.
ADAPTERS = {"httpx_anyio_session.py": "tests/test_httpx_example.py"}


def test_every_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_") and p.name not in ADAPTERS}
    assert all((ROOT / test).exists() for test in ADAPTERS.values())
    tested = set(re.findall(r'example\(\s*"([a-z][a-z_]*\.py)"', Path(__file__).read_text()))
    assert scripts == tested


def test_every_example_is_in_the_readme() -> None:
    """README's Examples section lists each script and runs each against ``serve``."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\nExamples\n--------\n"):]
    for script in sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")):
        assert f"``{script}" in section, f"README's Examples table lacks {script}"
        if script in ADAPTERS:
            module = "examples." + script.removesuffix(".py")
            assert f"--aiogoogle-backend={module}:" in section, f"README's Examples section does not show how to run the contract suite on {script}"
        else:
            assert f"$ python examples/{script}" in section, f"README's Examples section does not run {script}"


def test_storage_with_a_service_account(served: Served) -> None:
    served.cli("call", "storage", "v1", "buckets.insert", "project=p", "--json", '{"name": "sa-bucket"}')
    sizes = {}
    for i in range(5):
        name = f"logs/{i}.txt"
        sizes[name] = 100 + i
        upload = urllib.request.Request(f"{served.url}upload/storage/v1/b/sa-bucket/o?uploadType=media&name={name}"
                                        f"&key={served.exports['AIOGOOGLE_API_KEY']}", data=os.urandom(100 + i), method="POST")
        urllib.request.urlopen(upload, timeout=30).close()
    result = served.example("storage_service_account.py", "sa-bucket")
    assert result.stdout.splitlines() == [f"{name} {size}" for name, size in sizes.items()]
    # The example's credentials are a service account's: a wrong key gets no token.
    bad = json.loads((served.creds_dir / "service-account.json").read_text())
    bad["client_email"] = "stranger@test-project.iam.gserviceaccount.com"
    (served.workdir / "stranger.json").write_text(json.dumps(bad))
    refused = subprocess.run([sys.executable, str(EXAMPLES / "storage_service_account.py"), "sa-bucket"],
                             env=served.env(GOOGLE_APPLICATION_CREDENTIALS=str(served.workdir / "stranger.json")),
                             capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode != 0 and "Invalid JWT Signature" in refused.stderr


def test_drive_files(served: Served) -> None:
    data = os.urandom(200_000)
    (served.workdir / "report.pdf").write_bytes(data)
    served.cli("call", "drive", "v3", "files.create", "--json", '{"id": "report-1", "name": "report.pdf"}',
               "--upload", "report.pdf")
    served.api("POST", "drive/v3/files", {"name": "notes.txt", "mimeType": "text/plain"})
    listed = served.example("list_drive_files.py").stdout.splitlines()
    assert {"report.pdf", "notes.txt"} <= set(listed)
    copy = served.workdir / "copy.pdf"
    served.example("download_drive_file.py", "report-1", str(copy))
    assert copy.read_bytes() == data
    upload = served.workdir / "my_cool_gif.gif"
    upload.write_bytes(b"GIF89a" + os.urandom(150_000))
    file_id = served.example("upload_drive_file.py", str(upload)).stdout.strip()
    got = json.loads(served.cli("call", "drive", "v3", "files.get", f"fileId={file_id}", "fields=id,name,mimeType,size").stdout)
    assert got == {"id": file_id, "name": "Untitled", "mimeType": "image/gif", "size": str(upload.stat().st_size)}
    again = served.workdir / "again.gif"
    served.example("download_drive_file.py", file_id, str(again))
    assert again.read_bytes() == upload.read_bytes()
    assert "Untitled" in served.example("list_drive_files.py").stdout.splitlines()


@pytest.fixture(scope="module")
def events(served: Served) -> list[str]:
    summaries = [f"Meeting {i}" for i in range(4)]
    for i, summary in enumerate(summaries):
        body = {"summary": summary, "start": {"dateTime": f"2026-01-0{i + 1}T10:00:00Z"}, "end": {"dateTime": f"2026-01-0{i + 1}T11:00:00Z"}}
        served.api("POST", "calendar/v3/calendars/primary/events", body)
    return summaries


@pytest.mark.parametrize(("script", "adapter"), [
    ("list_calendar_events.py", "aiogoogle.sessions.aiohttp_session"),
    ("list_calendar_events_curio.py", "aiogoogle.sessions.curio_asks_session"),
    ("list_calendar_events_trio.py", "aiogoogle.sessions.trio_asks_session"),
])
def test_list_calendar_events(served: Served, events: list[str], script: str, adapter: str) -> None:
    _adapter(adapter)
    result = served.example(script)
    for summary in events:
        assert f"'summary': '{summary}'" in result.stdout
    assert "'kind': 'calendar#events'" in result.stdout


# The parametrized names above, for test_every_example_is_tested:
# example("list_calendar_events.py"), example("list_calendar_events_curio.py"), example("list_calendar_events_trio.py")


def test_list_contacts(served: Served) -> None:
    people = [(f"Person {i}", f"+1 555 01{i:02d}") for i in range(23)]
    for name, phone in people:
        body = {"names": [{"displayName": name, "givenName": name}], "phoneNumbers": [{"value": phone}], "emailAddresses": [{"value": "x@example.com"}]}
        served.api("POST", "v1/people:createContact", body)
    lines = served.example("list_contacts.py").stdout.splitlines()
    # personFields=names,phoneNumbers: the e-mail addresses are not sent back.
    assert lines[0::2] == [repr([{"displayName": name, "givenName": name}]) for name, _ in people]
    assert lines[1::2] == [repr([{"value": phone}]) for _, phone in people]


def test_translate_with_an_api_key(served: Served) -> None:
    result = served.example("translate_text.py", "fr", "Hello", "the world")
    assert result.stdout.splitlines()[:2] == ["[fr] Hello", "[fr] the world"]
    assert "'detectedSourceLanguage': 'en'" in result.stdout


def test_sync_embedding_on_urllib3(served: Served) -> None:
    # README "Embedding the core": the core driven by run_sync over urllib3, public names only.
    result = served.example("sync_embedding.py", "fr", "Hello", "the world")
    assert result.stdout.splitlines() == ["[fr] Hello", "[fr] the world"]


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


def run_python_block(code: str, line: int, workdir: Path, python: str = sys.executable,
                     env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run one README block as a script in ``workdir``: exit 0 and no traceback."""
    script = workdir / f"readme_{line}.py"
    script.write_text(code, encoding="utf-8")
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIOGOOGLE_", "GOOGLE_", "PYTEST_"))}
        env.update(AIOGOOGLE_CACHE_DIR=str(workdir / "cache"), CLOUDSDK_CONFIG=str(workdir / "no-gcloud"))
    result = subprocess.run([python, str(script)], env=env, cwd=workdir, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"README.rst:{line} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr
    return result


@pytest.mark.parametrize(("line", "code", "runnable"), _BLOCKS, ids=[f"README.rst:{b[0]}" for b in _BLOCKS])
def test_readme_code_block(tmp_path: Path, line: int, code: str, runnable: bool) -> None:
    compile(code, f"README.rst:{line}", "exec")
    if runnable:
        run_python_block(code, line, tmp_path)


_CONSOLE = readme_blocks("console")
_SESSION_MODULES = {"curio": "aiogoogle.sessions.curio_asks_session", "trio": "aiogoogle.sessions.trio_session"}


def run_aiogoogle_in_process(served: Served, argv: list[str], monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """``aiogoogle ARGV`` through ``aiogoogle.cli.main``, in the server's environment and
    work directory (what the console script runs, without a new interpreter each time)."""
    from aiogoogle.cli import main

    with monkeypatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("AIOGOOGLE_", "GOOGLE_", "GCE_")):
                patch.delenv(name)
        for name, value in served.env().items():
            if name.startswith(("AIOGOOGLE_", "GOOGLE_", "CLOUDSDK_")):
                patch.setenv(name, value)
        patch.chdir(served.workdir)
        code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, f"aiogoogle {shlex.join(argv)}:\n{out[-2000:]}\n{err[-2000:]}"
    assert "Traceback" not in err


@pytest.mark.parametrize(("line", "code"), [b[:2] for b in _CONSOLE], ids=[f"README.rst:{b[0]}" for b in _CONSOLE])
def test_readme_console_block(tmp_path: Path, line: int, code: str, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    commands = [ln[2:] for ln in code.splitlines() if ln.startswith("$ ")]
    assert commands, f"README.rst:{line}: a console block without '$ ' commands"
    served = Served(tmp_path)
    try:
        for command in commands:
            argv = shlex.split(command)
            if argv[0] == "python":
                assert argv[1].startswith("examples/"), f"README.rst:{line}: only examples/ scripts run here: {command}"
                served.example(argv[1].removeprefix("examples/"), *argv[2:])
                continue
            assert argv[0] == "aiogoogle", f"README.rst:{line}: only aiogoogle and examples/ commands run here: {command}"
            if "--backend" in argv:
                module = _SESSION_MODULES.get(argv[argv.index("--backend") + 1])
                if module is not None and importlib.util.find_spec(module) is None:
                    pytest.skip(f"{module} is not in this tree yet")
            if "--upload" in argv:
                target = tmp_path / argv[argv.index("--upload") + 1]
                if not target.exists():
                    target.write_bytes(os.urandom(300_000))
            run_aiogoogle_in_process(served, argv[1:], monkeypatch, capsys)
    finally:
        served.stop()


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


def test_readme_embedding_block_is_the_example_the_tests_run() -> None:
    """README's "Embedding the core" shows examples/sync_embedding.py as it is (that file runs
    against ``serve`` in test_sync_embedding_on_urllib3), on public names only."""
    lines = README.read_text(encoding="utf-8").splitlines()
    section = lines.index("Embedding the core") + 1
    example = (EXAMPLES / "sync_embedding.py").read_text(encoding="utf-8").rstrip("\n")
    shown = [(line, code) for line, code, _ in readme_blocks() if "def send(request):" in code]
    assert shown and shown[0][1].rstrip("\n") == example and shown[0][0] > section
    assert len(example.splitlines()) <= 60
    assert not re.search(r"aiogoogle(\.\w+)*\._", example) and "from aiogoogle._" not in example
