"""Private: Gaussian elimination over GF(p) at the speed of float64 matrix products.

Residues are ``float64`` arrays in *balanced* form, ``|x| <= p/2 + 2``.  Reduction is
``x - p * rint(x / p)``: for an integer ``|x| < 2**53`` every operation is exact except
the rounded quotient, and a quotient off by one only where ``x / p`` is within
``2**-52 |x / p|`` of a half-integer, which leaves ``|x - p q| <= p/2 + 2``.

The LU (:class:`_InPlaceLU`) is recursive and column-splitting, in place on one
matrix (``L`` below the pivots, LAPACK-style), rank revealing (columns without a
pivot are skipped), and nearly all its work is in BLAS ``dgemm`` calls that update
blocks of the matrix in place (:func:`gemm_sub`, ``beta = 1``: no temporaries):

* *Delayed reduction.*  Every column carries a bound on its entries; a Schur update
  ``W -= L U`` with reduced factors adds ``inner (p/2 + 2)**2`` to it, and the block
  is reduced only before it is used as a factor (a panel, a block of ``U``) or when
  the next update could pass ``2**53``.  For ``p < 2**21`` and ``n <= 2048`` that
  never happens: each entry is reduced about twice in the whole elimination.
* *Products.*  One exact product when ``inner (p/2 + 2)**2 + p/2 < 2**53`` (primes
  below ``2**21`` up to ``inner = 8191``), or one per chunk of the inner dimension
  where chunks of at least 256 fit (primes up to about ``2**23``), the block reduced
  between chunks; otherwise two, on the balanced halves of the right factor (every
  prime below ``2**31``; from ``2**26`` on in chunks of the inner dimension):
  ``_Field.sub_products``, written for any number of limbs.  Primes up to ``2**23``
  therefore cost half the products of larger ones.  The left factor of the
  second product, ``2**s L mod p``, is kept beside ``L`` (one scaling per panel, not
  one per product) when a second copy of the matrix fits the memory limit.
* *Primes from* ``2**26`` (:data:`MAX_PRIME`) *to* ``2**31``: a product of two
  residues passes ``2**53``, so every product of residues is split: the Schur
  updates and triangular solves as above, the small products (``_Field.matmul``) in
  limbs recombined by Horner's rule, a residue times a scalar (``_Field.scale``) the
  same way, the rank-one updates of the pivoting panel one per limb, and the
  Gauss-Jordan panel inverse in ``int64`` (sums of two products below ``2**63``).
* *Layout.*  The matrix is column-major (LAPACK's layout), so the column panels are
  contiguous columns: skinny products and reductions on them run near full speed.
* *Panels* of ``_BASE`` columns: when the leading principal minors of their top
  ``w x w`` block ``D`` do not vanish (almost always, for random matrices), a *block*
  LU step ``[D; A21] = [I; A21 D^-1] D``: ``D^-1`` by Gauss-Jordan (which checks the
  minors), the multipliers below one product, and the panel's diagonal block of
  ``L`` the identity, so the triangular solves skip it; otherwise the panel is
  eliminated column by column with row swaps, transposed so that its columns are
  contiguous, with in-place rank-one updates (``dger``) and delayed reduction.
* *Triangular solves* use ``L^-1`` of ``_BASE``-row diagonal blocks, computed once
  per block (they never change once their panel is done).

:func:`rank_mod_float` is the entry point; :mod:`mtd._modular` keeps the ``int64``
interface and the exact-over-Q certificate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

__all__: list[str] = []

_EXACT = 2.0**53
_BASE = 16
"""Width of the panels (32 was no faster at n = 2048 and 4096)."""


_MIN_CHUNK = 256
"""Shortest inner dimension of the exact single products an update is cut into; below
it, two products on halves (``_Field.sub_products``)."""

MAX_PRIME = 2**26
"""Primes below this keep float64 residues everywhere (:mod:`mtd._residue_arith`): an
elementwise product of two residues stays below ``2**51``."""

MAX_ELIMINATION_PRIME = 2**31
"""Primes below this are eliminated here; from :data:`MAX_PRIME` on, every product of
residues is split into limbs (a product of two residues no longer fits ``2**53``)."""

_LIMB_INNER = 255
"""Inner dimension one limb product must hold without a reduction: it fixes the number
of limbs, two for every prime below ``2**31`` (halves of 16 bits at ``2**31 - 1``, in
chunks of 255 of the inner dimension with the block reduced between them).  Three limbs
of 11 bits (``_LIMB_INNER = 1024``) took 1.2x as long at n = 2048 and 4096: a reduction
is a few passes over the block, a third product ``2 inner`` flops an entry."""


class _Field:
    """Arithmetic modulo a prime ``p < MAX_ELIMINATION_PRIME`` on balanced float64 residues."""

    def __init__(self, p: int):
        assert p < MAX_ELIMINATION_PRIME
        self.p = p
        self.fp = float(p)
        self.pinv = 1.0 / p
        self.h = p // 2 + 2  # bound on |residue|
        bits = self.h.bit_length()
        self.limbs = 2
        """Balanced limbs a right factor is split into (``sub_products``): the fewest for
        which ``_LIMB_INNER h (2**(s-1) + 1) + h < 2**53``, at least two (two for
        every prime below ``2**31``; more for a smaller ``_LIMB_INNER``)."""
        while True:
            self.s = -(-bits // self.limbs)
            """Bits of every limb but the last (``Y = sum_i 2**(s i) Y_i``)."""
            if _LIMB_INNER * self.h * (2.0 ** (self.s - 1) + 1) + self.h < _EXACT:
                break
            self.limbs += 1
        self.limb_bounds = [2.0 ** (self.s - 1)] * (self.limbs - 1)
        """Bounds on ``|Y_i|`` for a reduced ``Y``: ``2**(s-1)`` but the last,
        ``h / 2**(s (limbs-1)) + 1``."""
        self.limb_bounds.append(self.h / 2.0 ** (self.s * (self.limbs - 1)) + 1.0)
        self.single_inner = int((_EXACT - self.h) // (self.h * self.h))
        """Longest inner dimension of one exact product of reduced factors added to a
        reduced block: ``inner h**2 + h < 2**53`` (0 from ``MAX_PRIME`` on)."""

    def reduce(self, X: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
        """Balanced residues of an exact-integer float array (in place), returned.

        ``scratch``, an array of ``X``'s shape, holds the quotients (no allocation).
        """
        Q = np.multiply(X, self.pinv, out=scratch)
        np.rint(Q, out=Q)
        Q *= self.fp
        X -= Q
        return X

    def balanced(self, M: np.ndarray) -> np.ndarray:
        """Float64 balanced residues of an ``int64`` array with entries in ``[0, p)``."""
        X = M.astype(np.float64)
        X -= (X > self.p // 2) * self.fp
        return X

    def split(self, Y: np.ndarray) -> list[np.ndarray]:
        """The balanced limbs ``Y_i`` of a reduced ``Y = sum_i 2**(s i) Y_i`` (exact).

        ``|Y_i| <= limb_bounds[i]``: each limb is ``R - 2**s rint(R / 2**s)`` of the
        remaining ``R`` (divisions by a power of two are exact), the last one ``R``.
        """
        scale, inv_scale = 2.0**self.s, 2.0**-self.s
        out = []
        R = Y
        for _ in range(self.limbs - 1):
            top = np.rint(R * inv_scale)
            out.append(R - top * scale)
            R = top
        out.append(R)
        return out

    def shifted(self, X: np.ndarray) -> list[np.ndarray]:
        """``[2**(s i) X mod p for i = 1 .. limbs-1]`` for a reduced ``X`` (exact).

        Each is the previous times ``2**s`` (below ``2**53``: ``s <= 22``), reduced.
        """
        out = []
        for _ in range(self.limbs - 1):
            X = self.reduce(X * 2.0**self.s)
            out.append(X)
        return out

    def scale(self, x: np.ndarray, c: float) -> np.ndarray:
        """``x <- c x mod p`` in place (reduced) for a reduced ``x`` and a residue ``c``.

        One product while ``h |c| < 2**53``; else Horner over ``c``'s limbs (each step
        below ``h 2**s + h 2**(s-1) < 2**53``).
        """
        if self.h * abs(c) < _EXACT:
            x *= c
            return self.reduce(x)
        digits = [float(d[0]) for d in self.split(np.array([c]))]
        acc = x * digits[-1]
        for d in reversed(digits[:-1]):
            self.reduce(acc)
            acc *= 2.0**self.s
            acc += x * d
        x[...] = acc
        return self.reduce(x)

    def small_matmul(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """``X @ Y mod p`` (balanced) for small balanced residue matrices: fewest numpy calls."""
        if X.shape[1] * self.h * self.h < _EXACT:
            P = X @ Y
            Q = np.rint(P * self.pinv)
            P -= Q * self.fp
            return P
        return self.matmul(X, Y)

    def needs_limbs(self, inner: int) -> bool:
        """Whether a product with this inner dimension is split into limbs (``sub_products``)."""
        return inner > self.single_inner and self.single_inner < _MIN_CHUNK

    def sub_products(
        self,
        W: np.ndarray,
        X: np.ndarray,
        Y: np.ndarray,
        bound: float,
        Xs: list[np.ndarray] | None = None,
    ) -> float:
        """``W <- W - X @ Y`` (mod p) in place, for ``|W| <= bound``; returns the new bound.

        ``X`` and ``Y`` are reduced.  The result is left unreduced.  One exact product
        per chunk of ``single_inner`` of the inner dimension (all of it, for primes
        below ``2**21`` up to ``inner = 2048``; chunks of at least ``_MIN_CHUNK``, for
        primes up to about ``2**23``), ``W`` reduced before a chunk could pass
        ``2**53``: a reduction costs a few passes over ``W``, a second product
        ``2 inner`` flops an entry.  Otherwise one product per balanced limb of ``Y``
        (``Y = sum_i 2**(s i) Y_i``, :meth:`split`; two limbs, ``s`` bits and fewer),
        the left factor of ``Y_i`` being ``2**(s i) X mod p``
        (``Xs``, from :meth:`shifted`, computed here unless given), ``W`` reduced
        before a product could pass ``2**53``, and the inner dimension cut into chunks
        where one limb product would.
        """
        k = X.shape[1]
        h = self.h
        if k == 0:
            return bound
        step = self.single_inner
        if k <= step or step >= _MIN_CHUNK:
            for a in range(0, k, step):
                Xa, Ya = (X, Y) if k <= step else (X[:, a : a + step], Y[a : a + step])
                single = Xa.shape[1] * h * h
                if bound + single >= _EXACT:
                    self.reduce(W)
                    bound = h
                gemm_sub(W, Xa, Ya)
                bound += single
            return bound
        incs = [k * h * b for b in self.limb_bounds]
        if max(incs) + h >= _EXACT:  # too long an inner dimension: chunks of it
            step = max(1, int((_EXACT - 2 * h) // (h * max(self.limb_bounds))))
            for a in range(0, k, step):
                part = None if Xs is None else [Z[:, a : a + step] for Z in Xs]
                bound = self.sub_products(W, X[:, a : a + step], Y[a : a + step], bound, part)
            return bound
        if Xs is None:
            Xs = self.shifted(X)
        for Xi, Yi, inc in zip([X, *Xs], self.split(Y), incs, strict=True):
            if bound + inc >= _EXACT:
                self.reduce(W)
                bound = h
            gemm_sub(W, Xi, Yi)
            bound += inc
        return bound

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
        R = Y
        bound = float(h)
        limbs = []
        while True:
            if bound < scale / 2:
                limbs.append(R)
                break
            top = np.rint(R * inv_scale)
            limbs.append(R - top * scale)  # |limb| <= 2**(s-1)
            R = top
            bound = bound * inv_scale + 1
        # Horner from the top limb: out <- 2**s out + X @ D, each term below
        # h 2**s + h <= 2**53 (b h 2**(s+1) <= 2**53 with b >= 1)
        out = self.reduce(X @ limbs[-1])
        for D in reversed(limbs[:-1]):
            out *= scale
            out += self.reduce(X @ D)
            self.reduce(out)
        return out


# ------------------------------------------------------------------ in-place BLAS
_DGEMM: list = []
"""scipy's Fortran ``dgemm`` (from :mod:`scipy.linalg.cython_blas`) as a ctypes function,
or None where it cannot be loaded; filled on first use."""


def _load_dgemm() -> object:
    import ctypes

    try:
        from scipy.linalg import cython_blas

        capsule = cython_blas.__pyx_capi__["dgemm"]
        get_name = ctypes.pythonapi.PyCapsule_GetName
        get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        address = get_pointer(capsule, get_name(capsule))
    except Exception:  # pragma: no cover - scipy without its Cython BLAS
        return None
    i, d, v = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_double), ctypes.c_void_p
    char = ctypes.c_char_p
    return ctypes.CFUNCTYPE(None, char, char, i, i, i, d, v, i, v, i, d, v, i)(address)


def _blas_view(X: np.ndarray) -> bool:
    return X.dtype == np.float64 and X.strides[1] == 8 and X.strides[0] >= 8 * X.shape[1] > 0


def gemm_sub(C: np.ndarray, A: np.ndarray, B: np.ndarray) -> None:
    """``C -= A @ B`` in place, float64, without a temporary (``C`` may be a strided block).

    One ``dgemm`` with ``beta = 1`` on the row-major views seen column-major
    (``C^T -= B^T A^T``); numpy with a temporary where the views do not fit BLAS.
    """
    if not _DGEMM:
        _DGEMM.append(_load_dgemm())
    m, n = C.shape
    k = A.shape[1]
    dgemm = _DGEMM[0]
    if m == 0 or n == 0 or k == 0:
        return
    if dgemm is not None and _blas_view(C.T) and _blas_view(A.T) and _blas_view(B.T):
        C, A, B = C.T, B.T, A.T  # column-major blocks: C^T -= B^T A^T on row-major views
        m, n = n, m
    elif dgemm is None or not (_blas_view(C) and _blas_view(A) and _blas_view(B)):
        C -= A @ B
        return
    import ctypes

    c_int, c_double = ctypes.c_int, ctypes.c_double
    dgemm(
        b"N",
        b"N",
        ctypes.byref(c_int(n)),
        ctypes.byref(c_int(m)),
        ctypes.byref(c_int(k)),
        ctypes.byref(c_double(-1.0)),
        B.ctypes.data,
        ctypes.byref(c_int(B.strides[0] // 8)),
        A.ctypes.data,
        ctypes.byref(c_int(A.strides[0] // 8)),
        ctypes.byref(c_double(1.0)),
        C.ctypes.data,
        ctypes.byref(c_int(C.strides[0] // 8)),
    )


# ---------------------------------------------------------------------- elimination
_IDENTITY = np.eye(1)
"""Marks a cached ``L^-1`` block that is the identity (a block LU step, see ``block_panel``)."""

_MASKS: dict[int, np.ndarray] = {}


def _upper_mask(w: int) -> np.ndarray:
    """``w x w`` float mask of the upper triangle, diagonal included (cached)."""
    mask = _MASKS.get(w)
    if mask is None:
        mask = _MASKS[w] = np.triu(np.ones((w, w)))
    return mask


def _unit_lower_inverse(F: _Field, L: np.ndarray) -> np.ndarray:
    """``L^-1`` mod p (balanced) for a small unit lower-triangular ``L`` (upper part not read).

    With ``N`` the strictly lower part, ``L^-1 = (I - N)(I + N^2)(I + N^4)...``: a
    product of ``log2 k`` factors, since ``N^k = 0``.
    """
    k = L.shape[0]
    eye = np.eye(k)
    N = F.reduce(np.tril(L, -1))
    X = eye - N
    power = 1
    while 2 * power < k:
        N = F.small_matmul(N, N)
        X = F.small_matmul(X, N + eye)
        power *= 2
    return X


def _small_inverse(F: _Field, D: np.ndarray) -> np.ndarray | None:
    """``D^-1`` mod p (balanced) by Gauss-Jordan elimination *without* row swaps, or None.

    None when a leading principal minor of ``D`` vanishes mod p, so a result also
    certifies that they do not.  Works on ``[D | I]`` with residues in ``[0, p)``, two
    columns at a time: with ``P`` the 2 x 2 pivot block (``P[0, 0]`` and ``det P``
    are the ratios of consecutive leading minors), ``R = P^-1 [rows j, j+1]`` and
    ``A -= A[:, j:j+2] R``.  Sums of two products of residues stay below ``2 p**2``:
    exact in float64 for ``p < 2**26``, in ``int64`` (below ``2**63``) for larger
    primes.  Seven numpy calls per two columns, on the whole (tiny) array.
    """
    q = F.p
    dtype = np.float64 if 2 * q * q < _EXACT else np.int64
    p = dtype(q)
    w = D.shape[0]
    A = np.empty((w, 2 * w), dtype=dtype)
    A[:, :w] = D
    np.remainder(A[:, :w], p, out=A[:, :w])
    A[:, w:] = np.eye(w, dtype=dtype)
    for j in range(0, w, 2):
        if j + 1 == w:  # the last of an odd number of columns
            pivot = int(A[j, j])
            if pivot == 0:
                return None
            R = A[j : j + 1] * dtype(pow(pivot, -1, q))
        else:
            a, b = int(A[j, j]), int(A[j, j + 1])
            c, d = int(A[j + 1, j]), int(A[j + 1, j + 1])
            det = (a * d - b * c) % q
            if a == 0 or det == 0:
                return None
            e = pow(det, -1, q)
            Pinv = np.array([[d * e % q, -b * e % q], [-c * e % q, a * e % q]], dtype=dtype)
            R = Pinv @ A[j : j + 2]
        np.remainder(R, p, out=R)
        k = R.shape[0]
        A -= A[:, j : j + k] @ R
        A[j : j + k] = R
        np.remainder(A, p, out=A)
    return F.reduce(A[:, w:].astype(np.float64))


def _trsm(
    F: _Field,
    L: np.ndarray,
    B: np.ndarray,
    bound: float,
    cache: dict,
    at: int,
    Ls: list[np.ndarray] | None = None,
) -> None:
    """Overwrite ``B`` with the reduced solution ``X`` of ``L X = B`` mod p.

    ``L`` is unit lower-triangular (its diagonal and upper part are not read), ``|B| <=
    bound``.  Blocks of at most ``_BASE`` rows are solved by one product with ``L^-1``
    (kept in ``cache`` under ``(at, size)``, ``at`` the block's first row in ``W``: the
    blocks of ``L`` never change once computed); the other rows of ``B`` take their
    updates unreduced while they stay exact.  ``Ls``, if given, is ``2**(s i) L mod p``
    for ``i = 1 .. limbs-1`` (``_Field.sub_products``).
    """
    k = L.shape[0]
    if k <= _BASE:
        inv = cache.get((at, k))
        if inv is None:
            inv = cache[(at, k)] = _unit_lower_inverse(F, L)
        if bound > F.h:
            F.reduce(B)
        if inv is not _IDENTITY:
            B[...] = F.matmul(inv, B)
        return
    h = k // 2
    _trsm(F, L[:h, :h], B[:h], bound, cache, at)
    B2 = B[h:]
    bound = F.sub_products(B2, L[h:, :h], B[:h], bound, _blocks(Ls, slice(h, None), slice(h)))
    _trsm(F, L[h:, h:], B2, bound, cache, at + h, _blocks(Ls, slice(h, None), slice(h, None)))


def _blocks(Ls: list[np.ndarray] | None, rows: slice, cols: slice) -> list[np.ndarray] | None:
    """The same block of every array in ``Ls`` (None stays None)."""
    return None if Ls is None else [L[rows, cols] for L in Ls]


class _InPlaceLU:
    """Recursive, column-splitting LU with row pivoting, in place on one matrix.

    ``W`` (m x n, exact integers, ``|W| <= bound``) is overwritten LAPACK-style: after the run, row
    ``i`` of the pivot block holds ``U`` and, below each pivot, its column holds the
    multipliers of ``L``; row swaps apply to whole rows (``perm`` records them).
    Columns without a pivot are skipped, so the number of pivots is the rank.

    Reductions are delayed: ``bound[c]`` bounds ``|W[i, c]|`` on the rows not yet
    eliminated, so a Schur update ``W -= L U`` (reduced factors) is a bare BLAS
    product, and a column is reduced only when its panel is eliminated, a block
    becomes part of ``U``, or the next update could pass ``2**53``.
    """

    def __init__(self, F: _Field, W: np.ndarray, bound: float):
        from scipy.linalg.blas import dger

        self.F, self.W, self.dger = F, W, dger
        m, n = W.shape
        self.perm = np.arange(m)
        self.pivot_cols: list[int] = []
        self.bound = np.full(n, bound)
        self.inverses: dict[tuple[int, int], np.ndarray] = {}
        self.rank_one_limbs = F.h * F.h + F.h >= _EXACT
        """Whether a rank-one update of the pivoting panel is split into limbs (a
        product of two residues passes ``2**53`` from ``MAX_PRIME`` on)."""
        step = F.h * sum(F.limb_bounds) if self.rank_one_limbs else F.h * F.h
        self.limit = int((_EXACT - F.h) // step) - 1
        """Rank-one updates a reduced panel absorbs before it must be reduced again."""
        self.Ws: list[np.ndarray] | None = None
        """``2**(s i) L mod p`` (``i = 1 .. limbs-1``) where ``W`` holds ``L`` (see
        ``_Field.sub_products``): kept when products need limbs, so that every column
        of ``L`` is scaled once, not at every product it enters; only if ``limbs``
        copies of ``W`` fit the memory limit (else each product scales its own block)."""
        if F.needs_limbs(n):
            from ._config import get_memory_limit

            if F.limbs * W.nbytes <= get_memory_limit():
                self.Ws = [np.zeros_like(W, order="F") for _ in range(F.limbs - 1)]

    def finish_panel(self, t: int, c0: int, c1: int) -> None:
        """Record ``2**(s i) L mod p`` of a finished panel in ``Ws`` (if kept)."""
        if self.Ws is not None:
            for Wi, Li in zip(self.Ws, self.F.shifted(self.W[t:, c0:c1]), strict=True):
                Wi[t:, c0:c1] = Li

    def base(self, t: int, c0: int, c1: int) -> int:
        """Eliminate columns ``c0..c1-1`` from row ``t`` on; return the new ``t``."""
        w = c1 - c0
        if self.W.shape[0] - t > w and self.block_panel(t, c0, c1):
            return t + w
        return self.pivoting_panel(t, c0, c1)

    def block_panel(self, t: int, c0: int, c1: int) -> bool:
        """The panel's pivots on the diagonal of its top ``w x w`` block ``D``, if they can be.

        A *block* LU step: ``[D; A21] = [I; A21 D^-1] D``, so this panel's diagonal
        block of ``L`` is the identity (written as zeros below the diagonal; its
        ``U`` block ``D`` is never read again) and ``L21 = A21 D^-1`` is one product.
        Needs every leading principal minor of ``D`` non-zero mod p, which the
        Gauss-Jordan inverse checks (False, nothing changed, when one vanishes; random
        matrices almost never have one): the pivots stay those of an LU without swaps.
        """
        F, W = self.F, self.W
        w = c1 - c0
        if self.bound[c0:c1].max() > F.h:
            F.reduce(W[t:, c0:c1])
            self.bound[c0:c1] = F.h
        Dinv = _small_inverse(F, W[t : t + w, c0:c1])
        if Dinv is None:
            return False
        self.inverses[(t, w)] = _IDENTITY
        A21 = W[t + w :, c0:c1]
        A21[...] = F.matmul(A21, Dinv)
        D = W[t : t + w, c0:c1]
        D *= _upper_mask(w)
        self.pivot_cols.extend(range(c0, c1))
        self.finish_panel(t, c0, c1)
        return True

    def pivoting_panel(self, t: int, c0: int, c1: int) -> int:
        """Eliminate columns ``c0..c1-1`` from row ``t`` on, with row swaps; return new ``t``.

        The panel is copied transposed (its columns become contiguous rows), updated by
        in-place rank-one BLAS updates with delayed reduction, and written back; its
        row swaps are then applied to the rest of ``W``.
        """
        F, W, dger = self.F, self.W, self.dger
        P = W[t:, c0:c1].T.copy()  # P[c, i] = W[t + i, c0 + c]; a copy, never a view of W
        if self.bound[c0:c1].max() > F.h:
            F.reduce(P)
        w, rows = P.shape
        x = np.zeros(rows)
        j, pending = 0, 0
        swaps: list[tuple[int, int]] = []
        for c in range(w):
            if j == rows:
                break
            if pending:
                F.reduce(P[c, j:])
            i = j
            if P[c, j] == 0.0:  # look further only when needed: pivots are mostly on the diagonal
                nz = np.flatnonzero(P[c, j:])
                if nz.size == 0:
                    continue
                i = j + int(nz[0])
            if i != j:
                P[:, [j, i]] = P[:, [i, j]]
                swaps.append((t + j, t + i))
            f = F.scale(P[c, j + 1 :], F.inverse(P[c, j]))
            self.pivot_cols.append(c0 + c)
            j += 1
            if c + 1 < w and j < rows:
                if pending:
                    F.reduce(P[c + 1 :, j - 1])  # the pivot row's entries: reduced factors
                x[j:] = f
                # P[c+1:, j:] -= outer(P[c+1:, j-1], f): in place, on whole rows (x is
                # zero on the first j entries, which hold U)
                if self.rank_one_limbs:  # sum_i outer(limb i of the column, 2**(s i) f)
                    ys = F.split(P[c + 1 :, j - 1])
                    for xi, yi in zip([x, *F.shifted(x)], ys, strict=True):
                        dger(-1.0, xi, yi, a=P[c + 1 :].T, overwrite_a=1)
                else:
                    dger(-1.0, x, P[c + 1 :, j - 1], a=P[c + 1 :].T, overwrite_a=1)
                x[j] = 0.0
                pending += 1
                if pending >= self.limit:
                    F.reduce(P[c + 1 :])
                    pending = 0
        perm = self.perm
        for a, b in swaps:
            W[[a, b]] = W[[b, a]]
            perm[[a, b]] = perm[[b, a]]
            for Wi in self.Ws or []:
                Wi[[a, b]] = Wi[[b, a]]
        W[t:, c0:c1] = P.T
        self.bound[c0:c1] = F.h
        self.finish_panel(t, c0, c1)
        return t + j

    def schur(self, t1: int, cols: list[int], U: np.ndarray, c0: int, c1: int) -> None:
        """``W[t1:, c0:c1] -= W[t1:, cols] @ U``, reduced only when it must be."""
        F, W = self.F, self.W
        lo, hi = cols[0], cols[-1] + 1
        contiguous = hi - lo == len(cols)
        X = W[t1:, lo:hi] if contiguous else W[t1:, cols]
        Xs = None
        if self.Ws is not None:
            Xs = [Wi[t1:, lo:hi] if contiguous else Wi[t1:, cols] for Wi in self.Ws]
        block = W[t1:, c0:c1]
        bound = self.bound[c0:c1].max()
        self.bound[c0:c1] = F.sub_products(block, X, U, bound, Xs)

    def run(self, t: int, c0: int, c1: int) -> int:
        """Eliminate columns ``c0..c1-1`` (already updated) from row ``t``; return new ``t``."""
        W = self.W
        m = W.shape[0]
        if c1 - c0 <= _BASE or t == m:
            return self.base(t, c0, c1)
        F = self.F
        h = (c0 + c1) // 2
        k0 = len(self.pivot_cols)
        t1 = self.run(t, c0, h)
        if t1 > t and t1 < m:
            cols = self.pivot_cols[k0:]
            U = W[t:t1, h:c1]  # unreduced: _trsm reduces each block once, when it is solved
            lo, hi = cols[0], cols[-1] + 1
            L = W[t:t1, lo:hi] if hi - lo == len(cols) else W[t:t1][:, cols]
            Ls = None
            if self.Ws is not None:
                contiguous = hi - lo == len(cols)
                Ls = [Wi[t:t1, lo:hi] if contiguous else Wi[t:t1][:, cols] for Wi in self.Ws]
            _trsm(F, L, U, float(self.bound[h:c1].max()), self.inverses, t, Ls)
            self.schur(t1, cols, U, h, c1)
        return self.run(t1, h, c1)


_THREADED_SIDE = 1024
"""Smallest side for which :func:`_one_numpy_blas_thread` is worth its ~10 ms."""


@contextlib.contextmanager
def _one_numpy_blas_thread(*, active: bool) -> Iterator[None]:
    """Run numpy's BLAS on one thread while the in-place products run on scipy's (if distinct).

    The wheels load two OpenBLAS builds, numpy's and scipy's (whose ``dgemm`` does the
    Schur updates, :func:`gemm_sub`).  With both on several threads, the idle pool of
    one spins between calls and takes the cores from the other: 4096 × 4096 took 2.5 s
    on two threads against 1.5 s on one, and 1.0 s with numpy's pool (which only does
    the small panel products) on one thread.  A no-op without threadpoolctl, or where
    numpy and scipy share one BLAS.
    """
    controllers = []
    if active:
        try:
            import threadpoolctl
        except ImportError:  # pragma: no cover - optional
            pass
        else:
            libs = threadpoolctl.ThreadpoolController().lib_controllers
            blas = [c for c in libs if c.user_api == "blas"]
            if len({c.filepath for c in blas}) > 1:
                controllers = [
                    (c, c.num_threads) for c in blas if "numpy" in c.filepath and c.num_threads > 1
                ]
    for c, _ in controllers:
        c.set_num_threads(1)
    try:
        yield
    finally:
        for c, n in controllers:
            c.set_num_threads(n)


def rank_mod_float(
    M: np.ndarray, q: int, *, overwrite: bool = False
) -> tuple[int, list[int], list[int]]:
    """Rank of the residue matrix ``M`` modulo ``q < MAX_PRIME``.

    ``M`` holds ``int64`` residues in ``[0, q)`` or float64 residues with ``|M| < q``
    (e.g. balanced ones, as :mod:`mtd._tree_probes` forms them): both enter the
    elimination as they are (bound ``q``).  With ``overwrite``, a float64 ``M`` whose
    (transposed) layout is already the elimination's is eliminated in place, destroyed
    (no copy: 2 GB less at ``n = 16384``).

    Returns ``(rank, pivot rows, pivot columns)`` with the pivots in elimination order,
    as :func:`mtd._modular.rank_mod`.
    """
    F = _Field(q)
    # W is column-major (LAPACK's layout): the column panels the elimination works on are
    # then contiguous columns, which skinny products and reductions read fastest.  Tall
    # orientation (fewer panels); for a square row-major M, its transpose, whose
    # column-major copy is a straight (not transposing) conversion.
    m, n = M.shape
    transpose = n > m or (n == m and M.flags.c_contiguous)
    # residues (|x| < q) as they are: W is only ever updated, or reduced before use
    A = M.T if transpose else M
    if not (overwrite and A.dtype == np.float64 and A.flags.f_contiguous and A.flags.writeable):
        A = A.astype(np.float64, order="F")
    if A.size == 0 or not A.any():
        return 0, [], []
    lu = _InPlaceLU(F, A, float(q))
    with _one_numpy_blas_thread(active=A.shape[1] >= _THREADED_SIDE):
        k = lu.run(0, 0, A.shape[1])
    rows = [int(i) for i in lu.perm[:k]]
    pc = lu.pivot_cols
    return (k, pc, rows) if transpose else (k, rows, pc)
