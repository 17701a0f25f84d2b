"""Independent reference routines for ``mtd verify``: a second route to every expected value.

Nothing here imports mtd's engine (decompositions, plans, evaluators), its ranks,
matricization, bounds, min-cut or certification code: each routine is written from
the theory page alone, as plainly as possible, so that a bug in the code under
test cannot also sit in the value it is compared with.  Trees are taken as nested
tuples (``ModeTree.to_nested()``: an int is a leaf, a tuple an interior node with
its children in order), weights as plain arrays.

* :func:`tree_from_dilations` — follows the output unit of a dilated stack down to
  the inputs (the theory page, §2), independently of ``ModeTree.from_dilations``.
* :func:`tiling`, :func:`theorem7_exponents`, :func:`sibling_pairs` — Θ(I;T) and
  Theorem 7's exponents from the nested form.
* :func:`eq3_tensor`, :func:`eq4_tensor` — the grid tensors of a tree (eq. 3) or
  mixed (eq. 4) decomposition evaluated entry by entry with Python integers over
  all index tuples (memoized per node on the node's own modes).
* :func:`matricize` — ``[[A]]_I`` by explicit index mapping (row = the modes of I in
  ascending order, most significant first); :func:`unfold` via TensorLy when it is
  installed.
* :func:`exact_rank` — the rank over the rationals by python-flint's ``fmpz_mat``.
* :func:`split_windows`, :func:`pooling_upper_bound` — ICLR'17 Theorem 1's ``S``
  (windows split by the partition) and its recursive upper bound.

These routines are slow by design (small N only) and private.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "leaves",
    "walk",
    "tree_from_dilations",
    "tiling",
    "theorem7_exponents",
    "sibling_pairs",
    "eq3_tensor",
    "eq4_tensor",
    "colt_tensor",
    "matricize",
    "unfold",
    "exact_rank",
    "matricization_rank",
    "largest_prime_below",
    "split_windows",
    "pooling_upper_bound",
]


def leaves(nested: Any) -> frozenset[int]:
    """The modes under a nested node."""
    if isinstance(nested, int):
        return frozenset((nested,))
    return frozenset().union(*(leaves(c) for c in nested))


def walk(nested: Any, depth: int = 0) -> list[tuple[Any, int]]:
    """Every node (nested form) with its depth, parents before children."""
    out = [(nested, depth)]
    if not isinstance(nested, int):
        for c in nested:
            out.extend(walk(c, depth + 1))
    return out


def tree_from_dilations(dilations: Sequence[int]) -> Any:
    """The nested tree of a dilated stack: unit (l, τ) has children (l-1, τ-d_l), (l-1, τ)."""
    L = len(dilations)
    N = 2**L

    def unit(layer: int, t: int) -> Any:
        if layer == 0:
            return t
        d = dilations[layer - 1]
        return (unit(layer - 1, t - d), unit(layer - 1, t))

    return unit(L, N - 1)


def tiling(nested: Any, I: Iterable[int]) -> list[frozenset[int]]:
    """Θ(I;T): the maximal nodes contained in I."""
    rows = frozenset(I)
    out: list[frozenset[int]] = []

    def go(node: Any) -> None:
        s = leaves(node)
        if s <= rows:
            out.append(s)
        elif not isinstance(node, int):
            for c in node:
                go(c)

    go(nested)
    return out


def theorem7_exponents(nested: Any, I: Iterable[int]) -> tuple[int, int]:
    """``(p, q)`` of Theorem 7; ``p`` counts split nodes of depth ≥ 1 (k-ary form)."""
    rows = frozenset(I)
    cols = leaves(nested) - rows
    q = min(len(tiling(nested, rows)), len(tiling(nested, cols)))
    p = 0
    for node, depth in walk(nested):
        if isinstance(node, int) or depth < 1:
            continue
        kids = [leaves(c) for c in node]
        if all(k <= rows or k <= cols for k in kids) and any(k <= rows for k in kids):
            p += any(k <= cols for k in kids)
    return p, q


def sibling_pairs(nested: Any, I: Iterable[int]) -> int:
    """The paper's binary count: pairs (ν₁, ν₂) ∈ Θ(I) × Θ(Iᶜ) of siblings of depth > 1."""
    rows = frozenset(I)
    cols = leaves(nested) - rows
    t_in, t_out = set(tiling(nested, rows)), set(tiling(nested, cols))
    count = 0
    for node, depth in walk(nested):
        if isinstance(node, int) or depth + 1 <= 1:
            continue
        kids = [leaves(c) for c in node]
        count += sum(1 for a, b in itertools.permutations(kids, 2) if a in t_in and b in t_out)
    return count


class _Tree:
    """A nested tree compiled once, nodes bottom-up.

    Each node has its sorted modes and, per child, a getter of the child's modes'
    digits out of the node's (or ``None`` and the position for a leaf child).
    """

    def __init__(self, nested: Any):
        self.order: list[tuple[frozenset[int], tuple[int, ...], list[Any]]] = []
        self.by_set: dict[frozenset[int], Any] = {}
        self._compile(nested)
        self.root = leaves(nested)

    def _compile(self, node: Any) -> frozenset[int]:
        if isinstance(node, int):
            return frozenset((node,))
        kids = [self._compile(c) for c in node]
        s = frozenset().union(*kids)
        modes = tuple(sorted(s))
        getters = [
            (None, modes.index(next(iter(k))))
            if len(k) == 1
            else (k, operator.itemgetter(*(modes.index(m) for m in sorted(k))))
            for k in kids
        ]
        self.order.append((s, modes, getters))
        return s


def _product_of_sums(mats: list[Any], kids: list[list[int]]) -> list[int]:
    """``[Π_c Σ_α W_c[γ][α] φ_c[α] for γ]``: one eq. 3 node, Python ints throughout."""
    out = []
    for gamma in range(len(mats[0])):
        prod = 1
        for W, phi in zip(mats, kids, strict=True):
            prod *= sum(map(operator.mul, W[gamma], phi))
        out.append(prod)
    return out


def _as_lists(weights: Mapping[frozenset[int], Sequence[Any]]) -> dict[frozenset[int], list[Any]]:
    return {frozenset(k): [np.asarray(W).tolist() for W in v] for k, v in weights.items()}


def _to_array(table: dict[tuple[int, ...], list[int]], N: int, M: int, output: int) -> np.ndarray:
    A = np.empty((M,) * N, dtype=object)
    for d, vals in table.items():
        A[d] = vals[output]
    return A


def eq3_tensor(
    nested: Any, V: Any, weights: Mapping[frozenset[int], Sequence[Any]], *, output: int = 0
) -> np.ndarray:
    """The eq. 3 grid tensor ``A^output`` (object array of Python ints), entry by entry.

    ``weights[node]`` is the list of the node's per-child ``(r_ν, r_c)`` integer
    matrices, in child order; ``V`` the ``M × r`` discretizers.  Every node's values
    are tabulated for every assignment of its own modes, children first.
    """
    Vl = np.asarray(V).tolist()
    tree = _Tree(nested)
    W = _as_lists(weights)
    tables: dict[frozenset[int], dict[tuple[int, ...], list[int]]] = {}
    for s, modes, kids in tree.order:
        table: dict[tuple[int, ...], list[int]] = {}
        for d in itertools.product(range(len(Vl)), repeat=len(modes)):
            vals = [Vl[d[get]] if c is None else tables[c][get(d)] for c, get in kids]
            table[d] = _product_of_sums(W[s], vals)
        tables[s] = table
    return _to_array(tables[tree.root], len(tree.root), len(Vl), output)


def eq4_tensor(
    nested: Any,
    nested_bar: Any,
    mixture_nodes: Iterable[Iterable[int]],
    V: Any,
    weights: Mapping[frozenset[int], Sequence[Any]],
    weights_bar: Mapping[frozenset[int], Sequence[Any]],
    *,
    output: int = 0,
) -> np.ndarray:
    """The eq. 4 grid tensor: two eq. 3 trees, first r/2 channels swapped at mixture nodes.

    ``φ^{μ,γ} ↔ φ̄^{μ,γ}`` for ``γ < r/2`` at every mixture node ``μ``; the output is
    ``φ^{root,y} + φ̄^{root,y}``.  Both trees are tabulated level by level (by node
    size, so every child is done before its parent in either tree); a mixture node's
    table is swapped as soon as both trees have it.
    """
    mix = {frozenset(m) for m in mixture_nodes}
    Vl = np.asarray(V).tolist()
    M = len(Vl)
    trees = (_Tree(nested), _Tree(nested_bar))
    W = (_as_lists(weights), _as_lists(weights_bar))
    tables: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})
    steps = sorted(
        (
            (len(s), which, s, modes, kids)
            for which in (0, 1)
            for s, modes, kids in trees[which].order
        ),
        key=lambda t: (t[0], t[1]),
    )
    for _, which, s, modes, kids in steps:
        table = {}
        for d in itertools.product(range(M), repeat=len(modes)):
            vals = [Vl[d[get]] if c is None else tables[which][c][get(d)] for c, get in kids]
            table[d] = _product_of_sums(W[which][s], vals)
        tables[which][s] = table
        if s in mix and s in tables[1 - which]:
            mine, other = tables[which][s], tables[1 - which][s]
            for d in mine:
                half = len(mine[d]) // 2
                mine[d], other[d] = (
                    other[d][:half] + mine[d][half:],
                    mine[d][:half] + other[d][half:],
                )
    root = trees[0].root
    N = len(root)
    A = np.empty((M,) * N, dtype=object)
    for d, vals in tables[0][root].items():
        A[d] = vals[output] + tables[1][root][d][output]
    return A


def colt_tensor(
    nested: Any,
    V: Any,
    weights: Mapping[frozenset[int], Any],
    leaf_weights: Mapping[int, Any],
    *,
    output: int = 0,
) -> np.ndarray:
    """The COLT-form grid tensor (a *sum of products*, the pooling ConvAC), entry by entry.

    Leaves ``φ^{j} = L_j v⁽ᵈʲ⁾`` (``L_j`` = ``leaf_weights[j]``, or the identity when
    ``None``); a node ``φ^{ν,γ} = Σ_α a^ν[γ, α] Π_c φ^{c,α}`` with ``a^ν = weights[ν]``
    (one matrix); the root's ``a`` is the dense output layer.
    """
    Vl = np.asarray(V).tolist()
    M = len(Vl)
    tree = _Tree(nested)
    leaf = {j: (np.asarray(w).tolist() if w is not None else None) for j, w in leaf_weights.items()}

    def leaf_value(j: int, d: int) -> list[int]:
        v, L = Vl[d], leaf[j]
        return list(v) if L is None else [sum(map(operator.mul, row, v)) for row in L]

    tables: dict[frozenset[int], dict[tuple[int, ...], list[int]]] = {}
    for s, modes, kids in tree.order:
        a = np.asarray(weights[s][0] if isinstance(weights[s], tuple) else weights[s]).tolist()
        table: dict[tuple[int, ...], list[int]] = {}
        for d in itertools.product(range(M), repeat=len(modes)):
            vals = [
                leaf_value(modes[get], d[get]) if c is None else tables[c][get(d)]
                for c, get in kids
            ]
            prods = [1] * len(vals[0])
            for phi in vals:
                prods = [x * y for x, y in zip(prods, phi, strict=True)]
            table[d] = [sum(map(operator.mul, row, prods)) for row in a]
        tables[s] = table
    return _to_array(tables[tree.root], len(tree.root), M, output)


def matricize(A: Any, I: Iterable[int]) -> np.ndarray:
    """``[[A]]_I`` by explicit index mapping (the theory page, §1 convention)."""
    A = np.asarray(A)
    rows = sorted(set(I))
    cols = [m for m in range(A.ndim) if m not in rows]

    def flat(idx: tuple[int, ...], modes: list[int]) -> int:
        k = 0
        for m in modes:  # the smallest mode is the most significant digit
            k = k * A.shape[m] + idx[m]
        return k

    n_rows = int(np.prod([A.shape[m] for m in rows], dtype=object))
    n_cols = int(np.prod([A.shape[m] for m in cols], dtype=object))
    X = np.empty((n_rows, n_cols), dtype=A.dtype)
    for idx in itertools.product(*(range(n) for n in A.shape)):
        X[flat(idx, rows), flat(idx, cols)] = A[idx]
    return X


def unfold(A: Any, mode: int) -> np.ndarray | None:
    """TensorLy's mode-``mode`` unfolding, or ``None`` when TensorLy is not installed."""
    try:
        import tensorly as tl
    except ImportError:
        return None
    return np.asarray(tl.unfold(tl.tensor(np.asarray(A)), mode))


def exact_rank(X: Any) -> int:
    """The rank over the rationals of an integer matrix, by python-flint's ``fmpz_mat``."""
    import flint

    X = np.asarray(X)
    if X.size == 0:
        return 0
    if X.dtype.kind not in "iuO":
        raise TypeError(f"exact_rank needs an integer matrix; got dtype {X.dtype}")
    return int(flint.fmpz_mat(X.tolist()).rank())  # tolist() gives Python ints


def largest_prime_below(n: int) -> int:
    """The largest prime ``< n`` (python-flint's primality test), for ``n > 2``."""
    import flint

    n -= 1
    while not flint.fmpz(n).is_prime():
        n -= 1
    return n


def split_windows(nested: Any, I: Iterable[int], *, height: int = 1) -> int:
    """ICLR'17's ``S``: the pooling windows of the given height that I splits."""
    rows = frozenset(I)
    count = 0

    def go(node: Any) -> int:  # returns the node's height
        nonlocal count
        if isinstance(node, int):
            return 0
        h = 1 + max(go(c) for c in node)
        if h == height:
            s = leaves(node)
            count += bool(s & rows) and not s <= rows
        return h

    go(nested)
    return count


def pooling_upper_bound(nested: Any, I: Iterable[int], *, channels: Sequence[int], M: int) -> int:
    """The recursive upper bound of a COLT-form pooling ConvAC (ICLR'17 Thm. 1's form).

    Every leaf at depth ``L``; a window at height ``h`` sums ``channels[h-1]`` products
    of its children's channels.  For a node ``ν`` cut by ``I``, each of its channels
    has rank at most ``R(ν) = min(M^min(|I∩ν|, |Iᶜ∩ν|), r_{h-1} · Π_c R(c))`` with
    ``R = 1`` for uncut nodes; the dense output at the root is another such sum.
    """
    rows = frozenset(I)

    def go(node: Any) -> tuple[int, int]:  # (bound, height)
        if isinstance(node, int):
            return 1, 0
        parts = [go(c) for c in node]
        h = 1 + max(p[1] for p in parts)
        s = leaves(node)
        a, b = len(s & rows), len(s - rows)
        if a == 0 or b == 0:
            return 1, h
        prod = 1
        for p in parts:
            prod *= p[0]
        return min(M ** min(a, b), channels[h - 1] * prod), h

    return go(nested)[0]


def matricization_rank(A: Any, I: Iterable[int]) -> int:
    """Exact rank of ``[[A]]_I``: the theory page's one-line numpy form, then python-flint."""
    A = np.asarray(A)
    rows = sorted(set(I))
    cols = [m for m in range(A.ndim) if m not in rows]
    n_rows = int(np.prod([A.shape[m] for m in rows], dtype=np.int64))
    return exact_rank(A.transpose(rows + cols).reshape(n_rows, -1))
