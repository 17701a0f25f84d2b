"""Structural bounds (Theorem 7, trivial bound): formulas against hand-worked cases."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import ModeTree, theorem7_bounds, trivial_bound
from mtd.bounds import theorem7_exponents
from mtd.strategies import index_sets, mode_trees


@pytest.mark.parametrize(
    ("tree", "I", "exponents"),
    [
        # THEORY.md §5: baseline, N = 8, I = {0,1,2}: bounds r and r²
        (ModeTree.baseline(3), [0, 1, 2], (1, 2)),
        # a child of the root: eq. 3 has no dense layer after the root -> rank 1
        (ModeTree.baseline(3), [0, 1, 2, 3], (0, 1)),
        # interleaved on the baseline: every leaf pair {2i,2i+1} split, depth 3 > 1
        (ModeTree.baseline(3), [0, 2, 4, 6], (4, 4)),
        # the paper's separating example
        (ModeTree.baseline(4), [0, 2, 4, 6, 8, 9, 12, 13], (6, 6)),
        (ModeTree.swapped(4, 2), [0, 2, 4, 6, 8, 9, 12, 13], (6, 6)),
        # star tree: only depth-1 leaves, no pair deeper than 1
        (ModeTree.star(5), [0, 1], (0, 2)),
    ],
)
def test_worked_examples(tree, I, exponents):
    assert theorem7_exponents(tree, I) == exponents
    p, q = exponents
    assert theorem7_bounds(tree, I, 5) == (5**p, 5**q)


def test_bounds_are_exact_big_ints():
    lo, hi = theorem7_bounds(ModeTree.baseline(8), range(0, 256, 2), 7)
    assert lo == hi == 7**128  # far beyond int64


@given(mode_trees(min_modes=2, max_modes=14, max_arity=4), st.data(), st.integers(1, 5))
def test_bounds_ordered_and_symmetric(tree, data, r):
    I = data.draw(index_sets(tree.n_modes))
    Ic = set(range(tree.n_modes)) - set(I)
    lo, hi = theorem7_bounds(tree, I, r)
    assert 1 <= lo <= hi <= trivial_bound(tree.n_modes, I, r)
    assert theorem7_bounds(tree, Ic, r) == (lo, hi)  # rank [[A]]_I = rank [[A]]_Ic


@pytest.mark.parametrize("I", [[], [0, 1, 2, 3], [9]])
def test_index_set_must_be_proper(I):
    with pytest.raises(mtd.InvalidIndexSetError):
        theorem7_bounds(ModeTree.baseline(2), I, 2)


def test_argument_errors():
    with pytest.raises(TypeError, match="tree must be a ModeTree"):
        theorem7_bounds(((0, 1), (2, 3)), [0], 2)
    with pytest.raises(ValueError, match="r must be >= 1; got 0"):
        theorem7_bounds(ModeTree.baseline(2), [0], 0)
    assert trivial_bound(6, [0, 1], 3) == 9 and trivial_bound(6, [], 3) == 1
