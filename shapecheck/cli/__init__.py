"""The command line: a thin layer over the library.

Each subcommand is a module of this package with ``add_parser(subparsers)``
and ``run(args) -> int``; the library never imports this package.
"""
from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shapecheck",
                                description="Symbolic shape checker for neural-network model specs.")
    p.add_argument("--version", action="version", version="%(prog)s " + _version())
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        _command(name).add_parser(sub)
    return p


#: subcommand modules, in the order `--help` lists them
COMMANDS = ("lint", "verify", "report", "conform", "codes", "lsp")


def _command(name: str):
    import importlib
    return importlib.import_module(f"{__name__}.{name}")


def _version() -> str:
    from .. import __version__
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
    return _command(args.command).run(args)


