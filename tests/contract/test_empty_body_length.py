"""An empty POST, PUT or PATCH carries ``Content-Length: 0`` on every adapter: Google's
front end answers one without it with 411 Length Required. The rule lives in the core's
request encoding (``aiogoogle._send.send_flow``), not in any one adapter."""

from __future__ import annotations

from typing import Any

import pytest

from aiogoogle import Request
from aiogoogle.testing import LocalGoogleServer

from ..conftest import Backend


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_empty_body_methods_send_content_length_zero(backend: Backend, clean_server: LocalGoogleServer, method: str) -> None:
    async def scenario() -> Any:
        async with backend.client() as ag:
            return await ag.as_anon(Request(method=method, url=f"{clean_server.url}echo/empty"), raise_for_status=False)

    backend.run(scenario)
    [record] = [r for r in clean_server.log if r.path == "/echo/empty"]
    assert record.method == method and record.headers.get("content-length") == "0" and record.body == b""
