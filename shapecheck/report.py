"""Shape reports: every named tensor of a model with its symbolic and concrete
shape, the parameters and FLOPs it costs, and closed-form totals.

The library half of ``shapecheck report`` (no command-line knowledge, no
NumPy). :func:`build` turns a checked :class:`shapecheck.api.Result` into a
:class:`Report`; :func:`render` writes it as ``text``, ``markdown``, ``json``
or ``html``. The conventions (what a FLOP is, what counts as activation memory)
and the JSON schema are documented in ``docs/reports.md``.

The rows form a hierarchy that adds up (as torchinfo's does): each statement
has its *own* parameters and FLOPs and a *total* that includes the blocks it
calls; a block call is a parent row with the callee's rows under it, ending
with the callee's ``return``; every quantity counts every execution (the
repeat multiplier is applied). The own column sums to the model total.

>>> from shapecheck.api import check_source
>>> res = check_source('''
... dim batch, d = 8, heads = 2
... let d_head = d / heads
... require d % heads == 0
... model m {
...     input x: [batch, d]
...     y = rearrange(linear(x, d), "b (h k) -> b h k", h=heads)
...     return y
... }''', "m.shape")
>>> rep = build(res, binds={"batch": 3})
>>> m = rep.models[0]
>>> [(r.kind, r.name, r.shape, r.value) for r in m.rows]
[('input', 'x', ('batch', 'd'), (3, 8)), ('tensor', 'y', ('batch', 'heads', 'd_head'), (3, 2, 4)), ('return', 'return', None, None)]
>>> m.params.formula, m.params.value, m.flops.value, m.memory.value
('d**2 + d', 72, 408, 192)
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

import sympy

from . import formula as F
from . import ir
from .dims import as_expr, dim, evaluate, over_passes, show, subs
from .infer import CallSite

#: bytes per element of each dtype (activation and parameter memory)
DTYPE_BYTES = {"float": 4, "int": 8, "bool": 1}

#: at most this many rows are listed (block calls nest: 2**30 instances are possible);
#: the totals always count everything
MAX_ROWS = 100_000

#: the formats :func:`render` writes
FORMATS = ("text", "markdown", "json", "html")

#: the version of the JSON document (docs/reports.md)
SCHEMA = "shapecheck-report/2"


class ReportError(Exception):
    """Bad input to a report: an unknown model or dimension, a bad depth."""


# ---- the report -----------------------------------------------------------------------------


class Printer:
    """How one model's formulas print: dimension order and repeat counts."""

    def __init__(self, order=(), repeats=()):
        self.order = tuple(order)
        self.repeats = tuple(repeats)
        self._cache: dict = {}

    def plain(self, expr) -> str:
        key = ("p", expr)
        if key not in self._cache:
            self._cache[key] = F.plain(expr, self.order, self.repeats)
        return self._cache[key]

    def latex(self, expr) -> str:
        return F.latex(expr, self.order, self.repeats)

    def mathml(self, expr) -> str:
        return F.mathml(expr, self.order, self.repeats)


_DEFAULT_PRINTER = Printer()


class Quantity:
    """A closed formula (a sympy expression, printed on demand) and its value
    at the bindings (None when a dimension it uses is unbound)."""
    __slots__ = ("expr", "value", "printer", "_formula")

    def __init__(self, expr, value: Optional[int], printer: Printer = _DEFAULT_PRINTER):
        self.expr = expr
        self.value = value
        self.printer = printer
        self._formula = None

    @property
    def formula(self) -> str:
        if self._formula is None:
            self._formula = self.printer.plain(self.expr)
        return self._formula

    @property
    def latex(self) -> str:
        return self.printer.latex(self.expr)

    @property
    def mathml(self) -> str:
        return self.printer.mathml(self.expr)

    def to_json(self) -> dict:
        return {"formula": self.formula, "value": self.value}

    def __repr__(self) -> str:
        return f"Quantity({self.formula!r}, {self.value!r})"


#: row kinds
KINDS = ("input", "param", "tensor", "call", "return")


@dataclass
class Row:
    """One row of the hierarchy: a named tensor (``input``, ``param``, or an
    assignment target: ``tensor``), a block ``call`` (the parent of the
    callee's rows), or a block's or the model's ``return``. Quantities count
    every execution per forward pass (the repeat multiplier applied)."""
    kind: str
    path: tuple                 # the frame: ("gpt2",), ("gpt2", "mlp@36"), ...; a call row: the callee's
    level: int                  # indentation in the hierarchy (0: the model's statements)
    name: str                   # tensor name; the block's name for a call; "return"
    op: str
    file: str
    line: int
    end_line: int
    shape: Optional[tuple]      # printed dimensions (let names preferred); None if not a tensor row
    dtype: str
    value: Optional[tuple]      # concrete shape at the bindings
    inputs: tuple               # ((name, printed shape), ...) of the named tensors the statement reads
    repeat: Quantity            # executions per forward pass
    params_own: Quantity        # created by the statement itself (not its block calls), every execution
    params_total: Quantity      # including the blocks it calls
    flops_own: Quantity
    flops_total: Quantity
    memory: Quantity            # numel x dtype size x repeat (0 for a `param` and non-tensor rows)
    param_bytes: Quantity       # own parameters x dtype size
    calls: tuple = ()           # names of the blocks the statement calls
    stmt: object = field(default=None, repr=False, compare=False)   # the ir statement (not for a call)
    #: a shape that depends on a `repeat i in n` pass: its value at the first and at the last pass
    value_range: Optional[tuple] = None

    @property
    def depth(self) -> int:
        return len(self.path)

    @property
    def label(self) -> str:
        return " → ".join(self.path + (self.name,))

    def shape_text(self) -> str:
        return "" if self.shape is None else "[" + ", ".join(self.shape) + "]"

    def value_text(self) -> str:
        if self.value is None and self.value_range is not None:
            first, last = ("[" + ", ".join(str(v) for v in x) + "]" for x in self.value_range)
            return f"{first} to {last}"
        return "" if self.value is None else "[" + ", ".join(str(v) for v in self.value) + "]"

    def inputs_text(self) -> str:
        return ", ".join(f"{n}: {s}" for n, s in self.inputs)


@dataclass
class Stage:
    """A top-level statement of the model (with the rows of the blocks it calls)."""
    index: int
    rows: list                  # the statement's rows, then the rows of the blocks it calls
    top: list                   # the statement's own rows (model level); empty for `return`
    source: str                 # the statement's text (annotation and comment removed)
    line: int
    uses: tuple = ()            # tensor names the statement reads
    repeat_id: Optional[int] = None
    repeat: Optional[Quantity] = None
    block_calls: tuple = ()     # blocks called in the statement

    @property
    def calls(self) -> tuple:
        return self.block_calls

    @property
    def names(self) -> tuple:
        return tuple(r.name for r in self.top)


@dataclass
class ModelReport:
    name: str
    file: str
    bindings: dict              # dimension -> int (bound ones only)
    sources: dict               # dimension -> "bind" | "config" | "example"
    dims: tuple                 # every dimension of the model
    lets: dict                  # let name -> printed expression
    params: Quantity
    flops: Quantity
    macs: Quantity
    memory: Quantity            # activation memory
    param_bytes: Quantity
    buffers: Quantity
    buffer_bytes: Quantity
    input_bytes: Quantity
    total_bytes: Quantity       # parameters + buffers + activations (inputs included)
    rows: list
    stages: list
    edges: list                 # (from stage index, to stage index or "out", tensor name, shape text)
    notes: list = field(default_factory=list)
    depth: Optional[int] = None
    printer: Printer = _DEFAULT_PRINTER

    @property
    def unbound(self) -> tuple:
        return tuple(d for d in self.dims if d not in self.bindings)

    def visible(self) -> list:
        return [r for r in self.rows if self.depth is None or r.depth <= self.depth]

    def is_cut(self, r: Row) -> bool:
        """Does ``--depth`` hide the blocks this row calls?"""
        return bool(r.calls) and self.depth is not None and r.depth >= self.depth


@dataclass
class Report:
    file: str
    models: list
    diagnostics: list = field(default_factory=list)


# ---- building ---------------------------------------------------------------------------------


def report_path(path: str, model: Optional[str] = None, binds: Optional[dict] = None,
                depth: Optional[int] = None, default_binds: Optional[dict] = None,
                examples: bool = True) -> Report:
    """Check ``path`` and build its report (see :func:`build`)."""
    from .api import check_path

    return build(check_path(path), model=model, binds=binds, depth=depth, default_binds=default_binds,
                 examples=examples)


def build(result, model: Optional[str] = None, binds: Optional[dict] = None,
          depth: Optional[int] = None, default_binds: Optional[dict] = None, examples: bool = True) -> Report:
    """A :class:`Report` of the models of a checked ``result`` (an
    :class:`shapecheck.api.Result` without errors). ``binds`` overrides the
    example values; ``default_binds`` (``[tool.shapecheck] bind``) apply to
    the dimensions the spec has, under ``binds``; ``depth`` limits the rows to
    that many levels of block calls (1: the model's own statements).
    ``examples=False`` leaves every dimension symbolic but those in ``binds``
    (the dims' example values and ``default_binds`` are not used). Raises
    :class:`ReportError`."""
    if depth is not None and depth < 1:
        raise ReportError("the depth must be at least 1")
    if model is not None and model not in result.models:
        raise ReportError(f"{result.path} has no model `{model}` "
                          f"(models: {', '.join(result.models) or 'none'})")
    names = [model] if model is not None else list(result.models)
    binds = dict(binds or {})
    known = set().union(*(result.models[n].dims for n in names)) if names else set()
    if names:
        unknown = sorted(set(binds) - known)
        if unknown:
            raise ReportError(f"--bind {unknown[0]}: no dimension `{unknown[0]}` "
                              f"(dimensions: {', '.join(sorted(known))})")
    config = {k: int(v) for k, v in (default_binds or {}).items() if k in known and k not in binds} \
        if examples else {}
    lets = _lets(result)
    models = [_model(result, result.models[n], binds, config, depth, lets, examples) for n in names]
    return Report(result.path, models, list(result.diagnostics))


def _lets(result) -> dict:
    """Global `let`s usable for printing: name -> expression (not a bare
    symbol or number, which would rename every occurrence)."""
    out = {}
    scope = getattr(result, "scope", None)
    for name, (expr, _span) in (getattr(scope, "lets", None) or {}).items():
        expr = as_expr(expr)
        if expr.is_Symbol or expr.is_number:
            continue
        out[name] = expr
    return out


def _value(expr, env: dict) -> Optional[int]:
    expr = as_expr(expr)
    if not expr.free_symbols <= set(env):
        return None
    try:
        v = evaluate(expr, env)
    except Exception:
        return None
    if getattr(v, "denominator", 1) != 1:
        return None
    return int(v)


def _tidy(text: str) -> str:
    """Single spaces (the printer doubles them around a nested `/`)."""
    return " ".join(text.split())


_ZERO = sympy.Integer(0)
_ONE = sympy.Integer(1)


class _Builder:
    """One pass over a model's recorded items (nodes and block calls): the
    hierarchy rows, instantiated in the model's dimensions."""

    def __init__(self, result, m, env, printer, pshow):
        self.result, self.m, self.env, self.printer, self.pshow = result, m, env, printer, pshow
        scope = getattr(result, "scope", None)
        self.blocks = dict(getattr(scope, "blocks", None) or {})
        self.rows: list = []
        self.mem: list = []            # (repeat, bytes of one execution) of each activation
        self.pbytes: list = []         # parameter bytes of each row
        self.ibytes: list = []         # input bytes
        self.truncated = False
        self._walk_cache: dict = {}
        self.limit = None
        self._frame_cache: dict = {}
        self._q_cache: dict = {}
        self._over_cache: dict = {}

    def over(self, expr, loops):
        """``expr`` (one execution) over every execution of ``loops``."""
        if not loops:
            return expr
        if not any(sym is not None for sym, _ in loops):
            return sympy.Mul(*(c for _, c in loops)) * expr
        key = (expr, loops)
        got = self._over_cache.get(key)
        if got is None:
            got = self._over_cache[key] = over_passes(expr, loops)
        return got

    # quantities, cached by expression (the same instantiated cost recurs across call sites)
    def q(self, expr) -> Quantity:
        got = self._q_cache.get(expr)
        if got is None:
            got = self._q_cache[expr] = Quantity(expr, _value(expr, self.env), self.printer)
        return got

    def frame_costs(self, items, total_params, total_flops):
        """Per statement group of a frame (in the frame's own symbols): the
        groups ``(calls, nodes)`` and the return's own params and FLOPs."""
        key = (id(items), total_params, total_flops)    # `()` is shared by every empty frame
        got = self._frame_cache.get(key)
        if got is not None and got[0] is items:
            return got[1]
        # the nodes of each statement (Node.stmt) and the calls it makes (CallId.stmt)
        nodes_of: dict = {}
        calls_of: dict = {}
        for it in items:
            if isinstance(it, CallSite):
                calls_of.setdefault(it.call.stmt, []).append(it)
            else:
                nodes_of.setdefault(id(it.stmt), []).append(it)
        groups = [(calls_of.pop(ns[0].stmt.span, []), ns) for ns in nodes_of.values()]
        trailing = [c for cs in calls_of.values() for c in cs]     # the `return`'s calls
        p_sum, f_sum = _ZERO, _ZERO
        out = []
        for cs, nodes in groups:
            n0 = nodes[0]
            p_calls = sympy.Add(*(subs(c.params, c.sigma) for c in cs))
            f_calls = sympy.Add(*(subs(c.flops, c.sigma) for c in cs))
            own_p = sympy.expand(n0.params - p_calls)
            own_f = sympy.expand(n0.flops - f_calls)
            p_sum += self.over(n0.params, n0.loops)
            f_sum += self.over(n0.flops, n0.loops)
            out.append((cs, nodes, own_p, own_f))
        ret_calls_p = sympy.Add(*(self.over(subs(c.params, c.sigma), c.loops) for c in trailing))
        ret_calls_f = sympy.Add(*(self.over(subs(c.flops, c.sigma), c.loops) for c in trailing))
        ret_p = sympy.expand(total_params - p_sum - ret_calls_p)
        ret_f = sympy.expand(total_flops - f_sum - ret_calls_f)
        res = (out, trailing, ret_p, ret_f)
        self._frame_cache[key] = (items, res)
        return res

    def walk(self, items, block, S, VS, base, path, level, total_params, total_flops):
        """Rows of one frame instance: ``S``/``VS`` take the frame's symbols to
        the model's, ``base`` the loops (``Node.loops``, in the model's symbols)
        around the frame's runs per forward pass."""
        if len(self.rows) >= MAX_ROWS:
            self.truncated = True
            return
        # a frame instance seen before (same callee, same dimensions, same multiplier):
        # its rows again under this path, without instantiating anything
        key = (id(items), total_params, total_flops, frozenset(S.items()),
               frozenset(VS.items()), base)
        hit = self._walk_cache.get(key)
        if hit is not None and hit[0] is items:
            _items, start, end, old_path, old_level, marks = hit
            cut, shift = len(old_path), level - old_level
            new = object.__new__
            if len(self.rows) + end - start > MAX_ROWS:
                self.truncated = True
                end = start + max(0, MAX_ROWS - len(self.rows))
            for r in self.rows[start:end]:
                r2 = new(Row)
                r2.__dict__.update(r.__dict__)
                r2.path = path + r.path[cut:]
                r2.level = r.level + shift
                self.rows.append(r2)
            for lst, (a, b) in zip((self.mem, self.pbytes, self.ibytes), marks):
                lst.extend(lst[a:b])
            return
        start = len(self.rows)
        marks0 = (len(self.mem), len(self.pbytes), len(self.ibytes))
        self._walk(items, block, S, VS, base, path, level, total_params, total_flops)
        marks = tuple(zip(marks0, (len(self.mem), len(self.pbytes), len(self.ibytes))))
        if not self.truncated:
            self._walk_cache[key] = (items, start, len(self.rows), path, level, marks)

    def _walk(self, items, block, S, VS, base, path, level, total_params, total_flops):
        groups, trailing, ret_p, ret_f = self.frame_costs(items, total_params, total_flops)
        scope_shapes = self.param_shapes(block, S, VS) if block is not None else {}
        for cs, nodes, own_p, own_f in groups:
            n0 = nodes[0]
            rep = base + _inst_loops(n0.loops, S)
            st = n0.stmt
            inputs = self.inputs_of(st, scope_shapes)
            callees = tuple(c.call.callee for c in cs)
            for i, n in enumerate(nodes):
                self.tensor_row(n, path, level, rep, S, VS, inputs,
                                own_p if i == 0 else _ZERO, own_f if i == 0 else _ZERO,
                                n.params if i == 0 else _ZERO, n.flops if i == 0 else _ZERO,
                                callees if i == 0 else ())
                if n.shape is not None:
                    scope_shapes[n.name] = self.shape_text(n.shape, S, VS)
            for c in cs:
                self.call_row(c, S, VS, base, path, level + 1)
        ret = _return_of(block)
        inputs = self.inputs_of(ret, scope_shapes)
        p_tot = ret_p + sympy.Add(*(self.over(subs(c.params, c.sigma), c.loops) for c in trailing))
        f_tot = ret_f + sympy.Add(*(self.over(subs(c.flops, c.sigma), c.loops) for c in trailing))
        span = ret.span if ret is not None else None
        pb = self.over(_inst(ret_p, S), base) * DTYPE_BYTES["float"]
        self.pbytes.append(pb)
        self.rows.append(Row(
            "return", path, level, "return", "return", span.file if span else "", span.line if span else 0,
            span.end_line if span else 0, None, "", None, inputs, self.q(self.over(_ONE, base)),
            self.q(self.over(_inst(ret_p, S), base)), self.q(self.over(_inst(p_tot, S), base)),
            self.q(self.over(_inst(ret_f, S), base)), self.q(self.over(_inst(f_tot, S), base)), self.q(_ZERO),
            self.q(pb), tuple(c.call.callee for c in trailing), ret))
        for c in trailing:
            self.call_row(c, S, VS, base, path, level + 1)

    def call_row(self, c, S, VS, base, path, level):
        S2 = {k: _inst(v, S) for k, v in c.sigma.items()}
        VS2 = {k: tuple(x for d in v for x in _inst_dim(d, S, VS)) for k, v in c.var_sigma.items()}
        base2 = base + _inst_loops(c.loops, S)
        callee = path + (c.prefix[-1],)
        name = c.call.callee
        block = self.blocks.get(name)
        p_tot = self.over(_inst(subs(c.params, c.sigma), S), base2)
        f_tot = self.over(_inst(subs(c.flops, c.sigma), S), base2)
        self.rows.append(Row(
            "call", callee, level, name, "call", c.call.span.file, c.call.span.line,
            c.call.span.end_line, None, "", None, (), self.q(self.over(_ONE, base2)), self.q(_ZERO), self.q(p_tot),
            self.q(_ZERO), self.q(f_tot), self.q(_ZERO), self.q(_ZERO), (name,)))
        self.walk(c.items, block, S2, VS2, base2, callee, level + 1, c.params, c.flops)

    def tensor_row(self, n, path, level, rep, S, VS, inputs, own_p, own_f, tot_p, tot_f, callees):
        """``rep``: the loops around this execution of the statement (model symbols)."""
        shape = value = value_range = None
        numel = None
        if n.shape is not None:
            dims_ = [d for x in n.shape for d in _inst_dim(x, S, VS)]
            shape = tuple(self.pshow(d) for d in dims_)
            if all(isinstance(d, sympy.Basic) for d in dims_):
                vals = [_value(d, self.env) for d in dims_]
                value = None if any(v is None for v in vals) else tuple(vals)
                if value is None:
                    value_range = _pass_range(dims_, rep, self.env)
                numel = sympy.Mul(*dims_) if dims_ else _ONE
        kind = n.op if n.op in ("input", "param") else "tensor"
        own_p_i = self.over(_inst(own_p, S), rep)
        bytes_per = DTYPE_BYTES.get(n.dtype, 4)
        if kind == "param" or numel is None:
            mem = _ZERO
        else:
            per = numel * bytes_per
            self.mem.append((rep, per))
            mem = self.over(per, rep)
            if kind == "input":
                self.ibytes.append(mem)
        pb = own_p_i * (bytes_per if kind == "param" else DTYPE_BYTES["float"])
        self.pbytes.append(pb)
        self.rows.append(Row(
            kind, path, level, n.name, n.op, n.span.file, n.span.line, n.span.end_line, shape, n.dtype, value,
            inputs, self.q(self.over(_ONE, rep)), self.q(own_p_i), self.q(self.over(_inst(tot_p, S), rep)),
            self.q(self.over(_inst(own_f, S), rep)), self.q(self.over(_inst(tot_f, S), rep)), self.q(mem),
            self.q(pb), callees, n.stmt, value_range))

    def shape_text(self, shape, S, VS) -> str:
        dims_ = [d for x in shape for d in _inst_dim(x, S, VS)]
        return "[" + ", ".join(self.pshow(d) for d in dims_) + "]"

    def param_shapes(self, block, S, VS) -> dict:
        """Printed shapes of a block's tensor parameters, in the model's dimensions."""
        names = {k.name: v for k, v in S.items()}
        out = {}
        for p in block.params:
            if not isinstance(p, ir.TensorParam):
                continue
            dims_ = []
            for item in p.shape.items:
                if isinstance(item, ir.Star):
                    dims_.extend(VS.get(item.name, (item.name,)))
                    continue
                e = _dim_of(item, names)
                dims_.append(e if e is not None else "?")
            out[p.name] = "[" + ", ".join(self.pshow(d) for d in dims_) + "]"
        return out

    def inputs_of(self, st, shapes) -> tuple:
        if st is None:
            return ()
        if not isinstance(st, (ir.Assign, ir.Return)):
            return ()
        used = _names_used(st)
        return tuple((n, shapes[n]) for n in used if n in shapes)


def _inst(e, S):
    return subs(e, S) if S else as_expr(e)


def _inst_loops(loops, S) -> tuple:
    """A frame's loops (``Node.loops``) in the model's symbols."""
    if not S:
        return tuple(loops)
    return tuple((sym, subs(c, S)) for sym, c in loops)


def _pass_range(dims_, loops, env) -> Optional[tuple]:
    """The shape at the first and at the last pass of the `repeat i in n` loops
    it depends on (None unless every other dimension is bound)."""
    ends = [dict(env), dict(env)]
    for sym, count in loops:
        if sym is None:
            continue
        last = _value(subs(as_expr(count), ends[1]), ends[1])
        if last is None:
            return None
        ends[0][sym], ends[1][sym] = 1, last
    out = []
    for e in ends:
        vals = [_value(d, e) for d in dims_]
        if any(v is None for v in vals):
            return None
        out.append(tuple(vals))
    return tuple(out)


def _inst_dim(d, S, VS):
    if isinstance(d, sympy.Basic):
        return (_inst(d, S),)
    name = getattr(d, "name", None)
    if name is not None and name in VS:
        return tuple(VS[name])
    return (d,)


def _dim_of(e, names: dict):
    """A parameter shape item (IR) as a sympy expression: names are a block's
    generics (``names``) or global dimensions; None for anything else."""
    if isinstance(e, ir.Name):
        return names.get(e.id, dim(e.id))
    if isinstance(e, ir.Number) and isinstance(e.value, int):
        return sympy.Integer(e.value)
    if isinstance(e, ir.BinOp) and e.op in ("+", "-", "*", "/", "//"):
        a, b = _dim_of(e.left, names), _dim_of(e.right, names)
        if a is None or b is None:
            return None
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if e.op == "/":
            return a / b
        return sympy.floor(a / b)
    return None


def _return_of(block):
    if block is None:
        return None
    for st in reversed(block.body):
        if isinstance(st, ir.Return):
            return st
    return None


def _model(result, m, binds, config, depth, lets, examples=True) -> ModelReport:
    bindings, sources = {}, {}
    for k, v in (m.examples.items() if examples else ()):
        bindings[k], sources[k] = int(v), "example"
    for k, v in config.items():
        if k in m.dims:
            bindings[k], sources[k] = int(v), "config"
    for k, v in binds.items():
        if k in m.dims:
            bindings[k], sources[k] = int(v), "bind"
    order = list(m.dims)
    bindings = {k: bindings[k] for k in order if k in bindings}
    sources = {k: sources[k] for k in order if k in sources}
    env = {m.dims[k]: v for k, v in bindings.items()}
    notes = []
    for rel in m.relations:
        if rel.free_symbols <= set(env):
            try:
                ok = rel.holds(env)
            except Exception:
                ok = False
            if not ok:
                notes.append(f"the bindings violate `require {rel.text()}`")
    unprint = {expr: dim(name) for name, expr in lets.items()}
    shown: dict = {}

    def pshow(d) -> str:
        if not isinstance(d, sympy.Basic):
            return str(d)   # a variadic
        got = shown.get(d)
        if got is None:
            got = shown[d] = _tidy(show(d.xreplace(unprint) if unprint else d))
        return got

    block = _model_block(result, m.name)
    printer = Printer(order, _repeat_names(block))
    b = _Builder(result, m, env, printer, pshow)
    items = getattr(m, "items", None)
    if items is None:           # pragma: no cover - an older api without call sites
        items = m.nodes
    b.walk(tuple(items), block, {}, {}, (), (m.name,), 0, m.params, m.flops)
    rows = b.rows
    mem_terms: dict = {}
    for (rep, per), n in Counter(b.mem).items():
        mem_terms.setdefault(rep, []).append(n * per)
    memory = sympy.Add(*(b.over(sympy.Add(*pers), rep) for rep, pers in mem_terms.items()))
    param_bytes = _sum(b.pbytes)
    if b.truncated:
        notes.append(f"only the first {len(rows):,} rows are listed (the block calls instantiate more): "
                     "parameters and FLOPs count everything, the memory and size totals the listed rows only")
    stages, edges = _stages(result, block, rows)
    shown_lets = {k: _tidy(show(v)) for k, v in lets.items()}
    q = b.q
    buffers = as_expr(getattr(m, "buffers", 0) or 0)
    buffer_bytes = buffers * DTYPE_BYTES["float"]
    total_bytes = param_bytes + buffer_bytes + memory
    return ModelReport(m.name, result.path, bindings, sources, tuple(order), shown_lets,
                       q(as_expr(m.params)), q(as_expr(m.flops)), _half(q(as_expr(m.flops))), q(memory),
                       q(sympy.expand(param_bytes)), q(buffers), q(buffer_bytes),
                       q(sympy.expand(_sum(b.ibytes))), q(sympy.expand(total_bytes)),
                       rows, stages, edges, notes, depth, printer)


def _sum(terms):
    """A sum of many (often repeated) terms, counted first: sympy's Add is slow on long argument lists."""
    return sympy.Add(*(n * t for t, n in Counter(terms).items()))


def _half(flops: Quantity) -> Quantity:
    """Mult-adds by the torchinfo/fvcore convention: one multiply-add is one
    MAC where it is 2 FLOPs here, so MACs = FLOPs / 2 (docs/reports.md)."""
    v = flops.value
    return Quantity(flops.expr / 2, None if v is None else (v // 2 if v % 2 == 0 else v / 2), flops.printer)


def _repeat_names(block) -> list:
    """Names in the repeat counts of ``block`` (the model), outermost first."""
    out: list = []
    for _st, _rid, rst in _statements(block):
        if rst is not None:
            for n in ir.names_in(rst.count):
                if n not in out:
                    out.append(n)
    return out


def _model_block(result, name):
    scope = getattr(result, "scope", None)
    block = (getattr(scope, "models", None) or {}).get(name)
    return block if isinstance(block, ir.Block) else None


# ---- stages and dataflow ------------------------------------------------------------------------


def _names_used(st) -> list:
    """The names an assignment's value or a return's values read, in source order, once each."""
    exprs = (st.value,) if isinstance(st, ir.Assign) else tuple(st.values)
    out: dict = {}
    for e in exprs:
        for n in ir.walk(e):
            if isinstance(n, ir.Name):
                out.setdefault(n.id, None)
    return list(out)


def _statements(block):
    """``(statement, repeat id, repeat statement)`` in program order."""
    out = []
    counter = [0]

    def walk(body, rid, rst):
        for st in body:
            if isinstance(st, ir.Repeat):
                counter[0] += 1
                walk(st.body, counter[0], st)
            else:
                out.append((st, rid, rst))
    if block is not None:
        walk(block.body, None, None)
    return out


def _source(result, st) -> str:
    """The statement's text without its `: shape` annotation and comments."""
    text = (getattr(result, "sources", None) or {}).get(st.span.file)
    if text is None:
        return ""
    lines = text.split("\n")
    first, last = st.span.line, max(st.span.line, st.span.end_line)
    chunk = lines[first - 1:last]
    if not chunk:
        return ""
    if len(chunk) == last - first + 1:
        chunk[-1] = chunk[-1][:st.span.end_col - 1]   # the end first: on one line it shifts nothing
    chunk[0] = chunk[0][st.span.col - 1:]
    ann = getattr(st, "annotation", None)
    if ann is not None and first <= ann.span.line <= last:
        i = ann.span.line - first
        col = ann.span.col - 1 - (st.span.col - 1 if i == 0 else 0)
        chunk = chunk[:i] + [chunk[i][:col]]
        chunk[-1] = chunk[-1].rstrip().rstrip(":")
    joined = " ".join(_strip_comment(c).strip() for c in chunk)
    return " ".join(joined.split())


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _stages(result, block, rows):
    """Group the rows by top-level statement (their ``stmt``); the dataflow edges between them."""
    where = {id(st): (rid, rst) for st, rid, rst in _statements(block)}
    blocks = set(getattr(getattr(result, "scope", None), "blocks", None) or ())
    stages: list = []
    for r in rows:
        if r.depth > 1 or r.kind == "call":
            if stages:
                stages[-1].rows.append(r)
            continue
        if r.kind != "return" and stages and stages[-1].top and stages[-1].top[-1].stmt is r.stmt and \
                stages[-1].rows[-1] is stages[-1].top[-1]:
            stages[-1].top.append(r)        # another target of the same statement
            stages[-1].rows.append(r)
            continue
        stages.append(Stage(len(stages), [r], [] if r.kind == "return" else [r], "", r.line))
    for s in stages:
        st = s.rows[0].stmt
        if st is None:
            s.source = ", ".join(s.names) or "return"
            continue
        rid, rst = where.get(id(st), (None, None))
        s.source = _source(result, st)
        s.line = st.span.line
        if isinstance(st, (ir.Assign, ir.Return)):
            s.uses = tuple(_names_used(st))
            s.block_calls = tuple(c.func for c in ir.block_calls(st, blocks))
        s.repeat_id = rid
        if rst is not None and s.top:
            s.repeat = s.top[0].repeat
    # dataflow: a use reads the latest definition before it (program order)
    edges = []
    last: dict = {}
    for s in stages:
        for name in s.uses:
            if name in last:
                src = last[name]
                shape = next((r.shape_text() for r in stages[src].top if r.name == name), "?")
                edges.append((src, s.index, name, shape))
        for r in s.top:
            last[r.name] = s.index
    return stages, edges


# ---- rendering helpers ------------------------------------------------------------------------------


def _num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.1f}"
    return f"{v:,}"


def _human_bytes(n: Optional[int]) -> str:
    if n is None:
        return ""
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if x < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return f"{n} B"  # pragma: no cover


def _human_count(n) -> str:
    if n is None:
        return ""
    for unit, k in (("T", 10 ** 12), ("G", 10 ** 9), ("M", 10 ** 6), ("k", 10 ** 3)):
        if abs(n) >= k:
            return f"{n / k:.2f}{unit}"
    return str(n)


def _cell(q: Quantity) -> str:
    """A row's quantity: the value if known, else the formula."""
    if q.value is not None:
        return _num(q.value)
    return q.formula


def _repeat_cell(q: Quantity) -> str:
    if q.expr == 1:
        return ""
    return f"×{q.formula}" + (f" = {q.value:,}" if q.value is not None and q.formula != str(q.value) else "")


def _bindings_text(mr: ModelReport) -> str:
    parts = [f"{k}={v}" + (f" ({mr.sources[k]})" if mr.sources.get(k) in ("bind", "config") else "")
             for k, v in mr.bindings.items()]
    text = ", ".join(parts) if parts else "none"
    if mr.unbound:
        text += "; unbound: " + ", ".join(mr.unbound)
    return text


def _row_name(mr: ModelReport, r: Row) -> str:
    """The row's name, and for a row whose block calls `--depth` hides, the blocks."""
    if r.kind == "call":
        return f"{r.name}()"
    if mr.is_cut(r):
        return f"{r.name} → {', '.join(r.calls)}()"
    return r.name


def _totals(mr: ModelReport) -> list:
    """(label, quantity, human-readable value) of the model's totals."""
    out = [("parameters", mr.params, _human_count(mr.params.value)),
           ("parameter memory (bytes)", mr.param_bytes, _human_bytes(mr.param_bytes.value))]
    if mr.buffers.expr != 0:
        out.append(("buffers", mr.buffers, _human_count(mr.buffers.value)))
        out.append(("buffer memory (bytes)", mr.buffer_bytes, _human_bytes(mr.buffer_bytes.value)))
    out += [("forward FLOPs", mr.flops, _human_count(mr.flops.value)),
            ("forward mult-adds (MACs)", mr.macs, _human_count(mr.macs.value)),
            ("activation memory (bytes)", mr.memory, _human_bytes(mr.memory.value)),
            ("total estimated size (bytes)", mr.total_bytes, _human_bytes(mr.total_bytes.value))]
    return out


#: the per-row columns: (header, row -> text); quantities are handled by the formats
_QCOLS = (("params own", "params_own"), ("params total", "params_total"),
          ("FLOPs own", "flops_own"), ("FLOPs total", "flops_total"))

CONVENTIONS = ("Own: what the statement itself creates or computes; total: with the blocks it calls. "
               "Every row counts all its executions (the × repeat multiplier is applied), so the own "
               "columns add up to the model totals. FLOPs: a multiply-add counts 2; mult-adds (MACs) = "
               "FLOPs / 2. Activation memory: every named tensor except `param`s, numel × dtype size "
               "(float 4, int 8, bool 1) × repeat. Total estimated size: parameters + buffers + "
               "activations (inputs included). See docs/reports.md.")


def render(report: Report, fmt: str, color: bool = False) -> str:
    """``report`` as ``text`` (``color``: ANSI colours), ``markdown``, ``json`` or ``html``."""
    if fmt == "text":
        return render_text(report, color=color)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        from .report_html import render_html
        return render_html(report)
    raise ReportError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")


# ---- text --------------------------------------------------------------------------------------------

_C = {"bold": "\033[1m", "dim": "\033[2m", "cyan": "\033[36m", "green": "\033[32m", "yellow": "\033[33m",
      "reset": "\033[0m"}


def render_text(report: Report, color: bool = False) -> str:
    """An aligned table per model (unbound quantities as numbered formulas
    listed under it, never cut), then the totals."""
    def c(style, s):
        return f"{_C[style]}{s}{_C['reset']}" if color and s else s

    out = []
    for mr in report.models:
        out.append(c("bold", f"{mr.file}: model {mr.name}"))
        out.append(f"bindings: {_bindings_text(mr)}")
        if mr.lets:
            out.append("lets: " + ", ".join(f"{k} = {v}" for k, v in mr.lets.items()))
        for n in mr.notes:
            out.append(c("yellow", f"note: {n}"))
        refs: dict = {}
        cells: dict = {}

        def qcell(q: Quantity) -> str:
            got = cells.get(id(q))
            if got is not None:
                return got[1]
            if q.value is not None:
                text = _num(q.value)
            else:
                f = q.formula
                if f not in refs:
                    refs[f] = f"[f{len(refs) + 1}]"
                text = refs[f]
            cells[id(q)] = (q, text)        # q kept alive: its id stays unique
            return text

        header = ("line", "row", "op", "inputs", "shape", "at bindings", "repeat") + tuple(h for h, _ in _QCOLS)
        body = []
        for r in mr.visible():
            body.append((str(r.line) if r.line else "", "  " * r.level + _row_name(mr, r), r.op,
                         r.inputs_text(), r.shape_text(), r.value_text(), _repeat_cell(r.repeat))
                        + tuple(qcell(getattr(r, a)) for _, a in _QCOLS))
        body.append(("", "sum of own / model total", "", "", "", "", "", qcell(mr.params), qcell(mr.params),
                     qcell(mr.flops), qcell(mr.flops)))
        widths = [max([len(header[i])] + [len(b[i]) for b in body]) for i in range(len(header))]
        right = {0, 7, 8, 9, 10}
        styles = [None, None, "dim", None, "cyan", "green", "yellow", None, None, None, None]

        def line(cells, header_row=False):
            if not color:
                return "  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                                 for i, cell in enumerate(cells)).rstrip()
            parts = []
            for i, cell in enumerate(cells):
                pad = cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                if header_row:
                    pad = c("bold", pad)
                elif styles[i] and cell:
                    pad = c(styles[i], cell) + " " * (widths[i] - len(cell)) if i not in right else \
                        " " * (widths[i] - len(cell)) + c(styles[i], cell)
                parts.append(pad)
            return "  ".join(parts).rstrip()
        out.append("")
        out.append(line(header, True))
        for b in body:
            out.append(line(b))
        if refs:
            out.append("")
            out.append("formulas (dimensions unbound):")
            for f, ref in refs.items():
                out.append(f"  {ref} {f}")
        out.append("")
        out.append(c("bold", "totals") + " (closed formulas; value at the bindings)")
        for label, q, extra in _totals(mr):
            val = _num(q.value) + (f" ({extra})" if extra and extra != str(q.value) else "") \
                if q.value is not None else "(needs " + ", ".join(_needs(q, mr)) + ")"
            out.append(f"  {label:<29} {q.formula}")
            out.append(f"  {'':<29} = {c('green', val)}")
        out.append("")
        out.append(CONVENTIONS.replace("`", ""))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _needs(q: Quantity, mr: ModelReport) -> list:
    names = {s.name for s in as_expr(q.expr).free_symbols}
    return [d for d in mr.unbound if d in names] or ["unbound dimensions"]


# ---- markdown ------------------------------------------------------------------------------------------


def _md(s: str) -> str:
    """Inline code, safe inside a table cell."""
    if not s:
        return ""
    s = s.replace("|", "\\|")
    return f"`{s}`"


def _md_q(q: Quantity) -> str:
    return _num(q.value) if q.value is not None else _md(q.formula)


def _md_math(q: Quantity) -> str:
    """GitHub math: $`...`$ (sympy's LaTeX printer)."""
    return f"$`{q.latex}`$"


def render_markdown(report: Report) -> str:
    """A walkthrough by stage, with totals and a Mermaid dataflow chart."""
    out = []
    for mr in report.models:
        out.append(f"# Shape report: `{mr.name}`")
        out.append("")
        out.append(f"Spec `{mr.file}`, model `{mr.name}`.")
        out.append("")
        bound = ", ".join(f"`{k} = {v}`" + (f" ({mr.sources[k]})" if mr.sources[k] in ("bind", "config") else "")
                          for k, v in mr.bindings.items()) or "none"
        out.append(f"- Bindings: {bound}")
        if mr.unbound:
            out.append(f"- Unbound (symbolic only): {', '.join(f'`{d}`' for d in mr.unbound)}")
        if mr.lets:
            out.append("- Derived: " + ", ".join(f"`{k} = {v}`" for k, v in mr.lets.items()))
        for n in mr.notes:
            out.append(f"- Note: {n}")
        out.append("")
        out.append("## Totals")
        out.append("")
        out.append("| quantity | formula | math | at the bindings |")
        out.append("|---|---|---|---:|")
        for label, q, extra in _totals(mr):
            val = _num(q.value) + (f" ({extra})" if extra and q.value is not None and extra != str(q.value) else "")
            out.append(f"| {label} | {_md(q.formula)} | {_md_math(q)} | {val} |")
        out.append("")
        out.append(CONVENTIONS)
        out.append("")
        out.append("## Dataflow")
        out.append("")
        out.append("```mermaid")
        out.extend(_mermaid(mr))
        out.append("```")
        out.append("")
        out.append("## Walkthrough")
        for number, group in enumerate(_sections(mr.stages), 1):
            out.append("")
            s = group[-1]
            if len(group) > 1:
                out.append(f"### {number}. Inputs and weights, lines {group[0].line}-{s.line}")
            else:
                title = ", ".join(f"`{n}`" for n in s.names) or "the result"
                calls = f" (calls {', '.join(f'`{c}`' for c in s.calls)})" if s.calls else ""
                out.append(f"### {number}. {title}, line {s.line}{calls}")
            out.append("")
            sources = [g.source for g in group if g.source]
            if sources:
                out.append("```")
                out.extend(sources)
                out.append("```")
                out.append("")
            if s.repeat is not None:
                val = f" = {s.repeat.value:,}" if s.repeat.value is not None and \
                    s.repeat.formula != str(s.repeat.value) else ""
                out.append(f"Runs `{s.repeat.formula}`{val} times per forward pass (inside `repeat`).")
                out.append("")
            rows = [r for g in group for r in g.rows if mr.depth is None or r.depth <= mr.depth]
            if not rows:
                continue
            out.append("| line | row | op | inputs | shape | at bindings | repeat | "
                       + " | ".join(h for h, _ in _QCOLS) + " |")
            out.append("|---:|---|---|---|---|---|---|" + "---:|" * len(_QCOLS))
            for r in rows:
                name = _row_name(mr, r)
                name = f"**{name}**" if r.kind != "call" else f"*{name}*"
                out.append(f"| {r.line or ''} | {'&emsp;' * r.level}{name} | {r.op} | {_md(r.inputs_text())} | "
                           f"{_md(r.shape_text())} | {_md(r.value_text())} | {_repeat_cell(r.repeat)} | "
                           + " | ".join(_md_q(getattr(r, a)) for _, a in _QCOLS) + " |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _sections(stages) -> list:
    """Stages grouped for the walkthrough: a run of `input`/`param`
    declarations is one section, every other statement its own."""
    out: list = []
    for s in stages:
        decl = bool(s.top) and len(s.rows) == len(s.top) and s.top[0].kind in ("input", "param")
        if decl and out and out[-1][-1].top and out[-1][-1].top[0].kind in ("input", "param") and \
                len(out[-1][-1].rows) == len(out[-1][-1].top):
            out[-1].append(s)
        else:
            out.append([s])
    return out


def _mm(s: str) -> str:
    return s.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _short(s: str, n: int = 48) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def _mermaid(mr: ModelReport) -> list:
    lines = ["flowchart TD"]
    open_rid = None
    for s in mr.stages:
        if s.repeat_id != open_rid:
            if open_rid is not None:
                lines.append("    end")
            if s.repeat_id is not None:
                rep = s.repeat.formula if s.repeat is not None else "?"
                lines.append(f'    subgraph r{s.repeat_id} ["repeat {_mm(rep)}"]')
            open_rid = s.repeat_id
        ind = "        " if open_rid is not None else "    "
        text = _mm(f"L{s.line}: " + _short(s.source or ", ".join(s.names)))
        kind = s.top[0].kind if s.top else "return"
        if kind == "input":
            lines.append(f'{ind}s{s.index}(["{text}"])')
        elif kind == "param":
            lines.append(f'{ind}s{s.index}[("{text}")]')
        elif kind == "return":
            lines.append(f'{ind}s{s.index}(["{text}"])')
        else:
            lines.append(f'{ind}s{s.index}["{text}"]')
    if open_rid is not None:
        lines.append("    end")
    for a, b, name, shape in mr.edges:
        if name:
            lines.append(f'    s{a} -->|"{_mm(name + ": " + shape)}"| s{b}')
        else:
            lines.append(f"    s{a} --> s{b}")
    return lines


# ---- json ---------------------------------------------------------------------------------------------


def _qj(q: Quantity, latex: bool = False) -> dict:
    out = q.to_json()
    if latex:
        out["latex"] = q.latex
    return out


def to_json(report: Report) -> dict:
    """The report as the JSON document of docs/reports.md (a dict)."""
    models = []
    for mr in report.models:
        nodes = []
        for r in mr.visible():
            nodes.append({
                "kind": r.kind, "path": list(r.path), "level": r.level, "name": r.name, "op": r.op,
                "file": r.file, "line": r.line,
                "shape": None if r.shape is None else list(r.shape), "dtype": r.dtype or None,
                "value": None if r.value is None else list(r.value),
                **({} if r.value_range is None else {"value_range": [list(v) for v in r.value_range]}),
                "inputs": [{"name": n, "shape": s} for n, s in r.inputs],
                "repeat": r.repeat.to_json(),
                "params": {"own": r.params_own.to_json(), "total": r.params_total.to_json()},
                "flops": {"own": r.flops_own.to_json(), "total": r.flops_total.to_json()},
                "memory": r.memory.to_json(), "param_bytes": r.param_bytes.to_json(),
                "calls": list(r.calls), "cut": mr.is_cut(r),
            })
        mem = mr.memory.to_json()
        mem.update({"unit": "bytes", "dtype_bytes": dict(DTYPE_BYTES)})
        models.append({
            "name": mr.name, "bindings": dict(mr.bindings), "binding_sources": dict(mr.sources),
            "dims": list(mr.dims), "unbound": list(mr.unbound), "lets": dict(mr.lets),
            "params": _qj(mr.params, True), "flops": _qj(mr.flops, True), "macs": _qj(mr.macs),
            "memory": mem, "param_bytes": _qj(mr.param_bytes), "buffers": _qj(mr.buffers),
            "buffer_bytes": _qj(mr.buffer_bytes), "input_bytes": _qj(mr.input_bytes),
            "total_bytes": _qj(mr.total_bytes),
            "depth": mr.depth, "notes": list(mr.notes), "nodes": nodes,
        })
    diags = [{"code": d.code, "severity": d.severity, "file": d.span.file, "line": d.span.line,
              "col": d.span.col, "message": d.message} for d in report.diagnostics]
    return {"schema": SCHEMA, "file": report.file, "models": models, "diagnostics": diags}


def render_json(report: Report) -> str:
    return json.dumps(to_json(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
