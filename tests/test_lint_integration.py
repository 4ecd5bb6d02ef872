"""`shapecheck lint` where users work: output formats, selection, configuration,
severity overrides, inline suppressions, --warnings-as-errors, exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from shapecheck.cli import main
from shapecheck.diagnostics import Diagnostic, Note
from shapecheck.output import escape_data, escape_property, format_github, sarif_log
from shapecheck.span import Span

#: the OASIS SARIF 2.1.0 schema, vendored (https://docs.oasis-open.org/sarif/sarif/v2.1.0/)
SARIF_SCHEMA = os.path.join(ROOT, "tests", "data", "sarif-schema-2.1.0.json")

# line 2: SC502 (warning, undecided), line 5: SC301 (error, refuted)
MIX = """dim batch, n, d
let tri = n * (n + 1) * (n + 2) / 6{c2}
model m {{
    input x: [batch, d]
    y = linear(x, 2 * d) : [batch, d]{c5}
    return y
}}
"""
GOOD = """dim batch, d = 4
model m {
    input x: [batch, d]
    return linear(x, d)
}
"""


def mix(c2="", c5=""):
    return MIX.format(c2=c2, c5=c5)


@pytest.fixture
def proj(tmp_path, monkeypatch):
    """An empty project folder as the current directory (no pyproject.toml above it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(capsys, *args):
    rc = main(["lint", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def findings(capsys, *args):
    rc, out, err = lint(capsys, "--format", "json", *args)
    return rc, [(f["line"], f["code"], f["severity"]) for f in json.loads(out)], err


# ---- formats -----------------------------------------------------------------------------------

def test_text_format_is_sorted_with_caret_and_summary(proj, capsys):
    (proj / "a.shape").write_text(mix())
    rc, out, _ = lint(capsys, "a.shape")
    assert rc == 1
    lines = out.splitlines()
    assert lines[0].startswith("a.shape:2:") and " SC502 warning: " in lines[0]
    assert any(line.startswith("a.shape:5:") and " SC301 error: " in line for line in lines)
    assert "^" in out and "  note: " in out
    assert lines[-1] == "1 file checked: 1 error, 1 warning"


def test_json_format_schema(proj, capsys):
    (proj / "a.shape").write_text(mix())
    rc, out, err = lint(capsys, "--format", "json", "a.shape")
    assert rc == 1
    data = json.loads(out)                      # stdout is pure JSON; the summary goes to stderr
    assert "1 file checked" in err
    assert [(f["line"], f["code"]) for f in data] == [(2, "SC502"), (5, "SC301")]
    for f in data:
        assert set(f) == {"path", "line", "col", "end_line", "end_col", "code", "severity", "message", "notes"}
        assert f["path"] == "a.shape"
        assert f["end_line"] >= f["line"] and isinstance(f["col"], int) and isinstance(f["end_col"], int)
        for n in f["notes"]:
            assert set(n) == {"path", "line", "col", "message"}
    sc301 = data[1]
    assert sc301["severity"] == "error" and "fails at" in sc301["message"]
    assert any(n["path"] == "a.shape" and n["line"] == 5 for n in sc301["notes"])
    assert any(n["path"] is None for n in sc301["notes"])     # a note without a location


def test_json_of_a_clean_run_is_an_empty_list(proj, capsys):
    (proj / "g.shape").write_text(GOOD)
    rc, out, _ = lint(capsys, "--format", "json", "g.shape")
    assert rc == 0 and json.loads(out) == []


def _sarif_validator():
    import jsonschema      # a test dependency (pyproject's `test` extra)
    with open(SARIF_SCHEMA, encoding="utf-8") as f:
        return jsonschema.Draft4Validator(json.load(f))


def test_sarif_validates_against_the_schema(proj, capsys):
    validator = _sarif_validator()
    (proj / "specs").mkdir()
    (proj / "specs" / "a b.shape").write_text(mix())
    rc, out, err = lint(capsys, "--format", "sarif", "specs")
    assert rc == 1 and "1 file checked" in err
    log = json.loads(out)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    from shapecheck.codes import CODES
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(CODES)
    for r in rules:
        assert {"id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration"} <= set(r)
        assert r["defaultConfiguration"]["level"] == CODES[r["id"]].severity
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("SC502", "warning"), ("SC301", "error")]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": "specs/a%20b.shape", "uriBaseId": "%SRCROOT%"}
        assert set(loc["region"]) == {"startLine", "startColumn", "endLine", "endColumn"}
    assert results[1]["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    related = results[1]["relatedLocations"]
    assert related and related[0]["physicalLocation"]["region"]["startLine"] == 5
    assert related[0]["message"]["text"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_sarif_library_output_validates_for_the_whole_corpus(capsys):
    """Every golden case's findings (all codes the checker emits) form a valid SARIF log."""
    validator = _sarif_validator()
    import shapecheck
    diags = []
    from pathlib import Path
    for p in sorted(Path(ROOT, "tests", "cases").rglob("*.shape")):
        diags += shapecheck.check_path(str(p)).diagnostics
    log = sarif_log(diags, base=ROOT)
    errors = list(validator.iter_errors(log))
    assert not errors, errors[0].message
    assert len(log["runs"][0]["results"]) == len(diags)
    outside = sarif_log([Diagnostic("SC101", Span("/elsewhere/x.shape", 1, 1, 1, 2), "m")], base=ROOT)
    loc = outside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc["uri"].startswith("file:///") and "uriBaseId" not in loc


def test_sarif_of_a_failed_run_validates(proj, capsys):
    """Missing paths, undecodable files and malformed suppressions: a valid log, invocation unsuccessful."""
    validator = _sarif_validator()
    (proj / "nul.shape").write_bytes(b"dim a\x00\n")
    (proj / "a.shape").write_text(mix(c5="  # shapecheck: ignore SC301"))
    rc, out, _ = lint(capsys, "--no-cache", "--format", "sarif", "a.shape", "nul.shape", "missing.shape")
    log = json.loads(out)
    errors = list(validator.iter_errors(log))
    assert rc == 2 and not errors, errors[0].message
    run = log["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert len(run["invocations"][0]["toolExecutionNotifications"]) == 2
    assert {r["ruleId"] for r in run["results"]} == {"SC002", "SC301", "SC502", "SC702"}
    assert all(set(r["partialFingerprints"]) == {"shapecheckFinding/v1"} for r in run["results"])


def test_github_format_one_annotation_per_finding(proj, capsys):
    (proj / "a.shape").write_text(mix())
    rc, out, _ = lint(capsys, "--format", "github", "a.shape")
    assert rc == 1
    cmds = [line for line in out.splitlines() if line.startswith("::")]
    assert len(cmds) == 2
    assert cmds[0].startswith("::warning file=a.shape,line=2,col=")
    assert cmds[1].startswith("::error file=a.shape,line=5,col=")
    assert ",endLine=5,endColumn=" in cmds[1] and ",title=SC301::" in cmds[1]
    assert "%0Anote: " in cmds[1]          # notes ride along in the message
    assert all("\n" not in c for c in cmds)


def test_github_escaping():
    assert escape_data("50% a\r\nb: c, d") == "50%25 a%0D%0Ab: c, d"
    assert escape_property("dir,x/a:b%\n.shape") == "dir%2Cx/a%3Ab%25%0A.shape"
    d = Diagnostic("SC301", Span("/r/we,ird:dir/100%.shape", 3, 2, 3, 9), "bad: 100%\nshape, really",
                   (Note(None, "why"),))
    line = format_github([d], base="/r")
    assert line == ("::error file=we%2Cird%3Adir/100%25.shape,line=3,col=2,endLine=3,endColumn=9,"
                    "title=SC301::bad: 100%25%0Ashape, really%0Anote: why")


def test_output_file(proj, capsys):
    (proj / "a.shape").write_text(mix())
    rc, out, err = lint(capsys, "--format", "json", "--output", "report.json", "a.shape")
    assert rc == 1 and out == "1 file checked: 1 error, 1 warning\n"     # the report went to the file
    assert [f["code"] for f in json.loads((proj / "report.json").read_text())] == ["SC502", "SC301"]
    rc, out, _ = lint(capsys, "--output", "report.txt", "a.shape")
    assert "SC301" in (proj / "report.txt").read_text() and "1 file checked" in out
    rc, _, err = lint(capsys, "--output", str(proj / "no" / "such" / "dir.txt"), "a.shape")
    assert rc == 2 and "cannot write" in err


# ---- selection ---------------------------------------------------------------------------------

def test_select_and_ignore(proj, capsys):
    (proj / "a.shape").write_text(mix())
    assert findings(capsys, "--select", "SC5", "a.shape")[:2] == (0, [(2, "SC502", "warning")])
    assert findings(capsys, "--select", "SC301", "a.shape")[:2] == (1, [(5, "SC301", "error")])
    assert findings(capsys, "--select", "SC301,SC502", "a.shape")[1] == [(2, "SC502", "warning"),
                                                                          (5, "SC301", "error")]
    assert findings(capsys, "--ignore", "SC3", "a.shape")[:2] == (0, [(2, "SC502", "warning")])
    assert findings(capsys, "--ignore", "SC301", "--ignore", "SC502", "a.shape")[:2] == (0, [])
    assert findings(capsys, "--select", "SC3,SC5", "--ignore", "SC502", "a.shape")[1] == [(5, "SC301", "error")]


def test_unknown_code_in_select_is_a_usage_error(proj, capsys):
    (proj / "a.shape").write_text(mix())
    rc, _, err = lint(capsys, "--select", "SC999", "a.shape")
    assert rc == 2 and "SC999" in err


def test_warnings_as_errors(proj, capsys):
    (proj / "a.shape").write_text(mix(c5="  # shapecheck: ignore[SC301]"))
    assert findings(capsys, "a.shape")[:2] == (0, [(2, "SC502", "warning")])
    assert findings(capsys, "--warnings-as-errors", "a.shape")[:2] == (1, [(2, "SC502", "error")])


# ---- configuration -----------------------------------------------------------------------------

def write_config(folder, body):
    (folder / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.shapecheck]\n' + body)


def test_config_is_found_upward_and_paths_are_the_default_targets(proj, capsys, monkeypatch):
    (proj / "specs").mkdir()
    (proj / "specs" / "a.shape").write_text(mix())
    (proj / "other").mkdir()
    (proj / "other" / "b.shape").write_text(mix())
    write_config(proj, 'paths = ["specs"]\nignore = ["SC502"]\n')
    sub = proj / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    rc, out, _ = lint(capsys)
    assert rc == 1
    assert out.splitlines()[0].startswith(os.path.join("..", "..", "specs", "a.shape") + ":5:")
    assert "SC502" not in out and "1 file checked" in out
    # explicit paths win over `paths`; the rest of the configuration still applies
    rc, out, _ = lint(capsys, str(proj / "other"))
    assert rc == 1 and "b.shape" in out and "SC502" not in out
    # --no-config: no defaults
    rc, _, err = lint(capsys, "--no-config")
    assert rc == 2 and "no PATH" in err


def test_a_pyproject_without_the_table_is_skipped(proj, capsys, monkeypatch):
    write_config(proj, 'ignore = ["SC5"]\n')
    inner = proj / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    (inner / "a.shape").write_text(mix())
    monkeypatch.chdir(inner)
    assert findings(capsys, "a.shape")[1] == [(5, "SC301", "error")]


def test_cli_select_replaces_and_ignore_extends_the_config(proj, capsys):
    write_config(proj, 'select = ["SC3"]\nignore = ["SC301"]\n')
    (proj / "a.shape").write_text(mix())
    assert findings(capsys, "a.shape")[:2] == (0, [])
    assert findings(capsys, "--select", "SC5", "a.shape")[:2] == (0, [(2, "SC502", "warning")])
    assert findings(capsys, "--select", "ALL", "--ignore", "SC502", "a.shape")[:2] == (0, [])


def test_severity_overrides(proj, capsys):
    (proj / "a.shape").write_text(mix())
    write_config(proj, 'severity = { SC502 = "error", SC301 = "warning" }\n')
    assert findings(capsys, "a.shape")[:2] == (1, [(2, "SC502", "error"), (5, "SC301", "warning")])
    write_config(proj, 'severity = { SC301 = "warning" }\n')
    assert findings(capsys, "a.shape")[:2] == (0, [(2, "SC502", "warning"), (5, "SC301", "warning")])
    write_config(proj, 'severity = { SC3 = "off", SC5 = "error", SC502 = "warning" }\n')  # longest match wins
    assert findings(capsys, "a.shape")[:2] == (0, [(2, "SC502", "warning")])
    write_config(proj, 'severity = { SC301 = "off" }\nwarnings-as-errors = true\n')
    assert findings(capsys, "a.shape")[:2] == (1, [(2, "SC502", "error")])


def test_severity_reaches_sarif_and_github(proj, capsys):
    (proj / "a.shape").write_text(mix())
    write_config(proj, 'severity = { SC502 = "error" }\n')
    rc, out, _ = lint(capsys, "--format", "sarif", "a.shape")
    res = json.loads(out)["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in res] == [("SC502", "error"), ("SC301", "error")]
    rc, out, _ = lint(capsys, "--format", "github", "a.shape")
    assert out.startswith("::error file=a.shape,line=2,")


@pytest.mark.parametrize("body,fragment", [
    ('ignore = ["SC999"]\n', "SC999"),
    ('severity = { SC301 = "fatal" }\n', "severity.SC301"),
    ('warnings_as_errors = true\n', "warnings-as-errors"),
    ('colour = "red"\n', "unknown key `colour`"),
    ('bind = { batch = 0 }\n', "bind.batch"),
    ('paths = "specs\n', "invalid TOML"),
])
def test_invalid_config_exits_2(proj, capsys, body, fragment):
    write_config(proj, body)
    (proj / "a.shape").write_text(GOOD)
    rc, out, err = lint(capsys, "a.shape")
    assert rc == 2, out + err
    assert fragment in err and "pyproject.toml" in err


def test_bind_is_stored_and_feeds_verify(proj, capsys):
    from shapecheck.config import load_config

    write_config(proj, 'bind = { batch = 3, not_in_this_spec = 5 }\n')
    assert load_config().bind == {"batch": 3, "not_in_this_spec": 5}
    (proj / "g.shape").write_text(GOOD)
    rc = main(["verify", "g.shape", "--samples", "0"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "batch=3" in out
    rc = main(["verify", "g.shape", "--samples", "0", "--bind", "batch=5"])    # --bind wins
    out = capsys.readouterr().out
    assert rc == 0 and "batch=5" in out and "batch=3" not in out


# ---- suppressions ------------------------------------------------------------------------------

def test_suppression_of_one_code(proj, capsys):
    (proj / "a.shape").write_text(mix(c5="  # shapecheck: ignore[SC301]"))
    rc, out, _ = lint(capsys, "a.shape")
    assert rc == 0 and "SC301" not in out and "SC502" in out
    assert "(1 suppressed)" in out


def test_suppression_of_several_codes_and_bare(proj, capsys):
    (proj / "a.shape").write_text(mix(c2="   # shapecheck: ignore", c5="  # shapecheck: ignore[SC301, SC502]"))
    rc, found, _ = findings(capsys, "a.shape")
    # SC502 in line 5's comment suppresses nothing there: reported as SC701 (a warning)
    assert rc == 0 and found == [(5, "SC701", "warning")]
    rc, out, _ = lint(capsys, "a.shape")
    assert "`SC502` in this suppression suppresses nothing" in out


def test_suppression_on_another_line_or_code_does_not_apply(proj, capsys):
    (proj / "a.shape").write_text(mix(c2="  # shapecheck: ignore[SC301]"))
    rc, found, _ = findings(capsys, "a.shape")
    assert rc == 1
    assert found == [(2, "SC502", "warning"), (2, "SC701", "warning"), (5, "SC301", "error")]


def test_unused_suppressions(proj, capsys):
    (proj / "g.shape").write_text(GOOD.replace("return linear(x, d)",
                                               "return linear(x, d)   # shapecheck: ignore"))
    rc, found, _ = findings(capsys, "g.shape")
    assert rc == 0 and found == [(4, "SC701", "warning")]
    assert findings(capsys, "--warnings-as-errors", "g.shape")[0] == 1
    assert findings(capsys, "--ignore", "SC701", "g.shape")[1] == []
    (proj / "g.shape").write_text(GOOD.replace("dim batch, d = 4", "dim batch, d = 4  # shapecheck: ignore[SC123]"))
    rc, out, _ = lint(capsys, "g.shape")
    assert "SC701" in out and "`SC123` in this suppression is not a diagnostic code" in out


def test_suppression_inside_a_string_is_not_a_comment():
    from shapecheck.suppress import parse_suppressions

    text = ('y = rearrange(x, "# shapecheck: ignore[SC301]")\n'
            'z = rearrange(x, "a \\" # b")   # shapecheck:ignore[sc306]  # more words\n')
    found = [(s.span.line, s.span.col, s.codes) for s in parse_suppressions(text, "f.shape")]
    assert found == [(2, 32, ("SC306",))]


def test_unused_suppression_not_reported_when_the_file_does_not_parse(proj, capsys):
    (proj / "s.shape").write_text("dim a   # shapecheck: ignore[SC301]\nmodel m {\n    x = linear(a, \n}\n")
    rc, found, _ = findings(capsys, "s.shape")
    assert [c for _, c, _ in found] == ["SC001"]


# ---- many files, exit codes ----------------------------------------------------------------------

def test_identical_files_are_checked_once_and_reported_at_their_own_paths(proj, capsys, monkeypatch):
    import shapecheck.api as api

    for name in ("a.shape", "b.shape", "c.shape"):
        (proj / name).write_text(mix())
    calls = []
    real = api.check_path
    monkeypatch.setattr(api, "check_path", lambda path, **kw: calls.append(path) or real(path, **kw))
    rc, found, err = findings(capsys, "--select", "SC301", ".")
    assert rc == 1 and len(calls) == 1 and "3 files checked" in err
    rc, out, _ = lint(capsys, "--select", "SC301", ".")
    for name in ("a.shape", "b.shape", "c.shape"):
        assert f"{name}:5:" in out
        assert f"note: {os.path.join('.', name)}:5:" in out or f"note: {name}:5:" in out


def test_the_same_file_twice_is_checked_once(proj, capsys):
    (proj / "a.shape").write_text(mix())
    rc, found, err = findings(capsys, "a.shape", "./a.shape", ".")
    assert "1 file checked" in err and len(found) == 2


def test_exit_codes(proj, capsys):
    (proj / "g.shape").write_text(GOOD)
    (proj / "w.shape").write_text(mix(c5="  # shapecheck: ignore[SC301]"))
    assert lint(capsys, "g.shape")[0] == 0
    assert lint(capsys, "w.shape")[0] == 0                    # warnings only
    assert lint(capsys, "--warnings-as-errors", "w.shape")[0] == 1
    assert lint(capsys, "missing.shape")[0] == 2
    (proj / "bin.shape").write_bytes(b"\x00\x01")
    assert lint(capsys, "--ignore", "SC002", "bin.shape")[0] == 2    # a run failure is never filtered


def test_bad_format_is_a_usage_error(proj):
    p = subprocess.run([sys.executable, "-m", "shapecheck", "lint", "--format", "xml", "x.shape"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT}, cwd=str(proj))
    assert p.returncode == 2 and "--format" in p.stderr


def test_machine_formats_do_not_import_numpy(proj):
    (proj / "a.shape").write_text(mix())
    code = ("import sys, shapecheck.cli as c\n"
            "for f in ('json', 'sarif', 'github'):\n"
            "    c.main(['lint', '--format', f, '-o', 'out.' + f, 'a.shape'])\n"
            "print('numpy' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(proj),
                       env={**os.environ, "PYTHONPATH": ROOT})
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "False"
