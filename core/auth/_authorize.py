"""How the client authorises requests (interim: static credentials only).

Replaced by the full implementation of issue 4 (refresh, single flight, service accounts,
ADC, metadata server). The interface the client relies on:

* ``ClientAuth(client, refresh_margin=..., endpoints=...)``
* ``.user(creds)``, ``.service_account(creds)``, ``.api_key(key)`` each return an
  ``Authorizer``: ``async (stale_token | None) -> AuthInfo``.
* ``.oauth2``, ``.openid_connect``, ``.service_account_manager``, ``.api_key_manager``.
"""

from __future__ import annotations

from typing import Any

from .._effects import AuthInfo
from ..excs import AuthError


class ClientAuth:
    def __init__(self, client: Any, *, refresh_margin: float | None = None, endpoints: Any = None) -> None:
        self.client = client
        self.oauth2: Any = None
        self.openid_connect: Any = None
        self.service_account_manager: Any = None
        self.api_key_manager: Any = None

    def user(self, creds: Any = None) -> Any:
        creds = creds if creds is not None else self.client.user_creds
        if not creds or not creds.get("access_token"):
            raise AuthError("no user credentials with an access_token")
        token = str(creds["access_token"])

        async def authorize(stale: str | None) -> AuthInfo:
            return AuthInfo(headers=(("authorization", f"Bearer {token}"),), token=token)

        return authorize

    def service_account(self, creds: Any = None) -> Any:
        raise AuthError("service accounts are not available yet")

    def api_key(self, key: Any = None) -> Any:
        key = key if key is not None else self.client.api_key
        if not key:
            raise AuthError("no API key")
        info = AuthInfo(query=(("key", str(key)),))

        async def authorize(stale: str | None) -> AuthInfo:
            return info

        return authorize
