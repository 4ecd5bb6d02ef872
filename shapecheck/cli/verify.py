"""`shapecheck verify SPEC`: run a spec with NumPy and confirm every inferred shape."""
from __future__ import annotations

import re
import sys

from . import EXIT_USAGE

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.I)


def parse_size(text: str) -> int:
    """Bytes from ``"2GiB"``, ``"512M"``, ``"1.5g"`` or ``"1000000"``.

    >>> parse_size("2GiB"), parse_size("512M"), parse_size("1000")
    (2147483648, 536870912, 1000)
    """
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 2GiB, 512M, 1000000)")
    n, unit = float(m.group(1)), m.group(2).lower()
    return int(n * 1024 ** " kmgt".index(unit or " "))


def add_bind_option(p, more: str = "") -> None:
    """``--bind NAME=N ...`` (several after one flag, repeatable, or comma lists)."""
    p.add_argument("--bind", metavar="NAME=N", action="extend", nargs="+", default=[],
                   help="fix dimension sizes, overriding example values (--bind batch=2 seq_len=7; "
                        "repeatable; NAME=N[,NAME=N...])" + more)


def take_spec(args) -> None:
    """Find SPEC where ``--bind NAME=N ...`` swallowed it (``report --bind batch=2
    SPEC``): the one ``--bind`` item without ``=``; ValueError if there is no SPEC.

    >>> import argparse
    >>> a = argparse.Namespace(spec=None, bind=["batch=2", "specs/gpt2.shape"])
    >>> take_spec(a); a.spec, a.bind
    ('specs/gpt2.shape', ['batch=2'])
    """
    if args.spec is not None:
        return
    loose = [b for b in args.bind or () if "=" not in b]
    if len(loose) != 1:
        raise ValueError("the SPEC file is missing" if not loose else
                         f"one SPEC expected, got {', '.join(loose)}")
    args.spec = loose[0]
    args.bind = [b for b in args.bind if b != loose[0]]


def parse_binds(items) -> dict:
    """``["batch=2", "seq_len=7,d=4"]`` -> ``{"batch": 2, "seq_len": 7, "d": 4}``.

    >>> parse_binds(["batch=2", "seq_len=7,d=4"])
    {'batch': 2, 'seq_len': 7, 'd': 4}
    """
    out = {}
    for item in items or ():
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            name, eq, value = part.partition("=")
            name, value = name.strip(), value.strip().replace("_", "")
            if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or not value.isdigit():
                raise ValueError(f"--bind {part!r}: use NAME=N with N a positive integer")
            if int(value) < 1:
                raise ValueError(f"--bind {part!r}: a size must be at least 1")
            out[name] = int(value)
    return out


def _show_progress(model, label, index, total, sizes):
    print(f"verify: {model} [{label}] ({index}/{total}) at {sizes} ...", file=sys.stderr, flush=True)


def add_parser(subparsers):
    """Register ``verify`` on an ``argparse`` sub-parser collection; returns the parser."""
    p = subparsers.add_parser(
        "verify", help="run a spec with NumPy at concrete sizes and confirm every inferred shape",
        description="Check SPEC symbolically, run it with NumPy at the example (or --bind) sizes and at "
                    "random small sizes that satisfy every `require`, and compare every tensor's shape and "
                    "the parameter count. Exit 0: they agree; 1: a disagreement or an error in the spec; "
                    "2: a usage error.")
    p.add_argument("spec", metavar="SPEC", nargs="?", help="the spec file (*.shape)")
    p.add_argument("--model", metavar="NAME", help="verify only this model (default: every model)")
    add_bind_option(p, "; defaults from [tool.shapecheck] bind in pyproject.toml")
    p.add_argument("--samples", metavar="N", type=int, default=3,
                   help="random small size assignments to run besides the example sizes (default 3)")
    p.add_argument("--seed", metavar="S", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="after each run, where its time went: drawing weights, kernels, comparison")
    p.add_argument("--max-memory", metavar="SIZE", default="2GiB",
                   help="memory budget of a run, e.g. 2GiB, 512M (default 2GiB); larger example sizes "
                        "are scaled down")
    return p


def run(args) -> int:
    """Run ``verify`` for parsed ``args``; print the report; return the exit code."""
    from ..config import ConfigError, load_config

    try:
        defaults = load_config().bind           # [tool.shapecheck] bind: default --bind values
    except ConfigError as e:
        print(f"shapecheck verify: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        take_spec(args)
        binds = parse_binds(args.bind)
        budget = parse_size(args.max_memory)
        if args.samples < 0:
            raise ValueError("--samples must be >= 0")
    except ValueError as e:
        print(f"shapecheck verify: {e}", file=sys.stderr)
        return EXIT_USAGE
    from ..diagnostics import format_text
    from ..verify import UsageError, verify

    try:
        report = verify(args.spec, model=args.model, binds=binds, samples=args.samples, seed=args.seed,
                        max_memory=budget, default_binds=defaults,
                        progress=_show_progress if sys.stderr.isatty() else None)
    except UsageError as e:
        print(f"shapecheck verify: {e}", file=sys.stderr)
        return EXIT_USAGE
    if report.diagnostics:
        print(format_text(report.diagnostics, report.sources))
    for n in report.notes:
        print(f"note: {n}")
    for r in report.runs:
        print(r.line())
        if getattr(args, "verbose", False) and r.failed is None:
            print(f"  time: {r.timing()}")
    n_dis = len(report.disagreements)
    n_err = len(report.errors) - n_dis
    if n_err:
        print(f"{args.spec}: {n_err} error{'s' if n_err != 1 else ''} in the spec; not verified")
    else:
        print(f"{args.spec}: {len(report.runs)} run{'s' if len(report.runs) != 1 else ''}, "
              + ("shapes and parameter counts agree" if not n_dis else
                 f"{n_dis} disagreement{'s' if n_dis != 1 else ''}"))
    return report.exit_code


