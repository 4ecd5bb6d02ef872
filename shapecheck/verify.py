"""`shapecheck verify`: confirm the symbolic analysis by running the spec with NumPy.

The spec is checked symbolically (:func:`shapecheck.api.check_path`) and run
numerically (:mod:`shapecheck.execute`) at the example (or ``--bind``) sizes
and at a few random small sizes that satisfy every `require`. Every named
tensor's actual shape is compared with its inferred shape evaluated at the same
sizes (a tensor inside ``repeat n`` is compared at each of its ``n`` passes),
and the number of weights allocated with the inferred parameter formula. A
disagreement is a located ``SC601`` diagnostic.

This is the one module that sees both interpreters; they never see each other.

>>> import os, tempfile
>>> spec = '''
... dim batch, d = 8, heads = 2
... require d % heads == 0
... model m {
...     input x: [batch, d]
...     y = rearrange(linear(x, d), "b (h k) -> b h k", h=heads) : [batch, heads, d / heads]
...     return y
... }'''
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = os.path.join(tmp, "m.shape")
...     with open(path, "w") as f:
...         _ = f.write(spec)
...     report = verify(path, samples=2)
>>> report.ok, len(report.runs), report.diagnostics
(True, 3, [])
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from . import execute as X
from .diagnostics import Diagnostic, Note
from .execute import ExecError
from .sizes import BindingError, Bindings, choose_bindings  # noqa: F401  (re-exported)
from .span import Span

CODE = "SC601"

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input to `verify` (unknown model, bad --bind, unreadable file, no sizes)."""


@dataclass
class Run:
    """One numeric run and how it compared."""
    model: str
    label: str                     # "example" or "sample N"
    bindings: Bindings
    compared: int = 0              # tensor shapes compared
    disagreements: int = 0
    params_numeric: Optional[int] = None
    params_symbolic: Optional[int] = None
    seconds: float = 0.0
    failed: Optional[str] = None   # the ExecError message when the run stopped
    seconds_weights: float = 0.0   # of `seconds`: drawing weights,
    seconds_kernels: float = 0.0   # running the kernels,
    seconds_compare: float = 0.0   # comparing with the analysis

    def timing(self) -> str:
        """Where the time went: ``weights 0.12 s, kernels 1.30 s, comparison 0.01 s, other 0.05 s``."""
        other = max(0.0, self.seconds - self.seconds_weights - self.seconds_kernels - self.seconds_compare)
        return (f"weights {self.seconds_weights:.2f} s, kernels {self.seconds_kernels:.2f} s, "
                f"comparison {self.seconds_compare:.2f} s, other {other:.2f} s")

    def line(self) -> str:
        head = f"{self.model} [{self.label}] {self.bindings.text()}"
        if self.failed is not None:
            return f"{head}: the NumPy run failed ({self.seconds:.2f} s)"
        verdict = "agree" if not self.disagreements else f"{self.disagreements} disagreement" + \
            ("s" if self.disagreements != 1 else "")
        return (f"{head}: {self.compared} tensor shapes and {self.params_numeric:,} parameters; "
                f"{verdict} ({self.seconds:.2f} s)")


@dataclass
class VerifyReport:
    """Diagnostics (the symbolic ones and the SC601 disagreements) and the runs."""
    path: str
    diagnostics: list = field(default_factory=list)
    runs: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)

    @property
    def errors(self) -> list:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def disagreements(self) -> list:
        return [d for d in self.diagnostics if d.code == CODE]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_DISAGREE


# ---- comparison ------------------------------------------------------------------------------


def _env(model, values: dict) -> dict:
    return {model.dims[k]: v for k, v in values.items() if k in model.dims}


def _show(shape) -> str:
    from .dims import show_shape
    return show_shape(shape)


def _sizes(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def compare(model, execution: X.Execution, model_span: Optional[Span] = None) -> list:
    """SC601 diagnostics for every disagreement between the inferred ``model``
    (an :class:`shapecheck.api.Model`) and a numeric ``execution`` of it."""
    return [d for _, d in _compare(model, execution, model_span)]


def _compare(model, execution, model_span, compare_flops: bool = True):
    from .dims import evaluate
    from .ops.core import Variadic

    values = execution.bindings
    env = _env(model, values)
    at = f"at {_sizes(values)}"
    expected: dict = {}
    shown: dict = {}
    spans: dict = {}
    skip = set()
    paths: dict = {}
    for n in model.nodes:
        key = X.node_key(n)
        spans.setdefault(key, n.span)
        paths.setdefault(key, n.path)
        if n.shape is None or any(isinstance(d, Variadic) for d in n.shape):
            skip.add(key)
            continue
        try:
            # a shape that depends on a `repeat i in n` pass: compared at each pass
            for penv, times in _passes(getattr(n, "loops", ()), env, n.shape):
                shape = tuple(_int(evaluate(d, penv)) for d in n.shape)
                expected.setdefault(key, Counter())[shape] += times
                shown.setdefault(key, {})[shape] = _show(n.shape)
        except Exception:   # an inferred expression that does not evaluate here
            expected.pop(key, None)
            skip.add(key)
            continue
    dtypes = {X.node_key(n): n.dtype for n in model.nodes}
    actual: dict = {}
    diags = []
    wrong_dtype = set()
    for r in execution.records:
        actual.setdefault(r.key, Counter())[r.shape] += 1
        spans.setdefault(r.key, r.span)
        paths.setdefault(r.key, r.path)
        want = dtypes.get(r.key)
        if want is not None and r.key not in skip and r.dtype != want and r.key not in wrong_dtype:
            wrong_dtype.add(r.key)
            diags.append((("dtype",) + r.key, Diagnostic(
                CODE, r.span, f"`{r.name}` has dtype {r.dtype} in the NumPy run {at}, but the analysis "
                              f"infers {want}")))
    def order(k):
        calls, name, span = k
        return (span.file, span.line, tuple((c.span.line, c.span.col, c.index) for c in calls), name)
    for key in sorted(set(expected) | set(actual), key=order):
        if key in skip:
            continue
        path, name = paths[key], key[1]
        e, a = expected.get(key, Counter()), actual.get(key, Counter())
        if e == a:
            continue
        where = [Note(None, f"inside {' -> '.join(path[1:])} (block@line of each call)")] if len(path) > 1 else []
        if not a:
            msg = f"`{name}` is inferred as {_fmt_counter(e, shown.get(key))} but the NumPy run {at} never computed it"
        elif not e:
            msg = f"the NumPy run {at} computed `{name}` as {_fmt_counter(a)} but no such tensor was inferred"
        elif sum(e.values()) != sum(a.values()) and set(e) == set(a):
            msg = (f"`{name}` is computed {sum(a.values())} time(s) by the NumPy run {at} but "
                   f"{sum(e.values())} time(s) according to the analysis")
        else:
            msg = (f"`{name}` is {_fmt_counter(a)} in the NumPy run {at}, but inferred "
                   f"{_fmt_counter(e, shown.get(key))}")
        diags.append((("node",) + key, Diagnostic(CODE, spans[key], msg, tuple(where))))
    from .dims import as_expr, show
    for key, what, inferred, numeric in (("params", "parameters", model.params, execution.params),
                                         ("buffers", "buffer elements (running statistics)",
                                          as_expr(getattr(model, "buffers", 0)), execution.buffers)):
        try:
            sym = _int(evaluate(inferred, env))
        except Exception:
            continue
        if sym != numeric:
            span = model_span or (model.nodes[0].span if model.nodes else Span("<unknown>", 1, 1, 1, 2))
            diags.append(((key,), Diagnostic(
                CODE, span, f"the NumPy run {at} allocated {numeric:,} {what}, "
                            f"but the inferred count {show(inferred)} gives {sym:,}")))
    # every executed operation has a numeric count: compare, as parameters (a block over
    # `[*lead, d]` counts `numel(*lead)`, which each call replaces by the product it binds)
    if compare_flops and not execution.flops_unknown:
        try:
            sym = _int(evaluate(model.flops, env))
        except Exception:
            sym = None
        if sym is not None and sym != execution.flops:
            span = model_span or (model.nodes[0].span if model.nodes else Span("<unknown>", 1, 1, 1, 2))
            diags.append((("flops",), Diagnostic(
                CODE, span, f"the NumPy run {at} counted {execution.flops:,} FLOPs, "
                            f"but the inferred count {show(model.flops)} gives {sym:,}")))
    for prob in execution.problems:
        diags.append((("problem", prob.span), _exec_diag(prob, f"the NumPy run {at}: ")))
    return diags


def _passes(loops, env: dict, exprs):
    """``(env, executions)`` for each combination of the loop passes that ``exprs``
    (or an inner loop's count) depend on, the other loops counted as multiplicity:
    one pair, ``(env, repeat)``, when nothing depends on a pass."""
    from .dims import evaluate
    loops = tuple(loops)

    def uses(sym, k) -> bool:
        if sym is None:
            return False
        return any(getattr(e, "has", None) and e.has(sym) for e in exprs) or \
            any(c.has(sym) for _, c in loops[k + 1:] if hasattr(c, "has"))

    def rec(k, env, mult):
        if k == len(loops):
            yield env, mult
            return
        sym, count = loops[k]
        c = _int(evaluate(count, env))
        if not uses(sym, k):
            yield from rec(k + 1, env, mult * c)
            return
        for p in range(1, c + 1):            # the pass symbol counts from 1 (i = p - 1)
            yield from rec(k + 1, {**env, sym: p}, mult)

    yield from rec(0, env, 1)


def _int(v) -> int:
    if getattr(v, "denominator", 1) != 1:
        raise ValueError(f"{v} is not an integer")
    return int(v)


def _fmt_counter(c: Counter, shown: Optional[dict] = None) -> str:
    parts = []
    for shape, n in c.items():
        s = str(list(shape))
        if shown and shape in shown:
            s = f"{shown[shape]} = {s}"
        parts.append(s + (f" ({n} times)" if n != 1 else ""))
    return " and ".join(parts)


def _exec_diag(err: ExecError, prefix: str) -> Diagnostic:
    span = err.span or Span("<unknown>", 1, 1, 1, 2)
    notes = tuple(Note(s, m) for s, m in err.notes)
    return Diagnostic(CODE, span, prefix + err.message, notes)


# ---- the entry point ------------------------------------------------------------------------------


def verify(path: str, model: Optional[str] = None, binds: Optional[dict] = None, samples: int = 3,
           seed: int = 0, max_memory: int = 2 ** 31, progress=None,
           default_binds: Optional[dict] = None) -> VerifyReport:
    """Check ``path`` symbolically, run its models with NumPy at the example or
    bound sizes plus ``samples`` random small sizes, and compare.

    ``progress(model, label, index, total, sizes)`` is called before each run
    (the CLI shows it; the library prints nothing). ``default_binds`` (e.g.
    from ``[tool.shapecheck] bind``) apply to the dims the spec has; ``binds``
    win over them.

    Raises :class:`UsageError` for an unknown model, an unusable ``--bind`` or
    an unreadable file.
    """
    from .api import check_path

    binds = dict(binds or {})
    res = check_path(path)
    report = VerifyReport(path, list(res.diagnostics), sources=dict(res.sources))
    if any(d.code in ("SC001", "SC002") for d in res.diagnostics) or res.module is None:
        raise UsageError(next((f"{d.span}: {d.code} {d.message}" for d in res.diagnostics),
                              f"cannot read {path}"))
    if model is not None and model not in res.models:
        raise UsageError(f"{path} has no model `{model}` (models: {', '.join(res.models) or 'none'})")
    if not res.models:
        raise UsageError(f"{path} defines no model to run")
    if res.errors:
        report.notes.append("the spec has errors; fix them before the NumPy run can confirm the shapes")
        return report
    if default_binds:
        known = {d for m in res.models.values() for d in m.dims}
        binds = {**{k: v for k, v in default_binds.items() if k in known}, **binds}
    prog = res.program          # the same Program the analysis read: parsed once
    seen_diags: dict = {}
    for name in ([model] if model else list(res.models)):
        m = res.models[name]
        block = prog.models.get(name)
        mspan = block.name_span if block is not None else None
        plans = []
        try:
            plans.append(("example", choose_bindings(m, binds, seed, use_examples=True, max_memory=max_memory)))
        except BindingError as e:
            raise UsageError(f"model `{name}`: {e}") from None
        done = {tuple(sorted(plans[0][1].values.items()))}
        for i in range(samples):
            for retry in range(8):   # a fresh assignment if possible (all dims may be bound)
                try:
                    b = choose_bindings(m, binds, seed + 1 + i + 1000 * retry, use_examples=False,
                                        max_memory=max_memory)
                except BindingError as e:
                    report.notes.append(f"model `{name}`, sample {i + 1}: {e}")
                    break
                key = tuple(sorted(b.values.items()))
                if key not in done:
                    done.add(key)
                    plans.append((f"sample {i + 1}", b))
                    break
        for index, (label, b) in enumerate(plans):
            if progress is not None:
                progress(name, label, index + 1, len(plans), _sizes(b.values))
            report.notes.extend(f"model `{name}` [{label}]: {n}" for n in b.notes)
            run = Run(name, label, b)
            t0 = time.perf_counter()
            try:
                ex = X.run(prog, name, b.values, seed=seed)
            except ExecError as err:
                run.seconds = time.perf_counter() - t0
                run.failed = err.message
                diags = [(("failed", err.span), _exec_diag(err, f"the NumPy run at {_sizes(b.values)} failed: "))]
            else:
                t1 = time.perf_counter()
                diags = _compare(m, ex, mspan)
                run.seconds = time.perf_counter() - t0
                run.seconds_compare = time.perf_counter() - t1
                run.seconds_weights, run.seconds_kernels = ex.seconds_weights, ex.seconds_kernels
                run.compared = len(ex.records)
                run.params_numeric = ex.params
                try:
                    from .dims import evaluate
                    run.params_symbolic = _int(evaluate(m.params, _env(m, b.values)))
                except Exception:
                    pass
            run.disagreements = len(diags)
            report.runs.append(run)
            for k, d in diags:
                if (name, k) in seen_diags:
                    seen_diags[(name, k)][1].append(_sizes(b.values))
                else:
                    seen_diags[(name, k)] = (d, [])
    for d, more in seen_diags.values():
        if more:
            d = Diagnostic(d.code, d.span, d.message, d.notes + (Note(None, f"the same disagreement at "
                                                                             f"{'; '.join(more)}"),))
        report.diagnostics.append(d)
    report.diagnostics.sort(key=Diagnostic.sort_key)
    return report


# ---- command line ---------------------------------------------------------------------------------
