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
(children's codes sorted at every node), vectorized over bit masks with numpy, in
chunks (no table of codes: memory does not grow with the number of classes), so that
every partition of ``N = 24`` modes (``2^23 - 1``) is classified in seconds.
"""

from __future__ import annotations

import math
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


_CHUNK = 2**20
"""Masks coded per pass: memory stays at a few arrays of this length, whatever ``N``."""


def _shape_classes(plan: Plan) -> tuple[dict[int, int], dict[int, int]]:
    """Per slot: the isomorphism class of its (uncoloured, labelled) subtree, and its code space.

    The code space of a leaf is 2 (in ``I`` or not); of a node, the product of its
    children's: a coloured subtree's code is below ``2 ** leaves`` (below ``2**62``).
    """
    names: dict[tuple[Any, ...], int] = {}
    shape: dict[int, int] = {}
    space: dict[int, int] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep):
            shape[step.slot] = names.setdefault(_leaf_label(step, plan), len(names))
            space[step.slot] = 2
        else:
            assert isinstance(step, NodeStep)
            kids = tuple(sorted(shape[c] for c in step.children))
            shape[step.slot] = names.setdefault(("node", step.kind, step.size, kids), len(names))
            space[step.slot] = math.prod(space[c] for c in step.children)
    return shape, space


def _sorted_columns(cols: list[np.ndarray]) -> list[np.ndarray]:
    """Row-wise sort of a few code columns: compare-exchanges (odd-even transposition)."""
    if len(cols) > 8:
        block = np.sort(np.column_stack(cols), axis=1)
        return [block[:, j] for j in range(block.shape[1])]
    cols = list(cols)
    for rnd in range(len(cols)):
        for j in range(rnd % 2, len(cols) - 1, 2):
            a, b = cols[j], cols[j + 1]
            cols[j], cols[j + 1] = np.minimum(a, b), np.maximum(a, b)
    return cols


def _tree_codes(plan: Plan, masks: np.ndarray) -> np.ndarray:
    """The AHU code of the tree coloured by every mask: equal codes iff one orbit.

    Vectorized over the masks, in chunks of :data:`_CHUNK`, with no table: a node's code
    packs its children's codes in mixed radix, children ordered by the class of their
    subtree and, within a class, by code (sorting is what identifies the colourings an
    automorphism swaps).  By induction a code is a complete invariant of the coloured
    subtree up to automorphisms, the same function at every node of one class.
    """
    shape, space = _shape_classes(plan)
    root = plan.outputs[0].slot
    out = np.empty(len(masks), dtype=np.int64)
    for c0 in range(0, len(masks), _CHUNK):
        part = masks[c0 : c0 + _CHUNK]
        codes: dict[int, np.ndarray] = {}
        for step in plan.steps:
            if isinstance(step, LeafStep):
                codes[step.slot] = (part >> step.mode) & 1
                continue
            assert isinstance(step, NodeStep)
            groups: dict[int, list[int]] = {}
            for c in step.children:
                groups.setdefault(shape[c], []).append(c)
            code = np.zeros(len(part), dtype=np.int64)
            radix = 1
            for _, kids in sorted(groups.items()):
                # each child is read once: free its codes as they are packed
                cols = _sorted_columns([codes.pop(c) for c in kids])
                for col in cols:
                    code += col * radix
                    radix *= space[kids[0]]
            codes[step.slot] = code
        out[c0 : c0 + len(part)] = codes[root]
    return out


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
            return np.minimum(_tree_codes(plan, masks), _tree_codes(plan, comp))
        return np.minimum(masks, comp)
    return np.array([min(int(m), full - int(m)) for m in masks] + [None], dtype=object)[:-1]
