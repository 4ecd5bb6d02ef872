"""`shapecheck conform`: real PyTorch modules (HuggingFace transformers built from
configs with random weights, nothing downloaded) checked against the shipped specs
at several small distinct sizes, a planted size-dependent bug, the CLI, the
hypothesis strategy and the pytest helper."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

SPECS = os.path.join(ROOT, "specs")
TESTS = os.path.dirname(os.path.abspath(__file__))


def spec(name):
    return os.path.join(SPECS, name + ".shape")


# ---- torch is an optional extra: the core never imports it (no torch needed) ----------------------------


def test_core_lint_report_and_verify_never_import_torch(tmp_path):
    code = ("import sys, shapecheck, shapecheck.cli as c, shapecheck.api, shapecheck.report, shapecheck.verify, "
            "shapecheck.codes, shapecheck.conform, shapecheck.strategies, shapecheck.testing\n"
            "rc = c.main(['lint', %r]) + c.main(['verify', %r, '--samples', '1', '--bind', 'n_layers=1', "
            "'batch=1', 'seq_len=2', 'vocab_size=5', 'd_model=8', 'num_heads=2', 'n_positions=4'])\n"
            "c.main(['conform', '--help']) if False else None\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers'))); sys.exit(rc)"
            ) % (spec("gpt2"), spec("gpt2"))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": ROOT}, cwd=str(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[]"


torch = pytest.importorskip("torch", reason="conform needs PyTorch: pip install 'shapecheck[torch]'")
pytest.importorskip("transformers", reason="the real-model tests need transformers: pip install 'shapecheck[torch]'")

torch.set_num_threads(1)   # tiny models: one thread, and room for the other test worker on a small machine
sys.path.insert(0, TESTS)
import conform_factories as F  # noqa: E402

from shapecheck.conform import UsageError, conform, factory_kwargs  # noqa: E402
from shapecheck.testing import assert_conforms  # noqa: E402


def codes_lines(report):
    return sorted({(d.code, d.span.line) for d in report.diagnostics})


def distinct(report):
    return len({tuple(sorted(s.values.items())) for s in report.samples})


# ---- real HuggingFace models against the shipped specs ---------------------------------------------------


def test_gpt2_lm_head_model_conforms_with_mapped_blocks():
    r = conform(spec("gpt2"), F.gpt2, mapping=F.GPT2_MAPPING, binds={"n_layers": 2}, samples=3)
    assert r.ok, r.text()
    assert r.diagnostics == [] and len(r.samples) == 3 and distinct(r) == 3
    for s in r.samples:
        # the tied LM head counted once on both sides
        assert s.failed is None and s.params_module == s.params_spec
        # outputs, params, 7 mapped weight groups, 2 blocks x 2 layers x 3 checks and 2 call counts
        assert s.compared == 2 + 1 + 5 + 2 + 12


def test_bert_model_with_pooler_conforms_with_mapped_layers():
    r = conform(spec("bert_base"), F.bert, mapping=F.BERT_MAPPING, samples=3)
    assert r.ok, r.text()
    assert distinct(r) == 3 and all(s.params_module == s.params_spec for s in r.samples)
    # two results (sequence output and pooled), both compared
    assert all(s.compared >= 4 for s in r.samples)


def test_llama_with_grouped_query_attention_conforms():
    r = conform(spec("llama"), F.llama, mapping=F.LLAMA_MAPPING, samples=3)
    assert r.ok, r.text()
    # grouped-query attention actually exercised: fewer K/V heads than query heads
    assert all(s.values["n_kv_heads"] < s.values["n_heads"] for s in r.samples)
    assert all(s.params_module == s.params_spec for s in r.samples)


@pytest.mark.parametrize("name, build, example_count", [
    ("gpt2", lambda v: F.gpt2(**v), 124_439_808),
    ("bert_base", lambda v: F.bert(**v), 109_482_240),
    ("llama", lambda v: F.llama(**v), 6_738_415_616),
])
def test_parameter_counts_at_the_example_values(name, build, example_count):
    """The real modules at the spec's example values (built on the meta device:
    no memory) have the count the spec's header states and its formula gives."""
    from shapecheck.api import check_path
    from shapecheck.dims import evaluate

    m = check_path(spec(name)).models[name]
    values = dict(m.examples)
    env = {m.dims[k]: v for k, v in values.items()}
    assert int(evaluate(m.params, env)) == example_count
    kwargs = factory_kwargs({"gpt2": F.gpt2, "bert_base": F.bert, "llama": F.llama}[name], values)
    with torch.device("meta"):
        module = build(kwargs)
    assert sum(p.numel() for p in module.parameters()) == example_count


def test_llama_gqa_count_at_eight_kv_heads():
    with torch.device("meta"):
        module = F.llama(vocab_size=32000, d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, d_ff=11008)
    # the by-hand figure of specs/llama.shape's header
    assert sum(p.numel() for p in module.parameters()) == 5_933_109_248


# ---- a planted, size-dependent bug ---------------------------------------------------------------------


def test_projection_width_bug_caught_at_its_spec_line_where_heads_differ_from_12():
    r = conform(spec("gpt2"), F.buggy_gpt, mapping=F.BUGGY_MAPPING, samples=3)
    assert not r.ok and r.exit_code == 1
    assert all(s.values["num_heads"] != 12 and s.findings for s in r.samples)
    found = codes_lines(r)
    # line 16: linear(x, 3 * d), the fused projection; line 22: the output projection;
    # line 29: the model's parameter count; line 35: the attention call's parameter count
    assert found == [("SC802", 16), ("SC802", 22), ("SC802", 29), ("SC802", 35)]
    d16 = next(d for d in r.diagnostics if d.span.line == 16)
    s = r.samples[0].values
    d, h = s["d_model"], s["num_heads"]
    width = 12 * (d // h)
    assert f"blocks.0.attn.qkv.weight is [{3 * width}, {d}]" in d16.message
    assert f"line 16 creates [{d}, {3 * d}], [{3 * d}]" in d16.message
    assert f"num_heads={h}" in d16.message


def test_the_same_bug_passes_a_single_check_with_12_heads():
    r = conform(spec("gpt2"), F.buggy_gpt, mapping=F.BUGGY_MAPPING, samples=1,
                binds={"num_heads": 12, "d_model": 24})
    assert r.ok, r.text()
    assert r.samples[0].values["num_heads"] == 12


def test_the_fixed_module_conforms():
    assert_conforms(spec("gpt2"), F.fixed_gpt, mapping=F.BUGGY_MAPPING, samples=3)


# ---- each kind of finding ------------------------------------------------------------------------------


class Transposed(torch.nn.Module):
    """A GPT-2 whose logits come out as [batch, vocab, seq] (and as ints, if asked)."""

    def __init__(self, inner, as_int=False):
        super().__init__()
        self.inner = inner
        self.as_int = as_int

    def forward(self, ids):
        y = self.inner(ids).transpose(1, 2)
        return y.long() if self.as_int else y


def test_transposed_result_and_wrong_dtype_are_located_at_the_return():
    r = conform(spec("gpt2"), lambda **v: Transposed(F.fixed_gpt(**factory_kwargs(F.fixed_gpt, v)), as_int=True),
                samples=2)
    assert codes_lines(r) == [("SC801", 39), ("SC804", 39)]
    s = r.samples[0].values
    out = next(d for d in r.diagnostics if d.code == "SC801")
    assert (f"is [{s['batch']}, {s['vocab_size']}, {s['seq_len']}]; the spec returns "
            f"[{s['batch']}, {s['seq_len']}, {s['vocab_size']}]") in out.message
    assert "dtype int; the spec returns float" in next(d for d in r.diagnostics if d.code == "SC804").message


def test_submodule_call_shapes_and_counts_against_block_calls():
    mapping = {"causal_self_attention": "transformer.h.*.attn.c_attn", "mlp": "transformer.h.0.mlp"}
    r = conform(spec("gpt2"), F.gpt2, mapping=mapping, binds={"n_layers": 2}, samples=2)
    assert codes_lines(r) == [("SC802", 35), ("SC803", 35), ("SC803", 36)]
    s = r.samples[0].values
    b, l, d = s["batch"], s["seq_len"], s["d_model"]
    wrong = next(d_ for d_ in r.diagnostics if d_.code == "SC803" and d_.span.line == 35)
    assert wrong.message.startswith(f"transformer.h.0.attn.c_attn returned [{b}, {l}, {3 * d}]; line 35 says "
                                    f"`causal_self_attention` returns [b, l, d] (b=batch, l=seq_len, d=d_model) "
                                    f"= [{b}, {l}, {d}] at batch={b}")
    count = next(d_ for d_ in r.diagnostics if d_.span.line == 36)
    assert "calls transformer.h.0.mlp 1 time(s); the spec calls `mlp` 2 time(s)" in count.message


def test_forward_failure_and_factory_failure_are_findings():
    def broken(**v):
        m = F.fixed_gpt(**factory_kwargs(F.fixed_gpt, v))
        m.forward = lambda ids: ids @ ids   # int matmul of [b, l] by [b, l]: fails
        return m
    r = conform(spec("gpt2"), broken, samples=1)
    assert codes_lines(r) == [("SC805", 29)] and "forward raised RuntimeError" in r.diagnostics[0].message

    def refuses(d_model, **v):
        raise ValueError(f"d_model={d_model} is not supported")
    r = conform(spec("gpt2"), refuses, samples=1)
    assert codes_lines(r) == [("SC805", 29)] and "the factory raised ValueError" in r.diagnostics[0].message


def test_mapping_errors_are_located(tmp_path):
    text = open(spec("gpt2"), encoding="utf-8").read()
    text = ("# conform: causal_self_attention = transformer.h.*.attn\n"
            "# conform: nothing_here = transformer.wte.weight\n"
            "# conform(other_model): whatever = x\n"
            "# conform: this is not a mapping\n" + text)
    p = tmp_path / "gpt2.shape"
    p.write_text(text)
    r = conform(str(p), F.gpt2, samples=1)
    assert codes_lines(r) == [("SC806", 2), ("SC806", 4)]
    assert "`nothing_here` names neither a block nor a weight" in r.diagnostics[0].message


def test_usage_errors():
    with pytest.raises(UsageError, match="MODULE:FUNC"):
        conform(spec("gpt2"), "no_colon_here")
    with pytest.raises(UsageError, match="no model `nope`"):
        conform(spec("gpt2"), F.gpt2, model="nope")
    with pytest.raises(UsageError, match="needs `bert`"):
        conform(spec("gpt2"), F.Bert)
    with pytest.raises(UsageError, match="no dimension `width`"):
        conform(spec("gpt2"), F.gpt2, binds={"width": 3})
    with pytest.raises(UsageError, match="not a torch.nn.Module"):
        conform(spec("gpt2"), lambda **v: 42, samples=1)


# ---- the command line ---------------------------------------------------------------------------------


def cli(args, cwd, monkeypatch, capsys):
    """Run the command line in this process (the user's directory as the current one)."""
    from shapecheck.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(cwd))
    rc = main(["conform"] + args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_with_pyproject_mapping_and_formats(tmp_path, monkeypatch, capsys):
    (tmp_path / "cli_models.py").write_text("from conform_factories import buggy_gpt, fixed_gpt\n")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.shapecheck.conform.gpt2]\n"
        + "".join(f'"{k}" = "{v}"\n' for k, v in F.BUGGY_MAPPING.items()))
    rc, out, err = cli([spec("gpt2"), "--factory", "cli_models:fixed_gpt", "--samples", "2"], tmp_path,
                       monkeypatch, capsys)
    assert rc == 0, out + err
    assert "model `gpt2` conforms at 2 size assignments" in out
    rc, out, err = cli([spec("gpt2"), "--factory", "cli_models:buggy_gpt", "--samples", "2", "--format", "json"],
                       tmp_path, monkeypatch, capsys)
    assert rc == 1, err
    found = json.loads(out)
    assert sorted({(f["code"], f["line"]) for f in found}) == [
        ("SC802", 16), ("SC802", 22), ("SC802", 29), ("SC802", 35)]
    rc, out, err = cli([spec("gpt2"), "--factory", "cli_models:buggy_gpt", "--samples", "1", "--format", "sarif"],
                       tmp_path, monkeypatch, capsys)
    assert rc == 1
    assert {r["ruleId"] for r in json.loads(out)["runs"][0]["results"]} == {"SC802"}
    # a malformed table is a usage error
    (tmp_path / "pyproject.toml").write_text('[tool.shapecheck.conform.gpt2]\nmlp = 3\n')
    rc, out, err = cli([spec("gpt2"), "--factory", "cli_models:fixed_gpt"], tmp_path, monkeypatch, capsys)
    assert rc == 2 and "`mlp` must map a spec name to a pattern" in err


@pytest.mark.parametrize("factory, message", [
    ("nosuchmodule:f", "cannot import `nosuchmodule`"),
    ("usage_models_a:nope", "has no attribute `nope`"),
    ("usage_models_a", "use MODULE:FUNC"),
    ("usage_models_b:f", "importing `usage_models_b` failed: RuntimeError: boom"),
])
def test_cli_usage_errors_exit_2_without_traceback(tmp_path, monkeypatch, capsys, factory, message):
    (tmp_path / "usage_models_a.py").write_text("def f(**kw):\n    return None\n")
    (tmp_path / "usage_models_b.py").write_text("raise RuntimeError('boom')\n")
    rc, out, err = cli([spec("gpt2"), "--factory", factory], tmp_path, monkeypatch, capsys)
    assert rc == 2
    assert message in err and "Traceback" not in out + err


# ---- the hypothesis strategy and the pytest helper -------------------------------------------------------


def test_bindings_strategy_drives_a_property_test_of_a_module():
    from hypothesis import given, settings

    from shapecheck.strategies import bindings

    seen = set()

    @settings(max_examples=8, deadline=None, database=None)
    @given(bindings(spec("gpt2"), binds={"n_layers": 1}))
    def prop(sizes):
        seen.add(tuple(sorted(sizes.items())))
        m = F.fixed_gpt(**factory_kwargs(F.fixed_gpt, sizes))
        ids = torch.randint(0, sizes["vocab_size"], (sizes["batch"], sizes["seq_len"]))
        assert m(ids).shape == (sizes["batch"], sizes["seq_len"], sizes["vocab_size"])
        assert sizes["d_model"] % sizes["num_heads"] == 0 and sizes["seq_len"] <= sizes["n_positions"]
    prop()
    assert len(seen) >= 3


def test_assert_conforms_reports_the_findings():
    with pytest.raises(AssertionError) as e:
        assert_conforms(spec("gpt2"), F.buggy_gpt, mapping=F.BUGGY_MAPPING, samples=1)
    assert "gpt2.shape:16:5: SC802" in str(e.value)


# ---- the README's example runs as written ---------------------------------------------------------------


def readme_section_blocks():
    import re
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = text[text.index("## Checking real code: `shapecheck conform`"):]
    section = section[:section.index("\n## ", 3)]
    return re.findall(r"^```(\w*)\n(.*?)^```", section, re.S | re.M)


def test_readme_example_runs_as_written(tmp_path, monkeypatch, capsys):
    import shutil

    files = {}
    commands = []
    for info, body in readme_section_blocks():
        first = body.split("\n", 1)[0]
        if info in ("python", "toml") and first.startswith("# ") and first[2:].strip().endswith((".py", ".toml")):
            files[first[2:].strip()] = body
        elif info == "sh":
            commands.append(body.strip())
    assert set(files) == {"models.py", "pyproject.toml", "test_models.py"}
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    (tmp_path / "specs").mkdir()
    shutil.copy(spec("gpt2"), tmp_path / "specs" / "gpt2.shape")
    assert commands == ["shapecheck conform specs/gpt2.shape --factory models:gpt2 --samples 3"]
    for mod in ("models", "test_models"):
        monkeypatch.delitem(sys.modules, mod, raising=False)
    rc, out, err = cli(commands[0].split()[2:], tmp_path, monkeypatch, capsys)
    assert rc == 0, out + err
    assert out.rstrip().endswith("specs/gpt2.shape: model `gpt2` conforms at 3 size assignments")
    import importlib
    tm = importlib.import_module("test_models")
    tm.test_gpt2_conforms()
    tm.test_gpt2_logits_shape()
    for mod in ("models", "test_models"):
        sys.modules.pop(mod, None)
