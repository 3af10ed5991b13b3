"""The problem-collecting checks: every problem of a value, with its path and a message.

Each schema node is *compiled once* into a small closure from its :class:`~aiogoogle._schema_rules.Rule`
(never from the node's keywords: see :mod:`aiogoogle._schema_rules`), and the closures are
cached: scalar checks by their constraints, named schemas by name. ``$ref`` compiles lazily,
when a value first reaches it, so recursive schemas and huge documents cost nothing up front.

Checks never stop at the first problem: every problem is appended to a list with its path
into the arguments (``json.disks[0].initializeParams.diskSizeGb``), and the caller raises
one :class:`~aiogoogle.excs.ValidationError` listing them all. Paths are passed down as
cheap ``(parent, key)`` pairs and only rendered to text when a problem is found.

:meth:`SchemaCompiler.checker` puts the predicates of :mod:`aiogoogle._schema_fast` in front
of these checks, so valid bodies never pay for paths and messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from . import _schema_rules as rules
from ._schema_fast import GENERATE_AFTER, Predicate, _FastPath, _interp
from ._schema_rules import (
    ANY_JSON,
    ARRAY,
    BOOLEAN,
    FREE,
    MAP,
    OBJECT,
    REF,
    SCALAR,
    SHAPES,
    STRING,
    Rule,
)
from ._schema_values import (
    CLEARED_WITH_SCALARS,
    MAX_DEPTH,
    Path,
    Problems,
    ScalarCheck,
    _check_json,
    _type_name,
    brief,
    json_path,
    render_path,
    safe_value,
    scalar_check,
)
from .excs import DiscoveryError, ValidationError

_TOO_DEEP = f"nested more than {MAX_DEPTH} objects and arrays deep (Google's JSON parser refuses deeper bodies)"


class Check(Protocol):
    """A compiled schema check: appends ``(path, message, value)`` for every problem.

    ``depth`` is the number of objects and arrays around ``value`` (0 at the root)."""

    def __call__(self, value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0, /) -> None: ...


def _shape_check(kind: int) -> Check:
    exact, accepts, expected = SHAPES[kind]

    def check(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
        if type(value) is not exact and not isinstance(value, accepts):
            problems.append((render_path(path), f"expected {expected}, got {_type_name(value)}", value))

    return check


_check_plain_string = _shape_check(STRING)
_check_plain_bool = _shape_check(BOOLEAN)

# Containers call scalar checks directly (one call per value instead of two) and test plain
# strings and booleans inline: bodies are mostly scalars, so this is where validation time
# goes. An entry is (how, what): a plain string or boolean, a scalar check, or a node check.
_PLAIN_STRING, _SCALAR, _NODE, _PLAIN_BOOL = 0, 1, 2, 3
_NODE_OF_SCALAR: dict[ScalarCheck, Check] = {}
CLEARED_WITH_SCALARS.append(_NODE_OF_SCALAR)


def _scalar_node(check: ScalarCheck) -> Check:
    # Shared like the scalar checks themselves: thousands of properties have the same one.
    cached = _NODE_OF_SCALAR.get(check)
    if cached is not None:
        return cached

    def node(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
        msg = check(value)
        if msg is not None:
            problems.append((render_path(path), msg, value))

    _NODE_OF_SCALAR[check] = node
    return node


class SchemaCompiler:
    """Compiles the schemas of one discovery document into checks, lazily and once.

    ``compile_ref(name)`` returns the check for the named schema; ``compile(node)`` for an
    inline schema node. Checks take ``(value, path, problems, method_id)``; ``method_id``
    lets ``annotations.required`` (required only for some methods) apply.

    Every schema is checked (:func:`~aiogoogle._schema_rules.check_tree`) before it is
    first used, by any tier; ``where`` arguments name a node's JSON path in the document
    for those messages.

    Raises:
        DiscoveryError: ``schemas`` is neither an object nor ``None``.
    """

    __slots__ = ("_by_node", "_fast", "_refs", "_roots", "_schemas", "_targets")

    def __init__(self, schemas: Mapping[str, Any] | None) -> None:
        if schemas is None:
            schemas = {}
        elif not isinstance(schemas, Mapping):
            raise DiscoveryError(f"schemas: must be an object mapping schema names to schemas, got {_type_name(schemas)} {brief(schemas)}")
        self._schemas = schemas
        self._refs: dict[str, Check] = {}
        self._by_node: dict[int, tuple[Any, Check]] = {}
        self._fast: _FastPath | None = None
        self._targets: dict[str, tuple[str, Mapping[str, Any]]] = {}
        self._roots: dict[int, Any] = {}

    def resolve(self, name: str) -> Mapping[str, Any]:
        """The schema ``$ref: name`` stands for (checked; a chain of plain ``$ref`` s is
        followed to its end)."""
        return self._resolve(name)[1]

    def _resolve(self, name: str) -> tuple[str, Mapping[str, Any]]:
        found = self._targets.get(name)
        if found is not None:
            return found
        current, schema, chain = rules.follow_refs(self._schemas, name)
        rules.check_tree(schema, json_path("schemas", current), 0, self._schemas)
        found = (current, schema)
        for alias in chain:
            self._targets[alias] = found
        return found

    def _checked_root(self, node: Any, where: str) -> None:
        """Check an inline root schema (a method's ``request``) once."""
        if rules.ref_target(node, self._schemas) is not None:
            return  # {"$ref": name}, nearly every request: nothing to remember
        if id(node) not in self._roots or self._roots[id(node)] is not node:
            rules.check_tree(node, where, 0, self._schemas)
            self._roots[id(node)] = node  # kept, so the id stays this node's

    def compile_fast(self, node: Mapping[str, Any], where: str = "schema") -> Predicate:
        """A predicate ``(value, method_id) -> bool`` that is True only when ``compile(node)``
        would report no problem (False means "run the full check"; see the fast-path notes)."""
        self._checked_root(node, where)
        fast = self._fast
        if fast is None:
            fast = self._fast = _FastPath(self.resolve)
        return fast.node(node)

    def checker(self, node: Mapping[str, Any], where: str = "schema") -> Check:
        """The check for ``node``: a predicate first (interpreted for the first
        :data:`~aiogoogle.validate.GENERATE_AFTER` uses, then generated), the full check
        (compiled on first need) only when the predicate is not sure. Same problems as
        ``compile(node)``.

        Raises:
            DiscoveryError: ``node`` (at JSON path ``where``) is malformed.
        """
        self._checked_root(node, where)
        return _TieredCheck(self, node)

    def compile_ref(self, name: str) -> Check:
        """The full check of the schema called ``name``."""
        try:
            return self._refs[name]
        except KeyError:
            pass
        final, schema = self._resolve(name)
        check = self._refs.get(final)
        if check is None:
            # Register a forwarding stub first so that recursive references resolve.
            slot: list[Check] = []

            def forward(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
                slot[0](value, path, problems, method_id, depth)

            self._refs[final] = forward
            try:
                check = self._compile(rules.rule_of(schema))
            except BaseException:
                del self._refs[final]
                raise
            slot.append(check)
            self._refs[final] = check
        self._refs[name] = check
        return check

    def _lazy_ref(self, name: str) -> Check:
        refs = self._refs

        def lazy(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            check = refs.get(name)
            if check is None:
                check = self.compile_ref(name)
            check(value, path, problems, method_id, depth)

        return lazy

    def compile(self, node: Mapping[str, Any], where: str = "schema") -> Check:
        """The full check for the schema ``node`` (``where``: its JSON path, for messages
        about the document)."""
        self._checked_root(node, where)
        return self._compile_node(node)

    def _compile_node(self, node: Mapping[str, Any]) -> Check:
        cached = self._by_node.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        rule = rules.rule_of(node)
        check = self._compile(rule)
        if rule.kind in (OBJECT, MAP, FREE, ARRAY):
            # Only containers get closures of their own; scalars share cached checks and
            # $ref nodes are cached by name, so remembering them would only cost memory.
            self._by_node[id(node)] = (node, check)
        return check

    def _entry(self, node: Mapping[str, Any]) -> tuple[int, Any]:
        """How a container checks a value of ``node``: see _PLAIN_STRING above."""
        rule = rules.rule_of(node)
        kind = rule.kind
        if kind == STRING:
            return _PLAIN_STRING, None
        if kind == BOOLEAN:
            return _PLAIN_BOOL, None
        if kind == SCALAR:
            return _SCALAR, rule.check
        return _NODE, self._compile_node(node)

    def _extra_entry(self, extra: Any) -> tuple[int, Any] | None:
        if extra is None:
            return None
        if extra is ANY_JSON:
            return _NODE, _check_json
        return self._entry(extra)

    def _compile(self, rule: Rule) -> Check:
        kind = rule.kind
        if kind == REF:
            # Compiled when a value first reaches it (recursive and unused schemas cost
            # nothing); a cycle through a schema being compiled resolves through the
            # forwarding stub compile_ref registers before compiling.
            assert rule.ref is not None
            compiled = self._refs.get(rule.ref)
            return compiled if compiled is not None else self._lazy_ref(rule.ref)
        if kind == OBJECT:
            return self._compile_object(rule)
        if kind == MAP:
            return self._compile_map(rule)
        if kind == FREE:
            return self._compile_free()
        if kind == ARRAY:
            return self._compile_array(rule)
        if kind == STRING:
            return _check_plain_string
        if kind == BOOLEAN:
            return _check_plain_bool
        if kind == SCALAR:
            assert rule.check is not None
            return _scalar_node(rule.check)
        return _check_json

    def _compile_array(self, rule: Rule) -> Check:
        exact, accepts, expected = SHAPES[ARRAY]
        s_exact, s_accepts, s_expected = SHAPES[STRING]
        fn: Any
        kind, fn = self._entry(rule.items) if rule.items is not None else (_NODE, _check_json)
        if rule.item_pattern is not None:
            extra = scalar_check("string", pattern=rule.item_pattern)
            inner = self._compile_node(rule.items) if rule.items is not None else _check_json

            def item_check(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
                inner(value, path, problems, method_id, depth)
                if extra is not None and isinstance(value, str):
                    msg = extra(value)
                    if msg:
                        problems.append((render_path(path), msg, value))

            kind, fn = _NODE, item_check

        def check_array(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            if type(value) is not exact and not isinstance(value, accepts):
                problems.append((render_path(path), f"expected {expected}, got {_type_name(value)}", value))
                return
            if depth >= MAX_DEPTH:
                problems.append((render_path(path), _TOO_DEEP, value))
                return
            if kind == _PLAIN_STRING:
                for i, item in enumerate(value):
                    if type(item) is not s_exact and item is not None and not isinstance(item, s_accepts):
                        problems.append((render_path((path, i)), f"expected {s_expected}, got {_type_name(item)}", item))
            elif kind == _SCALAR:
                for i, item in enumerate(value):
                    if item is not None:
                        msg = fn(item)
                        if msg is not None:
                            problems.append((render_path((path, i)), msg, item))
            elif kind == _PLAIN_BOOL:
                for i, item in enumerate(value):
                    if item is not None:
                        _check_plain_bool(item, (path, i), problems, method_id)
            else:
                inner_depth = depth + 1
                for i, item in enumerate(value):
                    if item is not None:
                        fn(item, (path, i), problems, method_id, inner_depth)

        return check_array

    def _compile_free(self) -> Check:
        exact, accepts, expected = SHAPES[OBJECT]

        # A free-form object (no properties declared): any JSON object.
        def check_free(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            if type(value) is not exact and not isinstance(value, accepts):
                problems.append((render_path(path), f"expected {expected}, got {_type_name(value)}", value))
                return
            _check_json(value, path, problems, method_id, depth)

        return check_free

    def _compile_map(self, rule: Rule) -> Check:
        exact, accepts, expected = SHAPES[OBJECT]
        s_exact, s_accepts, s_expected = SHAPES[STRING]
        entry = self._extra_entry(rule.extra)
        assert entry is not None
        kind, fn = entry

        def check_map(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            if type(value) is not exact and not isinstance(value, accepts):
                problems.append((render_path(path), f"expected {expected}, got {_type_name(value)}", value))
                return
            if depth >= MAX_DEPTH:
                problems.append((render_path(path), _TOO_DEEP, value))
                return
            inner_depth = depth + 1
            for k, v in value.items():
                if type(k) is not str and not isinstance(k, str):
                    problems.append((render_path(path), f"object keys must be strings, got {_type_name(k)}", k))
                elif v is None:
                    continue
                elif kind == _PLAIN_STRING:
                    # map<string, string> (labels, metadata): the common case, inline.
                    if type(v) is not s_exact and not isinstance(v, s_accepts):
                        problems.append((render_path((path, k)), f"expected {s_expected}, got {_type_name(v)}", v))
                elif kind == _SCALAR:
                    msg = fn(v)
                    if msg is not None:
                        problems.append((render_path((path, k)), msg, v))
                elif kind == _PLAIN_BOOL:
                    _check_plain_bool(v, (path, k), problems, method_id)
                else:
                    fn(v, (path, k), problems, method_id, inner_depth)

        return check_map

    def _compile_object(self, rule: Rule) -> Check:
        exact, accepts, expected = SHAPES[OBJECT]
        s_exact, s_accepts, s_expected = SHAPES[STRING]
        b_expected = SHAPES[BOOLEAN].expected
        assert rule.fields is not None
        extra = self._extra_entry(rule.extra)
        compiled = {name: self._entry(sub) for name, sub in rule.fields.items()}
        known = ", ".join(n if len(n) <= 40 else n[:37] + "..." for n in list(compiled)[:10]) + (", ..." if len(compiled) > 10 else "")
        schema_id = rule.name
        where = f" of {schema_id if isinstance(schema_id, str) and len(schema_id) <= 80 else brief(schema_id)}" if schema_id else ""
        get = compiled.get
        required = rule.required

        def check_object(value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
            if type(value) is not exact and not isinstance(value, accepts):
                problems.append((render_path(path), f"expected {expected}, got {_type_name(value)}", value))
                return
            if depth >= MAX_DEPTH:
                problems.append((render_path(path), _TOO_DEEP, value))
                return
            inner_depth = depth + 1
            for k, v in value.items():
                entry = get(k)
                if entry is None:
                    if extra is None:
                        problems.append(
                            (render_path((path, k)) if isinstance(k, str) else render_path(path),
                             f"unknown field{where} (known: {known}; validate=False sends it anyway)", v)
                        )
                        continue
                    if type(k) is not str and not isinstance(k, str):
                        problems.append((render_path(path), f"object keys must be strings, got {_type_name(k)}", k))
                        continue
                    entry = extra
                if v is not None:
                    kind, fn = entry
                    if kind == _PLAIN_STRING:
                        if type(v) is not s_exact and not isinstance(v, s_accepts):
                            problems.append((render_path((path, k)), f"expected {s_expected}, got {_type_name(v)}", v))
                    elif kind == _SCALAR:
                        msg = fn(v)
                        if msg is not None:
                            problems.append((render_path((path, k)), msg, v))
                    elif kind == _PLAIN_BOOL:
                        if v is not True and v is not False:
                            problems.append((render_path((path, k)), f"expected {b_expected}, got {_type_name(v)}", v))
                    else:
                        fn(v, (path, k), problems, method_id, inner_depth)
            if required:
                for name, methods in required:
                    if method_id in methods and value.get(name) is None:
                        problems.append((render_path((path, name)), f"required by {method_id}", None))

        return check_object


class _TieredCheck:
    """:meth:`SchemaCompiler.checker`'s check (an object rather than a closure: one per
    method with a body, so its size matters)."""

    __slots__ = ("compiler", "node", "predicate", "uses")

    def __init__(self, compiler: SchemaCompiler, node: Mapping[str, Any]) -> None:
        self.compiler = compiler
        self.node = node  # checked by SchemaCompiler.checker
        self.predicate: Predicate | None = None
        self.uses = 0

    def __call__(self, value: Any, path: Path, problems: Problems, method_id: str, depth: int = 0) -> None:
        predicate = self.predicate
        compiler = self.compiler
        if predicate is not None:
            if predicate(value, method_id, depth):
                return
        elif self.uses < GENERATE_AFTER:
            # Generating a predicate costs as much as a few dozen interpreted checks, and
            # most methods of a document are called rarely or never.
            self.uses += 1
            if _interp(self.node, value, method_id, compiler.resolve, depth):
                return
        else:
            predicate = self.predicate = compiler.compile_fast(self.node)
            if predicate(value, method_id, depth):
                return
        # Not certainly valid: the full check finds and describes the problems (if any).
        compiler.compile(self.node)(value, path, problems, method_id, depth)


def _interpret(node: Any, value: Any, mid: str, schemas: Mapping[str, Any] | None, depth: int = 0) -> bool:
    """The predicates' answer for ``node`` (a schema of the document whose ``schemas`` are
    given), computed by walking it; raises DiscoveryError for a malformed document, as the
    full check does."""
    compiler = SchemaCompiler(schemas)
    compiler._checked_root(node, "schema")
    return _interp(node, value, mid, compiler.resolve, depth)


def validate(instance: Any, schema: Mapping[str, Any], schemas: Mapping[str, Any] | None = None, schema_name: str | None = None) -> None:
    """Validate ``instance`` against a discovery ``schema`` (seed API).

    ``schemas`` resolves ``$ref``; ``schema_name`` names the root in messages. Raises
    :class:`~aiogoogle.excs.ValidationError` listing every problem, or returns ``None``;
    :class:`~aiogoogle.excs.DiscoveryError` when ``schema`` or ``schemas`` is malformed.
    """
    compiler = SchemaCompiler(schemas)
    problems: Problems = []
    compiler.checker(schema)(instance, schema_name or "instance", problems, "")
    if problems:
        raise ValidationError([(path, message, safe_value(value)) for path, message, value in problems])
