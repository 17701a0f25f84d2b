"""The dense evaluator: a plan's grid tensor, written once into ascending-mode layout.

Every slot value is a 2-d array ``(channels, Π dims)`` whose column index runs over
the slot's modes in ascending order (C order).  A node's value is formed from its
children's values by broadcasting, never by transposing a large array:

* two operands over disjoint mode sets are viewed with size-1 axes where the other
  operand's modes are (consecutive modes of one operand merged into one axis), and
  ``g`` is applied with ``out=`` straight into the node's buffer.  When the modes of
  the two operands alternate near the end (e.g. ``{0,2,…}`` and ``{1,3,…}``), numpy's
  inner loop would be very short, so the trailing modes are *materialized* for both
  operands first (each operand is expanded over the trailing block, a small copy),
  which makes the inner loop a contiguous run; the block length is chosen by a cost
  model (:func:`_combine2`).
* ``k > 2`` operands with a regroupable ``g`` are split into two balanced groups
  (so a star tree costs one pass over the output, not ``k - 1``); ``"relu"`` folds
  in order.
* a sum of products (COLT form) and a dense transfer tensor reduce to matrix
  products whose output is already in ascending-mode layout when the children split
  into a prefix and a suffix of the modes.
* when the root would need a large intermediate (e.g. the left-deep tree of a tensor
  train), the plan is *cut* at a node ``ν`` whose modes are a prefix or suffix of all
  modes: ``A = X_ν^T E_ν`` with ``E_ν`` the node's environment
  (:func:`mtd.decompositions._plan.cut_plan`), one matrix product writing the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._config import check_allocation
from ..trees import format_node
from ._arith import Arith, exact_dtype, make_arith
from ._plan import (
    REGROUPABLE,
    LeafStep,
    NodeStep,
    Plan,
    SwapStep,
    check_output,
    cut_plan,
    plan_bound,
    subtree_plan,
)

__all__ = ["dense_tensor", "evaluate_dense"]

_LOOP_OVERHEAD = 16.0
"""Cost of one numpy inner-loop call, in element operations (for the layout cost model)."""
_MAX_AXES = 60
_SMALL = 1 << 14
"""Results with at most this many entries skip the layout cost model."""
_BLOCK = 1 << 16
"""Largest trailing block the cost model considers materializing."""
Operand = tuple[np.ndarray, tuple[int, ...]]


def _runs(owner: Sequence[Any], sizes: Sequence[int]) -> list[tuple[Any, int]]:
    """Group consecutive positions with the same owner: ``[(owner, Π sizes), …]``."""
    out: list[tuple[Any, int]] = []
    for o, s in zip(owner, sizes, strict=False):
        if out and out[-1][0] == o:
            out[-1] = (o, out[-1][1] * s)
        else:
            out.append((o, s))
    return out


def _alloc(arith: Arith, shape: tuple[int, ...], what: str) -> np.ndarray:
    check_allocation(shape, arith.itemsize, max_bytes=None, what=what)
    return arith.empty(shape)


def _combine2(
    op: Callable[..., np.ndarray],
    x: Operand,
    y: Operand,
    dims: Any,
    arith: Arith,
    out: np.ndarray | None,
) -> Operand:
    """``g(x, y)`` over the union of their modes (ascending layout), into ``out`` if given."""
    (a, ma), (b, mb) = x, y
    R = a.shape[0]
    if set(ma) & set(mb):
        return _combine_shared(op, x, y, dims, arith, out)
    modes = tuple(sorted(ma + mb))
    in_a = set(ma)
    own = [0 if m in in_a else 1 for m in modes]
    size = [int(dims[m]) for m in modes]
    n = len(modes)
    total = math.prod(size)
    best: tuple[float, int, list[tuple[int, int]]] | None = None
    # Small results: any layout will do.  Otherwise try trailing blocks up to ~64k entries.
    candidates = range(1) if R * total <= _SMALL else range(n + 1)
    for s in candidates:
        suffix = math.prod(size[n - s :])
        if s and suffix // size[n - s] >= _BLOCK:
            break
        runs = _runs(own[: n - s], size[: n - s])
        if len(runs) + 2 > _MAX_AXES:
            continue
        mat = 0
        for i in (0, 1):
            cnt = own[n - s :].count(i)
            if 0 < cnt < s:
                pre = math.prod(sz for o, sz in zip(own[: n - s], size, strict=False) if o == i)
                mat += R * pre * suffix
        inner = suffix if s else (runs[-1][1] if runs else 1)
        cost = R * total * (1.0 + _LOOP_OVERHEAD / inner) + 2.0 * mat
        if best is None or cost < best[0]:
            best = (cost, s, runs)
    assert best is not None
    _, s, runs = best
    suffix_sizes = size[n - s :]
    suffix = math.prod(suffix_sizes)
    views = []
    for i, arr in enumerate((a, b)):
        pre = math.prod(sz for o, sz in zip(own[: n - s], size, strict=False) if o == i)
        suf_own = [o == i for o in own[n - s :]]
        cnt = sum(suf_own)
        arr3 = arr.reshape(R, pre, -1)
        if 0 < cnt < s:
            shp = [sz if mine else 1 for sz, mine in zip(suffix_sizes, suf_own, strict=False)]
            full = np.broadcast_to(arr3.reshape(R, pre, *shp), (R, pre, *suffix_sizes))
            arr3 = np.ascontiguousarray(full).reshape(R, pre, suffix)
        last = suffix if cnt else 1
        views.append(arr3.reshape(R, *[sz if o == i else 1 for o, sz in runs], last))
    if out is None:
        out = _alloc(arith, (R, total), "an intermediate node tensor")
    op(views[0], views[1], out=out.reshape(R, *[sz for _, sz in runs], suffix))
    return out, modes


def _combine_shared(
    op: Callable[..., np.ndarray],
    x: Operand,
    y: Operand,
    dims: Any,
    arith: Arith,
    out: np.ndarray | None,
) -> Operand:
    """``g(x, y)`` when the operands share modes: pointwise on the shared ones (a copy tensor)."""
    (a, ma), (b, mb) = x, y
    R = a.shape[0]
    modes = tuple(sorted(set(ma) | set(mb)))
    sa, sb = set(ma), set(mb)
    runs = _runs([(m in sa, m in sb) for m in modes], [int(dims[m]) for m in modes])
    if out is None:
        out = _alloc(arith, (R, math.prod(sz for _, sz in runs)), "an intermediate node tensor")
    va = a.reshape(R, *[sz if o[0] else 1 for o, sz in runs])
    vb = b.reshape(R, *[sz if o[1] else 1 for o, sz in runs])
    op(va, vb, out=out.reshape(R, *[sz for _, sz in runs]))
    return out, modes


def _combine(
    ops: list[Operand],
    g: str,
    op: Callable[..., np.ndarray],
    dims: Any,
    arith: Arith,
    out: np.ndarray | None = None,
) -> Operand:
    """Fold ``g`` over the operands (regrouped into balanced halves when ``g`` allows)."""
    if len(ops) == 1:
        if out is None:
            return ops[0]
        out[...] = ops[0][0]
        return out, ops[0][1]
    if len(ops) == 2:
        return _combine2(op, ops[0], ops[1], dims, arith, out)
    if g in REGROUPABLE:
        # Split into a prefix and a suffix group (by smallest mode) of balanced size, so
        # that contiguous children give contiguous groups and the last pass is one write.
        order = sorted(ops, key=lambda o: o[1][0])
        logs = [sum(math.log(dims[m]) for m in mo) for _, mo in order]
        total = sum(logs)
        t = min(range(1, len(order)), key=lambda i: abs(2 * sum(logs[:i]) - total))
        groups = (order[:t], order[t:])
        left = _combine(groups[0], g, op, dims, arith)
        right = _combine(groups[1], g, op, dims, arith)
        return _combine2(op, left, right, dims, arith, out)
    acc = _combine2(op, ops[0], ops[1], dims, arith, None)
    for i, nxt in enumerate(ops[2:], start=3):
        acc = _combine2(op, acc, nxt, dims, arith, out if i == len(ops) else None)
    return acc


def _to_sorted(
    Z: np.ndarray,
    parts: Sequence[tuple[int, ...]],
    modes: tuple[int, ...],
    dims: Any,
    out: np.ndarray,
) -> np.ndarray:
    """Write ``Z`` (layout: the parts' modes one part after the other) in ascending layout."""
    R = Z.shape[0]
    layout = [m for p in parts for m in p]
    pos = {m: i for i, m in enumerate(layout)}
    blocks: list[list[int]] = []
    for m in modes:
        if blocks and pos[m] == pos[blocks[-1][-1]] + 1:
            blocks[-1].append(m)
        else:
            blocks.append([m])
    bsize = [math.prod(int(dims[m]) for m in blk) for blk in blocks]
    in_layout = sorted(range(len(blocks)), key=lambda j: pos[blocks[j][0]])
    zv = Z.reshape(R, *[bsize[j] for j in in_layout])
    perm = [0] + [1 + in_layout.index(j) for j in range(len(blocks))]
    out.reshape(R, *bsize)[...] = zv.transpose(perm)
    return out


def _colt_product(
    a: np.ndarray,
    kids: list[Operand],
    modes: tuple[int, ...],
    dims: Any,
    arith: Arith,
    op: Callable[..., np.ndarray],
    out: np.ndarray | None,
) -> np.ndarray:
    """``out[γ] = Σ_α a[γ, α] Π_c X_c[α]`` as matrix products over a prefix/suffix split."""
    k = len(kids)
    order = sorted(range(k), key=lambda i: kids[i][1][0])
    logsize = [sum(math.log(dims[m]) for m in kids[i][1]) for i in range(k)]
    split: tuple[float, list[int], list[int]] | None = None
    for t in range(1, k):
        left, right = order[:t], order[t:]
        if max(max(kids[i][1]) for i in left) < min(kids[j][1][0] for j in right):
            bal = abs(sum(logsize[i] for i in left) - sum(logsize[j] for j in right))
            if split is None or bal < split[0]:
                split = (bal, left, right)
    contiguous = split is not None
    g1, g2 = (split[1], split[2]) if split else (list(range(k // 2)), list(range(k // 2, k)))
    p1, m1 = _combine([kids[i] for i in g1], "product", op, dims, arith)
    p2, m2 = _combine([kids[i] for i in g2], "product", op, dims, arith)
    R = a.shape[0]
    s1, s2 = p1.shape[1], p2.shape[1]
    if out is None:
        out = _alloc(arith, (R, s1 * s2), "an intermediate node tensor")
    for gamma in range(R):
        left_factor = arith.reduce(p1 * a[gamma][:, None])
        if contiguous:
            arith.matmul(left_factor.T, p2, out=out[gamma].reshape(s1, s2))
        else:
            z = arith.matmul(left_factor.T, p2)
            _to_sorted(z.reshape(1, -1), [m1, m2], modes, dims, out[gamma : gamma + 1])
    return out


def _ht(
    B: np.ndarray,
    kids: list[Operand],
    modes: tuple[int, ...],
    dims: Any,
    arith: Arith,
    out: np.ndarray | None,
) -> np.ndarray:
    """``out[γ] = Σ B[γ, α_1…α_k] Π_c X_c[α_c]`` by contracting one child at a time."""
    R = B.shape[0]
    ranks = [x.shape[0] for x, _ in kids]
    cur = B
    spatial = 1
    for i in reversed(range(len(kids))):
        x = kids[i][0]
        lead = R * math.prod(ranks[:i])
        cur3 = cur.reshape(lead, ranks[i], spatial).transpose(0, 2, 1)
        tmp = arith.matmul(np.ascontiguousarray(cur3).reshape(lead * spatial, ranks[i]), x)
        cur = np.ascontiguousarray(tmp.reshape(lead, spatial, -1).transpose(0, 2, 1))
        spatial *= x.shape[1]
    Z = cur.reshape(R, spatial)
    parts = [m for _, m in kids]
    if out is None:
        out = _alloc(arith, (R, spatial), "an intermediate node tensor")
    if [m for p in parts for m in p] == list(modes):
        out[...] = Z
        return out
    return _to_sorted(Z, parts, modes, dims, out)


class _Converter:
    """Parameter arrays in the arithmetic's dtype, converted once (tied weights share)."""

    def __init__(self, arith: Arith):
        self.arith = arith
        self.cache: dict[int, np.ndarray] = {}

    def __call__(self, a: np.ndarray) -> np.ndarray:
        key = id(a)
        if key not in self.cache:
            self.cache[key] = self.arith.convert(a)
        return self.cache[key]


def _leaf_value(step: LeafStep, arith: Arith, conv: _Converter) -> np.ndarray:
    if arith.kind == "exact":
        # Exact leaves are formed in Python ints, then narrowed to the chosen dtype.
        mat = step.matrix.astype(object)
        val = mat.T if step.weight is None else step.weight.astype(object) @ mat.T
        return np.asarray(val, dtype=arith.dtype)
    mat = conv(step.matrix)
    if step.weight is None:
        return np.ascontiguousarray(mat.T)
    return arith.matmul(conv(step.weight), np.ascontiguousarray(mat.T))


def _node_value(
    step: NodeStep,
    vals: dict[int, np.ndarray],
    plan: Plan,
    arith: Arith,
    conv: _Converter,
    op: Callable[..., np.ndarray],
    rows: list[int] | None,
    out: np.ndarray | None,
) -> np.ndarray:
    dims = plan.dims
    kids = [(vals[c], plan.slot_modes[c]) for c in step.children]
    weights = [conv(w) for w in step.weights]
    if rows is not None:
        weights = [w[rows] for w in weights] if step.kind == "eq3" else [weights[0][rows]]
    if step.kind == "eq3":
        ops = [(arith.matmul(w, x), m) for w, (x, m) in zip(weights, kids, strict=False)]
        return _combine(ops, plan.g, op, dims, arith, out)[0]
    if step.kind == "colt":
        if plan.g == "product":
            return _colt_product(weights[0], kids, step.modes, dims, arith, op, out)
        h, _ = _combine(kids, plan.g, op, dims, arith)
        return arith.matmul(weights[0], h, out=out)
    return _ht(weights[0], kids, step.modes, dims, arith, out)


def _direct(plan: Plan, rows: list[int], arith: Arith, out: np.ndarray) -> np.ndarray:
    conv = _Converter(arith)
    op = arith.g_op(plan.g)
    last = plan.last_use()
    swapped = {s for st in plan.steps if isinstance(st, SwapStep) for s in st.slots}
    # Output slots read as they are (no dense layer, never swapped) need only the rows
    # asked for; the first one is written straight into ``out``.
    restricted = {t.slot for t in plan.outputs if t.matrix is None and t.slot not in swapped}
    first = plan.outputs[0].slot if plan.outputs[0].slot in restricted else None
    vals: dict[int, np.ndarray] = {}
    narrowed: set[int] = set()
    for i, step in enumerate(plan.steps):
        if isinstance(step, LeafStep):
            vals[step.slot] = _leaf_value(step, arith, conv)
        elif isinstance(step, NodeStep):
            if step.slot in restricted:
                target = out if step.slot == first else None
                vals[step.slot] = _node_value(step, vals, plan, arith, conv, op, rows, target)
                narrowed.add(step.slot)
            else:
                check_allocation(
                    (step.size, math.prod(plan.dims[m] for m in step.modes)),
                    arith.itemsize,
                    max_bytes=None,
                    what=f"the tensor of node {format_node(step.node)}",
                )
                vals[step.slot] = _node_value(step, vals, plan, arith, conv, op, None, None)
            for c in step.children:
                if last.get(c) == i:
                    del vals[c]
        else:
            s, t = step.slots
            n = step.n_channels
            tmp = vals[s][:n].copy()
            vals[s][:n] = vals[t][:n]
            vals[t][:n] = tmp
    for j, term in enumerate(plan.outputs):
        x = vals[term.slot]
        if j == 0 and term.slot == first and term.slot in narrowed:
            continue  # already in out
        if term.matrix is not None:
            val = arith.matmul(conv(term.matrix)[rows], x)
        else:
            val = x if term.slot in narrowed else x[rows]
        if j == 0:
            out[...] = val
        else:
            arith.add(out, val, out=out)
    return out


def _choose_cut(plan: Plan, n_rows: int) -> tuple[int, bool] | None:
    """A slot to cut the plan at (and whether its modes are a prefix), or None for direct."""
    if (
        n_rows != 1
        or plan.g != "product"
        or len(plan.outputs) != 1
        or plan.outputs[0].matrix is not None
        or any(isinstance(s, SwapStep) for s in plan.steps)
        or not plan.is_tree
    ):
        return None
    total = math.prod(plan.shape)
    root = plan.outputs[0].slot
    size = {s: math.prod(plan.dims[m] for m in mo) for s, mo in plan.slot_modes.items()}
    node_cost = sum(
        2 * st.size * size[st.slot]
        for st in plan.steps
        if isinstance(st, NodeStep) and st.slot != root
    )
    if node_cost <= 0.5 * total:
        return None
    best: tuple[float, int, bool] | None = None
    n = plan.n_modes
    for st in plan.steps:
        # Only interior nodes: each cut then strictly lowers the number of modes (the
        # environment trades the node's >= 2 modes for one), so recursion terminates.
        if not isinstance(st, NodeStep) or st.slot == root:
            continue
        mo = plan.slot_modes[st.slot]
        k = len(mo)
        prefix, suffix = mo == plan.modes[:k], mo == plan.modes[n - k :]
        if k == n or not (prefix or suffix):
            continue
        cost = total * (1.0 + st.size / 8.0) + 4.0 * st.size * (
            size[st.slot] + total // size[st.slot]
        )
        if best is None or cost < best[0]:
            best = (cost, st.slot, prefix)
    if best is None or best[0] >= total + node_cost:
        return None
    return best[1], best[2]


def evaluate_dense(plan: Plan, rows: list[int], arith: Arith, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (shape ``(len(rows), Π dims)``) with the plan's outputs ``rows``."""
    if arith.kind == "exact":
        return _direct(plan, rows, arith, out)
    key = ("cut", len(rows))
    if key not in plan.cache:
        cut = _choose_cut(plan, len(rows))
        plan.cache[key] = (
            None
            if cut is None
            else (cut[0], cut[1], subtree_plan(plan, cut[0]), cut_plan(plan, cut[0]))
        )
    if plan.cache[key] is None:
        return _direct(plan, rows, arith, out)
    slot, prefix, inner, env = plan.cache[key]
    r = plan.slot_sizes[slot]
    X = evaluate_dense(
        inner, list(range(r)), arith, _alloc(arith, (r, math.prod(inner.shape)), "a cut tensor")
    )
    E = evaluate_dense(env, rows, arith, _alloc(arith, (1, math.prod(env.shape)), "a cut tensor"))
    E = E.reshape(r, -1)
    if prefix:
        arith.matmul(X.T, E, out=out.reshape(X.shape[1], E.shape[1]))
    else:
        arith.matmul(E.T, X, out=out.reshape(E.shape[1], X.shape[1]))
    return out


def dense_tensor(
    plan: Plan,
    output: int | None = 0,
    *,
    arithmetic: str = "float",
    prime: int | None = None,
    max_bytes: int | None = None,
) -> np.ndarray:
    """The plan's output ``output`` (or all outputs, stacked first, for ``None``) as a tensor."""
    rows = check_output(output, plan.n_outputs)
    arith = make_arith(arithmetic, prime, plan)
    if arith.kind == "exact":
        leaf_bounds = {}
        for st in plan.steps:
            if isinstance(st, LeafStep):
                v = _leaf_value(st, Arith("exact", object), _Converter(arith))
                leaf_bounds[st.slot] = int(np.abs(v).max()) if v.size else 0
        bound = plan_bound(plan, leaf_bounds)
        arith = Arith("exact", exact_dtype(bound), bound=bound)
    shape = plan.shape if output is not None else (len(rows), *plan.shape)
    check_allocation(shape, arith.itemsize, max_bytes=max_bytes, what="the dense tensor")
    out = arith.empty((len(rows), math.prod(plan.shape)))
    return evaluate_dense(plan, rows, arith, out).reshape(shape)
