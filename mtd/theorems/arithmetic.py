"""Checks of mtd's arithmetic: exact, modular and numeric ranks, and matricization.

The matricization convention is the theory page's, §1.
"""

from __future__ import annotations

import numpy as np

from .. import _reference as ref
from .._typing import Seed
from ..matricization import matricize
from ..ranks import matrix_rank
from .report import CheckReport, _timed

__all__ = [
    "check_exact_ranks",
    "check_matricize",
]


def _adversarial_matrices() -> list[tuple[np.ndarray, int]]:
    """Integer matrices whose rank drops modulo natural primes or in floating point.

    A modular rank is a lower bound that an exact rank must certify.  The natural
    moduli are the largest primes below ``2^16 … 2^32`` and ``2^61 … 2^64`` (float-exact
    and machine-word moduli) and a few well-known primes, so
    each gets ``diag(1, p)`` (rank 2 over Q, 1 modulo ``p``), its dense relative
    ``[[1, 3], [5, 15 + p]]`` (both ``int64`` where they fit), and
    ``p·[[1, 2], [3, 6]]`` (rank 1); one
    object matrix has a determinant divisible by all of them at once; and
    ``[[2^53, 2^53+1], [2^53-1, 2^53]]`` has determinant 1 though it is singular
    after rounding to float64.
    """
    primes = sorted(
        {ref.largest_prime_below(2**k) for k in (*range(16, 33), 61, 62, 63, 64)}
        | {10**9 + 7, 998244353, 1753413037}
    )
    out: list[tuple[np.ndarray, int]] = []
    prod = 1
    for p in primes:
        prod *= p
        small = np.int64 if 15 + p < 2**63 else object
        out.append((np.array([[1, 0], [0, p]], dtype=small), 2))
        out.append((np.array([[1, 3], [5, 15 + p]], dtype=small), 2))
        out.append((np.array([[p, 2 * p], [3 * p, 6 * p]], dtype=object), 1))
    out.append((np.array([[1, 7, 0], [2, 14 + prod, 0], [0, 0, 1]], dtype=object), 3))
    a = 2**53
    out.append((np.array([[a, a + 1], [a - 1, a]], dtype=object), 2))
    return out


@_timed
def check_exact_ranks(*, n_cases: int = 40, max_size: int = 24, seed: Seed = 0) -> CheckReport:
    """Exact rank against python-flint, on products of known rank and adversarial matrices.

    ``X = P Q`` with ``P = perm([I_k; B])`` and ``Q = [I_k, C] perm`` (entries of B, C
    up to ``2^40``) has rank ``k`` by construction; the adversarial matrices have
    ranks that drop modulo common primes or in float64.  Expected: mtd's exact rank =
    ``k`` = python-flint's ``fmpz_mat.rank``, with mtd's default backend and with its
    own elimination (``backend="numpy"``); modular ≤ exact; numeric = ``k`` on the
    well-scaled products.
    """
    rng = np.random.default_rng(seed)
    mismatch = modular_bad = numeric_bad = 0
    wrong: list[str] = []
    for _ in range(n_cases):
        m, n = (int(x) for x in rng.integers(1, max_size + 1, size=2))
        k = int(rng.integers(0, min(m, n) + 1))
        wide = 2**40
        P = np.vstack([np.eye(k, dtype=np.int64), rng.integers(-wide, wide, (m - k, k))])
        Q = np.hstack([np.eye(k, dtype=np.int64), rng.integers(-wide, wide, (k, n - k))])
        X = P.astype(object)[rng.permutation(m)] @ Q.astype(object)[:, rng.permutation(n)]
        exact = matrix_rank(X, method="exact")
        own = matrix_rank(X, method="exact", backend="numpy")  # mtd's own elimination
        if not exact == own == k == ref.exact_rank(X):
            mismatch += 1
            wrong.append(f"{m}x{n} rank {k}: mtd {exact}, numpy backend {own}")
        modular_bad += matrix_rank(X, method="modular") > exact
        Ps = np.vstack([np.eye(k, dtype=np.int64), rng.integers(-3, 4, (m - k, k))])
        Qs = np.hstack([np.eye(k, dtype=np.int64), rng.integers(-3, 4, (k, n - k))])
        Xs = Ps[rng.permutation(m)] @ Qs[:, rng.permutation(n)]
        numeric_bad += matrix_rank(Xs.astype(float), method="numeric") != k
    for X, want in _adversarial_matrices():
        got = {b: matrix_rank(X, method="exact", backend=b) for b in (None, "numpy")}
        if not set(got.values()) == {want} or ref.exact_rank(X) != want:
            mismatch += 1
            wrong.append(f"{X.tolist()}: mtd {got}, want {want}")
    ok = mismatch == modular_bad == numeric_bad == 0
    return CheckReport(
        claim="exact / modular / numeric rank",
        setting=f"{n_cases} products P@Q (sizes <= {max_size}, entries ~2^80) + adversarial",
        expected="exact = k = flint's rank; modular <= exact; numeric = k on small entries",
        measured=(
            f"exact wrong {mismatch}, modular > exact {modular_bad}, numeric wrong {numeric_bad}"
        ),
        independent="rank by construction and python-flint fmpz_mat.rank",
        holds=ok,
        details={
            "exact_wrong": mismatch,
            "modular_above": modular_bad,
            "numeric_wrong": numeric_bad,
            "examples": wrong[:5],
        },
    )


@_timed
def check_matricize(*, n_cases: int = 30, seed: Seed = 0, tensorly: bool = True) -> CheckReport:
    """``matricize`` follows the theory page, §1: rows are I ascending, most significant first.

    Expected: the matrix built entry by entry by index mapping
    (:func:`mtd._reference.matricize`) on random shapes (unequal dimensions) and index
    sets, and for single modes also TensorLy's ``unfold`` when TensorLy is installed
    and ``tensorly`` is true (its import alone takes seconds, so the quick run skips it).
    """
    rng = np.random.default_rng(seed)
    bad: list[str] = []
    unfolds = 0
    for _ in range(n_cases):
        n = int(rng.integers(1, 6))
        shape = tuple(int(s) for s in rng.integers(1, 5, size=n))
        A = rng.integers(-1000, 1001, size=shape)
        I = [int(m) for m in np.flatnonzero(rng.random(n) < 0.5)]
        if not np.array_equal(matricize(A, I), ref.matricize(A, I)):
            bad.append(f"shape {shape}, I = {I}")
        mode = int(rng.integers(0, n))
        U = ref.unfold(A, mode) if tensorly else None
        if U is not None:
            unfolds += 1
            if not np.array_equal(matricize(A, [mode]), U):
                bad.append(f"unfold shape {shape}, mode {mode}")
    return CheckReport(
        claim="matricization convention",
        setting=f"{n_cases} random integer tensors, order <= 5, unequal dimensions",
        expected="[[A]]_I by index mapping; single modes = tensorly.unfold",
        measured="all equal" if not bad else f"differ: {'; '.join(bad[:3])}",
        independent="entry-by-entry index mapping"
        + (f"; tensorly.unfold ({unfolds} cases)" if unfolds else " (TensorLy not installed)"),
        holds=not bad,
        details={"failures": bad, "unfold_cases": unfolds},
    )
