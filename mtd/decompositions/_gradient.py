"""Reverse mode over a plan: values at grid points, adjoints, gradients and linear maps.

Written once over the plan's steps (:mod:`mtd.decompositions._plan`), in float64,
at a batch of ``B`` grid points (one index per mode, as in the pointwise evaluator):

* :func:`forward` runs the plan and keeps a *tape* — every step's inputs, the
  operands of its ``g``-fold and the fold's partial results;
* :func:`backward` walks the tape in reverse from a seed ``s`` (one number per point)
  and returns, for every array of the plan, its *uses*: pairs ``(left, right)`` of
  ``(B, p)`` and ``(B, q)`` arrays such that the derivative of ``s[b] · out[b]`` with
  respect to the array (viewed as ``p × q``) is ``left[b] ⊗ right[b]``.

Summing the uses over ``b`` gives the gradient of ``Σ_b s[b] out[b]``
(:func:`gradients`).  Keeping them per point with ``s = 1`` gives the Jacobian of
the outputs with respect to one array; when ``g`` is the product and the array is
used once, the output is *affine* in it, ``out[b] = ⟨J_b, X⟩ + c_b`` (multilinear
in the plan's arrays, and linear in a once-used one), which is what alternating
least squares solves (:func:`design_matrix`).

Derivatives of ``g`` (per element; at a kink the one-sided choice below):
``product`` ``(b, a)``; ``relu`` = ``max(a + b, 0)``: ``(1, 1)·[a + b > 0]``;
``max`` = ``max(a, b, 0)``: ``([a ≥ b, a > 0], [b > a, b > 0])``;
``relu_sum`` = ``max(a, 0) + max(b, 0)``: ``([a > 0], [b > 0])``.

Points sharing the indices of a node's modes share its value, so with
``dedup=True`` (:func:`point_layout`) every slot holds a *table* with one row per
distinct sub-index over its modes (at most ``Π dims`` rows, as in the dense
evaluator), rows are gathered from the children's tables and adjoints are
scatter-added back; a dense target then costs about as much as one dense
evaluation.  ``dedup=False`` keeps one row per point, which is what the per-point
uses (:func:`design_matrix`) need.

Arrays are looked up through ``params`` (``id`` of the plan's array -> the current
value), so an optimizer updates values without recompiling the plan.  Discretizers
(the leaves' ``matrix``) get a gradient too, scattered over the indexed rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._config import check_allocation
from ._plan import LeafStep, NodeStep, Plan, SwapStep

__all__ = [
    "Layout",
    "Tape",
    "Use",
    "backward",
    "design_matrix",
    "forward",
    "gradients",
    "jacobian",
    "JacobianFactors",
    "jacobian_factors",
    "jacobian_gram_diagonal",
    "jacobian_transpose_vector",
    "jacobian_vector",
    "compressed_design",
    "point_design",
    "point_factors",
    "point_layout",
    "refresh",
    "tangent",
    "use_counts",
]


@dataclass
class Use:
    """One use of an array: ``d(s·out)[b] / d array = left[b] ⊗ right[b]`` (on ``rows``)."""

    key: int
    left: np.ndarray
    right: np.ndarray
    rows: int | None = None
    """For an output layer only row ``rows`` is used."""
    index: np.ndarray | None = None
    """For a leaf's matrix: ``left`` is the one-hot of these row indices (not formed)."""


@dataclass
class Layout:
    """Which table row every point reads, per slot (``None``: one row per point)."""

    n_points: int
    indices: dict[int, np.ndarray]
    leaf_rows: dict[int, np.ndarray]
    """Per leaf slot: the mode index of each table row."""
    inverse: dict[int, np.ndarray | None]
    """Per slot: the table row of each point."""
    child_rows: dict[int, tuple[np.ndarray | None, ...]]
    """Per node slot: for each child, the child's table row of each of the node's rows."""
    n_rows: dict[int, int]


def _rows(idx: np.ndarray, dims: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the ``(B, s)`` sub-indices, lexicographic: (a point of each, inverse)."""
    if math.prod(dims) < 2**62:
        code = np.ravel_multi_index(tuple(idx.T), tuple(dims))
        _, first, inv = np.unique(code, return_index=True, return_inverse=True)
    else:
        _, first, inv = np.unique(idx, axis=0, return_index=True, return_inverse=True)
    return first, inv.reshape(-1)


def point_layout(plan: Plan, indices: Mapping[int, np.ndarray], *, dedup: bool) -> Layout:
    """The table layout of every slot for the points ``indices[mode]`` (``(B,)`` each)."""
    B = len(next(iter(indices.values())))
    lay = Layout(B, dict(indices), {}, {}, {}, {})
    done: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep):
            col = np.asarray(indices[step.mode])
            if dedup:
                uniq, inv = np.unique(col, return_inverse=True)
                lay.leaf_rows[step.slot], lay.inverse[step.slot] = uniq, inv.reshape(-1)
                lay.n_rows[step.slot] = len(uniq)
            else:
                lay.leaf_rows[step.slot], lay.inverse[step.slot] = col, None
                lay.n_rows[step.slot] = B
        elif isinstance(step, NodeStep):
            if not dedup:
                lay.inverse[step.slot] = None
                lay.child_rows[step.slot] = (None,) * len(step.children)
                lay.n_rows[step.slot] = B
                continue
            if step.modes not in done:
                sub = np.stack([indices[m] for m in step.modes], axis=1)
                first, inv = _rows(sub, [int(plan.dims[m]) for m in step.modes])
                done[step.modes] = (first, inv)
            first, inv = done[step.modes]
            lay.inverse[step.slot] = inv
            lay.n_rows[step.slot] = len(first)
            kids = []
            for c in step.children:
                cinv = lay.inverse[c]
                kids.append(first if cinv is None else cinv[first])
            lay.child_rows[step.slot] = tuple(kids)
    return lay


@dataclass
class Tape:
    """What :func:`forward` keeps for :func:`backward` (and :func:`refresh` updates)."""

    plan: Plan
    params: Mapping[int, np.ndarray]
    output: int
    layout: Layout
    records: list[Any] = field(default_factory=list)
    out_inputs: list[np.ndarray] = field(default_factory=list)
    out: np.ndarray | None = None
    values: list[Any] = field(default_factory=list)
    """Per step, what it wrote: a slot's table (a pair of tables for a swap)."""


def _gather(table: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return table if rows is None else np.take(table, rows, axis=0)


def _scatter(d: np.ndarray, rows: np.ndarray | None, n: int) -> np.ndarray:
    """``out[rows[i]] += d[i]`` into ``n`` rows (``rows`` ``None``: the identity)."""
    if rows is None:
        return d
    out = np.empty((n, d.shape[1]))
    for j in range(d.shape[1]):
        out[:, j] = np.bincount(rows, weights=d[:, j], minlength=n)
    return out


def _g(g: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if g == "product":
        return a * b
    if g == "relu":
        return np.maximum(a + b, 0.0)
    if g == "max":
        return np.maximum(np.maximum(a, b), 0.0)
    assert g == "relu_sum"
    return np.maximum(a, 0.0) + np.maximum(b, 0.0)


def _g_grad(g: str, a: np.ndarray, b: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The adjoints of ``a`` and ``b`` given the adjoint ``d`` of ``g(a, b)``."""
    if g == "product":
        return d * b, d * a
    if g == "relu":
        m = d * ((a + b) > 0)
        return m, m
    if g == "max":
        first = (a >= b) & (a > 0)
        second = (b > a) & (b > 0)
        return d * first, d * second
    assert g == "relu_sum"
    return d * (a > 0), d * (b > 0)


def _fold(g: str, xs: list[np.ndarray]) -> list[np.ndarray]:
    """The partial results ``acc_1 = x_1``, ``acc_i = g(acc_{i-1}, x_i)``."""
    accs = [xs[0]]
    for x in xs[1:]:
        accs.append(_g(g, accs[-1], x))
    return accs


def _fold_back(g: str, xs: list[np.ndarray], accs: list[np.ndarray], d: np.ndarray) -> list[Any]:
    grads: list[Any] = [None] * len(xs)
    for i in range(len(xs) - 1, 0, -1):
        d, grads[i] = _g_grad(g, accs[i - 1], xs[i], d)
    grads[0] = d
    return grads


def _outer(xs: list[np.ndarray]) -> list[np.ndarray]:
    """Row-wise Kronecker products ``o_1 = x_1``, ``o_i = o_{i-1} ⊗ x_i`` (the HT inputs)."""
    outs = [xs[0]]
    for x in xs[1:]:
        prev = outs[-1]
        outs.append((prev[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1))
    return outs


def _writers(plan: Plan) -> tuple[list[tuple[tuple[int, int], ...]], tuple[tuple[int, int], ...]]:
    """Where every slot a step reads was last written, and the same for the output terms.

    Pairs ``(step, part)``: ``part`` is 0 or 1 for a swap's two slots, else 0.
    """
    key = ("writers",)
    if key in plan.cache:
        return plan.cache[key]
    last: dict[int, tuple[int, int]] = {}
    reads: list[tuple[tuple[int, int], ...]] = []
    for i, step in enumerate(plan.steps):
        if isinstance(step, LeafStep):
            reads.append(())
            last[step.slot] = (i, 0)
        elif isinstance(step, NodeStep):
            reads.append(tuple(last[c] for c in step.children))
            last[step.slot] = (i, 0)
        else:
            s, t = step.slots
            reads.append((last[s], last[t]))
            last[s], last[t] = (i, 0), (i, 1)
    out = (reads, tuple(last[t.slot] for t in plan.outputs))
    plan.cache[key] = out
    return out


def _read(tape: Tape, where: tuple[int, int]) -> np.ndarray:
    v = tape.values[where[0]]
    return v[where[1]] if isinstance(v, tuple) else v


def _run_step(tape: Tape, i: int, reads: tuple[tuple[int, int], ...]) -> None:
    """Compute step ``i`` from the values it reads; store its value and record."""
    plan, layout = tape.plan, tape.layout
    step = plan.steps[i]

    def val(a: np.ndarray) -> np.ndarray:
        return tape.params.get(id(a), a)

    if isinstance(step, LeafStep):
        base = np.asarray(val(step.matrix), dtype=float)[layout.leaf_rows[step.slot]]
        tape.values[i] = base if step.weight is None else base @ val(step.weight).T
        tape.records[i] = base
    elif isinstance(step, NodeStep):
        ck = layout.child_rows[step.slot]
        tables = [_read(tape, w) for w in reads]
        ws = [val(w) for w in step.weights]
        if step.kind == "eq3":
            ops = [_gather(x @ w.T, r) for w, x, r in zip(ws, tables, ck, strict=True)]
            accs = _fold(plan.g, ops)
            tape.values[i] = accs[-1]
            tape.records[i] = (tables, ops, accs)
        elif step.kind == "colt":
            kids = [_gather(x, r) for x, r in zip(tables, ck, strict=True)]
            accs = _fold(plan.g, kids)
            tape.values[i] = accs[-1] @ ws[0].T
            tape.records[i] = (kids, accs)
        else:
            kids = [_gather(x, r) for x, r in zip(tables, ck, strict=True)]
            outs = _outer(kids)
            Bm = ws[0].reshape(ws[0].shape[0], -1)
            tape.values[i] = outs[-1] @ Bm.T
            tape.records[i] = (kids, outs)
    elif isinstance(step, SwapStep):
        n = step.n_channels
        vs, vt = _read(tape, reads[0]), _read(tape, reads[1])
        a, b = vs.copy(), vt.copy()
        a[:, :n], b[:, :n] = vt[:, :n], vs[:, :n]
        tape.values[i] = (a, b)
        tape.records[i] = None
    else:  # pragma: no cover - a step type this module does not know yet
        raise TypeError(f"reverse mode does not support plan step {type(step).__name__}")


def _run_outputs(tape: Tape, outs: tuple[tuple[int, int], ...]) -> None:
    plan, layout = tape.plan, tape.layout
    out = np.zeros(layout.n_points)
    tape.out_inputs = []
    for term, w in zip(plan.outputs, outs, strict=True):
        x = _gather(_read(tape, w), layout.inverse[term.slot])
        tape.out_inputs.append(x)
        if term.matrix is None:
            out += x[:, tape.output]
        else:
            out += x @ tape.params.get(id(term.matrix), term.matrix)[tape.output]
    tape.out = out


def forward(
    plan: Plan,
    layout: Layout,
    params: Mapping[int, np.ndarray],
    *,
    output: int = 0,
) -> Tape:
    """Run ``plan`` at the layout's points; ``tape.out`` (``(B,)``) is output ``output``.

    ``params`` maps ``id`` of a plan array to its current value (others: the plan's own).
    """
    B = layout.n_points
    rows = sum(layout.n_rows.values())
    check_allocation(
        (3 * rows + B, max(plan.slot_sizes.values())), 8, max_bytes=None, what="a tape"
    )
    tape = Tape(plan=plan, params=params, output=output, layout=layout)
    tape.values = [None] * len(plan.steps)
    tape.records = [None] * len(plan.steps)
    reads, outs = _writers(plan)
    for i in range(len(plan.steps)):
        _run_step(tape, i, reads[i])
    _run_outputs(tape, outs)
    return tape


def refresh(tape: Tape, key: int) -> Tape:
    """Update ``tape`` in place after the array ``key`` changed in ``tape.params``.

    Only the steps that use the array or read a value depending on it are recomputed
    (for a tree: the path from the array's node to the root), so one update of an
    alternating sweep costs a path, not a forward pass.
    """
    plan = tape.plan
    reads, outs = _writers(plan)
    dirty: set[int] = set()
    for i, step in enumerate(plan.steps):
        if isinstance(step, LeafStep):
            uses = step.weight is not None and id(step.weight) == key
        elif isinstance(step, NodeStep):
            uses = any(id(w) == key for w in step.weights)
        else:
            uses = False
        if uses or any(w[0] in dirty for w in reads[i]):
            dirty.add(i)
            _run_step(tape, i, reads[i])
    _run_outputs(tape, outs)
    return tape


def backward(tape: Tape, seed: np.ndarray) -> list[Use]:
    """The uses of every array for the seed ``s`` (``(B,)``): see the module docstring."""
    plan, lay = tape.plan, tape.layout

    def val(a: np.ndarray) -> np.ndarray:
        return tape.params.get(id(a), a)

    uses: list[Use] = []
    adj: dict[int, np.ndarray] = {}

    def add(slot: int, d: np.ndarray) -> None:
        adj[slot] = d if slot not in adj else adj[slot] + d

    seed = np.asarray(seed, dtype=float)
    for term, x in zip(plan.outputs, tape.out_inputs, strict=True):
        if term.matrix is None:
            d = np.zeros_like(x)
            d[:, tape.output] = seed
        else:
            d = seed[:, None] * val(term.matrix)[tape.output][None, :]
            uses.append(Use(id(term.matrix), seed[:, None], x, rows=tape.output))
        add(term.slot, _scatter(d, lay.inverse[term.slot], lay.n_rows[term.slot]))
    for step, rec in zip(reversed(plan.steps), reversed(tape.records), strict=True):
        if isinstance(step, SwapStep):
            s, t = step.slots
            n = step.n_channels
            da, db = adj.get(s), adj.get(t)
            if da is None and db is None:
                continue
            da = np.zeros((lay.n_rows[s], plan.slot_sizes[s])) if da is None else da.copy()
            db = np.zeros((lay.n_rows[t], plan.slot_sizes[t])) if db is None else db.copy()
            da[:, :n], db[:, :n] = db[:, :n].copy(), da[:, :n].copy()
            adj[s], adj[t] = da, db
            continue
        if step.slot not in adj:
            continue
        d = adj.pop(step.slot)
        if isinstance(step, LeafStep):
            base = rec
            if step.weight is not None:
                uses.append(Use(id(step.weight), d, base))
                d = d @ val(step.weight)
            uses.append(Use(id(step.matrix), d, d, index=lay.leaf_rows[step.slot]))
            continue
        assert isinstance(step, NodeStep)
        ck = lay.child_rows[step.slot]
        ws = [val(w) for w in step.weights]
        if step.kind == "eq3":
            tables, ops, accs = rec
            dops = _fold_back(plan.g, ops, accs, d)
            for c, r, w, arr, x, dop in zip(
                step.children, ck, step.weights, ws, tables, dops, strict=True
            ):
                dx = _scatter(dop, r, lay.n_rows[c])
                uses.append(Use(id(w), dx, x))
                add(c, dx @ arr)
            continue
        if step.kind == "colt":
            kids, accs = rec
            uses.append(Use(id(step.weights[0]), d, accs[-1]))
            dks = _fold_back(plan.g, kids, accs, d @ ws[0])
        else:
            kids, outs = rec
            uses.append(Use(id(step.weights[0]), d, outs[-1]))
            dout = d @ ws[0].reshape(ws[0].shape[0], -1)
            dks = [None] * len(kids)
            for i in range(len(kids) - 1, 0, -1):
                n_b, q = kids[i].shape
                d3 = dout.reshape(n_b, -1, q)
                dks[i] = np.einsum("bpq,bp->bq", d3, outs[i - 1])
                dout = np.einsum("bpq,bq->bp", d3, kids[i])
            dks[0] = dout
        for c, r, dk in zip(step.children, ck, dks, strict=True):
            add(c, _scatter(dk, r, lay.n_rows[c]))
    return uses


def gradients(uses: list[Use], shapes: Mapping[int, tuple[int, ...]]) -> dict[int, np.ndarray]:
    """Sum the uses: the gradient of ``Σ_b s[b] out[b]`` for every array in ``shapes``."""
    grads = {k: np.zeros(shape) for k, shape in shapes.items()}
    for u in uses:
        if u.key not in grads:
            continue
        g = grads[u.key]
        if u.index is not None:
            np.add.at(g, u.index, u.right)
        elif u.rows is not None:
            g[u.rows] += u.left[:, 0] @ u.right
        else:
            g.reshape(g.shape[0], -1)[...] += u.left.T @ u.right
    return grads


def design_matrix(uses: list[Use], key: int, rows: slice | None = None) -> np.ndarray:
    """``J`` with ``J[b] = d out[b] / d array`` flattened (the array used once; seed 1).

    ``rows`` selects the points (a slice of the batch), to build it in chunks.
    """
    (u,) = [u for u in uses if u.key == key]
    assert u.index is None
    sl = slice(None) if rows is None else rows
    left, right = u.left[sl], u.right[sl]
    check_allocation(
        (left.shape[0], left.shape[1] * right.shape[1]), 8, max_bytes=None, what="a design matrix"
    )
    return (left[:, :, None] * right[:, None, :]).reshape(left.shape[0], -1)


def jacobian(tape: Tape, shapes: Mapping[int, tuple[int, ...]]) -> np.ndarray:
    """``J`` with ``J[b] = d out[b] / d θ`` for ``θ`` the arrays of ``shapes`` flattened in order.

    One reverse pass with seed 1 (:func:`backward`); the column block of an array is the sum
    of its uses' per-point design matrices (:func:`design_matrix`), so tied arrays get the
    sum over their uses.  The tape must be per point (``dedup=False``).
    """
    lay = tape.layout
    assert all(v is None for v in lay.inverse.values()), "jacobian needs a per-point layout"
    B = lay.n_points
    offsets: dict[int, int] = {}
    total = 0
    for k, shape in shapes.items():
        offsets[k] = total
        total += math.prod(shape)
    check_allocation((B, total), 8, max_bytes=None, what="a Jacobian")
    J = np.zeros((B, total))
    for u in backward(tape, np.ones(B)):
        if u.key not in offsets or u.index is not None:
            continue
        o, q = offsets[u.key], u.right.shape[1]
        if u.rows is not None:
            J[:, o + u.rows * q : o + (u.rows + 1) * q] += u.left[:, :1] * u.right
        else:
            p = u.left.shape[1]
            J[:, o : o + p * q] += (u.left[:, :, None] * u.right[:, None, :]).reshape(B, -1)
    return J


def use_counts(plan: Plan) -> dict[int, int]:
    """How many times each array (by ``id``) appears in the plan's steps and outputs."""
    counts: dict[int, int] = {}

    def bump(a: np.ndarray | None) -> None:
        if a is not None:
            counts[id(a)] = counts.get(id(a), 0) + 1

    for step in plan.steps:
        if isinstance(step, LeafStep):
            bump(step.matrix)
            bump(step.weight)
        elif isinstance(step, NodeStep):
            for w in step.weights:
                bump(w)
    for t in plan.outputs:
        bump(t.matrix)
    return counts


def _downstream(plan: Plan, slot: int) -> tuple[int, set[int]]:
    """The index of the step writing ``slot``, and every slot whose value depends on it."""
    first = next(
        i
        for i, st in enumerate(plan.steps)
        if isinstance(st, (LeafStep, NodeStep)) and st.slot == slot
    )
    dep = {slot}
    for st in plan.steps[first + 1 :]:
        if isinstance(st, NodeStep) and any(c in dep for c in st.children):
            dep.add(st.slot)
        elif isinstance(st, SwapStep) and (st.slots[0] in dep or st.slots[1] in dep):
            dep.update(st.slots)
    return first, dep


def point_design(tape: Tape, key: int) -> np.ndarray:
    """``J`` with ``J[b] = d out[b] / d array`` (the array ``key``, used once), ``(B, size)``.

    Works with either layout: the adjoint is carried *per point* only through the steps
    whose value depends on the array (a path to the outputs), gathering the tables.
    """
    left, table, rows = point_factors(tape, key)
    B = left.shape[0]
    right = _gather(table, rows)
    check_allocation((B, left.shape[1] * right.shape[1]), 8, max_bytes=None, what="a design matrix")
    return (left[:, :, None] * right[:, None, :]).reshape(B, -1)


def point_factors(tape: Tape, key: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The factors of :func:`point_design`: ``J[b] = left[b] ⊗ table[rows[b]]``.

    ``left`` is per point; ``table`` is a table of the plan (few distinct rows under a
    deduplicated layout), so normal equations can be grouped by its rows
    (:func:`compressed_design`).  ``rows`` ``None``: one table row per point.
    """
    plan, lay = tape.plan, tape.layout
    B = lay.n_points

    def val(a: np.ndarray) -> np.ndarray:
        return tape.params.get(id(a), a)

    def gat(x: np.ndarray, slot: int) -> np.ndarray:
        return _gather(x, lay.inverse[slot])

    for term, x in zip(plan.outputs, tape.out_inputs, strict=True):
        if term.matrix is not None and id(term.matrix) == key:
            e = np.zeros((B, term.matrix.shape[0]))
            e[:, tape.output] = 1.0
            return e, x, None
    owner = next(
        i
        for i, st in enumerate(plan.steps)
        if (isinstance(st, LeafStep) and st.weight is not None and id(st.weight) == key)
        or (isinstance(st, NodeStep) and any(id(w) == key for w in st.weights))
    )
    step = plan.steps[owner]
    assert isinstance(step, (LeafStep, NodeStep))
    _, dep = _downstream(plan, step.slot)
    check_allocation((B, 2 * max(plan.slot_sizes.values()) + 1), 8, max_bytes=None, what="adjoints")
    adj: dict[int, np.ndarray] = {}

    def add(slot: int, d: np.ndarray) -> None:
        adj[slot] = d if slot not in adj else adj[slot] + d

    for term, x in zip(plan.outputs, tape.out_inputs, strict=True):
        if term.slot in dep:
            if term.matrix is None:
                d = np.zeros_like(x)
                d[:, tape.output] = 1.0
            else:
                d = np.broadcast_to(val(term.matrix)[tape.output], x.shape).copy()
            add(term.slot, d)
    for i in range(len(plan.steps) - 1, owner, -1):
        st, rec = plan.steps[i], tape.records[i]
        if isinstance(st, SwapStep):
            s, t = st.slots
            if s not in dep:
                continue
            n = st.n_channels
            da = adj.get(s, np.zeros((B, plan.slot_sizes[s]))).copy()
            db = adj.get(t, np.zeros((B, plan.slot_sizes[t]))).copy()
            da[:, :n], db[:, :n] = db[:, :n].copy(), da[:, :n].copy()
            adj[s], adj[t] = da, db
            continue
        if not isinstance(st, NodeStep) or st.slot not in dep or st.slot not in adj:
            continue
        d = adj.pop(st.slot)
        ws = [val(w) for w in st.weights]
        if st.kind == "eq3":
            _, ops, accs = rec
            dks = _fold_back(
                plan.g, [gat(o, st.slot) for o in ops], [gat(a, st.slot) for a in accs], d
            )
            dks = [dk @ w for dk, w in zip(dks, ws, strict=True)]
        elif st.kind == "colt":
            kids, accs = rec
            dks = _fold_back(
                plan.g, [gat(k, st.slot) for k in kids], [gat(a, st.slot) for a in accs], d @ ws[0]
            )
        else:
            kids, outs = rec
            kp = [gat(k, st.slot) for k in kids]
            op = [gat(o, st.slot) for o in outs]
            dout = d @ ws[0].reshape(ws[0].shape[0], -1)
            dks = [None] * len(kids)
            for j in range(len(kids) - 1, 0, -1):
                d3 = dout.reshape(B, -1, kp[j].shape[1])
                dks[j] = np.einsum("bpq,bp->bq", d3, op[j - 1])
                dout = np.einsum("bpq,bq->bp", d3, kp[j])
            dks[0] = dout
        for c, dk in zip(st.children, dks, strict=True):
            if c in dep:
                add(c, dk)
    d = adj.get(step.slot, np.zeros((B, plan.slot_sizes[step.slot])))
    rec = tape.records[owner]
    if isinstance(step, LeafStep):
        return d, rec, lay.inverse[step.slot]
    if step.kind == "eq3":
        tables, ops, accs = rec
        j = next(j for j, w in enumerate(step.weights) if id(w) == key)
        dops = _fold_back(
            plan.g, [gat(o, step.slot) for o in ops], [gat(a, step.slot) for a in accs], d
        )
        child = step.children[j]
        return dops[j], tables[j], lay.inverse[child]
    return d, rec[1][-1], lay.inverse[step.slot]


def compressed_design(
    left: np.ndarray, table: np.ndarray, rows: np.ndarray | None, res: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(K, c)``: ``‖K δ − c‖² = ‖J δ − res‖² − const`` for ``J[b] = left[b] ⊗ table[rows[b]]``.

    The points reading table row ``t`` contribute ``L_t ⊗ table[t]`` to ``J``; with
    ``L_tᵀL_t = R_tᵀR_t`` (a batched QR of the groups when all have one size, as for a
    dense target; else an eigendecomposition of the ``p × p`` Grams) they are replaced
    by the ``p`` rows ``R_t ⊗ table[t]``, so ``K`` has ``n·p`` rows for ``n`` table rows
    instead of one per point: the Khatri-Rao structure that ALS for CP exploits, kept in
    square-root form so the solve sees ``J``'s conditioning (not that of ``JᵀJ``).
    """
    B, p = left.shape
    n, q = table.shape
    if rows is None or n * p >= B:
        K = (left[:, :, None] * _gather(table, rows)[:, None, :]).reshape(B, -1)
        return K, res
    check_allocation((n * p, p * q + p + 1), 8, max_bytes=None, what="a compressed design")
    counts = np.bincount(rows, minlength=n)
    if counts.min() == counts.max():
        # every row read equally often (a dense target): one batched QR of the groups
        order = np.argsort(rows, kind="stable")
        m = int(counts[0])
        Q, R = np.linalg.qr(left[order].reshape(n, m, p))
        c = np.einsum("tmk,tm->tk", Q, res[order].reshape(n, m))
        k = R.shape[1]
        return (R[:, :, :, None] * table[:, None, None, :]).reshape(n * k, p * q), c.reshape(-1)
    S = np.empty((n, p, p))
    for i in range(p):
        for j in range(i, p):
            w = left[:, i] * left[:, j]
            S[:, i, j] = S[:, j, i] = np.bincount(rows, weights=w, minlength=n)
    H = np.empty((n, p))
    for i in range(p):
        H[:, i] = np.bincount(rows, weights=res * left[:, i], minlength=n)
    e, V = np.linalg.eigh(S)  # S_t = V_t diag(e_t) V_tᵀ
    e = np.maximum(e, 0.0)
    root = np.sqrt(e)
    root = np.where(root > 1e-8 * root.max(axis=1, keepdims=True), root, 0.0)  # rounding
    R = root[:, :, None] * V.transpose(0, 2, 1)  # R_t = diag(√e_t) V_tᵀ
    proj = np.einsum("tji,tj->ti", V, H)  # V_tᵀ H_t
    big = root > 1e-8 * np.maximum(root.max(axis=1, keepdims=True), 1e-300)
    c = np.where(big, proj / np.where(big, root, 1.0), 0.0)
    K = (R[:, :, :, None] * table[:, None, None, :]).reshape(n * p, p * q)
    return K, c.reshape(-1)


@dataclass
class JacobianFactors:
    """The Jacobian of one chunk of points over fitted arrays, kept as factors (never formed).

    The column block of array ``k`` (offset ``offsets[k]``, viewed as ``p × q``) is
    ``Σ_u left_u[b] ⊗ right_u[b]`` over the array's uses ``u`` (one per use; several for a
    tied array), from one per-point reverse pass with seed 1 (:func:`backward`).
    """

    n_points: int
    n_params: int
    offsets: dict[int, int]
    shapes2d: dict[int, tuple[int, int]]
    uses: dict[int, list[tuple[np.ndarray, np.ndarray]]]
    """Per array: its ``(left, right)`` pairs, ``(B, p)`` and ``(B, q)``."""


def jacobian_factors(tape: Tape, shapes: Mapping[int, tuple[int, ...]]) -> JacobianFactors:
    """The factors of :func:`jacobian` (same columns, same order), ``B (p + q)`` per use.

    The tape must be per point (``dedup=False``).
    """
    lay = tape.layout
    assert all(v is None for v in lay.inverse.values()), "jacobian_factors needs a per-point layout"
    B = lay.n_points
    offsets: dict[int, int] = {}
    shapes2d: dict[int, tuple[int, int]] = {}
    total = 0
    for k, shape in shapes.items():
        offsets[k] = total
        size = math.prod(shape)
        shapes2d[k] = (shape[0], size // shape[0]) if shape else (1, 1)
        total += size
    uses: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in shapes}
    for u in backward(tape, np.ones(B)):
        if u.key not in offsets or u.index is not None:
            continue
        left = u.left
        if u.rows is not None:  # an output layer: only row ``rows`` is read
            check_allocation((B, shapes2d[u.key][0]), 8, max_bytes=None, what="Jacobian factors")
            left = np.zeros((B, shapes2d[u.key][0]))
            left[:, u.rows] = u.left[:, 0]
        uses[u.key].append((left, u.right))
    return JacobianFactors(B, total, offsets, shapes2d, uses)


def jacobian_vector(fac: JacobianFactors, v: np.ndarray) -> np.ndarray:
    """``J v`` (``(B,)``) for ``v`` over all the factors' columns, without forming ``J``."""
    out = np.zeros(fac.n_points)
    for k, pairs in fac.uses.items():
        p, q = fac.shapes2d[k]
        o = fac.offsets[k]
        V = v[o : o + p * q].reshape(p, q)
        for left, right in pairs:
            out += np.einsum("bp,bp->b", left, right @ V.T)
    return out


def jacobian_transpose_vector(fac: JacobianFactors, u: np.ndarray) -> np.ndarray:
    """``Jᵀ u`` (``(P,)``) for ``u`` one number per point, without forming ``J``."""
    out = np.zeros(fac.n_params)
    for k, pairs in fac.uses.items():
        p, q = fac.shapes2d[k]
        o = fac.offsets[k]
        block = out[o : o + p * q].reshape(p, q)
        for left, right in pairs:
            block += left.T @ (u[:, None] * right)
    return out


def jacobian_gram_diagonal(fac: JacobianFactors) -> np.ndarray:
    """The diagonal of ``JᵀJ``: ``Σ_b J[b, c]²`` per column (tied arrays' uses summed first)."""
    out = np.zeros(fac.n_params)
    for k, pairs in fac.uses.items():
        p, q = fac.shapes2d[k]
        o = fac.offsets[k]
        block = out[o : o + p * q].reshape(p, q)
        for la, ra in pairs:
            for lb, rb in pairs:
                block += (la * lb).T @ (ra * rb)
    return out


def tangent(tape: Tape, direction: Mapping[int, np.ndarray]) -> np.ndarray:
    """``J v``: the derivative of ``tape.out`` along ``direction`` (forward mode, exact).

    ``direction`` maps ``id`` of a plan array to its change (arrays not in it are fixed;
    discretizers always are).  One pass over the tape in its own layout, carrying every
    slot's tangent table beside its value table: with a deduplicated layout this costs
    about one evaluation of the plan, not one per point.  Per element, the fold's
    tangent is ``∂g/∂a · da + ∂g/∂b · db`` (the one-sided derivatives of :func:`backward`).
    """
    plan, lay = tape.plan, tape.layout
    reads, outs = _writers(plan)
    B = lay.n_points

    def val(a: np.ndarray) -> np.ndarray:
        return tape.params.get(id(a), a)

    def dval(a: np.ndarray) -> np.ndarray | None:
        return direction.get(id(a))

    def fold(xs: list[np.ndarray], accs: list[np.ndarray], dxs: list[Any]) -> Any:
        dacc = dxs[0]
        for i in range(1, len(xs)):
            da = None if dacc is None else _g_grad(plan.g, accs[i - 1], xs[i], dacc)[0]
            db = None if dxs[i] is None else _g_grad(plan.g, accs[i - 1], xs[i], dxs[i])[1]
            dacc = da if db is None else (db if da is None else da + db)
        return dacc

    def add(a: Any, b: Any) -> Any:
        return b if a is None else (a if b is None else a + b)

    check_allocation(
        (sum(lay.n_rows.values()) + B, max(plan.slot_sizes.values())),
        8,
        max_bytes=None,
        what="a tangent tape",
    )
    dvalues: list[Any] = [None] * len(plan.steps)

    def dread(where: tuple[int, int]) -> Any:
        v = dvalues[where[0]]
        return v[where[1]] if isinstance(v, tuple) else v

    for i, step in enumerate(plan.steps):
        rec = tape.records[i]
        if isinstance(step, LeafStep):
            dw = None if step.weight is None else dval(step.weight)
            dvalues[i] = None if dw is None else rec @ dw.T
        elif isinstance(step, NodeStep):
            ck = lay.child_rows[step.slot]
            dxs = [dread(w) for w in reads[i]]
            ws = [val(w) for w in step.weights]
            dws = [dval(w) for w in step.weights]
            if step.kind == "eq3":
                tables, ops, accs = rec
                dops: list[Any] = []
                for x, dx, w, dw, r in zip(tables, dxs, ws, dws, ck, strict=True):
                    t = add(None if dx is None else dx @ w.T, None if dw is None else x @ dw.T)
                    dops.append(None if t is None else _gather(t, r))
                dvalues[i] = fold(ops, accs, dops)
            elif step.kind == "colt":
                kids, accs = rec
                dk = [None if dx is None else _gather(dx, r) for dx, r in zip(dxs, ck, strict=True)]
                dacc = fold(kids, accs, dk)
                dvalues[i] = add(
                    None if dacc is None else dacc @ ws[0].T,
                    None if dws[0] is None else accs[-1] @ dws[0].T,
                )
            else:
                kids, kron = rec
                dk = [None if dx is None else _gather(dx, r) for dx, r in zip(dxs, ck, strict=True)]
                dout = dk[0]
                for j in range(1, len(kids)):
                    n_b = kids[j].shape[0]
                    a = None
                    if dout is not None:
                        a = (dout[:, :, None] * kids[j][:, None, :]).reshape(n_b, -1)
                    b = None
                    dkj = dk[j]
                    if dkj is not None:
                        b = (kron[j - 1][:, :, None] * dkj[:, None, :]).reshape(n_b, -1)
                    dout = add(a, b)
                Bm = ws[0].reshape(ws[0].shape[0], -1)
                dw0 = dws[0]
                dB = None if dw0 is None else dw0.reshape(Bm.shape)
                dvalues[i] = add(
                    None if dout is None else dout @ Bm.T,
                    None if dB is None else kron[-1] @ dB.T,
                )
        else:
            assert isinstance(step, SwapStep)
            n = step.n_channels
            da, db = dread(reads[i][0]), dread(reads[i][1])
            if da is None and db is None:
                dvalues[i] = (None, None)
                continue
            s, t = step.slots
            da = np.zeros((lay.n_rows[s], plan.slot_sizes[s])) if da is None else da
            db = np.zeros((lay.n_rows[t], plan.slot_sizes[t])) if db is None else db
            a, b = da.copy(), db.copy()
            a[:, :n], b[:, :n] = db[:, :n], da[:, :n]
            dvalues[i] = (a, b)
    out = np.zeros(B)
    for term, where, x in zip(plan.outputs, outs, tape.out_inputs, strict=True):
        dx = dread(where)
        if dx is not None:
            dx = _gather(dx, lay.inverse[term.slot])
            out += dx[:, tape.output] if term.matrix is None else dx @ val(term.matrix)[tape.output]
        if term.matrix is not None and dval(term.matrix) is not None:
            out += x @ direction[id(term.matrix)][tape.output]
    return out
