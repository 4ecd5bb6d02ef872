"""`shapecheck lint PATH...`: check spec files and folders."""
from __future__ import annotations

import sys

from . import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


def add_parser(sub) -> None:
    p = sub.add_parser("lint", help="check spec files and folders; report located diagnostics")
    p.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders (*.shape)")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary line")


def run(args) -> int:
    from ..api import Loader, check_path, spec_files
    from ..diagnostics import format_text

    files, missing = spec_files(args.paths)
    status = EXIT_OK
    for m in missing:
        print(f"{m}: SC002 error: no such file or directory", file=sys.stderr)
        status = EXIT_USAGE
    if not files and not missing:
        print("shapecheck: no spec files (*.shape) found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_USAGE
    n_err = n_warn = 0
    loader = Loader()          # each file read and parsed once per run, `use`d ones included
    seen = set()               # a diagnostic in a shared `use`d file is printed once
    for f in files:
        res = check_path(f, loader=loader)
        diags = [d for d in res.diagnostics if (d.code, d.span, d.message) not in seen]
        seen.update((d.code, d.span, d.message) for d in diags)
        if diags:
            print(format_text(diags, res.sources))
        for d in diags:
            if d.code in ("SC002", "SC003"):
                status = EXIT_USAGE
            if d.is_error:
                n_err += 1
            else:
                n_warn += 1
    if status == EXIT_OK and n_err:
        status = EXIT_FINDINGS
    if not args.quiet:
        print(f"{len(files)} file{'s' if len(files) != 1 else ''} checked: "
              f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}",
              )
    return status
