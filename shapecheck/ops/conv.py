"""Convolutions, channels first: `conv1d/2d/3d` over `[b, c, *spatial]` and
`conv_transpose1d/2d`, with `stride`, `padding` (sizes, `"same"` or
`"valid"`), `dilation` and `groups`, each a single size or one per spatial axis
(`kernel=(3, 1)`), following `torch.nn.Conv*d` / `ConvTranspose*d`.

The NumPy kernels work at BLAS speed: the padded input is viewed as sliding
windows (no copy), the windows of a chunk of batch items and output rows are
copied into columns (im2col) and multiplied with the weights by one batched
``matmul`` over all groups at once. A chunk's columns hold at most as many
elements as the larger of the input and the output, so a convolution's
temporaries stay within the memory estimate (``sizes.estimate_bytes``).
A transposed convolution is the convolution of the input spread out by the
stride (zeros in between) with the flipped kernel: no loop over positions.
"""
from __future__ import annotations

import math

from .core import BOOL, DIM, DIMS as SIZES, PADDING, TENSOR, Arg, Out, fixed, op

_AXES = {1: "length", 2: "height, width", 3: "depth, height, width"}


# ---- argument checks shared by convolutions and pooling -----------------------------------------

def per_axis(r, value, n: int, name: str, what: str) -> tuple:
    """``value`` (one size or a tuple of ``n``) as ``n`` dimension expressions."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            r.fail("SC304", f"{what}: `{name}` gives {len(value)} sizes for {n} spatial "
                            f"ax{'es' if n != 1 else 'is'}")
        return tuple(r.expr(v) for v in value)
    return (r.expr(value),) * n


def check_le(r, a, b, message: str) -> None:
    """``a <= b`` for an argument check: refused outright (SC309, ``message``)
    between numbers; between expressions, proved from the ``require``s or flagged."""
    a, b = r.expr(a), r.expr(b)
    if a.is_number and b.is_number:
        if not a <= b:
            r.fail("SC309", message)
        return
    r.at_most(a, b, message.split(", got")[0], code="SC309")


def at_least(r, low: int, what: str, **sizes) -> None:
    """Every size given (``kernel=(3, 3)``, ``stride=(s,)``) is at least ``low`` (SC309 otherwise)."""
    for name, values in sizes.items():
        for v in values:
            check_le(r, low, v, f"{what}: `{name}` must be at least {low}, got {r.show(v)}")


def spatial(r, x, nd: int, what: str) -> tuple:
    """``(batch, channels, spatial sizes)`` of a channels-first tensor of rank ``nd + 2``."""
    shape = fixed(r, x, what)
    if len(shape) != nd + 2:
        r.fail("SC304", f"{what} expects [batch, channels, {_AXES[nd]}], got rank {len(shape)} "
                        f"{r.show_shape(shape)}")
    return shape[0], shape[1], tuple(shape[2:])


# ---- shape rules ----------------------------------------------------------------------------------

def _conv_rule(r, name, nd, x, out, kernel, stride, padding, dilation, groups, bias):
    b, c, sizes = spatial(r, x, nd, name)
    k = per_axis(r, kernel, nd, "kernel", name)
    s = per_axis(r, stride, nd, "stride", name)
    d = per_axis(r, dilation, nd, "dilation", name)
    at_least(r, 1, name, kernel=k, stride=s, dilation=d, groups=(groups,))
    c_group = r.div(c, groups, f"{name}: the input channels {r.show(c)} in {r.show(groups)} groups")
    r.div(out, groups, f"{name}: the output channels {r.show(out)} in {r.show(groups)} groups")
    if isinstance(padding, str):
        if padding == "valid":
            p = (r.integer(0),) * nd
        elif padding == "same":
            for si in s:
                check_le(r, si, 1, f'{name}: padding="same" needs stride 1, got stride {r.show(si)}')
            p = None
        else:
            r.fail("SC309", f'{name}: padding must be a size, a tuple of sizes, "same" or "valid", '
                            f'got "{padding}"')
    else:
        p = per_axis(r, padding, nd, "padding", name)
        at_least(r, 0, name, padding=p)
    if p is None:
        o = sizes
    else:
        o = tuple(r.floor((n + 2 * pi - di * (ki - 1) - 1) / si) + 1
                  for n, pi, di, ki, si in zip(sizes, p, d, k, s))
    window = c_group * r.prod(list(k))
    n_out = b * out * r.prod(list(o))
    params = out * window + (out if bias else 0)
    return Out((b, out) + tuple(o), "float", params=params,
               flops=2 * n_out * window + (n_out if bias else 0))


def _transpose_rule(r, name, nd, x, out, kernel, stride, padding, output_padding, groups, bias, dilation):
    b, c, sizes = spatial(r, x, nd, name)
    k = per_axis(r, kernel, nd, "kernel", name)
    s = per_axis(r, stride, nd, "stride", name)
    d = per_axis(r, dilation, nd, "dilation", name)
    p = per_axis(r, padding, nd, "padding", name)
    op_ = per_axis(r, output_padding, nd, "output_padding", name)
    at_least(r, 1, name, kernel=k, stride=s, dilation=d, groups=(groups,))
    at_least(r, 0, name, padding=p, output_padding=op_)
    for oi, si, di in zip(op_, s, d):     # as PyTorch: smaller than the stride or the dilation
        check_le(r, oi + 1, r.max(si, di), f"{name}: `output_padding` must be smaller than the stride or the "
                                           f"dilation, got {r.show(oi)} with stride {r.show(si)} and dilation "
                                           f"{r.show(di)}")
    r.div(c, groups, f"{name}: the input channels {r.show(c)} in {r.show(groups)} groups")
    out_group = r.div(out, groups, f"{name}: the output channels {r.show(out)} in {r.show(groups)} groups")
    o = tuple((n - 1) * si - 2 * pi + di * (ki - 1) + opi + 1
              for n, si, pi, di, ki, opi in zip(sizes, s, p, d, k, op_))
    window = out_group * r.prod(list(k))
    n_out = b * out * r.prod(list(o))
    params = c * window + (out if bias else 0)
    return Out((b, out) + tuple(o), "float", params=params,
               flops=2 * b * c * r.prod(list(sizes)) * window + (n_out if bias else 0))


# ---- NumPy: padding, windows, the contraction ------------------------------------------------------

def tuple_of(v, n: int) -> tuple:
    """``v`` (an int or a tuple of ``n``) as a tuple of ints."""
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v),) * n


def pad_spatial(np, x, pads, value=0.0):
    """Pad (or, for a negative amount, crop) the trailing ``len(pads)`` axes of
    ``x`` by ``pads = ((lo, hi), ...)``."""
    lead = x.ndim - len(pads)
    crop = tuple(slice(max(0, -lo), x.shape[lead + i] - max(0, -hi)) for i, (lo, hi) in enumerate(pads))
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        x = x[(slice(None),) * lead + crop]
    pos = [(0, 0)] * lead + [(max(0, lo), max(0, hi)) for lo, hi in pads]
    if any(lo or hi for lo, hi in pos):
        x = np.pad(x, pos, constant_values=value)
    return x


def windows(np, xp, kernel, stride, dilation):
    """The sliding windows of the padded ``xp`` (``[..., *spatial]``) as a view
    ``[..., *out, *kernel]`` (strided, dilated; no copy)."""
    from numpy.lib.stride_tricks import sliding_window_view
    nd = len(kernel)
    eff = tuple(di * (ki - 1) + 1 for ki, di in zip(kernel, dilation))
    axes = tuple(range(xp.ndim - nd, xp.ndim))
    v = sliding_window_view(xp, eff, axis=axes)
    lead = (slice(None),) * (xp.ndim - nd)
    return v[lead + tuple(slice(None, None, si) for si in stride) + tuple(slice(None, None, di) for di in dilation)]


def conv_nd(np, x, w, bias, stride, pads, dilation, groups, budget=None):
    """``y[b, o, *i] = bias[o] + sum_{c, *k} xp[b, g*Cg + c, *(i*stride + k*dilation)] w[o, c, *k]``
    with ``xp`` padded by ``pads = ((lo, hi), ...)`` and ``g = o // (O / groups)``.

    ``x``: ``[B, C, *S]``; ``w``: ``[O, C / groups, *K]`` (PyTorch's layout);
    ``bias``: ``[O]`` or None. Columns are built chunk by chunk (over batch
    items and output rows), each at most ``budget`` elements (default: the
    larger of the input and the output), and multiplied with the weights of
    all groups by one batched ``matmul``.
    """
    nd = w.ndim - 2
    B, C = x.shape[:2]
    O, Cg = w.shape[:2]
    K = w.shape[2:]
    g = groups
    Og = O // g
    if C != Cg * g or O != Og * g:
        raise ValueError(f"channels {C} -> {O} do not split into {g} groups of weights {list(w.shape)}")
    wmat = w.reshape(g, Og, Cg * math.prod(K))                       # [g, Og, Cg*K]
    if all(k == 1 for k in K):                                       # pointwise: no columns at all
        xp = pad_spatial(np, x, pads)[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
        out_sp = xp.shape[2:]
        y = np.matmul(wmat, xp.reshape(B, g, Cg, math.prod(out_sp)))  # [B, g, Og, P]
        y = y.reshape((B, O) + tuple(out_sp))
    else:
        xp = pad_spatial(np, x, pads)
        v = windows(np, xp, K, stride, dilation)                     # [B, C, *out, *K]
        out_sp = v.shape[2:2 + nd]
        if any(n < 1 for n in out_sp):
            raise ValueError(f"the output size {list(out_sp)} is not positive")
        v = v.reshape((B, g, Cg) + v.shape[2:])                       # [B, g, Cg, *out, *K] (a view)
        order = (0, 1, 2) + tuple(range(3 + nd, 3 + 2 * nd)) + tuple(range(3, 3 + nd))
        v = v.transpose(order)                                       # [B, g, Cg, *K, *out]
        y = np.empty((B, g, Og) + tuple(out_sp), dtype=np.result_type(x.dtype, w.dtype))
        row = math.prod(out_sp[1:])                                  # positions per output row
        col = Cg * math.prod(K) * g                                  # column elements per position
        if budget is None:
            budget = max(x.size, y.size)
        rows = max(1, budget // max(1, col * row))
        per_item = out_sp[0]
        if rows >= per_item:                                         # whole items per chunk
            items = max(1, rows // per_item)
            chunks = [(b0, min(B, b0 + items), 0, per_item) for b0 in range(0, B, items)]
        else:
            chunks = [(b0, b0 + 1, r0, min(per_item, r0 + rows)) for b0 in range(B)
                      for r0 in range(0, per_item, rows)]
        for b0, b1, r0, r1 in chunks:
            part = v[(slice(b0, b1),) + (slice(None),) * (2 + nd) + (slice(r0, r1),)]
            n_pos = (r1 - r0) * row
            cols = part.reshape(b1 - b0, g, Cg * math.prod(K), n_pos)   # the im2col copy
            y[b0:b1, :, :, r0:r1] = np.matmul(wmat, cols).reshape((b1 - b0, g, Og, r1 - r0) + tuple(out_sp[1:]))
        y = y.reshape((B, O) + tuple(out_sp))
    if bias is not None:
        y += bias.reshape((O,) + (1,) * nd)
    return y


def same_pads(kernel, dilation) -> tuple:
    """PyTorch's padding="same": the total ``d*(k-1)`` split with the extra one on the right."""
    return tuple((di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for ki, di in zip(kernel, dilation))


def conv_pads(padding, kernel, dilation, nd) -> tuple:
    if padding == "same":
        return same_pads(kernel, dilation)
    if padding == "valid":
        return ((0, 0),) * nd
    return tuple((p, p) for p in tuple_of(padding, nd))


def conv_transpose_nd(np, x, w, bias, stride, padding, output_padding, groups, dilation):
    """The transposed convolution, PyTorch's layout ``w: [C, O / groups, *K]``:
    ``y[b, o, *(i*stride + k*dilation - padding)] += x[b, c, *i] w[c, o, *k]``,
    computed as the convolution of ``x`` spread out by the stride with the
    flipped kernel."""
    nd = w.ndim - 2
    B, C = x.shape[:2]
    Og = w.shape[1]
    K = w.shape[2:]
    g = groups
    Cg = C // g
    sp = x.shape[2:]
    if any(s > 1 for s in stride):
        z = np.zeros((B, C) + tuple((n - 1) * s + 1 for n, s in zip(sp, stride)), dtype=x.dtype)
        z[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = x
        x = z
    # w [g*Cg, Og, *K] -> [g, Og, Cg, *K] flipped -> [g*Og, Cg, *K]
    wc = w.reshape((g, Cg, Og) + tuple(K)).swapaxes(1, 2)
    wc = wc[(slice(None),) * 3 + (slice(None, None, -1),) * nd].reshape((g * Og, Cg) + tuple(K))
    pads = tuple((di * (ki - 1) - pi, di * (ki - 1) - pi + opi)
                 for ki, di, pi, opi in zip(K, dilation, padding, output_padding))
    return conv_nd(np, x, np.ascontiguousarray(wc), bias, (1,) * nd, pads, dilation, g)


# ---- the kernels the interpreter calls ---------------------------------------------------------------

def conv_weights(k, out, c_group, kernel):
    """A ``[out, c_group, *kernel]`` weight drawn as ``[c_group * prod(kernel), out]``
    (scaled by the fan-in) and viewed in PyTorch's layout."""
    w = k.weight((c_group * math.prod(kernel), out))
    return w.T.reshape((out, c_group) + tuple(kernel))


def _conv_kernel(nd):
    def kernel(k, x, out, kernel, stride, padding, dilation, groups, bias):
        kernel, stride, dilation = tuple_of(kernel, nd), tuple_of(stride, nd), tuple_of(dilation, nd)
        groups, out = int(groups), int(out)
        if x.shape[1] % groups or out % groups:
            raise ValueError(f"channels {x.shape[1]} -> {out} do not divide into {groups} groups")
        w = conv_weights(k, out, x.shape[1] // groups, kernel)
        b = k.weight((out,)) if bias else None
        return conv_nd(k.np, x.astype(w.dtype, copy=False), w, b, stride,
                       conv_pads(padding, kernel, dilation, nd), dilation, groups)
    return kernel


def _transpose_kernel(nd):
    def kernel(k, x, out, kernel, stride, padding, output_padding, groups, bias, dilation):
        kernel, stride, dilation = tuple_of(kernel, nd), tuple_of(stride, nd), tuple_of(dilation, nd)
        padding, output_padding = tuple_of(padding, nd), tuple_of(output_padding, nd)
        groups, out = int(groups), int(out)
        if x.shape[1] % groups or out % groups:
            raise ValueError(f"channels {x.shape[1]} -> {out} do not divide into {groups} groups")
        w = k.weight((x.shape[1], out // groups) + kernel)
        b = k.weight((out,)) if bias else None
        return conv_transpose_nd(k.np, x.astype(w.dtype, copy=False), w, b, stride, padding,
                                 output_padding, groups, dilation)
    return kernel


def _conv_flops(args, y):
    x, kernel, groups, bias = args[0], args[2], int(args[6]), args[7]
    nd = x.ndim - 2
    window = (x.shape[1] // groups) * math.prod(tuple_of(kernel, nd))
    return 2 * int(y.size) * window + (int(y.size) if bias else 0)


def _transpose_flops(args, y):
    x, out, kernel, groups, bias = args[0], int(args[1]), args[2], int(args[6]), args[7]
    nd = x.ndim - 2
    return 2 * int(x.size) * (out // groups) * math.prod(tuple_of(kernel, nd)) + (int(y.size) if bias else 0)


def _register_conv(nd):
    name = f"conv{nd}d"

    def rule(r, x, out, kernel, stride, padding, dilation, groups, bias):
        return _conv_rule(r, name, nd, x, out, kernel, stride, padding, dilation, groups, bias)

    rule.__doc__ = (f"`{name}(x, out, kernel, stride=1, padding=0, dilation=1, groups=1, bias=true)`: "
                    f"`[b, c, {_AXES[nd]}] -> [b, out, ...]`, each output size "
                    f"`floor((n + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1`")
    op(name, Arg("x", TENSOR), Arg("out", DIM), Arg("kernel", SIZES), Arg("stride", SIZES, 1),
       Arg("padding", PADDING, 0), Arg("dilation", SIZES, 1), Arg("groups", DIM, 1), Arg("bias", BOOL, True),
       kernel=_conv_kernel(nd), count=_conv_flops)(rule)


def _register_transpose(nd):
    name = f"conv_transpose{nd}d"

    def rule(r, x, out, kernel, stride, padding, output_padding, groups, bias, dilation):
        return _transpose_rule(r, name, nd, x, out, kernel, stride, padding, output_padding, groups, bias,
                               dilation)

    rule.__doc__ = (f"`{name}(x, out, kernel, stride=1, padding=0, output_padding=0, groups=1, bias=true, "
                    f"dilation=1)`: each output size `(n - 1)*stride - 2*padding + dilation*(kernel - 1) + "
                    f"output_padding + 1`")
    op(name, Arg("x", TENSOR), Arg("out", DIM), Arg("kernel", SIZES), Arg("stride", SIZES, 1),
       Arg("padding", SIZES, 0), Arg("output_padding", SIZES, 0), Arg("groups", DIM, 1),
       Arg("bias", BOOL, True), Arg("dilation", SIZES, 1),
       kernel=_transpose_kernel(nd), count=_transpose_flops)(rule)


for _nd in (1, 2, 3):
    _register_conv(_nd)
for _nd in (1, 2):
    _register_transpose(_nd)
