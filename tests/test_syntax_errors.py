"""Syntax errors name the mistake at its own position (issue 14, problem 5)."""
import json

import pytest

from shapecheck.cli import main


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def first_finding(proj, capsys, text):
    (proj / "s.shape").write_text(text)
    rc = main(["lint", "--no-cache", "--format", "json", "s.shape"])
    out, _ = capsys.readouterr()
    f = json.loads(out)[0]
    return rc, (f["line"], f["col"], f["code"]), f["message"]


def test_misspelled_dtype_is_named_where_it_is(proj, capsys):
    rc, where, msg = first_finding(proj, capsys, "dim b, l, d\nmodel m {\n    input x: [b, l, d] flaot\n"
                                                 "    return x\n}\n")
    assert rc == 1 and where == (3, 24, "SC001")
    assert "'flaot'" in msg and "did you mean 'float'" in msg


@pytest.mark.parametrize("text, where", [("dim b\nreqire b > 1\n", (2, 1)),
                                         ("dim b\nmodel m {\n    input x: [b]\n    reqire b > 1\n"
                                          "    return x\n}\n", (4, 5))])
def test_misspelled_keyword_gets_a_suggestion(proj, capsys, text, where):
    rc, found, msg = first_finding(proj, capsys, text)
    assert found == (*where, "SC001") and "did you mean 'require'?" in msg
    assert "$END" not in msg


def test_no_parser_token_names_leak(proj, capsys):
    for text in ("dim b\nmodel m {\n  input x: [b]\n", "dim b\nmodel m {\n  x = (\n}\n", "dim a b\n",
                 "model m { input x: [a] return x } }\n", "dim a\nlet = 3\n"):
        _, _, msg = first_finding(proj, capsys, text)
        for leak in ("$END", "__ANON", "RSQB", "LPAR", "COMMA", "NAME", "_NL"):
            assert leak not in msg, (text, msg)
    _, where, msg = first_finding(proj, capsys, "dim b\nmodel m {\n  input x: [b]\n")
    assert msg.startswith("unexpected end of file")


def test_a_wrong_keyword_of_a_block_call_lists_the_parameters(proj, capsys):
    rc, where, msg = first_finding(proj, capsys, "dim b, d\nblock f(x: [b, d], n: dim) -> [b, d] {\n"
                                                 "    return x\n}\nmodel m {\n    input x: [b, d]\n"
                                                 "    return f(x, nn=2)\n}\n")
    assert where[:2] == (7, 17) and where[2] == "SC105"
    assert "`nn`" in msg and "did you mean `n`?" in msg and "(parameters: x, n)" in msg


def test_an_unknown_rearrange_keyword_is_named(proj, capsys):
    rc, where, msg = first_finding(proj, capsys, 'dim b, l, d = 8, heads = 2\nmodel m {\n    input x: [b, l, d]\n'
                                                 '    return rearrange(x, "b l (h k) -> b h l k", hh=heads)\n}\n')
    assert where[2] == "SC306" and "keyword 'hh' names no axis" in msg and "did you mean 'h'?" in msg
