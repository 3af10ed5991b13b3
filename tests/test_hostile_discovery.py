"""Hostile discovery documents (issue 10, item 7).

Any JSON value given as a discovery document either works or raises DiscoveryError (a
problem of the document, naming its JSON path) or ValidationError (a problem of the
arguments), in bounded time: when it is loaded, browsed, printed, and when requests are
built and bodies validated. Each case of the issue has a test here; a property mutates
real documents (storage, drive, compute subsets) with arbitrary JSON and hostile values.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiogoogle import GoogleAPI
from aiogoogle import validate as validate_module
from aiogoogle.excs import DiscoveryError, ValidationError
from aiogoogle.resource import Method, Resource
from aiogoogle.testing.strategies import arguments_for
from aiogoogle.validate import (
    MAX_DEPTH,
    MAX_PATTERN_LENGTH,
    MAX_SCHEMA_DEPTH,
    SchemaCompiler,
    _fullmatcher,
    _pattern_matcher,
    validate,
)

ROOT = "https://x.example/"


def api_with(*, params: dict[str, Any] | None = None, request: Any = None, schemas: Any = None, **method: Any) -> GoogleAPI:
    """A one-method document: ``api.r.m``, POST ``things/{id}`` (``id`` a path parameter)."""
    spec: dict[str, Any] = {"id": "t.r.m", "httpMethod": "POST", "path": "things/{id}", "parameters": {"id": {"type": "string", "location": "path", "required": True}, **(params or {})}}
    if request is not None:
        spec["request"] = request
    spec.update(method)
    doc: dict[str, Any] = {"name": "t", "rootUrl": ROOT, "servicePath": "", "resources": {"r": {"methods": {"m": spec}}}}
    if schemas is not None:
        doc["schemas"] = schemas
    return GoogleAPI(doc)


def build_often(api: GoogleAPI, **kwargs: Any) -> None:
    """Build ``api.r.m`` in every validation tier: interpreted, then generated."""
    for _ in range(validate_module.GENERATE_AFTER + 2):
        api.r.m(id="a", **kwargs)


def fast(seconds: float) -> Callable[[Callable[[], Any]], Any]:
    """Run ``fn`` and assert it took less than ``seconds`` (of CPU and waiting alike)."""

    def run(fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            assert time.perf_counter() - start < seconds

    return run


# ------------------------------------------------------------------ $ref


@pytest.mark.parametrize(
    ("schemas", "shown"),
    [
        ({"A": {"$ref": "A"}}, "A -> A"),
        ({"A": {"$ref": "B"}, "B": {"$ref": "A"}}, "A -> B -> A"),
        ({"A": {"$ref": "B"}, "B": {"$ref": "C"}, "C": {"$ref": "B"}}, "B -> C -> B"),
    ],
)
def test_a_ref_chain_that_never_reaches_a_schema_is_a_discovery_error(schemas: dict[str, Any], shown: str) -> None:
    api = api_with(request={"$ref": "A"}, schemas=schemas)
    for _ in range(validate_module.GENERATE_AFTER + 2):  # the same answer in every tier
        with pytest.raises(DiscoveryError, match="never reaches a schema") as err:
            api.r.m(id="a", json={})
        assert shown.replace(" ", "") in str(err.value).replace("'", "").replace(" ", "")
        assert str(err.value).startswith("schemas.")
    with pytest.raises(DiscoveryError, match="never reaches a schema"):
        validate({}, {"$ref": "A"}, schemas)
    assert not SchemaCompiler(schemas).compile_fast({"$ref": "A"})({}, "t.r.m")  # never "valid"
    # A self-reference inside a property is fine as long as no value reaches it.
    api = api_with(request={"$ref": "S"}, schemas={"S": {"type": "object", "properties": {"loop": {"$ref": "L"}, "n": {"type": "string"}}}, **schemas, "L": {"$ref": "L"}})
    build_often(api, json={"n": "x"})
    with pytest.raises(DiscoveryError, match=r"schemas\.L\.\$ref: the chain of \$ref"):
        api.r.m(id="a", json={"loop": {}})


def test_mutually_recursive_schemas_validate_real_values_within_the_depth_bound() -> None:
    schemas = {
        "Expr": {"type": "object", "properties": {"op": {"type": "string", "enum": ["add", "neg"]}, "args": {"type": "array", "items": {"$ref": "Term"}}}},
        "Term": {"type": "object", "properties": {"value": {"type": "integer", "format": "int32"}, "expr": {"$ref": "Expr"}}},
    }
    api = api_with(request={"$ref": "Expr"}, schemas=schemas)

    def nest(levels: int, leaf: Any) -> dict[str, Any]:
        expr: dict[str, Any] = {"op": "neg", "args": [{"value": leaf}]}
        for _ in range(levels):
            expr = {"op": "neg", "args": [{"expr": expr}]}
        return expr

    # An Expr level is 3 containers (object, array, Term object): 32 levels and the last
    # Expr nest 99, inside the bound.
    build_often(api, json=nest(32, 7))
    with pytest.raises(ValidationError) as err:
        api.r.m(id="a", json=nest(32, "seven"))
    assert err.value.problems[0].path == "json" + ".args[0].expr" * 32 + ".args[0].value"
    for _ in range(validate_module.GENERATE_AFTER + 2):
        with pytest.raises(ValidationError, match=f"nested more than {MAX_DEPTH} objects and arrays deep"):
            api.r.m(id="a", json=nest(34, 7))


def test_undefined_ref_names_the_path_of_the_reference() -> None:
    api = api_with(request={"$ref": "S"}, schemas={"S": {"type": "object", "properties": {"x": {"type": "array", "items": {"$ref": "Missing"}}}}})
    with pytest.raises(DiscoveryError, match=r"^schemas\.S\.properties\.x\.items\.\$ref: schema 'Missing' is referenced but not defined"):
        api.r.m(id="a", json={})


# ------------------------------------------------------------------ deep schemas and values


def nested_objects(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string", "pattern": "[a-z]+"}
    for _ in range(levels):
        node = {"type": "object", "properties": {"child": node, "n": {"type": "integer"}}}
    return node


def nested_value(levels: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"child": value, "n": 1}
    return value


@pytest.mark.parametrize("levels", [21, 25, MAX_SCHEMA_DEPTH])
def test_deep_inline_schemas_validate_in_every_tier(levels: int) -> None:
    """21 nested inline objects made the generated predicate a SyntaxError (Python allows 20
    nested blocks); deep inline schemas now get predicates of their own."""
    api = api_with(request=nested_objects(levels))
    build_often(api, json=nested_value(levels, "abc"))
    for _ in range(validate_module.GENERATE_AFTER + 2):
        with pytest.raises(ValidationError) as err:
            api.r.m(id="a", json=nested_value(levels, "ABC"))
        assert [p.path for p in err.value.problems] == ["json" + ".child" * levels]
    compiler = SchemaCompiler({})
    ok = compiler.compile_fast(nested_objects(levels))
    assert ok(nested_value(levels, "abc"), "t.r.m")
    assert not ok(nested_value(levels, 5), "t.r.m")


def test_deep_inline_arrays_and_maps_validate_in_every_tier() -> None:
    node: dict[str, Any] = {"type": "integer"}
    value: Any = 1
    for i in range(30):
        node = {"type": "array", "items": node} if i % 2 else {"type": "object", "additionalProperties": node}
        value = [value] if i % 2 else {"k": value}
    api = api_with(request=node)
    build_often(api, json=value)
    ok = SchemaCompiler({}).compile_fast(node)
    assert ok(value, "t.r.m")


@pytest.mark.parametrize("levels", [MAX_SCHEMA_DEPTH + 1, 200, 5000])
def test_too_deep_inline_schemas_are_a_discovery_error(levels: int) -> None:
    api = api_with(request={"$ref": "Deep"}, schemas={"Deep": nested_objects(levels)})
    where = "schemas.Deep" + ".properties.child" * (MAX_SCHEMA_DEPTH + 1)
    for _ in range(validate_module.GENERATE_AFTER + 2):
        with pytest.raises(DiscoveryError, match=f"nested more than {MAX_SCHEMA_DEPTH} levels deep") as err:
            api.r.m(id="a", json={})
        assert str(err.value).startswith(where + ":")
    with pytest.raises(DiscoveryError, match="nested more than"):
        validate({}, nested_objects(levels))


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_values_nested_past_the_bound_are_validation_errors_not_recursion_errors(kind: str) -> None:
    value: Any = "leaf"
    for _ in range(20_000):
        value = [value] if kind == "list" else {"k": value}
    api = api_with(request={"type": "object", "properties": {"free": {"type": "any"}, "map": {"type": "object"}}})
    for field in ("free", "map"):
        for _ in range(validate_module.GENERATE_AFTER + 2):
            with pytest.raises(ValidationError, match="nested more than") as err:
                api.r.m(id="a", json={field: value if field == "free" else {"v": value}})
            assert len(err.value.problems) == 1
            str(err.value)
    # As a parameter value: refused, and the message can be built.
    with pytest.raises(ValidationError, match=r"^id: (takes a single value|expected a string)"):
        api.r.m(id=value)
    # Exactly at the bound: fine.
    value = "leaf"
    for _ in range(MAX_DEPTH - 1):
        value = [value]
    api.r.m(id="a", json={"free": value})
    with pytest.raises(ValidationError, match="nested more than"):
        api.r.m(id="a", json={"free": [value]})


def test_huge_integers_give_validation_errors_with_a_message() -> None:
    api = api_with(params={"n": {"type": "integer", "format": "int32", "location": "query"}}, request={"type": "object", "properties": {"c": {"type": "string", "format": "int64"}, "i": {"type": "integer", "minimum": "1"}}})
    with pytest.raises(ValidationError, match="out of int32 range") as err:
        api.r.m(id="a", n=10**5000)
    assert "<int of" in str(err.value)
    # In a body, where an int cannot be refused for its range: too long to write as JSON.
    wide = api_with(request={"type": "object", "properties": {"a": {"type": "any"}, "i": {"type": "integer"}, "n": {"type": "number"}, "m": {"type": "object"}}})
    edge = (1 << 14_000) - 1
    build_often(wide, json={"a": [edge], "i": -edge, "n": edge, "m": {"k": edge}})
    for _ in range(validate_module.GENERATE_AFTER + 2):
        with pytest.raises(ValidationError, match="too long to write as JSON text") as err:
            wide.r.m(id="a", json={"a": [edge + 1], "i": -10**5000, "n": 10**5000, "m": {"k": 10**5000}})
        assert [p.path for p in err.value.problems] == ["json.a[0]", "json.i", "json.n", "json.m.k"]
    digits = "9" * 100_000
    with pytest.raises(ValidationError) as err:
        api.r.m(id="a", n=digits, json={"c": digits, "i": "-" + digits})
    assert [p.path for p in err.value.problems] == ["n", "json.c", "json.i"]
    api.r.m(id="a", json={"c": "0" * 100 + "12", "i": 12})
    # (type integer takes ints only, as aiogoogle 5.x: a decimal string is refused by type)
    with pytest.raises(ValidationError, match=r"json\.i: expected an integer"):
        api.r.m(id="a", json={"i": "0" * 100 + "12"})


# ------------------------------------------------------------------ keywords of the wrong type


BAD_KEYWORDS = [
    ("type", ["string", "null"]),
    ("type", 5),
    ("enum", "A"),
    ("enum", ["A", {"b": 1}]),
    ("enum", [["A"]]),
    ("minimum", ["1"]),
    ("minimum", "one"),
    ("maximum", {"v": 1}),
    ("minimum", True),
    ("format", ["int64"]),
    ("pattern", 123),
    ("pattern", ["a"]),
    ("pattern", "(?=lookahead)"),
    ("pattern", "a{1001}"),
    ("pattern", "(unclosed"),
    ("pattern", "a\ud800"),
]


@pytest.mark.parametrize(("keyword", "bad"), BAD_KEYWORDS, ids=[f"{k}={v!r}" for k, v in BAD_KEYWORDS])
def test_a_parameter_keyword_of_the_wrong_type_is_a_discovery_error(keyword: str, bad: Any) -> None:
    api = api_with(params={"p": {"type": "string", "location": "query", keyword: bad}})
    with pytest.raises(DiscoveryError) as err:
        api.r.m(id="a", p="x")
    assert str(err.value).startswith(f"resources.r.methods.m.parameters.p.{keyword}: ")
    with pytest.raises(DiscoveryError, match=f"parameters.p.{keyword}"):
        api.r.m.parameters  # noqa: B018 - browsing compiles the method
    assert "invalid" in repr(api.r.m)
    # A global parameter: every method of the document is refused, naming it.
    doc = copy.deepcopy(api.discovery_document)
    doc["parameters"] = {"g": {"type": "string", "location": "query", keyword: bad}}
    with pytest.raises(DiscoveryError, match=f"^parameters.g.{keyword}: "):
        GoogleAPI(doc).r.m(id="a")


@pytest.mark.parametrize(("keyword", "bad"), BAD_KEYWORDS, ids=[f"{k}={v!r}" for k, v in BAD_KEYWORDS])
def test_a_schema_keyword_of_the_wrong_type_is_a_discovery_error(keyword: str, bad: Any) -> None:
    schemas = {"File": {"id": "File", "type": "object", "properties": {"other": {"type": "string"}, "name": {"type": "string", keyword: bad}}}}
    api = api_with(request={"$ref": "File"}, schemas=schemas)
    for _ in range(validate_module.GENERATE_AFTER + 2):  # the same in every tier, whatever the value
        for body in ({}, {"other": "x"}, {"name": "x"}, [1]):
            with pytest.raises(DiscoveryError) as err:
                api.r.m(id="a", json=body)
            assert str(err.value).startswith(f"schemas.File.properties.name.{keyword}: ")
    api.r.m(id="a", json={}, validate=False)  # validation off: the document is not consulted
    with pytest.raises(DiscoveryError, match=f"properties.name.{keyword}"):
        validate({}, {"$ref": "File"}, schemas)


@pytest.mark.parametrize(
    ("node", "where"),
    [
        ({"type": "object", "properties": ["a"]}, "schemas.S.properties: must be an object"),
        ({"type": "object", "properties": {"a": "string"}}, "schemas.S.properties.a: a schema must be an object"),
        ({"type": "object", "additionalProperties": "yes"}, "schemas.S.additionalProperties: a schema must be an object"),
        ({"type": "array", "items": [{"type": "string"}]}, "schemas.S.items: a schema must be an object"),
        ({"type": "object", "properties": {"a": {"type": "string", "annotations": {"required": "t.r.m"}}}}, "schemas.S.properties.a.annotations.required: "),
        ({"type": "object", "properties": {"a": {"$ref": 7}}}, r"schemas.S.properties.a.\$ref: must be the name of a schema"),
        ("object", "schemas.S: a schema must be an object"),
    ],
)
def test_malformed_schema_shapes_are_discovery_errors(node: Any, where: str) -> None:
    api = api_with(request={"$ref": "S"}, schemas={"S": node})
    for _ in range(validate_module.GENERATE_AFTER + 2):
        with pytest.raises(DiscoveryError, match="^" + where.replace("[", r"\[")):
            api.r.m(id="a", json={})


@pytest.mark.parametrize(
    ("doc_part", "message"),
    [
        ({"schemas": ["File"]}, "schemas: must be an object"),
        ({"batchPath": ["batch"]}, "batchPath: must be a string"),
        ({"servicePath": 5}, "servicePath: must be a string"),
        ({"parameters": "none"}, "parameters: 'parameters' must be an object"),
    ],
)
def test_malformed_document_parts_are_discovery_errors(doc_part: dict[str, Any], message: str) -> None:
    doc = {**api_with().discovery_document, **doc_part}
    with pytest.raises(DiscoveryError, match=message):
        GoogleAPI(doc).r.m(id="a")
    assert "GoogleAPI" in repr(GoogleAPI(doc))


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ({"httpMethod": "GET /evil HTTP/1.1\r\nX-Injected: 1\r\n"}, "httpMethod: not an HTTP method name"),
        ({"id": ["t"]}, "methods.m.id: must be a string"),
        ({"request": "File"}, "methods.m.request: must be an object"),
        ({"apiVersion": "v1\r\nX-Injected: 1"}, "methods.m.apiVersion: must be printable text"),
        ({"mediaUpload": {"accept": [5]}}, "mediaUpload.accept: must be a list of MIME ranges"),
        ({"mediaUpload": ["*/*"]}, "methods.m.mediaUpload: must be an object"),
        ({"mediaUpload": {"protocols": {"resumable": {"path": 5}}}}, "protocols.resumable.path: must be a string"),
        ({"parameters": {"id": {"type": "string", "location": "path", "required": "yes"}}}, "parameters.id.required: must be true or false"),
        ({"parameters": {"id": {"type": "string", "location": ["path"]}}}, "parameters.id.location: unsupported location"),
    ],
)
def test_malformed_method_parts_are_discovery_errors(method: dict[str, Any], message: str) -> None:
    api = api_with(**method)
    with pytest.raises(DiscoveryError, match=message.replace("[", r"\[")):
        api.r.m(id="a")
    assert str(api.r.m).startswith("<Method m (invalid: resources.r.methods.m")


def test_seed_constructors_refuse_specs_that_are_not_objects() -> None:
    with pytest.raises(DiscoveryError, match=r"^resources\.files: must be an object"):
        Resource("files", ["get"])  # type: ignore[arg-type]
    with pytest.raises(DiscoveryError, match=r"^methods\.get: must be an object"):
        Method("get", "GET files/{id}")  # type: ignore[arg-type]
    with pytest.raises(DiscoveryError, match="schemas: must be an object"):
        Method("get", {"httpMethod": "GET", "path": "x"}, schemas=["File"], root_url=ROOT)  # type: ignore[arg-type]


# ------------------------------------------------------------------ maxSize


@pytest.mark.parametrize("size", ["1e999GB", "infGB", "nanMB", "-5MB", "5 PB", "", "1" * 21, "1.5.5GB", ["1MB"], {"v": 1}, True, 1e300, 2**63, "9" * 10_000])
def test_max_size_that_is_not_a_size_is_a_discovery_error(size: Any) -> None:
    api = api_with(supportsMediaUpload=True, mediaUpload={"maxSize": size})
    with pytest.raises(DiscoveryError, match=r"^resources\.r\.methods\.m\.mediaUpload\.maxSize: "):
        api.r.m(id="a")


@pytest.mark.parametrize(("size", "expected"), [("10MB", 10 << 20), ("1.5GB", 3 << 29), ("5TB", 5 << 40), ("1024", 1024), (1024, 1024), ("2 kb", 2048), (2048.0, 2048)])
def test_max_size_forms_google_uses(size: Any, expected: int) -> None:
    api = api_with(supportsMediaUpload=True, mediaUpload={"maxSize": size})
    assert api.r.m._compiled().max_size == expected


# ------------------------------------------------------------------ patterns


def test_catastrophic_backtracking_patterns_finish_fast() -> None:
    """``^(a+)+$`` takes exponential time in a backtracking engine; RE2 is linear."""
    pattern = "^(a+)+$"
    api = api_with(params={"p": {"type": "string", "location": "query", "pattern": pattern}}, request={"type": "object", "properties": {"s": {"type": "string", "pattern": pattern}, "l": {"type": "array", "items": {"type": "string"}, "pattern": "(x+x+)+y"}}})
    bad = "a" * 100_000 + "b"
    good = "a" * 100_000
    within = fast(2.0)
    for _ in range(validate_module.GENERATE_AFTER + 2):
        with pytest.raises(ValidationError) as err:
            within(lambda: api.r.m(id="a", p=bad, json={"s": bad, "l": ["x" * 100_000]}))
        assert [p.path for p in err.value.problems] == ["p", "json.s", "json.l[0]"]
        within(lambda: api.r.m(id="a", p=good, json={"s": good, "l": ["x" * 50_000 + "y"]}))


def test_patterns_match_the_whole_value_with_re2_meaning() -> None:
    api = api_with(params={"p": {"type": "string", "location": "query", "pattern": r"\d+"}, "q": {"type": "string", "location": "query", "pattern": "^projects/[^/]+$"}, "w": {"type": "string", "location": "query", "pattern": "^[a-z]+$"}})
    api.r.m(id="a", p="123", q="projects/x", w="abc")
    for bad in ("123a", "\u0661\u0662", "12\n"):  # RE2's \d is ASCII, as on Google's servers
        with pytest.raises(ValidationError, match="does not match the pattern"):
            api.r.m(id="a", p=bad)
    with pytest.raises(ValidationError, match="does not match the pattern"):
        api.r.m(id="a", q="projects/x/extra")
    with pytest.raises(ValidationError, match="does not match the pattern"):
        api.r.m(id="a", w="abc\n")  # "$" is the end of the text, not a final newline
    # A lone surrogate is matched (not a crash) and refused where it cannot be sent.
    assert not isinstance(_pattern_matcher("^projects/[^/]+$"), str)
    with pytest.raises(ValidationError, match=r"^q: cannot be put in the URL"):
        api.r.m(id="a", q="projects/\ud800")


def test_a_huge_pattern_is_a_discovery_error_quickly() -> None:
    pattern = "a" * 5_000_000
    within = fast(2.0)
    api = api_with(params={"p": {"type": "string", "location": "query", "pattern": pattern}})
    with pytest.raises(DiscoveryError, match=f"a pattern of 5000000 characters; at most {MAX_PATTERN_LENGTH}") as err:
        within(lambda: api.r.m(id="a", p="a"))
    assert len(str(err.value)) < 300
    schemas = {"S": {"type": "object", "properties": {"s": {"type": "string", "pattern": pattern}}}}
    with pytest.raises(DiscoveryError, match=r"^schemas\.S\.properties\.s\.pattern: a pattern of 5000000"):
        within(lambda: api_with(request={"$ref": "S"}, schemas=schemas).r.m(id="a", json={}))
    # Short, but beyond RE2's memory budget (1000 of any Unicode letter): refused, quickly.
    heavy = r"\pL{1000}"
    with pytest.raises(DiscoveryError, match="not an RE2 regular expression"):
        within(lambda: api_with(params={"p": {"type": "string", "location": "query", "pattern": heavy}}).r.m(id="a", p="a"))


def test_remembered_matches_never_change_an_answer() -> None:
    """A pattern remembers a few short strings it matched; only exact strs are looked up."""
    matcher = _pattern_matcher("[a-z]+")
    assert not isinstance(matcher, str)

    class Sneaky(str):
        def __eq__(self, other: object) -> bool:
            return True

        def __hash__(self) -> int:
            return hash("abc")

    assert matcher("abc") and matcher("abc")
    assert not matcher(Sneaky("ABC"))
    assert not matcher("ABC")
    for n in range(1, 100):  # past the bound, and past the length remembered
        assert matcher("ab" * n * 4) and not matcher("ab" * n * 4 + "!")


_PATTERN_SAMPLES = [r"[a-z]([-a-z0-9]*[a-z0-9])?", "^projects/[^/]+/topics/[^/]+$", r"\d+", r"(?i)abc", "", r"\w[\w.-]{0,254}", ".*", "(a|b)*c"]


@settings(max_examples=60)
@given(st.sampled_from(_PATTERN_SAMPLES), st.text(alphabet=st.sampled_from("abcABC019-_./\n é\u0661\ud800"), max_size=20))
def test_the_fast_re2_call_agrees_with_the_public_one(pattern: str, text: str) -> None:
    import re2

    options = re2.Options()
    options.never_capture = True
    compiled = re2.compile(pattern, options)
    matcher = _pattern_matcher(pattern)
    assert not isinstance(matcher, str)
    expected = compiled.fullmatch(text.encode("utf-8", "surrogatepass")) is not None
    assert matcher(text) == expected

    class Bare:  # no internals: the public call
        def __init__(self) -> None:
            self.fullmatch = compiled.fullmatch

    assert _fullmatcher(Bare())(text) == expected


# ------------------------------------------------------------------ documents of any shape


def walk(node: Any) -> Iterator[Any]:
    """Every resource and method below ``node`` (browsing errors are our exceptions)."""
    for kind in ("resources_available", "methods_available"):
        try:
            names = getattr(node, kind)
        except DiscoveryError:
            continue
        for name in names:
            try:
                child = node.get_resource(name) if kind == "resources_available" else node.get_method(name)
            except DiscoveryError:
                continue
            yield child
            if isinstance(child, Resource):
                yield from walk(child)


def browse_and_build(doc: Any, args: Callable[[Method], dict[str, Any]], *, repeat: int = 1) -> int:
    """Load ``doc``, browse all of it and build every method; only our exceptions may
    escape each step. Returns the number of requests built."""
    built = 0
    try:
        api = GoogleAPI(doc)
    except DiscoveryError:
        return 0
    for text in (repr, str, dir, list, len):
        try:
            text(api)
        except DiscoveryError:
            pass
    for node in walk(api):
        repr(node)
        str(node)
        if isinstance(node, Resource):
            continue
        for look in ("parameters", "request", "response", "id", "required_parameters", "path_parameters"):
            try:
                getattr(node, look)
            except DiscoveryError:
                pass
        try:
            node.python_names()
        except DiscoveryError:
            pass
        kwargs = args(node)
        for _ in range(repeat):
            try:
                node(**kwargs)
                built += 1
            except (DiscoveryError, ValidationError) as exc:
                str(exc)
    return built


_KEYWORDS = ["type", "$ref", "properties", "items", "additionalProperties", "enum", "pattern", "format", "minimum", "maximum", "annotations", "required", "repeated", "location", "id", "path", "httpMethod", "parameters", "request", "maxSize", "accept", "resources", "methods", "schemas"]
_HOSTILE = [
    "^(a+)+$",
    "(?=x)",
    "a" * (MAX_PATTERN_LENGTH + 1),
    "1e999GB",
    "string",
    "object",
    "array",
    "integer",
    "any",
    "int64",
    "date-time",
    "path",
    "query",
    "GET",
    "{id}",
    "{+name}",
    10**400,
    -(10**30),
    float("inf"),
    float("nan"),
    {"$ref": "Self"},
    {"$ref": "Missing"},
    {"type": ["string", "null"]},
    {"type": "string", "pattern": 123},
    {"type": "string", "enum": [{"a": 1}]},
    {"type": "integer", "minimum": ["1"], "format": ["int32"]},
    nested_objects(40),
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.sampled_from(_HOSTILE),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYWORDS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON)
def test_any_json_value_as_a_document(doc: Any) -> None:
    browse_and_build(doc, lambda m: {"json": doc, "id": "a"}, repeat=2)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(JSON, JSON, JSON)
def test_validate_takes_any_json_values(instance: Any, schema: Any, schemas: Any) -> None:
    """The seed's ``validate(instance, schema, schemas)``: only our errors, whatever the
    three are (also with a schema that refers to the value's own shapes)."""
    for node in (schema, {"$ref": "Self"}, {"type": "object", "additionalProperties": schema}):
        for named in (schemas, {"Self": schema}, {"Self": {"$ref": "Self"}}):
            try:
                validate(instance, node, named, "body")
            except ValidationError as exc:
                str(exc)
            except DiscoveryError as exc:
                assert len(str(exc)) < 2000


SUBSETS = {"storage.v1": ("objects", "buckets"), "drive.v3": ("files", "permissions"), "compute.v1": ("instanceTemplates", "disks")}


def subset(doc: dict[str, Any], resources: tuple[str, ...]) -> dict[str, Any]:
    """``doc`` with only ``resources`` and the schemas their methods reach."""
    out = {k: v for k, v in doc.items() if k not in ("resources", "schemas")}
    out["resources"] = {name: doc["resources"][name] for name in resources}
    schemas = doc.get("schemas") or {}
    wanted: set[str] = set()
    todo = [out["resources"]]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in wanted and ref in schemas:
                wanted.add(ref)
                todo.append(schemas[ref])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    out["schemas"] = {name: schemas[name] for name in sorted(wanted)}
    return copy.deepcopy(out)


def spots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every node of the schemas and parameters (descriptions left out)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("description", "enumDescriptions"):
                continue
            inside = path[:1] in (("schemas",), ("parameters",)) or any(p in ("parameters", "request", "mediaUpload", "response") for p in path) or (len(path) >= 4 and path[-2] == "methods")
            if inside or k in ("parameters", "request", "mediaUpload", "schemas", "httpMethod", "path", "id"):
                yield (*path, k)
            yield from spots(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*path, i)
            yield from spots(v, (*path, i))


class Prepared(NamedTuple):
    doc: dict[str, Any]  # the subset, never mutated
    spots: list[tuple[Any, ...]]  # where mutations go
    field_names: list[str]  # property names of its schemas, for bodies
    methods: dict[tuple[str, str], Method]  # (parent, name) -> the unmutated method


_SUBSETS: dict[str, Prepared] = {}


def prepared(load_doc: Callable[[str], dict[str, Any]], name: str) -> Prepared:
    if name not in _SUBSETS:
        doc = subset(load_doc(name), SUBSETS[name])
        names = sorted({k for schema in doc["schemas"].values() for k in (schema.get("properties") or {})})
        methods = {(m._parent, m.name): m for m in walk(GoogleAPI(copy.deepcopy(doc))) if isinstance(m, Method)}
        _SUBSETS[name] = Prepared(doc, list(spots(doc)), names, methods)
    return _SUBSETS[name]


@pytest.mark.parametrize("name", sorted(SUBSETS))
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_real_documents_raise_only_our_errors(load_doc: Callable[[str], dict[str, Any]], name: str, data: st.DataObject) -> None:
    """Replace random schema and parameter nodes of real documents with arbitrary JSON
    (and hostile values); load, browse everything, build every method in every
    validation tier, with parameters and bodies shaped like the document's."""
    ready = prepared(load_doc, name)
    doc = copy.deepcopy(ready.doc)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        path = data.draw(st.sampled_from(ready.spots), label="where")
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = data.draw(JSON, label="new value")
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced an ancestor
    scalars = st.sampled_from(["x", "a-b", "1", "projects/p", "", 0, 7, 2**70, True, 1.5, None, ["x", "y"], {"k": "v"}, "a" * 500])
    fields = st.sampled_from(ready.field_names)
    body = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(fields, inner, max_size=4), max_leaves=10)

    def args(method: Method) -> dict[str, Any]:
        original = ready.methods.get((method._parent, method.name))
        if original is not None and original.request is not None and data.draw(st.integers(0, 2), label="valid arguments") == 0:
            # Valid for the unmutated document: its body reaches deep into the schemas.
            return dict(data.draw(arguments_for(original), label="arguments"))
        try:
            names = list(method.required_parameters)
        except DiscoveryError:
            names = []
        out = {n: data.draw(scalars, label=f"param {n}") for n in names[:4] if isinstance(n, str) and n.isidentifier()}
        out["json"] = data.draw(body, label="body")
        return out

    browse_and_build(doc, args, repeat=validate_module.GENERATE_AFTER + 1)


def test_unmutated_subsets_build() -> None:
    """The property above is not vacuous: untouched, the subsets build requests."""
    from tests._docs import load

    for name, resources in SUBSETS.items():
        doc = subset(load(name), resources)
        built = browse_and_build(doc, lambda m: {"validate": False, **{n: "x" for n in m.path_parameters}})
        assert built >= 10, name
