"""NumPy implementations of the shape-moving operations that need more than a
one-line kernel: ``rearrange`` with einops semantics.

The pattern grammar is the one the symbolic rule uses
(:func:`shapecheck.ops.shape.split_pattern`), so both sides read a pattern the
same way.
"""
from __future__ import annotations

from math import prod


def rearrange_np(np, x, pattern: str, axes: dict):
    """``rearrange(x, pattern, **axes)`` with einops semantics, by one reshape,
    one transpose and one reshape.

    Supports groups ``(h k)`` on either side, ``1`` (and ``()``) for axes of
    size one, ``...`` for any number of axes, and keyword sizes for axes that
    cannot be inferred. Raises :class:`ValueError` saying what does not fit.

    >>> import numpy as np
    >>> x = np.arange(24).reshape(2, 3, 4)
    >>> rearrange_np(np, x, "b l (h k) -> b h l k", {"h": 2}).shape
    (2, 2, 3, 2)
    >>> rearrange_np(np, x, "b ... -> ... b", {}).shape
    (3, 4, 2)
    >>> rearrange_np(np, x, "b l (h k) -> b l h k", {"h": 3})
    Traceback (most recent call last):
    ...
    ValueError: rearrange 'b l (h k) -> b l h k': cannot split axis 2 of size 4 into (h k) with h=3
    """
    from .shape import split_pattern

    where = f"rearrange {pattern!r}"
    try:
        left, right = split_pattern(pattern)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    x = np.asarray(x)
    shape = tuple(int(d) for d in x.shape)
    sizes = {k: int(v) for k, v in axes.items()}
    left_names = {n for it in left for n in (it if isinstance(it, tuple) else (it,))
                  if isinstance(n, str) and n != "..."}
    for k in sizes:
        if k not in left_names:
            raise ValueError(f"{where}: keyword {k!r} names no axis of the pattern")
    n_fixed = len([it for it in left if it != "..."])
    if "..." in left:
        if len(shape) < n_fixed:
            raise ValueError(f"{where}: the input has shape {list(shape)} (rank {len(shape)}), "
                             f"the pattern needs rank >= {n_fixed}")
    elif len(shape) != n_fixed:
        raise ValueError(f"{where}: the pattern has {n_fixed} axes but the input has shape "
                         f"{list(shape)} (rank {len(shape)})")
    n_ell = len(shape) - n_fixed
    ell_names = [f"...{i}" for i in range(n_ell)]

    # the elementary axes of the input, in order, with their sizes
    elementary: list = []
    i = 0
    for item in left:
        if item == "...":
            for name in ell_names:
                sizes[name] = shape[i]
                elementary.append(name)
                i += 1
            continue
        d = shape[i]
        if item == 1:
            if d != 1:
                raise ValueError(f"{where}: axis {i} is {d}, the pattern says 1")
        elif isinstance(item, str):
            if item in sizes and sizes[item] != d:
                raise ValueError(f"{where}: axis {i} ({item}) is {d}, but {item}={sizes[item]}")
            sizes[item] = d
            elementary.append(item)
        else:  # a group
            names = [n for n in item if isinstance(n, str)]
            unknown = [n for n in names if n not in sizes]
            known = prod(sizes[n] for n in names if n in sizes)
            text = "(" + " ".join(map(str, item)) + ")"
            given = ", ".join(f"{n}={sizes[n]}" for n in names if n in sizes)
            if len(unknown) > 1:
                raise ValueError(f"{where}: cannot infer both {unknown[0]!r} and {unknown[1]!r} in {text}")
            if unknown:
                if known == 0 or d % known:
                    raise ValueError(f"{where}: cannot split axis {i} of size {d} into {text}"
                                     f" with {given}")
                sizes[unknown[0]] = d // known
            elif known != d:
                raise ValueError(f"{where}: axis {i} is {d} but {text} is {known}"
                                 + (f" ({given})" if given else ""))
            elementary.extend(names)
        i += 1

    # the output: elementary axes in the right side's order, then the groups merged
    order: list = []
    out_shape: list = []
    for item in right:
        if item == "...":
            order.extend(ell_names)
            out_shape.extend(sizes[n] for n in ell_names)
        elif item == 1:
            out_shape.append(1)
        elif isinstance(item, str):
            order.append(item)
            out_shape.append(sizes[item])
        else:
            names = [n for n in item if isinstance(n, str)]
            order.extend(names)
            out_shape.append(prod(sizes[n] for n in names))
    y = x.reshape(tuple(sizes[n] for n in elementary))
    perm = [elementary.index(n) for n in order]
    if perm != list(range(len(perm))):
        y = np.transpose(y, perm)
    return y.reshape(tuple(out_shape))
