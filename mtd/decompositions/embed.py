"""Claim 5: every hybrid tree decomposition lives inside the mixed decomposition of twice its size.

Let ``H`` be a hybrid of ``T`` and ``T̄`` w.r.t. the mixture nodes (Def. 4), ``t(ν)`` the
tree ``H`` took interior node ``ν`` from, and ``h`` the size of ``H``'s decomposition.
The mixed decomposition of size ``r = 2h`` with weights built as in eq. 6 reproduces
``H``'s outputs ``0..h-1`` exactly:

1. start from all-zero weights in both trees;
2. for each interior ``ν`` of ``H``, each side (child) ``s`` and each ``γ < h``, put ``H``'s
   weight vector ``a_H^{ν,γ,s}`` into channel ``γ + h`` of node ``ν`` of tree ``t(ν)``,
   side ``s``: in the upper half of its coordinates (``h..2h-1``) if that child of ``ν``
   comes from ``t(ν)`` too, in the lower half (``0..h-1``) otherwise — always for leaf
   children;
3. then, if the parent of ``ν`` in ``H`` comes from the other tree, or ``ν`` is the root,
   swap the weight vectors of channels ``γ`` and ``γ + h`` on every side;
4. pad the discretizers with ``h`` zero columns.

The low channels carry what must cross to the other tree (exactly those are swapped at
mixture nodes), the high channels what stays.  Every node of ``T`` or ``T̄`` that ``H``
did not take has zero weights, hence zero tensors (``g(0, 0) = 0`` for every ``g``), so
the claim holds for every ``g``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .._validation import _is_int
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..hybrids import FROM_T, FROM_T_BAR, HybridTree, _check_mixture, hybrid_trees
from ..trees import ModeTree, format_node
from .mixed import MixedDecomposition
from .tree import TreeDecomposition

__all__ = ["embed_hybrid"]

Node = frozenset[int]


def _resolve_source(
    H: ModeTree, T: ModeTree, T_bar: ModeTree, mix: list[Node], hybrid: Any
) -> dict[Node, int]:
    if hybrid is None:
        for cand in hybrid_trees(T, T_bar, mix):
            if cand.tree == H:
                return dict(cand.source)
        raise InvalidArgumentError(
            "the decomposition's tree is not a hybrid of T and T_bar with respect to these "
            "mixture nodes (mtd.hybrid_trees lists the hybrids)"
        )
    if isinstance(hybrid, HybridTree):
        tree, source = hybrid.tree, hybrid.source
    elif isinstance(hybrid, tuple) and len(hybrid) == 2:
        tree, source = hybrid
    else:
        raise InvalidArgumentTypeError(
            f"hybrid must be a HybridTree or a (tree, source) pair; got {type(hybrid).__name__}"
        )
    if not isinstance(tree, ModeTree) or tree != H:
        raise InvalidArgumentError("hybrid.tree must be the hybrid decomposition's tree")
    if not isinstance(source, Mapping):
        raise InvalidArgumentTypeError("the source of a hybrid must map interior nodes to 0 or 1")
    out: dict[Node, int] = {}
    items: list[tuple[Any, Any]] = list(source.items())
    for key, val in items:
        node: Node = frozenset((int(key),)) if _is_int(key) else frozenset(key)
        if val not in (FROM_T, FROM_T_BAR):
            raise InvalidArgumentError(
                f"source values must be FROM_T (0) or FROM_T_BAR (1); got {val!r} for "
                f"{format_node(node)}"
            )
        out[node] = int(val)
    trees = (T, T_bar)
    for node in H.interior_nodes:
        if node not in out:
            raise InvalidArgumentError(f"source gives no tree for node {format_node(node)}")
        t = trees[out[node]]
        if node not in t._children or t.children(node) != H.children(node):
            name = "T" if out[node] == FROM_T else "T_bar"
            raise InvalidArgumentError(
                f"node {format_node(node)} of the hybrid does not have the same children in "
                f"{name}, the tree its source names"
            )
        parent = H.parent(node)
        if parent is not None and out[parent] != out[node] and node not in mix:
            raise InvalidArgumentError(
                f"node {format_node(node)} comes from another tree than its parent, so it must "
                f"be a mixture node; it is not"
            )
    return out


def embed_hybrid(
    hybrid_decomposition: TreeDecomposition,
    T: ModeTree,
    T_bar: ModeTree,
    mixture_nodes: Iterable[Any],
    *,
    hybrid: HybridTree | tuple[ModeTree, Mapping[Any, int]] | None = None,
) -> MixedDecomposition:
    """Claim 5 (eq. 6): the mixed decomposition of size ``2h`` realizing a hybrid of size ``h``.

    Parameters
    ----------
    hybrid_decomposition : TreeDecomposition
        An eq. 3 decomposition over a hybrid tree ``H`` of ``T`` and ``T_bar``, every node of
        size ``h`` and discretizers with ``h`` columns (any ``g``; no leaf weights, no
        dense output layer).
    T, T_bar : ModeTree
    mixture_nodes : iterable of nodes
    hybrid : HybridTree or (ModeTree, mapping), optional
        Which tree each interior node of ``H`` came from (:attr:`HybridTree.source`:
        node -> :data:`mtd.FROM_T` or :data:`mtd.FROM_T_BAR`).  Default: the first of
        :func:`mtd.hybrid_trees` whose tree is ``H``.  A given source is checked: each
        node's children must be those of its source tree, and a node whose parent comes
        from the other tree must be a mixture node.

    Returns
    -------
    MixedDecomposition
        Size ``2h``, discretizers zero-padded to ``2h`` columns; its outputs ``0..h-1``
        equal the hybrid's outputs exactly (same dtype: integer weights stay integer).

    Raises
    ------
    InvalidArgumentError
        If ``H`` is not a hybrid, the sizes are not uniform, or the decomposition is not
        of form ``"eq3"``.

    Examples
    --------
    >>> T, Tb = mtd.ModeTree.baseline(3), mtd.ModeTree.swapped(3, 2)
    >>> mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    >>> hyb = mtd.hybrid_trees(T, Tb, mix)[1]
    >>> H = mtd.decompositions.TreeDecomposition.random(hyb.tree, M=2, r=1, kind="integer", seed=0)
    >>> m = mtd.decompositions.embed_hybrid(H, T, Tb, mix)
    >>> m.r, bool((m.to_tensor(arithmetic="exact") == H.to_tensor(arithmetic="exact")).all())
    (2, True)
    """
    d = hybrid_decomposition
    if not isinstance(d, TreeDecomposition):
        raise InvalidArgumentTypeError(
            f"hybrid_decomposition must be a TreeDecomposition; got {type(d).__name__}"
        )
    if (
        d.form != "eq3"
        or d.outputs is not None
        or any(w is not None for w in d.leaf_weights.values())
    ):
        raise InvalidArgumentError(
            "Claim 5 embeds eq. 3 decompositions: form 'eq3', no leaf weights, no dense output "
            "layer"
        )
    mix = _check_mixture(T, T_bar, mixture_nodes)
    H = d.tree
    h = d.r
    if h is None or d.discretizers.shape[1] != h:
        raise InvalidArgumentError(
            f"the hybrid decomposition must have one size h at every node and h columns of "
            f"discretizers; got node sizes {sorted(set(d.sizes.values()))}"
        )
    source = _resolve_source(H, T, T_bar, mix, hybrid)
    dtype = np.int64 if d.is_integer else np.float64
    r = 2 * h
    trees = (T, T_bar)
    mixed: tuple[dict[Node, list[np.ndarray]], dict[Node, list[np.ndarray]]] = tuple(  # type: ignore[assignment]
        {n: [np.zeros((r, r), dtype=dtype) for _ in t.children(n)] for n in t.interior_nodes}
        for t in trees
    )
    for node in H.interior_nodes:
        t = source[node]
        parent = H.parent(node)
        cross = parent is None or source[parent] != t
        for s, child in enumerate(H.children(node)):
            a = d.weights[node][s]
            W = mixed[t][node][s]
            upper = not H.is_leaf(child) and source[child] == t
            cols = slice(h, r) if upper else slice(0, h)
            W[h:r, cols] = a
            if cross:
                W[:] = np.vstack([W[h:r], W[0:h]])
    V = np.hstack([d.discretizers, np.zeros((d.M, h), dtype=d.discretizers.dtype)])
    return MixedDecomposition(T, T_bar, mix, V, mixed[0], mixed[1], g=d.g)
