"""Dilated convolutional networks with size-2 filters (Cohen, Tamari & Shashua 2018, §3).

A network of ``L`` layers with dilations ``d_1, …, d_L`` (layer 1 next to the input)
and channels ``(r_0, r_1, …, r_L)`` maps a sequence ``x(0), x(1), …`` of vectors in
``R^{r_0}`` to outputs in ``R^{r_L}``.  The unit of layer ``l`` at time ``τ`` computes,
for every output channel ``γ``,

    x_l(τ)_γ = g( (W_l^I x_{l-1}(τ - d_l))_γ , (W_l^II x_{l-1}(τ))_γ ),

with ``W_l^I, W_l^II`` of shape ``(r_l, r_{l-1})`` and ``g`` one of the theory page's (§3)
generalized products (``"product"``: a convolutional arithmetic circuit; ``"relu"``:
``max(a+b, 0)``; ``"max"``: ``max(a, b, 0)``; ``"relu_sum"``: ``max(a,0) + max(b,0)``).
This is eq. 3's *product of two sums* with the first child the earlier time.

Layout and conventions
----------------------
* Sequences are ``(T, r_0)`` or ``(batch, T, r_0)`` arrays: time on the axis before
  the channels, channels last.
* The receptive field is ``N = 2^L`` when the dilations are a permutation of
  ``1, 2, …, 2^(L-1)`` (the only case whose units form a mode tree,
  :meth:`mtd.ModeTree.from_dilations`).  The output at time ``t`` depends on
  ``x(t-N+1), …, x(t)``; input ``x(t-N+1+j)`` is mode ``j`` of the grid tensor (mode 0
  is the oldest sample).  :meth:`DilatedConvNet.forward` returns the ``T - N + 1``
  outputs with a full receptive field, times ``N-1, …, T-1``.
* *Stationary* (``tied=True``): one pair ``(W_l^I, W_l^II)`` per layer, shared over
  time — a convolution.  Its decomposition ties the weights of every node of depth
  ``L - l`` (layer ``l`` is tree height ``l``).  *Non-stationary* (``tied=False``):
  one pair per node of the mode tree, i.e. per offset of a unit from the output; the
  output at every time is computed with the same node weights.
* Integer weights and integer inputs are evaluated exactly (``int64`` when a bound
  proves that nothing overflows, Python ints otherwise).
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
    g_apply,
    g_bound,
    is_int_array,
    make_arith,
    max_abs,
    random_weight,
    row_bound,
)
from ._sequence import check_discretizers, run_layers, sequence_grid_tensor

__all__ = ["DilatedConvNet"]

Node = frozenset[int]
Pair = tuple[np.ndarray, np.ndarray]


class DilatedConvNet(Rich):
    """A dilated convolutional network with size-2 filters (eq. 3 as a network).

    Parameters
    ----------
    dilations : sequence of int
        ``d_1, …, d_L`` (layer 1 next to the input): a permutation of
        ``1, 2, …, 2^(L-1)``.
    channels : sequence of int
        ``(r_0, r_1, …, r_L)``: input channels, then the channels of every layer.
    g : {"product", "relu", "max", "relu_sum"}, default "product"
        The generalized product of every unit.
    seed : None, int or numpy.random.Generator
        Randomness of the weights when ``weights`` is not given.
    weights : optional
        ``tied=True``: a sequence of ``L`` pairs ``(W_l^I, W_l^II)`` (or ``(2, r_l,
        r_{l-1})`` arrays), layer 1 first.  ``tied=False``: a mapping from every
        interior node of :attr:`tree` to its pair.  Integer arrays are kept as
        ``int64`` (exact evaluation), others as ``float64``.  Default: random.
    kind : {"gaussian", "integer"}, default "gaussian"
        Random weights: ``N(0, 1/r_{l-1})``, or integers in ``-max_weight..max_weight``.
    tied : bool, default True
        Stationary (one weight pair per layer) or one pair per node.
    max_weight : int, default 1000
        Range of random integer weights, ``-max_weight..max_weight``: wide enough that
        ranks are generic with high probability (Schwartz–Zippel: a rank below the
        generic ``R`` needs an ``R × R`` minor of degree ``D`` in the weights to vanish,
        probability at most ``D / (2·max_weight + 1)``; see
        :meth:`mtd.TreeDecomposition.random`).

    Raises
    ------
    InvalidModeTreeError
        If the dilations are not a permutation of ``1, 2, …, 2^(L-1)``.
    InvalidArgumentError
        If ``channels`` does not have ``L + 1`` positive entries, or a weight has the
        wrong shape (the message names the layer or node and the expected shape).

    See Also
    --------
    InterconnectedDilatedNets : two dilated networks mixed at hidden layers (eq. 4).
    mtd.ModeTree.from_dilations : the mode tree of the network.

    Examples
    --------
    >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 3, 1), kind="integer", seed=0)
    >>> net.receptive_field, net.tree.to_nested()
    (4, ((0, 1), (2, 3)))
    >>> x = np.eye(2, dtype=int)[[0, 1, 1, 0, 1]]      # a one-hot sequence, T = 5
    >>> net.forward(x).shape                            # outputs at times 3 and 4
    (2, 1)
    >>> A = net.grid_tensor(np.eye(2, dtype=int))
    >>> bool(net.forward(x)[0, 0] == A[0, 1, 1, 0])
    True
    """

    __slots__ = ("_dilations", "_tree", "_channels", "_g", "_tied", "_layers", "_nodes")

    def __init__(
        self,
        dilations: Sequence[int],
        channels: Sequence[int],
        *,
        g: str = "product",
        seed: Seed = None,
        weights: Any = None,
        kind: str = "gaussian",
        tied: bool = True,
        max_weight: int = 1000,
    ):
        tree = ModeTree.from_dilations(dilations)
        L = tree.height
        self._dilations = tuple(int(d) for d in dilations)
        self._tree = tree
        chans = check_channels(channels, None)
        if len(chans) != L + 1:
            raise InvalidArgumentError(
                f"channels must be (r_0, r_1, ..., r_L): L + 1 = {L + 1} entries for the {L} "
                f"dilations {self._dilations}; got {len(chans)} entries {chans}"
            )
        self._channels = chans
        self._g = check_g(g)
        if not isinstance(tied, bool):
            raise InvalidArgumentTypeError(f"tied must be a bool; got {tied!r}")
        self._tied = tied
        if weights is None:
            kind = check_kind(kind)
            max_weight = check_max_weight(max_weight)
            rng = as_rng(seed)
            if tied:
                layers = [self._random_pair(rng, l, kind, max_weight) for l in range(1, L + 1)]
            else:
                nodes = {
                    n: self._random_pair(rng, tree.node_height(n), kind, max_weight)
                    for n in reversed(tree.interior_nodes)
                }
        elif tied:
            layers = self._check_layers(weights)
        else:
            nodes = self._check_nodes(weights)
        if tied:
            self._layers: tuple[Pair, ...] | None = tuple(layers)
            self._nodes: dict[Node, Pair] = {
                n: layers[tree.node_height(n) - 1] for n in tree.interior_nodes
            }
        else:
            self._layers = None
            self._nodes = nodes

    # ------------------------------------------------------------------ construction
    def _random_pair(self, rng: np.random.Generator, l: int, kind: str, mw: int) -> Pair:
        shape = (self._channels[l], self._channels[l - 1])
        return (
            random_weight(rng, shape, kind, mw, 2 * shape[1]),
            random_weight(rng, shape, kind, mw, 2 * shape[1]),
        )

    def _pair(self, raw: Any, where: str, l: int) -> Pair:
        shape = (self._channels[l], self._channels[l - 1])
        want = (
            f"a pair (W_I, W_II) of matrices of shape (r_{l}, r_{l - 1}) = {shape} "
            f"(or one array of shape (2, {shape[0]}, {shape[1]}))"
        )
        if isinstance(raw, np.ndarray) and raw.ndim == 3:
            items: list[Any] = list(raw)
        elif isinstance(raw, (list, tuple)):
            items = list(raw)
        else:
            raise InvalidArgumentTypeError(f"{where} must be {want}; got {type(raw).__name__}")
        if len(items) != 2:
            raise InvalidArgumentError(f"{where} must be {want}; got {len(items)} matrices")
        a = as_weight(items[0], f"{where}[0] (W_I)")
        b = as_weight(items[1], f"{where}[1] (W_II)")
        for name, w in (("W_I", a), ("W_II", b)):
            if w.shape != shape:
                raise InvalidArgumentError(
                    f"{where} {name} must have shape (r_{l}, r_{l - 1}) = {shape} (channels "
                    f"{self._channels}); got {w.shape}"
                )
        return a, b

    def _check_layers(self, weights: Any) -> list[Pair]:
        L = self.n_layers
        if isinstance(weights, Mapping) or not isinstance(weights, (list, tuple)):
            raise InvalidArgumentTypeError(
                f"weights of a stationary network (tied=True) must be a sequence of {L} pairs "
                f"(W_I, W_II), layer 1 first; got {type(weights).__name__} (use tied=False for "
                f"weights keyed by node)"
            )
        if len(weights) != L:
            raise InvalidArgumentError(
                f"weights must hold one pair per layer: {L} pairs for {L} layers; got "
                f"{len(weights)}"
            )
        return [
            self._pair(w, f"weights[{l - 1}] (layer {l})", l)
            for l, w in enumerate(weights, start=1)
        ]

    def _check_nodes(self, weights: Any) -> dict[Node, Pair]:
        tree = self._tree
        if not isinstance(weights, Mapping):
            raise InvalidArgumentTypeError(
                f"weights of a non-stationary network (tied=False) must be a mapping from the "
                f"interior nodes of the tree to pairs (W_I, W_II); got {type(weights).__name__}"
            )
        out: dict[Node, Pair] = {}
        for key, raw in weights.items():
            node = tree._node(key, "weights key")
            if tree.is_leaf(node):
                raise InvalidArgumentError(
                    f"weights are given for interior nodes only; {format_node(node)} is a leaf"
                )
            out[node] = self._pair(raw, f"weights[{format_node(node)}]", tree.node_height(node))
        missing = [n for n in tree.interior_nodes if n not in out]
        if missing:
            raise InvalidArgumentError(
                f"weights is missing the pair of node {format_node(missing[0])} "
                f"({len(missing)} interior node(s) without weights)"
            )
        return out

    @classmethod
    def from_node_weights(
        cls,
        dilations: Sequence[int],
        node_weights: Mapping[Any, Any],
        *,
        g: str = "product",
    ) -> DilatedConvNet:
        """A non-stationary network: one weight pair per node, channels read off the shapes.

        Parameters
        ----------
        dilations : sequence of int
        node_weights : mapping
            Every interior node of ``ModeTree.from_dilations(dilations)`` to its pair
            ``(W_I, W_II)``; the nodes of height ``l`` must all have ``(r_l, r_{l-1})``
            matrices.
        g : str, default "product"

        Returns
        -------
        DilatedConvNet
            With ``tied=False``.

        Examples
        --------
        >>> T = mtd.ModeTree.from_dilations([2, 1])
        >>> W = {n: (np.ones((1, 1), int), np.full((1, 1), 2)) for n in T.interior_nodes}
        >>> net = mtd.networks.DilatedConvNet.from_node_weights([2, 1], W)
        >>> net.channels, net.forward(np.ones((4, 1), int)).tolist()
        ((1, 1, 1), [[8]])
        """
        tree = ModeTree.from_dilations(dilations)
        if not isinstance(node_weights, Mapping):
            raise InvalidArgumentTypeError(
                f"node_weights must be a mapping from interior nodes to pairs (W_I, W_II); got "
                f"{type(node_weights).__name__}"
            )
        chans: dict[int, int] = {}
        for key, raw in node_weights.items():
            node = tree._node(key, "node_weights key")
            h = tree.node_height(node)
            try:
                first = np.shape(raw[0])
            except (TypeError, IndexError, KeyError):
                raise InvalidArgumentTypeError(
                    f"node_weights[{format_node(node)}] must be a pair (W_I, W_II); got {raw!r}"
                ) from None
            if len(first) != 2:
                raise InvalidArgumentError(
                    f"node_weights[{format_node(node)}] W_I must be a matrix; got shape {first}"
                )
            for level, size in ((h, first[0]), (h - 1, first[1])):
                if chans.setdefault(level, int(size)) != size:
                    raise InvalidArgumentError(
                        f"channels are per layer: node {format_node(node)} implies r_{level} = "
                        f"{size}, another node implies r_{level} = {chans[level]}"
                    )
        L = tree.height
        if set(chans) != set(range(L + 1)):
            raise InvalidArgumentError(
                f"node_weights must cover the nodes of every height 1..{L}; got heights "
                f"{sorted(h for h in chans if h)}"
            )
        return cls(
            dilations, [chans[l] for l in range(L + 1)], g=g, weights=node_weights, tied=False
        )

    # --------------------------------------------------------------------- structure
    @property
    def dilations(self) -> tuple[int, ...]:
        """``(d_1, …, d_L)``, layer 1 first."""
        return self._dilations

    @property
    def tree(self) -> ModeTree:
        """The mode tree of the output unit (:meth:`mtd.ModeTree.from_dilations`)."""
        return self._tree

    @property
    def channels(self) -> tuple[int, ...]:
        """``(r_0, r_1, …, r_L)``."""
        return self._channels

    @property
    def n_layers(self) -> int:
        """``L``."""
        return self._tree.height

    @property
    def receptive_field(self) -> int:
        """``N = 2^L``: the inputs each output depends on (the grid tensor's order)."""
        return self._tree.n_modes

    @property
    def n_outputs(self) -> int:
        """``r_L``."""
        return self._channels[-1]

    @property
    def g(self) -> str:
        """The generalized product."""
        return self._g

    @property
    def tied(self) -> bool:
        """Whether the network is stationary (one weight pair per layer)."""
        return self._tied

    @property
    def layer_weights(self) -> tuple[Pair, ...]:
        """The pairs ``(W_l^I, W_l^II)``, layer 1 first (stationary networks only)."""
        if self._layers is None:
            raise InvalidArgumentError(
                "layer_weights exist only for a stationary network (tied=True); use node_weights"
            )
        return self._layers

    @property
    def node_weights(self) -> Mapping[Node, Pair]:
        """Every interior node to its pair (shared per height when stationary)."""
        return MappingProxyType(self._nodes)

    @property
    def is_integer(self) -> bool:
        """Whether every weight is an integer (exact evaluation possible)."""
        return all(w.dtype.kind in "iu" for pair in self._nodes.values() for w in pair)

    # ------------------------------------------------------------------- evaluation
    def forward(self, x: Any) -> np.ndarray:
        """Run the network on sequences; the outputs at every time with a full receptive field.

        Parameters
        ----------
        x : (T, r_0) or (batch, T, r_0) array_like
            Real sequences, time before channels; ``T >= N``.

        Returns
        -------
        ndarray of shape ``(T - N + 1, r_L)`` or ``(batch, T - N + 1, r_L)``
            Row ``i`` is the output at time ``i + N - 1``.  Integer weights and
            inputs give exact integers (``int64``, or ``object`` if ``int64`` could
            overflow); anything else ``float64``.

        Raises
        ------
        InvalidArgumentError
            If ``x`` has the wrong shape or fewer than ``N`` time steps.

        Examples
        --------
        >>> net = mtd.networks.DilatedConvNet([1], (1, 1), weights=[([[2]], [[3]])])
        >>> net.forward([[1], [2], [5]]).tolist()        # (2·x(τ-1)) · (3·x(τ))
        [[12], [60]]
        """
        arr = self._check_x(x)
        single = arr.ndim == 2
        h = arr[None] if single else arr
        arith = self._arith(h)
        out = self._run(arith.convert(h), arith)
        return out[0] if single else out

    def _check_x(self, x: Any) -> np.ndarray:
        arr = as_input(x)
        r0, N = self._channels[0], self.receptive_field
        if arr.ndim not in (2, 3) or arr.shape[-1] != r0:
            raise InvalidArgumentError(
                f"x must have shape (T, r_0) or (batch, T, r_0) with r_0 = {r0} (time before "
                f"channels); got shape {arr.shape}"
            )
        if arr.shape[-2] < N:
            raise InvalidArgumentError(
                f"x has T = {arr.shape[-2]} time steps; a full receptive field needs T >= N = {N}"
            )
        return arr

    def _arith(self, h: np.ndarray, arithmetic: str | None = None, prime: Any = None) -> Arith:
        integer = self.is_integer and is_int_array(h)
        arithmetic = check_arithmetic(arithmetic, integer=integer, g=self._g)
        bound = self._bound(max_abs(h)) if arithmetic == "exact" else None
        return make_arith(arithmetic, bound=bound, prime=prime)

    def _bound(self, b0: int) -> int:
        """A bound on every number the evaluation forms, for inputs bounded by ``b0``."""
        b, top = b0, b0
        for l in range(1, self.n_layers + 1):
            pairs = {id(p): p for n, p in self._nodes.items() if self._tree.node_height(n) == l}
            ops = [max(row_bound(p[s]) for p in pairs.values()) * b for s in (0, 1)]
            b = g_bound(self._g, ops)
            top = max(top, b, *ops)
        return top

    def _combine(
        self, arith: Arith, pair: Pair, first: np.ndarray, second: np.ndarray
    ) -> np.ndarray:
        a = arith.matmul(first, arith.convert(pair[0]).T)
        b = arith.matmul(second, arith.convert(pair[1]).T)
        return arith.mul(a, b) if arith.kind == "modular" else g_apply(self._g, a, b)

    def _run(self, h: np.ndarray, arith: Arith) -> np.ndarray:
        """``h``: ``(batch, T, r_0)`` in the arithmetic's dtype -> ``(batch, T-N+1, r_L)``."""
        return run_layers(self, h, arith, mix=None)

    def grid_tensor(
        self,
        discretizers: Any,
        output: int | None = 0,
        *,
        method: str = "decomposition",
        arithmetic: str | None = None,
        prime: int | None = None,
        max_bytes: int | None = None,
    ) -> np.ndarray:
        """The grid tensor of output ``output`` (the theory page, §1).

        ``A[d_0, …, d_{N-1}]`` is the output at the last time of the sequence
        ``v^(d_0), …, v^(d_{N-1})``.

        Parameters
        ----------
        discretizers : (M, r_0) array_like
            Row ``i`` is the discretizer ``v^(i)``.
        output : int or None, default 0
            Which output channel; ``None``: all, stacked along a new first axis.
        method : {"decomposition", "forward"}, default "decomposition"
            ``"decomposition"``: the equivalent :class:`~mtd.decompositions.TreeDecomposition`'s
            dense evaluator.  ``"forward"``: :meth:`forward` on all ``M^N``
            sequences, in chunks of about 32 MiB.  Both give the same tensor.
        arithmetic : {"float", "exact", "modular"}, optional
            Default: ``"exact"`` when weights and discretizers are integers, else
            ``"float"``.  ``"modular"`` (residues mod ``prime``) needs ``g = "product"``.
        prime : int, optional
            For ``"modular"``; default ``2**31 - 1``.
        max_bytes : int, optional
            Refuse, before allocating, a tensor over this many bytes (default: the
            library limit, :func:`mtd.get_memory_limit`).

        Returns
        -------
        ndarray of shape ``(M,) * N`` (or ``(r_L,) + (M,) * N`` for ``output=None``)

        Raises
        ------
        TensorTooLargeError
            If the tensor is over the memory limit.
        InvalidArgumentError
            On discretizers of the wrong shape, an unknown method or arithmetic.

        Examples
        --------
        >>> net = mtd.networks.DilatedConvNet([2, 1], (2, 2, 2), kind="integer", seed=1)
        >>> V = np.array([[1, 0], [0, 1], [1, 1]])
        >>> A = net.grid_tensor(V)
        >>> A.shape, bool((A == net.grid_tensor(V, method="forward")).all())
        ((3, 3, 3, 3), True)
        """
        return sequence_grid_tensor(
            self,
            discretizers,
            output,
            method=method,
            arithmetic=arithmetic,
            prime=prime,
            max_bytes=max_bytes,
        )

    @property
    def plan(self) -> Any:
        """The network compiled to mtd's representation: its decomposition's plan.

        Examples
        --------
        >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 2, 2), seed=0)
        >>> net.plan.is_tree, net.plan.n_modes
        (True, 4)
        """
        return self.to_decomposition().plan

    def to_decomposition(self, discretizers: Any = None) -> TreeDecomposition:
        """The equivalent :class:`~mtd.decompositions.TreeDecomposition` (eq. 3).

        Parameters
        ----------
        discretizers : (M, r_0) array_like, optional
            Default: the ``r_0 × r_0`` identity (one-hot templates), whose grid tensor
            is the network's coefficient tensor.

        Returns
        -------
        TreeDecomposition
            On :attr:`tree`; stationary networks give weights tied per depth (depth
            ``d`` is layer ``L - d``), others one pair per node.

        Examples
        --------
        >>> net = mtd.networks.DilatedConvNet([1, 2, 4], (2, 2, 2, 2), seed=0)
        >>> d = net.to_decomposition()
        >>> d.tied, d.r, d.n_parameters() == net.n_parameters()
        (True, 2, True)
        """
        r0 = self._channels[0]
        V = (
            np.eye(r0, dtype=np.int64)
            if discretizers is None
            else check_discretizers(discretizers, r0)
        )
        L = self.n_layers
        if self._layers is not None:
            weights: dict[Any, Any] = {L - l: list(p) for l, p in enumerate(self._layers, 1)}
        else:
            weights = {n: list(p) for n, p in self._nodes.items()}
        return TreeDecomposition(self._tree, V, weights, g=self._g, tied=self._tied)

    # ------------------------------------------------------------------------ costs
    def n_parameters(self) -> int:
        """The number of weights: ``Σ_l 2 r_l r_{l-1}`` (stationary), or per node.

        Examples
        --------
        >>> mtd.networks.DilatedConvNet([1, 2], (3, 4, 5)).n_parameters()  # 2·12 + 2·20
        64
        """
        pairs = self._layers if self._layers is not None else tuple(self._nodes.values())
        return sum(int(a.size + b.size) for a, b in pairs)

    def operation_count(self, T: int | None = None) -> OperationCount:
        """Arithmetic operations of :meth:`forward`.

        Parameters
        ----------
        T : int, optional
            A sequence length: the cost of ``forward`` on one sequence of ``T >= N``
            steps.  Default: the cost per time step of a streaming evaluation — a
            stationary network computes one new unit per layer and step (earlier
            units are reused); a non-stationary one recomputes its whole tree.

        Returns
        -------
        OperationCount

        Examples
        --------
        >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 2, 2))
        >>> c = net.operation_count()
        >>> c.macs, c.nonlinear            # 2 layers x (2 matrices of 2x2, 2 channels)
        (16, 4)
        >>> net.operation_count(T=4).macs  # layer 1: 3 units, layer 2: 1 unit
        32
        """
        L, r = self.n_layers, self._channels
        per_unit = [(2 * r[l] * r[l - 1], r[l]) for l in range(1, L + 1)]
        if T is None:
            if self._tied:
                counts = [1] * L
            else:
                counts = [2 ** (L - l) for l in range(1, L + 1)]
        else:
            T = check_int(T, "T", minimum=self.receptive_field)
            if self._tied:
                counts, length = [], T
                for d in self._dilations:
                    length -= d
                    counts.append(length)
            else:
                counts = [(T - self.receptive_field + 1) * 2 ** (L - l) for l in range(1, L + 1)]
        return OperationCount(
            sum(c * m for c, (m, _) in zip(counts, per_unit, strict=True)),
            sum(c * n for c, (_, n) in zip(counts, per_unit, strict=True)),
        )

    def __repr__(self) -> str:
        return (
            f"DilatedConvNet(dilations={self._dilations}, channels={self._channels}, "
            f"g={self._g!r}, tied={self._tied})"
        )
