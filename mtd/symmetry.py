"""Symmetries of architectures that leave generic ranks unchanged: which index sets share a rank.

Two facts let a rank profile compute one bound per *class* of index sets instead of
one per set; both hold for the generic rank (the rank for almost every choice of
weights, :func:`mtd.generic_rank`) and for every bound on it:

* **complements**: ``rank [[A]]_I = rank [[A]]_{Iᶜ}`` for every tensor (the matrix is
  transposed);
* **tree automorphisms**: let ``T`` be the mode tree of a single tree decomposition
  with *untied* weights and ``g`` = product, and ``π`` a permutation of the modes that
  maps ``T`` onto itself as an *unordered* tree, node sizes (and leaf sizes and mode
  dimensions) included.  Then ``rank [[A]]_{π(I)}`` and ``rank [[A]]_I`` have the same
  generic value.  Proof: a node's value is a product over its children of a linear
  map of each child's channels (eq. 3; the COLT form applies one map to the product;
  the dense-transfer form one tensor), with ``σ`` sorting the modes, so reordering the
  children of a node gives the same set of tensors once that node's weights are
  reordered too — a bijection of the weight space when no weight is shared with
  another node.  Hence ``A ∘ π`` is an instance of the same architecture whenever
  ``A`` is (with permuted weights), ``[[A ∘ π]]_I`` is ``[[A]]_{π(I)}`` up to row and
  column order, and the maximum rank over all weights — the generic rank — is the
  same at ``I`` and ``π(I)``.  Leaves must share one discretizer matrix or all have
  their own (either pattern is kept by every ``π``).

Tied weights (a stationary network), mixed decompositions (whose automorphisms must
preserve both trees and the mixture nodes) and anything else get the complement
symmetry only.  The classes are computed without listing the automorphism group: the
AHU canonical form of the tree with its leaves coloured by membership in ``I``
(children's codes sorted at every node), vectorized over all index sets at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .decompositions._plan import LeafStep, NodeStep, Plan, SwapStep

__all__ = ["has_tree_symmetry", "index_set_masks", "symmetry_classes"]

_VECTOR_MODES = 62
"""Index sets are int64 bit masks up to this many modes; beyond, Python ints."""


def has_tree_symmetry(plan: Plan) -> bool:
    """Whether ``plan`` is a single tree with untied weights, ``g`` = product (module docstring).

    Examples
    --------
    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2, seed=0)
    >>> mtd.symmetry.has_tree_symmetry(d.plan)
    True
    >>> net = mtd.DilatedConvNet([1, 2, 4], [2, 2, 2, 2], seed=0)
    >>> mtd.symmetry.has_tree_symmetry(net.to_decomposition().plan)  # tied per depth
    False
    """
    if plan.g != "product" or len(plan.outputs) != 1:
        return False
    if any(isinstance(s, SwapStep) for s in plan.steps):
        return False
    node_arrays = [id(w) for s in plan.steps if isinstance(s, NodeStep) for w in s.weights]
    if len(node_arrays) != len(set(node_arrays)):
        return False
    leaves = [s for s in plan.steps if isinstance(s, LeafStep)]
    for attr in ("matrix", "weight"):
        values = [getattr(s, attr) for s in leaves]
        present = [v for v in values if v is not None]
        if present and len(present) != len(values):
            return False
        shared = {id(v) for v in present}
        if present and len(shared) not in (1, len(present)):
            return False
        if shared & set(node_arrays):
            return False
    return True


def index_set_masks(index_sets: Sequence[Sequence[int]], n_modes: int) -> np.ndarray:
    """Bit masks of index sets (bit ``j`` set iff mode ``j`` is in ``I``).

    An int64 array for ``n_modes <= 62``, else an object array of Python ints.

    Examples
    --------
    >>> mtd.symmetry.index_set_masks([(0, 2), (1,)], 3)
    array([5, 2])
    """
    if n_modes <= _VECTOR_MODES:
        out = np.zeros(len(index_sets), dtype=np.int64)
        for i, I in enumerate(index_sets):
            out[i] = sum(1 << j for j in I)
        return out
    return np.array([sum(1 << j for j in I) for I in index_sets] + [None], dtype=object)[:-1]


def _leaf_label(step: LeafStep, plan: Plan) -> tuple[Any, ...]:
    shape = None if step.weight is None else tuple(step.weight.shape)
    return ("leaf", plan.dims[step.mode], step.size, tuple(step.matrix.shape), shape)


def _tree_codes(plan: Plan, masks: np.ndarray) -> np.ndarray:
    """The AHU code of the tree coloured by every mask: equal codes iff one orbit."""
    table: dict[tuple[int, ...], int] = {}
    labels: dict[tuple[Any, ...], int] = {}
    codes: dict[int, np.ndarray] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep):
            lab = labels.setdefault(_leaf_label(step, plan), len(labels))
            kids = ((masks >> step.mode) & 1).reshape(-1, 1)
        else:
            assert isinstance(step, NodeStep)
            lab = labels.setdefault(("node", step.kind, step.size), len(labels))
            # each child is read once: free its codes (N = 24 has 2^24 sets per node)
            kids = np.sort(np.column_stack([codes.pop(c) for c in step.children]), axis=1)
        # group equal rows with 1-D sorts (a fold of local ids), then name each group
        # by its row in one table shared by every node
        local = kids[:, 0]
        for j in range(1, kids.shape[1]):
            width = int(kids[:, j].max()) + 1
            _, local = np.unique(local * width + kids[:, j], return_inverse=True)
        _, first, inverse = np.unique(local, return_index=True, return_inverse=True)
        ids = np.array(
            [table.setdefault((-1 - lab, *kids[i].tolist()), len(table)) for i in first],
            dtype=np.int64,
        )
        codes[step.slot] = ids[inverse.reshape(-1)]
    return codes[plan.outputs[0].slot]


def symmetry_classes(plan: Plan, masks: np.ndarray, *, use_tree: bool = True) -> np.ndarray:
    """A class key per index set: equal keys have equal generic ranks (module docstring).

    Parameters
    ----------
    plan : Plan
        The architecture.
    masks : (n,) ndarray
        Index sets as bit masks (:func:`index_set_masks`).
    use_tree : bool, default True
        Use tree automorphisms when :func:`has_tree_symmetry` holds; otherwise (or
        with False) only complements are identified.

    Returns
    -------
    (n,) ndarray
        Keys (int64, or Python ints beyond 62 modes).

    Examples
    --------
    On the baseline tree over 4 modes, ``{0}``, ``{3}`` and ``{0, 1, 2}`` are one class;
    ``{0, 1}`` and ``{0, 2}`` are not:

    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, seed=0)
    >>> masks = mtd.symmetry.index_set_masks([(0,), (3,), (0, 1, 2), (0, 1), (0, 2)], 4)
    >>> k = mtd.symmetry.symmetry_classes(d.plan, masks)
    >>> bool(k[0] == k[1] == k[2]), bool(k[3] == k[4])
    (True, False)
    """
    n = plan.n_modes
    full = (1 << n) - 1
    if masks.dtype != object:
        comp = full - masks
        if use_tree and has_tree_symmetry(plan):
            both = _tree_codes(plan, np.concatenate([masks, comp]))
            return np.minimum(both[: len(masks)], both[len(masks) :])
        return np.minimum(masks, comp)
    return np.array([min(int(m), full - int(m)) for m in masks] + [None], dtype=object)[:-1]
