"""Shape reports (`shapecheck report`): golden files, and honest checks with
independent expectations (published parameter counts, hand-computed shapes,
and the numeric backend's allocation and operation-level FLOP count)."""
import glob
import json
import os
import re
import subprocess
import sys

import pytest

from shapecheck import execute as X
from shapecheck import report as R
from shapecheck.api import check_path, check_source, read_text
from shapecheck.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden_reports")
SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "*.shape")))
NAMES = [os.path.basename(p)[:-len(".shape")] for p in SPECS]
SCHEMA = os.path.join(ROOT, "docs", "report.schema.json")

sys.path.insert(0, os.path.join(ROOT, "tests"))
import regen_golden_reports as regen  # noqa: E402


def _check(name):
    rel = f"specs/{name}.shape"
    return check_path(rel, read=lambda p: read_text(os.path.join(ROOT, p)))


# ---- golden files (a regression net; regenerate with `python tests/regen_golden_reports.py`) --------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ext", ["json", "md"])
def test_golden_report(name, ext):
    path = os.path.join(GOLDEN, f"{name}.{ext}")
    assert os.path.exists(path), f"missing {path}; run `python tests/regen_golden_reports.py`"
    with open(path, encoding="utf-8", newline="") as f:
        expected = f.read()
    got = regen.render(name, ext)
    assert got == expected, f"{name}.{ext} differs from the golden file; if the change is intended, " \
                            f"run `python tests/regen_golden_reports.py` and review the diff"


def test_golden_files_match_the_specs():
    found = sorted(os.path.basename(p) for p in glob.glob(os.path.join(GOLDEN, "*")))
    assert found == sorted(f"{n}.{e}" for n in NAMES for e in ("json", "md"))


def test_output_is_deterministic():
    a = regen.render("transformer", "json")
    b = regen.render("transformer", "json")
    assert a == b


# ---- honest checks: the seed transformer ----------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_report():
    return R.build(_check("transformer"), binds={"batch": 2, "src_len": 7, "tgt_len": 5})


def _rows(rep, name, call=None):
    m = rep.models[0]
    return [r for r in m.rows if r.name == name and (call is None or any(p.startswith(call) for p in r.path))]


def test_seed_transformer_encoder_shapes(seed_report):
    enc = [r for r in seed_report.models[0].rows if any(p.startswith("encoder_layer@") for p in r.path)]
    q = next(r for r in enc if r.name == "Q")
    assert q.value == (2, 8, 7, 64)
    assert q.shape == ("batch", "num_heads", "src_len", "d_k")     # the `let` name, not d_model / num_heads
    scores = next(r for r in enc if r.name == "scores")
    assert scores.value == (2, 8, 7, 7)
    assert scores.repeat.value == 6


def test_seed_transformer_decoder_shapes(seed_report):
    rows = seed_report.models[0].rows
    dec = [r for r in rows if any(p.startswith("decoder_layer@") for p in r.path)]
    scores = [r for r in dec if r.name == "scores"]
    assert [r.value for r in scores] == [(2, 8, 5, 5), (2, 8, 5, 7)]   # masked self-, then cross-attention
    assert scores[1].shape == ("batch", "num_heads", "tgt_len", "src_len")
    logits = next(r for r in rows if r.name == "logits")
    assert logits.value == (2, 5, 32000) and logits.depth == 1


def test_seed_transformer_text_and_json(seed_report):
    text = R.render(seed_report, "text")
    assert "[2, 8, 5, 7]" in text and "[batch, num_heads, tgt_len, src_len]" in text
    doc = json.loads(R.render(seed_report, "json"))
    m = doc["models"][0]
    assert m["bindings"]["batch"] == 2 and m["bindings"]["d_model"] == 512
    assert [n["value"] for n in m["nodes"] if n["name"] == "logits"] == [[2, 5, 32000]]


# ---- honest checks: published parameter counts -----------------------------------------------------------


@pytest.mark.parametrize("name,expected", [("gpt2", 124_439_808), ("bert_base", 109_482_240)])
def test_published_parameter_counts(name, expected):
    m = R.build(_check(name)).models[0]
    assert m.params.value == expected
    doc = json.loads(R.render(R.build(_check(name)), "json"))
    assert doc["models"][0]["params"]["value"] == expected


# ---- honest checks: the formulas against the numeric backend ----------------------------------------------


def _runs(path, n=3):
    res = check_path(path)
    prog = X.load_program(path)
    for name, model in res.models.items():
        for seed in range(n):
            b = X.choose_bindings(model, {}, seed, use_examples=False)
            yield model, R.build(res, model=name, binds=b.values).models[0], X.run(prog, name, b.values, seed=seed)


@pytest.mark.parametrize("path", SPECS, ids=NAMES)
def test_parameter_formula_matches_numeric_allocation(path):
    for _model, mr, ex in _runs(path):
        assert mr.params.value == ex.params, (mr.params.formula, ex.bindings)


@pytest.mark.parametrize("path", SPECS, ids=NAMES)
def test_memory_formula_matches_numeric_tensors(path):
    for _model, mr, ex in _runs(path):
        actual = sum(R.DTYPE_BYTES[r.dtype] * _numel(r.shape) for r in ex.records if r.op != "param")
        assert mr.memory.value == actual, (mr.memory.formula, ex.bindings)


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


@pytest.mark.parametrize("path", SPECS, ids=NAMES)
def test_flop_formula_matches_numeric_count(path):
    """The FLOP formula equals an operation-level count of the NumPy run, at
    random sizes; `masked_fill(x, none)` (an optional mask left out) costs 0."""
    for _model, mr, ex in _runs(path, n=2):
        assert ex.flops_unknown == ()
        assert mr.flops.value == ex.flops, (mr.flops.formula, ex.bindings)


def test_numeric_flop_rules_by_hand():
    import numpy as np
    x, w = np.ones((2, 3, 4)), np.ones((4, 5))
    assert X.op_flops("linear", [x, 5, False], np.ones((2, 3, 5))) == 2 * 6 * 4 * 5
    assert X.op_flops("matmul", [np.ones((4,)), w], np.ones((5,))) == 2 * 4 * 5
    assert X.op_flops("einsum", ["...ij,jk->...ik", [x, w]], x @ w) == 2 * 2 * 3 * 4 * 5
    assert X.op_flops("conv1d", [np.ones((2, 3, 10)), 4, 3, 1, 0, True], np.ones((2, 4, 8))) == 2 * 2 * 4 * 8 * 3 * 3 + 2 * 4 * 8
    assert X.op_flops("layer_norm", [x, True, 1e-5], x) == 7 * 24
    assert X.op_flops("masked_fill", [x, None, -1.0], x) == 0
    assert X.op_flops("no_such_op", [], x) is None


# ---- formats -------------------------------------------------------------------------------------------------


def test_json_matches_the_documented_schema():
    jsonschema = pytest.importorskip("jsonschema")
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    for name in NAMES:
        jsonschema.validate(json.loads(regen.render(name, "json")), schema)


def test_html_is_standalone():
    page = R.render(R.build(_check("gpt2")), "html")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<table>" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]


def test_markdown_has_mermaid_and_stages():
    md = regen.render("transformer", "md")
    assert "```mermaid\nflowchart TD" in md
    assert 'subgraph r1 ["repeat n_layers"]' in md
    assert "|\"x: [batch, src_len, d_model]\"|" in md
    assert "### 3. `x`, line 47 (calls `encoder_layer@47`)" in md


def test_let_names_replace_exact_matches_only():
    res = check_source('''
dim b, d = 8, h = 2
let dk = d / h
let same = d
require d % h == 0
model m {
    input x: [b, d]
    y = rearrange(x, "b (h k) -> b h k", h=h)
    z = linear(x, 2 * d / h)
    return z
}''', "m.shape")
    rows = {r.name: r for r in R.build(res).models[0].rows}
    assert rows["y"].shape == ("b", "h", "dk")
    assert rows["z"].shape == ("b", "2*d / h")      # not an exact match: left alone
    assert rows["x"].shape == ("b", "d")            # `let same = d` never renames `d`


def test_depth_limits_rows():
    rep = R.build(_check("transformer"), depth=1)
    assert {r.depth for r in rep.models[0].visible()} == {1}
    doc = json.loads(R.render(rep, "json"))
    assert all(len(n["path"]) == 1 for n in doc["models"][0]["nodes"])


def test_unbound_dimensions_give_formulas_not_values():
    m = R.build(_check("gpt2")).models[0]
    assert m.flops.value is None and m.memory.value is None and "batch" in m.unbound
    x = next(r for r in m.rows if r.name == "x")
    assert x.value is None and x.shape == ("batch", "seq_len", "d_model")


def test_bindings_violating_a_require_are_noted():
    m = R.build(_check("transformer"), binds={"num_heads": 7}).models[0]
    assert any("d_model % num_heads" in n for n in m.notes)


# ---- the command line ---------------------------------------------------------------------------------------


def test_cli_report_formats(tmp_path, capsys):
    spec = os.path.join(ROOT, "specs", "transformer.shape")
    assert main(["report", spec, "--bind", "batch=2", "src_len=7", "tgt_len=5"]) == 0
    out = capsys.readouterr().out
    assert "\033[" not in out                        # not a TTY: no colour
    assert "[2, 8, 5, 7]" in out and "93,322,496" in out
    for fmt in R.FORMATS:
        target = tmp_path / f"r.{fmt}"
        assert main(["report", spec, "--format", fmt, "-o", str(target)]) == 0
        assert target.read_text(encoding="utf-8")
    json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))


def test_cli_report_usage_errors(tmp_path, capsys):
    spec = os.path.join(ROOT, "specs", "gpt2.shape")
    assert main(["report", spec, "--bind", "nope=3"]) == 2
    assert main(["report", spec, "--model", "nope"]) == 2
    assert main(["report", spec, "--depth", "0"]) == 2
    assert main(["report", str(tmp_path / "missing.shape")]) == 2
    bad = tmp_path / "bad.shape"
    bad.write_text("dim b\nmodel m {\n    input x: [b]\n    y = linear(x, c)\n    return y\n}\n")
    assert main(["report", str(bad)]) == 1
    assert "SC101" in capsys.readouterr().err


def test_colour_only_on_a_tty_without_no_color(monkeypatch):
    from shapecheck.cli.report import _use_color

    class Tty:
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _use_color(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not _use_color(Tty())
    assert "\033[" in R.render(R.build(_check("gpt2")), "text", color=True)


def test_report_library_does_not_import_numpy():
    code = ("import sys; from shapecheck.report import report_path, render; "
            "render(report_path(%r), 'html'); print('numpy' in sys.modules)") % os.path.join(ROOT, "specs", "gpt2.shape")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr


def test_cli_formats_match_the_library():
    from shapecheck.cli import report as cli_report
    assert tuple(cli_report.FORMATS) == tuple(R.FORMATS)
