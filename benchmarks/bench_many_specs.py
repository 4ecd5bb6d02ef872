"""Benchmark: `shapecheck lint` over 200 specs (not part of the test run).

Generates 200 specs in a temporary folder, variants of specs/*.shape whose
models are renamed (``model gpt2`` -> ``model gpt2_v17``) so that every file
has distinct content (no cache hits), then times

- per file: checking each file on its own, in-process (median, p90, max);
- the command: one ``python -m shapecheck lint DIR`` process over all 200 files
  (wall time, interpreter start-up included), which is what a CI job or a
  pre-commit run pays;
- the same with 200 byte-identical copies (the per-run content cache).

Usage: python benchmarks/bench_many_specs.py [N]
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

_MODEL = re.compile(r"^(\s*model\s+)([A-Za-z_][A-Za-z0-9_]*)", re.M)


def generate(folder: str, n: int, identical: bool = False) -> list:
    specs = sorted(f for f in os.listdir(os.path.join(ROOT, "specs")) if f.endswith(".shape"))
    texts = {s: open(os.path.join(ROOT, "specs", s), encoding="utf-8").read() for s in specs}
    out = []
    for i in range(n):
        base = specs[i % len(specs)]
        text = texts[base] if identical else _MODEL.sub(lambda m: f"{m.group(1)}{m.group(2)}_v{i}", texts[base])
        sub = os.path.join(folder, f"group{i // 50}")
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, f"{base[:-6]}_v{i}.shape")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        out.append(path)
    return out


def time_cli(folder: str) -> tuple:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "shapecheck", "lint", folder], capture_output=True, text=True,
                       env=env)
    return time.perf_counter() - t0, p.returncode, p.stdout.strip().splitlines()[-1] if p.stdout else p.stderr


def main(n: int = 200) -> None:
    from shapecheck.cli.lint import check_files

    with tempfile.TemporaryDirectory() as tmp:
        varied = os.path.join(tmp, "varied")
        files = generate(varied, n)
        per_file = []
        for f in files:
            t0 = time.perf_counter()
            check_files([f])
            per_file.append(time.perf_counter() - t0)
        per_file.sort()
        total_cli, rc, summary = time_cli(varied)
        same = os.path.join(tmp, "identical")
        generate(same, n, identical=True)
        total_same, rc_same, summary_same = time_cli(same)

    print(f"{n} specs (variants of specs/*.shape, models renamed)")
    print(f"  per file (in-process): median {statistics.median(per_file) * 1000:.1f} ms, "
          f"p90 {per_file[int(0.9 * (len(per_file) - 1))] * 1000:.1f} ms, max {per_file[-1] * 1000:.1f} ms, "
          f"sum {sum(per_file):.2f} s")
    print(f"  `shapecheck lint DIR`: total {total_cli:.2f} s (exit {rc}; {summary})")
    print(f"  `shapecheck lint DIR` on {n} identical copies (content cache): total {total_same:.2f} s "
          f"(exit {rc_same}; {summary_same})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
