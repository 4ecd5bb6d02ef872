"""The language server: pygls wiring over :mod:`.analysis` and :mod:`.features`.

Settings (``initializationOptions``, or ``workspace/didChangeConfiguration``
``settings``, either flat or under a ``shapecheck`` key):

- ``inlayHints`` (bool, default true): the inferred shape at the end of each assignment;
- ``bind`` ({dimension: int}): example sizes for hovers and hints, over ``dim d = N``
  and ``[tool.shapecheck] bind``;
- ``debounce`` (milliseconds, default 15): the quiet time after an edit before
  the spec is checked again.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Optional

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from . import features as F
from .analysis import Workspace, normpath

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_MS = 15


class ShapeServer(LanguageServer):
    def __init__(self):
        super().__init__("shapecheck", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.ws = Workspace()
        self.settings = {"inlayHints": True, "bind": {}, "debounce": DEFAULT_DEBOUNCE_MS}
        self.pending: dict = {}          # path -> asyncio.TimerHandle
        self.versions: dict = {}         # path -> document version
        self.published: set = set()      # paths with diagnostics shown
        self._views: dict = {}           # path -> (Analysis, binds, View)
        self.check_cpu_ms: list = []     # CPU time of each check that ran (not reused)

    # -- helpers ----------------------------------------------------------------------
    def conv(self) -> F.Conv:
        try:
            enc = self.workspace.position_encoding
        except RuntimeError:      # not initialised yet
            enc = "utf-16"
        return F.Conv(self.text_of, str(getattr(enc, "value", enc) or "utf-16"))

    def text_of(self, path: str) -> Optional[str]:
        try:
            return self.ws.read(path)
        except (OSError, UnicodeDecodeError):
            return None

    def view(self, path: str, parsed: bool = False) -> F.View:
        """The features' view of ``path``; with ``parsed``, of its latest version
        that parsed when the current one does not (completion while typing)."""
        a = self.ws.analyse(path)
        if parsed and a.module is None and a.path in self.ws.parsed:
            a = self.ws.parsed[a.path]
        binds = self.settings.get("bind") or {}
        hit = self._views.get(a.path)
        if hit is not None and hit[0] is a and hit[1] == binds:
            return hit[2]
        v = F.View(a, self.text_of, binds)
        self._views[a.path] = (a, dict(binds), v)
        return v

    def update_settings(self, raw) -> None:
        if not isinstance(raw, dict):
            return
        raw = raw.get("shapecheck", raw)
        if not isinstance(raw, dict):
            return
        if isinstance(raw.get("inlayHints"), bool):
            self.settings["inlayHints"] = raw["inlayHints"]
        if isinstance(raw.get("bind"), dict):
            self.settings["bind"] = {k: v for k, v in raw["bind"].items()
                                     if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)}
        if isinstance(raw.get("debounce"), (int, float)) and not isinstance(raw.get("debounce"), bool):
            self.settings["debounce"] = max(0, raw["debounce"])

    def publish(self, path: str) -> None:
        """Check ``path`` (an open document) and the specs that use it; publish."""
        self.pending.pop(path, None)
        targets = [path] + [p for p in self.ws.dependents(path)]
        for p in dict.fromkeys(targets):
            if p not in self.ws.overlays and p != path and not os.path.exists(p):
                continue
            try:
                before, c0 = self.ws.stats["checks"], time.process_time()
                a = self.ws.analyse(p)
                if self.ws.stats["checks"] > before:
                    self.check_cpu_ms.append((time.process_time() - c0) * 1000)
            except Exception as e:   # never let a bug kill the session: say so where the user looks
                log.exception("checking %s failed", p)
                self.window_log_message(T.LogMessageParams(type=T.MessageType.Error,
                                                           message=f"shapecheck: checking {p} failed: {e}"))
                continue
            self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
                uri=from_fs_path(p), diagnostics=F.diagnostics(a, self.conv()),
                version=self.versions.get(p) if p in self.ws.overlays else None))
            self.published.add(p)

    def schedule(self, path: str) -> None:
        handle = self.pending.pop(path, None)
        if handle is not None:
            handle.cancel()
        delay = float(self.settings.get("debounce", DEFAULT_DEBOUNCE_MS)) / 1000.0
        loop = asyncio.get_running_loop()
        self.pending[path] = loop.call_later(delay, self.publish, path)


server = ShapeServer()


def _path(uri: str) -> str:
    return normpath(to_fs_path(uri) or uri)


def _doc_text(ls: ShapeServer, uri: str) -> str:
    return ls.workspace.get_text_document(uri).source


@server.feature(T.INITIALIZE)
def on_initialize(ls: ShapeServer, params: T.InitializeParams):
    ls.update_settings(params.initialization_options)


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: ShapeServer, params: T.DidOpenTextDocumentParams):
    path = _path(params.text_document.uri)
    ls.ws.open(path, params.text_document.text)
    ls.versions[path] = params.text_document.version
    ls.publish(path)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: ShapeServer, params: T.DidChangeTextDocumentParams):
    path = _path(params.text_document.uri)
    ls.ws.open(path, _doc_text(ls, params.text_document.uri))
    ls.versions[path] = params.text_document.version
    ls.schedule(path)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: ShapeServer, params: T.DidSaveTextDocumentParams):
    path = _path(params.text_document.uri)
    if params.text is not None:
        ls.ws.open(path, params.text)
    ls.ws.configs.clear()
    ls.publish(path)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ShapeServer, params: T.DidCloseTextDocumentParams):
    path = _path(params.text_document.uri)
    handle = ls.pending.pop(path, None)
    if handle is not None:
        handle.cancel()
    ls.ws.close(path)
    ls.ws.forget(path)
    ls.versions.pop(path, None)
    # the buffer may have differed from the disk: specs using it see the disk again
    for p in ls.ws.dependents(path):
        if p in ls.ws.overlays:
            ls.publish(p)
    if path in ls.published:
        ls.published.discard(path)
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                        diagnostics=[]))


@server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: ShapeServer, params: T.DidChangeConfigurationParams):
    ls.update_settings(params.settings)


@server.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched(ls: ShapeServer, params: T.DidChangeWatchedFilesParams):
    changed = [_path(c.uri) for c in params.changes]
    if any(os.path.basename(p) == "pyproject.toml" for p in changed):
        ls.ws.reload_config()
        for p in list(ls.ws.overlays):
            ls.publish(p)
        return
    for p in changed:
        for q in ls.ws.dependents(p):
            if q in ls.ws.overlays:
                ls.publish(q)


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: ShapeServer, params: T.HoverParams):
    path = _path(params.text_document.uri)
    conv = ls.conv()
    line, col = conv.from_client(path, params.position)
    text = F.hover(ls.view(path), line, col)
    if text is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text))


@server.feature(T.TEXT_DOCUMENT_INLAY_HINT, T.InlayHintOptions(resolve_provider=False))
def inlay_hints(ls: ShapeServer, params: T.InlayHintParams):
    if not ls.settings.get("inlayHints", True):
        return []
    path = _path(params.text_document.uri)
    conv = ls.conv()
    out = []
    for line, col, label in F.inlay_hints(ls.view(path), params.range.start.line + 1, params.range.end.line + 1):
        out.append(T.InlayHint(position=conv.position(path, line, col), label=label,
                               kind=T.InlayHintKind.Type, padding_left=True))
    return out


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def definition(ls: ShapeServer, params: T.DefinitionParams):
    path = _path(params.text_document.uri)
    conv = ls.conv()
    line, col = conv.from_client(path, params.position)
    span = F.definition(ls.view(path), line, col)
    if span is None:
        return None
    return T.Location(uri=from_fs_path(span.file), range=conv.range(span))


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
def references(ls: ShapeServer, params: T.ReferenceParams):
    path = _path(params.text_document.uri)
    conv = ls.conv()
    line, col = conv.from_client(path, params.position)
    others = [ls.view(p) for p in ls.ws.overlays if p != path]
    spans = F.references(ls.view(path), line, col, others, params.context.include_declaration)
    return [T.Location(uri=from_fs_path(s.file), range=conv.range(s)) for s in spans]


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: ShapeServer, params: T.DocumentSymbolParams):
    path = _path(params.text_document.uri)
    return F.document_symbols(ls.view(path), ls.conv())


@server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=["(", ",", '"', " "]))
def completion(ls: ShapeServer, params: T.CompletionParams):
    path = _path(params.text_document.uri)
    conv = ls.conv()
    line, col = conv.from_client(path, params.position)
    items = F.completion(ls.view(path, parsed=True), _doc_text(ls, params.text_document.uri), line, col)
    return T.CompletionList(is_incomplete=False, items=items)


@server.feature(T.TEXT_DOCUMENT_SIGNATURE_HELP, T.SignatureHelpOptions(trigger_characters=["(", ","]))
def signature_help(ls: ShapeServer, params: T.SignatureHelpParams):
    path = _path(params.text_document.uri)
    conv = ls.conv()
    line, col = conv.from_client(path, params.position)
    return F.signature_help(ls.view(path, parsed=True), _doc_text(ls, params.text_document.uri), line, col)


@server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
def code_action(ls: ShapeServer, params: T.CodeActionParams):
    path = _path(params.text_document.uri)
    conv = ls.conv()
    v = ls.view(path)
    out = []
    for title, d, edits in F.code_actions(v, params.range.start.line + 1, params.range.end.line + 1, conv):
        changes = {}
        for span, new in edits:
            changes.setdefault(from_fs_path(span.file), []).append(T.TextEdit(range=conv.range(span), new_text=new))
        diag = [x for x in F.diagnostics(_only(v.a, d), conv)]
        out.append(T.CodeAction(title=title, kind=T.CodeActionKind.QuickFix, diagnostics=diag,
                                edit=T.WorkspaceEdit(changes=changes),
                                is_preferred=title.startswith(("Change to", "Remove", "Add"))))
    return out


@server.feature("shapecheck/stats")
def stats(ls: ShapeServer, params):
    """Counters for benchmarks: checks run and reused, CPU milliseconds of each check."""
    return {**ls.ws.stats, "check_cpu_ms": list(ls.check_cpu_ms)}


def _only(a, d):
    """``a`` restricted to one finding (to render it as the action's diagnostic)."""
    import dataclasses
    return dataclasses.replace(a, diagnostics=[d], config_error=None)


def main(tcp: Optional[int] = None, host: str = "127.0.0.1") -> int:
    logging.basicConfig(level=logging.WARNING)
    if tcp is not None:
        server.start_tcp(host, tcp)
    else:
        server.start_io()
    return 0
