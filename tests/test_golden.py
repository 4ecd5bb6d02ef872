"""Golden tests: every tests/cases/**/*.shape file states its expected
diagnostics inline, mypy style.

A comment ``# E: SC301`` (or several codes, ``# E: SC301 SC501``) at the end
of a line says that a diagnostic with each of those codes must be reported on
that line. A file without markers must produce no diagnostics. Only
diagnostics located in the checked file count (``use``d files are checked as
cases of their own). The comparison is on the multiset of (line, code) pairs.

Where the text matters, a code may carry a column and a message fragment
(as mypy's test data do): ``# E: SC403:9 "dimension 2 is d / heads"`` means a
diagnostic SC403 on that line, starting at column 9, whose message contains
the quoted text (``\"`` for a quote inside it).
"""
from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

import shapecheck

CASES = Path(__file__).parent / "cases"
MARKER = re.compile(r'#\s*E:\s*((?:SC\d{3}(?::\d+)?(?:\s*"(?:[^"\\]|\\.)*")?\s*)+)')
ITEM = re.compile(r'(SC\d{3})(?::(\d+))?(?:\s*"((?:[^"\\]|\\.)*)")?')


def discover():
    return sorted(CASES.rglob("*.shape"))


def markers(path: Path) -> list:
    """Every expectation of ``path``: (line, code, column or None, fragment or None)."""
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = MARKER.search(line)
        if m:
            for code, col, frag in ITEM.findall(m.group(1)):
                out.append((lineno, code, int(col) if col else None,
                            frag.replace('\\"', '"') if frag else None))
    return out


def expected_pairs(path: Path) -> Counter:
    return Counter((line, code) for line, code, _, _ in markers(path))


def _same_file(a: str, b: Path) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(str(b)))


def reported_pairs(path: Path):
    result = shapecheck.check_path(str(path))
    got = Counter()
    messages = {}
    for d in result.diagnostics:
        if _same_file(d.span.file, path):
            got[(d.span.line, d.code)] += 1
            messages.setdefault((d.span.line, d.code), d.message)
    return got, messages, result


def unmet_details(path: Path, result) -> list:
    """The column and fragment expectations no diagnostic of their line and code meets."""
    own = [d for d in result.diagnostics if _same_file(d.span.file, path)]
    bad = []
    for line, code, col, frag in markers(path):
        if col is None and frag is None:
            continue
        cands = [d for d in own if (d.span.line, d.code) == (line, code)]
        if not any((col is None or d.span.col == col) and (frag is None or frag in d.message) for d in cands):
            found = "; ".join(f"col {d.span.col}: {d.message}" for d in cands) or "nothing"
            bad.append(f"  line {line} {code}" + (f":{col}" if col else "") + (f' "{frag}"' if frag else "")
                       + f"\n           found {found}")
    return bad


def _diff(path: Path, want: Counter, got: Counter, messages: dict, result) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [f"{path.relative_to(CASES)}: expected and reported diagnostics differ"]
    missing = want - got
    extra = got - want
    for (line, code), n in sorted(missing.items()):
        src = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        out.append(f"  missing  line {line:>3} {code}" + (f" x{n}" if n > 1 else "") + f"   | {src}")
    for (line, code), n in sorted(extra.items()):
        src = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        out.append(f"  extra    line {line:>3} {code}" + (f" x{n}" if n > 1 else "") + f"   | {src}")
        out.append(f"           {messages.get((line, code), '')}")
    others = [d for d in result.diagnostics if not _same_file(d.span.file, path)]
    if others:
        out.append("  (not counted, located in other files:)")
        out.extend(f"    {d.span.file}:{d.span.line} {d.code} {d.message}" for d in others)
    return "\n".join(out)


CASE_FILES = discover()


def test_corpus_is_large_enough():
    assert len(CASE_FILES) >= 45, f"only {len(CASE_FILES)} golden cases"


@pytest.mark.parametrize("path", CASE_FILES, ids=[str(p.relative_to(CASES)) for p in CASE_FILES])
def test_golden(path: Path):
    want = expected_pairs(path)
    got, messages, result = reported_pairs(path)
    assert got == want, _diff(path, want, got, messages, result)
    unmet = unmet_details(path, result)
    assert not unmet, f"{path.relative_to(CASES)}: column or message expectations not met\n" + "\n".join(unmet)


def test_markers_read_columns_and_fragments(tmp_path):
    case = tmp_path / "c.shape"
    case.write_text('x  # E: SC403:9 "dimension 2 is d / heads" SC501\ny # E: SC101 "a \\"quoted\\" name"\n')
    assert markers(case) == [(1, "SC403", 9, "dimension 2 is d / heads"), (1, "SC501", None, None),
                             (2, "SC101", None, 'a "quoted" name')]
