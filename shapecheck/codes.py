"""The registry of diagnostic codes: stable code, severity, one-line summary.

Codes never change meaning once released. Families:
SC0xx input and parsing, SC1xx names and arguments, SC2xx dimension
arithmetic, SC3xx operation shape rules, SC4xx blocks, calls, models and loops,
SC5xx checks that could be neither proved nor refuted (warnings), SC6xx verify,
SC7xx suppressions, SC8xx a module checked against its spec (conform).
"""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Code:
    code: str
    severity: str
    name: str
    summary: str


_TABLE = [
    # input and parsing
    ("SC001", ERROR, "syntax-error", "the file does not match the grammar"),
    ("SC002", ERROR, "io-error", "a file cannot be read or decoded"),
    ("SC003", ERROR, "internal-error", "shapecheck failed internally; please report it"),
    ("SC004", ERROR, "use-error", "a `use` target is missing, unreadable or forms a cycle"),
    ("SC005", ERROR, "limit-exceeded", "nesting depth, literal size or exponent beyond the documented limits"),
    # names and arguments
    ("SC101", ERROR, "undefined-name", "a name is used but never defined"),
    ("SC102", ERROR, "redefinition", "a dim, let, block, model or parameter is defined twice"),
    ("SC103", ERROR, "wrong-kind", "a value of the wrong kind (tensor, dimension, string, ...) is given"),
    ("SC104", ERROR, "unknown-operation", "a call names neither a built-in operation nor a block"),
    ("SC105", ERROR, "bad-arguments", "missing, unexpected or duplicated arguments"),
    ("SC106", ERROR, "misplaced-statement", "a statement where it is not allowed (e.g. `input` in a block)"),
    # dimension arithmetic
    ("SC201", ERROR, "inexact-division", "`a / b` is not an integer for some allowed sizes"),
    ("SC202", ERROR, "non-positive-dimension", "a dimension can be zero or negative for some allowed sizes"),
    ("SC203", ERROR, "unsatisfiable-requires", "no sizes satisfy the `require`s"),
    ("SC204", ERROR, "bad-dimension-expression", "a dimension expression is malformed (non-integer, unsupported)"),
    ("SC205", ERROR, "example-breaks-require", "the example values of the dims break a `require`"),
    ("SC206", ERROR, "let-cycle", "`let`s that depend on each other in a cycle"),
    # operation shape rules
    ("SC301", ERROR, "annotation-mismatch", "the inferred shape differs from the `: shape` annotation"),
    ("SC302", ERROR, "broadcast-mismatch", "operands cannot be broadcast together"),
    ("SC303", ERROR, "matmul-mismatch", "the contracted dimensions of `@` differ"),
    ("SC304", ERROR, "rank-mismatch", "wrong number of dimensions, or an axis out of range"),
    ("SC305", ERROR, "size-mismatch", "an operation's dimension requirement fails (linear, concat, reshape, ...)"),
    ("SC306", ERROR, "pattern-error", "a rearrange pattern or einsum equation is malformed or inconsistent"),
    ("SC307", ERROR, "index-out-of-range", "an index or slice end can exceed its dimension"),
    ("SC308", ERROR, "dtype-mismatch", "a tensor has the wrong dtype (int, float, bool)"),
    ("SC309", ERROR, "bad-operation-argument", "an operation's size argument is out of its range "
                                               "(stride < 1, pooling padding over half the kernel, ...)"),
    # blocks, calls, models and loops
    ("SC401", ERROR, "argument-shape-mismatch", "a block argument's shape clashes with the parameter's shape"),
    ("SC402", ERROR, "precondition-violated", "a call does not satisfy a `require` of the called block"),
    ("SC403", ERROR, "return-mismatch", "a block returns a shape other than the one it declares"),
    ("SC404", ERROR, "loop-shape-change", "a tensor carried around `repeat` changes shape "
                                          "(in `repeat i in n`: grows other than by a fixed amount per pass)"),
    ("SC405", ERROR, "missing-return", "a block or model does not return, or returns the wrong number of values"),
    ("SC406", ERROR, "recursive-block", "a block calls itself, directly or indirectly"),
    # undecided checks
    ("SC501", WARNING, "undecided-equality", "two dimensions could be neither proved equal nor shown to differ"),
    ("SC502", WARNING, "undecided-division", "`a / b` could be neither proved exact nor shown inexact"),
    ("SC503", WARNING, "undecided-bound", "an index, slice or size bound could be neither proved nor refuted"),
    ("SC504", WARNING, "undecided-precondition", "a called block's `require` could be neither proved nor refuted"),
    ("SC505", WARNING, "undecided-repeat-count", "a `repeat` count could be neither proved at least 1 nor refuted"),
    ("SC601", ERROR, "verify-mismatch", "the NumPy execution disagrees with the inferred shape or parameter count"),
    # a module checked against its spec (`shapecheck conform`)
    ("SC801", ERROR, "conform-output-mismatch", "a module returns a shape other than the spec's at some sizes"),
    ("SC802", ERROR, "conform-parameter-mismatch",
     "a module's parameter count or a mapped parameter's shape differs from the spec's"),
    ("SC803", ERROR, "conform-call-mismatch",
     "a mapped submodule's calls (count, input or result shapes) differ from the spec's block calls"),
    ("SC804", ERROR, "conform-dtype-mismatch", "a module returns a dtype other than the spec's"),
    ("SC805", ERROR, "conform-module-error", "the module could not be built or run at sizes the spec allows"),
    ("SC806", ERROR, "conform-mapping-error", "a conform mapping names nothing in the spec or matches nothing"),
    ("SC701", WARNING, "unused-suppression", "a `# shapecheck: ignore` comment suppresses nothing"),
    ("SC702", WARNING, "malformed-suppression",
     "a `# shapecheck:` comment is neither `ignore` nor `ignore[CODE, ...]`; it suppresses nothing"),
]

CODES: dict[str, Code] = {c: Code(c, s, n, d) for c, s, n, d in _TABLE}


def severity(code: str) -> str:
    """The default severity of ``code``.

    >>> severity("SC301"), severity("SC501")
    ('error', 'warning')
    """
    return CODES[code].severity
