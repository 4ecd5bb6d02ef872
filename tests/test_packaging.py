"""The wheel ships the grammar: a non-editable install finds it."""
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), ROOT],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{proc.stderr[-2000:]}")
    (whl,) = [p for p in os.listdir(out) if p.endswith(".whl")]
    return os.path.join(out, whl)


def test_wheel_contains_grammar(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "shapecheck/grammars/shape.lark" in names


def test_unpacked_wheel_parses_without_the_repository(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = ("import shapecheck, shapecheck.parse as p; "
            "assert p.grammar_path().startswith(%r), p.grammar_path(); "
            "r = shapecheck.check_source('dim a\\nmodel m { input x: [a]\\n return relu(x) }', 'm.shape'); "
            "print(r.ok)") % str(tmp_path / "site")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
