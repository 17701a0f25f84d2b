"""Elimination over GF(p) on float64 residues (mtd._elimination) against python-flint.

Expected ranks come from python-flint's nmod_mat (independent C code); the pivots
returned are checked by inverting their submatrix with mtd's int64 path."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtd import _elimination, _modular
from mtd._elimination import MAX_PRIME, _Field, _small_inverse, gemm_sub, rank_mod_float

flint = pytest.importorskip("flint")

LIMB_PRIMES = [2**26 + 15, _modular.first_prime_below(2**29), 2**31 - 1]
"""Primes whose residue products pass ``2**53`` (two limbs): ``2**26 + 15``, the first
prime above ``2**26``, one below ``2**29``, and ``2**31 - 1``, the default prime."""
PRIMES = [
    2,
    3,
    65521,
    _modular.first_prime_below(2**21),
    _modular.first_prime_below(MAX_PRIME),
    *LIMB_PRIMES,
]


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


def test_updates_in_chunks_of_single_products():
    # p < 2**23: one exact product covers at most 512 of an inner dimension, so the
    # top-level updates (inner 550) run as chunks with the block reduced between them
    p = _modular.first_prime_below(2**23)
    assert _Field(p).single_inner < 550
    rng, r = np.random.default_rng(0), 1037
    A = rng.integers(0, p, (1100, 1100))
    A[r:] = A[: 1100 - r]  # repeated rows: rank r (with python-flint's confirmation)
    assert rank_mod_float(A, p)[0] == flint_rank(A, p) == r


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


def leading_minors_nonzero(A, rows, cols, p):
    D = flint.nmod_mat(A[np.ix_(rows, cols)].tolist(), p)
    return all(
        flint.nmod_mat([[D[i, j] for j in range(k)] for i in range(k)], p).rank() == k
        for k in range(1, len(rows) + 1)
    )


@given(
    st.sampled_from(PRIMES),
    st.integers(1, 90),
    st.integers(1, 90),
    st.integers(0, 90),
    st.sampled_from(
        ["zero columns", "zero top rows", "duplicate rows", "singular corner", "near p/2", "none"]
    ),
    st.integers(0, 2**32 - 1),
)
def test_structured_matrices_match_flint(p, m, n, r, shape, seed):
    # structure that defeats the diagonal-pivot fast path (a vanishing leading minor of a
    # panel's top block), forces row swaps, or leaves columns without a pivot
    rng = np.random.default_rng(seed)
    A = low_rank(rng, m, n, min(r, m, n), p)
    if shape == "zero columns":
        A[:, rng.random(n) < 0.3] = 0
    elif shape == "zero top rows":
        A[: rng.integers(0, m + 1)] = 0
    elif shape == "duplicate rows" and m > 1:
        A[1::2] = A[0::2][: m // 2]
    elif shape == "singular corner":
        A[: min(m, 20), : min(n, 20)] = 0  # every panel's first block starts singular
    elif shape == "near p/2":  # the largest balanced residues, both signs: the limb bounds
        A = (p // 2 + rng.integers(-2, 3, (m, n))) % p
        A[:, rng.random(n) < 0.2] = (p // 2 + 1) % p  # a residue in [0, p) for p = 2 too
    k, rows, cols = rank_mod_float(A, p)
    assert k == flint_rank(A, p)
    assert len(set(rows)) == len(set(cols)) == k
    if 0 < k <= 40:
        assert leading_minors_nonzero(A, rows, cols, p)


@pytest.mark.parametrize("p", [_modular.first_prime_below(MAX_PRIME), *LIMB_PRIMES])
def test_full_rank_with_large_prime_needs_intermediate_reductions(p):
    # p close to 2**26: only a few rank-one updates fit below 2**53, so the delayed
    # reductions must happen (Schur blocks, panels); above, every product is in limbs;
    # n = 300 crosses several levels
    rng = np.random.default_rng(1)
    A = rng.integers(0, p, (300, 300))
    B = low_rank(rng, 300, 260, 170, p)
    assert rank_mod_float(A, p)[0] == flint_rank(A, p) == 300
    assert rank_mod_float(B, p)[0] == flint_rank(B, p) == 170


@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 2**32 - 1))
def test_gemm_sub_on_strided_blocks(m, n, k, seed):
    # C -= A @ B in place on blocks of larger arrays, against numpy's product
    rng = np.random.default_rng(seed)
    big = rng.integers(-1000, 1000, (m + 5, n + 7)).astype(np.float64)
    A = rng.integers(-1000, 1000, (m + 3, k + 4)).astype(np.float64)[1 : m + 1, 2 : k + 2]
    B = rng.integers(-1000, 1000, (k, n + 1)).astype(np.float64)[:, 1:]
    want = big.copy()
    want[2 : m + 2, 3 : n + 3] -= A @ B
    gemm_sub(big[2 : m + 2, 3 : n + 3], A, B)
    assert np.array_equal(big, want)


@pytest.mark.parametrize("bits", [21, 23, 26, 27, 29, 31])
@pytest.mark.parametrize("k", [1, 16, 3000, 40000])
def test_sub_products_bounds_and_values(k, bits):
    # W - X @ Y mod p: one product (2**21, up to 8191 inner), single products on chunks of
    # the inner dimension with W reduced between them (2**21 at k = 40000; 2**23, chunks of
    # 512), two limbs (2**26, 2**27, 2**29), three (2**31), cut into chunks too (k = 3000
    # and 40000 for the larger ones); against Python ints
    p = _modular.first_prime_below(2**bits)
    F = _Field(p)
    h = p // 2 + 2
    single = next(i for i in range(2**23) if (i + 1) * h * h + h >= 2**53)  # Python ints
    assert F.needs_limbs(k) == (bits >= 26 and k > single)
    assert F.limbs == 2
    rng = np.random.default_rng(k)
    X = F.balanced(rng.integers(0, p, (3, k)))
    Y = F.balanced(rng.integers(0, p, (k, 2)))
    W0 = rng.integers(-(2**40), 2**40, (3, 2)).astype(np.float64)
    W = W0.copy()
    bound = F.sub_products(W, X, Y, 2.0**40)
    assert np.abs(W).max() <= bound < 2**53
    want = (
        W0.astype(np.int64).astype(object)
        - X.astype(np.int64).astype(object) @ Y.astype(np.int64).astype(object)
    ) % p
    assert np.array_equal(W.astype(np.int64) % p, want.astype(np.int64))


def leading_minor_ranks(D, p):
    """Whether each leading principal minor of ``D`` is non-zero mod p (python-flint)."""
    w = D.shape[0]
    return [flint.nmod_mat(D[:k, :k].tolist(), p).rank() == k for k in range(1, w + 1)]


@given(
    st.sampled_from(PRIMES),
    st.integers(1, 20),
    st.sampled_from(["random", "low rank", "zero pivot"]),
    st.integers(0, 2**32 - 1),
)
def test_small_inverse_or_vanishing_leading_minor(p, w, kind, seed):
    # the Gauss-Jordan panel inverse (two columns at a time, odd widths end with one):
    # None exactly when a leading principal minor vanishes mod p (python-flint), else
    # D X = I mod p in Python integers
    rng = np.random.default_rng(seed)
    F = _Field(p)
    D = rng.integers(0, p, (w, w))
    if kind == "low rank":
        D = low_rank(rng, w, w, int(rng.integers(0, w + 1)), p)
    elif kind == "zero pivot":
        k = int(rng.integers(0, w))
        D[k, :k] = 0  # with D[:k, k] = 0 below, minor k+1 = D[k, k] * minor k
        D[:k, k] = 0
        D[k, k] = 0
    X = _small_inverse(F, F.balanced(D))
    if not all(leading_minor_ranks(D, p)):
        assert X is None
        return
    assert X is not None and np.abs(X).max() <= p // 2 + 2
    got = (D.astype(object) @ X.astype(np.int64).astype(object)) % p
    assert np.array_equal(got.astype(np.int64), np.eye(w, dtype=np.int64))


@pytest.mark.parametrize("layout", ["C", "F", "transposed view", "strided slice"])
@pytest.mark.parametrize("p", [2, _modular.first_prime_below(2**21)])
def test_input_layouts_with_zero_leading_columns(layout, p):
    # the matrix is eliminated column-major; a square row-major input is eliminated as
    # its transpose.  Zero leading columns force the row-swapping panel at row 0, where a
    # transposed panel of a column-major matrix could alias it (a bug seen once)
    rng = np.random.default_rng(7)
    base = low_rank(rng, 41, 41, 9, p)
    base[:, :3] = 0
    base[:, 20] = 0
    if layout == "C":
        A = np.ascontiguousarray(base)
    elif layout == "F":
        A = np.asfortranarray(base)
    elif layout == "transposed view":
        A = np.ascontiguousarray(base.T).T
    else:
        big = np.zeros((82, 82), dtype=np.int64)
        big[::2, ::2] = base
        A = big[::2, ::2]
    k, rows, cols = rank_mod_float(A, p)
    assert k == flint_rank(base, p) == 9
    assert leading_minors_nonzero(base, rows, cols, p)


@pytest.mark.parametrize("p", [_modular.first_prime_below(MAX_PRIME), 2**31 - 1])
@pytest.mark.parametrize("limit", [None, 1024])
def test_scaled_copy_of_l_or_none(limit, p):
    # primes near 2**26 take two products per update, 2**31 - 1 three; the left factors
    # of the others, 2**(s i) L mod p, are kept beside L when the copies fit the memory
    # limit, else formed per product: both give python-flint's ranks, swaps and deficient
    # panels included
    import mtd
    from mtd._elimination import _InPlaceLU

    F = _Field(p)
    rng = np.random.default_rng(3)
    A = low_rank(rng, 150, 120, 70, p)
    A[:, 5:9] = 0
    A[:40] = 0  # every panel starts with zero rows: row swaps
    with mtd.memory_limit(limit or mtd.get_memory_limit()):
        lu = _InPlaceLU(F, A.astype(np.float64, order="F"), float(p))
        assert (lu.Ws is None) == (limit is not None)
        assert lu.Ws is None or len(lu.Ws) == F.limbs - 1
        assert lu.run(0, 0, A.shape[1]) == flint_rank(A, p) == 70
        assert rank_mod_float(A, p)[0] == 70


@pytest.mark.parametrize("p", [65521, _modular.first_prime_below(2**21), 2**31 - 1])
@pytest.mark.parametrize("r", [37, 90])
def test_balanced_float_input_and_overwrite(p, r):
    # the probe matrices' form: float64 balanced residues, C-contiguous; ranked as they are
    # (a wrong bound, or a copy that drops the sign, changes the rank against flint's), and
    # with overwrite eliminated in place (the input changes) where an int64 input never does
    rng = np.random.default_rng(r)
    A = low_rank(rng, 90, 90, r, p)
    B = A.astype(np.float64)
    B[B > p // 2] -= p
    assert B.min() < 0
    want = flint_rank(A, p)
    assert (
        rank_mod_float(B, p)[0] == want and rank_mod_float(B.copy(), p, overwrite=True)[0] == want
    )
    C = B.copy()
    assert rank_mod_float(C, p, overwrite=True)[0] == want and not np.array_equal(C, B)
    D = A.copy()
    assert rank_mod_float(D, p, overwrite=True)[0] == want and np.array_equal(D, A)
    assert _modular.rank_mod(B.copy(), p, overwrite=True)[0] == want


def test_numpy_blas_on_one_thread_during_elimination_and_restored(monkeypatch):
    # with two BLAS libraries (numpy's and scipy's wheels), numpy's pool is held at one
    # thread while the elimination runs (else the two spinning pools fight for the cores)
    # and given back afterwards; the rank is flint's either way
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def counts():
        libs = threadpoolctl.ThreadpoolController().lib_controllers
        return {c.filepath: c.num_threads for c in libs if c.user_api == "blas"}

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = counts()
        seen = []
        run = _elimination._InPlaceLU.run

        def spy(self, t, c0, c1):
            if (t, c0) == (0, 0) and c1 == self.W.shape[1]:
                seen.append(counts())
            return run(self, t, c0, c1)

        monkeypatch.setattr(_elimination._InPlaceLU, "run", spy)
        p = _modular.first_prime_below(2**21)
        A = low_rank(np.random.default_rng(0), 1024, 1024, 1000, p)
        assert rank_mod_float(A, p)[0] == flint_rank(A, p) == 1000
        assert counts() == before and len(seen) == 1
    if len(before) > 1 and max(before.values()) > 1:  # two libraries: numpy's was limited
        during = seen[0]
        assert all(during[f] == 1 for f in during if "numpy" in f)
        assert any(during[f] == 2 for f in during if "numpy" not in f)


@given(st.sampled_from(PRIMES[2:]), st.integers(1, 40), st.data())
def test_limbs_shifts_and_scaling_are_exact(p, n, data):
    # Y = sum_i 2**(s i) Y_i with |Y_i| within the bounds the products rely on, the shifted
    # left factors 2**(s i) X mod p, and c x mod p: against Python ints
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    F = _Field(p)
    h = p // 2 + 2
    Y = F.balanced(rng.integers(0, p, n))
    Y[0] = p // 2
    Y[-1] = -(p // 2)
    limbs = F.split(Y)
    assert len(limbs) == F.limbs and F.s * (F.limbs - 1) < h.bit_length() <= F.s * F.limbs
    assert all(np.abs(L).max() <= b for L, b in zip(limbs, F.limb_bounds, strict=True))
    assert all(_elimination._LIMB_INNER * h * b + h < 2**53 for b in F.limb_bounds)
    whole = sum(L.astype(np.int64).astype(object) * 2 ** (F.s * i) for i, L in enumerate(limbs))
    assert whole.tolist() == Y.astype(np.int64).tolist()
    X = F.balanced(rng.integers(0, p, n))
    shifted = F.shifted(X)
    assert len(shifted) == F.limbs - 1
    for i, Xi in enumerate(shifted, start=1):
        assert np.abs(Xi).max() <= h
        want = [int(x) * 2 ** (F.s * i) % p for x in X]
        assert [int(v) % p for v in Xi] == want
    c = data.draw(st.integers(-(p // 2), p // 2))
    got = F.scale(X.copy(), float(c))
    assert np.abs(got).max() <= h
    assert [int(v) % p for v in got] == [int(x) * c % p for x in X]


@pytest.fixture
def three_limbs(monkeypatch):
    """Limb products that must hold an inner dimension of 1024: three limbs near 2**31."""
    monkeypatch.setattr(_elimination, "_LIMB_INNER", 1024)


@pytest.mark.parametrize("p", [_modular.first_prime_below(2**30), 2**31 - 1])
def test_three_limbs_match_flint(p, three_limbs):
    # the k-limb path with k = 3 (the default plan takes two): splits, shifted left factors
    # kept beside L or formed per product, Horner scaling, against python-flint
    import mtd

    F = _Field(p)
    assert F.limbs == 3 and len(F.split(np.zeros(2))) == 3
    rng = np.random.default_rng(5)
    A = rng.integers(0, p, (300, 300))
    B = low_rank(rng, 260, 300, 170, p)
    B[:30] = 0
    B[:, 7:11] = 0
    assert rank_mod_float(A, p)[0] == flint_rank(A, p) == 300
    assert rank_mod_float(B, p)[0] == flint_rank(B, p) == 170
    with mtd.memory_limit(1024):  # no copies of L: each product scales its own block
        assert rank_mod_float(B, p)[0] == 170
    X = F.balanced(rng.integers(0, p, (3, 3000)))
    Y = F.balanced(rng.integers(0, p, (3000, 2)))
    W = np.zeros((3, 2))
    assert np.abs(W).max() <= F.sub_products(W, X, Y, 0.0) < 2**53
    want = (-(X.astype(np.int64).astype(object) @ Y.astype(np.int64).astype(object))) % p
    assert np.array_equal(W.astype(np.int64) % p, want.astype(np.int64))
