"""Inline suppressions: ``# shapecheck: ignore[SC301]`` on the line of a finding.

A comment ``# shapecheck: ignore[SC301,SC501]`` suppresses findings with those
codes that start on its line; a bare ``# shapecheck: ignore`` suppresses every
code there. A suppression (or one code of it) that suppresses nothing is
itself reported as SC701 (a warning), so stale comments do not pile up.
Suppressions match the checker's findings before any ``select``/``ignore``/
``severity`` filtering, so whether a comment is used does not depend on the
command line. SC002 (unreadable file), SC003 (internal error) and SC701
itself are never suppressed.

The syntax is strict, as ruff's ``noqa``: a comment that starts
``# shapecheck:`` but is neither ``# shapecheck: ignore`` nor
``# shapecheck: ignore[CODE, ...]`` (optionally followed by another ``#``
comment) is reported as SC702 (malformed suppression) and silences nothing:
``ignore SC301``, ``ignore-SC301``, ``ignore (SC301)``, ``ignore[SC301`` and
``ignore-next-line`` are all mistakes, not bare ``ignore``s.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .codes import CODES
from .diagnostics import Diagnostic
from .span import Span

UNUSED = "SC701"
MALFORMED = "SC702"
UNSUPPRESSIBLE = frozenset({"SC002", "SC003", UNUSED, MALFORMED})

#: a comment meant for shapecheck (then it must be a valid directive)
_PREFIX = re.compile(r"#\s*shapecheck\s*:", re.I)
#: the valid directives: bare `ignore` or `ignore[CODE, ...]`, then the end or another comment
_DIRECTIVE = re.compile(r"#\s*shapecheck\s*:\s*ignore(?:\[([A-Za-z0-9,\s]*)\])?\s*(?=#|$)", re.I)


@dataclass(frozen=True)
class Suppression:
    """One ``# shapecheck: ignore[...]`` comment; ``codes`` is ``None`` for all codes."""
    span: Span
    codes: Optional[tuple]

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def _comment_start(line: str) -> int:
    """The index of the ``#`` that starts the line's comment (outside a string), or -1.

    >>> _comment_start('x = rearrange(q, "a # b")  # note'), _comment_start('dim a')
    (27, -1)
    """
    in_str = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "#":
            return i
        i += 1
    return -1


def parse_suppressions(text: str, path: str, malformed: Optional[list] = None) -> list:
    """Every suppression comment of a source file; each comment that starts
    ``# shapecheck:`` but is not a valid directive is appended to ``malformed``
    as an SC702 diagnostic (and suppresses nothing).

    >>> [(s.span.line, s.span.col, s.codes) for s in parse_suppressions(
    ...     "dim a\\nx = y  # shapecheck: ignore[SC301, sc501]\\nz = w # shapecheck: ignore\\n", "f")]
    [(2, 8, ('SC301', 'SC501')), (3, 7, None)]
    >>> bad = []
    >>> parse_suppressions("x = y  # shapecheck: ignore SC301\\n", "f", bad), [(d.code, d.span.col) for d in bad]
    ([], [('SC702', 8)])
    """
    out = []
    if "shapecheck" not in text.lower():       # most files: nothing to scan
        return out
    for lineno, line in enumerate(text.splitlines(), start=1):
        if "shapecheck" not in line.lower():
            continue
        start = _comment_start(line)
        if start < 0:
            continue
        # the comment may hold several `#` parts ("# note # shapecheck: ignore"): check each one
        for m in _PREFIX.finditer(line, start):
            d = _DIRECTIVE.match(line, m.start())
            if d is None:
                if malformed is not None:
                    end = line.find("#", m.end())
                    end = len(line.rstrip()) if end < 0 else len(line[:end].rstrip())
                    malformed.append(Diagnostic(
                        MALFORMED, Span(path, lineno, m.start() + 1, lineno, end + 1),
                        f"malformed suppression `{line[m.start():end]}`: write `# shapecheck: ignore[CODE, ...]` "
                        "or a bare `# shapecheck: ignore`; it suppresses nothing"))
                continue
            codes = None
            if d.group(1) is not None:
                codes = tuple(dict.fromkeys(c.upper() for c in re.split(r"[,\s]+", d.group(1)) if c))
            end = m.start() + len(d.group(0).rstrip())
            out.append(Suppression(Span(path, lineno, m.start() + 1, lineno, end + 1), codes))
    return out


class Suppressor:
    """Applies the suppression comments of the files in ``sources`` ({path: text})
    and remembers which ones were used."""

    def __init__(self, sources: Optional[dict] = None):
        self._by_line: dict = {}      # (path, line) -> [Suppression]
        self._parsed: set = set()
        self._used: dict = {}         # Suppression -> set of codes used ("*" for a bare one)
        self._malformed: dict = {}    # path -> [SC702 Diagnostic]
        self.suppressed: list = []
        for path, text in (sources or {}).items():
            self.add_source(path, text)

    def add_source(self, path: str, text: str) -> None:
        if path in self._parsed:
            return
        self._parsed.add(path)
        self._malformed[path] = []
        for s in parse_suppressions(text, path, self._malformed[path]):
            self._by_line.setdefault((path, s.span.line), []).append(s)

    def is_suppressed(self, d: Diagnostic) -> bool:
        """Is ``d`` suppressed by a comment on its line? Records the use."""
        if d.code in UNSUPPRESSIBLE:
            return False
        hit = False
        for s in self._by_line.get((d.span.file, d.span.line), ()):
            if s.covers(d.code):
                self._used.setdefault(s, set()).add(d.code if s.codes is not None else "*")
                hit = True
        return hit

    def filter(self, diags) -> list:
        """The diagnostics not suppressed (the others are kept in ``self.suppressed``)."""
        kept = []
        for d in diags:
            if self.is_suppressed(d):
                self.suppressed.append(d)
            else:
                kept.append(d)
        return kept

    def malformed(self, paths=None) -> list:
        """SC702 for every malformed ``# shapecheck:`` comment in ``paths`` (default: all files seen)."""
        return [d for path, ds in sorted(self._malformed.items()) if paths is None or path in paths for d in ds]

    def unused(self, paths=None) -> list:
        """SC701 for every suppression (or code of one) in ``paths`` (default: all
        files seen) that suppressed nothing."""
        wanted = None if paths is None else set(paths)
        out = []
        for (path, _line), sups in sorted(self._by_line.items()):
            if wanted is not None and path not in wanted:
                continue
            for s in sups:
                used = self._used.get(s, set())
                if s.codes is None:
                    if not used:
                        out.append(Diagnostic(UNUSED, s.span, "this `# shapecheck: ignore` suppresses "
                                                              "nothing on its line; remove it"))
                    continue
                if not s.codes:
                    out.append(Diagnostic(UNUSED, s.span, "this `# shapecheck: ignore[]` names no code; "
                                                          "remove it or name the codes to suppress"))
                    continue
                for code in s.codes:
                    if code in used:
                        continue
                    if code not in CODES:
                        msg = f"`{code}` in this suppression is not a diagnostic code (see `shapecheck codes`)"
                    elif code in UNSUPPRESSIBLE:
                        msg = f"`{code}` cannot be suppressed; remove it from this comment"
                    else:
                        msg = f"`{code}` in this suppression suppresses nothing on its line; remove it"
                    out.append(Diagnostic(UNUSED, s.span, msg))
        return out
