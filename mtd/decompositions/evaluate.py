"""Evaluating any decomposition: dense tensors, leaf-vector contractions, grid entries.

Every decomposition (:class:`~mtd.decompositions.TreeDecomposition`,
:class:`~mtd.decompositions.MixedDecomposition`,
:class:`~mtd.decompositions.HierarchicalTensor`) compiles to one plan
(:mod:`mtd.decompositions._plan`); these functions run it.

Arithmetic (``arithmetic=``):

* ``"float"`` — ``float64``.
* ``"exact"`` — integer weights only; exact integers.  ``int64`` is used when a bound
  on every intermediate number, computed through the plan from the largest absolute
  weights and inputs, proves that nothing overflows; otherwise ``object`` arrays of
  Python ints.  Either way the values are exact.
* ``"modular"`` — residues modulo ``prime`` (default ``2**31 - 1``, must be below
  ``2**31``), ``int64``; ``g = "product"`` only.  Equals the exact result mod ``prime``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_int
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ._dense import dense_tensor
from ._plan import Plan
from ._pointwise import evaluate_points

__all__ = ["contract_leaf_vectors", "decomposition_to_tensor", "get_plan", "grid_entries"]


def get_plan(decomposition: Any) -> Plan:
    """The plan a decomposition compiles to (its ``plan`` attribute), or a plan itself."""
    if isinstance(decomposition, Plan):
        return decomposition
    plan = getattr(decomposition, "plan", None)
    if not isinstance(plan, Plan):
        raise InvalidArgumentTypeError(
            f"expected a decomposition (TreeDecomposition, MixedDecomposition, "
            f"HierarchicalTensor); got {type(decomposition).__name__}"
        )
    return plan


def decomposition_to_tensor(
    decomposition: Any,
    output: int | None = 0,
    *,
    arithmetic: str = "float",
    prime: int | None = None,
    max_bytes: int | None = None,
) -> np.ndarray:
    """The dense grid tensor ``A^output`` of any decomposition.

    Parameters
    ----------
    decomposition : TreeDecomposition, MixedDecomposition or HierarchicalTensor
    output : int or None, default 0
        Which output; ``None`` stacks all outputs along a new first axis.
    arithmetic : {"float", "exact", "modular"}
        See the module docstring.
    prime : int, optional
        The prime for ``arithmetic="modular"``.
    max_bytes : int, optional
        Refuse (before allocating) a result larger than this; default: the library
        limit (:func:`mtd.get_memory_limit`).

    Returns
    -------
    ndarray of shape ``(M,) * N`` (or ``(n_outputs,) + (M,) * N``)
        ``float64``; for exact arithmetic ``int64`` or ``object``; ``int64`` residues
        for modular.

    Raises
    ------
    TensorTooLargeError
        If the tensor (or an intermediate) exceeds the memory limit.

    Examples
    --------
    >>> d = mtd.decompositions.TreeDecomposition.random(
    ...     mtd.ModeTree.star(3), M=2, r=1, kind="integer", seed=0)
    >>> from mtd.decompositions import decomposition_to_tensor
    >>> decomposition_to_tensor(d, arithmetic="exact").shape
    (2, 2, 2)
    """
    return dense_tensor(
        get_plan(decomposition), output, arithmetic=arithmetic, prime=prime, max_bytes=max_bytes
    )


def _as_batch(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise InvalidArgumentTypeError(
            f"{name} must be a real numeric array; got dtype {arr.dtype}"
        )
    return arr


def contract_leaf_vectors(
    decomposition: Any,
    vectors: Any,
    *,
    output: int | None = 0,
    arithmetic: str = "float",
    prime: int | None = None,
) -> np.ndarray:
    """Contract the grid tensor with one vector per mode, for a batch: ``Σ_d A[d] Π_j u_j[d_j]``.

    Never forms the ``M^N`` tensor: leaf ``j`` contributes ``V^T u_j`` and every node
    combines its children's weighted sums (``g`` = product only).

    Parameters
    ----------
    decomposition : TreeDecomposition, MixedDecomposition or HierarchicalTensor
    vectors : (B, N, M) or (N, M) array_like, or a sequence of N arrays (B, M_j) / (M_j,)
        ``vectors[b, j]`` is the vector ``u_j`` of set ``b``.
    output : int or None, default 0
        Which output (``None``: all, as the last axis).
    arithmetic, prime
        As in :func:`decomposition_to_tensor`; exact and modular need integer vectors.

    Returns
    -------
    ndarray of shape ``(B,)`` (or ``()`` for a single set; ``(…, n_outputs)`` for ``None``)

    Raises
    ------
    InvalidArgumentError
        If ``g`` is not the product, or the vectors have the wrong shape.

    Examples
    --------
    With one-hot vectors the contraction is an entry of the tensor:

    >>> d = mtd.decompositions.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=3, r=2, seed=0)
    >>> u = np.eye(3)[[0, 2, 1, 1]]
    >>> bool(np.isclose(mtd.decompositions.contract_leaf_vectors(d, u), d.to_tensor()[0, 2, 1, 1]))
    True
    """
    plan = get_plan(decomposition)
    N = plan.n_modes
    arrs = _ragged(vectors, N)
    if arrs is not None:
        single = arrs[0].ndim == 1
        arrs = [a[None] if single else a for a in arrs]
    else:
        arr = _as_batch(vectors, "vectors")
        single = arr.ndim == 2
        if single:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape[1] != N:
            raise InvalidArgumentError(
                f"vectors must have shape (B, {N}, M) or ({N}, M) (one vector per mode); got "
                f"{arr.shape}"
            )
        arrs = [arr[:, j] for j in range(N)]
    B = arrs[0].shape[0]
    inputs: dict[int, np.ndarray] = {}
    for _j, (m, a) in enumerate(zip(plan.modes, arrs, strict=False)):
        if a.shape != (B, plan.dims[m]):
            raise InvalidArgumentError(
                f"the vectors of mode {m} must have shape ({B}, {plan.dims[m]}); got {a.shape}"
            )
        inputs[m] = a
    res = evaluate_points(plan, inputs, output, indices=False, arithmetic=arithmetic, prime=prime)
    res = res[:, 0] if output is not None else res
    return res[0] if single else res


def _ragged(vectors: Any, N: int) -> list[np.ndarray] | None:
    """Per-mode arrays when ``vectors`` is a sequence of N arrays of different lengths."""
    if not isinstance(vectors, (list, tuple)) or len(vectors) != N:
        return None
    try:
        arr = np.asarray(vectors)
    except ValueError:
        arr = None
    if arr is not None and arr.dtype != object:
        return None
    arrs = [_as_batch(v, f"vectors[{j}]") for j, v in enumerate(vectors)]
    if len({a.ndim for a in arrs}) != 1 or arrs[0].ndim not in (1, 2):
        raise InvalidArgumentError(
            "vectors given per mode must all be 1-d (one set) or all 2-d (a batch)"
        )
    return arrs


def grid_entries(
    decomposition: Any,
    indices: Any,
    *,
    output: int | None = 0,
    arithmetic: str = "float",
    prime: int | None = None,
) -> np.ndarray:
    """Entries ``A[d_0, …, d_{N-1}]`` of the grid tensor at a batch of index tuples (any ``g``).

    Parameters
    ----------
    decomposition : TreeDecomposition, MixedDecomposition or HierarchicalTensor
    indices : (B, N) or (N,) array_like of int
        Row ``b`` is one index tuple ``(d_0, …, d_{N-1})``.
    output : int or None, default 0
    arithmetic, prime
        As in :func:`decomposition_to_tensor`.

    Returns
    -------
    ndarray of shape ``(B,)`` (or ``()``; ``(…, n_outputs)`` for ``output=None``)

    Examples
    --------
    >>> d = mtd.decompositions.TreeDecomposition.random(
    ...     mtd.ModeTree.baseline(2), M=3, r=2, g="relu", seed=1)
    >>> A = d.to_tensor()
    >>> e = mtd.decompositions.grid_entries(d, [[0, 1, 2, 1], [2, 2, 0, 0]])
    >>> bool(np.allclose(e, [A[0, 1, 2, 1], A[2, 2, 0, 0]]))
    True
    """
    plan = get_plan(decomposition)
    N = plan.n_modes
    arr = np.asarray(indices)
    if arr.dtype.kind not in "iu":
        raise InvalidArgumentTypeError(f"indices must be integers; got dtype {arr.dtype}")
    single = arr.ndim == 1
    if single:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != N:
        raise InvalidArgumentError(
            f"indices must have shape (B, {N}) or ({N},) (one index per mode); got {arr.shape}"
        )
    inputs: dict[int, np.ndarray] = {}
    for j, m in enumerate(plan.modes):
        col = arr[:, j].astype(np.int64)
        if col.size and (col.min() < 0 or col.max() >= plan.dims[m]):
            raise InvalidArgumentError(
                f"indices of mode {m} must be in 0..{plan.dims[m] - 1}; got values "
                f"{int(col.min())}..{int(col.max())}"
            )
        inputs[m] = col
    check_int(len(arr), "batch size", minimum=0)
    res = evaluate_points(plan, inputs, output, indices=True, arithmetic=arithmetic, prime=prime)
    res = res[:, 0] if output is not None else res
    return res[0] if single else res


class PlanEvaluators:
    """Methods shared by every decomposition that compiles to a plan; they only delegate.

    A subclass provides ``plan``; :class:`~mtd.decompositions.TreeDecomposition` and
    :class:`~mtd.decompositions.MixedDecomposition` inherit these.
    """

    __slots__ = ()

    def contract(
        self,
        vectors: Any,
        *,
        output: int | None = 0,
        arithmetic: str = "float",
        prime: int | None = None,
    ) -> np.ndarray:
        """Contract with one vector per mode; see :func:`contract_leaf_vectors`."""
        return contract_leaf_vectors(
            self, vectors, output=output, arithmetic=arithmetic, prime=prime
        )

    def entries(
        self,
        indices: Any,
        *,
        output: int | None = 0,
        arithmetic: str = "float",
        prime: int | None = None,
    ) -> np.ndarray:
        """Grid-tensor entries at index tuples; see :func:`grid_entries`."""
        return grid_entries(self, indices, output=output, arithmetic=arithmetic, prime=prime)

    def n_parameters(self) -> int:
        """The number of weights; see :func:`mtd.decompositions.n_parameters`.

        For a mixed decomposition: the weights of both trees (interconnections add none).
        """
        from .params import n_parameters

        return n_parameters(self)
