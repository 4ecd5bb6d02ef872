"""Targeted mutation testing of the prover, the symbolic interpreter and the operations.

Each mutant is one small, deliberate fault (a flipped comparison, a dropped
fact, a swapped message, a silenced finding) in ``shapecheck/dims.py``,
``shapecheck/infer.py``, ``shapecheck/skeleton.py``, ``shapecheck/messages.py``,
``shapecheck/ops/`` (and one in the numeric interpreter). The script copies the repository to a scratch folder once, then
for each mutant patches the copy, runs the tests (stopping at the first
failure) and restores the file. A mutant is *killed* when a test fails, and
*survives* when the whole selection passes. A mutant whose text is no longer
found in the source is *stale* (the code moved): update its text.

    python benchmarks/mutate.py                 # every mutant, the default test selection
    python benchmarks/mutate.py --list          # the mutants, numbered
    python benchmarks/mutate.py --only 3,17     # some of them
    python benchmarks/mutate.py --tests "tests/test_golden.py tests/test_dims.py"

It prints one line per mutant and the kill rate. No dependency beyond pytest.

Last full run (the default selection, ``--jobs 2``, about 16 minutes on two
shared cores): 58 killed of 58, no survivor, none stale. The twelve survivors
of the first full run (46 mutants, 33 killed: 73%) are each pinned since by a
test that fails on the mutant: lt -> le, the shift test, a size's lower bound of
1 (twice), != from either side and the remainder of a congruence in
``tests/test_dims.py``; a higher-rank block argument, let-cycle poisoning, the
batched matmul contraction, an empty slice, an index equal to the size and
masked_fill's result shape as golden lines under ``tests/cases/``. No mutant
is known to be equivalent.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: the tests each mutant runs (stopping at the first failure)
DEFAULT_TESTS = ("tests/test_mutants.py tests/test_dims.py tests/test_golden.py tests/test_counterexamples.py "
                 "tests/test_identity.py tests/test_program.py tests/test_messages.py tests/test_conv_pool.py "
                 "tests/test_variadic_flops.py tests/test_op_flops.py tests/test_execute.py tests/test_differential.py")

# (file, text, replacement, what the fault is)
MUTANTS = [
    # ---- the six survivors of the first review (issue 10) ----
    ("shapecheck/ops/elementwise.py", 'if dtype == "bool" and name not in ("add", "mul"):',
     'if dtype == "bool" and name == "never":', "bool promotion: bool // bool stays bool"),
    ("shapecheck/dims.py", "            if v.is_positive is not True:\n                ineqs.append(v - 1)",
     "            if False:\n                ineqs.append(v - 1)", "substituted values no longer kept >= 1"),
    ("shapecheck/infer.py", "return s, sympy.expand((actual - b) / a) if a != 1 else sympy.expand(actual - b)",
     "return s, sympy.expand(actual - b)", "_solve_linear ignores the coefficient"),
    ("shapecheck/infer.py", "M.ARGUMENT_MISMATCH, M.ARGUMENT_UNDECIDED,", "M.ARGUMENT_MISMATCH, None,",
     "undecided block-argument equality silenced"),
    ("shapecheck/execute.py", "hi = d if stop is None else (d + stop if stop < 0 else stop)",
     "hi = d if stop is None else stop", "negative slice stop not counted from the end (numeric)"),
    ("shapecheck/messages.py", '"dimension {axis} is {found}, expected {expected}{fails}"',
     '"dimension {axis} is {expected}, expected {found}{fails}"', "swapped found/expected in a message"),
    # ---- dims.py: the prover ----
    ("shapecheck/dims.py", "        return self.nonneg(as_expr(b) - as_expr(a) - 1, frozenset(_free(a) | _free(b)))",
     "        return self.nonneg(as_expr(b) - as_expr(a), frozenset(_free(a) | _free(b)))", "lt becomes le"),
    ("shapecheck/dims.py", "        return self.nonneg(as_expr(e) - 1, frozenset(_free(e)))",
     "        return self.nonneg(as_expr(e), frozenset(_free(e)))", "positive becomes non-negative"),
    ("shapecheck/dims.py", "                    ineqs.append(e - 1 if r.op == \"<\" else e)",
     "                    ineqs.append(e)", "strict require read as non-strict"),
    ("shapecheck/dims.py", "    if p.is_number:\n        return bool(p >= 0)\n    if not p.is_polynomial():",
     "    if p.is_number:\n        return bool(p >= -1)\n    if not p.is_polynomial():", "shift test off by one"),
    ("shapecheck/dims.py", "        return all(c >= 0 for c in sympy.Poly(shifted, *syms).coeffs())",
     "        return any(c >= 0 for c in sympy.Poly(shifted, *syms).coeffs())", "shift test: any coefficient"),
    ("shapecheck/dims.py", "    shifted = sympy.expand(p.xreplace({s: s + 1 for s in syms}))",
     "    shifted = sympy.expand(p.xreplace({s: s for s in syms}))", "no shift: variables from 0"),
    ("shapecheck/dims.py", "        return Fraction(1) if e.is_positive is True else None",
     "        return Fraction(2) if e.is_positive is True else None", "lower bound of a size is 2"),
    ("shapecheck/dims.py", "    if low is not None and low >= 1:\n        return True",
     "    if low is not None and low >= 0:\n        return True", "positive shape from a bound of 0"),
    ("shapecheck/dims.py", "            if _shift_nonneg(sympy.expand(s - f)):\n                return _PROVED",
     "            if _shift_nonneg(sympy.expand(s + f)):\n                return _PROVED", "fact subtracted with the wrong sign"),
    ("shapecheck/dims.py", "        if self.nonneg(d - 1).status == PROVED or self.nonneg(-d - 1).status == PROVED:",
     "        if self.nonneg(d - 1).status == PROVED:", "a negative difference no longer proves !="),
    ("shapecheck/dims.py", "                    ineqs.append(a - (k if rest == 0 else rest))",
     "                    ineqs.append(a - 1)", "a multiple of k no longer >= k"),
    ("shapecheck/dims.py", "            self._bind(a, k * (t - 1) + rest)", "            self._bind(a, k * t + rest)",
     "divisibility substitution off by k"),
    ("shapecheck/dims.py", "            extra = [sign * e - 1 for sign, e in zip(signs, near)]",
     "            extra = [sign * e for sign, e in zip(signs, near)]", "!= case split includes 0"),
    ("shapecheck/dims.py", "            if n < 0 and base == 0:", "            if n < 0 and base == 1:",
     "evaluate: 0 ** negative not caught"),
    # ---- infer.py: the symbolic interpreter ----
    ("shapecheck/infer.py", "        if op == \"-\":\n            return a - b\n        if op == \"*\":\n            return a * b",
     "        if op == \"-\":\n            return b - a\n        if op == \"*\":\n            return a * b", "dimension subtraction reversed"),
    ("shapecheck/infer.py", "        if op == \"//\":\n            return sympy.floor(a / b)",
     "        if op == \"//\":\n            return sympy.ceiling(a / b)", "floor division rounds up"),
    ("shapecheck/infer.py", "            return DimV(sympy.Min(*exprs) if name == \"min\" else sympy.Max(*exprs))",
     "            return DimV(sympy.Max(*exprs) if name == \"min\" else sympy.Max(*exprs))", "min is max"),
    ("shapecheck/infer.py", "else self.mult * count\n", "else self.mult\n", "repeat multiplier dropped"),
    ("shapecheck/infer.py", "            if not frame.block.is_model:   # a model's requires are facts, not preconditions",
     "            if False:   # a model's requires are facts, not preconditions", "block requires not preconditions"),
    ("shapecheck/infer.py", "        if dtype is not None and v.dtype != dtype:",
     "        if dtype is not None and v.dtype != dtype and False:", "annotation dtype not compared"),
    ("shapecheck/infer.py", "            if len(values) != len(st.targets):",
     "            if len(values) < len(st.targets):", "too many values to unpack accepted"),
    ("shapecheck/infer.py", "            if v.dtype != dtype:\n                self.say(M.ARGUMENT_DTYPE, sp,",
     "            if False:\n                self.say(M.ARGUMENT_DTYPE, sp,", "block argument dtype not checked"),
    ("shapecheck/infer.py", "        for rel, rspan, _note in summ.preconds:\n",
     "        for rel, rspan, _note in summ.preconds[1:]:\n", "first precondition of a block skipped"),
    ("shapecheck/infer.py", "            if name in var_sigma and var_sigma[name] != seg:",
     "            if False and name in var_sigma and var_sigma[name] != seg:", "variadic bindings not compared"),
    ("shapecheck/skeleton.py", "        if len(items) != len(actual):\n            return None",
     "        if len(items) > len(actual):\n            return None", "higher-rank argument accepted"),
    ("shapecheck/infer.py", "            frame.facts = facts\n        for st in order:",
     "        for st in order:", "requires not added to the facts"),
    ("shapecheck/infer.py", "                frame.vars[p.name] = POISON\n        return order",
     "                pass\n        return order", "let cycle members not poisoned"),
    ("shapecheck/infer.py", "        ev = None if rel is None or res is None else _evidence(frame, rel, res)",
     "        ev = None", "a refuted finding loses its evidence"),
    ("shapecheck/infer.py", "        elif unknown is not None:\n            self.undecided(",
     "        elif False:\n            self.undecided(", "undecided checks report nothing"),
    ("shapecheck/infer.py", "                if _possible(frame, rel) else M.NOTHING_FIXES.format()",
     "                if True else M.NOTHING_FIXES.format()", "refuted advice suggests an impossible require"),
    ("shapecheck/infer.py", "    return passes[0] if passes else None", "    return None",
     "advice names the pass index of a loop"),
    ("shapecheck/messages.py", 'ADVICE = Message(None, "; add `require {require}` to settle it")',
     'ADVICE = Message(None, "; add `require {require}`")', "the advice of an undecided check loses its wording"),
    # ---- ops/: shape rules ----
    ("shapecheck/ops/linear.py", "        return Out(sa[:-1] + (sb[1],), dtype, flops=2 * r.numel(sa) * sb[1])",
     "        return Out(sa[:-1] + (sb[0],), dtype, flops=2 * r.numel(sa) * sb[1])", "matmul result takes k"),
    ("shapecheck/ops/linear.py", "    r.same(k_a, k_b, \"`@`: the last dimension",
     "    r.same(k_a, k_a, \"`@`: the last dimension", "batched matmul contraction unchecked"),
    ("shapecheck/ops/linear.py", "    return Out(x.shape, \"float\", params=2 * d if bias else d, flops=7 * r.numel(x.shape))",
     "    return Out(x.shape, \"float\", params=d, flops=7 * r.numel(x.shape))", "layer_norm bias params dropped"),
    ("shapecheck/ops/linear.py", "    shape = batch + ((n,) if not va else ()) + ((m,) if not vb else ())",
     "    shape = batch + ((n,) if not va else ()) + ((m,) if vb else ())", "matmul vector result rank"),
    ("shapecheck/ops/shape.py", "            out.append(stop - start if step == 1 else r.ceiling((stop - start) / step))",
     "            out.append(stop - start if step == 1 else (stop - start) // step)", "strided slice rounds down"),
    ("shapecheck/ops/shape.py", "            r.at_most(start + 1, stop, f\"slice on axis {n} must not be empty (start < end)\")",
     "            r.at_most(start, stop, f\"slice on axis {n} must not be empty (start < end)\")", "empty slice accepted"),
    ("shapecheck/ops/shape.py", "    r.at_most(e if is_bound else e + 1, d,",
     "    r.at_most(e, d,", "index equal to the size accepted"),
    ("shapecheck/ops/shape.py", "        r.at_most(-e, d, f\"{what}: {r.show(e)} counts from the end\")\n        return d + e",
     "        r.at_most(-e, d, f\"{what}: {r.show(e)} counts from the end\")\n        return d - e", "negative index from the wrong end"),
    ("shapecheck/ops/shape.py", "                r.same(a, b, f\"concat: dimension {k} must be equal\", \"SC305\")",
     "                pass", "concat other dimensions unchecked"),
    ("shapecheck/ops/shape.py", "    part = r.div(x.shape[i], n, f\"split: dividing",
     "    part = r.div(x.shape[i], 1, f\"split: dividing", "split does not divide"),
    ("shapecheck/ops/elementwise.py", "        dtype = \"float\" if name == \"div\" else promote(a.dtype, b.dtype)",
     "        dtype = promote(a.dtype, b.dtype)", "true division of ints stays int"),
    ("shapecheck/ops/elementwise.py", '        if dtype == "bool" and name == "sub":\n            r.fail(',
     '        if dtype == "bool" and name == "never":\n            r.fail(', "bool - bool accepted"),
    ("shapecheck/ops/elementwise.py", "            r.same(d, e, \"masked_fill: the mask must broadcast to the tensor's shape\", \"SC302\")",
     "            pass", "masked_fill mask shape unchecked"),
    ("shapecheck/ops/pool.py", "r.min(r.integer(0), p + s - e)", "r.integer(0)",
     "ceil_mode keeps a last window that starts in the padding"),
    ("shapecheck/ops/conv.py", "        o = tuple(r.floor((n + 2 * pi", "        o = tuple(r.ceiling((n + 2 * pi",
     "conv output size rounds up"),
    ("shapecheck/ops/conv.py", "        check_le(r, oi + 1, r.max(si, di),", "        check_le(r, oi + 1, r.min(si, di),",
     "output_padding bounded by the smaller of stride and dilation"),
    ("shapecheck/ops/resample.py", "    return tuple(d * f.numerator // f.denominator for d in spatial)",
     "    return tuple(-(-d * f.numerator // f.denominator) for d in spatial)",
     "scale_factor rounds up (rule and kernel alike)"),
    ("shapecheck/ops/sequence.py", "    count = r.floor((x.shape[i] - size) / step) + 1",
     "    count = r.floor((x.shape[i] - size) / step)", "unfold window count off by one"),
    ("shapecheck/ops/mask.py", "r.ceiling((end - start) / step)", "r.floor((end - start) / step)",
     "arange with a step rounds down"),
    ("shapecheck/dims.py",
     "    return Mul(*[d if isinstance(d, (int, sympy.Basic)) else variadic_numel(d) for d in shape])",
     "    return Mul(*[d for d in shape if isinstance(d, (int, sympy.Basic))])",
     "a variadic's elements left out of numel (FLOPs)"),
]


def copy_repo(dest: str) -> None:
    ignore = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", "node_modules")
    for name in os.listdir(ROOT):
        src = os.path.join(ROOT, name)
        if name in (".git",):
            continue
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, name), ignore=ignore)
        else:
            shutil.copy2(src, os.path.join(dest, name))


def run_mutant(work: str, m, tests: str, timeout: float, jobs: int = 0) -> tuple:
    path, old, new, _ = m
    full = os.path.join(work, path)
    with open(full, encoding="utf-8") as f:
        original = f.read()
    if not old or original.count(old) != 1:
        return "stale", 0.0, f"text found {original.count(old) if old else 0} times"
    with open(full, "w", encoding="utf-8") as f:
        f.write(original.replace(old, new))
    t0 = time.perf_counter()
    try:
        env = {**os.environ, "PYTHONPATH": work, "PYTHONDONTWRITEBYTECODE": "1"}
        par = ["-n", str(jobs)] if jobs > 1 else []
        p = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                            *par, *tests.split()], cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
        status = "survived" if p.returncode == 0 else "killed"
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("FAILED") or ln.startswith("ERROR")]
        detail = lines[0][:110] if lines else ""
    except subprocess.TimeoutExpired:
        status, detail = "killed", f"timeout after {timeout:.0f} s (a hang counts as detected)"
    finally:
        with open(full, "w", encoding="utf-8") as f:
            f.write(original)
    return status, time.perf_counter() - t0, detail


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--only", help="comma list of mutant numbers (1-based)")
    ap.add_argument("--tests", default=DEFAULT_TESTS, help="pytest arguments (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant")
    ap.add_argument("--jobs", type=int, default=2, help="pytest-xdist workers per mutant (0: none)")
    args = ap.parse_args(argv)
    chosen = list(enumerate(MUTANTS, 1))
    if args.only:
        keep = {int(x) for x in args.only.split(",")}
        chosen = [(i, m) for i, m in chosen if i in keep]
    if args.list:
        for i, (path, _, _, what) in chosen:
            print(f"{i:3} {path}: {what}")
        return 0
    counts = {"killed": 0, "survived": 0, "stale": 0}
    survivors = []
    with tempfile.TemporaryDirectory(prefix="shapecheck-mutants-") as work:
        copy_repo(work)
        for i, m in chosen:
            status, secs, detail = run_mutant(work, m, args.tests, args.timeout, args.jobs)
            counts[status] += 1
            if status == "survived":
                survivors.append((i, m))
            print(f"{i:3} {status:8} {secs:6.1f} s  {m[0]}: {m[3]}" + (f"  [{detail}]" if detail else ""),
                  flush=True)
    live = counts["killed"] + counts["survived"]
    rate = counts["killed"] / live if live else 0.0
    print(f"\n{counts['killed']} killed, {counts['survived']} survived, {counts['stale']} stale: "
          f"kill rate {rate:.1%} of {live} live mutants")
    for i, m in survivors:
        print(f"  survivor {i}: {m[0]}: {m[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
