"""Source locations and the caret snippet shown under every diagnostic."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based region of a source file (end column exclusive)."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


_BLANK = {c: " " for c in (0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


def snippet(text: str, span: Span) -> str:
    """The source line of ``span`` with a caret underline, or '' if out of range.

    >>> print(snippet("a = b\\nx = yy + z\\n", Span("f", 2, 5, 2, 7)))
        x = yy + z
            ^^
    """
    # lines as the parser counts them (by \n only); other control characters shown as spaces
    lines = [(ln[:-1] if ln.endswith("\r") else ln).translate(_BLANK) for ln in text.split("\n")]
    if not 1 <= span.line <= len(lines):
        return ""
    line = lines[span.line - 1].expandtabs(4) if "\t" not in lines[span.line - 1] else lines[span.line - 1]
    if len(line) > 200:  # keep very long lines readable
        start = max(0, span.col - 80)
        shown = line[start:start + 160]
        col = span.col - start
    else:
        shown, col = line, span.col
    width = (span.end_col - span.col) if span.end_line == span.line else len(shown) - col + 1
    width = max(1, min(width, len(shown) - col + 1 if len(shown) >= col else 1))
    pad = "".join("\t" if ch == "\t" else " " for ch in shown[: col - 1])
    return f"    {shown}\n    {pad}{'^' * width}"
