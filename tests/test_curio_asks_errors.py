"""CurioAsksSession never lets asks' own failures out as anything but our errors: when
anyio 2.2 ends asks' timeout helper with neither an answer nor an error (seen under load as
``TypeError: cannot unpack non-iterable NoneType object`` inside asks), the exchange is a
TransportError."""

from __future__ import annotations

from typing import Any

import curio
import pytest

from aiogoogle._http import HttpRequest, Timeout
from aiogoogle.excs import TransportError
from aiogoogle.sessions.curio_asks_session import CurioAsksSession
from aiogoogle.testing import LocalGoogleServer


def test_a_lost_answer_inside_asks_is_a_transport_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import asks.sessions

    real = asks.sessions.timeout_manager

    async def lost(timeout: Any, coro: Any, *args: Any) -> Any:
        if getattr(coro, "__name__", "") == "make_request":
            return None  # what anyio 2.2's swallowed cancellation leaves asks with
        return await real(timeout, coro, *args)

    monkeypatch.setattr(asks.sessions, "timeout_manager", lost)

    async def scenario(url: str) -> None:
        session = CurioAsksSession()
        try:
            await session.send(HttpRequest("GET", url + "x?key=SECRET", (), b"", Timeout(connect=5, read=5)))
        finally:
            await session.close()

    with LocalGoogleServer() as server, pytest.raises(TransportError, match="without a response or an error") as caught:
        curio.run(scenario, server.url)
    assert "SECRET" not in str(caught.value)
