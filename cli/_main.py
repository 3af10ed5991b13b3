"""The ``aiogoogle`` command: argument parsing, dispatch and exit statuses.

Exit statuses: 0 success; 1 the API, the network or an auth server failed (HTTP errors,
connection problems, checksum mismatches, a failed demo step); 2 bad input (usage,
unknown API or method, invalid or missing parameters); 130 interrupted. Data goes to
stdout (JSON by default for ``call``), messages and progress bars to stderr, and our own
errors are one line (or one line per problem), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from aiogoogle.sessions.backends import BACKENDS

from ._common import (
    ENV_API_KEY,
    ENV_BACKEND,
    ENV_CA_FILE,
    ENV_DISCOVERY_URL,
    ENV_ROOT_URL,
    Settings,
    UsageError,
    add_common,
    message,
    show,
)

__all__ = ["build_parser", "main"]

PROG = "aiogoogle"

_EPILOG = f"""\
environment:
  {ENV_ROOT_URL}       send every request (APIs, discovery, OAuth2) to this server
  {ENV_DISCOVERY_URL}  fetch discovery documents from this server
  {ENV_API_KEY}        API key for `call` (when no --creds is given)
  GOOGLE_APPLICATION_CREDENTIALS  service account key / ADC file for `call`
  {ENV_CA_FILE}        extra CA certificate to trust (PEM)
  {ENV_BACKEND}        asyncio, curio (asks), curio-h11 or trio
  AIOGOOGLE_CACHE_DIR       where discovery documents are cached

exit status: 0 ok, 1 API/HTTP/network error, 2 usage or validation error

examples:
  aiogoogle demo --backend trio
  aiogoogle apis --name drive
  aiogoogle describe storage v1 objects.insert
  aiogoogle call storage v1 objects.list bucket=my-bucket maxResults=10 --all-pages
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


class _Parser(argparse.ArgumentParser):
    """Every parser of the command, subcommands included (argparse makes a subcommand's
    parser of its parent's class), formats its help with :class:`_Formatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _add_api_version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("api", metavar="API", help="API name, e.g. storage")
    parser.add_argument("version", metavar="VERSION", help="API version, e.g. v1")


def build_parser() -> argparse.ArgumentParser:
    from aiogoogle import __version__

    parser = _Parser(
        prog=PROG,
        description="Browse Google APIs and call their methods from the command line; run the "
                    "local Google-compatible server; take the demo tour.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"aiogoogle {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True

    p = sub.add_parser("apis", help="list APIs from the Discovery directory (or the local cache)",
                       description="List the APIs and versions the Discovery directory knows. With --cached, "
                                   "or when the directory cannot be reached, list the documents in the local cache.")
    p.add_argument("--name", help="only this API (e.g. drive)")
    p.add_argument("--preferred", action="store_true", help="only the preferred version of each API")
    p.add_argument("--cached", action="store_true", help="list the on-disk discovery cache, without the network")
    add_common(p, fmt_default="table")
    p.set_defaults(handler=cmd_apis)

    p = sub.add_parser("describe", help="show an API, a resource or a method",
                       description="Show an API (resources, methods, scopes), a resource (its methods) or a method "
                                   "(parameters, required first, with types, patterns and defaults; media; request "
                                   "and response schemas; scopes).")
    _add_api_version(p)
    p.add_argument("target", metavar="RESOURCE[.METHOD]", nargs="?", help="e.g. objects or objects.insert")
    add_common(p, fmt_default="table")
    p.set_defaults(handler=cmd_describe)

    p = sub.add_parser("call", help="call an API method and print the result",
                       description="Build, validate and send one call. Parameters are key=value (discovery names or "
                                   "Python aliases; repeat a key for a repeated parameter).",
                       epilog="credentials, in order: --anon; --creds FILE (service account key, authorized_user, "
                              "saved `auth login` credentials or {\"api_key\": ...}); --adc; $AIOGOOGLE_API_KEY; "
                              "$GOOGLE_APPLICATION_CREDENTIALS or gcloud's ADC file; else none.")
    _add_api_version(p)
    p.add_argument("method", metavar="RESOURCE.METHOD", help="e.g. objects.list")
    p.add_argument("params", metavar="KEY=VALUE", nargs="*", help="path and query parameters")
    p.add_argument("--json", metavar="BODY", help="request body: JSON text, @file or @- (stdin)")
    p.add_argument("--upload", metavar="FILE", help="upload this file as the method's media")
    p.add_argument("--content-type", metavar="MIME", help="media type of --upload (default: guessed)")
    p.add_argument("--resumable", action="store_true", help="use a resumable upload")
    p.add_argument("--download", metavar="FILE", help="save the media (alt=media) to FILE ('-': write it to stdout)")
    p.add_argument("--chunk-size", type=_positive_int, metavar="BYTES", help="upload chunk size (multiple of 262144) or download read size")
    p.add_argument("--all-pages", action="store_true", help="follow nextPageToken and print every item of every page")
    p.add_argument("--items-field", metavar="FIELD", help="with --all-pages: the list field of each page (default: items or the only list)")
    p.add_argument("--creds", metavar="FILE", help="credentials JSON file")
    p.add_argument("--adc", action="store_true", help="use Application Default Credentials (incl. the metadata server)")
    p.add_argument("--anon", action="store_true", help="send without credentials")
    p.add_argument("--scopes", metavar="S1,S2", help="scopes for service accounts (default: the method's first scope)")
    p.add_argument("--no-validate", action="store_true", help="send without checking parameters against the discovery document")
    p.add_argument("--dry-run", action="store_true", help="validate and print the request (method, URL, body) without sending it")
    p.add_argument("-v", "--verbose", action="store_true", help="print the request line and the credential source to stderr")
    add_common(p, fmt_default="json")
    p.set_defaults(handler=cmd_call)

    p = sub.add_parser("auth", help="sign in (OAuth2 installed-app flow)", description="Authentication helpers.")
    auth_sub = p.add_subparsers(dest="auth_command", metavar="ACTION", title="actions")
    auth_sub.required = True
    a = auth_sub.add_parser("login", help="sign in in a browser and save the user credentials",
                            description="The installed-app loopback flow with PKCE (RFC 8252): listens on 127.0.0.1, "
                                        "prints (or opens) the sign-in URL, exchanges the code and saves the "
                                        "credentials to a file only you can read (mode 0600).")
    a.add_argument("--client-secrets", metavar="FILE", help="OAuth client JSON downloaded from the Cloud console")
    a.add_argument("--client-id", metavar="ID", help="OAuth client id (instead of --client-secrets)")
    a.add_argument("--client-secret", metavar="SECRET", help="OAuth client secret (prefer --client-secrets; "
                   "env AIOGOOGLE_CLIENT_SECRET)")
    a.add_argument("--scopes", metavar="S1,S2", default="openid,email",
                   help="scopes to ask for (default: openid,email)")
    a.add_argument("--out", metavar="FILE", default="aiogoogle-user-creds.json", help="where to save the credentials "
                   "(default: %(default)s)")
    a.add_argument("--browser", action="store_true", help="open the system browser (default: print the URL)")
    a.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the sign-in (default 300)")
    add_common(a, fmt=False)
    a.set_defaults(handler=cmd_auth_login)

    p = sub.add_parser("serve", help="run the local Google-compatible server (for other programs' tests)",
                       description="Serve discovery documents, an object store with uploads/downloads, batch, "
                                   "an OAuth2 token endpoint and a metadata server on 127.0.0.1 until interrupted. "
                                   "Point clients at the printed URL (e.g. AIOGOOGLE_ROOT_URL).")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", choices=("127.0.0.1", "localhost"), help="interface (loopback only)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (its PEM path is printed)")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("demo", help="a tour of the library against the embedded local server (no account, no network)",
                       description="Start the embedded local server and walk through the real stack: discovery, "
                                   "browsing, pagination, multipart and resumable uploads, a ranged download with "
                                   "checksum verification, a batch, a 429 retried after Retry-After and a service "
                                   "account token.")
    p.add_argument("--backend", choices=BACKENDS, help="async framework (default asyncio)")
    p.add_argument("--tls", action="store_true", help="run the local server with TLS (and verify it)")
    p.set_defaults(handler=cmd_demo)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


# ------------------------------------------------------------------------------- commands


def cmd_apis(args: argparse.Namespace) -> int:
    from aiogoogle.excs import TransportError

    settings = Settings.from_args(args)
    if args.cached:
        items = _cached_apis(args.name)
    else:
        async def fetch() -> Any:
            client = settings.client()
            async with client:
                return await client.list_api(args.name, True if args.preferred else None)

        try:
            directory = settings.run(fetch)
            items = list(directory.get("items") or []) if isinstance(directory, dict) else []
        except TransportError as exc:
            message(f"aiogoogle: the Discovery directory cannot be reached ({exc}); listing the local cache instead")
            items = _cached_apis(args.name)
    if args.format == "json":
        show(items, "json")
        return 0
    rows = [[i.get("name"), i.get("version"), "yes" if i.get("preferred") else "", i.get("title", "")] for i in items]
    from ._common import table

    if rows:
        table(rows, ["name", "version", "preferred", "title"])
    message(f"{len(rows)} API version{'s' if len(rows) != 1 else ''}")
    return 0


def _cached_apis(name: str | None) -> list[dict[str, Any]]:
    import json

    from aiogoogle.client import default_cache_dir

    directory = default_cache_dir()
    items: list[dict[str, Any]] = []
    try:
        files = sorted(os.listdir(directory))
    except FileNotFoundError:
        files = []
    for fn in files:
        if not fn.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, fn), encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or (name and doc.get("name") != name):
            continue
        items.append({"name": doc.get("name"), "version": doc.get("version"), "title": doc.get("title"),
                      "id": doc.get("id"), "cached": os.path.join(directory, fn)})
    return items


def cmd_describe(args: argparse.Namespace) -> int:
    from ._describe import describe

    settings = Settings.from_args(args)

    async def fetch() -> Any:
        client = settings.client()
        async with client:
            return await client.discover(args.api, args.version, root_url=settings.root_url)

    api = settings.run(fetch)
    describe(api, args.target, args.format, sys.stdout)
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from ._call import run_call

    settings = Settings.from_args(args)
    return int(settings.run(run_call, settings, args))


def cmd_auth_login(args: argparse.Namespace) -> int:
    from ._auth import run_login

    settings = Settings.from_args(args)
    return int(settings.run(run_login, settings, args))


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from aiogoogle.testing.server import serve
    except ImportError as exc:
        raise UsageError(f"the local server needs aiohttp: {exc} (pip install 'aiogoogle[testing]')")
    # serve() stops cleanly on Ctrl-C and on SIGTERM (a test harness, a container stop).
    message("serving until interrupted (Ctrl-C); point clients at the URL below, e.g. AIOGOOGLE_ROOT_URL=<url>")
    serve(args.host, args.port, args.tls)
    message("stopped")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    backend = args.backend or os.environ.get(ENV_BACKEND) or "asyncio"
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    return run_demo(backend, tls=args.tls)


# ------------------------------------------------------------------------------- main


def _unwrap(exc: BaseException) -> BaseException:
    # trio and curio may hand back a group holding one exception; show the real one.
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        message("aiogoogle: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (``aiogoogle ... | head``): stop quietly, and keep Python
        # from complaining again when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except BaseException as raw:
        error = _unwrap(raw)
        status = _status_for(error)
        if status is None:
            raise
        message(_describe_error(error, args))
        return status


def _status_for(exc: BaseException) -> int | None:
    from aiogoogle.excs import AiogoogleError, DiscoveryError, ValidationError

    from ._demo import DemoFailure

    if isinstance(exc, (UsageError, ValidationError, DiscoveryError)):
        return 2
    if isinstance(exc, (AiogoogleError, DemoFailure)):
        return 1
    if isinstance(exc, KeyboardInterrupt):
        return 130
    return None


def _describe_error(exc: BaseException, args: argparse.Namespace) -> str:
    from aiogoogle.excs import DiscoveryError, HTTPError, ValidationError

    if isinstance(exc, ValidationError):
        what = getattr(args, "method", None)
        head = f"aiogoogle: invalid arguments{f' for {args.api} {args.version} {what}' if what else ''}:"
        return head + "".join(f"\n  {p.describe() if p.path else p.message}" for p in exc.problems)
    if isinstance(exc, HTTPError):
        return f"aiogoogle: {type(exc).__name__}: {exc}"
    if isinstance(exc, UsageError):
        return f"aiogoogle: error: {exc}"
    if isinstance(exc, DiscoveryError) and "no discovery document" in str(exc):
        api = getattr(args, "api", "")
        return f"aiogoogle: error: {exc}\n  (list the known versions with: aiogoogle apis --name {api})"
    return f"aiogoogle: {type(exc).__name__}: {exc}"
