"""``aiogoogle stubs API VERSION [-o DIR]``: write typed stubs for one API version.

The text comes from :func:`aiogoogle.stubgen.generate_stubs` (pure); this module only
fetches the document and writes the two files (``<api>_<version>.py`` and ``.pyi``) into
``DIR``, each written to a temporary name first and renamed, so a reader never sees half a
stub.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from aiogoogle.excs import DiscoveryError
from aiogoogle.stubgen import generate_stubs

from ._common import Settings, UsageError, message

__all__ = ["add_parser", "cmd_stubs", "write_stubs"]


def write_stubs(document: Mapping[str, Any], directory: str = ".") -> list[str]:
    """Write the typed stubs of ``document`` into ``directory`` (created if missing) and
    return the paths written: ``<directory>/<api>_<version>.py`` and ``.pyi``.

    Put ``directory`` on the type checker's path (or the import path) and use the API
    class: ``await aiogoogle.discover("drive", "v3", typed=DriveV3)``.
    """
    files = generate_stubs(document)
    os.makedirs(directory, exist_ok=True)
    written = []
    for name, text in files.items():
        path = os.path.join(directory, name)
        tmp = f"{path}.{os.getpid()}.part"
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
        written.append(path)
    return written


def add_parser(sub: Any, api_version: Any) -> None:
    """Add the ``stubs`` subcommand to the command's subparsers (``api_version`` adds the
    API and VERSION arguments as the other subcommands have them)."""
    p = sub.add_parser(
        "stubs",
        help="write typed stubs (.py/.pyi) for an API version, for mypy, pyright and editors",
        description="Generate typed calls for one API version: a .pyi with a class per resource, typed keyword "
                    "parameters, a TypedDict per schema and typed results, and the .py the API class lives in. "
                    "Use them with: api = await aiogoogle.discover(API, VERSION, typed=<ApiClass>).",
        epilog="example: aiogoogle stubs drive v3 -o typings/ (then: from drive_v3 import DriveV3)",
    )
    api_version(p)
    p.add_argument("-o", "--output", metavar="DIR", default=".", help="where to write the files (default: .)")
    p.add_argument("--document", metavar="FILE", help="generate from this discovery document (JSON) instead of fetching it")
    from ._common import add_common

    add_common(p, fmt=False)
    p.set_defaults(handler=cmd_stubs)


def _document(args: argparse.Namespace, settings: Settings) -> Mapping[str, Any]:
    if args.document:
        try:
            with open(args.document, encoding="utf-8") as fh:
                doc = json.load(fh)
        except ValueError as exc:
            raise UsageError(f"{args.document}: not a JSON discovery document ({exc})")
        if not isinstance(doc, dict):
            raise UsageError(f"{args.document}: not a JSON discovery document (a {type(doc).__name__}, not an object)")
        if (doc.get("name"), doc.get("version")) != (args.api, args.version):
            raise UsageError(f"{args.document} describes {doc.get('name')} {doc.get('version')}, not {args.api} {args.version}")
        return doc

    async def fetch() -> Any:
        from . import _common

        client = settings.client()
        async with client:
            discover_api = getattr(_common, "discover_api", None)
            if getattr(args, "offline", False) and discover_api is not None:
                return await discover_api(client, settings, args.api, args.version, offline=True)
            return await client.discover(args.api, args.version, root_url=settings.root_url)

    api = settings.run(fetch)
    return api.discovery_document  # type: ignore[no-any-return]


def cmd_stubs(args: argparse.Namespace) -> int:
    settings = Settings.from_args(args)
    document = _document(args, settings)
    started = time.perf_counter()
    try:
        paths = write_stubs(document, args.output)
    except DiscoveryError:
        raise
    took = time.perf_counter() - started
    sizes = sum(os.path.getsize(p) for p in paths)
    for path in paths:
        print(path)
    from aiogoogle.stubgen import api_class_name

    message(f"{len(paths)} files, {sizes / 1024:.0f} KiB in {took:.2f} s; use: "
            f"await aiogoogle.discover({args.api!r}, {args.version!r}, typed={api_class_name(document)})")
    return 0
