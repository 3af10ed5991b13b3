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
import re
import sys
from typing import Any, NoReturn

from aiogoogle.resource import CALL_OPTIONS
from aiogoogle.sessions.backends import BACKENDS

from ._common import (
    ENV_API_KEY,
    ENV_BACKEND,
    ENV_CA_FILE,
    ENV_DISCOVERY_URL,
    ENV_ROOT_URL,
    ENV_TRACEBACK,
    Settings,
    UsageError,
    add_common,
    discover_api,
    end_progress_lines,
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
  AIOGOOGLE_CACHE_DIR      where discovery documents are cached
  {ENV_TRACEBACK}      show the traceback of an internal error

exit status: 0 ok, 1 API/HTTP/network/local file error, 2 usage or validation error, 130 interrupted

examples:
  aiogoogle demo --backend trio
  aiogoogle serve --creds-dir ./fake-google
  aiogoogle apis --name drive
  aiogoogle describe storage v1 objects.insert
  aiogoogle stubs drive v3 -o typings/
  aiogoogle call storage v1 objects.list bucket=my-bucket maxResults=10 --all-pages
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


class _Parser(argparse.ArgumentParser):
    """Every parser of the command, subcommands included (argparse makes a subcommand's
    parser of its parent's class), formats its help with :class:`_Formatter` and reports
    bad usage in one line (the command, the problem, where to read more) with exit
    status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self.set_defaults(parser=self)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def _add_api_version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("api", metavar="API", help="API name, e.g. storage")
    parser.add_argument("version", metavar="VERSION", help="API version, e.g. v1")
    parser.add_argument("--offline", action="store_true",
                        help="take the discovery document from the copies available offline (shipped with the "
                             "package, or google-api-python-client's) instead of the network")


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

    from ._stubs import add_parser as add_stubs_parser

    add_stubs_parser(sub, _add_api_version)

    p = sub.add_parser("call", help="call an API method and print the result",
                       description="Build, validate and send one call. Parameters are key=value (discovery names or "
                                   "Python aliases; repeat a key for a repeated parameter).",
                       epilog="credentials, in order: --anon; --creds FILE (service account key, authorized_user, "
                              "saved `auth login` credentials or {\"api_key\": ...}); --adc; $AIOGOOGLE_API_KEY; "
                              "$GOOGLE_APPLICATION_CREDENTIALS or gcloud's ADC file; else none.")
    _add_api_version(p)
    p.add_argument("method", metavar="RESOURCE.METHOD", help="e.g. objects.list")
    p.add_argument("params", metavar="KEY=VALUE", nargs="*", help="path and query parameters (anywhere among the options)")
    p.add_argument("--json", metavar="BODY", help="request body: JSON text, @file or @- (stdin)")
    p.add_argument("--upload", metavar="FILE", help="upload this file as the method's media")
    p.add_argument("--content-type", metavar="MIME", help="media type of --upload (default: guessed)")
    p.add_argument("--resumable", action="store_true", help="use a resumable upload")
    p.add_argument("--download", metavar="FILE", help="save the media (alt=media) to FILE ('-': write it to stdout)")
    p.add_argument("--chunk-size", type=_positive_int, metavar="BYTES", help="upload chunk size (multiple of 262144) or download read size")
    p.add_argument("--all-pages", action="store_true", help="follow nextPageToken and print every item of every page")
    p.add_argument("--items-field", metavar="FIELD", help="with --all-pages: the list field of each page (default: items or the only list)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--creds", metavar="FILE", help="credentials JSON file")
    who.add_argument("--adc", action="store_true", help="use Application Default Credentials (incl. the metadata server)")
    who.add_argument("--anon", action="store_true", help="send without credentials")
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
    a.add_argument("--device", action="store_true",
                   help="sign in on another device (RFC 8628 device flow: visit a URL, enter a code); for headless machines")
    a.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the sign-in (default 300)")
    add_common(a, fmt=False)
    a.set_defaults(handler=cmd_auth_login)

    p = sub.add_parser("serve", help="run the local Google-compatible server (for other programs' tests)",
                       description="A fake Google on 127.0.0.1 until interrupted: discovery documents, stateful "
                                   "Cloud Storage, Drive, Calendar, People and Translation APIs (what one call stores "
                                   "the next one sees), uploads and ranged downloads, batch, an OAuth2 token endpoint "
                                   "and a metadata server. It prints its URL, then writes credentials it accepts (a "
                                   "service account key, user credentials, an API key and an env.sh setting them "
                                   "with AIOGOOGLE_ROOT_URL) to --creds-dir.",
                       epilog="example: aiogoogle serve --creds-dir ./fake-google, then in another shell: "
                              ". ./fake-google/env.sh && aiogoogle call storage v1 buckets.list project=p")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", choices=("127.0.0.1", "localhost"), help="interface (loopback only)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away CA (its PEM path is printed)")
    p.add_argument("--creds-dir", metavar="DIR", help="write the credentials here, reused by the next run "
                   "(default: a temporary folder removed at exit)")
    p.add_argument("--echo", action="store_true", help="echo API requests back instead of keeping state "
                   "(what LocalGoogleServer does by default)")
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
    from aiogoogle.excs import HTTPError, TransportError

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
        except (TransportError, HTTPError) as exc:
            if isinstance(exc, HTTPError) and (exc.status_code or 0) < 500:
                raise
            where = settings.discovery_url or settings.root_url or "https://www.googleapis.com/"
            items = _cached_apis(args.name)
            if not items:
                message(f"aiogoogle: error: the Discovery directory at {where} cannot be reached ({exc}) and the local "
                        f"cache ({_cache_dir()}) holds no document{f' of {args.name}' if args.name else ''}")
                return 1
            message(f"aiogoogle: the Discovery directory at {where} cannot be reached ({exc}); "
                    f"listing the {len(items)} API version{'s' if len(items) != 1 else ''} in the local cache "
                    f"({_cache_dir()}) instead")
    if args.format == "json":
        show(items, "json")
        return 0
    rows = [[i.get("name"), i.get("version"), "yes" if i.get("preferred") else "", i.get("title", "")] for i in items]
    from ._common import table

    if rows:
        table(rows, ["name", "version", "preferred", "title"])
    message(f"{len(rows)} API version{'s' if len(rows) != 1 else ''}")
    return 0


def _cache_dir() -> str:
    from aiogoogle.client import default_cache_dir

    return str(default_cache_dir())


def _cached_apis(name: str | None) -> list[dict[str, Any]]:
    """The documents in the on-disk cache, one per API version: the cache keeps one file
    per document URL (Google's, an emulator's, each local server's), so the same API can
    be there several times; the most recently written copy is listed."""
    import json

    directory = _cache_dir()
    found: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
    try:
        files = sorted(os.listdir(directory))
    except OSError:
        files = []
    for fn in files:
        if not fn.endswith(".json"):
            continue
        path = os.path.join(directory, fn)
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
            written = os.path.getmtime(path)
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or (name and doc.get("name") != name):
            continue
        key = (str(doc.get("name")), str(doc.get("version")))
        if key in found and found[key][0] >= written:
            continue
        found[key] = (written, {"name": doc.get("name"), "version": doc.get("version"), "title": doc.get("title"),
                                "id": doc.get("id"), "revision": doc.get("revision"), "cached": path})
    return [item for _, (_, item) in sorted(found.items())]


def cmd_describe(args: argparse.Namespace) -> int:
    from ._describe import describe

    settings = Settings.from_args(args)

    async def fetch() -> Any:
        client = settings.client()
        async with client:
            return await discover_api(client, settings, args.api, args.version, offline=args.offline)

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
    serve(args.host, args.port, args.tls, creds_dir=args.creds_dir, fake_apis=not args.echo)
    message("stopped")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ._common import backend_session_class
    from ._demo import run_demo

    backend = args.backend or os.environ.get(ENV_BACKEND) or "asyncio"
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    backend_session_class(backend)  # says what to install before the tour starts
    return run_demo(backend, tls=args.tls)


# ------------------------------------------------------------------------------- main


def _unwrap(exc: BaseException) -> BaseException:
    # trio and curio may hand back a group holding one exception; show the real one.
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


_PARAM = re.compile(r"^[^-=][^=]*=")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line. ``call``'s ``KEY=VALUE`` parameters may come anywhere among
    its options (``call storage v1 objects.list --dry-run bucket=b``), as most command
    lines allow: argparse leaves those after an option unparsed, and they are collected
    here; anything else it did not recognise is an error."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    sub: argparse.ArgumentParser = getattr(args, "parser", parser)
    if extras:
        if getattr(args, "command", None) == "call":
            params = [e for e in extras if _PARAM.match(e)]
            extras = [e for e in extras if not _PARAM.match(e)]
            args.params = [*args.params, *params]
        if extras:
            sub.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    try:
        args = parse(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse printed it)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return int(args.handler(args))
    except BrokenPipeError:
        # The reader went away (``aiogoogle ... | head``): stop quietly, and keep Python
        # from complaining again when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except SystemExit:
        raise
    except BaseException as raw:
        end_progress_lines()
        error = _unwrap(raw)
        if isinstance(error, KeyboardInterrupt):
            message("aiogoogle: interrupted")
            return 130
        status = _status_for(error)
        if status is None:
            if os.environ.get(ENV_TRACEBACK):
                raise
            # Not one of ours: a bug, or something nobody foresaw. Still one line, and a
            # way to see where it came from.
            message(f"aiogoogle: internal error: {type(error).__name__}: {error} "
                    f"(please report it; {ENV_TRACEBACK}=1 shows the traceback)")
            return 1
        message(_describe_error(error, args))
        return status


def _status_for(exc: BaseException) -> int | None:
    from aiogoogle.excs import AiogoogleError, DiscoveryError, ValidationError

    from ._demo import DemoFailure

    if isinstance(exc, (UsageError, ValidationError, DiscoveryError)):
        return 2
    if isinstance(exc, (AiogoogleError, DemoFailure, OSError)):
        return 1
    return None


def _describe_error(exc: BaseException, args: argparse.Namespace) -> str:
    from aiogoogle.excs import DiscoveryError, HTTPError, LocalFileError, ValidationError

    if isinstance(exc, ValidationError):
        what = getattr(args, "method", None)
        head = f"aiogoogle: invalid arguments{f' for {args.api} {args.version} {what}' if what else ''}:"
        return head + "".join(f"\n  {_problem_line(p)}" for p in exc.problems)
    if isinstance(exc, HTTPError):
        return f"aiogoogle: {type(exc).__name__}: {exc}"
    if isinstance(exc, UsageError):
        return f"aiogoogle: error: {exc}"
    if isinstance(exc, LocalFileError):
        return f"aiogoogle: error: {exc}"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"aiogoogle: error: {exc.strerror or exc}{where}"
    if isinstance(exc, DiscoveryError) and getattr(args, "offline", False):
        return f"aiogoogle: error: {exc}"  # names the documents available offline
    if isinstance(exc, DiscoveryError) and "no discovery document" in str(exc):
        # The core's message suggests a library call; on the command line the way to see
        # what exists is the apis command.
        api, version = getattr(args, "api", ""), getattr(args, "version", "")
        settings = Settings.from_args(args)
        where = settings.discovery_url or settings.root_url or "Google's Discovery service"
        return (f"aiogoogle: error: {where} has no discovery document for {api} {version}; "
                f"list the known versions with: aiogoogle apis --name {api}")
    return f"aiogoogle: {type(exc).__name__}: {exc}"


def _problem_line(problem: Any) -> str:
    """One validation problem, worded for a command line: a parameter's value is shown as
    typed (``maxResults=ten: expected an integer (uint32)``); every such value is a string,
    so the core's "got str" would say nothing; and the library's ``validate=False`` is
    ``--no-validate`` here."""
    path, value, text = str(problem.path or ""), problem.value, _cli_spelling(str(problem.message))
    typed = bool(path) and not path.startswith("json")  # a KEY=VALUE argument, not the body
    if path.endswith("_") and path[:-1] in CALL_OPTIONS:
        # KEY=VALUE keys named like a library option reach the core with a trailing
        # underscore (cli/_call.py); show them as typed.
        path, typed = path[:-1], True
        if path in ("json", "data"):
            text += "; the request body goes in --json"
    if typed and isinstance(value, str):
        return f"{path}={value}: {text.replace(', got str', '')}"
    if not path:
        return text
    return _cli_spelling(str(problem.describe()))


def _cli_spelling(text: str) -> str:
    """The core's hints name library arguments; on the command line they are options."""
    for library, option in (("validate=False", "--no-validate"), ("json=...", "--json"),
                            ("upload_file=... or pipe_from=...", "--upload")):
        text = text.replace(library, option)
    return text
