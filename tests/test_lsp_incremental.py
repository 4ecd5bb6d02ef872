"""The language server's incremental path: parsing only what changed gives
exactly the IR and findings of a whole-file check; unchanged specs and `use`
closures are not checked again."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from shapecheck import parse as P
from shapecheck.api import check_source
from shapecheck.lower import LimitError, lower
from shapecheck.lsp.analysis import Workspace, chunks

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.shape")) + sorted((ROOT / "tests" / "cases").rglob("*.shape"))
GPT2 = ROOT / "specs" / "gpt2.shape"


def _key(diags, path):
    return [(d.code, d.span, d.message) for d in diags if d.span.file == path]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_piecewise_parse_equals_whole_file(spec: Path):
    path = str(spec)
    text = spec.read_text(encoding="utf-8")
    ws = Workspace()
    ws.open(path, text)
    a = ws.analyse(path)
    tree, diag = P.parse(text, path)
    if diag is None:
        try:
            whole = lower(tree, path)
        except LimitError:
            whole = None
        if whole is not None:
            assert a.module == whole
    # the same findings as the library's whole-file check
    assert _key(a.result.diagnostics, path) == _key(check_source(text, path).diagnostics, path)


def test_chunks_cut_before_top_level_keywords_only():
    text = "# head\ndim a\nblock f(x: [n]) -> [n] {\nlet m = n\n    return x\n}\nmodel m {\n}\n"
    assert [(line, t.split("\n")[0]) for line, t in chunks(text)] == [
        (1, "# head"), (2, "dim a"), (3, "block f(x: [n]) -> [n] {"), (4, "let m = n"), (7, "model m {")]
    assert "".join(t for _, t in chunks(text)) == text


def test_an_edit_in_one_block_parses_only_that_block(tmp_path, monkeypatch):
    path = str(tmp_path / "gpt2.shape")
    text = GPT2.read_text()
    ws = Workspace()
    ws.open(path, text)
    assert ws.analyse(path).diagnostics == []
    calls = []
    real = P.parse
    monkeypatch.setattr(P, "parse", lambda t, p: calls.append(t) or real(t, p))
    edited = text.replace("return linear(gelu(linear(x, 4 * d)), d)", "return linear(gelu(linear(x, 4 * d)), 2 * d)")
    ws.open(path, edited)
    a = ws.analyse(path)
    assert len(calls) == 1 and "block mlp" in calls[0]
    assert [d.code for d in a.diagnostics] == ["SC403"]
    assert _key(a.result.diagnostics, path) == _key(check_source(edited, path).diagnostics, path)


def test_a_syntax_error_reads_as_in_lint(tmp_path):
    path = str(tmp_path / "g.shape")
    text = GPT2.read_text()
    ws = Workspace()
    ws.open(path, text)
    ws.analyse(path)
    broken = text.replace("block mlp(x: [b, l, d]) -> [b, l, d] {", "block mlp(x: [b, l, d]) -> [b, l, d]")
    ws.open(path, broken)
    a = ws.analyse(path)
    assert [d.code for d in a.diagnostics] == ["SC001"]
    assert _key(a.result.diagnostics, path) == _key(check_source(broken, path).diagnostics, path)


def test_unchanged_specs_and_closures_are_not_checked_again(tmp_path):
    (tmp_path / "lib.shape").write_text("dim d = 8\n")
    main = str(tmp_path / "main.shape")
    Path(main).write_text('use "lib.shape"\ndim batch\nmodel m {\n    input x: [batch, d]\n    return x\n}\n')
    ws = Workspace()
    assert ws.analyse(main).diagnostics == []
    assert ws.analyse(main).diagnostics == []
    assert ws.stats == {"checks": 1, "reused": 1}
    assert ws.dependents(str(tmp_path / "lib.shape")) == [os.path.normpath(main)]
    ws.open(str(tmp_path / "lib.shape"), "dim e = 8\n")        # the used file's buffer changes
    assert [d.code for d in ws.analyse(main).diagnostics] == ["SC101"]
    assert ws.stats["checks"] == 2
    ws.close(str(tmp_path / "lib.shape"))                        # back to the disk's text
    assert ws.analyse(main).diagnostics == []


def test_a_missing_use_target_is_rechecked_when_it_appears(tmp_path):
    main = str(tmp_path / "main.shape")
    Path(main).write_text('use "lib.shape"\nmodel m {\n    input x: [d]\n    return x\n}\n')
    ws = Workspace()
    assert "SC004" in [d.code for d in ws.analyse(main).diagnostics]
    (tmp_path / "lib.shape").write_text("dim d = 8\n")
    assert ws.analyse(main).diagnostics == []
