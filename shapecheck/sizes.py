"""Choosing sizes for a numeric run: every dimension of a model gets a value
that satisfies its `require`s, from ``--bind``, the example values or a small
random search, scaled down to a memory budget.

It reads the symbolic model (:class:`shapecheck.api.Model`: its dims,
relations and node shapes) and evaluates it with :func:`shapecheck.dims.evaluate`,
so it lives apart from the numeric interpreter, which imports no sympy and no
symbolic module. :mod:`shapecheck.verify` joins the two.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .ops.core import Variadic


class BindingError(Exception):
    """No usable sizes (unknown name, a `require` violated, over the memory budget)."""


@dataclass
class Bindings:
    """Sizes for every dimension of a model, and where each came from."""
    values: dict                       # name -> int
    sources: dict                      # name -> "bind" | "example" | "auto" | "scaled"
    notes: list = field(default_factory=list)
    estimate: int = 0                  # bytes

    def text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items())


BYTES_PER_ELEMENT = 4   # float32


def estimate_bytes(model, values: dict) -> int:
    """A rough upper bound on the memory of a numeric run: every parameter,
    every distinct named tensor once, and room for temporaries."""
    env = _env(model, values)
    from .dims import evaluate

    total_params = int(evaluate(model.params, env))
    acts: dict = {}
    for n in model.nodes:
        if n.shape is None or any(isinstance(d, Variadic) for d in n.shape):
            continue
        size = 0
        for penv in _pass_ends(getattr(n, "loops", ()), env):
            one = 1
            for d in n.shape:
                one *= max(0, int(evaluate(d, penv)))
            size = max(size, one)
        key = (n.path, n.name, n.span.line)
        acts[key] = max(acts.get(key, 0), size)
    biggest = max(acts.values(), default=0)
    return BYTES_PER_ELEMENT * (total_params + sum(acts.values()) + 4 * biggest)


def _pass_ends(loops, env):
    """``env`` with every `repeat i in n` pass of ``loops`` at its first and at its
    last value (a shape that grows or shrinks with the pass is largest at an end)."""
    from .dims import evaluate
    envs = [env]
    for sym, count in loops:
        if sym is None:
            continue
        envs = [{**e, sym: p} for e in envs for p in {1, max(1, int(evaluate(count, e)))}]
    return envs


def _env(model, values):
    return {model.dims[k]: v for k, v in values.items() if k in model.dims}


def _holds(model, values) -> list:
    """The relations of ``model`` that fail at ``values`` (all must be bound)."""
    env = _env(model, values)
    bad = []
    for rel in model.relations:
        try:
            if not rel.holds(env):
                bad.append(rel)
        except Exception:
            bad.append(rel)
    return bad


def _rel_names(model, rel) -> set:
    by_sym = {s: n for n, s in model.dims.items()}
    return {by_sym[s] for s in rel.free_symbols if s in by_sym}


def repeat_dims(model) -> set:
    """Names of the dimensions that count loop passes (kept small in samples)."""
    by_sym = {s: n for n, s in model.dims.items()}
    out = set()
    for n in model.nodes:
        for s in getattr(n.repeat, "free_symbols", ()):
            if s in by_sym:
                out.add(by_sym[s])
    return out


def choose_bindings(model, bind: dict, seed: int = 0, *, use_examples: bool = True,
                    max_memory: int = 2 ** 31, small: tuple = (2, 9), loops: tuple = (1, 2)) -> Bindings:
    """Sizes for every dimension of ``model`` (an :class:`shapecheck.api.Model`):
    ``bind`` first, then the spec's example values (if ``use_examples``), then
    small random values (``small`` range; ``loops`` for repeat counts), pairwise
    distinct where possible, that satisfy every `require`. When the memory
    estimate exceeds ``max_memory``, the largest non-bound sizes are scaled down
    (keeping the `require`s) and a note says so. Raises :class:`BindingError`.
    """
    import random

    names = list(model.dims)
    unknown = sorted(set(bind) - set(names))
    if unknown:
        raise BindingError(f"--bind {unknown[0]}: the model has no dimension `{unknown[0]}` "
                           f"(dimensions: {', '.join(names)})")
    for k, v in bind.items():
        if not isinstance(v, int) or v < 1:
            raise BindingError(f"--bind {k}={v}: a size must be a positive integer")
    values: dict = {k: int(v) for k, v in bind.items()}
    sources = {k: "bind" for k in values}
    bad = [r for r in _holds_partial(model, values)]
    if bad:
        raise BindingError(f"the bound sizes violate `require {bad[0].text()}`")
    notes = []
    if use_examples:
        for k, v in model.examples.items():
            if k in values:
                continue
            trial = dict(values, **{k: v})
            if _holds_partial(model, trial):
                notes.append(f"example {k}={v} dropped: it violates a `require` with the bound sizes")
                continue
            values[k], sources[k] = v, "example"
    rng = random.Random(seed)
    loops_ = repeat_dims(model)
    free = [n for n in names if n not in values]
    if free:
        chosen = _search(model, values, free, loops_, rng, small, loops)
        if chosen is None:
            raise BindingError("cannot find sizes satisfying every `require` "
                               f"for {', '.join(free)} (try --bind)")
        for k in free:
            values[k], sources[k] = chosen[k], "auto"
    values = {n: values[n] for n in names}
    est = estimate_bytes(model, values)
    if est > max_memory:
        original = dict(values)
        while est > max_memory:
            step = _shrink(model, values, sources)
            if step is None:
                raise BindingError(f"a run at {_fmt(values)} needs about {_human(est)}, over the budget of "
                                   f"{_human(max_memory)}; bind smaller sizes (--bind) or raise --max-memory")
            values = step
            est = estimate_bytes(model, values)
        changed = [k for k in names if values[k] != original[k]]
        for k in changed:
            sources[k] = "scaled"
        notes.append(f"scaled down to fit {_human(max_memory)}: " +
                     ", ".join(f"{k} {original[k]} -> {values[k]}" for k in changed))
    return Bindings(values, sources, notes, est)


def _holds_partial(model, values) -> list:
    """Relations whose dimensions are all in ``values`` and that fail there."""
    bound = set(values)
    rels = [r for r in model.relations if _rel_names(model, r) <= bound]
    env = _env(model, values)
    bad = []
    for rel in rels:
        try:
            ok = rel.holds(env)
        except Exception:
            ok = False
        if not ok:
            bad.append(rel)
    return bad


def _search(model, fixed, free, loops_, rng, small, loops):
    """Random sizes for ``free`` that satisfy the relations, distinct if possible."""
    import itertools

    lo, hi = small
    plain = [n for n in free if n not in loops_]
    taken = set(fixed.values())
    wide = max(hi, lo + len(plain) + len(taken & set(range(lo, hi + 1))) - 1)  # room to be distinct
    # the thresholds of the requires and of the shapes (`seq >= 100`, a slice end 128:
    # 100-129), as the prover's counterexample search tries them
    boundary = _boundary(model) if model.relations else []
    for attempt in range(3000):
        distinct = attempt < 1500
        vals = dict(fixed)
        pool = [v for v in range(lo, (wide if distinct else hi) + 1) if not (distinct and v in taken)]
        if boundary and attempt % 3 == 1:
            picks = [rng.choice(boundary + list(range(lo, hi + 1))) for _ in plain]
        elif distinct and len(pool) >= len(plain):
            picks = rng.sample(pool, len(plain))
        else:
            picks = [rng.randint(lo, hi) for _ in plain]
        vals.update(zip(plain, picks))
        for n in free:
            if n in loops_:
                vals[n] = rng.randint(*loops)
        if not _holds(model, vals):
            return vals
    # deterministic fallback: smallest sizes first over the constrained names
    constrained = [n for n in free if any(n in _rel_names(model, r) for r in model.relations)]
    base = dict(fixed)
    base.update({n: lo for n in free if n not in constrained})
    values = sorted(set(range(1, 4 * hi + 1)) | set(boundary))
    for combo in itertools.islice(itertools.product(values, repeat=len(constrained)), 200000):
        vals = dict(base, **dict(zip(constrained, combo)))
        if not _holds(model, vals):
            return vals
    return None


def _boundary(model) -> list:
    """Sizes at the thresholds of the model's requires and shapes (see
    :meth:`shapecheck.dims.Facts.candidates`)."""
    import itertools

    import sympy

    from .dims import Facts

    exprs = [d for n in itertools.islice(iter(model.nodes), 2000) for d in (n.shape or ())
             if isinstance(d, sympy.Basic)]
    return Facts.build(model.relations).candidates(exprs)


def _shrink(model, values, sources):
    order = sorted((n for n in values if sources.get(n) != "bind" and values[n] > 1),
                   key=lambda n: -values[n])
    for n in order:
        v = values[n]
        for cand in range(v // 2, max(0, v // 2 - 512), -1):
            if cand < 1:
                break
            trial = dict(values, **{n: cand})
            if not _holds(model, trial):
                return trial
    return None


def _fmt(values) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover
