"""Structural bounds (Theorem 7, trivial bound): formulas against hand-worked cases."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import ModeTree, _reference, theorem7_bounds, trivial_bound
from mtd.bounds import theorem7_exponents
from mtd.strategies import index_sets, mode_trees


@pytest.mark.parametrize(
    ("tree", "I", "exponents"),
    [
        # the theory page, §5: baseline, N = 8, I = {0,1,2}: bounds r and r²
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


@given(mode_trees(min_modes=2, max_modes=40, max_arity=5), st.data())
def test_exponents_equal_the_independent_count(tree, data):
    # the vectorized count against tilings and split nodes recomputed from nested tuples
    # (mtd._reference) and against the tree's own tilings
    I = data.draw(index_sets(tree.n_modes))
    Ic = set(range(tree.n_modes)) - set(I)
    p, q = theorem7_exponents(tree, I)
    assert (p, q) == _reference.theorem7_exponents(tree.to_nested(), I)
    assert q == min(len(tree.tiling(I)), len(tree.tiling(Ic)))


@pytest.mark.parametrize(
    ("tree", "I"),
    [
        (ModeTree.linear(300), range(0, 300, 2)),  # deep: one node per depth
        (ModeTree.linear(300), range(150)),
        (ModeTree.balanced(243, arity=3), range(0, 243, 3)),
        (ModeTree.baseline(9), range(1, 512, 2)),
    ],
)
def test_exponents_on_large_trees_equal_the_independent_count(tree, I):
    assert theorem7_exponents(tree, I) == _reference.theorem7_exponents(tree.to_nested(), I)


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


# ------------------------------------------------------------------ min-cut on trees


@pytest.mark.parametrize(
    ("tree", "I", "r", "M", "want"),
    [
        # the theory page, §5: Theorem 7 gives (r, r²) here; the cheapest cut is one leaf edge: r
        (ModeTree.baseline(3), [0, 1, 2], 3, 3, 3),
        # a child of the root: eq. 3's root is a rank-one product
        (ModeTree.baseline(3), [0, 1, 2, 3], 3, 3, 1),
        # interleaved: four split leaf pairs, each edge min(r, M) = 2
        (ModeTree.baseline(3), [0, 2, 4, 6], 3, 2, 16),
        # star tree (CP form with dense output): cut the smaller side's leaf edges or r
        (ModeTree.star(4), [0, 1], 5, 2, 1),
    ],
)
def test_tree_mincut_worked_examples(tree, I, r, M, want):
    assert mtd.tree_mincut_bound(tree, I, r=r, M=M) == want


def test_tree_mincut_dense_output_and_sizes():
    T = ModeTree.baseline(3)
    # with a dense output layer the root keeps its r channels: cut one root edge
    assert mtd.tree_mincut_bound(T, [0, 1, 2, 3], r=3, M=3, dense_output=True) == 3
    assert mtd.tree_mincut_bound(ModeTree.star(4), [0, 1], r=5, M=2, dense_output=True) == 4
    # shrinking one node's size shrinks the cut through it
    sizes = {frozenset(range(4)): 2}
    assert mtd.tree_mincut_bound(T, [0, 1, 2, 3], r=3, M=3, sizes=sizes, dense_output=True) == 2
    with pytest.raises(ValueError, match="interior nodes only"):
        mtd.tree_mincut_bound(T, [0], r=3, M=3, sizes={0: 2})


@given(mode_trees(min_modes=2, max_modes=14, max_arity=2), st.data(), st.integers(1, 4))
def test_tree_mincut_between_theorem7_bounds(tree, data, r):
    # Theorem 7 (binary trees, M >= r): lower <= generic rank <= min-cut <= upper
    I = data.draw(index_sets(tree.n_modes))
    M = data.draw(st.integers(r, r + 2))
    lo, hi = theorem7_bounds(tree, I, r)
    cut = mtd.tree_mincut_bound(tree, I, r=r, M=M)
    assert lo <= cut <= min(hi, trivial_bound(tree.n_modes, I, M))
    Ic = sorted(set(range(tree.n_modes)) - set(I))
    assert mtd.tree_mincut_bound(tree, Ic, r=r, M=M) == cut


def test_tree_mincut_pays_a_copy_tensor_once():
    # ICLR'17: a coarse partition (left half of a 4x4 image, 2x2 windows in Z order) is
    # capped by the channels of the last hidden layer, r = 2: the root's copy tensor is cut
    # once, although two of its four legs cross.
    tree = ModeTree.balanced(16, arity=4)
    left = [0, 1, 2, 3, 8, 9, 10, 11]
    assert mtd.tree_mincut_bound(tree, left, r=2, M=2, dense_output=True) == 2
    # and a star tree with a dense output (CP with r components): rank <= r
    assert mtd.tree_mincut_bound(ModeTree.star(6), [0, 1, 2], r=3, M=5, dense_output=True) == 3


@pytest.mark.parametrize("r", [2, 3])
def test_theorem7_counts_split_nodes_not_sibling_pairs_for_kary_trees(r):
    # the theory page, §5: for ((1,3,0),2) and I = {3} the two sibling pairs ({3},{1}) and
    # ({3},{0}) would give r^2, but the generic rank is r (one split node)
    tree = mtd.ModeTree.from_nested(((1, 3, 0), 2))
    assert mtd.theorem7_bounds(tree, [3], r) == (r, r)
    d = mtd.TreeDecomposition.random(tree, M=r, r=r, kind="integer", max_weight=1000, seed=0)
    A = d.to_tensor(arithmetic="exact")
    assert _reference.matricization_rank(A, [3]) == r  # python-flint, not mtd's ranks
