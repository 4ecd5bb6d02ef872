"""Operations that move dimensions: transpose, permute, reshape, rearrange,
concat, stack, split, indexing and slicing."""
from __future__ import annotations

import re

from .core import (AXES, AXES_OPT, AXIS, DIM, DIMS, SHAPE, STR, TENSOR, TENSORS, Arg, Out, Variadic, axis, fixed, op,
                   promote)


@op("transpose", Arg("x", TENSOR), Arg("i", AXIS, -2), Arg("j", AXIS, -1),
    kernel=lambda k, x, i, j: k.np.swapaxes(x, i, j))
def transpose(r, x, i, j):
    """`transpose(x, i, j)`: axes `i` and `j` swapped."""
    a, b = axis(r, x.shape, i, "transpose"), axis(r, x.shape, j, "transpose")
    s = list(x.shape)
    s[a], s[b] = s[b], s[a]
    return Out(tuple(s), x.dtype)


@op("permute", Arg("x", TENSOR), Arg("axes", AXES),
    kernel=lambda k, x, axes: k.np.transpose(x, axes))
def permute(r, x, axes):
    """`permute(x, i, j, ...)`: axes reordered (a permutation of all axes)."""
    shape = fixed(r, x, "permute")
    idx = [axis(r, shape, a, "permute") for a in axes]
    if sorted(idx) != list(range(len(shape))):
        r.fail("SC304", f"permute: {list(axes)} is not a permutation of the {len(shape)} axes")
    return Out(tuple(shape[i] for i in idx), x.dtype)


def _reshape_kernel(k, x, shape):
    return x.reshape(tuple(shape))


def _is_minus_one(d) -> bool:
    """Is ``d`` the literal -1 (a sympy Integer on the symbolic side, an int on the numeric one)?"""
    return (isinstance(d, int) or getattr(d, "is_Integer", False)) and d == -1


def solve_sizes(r, total, sizes, what):
    """``sizes`` (a target shape) with its one ``-1`` solved so that the product
    is ``total`` (the division must be exact); without ``-1``, the product must
    equal ``total``."""
    holes = [i for i, d in enumerate(sizes) if _is_minus_one(d)]
    if len(holes) > 1:
        r.fail("SC305", f"{what}: only one size can be -1, got {len(holes)}")
    known = [d for d in sizes if not isinstance(d, Variadic) and not _is_minus_one(d)]
    if not holes:
        r.same(total, r.prod(known), f"{what}: the number of elements must not change")
        return tuple(sizes)
    solved = r.div(total, r.prod(known), f"{what}: solving -1 ({r.show(total)} elements)")
    return tuple(solved if i == holes[0] else d for i, d in enumerate(sizes))


@op("reshape", Arg("x", TENSOR), Arg("shape", SHAPE), kernel=_reshape_kernel)
def reshape(r, x, shape):
    """`reshape(x, [shape])`: the products of the dimensions must be equal; one size may be
    -1 (solved, and the division must be exact)."""
    src = [d for d in x.shape if not isinstance(d, Variadic)]
    if [d for d in x.shape if isinstance(d, Variadic)] != [d for d in shape if isinstance(d, Variadic)]:
        r.fail("SC305", "reshape: the variadic dimensions must be the same on both sides")
    return Out(solve_sizes(r, r.prod(src), tuple(shape), "reshape"), x.dtype)


@op("flatten", Arg("x", TENSOR), Arg("start_dim", AXIS, 0), Arg("end_dim", AXIS, -1),
    kernel=lambda k, x, start_dim, end_dim: x.reshape(
        x.shape[:start_dim % x.ndim] + (-1,) + x.shape[end_dim % x.ndim + 1:]))
def flatten(r, x, start, end):
    """`flatten(x, start_dim=0, end_dim=-1)`: the axes `start_dim..end_dim` merged into one."""
    shape = fixed(r, x, "flatten")
    if not shape:
        return Out((1,), x.dtype)
    a, b = axis(r, shape, start, "flatten"), axis(r, shape, end, "flatten")
    if a > b:
        r.fail("SC304", f"flatten: start_dim {start} comes after end_dim {end}")
    return Out(shape[:a] + (r.prod(shape[a:b + 1]),) + shape[b + 1:], x.dtype)


@op("unflatten", Arg("x", TENSOR), Arg("axis", AXIS), Arg("sizes", SHAPE),
    kernel=lambda k, x, axis, sizes: x.reshape(x.shape[:axis % x.ndim] + tuple(sizes) + x.shape[axis % x.ndim + 1:]))
def unflatten(r, x, ax, sizes):
    """`unflatten(x, axis, [sizes])`: `axis` split into `sizes` (product equal; one may be -1)."""
    i = axis(r, x.shape, ax, "unflatten")
    if not sizes or any(isinstance(d, Variadic) for d in sizes):
        r.fail("SC103", "unflatten: `sizes` must list one or more dimensions")
    return Out(x.shape[:i] + solve_sizes(r, x.shape[i], tuple(sizes), "unflatten") + x.shape[i + 1:], x.dtype)


def _squeeze_kernel(k, x, axis):
    if axis is None:
        return k.np.squeeze(x)
    return k.np.squeeze(x, axis=axis)


@op("squeeze", Arg("x", TENSOR), Arg("axis", AXES_OPT, None), kernel=_squeeze_kernel)
def squeeze(r, x, ax):
    """`squeeze(x, axis=none)`: the given axes removed, each must be 1; without `axis`, every
    axis of size 1 (the others must be provably larger than 1)."""
    shape = fixed(r, x, "squeeze")
    if ax is None:
        keep = []
        for i, d in enumerate(shape):
            if d == 1 or r.is_one(d):
                continue
            if r.sign(d - 2) != 1:
                r.fail("SC304", f"squeeze: whether axis {i} ({r.show(d)}) is removed depends on the sizes "
                                f"(it is when {r.show(d)} is 1); name the axes to remove")
            keep.append(d)
        return Out(tuple(keep), x.dtype)
    from .reduce import reduced_axes
    idx = set(reduced_axes(r, shape, ax, "squeeze"))
    for i in sorted(idx):
        r.same(1, shape[i], f"squeeze: axis {i} must have size 1")
    return Out(tuple(d for i, d in enumerate(shape) if i not in idx), x.dtype)


@op("unsqueeze", Arg("x", TENSOR), Arg("axis", AXIS),
    kernel=lambda k, x, axis: k.np.expand_dims(x, axis))
def unsqueeze(r, x, ax):
    """`unsqueeze(x, axis)`: a new axis of size 1 at `axis` (counted in the result)."""
    i = axis(r, x.shape, ax, "unsqueeze", extra=1)
    return Out(x.shape[:i] + (r.integer(1),) + x.shape[i:], x.dtype)


def _expand_target(shape, sizes):
    """``sizes`` with each -1 replaced by ``shape``'s size aligned from the right."""
    lead = len(sizes) - len(shape)
    return tuple(shape[i - lead] if _is_minus_one(d) and i >= lead else d for i, d in enumerate(sizes))


@op("expand", Arg("x", TENSOR), Arg("sizes", SHAPE),
    kernel=lambda k, x, sizes: k.np.broadcast_to(x, _expand_target(x.shape, tuple(sizes))))
def expand(r, x, sizes):
    """`expand(x, [sizes])`: as `broadcast_to`, where -1 keeps the input's size."""
    shape = fixed(r, x, "expand")
    if len(sizes) < len(shape):
        r.fail("SC302", f"expand: cannot expand rank {len(shape)} to rank {len(sizes)}")
    lead = len(sizes) - len(shape)
    if any(_is_minus_one(d) for d in sizes[:lead]):
        r.fail("SC302", "expand: -1 is not allowed for a new leading axis")
    from .elementwise import broadcast_to
    return broadcast_to(r, x, _expand_target(shape, tuple(sizes)), "expand")


def _repeat_interleave_kernel(k, x, repeats, axis):
    return k.np.repeat(x, repeats, axis=axis)


@op("repeat_interleave", Arg("x", TENSOR), Arg("repeats", DIM), Arg("axis", AXES_OPT, None),
    kernel=_repeat_interleave_kernel)
def repeat_interleave(r, x, repeats, ax):
    """`repeat_interleave(x, repeats, axis=none)`: each element repeated `repeats` times along
    `axis` (which grows `repeats`-fold); without `axis`, of the flattened tensor."""
    r.positive(repeats, "repeat_interleave: repeats")
    if ax is None:
        return Out((r.prod(list(fixed(r, x, "repeat_interleave"))) * repeats,), x.dtype)
    if isinstance(ax, tuple):
        r.fail("SC103", f"repeat_interleave: `axis` is one integer axis, got {list(ax)}")
    i = axis(r, x.shape, ax, "repeat_interleave")
    return Out(x.shape[:i] + (x.shape[i] * repeats,) + x.shape[i + 1:], x.dtype)


# ---- rearrange (einops semantics) ------------------------------------------------

_TOKEN = re.compile(r"\s*(\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+|->|\S)")


def parse_pattern(pattern: str):
    """Parse one side of a rearrange pattern into a list of items: a name, the
    int 1, ``"..."``, or a tuple (group) of names/1s. Raises ValueError."""
    items, group = [], None
    pos = 0
    text = pattern.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            break
        tok = m.group(1)
        pos = m.end()
        if tok == "(":
            if group is not None:
                raise ValueError("nested parentheses")
            group = []
        elif tok == ")":
            if group is None:
                raise ValueError("unbalanced ')'")
            items.append(tuple(group))
            group = None
        elif tok == "...":
            if group is not None:
                raise ValueError("'...' inside parentheses")
            items.append("...")
        elif tok.isdigit():
            if tok != "1":
                raise ValueError(f"only the number 1 may appear in a pattern, got {tok}")
            (group if group is not None else items).append(1)
        elif re.match(r"[A-Za-z_]", tok):
            (group if group is not None else items).append(tok)
        else:
            raise ValueError(f"unexpected {tok!r}")
    if group is not None:
        raise ValueError("unbalanced '('")
    if items.count("...") > 1:
        raise ValueError("'...' appears twice")
    names = [n for it in items for n in (it if isinstance(it, tuple) else (it,)) if isinstance(n, str) and n != "..."]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"axis {sorted(dup)[0]!r} appears twice on one side")
    return items, names


def split_pattern(pattern: str):
    if pattern.count("->") != 1:
        raise ValueError("the pattern needs exactly one '->'")
    left, right = pattern.split("->")
    (li, ln), (ri, rn) = parse_pattern(left), parse_pattern(right)
    if set(ln) != set(rn):
        only = sorted(set(ln) ^ set(rn))
        raise ValueError(f"axis {only[0]!r} appears on one side only")
    if ("..." in li) != ("..." in ri):
        raise ValueError("'...' must appear on both sides or neither")
    return li, ri


def _rearrange_kernel(k, x, pattern, axes):
    from .shape_np import rearrange_np
    return rearrange_np(k.np, x, pattern, axes)


@op("rearrange", Arg("x", TENSOR), Arg("pattern", STR), kernel=_rearrange_kernel, varkw="dim")
def rearrange(r, x, pattern, axes):
    """`rearrange(x, "b l (h k) -> b h l k", h=heads)`: einops semantics."""
    where = f"rearrange {pattern!r}"
    try:
        left, right = split_pattern(pattern)
    except ValueError as e:
        r.fail("SC306", f"{where}: {e}")
    extra = sorted(n for n in axes if n not in _names(left))
    if extra:     # before anything else: a misspelled keyword explains every later complaint
        from ..parse import suggest
        named = sorted(n for n in _names(left) if n != "...")
        hint = suggest(extra[0], named)
        r.fail("SC306", f"{where}: keyword {extra[0]!r} names no axis of the pattern"
                        + (f"; did you mean {hint!r}?" if hint else "")
                        + f" (axes: {', '.join(named) or 'none'})")
    sizes = dict(axes)
    shape = x.shape
    n_fixed = len([i for i in left if i != "..."])
    if "..." in left:
        if len(shape) < n_fixed:
            r.fail("SC304", f"{where}: the input has rank {len(shape)}, the pattern needs at least {n_fixed}")
    else:
        if any(isinstance(d, Variadic) for d in shape):
            r.fail("SC304", f"{where}: use '...' for the variadic dimensions of the input")
        if len(shape) != n_fixed:
            r.fail("SC304", f"{where}: the pattern has {n_fixed} axes but the input has rank "
                            f"{len(shape)}")
    ell: tuple = ()
    i = 0
    for item in left:
        if item == "...":
            n = len(shape) - n_fixed
            ell = tuple(shape[i:i + n])
            i += n
            continue
        d = shape[i]
        i += 1
        if isinstance(d, Variadic):
            r.fail("SC304", f"{where}: a named axis cannot match variadic {d}")
        if item == 1:
            r.same(1, d, f"{where}: axis '1'", "SC306")
        elif isinstance(item, str):
            if item in sizes:
                r.same(sizes[item], d, f"{where}: axis {item!r}", "SC306")
            else:
                sizes[item] = d
        else:  # group
            known = [sizes[n] for n in item if isinstance(n, str) and n in sizes]
            unknown = [n for n in item if isinstance(n, str) and n not in sizes]
            if len(unknown) > 1:
                r.fail("SC306", f"{where}: cannot infer both {unknown[0]!r} and {unknown[1]!r} in "
                                f"({' '.join(map(str, item))}); give one as a keyword, e.g. {unknown[0]}=...")
            if unknown:
                sizes[unknown[0]] = r.div(d, r.prod(known),
                                          f"{where}: splitting {r.show(d)} into "
                                          f"({' '.join(map(str, item))})")
            else:
                r.same(r.prod(known), d, f"{where}: group ({' '.join(map(str, item))})", "SC306")
    extra = sorted(n for n in axes if n not in _names(left))
    if extra:
        r.fail("SC306", f"{where}: keyword {extra[0]!r} names no axis of the pattern")
    out = []
    for item in right:
        if item == "...":
            out.extend(ell)
        elif item == 1:
            out.append(1)
        elif isinstance(item, str):
            out.append(sizes[item])
        else:
            out.append(r.prod([1 if n == 1 else sizes[n] for n in item]))
    return Out(tuple(r.integer(d) if isinstance(d, int) else d for d in out), x.dtype)


def _names(items):
    return {n for it in items for n in (it if isinstance(it, tuple) else (it,)) if isinstance(n, str)}


# ---- concat / stack / split ----------------------------------------------------------

@op("concat", Arg("tensors", TENSORS), Arg("axis", AXIS, 0),
    kernel=lambda k, tensors, axis: k.np.concatenate(tensors, axis=axis))
def concat(r, tensors, ax):
    """`concat([a, b], axis)`: equal shapes except along `axis`, which adds up."""
    if not tensors:
        r.fail("SC105", "concat needs at least one tensor")
    first = tensors[0].shape
    i = axis(r, first, ax, "concat")
    for t in tensors[1:]:
        if len(t.shape) != len(first):
            r.fail("SC304", f"concat: tensors of rank {len(first)} and {len(t.shape)}")
        axis(r, t.shape, ax, "concat")     # the axis must be a known dimension of every tensor
        for k, (a, b) in enumerate(zip(first, t.shape)):
            if k != i:
                if isinstance(a, Variadic) or isinstance(b, Variadic):
                    if a != b:
                        r.fail("SC304", "concat: variadic dimensions differ")
                    continue
                r.same(a, b, f"concat: dimension {k} must be equal", "SC305")
    total = sum((t.shape[i] for t in tensors[1:]), first[i])
    return Out(first[:i] + (total,) + first[i + 1:], promote(*(t.dtype for t in tensors)))


@op("stack", Arg("tensors", TENSORS), Arg("axis", AXIS, 0),
    kernel=lambda k, tensors, axis: k.np.stack(tensors, axis=axis))
def stack(r, tensors, ax):
    """`stack([a, b], axis)`: equal shapes; a new axis of size len(tensors)."""
    if not tensors:
        r.fail("SC105", "stack needs at least one tensor")
    first = tensors[0].shape
    for t in tensors[1:]:
        if len(t.shape) != len(first):
            r.fail("SC304", f"stack: tensors of rank {len(first)} and {len(t.shape)}")
        for k, (a, b) in enumerate(zip(first, t.shape)):
            if isinstance(a, Variadic) or isinstance(b, Variadic):
                if a != b:
                    r.fail("SC304", "stack: variadic dimensions differ")
                continue
            r.same(a, b, f"stack: dimension {k} must be equal", "SC305")
    i = axis(r, first, ax, "stack", extra=1)
    return Out(first[:i] + (r.integer(len(tensors)),) + first[i:], promote(*(t.dtype for t in tensors)))


def _split_kernel(k, x, n, axis):
    if isinstance(n, tuple):      # section sizes: split at their running sums
        cuts, at = [], 0
        for s in n[:-1]:
            at += s
            cuts.append(at)
        if at + n[-1] != x.shape[axis]:
            raise ValueError(f"the sections {list(n)} add up to {at + n[-1]}, not {x.shape[axis]}")
        return tuple(k.np.split(x, cuts, axis=axis))
    return tuple(k.np.split(x, n, axis=axis))


@op("split", Arg("x", TENSOR), Arg("n", DIMS), Arg("axis", AXIS, -1), kernel=_split_kernel)
def split(r, x, n, ax):
    """`split(x, n, axis)`: `n` equal parts (the axis must divide by `n`); `split(x, [s1, s2, s3],
    axis)`: parts of those sizes (which must add up to the axis)."""
    i = axis(r, x.shape, ax, "split")
    if n is None:
        r.fail("SC103", "split: give the number of parts or the list of their sizes")
    if isinstance(n, tuple):
        if not 1 <= len(n) <= 64:
            r.fail("SC103", f"split: 1 to 64 sections, got {len(n)}")
        r.same(x.shape[i], sum(n[1:], n[0]), f"split: the sections must add up to axis {ax}")
        return tuple(Out(x.shape[:i] + (s,) + x.shape[i + 1:], x.dtype) for s in n)
    if not getattr(n, "is_Integer", False):
        r.fail("SC103", "split: the number of parts must be an integer constant")
    if int(n) < 1 or int(n) > 64:
        r.fail("SC103", f"split: the number of parts must be in 1..64, got {n}")
    part = r.div(x.shape[i], n, f"split: dividing {r.show(x.shape[i])} into {n} parts")
    shape = x.shape[:i] + (part,) + x.shape[i + 1:]
    return tuple(Out(shape, x.dtype) for _ in range(int(n)))


_ = DIM


# ---- indexing and slicing ----------------------------------------------------------

def _index_kernel(k, x, items):
    return x[tuple(slice(*it) if isinstance(it, tuple) else it for it in items)]


@op("index", Arg("x", TENSOR), Arg("items", "subscripts"), kernel=_index_kernel)
def index(r, x, items):
    """`x[i, a:b, :]`: an integer removes its axis; a slice keeps it, sized
    `stop - start`; `none` adds an axis of size 1; `...` stands for the axes
    the other items leave (at most one). A bound that is provably negative
    counts from the end (as in NumPy); one whose sign depends on the sizes is
    flagged, and so is a position past the dimension."""
    n_ell = sum(1 for it in items if it is Ellipsis)
    if n_ell > 1:
        r.fail("SC304", "an index can have only one `...`")
    used = [it for it in items if it is not Ellipsis and it is not None]
    shape = x.shape
    if len(used) > len(shape):      # (a *variadic counts once: indexing through it fails below)
        r.fail("SC304", f"too many indices ({len(used)}) for a tensor of rank {len(shape)} {r.show_shape(shape)}")
    if n_ell:     # `...` takes the axes the other items leave: as many full slices
        at = items.index(Ellipsis)
        items = list(items[:at]) + [(None, None, None)] * (len(shape) - len(used)) + list(items[at + 1:])
    out = []
    n = 0
    for it in items:
        if it is None:
            out.append(r.integer(1))
            continue
        d = shape[n]
        if isinstance(d, Variadic):
            if it == (None, None, None):
                out.append(d)
                n += 1
                continue
            r.fail("SC304", f"cannot index through variadic {d}")
        if isinstance(it, tuple):
            start, stop, step = it
            step = r.integer(1) if step is None else step
            if not (step.is_Integer and step > 0):
                r.fail("SC103", f"slice step must be a positive integer constant, got {step}")
            start = r.integer(0) if start is None else _position(r, start, d, f"slice start on axis {n}", True)
            stop = d if stop is None else _position(r, stop, d, f"slice end on axis {n}", True)
            r.at_most(start + 1, stop, f"slice on axis {n} must not be empty (start < end)")
            out.append(stop - start if step == 1 else r.ceiling((stop - start) / step))
        else:
            _position(r, it, d, f"index {r.show(it)} on axis {n}", False)
        n += 1
    return Out(tuple(out) + tuple(shape[n:]), x.dtype)


def _position(r, e, d, what, is_bound):
    """The position ``e`` on an axis of size ``d`` as an offset from the start:
    negative counts from the end. Checks it lies inside the axis (a slice bound
    may equal ``d``)."""
    sign = -1 if _neg(e) else 1 if getattr(e, "is_nonnegative", False) else r.sign(e)
    if sign is None:
        r.fail("SC307", f"{what}: {r.show(e)} may be negative (counting from the end) or not, depending on "
                        f"the sizes; make its sign certain with a `require`")
    if sign < 0:
        r.at_most(-e, d, f"{what}: {r.show(e)} counts from the end")
        return d + e
    r.at_most(e if is_bound else e + 1, d, f"{what} (must be {'<=' if is_bound else '<'} {r.show(d)})")
    return e


def _neg(e) -> bool:
    return bool(getattr(e, "is_Integer", False) and e < 0)
