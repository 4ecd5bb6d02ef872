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

    def to_dict(self) -> dict:
        """Everything but ``evidence``, as plain JSON data (the result cache, worker processes).

        >>> d = Diagnostic("SC101", Span("m.shape", 1, 5, 1, 6), "undefined name `y`", (Note(None, "n"),))
        >>> Diagnostic.from_dict(d.to_dict()) == d
        True
        """
        def span(s):
            return None if s is None else [s.file, s.line, s.col, s.end_line, s.end_col]
        return {"code": self.code, "span": span(self.span), "message": self.message,
                "severity": self.severity, "notes": [[span(n.span), n.message] for n in self.notes]}

    @classmethod
    def from_dict(cls, data: dict) -> "Diagnostic":
        def span(s):
            return None if s is None else Span(*s)
        return cls(data["code"], span(data["span"]), data["message"],
                   tuple(Note(span(s), m) for s, m in data["notes"]), data["severity"])


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


#: ANSI styles of the text format when colour is on
_STYLE = {"error": "\033[1;31m", "warning": "\033[1;33m", "where": "\033[1m", "code": "\033[1;36m",
          "caret": "\033[1;34m", "note": "\033[1;32m"}
_RESET = "\033[0m"


def format_text(diags, sources: dict[str, str], color: bool = False) -> str:
    """Render diagnostics as ``path:line:col: CODE message`` with a caret.

    The source line and caret are shown when ``sources`` has the file's text
    (a file that could not be read has none). ``color`` adds ANSI styles.

    >>> d = Diagnostic("SC101", Span("m.shape", 1, 5, 1, 6), "undefined name `y`")
    >>> print(format_text([d], {"m.shape": "x = y"}))
    m.shape:1:5: SC101 error: undefined name `y`
        x = y
            ^
    """
    def style(kind, text):
        return f"{_STYLE[kind]}{text}{_RESET}" if color else text

    def snip(span):
        text = sources.get(span.file)
        s = snippet(text, span) if text is not None else ""
        if s and color:
            src, caret = s.split("\n")
            s = src + "\n" + style("caret", caret)
        return s

    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        out.append(f"{style('where', str(d.span) + ':')} {style('code', d.code)} "
                   f"{style(d.severity, d.severity + ':') if d.severity in _STYLE else d.severity + ':'} "
                   f"{d.message}")
        s = snip(d.span)
        if s:
            out.append(s)
        for n in d.notes:
            if n.span is not None:
                out.append(f"  {style('note', 'note:')} {n.span}: {n.message}")
                s = snip(n.span)
                if s:
                    out.append("  " + s.replace("\n", "\n  "))
            else:
                out.append(f"  {style('note', 'note:')} {n.message}")
    return "\n".join(out)
