"""The numeric backend: kernels, the NumPy interpreter, size choice, and the
differential check of the symbolic analysis against real arrays."""
from __future__ import annotations

import argparse
import dataclasses
import functools
import glob
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LANGUAGE_MD
from shapecheck import execute as X
from shapecheck import sizes as S
from shapecheck import verify as V
from shapecheck.cli import verify as CV
from shapecheck.api import check_path
from shapecheck.ops import OPS, Out
from shapecheck.ops.shape_np import rearrange_np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "*.shape")))
FAST = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def K(dtype=np.float64, seed=0):
    return X.KernelContext(seed=seed, dtype=dtype, keep=True)


def kernel(name):
    return OPS[name].kernel


# ---- (a) kernels against hand computations ---------------------------------------------------


def test_softmax_matches_hand_computation():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    y = kernel("softmax")(K(), x, -1)
    den = math.exp(1) + math.exp(2) + math.exp(3)
    assert np.allclose(y[0], [math.exp(1) / den, math.exp(2) / den, math.exp(3) / den])
    assert np.allclose(y[1], [1 / 3] * 3)
    y0 = kernel("softmax")(K(), x, 0)
    assert np.allclose(y0[:, 0], [math.exp(1) / (math.exp(1) + 1), 1 / (math.exp(1) + 1)])
    ls = kernel("log_softmax")(K(), x, -1)
    assert np.allclose(ls, np.log(y))


# convolution and pooling kernels against direct loops: tests/test_conv_pool.py


def test_rearrange_matches_explicit_reshape_and_transpose():
    x = np.arange(2 * 3 * 12).reshape(2, 3, 12)
    y = rearrange_np(np, x, "b l (h k) -> b h l k", {"h": 4})
    assert np.array_equal(y, x.reshape(2, 3, 4, 3).transpose(0, 2, 1, 3))
    back = rearrange_np(np, y, "b h l k -> b l (h k)", {})
    assert np.array_equal(back, x)
    assert np.array_equal(rearrange_np(np, x, "b ... -> ... b", {}), x.transpose(1, 2, 0))
    assert np.array_equal(rearrange_np(np, x, "b l d -> (b l) d", {}), x.reshape(6, 12))
    z = rearrange_np(np, x, "b l (h k) -> (b h) l k 1", {"k": 3})
    assert np.array_equal(z, x.reshape(2, 3, 4, 3).transpose(0, 2, 1, 3).reshape(8, 3, 3, 1))
    assert np.array_equal(rearrange_np(np, z, "(b h) l k 1 -> b l (h k)", {"b": 2}), x)
    assert np.array_equal(rearrange_np(np, x[:, :1], "b 1 d -> b d", {}), x[:, 0])
    assert rearrange_np(np, x, "b l (h k) -> b l h k () ", {"h": 2}).shape == (2, 3, 2, 6, 1)


@pytest.mark.parametrize("pattern,axes,message", [
    ("b l (h k) -> b h l k", {"h": 5}, "cannot split axis 2 of size 12"),
    ("b l d -> b d", {}, "one side only"),
    ("b l -> l b", {}, "the pattern has 2 axes"),
    ("b l (h k) -> b h l k", {}, "cannot infer both"),
    ("b l d -> d l b", {"q": 2}, "keyword 'q'"),
    ("b 1 d -> b d", {}, "the pattern says 1"),
])
def test_rearrange_errors(pattern, axes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        rearrange_np(np, np.zeros((2, 3, 12)), pattern, axes)


def test_einsum_matches_explicit_products():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5))
    y = kernel("einsum")(K(), "bhqd,bhkd->bhqk", [a, b])
    assert np.allclose(y, a @ b.transpose(0, 1, 3, 2))
    v = rng.standard_normal(4)
    assert np.isclose(kernel("einsum")(K(), "i,i", [v, v]), float(v @ v))
    m = rng.standard_normal((3, 4))
    assert np.allclose(kernel("einsum")(K(), "ij->ji", [m]), m.T)


def test_causal_mask_and_masked_fill():
    m = kernel("causal_mask")(K(), 3, None)
    assert m.dtype == bool
    assert m.tolist() == [[False, True, True], [False, False, True], [False, False, False]]
    assert kernel("causal_mask")(K(), 2, 3).shape == (2, 3)
    x = np.arange(9.0).reshape(3, 3)
    # as in PyTorch, the value goes where the mask is True: the causal mask marks the future
    y = kernel("masked_fill")(K(), x, m, -1e9)
    assert y.tolist() == [[0.0, -1e9, -1e9], [3.0, 4.0, -1e9], [6.0, 7.0, 8.0]]
    assert kernel("masked_fill")(K(), x, None, -1e9) is x
    xb = np.zeros((2, 3, 3))
    assert kernel("masked_fill")(K(), xb, m, 1.0)[1].tolist() == m.astype(float).tolist()
    # causal attention: row i of the softmax weights puts no mass past position i
    w = kernel("softmax")(K(), kernel("masked_fill")(K(), np.ones((3, 3)), m, -1e9), -1)
    assert np.allclose(w, [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_index_and_slicing_kernel():
    x = np.arange(24).reshape(2, 3, 4)
    idx = kernel("index")
    assert np.array_equal(idx(K(), x, [1, (None, 2, None)]), x[1, :2])
    assert np.array_equal(idx(K(), x, [(None, None, None), -1, (1, None, 2)]), x[:, -1, 1::2])
    assert np.array_equal(idx(K(), x, [-1]), x[-1])


def test_linear_layer_norm_embedding_split_concat_stack():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4))
    k = K()
    y = kernel("linear")(k, x, 5, True)
    w, b = k.weights
    assert np.allclose(y, np.einsum("bli,io->blo", x, w) + b) and k.params == 4 * 5 + 5
    k = K()
    ln = kernel("layer_norm")(k, x, True, 1e-5)
    g, beta = k.weights
    norm = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    assert np.allclose(ln, norm * g + beta)
    table = rng.standard_normal((7, 4))
    ids = np.array([[0, 6], [3, 3]])
    assert np.array_equal(kernel("embedding")(K(), ids, table, None), table[ids])
    k = K()
    e = kernel("embedding")(k, ids, 7, 4)
    assert e.shape == (2, 2, 4) and k.params == 28 and np.array_equal(e, k.weights[0][ids])
    parts = kernel("split")(K(), np.arange(12).reshape(2, 6), 3, -1)
    assert [p.tolist() for p in parts] == [[[0, 1], [6, 7]], [[2, 3], [8, 9]], [[4, 5], [10, 11]]]
    assert kernel("concat")(K(), [x, x], 1).shape == (2, 6, 4)
    assert kernel("stack")(K(), [x, x, x], -1).shape == (2, 3, 4, 3)
    s = kernel("sinusoidal")(K(), 3, 4)
    assert np.allclose(s[1], [math.sin(1), math.cos(1), math.sin(1 / 100), math.cos(1 / 100)])


def test_dimension_arithmetic_is_exact():
    assert X.dim_arith("/", 12, 4) == 3
    assert X.dim_arith("//", -7, 2) == -4 and X.dim_arith("%", -7, 3) == 2
    assert X.dim_arith("**", 3, 4) == 81
    with pytest.raises(X.ExecError, match="not an integer"):
        X.dim_arith("/", 7, 2)
    with pytest.raises(X.ExecError, match="division by zero"):
        X.dim_arith("%", 7, 0)


# ---- the interpreter -----------------------------------------------------------------------------------


def _prog(text, name="t.shape"):
    return X.program_from_source(text, name)


def test_inexact_division_is_a_located_error():
    prog = _prog("dim d, h\nlet k = d / h\nmodel m {\n    input x: [d]\n    y = reshape(x, [h, k])\n"
                 "    return y\n}\n")
    assert X.run(prog, "m", {"d": 6, "h": 3}).records[-1].shape == (3, 2)
    with pytest.raises(X.ExecError) as e:
        X.run(prog, "m", {"d": 7, "h": 2})
    assert e.value.span.line == 2 and "not an integer" in e.value.message


def test_requires_checked_and_blocks_bind_generics():
    prog = _prog('''
dim batch, d, h
require d % h == 0
block halve(x: [b, 2 * n], heads: dim, mask: [b, b] bool = none) -> [b, n] {
    require n % heads == 0
    y = x[:, :n] + x[:, n:]
    z = masked_fill(y, none, 0.0)
    return z
}
model m {
    input x: [batch, 2 * d]
    a = halve(x, h)
    b = halve(x, heads=1, mask=causal_mask(batch))
    return a
}
''')
    ex = X.run(prog, "m", {"batch": 2, "d": 6, "h": 3})
    got = [(r.path, r.name, r.shape) for r in ex.records]
    assert got == [(("m",), "x", (2, 12)), (("m", "halve@12"), "y", (2, 6)), (("m", "halve@12"), "z", (2, 6)),
                   (("m",), "a", (2, 6)), (("m", "halve@13"), "y", (2, 6)), (("m", "halve@13"), "z", (2, 6)),
                   (("m",), "b", (2, 6))]
    with pytest.raises(X.ExecError, match="require"):
        X.run(prog, "m", {"batch": 2, "d": 6, "h": 4})


def test_repeat_loops_and_weights_are_counted_per_pass():
    prog = _prog('''
dim batch, d, n
model m {
    input ids: [batch] int
    x = embedding(ids, d, d)
    repeat n {
        x = linear(x, d) + x
    }
    return x
}
''')
    ex = X.run(prog, "m", {"batch": 5, "d": 3, "n": 4}, seed=1)
    assert [r.name for r in ex.records] == ["ids", "x"] + ["x"] * 4
    assert ex.params == 9 + 4 * (9 + 3)
    assert ex.outputs == ((5, 3),)


def test_int_inputs_are_valid_indices_and_runs_are_seeded():
    prog = _prog("dim batch, seq, vocab\nmodel m {\n    input ids: [batch, seq] int\n"
                 "    e = embedding(ids, vocab, 4)\n    return e\n}\n")
    a = X.run(prog, "m", {"batch": 30, "seq": 20, "vocab": 3}, seed=7)
    b = X.run(prog, "m", {"batch": 30, "seq": 20, "vocab": 3}, seed=7)
    assert a.records == b.records and a.params == 12


def test_index_out_of_range_is_flagged():
    prog = _prog("dim n\nmodel m {\n    input x: [n, 3]\n    y = x[:, -5:]\n    return y\n}\n")
    with pytest.raises(X.ExecError, match="out of range") as e:
        X.run(prog, "m", {"n": 2})
    assert e.value.span.line == 4


def _symbolic_modules() -> list:
    """The modules of the package that import sympy at import time (read from their source)."""
    import ast
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "shapecheck", "**", "*.py"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        if any(n.split(".")[0] == "sympy" for st in tree.body for n in _imported(st)):
            rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
            out.append(rel[:-len(".__init__")] if rel.endswith(".__init__") else rel)
    return out


def _imported(node) -> list:
    """The absolute module names an import statement names (relative ones resolved against the package)."""
    import ast
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""] if not node.level else []
    return []


def test_the_symbolic_modules_are_the_expected_ones():
    # the list the import-graph test below relies on, read from the sources: it must name the prover
    # and the symbolic interpreter (else that test would check nothing) and nothing of the numeric side
    found = _symbolic_modules()
    assert {"shapecheck.dims", "shapecheck.infer", "shapecheck.report"} <= set(found), found
    assert not [m for m in found if m.startswith("shapecheck.ops") or m in ("shapecheck.execute",
                                                                               "shapecheck.program")], found


def test_the_numeric_interpreter_imports_neither_sympy_nor_the_symbolic_modules():
    # a fresh interpreter loads the numeric side, runs two shipped specs (a transformer, and a
    # convolutional network: conv, pooling, batch norm) and must not have loaded sympy or any module
    # that imports it, nor the modules that choose sizes, verify or report
    symbolic = _symbolic_modules() + ["shapecheck.sizes", "shapecheck.verify", "shapecheck.report"]
    code = ("import sys, shapecheck.execute as x\n"
            "p = x.load_program(sys.argv[1])\n"
            "e = x.run(p, 'gpt2', dict(batch=1, seq_len=2, vocab_size=3, n_positions=2, d_model=2, "
            "num_heads=1, n_layers=1))\n"
            "assert e.records and e.params > 0\n"
            "p = x.load_program(sys.argv[2])\n"
            "e = x.run(p, 'mobilenet_v2', dict(batch=1, channels=3, img=32, num_classes=3))\n"
            "assert e.records and e.params > 0 and e.buffers > 0\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'sympy' or m in sys.argv[3].split(','))\n"
            "assert not bad, f'the numeric side imported {bad[:8]}'\n"
            "print('ok')")
    r = subprocess.run([sys.executable, "-c", code, os.path.join(ROOT, "specs", "gpt2.shape"),
                        os.path.join(ROOT, "specs", "mobilenet_v2.shape"), ",".join(symbolic)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_no_operation_module_imports_sympy_or_a_symbolic_module():
    # not even inside a function: a rule gets its dimension algebra from its context (ops/core.py)
    import ast
    symbolic = set(_symbolic_modules())
    bad = []
    for path in sorted(glob.glob(os.path.join(ROOT, "shapecheck", "ops", "*.py"))):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level != 1:    # level 1: ops/ itself
                base = node.module or "" if not node.level else \
                    ".".join(["shapecheck"] + ([node.module] if node.module else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]   # `from .. import infer`
            else:
                continue
            bad += [f"{os.path.basename(path)}:{node.lineno} imports {n}" for n in names
                    if n.split(".")[0] == "sympy" or n in symbolic]
    assert not bad, bad


# ---- choosing sizes ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _checked(path):
    res = check_path(path)
    return res, X.load_program(path)


def _language_spec(tmp_dir, model):
    with open(LANGUAGE_MD, encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"```\n(.*?)```", text, re.S)
    body = next(b for b in blocks if f"model {model} " in b)
    path = os.path.join(tmp_dir, f"{model}_language_md.shape")
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)
    return path


@pytest.fixture(scope="module")
def language_specs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("language"))
    return {m: _language_spec(d, m) for m in ("transformer", "gpt2")}


def _holds_all(model, values):
    env = {model.dims[k]: v for k, v in values.items()}
    return all(r.holds(env) for r in model.relations)


def test_choose_bindings_bind_then_examples_then_auto(language_specs):
    m = _checked(language_specs["gpt2"])[0].models["gpt2"]
    b = S.choose_bindings(m, {"batch": 2, "seq_len": 7}, seed=0)
    assert b.values == {"batch": 2, "seq_len": 7, "vocab_size": 50257, "n_positions": 1024,
                        "d_model": 768, "num_heads": 12, "n_layers": 12}
    assert b.sources["batch"] == "bind" and b.sources["d_model"] == "example"
    for seed in range(5):
        s = S.choose_bindings(m, {}, seed=seed, use_examples=False)
        assert _holds_all(m, s.values)
        assert 1 <= s.values["n_layers"] <= 2 and max(s.values.values()) <= 9
        assert set(s.sources.values()) == {"auto"}


def test_choose_bindings_errors_and_memory_scaling(language_specs):
    m = _checked(language_specs["gpt2"])[0].models["gpt2"]
    with pytest.raises(S.BindingError, match="no dimension `heads`"):
        S.choose_bindings(m, {"heads": 2}, seed=0)
    with pytest.raises(S.BindingError, match="d_model % num_heads"):
        S.choose_bindings(m, {"d_model": 10, "num_heads": 3}, seed=0)
    b = S.choose_bindings(m, {"batch": 2, "seq_len": 7}, seed=0, max_memory=64 * 2 ** 20)
    assert b.estimate <= 64 * 2 ** 20 and _holds_all(m, b.values)
    assert b.values["batch"] == 2 and b.values["seq_len"] == 7
    assert "scaled" in b.sources.values() and any("scaled down" in n for n in b.notes)
    with pytest.raises(S.BindingError, match="budget"):
        S.choose_bindings(m, {"batch": 2, "seq_len": 7, "vocab_size": 50257, "d_model": 768,
                              "n_positions": 1024, "num_heads": 12, "n_layers": 12}, max_memory=2 ** 20)


# ---- (b) differential: symbolic shapes == NumPy shapes ------------------------------------------------------


def _assert_agree(path, name, values, seed=0):
    res, prog = _checked(path)
    assert res.ok, res.diagnostics
    model = res.models[name]
    ex = X.run(prog, name, values, seed=seed)
    diags = V.compare(model, ex)
    assert not diags, "\n".join(f"{d.span}: {d.message}" for d in diags)
    assert ex.records, "nothing was recorded"
    return ex


@st.composite
def gpt2_sizes(draw):
    heads, head_dim, seq = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    return dict(batch=draw(st.integers(1, 3)), seq_len=seq, vocab_size=draw(st.integers(1, 7)),
                n_positions=seq + draw(st.integers(0, 3)), d_model=heads * head_dim, num_heads=heads,
                n_layers=draw(st.integers(1, 2)))


@st.composite
def transformer_sizes(draw):
    heads, head_dim = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return dict(batch=draw(st.integers(1, 3)), src_len=draw(st.integers(1, 4)), tgt_len=draw(st.integers(1, 4)),
                vocab_size=draw(st.integers(1, 6)), d_model=heads * head_dim, num_heads=heads,
                d_ff=draw(st.integers(1, 5)), n_layers=draw(st.integers(1, 2)))


@FAST
@given(sizes=gpt2_sizes(), seed=st.integers(0, 3))
def test_gpt2_symbolic_equals_numpy(language_specs, sizes, seed):
    ex = _assert_agree(language_specs["gpt2"], "gpt2", sizes, seed)
    assert sum(r.name == "scores" for r in ex.records) == sizes["n_layers"]


@FAST
@given(sizes=transformer_sizes(), seed=st.integers(0, 3))
def test_transformer_symbolic_equals_numpy(language_specs, sizes, seed):
    ex = _assert_agree(language_specs["transformer"], "transformer", sizes, seed)
    assert sum(r.name == "scores" for r in ex.records) == 3 * sizes["n_layers"]


@pytest.mark.parametrize("path", SPECS, ids=[os.path.basename(p) for p in SPECS])
@FAST
@given(seed=st.integers(0, 10_000))
def test_every_spec_symbolic_equals_numpy(path, seed):
    res, prog = _checked(path)
    if not res.ok:
        pytest.skip(f"{os.path.basename(path)} has symbolic errors")
    for name, model in res.models.items():
        try:
            b = S.choose_bindings(model, {}, seed=seed, use_examples=False, max_memory=2 ** 28)
        except S.BindingError as e:
            pytest.skip(f"no small sizes for {name}: {e}")
        _assert_agree(path, name, b.values, seed)


def test_verify_end_to_end_small(language_specs):
    path = language_specs["gpt2"]
    r = V.verify(path, binds=dict(batch=2, seq_len=3, vocab_size=5, n_positions=4, d_model=4, num_heads=2,
                                  n_layers=2), samples=2, seed=1)
    assert r.ok and r.exit_code == 0 and not r.diagnostics
    assert len(r.runs) == 1      # every dimension bound: the samples repeat the same sizes
    run = r.runs[0]
    assert run.params_numeric == run.params_symbolic == 5 * 4 + 4 * 4 + 2 * (12 * 16 + 13 * 4) + 2 * 4


# ---- (c) a wrong shape rule is caught ---------------------------------------------------------------------------


SMALL_SPEC = '''dim batch, d = 4
model m {
    input x: [batch, d]
    y = linear(x, d)
    z = relu(y)
    return z
}
'''


def _patch_linear(monkeypatch, shape_delta=1, param_delta=0):
    orig = OPS["linear"]

    def wrong(r, x, out, bias):
        o = orig.rule(r, x, out, bias)
        return Out(o.shape[:-1] + (o.shape[-1] + shape_delta,), o.dtype, o.params + param_delta, o.flops)

    monkeypatch.setitem(OPS, "linear", dataclasses.replace(orig, rule=wrong))


def test_wrong_shape_rule_is_caught(tmp_path, monkeypatch):
    path = str(tmp_path / "small.shape")
    with open(path, "w") as f:
        f.write(SMALL_SPEC)
    assert V.verify(path, samples=1).ok
    _patch_linear(monkeypatch)
    r = V.verify(path, samples=1)
    assert not r.ok and r.exit_code == 1
    lines = sorted({(d.code, d.span.line) for d in r.diagnostics})
    # the two tensors, and the FLOPs (relu counts one per element of the wrong shape) at the model
    assert lines == [("SC601", 2), ("SC601", 4), ("SC601", 5)]
    assert "FLOPs" in next(d.message for d in r.diagnostics if d.span.line == 2)
    msg = next(d.message for d in r.diagnostics if d.span.line == 4)
    assert "`y` is [" in msg and "inferred [batch, d + 1]" in msg


def test_wrong_parameter_count_is_caught(tmp_path, monkeypatch):
    path = str(tmp_path / "small.shape")
    with open(path, "w") as f:
        f.write(SMALL_SPEC)
    _patch_linear(monkeypatch, shape_delta=0, param_delta=1)
    r = V.verify(path, samples=0)
    assert [d.code for d in r.diagnostics] == ["SC601"]
    assert "parameters" in r.diagnostics[0].message and r.diagnostics[0].span.line == 2


def test_wrong_flop_count_is_caught(tmp_path, monkeypatch):
    # verify compares FLOPs as it compares parameters: the numeric count (beside each kernel)
    # against the inferred formula
    path = str(tmp_path / "small.shape")
    with open(path, "w") as f:
        f.write(SMALL_SPEC)
    orig = OPS["linear"]

    def wrong(r, x, out, bias):
        o = orig.rule(r, x, out, bias)
        return Out(o.shape, o.dtype, o.params, o.flops + 1)

    monkeypatch.setitem(OPS, "linear", dataclasses.replace(orig, rule=wrong))
    r = V.verify(path, samples=0)
    assert [d.code for d in r.diagnostics] == ["SC601"]
    assert "FLOPs" in r.diagnostics[0].message and r.diagnostics[0].span.line == 2


def test_wrong_rule_inside_blocks_and_loops_is_caught(language_specs, monkeypatch):
    """``softmax`` made to claim a batch of 1 (which still broadcasts, so the
    analysis is silent): caught inside `causal_self_attention`, at every pass of
    `repeat`."""
    from sympy import Integer

    orig = OPS["softmax"]

    def wrong(r, x, axis):
        o = orig.rule(r, x, axis)
        return Out((Integer(1),) + o.shape[1:], o.dtype, o.params, o.flops)

    monkeypatch.setitem(OPS, "softmax", dataclasses.replace(orig, rule=wrong))
    path = language_specs["gpt2"]
    res = check_path(path)
    model = res.models["gpt2"]
    assert res.ok
    ex = X.run(X.load_program(path), "gpt2", dict(batch=2, seq_len=2, vocab_size=3, n_positions=3, d_model=2,
                                                   num_heads=1, n_layers=2))
    diags = V.compare(model, ex)
    with open(path) as f:
        line = next(i for i, text in enumerate(f, 1) if "weights = softmax" in text)
    assert [(d.code, d.span.line) for d in diags] == [("SC601", line)]
    assert "`weights` is [2, 1, 2, 2] (2 times)" in diags[0].message
    assert "inferred [1, num_heads, seq_len, seq_len] = [1, 1, 2, 2] (2 times)" in diags[0].message
    assert "causal_self_attention@" in diags[0].notes[0].message


# ---- the command line ----------------------------------------------------------------------------------------------


def _cli(argv):
    p = argparse.ArgumentParser(prog="shapecheck")
    CV.add_parser(p.add_subparsers(dest="command"))
    args = p.parse_args(argv)
    return CV.run(args)


def test_cli_exit_codes(tmp_path, monkeypatch, capsys, language_specs):
    path = str(tmp_path / "small.shape")
    with open(path, "w") as f:
        f.write(SMALL_SPEC)
    assert _cli(["verify", path, "--samples", "1", "--bind", "batch=3"]) == 0
    out = capsys.readouterr().out
    assert "batch=3, d=4" in out and "agree" in out
    assert _cli(["verify", path, "--bind", "batch=x"]) == 2
    assert _cli(["verify", path, "--bind", "nope=3"]) == 2
    assert _cli(["verify", path, "--model", "other"]) == 2
    assert _cli(["verify", str(tmp_path / "missing.shape")]) == 2
    assert _cli(["verify", path, "--max-memory", "lots"]) == 2
    gpt2 = language_specs["gpt2"]
    assert _cli(["verify", gpt2, "--bind", "batch=2,seq_len=3,vocab_size=5,n_positions=4,d_model=4",
                 "--bind", "num_heads=2,n_layers=1", "--samples", "1", "--seed", "3",
                 "--max-memory", "256MiB"]) == 0
    capsys.readouterr()
    _patch_linear(monkeypatch)
    assert _cli(["verify", path, "--samples", "0"]) == 1
    assert "SC601" in capsys.readouterr().out


def test_parse_helpers():
    assert CV.parse_size("1.5KiB") == 1536 and CV.parse_size("3g") == 3 * 2 ** 30
    assert CV.parse_binds(["a=1", "b=2, c=3_0"]) == {"a": 1, "b": 2, "c": 30}
    for bad in (["a"], ["a=0"], ["1a=3"], ["a=-1"]):
        with pytest.raises(ValueError):
            CV.parse_binds(bad)
