"""Sequence operations: cumsum, cumprod, roll, flip, pad (per-side amounts) and
unfold (sliding windows). PyTorch semantics; `axis` is PyTorch's `dim`."""
from __future__ import annotations

from .core import AXES_OPT, AXIS, DIM, DIMS, NUMBER, STR, TENSOR, Arg, Out, axis, fixed, op
from .reduce import reduced_axes


def _cumulative(name):
    def rule(r, x, ax):
        axis(r, x.shape, ax, name)
        # as NumPy/PyTorch: bools and ints accumulate as int
        return Out(x.shape, "float" if x.dtype == "float" else "int", flops=r.numel(x.shape))

    def kernel(k, x, axis):
        return getattr(k.np, name)(x, axis=axis)

    rule.__doc__ = f"`{name}(x, axis)`: same shape; running {name[3:]} along `axis`."
    op(name, Arg("x", TENSOR), Arg("axis", AXIS), kernel=kernel)(rule)


_cumulative("cumsum")
_cumulative("cumprod")


def _as_tuple(v):
    return v if isinstance(v, tuple) else (v,)


@op("roll", Arg("x", TENSOR), Arg("shifts", DIMS), Arg("axis", AXES_OPT, None),
    kernel=lambda k, x, shifts, axis: k.np.roll(x, shifts, axis=axis))
def roll(r, x, shifts, ax):
    """`roll(x, shifts, axis=none)`: same shape; one shift per axis (a single shift of the
    flattened tensor without `axis`)."""
    if shifts is None:
        r.fail("SC103", "roll: give the shifts")
    if ax is None:
        if isinstance(shifts, tuple):
            r.fail("SC105", "roll: several shifts need as many axes (`axis=`)")
    else:
        reduced_axes(r, x.shape, ax, "roll")
        if len(_as_tuple(shifts)) != len(_as_tuple(ax)):
            r.fail("SC105", f"roll: {len(_as_tuple(shifts))} shifts for {len(_as_tuple(ax))} axes")
    return Out(x.shape, x.dtype)


@op("flip", Arg("x", TENSOR), Arg("axis", AXES_OPT), kernel=lambda k, x, axis: k.np.flip(x, axis=axis))
def flip(r, x, ax):
    """`flip(x, axis)`: same shape; the order reversed along the axis (or axes)."""
    if ax is None:
        r.fail("SC103", "flip: give the axis (or axes) to reverse")
    reduced_axes(r, x.shape, ax, "flip")
    return Out(x.shape, x.dtype)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_kernel(k, x, pad, mode, value):
    np = k.np
    pad = _as_tuple(pad)
    widths = [(0, 0)] * x.ndim
    for j in range(len(pad) // 2):
        widths[x.ndim - 1 - j] = (pad[2 * j], pad[2 * j + 1])
    grow = [(max(a, 0), max(b, 0)) for a, b in widths]
    extra = {"constant_values": value} if mode == "constant" else {}
    y = np.pad(x, grow, mode=_PAD_MODES[mode], **extra)
    crop = tuple(slice(-min(a, 0), y.shape[d] + min(b, 0)) for d, (a, b) in enumerate(widths))
    return y[crop]        # a negative amount removes elements (constant mode)


@op("pad", Arg("x", TENSOR), Arg("pad", DIMS), Arg("mode", STR, "constant"), Arg("value", NUMBER, 0.0),
    kernel=_pad_kernel)
def pad(r, x, amounts, mode, value):
    """`pad(x, pad, mode="constant", value=0)`: `pad = [left, right, top, bottom, ...]`,
    a pair per axis from the last; each axis grows by its pair (a negative amount crops, in
    constant mode). Reflect padding must be smaller than the axis, circular at most its size."""
    if mode not in _PAD_MODES:
        r.fail("SC103", f"pad: mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    amounts = _as_tuple(amounts)
    shape = list(fixed(r, x, "pad"))
    if len(amounts) % 2 or len(amounts) > 2 * len(shape):
        r.fail("SC105", f"pad: `pad` needs a pair of amounts per padded axis (at most {2 * len(shape)} "
                        f"for rank {len(shape)}), got {len(amounts)}")
    for j in range(len(amounts) // 2):
        d = len(shape) - 1 - j
        lo, hi = amounts[2 * j], amounts[2 * j + 1]
        if mode != "constant":
            for p in (lo, hi):
                r.at_most(0, p, f"pad: {mode} padding amounts must not be negative")
                if mode == "reflect":
                    r.at_most(p + 1, shape[d], f"pad: reflect padding of axis {d} must be smaller than it")
                elif mode == "circular":
                    r.at_most(p, shape[d], f"pad: circular padding of axis {d} must not exceed it")
        shape[d] = shape[d] + lo + hi
    return Out(tuple(shape), x.dtype)


def _unfold_kernel(k, x, axis, size, step):
    np = k.np
    w = np.lib.stride_tricks.sliding_window_view(x, size, axis=axis)   # windows on the last axis
    take = [slice(None)] * w.ndim
    take[axis % x.ndim] = slice(None, None, step)
    return np.ascontiguousarray(w[tuple(take)])


@op("unfold", Arg("x", TENSOR), Arg("axis", AXIS), Arg("size", DIM), Arg("step", DIM), kernel=_unfold_kernel)
def unfold(r, x, ax, size, step):
    """`unfold(x, axis, size, step)`: sliding windows; `axis` becomes the window count
    `floor((n - size) / step) + 1` and a last axis of `size` is added."""
    i = axis(r, x.shape, ax, "unfold")
    r.positive(size, "unfold: the window size")
    r.positive(step, "unfold: the step")
    count = r.floor((x.shape[i] - size) / step) + 1
    return Out(x.shape[:i] + (count,) + x.shape[i + 1:] + (size,), x.dtype)
