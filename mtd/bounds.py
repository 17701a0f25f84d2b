"""Structural rank bounds: what a mode tree's architecture allows, without any data.

These functions look only at structure (the tree, the index set, the sizes),
like ``opt_einsum.contract_path(..., shapes=True)``; they never build a tensor.

* :func:`theorem7_bounds` — Theorem 7 of Cohen, Tamari & Shashua (ICLR 2018): for a
  tree decomposition (eq. 3, ``g`` = product) of size ``r`` whose discretizers
  span ``Rʳ``, and ``∅ ≠ I ≠ all modes``,

  ``r^p ≤ rank [[A^y]]_I ≤ r^min(|Θ(I;T)|, |Θ(Iᶜ;T)|)``,

  the lower bound for all weights outside a Lebesgue-null set, where ``p``
  counts the *split nodes*: interior nodes of depth ≥ 1 each of whose children lies
  inside ``I`` or inside ``Iᶜ``, with both sides present.  For binary trees these are
  the parents of the sibling pairs ``(ν₁, ν₂) ∈ Θ(I;T) × Θ(Iᶜ;T)`` of depth > 1 that
  the paper counts; for k-ary nodes counting pairs would be wrong (``((1,3,0),2)``,
  ``I = {3}``: pairs give ``r²``, the generic rank is ``r``).
* :func:`trivial_bound` — ``M^min(|I|, |Iᶜ|)``, the size of the smaller side.
* :func:`tree_mincut_bound` — the minimum cut of the tree decomposition read as a
  tensor network (the theory page, §5, "Min-cut bound"): each interior node a copy
  tensor of its size, joined to each child by a weight matrix, leaf legs of
  dimension ``M``; the product of the dimensions across the cheapest cut
  separating the legs of ``I`` from those of ``Iᶜ`` bounds the rank.  On a tree
  the cut is found exactly by dynamic programming over exact Python ints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._validation import check_index_set, check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError
from .trees import ModeTree

__all__ = ["theorem7_bounds", "theorem7_exponents", "trivial_bound", "tree_mincut_bound"]


def _check_tree(tree: Any) -> ModeTree:
    if not isinstance(tree, ModeTree):
        raise InvalidArgumentTypeError(f"tree must be a ModeTree; got {type(tree).__name__}")
    return tree


def theorem7_exponents(tree: ModeTree, I: Any) -> tuple[int, int]:
    """The exponents ``(p, q)`` of Theorem 7: the bounds are ``r^p`` and ``r^q``.

    ``q = min(|Θ(I;T)|, |Θ(Iᶜ;T)|)``.  ``p`` counts the interior nodes of depth
    ≥ 1 whose children each lie inside ``I`` or inside ``Iᶜ``, with both sides
    present; for a binary tree these are exactly the parents of the sibling
    pairs ``(ν₁, ν₂) ∈ Θ(I;T) × Θ(Iᶜ;T)`` of depth > 1 that the theorem counts.
    For a k-ary node the same count is used: such a node is a product of ``k``
    sums split across the cut, a sum of ``r`` rank-one terms (see Notes of
    :func:`theorem7_bounds`).

    Parameters
    ----------
    tree : ModeTree
    I : iterable of int
        A non-empty proper subset of the modes.

    Returns
    -------
    (p, q) : tuple of int

    Examples
    --------
    The paper's separating example (0-based), for the baseline tree:

    >>> T = mtd.ModeTree.baseline(4)
    >>> from mtd.bounds import theorem7_exponents
    >>> theorem7_exponents(T, [0, 2, 4, 6, 8, 9, 12, 13])
    (6, 6)
    """
    tree = _check_tree(tree)
    rows = check_index_set(I, tree.n_modes, proper=True)
    inside, outside = _pure_nodes(tree, rows)
    parent = tree._parent
    top = parent < 0  # the root (node id 0 in pre-order)
    # a tile is a maximal pure node: pure, and the root or below an impure parent
    tiles_I = int(np.count_nonzero(inside & (top | ~inside[np.maximum(parent, 0)])))
    tiles_C = int(np.count_nonzero(outside & (top | ~outside[np.maximum(parent, 0)])))
    q = min(tiles_I, tiles_C)
    # split nodes: interior, depth >= 1, every child pure, children on both sides
    n = len(parent)
    kid = parent[1:]  # the parent of every non-root node
    impure_kids = np.bincount(kid, weights=~(inside | outside)[1:], minlength=n)
    kids_I = np.bincount(kid, weights=inside[1:], minlength=n)
    kids_C = np.bincount(kid, weights=outside[1:], minlength=n)
    split = (tree._nk > 0) & (impure_kids == 0) & (kids_I > 0) & (kids_C > 0)
    split &= tree._depth >= 1
    p = int(np.count_nonzero(split))
    return p, q


def _pure_nodes(tree: ModeTree, rows: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per node id (pre-order): whether its modes all lie in ``rows``, and all outside.

    Counts come from prefix sums over the leaf order, so this is O(#nodes) in numpy.
    """
    marks = np.zeros(tree._n + 1, np.int64)
    marks[1:][tree._start[tree._lid[np.asarray(rows, np.int64)]]] = 1
    prefix = np.cumsum(marks)
    count = prefix[tree._start + tree._size] - prefix[tree._start]
    return count == tree._size, count == 0


def theorem7_bounds(tree: ModeTree, I: Any, r: int) -> tuple[int, int]:
    """Theorem 7's ``(lower, upper)`` bounds on ``rank [[A^y]]_I`` for a tree decomposition.

    Parameters
    ----------
    tree : ModeTree
        The decomposition's mode tree.
    I : iterable of int
        A non-empty proper subset of the modes.
    r : int
        The decomposition's size (number of channels), ``r >= 1``.

    Returns
    -------
    (lower, upper) : tuple of int
        ``(r^p, r^q)`` with ``(p, q) = theorem7_exponents(tree, I)``.  ``upper``
        holds for every weight; ``lower`` for all weights outside a null set,
        provided the discretizers span ``Rʳ`` (``M >= r``).  Both are exact
        Python ints, however large.

    Raises
    ------
    InvalidIndexSetError
        If ``I`` is empty, is all modes, or has a mode out of range.

    Notes
    -----
    The upper bound: each tile of ``Θ(I;T)`` contributes its ``r`` channels,
    so ``[[A]]_I`` factors through ``r^|Θ(I;T)|`` columns (likewise for Iᶜ).
    The lower bound: weights exist for which every counted node computes
    ``Σ_γ e_γ ⊗ e_γ`` across the cut and all else is rank one, giving rank
    ``r^p``; an ``r^p × r^p`` minor is then a non-zero polynomial in the
    weights, non-zero almost everywhere.  The root's children are excluded
    because eq. 3 has no dense layer after the root.  These bounds can differ
    from the generic rank (e.g. baseline tree, N = 8, I = {0,1,2}: bounds
    ``(r, r²)``); see :func:`trivial_bound` for the other cap.

    Examples
    --------
    >>> T = mtd.ModeTree.baseline(3)
    >>> mtd.theorem7_bounds(T, [0, 1, 2], r=3)
    (3, 9)
    >>> mtd.theorem7_bounds(T, [0, 1, 2, 3], r=3)  # a child of the root (true rank: 1)
    (1, 3)
    """
    r = check_int(r, "r", minimum=1)
    p, q = theorem7_exponents(tree, I)
    return r**p, r**q


def trivial_bound(n_modes: int, I: Any, M: int) -> int:
    """``M^min(|I|, |Iᶜ|)``: the smaller side of ``[[A]]_I`` for an ``M^N`` tensor.

    Examples
    --------
    >>> mtd.trivial_bound(6, [0, 1], M=3)
    9
    """
    n = check_int(n_modes, "n_modes", minimum=1)
    M = check_int(M, "M", minimum=1)
    rows = check_index_set(I, n, allow_empty=True)
    return M ** min(len(rows), n - len(rows))


def tree_mincut_bound(
    tree: ModeTree,
    I: Any,
    *,
    r: int,
    M: int,
    sizes: Mapping[Any, int] | None = None,
    dense_output: bool = False,
) -> int:
    """The min-cut upper bound on ``rank [[A^y]]_I`` for a tree decomposition's architecture.

    The decomposition is read as a tensor network.  Each interior node ``ν``
    contributes a copy tensor — a *hyperedge* — over its channel index, of
    dimension ``r_ν``, joining the weight matrix above ``ν`` to the weight
    matrices of its children; a leaf ``j`` is the ``M × r`` discretizer matrix,
    whose mode leg (dimension ``M``) is open on the side of ``j``.  Every
    matrix is placed on one side of a cut; a hyperedge whose matrices lie on
    both sides costs its dimension once, and so does an open leg on the wrong
    side.  The product of the costs of any placement bounds the rank, and this
    returns the smallest such product, found exactly by dynamic programming on
    the tree (Python ints, however large).

    In the eq. 3 form the root's channel is fixed to the output ``y``, so its
    hyperedge has dimension 1 (a rank-one product); with ``dense_output=True``
    (COLT form) the root's hyperedge keeps its dimension and the output vector
    may sit on either side.  For the COLT form a node's hyperedge is the index
    shared by its children, so give ``sizes`` as the children's channel counts.

    Parameters
    ----------
    tree : ModeTree
    I : iterable of int
        A non-empty proper subset of the modes.
    r : int
        The hyperedge dimension (channels) of every interior node not in
        ``sizes``, and the number of columns of the discretizers.
    M : int
        The number of discretizers (dimension of every mode).
    sizes : mapping node -> int, optional
        Per-node hyperedge dimensions overriding ``r``.
    dense_output : bool, default False
        Whether a dense layer follows the root (COLT form).

    Returns
    -------
    int
        An upper bound on the rank for every choice of weights; never above
        Theorem 7's upper bound (for ``M >= r``) nor the trivial bound
        ``M^min(|I|, |Iᶜ|)``.

    Notes
    -----
    Cutting a copy tensor of dimension ``d`` between any two groups of its legs
    leaves a matrix of rank ``d``, which is why a hyperedge is paid once however
    many of its matrices lie across the cut.  Let ``f(ν, s)`` be the cheapest
    product for the subtree under the matrix above ``ν`` when that matrix is on
    side ``s``; then ``f(ν, s) = min(Π_c f(c, s), r_ν · Π_c min_t f(c, t))`` and,
    for a leaf, ``f(j, s) = 1`` on the side of ``j`` and ``min(M, r)`` on the
    other.

    Examples
    --------
    the example of the theory page, §5, where Theorem 7's bounds (r, r²) differ: the cut
    finds the generic rank r.

    >>> mtd.tree_mincut_bound(mtd.ModeTree.baseline(3), [0, 1, 2], r=3, M=3)
    3
    >>> mtd.tree_mincut_bound(mtd.ModeTree.baseline(3), [0, 2, 4, 6], r=3, M=2)
    16
    """
    tree = _check_tree(tree)
    r = check_int(r, "r", minimum=1)
    M = check_int(M, "M", minimum=1)
    rows = frozenset(check_index_set(I, tree.n_modes, proper=True))
    size: dict[Any, int] = {}
    for key, value in (sizes or {}).items():
        node = tree._node(key, "sizes key")
        if tree.is_leaf(node):
            raise InvalidArgumentError(
                f"sizes must give interior nodes only; got leaf {sorted(node)}"
            )
        size[node] = check_int(value, f"sizes[{sorted(node)}]", minimum=1)

    kids_of = tree._children  # internal: nodes are already validated here
    leaf_cut = min(r, M)
    # f[node] = (cheapest product with the matrix above node on the I side, on the Iᶜ side)
    f: dict[Any, tuple[int, int]] = {}
    root_cost = 1
    for node in reversed(tree.nodes):
        kids = kids_of.get(node)
        if not kids:
            f[node] = (1, leaf_cut) if node <= rows else (leaf_cut, 1)
            continue
        together = [1, 1]
        split = 1
        for c in kids:
            a, b = f[c]
            together[0] *= a
            together[1] *= b
            split *= min(a, b)
        if node == tree.root:
            d = size.get(node, r) if dense_output else 1
            root_cost = min(together[0], together[1], d * split)
        else:
            d = size.get(node, r)
            f[node] = (min(together[0], d * split), min(together[1], d * split))
    return root_cost
