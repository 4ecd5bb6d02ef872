"""Nodes carry identity: the statement they belong to and a structured call id,
the same in the symbolic and the numeric interpreter."""
from shapecheck import api, execute as X, ir
from shapecheck.ir import CallId

SPEC = """dim b = 2, d = 4
block mlp(x: [b, d]) -> [b, d] {
    h = linear(x, d)
    return h
}
model m {
    input x: [b, d]
    y = mlp(x) + mlp(mlp(x))
    return y
}
"""


def _nodes():
    res = api.check_source(SPEC, "same_line.shape")
    assert res.ok, res.diagnostics
    return res, res.models["m"].nodes


def test_three_calls_on_one_line_are_three_distinct_calls():
    _, nodes = _nodes()
    inner = [n for n in nodes if n.name == "h"]
    assert len(inner) == 3
    ids = [n.calls[0] for n in inner]
    assert len(set(ids)) == 3
    assert sorted(c.index for c in ids) == [0, 1, 2]
    assert {(c.caller, c.callee, c.stmt.line, c.span.line) for c in ids} == {("m", "mlp", 8, 8)}
    # source order: mlp(x) (col 9), then the outer mlp(mlp(x)) (col 18), then its argument (col 22)
    assert [(c.index, c.span.col) for c in sorted(ids, key=lambda c: c.index)] == [(0, 9), (1, 18), (2, 22)]


def test_nodes_carry_their_statement():
    _, nodes = _nodes()
    y = next(n for n in nodes if n.name == "y")
    assert isinstance(y.stmt, ir.Assign) and y.stmt.targets == ("y",) and y.calls == ()
    h = next(n for n in nodes if n.name == "h")
    assert isinstance(h.stmt, ir.Assign) and h.stmt.span.line == 3


def test_numeric_records_have_the_same_identity():
    res, nodes = _nodes()
    ex = X.run(res.program, "m", {"b": 2, "d": 4})
    assert sorted(map(X.node_key, nodes), key=repr) == sorted((r.key for r in ex.records), key=repr)


def test_call_id_of_a_call_outside_a_statement():
    sp = ir.Span("f", 1, 1, 1, 5)
    c = ir.Call("f", (), (), sp, sp)
    assert ir.call_id("blk", None, c, {"f"}) == CallId("blk", "f", sp, sp, 0)
    assert ir.call_id("blk", None, c, {"f"}).label == "f@1"
