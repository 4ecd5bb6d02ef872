"""Regenerate the golden shape reports: ``python tests/regen_golden_reports.py``.

For every ``specs/<name>.shape`` it writes ``tests/golden_reports/<name>.json``
and ``<name>.md``: ``shapecheck report specs/<name>.shape --format json`` (and
``markdown``) at the spec's example values, with the path as seen from the
repository root. ``tests/test_report.py`` compares them byte for byte; review
the diff before committing regenerated files.
"""
from __future__ import annotations

import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden_reports")
FORMATS = {"json": "json", "md": "markdown"}


def specs() -> list:
    """Spec names (``gpt2``, ...) of every shipped ``specs/*.shape``, sorted."""
    return sorted(os.path.basename(p)[:-len(".shape")] for p in glob.glob(os.path.join(ROOT, "specs", "*.shape")))


def render(name: str, ext: str) -> str:
    """The golden text of spec ``name`` in format ``ext`` (``json`` or ``md``)."""
    sys.path.insert(0, ROOT)
    from shapecheck.api import check_path, read_text
    from shapecheck.report import build, render as render_report

    rel = f"specs/{name}.shape"
    res = check_path(rel, read=lambda p: read_text(os.path.join(ROOT, p)))
    return render_report(build(res), FORMATS[ext])


def main() -> int:
    os.makedirs(GOLDEN, exist_ok=True)
    wanted = set()
    for name in specs():
        for ext in FORMATS:
            path = os.path.join(GOLDEN, f"{name}.{ext}")
            wanted.add(path)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(render(name, ext))
            print(f"wrote {os.path.relpath(path, ROOT)}")
    for path in sorted(glob.glob(os.path.join(GOLDEN, "*"))):
        if path not in wanted and os.path.splitext(path)[1][1:] in FORMATS:
            os.remove(path)
            print(f"removed stale {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
