"""Grid tensors of callables and the memory guard (the theory page, §1)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import TensorTooLargeError, grid_tensor


def test_worked_example():
    V = np.array([[1.0], [2.0]])
    A = grid_tensor(lambda X: X[:, :, 0].prod(axis=1), V, 3)
    # A[d0,d1,d2] = (d0+1)(d1+1)(d2+1), worked by hand
    want = np.array([[[1, 2], [2, 4]], [[2, 4], [4, 8]]], dtype=float)
    np.testing.assert_array_equal(A, want)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**16))
def test_multilinear_function_gives_coefficients_times_discretizers(N, M, r, seed):
    # the theory page, §1: for f multilinear with coefficient tensor C, A = C ×_0 V ×_1 V …
    rng = np.random.default_rng(seed)
    C = rng.integers(-3, 4, (r,) * N)
    V = rng.integers(-3, 4, (M, r))

    def f(X):  # X: (batch, N, r); contract C with the N vectors
        out = C[None].astype(np.int64)
        for j in range(N):
            out = np.einsum("b i ..., b i -> b ...".replace(" ", ""), out, X[:, j])
        return out

    A = grid_tensor(f, V, N, chunk_size=5)
    want = C
    for _ in range(N):
        want = np.tensordot(want, V, axes=([0], [1]))  # contracts the oldest remaining mode
    np.testing.assert_array_equal(A, want)


def test_chunking_and_scalar_calls_agree():
    rng = np.random.default_rng(0)
    V = rng.standard_normal((3, 2))

    def f(X):
        return np.sin(X.sum(axis=(1, 2))) + X[:, 0, 1] * X[:, -1, 0]

    a = grid_tensor(f, V, 4)
    b = grid_tensor(f, V, 4, chunk_size=7)
    c = grid_tensor(lambda *vs: f(np.stack(vs)[None])[0], V, 4, vectorized=False)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, c)


def test_vector_outputs_and_exact_dtype():
    V = np.array([[1], [2]], dtype=object)
    A = grid_tensor(lambda X: np.stack([X[:, 0, 0] * 10**20, X[:, 1, 0]], axis=1), V, 2)
    assert A.shape == (2, 2, 2) and A.dtype == object
    assert A[1, 0, 0] == 2 * 10**20 and A[1, 0, 1] == 1


def test_one_dimensional_discretizers():
    A = grid_tensor(lambda X: X[:, 0, 0] - X[:, 1, 0], [0, 5], 2)
    np.testing.assert_array_equal(A, [[0, -5], [5, 0]])


def test_memory_guard_refuses_before_calling_f():
    calls = []

    def f(X):
        calls.append(len(X))
        return X.sum(axis=(1, 2))

    with pytest.raises(TensorTooLargeError, match="over the memory limit of 1,000 bytes"):
        grid_tensor(f, np.eye(4), 10, max_bytes=1000)
    with pytest.raises(MemoryError):  # 10^30 entries: refused without evaluating f
        grid_tensor(f, np.eye(10), 30)
    assert calls == []
    with mtd.memory_limit(64), pytest.raises(mtd.MTDError):
        grid_tensor(f, np.eye(2), 4)  # 16 float64 entries = 128 bytes > 64


def test_memory_guard_uses_the_output_itemsize():
    # 2^4 = 16 entries: fits at 1 byte/entry (int8), not at 8 bytes/entry
    with pytest.raises(TensorTooLargeError):
        grid_tensor(lambda X: X.sum(axis=(1, 2)), np.eye(2), 4, max_bytes=64)
    A = grid_tensor(lambda X: X.sum(axis=(1, 2)).astype(np.int8), np.eye(2), 4, max_bytes=64)
    assert A.dtype == np.int8


@pytest.mark.parametrize(
    ("args", "kwargs", "err", "match"),
    [
        ((1, np.eye(2), 3), {}, TypeError, "f must be callable"),
        (
            (np.sum, np.zeros((2, 2, 2)), 3),
            {},
            ValueError,
            r"\(M, r\) array.*got shape \(2, 2, 2\)",
        ),
        ((np.sum, np.zeros((0, 2)), 3), {}, ValueError, "non-empty"),
        ((np.sum, np.eye(2), 0), {}, ValueError, "n_modes must be >= 1; got 0"),
        ((lambda X: X.sum(), np.eye(2), 2), {}, ValueError, "one value per grid point"),
        ((np.sum, np.eye(2), 2), {"chunk_size": 0}, ValueError, "chunk_size must be >= 1"),
    ],
)
def test_errors(args, kwargs, err, match):
    with pytest.raises(err, match=match):
        grid_tensor(*args, **kwargs)


def test_memory_limit_settings():
    old = mtd.get_memory_limit()
    with mtd.memory_limit(123):
        assert mtd.get_memory_limit() == 123
    assert mtd.get_memory_limit() == old
    with pytest.raises(ValueError, match="nbytes must be >= 1"):
        mtd.set_memory_limit(0)
