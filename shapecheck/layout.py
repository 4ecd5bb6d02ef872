"""Layered (Sugiyama) graph layout in pure Python, for the report's dataflow
diagram: nodes are boxes of a given size, edges go down the page.

The four classic phases (Sugiyama, Tagawa and Toda, 1981):

1. **layering**: longest path to the sinks (as late as possible: inputs,
   weights and independent chains sit just above where they are used);
2. **normalisation**: an edge spanning several layers gets a chain of small
   dummy nodes, so every edge joins adjacent layers and routes around boxes;
3. **crossing reduction**: barycentre ordering, sweeping down and up;
4. **coordinates**: each node pulled towards the mean of its neighbours,
   then overlaps resolved in layer order with a fixed gap (boxes in one layer
   never overlap; layers are separated vertically, so no two boxes do).

>>> pos, routes, size = layout({"a": (40, 20), "b": (40, 20), "c": (40, 20)}, [("a", "b"), ("a", "c"), ("b", "c")])
>>> pos["a"][1] < pos["b"][1] < pos["c"][1]
True
>>> len(routes[("a", "c")])   # through one dummy point
3
"""
from __future__ import annotations

#: space between boxes in a layer, between layers, and around the drawing
GAP_X, GAP_Y, MARGIN = 28, 26, 12
DUMMY_W = 10


def _layers(nodes, edges) -> dict:
    succ = {n: [] for n in nodes}
    pred = {n: [] for n in nodes}
    for u, v in edges:
        succ[u].append(v)
        pred[v].append(u)
    # as late as possible: a statement sits just above its first reader, so
    # independent chains (a decoder's embedding) join where they are used
    # instead of widening the top of the drawing
    height: dict = {}
    for n in reversed(list(nodes)):   # callers give a topological order (program order)
        height[n] = max((height[s] + 1 for s in succ[n]), default=0)
    top = max(height.values(), default=0)
    layer = {n: top - h for n, h in height.items()}
    return layer


def layout(nodes: dict, edges: list, sweeps: int = 12):
    """``nodes``: id -> (width, height) in insertion (topological) order;
    ``edges``: (from, to) pairs. Returns ``(centres, routes, (width, height))``:
    each node's centre, each edge's polyline (centre of the source, dummy
    points, centre of the target) and the drawing's size."""
    layer = _layers(nodes, edges)
    size = dict(nodes)
    chains: dict = {}
    adj_edges = []
    for k, (u, v) in enumerate(edges):
        chain = [u]
        for i in range(layer[u] + 1, layer[v]):
            d = ("__dummy", k, i)
            layer[d] = i
            size[d] = (DUMMY_W, 0)
            chain.append(d)
        chain.append(v)
        chains[(u, v)] = chain
        adj_edges.extend(zip(chain, chain[1:]))
    n_layers = max(layer.values(), default=-1) + 1
    rows = [[] for _ in range(n_layers)]
    for n in size:
        rows[layer[n]].append(n)
    up = {n: [] for n in size}
    down = {n: [] for n in size}
    for a, b in adj_edges:
        down[a].append(b)
        up[b].append(a)
    # crossing reduction: barycentres
    pos = {n: i for row in rows for i, n in enumerate(row)}

    def sweep(seq, nbrs):
        for row in seq:
            bary = {}
            for i, n in enumerate(row):
                ns = nbrs[n]
                bary[n] = sum(pos[m] for m in ns) / len(ns) if ns else pos[n]
            row.sort(key=lambda n: (bary[n], pos[n]))
            for i, n in enumerate(row):
                pos[n] = i

    best = [list(r) for r in rows]
    best_c = _crossings(rows, down, pos)
    for it in range(sweeps):
        if it % 2 == 0:
            sweep(rows[1:], up)
        else:
            sweep(list(reversed(rows[:-1])), down)
        c = _crossings(rows, down, pos)
        if c < best_c:
            best, best_c = [list(r) for r in rows], c
    rows = best
    # coordinates
    x: dict = {}
    for row in rows:
        cur = 0.0
        for n in row:
            w = size[n][0]
            x[n] = cur + w / 2
            cur += w + GAP_X
    for it in range(16):
        seq = rows if it % 2 == 0 else list(reversed(rows))
        for row in seq:
            want = {}
            for n in row:
                ns = up[n] + down[n]
                want[n] = sum(x[m] for m in ns) / len(ns) if ns else x[n]
            _place(row, want, size, x)
    left = min((x[n] - size[n][0] / 2 for n in size), default=0)
    for n in x:
        x[n] += MARGIN - left
    heights = [max((size[n][1] for n in row), default=0) for row in rows]
    ys, cur = [], MARGIN
    for h in heights:
        ys.append(cur + h / 2)
        cur += h + GAP_Y
    centres = {n: (x[n], ys[layer[n]]) for n in size}
    width = max((x[n] + size[n][0] / 2 for n in size), default=0) + MARGIN
    height = cur - GAP_Y + MARGIN
    routes = {e: [centres[n] for n in chain] for e, chain in chains.items()}
    return {n: centres[n] for n in nodes}, routes, (width, height)


def _place(row, want, size, x):
    """Put the row's nodes as near their wanted centres as the order and gaps allow."""
    n = len(row)
    xs = [want[v] for v in row]
    # forward: no overlap with the left neighbour
    for i in range(1, n):
        lo = xs[i - 1] + (size[row[i - 1]][0] + size[row[i]][0]) / 2 + GAP_X
        if xs[i] < lo:
            xs[i] = lo
    # backward: pull a block left again where it was pushed past its wish, keeping gaps
    for i in range(n - 2, -1, -1):
        hi = xs[i + 1] - (size[row[i + 1]][0] + size[row[i]][0]) / 2 - GAP_X
        if xs[i] > hi:
            xs[i] = hi
    for v, xv in zip(row, xs):
        x[v] = xv


def _crossings(rows, down, pos) -> int:
    total = 0
    for row in rows:
        segs = [(pos[a], pos[b]) for a in row for b in down[a]]
        segs.sort()
        for i in range(len(segs)):
            for j in range(i + 1, len(segs)):
                if segs[i][0] < segs[j][0] and segs[i][1] > segs[j][1]:
                    total += 1
    return total
