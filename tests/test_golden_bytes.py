"""Deterministic flows: with the randomness (``random_bytes``) and the clock fixed, the same
inputs give byte-identical requests.

Each scenario runs a public flow through :func:`aiogoogle.sansio.run_sync` with a ``send``
that records what would go on the wire (method, URL, headers, body) and compares it with
the bytes committed in ``tests/golden/``. The two values that legitimately vary between
installations, the package version and the Python version (in ``User-Agent`` and
``x-goog-api-client``), are replaced by placeholders first. Then the same scenario with
other random bytes (or another clock, for the JWT assertion, which holds no randomness)
must give other bytes, so the comparison cannot pass because nothing random was sent.

Regenerate the golden files after an intended change of the wire format with
``AIOGOOGLE_REGENERATE_GOLDEN=1 pytest tests/test_golden_bytes.py`` and review the diff.

A last test scans ``core/`` for direct uses of randomness, clocks, the environment and
the home directory outside :mod:`aiogoogle._providers` (the defaults of the injectable
sources) and the few edge reaches that are named below with their reason.
"""

from __future__ import annotations

import ast
import hashlib
import os
import platform
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aiogoogle import __version__
from aiogoogle.auth.managers import OpenIdConnectManager
from aiogoogle.excs import ValidationError
from aiogoogle.models import Request
from aiogoogle.resource import GoogleAPI
from aiogoogle.sansio import (
    CallOptions,
    Endpoints,
    HttpRequest,
    Reply,
    batch_flow,
    call_flow,
    jwt_bearer_flow,
    run_sync,
)
from aiogoogle.testing import discovery_document

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("AIOGOOGLE_REGENERATE_GOLDEN") == "1"

# A test key generated for these files only: it signs nothing anywhere else.
PRIVATE_KEY = (GOLDEN / "service_account_key.pem").read_text()

NOW = 1_700_000_000.0


def seeded(seed: bytes) -> Callable[[int], bytes]:
    """A deterministic ``random_bytes``: SHAKE-256 of the seed and a draw counter, so each
    draw differs from the last and every run gives the same sequence."""
    counter = 0

    def random_bytes(n: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(seed + counter.to_bytes(8, "big")).digest(n)

    return random_bytes


def wire(request: HttpRequest) -> bytes:
    """What would go on the wire: request line, headers in order, blank line, body."""
    body = request.body if isinstance(request.body, bytes) else b"".join(_chunks(request.body))
    head = f"{request.method} {request.url}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in request.headers) + "\r\n"
    text = head.replace(__version__, "{VERSION}").replace(f"gl-python/{platform.python_version()}", "gl-python/{PYTHON}")
    return text.encode("latin-1") + body


def _chunks(body: Any) -> Iterable[bytes]:
    return (bytes(chunk) for chunk in body)


def record(flow: Any, reply: Callable[[HttpRequest], Reply], *, clock: float = NOW) -> bytes:
    """Run ``flow`` and return the bytes of every request it sent, in order."""
    sent: list[bytes] = []

    def send(request: HttpRequest) -> Reply:
        sent.append(wire(request))
        return reply(request)

    run_sync(flow, send, sleep=lambda _s: None, clock=lambda: clock, monotonic=lambda: 0.0)
    return b"".join(sent)


def json_reply(body: bytes = b"{}", status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Callable[[HttpRequest], Reply]:
    return lambda _request: Reply(status, [("content-type", "application/json"), *headers], body)


def drive() -> GoogleAPI:
    return GoogleAPI(discovery_document("drive", "v3"))


def options(seed: bytes) -> CallOptions:
    return CallOptions(random_bytes=seeded(seed), user_agent="golden-test")


# ------------------------------------------------------------------------ scenarios


def multipart_upload(seed: bytes) -> bytes:
    request = drive().files.create(json={"name": "notes.txt", "parents": ["root"]}, upload_file=b"hello, multipart\n", upload_file_content_type="text/plain")
    request.media_upload.use_resumable = False  # type: ignore[union-attr]
    return record(call_flow(request, options(seed)), json_reply(b'{"id": "f1"}'))


def batch(seed: bytes) -> bytes:
    api = drive()
    parts = [api.files.get(fileId="a", fields="id,name"), api.files.update(fileId="b", json={"name": "renamed"}), api.files.delete(fileId="c")]

    def reply(request: HttpRequest) -> Reply:
        # Answer every part (the flow checks the reply matches its Content-IDs).
        prefix = _content_id_prefix(request)
        boundary = "reply_boundary"
        body = b"".join(
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{prefix}+{i}>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{{}}\r\n".encode()
            for i in range(len(parts))
        )
        return Reply(200, [("content-type", f"multipart/mixed; boundary={boundary}")], body + f"--{boundary}--\r\n".encode())

    return record(batch_flow(Request.batch_requests(*parts), options(seed)), reply)


def _content_id_prefix(request: HttpRequest) -> str:
    body = request.body if isinstance(request.body, bytes) else b"".join(_chunks(request.body))
    marker = b"Content-ID: <"
    start = body.index(marker) + len(marker)
    return body[start : body.index(b"+", start)].decode()


def resumable_start(seed: bytes) -> bytes:
    request = drive().files.create(json={"name": "big.bin"}, upload_file=b"x" * 1000, upload_file_content_type="application/octet-stream")
    request.media_upload.use_resumable = True  # type: ignore[union-attr]
    session = "https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable&upload_id=golden"

    def reply(request: HttpRequest) -> Reply:
        if "upload_id=golden" in request.url:
            return Reply(200, [("content-type", "application/json")], b'{"id": "f2"}')
        return Reply(200, [("location", session)], b"")

    sent = record(call_flow(request, options(seed)), reply)
    # The first request is the session start; the chunk that follows is pinned as well.
    return sent


def authorization_url(seed: bytes) -> bytes:
    manager = OpenIdConnectManager(
        client_creds={"client_id": "cid.apps.googleusercontent.com", "redirect_uri": "http://127.0.0.1:8080/cb", "scopes": ["openid", "email"]},
        random_bytes=seeded(seed),
    )
    return manager.authorization_url(pkce=True, access_type="offline", prompt="consent").encode()


def service_account_assertion(seed: bytes, clock: float = NOW) -> bytes:
    creds = {
        "type": "service_account",
        "client_email": "golden@project.iam.gserviceaccount.com",
        "private_key": PRIVATE_KEY,
        "private_key_id": "k1",
        "token_uri": "https://oauth2.googleapis.com/token",
        "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
    }
    reply = json_reply(b'{"access_token": "ya29.golden", "expires_in": 3600, "token_type": "Bearer"}')
    return record(jwt_bearer_flow(creds, Endpoints(), options(seed)), reply, clock=clock)


SCENARIOS: dict[str, Callable[[bytes], bytes]] = {
    "multipart_upload": multipart_upload,
    "batch": batch,
    "resumable_start": resumable_start,
    "authorization_url": authorization_url,
    "service_account_assertion": service_account_assertion,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_inputs_give_the_committed_bytes(name: str) -> None:
    got = SCENARIOS[name](b"golden seed")
    assert got == SCENARIOS[name](b"golden seed"), "two runs with the same inputs differ"
    path = GOLDEN / f"{name}.bin"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(got)
    assert path.exists(), f"{path} is missing: run with AIOGOOGLE_REGENERATE_GOLDEN=1 once and commit it"
    assert got == path.read_bytes()


@pytest.mark.parametrize("name", ["multipart_upload", "batch", "authorization_url"])
def test_other_randomness_gives_other_bytes(name: str) -> None:
    # The random values really reach the wire: boundaries, Content-IDs, state/nonce/PKCE.
    assert SCENARIOS[name](b"golden seed") != SCENARIOS[name](b"another seed")


def test_the_resumable_start_draws_no_randomness() -> None:
    # Nothing random belongs in it: the same bytes whatever the seed.
    assert resumable_start(b"golden seed") == resumable_start(b"another seed")


def test_the_assertion_follows_the_clock() -> None:
    # RS256 (RSASSA-PKCS1-v1_5, RFC 7518 §3.3) is deterministic: only iat/exp change it.
    assert service_account_assertion(b"s") != service_account_assertion(b"s", clock=NOW + 1)


def test_authorization_url_carries_the_drawn_values() -> None:
    random_bytes = seeded(b"golden seed")
    manager = OpenIdConnectManager(client_creds={"client_id": "c", "redirect_uri": "http://127.0.0.1/cb"}, random_bytes=random_bytes)
    creds = manager.client_creds
    url = manager.authorization_url(pkce=True)
    query = parse_qs(urlsplit(url).query)
    assert creds is not None
    assert query["state"] == [creds["state"]] and query["nonce"] == [creds["nonce"]]
    # RFC 7636 §4.1: 43-128 unreserved characters.
    assert 43 <= len(creds["code_verifier"]) <= 128


def test_a_manager_of_a_client_uses_the_client_options() -> None:
    manager = OpenIdConnectManager(client_creds={"client_id": "c", "redirect_uri": "http://127.0.0.1/cb"})
    assert manager.random_bytes is CallOptions().random_bytes


@pytest.mark.parametrize("bad", [lambda n: b"", lambda n: "x" * n, lambda n: None])
def test_a_broken_random_source_is_named(bad: Callable[[int], Any]) -> None:
    manager = OpenIdConnectManager(client_creds={"client_id": "c", "redirect_uri": "http://127.0.0.1/cb"}, random_bytes=bad)
    with pytest.raises(ValidationError, match="random_bytes"):
        manager.authorization_url()


def test_a_constant_random_source_cannot_hang_a_batch() -> None:
    # A part whose body holds the only boundary the source can make: refused, not looped on.
    constant = replace(options(b""), random_bytes=lambda n: b"\x00" * n)
    api = drive()
    part = api.files.update(fileId="b", json={"name": "batch_" + "00" * 12})
    with pytest.raises(ValidationError, match="random_bytes"):
        record(batch_flow(Request.batch_requests(part), constant), json_reply())


# ------------------------------------------------------------------ the source scan

#: Direct reads of randomness, clocks, the environment or the home directory.
_FORBIDDEN_MODULES = {"secrets", "random", "uuid"}
_FORBIDDEN_CALLS = {
    ("time", "time"), ("time", "time_ns"), ("time", "monotonic"), ("time", "monotonic_ns"), ("time", "perf_counter"),
    ("time", "localtime"), ("time", "gmtime"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
    ("date", "today"), ("os", "urandom"), ("os", "environ"), ("os", "getenv"), ("os", "getenvb"), ("os", "environb"),
    ("path", "expanduser"), ("path", "expandvars"), ("Path", "home"), ("Path", "expanduser"),
}
#: What may read them, and why: the defaults of every injectable source, and nothing else.
_ALLOWED: dict[str, set[str]] = {
    "core/_providers.py": {"import secrets", "import random", "time.time", "time.monotonic"},
}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in _FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in _FORBIDDEN_MODULES:
                found.append(f"from {node.module} import ...")
            found += [f"from {node.module} import {a.name}" for a in node.names if (node.module.split(".")[-1], a.name) in _FORBIDDEN_CALLS]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
            owner = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            if (owner, node.attr) in _FORBIDDEN_CALLS:
                found.append(f"{owner}.{node.attr}")
    return found


def test_core_reads_no_randomness_clock_or_environment_directly() -> None:
    problems = [
        f"{rel}: {v}"
        for path in sorted((ROOT / "core").rglob("*.py"))
        for rel in [str(path.relative_to(ROOT))]
        for v in _violations(path)
        if v not in _ALLOWED.get(rel, set())
    ]
    assert not problems, "use the injectable sources of aiogoogle._providers (or take the value from the edge): " + ", ".join(problems)


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import secrets\nimport os, time\nfrom datetime import datetime\nx = time.monotonic()\ny = os.environ\nz = datetime.now()\nw = os.path.expanduser('~')\n")
    assert set(_violations(probe)) == {"import secrets", "time.monotonic", "os.environ", "datetime.now", "path.expanduser"}


def test_the_clients_random_bytes_reach_the_wire() -> None:
    """``Aiogoogle(random_bytes=)`` is the client's one source: two clients with the same
    fixed source send byte-identical multipart bodies, a third with another source does not."""
    import asyncio

    from aiogoogle import Aiogoogle, DiscoveryEndpoints
    from aiogoogle.testing import LocalGoogleServer

    async def upload(server: LocalGoogleServer, seed: bytes) -> bytes:
        server.reset()
        async with Aiogoogle(discovery_endpoints=DiscoveryEndpoints.at(server.url), discovery_cache=False,
                             random_bytes=seeded(seed)) as ag:
            api = await ag.discover("drive", "v3")
            await ag.as_anon(api.files.create(json={"name": "a.txt"}, pipe_from=b"hello", upload_file_content_type="text/plain",
                                              resumable=False))
        uploads = [r for r in server.log if r.path.startswith("/upload/")]
        assert len(uploads) == 1 and "multipart" in uploads[0].headers.get("content-type", "")
        return uploads[0].headers["content-type"].encode() + uploads[0].body

    with LocalGoogleServer() as server:
        first, again, other = (asyncio.run(upload(server, seed)) for seed in (b"one", b"one", b"two"))
    assert first == again and first != other
