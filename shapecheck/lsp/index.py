"""Definitions and references of every name in a spec, from its IR.

A name inside a block or model resolves to the block's own definitions
(parameters, generic dimensions, assignments, ``input``/``param``, local
``let``s: the nearest one before the use, else the first), then to the global
ones of the file and of the files it ``use``s (``dim``, ``let``, blocks,
models). A call's name is a block (or model) or a built-in operation.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional

from .. import ir
from ..span import Span

#: kinds of definition
DIM, LET, BLOCK, MODEL, PARAM, INPUT, TENSOR, DIM_PARAM, GENERIC, USE, PASS = (
    "dim", "let", "block", "model", "param", "input", "tensor", "dim parameter", "generic dimension", "use",
    "pass index")
GLOBAL_KINDS = (DIM, LET, BLOCK, MODEL)


@dataclass(frozen=True, eq=False)
class Def:
    name: str
    kind: str
    span: Span                   # the name's own span
    container: Optional[str]     # the block or model it belongs to (None: global)
    node: object                 # the IR node that defines it

    @property
    def key(self) -> tuple:
        return (self.name, self.span)


@dataclass(frozen=True)
class Ref:
    name: str
    span: Span
    container: Optional[str]
    call: bool = False           # the name of a call (a block or an operation)
    keyword_of: Optional[str] = None   # a keyword argument's name: the callee


@dataclass(frozen=True)
class UseLink:
    span: Span                   # the quoted path
    target: str                  # the normalised path it names


@dataclass
class Index:
    path: str
    defs: list
    refs: list
    uses: list
    blocks: dict                 # name -> ir.Block (blocks and models of this file)

    def local_defs(self, container: str, name: str) -> list:
        return [d for d in self.defs if d.container == container and d.name == name]

    def global_defs(self, name: str) -> list:
        return [d for d in self.defs if d.container is None and d.name == name and d.kind in GLOBAL_KINDS]

    def at(self, line: int, col: int):
        """The reference, definition or `use` path at a 1-based position."""
        for coll in (self.refs, self.defs, self.uses):
            for x in coll:
                if _contains(x.span, line, col):
                    return x
        return None

    def block_at(self, line: int) -> Optional[ir.Block]:
        for b in self.blocks.values():
            if b.span.line <= line <= b.span.end_line:
                return b
        return None


def _contains(span: Span, line: int, col: int) -> bool:
    if not span.line <= line <= span.end_line:
        return False
    if line == span.line and col < span.col:
        return False
    return not (line == span.end_line and col > span.end_col)


def name_span(span: Span, name: str, source: str, after: int = 0) -> Span:
    """The span of identifier ``name`` at or after ``span``'s start (skipping
    ``after`` characters, e.g. a keyword), found in the source line."""
    lines = source.split("\n")
    if 1 <= span.line <= len(lines):
        m = re.compile(r"\b" + re.escape(name) + r"\b").search(lines[span.line - 1], span.col - 1 + after)
        if m:
            return Span(span.file, span.line, m.start() + 1, span.line, m.end() + 1)
    return Span(span.file, span.line, span.col, span.line, span.col + len(name))


_CACHE: dict = {}      # path -> (module, source, Index): one index per parse


def build(mod: ir.Module, source: str) -> Index:
    hit = _CACHE.get(mod.path)
    if hit is not None and hit[0] is mod and hit[1] == source:
        return hit[2]
    idx = _build(mod, source)
    _CACHE[mod.path] = (mod, source, idx)
    return idx


def _build(mod: ir.Module, source: str) -> Index:
    defs, refs, uses, blocks = [], [], [], {}
    path = mod.path
    for item in mod.items:
        if isinstance(item, ir.Use):
            target = os.path.normpath(os.path.join(os.path.dirname(path), item.path))
            qs = _quoted(item.span, source)
            uses.append(UseLink(qs, target))
        elif isinstance(item, ir.DimDecl):
            for d in item.items:
                defs.append(Def(d.name, DIM, Span(path, d.span.line, d.span.col, d.span.line,
                                                  d.span.col + len(d.name)), None, d))
                if d.value is not None:
                    _expr_refs(d.value, None, refs)
        elif isinstance(item, (ir.Let, ir.Require)):
            _body((item,), None, source, defs, refs)
        elif isinstance(item, ir.Block):
            blocks[item.name] = item
            defs.append(Def(item.name, MODEL if item.is_model else BLOCK, item.name_span, None, item))
            _block(item, source, defs, refs)
    return Index(path, defs, refs, uses, blocks)


def _quoted(span: Span, source: str) -> Span:
    lines = source.split("\n")
    if 1 <= span.line <= len(lines):
        line = lines[span.line - 1]
        i = line.find('"', span.col - 1)
        j = line.find('"', i + 1) if i >= 0 else -1
        if i >= 0 and j > i:
            return Span(span.file, span.line, i + 1, span.line, j + 2)
    return span


def _block(b: ir.Block, source: str, defs: list, refs: list) -> None:
    name = b.name
    param_names = {p.name for p in b.params}
    for p in b.params:
        if isinstance(p, ir.DimParam):
            defs.append(Def(p.name, DIM_PARAM, Span(p.span.file, p.span.line, p.span.col, p.span.line,
                                                    p.span.col + len(p.name)), name, p))
            if p.default is not None:
                _expr_refs(p.default, name, refs)
            continue
        defs.append(Def(p.name, PARAM, Span(p.span.file, p.span.line, p.span.col, p.span.line,
                                            p.span.col + len(p.name)), name, p))
    # generic dimensions: the first occurrence of a name in a parameter shape
    seen = set()
    for p in b.params:
        if isinstance(p, ir.TensorParam):
            for it in p.shape.items:
                if isinstance(it, ir.Star):
                    if it.name not in seen:
                        seen.add(it.name)
                        defs.append(Def(it.name, GENERIC, _star_span(it), name, it))
                    continue
                for n in _names(it):
                    if n.id not in seen and n.id not in param_names:
                        seen.add(n.id)
                        defs.append(Def(n.id, GENERIC, n.span, name, n))
                    else:
                        refs.append(Ref(n.id, n.span, name))
    if b.returns:
        for sh in b.returns:
            _shape_refs(sh, name, refs)
    _body(b.body, name, source, defs, refs)


def _body(body, name, source, defs, refs) -> None:
    for st in body:
        if isinstance(st, ir.Assign):
            _expr_refs(st.value, name, refs)
            for t, sp in zip(st.targets, st.target_spans):
                defs.append(Def(t, TENSOR, sp, name, st))
            if st.annotation is not None:
                _shape_refs(st.annotation, name, refs)
        elif isinstance(st, ir.Return):
            for v in st.values:
                _expr_refs(v, name, refs)
        elif isinstance(st, ir.Repeat):
            _expr_refs(st.count, name, refs)
            if st.index is not None:
                defs.append(Def(st.index, PASS, st.index_span, name, st))
            _body(st.body, name, source, defs, refs)
        elif isinstance(st, (ir.Input, ir.ParamDecl)):
            kind = INPUT if isinstance(st, ir.Input) else PARAM
            defs.append(Def(st.name, kind, name_span(st.span, st.name, source, after=len(kind)), name, st))
            _shape_refs(st.shape, name, refs)
        elif isinstance(st, ir.Let):
            defs.append(Def(st.name, LET, st.name_span, name, st))
            _expr_refs(st.value, name, refs)
        elif isinstance(st, ir.Require):
            for c in st.conds:
                _expr_refs(c.left, name, refs)
                _expr_refs(c.right, name, refs)


def _shape_refs(sh: ir.Shape, container, refs) -> None:
    for it in sh.items:
        if isinstance(it, ir.Star):
            refs.append(Ref(it.name, _star_span(it), container))
        else:
            _expr_refs(it, container, refs)


def _star_span(it: ir.Star) -> Span:
    """The name of ``*name`` (after the star)."""
    return Span(it.span.file, it.span.line, it.span.col + 1, it.span.line, it.span.col + 1 + len(it.name))


def _names(e):
    if isinstance(e, ir.Name):
        yield e
    elif isinstance(e, ir.BinOp):
        yield from _names(e.left)
        yield from _names(e.right)
    elif isinstance(e, ir.Neg):
        yield from _names(e.operand)
    elif isinstance(e, ir.Call):
        for a in e.args:
            yield from _names(a)


def _expr_refs(e, container, refs) -> None:
    if isinstance(e, ir.Name):
        refs.append(Ref(e.id, e.span, container))
    elif isinstance(e, ir.BinOp):
        _expr_refs(e.left, container, refs)
        _expr_refs(e.right, container, refs)
    elif isinstance(e, ir.Neg):
        _expr_refs(e.operand, container, refs)
    elif isinstance(e, ir.Call):
        refs.append(Ref(e.func, e.func_span, container, call=True))
        for a in e.args:
            _expr_refs(a, container, refs)
        for k in e.kwargs:
            refs.append(Ref(k.name, Span(k.span.file, k.span.line, k.span.col, k.span.line,
                                         k.span.col + len(k.name)), container, keyword_of=e.func))
            _expr_refs(k.value, container, refs)
    elif isinstance(e, ir.Index):
        _expr_refs(e.base, container, refs)
        for s in e.items:
            if isinstance(s, ir.Slice):
                for x in (s.start, s.stop, s.step):
                    if x is not None:
                        _expr_refs(x, container, refs)
            else:
                _expr_refs(s, container, refs)
    elif isinstance(e, ir.ListExpr):
        for it in e.items:
            if isinstance(it, ir.Star):
                refs.append(Ref(it.name, _star_span(it), container))
            else:
                _expr_refs(it, container, refs)


class Resolver:
    """Resolves names over a spec and the files it uses (``indexes``: path -> Index,
    the spec's own first)."""

    def __init__(self, indexes: dict, root: str):
        self.indexes = indexes
        self.root = root

    def closure(self, path: str) -> list:
        """``path`` and the files it reaches through `use`, nearest first."""
        out, todo = [], [path]
        while todo:
            p = todo.pop(0)
            if p in out or p not in self.indexes:
                continue
            out.append(p)
            todo.extend(u.target for u in self.indexes[p].uses)
        return out

    def resolve(self, path: str, x) -> Optional[Def]:
        """The definition a reference (or definition) at ``path`` names; ``None``
        for a built-in operation, a keyword argument of an operation or an unknown name."""
        if isinstance(x, Def):
            return x
        if not isinstance(x, Ref):
            return None
        idx = self.indexes.get(path)
        if idx is None:
            return None
        if x.keyword_of is not None:     # a keyword argument: a block's parameter
            for p in self.closure(path):
                b = self.indexes[p].blocks.get(x.keyword_of)
                if b is not None:
                    ds = self.indexes[p].local_defs(b.name, x.name)
                    return next((d for d in ds if d.kind in (PARAM, DIM_PARAM)), None)
            return None
        if x.container is not None and not x.call:
            local = idx.local_defs(x.container, x.name)
            if local:
                before = [d for d in local if (d.span.line, d.span.col) < (x.span.line, x.span.col)]
                return before[-1] if before else local[0]
        for p in self.closure(path):
            for d in self.indexes[p].global_defs(x.name):
                if x.call and d.kind not in (BLOCK, MODEL):
                    continue
                return d
        return None

    def references(self, target: Def, paths) -> list:
        """Every reference to ``target`` in the files ``paths`` (the definition excluded)."""
        out = []
        for p in paths:
            idx = self.indexes.get(p)
            if idx is None:
                continue
            for r in idx.refs:
                if r.name == target.name and getattr(self.resolve(p, r), "key", None) == target.key:
                    out.append(r)
        return out
