"""aiogoogle.resource split by job (issue 17): browsing stays in ``aiogoogle.resource``, request
building is in ``aiogoogle._build``. The public face keeps every name, a call is still the
builder's own function (no forwarding layer), and the speed techniques (slot-setting
constructors that share the API's compiled context, plans compiled once and kept) build
exactly what the plain path builds."""

from __future__ import annotations

import inspect
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiogoogle import _build, models, resource
from aiogoogle.excs import ValidationError
from aiogoogle.resource import GoogleAPI, Method, Resource
from aiogoogle.testing.strategies import arguments_for

from ._docs import load, walk_methods

# Every name aiogoogle.resource offered before the split that code outside it uses: its
# __all__, aiogoogle 5.x's imported names, and python_name/CALL_OPTIONS (cli, stubgen,
# testing.strategies).
KEPT = {
    "CALL_OPTIONS": _build,
    "MEDIA_SIZE_BIT_SHIFTS": _build,
    "RESERVED_KEYWORDS": _build,
    "STACK_QUERY_PARAMETERS": _build,
    "STACK_QUERY_PARAMETER_DEFAULT_VALUE": _build,
    "python_name": _build,
    "Request": models,
    "MediaUpload": models,
    "MediaDownload": models,
    "ResumableUpload": models,
}


def test_resource_keeps_every_name_and_they_are_the_builders_objects() -> None:
    for name in resource.__all__:
        assert hasattr(resource, name), name
    for name, home in KEPT.items():
        assert getattr(resource, name) is getattr(home, name), name
    for cls in (GoogleAPI, Resource, Method):
        assert cls.__module__ == "aiogoogle.resource"


def test_a_call_is_the_builders_function_with_no_layer_in_between() -> None:
    # Method.__call__ is the builder's __call__ itself (a forwarding method would add a
    # Python call with 15 arguments to every request built), with its public signature.
    assert Method.__call__ is _build._MethodBuilder.__call__
    params = list(inspect.signature(Method.__call__).parameters)
    assert params[:7] == ["self", "validate", "data", "json", "upload_file", "download_file", "timeout"]
    # The state is in slots, declared once by the builder: no per-method __dict__.
    assert Method.__slots__ == ()
    method = GoogleAPI(load("drive.v3")).files.list
    assert not hasattr(method, "__dict__")
    assert {"_ctx", "_plan", "_method_specs", "name"} <= set(_build._MethodBuilder.__slots__)


def test_browsing_module_builds_nothing_itself() -> None:
    # The split holds: no request-building code is left in the browsing module.
    source = inspect.getsource(resource)
    for needle in ("Request(", "encode_query_value", "PathTemplate", "_Plan(", "def __call__"):
        assert needle not in source, needle


_DOCS = ("drive.v3", "storage.v1", "calendar.v3", "youtube.v3")
_METHODS = [(doc, path) for doc in _DOCS for path, _ in walk_methods(load(doc))]


def _navigated(doc_name: str, path: tuple[str, ...]) -> Method:
    node: Any = GoogleAPI(load(doc_name))
    for part in path[:-1]:
        node = node.get_resource(part)
    return node.get_method(path[-1])  # type: ignore[no-any-return]


def _made_directly(doc_name: str, path: tuple[str, ...]) -> Method:
    # The plain path: the 5.x constructor, which compiles its own context from its arguments.
    doc = load(doc_name)
    spec: Any = doc
    for part in path[:-1]:
        spec = spec["resources"][part]
    return Method(
        path[-1],
        spec["methods"][path[-1]],
        global_parameters=doc.get("parameters"),
        schemas=doc.get("schemas"),
        root_url=doc["rootUrl"],
        service_path=doc.get("servicePath", ""),
        batch_path=doc.get("batchPath", "batch"),
    )


def _outcome(method: Method, kwargs: dict[str, Any]) -> Any:
    try:
        req = method(**kwargs)
    except ValidationError as exc:
        return ("refused", sorted(map(str, exc.args)))
    return (req.method, req.url, req.batch_url, dict(req.headers), req.json)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_METHODS), st.data())
def test_navigated_cached_and_plain_methods_build_the_same(case: tuple[str, tuple[str, ...]], data: st.DataObject) -> None:
    doc_name, path = case
    navigated = _navigated(doc_name, path)
    kwargs = data.draw(arguments_for(navigated, depth=2))
    first = _outcome(navigated, kwargs)
    plan = navigated._plan
    assert plan is not None  # compiled on the first call and kept
    # The kept plan builds the same again, and the slot-made method (sharing the API's
    # compiled context) builds what the plain constructor (compiling its own) builds.
    assert _outcome(navigated, kwargs) == first
    assert navigated._plan is plan
    assert _outcome(_made_directly(doc_name, path), kwargs) == first
    assert first[0] != "refused", first
