"""Servers shared by the contract tests.

``server`` is one plain-HTTP :class:`~aiogoogle.testing.LocalGoogleServer` for the whole
session (reset before each test that asks for ``clean_server``, or for ``state``: the auth
plugin's state of the freshly reset server), ``tls_server`` the same over TLS with its
trustme CA, ``other_server`` a second origin (cross-origin redirects). Every test resets
the server before it scripts it; :meth:`~aiogoogle.testing.LocalGoogleServer.reset` keeps
documents and collections added to it, so a test that adds collections or changes a
served document uses a server of its own.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from aiogoogle.testing import LocalGoogleServer
from aiogoogle.testing._server_auth import AuthState, auth_state


@pytest.fixture(scope="session")
def server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as srv:
        yield srv


@pytest.fixture
def clean_server(server: LocalGoogleServer) -> LocalGoogleServer:
    server.reset()
    return server


@pytest.fixture
def state(server: LocalGoogleServer) -> AuthState:
    server.reset()
    return auth_state(server)


@pytest.fixture(scope="session")
def tls_server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer(tls=True) as srv:
        yield srv


@pytest.fixture(scope="session")
def other_server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as srv:
        yield srv


def stop_process(proc: subprocess.Popen[Any], grace: float) -> None:
    """Stop a helper server process: SIGTERM, then SIGKILL if it has not exited within
    ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
