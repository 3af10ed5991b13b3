"""Every method of every real discovery document builds a valid request.

CI runs a deterministic sample (every document at least once, ~900 methods); the full
sweep over all 28,137 methods of the 610 documents is one command::

    AIOGOOGLE_FULL_SWEEP=1 python -m pytest tests/test_discovery_sweep.py -q -p no:randomly

Arguments come from :mod:`aiogoogle.testing.strategies`, derived from each method's own
schema, so the sweep also proves that generated arguments validate.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiogoogle import GoogleAPI
from aiogoogle._url import PathTemplate
from aiogoogle.testing.strategies import arguments_for

from ._docs import load, load_fresh, resolve, sample_methods, walk_methods

SAMPLE = sample_methods(900)
_APIS: dict[str, GoogleAPI] = {}


def api_for(name: str) -> GoogleAPI:
    api = _APIS.get(name)
    if api is None:
        _APIS.clear()  # keep memory flat across 610 documents
        api = _APIS[name] = GoogleAPI(load(name))
    return api


def check_request(method: Any, args: dict[str, Any], request: Any) -> None:
    plan = method._compiled()
    parts = urlsplit(request.url)
    assert parts.fragment == "", request.url
    assert request.url.startswith(method._ctx.base_url) or request.url.startswith(method._ctx.download_base)
    assert request.method == plan.http_method
    # Every given query parameter is in the query string, by its wire name.
    query = parse_qsl(parts.query, keep_blank_values=True)
    sent = {}
    for k, v in query:
        sent.setdefault(k, []).append(v)
    names = method.python_names()
    for key, value in args.items():
        if key == "json" or value is None:
            continue
        wire = names.get(key, key)
        param = plan.lookup.get(key) or method._ctx.global_lookup.get(key)
        assert param is not None
        if param.in_path:
            continue
        values = value if isinstance(value, list) else [value]
        expected = [("true" if v is True else "false" if v is False else repr(v) if isinstance(v, float) else str(v)) for v in values]
        assert sent.get(wire) == expected, (wire, sent.get(wire), expected)
    # Path values are substituted by name, encoded by Google's rule, and nothing else
    # changes: the literal parts of the template survive in order.
    path = request.url[len(method._ctx.base_url) :].split("?", 1)[0]
    template = PathTemplate(method["path"])
    pos = 0
    for i, literal in enumerate(template.literals):
        found = path.find(literal, pos) if literal else pos
        assert found >= pos, (path, literal)
        if i < len(template.variables):
            name, reserved = template.variables[i]
            pos = found + len(literal)
    for name, reserved in template.variables:
        value = args.get(name, args.get(next((a for a, w in names.items() if w == name), name)))
        text = str(value)
        encoded = PathTemplate("{" + ("+" if reserved else "") + "x}").expand({"x": text})
        assert encoded in path
        assert unquote(encoded) == text
        assert "?" not in encoded and "#" not in encoded
        if not reserved:
            assert "/" not in encoded


@pytest.mark.parametrize(("doc_name", "path"), SAMPLE, ids=[f"{d}:{'.'.join(p)}" for d, p in SAMPLE])
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_method_builds_a_valid_request(doc_name: str, path: tuple[str, ...], data: st.DataObject) -> None:
    api = api_for(doc_name)
    method = resolve(api, path)
    args = data.draw(arguments_for(method), label="arguments")
    request = method(**args)
    check_request(method, args, request)
    # The same call spelled with the Python aliases builds the same request.
    aliases = {v: k for k, v in method.python_names().items()}
    respelled = {aliases.get(k, k): v for k, v in args.items()}
    assert method(**respelled).url == request.url


@pytest.mark.parametrize("doc_name", sorted({d for d, _ in SAMPLE})[:: 1 if len(SAMPLE) > 20000 else 12])
def test_building_never_modifies_the_document(doc_name: str) -> None:
    doc = load_fresh(doc_name)
    snapshot = copy.deepcopy(doc)
    api = GoogleAPI(doc)
    for path, _ in walk_methods(doc):
        method = resolve(api, path)
        _ = method.parameters, method.required_parameters, method.request, repr(method)
        args: dict[str, Any] = {}
        for name, param in method._compiled().method_exact.items():
            if param.required or param.in_path:
                args[name] = "1" if param.spec.get("type") != "boolean" else True
        try:
            method(validate=False, **args)
        except Exception as exc:
            assert type(exc).__module__.startswith("aiogoogle"), exc
    assert doc == snapshot
