"""Lowering: parse tree -> IR. Builds nodes, checks nothing but input limits."""
from __future__ import annotations

from lark import Token, Tree

from . import ir
from .parse import meta_span, token_span
from .span import Span

#: Documented input limits (see docs/language.md, "Limits").
MAX_NESTING = 200          # nested expressions/calls/brackets
MAX_LITERAL_DIGITS = 30    # digits in an integer literal


class LimitError(Exception):
    def __init__(self, span: Span, message: str):
        super().__init__(message)
        self.span = span
        self.message = message


_BINOPS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//",
           "mod": "%", "matmul": "@", "bitand": "&", "bitor": "|"}


class _Lowerer:
    def __init__(self, path: str):
        self.path = path
        self.repeat_depth = 0     # `repeat` bodies nest too: the same MAX_NESTING applies

    def span(self, node) -> Span:
        if isinstance(node, Token):
            return token_span(self.path, node)
        return meta_span(self.path, node.meta)

    # ---- top level ----
    def module(self, tree: Tree) -> ir.Module:
        return ir.Module(self.path, tuple(self.item(c) for c in tree.children))

    def item(self, t: Tree):
        kind = t.data
        sp = self.span(t)
        if kind == "use_stmt":
            return ir.Use(_unquote(t.children[0]), sp)
        if kind == "dim_decl":
            items = []
            for d in t.children:
                name, value = d.children
                items.append(ir.DimItem(str(name), None if value is None else self.expr(value, 0),
                                        self.span(d)))
            return ir.DimDecl(tuple(items), sp)
        if kind in ("let_stmt", "require_stmt"):
            return self.stmt(t)
        if kind == "block_def":
            name, params, returns, body = t.children
            ps = tuple(self.param(p) for p in params.children if p is not None) if params else ()
            rs = tuple(self.shape(s) for s in returns.children) if returns is not None else None
            return ir.Block(str(name), ps, rs, self.body(body), False, sp, self.span(name))
        if kind == "model_def":
            name, body = t.children
            return ir.Block(str(name), (), None, self.body(body), True, sp, self.span(name))
        raise AssertionError(f"unknown item {kind}")  # pragma: no cover

    def param(self, p: Tree):
        sp = self.span(p)
        if p.data == "tensor_param":
            name, shape, none = p.children
            return ir.TensorParam(str(name), self.shape(shape), none is not None, sp)
        name, default = p.children
        return ir.DimParam(str(name), None if default is None else self.expr(default, 0), sp)

    def body(self, b: Tree):
        return tuple(self.stmt(s) for s in b.children)

    def stmt(self, s: Tree):
        kind = s.data
        sp = self.span(s)
        if kind == "assign":
            targets, value, ann = s.children
            names = tuple(str(t) for t in targets.children)
            tspans = tuple(self.span(t) for t in targets.children)
            return ir.Assign(names, self.expr(value, 0), None if ann is None else self.shape(ann),
                             sp, tspans)
        if kind == "return_stmt":
            return ir.Return(tuple(self.expr(v, 0) for v in s.children), sp)
        if kind == "repeat_stmt":
            index, count, body = s.children
            if self.repeat_depth >= MAX_NESTING:
                raise LimitError(sp, f"`repeat` nested deeper than {MAX_NESTING} levels")
            self.repeat_depth += 1
            try:
                return ir.Repeat(self.expr(count, 0), self.body(body), sp,
                                 None if index is None else str(index),
                                 None if index is None else self.span(index))
            finally:
                self.repeat_depth -= 1
        if kind == "input_stmt":
            return ir.Input(str(s.children[0]), self.shape(s.children[1]), sp)
        if kind == "param_stmt":
            return ir.ParamDecl(str(s.children[0]), self.shape(s.children[1]), sp)
        if kind == "let_stmt":
            name, value = s.children
            return ir.Let(str(name), self.expr(value, 0), sp, self.span(name))
        if kind == "require_stmt":
            conds = []
            for c in s.children:
                left, op, right = c.children
                conds.append(ir.Compare(str(op), self.expr(left, 0), self.expr(right, 0), self.span(c)))
            return ir.Require(tuple(conds), sp)
        raise AssertionError(f"unknown statement {kind}")  # pragma: no cover

    def shape(self, s: Tree) -> ir.Shape:
        *items, dtype = s.children
        return ir.Shape(tuple(self.expr(i, 0) for i in items if i is not None),
                        None if dtype is None else str(dtype.children[0]), self.span(s))

    # ---- expressions ----
    def expr(self, e, depth: int):
        if depth > MAX_NESTING:
            raise LimitError(self.span(e), f"expression nested deeper than {MAX_NESTING} levels")
        d = depth + 1
        if isinstance(e, Token):  # only reachable for bare tokens in odd positions
            return ir.Name(str(e), self.span(e))
        kind = e.data
        sp = self.span(e)
        c = e.children
        if kind == "name":
            return ir.Name(str(c[0]), sp)
        if kind == "number":
            return _number(c[0], sp)
        if kind == "string":
            return ir.String(_unquote(c[0]), sp)
        if kind in ("true", "false", "none"):
            return ir.Const({"true": True, "false": False, "none": None}[kind], sp)
        if kind in _BINOPS:
            return ir.BinOp(_BINOPS[kind], self.expr(c[0], d), self.expr(c[1], d), sp)
        if kind == "compare":
            return ir.BinOp(str(c[1]), self.expr(c[0], d), self.expr(c[2], d), sp)
        if kind == "invert":
            return ir.Invert(self.expr(c[0], d), sp)
        if kind == "pow":
            return ir.BinOp("**", self.expr(c[0], d), self.expr(c[2], d), sp)
        if kind == "neg":
            return ir.Neg(self.expr(c[0], d), sp)
        if kind == "pos":
            return self.expr(c[0], d)
        if kind == "star_dim":
            return ir.Star(str(c[0]), sp)
        if kind in ("list", "tuple"):     # `(2, 3)` is a list too (axis=(2, 3), kernel=(3, 1))
            return ir.ListExpr(tuple(self.expr(i, d) for i in c if i is not None), sp)
        if kind == "call":
            name, args = c
            pos, kws = [], []
            for a in (args.children if args is not None else ()):
                if a is None:
                    continue
                if isinstance(a, Tree) and a.data == "kwarg":
                    kws.append(ir.Keyword(str(a.children[0]), self.expr(a.children[1], d), self.span(a)))
                else:
                    pos.append(self.expr(a, d))
            return ir.Call(str(name), tuple(pos), tuple(kws), sp, self.span(name))
        if kind == "index":
            base, *subs = c
            return ir.Index(self.expr(base, d), tuple(self.subscript(s, d) for s in subs), sp)
        raise AssertionError(f"unknown expression {kind}")  # pragma: no cover

    def subscript(self, s, d):
        if isinstance(s, Tree) and s.data == "ellipsis":
            return ir.EllipsisIndex(self.span(s.children[0]))
        if isinstance(s, Tree) and s.data == "slice":
            start, stop, step = s.children
            return ir.Slice(*(None if x is None else self.expr(x, d) for x in (start, stop, step)),
                            self.span(s))
        return self.expr(s, d)


def _unquote(tok: Token) -> str:
    body = str(tok)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


def _number(tok: Token, sp: Span) -> ir.Number:
    text = str(tok)
    clean = text.replace("_", "")
    if any(ch in clean for ch in ".eE"):
        mant = clean.lower().split("e")
        if len(mant) == 2 and abs(int(mant[1])) > 308:
            raise LimitError(sp, f"number {text} is outside the float range")
        value = float(clean)
        if value in (float("inf"), float("-inf")):   # many digits before the point: 9999...9.0
            raise LimitError(sp, f"number {text[:20]}{'...' if len(text) > 20 else ''} is outside the float range")
        return ir.Number(value, text, sp)
    if len(clean.lstrip("0")) > MAX_LITERAL_DIGITS:
        raise LimitError(sp, f"integer literal has more than {MAX_LITERAL_DIGITS} digits")
    return ir.Number(int(clean), text, sp)


def lower(tree: Tree, path: str) -> ir.Module:
    """Build the IR of a parsed module (raises :class:`LimitError` past the limits)."""
    return _Lowerer(path).module(tree)
