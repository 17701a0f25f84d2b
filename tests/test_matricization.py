"""Tests of mtd.matricization: the the theory page, §1 convention, round trips, oracles, errors."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.errors import InvalidArgumentError, InvalidArgumentTypeError, InvalidIndexSetError
from mtd.strategies import index_sets, integer_tensors

# A[i0, i1, i2] = 4 i0 + 2 i1 + i2.  For I = {0, 2} the row is 2 i0 + i2 (mode 0 most
# significant) and the column is i1, so row (i0, i2) = (0, 1) holds A[0, :, 1] = [1, 3].
A222 = np.arange(8).reshape(2, 2, 2)
WORKED = [
    ([0], [[0, 1, 2, 3], [4, 5, 6, 7]]),
    ([1], [[0, 1, 4, 5], [2, 3, 6, 7]]),
    ([2], [[0, 2, 4, 6], [1, 3, 5, 7]]),
    ([0, 2], [[0, 2], [1, 3], [4, 6], [5, 7]]),
    ([2, 0], [[0, 2], [1, 3], [4, 6], [5, 7]]),  # the order of I does not matter
    ([0, 1], [[0, 1], [2, 3], [4, 5], [6, 7]]),
    ([1, 2], [[0, 4], [1, 5], [2, 6], [3, 7]]),
    ([], [[0, 1, 2, 3, 4, 5, 6, 7]]),
    ([0, 1, 2], [[0], [1], [2], [3], [4], [5], [6], [7]]),
]


@pytest.mark.parametrize(("I", "expected"), WORKED)
def test_worked_2x2x2(I, expected):
    X = mtd.matricize(A222, I)
    np.testing.assert_array_equal(X, np.array(expected))
    assert X.shape == mtd.matricization_shape(A222.shape, I)


def test_worked_rectangular_shape():
    A = np.arange(24).reshape(2, 3, 4)
    assert mtd.matricize(A, [1]).shape == (3, 8)
    assert mtd.matricize(A, [0, 2]).shape == (8, 3)
    # row (i0, i2) = (1, 3) -> 1 * 4 + 3 = 7; column i1 = 2; A[1, 2, 3] = 23
    assert mtd.matricize(A, [0, 2])[7, 2] == A[1, 2, 3] == 23


def _by_definition(A, I):
    """Fill [[A]]_I entry by entry from the written convention (independent of numpy reshapes)."""
    rows = sorted(I)
    cols = [m for m in range(A.ndim) if m not in set(rows)]
    shape_r = tuple(A.shape[m] for m in rows)
    shape_c = tuple(A.shape[m] for m in cols)
    X = np.zeros((math.prod(shape_r), math.prod(shape_c)), dtype=A.dtype)
    for idx in itertools.product(*(range(s) for s in A.shape)):
        r = np.ravel_multi_index(tuple(idx[m] for m in rows), shape_r) if rows else 0
        c = np.ravel_multi_index(tuple(idx[m] for m in cols), shape_c) if cols else 0
        X[r, c] = A[idx]
    return X


@given(st.data())
def test_matches_definition_entrywise(data):
    A = data.draw(integer_tensors(max_modes=4))
    I = data.draw(index_sets(A.ndim, min_size=0, proper=False))
    np.testing.assert_array_equal(mtd.matricize(A, I), _by_definition(A, I))


@given(st.data())
def test_single_mode_equals_tensorly_unfold(data):
    A = data.draw(integer_tensors(max_modes=5))
    k = data.draw(st.integers(0, A.ndim - 1))
    tensorly = pytest.importorskip("tensorly")
    np.testing.assert_array_equal(mtd.matricize(A, [k]), tensorly.base.unfold(A, k))


@given(st.data())
def test_round_trip(data):
    A = data.draw(integer_tensors(max_modes=5))
    I = data.draw(index_sets(A.ndim, min_size=0, proper=False))
    X = mtd.matricize(A, I)
    assert X.shape == mtd.matricization_shape(A.shape, I)
    B = mtd.unmatricize(X, I, A.shape)
    assert B.shape == A.shape
    np.testing.assert_array_equal(B, A)


@given(st.data())
def test_unmatricize_then_matricize(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    I = data.draw(index_sets(len(shape), min_size=0, proper=False))
    rows, cols = mtd.matricization_shape(shape, I)
    X = np.arange(rows * cols).reshape(rows, cols)
    np.testing.assert_array_equal(mtd.matricize(mtd.unmatricize(X, I, shape), I), X)


@given(st.data())
def test_complement_is_transpose(data):
    A = data.draw(integer_tensors(min_modes=2, max_modes=5))
    I = data.draw(index_sets(A.ndim))
    Ic = mtd.complement(I, A.ndim)
    np.testing.assert_array_equal(mtd.matricize(A, Ic), mtd.matricize(A, I).T)


def test_object_tensors_keep_python_ints():
    A = np.array([2**70, 1, 2, 3], dtype=object).reshape(2, 2)
    X = mtd.matricize(A, [1])
    assert X.dtype == object and X[0, 0] == 2**70 and X[0, 1] == 2


def test_matricize_accepts_nested_lists():
    np.testing.assert_array_equal(mtd.matricize([[1, 2], [3, 4]], [1]), [[1, 3], [2, 4]])


@pytest.mark.parametrize(
    ("I", "err", "match"),
    [
        ([3], InvalidIndexSetError, r"modes in 0\.\.2"),
        ([-1], InvalidIndexSetError, r"modes in 0\.\.2"),
        ([0, 0], InvalidIndexSetError, "must not repeat"),
        ([0.5], InvalidArgumentTypeError, "int modes"),
        ([True], InvalidArgumentTypeError, "int modes"),
        ("01", InvalidArgumentTypeError, "iterable of int modes"),
        (1, InvalidArgumentTypeError, "iterable of int modes"),
        (None, InvalidArgumentTypeError, "iterable of int modes"),
    ],
)
def test_matricize_errors(I, err, match):
    with pytest.raises(err, match=match):
        mtd.matricize(A222, I)


def test_errors_are_builtin_subclasses():
    with pytest.raises(ValueError):
        mtd.matricize(A222, [5])
    with pytest.raises(TypeError):
        mtd.matricize(A222, ["a"])


@pytest.mark.parametrize("bad", [np.float64(3.0), "abc", None])
def test_matricize_rejects_non_tensors(bad):
    with pytest.raises((InvalidArgumentError, InvalidArgumentTypeError), match="mode|array_like"):
        mtd.matricize(bad, [])


@pytest.mark.parametrize(
    ("matrix_shape", "I", "shape"),
    [((4, 2), [1], (2, 2, 2)), ((8,), [0], (2, 2, 2)), ((2, 4), [0, 2], (2, 2, 2))],
)
def test_unmatricize_wrong_shape(matrix_shape, I, shape):
    with pytest.raises(InvalidArgumentError, match="must have shape"):
        mtd.unmatricize(np.zeros(matrix_shape), I, shape)


def test_unmatricize_bad_modes():
    with pytest.raises(InvalidIndexSetError, match="must not repeat"):
        mtd.unmatricize(np.zeros((4, 2)), [0, 0], (2, 2, 2))


def test_matricization_shape_needs_no_data():
    assert mtd.matricization_shape((2, 3, 4, 5), [1, 3]) == (15, 8)
    assert mtd.matricization_shape((2, 3), []) == (1, 6)


def test_complement():
    assert mtd.complement([0, 2], 5) == (1, 3, 4)
    assert mtd.complement([], 2) == (0, 1)
    with pytest.raises(InvalidIndexSetError):
        mtd.complement([5], 3)
