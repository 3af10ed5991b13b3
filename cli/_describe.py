"""``aiogoogle describe``: an API, a resource or a method, readable in a terminal.

It follows the seed's "Browse an API - Manually" walk (resources → methods → parameters →
required/type), done for the reader: parameters are listed required first, with where
they go (path or query), their type and format, pattern, default, allowed values and
whether they repeat; then the media upload rules, the scopes and the request and response
schemas one level deep (nested schemas by name, ``describe`` again to go deeper is not
needed: ``--format json`` gives the whole resolved structure).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any, TextIO

from ._common import UsageError, emit_json, terminal_width

__all__ = ["describe", "method_info", "resolve"]


def resolve(api: Any, dotted: str) -> Any:
    """The resource or method ``dotted`` (``objects.insert``, ``projects.locations.get``)
    of ``api``; :class:`UsageError` with close matches when a name does not exist."""
    node = api
    parts = [p for p in dotted.split(".") if p]
    if not parts:
        raise UsageError(f"empty resource.method path {dotted!r}")
    for i, name in enumerate(parts):
        last = i == len(parts) - 1
        try:
            if last:
                if name in node.methods_available:
                    return node.get_method(name)
                if name in node.resources_available:
                    return node.get_resource(name)
                return getattr(node, name)
            node = node.get_resource(name)
        except AttributeError as exc:
            raise UsageError(str(exc)) from None
    return node


def _spec(node: Any, key: str, default: Any = None) -> Any:
    try:
        return node[key]
    except (KeyError, TypeError):
        return default


def type_label(spec: Mapping[str, Any]) -> str:
    """``string``, ``integer(int32)``, ``array<Object>``, ``map<string,string>``, ``Object``."""
    ref = spec.get("$ref")
    if isinstance(ref, str):
        return ref
    kind = str(spec.get("type") or "any")
    if kind == "array":
        items = spec.get("items")
        return f"array<{type_label(items) if isinstance(items, Mapping) else 'any'}>"
    if kind == "object" and isinstance(spec.get("additionalProperties"), Mapping):
        return f"map<string,{type_label(spec['additionalProperties'])}>"
    fmt = spec.get("format")
    return f"{kind}({fmt})" if fmt else kind


def _param_info(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": name,
        "location": spec.get("location", "query"),
        "required": bool(spec.get("required")),
        "type": type_label(spec),
    }
    for key in ("pattern", "default", "enum", "minimum", "maximum", "description", "deprecated"):
        if key in spec:
            info[key] = spec[key]
    if spec.get("repeated"):
        info["repeated"] = True
    return info


def _schema_info(schema: Mapping[str, Any] | None, name: str | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    raw = schema.get("properties")
    props: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    fields = []
    for field_name, spec in props.items():
        if not isinstance(spec, Mapping):
            continue
        item: dict[str, Any] = {"name": field_name, "type": type_label(spec)}
        if spec.get("readOnly"):
            item["readOnly"] = True
        if "description" in spec:
            item["description"] = spec["description"]
        if "enum" in spec:
            item["enum"] = spec["enum"]
        fields.append(item)
    return {"schema": name or schema.get("id") or type_label(schema), "fields": fields}


def method_info(method: Any) -> dict[str, Any]:
    """Everything ``describe`` shows about a method, as plain data."""
    params = _spec(method, "parameters", {}) or {}
    infos = [_param_info(n, s) for n, s in params.items() if isinstance(s, Mapping)]
    order = _spec(method, "parameterOrder", []) or []
    rank = {n: i for i, n in enumerate(order)}
    # Required first (in the document's parameterOrder), then the rest alphabetically.
    infos.sort(key=lambda p: (not p["required"], rank.get(p["name"], len(rank)), p["name"].lower()))
    info: dict[str, Any] = {
        "id": _spec(method, "id", method.name),
        "httpMethod": _spec(method, "httpMethod", "GET"),
        "path": _spec(method, "flatPath") or _spec(method, "path", ""),
        "description": _spec(method, "description", ""),
        "parameters": infos,
        "scopes": list(_spec(method, "scopes", []) or []),
    }
    req_ref = (_spec(method, "request") or {}).get("$ref") if isinstance(_spec(method, "request"), Mapping) else None
    res_ref = (_spec(method, "response") or {}).get("$ref") if isinstance(_spec(method, "response"), Mapping) else None
    info["request"] = _schema_info(method.request, req_ref)
    info["response"] = _schema_info(method.response, res_ref)
    if _spec(method, "supportsMediaUpload"):
        media = _spec(method, "mediaUpload", {}) or {}
        protocols = media.get("protocols") or {}
        info["mediaUpload"] = {
            "accept": media.get("accept", ["*/*"]),
            "maxSize": media.get("maxSize"),
            "protocols": sorted(k for k, v in protocols.items() if isinstance(v, Mapping)),
        }
    if _spec(method, "supportsMediaDownload"):
        info["mediaDownload"] = True
    if _spec(method, "deprecated"):
        info["deprecated"] = True
    return info


def _walk(node: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Every method under ``node``: ``{"name": "objects.insert", "httpMethod", "path", "description"}``."""
    found = []
    for name in node.methods_available:
        m = node.get_method(name)
        found.append({
            "name": prefix + name,
            "httpMethod": _spec(m, "httpMethod", "GET"),
            "path": _spec(m, "flatPath") or _spec(m, "path", ""),
            "description": _first_sentence(_spec(m, "description", "")),
        })
    for name in node.resources_available:
        found.extend(_walk(node.get_resource(name), f"{prefix}{name}."))
    return found


def api_info(api: Any) -> dict[str, Any]:
    doc = api.discovery_document
    scopes = (((doc.get("auth") or {}).get("oauth2") or {}).get("scopes") or {})
    return {
        "id": doc.get("id"),
        "name": doc.get("name"),
        "version": doc.get("version"),
        "title": doc.get("title"),
        "description": doc.get("description"),
        "revision": doc.get("revision"),
        "documentationLink": doc.get("documentationLink"),
        "rootUrl": api.root_url,
        "servicePath": doc.get("servicePath"),
        "resources": list(api.resources_available),
        "methods": _walk(api),
        "scopes": {k: (v or {}).get("description", "") for k, v in scopes.items()},
        "globalParameters": sorted((doc.get("parameters") or {}).keys()),
    }


def resource_info(resource: Any, qualname: str) -> dict[str, Any]:
    return {
        "resource": qualname,
        "resources": list(resource.resources_available),
        "methods": _walk(resource, qualname + "."),
    }


def _first_sentence(text: str) -> str:
    text = " ".join(str(text).split())
    cut = text.find(". ")
    return text[: cut + 1] if 0 < cut < 160 else text[:160]


# ------------------------------------------------------------------------------- text


class _Writer:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.width = terminal_width()

    def line(self, text: str = "") -> None:
        self.stream.write(text.rstrip() + "\n")

    def wrapped(self, text: str, indent: str = "  ") -> None:
        text = " ".join(str(text).split())
        if not text:
            return
        for ln in textwrap.wrap(text, width=max(40, self.width - len(indent)), break_on_hyphens=False):
            self.line(indent + ln)


def _methods_text(w: _Writer, methods: list[dict[str, Any]]) -> None:
    if not methods:
        w.line("  (none)")
        return
    nw = min(max(len(m["name"]) for m in methods), 44)
    hw = max(len(m["httpMethod"]) for m in methods)
    heads = [f"  {m['name'].ljust(nw)}  {m['httpMethod'].ljust(hw)}  {m['path']}" for m in methods]
    if max(len(h) for h in heads) <= w.width:
        for head in heads:
            w.line(head)
        return
    # Too wide for the terminal: every path goes on its own line (never cut).
    for m in methods:
        w.line(f"  {m['name'].ljust(nw)}  {m['httpMethod']}")
        w.line(f"      {m['path']}")


def print_api(info: dict[str, Any], stream: TextIO) -> None:
    w = _Writer(stream)
    w.line(f"{info['name']} {info['version']} — {info.get('title') or ''}".rstrip(" —"))
    w.wrapped(info.get("description") or "")
    w.line()
    w.line(f"Root URL:      {info['rootUrl']}")
    w.line(f"Service path:  {info.get('servicePath') or ''}")
    if info.get("revision"):
        w.line(f"Revision:      {info['revision']}")
    if info.get("documentationLink"):
        w.line(f"Documentation: {info['documentationLink']}")
    w.line()
    w.line(f"Resources ({len(info['resources'])}):")
    w.wrapped(", ".join(info["resources"]) or "(none)")
    w.line()
    w.line(f"Methods ({len(info['methods'])}):")
    _methods_text(w, info["methods"])
    if info["scopes"]:
        w.line()
        w.line("Scopes:")
        for scope, desc in info["scopes"].items():
            w.line(f"  {scope}")
            w.wrapped(desc, "      ")
    w.line()
    w.line("Global parameters (every method):")
    w.wrapped(", ".join(info["globalParameters"]))
    w.line()
    w.line(f"More: aiogoogle describe {info['name']} {info['version']} RESOURCE.METHOD")


def print_resource(info: dict[str, Any], stream: TextIO) -> None:
    w = _Writer(stream)
    w.line(f"Resource {info['resource']}")
    if info["resources"]:
        w.line("Nested resources:")
        w.wrapped(", ".join(info["resources"]))
    w.line()
    w.line(f"Methods ({len(info['methods'])}):")
    _methods_text(w, info["methods"])


def _param_line(p: dict[str, Any]) -> str:
    flags = ["required" if p["required"] else "optional", p["location"]]
    if p.get("repeated"):
        flags.append("repeated")
    if p.get("deprecated"):
        flags.append("deprecated")
    return f"{p['type']}, {', '.join(flags)}"


def print_method(info: dict[str, Any], stream: TextIO) -> None:
    w = _Writer(stream)
    w.line(f"{info['id']}  {info['httpMethod']} {info['path']}" + ("  (deprecated)" if info.get("deprecated") else ""))
    w.wrapped(info.get("description") or "")
    if info.get("usage"):
        w.line()
        usage = textwrap.wrap(f"Usage: {info['usage']}", width=w.width, subsequent_indent="         ",
                              break_on_hyphens=False, break_long_words=False)
        for ln in usage:
            w.line(ln)
    w.line()
    params = info["parameters"]
    required = [p for p in params if p["required"]]
    w.line(f"Parameters ({len(required)} required, {len(params) - len(required)} optional):" if params else "Parameters: none")
    for p in params:
        w.line(f"  {p['name']}  ({_param_line(p)})")
        w.wrapped(p.get("description", ""), "      ")
        extras = []
        if "pattern" in p:
            extras.append(f"pattern: {p['pattern']}")
        if "default" in p:
            extras.append(f"default: {p['default']}")
        if "minimum" in p or "maximum" in p:
            extras.append(f"range: {p.get('minimum', '')}..{p.get('maximum', '')}")
        if "enum" in p:
            extras.append("one of: " + ", ".join(map(str, p["enum"])))
        for extra in extras:
            w.wrapped(extra, "      ")
    if "mediaUpload" in info:
        mu = info["mediaUpload"]
        w.line()
        w.line("Media upload: accepts " + ", ".join(mu["accept"])
               + (f", at most {mu['maxSize']}" if mu.get("maxSize") else "")
               + (f"; protocols: {', '.join(mu['protocols'])}" if mu["protocols"] else ""))
    if info.get("mediaDownload"):
        w.line()
        w.line("Media download: yes (alt=media; aiogoogle call ... --download FILE)")
    for key, title in (("request", "Request body"), ("response", "Response")):
        schema = info.get(key)
        w.line()
        if schema is None:
            w.line(f"{title}: none")
            continue
        if key == "response" and info.get("request") and info["request"]["schema"] == schema["schema"]:
            w.line(f"{title}: {schema['schema']} (as the request body)")
            continue
        w.line(f"{title}: {schema['schema']}")
        fields = schema["fields"]
        if not fields:
            continue
        nw = min(max(len(f["name"]) for f in fields), 32)
        tw = min(max(len(f["type"]) for f in fields), 30)
        for f in fields:
            ro = "(read-only)" if f.get("readOnly") else ""
            line = f"  {f['name'].ljust(nw)}  {f['type'].ljust(tw)}  {ro}".rstrip()
            if len(line) > w.width:
                line = f"  {f['name']}  {f['type']}  {ro}".rstrip()
            w.line(line)
    w.line()
    if info["scopes"]:
        w.line("Scopes (any one):")
        for scope in info["scopes"]:
            w.line(f"  {scope}")
    else:
        w.line("Scopes: none (an API key or no credentials)")


def describe(api: Any, target: str | None, fmt: str | None, stream: TextIO) -> None:
    """Print the API, or the resource or method ``target``, as text or JSON."""
    from aiogoogle import Method

    if target is None:
        info, print_text = api_info(api), print_api
    else:
        node = resolve(api, target)
        if isinstance(node, Method):
            info, print_text = method_info(node), print_method
            doc = api.discovery_document
            required = " ".join(f"{p['name']}={p['name'].upper()}" for p in info["parameters"] if p["required"])
            body = " [--json BODY]" if info["request"] else ""
            upload = " [--upload FILE]" if "mediaUpload" in info else ""
            download = " [--download FILE]" if info.get("mediaDownload") else ""
            info["usage"] = f"aiogoogle call {doc.get('name')} {doc.get('version')} {target} {required}{body}{upload}{download}".replace("  ", " ").rstrip()
        else:
            info, print_text = resource_info(node, target), print_resource
    if fmt == "json":
        emit_json(info, stream)
    else:
        print_text(info, stream)
