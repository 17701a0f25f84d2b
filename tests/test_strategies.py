"""The Hypothesis strategies users import from mtd.strategies."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.strategies import index_sets, integer_matrices_of_rank, integer_tensors, mode_trees


@given(mode_trees(min_modes=3, max_modes=9, max_arity=3))
def test_mode_trees_respect_bounds(tree):
    assert isinstance(tree, mtd.ModeTree) and 3 <= tree.n_modes <= 9
    assert all(2 <= len(tree.children(n)) <= 3 for n in tree.interior_nodes)


@given(mode_trees(max_modes=9, contiguous=True))
def test_contiguous_trees(tree):
    assert all(max(n) - min(n) + 1 == len(n) for n in tree.nodes)


@given(index_sets(7, min_size=2, max_size=5))
def test_index_sets(I):
    assert isinstance(I, frozenset) and 2 <= len(I) <= 5 and I <= set(range(7))


@given(integer_matrices_of_rank(max_rows=6, max_cols=6))
def test_matrices_of_rank_have_that_rank(case):
    X, k = case
    # independent oracle: sympy's exact rank
    sympy = pytest.importorskip("sympy")

    assert sympy.Matrix(X.tolist()).rank() == k


@given(integer_tensors(max_modes=3))
def test_integer_tensors(A):
    assert A.dtype == np.int64 and 1 <= A.ndim <= 3


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: mode_trees(min_modes=5, max_modes=3), "max_modes must be >= min_modes"),
        (lambda: mode_trees(min_modes=0), "min_modes must be >= 1"),
        (lambda: mode_trees(max_arity=1), "max_arity must be >= 2"),
        (lambda: index_sets(4, max_size=4), "max_size must be <= 3"),
        (lambda: index_sets(4, min_size=3, max_size=2), "max_size must be >= min_size"),
    ],
)
def test_impossible_arguments_raise(factory, match):
    with pytest.raises(mtd.InvalidArgumentError, match=match):
        factory()


def test_lazy_submodule():
    assert mtd.strategies.mode_trees is mode_trees
    st.none()  # hypothesis importable here
