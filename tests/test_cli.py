"""The command line through its real entry points, against the local server.

Most tests call ``aiogoogle.cli.main(argv)`` in-process (fast); a few run
``python -m aiogoogle`` as a subprocess, exactly as a user would (exit statuses, stdout vs
stderr, no traceback, ``serve``, ``auth login`` with a real browser hop, and the demo on
every backend).
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiogoogle.cli import main
from aiogoogle.sessions.backends import BACKENDS
from aiogoogle.testing import LocalGoogleServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as srv:
        yield srv


@pytest.fixture
def env(server: LocalGoogleServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment every CLI run gets: everything pointed at the local server, a
    private discovery cache, and no credentials from the developer's machine."""
    for name in ("AIOGOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "AIOGOOGLE_DISCOVERY_URL", "AIOGOOGLE_BACKEND",
                 "AIOGOOGLE_CA_FILE", "GCE_METADATA_HOST"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "AIOGOOGLE_ROOT_URL": server.url,
        "AIOGOOGLE_CACHE_DIR": str(tmp_path / "cache"),
        "CLOUDSDK_CONFIG": str(tmp_path / "no-gcloud"),
        "COLUMNS": "100",  # text layout follows the terminal width; tests pin it
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Result({self.code}, out={self.out[-600:]!r}, err={self.err[-600:]!r})"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    code = main(list(argv))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AIOGOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "PYTEST_ADDOPTS")}
    env.update(extra)
    return env


def run(env: dict[str, str], *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aiogoogle", *argv], env=subprocess_env(env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def assert_clean_failure(result: Result | subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    rc = result.code if isinstance(result, Result) else result.returncode
    out = result.out if isinstance(result, Result) else result.stdout
    err = result.err if isinstance(result, Result) else result.stderr
    assert rc == code, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert out == "", f"errors must not go to stdout: {out!r}"
    for needle in needles:
        assert needle in err, (needle, err)


# ---------------------------------------------------------------------------- help, entry points


def test_python_m_aiogoogle_help_and_version(env: dict[str, str]) -> None:
    result = run(env, "--help")
    assert result.returncode == 0, result.stderr
    for command in ("apis", "describe", "call", "auth", "serve", "demo"):
        assert command in result.stdout
    assert "AIOGOOGLE_ROOT_URL" in result.stdout
    version = run(env, "--version")
    assert version.returncode == 0 and re.match(r"aiogoogle \d", version.stdout)


@pytest.mark.parametrize("argv", [["apis"], ["describe"], ["call"], ["auth"], ["auth", "login"], ["serve"], ["demo"]])
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    result = cli(capsys, *argv, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: aiogoogle " + " ".join(argv))


def test_console_script_is_installed(env: dict[str, str]) -> None:
    # The test extra installs the package (console script included) into this interpreter's
    # environment: a missing script is a packaging failure, never a reason to skip.
    script = Path(sys.executable).parent / "aiogoogle"
    assert script.exists(), f"the console script is not installed: {script}"
    result = subprocess.run([str(script), "apis", "--name", "storage", "--format", "json"], env=subprocess_env(env),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert {"storage"} == {item["name"] for item in json.loads(result.stdout)}


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    assert cli(capsys, "nope").code == 2
    assert cli(capsys, "call", "storage").code == 2
    result = cli(capsys, "demo", "--backend", "twisted")
    assert result.code == 2 and "invalid choice" in result.err


# ---------------------------------------------------------------------------- apis


def test_apis_lists_the_directory(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer) -> None:
    result = cli(capsys, "apis", "--name", "drive", "--format", "json")
    assert result.code == 0, result
    items = result.json()
    assert {(i["name"], i["version"]) for i in items} >= {("drive", "v3"), ("drive", "v2")}
    assert any(r.path == "/discovery/v1/apis" and r.param("name") == "drive" for r in server.log)
    table = cli(capsys, "apis", "--name", "drive", "--preferred")
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "PREFERRED", "TITLE"]
    assert [ln.split()[:3] for ln in lines[1:]] == [["drive", "v3", "yes"]]
    assert "1 API version" in table.err


def test_apis_falls_back_to_the_cache_offline(capsys: pytest.CaptureFixture[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(capsys, "describe", "storage", "v1", "--format", "json").code == 0  # fills the cache
    cached = cli(capsys, "apis", "--cached", "--format", "json")
    assert [(i["name"], i["version"]) for i in cached.json()] == [("storage", "v1")]
    # A root URL where nothing listens: the directory is unreachable, the cache answers.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    monkeypatch.setenv("AIOGOOGLE_ROOT_URL", dead)
    offline = cli(capsys, "apis", "--format", "json", "--retries", "0")
    assert offline.code == 0, offline
    assert [i["name"] for i in offline.json()] == ["storage"]
    assert "cannot be reached" in offline.err and "local cache" in offline.err


# ---------------------------------------------------------------------------- describe


def test_describe_api(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer) -> None:
    result = cli(capsys, "describe", "storage", "v1")
    assert result.code == 0, result
    assert result.out.startswith("storage v1 — Cloud Storage JSON API")
    assert f"Root URL:      {server.url}" in result.out
    assert re.search(r"^  objects\.insert\s+POST\s+b/\{bucket\}/o$", result.out, re.M)
    assert "https://www.googleapis.com/auth/devstorage.read_only" in result.out
    data = cli(capsys, "describe", "storage", "v1", "--format", "json").json()
    assert "objects" in data["resources"] and {"name": "objects.list"}.items() <= next(m for m in data["methods"] if m["name"] == "objects.list").items()


def test_describe_method_lists_required_parameters_first(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    info = cli(capsys, "describe", "storage", "v1", "objects.get", "--format", "json").json()
    params = info["parameters"]
    assert [p["name"] for p in params[:2]] == ["bucket", "object"]  # parameterOrder, required
    assert all(p["required"] for p in params[:2]) and not any(p["required"] for p in params[2:])
    gen = next(p for p in params if p["name"] == "generation")
    assert gen["type"] == "string(int64)" and gen["location"] == "query"
    projection = next(p for p in params if p["name"] == "projection")
    assert projection["enum"] == ["full", "noAcl"]
    assert info["response"]["schema"] == "Object" and any(f["name"] == "crc32c" for f in info["response"]["fields"])
    assert info["mediaDownload"] is True
    text = cli(capsys, "describe", "storage", "v1", "objects.get").out
    assert text.startswith("storage.objects.get  GET b/{bucket}/o/{object}")
    assert "Parameters (2 required," in text
    assert text.index("  bucket  (string, required, path)") < text.index("  generation  (string(int64), optional, query)")
    assert "one of: full, noAcl" in text
    assert "Usage: aiogoogle call storage v1 objects.get bucket=BUCKET object=OBJECT [--download FILE]" in text
    insert = cli(capsys, "describe", "storage", "v1", "objects.insert").out
    assert "Usage: aiogoogle call storage v1 objects.insert bucket=BUCKET [--json BODY] [--upload FILE]" in insert
    assert "Response: Object (as the request body)" in insert


def test_describe_shows_patterns_defaults_and_request_schema(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    info = cli(capsys, "describe", "drive", "v3", "files.list", "--format", "json").json()
    spaces = next(p for p in info["parameters"] if p["name"] == "spaces")
    assert spaces["default"] == "drive"
    text = cli(capsys, "describe", "drive", "v3", "files.list").out
    assert "default: drive" in text
    create = cli(capsys, "describe", "storage", "v1", "objects.insert").out
    assert "Media upload: accepts */*" in create and "Request body: Object" in create
    # A parameter with a pattern (Cloud Resource Manager names).
    found = cli(capsys, "describe", "drive", "v3", "files.get", "--format", "json").json()
    assert found["parameters"][0]["name"] == "fileId"
    pat = cli(capsys, "describe", "pubsub", "v1", "projects.topics.get", "--format", "json").json()
    topic = pat["parameters"][0]
    assert topic["name"] == "topic" and topic["pattern"] == "^projects/[^/]+/topics/[^/]+$"
    assert "pattern: ^projects/[^/]+/topics/[^/]+$" in cli(capsys, "describe", "pubsub", "v1", "projects.topics.get").out


def test_describe_fits_a_narrow_terminal(capsys: pytest.CaptureFixture[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for argv in (["describe", "storage", "v1"], ["describe", "pubsub", "v1", "projects.topics"], ["describe", "drive", "v3", "files.list"]):
        out = cli(capsys, *argv).out
        too_wide = [ln for ln in out.splitlines() if len(ln) > 80 and not re.fullmatch(r" {6}\S+", ln)]
        assert not too_wide, too_wide  # only an unbreakable path may exceed the width, on a line of its own
    topics = cli(capsys, "describe", "pubsub", "v1", "projects.topics").out
    assert re.search(r"^  projects\.topics\.getIamPolicy\s+GET\n {6}v1/projects/\{projectsId\}/topics/\{topicsId\}:getIamPolicy$", topics, re.M)


def test_describe_resource(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    result = cli(capsys, "describe", "pubsub", "v1", "projects")
    assert result.code == 0
    assert "Nested resources:" in result.out and "topics" in result.out
    assert re.search(r"^  projects\.topics\.get\s+GET\s+", result.out, re.M)


# ---------------------------------------------------------------------------- call


def test_call_get_prints_json(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer) -> None:
    server.add_collection("/storage/v1/b", [{"name": "alpha", "id": "alpha"}], id_field="name")
    result = cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=alpha")
    assert result.code == 0, result
    assert result.json() == {"name": "alpha", "id": "alpha"}
    assert result.err == ""


def test_call_all_pages(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer) -> None:
    names = [f"b{i:02d}" for i in range(12)]
    server.add_collection("/storage/v1/b", [{"name": n, "id": n} for n in names], id_field="name")
    before = server.count("GET", "/storage/v1/b")
    result = cli(capsys, "call", "storage", "v1", "buckets.list", "project=p", "maxResults=5", "--all-pages")
    assert result.code == 0, result
    assert [b["name"] for b in result.json()] == names
    assert server.count("GET", "/storage/v1/b") - before == 3
    assert "3 pages, 12 items" in result.err
    one_page = cli(capsys, "call", "storage", "v1", "buckets.list", "project=p", "maxResults=5")
    assert len(one_page.json()["items"]) == 5 and one_page.json()["nextPageToken"]
    table = cli(capsys, "call", "storage", "v1", "buckets.list", "project=p", "maxResults=5", "--all-pages", "--format", "table")
    lines = table.out.splitlines()
    assert lines[0].split() == ["NAME", "ID"] and [ln.split()[0] for ln in lines[1:]] == names


def test_call_dry_run_sends_nothing(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOGOOGLE_API_KEY", "secret-key-value")
    server.log.clear()
    result = cli(capsys, "call", "storage", "v1", "objects.get", "bucket=b", "object=a/b c", "--download", "x.bin", "--dry-run")
    assert result.code == 0, result
    plan = result.json()
    assert plan["method"] == "GET" and plan["download"] == "x.bin"
    assert plan["url"] == f"{server.url}download/storage/v1/b/b/o/a%2Fb%20c?alt=media"
    assert "secret-key-value" not in result.out
    assert [r.path for r in server.log] == ["/discovery/v1/apis/storage/v1/rest"]


@pytest.mark.parametrize(("size", "protocol"), [(1024, "simple"), (9 * 1024 * 1024, "resumable")])
def test_call_dry_run_shows_the_upload_protocol_that_is_sent(capsys: pytest.CaptureFixture[str], env: dict[str, str],
                                                             server: LocalGoogleServer, tmp_path: Path, size: int,
                                                             protocol: str) -> None:
    # A 9 MiB upload goes resumable (above 8 MiB); --dry-run must show that protocol, and
    # sending the same call must use it.
    src = tmp_path / "in.bin"
    src.write_bytes(os.urandom(size))
    argv = ("call", "storage", "v1", "objects.insert", "bucket=pb", "name=p.bin", "--upload", str(src))
    dry = cli(capsys, *argv, "--dry-run")
    assert dry.code == 0, dry
    upload = dry.json()["upload"]
    upload_type = {"simple": "media", "resumable": "resumable"}[protocol]
    assert upload["protocol"] == protocol and upload["url"].endswith(f"uploadType={upload_type}"), upload
    server.log.clear()
    assert cli(capsys, *argv).code == 0
    first = next(r for r in server.log if "/upload/" in r.path)
    assert first.param("uploadType") == upload_type


def test_call_json_body(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer, tmp_path: Path) -> None:
    server.add_collection("/storage/v1/b", [], id_field="name")
    body = tmp_path / "bucket.json"
    body.write_text(json.dumps({"name": "from-file", "location": "EU"}))
    result = cli(capsys, "call", "storage", "v1", "buckets.insert", "project=p", "--json", f"@{body}")
    assert result.code == 0, result
    assert server.collection("/storage/v1/b")["from-file"]["location"] == "EU"
    inline = cli(capsys, "call", "storage", "v1", "buckets.insert", "project=p", "--json", '{"name": "inline"}')
    assert inline.code == 0 and "inline" in server.collection("/storage/v1/b")


def test_call_upload_and_download_with_progress(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer,
                                                tmp_path: Path) -> None:
    data = os.urandom(600_000)
    src = tmp_path / "payload.bin"
    src.write_bytes(data)
    up = cli(capsys, "call", "storage", "v1", "objects.insert", "bucket=up", "name=dir/payload.bin", "--upload", str(src))
    assert up.code == 0, up
    assert up.json()["size"] == str(len(data))
    assert re.search(r"upload payload\.bin \[#+\] 100\.0%", up.err)
    dest = tmp_path / "copy.bin"
    down = cli(capsys, "call", "storage", "v1", "objects.get", "bucket=up", "object=dir/payload.bin", "--download", str(dest))
    assert down.code == 0, down
    assert dest.read_bytes() == data
    assert down.json() == {"file": str(dest), "bytes": len(data), "status": 200}
    assert re.search(r"download copy\.bin \[#+\] 100\.0%", down.err)
    # To stdout, through the real entry point (stdout carries only the bytes).
    piped = subprocess.run([sys.executable, "-m", "aiogoogle", "call", "storage", "v1", "objects.get", "bucket=up",
                            "object=dir/payload.bin", "--download", "-"], env=subprocess_env(env), capture_output=True, timeout=60, check=False)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == data
    assert f"wrote {len(data)} bytes to stdout".encode() in piped.stderr
    # Resumable, in 256 KiB chunks.
    server.log.clear()
    res = cli(capsys, "call", "storage", "v1", "objects.insert", "bucket=up", "name=r.bin", "--upload", str(src), "--resumable",
              "--chunk-size", str(256 * 1024))
    assert res.code == 0, res
    assert [r.param("uploadType") for r in server.requests("POST")] == ["resumable"]
    assert len(server.requests("PUT")) == 3


def test_call_with_an_impersonated_service_account_file(capsys: pytest.CaptureFixture[str], env: dict[str, str],
                                                        server: LocalGoogleServer, tmp_path: Path) -> None:
    from aiogoogle.testing._server_auth import auth_state, service_account_key

    target = "target@test-project.iam.gserviceaccount.com"
    server.add_collection("/storage/v1/b", [{"name": "c", "id": "c"}], id_field="name")
    state = auth_state(server)
    state.allow_impersonation(target)
    path = tmp_path / "impersonated.json"
    path.write_text(json.dumps({
        "type": "impersonated_service_account",
        "source_credentials": service_account_key(server, "source@test-project.iam.gserviceaccount.com"),
        "service_account_impersonation_url": f"{server.url}v1/projects/-/serviceAccounts/{target}:generateAccessToken",
    }))
    server.log.clear()
    result = cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=c", "--creds", str(path), "-v")
    assert result.code == 0, result
    assert "credentials: service_account" in result.err
    [iam] = [r for r in server.log if r.path.endswith(":generateAccessToken")]
    assert json.loads(iam.body)["scope"] == ["https://www.googleapis.com/auth/cloud-platform"]  # the method's first scope
    [rec] = server.requests("GET", "/storage/v1/b/c")
    grant = state.live(rec.headers["authorization"].removeprefix("Bearer "))
    assert grant is not None and grant.client_id == target
    # A broken file is a clear usage-or-auth failure naming the problem, never a traceback.
    path.write_text(json.dumps({"type": "impersonated_service_account", "source_credentials": {"type": "authorized_user"}}))
    broken = cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=c", "--creds", str(path))
    assert broken.code == 1 and "source_credentials" in broken.err and "Traceback" not in broken.err, broken


def test_call_credentials(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    from aiogoogle.testing._server_auth import auth_state, service_account_key

    server.add_collection("/storage/v1/b", [{"name": "c", "id": "c"}], id_field="name")
    monkeypatch.setenv("AIOGOOGLE_API_KEY", "key-123")
    server.log.clear()
    assert cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=c").code == 0
    [rec] = server.requests("GET", "/storage/v1/b/c")
    assert rec.param("key") == "key-123"
    monkeypatch.delenv("AIOGOOGLE_API_KEY")
    # A service account key file: a JWT-bearer token from the local token endpoint.
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(service_account_key(server)))
    state = auth_state(server)
    before = len(state.token_requests)
    server.log.clear()
    result = cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=c", "--creds", str(key_file), "-v")
    assert result.code == 0, result
    assert state.token_requests[before:] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    [rec] = server.requests("GET", "/storage/v1/b/c")
    token = rec.headers["authorization"].removeprefix("Bearer ")
    grant = state.live(token)
    assert grant is not None and grant.scopes == ["https://www.googleapis.com/auth/cloud-platform"]  # the method's first scope
    assert "credentials: service_account" in result.err
    assert "PRIVATE KEY" not in result.err + result.out and token not in result.err + result.out
    # GOOGLE_APPLICATION_CREDENTIALS (Application Default Credentials).
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    before = len(state.token_requests)
    adc = cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=c", "--scopes", "https://www.googleapis.com/auth/devstorage.read_only")
    assert adc.code == 0, adc
    assert len(state.token_requests) == before + 1
    # --adc: the whole chain; with no key file and no gcloud, the (local) metadata server.
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    server.log.clear()
    meta = cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=c", "--adc")
    assert meta.code == 0, meta
    assert server.requests("GET", "/computeMetadata/v1/instance/service-accounts/default/token")
    assert server.requests("GET", "/storage/v1/b/c")[0].headers["authorization"].startswith("Bearer ")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    # --anon wins over everything.
    server.log.clear()
    assert cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=c", "--anon").code == 0
    assert "authorization" not in server.requests("GET", "/storage/v1/b/c")[0].headers


def test_discovery_and_api_on_different_servers(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer) -> None:
    """--discovery-url: documents from one place, every API request to --root-url."""
    with LocalGoogleServer() as api_server:
        api_server.add_collection("/storage/v1/b", [{"name": "here"}], id_field="name")
        server.log.clear()
        result = cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=here", "--discovery-url", server.url,
                     "--root-url", api_server.url, "--no-cache")
        assert result.code == 0, result
        assert result.json() == {"name": "here"}
        assert [r.path for r in server.log] == ["/discovery/v1/apis/storage/v1/rest"]
        assert [r.path for r in api_server.log] == ["/storage/v1/b/here"]


def test_tls_is_verified(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    with LocalGoogleServer(tls=True) as tls_server:
        assert tls_server.ca_file
        trusted = cli(capsys, "apis", "--name", "storage", "--format", "json", "--root-url", tls_server.url, "--ca-file",
                      tls_server.ca_file, "--no-cache")
        assert trusted.code == 0, trusted
        assert [i["name"] for i in trusted.json()] == ["storage"]
        untrusted = cli(capsys, "describe", "storage", "v1", "--root-url", tls_server.url, "--no-cache", "--retries", "0")
        assert_clean_failure(untrusted, 1, "certificate")


# ---------------------------------------------------------------------------- bad input


def test_unknown_api(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    for argv in (["describe", "nosuchapi", "v1"], ["call", "nosuchapi", "v1", "things.list"]):
        assert_clean_failure(cli(capsys, *argv), 2, "no discovery document for nosuchapi v1", "aiogoogle apis --name nosuchapi")


def test_unknown_method_and_resource(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "objects.lst", "bucket=b"), 2,
                         "storage.objects has no resource or method 'lst'", "did you mean list")
    assert_clean_failure(cli(capsys, "describe", "storage", "v1", "objcts.get"), 2, "no resource 'objcts'", "did you mean objects")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "objects", "bucket=b"), 2, "objects is a resource, not a method", "insert")


def test_missing_required_parameter(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "objects.get", "bucket=b"), 2,
                         "invalid arguments for storage v1 objects.get", "object: required path parameter is missing")


def test_invalid_values(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer) -> None:
    server.log.clear()
    result = cli(capsys, "call", "storage", "v1", "objects.list", "bucket=b", "maxResults=ten", "projection=everything", "nope=1")
    # Worded for a command line: the value as typed, and no "got str" (every value is one).
    assert_clean_failure(result, 2, "maxResults=ten: expected an integer (uint32)\n",
                         "projection=everything: not one of the allowed values (full, noAcl)", "nope=1: unknown parameter")
    assert not server.requests("GET", "/storage/v1/b/b/o"), "an invalid call must not be sent"
    pattern = cli(capsys, "call", "pubsub", "v1", "projects.topics.get", "topic=not-a-topic")
    assert_clean_failure(pattern, 2, "topic:", "pattern")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "objects.list", "bucket"), 2, "parameters are key=value")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "buckets.insert", "project=p", "--json", "{"), 2, "--json is not valid JSON")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "objects.insert", "bucket=b", "--upload", "/no/such/file"), 2, "no such file")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "objects.list", "bucket=b", "--creds", "/no/such.json"), 2,
                         "credentials file not found")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=b", "--upload", __file__), 2,
                         "does not accept media uploads")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "buckets.get", "bucket=b", "--backend", "curio", "--root-url", "ftp://x"), 2,
                         "--root-url must be an http:// or https:// URL")


def test_http_and_network_errors_exit_1(capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer) -> None:
    from aiogoogle.testing._server_media import media_state

    media_state(server).put("/storage/v1/b/errs/o/present", b"x")
    assert_clean_failure(cli(capsys, "call", "storage", "v1", "objects.get", "bucket=errs", "object=missing"), 1,
                         "HTTPError: 404", "No such object")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    result = cli(capsys, "describe", "storage", "v1", "--root-url", dead, "--no-cache", "--retries", "0")
    assert_clean_failure(result, 1, "aiogoogle: ConnectError", dead)


def test_bad_input_through_the_real_entry_point(env: dict[str, str]) -> None:
    """The same failures as a user sees them: a subprocess, stderr only, no traceback."""
    assert_clean_failure(run(env, "call", "nosuchapi", "v1", "x.list"), 2, "no discovery document")
    assert_clean_failure(run(env, "call", "storage", "v1", "objects.nope"), 2, "has no resource or method 'nope'")
    assert_clean_failure(run(env, "call", "storage", "v1", "objects.list"), 2, "bucket: required path parameter is missing")
    assert_clean_failure(run(env, "call", "storage", "v1", "objects.list", "bucket=b", "maxResults=-"), 2, "maxResults")
    assert_clean_failure(run(env, "call", "storage", "v1", "objects.get", "bucket=errs", "object=x"), 1, "404")
    # A usage error is one line naming the command, the problem and where help is.
    assert_clean_failure(run(env, "describe"), 2)
    assert run(env, "describe").stderr == (
        "aiogoogle describe: error: the following arguments are required: API, VERSION (see: aiogoogle describe --help)\n")


# ---------------------------------------------------------------------------- auth login, serve


def test_auth_login_saves_private_credentials(env: dict[str, str], server: LocalGoogleServer, tmp_path: Path) -> None:
    out = tmp_path / "user.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiogoogle", "auth", "login", "--client-id", "test-client", "--client-secret", "test-secret",
         "--scopes", "openid,email,https://www.googleapis.com/auth/devstorage.read_only", "--out", str(out), "--timeout", "30"],
        env=subprocess_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+/o/oauth2/v2/auth\?\S+)", line)
            if match:
                url = match.group(1)
                break
        assert url, "".join(seen)
        assert "code_challenge_method=S256" in url and "state=" in url
        # The "browser": the local provider consents and redirects to the CLI's loopback listener.
        with urllib.request.urlopen(url, timeout=10) as page:
            assert b"Sign-in finished" in page.read()
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    saved = json.loads(out.read_text())
    assert saved["refresh_token"] and saved["access_token"] and saved["client_id"] == "test-client"
    summary = json.loads(stdout)
    assert summary["saved"] == str(out) and summary["refreshable"] and summary["email"] == "johndoe@example.com"
    for secret in (saved["access_token"], saved["refresh_token"], "test-secret"):
        assert secret not in stdout + stderr
    # The saved file works as --creds.
    server.add_collection("/storage/v1/b", [{"name": "u", "id": "u"}], id_field="name")
    server.log.clear()
    result = run(env, "call", "storage", "v1", "buckets.get", "bucket=u", "--creds", str(out))
    assert result.returncode == 0, result.stderr
    assert server.requests("GET", "/storage/v1/b/u")[0].headers["authorization"] == f"Bearer {saved['access_token']}"


def test_auth_login_needs_a_client(capsys: pytest.CaptureFixture[str], env: dict[str, str], tmp_path: Path) -> None:
    assert_clean_failure(cli(capsys, "auth", "login"), 2, "--client-secrets FILE or --client-id ID")
    bad = tmp_path / "client.json"
    bad.write_text(json.dumps({"installed": {"client_secret": "s"}}))
    assert_clean_failure(cli(capsys, "auth", "login", "--client-secrets", str(bad)), 2, "has no client_id")
    assert_clean_failure(cli(capsys, "auth", "login", "--client-secrets", str(tmp_path / "none.json")), 2, "client secrets file not found")


def test_client_secrets_file_formats(tmp_path: Path) -> None:
    import argparse

    from aiogoogle.cli._auth import client_creds_from

    for section in ("installed", "web"):
        path = tmp_path / f"{section}.json"
        path.write_text(json.dumps({section: {"client_id": "id-1", "client_secret": "s-1", "redirect_uris": ["http://localhost"]}}))
        args = argparse.Namespace(client_secrets=str(path), client_id=None, client_secret=None)
        assert client_creds_from(args) == {"client_id": "id-1", "client_secret": "s-1"}
    args = argparse.Namespace(client_secrets=None, client_id="id-2", client_secret=None)
    assert client_creds_from(args, {"AIOGOOGLE_CLIENT_SECRET": "from-env"}) == {"client_id": "id-2", "client_secret": "from-env"}
    assert client_creds_from(args, {}) == {"client_id": "id-2", "client_secret": None}  # a public client (PKCE only)


def test_credentials_are_written_owner_only_even_with_a_lax_umask(tmp_path: Path) -> None:
    from aiogoogle.cli._auth import write_private

    target = tmp_path / "creds.json"
    target.write_text("old")
    target.chmod(0o644)
    old = os.umask(0)
    try:
        write_private(str(target), {"refresh_token": "r"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text()) == {"refresh_token": "r"}
    assert [p.name for p in tmp_path.iterdir()] == ["creds.json"]  # no temporary file left behind


def test_serve_runs_until_terminated(env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "aiogoogle", "serve"], env=subprocess_env({}), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
        other = {**env, "AIOGOOGLE_ROOT_URL": url, "AIOGOOGLE_CACHE_DIR": str(tmp_path / "c2")}
        result = run(other, "apis", "--name", "storage", "--format", "json")
        assert result.returncode == 0, result.stderr
        assert [i["discoveryRestUrl"] for i in json.loads(result.stdout)] == [f"{url}discovery/v1/apis/storage/v1/rest"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------- demo


DEMO_HEADINGS = [
    (r"\[1/9\] Discover an API from its real discovery document", r"✓ discovered storage v1"),
    (r"\[2/9\] Browse it: resources, methods, parameters", r"required bucket \(string, path\)"),
    (r"\[3/9\] List with pagination", r"✓ 23 buckets in 3 pages \(3 requests"),
    (r"\[4/9\] Multipart upload", r"uploadType=multipart \(multipart/related"),
    (r"\[5/9\] Resumable upload in 256 KiB chunks", r"Content-Range: bytes \*/1310843  \(status query"),
    (r"\[6/9\] Ranged download with checksum verification", r"a corrupted reply is refused: ChecksumMismatch"),
    (r"\[7/9\] Batch: three calls in one request", r"part 3: 404 No such object"),
    (r"\[8/9\] Retry: a 429 retried after Retry-After", r"attempt 2: 200 demo-bucket after waiting (0\.9[5-9]|1\.\d\d) s"),
    (r"\[9/9\] Service account: a token from the local token endpoint", r"✓ service account signed in with a JWT assertion; 3 calls, 1 token request"),
]

@pytest.mark.parametrize("backend", list(BACKENDS))
def test_demo_on_every_backend(backend: str, env: dict[str, str]) -> None:
    # Every adapter is installed with the test extra: a missing one fails, never skips.
    result = run({}, "demo", "--backend", backend, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert out.startswith(f"aiogoogle demo on {backend}")
    positions = []
    for heading, outcome in DEMO_HEADINGS:
        h = re.search(heading, out)
        assert h, f"missing heading {heading!r}:\n{out}"
        o = re.search(outcome, out[h.end():])
        assert o, f"step {heading!r} lacks {outcome!r}:\n{out}"
        positions.append(h.start())
    assert positions == sorted(positions)
    assert out.count("  ✓ ") == 9
    assert f"All 9 steps passed on {backend}" in out
    assert "Traceback" not in result.stderr
    assert re.search(r"resumable upload \[#+\] 100\.0%", result.stderr), "no upload progress bar on stderr"
    assert re.search(r"ranged download \[#+\] 100\.0%", result.stderr), "no download progress bar on stderr"


def test_demo_over_tls(env: dict[str, str]) -> None:
    result = run({}, "demo", "--tls", timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert re.search(r"local server: https://localhost:\d+/ \(TLS, verified against its own CA\)", result.stdout)
    assert "All 9 steps passed on asyncio" in result.stdout


@pytest.mark.parametrize("backend", [name for name in BACKENDS if name != "asyncio"])
def test_call_on_other_backends(backend: str, capsys: pytest.CaptureFixture[str], env: dict[str, str], server: LocalGoogleServer,
                                tmp_path: Path) -> None:
    data = os.urandom(300_000)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    up = cli(capsys, "call", "storage", "v1", "objects.insert", "bucket=be", f"name={backend}.bin", "--upload", str(src),
             "--backend", backend)
    assert up.code == 0, up
    dest = tmp_path / "out.bin"
    down = cli(capsys, "call", "storage", "v1", "objects.get", "bucket=be", f"object={backend}.bin", "--download", str(dest),
               "--backend", backend)
    assert down.code == 0, down
    assert dest.read_bytes() == data
    names = [f"n{i}" for i in range(7)]
    server.add_collection("/storage/v1/b", [{"name": n} for n in names], id_field="name")
    listed = cli(capsys, "call", "storage", "v1", "buckets.list", "project=p", "maxResults=3", "--all-pages", "--backend", backend)
    assert [b["name"] for b in listed.json()] == names
    bad = cli(capsys, "call", "storage", "v1", "objects.get", "bucket=be", "object=nope", "--backend", backend)
    assert_clean_failure(bad, 1, "404")


# ---------------------------------------------------------------------------- progress bars


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.text = ""
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_pipe_prints_quarters() -> None:
    from aiogoogle.cli._common import ProgressBar

    stream = _Stream(tty=False)
    bar = ProgressBar("up", stream=stream)  # type: ignore[arg-type]
    for done in range(0, 1001, 10):
        bar(done, 1000)
    bar.finish()
    lines = stream.text.splitlines()
    assert [re.search(r"(\d+\.\d)%", ln).group(1) for ln in lines] == ["0.0", "25.0", "50.0", "75.0", "100.0"]  # type: ignore[union-attr]
    assert lines[-1].startswith("up [" + "#" * 30 + "] 100.0% 1000 B/1000 B")


def test_progress_bar_on_a_terminal_redraws_one_line() -> None:
    from aiogoogle.cli._common import ProgressBar

    stream = _Stream(tty=True)
    bar = ProgressBar("down", stream=stream)  # type: ignore[arg-type]
    bar(0, None)
    bar(512, None)
    bar(2048, 2048)
    bar.finish()
    assert stream.text.count("\n") == 1 and stream.text.endswith("\n")
    assert stream.text.startswith("\rdown 0 B")
    assert "\rdown [" + "#" * 30 + "] 100.0% 2.0 KiB/2.0 KiB" in stream.text
