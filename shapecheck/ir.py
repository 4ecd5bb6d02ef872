"""The IR: frozen dataclasses with a Span on every node, and two read-only queries.

Lowering (:mod:`shapecheck.lower`) builds it from the parse tree; the symbolic
interpreter (:mod:`shapecheck.infer`) and the numeric one
(:mod:`shapecheck.execute`) both read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from .span import Span


# ---- expressions -------------------------------------------------------------

@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class Number:
    value: Union[int, float]
    text: str
    span: Span


@dataclass(frozen=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True)
class Const:
    """``true``, ``false`` or ``none``."""
    value: Optional[bool]
    span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * / // % @ ** == != < <= > >= & |
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Invert:
    """``~x``: bitwise (logical, on bools) not."""
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class EllipsisIndex:
    """``...`` inside an index: as many full slices as the other indices leave."""
    span: Span


@dataclass(frozen=True)
class Keyword:
    name: str
    value: "Expr"
    span: Span


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple["Expr", ...]
    kwargs: tuple[Keyword, ...]
    span: Span
    func_span: Span


@dataclass(frozen=True)
class Slice:
    start: Optional["Expr"]
    stop: Optional["Expr"]
    step: Optional["Expr"]
    span: Span


@dataclass(frozen=True)
class Index:
    base: "Expr"
    items: tuple[Union["Expr", Slice, EllipsisIndex], ...]   # `none` (a Const) adds an axis
    span: Span


@dataclass(frozen=True)
class Star:
    """``*name``: any number of dimensions (in shapes and lists)."""
    name: str
    span: Span


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Union["Expr", Star], ...]
    span: Span


Expr = Union[Name, Number, String, Const, BinOp, Neg, Invert, Call, Index, ListExpr]


# ---- shapes --------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    items: tuple[Union[Expr, Star], ...]
    dtype: Optional[str]  # None means the default (float)
    span: Span


# ---- statements ----------------------------------------------------------------

@dataclass(frozen=True)
class Compare:
    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Require:
    conds: tuple[Compare, ...]
    span: Span


@dataclass(frozen=True)
class Let:
    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Assign:
    targets: tuple[str, ...]
    value: Expr
    annotation: Optional[Shape]
    span: Span
    target_spans: tuple[Span, ...]


@dataclass(frozen=True)
class Return:
    values: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Repeat:
    """``repeat n { ... }``, or ``repeat i in n { ... }`` naming the pass index
    ``i`` (0, 1, ..., n - 1 in the body; ``index_span`` is where it is named)."""
    count: Expr
    body: tuple["Stmt", ...]
    span: Span
    index: Optional[str] = None
    index_span: Optional[Span] = None


@dataclass(frozen=True)
class Input:
    name: str
    shape: Shape
    span: Span


@dataclass(frozen=True)
class ParamDecl:
    name: str
    shape: Shape
    span: Span


Stmt = Union[Assign, Return, Repeat, Input, ParamDecl, Let, Require]


# ---- top level -------------------------------------------------------------------

@dataclass(frozen=True)
class DimItem:
    name: str
    value: Optional[Expr]
    span: Span


@dataclass(frozen=True)
class DimDecl:
    items: tuple[DimItem, ...]
    span: Span


@dataclass(frozen=True)
class TensorParam:
    name: str
    shape: Shape
    optional: bool
    span: Span


@dataclass(frozen=True)
class DimParam:
    name: str
    default: Optional[Expr]
    span: Span


Param = Union[TensorParam, DimParam]


@dataclass(frozen=True)
class Block:
    """A block, or a model (``is_model``: no parameters, ``input`` statements)."""
    name: str
    params: tuple[Param, ...]
    returns: Optional[tuple[Shape, ...]]
    body: tuple[Stmt, ...]
    is_model: bool
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Use:
    path: str
    span: Span


Item = Union[Use, DimDecl, Let, Require, Block]


@dataclass(frozen=True)
class Module:
    path: str
    items: tuple[Item, ...]


# ---- the node classes, by who handles them ---------------------------------------

#: what an interpreter's statement table must cover
STATEMENTS: tuple = (Assign, Return, Repeat, Input, ParamDecl, Let, Require)
#: what an interpreter's expression table must cover
EXPRESSIONS: tuple = (Name, Number, String, Const, BinOp, Neg, Invert, Call, Index, ListExpr)
#: the node classes never dispatched on: each is read by the handler of the node
#: that holds it (named here), or by the loader (:mod:`shapecheck.program`)
PARTS: dict = {Keyword: "Call", Slice: "Index", EllipsisIndex: "Index", Star: "ListExpr and Shape",
               Shape: "Input, ParamDecl, Assign (annotation), TensorParam and Block (returns)",
               Compare: "Require", DimItem: "DimDecl", DimDecl: "the loader", TensorParam: "Block",
               DimParam: "Block", Block: "the loader, then a model run or a block call", Use: "the loader",
               Module: "the loader"}


# ---- queries on the IR (shared by both interpreters) -----------------------------

def children(node) -> tuple:
    """The IR nodes directly inside ``node`` (fields in declaration order; spans,
    strings and numbers are not nodes)."""
    out = []
    for f in getattr(node, "__dataclass_fields__", ()):
        v = getattr(node, f)
        if isinstance(v, tuple):
            out.extend(x for x in v if hasattr(x, "__dataclass_fields__") and not isinstance(x, Span))
        elif hasattr(v, "__dataclass_fields__") and not isinstance(v, Span):
            out.append(v)
    return tuple(out)


def walk(node, into_bodies: bool = True):
    """``node`` and every IR node inside it, in source (pre-)order. With
    ``into_bodies=False`` the statements of a `repeat` body or a block are not
    entered (the expressions of one statement only).

    >>> sp = Span("f", 1, 1, 1, 2)
    >>> e = BinOp("+", Call("f", (Name("x", sp),), (), sp, sp), Neg(Name("y", sp), sp), sp)
    >>> [type(n).__name__ for n in walk(e)]
    ['BinOp', 'Call', 'Name', 'Neg', 'Name']
    """
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        kids = children(n)
        if not into_bodies and isinstance(n, (Repeat, Block)):
            kids = tuple(k for k in kids if k not in n.body)
        todo.extend(reversed(kids))


def block_calls(stmt, blocks) -> tuple:
    """The calls of blocks (names in ``blocks``) that statement ``stmt`` itself
    makes (not those in a `repeat` body), in source order: a call's index in
    this tuple is its :class:`CallId` index."""
    return tuple(n for n in walk(stmt, into_bodies=False) if isinstance(n, Call) and n.func in blocks)


@dataclass(frozen=True)
class CallId:
    """The identity of one block call in the source, the same in both interpreters.

    ``caller``: the block or model whose body holds the call; ``callee``: the
    block called; ``stmt``: the span of the statement holding the call;
    ``span``: the call expression's span; ``index``: its position among the
    block calls of that statement, in source order (``y = mlp(x) + mlp(mlp(x))``
    makes calls 0, 1 and 2, all on one line but distinct).
    """
    caller: str
    callee: str
    stmt: Span
    span: Span
    index: int

    @property
    def label(self) -> str:
        """``"callee@line"``, the display form used in node paths."""
        return f"{self.callee}@{self.span.line}"


def call_id(caller: str, stmt, call: Call, blocks, cache: Optional[dict] = None) -> CallId:
    """The :class:`CallId` of ``call`` made by statement ``stmt`` (None outside
    any statement, e.g. a parameter default) in the body of ``caller``.
    ``cache`` (a dict kept for one run) saves walking a statement again."""
    if stmt is None:
        return CallId(caller, call.func, call.span, call.span, 0)
    if cache is None:
        calls = block_calls(stmt, blocks)
    else:
        calls = cache.get(id(stmt))
        if calls is None:
            calls = cache[id(stmt)] = block_calls(stmt, blocks)
    index = next((i for i, c in enumerate(calls) if c is call), 0)
    return CallId(caller, call.func, stmt.span, call.span, index)


def names_in(e):
    """The names a dimension expression mentions (calls' positional arguments included).

    >>> sp = Span("f", 1, 1, 1, 2)
    >>> list(names_in(BinOp("/", Name("d", sp), Call("min", (Name("h", sp),), (), sp, sp), sp)))
    ['d', 'h']
    """
    if isinstance(e, Name):
        yield e.id
    elif isinstance(e, BinOp):
        yield from names_in(e.left)
        yield from names_in(e.right)
    elif isinstance(e, Neg):
        yield from names_in(e.operand)
    elif isinstance(e, Call):
        for a in e.args:
            yield from names_in(a)


def op_name(e) -> str:
    """The operation a statement's value applies last (for node records)."""
    if isinstance(e, Call):
        return e.func
    if isinstance(e, BinOp):
        return {"@": "matmul"}.get(e.op, e.op)
    if isinstance(e, Index):
        return "index"
    if isinstance(e, Name):
        return "alias"
    return type(e).__name__.lower()
