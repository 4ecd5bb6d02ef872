"""Index operations: topk, argmax/argmin, gather, index_select, scatter,
scatter_add, one_hot (PyTorch semantics; `axis` is PyTorch's `dim`).

Indices are ``int`` tensors (PyTorch's int64), values keep their dtype.
"""
from __future__ import annotations

from .core import AXIS, AXES_OPT, BOOL, DIM, TENSOR, Arg, Out, axis, fixed, op


def _need_int(r, t, what):
    if t.dtype != "int":
        r.fail("SC308", f"{what} must be an int tensor, got {t.dtype}")


# ---- topk / argmax / argmin ------------------------------------------------------------------

def _topk_kernel(k, x, n, axis, largest, sorted):
    np = k.np
    order = np.argsort(x, axis=axis, kind="stable")
    if largest:
        order = np.flip(order, axis=axis)
    idx = np.take(order, np.arange(n), axis=axis)
    return np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)


@op("topk", Arg("x", TENSOR), Arg("k", DIM), Arg("axis", AXIS, -1), Arg("largest", BOOL, True),
    Arg("sorted", BOOL, True), kernel=_topk_kernel)
def topk(r, x, n, ax, largest, sorted_):
    """`values, indices = topk(x, k, axis=-1)`: the axis becomes `k` (at most its size);
    `indices` are int."""
    i = axis(r, x.shape, ax, "topk")
    r.positive(n, "topk: k")
    r.at_most(n, x.shape[i], f"topk: k must not exceed the size of axis {ax}")
    shape = x.shape[:i] + (n,) + x.shape[i + 1:]
    return (Out(shape, x.dtype, flops=r.numel(x.shape)), Out(shape, "int"))


def _arg_reduction(name):
    def rule(r, x, ax, keepdims):
        if ax is None:
            shape = tuple(r.integer(1) for _ in fixed(r, x, name)) if keepdims else ()
        else:
            if isinstance(ax, tuple):
                r.fail("SC103", f"{name}: `axis` is one integer axis or none, got {list(ax)}")
            i = axis(r, x.shape, ax, name)
            shape = x.shape[:i] + ((r.integer(1),) if keepdims else ()) + x.shape[i + 1:]
        return Out(shape, "int", flops=r.numel(x.shape))

    def kernel(k, x, axis, keepdims):
        return getattr(k.np, name)(x, axis=axis, keepdims=keepdims).astype(k.np.int64)

    rule.__doc__ = f"`{name}(x, axis=none, keepdims=false)`: int positions; the axis removed (all axes with none)."
    op(name, Arg("x", TENSOR), Arg("axis", AXES_OPT, None), Arg("keepdims", BOOL, False), kernel=kernel)(rule)


_arg_reduction("argmax")
_arg_reduction("argmin")


# ---- gather / index_select / scatter ----------------------------------------------------------

def _same_rank(r, a, b, what):
    if len(fixed(r, a, what)) != len(fixed(r, b, what)):
        r.fail("SC304", f"{what}: the index must have the rank of the input: {r.show_shape(b.shape)} vs "
                        f"{r.show_shape(a.shape)}")


def _gather_kernel(k, x, axis, index):
    np = k.np
    part = x[tuple(slice(0, n) if d != axis % x.ndim else slice(None) for d, n in enumerate(index.shape))]
    return np.take_along_axis(part, index, axis=axis)


@op("gather", Arg("x", TENSOR), Arg("axis", AXIS), Arg("index", TENSOR), kernel=_gather_kernel)
def gather(r, x, ax, index):
    """`gather(x, axis, index)`: the shape of `index` (int, same rank as `x`, each other
    axis at most `x`'s); values from `x` along `axis`."""
    _need_int(r, index, "gather: the index")
    _same_rank(r, x, index, "gather")
    i = axis(r, x.shape, ax, "gather")
    for d, (a, b) in enumerate(zip(x.shape, index.shape)):
        if d != i:
            r.at_most(b, a, f"gather: axis {d} of the index must not exceed the input's")
    return Out(index.shape, x.dtype)


@op("index_select", Arg("x", TENSOR), Arg("axis", AXIS), Arg("index", TENSOR),
    kernel=lambda k, x, axis, index: k.np.take(x, index, axis=axis))
def index_select(r, x, ax, index):
    """`index_select(x, axis, index)`: `axis` replaced by the length of the 1-d int `index`."""
    _need_int(r, index, "index_select: the index")
    if len(fixed(r, index, "index_select")) != 1:
        r.fail("SC304", f"index_select: the index must be 1-d, got {r.show_shape(index.shape)}")
    i = axis(r, x.shape, ax, "index_select")
    return Out(x.shape[:i] + index.shape + x.shape[i + 1:], x.dtype)


def _scatter(name, add):
    def rule(r, x, ax, index, src):
        _need_int(r, index, f"{name}: the index")
        _same_rank(r, x, index, name)
        i = axis(r, x.shape, ax, name)
        if src.rank == 0 and not add:
            pass   # a scalar value (PyTorch's scatter(..., value=v))
        else:
            _same_rank(r, src, index, f"{name}: src")
            if src.dtype != x.dtype:
                r.fail("SC308", f"{name}: src is {src.dtype} but the input is {x.dtype}")
            for d, (s, b) in enumerate(zip(src.shape, index.shape)):
                r.at_most(b, s, f"{name}: axis {d} of the index must not exceed src's")
        for d, (a, b) in enumerate(zip(x.shape, index.shape)):
            if d != i:
                r.at_most(b, a, f"{name}: axis {d} of the index must not exceed the input's")
        return Out(x.shape, x.dtype, flops=r.numel(index.shape) if add else 0)

    def kernel(k, x, axis, index, src):
        np = k.np
        out = np.array(x, copy=True)
        where = list(np.indices(index.shape, sparse=True))
        where[axis % x.ndim] = index
        vals = src[tuple(slice(0, n) for n in index.shape)] if np.ndim(src) else src
        if add:
            np.add.at(out, tuple(where), vals)
        else:
            out[tuple(where)] = vals
        return out

    rule.__doc__ = (f"`{name}(x, axis, index, src)`: the shape of `x`; `index` (int) and `src` "
                    f"have the rank of `x`, each axis of `index` at most theirs (off `axis` for `x`).")
    def count(args, out):          # scatter_add: one addition per index element
        return int(args[2].size) if add else 0

    op(name, Arg("x", TENSOR), Arg("axis", AXIS), Arg("index", TENSOR), Arg("src", TENSOR),
       kernel=kernel, count=count)(rule)


_scatter("scatter", False)
_scatter("scatter_add", True)


# ---- one_hot ------------------------------------------------------------------------------------

def _one_hot_kernel(k, x, num_classes):
    np = k.np
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"class values must be in [0, {num_classes}), found {x.min()}..{x.max()}")
    return (x[..., None] == np.arange(num_classes)).astype(np.int64)


@op("one_hot", Arg("x", TENSOR), Arg("num_classes", DIM), kernel=_one_hot_kernel)
def one_hot(r, x, n):
    """`one_hot(x, num_classes)`: `[*l] int -> [*l, num_classes] int`."""
    _need_int(r, x, "one_hot: the classes")
    return Out(x.shape + (n,), "int")
