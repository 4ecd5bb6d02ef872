"""Benchmark: the prover on true facts that real architectures need (not part of the test run).

Every item of the corpus is a set of ``require``s and a claim that follows from
them (conv and pool chains, Swin windows and patch merging, RoPE halves, GQA
groups, U-Net skips, ...). Each item is checked with its requires in several
orders (all of them for up to three requires, else a seeded shuffle, one of
them with a require stated twice), on fresh facts each time, and counted:

- proved: the claim is proved in every order;
- undecided: some order leaves it undecided (no proof, no counterexample);
- wrongly refuted: some order "refutes" a true claim (a bug, always);
- order-dependent: the orders do not all give the same result.

Then the time per check (median and max over all orders and items). Targets:
0 wrongly refuted, 0 undecided for the linear and divisibility items, and no
order-dependent item.

Usage: python benchmarks/bench_prover.py [--verbose]
"""
from __future__ import annotations

import itertools
import os
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import sympy  # noqa: E402
from sympy import Mod, ceiling, floor  # noqa: E402

from shapecheck.dims import PROVED, REFUTED, Facts, Relation, dim  # noqa: E402

S = {n: dim(n) for n in ("H W ws d h heads kv seq n_ctx a b c n m k L j latents tokens experts "
                         "capacity frames image patch dh half").split()}
globals().update(S)


def div(x, y):
    return Relation("==", Mod(x, y), 0)


def eq(x, y):
    return Relation("==", x, y)


def le(x, y):
    return Relation("<=", x, y)


def lt(x, y):
    return Relation("<", x, y)


def ge(x, y):
    return Relation(">=", x, y)


def conv(x, kernel, stride=1, pad=0):
    return floor((x + 2 * pad - kernel) / stride) + 1


# (name, kind, requires, claim); every claim is true under its requires
CORPUS = [
    # linear
    ("context bound", "linear", [le(seq, n_ctx), le(n_ctx, 2048)], le(seq, 2048)),
    ("strict chain", "linear", [lt(a, b), lt(b, c)], le(a + 2, c)),
    ("threshold", "linear", [ge(n, 10)], ge(n - 9, 1)),
    ("equality solved", "linear", [eq(2 * n, m + 2)], le(2, n)),
    ("equality both sides", "linear", [eq(a + b, c + 1), le(c, a)], ge(b, 1)),
    ("not equal", "linear", [Relation("!=", j, 1)], ge(j - 1, 1)),
    ("perceiver latents", "linear", [le(latents, seq), le(seq, 4096)], le(latents, 4096)),
    ("sum of bounds", "linear", [ge(a, 3), ge(b, 4), le(a + b, c)], ge(c, 7)),
    ("slice fits", "linear", [ge(seq, 128), le(k, 64)], le(k + 64, seq)),
    # divisibility
    ("swin 2 <= H", "divisibility", [div(H, ws), div(H, 2)], le(2, H)),
    ("swin halves", "divisibility", [div(H, ws), div(H, 2)], eq(ceiling(H / 2), ceiling((H - 1) / 2))),
    ("swin window count", "divisibility", [div(H, ws), div(W, ws)], eq((H / ws) * (W / ws) * ws * ws, H * W)),
    ("patch merging", "divisibility", [div(H, 2 * ws)], div(H / 2, ws)),
    ("rope halves", "divisibility", [div(d, h), div(d / h, 2)], div(d / h, 2)),
    ("rope half size", "divisibility", [div(d, h), div(d / h, 2)], eq((d / h / 2) * 2 * h, d)),
    ("rope with let", "divisibility", [div(d, h), eq(dh, d / h), div(dh, 2)], div(d, 2 * h)),
    ("gqa groups", "divisibility", [div(heads, kv), div(d, heads)], div(d, kv)),
    ("gqa kv <= heads", "divisibility", [div(heads, kv)], le(kv, heads)),
    ("moe capacity", "divisibility", [div(tokens, experts), eq(capacity, tokens / experts)],
     eq(capacity * experts, tokens)),
    ("unet depth 4", "divisibility", [div(H, 16)], le(16, H)),
    ("unet divisions", "divisibility", [div(H, 16)], div(H / 8, 2)),
    ("odd kernel", "divisibility", [Relation("==", Mod(k, 2), 1)], div(k - 1, 2)),
    ("odd kernel twice", "divisibility", [Relation("==", Mod(k, 2), 1), Relation("==", Mod(k, 2), 1)],
     Relation("==", Mod(k, 2), 1)),
    ("two constant moduli", "divisibility", [div(n, 4), div(n, 6)], div(n, 12)),
    ("swin stage", "divisibility", [div(H, ws), div(W, ws), div(H, 2), div(W, 2), ge(ws, 2), le(seq, n_ctx)],
     eq(ceiling(W / 2) + ceiling((W - 1) / 2), W)),
    ("llama attention", "divisibility", [div(d, heads), div(heads, kv), div(d / heads, 2), le(seq, n_ctx),
                                         ge(n_ctx, 16)], div(d, 2 * kv)),
    # floors: conv and pool chains
    ("conv same", "floor", [], eq(conv(H, 3, 1, 1), H)),
    ("conv stride 2", "floor", [div(H, 2)], eq(conv(H, 3, 2, 1), H / 2)),
    ("maxpool 2", "floor", [div(H, 2)], eq(conv(H, 2, 2), H / 2)),
    ("resnet stem", "floor", [div(H, 32)], eq(conv(conv(H, 7, 2, 3), 3, 2, 1), H / 4)),
    ("pool chain x4", "floor", [div(H, 16)], eq(conv(conv(conv(conv(H, 2, 2), 2, 2), 2, 2), 2, 2), H / 16)),
    ("unet skip", "floor", [div(H, 4)], eq(2 * floor(floor(H / 2) / 2) * 2, H)),
    ("valid conv positive", "floor", [ge(H, k)], ge(conv(H, k), 1)),
    ("strided valid conv", "floor", [ge(L, 7)], ge(conv(L, 7, 2), 1)),
    ("odd kernel same conv", "floor", [Relation("==", Mod(k, 2), 1)], eq(conv(L, k, 1, (k - 1) / 2), L)),
    ("whisper frames", "floor", [div(frames, 2)], eq(conv(frames, 3, 2, 1), frames / 2)),
    ("vit grid", "floor", [div(image, patch)], eq(conv(image, patch, patch), image / patch)),
    ("floor conv forms", "floor", [ge(n, 3)], eq(conv(n, 3, 2), floor((n - 1) / 2))),
    # non-linear
    ("vit tokens", "nonlinear", [div(image, patch)], ge((image / patch) ** 2 + 1, 2)),
    ("product bound", "nonlinear", [ge(a, 2), ge(b, 2)], ge(a * b, 4)),
    ("square bound", "nonlinear", [], ge(n * n - 3 * n + 3, 1)),
]


def orders(facts, rng):
    if len(facts) <= 3:
        out = [list(p) for p in itertools.permutations(facts)]
    else:
        out = [list(facts)]
        for _ in range(5):
            f = list(facts)
            rng.shuffle(f)
            out.append(f)
    if facts:      # one order with a fact stated twice (top level and block precondition)
        out.append(list(facts) + [facts[0]])
    return out


def main(argv):
    verbose = "--verbose" in argv
    rng = random.Random(11)
    rows, times = [], []
    for name, kind, facts, claim in CORPUS:
        statuses = []
        for order in orders(facts, rng):
            sympy.core.cache.clear_cache()
            t0 = time.perf_counter()
            status = Facts.build(order).holds(claim).status
            times.append(time.perf_counter() - t0)
            statuses.append(status)
        rows.append((name, kind, statuses))
        if verbose:
            print(f"  {kind:13s} {name:24s} {' '.join(s[0] for s in statuses)}")
    kinds = sorted({k for _, k, _ in rows}, key=["linear", "divisibility", "floor", "nonlinear"].index)
    print(f"{'kind':13s} {'items':>5s} {'proved':>6s} {'undecided':>9s} {'wrongly refuted':>15s} "
          f"{'order-dependent':>15s}")
    total = [0, 0, 0, 0, 0]
    for kind in kinds:
        sel = [r for r in rows if r[1] == kind]
        proved = sum(all(s == PROVED for s in st) for _, _, st in sel)
        refuted = sum(any(s == REFUTED for s in st) for _, _, st in sel)
        undecided = len(sel) - proved - refuted
        dependent = sum(len(set(st)) > 1 for _, _, st in sel)
        for i, v in enumerate((len(sel), proved, undecided, refuted, dependent)):
            total[i] += v
        print(f"{kind:13s} {len(sel):5d} {proved:6d} {undecided:9d} {refuted:15d} {dependent:15d}")
    print(f"{'all':13s} {total[0]:5d} {total[1]:6d} {total[2]:9d} {total[3]:15d} {total[4]:15d}")
    print(f"checks: {len(times)} (every item in every order); time per check: median "
          f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.0f} ms")
    left = [(n, k) for n, k, st in rows if not all(s == PROVED for s in st)]
    for n, k in left:
        print(f"not proved: {k} / {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
