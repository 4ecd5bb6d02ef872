"""Check spec files and source strings: the library entry points under the CLI."""
from __future__ import annotations

import functools
import itertools
import os
import traceback
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import ir
from . import messages as M
from .diagnostics import Note, Reporter
from .program import Loader, Program, load_program  # noqa: F401  (re-exported)
from .source import read_text  # noqa: F401  (re-exported)
from .span import Span

SPEC_SUFFIX = ".shape"


#: At most this many tensors are instantiated for one model's node list (block
#: calls nest: a block calling a block twice, 30 levels deep, means 2**30).
MAX_NODES = 50_000


@dataclass
class Model:
    """The analysis of one model: every named tensor with its symbolic shape,
    and the parameter and FLOP totals as sympy expressions."""
    name: str
    items: list         # Node and CallSite records; `nodes` instantiates them
    params: object
    flops: object
    returns: tuple
    dims: dict          # dimension name -> sympy symbol
    examples: dict      # dimension name -> example value (int) where given
    relations: tuple    # the requires in force (dims.Relation)
    nodes_truncated: bool = False
    buffers: object = 0  # non-parameter state (batch norm's running statistics), as torch's buffers

    @functools.cached_property
    def nodes(self) -> list:
        """Every named tensor, block internals instantiated at each call site,
        in execution order (at most :data:`MAX_NODES`; see ``nodes_truncated``)."""
        from .infer import iter_nodes
        out = list(itertools.islice(iter_nodes(self.items), MAX_NODES + 1))
        if len(out) > MAX_NODES:
            self.nodes_truncated = True
            out = out[:MAX_NODES]
        return out

    def shapes(self) -> dict:
        """``{name: "[...]"}`` for the model's own named tensors (last assignment wins)."""
        return {n.name: n.shape_str() for n in self.nodes if len(n.path) == 1}


@dataclass
class Result:
    """Diagnostics (sorted) and the models of one checked file."""
    path: str
    diagnostics: list
    models: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    module: Optional[ir.Module] = None
    scope: object = None            # the symbolic globals (shapecheck.infer.Scope)
    program: Optional[Program] = None   # what both interpreters read (verify runs it with NumPy)

    @property
    def errors(self) -> list:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> list:
        return [d.code for d in self.diagnostics]


def check_source(text: str, path: str = "<string>", read: Callable[[str], str] = read_text) -> Result:
    """Check a spec given as text.

    >>> r = check_source('''
    ... dim batch, d = 4
    ... model m {
    ...     input x: [batch, d]
    ...     y = linear(x, 2 * d) : [batch, d]
    ...     return y
    ... }''', "m.shape")
    >>> [(d.code, d.span.line) for d in r.diagnostics]
    [('SC301', 5)]
    >>> r.models["m"].shapes()["y"]
    '[batch, 2*d]'
    >>> r.models["m"].params
    2*d**2 + 2*d
    """
    return _check(path, text, Loader(read))


def check_path(path: str, read: Callable[[str], str] = read_text, loader: Optional[Loader] = None) -> Result:
    """Check one spec file (its `use`d files are loaded too). Pass one
    :class:`Loader` to several calls to read and parse each file once."""
    return _check(path, None, loader or Loader(read))


def _check(path, text, loader) -> Result:
    import gc

    reporter = Reporter()
    program = None
    scope = None
    models = {}
    # the parse tree, IR and sympy terms are acyclic: full collections while they grow
    # only cost time (about 40% of a 20,000-line file), so the collector pauses here
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        program = load_program(path, reporter, loader, text)
        if program.module is not None:
            scope, models = _analyse(program, reporter)
    except RecursionError:
        M.say(reporter, M.NESTED_TOO_DEEPLY, Span(path, 1, 1, 1, 2))
    except Exception as e:  # never a traceback for the user: a located internal error
        tb = traceback.extract_tb(e.__traceback__)
        where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else "?"
        M.say(reporter, M.INTERNAL_ERROR, Span(path, 1, 1, 1, 2), [Note(None, M.CHECKS_ABOVE_HOLD.format())],
              kind=type(e).__name__, error=e, where=where)
    finally:
        if gc_was_enabled:
            gc.enable()
    return Result(path, reporter.sorted(), models, dict(loader.sources),
                  program.module if program is not None else None, scope, program)


def _analyse(program: Program, reporter: Reporter) -> tuple:
    """The symbolic interpreter's findings as public :class:`Model` records."""
    from .infer import check_program

    checked = check_program(program, reporter)
    scope = checked.scope
    dims = {n: d[0] for n, d in scope.dims.items()}
    models = {name: Model(name, s.nodes, s.param_count, s.flops, s.returns or (), dims, checked.examples,
                          s.relations, buffers=s.buffer_count)
              for name, s in checked.models.items()}
    return scope, models


def spec_files(paths) -> tuple:
    """Expand files and folders into spec files (sorted); also return missing paths."""
    files, missing = [], []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(SPEC_SUFFIX))
        elif os.path.exists(p):
            files.append(p)
        else:
            missing.append(p)
    return files, missing
