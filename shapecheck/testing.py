"""A pytest helper: one line checks your PyTorch module against its spec.

    from shapecheck.testing import assert_conforms

    def test_gpt2_conforms():
        assert_conforms("specs/gpt2.shape", build_gpt2, samples=3,
                        mapping={"causal_self_attention": "transformer.h.*.attn"})

It raises ``AssertionError`` with the findings (``path:line:col: SC8xx ...``
with the spec line) when the module disagrees with the spec at some sample.
"""
from __future__ import annotations

from typing import Optional


def assert_conforms(spec: str, factory, model: Optional[str] = None, samples: int = 3,
                    binds: Optional[dict] = None, mapping: Optional[dict] = None, output: Optional[str] = None,
                    seed: int = 0):
    """Check the module built by ``factory`` (a callable taking the spec's dimension
    values as keyword arguments, or ``"MODULE:FUNC"``) against ``model`` of ``spec``
    at ``samples`` distinct sizes; raise ``AssertionError`` listing every finding.
    Returns the :class:`shapecheck.conform.ConformReport` when it conforms."""
    from .conform import UsageError, conform

    try:
        report = conform(spec, factory, model=model, binds=binds, samples=samples, seed=seed, output=output,
                         mapping=mapping)
    except UsageError as e:
        raise AssertionError(f"shapecheck conform: {e}") from None
    if not report.ok:
        raise AssertionError("the module does not conform to its spec:\n" + report.text())
    return report
