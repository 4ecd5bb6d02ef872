"""Machine-readable renderings of diagnostics: JSON, SARIF 2.1.0 and GitHub
Actions workflow commands (the text formatter is
:func:`shapecheck.diagnostics.format_text`).

Every formatter takes a list of :class:`~shapecheck.diagnostics.Diagnostic`
and returns a string; nothing here reads files, options or the environment,
except that paths are shown relative to ``base`` (default: the current
directory) where the format wants that.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from .codes import CODES
from .diagnostics import Diagnostic, format_text

FORMATS = ("text", "json", "sarif", "github")

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
#: SARIF and GitHub levels of shapecheck severities
_LEVEL = {"error": "error", "warning": "warning"}


def _sorted(diags) -> list:
    return sorted(diags, key=Diagnostic.sort_key)


def _relative(path: str, base: Optional[str]) -> Optional[str]:
    """``path`` relative to ``base`` with ``/`` separators, or ``None`` when it is outside ``base``.

    >>> _relative("/r/specs/a.shape", "/r"), _relative("/elsewhere/a.shape", "/r")
    ('specs/a.shape', None)
    """
    base = os.path.abspath(base or os.getcwd())
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, base)
    except ValueError:          # another drive (Windows)
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def display_path(path: str, base: Optional[str] = None) -> str:
    """The path as CI tools want it: relative to ``base`` when inside it, else absolute; ``/`` separators.

    >>> display_path("/r/specs/a.shape", "/r"), display_path("/x/a.shape", "/r")
    ('specs/a.shape', '/x/a.shape')
    """
    rel = _relative(path, base)
    return rel if rel is not None else os.path.abspath(path).replace(os.sep, "/")


# ---- JSON ------------------------------------------------------------------------------------------

def finding(d: Diagnostic) -> dict:
    """One finding as a JSON-ready dict (the schema documented in the README)."""
    s = d.span
    return {
        "path": s.file, "line": s.line, "col": s.col, "end_line": s.end_line, "end_col": s.end_col,
        "code": d.code, "severity": d.severity, "message": d.message,
        "notes": [{"path": n.span.file if n.span else None, "line": n.span.line if n.span else None,
                   "col": n.span.col if n.span else None, "message": n.message} for n in d.notes],
    }


def format_json(diags) -> str:
    """A JSON list of findings, sorted by position.

    >>> from shapecheck.span import Span
    >>> print(format_json([Diagnostic("SC101", Span("m.shape", 1, 5, 1, 6), "undefined name `y`")]))
    [
      {
        "path": "m.shape",
        "line": 1,
        "col": 5,
        "end_line": 1,
        "end_col": 6,
        "code": "SC101",
        "severity": "error",
        "message": "undefined name `y`",
        "notes": []
      }
    ]
    """
    return json.dumps([finding(d) for d in _sorted(diags)], indent=2, ensure_ascii=False)


# ---- SARIF 2.1.0 -----------------------------------------------------------------------------------

def _rules() -> list:
    from .explain import help_markdown, help_text, help_uri

    out = []
    for code in sorted(CODES):
        c = CODES[code]
        out.append({
            "id": c.code,
            "name": c.name,
            "shortDescription": {"text": c.summary},
            "fullDescription": {"text": f"{c.code} {c.name} ({c.severity} by default): {c.summary}."},
            "helpUri": help_uri(c.code),
            "help": {"text": help_text(c.code), "markdown": help_markdown(c.code)},
            "defaultConfiguration": {"level": _LEVEL[c.severity]},
        })
    return out


def fingerprint(d: Diagnostic, sources: Optional[dict], base: Optional[str]) -> str:
    """A hash of what a finding is, not where: the code, the file (relative to
    ``base``), the message with numbers of lines and columns left out, and the
    stripped text of the source line; stable when unrelated lines move.

    >>> from shapecheck.span import Span
    >>> a = Diagnostic("SC301", Span("/r/m.shape", 3, 5, 3, 6), "bad at m.shape:3:5")
    >>> b = Diagnostic("SC301", Span("/r/m.shape", 9, 5, 9, 6), "bad at m.shape:9:5")
    >>> fingerprint(a, {"/r/m.shape": "\\n\\n  y = x"}, "/r") == fingerprint(b, {"/r/m.shape": "\\n" * 8 + "y = x "}, "/r")
    True
    """
    import hashlib
    import re

    lines = (sources or {}).get(d.span.file, "").split("\n")
    line = lines[d.span.line - 1].strip() if 1 <= d.span.line <= len(lines) else ""
    message = re.sub(r":\d+(:\d+)?", "", d.message)
    data = "\0".join([d.code, display_path(d.span.file, base), message, line])
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _artifact(path: str, base: Optional[str]) -> dict:
    rel = _relative(path, base)
    if rel is not None:
        return {"uri": quote(rel, safe="/"), "uriBaseId": SRCROOT}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def _physical(span, base) -> dict:
    return {"artifactLocation": _artifact(span.file, base),
            "region": {"startLine": span.line, "startColumn": span.col,
                       "endLine": span.end_line, "endColumn": max(span.end_col, 1)}}


def sarif_log(diags, base: Optional[str] = None, tool_version: Optional[str] = None,
              sources: Optional[dict] = None) -> dict:
    """The SARIF 2.1.0 log (a dict) of ``diags``: one run, one rule per diagnostic
    code, one result per finding (with ``partialFingerprints``); notes become
    ``relatedLocations``. A run failure (SC002, SC003) is also a
    ``toolExecutionNotification`` and makes the invocation unsuccessful."""
    if tool_version is None:
        from . import __version__ as tool_version
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    counts: dict = {}
    notifications = []
    for d in _sorted(diags):
        text = d.message
        related = []
        for n in d.notes:
            if n.span is None:
                text += f"\nnote: {n.message}"
            else:
                related.append({"id": len(related), "physicalLocation": _physical(n.span, base),
                                "message": {"text": n.message}})
        r = {"ruleId": d.code, "ruleIndex": index[d.code], "level": _LEVEL.get(d.severity, "note"),
             "message": {"text": text}, "locations": [{"physicalLocation": _physical(d.span, base)}]}
        if related:
            r["relatedLocations"] = related
        fp = fingerprint(d, sources, base)
        counts[fp] = counts.get(fp, 0) + 1
        r["partialFingerprints"] = {"shapecheckFinding/v1": f"{fp}:{counts[fp]}"}
        results.append(r)
        if d.code in ("SC002", "SC003"):
            notifications.append({"level": "error", "message": {"text": d.message},
                                  "locations": [{"physicalLocation": _physical(d.span, base)}],
                                  "descriptor": {"id": d.code, "index": index[d.code]}})
    base_uri = Path(os.path.abspath(base or os.getcwd())).as_uri().rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "shapecheck", "version": str(tool_version),
                                "semanticVersion": str(tool_version), "rules": rules}},
            "originalUriBaseIds": {SRCROOT: {"uri": base_uri}},
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": not notifications,
                             **({"toolExecutionNotifications": notifications} if notifications else {})}],
            "results": results,
        }],
    }


def format_sarif(diags, base: Optional[str] = None, tool_version: Optional[str] = None,
                 sources: Optional[dict] = None) -> str:
    """:func:`sarif_log` as JSON text."""
    return json.dumps(sarif_log(diags, base, tool_version, sources), indent=2, ensure_ascii=False)


# ---- GitHub Actions workflow commands --------------------------------------------------------------

def escape_data(s: str) -> str:
    """Escape a workflow command's message (as @actions/core does).

    >>> escape_data("100% sure\\nnext")
    '100%25 sure%0Anext'
    """
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    """Escape a workflow command property value (``:`` and ``,`` too).

    >>> escape_property("a,b:c%")
    'a%2Cb%3Ac%25'
    """
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


_GITHUB_COMMAND = {"error": "error", "warning": "warning"}


def format_github(diags, base: Optional[str] = None) -> str:
    """One ``::error``/``::warning`` workflow command per finding; notes are appended
    to the message, one per line.

    >>> from shapecheck.span import Span
    >>> print(format_github([Diagnostic("SC101", Span("/r/m.shape", 1, 5, 1, 6), "undefined name `y`")],
    ...                     base="/r"))
    ::error file=m.shape,line=1,col=5,endLine=1,endColumn=6,title=SC101::undefined name `y`
    """
    out = []
    for d in _sorted(diags):
        s = d.span
        text = d.message
        for n in d.notes:
            where = f"{display_path(n.span.file, base)}:{n.span.line}:{n.span.col}: " if n.span else ""
            text += f"\nnote: {where}{n.message}"
        props = [("file", display_path(s.file, base)), ("line", s.line), ("col", s.col),
                 ("endLine", s.end_line), ("endColumn", s.end_col), ("title", d.code)]
        out.append(f"::{_GITHUB_COMMAND.get(d.severity, 'notice')} "
                   + ",".join(f"{k}={escape_property(str(v))}" for k, v in props)
                   + f"::{escape_data(text)}")
    return "\n".join(out)


def statistics(diags) -> str:
    """The number of findings per code, most frequent first (``--statistics``).

    >>> from shapecheck.span import Span
    >>> s = Span("m.shape", 1, 1, 1, 2)
    >>> print(statistics([Diagnostic("SC301", s, "a"), Diagnostic("SC501", s, "b"), Diagnostic("SC301", s, "c")]))
    2  SC301  error    annotation-mismatch
    1  SC501  warning  undecided-equality
    """
    counts: dict = {}
    for d in diags:
        counts[(d.code, d.severity)] = counts.get((d.code, d.severity), 0) + 1
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    width = max((len(str(n)) for _, n in rows), default=1)
    return "\n".join(f"{n:>{width}}  {code}  {sev:<7}  {CODES[code].name if code in CODES else ''}".rstrip()
                     for (code, sev), n in rows)


def render(fmt: str, diags, sources: Optional[dict] = None, base: Optional[str] = None,
           color: bool = False) -> str:
    """Render ``diags`` in one of :data:`FORMATS` (``sources`` is for the text carets
    and the SARIF fingerprints; ``color`` for the text format)."""
    if fmt == "text":
        return format_text(diags, sources or {}, color=color)
    if fmt == "json":
        return format_json(diags)
    if fmt == "sarif":
        return format_sarif(diags, base, sources=sources)
    if fmt == "github":
        return format_github(diags, base)
    raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
