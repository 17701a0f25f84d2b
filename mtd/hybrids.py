"""Mixture nodes and hybrid trees of two mode trees (the theory page, §2, Def. 4 of the paper).

Two mode trees ``T`` and ``T̄`` over the same modes can be *mixed* at nodes that
are interior in both (:func:`common_interior`).  Walking the mixture nodes and
the root in inclusion order (a node after every node it contains), the
*segment* of μ in a tree is its set of interior nodes inside μ that no earlier
segment took.  A *hybrid tree* takes every segment whole from ``T`` or from
``T̄``; it records, for every interior node, the tree it came from
(:data:`FROM_T` = 0 or :data:`FROM_T_BAR` = 1), which is what Claim 5's
embedding into a mixed decomposition needs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._rich import Rich
from ._typing import Node
from ._validation import _is_int, check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError
from .trees import ModeTree, format_node

__all__ = [
    "FROM_T",
    "FROM_T_BAR",
    "HybridTree",
    "common_interior",
    "hybrid_tree",
    "hybrid_trees",
    "inclusion_order",
]

FROM_T = 0
"""Source label of the first tree ``T`` in hybrids and mixed decompositions."""
FROM_T_BAR = 1
"""Source label of the second tree ``T̄`` in hybrids and mixed decompositions."""

_MAX_HYBRIDS = 2**16


def _check_same_modes(T: ModeTree, T_bar: ModeTree) -> None:
    for name, t in (("T", T), ("T_bar", T_bar)):
        if not isinstance(t, ModeTree):
            raise InvalidArgumentTypeError(f"{name} must be a ModeTree; got {type(t).__name__}")
    if T.n_modes != T_bar.n_modes:
        raise InvalidArgumentError(
            f"T and T_bar must be over the same modes; got {T.n_modes} and {T_bar.n_modes} modes"
        )


def common_interior(T: ModeTree, T_bar: ModeTree) -> frozenset[Node]:
    """The nodes that are interior in both trees: the possible mixture nodes.

    Examples
    --------
    >>> T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
    >>> sorted(len(n) for n in mtd.common_interior(T, Tb))
    [4, 4, 4, 4, 16]
    """
    _check_same_modes(T, T_bar)
    return frozenset(T._children) & frozenset(T_bar._children)


def _check_mixture(T: ModeTree, T_bar: ModeTree, mixture_nodes: Iterable[Any]) -> list[Node]:
    _check_same_modes(T, T_bar)
    if isinstance(mixture_nodes, (str, bytes)):
        raise InvalidArgumentTypeError("mixture_nodes must be an iterable of nodes; got a string")
    mix: list[Node] = []
    for raw in mixture_nodes:
        try:
            if isinstance(raw, (str, bytes)):
                raise TypeError
            node = frozenset((int(raw),)) if _is_int(raw) else frozenset(raw)
        except TypeError:
            raise InvalidArgumentTypeError(
                f"mixture_nodes must hold nodes (sets of int modes); got {raw!r} of type "
                f"{type(raw).__name__}"
            ) from None
        bad = [m for m in node if not _is_int(m)]
        if bad:
            raise InvalidArgumentTypeError(
                f"mixture_nodes must hold sets of int modes; got {bad[0]!r} of type "
                f"{type(bad[0]).__name__} in {raw!r}"
            )
        for name, t in (("T", T), ("T_bar", T_bar)):
            if node not in t or t.is_leaf(node):
                what = "a leaf" if node in t else "not a node"
                raise InvalidArgumentError(
                    f"mixture node {format_node(node)} must be interior in both trees; it is "
                    f"{what} of {name}"
                )
        if node not in mix:
            mix.append(node)
    return mix


def inclusion_order(nodes: Iterable[Node]) -> list[Node]:
    """Order nodes so that each comes after every node it contains (by size, then modes)."""
    return sorted(set(nodes), key=lambda n: (len(n), sorted(n)))


def _segments(tree: ModeTree, walk: list[Node]) -> dict[Node, list[Node]]:
    """Segment of each μ in ``walk``: interior nodes of ``tree`` inside μ, not in earlier ones."""
    # A node inside μ has μ as an ancestor (or is μ): carry down the tree the earliest
    # position in ``walk`` among a node's ancestors, in one pre-order pass (linear time).
    where = {mu: i for i, mu in enumerate(walk)}
    none = len(walk)
    best: dict[Node, int] = {}
    out: dict[Node, list[Node]] = {mu: [] for mu in walk}
    for n in tree.nodes:
        p = tree.parent(n)
        b = min(none if p is None else best[p], where.get(n, none))
        best[n] = b
        if b < none and not tree.is_leaf(n):
            out[walk[b]].append(n)
    return out


@dataclass(frozen=True)
class HybridTree(Rich):
    """A hybrid of two mode trees (Def. 4) with the tree each interior node came from.

    Attributes
    ----------
    tree : ModeTree
        The hybrid tree H.
    source : Mapping[frozenset, int]
        For every interior node of ``tree``, the tree it was taken from:
        :data:`FROM_T` (0) or :data:`FROM_T_BAR` (1).
    choice : Mapping[frozenset, int]
        For every μ in ``mixture_nodes ∪ {root}``, whose segment H took.
    """

    tree: ModeTree
    source: Mapping[Node, int]
    choice: Mapping[Node, int]

    def svg(self, *, I: Iterable[int] | None = None, highlight: Iterable[Any] | None = None) -> Any:
        """An SVG drawing of H: nodes coloured by source tree, ``highlight`` ringed in gold.

        ``highlight`` defaults to the mixture nodes H chose at (``choice`` without the
        root); see :func:`mtd.display.tree_svg`.

        Examples
        --------
        >>> from mtd.separation import separating_example
        >>> svg = str(separating_example(4, 2).hybrid.svg())
        >>> svg.count('class="halo"'), svg.count("from-Tbar")  # 2 blocks x 3 nodes + root segment
        (4, 9)
        """
        from .display import Drawing, tree_svg

        if highlight is None:
            highlight = [m for m in self.choice if m != self.tree.root]
        return Drawing(tree_svg(self.tree, I=I, highlight=highlight, sources=self.source))

    def _repr_svg_(self) -> str:
        return str(self.svg())

    def __repr__(self) -> str:
        picks = ", ".join(
            f"{format_node(mu)}: {'T_bar' if c else 'T'}"
            for mu, c in sorted(self.choice.items(), key=lambda kv: (len(kv[0]), sorted(kv[0])))
        )
        return f"HybridTree({self.tree!r}, choice={{{picks}}})"


def hybrid_tree(
    T: ModeTree, T_bar: ModeTree, mixture_nodes: Iterable[Any], choice: Mapping[Any, int]
) -> HybridTree:
    """Build the hybrid of ``T`` and ``T_bar`` that takes the given segments (Def. 4).

    Parameters
    ----------
    T, T_bar : ModeTree
        Two trees over the same modes.
    mixture_nodes : iterable of nodes
        Nodes interior in both trees.
    choice : mapping
        For each μ in ``mixture_nodes ∪ {root}``: :data:`FROM_T` (0) or
        :data:`FROM_T_BAR` (1), the tree whose segment of μ the hybrid takes.  Missing entries
        default to :data:`FROM_T`.

    Returns
    -------
    HybridTree

    Examples
    --------
    >>> T, Tb = mtd.ModeTree.baseline(2), mtd.ModeTree.swapped(2, 2)
    >>> h = mtd.hybrid_tree(T, Tb, [], {frozenset(range(4)): 1})
    >>> h.tree == Tb
    True
    """
    mix = _check_mixture(T, T_bar, mixture_nodes)
    walk = inclusion_order([*mix, T.root])
    picks: dict[Node, int] = {}
    for key, c in dict(choice).items():
        node = frozenset((int(key),)) if _is_int(key) else frozenset(key)
        if node not in walk:
            raise InvalidArgumentError(
                f"choice keys must be mixture nodes or the root; got {format_node(node)}"
            )
        if c not in (FROM_T, FROM_T_BAR):
            raise InvalidArgumentError(f"choice values must be 0 (T) or 1 (T_bar); got {c!r}")
        picks[node] = int(c)
    segs = (_segments(T, walk), _segments(T_bar, walk))
    return _assemble(T, T_bar, walk, segs, {mu: picks.get(mu, FROM_T) for mu in walk})


def _assemble(
    T: ModeTree,
    T_bar: ModeTree,
    walk: list[Node],
    segs: tuple[dict[Node, list[Node]], dict[Node, list[Node]]],
    choice: dict[Node, int],
) -> HybridTree:
    trees = (T, T_bar)
    table: dict[Node, tuple[Node, ...]] = {}
    source: dict[Node, int] = {}
    for mu in walk:
        c = choice[mu]
        for node in segs[c][mu]:
            table[node] = trees[c]._children[node]
            source[node] = c
    # Laminarity of both trees makes every assembled table a valid tree; assert it.
    tree = ModeTree(table, T.root, T.n_modes)
    if set(tree.nodes) != set(table) | set(T.leaves):  # pragma: no cover - invariant
        raise RuntimeError("mtd bug: an assembled hybrid tree is not a mode tree")
    return HybridTree(tree, source, dict(choice))


def hybrid_trees(
    T: ModeTree, T_bar: ModeTree, mixture_nodes: Iterable[Any], *, max_hybrids: int = _MAX_HYBRIDS
) -> tuple[HybridTree, ...]:
    """Every distinct hybrid tree of ``T`` and ``T_bar`` w.r.t. ``mixture_nodes`` (Def. 4).

    Walk μ ∈ mix ∪ {root} in inclusion order; the *segment* of μ in a tree is its
    set of interior nodes inside μ that no earlier segment took.  A hybrid takes
    every segment whole from ``T`` or from ``T_bar``: ``2^(|mix|+1)`` choices, some
    of which give the same tree; each distinct tree is returned once (with the
    first choice, in binary counting order with the root most significant, that
    produced it).

    Parameters
    ----------
    T, T_bar : ModeTree
        Two trees over the same modes.
    mixture_nodes : iterable of nodes
        Nodes interior in both trees (see :func:`common_interior`).
    max_hybrids : int, default 65536
        Refuse more than this many choices (``2^(|mix|+1)``) instead of running
        for ever.

    Returns
    -------
    tuple of HybridTree
        ``T`` itself comes first and ``T_bar`` is among them.

    Raises
    ------
    InvalidArgumentError
        If a mixture node is not interior in both trees, the trees are over
        different modes, or there are too many choices.

    Examples
    --------
    >>> T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
    >>> mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    >>> len(mtd.hybrid_trees(T, Tb, mix))
    32
    """
    mix = _check_mixture(T, T_bar, mixture_nodes)
    walk = inclusion_order([*mix, T.root])
    count = 2 ** len(walk)
    if count > check_int(max_hybrids, "max_hybrids", minimum=1):
        raise InvalidArgumentError(
            f"{len(mix)} mixture nodes give 2^{len(walk)} = {count} hybrid choices, over "
            f"max_hybrids = {max_hybrids}; pass a larger max_hybrids or use hybrid_tree()"
        )
    segs = (_segments(T, walk), _segments(T_bar, walk))
    seen: set[ModeTree] = set()
    out: list[HybridTree] = []
    for bits in itertools.product((FROM_T, FROM_T_BAR), repeat=len(walk)):
        h = _assemble(T, T_bar, walk, segs, dict(zip(reversed(walk), bits, strict=True)))
        if h.tree not in seen:
            seen.add(h.tree)
            out.append(h)
    return tuple(out)
