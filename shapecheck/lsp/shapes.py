"""Per-statement tensor shapes from a checker result (for hover and inlay hints).

The adapter between the symbolic interpreter's result and the editor: every
named tensor the checker recorded (``Model.nodes``: model statements, and the
statements of every block instantiated at each call site) grouped by the
statement and name that made it, in the model's terms, with its value at the
example sizes (``dim d = 768``, ``[tool.shapecheck] bind``, the editor's
``bind`` setting). This is the only module that reads the checker's node records.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sympy

from ..dims import EvalError, Pass, evaluate, show


@dataclass(frozen=True)
class ShapeAt:
    """One tensor of a statement as instantiated in one model (at one call site)."""
    name: str
    dims: Optional[tuple]        # printed dimensions, None: unknown after an error
    dtype: str
    values: Optional[tuple]      # each dimension at the example sizes (None where unknown)
    model: str
    where: tuple                 # the call path inside the model ("attention@12", ...)
    origins: tuple = ()          # per dimension: (Span, what introduced it) or None

    def text(self) -> str:
        return "?" if self.dims is None else "[" + ", ".join(self.dims) + "]"

    def values_text(self) -> Optional[str]:
        if self.values is None or all(v is None for v in self.values) or self.dims is None:
            return None
        return "[" + ", ".join(d if v is None else str(v) for d, v in zip(self.dims, self.values)) + "]"


def _value(d, env):
    """``d`` at the example sizes: an int; for a dimension that depends on a
    `repeat i in n` pass, its text in terms of the index (``32*i + 96``); else None."""
    if isinstance(d, sympy.Basic) and d.free_symbols - set(env) and \
            all(isinstance(s, Pass) for s in d.free_symbols - set(env)):
        return " ".join(show(d.xreplace(env)).split())
    if not isinstance(d, sympy.Basic) or not d.free_symbols <= set(env):
        return None
    try:
        v = evaluate(d, env)
    except (EvalError, ArithmeticError, TypeError, ValueError):
        return None
    return int(v) if v.denominator == 1 else None


def _show(d) -> str:
    return str(d) if not isinstance(d, sympy.Basic) else " ".join(show(d).split())


def examples(model, binds: dict) -> dict:
    """{symbol: int}: the model's example values overridden by ``binds``."""
    env = {model.dims[k]: int(v) for k, v in model.examples.items() if k in model.dims}
    for k, v in (binds or {}).items():
        if k in model.dims and isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            env[model.dims[k]] = v
    return env


def statement_shapes(result, binds: Optional[dict] = None, limit: int = 20000) -> dict:
    """``{(file, line, col) of a statement: {name: [ShapeAt, ...]}}``, distinct
    shapes only, in order of first appearance (at most ``limit`` nodes per model)."""
    out: dict = {}
    for mname, m in (result.models or {}).items():
        env = examples(m, binds or {})
        nodes = m.nodes
        for n in nodes[:limit]:
            key = (n.span.file, n.span.line, n.span.col)
            dims = None if n.shape is None else tuple(_show(d) for d in n.shape)
            values = None if n.shape is None else tuple(_value(d, env) for d in n.shape)
            at = ShapeAt(n.name, dims, n.dtype, values, mname, tuple(n.path[1:]), tuple(getattr(n, "origins", ())))
            per = out.setdefault(key, {}).setdefault(n.name, [])
            if all((x.dims, x.dtype, x.values) != (dims, n.dtype, values) for x in per):
                per.append(at)
    return out
