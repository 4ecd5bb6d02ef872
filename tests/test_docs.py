"""Every complete example in docs/language.md lints as the document says.

A fenced block whose info string is ``shape`` is a complete spec: it must lint
with no error-level diagnostics, unless the line right before the fence is an
HTML comment ``<!-- expect: SC301, SC502 -->``, in which case the block must
produce exactly those codes (all severities, in any order, with repeats).
Blocks fenced as ``text`` are fragments and are not checked.
"""
import os
import re

import pytest

import shapecheck

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "language.md")

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*$")
_EXPECT = re.compile(r"^\s*<!--\s*expect:\s*(.*?)\s*-->\s*$")


def _blocks(text):
    """``(line, info, body, expected_codes_or_None)`` for every fenced block."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group(2), m.group(3)
        start = i
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                      and lines[j].strip().strip(fence[0]) == ""):
            j += 1
        body = "\n".join(lines[start + 1:j]) + "\n"
        expected = None
        if start > 0:
            e = _EXPECT.match(lines[start - 1])
            if e:
                expected = [c for c in re.split(r"[\s,]+", e.group(1)) if c]
        out.append((start + 1, info, body, expected))
        i = j + 1
    return out


def _shape_blocks():
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    return [b for b in _blocks(text) if b[1] == "shape"]


def test_doc_exists_and_has_examples():
    blocks = _shape_blocks()
    assert len(blocks) >= 10, "docs/language.md should carry checkable ```shape examples"


def test_expectations_use_known_codes():
    from shapecheck.codes import CODES

    for line, _info, _body, expected in _shape_blocks():
        for code in expected or ():
            assert code in CODES, f"docs/language.md:{line}: unknown code {code} in an expect comment"


@pytest.mark.parametrize("line,body,expected",
                         [pytest.param(line, body, exp, id=f"line{line}")
                          for line, _info, body, exp in _shape_blocks()])
def test_doc_example(line, body, expected, tmp_path):
    path = str(tmp_path / f"doc_line{line}.shape")
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)
    res = shapecheck.check_path(path)
    found = [d.code for d in res.diagnostics]
    shown = "\n".join(f"  {d.span.line}:{d.span.col} {d.code} {d.message}" for d in res.diagnostics)
    if expected is None:
        errors = [d for d in res.diagnostics if d.is_error]
        assert not errors, f"docs/language.md:{line}: the example should lint cleanly:\n{shown}"
    else:
        assert sorted(found) == sorted(expected), (
            f"docs/language.md:{line}: expected {expected}, got {found}:\n{shown}")
