"""Golden tests: every tests/cases/**/*.shape file states its expected
diagnostics inline, mypy style.

A comment ``# E: SC301`` (or several codes, ``# E: SC301 SC501``) at the end
of a line says that a diagnostic with each of those codes must be reported on
that line. A file without markers must produce no diagnostics. Only
diagnostics located in the checked file count (``use``d files are checked as
cases of their own). The comparison is on the multiset of (line, code) pairs.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

import shapecheck

CASES = Path(__file__).parent / "cases"
MARKER = re.compile(r"#\s*E:\s*((?:SC\d{3}\s*)+)")


def discover():
    return sorted(CASES.rglob("*.shape"))


def expected_pairs(path: Path) -> Counter:
    want = Counter()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = MARKER.search(line)
        if m:
            for code in m.group(1).split():
                want[(lineno, code)] += 1
    return want


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
