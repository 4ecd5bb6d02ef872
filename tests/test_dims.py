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


# ---- the fact engine: every relation used, in any order (issue 11) ----------------------------

import itertools  # noqa: E402

H, ws, k, n, m, j = (dim(x) for x in ("H", "ws", "k", "n", "m", "j"))


def _statuses(facts, checks):
    f = Facts.build(facts)
    return [f.holds(c).status for c in checks]


def test_order_of_requires_never_changes_a_result():
    facts = [Relation("==", sympy.Mod(H, ws), 0), Relation("==", sympy.Mod(H, 2), 0),
             Relation(">=", ws, 2), Relation("<=", n, H)]
    checks = [Relation("<=", 2, H), Relation("==", sympy.Mod(H / 2, 1), 0), Relation("<=", n, H + 1),
              Relation("==", sympy.ceiling(H / 2), sympy.ceiling((H - 1) / 2)), Relation("<=", ws, H),
              Relation("==", sympy.Mod(H, 4), 0)]
    results = {tuple(_statuses(list(p), checks)) for p in itertools.permutations(facts)}
    assert len(results) == 1, results
    assert list(results.pop()) == [PROVED, PROVED, PROVED, PROVED, PROVED, REFUTED]


def test_congruence_with_a_remainder_is_used():
    f = Facts.build([Relation("==", sympy.Mod(k, 2), 1)])
    assert f.integer((k - 1) / 2).status == PROVED
    assert f.holds(Relation("==", sympy.Mod(k, 2), 1)).status == PROVED
    assert f.integer(k / 2).status == REFUTED


def test_a_fact_stated_twice_is_one_fact():
    r = Relation("==", sympy.Mod(k, 2), 1)
    f = Facts.build([r, r, Relation("==", sympy.Mod(k, 2), 1)])
    assert len(f.relations) == 1 and not f.contradiction()


def test_equality_between_expressions_is_solved_or_rewritten():
    f = Facts.build([Relation("==", 2 * n, m + 2)])
    assert f.equal(m, 2 * n - 2).status == PROVED
    assert f.le(2, n).status == PROVED            # m >= 1 makes n >= 2
    g = Facts.build([Relation("==", sympy.ceiling(H / 2), sympy.floor(H / 2))])
    assert g.equal(sympy.floor(H / 2), sympy.ceiling(H / 2)).status == PROVED


def test_not_equal_splits_cases_and_refutes():
    f = Facts.build([Relation("!=", j, 1)])
    assert f.positive(j - 1).status == PROVED
    r = f.equal(j, 3)
    assert r.status == REFUTED and r.counterexample["j"] not in (1, 3)


def test_bounds_from_divisibility_and_positivity():
    for order in ([Relation("==", sympy.Mod(H, ws), 0), Relation("==", sympy.Mod(H, 2), 0)],
                  [Relation("==", sympy.Mod(H, 2), 0), Relation("==", sympy.Mod(H, ws), 0)]):
        assert Facts.build(order).le(2, H).status == PROVED


def test_contradictory_congruences():
    assert Facts.build([Relation("==", sympy.Mod(n, 2), 0), Relation("==", sympy.Mod(n, 2), 1)]).contradiction()
    assert not Facts.build([Relation("==", sympy.Mod(n, 2), 0), Relation("==", sympy.Mod(n, 3), 1)]).contradiction()


def test_counterexamples_at_the_thresholds():
    r = Facts.build([Relation(">=", n, 10)]).nonneg(n - 11)
    assert r.status == REFUTED and r.counterexample == {"n": 10}
    seq = dim("seq")
    r = Facts.build([Relation(">=", seq, 100)]).le(128, seq)
    assert r.status == REFUTED and 100 <= r.counterexample["seq"] < 128


def test_counterexample_binds_every_fact():
    f = Facts.build([Relation(">=", n, 10), Relation("<", m, j)])
    r = f.integer(n / 3)
    assert r.status == REFUTED
    assert {n, m, j} <= set(r.env) and all(x.holds(r.env) for x in f.relations)


def test_huge_power_is_decided_without_expansion():
    ps = [dim(x) for x in "pqrstu"]
    big = sympy.Add(*ps) ** 12
    f = Facts.build([])
    assert f.positive(big).status == PROVED
    assert f.le(big + 1, big).status == REFUTED


# ---- the prover's small steps, each pinned (mutants in benchmarks/mutate.py) ------------------------

def test_strict_comparison_is_strict():
    f = Facts.build([])
    assert f.lt(a, a + 1).status == PROVED
    r = f.lt(a, a)
    assert r.status == REFUTED and r.counterexample is not None
    assert f.holds(Relation("<", a, a)).status == REFUTED
    assert f.holds(Relation(">", a + 1, a)).status == PROVED
    # under `require b <= a`, `b < a` is refuted (at b == a), `b < a + 1` proved
    g = Facts.build([Relation("<=", b, a)])
    assert g.lt(b, a).status == REFUTED and g.lt(b, a + 1).status == PROVED


def test_the_shift_test_proves_a_product_bound_the_linear_prover_cannot():
    # (a*b - 1)*(c - 1) = a*b*c - a*b - c + 1 >= 0 for sizes >= 1: with every x -> x + 1 its
    # coefficients are all >= 0; unshifted they are 1, -1, -1, 1, and the linear prover (monomials as
    # atoms with their bounds) does not see it
    f = Facts.build([])
    assert f.nonneg(a * b * c - a * b - c + 1).status == PROVED
    assert f.le(a * b + c, a * b * c + 1).status == PROVED
    r = f.nonneg(a * b * c - a * b - c)       # -1 at a = b = c = 1
    assert r.status == REFUTED


def test_a_large_sum_is_bounded_by_its_sizes_being_at_least_one():
    # (p1 + ... + p8)**6 has 1716 terms, over the expansion budget: decided from its structure,
    # each size at least 1, so at least 8**6 = 262144 (and exactly that at all ones)
    s = sympy.Add(*[dim(f"p{i}") for i in range(1, 9)]) ** 6
    f = Facts.build([])
    assert f.nonneg(s - 262144).status == PROVED
    r = f.nonneg(s - 262145)
    assert r.status == REFUTED and set(r.counterexample.values()) == {1}


def test_a_multiple_of_k_is_at_least_k_only_when_it_is_a_size():
    # (a - 1)*b % c == 0 holds at a = 1 (0 is a multiple of every c): no bound (a - 1)*b >= c follows
    # ((a - 1)*b can be 0: its structure bounds it by 0, not 1)
    f = Facts.build([Relation("==", sympy.Mod((a - 1) * b, c), 0)])
    r = f.le(c, (a - 1) * b)
    assert r.status == REFUTED and r.counterexample["a"] == 1
    # a*b % c == 0 with a*b a size (at least 1): a*b >= c
    assert Facts.build([Relation("==", sympy.Mod(a * b, c), 0)]).le(c, a * b).status == PROVED


def test_not_equal_is_proved_from_either_side():
    f = Facts.build([])
    assert f.holds(Relation("!=", a + 1, a)).status == PROVED     # the difference is >= 1
    assert f.holds(Relation("!=", a, a + 1)).status == PROVED     # the difference is <= -1
    assert f.holds(Relation("!=", a, 2 * a)).status == PROVED
    assert f.holds(Relation("!=", a, b)).status == REFUTED


def test_a_congruence_admits_its_remainder_itself():
    # a % 4 == 1 holds at a = 1 (the substitution a -> 4*(t - 1) + 1 starts there, t >= 1)
    f = Facts.build([Relation("==", sympy.Mod(a, 4), 1)])
    r = f.le(5, a)
    assert r.status == REFUTED and r.counterexample == {"a": 1}
    assert f.integer((a - 1) / 4).status == PROVED and f.le(1, a).status == PROVED
    # the same with a symbolic modulus (b >= 2, so that a remainder of 1 is possible)
    g = Facts.build([Relation("==", sympy.Mod(a, b), 1), Relation(">=", b, 2)])
    r = g.le(b + 1, a)
    assert r.status == REFUTED and r.counterexample["a"] == 1
