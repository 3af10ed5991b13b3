"""Where the examples send their requests, and where their credentials come from.

This is the only thing the examples add to aiogoogle's documented ones: with
``AIOGOOGLE_ROOT_URL`` unset they talk to Google; set to a server every URL goes there
instead: discovery, the APIs and the OAuth2 token endpoint. ``aiogoogle serve --creds-dir
DIR`` runs a fake Google and writes ``DIR/env.sh``, which sets that variable and the
credentials below to ones the fake accepts (README.rst, "Examples").

Credentials, as for the command line:

* ``AIOGOOGLE_USER_CREDS``: a JSON file of user credentials (``aiogoogle auth login`` writes one);
* ``AIOGOOGLE_API_KEY``: an API key;
* ``GOOGLE_APPLICATION_CREDENTIALS``: a service account key file.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aiogoogle import DiscoveryEndpoints
from aiogoogle.auth import Endpoints


def endpoints() -> dict[str, Any]:
    """Keyword arguments for ``Aiogoogle(...)``: empty for Google, else the server."""
    root = os.environ.get("AIOGOOGLE_ROOT_URL")
    if not root:
        return {}
    return {"discovery_endpoints": DiscoveryEndpoints.at(root), "auth_endpoints": Endpoints.at(root)}


def user_creds() -> dict[str, Any]:
    with open(os.environ["AIOGOOGLE_USER_CREDS"], encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def api_key() -> str:
    return os.environ["AIOGOOGLE_API_KEY"]


def service_account_key() -> dict[str, Any]:
    with open(os.environ["GOOGLE_APPLICATION_CREDENTIALS"], encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]
