"""The stub generator (aiogoogle.stubgen), ``aiogoogle stubs`` and ``discover(typed=...)``,
without type checkers (tests/test_stubs_typecheck.py runs those).

The central property: for every method of every bundled document, the keywords a stub
declares are exactly the ones a call accepts by a Python name (the method's parameters,
the API's global ones and the call options), required ones without a default, so what
the type checker allows is what runs.
"""

from __future__ import annotations

import ast
import asyncio
import gzip
import json
import keyword
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiogoogle import Aiogoogle, DiscoveryEndpoints, DiscoveryError, GoogleAPI, ValidationError
from aiogoogle.cli import main as cli_main
from aiogoogle.resource import CALL_OPTIONS, Method, Resource
from aiogoogle.stubgen import api_class_name, generate_stubs, module_name

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted((ROOT / "testing" / "documents").glob("*.json.gz"))
OPTIONS = {"validate", "timeout", "retry", "path_params_safe_chars"}
MEDIA = {"json", "data", "upload_file", "pipe_from", "upload_file_content_type", "resumable", "chunk_size", "progress",
         "download_file", "pipe_to"}


def _load(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)  # type: ignore[no-any-return]


class _Stub:
    """The classes of a generated .pyi: attributes, methods and their keyword parameters."""

    def __init__(self, text: str) -> None:
        self.tree = ast.parse(text)
        self.classes = {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}

    def attrs(self, cls: str) -> dict[str, str]:
        return {n.target.id: ast.unparse(n.annotation) for n in self.classes[cls].body
                if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}

    def methods(self, cls: str) -> dict[str, list[ast.FunctionDef]]:
        out: dict[str, list[ast.FunctionDef]] = {}
        for n in self.classes[cls].body:
            if isinstance(n, ast.FunctionDef):
                out.setdefault(n.name, []).append(n)
        return out

    def option_keys(self, name: str) -> set[str]:
        return set(self.attrs(name))


def _literal_overloads(defs: list[ast.FunctionDef]) -> dict[str, str]:
    """``get_method``/``get_resource`` overloads: discovery name -> the returned class."""
    out: dict[str, str] = {}
    for fn in defs:
        ann = fn.args.args[1].annotation
        if isinstance(ann, ast.Subscript) and ast.unparse(ann.value) == "_t.Literal" and fn.returns is not None:
            out[ast.literal_eval(ann.slice)] = ast.unparse(fn.returns)
    return out


def _walk(stub: _Stub, node: GoogleAPI | Resource, cls: str) -> list[tuple[Method, list[ast.FunctionDef]]]:
    """Every method the stub types below ``cls``, as the runtime object the same spelling
    reaches (an attribute, or a typed ``get_method``/``get_resource`` overload)."""
    found: list[tuple[Method, list[ast.FunctionDef]]] = []
    defs = stub.methods(cls)
    for name, fns in defs.items():
        if name in ("get_method", "get_resource"):
            continue
        method = getattr(node, name)
        assert isinstance(method, Method), (cls, name)
        found.append((method, fns))
    for name, proto in _literal_overloads(defs.get("get_method", [])).items():
        method = node.get_method(name)
        assert isinstance(method, Method) and method.name == name, (cls, name)
        assert "_t.Protocol" in [ast.unparse(b) for b in stub.classes[proto].bases]
        found.append((method, stub.methods(proto)["__call__"]))
    children = [(getattr(node, name), sub) for name, sub in stub.attrs(cls).items() if not name.startswith("__")]
    children += [(node.get_resource(name), sub) for name, sub in _literal_overloads(defs.get("get_resource", [])).items()]
    for child, sub in children:
        assert isinstance(child, Resource), (cls, sub)
        found += _walk(stub, child, sub)
    return found


def _googleapiclient_documents(*names: str) -> list[Any]:
    """Documents of google-api-python-client (if installed) with members no attribute
    reaches: methods named as a sibling resource (aiplatform, apigee, connectors,
    identitytoolkit)."""
    try:
        import googleapiclient
    except ImportError:
        return []
    folder = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
    return [pytest.param(folder / f"{n}.json", id=n) for n in names if (folder / f"{n}.json").exists()]


CLASHES = ROOT / "tests" / "typed" / "clashes.json"
COVERED = [*DOCUMENTS, pytest.param(CLASHES, id="clashes"),
           *_googleapiclient_documents("aiplatform.v1beta1", "apigee.v1", "identitytoolkit.v1", "connectors.v2")]


@pytest.mark.parametrize("path", COVERED, ids=lambda p: p.name.split(".json")[0])
def test_declared_keywords_are_what_calls_accept(path: Path) -> None:
    doc = _load(path)
    files = generate_stubs(doc)
    stub = _Stub(files[f"{module_name(doc)}.pyi"])
    api = GoogleAPI(doc)
    methods = _walk(stub, api, api_class_name(doc))
    # Every method of the document is typed, each once (none left to an untyped Any).
    assert sorted(m._compiled().method_id for m, _ in methods) == sorted(_method_ids(doc))
    global_keys = stub.option_keys("_Options") - OPTIONS
    for method, defs in methods:
        plan = method._compiled()
        for fn in defs:
            kwonly = {a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)}
            assert fn.args.kwarg is not None and fn.args.kwarg.annotation is not None
            options = ast.unparse(fn.args.kwarg.annotation).removeprefix("_te.Unpack[").removesuffix("]")
            declared = (set(kwonly) - MEDIA) | (stub.option_keys(options) - OPTIONS)
            # Every keyword a call accepts by a Python name is declared, nothing else is.
            accepted = {k for k in {**api._api().global_lookup, **plan.lookup}
                        if k.isidentifier() and not keyword.iskeyword(k) and not k.startswith("_") and k not in CALL_OPTIONS}
            assert declared == accepted, (plan.method_id, declared ^ accepted)
            assert stub.option_keys(options) - OPTIONS <= global_keys
            # Required parameters (and every path parameter) have no default.
            required = {p.name for p in plan.required}
            for kw, default in kwonly.items():
                target = plan.lookup.get(kw)
                if target is not None and target.name in required:
                    assert default is None, (plan.method_id, kw)
            # The result: the response schema, None for media downloads.
            result = ast.unparse(fn.returns) if fn.returns else ""
            response = method["response"]
            if "download_file" in kwonly or "pipe_to" in kwonly:
                assert result == "_Request[None]"
            elif isinstance(response, Mapping) and "$ref" in response:
                assert result == f"_Request[{response['$ref']}]"


def _method_ids(node: Mapping[str, Any]) -> list[str]:
    return [m["id"] for m in _all_methods(node)]


def _all_methods(node: Mapping[str, Any]) -> Any:
    yield from (node.get("methods") or {}).values()
    for sub in (node.get("resources") or {}).values():
        yield from _all_methods(sub)


def test_types_of_parameters_and_schemas() -> None:
    doc = _load(ROOT / "testing" / "documents" / "drive.v3.json.gz")
    pyi = generate_stubs(doc)["drive_v3.pyi"]
    stub = _Stub(pyi)
    [list_] = stub.methods("DriveV3Files")["list"]
    args = {a.arg: ast.unparse(a.annotation) for a in list_.args.kwonlyargs if a.annotation}
    assert args["pageSize"] == "_int | None"  # int32
    assert args["corpus"] == "_t.Literal['domain', 'user'] | None"  # enum
    assert args["includeItemsFromAllDrives"] == "_bool | None"
    assert "x__xgafv" in stub.option_keys("_Options")  # $.xgafv, spelled as calls accept it
    assert stub.attrs("_Options")["x__xgafv"] == "_t.Literal['1', '2']"
    file = stub.attrs("File")
    assert file["name"] == "_str"
    assert file["id"] == "_str"
    assert file["size"] == "_te.ReadOnly[_str]"  # int64 in JSON, and output only
    assert file["owners"] == "_te.ReadOnly[_list[User]]"
    assert file["capabilities"] == "_te.ReadOnly[File_Capabilities]"  # an inline object gets its class
    assert file["appProperties"] == "_dict[_str, _str]"
    assert "total=False" in ast.unparse(stub.classes["File"])
    assert ast.get_docstring(stub.classes["FileList"]) == "A list of files."
    storage = _Stub(generate_stubs(_load(ROOT / "testing" / "documents" / "storage.v1.json.gz"))["storage_v1.pyi"])
    *downloads, get = storage.methods("StorageV1Objects")["get"]  # overloads: download_file=, pipe_to=, neither
    assert [ast.unparse(d.returns) for d in downloads if d.returns] == ["_Request[None]", "_Request[None]"]
    assert ast.unparse(get.returns) == "_Request[Object]" if get.returns else False
    args = {a.arg: ast.unparse(a.annotation) for a in get.args.kwonlyargs if a.annotation}
    assert args["ifMetagenerationMatch"] == "_int | _str | None"  # int64 parameter: what calls accept


def test_the_runtime_module() -> None:
    doc = _load(ROOT / "testing" / "documents" / "drive.v3.json.gz")
    py = generate_stubs(doc)["drive_v3.py"]
    namespace: dict[str, Any] = {"__name__": "drive_v3"}
    exec(compile(py, "drive_v3.py", "exec"), namespace)
    cls = namespace["DriveV3"]
    assert issubclass(cls, GoogleAPI) and cls.__discovery_id__ == "drive:v3"
    api = cls(doc)
    assert isinstance(api.files.list(pageSize=3).url, str)
    getattr_ = namespace["__getattr__"]
    assert getattr_("FileList") is dict and getattr_("DriveV3Files") is Resource
    with pytest.raises(AttributeError):
        getattr_("NoSuchName")


_NAMES = st.one_of(
    st.sampled_from(["class", "self", "_x", "__x", "$.xgafv", "a-b", "9a", "timeout", "json", "List", "str", "", "Status",
                     "get_method", "name", '"""', "x\\", "é", "\u2028", "options", "Request", "_t"]),
    st.text(max_size=8),
)
_LEAF = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "number", "boolean", "any", "null", "weird"])},
                          optional={"enum": st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
                                    "format": st.sampled_from(["int64", "int32", "byte"]), "description": st.text(max_size=20),
                                    "readOnly": st.booleans(), "repeated": st.booleans(),
                                    "location": st.sampled_from(["path", "query"]), "required": st.booleans()}),
    st.builds(lambda n: {"$ref": n}, _NAMES),
    st.none(), st.integers(), st.text(max_size=5),
)
_SCHEMA = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.builds(lambda p: {"type": "object", "properties": p}, st.dictionaries(_NAMES, inner, max_size=4)),
        st.builds(lambda i: {"type": "array", "items": i}, inner),
        st.builds(lambda v: {"type": "object", "additionalProperties": v}, inner),
    ),
    max_leaves=12,
)
_METHOD = st.fixed_dictionaries({}, optional={
    "parameters": st.dictionaries(_NAMES, _LEAF, max_size=4), "request": _SCHEMA, "response": _SCHEMA,
    "supportsMediaDownload": st.booleans(), "supportsMediaUpload": st.booleans(), "description": st.text(max_size=30),
    "path": st.sampled_from(["x/{a}", "{+name}", "{", "p"]), "parameterOrder": st.one_of(st.lists(_NAMES, max_size=3), st.integers()),
})
_RESOURCE = st.recursive(
    st.fixed_dictionaries({}, optional={"methods": st.dictionaries(_NAMES, _METHOD, max_size=3)}),
    lambda inner: st.fixed_dictionaries({}, optional={"methods": st.dictionaries(_NAMES, _METHOD, max_size=2),
                                                      "resources": st.dictionaries(_NAMES, inner, max_size=2)}),
    max_leaves=4,
)
_DOCUMENT = st.fixed_dictionaries(
    {"name": st.one_of(st.just("api"), _NAMES), "version": st.one_of(st.just("v1"), _NAMES)},
    optional={"schemas": st.one_of(st.dictionaries(_NAMES, _SCHEMA, max_size=4), st.integers()),
              "resources": st.one_of(st.dictionaries(_NAMES, _RESOURCE, max_size=3), st.text(max_size=3)),
              "methods": st.dictionaries(_NAMES, _METHOD, max_size=2),
              "parameters": st.one_of(st.dictionaries(_NAMES, _LEAF, max_size=3), st.none()),
              "title": st.text(max_size=10), "description": st.text(max_size=30), "revision": st.text(max_size=5)},
)


@settings(max_examples=60, deadline=None)
@given(_DOCUMENT)
def test_any_document_gives_valid_python_or_a_discovery_error(doc: dict[str, Any]) -> None:
    try:
        files = generate_stubs(doc)
    except DiscoveryError:
        return
    for name, text in files.items():
        tree = ast.parse(text, name)  # valid Python, whatever the names and descriptions
        defined = [t.id for n in tree.body if isinstance(n, ast.AnnAssign | ast.Assign)
                   for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)]
        defined += [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        assert len(defined) == len(set(defined)), name  # every module-level name once
        for n in ast.walk(tree):
            if isinstance(n, ast.FunctionDef):
                names = [a.arg for a in n.args.args + n.args.kwonlyargs] + ([n.args.kwarg.arg] if n.args.kwarg else [])
                assert len(names) == len(set(names)), (name, n.name)
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(files[f"{module_name(doc)}.py"], "generated.py", "exec"), namespace)
    assert issubclass(namespace[api_class_name(doc)], GoogleAPI)


def test_documents_that_cannot_name_stubs() -> None:
    for doc in ({}, {"name": "x"}, {"name": 1, "version": "v1"}, {"name": "x", "version": "v1", "schemas": []},
                {"name": "x", "version": "v1", "resources": {"r": {"methods": 3}}}):
        with pytest.raises(DiscoveryError):
            generate_stubs(doc)
    with pytest.raises(DiscoveryError):
        generate_stubs([])  # type: ignore[arg-type]


def test_discover_typed(tmp_path: Path) -> None:
    from aiogoogle.testing import LocalGoogleServer

    doc = _load(ROOT / "testing" / "documents" / "drive.v3.json.gz")
    namespace: dict[str, Any] = {"__name__": "drive_v3"}
    exec(compile(generate_stubs(doc)["drive_v3.py"], "drive_v3.py", "exec"), namespace)
    drive_cls = namespace["DriveV3"]

    async def scenario(url: str) -> Any:
        async with Aiogoogle(discovery_endpoints=DiscoveryEndpoints.at(url), discovery_cache=False) as ag:
            drive = await ag.discover("drive", "v3", typed=drive_cls)
            assert type(drive) is drive_cls and drive.files.list(pageSize=2).url.startswith(url)
            with pytest.raises(DiscoveryError, match=r"typed=DriveV3 describes drive:v3, but the discovery document fetched is storage:v1"):
                await ag.discover("storage", "v1", typed=drive_cls)
            with pytest.raises(ValidationError, match="typed"):
                await ag.discover("drive", "v3", typed=dict)
            return type(await ag.discover("drive", "v3"))

    with LocalGoogleServer() as server:
        assert asyncio.run(scenario(server.url)) is GoogleAPI


def test_cli_writes_the_stubs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _load(ROOT / "testing" / "documents" / "calendar.v3.json.gz")
    source = tmp_path / "calendar.json"
    source.write_text(json.dumps(doc))
    out = tmp_path / "typings"
    assert cli_main(["stubs", "calendar", "v3", "--document", str(source), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["calendar_v3.py", "calendar_v3.pyi"]
    assert (out / "calendar_v3.pyi").read_text() == generate_stubs(doc)["calendar_v3.pyi"]
    captured = capsys.readouterr()
    assert "typed=CalendarV3" in captured.err and str(out / "calendar_v3.pyi") in captured.out
    assert cli_main(["stubs", "drive", "v3", "--document", str(source), "-o", str(out)]) == 2
    assert "describes calendar v3, not drive v3" in capsys.readouterr().err


def test_ready_made_stubs_are_the_generator_s_output() -> None:
    import importlib.util
    import sys

    if importlib.util.find_spec("googleapiclient") is None:
        pytest.skip("google-api-python-client (the documents' source) is not installed")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_apis  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    shipped = ROOT / "stubs" / "aiogoogle_apis"
    for name, version in make_apis.APIS:
        doc = make_apis.document(name, version)
        files = generate_stubs(doc)
        first = (shipped / f"{module_name(doc)}.pyi").read_text(encoding="utf-8").splitlines()[0]
        if f"revision {doc.get('revision')}" not in first:
            pytest.skip(f"the installed {name} {version} document is another revision than the shipped stub's ({first[:100]})")
        for filename, text in files.items():
            assert (shipped / filename).read_text(encoding="utf-8") == text, f"{filename}: run scripts/make_apis.py"
