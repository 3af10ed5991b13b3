"""Servers shared by the contract tests (the fixtures come from the contract plugin,
aiogoogle.testing.contract, loaded by tests/conftest.py).

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
from typing import Any


def stop_process(proc: subprocess.Popen[Any], grace: float) -> None:
    """Stop a helper server process: SIGTERM, then SIGKILL if it has not exited within
    ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
