"""`shapecheck lint [PATH...]`: check spec files and folders.

The pipeline of one run: expand the paths (folders walked), check every file
with one :class:`~shapecheck.api.Loader` (each file read and parsed once,
``use``d ones included; a file whose content was already checked under
another name in this run, and that uses no other file, is not checked again),
drop findings silenced by ``# shapecheck: ignore[...]`` comments and report the
comments that silence nothing (SC701), then apply ``select``/``ignore``, the
configured ``severity`` overrides and ``--warnings-as-errors``, render, and
exit 0 (no error-level finding), 1 (some) or 2 (usage, I/O or internal error).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import sys

from . import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

from ..config import NOT_ANALYSED, RUN_FAILURES, apply_policy  # noqa: F401  (shared with the language server)

FORMATS = ("text", "json", "sarif", "github")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "lint", help="check spec files and folders; report located diagnostics",
        description="Check spec files and folders (*.shape, walked recursively). Without PATH, lint the "
                    "`paths` of [tool.shapecheck] in the nearest pyproject.toml. Exit 0: no error-level "
                    "finding; 1: at least one; 2: usage, I/O or internal error.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders (*.shape)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="output format: text (default), json, sarif (SARIF 2.1.0) or github "
                        "(GitHub Actions annotations)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--select", action="append", metavar="CODES",
                   help="report only these codes or prefixes (comma list, e.g. SC3,SC401); "
                        "replaces the configured `select`")
    p.add_argument("--ignore", action="append", metavar="CODES",
                   help="never report these codes or prefixes (comma list, e.g. SC5); "
                        "added to the configured `ignore`")
    p.add_argument("--warnings-as-errors", action="store_true", default=None,
                   help="treat every warning as an error (exit 1)")
    p.add_argument("--no-config", action="store_true", help="do not read [tool.shapecheck] from pyproject.toml")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary line")


def _err(msg: str) -> None:
    print(f"shapecheck lint: {msg}", file=sys.stderr)


def _shown(path: str) -> str:
    """A configured (absolute) path as the user would type it from here."""
    try:
        return os.path.relpath(path)
    except ValueError:      # another drive (Windows)
        return path


def check_files(files) -> tuple:
    """Check ``files`` with one loader; return (diagnostics, sources).

    A diagnostic reached from several files (one in a shared `use`d file) is
    kept once. Results are cached by file content within the run: a file that
    uses no other file and has the same text as one already checked gets that
    result, re-located to its own path.
    """
    from ..api import Loader, check_path, read_text
    from ..diagnostics import Note
    from .. import ir

    texts: dict = {}

    def read(path):
        if path in texts:
            return texts[path]
        return read_text(path)

    loader = Loader(read)
    cache: dict = {}           # sha256 of a use-free file's text -> (path, diagnostics)
    sources: dict = {}
    out, seen = [], set()
    for f in files:
        key = None
        if not loader.loaded(f):
            try:
                texts[f] = read_text(f)
            except (OSError, UnicodeDecodeError):
                pass               # check_path reports it
            else:
                key = hashlib.sha256(texts[f].encode("utf-8")).hexdigest()
        if key is not None and key in cache:
            old, cached = cache[key]
            diags = [_relocate(d, old, f, Note) for d in cached]
            sources[f] = texts[f]
        else:
            res = check_path(f, loader=loader)
            diags = res.diagnostics
            sources.update(res.sources)
            if key is not None and res.module is not None and \
                    not any(isinstance(it, ir.Use) for it in res.module.items):
                cache[key] = (f, diags)
        for d in diags:
            k = (d.code, d.span, d.message)
            if k not in seen:
                seen.add(k)
                out.append(d)
    sources.update(loader.sources)
    return out, sources


def _relocate(d, old: str, new: str, Note):
    def move(span):
        return dataclasses.replace(span, file=new) if span is not None and span.file == old else span
    notes = tuple(Note(move(n.span), n.message) for n in d.notes)
    return dataclasses.replace(d, span=move(d.span), notes=notes)


def run(args) -> int:
    from ..api import spec_files
    from ..config import Config, ConfigError, load_config, split_codes
    from ..output import render
    from ..suppress import Suppressor

    try:
        cfg = Config() if args.no_config else load_config()
        select = split_codes(args.select, "--select") if args.select else cfg.select
        ignore = cfg.ignore + tuple(c for c in (split_codes(args.ignore, "--ignore") if args.ignore else ())
                                    if c not in cfg.ignore)
    except ConfigError as e:
        _err(str(e))
        return EXIT_USAGE
    warnings_as_errors = cfg.warnings_as_errors if args.warnings_as_errors is None else True
    paths = list(args.paths) or [_shown(p) for p in cfg.paths]
    if not paths:
        _err("no PATH given and no `paths` in [tool.shapecheck] of a pyproject.toml")
        return EXIT_USAGE

    files, missing = spec_files(paths)
    status = EXIT_OK
    for m in missing:
        print(f"{m}: SC002 error: no such file or directory", file=sys.stderr)
        status = EXIT_USAGE
    if not files and not missing:
        _err("no spec files (*.shape) found in " + ", ".join(paths))
        return EXIT_USAGE
    unique, keys = [], set()
    for f in files:
        k = os.path.normcase(os.path.abspath(f))
        if k not in keys:
            keys.add(k)
            unique.append(f)
    files = unique

    raw, sources = check_files(files)
    suppressor = Suppressor(sources)
    kept = suppressor.filter(raw)
    not_analysed = {d.span.file for d in raw if d.code in NOT_ANALYSED}
    kept += suppressor.unused([f for f in files if f not in not_analysed])
    diags = apply_policy(kept, select=select, ignore=ignore, severity=cfg.severity,
                         warnings_as_errors=warnings_as_errors)

    if any(d.code in RUN_FAILURES for d in diags):
        status = EXIT_USAGE
    n_err = sum(1 for d in diags if d.is_error)
    n_warn = len(diags) - n_err
    if status == EXIT_OK and n_err:
        status = EXIT_FINDINGS

    report = render(args.format, diags, sources)
    n_sup = len(suppressor.suppressed)
    summary = (f"{len(files)} file{'s' if len(files) != 1 else ''} checked: "
               f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}"
               + (f" ({n_sup} suppressed)" if n_sup else ""))
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(report + "\n" if report else "")
        except OSError as e:
            _err(f"cannot write {args.output}: {e.strerror or e}")
            return EXIT_USAGE
    elif report:
        print(report)
    if not args.quiet:
        to_stderr = args.format in ("json", "sarif") and not args.output
        print(summary, file=sys.stderr if to_stderr else sys.stdout)
    return status
