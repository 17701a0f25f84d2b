"""The copy-tensor network of an overlapping ConvAC: grid tensors, contractions, description.

When windows overlap, an input feeds several windows, so the network's function is not
a tree decomposition.  In one-hot (template) coordinates it is still multilinear: the
template index ``d_j`` of input ``j`` is *copied* to every window that contains it by a
copy tensor ``δ`` (``δ[a, b, …] = 1`` iff all indices are equal).  Unrolling every
hidden unit into one copy per path to the output gives a tree of units (each a ``δ``
over its channels joined to its window's weight matrices ``W[k]``, the leaves the
representation ``Fᵀ``), whose leaves are tied together by the input copy tensors.

Contraction order
-----------------
Copies of a hidden unit along different paths are identical subnetworks with the same
open template legs, so they are contracted once: the tensor of unit ``(l, p)`` is
``U_{l,p}[γ, d_{RF(l,p)}]`` over the template indices of its receptive field (modes
ascending), and

    U_{l,p}[γ, d] = Π_k ( W[k] U_{l-1, q_k} )[γ, d_{RF(q_k)}]

is a product over the window in which indices shared by overlapping children are equal
(the input copy tensors), formed by broadcasting.  The top units are then multiplied
(global pooling) in row-major order: for the dense grid tensor every template leg stays
open; for leaf vectors ``u_j`` (:func:`contract_network`), each input's copy tensor is
closed against ``u_j`` as soon as the last top unit containing that input has been
multiplied in, so the open legs are only those shared with units still to come.  Every
intermediate is checked against the memory limit before it is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._config import check_allocation
from .._validation import check_int
from ..errors import InvalidArgumentError
from ._common import Arith, as_input, check_arithmetic, check_output_index, make_arith, max_abs

__all__ = [
    "TNTensor",
    "TensorNetwork",
    "contract_network",
    "network_grid_tensor",
    "tensor_network",
    "unit_tensors",
]

Unit = tuple[np.ndarray, tuple[int, ...]]


def _expand(T: np.ndarray, lead: int, modes: tuple[int, ...], union: list[int]) -> np.ndarray:
    """View ``T`` (``lead`` leading axes, then ``modes``) with size-1 axes for other modes."""
    have = set(modes)
    M = T.shape[lead] if modes else 1
    return T.reshape(*T.shape[:lead], *[M if m in have else 1 for m in union])


def _itemsize(arith: Arith) -> int:
    return 8 if arith.dtype != object else 64


def unit_tensors(net: Any, V: np.ndarray, arith: Arith, *, max_bytes: int | None) -> list[Unit]:
    """The tensors ``U_{L,p}`` of the top units, each ``(r_L, M, …, M)`` over its receptive field.

    ``V`` is the ``(M, r_0)`` discretizer matrix; the arrays are in ``arith``'s dtype.
    """
    M = int(V.shape[0])
    Vt = np.ascontiguousarray(arith.convert(V).T)
    prev: list[Unit] = [(Vt, (m,)) for m in range(net.n_inputs)]
    for l in range(1, len(net.layers) + 1):
        r = net.channels[l]
        W = arith.convert(net.weights[l - 1]).reshape(-1, r, net.channels[l - 1])
        cur: list[Unit] = []
        for p, kids in enumerate(net.children[l - 1]):
            modes = net.receptive_fields[l][p]
            union = list(modes)
            check_allocation(
                (r, *(M,) * len(modes)),
                _itemsize(arith),
                max_bytes=max_bytes,
                what=f"the tensor of unit {p} of layer {l}",
            )
            acc: np.ndarray | None = None
            for k, q in kids:
                U, mq = prev[q]
                T = arith.matmul(W[k], U.reshape(U.shape[0], -1))
                T = _expand(T.reshape(r, *(M,) * len(mq)), 1, mq, union)
                acc = T if acc is None else arith.mul(acc, T)
            assert acc is not None and acc.shape == (r, *(M,) * len(modes))
            cur.append((acc, modes))
        prev = cur
    return prev


def network_grid_tensor(
    net: Any,
    V: np.ndarray,
    rows: list[int],
    arith: Arith,
    *,
    max_bytes: int | None,
) -> np.ndarray:
    """The grid tensor rows ``rows`` of an overlapping ConvAC, shape ``(len(rows),) + (M,)*N``.

    Contracts the copy-tensor network in the order of the module docstring.
    """
    M, N = int(V.shape[0]), net.n_inputs
    r = net.channels[-1]
    size = _itemsize(arith)
    check_allocation((len(rows), *(M,) * N), size, max_bytes=max_bytes, what="grid tensor")
    check_allocation((r, *(M,) * N), size, max_bytes=max_bytes, what="the global pooling's tensor")
    units = unit_tensors(net, V, arith, max_bytes=max_bytes)
    everything = list(range(N))
    acc: np.ndarray | None = None
    for U, modes in units:
        T = _expand(U, 1, modes, everything)
        acc = T if acc is None else arith.mul(acc, T)
    assert acc is not None
    acc = np.broadcast_to(acc, (r, *(M,) * N))
    O = arith.convert(net.weights[-1])[rows]
    return arith.matmul(O, np.ascontiguousarray(acc).reshape(r, -1)).reshape(len(rows), *(M,) * N)


def contract_network(
    net: Any,
    vectors: Any,
    *,
    output: int | None = 0,
    discretizers: Any = None,
    arithmetic: str = "float",
    prime: int | None = None,
    max_bytes: int | None = None,
) -> np.ndarray:
    """``Σ_d A[d_0, …, d_{N-1}] Π_j u_j[d_j]`` for a batch of vector sets, without ``M^N`` storage.

    Parameters
    ----------
    net : OverlappingConvAC
    vectors : (B, N, M) or (N, M) array_like
        ``vectors[b, j]`` is ``u_j`` of set ``b`` (``M`` = the number of templates).
    output : int or None, default 0
    discretizers : (M, r_0) array_like, optional
        Default: the network's representation.
    arithmetic : {"float", "exact", "modular"}, default "float"
        Exact and modular need integer weights and vectors; modular gives residues
        modulo ``prime`` (default ``2**31 - 1``) as ``int64``.
    prime : int, optional
    max_bytes : int, optional
        Limit for every intermediate (the top units' tensors and the sweep's).

    Returns
    -------
    ndarray of shape ``(B,)`` or ``()`` (``(…, n_outputs)`` for ``output=None``)

    Examples
    --------
    >>> net = mtd.networks.OverlappingConvAC(5, [(3, 1)], (2, 2), kind="integer", seed=2)
    >>> u = np.random.default_rng(0).integers(-3, 4, (4, 5, 2))
    >>> A = net.grid_tensor()
    >>> want = np.einsum("abcde,za,zb,zc,zd,ze->z", A, *u.transpose(1, 0, 2))
    >>> bool((mtd.networks.contract_network(net, u, arithmetic="exact") == want).all())
    True
    """
    V = net._discretizers(discretizers)
    u = as_input(vectors, "vectors")
    N, M = net.n_inputs, int(V.shape[0])
    single = u.ndim == 2
    if single:
        u = u[None]
    if u.ndim != 3 or u.shape[1:] != (N, M):
        raise InvalidArgumentError(
            f"vectors must have shape (B, {N}, {M}) or ({N}, {M}) (one vector over the {M} "
            f"templates per input); got {np.shape(vectors)}"
        )
    rows = check_output_index(output, net.n_outputs)
    integer = net.is_integer and V.dtype.kind in "iu" and u.dtype.kind in "iu"
    if arithmetic == "float":
        integer = False
    arithmetic = check_arithmetic(arithmetic, integer=integer)
    bound = None
    if arithmetic == "exact":
        norms = np.abs(u.astype(object)).sum(axis=2).max(axis=0) if u.size else []
        bound = net._bound(max_abs(V)) * math.prod(max(1, int(n)) for n in norms)
    arith = make_arith(arithmetic, bound=bound, prime=prime)
    B, r = u.shape[0], net.channels[-1]
    uc = arith.convert(u)
    units = unit_tensors(net, V, arith, max_bytes=max_bytes)
    last = {m: p for p, (_, modes) in enumerate(units) for m in modes}
    acc = arith.convert(np.ones((B, r), dtype=np.int64))
    open_modes: list[int] = []
    for p, (U, modes) in enumerate(units):
        union = sorted(set(open_modes) | set(modes))
        check_allocation(
            (B, r, *(M,) * len(union)),
            _itemsize(arith),
            max_bytes=max_bytes,
            what="a contraction intermediate",
        )
        acc = arith.mul(
            _expand(acc, 2, tuple(open_modes), union), _expand(U[None], 2, modes, union)
        )
        open_modes = union
        for m in [m for m in union if last[m] == p]:
            ax = 2 + open_modes.index(m)
            shape = [B] + [1] * (acc.ndim - 1)
            shape[ax] = M
            acc = arith.sum(arith.mul(acc, uc[:, m, :].reshape(shape)), axis=ax)
            open_modes.remove(m)
    assert not open_modes and acc.shape == (B, r)
    out = arith.matmul(acc, np.ascontiguousarray(arith.convert(net.weights[-1])[rows].T))
    if output is not None:
        out = out[:, 0]
    return out[0] if single else out


# ---------------------------------------------------------------------- description
@dataclass(frozen=True, eq=False)
class TNTensor:
    """One tensor of a :class:`TensorNetwork`.

    Attributes
    ----------
    kind : str
        ``"copy"`` (``δ``: 1 where all its indices are equal; ``data`` is ``None``) or
        ``"matrix"`` (``data`` given).
    legs : tuple of int
        Edge ids, in the order of ``data``'s axes.
    data : ndarray or None
    label : str
        What the tensor is, e.g. ``"W[layer 2, offset 1]"`` or ``"copy of input 3"``.
    """

    kind: str
    legs: tuple[int, ...]
    data: np.ndarray | None
    label: str


@dataclass(frozen=True, eq=False)
class TensorNetwork:
    """A tensor network: tensors joined by edges, open input legs and one output leg.

    Attributes
    ----------
    tensors : tuple of TNTensor
    edge_dims : tuple of int
        ``edge_dims[e]`` is the dimension of edge ``e``.
    input_legs : tuple of int
        ``input_legs[j]`` is the open edge of mode ``j`` (dimension ``M``).
    output_leg : int
        The open edge of the outputs (dimension ``n_outputs``).

    Notes
    -----
    Contracting every closed edge leaves a tensor over ``output_leg`` and the input legs
    whose entry ``[y, d_0, …, d_{N-1}]`` is the grid tensor ``A^y[d_0, …]``.  A minimum
    cut separating the input legs of ``I`` from those of ``Iᶜ`` (edges weighted by the
    log of their dimension) bounds ``rank [[A^y]]_I``.
    """

    tensors: tuple[TNTensor, ...]
    edge_dims: tuple[int, ...]
    input_legs: tuple[int, ...]
    output_leg: int

    @property
    def n_edges(self) -> int:
        """The number of edges (closed and open)."""
        return len(self.edge_dims)

    def edge_ends(self) -> dict[int, tuple[int, ...]]:
        """For every edge, the indices of the tensors it touches (two, or one for open legs)."""
        ends: dict[int, list[int]] = {e: [] for e in range(self.n_edges)}
        for i, t in enumerate(self.tensors):
            for e in t.legs:
                ends[e].append(i)
        return {e: tuple(v) for e, v in ends.items()}

    def __repr__(self) -> str:
        kinds = {k: sum(t.kind == k for t in self.tensors) for k in ("copy", "matrix")}
        return (
            f"<TensorNetwork: {kinds['copy']} copy and {kinds['matrix']} matrix tensors, "
            f"{self.n_edges} edges, {len(self.input_legs)} input legs>"
        )


def _instances(net: Any) -> int:
    """The number of tensors of the unrolled network (without building it)."""
    count = [1] * net.n_inputs  # an input occurrence: its representation matrix
    for l in range(1, len(net.layers) + 1):
        count = [1 + sum(1 + count[q] for _, q in kids) for kids in net.children[l - 1]]
    return 2 + sum(count) + net.n_inputs


def tensor_network(
    net: Any, discretizers: Any = None, *, max_tensors: int = 100_000
) -> TensorNetwork:
    """The unrolled copy-tensor network of an overlapping ConvAC.

    * the output matrix ``O`` (legs: output, pooling) and the global pooling ``δ``
      over ``r_L`` with one leg per top unit;
    * every path from the output to a unit gives one copy of it: a ``δ`` over its
      ``r_l`` channels with a leg to its parent and one per window offset ``k``, each
      joined to its child through the matrix ``W[k]`` (legs: unit, child);
    * an input occurrence is the matrix ``Fᵀ`` (legs: unit, template) whose template
      leg goes into the input's copy tensor ``δ`` over the ``M`` templates, which also
      carries the open leg of that mode.

    Parameters
    ----------
    net : OverlappingConvAC
    discretizers : (M, r_0) array_like, optional
        Default: the network's representation.
    max_tensors : int, default 100000
        Refuse larger unrolled networks (their size grows with the number of paths).

    Returns
    -------
    TensorNetwork

    Examples
    --------
    >>> net = mtd.networks.OverlappingConvAC(3, [(2, 1)], (2, 2), seed=0)
    >>> tn = net.tensor_network()
    >>> tn
    <TensorNetwork: 6 copy and 9 matrix tensors, 19 edges, 3 input legs>
    >>> [len(tn.tensors[tn.edge_ends()[e][0]].legs) for e in tn.input_legs]  # copies
    [2, 3, 2]
    """
    V = net._discretizers(discretizers)
    total = _instances(net)
    if total > check_int(max_tensors, "max_tensors", minimum=1):
        raise InvalidArgumentError(
            f"the unrolled network has {total:,} tensors, over max_tensors = {max_tensors:,} "
            f"(one copy of every unit per path to the output); pass a larger max_tensors"
        )
    M, L = int(V.shape[0]), len(net.layers)
    dims: list[int] = []
    tensors: list[TNTensor] = []

    def edge(d: int) -> int:
        dims.append(int(d))
        return len(dims) - 1

    occurrences: list[list[int]] = [[] for _ in range(net.n_inputs)]
    Ft = np.ascontiguousarray(V.T)
    Ft.setflags(write=False)
    W = [w.reshape(-1, *w.shape[-2:]) for w in net.weights[:L]]

    def unit(l: int, p: int, up: int) -> None:
        # The unit's copy tensor (or, at the input, the representation), below edge ``up``.
        stack = [(l, p, up)]
        while stack:
            l, p, up = stack.pop()
            if l == 0:
                e = edge(M)
                occurrences[p].append(e)
                tensors.append(TNTensor("matrix", (up, e), Ft, f"F^T at input {p}"))
                continue
            legs = [up]
            for k, q in net.children[l - 1][p]:
                mid, down = edge(net.channels[l]), edge(net.channels[l - 1])
                legs.append(mid)
                tensors.append(
                    TNTensor("matrix", (mid, down), W[l - 1][k], f"W[layer {l}, offset {k}]")
                )
                stack.append((l - 1, q, down))
            tensors.append(TNTensor("copy", tuple(legs), None, f"unit {p} of layer {l}"))

    out_leg, pool = edge(net.n_outputs), edge(net.channels[-1])
    tensors.append(TNTensor("matrix", (out_leg, pool), net.weights[-1], "output layer O"))
    top = [edge(net.channels[-1]) for _ in net.children[-1]]
    tensors.append(TNTensor("copy", (pool, *top), None, "global product pooling"))
    for p, e in enumerate(top):
        unit(L, p, e)
    inputs = []
    for j in range(net.n_inputs):
        leg = edge(M)
        inputs.append(leg)
        tensors.append(TNTensor("copy", (leg, *occurrences[j]), None, f"copy of input {j}"))
    assert len(tensors) == total
    return TensorNetwork(tuple(tensors), tuple(dims), tuple(inputs), out_leg)
