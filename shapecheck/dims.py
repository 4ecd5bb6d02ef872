"""Symbolic dimensions: sympy expressions built from the IR, and the prover.

Every check is three-valued (:data:`PROVED`, :data:`REFUTED`, :data:`UNKNOWN`)
relative to a :class:`Facts` object, the ``require``s in force:

* divisibility ``a % b == 0`` (``a`` a dimension) becomes the substitution
  ``a -> b*q`` with a fresh positive integer ``q``, so ``a / b`` is the
  polynomial ``q``; an equality ``a == e`` becomes ``a -> e``;
* inequalities are kept as ``f >= 0`` in the substituted variables;
* an equality is proved when the difference expands to 0; an inequality
  ``e >= 0`` when ``e`` (or ``e - f`` for a fact ``f``) has only non-negative
  coefficients after shifting every variable by one (variables are >= 1);
* otherwise a bounded, deterministic search for the smallest sizes within the
  requires that break the check gives a counterexample (refuted), and failing
  that the check is unknown.

Nothing here parses text: symbols are created by name from the parse tree.
"""
from __future__ import annotations

import functools
import itertools
import math
import random
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

    def _print_Mul(self, e):
        return super()._print_Mul(e).replace("/", " / ")

    def _print_Dummy(self, e):
        return e.name


_PRINTER = _Printer()


@functools.lru_cache(maxsize=8192)
def show(e) -> str:
    """Print a dimension expression in spec syntax.

    >>> show(dim("d") / dim("h")), show(Mod(dim("a"), dim("b")))
    ('d / h', 'a % b')
    """
    if isinstance(e, int):
        return str(e)
    return _PRINTER.doprint(e)


def show_shape(shape) -> str:
    return "[" + ", ".join(show(d) if not isinstance(d, str) else d for d in shape) + "]"


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
class Result:
    status: str
    counterexample: Optional[dict] = None  # {name: int}: the sizes a message shows
    env: Optional[dict] = None             # {symbol: int}: every size involved (for evaluation)

    @property
    def proved(self):
        return self.status == PROVED

    def fails_at(self) -> str:
        if not self.counterexample:
            return ""
        return "fails at " + ", ".join(f"{k}={v}" for k, v in self.counterexample.items())


_PROVED = Result(PROVED)
_UNKNOWN = Result(UNKNOWN)


def _is_mod_zero(rel: Relation) -> bool:
    return rel.op == "==" and isinstance(rel.left, Mod) and rel.right == 0


@dataclass
class Facts:
    """The ``require``s in force, prepared for proofs."""
    relations: tuple = ()
    subs: dict = field(default_factory=dict)
    ineqs: list = field(default_factory=list)
    divs: list = field(default_factory=list)
    eqs: list = field(default_factory=list)     # equalities that are not a substitution
    fresh: dict = field(default_factory=dict)   # q symbol -> (a, b)
    _cache: dict = field(default_factory=dict)

    @classmethod
    def build(cls, relations) -> "Facts":
        f = cls(tuple(relations))
        bound = []     # values substituted for a dimension: each must stay >= 1
        for r in f.relations:
            if _is_mod_zero(r):
                a, b = (f.sub(x) for x in r.left.args)
                # a -> b*q (q >= 1) only when b is surely positive: otherwise it would
                # silently drop the sizes where b <= 0
                if a.is_Symbol and a not in f.subs and a not in _free(b) and b.is_positive is True:
                    q = sympy.Dummy(f"q{len(f.fresh)}", integer=True, positive=True)
                    f.fresh[q] = (r.left.args[0], r.left.args[1])
                    f._bind(a, b * q)
                else:
                    f.divs.append((r.left.args[0], r.left.args[1]))
            elif r.op == "==":
                left, right = f.sub(r.left), f.sub(r.right)
                if left.is_Symbol and left not in _free(right) and left not in f.subs:
                    f._bind(left, right)
                    bound.append(right)
                elif right.is_Symbol and right not in _free(left) and right not in f.subs:
                    f._bind(right, left)
                    bound.append(left)
                else:
                    f.eqs.append(r)
        for value in bound:   # `require x == y - 1` keeps x >= 1: y - 1 >= 1
            if value.is_positive is not True:
                e = sympy.expand(f.sub(value) - 1)
                if e not in f.ineqs:
                    f.ineqs.append(e)
        for r in f.relations:
            if r.op in ("<", "<=", ">", ">="):
                lo, hi = (r.left, r.right) if r.op in ("<", "<=") else (r.right, r.left)
                e = sympy.expand(f.sub(hi) - f.sub(lo))
                if r.op in ("<", ">"):
                    e = e - 1
                if e not in f.ineqs:    # `n + 1 <= m + 1` and `n <= m` are one fact
                    f.ineqs.append(e)
        return f

    def _bind(self, sym, value):
        self.subs = {k: v.xreplace({sym: value}) for k, v in self.subs.items()}
        self.subs[sym] = value

    def sub(self, e):
        if not isinstance(e, sympy.Basic):
            e = Integer(e)
        return subs(e, self.subs)

    # -- public checks ---------------------------------------------------------
    def equal(self, a, b) -> Result:
        """Is ``a == b`` for every size the facts allow?"""
        key = ("eq", a, b)
        if key not in self._cache:
            self._cache[key] = self._equal(a, b)
        return self._cache[key]

    def nonneg(self, e) -> Result:
        """Is ``e >= 0`` for every size the facts allow?"""
        key = ("ge", e)
        if key not in self._cache:
            self._cache[key] = self._nonneg(e)
        return self._cache[key]

    def le(self, a, b) -> Result:
        return self.nonneg(sympy.expand(b - a) if isinstance(a, sympy.Basic) or isinstance(b, sympy.Basic) else Integer(b - a))

    def lt(self, a, b) -> Result:
        return self.nonneg(b - a - 1)

    def positive(self, e) -> Result:
        return self.nonneg(e - 1)

    def integer(self, e) -> Result:
        """Is ``e`` an integer for every size the facts allow?"""
        key = ("int", e)
        if key not in self._cache:
            self._cache[key] = self._integer(e)
        return self._cache[key]

    def holds(self, rel: Relation) -> Result:
        """Does the relation follow from the facts?"""
        if _is_mod_zero(rel):
            a, b = rel.left.args
            return self.integer(a / b)
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
        # !=
        d = self.sub(rel.left - rel.right)
        d = sympy.expand(d)
        if d.is_number:
            return _PROVED if d != 0 else Result(REFUTED, {}, {})
        return self._refute_or_unknown(lambda env: evaluate(rel.left, env) != evaluate(rel.right, env),
                                       _free(rel.left) | _free(rel.right))

    # -- implementation ----------------------------------------------------------
    def _equal(self, a, b) -> Result:
        d = sympy.expand(self.sub(a) - self.sub(b))
        if d == 0:
            return _PROVED
        if d.is_number:
            env = self._example(_free(a) | _free(b))
            return Result(REFUTED, _display(env, _free(a) | _free(b)), env)
        if any(p.is_Pow and p.exp.is_negative for p in sympy.preorder_traversal(d)):
            if _denominators_positive(d) and sympy.cancel(d) == 0:
                return _PROVED
        if d.has(Min, Max) and self._cases_nonneg(a - b) and self._cases_nonneg(b - a):
            return _PROVED
        return self._refute_or_unknown(lambda env: evaluate(a, env) == evaluate(b, env),
                                       _free(a) | _free(b))

    def _nonneg(self, e) -> Result:
        s = sympy.expand(self.sub(e))
        if s.is_number:
            if s >= 0:
                return _PROVED
            env = self._example(_free(e))
            return Result(REFUTED, _display(env, _free(e)), env)
        if s.has(Min, Max) and self._cases_nonneg(e):
            return _PROVED
        if _shift_nonneg(s):
            return _PROVED
        # facts that share a dimension with the claim (a few dozen at most), alone and in pairs
        near = [f for f in self.ineqs if f.free_symbols & s.free_symbols][:MAX_FACTS_TRIED]
        for f in near:
            if _shift_nonneg(sympy.expand(s - f)):
                return _PROVED
        for f, g in itertools.combinations(near, 2):
            if _shift_nonneg(sympy.expand(s - f - g)):
                return _PROVED
        if s.has(floor, ceiling):
            lower = _floor_lower_bound(s)
            if lower is not None and self._poly_nonneg(lower):
                return _PROVED
        return self._refute_or_unknown(lambda env: evaluate(e, env) >= 0, _free(e))

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
        """True when the facts certainly admit no sizes (``n < m, m < n``).
        With ``new``, only pairs involving the last ``new`` inequalities are
        tried (the others were found consistent before)."""
        key = ("contradiction", new)
        if key not in self._cache:
            fresh = self.ineqs if new is None else self.ineqs[len(self.ineqs) - new:]
            bad = any((f.is_number and f < 0) or (not f.is_number and _shift_nonneg(sympy.expand(-f - 1)))
                      for f in fresh)
            for r in self.eqs:    # an equality the substitutions turned into `3 == 2`
                d = sympy.expand(self.sub(r.left) - self.sub(r.right))
                bad = bad or (d.is_number and d != 0)
            for g in fresh:
                for f in self.ineqs:
                    if bad:
                        break
                    if f is g or not (f.free_symbols & g.free_symbols):
                        continue
                    t = sympy.expand(f + g)
                    bad = (t.is_number and t < 0) or (not t.is_number and _shift_nonneg(sympy.expand(-t - 1)))
            self._cache[key] = bad
        return self._cache[key]

    def _poly_nonneg(self, p) -> bool:
        p = sympy.expand(p)
        if _shift_nonneg(p):
            return True
        return any(_shift_nonneg(sympy.expand(p - f)) for f in self.ineqs)

    def _integer(self, e) -> Result:
        s = self.sub(e)
        if s.is_Integer:
            return _PROVED
        s = sympy.cancel(sympy.expand(s)) if s.has(Pow) and _denominators_positive(s) else sympy.expand(s)
        if s.is_polynomial() and _int_coeffs(s):
            return _PROVED
        for a, b in self.divs:
            if sympy.expand(s - self.sub(a) / self.sub(b)) == 0:
                return _PROVED
        return self._refute_or_unknown(lambda env: evaluate(e, env).denominator == 1, _free(e))

    def _refute_or_unknown(self, ok: Callable[[dict], bool], syms) -> Result:
        env = self._search(lambda env: not ok(env), syms)
        return Result(REFUTED, _display(env, syms), env) if env is not None else _UNKNOWN

    def _example(self, syms) -> dict:
        """Any allowed sizes (for checks that fail everywhere)."""
        return self._search(lambda env: True, syms) or {}

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

    def find(self, bad: Callable[[dict], bool], syms) -> Optional[Result]:
        """A refutation at sizes within the facts where ``bad(env)`` holds
        (smallest first), or None."""
        env = self._search(bad, set(syms))
        return None if env is None else Result(REFUTED, _display(env, syms), env)

    def _search(self, bad: Callable[[dict], bool], syms, budget: int = 2500) -> Optional[dict]:
        """The smallest sizes (by sum) within the facts where ``bad`` holds."""
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
        tried = 0
        for values in _by_sum(k, 9):
            found = attempt(values)
            if found is not None:
                return found
            tried += 1
            if tried >= budget:
                break
        rng = random.Random(1234)
        for _ in range(budget // 2):
            values = [rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 64, 128, 1000)) for _ in range(k)]
            found = attempt(values)
            if found is not None:
                return found
        return None


def _display(env: Optional[dict], syms) -> Optional[dict]:
    """The sizes a message shows: those of the check itself (all if none)."""
    if env is None:
        return None
    shown = {s: v for s, v in env.items() if s in syms} or env
    return {s.name: v for s, v in sorted(shown.items(), key=lambda kv: kv[0].name)}


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
