"""Hypothesis strategies over a spec's sizes, for property tests of your own modules.

>>> from hypothesis import given, settings
>>> import os
>>> spec = os.path.join(os.path.dirname(__file__), os.pardir, "specs", "gpt2.shape")
>>> seen = []
>>> @settings(max_examples=5, database=None)
... @given(bindings(spec, binds={"n_layers": 1}))
... def test(sizes):
...     assert sizes["d_model"] % sizes["num_heads"] == 0 and sizes["seq_len"] <= sizes["n_positions"]
...     seen.append(sizes["n_layers"])
>>> test()
>>> set(seen)
{1}
"""
from __future__ import annotations

from typing import Optional


def _model(spec, model: Optional[str]):
    """The analysed model (:class:`shapecheck.api.Model`) of ``spec`` (a path or a checked Result)."""
    from .conform import UsageError, checked_model

    res, name = checked_model(spec, model)
    if res.errors:
        first = res.errors[0]
        raise UsageError(f"the spec has errors: {first.span}: {first.code} {first.message}")
    return res.models[name]


def bindings(spec, model: Optional[str] = None, binds: Optional[dict] = None, max_memory: int = 2 ** 30):
    """A strategy of size assignments ``{dimension: int}`` for ``model`` of ``spec``,
    drawn by the chooser of ``verify`` and ``conform``: every `require` holds,
    the free sizes are small and pairwise distinct where possible, ``binds`` are
    kept, loop counts stay small. The spec is checked once, when the strategy
    is built (:class:`shapecheck.conform.UsageError` if it has errors)."""
    from hypothesis import strategies as st

    from .conform import _chooser

    m = _model(spec, model)
    choose, BindingError = _chooser()
    fixed = dict(binds or {})
    choose(m, fixed, 0, use_examples=False, max_memory=max_memory)   # fail early: bad binds, no sizes

    def draw(seed: int):
        try:
            return dict(choose(m, fixed, seed, use_examples=False, max_memory=max_memory).values)
        except BindingError:
            return None
    return st.integers(min_value=0, max_value=2 ** 32 - 1).map(draw).filter(lambda v: v is not None)
