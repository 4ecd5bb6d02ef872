"""Convolutions: conv1d over `[b, c, n]`, conv2d over `[b, c, h, w]` (channels first)."""
from __future__ import annotations

from sympy import floor

from .core import DIM, TENSOR, BOOL, Arg, Out, fixed, op


def _out_size(r, n, k, s, p, what):
    size = floor((n + 2 * p - k) / s) + 1
    r.positive(size, f"{what}: the output size {_s(size)}")
    return size


def _s(e):
    from ..dims import show
    return show(e)


def _conv1d_kernel(k, x, out, kernel, stride, padding, bias):
    np = k.np
    b, c, n = x.shape
    w = k.weight((out, c, kernel))
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    n_out = (n + 2 * padding - kernel) // stride + 1
    idx = np.arange(n_out)[:, None] * stride + np.arange(kernel)[None, :]
    windows = xp[:, :, idx]                       # [b, c, n_out, kernel]
    y = np.einsum("bcnk,ock->bon", windows, w)
    if bias:
        y = y + k.weight((out,))[None, :, None]
    return y


@op("conv1d", Arg("x", TENSOR), Arg("out", DIM), Arg("kernel", DIM), Arg("stride", DIM, 1),
    Arg("padding", DIM, 0), Arg("bias", BOOL, True), kernel=_conv1d_kernel)
def conv1d(r, x, out, kernel, stride, padding, bias):
    """`conv1d(x, out, kernel, stride=1, padding=0)`: `[b, c, n] -> [b, out, floor((n + 2p - k)/s) + 1]`;
    `c*out*k + out` parameters."""
    shape = fixed(r, x, "conv1d")
    if len(shape) != 3:
        r.fail("SC304", f"conv1d expects [batch, channels, length], got rank {len(shape)}")
    b, c, n = shape
    m = _out_size(r, n, kernel, stride, padding, "conv1d")
    params = c * out * kernel + (out if bias else 0)
    return Out((b, out, m), "float", params=params,
               flops=2 * b * out * m * c * kernel + (b * out * m if bias else 0))


def _conv2d_kernel(k, x, out, kernel, stride, padding, bias):
    np = k.np
    b, c, h, w_ = x.shape
    w = k.weight((out, c, kernel, kernel))
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho = (h + 2 * padding - kernel) // stride + 1
    wo = (w_ + 2 * padding - kernel) // stride + 1
    ih = np.arange(ho)[:, None] * stride + np.arange(kernel)[None, :]   # [ho, k]
    iw = np.arange(wo)[:, None] * stride + np.arange(kernel)[None, :]   # [wo, k]
    windows = xp[:, :, ih[:, :, None, None], iw[None, None, :, :]]       # [b, c, ho, k, wo, k]
    y = np.einsum("bcxiyj,ocij->boxy", windows, w)
    if bias:
        y = y + k.weight((out,))[None, :, None, None]
    return y


@op("conv2d", Arg("x", TENSOR), Arg("out", DIM), Arg("kernel", DIM), Arg("stride", DIM, 1),
    Arg("padding", DIM, 0), Arg("bias", BOOL, True), kernel=_conv2d_kernel)
def conv2d(r, x, out, kernel, stride, padding, bias):
    """`conv2d(x, out, kernel, stride=1, padding=0)`: square kernel over `[b, c, h, w]`;
    `c*out*k*k + out` parameters."""
    shape = fixed(r, x, "conv2d")
    if len(shape) != 4:
        r.fail("SC304", f"conv2d expects [batch, channels, height, width], got rank {len(shape)}")
    b, c, h, w = shape
    ho = _out_size(r, h, kernel, stride, padding, "conv2d: height")
    wo = _out_size(r, w, kernel, stride, padding, "conv2d: width")
    params = c * out * kernel * kernel + (out if bias else 0)
    return Out((b, out, ho, wo), "float", params=params,
               flops=2 * b * out * ho * wo * c * kernel * kernel + (b * out * ho * wo if bias else 0))
