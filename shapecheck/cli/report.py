"""`shapecheck report SPEC`: per-tensor shape tables and parameter, FLOP and memory formulas."""
from __future__ import annotations

import sys

from . import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, use_color


#: the formats of shapecheck.report (not imported here: `lint` builds this parser too)
FORMATS = ("text", "markdown", "json", "html")


def add_parser(subparsers):
    """Register ``report`` on an ``argparse`` sub-parser collection; returns the parser."""
    from .verify import add_bind_option

    p = subparsers.add_parser(
        "report", help="tabulate every tensor's shape, parameters and FLOPs, with closed-form totals",
        description="Check SPEC and report every named tensor in execution order (block internals at each "
                    "call site, in the caller's dimensions): its symbolic shape, its concrete shape at the "
                    "example (or --bind) sizes, the parameters and FLOPs it costs; then the parameter, FLOP "
                    "and activation-memory totals as formulas and values. Exit 0: reported; 1: the spec has "
                    "errors; 2: a usage error. Conventions: docs/reports.md.")
    p.add_argument("spec", metavar="SPEC", nargs="?", help="the spec file (*.shape)")
    p.add_argument("--model", metavar="NAME", help="report only this model (default: every model)")
    add_bind_option(p, "; defaults from [tool.shapecheck] bind in pyproject.toml")
    p.add_argument("--symbolic", action="store_true",
                   help="ignore the dims' example values (and the configured bind): every dimension is "
                        "symbolic unless given with --bind")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--depth", metavar="N", type=int, default=None,
                   help="show block internals down to N levels of calls (1: the model's own tensors; "
                        "default: all)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    return p


def run(args) -> int:
    """Run ``report`` for parsed ``args``; return the exit code."""
    from ..config import ConfigError, load_config
    from .verify import parse_binds, take_spec

    try:
        defaults = load_config().bind           # [tool.shapecheck] bind, under --bind
    except ConfigError as e:
        print(f"shapecheck report: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        take_spec(args)
        binds = parse_binds(args.bind)
        if args.depth is not None and args.depth < 1:
            raise ValueError("--depth must be at least 1")
    except ValueError as e:
        print(f"shapecheck report: {e}", file=sys.stderr)
        return EXIT_USAGE
    from ..api import check_path
    from ..diagnostics import format_text
    from ..report import ReportError, build, render

    res = check_path(args.spec)
    fatal = [d for d in res.diagnostics if d.code in ("SC001", "SC002")]
    if fatal or res.module is None:
        print(format_text(res.diagnostics, res.sources), file=sys.stderr)
        return EXIT_USAGE if any(d.code == "SC002" for d in fatal) else EXIT_FINDINGS
    if res.errors:
        print(format_text(res.diagnostics, res.sources), file=sys.stderr)
        print(f"shapecheck report: {args.spec} has errors; fix them to get a report", file=sys.stderr)
        return EXIT_FINDINGS
    if not res.models:
        print(f"shapecheck report: {args.spec} defines no model", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = build(res, model=args.model, binds=binds, depth=args.depth, default_binds=defaults,
                       examples=not args.symbolic)
    except ReportError as e:
        print(f"shapecheck report: {e}", file=sys.stderr)
        return EXIT_USAGE
    if res.diagnostics:   # warnings: shown, the report still stands
        print(format_text(res.diagnostics, res.sources), file=sys.stderr)
    if args.output:
        text = render(report, args.format, color=False)
        try:
            with open(args.output, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        except OSError as e:
            print(f"shapecheck report: cannot write {args.output}: {e.strerror or e}", file=sys.stderr)
            return EXIT_USAGE
        return EXIT_OK
    color = args.format == "text" and use_color(sys.stdout)
    sys.stdout.write(render(report, args.format, color=color))
    return EXIT_OK
