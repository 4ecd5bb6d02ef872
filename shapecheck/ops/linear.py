"""Operations with weights or contractions: linear, embedding, norms, matmul, einsum."""
from __future__ import annotations

import re

from .core import BOOL, DIM, STR, TENSOR, TENSORS, Arg, Out, Variadic, fixed, last, op


def blas_ready(np, a):
    """``a`` itself when BLAS can read each of its matrices (one of the last two
    strides is the item size), else a contiguous copy: NumPy's ``matmul`` on
    other strides (a permuted view) falls back to a loop far slower than BLAS."""
    if a.ndim >= 2 and a.itemsize not in a.strides[-2:]:
        return np.ascontiguousarray(a)
    return a


def _linear_kernel(k, x, out, bias):
    np = k.np
    w = k.weight((x.shape[-1], out))
    lead = x.shape[:-1]
    y = np.matmul(np.reshape(x, (-1, x.shape[-1])), w)     # one [L, in] @ [in, out] product
    if bias:
        y += k.weight((out,))
    return y.reshape(lead + (out,))


@op("linear", Arg("x", TENSOR), Arg("out", DIM), Arg("bias", BOOL, True), kernel=_linear_kernel)
def linear(r, x, out, bias):
    """`linear(x, out, bias=true)`: `[*l, in] -> [*l, out]`; `in*out (+ out)` parameters."""
    n_in = last(r, x, "linear")
    lead = r.numel(x.shape[:-1])
    params = n_in * out + (out if bias else 0)
    flops = 2 * lead * n_in * out + (lead * out if bias else 0)
    return Out(x.shape[:-1] + (out,), "float", params=params, flops=flops)


def _embedding_kernel(k, ids, vocab_or_table, d):
    table = vocab_or_table if d is None else k.weight((vocab_or_table, d))
    return table[ids]


@op("embedding", Arg("ids", TENSOR), Arg("vocab", "dim|tensor"), Arg("d", DIM, None),
    kernel=_embedding_kernel)
def embedding(r, ids, vocab, d):
    """`embedding(ids, vocab, d)` (`vocab*d` parameters) or `embedding(ids, table)`
    with a `param [vocab, d]` table (weight tying: no new parameters)."""
    if ids.dtype != "int":
        r.fail("SC308", f"embedding: ids must be an int tensor, got {ids.dtype}")
    if d is None:
        if not hasattr(vocab, "shape"):
            r.fail("SC105", "embedding: give either (ids, vocab, d) or (ids, table)")
        table = fixed(r, vocab, "embedding: the table")
        if len(table) != 2:
            r.fail("SC304", f"embedding: the table must be [vocab, d], got rank {len(table)}")
        return Out(ids.shape + (table[1],), vocab.dtype)
    if hasattr(vocab, "shape"):
        r.fail("SC105", "embedding: with a table, do not give `d`")
    return Out(ids.shape + (d,), "float", params=vocab * d)


def _layer_norm_kernel(k, x, bias, eps):
    np = k.np
    d = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps) * k.weight((d,))
    if bias:
        y = y + k.weight((d,))
    return y


@op("layer_norm", Arg("x", TENSOR), Arg("bias", BOOL, True), Arg("eps", "number", 1e-5),
    kernel=_layer_norm_kernel)
def layer_norm(r, x, bias, eps):
    """`layer_norm(x, bias=true)`: same shape; `2*d` (or `d`) parameters."""
    d = last(r, x, "layer_norm")
    return Out(x.shape, "float", params=2 * d if bias else d, flops=7 * r.numel(x.shape))


def _rms_norm_kernel(k, x, eps):
    np = k.np
    ms = (x ** 2).mean(axis=-1, keepdims=True)
    return x / np.sqrt(ms + eps) * k.weight((x.shape[-1],))


@op("rms_norm", Arg("x", TENSOR), Arg("eps", "number", 1e-6), kernel=_rms_norm_kernel)
def rms_norm(r, x, eps):
    """`rms_norm(x)`: same shape; `d` parameters."""
    d = last(r, x, "rms_norm")
    return Out(x.shape, "float", params=d, flops=4 * r.numel(x.shape))


def _matmul_kernel(k, a, b):
    np = k.np
    return np.matmul(blas_ready(np, np.asarray(a)), blas_ready(np, np.asarray(b)))


@op("matmul", Arg("a", TENSOR), Arg("b", TENSOR), kernel=_matmul_kernel)
def matmul(r, a, b):
    """`a @ b`: NumPy matmul rules; batch dimensions broadcast."""
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        r.fail("SC304", "`@` needs operands of rank >= 1, got a scalar")
    dtype = "float" if "float" in (a.dtype, b.dtype) else a.dtype
    if len(sb) == 2 and not any(isinstance(d, Variadic) for d in sb) and not isinstance(sa[-1], Variadic):
        # [..., k] @ [k, m] -> [..., m], whatever the leading dimensions (variadic ones included)
        r.same(sa[-1], sb[0], "`@`: the last dimension of the left operand must equal the "
                              "second-to-last of the right", "SC303")
        return Out(sa[:-1] + (sb[1],), dtype, flops=2 * r.numel(sa) * sb[1])
    va, vb = len(sa) == 1, len(sb) == 1
    if va:
        sa = (1,) + sa
    if vb:
        sb = sb + (1,)
    for s in (sa[-2:], sb[-2:]):
        if any(isinstance(d, Variadic) for d in s):
            r.fail("SC304", "`@` needs the last two dimensions of each operand to be known")
    n, k_a = sa[-2], sa[-1]
    k_b, m = sb[-2], sb[-1]
    r.same(k_a, k_b, "`@`: the last dimension of the left operand must equal the "
                     "second-to-last of the right", "SC303")
    batch = r.broadcast(sa[:-2], sb[:-2], "`@`: batch dimensions")
    shape = batch + ((n,) if not va else ()) + ((m,) if not vb else ())
    flops = 2 * r.numel(batch) * n * k_a * m
    return Out(shape, dtype, flops=flops)


_EINSUM_TERM = re.compile(r"^(\.\.\.)?[A-Za-z]*(\.\.\.)?[A-Za-z]*$")


def parse_einsum(eq: str, n_operands: int):
    """Split an einsum equation into input terms and the output term, each a
    list of letters (``"..."`` as one item). Raises ValueError with a reason."""
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        explicit = True
    else:
        lhs, rhs, explicit = eq, "", False
    terms = lhs.split(",")
    if len(terms) != n_operands:
        raise ValueError(f"the equation has {len(terms)} input terms but {n_operands} operands are given")

    def split(t):
        if not _EINSUM_TERM.match(t) or t.count("...") > 1:
            raise ValueError(f"bad term {t!r}: use letters and at most one '...'")
        out, i = [], 0
        while i < len(t):
            if t.startswith("...", i):
                out.append("...")
                i += 3
            else:
                out.append(t[i])
                i += 1
        return out

    ins = [split(t) for t in terms]
    if explicit:
        out = split(rhs)
        seen = {c for t in ins for c in t}
        for c in out:
            if c not in seen:
                raise ValueError(f"output letter {c!r} appears in no input")
        if "..." in seen and "..." not in out:
            raise ValueError("'...' in an input must appear in the output too (NumPy refuses to sum it away)")
        if len(set(out)) != len(out):
            raise ValueError("an output letter is repeated")
    else:
        counts: dict = {}
        for t in ins:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = (["..."] if "..." in counts else []) + sorted(c for c, n in counts.items() if n == 1 and c != "...")
    return ins, out


_EINSUM_PATHS: dict = {}


def _einsum_kernel(k, equation, operands):
    """``np.einsum`` along an optimised contraction path (pairwise, through
    BLAS where NumPy can), computed once per equation and operand shapes."""
    np = k.np
    key = (equation, tuple(np.shape(o) for o in operands))
    path = _EINSUM_PATHS.get(key)
    if path is None:
        path = np.einsum_path(equation, *operands, optimize="optimal" if len(operands) <= 4 else "greedy")[0]
        if len(_EINSUM_PATHS) >= 4096:
            _EINSUM_PATHS.clear()
        _EINSUM_PATHS[key] = path
    return np.einsum(equation, *operands, optimize=path)


@op("einsum", Arg("equation", STR), Arg("operands", "tensors*"), kernel=_einsum_kernel)
def einsum(r, equation, operands):
    """`einsum("bhqd,bhkd->bhqk", a, b)`: einsum semantics; letters name axes."""
    try:
        ins, out = parse_einsum(equation, len(operands))
    except ValueError as e:
        r.fail("SC306", f"einsum {equation!r}: {e}")
    sizes: dict = {}
    ell = None
    for term, x in zip(ins, operands):
        shape = fixed(r, x, "einsum")
        n_ell = len(shape) - (len(term) - (1 if "..." in term else 0))
        if ("..." in term and n_ell < 0) or ("..." not in term and n_ell != 0):
            r.fail("SC306", f"einsum {equation!r}: term {''.join(term)!r} has "
                            f"{len(term)} axes but the operand has rank {len(shape)}")
        i = 0
        for c in term:
            if c == "...":
                part = shape[i:i + n_ell]
                ell = part if ell is None else r.broadcast(ell, part, f"einsum {equation!r}: '...'")
                i += n_ell
                continue
            if c in sizes:
                r.same(sizes[c], shape[i], f"einsum {equation!r}: axis {c!r}", "SC306")
            else:
                sizes[c] = shape[i]
            i += 1
    shape = []
    for c in out:
        shape.extend(ell or () if c == "..." else (sizes[c],))
    total = r.prod(list(sizes.values()) + list(ell or ()))
    return Out(tuple(shape), "float", flops=2 * total)


_ = TENSORS
