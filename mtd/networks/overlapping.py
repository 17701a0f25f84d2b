"""Overlapping convolutional arithmetic circuits (Sharir & Shashua, ICLR 2018).

A *generalized convolution* (GC) layer with window ``R``, stride ``S`` and padding ``P``
maps an input with ``n`` positions (1-D) or ``n_1 × n_2`` positions (2-D, ``R × R``
windows) and ``r_in`` channels to ``r_out`` channels: output position ``p`` multiplies,
over the offsets ``k`` of its window, a linear form of the input at that offset,

    y[p, γ] = Π_k ( W[k] x[p·S − P + k] )_γ ,      W[k] of shape (r_out, r_in).

``R = S`` gives the non-overlapping ConvAC (a tree, :meth:`OverlappingConvAC.to_decomposition`),
``R > S`` overlapping windows.  After the last GC layer a *global product pooling*
multiplies every position channelwise, and a dense layer ``O`` (``n_outputs × r_L``)
gives the outputs.

Boundary rule
-------------
Along each axis the window of output position ``p`` covers input positions
``p·S − P + k`` for ``k = 0..R-1``.  Positions outside ``0..n-1`` (the padding) are
*omitted from the product* — equivalently padded with factors 1, the identity of the
product, never with zeros (which would zero the unit).  The output has
``n_out = ⌊(n + 2P − R) / S⌋ + 1`` positions per axis; the layer needs ``0 <= P < R``,
``n + 2P >= R``, and every input position in at least one window (otherwise the
function would ignore it; the error names the position).

Modes and layout
----------------
Inputs are ``(N, r_0)`` / ``(batch, N, r_0)`` in 1-D and ``(H, W, r_0)`` /
``(batch, H, W, r_0)`` in 2-D (channels last).  Input position ``i`` (1-D) is mode
``i``; pixel ``(row, col)`` (2-D) is mode ``row·W + col`` (row-major).  Templates are
the rows of the representation ``F`` (``M × r_0``, default the identity): the grid
tensor is ``A[d_0, …, d_{N-1}]`` = the output on inputs ``F[d_0], …, F[d_{N-1}]``.

The network compiles to mtd's representation (:attr:`OverlappingConvAC.plan`, a DAG:
overlapping windows read a unit from several nodes); grid tensors, leaf-vector
contractions, min-cut bounds and certified ranks are the engine's evaluators over it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rich import Rich
from .._typing import Seed
from .._validation import _is_int, as_rng, check_int, check_max_weight
from ..decompositions import TreeDecomposition, decomposition_to_tensor
from ..decompositions._plan import LeafStep, NodeStep, OutputTerm, Plan
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree
from ._common import (
    Arith,
    OperationCount,
    as_input,
    as_weight,
    check_arithmetic,
    check_channels,
    check_kind,
    check_output_index,
    grid_by_points,
    is_int_array,
    make_arith,
    max_abs,
    plan_grid_tensor,
    random_weight,
    row_bound,
)

__all__ = ["GCLayer", "OverlappingConvAC"]

GRID_METHODS = ("network", "forward", "decomposition")


@dataclass(frozen=True)
class GCLayer:
    """A generalized-convolution layer: window ``R``, stride ``S``, padding ``P`` (per axis)."""

    window: int
    stride: int
    padding: int = 0

    @property
    def overlapping(self) -> bool:
        """Whether windows overlap (``R > S``)."""
        return self.window > self.stride


def _as_layer(raw: Any, i: int) -> GCLayer:
    if isinstance(raw, GCLayer):
        return raw
    if (
        isinstance(raw, (str, bytes))
        or not isinstance(raw, (tuple, list))
        or len(raw) not in (2, 3)
    ):
        raise InvalidArgumentTypeError(
            f"layers[{i}] must be a GCLayer or a tuple (R, S) or (R, S, P); got {raw!r}"
        )
    R = check_int(raw[0], f"layers[{i}] window R", minimum=1)
    S = check_int(raw[1], f"layers[{i}] stride S", minimum=1)
    P = check_int(raw[2], f"layers[{i}] padding P", minimum=0) if len(raw) == 3 else 0
    return GCLayer(R, S, P)


def _axis_children(n: int, layer: GCLayer, i: int, axis: int) -> list[list[tuple[int, int]]]:
    """Per output position along one axis: its ``(offset, input position)`` pairs."""
    R, S, P = layer.window, layer.stride, layer.padding
    if P >= R:
        raise InvalidArgumentError(
            f"layers[{i}]: padding P must be < window R (a window must hold an input); got "
            f"R = {R}, P = {P}"
        )
    if n + 2 * P < R:
        raise InvalidArgumentError(
            f"layers[{i}]: the window R = {R} exceeds the padded input along axis {axis} "
            f"(n + 2P = {n} + {2 * P}); use a smaller window or more padding"
        )
    n_out = (n + 2 * P - R) // S + 1
    out = [[(k, p * S - P + k) for k in range(R) if 0 <= p * S - P + k < n] for p in range(n_out)]
    covered = {q for kids in out for _, q in kids}
    missing = [q for q in range(n) if q not in covered]
    if missing:
        raise InvalidArgumentError(
            f"layers[{i}]: every input position must lie in a window; with n = {n}, R = {R}, "
            f"S = {S}, P = {P} along axis {axis}, position {missing[0]} lies in none "
            f"(positions {missing})"
        )
    return out


class OverlappingConvAC(Rich):
    """A ConvAC of generalized-convolution layers, global product pooling and a dense output.

    Parameters
    ----------
    input_shape : int or (int, int)
        ``N`` positions (1-D) or an ``(H, W)`` image (2-D, ``R × R`` windows).
    layers : sequence of GCLayer or tuples ``(R, S)`` / ``(R, S, P)``
        The GC layers, the first next to the input (see the module's boundary rule).
    channels : sequence of int
        ``(r_0, r_1, …, r_L)``: the input's channels (columns of the representation),
        then each layer's.
    n_outputs : int, default 1
    representation : (M, r_0) array_like, optional
        ``F``: template ``d`` is the input vector ``F[d]``; default the identity.
    seed : None, int or numpy.random.Generator
    weights : sequence, optional
        ``L + 1`` arrays: layer ``l``'s of shape ``(R, r_l, r_{l-1})`` (1-D) or
        ``(R, R, r_l, r_{l-1})`` (2-D), ``W[k]`` the linear form at window offset ``k``;
        then the output layer ``(n_outputs, r_L)``.  Default: random.
    kind : {"gaussian", "integer"}, default "gaussian"
    max_weight : int, default 1000
        Range of random integer weights, ``-max_weight..max_weight``: wide enough that
        ranks are generic with high probability (Schwartz–Zippel: a rank below the
        generic ``R`` needs an ``R × R`` minor of degree ``D`` in the weights to vanish,
        probability at most ``D / (2·max_weight + 1)``; see
        :meth:`mtd.TreeDecomposition.random`).

    Raises
    ------
    InvalidArgumentError
        On a layer whose windows miss an input, a bad padding, channels of the wrong
        length, or weights of the wrong shape.

    Examples
    --------
    >>> net = mtd.networks.OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 2, 2),
    ...                                      kind="integer", seed=0)
    >>> net.layer_shapes                         # positions after each layer
    ((6,), (4,), (2,))
    >>> A = net.grid_tensor()
    >>> bool((A == net.grid_tensor(method="forward")).all())
    True
    >>> net.receptive_fields[-1]                 # inputs seen by the two top units
    ((0, 1, 2, 3), (2, 3, 4, 5))
    """

    __slots__ = (
        "_plan",
        "_shape",
        "_layers",
        "_channels",
        "_Y",
        "_F",
        "_W",
        "_O",
        "_kids",
        "_rf",
        "_shapes",
    )

    def __init__(
        self,
        input_shape: int | Sequence[int],
        layers: Sequence[Any],
        channels: Sequence[int],
        *,
        n_outputs: int = 1,
        representation: Any = None,
        seed: Seed = None,
        weights: Any = None,
        kind: str = "gaussian",
        max_weight: int = 1000,
    ):
        if _is_int(input_shape):
            shape: tuple[int, ...] = (check_int(input_shape, "input_shape", minimum=1),)
        elif isinstance(input_shape, (tuple, list)) and len(input_shape) in (1, 2):
            shape = tuple(
                check_int(n, f"input_shape[{i}]", minimum=1) for i, n in enumerate(input_shape)
            )
        else:
            raise InvalidArgumentTypeError(
                f"input_shape must be an int N (1-D) or a pair (H, W) (2-D); got {input_shape!r}"
            )
        self._shape = shape
        if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple)):
            raise InvalidArgumentTypeError(
                f"layers must be a sequence of (R, S) or (R, S, P); got {type(layers).__name__}"
            )
        if not layers:
            raise InvalidArgumentError("layers must hold at least one GC layer; got none")
        self._layers = tuple(_as_layer(raw, i) for i, raw in enumerate(layers))
        L = len(self._layers)
        chans = check_channels(channels, None)
        if len(chans) != L + 1:
            raise InvalidArgumentError(
                f"channels must be (r_0, r_1, ..., r_L): L + 1 = {L + 1} entries for {L} "
                f"layers; got {len(chans)} entries {chans}"
            )
        self._channels = chans
        self._Y = check_int(n_outputs, "n_outputs", minimum=1)
        if representation is None:
            F = np.eye(chans[0], dtype=np.int64)
        else:
            F = as_weight(representation, "representation")
            if F.ndim != 2 or F.shape[1] != chans[0] or F.shape[0] == 0:
                raise InvalidArgumentError(
                    f"representation must be an (M, r_0) matrix with r_0 = {chans[0]} columns; "
                    f"got shape {F.shape}"
                )
        self._F = F
        self._build_structure()
        if weights is None:
            kind = check_kind(kind)
            max_weight = check_max_weight(max_weight)
            rng = as_rng(seed)
            Ws = [
                random_weight(rng, self._wshape(l), kind, max_weight, chans[l - 1])
                for l in range(1, L + 1)
            ]
            O = random_weight(rng, (self._Y, chans[L]), kind, max_weight, chans[L])
        else:
            if not isinstance(weights, (list, tuple)) or len(weights) != L + 1:
                raise InvalidArgumentError(
                    f"weights must be a sequence of L + 1 = {L + 1} arrays (one per layer, then "
                    f"the output layer); got {type(weights).__name__} of length "
                    f"{len(weights) if isinstance(weights, (list, tuple)) else '?'}"
                )
            Ws = [
                as_weight(w, f"weights[{l - 1}] (layer {l})", self._wshape(l))
                for l, w in enumerate(weights[:L], start=1)
            ]
            O = as_weight(weights[L], f"weights[{L}] (output layer)", (self._Y, chans[L]))
        self._W = tuple(Ws)
        self._O = O

    def _wshape(self, l: int) -> tuple[int, ...]:
        R = self._layers[l - 1].window
        return (R,) * self.ndim + (self._channels[l], self._channels[l - 1])

    def _build_structure(self) -> None:
        """Per layer: output shape, children ``(offset index, input index)``, receptive fields."""
        shapes = [self._shape]
        kids: list[list[list[tuple[int, int]]]] = []
        rf: list[list[tuple[int, ...]]] = [[(m,) for m in range(math.prod(self._shape))]]
        for i, layer in enumerate(self._layers):
            n_in = shapes[-1]
            axes = [_axis_children(n, layer, i, a) for a, n in enumerate(n_in)]
            n_out = tuple(len(ax) for ax in axes)
            R = layer.window
            units: list[list[tuple[int, int]]] = []
            for pos in itertools.product(*[range(n) for n in n_out]):
                per_axis = [axes[a][p] for a, p in enumerate(pos)]
                units.append(
                    [
                        (
                            int(np.ravel_multi_index(tuple(k for k, _ in combo), (R,) * len(pos))),
                            int(np.ravel_multi_index(tuple(q for _, q in combo), n_in)),
                        )
                        for combo in itertools.product(*per_axis)
                    ]
                )
            kids.append(units)
            rf.append([tuple(sorted(set().union(*(rf[-1][q] for _, q in u)))) for u in units])
            shapes.append(n_out)
        self._shapes = tuple(shapes)
        self._kids = tuple(tuple(tuple(u) for u in layer) for layer in kids)
        self._rf = tuple(tuple(layer) for layer in rf)

    # --------------------------------------------------------------------- structure
    @property
    def ndim(self) -> int:
        """1 or 2."""
        return len(self._shape)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(N,)`` or ``(H, W)``."""
        return self._shape

    @property
    def n_inputs(self) -> int:
        """``N``: the number of inputs (modes of the grid tensor)."""
        return math.prod(self._shape)

    @property
    def layers(self) -> tuple[GCLayer, ...]:
        """The GC layers, the first next to the input."""
        return self._layers

    @property
    def channels(self) -> tuple[int, ...]:
        """``(r_0, …, r_L)``."""
        return self._channels

    @property
    def n_outputs(self) -> int:
        """Outputs of the dense layer."""
        return self._Y

    @property
    def representation(self) -> np.ndarray:
        """``F`` (``M × r_0``)."""
        return self._F

    @property
    def M(self) -> int:
        """The number of templates (rows of ``F``)."""
        return int(self._F.shape[0])

    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """The GC layers' weight arrays, then the output layer."""
        return (*self._W, self._O)

    @property
    def layer_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Positions per axis: the input, then after each GC layer."""
        return self._shapes

    @property
    def receptive_fields(self) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """Per layer (input first), per position (row-major): the sorted input modes it sees."""
        return self._rf

    @property
    def children(self) -> tuple[tuple[tuple[tuple[int, int], ...], ...], ...]:
        """Per GC layer, per output position: ``(offset index, input position)`` pairs.

        Offsets and positions are flat row-major indices (``k = k_1·R + k_2`` in 2-D).
        """
        return self._kids

    @property
    def is_integer(self) -> bool:
        """Whether every weight and the representation are integers."""
        return all(w.dtype.kind in "iu" for w in (*self._W, self._O, self._F))

    # ------------------------------------------------------------------- evaluation
    def forward(self, x: Any) -> np.ndarray:
        """Run the network.

        Parameters
        ----------
        x : array_like
            1-D: ``(N, r_0)`` or ``(batch, N, r_0)``; 2-D: ``(H, W, r_0)`` or
            ``(batch, H, W, r_0)``.

        Returns
        -------
        ndarray of shape ``(n_outputs,)`` or ``(batch, n_outputs)``

        Examples
        --------
        >>> net = mtd.networks.OverlappingConvAC(3, [(2, 1)], (1, 1),
        ...                                      weights=[[[[1]], [[1]]], [[1]]])
        >>> net.forward([[1], [2], [3]]).tolist()   # (1·2)·(2·3)
        [12]
        """
        arr = as_input(x)
        want = (*self._shape, self._channels[0])
        if arr.ndim not in (len(want), len(want) + 1) or arr.shape[-len(want) :] != want:
            names = "(N, r_0)" if self.ndim == 1 else "(H, W, r_0)"
            raise InvalidArgumentError(
                f"x must have shape {names} = {want} or (batch, *{want}); got shape {arr.shape}"
            )
        single = arr.ndim == len(want)
        h = arr[None] if single else arr
        arith = self._arith(h)
        out = self._run(arith.convert(h), arith, list(range(self._Y)))
        return out[0] if single else out

    def _arith(self, h: np.ndarray, arithmetic: str | None = None, prime: Any = None) -> Arith:
        integer = self.is_integer and is_int_array(h)
        arithmetic = check_arithmetic(arithmetic, integer=integer)
        return make_arith(
            arithmetic,
            bound=self._bound(max_abs(h)) if arithmetic == "exact" else None,
            prime=prime,
        )

    def _bound(self, b0: int) -> int:
        b = top = b0
        for l, layer in enumerate(self._layers, start=1):
            lin = max(row_bound(w) for w in self._W[l - 1].reshape(-1, *self._W[l - 1].shape[-2:]))
            lin *= b
            b = lin ** (layer.window**self.ndim)
            top = max(top, lin, b)
        pooled = b ** len(self._rf[-1])
        return max(top, pooled, row_bound(self._O) * pooled)

    def _run(self, h: np.ndarray, arith: Arith, rows: list[int]) -> np.ndarray:
        """``h``: ``(B, *input_shape, r_0)`` -> ``(B, len(rows))``."""
        B = h.shape[0]
        for l, layer in enumerate(self._layers, start=1):
            W = arith.convert(self._W[l - 1])
            R, S, P = layer.window, layer.stride, layer.padding
            n_in, n_out = self._shapes[l - 1], self._shapes[l]
            padded = np.ones((B, *(n + 2 * P for n in n_in), W.shape[-2]), dtype=h.dtype)
            inner = (slice(None), *(slice(P, P + n) for n in n_in), slice(None))
            acc: np.ndarray | None = None
            for k in itertools.product(range(R), repeat=self.ndim):
                padded[inner] = arith.matmul(h, W[k].T)
                sl = (
                    slice(None),
                    *(slice(kk, kk + (no - 1) * S + 1, S) for kk, no in zip(k, n_out, strict=True)),
                    slice(None),
                )
                acc = padded[sl].copy() if acc is None else arith.mul(acc, padded[sl])
            assert acc is not None
            h = acc
        flat = h.reshape(B, -1, h.shape[-1])
        while flat.shape[1] > 1:  # global product pooling, pairwise
            half = flat.shape[1] // 2
            prod = arith.mul(flat[:, :half], flat[:, half : 2 * half])
            flat = np.concatenate([prod, flat[:, 2 * half :]], axis=1)
        return arith.matmul(flat[:, 0], arith.convert(self._O)[rows].T)

    def grid_tensor(
        self,
        discretizers: Any = None,
        output: int | None = 0,
        *,
        method: str = "network",
        arithmetic: str | None = None,
        prime: int | None = None,
        max_bytes: int | None = None,
    ) -> np.ndarray:
        """The grid tensor: ``A[d_0, …, d_{N-1}]`` = output on inputs ``F[d_0], …, F[d_{N-1}]``.

        Parameters
        ----------
        discretizers : (M, r_0) array_like, optional
            The templates' input vectors; default :attr:`representation`.
        output : int or None, default 0
        method : {"network", "forward", "decomposition"}, default "network"
            ``"network"``: the dense evaluator of the compiled plan (:attr:`plan`; unit
            values over their receptive fields, shared inputs copied).  ``"forward"``:
            :meth:`forward` at every grid point, in chunks.  ``"decomposition"``:
            :meth:`to_decomposition` (non-overlapping networks only).
        arithmetic : {"float", "exact", "modular"}, optional
            Default: exact for integer weights and discretizers, else float.
        prime : int, optional
        max_bytes : int, optional
            Memory limit for the result and every intermediate tensor.

        Returns
        -------
        ndarray of shape ``(M,) * N`` (or ``(n_outputs,) + (M,) * N`` for ``None``)
        """
        V = self._discretizers(discretizers)
        if not isinstance(method, str) or method not in GRID_METHODS:
            raise InvalidArgumentError(f"method must be one of {GRID_METHODS}; got {method!r}")
        rows = check_output_index(output, self._Y)
        arith = self._arith(V, arithmetic, prime)
        if method == "network":
            return plan_grid_tensor(
                self._plan_for(V),
                output,
                arithmetic=arith.kind,
                prime=prime if arith.kind == "modular" else None,
                max_bytes=max_bytes,
            )
        if method == "decomposition":
            return decomposition_to_tensor(
                self.to_decomposition(V),
                output,
                arithmetic=arith.kind,
                prime=prime,
                max_bytes=max_bytes,
            )
        Vc = arith.convert(V)
        N = self.n_inputs

        def evaluate(idx: np.ndarray) -> np.ndarray:
            return self._run(Vc[idx].reshape(len(idx), *self._shape, -1), arith, rows)

        return grid_by_points(
            evaluate,
            int(V.shape[0]),
            N,
            len(rows),
            arith.dtype,
            max_bytes=max_bytes,
            single=output is not None,
            bytes_per_point=4 * N * max(self._channels) * 8,
        )

    def _discretizers(self, discretizers: Any) -> np.ndarray:
        if discretizers is None:
            return self._F
        V = as_input(discretizers, "discretizers")
        r0 = self._channels[0]
        if V.ndim != 2 or V.shape[0] == 0 or V.shape[1] != r0:
            raise InvalidArgumentError(
                f"discretizers must be an (M, r_0) matrix with r_0 = {r0} columns; got shape "
                f"{V.shape}"
            )
        return V

    def contract(
        self,
        vectors: Any,
        *,
        output: int | None = 0,
        discretizers: Any = None,
        arithmetic: str = "float",
        prime: int | None = None,
        max_bytes: int | None = None,
    ) -> np.ndarray:
        """The multilinear form ``Σ_d A[d] Π_j u_j[d_j]`` of the grid tensor, for a batch.

        See :func:`mtd.networks.copy_network.contract_network`; one-hot vectors give
        grid-tensor entries.

        Parameters
        ----------
        vectors : (B, N, M) or (N, M) array_like
        output : int or None, default 0
        discretizers : (M, r_0) array_like, optional
        arithmetic : {"float", "exact", "modular"}, default "float"
        prime : int, optional
        max_bytes : int, optional

        Returns
        -------
        ndarray of shape ``(B,)`` or ``()`` (a trailing ``n_outputs`` axis for ``None``)

        Examples
        --------
        >>> net = mtd.networks.OverlappingConvAC(4, [(2, 1)], (2, 2), kind="integer", seed=1)
        >>> u = np.eye(2, dtype=int)[[1, 0, 0, 1]]
        >>> bool(net.contract(u, arithmetic="exact") == net.grid_tensor()[1, 0, 0, 1])
        True
        """
        from .copy_network import contract_network

        return contract_network(
            self,
            vectors,
            output=output,
            discretizers=discretizers,
            arithmetic=arithmetic,
            prime=prime,
            max_bytes=max_bytes,
        )

    @property
    def plan(self) -> Plan:
        """The network compiled to mtd's representation (with :attr:`representation`).

        Leaves are the inputs (matrix ``F``, shared by every position); a unit of layer
        ``l`` is an ``"eq3"`` node over its window, child ``k`` weighted by ``W[k]`` (the
        same array at every position: convolutional weights are tied); overlapping
        windows read a unit (or an input) from several nodes, and the units' modes
        overlap.  Several top units are joined by the global pooling, a node with fixed
        identity weights (:attr:`Plan.fixed`); ``O`` is the output layer.

        Examples
        --------
        >>> net = mtd.networks.OverlappingConvAC(4, [(2, 1)], (2, 2), seed=0)
        >>> plan = net.plan
        >>> plan.is_tree, len(plan.fixed)
        (False, 1)
        """
        cached: Plan | None = getattr(self, "_plan", None)
        if cached is None:
            cached = self._plan_for(self._F)
            self._plan = cached
        return cached

    def _plan_for(self, V: np.ndarray) -> Plan:
        cached: Plan | None = getattr(self, "_plan", None)
        if V is self._F and cached is not None:
            return cached
        steps: list[Any] = [
            LeafStep(slot=m, mode=m, matrix=V, weight=None, size=self._channels[0])
            for m in range(self.n_inputs)
        ]
        prev = list(range(self.n_inputs))
        slot = self.n_inputs
        for l in range(1, len(self._layers) + 1):
            W = self._W[l - 1].reshape(-1, *self._W[l - 1].shape[-2:])
            tied = [W[k] for k in range(W.shape[0])]  # one array per offset: ties kept
            cur = []
            for p, kids in enumerate(self._kids[l - 1]):
                modes = self._rf[l][p]
                steps.append(
                    NodeStep(
                        slot=slot,
                        node=frozenset(modes),
                        modes=modes,
                        children=tuple(prev[q] for _, q in kids),
                        kind="eq3",
                        weights=tuple(tied[k] for k, _ in kids),
                        size=self._channels[l],
                    )
                )
                cur.append(slot)
                slot += 1
            prev = cur
        fixed: tuple[np.ndarray, ...] = ()
        if len(prev) > 1:  # the global pooling
            eye = np.eye(self._channels[-1], dtype=np.int64)
            eye.setflags(write=False)
            fixed = (eye,)
            steps.append(
                NodeStep(
                    slot=slot,
                    node=frozenset(range(self.n_inputs)),
                    modes=tuple(range(self.n_inputs)),
                    children=tuple(prev),
                    kind="eq3",
                    weights=(eye,) * len(prev),
                    size=self._channels[-1],
                )
            )
            prev = [slot]
        return Plan(
            modes=tuple(range(self.n_inputs)),
            dims={m: int(V.shape[0]) for m in range(self.n_inputs)},
            g="product",
            steps=tuple(steps),
            outputs=(OutputTerm(prev[0], self._O),),
            n_outputs=self._Y,
            fixed=fixed,
        )

    def tensor_network(self, discretizers: Any = None, *, max_tensors: int = 100_000) -> Any:
        """The copy-tensor network; see :func:`mtd.networks.copy_network.tensor_network`."""
        from .copy_network import tensor_network

        return tensor_network(self, discretizers, max_tensors=max_tensors)

    def to_decomposition(self, discretizers: Any = None) -> TreeDecomposition:
        """The eq. 3 :class:`~mtd.decompositions.TreeDecomposition` of a non-overlapping network.

        Needs ``R = S >= 2`` and ``P = 0`` in every layer; each unit is a node whose
        children are its window (product of sums, weight ``W[k]`` for child ``k``); with
        more than one position after the last layer, the root is the global pooling
        (identity weights); ``O`` is the dense output layer.

        Raises
        ------
        InvalidArgumentError
            If a layer overlaps, is padded, or has 1×1 windows.

        Examples
        --------
        >>> net = mtd.networks.OverlappingConvAC(8, [(2, 2), (2, 2)], (2, 2, 2),
        ...                                      kind="integer", seed=0)
        >>> d = net.to_decomposition()
        >>> d.tree.to_nested()
        (((0, 1), (2, 3)), ((4, 5), (6, 7)))
        >>> bool((d.to_tensor(arithmetic="exact") == net.grid_tensor()).all())
        True
        """
        for i, layer in enumerate(self._layers):
            if layer.window != layer.stride or layer.padding or layer.window < 2:
                raise InvalidArgumentError(
                    f"to_decomposition needs non-overlapping, unpadded windows of size >= 2 "
                    f"(R = S >= 2, P = 0) in every layer; layers[{i}] has R = {layer.window}, "
                    f"S = {layer.stride}, P = {layer.padding}"
                )
        V = self._discretizers(discretizers)
        children: dict[Any, list[Any]] = {}
        weights: dict[Any, list[np.ndarray]] = {}
        for l in range(1, len(self._layers) + 1):
            W = self._W[l - 1].reshape(-1, *self._W[l - 1].shape[-2:])
            for p, kids in enumerate(self._kids[l - 1]):
                node = frozenset(self._rf[l][p])
                children[node] = [frozenset(self._rf[l - 1][q]) for _, q in kids]
                weights[node] = [W[k] for k, _ in kids]
        top = [frozenset(rf) for rf in self._rf[-1]]
        if len(top) > 1:
            root = frozenset(range(self.n_inputs))
            children[root] = top
            eye = np.eye(self._channels[-1], dtype=np.int64)
            weights[root] = [eye] * len(top)
        tree = ModeTree.from_children(children)
        return TreeDecomposition(tree, V, weights, outputs=self._O, tied=False)

    # ------------------------------------------------------------------------ costs
    def n_parameters(self) -> int:
        """The number of weights (GC layers and the output layer)."""
        return sum(int(w.size) for w in (*self._W, self._O))

    def operation_count(self) -> OperationCount:
        """Operations of one forward evaluation (each window factor computed once).

        Examples
        --------
        >>> c = mtd.networks.OverlappingConvAC(4, [(2, 1)], (2, 3)).operation_count()
        >>> c.macs, c.nonlinear   # 3 units x 2 factors x (3x2), output 1x3; 3x3 + 2x3 products
        (39, 15)
        """
        macs = nonlinear = 0
        for l, units in enumerate(self._kids, start=1):
            r_out, r_in = self._channels[l], self._channels[l - 1]
            for kids in units:
                macs += len(kids) * r_out * r_in
                nonlinear += (len(kids) - 1) * r_out
        nonlinear += (len(self._kids[-1]) - 1) * self._channels[-1]
        macs += self._Y * self._channels[-1]
        return OperationCount(macs, nonlinear)

    def __repr__(self) -> str:
        layers = ", ".join(f"(R={x.window}, S={x.stride}, P={x.padding})" for x in self._layers)
        return (
            f"OverlappingConvAC(input_shape={self._shape}, layers=[{layers}], "
            f"channels={self._channels}, n_outputs={self._Y})"
        )
