"""The command line: a thin layer over the library.

Each subcommand is a module of this package with ``add_parser(subparsers)``
and ``run(args) -> int``, listed in :data:`COMMANDS`; the library never
imports this package. Options may come before, between or after the
positional arguments (``lint a.shape --format json b.shape``): arguments left
over by a first parse that are not options are handed to the subcommand's
positional list (its ``paths`` or, when missing, its ``spec``).
"""
from __future__ import annotations

import argparse
import os
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
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if extra:
        _place_positionals(parser, args, extra)
    return _command(args.command).run(args)


def _place_positionals(parser, args, extra) -> None:
    """Give arguments a first parse left over (positionals after options) to the
    subcommand; anything that looks like an option is an error, as argparse says it."""
    rest = list(extra)
    if rest and rest[0] == "--":
        rest = rest[1:]
    options = [a for a in rest if a.startswith("-") and a != "-"]
    if options:
        parser.error("unrecognized arguments: " + " ".join(options))
    if isinstance(getattr(args, "paths", None), list):
        args.paths.extend(rest)
    elif getattr(args, "spec", "") is None and len(rest) == 1:
        args.spec = rest[0]
    else:
        parser.error("unrecognized arguments: " + " ".join(rest))


def use_color(stream, choice: str = "auto") -> bool:
    """Colour for ``stream``? ``always``/``never`` win; then ``NO_COLOR``
    (https://no-color.org) turns it off and ``FORCE_COLOR`` on (both when
    set and non-empty); else only on a terminal."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR", "") != "":
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


