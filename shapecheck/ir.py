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
    op: str  # + - * / // % @ **
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
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
    items: tuple[Union["Expr", Slice], ...]
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


Expr = Union[Name, Number, String, Const, BinOp, Neg, Call, Index, ListExpr]


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
    count: Expr
    body: tuple["Stmt", ...]
    span: Span


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


# ---- queries on the IR (shared by both interpreters) -----------------------------

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
