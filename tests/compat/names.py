"""Compare the public names of aiogoogle 5.19 (tests/compat/names_519.json) with ours."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import types
from typing import Any

from tests.compat.harness import NAMES_FILE


def load_names() -> dict[str, Any]:
    with open(NAMES_FILE, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def is_ours(origin: str | None) -> bool:
    """A name 5.19 defined (or re-exported from its own modules), not one it imported
    from the standard library or another package."""
    return origin is None or origin == "aiogoogle" or origin.startswith("aiogoogle.")


def pairs() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for module, info in load_names()["modules"].items():
        for name, entry in info["names"].items():
            out.append((module, name, entry))
    return out


def resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _sha(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


def _same_data(value: Any, entry: dict[str, Any]) -> bool:
    plain = sorted(value) if isinstance(value, frozenset) else value
    if "value" in entry:  # small values are listed (frozensets sorted)
        return bool(json.loads(json.dumps(plain, default=repr)) == entry["value"])
    return _sha(plain) == entry.get("sha256")


def check(module: str, name: str, entry: dict[str, Any]) -> str | None:
    """None when ``module.name`` exists here with 5.19's meaning, else what is wrong."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        return f"module {module} does not import: {exc}"
    if entry["kind"] == "module" and is_ours(entry.get("origin")):
        try:
            importlib.import_module(entry["origin"])  # a submodule is an attribute once imported
        except ImportError as exc:
            return f"module {entry['origin']} does not import: {exc}"
    if not hasattr(mod, name):
        return f"{module}.{name} is missing"
    value = getattr(mod, name)
    kind, origin = entry["kind"], entry.get("origin")
    if kind == "module":
        if not isinstance(value, types.ModuleType) or value.__name__ != origin:
            return f"{module}.{name} is not the module {origin}"
    elif kind == "class":
        if not inspect.isclass(value):
            return f"{module}.{name} is not a class"
    elif kind in ("function", "imported"):
        if not callable(value):
            return f"{module}.{name} is not callable"
    elif kind == "data" and not _same_data(value, entry):
        return f"{module}.{name} differs from 5.19's value"
    if kind in ("class", "function") and origin and is_ours(origin) and origin.rsplit(".", 1)[0] != module:
        # A re-export in 5.19 (aiogoogle.auth.managers.Request is aiogoogle.models.Request):
        # the same object here.
        try:
            home = resolve(origin)
        except (ImportError, AttributeError):
            return None
        if home is not value:
            return f"{module}.{name} is not {origin}"
    return None
