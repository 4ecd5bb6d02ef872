"""Fuzz shapecheck: random well-formed specs, token- and byte-level mutations.

Property, for every input: :func:`shapecheck.api.check_source` (or
``check_path`` for byte-level inputs) never raises, never reports SC003, every
diagnostic span lies inside the file (``1 <= line <= lines + 1``, ``col >= 1``)
and the text formatter works; for inputs that lint without errors,
:func:`shapecheck.verify.verify` (tiny memory budget, ``samples=1``) never
raises either, except the documented :class:`shapecheck.verify.UsageError`.
Each input runs under a time limit (``signal.alarm``) to detect hangs.

A long campaign::

    python fuzz/fuzz_specs.py --inputs 10000 --seed 1

prints the counts (inputs, parse errors, clean, crashes, timeouts) and saves
every crashing or hanging input to ``fuzz/crashes/``. ``tests/test_fuzz.py``
runs a small fixed-seed sample of the same generators in CI.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

CRASH_DIR = os.path.join(HERE, "crashes")
VERIFY_MEMORY = 4 * 2 ** 20     # a tiny budget: the numeric runs stay small (real specs are scaled down)

# ---- the grammar-based generator (mirrors grammars/shape.lark) -------------------------------

#: dimension names, with the ones special in sympy among them
DIM_NAMES = ["batch", "seq", "d", "h", "k", "n", "m", "vocab", "I", "E", "N", "S", "O", "Q", "pi",
             "oo", "beta", "gamma", "zeta", "lambda_", "nan", "zoo", "x_1"]
TENSOR_NAMES = ["x", "y", "z", "q", "w", "out", "ids", "h1", "h2", "a", "b"]
KEYWORDS = ["use", "dim", "let", "require", "block", "model", "input", "param", "repeat", "return",
            "int", "float", "bool", "true", "false", "none"]
PUNCT = ["(", ")", "[", "]", "{", "}", ",", ":", "=", "->", "*", "+", "-", "/", "//", "%", "**", "^",
         "@", "==", "!=", "<", "<=", ">", ">=", ".", "#"]
UNARY = ["relu", "gelu", "silu", "tanh", "sigmoid", "exp", "log", "abs", "dropout", "softmax",
         "log_softmax", "layer_norm", "rms_norm", "sqrt"]
ALL_OPS = UNARY + ["linear", "embedding", "transpose", "permute", "reshape", "rearrange", "einsum",
                   "concat", "stack", "split", "sum", "mean", "max", "min", "causal_mask", "masked_fill",
                   "where", "sinusoidal", "broadcast_to", "conv1d", "conv2d", "floor", "ceil"]
HOSTILE_STRINGS = ['__import__("os").system("touch MARKER")', "b l -> l b", "b (h k) -> b h k",
                   "ij,jk->ik", "...", "(((", "\\\\", "a" * 50, "", "b l d -> b (l d)", "1 + 1"]


class _Gen:
    def __init__(self, rnd: random.Random):
        self.r = rnd
        self.dims: list = []
        self.lines: list = []

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    # -- expressions --
    def num(self) -> str:
        r = self.r.random()
        if r < 0.7:
            return str(self.r.randint(1, 8))
        if r < 0.8:
            return self.r.choice(["0", "-1", "1_000", "1.5", "1e-9", "0.1", "2 ** 5", "10 ** 3"])
        if r < 0.9:
            return self.r.choice(["10 ** 10 ** 10", "9" * self.r.randint(20, 40), "2 ** 129", "1e400"])
        return str(self.r.randint(0, 64))

    def dim_expr(self, depth: int = 0, names=None) -> str:
        names = names if names is not None else self.dims
        r = self.r.random()
        if depth > 2 or r < 0.45:
            if names and self.chance(0.75):
                return self.r.choice(names)
            return self.num()
        if r < 0.8:
            op = self.r.choice(["+", "-", "*", "*", "/", "//", "%", "**"])
            right = self.dim_expr(depth + 1, names) if op != "**" else str(self.r.randint(0, 3))
            return f"{self.dim_expr(depth + 1, names)} {op} {right}"
        if r < 0.9:
            return f"({self.dim_expr(depth + 1, names)})"
        f = self.r.choice(["min", "max", "floor", "ceil", "-"])
        if f == "-":
            return f"-{self.dim_expr(depth + 1, names)}"
        if f in ("floor", "ceil"):
            return f"{f}({self.dim_expr(depth + 1, names)})"
        return f"{f}({self.dim_expr(depth + 1, names)}, {self.dim_expr(depth + 1, names)})"

    def shape(self, names, rank=None, dtype_p: float = 0.1) -> str:
        rank = self.r.randint(0, 4) if rank is None else rank
        items = []
        for i in range(rank):
            if self.chance(0.8) and names:
                items.append(self.r.choice(names))
            else:
                items.append(self.dim_expr(2, names))
        if rank and self.chance(0.05):
            items.insert(self.r.randrange(len(items) + 1), "*lead")
        dt = f" {self.r.choice(['int', 'float', 'bool'])}" if self.chance(dtype_p) else ""
        return f"[{', '.join(items)}]{dt}"

    def pattern(self, rank: int) -> str:
        letters = [chr(ord("a") + i) for i in range(max(rank, 1))]
        left = " ".join(letters[:rank])
        r = self.r.random()
        if r < 0.3 and rank >= 2:
            right = " ".join(letters[:rank - 2] + [f"({letters[rank - 2]} {letters[rank - 1]})"])
        elif r < 0.6:
            right = " ".join(reversed(letters[:rank]))
        elif r < 0.8 and rank >= 1:
            right = " ".join(letters[:rank - 1] + [f"(h {letters[rank - 1]})"])
            left, right = right, left.replace(letters[rank - 1], f"h {letters[rank - 1]}")
        else:
            right = self.r.choice(HOSTILE_STRINGS)
        return f"{left} -> {right}"

    def tensor_expr(self, tensors, depth: int = 0) -> str:
        """A random operation call, plausibly typed most of the time."""
        t = self.r.choice(tensors) if tensors else "x"
        if depth > 2 or self.chance(0.2):
            return t
        sub = self.tensor_expr(tensors, depth + 1)
        d = self.dim_expr(1)
        self.r.random()   # drawn and unused: keeps earlier campaigns reproducible
        options = [
            lambda: f"{self.r.choice(UNARY)}({sub})",
            lambda: f"softmax({sub}, axis={self.r.choice(['-1', '0', '1', '-2', '5'])})",
            lambda: f"linear({sub}, {d})" + (", bias=false" if self.chance(0.2) else ""),
            lambda: f"{sub} {self.r.choice(['+', '-', '*', '/'])} {self.tensor_expr(tensors, depth + 1)}",
            lambda: f"{sub} @ transpose({self.tensor_expr(tensors, depth + 1)}, -2, -1)",
            lambda: f"{sub} @ {self.tensor_expr(tensors, depth + 1)}",
            lambda: f"transpose({sub}, {self.r.randint(-3, 3)}, {self.r.randint(-3, 3)})",
            lambda: f"rearrange({sub}, \"{self.pattern(self.r.randint(1, 4))}\"" +
                    (f", h={self.r.choice(self.dims or ['2'])})" if self.chance(0.5) else ")"),
            lambda: f"einsum(\"{self.r.choice(['ij,jk->ik', 'bij,bjk->bik', 'ii->i', '...', 'i->'])}\", "
                    f"{sub}, {self.tensor_expr(tensors, depth + 1)})",
            lambda: f"sum({sub}, axis={self.r.randint(-2, 2)})",
            lambda: f"mean({sub}, axis=-1)",
            lambda: f"concat([{sub}, {t}], axis={self.r.randint(-2, 2)})",
            lambda: f"stack([{sub}, {t}])",
            lambda: f"reshape({sub}, [{', '.join(self.dim_expr(1) for _ in range(self.r.randint(0, 3)))}])",
            lambda: f"broadcast_to({sub}, {self.shape(self.dims, dtype_p=0)})",
            lambda: f"masked_fill({sub}, causal_mask({d}), -1e9)",
            lambda: f"where({sub} > 0, {sub}, {t})" if False else f"where(causal_mask({d}), {sub}, {t})",
            lambda: f"dropout({sub}, p=0.1)",
            lambda: f"layer_norm({sub}, bias={self.r.choice(['true', 'false', '1'])})",
            lambda: f"{sub}[{self.r.choice([':', '0', '-1', ':' + d, d + ':', '::2', ':, 0', '0, 0'])}]",
            lambda: f"split({sub}, {self.r.randint(1, 3)}, axis=-1)[0]" if False else
                    f"sinusoidal({d}, {self.dim_expr(1)})",
            lambda: f"embedding({sub}, {d}, {self.dim_expr(1)})",
            lambda: f"conv1d({sub}, {d}, {self.r.randint(1, 3)})",
            lambda: f"conv2d({sub}, {d}, {self.r.randint(1, 3)}, stride={self.r.randint(1, 2)})",
            lambda: f"{self.r.choice(ALL_OPS)}({', '.join(self.any_arg(tensors) for _ in range(self.r.randint(0, 3)))})",
        ]
        return self.r.choice(options)()

    def any_arg(self, tensors) -> str:
        r = self.r.random()
        if r < 0.4:
            return self.r.choice(tensors) if tensors else "x"
        if r < 0.6:
            return self.dim_expr(1)
        if r < 0.7:
            return '"' + self.r.choice(HOSTILE_STRINGS).replace('"', '\\"') + '"'
        if r < 0.8:
            return f"[{', '.join(self.dim_expr(2) for _ in range(self.r.randint(0, 3)))}]"
        if r < 0.9:
            return f"{self.r.choice(['axis', 'h', 'p', 'bias', 'eps', 'stride', 'zzz'])}={self.dim_expr(2)}"
        return self.r.choice(["true", "false", "none", "1.5", "-1"])

    # -- statements --
    def body(self, tensors, depth: int, in_model: bool, block_names) -> list:
        out = []
        if in_model:
            for _ in range(self.r.randint(1, 2)):
                name = self.r.choice(TENSOR_NAMES)
                out.append(f"input {name}: {self.shape(self.dims, self.r.randint(1, 3))}")
                tensors.append(name)
            if self.chance(0.3):
                name = self.r.choice(TENSOR_NAMES)
                out.append(f"param {name}: {self.shape(self.dims, 2, 0)}")
                tensors.append(name)
        for _ in range(self.r.randint(0, 5)):
            r = self.r.random()
            if r < 0.6 or not tensors:
                target = self.r.choice(TENSOR_NAMES)
                value = self.tensor_expr(tensors or ["x"])
                if block_names and self.chance(0.2):
                    value = f"{self.r.choice(block_names)}({', '.join(self.any_arg(tensors) for _ in range(self.r.randint(0, 3)))})"
                ann = f" : {self.shape(self.dims, dtype_p=0)}" if self.chance(0.2) else ""
                if self.chance(0.05):
                    target = f"{target}, {self.r.choice(TENSOR_NAMES)}"
                out.append(f"{target} = {value}{ann}")
                tensors.append(target.split(",")[0])
            elif r < 0.7 and depth < 2:
                inner = self.body(list(tensors), depth + 1, False, block_names)
                count = self.r.choice(["2", "1", "n", "0", "10 ** 9", self.dim_expr(1)]) if True else "2"
                out.append(f"repeat {count} {{")
                out.extend("    " + line for line in inner)
                out.append("}")
            elif r < 0.8:
                out.append(f"let {self.r.choice(['dl', 'half', 'k2'])} = {self.dim_expr(1)}")
            elif r < 0.9:
                out.append(f"require {self.dim_expr(1)} {self.r.choice(['==', '!=', '<', '<=', '>', '>='])} "
                           f"{self.dim_expr(1)}")
            else:
                out.append(f"{self.r.choice(TENSOR_NAMES)} = {self.r.choice(tensors)}")
        if depth == 0 and (in_model or self.chance(0.9)):
            rets = [self.r.choice(tensors) if tensors else "x"]
            if self.chance(0.1):
                rets.append(self.tensor_expr(tensors))
            out.append("return " + ", ".join(rets))
        return out

    def spec(self) -> str:
        lines = []
        if self.chance(0.05):
            lines.append(f'use "{self.r.choice(["other.shape", "../specs/gpt2.shape", "x.shape"])}"')
        names = self.r.sample(DIM_NAMES, self.r.randint(1, 6))
        self.dims = names
        items = []
        for n in names:
            if self.chance(0.7):
                items.append(f"{n} = {self.r.randint(1, 6) if self.chance(0.9) else self.num()}")
            else:
                items.append(n)
        lines.append("dim " + ", ".join(items))
        if self.chance(0.3):
            lines.append(f"let dl = {self.dim_expr()}")
        if self.chance(0.3):
            lines.append(f"require {self.dim_expr()} {self.r.choice(['==', '!=', '<=', '>=', '<', '>'])} "
                         f"{self.dim_expr()}")
        if self.chance(0.05):
            lines.append("# " + self.r.choice(HOSTILE_STRINGS))
        block_names = []
        for bi in range(self.r.randint(0, 2)):
            bname = f"blk{bi}"
            generics = self.r.sample(["b", "l", "dd", "hh"], self.r.randint(1, 3))
            params, tensors = [], []
            for pi_ in range(self.r.randint(1, 3)):
                if self.chance(0.7):
                    pname = f"t{pi_}"
                    none = " = none" if self.chance(0.1) else ""
                    params.append(f"{pname}: {self.shape(generics, self.r.randint(1, 3), 0.05)}{none}")
                    tensors.append(pname)
                else:
                    default = f" = {self.dim_expr(1, generics)}" if self.chance(0.3) else ""
                    params.append(f"p{pi_}: dim{default}")
            rets = f" -> {self.shape(generics, self.r.randint(1, 3), 0)}" if self.chance(0.7) else ""
            saved = self.dims
            self.dims = generics + [p.split(":")[0] for p in params if ": dim" in p]
            body = self.body(tensors, 0, False, block_names)
            self.dims = saved
            lines.append(f"block {bname}({', '.join(params)}){rets} {{")
            lines.extend("    " + line for line in body)
            lines.append("}")
            block_names.append(bname)
        for mi in range(self.r.randint(1, 2)):
            lines.append(f"model m{mi} {{")
            lines.extend("    " + line for line in self.body([], 0, True, block_names))
            lines.append("}")
        return "\n".join(lines) + "\n"


def generate(rnd: random.Random) -> str:
    """A random spec that follows the grammar (not necessarily well typed)."""
    if rnd.random() < 0.5:
        return typed(rnd)
    return _Gen(rnd).spec()


def typed(rnd: random.Random) -> str:
    """A random spec that is mostly well typed: shapes are tracked, so most
    operations fit and many specs lint clean (and reach the numeric run)."""
    names = rnd.sample(DIM_NAMES, rnd.randint(2, 5))
    lines = ["dim " + ", ".join(f"{n} = {rnd.randint(1, 5)}" if rnd.random() < 0.8 else n for n in names)]
    if rnd.random() < 0.3:
        lines.append(f"let dl = {rnd.choice(names)} * {rnd.randint(1, 3)}")
        names.append("dl")
    blocks = []
    if rnd.random() < 0.5:
        rank = rnd.randint(1, 3)
        gen = ["b", "l", "dd"][:rank]
        body = [f"y = {rnd.choice(UNARY)}(t)", "y = y + t" if rnd.random() < 0.7 else "y = linear(y, dd)"]
        if rnd.random() < 0.3:
            body.append("repeat 2 { y = relu(y) }")
        body.append("return y")
        lines.append(f"block blk(t: [{', '.join(gen)}]) -> [{', '.join(gen)}] {{")
        lines.extend("    " + b for b in body)
        lines.append("}")
        blocks.append(rank)
    lines.append("model m {")
    rank = rnd.randint(1, 3)
    shape = [rnd.choice(names) for _ in range(rank)]
    env = {"x": list(shape)}
    lines.append(f"    input x: [{', '.join(shape)}]")
    if rnd.random() < 0.2:
        vocab = rnd.choice(names + ["3"])
        lines.append(f"    input ids: [{shape[0]}] int")
        lines.append(f"    e = embedding(ids, {vocab}, {shape[-1]})")
        env["e"] = [shape[0], shape[-1]]
    counter = 0

    def step(ind: str, depth: int):
        nonlocal counter
        src = rnd.choice(sorted(env))
        s = env[src]
        counter += 1
        tgt = rnd.choice([src, f"v{counter}"])
        r = rnd.random()
        new = list(s)
        if r < 0.2:
            expr = f"{rnd.choice(UNARY)}({src})"
        elif r < 0.3:
            other = [k for k in env if env[k] == s]
            expr = f"{src} {rnd.choice(['+', '-', '*'])} {rnd.choice(other)}"
        elif r < 0.4:
            out = rnd.choice(names)
            expr = f"linear({src}, {out})"
            new = s[:-1] + [out]
        elif r < 0.5 and len(s) >= 2:
            expr = f"transpose({src}, -2, -1)"
            new = s[:-2] + [s[-1], s[-2]]
        elif r < 0.55 and len(s) >= 2:
            expr = f"{src} @ transpose({src}, -2, -1)"
            new = s[:-1] + [s[-2]]
        elif r < 0.6 and len(s) >= 1:
            letters = "abcd"[:len(s)]
            perm = list(letters)
            rnd.shuffle(perm)
            expr = f'rearrange({src}, "{" ".join(letters)} -> {" ".join(perm)}")'
            new = [s[letters.index(c)] for c in perm]
        elif r < 0.65 and len(s) >= 2:
            letters = "abcd"[:len(s)]
            expr = f'rearrange({src}, "{" ".join(letters)} -> {" ".join(letters[:-2])} ({letters[-2]} {letters[-1]})")'
            new = s[:-2] + [f"{s[-2]} * {s[-1]}"]
        elif r < 0.7 and len(s) >= 1:
            expr = f"sum({src}, axis=-1)"
            new = s[:-1]
            if not new:
                return
        elif r < 0.75:
            expr = f"concat([{src}, {src}], axis=-1)"
            new = s[:-1] + [f"2 * {s[-1]}"]
        elif r < 0.8 and blocks and len(s) == blocks[0]:
            expr = f"blk({src})"
        elif r < 0.85 and depth < 2:
            count = rnd.choice(["2", "1", rnd.choice(names), "10 ** 9" if rnd.random() < 0.1 else "3"])
            lines.append(f"{ind}repeat {count} {{")
            for _ in range(rnd.randint(1, 2)):
                src2 = rnd.choice(sorted(env))
                lines.append(f"{ind}    {src2} = {rnd.choice(UNARY)}({src2})")
            lines.append(f"{ind}}}")
            return
        elif r < 0.9:
            expr = f"{src}[{', '.join(rnd.choice([':', '0', '-1', ':1']) for _ in s)}]"
            new = [d for d, it in zip(s, expr[expr.index('[') + 1:-1].split(', ')) if it.startswith(':')]
            new = [("1" if it == ":1" else d) for d, it in zip(s, expr[expr.index('[') + 1:-1].split(', '))
                   if it.startswith(':')]
            if not new:
                return
        else:
            expr = f"reshape({src}, [{', '.join(s)}])"
        ann = f" : [{', '.join(new)}]" if rnd.random() < 0.3 else ""
        lines.append(f"{ind}{tgt} = {expr}{ann}")
        env[tgt] = new

    for _ in range(rnd.randint(1, 8)):
        step("    ", 0)
    lines.append(f"    return {rnd.choice(sorted(env))}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---- mutations ------------------------------------------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?'
                    r'|->|\*\*|//|==|!=|<=|>=|\s+|.', re.S)
_NEW_TOKENS = KEYWORDS + PUNCT + ALL_OPS + DIM_NAMES + [
    "10 ** 10 ** 10", "9" * 40, "(" * 300, ")" * 300, "[" * 300, '"' + "x" * 10, '"b l -> l b"',
    '__import__("os").system("touch MARKER")', "\n", " ", "\t", "\x00", "\u00e9", "\ufeff", "\r", "1e999",
    "repeat 1000000000 {", "}", "-" * 500, "0", "-1"]


def mutate_tokens(rnd: random.Random, text: str) -> str:
    """Near-well-formed text: a few token deletions, insertions, duplications, swaps."""
    toks = _TOKEN.findall(text)
    if not toks:
        return text
    for _ in range(rnd.randint(1, 4)):
        if not toks:
            break
        i = rnd.randrange(len(toks))
        r = rnd.random()
        if r < 0.3:
            del toks[i]
        elif r < 0.55:
            toks.insert(i, rnd.choice(_NEW_TOKENS))
        elif r < 0.7:
            toks.insert(i, toks[i])
        elif r < 0.85:
            j = rnd.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        else:
            toks[i] = rnd.choice(_NEW_TOKENS)
    return "".join(toks)


def mutate_bytes(rnd: random.Random, data: bytes, other: bytes = b"") -> bytes:
    """Byte-level damage: bit flips, random bytes, deleted/duplicated ranges, splices."""
    b = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        r = rnd.random()
        n = len(b)
        if r < 0.25 and n:
            i = rnd.randrange(n)
            b[i] ^= 1 << rnd.randrange(8)
        elif r < 0.45:
            i = rnd.randrange(n + 1)
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        elif r < 0.65 and n:
            i = rnd.randrange(n)
            del b[i:i + rnd.randint(1, 64)]
        elif r < 0.8 and n:
            i = rnd.randrange(n)
            j = min(n, i + rnd.randint(1, 200))
            b[j:j] = b[i:j] * rnd.randint(1, 3)
        elif other:
            i, j = rnd.randrange(len(b) + 1), rnd.randrange(len(other) + 1)
            b = b[:i] + other[j:]
        else:
            i = rnd.randrange(n + 1)
            b[i:i] = rnd.choice([b"\xff\xfe", b"\xc3", b"\x00", b"\xef\xbb\xbf", "\u2028".encode()])
    return bytes(b)


def corpus() -> list:
    """The shipped specs and golden cases (sorted paths)."""
    paths = sorted(glob.glob(os.path.join(ROOT, "specs", "*.shape")) +
                   glob.glob(os.path.join(ROOT, "tests", "cases", "**", "*.shape"), recursive=True))
    return paths


# ---- the property -----------------------------------------------------------------------------------


class Failure(Exception):
    """A property violation (the harness's own finding, not a shapecheck exception)."""


class Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise Timeout()


def check_diagnostics(diags, path: str, text: str, what: str) -> None:
    nlines = text.count("\n") + 1
    for d in diags:
        if d.code == "SC003":
            raise Failure(f"{what}: internal error reported: {d.message}")
        sp = d.span
        if sp is None:
            raise Failure(f"{what}: {d.code} without a span")
        if sp.file == path:
            if not (1 <= sp.line <= nlines + 1) or sp.col < 1:
                raise Failure(f"{what}: {d.code} span {sp.line}:{sp.col} outside the file ({nlines} lines)")


def check_text(text: str, tmpdir: str, run_verify: bool = True) -> str:
    """Check one spec text; return its outcome ("parse", "errors", "clean", "verified");
    raise :class:`Failure` (or the escaping exception) when the property fails."""
    from shapecheck.api import check_source
    from shapecheck.diagnostics import format_text

    path = os.path.join(tmpdir, "fuzz.shape")
    res = check_source(text, path)
    check_diagnostics(res.diagnostics, path, text, "lint")
    format_text(res.diagnostics, res.sources)
    if any(d.code == "SC001" for d in res.diagnostics):
        return "parse"
    if res.errors:
        return "errors"
    if not run_verify:
        return "clean"
    _verify(text, path)
    return "clean"


def check_bytes(data: bytes, tmpdir: str) -> str:
    """Check raw bytes through the file reader (``check_path``)."""
    from shapecheck.api import check_path
    from shapecheck.diagnostics import format_text

    path = os.path.join(tmpdir, "fuzz.shape")
    with open(path, "wb") as f:
        f.write(data)
    res = check_path(path)
    # an undecodable file has no source: its SC002 is located in the raw bytes' lines
    text = res.sources.get(path, data.decode("utf-8", "replace"))
    check_diagnostics(res.diagnostics, path, text, "lint")
    format_text(res.diagnostics, res.sources)
    if any(d.code in ("SC001", "SC002") for d in res.diagnostics):
        return "parse"
    if res.errors:
        return "errors"
    _verify(text, path)
    return "clean"


def _verify(text: str, path: str) -> None:
    from shapecheck.diagnostics import format_text
    from shapecheck.verify import UsageError, verify

    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    try:
        rep = verify(path, samples=1, max_memory=VERIFY_MEMORY)
    except UsageError as e:
        if not str(e):
            raise Failure("verify: UsageError without a message")
        return
    check_diagnostics(rep.diagnostics, path, text, "verify")
    format_text(rep.diagnostics, rep.sources)
    for r in rep.runs:
        r.line()
    # soundness: a spec that lints clean must run with the shapes the analysis inferred
    # (a NumPy run that could not complete, e.g. past its budget, is not a disagreement)
    wrong = [d for d in rep.diagnostics if d.code == "SC601" and not d.message.startswith("the NumPy run")]
    if wrong:
        raise Disagreement(format_text(wrong, rep.sources))


class Disagreement(Exception):
    """The NumPy run of a clean spec disagrees with the inferred shapes."""


# ---- the campaign -----------------------------------------------------------------------------------


@dataclass
class Stats:
    inputs: int = 0
    parse_errors: int = 0
    errors: int = 0
    clean: int = 0
    crashes: int = 0
    disagreements: int = 0     # clean specs whose NumPy run disagrees with the analysis
    timeouts: int = 0
    slow: int = 0              # over the limit once, done within 4x the limit on a retry (a loaded machine)
    kinds: dict = field(default_factory=dict)
    saved: list = field(default_factory=list)

    def line(self) -> str:
        return (f"inputs: {self.inputs}, parse errors: {self.parse_errors}, other errors: {self.errors}, "
                f"clean: {self.clean}, crashes: {self.crashes}, disagreements: {self.disagreements}, "
                f"timeouts: {self.timeouts} (slow, not hung: {self.slow})")


def make_input(seed: int, i: int, files: list):
    """Input number ``i`` of campaign ``seed``: ("text", str) or ("bytes", bytes), and its kind."""
    rnd = random.Random(seed * 1_000_003 + i)
    r = rnd.random()
    if r < 0.45:
        return "grammar", ("text", generate(rnd))
    if r < 0.7:
        base = generate(rnd) if rnd.random() < 0.5 or not files else _read(rnd.choice(files)).decode(
            "utf-8", "replace")
        return "tokens", ("text", mutate_tokens(rnd, base))
    data = _read(rnd.choice(files)) if files else generate(rnd).encode()
    other = _read(rnd.choice(files)) if files and rnd.random() < 0.2 else b""
    return "bytes", ("bytes", mutate_bytes(rnd, data, other))


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def run_one(payload, tmpdir: str, limit: int = 5) -> tuple:
    """(outcome, detail): outcome is parse/errors/clean/crash/timeout."""
    kind, value = payload
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        out = check_text(value, tmpdir) if kind == "text" else check_bytes(value, tmpdir)
        return out, ""
    except Timeout:
        return "timeout", f"no result within {limit} s"
    except Disagreement as e:
        return "disagree", str(e)
    except Failure as e:
        return "crash", str(e)
    except BaseException as e:  # noqa: BLE001 - any escape is a finding
        if isinstance(e, KeyboardInterrupt):
            raise
        return "crash", "".join(traceback.format_exception(type(e), e, e.__traceback__))[-3000:]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def save(payload, outcome: str, detail: str) -> str:
    kind, value = payload
    data = value.encode("utf-8", "surrogatepass") if kind == "text" else value
    digest = hashlib.sha1(data).hexdigest()[:12]
    os.makedirs(CRASH_DIR, exist_ok=True)
    path = os.path.join(CRASH_DIR, f"{outcome}-{digest}.shape")
    with open(path, "wb") as f:
        f.write(data)
    with open(path + ".txt", "w", encoding="utf-8") as f:
        f.write(detail + "\n")
    return path


def campaign(inputs: int, seed: int, limit: int = 5, progress: bool = True, save_crashes: bool = True) -> Stats:
    stats = Stats()
    files = corpus()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmpdir:
        for i in range(inputs):
            kind, payload = make_input(seed, i, files)
            outcome, detail = run_one(payload, tmpdir, limit)
            if outcome == "timeout":    # a hang, or a loaded machine? once more with a longer limit
                outcome, detail = run_one(payload, tmpdir, 4 * limit)
                if outcome != "timeout":
                    stats.slow += 1
                    print(f"[{i}] slow ({kind}): over {limit} s once, then {outcome} within {4 * limit} s",
                          flush=True)
            stats.inputs += 1
            stats.kinds[kind] = stats.kinds.get(kind, 0) + 1
            if outcome == "parse":
                stats.parse_errors += 1
            elif outcome == "errors":
                stats.errors += 1
            elif outcome == "clean":
                stats.clean += 1
            else:
                if outcome == "crash":
                    stats.crashes += 1
                elif outcome == "disagree":
                    stats.disagreements += 1
                else:
                    stats.timeouts += 1
                where = save(payload, outcome, detail) if save_crashes else "-"
                stats.saved.append(where)
                print(f"[{i}] {outcome} ({kind}): {where}\n    {detail.splitlines()[-1] if detail else ''}",
                      flush=True)
            if progress and (i + 1) % 500 == 0:
                print(f"... {i + 1} inputs, {time.time() - t0:.0f} s: {stats.line()}", flush=True)
    return stats


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--inputs", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=int, default=5, help="seconds per input (hang detection)")
    p.add_argument("--show", type=int, metavar="I", help="print input number I of the campaign and exit")
    args = p.parse_args(argv)
    if args.show is not None:
        kind, (form, value) = make_input(args.seed, args.show, corpus())
        print(value if form == "text" else value.decode("utf-8", "replace"))
        return 0
    t0 = time.time()
    stats = campaign(args.inputs, args.seed, args.timeout)
    print(f"seed {args.seed}, {time.time() - t0:.0f} s, by generator {stats.kinds}")
    print(stats.line())
    return 1 if stats.crashes or stats.timeouts or stats.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
