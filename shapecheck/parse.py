"""The parser: one cached LALR Lark instance; syntax errors become diagnostics."""
from __future__ import annotations

import functools
import os
from typing import Optional

from .diagnostics import Diagnostic
from .span import Span

MAX_SOURCE_BYTES = 5_000_000

#: Words the language keeps for itself (docs/language.md, "Reserved words").
RESERVED = frozenset("dim let require block model input param return repeat use "
                     "true false none int float bool".split())


def grammar_path() -> str:
    """The grammar file: shipped inside the package, or the repository's ``grammars/``."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "grammars", "shape.lark"),
                      os.path.join(os.path.dirname(here), "grammars", "shape.lark")):
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError("shapecheck grammar (grammars/shape.lark) is not installed")


@functools.lru_cache(maxsize=1)
def parser():
    from lark import Lark

    with open(grammar_path(), encoding="utf-8") as f:
        grammar = f.read()
    try:
        return Lark(grammar, parser="lalr", propagate_positions=True, cache=True,
                    maybe_placeholders=True)
    except OSError:  # read-only cache location: build without it
        return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _describe(terminal: str) -> str:
    try:
        pattern = parser().get_terminal(terminal).pattern
    except KeyError:
        return terminal
    from lark.lexer import PatternStr

    if isinstance(pattern, PatternStr):
        return f"'{pattern.value}'"
    names = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string",
             "COMP": "a comparison (== != < <= > >=)", "POW": "'**'", "$END": "end of file"}
    return names.get(terminal, terminal.lower())


def _expected(terms) -> str:
    items = sorted({_describe(t) for t in terms})
    if len(items) > 12:
        items = items[:12] + ["..."]
    return ", ".join(items)


def parse(text: str, path: str):
    """Parse ``text``; return ``(tree, None)`` or ``(None, Diagnostic)``."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    try:
        tree = parser().parse(text)
        return (tree, None) if (diag := _check_tree(tree, path)) is None else (None, diag)
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            line, col = _end(text)
            found = "end of file"
            span = Span(path, line, col, line, col + 1)
        else:
            found = repr(str(tok))
            span = Span(path, tok.line, tok.column, tok.end_line or tok.line,
                        tok.end_column or tok.column + 1)
        return None, Diagnostic("SC001", span,
                                f"unexpected {found}: expected {_expected(e.expected)}")
    except UnexpectedCharacters as e:
        span = Span(path, e.line, e.column, e.line, e.column + 1)
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else "?"
        allowed = _expected(e.allowed) if e.allowed else "a statement"
        return None, Diagnostic("SC001", span,
                                f"unexpected character {ch!r}: expected {allowed}")
    except UnexpectedEOF as e:
        line, col = _end(text)
        return None, Diagnostic("SC001", Span(path, line, col, line, col + 1),
                                f"unexpected end of file: expected {_expected(e.expected)}")
    except UnexpectedInput as e:  # pragma: no cover - other lark input errors
        line, col = getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1
        return None, Diagnostic("SC001", Span(path, line, col, line, col + 1), f"syntax error: {e}")


def _check_tree(tree, path: str) -> Optional[Diagnostic]:
    """What the LALR grammar lets through but the language forbids: a reserved
    word used as a name, a positional argument after a keyword argument. The
    first such place in the file, or None."""
    from lark import Token, Tree

    found = []
    for t in tree.iter_subtrees():
        for c in t.children:
            if isinstance(c, Token) and c.type == "NAME" and str(c) in RESERVED:
                found.append(((c.line, c.column), token_span(path, c),
                              f"`{c}` is a reserved word and cannot be used as a name: "
                              f"expected a name, found the keyword `{c}` (rename it)"))
        if t.data == "args":
            keyword = None
            for a in t.children:
                if isinstance(a, Tree) and a.data == "kwarg":
                    keyword = keyword or a
                elif a is not None and keyword is not None:
                    sp = meta_span(path, a.meta) if isinstance(a, Tree) else token_span(path, a)
                    found.append(((sp.line, sp.col), sp,
                                  f"positional argument after the keyword argument `{keyword.children[0]}=`: "
                                  f"expected positional arguments first, then keywords"))
                    break
    if not found:
        return None
    _, span, message = min(found, key=lambda f: f[0])
    return Diagnostic("SC001", span, message)


def _end(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def token_span(path: str, tok) -> Span:
    return Span(path, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + 1)


def meta_span(path: str, meta, fallback: Optional[Span] = None) -> Span:
    if getattr(meta, "empty", True):
        return fallback or Span(path, 1, 1, 1, 2)
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)
