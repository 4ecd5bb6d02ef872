"""The TextMate grammar (editors/vscode/syntaxes/shape.tmLanguage.json) under
`vscode-tmgrammar-test` (npm): a handwritten case, and every shipped spec with
scope assertions written here by an independent tokenizer (keywords, declared
and shape dimensions, built-in operations from the op registry, strings,
comments, numbers)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shapecheck.ops import OPS

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "shape.tmLanguage.json"
TOOLDIR = VSCODE / "grammar-test"
TOOL = TOOLDIR / "node_modules" / ".bin" / "vscode-tmgrammar-test"
SPECS = sorted((ROOT / "specs").glob("*.shape"))

KEYWORDS = ("use", "dim", "let", "require", "block", "model", "input", "param", "return", "repeat")
BUILTINS = {k for k in OPS if k not in {"index", "add", "sub", "mul", "div", "floordiv", "mod", "neg", "pow",
                                        "matmul"}} | {"floor", "ceil"}
NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def _tool() -> str:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed (the grammar test runs vscode-tmgrammar-test)")
    if not TOOL.exists():   # .ci/run installs it; a developer's first run does too
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TOOLDIR,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0 and TOOL.exists(), f"npm install in {TOOLDIR} failed:\n{p.stderr}"
    return str(TOOL)


def _split_code(line: str):
    """(code part with strings blanked, [(start, end) of strings], comment start or -1)."""
    strings, i, code = [], 0, list(line)
    while i < len(line):
        ch = line[i]
        if ch == "#":
            return "".join(code[:i]), strings, i
        if ch == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            j = min(j, len(line) - 1)
            strings.append((i, j + 1))
            for k in range(i, j + 1):
                code[k] = " "
            i = j + 1
            continue
        i += 1
    return "".join(code), strings, -1


def _close(code: str, i: int) -> int:
    """Index of the `]` matching the `[` at ``i``."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == "[":
            depth += 1
        elif code[j] == "]":
            depth -= 1
            if depth == 0:
                return j
    return len(code)


def assertions(line: str) -> list:
    """[(column, length, scope)] that the grammar must give this line."""
    code, strings, comment = _split_code(line)
    out = [(a, b - a, "string.quoted.double.shape") for a, b in strings]
    if comment >= 0:
        out.append((comment, len(line) - comment, "comment.line.number-sign.shape"))
    taken = set()
    if re.match(r"\s*dim\b", code):              # the declared names
        body_start = code.index("dim") + 3
        depth, start = 0, body_start
        for j, ch in enumerate(code[body_start:] + ",", body_start):
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == "," and depth == 0:
                m = re.match(r"\s*(" + NAME + ")", code[start:j])
                if m:
                    out.append((start + m.start(1), len(m.group(1)), "variable.other.constant.dimension.shape"))
                    taken.add(start + m.start(1))
                start = j + 1
    for m in re.finditer(r"(?::|->)\s*\[", code):   # shapes: names that are not calls are dimensions
        a = m.end() - 1
        for n in re.finditer(NAME, code[a:_close(code, a)]):
            k = a + n.start()
            rest = code[a + n.end():]
            if not re.match(r"\s*\(", rest) and n.group() not in ("int", "float", "bool"):
                out.append((k, len(n.group()), "variable.other.dimension.shape"))
                taken.add(k)
    for m in re.finditer(r"(?<![A-Za-z0-9_.])(\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_])", code):
        out.append((m.start(1), len(m.group(1)), "constant.numeric.shape"))
    for m in re.finditer(r"\b" + NAME + r"\b", code):
        w, k = m.group(), m.start()
        if k in taken:
            continue
        if w in KEYWORDS:
            out.append((k, len(w), "keyword.control.shape"))
        elif w in ("true", "false", "none"):
            out.append((k, len(w), "constant.language.shape"))
        elif w in ("int", "float", "bool"):
            out.append((k, len(w), "storage.type.dtype.shape"))
        elif w in BUILTINS and re.match(r"\s*\(", code[m.end():]):
            out.append((k, len(w), "support.function.builtin.shape"))
    return sorted(out)


def grammar_case(spec: Path) -> str:
    out = [f'# SYNTAX TEST "source.shape" "{spec.name}"']
    for line in spec.read_text(encoding="utf-8").split("\n"):
        out.append(line)
        for col, n, scope in assertions(line):
            if col == 0:
                out.append("# <" + "-" * n + " " + scope)
            elif col >= 2:
                out.append("#" + " " * (col - 1) + "^" * n + " " + scope)
    return "\n".join(out) + "\n"


def test_tokenizer_of_this_test():
    line = '    x = rearrange(q, "b l -> b l", h=2)   : [b, 2 * d] int  # c'
    got = assertions(line)
    assert (line.index("rearrange"), 9, "support.function.builtin.shape") in got
    assert (line.index('"'), 12, "string.quoted.double.shape") in got
    assert (line.index("2)"), 1, "constant.numeric.shape") in got
    assert (line.index("[b") + 1, 1, "variable.other.dimension.shape") in got
    assert (line.index("d]"), 1, "variable.other.dimension.shape") in got
    assert (line.index("int"), 3, "storage.type.dtype.shape") in got
    assert (line.index("# c"), 3, "comment.line.number-sign.shape") in got
    assert not [a for a in got if a[0] == line.index("h=")]      # a keyword argument: no scope asserted
    assert assertions("dim a, b = max(c, 2)")[:3] == [(0, 3, "keyword.control.shape"),
                                                   (4, 1, "variable.other.constant.dimension.shape"),
                                                   (7, 1, "variable.other.constant.dimension.shape")]


def test_grammar_on_every_shipped_spec(tmp_path):
    tool = _tool()
    cases = []
    for spec in SPECS:
        p = tmp_path / (spec.stem + ".test.shape")
        p.write_text(grammar_case(spec), encoding="utf-8")
        cases.append(str(p))
    cases.append(str(TOOLDIR / "cases" / "sample.test.shape"))
    n_assertions = sum(1 for c in cases for ln in Path(c).read_text().split("\n") if re.match(r"#\s*[\^<]", ln))
    assert n_assertions > 100
    p = subprocess.run([tool, "-g", str(GRAMMAR), *cases], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "NO_COLOR": "1"})
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("run successfuly") == len(cases), p.stdout
