"""Regenerate the ready-made typed stubs of the ``aiogoogle-apis`` distribution
(``stubs/aiogoogle_apis``) from google-api-python-client's discovery documents.

    .venv/bin/python scripts/make_apis.py          # rewrite them
    .venv/bin/python scripts/make_apis.py --check  # exit 1 if any differs (same revision)

Each module is ``aiogoogle.stubgen.generate_stubs`` of one document, written unchanged.
"""

from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "stubs", "aiogoogle_apis")

#: The APIs shipped ready-made: the most used ones (issue 14), by discovery name and version.
APIS = (
    ("bigquery", "v2"),
    ("calendar", "v3"),
    ("compute", "v1"),
    ("drive", "v3"),
    ("gmail", "v1"),
    ("people", "v1"),
    ("sheets", "v4"),
    ("storage", "v1"),
    ("translate", "v2"),
    ("translate", "v3"),
    ("youtube", "v3"),
)


def documents_dir() -> str:
    import googleapiclient

    return os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")


def document(name: str, version: str) -> dict[str, object]:
    with open(os.path.join(documents_dir(), f"{name}.{version}.json"), encoding="utf-8") as fh:
        doc: dict[str, object] = json.load(fh)
    return doc


def main(argv: list[str]) -> int:
    from aiogoogle.stubgen import generate_stubs

    check = "--check" in argv
    stale = []
    for name, version in APIS:
        for filename, text in generate_stubs(document(name, version)).items():
            path = os.path.join(PACKAGE, filename)
            old = None
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    old = fh.read()
            if old == text:
                continue
            stale.append(filename)
            if not check:
                with open(path, "w", encoding="utf-8", newline="\n") as fh:
                    fh.write(text)
    for filename in stale:
        print(("differs: " if check else "written: ") + filename)
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
