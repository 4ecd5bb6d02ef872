"""The semantics-free skeleton both interpreters share.

Nothing here decides a shape or a size: it orders, dispatches and binds. The
symbolic interpreter (:mod:`shapecheck.infer`) and the numeric one
(:mod:`shapecheck.execute`) keep their own semantics (dimension arithmetic,
solving, `repeat`, preconditions, rule vs kernel) on top of it. It imports
neither sympy nor NumPy.
"""
from __future__ import annotations

from . import ir


def let_order(lets) -> tuple:
    """``lets`` (``ir.Let``, one per name) in dependency order, whatever their
    textual order, and the cycles found (each a list of lets, the first one
    where it is reported). Members of a cycle are left out of the order.

    >>> from .span import Span
    >>> sp = Span("f", 1, 1, 1, 2)
    >>> def let(n, *deps):
    ...     v = ir.Name(deps[0], sp) if deps else ir.Number(1, "1", sp)
    ...     for d in deps[1:]:
    ...         v = ir.BinOp("+", v, ir.Name(d, sp), sp)
    ...     return ir.Let(n, v, sp, sp)
    >>> order, cycles = let_order([let("half", "dh"), let("dh", "d"), let("a", "b"), let("b", "a")])
    >>> [s.name for s in order], [[s.name for s in c] for c in cycles]
    (['dh', 'half'], [['a', 'b']])
    """
    by_name = {st.name: st for st in lets}
    order, cycles, state = [], [], {}      # state: 1 on the current path, 2 done
    in_cycle: set = set()

    def visit(st, path):
        state[st.name] = 1
        for n in dict.fromkeys(ir.names_in(st.value)):
            dep = by_name.get(n)
            if dep is None or state.get(n) == 2:
                continue
            if state.get(n) == 1:
                cycle = path[[p.name for p in path].index(n):]
                cycles.append(cycle)
                in_cycle.update(p.name for p in cycle)
                continue
            visit(dep, path + [dep])
        state[st.name] = 2
        if st.name not in in_cycle:
            order.append(st)

    for st in lets:
        if st.name not in state:
            visit(st, [st])
    # a let that depends on a cycle member was ordered before the cycle was known: keep it
    # (its evaluation finds the poisoned member); drop the members themselves
    return [st for st in order if st.name not in in_cycle], cycles
