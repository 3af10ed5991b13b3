"""Authentication (seed ``aiogoogle.auth``): credentials, managers and endpoints.

* :mod:`aiogoogle.auth.creds`: ``UserCreds``, ``ClientCreds``, ``ServiceAccountCreds``,
  ``ApiKey``, ``IdToken`` (JSON dicts whose reprs hide secrets);
* :mod:`aiogoogle.auth.managers`: ``Oauth2Manager`` (authorization code + PKCE),
  ``OpenIdConnectManager`` (verified id_tokens), ``ServiceAccountManager`` (keys,
  Application Default Credentials, metadata server), ``ApiKeyManager``;
* :mod:`aiogoogle.auth.endpoints`: every URL, injectable (``Endpoints``);
* :mod:`aiogoogle.auth.utils`: ``create_secret``, ``pkce_pair``;
* ``ImpersonatedCreds`` (service account impersonation, accepted wherever service account
  credentials are) and ``device_login``/``DeviceCode`` (the OAuth 2.0 device flow, RFC 8628).

The protocol steps themselves are pure flows in ``aiogoogle.auth._flows``; the client's
token lifecycle (refresh margin, single flight, 401 recovery) is in ``aiogoogle.auth._authorize``.
"""

from __future__ import annotations

from ._device import DeviceCode, device_login
from ._impersonate import ImpersonatedCreds
from .creds import ApiKey, ClientCreds, IdToken, ServiceAccountCreds, UserCreds
from .endpoints import Endpoints
from .managers import ApiKeyManager, Oauth2Manager, OpenIdConnectManager, ServiceAccountManager
from .utils import create_secret, pkce_pair

__all__ = [
    "ApiKey",
    "ApiKeyManager",
    "ClientCreds",
    "DeviceCode",
    "Endpoints",
    "IdToken",
    "ImpersonatedCreds",
    "Oauth2Manager",
    "OpenIdConnectManager",
    "ServiceAccountCreds",
    "ServiceAccountManager",
    "UserCreds",
    "create_secret",
    "device_login",
    "pkce_pair",
]
