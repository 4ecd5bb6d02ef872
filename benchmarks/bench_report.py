"""Report time against lint time on deeply nested block calls (issue 15, item 7).

    python benchmarks/bench_report.py            # 12, 13 and 14 levels
    python benchmarks/bench_report.py 12 15      # chosen levels

The spec: block ``f0`` makes a few tensors; block ``fk`` calls ``f(k-1)``
twice; the model calls ``fN`` once, so the report lists about
``3 * 2**N`` rows (12 levels: 12,000+ nodes). Each figure is the median of
whole-process runs of ``shapecheck lint -q`` and ``shapecheck report`` (text
format, written to /dev/null), run alternately; the ratio is what the target
bounds (report <= 2x lint at 12,000+ nodes). Not part of the test run.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_perf import PY, timed_pair  # noqa: E402


def nested_spec(levels: int) -> str:
    """A spec whose block calls nest ``levels`` deep, each block calling the one below twice."""
    lines = ["dim batch = 2, seq = 8, d = 16", "",
             "block f0(x: [b, l, e]) -> [b, l, e] {",
             "    h = linear(x, e)",
             "    g = gelu(h)",
             "    return g + x",
             "}"]
    for k in range(1, levels + 1):
        lines += ["", f"block f{k}(x: [b, l, e]) -> [b, l, e] {{",
                  f"    y = f{k - 1}(x)",
                  f"    return f{k - 1}(y)",
                  "}"]
    lines += ["", "model deep {", "    input x: [batch, seq, d]", f"    y = f{levels}(x)", "    return y", "}"]
    return "\n".join(lines) + "\n"


def rows(path: str) -> int:
    from shapecheck.report import report_path

    return sum(len(m.rows) for m in report_path(path).models)


def main(argv) -> int:
    levels = [int(a) for a in argv] or [12, 13, 14]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, root)
    tmp = tempfile.mkdtemp()
    try:
        for n in levels:
            path = os.path.join(tmp, f"nested{n}.shape")
            with open(path, "w") as f:
                f.write(nested_spec(n))
            count = rows(path)
            report, lint = timed_pair([PY, "-m", "shapecheck", "report", path, "-o", os.devnull],
                                      [PY, "-m", "shapecheck", "lint", "-q", path], runs=3)
            print(f"{n} levels, {count:,} report rows: report {report:.2f}s / lint {lint:.2f}s = "
                  f"{report / lint:.2f}x  (target <= 2x at 12,000+ nodes)")
    finally:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
