"""`shapecheck codes [CODE]`: the diagnostic code registry, or one code explained."""
from __future__ import annotations

import sys

from . import EXIT_OK, EXIT_USAGE


def add_parser(sub) -> None:
    p = sub.add_parser("codes", help="list the diagnostic codes, or explain one (shapecheck codes SC301)",
                       description="Without CODE, list every diagnostic code. With CODE, explain it: what "
                                   "it means, a spec that fails with it and the same spec fixed.")
    p.add_argument("code", nargs="?", metavar="CODE", help="a code to explain, e.g. SC301")


def run(args) -> int:
    from ..codes import CODES
    if args.code is None:
        for c in CODES.values():
            print(f"{c.code}  {c.severity:<7}  {c.name:<26} {c.summary}")
        return EXIT_OK
    code = args.code.strip().upper()
    if code not in CODES:
        near = [c for c in CODES if c.startswith(code)]
        print(f"shapecheck codes: unknown code {args.code!r}"
              + (f"; codes starting so: {', '.join(near)}" if near else "; `shapecheck codes` lists them"),
              file=sys.stderr)
        return EXIT_USAGE
    from ..explain import help_text
    print(help_text(code))
    return EXIT_OK
