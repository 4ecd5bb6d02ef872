"""Project configuration: ``[tool.shapecheck]`` in the nearest ``pyproject.toml``.

The search starts in the current directory and walks up to the filesystem
root; the first ``pyproject.toml`` that has a ``[tool.shapecheck]`` table is
used (one without the table is skipped, as ruff does). Keys::

    [tool.shapecheck]
    paths = ["specs"]                 # default lint targets (relative to this file)
    select = ["SC3", "SC401"]         # only these codes or code prefixes
    ignore = ["SC5"]                  # never these
    warnings-as-errors = false
    severity = { SC501 = "error", SC307 = "warning", SC504 = "off" }
    bind = { batch = 2, seq_len = 16 }   # default `verify --bind` sizes
    exclude = [".*", "__pycache__"]   # globs skipped when folders are walked (replaces the default)
    extend-exclude = ["generated"]    # more globs, added to `exclude`
    project-root = ".."               # widen where `use` may reach (default: this file's folder)
    [tool.shapecheck.conform.gpt2]       # `conform`: spec names -> module names (see conform.py)
    causal_self_attention = "transformer.h.*.attn"

A glob without ``/`` matches any file or folder name; one with ``/`` matches the
path relative to the ``pyproject.toml``'s folder. The command line finds the
configuration of each linted file from that file's folder, as ruff does.
The library never reads configuration by itself, except :mod:`shapecheck.project`
for ``project-root`` (the boundary of ``use``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Optional

from .codes import CODES

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10: tomli if installed
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

PYPROJECT = "pyproject.toml"
SEVERITIES = ("error", "warning", "off")
_KEYS = ("paths", "select", "ignore", "warnings-as-errors", "severity", "bind", "conform", "exclude",
         "extend-exclude", "project-root")
#: globs never walked into by default (a folder's name or a path relative to the configuration)
DEFAULT_EXCLUDE = (".*", "__pycache__", "node_modules")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(Exception):
    """An unreadable or invalid configuration (the command line exits 2)."""


@dataclass
class Config:
    """The settings in force; every field has the no-configuration default."""
    path: Optional[str] = None          # the pyproject.toml read, if any
    paths: tuple = ()                   # default lint targets, resolved against the file's folder
    select: tuple = ()                  # code selectors; empty: every code
    ignore: tuple = ()
    warnings_as_errors: bool = False
    severity: dict = field(default_factory=dict)   # selector -> "error" | "warning" | "off"
    bind: dict = field(default_factory=dict)       # dimension name -> positive int
    conform: dict = field(default_factory=dict)    # model name -> {spec name: pattern(s)} (checked by conform)
    exclude: tuple = DEFAULT_EXCLUDE
    extend_exclude: tuple = ()
    project_root: Optional[str] = None  # absolute; widens the `use` boundary

    @property
    def root(self) -> Optional[str]:
        return os.path.dirname(self.path) if self.path else None

    def fingerprint(self) -> list:
        """Everything that can change a lint result, as JSON data (a cache key part)."""
        return [self.path, list(self.select), list(self.ignore), self.warnings_as_errors,
                sorted(self.severity.items()), self.project_root]

    def excluded(self, path: str) -> bool:
        """Does an ``exclude``/``extend-exclude`` glob match ``path`` (a file or folder)?

        >>> c = Config(path="/p/pyproject.toml", extend_exclude=("gen/*.shape", "tmp"))
        >>> [c.excluded(p) for p in ("/p/.git", "/p/specs/a.shape", "/p/gen/a.shape", "/p/x/tmp")]
        [True, False, True, True]
        """
        import fnmatch
        name = os.path.basename(os.path.normpath(path))
        rel = None
        if self.root:
            rel = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        for pat in self.exclude + self.extend_exclude:
            if "/" in pat.rstrip("/"):
                if rel is not None and not rel.startswith("..") and fnmatch.fnmatchcase(rel, pat.rstrip("/")):
                    return True
            elif name not in (".", "..") and fnmatch.fnmatchcase(name, pat.rstrip("/")):
                return True
        return False


def split_codes(value, what: str = "code list") -> tuple:
    """Code selectors from ``"SC301, SC5"`` or ``["SC301", "SC5"]``, checked.

    A selector is a full code (``SC301``) or a prefix of at least one code
    (``SC3``, ``SC50``); ``ALL`` selects every code.

    >>> split_codes("SC301, sc5")
    ('SC301', 'SC5')
    >>> split_codes(["SC9"])
    Traceback (most recent call last):
    ...
    shapecheck.config.ConfigError: code list: `SC9` matches no diagnostic code (see `shapecheck codes`)
    """
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise ConfigError(f"{what}: expected a string or a list of strings, got {value!r}")
    out = []
    for item in items:
        for part in re.split(r"[,\s]+", item):
            part = part.strip().upper()
            if not part:
                continue
            if part != "ALL" and not any(c.startswith(part) for c in CODES):
                raise ConfigError(f"{what}: `{part}` matches no diagnostic code (see `shapecheck codes`)")
            if part not in out:
                out.append(part)
    return tuple(out)


def matches(code: str, selectors) -> bool:
    """Does ``code`` match any selector (a code, a prefix, or ``ALL``)?

    >>> matches("SC501", ("SC3", "SC5")), matches("SC101", ("SC3",))
    (True, False)
    """
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def severity_for(code: str, table: dict) -> Optional[str]:
    """The configured severity of ``code``: the longest matching selector wins.

    >>> severity_for("SC501", {"SC5": "error", "SC501": "off"}), severity_for("SC301", {"SC5": "off"})
    ('off', None)
    """
    best = None
    for sel, sev in table.items():
        if sel == "ALL" or code.startswith(sel):
            if best is None or len(sel) > len(best[0]) or best[0] == "ALL":
                best = (sel, sev)
    return best[1] if best else None


def find_pyproject(start: Optional[str] = None) -> Optional[str]:
    """The nearest ``pyproject.toml`` with a ``[tool.shapecheck]`` table, from
    ``start`` (default: the current directory) upward; ``None`` if there is none."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        cand = os.path.join(d, PYPROJECT)
        if os.path.isfile(cand) and "shapecheck" in _read_toml(cand).get("tool", {}):
            return cand
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _read_toml(path: str) -> dict:
    if tomllib is None:  # pragma: no cover
        raise ConfigError(f"{path}: reading pyproject.toml needs Python 3.11 (tomllib) or the `tomli` package")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None


def load_config(start: Optional[str] = None) -> Config:
    """The configuration in force for a run started in ``start`` (default: the
    current directory); the defaults when no ``pyproject.toml`` configures shapecheck."""
    path = find_pyproject(start)
    if path is None:
        return Config()
    return parse_config(_read_toml(path)["tool"]["shapecheck"], path)


class Resolver:
    """The configuration of each linted file, found from the file's folder
    upward (the nearest ``pyproject.toml`` with ``[tool.shapecheck]``, as ruff
    does); each folder is searched and each file parsed once per run."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._dirs: dict = {}
        self._parsed: dict = {}

    def for_path(self, path: str) -> Config:
        if not self.enabled:
            return Config()
        d = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        if d not in self._dirs:
            self._dirs[d] = find_pyproject(d)
        found = self._dirs[d]
        if found is None:
            return Config()
        if found not in self._parsed:
            self._parsed[found] = parse_config(_read_toml(found)["tool"]["shapecheck"], found)
        return self._parsed[found]


def parse_config(table, path: str) -> Config:
    """Validate a ``[tool.shapecheck]`` table read from ``path``.

    >>> c = parse_config({"select": "SC3", "severity": {"SC501": "error"}, "bind": {"batch": 2}},
    ...                  "/p/pyproject.toml")
    >>> c.select, c.severity, c.bind
    (('SC3',), {'SC501': 'error'}, {'batch': 2})
    """
    where = f"{path}: [tool.shapecheck]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = [k for k in table if k not in _KEYS]
    if unknown:
        hint = {"warnings_as_errors": "warnings-as-errors"}.get(unknown[0])
        raise ConfigError(f"{where}: unknown key `{unknown[0]}`"
                          + (f" (did you mean `{hint}`?)" if hint else f" (keys: {', '.join(_KEYS)})"))
    cfg = Config(path=path)
    root = os.path.dirname(path)
    if "paths" in table:
        paths = table["paths"]
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise ConfigError(f"{where}: `paths` must be a list of paths")
        cfg.paths = tuple(os.path.normpath(os.path.join(root, p)) for p in paths)
    if "select" in table:
        cfg.select = split_codes(table["select"], f"{where}: `select`")
    if "ignore" in table:
        cfg.ignore = split_codes(table["ignore"], f"{where}: `ignore`")
    if "warnings-as-errors" in table:
        if not isinstance(table["warnings-as-errors"], bool):
            raise ConfigError(f"{where}: `warnings-as-errors` must be true or false")
        cfg.warnings_as_errors = table["warnings-as-errors"]
    sev = table.get("severity", {})
    if not isinstance(sev, dict):
        raise ConfigError(f"{where}: `severity` must be a table of code = \"error\" | \"warning\" | \"off\"")
    for code, level in sev.items():
        sel = split_codes(code, f"{where}: `severity`")
        if len(sel) != 1:
            raise ConfigError(f"{where}: `severity`: one code per key, got `{code}`")
        if level not in SEVERITIES:
            raise ConfigError(f"{where}: `severity.{code}` must be one of "
                              f"{', '.join(repr(s) for s in SEVERITIES)}, got {level!r}")
        cfg.severity[sel[0]] = level
    binds = table.get("bind", {})
    if not isinstance(binds, dict):
        raise ConfigError(f"{where}: `bind` must be a table of dimension = size")
    for name, value in binds.items():
        if not _NAME.fullmatch(name):
            raise ConfigError(f"{where}: `bind`: `{name}` is not a dimension name")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: `bind.{name}` must be a positive integer, got {value!r}")
        cfg.bind[name] = value
    conform = table.get("conform", {})
    if not isinstance(conform, dict) or not all(isinstance(v, dict) for v in conform.values()):
        raise ConfigError(f"{where}: `conform` must hold one table per model: [tool.shapecheck.conform.MODEL]")
    cfg.conform = dict(conform)
    for key in ("exclude", "extend-exclude"):
        if key in table:
            globs = table[key]
            if isinstance(globs, str):
                globs = [globs]
            if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
                raise ConfigError(f"{where}: `{key}` must be a list of glob patterns")
            setattr(cfg, key.replace("-", "_"), tuple(globs))
    if "project-root" in table:
        value = table["project-root"]
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: `project-root` must be a folder path")
        full = os.path.normpath(os.path.join(root, value))
        if not os.path.isdir(full):
            raise ConfigError(f"{where}: `project-root` {value!r} is not a folder")
        cfg.project_root = full
    return cfg


#: findings that mean the run itself failed: never filtered (the command line exits 2)
RUN_FAILURES = frozenset({"SC002", "SC003"})
#: a file with one of these was not (fully) analysed: its suppressions are not judged unused
NOT_ANALYSED = frozenset({"SC001", "SC002", "SC003", "SC005"})


def apply_policy(diags, *, select=(), ignore=(), severity=None, warnings_as_errors=False) -> list:
    """Filter and re-grade findings: ``select``/``ignore`` selectors, the
    ``severity`` table (code or prefix -> error | warning | off; the longest
    match wins), then ``warnings_as_errors``. SC002 and SC003 pass unchanged."""
    import dataclasses

    out = []
    for d in diags:
        if d.code not in RUN_FAILURES:
            if select and not matches(d.code, select):
                continue
            if ignore and matches(d.code, ignore):
                continue
            level = severity_for(d.code, severity or {})
            if level == "off":
                continue
            if level is not None and level != d.severity:
                d = dataclasses.replace(d, severity=level)
            if warnings_as_errors and d.severity == "warning":
                d = dataclasses.replace(d, severity="error")
        out.append(d)
    return out
