"""The symbolic interpreter: checks every stage of a spec with sympy.

Blocks are checked once, generically (fresh symbols for the dimensions that
first appear in their parameters); a call unifies argument shapes with the
parameters and substitutes into the block's summary. ``repeat`` is analysed
once, with a loop-invariance check, never unrolled.
"""
from __future__ import annotations

import copy
import difflib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Optional

import sympy
from sympy import Integer

from . import ir
from . import messages as M
from .diagnostics import Note, Reporter
from .dims import (PROVED, REFUTED, Algebra, DimError, Facts, Relation, as_expr, expand, generic, mod, numel,
                   over_passes, pass_symbol, power, show, show_shape, subs, variadic_numel)
from .dims import UNKNOWN, Pass, Verdict
from .ops import OPS, ArgError, Op, TensorArg, Variadic, match_args
from .ops import core as K
from .skeleton import (MISMATCH, CallArg, Interpreter, converts, handles, let_order, match_block_args,
                       mismatch_message, split_variadic, wrong_argument)
from .skeleton import Frame as BaseFrame
from .span import Span
from .values import ListV, Lit, TupleV, describe

# ---- values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tensor:
    shape: Optional[tuple]          # None: unknown after an earlier error (absorbs checks)
    dtype: str = "float"
    origins: tuple = ()             # per axis: (Span, description) or None


POISON = Tensor(None)


@dataclass(frozen=True)
class DimV:
    expr: object


@dataclass(frozen=True)
class BlockRef:
    name: str


def kind_of(v) -> str:
    if isinstance(v, Tensor):
        return "a tensor"
    if isinstance(v, DimV):
        return "a dimension"
    if isinstance(v, Variadic):
        return "a variadic dimension"
    return describe(v)


# ---- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One named tensor of a model (or block) with its inferred shape.

    Identity (no string parsing or line matching needed): ``stmt`` is the IR
    statement that computes it (an ``ir.Assign``, ``ir.Input`` or
    ``ir.ParamDecl``; ``span`` is its span), and ``calls`` the chain of block
    calls that leads to it from the model, outermost first, each an
    :class:`shapecheck.ir.CallId` (``calls[0].stmt`` is the span of the model's
    statement that makes the first call). Two calls on one line have distinct
    ids. ``path`` is the display form: the model, then ``callee@line`` per call.
    """
    path: tuple          # e.g. ("transformer", "encoder_layer@37", "attention@12")
    name: str
    op: str
    span: Span
    shape: Optional[tuple]
    dtype: str
    params: object       # parameters created by this statement (one execution)
    flops: object        # FLOPs of this statement (one execution)
    repeat: object       # how many times the statement runs per forward pass
    calls: tuple = ()    # ir.CallId chain from the model, outermost first
    stmt: object = field(default=None, compare=False, repr=False)   # the ir statement
    #: per axis: (Span, what) that introduced the dimension, or None
    origins: tuple = field(default=(), compare=False, repr=False)
    #: the loops around the statement, outermost first: ``(pass symbol or None, count)``
    #: (``repeat`` is the number of executions they make; ``params`` and ``flops``,
    #: for one execution, may depend on a pass: :func:`shapecheck.dims.over_passes`)
    loops: tuple = field(default=(), compare=False, repr=False)

    def shape_str(self) -> str:
        return "?" if self.shape is None else show_shape(self.shape)


@dataclass(frozen=True)
class CallSite:
    """The tensors of one block call, recorded without copying them: the
    callee's items are instantiated (``sigma``) only when someone iterates
    :func:`iter_nodes`. Checking stays linear in the number of calls even
    when the instantiated tree is exponential (blocks calling blocks twice)."""
    prefix: tuple        # the caller's path + ("block@line",)
    items: tuple         # the callee's Node / CallSite items, in its own symbols
    sigma: dict
    var_sigma: dict
    mult: object         # the caller's repeat multiplier at the call
    params: object = Integer(0)   # the callee's parameters, one call, in its own symbols (subst sigma)
    flops: object = Integer(0)    # the callee's FLOPs, one call, in its own symbols
    call: object = None           # the ir.CallId of this call
    loops: tuple = ()             # the caller's loops at the call (Node.loops)


def iter_nodes(items):
    """Every Node of ``items`` (Nodes and CallSites), in execution order, each
    instantiated in the terms of the frame that recorded ``items``."""
    for it in items:
        if isinstance(it, Node):
            yield it
            continue
        sigma, var_sigma = it.sigma, it.var_sigma
        for n in iter_nodes(it.items):
            loops = it.loops + tuple((sym, _subst(c, sigma)) for sym, c in n.loops)
            yield Node(it.prefix + n.path[1:], n.name, n.op, n.span,
                       None if n.shape is None else _subst_shape(n.shape, sigma, var_sigma),
                       n.dtype, _subst(n.params, sigma), _subst(n.flops, sigma),
                       executions(loops) if _indexed(loops) else it.mult * _subst(n.repeat, sigma),
                       (it.call,) + n.calls, n.stmt, n.origins, loops)


@dataclass
class Summary:
    """What a block (or model) offers its callers, in its own symbols."""
    block: ir.Block
    signature: list = field(default_factory=list)   # the block's parameters: (ir param, kind, shape|symbol, dtype)
    returns: Optional[tuple] = None                 # tuple of Tensor
    preconds: list = field(default_factory=list)    # (Relation, Span, note)
    param_count: object = Integer(0)
    flops: object = Integer(0)
    nodes: list = field(default_factory=list)        # Node and CallSite items (see iter_nodes)
    buffer_count: object = Integer(0)               # state that is not a parameter (batch norm)
    generics: dict = field(default_factory=dict)
    variadics: set = field(default_factory=set)
    relations: tuple = ()


@dataclass
class Scope:
    """Everything global to a checked file (its own items and those it `use`s),
    in symbolic terms: built from a :class:`shapecheck.program.Program`."""
    program: object = None
    dims: dict = field(default_factory=dict)        # name -> (symbol, example expr|None, span)
    lets: dict = field(default_factory=dict)        # name -> (expr, span)
    relations: list = field(default_factory=list)   # (Relation, Span)
    blocks: dict = field(default_factory=dict)      # name -> ir.Block
    models: dict = field(default_factory=dict)      # name -> ir.Block
    broken: set = field(default_factory=set)        # global lets that failed (already reported)


@dataclass
class Checked:
    """What :func:`check_program` finds: the global scope, the example sizes,
    and the summary of each of the checked file's own models."""
    scope: Scope
    examples: dict                                  # dimension name -> int
    models: dict                                    # model name -> Summary


def check_program(program, reporter: Reporter) -> Checked:
    """Check a :class:`shapecheck.program.Program` symbolically: its global
    phase (lets and requires as a set, example values, SC205), then each block
    and model of the checked file itself."""
    from .dims import dim
    scope = Scope(program, {n: (dim(n), d.value, d.span) for n, d in program.dims.items()},
                  blocks=dict(program.blocks), models=dict(program.models))
    checker = Checker(scope, reporter)
    examples = checker.check_globals()
    for name, block in scope.blocks.items():
        if program.own(block):
            checker.summary(name)
    models = {name: checker.check_block(block) for name, block in scope.models.items() if program.own(block)}
    return Checked(scope, examples, models)


#: the frame of the global phase (lets and requires outside any block)
_GLOBALS = ir.Block("<globals>", (), None, (), True, Span("<globals>", 1, 1, 1, 2), Span("<globals>", 1, 1, 1, 2))


#: ``repeat ... in`` loops carrying a value, nested: each level analyses its body
#: once more (its quiet first pass), so the work doubles per level
MAX_PROBE_DEPTH = 8


def _indexed(loops) -> bool:
    return any(sym is not None for sym, _ in loops)


def executions(loops):
    """How many times a statement inside ``loops`` runs."""
    return over_passes(Integer(1), loops)


class Abort(Exception):
    """Stop checking the current operation (the problem was already reported)."""


# ---- the checker -----------------------------------------------------------------------------


class Frame(BaseFrame):
    """A block (or model) being checked: the shared fields (:class:`shapecheck.skeleton.Frame`;
    dimensions are sympy expressions), the facts in force and the costs counted."""

    def __init__(self, block: ir.Block, facts: Facts, path: tuple):
        super().__init__(block, path)
        self.facts = facts
        self.generic: set = set()     # symbols that are generic in this block
        self.variadics: set = set()
        self.mult = Integer(1)        # executions per run of the frame (over_passes(1, loops))
        self.loops: tuple = ()        # the enclosing `repeat`s: (pass symbol or None, count), outermost first
        self.params = Integer(0)
        self.flops = Integer(0)
        self.buffers = Integer(0)     # running statistics and other non-parameter state
        self.nodes: list = []
        self.preconds: list = []
        self.assigned_at: dict = {}
        self.in_require = False       # evaluating a `require`: divisions are not checked
        self.stmt_params: list = []   # the current statement's costs, for its Node
        self.stmt_flops: list = []

    def cost(self, params, flops, buffers=0):
        """Count what an operation or call creates and computes (``mult`` times,
        or summed over the passes of the loops where it depends on one)."""
        if buffers != 0:
            self.buffers += self.total(buffers)
        if params != 0:
            self.params += self.total(params)
            self.stmt_params.append(params)
        if flops != 0:
            self.flops += self.total(flops)
            self.stmt_flops.append(flops)

    def total(self, e):
        """``e`` (one execution) over every execution the enclosing loops make."""
        if _indexed(self.loops):
            return over_passes(e, self.loops)
        return self.mult * e

    @contextmanager
    def loop(self, sym, count):
        """Inside a ``repeat`` of ``count`` passes (``sym``: its pass symbol, or None)."""
        saved = self.mult, self.loops
        self.loops = self.loops + ((sym, count),)
        self.mult = executions(self.loops) if _indexed(self.loops) else self.mult * count
        try:
            yield
        finally:
            self.mult, self.loops = saved

    def fork(self) -> "Frame":
        """A copy to analyse a body on without changing this frame (its costs,
        nodes and preconditions start empty)."""
        f = copy.copy(self)
        f.vars, f.dims, f.assigned_at = dict(self.vars), dict(self.dims), dict(self.assigned_at)
        f.generic, f.variadics = set(self.generic), set(self.variadics)
        f.params = f.flops = f.buffers = Integer(0)
        f.nodes, f.preconds, f.stmt_params, f.stmt_flops = [], [], [], []
        return f


class Checker(Interpreter):
    DIM = DimV

    def __init__(self, scope: Scope, reporter: Reporter):
        self.scope = scope
        self.r = reporter
        self.summaries: dict = {}
        self.in_progress: list = []
        self.call_cache: dict = {}     # id(statement) -> its block calls (ir.call_id)
        self.probe_depth = 0           # quiet first passes of `repeat ... in` under way (first_pass)
        self.global_facts = Facts.build([rel for rel, _ in scope.relations])

    # -- reporting helpers --------------------------------------------------------------------
    def report(self, code, span, message, notes=(), evidence=None):
        """Report a message made elsewhere (an operation's rule, a prover or binder error)."""
        self.r.report(code, span, message, notes, evidence)

    def say(self, msg: M.Message, span, notes=(), evidence=None, code=None, **fields):
        """Report the finding ``msg`` (its template filled with ``fields``) under
        its code, or ``code`` where the caller chooses it (an operation's rule)."""
        M.say(self.r, msg, span, notes, evidence, code, **fields)

    def refute(self, frame, msg: M.Message, span, res, rel: Optional[Relation], notes=(), code=None,
               require: Optional[str] = None, **fields):
        """Report a refuted check: ``msg`` with the sizes where it fails
        (``{fails}``; none for a relation of constants, which fails at every
        size), the `require` that would exclude them unless none can (``{fix}``:
        ``require``, ``rel`` by default) and the evidence (``rel`` at those sizes)."""
        ev = None if rel is None or res is None else _evidence(frame, rel, res)
        if "fix" in msg.fields and "fix" not in fields:
            index = _pass_index(rel)
            fields["fix"] = M.PASS_INDEX.format(index=index) if index else \
                M.ADD_REQUIRE.format(require=rel.text() if require is None else require) \
                if _possible(frame, rel) else M.NOTHING_FIXES.format()
        constant = rel is not None and not rel.free_symbols     # fails at every size: none to show
        self.say(msg, span, notes, ev, code, fails="" if constant else M.fails(res), **fields)

    def undecided(self, msg: M.Message, span, require: str, notes=(), rel: Optional[Relation] = None, **fields):
        """Report an undecided check: ``msg`` with the advice to add ``require``
        (none can settle a relation ``rel`` on a loop's pass index)."""
        index = _pass_index(rel)
        self.say(msg, span, notes, advice=M.PASS_INDEX.format(index=index) if index else M.advice(require),
                 **fields)

    def settle(self, frame, res, span, rel: Relation, refuted: Optional[M.Message],
               unknown: Optional[M.Message], notes=(), require: Optional[str] = None, code=None, **fields) -> str:
        """Turn the three-valued result ``res`` of checking ``rel`` into a
        finding: nothing when proved; ``refuted`` with the sizes where it
        fails and its evidence when refuted; ``unknown`` with the advice to add
        ``require {require}`` (``rel`` by default) when undecided. ``None`` for
        either reports nothing. Returns the status."""
        if res.status == PROVED:
            return PROVED
        if res.status == REFUTED:
            if refuted is not None:
                self.refute(frame, refuted, span, res, rel, notes, code, require, **fields)
        elif unknown is not None:
            self.undecided(unknown, span, rel.text() if require is None else require, notes, rel, **fields)
        return res.status

    # -- globals ----------------------------------------------------------------------------------
    def global_lookup(self, name):
        if name in self.scope.lets:
            return DimV(self.scope.lets[name][0])
        if name in self.scope.dims:
            return DimV(self.scope.dims[name][0])
        if name in self.scope.blocks:
            return BlockRef(name)
        return None

    def check_globals(self) -> dict:
        """The global phase: every `let` and `require` of the file and the files
        it uses, solved as a set (:meth:`establish`); then the example values
        (SC204) and the requires they break (SC205). Returns the examples."""
        from .dims import EvalError
        prog, scope = self.scope.program, self.scope
        frame = Frame(_GLOBALS, self.global_facts, ("<globals>",))
        scope.relations.extend(self.establish(frame, list(prog.lets.values()), list(prog.requires)))
        for name, let in prog.lets.items():
            if name in frame.dims:
                scope.lets[name] = (frame.dims[name], let.span)
            else:
                scope.broken.add(name)
        self.global_facts = frame.facts
        examples = {}
        for name, (sym, value, span) in scope.dims.items():
            if value is None:
                continue
            v = self.eval_dim(frame, value, M.IN_EXAMPLE.format(name=name))
            if v is None:
                continue
            if not v.is_Integer or v < 1:
                self.say(M.EXAMPLE_NOT_POSITIVE, span, name=name, value=v)
            else:
                examples[name] = int(v)
        env = {scope.dims[n][0]: v for n, v in examples.items()}
        own = prog.module.path if prog.module is not None else None
        for rel, span in scope.relations:
            if rel.free_symbols and rel.free_symbols <= set(env) and span.file == own:
                try:
                    ok = rel.holds(env)
                except (EvalError, ArithmeticError):
                    continue
                if not ok:
                    shown = {s.name: env[s] for s in sorted(rel.free_symbols, key=lambda s: s.name)}
                    self.say(M.EXAMPLE_BREAKS_REQUIRE, span, relation=rel.text(), values=M.sizes(shown))
        return examples

    # -- blocks ------------------------------------------------------------------------------------
    def summary(self, name: str, call_span: Optional[Span] = None,
                omitted: frozenset = frozenset()) -> Optional[Summary]:
        """The block's summary, checked once per set of optional tensor
        parameters left out (``none``), since those change what runs."""
        block = self.scope.blocks[name]
        key = (name, omitted)
        if key in self.summaries:
            return self.summaries[key]
        if name in self.in_progress:
            chain = " -> ".join(self.in_progress[self.in_progress.index(name):] + [name])
            self.say(M.RECURSIVE_BLOCK, call_span or block.name_span, block=name, chain=chain)
            return None
        self.in_progress.append(name)
        try:
            s = self.check_block(block, omitted)
        finally:
            self.in_progress.pop()
        self.summaries[key] = s
        return s

    def check_block(self, block: ir.Block, omitted: frozenset = frozenset()) -> Summary:
        s = Summary(block)
        # generic dimensions: names in parameter shapes that are not global
        for p in block.params:
            if isinstance(p, ir.DimParam):
                s.generics[p.name] = generic(p.name)
            else:
                stars = [i for i in p.shape.items if isinstance(i, ir.Star)]
                if len(stars) > 1:
                    self.say(M.TWO_VARIADICS, stars[1].span, param=p.name,
                             found=", ".join("*" + x.name for x in stars))
                for item in p.shape.items:
                    if isinstance(item, ir.Star):
                        s.variadics.add(item.name)
                        continue
                    for n in ir.names_in(item):
                        if n not in s.generics and self.global_lookup(n) is None:
                            s.generics[n] = generic(n)
        frame = Frame(block, self.global_facts, (block.name,))
        frame.dims.update(s.generics)
        frame.generic = set(s.generics.values())
        frame.variadics = set(s.variadics)
        self.prepass(frame)
        s.relations = tuple(frame.facts.relations)
        seen = set()
        for p in block.params:
            if p.name in seen:
                self.say(M.PARAM_DEFINED_TWICE, p.span, param=p.name)
            seen.add(p.name)
            if isinstance(p, ir.DimParam):
                sym = s.generics[p.name]
                s.signature.append((p, "dim", sym, None))
                frame.vars[p.name] = DimV(sym)
                continue
            shape = self.eval_shape(frame, p.shape)
            dtype = p.shape.dtype or "float"
            if shape is not None and sum(isinstance(d, Variadic) for d in shape) > 1:
                shape = None    # reported above
            if shape is not None:
                self.check_positive_dims(frame, shape, p.shape)
            s.signature.append((p, "tensor", shape, dtype))
            origins = tuple((p.span, M.FROM_PARAMETER.format(name=p.name)) for _ in (shape or ()))
            if p.name in omitted:
                frame.vars[p.name] = Lit(None)
            else:
                frame.vars[p.name] = Tensor(shape, dtype, origins) if shape is not None else POISON
        self.run_body(frame, block.body)
        declared = None
        if block.returns is not None:
            declared = tuple(self.declared_tensor(frame, sh) for sh in block.returns)
        if frame.returns is None:
            if not block.is_model:
                self.say(M.NEVER_RETURNS, block.name_span, block=block.name)
            s.returns = declared
        elif declared is not None:
            s.returns = declared
        else:
            s.returns = frame.returns
        s.preconds = frame.preconds
        s.param_count = frame.params
        s.flops = frame.flops
        s.buffer_count = frame.buffers
        s.nodes = frame.nodes
        return s

    def declared_tensor(self, frame, sh: ir.Shape):
        shape = self.eval_shape(frame, sh)
        if shape is None:
            return POISON
        return Tensor(shape, sh.dtype or "float", tuple((sh.span, M.DECLARED_RESULT.format()) for _ in shape))

    # -- statements ------------------------------------------------------------------------------
    def prepass(self, frame: Frame):
        """Evaluate the body's top-level `let`s and `require`s first: they are
        the facts under which every statement is checked."""
        lets = [st for st in frame.block.body if isinstance(st, ir.Let)]
        conds = [c for st in frame.block.body if isinstance(st, ir.Require) for c in st.conds]
        for rel, span in self.establish(frame, lets, conds):
            if not frame.block.is_model:   # a model's requires are facts, not preconditions
                frame.preconds.append((rel, span, "required here"))

    def establish(self, frame: Frame, lets, conds):
        """Solve one level's declarations as a set, whatever their order: the
        `let`s in dependency order (a cycle is SC206), each read as written;
        then every `require` becomes a fact (a `require` naming a `let` is a
        fact about the let's expression), each checked against the ones before
        it (SC203); then each `let`'s own arithmetic is checked under all of
        them. Returns the relations with their spans."""
        order = self.let_order(frame, lets)
        saved, frame.in_require = frame.in_require, True   # read as written, checked below
        try:
            for st in order:
                if st.name in frame.vars:      # in a cycle (reported)
                    continue
                v = self.eval_dim(frame, st.value, M.IN_LET.format(name=st.name))
                if v is None:
                    frame.vars[st.name] = POISON    # reported already: later uses stay silent
                else:
                    frame.dims[st.name] = v
        finally:
            frame.in_require = saved
        added = []
        for c in conds:
            rel = self.relation(frame, c)
            if rel is None:
                continue
            added.append((rel, c.span))
            facts = Facts.build(list(frame.facts.relations) + [rel])
            # an equality or divisibility rewrites the earlier facts: check them all again
            new = None if rel.op == "==" else len(facts.ineqs) - len(frame.facts.ineqs)
            if facts.contradiction(new=new):
                self.say(M.UNSATISFIABLE_REQUIRE, c.span, relation=rel.text())
                continue
            frame.facts = facts
        for st in order:
            if st.name in frame.dims and self.eval_dim(frame, st.value, M.IN_LET.format(name=st.name)) is None:
                del frame.dims[st.name]
                frame.vars[st.name] = POISON
        return added

    def let_order(self, frame: Frame, lets) -> list:
        """``lets`` in dependency order; a name defined twice is SC102, a cycle
        SC206 (its members are poisoned, so later uses stay silent)."""
        unique: dict = {}
        for st in lets:
            if st.name in frame.dims or st.name in unique:
                self.say(M.ALREADY_DEFINED, st.name_span, name=st.name)
                continue
            unique[st.name] = st
        order, cycles = let_order(unique.values())
        for cycle in cycles:
            chain = " -> ".join([p.name for p in cycle] + [cycle[0].name])
            self.say(M.LET_CYCLE, cycle[0].name_span,
                     [Note(p.name_span, M.DEFINED_HERE.format(name=p.name)) for p in cycle[1:]],
                     name=cycle[0].name, chain=chain)
            for p in cycle:
                frame.vars[p.name] = POISON
        return order

    @handles(ir.Let)
    def do_let(self, frame, st: ir.Let):
        """A `let` nested in a `repeat` body: evaluated where it stands (the
        prepass has evaluated the top-level ones)."""
        if id(st) in frame.toplevel:
            return
        if st.name in frame.dims:
            self.say(M.ALREADY_DEFINED, st.name_span, name=st.name)
        v = self.eval_dim(frame, st.value, M.IN_LET.format(name=st.name))
        if v is not None:
            frame.dims[st.name] = v
        else:
            frame.vars[st.name] = POISON    # reported already: later uses stay silent

    def relation(self, frame, c: ir.Compare) -> Optional[Relation]:
        # a require states a fact: its divisions are not checked (the facts it gives may be
        # exactly what makes them exact), they are read as written
        saved, frame.in_require = frame.in_require, True
        try:
            left = self.eval_dim(frame, c.left, M.IN_REQUIRE.format())
            right = self.eval_dim(frame, c.right, M.IN_REQUIRE.format())
        finally:
            frame.in_require = saved
        if left is None or right is None:
            return None
        return Relation(c.op, left, right)

    def run_body(self, frame: Frame, body):
        for st in body:
            if frame.returns is not None and not isinstance(st, (ir.Let, ir.Require)):
                self.say(M.UNREACHABLE, st.span)
                break
            frame.stmt = st
            try:
                self.stmt(frame, st)
            except Abort:
                pass

    @handles(ir.Require)
    def do_require(self, frame, st: ir.Require):
        """The prepass has made the top-level `require`s facts; one nested in a `repeat` is an error."""
        if id(st) not in frame.toplevel:
            self.say(M.NESTED_REQUIRE, st.span)

    @handles(ir.Input)
    def do_input(self, frame, st: ir.Input):
        if not frame.block.is_model:
            self.say(M.INPUT_IN_BLOCK, st.span)
        self.declare(frame, st, "input", st.shape, counts=False)

    @handles(ir.ParamDecl)
    def do_param(self, frame, st: ir.ParamDecl):
        self.declare(frame, st, "param", st.shape, counts=True)

    def declare(self, frame, st, what, shape_ir, counts):
        if st.name in frame.vars:
            self.say(M.ALREADY_DEFINED, st.span, name=st.name)
        shape = self.eval_shape(frame, shape_ir)
        if shape is None:
            frame.vars[st.name] = POISON
            return
        if any(isinstance(d, Variadic) for d in shape):
            self.say(M.FIXED_RANK, shape_ir.span, what=what, name=st.name)
            frame.vars[st.name] = POISON
            return
        dtype = shape_ir.dtype or "float"
        self.check_positive_dims(frame, shape, shape_ir)
        t = Tensor(shape, dtype, tuple((st.span, M.FROM_DECLARATION.format(what=what, name=st.name)) for _ in shape))
        frame.vars[st.name] = t
        n = sympy.Mul(*shape) if counts else Integer(0)
        frame.cost(n, Integer(0))
        frame.nodes.append(Node(frame.path, st.name, what, st.span, shape, dtype, n, Integer(0), frame.mult,
                                stmt=st, loops=frame.loops))

    def check_positive_dims(self, frame, shape, shape_ir: ir.Shape):
        """Every dimension of a declared shape must be at least 1."""
        for d, item in zip(shape, shape_ir.items):
            if isinstance(d, Variadic) or (d.is_Symbol or (d.is_Integer and d >= 1)):
                continue
            self.settle(frame, frame.facts.positive(d), _span(item), Relation(">=", d, Integer(1)),
                        M.DIM_BELOW_ONE, M.DIM_UNDECIDED, dim=_s(d))

    @handles(ir.Assign)
    def do_assign(self, frame: Frame, st: ir.Assign):
        frame.stmt_params, frame.stmt_flops = [], []
        value = self.value_of(frame, st.value)
        param_count = expand(sympy.Add(*frame.stmt_params))   # what this statement costs, once
        flops = expand(sympy.Add(*frame.stmt_flops))
        if len(st.targets) == 1:
            values = [value]
        elif isinstance(value, (TupleV, ListV)):
            values = list(value.items)
            if len(values) != len(st.targets):
                self.say(M.UNPACK_COUNT, st.span, targets=len(st.targets), values=len(values))
                values = [POISON] * len(st.targets)
        elif value is POISON:
            values = [POISON] * len(st.targets)
        else:
            self.say(M.UNPACK_ONE, st.span, targets=len(st.targets))
            values = [POISON] * len(st.targets)
        if st.annotation is not None:
            if len(values) != 1:
                self.say(M.ANNOTATION_TARGETS, st.annotation.span)
            else:
                self.check_annotation(frame, st, values[0])
        op = ir.op_name(st.value)
        for i, (name, v) in enumerate(zip(st.targets, values)):
            if isinstance(v, (Lit, BlockRef)) or isinstance(v, ListV):
                self.say(M.TARGET_KIND, st.target_spans[i], name=name, kind=kind_of(v))
                v = POISON
            if name in frame.dims and not isinstance(v, DimV):
                self.say(M.TENSOR_SHADOWS_DIM, st.target_spans[i], name=name)
                continue
            frame.vars[name] = v
            frame.assigned_at[name] = st.span
            if isinstance(v, Tensor):
                frame.nodes.append(Node(frame.path, name, op, st.span, v.shape, v.dtype,
                                        param_count if i == 0 else Integer(0),
                                        flops if i == 0 else Integer(0), frame.mult, stmt=st,
                                        origins=v.origins, loops=frame.loops))

    def check_annotation(self, frame, st: ir.Assign, v):
        ann = st.annotation
        expected = self.eval_shape(frame, ann)
        if expected is None or v is POISON:
            return
        if isinstance(v, DimV):
            self.say(M.ANNOTATED_DIM, ann.span)
            return
        if not isinstance(v, Tensor):
            return
        self.compare_shapes(frame, v, expected, ann.dtype, ann.span, M.ANNOTATION_MISMATCH.code,
                            M.ANNOTATION_MISMATCH.format(name=st.targets[0], shape=show_shape(v.shape),
                                                         expected=show_shape(expected)),
                            [Note(None, M.ANNOTATION_CHECKED.format())], subject=M.NAMED.format(name=st.targets[0]))

    def compare_shapes(self, frame, v: Tensor, expected: tuple, dtype, span, code, headline, notes, subject):
        """Report a mismatch between ``v`` and ``expected`` (refuted: ``code``,
        the rendered ``headline`` then the detail; unknown: SC501). ``subject``
        is what the dtype and undecided findings name. Returns True when the
        shapes are proved equal."""
        if dtype is not None and v.dtype != dtype:
            self.say(M.SHAPE_DTYPE, span, subject=subject, dtype=v.dtype, expected=dtype)
        if len(v.shape) != len(expected) or any(
                isinstance(a, Variadic) != isinstance(b, Variadic) for a, b in zip(v.shape, expected)):
            self.say(M.SHAPE_MISMATCH, span, list(notes) + self.origin_notes(v, range(len(v.shape))), code=code,
                     headline=headline, detail=M.RANK_DETAIL.format(rank=len(v.shape), expected=len(expected)))
            return False
        bad, unknown = [], []
        for i, (a, b) in enumerate(zip(v.shape, expected)):
            if isinstance(a, Variadic):
                if a != b:
                    bad.append((i, None))
                continue
            res = frame.facts.equal(a, b)
            if res.status == REFUTED:
                bad.append((i, res))
            elif res.status != PROVED:
                unknown.append((i, a, b))
        if bad:
            parts = []
            for i, res in bad:
                a, b = v.shape[i], expected[i]
                # printed simplified under the facts (`floor((image - patch) / patch) + 1` is
                # `image / patch` under `require image % patch == 0`)
                parts.append(M.DIM_DETAIL.format(axis=i, found=_s(frame.facts.simplify(a)),
                                                 expected=_s(frame.facts.simplify(b)), fails=M.fails(res)))
            i, res = bad[0]
            ev = None if res is None else _evidence(frame, Relation("==", v.shape[i], expected[i]), res)
            self.say(M.SHAPE_MISMATCH, span, list(notes) + self.origin_notes(v, [i for i, _ in bad]), ev, code,
                     headline=headline, detail=M.DETAIL_SEPARATOR.format().join(parts))
            return False
        for i, a, b in unknown:
            self.undecided(M.SHAPE_DIM_UNDECIDED, span, Relation("==", a, b).text(), rel=Relation("==", a, b),
                           subject=subject, axis=i, found=_s(a), expected=_s(b))
        return not unknown

    def origin_notes(self, v: Tensor, axes) -> list:
        notes = []
        for i in axes:
            if i < len(v.origins) and v.origins[i] is not None:
                span, what = v.origins[i]
                notes.append(Note(span, M.ORIGIN.format(axis=i, dim=_s(v.shape[i]), what=what)))
        return notes

    @handles(ir.Return)
    def do_return(self, frame: Frame, st: ir.Return):
        values = []
        for e in st.values:
            v = self.value_of(frame, e)
            if not isinstance(v, Tensor):
                self.say(M.RETURN_NOT_TENSOR, _span(e), kind=kind_of(v))
                v = POISON
            values.append(v)
        frame.returns = tuple(values)
        block = frame.block
        if block.returns is None or frame.mult != 1:
            if frame.mult != 1:
                self.say(M.RETURN_IN_REPEAT, st.span)
            return
        if len(block.returns) != len(values):
            self.say(M.RESULT_COUNT, st.span, block=block.name, declared=len(block.returns), returned=len(values))
            return
        for v, sh in zip(values, block.returns):
            if v is POISON:
                continue
            expected = self.eval_shape(frame, sh)
            if expected is None:
                continue
            headline = M.RETURN_MISMATCH.format(shape=show_shape(v.shape), block=block.name,
                                                expected=show_shape(expected))
            self.compare_shapes(frame, v, expected, sh.dtype or "float", st.span, M.RETURN_MISMATCH.code, headline,
                                [Note(sh.span, M.DECLARED_RESULT.format())], subject=headline)

    @handles(ir.Repeat)
    def do_repeat(self, frame: Frame, st: ir.Repeat):
        """``repeat n { ... }``: the body is analysed once, never unrolled. A value
        carried around the loop must keep its shape; with ``repeat i in n`` it may
        instead grow by the same amount every pass, which is proved by induction
        (see :meth:`indexed_repeat`)."""
        n = self.eval_dim(frame, st.count, M.IN_REPEAT.format())
        if n is None:
            return
        self.settle(frame, frame.facts.positive(n), _span(st.count), Relation(">=", n, Integer(1)),
                    M.REPEAT_BELOW_ONE, M.REPEAT_UNDECIDED, count=_s(n))
        if st.index is not None:
            return self.indexed_repeat(frame, st, n)
        before = dict(frame.vars)
        with frame.loop(None, n):
            self.run_body(frame, st.body)
        grow = Note(None, M.NAME_THE_INDEX.format())
        for name, old in before.items():
            new = frame.vars.get(name)
            if isinstance(old, DimV) and isinstance(new, DimV) and new is not old:
                self.settle(frame, frame.facts.equal(old.expr, new.expr), frame.assigned_at.get(name, st.span),
                            Relation("==", old.expr, new.expr), M.LOOP_VALUE_CHANGE, M.LOOP_VALUE_UNDECIDED,
                            [Note(st.span, M.LOOP_KEEPS_VALUE.format()), grow], require=_equal(new.expr, old.expr),
                            name=name, count=_s(n), new=_s(new.expr), old=_s(old.expr))
                continue
            if new is old or not isinstance(old, Tensor) or old is POISON:
                continue
            if not isinstance(new, Tensor) or new is POISON:
                continue
            span = frame.assigned_at.get(name, st.span)
            self.compare_shapes(frame, new, old.shape, old.dtype, span, M.LOOP_SHAPE_CHANGE.code,
                                M.LOOP_SHAPE_CHANGE.format(name=name, shape=show_shape(new.shape), count=_s(n),
                                                           before=show_shape(old.shape)),
                                [Note(st.span, M.LOOP_KEEPS_SHAPE.format()), grow], subject=M.NAMED.format(name=name))

    def indexed_repeat(self, frame: Frame, st: ir.Repeat, n):
        """``repeat i in n { ... }``, by induction over the pass ``p = i + 1``.

        1. A quiet first pass (``i = 0``, nothing reported, nothing counted) gives
           each carried value's growth per pass, ``delta = after - before``.
        2. The hypothesis: at the start of pass ``p`` a carried value is
           ``before + (p - 1)*delta``. The body is analysed once under it, with
           ``1 <= p <= n`` among the facts, and everything it reports is reported.
        3. The step: after pass ``p`` the value must be ``before + p*delta``
           (proved, else SC404, or SC501 when undecided). The value after the
           loop is then ``before + n*delta``; parameters and FLOPs are sums over
           the passes (closed forms: :func:`shapecheck.dims.over_passes`)."""
        name = st.index
        if name in frame.vars or name in frame.dims or self.global_lookup(name) is not None:
            self.say(M.INDEX_DEFINED, st.index_span, name=name)
        p = pass_symbol(name)
        before = dict(frame.vars)
        saved_dim = frame.dims.get(name)
        carried = _assigned_in(st.body) & set(before)
        delta: dict = {}
        if carried:
            if self.probe_depth >= MAX_PROBE_DEPTH:
                self.say(M.LOOPS_TOO_DEEP, st.span, limit=MAX_PROBE_DEPTH)
                return
            first = self.first_pass(frame, st, name)
            if first is None:        # the loops nest too deeply to analyse (reported)
                return
            for v in sorted(carried):
                delta[v] = _growth(before[v], first.get(v))
        # the hypothesis, and the pass analysed once under it
        for v, d in delta.items():
            if d is not None:
                frame.vars[v] = _advance(before[v], d, p - 1)
        entry = {v: frame.vars[v] for v in before}
        frame.dims[name] = p - 1
        saved_facts = frame.facts
        frame.facts = Facts.build(list(frame.facts.relations) + [Relation("<=", p, n)])
        try:
            with frame.loop(p, n):
                self.run_body(frame, st.body)
            # the induction step
            for v, old in before.items():
                new = frame.vars.get(v)
                if new is entry[v] or old is POISON or new is POISON:
                    continue
                d = delta.get(v)
                self.check_step(frame, st, v, old, new, d, p, n)
        finally:
            frame.facts = saved_facts
        # after the loop: the values of the last pass (p = n)
        last = {p: n}
        if saved_dim is None:
            frame.dims.pop(name, None)
        else:
            frame.dims[name] = saved_dim
        def on_pass(e) -> bool:
            return isinstance(e, sympy.Basic) and e.has(p)
        for v, val in list(frame.vars.items()):   # values the loop left alone keep their identity
            if isinstance(val, DimV) and on_pass(val.expr):
                frame.vars[v] = DimV(_subst(val.expr, last))
            elif isinstance(val, Tensor) and val.shape is not None and any(map(on_pass, val.shape)):
                frame.vars[v] = Tensor(_subst_shape(val.shape, last, {}), val.dtype, val.origins)
        for k, e in list(frame.dims.items()):
            if on_pass(e):
                frame.dims[k] = _subst(e, last)

    def first_pass(self, frame: Frame, st: ir.Repeat, name: str) -> Optional[dict]:
        """The variables after a quiet analysis of the body at ``i = 0``: on a copy
        of the frame, by a checker that reports into a discarded reporter; None
        when a limit stopped that analysis (its SC005 is reported here, since the
        growth it would give is not known)."""
        quiet = copy.copy(self)
        quiet.r = Reporter()
        quiet.summaries = dict(self.summaries)
        quiet.in_progress = list(self.in_progress)
        quiet.probe_depth = self.probe_depth + 1
        f = frame.fork()
        f.dims[st.index] = Integer(0)
        with f.loop(None, Integer(1)):
            quiet.run_body(f, st.body)
        deep = M.LOOPS_TOO_DEEP.format(limit=MAX_PROBE_DEPTH)
        limits = [d for d in quiet.r.diagnostics if d.code == M.LOOPS_TOO_DEEP.code and d.message == deep]
        for d in limits:
            self.report(d.code, d.span, d.message, d.notes)
        return None if limits else f.vars

    def check_step(self, frame: Frame, st: ir.Repeat, v: str, old, new, d, p, n):
        """The induction step for carried value ``v``: after pass ``p`` it is
        ``old + p*d`` (``d`` None: its first pass changed its kind or rank)."""
        span = frame.assigned_at.get(v, st.span)
        loop = M.REPEAT_IN.format(index=st.index, count=_s(n))
        grows = d is not None and any(x != 0 for x in (d if isinstance(d, tuple) else (d,)))
        note = Note(st.span, (M.STEP_AFFINE if grows else M.STEP_KEEP_OR_GROW).format())
        fields = dict(name=v, index=st.index, loop=loop)
        if isinstance(old, DimV) and isinstance(new, DimV):
            want = old.expr + p * (d if d is not None else 0)
            self.settle(frame, frame.facts.equal(new.expr, want), span, Relation("==", new.expr, want),
                        M.STEP_VALUE_MISMATCH, M.STEP_VALUE_UNDECIDED, [note], new=_s(new.expr), want=_s(want),
                        **fields)
            return
        if not (isinstance(old, Tensor) and isinstance(new, Tensor)):
            return
        if d is None:
            self.compare_shapes(frame, new, old.shape, old.dtype, span, M.STEP_SHAPE_CHANGE.code,
                                M.STEP_SHAPE_CHANGE.format(shape=show_shape(new.shape),
                                                           before=show_shape(old.shape), **fields),
                                [note], subject=M.NAMED.format(name=v))
            return
        want = _advance(old, d, p).shape
        self.compare_shapes(frame, new, want, old.dtype, span, M.STEP_SHAPE_MISMATCH.code,
                            M.STEP_SHAPE_MISMATCH.format(shape=show_shape(new.shape), want=show_shape(want),
                                                         **fields),
                            [note], subject=M.NAMED.format(name=v))

    # -- shapes and dimension expressions ----------------------------------------------------------
    def eval_shape(self, frame, sh: ir.Shape) -> Optional[tuple]:
        out = []
        ok = True
        for item in sh.items:
            if isinstance(item, ir.Star):
                if item.name not in frame.variadics:
                    self.say(M.UNKNOWN_VARIADIC_IN_SHAPE, item.span, name=item.name)
                    ok = False
                else:
                    out.append(Variadic(item.name))
                continue
            e = self.eval_dim(frame, item, M.IN_SHAPE.format())
            if e is None:
                ok = False
            else:
                out.append(e)
        return tuple(out) if ok else None

    def eval_dim(self, frame, e, where: str):
        v = self.value_of(frame, e)
        if isinstance(v, DimV):
            return v.expr
        if v is not POISON:
            self.say(M.NOT_A_DIMENSION, _span(e), where=where, kind=kind_of(v))
        return None

    # -- expressions -------------------------------------------------------------------------------
    def value_of(self, frame: Frame, e):
        try:
            return self.expr(frame, e)
        except Abort:
            return POISON

    def lookup(self, frame, node: ir.Name):
        n = node.id
        if n in self.scope.broken:      # a global `let` whose error was reported
            raise Abort
        if n in frame.dims:
            return DimV(frame.dims[n])
        g = self.global_lookup(n)
        if g is not None:
            if isinstance(g, BlockRef):
                self.say(M.BLOCK_AS_VALUE, node.span, name=n)
                raise Abort
            return g
        if n in frame.variadics:
            self.say(M.VARIADIC_AS_VALUE, node.span, name=n)
            raise Abort
        candidates = list(frame.vars) + list(frame.dims) + list(self.scope.dims) + list(self.scope.lets)
        close = difflib.get_close_matches(n, candidates, n=1)
        self.say(M.UNDEFINED_NAME, node.span, name=n, hint=M.DID_YOU_MEAN.format(name=close[0]) if close else "")
        raise Abort

    @handles(ir.Number)
    def number(self, frame, e: ir.Number):
        return DimV(Integer(e.value)) if isinstance(e.value, int) else Lit(e.value)

    def star_items(self, frame, it: ir.Star):
        if it.name not in frame.variadics:
            self.say(M.UNKNOWN_VARIADIC, it.span, name=it.name)
            raise Abort
        return [Variadic(it.name)]

    def dim_neg(self, v):
        return DimV(-v.expr)

    def dim_binop(self, frame, e: ir.BinOp, a, b):
        return DimV(self.dim_arith(frame, e, a.expr, b.expr))

    def dim_arith(self, frame, e: ir.BinOp, a, b):
        op = e.op
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op in ("/", "//", "%") and b == 0:
            self.say(M.DIVISION_BY_ZERO, e.span)
            raise Abort
        if op in ("/", "//", "%") and b.is_positive is not True and not frame.in_require:
            if self.settle(frame, frame.facts.positive(b), _span(e.right), Relation(">=", b, Integer(1)),
                           M.DIVISOR_BELOW_ONE, M.DIVISOR_UNDECIDED, dim=_s(b)) == REFUTED:
                raise Abort
        if op == "/":
            if not (frame.real_division or frame.in_require) and not self.check_div(frame, a, b, e.span, ""):
                raise Abort
            return a / b
        if op == "//":
            return sympy.floor(a / b)
        if op == "%":
            return mod(a, b)
        if op == "**":
            try:
                return power(a, b)
            except DimError as err:
                self.report("SC005" if "large" in str(err) else "SC204", e.span, str(err))
                raise Abort
        raise AssertionError(op)  # pragma: no cover

    def check_div(self, frame, a, b, span, what) -> bool:
        """Report unless ``a / b`` is proved whole; False when refuted."""
        return self.settle(frame, frame.facts.integer(a / b), span, Relation("==", mod(a, b), Integer(0)),
                           M.INEXACT_DIVISION, M.DIVISION_UNDECIDED, require=f"{_binop(a, '%', b)} == 0",
                           what=M.WHAT.format(what=what) if what else "", quotient=_binop(a, "/", b)) != REFUTED

    @handles(ir.Index)
    def index(self, frame, e: ir.Index):
        base = self.expr(frame, e.base)
        items = []
        for it in e.items:
            if isinstance(it, ir.Slice):
                parts = []
                for p in (it.start, it.stop, it.step):
                    parts.append(None if p is None else self.eval_dim(frame, p, M.IN_SLICE.format()))
                    if p is not None and parts[-1] is None:
                        raise Abort
                items.append(tuple(parts))
            elif isinstance(it, ir.EllipsisIndex):
                items.append(Ellipsis)
            elif isinstance(it, ir.Const) and it.value is None:
                items.append(None)       # a new axis of size 1
            else:
                d = self.eval_dim(frame, it, M.IN_INDEX.format())
                if d is None:
                    raise Abort
                items.append(d)
        return self.apply_op(frame, OPS["index"], [CallArg(base, e.base.span), CallArg(None, e.span)], [],
                             e.span, raw={"items": items})

    @handles(ir.Call)
    def call(self, frame, e: ir.Call):
        name = e.func
        if name in ("floor", "ceil") and len(e.args) == 1 and not e.kwargs:
            # the division inside floor()/ceil() need not be exact
            saved, frame.real_division = frame.real_division, True
            try:
                d = self.eval_dim(frame, e.args[0], M.IN_CALL.format(name=name))
            finally:
                frame.real_division = saved
            if d is None:
                raise Abort
            return DimV(sympy.floor(d) if name == "floor" else sympy.ceiling(d))
        pos = [CallArg(self.expr(frame, a), a.span) for a in e.args]
        kws = [(k.name, CallArg(self.expr(frame, k.value), k.span), k.span) for k in e.kwargs]
        if name in self.scope.blocks:
            return self.call_block(frame, e, pos, kws)
        if name in ("min", "max", "floor", "ceil") and pos and all(isinstance(a.value, DimV) for a in pos) \
                and not kws:
            exprs = [a.value.expr for a in pos]
            if name in ("floor", "ceil"):      # (one argument was handled above)
                self.say(M.ONE_DIMENSION_ARGUMENT, e.span, name=name)
                raise Abort
            if len(exprs) < 2:
                self.say(M.TWO_DIMENSION_ARGUMENTS, e.span, name=name)
                raise Abort
            return DimV(sympy.Min(*exprs) if name == "min" else sympy.Max(*exprs))
        o = OPS.get(name)
        if o is None or name in K.INTERNAL:
            candidates = [k for k in OPS if k != "index"] + list(self.scope.blocks)
            close = difflib.get_close_matches(name, candidates, n=1)
            self.say(M.UNKNOWN_OPERATION, e.func_span, name=name,
                     hint=M.DID_YOU_MEAN.format(name=close[0]) if close else "")
            raise Abort
        return self.apply_op(frame, o, pos, kws, e.span)

    # -- operations -------------------------------------------------------------------------------
    def apply_op(self, frame, o: Op, pos, kws, span, raw=None):
        try:
            matched = match_args(o, pos, kws)
        except ArgError as err:
            self.say(M.OP_BAD_ARGUMENTS, err.span or span, problem=err.message, signature=K.signature(o))
            raise Abort
        extra = matched.pop("**")
        if raw:
            matched.update(raw)
        args = []
        inputs = []
        for a in o.args:
            val = matched[a.name]
            conv = self.convert(o, a, val, span)
            if conv is _POISONED:
                return POISON
            if isinstance(conv, TensorArg):
                inputs.append(val.value)
            elif isinstance(conv, list) and conv and isinstance(conv[0], TensorArg):
                if isinstance(val, CallArg) and isinstance(val.value, ListV):
                    inputs.extend(val.value.items)
                else:
                    inputs.extend(it.value for it in val)
            args.append(conv)
        if o.varkw is not None:
            kw = {}
            for name, (v, sp) in extra.items():
                if not isinstance(v, DimV):
                    self.say(M.OP_KEYWORD_NOT_DIMENSION, sp, op=o.name, name=name, kind=kind_of(v))
                    raise Abort
                kw[name] = v.expr
            args.append(kw)
        rule = _RuleCtx(self, frame, span)
        try:
            out = o.rule(rule, *args)
        except Abort:
            return POISON
        except DimError as err:
            self.report("SC005", span, str(err))
            return POISON
        outs = out if isinstance(out, tuple) else (out,)
        bad = False
        for oo in outs:            # every dimension an operation creates must be >= 1
            for d in oo.shape:
                if isinstance(d, Variadic) or (isinstance(d, int) and d >= 1):
                    continue
                d = as_expr(d)
                if d.is_positive is True:
                    continue
                if self.settle(frame, frame.facts.positive(d), span, Relation(">=", d, Integer(1)),
                               M.OP_DIM_BELOW_ONE, M.OP_DIM_UNDECIDED, op=o.name, dim=_s(d)) == REFUTED:
                    bad = True
        if bad:
            return POISON
        tensors = []
        for oo in outs:
            frame.cost(as_expr(oo.params), as_expr(oo.flops), as_expr(oo.buffers))
            shape = tuple(Integer(d) if isinstance(d, int) else d for d in oo.shape)
            tensors.append(Tensor(shape, oo.dtype, _origins(shape, inputs, span, o.name)))
        return TupleV(tuple(tensors)) if isinstance(out, tuple) else tensors[0]

    # argument conversion (see skeleton.Interpreter.convert): what a shape rule receives
    def convert_default(self, a: K.Arg, value):
        if a.kind == K.DIM and isinstance(value, int) and not isinstance(value, bool):
            return Integer(value)
        return value

    def convert_items(self, o: Op, name, kind, items, span):
        res = super().convert_items(o, name, kind, items, span)
        return _POISONED if any(r is _POISONED for r in res) else res

    def mismatch(self, o: Op, a: K.Arg, arg: CallArg):
        if arg.value is not POISON:     # a poisoned value's error is reported already: stay silent
            self.report(M.OP_ARGUMENT_KIND.code, arg.span, mismatch_message(o, a, kind_of(arg.value)))
        raise Abort

    @converts(K.TENSOR, K.OPT_TENSOR)
    def convert_tensor(self, o, a, v, sp):
        if v is POISON:
            return _POISONED
        if isinstance(v, Tensor):
            return TensorArg(v.shape, v.dtype)
        if isinstance(v, DimV):
            return TensorArg((), "int")
        if isinstance(v, Lit) and isinstance(v.value, (float, bool)):
            return TensorArg((), "bool" if isinstance(v.value, bool) else "float")
        return MISMATCH

    @converts(K.DIM_OR_TENSOR)
    def convert_dim_or_tensor(self, o, a, v, sp):
        if v is POISON:
            return _POISONED
        if isinstance(v, DimV):
            return v.expr
        if isinstance(v, Tensor):
            return TensorArg(v.shape, v.dtype)
        return MISMATCH

    @converts(K.DIM)
    def convert_dim(self, o, a, v, sp):
        return v.expr if isinstance(v, DimV) else MISMATCH

    @converts(K.AXIS)
    def convert_axis(self, o, a, v, sp):
        if not isinstance(v, DimV):
            return MISMATCH
        if not v.expr.is_Integer:
            self.say(M.OP_AXIS_NOT_CONSTANT, sp, op=o.name, arg=a.name, value=_s(v.expr))
            raise Abort
        return int(v.expr)

    @converts(K.AXES_OPT, K.DIMS)
    def convert_dims(self, o, a, v, sp):
        items = v.items if isinstance(v, ListV) else (v,)
        if not all(isinstance(it, DimV) for it in items):
            return MISMATCH
        if a.kind == K.AXES_OPT:
            odd = [it.expr for it in items if not it.expr.is_Integer]
            if odd:
                self.say(M.OP_AXES_NOT_CONSTANT, sp, op=o.name, arg=a.name, value=_s(odd[0]))
                raise Abort
        conv = tuple(int(it.expr) if a.kind == K.AXES_OPT else it.expr for it in items)
        return conv if isinstance(v, ListV) else conv[0]

    def dim_number(self, v):
        if not v.expr.is_number:
            return MISMATCH
        return int(v.expr) if v.expr.is_Integer else float(v.expr)

    @converts(K.SHAPE)
    def convert_shape(self, o, a, v, sp):
        if not isinstance(v, ListV):
            return MISMATCH
        out = []
        for it in v.items:
            if isinstance(it, DimV):
                out.append(it.expr)
            elif isinstance(it, Variadic):
                out.append(it)
            else:
                self.say(M.OP_SHAPE_NOT_DIMENSIONS, sp, op=o.name, arg=a.name, kind=kind_of(it))
                raise Abort
        return tuple(out)

    # -- block calls --------------------------------------------------------------------------------
    def arg_error(self, err: ArgError, span):
        """Report arguments that do not match a block's parameters (a message of the
        table, made by the skeleton; at ``span``, the call, unless ``err`` says where)
        and stop the call."""
        self.report(err.code, err.span or span, err.message, [Note(sp, text) for sp, text in err.notes])
        raise Abort

    def call_block(self, frame, e: ir.Call, pos, kws):
        block = self.scope.blocks[e.func]
        try:
            args = match_block_args(block, pos, kws)
        except ArgError as err:
            self.arg_error(err, e.span)
        summ = self.summary(e.func, e.span, args.omitted)
        if summ is None:
            raise Abort
        try:
            defaulted = args.defaults()
        except ArgError as err:
            self.arg_error(err, e.span)
        got = args.given
        sigma: dict = {}
        var_sigma: dict = {}
        bound_by: dict = {}
        deferred = []
        poisoned = False
        for (p, kind, shape, dtype) in summ.signature:
            if p.name not in got or p.name in args.omitted:
                continue
            v, sp = got[p.name]
            if kind == "dim":
                if not isinstance(v, DimV):
                    self.arg_error(wrong_argument(block, p, K.DIM, kind_of(v), sp), e.span)
                if shape in sigma:   # already bound by a tensor argument: the two must agree
                    deferred.append((shape, v.expr, p, sp, (shape,), Tensor((v.expr,))))
                else:
                    sigma[shape] = v.expr
                    bound_by[shape] = (p, sp)
                continue
            if v is POISON:
                poisoned = True
                continue
            if not isinstance(v, Tensor):
                self.arg_error(wrong_argument(block, p, K.TENSOR, kind_of(v), sp), e.span)
            if shape is None:
                poisoned = True
                continue
            if v.dtype != dtype:
                self.say(M.ARGUMENT_DTYPE, sp, [Note(p.span, M.PARAM_DECLARED.format())], param=p.name,
                         block=block.name, dtype=v.dtype, expected=dtype)
            self.unify(frame, summ, p, shape, v, sp, sigma, var_sigma, bound_by, deferred)
        # dim parameters left out take their default (unless a tensor argument bound them), evaluated
        # in the block's own terms, in dependency order (a default may name another parameter)
        symbol = {p.name: sym for (p, kind, sym, _) in summ.signature if kind == "dim"}
        defaults = {}
        for p in defaulted:
            sym = symbol[p.name]
            if sym in sigma:
                continue
            scratch = Frame(block, self.global_facts, frame.path)
            scratch.dims.update(summ.generics)
            d = self.eval_dim(scratch, p.default, M.IN_DEFAULT.format())
            if d is None:
                raise Abort
            defaults[sym] = subs(d, {**sigma, **defaults})
        sigma.update(defaults)
        self.check_deferred(frame, summ, sigma, deferred, bound_by)
        for sym, val in sigma.items():       # every generic dimension the block assumed >= 1
            if val.is_positive is True or sym not in set(summ.generics.values()):
                continue
            res = frame.facts.positive(val)
            if res.status == REFUTED:
                self.refute(frame, M.CALL_DIM_BELOW_ONE, e.span, res, Relation(">=", val, Integer(1)),
                            [Note(block.name_span, M.CHECKED_AT_LEAST_ONE.format(block=block.name, sym=_s(sym)))],
                            block=block.name, sym=_s(sym), value=_s(val))
                raise Abort
            self.settle(frame, res, e.span, Relation(">=", val, Integer(1)), None, M.CALL_DIM_UNDECIDED,
                        block=block.name, sym=_s(sym), value=_s(val))
        if poisoned:
            return POISON if summ.returns is None or len(summ.returns) == 1 else \
                TupleV(tuple(POISON for _ in summ.returns))
        # preconditions
        for rel, rspan, _note in summ.preconds:
            r2 = Relation(rel.op, _subst(rel.left, sigma), _subst(rel.right, sigma))
            self.check_precondition(frame, block, rel, r2, rspan, e.span, _note)
        # a variadic's element count in the block's costs: the product of what the call binds
        for name, seg in var_sigma.items():
            sigma[variadic_numel(Variadic(name))] = numel(seg)
        # parameters, flops and node records
        frame.cost(_subst(summ.param_count, sigma), _subst(summ.flops, sigma), _subst(summ.buffer_count, sigma))
        cid = ir.call_id(frame.block.name, frame.stmt, e, self.scope.blocks, self.call_cache)
        frame.nodes.append(CallSite(frame.path + (cid.label,), tuple(summ.nodes), dict(sigma), dict(var_sigma),
                                    frame.mult, summ.param_count, summ.flops, cid, frame.loops))
        if summ.returns is None:
            return POISON
        outs = []
        inputs = [v for v, _ in got.values() if isinstance(v, Tensor)]
        for t in summ.returns:
            if t is POISON or t.shape is None:
                outs.append(POISON)
                continue
            shape = _subst_shape(t.shape, sigma, var_sigma)
            outs.append(Tensor(shape, t.dtype, _origins(shape, inputs, e.span, M.NAMED.format(name=block.name))))
        return outs[0] if len(outs) == 1 else TupleV(tuple(outs))

    def unify(self, frame, summ: Summary, p, shape, v: Tensor, sp, sigma, var_sigma, bound_by, deferred):
        block = summ.block
        gens = set(summ.generics.values())
        items = list(shape)
        split = split_variadic(items, list(v.shape), lambda d: isinstance(d, Variadic))
        if split is None:
            self._rank_clash(block, p, shape, v, sp)
        i, seg, pairs = split
        if i is not None:
            name = items[i].name
            if name in var_sigma and var_sigma[name] != seg:
                # compared by provable equality, not by spelling (`require n == m`)
                old = var_sigma[name]
                res, a, b = self._same_segment(frame, old, seg)
                fields = dict(param=p.name, block=block.name, name=name, here=show_shape(seg),
                              before=show_shape(old))
                notes = [Note(p.span, M.PARAM_DECLARED.format())]
                if res is None:     # ranks or variadic parts differ
                    self.refute(frame, M.VARIADIC_CLASH, sp, None, None, notes, **fields)
                    raise Abort
                if res.status != PROVED and self.settle(frame, res, sp, Relation("==", a, b), M.VARIADIC_CLASH,
                                                        M.VARIADIC_UNDECIDED, notes, require=_equal(b, a),
                                                        **fields) == REFUTED:
                    raise Abort
            var_sigma[name] = seg
        for pd, ad in pairs:
            if isinstance(ad, Variadic):
                self.say(M.VARIADIC_AGAINST_DIM, sp, [Note(p.span, M.PARAM_DECLARED.format())], param=p.name,
                         block=block.name, variadic=ad, dim=_s(pd))
                raise Abort
            if pd.is_Symbol and pd in gens and pd not in sigma:
                sigma[pd] = ad
                bound_by[pd] = (p, sp)
            else:
                deferred.append((pd, ad, p, sp, shape, v))

    def _same_segment(self, frame, a, b):
        """Are two variadic segments provably the same? None when their ranks
        or variadic parts differ; else the first non-proved comparison (or proved),
        with the two dimensions compared."""
        if len(a) != len(b):
            return None, None, None
        worst = None
        for x, y in zip(a, b):
            if isinstance(x, Variadic) or isinstance(y, Variadic):
                if x != y:
                    return None, None, None
                continue
            res = frame.facts.equal(as_expr(x), as_expr(y))
            if res.status == REFUTED:
                return res, as_expr(x), as_expr(y)
            if res.status != PROVED and worst is None:
                worst = (res, as_expr(x), as_expr(y))
        return worst or (frame.facts.equal(Integer(0), Integer(0)), None, None)

    def _rank_clash(self, block, p, shape, v, sp):
        self.say(M.ARGUMENT_RANK, sp, [Note(p.span, M.PARAM_DECLARED.format())], param=p.name, block=block.name,
                 shape=show_shape(v.shape), rank=len(v.shape), expected=show_shape(shape))
        raise Abort

    def check_deferred(self, frame, summ: Summary, sigma, deferred, bound_by):
        block = summ.block
        gens = set(summ.generics.values())
        for pd, ad, p, sp, shape, v in deferred:
            expected = pd.xreplace(sigma)
            unbound = [s for s in expected.free_symbols if s in gens]
            if unbound:
                solved = _solve_linear(expected, ad, unbound)
                if solved is None:
                    self.say(M.CANNOT_INFER, sp, [Note(p.span, M.PARAM_DECLARED.format())], param=p.name,
                             block=block.name, sym=_s(unbound[0]), value=_s(ad), pattern=_s(pd))
                    raise Abort
                sym, val = solved
                num, den = sympy.fraction(sympy.together(val))
                if den != 1:     # `2 * k` from `n`: k = n / 2 must be whole (as must k = n / (m + 1))
                    self.check_div(frame, num, den, sp, M.INFERRING.format(sym=_s(sym), block=block.name))
                sigma[sym] = val
                continue
            res = frame.facts.equal(expected, ad)
            if res.status == PROVED:
                continue
            notes = [Note(p.span, M.PARAM_DECLARED_AS.format(param=p.name, shape=show_shape(shape)))]
            src = [s for s in pd.free_symbols if s in bound_by]
            for s in src:
                bp, bsp = bound_by[s]
                notes.append(Note(bsp, M.BOUND_BY.format(sym=_s(s), value=_s(sigma[s]), param=bp.name)))
            given = _s(ad) if isinstance(p, ir.DimParam) else show_shape(v.shape)
            if self.settle(frame, res, sp, Relation("==", expected, ad), M.ARGUMENT_MISMATCH, M.ARGUMENT_UNDECIDED,
                           notes, require=_equal(ad, expected), param=p.name, block=block.name,
                           given=given, pattern=_s(pd), expected=_s(expected), found=_s(ad)) == REFUTED:
                raise Abort

    def check_precondition(self, frame, block, rel, r2: Relation, rspan, call_span, _note):
        res = frame.facts.holds(r2)
        if res.status == PROVED:
            return
        if not frame.block.is_model and (r2.free_symbols & frame.generic):
            # the callers must guarantee it, so the rest of this block may assume it
            frame.preconds.append((r2, rspan, M.INHERITED.format(block=block.name)))
            facts = Facts.build(list(frame.facts.relations) + [r2])
            if facts.contradiction():
                self.say(M.PRECONDITION_IMPOSSIBLE, call_span,
                         [Note(rspan, M.BLOCK_REQUIRES.format(block=block.name, relation=rel.text(), why=""))],
                         block=block.name, relation=r2.text())
                return
            frame.facts = facts
            return
        why = "" if _note == "required here" else M.WHY.format(why=_note)
        notes = [Note(rspan, M.BLOCK_REQUIRES.format(block=block.name, relation=rel.text(), why=why))]
        self.settle(frame, res, call_span, r2, M.PRECONDITION_FAILS, M.PRECONDITION_UNDECIDED, notes,
                    block=block.name, relation=r2.text())


_POISONED = object()


class _RuleCtx(Algebra, K.Rule):
    def __init__(self, checker: Checker, frame: Frame, span: Span):
        self.c = checker
        self.frame = frame
        self.span = span

    def fail(self, code, message, evidence=None):
        self.c.report(code, self.span, message, evidence=evidence)
        raise Abort

    def settle(self, res, rel, refuted, unknown, code=None, require=None, **fields):
        """:meth:`Checker.settle` at the operation's span; a refutation stops the operation."""
        if self.c.settle(self.frame, res, self.span, rel, refuted, unknown, require=require, code=code,
                         **fields) == REFUTED:
            raise Abort

    def same(self, expected, found, what, code="SC305"):
        expected, found = as_expr(expected), as_expr(found)
        self.settle(self.frame.facts.equal(expected, found), Relation("==", expected, found), M.RULE_MISMATCH,
                    M.RULE_EQUALITY_UNDECIDED, code, require=Relation("==", found, expected).text(), what=what,
                    expected=_s(expected), found=_s(found))

    def div(self, a, b, what):
        a, b = as_expr(a), as_expr(b)
        if b == 0:
            self.c.say(M.RULE_DIVISION_BY_ZERO, self.span, what=what)
            raise Abort
        if not self.c.check_div(self.frame, a, b, self.span, what):
            raise Abort
        return a / b

    def at_most(self, a, b, what, code="SC307"):
        a, b = as_expr(a), as_expr(b)
        rel = Relation("<=", a, b)
        res = self.frame.facts.le(a, b)
        refuted = M.RULE_CAN_EXCEED
        gap = None
        if res.status == REFUTED:
            gap = self.frame.facts.sub(a - b)
            if not (a.free_symbols | b.free_symbols):
                refuted = M.RULE_EXCEEDS
            elif gap.is_number:      # fails at every size: no require can settle it
                refuted = M.RULE_EXCEEDS_BY
            elif not _possible(self.frame, rel):
                refuted = M.RULE_EXCEEDS_ALWAYS
        index = _pass_index(rel)
        fix = M.PASS_INDEX.format(index=index) if index else M.ADD_REQUIRE_IF_INTENDED.format(require=rel.text())
        self.settle(res, rel, refuted, M.RULE_BOUND_UNDECIDED, code, what=what, a=_s(a), b=_s(b),
                    gap=None if gap is None else _s(gap), fix=fix)

    def positive(self, e, what):
        e = as_expr(e)
        self.settle(self.frame.facts.positive(e), Relation(">=", e, Integer(1)), M.RULE_BELOW_ONE,
                    M.RULE_POSITIVE_UNDECIDED, what=what)

    def is_one(self, e) -> bool:
        """Is ``e`` 1 by the facts (``require n == 1``)?"""
        return not isinstance(e, Variadic) and self.frame.facts.sub(as_expr(e)) == 1

    def sign(self, e):
        """-1 if ``e <= -1`` is proved, 1 if ``e >= 0`` is, else None (no report)."""
        e = as_expr(e)
        if self.frame.facts.nonneg(e).status == PROVED:
            return 1
        if self.frame.facts.nonneg(-e - 1).status == PROVED:
            return -1
        return None

    def broadcast(self, a, b, what):
        n = max(len(a), len(b))
        out = []
        for i in range(1, n + 1):
            x = a[-i] if i <= len(a) else None
            y = b[-i] if i <= len(b) else None
            if x is None or y is None:
                out.append(x if y is None else y)
                continue
            if isinstance(x, Variadic) or isinstance(y, Variadic):
                if x != y:
                    self.c.say(M.RULE_BROADCAST_VARIADIC, self.span, what=what, a=show_shape(a),
                               b=show_shape(b), x=_s(x), y=_s(y))
                    raise Abort
                out.append(x)
                continue
            x, y = as_expr(x), as_expr(y)
            if x == y or y == 1 or self.is_one(y):
                out.append(x)
                continue
            if x == 1 or self.is_one(x):
                out.append(y)
                continue
            res = self.frame.facts.equal(x, y)
            if res.status == PROVED:
                out.append(x)
                continue
            from .dims import evaluate

            def bad(env, x=x, y=y):
                vx, vy = evaluate(x, env), evaluate(y, env)
                return vx != vy and vx != 1 and vy != 1
            found = self.frame.facts.find(bad, x.free_symbols | y.free_symbols)   # sizes where they clash
            self.settle(found or Verdict(UNKNOWN), Relation("==", x, y), M.RULE_BROADCAST,
                        M.RULE_BROADCAST_UNDECIDED, what=what, a=show_shape(a), b=show_shape(b), x=_s(x), y=_s(y))
            out.append(x)
        return tuple(reversed(out))


# ---- helpers ----------------------------------------------------------------------------------


def _s(e) -> str:
    return str(e) if isinstance(e, Variadic) else show(as_expr(e))


def _possible(frame, rel: Relation) -> bool:
    """Could ``require rel`` be added without contradicting the requires in
    force? (Advice never suggests an impossible require.)"""
    return not Facts.build(list(frame.facts.relations) + [rel]).contradiction()


def _evidence(frame, rel: Relation, res) -> Optional[tuple]:
    """What a refutation rests on: the failing relation, the sizes, the facts
    (None for a relation of constants, which fails at every size)."""
    if not rel.free_symbols:
        return None
    return (rel, dict(res.env or {}), tuple(frame.facts.relations))


def _pass_index(rel: Optional[Relation]) -> Optional[str]:
    """The index of a `repeat i in n` loop ``rel`` depends on, if any: no
    `require` (stated outside the loop) can name it."""
    passes = sorted(s.name for s in (rel.free_symbols if rel is not None else ()) if isinstance(s, Pass))
    return passes[0] if passes else None


def _equal(a, b) -> str:
    """``a == b``, as a `require` states it."""
    return f"{_s(a)} == {_s(b)}"


def _binop(a, op, b) -> str:
    """``a op b`` with parentheses where the operands need them."""
    def wrap(x):
        x = as_expr(x)
        text = show(x)
        return f"({text})" if isinstance(x, (sympy.Add, sympy.Mul)) and not x.is_Symbol else text
    return f"{wrap(a)} {op} {wrap(b)}"


def _span(e) -> Span:
    return e.span


def _subst(e, sigma):
    return subs(e, sigma)


def _subst_shape(shape, sigma, var_sigma):
    out = []
    for d in shape:
        if isinstance(d, Variadic):
            out.extend(var_sigma.get(d.name, (d,)))
        else:
            out.append(_subst(d, sigma))
    return tuple(out)


def _origins(shape, inputs, span, what):
    known = {}
    for t in inputs:
        if isinstance(t, Tensor) and t.shape is not None:
            for d, o in zip(t.shape, t.origins):
                if o is not None and d not in known:
                    known[d] = o
    return tuple(known.get(d, (span, M.NAMED.format(name=what) if not what.startswith("`") else what)) for d in shape)


def _solve_linear(expected, actual, unbound):
    if len(unbound) != 1:
        return None
    s = unbound[0]
    p = sympy.expand(expected)
    try:
        poly = sympy.Poly(p, s)
    except sympy.PolynomialError:
        return None
    if poly.degree() != 1:
        return None
    a, b = poly.all_coeffs()
    return s, sympy.expand((actual - b) / a) if a != 1 else sympy.expand(actual - b)


# ---- `repeat i in n`: growth by induction -------------------------------------------------


def _assigned_in(body) -> set:
    """The names a loop body assigns (nested `repeat` bodies included)."""
    out = set()
    for st in body:
        for node in ir.walk(st):
            if isinstance(node, ir.Assign):
                out.update(node.targets)
    return out


def _growth(old, new):
    """How a carried value changed over one pass: per axis for a tensor, one
    expression for a dimension; None when its kind or rank changed."""
    if isinstance(old, DimV) and isinstance(new, DimV):
        return expand(new.expr - old.expr)
    if not (isinstance(old, Tensor) and isinstance(new, Tensor)) or old.shape is None or new.shape is None:
        return None
    if len(old.shape) != len(new.shape):
        return None
    out = []
    for a, b in zip(old.shape, new.shape):
        if isinstance(a, Variadic) or isinstance(b, Variadic):
            if a != b:
                return None
            out.append(Integer(0))
        else:
            out.append(expand(b - a))
    return tuple(out)


def _advance(old, d, k):
    """``old`` grown ``k`` times by ``d``."""
    if isinstance(old, DimV):
        return DimV(expand(old.expr + k * d))
    return Tensor(tuple(a if isinstance(a, Variadic) else expand(a + k * x) for a, x in zip(old.shape, d)),
                  old.dtype, old.origins)
