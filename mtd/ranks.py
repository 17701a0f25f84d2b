"""Ranks of matrices and matricizations: numeric (SVD), exact (over Q) and modular (over GF(p)).

The rank of a tensor ``A`` with respect to an index set ``I`` of its modes is the
rank of its matricization ``[[A]]_I`` (:func:`mtd.matricize`, the theory page, §1); it does
not depend on the row and column orderings and ``rank [[A]]_I = rank [[A]]_{Iᶜ}``.
Three methods, kept in the registry :data:`RANK_METHODS`:

``"numeric"``
    Count the singular values (``numpy.linalg.svd``) above ``rtol * sigma_max``,
    ``rtol`` defaulting to ``eps * max(m, n)`` as in ``scipy.linalg.orth``.  Fast,
    but for the matricizations mtd studies it can be wrong (the theory page, §6: float64
    SVD reported 61 to 63 for a true rank of 64).  The rank is *ambiguous* when the
    singular values adjacent to the threshold are within :data:`AMBIGUITY_GAP` of
    each other or one of them lies within a factor :data:`AMBIGUITY_FACTOR` of it;
    :func:`matrix_rank` then warns :class:`~mtd.errors.AmbiguousRankWarning` and
    :func:`numeric_rank` shows the singular values and the gap.
``"exact"``
    The rank over the rationals of a matrix of integers (any numpy integer or bool
    dtype, floats with integral values, object arrays of Python ints of any size) or
    rationals (``fractions.Fraction``, sympy ``Rational``; each row is scaled by the
    lcm of its denominators).  Certified, never probabilistic.
``"modular"``
    The rank over GF(p), ``p = prime`` (default :data:`DEFAULT_PRIME` ``= 2**31 - 1``).
    For an integer matrix ``rank mod p <= rank over Q``, so it is a proven *lower
    bound*, equal to the exact rank unless ``p`` divides every maximal non-zero
    minor.  Rationals are reduced mod p (a denominator divisible by p is an error).

Every method returns a Python ``int``; an empty matrix has rank 0.

Notes
-----
Backends (keyword ``backend``) of the exact and modular methods:

``"numpy"``
    mtd's own elimination modulo primes below 2**31 (:mod:`mtd._modular`): a
    recursive rank-revealing LU on float64 residues whose work is all BLAS matrix
    products, exact because every partial sum stays below 2**53, with delayed
    reduction.  From 2**26 on, a product of two residues no longer fits, so the right
    factor of every product is split into two balanced limbs (of 16 bits for
    ``DEFAULT_PRIME``), one BLAS product per limb.  The exact rank
    is certified: ``r = rank mod q`` with an invertible pivot block ``D`` proves
    ``rank >= r`` (full rank mod one prime needs nothing more); ``rank <= r`` holds
    iff the ``(r+1)``-minors bordering ``D`` vanish, which is checked p-adically
    (Dixon lifting, one prime) or modulo several primes, until the modulus exceeds
    the minors' Hadamard bound.  No data leaves numpy.
``"flint"``
    python-flint's ``fmpz_mat.rank`` / ``nmod_mat.rank`` (primes below 2**64).
``"sympy"``
    sympy's ``DomainMatrix`` over ``ZZ`` or ``GF(p)`` (any prime; slow).

``backend=None`` picks python-flint, if installed, for matrices of at most 64 x 64
entries and for exact ranks of object arrays (big integers), and numpy otherwise;
primes >= 2**31 go to python-flint (below 2**64) or sympy.  Measured on one core
(``benchmarks/README.md``), for 1024 x 1024 integer matrices (entries in [-10, 10], or
products of two such factors): converting to python-flint alone takes 0.18 s, and
``fmpz_mat.rank`` then takes 0.23 s at full rank, 0.82 s at rank 8 and 24.5 s at rank
256 (fraction-free elimination grows the entries).  The numpy backend takes 0.21 s,
0.05 s and 2.3 s for the same exact ranks, and 0.32 s, 0.05 s and 0.14 s modulo
``DEFAULT_PRIME`` (python-flint: 0.19 s conversion + 0.21 s, 0.04 s, 0.13 s).  Below
about 64 x 64, python-flint's C code wins over numpy's per-call overhead (at n = 64:
0.8 ms against 2.2 ms at full rank).

``DEFAULT_PRIME = 2**31 - 1`` is the largest prime whose residues multiply in int64
without overflow.  A rank mod p drops below the rank over Q only if p divides every
maximal non-zero minor; a minor of ``b`` bits has fewer than ``b / 30`` prime factors
above 2**30, so the default prime is almost never one of them for data that was not
built against it, but that is not a proof: ``method="exact"`` is.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from . import _modular
from ._optional import import_optional
from ._typing import ArrayLike, Modes
from ._validation import check_rtol
from .errors import (
    AmbiguousRankWarning,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    MissingDependencyError,
)
from .matricization import matricize

__all__ = [
    "DEFAULT_PRIME",
    "AMBIGUITY_GAP",
    "AMBIGUITY_FACTOR",
    "RANK_METHODS",
    "NumericRank",
    "get_rank_method",
    "matricization_rank",
    "matrix_rank",
    "numeric_rank",
]

DEFAULT_PRIME = 2**31 - 1
"""The default prime of ``method="modular"``: the Mersenne prime 2**31 - 1."""
AMBIGUITY_GAP = 1e3
"""A numeric rank is ambiguous if ``sigma_r / sigma_{r+1} <`` this (both non-zero)."""
AMBIGUITY_FACTOR = 2.0
"""A numeric rank is ambiguous if a singular value is within this factor of the tolerance."""

_BACKENDS = ("numpy", "flint", "sympy")
_SMALL = 64 * 64
"""Matrices with at most this many entries go to python-flint by default (if installed)."""
_MAX_NUMPY_PRIME = _modular._MAX_NUMPY_PRIME
_EXACT_HINT = "; exact and modular ranks need integer or rational entries (use method='numeric')"


# ------------------------------------------------------------------- validation
def _as_matrix(X: Any, name: str) -> np.ndarray:
    if X is None or isinstance(X, (str, bytes)):
        raise InvalidArgumentTypeError(f"{name} must be a 2-D array_like; got {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except ValueError as exc:
        raise InvalidArgumentError(f"{name} must be a rectangular 2-D array_like; {exc}") from None
    if arr.ndim != 2:
        raise InvalidArgumentError(f"{name} must be 2-D (a matrix); got shape {arr.shape}")
    if arr.dtype.kind not in "biufcO":
        raise InvalidArgumentTypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
    if arr.dtype == object:
        for x in arr.flat:
            if not isinstance(x, (numbers.Number, np.bool_)):
                raise InvalidArgumentTypeError(
                    f"{name} must hold numbers; got {x!r} of type {type(x).__name__}"
                )
    return arr


def _as_float(arr: np.ndarray, name: str) -> np.ndarray:
    kind = arr.dtype.kind
    if kind == "O":
        try:
            out = arr.astype(np.float64)
        except TypeError:
            out = arr.astype(np.complex128)
    elif kind in "fc" and arr.dtype.itemsize <= (4 if kind == "f" else 8):
        out = arr.astype(np.complex64 if kind == "c" else np.float32)
    elif kind == "c":
        out = arr.astype(np.complex128)
    else:
        out = arr.astype(np.float64)
    if not np.isfinite(out).all():
        raise InvalidArgumentError(f"{name} must have finite entries; got NaN or inf")
    return out


def _integer_matrix(arr: np.ndarray, name: str) -> tuple[np.ndarray, set[int]]:
    """An integer matrix with the rank of ``arr`` (rows scaled by denominators' lcm).

    Returns it (int64, or object of Python ints when entries exceed 2**62) with the
    set of denominators > 1 that were cleared.
    """
    kind = arr.dtype.kind
    if kind == "c":
        raise InvalidArgumentError(f"{name} has complex dtype {arr.dtype}{_EXACT_HINT}")
    if kind in "bi" or (kind == "u" and (arr.size == 0 or int(arr.max()) < 2**62)):
        return arr.astype(np.int64), set()
    if kind == "f":
        if not np.isfinite(arr).all():
            raise InvalidArgumentError(f"{name} has NaN or inf entries{_EXACT_HINT}")
        if (arr != np.floor(arr)).any():
            bad = float(arr[arr != np.floor(arr)].flat[0])
            raise InvalidArgumentError(f"{name} has non-integral entry {bad!r}{_EXACT_HINT}")
    rows: list[list[int | Fraction]] = []
    dens: set[int] = set()
    for row in arr.tolist():
        vals: list[int | Fraction] = []
        for x in row:
            if isinstance(x, (bool, np.bool_)):
                vals.append(int(x))
            elif isinstance(x, numbers.Rational):
                num, den = int(x.numerator), int(x.denominator)
                vals.append(num if den == 1 else Fraction(num, den))
            elif isinstance(x, numbers.Real):
                try:
                    v = int(math.trunc(x))
                except (ValueError, OverflowError, TypeError):
                    raise InvalidArgumentError(f"{name} has entry {x!r}{_EXACT_HINT}") from None
                if x != v:
                    raise InvalidArgumentError(f"{name} has non-integral entry {x!r}{_EXACT_HINT}")
                vals.append(v)
            else:
                raise InvalidArgumentError(f"{name} has complex entry {x!r}{_EXACT_HINT}")
        row_dens = [v.denominator for v in vals if isinstance(v, Fraction)]
        if row_dens:
            dens.update(row_dens)
            lcm = math.lcm(*row_dens)
            vals = [int(v * lcm) for v in vals]
        rows.append(vals)
    flat = [v for row in rows for v in row]
    if all(-(2**62) < int(v) < 2**62 for v in flat):
        return np.array(flat, dtype=np.int64).reshape(arr.shape), dens
    out = np.empty(arr.shape, dtype=object)
    out.ravel()[:] = [int(v) for v in flat]
    return out, dens


def _check_prime(prime: Any) -> int:
    if prime is None:
        return DEFAULT_PRIME
    if isinstance(prime, (bool, np.bool_)) or not isinstance(prime, (int, np.integer)):
        raise InvalidArgumentTypeError(
            f"prime must be an int; got {prime!r} of type {type(prime).__name__}"
        )
    p = int(prime)
    if p < 2 or not _modular.is_prime(p):
        raise InvalidArgumentError(f"prime must be a prime number >= 2; got {p}")
    return p


def _import_flint() -> Any:
    try:
        import flint
    except ImportError:
        return None
    return flint


def _backend(backend: Any, default: str) -> str:
    if backend is None:
        return default
    if backend not in _BACKENDS:
        raise InvalidArgumentError(f"backend must be None or one of {_BACKENDS}; got {backend!r}")
    if backend == "flint" and _import_flint() is None:
        raise MissingDependencyError(
            "backend='flint' needs python-flint, a dependency of mtd that is not installed: "
            "pip install python-flint"
        )
    return str(backend)


# ---------------------------------------------------------------------- numeric
@dataclass(frozen=True, repr=False, eq=False)
class NumericRank:
    """The numeric rank of a matrix with the singular values that decide it.

    Attributes
    ----------
    rank : int
        The number of singular values greater than ``tolerance``.
    singular_values : (min(m, n),) ndarray
        All singular values, descending (read-only).
    tolerance : float
        The absolute threshold ``rtol * sigma_max``.
    rtol : float
        The relative tolerance used (default ``eps * max(m, n)``).
    gap : float
        ``sigma_rank / sigma_{rank+1}``: how far the kept singular values stand above
        the dropped ones; ``inf`` if no value is dropped, none is kept, or the first
        dropped one is 0.
    ambiguous : bool
        ``gap < AMBIGUITY_GAP`` or some singular value lies in
        ``(tolerance / AMBIGUITY_FACTOR, tolerance * AMBIGUITY_FACTOR]``.
    shape : tuple of int
        The matrix's shape ``(m, n)``.
    """

    rank: int
    singular_values: np.ndarray
    tolerance: float
    rtol: float
    gap: float
    ambiguous: bool
    shape: tuple[int, int]

    def __int__(self) -> int:
        return self.rank

    def __repr__(self) -> str:
        s = self.singular_values
        shown = ", ".join(f"{v:.3g}" for v in s[:6]) + (f", ..., {s[-1]:.3g}" if s.size > 6 else "")
        r = self.rank
        gap_of = f"sigma_{r} / sigma_{r + 1}" if 0 < r < s.size else "nothing on one side"
        return "\n".join(
            [
                f"NumericRank(rank={r}, shape={self.shape})",
                f"  singular values : [{shown}]",
                f"  rtol            : {self.rtol:.3g} (relative to sigma_max)",
                f"  tolerance       : {self.tolerance:.3g}",
                f"  gap             : {self.gap:.3g} ({gap_of})",
                f"  ambiguous       : {self.ambiguous}",
            ]
        )


def _numeric_info(arr: np.ndarray, rtol: float | None, name: str) -> NumericRank:
    X = _as_float(arr, name)
    m, n = X.shape
    used = float(np.finfo(X.dtype).eps * max(m, n)) if rtol is None else rtol
    s = np.linalg.svd(X, compute_uv=False) if X.size else np.zeros(0)
    s = s.astype(np.float64)
    s.setflags(write=False)
    tol = float(s[0]) * used if s.size else 0.0
    r = int(np.count_nonzero(s > tol))
    gap = float(s[r - 1] / s[r]) if 0 < r < s.size and s[r] > 0 else math.inf
    near = tol > 0 and bool(((s > tol / AMBIGUITY_FACTOR) & (s <= tol * AMBIGUITY_FACTOR)).any())
    return NumericRank(r, s, tol, used, gap, gap < AMBIGUITY_GAP or near, (m, n))


def numeric_rank(X: ArrayLike, *, rtol: float | None = None) -> NumericRank:
    """Return the numeric rank of a matrix with its singular values and gap.

    The rank is the number of singular values greater than ``rtol * sigma_max``.
    It is *ambiguous* when the last kept and first dropped singular values are less
    than :data:`AMBIGUITY_GAP` apart (ratio), or when a singular value lies within a
    factor :data:`AMBIGUITY_FACTOR` of the threshold: then the answer depends on
    ``rtol``.  This function never warns; :func:`matrix_rank` does.

    Parameters
    ----------
    X : (m, n) array_like
        A real or complex matrix (object arrays of numbers are converted to float).
        For a tensor, pass ``mtd.matricize(A, I)``.
    rtol : float, optional
        Relative tolerance; default ``eps * max(m, n)`` with ``eps`` of the
        computation dtype (float32 for float32 input, else float64).

    Returns
    -------
    NumericRank
        ``rank``, ``singular_values``, ``tolerance``, ``rtol``, ``gap``,
        ``ambiguous`` and ``shape``; ``int(info)`` is the rank.

    Raises
    ------
    InvalidArgumentError
        If ``X`` is not 2-D, has NaN or inf entries, or ``rtol`` is negative.
    InvalidArgumentTypeError
        If ``X`` holds something other than numbers.

    See Also
    --------
    matrix_rank : the rank alone, by any method.

    Examples
    --------
    >>> info = mtd.numeric_rank([[1, 2], [2, 4.000001]])
    >>> info.rank, info.ambiguous
    (2, False)
    >>> mtd.numeric_rank(np.diag([1.0, 3e-16])).ambiguous
    True
    >>> A = np.arange(8).reshape(2, 2, 2)
    >>> print(mtd.numeric_rank(mtd.matricize(A, [0])))  # doctest: +ELLIPSIS
    NumericRank(rank=2, shape=(2, 4))
      singular values : [11.7, 1.52]
      rtol            : 8.88e-16 (relative to sigma_max)
      tolerance       : 1.04e-14
      gap             : inf (nothing on one side)
      ambiguous       : False
    """
    return _numeric_info(_as_matrix(X, "X"), check_rtol(rtol), "X")


# ---------------------------------------------------------------------- methods
def _rank_numeric(X: np.ndarray, *, rtol: float | None, name: str = "X", **_: Any) -> int:
    info = _numeric_info(X, rtol, name)
    if info.ambiguous:
        warnings.warn(
            f"numeric rank {info.rank} of a {info.shape[0]}x{info.shape[1]} matrix is "
            f"ambiguous: gap sigma_r/sigma_r+1 = {info.gap:.3g} (ambiguous below "
            f"{AMBIGUITY_GAP:g}) at tolerance {info.tolerance:.3g}, or a singular value "
            f"within a factor {AMBIGUITY_FACTOR:g} of it; see mtd.numeric_rank(X), or use "
            "method='exact' or 'modular' on integer data",
            AmbiguousRankWarning,
            stacklevel=4,
        )
    return info.rank


def _choose_backend(M: np.ndarray, p: int | None, backend: Any) -> str:
    """The backend that will run: the one asked for, or the default policy (module Notes)."""
    has_flint = _import_flint() is not None
    if p is not None and p >= _MAX_NUMPY_PRIME:
        default = "flint" if has_flint and p < 2**64 else "sympy"
    elif has_flint and (M.size <= _SMALL or (p is None and M.dtype == object)):
        default = "flint"
    else:
        default = "numpy"
    which = _backend(backend, default)
    if p is not None and which == "numpy" and p >= _MAX_NUMPY_PRIME:
        raise InvalidArgumentError(f"backend='numpy' needs prime < 2**31; got {p}")
    if p is not None and which == "flint" and p >= 2**64:
        raise InvalidArgumentError(f"backend='flint' needs prime < 2**64; got {p}")
    return which


def _convert(M: np.ndarray, which: str, p: int | None) -> Any:
    """``M`` in the backend's own type (residues mod p for the numpy modular rank)."""
    if which == "numpy":
        return M if p is None else _modular.residues(M, p)
    if which == "flint":
        flint = _import_flint()
        Z = flint.fmpz_mat(M.tolist())
        return Z if p is None else flint.nmod_mat(Z, p)
    return _sympy_matrix(M, p)


def _eliminate(data: Any, which: str, p: int | None) -> int:
    if which != "numpy":
        return int(data.rank())
    if p is None:
        return int(_modular.exact_rank(data))
    return int(_modular.rank_mod(data, p)[0])


def _rank_exact(X: np.ndarray, *, backend: str | None, name: str = "X", **_: Any) -> int:
    M, _dens = _integer_matrix(X, name)
    which = _choose_backend(M, None, backend)
    return 0 if M.size == 0 else _eliminate(_convert(M, which, None), which, None)


def _rank_modular(
    X: np.ndarray, *, prime: int | None, backend: str | None, name: str = "X", **_: Any
) -> int:
    p = _check_prime(prime)
    M, dens = _integer_matrix(X, name)
    bad = sorted(d for d in dens if d % p == 0)
    if bad:
        raise InvalidArgumentError(
            f"{name} has a denominator divisible by prime={p} (got {bad[0]}), so it has no "
            "value mod p; choose another prime"
        )
    which = _choose_backend(M, p, backend)
    return 0 if M.size == 0 else _eliminate(_convert(M, which, p), which, p)


def _sympy_matrix(M: np.ndarray, p: int | None) -> Any:
    sympy = import_optional("sympy", purpose="the sympy rank backend")
    GF, ZZ = sympy.GF, sympy.ZZ
    DomainMatrix = import_optional(
        "sympy.polys.matrices", purpose="the sympy rank backend"
    ).DomainMatrix

    dom = ZZ if p is None else GF(p)
    rows = [[dom(int(v)) for v in row] for row in M.tolist()]
    return DomainMatrix(rows, M.shape, dom)


RANK_METHODS: dict[str, Callable[..., int]] = {
    "numeric": _rank_numeric,
    "exact": _rank_exact,
    "modular": _rank_modular,
}
"""Rank methods by name.  Each takes a validated 2-D ndarray and keyword-only ``rtol``,
``prime``, ``backend`` (each method reads only its own) and ``name`` (for error
messages), and returns an int."""


def get_rank_method(name: str) -> Callable[..., int]:
    """Return the rank method registered under ``name`` in :data:`RANK_METHODS`.

    Parameters
    ----------
    name : str
        ``"numeric"``, ``"exact"`` or ``"modular"``.

    Returns
    -------
    callable

    Raises
    ------
    InvalidArgumentError
        If ``name`` is not registered; the message lists the valid names.

    Examples
    --------
    >>> mtd.ranks.get_rank_method("exact") is mtd.ranks.RANK_METHODS["exact"]
    True
    """
    if not isinstance(name, str) or name not in RANK_METHODS:
        raise InvalidArgumentError(f"method must be one of {sorted(RANK_METHODS)}; got {name!r}")
    return RANK_METHODS[name]


def _rank(X: np.ndarray, name: str, method: str, rtol: Any, prime: Any, backend: Any) -> int:
    fn = get_rank_method(method)
    rtol = check_rtol(rtol)
    for arg, value, owner in (("rtol", rtol, "numeric"), ("prime", prime, "modular")):
        if value is not None and method != owner:
            raise InvalidArgumentError(
                f"{arg} applies only to method={owner!r}; got {arg}={value!r} with "
                f"method={method!r}"
            )
    if backend is not None and method == "numeric":
        raise InvalidArgumentError(f"backend applies only to exact and modular; got {backend!r}")
    return fn(X, rtol=rtol, prime=prime, backend=backend, name=name)


def matrix_rank(
    X: ArrayLike,
    *,
    method: str = "numeric",
    rtol: float | None = None,
    prime: int | None = None,
    backend: str | None = None,
) -> int:
    """Return the rank of a matrix, numerically, over Q, or over GF(p).

    Parameters
    ----------
    X : (m, n) array_like
        The matrix.  ``"exact"`` and ``"modular"`` need integer entries (any integer
        or bool dtype, integral floats, Python ints of any size) or rationals
        (``fractions.Fraction``, sympy ``Rational``).
    method : {"numeric", "exact", "modular"}
        See the module docstring; registered in :data:`RANK_METHODS`.
    rtol : float, optional
        ``"numeric"`` only: threshold relative to the largest singular value,
        default ``eps * max(m, n)``.
    prime : int, optional
        ``"modular"`` only: the prime p, default :data:`DEFAULT_PRIME`.
    backend : {None, "numpy", "flint", "sympy"}
        ``"exact"`` and ``"modular"`` only.  None picks ``"numpy"`` (``"flint"``,
        else ``"sympy"``, for primes >= 2**31).

    Returns
    -------
    int

    Raises
    ------
    InvalidArgumentError
        Unknown ``method`` or ``backend``; ``X`` not 2-D; NaN/inf; non-integral,
        complex or (mod p) undefined entries for ``"exact"``/``"modular"``;
        ``prime`` not a prime; an option given to a method that does not use it.
    InvalidArgumentTypeError
        ``X`` holds non-numbers, or ``prime`` is not an int.

    Warns
    -----
    AmbiguousRankWarning
        ``"numeric"`` only, when the rank is ambiguous (see :func:`numeric_rank`).

    See Also
    --------
    matricization_rank : the same for ``[[A]]_I``.
    numeric_rank : singular values, tolerance and gap.

    Examples
    --------
    >>> X = [[1, 1], [1, 4]]
    >>> mtd.matrix_rank(X), mtd.matrix_rank(X, method="exact")
    (2, 2)
    >>> mtd.matrix_rank(X, method="modular", prime=3)  # 4 = 1 mod 3
    1
    >>> from fractions import Fraction
    >>> mtd.matrix_rank([[Fraction(1, 2), Fraction(1, 3)], [3, 2]], method="exact")
    1
    """
    return _rank(_as_matrix(X, "X"), "X", method, rtol, prime, backend)


def matricization_rank(
    A: ArrayLike,
    I: Modes,
    *,
    method: str = "numeric",
    rtol: float | None = None,
    prime: int | None = None,
    backend: str | None = None,
) -> int:
    """Return the rank of the matricization ``[[A]]_I`` of a tensor.

    This is ``matrix_rank(mtd.matricize(A, I), ...)``; it equals the rank for the
    complement ``Iᶜ`` and is at most ``min(matricization_shape(A.shape, I))``.

    Parameters
    ----------
    A : (n_0, ..., n_{N-1}) array_like
        The tensor (see :func:`matrix_rank` for the entries each method accepts).
    I : iterable of int
        The row modes.
    method, rtol, prime, backend
        As in :func:`matrix_rank`.

    Returns
    -------
    int

    Raises
    ------
    InvalidIndexSetError
        If ``I`` has a mode out of range or repeats one.
    InvalidArgumentError, InvalidArgumentTypeError
        As in :func:`matrix_rank`.

    Warns
    -----
    AmbiguousRankWarning
        ``"numeric"`` only, when the rank is ambiguous (see :func:`numeric_rank`).

    See Also
    --------
    matrix_rank, numeric_rank, mtd.matricize

    Examples
    --------
    A sum of two product tensors has rank 2 for every bipartition of its modes:

    >>> u, v = np.array([1, 2]), np.array([1, -1])
    >>> A = np.einsum("i,j,k->ijk", u, u, u) + np.einsum("i,j,k->ijk", v, v, v)
    >>> mtd.matricization_rank(A, [0, 2], method="exact")
    2
    >>> mtd.matricization_rank(A, [1], method="modular"), mtd.matricization_rank(A, [1])
    (2, 2)
    """
    return _rank(_as_matrix(matricize(A, I), "A"), "A", method, rtol, prime, backend)
