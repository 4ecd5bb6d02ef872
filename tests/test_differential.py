"""Differential tier: every clean golden case and every spec, run with NumPy at
random sizes that satisfy its requires, agrees node by node with the symbolic
shapes and parameter count; together they exercise every built-in operation."""
import glob
import os
import re

import pytest

from conftest import ROOT
from shapecheck import ir
from shapecheck.api import check_path
from shapecheck.ops import OPS
from shapecheck.ops.core import BINARY, UNARY
from shapecheck.verify import verify

CASES = sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "**", "*.shape"), recursive=True))
SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "*.shape")))


def clean(path) -> bool:
    text = open(path, encoding="utf-8").read()
    return not re.search(r"#\s*E:", text) and re.search(r"^\s*model ", text, re.M) is not None


CLEAN = [p for p in CASES if clean(p)]


def test_there_are_many_clean_cases():
    assert len(CLEAN) >= 30


@pytest.mark.parametrize("path", CLEAN + SPECS, ids=lambda p: os.path.relpath(p, ROOT))
def test_numpy_agrees_with_the_analysis(path):
    # the CNN specs' widths are constants: their weights alone (up to 29M parameters) exceed 64 MiB
    report = verify(path, samples=2, seed=11, max_memory=(64 if path in CLEAN else 256) * 2 ** 20)
    assert report.diagnostics == [], [d.message for d in report.diagnostics]
    assert report.runs and all(r.failed is None for r in report.runs), [r.failed for r in report.runs]
    assert all(r.params_numeric == r.params_symbolic for r in report.runs)


def _calls(e, out):
    if isinstance(e, ir.Call):
        out.add(e.func)
    if isinstance(e, ir.BinOp):
        out.add(BINARY[e.op])
    if isinstance(e, ir.Neg):
        out.add(UNARY["-"])
    if isinstance(e, ir.Invert):
        out.add(UNARY["~"])
    if isinstance(e, ir.Index):
        out.add("index")
    for v in vars(e).values() if hasattr(e, "__dataclass_fields__") else ():
        for x in (v if isinstance(v, tuple) else (v,)):
            if hasattr(x, "__dataclass_fields__"):
                _calls(x, out)


def test_the_differential_corpus_uses_every_operation():
    used = set()
    for path in CLEAN + SPECS:
        mod = check_path(path).module
        for item in mod.items:
            _calls(item, used)
    # arithmetic on two dimensions stays symbolic; these are the tensor operations
    assert set(OPS) - used == set()
