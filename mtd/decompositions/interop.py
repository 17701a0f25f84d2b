"""Conversions to and from TensorLy's CP and tensor-train formats.

* The **star tree** in the COLT form is the CP decomposition (the shallow network):
  ``A^y = Σ_α λ_α u_α^{(0)} ⊗ … ⊗ u_α^{(N-1)}`` with ``λ = a^{root}[y]`` (through the
  dense output layer if any) and factor ``U_j = V L_jᵀ`` (``M × R``, the leaf's
  channels).  On the star tree in eq. 3 form each output is rank one (rank ``r_root``
  with a dense output layer).
* The **linear tree** ``((((0,1),2),3)…)`` is a tensor train: its left-to-right node
  ``{0..m}`` holds ``r_m`` tensors, and each node's weights give one core.
  :func:`from_tensorly_tt` returns the dense-transfer form (``"ht"``), which represents
  every TT exactly: ``B^{m}[γ, α, i] = G_m[α, i, γ]``.

Both directions use discretizers ``V = I_M``, so the grid tensor *is* the TensorLy
tensor.  TensorLy is imported only inside these functions; it is an optional dependency
(``pip install "mtd[interop]"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._optional import import_optional
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree
from ._plan import check_output
from .tree import TreeDecomposition

__all__ = ["from_tensorly_cp", "from_tensorly_tt", "to_tensorly_cp", "to_tensorly_tt"]


def _leaf_factor(d: TreeDecomposition, m: int) -> np.ndarray:
    V = np.asarray(d.discretizers, dtype=float)
    L = d.leaf_weights[m]
    return V if L is None else V @ np.asarray(L, dtype=float).T


def _check_tree_decomposition(d: Any) -> TreeDecomposition:
    if not isinstance(d, TreeDecomposition):
        raise InvalidArgumentTypeError(
            f"decomposition must be a TreeDecomposition; got {type(d).__name__}"
        )
    if d.g != "product":
        raise InvalidArgumentError(f"only g = 'product' is multilinear; got g = {d.g!r}")
    return d


def to_tensorly_cp(decomposition: TreeDecomposition, output: int = 0) -> Any:
    """The CP tensor (TensorLy ``CPTensor``) of output ``output`` of a star-tree decomposition.

    Parameters
    ----------
    decomposition : TreeDecomposition
        On :meth:`ModeTree.star`, form ``"colt"`` (CP of rank ``r``) or ``"eq3"``.
    output : int, default 0

    Returns
    -------
    tensorly.cp_tensor.CPTensor
        ``(weights, factors)`` with ``factors[j]`` of shape ``(M, R)``.

    Examples
    --------
    >>> import tensorly as tl
    >>> d = mtd.decompositions.TreeDecomposition.random(
    ...     mtd.ModeTree.star(3), M=4, r=2, form="colt", seed=0)
    >>> cp = mtd.decompositions.to_tensorly_cp(d)
    >>> bool(np.allclose(tl.cp_to_tensor(cp), d.to_tensor()))
    True
    """
    CPTensor = import_optional("tensorly.cp_tensor", purpose="to_tensorly_cp").CPTensor

    d = _check_tree_decomposition(decomposition)
    (y,) = check_output(output, d.n_outputs)
    tree = d.tree
    if tree.n_modes < 2 or tree != ModeTree.star(tree.n_modes):
        raise InvalidArgumentError("to_tensorly_cp needs a decomposition on the star tree")
    root = tree.root
    O = None if d.outputs is None else np.asarray(d.outputs, dtype=float)
    U = [_leaf_factor(d, m) for m in range(tree.n_modes)]
    if d.form == "colt":
        a = np.asarray(d.weights[root][0], dtype=float)
        lam = a[y] if O is None else O[y] @ a
        factors = U
    elif d.form == "eq3":
        W = [np.asarray(w, dtype=float) for w in d.weights[root]]
        rows = [y] if O is None else list(range(W[0].shape[0]))
        lam = np.ones(1) if O is None else O[y].astype(float)
        factors = [U[m] @ W[m][rows].T for m in range(tree.n_modes)]
    else:
        raise InvalidArgumentError("to_tensorly_cp supports the forms 'colt' and 'eq3'")
    return CPTensor((np.asarray(lam, dtype=float), [np.ascontiguousarray(f) for f in factors]))


def from_tensorly_cp(cp: Any) -> TreeDecomposition:
    """The star-tree COLT decomposition of a CP tensor: leaves hold the factors, the root λ.

    Parameters
    ----------
    cp : tensorly CPTensor or (weights, factors)
        ``factors[j]`` of shape ``(M, R)``, the same ``M`` for every mode, ``N >= 2``;
        ``weights`` of length ``R`` (``None`` for ones).

    Returns
    -------
    TreeDecomposition
        Form ``"colt"`` on ``ModeTree.star(N)``, discretizers ``I_M``, leaf weights
        ``factors[j]ᵀ``, root weights ``weights`` (one output).  Integer factors stay
        integer.

    Examples
    --------
    >>> import tensorly as tl
    >>> factors = [np.arange(6.0).reshape(3, 2) + j for j in range(3)]
    >>> d = mtd.decompositions.from_tensorly_cp((np.array([1.0, -2.0]), factors))
    >>> bool(np.allclose(d.to_tensor(), tl.cp_to_tensor((np.array([1.0, -2.0]), factors))))
    True
    """
    weights, factors = _unpack_cp(cp)
    N = len(factors)
    M, R = factors[0].shape
    ints = all(f.dtype.kind in "iu" for f in factors) and weights.dtype.kind in "iu"
    eye = np.eye(M, dtype=np.int64 if ints else float)
    tree = ModeTree.star(N)
    return TreeDecomposition(
        tree,
        eye,
        {tree.root: weights[None, :]},
        form="colt",
        leaf_weights={m: factors[m].T for m in range(N)},
    )


def _unpack_cp(cp: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    try:
        weights, factors = cp
    except (TypeError, ValueError):
        raise InvalidArgumentTypeError(
            "cp must be a CPTensor or a (weights, factors) pair"
        ) from None
    factors = [np.asarray(f) for f in factors]
    if len(factors) < 2 or any(f.ndim != 2 for f in factors):
        raise InvalidArgumentError("a CP tensor needs N >= 2 factor matrices of shape (M, R)")
    shapes = {f.shape for f in factors}
    if len(shapes) != 1:
        raise InvalidArgumentError(
            f"every factor must have the same shape (M, R) (grid tensors have one dimension M); "
            f"got {sorted(shapes)}"
        )
    R = factors[0].shape[1]
    w = np.ones(R, dtype=np.int64) if weights is None else np.asarray(weights)
    if w.shape != (R,):
        raise InvalidArgumentError(f"CP weights must have shape ({R},); got {w.shape}")
    return w, factors


def to_tensorly_tt(decomposition: TreeDecomposition, output: int = 0) -> Any:
    """The tensor train (TensorLy ``TTTensor``) of output ``output`` of a linear-tree decomposition.

    Parameters
    ----------
    decomposition : TreeDecomposition
        On :meth:`ModeTree.linear` (any form, ``g`` = product).
    output : int, default 0

    Returns
    -------
    tensorly.tt_tensor.TTTensor
        Cores ``G_m`` of shapes ``(R_m, M, R_{m+1})`` with ``R_0 = R_N = 1``.

    Examples
    --------
    >>> import tensorly as tl
    >>> d = mtd.decompositions.TreeDecomposition.random(mtd.ModeTree.linear(4), M=3, r=2, seed=0)
    >>> tt = mtd.decompositions.to_tensorly_tt(d)
    >>> [c.shape for c in tt]
    [(1, 3, 2), (2, 3, 2), (2, 3, 2), (2, 3, 1)]
    >>> bool(np.allclose(tl.tt_to_tensor(tt), d.to_tensor()))
    True
    """
    TTTensor = import_optional("tensorly.tt_tensor", purpose="to_tensorly_tt").TTTensor

    d = _check_tree_decomposition(decomposition)
    (y,) = check_output(output, d.n_outputs)
    tree = d.tree
    N = tree.n_modes
    if N < 2 or tree != ModeTree.linear(N):
        raise InvalidArgumentError("to_tensorly_tt needs a decomposition on the linear tree")
    cores = [_leaf_factor(d, 0)[None]]
    for m in range(1, N):
        node = frozenset(range(m + 1))
        u = _leaf_factor(d, m)  # (M, r_leaf)
        w = [np.asarray(a, dtype=float) for a in d.weights[node]]
        if d.form == "eq3":
            core = np.einsum("ga,ig->aig", w[0], u @ w[1].T)
        elif d.form == "colt":
            core = np.einsum("ga,ia->aig", w[0], u)
        else:
            core = np.einsum("gab,ib->aig", w[0], u)
        if m == N - 1:
            O = d.outputs
            core = core[:, :, [y]] if O is None else core @ np.asarray(O, dtype=float)[y][:, None]
        cores.append(np.ascontiguousarray(core))
    return TTTensor(cores)


def from_tensorly_tt(tt: Any) -> TreeDecomposition:
    """The linear-tree decomposition (dense transfer form) of a tensor train.

    Parameters
    ----------
    tt : tensorly TTTensor or sequence of cores
        Cores of shapes ``(R_m, M, R_{m+1})``, ``R_0 = R_N = 1``, ``N >= 2``, one ``M``.

    Returns
    -------
    TreeDecomposition
        Form ``"ht"`` on ``ModeTree.linear(N)``, discretizers ``I_M``, leaf 0 weighted by
        the first core, node ``{0..m}`` with transfer tensor ``B[γ, α, i] = G_m[α, i, γ]``.

    Examples
    --------
    >>> import tensorly as tl
    >>> rng = np.random.default_rng(0)
    >>> cores = [rng.standard_normal(s) for s in [(1, 2, 3), (3, 2, 2), (2, 2, 1)]]
    >>> d = mtd.decompositions.from_tensorly_tt(cores)
    >>> bool(np.allclose(d.to_tensor(), tl.tt_to_tensor(cores)))
    True
    """
    try:
        cores = [np.asarray(c) for c in tt]
    except TypeError:
        raise InvalidArgumentTypeError("tt must be a TTTensor or a sequence of cores") from None
    N = len(cores)
    if N < 2 or any(c.ndim != 3 for c in cores):
        raise InvalidArgumentError("a tensor train needs N >= 2 cores of shape (R_m, M, R_m+1)")
    M = cores[0].shape[1]
    for m, c in enumerate(cores):
        prev = 1 if m == 0 else cores[m - 1].shape[2]
        last = c.shape[2] if m < N - 1 else 1
        if c.shape[1] != M or c.shape[0] != prev or c.shape[2] != last:
            raise InvalidArgumentError(
                f"core {m} must have shape ({prev}, {M}, R) (and R = 1 for the last); got {c.shape}"
            )
    ints = all(c.dtype.kind in "iu" for c in cores)
    eye = np.eye(M, dtype=np.int64 if ints else float)
    tree = ModeTree.linear(N)
    weights = {frozenset(range(m + 1)): cores[m].transpose(2, 0, 1) for m in range(1, N)}
    return TreeDecomposition(tree, eye, weights, form="ht", leaf_weights={0: cores[0][0].T})
