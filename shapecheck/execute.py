"""The numeric interpreter: runs a spec with NumPy at concrete sizes.

It reads the same IR as the symbolic interpreter and uses the same operation
table (each operation's NumPy kernel), but never the symbolic interpreter
itself: dimension expressions are evaluated here, directly from the IR, with
exact integer arithmetic. Every named tensor assignment is recorded with its
actual shape, at every call site and every loop iteration, so that
:mod:`shapecheck.verify` can compare it with the inferred shape.

>>> prog = program_from_source('''
... dim batch, d = 4
... model m {
...     input x: [batch, d]
...     y = linear(x, 2 * d)
...     return y
... }''', "m.shape")
>>> ex = run(prog, "m", {"batch": 3, "d": 4})
>>> [(r.name, r.shape) for r in ex.records]
[('x', (3, 4)), ('y', (3, 8))]
>>> ex.params
40
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Optional

import numpy as np

from . import ir
from .ops import OPS, ArgError, match_args
from .ops import core as K
from .program import Program
from .skeleton import (MISMATCH, CallArg, Interpreter, converts, handles, let_order, match_block_args,
                       mismatch_message, split_variadic, wrong_argument)
from .skeleton import Frame as BaseFrame
from .span import Span
from .values import ListV, Lit, TupleV, describe

#: The largest block-call nesting the interpreter follows (recursion guard).
MAX_CALL_DEPTH = 64
#: Exponent limit for ``**`` in dimension expressions.
MAX_EXPONENT = 64
#: The most statements one numeric run executes (each loop pass and block call
#: counted): a ``repeat 10 ** 9`` or an exponential call tree is refused, not run.
MAX_RUN_STEPS = 100_000


class ExecError(Exception):
    """A located failure of the numeric run (a kernel error, an inexact
    division, a violated `require`, a shape that does not unify...)."""

    def __init__(self, span: Optional[Span], message: str, notes=()):
        super().__init__(message)
        self.span = span
        self.message = message
        self.notes = tuple(notes)


# ---- values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntV:
    """An integer the spec computes: a dimension's size, an axis, an index (the
    numeric twin of the symbolic interpreter's :class:`shapecheck.infer.DimV`)."""
    value: int


def _kind(v) -> str:
    if isinstance(v, np.ndarray):
        return "a tensor"
    if isinstance(v, IntV):
        return "a dimension"
    return describe(v)


def dtype_name(a) -> str:
    """``"float"``, ``"int"`` or ``"bool"`` for a NumPy array."""
    k = np.asarray(a).dtype.kind
    return "bool" if k == "b" else "int" if k in "iu" else "float"


# ---- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One named tensor as it was computed: the numeric twin of an inferred
    node, with the same identity (``calls``: the :class:`shapecheck.ir.CallId`
    chain from the model; ``span``: the statement's span)."""
    path: tuple          # ("transformer", "encoder_layer@47", "attention@33")
    name: str
    op: str
    span: Span
    shape: tuple         # ints
    dtype: str
    calls: tuple = ()

    @property
    def key(self) -> tuple:
        """What identifies the tensor in both interpreters (see :func:`node_key`)."""
        return node_key(self)


def node_key(n) -> tuple:
    """The identity of a named tensor, an inferred node or a numeric record:
    the block calls that lead to it, its name and its statement."""
    return (n.calls, n.name, n.span)


@dataclass
class Execution:
    """The outcome of one numeric run of a model."""
    model: str
    bindings: dict
    records: list = field(default_factory=list)
    params: int = 0                 # weights allocated (each call site and loop pass)
    outputs: tuple = ()             # shapes of the returned tensors
    problems: list = field(default_factory=list)   # ExecError found without stopping
    flops: int = 0                  # forward FLOPs counted per executed operation (see op_flops)
    flops_unknown: tuple = ()       # operations executed that op_flops has no rule for
    buffers: int = 0                # non-parameter state allocated (batch norm's running statistics)
    seconds_weights: float = 0.0    # drawing weights
    seconds_kernels: float = 0.0    # running the operations' kernels (weights excluded)


# ---- loading: the one loader (shapecheck.program), no symbolic analysis -------------------------


def load_program(path: str, read: Optional[Callable[[str], str]] = None, text: Optional[str] = None) -> Program:
    """Load ``path`` and every file it `use`s into a :class:`~shapecheck.program.Program`
    (:func:`shapecheck.api.check_path` gives the same one in ``Result.program``).
    Raises :class:`ExecError` at the first loading error (unreadable, syntax, `use`)."""
    from .diagnostics import Reporter
    from .program import Loader
    from .program import load_program as load

    reporter = Reporter()
    prog = load(path, reporter, Loader(read), text)
    errors = [d for d in reporter.sorted() if d.is_error]
    if errors:
        raise ExecError(errors[0].span, f"{errors[0].code} {errors[0].message}")
    return prog


def program_from_source(text: str, path: str = "<string>") -> Program:
    """A :class:`~shapecheck.program.Program` from spec text (its `use`s are read from disk)."""
    return load_program(path, text=text)


# ---- the interpreter ---------------------------------------------------------------------------


class KernelContext:
    """What a kernel sees as ``k``: ``k.np`` (NumPy) and ``k.weight(shape)``,
    which draws a weight from a seeded generator and counts its elements.

    >>> k = KernelContext(seed=0, keep=True)
    >>> k.weight((3, 4)).shape, k.params, len(k.weights)
    ((3, 4), 12, 1)

    ``k.buffer(shape, fill)`` allocates non-parameter state (running statistics)
    and counts it in ``k.buffers``. ``k.seconds`` is the time spent drawing weights.
    """

    np = np

    def __init__(self, seed: int = 0, dtype=np.float32, rng=None, keep: bool = False):
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.dtype = dtype
        self.params = 0
        self.keep = keep
        self.weights: list = []
        self.buffers = 0
        self.seconds = 0.0          # spent drawing weights

    def buffer(self, shape, fill: float = 0.0):
        shape = tuple(int(d) for d in shape)
        self.buffers += math.prod(shape)
        return np.full(shape, fill, dtype=self.dtype)

    def weight(self, shape):
        shape = tuple(int(d) for d in shape)
        if any(d < 1 for d in shape):
            raise ValueError(f"a weight of shape {list(shape)} has a non-positive dimension")
        self.params += math.prod(shape)
        t0 = time.perf_counter()
        # uniform in [-s, s): cheaper to draw than normals; the values only need to be tame
        w = self.rng.random(shape, dtype=self.dtype)
        w -= self.dtype(0.5)
        w *= self.dtype(2.0 / math.sqrt(shape[0]) if len(shape) >= 2 else 2.0)
        self.seconds += time.perf_counter() - t0
        if self.keep:
            self.weights.append(w)
        return w


class _Frame(BaseFrame):
    """A block (or model) being run: the shared fields (:class:`shapecheck.skeleton.Frame`;
    dimensions are ints), the call depth and identity, the variadics' sizes."""

    def __init__(self, block: ir.Block, path: tuple, depth: int = 0):
        super().__init__(block, path)
        self.depth = depth
        self.variadics: dict = {}     # name -> tuple of ints
        self.calls: tuple = ()        # ir.CallId chain from the model to this frame


class _Runner(Interpreter):
    DIM = IntV

    def __init__(self, prog: Program, bindings: dict, seed: int, int_high: Optional[int],
                 dtype=np.float32):
        self.prog = prog
        self.bindings = {k: int(v) for k, v in bindings.items()}
        self.rng = np.random.default_rng(seed)
        self.k = KernelContext(rng=self.rng, dtype=dtype)
        self.dtype = dtype
        self.kernel_seconds = 0.0
        self.records: list = []
        self.problems: list = []
        self.flops = 0
        self.flops_unknown: set = set()
        self.lets: dict = {}
        self._lets_busy: set = set()
        self.int_high = int_high
        self.steps = 0
        self.call_cache: dict = {}     # id(statement) -> its block calls (ir.call_id)

    @property
    def param_count(self) -> int:
        """Weights drawn so far (each call site and loop pass)."""
        return self.k.params

    def weight(self, shape):
        return self.k.weight(shape)

    def make_input(self, shape, dtype):
        if dtype == "int":
            sizes = list(self.bindings.values()) + _literal_sizes(self.prog)
            high = self.int_high or max(1, min(sizes, default=1))
            return self.rng.integers(0, high, size=shape, dtype=np.int64)
        if dtype == "bool":
            return self.rng.random(shape) < 0.5
        return self.rng.standard_normal(shape, dtype=self.dtype)

    # -- globals -------------------------------------------------------------------------------
    def global_dim(self, name: str, span: Span):
        if name in self.prog.lets:
            if name not in self.lets:
                if name in self._lets_busy:
                    raise ExecError(span, f"`let {name}` refers to itself")
                self._lets_busy.add(name)
                try:
                    let = self.prog.lets[name]
                    self.lets[name] = self.eval_dim(self.globals_frame(), let.value, f"`let {name}`")
                finally:
                    self._lets_busy.discard(name)
            return self.lets[name]
        if name in self.prog.dims:
            if name not in self.bindings:
                raise ExecError(span, f"dimension `{name}` has no value; bind it (--bind {name}=N)")
            return self.bindings[name]
        return None

    def globals_frame(self) -> _Frame:
        return _Frame(ir.Block("<globals>", (), None, (), True, _NOSPAN, _NOSPAN), ("<globals>",))

    def check_requires(self, frame, conds, at: Optional[Span] = None, who: str = ""):
        for c in conds:
            a = self.eval_dim(frame, c.left, "a `require`")
            b = self.eval_dim(frame, c.right, "a `require`")
            ok = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[c.op]
            if not ok:
                text = f"{_show_ir(c.left)} {c.op} {_show_ir(c.right)}"
                if at is None:
                    raise ExecError(c.span, f"`require {text}` does not hold: {a} {c.op} {b} is false")
                raise ExecError(at, f"call to `{who}` needs {text}, which fails here ({a} {c.op} {b})",
                                [(c.span, "required here")])

    # -- models and blocks -------------------------------------------------------------------------
    def run_model(self, block: ir.Block) -> tuple:
        self.check_requires(self.globals_frame(), self.prog.requires)
        frame = _Frame(block, (block.name,))
        self.prepass(frame)
        self.run_body(frame, block.body)
        return frame.returns or ()

    def prepass(self, frame: _Frame, at: Optional[Span] = None):
        """The body's top-level `let`s (in dependency order) and `require`s."""
        lets = [st for st in frame.block.body if isinstance(st, ir.Let)]
        order, cycles = let_order(lets)
        if cycles:
            raise ExecError(cycles[0][0].name_span, f"`let {cycles[0][0].name}` depends on itself")
        for st in order:
            frame.dims[st.name] = self.eval_dim(frame, st.value, f"`let {st.name}`")
        conds = [c for st in frame.block.body if isinstance(st, ir.Require) for c in st.conds]
        self.check_requires(frame, conds, at, frame.block.name)

    def run_body(self, frame: _Frame, body):
        for st in body:
            if frame.returns is not None:
                return
            self.step(getattr(st, "span", None))
            frame.stmt = st
            self.stmt(frame, st)

    def step(self, span, n: int = 1):
        """Count ``n`` statement executions against :data:`MAX_RUN_STEPS`."""
        self.steps += n
        if self.steps > MAX_RUN_STEPS:
            raise ExecError(span, f"the numeric run stops after {MAX_RUN_STEPS:,} statements (loop passes and "
                                  f"block calls included); bind smaller sizes for the `repeat` counts")

    @handles(ir.Let)
    def do_let(self, frame: _Frame, st: ir.Let):
        if id(st) not in frame.toplevel:     # nested in a `repeat` (the prepass ran the others)
            frame.dims[st.name] = self.eval_dim(frame, st.value, f"`let {st.name}`")

    @handles(ir.Require)
    def do_require(self, frame: _Frame, st: ir.Require):
        """Checked by the prepass."""

    @handles(ir.Return)
    def do_return(self, frame: _Frame, st: ir.Return):
        frame.returns = tuple(self.tensor(frame, e, "`return`") for e in st.values)

    @handles(ir.Repeat)
    def do_repeat(self, frame: _Frame, st: ir.Repeat):
        n = self.eval_dim(frame, st.count, "`repeat`")
        if n < 1:
            raise ExecError(st.count.span, f"the repeat count is {n}, less than 1")
        if self.steps + n > MAX_RUN_STEPS:
            raise ExecError(st.count.span, f"the repeat count is {n:,}: more passes than a numeric run makes "
                                           f"(at most {MAX_RUN_STEPS:,} statements); bind a smaller size")
        saved = frame.dims.get(st.index) if st.index is not None else None
        for k in range(n):
            self.step(st.count.span)
            if st.index is not None:
                frame.dims[st.index] = k      # `repeat i in n`: i = 0, 1, ..., n - 1
            self.run_body(frame, st.body)
            if frame.returns is not None:
                break
        if st.index is not None:
            if saved is None:
                frame.dims.pop(st.index, None)
            else:
                frame.dims[st.index] = saved
        return

    @handles(ir.Input, ir.ParamDecl)
    def declare(self, frame: _Frame, st):
        shape = self.eval_shape(frame, st.shape)
        dtype = st.shape.dtype or "float"
        if isinstance(st, ir.Input):
            if not frame.block.is_model:
                raise ExecError(st.span, "`input` is only allowed in a model")
            if any(d < 1 for d in shape):
                raise ExecError(st.shape.span, f"input `{st.name}` has a non-positive dimension: {list(shape)}")
            try:
                value, what = self.make_input(shape, dtype), "input"
            except (ValueError, MemoryError) as e:   # rank over NumPy's limit, no memory
                raise ExecError(st.shape.span, f"cannot create input `{st.name}` of shape {list(shape)}: "
                                               f"{e}") from None
        else:
            try:
                value = self.weight(shape)
            except (ValueError, MemoryError) as e:
                raise ExecError(st.shape.span, str(e) or f"cannot allocate a weight of shape {list(shape)}") \
                    from None
            value = value.astype(np.int64) if dtype == "int" else (value > 0 if dtype == "bool" else value)
            what = "param"
        frame.vars[st.name] = value
        self.record(frame, st.name, what, st.span, value)

    def record(self, frame, name, op, span, value):
        self.records.append(Record(frame.path, name, op, span, tuple(int(d) for d in value.shape),
                                  dtype_name(value), frame.calls))

    @handles(ir.Assign)
    def do_assign(self, frame: _Frame, st: ir.Assign):
        value = self.expr(frame, st.value)
        if len(st.targets) == 1:
            values = [value]
        elif isinstance(value, (TupleV, ListV)) and len(value.items) == len(st.targets):
            values = list(value.items)
        else:
            n = len(value.items) if isinstance(value, (TupleV, ListV)) else 1
            raise ExecError(st.span, f"{len(st.targets)} names on the left but {n} value(s) on the right")
        op = ir.op_name(st.value)
        for name, tspan, v in zip(st.targets, st.target_spans, values):
            if isinstance(v, np.ndarray):
                frame.vars[name] = v
                self.record(frame, name, op, st.span, v)
            elif isinstance(v, IntV):
                frame.vars[name] = v
            else:
                raise ExecError(tspan, f"`{name}` must be a tensor or a dimension, got {_kind(v)}")
        if st.annotation is not None and len(values) == 1 and isinstance(values[0], np.ndarray):
            expected = self.eval_shape(frame, st.annotation)
            got = tuple(values[0].shape)
            if expected != got:
                self.problems.append(ExecError(st.annotation.span,
                                               f"`{st.targets[0]}` is {list(got)} but is annotated "
                                               f"{_show_ir_shape(st.annotation)} = {list(expected)}"))

    def call_block(self, frame: _Frame, e: ir.Call, block: ir.Block):
        if frame.depth >= MAX_CALL_DEPTH:
            raise ExecError(e.span, f"block calls nested deeper than {MAX_CALL_DEPTH} (recursive `{block.name}`?)")
        pos = [CallArg(self.expr(frame, a), a.span) for a in e.args]
        kws = [(k.name, CallArg(self.expr(frame, k.value), k.span), k.span) for k in e.kwargs]
        try:
            args = match_block_args(block, pos, kws)
            defaulted = args.defaults()
        except ArgError as err:
            raise _arg_error(err, e.span) from None
        got = args.given
        params = block.params
        cid = ir.call_id(frame.block.name, frame.stmt, e, self.prog.blocks, self.call_cache)
        sub = _Frame(block, frame.path + (cid.label,), frame.depth + 1)
        sub.calls = frame.calls + (cid,)
        generics = self.generics(block)
        note = [(block.name_span, f"`{block.name}` is declared here")]
        # dimension parameters first, then tensor parameters (their shapes may use them)
        for p in params:
            if isinstance(p, ir.DimParam) and p.name in got:
                v, sp = got[p.name]
                if not isinstance(v, IntV):
                    raise _arg_error(wrong_argument(block, p, K.DIM, _kind(v), sp), e.span)
                sub.dims[p.name] = v.value
        pending = []
        for p in params:
            if not isinstance(p, ir.TensorParam):
                continue
            if p.name in args.omitted:
                sub.vars[p.name] = Lit(None)
                continue
            v, sp = got[p.name]
            if not isinstance(v, np.ndarray):
                raise _arg_error(wrong_argument(block, p, K.TENSOR, _kind(v), sp), e.span)
            sub.vars[p.name] = v
            self.unify(sub, block, p, v, sp, generics, pending)
        for p in defaulted:   # in dependency order: a default may name a parameter whose own default comes later
            sub.dims[p.name] = self.eval_dim(sub, p.default, "a parameter default")
        self.resolve(sub, block, pending, generics)
        self.prepass(sub, at=e.span)
        self.run_body(sub, block.body)
        if sub.returns is None:
            raise ExecError(e.span, f"block `{block.name}` returned no value", note)
        if block.returns is not None:
            if len(block.returns) != len(sub.returns):
                raise ExecError(e.span, f"`{block.name}` declares {len(block.returns)} results but returned "
                                        f"{len(sub.returns)}", note)
            for v, sh in zip(sub.returns, block.returns):
                expected = self.eval_shape(sub, sh)
                if tuple(v.shape) != expected:
                    self.problems.append(ExecError(e.span, f"`{block.name}` returned {list(v.shape)} where it "
                                                           f"promises {_show_ir_shape(sh)} = {list(expected)}",
                                                   [(sh.span, "the declared result shape")]))
        return sub.returns[0] if len(sub.returns) == 1 else TupleV(sub.returns)

    def generics(self, block: ir.Block) -> set:
        out = set()
        for p in block.params:
            if isinstance(p, ir.DimParam):
                out.add(p.name)
            else:
                for item in p.shape.items:
                    if not isinstance(item, ir.Star):
                        out.update(n for n in ir.names_in(item) if not self.is_global(n))
        return out

    def is_global(self, n: str) -> bool:
        return self.prog.is_global(n)

    def unify(self, sub, block, p, arr, sp, generics, pending):
        items = list(p.shape.items)
        actual = [int(d) for d in arr.shape]
        split = split_variadic(items, actual, lambda it: isinstance(it, ir.Star))
        if split is None:
            raise ExecError(sp, f"argument `{p.name}` of `{block.name}` is {actual} (rank {len(actual)}) but the "
                                f"parameter is {_show_ir_shape(p.shape)}", [(p.span, "parameter declared here")])
        i, seg, pairs = split
        if i is not None:
            name = items[i].name
            if name in sub.variadics and sub.variadics[name] != seg:
                raise ExecError(sp, f"argument `{p.name}` of `{block.name}`: `*{name}` is {list(seg)} here but "
                                    f"{list(sub.variadics[name])} in an earlier argument")
            sub.variadics[name] = seg
        for item, d in pairs:
            if isinstance(item, ir.Name) and item.id in generics and item.id not in sub.dims:
                sub.dims[item.id] = d
            else:
                pending.append((item, d, p, sp, actual))

    def resolve(self, sub, block, pending, generics):
        while pending:
            progress = False
            for entry in list(pending):
                item, d, p, sp, actual = entry
                unbound = sorted({n for n in ir.names_in(item) if n in generics and n not in sub.dims})
                if len(unbound) > 1:
                    continue
                if unbound:
                    self.solve(sub, item, unbound[0], d)
                v = self.eval_dim(sub, item, "a parameter shape")
                if v != d:
                    raise ExecError(sp, f"argument `{p.name}` of `{block.name}` is {actual}: `{_show_ir(item)}` "
                                        f"must be {v}, found {d}", [(p.span, "parameter declared here")])
                pending.remove(entry)
                progress = True
            if not progress:
                item, d, p, sp, _ = pending[0]
                raise ExecError(sp, f"argument `{p.name}` of `{block.name}`: cannot infer the dimensions of "
                                    f"`{_show_ir(item)}` from {d}", [(p.span, "parameter declared here")])

    def solve(self, sub, item, name, target):
        """Bind ``name`` so that the (linear) ``item`` evaluates to ``target``."""
        vals = []
        for t in (2, 4):
            sub.dims[name] = t
            try:
                vals.append(Fraction(self.eval_dim(sub, item, "")))
            except ExecError:
                vals.append(None)
        del sub.dims[name]
        if None in vals or vals[0] == vals[1]:
            return
        slope = (vals[1] - vals[0]) / 2
        x = Fraction(2) + (Fraction(target) - vals[0]) / slope
        if x.denominator == 1 and x >= 1:
            sub.dims[name] = int(x)

    # -- shapes and dimension expressions -------------------------------------------------------------
    def eval_shape(self, frame, sh: ir.Shape) -> tuple:
        out = []
        for item in sh.items:
            if isinstance(item, ir.Star):
                if item.name not in frame.variadics:
                    raise ExecError(item.span, f"unknown variadic dimension `*{item.name}`")
                out.extend(frame.variadics[item.name])
            else:
                out.append(self.eval_dim(frame, item, "a shape"))
        return tuple(out)

    def eval_dim(self, frame, e, where: str) -> int:
        v = self.expr(frame, e)
        if not isinstance(v, IntV):
            raise ExecError(e.span, f"{where} needs a dimension expression, got {_kind(v)}")
        return v.value

    def tensor(self, frame, e, where):
        v = self.expr(frame, e)
        if not isinstance(v, np.ndarray):
            raise ExecError(e.span, f"{where} needs a tensor, got {_kind(v)}")
        return v

    # -- expressions -------------------------------------------------------------------------------------
    def lookup(self, frame, node: ir.Name):
        n = node.id
        if n in frame.dims:
            return IntV(frame.dims[n])
        g = self.global_dim(n, node.span)
        if g is not None:
            return IntV(g)
        if n in self.prog.blocks:
            raise ExecError(node.span, f"`{n}` is a block; call it: {n}(...)")
        raise ExecError(node.span, f"undefined name `{n}`")

    @handles(ir.Number)
    def number(self, frame, e: ir.Number):
        return IntV(e.value) if isinstance(e.value, int) else Lit(float(e.value))

    def star_items(self, frame, it: ir.Star):
        if it.name not in frame.variadics:
            raise ExecError(it.span, f"unknown variadic dimension `*{it.name}`")
        return [IntV(d) for d in frame.variadics[it.name]]

    def dim_neg(self, v):
        return IntV(-v.value)

    def dim_binop(self, frame, e: ir.BinOp, a, b):
        return IntV(dim_arith(e.op, a.value, b.value, e.span, exact=not frame.real_division))

    @handles(ir.Call)
    def call(self, frame, e: ir.Call):
        name = e.func
        if name in self.prog.blocks:
            return self.call_block(frame, e, self.prog.blocks[name])
        if name in ("floor", "ceil") and len(e.args) == 1 and not e.kwargs:
            # inside floor()/ceil() `/` is true division: evaluate with fractions
            saved, frame.real_division = frame.real_division, True
            try:
                v = self.expr(frame, e.args[0])
            finally:
                frame.real_division = saved
            if isinstance(v, IntV):
                q = Fraction(v.value)
                return IntV(math.floor(q) if name == "floor" else math.ceil(q))
            pos = [v]
        else:
            pos = [self.expr(frame, a) for a in e.args]
        if name in ("min", "max", "floor", "ceil") and pos and not e.kwargs and \
                all(isinstance(v, IntV) for v in pos):
            vals = [v.value for v in pos]
            if name in ("floor", "ceil"):      # (one argument was handled above)
                raise ExecError(e.span, f"{name}() takes one dimension expression")
            if len(vals) < 2:
                raise ExecError(e.span, f"{name}() of dimensions needs at least two arguments")
            return IntV(min(vals) if name == "min" else max(vals))
        o = OPS.get(name)
        if o is None or name in K.INTERNAL:
            raise ExecError(e.func_span, f"unknown operation `{name}`")
        args = [CallArg(v, a.span) for v, a in zip(pos, e.args)]
        kws = [(k.name, CallArg(self.expr(frame, k.value), k.span), k.span) for k in e.kwargs]
        return self.apply_op(frame, o, args, kws, e.span)

    @handles(ir.Index)
    def index(self, frame, e: ir.Index):
        base = self.expr(frame, e.base)
        if not isinstance(base, np.ndarray):
            raise ExecError(e.base.span, f"indexing needs a tensor, got {_kind(base)}")
        shape = base.shape
        ells = [it for it in e.items if isinstance(it, ir.EllipsisIndex)]
        if len(ells) > 1:
            raise ExecError(ells[1].span, "an index can have only one `...`")
        used = [it for it in e.items if not (isinstance(it, ir.EllipsisIndex) or _is_none(it))]
        if len(used) > len(shape):
            raise ExecError(e.span, f"too many indices ({len(used)}) for a tensor of rank {len(shape)}")
        items = []
        n = 0              # the axis of the tensor the next item indexes
        for it in e.items:
            if isinstance(it, ir.EllipsisIndex):
                items.append(Ellipsis)
                n += len(shape) - len(used)
                continue
            if _is_none(it):
                items.append(None)
                continue
            d = shape[n]
            n += 1
            if isinstance(it, ir.Slice):
                start, stop, step = (None if p is None else self.eval_dim(frame, p, "a slice bound")
                                     for p in (it.start, it.stop, it.step))
                if step is not None and step < 1:
                    raise ExecError(it.span, f"slice step must be a positive integer, got {step}")
                lo = 0 if start is None else (d + start if start < 0 else start)
                hi = d if stop is None else (d + stop if stop < 0 else stop)
                if lo < 0 or hi > d:
                    raise ExecError(it.span, f"slice {_show_slice(start, stop)} on axis {n - 1} is out of range "
                                             f"for a dimension of size {d}")
                if lo >= hi:
                    raise ExecError(it.span, f"slice {_show_slice(start, stop)} on axis {n - 1} is empty "
                                             f"(size {d})")
                items.append((start, stop, step))
            else:
                i = self.eval_dim(frame, it, "an index")
                if not -d <= i < d:
                    raise ExecError(it.span, f"index {i} on axis {n - 1} is out of range for a dimension of size {d}")
                items.append(i)
        return self.apply_op(frame, OPS["index"], [CallArg(base, e.base.span), CallArg(None, e.span)], [], e.span,
                             raw={"items": items})

    # -- operations -----------------------------------------------------------------------------------------
    def apply_op(self, frame, o, pos, kws, span, raw=None):
        try:
            matched = match_args(o, pos, kws)
        except ArgError as err:
            raise ExecError(err.span or span, f"{err.message}; expected {K.signature(o)}") from None
        extra = matched.pop("**")
        if raw:
            matched.update(raw)
        args = [self.convert(o, a, matched[a.name], span) for a in o.args]
        if o.varkw is not None:
            kw = {}
            for name, v in extra.items():
                if not isinstance(v.value, IntV):
                    raise ExecError(v.span, f"{o.name}: `{name}=` needs a dimension, got {_kind(v.value)}")
                kw[name] = v.value.value
            args.append(kw)
        if o.kernel is None:
            raise ExecError(span, f"`{o.name}` has no NumPy kernel")
        try:
            t0, w0 = time.perf_counter(), self.k.seconds
            with np.errstate(all="ignore"):
                out = o.kernel(self.k, *args)
            self.kernel_seconds += time.perf_counter() - t0 - (self.k.seconds - w0)
            n = op_flops(o.name, args, out)
            if n is None:
                self.flops_unknown.add(o.name)
            else:
                self.flops += n
        except Exception as err:  # a kernel's complaint, located at the call
            raise ExecError(span, f"{o.name}: {err}") from None
        if isinstance(out, (tuple, list)):
            return TupleV(tuple(np.asarray(x) for x in out))
        return np.asarray(out)

    # argument conversion (see skeleton.Interpreter.convert): what a kernel receives
    def mismatch(self, o, a: K.Arg, arg: CallArg):
        raise ExecError(arg.span, mismatch_message(o, a, _kind(arg.value)))

    @converts(K.TENSOR, K.OPT_TENSOR)
    def convert_tensor(self, o, a, v, sp):
        if isinstance(v, np.ndarray):
            return v
        if isinstance(v, IntV):
            return np.asarray(v.value, dtype=np.int64)
        if isinstance(v, Lit) and isinstance(v.value, (bool, float)):
            return np.asarray(v.value)
        return MISMATCH

    @converts(K.DIM_OR_TENSOR)
    def convert_dim_or_tensor(self, o, a, v, sp):
        if isinstance(v, IntV):
            return v.value
        return v if isinstance(v, np.ndarray) else MISMATCH

    @converts(K.DIM, K.AXIS)
    def convert_dim(self, o, a, v, sp):
        return v.value if isinstance(v, IntV) else MISMATCH

    @converts(K.AXES_OPT, K.DIMS)
    def convert_dims(self, o, a, v, sp):
        if isinstance(v, IntV):
            return v.value
        if isinstance(v, ListV) and all(isinstance(it, IntV) for it in v.items):
            return tuple(it.value for it in v.items)
        return MISMATCH

    def dim_number(self, v):
        return v.value

    @converts(K.SHAPE)
    def convert_shape(self, o, a, v, sp):
        if isinstance(v, ListV) and all(isinstance(it, IntV) for it in v.items):
            return tuple(it.value for it in v.items)
        return MISMATCH


_NOSPAN = Span("<globals>", 1, 1, 1, 2)


def _arg_error(err: ArgError, span: Span) -> ExecError:
    """The :class:`ExecError` of arguments that do not match a block's parameters."""
    return ExecError(err.span or span, err.message, err.notes)


def _is_none(e) -> bool:
    """``none`` inside an index: a new axis of size 1."""
    return isinstance(e, ir.Const) and e.value is None


def dim_arith(op: str, a, b, span: Optional[Span] = None, exact: bool = True):
    """Exact arithmetic of dimension expressions; ``/`` must divide (unless
    ``exact`` is False, inside ``floor()``/``ceil()``, where it gives a Fraction).

    >>> dim_arith("/", 12, 4), dim_arith("//", 7, 2), dim_arith("%", 7, 3), dim_arith("**", 2, 5)
    (3, 3, 1, 32)
    >>> dim_arith("/", 7, 2)
    Traceback (most recent call last):
    ...
    shapecheck.execute.ExecError: `7 / 2` is not an integer (7 is not divisible by 2)
    """
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "//", "%") and b == 0:
        raise ExecError(span, f"division by zero in a dimension expression (`{a} {op} {b}`)")
    if op == "/":
        q = Fraction(a) / Fraction(b)
        if not exact:
            return q
        if q.denominator != 1:
            raise ExecError(span, f"`{a} / {b}` is not an integer ({a} is not divisible by {b})")
        return int(q)
    if op == "//":
        return math.floor(Fraction(a) / Fraction(b))
    if op == "%":
        return a % b
    if op == "**":
        if b < 0:
            raise ExecError(span, "negative exponent in a dimension expression")
        if b > MAX_EXPONENT and abs(a) > 1:
            raise ExecError(span, f"exponent too large (at most {MAX_EXPONENT})")
        return a ** b
    raise ExecError(span, f"unsupported dimension operator {op}")


def _literal_sizes(prog: Program) -> list:
    """The positive integer literals that can size a table: those in shapes, slice bounds
    and `embedding` arguments (a table may be ``[3, d]`` or ``w[:3]``). Int inputs are drawn
    below the smallest of them and of the bound sizes, so they index any such table."""
    cached = getattr(prog, "_literal_sizes", None)
    if cached is not None:
        return cached
    out, seen = set(), set()
    todo = [(n, False) for n in [prog.module] + list(prog.blocks.values()) + list(prog.models.values())]
    while todo:
        node, sizing = todo.pop()
        if node is None or isinstance(node, (str, bytes, int, float, bool)) or (id(node), sizing) in seen:
            continue
        seen.add((id(node), sizing))
        if isinstance(node, ir.Number):
            if sizing and isinstance(node.value, int) and node.value >= 1:
                out.add(node.value)
            continue
        sizing = sizing or isinstance(node, (ir.Shape, ir.Slice)) or \
            (isinstance(node, ir.Call) and node.func == "embedding")
        if isinstance(node, (tuple, list)):
            todo.extend((n, sizing) for n in node)
        elif hasattr(node, "__dataclass_fields__"):
            todo.extend((getattr(node, f), sizing) for f in node.__dataclass_fields__ if f != "span")
    result = sorted(out)
    prog._literal_sizes = result
    return result


def _show_ir(e) -> str:
    """Spec text of a dimension expression (for messages)."""
    if isinstance(e, ir.Name):
        return e.id
    if isinstance(e, ir.Number):
        return e.text
    if isinstance(e, ir.Neg):
        return f"-{_show_ir(e.operand)}"
    if isinstance(e, ir.BinOp):
        def side(x):
            s = _show_ir(x)
            return f"({s})" if isinstance(x, ir.BinOp) else s
        return f"{side(e.left)} {e.op} {side(e.right)}"
    if isinstance(e, ir.Call):
        return f"{e.func}({', '.join(_show_ir(a) for a in e.args)})"
    if isinstance(e, ir.Star):
        return f"*{e.name}"
    return "?"


def _show_ir_shape(sh: ir.Shape) -> str:
    return "[" + ", ".join(_show_ir(i) for i in sh.items) + "]"


def _show_slice(start, stop) -> str:
    return f"{'' if start is None else start}:{'' if stop is None else stop}"


# ---- FLOP counting -----------------------------------------------------------------------------------
#
# The numeric twin of the symbolic FLOP formulas: each executed operation is
# counted from the actual NumPy arrays it received and produced, by rules
# written here per operation family (never from the symbolic ``Out.flops``).
# The convention (docs/reports.md): a multiply-add is 2 FLOPs; an elementwise
# arithmetic op or activation is 1 per output element; softmax 3 and
# log_softmax 4 per element; layer_norm 7 and rms_norm 4 per element; a
# reduction 1 per input element; masked_fill 1 per element; data movement,
# indexing, embedding lookups, constructors, `where` and dropout are free.


def _size(a) -> int:
    return int(np.asarray(a).size)


def _einsum_flops(equation: str, operands) -> int:
    """2 x the product of every distinct axis size (and the broadcast '...')."""
    lhs = equation.replace(" ", "").split("->")[0]
    sizes: dict = {}
    ell: tuple = ()
    for term, x in zip(lhs.split(","), operands):
        shape = np.shape(x)
        letters = term.replace("...", "")
        if "..." in term:
            before = term.index("...")
            n_ell = len(shape) - len(letters)
            ell = np.broadcast_shapes(ell, tuple(shape[before:before + n_ell]))
            dims = tuple(shape[:before]) + tuple(shape[before + n_ell:])
        else:
            dims = tuple(shape)
        for c, d in zip(letters, dims):
            sizes[c] = max(sizes.get(c, 1), int(d))
    return 2 * math.prod(sizes.values()) * math.prod(ell)


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


_FREE = frozenset({"transpose", "permute", "reshape", "rearrange", "concat", "stack", "split", "index",
                   "embedding", "broadcast_to", "causal_mask", "sinusoidal", "where", "dropout",
                   "flatten", "unflatten", "squeeze", "unsqueeze", "expand", "repeat_interleave",
                   "gather", "index_select", "one_hot", "roll", "flip", "pad", "unfold",
                   "pixel_shuffle", "pixel_unshuffle", "arange", "tril", "triu"})
_PER_OUTPUT = frozenset({"add", "sub", "mul", "div", "floordiv", "mod", "pow", "neg", "relu", "relu6", "gelu", "silu",
                         "tanh", "sigmoid", "exp", "log", "abs", "sqrt", "eq", "ne", "lt", "le", "gt", "ge",
                         "bitwise_and", "bitwise_or", "bitwise_not", "logical_and", "logical_or",
                         "logical_not"})
_PER_INPUT = {"sum": 1, "mean": 1, "max": 1, "min": 1, "softmax": 3, "log_softmax": 4, "layer_norm": 7,
              "rms_norm": 4, "argmax": 1, "argmin": 1, "topk": 1, "cumsum": 1, "cumprod": 1}


def op_flops(name: str, args: list, out) -> Optional[int]:
    """FLOPs of one executed operation from its actual arguments (as its
    kernel received them) and result; None for an operation without a rule.

    >>> x = np.ones((2, 3, 4)); w = np.ones((4, 5))
    >>> op_flops("linear", [x, 5, True], np.ones((2, 3, 5)))     # 2*6*4*5 + 6*5
    270
    >>> op_flops("matmul", [x, w], x @ w), op_flops("einsum", ["bij,jk->bik", [x, w]], x @ w)
    (240, 240)
    >>> op_flops("softmax", [x, -1], x), op_flops("rearrange", [x, "a b c -> a (b c)", {}], x)
    (72, 0)
    """
    o = OPS.get(name)
    if o is not None and o.count is not None:     # declared next to the operation's rule
        return int(o.count(args, out))
    if name in _FREE:
        return 0
    if name in _PER_OUTPUT:
        return _size(_first(out))
    if name in _PER_INPUT:
        return _PER_INPUT[name] * _size(args[0])
    if name == "masked_fill":
        return 0 if args[1] is None else _size(args[0])
    if name == "linear":
        x, y, bias = args[0], _first(out), args[2]
        return 2 * _size(y) * int(np.shape(x)[-1]) + (_size(y) if bias else 0)
    if name == "matmul":
        a = np.asarray(args[0])
        return 2 * _size(out) * int(a.shape[-1])
    if name == "einsum":
        return _einsum_flops(args[0], args[1])
    return None


# ---- entry points ------------------------------------------------------------------------------------


def run(prog: Program, model: str, bindings: dict, seed: int = 0, int_high: Optional[int] = None,
        dtype=np.float32) -> Execution:
    """Run ``model`` of ``prog`` with NumPy at ``bindings`` (every dimension name -> int).

    Inputs are random (int inputs uniform in ``[0, int_high)``, by default the
    smallest bound size, so they are valid indices for any embedding); weights
    come from a generator seeded with ``seed`` and are counted. Raises
    :class:`ExecError` (located) when the run cannot continue.
    """
    if model not in prog.models:
        raise KeyError(model)
    r = _Runner(prog, bindings, seed, int_high, dtype)
    missing = sorted(n for n in prog.dims if n not in r.bindings)
    if missing:
        raise ExecError(prog.dims[missing[0]].span, "no value for dimension" + ("s " if len(missing) > 1 else " ")
                        + ", ".join(f"`{m}`" for m in missing))
    outs = r.run_model(prog.models[model])
    return Execution(model, dict(r.bindings), r.records, r.param_count,
                     tuple(tuple(int(d) for d in o.shape) for o in outs), r.problems,
                     r.flops, tuple(sorted(r.flops_unknown)), r.k.buffers, r.k.seconds, r.kernel_seconds)
