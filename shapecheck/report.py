"""Shape reports: every named tensor of a model with its symbolic and concrete
shape, the parameters and FLOPs it costs, and closed-form totals.

The library half of ``shapecheck report`` (no command-line knowledge, no
NumPy). :func:`build` turns a checked :class:`shapecheck.api.Result` into a
:class:`Report`; :func:`render` writes it as ``text``, ``markdown``, ``json``
or ``html``. The conventions (what a FLOP is, what counts as activation memory)
and the JSON schema are documented in ``docs/reports.md``.

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
>>> [(r.name, r.shape, r.value) for r in m.rows]
[('x', ('batch', 'd'), (3, 8)), ('y', ('batch', 'heads', 'd_head'), (3, 2, 4))]
>>> m.params.formula, m.params.value, m.flops.value, m.memory.value
('d**2 + d', 72, 408, 192)
"""
from __future__ import annotations

import html as _html
import json
from dataclasses import dataclass, field
from typing import Optional

import sympy

from . import ir
from .dims import as_expr, dim, evaluate, show

#: bytes per element of each dtype (activation memory)
DTYPE_BYTES = {"float": 4, "int": 8, "bool": 1}

#: the formats :func:`render` writes
FORMATS = ("text", "markdown", "json", "html")

#: the version of the JSON document (docs/reports.md)
SCHEMA = "shapecheck-report/1"


class ReportError(Exception):
    """Bad input to a report: an unknown model or dimension, a bad depth."""


# ---- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantity:
    """A closed formula (a sympy expression and its printed form) and its
    value at the bindings (None when a dimension it uses is unbound)."""
    expr: object
    formula: str
    value: Optional[int]

    def to_json(self) -> dict:
        return {"formula": self.formula, "value": self.value}


@dataclass(frozen=True)
class Row:
    """One named tensor, instantiated at its call site."""
    path: tuple                 # ("transformer", "encoder_layer@47", "attention@33")
    name: str
    op: str
    file: str
    line: int
    end_line: int
    shape: Optional[tuple]      # printed dimensions (let names preferred); None if unknown
    dtype: str
    value: Optional[tuple]      # concrete shape at the bindings
    params: Quantity            # created by the statement, one execution (includes called blocks)
    flops: Quantity             # of the statement, one execution (includes called blocks)
    repeat: Quantity            # executions per forward pass
    memory: Quantity            # numel x dtype size x repeat (0 for a `param`)
    calls: tuple = ()           # block calls inside the statement ("encoder_layer@47", ...)

    @property
    def depth(self) -> int:
        return len(self.path)

    @property
    def label(self) -> str:
        return " → ".join(self.path + (self.name,))

    def shape_text(self) -> str:
        return "?" if self.shape is None else "[" + ", ".join(self.shape) + "]"

    def value_text(self) -> str:
        return "" if self.value is None else "[" + ", ".join(str(v) for v in self.value) + "]"


@dataclass
class Stage:
    """A top-level statement of the model (with the rows of the blocks it calls)."""
    index: int
    rows: list                  # inner rows first (execution order), then the statement's own
    top: list                   # the statement's own rows (model level); empty for `return`
    source: str                 # the statement's text (annotation and comment removed)
    line: int
    uses: tuple = ()            # tensor names the statement reads
    repeat_id: Optional[int] = None
    repeat: Optional[Quantity] = None
    block_calls: tuple = ()     # block calls written in the statement ("mlp@36", ...)

    @property
    def calls(self) -> tuple:
        out = list(self.block_calls)
        for r in self.rows:
            if len(r.path) > 1 and r.path[1] not in out:
                out.append(r.path[1])
        return tuple(out)

    @property
    def names(self) -> tuple:
        return tuple(r.name for r in self.top)


@dataclass
class ModelReport:
    name: str
    file: str
    bindings: dict              # dimension -> int (bound ones only)
    sources: dict               # dimension -> "bind" | "example"
    dims: tuple                 # every dimension of the model
    lets: dict                  # let name -> printed expression
    params: Quantity
    flops: Quantity
    memory: Quantity
    rows: list
    stages: list
    edges: list                 # (from stage index, to stage index or "out", tensor name, shape text)
    notes: list = field(default_factory=list)
    depth: Optional[int] = None

    @property
    def unbound(self) -> tuple:
        return tuple(d for d in self.dims if d not in self.bindings)

    def visible(self) -> list:
        return [r for r in self.rows if self.depth is None or r.depth <= self.depth]


@dataclass
class Report:
    file: str
    models: list
    diagnostics: list = field(default_factory=list)


# ---- building ---------------------------------------------------------------------------------


def report_path(path: str, model: Optional[str] = None, binds: Optional[dict] = None,
                depth: Optional[int] = None) -> Report:
    """Check ``path`` and build its report (see :func:`build`)."""
    from .api import check_path

    return build(check_path(path), model=model, binds=binds, depth=depth)


def build(result, model: Optional[str] = None, binds: Optional[dict] = None,
          depth: Optional[int] = None) -> Report:
    """A :class:`Report` of the models of a checked ``result`` (an
    :class:`shapecheck.api.Result` without errors). ``binds`` overrides the
    example values; ``depth`` limits the rows to that many levels of block
    calls (1: the model's own tensors). Raises :class:`ReportError`."""
    if depth is not None and depth < 1:
        raise ReportError("the depth must be at least 1")
    if model is not None and model not in result.models:
        raise ReportError(f"{result.path} has no model `{model}` "
                          f"(models: {', '.join(result.models) or 'none'})")
    names = [model] if model is not None else list(result.models)
    binds = dict(binds or {})
    if names:
        known = set().union(*(result.models[n].dims for n in names))
        unknown = sorted(set(binds) - known)
        if unknown:
            raise ReportError(f"--bind {unknown[0]}: no dimension `{unknown[0]}` "
                              f"(dimensions: {', '.join(sorted(known))})")
    lets = _lets(result)
    models = [_model(result, result.models[n], binds, depth, lets) for n in names]
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


def _quantity(expr, env) -> Quantity:
    expr = as_expr(expr)
    return Quantity(expr, _tidy(show(expr)), _value(expr, env))


def _tidy(text: str) -> str:
    """Single spaces (the printer doubles them around a nested `/`)."""
    return " ".join(text.split())


def _model(result, m, binds, depth, lets) -> ModelReport:
    bindings, sources = {}, {}
    for k, v in m.examples.items():
        bindings[k], sources[k] = int(v), "example"
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

    def pshow(d) -> str:
        if not isinstance(d, sympy.Basic):
            return str(d)   # a variadic
        return _tidy(show(d.xreplace(unprint) if unprint else d))

    rows = []
    mem_terms: dict = {}
    nodes = m.nodes
    if m.nodes_truncated:
        notes.append(f"only the first {len(nodes):,} tensors are listed (the block calls instantiate more)")
    for n in nodes:
        shape = None if n.shape is None else tuple(pshow(d) for d in n.shape)
        value = None
        numel = None
        if n.shape is not None and all(isinstance(d, sympy.Basic) for d in n.shape):
            vals = [_value(d, env) for d in n.shape]
            value = None if any(v is None for v in vals) else tuple(vals)
            numel = sympy.Mul(*n.shape) if n.shape else sympy.Integer(1)
        if n.op == "param" or numel is None:
            mem = sympy.Integer(0)
        else:
            per = numel * DTYPE_BYTES.get(n.dtype, 4)
            rep = as_expr(n.repeat)
            mem_terms[rep] = mem_terms.get(rep, sympy.Integer(0)) + per
            mem = per * rep
        rows.append(Row(tuple(n.path), n.name, n.op, n.span.file, n.span.line, n.span.end_line, shape,
                        n.dtype, value, _quantity(n.params, env), _quantity(n.flops, env),
                        _quantity(n.repeat, env), _quantity(mem, env)))
    rows = _with_calls(rows)
    memory = sympy.Add(*(rep * total for rep, total in mem_terms.items()))
    block = _model_block(result, m.name)
    stages, edges = _stages(result, block, rows, env)
    shown_lets = {k: _tidy(show(v)) for k, v in lets.items()}
    return ModelReport(m.name, result.path, bindings, sources, tuple(order), shown_lets,
                       _quantity(m.params, env), _quantity(m.flops, env), _quantity(memory, env),
                       rows, stages, edges, notes, depth)


def _with_calls(rows) -> list:
    """Attach to each row the block calls its statement makes (the rows one
    level deeper whose call line lies in the statement's lines)."""
    out = []
    for r in rows:
        calls = []
        for c in rows:
            if len(c.path) > len(r.path) and c.path[:len(r.path)] == r.path:
                call = c.path[len(r.path)]
                line = _call_line(call)
                if line is not None and r.line <= line <= r.end_line and call not in calls:
                    calls.append(call)
        out.append(Row(**{**r.__dict__, "calls": tuple(calls)}))
    return out


def _call_line(call: str) -> Optional[int]:
    name, _, line = call.rpartition("@")
    return int(line) if name and line.isdigit() else None


def _model_block(result, name):
    scope = getattr(result, "scope", None)
    block = (getattr(scope, "models", None) or {}).get(name)
    return block if isinstance(block, ir.Block) else None


# ---- stages and dataflow ------------------------------------------------------------------------


def _names_used(e) -> list:
    out: list = []

    def walk(x):
        if isinstance(x, ir.Name):
            if x.id not in out:
                out.append(x.id)
        elif isinstance(x, ir.BinOp):
            walk(x.left)
            walk(x.right)
        elif isinstance(x, ir.Neg):
            walk(x.operand)
        elif isinstance(x, ir.Call):
            for a in x.args:
                walk(a)
            for k in x.kwargs:
                walk(k.value)
        elif isinstance(x, ir.Index):
            walk(x.base)
            for it in x.items:
                if isinstance(it, ir.Slice):
                    for p in (it.start, it.stop, it.step):
                        if p is not None:
                            walk(p)
                else:
                    walk(it)
        elif isinstance(x, ir.ListExpr):
            for it in x.items:
                walk(it)
    walk(e)
    return out


def _block_calls(e, blocks) -> list:
    """``name@line`` of every call of a block inside expression ``e`` (source order)."""
    out: list = []

    def walk(x):
        if isinstance(x, ir.Call):
            for a in x.args:
                walk(a)
            for k in x.kwargs:
                walk(k.value)
            if x.func in blocks:
                out.append(f"{x.func}@{x.span.line}")
        elif isinstance(x, ir.BinOp):
            walk(x.left)
            walk(x.right)
        elif isinstance(x, ir.Neg):
            walk(x.operand)
        elif isinstance(x, ir.Index):
            walk(x.base)
        elif isinstance(x, ir.ListExpr):
            for it in x.items:
                walk(it)
    walk(e)
    return out


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


def _stages(result, block, rows, env):
    """Group the rows by top-level statement; the dataflow edges between them."""
    stmts = _statements(block)
    by_span = {(st.span.file, st.span.line, st.span.col): (st, rid, rst) for st, rid, rst in stmts}
    stages: list = []
    pending: list = []
    for r in rows:
        if r.depth > 1:
            pending.append(r)
            continue
        if stages and stages[-1].top and stages[-1].top[-1].line == r.line and \
                stages[-1].top[-1].path == r.path and not pending and \
                stages[-1].top[-1].file == r.file:
            stages[-1].top.append(r)        # another target of the same statement
            stages[-1].rows.append(r)
            continue
        stages.append(Stage(len(stages), pending + [r], [r], "", r.line))
        pending = []
    if pending:
        stages.append(Stage(len(stages), pending, [], "", pending[0].line))
    # attach statements (source, uses, repeat) by position
    model_stmts = [(st, rid, rst) for st, rid, rst in stmts
                   if isinstance(st, (ir.Assign, ir.Input, ir.ParamDecl, ir.Return))]
    for s in stages:
        st = rid = rst = None
        if s.top:
            for (f, line, _col), (cand, crid, crst) in by_span.items():
                if f == s.top[0].file and line == s.top[0].line:
                    st, rid, rst = cand, crid, crst
                    break
        else:
            ret = [x for x in model_stmts if isinstance(x[0], ir.Return)]
            if ret:
                st, rid, rst = ret[-1]
        if st is None:
            s.source = ", ".join(s.names) or "return"
            continue
        s.source = _source(result, st)
        s.line = st.span.line
        blocks = set(getattr(getattr(result, "scope", None), "blocks", None) or ())
        if isinstance(st, ir.Assign):
            s.uses = tuple(_names_used(st.value))
            s.block_calls = tuple(_block_calls(st.value, blocks))
        elif isinstance(st, ir.Return):
            s.uses = tuple(n for v in st.values for n in _names_used(v))
            s.block_calls = tuple(c for v in st.values for c in _block_calls(v, blocks))
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
    ret = [x for x in model_stmts if isinstance(x[0], ir.Return)]
    if ret and (not stages or stages[-1].top):
        for name in _names_used(ret[-1][0].values[0]) if len(ret[-1][0].values) == 1 else \
                [n for v in ret[-1][0].values for n in _names_used(v)]:
            if name in last:
                src = last[name]
                shape = next((r.shape_text() for r in stages[src].top if r.name == name), "?")
                edges.append((src, "out", name, shape))
    elif stages and not stages[-1].top:
        edges.append((stages[-1].index, "out", "", ""))
    return stages, edges


# ---- rendering helpers ------------------------------------------------------------------------------


def _num(v: Optional[int]) -> str:
    return "" if v is None else f"{v:,}"


def _human_bytes(n: Optional[int]) -> str:
    if n is None:
        return ""
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if x < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return f"{n} B"  # pragma: no cover


def _human_count(n: Optional[int]) -> str:
    if n is None:
        return ""
    for unit, k in (("T", 10 ** 12), ("G", 10 ** 9), ("M", 10 ** 6), ("k", 10 ** 3)):
        if abs(n) >= k:
            return f"{n / k:.2f}{unit}"
    return str(n)


def _cell(q: Quantity) -> str:
    """A row's per-statement quantity: the value if known, else the formula."""
    if q.value is not None:
        return _num(q.value)
    return q.formula


def _repeat_cell(q: Quantity) -> str:
    if q.formula == "1":
        return ""
    return f"×{q.formula}" + (f" = {q.value:,}" if q.value is not None and q.formula != str(q.value) else "")


def _bindings_text(mr: ModelReport) -> str:
    parts = [f"{k}={v}" + (" (bind)" if mr.sources.get(k) == "bind" else "") for k, v in mr.bindings.items()]
    text = ", ".join(parts) if parts else "none"
    if mr.unbound:
        text += "; unbound: " + ", ".join(mr.unbound)
    return text


def render(report: Report, fmt: str, color: bool = False) -> str:
    """``report`` as ``text`` (``color``: ANSI colours), ``markdown``, ``json`` or ``html``."""
    if fmt == "text":
        return render_text(report, color=color)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        return render_html(report)
    raise ReportError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")


# ---- text --------------------------------------------------------------------------------------------

_C = {"bold": "\033[1m", "dim": "\033[2m", "cyan": "\033[36m", "green": "\033[32m", "yellow": "\033[33m",
      "reset": "\033[0m"}


def render_text(report: Report, color: bool = False) -> str:
    """An aligned table per model, then the totals."""
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
        header = ("line", "path", "op", "shape", "at bindings", "repeat", "params", "FLOPs")
        body = []
        for r in mr.visible():
            body.append((str(r.line), r.label, r.op, r.shape_text(), r.value_text(), _repeat_cell(r.repeat),
                         _clip(_cell(r.params), 40), _clip(_cell(r.flops), 40)))
        widths = [max([len(header[i])] + [len(b[i]) for b in body]) for i in range(len(header))]
        right = {0, 6, 7}
        styles = [None, None, "dim", "cyan", "green", "yellow", None, None]

        def line(cells, header_row=False):
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
        out.append("")
        out.append(c("bold", "totals") + " (closed formulas; value at the bindings)")
        for label, q, extra in (("parameters", mr.params, _human_count(mr.params.value)),
                                ("forward FLOPs", mr.flops, _human_count(mr.flops.value)),
                                ("activation memory (bytes)", mr.memory, _human_bytes(mr.memory.value))):
            val = f"{q.value:,}" + (f" ({extra})" if extra and extra != str(q.value) else "") \
                if q.value is not None else "(needs " + ", ".join(_needs(q, mr)) + ")"
            out.append(f"  {label:<26} {q.formula}")
            out.append(f"  {'':<26} = {c('green', val)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _needs(q: Quantity, mr: ModelReport) -> list:
    names = {s.name for s in as_expr(q.expr).free_symbols}
    return [d for d in mr.unbound if d in names] or ["unbound dimensions"]


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


# ---- markdown ------------------------------------------------------------------------------------------


def _md(s: str) -> str:
    """Inline code, safe inside a table cell."""
    if not s:
        return ""
    s = s.replace("|", "\\|")
    return f"`{s}`"


def _md_q(q: Quantity) -> str:
    return _num(q.value) if q.value is not None else _md(q.formula)


def render_markdown(report: Report) -> str:
    """A walkthrough by stage, with totals and a Mermaid dataflow chart."""
    out = []
    for mr in report.models:
        out.append(f"# Shape report: `{mr.name}`")
        out.append("")
        out.append(f"Spec `{mr.file}`, model `{mr.name}`.")
        out.append("")
        bound = ", ".join(f"`{k} = {v}`" + (" (--bind)" if mr.sources[k] == "bind" else "")
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
        out.append("| quantity | formula | at the bindings |")
        out.append("|---|---|---:|")
        out.append(f"| parameters | {_md(mr.params.formula)} | {_num(mr.params.value)} |")
        out.append(f"| forward FLOPs | {_md(mr.flops.formula)} | {_num(mr.flops.value)} |")
        mem = _num(mr.memory.value) + (f" ({_human_bytes(mr.memory.value)})" if mr.memory.value else "")
        out.append(f"| activation memory (bytes) | {_md(mr.memory.formula)} | {mem} |")
        out.append("")
        out.append("FLOPs: a multiply-add counts 2; activation memory: every named tensor "
                   "(not `param`s) x dtype size (float 4, int 8, bool 1) x repeat count "
                   "(docs/reports.md).")
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
            out.append("| line | path | op | shape | at bindings | repeat | params | FLOPs |")
            out.append("|---:|---|---|---|---|---|---:|---:|")
            for r in rows:
                out.append(f"| {r.line} | {' → '.join(r.path[1:] + (f'**{r.name}**',))} | {r.op} | "
                           f"{_md(r.shape_text())} | {_md(r.value_text())} | {_repeat_cell(r.repeat)} | "
                           f"{_md_q(r.params)} | {_md_q(r.flops)} |")
        out.append("")
        out.append("Per-row params and FLOPs are for one execution of the statement and include the blocks "
                   "it calls; the totals above count every execution.")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _sections(stages) -> list:
    """Stages grouped for the walkthrough: a run of `input`/`param`
    declarations is one section, every other statement its own."""
    out: list = []
    for s in stages:
        decl = bool(s.top) and len(s.rows) == len(s.top) and s.top[0].op in ("input", "param")
        if decl and out and out[-1][-1].top and out[-1][-1].top[0].op in ("input", "param") and \
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
        kind = s.top[0].op if s.top else ""
        if kind == "input":
            lines.append(f'{ind}s{s.index}(["{text}"])')
        elif kind == "param":
            lines.append(f'{ind}s{s.index}[("{text}")]')
        else:
            lines.append(f'{ind}s{s.index}["{text}"]')
    if open_rid is not None:
        lines.append("    end")
    lines.append('    out(["output"])')
    for a, b, name, shape in mr.edges:
        dst = "out" if b == "out" else f"s{b}"
        if name:
            lines.append(f'    s{a} -->|"{_mm(name + ": " + shape)}"| {dst}')
        else:
            lines.append(f"    s{a} --> {dst}")
    return lines


# ---- json ---------------------------------------------------------------------------------------------


def to_json(report: Report) -> dict:
    """The report as the JSON document of docs/reports.md (a dict)."""
    models = []
    for mr in report.models:
        nodes = []
        for r in mr.visible():
            nodes.append({
                "path": list(r.path), "name": r.name, "op": r.op, "file": r.file, "line": r.line,
                "shape": None if r.shape is None else list(r.shape), "dtype": r.dtype,
                "value": None if r.value is None else list(r.value),
                "params": r.params.to_json(), "flops": r.flops.to_json(), "repeat": r.repeat.to_json(),
                "memory": r.memory.to_json(), "calls": list(r.calls),
            })
        mem = mr.memory.to_json()
        mem.update({"unit": "bytes", "dtype_bytes": dict(DTYPE_BYTES)})
        models.append({
            "name": mr.name, "bindings": dict(mr.bindings), "binding_sources": dict(mr.sources),
            "dims": list(mr.dims), "unbound": list(mr.unbound), "lets": dict(mr.lets),
            "params": mr.params.to_json(), "flops": mr.flops.to_json(), "memory": mem,
            "depth": mr.depth, "notes": list(mr.notes), "nodes": nodes,
        })
    diags = [{"code": d.code, "severity": d.severity, "file": d.span.file, "line": d.span.line,
              "col": d.span.col, "message": d.message} for d in report.diagnostics]
    return {"schema": SCHEMA, "file": report.file, "models": models, "diagnostics": diags}


def render_json(report: Report) -> str:
    return json.dumps(to_json(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ---- html ---------------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1400px;
padding:0 1.5em;color:#1d2330;background:#fbfbfd}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #dde}
code,td.m,.f{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;margin:.6em 0;width:100%}
th,td{padding:3px 8px;border-bottom:1px solid #e4e6ee;vertical-align:top;text-align:left}
th{background:#eef0f7;position:sticky;top:0}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.d2 td.p{padding-left:1.6em}tr.d3 td.p{padding-left:3em}tr.d4 td.p{padding-left:4.4em}
tr.top td{background:#f6f8ff}
.path{color:#6a7087}.name{font-weight:600}.shape{color:#0b6e8a}.val{color:#237a3b}.rep{color:#9a6a00}
.f{word-break:break-all}.note{color:#9a6a00}
.diagram{overflow-x:auto;background:#fff;border:1px solid #e4e6ee;border-radius:6px;padding:8px}
"""


def _e(s) -> str:
    return _html.escape(str(s), quote=True)


def render_html(report: Report) -> str:
    """One standalone page: totals, an inline SVG dataflow diagram, the table."""
    body = []
    for mr in report.models:
        body.append(f"<h1>Shape report: <code>{_e(mr.name)}</code></h1>")
        body.append(f"<p>Spec <code>{_e(mr.file)}</code> &middot; bindings: <code>{_e(_bindings_text(mr))}</code>"
                    "</p>")
        if mr.lets:
            body.append("<p>Derived: " + ", ".join(f"<code>{_e(k)} = {_e(v)}</code>" for k, v in mr.lets.items())
                        + "</p>")
        for n in mr.notes:
            body.append(f'<p class="note">Note: {_e(n)}</p>')
        body.append("<h2>Totals</h2><table><tr><th>quantity</th><th>formula</th><th>at the bindings</th></tr>")
        for label, q, extra in (("parameters", mr.params, _human_count(mr.params.value)),
                                ("forward FLOPs", mr.flops, _human_count(mr.flops.value)),
                                ("activation memory (bytes)", mr.memory, _human_bytes(mr.memory.value))):
            val = _num(q.value) + (f" ({extra})" if extra and q.value is not None else "")
            body.append(f'<tr><td>{label}</td><td class="f">{_e(q.formula)}</td><td class="n">{_e(val)}</td></tr>')
        body.append("</table>")
        body.append("<h2>Dataflow</h2>")
        body.append(f'<div class="diagram">{_svg(mr)}</div>')
        body.append("<h2>Tensors</h2>")
        body.append("<table><tr><th>line</th><th>path</th><th>op</th><th>shape</th><th>at bindings</th>"
                    "<th>repeat</th><th>params</th><th>FLOPs</th></tr>")
        for r in mr.visible():
            cls = f"d{min(r.depth, 4)}" + (" top" if r.depth == 1 else "")
            prefix = "".join(f'<span class="path">{_e(p)} → </span>' for p in r.path[1:])
            body.append(
                f'<tr class="{cls}"><td class="n">{r.line}</td><td class="p">{prefix}'
                f'<span class="name">{_e(r.name)}</span></td><td>{_e(r.op)}</td>'
                f'<td class="m shape">{_e(r.shape_text())}</td><td class="m val">{_e(r.value_text())}</td>'
                f'<td class="rep">{_e(_repeat_cell(r.repeat))}</td><td class="n f">{_e(_cell(r.params))}</td>'
                f'<td class="n f">{_e(_cell(r.flops))}</td></tr>')
        body.append("</table>")
        body.append("<p>Per-row params and FLOPs are for one execution of the statement and include the blocks it "
                    "calls. FLOPs: a multiply-add counts 2. Activation memory: every named tensor except "
                    "<code>param</code>s, numel &times; dtype size (float 4, int 8, bool 1) &times; repeat.</p>")
    title = ", ".join(m.name for m in report.models) or report.file
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>shapecheck report: {_e(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _svg(mr: ModelReport) -> str:
    """A vertical flow of the top-level stages: boxes in execution order,
    dataflow edges (straight to the next stage, curved on the left otherwise)
    labelled with the tensor and its shape; `repeat` bodies framed."""
    box_w, box_h, gap, left, top = 460, 34, 40, 260, 16
    stages = list(mr.stages)
    n = len(stages) + 1
    ys = [top + i * (box_h + gap) for i in range(n)]
    width = left + box_w + 320
    height = ys[-1] + box_h + 16
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="ui-monospace,Menlo,Consolas,monospace" font-size="12">',
             '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#56607a"/></marker></defs>']
    # repeat frames
    groups: dict = {}
    for s in stages:
        if s.repeat_id is not None:
            groups.setdefault(s.repeat_id, []).append(s)
    for rid, ss in groups.items():
        y0, y1 = ys[ss[0].index] - 8, ys[ss[-1].index] + box_h + 8
        rep = ss[0].repeat.formula if ss[0].repeat is not None else "?"
        val = ss[0].repeat.value if ss[0].repeat is not None else None
        parts.append(f'<rect x="{left - 12}" y="{y0}" width="{box_w + 24}" height="{y1 - y0}" rx="8" '
                     'fill="#fff8e6" stroke="#d9a400" stroke-dasharray="5,4"/>')
        parts.append(f'<text x="{left + box_w + 18}" y="{y0 + 14}" fill="#9a6a00">repeat {_e(rep)}'
                     f'{"" if val is None or str(val) == rep else f" (×{val})"}</text>')
    # edges
    depth_of: dict = {}
    for a, b, name, shape in mr.edges:
        j = n - 1 if b == "out" else b
        label = f"{name}: {shape}" if name else ""
        if j == a + 1:
            x = left + box_w // 2
            parts.append(f'<line x1="{x}" y1="{ys[a] + box_h}" x2="{x}" y2="{ys[j] - 2}" stroke="#56607a" '
                         'marker-end="url(#a)"/>')
            if label:
                parts.append(f'<text x="{x + 8}" y="{ys[a] + box_h + gap // 2 + 4}" fill="#0b6e8a">'
                             f'{_e(label)}</text>')
            continue
        k = sum(1 for (x0, x1) in depth_of.values() if not (x1 <= a or x0 >= j))
        depth_of[(a, j, name)] = (a, j)
        off = 22 + 26 * min(k, 8)
        x0 = left
        ya, yb = ys[a] + box_h // 2, ys[j] + box_h // 2
        parts.append(f'<path d="M{x0},{ya} C{x0 - off},{ya} {x0 - off},{yb} {x0 - 2},{yb}" fill="none" '
                     'stroke="#8a93ab" marker-end="url(#a)"/>')
        if label:
            parts.append(f'<text x="{x0 - off * 0.75 - 4}" y="{(ya + yb) // 2 + 4}" text-anchor="end" '
                         f'fill="#0b6e8a">{_e(_short(label, 40))}</text>')
    # boxes
    for s in stages:
        y = ys[s.index]
        kind = s.top[0].op if s.top else ""
        fill = {"input": "#e8f4ea", "param": "#f3ecfa"}.get(kind, "#eef2fb")
        text = _short(f"L{s.line}: {s.source or ', '.join(s.names)}", 62)
        parts.append(f'<rect x="{left}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{fill}" '
                     'stroke="#7d88a6"/>')
        parts.append(f'<text x="{left + 10}" y="{y + box_h // 2 + 4}" fill="#1d2330">{_e(text)}</text>')
    y = ys[-1]
    parts.append(f'<rect x="{left + box_w // 2 - 60}" y="{y}" width="120" height="{box_h}" rx="17" fill="#fde9e7" '
                 'stroke="#b0625a"/>')
    parts.append(f'<text x="{left + box_w // 2}" y="{y + box_h // 2 + 4}" text-anchor="middle">output</text>')
    parts.append("</svg>")
    return "".join(parts)
