"""Helpers over google-api-python-client's 610 real discovery documents."""

from __future__ import annotations

import functools
import json
import os
import random
from collections.abc import Iterator, Mapping
from typing import Any


@functools.lru_cache(maxsize=1)
def documents_dir() -> str:
    import googleapiclient

    return os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")


@functools.lru_cache(maxsize=1)
def document_names() -> tuple[str, ...]:
    names = []
    for fn in sorted(os.listdir(documents_dir())):
        if fn.endswith(".json") and fn != "index.json":
            names.append(fn[: -len(".json")])
    return tuple(names)


@functools.lru_cache(maxsize=64)
def load(name: str) -> dict[str, Any]:
    with open(os.path.join(documents_dir(), f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def load_fresh(name: str) -> dict[str, Any]:
    with open(os.path.join(documents_dir(), f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def walk_methods(node: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """Yield ``(path, method_spec)``; ``path`` is resource names then the method name."""
    for name, spec in (node.get("methods") or {}).items():
        yield (*prefix, name), spec
    for name, res in (node.get("resources") or {}).items():
        yield from walk_methods(res, (*prefix, name))


def resolve(api: Any, path: tuple[str, ...]) -> Any:
    node = api
    for name in path[:-1]:
        node = node.get_resource(name)
    return node.get_method(path[-1])


@functools.lru_cache(maxsize=1)
def all_method_ids() -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for name in document_names():
        doc = load_fresh(name)
        for path, _ in walk_methods(doc):
            out.append((name, path))
    return tuple(out)


def sample_methods(n: int, seed: int = 6570) -> list[tuple[str, tuple[str, ...]]]:
    """A deterministic sample: every document once, then random methods up to ``n``;
    ``AIOGOOGLE_FULL_SWEEP=1`` returns every method of every document."""
    everything = list(all_method_ids())
    if os.environ.get("AIOGOOGLE_FULL_SWEEP"):
        return everything
    rng = random.Random(seed)
    by_doc: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for item in everything:
        by_doc.setdefault(item[0], []).append(item)
    chosen = {rng.choice(items) for items in by_doc.values()}
    rest = [m for m in everything if m not in chosen]
    rng.shuffle(rest)
    chosen.update(rest[: max(0, n - len(chosen))])
    return sorted(chosen)


def methods_with_a_body(n: int, seed: int, limit: int) -> list[tuple[str, tuple[str, ...]]]:
    """The first ``limit`` methods of ``sample_methods(n, seed)`` that take a request body.

    Test modules compute this at import, so every pytest-xdist worker pays for it while
    collecting: it stops at ``limit`` and builds each document's API once, instead of
    building one per sampled method and keeping the first ``limit`` (same result).
    """
    from aiogoogle import GoogleAPI

    found: list[tuple[str, tuple[str, ...]]] = []
    built: tuple[str, Any] | None = None
    for doc_name, path in sample_methods(n, seed):
        if len(found) == limit:
            break
        if built is None or built[0] != doc_name:
            built = (doc_name, GoogleAPI(load(doc_name)))
        if "request" in resolve(built[1], path)._method_specs:
            found.append((doc_name, path))
    return found
