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
from shapecheck import sizes as S
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
            b = S.choose_bindings(model, {}, seed, use_examples=False)
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
    assert X.op_flops("conv1d", [np.ones((2, 3, 10)), 4, 3, 1, 0, 1, 1, True], np.ones((2, 4, 8))) == 2 * 2 * 4 * 8 * 3 * 3 + 2 * 4 * 8
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
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<table" in page and "<math" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg",
                                                           "http://www.w3.org/1998/Math/MathML"}


def test_markdown_has_mermaid_stages_and_math():
    md = regen.render("transformer", "md")
    assert "```mermaid\nflowchart TD" in md
    assert 'subgraph r1 ["repeat n_layers"]' in md
    assert "|\"x: [batch, src_len, d_model]\"|" in md
    assert "### 3. `x`, line 47 (calls `encoder_layer`)" in md
    gpt2 = regen.render("gpt2", "md")
    assert "| parameters | `n_layers*(12*d_model**2 + 13*d_model) + d_model*(vocab_size + n_positions + 2)` | " \
           "$`n_{layers} \\left(12 d_{model}^{2} + 13 d_{model}\\right) + d_{model} \\left(vocab_{size} + " \
           "n_{positions} + 2\\right)`$ | 124,439,808 (124.44M) |" in gpt2


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
    rows = {r.name: r for r in R.build(res).models[0].rows if r.kind != "return"}
    assert rows["y"].shape == ("b", "h", "dk")
    assert rows["z"].shape == ("b", "2*d / h")      # not an exact match: left alone
    assert rows["x"].shape == ("b", "d")            # `let same = d` never renames `d`


def test_depth_limits_rows_and_names_the_cut_blocks():
    rep = R.build(_check("gpt2"), depth=1)
    m = rep.models[0]
    assert {r.depth for r in m.visible()} == {1}
    assert [r.kind for r in m.visible()][-1] == "return"
    cut = [r for r in m.visible() if m.is_cut(r)]
    assert [(r.name, r.calls) for r in cut] == [("x", ("causal_self_attention",)), ("x", ("mlp",))]
    text = R.render(rep, "text")
    assert "x → causal_self_attention()" in text and "x → mlp()" in text
    doc = json.loads(R.render(rep, "json"))
    assert all(len(n["path"]) == 1 for n in doc["models"][0]["nodes"])
    assert [n["cut"] for n in doc["models"][0]["nodes"]].count(True) == 2


def test_unbound_dimensions_give_formulas_not_values():
    m = R.build(_check("gpt2")).models[0]
    assert m.flops.value is None and m.memory.value is None and "batch" in m.unbound
    x = next(r for r in m.rows if r.name == "x")
    assert x.value is None and x.flops_own.value is None and x.shape == ("batch", "seq_len", "d_model")


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
    from shapecheck.cli import use_color as _use_color

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


# ---- the hierarchy adds up -------------------------------------------------------------------------------


def _clean_cases():
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "**", "*.shape"), recursive=True)):
        text = read_text(path)
        if "# E:" in text:
            continue
        out.append(path)
    return out


CLEAN = [p for p in SPECS] + _clean_cases()


@pytest.mark.parametrize("path", CLEAN, ids=[os.path.relpath(p, ROOT) for p in CLEAN])
def test_own_columns_add_up_to_the_model_totals(path):
    """Over every shipped spec and clean golden case: the own parameters and
    FLOPs of all rows (repeat applied) sum to the model totals, symbolically;
    and the model's statements' totals (including their calls) do too."""
    import sympy
    res = check_path(path)
    if res.errors or not res.models:
        pytest.skip("not a clean spec with a model")
    for mr in R.build(res).models:
        for own, total, attr in (("params_own", "params_total", "params"), ("flops_own", "flops_total", "flops")):
            want = getattr(mr, attr).expr
            got = sympy.Add(*(getattr(r, own).expr for r in mr.rows))
            assert sympy.expand(got - want) == 0, (mr.name, attr)
            top = sympy.Add(*(getattr(r, total).expr for r in mr.rows if r.depth == 1 and r.kind != "call"))
            assert sympy.expand(top - want) == 0, (mr.name, attr)
        # a call row's total is the sum of its callee's own rows
        for i, r in enumerate(mr.rows):
            if r.kind != "call":
                continue
            inner = [c for c in mr.rows[i + 1:]]
            inner = inner[:next((k for k, c in enumerate(inner) if c.level <= r.level), len(inner))]
            assert sympy.expand(sympy.Add(*(c.params_own.expr for c in inner)) - r.params_total.expr) == 0


def test_gpt2_hierarchy_by_hand():
    """GPT-2 small, per layer: attention 4d^2+4d weights, MLP 8d^2+5d, two
    layer norms 2d each; 12 layers (values from the published architecture)."""
    m = R.build(_check("gpt2")).models[0]
    d, L = 768, 12
    calls = {r.name: r for r in m.rows if r.kind == "call"}
    assert calls["causal_self_attention"].params_total.value == L * (4 * d * d + 4 * d)
    assert calls["mlp"].params_total.value == L * (8 * d * d + 5 * d)
    xs = [r for r in m.rows if r.name == "x" and r.depth == 1]
    assert [r.params_own.value for r in xs] == [0, L * 2 * d, L * 2 * d]      # the layer norms
    assert xs[1].repeat.formula == "n_layers" and xs[1].repeat.value == 12
    ret = [r for r in m.rows if r.kind == "return"]
    assert [r.path for r in ret] == [("gpt2", "causal_self_attention@35"), ("gpt2", "mlp@36"), ("gpt2",)]
    assert ret[1].params_own.value == L * (8 * d * d + 5 * d)          # mlp's two linears are in its return
    logits = next(r for r in m.rows if r.name == "logits")
    assert logits.inputs == (("x", "[batch, seq_len, d_model]"), ("wte", "[vocab_size, d_model]"))


def test_memory_columns_by_hand():
    m = R.build(_check("gpt2"), binds={"batch": 1, "seq_len": 8}).models[0]
    assert m.param_bytes.value == 4 * 124_439_808
    assert m.macs.value * 2 == m.flops.value
    assert m.input_bytes.value == 8 * 1 * 8                 # int64 ids
    assert m.total_bytes.value == m.param_bytes.value + m.memory.value
    assert m.buffers.value == 0


# ---- formulas ------------------------------------------------------------------------------------------


def test_gpt2_parameter_formula_reads_as_written_by_hand():
    m = R.build(_check("gpt2")).models[0]
    assert m.params.formula == "n_layers*(12*d_model**2 + 13*d_model) + d_model*(vocab_size + n_positions + 2)"


@pytest.mark.parametrize("path", SPECS, ids=NAMES)
def test_printed_formulas_equal_the_totals(path):
    """The grouped form is the same polynomial (checked by expansion), spec
    syntax only, and the text format never cuts a formula."""
    import sympy
    from shapecheck import formula as F
    res = check_path(path)
    rep = R.build(res)
    for mr in rep.models:
        for q in (mr.params, mr.flops, mr.memory, mr.total_bytes):
            assert F.check_equal(q.expr, mr.printer.order, mr.printer.repeats)
            assert "…" not in q.formula and "..." not in q.formula
            assert not re.search(r"\bfloor\(|\*\*|[a-z_]+", q.formula) is None or q.formula.isdigit()
    text = R.render(rep, "text")
    assert "…" not in text.split("formulas (dimensions unbound):")[-1]


def test_formula_terms_by_degree_and_declaration_order():
    from shapecheck import formula as F
    from shapecheck.dims import dim
    a, b, c = dim("a"), dim("b"), dim("c")
    assert F.plain(3 + b + a * a + 2 * a, order=["a", "b"]) == "a**2 + 2*a + b + 3"
    assert F.plain(c * a + c * b, order=["a", "b", "c"]) == "c*(a + b)"
    assert F.plain(a / b + 1, order=["a", "b"]) == "a / b + 1"
    import sympy
    assert F.plain(sympy.floor(a / b) * c + c, order=["a", "b", "c"]) == "c*(floor(a / b) + 1)"
    assert F.plain(a - 2 * b, order=["a", "b"]) == "a - 2*b"


# ---- configuration -------------------------------------------------------------------------------------


def test_report_reads_bind_from_config_and_bind_wins(tmp_path, monkeypatch, capsys):
    spec = os.path.join(ROOT, "specs", "gpt2.shape")
    (tmp_path / "pyproject.toml").write_text("[tool.shapecheck]\nbind = { batch = 3, seq_len = 5 }\n")
    monkeypatch.chdir(tmp_path)
    assert main(["report", spec, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)["models"][0]
    assert doc["bindings"]["batch"] == 3 and doc["binding_sources"]["batch"] == "config"
    assert [n["value"] for n in doc["nodes"] if n["name"] == "logits"] == [[3, 5, 50257]]
    assert main(["report", spec, "--format", "json", "--bind", "batch=2"]) == 0
    doc = json.loads(capsys.readouterr().out)["models"][0]
    assert doc["bindings"]["batch"] == 2 and doc["binding_sources"]["batch"] == "bind"
    assert doc["bindings"]["seq_len"] == 5


# ---- html and layout -----------------------------------------------------------------------------------


def test_html_formulas_wrap_at_operators_only():
    from shapecheck.report_html import wrap
    assert wrap("n_layers*(12*d_model**2 + 13)") == "n_layers*<wbr>(<wbr>12*<wbr>d_model**2 + 13)"
    page = R.render(R.build(_check("gpt2")), "html")
    assert "<math" in page and 'class="plain f"' in page
    assert "word-break:break-all" not in page


@pytest.mark.parametrize("name", NAMES)
def test_diagram_boxes_do_not_overlap(name):
    """Geometry of the laid-out diagram (the browser test measures the real text)."""
    from shapecheck.report_html import svg
    page = svg(R.build(_check(name)).models[0])
    rects = [tuple(float(v) for v in m) for m in
             re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', page)]
    width, height = (float(v) for v in re.search(r'<svg [^>]*width="(\d+)" height="(\d+)"', page).groups())
    for i, (x, y, w, h) in enumerate(rects):
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for (x2, y2, w2, h2) in rects[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, (name, (x, y, w, h), (x2, y2, w2, h2))


def test_deep_call_trees_are_listed_up_to_a_cap(monkeypatch):
    """Blocks calling blocks twice, 14 deep: 2**14 instances; the rows stop at
    MAX_ROWS with a note, the totals still count every call."""
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    from bench_report_scale import nested_spec
    monkeypatch.setattr(R, "MAX_ROWS", 5_000)
    m = R.build(check_source(nested_spec(14), "deep.shape")).models[0]
    assert 4_000 <= len(m.rows) <= 5_000 + 20
    assert any("only the first" in n for n in m.notes)
    assert m.params.value == 2 ** 14 * (8 * 8 + 8)            # b0's linear, at every leaf
    full = R.build(check_source(nested_spec(6), "deep.shape")).models[0]
    assert sum(r.params_own.value for r in full.rows) == full.params.value == 2 ** 6 * (8 * 8 + 8)
    assert len([r for r in full.rows if r.kind == "call"]) == 2 ** 7 - 1


def test_symbolic_ignores_examples_but_not_bind(capsys):
    spec = os.path.join(ROOT, "specs", "gpt2.shape")
    assert main(["report", spec, "--symbolic", "--bind", "batch=2", "--format", "json"]) == 0
    m = json.loads(capsys.readouterr().out)["models"][0]
    assert m["bindings"] == {"batch": 2} and "d_model" in m["unbound"]
    assert m["params"]["value"] is None
    assert m["params"]["formula"] == "n_layers*(12*d_model**2 + 13*d_model) + d_model*(vocab_size + n_positions + 2)"
