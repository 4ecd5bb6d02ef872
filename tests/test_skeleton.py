"""The semantics-free skeleton both interpreters share (shapecheck/skeleton.py):
one block-argument matcher with one set of messages, and dispatch tables that
cover every IR node class."""
from __future__ import annotations

import dataclasses

import pytest

from shapecheck import execute as X
from shapecheck import infer, ir, skeleton
from shapecheck.api import check_source
from shapecheck.diagnostics import Reporter
from shapecheck.ops import core as K
from shapecheck.span import Span

BLOCK = """
dim batch, d = 4
block f(x: [b, k], n: dim, mask: [b, b] bool = none, m: dim = n) -> [b, n] {
    return linear(linear(x, m), n)
}
block g(x: [b, k], y: [b, k]) -> [b, k] {
    return x + y
}
model m {
    input x: [batch, d]
    y = CALL
    return x
}
"""

# (the call, the code the symbolic interpreter reports, the message both give)
BAD_CALLS = [
    ("f(x, d, none, d, 1)", "SC105", "`f` takes 4 arguments, got 5"),
    ("f(x, d, mm=2)", "SC105", "`f` has no parameter `mm`; did you mean `m`? (parameters: x, n, mask, m)"),
    ("f(x, n=d, n=d)", "SC105", "`f`: parameter `n` given twice"),
    ("f(x, d, x=x)", "SC105", "`f`: parameter `x` given twice"),
    ("f(x)", "SC105", "`f` is missing argument `n`"),
    ("g(y=x)", "SC105", "`g` is missing argument `x`"),
    ("f(x, x)", "SC103", "argument `n` of `f` must be a dimension, got a tensor"),
    ("f(d, d)", "SC103", "argument `x` of `f` must be a tensor, got a dimension"),
    ("g(x, none)", "SC103", "argument `y` of `g` must be a tensor, got none"),
    ("g(x, \"s\")", "SC103", "argument `y` of `g` must be a tensor, got a string"),
]


@pytest.mark.parametrize("call,code,message", BAD_CALLS, ids=[c for c, _, _ in BAD_CALLS])
def test_both_interpreters_reject_a_bad_block_call_with_one_message(call, code, message):
    text = BLOCK.replace("CALL", call)
    found = [(d.code, d.message, d.span.line) for d in check_source(text, "m.shape").diagnostics]
    assert found == [(code, message, 11)]
    with pytest.raises(X.ExecError) as err:
        X.run(X.program_from_source(text, "m.shape"), "m", {"batch": 2, "d": 4})
    assert (err.value.message, err.value.span.line) == (message, 11)


# ---- dispatch by node type ------------------------------------------------------------------

SP = Span("m.shape", 3, 5, 3, 9)
INTERPRETERS = [infer.Checker, X._Runner]


def ir_node_classes() -> set:
    """Every dataclass shapecheck/ir.py defines, but CallId (an identity record, not a node)."""
    return {c for c in vars(ir).values() if isinstance(c, type) and dataclasses.is_dataclass(c)
            and c.__module__ == ir.__name__} - {ir.CallId}


def test_every_ir_node_class_is_a_statement_an_expression_or_a_part_of_one():
    statements, expressions, parts = set(ir.STATEMENTS), set(ir.EXPRESSIONS), set(ir.PARTS)
    assert statements == set(ir.Stmt.__args__) and expressions == set(ir.Expr.__args__)
    assert not (statements & expressions) and not (parts & (statements | expressions))
    assert ir_node_classes() == statements | expressions | parts


@pytest.mark.parametrize("interp", INTERPRETERS, ids=lambda c: c.__name__)
def test_every_statement_and_expression_class_has_a_handler(interp):
    assert set(interp.STATEMENTS) == set(ir.STATEMENTS)
    assert set(interp.EXPRESSIONS) == set(ir.EXPRESSIONS)
    for fn in list(interp.STATEMENTS.values()) + list(interp.EXPRESSIONS.values()):
        assert callable(fn) and fn.__qualname__.split(".")[0] in (interp.__name__, "Interpreter")


def _noop():
    """A fresh do-nothing method (the decorators mark the function itself)."""
    return lambda self, *args: None


def test_a_class_without_a_handler_for_a_node_or_a_kind_is_refused_when_it_is_built():
    handlers = {f"h{i}": skeleton.handles(c)(_noop())
                for i, c in enumerate(ir.STATEMENTS + ir.EXPRESSIONS) if c is not ir.Index}
    with pytest.raises(TypeError, match=r"Partial has no handler for the IR expressions Index$"):
        type("Partial", (skeleton.Interpreter,), handlers)
    handlers["odd"] = skeleton.handles(ir.Slice)(_noop())
    handlers["index"] = skeleton.handles(ir.Index)(_noop())
    with pytest.raises(TypeError, match="Odd: handlers for Slice, which are not IR statements"):
        type("Odd", (skeleton.Interpreter,), handlers)
    del handlers["odd"]
    # the base converts the literal kinds (bool, str, padding's string, lists of tensors, subscripts);
    # the rest is each interpreter's
    with pytest.raises(TypeError, match=r"Nodes has no converter for the argument kinds tensor, tensor\?, dim, "):
        type("Nodes", (skeleton.Interpreter,), handlers)
    handlers["conv"] = skeleton.converts(*(k for k in skeleton.CONVERTED_KINDS if k != K.SHAPE))(_noop())
    with pytest.raises(TypeError, match=r"Almost has no converter for the argument kinds shape$"):
        type("Almost", (skeleton.Interpreter,), handlers)
    handlers["conv"] = skeleton.converts(*skeleton.CONVERTED_KINDS)(_noop())
    whole = type("Whole", (skeleton.Interpreter,), handlers)
    assert set(whole.EXPRESSIONS) == set(ir.EXPRESSIONS) and set(whole.CONVERTERS) == set(skeleton.CONVERTED_KINDS)


@pytest.mark.parametrize("interp", INTERPRETERS, ids=lambda c: c.__name__)
def test_every_argument_kind_has_a_converter(interp):
    assert set(interp.CONVERTERS) == {k for k in K.KINDS if not k.endswith("*")}


def test_an_operation_with_an_undeclared_argument_kind_is_refused():
    with pytest.raises(ValueError, match="operation bogus: unknown argument kind 'tensor!'"):
        K.op("bogus", K.Arg("x", "tensor!"))
    assert "bogus" not in K.OPS


def _interpreters():
    text = "dim d = 2\nmodel m {\n    input x: [d]\n    return x\n}\n"
    prog = X.program_from_source(text, "m.shape")
    block = prog.models["m"]
    checker = infer.Checker(check_source(text, "m.shape").scope, Reporter())
    runner = X._Runner(prog, {"d": 2}, 0, None)
    return [(checker, infer.Frame(block, checker.global_facts, ("m",))), (runner, X._Frame(block, ("m",)))]


@pytest.mark.parametrize("which", [0, 1], ids=["Checker", "_Runner"])
def test_a_node_without_a_handler_is_a_located_internal_error(which):
    interp, frame = _interpreters()[which]

    @dataclasses.dataclass(frozen=True)
    class Future:               # a node class the interpreters do not know
        span: Span

    for run, node in ((interp.stmt, Future(SP)), (interp.expr, Future(SP)),
                      (interp.expr, ir.Slice(None, None, None, SP)),        # a part, not an expression
                      (interp.stmt, ir.Name("x", SP))):                      # an expression, not a statement
        with pytest.raises(skeleton.UnknownNode) as err:
            run(frame, node)
        assert err.value.span == SP and err.value.node is node
        assert str(err.value) == (f"internal error: {type(interp).__name__} has no handler for the IR node "
                                  f"{type(node).__name__} at m.shape:3:5")
