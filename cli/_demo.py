"""``aiogoogle demo``: a tour of the whole stack against the embedded local server.

No Google account and no network: :class:`aiogoogle.testing.LocalGoogleServer` runs on
127.0.0.1 in a thread, serving the real Cloud Storage discovery document (re-rooted at
itself), an object store with uploads, ranged downloads and ``x-goog-hash``, a batch
endpoint and a Google-like token endpoint. The client is the real one, on the framework
chosen with ``--backend``. Every step checks what it shows (against the server's own
record of the requests it received); a step that does not get the expected result stops
the tour with exit status 1.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from ._common import ProgressBar, human_bytes, run_on
from ._describe import method_info

__all__ = ["STEPS", "DemoFailure", "run_demo"]

BUCKET = "demo-bucket"
PROJECT = "demo-project"
SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
KIB = 1024

#: The tour's steps, in order (each heading reads ``[N/9] <title>``).
STEPS = [
    "Discover an API from its real discovery document",
    "Browse it: resources, methods, parameters",
    "List with pagination",
    "Multipart upload (metadata + media in one request)",
    "Resumable upload in 256 KiB chunks, surviving a broken connection",
    "Ranged download with checksum verification",
    "Batch: three calls in one request",
    "Retry: a 429 retried after Retry-After",
    "Service account: a token from the local token endpoint",
]


class DemoFailure(Exception):
    """A step did not produce the result it checks for."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailure(what)


def _data(n: int, seed: int) -> bytes:
    # Deterministic, not compressible by accident, cheap to make.
    block = bytes((i * 31 + seed) % 251 for i in range(4096))
    return (block * (n // len(block) + 1))[:n]


def _crc32c_b64(data: bytes) -> str:
    import google_crc32c

    crc: Any = google_crc32c.Checksum()  # type: ignore[no-untyped-call]
    crc.update(data)
    return base64.b64encode(crc.digest()).decode()


class Tour:
    def __init__(self, server: Any, backend: str, out: TextIO, err: TextIO, workdir: str) -> None:
        self.server = server
        self.backend = backend
        self.out = out
        self.err = err
        self.workdir = workdir
        self.step_no = 0
        self.api: Any = None
        self.client: Any = None
        self.big = b""

    # -- printing ----------------------------------------------------------------------

    def heading(self) -> None:
        self.step_no += 1
        title = STEPS[self.step_no - 1]
        self.out.write(f"\n[{self.step_no}/{len(STEPS)}] {title}\n")
        self.out.flush()

    def say(self, text: str) -> None:
        self.out.write(f"    {text}\n")
        self.out.flush()

    def ok(self, text: str) -> None:
        self.out.write(f"  ✓ {text}\n")
        self.out.flush()

    def path(self, url: str) -> str:
        return url.replace(self.server.url, "/", 1)

    def bar(self, label: str) -> ProgressBar:
        return ProgressBar(f"    {label}", stream=self.err)

    # -- the tour ----------------------------------------------------------------------

    async def run(self) -> None:
        from aiogoogle import Aiogoogle, DiscoveryEndpoints, RetryPolicy
        from aiogoogle.auth import Endpoints

        from ._common import Settings

        settings = Settings(root_url=self.server.url, discovery_url=None, backend=self.backend,
                            ca_file=self.server.ca_file, fmt=None, cache=False)
        factory = settings.session_factory()
        # Backoff starts at 0.25 s (instead of 1 s) so the tour stays quick; Retry-After
        # from the server still wins when it asks for longer
        # (https://cloud.google.com/storage/docs/retry-strategy).
        retry = RetryPolicy(initial_backoff=0.25)
        self.client = Aiogoogle(
            session_factory=factory,
            discovery_endpoints=DiscoveryEndpoints.at(self.server.url),
            auth_endpoints=Endpoints.at(self.server.url),
            discovery_cache=False,
            retry=retry,
        )
        steps: list[Callable[[], Awaitable[None]]] = [
            self.discover, self.browse, self.paginate, self.multipart, self.resumable,
            self.download, self.batch, self.retry, self.service_account,
        ]
        async with self.client:
            for step in steps:
                self.heading()
                await step()

    async def discover(self) -> None:
        self.server.reset()
        self.api = api = await self.client.discover("storage", "v1")
        [rec] = self.server.requests("GET")
        doc = api.discovery_document
        self.say(f"GET {rec.path} -> 200, a {human_bytes(_doc_size(doc))} document")
        methods = method_info_count(api)
        self.say(f"{doc['title']} {doc['version']}, revision {doc.get('revision', '?')}: "
                 f"{len(api.resources_available)} resources, {methods} methods, {len(doc.get('schemas', {}))} schemas")
        self.say(f"requests go to {api.root_url} (the document's rootUrl, re-rooted at the local server)")
        _check(methods > 0 and "objects" in api.resources_available, "the storage document has no objects resource")
        self.ok("discovered storage v1")

    async def browse(self) -> None:
        from aiogoogle import ValidationError

        api = self.api
        self.say("resources: " + ", ".join(api.resources_available))
        self.say("objects methods: " + ", ".join(api.objects.methods_available))
        info = method_info(api.objects.insert)
        required = [p["name"] for p in info["parameters"] if p["required"]]
        optional = [p for p in info["parameters"] if not p["required"]]
        self.say(f"objects.insert: {info['httpMethod']} {info['path']}")
        for p in info["parameters"]:
            if p["required"]:
                self.say(f"  required {p['name']} ({p['type']}, {p['location']})")
        shown = ", ".join(f"{p['name']} ({p['type']})" for p in optional[:4])
        self.say(f"  optional {shown}, ... ({len(optional)} in all)")
        media = info.get("mediaUpload") or {}
        self.say(f"  media upload: accepts {', '.join(media.get('accept', []))}; protocols {', '.join(media.get('protocols', []))}")
        self.say(f"  request body: {info['request']['schema'] if info['request'] else 'none'}; response: {info['response']['schema'] if info['response'] else 'none'}")
        _check(required == ["bucket"], f"objects.insert should require only bucket, got {required}")
        try:
            api.objects.list(bucket=BUCKET, maxResults="ten", projection="everything")
        except ValidationError as exc:
            problems = [p.describe() for p in exc.problems]
            self.say("a bad call is rejected before anything is sent:")
            for line in problems:
                self.say(f"  {line}")
            _check(len(problems) == 2, "validation should report both bad arguments")
        else:
            raise DemoFailure("an invalid call was not rejected")
        self.ok("browsed objects.insert and validated arguments locally")

    async def paginate(self) -> None:
        names = [f"bucket-{i:02d}" for i in range(22)] + [BUCKET]
        self.server.add_collection("/storage/v1/b", [{"name": n, "id": n, "kind": "storage#bucket"} for n in names],
                                   id_field="name", page_size=10, kind="storage#buckets")
        before = self.server.count("GET", "/storage/v1/b")
        response = await self.client.as_anon(self.api.buckets.list(project=PROJECT, maxResults=10), full_res=True)
        seen: list[str] = []
        page_no = 0
        async for page in response:
            page_no += 1
            items = page.get("items", [])
            seen.extend(i["name"] for i in items)
            token = page.get("nextPageToken")
            more = f"nextPageToken={token}" if token else "no nextPageToken: last page"
            self.say(f"page {page_no}: {len(items)} buckets ({items[0]['name']} .. {items[-1]['name']}), {more}")
        requests = self.server.count("GET", "/storage/v1/b") - before
        _check(seen == names, f"pagination returned {len(seen)} buckets, expected {len(names)}")
        _check(requests == page_no == 3, f"expected 3 page requests, the server saw {requests}")
        self.ok(f"{len(seen)} buckets in {page_no} pages ({requests} requests, pageToken followed automatically)")

    async def multipart(self) -> None:
        data = _data(300 * KIB, 7)
        bar = self.bar("multipart upload")
        self.server.log.clear()
        result = await self.client.as_anon(self.api.objects.insert(
            bucket=BUCKET,
            json={"name": "reports/summary.txt", "metadata": {"source": "aiogoogle demo"}},
            upload_file=data,
            upload_file_content_type="text/plain",
            progress=bar,
        ))
        bar.finish()
        [rec] = self.server.requests("POST")
        ctype = rec.headers.get("content-type", "")
        length = int(rec.headers.get("content-length") or 0)
        self.say(f"POST {rec.path}?uploadType={rec.param('uploadType')} ({ctype.split(';')[0]}, {human_bytes(length)} in 1 request)")
        self.say(f"stored {result['name']}: {result['size']} bytes, crc32c {result['crc32c']}, metadata {result.get('metadata')}")
        _check(rec.param("uploadType") == "multipart" and ctype.startswith("multipart/related"), "not sent as multipart/related")
        _check(result["crc32c"] == _crc32c_b64(data) and int(result["size"]) == len(data), "stored object differs from the upload")
        self.ok("multipart upload stored byte-exact (crc32c matches)")

    async def resumable(self) -> None:
        from aiogoogle.testing._server_media import media_state

        size = 1280 * KIB + 123
        data = _data(size, 11)
        path = os.path.join(self.workdir, "big.bin")
        with open(path, "wb") as fh:
            fh.write(data)
        # The server cuts the connection 100 KB into the third chunk (a flaky network).
        media_state(self.server).chunk_faults[2] = ("cut", 100_000)
        self.server.log.clear()
        bar = self.bar("resumable upload")
        result = await self.client.as_anon(self.api.objects.insert(
            bucket=BUCKET, name="data/big.bin", upload_file=path, resumable=True, chunk_size=256 * KIB, progress=bar,
        ))
        bar.finish()
        puts = self.server.requests("PUT")
        [start] = self.server.requests("POST")
        self.say(f"POST {start.path}?uploadType={start.param('uploadType')} -> session URI")
        resumed_at = None
        for i, rec in enumerate(puts):
            cr = rec.headers.get("content-range", "")
            if cr.startswith("bytes */"):
                note = "status query: how much did you keep?"
                if i + 1 < len(puts):
                    resumed_at = _range_start(puts[i + 1].headers.get("content-range", ""))
            else:
                note = human_bytes(_range_len(cr))
                if i + 1 < len(puts) and puts[i + 1].headers.get("content-range", "").startswith("bytes */"):
                    note += ", connection cut by the server mid-chunk"
            self.say(f"PUT  Content-Range: {cr}  ({note})")
        queries = [r for r in puts if r.headers.get("content-range", "").startswith("bytes */")]
        if resumed_at is not None:
            self.say(f"the server had kept {resumed_at} bytes (whole 256 KiB units); the upload went on from byte {resumed_at}")
        _check(len(queries) >= 1, "no status query after the broken connection")
        _check(result["crc32c"] == _crc32c_b64(data) and int(result["size"]) == size, "resumed upload is not byte-exact")
        self.ok(f"{human_bytes(size)} uploaded in {len(puts) - len(queries)} chunk requests + {len(queries)} status query, byte-exact")
        self.big = data

    async def download(self) -> None:
        from aiogoogle import ChecksumMismatch
        from aiogoogle.testing._server_media import media_state

        target = os.path.join(self.workdir, "big.copy")
        self.server.log.clear()
        bar = self.bar("ranged download")
        request = self.api.objects.get(bucket=BUCKET, object="data/big.bin", download_file=target, chunk_size=512 * KIB, progress=bar)
        request.media_download.range_chunks = True
        response = await self.client.as_anon(request, full_res=True)
        bar.finish()
        gets = self.server.requests("GET")
        for rec in gets:
            self.say(f"GET {rec.path}?alt=media  Range: {rec.headers.get('range', '(none)')}")
        hashes = response.headers.get("x-goog-hash", "")
        with open(target, "rb") as fh:
            got = fh.read()
        self.say(f"x-goog-hash: {hashes}")
        self.say(f"crc32c of the received bytes: {_crc32c_b64(got)} (checked while streaming)")
        _check(len(gets) == 3 and all(r.headers.get("range") for r in gets), f"expected 3 ranged requests, got {len(gets)}")
        _check(got == self.big, "downloaded bytes differ from the uploaded ones")
        _check(f"crc32c={_crc32c_b64(got)}" in hashes, "server hash does not match")
        # Now a reply whose bytes do not match its x-goog-hash: it must be refused.
        media_state(self.server).download_faults.append(("wrong_hash",))
        bad = os.path.join(self.workdir, "corrupt.copy")
        try:
            await self.client.as_anon(self.api.objects.get(bucket=BUCKET, object="data/big.bin", download_file=bad))
        except ChecksumMismatch as exc:
            self.say(f"a corrupted reply is refused: ChecksumMismatch: {exc}")
            _check(not os.path.exists(bad), "a corrupted download was written to its destination")
            self.say(f"and {os.path.basename(bad)} was not created")
        else:
            raise DemoFailure("a download with a wrong x-goog-hash was accepted")
        self.ok(f"{human_bytes(len(got))} in {len(gets)} Range requests, identical to the upload, checksum verified")

    async def batch(self) -> None:
        from aiogoogle import Request

        self.server.log.clear()
        batch = Request.batch_requests(
            self.api.objects.get(bucket=BUCKET, object="reports/summary.txt"),
            self.api.objects.get(bucket=BUCKET, object="data/big.bin"),
            self.api.objects.get(bucket=BUCKET, object="missing.txt"),
        )
        results = await self.client.as_anon(batch, full_res=True, raise_for_status=False)
        posts = self.server.requests("POST")
        self.say(f"POST {posts[0].path if posts else '?'} ({posts[0].headers.get('content-type', '').split(';')[0] if posts else '?'}, 3 parts)")
        for i, res in enumerate(results, 1):
            body = res.json or {}
            detail = body.get("name") if res.status_code < 300 else (body.get("error") or {}).get("message")
            self.say(f"part {i}: {res.status_code} {detail}")
        codes = [r.status_code for r in results]
        _check(len(posts) == 1, f"the batch took {len(posts)} requests")
        _check(codes == [200, 200, 404], f"unexpected part statuses {codes}")
        self.ok("3 calls, 1 HTTP request, each part matched to its call (the 404 stays a per-part result)")

    async def retry(self) -> None:
        from aiogoogle.testing import Reply

        path = f"/storage/v1/b/{BUCKET}"
        self.server.log.clear()
        self.server.expect("GET", path, Reply.error(429, "Rate limit exceeded, retry later", headers={"Retry-After": "1"}))
        started = time.monotonic()
        bucket = await self.client.as_anon(self.api.buckets.get(bucket=BUCKET))
        elapsed = time.monotonic() - started
        attempts = self.server.requests("GET", path)
        self.say("attempt 1: 429 rateLimitExceeded, Retry-After: 1")
        self.say(f"attempt 2: 200 {bucket.get('name')} after waiting {elapsed:.2f} s")
        _check(len(attempts) == 2, f"expected 2 attempts, the server saw {len(attempts)}")
        # (0.95: timers may fire a hair early; a client ignoring Retry-After retries within 0.25 s.)
        _check(elapsed >= 0.95, f"the client retried after {elapsed:.2f} s, before Retry-After")
        self.ok("retried once, after the server's Retry-After (not before)")

    async def service_account(self) -> None:
        from aiogoogle import Aiogoogle, DiscoveryEndpoints
        from aiogoogle.auth import Endpoints, ServiceAccountCreds
        from aiogoogle.testing._server_auth import JWT_BEARER, auth_state, service_account_key

        key = service_account_key(self.server)
        creds = ServiceAccountCreds(**key, scopes=[SCOPE])
        state = auth_state(self.server)
        before = len(state.token_requests)
        self.server.log.clear()
        client = Aiogoogle(
            session_factory=self.client.session_factory,
            service_account_creds=creds,
            discovery_endpoints=DiscoveryEndpoints.at(self.server.url),
            auth_endpoints=Endpoints.at(self.server.url),
            discovery_cache=False,
        )
        async with client:
            results = await client.as_service_account(
                self.api.buckets.get(bucket=BUCKET),
                self.api.objects.get(bucket=BUCKET, object="reports/summary.txt"),
                self.api.objects.get(bucket=BUCKET, object="data/big.bin"),
            )
        grants = state.token_requests[before:]
        [token_req] = self.server.requests("POST", "/token")
        self.say(f"key for {key['client_email']} (private key id {key['private_key_id']})")
        self.say(f"POST {token_req.path} grant_type={grants[0] if grants else '?'}: RS256 assertion verified by the server -> access token")
        api_calls = [r for r in self.server.log if r.path.startswith("/storage/")]
        bearers = {r.headers.get("authorization", "") for r in api_calls}
        token = next(iter(bearers)).removeprefix("Bearer ") if len(bearers) == 1 else ""
        grant = state.live(token) if token else None
        self.say(f"{len(api_calls)} concurrent API calls carried the same bearer token (one token, fetched once)")
        if grant is not None:
            self.say(f"the server knows the token: client {grant.client_id}, scopes {', '.join(grant.scopes)}")
        _check(grants == [JWT_BEARER], f"expected one jwt-bearer token request, got {grants}")
        _check(grant is not None and SCOPE in grant.scopes, "the API calls did not carry the issued token")
        _check(len(results) == 3 and results[0].get("name") == BUCKET, "service account calls failed")
        self.ok("service account signed in with a JWT assertion; 3 calls, 1 token request")


def _range_start(content_range: str) -> int | None:
    try:
        return int(content_range.split()[1].split("-", maxsplit=1)[0])
    except (IndexError, ValueError):
        return None


def _range_len(content_range: str) -> int:
    try:
        first, last = content_range.split()[1].split("/", maxsplit=1)[0].split("-")
        return int(last) - int(first) + 1
    except (IndexError, ValueError):
        return 0


def _doc_size(doc: Any) -> int:
    import json

    return len(json.dumps(doc))


def method_info_count(api: Any) -> int:
    def count(node: Any) -> int:
        return len(node.methods_available) + sum(count(node.get_resource(r)) for r in node.resources_available)

    return count(api)


def run_demo(backend: str, *, tls: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the tour on ``backend``; returns the exit status (0: every step passed)."""
    from aiogoogle.testing import LocalGoogleServer

    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()
    out.write(f"aiogoogle demo on {backend}: a local Google-compatible server, no account, no network\n")
    with tempfile.TemporaryDirectory(prefix="aiogoogle-demo-") as workdir, LocalGoogleServer(tls=tls) as server:
        out.write(f"local server: {server.url}" + (" (TLS, verified against its own CA)" if tls else "") + "\n")
        tour = Tour(server, backend, out, err, workdir)
        try:
            run_on(backend, tour.run)
        except DemoFailure as exc:
            out.flush()
            err.write(f"aiogoogle demo: step {tour.step_no} failed: {exc}\n")
            return 1
    out.write(f"\nAll {len(STEPS)} steps passed on {backend} in {time.monotonic() - started:.1f} s.\n")
    out.flush()
    return 0
