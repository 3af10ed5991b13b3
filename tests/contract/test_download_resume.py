"""A broken download continues exactly after the bytes that arrived, on every adapter: no
adapter may drop bytes it had already received when the connection broke (aiohttp's
``readany()`` raises at once and leaves them buffered; the adapter hands them over)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from aiogoogle import RetryPolicy
from aiogoogle.discovery import DiscoveryEndpoints
from aiogoogle.testing import LocalGoogleServer
from aiogoogle.testing._server_media import media_state

from ..conftest import Backend

FAST = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05, deadline=20)


@pytest.mark.parametrize("fault", [("truncate", 70_000), ("drop", 150_000), ("truncate", 1_500_000)])
def test_resumed_download_starts_after_every_received_byte(backend: Backend, server: LocalGoogleServer, tmp_path: Path, fault: tuple[str, int]) -> None:
    data = (hashlib.sha256(b"resume").digest() * 100_000)[:3_000_000]
    dest = tmp_path / "f.bin"
    for _ in range(3):  # the bytes in flight at the break differ from run to run
        server.reset()
        media = media_state(server)
        media.put("/storage/v1/b/bkt/o/f", data)
        media.download_faults.append(fault)

        async def scenario() -> None:
            async with backend.client(discovery_endpoints=DiscoveryEndpoints.at(server.url), retry=FAST) as ag:
                storage = await ag.discover("storage", "v1")
                await ag.as_anon(storage.objects.get(bucket="bkt", object="f", download_file=str(dest)))

        backend.run(scenario)
        assert dest.read_bytes() == data
        gets = [r for r in server.log if r.query.get("alt") == ["media"]]
        assert len(gets) == 2
        assert gets[1].headers.get("range") == f"bytes={fault[1]}-"
