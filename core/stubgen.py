"""Typed stubs from a discovery document: pure text generation, no I/O.

:func:`generate_stubs` turns a discovery document
(https://developers.google.com/discovery/v1/reference/apis) into the two files of one
module, ``<name>_<version>.py`` and ``<name>_<version>.pyi``. ``aiogoogle stubs API VERSION``
writes them; the ``aiogoogle-apis`` distribution ships them ready-made for the most used APIs.

What the type checker (mypy, pyright) sees, in the ``.pyi``:

* one class per API (``DriveV3``, a :class:`~aiogoogle.resource.GoogleAPI` subclass, so it
  passes where a ``GoogleAPI`` is annotated) and one per resource (``DriveV3Files``, a
  :class:`~aiogoogle.resource.Resource`), whose attributes are the nested resources
  (a misspelled one is an error: the classes hide the runtime ``__getattr__``) and whose
  methods take keyword-only parameters typed from the document: ``enum`` values as ``Literal``, integers as ``int``, ``int64``/``uint64``
  parameters as ``int | str`` (both are accepted and sent as the same text), booleans as
  ``bool``, repeated parameters as one value or a list/tuple/set; required parameters
  (and every path parameter) have no default. Names are spelled as calls accept them:
  the discovery name when it is a Python identifier, else its alias
  (:func:`aiogoogle.resource.python_name`: ``$.xgafv`` → ``x__xgafv``, ``timeout`` →
  ``timeout_``). The API's global parameters and the call options (``validate``,
  ``timeout``, ``retry``, ``path_params_safe_chars``) are one ``TypedDict`` unpacked into
  ``**kwargs`` (PEP 692), so a misspelled keyword is an error;
* each method returns ``Request[<response schema>]`` (``Request[None]`` without one, and
  for a media download: ``download_file=``/``pipe_to=``), so the client's ``as_user(...)``
  gives the schema's type;
* a ``TypedDict`` (``total=False``) per schema, recursive through ``$ref``; nested inline
  objects get their own ``<Schema>_<property>`` class; read-only fields (the document's
  ``readOnly``, or a description that starts with "Output only" / "[Output Only]") are
  wrapped in ``typing_extensions.ReadOnly`` (PEP 705). Body ``int64`` fields are ``str``,
  the JSON form Google sends (https://protobuf.dev/programming-guides/proto3/#json);
* members no attribute reaches (a method named as a sibling resource, which attribute
  access gives; a name the runtime class already has) are typed through overloads of
  ``get_method``/``get_resource`` on their discovery names: ``get_method("accounts")``
  returns a ``Protocol`` whose ``__call__`` is the method's signature;
* docstrings from the descriptions.

The ``.py`` is what runs: the API class (a ``GoogleAPI`` subclass that
``Aiogoogle.discover(..., typed=DriveV3)`` returns) and, for imports outside
``TYPE_CHECKING``, every other name of the stub resolved to its runtime type (``dict`` for
a schema, ``Resource`` for a resource class).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .__version__ import __version__
from ._url import PathTemplate
from .excs import DiscoveryError
from .resource import CALL_OPTIONS, GoogleAPI, Resource, python_name
from .validate import brief

__all__ = ["api_class_name", "generate_stubs", "module_name"]

# Deeper nesting than this in one schema is typed Any (no real document comes close; a
# hostile one must not exhaust the stack).
_MAX_DEPTH = 40

# Attributes the runtime classes already have: a resource or method with one of these
# names is not reachable as an attribute (the class attribute wins over __getattr__), so
# the stub does not declare it (get_resource()/get_method() still reach it).
_TAKEN_ON_RESOURCE = frozenset(dir(Resource)) | frozenset(Resource.__slots__)
_TAKEN_ON_API = frozenset(dir(GoogleAPI)) | frozenset(GoogleAPI.__slots__)

# Names the stub module itself defines or imports (all private, so no schema can be one).
# What the stub may import or define for itself, each kept only when the stub uses it
# (pyright's strict mode reports unused imports). All private, so no schema can be one.
_IMPORTS = (
    ("_t", "import typing as _t"),
    ("_bool", "from builtins import bool as _bool"),
    ("_bytes", "from builtins import bytes as _bytes"),
    ("_dict", "from builtins import dict as _dict"),
    ("_float", "from builtins import float as _float"),
    ("_frozenset", "from builtins import frozenset as _frozenset"),
    ("_int", "from builtins import int as _int"),
    ("_list", "from builtins import list as _list"),
    ("_set", "from builtins import set as _set"),
    ("_str", "from builtins import str as _str"),
    ("_tuple", "from builtins import tuple as _tuple"),
    ("_AsyncIterable", "from collections.abc import AsyncIterable as _AsyncIterable"),
    ("_Callable", "from collections.abc import Callable as _Callable"),
    ("_Mapping", "from collections.abc import Mapping as _Mapping"),
    ("", ""),
    ("_te", "import typing_extensions as _te"),
    ("", ""),
    ("_RetryPolicy", "from aiogoogle import RetryPolicy as _RetryPolicy"),
    ("_Timeout", "from aiogoogle import Timeout as _Timeout"),
    ("_Request", "from aiogoogle.models import Request as _Request"),
    ("_GoogleAPI", "from aiogoogle.resource import GoogleAPI as _GoogleAPI"),
    ("_Method", "from aiogoogle.resource import Method as _Method"),
    ("_Resource", "from aiogoogle.resource import Resource as _Resource"),
)
_HELPERS = (
    ("_Many", '''_V = _t.TypeVar("_V")
# A repeated parameter: one value, or several in a list, tuple or set (what calls accept).
_Many: _te.TypeAlias = _V | _list[_V] | _tuple[_V, ...] | _set[_V] | _frozenset[_V]
'''),
    ("_Progress", "_Progress: _te.TypeAlias = _Callable[[_int, _int | None], object]\n"),
)


def _prelude(body: str) -> str:
    """The imports and helper aliases ``body`` uses."""
    used = set(re.findall(r"\b_\w+", body))
    helpers = "".join(text for name, text in _HELPERS if name in used)
    used |= set(re.findall(r"\b_\w+", helpers))
    lines: list[str] = []
    for name, line in _IMPORTS:
        if not name:
            if lines and lines[-1]:
                lines.append("")
        elif name in used:
            lines.append(line)
    return "\n".join(lines).rstrip("\n") + "\n\n" + (helpers + "\n" if helpers else "")

_OUTPUT_ONLY = re.compile(r"\s*(\[Output Only\]|Output only\b)", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9]+")


def _camel(text: str) -> str:
    """``admin``/``directory_v1`` → ``AdminDirectoryV1``: each ASCII word capitalised."""
    return "".join(w[:1].upper() + w[1:] for w in _WORD.findall(text))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def module_name(document: Mapping[str, Any]) -> str:
    """The stub module's name for a document: ``drive_v3``, ``admin_directory_v1``."""
    name, version = _text(document.get("name")), _text(document.get("version"))
    if not name or not version:
        raise DiscoveryError("a discovery document needs 'name' and 'version' (strings) to name its stubs")
    return "_".join(w.lower() for w in _WORD.findall(f"{name}_{version}")) or "api"


def api_class_name(document: Mapping[str, Any]) -> str:
    """The API class of a document's stubs: ``DriveV3``, ``ComputeV1``."""
    module_name(document)  # the same checks
    out = _camel(f"{_text(document.get('name'))}_{_text(document.get('version'))}")
    if not out[:1].isalpha():
        out = "Api" + out
    return out + "_" if keyword.iskeyword(out) else out


def _ident(name: str) -> bool:
    """A name the stub can spell as it is: an ASCII identifier, not a keyword, not
    private-looking (``_x`` could clash with the stub's names, ``__x`` is mangled in a
    class body)."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name) and not keyword.issoftkeyword(name) and not name.startswith("_")


def _doc(text: Any, indent: str) -> str:
    """A docstring literal for ``text`` (any string, safely escaped), or ``""``."""
    if not isinstance(text, str) or not text.strip():
        return ""
    out = []
    for ch in text.strip():
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n" or ch.isprintable():
            out.append(ch)
        elif ch == "\t":
            out.append("    ")
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    body = "".join(out).replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    lines = body.split("\n")
    if len(lines) > 1:
        body = lines[0] + "\n" + "\n".join(indent + line if line.strip() else "" for line in lines[1:]) + "\n" + indent
    return f'{indent}"""{body}"""\n'


class _Names:
    """Module-level names of the stub: each public name once."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        base = wanted if _ident(wanted) else python_name(wanted).lstrip("_") or "X"
        if not base[:1].isalpha():
            base = "X" + base
        name = base
        while name in self.used or keyword.iskeyword(name):
            name += "_"
        self.used.add(name)
        return name


class _Generator:
    def __init__(self, document: Mapping[str, Any]) -> None:
        if not isinstance(document, Mapping):
            raise DiscoveryError(f"a discovery document must be a dict, got {type(document).__name__}")
        self.doc = document
        self.module = module_name(document)
        self.names = _Names()
        self.api_class = self.names.take(api_class_name(document))
        schemas = document.get("schemas")
        if schemas is None:
            schemas = {}
        if not isinstance(schemas, Mapping):
            raise DiscoveryError(f"schemas: must be an object, got {type(schemas).__name__} {brief(schemas)}")
        self.schemas: Mapping[str, Any] = schemas
        # Public names for the schemas first (stable: the document's names), then resources.
        self.schema_names: dict[str, str] = {}
        for name in schemas:
            if isinstance(name, str):
                self.schema_names[name] = self.names.take(name)
        self.runtime: dict[str, str] = {}  # stub name -> the runtime type it stands for
        self.blocks: list[str] = []  # schema definitions, in order
        self.aliases: dict[str, str] = {}  # shadowed name -> its private alias

    # ------------------------------------------------------------------ schemas

    def type_of(self, spec: Any, hint: str, depth: int = 0) -> str:
        """The type expression of a schema node; ``hint`` names a nested class if one is needed."""
        if not isinstance(spec, Mapping) or depth > _MAX_DEPTH:
            return "_t.Any"
        ref = spec.get("$ref")
        if ref is not None:
            return self.schema_names.get(ref, "_t.Any") if isinstance(ref, str) else "_t.Any"
        kind = spec.get("type")
        props = spec.get("properties")
        if kind == "string":
            return self._literal(spec.get("enum")) or "_str"
        if kind == "integer":
            return "_int"
        if kind == "number":
            return "_float"
        if kind == "boolean":
            return "_bool"
        if kind == "null":
            return "None"
        if kind == "array":
            return f"_list[{self.type_of(spec.get('items'), hint + 'Item', depth + 1)}]"
        if kind == "object" or isinstance(props, Mapping):
            if isinstance(props, Mapping) and props:
                name = self.names.take(hint)
                self.typed_dict(name, spec, depth + 1)
                return name
            extra = spec.get("additionalProperties")
            if isinstance(extra, Mapping):
                return f"_dict[_str, {self.type_of(extra, hint + 'Value', depth + 1)}]"
            return "_dict[_str, _t.Any]"
        return "_t.Any"

    @staticmethod
    def _literal(enum: Any) -> str | None:
        if not isinstance(enum, list) or not enum or not all(isinstance(v, str) for v in enum):
            return None
        values = list(dict.fromkeys(enum))
        return "_t.Literal[" + ", ".join(repr(v) for v in values) + "]"

    def typed_dict(self, name: str, spec: Mapping[str, Any], depth: int) -> None:
        props = spec.get("properties")
        fields: list[tuple[str, str, Any]] = []
        if isinstance(props, Mapping):
            for key, prop in props.items():
                if not isinstance(key, str):
                    continue
                hint = f"{name}_{_camel(key) or 'Field'}"
                typ = self.type_of(prop, hint, depth)
                desc = prop.get("description") if isinstance(prop, Mapping) else None
                if isinstance(prop, Mapping) and (prop.get("readOnly") is True or (isinstance(desc, str) and _OUTPUT_ONLY.match(desc))):
                    typ = f"_te.ReadOnly[{typ}]"
                fields.append((key, typ, desc))
        self.runtime[name] = "dict"
        referenced = {m for _, typ, _ in fields for m in _type_names(typ)}
        keys = {key for key, _, _ in fields}
        # The class syntax needs identifier keys, and a key must not shadow a type the
        # class body names (a field "Status" next to a schema Status); else the
        # functional syntax, which has no class scope.
        if all(_ident(k) for k in keys) and not (keys & referenced):
            lines = [f"class {name}(_t.TypedDict, total=False):\n", _doc(spec.get("description"), "    ")]
            for key, typ, desc in fields:
                lines.append(f"    {key}: {typ}\n")
                lines.append(_doc(desc, "    "))
            if not fields:
                lines.append("    pass\n")
            self.blocks.append("".join(lines))
        else:
            items = "".join(f"    {key!r}: {typ},\n" for key, typ, _ in fields)
            self.blocks.append(f"{name} = _t.TypedDict(\n    {name!r},\n    {{\n{items}    }},\n    total=False,\n)\n" + _doc(spec.get("description"), ""))

    def schema(self, name: str, spec: Any) -> None:
        public = self.schema_names[name]
        if not isinstance(spec, Mapping):
            raise DiscoveryError(f"schemas.{name}: must be an object, got {type(spec).__name__} {brief(spec)}")
        props = spec.get("properties")
        if spec.get("$ref") is None and ((spec.get("type") in ("object", None) and isinstance(props, Mapping) and props) or (spec.get("type") == "object" and not isinstance(spec.get("additionalProperties"), Mapping))):
            self.typed_dict(public, spec, 0)
            return
        typ = self.type_of(spec, public + "_", 0)
        self.runtime[public] = {"_str": "str", "_int": "int", "_float": "float", "_bool": "bool"}.get(typ, "list" if typ.startswith("_list[") else "dict" if typ.startswith("_dict[") else "object")
        self.blocks.append(f"{public}: _te.TypeAlias = {typ}\n" + _doc(spec.get("description"), ""))

    # ------------------------------------------------------------------ parameters

    def param_type(self, spec: Mapping[str, Any]) -> str:
        """A parameter's type: what a call accepts for it (see the module docstring)."""
        kind, fmt = spec.get("type"), spec.get("format")
        base = self._literal(spec.get("enum"))
        if base is None:
            if kind == "string" and fmt in ("int64", "uint64"):
                base = "_int | _str"
            else:
                base = {"integer": "_int", "number": "_float", "boolean": "_bool", "string": "_str"}.get(kind if isinstance(kind, str) else "", "_t.Any")
        return f"_Many[{base}]" if spec.get("repeated") is True else base

    def options_class(self, excluded: frozenset[str]) -> str:
        """The TypedDict unpacked into a method's ``**kwargs``: ``_Options`` less the
        keywords the method's own parameters take (theirs win at run time)."""
        name = self.option_variants.get(excluded)
        if name is not None:
            return name
        name = f"_Options{len(self.option_variants)}"
        self.option_variants[excluded] = name
        lines = [f"class {name}(_t.TypedDict, total=False):\n"]
        kept = [(key, typ) for key, (typ, _) in self.option_fields.items() if key not in excluded]
        lines.extend(f"    {key}: {typ}\n" for key, typ in kept)
        if not kept:
            lines.append("    pass\n")
        self.option_blocks.append("".join(lines))
        return name

    # ------------------------------------------------------------------ resources

    def node(self, specs: Mapping[str, Any], cls: str, where: str, taken: frozenset[str], base: str, doc: str) -> None:
        """The class of the API (``where`` empty) or of a resource, then its resources'."""
        members: list[tuple[str, list[str]]] = []  # (member name, lines with {annotations})
        annotations: list[str] = []
        nested: list[tuple[Mapping[str, Any], str, str]] = []
        attrs: set[str] = set()
        # Members no attribute reaches (a method named as a sibling resource: attribute
        # access gives the resource; a name that is not an identifier; a name the runtime
        # class already uses) are typed through get_resource()/get_method() overloads
        # on their discovery names, which reach them at run time.
        hidden: dict[str, list[tuple[str, str]]] = {"get_resource": [], "get_method": []}
        resources = _section(specs, "resources", where)
        for name, spec in resources.items():
            if not isinstance(name, str) or not isinstance(spec, Mapping):
                continue
            attr = _attr(name)
            sub = self.names.take(cls + _camel(name))
            nested.append((spec, sub, f"{where}.resources.{name}" if where else f"resources.{name}"))
            if attr is None or attr in taken or attr in attrs:
                hidden["get_resource"].append((name, sub))
                continue
            attrs.add(attr)
            annotations.append(sub)
            members.append((attr, [f"    {attr}: {{{len(annotations) - 1}}}\n", _doc(spec.get("description"), "    ") or _doc(f"The {name} resource.", "    ")]))
        for name, spec in _section(specs, "methods", where).items():
            if not isinstance(name, str) or not isinstance(spec, Mapping):
                continue
            attr = _attr(name)
            method_where = f"{where}.methods.{name}" if where else f"methods.{name}"
            if attr is None or attr in taken or attr in attrs:
                hidden["get_method"].append((name, self.method_protocol(cls, name, spec, method_where)))
                continue
            attrs.add(attr)
            members.append((attr, self.method(attr, spec, annotations, method_where)))
        for getter, fallback in (("get_resource", "_Resource"), ("get_method", "_t.Any")):
            if not hidden[getter]:
                continue
            lines: list[str] = []
            for name, typ in hidden[getter]:
                annotations.append(typ)
                literal = repr(name).replace("{", "{{").replace("}", "}}")
                lines += ["    @_t.overload\n", f"    def {getter}(self, name: _t.Literal[{literal}]) -> {{{len(annotations) - 1}}}: ...\n"]
            lines += ["    @_t.overload\n", f"    def {getter}(self, name: _str) -> {fallback}: ...\n"]
            attrs.add(getter)
            members.append((getter, lines))
        # A member named as a type the class body mentions would shadow it there: such
        # types are named through a private module-level alias.
        shadowed = attrs & {m for a in annotations for m in _type_names(a)}
        for s in sorted(shadowed):
            self.aliases.setdefault(s, f"_Shadowed_{s}")
        fixed = [_rename(a, {s: self.aliases[s] for s in shadowed}) if shadowed else a for a in annotations]
        lines = [f"class {cls}({base}):\n", _doc(doc, "    ")]
        if not where:
            lines.append("    __discovery_id__: _t.ClassVar[_str]\n")
        for _, body in members:
            lines.extend(line.format(*fixed) if "{" in line and not line.lstrip().startswith('"""') else line for line in body)
        if not members and where:
            lines.append("    pass\n")
        self.classes.append("".join(lines))
        self.runtime.setdefault(cls, "Resource")
        for spec, sub, sub_where in nested:
            self.node(spec, sub, sub_where, _TAKEN_ON_RESOURCE, "_ResourceBase", _text(spec.get("description")))

    def method_protocol(self, cls: str, name: str, spec: Mapping[str, Any], where: str) -> str:
        """A ``Protocol`` whose ``__call__`` is the method ``name`` of ``cls`` (for a
        method no attribute reaches): what the class's ``get_method(name)`` returns."""
        proto = self.names.take(f"{cls}{_camel(name)}Method")
        annotations: list[str] = []
        body = self.method("__call__", spec, annotations, where, hint=proto)
        lines = [f"class {proto}(_t.Protocol):\n",
                 _doc(f"The method {name} of {cls}, reached by ``get_method({name!r})``.", "    ")]
        lines += [line.format(*annotations) if "{" in line and not line.lstrip().startswith('"""') else line for line in body]
        self.classes.append("".join(lines))
        self.runtime[proto] = "Method"
        return proto

    def method(self, attr: str, spec: Mapping[str, Any], annotations: list[str], where: str, hint: str | None = None) -> list[str]:
        """The stub lines of one method; its annotations are appended to ``annotations``
        and referenced as ``{i}`` (so shadowed names can be replaced afterwards).
        ``hint`` names the method's inline body and response classes (default: ``attr``)."""
        hint = attr if hint is None else hint

        def ann(text: str) -> str:
            annotations.append(text)
            return f"{{{len(annotations) - 1}}}"

        params = _section(spec, "parameters", where)
        in_path: set[str] = set()
        path = spec.get("path")
        if isinstance(path, str):
            try:
                in_path = set(PathTemplate(path).names)
            except DiscoveryError:
                pass
        order = [n for n in (spec.get("parameterOrder") or []) if isinstance(n, str) and n in params] if isinstance(spec.get("parameterOrder"), list) else []
        order += sorted((n for n in params if isinstance(n, str) and n not in order), key=str)
        spelled = dict(_accepted(params))
        by_wire = {id(s): kw for kw, s in spelled.items()}
        own_keys = set(params) | {python_name(n) for n in params if isinstance(n, str)}
        required: list[str] = []
        optional: list[str] = []
        docs: list[str] = []
        for wire in order:
            p = params[wire]
            if not isinstance(p, Mapping) or id(p) not in by_wire:
                continue
            kw = by_wire[id(p)]
            typ = ann(self.param_type(p))
            if p.get("required") is True or p.get("location") == "path" or wire in in_path:
                required.append(f"{kw}: {typ}")
            else:
                optional.append(f"{kw}: {typ} | None = None")
            desc = p.get("description")
            if isinstance(desc, str) and desc.strip():
                docs.append(f"{kw}: {_first_sentence(desc)}")
        extra: list[str] = []
        request = spec.get("request")
        if isinstance(request, Mapping):
            body = ann(self.type_of(request, f"{hint}Request"))
            extra += [f"json: {body} | None = None", "data: _bytes | _str | _Mapping[_str, _t.Any] | None = None"]
        if spec.get("supportsMediaUpload") is True:
            extra += [
                "upload_file: _str | _bytes | None = None",
                "pipe_from: _AsyncIterable[_bytes] | None = None",
                "upload_file_content_type: _str | None = None",
                "resumable: _bool | None = None",
            ]
        media = spec.get("supportsMediaUpload") is True or spec.get("supportsMediaDownload") is True
        if media:
            extra += ["chunk_size: _int | None = None", "progress: _Progress | None = None"]
        taken_kw = {p.split(":", 1)[0] for p in required + optional + extra}
        options = self.options_class(frozenset(k for k in self.option_fields if k in own_keys or k in taken_kw))
        response = spec.get("response")
        result = ann(self.type_of(response, f"{hint}Response") if isinstance(response, Mapping) else "None")
        me = "self" if "self" not in taken_kw else "_self"
        text = _text(spec.get("description")).strip()
        if docs:
            text += ("\n\n" if text else "") + "Parameters:\n" + "\n".join(f"    {d}" for d in docs)
        docstring = _doc(text, "        ")
        named = [*required, *optional, *extra]
        head = ", ".join([me, *(["*", *named] if named else []), f"**options: _te.Unpack[{options}]"])
        if spec.get("supportsMediaDownload") is not True:
            return [f"    def {attr}({head}) -> _Request[{result}]:\n", docstring or "", "        ...\n" if not docstring else ""]
        lines: list[str] = []
        for sink in ("download_file: _str", "pipe_to: _t.Any"):
            sig = ", ".join([me, "*", *named, sink, f"**options: _te.Unpack[{options}]"])
            lines += ["    @_t.overload\n", f"    def {attr}({sig}) -> _Request[None]:\n", docstring or "        ...\n"]
        lines += ["    @_t.overload\n", f"    def {attr}({head}) -> _Request[{result}]:\n", docstring or "        ...\n"]
        return lines

    # ------------------------------------------------------------------ output

    def generate(self) -> dict[str, str]:
        declared = self.doc.get("parameters")
        globals_: dict[str, Any] = {**(declared if isinstance(declared, Mapping) else {}), **_SYSTEM}
        self.option_fields: dict[str, tuple[str, Any]] = dict(_CALL_OPTION_TYPES)
        for kw, spec in _accepted(globals_):
            if isinstance(spec, Mapping) and kw not in self.option_fields:
                self.option_fields[kw] = (self.param_type(spec), spec.get("description"))
        self.option_variants: dict[frozenset[str], str] = {frozenset(): "_Options"}
        self.option_blocks: list[str] = []
        self.classes: list[str] = []
        for name, spec in self.schemas.items():
            if isinstance(name, str):
                self.schema(name, spec)
        title = _text(self.doc.get("title")) or _text(self.doc.get("name"))
        api_doc = f"{title} {_text(self.doc.get('version'))}".strip() + "."
        if _text(self.doc.get("description")):
            api_doc += "\n\n" + _text(self.doc.get("description"))
        self.node(self.doc, self.api_class, "", _TAKEN_ON_API, "_ApiBase", api_doc)
        api_id = f"{_text(self.doc.get('name'))}:{_text(self.doc.get('version'))}"
        header = _doc(
            f"Typed calls for {title} {_text(self.doc.get('version'))} ({api_id}, revision "
            f"{_text(self.doc.get('revision')) or 'unknown'}), generated by aiogoogle {__version__} "
            f"(aiogoogle stubs). Do not edit.\n\n"
            f"Use: ``api = await aiogoogle.discover({_text(self.doc.get('name'))!r}, "
            f"{_text(self.doc.get('version'))!r}, typed={self.api_class})``.\n",
            "",
        ) + "\n"
        option_doc = ["class _Options(_t.TypedDict, total=False):\n",
                      '    """Call options and the parameters every method of this API takes."""\n']
        for key, (typ, desc) in self.option_fields.items():
            option_doc += [f"    {key}: {typ}\n", _doc(desc, "    ")]
        public = [self.api_class, *sorted(n for n in self.runtime if n != self.api_class)]
        body = "".join([
            _BASES,
            "\n__all__ = [\n", *(f"    {n!r},\n" for n in public), "]\n\n",
            "".join(option_doc), "\n",
            *(b + "\n" for b in self.option_blocks),
            *(b + "\n" for b in self.blocks),
            *(f"{alias}: _te.TypeAlias = {name}\n" for name, alias in sorted(self.aliases.items())),
            "\n" if self.aliases else "",
            *(c + "\n" for c in self.classes),
        ])
        pyi = header + _prelude(body) + body
        kinds = {"Method", "Resource"} & {self.runtime[n] for n in public[1:]}
        py = "".join([
            header,
            "from aiogoogle.resource import GoogleAPI as _GoogleAPI\n",
            *(f"from aiogoogle.resource import {kind} as _{kind}\n" for kind in ("Method", "Resource") if kind in kinds),
            "\n",
            f"__all__ = [{self.api_class!r}]\n\n\n",
            f"class {self.api_class}(_GoogleAPI):\n",
            _doc(api_doc, "    "),
            "    __slots__ = ()\n",
            f"    __discovery_id__ = {api_id!r}\n\n\n",
            "# Every other name of the stub, for imports outside TYPE_CHECKING: a schema is a\n",
            "# dict at run time, a resource class a Resource, a method's Protocol a Method.\n",
            "_RUNTIME = {\n",
            *(f"    {n!r}: {'_' if self.runtime[n] in kinds else ''}{self.runtime[n]},\n" for n in public[1:]),
            "}\n\n\n",
            "def __getattr__(name: str) -> object:\n",
            "    try:\n",
            "        return _RUNTIME[name]\n",
            "    except KeyError:\n",
            '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None\n',
        ])
        return {f"{self.module}.py": py, f"{self.module}.pyi": pyi}


_SYSTEM: dict[str, Any] = {name: {"type": "string", "location": "query"} for name in ("trace", "pp", "strict")}

_CALL_OPTION_TYPES: dict[str, tuple[str, str]] = {
    "validate": ("_bool", "Check parameters and body against the document (default: the API's)."),
    "timeout": ("_float | _Timeout", "Total seconds for this call, or an aiogoogle.Timeout."),
    "retry": ("_RetryPolicy | _bool", "An aiogoogle.RetryPolicy for this call, or False for no retries."),
    "path_params_safe_chars": ("_Mapping[_str, _str]", "Per path parameter, characters to leave unencoded."),
}

# The typed classes are the runtime classes (a typed API passes where a GoogleAPI is
# annotated, a typed resource where a Resource is) less their __getattr__: a type checker
# types an attribute the class does not declare by __getattr__'s result (Any here), so a
# misspelled resource or method would pass. Declared as a non-callable attribute, it is
# not consulted (mypy looks up __getattr__ only as a method; pyright reports the unknown
# attribute), and a misspelling is an error in both. Pyright checks the redeclaration
# against the base method, hence its rule-specific ignore.
_BASES = '''
class _ApiBase(_GoogleAPI):
    __getattr__: _t.Never  # pyright: ignore[reportIncompatibleMethodOverride]

class _ResourceBase(_Resource):
    __getattr__: _t.Never  # pyright: ignore[reportIncompatibleMethodOverride]
'''


# A string literal in a type expression (Literal values): its words are not names.
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NAME = re.compile(r"(?<![\w.])[A-Za-z]\w*")  # not an attribute (_t.Literal)


def _type_names(expr: str) -> set[str]:
    """The names a type expression refers to (not the words of its string literals)."""
    return set(_NAME.findall(_STRING.sub("''", expr)))


def _rename(expr: str, names: Mapping[str, str]) -> str:
    """``expr`` with the names in ``names`` replaced, string literals untouched."""
    out, pos = [], 0
    for m in _STRING.finditer(expr):
        out.append(_NAME.sub(lambda n: names.get(n.group(0), n.group(0)), expr[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_NAME.sub(lambda n: names.get(n.group(0), n.group(0)), expr[pos:]))
    return "".join(out)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def _first_sentence(text: str, limit: int = 240) -> str:
    """A parameter's description in a method's docstring: its first sentence, on one
    line (the same long text recurs on hundreds of methods: compute's ``requestId``)."""
    flat = " ".join(text.split())
    m = _SENTENCE_END.search(flat)
    if m is not None:
        flat = flat[: m.start()]
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def _section(specs: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = specs.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DiscoveryError(f"{where + '.' if where else ''}{key}: must be an object, got {type(value).__name__} {brief(value)}")
    return value


def _attr(name: Any) -> str | None:
    """The attribute a resource or method is reached by, or ``None``."""
    if not isinstance(name, str):
        return None
    if _ident(name):
        return name
    alias = python_name(name)
    return alias if _ident(alias) else None


def generate_stubs(document: Mapping[str, Any]) -> dict[str, str]:
    """The typed stubs of a discovery document: ``{"<module>.py": ..., "<module>.pyi": ...}``.

    The module is :func:`module_name` (``drive_v3``), its API class :func:`api_class_name`
    (``DriveV3``); see the module docstring for what is typed and how. Pure: nothing is
    read or written (``aiogoogle stubs`` writes the files).

    Raises:
        DiscoveryError: the document is not one (no name or version, a ``schemas``,
            ``resources``, ``methods`` or ``parameters`` that is not an object).
    """
    return _Generator(document).generate()


def _accepted(params: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(keyword, spec)`` for each parameter of ``params`` a call reaches by keyword,
    spelled as the stub declares it: the name itself when the stub can spell it, else its
    alias, as :mod:`aiogoogle.resource` resolves them (exact names win over aliases, and an
    alias two names share is the later one's)."""
    exact = {name: spec for name, spec in params.items() if isinstance(name, str)}
    aliases: dict[str, str] = {}
    for name in exact:
        alias = python_name(name)
        if alias != name and alias not in exact:
            aliases[alias] = name
    for name, spec in exact.items():
        if _ident(name) and name not in CALL_OPTIONS:
            yield name, spec
            continue
        alias = python_name(name)
        if aliases.get(alias) == name and _ident(alias):
            yield alias, spec
