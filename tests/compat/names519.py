"""Run in the aiogoogle 5.19 virtualenv: every module of the package and every name in
it without a leading underscore, as JSON (scripts/compat_519.py names writes it to
tests/compat/names_519.json). Modules that cannot be imported there (the asks sessions
need curio or trio) are read with ``ast`` instead."""

import ast
import hashlib
import importlib
import inspect
import json
import os
import pkgutil
import sys
import types


def kind_of(value):
    if isinstance(value, types.ModuleType):
        return "module", value.__name__
    if inspect.isclass(value):
        return "class", f"{value.__module__}.{value.__qualname__}"
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return "function", f"{value.__module__}.{value.__qualname__}"
    module = getattr(type(value), "__module__", "")
    if module == "typing" or type(value).__name__ in ("TypeVar", "_Feature"):
        return "typing", repr(value)
    return "data", None


def fingerprint(value):
    text = json.dumps(value, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def from_ast(path, module):
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = {"kind": "class" if isinstance(node, ast.ClassDef) else "function", "origin": f"{module}.{node.name}"}
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = {"kind": "data", "origin": None}
        elif isinstance(node, ast.Import):
            for a in node.names:
                name = a.asname or a.name.split(".")[0]
                out[name] = {"kind": "module", "origin": a.name}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            for a in node.names:
                out[a.asname or a.name] = {"kind": "imported", "origin": f"{base}.{a.name}"}
    return {k: v for k, v in out.items() if not k.startswith("_")}


def main():
    import aiogoogle

    modules = {}
    names = ["aiogoogle"] + [m.name for m in pkgutil.walk_packages(aiogoogle.__path__, "aiogoogle.")]
    for module in sorted(names):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            spec = importlib.util.find_spec(module)
            modules[module] = {"imported": False, "names": from_ast(spec.origin, module)}
            continue
        entries = {}
        parsed = from_ast(mod.__file__, module) if getattr(mod, "__file__", None) else {}
        for name in sorted(dir(mod)):
            if name.startswith("_"):
                continue
            value = getattr(mod, name)
            kind, origin = kind_of(value)
            entry = {"kind": kind, "origin": origin}
            if kind in ("data", "typing") and parsed.get(name, {}).get("kind") in ("imported", "module"):
                entry["origin"] = parsed[name]["origin"]  # imported (TYPE_CHECKING, a constant of google-auth)
            if kind == "data":
                entry["type"] = type(value).__name__
                entry["sha256"] = fingerprint(value)
                if isinstance(value, (str, int, float, bool, type(None))) or (isinstance(value, (list, tuple, frozenset, dict)) and len(json.dumps(value, default=repr)) < 400):
                    entry["value"] = sorted(value) if isinstance(value, frozenset) else value
            entries[name] = entry
        modules[module] = {"imported": True, "names": entries}
    from importlib.metadata import version

    json.dump({"aiogoogle": version("aiogoogle"), "python": sys.version.split()[0], "modules": modules}, sys.stdout, indent=1, sort_keys=True, default=repr)


if __name__ == "__main__":
    os.environ.pop("AIOGOOGLE_HTTP_PROXY", None)  # HTTP_PROXY is read from it at import
    main()
