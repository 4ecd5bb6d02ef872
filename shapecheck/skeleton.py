"""The semantics-free skeleton both interpreters share.

Nothing here decides a shape or a size: it orders, dispatches, matches and converts. The
symbolic interpreter (:mod:`shapecheck.infer`) and the numeric one
(:mod:`shapecheck.execute`) keep their own semantics (dimension arithmetic,
solving, `repeat`, preconditions, rule vs kernel) on top of it. It imports
neither sympy nor NumPy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

from . import ir
from . import messages as M
from .ops import core as K
from .ops.core import ArgError
from .span import Span
from .values import ListV, Lit


class CallArg(NamedTuple):
    """A call argument as an interpreter evaluated it, with where it is written
    (what :func:`shapecheck.ops.core.match_args` and :func:`match_block_args`
    match). Anything else an interpreter finds bound to an argument is a
    default, or a value it filled in itself (an index's items)."""
    value: object
    span: Span


def let_order(lets) -> tuple:
    """``lets`` (``ir.Let``, one per name) in dependency order, whatever their
    textual order, and the cycles found (each a list of lets, the first one
    where it is reported). Members of a cycle are left out of the order.

    >>> from .span import Span
    >>> sp = Span("f", 1, 1, 1, 2)
    >>> def let(n, *deps):
    ...     v = ir.Name(deps[0], sp) if deps else ir.Number(1, "1", sp)
    ...     for d in deps[1:]:
    ...         v = ir.BinOp("+", v, ir.Name(d, sp), sp)
    ...     return ir.Let(n, v, sp, sp)
    >>> order, cycles = let_order([let("half", "dh"), let("dh", "d"), let("a", "b"), let("b", "a")])
    >>> [s.name for s in order], [[s.name for s in c] for c in cycles]
    (['dh', 'half'], [['a', 'b']])
    """
    by_name = {st.name: st for st in lets}
    order, cycles, state = [], [], {}      # state: 1 on the current path, 2 done
    in_cycle: set = set()

    def visit(st, path):
        state[st.name] = 1
        for n in dict.fromkeys(ir.names_in(st.value)):
            dep = by_name.get(n)
            if dep is None or state.get(n) == 2:
                continue
            if state.get(n) == 1:
                cycle = path[[p.name for p in path].index(n):]
                cycles.append(cycle)
                in_cycle.update(p.name for p in cycle)
                continue
            visit(dep, path + [dep])
        state[st.name] = 2
        if st.name not in in_cycle:
            order.append(st)

    for st in lets:
        if st.name not in state:
            visit(st, [st])
    # a let that depends on a cycle member was ordered before the cycle was known: keep it
    # (its evaluation finds the poisoned member); drop the members themselves
    return [st for st in order if st.name not in in_cycle], cycles


# ---- block calls: matching arguments to parameters ----------------------------------------


@dataclass(frozen=True)
class BlockArgs:
    """A block call's arguments matched to the block's parameters, nothing
    converted: each interpreter turns them into its own values.

    ``given``: parameter name -> :class:`CallArg`, for each parameter the call
    passes (the positional ones, then the keywords as written); ``omitted``:
    the optional tensor parameters left out or passed ``none``."""
    block: ir.Block
    given: dict
    omitted: frozenset

    def defaults(self) -> tuple:
        """Check that every parameter has a value, and return the dimension
        parameters that take their default, in dependency order (a default may
        name a parameter whose own default comes later). Raises
        :class:`ArgError` for the first missing argument (in parameter order)
        or a cycle among the defaults."""
        block, waiting = self.block, []
        for p in block.params:
            if p.name in self.given or p.name in self.omitted:
                continue
            if isinstance(p, ir.DimParam) and p.default is not None:
                waiting.append(p)
                continue
            raise _error(M.BLOCK_MISSING_ARGUMENT, None, [(p.span, M.PARAM_DECLARED.format())],
                         block=block.name, param=p.name)
        order = []
        while waiting:
            names = {q.name for q in waiting}
            ready = [p for p in waiting if not set(ir.names_in(p.default)) & names]
            if not ready:
                raise _error(M.BLOCK_DEFAULTS_CYCLE, None, block=block.name)
            order.extend(ready)
            waiting = [p for p in waiting if p not in ready]
        return tuple(order)


def match_block_args(block: ir.Block, positional: list, keywords: list) -> BlockArgs:
    """Match a call's arguments to ``block``'s parameters: ``positional`` is a
    list of :class:`CallArg`, ``keywords`` of ``(name, CallArg, span)``.
    Raises :class:`ArgError` (span None: the whole call) for too many
    positional arguments, an unknown keyword or one given twice, in that order;
    :meth:`BlockArgs.defaults` then checks for missing ones.

    >>> from .span import Span
    >>> sp = Span("f", 1, 1, 1, 2)
    >>> b = ir.Block("mlp", (ir.TensorParam("x", ir.Shape((), None, sp), False, sp),
    ...                      ir.TensorParam("mask", ir.Shape((), None, sp), True, sp),
    ...                      ir.DimParam("hidden", ir.Name("d", sp), sp),
    ...                      ir.DimParam("d", ir.Number(4, "4", sp), sp)), None, (), False, sp, sp)
    >>> args = match_block_args(b, [CallArg("t", sp)], [])
    >>> list(args.given), sorted(args.omitted), [p.name for p in args.defaults()]
    (['x'], ['mask'], ['d', 'hidden'])
    >>> try:
    ...     match_block_args(b, [], [("hiden", CallArg(1, sp), sp)])
    ... except ArgError as err:
    ...     print(err.code, err.message)
    SC105 `mlp` has no parameter `hiden`; did you mean `hidden`? (parameters: x, mask, hidden, d)
    >>> match_block_args(b, [], []).defaults()
    Traceback (most recent call last):
    ...
    shapecheck.ops.core.ArgError: `mlp` is missing argument `x`
    """
    from .parse import suggest
    params = block.params
    if len(positional) > len(params):
        raise _error(M.BLOCK_ARITY, None, block=block.name, count=len(params), given=len(positional))
    given = {p.name: a for p, a in zip(params, positional)}
    names = [p.name for p in params]
    for name, arg, span in keywords:
        if name not in names:
            hint = suggest(name, sorted(names))
            raise _error(M.BLOCK_NO_PARAMETER, span, block=block.name, name=name,
                         hint=M.DID_YOU_MEAN.format(name=hint) if hint else "", params=", ".join(names) or "none")
        if name in given:
            raise _error(M.BLOCK_GIVEN_TWICE, span, block=block.name, name=name)
        given[name] = arg
    omitted = frozenset(p.name for p in params if isinstance(p, ir.TensorParam) and p.optional
                        and (p.name not in given or _is_none(given[p.name].value)))
    return BlockArgs(block, given, omitted)


def _is_none(v) -> bool:
    return isinstance(v, Lit) and v.value is None


def _error(msg: M.Message, span, notes=(), **fields) -> ArgError:
    return ArgError(msg.format(**fields), span, notes, msg.code)


def wrong_argument(block: ir.Block, p, kind: str, got: str, span) -> ArgError:
    """``argument `p` of `block` must be <what kind accepts>, got <got>`` (at the argument)."""
    return _error(M.ARGUMENT_KIND, span, [(p.span, M.PARAM_DECLARED.format())], param=p.name, block=block.name,
                  want=K.WANT[kind], kind=got)


# ---- dispatch by node type -----------------------------------------------------------------


class UnknownNode(Exception):
    """An IR node that no handler of the interpreter takes: an internal error
    (a node class added to :mod:`shapecheck.ir` without handlers), located at
    the node."""

    def __init__(self, interpreter: str, node):
        self.node = node
        self.span = getattr(node, "span", None)
        where = f" at {self.span.file}:{self.span.line}:{self.span.col}" if self.span is not None else ""
        super().__init__(f"internal error: {interpreter} has no handler for the IR node "
                         f"{type(node).__name__}{where}")


def handles(*classes):
    """Declare a method the handler of these IR node classes (statements or
    expressions): ``method(self, frame, node)``."""
    def deco(fn):
        fn.handles = classes
        return fn
    return deco


def converts(*kinds):
    """Declare a method the converter of these argument kinds (of
    :mod:`shapecheck.ops.core`): ``method(self, op, arg, value, span)`` returns
    what the rule (or kernel) receives, or :data:`MISMATCH`."""
    def deco(fn):
        fn.converts = kinds
        return fn
    return deco


#: what a converter returns for a value that its kind does not accept
MISMATCH = object()
#: the kinds that accept ``none`` (given as ``none``, the rule receives None)
NONE_OK = frozenset({K.OPT_TENSOR, K.AXES_OPT, K.DIMS, K.PADDING})
#: the kinds a converter table must cover (a kind ending in * is a list of AXIS or TENSOR items)
CONVERTED_KINDS = tuple(k for k in K.KINDS if not k.endswith("*"))


class Interpreter:
    """The base of both interpreters: for each subclass, once, when the class
    is built, the tables from IR node class to handler (:data:`STATEMENTS`,
    :data:`EXPRESSIONS`), from the methods marked with :func:`handles`. A
    class that leaves a statement or expression class of :mod:`shapecheck.ir`
    without a handler is refused there (a ``TypeError`` at import); a node of
    any other class met at run time is an :class:`UnknownNode`.

    >>> class Half(Interpreter):
    ...     @handles(*ir.STATEMENTS)
    ...     def stmt_any(self, frame, st):
    ...         pass
    Traceback (most recent call last):
    ...
    TypeError: Half has no handler for the IR expressions Number, Call, Index

    Likewise the table from argument kind to converter (:data:`CONVERTERS`,
    from the methods marked with :func:`converts`) must cover
    :data:`CONVERTED_KINDS`; :meth:`convert` does what is the same for both
    (defaults, lists of items, ``none``, literals) around it.
    """

    STATEMENTS: dict = {}
    EXPRESSIONS: dict = {}
    CONVERTERS: dict = {}
    #: the interpreter's dimension value class (what dimension arithmetic applies to)
    DIM: type = type(None)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        table: dict = {}
        kinds: dict = {}
        for klass in reversed(cls.__mro__):
            for fn in vars(klass).values():
                for node_class in getattr(fn, "handles", ()):
                    table[node_class] = fn
                for kind in getattr(fn, "converts", ()):
                    kinds[kind] = fn
        known = ir.STATEMENTS + ir.EXPRESSIONS
        odd = [c.__name__ for c in table if c not in known]
        if odd:
            raise TypeError(f"{cls.__name__}: handlers for {', '.join(odd)}, which are not IR statements "
                            f"or expressions (see ir.STATEMENTS, ir.EXPRESSIONS)")
        for what, classes in (("statements", ir.STATEMENTS), ("expressions", ir.EXPRESSIONS)):
            missing = [c.__name__ for c in classes if c not in table]
            if missing:
                raise TypeError(f"{cls.__name__} has no handler for the IR {what} {', '.join(missing)}")
        cls.STATEMENTS = {c: table[c] for c in ir.STATEMENTS}
        cls.EXPRESSIONS = {c: table[c] for c in ir.EXPRESSIONS}
        missing = [k for k in CONVERTED_KINDS if k not in kinds]
        if missing:
            raise TypeError(f"{cls.__name__} has no converter for the argument kinds {', '.join(missing)}")
        cls.CONVERTERS = kinds

    def stmt(self, frame, st):
        """Run (or check) one statement with its handler."""
        handler = self.STATEMENTS.get(type(st))
        if handler is None:
            raise UnknownNode(type(self).__name__, st)
        return handler(self, frame, st)

    def expr(self, frame, e):
        """The value of one expression, from its handler."""
        handler = self.EXPRESSIONS.get(type(e))
        if handler is None:
            raise UnknownNode(type(self).__name__, e)
        return handler(self, frame, e)

    # -- the expressions whose handling is the same in both ----------------------------------------
    # (what differs is behind the hooks: dim_binop, dim_neg, star_items, apply_op)
    @handles(ir.Name)
    def name(self, frame, e: ir.Name):
        """A name of the frame (a tensor, a dimension value...), else :meth:`lookup`."""
        if e.id in frame.vars:
            return frame.vars[e.id]
        return self.lookup(frame, e)

    @handles(ir.String, ir.Const)
    def literal(self, frame, e):
        return Lit(e.value)

    @handles(ir.ListExpr)
    def list_expr(self, frame, e: ir.ListExpr):
        items = []
        for it in e.items:
            if isinstance(it, ir.Star):
                items.extend(self.star_items(frame, it))
            else:
                items.append(self.expr(frame, it))
        return ListV(tuple(items))

    @handles(ir.BinOp)
    def binop(self, frame, e: ir.BinOp):
        """Dimension arithmetic (:meth:`dim_binop`) between two dimensions, else
        the operator's operation (:data:`shapecheck.ops.core.BINARY`)."""
        a = self.expr(frame, e.left)
        b = self.expr(frame, e.right)
        if isinstance(a, self.DIM) and isinstance(b, self.DIM) and e.op in K.DIM_ARITHMETIC:
            return self.dim_binop(frame, e, a, b)
        return self.apply_op(frame, K.OPS[K.BINARY[e.op]], [CallArg(a, e.left.span), CallArg(b, e.right.span)],
                             [], e.span)

    @handles(ir.Neg)
    def neg(self, frame, e: ir.Neg):
        v = self.expr(frame, e.operand)
        if isinstance(v, self.DIM):
            return self.dim_neg(v)
        if isinstance(v, Lit) and isinstance(v.value, float):
            return Lit(-v.value)
        return self.apply_op(frame, K.OPS[K.UNARY["-"]], [CallArg(v, e.operand.span)], [], e.span)

    @handles(ir.Invert)
    def invert(self, frame, e: ir.Invert):
        v = self.expr(frame, e.operand)
        return self.apply_op(frame, K.OPS[K.UNARY["~"]], [CallArg(v, e.operand.span)], [], e.span)

    def lookup(self, frame, e: ir.Name):  # pragma: no cover - each interpreter's scopes
        """A name that is not one of the frame's variables (a dimension, a global...)."""
        raise NotImplementedError

    def dim_binop(self, frame, e: ir.BinOp, a, b):  # pragma: no cover - each interpreter's arithmetic
        """``a e.op b`` for two dimension values (``e.op`` in DIM_ARITHMETIC)."""
        raise NotImplementedError

    def dim_neg(self, v):  # pragma: no cover
        """``-v`` for a dimension value."""
        raise NotImplementedError

    def star_items(self, frame, star: ir.Star):  # pragma: no cover
        """The items ``*name`` stands for inside a list."""
        raise NotImplementedError

    def apply_op(self, frame, o, pos: list, kws: list, span, raw=None):  # pragma: no cover
        """Apply operation ``o`` to call arguments (:class:`CallArg`; ``raw``: values the interpreter fills in)."""
        raise NotImplementedError

    # -- argument conversion: what an operation's rule or kernel receives --------------------------
    def convert(self, o, a, val, span):
        """Turn a matched argument (a :class:`CallArg`, a default, or a list of
        them for a ``*`` kind) into what ``o``'s rule or kernel expects, with
        the converter of ``a.kind``; a value the kind does not accept is
        :meth:`mismatch`."""
        if a.kind.endswith("*"):
            kind = K.AXIS if a.kind == K.AXES else K.TENSOR
            return self.convert_items(o, a.name, kind, val, span)
        if not isinstance(val, CallArg):
            return self.convert_default(a, val)
        if a.kind in NONE_OK and _is_none(val.value):
            return None
        out = self.CONVERTERS[a.kind](self, o, a, val.value, val.span)
        if out is MISMATCH:
            self.mismatch(o, a, val)
        return out

    def convert_items(self, o, name: str, kind: str, items, span):
        """A list of arguments, each converted as one of ``kind``."""
        return [self.convert(o, K.Arg(name, kind), it, span) for it in items]

    def convert_default(self, a, value):
        """A default (or a value the interpreter filled in, as an index's items)."""
        return value

    def mismatch(self, o, a, arg: CallArg):  # pragma: no cover - each interpreter reports its way
        """Report (and stop at) ``arg``, which ``a.kind`` does not accept: see :func:`mismatch_message`."""
        raise NotImplementedError

    @converts(K.BOOL)
    def convert_bool(self, o, a, v, sp):
        return v.value if isinstance(v, Lit) and isinstance(v.value, bool) else MISMATCH

    @converts(K.STR)
    def convert_str(self, o, a, v, sp):
        return v.value if isinstance(v, Lit) and isinstance(v.value, str) else MISMATCH

    @converts(K.PADDING)
    def convert_padding(self, o, a, v, sp):
        """A string (``"same"``), or as :data:`shapecheck.ops.core.DIMS`."""
        if isinstance(v, Lit) and isinstance(v.value, str):
            return v.value
        return self.CONVERTERS[K.DIMS](self, o, a, v, sp)

    @converts(K.NUMBER)
    def convert_number(self, o, a, v, sp):
        """A number literal, or a dimension that is a number (:meth:`dim_number`)."""
        if isinstance(v, Lit) and isinstance(v.value, float):
            return v.value
        return self.dim_number(v) if isinstance(v, self.DIM) else MISMATCH

    def dim_number(self, v):  # pragma: no cover
        """The number a dimension value given as a number stands for, or :data:`MISMATCH`."""
        raise NotImplementedError

    @converts(K.TENSORS)
    def convert_tensors(self, o, a, v, sp):
        """A list of tensors: each item converted as a :data:`shapecheck.ops.core.TENSOR`."""
        if not isinstance(v, ListV):
            return MISMATCH
        return self.convert_items(o, a.name, K.TENSOR, [CallArg(it, sp) for it in v.items], sp)

    @converts(K.SUBSCRIPTS)
    def convert_subscripts(self, o, a, v, sp):
        """An index's items are filled in by the interpreter, never written."""
        return MISMATCH


def mismatch_message(o, a, got: str) -> str:
    """``<op>: `<arg>` must be <what its kind accepts>, got <got>`` (:data:`shapecheck.messages.OP_ARGUMENT_KIND`)."""
    return M.OP_ARGUMENT_KIND.format(op=o.name, arg=a.name, want=K.WANT[a.kind], kind=got)


class Frame:
    """What both interpreters keep for one block (or model) being run or
    checked; each adds its own fields (the symbolic facts and costs, the
    numeric call depth...)."""

    def __init__(self, block: ir.Block, path: tuple):
        self.block = block
        self.path = path              # display path: the model, then "callee@line" per call
        self.vars: dict = {}          # name -> value (tensors, dimensions, ...)
        self.dims: dict = {}          # local dimension names (generics, dim params, lets) -> dimension
        self.returns: Optional[tuple] = None
        self.toplevel = {id(st) for st in block.body}   # statements the prepass evaluates (lets, requires)
        self.stmt = None              # the statement being run (for call identity)
        self.real_division = False    # inside floor()/ceil(): '/' need not be exact


# ---- shapes: lining a parameter's shape up with an argument's ---------------------------------


def split_variadic(items, actual, is_variadic) -> Optional[tuple]:
    """Line up a parameter's shape ``items`` with an argument's dimensions
    ``actual``: ``(i, segment, pairs)``, where ``i`` is the position of the
    (first) variadic item (``is_variadic``) or None, ``segment`` the argument
    dimensions it stands for, and ``pairs`` the other items each with its
    dimension. None when the ranks cannot match.

    >>> split_variadic(["b", "*", "d"], [2, 3, 4, 5], lambda x: x == "*")
    (1, (3, 4), [('b', 2), ('d', 5)])
    >>> split_variadic(["b", "d"], [2, 3], lambda x: x == "*"), split_variadic(["b", "d"], [2], lambda x: x == "*")
    ((None, (), [('b', 2), ('d', 3)]), None)
    """
    star = next((i for i, it in enumerate(items) if is_variadic(it)), None)
    if star is None:
        if len(items) != len(actual):
            return None
        return None, (), list(zip(items, actual))
    take = len(actual) - (len(items) - 1)
    if take < 0:
        return None
    pairs = list(zip(items[:star], actual[:star])) + list(zip(items[star + 1:], actual[star + take:]))
    return star, tuple(actual[star:star + take]), pairs
