"""`shapecheck codes CODE` and docs/codes.md: every failing example reports its
code, every fixed example is clean, and the docs have a section per code."""
import os

import pytest

import shapecheck
from conftest import ROOT
from shapecheck.codes import CODES
from shapecheck.explain import EXPLAIN, codes_markdown, explanation
from shapecheck.suppress import Suppressor

EXAMPLES = sorted(c for c, (_, bad, good) in EXPLAIN.items() if bad is not None)


def lint_codes(text):
    """The codes `shapecheck lint` reports for ``text`` (suppression comments applied and judged)."""
    res = shapecheck.check_source(text, "example.shape")
    sup = Suppressor({"example.shape": text})
    kept = sup.filter(res.diagnostics) + sup.unused() + sup.malformed()
    return sorted(d.code for d in kept)


@pytest.mark.parametrize("code", EXAMPLES)
def test_the_failing_example_fails_with_its_code_and_the_fixed_one_is_clean(code):
    _, bad, good = explanation(code)
    assert code in lint_codes(bad)
    assert lint_codes(good) == []


def test_most_codes_have_examples():
    assert len(EXAMPLES) >= 30
    assert set(EXPLAIN) <= set(CODES)


def test_docs_codes_md_is_generated_and_has_a_section_per_code():
    path = os.path.join(ROOT, "docs", "codes.md")
    text = open(path, encoding="utf-8").read()
    for code in CODES:
        assert f"\n## {code}\n" in text, f"{code} has no section: run `python -m shapecheck.explain > docs/codes.md`"
    assert text == codes_markdown(), "docs/codes.md is stale: run `python -m shapecheck.explain > docs/codes.md`"
