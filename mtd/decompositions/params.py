"""Parameter counts: from a decomposition's arrays, or from structure alone.

A network's parameters are its weights: the node weights (eq. 3 matrices, COLT
mixing matrices or transfer tensors), leaf weights and a dense output layer; tied
weights count once.  Discretizers are the points where the grid tensor samples the
network, not parameters, and are counted only on request.  A mixed decomposition has
the parameters of its two trees: the interconnections add none.  A hierarchical
tensor (HSVD) counts its leaf bases and transfer tensors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._validation import check_int
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree
from ._plan import LeafStep
from ._random import size_function
from ._weights import check_form
from .evaluate import get_plan

__all__ = ["n_parameters", "parameter_count"]


def n_parameters(decomposition: Any, *, include_discretizers: bool = False) -> int:
    """The number of parameters (weights) of a decomposition.

    Parameters
    ----------
    decomposition : TreeDecomposition, MixedDecomposition or HierarchicalTensor
    include_discretizers : bool, default False
        Also count the ``M × r_0`` discretizer matrix (once).

    Returns
    -------
    int

    Examples
    --------
    >>> d = mtd.decompositions.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=3, r=2)
    >>> mtd.decompositions.n_parameters(d)  # 3 nodes, 2 matrices of 2 x 2 each
    24
    """
    from .hierarchical import HierarchicalTensor

    plan = get_plan(decomposition)
    if isinstance(decomposition, HierarchicalTensor):
        return sum(int(a.size) for a in plan.arrays())
    matrices = {id(s.matrix) for s in plan.steps if isinstance(s, LeafStep)}
    total = sum(int(a.size) for a in plan.arrays() if id(a) not in matrices)
    if include_discretizers:
        total += sum(int(a.size) for a in plan.arrays() if id(a) in matrices)
    return total


def _tree_count(tree: ModeTree, r: Any, form: str, r_in: int, *, tied: bool) -> int:
    size = size_function(tree, r)
    sizes: dict[frozenset[int], int] = {leaf: r_in for leaf in tree.leaves}
    total = 0
    if form != "eq3":
        leaf_sizes = []
        for leaf in tree.leaves:
            try:
                sizes[leaf] = int(size(leaf))
            except InvalidArgumentError:
                sizes[leaf] = r_in
            leaf_sizes.append(sizes[leaf] * r_in)
        total += leaf_sizes[0] if tied else sum(leaf_sizes)
    seen_depths: set[int] = set()
    for node in reversed(tree.nodes):
        if tree.is_leaf(node):
            continue
        sizes[node] = size(node)
        d = tree.depth(node)
        if tied and d in seen_depths:
            continue
        seen_depths.add(d)
        csz = [sizes[c] for c in tree.children(node)]
        if form == "eq3":
            total += sizes[node] * sum(csz)
        elif form == "colt":
            total += sizes[node] * csz[0]
        else:
            total += sizes[node] * math.prod(csz)
    return total


def parameter_count(
    tree: ModeTree | tuple[ModeTree, ModeTree],
    M: int,
    r: Any,
    *,
    form: str = "eq3",
    tied: bool = False,
    r_input: int | None = None,
    include_discretizers: bool = False,
) -> int:
    """The number of parameters of an architecture, from its structure only.

    Equals :func:`n_parameters` of the decomposition ``TreeDecomposition.random(tree, M=M,
    r=r, form=form, tied=tied, r_input=r_input)`` (or of ``MixedDecomposition.random``
    for a pair of trees) without building it.

    Parameters
    ----------
    tree : ModeTree or (ModeTree, ModeTree)
        One tree, or the two trees of a mixed decomposition (eq. 3 form; its count is the
        sum of both trees').
    M : int
        Number of discretizers (counted only with ``include_discretizers``).
    r : int or mapping
        Node sizes as in :meth:`TreeDecomposition.random`.
    form : {"eq3", "colt", "ht"}, default "eq3"
    tied : bool, default False
    r_input : int, optional
        Columns of the discretizers; default ``r``.
    include_discretizers : bool, default False

    Returns
    -------
    int

    Examples
    --------
    >>> T = mtd.ModeTree.baseline(4)
    >>> mtd.decompositions.parameter_count(T, 2, 8)  # 15 nodes x 2 matrices of 8 x 8
    1920
    >>> mtd.decompositions.parameter_count((T, mtd.ModeTree.swapped(4, 2)), 2, 8)
    3840
    >>> mtd.decompositions.parameter_count(mtd.ModeTree.star(5), 3, 4, form="colt",
    ...                                    r_input=3)  # CP of rank 4: 5 factors 4x3, root 4x4
    76
    """
    M = check_int(M, "M", minimum=1)
    form = check_form(form)
    if r_input is None:
        if isinstance(r, Mapping):
            raise InvalidArgumentError("r_input is required when r is a mapping")
        r_input = int(r)
    r_in = check_int(r_input, "r_input", minimum=1)
    extra = M * r_in if include_discretizers else 0
    if isinstance(tree, tuple) and len(tree) == 2:
        if form != "eq3" or tied:
            raise InvalidArgumentError("mixed decompositions are counted in form 'eq3', untied")
        return sum(_tree_count(t, r, form, r_in, tied=tied) for t in tree) + extra
    if not isinstance(tree, ModeTree):
        raise InvalidArgumentTypeError(
            f"tree must be a ModeTree or a pair of ModeTrees; got {type(tree).__name__}"
        )
    return _tree_count(tree, r, form, r_in, tied=tied) + extra
