"""Reductions: sum, mean, max, min over one axis."""
from __future__ import annotations

from sympy import Integer

from .core import AXIS, BOOL, TENSOR, Arg, Out, axis, op
from .elementwise import numel


def _reduction(name, np_name):
    def rule(r, x, ax, keepdims):
        i = axis(r, x.shape, ax, name)
        shape = x.shape[:i] + ((Integer(1),) if keepdims else ()) + x.shape[i + 1:]
        # as NumPy: mean is float; sum of bools counts them (int); max/min keep the dtype
        dtype = "float" if name == "mean" else "int" if (name == "sum" and x.dtype == "bool") else x.dtype
        return Out(shape, dtype, flops=numel(x.shape))

    def kernel(k, x, axis, keepdims):
        return getattr(k.np, np_name)(x, axis=axis, keepdims=keepdims)

    rule.__doc__ = f"`{name}(x, axis, keepdims=false)`: the axis removed (or kept as 1)."
    op(name, Arg("x", TENSOR), Arg("axis", AXIS, -1), Arg("keepdims", BOOL, False), kernel=kernel)(rule)


_reduction("sum", "sum")
_reduction("mean", "mean")
_reduction("max", "max")
_reduction("min", "min")
