"""Private: Gaussian elimination over GF(p) at the speed of float64 matrix products.

Residues are ``float64`` arrays in *balanced* form, ``|x| <= p/2 + 2``.  Reduction is
``x - p * rint(x / p)``: for an integer ``|x| < 2**53`` every operation is exact except
the rounded quotient, and a quotient off by one only where ``x / p`` is within
``2**-52 |x / p|`` of a half-integer, which leaves ``|x - p q| <= p/2 + 2``.

* A product ``X @ Y`` of balanced residues is one exact BLAS call when
  ``inner (p/2 + 2)**2 < 2**53`` (primes up to about ``2**22`` at ``inner = 2048``);
  otherwise ``Y`` is split into balanced limbs of ``s`` bits, so that every partial
  product stays below ``2**53`` (two limbs for primes below ``2**26``, three below
  ``2**31`` at ``inner <= 8192``), and the inner dimension is cut into chunks only
  beyond that.
* The panels of the recursive LU are eliminated column by column with *delayed
  reduction*: only the pivot column and the pivot row are reduced at each step; the
  rest of the panel accumulates ``f * u`` terms (each ``<= (p/2 + 2)**2``) and is
  reduced only when the next one could pass ``2**53``.

So all ``O(m n r)`` work is in float64 BLAS products, and the rest is ``O(m n)``
vector operations per recursion level.  :func:`rank_mod_float` is the entry point;
:mod:`mtd._modular` keeps the ``int64`` interface and the exact-over-Q certificate.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

_EXACT = 2.0**53
_BASE = 16
"""Panels at most this wide are eliminated column by column."""


MAX_PRIME = 2**26
"""Primes below this are eliminated here: a product of two residues stays below ``2**51``."""


class _Field:
    """Arithmetic modulo a prime ``p < MAX_PRIME`` on balanced float64 residues."""

    def __init__(self, p: int):
        assert p < MAX_PRIME
        self.p = p
        self.fp = float(p)
        self.pinv = 1.0 / p
        self.h = p // 2 + 2  # bound on |residue|

    def reduce(self, X: np.ndarray) -> np.ndarray:
        """Balanced residues of an exact-integer float array (in place), returned."""
        Q = X * self.pinv
        np.rint(Q, out=Q)
        Q *= self.fp
        X -= Q
        return X

    def balanced(self, M: np.ndarray) -> np.ndarray:
        """Float64 balanced residues of an ``int64`` array with entries in ``[0, p)``."""
        return self.reduce(M.astype(np.float64))

    def schur(self, W: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
        """``W <- W - X @ Y mod p`` in place (one exact product when it fits)."""
        if X.shape[1] * self.h * self.h + self.h < _EXACT:
            P = X @ Y
            np.subtract(W, P, out=W)
        else:
            W -= self.matmul(X, Y)
        self.reduce(W)

    def inverse(self, x: float) -> float:
        v = pow(int(x) % self.p, -1, self.p)
        return float(v - self.p if v > self.p // 2 else v)

    def matmul(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``X @ Y mod p``, exact (see the module notes)."""
        a, b = X.shape
        c = Y.shape[1]
        if a == 0 or c == 0:
            return np.zeros((a, c))
        if b == 0:
            return np.zeros((a, c))
        h = self.h
        if b * h * h < _EXACT:
            return self.reduce(X @ Y)
        # limbs of s bits: every partial product below 2**53
        s = int(np.log2(_EXACT / (b * h))) - 1
        if s < 8:  # too long an inner dimension: cut it
            step = max(1, int(_EXACT // (h * 2.0**9)) // 2)
            acc = self.matmul(X[:, :step], Y[:step])
            for k in range(step, b, step):
                acc += self.matmul(X[:, k : k + step], Y[k : k + step])
                self.reduce(acc)
            return acc
        scale, inv_scale = 2.0**s, 2.0**-s
        R = Y.copy()
        bound = float(h)
        out: np.ndarray | None = None
        weight = 1  # 2**(s i) mod p
        while True:
            last = bound < scale / 2
            if last:
                D = R
            else:
                top = np.rint(R * inv_scale)
                D = R - top * scale  # |D| <= 2**(s-1)
                R = top
                bound = bound * inv_scale + 1
            part = self.reduce(X @ D)
            w = weight % self.p
            if w != 1:
                part *= float(w - self.p if w > self.p // 2 else w)
                self.reduce(part)
            out = part if out is None else self.reduce(out + part)
            if last:
                return out
            weight = weight * (1 << s) % self.p


# ---------------------------------------------------------------------- elimination
def _unit_lower_inverse(F: _Field, L: np.ndarray) -> np.ndarray:
    """``L^-1`` mod p for a small unit lower-triangular ``L`` (diagonal not read)."""
    k = L.shape[0]
    X = np.eye(k)
    for j in range(k - 1):  # X[j] is final (reduced) when it is used
        X[j + 1 :] -= np.multiply.outer(L[j + 1 :, j], X[j])
        F.reduce(X[j + 1 :])
    return X


def _trsm(F: _Field, L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L X = B`` mod p for unit lower-triangular ``L`` (diagonal not read).

    Blocks of at most ``_BASE`` rows are solved by one product with ``L^-1``.
    """
    k = L.shape[0]
    if k <= _BASE:
        return F.matmul(_unit_lower_inverse(F, L), B)
    h = k // 2
    X1 = _trsm(F, L[:h, :h], B[:h])
    B2 = B[h:] - F.matmul(L[h:, :h], X1)
    F.reduce(B2)
    return np.vstack([X1, _trsm(F, L[h:, h:], B2)])


class _InPlaceLU:
    """Recursive, column-splitting LU with row pivoting, in place on one matrix.

    ``W`` (m x n, balanced residues) is overwritten; row swaps apply to whole rows of
    ``W`` and of ``L`` (m x min(m, n), the unit lower factor, one column per pivot).
    Columns without a pivot are skipped, so the number of pivots is the rank.
    """

    def __init__(self, F: _Field, W: np.ndarray):
        self.F, self.W = F, W
        m, n = W.shape
        self.L = np.zeros((m, min(m, n)))
        self.perm = np.arange(m)
        self.pivot_cols: list[int] = []
        self.limit = int((_EXACT - F.h) // (F.h * F.h)) - 1

    def swap(self, a: int, b: int) -> None:
        W, L, perm = self.W, self.L, self.perm
        W[[a, b]] = W[[b, a]]
        L[[a, b]] = L[[b, a]]
        perm[[a, b]] = perm[[b, a]]

    def base(self, t: int, c0: int, c1: int) -> int:
        """Eliminate columns ``c0..c1-1`` from row ``t`` on; return the new ``t``."""
        F, W, L = self.F, self.W, self.L
        m = W.shape[0]
        pending = 0
        for c in range(c0, c1):
            if t == m:
                break
            col = W[t:, c]
            if pending:
                F.reduce(col)
            nz = np.flatnonzero(col)
            if nz.size == 0:
                continue
            if nz[0]:
                self.swap(t, t + int(nz[0]))
            if pending:
                F.reduce(W[t, c + 1 : c1])
            k = len(self.pivot_cols)
            f = W[t + 1 :, c] * F.inverse(W[t, c])
            F.reduce(f)
            L[t, k] = 1.0
            L[t + 1 :, k] = f
            if c + 1 < c1 and f.any():
                W[t + 1 :, c + 1 : c1] -= np.multiply.outer(f, W[t, c + 1 : c1])
                pending += 1
                if pending >= self.limit:
                    F.reduce(W[t + 1 :, c + 1 : c1])
                    pending = 0
            self.pivot_cols.append(c)
            t += 1
        return t

    def run(self, t: int, c0: int, c1: int) -> int:
        """Eliminate columns ``c0..c1-1`` (already updated) from row ``t``; return new ``t``."""
        if c1 - c0 <= _BASE or t == self.W.shape[0]:
            return self.base(t, c0, c1)
        F, W, L = self.F, self.W, self.L
        h = (c0 + c1) // 2
        k0 = len(self.pivot_cols)
        t1 = self.run(t, c0, h)
        k1 = t1 - t
        if k1 and t1 < W.shape[0]:
            U = _trsm(F, L[t:t1, k0 : k0 + k1], W[t:t1, h:c1])
            W[t:t1, h:c1] = U
            F.schur(W[t1:, h:c1], L[t1:, k0 : k0 + k1], U)
        return self.run(t1, h, c1)


def rank_mod_float(M: np.ndarray, q: int) -> tuple[int, list[int], list[int]]:
    """Rank of the ``int64`` residue matrix ``M`` (entries in ``[0, q)``) modulo ``q < MAX_PRIME``.

    Returns ``(rank, pivot rows, pivot columns)`` with the pivots in elimination order,
    as :func:`mtd._modular.rank_mod`.
    """
    F = _Field(q)
    transpose = M.shape[1] > M.shape[0]
    A = F.balanced(np.ascontiguousarray(M.T) if transpose else M)
    if A.size == 0 or not A.any():
        return 0, [], []
    lu = _InPlaceLU(F, A)
    k = lu.run(0, 0, A.shape[1])
    rows = [int(i) for i in lu.perm[:k]]
    pc = lu.pivot_cols
    return (k, pc, rows) if transpose else (k, rows, pc)
