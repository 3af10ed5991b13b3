"""The fast path: "certainly valid?" predicates, interpreted or generated as Python source.

Most bodies are valid, and for a valid body the problem-collecting checks
(:mod:`aiogoogle._schema_checks`) spend their time walking paths and dispatching through
closures only to find nothing. So each schema also gets a *predicate*
``(value, method_id) -> bool`` that answers "certainly valid?" without paths or a problem
list: Python source generated per named schema, with its property checks inlined (plain
strings and booleans by one dict lookup on the value's exact type, other properties by a
branch number; enums and patterns by set membership and a compiled regex, common int and
int64 values by an inline test, inline objects and arrays as nested loops), compiled once
and cached per schema.

The rule that keeps validation exactly as strict: a predicate returns True only when the
full checks would report no problem; anything it is not sure about (a tuple, a Mapping
that is not a dict, a str subclass, a bad value) returns False, and the full checks then
run, unchanged, to find and describe the problems. So messages, paths and their order
never depend on the fast path, and an invalid body costs one extra quick pass. Both read
the same :class:`~aiogoogle._schema_rules.Rule` of each node, never its keywords.
tests/test_fast_paths.py checks the predicates against the full checks on real documents.

``$ref`` targets are generated lazily, the first time a value reaches them, so recursive
schemas terminate and unused ones cost nothing. A schema is interpreted (same answers,
nothing generated) until it has been checked :data:`GENERATE_AFTER` times, so rarely used
methods cost no generated code at all. Measured with benchmarks/bench_build.py: compute's
``instances.insert`` with a realistic body builds in about 18 us with the generated
predicate against about 60 us through the full checks alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from . import _schema_rules as rules
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
    sure_test,
)
from ._schema_values import (
    _MAX_INT_BITS,
    MAX_DEPTH,
    _json_ok,
    _pattern_matcher,
    brief,
    scalar_check,
)
from .excs import DiscoveryError


class Predicate(Protocol):
    """``(value, method_id, depth=0) -> bool``: True only when the full check would find
    no problem in ``value``, which ``depth`` objects and arrays enclose."""

    def __call__(self, value: Any, method_id: str, depth: int = 0, /) -> bool: ...


#: A schema checked this many times by :meth:`~aiogoogle.validate.SchemaCompiler.checker`
#: gets its predicate generated; before that the schema is interpreted (same answers,
#: nothing kept in memory).
GENERATE_AFTER = 8


class _Unsupported(Exception):
    """A schema the generator does not handle: the predicate always defers to the checks."""


def _never(value: Any, method_id: str, depth: int = 0) -> bool:
    return False


_OBJECT_KINDS = (OBJECT, MAP, FREE)


def _interp(node: Mapping[str, Any], value: Any, mid: str, resolve: Callable[[str], Mapping[str, Any]], depth: int) -> bool:
    """The predicate of a checked schema, computed by walking its rules (nothing compiled,
    nothing kept): used until a schema is checked often enough to be worth generating.
    ``resolve`` gives (and checks) the target of a ``$ref``."""
    rule = rules.rule_of(node)
    kind = rule.kind
    if kind == REF:
        assert rule.ref is not None
        return _interp(resolve(rule.ref), value, mid, resolve, depth)
    if kind in _OBJECT_KINDS:
        if type(value) is not SHAPES[OBJECT].exact or depth >= MAX_DEPTH:
            return False
        if kind == FREE:
            return _json_ok(value, depth)
        inner = depth + 1
        fields = rule.fields or {}
        extra = rule.extra
        for k, x in value.items():
            sub = fields.get(k)
            if sub is None:
                if extra is None or k in fields or type(k) is not str:
                    return False
                if x is not None and not (_json_ok(x, inner) if extra is ANY_JSON else _interp(extra, x, mid, resolve, inner)):
                    return False
            elif x is not None and not _interp(sub, x, mid, resolve, inner):
                return False
        for name, methods in rule.required:
            if mid in methods and value.get(name) is None:
                return False
        return True
    if kind == ARRAY:
        if type(value) is not SHAPES[ARRAY].exact or depth >= MAX_DEPTH:
            return False
        inner = depth + 1
        items = rule.items
        own = scalar_check("string", pattern=rule.item_pattern) if rule.item_pattern is not None else None
        for y in value:
            if y is None:
                continue
            if not (_interp(items, y, mid, resolve, inner) if items is not None else _json_ok(y, inner)):
                return False
            if own is not None and isinstance(y, str) and own(y) is not None:
                return False
        return True
    if kind in (STRING, BOOLEAN):
        return type(value) is SHAPES[kind].exact
    if kind == SCALAR:
        assert rule.check is not None
        return rule.check(value) is None
    return _json_ok(value, depth)


# Python refuses a function with more than 20 nested blocks (each inline object or array is
# a for loop) or 100 levels of indentation: an inline schema deeper than _INLINE_DEPTH
# containers, or starting past _INLINE_INDENT levels of indentation, gets a predicate of
# its own, called like a $ref.
_INLINE_DEPTH = 8
_INLINE_INDENT = 40


class _Generator:
    """Writes the source of one schema's predicate from its rules (see the module notes).

    In the source, ``d`` is the number of objects and arrays around ``v``; a value at static
    nesting ``depth`` below ``v`` has ``d + depth`` around it. The function starts with
    ``if d > limit: return False`` so that no container it walks inline is deeper than
    :data:`MAX_DEPTH` (``deepest`` is the static depth of the deepest one); calls it makes
    (``$ref`` targets, :func:`_json_ok`, split-off inline schemas) get their own depth."""

    def __init__(self, fast: _FastPath) -> None:
        self.fast = fast
        self.lines: list[str] = []
        self.deepest = 0

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    @staticmethod
    def at(depth: int) -> str:
        return f"d + {depth}" if depth else "d"

    def exact(self, kind: int) -> str:
        """The name of the exact type of a :data:`SHAPES` kind in the source."""
        exact = SHAPES[kind].exact
        return self.fast.const(exact, ("exact", exact))

    def value(self, node: Any, var: str, indent: int, depth: int) -> None:
        """Statements that ``return False`` unless ``var`` (not None) certainly passes ``node``."""
        fast = self.fast
        if not isinstance(node, Mapping):
            raise _Unsupported
        rule = rules.rule_of(node)
        kind = rule.kind
        if kind == REF:
            # A call to the named schema's own predicate, generated when first reached.
            # (Inlining it here measured ~4% faster on compute's Instance but generated
            # code for every nested schema, used or not: 40% more memory once hot.)
            assert rule.ref is not None
            self.emit(indent, f"if not {fast.ref_slot(rule.ref)}({var}, mid, {self.at(depth)}): return False")
            return
        if (kind in _OBJECT_KINDS or kind == ARRAY) and depth and (depth >= _INLINE_DEPTH or indent >= _INLINE_INDENT):
            self.emit(indent, f"if not {fast.node_slot(node)}({var}, mid, {self.at(depth)}): return False")
            return
        if kind in _OBJECT_KINDS:
            self.object(rule, var, indent, depth)
        elif kind == ARRAY:
            self.array(rule, var, indent, depth)
        elif kind in (STRING, BOOLEAN):
            self.emit(indent, f"if type({var}) is not {self.exact(kind)}: return False")
        elif kind == SCALAR:
            assert rule.check is not None
            check = fast.const(rule.check)
            sure = self.sure(rule.sure, var) if rule.sure is not None else None
            # The check itself, behind the rule's inline test for the common valid values
            # (the test implies the check would pass; anything else asks the check).
            if sure is not None:
                self.emit(indent, f"if not ({sure}) and {check}({var}) is not None: return False")
            else:
                self.emit(indent, f"if {check}({var}) is not None: return False")
        else:
            self.emit(indent, f"if not _json_ok({var}, {self.at(depth)}): return False")

    def sure(self, sure: tuple[Any, ...], var: str) -> str:
        """``Rule.sure`` as a Python expression over ``var`` (see :func:`~aiogoogle._schema_rules.sure_test`)."""
        fast = self.fast
        if sure[0] == "str":
            conds = [f"type({var}) is {self.exact(STRING)}"]
            if sure[1] is not None:
                conds.append(f"{var} in {fast.const(sure[1])}")
            if sure[2] is not None:
                conds.append(f"{self.matcher(sure[2])}({var})")
            return " and ".join(conds)
        if sure[0] == "int":
            lo, hi = sure[1], sure[2]
            if lo == 1 - (1 << _MAX_INT_BITS) and hi == (1 << _MAX_INT_BITS) - 1:
                # Unbounded: as far as an int can be written as JSON text.
                return f"type({var}) is int and {var}.bit_length() <= {_MAX_INT_BITS}"
            shown = [repr(b) if type(b) is int and b.bit_length() <= 64 else fast.const(b, ("bound", type(b), b)) for b in (lo, hi)]
            return f"type({var}) is int and {shown[0]} <= {var} <= {shown[1]}"
        if sure[0] == "digits":
            return f"type({var}) is {self.exact(STRING)} and len({var}) < 19 and {var}.isdigit() and {var}.isascii()"
        raise _Unsupported

    def matcher(self, pattern: str) -> str:
        matcher = _pattern_matcher(pattern)
        if isinstance(matcher, str):
            raise _Unsupported  # never reached: the document check refused the pattern
        return self.fast.const(matcher, ("fullmatch", pattern))

    def array(self, rule: Rule, var: str, indent: int, depth: int) -> None:
        self.deepest = max(self.deepest, depth)
        item = f"y{depth}"
        self.emit(indent, f"if type({var}) is not {self.exact(ARRAY)}: return False")
        self.emit(indent, f"for {item} in {var}:")
        self.emit(indent + 1, f"if {item} is None: continue")
        if rule.items is not None:
            self.value(rule.items, item, indent + 1, depth + 1)
        else:
            self.emit(indent + 1, f"if not _json_ok({item}, {self.at(depth + 1)}): return False")
        if rule.item_pattern is not None:
            # The full check applies scalar_check("string", pattern=...) to str items: for a
            # str that is exactly "matches the whole pattern".
            self.emit(indent + 1, f"if isinstance({item}, str) and not {self.matcher(rule.item_pattern)}({item}): return False")

    def object(self, rule: Rule, var: str, indent: int, depth: int) -> None:
        """Statements that ``return False`` unless ``var`` certainly passes an object rule."""
        self.deepest = max(self.deepest, depth)
        fast = self.fast
        k, x, c = f"k{depth}", f"x{depth}", f"c{depth}"
        self.emit(indent, f"if type({var}) is not {self.exact(OBJECT)}: return False")
        if rule.kind == FREE:
            self.emit(indent, f"if not _json_ok({var}, {self.at(depth)}): return False")
            return
        if rule.kind == MAP:
            self.emit(indent, f"for {k}, {x} in {var}.items():")
            self.emit(indent + 1, f"if type({k}) is not str: return False")
            self.emit(indent + 1, f"if {x} is None: continue")
            self.extra(rule.extra, x, indent + 1, depth + 1)
            return
        # One table per object: a plain string or boolean field maps to its exact type
        # (checked by identity), any other field to the number of its branch below.
        assert rule.fields is not None
        table: dict[str, Any] = {}
        complex_: list[Mapping[str, Any]] = []
        for name, sub in rule.fields.items():
            if not isinstance(sub, Mapping) or not isinstance(name, str):
                raise _Unsupported
            sub_kind = rules.rule_of(sub).kind
            if sub_kind in (STRING, BOOLEAN):
                table[name] = SHAPES[sub_kind].exact
            else:
                table[name] = len(complex_)
                complex_.append(sub)
        if rule.extra is None:
            # Unknown fields are problems even with a None value (Google rejects them).
            known = frozenset(rule.fields)
            self.emit(indent, f"if not {fast.const(known.issuperset, ('issuperset', known))}({var}): return False")
        self.emit(indent, f"for {k}, {x} in {var}.items():")
        body = indent + 1
        self.emit(body, f"{c} = {fast.const(table.get, ('get', id(table)))}({k})")
        self.emit(body, f"if {c} is type({x}): continue")
        self.emit(body, f"if {x} is None: continue")  # after the common case: None is rare
        if rule.extra is not None:
            self.emit(body, f"if {c} is None:")  # an unknown field
            self.emit(body + 1, f"if type({k}) is not str: return False")
            self.extra(rule.extra, x, body + 1, depth + 1)
            self.emit(body + 1, "continue")
        # Here c is a branch number, or the type of a plain field whose value is of another
        # type. Comparing a type with a number raises TypeError, which the predicate answers
        # with False, and the chains of == end in "else: return False".
        if complex_:
            self.tree(complex_, 0, len(complex_), c, x, body, depth)
        else:
            self.emit(body, "return False")
        for name, methods in rule.required:
            self.emit(indent, f"if mid in {fast.const(methods)} and {var}.get({fast.const(name, ('name', name))}) is None: return False")

    def extra(self, extra: Any, var: str, indent: int, depth: int) -> None:
        if extra is ANY_JSON:
            self.emit(indent, f"if not _json_ok({var}, {self.at(depth)}): return False")
        else:
            self.value(extra, var, indent, depth)

    def tree(self, props: list[Mapping[str, Any]], lo: int, hi: int, c: str, x: str, indent: int, depth: int) -> None:
        """Dispatch on the branch number ``c`` in [lo, hi) by halving, then inline checks."""
        if hi - lo <= 3:
            for i in range(lo, hi):
                self.emit(indent, f"{'if' if i == lo else 'elif'} {c} == {i}:")
                self.value(props[i], x, indent + 1, depth + 1)
            self.emit(indent, "else:")
            self.emit(indent + 1, "return False")
            return
        mid = (lo + hi) // 2
        self.emit(indent, f"if {c} < {mid}:")
        self.tree(props, lo, mid, c, x, indent + 1, depth)
        self.emit(indent, "else:")
        self.tree(props, mid, hi, c, x, indent + 1, depth)


class _FastPath:
    """The predicates of one :class:`~aiogoogle.validate.SchemaCompiler`, sharing one
    namespace. ``resolve`` gives (and checks) the schema a ``$ref`` names."""

    __slots__ = ("_consts", "_nodes", "_refs", "ns", "resolve")

    def __init__(self, resolve: Callable[[str], Mapping[str, Any]]) -> None:
        self.resolve = resolve
        self.ns: dict[str, Any] = {"_json_ok": _json_ok, "__builtins__": {"type": type, "len": len, "str": str, "int": int, "list": list, "dict": dict, "isinstance": isinstance, "TypeError": TypeError}}
        self._consts: dict[Any, str] = {}
        self._refs: dict[str, Predicate] = {}
        self._nodes: dict[int, tuple[Any, Predicate]] = {}

    def const(self, value: Any, key: Any = None) -> str:
        """A global name bound to ``value`` (equal frozensets, the same object, or the same
        ``key`` share a name)."""
        if key is None:
            key = (frozenset, value) if type(value) is frozenset else id(value)  # alive in ns: ids stay unique
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = f"K{len(self._consts)}"
            self.ns[name] = value
        return name

    def ref_slot(self, ref: str) -> str:
        """A global name that calls the predicate of schema ``ref``, generated on first use."""
        key = ("ref", ref)
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = f"R{len(self._consts)}"
            found = self._refs.get(ref)
            if found is None:
                ns = self.ns

                def lazy(value: Any, method_id: str, depth: int = 0) -> bool:
                    predicate = ns[name] = self.ref(ref)
                    return predicate(value, method_id, depth)

                found = lazy
            self.ns[name] = found
        return name

    def node_slot(self, node: Mapping[str, Any]) -> str:
        """A global name that calls the predicate of the inline schema ``node``, generated
        on first use (deep inline schemas are split into functions of their own)."""
        key = ("node", id(node))  # the closure below keeps node alive: its id stays unique
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = f"N{len(self._consts)}"
            ns = self.ns

            def lazy(value: Any, method_id: str, depth: int = 0) -> bool:
                predicate = ns[name] = self.node(node)
                return predicate(value, method_id, depth)

            ns[name] = lazy
        return name

    def ref(self, ref: str) -> Predicate:
        found = self._refs.get(ref)
        if found is None:
            try:
                schema = self.resolve(ref)
            except DiscoveryError:
                found = _never  # the full check raises it, with its path
            else:
                found = self.node(schema, ref)
            self._refs[ref] = found
        return found

    def node(self, node: Mapping[str, Any], ref: str | None = None) -> Predicate:
        """The predicate for a checked schema node (``ref``: the name it has); never raises
        for odd schemas (see _Unsupported)."""
        rule = rules.rule_of(node) if isinstance(node, Mapping) else None
        if rule is not None and rule.kind == REF:
            assert rule.ref is not None
            return self.ref(rule.ref)
        cached = self._nodes.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        try:
            gen = _Generator(self)
            gen.emit(1, "try:")
            gen.value(node, "v", 2, 0)
            gen.emit(1, "except TypeError:")  # see _Generator.object: never "valid" by accident
            gen.emit(2, "return False")
            gen.emit(1, "return True")
            # No container walked inline may be deeper than MAX_DEPTH (see _Generator).
            gen.lines.insert(0, f"    if d > {MAX_DEPTH - 1 - gen.deepest}: return False")
            label = ref or (rule.name if rule is not None and rule.name else "value")
            predicate = self._define(gen, label if isinstance(label, str) and len(label) <= 80 else brief(label))
        except (_Unsupported, DiscoveryError):
            predicate = _never
        self._nodes[id(node)] = (node, predicate)
        return predicate

    def _define(self, gen: _Generator, label: str) -> Predicate:
        name = f"P{len(self.ns)}"
        source = f"def {name}(v, mid, d=0):\n" + "\n".join(gen.lines) + "\n"
        exec(compile(source, f"<aiogoogle schema {label}>", "exec"), self.ns)
        predicate: Predicate = self.ns.pop(name)
        return predicate


__all__ = ["GENERATE_AFTER", "Predicate", "sure_test"]
