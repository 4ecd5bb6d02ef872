"""Issue 14, "a linter CI can trust": each numbered problem of the issue, at the command line.

1. every named path is accounted for (SC002 in every format, counted, exit 2);
2. strict suppressions (SC702);
3. `use` stays inside the project (SC004 at the `use`, nothing of the target printed);
4. options in any order, --exit-zero, --statistics, stdin, colour, exclude, config by location,
   `codes SC301`, SARIF fingerprints and help;
5. syntax errors that name the mistake (tests/test_syntax_errors.py);
6. and 8. the README's pre-commit and CI snippets (tests/test_precommit.py, tests/test_docs_snippets);
7. dependents re-checked; the result cache and parallel checking.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from shapecheck.cli import main

GOOD = """dim batch, d = 4
model m {
    input x: [batch, d]
    return linear(x, d)
}
"""
# line 4: SC301
BAD = """dim batch, d = 4
model m {
    input x: [batch, d]
    y = linear(x, 2 * d) : [batch, d]COMMENT
    return y
}
"""


def bad(comment=""):
    return BAD.replace("COMMENT", comment)


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def lint(capsys, *args):
    rc = main(["lint", "--no-cache", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def cli(*args, cwd, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "shapecheck", *args], capture_output=True, text=True,
                          cwd=str(cwd), input=stdin, timeout=300,
                          env={**os.environ, "PYTHONPATH": ROOT, **(env or {})})


# ---- 1. every named path is accounted for ------------------------------------------------------

def test_missing_path_is_a_finding_in_every_format(proj, capsys):
    (proj / "good").mkdir()
    (proj / "good" / "g.shape").write_text(GOOD)
    rc, out, _ = lint(capsys, "good", "nope.shape")
    assert rc == 2
    assert "nope.shape:1:1: SC002 error: cannot read nope.shape: no such file or directory" in out
    assert out.rstrip().endswith("1 file checked, 1 path without specs: 1 error, 0 warnings")

    rc, out, err = lint(capsys, "--format", "json", "good", "nope.shape")
    assert rc == 2
    assert [(f["path"], f["line"], f["col"], f["code"]) for f in json.loads(out)] == [("nope.shape", 1, 1, "SC002")]
    assert "1 error" in err

    rc, out, _ = lint(capsys, "--format", "github", "good", "nope.shape")
    assert rc == 2 and out.startswith("::error file=nope.shape,line=1,col=1,") and "title=SC002" in out

    rc, out, _ = lint(capsys, "--format", "sarif", "good", "nope.shape")
    assert rc == 2
    inv = json.loads(out)["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    (note,) = inv["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "SC002" and "nope.shape" in note["message"]["text"]
    assert [r["ruleId"] for r in json.loads(out)["runs"][0]["results"]] == ["SC002"]


def test_the_readme_sarif_step_cannot_upload_a_clean_log_for_a_typo(proj, capsys):
    rc, _, _ = lint(capsys, "--format", "sarif", "--output", "out.sarif", "spcs")
    log = json.loads((proj / "out.sarif").read_text())
    assert rc == 2 and log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert log["runs"][0]["results"][0]["ruleId"] == "SC002"


def test_a_folder_without_specs_is_a_finding(proj, capsys):
    (proj / "empty").mkdir()
    (proj / "empty" / "notes.txt").write_text("x")
    rc, out, _ = lint(capsys, "empty")
    assert rc == 2
    assert "empty:1:1: SC002 error: no spec files (*.shape) in folder empty" in out


def test_nul_and_bad_bytes_are_located_where_they_are(proj, capsys):
    (proj / "nul.shape").write_bytes(b"dim a\ndim b\ndim c\x00d\n")
    (proj / "latin.shape").write_bytes("dim é\n".encode() + b"dim caf\xe9 = 2\n")
    rc, out, _ = lint(capsys, "--format", "json", "nul.shape", "latin.shape")
    found = {(f["path"], f["line"], f["col"], f["code"]) for f in json.loads(out)}
    assert rc == 2
    assert found == {("nul.shape", 3, 6, "SC002"), ("latin.shape", 2, 8, "SC002")}
    messages = " ".join(f["message"] for f in json.loads(out))
    assert "NUL byte" in messages and "0xe9" in messages


def test_sc002_has_one_rendering_without_an_empty_source_line(proj, capsys):
    rc, out, _ = lint(capsys, "nope.shape")
    lines = out.splitlines()
    assert lines[0] == "nope.shape:1:1: SC002 error: cannot read nope.shape: no such file or directory"
    assert lines[1].startswith("0 files checked")       # no blank source line, no caret


# ---- 2. strict suppressions ----------------------------------------------------------------------

@pytest.mark.parametrize("comment", ["# shapecheck: ignore SC301", "# shapecheck: ignore-SC301",
                                     "# shapecheck: ignore (SC301)", "# shapecheck: ignore[SC301",
                                     "# shapecheck: ignore-next-line", "# shapecheck: ignroe"])
def test_a_malformed_suppression_silences_nothing(proj, capsys, comment):
    (proj / "a.shape").write_text(bad("  " + comment))
    rc, out, _ = lint(capsys, "--format", "json", "a.shape")
    found = [(f["line"], f["code"], f["severity"]) for f in json.loads(out)]
    assert rc == 1
    assert found == [(4, "SC301", "error"), (4, "SC702", "warning")]


def test_valid_suppressions_still_work(proj, capsys):
    for comment in ("# shapecheck: ignore[SC301]", "# shapecheck: ignore", "#shapecheck:ignore[sc301] # why"):
        (proj / "a.shape").write_text(bad("  " + comment))
        rc, out, _ = lint(capsys, "--format", "json", "a.shape")
        assert rc == 0 and json.loads(out) == [], comment


# ---- 3. `use` stays inside the project -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_use_of_a_file_outside_the_project_is_refused_and_never_printed(tmp_path, monkeypatch, capsys, fmt):
    secret = tmp_path / "secret.shape"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (proj / "m.shape").write_text('dim a\nuse "/etc/passwd"\nuse "../secret.shape"\nuse "notes.txt"\n')
    (proj / "notes.txt").write_text("root:x:0:0 private notes\n")
    monkeypatch.chdir(proj)
    rc, out, _ = lint(capsys, "--format", fmt, "m.shape")
    assert rc == 1
    assert "root:x" not in out and "private" not in out
    if fmt == "json":
        assert [(f["line"], f["code"]) for f in json.loads(out)] == [(2, "SC004"), (3, "SC004"), (4, "SC004")]
    if fmt == "text":
        assert "m.shape:3:1: SC004 error: `use \"../secret.shape\"` reaches outside the project root" in out


def test_a_symlink_out_of_the_project_is_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "outside.shape").write_text("dim leaked\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".git").mkdir()                       # the repository root is the project root
    os.symlink(tmp_path / "outside.shape", proj / "link.shape")
    (proj / "m.shape").write_text('use "link.shape"\ndim a\n')
    monkeypatch.chdir(proj)
    rc, out, _ = lint(capsys, "m.shape")
    assert rc == 1 and "m.shape:1:1: SC004" in out and "leaked" not in out


def test_project_root_option_widens_the_boundary(tmp_path, monkeypatch, capsys):
    (tmp_path / "sibling.shape").write_text("dim shared_d = 4\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "m.shape").write_text('use "../sibling.shape"\nmodel m {\n    input x: [shared_d]\n    return x\n}\n')
    monkeypatch.chdir(proj)
    (proj / "pyproject.toml").write_text("[tool.shapecheck]\n")
    assert lint(capsys, "m.shape")[0] == 1
    (proj / "pyproject.toml").write_text('[tool.shapecheck]\nproject-root = ".."\n')
    rc, out, _ = lint(capsys, "m.shape")
    assert rc == 0, out


def test_use_inside_the_project_still_works(proj, capsys):
    (proj / "lib").mkdir()
    (proj / "lib" / "dims.shape").write_text("dim batch, d = 4\n")
    (proj / "m.shape").write_text('use "lib/dims.shape"\nmodel m {\n    input x: [batch, d]\n    return x\n}\n')
    rc, out, _ = lint(capsys, "m.shape")
    assert rc == 0, out


# ---- 4. conventions from ruff and mypy -----------------------------------------------------------

def test_bind_before_spec_in_report_and_verify(proj):
    spec = os.path.join(ROOT, "specs", "gpt2.shape")
    p = cli("report", "--bind", "batch=2", spec, cwd=proj)
    assert p.returncode == 0, p.stderr
    assert "batch=2 (bind)" in p.stdout
    p = cli("verify", "--bind", "batch=2", "seq_len=3", spec, "--samples", "0", cwd=proj)
    assert p.returncode == 0, p.stdout + p.stderr
    p = cli("report", "--bind", "batch=2", cwd=proj)
    assert p.returncode == 2 and "SPEC file is missing" in p.stderr


def test_options_in_any_order(proj, capsys):
    (proj / "a.shape").write_text(bad())
    (proj / "g.shape").write_text(GOOD)
    rc, out, err = lint(capsys, "a.shape", "--format", "json", "g.shape", "--select", "SC3")
    assert rc == 1 and [f["code"] for f in json.loads(out)] == ["SC301"] and "2 files checked" in err
    p = cli("lint", "a.shape", "--frobnicate", "g.shape", cwd=proj)
    assert p.returncode == 2 and "unrecognized arguments: --frobnicate" in p.stderr


def test_exit_zero_and_statistics(proj, capsys):
    (proj / "a.shape").write_text(bad())
    (proj / "b.shape").write_text(bad("  # shapecheck: ignore SC301"))
    rc, out, _ = lint(capsys, "--exit-zero", "a.shape")
    assert rc == 0 and "SC301" in out
    rc, out, _ = lint(capsys, "--statistics", "a.shape", "b.shape")
    assert rc == 1
    assert out.splitlines()[:2] == ["2  SC301  error    annotation-mismatch",
                                    "1  SC702  warning  malformed-suppression"]
    assert lint(capsys, "--exit-zero", "missing.shape")[0] == 2    # a run failure still fails


def test_stdin_with_a_file_name(proj):
    (proj / "lib.shape").write_text("dim batch, d = 4\n")
    text = 'use "lib.shape"\nmodel m {\n    input x: [batch, d]\n    y = linear(x, 2 * d) : [batch, d]\n    return y\n}\n'
    p = cli("lint", "--stdin-filename", "edited.shape", "-", cwd=proj, stdin=text)
    assert p.returncode == 1, p.stderr
    assert p.stdout.startswith("edited.shape:4:") and "SC301" in p.stdout
    p = cli("lint", "-", cwd=proj, stdin="dim a\n")
    assert p.returncode == 0 and "1 file checked" in p.stdout


def test_colour_follows_no_color_and_force_color(proj):
    (proj / "a.shape").write_text(bad())
    plain = cli("lint", "a.shape", cwd=proj, env={"NO_COLOR": "", "FORCE_COLOR": ""})
    forced = cli("lint", "a.shape", cwd=proj, env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    off = cli("lint", "a.shape", cwd=proj, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\033[" not in plain.stdout and "\033[" not in off.stdout      # not a terminal / NO_COLOR wins
    assert "\033[1;31merror:" in forced.stdout
    assert cli("lint", "--color", "always", "a.shape", cwd=proj).stdout.count("\033[") > 3


def test_exclude_and_extend_exclude(proj, capsys):
    (proj / "pyproject.toml").write_text('[tool.shapecheck]\nextend-exclude = ["gen", "specs/old_*.shape"]\n')
    for rel in ("specs/a.shape", "specs/old_b.shape", "specs/gen/c.shape", ".hidden/d.shape"):
        (proj / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / rel).write_text(GOOD)
    rc, out, _ = lint(capsys, ".")
    assert rc == 0 and "1 file checked" in out
    (proj / "pyproject.toml").write_text('[tool.shapecheck]\nexclude = []\n')
    rc, out, _ = lint(capsys, ".")
    assert rc == 0 and "4 files checked" in out


def test_config_is_found_from_the_linted_files(tmp_path, monkeypatch, capsys):
    for name, sel in (("one", "SC5"), ("two", "SC3")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(f'[tool.shapecheck]\nselect = ["{sel}"]\n')
        (tmp_path / name / "a.shape").write_text(bad())
    monkeypatch.chdir(tmp_path)            # no configuration here
    rc, out, _ = lint(capsys, "--format", "json", "one", "two")
    assert [(f["path"], f["code"]) for f in json.loads(out)] == [(os.path.join("two", "a.shape"), "SC301")]
    assert rc == 1


def test_codes_explains_one_code(proj):
    p = cli("codes", "sc301", cwd=proj)
    assert p.returncode == 0
    assert p.stdout.startswith("SC301 annotation-mismatch (error by default)")
    assert "Fails:" in p.stdout and "Fixed:" in p.stdout and "docs/codes.md#sc301" in p.stdout
    assert cli("codes", "SC999", cwd=proj).returncode == 2


def test_sarif_fingerprints_are_stable_across_unrelated_edits(proj, capsys):
    (proj / "a.shape").write_text(bad())
    _, out, _ = lint(capsys, "--format", "sarif", "a.shape")
    before = json.loads(out)["runs"][0]["results"][0]
    (proj / "a.shape").write_text("# a comment\n\n" + bad())
    _, out, _ = lint(capsys, "--format", "sarif", "a.shape")
    after = json.loads(out)["runs"][0]["results"][0]
    assert before["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert before["partialFingerprints"] == after["partialFingerprints"]
    rule = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
    sc301 = [r for r in rule if r["id"] == "SC301"][0]
    assert sc301["helpUri"].endswith("docs/codes.md#sc301")
    assert "Fails:" in sc301["help"]["text"] and "```" in sc301["help"]["markdown"]


# ---- 7. dependents, cache, parallel --------------------------------------------------------------

def test_changing_a_used_file_rechecks_its_users(proj, capsys):
    (proj / "pyproject.toml").write_text('[tool.shapecheck]\npaths = ["specs"]\n')
    (proj / "specs").mkdir()
    (proj / "specs" / "dims.shape").write_text("dim batch, d = 4\n")
    (proj / "specs" / "user.shape").write_text(
        'use "dims.shape"\nmodel m {\n    input x: [batch, d]\n    return x\n}\n')
    (proj / "specs" / "other.shape").write_text(GOOD)
    rc, out, _ = lint(capsys, "specs/dims.shape")
    assert rc == 0 and "2 files checked" in out
    (proj / "specs" / "dims.shape").write_text("dim batch\n")          # `d` is gone: user.shape breaks
    rc, out, _ = lint(capsys, "specs/dims.shape")
    assert rc == 1 and "specs/user.shape:3:" in out and "SC101" in out


def _cache_files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_result_cache_hits_and_invalidates_on_the_use_closure(proj, capsys):
    (proj / "dims.shape").write_text("dim batch, d = 4\n")
    (proj / "m.shape").write_text('use "dims.shape"\nmodel m {\n    input x: [batch, d]\n'
                                  '    y = linear(x, 2 * d) : [batch, d]\n    return y\n}\n')
    first = main(["lint", "m.shape"]), capsys.readouterr().out
    cache = proj / ".shapecheck_cache"
    assert (cache / ".gitignore").read_text().strip().endswith("*")
    entries = [f for f in _cache_files(cache) if f.endswith(".json")]
    assert len(entries) == 1
    again = main(["lint", "m.shape"]), capsys.readouterr().out
    assert again == first and first[0] == 1
    (proj / "dims.shape").write_text("dim batch\n")          # a dependency changes: `d` is gone
    rc, out = main(["lint", "m.shape"]), capsys.readouterr().out
    assert rc == 1 and "m.shape:3:" in out and "SC101" in out and out != first[1]


def test_no_cache_writes_nothing(proj, capsys):
    (proj / "g.shape").write_text(GOOD)
    assert main(["lint", "--no-cache", "g.shape"]) == 0
    assert not (proj / ".shapecheck_cache").exists()


def test_a_cache_hit_imports_neither_sympy_nor_lark(proj):
    (proj / "a.shape").write_text(bad())
    code = ("import sys, shapecheck.cli as c; rc = c.main(['lint', 'a.shape']); "
            "print('sympy' in sys.modules, 'lark' in sys.modules, rc)")
    env = {**os.environ, "PYTHONPATH": ROOT}
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(proj), env=env)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(proj), env=env)
    assert cold.stdout.splitlines()[-1] == "True True 1", cold.stderr
    assert warm.stdout.splitlines()[-1] == "False False 1", warm.stderr
    assert warm.stdout.splitlines()[:-1] == cold.stdout.splitlines()[:-1]


def test_parallel_output_equals_serial_output(proj):
    for i in range(6):
        (proj / f"s{i}.shape").write_text(bad() if i % 2 else GOOD.replace("model m", f"model m{i}"))
    serial = cli("lint", "--no-cache", "-j", "1", ".", cwd=proj)
    parallel = cli("lint", "--no-cache", "-j", "3", ".", cwd=proj)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stdout == parallel.stdout and "6 files checked" in serial.stdout
