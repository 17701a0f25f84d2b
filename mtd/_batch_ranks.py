"""Private: lower bounds on the ranks of many matricizations of one tensor modulo a prime, batched.

A rank profile needs ``rank [[A]]_I`` for thousands of index sets ``I`` of *one*
random integer instance ``A`` (weights uniform residues modulo ``p``).  Materialized
once (``M^N`` entries), every ``[[A]]_I`` is a transpose of the same array, and the
ranks are taken together, in batches of equal shape, with float64 BLAS products:

1. ``M = [[A]]_I`` with its smaller side as rows (``m <= n``; transposing keeps the
   rank), entries balanced residues ``|a| <= p/2`` of the prime
   :data:`BATCH_PRIME` ``< 2**21``;
2. ``X = M Q`` for a random integer ``n × k`` matrix ``Q`` with ``k = min(cap, m)``
   (``cap`` a proven upper bound on the rank: the result can never exceed it) and
   entries in ``[-2**s, 2**s]``, ``s`` chosen so that ``n (p/2 + 1) 2**s < 2**52``:
   the product is exact in float64, then reduced modulo ``p``.  A square ``M`` whose
   cap is its side is first eliminated as it is (full rank needs no mixing);
3. recursive Gaussian elimination of every ``X`` of a batch at once, with row
   pivoting (:func:`leading_rank`; every Schur update and triangular solve is one
   batched product, exact because operands are reduced and inner dimensions stay
   below ``2**11``), the count stopping at the first column without a pivot.

**The bound is proven, whatever the draws**: if the first ``c`` columns of ``X`` all
got pivots, they are independent modulo ``p``, so

    c <= rank_p(M Q) <= rank_p(M) <= rank_Q(M) <= the generic rank,

the last step because ``A`` is one point of the architecture (an integer instance)
and the generic rank is the maximum over all points.

**Only reaching the rank is random.**  If ``rank_p(M) = r``, the first ``r`` columns
of ``M Q`` are independent unless an ``r × r`` minor of ``M Q[:, :r]`` — a non-zero
polynomial of degree ``r`` in the entries of ``Q`` (Cauchy–Binet) — vanishes: by the
Schwartz–Zippel lemma with ``Q`` drawn from ``2**(s+1) + 1`` values, with probability
at most ``r / (2**(s+1) + 1)`` (``s >= 14`` for ``n <= 2**17``).  And ``rank_p(M)``
reaches the generic rank ``R`` unless an ``R × R`` minor of degree ``R δ`` in the
weights vanishes at the draw: probability at most ``R δ / p``
(:func:`mtd._probes.entry_degree`; a bound, loose in practice).  The caller re-draws
for the sets whose bound stays below their upper bound.

The sweep task of :func:`mtd.rank_profile`'s batched path (:func:`profile_chunk`) lives
here too: it draws the instance once per process and pairs these bounds with the
structural upper bounds of :func:`mtd.generic_rank`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .decompositions._plan import Plan

__all__: list[str] = []

BATCH_PRIME = 2097143
"""The largest prime below ``2**21``: balanced residues are at most ``2**20``, so a product
of two is at most ``2**40`` and an inner dimension up to ``2**12`` stays exact in float64."""

_BASE = 8
"""Columns eliminated one at a time; wider ranges are split in two (recursive LU)."""

BATCH_MAX_ENTRIES = 2**18
"""The batched path materializes at most this many entries (``M^N``); beyond, a
matricization's rank costs more than probing it."""

BATCH_DRAWS = 3
"""Independent instances the batched path draws at most, each only for the sets whose
lower bound is still below the upper bound."""

_WORK_BYTES = 24 * 2**20
"""Float64 working memory per batch (the stacked matricizations, then the matrices)."""


def balanced(A: np.ndarray, p: int) -> np.ndarray:
    """Float64 balanced residues (``|x| <= p/2``) of an integer array."""
    X = np.mod(A, p).astype(np.float64)
    X[X > p // 2] -= p
    return X


def _reduce(X: np.ndarray, p: int) -> np.ndarray:
    """Balanced residues of an exact-integer float64 array, in place (``|X| < 2**53``)."""
    Q = X * (1.0 / p)
    np.rint(Q, out=Q)
    Q *= p
    X -= Q
    return X


def _inverse(x: np.ndarray, p: int) -> np.ndarray:
    """Balanced inverses modulo ``p`` of a vector of residues (0 maps to 0)."""
    values = (x.astype(np.int64) % p).tolist()
    res = np.array([pow(v, -1, p) if v else 0 for v in values], dtype=float)
    res[res > p // 2] -= p
    return res


class _Elimination:
    """Recursive LU with row pivoting of a batch stored by columns (:func:`leading_rank`).

    Delayed reduction: an entry is reduced when it is read as an operand, not after
    every update.  Operands are balanced (``|x| <= 2**20``, products ``<= 2**40``); an
    entry takes Schur updates from at most one split per recursion level, with inner
    dimensions summing to less than ``k <= 2**11``, plus ``_BASE`` single products:
    it stays below ``2**52`` between reductions, so every float64 operation is exact.
    """

    def __init__(self, C: np.ndarray, p: int):
        self.C, self.p = C, p
        B, k, _ = C.shape
        self.rank = np.full(B, k, dtype=np.int64)
        self.alive = np.ones(B, dtype=bool)
        self.every = np.arange(B)

    def factor(self, j0: int, j1: int) -> None:
        """Eliminate columns ``j0..j1-1`` (already updated by every earlier pivot)."""
        C = self.C
        if j1 - j0 <= _BASE:
            _reduce(C[:, j0:j1, j0:], self.p)
            for i in range(j0, j1):
                self.pivot(i, j1)
            return
        mid = (j0 + j1) // 2
        self.factor(j0, mid)
        self.solve(j0, mid, mid, j1)
        # Schur complement: X[mid:, mid:j1] -= X[mid:, j0:mid] X[j0:mid, mid:j1]; both
        # operands are reduced (multipliers and the solve's output), the result is not
        C[:, mid:j1, mid:] -= C[:, mid:j1, j0:mid] @ C[:, j0:mid, mid:]
        self.factor(mid, j1)

    def pivot(self, i: int, j1: int) -> None:
        """Column ``i``: find a pivot, swap it to row ``i``, update columns ``i+1..j1-1``."""
        C, p = self.C, self.p
        nz = _reduce(C[:, i, i:], p) != 0
        has = nz.any(axis=1)
        self.rank[self.alive & ~has] = i
        self.alive &= has
        pr = i + nz.argmax(axis=1)
        swap = self.every[pr != i]
        if swap.size:  # exchange rows i and pr: entries of every column
            top = C[swap, :, i].copy()
            C[swap, :, i] = C[swap, :, pr[swap]]
            C[swap, :, pr[swap]] = top
        inv = _inverse(C[:, i, i], p)  # a dead matrix has pivot 0: inverse 0, no change
        low = C[:, i, i + 1 :]
        low *= inv[:, None]
        _reduce(low, p)
        if i + 1 < j1:
            u = _reduce(C[:, i + 1 : j1, i], p)
            C[:, i + 1 : j1, i + 1 :] -= u[:, :, None] * low[:, None, :]

    def solve(self, a: int, b: int, c0: int, c1: int) -> None:
        """``X[a:b, c0:c1] <- L^{-1} X[a:b, c0:c1]``, ``L`` the unit lower part of ``X[a:b, a:b]``.

        Every row is reduced once it is final (the products it then enters need it).
        """
        C, p = self.C, self.p
        if b - a <= _BASE:
            for i in range(a, b - 1):
                u = _reduce(C[:, c0:c1, i], p)
                C[:, c0:c1, i + 1 : b] -= u[:, :, None] * C[:, i, None, i + 1 : b]
            _reduce(C[:, c0:c1, b - 1], p)
            return
        h = (a + b) // 2
        self.solve(a, h, c0, c1)
        C[:, c0:c1, h:b] -= C[:, c0:c1, a:h] @ C[:, a:h, h:b]
        self.solve(h, b, c0, c1)


def leading_rank(C: np.ndarray, p: int) -> np.ndarray:
    """How many leading columns of each matrix get a pivot: a proven lower bound on its rank.

    ``C`` is a ``(B, k, m)`` float64 array of balanced residues modulo ``p`` (at most
    :data:`BATCH_PRIME`) holding ``B`` matrices *by columns*: ``C[b, c]`` is column ``c``
    of the ``m × k`` matrix ``b`` (``k <= m``).  Overwritten.  Recursive Gaussian
    elimination with row pivoting (every product is one batched BLAS call, exact since
    inner dimensions stay below ``2**12``); the count of matrix ``b`` stops at its first
    column with no non-zero entry left on or below the diagonal.  The first ``c``
    columns then have independent pivots modulo ``p``.
    """
    assert C.shape[1] <= 2**11 and p <= BATCH_PRIME, "exactness needs k <= 2**11"
    run = _Elimination(C, p)
    run.factor(0, C.shape[1])
    return run.rank


def _scale_bits(n: int, p: int) -> int:
    """``s`` with ``n (p/2 + 1) 2**s < 2**52``: ``M Q`` is exact in float64."""
    return 52 - math.ceil(math.log2(max(n, 1))) - math.ceil(math.log2(p // 2 + 1)) - 1


def random_compressor(n: int, k: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``n × k`` integer matrix (float64) with entries in ``[-2**s, 2**s]``."""
    s = _scale_bits(n, p)
    assert s >= 8, f"inner dimension {n} too large for exact products"
    return rng.integers(-(2**s), 2**s + 1, size=(n, k)).astype(np.float64)


def shape_of(dims: Sequence[int], rows: Sequence[int]) -> tuple[int, int, bool]:
    """``(m, n, transposed)``: the matricization's sides with the smaller one first."""
    inside = math.prod(dims[j] for j in rows)
    outside = math.prod(dims) // inside
    return (inside, outside, False) if inside <= outside else (outside, inside, True)


def _columns(A: np.ndarray, sets: Sequence[tuple[int, ...]], m: int, n: int) -> np.ndarray:
    """``(B, n, m)``: the transposes of the matricizations, smaller side as rows."""
    N = A.ndim
    out = np.empty((len(sets), n, m))
    for b, I in enumerate(sets):
        rest = [j for j in range(N) if j not in set(I)]
        order = [*I, *rest] if shape_of(A.shape, I)[2] else [*rest, *I]
        out[b] = A.transpose(order).reshape(n, m)
    return out


def lower_bounds(
    A: np.ndarray,
    sets: Sequence[tuple[int, ...]],
    caps: Sequence[int],
    p: int,
    compressors: dict[tuple[int, int], np.ndarray],
    seed: Sequence[int],
) -> list[int]:
    """Proven lower bounds on ``rank_p [[A]]_I`` for every ``I`` (module docstring).

    ``A`` holds balanced residues modulo ``p`` as float64; ``caps[i]`` is a proven upper
    bound on the rank of set ``i`` (the columns kept).  A square matricization whose
    cap is its side is first eliminated as it is (full rank needs no mixing); the
    others, and those that fall short, are multiplied by a random ``Q`` per
    ``(n, k)``, drawn from ``seed`` and the shape and kept in ``compressors``, so
    that the bounds do not depend on how the sets are split between calls.
    """
    dims = A.shape
    out = [0] * len(sets)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for idx, (I, cap) in enumerate(zip(sets, caps, strict=True)):
        m, n, _ = shape_of(dims, I)
        k = min(int(cap), m)
        if k > 0:
            groups.setdefault((m, n, k), []).append(idx)
    for (m, n, k), members in sorted(groups.items()):
        per = max(1, _WORK_BYTES // (8 * m * n))
        for start in range(0, len(members), per):
            part = members[start : start + per]
            short = part
            if n == k:  # square and full rank expected: try without mixing first
                C = _columns(A, [sets[i] for i in part], m, n)
                got = leading_rank(C, p).tolist()
                short = []
                for idx, r in zip(part, got, strict=True):
                    out[idx] = int(r)
                    if r < k:
                        short.append(idx)
            if short:
                if (n, k) not in compressors:
                    rng = np.random.default_rng([*seed, n, k])
                    compressors[n, k] = random_compressor(n, k, p, rng).T.copy()
                Qt = compressors[n, k]
                cols = _columns(A, [sets[i] for i in short], m, n)
                C = _reduce(np.matmul(Qt, cols), p)
                for idx, r in zip(short, leading_rank(C, p).tolist(), strict=True):
                    out[idx] = max(out[idx], int(r))
    return out


# ------------------------------------------------------------------ rank profiles
_DRAWN: dict[tuple[Any, ...], tuple[np.ndarray, dict[tuple[int, int], np.ndarray]]] = {}
"""Per process: the materialized instances of the batched path (a worker keeps them
between chunks), at most :data:`_KEEP_DRAWN`."""
_KEEP_DRAWN = 4


def _drawn(
    plan: Plan, fp: str, output: int, words: list[int], draw: int
) -> tuple[np.ndarray, dict[tuple[int, int], np.ndarray]]:
    """Instance ``draw`` of the batched path: balanced residues, and its mixing matrices."""
    from ._probes import randomize_plan
    from .decompositions._dense import dense_tensor

    key = (fp, output, tuple(words), draw)
    if key not in _DRAWN:
        if len(_DRAWN) >= _KEEP_DRAWN:
            _DRAWN.pop(next(iter(_DRAWN)))
        p = BATCH_PRIME
        rplan = randomize_plan(plan, np.random.default_rng([*words, draw]), p)
        A = dense_tensor(rplan, output, arithmetic="modular", prime=p)
        _DRAWN[key] = (balanced(A, p), {})
    return _DRAWN[key]


def profile_chunk(
    chunk: list[tuple[str, tuple[int, ...]]], model: Any, output: int, words: list[int]
) -> list[tuple[str, list[int]]]:
    """Sweep task of the batched path: upper bounds per set, lower bounds per instance."""
    from .certify import _pick_upper, upper_bounds
    from .mincut import get_any_plan
    from .profiles import architecture_fingerprint

    plan = get_any_plan(model)
    fp = architecture_fingerprint(plan, output)
    sets = [tuple(I) for _, I in chunk]
    upper = [_pick_upper(upper_bounds(model, plan, frozenset(I), output))[0] for I in sets]
    lower = [0] * len(sets)
    todo = list(range(len(sets)))
    for draw in range(BATCH_DRAWS):
        if not todo:
            break
        A, mixers = _drawn(plan, fp, output, words, draw)
        got = lower_bounds(
            A,
            [sets[i] for i in todo],
            [upper[i] for i in todo],
            BATCH_PRIME,
            mixers,
            [*words, draw],
        )
        for i, g in zip(todo, got, strict=True):
            lower[i] = max(lower[i], g)
        todo = [i for i in todo if lower[i] < upper[i]]
    return [(key, [lo, up]) for (key, _), lo, up in zip(chunk, lower, upper, strict=True)]


def fits(plan: Plan) -> bool:
    """Whether the batched path may materialize this plan (size and memory limit)."""
    from ._config import get_memory_limit
    from ._sizes import product_capped

    if plan.g != "product" or tuple(plan.modes) != tuple(range(plan.n_modes)):
        return False
    size = product_capped(plan.shape, BATCH_MAX_ENTRIES)
    if size is None:
        return False
    # the instance (int64, then float64) and the batch's working arrays
    need = 3 * 8 * size + 4 * _WORK_BYTES
    return need <= get_memory_limit()
