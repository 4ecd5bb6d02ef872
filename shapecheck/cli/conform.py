"""`shapecheck conform SPEC --factory MODULE:FUNC`: check a PyTorch module against its spec."""
from __future__ import annotations

import sys

from . import EXIT_USAGE


def add_parser(subparsers):
    """Register ``conform`` on an ``argparse`` sub-parser collection; returns the parser."""
    from ..output import FORMATS
    from .verify import add_bind_option

    p = subparsers.add_parser(
        "conform", help="check a real PyTorch module against its spec at several sizes",
        description="Build the module returned by FUNC (imported from MODULE; the current directory is on "
                    "sys.path) with the spec's dimension values as keyword arguments, run it on inputs of the "
                    "spec's shapes at several distinct sizes that satisfy every `require`, and compare the "
                    "results, the parameter count, the mapped parameters and the mapped submodule calls with "
                    "the spec. The mapping comes from `# conform: NAME = PATTERN` comments in the spec and "
                    "[tool.shapecheck.conform.<model>] in pyproject.toml. Exit 0: the module conforms; "
                    "1: findings; 2: a usage error. Needs PyTorch (pip install 'shapecheck[torch]').")
    p.add_argument("spec", metavar="SPEC", help="the spec file (*.shape)")
    p.add_argument("--factory", metavar="MODULE:FUNC", required=True,
                   help="the function that builds the module, e.g. mymodels:build_gpt2")
    p.add_argument("--model", metavar="NAME", help="the spec's model (needed when it has several)")
    add_bind_option(p, "; the other sizes are chosen small and distinct")
    p.add_argument("--samples", metavar="N", type=int, default=3,
                   help="distinct size assignments to check (default 3)")
    p.add_argument("--seed", metavar="S", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--max-memory", metavar="SIZE", default="2GiB",
                   help="memory budget of the spec's NumPy run at each sample, e.g. 2GiB, 512M (default 2GiB)")
    p.add_argument("--output", metavar="NAME",
                   help="the field(s) of a mapping-like result (e.g. a ModelOutput) to compare, comma-separated "
                        "(default: its fields in order)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="output format: text (default), json, sarif or github")
    return p


def _show_progress(model, label, index, total, sizes):
    print(f"conform: {model} [{label}] ({index}/{total}) at {sizes} ...", file=sys.stderr, flush=True)


def run(args) -> int:
    """Run ``conform`` for parsed ``args``; print the report; return the exit code."""
    from ..config import ConfigError, find_pyproject, load_config
    from .verify import parse_binds, parse_size

    try:
        binds = parse_binds(args.bind)
        budget = parse_size(args.max_memory)
        if args.samples < 1:
            raise ValueError("--samples must be at least 1")
    except ValueError as e:
        print(f"shapecheck conform: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        cfg = load_config()
    except ConfigError as e:
        print(f"shapecheck conform: {e}", file=sys.stderr)
        return EXIT_USAGE
    from ..conform import UsageError, conform

    table = getattr(cfg, "conform", {}) or {}
    try:
        report = conform(args.spec, args.factory, model=args.model, binds=binds, samples=args.samples,
                         seed=args.seed, output=args.output, config_mapping=table,
                         config_origin=cfg.path or find_pyproject() or "pyproject.toml",
                         progress=_show_progress if sys.stderr.isatty() else None, max_memory=budget)
    except UsageError as e:
        print(f"shapecheck conform: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "text":
        print(report.text())
    else:
        from ..output import render
        print(render(args.format, report.diagnostics, report.sources))
        for line in [f"note: {n}" for n in report.notes] + [s.line(report.model) for s in report.samples]:
            print(line, file=sys.stderr)
    return report.exit_code
