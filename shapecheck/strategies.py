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
    from .api import Result, check_path
    from .conform import UsageError

    res = spec if isinstance(spec, Result) else check_path(str(spec))
    if res.module is None or res.errors:
        first = next((f"{d.span}: {d.code} {d.message}" for d in res.errors), f"cannot read {res.path}")
        raise UsageError(f"the spec has errors: {first}")
    if model is None:
        if len(res.models) != 1:
            raise UsageError(f"{res.path} has {len(res.models) or 'no'} models; name one "
                             f"({', '.join(res.models) or 'none'})")
        model = next(iter(res.models))
    if model not in res.models:
        raise UsageError(f"{res.path} has no model `{model}` (models: {', '.join(res.models) or 'none'})")
    return res.models[model]


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
