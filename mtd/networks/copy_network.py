"""The copy-tensor picture of an overlapping ConvAC, and its leaf-vector contraction.

When windows overlap, an input feeds several windows, so the network's function is not
a tree decomposition.  In one-hot (template) coordinates it is still multilinear: the
template index ``d_j`` of input ``j`` is *copied* to every window that contains it by a
copy tensor ``δ`` (``δ[a, b, …] = 1`` iff all indices are equal).  The network compiles
to mtd's representation (:attr:`OverlappingConvAC.plan <mtd.networks.OverlappingConvAC.plan>`,
a DAG whose nodes may share modes), and everything here is the engine's: the leaf-vector
contraction follows an ``opt_einsum`` path over the unrolled plan, checked against the
memory limit before anything is allocated (:mod:`mtd.decompositions._network`); the
description unrolls every hidden unit into one copy per path to the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_int
from ..decompositions._arith import Arith, check_prime
from ..decompositions._network import (
    TensorNetwork,
    TNTensor,
    contract_vectors,
    count_instances,
    plan_tensor_network,
)
from ..errors import InvalidArgumentError
from ._common import as_input, check_arithmetic, check_output_index

__all__ = ["TNTensor", "TensorNetwork", "contract_network", "tensor_network"]


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
    if arithmetic == "float":
        arith = Arith("float", np.float64)
    elif arithmetic == "exact":
        arith = Arith("exact", object if u.dtype == object else np.int64)
    else:
        arith = Arith("modular", np.int64, check_prime(prime))
    inputs = {m: u[:, m, :] for m in range(N)}
    plan = net._plan_for(V)
    out = contract_vectors(
        plan, inputs, rows, arith, max_bytes=max_bytes, what="the largest contraction intermediate"
    )
    if output is not None:
        out = out[:, 0]
    return out[0] if single else out


# ---------------------------------------------------------------------- description
def tensor_network(
    net: Any, discretizers: Any = None, *, max_tensors: int = 100_000
) -> TensorNetwork:
    """The unrolled copy-tensor network of an overlapping ConvAC (its plan's picture).

    See :func:`mtd.decompositions._network.plan_tensor_network`:

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
    limit = check_int(max_tensors, "max_tensors", minimum=1)
    plan = net._plan_for(net._discretizers(discretizers))
    total = count_instances(plan)
    if total > limit:
        raise InvalidArgumentError(
            f"the unrolled network has {total:,} factors, over max_tensors = {limit:,} "
            f"(one copy of every unit per path to the output); pass a larger max_tensors"
        )
    return plan_tensor_network(plan, max_instances=max(limit, total))
