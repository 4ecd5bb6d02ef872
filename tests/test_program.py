"""One loader and one Program: `use` resolved per file and by real path, one parse per file,
declarations solved as a set whatever the order of files and statements."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from shapecheck import api, execute as X, program as P
from shapecheck.diagnostics import Reporter

CASES = os.path.join(ROOT, "tests", "cases")


def lint(*args, cwd):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "shapecheck", "lint", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_use_diamond_from_its_own_folder_is_one_file():
    # right.shape spells base.shape "../use_diamond/base.shape": from inside the folder that used to be
    # a second file, and every declaration of base.shape was "defined twice" (SC102)
    p = lint("top.shape", cwd=os.path.join(CASES, "use_diamond"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SC102" not in p.stdout and "0 errors" in p.stdout


def test_use_diamond_program_loads_base_once():
    here = os.path.join(CASES, "use_diamond")
    old = os.getcwd()
    os.chdir(here)
    try:
        r = Reporter()
        prog = P.load_program("top.shape", r)
    finally:
        os.chdir(old)
    assert r.diagnostics == []
    assert [os.path.basename(m.path) for m in prog.modules] == ["base.shape", "left.shape", "right.shape",
                                                                 "top.shape"]
    assert prog.uses["top.shape"] == ("left.shape", "right.shape")
    assert prog.uses["right.shape"] == ("base.shape",)      # the first spelling of the one file
    assert set(prog.lets) == {"head_dim", "two_heads", "quarter"}


@pytest.mark.parametrize("order", [("lib_lets.shape", "uses_lib_lets.shape"),
                                   ("uses_lib_lets.shape", "lib_lets.shape")])
def test_lets_of_used_files_whatever_the_command_line_order(order):
    p = lint(*order, cwd=os.path.join(CASES, "declarations"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "2 files checked: 0 errors, 0 warnings" in p.stdout


def test_verify_parses_each_file_once(tmp_path, monkeypatch):
    from shapecheck import parse as parse_mod, verify as V

    (tmp_path / "lib.shape").write_text("dim d = 4\nlet h = d / 2\nrequire d % 2 == 0\n")
    (tmp_path / "m.shape").write_text('use "lib.shape"\ndim b = 2\nmodel m {\n    input x: [b, d]\n'
                                      '    y = linear(x, h)\n    return y\n}\n')
    calls = []
    real = parse_mod.parse

    def counting(text, path):
        calls.append(os.path.basename(path))
        return real(text, path)
    monkeypatch.setattr(parse_mod, "parse", counting)
    rep = V.verify(str(tmp_path / "m.shape"), samples=1)
    assert rep.ok and rep.runs, rep.diagnostics
    assert sorted(calls) == ["lib.shape", "m.shape"]


def test_numeric_run_takes_block_lets_in_any_order():
    prog = X.program_from_source("dim b, e\nblock rope(x: [b, e]) {\n    let q = p / 2\n    let p = e / 4\n"
                                 "    y = reshape(x, [b, 4, q, 2])\n    return y\n}\n"
                                 "model m {\n    input x: [b, e]\n    y = rope(x)\n    return y\n}\n", "t.shape")
    ex = X.run(prog, "m", {"b": 2, "e": 16})
    assert ex.outputs == ((2, 4, 2, 2),)


def test_check_result_carries_the_program():
    res = api.check_path(os.path.join(CASES, "declarations", "rope_top.shape"))
    assert res.ok and res.program is not None and res.program.module is res.module
    assert list(res.program.lets) == ["dh", "half"]
    assert str(res.scope.lets["half"][0]) == "d/(2*h)"
