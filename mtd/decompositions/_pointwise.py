"""The pointwise evaluator: a plan at a batch of points, never forming an ``M^N`` tensor.

Every slot holds a ``(B, channels)`` array, one row per point of the batch.  A leaf
of mode ``j`` receives a row ``x_j`` over the mode's ``dims[j]`` indices and
contributes ``x_j @ matrix @ weight.T``; nodes apply their weights and ``g``
elementwise; swaps exchange columns.  Two front ends feed it:

* *leaf vectors* (``g`` = product): ``x_j = u_j``, giving the multilinear form
  ``Σ_d A[d_0, …, d_{N-1}] Π_j u_j[d_j]`` — the full contraction of the grid tensor
  with one vector per mode.  Costs ``O(B · (#parameters))``.  For a plan that is not
  a tree (a mode read by several nodes) this is not valid; such plans are contracted
  along a planned path instead (:mod:`._network`).
* *grid points* (any ``g``): ``x_j`` is the one-hot row of index ``d_j`` (realized
  as a row lookup), giving the grid tensor's entries ``A[d_0, …, d_{N-1}]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ._arith import Arith, exact_dtype, make_arith
from ._plan import LeafStep, NodeStep, Plan, check_output, plan_bound

__all__ = ["evaluate_points"]


def _fold(op: Callable[..., np.ndarray], xs: list[np.ndarray]) -> np.ndarray:
    acc = op(xs[0], xs[1])
    for x in xs[2:]:
        acc = op(acc, x)
    return acc


def _leaf_inputs(step: LeafStep, base: np.ndarray, arith: Arith, *, indices: bool) -> np.ndarray:
    """The leaf's value at the batch: ``base`` holds indices or coefficient rows."""
    if arith.kind == "exact":
        mat = step.matrix.astype(object)
        x = mat[base] if indices else base.astype(object) @ mat
        if step.weight is not None:
            x = x @ step.weight.astype(object).T
        return np.asarray(x, dtype=object).reshape(base.shape[0], step.size)
    mat = arith.convert(step.matrix)
    x = mat[base] if indices else arith.matmul(arith.convert(base), mat)
    if step.weight is not None:
        x = arith.matmul(x, np.ascontiguousarray(arith.convert(step.weight).T))
    return x


def evaluate_points(
    plan: Plan,
    inputs: dict[int, np.ndarray],
    output: int | None,
    *,
    indices: bool,
    arithmetic: str = "float",
    prime: int | None = None,
) -> np.ndarray:
    """Evaluate the plan at ``B`` points; returns ``(B, len(rows))``.

    ``inputs[mode]`` is a ``(B,)`` int array of indices (``indices=True``) or a
    ``(B, dims[mode])`` array of coefficient rows (``indices=False``).
    """
    rows = check_output(output, plan.n_outputs)
    arith = make_arith(arithmetic, prime, plan)
    if not indices and plan.g != "product":
        raise InvalidArgumentError(
            f"leaf vectors define a multilinear form only for g = 'product'; got "
            f"g = {plan.g!r} (evaluate at grid points instead)"
        )
    if arith.kind != "float" and not indices:
        for m, u in inputs.items():
            if u.dtype.kind not in "iu":
                raise InvalidArgumentError(
                    f"arithmetic={arithmetic!r} needs integer leaf vectors; the vectors of "
                    f"mode {m} have dtype {u.dtype}"
                )
    if not indices and not plan.is_tree:
        # a mode read by several nodes: its vector closes a copy tensor, not each read
        from ._network import contract_vectors

        if arith.kind == "exact" and any(u.dtype == object for u in inputs.values()):
            arith = Arith("exact", object)
        return contract_vectors(plan, inputs, rows, arith)
    leaves = [st for st in plan.steps if isinstance(st, LeafStep)]
    leaf_vals = {
        st.slot: _leaf_inputs(st, inputs[st.mode], arith, indices=indices) for st in leaves
    }
    if arith.kind == "exact":
        bounds = {s: (int(np.abs(v).max()) if v.size else 0) for s, v in leaf_vals.items()}
        bound = plan_bound(plan, bounds)
        arith = Arith("exact", exact_dtype(bound), bound=bound)
        leaf_vals = {s: np.asarray(v, dtype=arith.dtype) for s, v in leaf_vals.items()}
    op = arith.g_op(plan.g)
    conv: dict[int, np.ndarray] = {}

    def c(a: np.ndarray) -> np.ndarray:
        if id(a) not in conv:
            conv[id(a)] = arith.convert(a)
        return conv[id(a)]

    vals: dict[int, Any] = dict(leaf_vals)
    for step in plan.steps:
        if isinstance(step, LeafStep):
            continue
        if isinstance(step, NodeStep):
            kids = [vals[s] for s in step.children]
            if step.kind == "eq3":
                ops = [
                    arith.matmul(x, np.ascontiguousarray(c(w).T))
                    for w, x in zip(step.weights, kids, strict=False)
                ]
                vals[step.slot] = _fold(op, ops)
            elif step.kind == "colt":
                h = _fold(op, kids)
                vals[step.slot] = arith.matmul(h, np.ascontiguousarray(c(step.weights[0]).T))
            else:
                outer = kids[0]
                for x in kids[1:]:
                    outer = op(outer[:, :, None], x[:, None, :]).reshape(x.shape[0], -1)
                B = c(step.weights[0])
                vals[step.slot] = arith.matmul(
                    outer, np.ascontiguousarray(B.reshape(B.shape[0], -1).T)
                )
        else:
            s, t = step.slots
            n = step.n_channels
            a, b = vals[s].copy(), vals[t].copy()
            a[:, :n], b[:, :n] = vals[t][:, :n], vals[s][:, :n]
            vals[s], vals[t] = a, b
    total: np.ndarray | None = None
    for term in plan.outputs:
        x = vals[term.slot]
        val = (
            x[:, rows]
            if term.matrix is None
            else arith.matmul(x, np.ascontiguousarray(c(term.matrix)[rows].T))
        )
        total = val if total is None else arith.add(total, val)
    assert total is not None
    return total
