"""Request building: a method's discovery spec compiled into a plan, and the keyword
arguments of a call mapped through it into an unsent :class:`~aiogoogle.models.Request`.

:mod:`aiogoogle.resource` browses a document (``api.files.list``) and gives the public names;
this module is everything that happens when a method is called. :class:`_MethodBuilder` is the
request-building half of :class:`aiogoogle.resource.Method` (its base class, so a call is
``Method.__call__`` itself, with no forwarding call in between).

Theory of operation
-------------------
The first time a method is called (or its parameters are inspected) it is compiled into a
:class:`_Plan`: the parsed path template, a lookup table from every accepted keyword (the
exact discovery name and its Python alias) to a small parameter record with its
precompiled check, the required parameters, and the method's URLs. Global parameters are
compiled once per API (:class:`_Api`) and shared by every method; a method parameter of the
same name shadows the global one (``recaptchaenterprise``
``projects.keys.retrieveLegacySecretKey`` has a path parameter ``key`` next to the global
``key``).

Building a request is then one pass over the keyword arguments: look up, check, place in
the path or the query. Every problem is collected and raised together as one
:class:`~aiogoogle.excs.ValidationError`.
"""

from __future__ import annotations

import difflib
import keyword
import re
from collections.abc import AsyncIterable, Callable, Mapping
from sys import intern
from typing import Any

from ._http import Timeout
from ._mime import guess_type
from ._url import PathTemplate, encode_query_value
from .excs import DiscoveryError, ValidationError
from .models import MediaDownload, MediaUpload, Request, ResumableUpload
from .validate import (
    ScalarCheck,
    SchemaCompiler,
    ValidationTypeError,
    brief,
    json_path,
    safe_value,
    scalar_check,
    scalar_constraints,
)

#: aiogoogle 5.x's name for the call options that are not API parameters (5.x's list;
#: :data:`CALL_OPTIONS` has every option this version takes).
RESERVED_KEYWORDS = ["validate", "data", "json", "upload_file", "pipe_from", "download_file", "pipe_to", "timeout"]

#: System parameters every Google API accepts though discovery documents do not declare
#: them (https://cloud.google.com/apis/docs/system-parameters): ``trace``, ``pp`` and
#: ``strict``. They appear in ``api["parameters"]`` and ``method.parameters`` with
#: :data:`STACK_QUERY_PARAMETER_DEFAULT_VALUE` as their spec, as in aiogoogle 5.x.
STACK_QUERY_PARAMETERS = frozenset(["trace", "pp", "strict"])
STACK_QUERY_PARAMETER_DEFAULT_VALUE = {"type": "string", "location": "query"}

#: Units of ``mediaUpload.maxSize`` ("10MB") as powers of two.
MEDIA_SIZE_BIT_SHIFTS = {"KB": 10, "MB": 20, "GB": 30, "TB": 40}

#: Keyword arguments of :meth:`Method.__call__` that are not API parameters. An API
#: parameter with one of these names is passed with a trailing underscore.
CALL_OPTIONS = frozenset(
    {
        "validate",
        "data",
        "json",
        "upload_file",
        "download_file",
        "timeout",
        "pipe_from",
        "pipe_to",
        "path_params_safe_chars",
        "upload_file_content_type",
        "resumable",
        "chunk_size",
        "progress",
        "retry",
    }
)

# In a fixed order (the frozenset's order changes with the hash seed).
_EXTRA_SYSTEM_PARAMETERS: dict[str, dict[str, Any]] = {name: STACK_QUERY_PARAMETER_DEFAULT_VALUE for name in ("trace", "pp", "strict")}


def _with_system_parameters(declared: Any) -> dict[str, Any]:
    """A document's global ``parameters`` plus the undeclared system ones (a new dict:
    the caller's document is never changed)."""
    return {**(declared if isinstance(declared, Mapping) else {}), **_EXTRA_SYSTEM_PARAMETERS}

_NON_IDENT = re.compile(r"[^0-9A-Za-z_]")


def python_name(name: str) -> str:
    """The Python-friendly alias of a discovery name (googleapiclient's ``key2param`` plus a
    trailing ``_`` for keywords and call options)."""
    alias = _NON_IDENT.sub("_", name)
    if not alias[:1].isalpha():
        alias = "x" + alias
    if keyword.iskeyword(alias) or alias in CALL_OPTIONS:
        alias += "_"
    return alias


# A size: digits (a fraction allowed), then an optional binary unit. At most 20 digits
# each side, so no text converts slowly, overflows or means infinity ("1e999GB").
_SIZE = re.compile(r"\s*([0-9]{1,20})(?:\.([0-9]{1,20}))?\s*([KMGT]?B)?\s*\Z", re.IGNORECASE)
_SIZE_SHIFT = {"": 0, "B": 0, "KB": 10, "MB": 20, "GB": 30, "TB": 40}
_SIZE_MAX = 2**63 - 1  # no upload can be larger; a bigger figure is a broken document


def _parse_size(value: Any, where: str) -> int | None:
    """``mediaUpload.maxSize`` (at JSON path ``where``): bytes, or a number with a unit
    ("1MB", "2GB", "3TB": https://developers.google.com/discovery/v1/reference/apis)."""
    if value is None:
        return None
    m = _SIZE.match(str(value)) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if m is None or (isinstance(value, int) and not isinstance(value, bool) and value > _SIZE_MAX):
        raise DiscoveryError(f"{where}: not a size such as '10MB', '5GB' or a number of bytes: {brief(value)}")
    whole, frac, unit = m.groups()
    scale = 1 << _SIZE_SHIFT[(unit or "").upper()]
    size = int(whole) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
    if size > _SIZE_MAX:
        raise DiscoveryError(f"{where}: a size of {brief(value)} is larger than any upload can be (2**63-1 bytes)")
    return size


def _label(value: Any) -> str:
    """A document value (a name, an id) as text for messages: short, never raising."""
    if isinstance(value, str) and len(value) <= 100:
        return value
    return brief(value)



def _object(value: Any, where: str, what: str = "an object") -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else a DiscoveryError naming ``where``."""
    if not isinstance(value, Mapping):
        raise DiscoveryError(f"{where}: must be {what}, got {type(value).__name__} {brief(value)}")
    return value


class _Param:
    """One compiled parameter. ``check`` is ``None`` when nothing needs checking.

    Records are shared: every parameter of a document with the same name and the same
    constraints (compute.v1 has 4,121 parameters but a few hundred distinct ones) is one
    record, so ``spec`` is the discovery spec of one of them (the constraints are the same;
    descriptions may differ). :attr:`Method.parameters` gives each method's own specs.
    """

    __slots__ = ("check", "in_path", "name", "qkey", "repeated", "required", "spec")

    def __init__(self, name: str, spec: Mapping[str, Any], in_path: bool, check: ScalarCheck | None) -> None:
        self.name = name
        self.qkey = name if _plain(name) else encode_query_value(name)  # the name in a query
        self.spec = spec
        self.in_path = in_path
        self.required = bool(spec.get("required"))
        self.repeated = bool(spec.get("repeated"))
        self.check = check


def _param(name: str, spec: Any, in_template: bool, shared: dict[Any, Any], where: str) -> _Param:
    """The (shared) record of parameter ``name`` (at JSON path ``where``); ``in_template``:
    the path uses it (then it is a path parameter whatever its ``location``, as
    substitution is by name)."""
    if not isinstance(spec, Mapping):
        raise DiscoveryError(f"{where}: parameter {_label(name)!r} is not an object (got {type(spec).__name__})")
    location = spec.get("location", "query")
    if location not in ("path", "query"):
        raise DiscoveryError(f"{json_path(where, 'location')}: unsupported location {brief(location)} (only 'path' and 'query')")
    for flag in ("required", "repeated"):
        if spec.get(flag) not in (None, True, False):
            raise DiscoveryError(f"{json_path(where, flag)}: must be true or false, got {brief(spec.get(flag))}")
    type_, fmt, pattern, enum_t, minimum, maximum = scalar_constraints(spec, where)
    key = (name, location == "path" or in_template, bool(spec.get("required")), bool(spec.get("repeated")), type_, fmt, pattern, enum_t, minimum, maximum)
    found: _Param | None = shared.get(key)
    if found is None:
        # Lenient: "10" for an integer and "true" for a boolean are the same text on the
        # wire; a number for a string is refused (aiogoogle 5.x refused calendarId=1).
        check = scalar_check(type_, fmt, pattern=pattern, enum=enum_t, minimum=minimum, maximum=maximum, lenient=True, where=where)
        found = shared[key] = _Param(name, spec, key[1], check)
    return found


def _compile_params(
    params: Any, where: str, shared: dict[Any, Any], in_template: frozenset[str] = frozenset()
) -> tuple[dict[str, _Param], dict[str, _Param]]:
    """Compile a ``parameters`` map (at JSON path ``where``) into (exact names, aliases)."""
    if not isinstance(params, Mapping):
        raise DiscoveryError(f"{where}: 'parameters' must be an object, got {type(params).__name__}")
    exact: dict[str, _Param] = {}
    for name, spec in params.items():
        if not isinstance(name, str):
            raise DiscoveryError(f"{where}: parameter names must be strings, got {brief(name)}")
        exact[name] = _param(name, spec, name in in_template, shared, json_path(where, name))
    aliases: dict[str, _Param] = {}
    for name, p in exact.items():
        alias = python_name(name)
        if alias != name and alias not in exact:
            aliases[alias] = p
    return exact, aliases


class _Api:
    """Everything a method needs from its document, computed once per :class:`GoogleAPI`."""

    __slots__ = (
        "api_id",
        "base_url",
        "batch_url",
        "compiler",
        "doc",
        "download_base",
        "global_exact",
        "global_lookup",
        "root_url",
        "service_path",
        "shared",
        "upload_base",
        "validate",
    )

    def __init__(self, doc: Mapping[str, Any], validate: bool, root_url: str | None, relative: bool = False) -> None:
        """``relative``: a root URL may be empty (a Resource or Method made directly
        without one, as aiogoogle 5.x allows; its URLs are then relative)."""
        self.doc = doc
        self.validate = validate
        api_id = doc.get("id")
        self.api_id = _label(api_id) if api_id else f"{_label(doc.get('name', '?'))}:{_label(doc.get('version', '?'))}"
        root = root_url if root_url is not None else doc.get("rootUrl")
        service_path = doc.get("servicePath", "")
        if relative and (root is None or root == ""):
            root = ""
        elif not isinstance(root, str) or not root:
            base = doc.get("baseUrl")
            if isinstance(base, str) and base and isinstance(service_path, str) and base.endswith(service_path):
                root = base[: len(base) - len(service_path)] if service_path else base
            else:
                raise DiscoveryError(f"discovery document {self.api_id}: missing 'rootUrl' (a string such as 'https://www.googleapis.com/')")
        if not isinstance(service_path, str):
            raise DiscoveryError(f"servicePath: must be a string, got {type(service_path).__name__} (discovery document {self.api_id})")
        if root and not root.endswith("/"):
            root += "/"
        self.root_url = root
        self.service_path = service_path
        # Every URL derives from rootUrl, so overriding it moves them all (docs/protocol.md §1.6).
        self.base_url = root + service_path
        self.upload_base = root + "upload/" + service_path
        self.download_base = root + "download/" + service_path
        batch_path = doc.get("batchPath", "batch")
        if not isinstance(batch_path, str):
            raise DiscoveryError(f"batchPath: must be a string, got {type(batch_path).__name__} (discovery document {self.api_id})")
        self.batch_url = root + batch_path.lstrip("/")
        declared = doc.get("parameters")
        if declared is None:
            declared = {}
        if not isinstance(declared, Mapping):
            raise DiscoveryError(f"parameters: 'parameters' must be an object, got {type(declared).__name__} (discovery document {self.api_id})")
        params = {**_EXTRA_SYSTEM_PARAMETERS, **declared}
        # Equal parameter records are shared between the methods of this document
        # (memory: see benchmarks/bench_build.py).
        self.shared: dict[Any, Any] = {}
        exact, aliases = _compile_params(params, "parameters", self.shared)
        self.global_exact = exact
        self.global_lookup = {**aliases, **exact}
        self.compiler = SchemaCompiler(doc.get("schemas"))  # a DiscoveryError unless an object

    @classmethod
    def from_parts(
        cls,
        global_parameters: Mapping[str, Any] | None,
        schemas: Mapping[str, Any] | None,
        root_url: str | None,
        service_path: str | None,
        batch_path: str | None,
        validate: bool,
    ) -> _Api:
        """The context of a :class:`Resource` or :class:`Method` made directly with the
        seed's constructor arguments instead of through a :class:`GoogleAPI`."""
        doc = {
            "rootUrl": root_url or "",
            "servicePath": service_path or "",
            "batchPath": batch_path if batch_path is not None else "batch",
            "parameters": global_parameters or {},
            "schemas": schemas or {},
        }
        return cls(doc, bool(validate), None, relative=True)


class _Plan:
    """A method compiled for building requests (see the module docstring)."""

    __slots__ = (
        "accept",
        "api_version",
        "http_method",
        "lookup",
        "max_size",
        "media_download",
        "method_id",
        "path",
        "request_check",
        "request_schema",
        "required",
        "resumable_multipart",
        "resumable_path",
        "supports_upload",
        "upload_multipart",
        "use_download_service",
    )

    def __init__(self, name: str, specs: Mapping[str, Any], ctx: _Api, qualname: str, where: str) -> None:
        """``where``: the JSON path of the method in its document (for messages)."""
        method_id = specs.get("id")
        if method_id is not None and not isinstance(method_id, str):
            raise DiscoveryError(f"{json_path(where, 'id')}: must be a string, got {type(method_id).__name__} {brief(method_id)}")
        self.method_id = method_id or qualname
        http_method = specs.get("httpMethod")
        if not isinstance(http_method, str) or not http_method:
            raise DiscoveryError(f"{where}: missing 'httpMethod' (method {_label(self.method_id)})")
        if not _TOKEN(http_method):
            # RFC 9110 §9.1: a method name is a token; anything else would break the request line.
            raise DiscoveryError(f"{json_path(where, 'httpMethod')}: not an HTTP method name: {brief(http_method)}")
        self.http_method = intern(http_method.upper())
        path = specs.get("path")
        if not isinstance(path, str):
            raise DiscoveryError(f"{where}: missing 'path' (method {_label(self.method_id)})")
        self.path = PathTemplate(path, ctx.shared)
        params = specs.get("parameters")
        in_template = frozenset(self.path.names)
        exact, aliases = _compile_params({} if params is None else params, json_path(where, "parameters"), ctx.shared, in_template)
        for var in self.path.names:
            if var not in exact:
                raise DiscoveryError(f"{json_path(where, 'path')}: path variable {{{_label(var)}}} has no parameter (method {_label(self.method_id)})")
        # Method parameters shadow global ones of the same name, exact names win over aliases.
        self.lookup = {**aliases, **exact} if aliases else exact
        # A path variable is required whatever the document says: without it the URL breaks.
        required = tuple(p for p in exact.values() if p.required or p.name in in_template)
        self.required = ctx.shared.setdefault(required, required)
        request = specs.get("request")
        self.request_schema = None if request is None else _object(request, json_path(where, "request"), "an object such as {'$ref': 'File'}")
        self.request_check: Any = None
        self.supports_upload = bool(specs.get("supportsMediaUpload"))
        media_where = json_path(where, "mediaUpload")
        media = _object(specs.get("mediaUpload") or {}, media_where)
        accept = media.get("accept")
        if accept is not None and not (isinstance(accept, list) and all(isinstance(a, str) for a in accept)):
            raise DiscoveryError(f"{json_path(media_where, 'accept')}: must be a list of MIME ranges (strings), got {brief(accept)}")
        self.accept = list(accept) if accept is not None else None
        self.max_size = _parse_size(media.get("maxSize"), json_path(media_where, "maxSize"))
        protocols_where = json_path(media_where, "protocols")
        protocols = _object(media.get("protocols") or {}, protocols_where)
        resumable = protocols.get("resumable")
        self.resumable_path = None
        self.resumable_multipart = True
        if resumable is not None:
            resumable_where = json_path(protocols_where, "resumable")
            resumable_path = _object(resumable, resumable_where).get("path", "")
            if not isinstance(resumable_path, str):
                raise DiscoveryError(f"{json_path(resumable_where, 'path')}: must be a string, got {brief(resumable_path)}")
            self.resumable_path = resumable_path
            self.resumable_multipart = bool(_object(resumable, resumable_where).get("multipart", True))
        self.upload_multipart = bool(_object(protocols.get("simple") or {}, json_path(protocols_where, "simple")).get("multipart", True))
        self.media_download = bool(specs.get("supportsMediaDownload"))
        self.use_download_service = bool(specs.get("useMediaDownloadService"))
        api_version = specs.get("apiVersion")
        if api_version and not (isinstance(api_version, str) and _HEADER_TEXT(api_version)):
            # It is sent as the X-Goog-Api-Version header: printable text only (RFC 9110 §5.5).
            raise DiscoveryError(f"{json_path(where, 'apiVersion')}: must be printable text, got {brief(api_version)}")
        self.api_version = api_version or None

    @property
    def method_exact(self) -> dict[str, _Param]:
        """The method's own parameters by discovery name (not the global ones)."""
        return {name: p for name, p in self.lookup.items() if p.name == name}


# RFC 9110 §5.6.2 token (a method name) and printable field text (§5.5, ASCII only).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z").match
_HEADER_TEXT = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,1022}[\x21-\x7e])?\Z").match


def _close_names(key: str, plan: _Plan, ctx: _Api) -> list[str]:
    own = plan.method_exact
    names = list(own) + [n for n in ctx.global_exact if n not in own]
    return difflib.get_close_matches(key, names, n=3, cutoff=0.6)


class _MethodBuilder:
    """The request-building half of :class:`aiogoogle.resource.Method`: its state, its
    compiled plan and :meth:`__call__`. Browsing (``m["scopes"]``, ``m.parameters``,
    ``repr``) is in the subclass."""

    # The slots live here, where they are read on every call; Method adds none.
    __slots__ = ("_ctx", "_method_specs", "_parent", "_parent_path", "_plan", "name")

    name: str
    _method_specs: Mapping[str, Any]
    _ctx: _Api
    _parent: str
    _parent_path: str  # shared with the siblings: the JSON path is made on demand
    _plan: _Plan | None

    def _where(self) -> str:
        """The JSON path of the method in its document."""
        return json_path(json_path(self._parent_path, "methods"), self.name)

    def _compiled(self) -> _Plan:
        """The method's plan, compiled on first use and kept (a DiscoveryError if its spec
        is broken)."""
        # Kept because compiling costs more than ten calls: drive.v3 files.list compiles in
        # about 70 us and then builds a request in about 6 us (tests/test_resource_split.py:
        # a kept plan builds what a fresh one builds).
        plan = self._plan
        if plan is None:
            qual = f"{self._parent}.{self.name}" if self._parent else self.name
            plan = self._plan = _Plan(self.name, self._method_specs, self._ctx, qual, self._where())
        return plan

    def __call__(
        self,
        validate: bool | None = None,
        data: Any = None,
        json: Any = None,
        upload_file: str | bytes | None = None,
        download_file: str | None = None,
        timeout: Any = None,
        pipe_from: AsyncIterable[bytes] | None = None,
        pipe_to: Any = None,
        path_params_safe_chars: Mapping[str, str] | None = None,
        upload_file_content_type: str | None = None,
        resumable: bool | None = None,
        chunk_size: int | None = None,
        progress: Callable[[int, int | None], Any] | None = None,
        retry: Any = None,
        **params: Any,
    ) -> Request:
        """Build an unsent request.

        Args:
            validate: check parameters and body against the schemas (default: the API's).
            json: the JSON body. data: a raw body (bytes, str, or a dict sent form-encoded).
            upload_file: a file path or bytes to upload (methods with ``supportsMediaUpload``).
            pipe_from: an async iterable of bytes to upload instead.
            download_file: write the media (``alt=media``) to this path.
            pipe_to: hand the media to this async consumer instead (``write(chunk)``).
            timeout: total seconds for this request, or an :class:`aiogoogle.Timeout`.
            path_params_safe_chars: per path parameter, characters to leave unencoded.
            upload_file_content_type: the MIME type of the upload.
            resumable: force (True) or forbid (False) a resumable upload; ``None`` picks it
                for large or unknown-size uploads when the method supports it.
            chunk_size: bytes per resumable chunk (multiple of 256 KiB) or per download read.
            progress: called with ``(bytes_done, total_or_None)`` during media transfers.
            retry: a :class:`aiogoogle.RetryPolicy` for this call, or ``False``.
            **params: path and query parameters, by discovery name or Python alias.

        Raises:
            ValidationError: listing every problem, each with its path.
        """
        plan = self._plan or self._compiled()
        ctx = self._ctx
        checking = ctx.validate if validate is None else validate
        if timeout is not None and (type(timeout) is bool or not isinstance(timeout, (int, float, Timeout))):
            # A TypeError as in 5.x (and a ValidationError, as every argument problem here).
            raise ValidationTypeError([("timeout", "must be a number of seconds, an aiogoogle.Timeout or None", timeout)])
        if json is not None and data is not None:
            raise ValidationTypeError([("json", "pass either json= or data=, not both")])
        problems: list[tuple[str, str, Any]] = []
        path_values: dict[str, Any] = {}
        query: list[str] = []
        seen: set[str] = set()
        mget = plan.lookup.get
        gget = ctx.global_lookup.get
        for key, value in params.items():
            try:
                p = mget(key) or gget(key)
                if p is None:
                    problems.append((key, self._unknown(key, plan), value))
                    continue
                if value is None:
                    continue
                wire = p.name
                if wire in seen:
                    problems.append((key, f"given twice (as {wire!r} and as its alias)", value))
                    continue
                seen.add(wire)
                if type(value) is str:
                    # The common case first: one string, checked, then placed.
                    if checking:
                        check = p.check
                        if check is not None:
                            msg = check(value)
                            if msg is not None:
                                problems.append((key, msg, value))
                    if p.in_path:
                        path_values[wire] = value
                    elif _plain(value):
                        query.append(f"{p.qkey}={value}")
                    else:
                        query.append(f"{p.qkey}={encode_query_value(value)}")
                    continue
                multiple = type(value) in _MULTIPLE
                found = len(problems)
                if checking:
                    check = p.check
                    if multiple:
                        if not p.repeated:
                            problems.append((key, "takes a single value, not a list", value))
                        elif check is not None:
                            for i, item in enumerate(value):
                                if item is not None:
                                    msg = check(item)
                                    if msg is not None:
                                        problems.append((f"{key}[{i}]", msg, item))
                    elif check is not None:
                        msg = check(value)
                        if msg is not None:
                            problems.append((key, msg, value))
                    if len(problems) > found:
                        continue  # refused: nothing to place
                if p.in_path:
                    if multiple:
                        if not checking:
                            problems.append((key, "a path parameter takes a single value", value))
                        continue
                    path_values[wire] = value
                elif multiple:
                    qkey = p.qkey
                    for item in value:
                        if item is not None:
                            query.append(f"{qkey}={encode_query_value(item)}")
                else:
                    query.append(f"{p.qkey}={encode_query_value(value)}")
            except (UnicodeEncodeError, ValueError) as exc:
                # A value text cannot carry (a lone surrogate; an int too long to print).
                problems.append((key, f"cannot be put in the URL ({type(exc).__name__}: {str(exc)[:120]})", value))
        for p in plan.required:
            # validate=False sends a call without its required query parameters (5.19
            # refused it; nothing that worked there changes); a path needs its values.
            if p.name not in seen and (checking or p.in_path):
                where = "path" if p.in_path else "query"
                problems.append((p.name, f"required {where} parameter is missing", _MISSING))
        if checking:
            # The body is checked whichever argument carries it (5.x checks data= too).
            if json is not None:
                self._check_body(plan, json, problems)
            elif data is not None:
                self._check_body(plan, data, problems, "data")
        uploading = upload_file is not None or pipe_from is not None
        downloading = download_file is not None or pipe_to is not None
        if uploading or downloading or chunk_size is not None:  # media options: rarely given
            if uploading and not plan.supports_upload:
                problems.append(("upload_file", f"{plan.method_id} does not accept media uploads", _MISSING))
            if downloading and checking and not plan.media_download:
                which = "download_file" if download_file is not None else "pipe_to"
                problems.append((which, f"{plan.method_id} does not support media download (validate=False sends it anyway)", _MISSING))
            if upload_file is not None and pipe_from is not None:
                problems.append(("pipe_from", "pass either upload_file= or pipe_from=, not both", _MISSING))
            if download_file is not None and pipe_to is not None:
                problems.append(("pipe_to", "pass either download_file= or pipe_to=, not both", _MISSING))
            if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0):
                problems.append(("chunk_size", "must be a positive number of bytes", chunk_size))
        if problems:
            raise ValidationError([_render(p) for p in problems])

        path = plan.path.expand(path_values, dict(path_params_safe_chars) if path_params_safe_chars else None) if plan.path.variables else plan.path.literals[0]
        base = ctx.base_url
        if downloading or plan.use_download_service:
            alt = params.get("alt")
            if downloading and plan.media_download and alt is None:
                query.append("alt=media")
                alt = "media"
            if alt == "media" and plan.use_download_service:
                base = ctx.download_base
        qs = "&".join(query)
        url = f"{base}{path}?{qs}" if qs else base + path

        media_upload = None
        if uploading:
            media_upload = self._media_upload(plan, path, query, json, upload_file, pipe_from, upload_file_content_type, resumable, chunk_size, progress, bool(checking))
        media_download = None
        if downloading:
            media_download = MediaDownload(download_file, chunk_size, pipe_to, progress=progress)
        headers = {"X-Goog-Api-Version": plan.api_version} if plan.api_version else {}
        # Positional as far as the seed's signature goes (method, url, batch_url, headers,
        # json, data, media_upload, media_download, timeout, callback, _verify_ssl,
        # upload_file_content_type): binding keywords costs more than the rest of __init__.
        return Request(
            plan.http_method,
            url,
            ctx.batch_url,
            headers,
            json,
            data,
            media_upload,
            media_download,
            timeout,
            None,
            True,
            upload_file_content_type,
            retry=retry,
            method_id=plan.method_id,
        )

    def _unknown(self, key: str, plan: _Plan) -> str:
        if key == "body":
            return f"unknown parameter for {plan.method_id}; the request body goes in json=... (googleapiclient's body=)"
        if key == "media_body":
            return f"unknown parameter for {plan.method_id}; uploads go in upload_file=... or pipe_from=..."
        if key.endswith("_") and key[:-1] in CALL_OPTIONS:
            return f"{plan.method_id} has no API parameter {key[:-1]!r}"
        close = _close_names(key, plan, self._ctx)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return f"unknown parameter for {plan.method_id}{hint}"

    def _check_body(self, plan: _Plan, body: Any, problems: list[tuple[str, str, Any]], arg: str = "json") -> None:
        if plan.request_schema is None:
            problems.append((arg, f"{plan.method_id} takes no request body (validate=False sends it anyway)", _MISSING))
            return
        check = plan.request_check
        if check is None:
            check = plan.request_check = self._ctx.compiler.checker(plan.request_schema, json_path(self._where(), "request"))
        found: list[tuple[str, str, Any]] = []
        check(body, arg, found, plan.method_id)
        problems.extend(found)

    def _media_upload(
        self,
        plan: _Plan,
        path: str,
        query: list[str],
        json: Any,
        upload_file: str | bytes | None,
        pipe_from: AsyncIterable[bytes] | None,
        content_type: str | None,
        resumable: bool | None,
        chunk_size: int | None,
        progress: Any,
        validate_upload: bool = True,
    ) -> MediaUpload:
        ctx = self._ctx
        if resumable and plan.resumable_path is None:
            raise ValidationError([("resumable", f"{plan.method_id} does not support resumable uploads", True)])
        if content_type is None and isinstance(upload_file, str):
            content_type = guess_type(upload_file)
        if content_type is not None and plan.accept and not _mime_accepted(content_type, plan.accept):
            raise ValidationError([("upload_file_content_type", f"{plan.method_id} accepts only {', '.join(plan.accept)}", content_type)])
        # The URL as aiogoogle 5.x gives it: the method's query without uploadType, which
        # the upload itself adds for the protocol it picks (core/media.py).
        qs = "&".join(query)
        suffix = f"{path}?{qs}" if qs else path
        resumable_info = None
        if plan.resumable_path is not None:
            resumable_info = ResumableUpload(
                multipart=plan.resumable_multipart,
                chunk_size=chunk_size,
                upload_path=ctx.root_url + "resumable/upload/" + ctx.service_path + suffix,
            )
        return MediaUpload(
            upload_file,
            upload_path=ctx.upload_base + suffix,
            mime_range=plan.accept,
            max_size=plan.max_size,
            multipart=plan.upload_multipart,
            chunk_size=chunk_size,
            resumable=resumable_info,
            validate=validate_upload,
            pipe_from=pipe_from,
            content_type=content_type,
            use_resumable=resumable,
            progress=progress,
        )


_MISSING: Any = object()
_MULTIPLE = frozenset({list, tuple, set, frozenset})
_plain = re.compile(r"[A-Za-z0-9_.~-]*\Z").match


def _render(problem: tuple[str, str, Any]) -> tuple[str, str] | tuple[str, str, Any]:
    path, message, value = problem
    return (path, message) if value is _MISSING else (path, message, safe_value(value))


def _mime_accepted(content_type: str, accept: list[str]) -> bool:
    ctype = content_type.split(";", 1)[0].strip().lower()
    major = ctype.split("/", 1)[0]
    for rng in accept:
        r = rng.split(";", 1)[0].strip().lower()
        if r in ("*/*", ctype) or (r.endswith("/*") and r[:-2] == major):
            return True
    return False
