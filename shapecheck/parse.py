"""The parser: one cached LALR Lark instance; syntax errors become diagnostics."""
from __future__ import annotations

import functools
import os
from typing import Optional

from .diagnostics import Diagnostic
from .span import Span

MAX_SOURCE_BYTES = 5_000_000

#: Words the language keeps for itself (docs/language.md, "Reserved words").
RESERVED = frozenset("dim let require block model input param return repeat in use "
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


#: how the parser's terminals are named in messages (never a token name of the parser)
_TERMINALS = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string",
              "COMP": "a comparison (== != < <= > >=)", "POW": "'**'", "$END": "end of file"}
#: the keywords a misspelled word may be meant as, by where they are allowed
STATEMENT_KEYWORDS = ("use", "dim", "let", "require", "block", "model", "return", "repeat", "input", "param")
DTYPES = ("int", "float", "bool")


def _describe(terminal: str) -> str:
    if terminal in _TERMINALS:
        return _TERMINALS[terminal]
    try:
        pattern = parser().get_terminal(terminal).pattern
    except KeyError:
        return "a token"
    from lark.lexer import PatternStr

    if isinstance(pattern, PatternStr):
        return f"'{pattern.value}'"
    return "a token"


def _expected(terms) -> str:
    items = sorted({_describe(t) for t in terms})
    if len(items) > 12:
        items = items[:12] + ["..."]
    return ", ".join(items)


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (insertions, deletions, substitutions, swaps).

    >>> edit_distance("reqire", "require"), edit_distance("flaot", "float"), edit_distance("dim", "model")
    (1, 1, 4)
    """
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def suggest(word: str, candidates) -> Optional[str]:
    """The candidate closest to ``word`` if it is close enough to be a typo.

    >>> suggest("reqire", STATEMENT_KEYWORDS), suggest("flaot", DTYPES), suggest("x", DTYPES)
    ('require', 'float', None)
    """
    best = None
    for c in candidates:
        d = edit_distance(word.lower(), c)
        limit = 1 if len(c) <= 4 else 2
        if d <= limit and d < len(word) and (best is None or d < best[0]):
            best = (d, c)
    return best[1] if best else None


def _tokens_before(text: str, pos: int) -> list:
    """The tokens of ``text`` before offset ``pos`` (the last few; [] when it cannot be lexed)."""
    from lark.exceptions import LarkError

    out = []
    try:
        for t in parser().lex(text[:pos]):
            out.append(t)
            if len(out) > 3:
                out.pop(0)
    except LarkError:
        return []
    return out


def _unexpected_token(e, text: str, path: str) -> Diagnostic:
    """SC001 for an unexpected token: at the token that is wrong, which is not
    always the one the parser stopped at (a misspelled dtype is only noticed at
    the next statement), naming it and suggesting a keyword it may misspell."""
    tok = e.token
    expected = set(e.expected)
    if tok.type == "$END":
        line, col = _end(text)
        return Diagnostic("SC001", Span(path, line, col, line, col + 1),
                          f"unexpected end of file: expected {_expected(expected)}")
    before = _tokens_before(text, tok.start_pos)
    prev = before[-1] if before else None
    prev2 = before[-2] if len(before) > 1 else None
    # a statement that is a lone name: `NAME` then neither `,` nor `=`. The mistake is that name
    # (`input x: [b, d] flaot`, noticed only at the next line; `reqire d > 1` noticed at `d`)
    lone = prev is not None and prev.type == "NAME" and expected <= {"COMMA", "EQUAL"}
    if lone and prev2 is not None and str(prev2) == "]" and suggest(str(prev), DTYPES):
        return Diagnostic("SC001", token_span(path, prev),
                          f"unexpected '{prev}' after a shape: expected a dtype ('int', 'float' or 'bool') "
                          f"or the end of the statement; did you mean '{suggest(str(prev), DTYPES)}'?")
    if lone and suggest(str(prev), STATEMENT_KEYWORDS):
        return Diagnostic("SC001", token_span(path, prev),
                          f"unexpected '{prev}': did you mean '{suggest(str(prev), STATEMENT_KEYWORDS)}'? "
                          f"(a statement starts with a keyword or is an assignment `NAME = ...`)")
    if tok.type == "NAME":
        hint = suggest(str(tok), STATEMENT_KEYWORDS + DTYPES)
        if hint:
            return Diagnostic("SC001", token_span(path, tok),
                              f"unexpected '{tok}': did you mean '{hint}'? (expected {_expected(expected)})")
    if lone and prev.line < tok.line:
        return Diagnostic("SC001", token_span(path, prev),
                          f"unexpected '{prev}': a statement is an assignment `{prev} = ...` or starts with "
                          f"a keyword (expected ',' or '=' after '{prev}')")
    return Diagnostic("SC001", token_span(path, tok), f"unexpected '{tok}': expected {_expected(expected)}")


def parse(text: str, path: str):
    """Parse ``text``; return ``(tree, None)`` or ``(None, Diagnostic)``."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    try:
        tree = parser().parse(text)
        return (tree, None) if (diag := _check_tree(tree, path)) is None else (None, diag)
    except UnexpectedToken as e:
        return None, _unexpected_token(e, text, path)
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
