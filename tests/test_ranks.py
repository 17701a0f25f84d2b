"""Tests of mtd.ranks.  Expected ranks come from theory or from independent oracles
(sympy's Matrix.rank, python-flint), never from the code under test."""

import dataclasses
import math
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import _modular, _reference, ranks
from mtd.errors import (
    AmbiguousRankWarning,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidIndexSetError,
)
from mtd.ranks import AMBIGUITY_FACTOR, RANK_METHODS, get_rank_method
from mtd.strategies import index_sets, integer_matrices_of_rank, integer_tensors

flint = pytest.importorskip("flint")
sympy = pytest.importorskip("sympy")  # the oracle of these tests (the `test` extra has it)

ALL = ("numeric", "exact", "modular")


def _primes_below(bound, count):
    out, n = [], bound - 1
    while len(out) < count:
        if sympy.isprime(n):
            out.append(n)
        n -= 1
    return out


# The product of the 3 largest primes below 2**b for b = 8..31: divisible by every prime a
# multimodular rank routine working with primes of 8 to 31 bits is likely to try first.
MANY_PRIMES = math.prod(q for b in range(8, 32) for q in _primes_below(2**b, 3))


def _clean(fn, *args, **kwargs):
    """Call fn, failing on any AmbiguousRankWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousRankWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ worked examples
# (matrix, numeric, exact, {prime: rank mod prime}) -- every value derived by hand.
WORKED = [
    ([[1, 1], [1, 4]], 2, 2, {3: 1, 2: 2, 5: 2}),  # det 3
    ([[2, 0], [0, 1]], 2, 2, {2: 1, 3: 2}),  # det 2
    ([[1, 2], [2, 4]], 1, 1, {2: 1, 7: 1}),  # row 2 = 2 * row 1
    # row 3 = 2 row 2 - row 1; mod 3 every row is (1, 2, 0)
    ([[1, 2, 3], [4, 5, 6], [7, 8, 9]], 2, 2, {3: 1, 7: 2}),
    ([[1, 2, 3], [4, 5, 6], [7, 8, 10]], 3, 3, {3: 2, 5: 3}),  # det -3
    (np.eye(5, dtype=int), 5, 5, {2: 5}),
    (np.zeros((3, 4), dtype=int), 0, 0, {2: 0}),
    (np.zeros((0, 3), dtype=int), 0, 0, {2: 0}),
    (np.zeros((3, 0), dtype=int), 0, 0, {2: 0}),
    ([[6, 10, 15]], 1, 1, {2: 1, 3: 1, 5: 1}),  # gcd 1, so never all zero mod p
    ([[6], [12]], 1, 1, {2: 0, 3: 0, 5: 1}),  # every entry divisible by 2 and by 3
]


@pytest.mark.parametrize(("X", "numeric", "exact", "modular"), WORKED)
def test_worked_examples(X, numeric, exact, modular):
    assert _clean(mtd.matrix_rank, X) == numeric
    assert mtd.matrix_rank(X, method="exact") == exact
    for backend in ("numpy", "flint", "sympy"):
        assert mtd.matrix_rank(X, method="exact", backend=backend) == exact
        for p, r in modular.items():
            assert mtd.matrix_rank(X, method="modular", prime=p, backend=backend) == r


def test_modular_lower_than_exact_example():
    # the theory page, §6: rank mod p <= rank over Q, strictly here since det = 3.
    X = [[1, 1], [1, 4]]
    assert mtd.matrix_rank(X, method="modular", prime=3) == 1
    assert mtd.matrix_rank(X, method="exact") == 2


@pytest.mark.parametrize("method", ALL)
def test_returns_python_int(method):
    for X in ([[1, 2], [3, 4]], np.zeros((0, 2)), np.zeros((2, 2))):
        r = mtd.matrix_rank(X, method=method)
        assert type(r) is int
    assert type(mtd.matricization_rank(np.ones((2, 2, 2)), [0], method=method)) is int


# ------------------------------------------------------------------ input types
@pytest.mark.parametrize(
    ("X", "rank"),
    [
        (np.array([[True, False], [False, True]]), 2),
        (np.array([[True, True], [True, True]]), 1),
        (np.array([[1, 2], [2, 4]], dtype=np.int8), 1),
        (np.array([[1, 2], [3, 4]], dtype=np.uint8), 2),
        (np.array([[2**64 - 1, 1], [2**64 - 1, 1]], dtype=np.uint64), 1),
        (np.array([[2**64 - 1, 1], [2**63, 1]], dtype=np.uint64), 2),
        (np.array([[1.0, 2.0], [2.0, 4.0]]), 1),
        (np.array([[1e20, 0.0], [0.0, 1.0]]), 2),  # integral floats beyond int64
        (np.array([[1e20, 2e20], [3.0, 6.0]]), 1),
        (np.array([[2**70, 1], [1, 2**70]], dtype=object), 2),  # det 2**140 - 1
        (np.array([[2**70, 2**70 + 1], [2**71, 2**71 + 2]], dtype=object), 1),
        (
            np.array([[3**50, 5**40, 7**30], [1, 2, 3], [3**50 + 2, 5**40 + 4, 7**30 + 6]], object),
            2,
        ),
        ([[Fraction(1, 2), Fraction(1, 3)], [3, 2]], 1),
        ([[Fraction(1, 3), 1], [1, 3]], 1),
        ([[Fraction(1, 3), 1], [1, Fraction(1, 3)]], 2),
        ([[sympy.Rational(1, 2), sympy.Rational(1, 4)], [sympy.Integer(2), sympy.Integer(1)]], 1),
        ([[sympy.Rational(1, 2), 1], [sympy.Integer(1), 1]], 2),
        (np.array([[1, np.int64(2)], [np.bool_(True), 2.0]], dtype=object), 1),
        (sympy.Matrix([[1, 2], [3, 6]]), 1),
    ],
)
def test_exact_input_types(X, rank):
    for backend in ("numpy", "flint", "sympy"):
        assert mtd.matrix_rank(X, method="exact", backend=backend) == rank
    assert sympy.Matrix(_to_sympy(X)).rank() == rank  # the oracle agrees


def _to_sympy(X):
    def conv(x):
        if isinstance(x, (bool, np.bool_, float, np.floating)):
            return sympy.Integer(int(x))
        if isinstance(x, Fraction):
            return sympy.Rational(x.numerator, x.denominator)
        return sympy.sympify(int(x) if isinstance(x, np.integer) else x)

    return [[conv(x) for x in row] for row in np.array(X, dtype=object).tolist()]


def test_big_ints_modular():
    X = np.array([[2**70, 1], [1, 2**70]], dtype=object)  # det 2**140 - 1, divisible by 3
    assert mtd.matrix_rank(X, method="modular", prime=3) == 1
    assert mtd.matrix_rank(X, method="modular", prime=7) == 2  # 2**140 = 2**2 (mod 7)
    assert mtd.matrix_rank(X, method="modular") == 2


def test_rational_modular():
    X = [[Fraction(1, 2), Fraction(1, 3)], [1, 1]]  # det 1/2 - 1/3 = 1/6
    assert mtd.matrix_rank(X, method="modular", prime=5) == 2
    with pytest.raises(InvalidArgumentError, match="denominator divisible by prime=3"):
        mtd.matrix_rank(X, method="modular", prime=3)


# ------------------------------------------------------------------ multimodular certification
@pytest.mark.parametrize(
    ("X", "rank"),
    [
        ([[1, 0], [0, MANY_PRIMES]], 2),
        ([[MANY_PRIMES, 0], [0, MANY_PRIMES]], 2),
        ([[MANY_PRIMES, MANY_PRIMES], [MANY_PRIMES, MANY_PRIMES]], 1),
        ([[1, 1], [1, 1 + MANY_PRIMES]], 2),  # det = MANY_PRIMES
        ([[1, 1, 1], [1, 1 + MANY_PRIMES, 1], [1, 1, 1]], 2),
        ([[MANY_PRIMES]], 1),
        ([[MANY_PRIMES * 7, MANY_PRIMES * 11]], 1),
    ],
)
def test_exact_not_fooled_by_primes_dividing_minors(X, rank):
    # rank mod q drops below the rank over Q for every prime q dividing MANY_PRIMES.
    X = np.array(X, dtype=object)
    for backend in ("numpy", "flint", "sympy"):
        assert mtd.matrix_rank(X, method="exact", backend=backend) == rank
    assert mtd.matrix_rank(X, method="modular", prime=2**31 - 1) < rank or rank == 1


def test_exact_not_fooled_int64():
    # The same within int64: a 2 x 2 matrix whose determinant is a product of primes.
    P = math.prod(_primes_below(2**21, 2))  # < 2**42
    rng = np.random.default_rng(0)
    U = rng.integers(-3, 4, (40, 2))
    X = U @ np.array([[1, 1], [1, 1 + P]]) @ U.T
    assert (
        mtd.matrix_rank(X, method="exact", backend="numpy")
        == 2
        == flint.fmpz_mat(X.tolist()).rank()
    )


def _random_low_rank(rng, m, n, r, high):
    return rng.integers(-high, high + 1, (m, r)) @ rng.integers(-high, high + 1, (r, n))


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_flint_on_larger_random_matrices(seed):
    rng = np.random.default_rng(seed)
    m, n = (int(v) for v in rng.integers(20, 90, 2))
    r = int(rng.integers(0, min(m, n) + 1))
    X = _random_low_rank(rng, m, n, r, 10)
    if seed % 2:
        X[:, rng.integers(0, n, 3)] = 0  # zero columns and duplicated rows
        X[rng.integers(0, m, 3)] = X[0]
    expected = flint.fmpz_mat(X.tolist()).rank()
    assert mtd.matrix_rank(X, method="exact", backend="numpy") == expected
    assert mtd.matrix_rank(X.T, method="exact", backend="numpy") == expected
    assert mtd.matrix_rank(X, method="exact") == expected


@pytest.mark.parametrize(
    "prime", [2, 3, 65521, 2**21 - 9, 2**25 - 39, 2**27 - 39, 2**31 - 1, 2**31 - 19]
)
def test_numpy_modular_matches_flint(prime):
    # primes of every size: one float product, chunked products and 16-bit limbs
    rng = np.random.default_rng(prime % 1000)
    for m, n, r in ((70, 50, 20), (40, 90, 40), (100, 100, 100), (33, 33, 5)):
        X = _random_low_rank(rng, m, n, r, 5)
        expected = flint.nmod_mat(flint.fmpz_mat(X.tolist()), prime).rank()
        assert mtd.matrix_rank(X, method="modular", prime=prime, backend="numpy") == expected


@given(
    st.sampled_from([2**26 + 15, 2**29 - 3, 2**31 - 1]),
    st.integers(17, 110),
    st.integers(17, 110),
    st.integers(0, 110),
    st.sampled_from(["zero columns", "repeated rows", "near p/2", "plain"]),
    st.integers(0, 2**32 - 1),
)
def test_modular_rank_with_limbs_matches_flint(prime, m, n, r, shape, seed):
    # primes from 2**26 on (the default among them): every product of the float64
    # elimination split into limbs; low rank over Z, then structure that forces row swaps,
    # columns without pivots, or residues at the limbs' largest values (near +-p/2)
    rng = np.random.default_rng(seed)
    r = min(r, m, n)
    X = rng.integers(0, prime, (m, r)) @ rng.integers(-1, 2, (r, n))  # rank <= r, int64
    if shape == "zero columns":
        X[:, rng.random(n) < 0.3] = 0
    elif shape == "repeated rows":
        X[1::2] = X[0::2][: m // 2]
    elif shape == "near p/2":
        X = prime // 2 + rng.integers(-1, 2, (m, r)) @ rng.integers(-1, 2, (r, n))
    expected = flint.nmod_mat(flint.fmpz_mat(X.tolist()), prime).rank()
    assert mtd.matrix_rank(X, method="modular", prime=prime, backend="numpy") == expected
    k, rows, cols = _modular.rank_mod(X % prime, prime)
    assert k == expected and len(set(rows)) == len(set(cols)) == k
    D = flint.nmod_mat(flint.fmpz_mat(X[np.ix_(rows, cols)].tolist()), prime)
    assert D.rank() == k  # the pivot block is invertible mod p


# ------------------------------------------------------------------ properties
@given(integer_matrices_of_rank())
def test_exact_and_modular_equal_known_rank(Xk):
    # X = P Q with P, Q containing identity blocks: P has full column rank k and Q
    # full row rank k over *every* field, so rank X = k over Q and modulo every prime.
    X, k = Xk
    for backend in ("numpy", None):
        assert mtd.matrix_rank(X, method="exact", backend=backend) == k
        for p in (2, 3, mtd.DEFAULT_PRIME):
            r = mtd.matrix_rank(X, method="modular", prime=p, backend=backend)
            assert r == k


@given(integer_matrices_of_rank())
def test_numeric_agrees_on_small_integer_matrices(Xk):
    X, k = Xk
    assert _clean(mtd.matrix_rank, X) == k
    assert _clean(mtd.matrix_rank, X.astype(float)) == k


@given(integer_matrices_of_rank(max_rows=6, max_cols=6, max_entry=50))
def test_backends_agree_with_sympy_matrix_rank(Xk):
    X, k = Xk
    assert sympy.Matrix(X.tolist()).rank() == k
    for backend in ("numpy", "flint", "sympy"):
        assert mtd.matrix_rank(X, method="exact", backend=backend) == k


@st.composite
def _planted_matrices(draw):
    """Small integer matrices, some rows integer combinations of others, entries up to 2**80."""
    m, n = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    big = draw(st.sampled_from([3, 2**20, 2**40, 2**80]))
    rows = [draw(st.lists(st.integers(-big, big), min_size=n, max_size=n)) for _ in range(m)]
    for i in range(1, m):
        if draw(st.booleans()):
            j = draw(st.integers(0, i - 1))
            c = draw(st.integers(-5, 5))
            rows[i] = [a + c * b for a, b in zip(rows[i - 1], rows[j], strict=True)]
    return np.array(rows, dtype=object)


@given(_planted_matrices())
def test_exact_backends_agree_on_arbitrary_matrices(X):
    expected = sympy.Matrix(X.tolist()).rank()
    for backend in ("numpy", "flint", "sympy"):
        assert mtd.matrix_rank(X, method="exact", backend=backend) == expected
    for p in (5, 2**31 - 1, 2**61 - 1):
        r = mtd.matrix_rank(X, method="modular", prime=p)
        assert r <= expected
        assert r == mtd.matrix_rank(X, method="modular", prime=p, backend="sympy")


@given(
    st.lists(
        st.lists(st.fractions(-50, 50, max_denominator=12), min_size=3, max_size=3),
        min_size=1,
        max_size=4,
    )
)
def test_rationals_against_sympy(rows):
    expected = sympy.Matrix(
        [[sympy.Rational(f.numerator, f.denominator) for f in r] for r in rows]
    ).rank()
    for backend in ("numpy", "flint", "sympy"):
        assert mtd.matrix_rank(rows, method="exact", backend=backend) == expected


@given(st.data())
def test_complement_invariance_and_bound(data):
    A = data.draw(integer_tensors(min_modes=2, max_modes=4))
    I = data.draw(index_sets(A.ndim))
    Ic = mtd.complement(I, A.ndim)
    r = mtd.matricization_rank(A, I, method="exact")
    assert r == mtd.matricization_rank(A, Ic, method="exact")
    assert r <= min(mtd.matricization_shape(A.shape, I))
    assert (
        mtd.matricization_rank(A, I, method="modular")
        == mtd.matricization_rank(A, Ic, method="modular")
        <= r
    )
    # an independent route: index-mapping matricization, python-flint's rank
    assert r == _reference.exact_rank(_reference.matricize(A, I))


@given(st.data())
def test_rank_of_product_tensors(data):
    # A sum of k generic product tensors u_i (x) v_i (x) w_i has rank k across {0} | {1, 2}
    # when the u_i and the v_i (x) w_i are linearly independent: here standard basis vectors.
    k = data.draw(st.integers(1, 4))
    n = data.draw(st.integers(k, 5))
    coef = data.draw(st.lists(st.integers(1, 9), min_size=k, max_size=k))
    E = np.eye(n, dtype=np.int64)
    A = sum(c * np.einsum("i,j,k->ijk", E[i], E[i], E[(i + 1) % n]) for i, c in enumerate(coef))
    for method in ALL:
        for I in ([0], [1, 2], [1], [0, 2]):
            assert mtd.matricization_rank(A, I, method=method) == k


def test_orthogonal_factor_products():
    rng = np.random.default_rng(5)
    for m, n, k in ((30, 20, 7), (50, 50, 50), (40, 60, 1)):
        U = np.linalg.qr(rng.standard_normal((m, k)))[0]
        V = np.linalg.qr(rng.standard_normal((n, k)))[0]
        X = U @ np.diag(rng.uniform(1, 10, k)) @ V.T
        assert _clean(mtd.matrix_rank, X) == k


# ------------------------------------------------------------------ the theory page, §6
def _fibonacci_q(k):
    """[[1, 1], [1, 0]]**k = [[F(k+1), F(k)], [F(k), F(k-1)]]: det (-1)**k, singular values
    phi**k and phi**-k."""
    a, b = 1, 0
    for _ in range(k):
        a, b = a + b, a
    return np.array([[a, b], [b, a - b]], dtype=np.int64)


def test_float_svd_undercounts_a_kronecker_product():
    # rank(X (x) Y) = rank X * rank Y, so the Kronecker product of three unimodular
    # 2 x 2 matrices has rank 8; its singular values phi**(+-12 +-13 +-14) span 16
    # orders of magnitude, below float64's reach.
    X = np.kron(np.kron(_fibonacci_q(12), _fibonacci_q(13)), _fibonacci_q(14))
    assert mtd.matrix_rank(X, method="exact") == 8
    assert mtd.matrix_rank(X, method="modular") == 8
    assert mtd.matrix_rank(X) < 8


# ------------------------------------------------------------------ numeric_rank and warnings
def test_numeric_rank_info():
    X = np.array([[3.0, 0, 0], [0, 2.0, 0], [0, 0, 0]])
    info = mtd.numeric_rank(X)
    assert isinstance(info, mtd.NumericRank)
    assert info.rank == int(info) == 2
    np.testing.assert_allclose(info.singular_values, [3, 2, 0])
    assert info.rtol == np.finfo(float).eps * 3
    assert info.tolerance == pytest.approx(3 * info.rtol)
    assert info.gap == math.inf  # the dropped singular value is exactly 0
    assert info.ambiguous is False
    assert info.shape == (3, 3)
    text = repr(info)
    assert "NumericRank(rank=2, shape=(3, 3))" in text and "gap" in text and "3, 2, 0" in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.rank = 3
    with pytest.raises(ValueError):
        info.singular_values[0] = 1.0


def test_numeric_rank_gap_and_rtol():
    X = np.diag([1.0, 1e-3, 1e-9])
    info = mtd.numeric_rank(X, rtol=1e-6)
    assert info.rank == 2 and info.gap == pytest.approx(1e6) and not info.ambiguous
    assert info.tolerance == pytest.approx(1e-6)
    assert mtd.matrix_rank(X, rtol=1e-6) == 2
    assert mtd.matrix_rank(X, rtol=1e-2) == 1
    assert mtd.numeric_rank(X, rtol=1e-2).gap == pytest.approx(1e3)


def test_numeric_rank_matches_svd():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((7, 4))
    info = mtd.numeric_rank(X)
    np.testing.assert_allclose(info.singular_values, np.linalg.svd(X, compute_uv=False))
    assert info.rank == np.linalg.matrix_rank(X) == 4


def test_numeric_dtypes():
    X32 = np.diag(np.array([1.0, 1e-6], dtype=np.float32))
    info = mtd.numeric_rank(X32)
    assert info.rtol == pytest.approx(np.finfo(np.float32).eps * 2)
    assert info.rank == 2
    assert mtd.numeric_rank(np.diag([1.0, 1e-6])).rank == 2
    assert mtd.matrix_rank([[1j, 1], [-1, 1j]]) == 1  # row 2 = i * row 1
    assert mtd.matrix_rank([[1j, 1], [1, 1j]]) == 2
    assert mtd.matrix_rank([[Fraction(1, 3), 1], [1, 3]]) == 1
    assert mtd.numeric_rank(np.zeros((0, 4))).rank == 0


AMBIGUOUS = [
    np.diag([1.0, 3e-16]),  # sigma_2 just below the tolerance 4.4e-16
    np.diag([1.0, 6e-16]),  # just above it
    scipy.linalg.hilbert(12),  # a continuous spectrum through the threshold
    np.diag([1.0, 1e-13, 1e-15]),  # kept and dropped values only 100 apart
]


@pytest.mark.parametrize("X", AMBIGUOUS)
def test_ambiguous_warns(X):
    assert mtd.numeric_rank(X).ambiguous
    with pytest.warns(AmbiguousRankWarning, match="ambiguous") as record:
        mtd.matrix_rank(X)
    assert record[0].filename == __file__  # points at the caller
    with pytest.warns(AmbiguousRankWarning):
        mtd.matricization_rank(X, [0])


def test_ambiguity_factor_band():
    tol = 4 * np.finfo(float).eps * 2  # sigma_max = 4, rtol = 2 eps
    assert mtd.numeric_rank(np.diag([4.0, tol * AMBIGUITY_FACTOR * 1.01])).ambiguous is False
    assert mtd.numeric_rank(np.diag([4.0, tol / AMBIGUITY_FACTOR / 1.01])).ambiguous is False
    assert mtd.numeric_rank(np.diag([4.0, tol * AMBIGUITY_FACTOR * 0.99])).ambiguous is True


@pytest.mark.parametrize(
    "X",
    [
        np.eye(4),
        np.zeros((3, 3)),
        np.outer([1, 2, 3], [4, 5, 6]).astype(float),
        np.diag([1.0, 1e-8]),
        np.diag([1.0, 1e-20]),
        np.arange(60.0).reshape(6, 10),
    ],
)
def test_clean_cases_do_not_warn(X):
    assert not mtd.numeric_rank(X).ambiguous
    _clean(mtd.matrix_rank, X)


# ------------------------------------------------------------------ registry and errors
def test_default_backends():
    small, big = np.ones((64, 64), dtype=np.int64), np.ones((65, 64), dtype=np.int64)
    huge = np.array([[2**70]], dtype=object)
    assert ranks._choose_backend(small, None, None) == "flint"
    assert ranks._choose_backend(big, None, None) == "numpy"
    assert ranks._choose_backend(big, 7, None) == "numpy"
    assert ranks._choose_backend(huge, None, None) == "flint"
    assert ranks._choose_backend(big, 2**61 - 1, None) == "flint"
    assert ranks._choose_backend(big, 2**89 - 1, None) == "sympy"
    assert ranks._choose_backend(small, None, "sympy") == "sympy"


def test_registry():
    assert set(RANK_METHODS) == set(ALL)
    for name in ALL:
        assert get_rank_method(name) is RANK_METHODS[name]
    with pytest.raises(InvalidArgumentError, match=r"\['exact', 'modular', 'numeric'\]"):
        get_rank_method("svd")


def test_default_prime():
    assert mtd.DEFAULT_PRIME == 2**31 - 1 and sympy.isprime(mtd.DEFAULT_PRIME)


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"method": "svd"}, InvalidArgumentError, "method must be one of"),
        ({"method": None}, InvalidArgumentError, "method must be one of"),
        ({"rtol": -1.0}, InvalidArgumentError, "rtol must be a non-negative"),
        ({"rtol": "big"}, InvalidArgumentError, "rtol"),
        ({"method": "exact", "rtol": 1e-3}, InvalidArgumentError, "rtol applies only"),
        ({"method": "exact", "prime": 7}, InvalidArgumentError, "prime applies only"),
        ({"backend": "flint"}, InvalidArgumentError, "backend applies only"),
        ({"method": "exact", "backend": "gmp"}, InvalidArgumentError, "backend must be"),
        ({"method": "modular", "prime": 4}, InvalidArgumentError, "must be a prime number"),
        ({"method": "modular", "prime": 1}, InvalidArgumentError, "must be a prime number"),
        ({"method": "modular", "prime": -7}, InvalidArgumentError, "must be a prime number"),
        ({"method": "modular", "prime": 7.0}, InvalidArgumentTypeError, "prime must be an int"),
        ({"method": "modular", "prime": "7"}, InvalidArgumentTypeError, "prime must be an int"),
        ({"method": "modular", "prime": True}, InvalidArgumentTypeError, "prime must be an int"),
        (
            {"method": "modular", "prime": 2**61 - 1, "backend": "numpy"},
            InvalidArgumentError,
            "prime < 2",
        ),
        (
            {"method": "modular", "prime": 2**89 - 1, "backend": "flint"},
            InvalidArgumentError,
            "prime < 2",
        ),
    ],
)
def test_option_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        mtd.matrix_rank([[1, 2], [3, 4]], **kwargs)


def test_large_primes():
    X = [[1, 2], [3, 4 + (2**61 - 1)]]  # det = -2 + (2**61 - 1), so 2 mod 2**61 - 1 ... rank 2
    assert mtd.matrix_rank(X, method="modular", prime=2**61 - 1) == 2
    assert mtd.matrix_rank(X, method="modular", prime=2**61 - 1, backend="sympy") == 2
    Y = [[1, 2], [2, 4 + (2**89 - 1)]]  # = [[1, 2], [2, 4]] mod 2**89 - 1
    assert mtd.matrix_rank(Y, method="modular", prime=2**89 - 1) == 1
    assert mtd.matrix_rank(Y, method="exact") == 2


@pytest.mark.parametrize("method", ["exact", "modular"])
@pytest.mark.parametrize(
    "X",
    [
        np.array([[1.5, 2.0], [3.0, 4.0]]),
        np.array([[1.0, np.nan], [3.0, 4.0]]),
        np.array([[1.0, np.inf], [3.0, 4.0]]),
        np.array([[1 + 2j, 2], [3, 4]]),
        np.array([[1, 2.5], [3, 4]], dtype=object),
        np.array([[1, 2j], [3, 4]], dtype=object),
        np.array([[1, float("nan")], [3, 4]], dtype=object),
        np.array([[1, sympy.Float(0.5)], [3, 4]], dtype=object),
    ],
)
def test_exact_needs_integers_or_rationals(method, X):
    with pytest.raises(InvalidArgumentError, match=r"integer or rational.*method='numeric'"):
        mtd.matrix_rank(X, method=method)


@pytest.mark.parametrize("method", ALL)
@pytest.mark.parametrize(
    ("X", "err", "match"),
    [
        (np.array([[1, "a"], [3, 4]], object), InvalidArgumentTypeError, "must hold numbers"),
        (np.array([[1, None], [3, 4]], object), InvalidArgumentTypeError, "must hold numbers"),
        (np.array([[1, sympy.pi]], object), InvalidArgumentTypeError, "must hold numbers"),
        (np.array([["1", "2"]]), InvalidArgumentTypeError, "must hold numbers"),
        ("12", InvalidArgumentTypeError, "2-D array_like"),
        (None, InvalidArgumentTypeError, "2-D array_like"),
        ([1, 2, 3], InvalidArgumentError, "must be 2-D"),
        (np.ones((2, 2, 2)), InvalidArgumentError, "must be 2-D"),
        ([[1, 2], [3]], InvalidArgumentError, "rectangular"),
    ],
)
def test_matrix_errors(method, X, err, match):
    with pytest.raises(err, match=match):
        mtd.matrix_rank(X, method=method)


def test_numeric_rejects_non_finite():
    with pytest.raises(InvalidArgumentError, match="finite"):
        mtd.matrix_rank([[1.0, np.nan]])
    with pytest.raises(InvalidArgumentError, match="finite"):
        mtd.numeric_rank([[np.inf, 1.0]])


def test_matricization_rank_errors():
    A = np.ones((2, 2, 2))
    with pytest.raises(InvalidIndexSetError, match="must not repeat"):
        mtd.matricization_rank(A, [0, 0])
    with pytest.raises(InvalidIndexSetError, match=r"modes in 0\.\.2"):
        mtd.matricization_rank(A, [3], method="exact")
    with pytest.raises(InvalidArgumentError, match="method must be one of"):
        mtd.matricization_rank(A, [0], method="Exact")


def test_without_flint(monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)  # makes `import flint` fail
    with pytest.raises(ImportError, match="python-flint"):
        mtd.matrix_rank([[1, 2], [3, 4]], method="exact", backend="flint")
    # primes above 2**31 then fall back to sympy
    assert mtd.matrix_rank([[1, 2], [2, 4]], method="modular", prime=2**61 - 1) == 1
    assert mtd.matrix_rank([[1, 2], [3, 4]], method="exact") == 2


def test_numeric_object_complex():
    X = np.array([[1j, 1], [-1, 1j]], dtype=object)
    assert mtd.matrix_rank(X) == 1


# ------------------------------------------------------------------ internal helpers
def test_is_prime_matches_sympy():
    for n in [*range(-3, 2000), 2**31 - 1, 2**61 - 1, 2**64 + 13, 3215031751, 3825123056546413051]:
        assert _modular.is_prime(n) == sympy.isprime(n), n
    big = 2**89 - 1  # above the deterministic Miller-Rabin range: sympy decides
    assert _modular.is_prime(big) and not _modular.is_prime(big * 3)


def test_prime_bits_keeps_products_exact():
    for inner in (1, 2, 100, 2**10, 2**20):
        b = _modular.prime_bits(inner)
        assert inner * (2**b - 1) ** 2 < 2**53 <= inner * (2 ** (b + 1) - 1) ** 2 or b == 30


@pytest.mark.parametrize("q", [2, 7, 2**21 - 9, 2**31 - 1])
def test_inv_mod(q):
    rng = np.random.default_rng(q % 97)
    for k in (1, 2, 5, 40, 70):
        D = rng.integers(0, q, (k, k))
        Di = _modular.inv_mod(D, q)
        Dq = flint.nmod_mat(flint.fmpz_mat(D.tolist()), q)
        if Dq.rank() < k:
            assert Di is None
            continue
        product = Dq * flint.nmod_mat(flint.fmpz_mat(Di.tolist()), q)
        assert [int(v) for v in product.entries()] == np.eye(k, dtype=int).ravel().tolist()
    assert _modular.inv_mod(np.array([[0, 1], [1, 0]]), q).tolist() == [[0, 1], [1, 0]]
    assert _modular.inv_mod(np.array([[1, 1], [1, 1]]), q) is None
    singular_lead = np.eye(40, dtype=np.int64)[::-1].copy()  # leading 20 x 20 block is zero
    assert _modular.inv_mod(singular_lead, q) is None
    lead_ok = np.eye(40, dtype=np.int64)
    lead_ok[30:, 30:] = 1  # singular Schur complement
    assert _modular.inv_mod(lead_ok, q) is None


def test_rank_mod_pivots_and_zero_blocks():
    rng = np.random.default_rng(3)
    q = 2**21 - 9
    # 80 x 70: the left half of the columns is zero, so the first recursive half has no pivot
    X = np.hstack([np.zeros((80, 40), dtype=np.int64), _random_low_rank(rng, 80, 30, 12, 4)])
    for M in (X, X.T):
        r, rows, cols = _modular.rank_mod(M % q, q)
        assert r == 12
        D = M[np.ix_(rows, cols)]
        for k in range(1, r + 1):  # leading principal minors non-zero mod q
            assert flint.nmod_mat(flint.fmpz_mat(D[:k, :k].tolist()), q).rank() == k
    assert _modular.exact_rank(X) == 12 == mtd.matrix_rank(X, method="exact")
    assert _modular.exact_rank(np.zeros((0, 3), dtype=np.int64)) == 0


def test_padic_certificate():
    # rank mod q0 is 1 but the rank over Q is 2: the p-adic check must fail, and the
    # multimodular loop must then find the rank.
    q0 = _modular.first_prime_below(2 ** _modular.prime_bits(2))
    A = np.array([[1, 0], [0, q0]], dtype=np.int64)
    assert _modular.rank_mod(A % q0, q0)[0] == 1
    assert _modular.padic_vanishes(A, 1, math.log2(q0) + 1) is False
    assert _modular.exact_rank(A) == 2
    B = np.array([[2, 4, 6], [3, 6, 9], [1, 2, 3]], dtype=np.int64)  # rank 1
    assert _modular.padic_vanishes(B, 1, 20.0) is True
    assert _modular.padic_vanishes(B.astype(object), 1, 20.0) is None
    assert _modular.padic_vanishes(B * 2**40, 1, 70.0) is None  # entries too large
    assert _modular.padic_vanishes(np.zeros((2, 2), dtype=np.int64), 1, 1.0) is None  # D singular


# Moduli an exact rank might be tempted to stop at: the largest primes below 2^16..2^32
# (float-exact elimination) and 2^61..2^64 (machine words), and the default prime.
NATURAL_PRIMES = sorted(
    {sympy.prevprime(2**k) for k in (*range(16, 33), 61, 62, 63, 64)} | {mtd.DEFAULT_PRIME}
)


@pytest.mark.parametrize("backend", [None, "numpy", "flint", "sympy"])
def test_exact_rank_is_not_a_rank_modulo_a_natural_prime(backend):
    # diag(1, p) and [[1, 3], [5, 15 + p]] have rank 2 over Q and rank 1 modulo p
    for p in NATURAL_PRIMES:
        dtype = np.int64 if 15 + p < 2**63 else object
        for X in (np.array([[1, 0], [0, p]], dtype=dtype), np.array([[1, 3], [5, 15 + p]], dtype)):
            assert mtd.matrix_rank(X, method="exact", backend=backend) == 2, (p, X)
    big = math.prod(NATURAL_PRIMES)
    X = np.array([[1, 7, 0], [2, 14 + big, 0], [0, 0, 1]], dtype=object)  # det = big
    assert mtd.matrix_rank(X, method="exact", backend=backend) == 3
    # a larger int64 matrix whose rank drops modulo every natural prime at once
    rng = np.random.default_rng(0)
    for p in NATURAL_PRIMES[:17]:
        B = rng.integers(-1000, 1001, size=(12, 12))
        B[:, -1] = B[:, :-1] @ rng.integers(-3, 4, size=11)  # rank 11 ...
        B[0, -1] += p  # ... plus p on one entry: rank 12 over Q, 11 modulo p
        assert mtd.matrix_rank(B, method="exact", backend=backend) == 12, p
