"""FLOPs of a block over ``[*lead, k]``: counted with ``numel(*lead)``, which each
call replaces by the product of the dimensions it binds, so the model total is
exact and `verify` compares it with the NumPy count (it used to skip such specs)."""
from __future__ import annotations

import os

from conftest import ROOT
from shapecheck import execute as X
from shapecheck.api import check_path
from shapecheck.verify import _compare

CASE = os.path.join(ROOT, "tests", "cases", "blocks", "variadic.shape")


def _by_hand(batch, seq, heads, d) -> int:
    # proj = linear(x, out): 2 * rows * in * out multiply-adds plus rows * out bias adds
    a = 2 * (batch * seq) * d * (2 * d) + (batch * seq) * (2 * d)
    b = 2 * (batch * heads * seq) * d * d + (batch * heads * seq) * d
    c = 2 * 1 * d * 3 + 3
    return a + b + c


def test_model_flops_count_the_leading_axes():
    m = check_path(CASE).models["m"]
    for batch, seq, heads, d in ((2, 3, 4, 5), (7, 1, 2, 16)):
        env = {m.dims["batch"]: batch, m.dims["seq"]: seq, m.dims["heads"]: heads, m.dims["d"]: d}
        assert int(m.flops.subs(env)) == _by_hand(batch, seq, heads, d)
    assert not any("numel" in str(s) for s in m.flops.free_symbols)


def test_verify_compares_flops_of_variadic_blocks_and_catches_a_wrong_count():
    res = check_path(CASE)
    m = res.models["m"]
    sizes = {"batch": 2, "seq": 3, "heads": 4, "d": 5}
    ex = X.run(res.program, "m", sizes)
    assert ex.flops == _by_hand(**sizes)
    assert [d for d in _compare(m, ex, None)] == []
    # the same run against an analysis whose FLOPs forget the leading axes: flagged
    wrong = type("M", (), {**{k: getattr(m, k) for k in ("dims", "nodes", "params", "buffers")},
                           "flops": m.flops.subs({m.dims["batch"]: 1})})()
    found = [d for _, d in _compare(wrong, ex, None)]
    assert any("FLOPs" in d.message for d in found), [d.message for d in found]
