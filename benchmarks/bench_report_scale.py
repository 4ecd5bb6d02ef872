"""`report` against `lint` on nested block calls (issue 10 and issue 15: linear report).

The spec: a block calling the block below it twice, ``--levels`` deep, so the
model instantiates about ``3 * 2**levels`` named tensors (12 levels: 12,288).
Both commands run through the CLI in a fresh interpreter, alternately, and the
best of ``--repeat`` runs counts. Prints the node count, both times and the
ratio (target: report at most 2x lint at 12,000+ nodes).

    python benchmarks/bench_report_scale.py                  # levels 10 and 12
    python benchmarks/bench_report_scale.py --levels 12 13 14 --repeat 3
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def nested_spec(levels: int) -> str:
    """A model over ``levels`` blocks, each calling the one below it twice."""
    out = ["dim batch = 2, d = 8", "block b0(x: [batch, d]) -> [batch, d] {", "    h = linear(x, d)",
           "    return h", "}"]
    for i in range(1, levels + 1):
        out += [f"block b{i}(x: [batch, d]) -> [batch, d] {{", f"    y = b{i - 1}(x)", f"    z = b{i - 1}(y)",
                "    return z", "}"]
    out += ["model m {", "    input x: [batch, d]", f"    y = b{levels}(x)", "    return y", "}"]
    return "\n".join(out) + "\n"


def node_count(levels: int) -> int:
    """Named tensors the model instantiates: 1 at level 0, 2 * n + 2 per level, + input and output."""
    n = 1
    for _ in range(levels):
        n = 2 * n + 2
    return n + 2


def timed(args) -> float:
    env = {**os.environ, "PYTHONPATH": ROOT}
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "shapecheck", *args], env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise SystemExit(f"shapecheck {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return secs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[10, 12])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    print(f"{'levels':>6} {'nodes':>8} {'lint s':>8} {'report s':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for levels in args.levels:
            path = os.path.join(tmp, f"nested{levels}.shape")
            with open(path, "w", encoding="utf-8") as f:
                f.write(nested_spec(levels))
            lint, report = [], []
            for _ in range(args.repeat):          # alternate, so load changes hit both alike
                lint.append(timed(["lint", "--no-cache", path]))   # the analysis, not the result cache
                report.append(timed(["report", path]))
            best_l, best_r = min(lint), min(report)
            print(f"{levels:>6} {node_count(levels):>8,} {best_l:>8.2f} {best_r:>9.2f} {best_r / best_l:>6.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
