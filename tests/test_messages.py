"""The message table (shapecheck/messages.py): every template well formed,
used by the package, asserted by a test; every code has its templates or a
named home; the symbolic interpreter reports nothing but templates.

The golden cases (tests/cases, markers with a message fragment) assert the
findings' messages; the notes, and the findings a golden case cannot hold, are
asserted here, on small specs.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shapecheck import messages as M
from shapecheck.api import check_path, check_source
from shapecheck.codes import CODES, WARNING
from shapecheck.dims import REFUTED, Verdict
from shapecheck.parse import MAX_SOURCE_BYTES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "shapecheck"
CASES = Path(__file__).parent / "cases"

FINDINGS = {n: m for n, m in M.MESSAGES.items() if m.code is not None}
PARTS = {n: m for n, m in M.MESSAGES.items() if m.code is None}

#: codes with no template, and where their messages are made (a code with templates may have
#: other messages made elsewhere: SC004 for a `use` target, SC005 for the parser's limits)
ELSEWHERE = {
    "SC001": "parse.py: the parser's syntax errors",
    "SC002": "program.py and cli/lint.py: files that cannot be read",
    "SC303": "ops/linear.py: the operation's own rule",
    "SC306": "ops/shape.py: rearrange patterns and einsum equations",
    "SC309": "ops/: the operations' size arguments",
    "SC601": "verify.py: NumPy runs against the analysis",
    "SC701": "suppress.py",
    "SC702": "suppress.py",
    "SC801": "conform.py", "SC802": "conform.py", "SC803": "conform.py", "SC804": "conform.py",
    "SC805": "conform.py", "SC806": "conform.py",
}


# ---- the table itself --------------------------------------------------------------------------------

def test_templates_are_well_formed():
    assert len(FINDINGS) >= 60
    texts = {}
    for name, m in M.MESSAGES.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), name
        assert m.code is None or m.code in CODES, (name, m.code)
        assert m.template not in texts, f"{name} and {texts.get(m.template)} have one template"
        texts[m.template] = name
        assert all(f and f.isidentifier() for f in m.fields), (name, m.fields)   # no positional or indexed fields
        assert not m.detail or m.code is not None, name


def test_three_valued_wording_is_declared_once():
    """`{fails}` is the counterexample of an error, `{fix}` the `require` that excludes it;
    `{advice}` the settling `require` of a warning; every warning of the table says what
    settles it; that wording is nowhere else."""
    for name, m in FINDINGS.items():
        if "fails" in m.fields:
            assert CODES[m.code].severity != WARNING, name
        if CODES[m.code].severity == WARNING:
            assert m.fields[-1:] == ("advice",), f"{name}: an undecided check ends with the advice"
        else:
            assert "advice" not in m.fields, name
        if "fix" in m.fields:
            assert CODES[m.code].severity != WARNING and "fails" in m.fields, name
    for m in M.MESSAGES.values():
        assert "(fails at" not in m.template or m is M.FAILS_AT
        assert "to settle it" not in m.template or m is M.ADVICE
        assert "add `require" not in m.template or m in (M.ADVICE, M.ADD_REQUIRE, M.ADD_REQUIRE_IF_INTENDED)


def test_fails_and_advice_render():
    assert M.fails(Verdict(REFUTED, {"n": 3, "m": 4})) == " (fails at n=3, m=4)"
    assert M.fails(Verdict(REFUTED)) == ""
    assert M.fails(None) == ""
    assert M.advice("n % 2 == 0") == "; add `require n % 2 == 0` to settle it"
    assert M.DIM_BELOW_ONE.format(dim="n - 1", fails=M.fails(Verdict(REFUTED, {"n": 1})),
                                  fix=M.ADD_REQUIRE.format(require="n - 1 >= 1")) == \
        "dimension n - 1 can be less than 1 (fails at n=1); add `require n - 1 >= 1`"
    assert M.DIM_UNDECIDED.format(dim="n - 1", advice=M.advice("n - 1 >= 1")) == \
        "cannot prove dimension n - 1 is at least 1; add `require n - 1 >= 1` to settle it"


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "messages.py":
            yield path, path.read_text(encoding="utf-8")


def test_no_dead_templates():
    """Every template is used: by the package (``M.NAME``), or by the table's own helpers."""
    used = set()
    for _, text in _sources():
        used |= set(re.findall(r"\bM\.([A-Z][A-Z0-9_]*)\b", text))
    own = (PACKAGE / "messages.py").read_text(encoding="utf-8")
    used |= set(re.findall(r"\b([A-Z][A-Z0-9_]*)\.format\(", own))
    assert set(M.MESSAGES) - used == set(), "templates no code uses"
    assert used - set(M.MESSAGES) - {"MESSAGES"} == set(), "names used but not in the table"


def test_every_code_has_its_templates_or_a_named_home():
    with_template = {m.code for m in FINDINGS.values()}
    assert with_template | set(ELSEWHERE) == set(CODES), "a code with no template and no named home"
    assert with_template & set(ELSEWHERE) == set(), "a code listed as elsewhere has templates"


@pytest.mark.parametrize("module", ["infer.py", "program.py"])
def test_the_symbolic_side_reports_only_templates(module):
    """infer.py and program.py report through the table (``say``, ``settle``); ``report`` passes
    on only the messages made elsewhere (an operation's rule, the prover's limits, a read error)."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    inline = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "report":
                msg = node.args[2] if len(node.args) > 2 else None
                if isinstance(msg, (ast.Constant, ast.JoinedStr)):
                    inline.add((fn.name, node.lineno))
    assert {name for name, _ in inline} <= PENDING, f"messages written inline in {module}: {sorted(inline)}"


#: functions still wording their messages inline (none: the block-argument matcher and the argument
#: conversion, shared with execute.py, report the table's messages from shapecheck/skeleton.py)
PENDING: set = set()


# ---- every template asserted by a test --------------------------------------------------------------

def _fragments():
    from test_golden import markers
    out = set()
    for path in sorted(CASES.rglob("*.shape")):
        out |= {frag for _, _, _, frag in markers(path) if frag}
    return out


class _Recorder:
    """Every text each template renders while specs are checked."""

    def __init__(self, monkeypatch):
        self.rendered: dict = {}
        names = {id(m): n for n, m in M.MESSAGES.items()}
        original = M.Message.format

        def format(msg, **fields):
            text = original(msg, **fields)
            self.rendered.setdefault(names[id(msg)], set()).add(text)
            return text
        monkeypatch.setattr(M.Message, "format", format)


def _spec(text):
    return {"notes.shape": text}


_LONG = "#" * (MAX_SOURCE_BYTES + 1)

#: small specs asserting each note template, and the findings no golden case can hold (a file
#: too long, a `use` cycle, whose message names the paths), verbatim: (files, expected findings)
SPECS = [
    (_spec("dim n\nlet a = b + 1\nlet b = a\nmodel m {\n    input x: [n]\n    return x\n}\n"),
     [("SC206", "`let a` depends on itself: a -> b -> a", ["`b` is defined here"])]),
    (_spec("dim batch, d, e\nmodel m {\n    input x: [batch, d]\n    y = relu(x)  : [batch, e]\n    return x\n}\n"),
     [("SC301", "`y` is [batch, d] but is annotated [batch, e]: dimension 1 is d, expected e (fails at d=1, e=2)",
       ["the annotation is checked for every size the `require`s allow", "dimension 1 (d) comes from input `x`"])]),
    (_spec("dim n\nblock ret(x: [k]) -> [k, k] {\n    return x\n}\n"),
     [("SC403", "returns [k] where `ret` promises [k, k]: rank 1 vs 2",
       ["the declared result shape", "dimension 0 (k) comes from parameter `x`"])]),
    (_spec("dim batch, d\nblock pair(x: [b, k], y: [k, j]) -> [b, j] {\n    return x @ y\n}\n"
           "model m {\n    input x: [batch, d]\n    p = pair(x)\n    return x\n}\n"),
     [("SC105", "`pair` is missing argument `y`", ["parameter declared here"])]),
    (_spec("dim batch, d, e\nblock pair(x: [b, k], y: [k, j]) -> [b, j] {\n    return x @ y\n}\n"
           "model m {\n    input x: [batch, d]\n    input w: [e, d]\n    q = pair(x, w)\n    return q\n}\n"),
     [("SC401", "argument `y` of `pair` is [e, d]: `k` must be d, found e (fails at d=1, e=2)",
       ["parameter `y` is declared [k, j]", "`k` was bound to d by argument `x`"])]),
    (_spec("dim n\nblock grow(x: [k], n: dim) -> [k] {\n    return x\n}\n"
           "model m {\n    input x: [n]\n    r = grow(x, 0)\n    return x\n}\n"),
     [("SC202", "call to `grow` makes its dimension `n` 0, which can be less than 1",
       ["`grow` is checked for `n` >= 1"])]),
    (_spec("dim n\nblock pre(x: [k]) -> [k] {\n    require k >= 2\n    return x\n}\n"
           "block mid(x: [k]) -> [k] {\n    return pre(x)\n}\n"
           "model m {\n    input x: [n]\n    s = mid(x)\n    return x\n}\n"),
     [("SC402", "call to `mid` needs n >= 2, which the `require`s here do not guarantee (fails at n=1); "
                "add `require n >= 2`", ["`mid` requires k >= 2 (inherited from `pre`)"])]),
    (_spec("dim n\nblock pre(x: [k]) -> [k] {\n    require k >= 2\n    return x\n}\n"
           "block low(x: [k]) -> [k] {\n    require k <= 1\n    return pre(x)\n}\n"),
     [("SC402", "call to `pre` needs k >= 2, which contradicts the `require`s here: no sizes allow this call",
       ["`pre` requires k >= 2"])]),
    (_spec("dim n, c\nmodel m {\n    input x: [c]\n    w = c\n    repeat n {\n        w = w + 1\n    }\n"
           "    return x\n}\n"),
     [("SC404", "`w` is c + 1 after one pass of `repeat n` but c before it (fails at c=1)",
       ["a value carried around the loop must not change",
        "to let it grow by the same amount each pass, name the pass index: `repeat i in ...`"])]),
    (_spec("dim n, c\nmodel m {\n    input x: [c]\n    repeat n {\n        x = concat([x, x], axis=0)\n    }\n"
           "    return x\n}\n"),
     [("SC404", "`x` is [2*c] after one pass of `repeat n` but [c] before it: dimension 0 is 2*c, expected c "
                "(fails at c=1)",
       ["a tensor carried around the loop must keep its shape",
        "to let it grow by the same amount each pass, name the pass index: `repeat i in ...`",
        "dimension 0 (2*c) comes from `concat`"])]),
    (_spec("dim n, c\nmodel m {\n    input x: [c]\n    repeat i in n {\n        x = reshape(x, [c, 1])\n    }\n"
           "    return x\n}\n"),
     [("SC404", "`x` is [c, 1] after pass i of `repeat i in n` but [c] before it: rank 2 vs 1",
       ["a value carried around the loop must keep its shape or grow by the same amount each pass",
        "dimension 0 (c) comes from input `x`", "dimension 1 (1) comes from `reshape`"])]),
    (_spec("dim n, c\nmodel m {\n    input x: [c]\n    w = c\n    repeat i in n {\n        w = w * 2\n    }\n"
           "    return x\n}\n"),
     [("SC404", "`w` is 2*c*i + 2*c after pass i of `repeat i in n`, but c*i + 2*c by the growth of its first pass "
                "(fails at c=1, i=1)",
       ["a value carried around the loop must grow by the same amount each pass (an affine function of the "
        "pass index)"])]),
    (_spec("dim n\ndim m, n\n"), [("SC102", "dimension `n` is defined twice", ["first defined here"])]),
    (_spec('use "notes.shape"\ndim n\n'), [("SC004", "`use` cycle: notes.shape -> notes.shape", [])]),
    ({"notes.shape": 'use "b.shape"\ndim n\n', "b.shape": 'use "notes.shape"\ndim m\n'},
     [("SC004", "`use` cycle: notes.shape -> b.shape -> notes.shape", ["the `use` that closes the cycle"])]),
    (_spec(_LONG), [("SC005", f"file longer than {MAX_SOURCE_BYTES} characters", [])]),
]


def _check_spec(files):
    return check_source(files["notes.shape"], "notes.shape", read=lambda path: files[path])


def _internal_error(*args, **kwargs):
    raise ValueError("boom")


def _too_deep(*args, **kwargs):
    raise RecursionError


#: a failure inside the analysis, as the user sees it (the line is this file's `raise`)
FAULTS = [
    (_internal_error, [("SC003", "internal error: ValueError: boom (at test_messages.py:"
                                 f"{_internal_error.__code__.co_firstlineno + 1}); please report this",
                        ["the checks above this point still hold"])]),
    (_too_deep, [("SC005", "the spec is nested too deeply to analyse", [])]),
]


def _check_fault(monkeypatch, fault):
    import shapecheck.api
    with monkeypatch.context() as m:
        m.setattr(shapecheck.api, "_analyse", fault)
        return _check_spec(_spec("dim n\n"))


@pytest.mark.parametrize("fault,expected", FAULTS, ids=["internal", "depth"])
def test_faults(monkeypatch, fault, expected):
    res = _check_fault(monkeypatch, fault)
    assert [(d.code, d.message, [n.message for n in d.notes]) for d in res.diagnostics] == expected


@pytest.mark.parametrize("files,expected", SPECS, ids=[str(i) for i in range(len(SPECS))])
def test_specs(files, expected):
    res = _check_spec(files)
    got = [(d.code, d.message, [n.message for n in d.notes]) for d in res.diagnostics]
    assert got == [(c, m, n) for c, m, n in expected]


def test_every_template_is_asserted_by_a_test(monkeypatch):
    """Each finding's rendered message is a golden marker's fragment or a message asserted
    above, verbatim; each part is inside one, or inside a note asserted above."""
    rec = _Recorder(monkeypatch)
    for path in sorted(CASES.rglob("*.shape")):
        check_path(str(path))
    asserted, notes = _fragments(), set()
    for files, expected in SPECS + [(fault, expected) for fault, expected in FAULTS]:
        if isinstance(files, dict):
            _check_spec(files)
        else:
            _check_fault(monkeypatch, files)
        asserted |= {m for _, m, _ in expected}
        notes |= {n for _, _, ns in expected for n in ns}
    unasserted = []
    for name, m in M.MESSAGES.items():
        texts = rec.rendered.get(name, set())
        if m.code is not None and not m.detail:
            ok = bool(texts & asserted)
        else:
            ok = any(t in f for t in texts for f in asserted | notes)
        if not ok:
            unasserted.append(name)
    assert unasserted == [], "templates no golden fragment or spec above asserts (rendered: " + \
        "; ".join(f"{n}: {sorted(rec.rendered.get(n, ()))[:1]}" for n in unasserted) + ")"
