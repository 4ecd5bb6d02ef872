"""Hostile input: spec text is data, never code.

* injection payloads in every position where a string or an expression can
  appear never run (a marker file never appears) and never raise;
* a static scan: nothing in ``shapecheck/`` evaluates text (eval, exec,
  compile, sympify of strings, parse_expr, lambdify, symbols(...));
* a run-time guard: sympy's string parser is never reached while checking and
  verifying the shipped specs and the payloads;
* dimension names that are special in sympy (``I``, ``E``, ``N``, ``S``, ``pi``,
  ``oo``, ...) are ordinary dimensions.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from shapecheck.api import check_path, check_source
from shapecheck.cli import main
from shapecheck.diagnostics import format_text
from shapecheck.verify import UsageError, verify

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "shapecheck"

SYMPY_SPECIAL = ["I", "E", "N", "S", "O", "Q", "pi", "oo", "beta", "gamma", "zeta", "lambda_", "nan", "zoo"]


# ---- injection payloads ---------------------------------------------------------------------------

def _payloads(marker: Path) -> list:
    """Code that would create ``marker`` if it ever ran (Python and sympy flavours)."""
    m = str(marker)
    return [
        f'__import__("os").system("touch {m}")',
        f"__import__('os').system('touch {m}')",
        f'open("{m}", "w").write("x")',
        f'exec("open(\'{m}\', \'w\')")',
        f'eval("__import__(\'os\').system(\'touch {m}\')")',
        f'Symbol("x") or __import__("pathlib").Path("{m}").touch()',
        f'[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "Popen"][0]("touch {m}")',
        f'lambda: __import__("os").system("touch {m}")',
    ]


def _escaped(p: str) -> str:
    """``p`` as the body of a spec string literal."""
    return p.replace("\\", "\\\\").replace('"', '\\"')


def _positions(payload: str) -> dict:
    """One spec per position where text can appear, each carrying ``payload``."""
    s = _escaped(payload)
    ok = "dim batch = 2, d = 4\n"
    model = "model m {{\n    input x: [batch, d]\n    {line}\n    return x\n}}\n"
    return {
        "dim example": f"dim batch = {payload}\nmodel m {{ input x: [batch]\n return x }}\n",
        "dim example (string)": f'dim batch = "{s}"\nmodel m {{ input x: [batch]\n return x }}\n',
        "let": ok + f"let k = {payload}\n" + model.format(line="y = x"),
        "let (string)": ok + f'let k = "{s}"\n' + model.format(line="y = x"),
        "require": ok + f"require d == {payload}\n" + model.format(line="y = x"),
        "keyword value": ok + model.format(line=f"y = softmax(x, axis={payload})"),
        "keyword value (string)": ok + model.format(line=f'y = softmax(x, axis="{s}")'),
        "keyword name": ok + model.format(line=f'y = rearrange(x, "b d -> d b", __import__="{s}")'),
        "rearrange pattern": ok + model.format(line=f'y = rearrange(x, "{s}")'),
        "rearrange pattern (arrow)": ok + model.format(line=f'y = rearrange(x, "b d -> {s}")'),
        "rearrange size": ok + model.format(line=f'y = rearrange(x, "b (h k) -> b h k", h={payload})'),
        "einsum equation": ok + model.format(line=f'y = einsum("{s}", x, x)'),
        "einsum equation (arrow)": ok + model.format(line=f'y = einsum("ij,{s}->ij", x, x)'),
        "use path": f'use "{s}"\n' + ok + model.format(line="y = x"),
        "shape item": ok + model.format(line=f"y = x : [{payload}, d]"),
        "input shape": ok + f"model m {{\n    input x: [batch, {payload}]\n    return x\n}}\n",
        "param shape": ok + model.format(line=f"param w: [{payload}]"),
        "reshape list": ok + model.format(line=f"y = reshape(x, [{payload}])"),
        "repeat count": ok + model.format(line=f"repeat {payload} {{ x = relu(x) }}"),
        "index": ok + model.format(line=f"y = x[{payload}]"),
        "call argument": ok + model.format(line=f"y = linear(x, {payload})"),
        "string argument": ok + model.format(line=f'y = linear(x, "{s}")'),
        "operation name": ok + model.format(line="y = eval(x)") + model.replace("model m", "model m2").format(
            line=f"y = {payload}"),
        "comment": ok + f"# {payload}\n" + model.format(line=f"y = x   # {payload}"),
        "block default": ok + f"block b(x: [n], h: dim = {payload}) -> [n] {{ return x }}\n"
                         + model.format(line="y = x"),
    }


def _names_specs() -> dict:
    """Python and sympy callables used as ordinary names."""
    names = ["eval", "exec", "__import__", "open", "compile", "sympify", "lambdify", "globals", "os",
             "__builtins__", "__class__", "system", "getattr", "Symbol", "Integer"]
    out = {}
    for n in names:
        out[f"name {n}"] = textwrap.dedent(f"""\
            dim {n} = 3, d = 2
            let {n}_twice = 2 * {n}
            block {n}_block({n}_x: [{n}], k: dim) -> [{n}] {{ return {n}_x }}
            model {n}_model {{
                input {n}_t: [{n}, d]
                {n}_y = {n}_t + 1 : [{n}, d]
                return {n}_y
            }}
            """)
    return out


def _cases(marker: Path) -> list:
    cases = []
    for i, p in enumerate(_payloads(marker)):
        for where, text in _positions(p).items():
            cases.append((f"{where} #{i}", text))
    cases.extend(_names_specs().items())
    return cases


def _exercise(text: str, path: Path) -> None:
    """Lint, format, verify (when it lints clean) and run the CLI on ``text``: nothing escapes."""
    res = check_source(text, str(path))
    assert "SC003" not in res.codes(), [d.message for d in res.diagnostics]
    format_text(res.diagnostics, res.sources)
    path.write_text(text, encoding="utf-8")
    if res.ok:
        try:
            rep = verify(str(path), samples=1, max_memory=2 ** 24)
        except UsageError:
            pass
        else:
            assert "SC003" not in [d.code for d in rep.diagnostics]
            format_text(rep.diagnostics, rep.sources)
    assert main(["lint", "-q", str(path)]) in (0, 1)


def test_injection_payloads_never_run(tmp_path, monkeypatch, capsys):
    marker = tmp_path / "MARKER"
    monkeypatch.chdir(tmp_path)          # a relative `touch MARKER` would land here too
    cases = _cases(marker)
    assert len(cases) > 150
    for where, text in cases:
        _exercise(text, tmp_path / "hostile.shape")
        assert not marker.exists(), f"the payload ran ({where})"
        assert not (tmp_path / "M").exists()
    capsys.readouterr()


def test_payloads_in_strings_are_reported_not_run(tmp_path):
    """A payload in a rearrange pattern / einsum equation is a bad pattern (SC306),
    in a `use` path a missing file (SC004): reported like any other text."""
    payload = _payloads(tmp_path / "MARKER")[0]
    texts = _positions(payload)
    path = str(tmp_path / "h.shape")
    assert "SC306" in check_source(texts["rearrange pattern"], path).codes()
    assert "SC306" in check_source(texts["einsum equation"], path).codes()
    assert "SC004" in check_source(texts["use path"], path).codes()
    assert check_source(texts["comment"], path).codes() == []
    assert not (tmp_path / "MARKER").exists()


def test_python_names_are_ordinary_names(tmp_path):
    for where, text in _names_specs().items():
        res = check_source(text, str(tmp_path / "n.shape"))
        assert res.diagnostics == [], (where, [(d.code, d.message) for d in res.diagnostics])
        (model,) = res.models.values()
        name = where.split()[1]
        assert model.shapes()[f"{name}_y"] == f"[{name}, d]"


# ---- nothing in shapecheck/ evaluates text ------------------------------------------------------

#: builtins that run text as code (flagged as bare calls or ``builtins.X``; ``re.compile`` and
#: the interpreters' own ``self.eval`` methods are something else)
BUILTIN_CODE = {"eval", "exec", "compile", "__import__", "execfile"}
#: library callables that turn text into code or expressions (flagged however they are called)
FORBIDDEN_CALLS = {"parse_expr", "lambdify", "parse_latex", "parse_mathematica", "symbols", "var",
                   "S", "import_module", "run_path", "run_module", "literal_eval"}
#: allowed: the CLI picks subcommand modules by name from its fixed COMMANDS tuple
# conform imports the user's --factory MODULE (named on the command line, never by a spec)
ALLOWED = {("cli/__init__.py", "import_module"), ("conform.py", "import_module")}


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def _called_name(node: ast.Call):
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def _is_text(node) -> bool:
    """Is the expression visibly text (a str literal, f-string, str(...), a concatenation with one)?"""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Call) and _called_name(node) in ("str", "format", "join", "read", "repr"):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return False


def test_static_no_eval_of_text():
    problems = []
    sympify_calls = 0
    for path, text in _sources():
        rel = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(text, str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _called_name(node)
                f = node.func
                bare = isinstance(f, ast.Name) or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                                                   and f.value.id == "builtins")
                if (name in FORBIDDEN_CALLS or (name in BUILTIN_CODE and bare)) and (rel, name) not in ALLOWED:
                    problems.append(f"{rel}:{node.lineno}: calls {name}()")
                if name == "sympify":
                    sympify_calls += 1
                    if not node.args or any(_is_text(a) for a in node.args):
                        problems.append(f"{rel}:{node.lineno}: sympify() of text")
                    if isinstance(node.args[0], ast.Name) and node.args[0].id in ("text", "source", "src", "s"):
                        problems.append(f"{rel}:{node.lineno}: sympify() of a text variable")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = getattr(node, "module", None) or ""
                names = [a.name for a in node.names]
                if "sympy.parsing" in mod or any(n.startswith("sympy.parsing") for n in names) or \
                        any(n in ("parse_expr", "lambdify", "pickle", "marshal", "runpy") for n in names) or \
                        mod in ("pickle", "marshal", "runpy", "code", "codeop"):
                    problems.append(f"{rel}:{node.lineno}: imports {mod or names}")
    assert not problems, "\n".join(problems)
    # sympify is not used at all: dims.as_expr converts ints and never parses text
    assert sympify_calls == 0
    assert sum(t.count("as_expr(") for _, t in _sources()) > 10   # the scan sees the package


def test_static_scan_detects_eval(tmp_path):
    """The scanner itself: it would catch the forbidden patterns."""
    bad = "import sympy\nx = eval(s)\ny = sympy.sympify('a + b')\nz = sympy.sympify(f'{a}')\n"
    tree = ast.parse(bad)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert {_called_name(c) for c in calls} >= {"eval", "sympify"}
    assert all(_is_text(c.args[0]) for c in calls if _called_name(c) == "sympify")


def test_grep_no_builtin_eval_exec():
    """A plain grep, belt and braces: no `eval(`/`exec(` as a bare call anywhere in the package."""
    import re

    pat = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(")
    hits = []
    for path, text in _sources():
        for i, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            if pat.search(code) and not code.strip().startswith(("\"", "'", "def ")):
                hits.append(f"{path.name}:{i}: {line.strip()}")
    assert not hits, hits


@pytest.fixture
def no_string_parsing(monkeypatch):
    """Make sympy's string parser (the one way text becomes an expression) fail loudly."""
    import sympy
    import sympy.parsing.sympy_parser as sp

    calls = []

    def refuse(*args, **kwargs):
        calls.append(args[:1])
        raise AssertionError(f"sympy parsed text: {args[:1]!r}")

    monkeypatch.setattr(sp, "parse_expr", refuse)
    real = sympy.sympify

    def guarded(a, *args, **kwargs):
        if isinstance(a, str):
            calls.append((a,))
            raise AssertionError(f"sympify of text: {a!r}")
        return real(a, *args, **kwargs)

    monkeypatch.setattr(sympy, "sympify", guarded)
    return calls


def test_runtime_no_string_parsing(no_string_parsing, tmp_path):
    specs = sorted((ROOT / "specs").glob("*.shape"))
    cases = sorted((ROOT / "tests" / "cases").rglob("*.shape"))
    for p in specs + cases:
        res = check_path(str(p))
        assert "SC003" not in res.codes(), (p, [d.message for d in res.diagnostics])
    for where, text in _cases(tmp_path / "MARKER")[::7]:
        res = check_source(text, str(tmp_path / "h.shape"))
        assert "SC003" not in res.codes(), where
    special = tmp_path / "special.shape"
    special.write_text(SPECIAL_SPEC, encoding="utf-8")
    check_path(str(special))
    verify(str(special), samples=1)
    assert no_string_parsing == []


# ---- sympy's special names are ordinary dimensions ------------------------------------------------

SPECIAL_VALUES = {"I": 2, "E": 3, "N": 4, "S": 6, "O": 5, "Q": 2, "pi": 7, "oo": 8, "beta": 9, "gamma": 10,
                  "zeta": 11, "lambda_": 12, "nan": 13, "zoo": 14}
SPECIAL_SPEC = (
    "dim " + ", ".join(f"{n} = {v}" for n, v in SPECIAL_VALUES.items()) + "\n"
    "let twice_pi = 2 * pi\n"
    "require S % I == 0\n"
    "block mix(x: [N, E], beta: dim) -> [N, beta] {\n"
    "    return linear(x, beta)\n"
    "}\n"
    "model special {\n"
    "    input x: [N, E]\n"
    "    input ids: [O] int\n"
    "    param table: [zoo, Q]\n"
    "    a = mix(x, gamma)                               : [N, gamma]\n"
    "    b = linear(a, oo) + linear(a, oo)               : [N, oo]\n"
    "    c = rearrange(linear(b, S), \"n (i k) -> n i k\", i=I) : [N, I, S / I]\n"
    "    e = embedding(ids, zeta, nan)                   : [O, nan]\n"
    "    f = linear(e, lambda_) @ transpose(linear(e, lambda_), 0, 1) : [O, O]\n"
    "    g = linear(b, twice_pi)                         : [N, 2 * pi]\n"
    "    repeat Q { b = relu(b) }\n"
    "    return c, f, g\n"
    "}\n"
)


def test_sympy_special_names_lint_clean():
    res = check_source(SPECIAL_SPEC, "special.shape")
    assert res.diagnostics == [], [(d.code, d.span.line, d.message) for d in res.diagnostics]
    shapes = res.models["special"].shapes()
    assert shapes["x"] == "[N, E]"
    assert shapes["a"] == "[N, gamma]"
    assert shapes["b"] == "[N, oo]"
    assert shapes["c"] == "[N, I, S/I]" or shapes["c"] in ("[N, I, S / I]",)
    assert shapes["e"] == "[O, nan]"
    assert shapes["f"] == "[O, O]"
    assert shapes["g"] == "[N, 2*pi]"
    # the symbols are plain positive integers named as written, not sympy's constants
    import sympy

    dims = res.models["special"].dims
    assert set(SYMPY_SPECIAL) <= set(dims)
    for n in SYMPY_SPECIAL:
        s = dims[n]
        assert isinstance(s, sympy.Symbol) and s.name == n and s.is_integer and s.is_positive
    assert dims["I"] != sympy.I and dims["E"] != sympy.E and dims["pi"] != sympy.pi
    assert dims["oo"] != sympy.oo and dims["nan"] is not sympy.nan and dims["zoo"] is not sympy.zoo
    params = res.models["special"].params
    assert params.free_symbols <= set(dims.values())


def test_sympy_special_names_each_alone():
    """Each special name alone, in every role (dim, let, generic, dim parameter)."""
    for n in SYMPY_SPECIAL:
        text = textwrap.dedent(f"""\
            dim {n} = 3, d = 2
            let {n}2 = {n} * {n}
            require {n} >= 1
            block b(x: [l, {n}], k: dim) -> [l, k] {{ return linear(x, k) }}
            model m {{
                input x: [d, {n}]
                y = b(x, {n}2) : [d, {n}2]
                z = linear(x, {n}) / 2 + 1 : [d, {n}]
                return y, z
            }}
            """)
        res = check_source(text, f"{n}.shape")
        assert res.diagnostics == [], (n, [(d.code, d.message) for d in res.diagnostics])
        assert res.models["m"].shapes()["z"] == f"[d, {n}]"
        assert res.models["m"].shapes()["y"] == f"[d, {n}**2]"


def test_sympy_special_names_verify(tmp_path):
    path = tmp_path / "special.shape"
    path.write_text(SPECIAL_SPEC, encoding="utf-8")
    rep = verify(str(path), samples=2)
    assert rep.ok and rep.diagnostics == [], [d.message for d in rep.diagnostics]
    assert len(rep.runs) == 3 and all(r.failed is None for r in rep.runs)
    assert rep.runs[0].bindings.values == SPECIAL_VALUES
    assert main(["verify", str(path), "--samples", "1"]) == 0
