"""What every command shares: settings from options and the environment, the client, the
event loop of the chosen framework, output (stdout for data, stderr for messages) and
progress bars.

Every Google URL can be pointed elsewhere with ``--root-url`` (or ``AIOGOOGLE_ROOT_URL``):
the Discovery directory and documents, the APIs themselves (rootUrl, upload, download and
batch URLs) and the OAuth2/metadata endpoints, so the whole command line runs against
:class:`aiogoogle.testing.LocalGoogleServer` or an emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, TextIO

# The --backend choices: ``curio`` is CurioAsksSession (the seed's curio session),
# ``curio-h11`` CurioSession.
from aiogoogle.sessions.backends import BACKENDS, run, session_class

#: Environment variables the command line reads (documented in ``aiogoogle --help``).
ENV_ROOT_URL = "AIOGOOGLE_ROOT_URL"
ENV_DISCOVERY_URL = "AIOGOOGLE_DISCOVERY_URL"
ENV_API_KEY = "AIOGOOGLE_API_KEY"
ENV_CA_FILE = "AIOGOOGLE_CA_FILE"
ENV_BACKEND = "AIOGOOGLE_BACKEND"
ENV_TRACEBACK = "AIOGOOGLE_TRACEBACK"


class UsageError(Exception):
    """Bad command-line input (exit status 2), with a message for stderr."""


@dataclass
class Settings:
    """Options shared by the commands, after the environment was applied."""

    root_url: str | None
    discovery_url: str | None
    backend: str
    ca_file: str | None
    fmt: str | None
    cache: bool
    retries: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        root = getattr(args, "root_url", None) or env.get(ENV_ROOT_URL) or None
        disc = getattr(args, "discovery_url", None) or env.get(ENV_DISCOVERY_URL) or None
        backend = getattr(args, "backend", None) or env.get(ENV_BACKEND) or "asyncio"
        if backend not in BACKENDS:
            raise UsageError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
        for name, value in (("--root-url", root), ("--discovery-url", disc)):
            if value is not None and not value.startswith(("http://", "https://")):
                raise UsageError(f"{name} must be an http:// or https:// URL, got {value!r}")
        return cls(
            root_url=_slash(root),
            discovery_url=_slash(disc),
            backend=backend,
            ca_file=getattr(args, "ca_file", None) or env.get(ENV_CA_FILE) or None,
            fmt=getattr(args, "format", None),
            cache=not getattr(args, "no_cache", False),
            retries=getattr(args, "retries", None),
        )

    # -- what the client needs --------------------------------------------------------

    def session_factory(self) -> Callable[[], Any]:
        """A factory of sessions of the chosen framework (trusting ``ca_file`` if given),
        each wrapped so that every retry is announced on stderr (:class:`RetryReporter`)."""
        kwargs: dict[str, Any] = {"ca_file": self.ca_file} if self.ca_file else {}
        cls = backend_session_class(self.backend)
        return lambda: RetryReporter(cls(**kwargs))

    def client(self, **kwargs: Any) -> Any:
        """An :class:`~aiogoogle.Aiogoogle` pointed wherever the settings say."""
        from aiogoogle import Aiogoogle, DiscoveryEndpoints
        from aiogoogle.auth import Endpoints

        disc = self.discovery_url or self.root_url
        if disc is not None:
            kwargs.setdefault("discovery_endpoints", DiscoveryEndpoints.at(disc))
        if self.root_url is not None:
            kwargs.setdefault("auth_endpoints", Endpoints.at(self.root_url))
        if not self.cache:
            kwargs.setdefault("discovery_cache", False)
        if self.retries is not None:
            from aiogoogle import RetryPolicy

            kwargs.setdefault("retry", RetryPolicy(max_attempts=self.retries + 1))
        return Aiogoogle(session_factory=self.session_factory(), **kwargs)

    def run(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run ``fn(*args)`` to completion on the chosen framework's event loop."""
        return run_on(self.backend, fn, *args)


def backend_session_class(backend: str) -> Any:
    """The session class of ``backend``; :class:`UsageError` saying what to install when
    its framework is missing."""
    try:
        return session_class(backend)
    except ImportError as exc:
        extra = backend.partition("-")[0]
        raise UsageError(f"the {backend} backend is not available: {exc} (pip install 'aiogoogle[{extra}]')")
    except Exception as exc:
        # Installed but broken on this Python (curio 1.6, the last release, fails to import
        # on 3.12 and later: multiprocessing.connection.CHALLENGE is gone).
        version = ".".join(map(str, sys.version_info[:2]))
        raise UsageError(f"the {backend} backend cannot be loaded on Python {version}: {type(exc).__name__}: {exc}")


def run_on(backend: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run ``fn(*args)`` on asyncio, curio (``curio`` or ``curio-h11``) or trio."""
    backend_session_class(backend)  # a missing or broken framework: one clear UsageError
    try:
        return run(backend, fn, *args)
    except ImportError as exc:
        if exc.name not in ("curio", "trio"):
            raise
        raise UsageError(f"{exc.name} is not installed: {exc} (pip install 'aiogoogle[{exc.name}]')")


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _slash(url: str | None) -> str | None:
    if url is None:
        return None
    return url if url.endswith("/") else url + "/"


def add_common(parser: argparse.ArgumentParser, *, fmt_default: str | None = None, fmt: bool = True) -> None:
    """Options every command that talks to Google takes."""
    group = parser.add_argument_group("connection")
    group.add_argument("--root-url", metavar="URL",
                       help=f"send every request (APIs, discovery, OAuth2) to this server instead of Google's; env {ENV_ROOT_URL}")
    group.add_argument("--discovery-url", metavar="URL",
                       help=f"fetch discovery documents from this server (default: the root URL, else Google); env {ENV_DISCOVERY_URL}")
    group.add_argument("--backend", choices=BACKENDS, help=f"async framework to run on (default asyncio); env {ENV_BACKEND}")
    group.add_argument("--ca-file", metavar="PEM", help=f"trust this CA certificate (e.g. a local TLS server's); env {ENV_CA_FILE}")
    group.add_argument("--no-cache", action="store_true", help="do not read or write the on-disk discovery cache")
    group.add_argument("--retries", type=_non_negative, metavar="N",
                       help="retry a failed exchange at most N times (default: the library's policy; 0 disables)")
    if fmt:
        parser.add_argument("--format", choices=("table", "json"), default=fmt_default,
                            help=f"output format (default: {fmt_default})")


# ------------------------------------------------------------------------------- output


def out() -> TextIO:
    return sys.stdout


def err() -> TextIO:
    return sys.stderr


def message(text: str) -> None:
    """A message for the person at the terminal (stderr, never mixed with data), on a line
    of its own even while a progress bar is being redrawn."""
    end_progress_lines()
    print(text, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------- retries


class RetryReporter:
    """A session that tells the person at the terminal why the client waits and tries again.

    The client's retry policy waits with the session's ``sleep`` between attempts (the
    core sleeps for nothing else), after a failed exchange: an error status or a transport
    failure, which this wrapper saw pass through ``send`` or while the body was read. Each
    wait is announced on stderr with its length and that reason, so a refused connection
    or a 503 is not seconds of silence. Everything else is the wrapped session's.
    """

    def __init__(self, inner: Any, say: Callable[[str], None] | None = None) -> None:
        self._inner = inner
        self._say = say or message
        self._last: str | None = None
        self._retries: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def failed(self, what: str) -> None:
        """Remember why the last exchange failed (the reason of the next wait)."""
        self._last = what

    async def send(self, request: Any) -> Any:
        from aiogoogle.excs import redact_url

        where = f"{request.method} {redact_url(request.url).split('?', 1)[0]}"
        try:
            response = await self._inner.send(request)
        except Exception as exc:
            self.failed(f"{where}: {_one_line(exc)}")
            raise
        if response.status >= 400:
            self.failed(f"{where}: {response.status} {response.reason}".rstrip())
        return _WatchedResponse(response, self, where)

    async def sleep(self, seconds: float) -> None:
        reason = self._last or "the last attempt failed"
        where = reason.partition(": ")[0]
        count = self._retries[where] = self._retries.get(where, 0) + 1
        self._say(f"aiogoogle: {reason}; retry {count} in {seconds:.1f} s")
        self._last = None
        await self._inner.sleep(seconds)


class _WatchedResponse:
    """A raw response whose body reads report failures to the :class:`RetryReporter`."""

    def __init__(self, inner: Any, reporter: RetryReporter, where: str) -> None:
        self._inner, self._reporter, self._where = inner, reporter, where
        if getattr(inner, "read", None) is not None:
            # Only when the adapter offers read(): the driver looks for it.
            self.read = self._read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def status(self) -> int:
        return int(self._inner.status)

    @property
    def reason(self) -> str:
        return str(self._inner.reason)

    @property
    def headers(self) -> Any:
        return self._inner.headers

    async def _read(self, limit: int | None = None) -> bytes:
        try:
            return bytes(await self._inner.read(limit))
        except Exception as exc:
            self._reporter.failed(f"{self._where}: {_one_line(exc)}")
            raise

    async def chunks(self) -> AsyncIterator[bytes]:
        iterator = self._inner.chunks()
        try:
            async for chunk in iterator:
                yield chunk
        except Exception as exc:
            self._reporter.failed(f"{self._where}: {_one_line(exc)}")
            raise
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()

    async def aclose(self) -> None:
        await self._inner.aclose()


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line, without the URL a transport error appends
    (the reason names the request already)."""
    text = str(exc)
    url = getattr(exc, "url", None)
    if url:
        text = text.removesuffix(f" ({url})")
    return " ".join(text.split()) or type(exc).__name__


def emit_json(data: Any, stream: IO[str] | None = None) -> None:
    """Data as JSON on stdout (indented, UTF-8 as is)."""
    target = stream or sys.stdout
    json.dump(data, target, indent=2, ensure_ascii=False, default=_jsonable)
    target.write("\n")
    target.flush()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def terminal_width() -> int:
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str] | None = None, stream: IO[str] | None = None,
          max_width: int | None = None) -> None:
    """Rows as aligned columns; the last column is cut to the terminal width."""
    target = stream or sys.stdout
    cells = [[_cell(c) for c in row] for row in rows]
    if headers:
        cells.insert(0, [h.upper() for h in headers])
    if not cells:
        return
    ncols = max(len(r) for r in cells)
    widths = [0] * ncols
    for row in cells:
        for i, c in enumerate(row[:-1]):
            widths[i] = max(widths[i], min(len(c), 48))
    limit = max_width or terminal_width()
    for row in cells:
        parts = [c.ljust(widths[i]) for i, c in enumerate(row[:-1])]
        line = "  ".join([*parts, row[-1]]) if row else ""
        if len(line) > limit:
            line = line[: limit - 1] + "…"
        target.write(line.rstrip() + "\n")
    target.flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=_jsonable)
    else:
        text = str(value)
    return " ".join(text.split())


def records_table(records: Iterable[Mapping[str, Any]], stream: IO[str] | None = None, max_columns: int = 6) -> None:
    """A list of JSON objects as a table: the scalar fields most of them have, in order."""
    items = [r for r in records if isinstance(r, Mapping)]
    if not items:
        (stream or sys.stdout).write("(no items)\n")
        return
    counts: dict[str, int] = {}
    for item in items:
        for key, value in item.items():
            if not isinstance(value, (dict, list)):
                counts[key] = counts.get(key, 0) + 1
    preferred = ["name", "id", "title", "displayName", "summary", "kind"]
    keys = [k for k in preferred if k in counts] + [k for k in counts if k not in preferred]
    keys = keys[:max_columns] or list(items[0])[:max_columns]
    table([[item.get(k) for k in keys] for item in items], keys, stream)


def show(data: Any, fmt: str | None) -> None:
    """A result in the chosen format: JSON, or a table (lists of objects, or key/value)."""
    if fmt != "table":
        emit_json(data)
        return
    if isinstance(data, list):
        records_table(data)
    elif isinstance(data, Mapping):
        lists = [(k, v) for k, v in data.items() if isinstance(v, list) and v and all(isinstance(i, Mapping) for i in v)]
        if len(lists) == 1:
            records_table(lists[0][1])
            # The other scalar fields, and lists of scalars (Cloud Storage's "prefixes").
            for k, v in data.items():
                if k == lists[0][0] or isinstance(v, dict):
                    continue
                if isinstance(v, list):
                    if not any(isinstance(i, (dict, list)) for i in v):
                        message(f"{k}: {', '.join(map(_cell, v))}")
                else:
                    message(f"{k}: {_cell(v)}")
        else:
            table([[k, v] for k, v in data.items()])
    elif data is None:
        pass
    else:
        sys.stdout.write(_cell(data) + "\n")


# ------------------------------------------------------------------------------- progress


class ProgressBar:
    """A progress bar on stderr for ``progress=`` callbacks (``(done, total)``).

    On a terminal it redraws one line; otherwise (a pipe, a log, a test) it prints a line at
    each quarter and at the end, so logs stay short.
    """

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.done = 0
        self.total: int | None = None
        self._last_quarter = -1
        self._last_draw = 0.0
        self._finished = False
        self._open = False  # a redrawn line without its newline yet
        self.updates = 0

    def __call__(self, done: int, total: int | None) -> None:
        self.updates += 1
        self.done, self.total = done, total
        complete = total is not None and done >= total
        if self.tty:
            now = time.monotonic()
            if complete or now - self._last_draw >= 0.05:
                self._last_draw = now
                self.stream.write("\r" + self.render())
                self._open = True
                _OPEN_BARS.add(self)
                if complete:
                    self.stream.write("\n")
                    self._finished = True
                    self._open = False
                self.stream.flush()
            return
        if total:
            quarter = min(4, done * 4 // total)
            if quarter > self._last_quarter:
                self._last_quarter = quarter
                self.stream.write(self.render() + "\n")
                self.stream.flush()
                if complete:
                    self._finished = True

    def render(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        if self.total:
            frac = min(1.0, self.done / self.total)
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            return f"{self.label} [{bar}] {frac * 100:5.1f}% {human_bytes(self.done)}/{human_bytes(self.total)} {human_bytes(rate)}/s"
        return f"{self.label} {human_bytes(self.done)} {human_bytes(rate)}/s"

    def finish(self) -> None:
        """End the bar's line (if the transfer did not report its end)."""
        if not self._finished and self.updates:
            self.stream.write(("\r" if self.tty else "") + self.render() + "\n")
            self.stream.flush()
            self._finished = True
            self._open = False

    def break_line(self) -> None:
        """End a line being redrawn, so that the next message starts on its own line (the
        bar goes on below it if the transfer does)."""
        if self._open:
            self._open = False
            self.stream.write("\n")
            self.stream.flush()


#: Progress bars that may have a line open on a terminal.
_OPEN_BARS: weakref.WeakSet[ProgressBar] = weakref.WeakSet()


def end_progress_lines() -> None:
    """End every progress bar's open line (before a message, an error or "interrupted")."""
    for bar in list(_OPEN_BARS):
        bar.break_line()


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


async def discover_api(client: Any, settings: Settings, api: str, version: str, *, offline: bool = False) -> Any:
    """The :class:`~aiogoogle.resource.GoogleAPI` of ``api`` ``version``.

    From the Discovery service (or ``--root-url``'s server) through the client and its disk
    cache; with ``offline``, from the copy available without the network (the documents
    shipped with the package, and google-api-python-client's when it is installed). When
    Google's own Discovery service cannot be reached, that copy is used too, with a note on
    stderr: browsing and ``--dry-run`` need only the document.
    """
    from aiogoogle import GoogleAPI
    from aiogoogle.excs import DiscoveryError, TransportError
    from aiogoogle.testing import discovery_document

    if offline:
        return GoogleAPI(discovery_document(api, version), root_url=settings.root_url)
    try:
        return await client.discover(api, version, root_url=settings.root_url)
    except TransportError as exc:
        if settings.root_url or settings.discovery_url:
            raise  # a server the user named: its answer, not a stand-in, is wanted
        try:
            document = discovery_document(api, version)
        except DiscoveryError:
            raise exc from None
        message(f"cannot reach Google's Discovery service ({exc}); using the offline copy of {api} {version} "
                f"(revision {document.get('revision', 'unknown')})")
        return GoogleAPI(document, root_url=settings.root_url)
