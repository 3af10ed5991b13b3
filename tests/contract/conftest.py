"""Servers shared by the contract tests.

``server`` is one plain-HTTP :class:`~aiogoogle.testing.LocalGoogleServer` for the whole
session (reset before each test that asks for ``clean_server``), ``tls_server`` the same
over TLS with its trustme CA, ``other_server`` a second origin (cross-origin redirects).
Test modules that need a private server define their own ``server`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aiogoogle.testing import LocalGoogleServer


@pytest.fixture(scope="session")
def server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as srv:
        yield srv


@pytest.fixture
def clean_server(server: LocalGoogleServer) -> LocalGoogleServer:
    server.reset()
    return server


@pytest.fixture(scope="session")
def tls_server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer(tls=True) as srv:
        yield srv


@pytest.fixture(scope="session")
def other_server() -> Iterator[LocalGoogleServer]:
    with LocalGoogleServer() as srv:
        yield srv
