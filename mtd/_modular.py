"""Private: dense linear algebra over GF(q) in numpy, and certified exact ranks over Q.

Residues are ``int64`` arrays with entries in ``[0, q)`` and ``q < 2**31``, so the
product of two residues (< 2**62) never overflows.  Ranks modulo a prime
(:func:`rank_mod`) are computed on balanced float64 residues with delayed reduction
(:mod:`mtd._elimination`) for every prime below ``2**31``: one BLAS call per product
where ``inner (p/2)**2 < 2**53``, else one per limb of the right factor (two balanced
limbs of at most 16 bits).  The ``int64`` routines here serve the certificate's
inverses and Schur complements (:func:`inv_mod`, :func:`matmul_mod` in
:class:`_Verifier`); the ``int64`` LU that eliminated the primes from ``2**26`` on
before is gone.  :func:`matmul_mod` multiplies exactly in float64 BLAS:

* when ``inner * (q - 1)**2 < 2**53`` one float product is exact;
* otherwise the inner dimension is cut into chunks that are, or, if the chunks would
  be too short, both factors are split into 16-bit limbs and three float products
  (Karatsuba) are recombined in ``int64``.

:func:`exact_rank` certifies the rank over Q of an integer matrix: ``r = rank mod q0``
with an invertible pivot block ``D`` proves ``rank >= r``, and ``rank <= r`` follows
from the vanishing of the ``(r+1)``-minors that border ``D``, checked either p-adically
(:func:`padic_vanishes`, one prime, small entries) or modulo several primes
(:class:`_Verifier`), up to their Hadamard bound (:func:`log2_minor_bound`).  Nothing
here validates its input: the public functions in :mod:`mtd.ranks` do.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np

from . import _elimination

__all__: list[str] = []

_FLOAT_EXACT = 2**53
_BASE = 32
"""Blocks at most this wide are inverted by Gauss-Jordan (:func:`inv_mod`)."""
_MAX_NUMPY_PRIME = 2**31
_MR_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
_MR_LIMIT = 3_317_044_064_679_887_385_961_981
"""Miller-Rabin with the first 12 primes as bases is deterministic below this."""


# ----------------------------------------------------------------------------- primes
def is_prime(n: int) -> bool:
    """Deterministic primality test (Miller-Rabin below ``_MR_LIMIT``, else flint or sympy)."""
    if n < 2:
        return False
    for b in _MR_BASES:
        if n % b == 0:
            return n == b
    if n >= _MR_LIMIT:
        return _is_prime_large(n)
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for b in _MR_BASES:
        x = pow(b, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _is_prime_large(n: int) -> bool:
    """Primality of a huge ``n``: python-flint if installed, else sympy (the ``sympy`` extra)."""
    try:
        import flint
    except ImportError:
        from ._optional import import_optional

        sympy = import_optional("sympy", purpose="testing primes >= 3.3e24 without python-flint")
        return bool(sympy.isprime(n))
    return bool(flint.fmpz(n).is_prime())


def primes_below(bound: int) -> Iterator[int]:
    """Yield the primes below ``bound`` in decreasing order."""
    n = bound - 1
    while n >= 2:
        if is_prime(n):
            yield n
        n -= 1


@functools.lru_cache(maxsize=64)
def first_prime_below(bound: int) -> int:
    """The largest prime below ``bound`` (cached)."""
    return next(primes_below(bound))


def prime_bits(inner: int) -> int:
    """Largest ``b <= 30`` with ``inner * (2**b - 1)**2 < 2**53``: one exact float product."""
    b = 30
    while b > 2 and max(inner, 1) * (2**b - 1) ** 2 >= _FLOAT_EXACT:
        b -= 1
    return b


# -------------------------------------------------------------------------- residues
def residues(A: np.ndarray, q: int) -> np.ndarray:
    """``A mod q`` as int64 in ``[0, q)``; ``A`` is int64 or an object array of ints.

    An ``int64`` array already in ``[0, q)`` is returned as it is (not copied): two
    passes for its minimum and maximum cost a third of one ``%``.
    """
    if A.dtype == object:
        flat = [int(x) % q for x in A.ravel().tolist()]
        return np.array(flat, dtype=np.int64).reshape(A.shape)
    if A.dtype == np.int64 and A.size and A.min() >= 0 and A.max() < q:
        return A
    return np.asarray(A % q, dtype=np.int64)


# ---------------------------------------------------------------------- arithmetic
def _reduce(P: np.ndarray, q: int) -> np.ndarray:
    out = P.astype(np.int64)
    out %= q
    return out


def matmul_mod(X: np.ndarray, Y: np.ndarray, q: int) -> np.ndarray:
    """Exact ``X @ Y mod q`` for residue matrices (float64 BLAS, see the module notes)."""
    a, b = X.shape
    c = Y.shape[1]
    if a == 0 or b == 0 or c == 0:
        return np.zeros((a, c), dtype=np.int64)
    cap = _FLOAT_EXACT // max((q - 1) ** 2, 1)
    if 3 * cap >= b:
        Xf, Yf = X.astype(np.float64), Y.astype(np.float64)
        out = _reduce(Xf[:, :cap] @ Yf[:cap], q)
        for s in range(cap, b, cap):
            out += _reduce(Xf[:, s : s + cap] @ Yf[s : s + cap], q)
        if b > cap:
            out %= q
        return out
    # Two limbs: X = X1 * 2**16 + X0.  Karatsuba sums are < 2**17, so 2**19 terms are exact.
    X1, X0 = (X >> 16).astype(np.float64), (X & 0xFFFF).astype(np.float64)
    Y1, Y0 = (Y >> 16).astype(np.float64), (Y & 0xFFFF).astype(np.float64)
    Xs, Ys = X1 + X0, Y1 + Y0
    step = 2**19
    hi = np.zeros((a, c), dtype=np.int64)
    mid = np.zeros((a, c), dtype=np.int64)
    lo = np.zeros((a, c), dtype=np.int64)
    for s in range(0, b, step):
        sl = slice(s, s + step)
        P1 = X1[:, sl] @ Y1[sl]
        P0 = X0[:, sl] @ Y0[sl]
        Pm = Xs[:, sl] @ Ys[sl]
        Pm -= P1
        Pm -= P0
        hi += _reduce(P1, q)
        mid += _reduce(Pm, q)
        lo += _reduce(P0, q)
    hi %= q
    mid %= q
    hi *= pow(2, 32, q)
    hi %= q
    mid *= pow(2, 16, q)
    mid %= q
    hi += mid
    hi += lo
    hi %= q
    return hi


# ---------------------------------------------------------------------- elimination
def rank_mod(M: np.ndarray, q: int, *, overwrite: bool = False) -> tuple[int, list[int], list[int]]:
    """Rank of the residue matrix ``M`` mod ``q``, with pivot rows and pivot columns.

    ``M`` holds ``int64`` residues in ``[0, q)``, or float64 residues with ``|M| < q``
    (e.g. balanced ones): the float elimination (:mod:`mtd._elimination`, limbs from
    ``q >= 2**26`` on) takes either as it is; with ``overwrite`` a float64 matrix may be
    destroyed (eliminated in place).

    The pivots are listed in elimination order: every leading principal minor of
    ``M[rows][:, cols]`` is non-zero mod q (so that matrix is invertible mod q).
    """
    assert q < _MAX_NUMPY_PRIME <= _elimination.MAX_ELIMINATION_PRIME
    return _elimination.rank_mod_float(M, q, overwrite=overwrite)


def _inv_base(D: np.ndarray, q: int) -> np.ndarray | None:
    k = D.shape[0]
    W = np.zeros((k, 2 * k), dtype=np.int64)
    W[:, :k] = D
    W[:, k:] = np.eye(k, dtype=np.int64)
    for c in range(k):
        nz = np.flatnonzero(W[c:, c])
        if nz.size == 0:
            return None
        i = c + int(nz[0])
        if i != c:
            W[[c, i]] = W[[i, c]]
        W[c] *= pow(int(W[c, c]), -1, q)
        W[c] %= q
        f = W[:, c].copy()
        f[c] = 0
        W -= np.multiply.outer(f, W[c])
        W %= q
    return W[:, k:]


def inv_mod(D: np.ndarray, q: int) -> np.ndarray | None:
    """Inverse of the square residue matrix ``D`` mod q by 2 x 2 block recursion.

    Returns None if ``D`` or one of the leading blocks the recursion inverts is
    singular mod q (leading blocks of half, quarter, ... the size).
    """
    k = D.shape[0]
    if k <= _BASE:
        return _inv_base(D, q)
    h = k // 2
    Ai = inv_mod(D[:h, :h], q)
    if Ai is None:
        return None
    B, C, E = D[:h, h:], D[h:, :h], D[h:, h:]
    AiB = matmul_mod(Ai, B, q)
    S = E - matmul_mod(C, AiB, q)
    S %= q
    Si = inv_mod(S, q)
    if Si is None:
        return None
    CAi = matmul_mod(C, Ai, q)
    X = matmul_mod(AiB, Si, q)
    top_left = Ai + matmul_mod(X, CAi, q)
    top_left %= q
    return np.block([[top_left, (-X) % q], [(-matmul_mod(Si, CAi, q)) % q, Si]])


# ----------------------------------------------------------------- exact over Q
def _log2_sq(values: np.ndarray) -> np.ndarray:
    """Elementwise log2 of non-negative (possibly huge, object) ints; -inf for 0."""
    if values.dtype == object:
        return np.array([math.log2(v) if v else -math.inf for v in values.tolist()])
    with np.errstate(divide="ignore"):
        return np.log2(values.astype(np.float64))


def _squares(A: np.ndarray) -> np.ndarray:
    if A.dtype == object:
        return A * A
    Af = A.astype(np.float64)  # entries < 2**63, so squares < 2**126: no overflow
    return Af * Af


def log2_minor_bound(A: np.ndarray, rows: list[int], cols: list[int]) -> float:
    """log2 of a Hadamard bound on every minor ``det A[rows + [i], cols + [j]]``.

    Row ``l`` of such a minor has squared norm at most ``|A[l, cols]|^2 + max_j A[l, j]^2``
    (``j`` outside ``cols``); the bound is the product of these row norms over
    ``rows`` times the largest one over the other rows, or the same with rows and
    columns exchanged, whichever is smaller.  Returns ``-inf`` when it is 0.
    Needs ``len(rows) < A.shape[0]`` and ``len(cols) < A.shape[1]``.
    """
    sq = _squares(A)
    bounds = []
    for S, piv, other in ((sq, rows, cols), (sq.T, cols, rows)):
        rest = np.ones(S.shape[1], dtype=bool)
        rest[other] = False
        in_piv = S[:, other].sum(axis=1) if other else np.zeros(S.shape[0], dtype=S.dtype)
        extra = S[:, rest].max(axis=1) if rest.any() else np.zeros(S.shape[0], dtype=S.dtype)
        logs = _log2_sq(in_piv + extra)
        mask = np.ones(S.shape[0], dtype=bool)
        mask[piv] = False
        top = logs[mask].max()
        bounds.append(0.5 * (float(logs[piv].sum()) + float(top)))
    return min(bounds)


def _max_abs(A: np.ndarray) -> int:
    """``max |A|`` of a non-empty integer array, as a Python int."""
    if A.dtype == object:
        return max(abs(int(x)) for x in A.ravel().tolist())
    return max(abs(int(A.max())), abs(int(A.min())))


class _Verifier:
    """Checks ``rank_q(Ap) <= r`` for one prime ``q`` at a time.

    ``Ap`` has its candidate pivot rows and columns first, in elimination order, so
    ``D = Ap[:r, :r]`` has non-zero leading principal minors over Z.  For each prime,
    ``D^-1`` mod q comes from :func:`inv_mod`, and ``rank_q(Ap) = r`` iff the Schur
    complement ``Ap[r:, r:] - Ap[r:, :r] D^-1 Ap[:r, r:]`` vanishes mod q.  When the
    entries are small ("raw" mode) the two off-diagonal blocks enter the float
    products as they are, so primes may have ``log2(2**53 / (r * max|A|))`` bits (up
    to 30) instead of ``(53 - log2 r) / 2``.
    """

    def __init__(self, Ap: np.ndarray, r: int) -> None:
        self.Ap, self.r = Ap, r
        amax = _max_abs(Ap)
        inner = max(r, 1)
        raw_bits = 0
        if Ap.dtype != object and amax < 2**40:
            raw_bits = min(30, (_FLOAT_EXACT // (inner * max(amax, 1))).bit_length() - 1)
        self.raw = raw_bits > prime_bits(inner)
        self.bits = raw_bits if self.raw else prime_bits(inner)
        if self.raw:
            self.B = Ap[:r, r:].astype(np.float64)
            self.C = Ap[r:, :r].astype(np.float64)
            self.E = np.ascontiguousarray(Ap[r:, r:], dtype=np.int64)

    def exceeds(self, q: int) -> tuple[int, list[int], list[int]] | None:
        """None if ``rank_q(Ap) <= r``, else ``(rank_q, rows, cols)`` as :func:`rank_mod`."""
        r, Ap = self.r, self.Ap
        Di = inv_mod(residues(Ap[:r, :r], q), q)
        if Di is not None:
            if self.raw:
                W = _reduce(Di.astype(np.float64) @ self.B, q).astype(np.float64)
                diff = (self.C @ W).astype(np.int64)
                diff -= self.E
            else:
                W = matmul_mod(Di, residues(Ap[:r, r:], q), q)
                diff = matmul_mod(residues(Ap[r:, :r], q), W, q) - residues(Ap[r:, r:], q)
            diff %= q
            if not diff.any():
                return None
        rq, rows, cols = rank_mod(residues(Ap, q), q)
        return None if rq <= r else (rq, rows, cols)


def padic_vanishes(Ap: np.ndarray, r: int, bound: float) -> bool | None:
    """Decide whether ``Ap[r:, r:] = Ap[r:, :r] D^-1 Ap[:r, r:]`` over Q (``D = Ap[:r, :r]``).

    Dixon's p-adic lifting with one prime ``q``: ``Y = D^-1 B`` is expanded as
    ``sum_i Y_i q^i`` (``Y_i = D^-1 R_i mod q``, ``R_{i+1} = (R_i - D Y_i) / q``) while
    ``Z_{i+1} = (Z_i - C Y_i) / q`` (``Z_0 = E``) must stay integral.  After ``k`` digits
    ``E - C Y = 0 mod q^k``, so the minors ``det(D) E - C adj(D) B`` (each at most
    ``2**bound``) vanish mod ``q^k`` and, once ``q^k > 2**bound``, over Z.  Every
    product is one exact float64 product, which needs int64 ``Ap`` with small
    entries; returns None when that does not hold (or ``D`` is singular mod q), True
    when the identity holds, False when it fails (then ``rank Ap > r``).
    """
    if Ap.dtype == object:
        return None
    amax = _max_abs(Ap)
    # |R_i| <= (r + 1) amax, so D^-1 R_i, D Y_i and C Y_i all stay below 2**52
    bits = ((2**52) // ((r + 1) * (r + 1) * max(amax, 1))).bit_length() - 1
    if bits < 20:
        return None
    q = first_prime_below(2 ** min(bits, 30))
    Di = inv_mod(residues(Ap[:r, :r], q), q)
    if Di is None:
        return None
    Dinv, D = Di.astype(np.float64), Ap[:r, :r].astype(np.float64)
    R, C = Ap[:r, r:].astype(np.float64), Ap[r:, :r].astype(np.float64)
    Z = Ap[r:, r:].astype(np.float64)
    digits, power, target = 0, 1, 2 ** math.ceil(bound + 1)
    while power <= target:  # q**digits > 2**(bound + 1)
        power *= q
        digits += 1
    for _ in range(digits):
        Y = _reduce(Dinv @ R, q).astype(np.float64)
        T = Z - C @ Y  # exact: integers below 2**53
        Z = np.rint(T / q)
        if not np.array_equal(Z * q, T):  # T is not divisible by q
            return False
        R -= D @ Y  # divisible by q, since D Y = R mod q
        R /= q
    return True


def exact_rank(A: np.ndarray) -> int:
    """Rank over Q of an integer matrix (int64, or object array of Python ints).

    1. ``r = rank mod q0`` with pivots ``R, C`` (a prime ``q0`` sized so that every
       product in the elimination is one exact float product).  ``D = A[R, C]`` is
       then invertible mod q0, hence over Q, so ``rank A >= r``.  If
       ``r = min(m, n)``, done.
    2. ``rank A <= r`` iff every ``E_ij = det A[R + {i}, C + {j}]`` vanishes, by the
       Schur determinant formula ``E = det(D) (A - A[:, C] D^-1 A[R, :])``, and each
       ``|E_ij| <= H`` (:func:`log2_minor_bound`).  So it suffices that ``E = 0``
       modulo numbers whose product exceeds ``H``:

       * modulo ``q^k`` for one prime, by :func:`padic_vanishes` (int64 entries small
         enough for its float products); else
       * modulo distinct primes ``q``: every prime with ``rank_q A <= r`` divides every
         ``(r+1)``-minor (:class:`_Verifier`).  A prime with ``rank_q A > r`` raises
         ``r`` to ``rank_q A`` (the primes counted so far remain valid, since ``r``
         only grows) and step 2 starts again with the new pivots.
    """
    if A.shape[1] > A.shape[0]:
        A = A.T
    m, n = A.shape
    q0 = first_prime_below(2 ** prime_bits(n))
    r, R, C = rank_mod(residues(A, q0), q0)
    used = {q0}
    product = q0
    while r < n:
        bound = log2_minor_bound(A, R, C)
        if product.bit_length() - 1 >= bound + 1:
            return r
        row_order = R + sorted(set(range(m)) - set(R))
        col_order = C + sorted(set(range(n)) - set(C))
        Ap = A[np.ix_(row_order, col_order)]
        if padic_vanishes(Ap, r, bound):
            return r
        verifier = _Verifier(Ap, r)
        raised = None
        for q in primes_below(2**verifier.bits):
            if product.bit_length() - 1 >= bound + 1:
                return r
            if q in used:
                continue
            used.add(q)
            product *= q
            raised = verifier.exceeds(q)
            if raised is not None:
                break
        assert raised is not None
        r = raised[0]
        R = [row_order[i] for i in raised[1]]
        C = [col_order[j] for j in raised[2]]
    return r
