"""`shapecheck lint [PATH...]`: check spec files and folders.

The pipeline of one run:

1. expand the paths (:mod:`.files`): folders walked without the excluded
   globs, every named path that yields no spec a located SC002, the specs
   that ``use`` a named file (under the configured ``paths``) added;
2. read every file (an unreadable or undecodable one is an SC002 at the bad
   byte); look each one up in the result cache (:mod:`shapecheck.cache`);
3. check the rest, in ``-j`` worker processes when there are several (a file
   whose text equals one already being checked, and that uses no file, is
   checked once and its findings re-located);
4. drop findings silenced by ``# shapecheck: ignore[...]`` comments, report
   the comments that silence nothing (SC701) and the malformed ones (SC702);
5. apply each file's configuration (``select``/``ignore``, ``severity``,
   ``warnings-as-errors``; the nearest ``pyproject.toml`` from the file),
   render sorted by file and position, and exit 0 (no error-level finding),
   1 (some) or 2 (usage error, SC002 or SC003), 0 with ``--exit-zero`` unless 2.
"""
from __future__ import annotations

import dataclasses
import os
import sys

from . import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, use_color

from ..config import NOT_ANALYSED, RUN_FAILURES, apply_policy  # noqa: F401  (shared with the language server)

FORMATS = ("text", "json", "sarif", "github")
STDIN = "-"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "lint", help="check spec files and folders; report located diagnostics",
        description="Check spec files and folders (*.shape, walked recursively). Without PATH, lint the "
                    "`paths` of [tool.shapecheck] in the nearest pyproject.toml. A file that another spec "
                    "under `paths` uses is checked with its users. Exit 0: no error-level finding; 1: at "
                    "least one; 2: usage error, unreadable path (SC002) or internal error (SC003).")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="spec files or folders (*.shape); `-` reads one spec from stdin")
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
    p.add_argument("--exit-zero", action="store_true",
                   help="exit 0 even when there are error-level findings (still 2 on a run failure)")
    p.add_argument("--statistics", action="store_true",
                   help="print the number of findings per code instead of the findings (text format; "
                        "on stderr with the other formats)")
    p.add_argument("--stdin-filename", metavar="NAME",
                   help="the file name of the spec read from stdin (`-`): shown in findings, "
                        "the base of its `use` paths and of its configuration")
    p.add_argument("--no-config", action="store_true", help="do not read [tool.shapecheck] from pyproject.toml")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the result cache (.shapecheck_cache/)")
    p.add_argument("--jobs", "-j", metavar="N", type=int, default=None,
                   help="check in N processes (default: the number of cores; 1: in this process)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text format (auto: on a terminal; NO_COLOR and FORCE_COLOR are honoured)")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary line")


def _err(msg: str) -> None:
    print(f"shapecheck lint: {msg}", file=sys.stderr)


def _shown(path: str) -> str:
    """A configured (absolute) path as the user would type it from here."""
    try:
        return os.path.relpath(path)
    except ValueError:      # another drive (Windows)
        return path


def _jobs(n) -> int:
    if n is not None:
        return max(1, n)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ---- checking (in this process or in workers) ------------------------------------------------------

def check_one(path: str, text: str) -> tuple:
    """Check one spec whose text is ``text``: ``(findings as dicts, {file read: text hash})``.

    The second item is the file's whole ``use`` closure (``None`` for a file
    that could not be read): what the result cache must see unchanged."""
    from .. import api
    from ..cache import text_hash
    from ..source import read_text

    deps = {path: text_hash(text)}

    def read(p):
        if p == path:
            return text
        try:
            t = read_text(p)
        except (OSError, UnicodeDecodeError):
            deps[p] = None
            raise
        deps[p] = text_hash(t)
        return t

    res = api.check_path(path, read=read)
    return [d.to_dict() for d in res.diagnostics], deps


def _check_star(item):
    return check_one(*item)


def check_many(items, jobs: int) -> list:
    """``check_one`` of every ``(path, text)``, in order; in ``jobs`` processes when it pays."""
    workers = min(jobs, len(items))
    if workers > 1:
        try:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else methods[0])
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                return list(pool.map(_check_star, items, chunksize=max(1, len(items) // (workers * 8))))
        except (OSError, ImportError, NotImplementedError):
            pass                    # no processes here (a sandbox): check in this one
    return [check_one(p, t) for p, t in items]


def check_files(files) -> tuple:
    """Check ``files`` in this process, without the cache: ``(diagnostics, sources)``
    (for benchmarks and the API-minded; the command uses the whole pipeline)."""
    from ..diagnostics import Diagnostic
    from ..source import read_text

    out, sources = [], {}
    for f in files:
        text = read_text(f)
        found, deps = check_one(f, text)
        out.extend(Diagnostic.from_dict(d) for d in found)
        sources[f] = text
    return out, sources


def _relocate(d, old: str, new: str):
    from ..diagnostics import Note

    def move(span):
        return dataclasses.replace(span, file=new) if span is not None and span.file == old else span
    notes = tuple(Note(move(n.span), n.message) for n in d.notes)
    return dataclasses.replace(d, span=move(d.span), notes=notes)


# ---- the run ---------------------------------------------------------------------------------------

class _Texts:
    """Every file's text, read once per run (``None``: unreadable), with why it is not."""

    def __init__(self):
        self.text: dict = {}
        self.error: dict = {}

    def get(self, path):
        from ..source import read_text

        if path not in self.text:
            try:
                self.text[path] = read_text(path)
            except (OSError, UnicodeDecodeError) as e:
                self.text[path] = None
                self.error[path] = e
        return self.text[path]


def run(args) -> int:
    from ..config import ConfigError, Resolver, split_codes
    from ..diagnostics import Diagnostic
    from ..span import Span
    from . import files as F

    resolver = Resolver(enabled=not args.no_config)
    try:
        here = resolver.for_path(os.getcwd())
        cli_select = split_codes(args.select, "--select") if args.select else None
        cli_ignore = split_codes(args.ignore, "--ignore") if args.ignore else ()
    except ConfigError as e:
        _err(str(e))
        return EXIT_USAGE
    if args.jobs is not None and args.jobs < 1:
        _err("--jobs must be at least 1")
        return EXIT_USAGE

    paths = list(args.paths) or [_shown(p) for p in here.paths]
    if not paths:
        _err("no PATH given and no `paths` in [tool.shapecheck] of a pyproject.toml")
        return EXIT_USAGE
    if paths.count(STDIN) > 1:
        _err("`-` (stdin) can be given once")
        return EXIT_USAGE
    if args.stdin_filename and STDIN not in paths:
        _err("--stdin-filename needs `-` among the paths")
        return EXIT_USAGE

    texts = _Texts()
    stdin_name = None
    try:
        named, problems = F.expand([p for p in paths if p != STDIN], resolver.for_path)
        files = list(named)
        if STDIN in paths:
            stdin_name = args.stdin_filename or "<stdin>"
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
            from ..source import decode
            try:
                texts.text[stdin_name] = decode(data)
            except UnicodeDecodeError as e:
                texts.text[stdin_name], texts.error[stdin_name] = None, e
            if stdin_name not in files:
                files.append(stdin_name)
        if args.paths and here.paths:      # the users of the named files under the configured `paths`
            candidates, _ = F.expand([_shown(p) for p in here.paths], resolver.for_path)
            files += F.dependents(files, candidates, texts.get)
        configs = {f: resolver.for_path(f) for f in files if f != stdin_name}
        if stdin_name:
            configs[stdin_name] = resolver.for_path(os.path.abspath(stdin_name))
    except ConfigError as e:
        _err(str(e))
        return EXIT_USAGE

    # read, then the cache, then check the rest
    from ..source import read_error
    raw = [Diagnostic("SC002", Span(p, 1, 1, 1, 1), msg) for p, msg in problems]
    unreadable = set()
    todo = []
    cache = None
    if not args.no_cache:
        from .. import __version__
        from ..cache import ResultCache
        cache = ResultCache(here.root or os.getcwd(), __version__)
    from ..cache import text_hash
    keys = {}
    for f in files:
        text = texts.get(f)
        if text is None:
            line, col, msg = read_error(f, texts.error[f])
            raw.append(Diagnostic("SC002", Span(f, line, col, line, col + 1), msg))
            unreadable.add(f)
            continue
        if cache is not None and f != stdin_name:
            keys[f] = cache.key(f, text_hash(text), configs[f].fingerprint())
            hit = cache.get(keys[f], texts.get)
            if hit is not None:
                raw.extend(Diagnostic.from_dict(d) for d in hit[0])
                for dep in hit[1]:
                    texts.get(dep)
                continue
        todo.append(f)

    # identical use-free texts are checked once
    first: dict = {}
    twins = {}
    items = []
    for f in todo:
        text = texts.text[f]
        if F.USE_LINE.search(text) is None and text in first:
            twins[f] = first[text]
            continue
        first.setdefault(text, f)
        items.append((f, text))
    results = dict(zip([f for f, _ in items], check_many(items, _jobs(args.jobs)))) if items else {}
    for f, (found, deps) in results.items():
        diags = [Diagnostic.from_dict(d) for d in found]
        raw.extend(diags)
        for dep in deps:
            texts.get(dep)
        if cache is not None and f in keys and not any(d.code == "SC003" for d in diags):
            cache.put(keys[f], found, deps)
    for f, orig in twins.items():
        raw.extend(_relocate(Diagnostic.from_dict(d), orig, f) for d in results[orig][0])

    # de-duplicate (a finding in a shared `use`d file is reached from each user)
    seen, unique = set(), []
    for d in raw:
        k = (d.code, d.span, d.message)
        if k not in seen:
            seen.add(k)
            unique.append(d)

    from ..suppress import Suppressor
    sources = {p: t for p, t in texts.text.items() if t is not None}
    suppressor = Suppressor(sources)
    kept = suppressor.filter(unique)
    not_analysed = {d.span.file for d in unique if d.code in NOT_ANALYSED}
    checked = [f for f in files if f not in unreadable]
    kept += suppressor.unused([f for f in checked if f not in not_analysed])
    kept += suppressor.malformed(set(checked))

    diags = []
    try:
        for d in kept:
            cfg = configs.get(d.span.file) or resolver.for_path(d.span.file)
            ignore = cfg.ignore + tuple(c for c in cli_ignore if c not in cfg.ignore)
            was = cfg.warnings_as_errors if args.warnings_as_errors is None else True
            diags += apply_policy([d], select=cli_select if cli_select is not None else cfg.select,
                                  ignore=ignore, severity=cfg.severity, warnings_as_errors=was)
    except ConfigError as e:
        _err(str(e))
        return EXIT_USAGE
    return _report(args, diags, sources, len(files), len(problems), len(suppressor.suppressed))


def _report(args, diags, sources, n_files: int, n_problems: int, n_sup: int) -> int:
    from ..output import render, statistics

    failed = any(d.code in RUN_FAILURES for d in diags)
    n_err = sum(1 for d in diags if d.is_error)
    n_warn = len(diags) - n_err
    status = EXIT_USAGE if failed else EXIT_FINDINGS if n_err and not args.exit_zero else EXIT_OK

    to_file = bool(args.output)
    color = args.format == "text" and not to_file and use_color(sys.stdout, args.color)
    stats = statistics(diags) if args.statistics else None
    if stats is not None and args.format == "text":
        report = stats
    else:
        report = render(args.format, diags, sources, color=color)
    summary = (f"{n_files} file{'s' if n_files != 1 else ''} checked"
               + (f", {n_problems} path{'s' if n_problems != 1 else ''} without specs" if n_problems else "")
               + ": "
               f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}"
               + (f" ({n_sup} suppressed)" if n_sup else ""))
    if to_file:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(report + "\n" if report else "")
        except OSError as e:
            _err(f"cannot write {args.output}: {e.strerror or e}")
            return EXIT_USAGE
    elif report:
        print(report)
    side = sys.stderr if args.format in ("json", "sarif") and not to_file else sys.stdout
    if stats is not None and args.format != "text" and stats:
        print(stats, file=sys.stderr if not to_file else sys.stdout)
    if not args.quiet:
        print(summary, file=side)
    return status
