"""The symbolic FLOP formula of every clean golden case under tests/cases/ops
equals the operation-level count of NumPy runs at random sizes (the specs are
covered by test_report.py), so each operation's FLOP rule has a numeric twin
that agrees with it."""
import glob
import os

import pytest

from conftest import ROOT
from shapecheck import execute as X
from shapecheck.sizes import choose_bindings
from shapecheck import report as R
from shapecheck.api import check_path

CASES = sorted(p for p in glob.glob(os.path.join(ROOT, "tests", "cases", "ops", "*.shape"))
               if "# E:" not in open(p, encoding="utf-8").read())


def test_there_are_clean_op_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=lambda p: os.path.basename(p))
def test_flop_formula_matches_numeric_count(path):
    res = check_path(path)
    assert res.diagnostics == []
    prog = X.load_program(path)
    for name, model in res.models.items():
        for seed in range(2):
            b = choose_bindings(model, {}, seed, use_examples=False)
            mr = R.build(res, model=name, binds=b.values).models[0]
            ex = X.run(prog, name, b.values, seed=seed)
            assert ex.flops_unknown == ()
            assert mr.flops.value == ex.flops, (mr.flops.formula, b.values)
