"""The editor features over an :class:`~.analysis.Analysis`, as lsprotocol values.

Positions inside this module are 1-based (line, column in characters), as in
every :class:`~shapecheck.span.Span`; :class:`Conv` turns them into the
client's 0-based positions in its encoding (UTF-16 by default).
"""
from __future__ import annotations

import re
from typing import Optional

from lsprotocol import types as T

from .. import ir
from ..codes import CODES
from ..ops import OPS
from ..ops.core import REQUIRED, signature
from ..suppress import UNSUPPRESSIBLE, UNUSED, parse_suppressions
from ..span import Span
from . import index as X
from .shapes import statement_shapes

SOURCE = "shapecheck"
TOP_KEYWORDS = ("use", "dim", "let", "require", "block", "model")
BODY_KEYWORDS = ("input", "param", "return", "repeat", "let", "require")
VALUE_KEYWORDS = ("true", "false", "none", "int", "float", "bool", "dim")
#: operations the interpreter uses internally, not callable by name
_INTERNAL = {"index", "add", "sub", "mul", "div", "floordiv", "mod", "neg", "pow"}


# ---- positions ----------------------------------------------------------------------

class Conv:
    """Span <-> LSP position conversion for one client encoding
    (``utf-16``, ``utf-8`` or ``utf-32``); ``text_of(path)`` gives a file's text."""

    def __init__(self, text_of, encoding: str = "utf-16"):
        self.text_of = text_of
        self.encoding = encoding
        self._lines: dict = {}

    def lines(self, path: str) -> list:
        text = self.text_of(path) or ""
        hit = self._lines.get(path)
        if hit is None or hit[0] is not text:
            hit = (text, text.split("\n"))
            self._lines[path] = hit
        return hit[1]

    def _units(self, s: str) -> int:
        if self.encoding == "utf-32" or s.isascii():
            return len(s)
        if self.encoding == "utf-8":
            return len(s.encode("utf-8"))
        return len(s.encode("utf-16-le")) // 2

    def position(self, path: str, line: int, col: int) -> T.Position:
        lines = self.lines(path)
        text = lines[line - 1] if 1 <= line <= len(lines) else ""
        return T.Position(line=max(line - 1, 0), character=self._units(text[:max(col - 1, 0)]))

    def range(self, span: Span) -> T.Range:
        return T.Range(start=self.position(span.file, span.line, span.col),
                       end=self.position(span.file, span.end_line, span.end_col))

    def from_client(self, path: str, pos: T.Position) -> tuple:
        """A client position as (line, col), 1-based characters."""
        lines = self.lines(path)
        text = lines[pos.line] if 0 <= pos.line < len(lines) else ""
        if self.encoding == "utf-32" or text.isascii():
            return pos.line + 1, min(pos.character, len(text)) + 1
        units = 0
        for i, ch in enumerate(text):
            if units >= pos.character:
                return pos.line + 1, i + 1
            units += self._units(ch)
        return pos.line + 1, len(text) + 1


# ---- diagnostics ----------------------------------------------------------------------

def diagnostics(a, conv: Conv) -> list:
    out = []
    for d in a.diagnostics:
        related = [T.DiagnosticRelatedInformation(location=T.Location(uri=_uri(n.span.file), range=conv.range(n.span)),
                                                  message=n.message)
                   for n in d.notes if n.span is not None]
        message = d.message + "".join(f"\nnote: {n.message}" for n in d.notes if n.span is None)
        c = CODES.get(d.code)
        out.append(T.Diagnostic(
            range=conv.range(d.span), message=message, source=SOURCE, code=d.code,
            severity=T.DiagnosticSeverity.Error if d.is_error else T.DiagnosticSeverity.Warning,
            related_information=related or None,
            tags=[T.DiagnosticTag.Unnecessary] if d.code == UNUSED else None,
            data={"name": c.name} if c is not None else None))
    if a.config_error:
        out.append(T.Diagnostic(range=T.Range(start=T.Position(line=0, character=0),
                                              end=T.Position(line=0, character=1)),
                                message=f"[tool.shapecheck] not applied: {a.config_error}", source=SOURCE,
                                severity=T.DiagnosticSeverity.Warning))
    return out


def _uri(path: str) -> str:
    import pathlib
    return pathlib.Path(path).as_uri()


# ---- the model of one analysis ---------------------------------------------------------

class View:
    """What the features need of one analysis: indexes, resolver, shapes."""

    def __init__(self, a, texts, binds: Optional[dict] = None):
        self.a = a
        self.texts = texts                        # path -> text (callable)
        self.indexes = {}
        for p, mod in a.modules.items():
            if mod is not None:
                self.indexes[p] = X.build(mod, a.deps.get(p) or "")
        self.resolver = X.Resolver(self.indexes, a.path)
        self.binds = binds or {}
        self._shapes = None

    @property
    def index(self) -> Optional[X.Index]:
        return self.indexes.get(self.a.path)

    def shapes(self) -> dict:
        if self._shapes is None:
            binds = dict(self.a.config.bind or {})
            binds.update(self.binds)
            self._shapes = statement_shapes(self.a.result, binds)
        return self._shapes

    def shapes_of(self, stmt_span: Span, name: str) -> list:
        return self.shapes().get((stmt_span.file, stmt_span.line, stmt_span.col), {}).get(name, [])

    def source(self, path: str) -> str:
        return self.a.deps.get(path) or self.texts(path) or ""

    def text_of(self, span: Span) -> str:
        lines = self.source(span.file).split("\n")
        if span.line == span.end_line:
            return lines[span.line - 1][span.col - 1:span.end_col - 1] if span.line <= len(lines) else ""
        parts = [lines[span.line - 1][span.col - 1:]] + lines[span.line:span.end_line - 1] + \
                [lines[span.end_line - 1][:span.end_col - 1]]
        return "\n".join(parts)

    def env(self) -> dict:
        """{dimension name: example value} for dims, from the first model (or the dims' values)."""
        res = self.a.result
        for m in (res.models or {}).values():
            vals = dict(m.examples)
            for k, v in {**(self.a.config.bind or {}), **self.binds}.items():
                if k in m.dims and isinstance(v, int):
                    vals[k] = v
            return vals
        out = {}
        for name, (_sym, value, _span) in ((res.scope.dims if res.scope else {}) or {}).items():
            if isinstance(value, ir.Number) and isinstance(value.value, int):
                out[name] = value.value
        return out


# ---- hover ------------------------------------------------------------------------------

def hover(v: View, line: int, col: int) -> Optional[str]:
    idx = v.index
    if idx is None:
        return None
    x = idx.at(line, col)
    if x is None:
        return None
    if isinstance(x, X.UseLink):
        return f"`use` **{x.target}**" + ("" if x.target in v.indexes else " (not readable)")
    d = v.resolver.resolve(v.a.path, x)
    if d is None:
        if isinstance(x, X.Ref) and x.call and x.name in OPS and x.name not in _INTERNAL:
            return op_hover(x.name)
        if isinstance(x, X.Ref) and x.keyword_of in OPS:
            o = OPS[x.keyword_of]
            arg = next((a for a in o.args if a.name == x.name), None)
            if arg is not None:
                return f"argument `{x.name}` ({arg.kind}) of `{signature(o)}`"
            if o.varkw:
                return f"axis size `{x.name}` for the pattern of `{x.keyword_of}`"
        return None
    return def_hover(v, d)


def op_hover(name: str) -> str:
    o = OPS[name]
    doc = _first_paragraph(o.doc)
    return f"```shape\n{signature(o)}\n```\n\nbuilt-in operation" + (f": {doc}" if doc else "")


def _first_paragraph(doc: str) -> str:
    return " ".join(doc.split("\n\n")[0].split())


def _header(v: View, b: ir.Block) -> str:
    lines = v.source(b.span.file).split("\n")
    text = "\n".join(lines[b.span.line - 1:b.span.end_line])
    head = text[b.span.col - 1:]
    brace = head.find("{")
    return " ".join((head[:brace] if brace >= 0 else head.split("\n")[0]).split())


def _comment_above(v: View, b: ir.Block) -> str:
    lines = v.source(b.span.file).split("\n")
    out = []
    i = b.span.line - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        out.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return " ".join(out)


def _where(s) -> str:
    return s.model + ("" if not s.where else " › " + " › ".join(s.where))


def _rel(v: View, span: Span) -> str:
    import os
    if span.file == v.a.path:
        return f"line {span.line}"
    return f"{os.path.basename(span.file)}:{span.line}"


def def_hover(v: View, d: X.Def) -> str:
    if d.kind in (X.BLOCK, X.MODEL):
        b = d.node
        desc = _comment_above(v, b)
        out = [f"```shape\n{_header(v, b)}\n```"]
        if desc:
            out.append(desc)
        out.append(f"{d.kind} defined at {_rel(v, b.name_span)}")
        return "\n\n".join(out)
    if d.kind == X.DIM:
        return _dim_hover(v, d)
    if d.kind == X.LET:
        return _let_hover(v, d)
    if d.kind in (X.GENERIC, X.DIM_PARAM):
        b = _block_of(v, d)
        kind = "generic dimension" if d.kind == X.GENERIC else "dimension parameter"
        out = [f"**{kind}** `{d.name}` of block `{d.container}`: bound at each call"
               + (" from the arguments' shapes" if d.kind == X.GENERIC else "")]
        reqs = _local_requires(v, b, d.name)
        if reqs:
            out.append("requires: " + ", ".join(f"`{r}`" for r in reqs))
        return "\n\n".join(out)
    if d.kind == X.PASS:
        count = v.text_of(d.node.count.span)
        return (f"**pass index** `{d.name}` of `repeat {d.name} in {count}` in `{d.container}`: "
                f"0, 1, ..., {count} - 1\n\nA value carried around the loop may grow by the same amount "
                f"each pass (proved by induction over `{d.name}`).")
    if d.kind == X.PARAM and isinstance(d.node, ir.TensorParam):
        return f"**parameter** `{d.name}` of block `{d.container}`\n\n```shape\n{v.text_of(d.node.span)}\n```"
    # a tensor: assignment, input or param statement
    st = d.node
    shapes = v.shapes_of(st.span, d.name)
    what = {X.INPUT: "input", X.PARAM: "param", X.TENSOR: "tensor"}.get(d.kind, d.kind)
    out = [f"**{what}** `{d.name}` in `{d.container}`"]
    if not shapes:
        if isinstance(st, (ir.Input, ir.ParamDecl)):
            out.append(f"```shape\n{v.text_of(st.shape.span)}\n```")
        else:
            out.append("no shape: the statement was not analysed (an error before it, or a block never called)")
        return "\n\n".join(out)
    multi = len(shapes) > 1 or any(s.where for s in shapes)
    for s in shapes[:4]:
        line = f"```shape\n{s.text()} {s.dtype}\n```"
        vt = s.values_text()
        if vt and vt != s.text():
            line += f"\nat example values `{vt}`"
        if multi:
            line += f"\n(in {_where(s)})"
        out.append(line)
        if s is shapes[0] and s.dims is not None:
            came = [f"- `{d}`: {o[1]} ({_rel(v, o[0])})" for d, o in zip(s.dims, s.origins)
                    if o is not None and o[0] is not None]
            if came:
                out.append("where the dimensions come from:\n" + "\n".join(came))
    if len(shapes) > 4:
        out.append(f"and {len(shapes) - 4} more instantiations")
    return "\n\n".join(out)


def _block_of(v: View, d: X.Def) -> Optional[ir.Block]:
    idx = v.indexes.get(d.span.file)
    return None if idx is None else idx.blocks.get(d.container)


def _local_requires(v: View, b: Optional[ir.Block], name: str) -> list:
    if b is None:
        return []
    out = []
    for st in b.body:
        if isinstance(st, ir.Require):
            for c in st.conds:
                if name in set(ir.names_in(c.left)) | set(ir.names_in(c.right)):
                    out.append(v.text_of(c.span))
    return out


def _global_requires(v: View, name: str) -> list:
    scope = v.a.result.scope
    if scope is None or name not in scope.dims and name not in scope.lets:
        return []
    sym = scope.dims[name][0] if name in scope.dims else None
    out = []
    for rel, _span in scope.relations:
        syms = {s.name for s in rel.free_symbols}
        if (sym is not None and sym in rel.free_symbols) or name in syms:
            out.append(rel.text())
    return out


def _dim_hover(v: View, d: X.Def) -> str:
    item = d.node
    out = [f"**dim** `{d.name}`" + (f" = {v.text_of(item.value.span)}" if item.value is not None else "")]
    env = v.env()
    if d.name in env:
        out.append(f"example value: {env[d.name]}")
    else:
        out.append("no example value (set one with `dim " + d.name + " = N`, or `bind` in [tool.shapecheck])")
    reqs = _global_requires(v, d.name)
    if reqs:
        out.append("requires: " + ", ".join(f"`{r}`" for r in reqs))
    out.append(f"defined at {_rel(v, d.span)}")
    return "\n\n".join(out)


def _let_hover(v: View, d: X.Def) -> str:
    st = d.node
    out = [f"**let** `{d.name}` = `{v.text_of(st.value.span)}`"]
    scope = v.a.result.scope
    if d.container is None and scope is not None and d.name in scope.lets:
        from ..dims import EvalError, evaluate, show
        expr = scope.lets[d.name][0]
        out.append(f"= `{' '.join(show(expr).split())}`")
        env = v.env()
        m = next(iter((v.a.result.models or {}).values()), None)
        syms = {s.name: s for s in getattr(expr, "free_symbols", ())}
        if m is not None and set(syms) <= set(env):
            try:
                val = evaluate(expr, {syms[k]: env[k] for k in syms})
                out.append(f"example value: {val}")
            except (EvalError, ArithmeticError):
                pass
        reqs = _global_requires(v, d.name)
        if reqs:
            out.append("requires: " + ", ".join(f"`{r}`" for r in reqs))
    elif d.container is not None:
        reqs = _local_requires(v, _block_of(v, d), d.name)
        if reqs:
            out.append("requires: " + ", ".join(f"`{r}`" for r in reqs))
    out.append(f"defined at {_rel(v, d.span)}")
    return "\n\n".join(out)


# ---- inlay hints ---------------------------------------------------------------------------

def _assignments(body):
    for st in body:
        if isinstance(st, ir.Assign):
            yield st
        elif isinstance(st, ir.Repeat):
            yield from _assignments(st.body)


def inlay_hints(v: View, first_line: int, last_line: int) -> list:
    """(line, col, label) at the end of each assignment without an annotation."""
    idx = v.index
    if idx is None:
        return []
    out = []
    for b in idx.blocks.values():
        for st in _assignments(b.body):
            if st.annotation is not None or not first_line <= st.span.end_line <= last_line:
                continue
            per = [v.shapes_of(st.span, t) for t in st.targets]
            if not all(per):
                continue
            texts = [p[0].text() + ("" if len(p) == 1 else " …") for p in per]
            if len(set(texts)) == 1:
                label = ": " + texts[0] + (" each" if len(texts) > 1 else "")
            else:
                label = ": " + ", ".join(f"{t} {s}" for t, s in zip(st.targets, texts))
            out.append((st.span.end_line, st.span.end_col, label))
    return out


# ---- navigation -------------------------------------------------------------------------------

def definition(v: View, line: int, col: int) -> Optional[Span]:
    idx = v.index
    if idx is None:
        return None
    x = idx.at(line, col)
    if isinstance(x, X.UseLink):
        return Span(x.target, 1, 1, 1, 1)
    d = v.resolver.resolve(v.a.path, x) if x is not None else None
    return None if d is None else d.span


def references(v: View, line: int, col: int, others=(), include_declaration: bool = True) -> list:
    """Spans of every reference to the name at the position, in this spec, the
    files it uses and the ``others`` views (other open specs)."""
    idx = v.index
    if idx is None:
        return []
    x = idx.at(line, col)
    d = v.resolver.resolve(v.a.path, x) if x is not None and not isinstance(x, X.UseLink) else None
    if d is None:
        return []
    out = [d.span] if include_declaration else []
    seen = set(out)
    for view in (v,) + tuple(others):
        if d.container is not None and view is not v:
            continue
        paths = view.resolver.closure(view.a.path)
        for r in view.resolver.references(d, paths):
            if r.span not in seen:
                seen.add(r.span)
                out.append(r.span)
    return out


def document_symbols(v: View, conv: Conv) -> list:
    idx = v.index
    if idx is None:
        return []
    out = []
    for d in idx.defs:
        if d.container is not None:
            continue
        if d.kind in (X.BLOCK, X.MODEL):
            b = d.node
            children = [T.DocumentSymbol(name=c.name, kind=_symbol_kind(c.kind), range=conv.range(c.span),
                                         selection_range=conv.range(c.span), detail=c.kind)
                        for c in idx.defs if c.container == d.name]
            out.append(T.DocumentSymbol(name=d.name, kind=_symbol_kind(d.kind), range=conv.range(b.span),
                                        selection_range=conv.range(b.name_span), detail=_header(v, b),
                                        children=children))
        else:
            out.append(T.DocumentSymbol(name=d.name, kind=_symbol_kind(d.kind), range=conv.range(d.node.span),
                                        selection_range=conv.range(d.span), detail=d.kind))
    return out


def _symbol_kind(kind: str):
    return {X.MODEL: T.SymbolKind.Class, X.BLOCK: T.SymbolKind.Function, X.DIM: T.SymbolKind.Constant,
            X.LET: T.SymbolKind.Constant, X.GENERIC: T.SymbolKind.TypeParameter,
            X.DIM_PARAM: T.SymbolKind.TypeParameter, X.INPUT: T.SymbolKind.Field,
            X.PARAM: T.SymbolKind.Field}.get(kind, T.SymbolKind.Variable)


# ---- completion and signature help --------------------------------------------------------------

def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[:line - 1]) + col - 1


def enclosing_call(text: str, offset: int) -> Optional[tuple]:
    """(callee name, index of the active argument, keyword being typed or None,
    inside a string) for the call whose parentheses hold ``offset``."""
    depth = 0
    commas = 0
    i = offset - 1
    # is the cursor inside a string on its line?
    line_start = text.rfind("\n", 0, offset) + 1
    in_string = _in_string(text[line_start:offset])
    if in_string:                       # start before the string's opening quote
        i = text.rfind('"', 0, offset) - 1
    while i >= 0:
        ch = text[i]
        if ch == '"':
            j = text.rfind('"', 0, i)
            if j < 0:
                return None
            i = j - 1
            continue
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    if ch == "{":
                        return None
                    i -= 1
                    continue
                m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", text[:i])
                if not m:
                    return None
                arg_text = text[i + 1:offset]
                kw = None
                last = re.split(r",", arg_text)[-1]
                km = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", last)
                if km:
                    kw = km.group(1)
                return m.group(1), commas, kw, in_string
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
        elif ch == "\n" and depth == 0 and re.match(r"\s*(block|model|dim|let|require|use)\b", text[i + 1:]):
            return None
        i -= 1
    return None


def _in_string(prefix: str) -> bool:
    n = 0
    i = 0
    while i < len(prefix):
        if prefix[i] == "\\":
            i += 2
            continue
        if prefix[i] == '"':
            n += 1
        elif prefix[i] == "#" and n % 2 == 0:
            return False
        i += 1
    return n % 2 == 1


def completion(v: View, text: str, line: int, col: int) -> list:
    offset = _offset(text, line, col)
    call = enclosing_call(text, offset)
    idx = v.index
    block = idx.block_at(line) if idx is not None else None
    if call is not None and call[3]:
        return _axis_completions(v, text, call[0], block)
    items = []
    if call is not None:
        name = call[0]
        o = OPS.get(name)
        if o is not None:
            for a in o.args:
                if a.kind.endswith("*"):
                    continue
                default = "" if a.default is REQUIRED else f" = {_default(a.default)}"
                items.append(T.CompletionItem(label=f"{a.name}=", kind=T.CompletionItemKind.Property,
                                              detail=f"{a.kind}{default}", sort_text="0" + a.name))
        elif idx is not None:
            for p in v.resolver.closure(v.a.path):
                b = v.indexes[p].blocks.get(name)
                if b is not None:
                    for prm in b.params:
                        items.append(T.CompletionItem(label=f"{prm.name}=", kind=T.CompletionItemKind.Property,
                                                      detail=v.text_of(prm.span), sort_text="0" + prm.name))
                    break
    for name in sorted(OPS):
        if name in _INTERNAL or name == "matmul":
            continue
        o = OPS[name]
        items.append(T.CompletionItem(label=name, kind=T.CompletionItemKind.Function, detail=signature(o),
                                      documentation=_first_paragraph(o.doc) or None,
                                      insert_text=name, sort_text="2" + name))
    seen = set()
    for p in v.resolver.closure(v.a.path):
        for d in v.indexes[p].defs:
            if d.container is None and d.name not in seen:
                seen.add(d.name)
                kind = {X.BLOCK: T.CompletionItemKind.Function, X.MODEL: T.CompletionItemKind.Class}.get(
                    d.kind, T.CompletionItemKind.Constant)
                detail = _header(v, d.node) if d.kind in (X.BLOCK, X.MODEL) else d.kind
                items.append(T.CompletionItem(label=d.name, kind=kind, detail=detail, sort_text="1" + d.name))
    if block is not None:
        for d in idx.defs:
            if d.container == block.name and d.name not in seen and (d.span.line, d.span.col) < (line, col):
                seen.add(d.name)
                detail = d.kind
                if d.kind in (X.TENSOR, X.INPUT, X.PARAM) and not isinstance(d.node, ir.TensorParam):
                    sh = v.shapes_of(d.node.span, d.name)
                    if sh:
                        detail = f"{d.kind} {sh[0].text()}"
                elif isinstance(d.node, ir.TensorParam):
                    detail = v.text_of(d.node.span)
                items.append(T.CompletionItem(label=d.name, kind=T.CompletionItemKind.Variable, detail=detail,
                                              sort_text="0" + d.name))
    kws = (BODY_KEYWORDS if block is not None else TOP_KEYWORDS) + VALUE_KEYWORDS
    for k in dict.fromkeys(kws):
        items.append(T.CompletionItem(label=k, kind=T.CompletionItemKind.Keyword, sort_text="3" + k))
    return items


def _default(d) -> str:
    return "none" if d is None else str(d).lower() if isinstance(d, bool) else str(d)


def _axis_completions(v: View, text: str, func: str, block) -> list:
    """Axis names inside a `rearrange`/`einsum` string: those of the other
    patterns of the same block (or file)."""
    if func not in ("rearrange", "einsum", "repeat", "reduce"):
        return []
    lines = text.split("\n")
    lo, hi = (block.span.line, block.span.end_line) if block is not None else (1, len(lines))
    names = set()
    for ln in lines[lo - 1:hi]:
        for s in re.findall(r'"([^"\n]*)"', ln):
            if "->" in s or "," in s:
                names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s))
    return [T.CompletionItem(label=n, kind=T.CompletionItemKind.TypeParameter, detail="axis")
            for n in sorted(names)]


def signature_help(v: View, text: str, line: int, col: int) -> Optional[T.SignatureHelp]:
    call = enclosing_call(text, _offset(text, line, col))
    if call is None:
        return None
    name, active, kw, _in_str = call
    o = OPS.get(name)
    if o is not None and name not in _INTERNAL:
        label = signature(o)
        params = label[label.index("(") + 1:-1].split(", ") if o.args or o.varkw else []
        names = [a.name for a in o.args]
        doc = _first_paragraph(o.doc) or None
    else:
        b = None
        for p in v.resolver.closure(v.a.path):
            b = v.indexes[p].blocks.get(name)
            if b is not None:
                break
        if b is None:
            return None
        params = [v.text_of(p.span) for p in b.params]
        names = [p.name for p in b.params]
        label = _header(v, b)
        label = label[len("block "):] if label.startswith("block ") else label
        doc = _comment_above(v, b) or None
    if kw is not None and kw in names:
        active = names.index(kw)
    if names and o is not None and o.args and o.args[-1].kind.endswith("*"):
        active = min(active, len(o.args) - 1)
    infos = []
    start = label.find("(") + 1
    for ptxt in params:
        i = label.find(ptxt, start)
        if i >= 0:
            infos.append(T.ParameterInformation(label=(i, i + len(ptxt))))
            start = i + len(ptxt)
        else:
            infos.append(T.ParameterInformation(label=ptxt))
    sig = T.SignatureInformation(label=label, documentation=doc, parameters=infos,
                                 active_parameter=min(active, max(len(infos) - 1, 0)))
    return T.SignatureHelp(signatures=[sig], active_signature=0,
                           active_parameter=min(active, max(len(infos) - 1, 0)))


# ---- code actions -----------------------------------------------------------------------------

_REQUIRE = re.compile(r"add `require ([^`]+)`")
_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_UNUSED_CODE = re.compile(r"^`(SC\d+)` (?:in this suppression|cannot be suppressed)")


def code_actions(v: View, line_lo: int, line_hi: int, conv: Conv) -> list:
    """Quick fixes for the findings on lines ``line_lo..line_hi``: (title, kind,
    diagnostic, [(span, new text)])."""
    text = v.a.text
    lines = text.split("\n")
    out = []
    for d in v.a.diagnostics:
        if not (d.span.line <= line_hi and d.span.end_line >= line_lo):
            continue
        m = _REQUIRE.search(d.message)
        if m and d.code != UNUSED:
            edit = _insert_require(v, d.span, m.group(1), lines)
            if edit is not None:
                out.append((f"Add `require {m.group(1)}`", d, [edit]))
        m = _DID_YOU_MEAN.search(d.message)
        if m:
            out.append((f"Change to `{m.group(1)}`", d, [(d.span, m.group(1))]))
        if d.code == UNUSED:
            edit = _remove_suppression(v, d, lines)
            if edit is not None:
                out.append(("Remove the unused suppression" if edit[1] == "" else "Remove the unused code",
                            d, [edit]))
        elif d.code not in UNSUPPRESSIBLE:
            out.append((f"Suppress {d.code} on this line", d, [_add_suppression(v, d, lines)]))
    return out


def _indent(s: str) -> str:
    return s[:len(s) - len(s.lstrip())]


def _insert_require(v: View, at: Span, cond: str, lines: list):
    """Insert ``require cond`` as the block's first statement after its leading
    requires (or at the top level after the last `require`/`dim`/`let`)."""
    path = v.a.path
    idx = v.index
    b = idx.block_at(at.line) if idx is not None and at.file == path else None
    if b is not None and not any(idx.local_defs(b.name, n) for n in re.findall(r"[A-Za-z_]\w*", cond)):
        b = None        # only global names: a global require
    if b is not None:
        body = list(b.body)
        if not body:
            return None
        after = None
        for st in body:
            if isinstance(st, ir.Require):
                after = st
            else:
                break
        if after is not None:
            ln = after.span.end_line
            return (Span(path, ln, len(lines[ln - 1]) + 1, ln, len(lines[ln - 1]) + 1),
                    "\n" + _indent(lines[after.span.line - 1]) + f"require {cond}")
        first = body[0]
        ln = first.span.line
        return (Span(path, ln, 1, ln, 1), _indent(lines[ln - 1]) + f"require {cond}\n")
    mod = v.a.module
    last = None
    for item in (mod.items if mod is not None else ()):
        if isinstance(item, (ir.Require, ir.DimDecl, ir.Let, ir.Use)):
            last = item
    if last is None:
        return (Span(path, 1, 1, 1, 1), f"require {cond}\n")
    ln = last.span.end_line
    return (Span(path, ln, len(lines[ln - 1]) + 1, ln, len(lines[ln - 1]) + 1), f"\nrequire {cond}")


def _remove_suppression(v: View, d, lines: list):
    sp = d.span
    line = lines[sp.line - 1]
    m = _UNUSED_CODE.match(d.message)
    sups = [s for s in parse_suppressions(line, sp.file) if s.span.col == sp.col]
    if m and sups and sups[0].codes and len(sups[0].codes) > 1:
        codes = [c for c in sups[0].codes if c != m.group(1)]
        directive = line[sp.col - 1:sp.end_col - 1]
        new = re.sub(r"\[[^\]]*\]", "[" + ", ".join(codes) + "]", directive, count=1)
        return (sp, new)
    # drop the directive and the blanks before it (the whole comment if it is only that)
    start = sp.col - 1
    while start > 0 and line[start - 1] in " \t":
        start -= 1
    return (Span(sp.file, sp.line, start + 1, sp.line, sp.end_col), "")


def _add_suppression(v: View, d, lines: list):
    ln = d.span.line
    line = lines[ln - 1]
    sups = parse_suppressions(line, d.span.file)
    if sups and sups[-1].codes is not None:
        s = sups[-1]
        directive = line[s.span.col - 1:s.span.end_col - 1]
        codes = list(s.codes) + [d.code]
        new = re.sub(r"\[[^\]]*\]", "[" + ", ".join(codes) + "]", directive, count=1) \
            if "[" in directive else directive + "[" + ", ".join(codes) + "]"
        return (Span(d.span.file, ln, s.span.col, ln, s.span.end_col), new)
    end = len(line.rstrip())
    return (Span(d.span.file, ln, end + 1, ln, len(line) + 1), f"  # shapecheck: ignore[{d.code}]")
