"""`shapecheck lsp`: the language server (stdio; `--tcp PORT` for debugging).

Needs the `lsp` extra (pygls); imported only when the command runs.
"""
from __future__ import annotations

import sys

from . import EXIT_USAGE


def add_parser(sub) -> None:
    p = sub.add_parser("lsp", help="run the language server (for editors; needs the `lsp` extra)",
                       description="Run the shapecheck language server over stdio (diagnostics, hover, "
                                   "inlay hints, navigation, completion, code actions for *.shape files).")
    p.add_argument("--tcp", type=int, metavar="PORT", help="listen on 127.0.0.1:PORT instead of stdio")


def run(args) -> int:
    try:
        from ..lsp.server import main
    except ImportError as e:
        print(f"shapecheck lsp: needs the `lsp` extra ({e}): pip install 'shapecheck[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    return main(tcp=args.tcp)
