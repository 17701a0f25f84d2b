"""Interconnected dilated networks: eq. 4 of Cohen, Tamari & Shashua (2018) as a network.

Two dilated networks with the same receptive field ``N = 2^L`` run side by side on the
same input.  After every *interconnected* layer ``l``, the first ``r_l / 2`` channels
of the two networks' layer-``l`` outputs are exchanged (at every time); the two final
outputs are added.  Interconnections are wires: they add no parameters and no
arithmetic.

Which layers can be interconnected
----------------------------------
The units of layer ``l`` of a network are the nodes of height ``l`` of its mode tree
(at every output time).  Exchanging channels unit by unit is eq. 4's swap at mixture
nodes only if both networks have the *same* nodes of height ``l``, which holds iff
their first ``l`` dilations are the same set.  For the baseline and its ``k``-swapped
companion these are the layers whose index is a multiple of ``k`` (and ``L``).  The
mixture nodes of :meth:`InterconnectedDilatedNets.to_decomposition` are the nodes of
height ``l`` for every interconnected layer ``l``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .._rich import Rich
from .._typing import Seed
from .._validation import _is_int, as_rng
from ..decompositions import MixedDecomposition
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree, format_node
from ._common import (
    Arith,
    OperationCount,
    check_arithmetic,
    g_bound,
    is_int_array,
    make_arith,
    max_abs,
    row_bound,
)
from ._sequence import check_discretizers, run_layers, sequence_grid_tensor
from .dilated import DilatedConvNet

__all__ = ["InterconnectedDilatedNets", "interconnectable_layers"]

Node = frozenset[int]


def _height_nodes(tree: ModeTree, l: int) -> set[Node]:
    return {n for n in tree.interior_nodes if tree.node_height(n) == l}


def interconnectable_layers(
    dilations_a: Sequence[int], dilations_b: Sequence[int]
) -> tuple[int, ...]:
    """The layers after which two dilated networks can be interconnected.

    Layer ``l`` qualifies iff both networks' layer-``l`` units are the same nodes,
    i.e. iff ``{d_1, …, d_l}`` is the same set for both.

    Parameters
    ----------
    dilations_a, dilations_b : sequence of int
        The two networks' dilations (layer 1 first), of the same length.

    Returns
    -------
    tuple of int
        Ascending; always contains ``L``.

    Examples
    --------
    >>> d = mtd.ModeTree.swapped_dilations(6, 2)
    >>> mtd.networks.interconnectable_layers([1, 2, 4, 8, 16, 32], d)
    (2, 4, 6)
    """
    ta, tb = ModeTree.from_dilations(dilations_a), ModeTree.from_dilations(dilations_b)
    if ta.n_modes != tb.n_modes:
        raise InvalidArgumentError(
            f"the two networks must have the same number of layers; got {ta.height} and {tb.height}"
        )
    return tuple(l for l in range(1, ta.height + 1) if _height_nodes(ta, l) == _height_nodes(tb, l))


class InterconnectedDilatedNets(Rich):
    """Two dilated networks interconnected after chosen layers, outputs added (eq. 4).

    Parameters
    ----------
    net_a, net_b : DilatedConvNet
        The same number of layers, the same ``g``, the same input and output channels.
    mix_layers : iterable of int
        Layers ``l`` (``1 <= l <= L``) after which the first ``r_l / 2`` channels are
        exchanged; may be empty (the sum of the two networks).

    Raises
    ------
    InvalidArgumentError
        If the networks differ in depth, ``g``, input or output channels; or a mixed
        layer is out of range, has an odd or unequal number of channels, or does not
        correspond to nodes common to both trees (the message names the layer, a node
        of one tree missing from the other, and the layers that qualify).

    See Also
    --------
    mtd.decompositions.MixedDecomposition : the decomposition this network computes.

    Examples
    --------
    >>> nets = mtd.networks.InterconnectedDilatedNets.random(
    ...     [1, 2, 4, 8], [2, 1, 8, 4], (2, 4, 4, 4, 1), [2], kind="integer", seed=0)
    >>> [sorted(n) for n in nets.mixture_nodes]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]
    >>> nets.n_parameters() == nets.net_a.n_parameters() + nets.net_b.n_parameters()
    True
    >>> V = np.eye(2, dtype=int)
    >>> x = V[[0, 1] * 9]                                   # T = 18
    >>> A = nets.grid_tensor(V)
    >>> bool(nets.forward(x)[-1, 0] == A[(0, 1) * 8])       # the inputs at times 2..17
    True
    """

    __slots__ = ("_a", "_b", "_mix")

    def __init__(self, net_a: DilatedConvNet, net_b: DilatedConvNet, mix_layers: Iterable[int]):
        for name, net in (("net_a", net_a), ("net_b", net_b)):
            if not isinstance(net, DilatedConvNet):
                raise InvalidArgumentTypeError(
                    f"{name} must be a DilatedConvNet; got {type(net).__name__}"
                )
        La, Lb = net_a.n_layers, net_b.n_layers
        if La != Lb:
            raise InvalidArgumentError(
                f"net_a and net_b must have the same number of layers (the same receptive "
                f"field); got {La} and {Lb}"
            )
        if net_a.g != net_b.g:
            raise InvalidArgumentError(
                f"net_a and net_b must use the same g; got {net_a.g!r} and {net_b.g!r}"
            )
        ca, cb = net_a.channels, net_b.channels
        for l, what in ((0, "input channels r_0"), (La, "output channels r_L (outputs are added)")):
            if ca[l] != cb[l]:
                raise InvalidArgumentError(
                    f"net_a and net_b must have the same {what}; got {ca[l]} and {cb[l]}"
                )
        self._a, self._b = net_a, net_b
        self._mix = self._check_mix(mix_layers)

    def _check_mix(self, mix_layers: Iterable[int]) -> tuple[int, ...]:
        if isinstance(mix_layers, (str, bytes)) or _is_int(mix_layers):
            raise InvalidArgumentTypeError(
                f"mix_layers must be an iterable of layer numbers; got {mix_layers!r}"
            )
        try:
            items = list(mix_layers)
        except TypeError:
            raise InvalidArgumentTypeError(
                f"mix_layers must be an iterable of layer numbers; got {type(mix_layers).__name__}"
            ) from None
        a, b = self._a, self._b
        L = a.n_layers
        ok = interconnectable_layers(a.dilations, b.dilations)
        out: set[int] = set()
        for l in items:
            if not _is_int(l):
                raise InvalidArgumentTypeError(
                    f"mix_layers must hold int layer numbers; got {l!r} of type {type(l).__name__}"
                )
            l = int(l)
            if not 1 <= l <= L:
                raise InvalidArgumentError(
                    f"mix_layers must hold hidden or output layers 1..{L} (layer 0, the input, "
                    f"has no units to interconnect); got layer {l}"
                )
            ra, rb = a.channels[l], b.channels[l]
            if ra != rb:
                raise InvalidArgumentError(
                    f"layer {l} cannot be interconnected: its channels are exchanged, so both "
                    f"networks need the same number; got r_{l} = {ra} in net_a and {rb} in net_b"
                )
            if ra % 2:
                raise InvalidArgumentError(
                    f"layer {l} cannot be interconnected: r_{l} must be even (its first r_{l}/2 "
                    f"channels are exchanged); got r_{l} = {ra}"
                )
            if l not in ok:
                extra = _height_nodes(a.tree, l) - _height_nodes(b.tree, l)
                node = min(extra, key=lambda n: sorted(n))
                raise InvalidArgumentError(
                    f"layer {l} cannot be interconnected: its units are the nodes of height {l}, "
                    f"and net_a's node {format_node(node)} is not a node of net_b (dilations "
                    f"d_1..d_{l} are {sorted(a.dilations[:l])} in net_a and "
                    f"{sorted(b.dilations[:l])} in net_b; they must be the same set). Layers "
                    f"that can be interconnected: {list(ok)}"
                )
            out.add(l)
        return tuple(sorted(out))

    @classmethod
    def random(
        cls,
        dilations_a: Sequence[int],
        dilations_b: Sequence[int],
        channels: Sequence[int],
        mix_layers: Iterable[int],
        *,
        g: str = "product",
        seed: Seed = None,
        kind: str = "gaussian",
        tied: bool = True,
        max_weight: int = 1000,
    ) -> InterconnectedDilatedNets:
        """Two random networks with the same ``channels``, interconnected at ``mix_layers``.

        Parameters
        ----------
        dilations_a, dilations_b : sequence of int
        channels : sequence of int
            ``(r_0, …, r_L)`` of both networks.
        mix_layers : iterable of int
        g, seed, kind, tied, max_weight
            As in :class:`DilatedConvNet` (one generator draws both networks).

        Returns
        -------
        InterconnectedDilatedNets
        """
        rng = as_rng(seed)
        nets = [
            DilatedConvNet(d, channels, g=g, seed=rng, kind=kind, tied=tied, max_weight=max_weight)
            for d in (dilations_a, dilations_b)
        ]
        return cls(nets[0], nets[1], mix_layers)

    @classmethod
    def swapped_pair(
        cls,
        L: int,
        k: int,
        channels: Sequence[int],
        mix_layers: Iterable[int] | None = None,
        **kwargs: Any,
    ) -> InterconnectedDilatedNets:
        """The paper's pair: the baseline network and its ``k``-swapped companion (§6).

        Parameters
        ----------
        L, k : int
            Layers, and the block length of the swapped dilations.
        channels : sequence of int
        mix_layers : iterable of int, optional
            Default ``(k,)``: interconnect the output of layer ``k`` (the theory page, §5).
        **kwargs
            Passed to :meth:`random`.

        Returns
        -------
        InterconnectedDilatedNets

        Examples
        --------
        >>> nets = mtd.networks.InterconnectedDilatedNets.swapped_pair(4, 2, (2,) * 5)
        >>> nets.net_b.dilations, nets.mix_layers
        ((2, 1, 8, 4), (2,))
        """
        base = ModeTree.swapped_dilations(L, 1)
        swapped = ModeTree.swapped_dilations(L, k)
        return cls.random(
            base, swapped, channels, (k,) if mix_layers is None else mix_layers, **kwargs
        )

    # --------------------------------------------------------------------- structure
    @property
    def net_a(self) -> DilatedConvNet:
        """The first network (tree ``T``)."""
        return self._a

    @property
    def net_b(self) -> DilatedConvNet:
        """The second network (tree ``T̄``)."""
        return self._b

    @property
    def mix_layers(self) -> tuple[int, ...]:
        """The interconnected layers, ascending."""
        return self._mix

    @property
    def mixture_nodes(self) -> tuple[Node, ...]:
        """The nodes of height ``l`` for every interconnected layer ``l`` (by size, then modes)."""
        t = self._a.tree
        nodes = [n for l in self._mix for n in _height_nodes(t, l)]
        return tuple(sorted(nodes, key=lambda n: (len(n), sorted(n))))

    @property
    def receptive_field(self) -> int:
        """``N = 2^L``."""
        return self._a.receptive_field

    @property
    def channels(self) -> tuple[int, ...]:
        """Per layer, the larger of the two networks' channels."""
        return tuple(max(x, y) for x, y in zip(self._a.channels, self._b.channels, strict=True))

    @property
    def n_outputs(self) -> int:
        """``r_L``."""
        return self._a.n_outputs

    @property
    def g(self) -> str:
        """The generalized product."""
        return self._a.g

    @property
    def is_integer(self) -> bool:
        """Whether both networks have integer weights."""
        return self._a.is_integer and self._b.is_integer

    # ------------------------------------------------------------------- evaluation
    def forward(self, x: Any) -> np.ndarray:
        """Run both networks, interconnected, and add their outputs.

        Parameters
        ----------
        x : (T, r_0) or (batch, T, r_0) array_like
            As in :meth:`DilatedConvNet.forward`.

        Returns
        -------
        ndarray of shape ``(T - N + 1, r_L)`` or ``(batch, T - N + 1, r_L)``
            Row ``i`` is the output at time ``i + N - 1``.
        """
        arr = self._a._check_x(x)
        single = arr.ndim == 2
        h = arr[None] if single else arr
        arith = self._arith(h)
        out = self._run(arith.convert(h), arith)
        return out[0] if single else out

    def _arith(self, h: np.ndarray, arithmetic: str | None = None, prime: Any = None) -> Arith:
        integer = self.is_integer and is_int_array(h)
        arithmetic = check_arithmetic(arithmetic, integer=integer, g=self.g)
        bound = None
        if arithmetic == "exact":
            b = top = max_abs(h)
            nets = (self._a, self._b)
            for l in range(1, self._a.n_layers + 1):
                pairs = {
                    id(p): p
                    for n in nets
                    for node, p in n._nodes.items()
                    if n.tree.node_height(node) == l
                }
                ops = [max(row_bound(p[s]) for p in pairs.values()) * b for s in (0, 1)]
                b = g_bound(self.g, ops)
                top = max(top, b, *ops)
            bound = max(top, 2 * b)
        return make_arith(arithmetic, bound=bound, prime=prime)

    def _run(self, h: np.ndarray, arith: Arith) -> np.ndarray:
        return run_layers(self._a, h, arith, mix=(self._b, self._mix))

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
        """The grid tensor of output ``output``; see :meth:`DilatedConvNet.grid_tensor`.

        ``method="decomposition"`` evaluates :meth:`to_decomposition`;
        ``method="forward"`` runs the interconnected networks on every sequence.
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
        >>> nets = mtd.networks.InterconnectedDilatedNets.random(
        ...     [1, 2, 4], [2, 1, 4], (2, 2, 2, 1), [2], seed=0)
        >>> nets.plan.is_tree, nets.plan.n_modes, len(nets.plan.outputs)
        (True, 8, 2)
        """
        return self.to_decomposition().plan

    def to_decomposition(self, discretizers: Any = None) -> MixedDecomposition:
        """The equivalent :class:`~mtd.decompositions.MixedDecomposition` (eq. 4).

        Parameters
        ----------
        discretizers : (M, r_0) array_like, optional
            Default: the ``r_0 × r_0`` identity.

        Returns
        -------
        MixedDecomposition
            Trees ``net_a.tree`` and ``net_b.tree``, mixture nodes :attr:`mixture_nodes`;
            weights tied per depth when both networks are stationary.
        """
        a, b = self._a, self._b
        r0 = a.channels[0]
        V = (
            np.eye(r0, dtype=np.int64)
            if discretizers is None
            else check_discretizers(discretizers, r0)
        )
        if a.tied and b.tied:
            L = a.n_layers
            wa: dict[Any, Any] = {L - l: list(p) for l, p in enumerate(a.layer_weights, 1)}
            wb: dict[Any, Any] = {L - l: list(p) for l, p in enumerate(b.layer_weights, 1)}
        else:
            wa = {n: list(p) for n, p in a.node_weights.items()}
            wb = {n: list(p) for n, p in b.node_weights.items()}
        return MixedDecomposition(
            a.tree, b.tree, self.mixture_nodes, V, wa, wb, g=self.g, tied=a.tied and b.tied
        )

    # ------------------------------------------------------------------------ costs
    def n_parameters(self) -> int:
        """The weights of both networks: the interconnections add none."""
        return self._a.n_parameters() + self._b.n_parameters()

    def operation_count(self, T: int | None = None) -> OperationCount:
        """The operations of both networks (exchanging channels is wiring: free).

        See :meth:`DilatedConvNet.operation_count`.
        """
        return self._a.operation_count(T) + self._b.operation_count(T)

    def __repr__(self) -> str:
        return (
            f"InterconnectedDilatedNets(dilations {self._a.dilations} and "
            f"{self._b.dilations}, mix_layers={self._mix}, g={self.g!r})"
        )
