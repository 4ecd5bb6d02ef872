"""Tier 3: the dimension algebra, checked against exact evaluation at random sizes."""
import sympy
from hypothesis import given, settings, strategies as st

from shapecheck.dims import (PROVED, REFUTED, Facts, Relation, dim, evaluate, generic, power,
                             show, DimError)

a, b, c = dim("a"), dim("b"), dim("c")
sizes = st.integers(min_value=1, max_value=60)


def env(**kw):
    return {dim(k): v for k, v in kw.items()}


def test_divisibility_becomes_substitution():
    f = Facts.build([Relation("==", sympy.Mod(a, b), 0)])
    assert f.integer(a / b).status == PROVED
    assert f.equal(a / b * b, a).status == PROVED
    assert f.integer(a / c).status == REFUTED


def test_division_without_require_is_refuted_with_counterexample():
    r = Facts.build([]).integer(a / b)
    assert r.status == REFUTED
    cex = r.counterexample
    assert evaluate(a / b, env(**cex)).denominator != 1


def test_distinct_dimensions_are_never_assumed_equal():
    r = Facts.build([]).equal(a, b)
    assert r.status == REFUTED and r.counterexample["a"] != r.counterexample["b"]


def test_inequality_from_require():
    f = Facts.build([Relation("<=", a, b)])
    assert f.le(a, b).status == PROVED
    assert f.le(a, b + 1).status == PROVED
    assert f.le(b, a).status == REFUTED
    assert Facts.build([]).le(a, b).status == REFUTED


def test_power_limit():
    try:
        power(sympy.Integer(10), sympy.Integer(10 ** 10))
    except DimError:
        pass
    else:
        raise AssertionError("a huge power was computed")


def test_generic_symbols_are_fresh_and_print_plainly():
    g1, g2 = generic("d"), generic("d")
    assert g1 != g2 and show(g1 / dim("h")) == "d / h"


exprs = st.sampled_from([a * b + c, (a + b) * (a - b), a * a - b, a + 2 * b - c,
                         sympy.floor((a + 2 * c - b) / 2) + 1, sympy.Mod(a * b, c + 1), sympy.Max(a, b) - sympy.Min(a, c)])


@settings(max_examples=150, deadline=None)
@given(exprs, exprs, sizes, sizes, sizes)
def test_proved_equalities_hold_and_refutations_are_real(e1, e2, x, y, z):
    r = Facts.build([]).equal(e1, e2)
    point = env(a=x, b=y, c=z)
    if r.status == PROVED:
        assert evaluate(e1, point) == evaluate(e2, point)
    elif r.status == REFUTED:
        cex = env(**{k: v for k, v in r.counterexample.items()})
        full = {**{a: 1, b: 1, c: 1}, **cex}
        assert evaluate(e1, full) != evaluate(e2, full)


@settings(max_examples=150, deadline=None)
@given(sizes, sizes, st.sampled_from(["<=", "<", "==", ">="]))
def test_counterexamples_satisfy_the_requires(x, y, op):
    # a require relating a and b; a check that the require does not imply
    f = Facts.build([Relation(op, a, b * 2)])
    r = f.equal(a, b)
    if r.status == REFUTED:
        point = {a: r.counterexample.get("a", 1), b: r.counterexample.get("b", 1)}
        assert Relation(op, a, b * 2).holds(point)
        assert evaluate(a, point) != evaluate(b, point)
    # a proved bound holds at random points within the require
    if f.le(a, 2 * b).status == PROVED and Relation(op, a, b * 2).holds(env(a=x, b=y)):
        assert x <= 2 * y


@settings(max_examples=100, deadline=None)
@given(sizes, sizes, sizes)
def test_divisibility_chains(x, y, z):
    # b % c == 0 and a % b == 0  =>  a / c is an integer
    f = Facts.build([Relation("==", sympy.Mod(b, c), 0), Relation("==", sympy.Mod(a, b), 0)])
    assert f.integer(a / c).status == PROVED
    bb, cc = y * z, z
    aa = bb * x
    assert evaluate(a / c, env(a=aa, b=bb, c=cc)).denominator == 1


floor_claims = st.sampled_from([
    sympy.floor((a - b) / c) + 1, sympy.floor(a / 2) * 2 - a + 1, a - 2 * sympy.floor(a / 2),
    2 * sympy.ceiling(a / 2) - a, sympy.ceiling(a / b) * b - a, sympy.floor((a + b) / c) - sympy.floor(a / c),
    sympy.floor((a - 3) / 2) + 1, b - sympy.ceiling(a / c), sympy.floor(a * b / c) - sympy.floor(a / c) * b,
])
floor_facts = st.sampled_from([[], [Relation(">=", a, b)], [Relation(">=", a, 3)], [Relation("<=", a, c)]])


@settings(max_examples=200, deadline=None)
@given(floor_claims, floor_facts, sizes, sizes, sizes)
def test_floor_and_ceiling_bounds_are_sound(claim, facts, x, y, z):
    # whatever the prover proves about floors and ceilings holds at every size the facts allow
    f = Facts.build(facts)
    r = f.nonneg(claim)
    point = env(a=x, b=y, c=z)
    if r.status == PROVED and all(rel.holds(point) for rel in facts):
        assert evaluate(claim, point) >= 0
    if r.status == REFUTED:
        full = {**{a: 1, b: 1, c: 1}, **r.env}
        assert evaluate(claim, full) < 0 and all(rel.holds(full) for rel in facts)
