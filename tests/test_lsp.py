"""End-to-end tests of `shapecheck lsp`: a real LSP client (pytest-lsp) drives
the server over stdio through every feature, on the shipped specs and on
specs with errors written here."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp", reason="needs the lsp and test extras (pygls, pytest-lsp)")
from lsprotocol import types as T  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.shape"))
GPT2 = ROOT / "specs" / "gpt2.shape"

ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[sys.executable, "-m", "shapecheck", "lsp"], server_env=ENV))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(T.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        root_uri=ROOT.as_uri(),
        initialization_options={"shapecheck": {"bind": {"batch": 2, "seq_len": 7}}}))
    yield
    await lsp_client.shutdown_session()


pytestmark = pytest.mark.asyncio(loop_scope="module")


# ---- helpers -------------------------------------------------------------------------------

def write(dir_: Path, name: str, text: str) -> Path:
    p = dir_ / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


async def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> list:
    """Open ``path`` and return the diagnostics the server publishes for it."""
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8") if text is None else text
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="shape", version=1, text=text)))
    return await diagnostics_for(client, uri)


async def diagnostics_for(client: LanguageClient, uri: str) -> list:
    for _ in range(50):
        if uri in client.diagnostics:
            return list(client.diagnostics[uri])
        await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    raise AssertionError(f"no diagnostics published for {uri}")


async def change(client: LanguageClient, path: Path, text: str, version: int) -> list:
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))
    return await diagnostics_for(client, uri)


def close(client: LanguageClient, path: Path) -> None:
    client.text_document_did_close(T.DidCloseTextDocumentParams(
        text_document=T.TextDocumentIdentifier(uri=path.as_uri())))


def pos(text: str, needle: str, nth: int = 0, offset: int = 0) -> T.Position:
    """The position of the ``nth`` occurrence of ``needle`` (plus ``offset`` characters)."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    i += offset
    line = text.count("\n", 0, i)
    return T.Position(line=line, character=i - (text.rfind("\n", 0, i) + 1))


def apply_edits(text: str, edits) -> str:
    lines = text.split("\n")

    def off(p):
        return sum(len(x) + 1 for x in lines[:p.line]) + p.character
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:off(e.range.start)] + e.new_text + text[off(e.range.end):]
    return text


async def hover_text(client, path: Path, position: T.Position) -> str:
    h = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=path.as_uri()), position=position))
    assert h is not None, f"no hover at {position}"
    return h.contents.value


LIB = """
    dim d = 8
    block proj(x: [b, k]) -> [b, k] {
        return linear(x, k)
    }
"""

BAD_RETURN = """
    # averaging the heads leaves d / heads: SC403 with two notes
    block attention_avg(x: [b, l, d], heads: dim) -> [b, l, d] {
        require d % heads == 0
        Q = rearrange(linear(x, d), "b l (h k) -> b h l k", h=heads)
        K = rearrange(linear(x, d), "b l (h k) -> b h l k", h=heads)
        V = rearrange(linear(x, d), "b l (h k) -> b h l k", h=heads)
        out = mean(softmax(Q @ transpose(K, -2, -1), axis=-1) @ V, axis=1)
        return out
    }
"""


# ---- diagnostics -------------------------------------------------------------------------------

async def test_shipped_specs_publish_what_lint_reports(client: LanguageClient):
    out = subprocess.run([sys.executable, "-m", "shapecheck", "lint", "--format", "json", "--no-config",
                          *map(str, SPECS)], capture_output=True, text=True, env=ENV, cwd=ROOT)
    by_file: dict = {}
    for f in json.loads(out.stdout):
        by_file.setdefault(os.path.normpath(os.path.join(ROOT, f["path"])), []).append(
            (f["code"], f["line"], f["col"]))
    for spec in SPECS:
        diags = await open_doc(client, spec)
        got = sorted((d.code, d.range.start.line + 1, d.range.start.character + 1) for d in diags)
        assert got == sorted(by_file.get(str(spec), [])), spec.name
        close(client, spec)


async def test_error_codes_severity_and_notes(client: LanguageClient, tmp_path: Path):
    p = write(tmp_path, "avg.shape", BAD_RETURN)
    diags = await open_doc(client, p)
    assert [d.code for d in diags] == ["SC403"]
    d = diags[0]
    assert d.severity == T.DiagnosticSeverity.Error
    assert d.source == "shapecheck"
    assert (d.range.start.line, d.range.start.character) == (7, 4)      # `return out`
    assert (d.range.end.line, d.range.end.character) == (7, 14)
    assert "fails at d=2, heads=2" in d.message
    notes = {(r.location.range.start.line, r.location.range.start.character): r.message
             for r in d.related_information}
    assert notes[(1, 49)] == "the declared result shape"
    assert "comes from `rearrange`" in notes[(5, 8)]
    assert all(r.location.uri == p.as_uri() for r in d.related_information)
    close(client, p)


async def test_change_rechecks_with_the_new_text(client: LanguageClient, tmp_path: Path):
    p = write(tmp_path, "m.shape", """
        dim batch, d = 4
        model m {
            input x: [batch, d]
            y = linear(x, d) : [batch, d]
            return y
        }
    """)
    text = p.read_text()
    assert await open_doc(client, p) == []
    bad = text.replace("linear(x, d)", "linear(x, 2 * d)")
    diags = await change(client, p, bad, 2)
    assert [(d.code, d.range.start.line) for d in diags] == [("SC301", 3)]
    diags = await change(client, p, text.replace("input x", "input xx"), 3)
    assert {d.code for d in diags} == {"SC101"}
    assert any("did you mean `xx`" in d.message for d in diags)
    assert await change(client, p, text, 4) == []
    close(client, p)


async def test_suppressions_and_stale_ones(client: LanguageClient, tmp_path: Path):
    p = write(tmp_path, "s.shape", """
        dim batch, d = 4
        model m {
            input x: [batch, d]
            y = linear(x, 2 * d) : [batch, d]   # shapecheck: ignore[SC301]
            z = linear(x, d) : [batch, d]   # shapecheck: ignore[SC301]
            return y
        }
    """)
    diags = await open_doc(client, p)
    assert [(d.code, d.range.start.line) for d in diags] == [("SC701", 4)]
    assert list(diags[0].tags) == [T.DiagnosticTag.Unnecessary]
    assert diags[0].severity == T.DiagnosticSeverity.Warning
    close(client, p)


async def test_pyproject_configuration_is_honoured(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.shapecheck]\nignore = ["SC301"]\nseverity = { SC101 = "warning" }\n')
    p = write(tmp_path, "c.shape", """
        dim batch, d = 4
        model m {
            input x: [batch, d]
            y = linear(x, 2 * d) : [batch, d]
            return zz
        }
    """)
    diags = await open_doc(client, p)
    assert [(d.code, d.severity) for d in diags] == [("SC101", T.DiagnosticSeverity.Warning)]
    close(client, p)


async def test_specs_that_use_the_edited_file_are_republished(client: LanguageClient, tmp_path: Path):
    lib = write(tmp_path, "lib.shape", LIB)
    main = write(tmp_path, "main.shape", """
        use "lib.shape"
        dim batch
        model m {
            input x: [batch, d]
            return proj(x)
        }
    """)
    assert await open_doc(client, main) == []
    lib_text = lib.read_text()
    client.diagnostics.pop(main.as_uri(), None)
    await open_doc(client, lib)
    assert await diagnostics_for(client, main.as_uri()) == []     # republished when lib opened
    client.diagnostics.pop(main.as_uri(), None)
    await change(client, lib, lib_text.replace("dim d = 8", "dim e = 8"), 2)
    diags = await diagnostics_for(client, main.as_uri())
    assert [(d.code, d.range.start.line) for d in diags] == [("SC101", 3)]
    client.diagnostics.pop(main.as_uri(), None)
    await change(client, lib, lib_text, 3)
    assert await diagnostics_for(client, main.as_uri()) == []
    close(client, lib)
    close(client, main)


# ---- hover and inlay hints -----------------------------------------------------------------

async def test_hover_tensor_shape_at_example_values(client: LanguageClient):
    text = GPT2.read_text()
    await open_doc(client, GPT2)
    h = await hover_text(client, GPT2, pos(text, "weights = ", offset=2))
    assert "[batch, num_heads, seq_len, seq_len] float" in h
    assert "at example values `[2, 12, 7, 7]`" in h       # batch=2, seq_len=7 from the client's `bind`
    assert "- `num_heads`: `rearrange` (line 17)" in h      # where each dimension came from
    assert "- `batch`: parameter `x` (line 14)" in h
    h = await hover_text(client, GPT2, pos(text, "logits", nth=1, offset=1))
    assert "[batch, seq_len, vocab_size]" in h and "[2, 7, 50257]" in h
    assert "- `vocab_size`: param `wte` (line 31)" in h


async def test_hover_dim_op_block(client: LanguageClient):
    text = GPT2.read_text()
    await open_doc(client, GPT2)
    h = await hover_text(client, GPT2, pos(text, "d_model = 768", offset=1))
    assert "**dim** `d_model` = 768" in h
    assert "`d_model % num_heads == 0`" in h
    h = await hover_text(client, GPT2, pos(text, "seq_len <= n_positions", offset=1))
    assert "`seq_len <= n_positions`" in h and "example value: 7" in h   # the client's `bind`
    h = await hover_text(client, GPT2, pos(text, "dim batch", offset=5))
    assert "**dim** `batch`" in h and "example value: 2" in h
    h = await hover_text(client, GPT2, pos(text, "softmax(", offset=2))
    assert "softmax(x, axis=-1)" in h and "built-in operation" in h
    h = await hover_text(client, GPT2, pos(text, "causal_self_attention(layer", offset=3))
    assert "block causal_self_attention(x: [b, l, d], heads: dim) -> [b, l, d]" in h
    h = await hover_text(client, GPT2, pos(text, "heads: dim", offset=1))
    assert "dimension parameter" in h
    h = await hover_text(client, GPT2, pos(text, "x: [b, l, d]", offset=7))      # `l`
    assert "generic dimension" in h


async def test_hover_pass_index_and_a_growing_shape(client: LanguageClient):
    spec = ROOT / "specs" / "densenet121.shape"
    text = spec.read_text()
    await open_doc(client, spec)
    h = await hover_text(client, spec, pos(text, "repeat i in layers", nth=1, offset=7))
    assert "**pass index** `i` of `repeat i in layers`" in h and "0, 1, ..., layers - 1" in h
    h = await hover_text(client, spec, pos(text, "x = concat([x, dense_layer", offset=0))
    # the shape after pass i, in terms of the index, at each call of the block
    assert "[batch, growth*i + growth + 64, " in h, h
    assert "at example values `[2, 32*i + 96, 56, 56]`" in h, h
    # `i` in the annotation resolves to the index (go to definition)
    got = await client.text_document_definition_async(T.DefinitionParams(
        T.TextDocumentIdentifier(spec.as_uri()), pos(text, "(i + 1) * k", offset=1)))
    target = got[0] if isinstance(got, list) else got
    assert target.range.start == pos(text, "repeat i in layers", nth=1, offset=7)


async def test_inlay_hints_and_setting_to_switch_them_off(client: LanguageClient):
    text = GPT2.read_text()
    await open_doc(client, GPT2)
    params = T.InlayHintParams(text_document=T.TextDocumentIdentifier(uri=GPT2.as_uri()),
                               range=T.Range(start=T.Position(line=0, character=0),
                                             end=T.Position(line=len(text.split("\n")), character=0)))
    hints = await client.text_document_inlay_hint_async(params)
    by_line = {h.position.line: h.label for h in hints}
    q_line = pos(text, "Q = rearrange").line
    assert by_line[q_line] == ": [batch, num_heads, seq_len, d_model / num_heads]"
    assert by_line[pos(text, "q, k, v").line] == ": [batch, seq_len, d_model] each"
    # annotated statements already show their shape: no hint there
    assert pos(text, "scores = ").line not in by_line
    h = next(h for h in hints if h.position.line == q_line)
    line = text.split("\n")[q_line]
    assert h.position.character == len(line.rstrip())        # at the end of the statement
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"shapecheck": {"inlayHints": False}}))
    assert list(await client.text_document_inlay_hint_async(params)) == []
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"shapecheck": {"inlayHints": True}}))
    assert len(await client.text_document_inlay_hint_async(params)) == len(hints)


# ---- navigation -------------------------------------------------------------------------------

async def test_definition_and_references_across_files(client: LanguageClient, tmp_path: Path):
    lib = write(tmp_path, "lib.shape", LIB)
    main = write(tmp_path, "main.shape", """
        use "lib.shape"
        dim batch
        model m {
            input x: [batch, d]
            y = proj(x)
            return proj(y)
        }
    """)
    text = main.read_text()
    await open_doc(client, main)
    uri = main.as_uri()

    async def definition(p):
        r = await client.text_document_definition_async(T.DefinitionParams(
            text_document=T.TextDocumentIdentifier(uri=uri), position=p))
        return r.uri, r.range.start.line, r.range.start.character

    assert await definition(pos(text, "d]")) == (lib.as_uri(), 0, 4)
    assert await definition(pos(text, "proj(x)")) == (lib.as_uri(), 1, 6)
    assert await definition(pos(text, "batch,")) == (uri, 1, 4)
    assert await definition(pos(text, "(y)", offset=1)) == (uri, 4, 4)
    assert await definition(pos(text, "lib.shape")) == (lib.as_uri(), 0, 0)
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=pos(text, "proj(x)"),
        context=T.ReferenceContext(include_declaration=True)))
    assert sorted((r.uri == lib.as_uri(), r.range.start.line, r.range.start.character) for r in refs) == \
        [(False, 4, 8), (False, 5, 11), (True, 1, 6)]
    close(client, main)


async def test_document_symbols(client: LanguageClient):
    await open_doc(client, GPT2)
    syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
        text_document=T.TextDocumentIdentifier(uri=GPT2.as_uri())))
    names = {s.name: s for s in syms}
    for n in ("batch", "seq_len", "d_model", "causal_self_attention", "mlp", "gpt2"):
        assert n in names
    assert names["gpt2"].kind == T.SymbolKind.Class
    assert names["mlp"].kind == T.SymbolKind.Function
    assert {"ids", "wte", "x", "logits"} <= {c.name for c in names["gpt2"].children}


async def test_outline_of_every_shipped_spec(client: LanguageClient):
    import re
    for spec in SPECS:
        text = spec.read_text()
        await open_doc(client, spec)
        syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
            text_document=T.TextDocumentIdentifier(uri=spec.as_uri())))
        assert set(re.findall(r"^(?:model|block)\s+(\w+)", text, re.M)) <= {s.name for s in syms}, spec.name
        close(client, spec)


# ---- completion and signature help ---------------------------------------------------------

async def test_completion_ops_arguments_names_keywords(client: LanguageClient, tmp_path: Path):
    text = GPT2.read_text()
    marker = "    return linear(gelu(linear(x, 4 * d)), d)"
    edited = text.replace(marker, "    h = layer_norm(x, \n" + marker)
    p = tmp_path / "g.shape"
    p.write_text(text)
    await open_doc(client, p)
    assert [d.code for d in await change(client, p, edited, 2)] == ["SC001"]     # mid-edit: no parse
    at = pos(edited, "layer_norm(x, ", offset=len("layer_norm(x, "))
    res = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=p.as_uri()), position=at))
    items = {i.label: i for i in res.items}
    assert items["bias="].detail == "bool = true"
    assert items["eps="].detail.startswith("number")
    assert items["linear"].detail == "linear(x, out, bias=true)"
    assert "rearrange" in items and "causal_self_attention" in items and "d_model" in items
    assert items["x"].kind == T.CompletionItemKind.Variable        # the block's parameter
    assert "return" in items and items["return"].kind == T.CompletionItemKind.Keyword
    close(client, p)


async def test_completion_axis_names_in_rearrange_strings(client: LanguageClient, tmp_path: Path):
    text = GPT2.read_text()
    edited = text.replace('    V = rearrange(v, "b l (h k) -> b h l k", h=heads)',
                          '    V = rearrange(v, "b l (h k) -> b h l k", h=heads)\n    W = rearrange(v, "')
    p = tmp_path / "r.shape"
    p.write_text(text)
    await open_doc(client, p)
    await change(client, p, edited, 2)
    at = pos(edited, 'W = rearrange(v, "', offset=len('W = rearrange(v, "'))
    res = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=p.as_uri()), position=at))
    assert {"b", "l", "h", "k"} <= {i.label for i in res.items}
    assert "linear" not in {i.label for i in res.items}
    close(client, p)


async def test_signature_help(client: LanguageClient):
    text = GPT2.read_text()
    await open_doc(client, GPT2)
    sh = await client.text_document_signature_help_async(T.SignatureHelpParams(
        text_document=T.TextDocumentIdentifier(uri=GPT2.as_uri()),
        position=pos(text, "split(linear(x, 3 * d), 3", offset=len("split(linear(x, 3 * d), 3"))))
    sig = sh.signatures[0]
    assert sig.label == "split(x, n, axis=-1)"
    assert sh.active_parameter == 1
    sh = await client.text_document_signature_help_async(T.SignatureHelpParams(
        text_document=T.TextDocumentIdentifier(uri=GPT2.as_uri()),
        position=pos(text, "causal_self_attention(layer_norm(x), ", offset=len("causal_self_attention(layer_norm(x), "))))
    sig = sh.signatures[0]
    assert sig.label == "causal_self_attention(x: [b, l, d], heads: dim) -> [b, l, d]"
    start, end = sig.parameters[sh.active_parameter].label
    assert sig.label[start:end] == "heads: dim"


# ---- code actions -----------------------------------------------------------------------------

async def actions(client, path: Path, diags, line: int):
    return await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=path.as_uri()),
        range=T.Range(start=T.Position(line=line, character=0), end=T.Position(line=line, character=0)),
        context=T.CodeActionContext(diagnostics=diags)))


async def test_code_action_inserts_the_suggested_require(client: LanguageClient, tmp_path: Path):
    p = write(tmp_path, "q.shape", """
        dim batch, seq, d_model = 512, num_heads = 8
        model m {
            input x: [batch, seq, d_model]
            y = linear(x, d_model / num_heads)
            return y
        }
    """)
    text = p.read_text()
    diags = await open_doc(client, p)
    assert [d.code for d in diags] == ["SC201"]
    acts = await actions(client, p, diags, 3)
    fix = next(a for a in acts if a.title == "Add `require d_model % num_heads == 0`")
    fixed = apply_edits(text, fix.edit.changes[p.as_uri()])
    assert fixed.split("\n")[0] == "dim batch, seq, d_model = 512, num_heads = 8"
    assert fixed.split("\n")[1] == "require d_model % num_heads == 0"
    assert await change(client, p, fixed, 2) == []
    close(client, p)


async def test_code_action_require_inside_a_block(client: LanguageClient, tmp_path: Path):
    p = write(tmp_path, "b.shape", """
        block heads_of(x: [b, d], h: dim) -> [b, h, d / h] {
            y = rearrange(x, "b (h k) -> b h k", h=h)
            return y
        }
    """)
    text = p.read_text()
    diags = await open_doc(client, p)
    with_fix = [d for d in diags if "add `require" in d.message]
    assert with_fix, [d.message for d in diags]
    acts = await actions(client, p, with_fix, with_fix[0].range.start.line)
    fix = next(a for a in acts if a.title.startswith("Add `require"))
    fixed = apply_edits(text, fix.edit.changes[p.as_uri()])
    assert fixed.split("\n")[1].startswith("    require ")
    assert all("add `require" not in d.message for d in await change(client, p, fixed, 2))
    close(client, p)


async def test_code_action_did_you_mean(client: LanguageClient, tmp_path: Path):
    p = write(tmp_path, "t.shape", """
        dim batch, d = 4
        model m {
            input x: [batch, d]
            y = lienar(x, d)
            return y
        }
    """)
    text = p.read_text()
    diags = await open_doc(client, p)
    assert [d.code for d in diags] == ["SC104"]
    acts = await actions(client, p, diags, 3)
    fix = next(a for a in acts if a.title == "Change to `linear`")
    assert fix.diagnostics[0].code == "SC104"
    fixed = apply_edits(text, fix.edit.changes[p.as_uri()])
    assert "y = linear(x, d)" in fixed
    assert await change(client, p, fixed, 2) == []
    close(client, p)


async def test_code_actions_for_suppressions(client: LanguageClient, tmp_path: Path):
    p = write(tmp_path, "u.shape", """
        dim batch, d = 4
        model m {
            input x: [batch, d]
            y = linear(x, 2 * d) : [batch, d]   # shapecheck: ignore[SC301, SC501]
            z = linear(x, 2 * d) : [batch, d]
            return y
        }
    """)
    text = p.read_text()
    diags = await open_doc(client, p)
    assert sorted((d.code, d.range.start.line) for d in diags) == [("SC301", 4), ("SC701", 3)]
    stale = next(d for d in diags if d.code == "SC701")
    acts = await actions(client, p, [stale], 3)
    fix = next(a for a in acts if a.title == "Remove the unused code")
    text2 = apply_edits(text, fix.edit.changes[p.as_uri()])
    assert "# shapecheck: ignore[SC301]" in text2.split("\n")[3]
    diags = await change(client, p, text2, 2)
    assert [(d.code, d.range.start.line) for d in diags] == [("SC301", 4)]
    acts = await actions(client, p, diags, 4)
    fix = next(a for a in acts if a.title == "Suppress SC301 on this line")
    text3 = apply_edits(text2, fix.edit.changes[p.as_uri()])
    assert text3.split("\n")[4].endswith("  # shapecheck: ignore[SC301]")
    assert await change(client, p, text3, 3) == []
    # a whole stale comment goes
    text4 = text3.replace("y = linear(x, 2 * d)", "y = linear(x, d)")
    diags = await change(client, p, text4, 4)
    assert [(d.code, d.range.start.line) for d in diags] == [("SC701", 3)]
    acts = await actions(client, p, diags, 3)
    fix = next(a for a in acts if a.title == "Remove the unused suppression")
    text5 = apply_edits(text4, fix.edit.changes[p.as_uri()])
    assert text5.split("\n")[3] == "    y = linear(x, d) : [batch, d]"
    assert await change(client, p, text5, 5) == []
    close(client, p)
