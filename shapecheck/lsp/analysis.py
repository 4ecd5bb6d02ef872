"""Check specs for the language server: the lint pipeline, cached.

A spec is checked exactly as ``shapecheck lint`` checks it (the checker, the
inline suppressions with SC701 for stale ones, then ``[tool.shapecheck]``'s
``select``/``ignore``/``severity``/``warnings-as-errors``), reading open
documents from the editor's buffers and other files from disk.

Caching: a file's parse (IR) is kept per text, so the ``use`` closure of an
edited spec is not parsed again; a whole analysis is kept until the text of
the spec or of any file it reached changes. Nothing here imports pygls.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from .. import ir
from ..api import Loader, Result, check_path, read_text
from ..program import canonical
from ..config import NOT_ANALYSED, Config, ConfigError, apply_policy, load_config
from ..suppress import Suppressor


def normpath(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


#: a line that starts a top-level item; a statement never starts with a token that
#: could continue an expression, so the text between two such lines is whole items
_ITEM_START = re.compile(r"^(?:use|dim|let|require|block|model)\b", re.M)


def chunks(text: str) -> list:
    """``[(first line, text)]``: the source cut before every line that starts
    (in column 1) with a top-level keyword."""
    starts = [0] + [m.start() for m in _ITEM_START.finditer(text) if m.start() > 0]
    out = []
    for a, b in zip(starts, starts[1:] + [len(text)]):
        out.append((text.count("\n", 0, a) + 1, text[a:b]))
    return out


class CachingLoader(Loader):
    """A :class:`~shapecheck.api.Loader` that parses only what changed.

    A file whose text is unchanged since an earlier run reuses its IR
    (``cache``: path -> (text, module)). Otherwise the text is cut into runs
    of top-level items (:func:`chunks`) and only the runs not seen before (at
    the same line) are parsed (``pieces``: (path, line, text) -> items). When
    any run fails to parse, the whole file is parsed as the linter parses it,
    so a syntax error reads the same as in ``shapecheck lint``.
    """

    def __init__(self, read: Callable[[str], str], cache: dict, pieces: dict):
        super().__init__(read)
        self.cache = cache
        self.pieces = pieces

    def load(self, path, reporter, text=None, at=None):
        if self.loaded(path):
            return super().load(path, reporter, text, at)
        if text is None:
            try:
                text = self.read(path)
            except (OSError, UnicodeDecodeError):
                return super().load(path, reporter, None, at)   # reports it
        hit = self.cache.get(path)
        mod = hit[1] if hit is not None and hit[0] == text else self._by_pieces(path, text)
        if mod is None:
            mod = super().load(path, reporter, text, at)
        else:
            self.sources[path] = text
            self.modules[canonical(path)] = mod
        if mod is not None:
            self.cache[path] = (text, mod)
        return mod

    def _by_pieces(self, path: str, text: str) -> Optional[ir.Module]:
        from ..lower import LimitError, lower
        from ..parse import MAX_SOURCE_BYTES, parse

        if len(text) > MAX_SOURCE_BYTES:
            return None
        items, keys = [], set()
        for line, piece in chunks(text):
            key = (path, line, piece)
            keys.add(key)
            got = self.pieces.get(key)
            if got is None:
                tree, diag = parse("\n" * (line - 1) + piece, path)
                if diag is not None:
                    return None
                try:
                    got = lower(tree, path).items
                except LimitError:
                    return None
                self.pieces[key] = got
            items.extend(got)
        for k in [k for k in self.pieces if k[0] == path and k not in keys]:
            del self.pieces[k]
        return ir.Module(path, tuple(items))


@dataclass
class Analysis:
    """One checked spec: its findings (after suppressions and configuration),
    the checker's result and the IR of every file it reached."""
    path: str
    text: str
    result: Result
    diagnostics: list                     # Diagnostic, those located in ``path``
    modules: dict                         # path -> ir.Module (None: unreadable/unparsable)
    deps: dict                            # path -> text (None: unreadable) of every file reached
    config: Config = field(default_factory=Config)
    config_error: Optional[str] = None

    @property
    def module(self):
        return self.modules.get(self.path)


class Workspace:
    """Open documents (their buffer text) and the analyses of specs."""

    def __init__(self):
        self.overlays: dict = {}          # path -> text of an open document
        self.parses: dict = {}            # path -> (text, ir.Module)
        self.pieces: dict = {}            # (path, line, text) -> the items of a run of the text
        self.analyses: dict = {}          # path -> Analysis (the latest)
        self.configs: dict = {}           # folder -> (Config, error message or None)
        self.parsed: dict = {}            # path -> the latest Analysis whose spec parsed
        self.stats = {"checks": 0, "reused": 0}

    # -- documents ------------------------------------------------------------------
    def open(self, path: str, text: str) -> None:
        self.overlays[normpath(path)] = text

    def close(self, path: str) -> None:
        self.overlays.pop(normpath(path), None)

    def read(self, path: str) -> str:
        text = self.overlays.get(path)
        return read_text(path) if text is None else text

    def _current(self, path: str) -> Optional[str]:
        try:
            return self.read(path)
        except (OSError, UnicodeDecodeError):
            return None

    # -- checking -------------------------------------------------------------------
    def analyse(self, path: str) -> Analysis:
        """The analysis of ``path`` as the buffers and disk are now (reused when
        neither the spec nor any file it reached changed)."""
        path = normpath(path)
        old = self.analyses.get(path)
        if old is not None and all(self._current(p) == t for p, t in old.deps.items()):
            self.stats["reused"] += 1
            return old
        self.stats["checks"] += 1
        loader = CachingLoader(self.read, self.parses, self.pieces)
        result = check_path(path, loader=loader)
        text = loader.sources.get(path, "")
        deps = dict(loader.sources)              # every file reached, by the path shown
        deps.setdefault(path, None)
        for missing in loader.unreadable:        # re-checked once such a file appears
            deps.setdefault(missing, None)
        modules = {p: loader.module(p) for p in deps}
        cfg, cfg_error = self.config_for(path)
        raw = [d for d in result.diagnostics if d.span.file == path]
        suppressor = Suppressor({path: text})
        kept = suppressor.filter(raw)
        if not any(d.code in NOT_ANALYSED for d in raw):
            kept += suppressor.unused([path])
        diags = apply_policy(kept, select=cfg.select, ignore=cfg.ignore, severity=cfg.severity,
                             warnings_as_errors=cfg.warnings_as_errors)
        a = Analysis(path, text, result, diags, modules, deps, cfg, cfg_error)
        self.analyses[path] = a
        if a.module is not None:
            self.parsed[path] = a
        return a

    def config_for(self, path: str) -> tuple:
        """``[tool.shapecheck]`` in force for ``path`` (read once per folder until
        :meth:`reload_config`), and the error message if it is invalid."""
        folder = os.path.dirname(path)
        if folder not in self.configs:
            try:
                self.configs[folder] = (load_config(folder), None)
            except ConfigError as e:
                self.configs[folder] = (Config(), str(e))
        return self.configs[folder]

    def reload_config(self) -> None:
        """Forget the configuration read (a pyproject.toml changed); re-check everything."""
        self.configs.clear()
        self.analyses.clear()

    def dependents(self, path: str) -> list:
        """The analysed specs (other than ``path``) whose ``use`` closure holds ``path``."""
        path = normpath(path)
        return sorted(p for p, a in self.analyses.items() if p != path and path in a.deps)

    def forget(self, path: str) -> None:
        self.analyses.pop(normpath(path), None)
        self.parsed.pop(normpath(path), None)
