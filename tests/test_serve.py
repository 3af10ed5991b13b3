"""``aiogoogle serve`` as another program's fake Google, and the command line's habits, through
the real entry points: ``aiogoogle serve`` in a subprocess, and against it ``python -m
aiogoogle`` subprocesses wherever the entry point itself is under test (exit statuses, the one
line on stderr, signals, resource limits, shadowed imports). Commands whose check is what they
do (the state they leave, what they print) run through ``aiogoogle.cli.main`` in this process
(``Served.cli``: same argv, environment and work directory), since a new interpreter per
command costs about 0.5 s of CPU and these tests run dozens of commands.

* State across calls: what one command stores, the next one lists, gets, downloads,
  patches and deletes; the credentials ``serve`` writes are the ones it accepts, also
  after a restart.
* Options in any order: ``KEY=VALUE`` parameters anywhere among the options.
* Bad input: one clear line on stderr, a non-zero exit, no traceback, no partial file
  (``--download`` onto a directory, into a folder that cannot be written, onto a full
  disk, on a method without media; ``--anon`` with ``--creds``; unknown options).
* Retries are announced with their reason and wait; ``apis`` says when it lists the cache;
  a progress line ends before ``interrupted``; ``demo`` checks its backend before its
  banner; a client that disconnects mid-transfer leaves no traceback in ``serve``'s output.
"""

from __future__ import annotations

import json
import os
import pty
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.served import Served, read_env_sh


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = Served(tmp_path_factory.mktemp("serve"))
    try:
        yield server
    finally:
        server.stop()


def call(served: Served, *argv: str, **extra: str) -> Any:
    """``aiogoogle call ARGV`` (must succeed, run in this process); its JSON output."""
    out = served.cli("call", *argv, **extra).stdout
    return json.loads(out) if out.strip() else None


def one_line_failure(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The command failed with ``code``, saying why in exactly one line on stderr."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ---------------------------------------------------------------------------- state


def test_storage_keeps_state_across_calls(served: Served) -> None:
    assert call(served, "storage", "v1", "buckets.list", "project=state") == {"kind": "storage#buckets"}
    made = call(served, "storage", "v1", "buckets.insert", "project=state", "--json", '{"name": "state-bucket", "labels": {"a": "1"}}')
    assert made["name"] == "state-bucket" and made["labels"] == {"a": "1"}
    assert [b["name"] for b in call(served, "storage", "v1", "buckets.list", "project=state")["items"]] == ["state-bucket"]
    data = {name: os.urandom(size) for name, size in
            [("a/1.txt", 10), ("a/2.txt", 20), ("a/b/3.txt", 30), ("c.txt", 300_000), ("d.txt", 700_000)]}
    for name, payload in data.items():
        path = served.workdir / name.replace("/", "_")
        path.write_bytes(payload)
        extra = ["--resumable", "--chunk-size", "262144"] if name == "d.txt" else []
        if name == "c.txt":  # metadata and media together: a multipart upload
            extra = ["--json", '{"metadata": {"kind": "multipart"}, "contentType": "text/plain"}']
        stored = call(served, "storage", "v1", "objects.insert", "bucket=state-bucket", f"name={name}", "--upload", str(path), *extra)
        assert (stored["name"], stored["size"], stored["bucket"]) == (name, str(len(payload)), "state-bucket")
    listing = call(served, "storage", "v1", "objects.list", "bucket=state-bucket", "delimiter=/")
    assert listing["prefixes"] == ["a/"] and [o["name"] for o in listing["items"]] == ["c.txt", "d.txt"]
    assert call(served, "storage", "v1", "objects.get", "bucket=state-bucket", "object=c.txt")["metadata"] == {"kind": "multipart"}
    # Pages of two, prefix "a/": every name once, in order.
    paged = call(served, "storage", "v1", "objects.list", "bucket=state-bucket", "prefix=a/", "maxResults=2", "--all-pages")
    assert [o["name"] for o in paged] == ["a/1.txt", "a/2.txt", "a/b/3.txt"]
    patched = call(served, "storage", "v1", "objects.patch", "bucket=state-bucket", "object=a/1.txt",
                   "--json", '{"metadata": {"owner": "me"}}', "fields=name,metadata,metageneration")
    assert patched == {"name": "a/1.txt", "metadata": {"owner": "me"}, "metageneration": "2"}
    copy = served.workdir / "d.copy"
    call(served, "storage", "v1", "objects.get", "bucket=state-bucket", "object=d.txt", "--download", str(copy))
    assert copy.read_bytes() == data["d.txt"]
    # A precondition that does not hold: 412, nothing deleted.
    stale = served.aiogoogle("call", "storage", "v1", "objects.delete", "bucket=state-bucket", "object=c.txt",
                             "ifGenerationMatch=1", check=False)
    one_line_failure(stale, 1, "412")
    assert served.aiogoogle("call", "storage", "v1", "buckets.delete", "bucket=state-bucket", check=False).returncode == 1
    for name in data:
        call(served, "storage", "v1", "objects.delete", "bucket=state-bucket", f"object={name}")
    gone = served.aiogoogle("call", "storage", "v1", "objects.get", "bucket=state-bucket", "object=a/1.txt", check=False)
    one_line_failure(gone, 1, "404", "No such object: state-bucket/a/1.txt")
    call(served, "storage", "v1", "buckets.delete", "bucket=state-bucket")
    assert call(served, "storage", "v1", "buckets.list", "project=state") == {"kind": "storage#buckets"}


def test_drive_calendar_people_and_translation_keep_state(served: Served) -> None:
    made = call(served, "drive", "v3", "files.create", "--json", '{"name": "plan.md", "mimeType": "text/markdown"}')
    assert set(made) == {"kind", "id", "name", "mimeType"}
    call(served, "drive", "v3", "files.update", f"fileId={made['id']}", "--json", '{"name": "plan-v2.md"}')
    found = call(served, "drive", "v3", "files.list", "q=name contains 'plan' and trashed = false", "fields=files(id,name)")
    assert found == {"files": [{"id": made["id"], "name": "plan-v2.md"}]}
    event = call(served, "calendar", "v3", "events.insert", "calendarId=primary", "--json",
                 '{"summary": "Review", "start": {"dateTime": "2026-03-01T10:00:00Z"}, "end": {"dateTime": "2026-03-01T11:00:00Z"}}')
    window = call(served, "calendar", "v3", "events.list", "calendarId=primary", "timeMin=2026-03-01T00:00:00Z",
                  "timeMax=2026-03-02T00:00:00Z", "fields=items(id,summary)")
    assert {"id": event["id"], "summary": "Review"} in window["items"]
    person = call(served, "people", "v1", "people.createContact", "--json", '{"names": [{"givenName": "Grace"}]}')
    listed = call(served, "people", "v1", "people.connections.list", "resourceName=people/me", "personFields=names")
    assert {"resourceName": person["resourceName"], "etag": person["etag"], "names": [{"givenName": "Grace"}]} in listed["connections"]
    missing = served.aiogoogle("call", "people", "v1", "people.connections.list", "resourceName=people/me", check=False)
    one_line_failure(missing, 1, "400", "personFields mask is required")
    said = call(served, "translate", "v2", "translations.list", "q=Bonjour", "target=en", "source=fr")
    assert said == {"data": {"translations": [{"translatedText": "[en] Bonjour"}]}}


def test_credentials_are_the_ones_it_accepts_even_after_a_restart(tmp_path: Path) -> None:
    first = Served(tmp_path)
    try:
        call(first, "storage", "v1", "buckets.list", "project=p", "--creds", str(first.creds_dir / "service-account.json"))
        call(first, "storage", "v1", "buckets.list", "project=p", "--creds", str(first.creds_dir / "user-creds.json"))
        assert call(first, "storage", "v1", "buckets.list", "project=p") == {"kind": "storage#buckets"}  # the API key
        assert os.stat(first.creds_dir / "service-account.json").st_mode & 0o077 == 0
        refused = first.aiogoogle("call", "storage", "v1", "buckets.list", "project=p", check=False, AIOGOOGLE_API_KEY="AIza-made-up")
        one_line_failure(refused, 1, "400", "API key not valid")
        anonymous = first.aiogoogle("call", "storage", "v1", "buckets.list", "project=p", "--anon", check=False)
        one_line_failure(anonymous, 1, "401")
    finally:
        first.stop()
    key = json.loads((tmp_path / "fake-google" / "service-account.json").read_text())
    user = json.loads((tmp_path / "fake-google" / "user-creds.json").read_text())
    second = Served(tmp_path)
    try:
        again = json.loads((second.creds_dir / "service-account.json").read_text())
        assert again["private_key"] == key["private_key"] and again["token_uri"] == second.url + "token"
        assert second.exports["AIOGOOGLE_API_KEY"] == first.exports["AIOGOOGLE_API_KEY"]
        assert read_env_sh(second.creds_dir / "env.sh")["AIOGOOGLE_ROOT_URL"] == second.url
        assert json.loads((second.creds_dir / "user-creds.json").read_text())["access_token"] == user["access_token"]
        call(second, "storage", "v1", "buckets.list", "project=p", "--creds", str(second.creds_dir / "user-creds.json"))
        call(second, "storage", "v1", "buckets.list", "project=p")
    finally:
        second.stop()


# ---------------------------------------------------------------------------- habits


@pytest.mark.parametrize("order", [
    ["objects.list", "bucket=b", "prefix=x/", "--dry-run", "--format", "json"],
    ["objects.list", "--dry-run", "bucket=b", "prefix=x/"],
    ["objects.list", "--dry-run", "bucket=b", "--format", "json", "prefix=x/"],
    ["--dry-run", "objects.list", "bucket=b", "--no-validate", "prefix=x/"],
])
def test_key_value_parameters_go_anywhere_among_the_options(served: Served, order: list[str]) -> None:
    plan = call(served, "storage", "v1", *order)
    assert plan["method"] == "GET" and plan["url"] == f"{served.url}storage/v1/b/b/o?prefix=x%2F"


def test_a_download_onto_a_directory_is_refused_before_anything_is_sent(served: Served) -> None:
    target = served.workdir / "a-folder"
    target.mkdir()
    result = served.aiogoogle("call", "storage", "v1", "objects.get", "bucket=nowhere", "object=x", "--download", str(target),
                              check=False)
    one_line_failure(result, 2, f"--download: {target} is a directory")
    assert list(target.iterdir()) == []


@pytest.fixture(scope="module")
def big_object(served: Served) -> bytes:
    data = os.urandom(3 << 20)
    served.api("POST", "storage/v1/b", {"name": "files-bucket"}, project="p")
    req = urllib.request.Request(
        f"{served.url}upload/storage/v1/b/files-bucket/o?uploadType=media&name=big.bin&key={served.exports['AIOGOOGLE_API_KEY']}",
        data=data, method="POST")
    urllib.request.urlopen(req, timeout=60).close()
    return data


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot create files in. root may write anywhere a mode bit
    forbids, so for root it is sysfs, where nobody can create a file (EACCES)."""
    if os.geteuid() != 0:
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        readonly.chmod(0o555)
        yield readonly
        readonly.chmod(0o755)
        return
    try:
        open("/sys/aiogoogle-probe", "wb").close()
    except PermissionError:
        yield Path("/sys")
    else:  # pragma: no cover - not Linux's sysfs
        os.remove("/sys/aiogoogle-probe")
        pytest.skip("running as root without a folder root cannot write to")


def test_a_download_into_a_folder_that_cannot_be_written(served: Served, big_object: bytes, unwritable_dir: Path) -> None:
    target = unwritable_dir / "aiogoogle-big.bin"
    before = set(os.listdir(unwritable_dir))
    result = served.aiogoogle("call", "storage", "v1", "objects.get", "bucket=files-bucket", "object=big.bin", "--download",
                              str(target), check=False)
    line = one_line_failure(result, 1, str(target), "Permission denied")
    assert line.startswith("aiogoogle: error: ")
    assert set(os.listdir(unwritable_dir)) == before, "no partial file"


def test_a_download_onto_a_full_disk(served: Served, big_object: bytes, tmp_path: Path) -> None:
    def small_disk() -> None:
        # Writes past 1 MiB fail with EFBIG, as on a full disk (SIGXFSZ would kill instead).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    target = tmp_path / "out" / "big.bin"
    target.parent.mkdir()
    argv = [sys.executable, "-m", "aiogoogle", "call", "storage", "v1", "objects.get", "bucket=files-bucket", "object=big.bin",
            "--download", str(target), "--no-cache"]
    result = subprocess.run(argv, env=served.env(), cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
                            preexec_fn=small_disk)
    assert result.returncode == 1, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if not ln.startswith("download big.bin [")]
    assert len(lines) == 1 and lines[0].startswith("aiogoogle: error: ") and "File too large" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert list(target.parent.iterdir()) == [], "no partial file"


@pytest.mark.parametrize(("argv", "needles"), [
    (["call", "storage", "v1", "objects.list", "bucket=b", "--download", "list.json"],
     ["--download: storage v1 objects.list has no media download (methods of objects that do: get)"]),
    (["call", "storage", "v1", "buckets.get", "bucket=b", "--upload", "."], ["--upload: . is a directory"]),
    (["call", "storage", "v1", "buckets.list", "project=p", "--anon", "--creds", "key.json"],
     ["aiogoogle call: error: argument --creds: not allowed with argument --anon"]),
    (["call", "storage", "v1", "buckets.list", "project=p", "--adc", "--anon"], ["argument --anon: not allowed with argument --adc"]),
    (["call", "storage", "v1", "buckets.list", "project=p", "--bogus"], ["unrecognized arguments: --bogus", "aiogoogle call --help"]),
    (["call", "storage", "v1", "buckets.list", "project=p", "stray"], ["parameters are key=value, got 'stray'"]),
    (["call", "storage", "v9", "buckets.list"], ["has no discovery document for storage v9", "aiogoogle apis --name storage"]),
    (["apis", "--bogus"], ["aiogoogle apis: error: unrecognized arguments: --bogus"]),
    (["demo", "--backend", "twisted"], ["invalid choice: 'twisted'"]),
])
def test_bad_input_is_one_line_and_exit_2(served: Served, argv: list[str], needles: list[str]) -> None:
    line = one_line_failure(served.aiogoogle(*argv, check=False), 2, *needles)
    assert "aiogoogle.list_api" not in line
    assert not (served.workdir / "list.json").exists()


def test_value_errors_read_naturally(served: Served) -> None:
    result = served.aiogoogle("call", "storage", "v1", "objects.list", "bucket=b", "maxResults=ten", "versions=maybe",
                              "--json", "[]", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1:] == [
        "  maxResults=ten: expected an integer (uint32)",
        "  versions=maybe: expected a boolean",
        "  json: storage.objects.list takes no request body (--no-validate sends it anyway)",
    ]
    assert "got str" not in result.stderr


def test_retries_are_announced_with_their_reason_and_wait(served: Served) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    started = time.monotonic()
    result = served.aiogoogle("describe", "storage", "v1", "--root-url", closed, "--no-cache", "--retries", "2", check=False)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    for number, line in enumerate(lines[:2], 1):
        assert re.fullmatch(rf"aiogoogle: GET {re.escape(closed)}discovery/v1/apis/storage/v1/rest: cannot connect: .+; "
                            rf"retry {number} in \d+\.\d s", line), line
    waited = sum(float(re.search(r"in (\d+\.\d) s$", line).group(1)) for line in lines[:2])  # type: ignore[union-attr]
    assert time.monotonic() - started >= waited - 0.2
    assert lines[2].startswith("aiogoogle: ConnectError: cannot connect")


def test_apis_says_it_lists_the_cache_and_lists_each_api_once(served: Served, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    served.cli("describe", "storage", "v1", AIOGOOGLE_CACHE_DIR=cache)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    # The same document fetched from a second address: a second cache file.
    served.cli("describe", "storage", "v1", "--discovery-url", served.url.replace("127.0.0.1", "localhost"),
               AIOGOOGLE_CACHE_DIR=cache)
    assert len(os.listdir(cache)) == 2
    result = served.cli("apis", "--format", "json", "--root-url", closed, "--retries", "0", AIOGOOGLE_CACHE_DIR=cache)
    assert [(i["name"], i["version"]) for i in json.loads(result.stdout)] == [("storage", "v1")]
    assert re.search(rf"the Discovery directory at {re.escape(closed)} cannot be reached \(.+\); listing the 1 API version in "
                     rf"the local cache \({re.escape(cache)}\) instead", result.stderr), result.stderr
    empty = served.aiogoogle("apis", "--root-url", closed, "--retries", "0", check=False, AIOGOOGLE_CACHE_DIR=str(tmp_path / "none"))
    one_line_failure(empty, 1, "cannot be reached", "holds no document")


def test_the_progress_line_ends_before_interrupted(served: Served, tmp_path: Path) -> None:
    """On a terminal the bar redraws one line; Ctrl-C in the middle of a transfer must not
    print "interrupted" at the end of that line."""
    from aiogoogle.testing import LocalGoogleServer

    with LocalGoogleServer() as slow:
        async def trickle(request: Any) -> Any:
            from aiohttp import web

            response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
            response.content_length = 1 << 20
            await response.prepare(request)
            for _ in range(1 << 4):
                await response.write(b"x" * (1 << 16))
                await __import__("asyncio").sleep(0.5)
            return response

        slow.add_handler("GET", "/download/storage/v1/b/b/o/slow.bin", trickle)  # media downloads go to /download/...
        primary, replica = pty.openpty()
        # Ctrl-C as on a terminal: SIGINT at its default in the child even when this test
        # runs under a parent that ignores it (a job started in the background by a
        # non-interactive shell passes SIGINT ignored to every descendant, and Python then
        # leaves it ignored).
        as_on_a_terminal = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                            "sys.argv[0] = 'aiogoogle'; runpy.run_module('aiogoogle', run_name='__main__', alter_sys=True)")
        proc = subprocess.Popen(
            [sys.executable, "-c", as_on_a_terminal, "call", "storage", "v1", "objects.get", "bucket=b", "object=slow.bin", "--anon",
             "--download", str(tmp_path / "slow.bin"), "--root-url", slow.url, "--no-cache"],
            env={**served.env(), "COLUMNS": "200"}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=replica)
        os.close(replica)
        seen = b""
        stop = time.monotonic() + 30
        while b"% " not in seen and time.monotonic() < stop:
            seen += os.read(primary, 4096)
        proc.send_signal(signal.SIGINT)
        rest = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            rest += chunk
        proc.wait(timeout=30)
        os.close(primary)
    text = (seen + rest).decode()
    assert proc.returncode == 130, text
    assert "100.0%" not in text, "the download must still be running when interrupted"
    assert "\r\naiogoogle: interrupted" in text.replace("\r\r\n", "\r\n") and "/saiogoogle" not in text.replace(" ", ""), repr(text)
    assert "Traceback" not in text
    assert list(tmp_path.iterdir()) == [], "no partial file"


@pytest.mark.parametrize(("backend", "module", "failure", "needles"), [
    ("trio", "trio", "raise ImportError(\"No module named 'trio' (hidden by the test)\", name='trio')",
     ["the trio backend is not available", "pip install 'aiogoogle[trio]'"]),
    # curio 1.6 on Python 3.12+: installed, but its import fails.
    ("curio-h11", "curio", "raise AttributeError(\"module 'multiprocessing.connection' has no attribute 'CHALLENGE'\")",
     ["the curio-h11 backend cannot be loaded on Python 3.", "AttributeError: module 'multiprocessing.connection'"]),
])
def test_a_missing_or_broken_backend_is_one_line(served: Served, tmp_path: Path, backend: str, module: str, failure: str,
                                                 needles: list[str]) -> None:
    fake = tmp_path / "shadow" / module
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(failure + "\n")
    shadowed = {"PYTHONPATH": str(tmp_path / "shadow")}
    # The demo checks its backend before its banner: nothing on stdout.
    line = one_line_failure(served.aiogoogle("demo", "--backend", backend, check=False, **shadowed), 2, *needles)
    assert line.startswith("aiogoogle: error: ")
    one_line_failure(served.aiogoogle("apis", "--backend", backend, check=False, **shadowed), 2, *needles)


def test_an_unexpected_error_is_one_line_too(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from aiogoogle.cli import _main, main

    def broken(args: Any) -> int:
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(_main, "cmd_apis", broken)
    monkeypatch.delenv("AIOGOOGLE_TRACEBACK", raising=False)
    assert main(["apis"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [
        "aiogoogle: internal error: RuntimeError: something nobody foresaw (please report it; AIOGOOGLE_TRACEBACK=1 shows the traceback)"]
    monkeypatch.setenv("AIOGOOGLE_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="nobody foresaw"):
        main(["apis"])


def test_no_traceback_when_a_client_disconnects_mid_transfer(tmp_path: Path) -> None:
    server = Served(tmp_path)
    try:
        key = server.exports["AIOGOOGLE_API_KEY"]
        server.api("POST", "storage/v1/b", {"name": "cut-bucket"}, project="p")
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
        upload = (f"POST /upload/storage/v1/b/cut-bucket/o?uploadType=media&name=big&key={key} HTTP/1.1\r\n"
                  f"Host: x\r\nContent-Length: {32 << 20}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(upload + b"x" * (1 << 20))  # then gone, 31 MiB short
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(upload)
            sock.sendall(os.urandom(32 << 20))
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(f"GET /storage/v1/b/cut-bucket/o/big?alt=media&key={key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
            time.sleep(0.2)  # the server is blocked writing the rest, then the reader goes away
        listing = server.api("GET", "storage/v1/b/cut-bucket/o")
        assert [o["name"] for o in listing["items"]] == ["big"], "the cut upload stored nothing"
    finally:
        err = server.stop()
    assert "Error handling request" not in err
