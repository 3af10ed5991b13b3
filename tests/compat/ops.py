"""Scripted operations run the same way on aiogoogle 5.19 and on this project.

This module imports only ``aiogoogle`` (never anything else of this repository), so
the differential harness (tests/compat/harness.py) runs it twice: in this process,
where ``aiogoogle`` is ours, and in a subprocess of a virtualenv holding aiogoogle
5.19 (tests/compat/peer.py). Every operation returns plain JSON data, so the two
answers compare with ``==``; an exception becomes ``{"raises": [...]}``, the names of
the exception classes 5.x code could catch it with (see :func:`outcome`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

# The exception classes 5.x code catches, by name. A 5.19 outcome is matched by ours
# when every name 5.19's exception has is also one of ours (an ``except`` written
# for 5.19 still catches ours).
_CATCHABLE = ("ValidationError", "HTTPError", "AuthError", "AiogoogleError", "TypeError", "ValueError", "KeyError", "AttributeError", "NotImplementedError")


def outcome(exc: BaseException) -> dict[str, Any]:
    import builtins

    from aiogoogle import excs

    names = []
    for name in _CATCHABLE:
        cls = getattr(excs, name, None) or getattr(builtins, name)
        if isinstance(exc, cls):
            names.append(name)
    return {"raises": names}


def digest(value: Any) -> str:
    """A short stable fingerprint of a JSON-like value."""
    text = json.dumps(value, sort_keys=True, default=repr, ensure_ascii=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _try(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the outcome is the result being compared
        return outcome(exc)


_STACK = ("trace", "pp", "strict")


def _order(names: Any) -> Any:
    """5.19 adds ``trace``, ``pp`` and ``strict`` from a frozenset, whose order changes
    with the string hash seed: they are put last in a fixed order on both sides."""
    if not isinstance(names, list):
        return names
    return [n for n in names if n not in _STACK] + [n for n in _STACK if n in names]


def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------ browsing


def browse(path: str, detail: list[str] | None = None) -> dict[str, Any]:
    """Walk every resource and method of the document at ``path``: per node, a record of
    what 5.x browsing gives (``str``, ``len``, ``__getitem__``, ``__contains__``, the
    parameter properties, ``request``/``response``). Values are fingerprints unless
    ``detail`` lists nodes (then only their records, in full)."""
    from aiogoogle import GoogleAPI

    doc = _load(path)
    api = GoogleAPI(doc)
    out: dict[str, Any] = {}
    fp = digest if detail is None else (lambda v: v)

    def getitems(node: Any, spec: dict[str, Any]) -> dict[str, Any]:
        # (5.19 adds "parameters": None to a method spec without parameters: every node asks
        # for it, so the key lists are the same on both sides.)
        keys = [k for k in spec if k not in ("parameters", "resources", "methods")] + ["parameters", "resources", "methods", "noSuchKey"]
        return {k: fp(_try(lambda k=k: node[k])) for k in keys}

    def visit_method(qual: str, m: Any) -> None:
        if detail is not None and qual not in detail:
            return
        spec = m._method_specs if hasattr(m, "_method_specs") else {}
        params = _try(lambda: m.parameters)
        rec: dict[str, Any] = {
            "type": type(m).__name__,
            "str": _try(str, m),
            "len": _try(len, m),
            "parameters": fp(params),
            "parameter_names": _order(list(params)) if isinstance(params, dict) else params,
        }
        for prop in ("optional_parameters", "required_parameters", "path_parameters", "query_parameters", "required_query_parameters", "optional_query_parameters"):
            rec[prop] = _order(_try(lambda prop=prop: getattr(m, prop)))
        rec["request"] = fp(_try(lambda: m.request))
        rec["response"] = fp(_try(lambda: m.response))
        rec["getitem"] = getitems(m, spec)
        names = list(params) if isinstance(params, dict) else []
        rec["contains"] = {n: _try(lambda n=n: n in m) for n in [*names, "noSuchParameter"]}
        out[qual] = rec

    def visit(qual: str, node: Any, spec: dict[str, Any]) -> None:
        resources = spec.get("resources") or {}
        methods = spec.get("methods") or {}
        if detail is None or qual in detail:
            rec: dict[str, Any] = {
                "type": type(node).__name__,
                "str": _try(str, node),
                "len": _try(len, node),
                "methods_available": _try(lambda: node.methods_available),
                "resources_available": _try(lambda: node.resources_available),
                "getitem": getitems(node, spec),
                "contains": {n: _try(lambda n=n: n in node) for n in [*resources, *methods, "noSuchChild"]},
                "call": _try(node),
                "missing_attr": _try(lambda: node.noSuchChild),
            }
            if qual == "":
                rec["parameters"] = fp(_try(lambda: node["parameters"]))
            out[qual] = rec
        for name in resources:
            child = getattr(node, name)
            sub = f"{qual}.{name}" if qual else name
            if type(child).__name__ == "Resource":
                visit(sub, child, resources[name])
        for name in methods:
            if name in resources:
                continue  # a resource of the same name wins in both libraries
            visit_method(f"{qual}.{name}" if qual else name, getattr(node, name))

    visit("", api, doc)
    return out


# ------------------------------------------------------------------------ requests


def _request(req: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "method": req.method,
        "url": req.url,
        "headers": dict(req.headers or {}),
        "json": req.json,
        "data": req.data if isinstance(req.data, (str, dict, list, type(None))) else repr(req.data),
        "timeout": req.timeout if isinstance(req.timeout, (int, float, type(None))) else repr(req.timeout),
        "batch_url": req.batch_url,
    }
    mu = req.media_upload
    out["media_upload"] = None if mu is None else {
        "upload_path": mu.upload_path,
        "mime_range": mu.mime_range,
        "max_size": mu.max_size,
        "multipart": mu.multipart,
        "chunk_size": mu.chunk_size,
        "validate": mu.validate,
        "file_path": mu.file_path,
        "file_body": _bytes(getattr(mu, "file_body", "<missing>")),
        "resumable": None if mu.resumable is None else {
            "upload_path": mu.resumable.upload_path,
            "multipart": mu.resumable.multipart,
            "chunk_size": mu.resumable.chunk_size,
        },
    }
    md = req.media_download
    out["media_download"] = None if md is None else {"file_path": md.file_path, "chunk_size": md.chunk_size}
    return out


def _bytes(value: Any) -> Any:
    return {"bytes": value.hex()} if isinstance(value, bytes) else value


def _unjson(value: Any) -> Any:
    """Arguments travel as JSON: ``{"__bytes__": hex}`` stands for bytes."""
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return bytes.fromhex(value["__bytes__"])
        return {k: _unjson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unjson(v) for v in value]
    return value


_DOCS: dict[Any, Any] = {}


def call(path: str, method: list[str], kwargs: dict[str, Any], api_validate: bool = False) -> dict[str, Any]:
    """Build ``api.<method>(**kwargs)`` on a fresh copy of the document at ``path``."""
    import warnings

    from aiogoogle import GoogleAPI

    # One API object per document (5.19 rewrites its document while building, but
    # every rewrite is undone or idempotent, so calls do not see each other).
    api = _DOCS.get((path, api_validate))
    if api is None:
        api = _DOCS[(path, api_validate)] = GoogleAPI(_load(path), validate=api_validate)
    node: Any = api
    for name in method:
        node = getattr(node, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _request(node(**_unjson(kwargs)))
        except Exception as exc:
            return outcome(exc)


# ------------------------------------------------------------------------ media models


def media(case: dict[str, Any]) -> dict[str, Any]:
    """A media model built from ``case["args"]`` and what its 5.x API gives."""
    from aiogoogle import models

    kind = case["kind"]
    args = _unjson(case.get("args", {}))
    try:
        obj = getattr(models, kind)(**args)
    except Exception as exc:
        return outcome(exc)
    attrs = {a: _bytes(_try(getattr, obj, a)) for a in case["attrs"]}
    out: dict[str, Any] = {"attrs": attrs, "str": _try(str, obj) if kind == "MediaUpload" else None}
    if kind == "MediaUpload":

        async def aiter_func(file_path: str, chunk_size: int) -> Any:
            data = (file_path * 7).encode()
            for i in range(0, len(data), chunk_size):
                yield data[i : i + chunk_size]

        async def read_func(file_path: str) -> bytes:
            return file_path.encode()

        async def size_func(file_path: str) -> int:
            return len(file_path) * 1000

        async def chunks() -> Any:
            return [c.hex() async for c in obj.aiter_file(aiter_func)]

        out["aiter_file"] = _try(asyncio.run, chunks())
        out["read_file"] = _bytes(_try(asyncio.run, obj.read_file(read_func)))
        out["run_validation"] = _try(asyncio.run, obj.run_validation(size_func))
    return out


# ------------------------------------------------------------------------ auth (pure parts)


def auth(case: dict[str, Any]) -> Any:
    """One pure auth-manager or credentials operation (no I/O)."""
    from aiogoogle.auth import creds as creds_mod
    from aiogoogle.auth import managers
    from aiogoogle.models import Request

    op = case["op"]
    try:
        if op == "authorization_url":
            mgr = getattr(managers, case["manager"])(client_creds=case.get("client_creds"))
            return mgr.authorization_url(**case["kwargs"])
        if op == "is_ready":
            return managers.Oauth2Manager().is_ready(case["client_creds"])
        if op == "is_expired":
            return managers.Oauth2Manager.is_expired(case["creds"])
        if op == "authorized_for_method":
            from aiogoogle import GoogleAPI

            api = GoogleAPI(_load(case["doc"]))
            node: Any = api
            for name in case["method"]:
                node = getattr(node, name)
            return managers.Oauth2Manager.authorized_for_method(node, case["creds"])
        if op == "oauth2_api":
            api = managers.Oauth2Manager().oauth2_api
            return {"type": type(api).__name__, "str": str(api), "resources": api.resources_available, "methods": api.methods_available}
        if op == "api_key":
            req = Request(method="GET", url=case["url"])
            return managers.ApiKeyManager(case.get("key")).authorize(req, case.get("per_call")).url
        if op == "user_authorize":
            req = Request(method="GET", url="https://example.googleapis.com/v1/x")
            r = managers.Oauth2Manager.authorize(req, case["creds"])
            return {"url": r.url, "headers": dict(r.headers or {})}
        if op == "sa_authorize":
            req = Request(method="GET", url="https://example.googleapis.com/v1/x")
            r = managers.ServiceAccountManager().authorize(req, case["token"])
            return {"url": r.url, "headers": dict(r.headers or {})}
        if op == "creds":
            cls = getattr(creds_mod, case["cls"])
            obj = cls(**case.get("kwargs", {}))
            return {"dict": dict(obj) if isinstance(obj, dict) else str(obj), "attrs": {a: _try(getattr, obj, a) for a in case.get("attrs", [])}}
    except Exception as exc:
        return outcome(exc)
    raise ValueError(f"unknown auth op {op!r}")


OPS = {"browse": browse, "call": call, "media": media, "auth": auth}
