"""Elementwise operations: arithmetic with NumPy broadcasting, activations,
softmax, masking, sqrt, broadcast_to."""
from __future__ import annotations

from .core import (AXIS, BOOL, DIM, NUMBER, OPT_TENSOR, SHAPE, TENSOR, Arg, Out, TensorArg,
                   Variadic, axis, op, promote)


def _binary(name, fn):
    def rule(r, a: TensorArg, b: TensorArg):
        shape = r.broadcast(a.shape, b.shape, f"`{name}`")
        dtype = "float" if name == "div" else promote(a.dtype, b.dtype)   # `/` is true division
        if dtype == "bool" and name == "sub":
            r.fail("SC308", "`-` of two bool tensors (NumPy and PyTorch refuse it; use logical ops or "
                            "convert to int first)")
        if dtype == "bool" and name not in ("add", "mul"):
            dtype = "int"     # NumPy: bool + bool and bool * bool are bool; `//`, `%`, `**` give ints
        return Out(shape, dtype, flops=r.numel(shape))

    def kernel(k, a, b):
        return fn(k.np, a, b)

    rule.__doc__ = f"Elementwise `{name}` with NumPy broadcasting."
    op(name, Arg("a", TENSOR), Arg("b", TENSOR), kernel=kernel)(rule)


_binary("add", lambda np, a, b: np.add(a, b))
_binary("sub", lambda np, a, b: np.subtract(a, b))
_binary("mul", lambda np, a, b: np.multiply(a, b))
_binary("div", lambda np, a, b: np.true_divide(a, b))
_binary("floordiv", lambda np, a, b: np.floor_divide(a, b))
_binary("mod", lambda np, a, b: np.mod(a, b))
_binary("pow", lambda np, a, b: np.power(a, b))


#: operations that keep an int tensor int (as NumPy does); the others give floats
_KEEPS_INT = {"neg", "relu", "abs"}


def _unary(name, fn, flops_per=1):
    def rule(r, x: TensorArg):
        if name in _KEEPS_INT:
            if x.dtype == "bool" and name == "neg":
                r.fail("SC308", "`-` of a bool tensor (NumPy refuses it)")
            dtype = "float" if x.dtype == "float" else "int" if name == "relu" else x.dtype
        else:
            dtype = "float"
        return Out(x.shape, dtype, flops=flops_per * r.numel(x.shape))

    def kernel(k, x):
        return fn(k.np, x)

    rule.__doc__ = f"`{name}(x)`: same shape, elementwise."
    op(name, Arg("x", TENSOR), kernel=kernel)(rule)


def _gelu(np, x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * (x * x * x))))   # x*x*x: not pow


_unary("neg", lambda np, x: np.negative(x))
_unary("relu", lambda np, x: np.maximum(x, 0))
_unary("relu6", lambda np, x: np.clip(x, 0, 6))      # MobileNet's activation
_unary("gelu", _gelu)
_unary("silu", lambda np, x: x / (1.0 + np.exp(-x)))
_unary("tanh", lambda np, x: np.tanh(x))
_unary("sigmoid", lambda np, x: 1.0 / (1.0 + np.exp(-x)))
_unary("exp", lambda np, x: np.exp(x))
_unary("log", lambda np, x: np.log(x))
_unary("abs", lambda np, x: np.abs(x))


@op("dropout", Arg("x", TENSOR), Arg("p", NUMBER, 0.1),
    kernel=lambda k, x, p: x)  # inference: dropout is the identity
def dropout(r, x, p):
    """`dropout(x, p)`: same shape (the identity at inference)."""
    if not 0 <= float(p) < 1:
        r.fail("SC103", f"dropout: p must be in [0, 1), got {p}")
    return Out(x.shape, x.dtype)


def _softmax_kernel(k, x, axis):
    np = k.np
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_kernel(k, x, axis):
    np = k.np
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


@op("softmax", Arg("x", TENSOR), Arg("axis", AXIS, -1), kernel=_softmax_kernel)
def softmax(r, x, axis_):
    """`softmax(x, axis=-1)`: same shape."""
    axis(r, x.shape, axis_, "softmax")
    return Out(x.shape, "float", flops=3 * r.numel(x.shape))


@op("log_softmax", Arg("x", TENSOR), Arg("axis", AXIS, -1), kernel=_log_softmax_kernel)
def log_softmax(r, x, axis_):
    """`log_softmax(x, axis=-1)`: same shape."""
    axis(r, x.shape, axis_, "log_softmax")
    return Out(x.shape, "float", flops=4 * r.numel(x.shape))


def _masked_fill_kernel(k, x, mask, value):
    # PyTorch's convention: `value` goes where `mask` is True. `causal_mask`
    # marks the future (above the diagonal), so the contract's
    # `masked_fill(scores, causal_mask(l), -1e9)` hides it.
    if mask is None:
        return x
    return k.np.where(mask, value, x)


@op("masked_fill", Arg("x", TENSOR), Arg("mask", OPT_TENSOR), Arg("value", NUMBER),
    kernel=_masked_fill_kernel)
def masked_fill(r, x, mask, value):
    """`masked_fill(x, mask, value)`: `value` where `mask` is True (as in PyTorch);
    the mask broadcasts to `x`; `none` passes `x` through."""
    if mask is None:
        return Out(x.shape, x.dtype)
    if mask.dtype != "bool":
        r.fail("SC308", f"masked_fill: the mask must be bool, got {mask.dtype}")
    shape = r.broadcast(x.shape, mask.shape, "masked_fill: mask")
    if len(shape) != len(x.shape):
        r.fail("SC302", "masked_fill: the mask has more dimensions than the tensor")
    for d, e in zip(x.shape, shape):
        if not isinstance(d, Variadic):
            r.same(d, e, "masked_fill: the mask must broadcast to the tensor's shape", "SC302")
    wider = "float" if isinstance(value, float) else "int" if not isinstance(value, bool) else "bool"
    if promote(x.dtype, wider) != x.dtype:
        # NumPy's `where` promotes to the value's dtype, PyTorch keeps the tensor's: they disagree
        r.fail("SC308", f"masked_fill: the tensor is {x.dtype} but the value {value!r} is {wider}: NumPy gives "
                        f"{wider}, PyTorch keeps {x.dtype}; convert the tensor first, or fill with a value of "
                        f"its dtype")
    return Out(x.shape, x.dtype, flops=r.numel(x.shape))


def _sqrt_kernel(k, x):
    return k.np.sqrt(x)


@op("sqrt", Arg("x", TENSOR), kernel=_sqrt_kernel)
def sqrt(r, x):
    """`sqrt(e)`: a scalar from a dimension expression, or elementwise on a tensor."""
    return Out(x.shape, "float", flops=r.numel(x.shape))


@op("broadcast_to", Arg("x", TENSOR), Arg("shape", SHAPE),
    kernel=lambda k, x, shape: k.np.broadcast_to(x, tuple(shape)))
def broadcast_to(r, x, shape, what="broadcast_to"):
    """`broadcast_to(x, [shape])`: NumPy broadcasting to the given shape."""
    target = tuple(shape)
    if len(x.shape) > len(target):
        r.fail("SC302", f"{what}: cannot broadcast rank {len(x.shape)} to rank {len(target)}")
    for d, t in zip(reversed(x.shape), reversed(target)):
        if isinstance(d, Variadic) or isinstance(t, Variadic):
            if d != t:
                r.fail("SC302", f"{what}: cannot match {d} with {t}")
            continue
        if d == 1 or r.is_one(d):
            continue
        r.same(t, d, f"{what}: a dimension must be 1 or equal to the target", "SC302")
    return Out(target, x.dtype)


@op("causal_mask", Arg("n", DIM), Arg("m", DIM, None),
    kernel=lambda k, n, m: k.np.triu(k.np.ones((n, n if m is None else m), dtype=bool), 1))
def causal_mask(r, n, m):
    """`causal_mask(n)`: a `[n, n] bool` mask, True above the diagonal (the
    future positions a query must not see), for `masked_fill`."""
    return Out((n, n if m is None else m), "bool")


def _sinusoidal_kernel(k, n, d):
    np = k.np
    pos = np.arange(n)[:, None]
    i = np.arange(d)[None, :]
    angle = pos / np.power(10000.0, (2 * (i // 2)) / d)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))


@op("sinusoidal", Arg("n", DIM), Arg("d", DIM), kernel=_sinusoidal_kernel)
def sinusoidal(r, n, d):
    """`sinusoidal(n, d)`: `[n, d]` fixed position encodings (no parameters)."""
    return Out((n, d), "float")


def _where_kernel(k, cond, a, b):
    return k.np.where(cond, a, b)


@op("where", Arg("cond", TENSOR), Arg("a", TENSOR), Arg("b", TENSOR), kernel=_where_kernel)
def where(r, cond, a, b):
    """`where(cond, a, b)`: elementwise choice, all three broadcast."""
    if cond.dtype != "bool":
        r.fail("SC308", f"where: the condition must be bool, got {cond.dtype}")
    shape = r.broadcast(r.broadcast(cond.shape, a.shape, "where"), b.shape, "where")
    return Out(shape, promote(a.dtype, b.dtype))


_ = BOOL
