"""Diagnostics and their text formatter.

The checker never prints: it calls ``report(code, span, message, notes)`` on a
:class:`Reporter`, and a formatter renders the sorted list at the boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .codes import CODES, ERROR
from .span import Span, snippet


@dataclass(frozen=True)
class Note:
    span: Optional[Span]
    message: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    span: Span
    message: str
    notes: tuple[Note, ...] = ()
    severity: str = ""
    #: for a refuted check: (the relation that fails, {symbol: int} where it
    #: fails, the relations in force there); lets tests evaluate the evidence
    evidence: Optional[tuple] = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", CODES[self.code].severity)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self):
        return (self.span.file, self.span.line, self.span.col, self.code, self.message)


@dataclass
class Reporter:
    """Collects diagnostics; de-duplicates identical ones (a block checked once
    but reached from several places reports once)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    _seen: set = field(default_factory=set)

    def report(self, code: str, span: Span, message: str, notes=(), evidence=None) -> None:
        d = Diagnostic(code, span, message, tuple(notes), evidence=evidence)
        key = (d.code, d.span, d.message)
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(d)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.diagnostics, key=Diagnostic.sort_key)


def format_text(diags, sources: dict[str, str]) -> str:
    """Render diagnostics as ``path:line:col: CODE message`` with a caret.

    >>> d = Diagnostic("SC101", Span("m.shape", 1, 5, 1, 6), "undefined name `y`")
    >>> print(format_text([d], {"m.shape": "x = y"}))
    m.shape:1:5: SC101 error: undefined name `y`
        x = y
            ^
    """
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        out.append(f"{d.span}: {d.code} {d.severity}: {d.message}")
        snip = snippet(sources.get(d.span.file, ""), d.span)
        if snip:
            out.append(snip)
        for n in d.notes:
            if n.span is not None:
                out.append(f"  note: {n.span}: {n.message}")
                nsnip = snippet(sources.get(n.span.file, ""), n.span)
                if nsnip:
                    out.append("  " + nsnip.replace("\n", "\n  "))
            else:
                out.append(f"  note: {n.message}")
    return "\n".join(out)
