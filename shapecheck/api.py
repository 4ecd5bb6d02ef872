"""Check spec files and source strings: the library entry points under the CLI."""
from __future__ import annotations

import functools
import itertools
import os
import traceback
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import ir
from .diagnostics import Note, Reporter
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
    scope: object = None

    @property
    def errors(self) -> list:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> list:
        return [d.code for d in self.diagnostics]


class Loader:
    """Reads, parses and lowers files once per run; resolves `use`."""

    def __init__(self, read: Optional[Callable[[str], str]] = None):
        self.read = read or read_text
        self.modules: dict = {}
        self.sources: dict = {}
        self.unreadable: dict = {}

    def load(self, path: str, reporter: Reporter, text: Optional[str] = None, at: Optional[Span] = None):
        from .lower import LimitError, lower
        from .parse import MAX_SOURCE_BYTES, parse

        if path in self.modules:
            if path in self.unreadable:   # each `use` of an unreadable file is reported where it is
                reporter.report("SC004" if at is not None else "SC002", at or Span(path, 1, 1, 1, 2),
                                self.unreadable[path])
            return self.modules[path]
        if text is None:
            try:
                text = self.read(path)
            except (OSError, UnicodeDecodeError) as e:
                span = at or Span(path, 1, 1, 1, 2)
                code = "SC004" if at is not None else "SC002"
                self.unreadable[path] = _io_message(path, e)
                reporter.report(code, span, self.unreadable[path])
                self.modules[path] = None
                return None
        self.sources[path] = text
        if len(text) > MAX_SOURCE_BYTES:
            reporter.report("SC005", Span(path, 1, 1, 1, 2), f"file longer than {MAX_SOURCE_BYTES} characters")
            self.modules[path] = None
            return None
        tree, diag = parse(text, path)
        if diag is not None:
            reporter.diagnostics.append(diag)
            self.modules[path] = None
            return None
        try:
            mod = lower(tree, path)
        except LimitError as e:
            reporter.report("SC005", e.span, e.message)
            self.modules[path] = None
            return None
        self.modules[path] = mod
        return mod


def _io_message(path, e) -> str:
    if isinstance(e, UnicodeDecodeError):
        return f"cannot read {path}: not UTF-8 text (byte {e.start}: {e.reason})"
    if isinstance(e, IsADirectoryError):
        return f"cannot read {path}: it is a directory"
    if isinstance(e, FileNotFoundError):
        return f"cannot read {path}: no such file"
    return f"cannot read {path}: {e.strerror or e}"


def _build_scope(loader: Loader, mod: ir.Module, reporter: Reporter, stack: tuple = ()):
    """Collect the global items of ``mod`` and the files it uses."""
    from .infer import Scope

    scope = Scope()
    _collect(loader, mod, scope, reporter, stack + (mod.path,), set())
    return scope


def _collect(loader, mod, scope, reporter, stack, done, spans=()):
    from . import dims as D

    for item in mod.items:
        if isinstance(item, ir.Use):
            target = os.path.normpath(os.path.join(os.path.dirname(mod.path), item.path))
            if target in stack:
                chain = " -> ".join(list(stack[stack.index(target):]) + [target])
                # report at the checked file's own `use` that leads into the cycle
                at = spans[0] if spans else item.span
                notes = [Note(item.span, "the `use` that closes the cycle")] if spans else []
                reporter.report("SC004", at, f"`use` cycle: {chain}", notes)
                continue
            if target in done:
                continue
            done.add(target)
            used = loader.load(target, reporter, at=item.span)
            if used is None:
                continue
            _collect(loader, used, scope, reporter, stack + (target,), done, spans + (item.span,))
    # dims first (so lets and requires may refer to any of them), then lets, requires, blocks
    for item in mod.items:
        if isinstance(item, ir.DimDecl):
            for d in item.items:
                if d.name in scope.dims or d.name in scope.lets:
                    if d.span.file == mod.path:
                        reporter.report("SC102", d.span, f"dimension `{d.name}` is defined twice")
                    continue
                scope.dims[d.name] = (D.dim(d.name), d.value, d.span)
    for item in mod.items:
        if isinstance(item, ir.Block):
            table = scope.models if item.is_model else scope.blocks
            if item.name in scope.blocks or item.name in scope.models:
                reporter.report("SC102", item.name_span, f"`{item.name}` is defined twice")
                continue
            table[item.name] = item
    return scope


def _check_module(loader: Loader, mod: ir.Module, reporter: Reporter) -> tuple:
    from .dims import EvalError
    from .infer import Checker, Frame

    scope = _build_scope(loader, mod, reporter)
    checker = Checker(scope, reporter)
    # global lets and requires, in order of every contributing file
    frame = Frame(ir.Block("<globals>", (), None, (), True, Span(mod.path, 1, 1, 1, 2),
                           Span(mod.path, 1, 1, 1, 2)), checker.global_facts, ("<globals>",))
    modules = [m for m in loader.modules.values() if m is not None and _reaches(loader, mod, m)]
    lets = [it for m in modules for it in m.items if isinstance(it, ir.Let)]
    requires = [c for m in modules for it in m.items if isinstance(it, ir.Require) for c in it.conds]

    def do_let(item):
        if item.name in scope.dims or item.name in scope.lets:
            reporter.report("SC102", item.name_span, f"`{item.name}` is already defined")
            return
        v = checker.eval_dim(frame, item.value, f"`let {item.name}`")
        if v is not None:
            scope.lets[item.name] = (v, item.span)
        else:
            scope.broken.add(item.name)

    scope.relations.extend(checker.establish(frame, lets, requires, do_let))
    checker.global_facts = frame.facts
    # example values
    examples = {}
    for name, (sym, value, span) in scope.dims.items():
        if value is not None:
            v = checker.eval_dim(frame, value, f"the example value of `{name}`")
            if v is not None:
                if not v.is_Integer or v < 1:
                    reporter.report("SC204", span, f"the example value of `{name}` must be a positive integer, "
                                                   f"got {v}")
                else:
                    examples[name] = int(v)
    env = {scope.dims[n][0]: v for n, v in examples.items()}
    for rel, span in scope.relations:
        if rel.free_symbols and rel.free_symbols <= set(env) and span.file == mod.path:
            try:
                ok = rel.holds(env)
            except (EvalError, ArithmeticError):
                continue
            if not ok:
                shown = ", ".join(f"{s.name}={env[s]}" for s in sorted(rel.free_symbols, key=lambda s: s.name))
                reporter.report("SC205", span, f"the example values break `require {rel.text()}` ({shown})")
    for name in scope.blocks:
        if scope.blocks[name].span.file == mod.path:
            checker.summary(name)
    models = {}
    for name, block in scope.models.items():
        if block.span.file != mod.path:
            continue
        s = checker.check_block(block)
        models[name] = Model(name, s.nodes, s.param_count, s.flops, s.returns or (),
                             {n: d[0] for n, d in scope.dims.items()}, examples, s.relations)
    return scope, models


def _reaches(loader, root, m) -> bool:
    """Is module ``m`` ``root`` or (transitively) used by it?"""
    seen, todo = set(), [root]
    while todo:
        cur = todo.pop()
        if cur is None or cur.path in seen:
            continue
        seen.add(cur.path)
        if cur is m:
            return True
        for item in cur.items:
            if isinstance(item, ir.Use):
                target = os.path.normpath(os.path.join(os.path.dirname(cur.path), item.path))
                todo.append(loader.modules.get(target))
    return False


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
    mod = None
    scope = None
    models = {}
    # the parse tree, IR and sympy terms are acyclic: full collections while they grow
    # only cost time (about 40% of a 20,000-line file), so the collector pauses here
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        mod = loader.load(path, reporter, text=text)
        if mod is not None:
            scope, models = _check_module(loader, mod, reporter)
    except RecursionError:
        reporter.report("SC005", Span(path, 1, 1, 1, 2), "the spec is nested too deeply to analyse")
    except Exception as e:  # never a traceback for the user: a located internal error
        tb = traceback.extract_tb(e.__traceback__)
        where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else "?"
        reporter.report("SC003", Span(path, 1, 1, 1, 2),
                        f"internal error: {type(e).__name__}: {e} (at {where}); please report this",
                        [Note(None, "the checks above this point still hold")])
    finally:
        if gc_was_enabled:
            gc.enable()
    return Result(path, reporter.sorted(), models, dict(loader.sources), mod, scope)


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
