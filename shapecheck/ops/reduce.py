"""Reductions: sum, mean, max, min over one axis or several (``axis=(2, 3)``)."""
from __future__ import annotations

from .core import AXES_OPT, BOOL, TENSOR, Arg, Out, axis, op


def reduced_axes(r, shape, ax, what) -> list:
    """The axes ``ax`` (an int or a tuple of ints) of ``shape``, normalised,
    each once."""
    axes = ax if isinstance(ax, tuple) else (ax,)
    if not axes:
        r.fail("SC304", f"{what}: give at least one axis")
    idx = [axis(r, shape, a, what) for a in axes]
    if len(set(idx)) != len(idx):
        r.fail("SC304", f"{what}: axis {list(axes)} names an axis twice")
    return idx


def _reduction(name, np_name):
    def rule(r, x, ax, keepdims):
        if ax is None:
            r.fail("SC103", f"{name}: give the axis (or axes) to reduce")
        idx = set(reduced_axes(r, x.shape, ax, name))
        shape = tuple(r.integer(1) if i in idx else d for i, d in enumerate(x.shape)
                      if keepdims or i not in idx)
        # as NumPy: mean is float; sum of bools counts them (int); max/min keep the dtype
        dtype = "float" if name == "mean" else "int" if (name == "sum" and x.dtype == "bool") else x.dtype
        return Out(shape, dtype, flops=r.numel(x.shape))

    def kernel(k, x, axis, keepdims):
        return getattr(k.np, np_name)(x, axis=axis, keepdims=keepdims)

    rule.__doc__ = f"`{name}(x, axis=-1, keepdims=false)`: the axis (or axes, `axis=(2, 3)`) removed, or kept as 1."
    op(name, Arg("x", TENSOR), Arg("axis", AXES_OPT, -1), Arg("keepdims", BOOL, False), kernel=kernel)(rule)


_reduction("sum", "sum")
_reduction("mean", "mean")
_reduction("max", "max")
_reduction("min", "min")
