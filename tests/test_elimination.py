"""Elimination over GF(p) on float64 residues (mtd._elimination) against python-flint.

Expected ranks come from python-flint's nmod_mat (independent C code); the pivots
returned are checked by inverting their submatrix with mtd's int64 path."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtd import _modular
from mtd._elimination import MAX_PRIME, _Field, rank_mod_float

flint = pytest.importorskip("flint")

PRIMES = [2, 3, 65521, _modular.first_prime_below(2**21), _modular.first_prime_below(MAX_PRIME)]


def low_rank(rng, m, n, r, p):
    """A random m x n matrix of rank <= r modulo p (product of two random factors)."""
    if r == 0:
        return np.zeros((m, n), dtype=np.int64)
    X = flint.nmod_mat(rng.integers(0, p, (m, r)).tolist(), p)
    Y = flint.nmod_mat(rng.integers(0, p, (r, n)).tolist(), p)
    return np.array([[int(v) for v in row] for row in (X * Y).tolist()], dtype=np.int64)


def flint_rank(A, p):
    return flint.nmod_mat(A.tolist(), p).rank()


@given(
    st.sampled_from(PRIMES),
    st.integers(1, 150),
    st.integers(1, 150),
    st.integers(0, 150),
    st.integers(0, 2**32 - 1),
)
def test_rank_and_pivots_match_flint(p, m, n, r, seed):
    # sizes cross the column-by-column base case (16) and, for primes near 2**26,
    # the limb split of the products; p = 2, 3 stress pivot search and zero columns
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, min(r, m, n), p)
    k, rows, cols = rank_mod_float(A, p)
    assert k == flint_rank(A, p)
    assert len(rows) == len(cols) == k and len(set(rows)) == len(set(cols)) == k
    if k:
        assert _modular.inv_mod(A[np.ix_(rows, cols)] % p, p) is not None


def test_large_full_and_deficient_ranks():
    rng = np.random.default_rng(0)
    p = _modular.first_prime_below(2**21)
    for m, n, r in [(400, 400, 400), (450, 300, 201), (200, 520, 199)]:
        A = low_rank(rng, m, n, r, p) if r < min(m, n) else rng.integers(0, p, (m, n))
        assert rank_mod_float(A, p)[0] == flint_rank(A, p)


@given(st.sampled_from(PRIMES[2:]), st.integers(1, 20), st.integers(1, 3000), st.data())
def test_products_are_exact(p, a, b, data):
    # one product, limbs and cut inner dimensions, against Python ints
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    F = _Field(p)
    X = rng.integers(0, p, (a, b))
    Y = rng.integers(0, p, (b, 3))
    got = F.matmul(F.balanced(X), F.balanced(Y))
    assert np.abs(got).max(initial=0) <= p // 2 + 2
    want = (X.astype(object) @ Y.astype(object)) % p
    assert np.array_equal(got.astype(np.int64) % p, want.astype(np.int64))


def test_reduce_is_balanced_near_two_to_the_53():
    p = _modular.first_prime_below(MAX_PRIME)
    F = _Field(p)
    x = np.array([2.0**53 - 1, -(2.0**53) + 1, (p // 2) * p + p // 2, 0.0, p * 12345.0 + 1])
    got = F.reduce(x.copy())
    assert np.all(np.abs(got) <= p // 2 + 2)
    assert [int(g) % p for g in got] == [int(v) % p for v in x]
