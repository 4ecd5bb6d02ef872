"""Benchmark: `shapecheck lint` at repository scale (issue 14; not part of the test run).

Prints, in one run:

- cold: 200 distinct generated specs (variants of specs/*.shape, models renamed)
  linted with an empty result cache and all cores (the default `-j`), against
  linting one spec the same way (target: at most 20x);
- warm: the same 200 again, unchanged (every file a cache hit), against
  `shapecheck --version` (target: at most 1.3x).

Every figure is the median wall time of whole `python -m shapecheck` processes
(interpreter start-up included), run from the generated folder.

Usage: python benchmarks/bench_lint_scale.py [N] [REPEATS]
"""
from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from bench_many_specs import generate  # noqa: E402


def timed(args, cwd, env) -> float:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "shapecheck", *args], cwd=cwd, env=env,
                       capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise SystemExit(f"shapecheck {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return elapsed


def main(n: int = 200, repeats: int = 3) -> None:
    compileall.compile_dir(os.path.join(ROOT, "shapecheck"), quiet=1)      # as an install does
    env = {**os.environ, "PYTHONPATH": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        generate(os.path.join(tmp, "specs"), n)
        one = os.path.join(tmp, "one")
        os.makedirs(one)
        shutil.copy(os.path.join(ROOT, "specs", "gpt2.shape"), os.path.join(one, "gpt2.shape"))
        cache = os.path.join(tmp, ".shapecheck_cache")
        single, cold, warm, version = [], [], [], []
        for _ in range(repeats):
            shutil.rmtree(cache, ignore_errors=True)
            single.append(timed(["lint", "one"], tmp, env))
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(timed(["lint", "specs"], tmp, env))
            for _ in range(2):                 # alternate the two commands of the warm ratio
                warm.append(timed(["lint", "specs"], tmp, env))
                version.append(timed(["--version"], tmp, env))
    med = statistics.median
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"lint at scale: {n} distinct specs, {cores} cores, median of {repeats} (warm: {2 * repeats}) runs")
    print(f"  one spec, cold:             {med(single) * 1000:8.1f} ms")
    print(f"  {n} specs, cold, -j {cores}:     {med(cold) * 1000:8.1f} ms   "
          f"ratio {med(cold) / med(single):5.1f}x one spec (target <= 20x)")
    print(f"  `shapecheck --version`:     {med(version) * 1000:8.1f} ms")
    print(f"  {n} specs, unchanged rerun: {med(warm) * 1000:8.1f} ms   "
          f"ratio {med(warm) / med(version):5.2f}x --version (target <= 1.3x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
