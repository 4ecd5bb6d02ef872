"""The HTML format of ``shapecheck report``: one standalone page (inline CSS,
inline SVG, MathML; no script, no network) with the totals as typeset math
and copyable plain formulas, a dataflow diagram laid out in layers
(:mod:`shapecheck.layout`), and the hierarchy table.

Formula cells wrap only at operators (a ``<wbr>`` after each ``*`` and ``(``,
spaces around ``+`` and ``-``); the table has a fixed layout that fits its
page (1400 px wide at most) whatever the formulas' length. The diagram's
labels are nodes of the layout, so no label overlaps another or a box.
"""
from __future__ import annotations

import html as _html
import re

from . import formula as F
from .layout import layout
from .report import (CONVENTIONS, ModelReport, Quantity, Report, _bindings_text, _human_bytes, _num,
                     _repeat_cell, _row_name, _totals, _QCOLS)

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;max-width:1400px;
padding:0 16px;color:#1d2330;background:#fbfbfd}
h1{font-size:1.55em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #dde}
code,.f,.m{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px}
table{border-collapse:collapse;margin:.6em 0;width:100%}
table.rows{table-layout:fixed}
th,td{padding:3px 6px;border-bottom:1px solid #e4e6ee;vertical-align:top;text-align:left;
overflow-wrap:normal;word-break:normal}
th{background:#eef0f7;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums;font-size:13px}
tr.k-call td{background:#f6f8ff;color:#38406a}tr.k-return td{color:#6a7087}
tr.lvl0 td.r{font-weight:600}
.shape{color:#0b6e8a}.val{color:#237a3b}.rep{color:#9a6a00}.inp{color:#4a5068}
.note{color:#9a6a00}.muted{color:#6a7087}
.math{font-size:15px;margin:2px 0 4px}
.plain{display:block;color:#38406a;background:#f3f4f9;border-radius:4px;padding:2px 6px;user-select:all}
.diagram{overflow-x:auto;background:#fff;border:1px solid #e4e6ee;border-radius:6px;padding:6px}
.diagram svg{display:block;max-width:100%;height:auto}
.math{overflow-x:auto;overflow-y:hidden;max-width:100%}
table.totals{table-layout:fixed}
td.r{overflow-wrap:anywhere}
"""

#: per-row table columns and their share of the width (%); they add up to 100
_COLUMNS = (("line", 3.5), ("row", 12), ("op", 6.5), ("inputs", 13), ("shape", 12.5), ("at bindings", 8),
            ("repeat", 6.5)) + tuple((h, 9.5) for h, _ in _QCOLS)


def _e(s) -> str:
    return _html.escape(str(s), quote=True)


def wrap(text: str) -> str:
    """Escaped text that breaks only at operators: after ``*``, ``(``, ``,``
    and at the spaces around ``+``, ``-`` and ``/``."""
    out = []
    for tok in re.split(r"(\*\*|\*|\(|, )", text):
        out.append(_e(tok))
        if tok in ("*", "("):
            out.append("<wbr>")
    return "".join(out)


def _names(text: str) -> str:
    """Escaped names that may break after an underscore."""
    return _e(text).replace("_", "_<wbr>")


def _qcell(q: Quantity) -> str:
    if q.value is not None:
        return f'<td class="n">{_e(_num(q.value)).replace(",", ",<wbr>")}</td>'
    return f'<td class="f">{wrap(q.formula)}</td>'


def render_html(report: Report) -> str:
    """One standalone page per report: totals, dataflow diagram, hierarchy table."""
    body = []
    for mr in report.models:
        body.append(f"<h1>Shape report: <code>{_e(mr.name)}</code></h1>")
        body.append(f"<p>Spec <code>{_e(mr.file)}</code> &middot; bindings: <code>{wrap(_bindings_text(mr))}</code>"
                    "</p>")
        if mr.lets:
            body.append("<p>Derived: " + ", ".join(f"<code>{_e(k)} = {_e(v)}</code>" for k, v in mr.lets.items())
                        + "</p>")
        for n in mr.notes:
            body.append(f'<p class="note">Note: {_e(n)}</p>')
        body.append('<h2>Totals</h2><table class="totals"><colgroup><col style="width:16%"><col>'
                    '<col style="width:17%"></colgroup>'
                    "<tr><th>quantity</th><th>formula</th><th>at the bindings</th></tr>")
        for label, q, extra in _totals(mr):
            val = _num(q.value) + (f" ({extra})" if extra and q.value is not None and extra != str(q.value) else "")
            body.append(f'<tr><td>{_e(label)}</td><td><div class="math">{" ".join(F.mathml_terms(q.expr, mr.printer.order, mr.printer.repeats))}</div>'
                        f'<code class="plain f" title="plain form (copy)">{wrap(q.formula)}</code></td>'
                        f'<td class="n">{_e(val)}</td></tr>')
        body.append("</table>")
        body.append(f'<p class="muted">{_e(CONVENTIONS)}</p>')
        body.append("<h2>Dataflow</h2>")
        body.append(f'<div class="diagram">{svg(mr)}</div>')
        body.append("<h2>Rows</h2>")
        cols = "".join(f'<col style="width:{w}%">' for _h, w in _COLUMNS)
        heads = "".join(f"<th>{_e(h)}</th>" for h, _w in _COLUMNS)
        body.append(f'<table class="rows"><colgroup>{cols}</colgroup><tr>{heads}</tr>')
        for r in mr.visible():
            pad = f' style="padding-left:{6 + 14 * r.level}px"' if r.level else ""
            body.append(
                f'<tr class="k-{r.kind} lvl{min(r.level, 9)}"><td class="n">{r.line or ""}</td>'
                f'<td class="r m"{pad}>{_names(_row_name(mr, r))}</td><td class="m r">{_names(r.op)}</td>'
                f'<td class="m inp">{wrap(r.inputs_text())}</td><td class="m shape">{wrap(r.shape_text())}</td>'
                f'<td class="m val">{wrap(r.value_text())}</td><td class="m rep">{wrap(_repeat_cell(r.repeat))}</td>'
                + "".join(_qcell(getattr(r, a)) for _h, a in _QCOLS) + "</tr>")
        body.append(f'<tr class="k-sum"><td></td><td class="r" colspan="6">sum of the own columns = model total'
                    f'</td>{_qcell(mr.params)}{_qcell(mr.params)}{_qcell(mr.flops)}{_qcell(mr.flops)}</tr>')
        body.append("</table>")
    title = ", ".join(m.name for m in report.models) or report.file
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>shapecheck report: {_e(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# ---- the dataflow diagram ---------------------------------------------------------------------

CHAR_W = 7.4          # px per character of the 12px monospace font (DejaVu Sans Mono: 7.22)
LINE_H = 16
NODE_CHARS = 52       # a statement's text is cut (with …) past this many characters
LABEL_CHARS = 46


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def _text_w(s: str) -> float:
    return len(s) * CHAR_W


def svg(mr: ModelReport) -> str:
    """The dataflow between the model's top-level statements as an inline SVG:
    one box per statement (its source; `repeat` bodies marked), one label per
    tensor passed on (name and shape), laid out in layers."""
    nodes, texts, kinds, edges = {}, {}, {}, []
    for s in mr.stages:
        kind = s.top[0].kind if s.top else "return"
        lines = [_short(f"L{s.line}: {s.source or ', '.join(s.names)}", NODE_CHARS)]
        if s.repeat is not None:
            lines.append(f"repeat ×{_short(s.repeat.formula, NODE_CHARS - 8)}")
        sid = ("s", s.index)
        nodes[sid] = (max(_text_w(t) for t in lines) + 20, LINE_H * len(lines) + 12)
        texts[sid] = (lines, s.source)
        kinds[sid] = kind
    # an input or a weight is drawn once per statement that reads it, just above it
    # (per-node inputs instead of long curves across the page)
    labels, copies = {}, {}
    for a, b, name, shape in mr.edges:
        src = ("s", a)
        if kinds[src] in ("input", "param"):
            src = ("s", a, b)
            copies.setdefault(("s", a), []).append(src)
        lid = ("l",) + src[1:] + (name,)
        if lid not in labels:
            text = _short(f"{name}: {shape}", LABEL_CHARS)
            labels[lid] = (text, f"{name}: {shape}", src)
            edges.append((src, lid))
        edges.append((lid, ("s", b)))
    # insertion order must be topological: copies of a source just before their reader
    ordered = {}
    for sid in nodes:
        if sid in copies:
            continue
        for c in (c for cs in copies.values() for c in cs if c[2] == sid[1]):
            ordered[c] = nodes[("s", c[1])]
            texts[c], kinds[c] = texts[("s", c[1])], kinds[("s", c[1])]
            for lid, (text, _full, src) in labels.items():
                if src == c:
                    ordered[lid] = (_text_w(text) + 8, LINE_H + 2)
        ordered[sid] = nodes[sid]
        for lid, (text, _full, src) in labels.items():
            if src == sid:
                ordered[lid] = (_text_w(text) + 8, LINE_H + 2)
    pos, routes, (width, height) = layout(ordered, edges)
    width, height = int(width + 1), int(height + 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="ui-monospace,Menlo,Consolas,\'DejaVu Sans Mono\',monospace" '
           'font-size="12" role="img" aria-label="dataflow diagram">',
           '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#56607a"/></marker></defs>']
    for (u, v), pts in routes.items():
        (x0, y0), (x1, y1) = pts[0], pts[-1]
        y0 += ordered[u][1] / 2
        y1 -= ordered[v][1] / 2 + 1
        mid = [(x, y) for x, y in pts[1:-1]]
        path = [f"M{x0:.1f},{y0:.1f}"]
        prev = (x0, y0)
        for x, y in mid + [(x1, y1)]:
            cy = (prev[1] + y) / 2
            path.append(f"C{prev[0]:.1f},{cy:.1f} {x:.1f},{cy:.1f} {x:.1f},{y:.1f}")
            prev = (x, y)
        marker = ' marker-end="url(#a)"' if v[0] == "s" else ""
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="#8a93ab"{marker}/>')
    for nid, (w, h) in ordered.items():
        cx, cy = pos[nid]
        x, y = cx - w / 2, cy - h / 2
        if nid[0] == "l":
            text, full, _src = labels[nid]
            out.append(f'<g class="label"><title>{_e(full)}</title><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                       f'height="{h:.1f}" rx="3" fill="#ffffff" stroke="none"/>'
                       f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" fill="#0b6e8a">{_e(text)}</text></g>')
            continue
        lines, source = texts[nid]
        kind = kinds[nid]
        fill, stroke = {"input": ("#e8f4ea", "#6c9a74"), "param": ("#f3ecfa", "#8c74a8"),
                        "return": ("#fde9e7", "#b0625a")}.get(kind, ("#eef2fb", "#7d88a6"))
        if len(lines) > 1:
            fill = "#fff8e6" if kind == "tensor" else fill
            stroke = "#d9a400" if kind == "tensor" else stroke
        rx = h / 2 if kind in ("input", "return") else 5
        out.append(f'<g class="node"><title>{_e(source)}</title><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                   f'height="{h:.1f}" rx="{rx:.1f}" fill="{fill}" stroke="{stroke}"/>')
        for i, line in enumerate(lines):
            ty = y + 6 + LINE_H * (i + 1) - 4
            color = "#1d2330" if i == 0 else "#9a6a00"
            out.append(f'<text x="{cx:.1f}" y="{ty:.1f}" text-anchor="middle" fill="{color}">{_e(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


__all__ = ["render_html", "svg", "wrap", "_human_bytes"]
