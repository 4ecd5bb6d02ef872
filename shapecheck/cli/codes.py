"""`shapecheck codes`: the diagnostic code registry."""
from __future__ import annotations

from . import EXIT_OK


def add_parser(sub) -> None:
    sub.add_parser("codes", help="list the diagnostic codes")


def run(args) -> int:
    from ..codes import CODES
    for c in CODES.values():
        print(f"{c.code}  {c.severity:<7}  {c.name:<26} {c.summary}")
    return EXIT_OK
