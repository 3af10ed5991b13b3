"""The discovery documents shipped with the package (testing/documents), and the package's
metadata: what a user who installed only ``aiogoogle[all]`` gets.

* Each shipped document is Google's, unmodified: its revision is the one recorded in
  ``SHIPPED`` and, where google-api-python-client holds the same revision, it is equal to
  that copy; the directory items are google-api-python-client's.
* Without google-api-python-client, ``discovery_document`` and the local server (its
  directory and documents) still work for every shipped API.
* The package data patterns include every file of the folder; the classifiers match
  ``python_requires``; the project URLs are set; the summary names the recommended sessions.
"""

from __future__ import annotations

import configparser
import fnmatch
import gzip
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiogoogle import GoogleAPI
from aiogoogle.excs import DiscoveryError
from aiogoogle.testing import _documents, discovery_document, shipped_documents

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "testing" / "documents"


def gac_documents() -> Path | None:
    try:
        import googleapiclient
    except ImportError:
        return None
    return Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


def test_the_folder_holds_exactly_the_shipped_set() -> None:
    files = sorted(p.name for p in FOLDER.iterdir())
    assert files == sorted([f"{a}.{v}.json.gz" for a, v in _documents.SHIPPED] + ["index.json"])


@pytest.mark.parametrize(("api", "version"), sorted(_documents.SHIPPED))
def test_each_shipped_document_is_googles_unmodified(api: str, version: str) -> None:
    with gzip.open(FOLDER / f"{api}.{version}.json.gz", "rt", encoding="utf-8") as fh:
        document = json.load(fh)
    assert (document["kind"], document["name"], document["version"]) == ("discovery#restDescription", api, version)
    assert document["revision"] == _documents.SHIPPED[(api, version)]
    assert document["rootUrl"].startswith("https://") and "googleapis.com" in document["rootUrl"]
    GoogleAPI(document)  # a document the client accepts
    source = gac_documents()
    if source is None or not (source / f"{api}.{version}.json").exists():
        pytest.skip("google-api-python-client's copy is not installed")
    theirs = json.loads((source / f"{api}.{version}.json").read_text(encoding="utf-8"))
    if theirs.get("revision") != document["revision"]:
        pytest.skip(f"google-api-python-client holds revision {theirs.get('revision')} of {api} {version}")
    assert theirs == document


def test_the_directory_items_are_googles() -> None:
    items = json.loads((FOLDER / "index.json").read_text(encoding="utf-8"))["items"]
    assert sorted((i["name"], i["version"]) for i in items) == sorted(_documents.SHIPPED)
    assert all(i["kind"] == "discovery#directoryItem" and i["title"] and isinstance(i["preferred"], bool) for i in items)
    source = gac_documents()
    if source is not None:
        theirs = {(i["name"], i["version"]): i for i in json.loads((source / "index.json").read_text(encoding="utf-8"))["items"]}
        assert all(theirs.get((i["name"], i["version"])) == i for i in items)


@pytest.fixture
def without_googleapiclient(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As after ``pip install 'aiogoogle[all]'``: only the shipped documents."""
    caches = [_documents._dirs, _documents.bundled_index, _documents.bundled_document, _documents.bundled_directory_items]
    monkeypatch.setattr(_documents, "_googleapiclient_dir", lambda: None)
    for cache in caches:
        cache.cache_clear()
    try:
        yield
    finally:
        monkeypatch.undo()
        for cache in caches:
            cache.cache_clear()


def test_discovery_document_without_googleapiclient(without_googleapiclient: None) -> None:
    assert shipped_documents() == sorted(_documents.SHIPPED)
    storage = discovery_document("storage", "v1")
    assert storage["revision"] == _documents.SHIPPED[("storage", "v1")]
    storage["name"] = "changed"
    assert discovery_document("storage", "v1")["name"] == "storage", "each call returns a fresh copy"
    with pytest.raises(DiscoveryError, match=r"no discovery document for compute v1 is available offline; shipped: bigquery v2, "):
        discovery_document("compute", "v1")


def test_the_local_server_without_googleapiclient(without_googleapiclient: None) -> None:
    from aiogoogle.testing import LocalGoogleServer

    with LocalGoogleServer() as server:
        with urllib.request.urlopen(server.url + "discovery/v1/apis", timeout=30) as response:
            directory = json.load(response)
        listed = {(i["name"], i["version"]): i for i in directory["items"]}
        assert sorted(listed) == sorted(_documents.SHIPPED)
        assert listed[("drive", "v3")]["title"] == "Drive API" and listed[("drive", "v3")]["preferred"]
        with urllib.request.urlopen(listed[("books", "v1")]["discoveryRestUrl"], timeout=30) as response:
            books = json.load(response)
        assert books["rootUrl"] == server.url and books["revision"] == _documents.SHIPPED[("books", "v1")]


# ---------------------------------------------------------------------------- packaging


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def test_package_data_includes_every_shipped_file() -> None:
    patterns = [p.strip() for p in setup_cfg()["options.package_data"]["aiogoogle.testing"].split(",")]
    for path in FOLDER.iterdir():
        rel = f"documents/{path.name}"
        assert any(fnmatch.fnmatch(rel, pattern) for pattern in patterns), f"{rel} would not be installed"


def test_classifiers_match_python_requires() -> None:
    config = setup_cfg()
    minimum = re.fullmatch(r">=\s*3\.(\d+)", config["options"]["python_requires"].strip())
    assert minimum, "python_requires is a lower bound"
    classifiers = [c.strip() for c in config["metadata"]["classifiers"].splitlines() if c.strip()]
    minors = sorted(int(m.group(1)) for c in classifiers if (m := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", c)))
    assert minors and minors[0] == int(minimum.group(1)), (minors, minimum.group(0))
    assert minors == list(range(minors[0], minors[-1] + 1)), "no gaps between the versions listed"


def test_project_urls_and_summary() -> None:
    metadata = setup_cfg()["metadata"]
    urls = dict(line.split("=", 1) for line in metadata["project_urls"].strip().splitlines())
    assert urls and all(u.strip().startswith("https://") for u in urls.values())
    # README recommends CurioSession (h11) for curio, TrioSession (h11) for trio.
    summary = metadata["description"]
    assert "asyncio (aiohttp)" in summary and "curio (h11" in summary and "trio (h11)" in summary
