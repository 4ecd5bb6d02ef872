"""Determinism: the same input gives byte-identical output in separate processes
with different PYTHONHASHSEED values (lint text; verify output modulo timings)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ["tests/cases/blocks/transposition_bug.shape", "tests/cases/dims/head_split_needs_require.shape",
          "tests/cases/unknown/undecided_equality.shape", "tests/cases/ops/einsum_bad.shape",
          "tests/cases/repeat/nested_change.shape", "tests/cases/errors/syntax.shape"]
TIMING = re.compile(r"\(\d+\.\d+ s\)")


def _run(args, seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "shapecheck", *args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    return f"exit {p.returncode}\n{p.stdout}\n--stderr--\n{p.stderr}"


def test_lint_is_byte_identical_across_hash_seeds():
    args = ["lint", "specs", *GOLDEN]
    a, b = _run(args, "1"), _run(args, "2023")
    assert a == b
    assert "checked" in a


@pytest.mark.parametrize("spec", ["specs/transformer.shape", "tests/cases/blocks/cross_attention.shape",
                                  "tests/cases/ops/einsum.shape"])
def test_verify_is_identical_modulo_timings(spec):
    args = ["verify", spec, "--samples", "2", "--max-memory", "16MiB"]
    a, b = _run(args, "0"), _run(args, "31337")
    assert TIMING.sub("(T s)", a) == TIMING.sub("(T s)", b)
    assert "run" in a
