"""Browse a discovery document (the seed's ``aiogoogle.resource``): :class:`GoogleAPI`,
:class:`Resource` and :class:`Method`, their attribute navigation, ``[]`` access to the
document and their text.

``GoogleAPI(document)`` costs O(1): it keeps a reference to the caller's dict and never
writes into it. Resources and methods are created on first attribute access and cached.
Calling a method builds a request; that half of :class:`Method` (the compiled plan, the
argument mapping, the path, query, body and media options) is in :mod:`aiogoogle._build`,
whose public names are importable from here too.

Names
-----
* A parameter's exact discovery name always works: ``**{"$.xgafv": "2"}``,
  ``**{"aggregation.alignmentPeriod": "60s"}``.
* Every parameter also has googleapiclient's Python alias: characters outside
  ``[A-Za-z0-9_]`` become ``_`` and a leading non-letter gets an ``x`` prefix
  (``max-results`` → ``max_results``, ``$.xgafv`` → ``x__xgafv``,
  ``startDate.year`` → ``startDate_year``).
* A name that is a Python keyword or one of the call options of :meth:`Method.__call__`
  (``timeout``, ``validate``, ``data``, ``json``, ...) is reachable with a trailing
  underscore: ``operations.wait(name=..., timeout_="10s")``.
* Method and resource names follow the same rule (``getOpenid_configuration``,
  ``import_``). Where a method has the same name as a sibling resource (25 real cases),
  attribute access gives the resource, as aiogoogle documents, and
  ``resource.get_method(name)`` gives the method; ``get_resource(name)`` is its twin.
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Iterator, Mapping
from typing import Any

from ._build import (
    _NON_IDENT,
    CALL_OPTIONS,
    MEDIA_SIZE_BIT_SHIFTS,
    RESERVED_KEYWORDS,
    STACK_QUERY_PARAMETER_DEFAULT_VALUE,
    STACK_QUERY_PARAMETERS,
    _Api,
    _label,
    _MethodBuilder,
    _object,
    _with_system_parameters,
    python_name,
)
from .excs import DiscoveryError, ValidationError  # noqa: F401  (5.x imported it here)

# aiogoogle 5.x's resource module had these in its namespace; 5.x code imports them from it.
from .models import MediaDownload, MediaUpload, Request, ResumableUpload  # noqa: F401
from .validate import brief, json_path
from .validate import validate as validate_  # 5.x's name for it in this module

__all__ = [
    "CALL_OPTIONS",
    "MEDIA_SIZE_BIT_SHIFTS",
    "RESERVED_KEYWORDS",
    "STACK_QUERY_PARAMETERS",
    "STACK_QUERY_PARAMETER_DEFAULT_VALUE",
    "GoogleAPI",
    "Method",
    "Resource",
    "python_name",
    "validate_",
]


def _shown(value: Any) -> str:
    """A document value as str() shows it: as written, unless it is not a string or is
    longer than any real name (5,000 characters: a hostile document's)."""
    if isinstance(value, str) and len(value) <= 5000:
        return value
    return brief(value)


class _Node:
    """Shared browsing behaviour of :class:`GoogleAPI` and :class:`Resource`."""

    __slots__ = ()

    def _specs(self) -> Mapping[str, Any]:
        raise NotImplementedError

    def _api(self) -> _Api:
        raise NotImplementedError

    def _qualname(self) -> str:
        raise NotImplementedError

    def _children(self) -> dict[Any, Any]:
        raise NotImplementedError

    def _where(self) -> str:
        """The JSON path of this node's specs in the document (``""`` for the document)."""
        raise NotImplementedError

    def _section(self, key: str) -> Mapping[str, Any]:
        section = self._specs().get(key)
        if section is None:
            return {}
        if not isinstance(section, Mapping):
            raise DiscoveryError(f"{json_path(self._where(), key)}: '{key}' must be an object, got {type(section).__name__} (in {self._qualname()})")
        return section

    @property
    def methods_available(self) -> list[str]:
        """Names of the methods here (discovery names)."""
        return list(self._section("methods"))

    @property
    def resources_available(self) -> list[str]:
        """Names of the nested resources here (discovery names)."""
        return list(self._section("resources"))

    def get_resource(self, name: str) -> Resource:
        """The nested resource ``name`` (discovery name or Python alias)."""
        found = self._find("resources", name)
        if not isinstance(found, Resource):
            raise AttributeError(self._missing(name, "resource"))
        return found

    def get_method(self, name: str) -> Method:
        """The method ``name``, even when a sibling resource has the same name."""
        found = self._find("methods", name)
        if not isinstance(found, Method):
            raise AttributeError(self._missing(name, "method"))
        return found

    # aiogoogle 5.x's private spellings, which 5.x code bases and their tests call.
    _get_resource = get_resource
    _get_method = get_method

    def _find(self, section: str, name: str) -> Resource | Method | None:
        # One table per section, keyed by the name as given: no key objects to allocate.
        kids = self._children()
        cache = kids.get(section)
        if cache is None:
            cache = kids[section] = {}
        hit = cache.get(name)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        specs = self._section(section)
        real = name if name in specs else None
        if real is None:
            for candidate in specs:
                if isinstance(candidate, str) and (python_name(candidate) == name or _NON_IDENT.sub("_", candidate) == name):
                    real = candidate
                    break
        if real is None:
            return None
        if real != name:
            hit = cache.get(real)
            if hit is not None:
                cache[name] = hit
                return hit  # type: ignore[no-any-return]
        spec = specs[real]
        if not isinstance(spec, Mapping):
            raise DiscoveryError(f"{json_path(json_path(self._where(), section), real)}: {self._qualname()}.{_label(real)} is not an object (got {type(spec).__name__})")
        obj: Resource | Method
        if section == "resources":
            obj = Resource._make(real, spec, self._api(), self._qualname(), json_path(json_path(self._where(), "resources"), real))
        else:
            obj = Method._make(real, spec, self._api(), self._qualname(), self._where())
        cache[name] = cache[real] = obj
        return obj

    def _missing(self, name: str, kind: str = "resource or method") -> str:
        known = self.resources_available + self.methods_available
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return f"{self._qualname()} has no {kind} {name!r}{hint}"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        # Resources first, then methods, as aiogoogle documents.
        found = self._find("resources", name)
        if found is None:
            found = self._find("methods", name)
        if found is None:
            raise AttributeError(self._missing(name))
        # ``api.instances.insert(...)`` on every call is the common spelling: the answer is
        # kept as an instance attribute, so the next access is an ordinary attribute hit
        # (only names no class attribute has reach here, so nothing is shadowed).
        self.__dict__[name] = found
        return found

    def __dir__(self) -> list[str]:
        names = {python_name(n) if not n.isidentifier() or keyword.iskeyword(n) else n for n in self.resources_available + self.methods_available if isinstance(n, str)}
        return sorted(names | {"methods_available", "resources_available", "get_method", "get_resource"})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._section("resources") or name in self._section("methods"))

    def __len__(self) -> int:
        return len(self._section("resources")) + len(self._section("methods"))

    def __iter__(self) -> Iterator[str]:
        yield from self.resources_available
        yield from self.methods_available


class GoogleAPI(_Node):
    """An API described by a discovery document.

    Args:
        discovery_document: the parsed discovery document (never modified).
        validate: default for every method call's ``validate`` (True, as documented).
        root_url: replaces the document's ``rootUrl`` for every URL built from it: JSON,
            upload, download and batch (an emulator, a private endpoint).

    ``api.resource.method(...)`` builds a request; ``api["name"]`` reads the document.
    """

    __slots__ = ("__dict__", "__weakref__", "_ctx", "_kids", "_root_override", "_validate", "discovery_document")

    def __init__(self, discovery_document: Mapping[str, Any], validate: bool = True, *, root_url: str | None = None) -> None:
        if not isinstance(discovery_document, Mapping):
            raise DiscoveryError(f"a discovery document must be a dict, got {type(discovery_document).__name__}")
        self.discovery_document = discovery_document
        self._validate = validate
        self._root_override = root_url
        self._ctx: _Api | None = None
        self._kids: dict[Any, Any] = {}

    def _api(self) -> _Api:
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = _Api(self.discovery_document, self._validate, self._root_override)
        return ctx

    def _specs(self) -> Mapping[str, Any]:
        return self.discovery_document

    def _qualname(self) -> str:
        return _label(self.discovery_document.get("name") or self.discovery_document.get("id") or "api")

    def _children(self) -> dict[Any, Any]:
        return self._kids

    def _where(self) -> str:
        return ""

    @property
    def root_url(self) -> str:
        """The effective root URL every request URL starts with."""
        return self._api().root_url

    def with_root_url(self, root_url: str) -> GoogleAPI:
        """The same API with every URL rooted at ``root_url``."""
        return GoogleAPI(self.discovery_document, self._validate, root_url=root_url)

    def __getitem__(self, key: str) -> Any:
        """A key of the discovery document, ``None`` when it has none (as in 5.x).
        ``api["parameters"]`` includes the undeclared system parameters
        (:data:`STACK_QUERY_PARAMETERS`)."""
        if key == "parameters":
            return _with_system_parameters(self.discovery_document.get("parameters"))
        return self.discovery_document.get(key)

    def __repr__(self) -> str:
        try:
            self._api()
        except DiscoveryError as exc:
            return f"<GoogleAPI {_label(self.discovery_document.get('id', '?'))} (invalid: {exc})>"
        return str(self)

    def __str__(self) -> str:
        # aiogoogle 5.x's text: "drive-v3 API @ https://www.googleapis.com/drive/v3/".
        doc = self.discovery_document
        try:
            where = self._api().base_url
        except DiscoveryError:
            where = "?"
        text = f"{_shown(doc.get('name', '?'))}-{_shown(doc.get('version', '?'))} API @ {_shown(where)}"
        labels = doc.get("labels")
        return text + (f"\nLabels:\n{_shown(labels)}" if labels is not None else "")


class Resource(_Node):
    """A resource of an API: attribute access gives nested resources and methods."""

    __slots__ = ("__dict__", "_ctx", "_kids", "_parent", "_path", "_qual", "_resource_specs", "name")

    def __init__(
        self,
        name: str,
        resource_specs: Mapping[str, Any],
        global_parameters: Mapping[str, Any] | None = None,
        schemas: Mapping[str, Any] | None = None,
        root_url: str = "",
        service_path: str = "",
        batch_path: str = "batch",
        validate: bool = True,
    ) -> None:
        self.name = name
        self._resource_specs = _object(resource_specs, json_path("resources", name))
        self._ctx = _Api.from_parts(global_parameters, schemas, root_url, service_path, batch_path, validate)
        self._parent = ""
        self._path = json_path("resources", name)
        self._qual = name
        self._kids: dict[Any, Any] = {}

    @classmethod
    def _make(cls, name: str, specs: Mapping[str, Any], ctx: _Api, parent: str, path: str) -> Resource:
        # Navigation's constructor: sets the slots and shares the API's compiled context
        # (global parameters, schema compiler), which the 5.x signature of __init__ would
        # compile again for every node (see Method._make for the figures).
        self = cls.__new__(cls)
        self.name = name
        self._resource_specs = specs
        self._ctx = ctx
        self._parent = parent
        self._path = path
        # Computed once: every method of the resource keeps it as its parent's name.
        self._qual = f"{parent}.{name}" if parent else name
        self._kids = {}
        return self

    def _api(self) -> _Api:
        return self._ctx

    def _specs(self) -> Mapping[str, Any]:
        return self._resource_specs

    def _qualname(self) -> str:
        return self._qual

    def _children(self) -> dict[Any, Any]:
        return self._kids

    def _where(self) -> str:
        return self._path

    def __getitem__(self, key: str) -> Any:
        """A key of the resource's discovery spec, ``None`` when it has none (as in 5.x)."""
        return self._resource_specs.get(key)

    def __len__(self) -> int:
        """The number of methods here (as in 5.x; nested resources are not counted)."""
        return len(self._section("methods"))

    def __repr__(self) -> str:
        # aiogoogle 5.x's text: "files resource @ https://www.googleapis.com/drive/v3/".
        return f"{_shown(self.name)} resource @ {_shown(self._ctx.base_url)}"


class Method(_MethodBuilder):
    """A method of an API. Call it to build an unsent :class:`~aiogoogle.models.Request`
    (:meth:`__call__`, inherited from the request builder)."""

    __slots__ = ()  # the builder's: name, _ctx, _method_specs, _parent, _parent_path, _plan

    def __init__(
        self,
        name: str,
        method_specs: Mapping[str, Any],
        global_parameters: Mapping[str, Any] | None = None,
        schemas: Mapping[str, Any] | None = None,
        root_url: str = "",
        service_path: str = "",
        batch_path: str = "batch",
        validate: bool = True,
    ) -> None:
        self.name = name
        self._method_specs = _object(method_specs, json_path("methods", name))
        self._ctx = _Api.from_parts(global_parameters, schemas, root_url, service_path, batch_path, validate)
        self._parent = ""
        self._parent_path = ""
        self._plan = None

    @classmethod
    def _make(cls, name: str, specs: Mapping[str, Any], ctx: _Api, parent: str, parent_path: str) -> Method:
        # Navigation's constructor: sets the slots and shares the API's compiled context.
        # drive.v3 files.list: 0.6 us, against 77 us through the 5.x constructor, which
        # compiles a context of its own; tests/test_resource_split.py checks both build the
        # same requests.
        self = cls.__new__(cls)
        self.name = name
        self._method_specs = specs
        self._ctx = ctx
        self._parent = parent
        self._parent_path = parent_path  # shared with the siblings: the path is made on demand
        self._plan = None
        return self

    def __getitem__(self, key: str) -> Any:
        """A key of the method's discovery spec (``m["scopes"]``, ``m["httpMethod"]``),
        ``None`` when it has none (as in 5.x)."""
        return self._method_specs.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.parameters

    def __len__(self) -> int:
        """The number of required parameters (as in 5.x)."""
        return len(self.required_parameters)

    @property
    def id(self) -> str:
        return self._compiled().method_id

    @property
    def parameters(self) -> dict[str, Any]:
        """Every parameter the method takes (method parameters shadow global ones)."""
        self._compiled()  # checks the document
        own = self._method_specs.get("parameters")
        merged = dict(own) if own else {}
        for name, spec in _with_system_parameters(self._ctx.doc.get("parameters")).items():
            if name not in merged:
                merged[name] = spec
        return merged

    def _names(self, *, path: bool | None = None, required: bool | None = None) -> list[str]:
        # As 5.x reads the specs: "location" exactly "path" or "query", "required" exactly true.
        out = []
        for name, spec in self.parameters.items():
            if path is not None and spec.get("location") != ("path" if path else "query"):
                continue
            if required is not None and (spec.get("required") is True) != required:
                continue
            out.append(name)
        return out

    @property
    def optional_parameters(self) -> list[str]:
        return self._names(required=False)

    @property
    def required_parameters(self) -> list[str]:
        return self._names(required=True)

    @property
    def path_parameters(self) -> list[str]:
        return self._names(path=True)

    @property
    def query_parameters(self) -> list[str]:
        return self._names(path=False)

    @property
    def required_query_parameters(self) -> list[str]:
        return self._names(path=False, required=True)

    @property
    def optional_query_parameters(self) -> list[str]:
        return self._names(path=False, required=False)

    def _schema(self, key: str) -> dict[str, Any] | None:
        ref = self._method_specs.get(key)
        if not isinstance(ref, Mapping):
            return None
        name = ref.get("$ref")
        schemas = self._ctx.doc.get("schemas") or {}
        if isinstance(name, str) and name in schemas:
            return schemas[name]  # type: ignore[no-any-return]
        return dict(ref)

    @property
    def request(self) -> dict[str, Any] | None:
        """The request body schema (resolved from ``$ref``), or ``None``."""
        return self._schema("request")

    @property
    def response(self) -> dict[str, Any] | None:
        """The response body schema (resolved from ``$ref``), or ``None``."""
        return self._schema("response")

    def python_names(self) -> dict[str, str]:
        """Map every accepted keyword alias to its discovery parameter name."""
        plan = self._compiled()
        own = plan.method_exact
        out = {alias: p.name for alias, p in self._ctx.global_lookup.items() if alias != p.name and p.name not in own}
        out.update({alias: p.name for alias, p in plan.lookup.items() if alias != p.name})
        return out

    def __repr__(self) -> str:
        # aiogoogle 5.x's text, "drive.files.list method @ https://www.googleapis.com/drive/v3/",
        # or what is wrong with the method's spec.
        try:
            self._compiled()
        except DiscoveryError as exc:
            return f"<Method {_label(self.name)} (invalid: {exc})>"
        method_id = self._method_specs.get("id")
        return f"{_shown(method_id if method_id is not None else self.name)} method @ {_shown(self._ctx.base_url)}"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) - {"_ctx", "_method_specs", "_parent", "_plan"})
