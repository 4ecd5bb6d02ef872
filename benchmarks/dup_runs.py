"""Count the runs of lines the two interpreters share (issue 10, item 3).

A *run* is a maximal sequence of at least ``--min`` (default 4) consecutive
non-blank lines that stands, identical after white space is folded, in both
files: line ``i..i+n`` of the first file equals line ``j..j+n`` of the second,
and the run cannot be extended either way. Blank lines are skipped (they do
not break a run); comments count as lines. Each maximal (i, j) diagonal is one
run, so a block of lines that the second file holds twice counts twice.

    python benchmarks/dup_runs.py                      # shapecheck/infer.py vs shapecheck/execute.py
    python benchmarks/dup_runs.py --min 3 -v           # shorter runs, and list them
    python benchmarks/dup_runs.py --rev main~5         # the two files as they were at a commit
    python benchmarks/dup_runs.py a.py b.py

Prints the number of runs and the lines they cover; ``-v`` lists each run
(first line numbers in each file, its length and its first line).
No dependency beyond the standard library.

The same two files through the ``duplicates`` command (same-shape runs too,
imports and comments skipped), at a revision REV:

    mkdir -p /tmp/dup && for f in infer execute; do git show REV:shapecheck/$f.py > /tmp/dup/$f.py; done
    duplicates --repo /tmp/dup --min-lines 4 --most 200     # the infer ~ execute row: "(+N more runs)"
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = ("shapecheck/infer.py", "shapecheck/execute.py")


def lines_of(text: str) -> list:
    """``(line number, folded text)`` of the non-blank lines."""
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        folded = " ".join(line.split())
        if folded:
            out.append((no, folded))
    return out


def runs(a: list, b: list, min_len: int = 4) -> list:
    """The maximal shared runs of at least ``min_len`` lines: ``(i, j, n)``,
    indices into ``a`` and ``b`` and the length.

    >>> a = lines_of("x\\n1\\n2\\n\\n3\\n4\\ny")
    >>> b = lines_of("1\\n2\\n3\\n4\\nz\\n1\\n2\\n3")
    >>> runs(a, b), runs(a, b, 3)
    ([(1, 0, 4)], [(1, 0, 4), (1, 5, 3)])
    """
    where: dict = {}
    for j, (_, t) in enumerate(b):
        where.setdefault(t, []).append(j)
    out = []
    for i, (_, t) in enumerate(a):
        for j in where.get(t, ()):
            if i and j and a[i - 1][1] == b[j - 1][1]:
                continue            # not the start of the run
            n = 0
            while i + n < len(a) and j + n < len(b) and a[i + n][1] == b[j + n][1]:
                n += 1
            if n >= min_len:
                out.append((i, j, n))
    return out


def read(path: str, rev) -> str:
    if rev is None:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            return f.read()
    return subprocess.run(["git", "-C", ROOT, "show", f"{rev}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help=f"two files (default: {' '.join(DEFAULT)})")
    ap.add_argument("--min", type=int, default=4, help="the fewest lines a run has (default 4)")
    ap.add_argument("--rev", help="read the files as they are at this git revision")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every run")
    args = ap.parse_args(argv)
    files = args.files or list(DEFAULT)
    if len(files) != 2:
        ap.error("give two files")
    a, b = (lines_of(read(f, args.rev)) for f in files)
    found = runs(a, b, args.min)
    if args.verbose:
        for i, j, n in found:
            print(f"  {files[0]}:{a[i][0]}  {files[1]}:{b[j][0]}  {n} lines  {a[i][1][:70]}")
    print(f"{len(found)} shared runs of >= {args.min} lines between {files[0]} and {files[1]} "
          f"({sum(n for _, _, n in found)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
