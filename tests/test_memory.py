"""The memory estimate of a numeric run (execute.estimate_bytes, which
`verify` checks against its budget) is honest: the peak of the traced
allocations of a run (NumPy's included) stays within 10% of it, on every
shipped spec and on a convolution-heavy spec whose activations dominate."""
from __future__ import annotations

import glob
import os
import tracemalloc

import pytest

from conftest import ROOT
from shapecheck import execute as X
from shapecheck.sizes import choose_bindings
from shapecheck.api import check_path, check_source

SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "*.shape")))

#: activations far larger than the weights: im2col columns of 3x3 convolutions
#: (9x their input), a transposed convolution, pooling and norms
CONV_HEAVY = """
dim batch = 4, img = 96
require img % 4 == 0
model heavy {
    input x: [batch, 3, img, img]
    a = relu(batch_norm(conv2d(x, 48, 3, padding=1, bias=false)))     : [batch, 48, img, img]
    b = conv2d(a, 48, 3, padding=2, dilation=2, groups=4)             : [batch, 48, img, img]
    c = max_pool2d(b + a, 3, stride=2, padding=1)                      : [batch, 48, img / 2, img / 2]
    d = conv2d(c, 96, (3, 5), stride=2, padding=(1, 2))               : [batch, 96, img / 4, img / 4]
    e = conv_transpose2d(d, 48, 4, stride=2, padding=1)               : [batch, 48, img / 2, img / 2]
    f = group_norm(e + c, 8)                                          : [batch, 48, img / 2, img / 2]
    g = avg_pool2d(conv2d(f, 48, 3, padding="same", groups=48), 2)    : [batch, 48, img / 4, img / 4]
    return adaptive_avg_pool2d(g, 1)
}
"""


def _peak(prog, name, values) -> int:
    tracemalloc.start()
    try:
        X.run(prog, name, values)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _check(res, binds, budget):
    assert res.diagnostics == [] and res.models
    for name, m in res.models.items():
        b = choose_bindings(m, binds, 0, use_examples=True, max_memory=budget)
        peak = _peak(res.program, name, b.values)
        assert peak <= 1.1 * b.estimate, (f"{name} at {b.text()}: peak {peak / 2 ** 20:.1f} MiB over the "
                                          f"estimate {b.estimate / 2 ** 20:.1f} MiB")
        assert peak > 0.02 * b.estimate      # the run did allocate its tensors (the tracing works)


@pytest.mark.parametrize("path", SPECS, ids=os.path.basename)
def test_a_run_stays_within_its_memory_estimate(path):
    res = check_path(path)
    if any("img" in m.dims for m in res.models.values()):      # the CNNs: fixed widths, 25M weights
        _check(res, {"img": 64}, 160 * 2 ** 20)
    else:                                                        # example values scaled down to fit
        _check(res, {}, 40 * 2 ** 20)


def test_a_convolution_heavy_run_stays_within_its_memory_estimate():
    _check(check_source(CONV_HEAVY, "heavy.shape"), {}, 2 ** 31)
