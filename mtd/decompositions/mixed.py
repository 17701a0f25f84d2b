"""Mixed tensor decompositions (eq. 4): two tree decompositions interconnected at mixture nodes.

Two mode trees ``T`` and ``T̄`` over the same modes, each with its own eq. 3 weights,
share the leaves (the discretizers).  Walk ``μ ∈ mix ∪ {root}`` in inclusion order
(:func:`mtd.hybrids.inclusion_order`); for each ``μ`` compute, with eq. 3, every not
yet computed interior node of ``T`` inside ``μ`` and every one of ``T̄`` inside ``μ``;
then, if ``μ`` is a mixture node, **swap the first half of the channels**,
``φ^{μ,γ} ↔ φ̄^{μ,γ}`` for ``γ < r_μ/2``.  The outputs are
``A^y = φ^{root,y} + φ̄^{root,y}``.  With no mixture nodes this is the sum of the two
networks; the interconnections add no parameters.  (Summing node tensors at mixture
nodes is *not* this definition.)

The weight format is :mod:`mtd.decompositions.tree`'s ``"eq3"`` format, once per tree
(``weights`` for ``T``, ``weights_bar`` for ``T̄``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from .._rich import Rich
from .._sizes import check_shapes
from .._typing import Seed
from .._validation import as_rng, check_int, check_max_weight
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..hybrids import _check_mixture, inclusion_order
from ..trees import ModeTree, format_node
from ._dense import dense_tensor
from ._plan import LeafStep, NodeStep, OutputTerm, Plan, Step, SwapStep, check_g
from ._random import check_kind, random_array, random_discretizers
from ._weights import check_discretizers, resolve_weights
from .evaluate import PlanEvaluators
from .tree import TreeDecomposition

__all__ = ["MixedDecomposition", "mixed_to_tensor"]

Node = frozenset[int]


class MixedDecomposition(PlanEvaluators, Rich):
    """A mixed decomposition (eq. 4) of two mode trees with shared leaves.

    Parameters
    ----------
    T, T_bar : ModeTree
        Two trees over the same modes.
    mixture_nodes : iterable of nodes
        Nodes interior in both trees (:func:`mtd.common_interior`); may be empty.
    discretizers : (M, r_0) array_like
        Shared by both trees' leaves.
    weights, weights_bar : mapping
        Eq. 3 weights of ``T`` and of ``T_bar`` (node -> one ``(r_ν, r_child)`` matrix
        per child, or depth -> matrices when tied; see :mod:`mtd.decompositions.tree`).
    g : str, default "product"
        The generalized product (the same in both trees).
    tied : bool, optional
        Whether the weights are keyed by depth (default: inferred).

    Raises
    ------
    InvalidArgumentError
        If the trees are over different modes, a mixture node is not interior in both
        trees (named), its size is odd or differs between the trees, the roots' sizes
        differ, or a weight has the wrong shape.

    Examples
    --------
    >>> T, Tb = mtd.ModeTree.baseline(2), mtd.ModeTree.swapped(2, 2)
    >>> d = mtd.decompositions.MixedDecomposition.random(
    ...     T, Tb, [], M=2, r=2, kind="integer", seed=0)
    >>> a, b = d.tree_decompositions()
    >>> bool((d.to_tensor(arithmetic="exact") == a.to_tensor(arithmetic="exact")
    ...       + b.to_tensor(arithmetic="exact")).all())
    True
    """

    __slots__ = (
        "_T",
        "_Tb",
        "_mix",
        "_V",
        "_W",
        "_Wb",
        "_sizes",
        "_sizes_bar",
        "_g",
        "_tied",
        "_plan",
    )

    def __init__(
        self,
        T: ModeTree,
        T_bar: ModeTree,
        mixture_nodes: Iterable[Any],
        discretizers: Any,
        weights: Mapping[Any, Any],
        weights_bar: Mapping[Any, Any],
        *,
        g: str = "product",
        tied: bool | None = None,
    ):
        mix = _check_mixture(T, T_bar, mixture_nodes)
        if T.root != T_bar.root or T.n_modes < 2:
            raise InvalidArgumentError(
                f"a mixed decomposition needs two trees over the same N >= 2 modes; got "
                f"{T.n_modes} and {T_bar.n_modes}"
            )
        self._g = check_g(g)
        self._T, self._Tb = T, T_bar
        self._mix = tuple(inclusion_order(mix))
        self._V = check_discretizers(discretizers)
        leaf_sizes = {m: int(self._V.shape[1]) for m in range(T.n_modes)}
        self._W, self._sizes, t1 = resolve_weights(
            T, weights, form="eq3", tied=tied, leaf_sizes=leaf_sizes, name="weights"
        )
        self._Wb, self._sizes_bar, t2 = resolve_weights(
            T_bar, weights_bar, form="eq3", tied=tied, leaf_sizes=leaf_sizes, name="weights_bar"
        )
        self._tied = t1 and t2
        for mu in self._mix:
            a, b = self._sizes[mu], self._sizes_bar[mu]
            if a != b:
                raise InvalidArgumentError(
                    f"mixture node {format_node(mu)} must have the same size in both trees "
                    f"(its channels are swapped); got {a} in T and {b} in T_bar"
                )
            if a % 2:
                raise InvalidArgumentError(
                    f"r must be even: the first r/2 channels of mixture node {format_node(mu)} "
                    f"are swapped; got size {a}"
                )
        ra, rb = self._sizes[T.root], self._sizes_bar[T.root]
        if ra != rb:
            raise InvalidArgumentError(
                f"the roots of T and T_bar must have the same size (their outputs are added); "
                f"got {ra} and {rb}"
            )
        self._plan = _compile(self)

    @classmethod
    def random(
        cls,
        T: ModeTree,
        T_bar: ModeTree,
        mixture_nodes: Iterable[Any],
        *,
        M: int,
        r: int,
        kind: str = "gaussian",
        g: str = "product",
        seed: Seed = None,
        r_input: int | None = None,
        max_weight: int = 1000,
    ) -> MixedDecomposition:
        """A mixed decomposition of size ``r`` (even) with random weights.

        Parameters
        ----------
        T, T_bar : ModeTree
        mixture_nodes : iterable of nodes
        M : int
            Number of discretizers.
        r : int
            The size of every node (even).
        kind : {"gaussian", "orthogonal", "integer"}, default "gaussian"
        g : str, default "product"
        seed : None, int or numpy.random.Generator
        r_input : int, optional
            Columns of the discretizers; default ``r``.
        max_weight : int, default 1000
            Integer weights (``kind="integer"``) are uniform in
            ``-max_weight..max_weight``: wide enough that ranks are generic with high
            probability.  A matricization's rank falls below its generic value ``R``
            only where an ``R × R`` minor, a non-zero polynomial of degree ``D`` in the
            weights, vanishes: by Schwartz–Zippel with probability at most
            ``D / (2·max_weight + 1)``, where ``D ≤ R·(number of weight and discretizer
            entries multiplied into one entry)`` (``R·(2N - 1)`` for a binary tree with
            random discretizers) — a loose bound; ``k`` independent draws fail together
            with probability at most its ``k``-th power.  Tiny ranges such as ``2`` give
            non-generic ranks often.

        Returns
        -------
        MixedDecomposition

        Examples
        --------
        >>> T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
        >>> mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
        >>> d = mtd.decompositions.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0)
        >>> d.to_tensor().shape == (2,) * 16
        True
        >>> mtd.decompositions.MixedDecomposition.random(T, Tb, mix, M=2, r=3)
        Traceback (most recent call last):
        ...
        mtd.errors.InvalidArgumentError: r must be even ...; got 3
        """
        kind = check_kind(kind)
        M = check_int(M, "M", minimum=1)
        r = check_int(r, "r", minimum=2)
        if r % 2:
            raise InvalidArgumentError(
                f"r must be even (mixture nodes swap the first r/2 channels); got {r}"
            )
        max_weight = check_max_weight(max_weight)
        r_in = r if r_input is None else check_int(r_input, "r_input", minimum=1)
        for tree in (T, T_bar):
            if not isinstance(tree, ModeTree):
                raise InvalidArgumentTypeError(
                    f"T and T_bar must be ModeTrees; got {type(tree).__name__}"
                )
        check_shapes(
            [(M, r_in)]
            + [
                (r, r_in if tree.is_leaf(c) else r)
                for tree in (T, T_bar)
                for n in tree.interior_nodes
                for c in tree.children(n)
            ],
            8,
            what="the random weights and discretizers",
        )
        rng = as_rng(seed)
        V = random_discretizers(rng, M, r_in, kind, max_weight)
        ws = []
        for tree in (T, T_bar):
            ws.append(
                {
                    n: [
                        random_array(
                            rng, (r, r_in if tree.is_leaf(c) else r), kind, max_weight, checked=True
                        )
                        for c in tree.children(n)
                    ]
                    for n in reversed(tree.interior_nodes)
                }
            )
        return cls(T, T_bar, mixture_nodes, V, ws[0], ws[1], g=g)

    # --------------------------------------------------------------------- structure
    @property
    def T(self) -> ModeTree:
        """The first tree."""
        return self._T

    @property
    def T_bar(self) -> ModeTree:
        """The second tree."""
        return self._Tb

    @property
    def mixture_nodes(self) -> tuple[Node, ...]:
        """The mixture nodes, in inclusion order."""
        return self._mix

    @property
    def discretizers(self) -> np.ndarray:
        """The shared ``(M, r_0)`` discretizers."""
        return self._V

    @property
    def weights(self) -> Mapping[Node, tuple[np.ndarray, ...]]:
        """``T``'s weights, per interior node."""
        return MappingProxyType(self._W)

    @property
    def weights_bar(self) -> Mapping[Node, tuple[np.ndarray, ...]]:
        """``T_bar``'s weights, per interior node."""
        return MappingProxyType(self._Wb)

    @property
    def sizes(self) -> Mapping[Node, int]:
        """Node sizes in ``T``."""
        return MappingProxyType(self._sizes)

    @property
    def sizes_bar(self) -> Mapping[Node, int]:
        """Node sizes in ``T_bar``."""
        return MappingProxyType(self._sizes_bar)

    @property
    def r(self) -> int | None:
        """The common size of every interior node of both trees, or ``None``."""
        vals = {self._sizes[n] for n in self._T.interior_nodes}
        vals |= {self._sizes_bar[n] for n in self._Tb.interior_nodes}
        return vals.pop() if len(vals) == 1 else None

    @property
    def g(self) -> str:
        """The generalized product."""
        return self._g

    @property
    def tied(self) -> bool:
        """Whether both trees' weights are tied per depth."""
        return self._tied

    @property
    def M(self) -> int:
        """The number of discretizers."""
        return int(self._V.shape[0])

    @property
    def n_modes(self) -> int:
        """The number of modes."""
        return self._T.n_modes

    @property
    def n_outputs(self) -> int:
        """The number of outputs (the roots' size)."""
        return self._plan.n_outputs

    @property
    def is_integer(self) -> bool:
        """Whether exact arithmetic is possible."""
        return self._plan.is_integer()

    @property
    def plan(self) -> Plan:
        """The compiled plan (eq. 4's walk, with swap steps)."""
        return self._plan

    def tree_decompositions(self) -> tuple[TreeDecomposition, TreeDecomposition]:
        """The two trees' own decompositions (what the network computes with no mixing)."""
        return (
            TreeDecomposition(self._T, self._V, self._W, g=self._g),
            TreeDecomposition(self._Tb, self._V, self._Wb, g=self._g),
        )

    # ------------------------------------------------------------------- evaluation
    def to_tensor(
        self, output: int | None = 0, *, arithmetic: str = "float", prime: int | None = None
    ) -> np.ndarray:
        """The grid tensor ``A^output``; see :func:`mixed_to_tensor`."""
        return mixed_to_tensor(self, output, arithmetic=arithmetic, prime=prime)

    def __repr__(self) -> str:
        mix = ", ".join(format_node(m) for m in self._mix) or "none"
        return (
            f"<MixedDecomposition g={self._g!r} over {self.n_modes} modes, M={self.M}, "
            f"r={self.r}, mixture nodes: {mix}>"
        )


def _compile(d: MixedDecomposition) -> Plan:
    T, Tb = d.T, d.T_bar
    steps: list[Step] = []
    V = d.discretizers
    for m in range(T.n_modes):
        steps.append(LeafStep(slot=m, mode=m, matrix=V, weight=None, size=int(V.shape[1])))
    slots: tuple[dict[Node, int], dict[Node, int]] = ({}, {})
    trees = ((T, d._W, d._sizes), (Tb, d._Wb, d._sizes_bar))
    nxt = T.n_modes
    for mu in inclusion_order([*d.mixture_nodes, T.root]):
        for t, (tree, W, sizes) in enumerate(trees):
            for node in reversed(tree.nodes):
                if node not in W or node in slots[t] or not node <= mu:
                    continue
                kids = tuple(
                    next(iter(c)) if tree.is_leaf(c) else slots[t][c] for c in tree.children(node)
                )
                slots[t][node] = nxt
                steps.append(
                    NodeStep(
                        slot=nxt,
                        node=node,
                        modes=tuple(sorted(node)),
                        children=kids,
                        kind="eq3",
                        weights=W[node],
                        size=sizes[node],
                        tree=t,
                    )
                )
                nxt += 1
        if mu in d.mixture_nodes:
            steps.append(
                SwapStep(slots=(slots[0][mu], slots[1][mu]), n_channels=d.sizes[mu] // 2, node=mu)
            )
    root = T.root
    return Plan(
        modes=tuple(range(T.n_modes)),
        dims={m: d.M for m in range(T.n_modes)},
        g=d.g,
        steps=tuple(steps),
        outputs=(OutputTerm(slots[0][root]), OutputTerm(slots[1][root])),
        n_outputs=d.sizes[root],
    )


def mixed_to_tensor(
    decomposition: MixedDecomposition,
    output: int | None = 0,
    *,
    arithmetic: str = "float",
    prime: int | None = None,
) -> np.ndarray:
    """The grid tensor ``A^output = φ^{root,output} + φ̄^{root,output}`` of a mixed decomposition.

    Parameters
    ----------
    decomposition : MixedDecomposition
    output : int or None, default 0
        Which output; ``None`` stacks all.
    arithmetic : {"float", "exact", "modular"}, default "float"
    prime : int, optional
        For ``"modular"``.

    Returns
    -------
    ndarray of shape ``(M,) * N``

    Examples
    --------
    >>> T, Tb = mtd.ModeTree.baseline(2), mtd.ModeTree.swapped(2, 2)
    >>> d = mtd.decompositions.MixedDecomposition.random(
    ...     T, Tb, [T.root], M=2, r=2, kind="integer", seed=1, max_weight=2)
    >>> A = mtd.decompositions.mixed_to_tensor(d, arithmetic="exact")
    >>> A.dtype, A.shape
    (dtype('int64'), (2, 2, 2, 2))
    """
    if not isinstance(decomposition, MixedDecomposition):
        raise InvalidArgumentTypeError(
            f"decomposition must be a MixedDecomposition; got {type(decomposition).__name__}"
        )
    return dense_tensor(decomposition.plan, output, arithmetic=arithmetic, prime=prime)
