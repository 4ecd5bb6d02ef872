"""Tests written to kill mutants that survived the suite (see benchmarks/mutate.py):
each pins one behaviour a plausible fault would change."""
import numpy as np
import pytest

from shapecheck import execute as X
from shapecheck.api import check_source
from shapecheck.dims import PROVED, Facts, Relation, dim


@pytest.mark.parametrize("op", ["+", "-", "*", "//", "%", "**"])
def test_bool_arithmetic_dtype_agrees_with_numpy(op):
    # whatever the rule for bools is, a result the analysis accepts has NumPy's dtype
    spec = f"dim n = 3\nmodel m {{\n    input p: [n] bool\n    input q: [n] bool\n    y = p {op} q\n    return y\n}}\n"
    res = check_source(spec, "bools.shape")
    if not res.ok:
        return                      # refused: nothing to compare
    inferred = next(n.dtype for n in res.models["m"].nodes if n.name == "y")
    ex = X.run(res.program, "m", {"n": 3})
    with np.errstate(all="ignore"):
        numpy_dtype = X.dtype_name(eval(f"np.ones(3, bool) {op} np.ones(3, bool)"))  # noqa: S307 (test's own text)
    assert next(r.dtype for r in ex.records if r.name == "y") == numpy_dtype
    assert inferred == numpy_dtype, f"p {op} q: inferred {inferred}, NumPy gives {numpy_dtype}"


def test_a_substituted_value_stays_at_least_one():
    # `require x == y - 1`: x is replaced by y - 1, which must itself stay >= 1, so y >= 2
    x, y = dim("x"), dim("y")
    facts = Facts.build([Relation("==", x, y - 1)])
    assert facts.positive(y - 1).status == PROVED
    assert facts.le(2, y).status == PROVED


def test_negative_slice_stop_counts_from_the_end_numerically():
    prog = X.program_from_source("dim n\nmodel m {\n    input x: [n, n]\n    y = x[:, :-1]\n    z = x[1:, -3:-1]\n"
                                 "    return y\n}\n", "t.shape")
    ex = X.run(prog, "m", {"n": 5})
    shapes = {r.name: r.shape for r in ex.records}
    assert shapes["y"] == (5, 4) and shapes["z"] == (4, 2)
