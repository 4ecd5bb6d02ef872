"""Normalisation over channels-first tensors `[b, c, *spatial]`, following
`torch.nn.BatchNorm*d`, `GroupNorm` and `InstanceNorm*d`.

Batch norm's running mean and variance are *buffers*, not parameters (as
PyTorch and torchvision count them): a rule reports them in ``Out.buffers``
and a kernel allocates them with ``k.buffer``. The kernels compute inference
mode: batch norm uses its running statistics, the other two the statistics
of each sample.
"""
from __future__ import annotations

from .conv import at_least
from .core import BOOL, DIM, NUMBER, TENSOR, Arg, Out, fixed, op


def _channels(r, x, what):
    shape = fixed(r, x, what)
    if len(shape) < 2:
        r.fail("SC304", f"{what} expects [batch, channels, ...], got rank {len(shape)}")
    return shape[1]


def _eps(r, eps, what):
    if not float(eps) > 0:
        r.fail("SC309", f"{what}: eps must be positive, got {eps}")


def _batch_norm_kernel(k, x, eps, momentum, affine):
    np = k.np
    c = x.shape[1]
    mean, var = k.buffer((c,), 0.0), k.buffer((c,), 1.0)        # running statistics
    scale = 1.0 / np.sqrt(var + eps)
    shift = -mean * scale
    if affine:
        w, b = k.weight((c,)), k.weight((c,))
        scale, shift = scale * w, shift * w + b
    shape = (1, c) + (1,) * (x.ndim - 2)
    return (x * scale.reshape(shape).astype(k.dtype) + shift.reshape(shape).astype(k.dtype)).astype(k.dtype)


@op("batch_norm", Arg("x", TENSOR), Arg("eps", NUMBER, 1e-5), Arg("momentum", NUMBER, 0.1),
    Arg("affine", BOOL, True), kernel=_batch_norm_kernel, count=lambda args, y: 2 * int(y.size))
def batch_norm(r, x, eps, momentum, affine):
    """`batch_norm(x, eps=1e-05, momentum=0.1, affine=true)`: same shape over `[b, c, *s]`;
    `2*c` parameters (weight, bias) and `2*c` buffers (running mean and variance)."""
    c = _channels(r, x, "batch_norm")
    _eps(r, eps, "batch_norm")
    if not 0 <= float(momentum) <= 1:
        r.fail("SC309", f"batch_norm: momentum must be in [0, 1], got {momentum}")
    return Out(x.shape, "float", params=2 * c if affine else 0, buffers=2 * c, flops=2 * r.numel(x.shape))


def _normalise(np, x, axes, eps):
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def _affine(k, y, c, affine):
    if not affine:
        return y
    shape = (1, c) + (1,) * (y.ndim - 2)
    return y * k.weight((c,)).reshape(shape) + k.weight((c,)).reshape(shape)


def _group_norm_kernel(k, x, groups, eps, affine):
    np = k.np
    b, c = x.shape[:2]
    g = int(groups)
    if c % g:
        raise ValueError(f"{c} channels do not divide into {g} groups")
    y = _normalise(np, x.reshape((b, g, -1)), -1, eps).reshape(x.shape)
    return _affine(k, y, c, affine).astype(k.dtype)


@op("group_norm", Arg("x", TENSOR), Arg("groups", DIM), Arg("eps", NUMBER, 1e-5), Arg("affine", BOOL, True),
    kernel=_group_norm_kernel, count=lambda args, y: 7 * int(y.size))
def group_norm(r, x, groups, eps, affine):
    """`group_norm(x, groups, eps=1e-05, affine=true)`: same shape; the channels must divide
    into `groups`; `2*c` parameters."""
    c = _channels(r, x, "group_norm")
    _eps(r, eps, "group_norm")
    at_least(r, 1, "group_norm", groups=(groups,))
    r.div(c, groups, f"group_norm: the channels {r.show(c)} in {r.show(groups)} groups")
    return Out(x.shape, "float", params=2 * c if affine else 0, flops=7 * r.numel(x.shape))


def _instance_norm_kernel(k, x, eps, affine, track_running_stats):
    np = k.np
    c = x.shape[1]
    if track_running_stats:
        k.buffer((c,), 0.0), k.buffer((c,), 1.0)
    y = _normalise(np, x, tuple(range(2, x.ndim)), eps)
    return _affine(k, y, c, affine).astype(k.dtype)


@op("instance_norm", Arg("x", TENSOR), Arg("eps", NUMBER, 1e-5), Arg("affine", BOOL, False),
    Arg("track_running_stats", BOOL, False), kernel=_instance_norm_kernel,
    count=lambda args, y: 7 * int(y.size))
def instance_norm(r, x, eps, affine, track_running_stats):
    """`instance_norm(x, eps=1e-05, affine=false, track_running_stats=false)`: same shape over
    `[b, c, *s]` (at least one spatial axis); `2*c` parameters with `affine`."""
    c = _channels(r, x, "instance_norm")
    if len(x.shape) < 3:
        r.fail("SC304", f"instance_norm expects [batch, channels, *spatial] with a spatial axis, "
                        f"got rank {len(x.shape)}")
    _eps(r, eps, "instance_norm")
    return Out(x.shape, "float", params=2 * c if affine else 0, buffers=2 * c if track_running_stats else 0,
               flops=7 * r.numel(x.shape))
