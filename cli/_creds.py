"""Where ``aiogoogle call`` gets its credentials, in this order:

1. ``--anon``: none;
2. ``--creds FILE``: a JSON file: a service account key (``"type": "service_account"``),
   gcloud's ``authorized_user`` file, an ``impersonated_service_account`` file (gcloud's ADC
   file after ``--impersonate-service-account``; used as Application Default Credentials),
   the user credentials ``aiogoogle auth login`` saved (``access_token``/``refresh_token``),
   or ``{"api_key": "..."}``;
3. ``--adc``: Application Default Credentials, the whole chain (``GOOGLE_APPLICATION_CREDENTIALS``,
   gcloud's file, then the metadata server);
4. ``AIOGOOGLE_API_KEY``: an API key;
5. ``GOOGLE_APPLICATION_CREDENTIALS`` set, or gcloud's ``application_default_credentials.json``
   present: Application Default Credentials (without probing the metadata server, which
   would make every call on a laptop wait for a timeout);
6. otherwise no credentials.

Secrets are never printed: only the kind of credentials and where they came from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._common import ENV_API_KEY, UsageError

__all__ = ["Credentials", "load_json_file", "pick_credentials"]


@dataclass
class Credentials:
    """What to send as: ``kind`` is ``user``, ``service_account``, ``api_key`` or ``anon``."""

    kind: str
    value: Any
    source: str
    #: A credentials file to detect as Application Default Credentials (instead of the
    #: environment's ``GOOGLE_APPLICATION_CREDENTIALS``).
    adc_file: str | None = None

    def __repr__(self) -> str:
        return f"Credentials({self.kind} from {self.source})"

    def client_kwargs(self) -> dict[str, Any]:
        if self.kind == "user":
            return {"user_creds": self.value}
        if self.kind == "service_account":
            return {"service_account_creds": self.value}
        if self.kind == "api_key":
            return {"api_key": self.value}
        return {}

    def apply(self, client: Any, environ: Mapping[str, str]) -> None:
        """Give ``client`` these credentials (``environ``: the environment ADC reads)."""
        for key, value in self.client_kwargs().items():
            setattr(client, key, value)
        if self.adc_file is not None:
            client.service_account_manager.environ = {**environ, "GOOGLE_APPLICATION_CREDENTIALS": self.adc_file}

    async def send(self, client: Any, request: Any, **kwargs: Any) -> Any:
        if self.kind == "user":
            return await client.as_user(request, **kwargs)
        if self.kind == "service_account":
            return await client.as_service_account(request, **kwargs)
        if self.kind == "api_key":
            return await client.as_api_key(request, **kwargs)
        return await client.as_anon(request, **kwargs)


def load_json_file(path: str, what: str) -> Any:
    """A JSON file's content; :class:`UsageError` when it is missing or not JSON."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"{what} file not found: {path}")
    except IsADirectoryError:
        raise UsageError(f"{what} file is a directory: {path}")
    except PermissionError:
        raise UsageError(f"{what} file is not readable: {path}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} file {path} is not valid JSON: {exc}")


def _gcloud_adc(env: Mapping[str, str]) -> str | None:
    # The core's idea of gcloud's file (CLOUDSDK_CONFIG, %APPDATA% on Windows, ~/.config).
    from aiogoogle.auth._adc import gcloud_adc_path

    path = gcloud_adc_path(env)
    return path if path is not None and os.path.isfile(path) else None


def from_file(path: str, scopes: Sequence[str]) -> Credentials:
    """The credentials in ``path``: a credentials file of a type the core knows
    (:data:`aiogoogle.auth._adc.FILE_TYPES`, detected by the core), the user credentials
    ``aiogoogle auth login`` saved (no ``type``), or ``{"api_key": ...}``."""
    from aiogoogle.auth._adc import FILE_TYPES, source_from_info
    from aiogoogle.auth.creds import ServiceAccountCreds, UserCreds
    from aiogoogle.auth.endpoints import Endpoints

    data = load_json_file(path, "credentials")
    if not isinstance(data, dict):
        raise UsageError(f"credentials file {path} must hold a JSON object")
    kind = data.get("type")
    if kind is None and data.get("private_key"):
        kind = data["type"] = "service_account"  # a key without its "type" line
    if isinstance(kind, str) and kind in FILE_TYPES:
        # A file of a known type that lacks what the type needs: the core's AuthError.
        source = source_from_info(data, "credentials file", path, Endpoints())
        if source.user_creds is not None:
            return Credentials("user", UserCreds(**data), path)
        if source.kind == "service_account":
            creds = ServiceAccountCreds(**data)
            if scopes and not creds.get("scopes"):
                creds["scopes"] = list(scopes)
            return Credentials("service_account", creds, path)
        # Any other type is detected like GOOGLE_APPLICATION_CREDENTIALS, so the core reads
        # the file and runs its protocol (e.g. impersonation:
        # https://cloud.google.com/docs/authentication/use-service-account-impersonation).
        return Credentials("service_account", ServiceAccountCreds(scopes=list(scopes) or None), path, adc_file=path)
    if kind is None and (data.get("access_token") or data.get("refresh_token")):
        return Credentials("user", UserCreds(**data), path)
    if kind is None and isinstance(data.get("api_key"), str):
        return Credentials("api_key", data["api_key"], path)
    raise UsageError(
        f"credentials file {path} is not a credentials file of type {', '.join(FILE_TYPES)}, "
        "saved user credentials (aiogoogle auth login) or {\"api_key\": ...}"
    )


def pick_credentials(
    *,
    creds_file: str | None,
    anon: bool,
    adc: bool,
    scopes: Sequence[str],
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """The credentials for a call (see the module docstring for the order)."""
    from aiogoogle.auth.creds import ServiceAccountCreds

    env = os.environ if environ is None else environ
    if anon:
        return Credentials("anon", None, "--anon")
    if creds_file:
        return from_file(creds_file, scopes)
    if adc:
        return Credentials("service_account", ServiceAccountCreds(scopes=list(scopes) or None), "Application Default Credentials")
    key = env.get(ENV_API_KEY)
    if key:
        return Credentials("api_key", key, ENV_API_KEY)
    gac = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if gac:
        if not os.path.isfile(gac):
            raise UsageError(f"GOOGLE_APPLICATION_CREDENTIALS names a file that does not exist: {gac}")
        return Credentials("service_account", ServiceAccountCreds(scopes=list(scopes) or None), "GOOGLE_APPLICATION_CREDENTIALS")
    gcloud = _gcloud_adc(env)
    if gcloud:
        return Credentials("service_account", ServiceAccountCreds(scopes=list(scopes) or None), gcloud)
    return Credentials("anon", None, "no credentials found")
