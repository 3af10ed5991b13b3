"""``aiogoogle call API VERSION resource.method key=value ...``: build, validate and send one
call, print the result.

Parameters are ``key=value`` (by discovery name or Python alias; repeat a key to give a
repeated parameter several values). Values stay strings: the core validates them against
the discovery document (``maxResults=10`` is a valid integer, ``maxResults=ten`` is not)
and puts them on the wire as Google expects. The body comes from ``--json`` (inline JSON,
``@file`` or ``@-`` for stdin). ``--upload FILE`` sends media (multipart with ``--json``
metadata, resumable with ``--resumable`` or for large files), ``--download FILE`` saves
``alt=media`` content (``-``: to stdout), both with a progress bar on stderr. ``--all-pages`` follows
``nextPageToken`` and prints every item of every page.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any

from aiogoogle.resource import CALL_OPTIONS

from ._common import ProgressBar, Settings, UsageError, discover_api, message, show
from ._creds import pick_credentials
from ._describe import _spec, resolve

__all__ = ["parse_params", "run_call"]


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``["a=1", "b=x", "b=y"]`` → ``{"a": "1", "b": ["x", "y"]}``."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"parameters are key=value, got {pair!r}")
        if key in params:
            current = params[key]
            params[key] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            params[key] = value
    return params


def load_body(spec: str | None) -> Any:
    """``--json``: inline JSON, ``@path`` or ``@-`` (stdin)."""
    if spec is None:
        return None
    if spec.startswith("@"):
        path = spec[1:]
        if path == "-":
            text = sys.stdin.read()
            where = "stdin"
        else:
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise UsageError(f"--json: cannot read {path}: {exc.strerror or exc}")
            where = path
    else:
        text, where = spec, "--json"
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}")


async def run_call(settings: Settings, args: argparse.Namespace) -> int:
    from aiogoogle import Method
    from aiogoogle.pagination import items_of

    params = parse_params(args.params)
    body = load_body(args.json)
    if args.upload is not None:
        if os.path.isdir(args.upload):
            raise UsageError(f"--upload: {args.upload} is a directory; give a file")
        if not os.path.isfile(args.upload):
            raise UsageError(f"--upload: no such file: {args.upload}")
    if args.download is not None and args.download != "-":
        # Checked before anything is sent: the core would refuse these too, but only after
        # discovery, and a usage error is the clearer answer to a wrong path.
        if os.path.isdir(args.download):
            raise UsageError(f"--download: {args.download} is a directory; give a file name, "
                             f"e.g. {os.path.join(args.download, 'NAME')}")
        parent = os.path.dirname(os.path.abspath(args.download))
        if not os.path.isdir(parent):
            raise UsageError(f"--download: directory does not exist: {parent}")
    if args.all_pages and args.download:
        raise UsageError("--all-pages and --download cannot be combined")
    client = settings.client()
    async with client:
        api = await discover_api(client, settings, args.api, args.version, offline=args.offline)
        node = resolve(api, args.method)
        if not isinstance(node, Method):
            raise UsageError(f"{args.method} is a resource, not a method; its methods: "
                             + ", ".join(node.methods_available or ["(none)"])
                             + (f"; nested resources: {', '.join(node.resources_available)}" if node.resources_available else ""))
        if args.download is not None and not _spec(node, "supportsMediaDownload"):
            raise UsageError(f"--download: {args.api} {args.version} {args.method} has no media download"
                             + _media_methods(api, args.method, "supportsMediaDownload"))
        if args.upload is not None and not _spec(node, "supportsMediaUpload"):
            raise UsageError(f"--upload: {args.api} {args.version} {args.method} does not accept media uploads"
                             + _media_methods(api, args.method, "supportsMediaUpload"))
        method_scopes = [str(s) for s in _spec(node, "scopes", []) or []]
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()] if args.scopes else method_scopes[:1]
        creds = pick_credentials(creds_file=args.creds, anon=args.anon, adc=args.adc, scopes=scopes)
        if args.verbose:
            message(f"credentials: {creds.kind} ({creds.source})")
        creds.apply(client, os.environ)
        bar = None
        kwargs: dict[str, Any] = {}
        if args.upload is not None:
            bar = ProgressBar(f"upload {os.path.basename(args.upload)}")
            kwargs.update(upload_file=args.upload, progress=bar)
            if args.resumable:
                kwargs["resumable"] = True
            if args.content_type:
                kwargs["upload_file_content_type"] = args.content_type
        written = [0]
        if args.download == "-":
            # The media itself is the output: streamed to stdout as it arrives.
            sink = sys.stdout.buffer

            def to_stdout(chunk: bytes) -> None:
                sink.write(chunk)
                written[0] += len(chunk)

            bar = ProgressBar("download")
            kwargs.update(pipe_to=to_stdout, progress=bar)
        elif args.download is not None:
            bar = ProgressBar(f"download {os.path.basename(args.download)}")
            kwargs.update(download_file=args.download, progress=bar)
        if args.chunk_size is not None:
            kwargs["chunk_size"] = args.chunk_size
        if args.no_validate:
            kwargs["validate"] = False
        # KEY=VALUE arguments are API parameters only: a key that is also a call option of
        # the library (json, timeout, validate, ...) takes its documented trailing
        # underscore, so it can never stand in for --json, --upload or --no-validate.
        api_params = {f"{key}_" if key in CALL_OPTIONS else key: value for key, value in params.items()}
        request = node(json=body, **kwargs, **api_params)
        if args.dry_run:
            # Credentials are added only when sending, so nothing secret is shown here.
            plan = {"method": request.method, "url": _redacted(request.url), "headers": dict(request.headers or {})}
            if request.json is not None:
                plan["json"] = request.json
            if request.media_upload is not None:
                # The protocol the upload will use, chosen by the same function as when
                # sending (the size decides between one request and a resumable session).
                from aiogoogle.media import choose_protocol, upload_url

                size = os.path.getsize(args.upload) if args.upload and os.path.isfile(args.upload) else None
                protocol = choose_protocol(request.media_upload, size, request.json is not None)
                plan["upload"] = {"file": args.upload, "protocol": protocol, "url": _redacted(upload_url(request.media_upload, protocol))}
            if request.media_download is not None:
                plan["download"] = args.download
            show(plan, settings.fmt)
            return 0
        if args.verbose:
            message(f"{request.method} {_redacted(request.url)}")
        if args.all_pages:
            response = await creds.send(client, request, full_res=True)
            items: list[Any] = []
            pages = 0
            async for page in response:
                pages += 1
                items.extend(items_of(page, args.items_field))
            message(f"{pages} page{'s' if pages != 1 else ''}, {len(items)} item{'s' if len(items) != 1 else ''}")
            show(items, settings.fmt)
            return 0
        part = f"{args.download}.part" if args.download not in (None, "-") else None
        part_existed = part is not None and os.path.lexists(part)
        try:
            response = await creds.send(client, request, full_res=True)
        except BaseException:
            # The library keeps the bytes of an interrupted download in FILE.part so that a
            # program can resume it; this command cannot, so it leaves no partial file.
            if part is not None and not part_existed:
                with contextlib.suppress(OSError):
                    os.remove(part)
            raise
        if bar is not None:
            bar.finish()
        if args.download == "-":
            sys.stdout.buffer.flush()
            message(f"wrote {written[0]} bytes to stdout")
            return 0
        if args.download is not None:
            size = os.path.getsize(args.download)
            message(f"saved {size} bytes to {args.download}")
            show({"file": args.download, "bytes": size, "status": response.status_code}, settings.fmt)
            return 0
        show(response.content, settings.fmt)
    return 0


def _media_methods(api: Any, dotted: str, flag: str) -> str:
    """``" (methods of objects that do: get)"``: the methods next to ``dotted`` with ``flag``."""
    parent = dotted.rpartition(".")[0]
    try:
        node = resolve(api, parent) if parent else api
        names = [n for n in node.methods_available if _spec(node.get_method(n), flag)]
    except UsageError:
        names = []
    where = f"of {parent} " if parent else ""
    return f" (methods {where}that do: {', '.join(names)})" if names else ""


def _redacted(url: str | None) -> str:
    from aiogoogle.excs import redact_url

    return str(redact_url(url or ""))
