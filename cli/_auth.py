"""``aiogoogle auth login``: the installed-app sign-in (:mod:`aiogoogle.installed_app`,
RFC 8252 loopback redirect with PKCE), saving the user credentials to a file that only its
owner can read or write (mode 0600, written atomically), ready for ``call --creds FILE``.

The client id and secret are saved alongside the tokens (as gcloud's ``authorized_user``
files do) so the credentials can be refreshed later without the client secrets file.
Nothing secret is printed: stdout gets the file name, the scopes and the expiry.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Any

from ._common import Settings, UsageError, emit_json, message
from ._creds import load_json_file

__all__ = ["client_creds_from", "run_login", "write_private"]

ENV_CLIENT_SECRET = "AIOGOOGLE_CLIENT_SECRET"


def client_creds_from(args: argparse.Namespace, environ: Any = None) -> dict[str, Any]:
    """``client_id``/``client_secret`` from ``--client-secrets`` (the Cloud console's
    ``{"installed": {...}}`` or ``{"web": {...}}`` file) or ``--client-id`` (+ secret)."""
    env = os.environ if environ is None else environ
    if args.client_secrets:
        data = load_json_file(args.client_secrets, "client secrets")
        section = data.get("installed") or data.get("web") or data if isinstance(data, dict) else None
        if not isinstance(section, dict) or not section.get("client_id"):
            raise UsageError(f"{args.client_secrets} has no client_id (expected the OAuth client JSON from the Cloud console)")
        return {"client_id": section["client_id"], "client_secret": section.get("client_secret")}
    if args.client_id:
        return {"client_id": args.client_id, "client_secret": args.client_secret or env.get(ENV_CLIENT_SECRET) or None}
    raise UsageError("auth login needs --client-secrets FILE or --client-id ID")


def write_private(path: str, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` with mode 0600, atomically (temp file + rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--out: directory does not exist: {directory}")
    fd, tmp = tempfile.mkstemp(prefix=".aiogoogle-creds-", dir=directory)
    try:
        os.fchmod(fd, 0o600)  # before any secret is written
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    os.chmod(path, 0o600)


async def run_login(settings: Settings, args: argparse.Namespace) -> int:
    from aiogoogle.auth.creds import ClientCreds

    try:
        from aiogoogle.installed_app import login
    except ImportError as exc:  # pragma: no cover - part of the package
        raise UsageError(f"the installed-app flow is not available: {exc}")

    base = client_creds_from(args)
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    if not scopes:
        raise UsageError("--scopes is empty")
    client = settings.client(client_creds=ClientCreds(**base, scopes=scopes))
    async with client:
        if getattr(args, "device", False):
            from aiogoogle.auth._device import device_login

            creds = await device_login(client, scopes, lambda code: message(code.prompt()))
        else:
            creds = await login(client, scopes=scopes, open_browser=True if args.browser else None, timeout=args.timeout)
    saved = dict(creds)
    saved.setdefault("client_id", base["client_id"])
    if base.get("client_secret"):
        saved.setdefault("client_secret", base["client_secret"])
    write_private(args.out, saved)
    message(f"signed in; credentials saved to {args.out} (readable only by you). Use: aiogoogle call ... --creds {args.out}")
    id_token = saved.get("id_token") if isinstance(saved.get("id_token"), dict) else {}
    emit_json({
        "saved": args.out,
        "scopes": saved.get("scopes"),
        "expires_at": saved.get("expires_at"),
        "refreshable": bool(saved.get("refresh_token")),
        "email": (id_token or {}).get("email"),
    })
    return 0
