"""Tier 1: one-line snippets and the codes they must produce.

Each snippet is the body of a model over the dims below; the expected list is
the exact sequence of codes (sorted by position) a correct checker reports.
"""
import pytest

import shapecheck

PRELUDE = """dim b, l, m, d = 8, h = 2, v = 100, n
require d % h == 0
model t {
    input x: [b, l, d]
    input y: [b, m, d]
    input ids: [b, l] int
"""


def codes(body: str):
    res = shapecheck.check_source(PRELUDE + body + "\n    return x\n}\n", "t.shape")
    return [d.code for d in res.diagnostics]


CASES = [
    # clean
    ("z = linear(x, 4 * d) : [b, l, 4 * d]", []),
    ("z = embedding(ids, v, d) + x", []),
    ("z = embedding(x, v, d)", ["SC308"]),                              # ids must be int
    ("z = x @ transpose(y, -2, -1) : [b, l, m]", []),
    ("z = x @ y", ["SC303"]),                                          # d vs m
    ("z = x + y", ["SC302"]),                                          # l vs m
    ("z = rearrange(x, \"b l (h k) -> b h l k\", h=h) : [b, h, l, d / h]", []),
    ("z = rearrange(x, \"b l (h k) -> b h l k\", h=n)", ["SC201"]),    # d % n unknown -> refuted
    ("z = reshape(x, [b, l * d])", []),
    ("z = reshape(x, [b, l, d, 2])", ["SC305"]),
    ("z = softmax(x, axis=3)", ["SC304"]),
    ("z = undefined_thing + x", ["SC101"]),
    ("z = lineer(x, d)", ["SC104"]),
    ("z = linear(x)", ["SC105"]),
    ("z = linear(x, d, biass=true)", ["SC105"]),
    ("z = linear(\"x\", d)", ["SC103"]),
    ("z = x : [b, l, d, d]", ["SC301"]),
    ("z = x : [b, m, d]", ["SC301"]),
    ("z = x : [b, l, d] int", ["SC308"]),
    ("z = sum(x, axis=1) : [b, d]", []),
    ("z = mean(x, axis=1, keepdims=true) : [b, 1, d]", []),
    ("z = concat([x, y], axis=1) : [b, l + m, d]", []),
    ("z = concat([x, y], axis=2)", ["SC305"]),
    ("a, c = split(x, 2, axis=-1)", ["SC201"]),                       # d % 2 not required
    ("z = masked_fill(x @ transpose(y, -2, -1), causal_mask(l), -1e9)", ["SC302"]),
    ("z = masked_fill(x @ transpose(x, -2, -1), causal_mask(l), -1e9) : [b, l, l]", []),
    ("z = masked_fill(x, none, 0.0) : [b, l, d]", []),
    ("z = x[:, 0] : [b, d]", []),
    ("z = x[:, :m]", ["SC307"]),
    ("z = x / sqrt(d / h)", []),
    ("z = d / n", ["SC201"]),
    ("z = einsum(\"bld,bmd->blm\", x, y) : [b, l, m]", []),
    ("z = einsum(\"bld,bld->bl\", x, y)", ["SC306"]),
    ("repeat n { x = linear(x, d) }", []),
    ("repeat n { x = linear(x, 2 * d) }", ["SC404"]),
]


@pytest.mark.parametrize("body,expected", CASES, ids=[c[0] for c in CASES])
def test_snippet(body, expected):
    assert codes("    " + body) == expected


def test_prelude_is_clean():
    assert codes("") == []
