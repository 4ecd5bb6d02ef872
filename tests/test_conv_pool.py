"""Convolution, pooling and normalisation: the fast NumPy kernels against
direct loops written from the definitions (PyTorch's, for pooling), and the
shape rules against the kernels' real shapes, at random small sizes covering
every stride / padding / dilation / groups / ceil_mode combination."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Integer

from shapecheck import execute as X
from shapecheck.ops import OPS, TensorArg
from shapecheck.ops.conv import conv_nd, conv_pads, conv_transpose_nd
from shapecheck.dims import Algebra
from shapecheck.ops.core import Rule
from shapecheck.ops.pool import adaptive_np, avg_pool_np, max_pool_np

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---- direct definitions ------------------------------------------------------------------------

def conv_direct(x, w, b, stride, pads, dilation, groups):
    """y[b, o, *i] = bias[o] + sum over c, *k of xp[b, g*Cg + c, *(i*s + k*d)] * w[o, c, *k]."""
    nd = x.ndim - 2
    B, C = x.shape[:2]
    O, Cg = w.shape[:2]
    K = w.shape[2:]
    Og = O // groups
    xp = np.zeros((B, C) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)))
    xp[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))] = x
    out = tuple((xp.shape[2 + a] - dilation[a] * (K[a] - 1) - 1) // stride[a] + 1 for a in range(nd))
    y = np.zeros((B, O) + out)
    for bi, o in itertools.product(range(B), range(O)):
        g = o // Og
        for pos in np.ndindex(*out):
            acc = b[o] if b is not None else 0.0
            for c in range(Cg):
                for kk in np.ndindex(*K):
                    idx = tuple(pos[a] * stride[a] + kk[a] * dilation[a] for a in range(nd))
                    acc += xp[(bi, g * Cg + c) + idx] * w[(o, c) + kk]
            y[(bi, o) + pos] = acc
    return y


def conv_transpose_direct(x, w, b, stride, padding, output_padding, groups, dilation):
    """Scatter: y[b, g*Og + o, *(i*s + k*d - p)] += x[b, c, *i] * w[c, o, *k]."""
    nd = x.ndim - 2
    B, C = x.shape[:2]
    Og = w.shape[1]
    K = w.shape[2:]
    Cg = C // groups
    out = tuple((x.shape[2 + a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (K[a] - 1)
                + output_padding[a] + 1 for a in range(nd))
    y = np.zeros((B, Og * groups) + out)
    for bi, c in itertools.product(range(B), range(C)):
        g = c // Cg
        for pos in np.ndindex(*x.shape[2:]):
            for o in range(Og):
                for kk in np.ndindex(*K):
                    idx = tuple(pos[a] * stride[a] + kk[a] * dilation[a] - padding[a] for a in range(nd))
                    if all(0 <= idx[a] < out[a] for a in range(nd)):
                        y[(bi, g * Og + o) + idx] += x[(bi, c) + pos] * w[(c, o) + kk]
    if b is not None:
        y += b.reshape((-1,) + (1,) * nd)
    return y


def torch_pool_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape, transcribed (aten/src/ATen/native/Pool.h)."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def pool_direct(x, k, s, p, d, ceil_mode, how, count_include_pad=True):
    """PyTorch's max/avg pooling loops, transcribed (one output position at a time)."""
    nd = len(k)
    n = x.shape[-nd:]
    out = tuple(torch_pool_size(n[a], k[a], s[a], p[a], d[a], ceil_mode) for a in range(nd))
    y = np.zeros(x.shape[:-nd] + out)
    for lead in np.ndindex(*x.shape[:-nd]):
        for pos in np.ndindex(*out):
            if how == "max":
                best = -np.inf
                for kk in np.ndindex(*k):
                    idx = tuple(pos[a] * s[a] - p[a] + kk[a] * d[a] for a in range(nd))
                    if all(0 <= idx[a] < n[a] for a in range(nd)):
                        best = max(best, x[lead + idx])
                y[lead + pos] = best
            else:
                start = [pos[a] * s[a] - p[a] for a in range(nd)]
                end = [min(start[a] + k[a], n[a] + p[a]) for a in range(nd)]
                pool = math.prod(end[a] - start[a] for a in range(nd))
                start = [max(v, 0) for v in start]
                end = [min(end[a], n[a]) for a in range(nd)]
                total = x[lead + tuple(slice(start[a], end[a]) for a in range(nd))].sum()
                div = pool if count_include_pad else math.prod(end[a] - start[a] for a in range(nd))
                y[lead + pos] = total / div
    return y


def adaptive_direct(x, out, how):
    nd = len(out)
    n = x.shape[-nd:]
    y = np.zeros(x.shape[:-nd] + tuple(out))
    for lead in np.ndindex(*x.shape[:-nd]):
        for pos in np.ndindex(*out):
            sl = tuple(slice(math.floor(pos[a] * n[a] / out[a]), math.ceil((pos[a] + 1) * n[a] / out[a]))
                       for a in range(nd))
            win = x[lead + sl]
            y[lead + pos] = win.max() if how == "max" else win.mean()
    return y


# ---- a concrete rule context: the symbolic rule evaluated at integers ---------------------------------

class Refused(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code} {message}")
        self.code = code


class Concrete(Algebra, Rule):
    def fail(self, code, message):
        raise Refused(code, message)

    def same(self, expected, found, what, code="SC305"):
        if int(expected) != int(found):
            self.fail(code, what)

    def div(self, a, b, what):
        if int(a) % int(b):
            self.fail("SC201", what)
        return Integer(int(a) // int(b))

    def at_most(self, a, b, what, code="SC307"):
        if not int(a) <= int(b):
            self.fail(code, what)

    def positive(self, e, what):
        if int(e) < 1:
            self.fail("SC202", what)


def rule_out(name, x_shape, *args):
    """The op's rule at concrete sizes: (shape as ints, params, flops, buffers)."""
    o = OPS[name]
    conv = []
    for a in args:
        conv.append(tuple(Integer(v) for v in a) if isinstance(a, tuple) else
                    Integer(a) if isinstance(a, int) and not isinstance(a, bool) else a)
    out = o.rule(Concrete(), TensorArg(tuple(Integer(d) for d in x_shape)), *conv)
    return tuple(int(d) for d in out.shape), int(out.params), int(out.flops), int(out.buffers)


def run_kernel(name, x, *args):
    """The op's NumPy kernel through a fresh context: (result, weights drawn, counted FLOPs)."""
    k = X.KernelContext(seed=3, dtype=np.float64, keep=True)
    y = OPS[name].kernel(k, x, *args)
    return y, k, OPS[name].count([x, *args], y)


# ---- strategies -------------------------------------------------------------------------------------

@st.composite
def conv_case(draw, transposed=False):
    nd = draw(st.sampled_from([1, 2] if transposed else [1, 2, 3]))
    per = draw(st.booleans())          # one size per axis, or one for all

    def sizes(lo, hi):
        if per:
            return tuple(draw(st.integers(lo, hi)) for _ in range(nd))
        return draw(st.integers(lo, hi))

    kmax = 3 if nd < 3 else 2
    kernel, stride, dilation = sizes(1, kmax), sizes(1, 3), sizes(1, 2)
    groups = draw(st.sampled_from([1, 2, 3]))
    c = groups * draw(st.integers(1, 2))
    out = groups * draw(st.integers(1, 2))
    if transposed:
        padding = sizes(0, 2)
        op_ = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(_t(stride, nd), _t(dilation, nd)))
        spatial = tuple(draw(st.integers(1, 4 if nd == 1 else 3)) for _ in range(nd))
        return nd, (2, c) + spatial, out, kernel, stride, padding, op_, groups, dilation
    padding = draw(st.sampled_from(["same", "valid", "int", "tuple"]))
    if padding == "same":
        stride = 1
    elif padding == "int":
        padding = draw(st.integers(0, 2))
    elif padding == "tuple":
        padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    eff = [d * (k - 1) + 1 for k, d in zip(_t(kernel, nd), _t(dilation, nd))]
    pads = conv_pads(padding, _t(kernel, nd), _t(dilation, nd), nd)
    spatial = tuple(draw(st.integers(max(1, e - lo - hi), max(1, e - lo - hi) + (5 if nd < 3 else 2)))
                    for e, (lo, hi) in zip(eff, pads))
    return nd, (2, c) + spatial, out, kernel, stride, padding, dilation, groups


def _t(v, nd):
    return tuple(v) if isinstance(v, tuple) else (v,) * nd


# ---- convolutions -------------------------------------------------------------------------------------

@SETTINGS
@given(conv_case(), st.booleans())
def test_conv_matches_the_direct_loop_and_the_rule(case, bias):
    nd, shape, out, kernel, stride, padding, dilation, groups = case
    x = np.random.default_rng(0).standard_normal(shape)
    name = f"conv{nd}d"
    y, k, flops = run_kernel(name, x, out, kernel, stride, padding, dilation, groups, bias)
    w = k.weights[0].T.reshape((out, shape[1] // groups) + _t(kernel, nd))   # drawn [fan_in, out]
    b = k.weights[1] if bias else None
    ref = conv_direct(x, w, b, _t(stride, nd), conv_pads(padding, _t(kernel, nd), _t(dilation, nd), nd),
                      _t(dilation, nd), groups)
    assert y.shape == ref.shape
    assert np.allclose(y, ref)
    r_shape, r_params, r_flops, _ = rule_out(name, shape, out, kernel, stride, padding, dilation, groups, bias)
    assert r_shape == y.shape
    assert r_params == k.params == out * (shape[1] // groups) * math.prod(_t(kernel, nd)) + (out if bias else 0)
    assert r_flops == flops


@SETTINGS
@given(conv_case(transposed=True), st.booleans())
def test_conv_transpose_matches_the_scatter_loop_and_the_rule(case, bias):
    nd, shape, out, kernel, stride, padding, op_, groups, dilation = case
    x = np.random.default_rng(1).standard_normal(shape)
    name = f"conv_transpose{nd}d"
    args = (out, kernel, stride, padding, op_, groups, bias, dilation)
    try:
        r_shape, r_params, r_flops, _ = rule_out(name, shape, *args)
    except Refused as e:                       # an output size below 1 (padding eats it all)
        assert e.code in ("SC202",) or "SC202" in str(e)
        return
    if min(r_shape[2:]) < 1:
        return
    y, k, flops = run_kernel(name, x, *args)
    w = k.weights[0]
    b = k.weights[1] if bias else None
    ref = conv_transpose_direct(x, w, b, _t(stride, nd), _t(padding, nd), op_, groups, _t(dilation, nd))
    assert y.shape == ref.shape == r_shape
    assert np.allclose(y, ref)
    assert r_params == k.params
    assert r_flops == flops


def test_conv_chunks_give_the_same_result_as_one_product():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 9, 7))
    w = rng.standard_normal((6, 2, 3, 2))
    whole = conv_nd(np, x, w, None, (1, 2), ((1, 1), (0, 1)), (2, 1), 2, budget=10 ** 9)
    for budget in (1, 50, 300, 5000):   # one row of one item per chunk, ..., several items
        assert np.allclose(conv_nd(np, x, w, None, (1, 2), ((1, 1), (0, 1)), (2, 1), 2, budget=budget), whole)
    assert np.allclose(whole, conv_direct(x, w, None, (1, 2), ((1, 1), (0, 1)), (2, 1), 2))


def test_conv_transpose_inverts_the_shape_of_a_strided_conv():
    # the usual decoder pairing: conv stride 2 then conv_transpose stride 2 with output_padding=1
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 2, 10))
    w = rng.standard_normal((3, 2, 3))
    y = conv_nd(np, x, w, None, (2,), ((1, 1),), (1,), 1)
    z = conv_transpose_nd(np, y, rng.standard_normal((3, 2, 3)), None, (2,), (1,), (1,), 1, (1,))
    assert y.shape == (1, 3, 5) and z.shape == (1, 2, 10)


@pytest.mark.parametrize("case", [
    ("conv2d", (2, 6, 8, 8), (4, 3, 1, 0, 1, 4, True), "SC201"),       # 6 channels in 4 groups
    ("conv2d", (2, 8, 8, 8), (6, 3, 1, 0, 1, 4, True), "SC201"),       # 6 outputs in 4 groups
    ("conv2d", (2, 4, 8, 8), (4, 3, 2, "same", 1, 1, True), "SC309"),  # "same" with stride 2
    ("conv2d", (2, 4, 8, 8), (4, 3, 1, "full", 1, 1, True), "SC309"),
    ("conv2d", (2, 4, 8, 8), (4, (3, 3, 3), 1, 0, 1, 1, True), "SC304"),
    ("conv2d", (2, 4, 8, 8), (4, 3, 0, 0, 1, 1, True), "SC309"),       # stride 0
    ("conv1d", (2, 4, 8), (4, 3, 1, 0, 0, 1, True), "SC309"),          # dilation 0
    ("conv_transpose1d", (2, 4, 8), (4, 3, 2, 0, 2, 1, True, 1), "SC309"),   # output_padding >= stride
])
def test_conv_argument_checks(case):
    name, shape, args, code = case
    with pytest.raises(Refused) as e:
        rule_out(name, shape, *args)
    assert e.value.code == code


# ---- pooling ------------------------------------------------------------------------------------------

@st.composite
def pool_case(draw):
    nd = draw(st.sampled_from([1, 2]))
    k = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    ceil_mode = draw(st.booleans())
    n = tuple(draw(st.integers(max(1, di * (ki - 1) + 1 - 2 * pi), 9)) for ki, pi, di in zip(k, p, d))
    lead = draw(st.sampled_from([(2, 3), (3,)]))      # batched or not
    uniform = all(len(set(t)) == 1 for t in (k, s, p, d))
    pack = (lambda t: t[0]) if uniform and draw(st.booleans()) else (lambda t: t)
    return nd, lead + n, pack(k), pack(s), pack(p), pack(d), ceil_mode


@SETTINGS
@given(pool_case(), st.booleans())
def test_max_pool_matches_pytorch_loops_and_the_rule(case, default_stride):
    nd, shape, k, s, p, d, ceil_mode = case
    stride = None if default_stride else s
    x = np.random.default_rng(2).standard_normal(shape)
    y, _, flops = run_kernel(f"max_pool{nd}d", x, k, stride, p, d, ceil_mode)
    ref = pool_direct(x, _t(k, nd), _t(k if stride is None else s, nd), _t(p, nd), _t(d, nd), ceil_mode, "max")
    assert y.shape == ref.shape
    assert np.array_equal(y, ref)
    r_shape, params, r_flops, _ = rule_out(f"max_pool{nd}d", shape, k, stride, p, d, ceil_mode)
    assert r_shape == y.shape and params == 0 and r_flops == flops


@SETTINGS
@given(pool_case(), st.booleans())
def test_avg_pool_matches_pytorch_loops_and_the_rule(case, count_include_pad):
    nd, shape, k, s, p, _, ceil_mode = case
    x = np.random.default_rng(3).standard_normal(shape)
    y, _, flops = run_kernel(f"avg_pool{nd}d", x, k, s, p, ceil_mode, count_include_pad)
    ref = pool_direct(x, _t(k, nd), _t(s, nd), _t(p, nd), (1,) * nd, ceil_mode, "avg", count_include_pad)
    assert y.shape == ref.shape
    assert np.allclose(y, ref)
    r_shape, _, r_flops, _ = rule_out(f"avg_pool{nd}d", shape, k, s, p, ceil_mode, count_include_pad)
    assert r_shape == y.shape and r_flops == flops


@pytest.mark.parametrize("n,k,s,p,want", [
    (5, 2, 2, 0, 3),     # the last window hangs over the end
    (6, 3, 2, 1, 4),
    (4, 2, 3, 1, 2),     # the ceil count would be 3, but that window starts in the right padding
    (7, 3, 3, 0, 3),
])
def test_ceil_mode_sizes_known_from_pytorch(n, k, s, p, want):
    assert torch_pool_size(n, k, s, p, 1, True) == want
    x = np.arange(float(n)).reshape(1, 1, n)
    assert max_pool_np(np, x, k, s, p, 1, True, nd=1).shape[-1] == want
    assert rule_out("max_pool1d", (1, 1, n), k, s, p, 1, True)[0][-1] == want


def test_pooling_argument_checks():
    with pytest.raises(Refused) as e:                       # PyTorch: pad at most half the kernel
        rule_out("max_pool2d", (1, 2, 8, 8), 2, None, 2, 1, False)
    assert e.value.code == "SC309"
    with pytest.raises(Refused) as e:
        rule_out("avg_pool1d", (1, 2, 8, 8), 2, None, 0, False, True)
    assert e.value.code == "SC304"
    with pytest.raises(Refused) as e:
        rule_out("adaptive_avg_pool2d", (1, 2, 8, 8), (1, 1, 1))
    assert e.value.code == "SC304"


@SETTINGS
@given(st.sampled_from([1, 2]), st.sampled_from(["avg", "max"]), st.data())
def test_adaptive_pool_matches_the_window_definition(nd, how, data):
    n = tuple(data.draw(st.integers(1, 9)) for _ in range(nd))
    out = tuple(data.draw(st.integers(1, 7)) for _ in range(nd))
    x = np.random.default_rng(4).standard_normal((2, 3) + n)
    arg = out if nd > 1 or data.draw(st.booleans()) else out[0]
    y = adaptive_np(np, x, arg, nd, how)
    assert np.allclose(y, adaptive_direct(x, out, how))
    if f"adaptive_{how}_pool{nd}d" in OPS:
        assert rule_out(f"adaptive_{how}_pool{nd}d", x.shape, arg)[0] == y.shape


# ---- normalisation -------------------------------------------------------------------------------------

def test_batch_norm_counts_buffers_apart_from_parameters():
    x = np.random.default_rng(7).standard_normal((2, 5, 3, 3))
    y, k, _ = run_kernel("batch_norm", x, 1e-5, 0.1, True)
    assert k.params == 10 and k.buffers == 10
    w, b = k.weights                                          # running mean 0, variance 1 (fresh)
    assert np.allclose(y, x / np.sqrt(1 + 1e-5) * w.reshape(1, 5, 1, 1) + b.reshape(1, 5, 1, 1))
    assert rule_out("batch_norm", x.shape, 1e-5, 0.1, True)[1:] == (10, 2 * x.size, 10)
    assert rule_out("batch_norm", x.shape, 1e-5, 0.1, False)[1] == 0


def test_group_and_instance_norm_normalise_their_groups():
    x = np.random.default_rng(8).standard_normal((2, 6, 4, 4)) * 3 + 1
    y, k, _ = run_kernel("group_norm", x, 3, 1e-5, False)
    g = y.reshape(2, 3, -1)
    assert np.allclose(g.mean(-1), 0, atol=1e-6) and np.allclose(g.var(-1), 1, atol=1e-3)
    assert k.params == 0
    with pytest.raises(Refused) as e:
        rule_out("group_norm", x.shape, 4, 1e-5, True)
    assert e.value.code == "SC201"
    y, k, _ = run_kernel("instance_norm", x, 1e-5, False, True)
    assert np.allclose(y.reshape(2, 6, -1).mean(-1), 0, atol=1e-6) and k.buffers == 12
    assert rule_out("instance_norm", x.shape, 1e-5, True, False)[1:] == (12, 7 * x.size, 0)


def test_buffers_are_counted_apart_through_the_analysis_and_the_run():
    import os
    from shapecheck.api import check_path
    from shapecheck.verify import verify
    path = os.path.join(os.path.dirname(__file__), "cases", "ops", "channel_norms.shape")
    m = check_path(path).models["m"]
    c = m.dims["c"]
    assert m.params - 6 * c == 0              # affine batch_norm, group_norm and instance_norm: 2c each
    assert m.buffers - 6 * c == 0             # two batch norms and one tracking instance norm: 2c each
    report = verify(path, samples=1)
    assert report.ok and all(r.failed is None for r in report.runs)
