"""Pooling over the trailing spatial axes of `[b, c, *spatial]` (or unbatched
`[c, *spatial]`), following `torch.nn.functional`: `max_pool1d/2d`,
`avg_pool1d/2d` (kernel, stride defaulting to the kernel, padding, max
pooling's dilation, ceil_mode) and the adaptive poolings to a given output size.

With `ceil_mode`, PyTorch rounds the window count up but drops a last window
that would start in the right padding: the output size is then
`floor((n + p - 1 + min(0, p + s - e)) / s) + 1` with `e = d*(k - 1) + 1` the
extent of a window (the derivation is in docs/language.md). The NumPy kernels
reduce a strided sliding-window view of the input (no copy, no loop over
positions) and apply PyTorch's rule as a filter on the window starts.
"""
from __future__ import annotations

import math

from .conv import at_least, check_le, pad_spatial, per_axis, tuple_of, windows
from .core import BOOL, DIMS as SIZES, TENSOR, Arg, Out, fixed, op

_NAMES = {1: "length", 2: "height, width"}


def _spatial(r, x, nd, what):
    """Leading axes and the ``nd`` spatial sizes of ``[b, c, *s]`` or ``[c, *s]``."""
    shape = fixed(r, x, what)
    if len(shape) not in (nd + 1, nd + 2):
        r.fail("SC304", f"{what} expects [batch, channels, {_NAMES[nd]}] or [channels, {_NAMES[nd]}], "
                        f"got rank {len(shape)}")
    return tuple(shape[:-nd]), tuple(shape[-nd:])


def pool_size(r, n, k, s, p, d, ceil_mode: bool):
    """PyTorch's pooling output size (``pooling_output_shape``) as an expression."""
    e = d * (k - 1) + 1
    if not ceil_mode:
        return r.floor((n + 2 * p - e) / s) + 1
    return r.floor((n + p - 1 + r.min(r.integer(0), p + s - e)) / s) + 1


def _pool_rule(r, name, nd, x, kernel, stride, padding, dilation, ceil_mode, per_window):
    lead, sizes = _spatial(r, x, nd, name)
    k = per_axis(r, kernel, nd, "kernel", name)
    s = k if stride is None else per_axis(r, stride, nd, "stride", name)
    p = per_axis(r, padding, nd, "padding", name)
    d = per_axis(r, dilation, nd, "dilation", name)
    at_least(r, 1, name, kernel=k, stride=s, dilation=d)
    at_least(r, 0, name, padding=p)
    for pi, ki in zip(p, k):       # PyTorch: "pad should be at most half of kernel size"
        check_le(r, 2 * pi, ki, f"{name}: `padding` must be at most half the kernel, got padding {r.show(pi)} "
                                f"with kernel {r.show(ki)}")
    o = tuple(pool_size(r, n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(sizes, k, s, p, d))
    shape = lead + o
    return Out(shape, "float" if per_window == "avg" else x.dtype,
               flops=r.prod(list(shape)) * r.prod(list(k)))


def _starts_kept(n, p, s, candidates):
    """How many of the window starts ``0, s, 2s, ...`` (``candidates`` of them)
    lie inside the input or its left padding (PyTorch's ceil_mode rule)."""
    return min(candidates, (n + p + s - 1) // s)


def pool_windows(np, x, kernel, stride, padding, dilation, ceil_mode, fill):
    """The pooling windows of ``x`` as a view ``[..., *out, *kernel]`` over ``x``
    padded with ``fill`` (``padding`` both sides; in ceil mode ``stride - 1``
    more on the right, so a last partial window exists)."""
    nd = len(kernel)
    extra = [s - 1 if ceil_mode else 0 for s in stride]
    xp = pad_spatial(np, x, tuple((p, p + e) for p, e in zip(padding, extra)), fill)
    v = windows(np, xp, kernel, stride, dilation)
    n = x.shape[-nd:]
    keep = tuple(slice(0, _starts_kept(ni, p, s, c))
                 for ni, p, s, c in zip(n, padding, stride, v.shape[x.ndim - nd:x.ndim]))
    return v[(Ellipsis,) + keep + (slice(None),) * nd]


def _args(nd, kernel, stride, padding, dilation):
    k = tuple_of(kernel, nd)
    s = k if stride is None else tuple_of(stride, nd)
    return k, s, tuple_of(padding, nd), tuple_of(dilation, nd)


def max_pool_np(np, x, kernel, stride=None, padding=0, dilation=1, ceil_mode=False, nd=None):
    nd = nd or (len(kernel) if isinstance(kernel, tuple) else x.ndim - 2)
    k, s, p, d = _args(nd, kernel, stride, padding, dilation)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    v = pool_windows(np, x, k, s, p, d, ceil_mode, fill)
    return v.max(axis=tuple(range(v.ndim - nd, v.ndim)))


def avg_pool_np(np, x, kernel, stride=None, padding=0, ceil_mode=False, count_include_pad=True, nd=None):
    """PyTorch's average: the sum over the window divided by the window's
    positions inside the padded input (``count_include_pad``) or inside the
    input; a window reaching past the right padding (ceil mode) is clipped."""
    nd = nd or (len(kernel) if isinstance(kernel, tuple) else x.ndim - 2)
    k, s, p, d = _args(nd, kernel, stride, padding, 1)
    xf = x.astype(np.float32) if x.dtype.kind != "f" else x
    v = pool_windows(np, xf, k, s, p, d, ceil_mode, 0.0)
    total = v.sum(axis=tuple(range(v.ndim - nd, v.ndim)))
    count = None
    for ax in range(nd):           # the divisor is separable: a product of per-axis counts
        n = x.shape[x.ndim - nd + ax]
        lo, hi = (0, n) if not count_include_pad else (-p[ax], n + p[ax])
        mask = np.zeros(n + 2 * p[ax] + (s[ax] - 1 if ceil_mode else 0), dtype=xf.dtype)
        mask[lo + p[ax]:hi + p[ax]] = 1
        c = pool_windows(np, mask, (k[ax],), (s[ax],), (0,), (1,), False, 0.0).sum(axis=-1)
        c = c[:total.shape[total.ndim - nd + ax]]
        shape = [1] * nd
        shape[ax] = c.shape[0]
        c = c.reshape(shape)
        count = c if count is None else count * c
    return total / count


def _adaptive_bounds(np, n, o):
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)       # floor(i*n/o), ceil((i+1)*n/o)


def adaptive_np(np, x, output_size, nd, how):
    """Adaptive pooling, one spatial axis at a time (both reductions are
    separable): window ``i`` of ``n`` positions into ``o`` is
    ``[floor(i*n/o), ceil((i+1)*n/o))``."""
    sizes = tuple_of(output_size, nd)
    y = x.astype(np.float32) if x.dtype.kind != "f" and how == "avg" else x
    for ax, o in enumerate(sizes):
        axis = y.ndim - nd + ax
        n = y.shape[axis]
        lo, hi = _adaptive_bounds(np, n, o)
        if how == "avg":
            cs = np.cumsum(y, axis=axis, dtype=np.float64)
            cs = np.concatenate([np.zeros_like(np.take(cs, [0], axis=axis)), cs], axis=axis)
            width = (hi - lo).reshape((-1,) + (1,) * (y.ndim - axis - 1))
            y = ((np.take(cs, hi, axis=axis) - np.take(cs, lo, axis=axis)) / width).astype(y.dtype)
        else:
            span = int((hi - lo).max())
            idx = np.minimum(lo[:, None] + np.arange(span)[None, :], hi[:, None] - 1)   # [o, span]
            y = np.take(y, idx, axis=axis).max(axis=axis + 1)
    return y


def _adaptive_rule(r, name, nd, x, output_size, how):
    lead, sizes = _spatial(r, x, nd, name)
    o = per_axis(r, output_size, nd, "output_size", name)
    at_least(r, 1, name, output_size=o)
    return Out(lead + o, "float" if how == "avg" else x.dtype, flops=r.prod(list(lead + sizes)))


# ---- registration ---------------------------------------------------------------------------------

def _pool_flops(nd, kernel_index):
    def count(args, y):
        return int(y.size) * math.prod(tuple_of(args[kernel_index], nd))
    return count


def _register(nd):
    mx, av = f"max_pool{nd}d", f"avg_pool{nd}d"

    def max_rule(r, x, kernel, stride, padding, dilation, ceil_mode):
        return _pool_rule(r, mx, nd, x, kernel, stride, padding, dilation, ceil_mode, "max")

    def avg_rule(r, x, kernel, stride, padding, ceil_mode, count_include_pad):
        return _pool_rule(r, av, nd, x, kernel, stride, padding, 1, ceil_mode, "avg")

    max_rule.__doc__ = f"`{mx}(x, kernel, stride=none, padding=0, dilation=1, ceil_mode=false)`"
    avg_rule.__doc__ = f"`{av}(x, kernel, stride=none, padding=0, ceil_mode=false, count_include_pad=true)`"
    op(mx, Arg("x", TENSOR), Arg("kernel", SIZES), Arg("stride", SIZES, None), Arg("padding", SIZES, 0),
       Arg("dilation", SIZES, 1), Arg("ceil_mode", BOOL, False),
       kernel=lambda k, x, kernel, stride, padding, dilation, ceil_mode:
           max_pool_np(k.np, x, kernel, stride, padding, dilation, ceil_mode, nd),
       count=_pool_flops(nd, 1))(max_rule)
    op(av, Arg("x", TENSOR), Arg("kernel", SIZES), Arg("stride", SIZES, None), Arg("padding", SIZES, 0),
       Arg("ceil_mode", BOOL, False), Arg("count_include_pad", BOOL, True),
       kernel=lambda k, x, kernel, stride, padding, ceil_mode, count_include_pad:
           avg_pool_np(k.np, x, kernel, stride, padding, ceil_mode, count_include_pad, nd),
       count=_pool_flops(nd, 1))(avg_rule)

    for how in ("avg", "max"):
        name = f"adaptive_{how}_pool{nd}d"

        def rule(r, x, output_size, _name=name, _how=how):
            return _adaptive_rule(r, _name, nd, x, output_size, _how)

        rule.__doc__ = f"`{name}(x, output_size)`: the spatial axes become `output_size`"
        op(name, Arg("x", TENSOR), Arg("output_size", SIZES),
           kernel=lambda k, x, output_size, _how=how: adaptive_np(k.np, x, output_size, nd, _how),
           count=lambda args, y: int(args[0].size))(rule)


for _nd in (1, 2):
    _register(_nd)
