"""One loader and one :class:`Program` for both interpreters.

Source text becomes a ``Program`` here, once: every file is read, parsed and
lowered once per :class:`Loader` (SC001/SC002/SC005), ``use`` targets are
resolved relative to the using file and identified by their real path (one file
is one file whatever the working directory or the spelling of the path), `use`
cycles and missing targets are reported (SC004), and the global declarations of
the file and of everything it uses are gathered by name (a name declared twice
is SC102). The symbolic interpreter (:func:`shapecheck.infer.check_program`)
and the numeric one (:func:`shapecheck.execute.run`) both read the result.

This module imports neither sympy nor NumPy.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import ir
from . import messages as M
from .diagnostics import Note, Reporter
from .project import check_use
from .source import read_error, read_text
from .span import Span


def canonical(path: str) -> str:
    """The identity of a file: its real, absolute, case-normalised path."""
    return os.path.normcase(os.path.realpath(path))


def _file_span(path: str) -> Span:
    return Span(path, 1, 1, 1, 2)


class Loader:
    """Reads, parses and lowers files once per run (share one between several
    :func:`load_program` calls). Files are keyed by :func:`canonical` path."""

    def __init__(self, read: Optional[Callable[[str], str]] = None):
        self.read = read or read_text
        self.modules: dict = {}        # canonical path -> ir.Module, or None when it could not be loaded
        self.sources: dict = {}        # shown path -> text
        self.unreadable: dict = {}     # canonical path -> message

    def loaded(self, path: str) -> bool:
        """Has ``path`` (under any spelling) been loaded (or tried) already?"""
        return canonical(path) in self.modules

    def module(self, path: str) -> Optional[ir.Module]:
        return self.modules.get(canonical(path))

    def load(self, path: str, reporter: Reporter, text: Optional[str] = None,
             at: Optional[Span] = None) -> Optional[ir.Module]:
        """The lowered module of ``path`` (None after a reported failure).
        ``at`` is the `use` that asks for it (failures are SC004 there)."""
        from .lower import LimitError, lower
        from .parse import MAX_SOURCE_BYTES, parse

        key = canonical(path)
        if key in self.modules:
            if key in self.unreadable:   # each `use` of an unreadable file is reported where it is
                reporter.report("SC004" if at is not None else "SC002", at or _file_span(path),
                                self.unreadable[key])
            return self.modules[key]
        if text is None:
            try:
                text = self.read(path)
            except (OSError, UnicodeDecodeError) as e:
                line, col, self.unreadable[key] = read_error(path, e)
                reporter.report("SC004" if at is not None else "SC002",
                                at or Span(path, line, col, line, col + 1), self.unreadable[key])
                self.modules[key] = None
                return None
        self.sources[path] = text
        self.modules[key] = None
        if len(text) > MAX_SOURCE_BYTES:
            M.say(reporter, M.FILE_TOO_LONG, _file_span(path), limit=MAX_SOURCE_BYTES)
            return None
        tree, diag = parse(text, path)
        if diag is not None:
            reporter.diagnostics.append(diag)
            return None
        try:
            mod = lower(tree, path)
        except LimitError as e:
            reporter.report("SC005", e.span, e.message)
            return None
        self.modules[key] = mod
        return mod


@dataclass
class Program:
    """A checked file with the files it uses: every global declaration by name.

    ``modules`` lists the `use` closure with each file after the files it uses
    (the checked file last); ``uses`` is the `use` graph (shown path -> shown
    paths). The declaration tables hold the first declaration of each name in
    that order; later ones were reported (SC102) and are left out. Only the
    checked file's own blocks and models are analysed (:meth:`own`); the others
    are analysed as files of their own.
    """
    path: str
    module: Optional[ir.Module] = None
    modules: tuple = ()
    uses: dict = field(default_factory=dict)
    dims: dict = field(default_factory=dict)        # name -> ir.DimItem
    lets: dict = field(default_factory=dict)        # name -> ir.Let
    requires: tuple = ()                            # ir.Compare, file by file in `modules` order
    blocks: dict = field(default_factory=dict)      # name -> ir.Block
    models: dict = field(default_factory=dict)      # name -> ir.Block
    sources: dict = field(default_factory=dict)     # shown path -> text

    def own(self, node) -> bool:
        """Is ``node`` (anything with a span) declared in the checked file itself?"""
        return self.module is not None and node.span.file == self.module.path

    def is_global(self, name: str) -> bool:
        return name in self.dims or name in self.lets or name in self.blocks


def load_program(path: str, reporter: Reporter, loader: Optional[Loader] = None,
                 text: Optional[str] = None) -> Program:
    """Load ``path`` (or ``text`` under that name) and its `use` closure into a
    :class:`Program`, reporting every loading problem to ``reporter``."""
    loader = loader or Loader()
    prog = Program(path)
    mod = loader.load(path, reporter, text=text)
    if mod is None:
        prog.sources = dict(loader.sources)
        return prog
    prog.module = mod
    order: list = []
    done: set = set()

    def visit(m: ir.Module, stack: tuple, spans: tuple):
        key = canonical(m.path)
        done.add(key)
        targets = []
        for item in m.items:
            if not isinstance(item, ir.Use):
                continue
            target, refused = check_use(m.path, item.path, path)   # inside the project, a spec
            if refused:
                reporter.report("SC004", item.span, refused)
                continue
            tkey = canonical(target)
            keys = [k for k, _ in stack]
            if tkey in keys:
                chain = " -> ".join([p for _, p in stack[keys.index(tkey):]] + [target])
                # report at the checked file's own `use` that leads into the cycle
                at = spans[0] if spans else item.span
                notes = [Note(item.span, M.CLOSES_CYCLE.format())] if spans else []
                M.say(reporter, M.USE_CYCLE, at, notes, chain=chain)
                continue
            used = loader.load(target, reporter, at=item.span)
            if used is None:
                continue
            targets.append(used.path)
            if canonical(used.path) not in done:
                visit(used, stack + ((tkey, used.path),), spans + (item.span,))
        prog.uses[m.path] = tuple(targets)
        order.append(m)

    visit(mod, ((canonical(mod.path), mod.path),), ())
    prog.modules = tuple(order)
    requires = []
    for m in order:        # dims first: lets may not take a dim's name in any file
        for item in m.items:
            if isinstance(item, ir.DimDecl):
                for d in item.items:
                    if d.name in prog.dims:
                        M.say(reporter, M.DIM_DEFINED_TWICE, d.span, [Note(prog.dims[d.name].span,
                                                                           M.FIRST_DEFINED.format())], name=d.name)
                        continue
                    prog.dims[d.name] = d
    for m in order:
        for item in m.items:
            if isinstance(item, ir.Let):
                if item.name in prog.dims or item.name in prog.lets:
                    M.say(reporter, M.ALREADY_DEFINED, item.name_span, name=item.name)
                    continue
                prog.lets[item.name] = item
            elif isinstance(item, ir.Require):
                requires.extend(item.conds)
            elif isinstance(item, ir.Block):
                if item.name in prog.blocks or item.name in prog.models:
                    M.say(reporter, M.DEFINED_TWICE, item.name_span, name=item.name)
                    continue
                (prog.models if item.is_model else prog.blocks)[item.name] = item
    prog.requires = tuple(requires)
    prog.sources = dict(loader.sources)
    return prog
