"""Every refuted finding carries evidence that really breaks the check.

For every golden case (tests/cases/**/*.shape) and every spec (specs/*.shape),
and every diagnostic with ``evidence = (relation, env, in_force)``:

- the relation evaluates to False at the counterexample ``env``;
- every relation in force binds its dimensions in ``env`` and holds there
  (the counterexample respects every `require`), every size is at least 1;
- a refuted finding's message shows the sizes (``fails at ...``), and a
  message that shows sizes carries the evidence.

Every SC5xx warning (undecided) suggests the `require` that would settle it, or
says that none can name the pass index it depends on.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import shapecheck
from conftest import ROOT
from shapecheck.dims import Relation

FILES = sorted(Path(ROOT, "tests", "cases").rglob("*.shape")) + sorted(Path(ROOT, "specs").glob("*.shape"))


def _id(p: Path) -> str:
    return str(p.relative_to(ROOT))


_RESULTS: dict = {}


def _check(path: Path):
    if path not in _RESULTS:
        _RESULTS[path] = shapecheck.check_path(str(path))
    return _RESULTS[path]


def _where(d) -> str:
    return f"{d.span}: {d.code} {d.message}"


def test_corpus_is_found():
    assert len(FILES) > 50


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_evidence_breaks_the_check(path):
    res = _check(path)
    for d in res.diagnostics:
        if d.evidence is None:
            assert "(fails at " not in d.message, f"{_where(d)}: sizes shown without the evidence they rest on"
            continue
        rel, env, in_force = d.evidence
        assert isinstance(rel, Relation), _where(d)
        assert env, f"{_where(d)}: empty counterexample"
        assert rel.free_symbols <= set(env), (
            f"{_where(d)}: the counterexample does not bind {sorted(map(str, rel.free_symbols - set(env)))}")
        assert not rel.holds(env), f"{_where(d)}: `{rel.text()}` holds at the counterexample {env}"
        for r in in_force:     # every fact in force, not only those on the check's dimensions
            assert r.free_symbols <= set(env), (
                f"{_where(d)}: the counterexample {env} does not bind the dimensions of `require {r.text()}`")
            assert r.holds(env), (f"{_where(d)}: the counterexample {env} violates "
                                  f"`require {r.text()}`, which is in force")
        assert all(v >= 1 for v in env.values()), f"{_where(d)}: a size below 1 in {env}"
        assert "fails at " in d.message, f"{_where(d)}: a refuted finding should show the failing sizes"


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_undecided_warnings_suggest_a_require(path):
    res = _check(path)
    for d in res.diagnostics:
        if d.code.startswith("SC5"):
            assert "add `require" in d.message or "which no `require` can name" in d.message, \
                f"{_where(d)}: no suggested `require`"
