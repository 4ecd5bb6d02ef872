"""`repeat i in n` with carried values that grow: a property test over generated
loops. Each body grows its carried tensor by a mix of steps; the analysis must
flag SC404 exactly when some step does not add the same amount every pass (it
depends on the pass, or doubles the tensor), and otherwise the NumPy run must
agree with the inferred shapes, parameter count and FLOPs at every pass
(``verify``), and the final width must be the closed form computed here from
the steps themselves."""
from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shapecheck.api import check_source
from shapecheck.verify import verify

#: (statement template, added width per pass as a function of (c0, g, i), affine?)
STEPS = {
    "fixed": ("x = concat([x, linear(x, g)], axis=1)", lambda c0, g, i: g, True),
    "literal": ("x = concat([x, inp[:, :2]], axis=1)", lambda c0, g, i: 2, True),
    "same": ("x = relu(x)", lambda c0, g, i: 0, True),
    "weight": ("param w{k}: [i + 1, g]", lambda c0, g, i: 0, True),
    "by_pass": ("x = concat([x, inp[:, :i + 1]], axis=1)", lambda c0, g, i: i + 1, False),
}


def spec(steps, carried_dim: bool) -> str:
    body = "\n".join("        " + STEPS[s][0].format(k=k) for k, s in enumerate(steps))
    if carried_dim:
        body += "\n        width = width + g"
    return f"""dim batch = 2, c0 = 6, g = 3, n = 4
require n <= c0, c0 >= 2
model m {{
    input inp: [batch, c0]
    x = inp
    width = c0
    repeat i in n {{
{body}
    }}
    z = x
    y = linear(z, width)
    return y
}}
"""


def width(steps, c0, g, n) -> int:
    w = c0
    for i in range(n):
        for s in steps:
            w += STEPS[s][1](c0, g, i)
    return w


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=4), st.booleans())
def test_growth_is_proved_or_flagged(steps, carried_dim):
    text = spec(steps, carried_dim)
    res = check_source(text, "gen.shape")
    affine = all(STEPS[s][2] for s in steps)
    codes = [d.code for d in res.diagnostics]
    if not affine:
        assert "SC404" in codes, (text, codes)
        return
    assert codes == [], (text, [(d.code, d.message) for d in res.diagnostics])
    m = res.models["m"]
    z = [nd for nd in m.nodes if nd.name == "z"][0]
    y = [nd for nd in m.nodes if nd.name == "y"][0]
    for c0, g, n in ((6, 3, 4), (5, 1, 2), (9, 7, 9)):
        env = {m.dims["batch"]: 2, m.dims["c0"]: c0, m.dims["g"]: g, m.dims["n"]: n}
        assert int(z.shape[1].subs(env)) == width(steps, c0, g, n), (text, z.shape)
        assert int(y.shape[1].subs(env)) == (c0 + n * g if carried_dim else c0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gen.shape")
        with open(path, "w") as f:
            f.write(text)
        report = verify(path, samples=2, seed=3)
    assert report.diagnostics == [], [d.message for d in report.diagnostics]
    assert all(r.params_numeric == r.params_symbolic for r in report.runs)


def test_final_width_is_the_closed_form():
    steps = ["fixed", "literal", "fixed"]
    res = check_source(spec(steps, False), "gen.shape")
    assert res.diagnostics == []
    m = res.models["m"]
    z = [nd for nd in m.nodes if nd.name == "z"][0]
    for c0, g, n in ((6, 3, 4), (5, 1, 2), (9, 7, 9)):
        env = {m.dims["c0"]: c0, m.dims["g"]: g, m.dims["n"]: n}
        assert int(z.shape[1].subs(env)) == width(steps, c0, g, n) == c0 + n * (2 * g + 2)


def test_weights_summed_over_passes():
    # `param w0: [i + 1, g]` in `repeat i in n`: g * (1 + 2 + ... + n) weights
    res = check_source(spec(["weight"], False), "gen.shape")
    assert res.diagnostics == []
    m = res.models["m"]
    for c0, g, n in ((6, 3, 4), (8, 2, 7)):
        env = {m.dims["c0"]: c0, m.dims["g"]: g, m.dims["n"]: n}
        weights = g * n * (n + 1) // 2
        final_linear = c0 * c0 + c0      # y = linear(x, width) with x and width unchanged
        assert int(m.params.subs(env)) == weights + final_linear
