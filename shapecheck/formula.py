"""Formulas a person reads: a size or cost expression (a sympy polynomial in
the dimensions, possibly with ``floor``, ``%`` or ``/``) grouped the way one
writes it by hand, printed in spec syntax, as LaTeX and as MathML.

The grouping (:func:`arrange`):

1. the expression is expanded into terms ``coefficient * monomial``;
2. terms are collected by the *repeat counts* first (``n_layers*(...)``),
   then by powers of the dimension that groups the most terms
   (``d_model*(vocab_size + n_positions + 2)``), recursively; a factor is
   only pulled out of two or more terms with the *same* power, so
   ``12*d_model**2 + 13*d_model`` stays as written;
3. within a sum, terms come by degree (highest first), then by the
   declaration order of their dimensions.

The three printers share that grouping: :func:`plain` (spec syntax: ``*``,
``**``, ``/``, ``%``, ``floor(...)``), :func:`latex` and :func:`mathml`
(sympy's printers over an unevaluated expression that keeps the order).

>>> from shapecheck.dims import dim
>>> L, d, V, P = dim("n_layers"), dim("d_model"), dim("vocab_size"), dim("n_positions")
>>> e = 12*L*d**2 + 13*L*d + V*d + P*d + 2*d
>>> plain(e, order=["vocab_size", "n_positions", "d_model", "n_layers"], repeats=["n_layers"])
'n_layers*(12*d_model**2 + 13*d_model) + d_model*(vocab_size + n_positions + 2)'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sympy
from sympy import Add, Integer, Mul, Pow, Rational

from .dims import as_expr, show


@dataclass(frozen=True)
class Term:
    """``coeff * prod(atom**power)``; atoms are symbols or opaque functions."""
    coeff: object                 # a sympy Rational
    powers: tuple                 # ((atom, int power), ...) sorted by the atom order

    def degree(self) -> int:
        return sum(p for _a, p in self.powers if p > 0)


@dataclass(frozen=True)
class Group:
    """``factor * (sum of items)``; ``factor`` is a Term with coefficient 1."""
    factor: Term
    items: tuple                  # Term | Group, already ordered

    def degree(self) -> int:
        return self.factor.degree() + max((i.degree() for i in self.items), default=0)


def _atom_key(order: dict):
    def key(atom):
        name = atom.name if isinstance(atom, sympy.Symbol) else show(atom)
        return (0 if isinstance(atom, sympy.Symbol) else 1, order.get(name, len(order)), name)
    return key


def _terms(expr, key) -> list:
    expr = sympy.expand(as_expr(expr))
    out = []
    for t in Add.make_args(expr):
        coeff, rest = t.as_coeff_Mul()
        if rest == 1 and not t.is_number:
            rest = t
        powers: dict = {}
        if rest != 1:
            for f in Mul.make_args(rest):
                base, exp = f.as_base_exp()
                if isinstance(exp, sympy.Integer):
                    powers[base] = powers.get(base, 0) + int(exp)
                else:
                    powers[f] = powers.get(f, 0) + 1
        out.append(Term(Rational(coeff), tuple(sorted(((a, p) for a, p in powers.items() if p), key=lambda ap: key(ap[0])))))
    return out


def _sort_key(item, key):
    powers = item.factor.powers if isinstance(item, Group) else item.powers
    first = [key(a) for a, p in powers if p > 0]
    if isinstance(item, Group):
        first = first + [(9, 0, "")]
    return (-item.degree(), first)


def _without(term: Term, atom, power: int) -> Term:
    out = []
    for a, p in term.powers:
        if a == atom:
            p -= power
        if p:
            out.append((a, p))
    return Term(term.coeff, tuple(out))


def _arrange(terms: list, repeats: list, key) -> tuple:
    """Terms and Groups in print order."""
    if len(terms) <= 1:
        return tuple(terms)
    # the grouping atom: a repeat count first, then the atom whose most common
    # power is shared by the most terms (ties: declaration order)
    best = None
    for atom_name_first, pool in ((True, repeats), (False, None)):
        counts: dict = {}
        for t in terms:
            for a, p in t.powers:
                if p > 0 and (pool is None or (isinstance(a, sympy.Symbol) and a.name in pool)):
                    counts[(a, p)] = counts.get((a, p), 0) + 1
        cands = [(n, ap) for ap, n in counts.items() if n >= 2]
        if cands:
            if atom_name_first:
                cands.sort(key=lambda c: (pool.index(c[1][0].name), -c[0], c[1][1]))
            else:
                cands.sort(key=lambda c: (-c[0], key(c[1][0]), c[1][1]))
            best = cands[0][1]
            break
    if best is None:
        return tuple(sorted(terms, key=lambda t: _sort_key(t, key)))
    atom, power = best
    inside = [t for t in terms if dict(t.powers).get(atom) == power]
    outside = [t for t in terms if dict(t.powers).get(atom) != power]
    factor = [(atom, power)]
    if not outside:
        # every term shares it: pull out every atom they all share with one power
        common = None
        for t in inside:
            ps = set(t.powers)
            common = ps if common is None else common & ps
        factor = sorted((ap for ap in common if ap[1] > 0), key=lambda ap: key(ap[0]))
    for a, p in factor:
        inside = [_without(t, a, p) for t in inside]
    items = _arrange(inside, repeats, key)
    if len(items) == 1 and isinstance(items[0], Group):     # a*(b*(...)) reads a*b*(...)
        factor = factor + list(items[0].factor.powers)
        items = items[0].items
    group = Group(Term(Integer(1), tuple(factor)), items)
    if not outside:
        return (group,)
    items = [group] + list(_arrange(outside, repeats, key))
    return tuple(sorted(items, key=lambda i: _sort_key(i, key)))


def arrange(expr, order=(), repeats=()) -> tuple:
    """The items (:class:`Term` and :class:`Group`) of ``expr`` in print order.
    ``order``: dimension names in declaration order; ``repeats``: the names
    of repeat counts, collected first."""
    key = _atom_key({n: i for i, n in enumerate(order)})
    return _arrange(_terms(expr, key), [r for r in repeats], key)


# ---- spec syntax ------------------------------------------------------------------------------


def _atom_text(atom) -> str:
    if isinstance(atom, sympy.Symbol):
        return atom.name
    text = show(atom)
    return text if atom.is_Function or atom.is_Symbol else f"({text})"


def _power_text(atom, p: int) -> str:
    return _atom_text(atom) if p == 1 else f"{_atom_text(atom)}**{p}"


def _term_text(t: Term) -> tuple:
    """(sign, text) of a term."""
    c = t.coeff
    sign = -1 if c < 0 else 1
    c = abs(c)
    num = [_power_text(a, p) for a, p in t.powers if p > 0]
    den = [_power_text(a, -p) for a, p in t.powers if p < 0]
    if c.p != 1 or not num:
        num.insert(0, str(c.p))
    if c.q != 1:
        den.insert(0, str(c.q))
    text = "*".join(num)
    if den:
        text += " / " + (den[0] if len(den) == 1 else "(" + "*".join(den) + ")")
    return sign, text


def _items_text(items) -> str:
    out = []
    for i, it in enumerate(items):
        if isinstance(it, Group):
            sign, text = 1, _term_text(it.factor)[1] + "*(" + _items_text(it.items) + ")"
        else:
            sign, text = _term_text(it)
        if i == 0:
            out.append(("-" if sign < 0 else "") + text)
        else:
            out.append((" - " if sign < 0 else " + ") + text)
    return "".join(out) or "0"


def plain(expr, order=(), repeats=()) -> str:
    """``expr`` grouped (:func:`arrange`) and printed in spec syntax."""
    return _items_text(arrange(expr, order, repeats))


# ---- sympy printers (LaTeX, MathML) over an order-keeping expression ---------------------------


def _term_expr(t: Term):
    factors = []
    if t.coeff != 1 or not t.powers:
        factors.append(t.coeff)
    for a, p in t.powers:
        factors.append(a if p == 1 else Pow(a, p, evaluate=False))
    return factors[0] if len(factors) == 1 else Mul(*factors, evaluate=False)


def _items_expr(items):
    parts = []
    for it in items:
        if isinstance(it, Group):
            inner = _items_expr(it.items)
            f = _term_expr(it.factor)
            parts.append(Mul(*(list(Mul.make_args(f)) if isinstance(f, Mul) else [f]), inner, evaluate=False))
        else:
            parts.append(_term_expr(it))
    if not parts:
        return Integer(0)
    return parts[0] if len(parts) == 1 else Add(*parts, evaluate=False)


def unevaluated(expr, order=(), repeats=()):
    """A sympy expression equal to ``expr`` whose printed order follows :func:`arrange`."""
    return _items_expr(arrange(expr, order, repeats))


def latex(expr, order=(), repeats=()) -> str:
    """LaTeX (sympy's printer) of the grouped ``expr``, for ``$...$``."""
    return sympy.latex(unevaluated(expr, order, repeats), order="none")


def mathml(expr, order=(), repeats=()) -> str:
    """Presentation MathML (sympy's printer) of the grouped ``expr``, wrapped in ``<math>``."""
    from sympy.printing.mathml import mathml as _mathml

    body = _mathml(unevaluated(expr, order, repeats), printer="presentation", order="none")
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML">{body}</math>'


def mathml_terms(expr, order=(), repeats=()) -> list:
    """The grouped ``expr`` as one ``<math>`` element per top-level term (the
    second and later starting with their ``+`` or ``-``), so that a browser
    can wrap a long sum between terms (MathML itself does not break lines)."""
    from sympy.printing.mathml import mathml as _mathml

    out = []
    for i, item in enumerate(arrange(expr, order, repeats)):
        sign = "+"
        if isinstance(item, Term) and item.coeff < 0:
            item, sign = Term(-item.coeff, item.powers), "-"
        body = _mathml(_items_expr((item,)), printer="presentation", order="none")
        lead = "" if i == 0 and sign == "+" else f"<mo>{sign}</mo>"
        out.append(f'<math xmlns="http://www.w3.org/1998/Math/MathML"><mrow>{lead}{body}</mrow></math>')
    return out


def check_equal(expr, order=(), repeats=()) -> Optional[bool]:
    """Does the grouped form equal ``expr``? (A self-check for tests.)"""
    return sympy.expand(unevaluated(expr, order, repeats).doit() - as_expr(expr)) == 0
