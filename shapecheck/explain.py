"""What each diagnostic code means, with a spec that fails and the same spec fixed.

``shapecheck codes SC301`` prints one entry; SARIF rules carry it as their
help text, with ``helpUri`` pointing at the code's section of
``docs/codes.md``, which :func:`codes_markdown` writes
(``python -m shapecheck.explain > docs/codes.md``). The test suite checks
that every failing example reports its code and every fixed one is clean.
"""
from __future__ import annotations

from .codes import CODES

#: the repository the documentation links point into (OWNER: the placeholder to replace on a fork)
REPOSITORY_URL = "https://github.com/OWNER/shapecheck"
DOCS_URL = REPOSITORY_URL + "/blob/main/docs/codes.md"

_M = "dim batch, d = 4\nmodel m {{\n    input x: [batch, d]\n{body}\n}}\n"


def _m(body: str) -> str:
    return _M.format(body="\n".join("    " + ln for ln in body.strip("\n").split("\n")))


#: code -> (why it matters and how to fix it, failing spec or None, fixed spec or None)
EXPLAIN = {
    "SC001": ("The file does not match the grammar. The message names the unexpected token at its "
              "position and what could come there; a misspelled keyword gets a suggestion.",
              "dim batch, d\nreqire d > 1\n", "dim batch, d\nrequire d > 1\n"),
    "SC002": ("A file named on the command line (or a folder with no spec in it) cannot be read or "
              "decoded: missing, a permission problem, not UTF-8, or a NUL byte (reported at its line "
              "and column). The run fails (exit 2) and SARIF marks the invocation unsuccessful.",
              None, None),
    "SC003": ("shapecheck itself failed. The finding is reported at the file, the run exits 2; please "
              "report it with the spec that triggers it.", None, None),
    "SC004": ("A `use` target is missing, unreadable, not a spec file, outside the project root (the "
              "folder of the pyproject.toml in force, else the repository root; widen it with "
              "`project-root`), or part of a cycle. Reported at the `use` line; the target is never shown.",
              'use "missing.shape"\ndim a\n', "dim a\n"),
    "SC005": ("The input is beyond a documented limit (nesting depth, literal size, exponents).",
              "dim a\nlet big = a ** 1000000\n", "dim a\nlet big = a ** 2\n"),
    "SC101": ("A name is used but never defined (a tensor, dimension or block).",
              _m("return linear(y, d)"), _m("return linear(x, d)")),
    "SC102": ("Something is defined twice in the same scope.",
              "dim a\ndim a\n", "dim a\n"),
    "SC103": ("A value of the wrong kind: a tensor where a dimension is needed, a string where a "
              "tensor is, and so on.",
              _m('return linear(x, "d")'), _m("return linear(x, d)")),
    "SC104": ("A call names neither a built-in operation nor a block (see the operation list in "
              "docs/language.md).",
              _m("return linnear(x, d)"), _m("return linear(x, d)")),
    "SC105": ("Arguments are missing, unexpected or given twice.",
              _m("return linear(x)"), _m("return linear(x, d)")),
    "SC106": ("A statement is where it is not allowed, e.g. `input` inside a block.",
              "dim b, d\nblock f(x: [b, d]) -> [b, d] {\n    input y: [b, d]\n    return x\n}\n",
              "dim b, d\nblock f(x: [b, d]) -> [b, d] {\n    return x\n}\n"),
    "SC201": ("`a / b` of dimensions must be an integer for every size the `require`s allow; add a "
              "`require a % b == 0` or use `//`.",
              "dim a = 6, b = 4\nlet c = a / b\n", "dim a = 8, b = 4\nrequire a % b == 0\nlet c = a / b\n"),
    "SC202": ("A dimension (a repeat count, a convolution's output size, a difference) can be zero or "
              "negative for some allowed sizes.",
              _m("return linear(x, d - 5)"), _m("return linear(x, d + 5)")),
    "SC203": ("No sizes satisfy the `require`s together: the spec describes nothing.",
              "dim a\nrequire a > 4, a < 2\n", "dim a\nrequire a > 4\n"),
    "SC204": ("A dimension expression is malformed: not an integer, or an operation dimensions do not "
              "support.",
              "dim a = 4\nlet c = a / 0\n", "dim a = 4\nlet c = a // 2\n"),
    "SC205": ("The example values given to `dim`s break a `require`.",
              "dim d = 10, heads = 4\nrequire d % heads == 0\n",
              "dim d = 12, heads = 4\nrequire d % heads == 0\n"),
    "SC206": ("`let`s define each other in a cycle, so none of them has a value.",
              "dim a\nlet b = c + a\nlet c = b\n", "dim a\nlet b = a + 1\nlet c = b\n"),
    "SC301": ("The shape the checker infers differs from the `: [...]` annotation; the message names "
              "the dimension and sizes where they differ.",
              _m("y = linear(x, 2 * d) : [batch, d]\nreturn y"),
              _m("y = linear(x, 2 * d) : [batch, 2 * d]\nreturn y")),
    "SC302": ("Operands of an elementwise operation cannot be broadcast together.",
              "dim batch, d, e\nmodel m {\n    input x: [batch, d]\n    input y: [batch, e]\n"
              "    return x + y\n}\n",
              "dim batch, d, e\nmodel m {\n    input x: [batch, d]\n    input y: [batch, d]\n"
              "    return x + y\n}\n"),
    "SC303": ("The contracted dimensions of `@` differ.",
              "dim n, k, j\nmodel m {\n    input a: [n, k]\n    input b: [j, n]\n    return a @ b\n}\n",
              "dim n, k, j\nmodel m {\n    input a: [n, k]\n    input b: [k, j]\n    return a @ b\n}\n"),
    "SC304": ("A tensor has the wrong number of dimensions for an operation, or an axis is out of range.",
              _m("return softmax(x, axis=2)"), _m("return softmax(x, axis=1)")),
    "SC305": ("An operation's size requirement fails (reshape, concat, split, linear input, ...).",
              _m("return reshape(x, [batch, d + 1])"), _m("return reshape(x, [batch, d])")),
    "SC306": ("A `rearrange` pattern or an `einsum` equation is malformed or inconsistent with the "
              "operand.",
              _m('return rearrange(x, "b d -> b k")'), _m('return rearrange(x, "b d -> d b")')),
    "SC307": ("An index or a slice end can exceed its dimension.",
              _m("return x[:, d]"), _m("return x[:, d - 1]")),
    "SC308": ("A tensor has the wrong dtype (int, float or bool) for an operation.",
              "dim b, v, d\nmodel m {\n    input x: [b, d] float\n    return embedding(x, v, d)\n}\n",
              "dim b, v, d\nmodel m {\n    input x: [b] int\n    return embedding(x, v, d)\n}\n"),
    "SC401": ("A block argument's shape clashes with the parameter's declared shape.",
              "dim b, d, e\nblock f(t: [b, d, d]) -> [b, d, d] {\n    return t\n}\n"
              "model m {\n    input x: [b, d, e]\n    return f(x)\n}\n",
              "dim b, d, e\nblock f(t: [b, d, d]) -> [b, d, d] {\n    return t\n}\n"
              "model m {\n    input x: [b, d, d]\n    return f(x)\n}\n"),
    "SC402": ("A call does not satisfy a `require` of the called block, for some allowed sizes.",
              "dim b, d = 6\nblock halve(t: [b, n]) -> [b, n / 2] {\n    require n % 2 == 0\n"
              "    return reshape(t, [b, n / 2, 2])[:, :, 0]\n}\n"
              "model m {\n    input x: [b, d + 1]\n    return halve(x)\n}\n",
              "dim b, d = 6\nrequire d % 2 == 0\nblock halve(t: [b, n]) -> [b, n / 2] {\n"
              "    require n % 2 == 0\n    return reshape(t, [b, n / 2, 2])[:, :, 0]\n}\n"
              "model m {\n    input x: [b, d]\n    return halve(x)\n}\n"),
    "SC403": ("A block returns another shape than its `-> [...]` declaration.",
              "dim b, l, d\nblock f(x: [b, l, d]) -> [b, l, d] {\n    return transpose(x, 1, 2)\n}\n",
              "dim b, l, d\nblock f(x: [b, l, d]) -> [b, d, l] {\n    return transpose(x, 1, 2)\n}\n"),
    "SC404": ("A tensor carried around `repeat` changes shape from one iteration to the next. "
              "In `repeat i in n` it may grow, but by the same amount every pass (an affine function "
              "of `i`): doubling, or growing by `i`, is flagged.",
              _m("repeat 2 { x = linear(x, 2 * d) }\nreturn x"), _m("repeat 2 { x = linear(x, d) }\nreturn x")),
    "SC405": ("A block or model does not return, or returns a different number of values than declared.",
              "dim b, d\nblock f(x: [b, d]) -> [b, d] {\n    y = relu(x)\n}\n",
              "dim b, d\nblock f(x: [b, d]) -> [b, d] {\n    return relu(x)\n}\n"),
    "SC406": ("A block calls itself, directly or through other blocks.",
              "dim b, d\nblock f(x: [b, d]) -> [b, d] {\n    return f(x)\n}\n",
              "dim b, d\nblock f(x: [b, d]) -> [b, d] {\n    return relu(x)\n}\n"),
    "SC501": ("Two dimensions could be neither proved equal nor shown to differ; the message names a "
              "`require` that would settle it.", None, None),
    "SC502": ("`a / b` could be neither proved exact nor shown inexact; add the `require` the message "
              "names.",
              "dim n\nlet tri = n * (n + 1) * (n + 2) / 6\n",
              "dim n\nrequire (n * (n + 1) * (n + 2)) % 6 == 0\nlet tri = n * (n + 1) * (n + 2) / 6\n"),
    "SC503": ("An index, slice or size bound could be neither proved nor refuted.", None, None),
    "SC504": ("A called block's `require` could be neither proved nor refuted.", None, None),
    "SC601": ("`shapecheck verify`: running the spec with NumPy gave another shape or parameter count "
              "than the symbolic analysis (a bug in shapecheck: please report it).", None, None),
    "SC701": ("A `# shapecheck: ignore` comment (or one code of it) suppresses nothing on its line: "
              "remove it, so stale comments do not hide future findings.",
              "dim a  # shapecheck: ignore[SC301]\n", "dim a\n"),
    "SC702": ("A comment that starts `# shapecheck:` is neither `# shapecheck: ignore` nor "
              "`# shapecheck: ignore[CODE, ...]` (e.g. `ignore SC301`, `ignore-next-line`, a missing `]`). "
              "It suppresses nothing, so the findings it was meant to silence are still reported.",
              _m("y = linear(x, 2 * d) : [batch, d]  # shapecheck: ignore SC301\nreturn y"),
              _m("y = linear(x, 2 * d) : [batch, d]  # shapecheck: ignore[SC301]\nreturn y")),
}


def help_uri(code: str) -> str:
    return f"{DOCS_URL}#{code.lower()}"


def explanation(code: str) -> tuple:
    """``(text, failing, fixed)`` for ``code`` (the registry summary when there is no entry)."""
    return EXPLAIN.get(code, (CODES[code].summary[0].upper() + CODES[code].summary[1:] + ".", None, None))


def help_text(code: str) -> str:
    """The plain-text help of ``code``: what it means, a failing and a fixed example, how to configure it."""
    c = CODES[code]
    text, bad, good = explanation(code)
    out = [f"{c.code} {c.name} ({c.severity} by default): {c.summary}.", "", text]
    if bad:
        out += ["", "Fails:", "", _indent(bad)]
    if good:
        out += ["", "Fixed:", "", _indent(good)]
    out += ["", f"Silence one finding with `# shapecheck: ignore[{c.code}]` on its line; configure the "
                f"code under [tool.shapecheck] in pyproject.toml (select, ignore, severity). "
                f"More: {help_uri(code)}"]
    return "\n".join(out)


def help_markdown(code: str) -> str:
    c = CODES[code]
    text, bad, good = explanation(code)
    out = [f"**{c.code} {c.name}** ({c.severity} by default): {c.summary}.", "", text]
    if bad:
        out += ["", "Fails:", "", "```", bad.rstrip("\n"), "```"]
    if good:
        out += ["", "Fixed:", "", "```", good.rstrip("\n"), "```"]
    out += ["", f"Silence one finding with `# shapecheck: ignore[{c.code}]` on its line, or configure the "
                "code under `[tool.shapecheck]` (`select`, `ignore`, `severity`)."]
    return "\n".join(out)


def _indent(text: str) -> str:
    return "\n".join("    " + ln if ln else "" for ln in text.rstrip("\n").split("\n"))


def codes_markdown() -> str:
    """docs/codes.md: one section per code (the anchors SARIF's ``helpUri`` points at)."""
    out = ["# Diagnostic codes", "",
           "Every finding of `shapecheck` has a stable code. `shapecheck codes` lists them; "
           "`shapecheck codes SC301` prints one of these sections. This file is generated by "
           "`python -m shapecheck.explain > docs/codes.md`.", ""]
    for code in sorted(CODES):
        c = CODES[code]
        text, bad, good = explanation(code)
        out += [f"## {code}", "", f"`{c.name}`, {c.severity} by default: {c.summary}.", "", text, ""]
        if bad:
            out += ["Fails:", "", "```", bad.rstrip("\n"), "```", ""]
        if good:
            out += ["Fixed:", "", "```", good.rstrip("\n"), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(codes_markdown(), end="")
