"""The command line: a thin layer over :mod:`shapecheck.api`."""
from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shapecheck",
                                description="Symbolic shape checker for neural-network model specs.")
    p.add_argument("--version", action="version", version="%(prog)s " + _version())
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    lint = sub.add_parser("lint", help="check spec files and folders; report located diagnostics")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders (*.shape)")
    lint.add_argument("--quiet", "-q", action="store_true", help="no summary line")
    codes = sub.add_parser("codes", help="list the diagnostic codes")
    codes.set_defaults()
    return p


def _version() -> str:
    from . import __version__
    return __version__


def main(argv=None) -> int:
    """Run the command line; never lets an exception escape as a traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("shapecheck: interrupted", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_USAGE
    except Exception as e:  # a bug: say so plainly, exit 2
        print(f"shapecheck: internal error: {type(e).__name__}: {e}; please report this", file=sys.stderr)
        return EXIT_USAGE


def _main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return EXIT_USAGE
    if args.command == "codes":
        from .codes import CODES
        for c in CODES.values():
            print(f"{c.code}  {c.severity:<7}  {c.name:<26} {c.summary}")
        return EXIT_OK
    return _lint(args)


def _lint(args) -> int:
    from .api import Loader, check_path, spec_files
    from .diagnostics import format_text

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
