"""Hierarchical SVD of a given tensor along a mode tree, and the tree's rank profile.

The hierarchical (Tucker) format along a tree ``T``: every leaf ``j`` has a basis
``U_j`` (``n_j × k_j``), every interior node ``ν`` a dense transfer tensor
``B_ν`` (``k_ν × k_{c_1} × … × k_{c_m}``), the root has ``k = 1``; node ``ν``'s basis
tensors are ``Σ B_ν[γ, α…] ⊗_c (basis of c)_α`` with modes in ascending order.  It
compiles to the same plan as every decomposition (form ``"ht"``).

:func:`hierarchical_svd` is the root-to-leaves HSVD (Grasedyck, *Hierarchical Singular
Value Decomposition of Tensors*, SIAM J. Matrix Anal. Appl. 31, 2010, Alg. 1 /
Thm. 3.11): for every non-root node ``ν``, ``U_ν`` are the leading ``k_ν`` left singular
vectors of ``[[A]]_ν`` (computed from ``A`` itself), and ``B_ν = U_νᵀ (⊗_c U_c)``.  The
result ``Â`` is the orthogonal projection of ``A`` and satisfies ::

    ‖A − Â‖_F ≤ sqrt(Σ_{ν ∈ E} Σ_{i > k_ν} σ_i([[A]]_ν)²)  (= error_bound)
              ≤ sqrt(|E|) · ‖A − A_best‖_F,

where ``E`` is the set of non-root nodes except the second child of a binary root
(whose singular vectors are taken from the same SVD as the first child's, at the same
rank, so the two truncations coincide), and ``A_best`` is a best approximation with
node ranks ``≤ k_ν``.  For a binary tree ``|E| = 2N − 3``.  Every term is at most
``‖A − A_best‖²`` because ``[[A_best]]_ν`` has rank ``≤ k_ν``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._frozen import FrozenMap
from .._validation import _is_int, check_int, check_rtol
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..matricization import matricize
from ..trees import ModeTree
from ._dense import dense_tensor
from ._plan import Plan, leaf_plan_from_tree

__all__ = ["HierarchicalTensor", "hierarchical_svd", "tree_rank_profile"]

Node = frozenset[int]


@dataclass(frozen=True, eq=False)
class HierarchicalTensor:
    """A tensor in the hierarchical format along a tree (dense transfer tensors).

    Attributes
    ----------
    tree : ModeTree
    leaf_bases : Mapping[int, ndarray]
        Mode ``j`` -> ``U_j`` of shape ``(n_j, k_j)``.
    transfer : Mapping[frozenset, ndarray]
        Interior node -> ``B_ν`` of shape ``(k_ν, k_{c_1}, …, k_{c_m})`` (children in order;
        the root has ``k = 1``).
    singular_values : Mapping[frozenset, ndarray]
        The singular values of ``[[A]]_ν`` for every non-root node (HSVD only).
    error_bound : float
        The a-posteriori bound on ``‖A − Â‖_F`` of the module docstring (HSVD only).
    """

    tree: ModeTree
    leaf_bases: Mapping[int, np.ndarray]
    transfer: Mapping[Node, np.ndarray]
    singular_values: Mapping[Node, np.ndarray] = field(default_factory=dict)
    error_bound: float = 0.0
    plan: Plan = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ranks = self.ranks
        plan = leaf_plan_from_tree(
            self.tree,
            {m: (np.asarray(u), None) for m, u in self.leaf_bases.items()},
            {n: (np.asarray(b),) for n, b in self.transfer.items()},
            kind="ht",
            g="product",
            output_matrix=None,
            size_of=ranks.__getitem__,
        )
        object.__setattr__(self, "plan", plan)

    @property
    def ranks(self) -> Mapping[Node, int]:
        """Every node's rank ``k_ν`` (leaves included; the root has 1)."""
        out = {frozenset((m,)): int(u.shape[1]) for m, u in self.leaf_bases.items()}
        out.update({n: int(b.shape[0]) for n, b in self.transfer.items()})
        return FrozenMap(out)

    @property
    def truncation_errors(self) -> Mapping[Node, float]:
        """``sqrt(Σ_{i > k_ν} σ_i²)`` per non-root node: each is ``≤ ‖A − A_best‖_F``."""
        r = self.ranks
        return FrozenMap(
            {n: float(np.sqrt(np.sum(s[r[n] :] ** 2))) for n, s in self.singular_values.items()}
        )

    def to_tensor(self) -> np.ndarray:
        """The represented tensor ``Â`` (dense, ascending-mode layout)."""
        return dense_tensor(self.plan, 0)

    def n_parameters(self) -> int:
        """Entries of the leaf bases and transfer tensors."""
        return sum(int(a.size) for a in self.plan.arrays())

    def __repr__(self) -> str:
        ks = [self.ranks[n] for n in self.tree.nodes if n != self.tree.root]
        return (
            f"<HierarchicalTensor over {self.tree.n_modes} modes, ranks {min(ks)}..{max(ks)}, "
            f"error bound {self.error_bound:.3g}>"
        )


def _rank_cap(max_rank: Any, node: Node) -> int | None:
    if max_rank is None:
        return None
    if _is_int(max_rank):
        return check_int(max_rank, "max_rank", minimum=1)
    if isinstance(max_rank, Mapping):
        val = max_rank.get(node)
        return None if val is None else check_int(val, "max_rank[node]", minimum=1)
    raise InvalidArgumentTypeError(
        f"max_rank must be an int, a mapping node -> int, or None; got {type(max_rank).__name__}"
    )


def _truncation(s: np.ndarray, shape: tuple[int, int], rtol: float | None, cap: int | None) -> int:
    tol = (np.finfo(float).eps * max(shape) if rtol is None else rtol) * (s[0] if s.size else 0)
    k = int(np.sum(s > tol))
    if cap is not None:
        k = min(k, cap)
    return max(k, 1)


def _transfer(
    A: np.ndarray, tree: ModeTree, node: Node, basis: np.ndarray, bases: Mapping[Node, np.ndarray]
) -> np.ndarray:
    """``B[γ, α_1…] = Σ basis[i_ν, γ] Π_c bases[c][i_c, α_c]``, basis over ν's sorted modes."""
    modes = sorted(node)
    kids = tree.children(node)
    k = basis.shape[1]
    T = basis.reshape(*[A.shape[m] for m in modes], k)
    perm = [modes.index(m) for c in kids for m in sorted(c)]
    T = T.transpose(*perm, len(modes))
    T = T.reshape(*[math.prod(A.shape[m] for m in c) for c in kids], k)
    for c in kids:
        # Contract the leading axis (child c, in order) and append its rank axis at the end.
        T = np.tensordot(T, bases[c], axes=([0], [0]))
    # T now has axes (k_ν, k_c1, …, k_cm).
    return np.ascontiguousarray(T)


def hierarchical_svd(
    A: Any, tree: ModeTree, *, rtol: float | None = None, max_rank: Any = None
) -> HierarchicalTensor:
    """Hierarchical SVD (root-to-leaves) of a full tensor along a mode tree.

    Parameters
    ----------
    A : (n_0, …, n_{N-1}) array_like
        The tensor, ``N >= 2``.
    tree : ModeTree
        Over ``N`` modes (any arity).
    rtol : float, optional
        Keep the singular values ``> rtol · σ_max`` of each matricization; default
        ``eps · max(rows, cols)`` (numerical rank, as scipy's ``orth``).
    max_rank : int or mapping node -> int, optional
        Cap on every (or on given) node ranks.

    Returns
    -------
    HierarchicalTensor
        With ``ranks``, ``singular_values`` and ``error_bound`` (module docstring:
        ``‖A − Â‖_F ≤ error_bound ≤ sqrt(2N − 3) · ‖A − A_best‖_F`` for binary trees).

    Examples
    --------
    >>> d = mtd.decompositions.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=3, r=2, seed=0)
    >>> A = d.to_tensor()
    >>> h = mtd.decompositions.hierarchical_svd(A, d.tree)
    >>> h.ranks[frozenset({0, 1, 2, 3})], h.ranks[frozenset({0, 1})]
    (1, 2)
    >>> bool(np.allclose(h.to_tensor(), A))
    True
    """
    if not isinstance(tree, ModeTree):
        raise InvalidArgumentTypeError(f"tree must be a ModeTree; got {type(tree).__name__}")
    rtol = check_rtol(rtol)
    arr = np.asarray(A)
    if arr.dtype.kind not in "iuf":
        raise InvalidArgumentTypeError(f"A must be a real numeric array; got dtype {arr.dtype}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError("A must be finite; got NaN or inf entries")
    if arr.ndim != tree.n_modes or arr.ndim < 2:
        raise InvalidArgumentError(
            f"A must have one axis per mode of the tree ({tree.n_modes}, at least 2); got "
            f"{arr.ndim} axes"
        )
    root = tree.root
    root_kids = tree.children(root)
    bases: dict[Node, np.ndarray] = {}
    svals: dict[Node, np.ndarray] = {}
    discarded: dict[Node, float] = {}
    for node in tree.nodes:
        if node == root or node in bases:
            continue
        X = matricize(arr, sorted(node))
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        k = _truncation(s, X.shape, rtol, _rank_cap(max_rank, node))
        bases[node], svals[node] = U[:, :k], s
        discarded[node] = float(np.sum(s[k:] ** 2))
        if len(root_kids) == 2 and node == root_kids[0]:
            # [[A]]_{c2} is the transpose of [[A]]_{c1}: the same SVD, the same rank.
            other = root_kids[1]
            bases[other], svals[other] = Vt[:k].T, s
    leaf_bases = {m: bases[frozenset((m,))] for m in range(tree.n_modes)}
    transfer: dict[Node, np.ndarray] = {}
    for node in tree.interior_nodes:
        basis = arr.reshape(-1, 1) if node == root else bases[node]
        transfer[node] = _transfer(arr, tree, node, basis, bases)
    bound = float(np.sqrt(sum(discarded.values())))
    return HierarchicalTensor(
        tree,
        FrozenMap(leaf_bases),
        FrozenMap(transfer),
        FrozenMap(svals),
        bound,
    )


def tree_rank_profile(
    A: Any,
    tree: ModeTree,
    *,
    method: str = "numeric",
    rtol: float | None = None,
    prime: int | None = None,
) -> dict[Node, int]:
    """``rank [[A]]_ν`` for every node ``ν`` of the tree (leaves and root included).

    Parameters
    ----------
    A : (n_0, …, n_{N-1}) array_like
    tree : ModeTree
    method : {"numeric", "exact", "modular"}, default "numeric"
        As in :func:`mtd.matricization_rank` (use ``"exact"`` or ``"modular"`` on integer
        tensors for ranks that can be trusted).
    rtol, prime
        Passed on to :func:`mtd.matricization_rank` when given.

    Returns
    -------
    dict
        Node -> rank, in the tree's pre-order.  The root's matricization is one column
        (rank 1, or 0 for the zero tensor).

    Examples
    --------
    >>> d = mtd.decompositions.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2,
    ...                                                 kind="integer", seed=4)
    >>> prof = mtd.decompositions.tree_rank_profile(d.to_tensor(arithmetic="exact"), d.tree,
    ...                                             method="exact")
    >>> [prof[n] for n in d.tree.nodes]
    [1, 1, 2, 2, 1, 2, 2]
    """
    from ..ranks import matricization_rank

    if not isinstance(tree, ModeTree):
        raise InvalidArgumentTypeError(f"tree must be a ModeTree; got {type(tree).__name__}")
    arr = np.asarray(A)
    if arr.ndim != tree.n_modes:
        raise InvalidArgumentError(
            f"A must have one axis per mode of the tree ({tree.n_modes}); got {arr.ndim}"
        )
    kw: dict[str, Any] = {"method": method}
    if rtol is not None:
        kw["rtol"] = rtol
    if prime is not None:
        kw["prime"] = prime
    return {node: int(matricization_rank(arr, sorted(node), **kw)) for node in tree.nodes}
