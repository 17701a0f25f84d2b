"""Convolutional arithmetic circuits with a pooling geometry (COLT'16, ICLR'17).

The network of Cohen, Sharir & Shashua (COLT 2016) on ``N`` input positions, with its
pooling windows given by a mode tree whose leaves are all at depth ``L``:

1. *representation*: input ``i`` becomes ``f(x_i) ∈ R^M`` (``M`` representation
   functions).  On templates (discretizers) this is a matrix ``F`` of shape
   ``(M_templates, M)``, row ``t`` = ``(f_0(x^(t)), …, f_{M-1}(x^(t)))``; the default
   ``F`` is the ``M × M`` identity (one-hot templates);
2. *1×1 convolution* ``A_0`` (``r_0 × M``) at every position;
3. for every height ``h = 1..L``: *product pooling* over the windows of height ``h``
   (the children of each node of height ``h`` multiply channelwise, or fold any
   generalized product ``g``, in child order), then a *1×1 convolution* ``A_h``
   (``r_h × r_{h-1}``) — for ``h = L`` (the root, global pooling) this is the dense
   output layer (``n_outputs × r_{L-1}``).

Node by node this is the COLT form of :class:`~mtd.decompositions.TreeDecomposition`
(``form="colt"``, a *sum of products* ``φ^{ν,γ} = Σ_α a^ν[γ, α] Π_c φ^{c,α}``, the root's
``a`` the output layer, leaf weights ``A_0``); :meth:`PoolingConvAC.to_decomposition`
builds it.  The star tree gives the shallow network, the CP decomposition
``A^y = Σ_z a^y_z (F A_0ᵀ)[:, z]^{⊗N}``.

Pooling geometries (the trees) are built by :mod:`mtd.networks.geometry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from .._rich import Rich
from .._typing import Seed
from .._validation import as_rng, check_int, check_max_weight
from ..decompositions import TreeDecomposition
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree, format_node
from ._common import (
    Arith,
    OperationCount,
    as_input,
    as_weight,
    check_arithmetic,
    check_channels,
    check_g,
    check_kind,
    check_output_index,
    g_apply,
    g_bound,
    grid_by_points,
    is_int_array,
    make_arith,
    max_abs,
    plan_grid_tensor,
    random_weight,
    row_bound,
)
from ._sequence import check_method

__all__ = ["PoolingConvAC"]

Node = frozenset[int]


# -------------------------------------------------------------------------- network
class PoolingConvAC(Rich):
    """A ConvAC whose pooling windows are the nodes of a mode tree (COLT'16 / ICLR'17).

    Parameters
    ----------
    tree : ModeTree
        The pooling geometry; every leaf at the same depth ``L >= 1``.
    channels : sequence of int
        ``(r_0, …, r_{L-1})``: the channels of the 1×1 convolution before each pooling
        layer (``r_0`` after the representation layer).
    M : int
        The number of representation functions.
    n_outputs : int, default 1
        Outputs of the dense layer after global pooling.
    representation : (M_templates, M) array_like, optional
        ``F``: the representation values of the templates (the default discretizers
        of :meth:`grid_tensor` and the rows :meth:`forward_templates` looks up);
        default the ``M × M`` identity.
    g : str, default "product"
        The pooling operation, as a generalized product folded over each window (see
        :data:`mtd.decompositions.G_FUNCTIONS`).
    seed : None, int or numpy.random.Generator
    weights : optional
        ``tied=True``: a sequence of ``L + 1`` matrices ``A_0 (r_0 × M), A_1, …,
        A_{L-1}, A_out (n_outputs × r_{L-1})``.  ``tied=False``: a mapping from every
        node of the tree (leaves ``{j}`` included: their ``A_0``) to its matrix.
    kind : {"gaussian", "integer"}, default "gaussian"
    tied : bool, default True
        Weight sharing (a convolution) or one matrix per node.
    max_weight : int, default 1000
        Range of random integer weights, ``-max_weight..max_weight``: wide enough that
        ranks are generic with high probability (Schwartz–Zippel: a rank below the
        generic ``R`` needs an ``R × R`` minor of degree ``D`` in the weights to vanish,
        probability at most ``D / (2·max_weight + 1)``; see
        :meth:`mtd.TreeDecomposition.random`).

    Raises
    ------
    InvalidArgumentError
        If the leaves are not all at one depth, ``channels`` does not have ``L``
        entries, or a weight has the wrong shape.

    Examples
    --------
    >>> net = mtd.networks.PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=2,
    ...                                  kind="integer", seed=0)
    >>> A = net.grid_tensor()
    >>> bool(A[1, 0, 0, 1] == net.forward_templates([1, 0, 0, 1])[0])
    True
    >>> cp = mtd.networks.PoolingConvAC.shallow(4, M=2, Z=3, kind="integer", seed=0)
    >>> mtd.matricization_rank(cp.grid_tensor(), [0, 2], method="exact") <= 3
    True
    """

    __slots__ = (
        "_tree",
        "_channels",
        "_M",
        "_Y",
        "_F",
        "_g",
        "_tied",
        "_layers",
        "_nodes",
        "_levels",
    )

    def __init__(
        self,
        tree: ModeTree,
        channels: Sequence[int],
        *,
        M: int,
        n_outputs: int = 1,
        representation: Any = None,
        g: str = "product",
        seed: Seed = None,
        weights: Any = None,
        kind: str = "gaussian",
        tied: bool = True,
        max_weight: int = 1000,
    ):
        if not isinstance(tree, ModeTree):
            raise InvalidArgumentTypeError(f"tree must be a ModeTree; got {type(tree).__name__}")
        depths = sorted({tree.depth(leaf) for leaf in tree.leaves})
        if len(depths) != 1 or depths[0] == 0:
            raise InvalidArgumentError(
                f"tree must have every leaf at the same depth L >= 1 (a layered pooling "
                f"network); got leaf depths {depths}"
            )
        L = depths[0]
        self._tree = tree
        self._M = check_int(M, "M", minimum=1)
        self._Y = check_int(n_outputs, "n_outputs", minimum=1)
        chans = check_channels(channels, None)
        if len(chans) != L:
            raise InvalidArgumentError(
                f"channels must be (r_0, ..., r_{{L-1}}): L = {L} entries for a tree of depth "
                f"{L}; got {len(chans)} entries {chans}"
            )
        self._channels = chans
        self._g = check_g(g)
        if not isinstance(tied, bool):
            raise InvalidArgumentTypeError(f"tied must be a bool; got {tied!r}")
        self._tied = tied
        if representation is None:
            F = np.eye(self._M, dtype=np.int64)
        else:
            F = as_weight(representation, "representation")
            if F.ndim != 2 or F.shape[1] != self._M or F.shape[0] == 0:
                raise InvalidArgumentError(
                    f"representation must be an (M_templates, M) matrix with M = {self._M} "
                    f"columns; got shape {F.shape}"
                )
        self._F = F
        by_depth = tree.nodes_by_depth()
        self._levels: tuple[tuple[Node, ...], ...] = tuple(by_depth[L - h] for h in range(L + 1))
        if weights is None:
            kind = check_kind(kind)
            max_weight = check_max_weight(max_weight)
            rng = as_rng(seed)
            if tied:
                layers = [
                    random_weight(rng, self._shape(h), kind, max_weight, self._shape(h)[1])
                    for h in range(L + 1)
                ]
            else:
                nodes = {
                    n: random_weight(rng, self._shape(h), kind, max_weight, self._shape(h)[1])
                    for h in range(L + 1)
                    for n in self._levels[h]
                }
        elif tied:
            if isinstance(weights, Mapping) or not isinstance(weights, (list, tuple)):
                raise InvalidArgumentTypeError(
                    f"weights of a shared network (tied=True) must be a sequence of L + 1 = "
                    f"{L + 1} matrices A_0, ..., A_out; got {type(weights).__name__}"
                )
            if len(weights) != L + 1:
                raise InvalidArgumentError(
                    f"weights must hold L + 1 = {L + 1} matrices (A_0, ..., A_{L - 1}, A_out); "
                    f"got {len(weights)}"
                )
            layers = [self._matrix(w, f"weights[{h}]", h) for h, w in enumerate(weights)]
        else:
            nodes = self._check_nodes(weights)
        if tied:
            self._layers: tuple[np.ndarray, ...] | None = tuple(layers)
            self._nodes = {n: layers[h] for h in range(L + 1) for n in self._levels[h]}
        else:
            self._layers = None
            self._nodes = nodes

    def _shape(self, h: int) -> tuple[int, int]:
        L = self.depth
        rows = self._Y if h == L else self._channels[h]
        cols = self._M if h == 0 else self._channels[h - 1]
        return rows, cols

    def _matrix(self, raw: Any, where: str, h: int) -> np.ndarray:
        w = as_weight(raw, where)
        shape = self._shape(h)
        if w.shape != shape:
            what = (
                "A_0, the 1x1 convolution after the representation: (r_0, M)"
                if h == 0
                else "A_out, the dense output layer: (n_outputs, r_{L-1})"
                if h == self.depth
                else f"A_{h}: (r_{h}, r_{h - 1})"
            )
            raise InvalidArgumentError(f"{where} ({what}) must have shape {shape}; got {w.shape}")
        return w

    def _check_nodes(self, weights: Any) -> dict[Node, np.ndarray]:
        tree = self._tree
        if not isinstance(weights, Mapping):
            raise InvalidArgumentTypeError(
                f"weights with tied=False must be a mapping from every node (leaves included) "
                f"to its matrix; got {type(weights).__name__}"
            )
        out: dict[Node, np.ndarray] = {}
        L = self.depth
        for key, raw in weights.items():
            node = tree._node(key, "weights key")
            out[node] = self._matrix(raw, f"weights[{format_node(node)}]", L - tree.depth(node))
        missing = [n for n in tree.nodes if n not in out]
        if missing:
            raise InvalidArgumentError(
                f"weights is missing the matrix of node {format_node(missing[0])} "
                f"({len(missing)} node(s) without weights)"
            )
        return out

    @classmethod
    def shallow(cls, N: int, *, M: int, Z: int, **kwargs: Any) -> PoolingConvAC:
        """The shallow network (one hidden layer of ``Z`` channels, global pooling): CP.

        Its grid tensor is ``A^y = Σ_z a^y_z (F A_0ᵀ)[:, z]^{⊗N}``, a CP decomposition of
        rank ``≤ Z``; ``kwargs`` are passed to the constructor.

        Examples
        --------
        >>> mtd.networks.PoolingConvAC.shallow(5, M=3, Z=4).n_parameters()   # 4x3 + 1x4
        16
        """
        return cls(ModeTree.star(check_int(N, "N", minimum=2)), (Z,), M=M, **kwargs)

    # --------------------------------------------------------------------- structure
    @property
    def tree(self) -> ModeTree:
        """The pooling geometry."""
        return self._tree

    @property
    def depth(self) -> int:
        """``L``: the number of pooling layers."""
        return len(self._channels)

    @property
    def n_inputs(self) -> int:
        """``N``."""
        return self._tree.n_modes

    @property
    def channels(self) -> tuple[int, ...]:
        """``(r_0, …, r_{L-1})``."""
        return self._channels

    @property
    def M(self) -> int:
        """The number of representation functions."""
        return self._M

    @property
    def n_outputs(self) -> int:
        """Outputs of the dense layer."""
        return self._Y

    @property
    def representation(self) -> np.ndarray:
        """``F`` of shape ``(M_templates, M)``."""
        return self._F

    @property
    def g(self) -> str:
        """The pooling operation."""
        return self._g

    @property
    def tied(self) -> bool:
        """Whether weights are shared across positions."""
        return self._tied

    @property
    def node_weights(self) -> Mapping[Node, np.ndarray]:
        """Every node (leaves included) to its matrix."""
        return MappingProxyType(self._nodes)

    @property
    def is_integer(self) -> bool:
        """Whether every weight is an integer."""
        return all(w.dtype.kind in "iu" for w in self._nodes.values())

    # ------------------------------------------------------------------- evaluation
    def forward(self, x: Any) -> np.ndarray:
        """Run the network on representation values.

        Parameters
        ----------
        x : (N, M) or (batch, N, M) array_like
            ``x[..., i, d] = f_d(input i)``: the representation layer's output (use
            :meth:`forward_templates` for template indices).

        Returns
        -------
        ndarray of shape ``(n_outputs,)`` or ``(batch, n_outputs)``
        """
        arr = as_input(x)
        N, M = self.n_inputs, self._M
        if arr.ndim not in (2, 3) or arr.shape[-2:] != (N, M):
            raise InvalidArgumentError(
                f"x must have shape (N, M) or (batch, N, M) with N = {N} inputs and M = {M} "
                f"representation functions; got shape {arr.shape}"
            )
        single = arr.ndim == 2
        h = arr[None] if single else arr
        arith = self._arith(h)
        out = self._run(arith.convert(h), arith)
        return out[0] if single else out

    def forward_templates(self, indices: Any) -> np.ndarray:
        """Run the network on template indices: input ``i`` is row ``indices[..., i]`` of ``F``.

        Parameters
        ----------
        indices : (N,) or (batch, N) array_like of int

        Returns
        -------
        ndarray of shape ``(n_outputs,)`` or ``(batch, n_outputs)``
        """
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu" or idx.ndim not in (1, 2) or idx.shape[-1] != self.n_inputs:
            raise InvalidArgumentError(
                f"indices must be ints of shape (N,) or (batch, N) with N = {self.n_inputs}; got "
                f"shape {idx.shape} and dtype {idx.dtype}"
            )
        n = self._F.shape[0]
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise InvalidArgumentError(
                f"indices must be template numbers in 0..{n - 1} (rows of representation); got "
                f"values {int(idx.min())}..{int(idx.max())}"
            )
        return self.forward(self._F[idx])

    def _arith(self, h: np.ndarray, arithmetic: str | None = None, prime: Any = None) -> Arith:
        integer = self.is_integer and is_int_array(h)
        arithmetic = check_arithmetic(arithmetic, integer=integer, g=self._g)
        bound = None
        if arithmetic == "exact":
            b = top = max(max_abs(h), 1) * max(row_bound(self._nodes[n]) for n in self._levels[0])
            for h_ in range(1, self.depth + 1):
                k = max(len(self._tree.children(n)) for n in self._levels[h_])
                pooled = g_bound(self._g, [b] * k)
                b = max(row_bound(self._nodes[n]) for n in self._levels[h_]) * pooled
                top = max(top, pooled, b)
            bound = top
        return make_arith(arithmetic, bound=bound, prime=prime)

    def _conv(self, arith: Arith, x: np.ndarray, nodes: Sequence[Node]) -> np.ndarray:
        """``x``: ``(B, n, r_in)`` with ``n = len(nodes)``; each node's 1×1 convolution."""
        if self._tied:
            return arith.matmul(x, arith.convert(self._nodes[nodes[0]]).T)
        W = np.stack([arith.convert(self._nodes[n]).T for n in nodes])  # (n, r_in, r_out)
        return arith.matmul(x.transpose(1, 0, 2), W).transpose(1, 0, 2)

    def _run(self, h: np.ndarray, arith: Arith) -> np.ndarray:
        """``h``: ``(B, N, M)`` -> ``(B, n_outputs)``."""
        leaves = self._levels[0]
        modes = [next(iter(n)) for n in leaves]
        x = self._conv(arith, h[:, modes], leaves)
        pos = {n: i for i, n in enumerate(leaves)}
        for level in self._levels[1:]:
            pooled = np.empty((x.shape[0], len(level), x.shape[2]), dtype=x.dtype)
            by_arity: dict[int, list[int]] = {}
            for i, n in enumerate(level):
                by_arity.setdefault(len(self._tree.children(n)), []).append(i)
            for k, rows in by_arity.items():
                idx = np.array([[pos[c] for c in self._tree.children(level[i])] for i in rows])
                acc = x[:, idx[:, 0]]
                for j in range(1, k):
                    nxt = x[:, idx[:, j]]
                    acc = (
                        arith.mul(acc, nxt)
                        if arith.kind == "modular"
                        else g_apply(self._g, acc, nxt)
                    )
                pooled[:, rows] = acc
            x = self._conv(arith, pooled, level)
            pos = {n: i for i, n in enumerate(level)}
        return x[:, 0]

    def grid_tensor(
        self,
        discretizers: Any = None,
        output: int | None = 0,
        *,
        method: str = "decomposition",
        arithmetic: str | None = None,
        prime: int | None = None,
        max_bytes: int | None = None,
    ) -> np.ndarray:
        """The grid tensor ``A[t_0, …, t_{N-1}]`` = output on templates ``t_0, …, t_{N-1}``.

        Parameters
        ----------
        discretizers : (M_templates, M) array_like, optional
            Representation values of the templates; default :attr:`representation`.
        output : int or None, default 0
        method : {"decomposition", "forward"}, default "decomposition"
            The COLT-form :meth:`to_decomposition`, or :meth:`forward` on every grid
            point in chunks.
        arithmetic, prime, max_bytes
            As in :meth:`DilatedConvNet.grid_tensor`.

        Returns
        -------
        ndarray of shape ``(M_templates,) * N`` (or ``(n_outputs,) + …`` for ``None``)
        """
        V = self._discretizers(discretizers)
        method = check_method(method)
        rows = check_output_index(output, self._Y)
        if method == "decomposition":
            arith = check_arithmetic(
                arithmetic, integer=self.is_integer and is_int_array(V), g=self._g
            )
            return plan_grid_tensor(
                self.to_decomposition(V).plan,
                output,
                arithmetic=arith,
                prime=prime,
                max_bytes=max_bytes,
            )
        ar = self._arith(V, arithmetic, prime)
        Vc = ar.convert(V)
        width = max(self._M, *self._channels)

        def evaluate(idx: np.ndarray) -> np.ndarray:
            return self._run(Vc[idx], ar)[:, rows]

        return grid_by_points(
            evaluate,
            int(V.shape[0]),
            self.n_inputs,
            len(rows),
            ar.dtype,
            max_bytes=max_bytes,
            single=output is not None,
            bytes_per_point=3 * self.n_inputs * width * 8,
        )

    def _discretizers(self, discretizers: Any) -> np.ndarray:
        if discretizers is None:
            return self._F
        V = as_input(discretizers, "discretizers")
        if V.ndim != 2 or V.shape[0] == 0 or V.shape[1] != self._M:
            raise InvalidArgumentError(
                f"discretizers must be an (M_templates, M) matrix with M = {self._M} columns "
                f"(representation values of the templates); got shape {V.shape}"
            )
        return V

    @property
    def plan(self) -> Any:
        """The network compiled to mtd's representation: its decomposition's plan.

        Examples
        --------
        >>> net = mtd.networks.PoolingConvAC(mtd.networks.pooling_tree(8), (2, 3, 2), M=2)
        >>> net.plan.is_tree, net.plan.n_modes
        (True, 8)
        """
        return self.to_decomposition().plan

    def to_decomposition(self, discretizers: Any = None) -> TreeDecomposition:
        """The equivalent COLT-form :class:`~mtd.decompositions.TreeDecomposition`.

        Leaf weights ``A_0``, node weights ``A_h`` (the root's is the output layer);
        tied per depth when the network shares weights.

        Examples
        --------
        >>> net = mtd.networks.PoolingConvAC(mtd.networks.pooling_tree(8), (2, 3, 2), M=2)
        >>> d = net.to_decomposition()
        >>> d.form, d.n_outputs, d.n_parameters() == net.n_parameters()
        ('colt', 1, True)
        """
        V = self._discretizers(discretizers)
        L = self.depth
        if self._layers is not None:
            weights: dict[Any, Any] = {L - h: self._layers[h] for h in range(1, L + 1)}
            leaf: Any = self._layers[0]
        else:
            weights = {n: w for n, w in self._nodes.items() if len(n) > 1}
            leaf = {next(iter(n)): self._nodes[n] for n in self._levels[0]}
        return TreeDecomposition(
            self._tree, V, weights, g=self._g, form="colt", leaf_weights=leaf, tied=self._tied
        )

    # ------------------------------------------------------------------------ costs
    def n_parameters(self) -> int:
        """The number of weights (shared matrices count once)."""
        mats = self._layers if self._layers is not None else tuple(self._nodes.values())
        return sum(int(w.size) for w in mats)

    def operation_count(self) -> OperationCount:
        """Operations of one evaluation: 1×1 convolutions and the ``g`` of every window.

        Examples
        --------
        >>> net = mtd.networks.PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=3)
        >>> c = net.operation_count()    # 4·(2x3) + 2·(2x2) + 1·(1x2); 2·2 + 1·2 products
        >>> c.macs, c.nonlinear
        (34, 6)
        """
        macs = nonlinear = 0
        for h, level in enumerate(self._levels):
            rows, cols = self._shape(h)
            for n in level:
                macs += rows * cols
                if h:
                    nonlinear += (len(self._tree.children(n)) - 1) * cols
        return OperationCount(macs, nonlinear)

    def __repr__(self) -> str:
        return (
            f"PoolingConvAC(tree over {self.n_inputs} modes, channels={self._channels}, "
            f"M={self._M}, n_outputs={self._Y}, g={self._g!r}, tied={self._tied})"
        )
