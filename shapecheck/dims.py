"""Symbolic dimensions: sympy expressions built from the IR, and the prover.

Every check is three-valued (:data:`PROVED`, :data:`REFUTED`, :data:`UNKNOWN`)
relative to a :class:`Facts` object, the ``require``s in force, all of them
used whatever their order (see :class:`Facts`):

* divisibility and congruences ``a % k == r`` become substitutions
  ``a -> k*(t - 1) + r`` with a fresh positive integer ``t`` where ``a`` is a
  symbol, else facts for integrality proofs; equalities are solved for a
  symbol with coefficient ±1 or kept as linear facts and rewrites;
* inequalities (and ``!=`` by case split) feed a Fourier-Motzkin prover over
  atoms (monomials, floors, ceilings, min, max, mod) with their bounds, after
  the quick test "non-negative coefficients once every variable is shifted by
  one" (variables are >= 1);
* expansions are bounded (:data:`MAX_TERMS`): larger expressions are decided
  from their structure or by evaluation only, never expanded;
* otherwise a bounded, deterministic search (sizes 1-9, then the thresholds
  of the facts and the check, then a schedule) gives a counterexample that
  satisfies every fact (refuted), and failing that the check is unknown.

Nothing here parses text: symbols are created by name from the parse tree.
"""
from __future__ import annotations

import functools
import itertools
import math
import random
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Optional

import sympy
from sympy import Add, Integer, Max, Min, Mod, Mul, Pow, Symbol, ceiling, floor
from sympy.printing.str import StrPrinter

PROVED, REFUTED, UNKNOWN = "proved", "refuted", "unknown"

#: Largest integer a power literal may produce (bits); ``10 ** 10 ** 10`` is refused.
MAX_POWER_BITS = 256
#: How many inequality facts (sharing a dimension with a claim) a proof combines.
MAX_FACTS_TRIED = 24
#: Relation evaluations one counterexample search may spend (deterministic, not timed).
SEARCH_WORK = 40_000


def as_expr(x):
    """``x`` as a sympy expression: an int becomes an Integer, an expression
    stays itself. Never parses text (unlike ``sympify``): anything else is a
    bug and raises TypeError.

    >>> as_expr(3), as_expr(dim("n") + 1)
    (3, n + 1)
    """
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"not a dimension expression: {type(x).__name__}")
    return Integer(x)


def generic(name: str) -> sympy.Dummy:
    """A fresh positive integer symbol for a block's generic dimension ``name``."""
    return sympy.Dummy(name, integer=True, positive=True)


@functools.lru_cache(maxsize=None)
def dim(name: str) -> Symbol:
    """The dimension symbol named ``name`` (a positive integer).

    >>> dim("d_model").is_positive, dim("d_model").is_integer
    (True, True)
    """
    return Symbol(name, integer=True, positive=True)


class Pass(sympy.Dummy):
    """The pass of a ``repeat i in n`` loop, counted from 1 (a positive integer,
    as every symbol the prover knows): the spec's index ``i`` is ``pass - 1``.
    It prints as the index (:func:`show` rewrites ``pass`` as ``i + 1``), and a
    counterexample shows ``i``'s value."""

    def __new__(cls, index: str, **assumptions):
        return super().__new__(cls, index, integer=True, positive=True)

    @property
    def index_symbol(self) -> Symbol:
        """The spec's 0-based index, for display only."""
        return Symbol(self.name, integer=True, nonnegative=True)


def pass_symbol(index: str) -> Pass:
    """A fresh :class:`Pass` for a loop whose index is named ``index``."""
    return Pass(index)


def readable(e):
    """``e`` in the terms of the spec's loop indices (each ``pass`` as ``i + 1``);
    ``e`` itself when no loop pass occurs in it.

    >>> p = pass_symbol("i")
    >>> show(dim("c") + dim("g") * (p - 1))
    'c + g*i'
    """
    if not isinstance(e, sympy.Basic):
        return e
    ps = e.atoms(Pass)
    if not ps:
        return e
    return sympy.expand(e.xreplace({p: p.index_symbol + 1 for p in ps}))


def over_passes(e, loops):
    """``e`` (a count for one execution) summed over every pass of ``loops``
    (``(pass symbol or None, count)`` pairs, outermost first): a closed form
    where sympy finds one (polynomials in the pass always have one).

    >>> p, n = pass_symbol("i"), dim("n")
    >>> over_passes(dim("c") + (p - 1), ((p, n),)).expand()
    c*n + n**2/2 - n/2
    >>> over_passes(Integer(3), ((None, n), (None, Integer(2))))
    6*n
    """
    e = as_expr(e)
    for sym, count in reversed(tuple(loops)):
        if sym is not None and e.has(sym):
            e = sympy.summation(sympy.expand(e), (sym, 1, count))
        else:
            e = e * count
    return e


class DimError(Exception):
    """A dimension expression that cannot be built (e.g. a power too large)."""


def mod(a, b):
    """``a % b``, left unevaluated unless both are numbers (evaluating a
    symbolic ``Mod`` costs sympy a slow first-use import; the prover reads
    ``a % b == 0`` as a divisibility fact and never needs it simplified)."""
    a, b = as_expr(a), as_expr(b)
    if a.is_Integer and b.is_Integer:
        return Mod(a, b)
    return Mod(a, b, evaluate=False)


def subs(e, mapping: dict):
    """``e`` with symbols replaced simultaneously (unevaluated ``%`` kept so)."""
    if not mapping or not isinstance(e, sympy.Basic):
        return as_expr(e)
    if isinstance(e, Mod):
        return mod(subs(e.args[0], mapping), subs(e.args[1], mapping))
    return e.xreplace(mapping)


def power(base, exp):
    """``base ** exp`` with the literal-size limit applied."""
    if exp.is_Integer and base.is_Integer:
        if exp < 0:
            raise DimError("negative exponent in a dimension expression")
        if abs(base) > 1 and int(exp) * max(1, int(abs(base)).bit_length()) > MAX_POWER_BITS:
            raise DimError(f"power too large (more than {MAX_POWER_BITS} bits)")
    elif exp.is_number and not exp.is_Integer:
        raise DimError("exponent must be an integer")
    elif not exp.is_number:
        raise DimError("exponent must be a constant integer")
    elif exp.is_Integer and int(exp) > 64:
        raise DimError("exponent too large (at most 64 for a symbolic base)")
    return Pow(base, exp)


# ---- printing -------------------------------------------------------------------

class _Printer(StrPrinter):
    def _print_Mod(self, e):
        return f"{self.parenthesize(e.args[0], 50)} % {self.parenthesize(e.args[1], 50)}"

    def _print_Min(self, e):
        return "min(" + ", ".join(self._print(a) for a in e.args) + ")"

    def _print_Max(self, e):
        return "max(" + ", ".join(self._print(a) for a in e.args) + ")"

    def _print_ceiling(self, e):
        return f"ceil({self._print(e.args[0])})"

    def _print_floor(self, e):
        return f"floor({self._print(e.args[0])})"

    def _print_Dummy(self, e):
        return e.name


_SLASH = re.compile(r"\s*(?<!/)/(?!/)\s*")


_PRINTER = _Printer()


@functools.lru_cache(maxsize=8192)
def show(e) -> str:
    """Print a dimension expression in spec syntax.

    >>> show(dim("d") / dim("h")), show(Mod(dim("a"), dim("b")))
    ('d / h', 'a % b')
    """
    if isinstance(e, int):
        return str(e)
    e = readable(e)
    # the language's own syntax: `ceil`, one space around every `/`
    return _SLASH.sub(" / ", _PRINTER.doprint(e))


def show_shape(shape) -> str:
    """``[b, l, d / h]``: a shape in spec syntax (a variadic, ``ops.core.Variadic``,
    shows as ``*name``: anything not an expression shows as its ``str``).

    >>> show_shape((dim("b"), "*rest", dim("d") / 2, 3))
    '[b, *rest, d / 2, 3]'
    """
    return "[" + ", ".join(show(d) if isinstance(d, (int, sympy.Basic)) else str(d) for d in shape) + "]"


def variadic_numel(v) -> Symbol:
    """The product of the dimensions a ``*name`` (an ``ops.core.Variadic``) stands
    for, as one positive symbol, ``numel(*name)``: a block's FLOPs over
    ``[*lead, d]`` are counted with it, and each call substitutes the product of
    the dimensions it binds."""
    return Symbol(f"numel(*{v.name})", integer=True, positive=True)


def numel(shape):
    """The number of elements of ``shape``, a variadic as :func:`variadic_numel`.

    >>> numel((dim("b"), dim("d"))), numel(())
    (b*d, 1)
    """
    return Mul(*[d if isinstance(d, (int, sympy.Basic)) else variadic_numel(d) for d in shape])


class Algebra:
    """The dimension algebra a shape rule computes with, in sympy: what the
    rule context of the symbolic interpreter offers (``ops/`` imports no
    sympy; see :mod:`shapecheck.ops.core`)."""
    integer = staticmethod(Integer)
    expr = staticmethod(as_expr)
    floor = staticmethod(floor)
    ceiling = staticmethod(ceiling)
    min = staticmethod(Min)
    max = staticmethod(Max)
    show = staticmethod(show)
    show_shape = staticmethod(show_shape)
    numel = staticmethod(numel)

    @staticmethod
    def prod(dims):
        return Mul(*dims) if dims else Integer(1)


# ---- exact evaluation (no lambdify: nothing generated, nothing eval'ed) ----------

class EvalError(Exception):
    pass


def _fl(x: Fraction) -> Fraction:
    return Fraction(math.floor(x))


@functools.lru_cache(maxsize=8192)
def compile_expr(e) -> Callable[[dict], Fraction]:
    """A closure computing ``e`` exactly from ``{symbol: int}``."""
    if e.is_Integer:
        v = Fraction(int(e))
        return lambda env: v
    if e.is_Rational:
        v = Fraction(int(e.p), int(e.q))
        return lambda env: v
    if e.is_Symbol:
        def sym(env, e=e):
            try:
                return Fraction(env[e])
            except KeyError:
                raise EvalError(f"unbound {e}") from None
        return sym
    args = [compile_expr(a) for a in e.args]
    if isinstance(e, Add):
        return lambda env: sum((a(env) for a in args), Fraction(0))

    if isinstance(e, Mul):
        def mul(env):
            r = Fraction(1)
            for a in args:
                r *= a(env)
            return r
        return mul
    if isinstance(e, Pow):
        b, x = args
        if not e.exp.is_Integer:
            raise EvalError("non-integer power")
        n = int(e.exp)

        def pw(env):
            base = b(env)
            if n < 0 and base == 0:
                raise EvalError("division by zero")
            if abs(n) > 64 and abs(base) > 1:
                raise EvalError("power too large")
            return base ** n
        return pw
    if isinstance(e, floor):
        a = args[0]
        return lambda env: _fl(a(env))
    if isinstance(e, ceiling):
        a = args[0]
        return lambda env: -_fl(-a(env))
    if isinstance(e, Mod):
        a, b = args

        def md(env):
            bv = b(env)
            if bv == 0:
                raise EvalError("modulo by zero")
            return a(env) % bv
        return md
    if isinstance(e, Min):
        return lambda env: min(a(env) for a in args)
    if isinstance(e, Max):
        return lambda env: max(a(env) for a in args)
    raise EvalError(f"cannot evaluate {type(e).__name__}")


def evaluate(e, env: dict) -> Fraction:
    """Evaluate ``e`` exactly at ``env``.

    >>> evaluate(floor(dim("n") / 2) + 1, {dim("n"): 7})
    Fraction(4, 1)
    """
    if isinstance(e, int):
        return Fraction(e)
    return compile_expr(as_expr(e))(env)


# ---- facts and the prover -----------------------------------------------------------

@dataclass(frozen=True)
class Relation:
    """A requirement ``left OP right`` over dimension expressions."""
    op: str
    left: object
    right: object

    def holds(self, env) -> bool:
        a, b = evaluate(self.left, env), evaluate(self.right, env)
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                ">": a > b, ">=": a >= b}[self.op]

    def text(self) -> str:
        return f"{show(self.left)} {self.op} {show(self.right)}"

    @property
    def free_symbols(self):
        return _free(self.left) | _free(self.right)


def _free(e):
    return e.free_symbols if isinstance(e, sympy.Basic) else set()


@dataclass(frozen=True)
class Verdict:
    """What the prover finds about one claim: PROVED, REFUTED (with the sizes
    that refute it) or UNKNOWN (with why)."""
    status: str
    counterexample: Optional[dict] = None  # {name: int}: the sizes a message shows (messages.fails)
    env: Optional[dict] = None             # {symbol: int}: every size involved (for evaluation)
    reason: str = ""                       # why an unknown is unknown (e.g. the budget ran out)



_PROVED = Verdict(PROVED)
_UNKNOWN = Verdict(UNKNOWN)
#: An expression whose expansion would have more terms than this is never expanded:
#: its checks use structural bounds and evaluation only (bounded time, never a hang).
MAX_TERMS = 1500
#: Largest system (constraints) the linear prover works on before giving up.
MAX_CONSTRAINTS = 400
_TOO_LARGE = Verdict(UNKNOWN, reason="the expression is too large to decide within the budget")


_FLIP = {">": "<", ">=": "<="}


def _canonical(r: Relation) -> Relation:
    """``b > a`` as ``a < b``; ``0 == a % k`` as ``a % k == 0``."""
    if r.op in _FLIP:
        return Relation(_FLIP[r.op], r.right, r.left)
    if r.op in ("==", "!=") and isinstance(r.right, Mod) and not isinstance(r.left, Mod):
        return Relation(r.op, r.right, r.left)
    return r


def _rank(r: Relation):
    """The order the facts are absorbed in (never the order they were written):
    solvable equalities, then congruences by a symbolic modulus, then by a
    constant one, then the rest; ties by their text."""
    if r.op == "==" and isinstance(r.left, Mod):
        kind = 2 if as_expr(r.left.args[1]).is_number else 1
    elif r.op == "==":
        kind = 0
    else:
        kind = 3
    return (kind, r.text())


def _frac(x) -> Fraction:
    return Fraction(int(x.p), int(x.q))


@dataclass
class Facts:
    """The ``require``s in force, prepared for proofs.

    Every relation is used whatever the order it was written in (they are
    absorbed in a canonical order until nothing changes):

    * an equality solved for a symbol with coefficient ±1 becomes a
      substitution; one that cannot be solved is kept as ``e == 0`` and used by
      the linear prover and as a rewrite;
    * a congruence ``a % k == r`` (``a`` a symbol after the substitutions so far)
      becomes ``a -> k*(t - 1) + r`` with a fresh positive ``t``; otherwise it is
      kept (with the bound ``a >= k`` or ``a >= r``) for integrality proofs;
    * ``!=`` refutes and splits cases; ``< <= > >=`` are combined by a
      Fourier-Motzkin prover over the linear parts (monomials, floors, ceilings,
      minima and maxima are its atoms, with their bounds).
    """
    relations: tuple = ()
    subs: dict = field(default_factory=dict)
    ineqs: list = field(default_factory=list)   # f >= 0, substituted and expanded
    divs: list = field(default_factory=list)    # (a, k, r): a % k == r kept as is (substituted)
    eqs: list = field(default_factory=list)     # e == 0 that are not a substitution (substituted)
    neqs: list = field(default_factory=list)    # e != 0 (substituted)
    fresh: dict = field(default_factory=dict)   # t symbol -> (a, k, r): a = k*(t - 1) + r
    _cache: dict = field(default_factory=dict)

    @classmethod
    def build(cls, relations) -> "Facts":
        kept, seen = [], set()
        for r in relations:          # a fact stated twice (top level and precondition) is one fact
            c = _canonical(r)
            if c not in seen:
                seen.add(c)
                kept.append(r)
        f = cls(tuple(kept))
        pending = sorted({_canonical(r) for r in kept}, key=_rank)
        bound = []      # values substituted for a dimension: each must stay >= 1
        progress = True
        while progress:
            progress = False
            for r in pending:
                if f._absorb(r, bound):
                    pending.remove(r)
                    progress = True
                    break
        ineqs = []
        for r in pending:
            if r.op == "==" and isinstance(r.left, Mod):
                a, k, rest = f.sub(r.left.args[0]), f.sub(r.left.args[1]), f.sub(r.right)
                if k.is_number and rest.is_number and k != 0:
                    rest = rest % k
                f.divs.append((a, k, rest))
                # a dimension that is a multiple of k is at least k (at least r for r != 0)
                if _positive_shape(a) and (k.is_positive is True or _positive_shape(k)):
                    ineqs.append(a - (k if rest == 0 else rest))
                if rest != 0 and not (k.is_number and rest.is_number):
                    ineqs.append(k - rest - 1)
            elif r.op == "==":
                e = _expand(f.sub(r.left) - f.sub(r.right))
                if e is not None and e != 0:
                    f.eqs.append(e)
            elif r.op == "!=":
                e = _expand(f.sub(r.left) - f.sub(r.right))
                if e is not None:
                    f.neqs.append(e)
            else:
                e = _expand(f.sub(r.right) - f.sub(r.left))
                if e is not None:
                    ineqs.append(e - 1 if r.op == "<" else e)
        for value in bound:   # `require x == y - 1` keeps x >= 1: y - 1 >= 1
            v = f.sub(value)
            if v.is_positive is not True:
                ineqs.append(v - 1)
        for e in ineqs:
            e = _expand(e)
            if e is not None and e not in f.ineqs:   # `n + 1 <= m + 1` and `n <= m` are one fact
                f.ineqs.append(e)
        return f

    def _absorb(self, r: Relation, bound: list) -> bool:
        """Turn ``r`` into a substitution if it can be one now."""
        if r.op != "==":
            return False
        if isinstance(r.left, Mod):
            a, k, rest = self.sub(r.left.args[0]), self.sub(r.left.args[1]), self.sub(r.right)
            if not (a.is_Symbol and k.is_positive is True and a not in _free(k) | _free(rest)):
                return False
            if k.is_number and rest.is_number:
                rest = rest % k
            if rest == 0:
                q = sympy.Dummy(f"q{len(self.fresh)}", integer=True, positive=True)
                self.fresh[q] = (r.left.args[0], r.left.args[1], Integer(0))
                self._bind(a, k * q)
                return True
            if not (rest.is_Integer and rest > 0 and (not k.is_number or rest < k)):
                return False
            t = sympy.Dummy(f"t{len(self.fresh)}", integer=True, positive=True)
            self.fresh[t] = (r.left.args[0], r.left.args[1], rest)
            self._bind(a, k * (t - 1) + rest)
            return True
        diff = _expand(self.sub(r.left) - self.sub(r.right))
        if diff is None:
            return False
        if diff == 0:
            return True
        terms = diff.as_coefficients_dict()
        for x in sorted(diff.free_symbols, key=lambda s: (isinstance(s, sympy.Dummy), s.name)):
            c = terms.get(x, 0)
            if c not in (1, -1):
                continue
            rest = diff - c * x
            if x in rest.free_symbols:
                continue
            value = _expand(-rest / c)
            self._bind(x, value)
            bound.append(value)
            return True
        return False

    def _bind(self, sym, value):
        self.subs = {k: v.xreplace({sym: value}) for k, v in self.subs.items()}
        self.subs[sym] = value

    def sub(self, e):
        if not isinstance(e, sympy.Basic):
            e = Integer(e)
        return subs(e, self.subs)

    # -- public checks ---------------------------------------------------------
    def equal(self, a, b) -> Verdict:
        """Is ``a == b`` for every size the facts allow?"""
        key = ("eq", a, b)
        if key not in self._cache:
            self._cache[key] = self._equal(as_expr(a), as_expr(b))
        return self._cache[key]

    def nonneg(self, e, within=frozenset()) -> Verdict:
        """Is ``e >= 0`` for every size the facts allow? A counterexample binds
        the dimensions of ``e`` and of ``within`` (those of the check as written,
        when ``b - a`` cancelled some)."""
        key = ("ge", e, within)
        if key not in self._cache:
            self._cache[key] = self._nonneg(as_expr(e), frozenset(within))
        return self._cache[key]

    def le(self, a, b) -> Verdict:
        return self.nonneg(as_expr(b) - as_expr(a), frozenset(_free(a) | _free(b)))

    def lt(self, a, b) -> Verdict:
        return self.nonneg(as_expr(b) - as_expr(a) - 1, frozenset(_free(a) | _free(b)))

    def positive(self, e) -> Verdict:
        return self.nonneg(as_expr(e) - 1, frozenset(_free(e)))

    def integer(self, e) -> Verdict:
        """Is ``e`` an integer for every size the facts allow?"""
        key = ("int", e)
        if key not in self._cache:
            self._cache[key] = self._integer(as_expr(e))
        return self._cache[key]

    def holds(self, rel: Relation) -> Verdict:
        """Does the relation follow from the facts?"""
        if rel.op == "==" and isinstance(rel.left, Mod):
            a, k = rel.left.args
            if rel.right == 0:
                return self.integer(a / k)
            r = as_expr(rel.right)
            res = self.integer((a - r) / k)
            if res.status == PROVED:   # and 0 <= r < k
                bounds = [self.nonneg(r), self.lt(r, k)]
                if all(b.status == PROVED for b in bounds):
                    return _PROVED
                return next((b for b in bounds if b.status == REFUTED), _UNKNOWN)
            if res.status == REFUTED:
                return self._refute_or_unknown(lambda env: not rel.holds(env), rel.free_symbols, [rel.left, r])
            return res
        if rel.op == "==":
            return self.equal(rel.left, rel.right)
        if rel.op == "<=":
            return self.le(rel.left, rel.right)
        if rel.op == ">=":
            return self.le(rel.right, rel.left)
        if rel.op == "<":
            return self.lt(rel.left, rel.right)
        if rel.op == ">":
            return self.lt(rel.right, rel.left)
        # !=: proved when one side is provably below or above the other
        d = as_expr(rel.left) - as_expr(rel.right)
        if self.nonneg(d - 1).status == PROVED or self.nonneg(-d - 1).status == PROVED:
            return _PROVED
        return self._refute_or_unknown(lambda env: evaluate(rel.left, env) == evaluate(rel.right, env),
                                       rel.free_symbols, [rel.left, rel.right])

    def simplify(self, e):
        """``e`` rewritten under the facts for printing: divisions the facts make
        exact lose their floor and ceiling (``floor((image - patch) / patch) + 1``
        is ``image / patch`` under ``image % patch == 0``), in the user's names."""
        e = as_expr(e)
        if not e.has(floor, ceiling) or _size(e) > MAX_TERMS:
            return e
        s = self._reduce_floors(self.sub(e))
        if s.has(floor, ceiling):
            return e
        back = {}
        for t, (a, k, r) in self.fresh.items():
            back[t] = (as_expr(a) - r) / as_expr(k) + (1 if r != 0 else 0)
        out = sympy.expand(s.xreplace(back))
        # the substituted symbols' own images are not undone: keep the original if any remain
        if out.free_symbols - e.free_symbols:
            return e
        return out if len(show(out)) < len(show(e)) else e

    # -- implementation ----------------------------------------------------------
    def _prep(self, e):
        """``e`` substituted, with exact floors removed, expanded; None if too large."""
        s = self.sub(e)
        if _size(s) > MAX_TERMS:
            return None
        if s.has(floor, ceiling):
            s = self._reduce_floors(s)
        return _expand(s)

    def _equal(self, a, b) -> Verdict:
        syms = _free(a) | _free(b)
        d = self._prep(a - b)
        if d is None:
            if self.sub(a) == self.sub(b):
                return _PROVED
            res = self._refute_or_unknown(lambda env: evaluate(a, env) != evaluate(b, env), syms, [a, b])
            return res if res.status == REFUTED else _TOO_LARGE
        if d == 0:
            return _PROVED
        if d.is_number:
            env = self._example(syms)
            return Verdict(REFUTED, _display(env, syms), env)
        if any(p.is_Pow and p.exp.is_negative for p in sympy.preorder_traversal(d)):
            if _denominators_positive(d) and sympy.cancel(d) == 0:
                return _PROVED
        for e in self.eqs:      # a multiple of an equality stated as a require
            ratio = sympy.cancel(d / e)
            if ratio.is_number:
                return _PROVED
        if self._linear_proves(d) and self._linear_proves(-d):
            return _PROVED
        if d.has(Min, Max) and self._cases_nonneg(a - b) and self._cases_nonneg(b - a):
            return _PROVED
        return self._refute_or_unknown(lambda env: evaluate(a, env) != evaluate(b, env), syms, [a, b])

    def _nonneg(self, e, within=frozenset()) -> Verdict:
        syms = _free(e) | within
        s = self._prep(e)
        if s is None:
            low = _lower_bound(self.sub(e))
            if low is not None and low >= 0:
                return _PROVED
            res = self._refute_or_unknown(lambda env: evaluate(e, env) < 0, syms, [e])
            return res if res.status == REFUTED else _TOO_LARGE
        if s.is_number:
            if s >= 0:
                return _PROVED
            env = self._example(syms)
            return Verdict(REFUTED, _display(env, syms), env)
        if _shift_nonneg(s) or self._linear_proves(s):
            return _PROVED
        if s.has(Min, Max) and self._cases_nonneg(e):
            return _PROVED
        # facts that share a dimension with the claim (a few dozen at most), alone and in pairs:
        # non-linear combinations the linear prover does not see
        near = [f for f in self.ineqs if f.free_symbols & s.free_symbols][:MAX_FACTS_TRIED]
        for f in near:
            if _shift_nonneg(sympy.expand(s - f)):
                return _PROVED
        for f, g in itertools.combinations(near[:8], 2):
            if _shift_nonneg(sympy.expand(s - f - g)):
                return _PROVED
        if s.has(floor, ceiling):
            lower = _floor_lower_bound(s)
            if lower is not None and self._poly_nonneg(lower):
                return _PROVED
        if self._neq_cases(s):
            return _PROVED
        return self._refute_or_unknown(lambda env: evaluate(e, env) < 0, syms, [e])

    def _neq_cases(self, s) -> bool:
        """Prove ``s >= 0`` by splitting each linear ``e != 0`` fact into ``e <= -1``
        and ``e >= 1`` (at most two such facts)."""
        near = [e for e in self.neqs if e.free_symbols & s.free_symbols and e.is_polynomial()
                and sympy.Poly(e, *sorted(e.free_symbols, key=str)).total_degree() <= 1][:2]
        if not near:
            return False
        for signs in itertools.product((1, -1), repeat=len(near)):
            extra = [sign * e - 1 for sign, e in zip(signs, near)]
            if not self._linear_proves(s, extra):
                return False
        return True

    def _reduce_floors(self, s):
        """Floors and ceilings of expressions the facts make integers, removed:
        ``floor(X + c) = X + floor(c)`` when ``X`` is proved an integer."""
        def red(atom):
            x = _expand(atom.args[0])
            if x is None:
                return atom
            c = x.as_coeff_Add()[0] if x.is_Add else (x if x.is_number else Integer(0))
            rest = x - c
            if rest == 0 or not self._integer_proof(rest):
                return atom
            return rest + (floor(c) if isinstance(atom, floor) else ceiling(c))
        out = s
        for _ in range(4):     # innermost first, as the outer ones simplify after the inner
            atoms = sorted(out.atoms(floor, ceiling), key=lambda a: sympy.count_ops(a))
            if not atoms:
                break
            changed = False
            for atom in atoms:
                new = red(atom)
                if new != atom:
                    out = out.xreplace({atom: new})
                    changed = True
                    break
            if not changed:
                break
        return out

    def _integer_proof(self, s) -> bool:
        """Proof (no search) that the substituted, expanded ``s`` is an integer."""
        if s.is_Integer:
            return True
        if s.is_number:
            return False
        terms = s.as_coefficients_dict()
        if all(c.is_Integer and _integer_atom(t) for t, c in terms.items()):
            return True
        for a, k, r in self.divs:
            base = (a - r) / k
            tries = range(1, int(k)) if k.is_Integer and k <= 16 else (1,)
            for c in tries:
                left = _expand(s - c * base)
                if left is not None and (left.is_Integer or (not left.is_number and all(
                        cc.is_Integer and _integer_atom(t) for t, cc in left.as_coefficients_dict().items()))):
                    return True
        if s.has(Pow) and _denominators_positive(s):
            c = sympy.cancel(s)
            if c != s and c.is_polynomial() and _int_coeffs(sympy.expand(c)):
                return True
        return False

    def _cases_nonneg(self, e, depth: int = 0) -> bool:
        """Prove ``e >= 0`` by splitting on the first two-argument min/max:
        ``min(a, b)`` is ``a`` where ``a <= b`` and ``b`` where ``b <= a``."""
        atoms = sorted((x for x in e.atoms(Min, Max) if len(x.args) == 2), key=str)
        if not atoms or depth > 3:
            return False
        atom = atoms[0]
        a, b = atom.args
        is_min = isinstance(atom, Min)
        # min(a, b) = a where a <= b, b where b <= a; max the other way round
        for value, other in ((a, b), (b, a)):
            rel = Relation("<=", value, other) if is_min else Relation("<=", other, value)
            case = Facts.build(self.relations + (rel,))
            if case.contradiction():
                continue
            sub_e = e.xreplace({atom: value})
            if case.nonneg(sub_e).status != PROVED and not case._cases_nonneg(sub_e, depth + 1):
                return False
        return True

    def contradiction(self, new: Optional[int] = None) -> bool:
        """True when the facts certainly admit no sizes (``n < m, m < n``,
        ``n % 2 == 0, n % 2 == 1``). With ``new``, only the last ``new``
        inequalities with the facts sharing a dimension with them are combined
        (the others were found consistent before)."""
        key = ("contradiction", new)
        if key not in self._cache:
            bad = any(e.is_number for e in self.eqs) or any(e == 0 for e in self.neqs)
            for a, k, r in self.divs:     # a polynomial whose residue mod k is fixed, and not r
                if bad or not (k.is_Integer and r.is_Integer):
                    continue
                p = _expand(a - r)
                if p is not None and _int_coeffs(p):
                    terms = p.as_coefficients_dict()
                    const = terms.get(Integer(1), 0)
                    if all(c % k == 0 for t, c in terms.items() if t != 1) and const % k != 0:
                        bad = True
            if not bad:
                bad = any((f.is_number and f < 0) for f in self.ineqs)
            if not bad:
                rows = list(self.ineqs) + list(self.eqs) + [-e for e in self.eqs]
                if new is not None:
                    fresh = self.ineqs[len(self.ineqs) - new:] if new else []
                    syms = set().union(*(f.free_symbols for f in fresh)) if fresh else set()
                    rows = [f for f in rows if f.free_symbols & syms]
                for part in _components(rows):
                    system = _System()
                    for f in part:
                        system.add(f)
                    if system.infeasible():
                        bad = True
                        break
            self._cache[key] = bad
        return self._cache[key]

    def _linear_proves(self, s, extra=()) -> bool:
        """Does the linear prover derive ``s >= 0`` from the facts (and ``extra``)?"""
        if not s.free_symbols:
            return bool(s >= 0)
        system = _System()
        if not system.add(-s, negate=True):
            return False
        syms = set(s.free_symbols)
        facts = list(self.ineqs) + [e for e in self.eqs] + [-e for e in self.eqs] + list(extra)
        chosen, changed = [], True
        while changed:    # the facts connected to the claim
            changed = False
            for f in facts:
                if f not in chosen and f.free_symbols & syms:
                    chosen.append(f)
                    syms |= f.free_symbols
                    changed = True
        chosen = chosen[:3 * MAX_FACTS_TRIED]
        for f in chosen:
            system.add(f)
        if system.infeasible():
            return True
        if all(_degree(t) <= 1 for t in s.as_coefficients_dict()):
            return False
        # a non-linear claim: add the products of pairs of linear facts (and of the sizes'
        # bounds x - 1 >= 0), so `a >= 2, b >= 2` gives `(a - 2)(b - 2) >= 0`, hence `a*b >= 4`
        linear = [f for f in chosen if all(_degree(t) <= 1 for t in f.as_coefficients_dict())][:8]
        linear += [x - 1 for x in sorted(s.free_symbols, key=str)][:4]
        for f, g in itertools.combinations_with_replacement(linear, 2):
            system.add(sympy.expand(f * g))
        return system.infeasible()

    def _poly_nonneg(self, p) -> bool:
        p = sympy.expand(p)
        if _shift_nonneg(p):
            return True
        return any(_shift_nonneg(sympy.expand(p - f)) for f in self.ineqs) or self._linear_proves(p)

    def _integer(self, e) -> Verdict:
        s = self._prep(e)
        if s is None:
            return _TOO_LARGE
        if s.is_Integer:
            return _PROVED
        if s.has(Pow) and _denominators_positive(s):
            s = sympy.cancel(s)
            s = sympy.expand(s)
        if (s.is_polynomial() and _int_coeffs(s)) or self._integer_proof(s):
            return _PROVED
        return self._refute_or_unknown(lambda env: evaluate(e, env).denominator != 1, _free(e), [e])

    def _refute_or_unknown(self, bad: Callable[[dict], bool], syms, exprs=()) -> Verdict:
        env = self._search(bad, syms, exprs)
        if env is None:
            return _UNKNOWN
        return Verdict(REFUTED, _display(env, syms), self._complete(env))

    def _complete(self, env: dict) -> dict:
        """``env`` with sizes for every other dimension the facts mention, chosen
        within the facts, so that the counterexample can be checked against all."""
        rest = set().union(*(r.free_symbols for r in self.relations)) - set(env) if self.relations else set()
        if not rest:
            return env
        more = self._search(lambda e: True, rest)
        return {**env, **(more or {})}

    def _example(self, syms) -> dict:
        """Any allowed sizes (for checks that fail everywhere)."""
        return self._complete(self._search(lambda env: True, syms) or {})

    def _relevant(self, syms):
        """The original dimensions involved: ``syms`` and those tied to them by facts."""
        rel = set(syms)
        changed = True
        while changed:
            changed = False
            for r in self.relations:
                fs = r.free_symbols
                if fs & rel and not fs <= rel:
                    rel |= fs
                    changed = True
        return rel

    def find(self, bad: Callable[[dict], bool], syms, exprs=()) -> Optional[Verdict]:
        """A refutation at sizes within the facts where ``bad(env)`` holds
        (smallest first), or None."""
        env = self._search(bad, set(syms), exprs)
        return None if env is None else Verdict(REFUTED, _display(env, syms), self._complete(env))

    def candidates(self, exprs=()) -> list:
        """Sizes worth trying beyond 1-9: the thresholds of the facts and of the
        check (``n >= 10``: 10, 11, 12; a slice end 128 against ``seq >= 100``:
        100-129), their neighbours, and their quotients by the multipliers of
        the substitutions."""
        consts = set()
        for x in list(exprs) + [v for r in self.relations for v in (r.left, r.right)]:
            if isinstance(x, sympy.Basic):
                consts |= {abs(int(n)) for n in x.atoms(sympy.Integer)}
                consts |= {abs(int(n.p)) for n in x.atoms(sympy.Rational) if not n.is_Integer}
                consts |= {abs(int(n.q)) for n in x.atoms(sympy.Rational) if not n.is_Integer}
            elif isinstance(x, int):
                consts.add(abs(x))
        mults = {abs(int(n)) for v in self.subs.values() for n in v.atoms(sympy.Integer) if 2 <= abs(n) <= 64}
        consts = {c for c in consts if 2 <= c <= 10 ** 6}
        out = set()
        for c in consts:
            out |= {c - 2, c - 1, c, c + 1, c + 2, 2 * c}
            out |= {c // m + d for m in mults for d in (-1, 0, 1)}
        ordered = sorted(consts)
        for lo, hi in zip(ordered, ordered[1:]):   # every size between two nearby thresholds
            if hi - lo <= 64:
                out |= set(range(lo, hi + 2))
        return sorted(v for v in out if v >= 10)[:80]

    def _search(self, bad: Callable[[dict], bool], syms, exprs=(), budget: int = 2500) -> Optional[dict]:
        """The smallest sizes (by sum) within the facts where ``bad`` holds: first
        1-9, then the thresholds of the facts and the check, then a fixed schedule.
        Every candidate is checked against every relation on its dimensions and
        the positivity of every dimension before it is returned."""
        originals = sorted(self._relevant(syms), key=lambda s: s.name)
        if not originals:
            try:
                return {} if bad({}) else None
            except (EvalError, ZeroDivisionError):
                return None
        variables = sorted({v for s in originals for v in _free(self.sub(s))}, key=str)
        relations = [r for r in self.relations if r.free_symbols & set(originals)]
        images = [(s, compile_expr(self.sub(s))) for s in originals]

        def attempt(values) -> Optional[dict]:
            venv = dict(zip(variables, values))
            env = {}
            try:
                for s, f in images:
                    v = f(venv)
                    if v.denominator != 1 or v < 1:
                        return None
                    env[s] = int(v)
                if all(r.holds(env) for r in relations) and bad(env):
                    return env
            except (EvalError, ZeroDivisionError):
                return None
            return None

        k = len(variables)
        # a fixed amount of work (relation evaluations), whatever the number of requires
        budget = max(100, min(budget, SEARCH_WORK // (1 + len(relations))))
        small = list(range(1, 10))
        extra = self.candidates(exprs)
        for values in itertools.islice(_by_sum(k, 9), budget):
            found = attempt(values)
            if found is not None:
                return found
        if extra and k:
            pool = small + extra
            tried = 0
            for idx in _by_sum(k, len(pool)):
                if max(idx) <= 9:
                    continue       # tried above
                found = attempt([pool[i - 1] for i in idx])
                if found is not None:
                    return found
                tried += 1
                if tried >= budget:
                    break
        rng = random.Random(1234)
        schedule = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 64, 128, 1000) + tuple(extra[:16])
        for _ in range(budget // 2):
            values = [rng.choice(schedule) for _ in range(k)]
            found = attempt(values)
            if found is not None:
                return found
        return None


# ---- the linear prover (Fourier-Motzkin over atoms) ----------------------------------

def _integer_atom(t) -> bool:
    """Is the term ``t`` (a product without coefficient) integer-valued?"""
    if t == 1 or t.is_Symbol:
        return t == 1 or t.is_integer is True
    if isinstance(t, (floor, ceiling, Min, Max, Mod)):
        return True
    if isinstance(t, Pow):
        return t.exp.is_Integer and t.exp > 0 and _integer_atom(t.base)
    if isinstance(t, Mul):
        return all(_integer_atom(a) for a in t.args)
    return False


def _degree(t) -> int:
    """The total degree of a term (a product without coefficient); 9 for a non-monomial."""
    if t == 1:
        return 0
    m = _monomial(t)
    return sum(m.values()) if m is not None and all(e > 0 for e in m.values()) else 9


def _monomial(t):
    """``{symbol: exponent}`` for a product of positive integer symbols, else None."""
    powers = t.as_powers_dict()
    if all(b.is_Symbol and b.is_positive is True and e.is_Integer for b, e in powers.items()):
        return {b: int(e) for b, e in powers.items()}
    return None


class _System:
    """Linear constraints ``sum(c * atom) + const >= 0`` (``> 0`` when strict)
    over atoms (monomials, floors, ceilings, min, max, mod), each atom with
    the bounds it always satisfies; infeasibility by Fourier-Motzkin with
    integer rounding (cutting planes) where every atom is an integer."""

    def __init__(self):
        self.atoms: dict = {}          # atom -> index
        self.integral: set = set()     # indices of integer-valued atoms
        self.rows: list = []           # (coeffs {index: Fraction}, const Fraction, strict)
        self.ok = True

    def atom(self, t) -> Optional[int]:
        if t in self.atoms:
            return self.atoms[t]
        i = len(self.atoms)
        self.atoms[t] = i
        if _integer_atom(t):
            self.integral.add(i)
        m = _monomial(t)
        if m is not None:
            if all(e > 0 for e in m.values()):
                self.row({i: Fraction(1)}, Fraction(-1))            # a product of sizes is >= 1
                if sum(m.values()) <= 4 and len(self.atoms) < 60:
                    for v in m:                                       # m >= m / v
                        lower = t / v
                        j = None if lower == 1 else self.atom(lower)
                        if j is None:
                            self.row({i: Fraction(1)}, Fraction(-1))
                        else:
                            self.row({i: Fraction(1), j: Fraction(-1)}, Fraction(0))
            else:
                self.row({i: Fraction(1)}, Fraction(0), strict=True)  # a ratio of sizes is > 0
            return i
        if isinstance(t, (floor, ceiling)):
            x = self.linear(t.args[0])
            if x is not None:
                cx, kx = x
                lo = {j: -c for j, c in cx.items()}
                lo[i] = lo.get(i, 0) + 1
                hi = {j: c for j, c in cx.items()}
                hi[i] = hi.get(i, 0) - 1
                if isinstance(t, floor):     # x - 1 < floor(x) <= x
                    self.row(hi, kx)
                    self.row(lo, 1 - kx, strict=True)
                else:                        # x <= ceiling(x) < x + 1
                    self.row(lo, -kx)
                    self.row(hi, kx + 1, strict=True)
        elif isinstance(t, (Min, Max)):
            for a in t.args:
                x = self.linear(a)
                if x is None:
                    continue
                cx, kx = x
                if isinstance(t, Min):       # min <= each argument
                    row = dict(cx)
                    row[i] = row.get(i, 0) - 1
                    self.row(row, kx)
                else:
                    row = {j: -c for j, c in cx.items()}
                    row[i] = row.get(i, 0) + 1
                    self.row(row, -kx)
        elif isinstance(t, Mod):
            self.row({i: Fraction(1)}, Fraction(0))      # 0 <= a % k <= k - 1
            x = self.linear(t.args[1])
            if x is not None:
                cx, kx = x
                row = dict(cx)
                row[i] = row.get(i, 0) - 1
                self.row(row, kx - 1)
        return i

    def linear(self, e):
        """``e`` as ({atom index: coefficient}, constant), or None."""
        terms = _linear_terms(e)
        if terms is None:
            return None
        coeffs = {}
        for t, c in terms[0]:
            i = self.atom(t)
            coeffs[i] = coeffs.get(i, Fraction(0)) + c
        return coeffs, terms[1]

    def add(self, e, negate: bool = False) -> bool:
        """Add ``e >= 0``; with ``negate``, ``e`` is the negated claim ``-s`` and
        is added as ``-s > 0``."""
        x = self.linear(e)
        if x is None:
            return False
        self.row(x[0], x[1], strict=negate)
        return True

    def row(self, coeffs, const, strict=False):
        r = _normalize({j: c for j, c in coeffs.items() if c != 0}, Fraction(const), strict, self.integral)
        if r is not None:
            self.rows.append(r)

    def infeasible(self) -> bool:
        rows = {}
        for r in self.rows:
            rows[_key(r)] = r
        rows = list(rows.values())
        while True:
            for coeffs, const, strict in rows:
                if not coeffs and (const < 0 or (const == 0 and strict)):
                    return True
            pos_n, neg_n = {}, {}
            for r in rows:
                for i, c in r[0].items():
                    if c > 0:
                        pos_n[i] = pos_n.get(i, 0) + 1
                    else:
                        neg_n[i] = neg_n.get(i, 0) + 1
            live = set(pos_n) | set(neg_n)
            if not live:
                return False
            one_sided = [i for i in live if i not in pos_n or i not in neg_n]
            if one_sided:     # an atom bounded on one side only: its rows constrain nothing else
                drop = set(one_sided)
                rows = [r for r in rows if not drop & r[0].keys()]
                continue
            j = min(sorted(live), key=lambda i: pos_n[i] * neg_n[i] - pos_n[i] - neg_n[i])
            keep = [r for r in rows if j not in r[0]]
            pos = [r for r in rows if r[0].get(j, 0) > 0]
            neg = [r for r in rows if r[0].get(j, 0) < 0]
            out = {_key(r): r for r in keep}
            for p in pos:
                for n in neg:
                    a, b = p[0][j], -n[0][j]
                    coeffs = {}
                    for i, c in p[0].items():
                        coeffs[i] = coeffs.get(i, 0) + c * b
                    for i, c in n[0].items():
                        coeffs[i] = coeffs.get(i, 0) + c * a
                    coeffs = {i: c for i, c in coeffs.items() if c != 0 and i != j}
                    r = _normalize(coeffs, p[1] * b + n[1] * a, p[2] or n[2], self.integral)
                    if r is not None:
                        out[_key(r)] = r
                    if len(out) > MAX_CONSTRAINTS:
                        return False
            rows = list(out.values())


def _components(exprs) -> list:
    """``exprs`` grouped into parts that share no symbol."""
    parts = []      # (symbols, members)
    for e in exprs:
        syms, members = set(e.free_symbols), [e]
        for p in [p for p in parts if p[0] & syms]:
            parts.remove(p)
            syms |= p[0]
            members = p[1] + members
        parts.append((syms, members))
    return [m for _, m in parts]


@functools.lru_cache(maxsize=8192)
def _linear_terms(e):
    """``e`` expanded as ((term, coefficient), ...) and a constant, or None."""
    e = _expand(e)
    if e is None:
        return None
    out, const = [], Fraction(0)
    for t, c in e.as_coefficients_dict().items():
        if not c.is_Rational:
            return None
        if t == 1:
            const += _frac(c)
            continue
        if t.is_number:
            return None
        out.append((t, _frac(c)))
    return tuple(out), const


def _key(r):
    return (tuple(sorted(r[0].items())), r[1], r[2])


def _normalize(coeffs, const, strict, integral):
    """Scale a row; round it (a cutting plane) when all its atoms are integers.
    None for a row that always holds."""
    if not coeffs:
        return ({}, const, strict)
    if all(j in integral for j in coeffs):
        scale = functools.reduce(math.lcm, (c.denominator for c in coeffs.values()), 1)
        ints = {j: int(c * scale) for j, c in coeffs.items()}
        g = functools.reduce(math.gcd, (abs(v) for v in ints.values()))
        low = -const * scale      # sum(ints * atoms) >= low (> low when strict)
        low = math.floor(low) + 1 if strict else math.ceil(low)
        return ({j: Fraction(v // g) for j, v in ints.items()}, -Fraction(math.ceil(Fraction(low, g))), False)
    m = max(abs(c) for c in coeffs.values())
    return ({j: c / m for j, c in coeffs.items()}, const / m, strict)


# ---- bounded expansion ---------------------------------------------------------------

def _size(e) -> int:
    """An upper estimate of the number of terms of ``expand(e)`` (capped)."""
    if not isinstance(e, sympy.Basic) or e.is_Atom:
        return 1
    if isinstance(e, Add):
        return min(10 ** 9, sum(_size(a) for a in e.args))
    if isinstance(e, Mul):
        out = 1
        for a in e.args:
            out = min(10 ** 9, out * _size(a))
        return out
    if isinstance(e, Pow) and e.exp.is_Integer and e.exp > 1:
        t = _size(e.base)
        if t == 1:
            return 1
        n = int(e.exp)
        return min(10 ** 9, math.comb(t + n - 1, n)) if n < 1000 else 10 ** 9
    return max(1, max((_size(a) for a in e.args), default=1))


def expand(e):
    """``e`` expanded when that stays small (at most :data:`MAX_TERMS` terms),
    else ``e`` as it is: totals and messages never wait on a huge expansion.

    >>> expand((dim("n") + 1) * 2)
    2*n + 2
    """
    e = as_expr(e)
    return e if _size(e) > MAX_TERMS else sympy.expand(e)


def _expand(e):
    """``expand(e)``, or None when it would be too large."""
    e = as_expr(e)
    if _size(e) > MAX_TERMS:
        return None
    return sympy.expand(e)


def _lower_bound(e) -> Optional[Fraction]:
    """A lower bound of ``e`` over sizes >= 1 read off its structure (sums,
    products and powers of non-negative parts), without expanding; or None."""
    if e.is_Integer or e.is_Rational:
        return _frac(e)
    if e.is_Symbol:
        return Fraction(1) if e.is_positive is True else None
    if isinstance(e, Add):
        parts = [_lower_bound(a) for a in e.args]
        return None if any(p is None for p in parts) else sum(parts, Fraction(0))
    if isinstance(e, Mul):
        parts = [_lower_bound(a) for a in e.args]
        if any(p is None or p < 0 for p in parts):
            return None
        out = Fraction(1)
        for p in parts:
            out *= p
        return out
    if isinstance(e, Pow) and e.exp.is_Integer and e.exp > 0:
        b = _lower_bound(e.base)
        if b is None or b < 0:
            return None
        return b ** int(e.exp) if int(e.exp) * max(1, b.numerator.bit_length()) < 4096 else Fraction(1)
    return None


def _positive_shape(e) -> bool:
    """Is ``e`` surely >= 1 from its shape alone (a product of sizes, ...)?"""
    e = as_expr(e)
    if e.is_positive is True and e.is_integer is True:
        return True
    low = _lower_bound(e)
    if low is not None and low >= 1:
        return True
    p = _expand(e - 1)
    return p is not None and p.is_polynomial() and _shift_nonneg(p)


def _display(env: Optional[dict], syms) -> Optional[dict]:
    """The sizes a message shows: those of the check itself (all if none)."""
    if env is None:
        return None
    shown = {s: v for s, v in env.items() if s in syms} or env
    # a loop's pass counts from 1: the message shows the spec's index, from 0
    return {s.name: v - 1 if isinstance(s, Pass) else v for s, v in sorted(shown.items(), key=lambda kv: kv[0].name)}


def _by_sum(k: int, top: int):
    """Tuples of ``k`` values in 1..top, in order of increasing sum."""
    if k == 0:
        yield ()
        return
    for total in range(k, k * top + 1):
        yield from _compositions(k, total, top)


def _compositions(k, total, top):
    if k == 1:
        if 1 <= total <= top:
            yield (total,)
        return
    for first in range(1, min(top, total - k + 1) + 1):
        for rest in _compositions(k - 1, total - first, top):
            yield (first,) + rest


def _denominators_positive(e) -> bool:
    """Are all denominators of ``e`` surely positive (so cancelling is exact)?"""
    return all(p.base.is_positive is True for p in sympy.preorder_traversal(e)
               if isinstance(p, Pow) and p.exp.is_negative)


def _floor_lower_bound(s):
    """A polynomial ``P`` with ``P >= 0  =>  s >= 0``, for an integer-valued
    ``s`` whose floors and ceilings appear with constant coefficients, or None.

    Each ``floor(p/d)`` / ``ceiling(p/d)`` (``p`` an integer polynomial, ``d`` a
    positive integer constant or a product of dimensions) is replaced by the
    bound that can only make ``s`` smaller: with a positive coefficient
    ``floor(p/d) >= (p - d + 1)/d`` and ``ceiling(p/d) >= p/d``; with a negative
    one ``floor(p/d) <= p/d`` and ``ceiling(p/d) <= (p + d - 1)/d``. That gives
    ``L <= s``, and as ``s`` is an integer, ``L > -1`` suffices: writing
    ``L + 1 = N / D`` with ``D > 0``, ``N`` times the common denominator of its
    coefficients, minus 1, must be ``>= 0``."""
    repl = {}
    expanded = sympy.expand(s)
    for atom in s.atoms(floor, ceiling):
        coeff = expanded.coeff(atom)
        if not (coeff.is_number and coeff != 0):
            return None
        num, den = sympy.fraction(sympy.together(atom.args[0]))
        if not (den.is_positive is True and den.is_polynomial() and num.is_polynomial()
                and _int_coeffs(sympy.expand(num)) and _int_coeffs(sympy.expand(den))):
            return None
        low = (coeff > 0) == isinstance(atom, floor)     # floor(+) and ceiling(-) need the slack
        if isinstance(atom, floor):
            repl[atom] = (num - den + 1) / den if low else num / den
        else:
            repl[atom] = num / den if not low else (num + den - 1) / den
    lower = sympy.together(sympy.expand(s.xreplace(repl) + 1))
    if lower.has(floor, ceiling):
        return None
    num, den = sympy.fraction(lower)
    num = sympy.expand(num)
    if den.is_positive is not True or not num.is_polynomial():
        return None
    syms = sorted(num.free_symbols, key=str)
    try:
        coeffs = sympy.Poly(num, *syms).coeffs() if syms else [num]
    except sympy.PolynomialError:
        return None
    scale = functools.reduce(sympy.ilcm, [sympy.Rational(c).q for c in coeffs], 1)
    return sympy.expand(scale * num - 1)


def _int_coeffs(p) -> bool:
    try:
        return all(c.is_Integer for c in sympy.Poly(p, *sorted(p.free_symbols, key=str)).coeffs()) \
            if p.free_symbols else p.is_Integer
    except sympy.PolynomialError:
        return False


def _shift_nonneg(p) -> bool:
    """Sufficient test for ``p >= 0`` over integers >= 1: every coefficient of
    ``p(x + 1)`` is non-negative."""
    if p.is_number:
        return bool(p >= 0)
    if not p.is_polynomial():
        return False
    syms = sorted(p.free_symbols, key=str)
    shifted = sympy.expand(p.xreplace({s: s + 1 for s in syms}))
    try:
        return all(c >= 0 for c in sympy.Poly(shifted, *syms).coeffs())
    except sympy.PolynomialError:
        return False
