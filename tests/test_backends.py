"""aiogoogle.sessions.backends: sessions and event loops by name."""

from __future__ import annotations

import pytest

from aiogoogle.sessions.backends import BACKENDS, run, session_class


@pytest.mark.parametrize("name", BACKENDS)
def test_each_backend_runs_its_own_session(name: str) -> None:
    async def scenario(x: int) -> str:
        session = session_class(name)()
        try:
            await session.sleep(0)
            return f"{type(session).__name__}:{x}"
        finally:
            await session.close()

    expected = {"asyncio": "AiohttpSession", "curio": "CurioAsksSession", "curio-h11": "CurioSession", "trio": "TrioSession", "sync": "SyncSession"}[name]
    assert run(name, scenario, 7) == f"{expected}:7"


def test_an_unknown_backend_is_named() -> None:
    with pytest.raises(ValueError, match=r"'twisted'.*asyncio, curio, curio-h11, trio, sync"):
        session_class("twisted")

    async def nothing() -> None:
        return None

    with pytest.raises(ValueError, match="'twisted'"):
        run("twisted", nothing)
