"""Sign a user in from a desktop or command-line app: the loopback flow of RFC 8252.

::

    from aiogoogle import Aiogoogle
    from aiogoogle.auth import ClientCreds
    from aiogoogle.installed_app import login

    async with Aiogoogle(client_creds=ClientCreds(client_id=..., client_secret=...)) as ag:
        user_creds = await login(ag, scopes=["openid", "email", "https://www.googleapis.com/auth/drive"],
                                 open_browser=True)

What :func:`login` does (docs/protocol.md §6.3):

1. listens on ``127.0.0.1`` on an ephemeral port (never another interface) and uses
   ``http://127.0.0.1:<port>/`` as the ``redirect_uri`` (Google accepts any port for
   "Desktop app" clients);
2. builds the authorization URL with a fresh ``state`` and a PKCE S256 challenge (plus a
   ``nonce`` when the ``openid`` scope is asked for);
3. hands the URL to ``open_browser`` (by default it is printed to stderr; ``True`` opens
   the system browser; any callable, sync or async, receives the URL);
4. accepts exactly one redirect carrying ``code`` or ``error`` (other requests, such as a
   browser's ``/favicon.ico``, get a 404), answers it with a short page and closes the
   listener;
5. checks ``state`` (and ``iss`` when the server sends it, RFC 9207), exchanges the code with the PKCE verifier and returns the
   :class:`~aiogoogle.auth.creds.UserCreds` (id_token verified when ``openid`` was asked for).

The listener runs in a worker thread of the client's session (``run_sync``), so this works
the same on asyncio, curio and trio. Nothing is logged; the code never appears in messages.
"""

from __future__ import annotations

import inspect
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiogoogle.auth.creds import ClientCreds, UserCreds
from aiogoogle.auth.utils import pkce_pair
from aiogoogle.excs import AuthError

__all__ = ["LoopbackListener", "login"]

_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>aiogoogle</title></head>"
    b"<body><p>%s</p><p>You can close this window.</p></body></html>"
)


class LoopbackListener:
    """A one-shot HTTP listener on ``127.0.0.1`` for the authorization redirect."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("the loopback listener binds only 127.0.0.1 or ::1 (RFC 8252 §7.3)")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, port))
        self._sock.listen(8)
        self._sock.settimeout(0.25)
        self._stop = threading.Event()
        self.port: int = self._sock.getsockname()[1]
        self.redirect_uri = f"http://{host if family == socket.AF_INET else f'[{host}]'}:{self.port}/"

    def close(self) -> None:
        """Stop waiting and release the port."""
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass

    def wait(self, timeout: float) -> dict[str, str]:
        """Block until the redirect arrives (``code``/``error`` in its query); return its
        query parameters. Raises :class:`AuthError` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        try:
            while not self._stop.is_set():
                if time.monotonic() > deadline:
                    raise AuthError(f"no authorization redirect arrived within {timeout:g} s")
                try:
                    conn, _addr = self._sock.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                with conn:
                    params = self._serve(conn)
                if params is not None:
                    return params
            raise AuthError("the sign-in was cancelled")
        finally:
            self.close()

    @staticmethod
    def _serve(conn: socket.socket) -> dict[str, str] | None:
        conn.settimeout(10)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return None
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        if len(parts) < 2 or parts[0] != "GET":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return None
        query = {k: v[0] for k, v in parse_qs(urlsplit(parts[1]).query, keep_blank_values=True).items()}
        if "code" not in query and "error" not in query:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return None
        text = b"Sign-in finished." if "code" in query else b"Sign-in was not completed."
        body = _PAGE % text
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n"
        conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return query


def _print_url(url: str) -> None:
    print(f"Open this URL in a browser to sign in:\n\n    {url}\n", file=sys.stderr, flush=True)


async def login(
    client: Any,
    scopes: Sequence[str] | None = None,
    client_creds: dict[str, Any] | None = None,
    *,
    open_browser: bool | Callable[[str], Any] | None = None,
    timeout: float = 300.0,
    access_type: str | None = "offline",
    prompt: str | None = None,
    login_hint: str | None = None,
    host: str = "127.0.0.1",
) -> UserCreds:
    """Run the installed-app sign-in and return the user's credentials (see the module doc).

    Args:
        client: an :class:`~aiogoogle.Aiogoogle` (its session, endpoints and managers are used).
        scopes: scopes to ask for (default: the client creds' ``scopes``).
        client_creds: ``client_id`` (and ``client_secret`` if the client has one); default
            the client's ``client_creds``. Its ``redirect_uri`` is ignored (the loopback one is used).
        open_browser: ``None``/``False`` print the URL, ``True`` opens the system browser,
            a callable (sync or async) receives the URL.
        timeout: seconds to wait for the redirect.
        access_type, prompt, login_hint: passed to the authorization URL
            (``offline`` gets a refresh token).
    """
    base = client_creds if client_creds is not None else client.client_creds
    if not base or not base.get("client_id"):
        raise AuthError("login() needs client_creds with a client_id")
    wanted = list(scopes if scopes is not None else (base.get("scopes") or []))
    openid = "openid" in wanted
    manager = client.openid_connect if openid else client.oauth2
    listener = LoopbackListener(host)
    try:
        creds = ClientCreds(**{**dict(base), "redirect_uri": listener.redirect_uri, "scopes": wanted})
        verifier, _challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32) if openid else None
        if openid:
            url = manager.authorization_url(creds, nonce=nonce, state=state, prompt=prompt, login_hint=login_hint, access_type=access_type, code_verifier=verifier)
        else:
            url = manager.authorization_url(creds, state=state, access_type=access_type, login_hint=login_hint, prompt=prompt, code_verifier=verifier)
        if open_browser is True:
            import webbrowser

            opener: Callable[[str], Any] = webbrowser.open
        elif open_browser is None or open_browser is False:
            opener = _print_url
        else:
            opener = open_browser
        result = opener(url)
        if inspect.isawaitable(result):
            await result
        async with client._temporary_session() as session:
            params = await session.run_sync(listener.wait, timeout)
    finally:
        listener.close()
    if params.get("state") != state:
        raise AuthError("the redirect's state does not match the one sent (possible CSRF); sign-in aborted")
    issuer = params.get("iss")
    if issuer is not None and issuer not in manager.endpoints.issuers:
        # RFC 9207: the redirect names the server that issued the code (mix-up defence).
        raise AuthError(f"the redirect came from issuer {issuer!r}, not {manager.endpoints.issuer!r}; sign-in aborted")
    if "error" in params:
        detail = params.get("error_description")
        raise AuthError(f"sign-in failed: {params['error']}" + (f" ({detail})" if detail else ""))
    if openid:
        result_creds: UserCreds = await manager.build_user_creds(params["code"], creds, nonce=nonce, code_verifier=verifier, redirect_uri=listener.redirect_uri)
    else:
        result_creds = await manager.build_user_creds(params["code"], creds, code_verifier=verifier, redirect_uri=listener.redirect_uri)
    return result_creds
