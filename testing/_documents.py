"""Real Google discovery documents for offline use: the set shipped with the package, and
google-api-python-client's when it is installed.

The package ships a curated set (:data:`SHIPPED`): the APIs that README.rst, ``examples/``
and the aiogoogle documentation this project implements use, so that
:class:`~aiogoogle.testing.LocalGoogleServer`, ``aiogoogle serve`` and ``aiogoogle demo``
work after a plain ``pip install 'aiogoogle[all]'``. They are Google's documents exactly as
published (copied from google-api-python-client's ``discovery_cache/documents``, which
snapshots https://www.googleapis.com/discovery/v1/apis/API/VERSION/rest), gzip-compressed
(about 360 KB for the set instead of 2.3 MB); their ``revision`` is recorded in
:data:`SHIPPED` and checked by the test suite. ``index.json`` holds the Discovery
directory's items for them (``preferred``, titles), as google-api-python-client's
``index.json`` has them.

When google-api-python-client is installed its 600-odd documents are used too (the
shipped copy of an API wins, so results do not depend on which version of that package is
installed).

Maintainers refresh the set from an installed google-api-python-client with
``python -m aiogoogle.testing._documents``, which rewrites the compressed files and
``index.json`` and prints the new :data:`SHIPPED` to paste here.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import sys
from typing import Any

from aiogoogle.excs import DiscoveryError

__all__ = ["SHIPPED", "bundled_directory_items", "bundled_document", "bundled_index", "discovery_document", "shipped_documents"]

#: ``(api, version) -> revision`` of every shipped document (google-api-python-client 2.202.0).
SHIPPED: dict[tuple[str, str], str] = {
    ("bigquery", "v2"): "20261009",
    ("books", "v1"): "20240625",
    ("calendar", "v3"): "20261030",
    ("drive", "v3"): "20261106",
    ("gmail", "v1"): "20261005",
    ("iamcredentials", "v1"): "20260630",
    ("oauth2", "v2"): "20200213",
    ("people", "v1"): "20251117",
    ("sheets", "v4"): "20261019",
    ("storage", "v1"): "20261009",
    ("translate", "v2"): "20170525",
    ("youtube", "v3"): "20261104",
}

#: The folder of the shipped documents (inside the package).
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "documents")


def _googleapiclient_dir() -> str | None:
    try:
        import googleapiclient
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
    return path if os.path.isdir(path) else None


@functools.lru_cache(maxsize=1)
def _dirs() -> tuple[str, ...]:
    return tuple(d for d in (SHIPPED_DIR, _googleapiclient_dir()) if d is not None and os.path.isdir(d))


def _split(filename: str) -> tuple[str, str] | None:
    """``storage.v1.json`` or ``storage.v1.json.gz`` -> ``("storage", "v1")``."""
    for suffix in (".json.gz", ".json"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            api, _, version = stem.partition(".")
            if api and version and stem != "index":
                return api, version
    return None


@functools.lru_cache(maxsize=1)
def bundled_index() -> dict[tuple[str, str], str]:
    """``(api, version) -> file path`` of every available document (the shipped copy first)."""
    found: dict[tuple[str, str], str] = {}
    for directory in _dirs():
        for filename in sorted(os.listdir(directory)):
            key = _split(filename)
            if key is not None:
                found.setdefault(key, os.path.join(directory, filename))
    return found


def _read(path: str) -> Any:
    opener: Any = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=128)
def bundled_document(api: str, version: str) -> dict[str, Any] | None:
    """The document of ``api`` ``version`` as published (shared: do not modify it), or None."""
    path = bundled_index().get((api, version))
    if path is None:
        return None
    document: dict[str, Any] = _read(path)
    return document


@functools.lru_cache(maxsize=1)
def bundled_directory_items() -> tuple[dict[str, Any], ...]:
    """Discovery directory items for every available document: those of the ``index.json``
    files (shipped, then google-api-python-client's), plus a minimal item, not preferred,
    for a document no index lists."""
    items: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    index = bundled_index()
    for directory in _dirs():
        path = os.path.join(directory, "index.json")
        if not os.path.isfile(path):
            continue
        for item in _read(path).get("items", []):
            key = (str(item.get("name")), str(item.get("version")))
            if key in seen or key not in index:
                continue
            seen.add(key)
            items.append(item)
    for api, version in index:
        if (api, version) not in seen:
            items.append({"kind": "discovery#directoryItem", "id": f"{api}:{version}", "name": api,
                          "version": version, "preferred": False})
    return tuple(items)


def shipped_documents() -> list[tuple[str, str]]:
    """``(api, version)`` of every document available offline, sorted: the shipped set,
    plus google-api-python-client's when it is installed."""
    return sorted(bundled_index())


def discovery_document(api: str, version: str) -> dict[str, Any]:
    """A real discovery document, as Google publishes it, without any network access.

    ``discovery_document("storage", "v1")`` reads the copy shipped with the package (see
    :data:`SHIPPED`; google-api-python-client's documents are found too when it is
    installed). Pass it to :class:`aiogoogle.GoogleAPI` to browse the API or build requests
    offline. Each call returns a fresh copy. Raises :class:`~aiogoogle.excs.DiscoveryError`
    naming the shipped APIs when there is no such document.
    """
    document = bundled_document(api, version)
    if document is None:
        shipped = ", ".join(f"{a} {v}" for a, v in sorted(SHIPPED))
        raise DiscoveryError(
            f"no discovery document for {api} {version} is available offline; shipped: {shipped} "
            "(install google-api-python-client for 600 more, or discover it from Google)"
        )
    copy: dict[str, Any] = json.loads(json.dumps(document))
    return copy


def _refresh(source: str) -> dict[tuple[str, str], str]:  # pragma: no cover - maintainers only
    """Copy the :data:`SHIPPED` documents from ``source`` (google-api-python-client's
    documents folder) into the package, compressed, with their directory items."""
    revisions: dict[tuple[str, str], str] = {}
    for api, version in sorted(SHIPPED):
        with open(os.path.join(source, f"{api}.{version}.json"), "rb") as fh:
            raw = fh.read()
        revisions[(api, version)] = str(json.loads(raw).get("revision"))
        # mtime=0: the same document always compresses to the same bytes.
        with open(os.path.join(SHIPPED_DIR, f"{api}.{version}.json.gz"), "wb") as out:
            out.write(gzip.compress(raw, compresslevel=9, mtime=0))
    with open(os.path.join(source, "index.json"), encoding="utf-8") as fh:
        directory = json.load(fh)
    items = [i for i in directory.get("items", []) if (i.get("name"), i.get("version")) in SHIPPED]
    with open(os.path.join(SHIPPED_DIR, "index.json"), "w", encoding="utf-8") as out:
        json.dump({**directory, "items": items}, out, indent=1, ensure_ascii=False)
        out.write("\n")
    return revisions


if __name__ == "__main__":  # pragma: no cover - maintainers only
    folder = sys.argv[1] if len(sys.argv) > 1 else _googleapiclient_dir()
    if folder is None:
        sys.exit("usage: python -m aiogoogle.testing._documents [GOOGLEAPICLIENT_DOCUMENTS_DIR]")
    for key, revision in sorted(_refresh(folder).items()):
        print(f"    {key!r}: {revision!r},")
