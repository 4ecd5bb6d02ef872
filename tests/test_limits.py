"""Bounded time and memory on hostile input.

Each input gives a located error (mostly SC005, see docs/language.md "Limits")
or is handled symbolically, quickly, and never a RecursionError or traceback.
The wall-clock bounds are hang guards only (generous), not timing tests.
"""
from __future__ import annotations

import time

import pytest

from shapecheck import execute as X
from shapecheck.api import check_source
from shapecheck.cli import main
from shapecheck.diagnostics import format_text
from shapecheck.lower import MAX_LITERAL_DIGITS, MAX_NESTING
from shapecheck.verify import UsageError, verify

HANG_GUARD = 60.0   # seconds: only catches hangs (generous: CI machines are shared and noisy)


def lint(text, path="limits.shape", guard=HANG_GUARD):
    t0 = time.perf_counter()
    res = check_source(text, path)
    elapsed = time.perf_counter() - t0
    assert elapsed < guard, f"took {elapsed:.1f} s"
    assert "SC003" not in res.codes(), [d.message for d in res.diagnostics]
    format_text(res.diagnostics, res.sources)
    lines = text.count("\n") + 1
    for d in res.diagnostics:
        assert 1 <= d.span.line <= lines + 1 and d.span.col >= 1
    return res


def located(res, code, line=None):
    hits = [d for d in res.diagnostics if d.code == code]
    assert hits, [(d.code, d.message) for d in res.diagnostics]
    if line is not None:
        assert any(d.span.line == line for d in hits), [(d.span, d.message) for d in hits]
    return hits[0]


def run_verify(tmp_path, text, guard=HANG_GUARD, **kw):
    path = tmp_path / "limits.shape"
    path.write_text(text, encoding="utf-8")
    kw.setdefault("samples", 1)
    t0 = time.perf_counter()
    rep = verify(str(path), **kw)
    assert time.perf_counter() - t0 < guard
    return rep


N = 30_000   # "tens of thousands"


# ---- deep nesting -------------------------------------------------------------------------------

def test_deep_parentheses_are_handled():
    # plain parentheses do not nest the IR: accepted, the value is just `n`
    res = lint("dim n = 2\nlet a = " + "(" * N + "n" + ")" * N + "\n"
               "model m {\n    input x: [" + "(" * N + "n" + ")" * N + "]\n    return x\n}\n")
    assert res.ok, res.diagnostics
    assert res.models["m"].shapes()["x"] == "[n]"


def test_deep_parentheses_verify(tmp_path):
    rep = run_verify(tmp_path, "dim n = 2\nmodel m {\n    input x: [" + "(" * N + "n" + ")" * N + "]\n"
                               "    return x\n}\n")
    assert rep.ok and all(r.failed is None for r in rep.runs)


@pytest.mark.parametrize("kind", ["calls", "lists", "neg", "index", "pow", "add", "mixed_parens"])
def test_deep_nesting_is_located_sc005(kind):
    head = "dim n = 2\nmodel m {\n    input x: [n]\n    y = "
    body = {
        "calls": "relu(" * N + "x" + ")" * N,
        "lists": "sum(x, axis=" + "[" * N + "0" + "]" * N + ")",
        "neg": "-" * N + "x",
        "index": "x" + "[0]" * N,
        "pow": "2 ** " * N + "2",
        "add": "x + " * N + "x",
        "mixed_parens": "(-" * N + "x" + ")" * N,
    }[kind]
    res = lint(head + body + "\n    return x\n}\n")
    d = located(res, "SC005", line=4)
    assert str(MAX_NESTING) in d.message
    assert not any(d.code == "SC005" and d.span.line == 1 and d.span.col == 1 for d in res.diagnostics)


def test_deep_repeat_nesting_is_located_sc005():
    text = "dim n = 2\nmodel m {\n    input x: [n]\n" + "repeat 2 { " * 10_000 + "x = relu(x)" + " }" * 10_000 \
        + "\n    return x\n}\n"
    d = located(lint(text), "SC005", line=4)
    assert "repeat" in d.message


def test_nesting_just_under_the_limit_is_fine():
    res = lint("dim n = 2\nmodel m {\n    input x: [n]\n    y = " + "relu(" * (MAX_NESTING - 5) + "x"
               + ")" * (MAX_NESTING - 5) + "\n    return y\n}\n")
    assert res.ok, res.diagnostics


def test_deep_braces_and_brackets_are_syntax_errors():
    for text in ("{" * N, "dim n\nmodel m {" + "{" * N, "[" * N, "dim n = " + "(" * N):
        res = lint(text)
        assert res.codes() == ["SC001"]


# ---- enormous numbers ------------------------------------------------------------------------------

def test_enormous_integer_literal():
    d = located(lint("dim n\nlet a = " + "9" * 100_000 + "\n"), "SC005", line=2)
    assert str(MAX_LITERAL_DIGITS) in d.message
    d = located(lint("dim n = " + "1" * 5_000 + "\n"), "SC005", line=1)


def test_power_towers_are_refused():
    for expr in ("10 ** 10 ** 10", "2 ** 129", "10 ** 10 ** 10 ** 10", "(2 ** 64) ** (2 ** 64)"):
        res = lint(f"dim n\nlet a = {expr}\n")
        located(res, "SC005", line=2)
    res = lint("dim n\nlet a = n ** 10 ** 10\n")
    assert res.errors and res.errors[0].span.line == 2
    assert lint("dim n\nlet a = 2 ** 128\n").ok


def test_enormous_floats_are_refused():
    for lit in ("1e999", "1e99999999999999999999", "9" * 400 + ".0"):
        res = lint(f"dim n = 2\nmodel m {{\n    input x: [n]\n    y = x * {lit}\n    return y\n}}\n")
        assert res.errors, lit
        assert res.errors[0].span.line == 4


def test_power_in_a_numeric_run_is_bounded(tmp_path):
    with pytest.raises(X.ExecError, match="exponent"):
        X.dim_arith("**", 10, 10 ** 10)


# ---- repeat counts -----------------------------------------------------------------------------------

REPEAT = "dim n = 2{extra}\nmodel m {{\n    input x: [n]\n    repeat {count} {{ x = relu(x) }}\n    return x\n}}\n"


@pytest.mark.parametrize("count,extra", [("10 ** 9", ""), ("1000000000", ""), ("k", ", k = 1000000000"),
                                         ("big", "\nlet big = 10 ** 9")])
def test_enormous_repeat_lints_symbolically(count, extra):
    res = lint(REPEAT.format(count=count, extra=extra))
    assert res.ok, res.diagnostics
    assert res.models["m"].shapes()["x"] == "[n]"


@pytest.mark.parametrize("count,extra", [("10 ** 9", ""), ("k", ", k = 1000000000"),
                                         ("big", "\nlet big = 10 ** 9")])
def test_enormous_repeat_verify_refuses_to_loop(tmp_path, count, extra):
    text = REPEAT.format(count=count, extra=extra)
    rep = run_verify(tmp_path, text)
    failed = [r for r in rep.runs if r.failed]
    assert failed and "repeat count is 1,000,000,000" in failed[0].failed
    assert str(X.MAX_RUN_STEPS).replace("000", ",000").lstrip(",") in failed[0].failed or \
        f"{X.MAX_RUN_STEPS:,}" in failed[0].failed
    d = [d for d in rep.diagnostics if d.code == "SC601"][0]
    assert d.span.line == text.split("\n").index("    repeat " + count + " { x = relu(x) }") + 1  # the count


def test_nested_repeats_stop_at_the_step_budget(tmp_path):
    # each count is small, the product is 2**40: the run stops, located, within the budget
    text = "dim n = 2\nmodel m {\n    input x: [n]\n" + "repeat 2 { " * 40 + "x = relu(x)" + " }" * 40 + \
        "\n    return x\n}\n"
    assert lint(text).ok
    rep = run_verify(tmp_path, text, guard=60)
    assert rep.runs and all(r.failed for r in rep.runs)
    assert "stops after" in rep.runs[0].failed or "repeat count" in rep.runs[0].failed


def test_exponential_call_tree_stops_at_the_step_budget(tmp_path):
    blocks = ["block b0(x: [n]) -> [n] { return relu(x) }"]
    for i in range(1, 30):
        blocks.append(f"block b{i}(x: [n]) -> [n] {{\n    y = b{i - 1}(x)\n    return b{i - 1}(y)\n}}")
    text = "dim n = 2\n" + "\n".join(blocks) + "\n"
    prog = X.program_from_source(text + "model m {\n    input x: [n]\n    y = b29(x)\n    return y\n}\n", "t.shape")
    t0 = time.perf_counter()
    with pytest.raises(X.ExecError, match="stops after"):
        X.run(prog, "m", {"n": 2})
    assert time.perf_counter() - t0 < 60


def test_the_cli_reports_an_enormous_repeat(tmp_path, capsys):
    path = tmp_path / "r.shape"
    path.write_text(REPEAT.format(count="10 ** 9", extra=""), encoding="utf-8")
    assert main(["verify", str(path), "--samples", "0"]) == 1
    out = capsys.readouterr().out
    assert "repeat count is 1,000,000,000" in out and "Traceback" not in out


# ---- memory -------------------------------------------------------------------------------------------

def test_huge_literal_shape_is_refused_by_the_estimate(tmp_path):
    text = "dim n = 2\nmodel m {\n    input x: [10 ** 12, 10 ** 12]\n    return x\n}\n"
    assert lint(text).ok
    with pytest.raises(UsageError, match="over the budget"):
        run_verify(tmp_path, text)


def test_huge_example_sizes_are_scaled_to_the_budget(tmp_path):
    text = "dim n = 1000000000000\nmodel m {\n    input x: [n, n]\n    return x\n}\n"
    rep = run_verify(tmp_path, text, max_memory=2 ** 22, guard=30)
    assert rep.ok
    run = rep.runs[0]
    assert run.bindings.estimate <= 2 ** 22 and run.bindings.values["n"] < 1000
    assert any("scaled down" in n for n in rep.notes)


def test_huge_temporary_is_refused_by_the_estimate(tmp_path):
    text = "dim n = 2\nmodel m {\n    input x: [n]\n    y = sum(exp(broadcast_to(x, [10 ** 6, 10 ** 6, n])))\n" \
           "    return y\n}\n"
    assert lint(text).ok
    with pytest.raises(UsageError, match="over the budget"):
        run_verify(tmp_path, text)


def test_parameters_count_towards_the_budget(tmp_path):
    text = "dim n = 2\nmodel m {\n    input x: [n]\n    repeat 1000 { x = linear(x, 100000) }\n    return x\n}\n"
    res = lint(text)
    assert not res.ok    # a shape change around `repeat`
    text = "dim n = 2\nmodel m {\n    input x: [n, 65536]\n    repeat 100 { x = linear(x, 65536) }\n" \
           "    return x\n}\n"
    assert lint(text).ok
    with pytest.raises(UsageError, match="over the budget"):
        run_verify(tmp_path, text)


def test_every_run_stays_within_the_budget(tmp_path):
    """The estimate is computed before any allocation, for every run (example and samples)."""
    import shapecheck.sizes as ex

    seen = []
    real = ex.choose_bindings

    def spy(*a, **kw):
        b = real(*a, **kw)
        seen.append((b.estimate, kw.get("max_memory")))
        return b

    text = "dim b = 64, d = 4096\nmodel m {\n    input x: [b, d]\n    y = linear(x, d)\n    return y\n}\n"
    import shapecheck.verify as V

    old = V.choose_bindings
    V.choose_bindings = spy
    try:
        rep = run_verify(tmp_path, text, max_memory=2 ** 24, samples=2)
    finally:
        V.choose_bindings = old
    assert rep.ok and seen
    assert all(est <= budget for est, budget in seen)


def test_rank_beyond_numpy_is_a_located_failure(tmp_path):
    text = "dim n = 1\nmodel m {\n    input x: [" + ", ".join(["n"] * 100) + "]\n    return x\n}\n"
    assert lint(text).ok
    rep = run_verify(tmp_path, text)
    assert rep.runs and rep.runs[0].failed and "cannot create input `x`" in rep.runs[0].failed
    assert [d.span.line for d in rep.diagnostics if d.code == "SC601"] == [3]


# ---- int inputs are always valid indices ------------------------------------------------------------------

@pytest.mark.parametrize("table", ["param w: [3, d]", "param w: [v, d]", "param w: [1, d]"])
def test_int_inputs_index_any_table(tmp_path, table):
    text = (f"dim n = 9, d = 6, v = 5\nmodel m {{\n    input ids: [n, n] int\n    {table}\n"
            f"    y = embedding(ids, w)\n    return y\n}}\n")
    assert lint(text).ok
    rep = run_verify(tmp_path, text, samples=3)
    assert rep.ok and all(r.failed is None for r in rep.runs), [r.failed for r in rep.runs]


def test_int_inputs_index_literal_vocab_and_slices(tmp_path):
    text = ("dim n = 9, d = 6, v = 50\nrequire v >= 4\nmodel m {\n    input ids: [n] int\n    param w: [v, d]\n"
            "    a = embedding(ids, 2, d)\n    b = embedding(ids, w[:4])\n    return a, b\n}\n")
    assert lint(text).ok
    rep = run_verify(tmp_path, text, samples=3)
    assert rep.ok and all(r.failed is None for r in rep.runs), [r.failed for r in rep.runs]


def test_int_input_values_are_in_range():
    prog = X.program_from_source("dim n = 7, v = 3\nmodel m {\n    input ids: [n, n] int\n"
                                 "    y = embedding(ids, v, 4)\n    return y\n}\n", "t.shape")
    for seed in range(5):
        r = X._Runner(prog, {"n": 7, "v": 3}, seed, None)
        ids = r.make_input((7, 7), "int")
        assert ids.min() >= 0 and ids.max() < 3


# ---- long files --------------------------------------------------------------------------------------------

def test_long_file_20000_lines(tmp_path):
    """10,000 lets and 10,000 assignments: linear work, well under the guard (a hang guard only)."""
    text = "dim n = 2\n" + "\n".join(f"let l{i} = n + {i}" for i in range(10_000)) + \
        "\nmodel m {\n    input x: [n]\n" + "\n".join("    x = relu(x)" for _ in range(10_000)) + \
        "\n    return x\n}\n"
    res = lint(text, guard=120)
    assert res.ok
    assert res.models["m"].shapes()["x"] == "[n]"


def test_long_single_line_and_long_strings():
    res = lint("dim n = 2\nmodel m {\n    input x: [n, n]\n    y = rearrange(x, \"" + "a " * 20_000 +
               "-> b\")\n    return y\n}\n")
    located(res, "SC306", line=4)
    res = lint("dim " + ", ".join(f"d{i} = 2" for i in range(2_000)) + "\n")
    assert res.ok


def test_file_size_limit():
    from shapecheck.parse import MAX_SOURCE_BYTES

    res = lint("#" * (MAX_SOURCE_BYTES + 1))
    located(res, "SC005", line=1)


# ---- use: cycles and missing targets -------------------------------------------------------------------------

def test_use_cycles_and_missing_targets(tmp_path):
    (tmp_path / "a.shape").write_text('use "b.shape"\ndim n\n', encoding="utf-8")
    (tmp_path / "b.shape").write_text('use "c.shape"\ndim m\n', encoding="utf-8")
    (tmp_path / "c.shape").write_text('use "a.shape"\ndim k\n', encoding="utf-8")
    (tmp_path / "self.shape").write_text('dim z\nuse "self.shape"\n', encoding="utf-8")
    (tmp_path / "missing.shape").write_text('dim z\n\nuse "nowhere/none.shape"\n', encoding="utf-8")
    (tmp_path / "dir.shape").write_text('use "."\nuse ""\nuse "/"\n', encoding="utf-8")
    from shapecheck.api import check_path

    t0 = time.perf_counter()
    res = check_path(str(tmp_path / "a.shape"))
    assert located(res, "SC004", line=1).span.file == str(tmp_path / "a.shape")
    assert "cycle" in located(res, "SC004").message
    res = check_path(str(tmp_path / "self.shape"))
    assert located(res, "SC004", line=2)
    res = check_path(str(tmp_path / "missing.shape"))
    assert "no such file" in located(res, "SC004", line=3).message
    res = check_path(str(tmp_path / "dir.shape"))
    assert "SC003" not in res.codes() and res.codes().count("SC004") >= 2
    assert time.perf_counter() - t0 < HANG_GUARD


def test_long_use_chain(tmp_path):
    for i in range(300):
        (tmp_path / f"f{i}.shape").write_text(f'use "f{i + 1}.shape"\ndim d{i}\n', encoding="utf-8")
    (tmp_path / "f300.shape").write_text('use "f0.shape"\ndim last\n', encoding="utf-8")
    from shapecheck.api import check_path

    t0 = time.perf_counter()
    res = check_path(str(tmp_path / "f0.shape"))
    assert time.perf_counter() - t0 < 30
    assert "SC003" not in res.codes()
    assert "SC004" in res.codes() or "SC005" in res.codes()
