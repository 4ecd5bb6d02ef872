"""Advice that works, refutations that are real (issue 11).

On generated specs (a check under a few `require`s):

- every suggested ``require X`` is in the language's own syntax, parses, is
  satisfiable together with the requires in force, is not already present,
  and settles the finding when added;
- every refuted finding's counterexample, run through the NumPy backend,
  makes the same line fail there too.
"""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings, strategies as st

from shapecheck import execute as X
from shapecheck.api import check_source

SPEC = """dim b, n, a, c
{requires}
model m {{
    input x: [b, n]
{stmt}
    return x
}}
"""
STMT_LINE = 6     # the line of the generated statement (before any require is inserted)

STATEMENTS = [
    "    y = x[:, :{k}]",
    "    y = x[:, {k}:n - {j}]",
    "    y = x[:, {j}]",
    "    y = linear(x, a * a - {k} * a + {j})",
    "    y = linear(x, (a * a + {k} * a) / 2)",
    "    y = linear(x, n - {k})",
    "    y = reshape(x, [b, n / {k}, {k}])",
    "    y = concat([x, x[:, :{k}]], axis=1)  : [b, n + a]",
    "    y = x[:, :a] + x[:, :{k}]",
    "    repeat a - {k} {{\n        x = relu(x)\n    }}",
]
REQUIRES = ["n >= {r}", "a >= {s}", "n % {s} == 0", "a <= n", "n != {r}", "a % 2 == 1", "2 * a == n + {s}"]

SUGGESTION = re.compile(r"add `require (.+?)`")


@st.composite
def specs(draw):
    k = draw(st.integers(1, 12))
    j = draw(st.integers(1, 12))
    r = draw(st.integers(1, 130))
    s = draw(st.integers(2, 6))
    stmt = draw(st.sampled_from(STATEMENTS)).format(k=k, j=j)
    chosen = draw(st.lists(st.sampled_from(REQUIRES), max_size=3, unique=True))
    requires = "require " + ", ".join(c.format(r=r, s=s) for c in chosen) if chosen else ""
    return SPEC.format(requires=requires, stmt=stmt), [c.format(r=r, s=s) for c in chosen]


def _check_of(message: str) -> str:
    """What a finding checks: its message up to the first colon."""
    return message.split(":")[0]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs())
def test_suggested_requires_parse_hold_are_new_and_settle(case):
    text, requires = case
    res = check_source(text, "gen.shape")
    if any(d.code in ("SC203", "SC205") for d in res.diagnostics):
        return      # the generated requires contradict each other: nothing to advise on
    for d in res.diagnostics:
        m = SUGGESTION.search(d.message)
        if not m:
            continue
        fix = m.group(1)
        where = f"{d.code} {d.message!r} in\n{text}"
        assert "ceiling" not in fix and "  " not in fix, f"not the language's syntax: {fix!r}: {where}"
        assert _norm(fix) not in {_norm(r) for r in requires}, f"already present: {fix!r}: {where}"
        fixed = text.replace("model m {", f"require {fix}\nmodel m {{", 1)
        after = check_source(fixed, "gen.shape")
        codes = [(e.code, e.span.line, e.span.col, _check_of(e.message)) for e in after.diagnostics]
        assert "SC001" not in [c[0] for c in codes], f"`require {fix}` does not parse: {after.diagnostics}"
        assert not {"SC203", "SC205"} & {c[0] for c in codes}, f"`require {fix}` is unsatisfiable: {where}"
        # the same check (code, line, what is checked) is settled; the next check on that line may speak
        assert (d.code, d.span.line + 1, d.span.col, _check_of(d.message)) not in codes, (
            f"`require {fix}` does not settle {d.code}: {where}\nafter: {[e.message for e in after.diagnostics]}")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs())
def test_refuted_findings_fail_in_numpy_at_their_counterexample(case):
    text, _ = case
    res = check_source(text, "gen.shape")
    refuted = [d for d in res.diagnostics if d.evidence is not None]
    if len(res.errors) != 1 or len(refuted) != 1:
        return
    d = refuted[0]
    rel, env, in_force = d.evidence
    sizes = {s.name: v for s, v in env.items()}
    if not all(name in ("b", "n", "a", "c") for name in sizes):
        return
    sizes = {**{n: 2 for n in ("b", "n", "a", "c")}, **sizes}
    assert all(r.holds({s: sizes[s.name] for s in r.free_symbols}) for r in in_force)
    prog = X.program_from_source(text, "gen.shape")
    try:
        ex = X.run(prog, "m", sizes)
    except X.ExecError as e:
        assert e.span is not None and e.span.line == d.span.line, (
            f"NumPy fails elsewhere ({e.span}: {e.message}) than {d.code} {d.message!r} in\n{text}")
    else:
        if d.code == "SC301":    # the run does not read annotations: compare with the one written
            got = next(r.shape for r in ex.records if r.name == "y")
            assert got != (sizes["b"], sizes["n"] + sizes["a"]), f"NumPy gives the annotated {got} in\n{text}"
            return
        raise AssertionError(f"NumPy runs {sizes} without failing, but {d.code} {d.message!r} in\n{text}")


# ---- message fragments of the issue's reproducers (until golden markers carry text) -------------

def _messages(name):
    from pathlib import Path

    from shapecheck.api import check_path
    path = Path(__file__).parent / "cases" / "exact" / name
    return [f"{d.code} {d.message}" for d in check_path(str(path)).diagnostics]


def test_message_fragments_of_the_reproducers():
    msgs = _messages("simplified_messages.shape")
    assert any("dimension 1 is image**2 / patch**2, expected" in m for m in msgs), msgs
    msgs = _messages("threshold_refutations.shape")
    assert any(m.startswith("SC202") and "fails at n=10" in m for m in msgs), msgs
    assert any(m.startswith("SC307") and "fails at seq=1" in m and "seq=1)" not in m for m in msgs), msgs
    assert any(m.startswith("SC505") and "add `require d**2 - 3*d + 3 >= 1`" in m for m in msgs), msgs
    msgs = _messages("huge_power.shape")
    assert any("exceeds" in m and "by 1 at every size" in m for m in msgs), msgs
    msgs = _messages("dtype_disagreements.shape")
    assert any("NumPy gives float, PyTorch keeps int" in m for m in msgs), msgs
    msgs = _messages("reserved_dim_name.shape")
    assert any("`input` is a reserved word" in m for m in msgs), msgs
    msgs = _messages("positional_after_keyword.shape")
    assert any("positional argument after the keyword argument `out=`" in m for m in msgs), msgs


def test_constant_check_says_what_is_wrong():
    text = "dim b\nmodel m {\n    input x: [b, 128]\n    y = x[:, :129]\n    return y\n}\n"
    msgs = [d.message for d in check_source(text, "c.shape").diagnostics]
    assert any(m.endswith("129 > 128") for m in msgs), msgs
    assert not any("require" in m for m in msgs), msgs
