"""The `shapecheck` command: output format, exit codes, and no NumPy on the lint path."""
import os
import subprocess
import sys

from conftest import ROOT

GOOD = """dim batch, d = 4
model m {
    input x: [batch, d]
    return linear(x, d)
}
"""
BAD = """dim batch, d = 4
model m {
    input x: [batch, d]
    y = linear(x, 2 * d) : [batch, d]
    return y
}
"""


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "shapecheck", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_clean_file_exits_0(tmp_path):
    (tmp_path / "good.shape").write_text(GOOD)
    p = run("lint", str(tmp_path / "good.shape"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 errors" in p.stdout


def test_error_exits_1_with_located_caret(tmp_path):
    (tmp_path / "bad.shape").write_text(BAD)
    p = run("lint", "bad.shape", cwd=str(tmp_path))
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert lines[0].startswith("bad.shape:4:")
    assert " SC301 error: " in lines[0]
    assert "[batch, 2*d]" in lines[0] and "[batch, d]" in lines[0]
    assert lines[1].strip().startswith("y = linear")
    assert set(lines[2].strip()) == {"^"}


def test_folder_is_walked(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.shape").write_text(GOOD)
    (tmp_path / "bad.shape").write_text(BAD)
    (tmp_path / "notes.txt").write_text("not a spec")
    p = run("lint", str(tmp_path))
    assert p.returncode == 1
    assert "2 files checked" in p.stdout


def test_missing_file_exits_2(tmp_path):
    p = run("lint", str(tmp_path / "nope.shape"))
    assert p.returncode == 2
    assert "nope.shape:1:1: SC002 error: " in p.stdout


def test_binary_and_non_utf8_files_exit_2(tmp_path):
    (tmp_path / "bin.shape").write_bytes(b"\x00\x01\x02dim a")
    (tmp_path / "latin.shape").write_bytes(b"dim caf\xe9")
    for name in ("bin.shape", "latin.shape"):
        p = run("lint", str(tmp_path / name))
        assert p.returncode == 2, p.stdout
        assert "SC002" in p.stdout and "Traceback" not in p.stdout + p.stderr


def test_syntax_error_lists_expected_tokens(tmp_path):
    (tmp_path / "syn.shape").write_text("dim a\nmodel m {\n    x = linear(a, \n}\n")
    p = run("lint", str(tmp_path / "syn.shape"))
    assert p.returncode == 1
    first = p.stdout.splitlines()[0]
    assert ":4:1: SC001 error: unexpected '}': expected" in first
    assert "a name" in first


def test_usage_error_exits_2():
    p = run("frobnicate")
    assert p.returncode == 2


def test_codes_command_lists_registry():
    p = run("codes")
    assert p.returncode == 0
    assert "SC301" in p.stdout and "SC501" in p.stdout


def test_lint_does_not_import_numpy(tmp_path):
    (tmp_path / "good.shape").write_text(GOOD)
    code = ("import sys, shapecheck.cli as c; rc = c.main(['lint', %r]); "
            "print('numpy' in sys.modules); sys.exit(rc)") % str(tmp_path / "good.shape")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": ROOT})
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "False"
