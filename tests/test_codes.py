"""The code registry and the README's table of codes agree, and every code has a golden case."""
import glob
import os
import re

from conftest import ROOT
from shapecheck.codes import CODES


def readme_table():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| (SC\d{3}) \| (error|warning) \|", text, re.M)}


def test_readme_lists_every_code_with_its_severity():
    table = readme_table()
    assert table == {c.code: c.severity for c in CODES.values()}


def test_every_checker_code_has_a_golden_case():
    marked = set()
    for path in glob.glob(os.path.join(ROOT, "tests", "cases", "**", "*.shape"), recursive=True):
        for m in re.finditer(r"#\s*E:\s*((?:SC\d{3}\s*)+)", open(path, encoding="utf-8").read()):
            marked.update(m.group(1).split())
    # codes that a single spec file cannot produce: I/O, internal errors, verify, lint-level and conform ones
    not_from_a_file = {"SC002", "SC003", "SC601", "SC701", "SC702"} | {c for c in CODES if c.startswith("SC8")}
    assert set(CODES) - not_from_a_file - marked == set()
