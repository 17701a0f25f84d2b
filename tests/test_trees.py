"""Mode trees: constructors, navigation, tilings, validation (the theory page, §2)."""

import itertools
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import InvalidArgumentError, InvalidModeTreeError, ModeTree
from mtd.errors import InvalidArgumentTypeError
from mtd.strategies import index_sets, mode_trees

# --------------------------------------------------------------------- worked examples


@pytest.mark.parametrize(
    ("dilations", "nested"),
    [
        ((1,), (0, 1)),
        ((1, 2), ((0, 1), (2, 3))),
        ((2, 1), ((0, 2), (1, 3))),
        ((4, 1, 2), (((0, 4), (1, 5)), ((2, 6), (3, 7)))),
        # the theory page, §2: k = 2, L = 4 gives dilations (2, 1, 8, 4)
        (
            (2, 1, 8, 4),
            ((((0, 2), (1, 3)), ((8, 10), (9, 11))), (((4, 6), (5, 7)), ((12, 14), (13, 15)))),
        ),
    ],
)
def test_from_dilations_worked_examples(dilations, nested):
    # Worked by hand from "unit (l, τ) has children (l-1, τ-d_l) and (l-1, τ)".
    assert ModeTree.from_dilations(dilations).to_nested() == nested


@pytest.mark.parametrize(
    ("L", "k", "dilations"),
    [
        (4, 2, (2, 1, 8, 4)),
        (4, 1, (1, 2, 4, 8)),
        (4, 4, (8, 4, 2, 1)),
        (6, 3, (4, 2, 1, 32, 16, 8)),
    ],
)
def test_swapped_dilations_formula(L, k, dilations):
    # the theory page: d_l = 2^(ceil(l/k)·k − 1 − ((l−1) mod k))
    formula = tuple(2 ** (-(-l // k) * k - 1 - ((l - 1) % k)) for l in range(1, L + 1))
    assert formula == dilations
    assert ModeTree.swapped_dilations(L, k) == dilations
    assert ModeTree.swapped(L, k) == ModeTree.from_dilations(dilations)


@pytest.mark.parametrize(
    ("tree", "nested"),
    [
        (ModeTree.star(4), (0, 1, 2, 3)),
        (ModeTree.linear(4), (((0, 1), 2), 3)),
        (ModeTree.balanced(4), ((0, 1), (2, 3))),
        (ModeTree.balanced(6, arity=3), ((0, 1), (2, 3), (4, 5))),
        (ModeTree.balanced(16, arity=4), tuple(tuple(range(4 * i, 4 * i + 4)) for i in range(4))),
        (ModeTree.balanced(3), ((0, 1), 2)),
        (ModeTree.star(1), 0),
    ],
)
def test_named_constructors(tree, nested):
    assert tree.to_nested() == nested


def test_navigation_worked_example():
    t = ModeTree.from_nested(((0, 2), (1, 3)))
    root = frozenset(range(4))
    assert t.root == root and t.n_modes == 4 and t.height == 2
    assert t.children(root) == (frozenset({0, 2}), frozenset({1, 3}))
    assert t.children(2) == ()
    assert t.parent(root) is None and t.parent(2) == frozenset({0, 2})
    assert t.depth(root) == 0 and t.depth({1, 3}) == 1 and t.depth(3) == 2
    assert t.node_height({0, 2}) == 1 and t.node_height(0) == 0
    assert t.leaves_under(root) == tuple(frozenset({m}) for m in (0, 2, 1, 3))
    assert t.leaf_order == (0, 2, 1, 3)
    assert t.interior_nodes == (root, frozenset({0, 2}), frozenset({1, 3}))
    assert len(t.nodes) == 7 and t.leaves == tuple(frozenset({m}) for m in range(4))
    assert t.is_leaf(1) and not t.is_leaf(root)
    assert {0, 2} in t and {0, 1} not in t and 5 not in t
    assert t.nodes_by_depth()[1] == (frozenset({0, 2}), frozenset({1, 3}))
    assert t.tiling([0, 1, 2]) == (frozenset({0, 2}), frozenset({1}))
    assert t.tiling([]) == ()


def test_paper_separating_example_tilings():
    # the theory page, §5, 0-based: I = {0,2,4,6,8,9,12,13}; baseline tiles are worked by hand.
    T = ModeTree.baseline(4)
    I = [0, 2, 4, 6, 8, 9, 12, 13]
    assert sorted(sorted(n) for n in T.tiling(I)) == [[0], [2], [4], [6], [8, 9], [12, 13]]


def test_draw_and_repr():
    t = ModeTree.baseline(2)
    assert t.draw().splitlines() == [
        "{0..3}",
        "├── {0,1}",
        "│   ├── {0}",
        "│   └── {1}",
        "└── {2,3}",
        "    ├── {2}",
        "    └── {3}",
    ]
    assert eval(repr(t), {"ModeTree": ModeTree}) == t
    assert "65536 modes" not in repr(ModeTree.baseline(5))
    assert repr(ModeTree.baseline(5)).startswith("<ModeTree over 32 modes")


def test_immutable_and_hashable():
    t = ModeTree.baseline(3)
    with pytest.raises(AttributeError):
        t._n = 3
    assert hash(t) == hash(ModeTree.baseline(3))
    assert {t: 1}[ModeTree.from_nested(t.to_nested())] == 1
    assert ModeTree.from_nested(((0, 1), (2, 3))) != ModeTree.from_nested(((2, 3), (0, 1)))
    assert ModeTree.from_nested(((2, 3), (0, 1))).canonical() == ModeTree.baseline(2)
    assert pickle.loads(pickle.dumps(t)) == t
    assert ModeTree.from_nested(t) is t


def test_random_is_seeded():
    assert ModeTree.random(10, seed=3) == ModeTree.random(10, seed=3)
    t = ModeTree.random(12, max_arity=4, contiguous=True, seed=1)
    for node in t.nodes:
        assert max(node) - min(node) + 1 == len(node)
    assert max(len(t.children(n)) for n in t.interior_nodes) <= 4


# --------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("nested", "err", "match"),
    [
        (((0, 1), (1, 2)), InvalidModeTreeError, "mode 1 appears more than once"),
        (((0,), (1, 2)), InvalidModeTreeError, "at least two children; got \\(0,\\)"),
        (((0, 1), (3, 4)), InvalidModeTreeError, "exactly the modes 0..N-1.*missing \\[2\\]"),
        (((0, 1), (2, -3)), InvalidModeTreeError, "non-negative"),
        (((0, 1), (2, "a")), InvalidArgumentTypeError, "int modes; got 'a'"),
        ((0, True), InvalidArgumentTypeError, "got True of type bool"),
        (((0, 1), 2.0), InvalidArgumentTypeError, "float"),
    ],
)
def test_from_nested_rejects(nested, err, match):
    with pytest.raises(err, match=match):
        ModeTree.from_nested(nested)


@pytest.mark.parametrize(
    ("children", "match"),
    [
        ({(0, 1, 2): [0, 2]}, r"children of node \{0,1,2\} must partition it; got \{0\}, \{2\}"),
        ({(0, 1, 2): [(0, 1), (1, 2)]}, "must partition it"),
        ({(0, 1, 2): [(0, 1, 2)]}, "at least two children"),
        ({(0, 1, 2): [(0, 1), 2]}, r"child \{0,1\} of \{0,1,2\} is not a leaf and has no entry"),
        ({(0, 1): [0, 1], (2, 3): [2, 3]}, "exactly one root"),
        ({(1, 2): [1, 2]}, "root must be the set of modes 0..N-1"),
        ({(0, 1): [0, 1], (0,): [0, 0]}, "leaf .* cannot have children"),
        ({}, "at least one interior node"),
    ],
)
def test_from_children_rejects(children, match):
    with pytest.raises(InvalidModeTreeError, match=match):
        ModeTree.from_children(children)


@pytest.mark.parametrize(
    ("dilations", "err", "match"),
    [
        ((1, 1), InvalidModeTreeError, r"permutation of 1, 2, ..., 2\^\(L-1\) = \[1, 2\]"),
        ((1, 2, 4, 4), InvalidModeTreeError, r"got \(1, 2, 4, 4\)"),
        ((), InvalidModeTreeError, "at least one layer"),
        ((1, 2.0), InvalidArgumentTypeError, "dilations must be ints"),
        ("12", InvalidArgumentTypeError, "sequence of ints"),
    ],
)
def test_from_dilations_rejects(dilations, err, match):
    with pytest.raises(err, match=match):
        ModeTree.from_dilations(dilations)


def test_node_lookup_errors_are_value_errors():
    t = ModeTree.baseline(2)
    with pytest.raises(ValueError, match=r"node \{0,2\} is not a node of this tree over 4 modes"):
        t.parent({0, 2})
    with pytest.raises(InvalidArgumentTypeError):
        t.children(object())
    with pytest.raises(mtd.InvalidIndexSetError, match=r"modes in 0..3.*got \[7\]"):
        t.tiling([0, 7])
    with pytest.raises(InvalidArgumentError, match="k must be between 1 and L = 2"):
        ModeTree.swapped(2, 3)
    with pytest.raises(InvalidArgumentError, match="arity must be >= 2; got 1"):
        ModeTree.balanced(4, arity=1)


# --------------------------------------------------------------------- properties


@given(mode_trees(max_modes=12, max_arity=4), st.data())
def test_tiling_partitions_into_maximal_nodes(tree, data):
    I = data.draw(index_sets(tree.n_modes, min_size=0, proper=False))
    tiles = tree.tiling(I)
    assert sorted(m for t in tiles for m in t) == sorted(I)  # a partition of I
    for t in tiles:
        assert t in tree and t <= I
        parent = tree.parent(t)
        assert parent is None or not parent <= I  # maximal


@given(mode_trees(max_modes=12, max_arity=4))
def test_nested_round_trip(tree):
    again = ModeTree.from_nested(tree.to_nested())
    assert again == tree and hash(again) == hash(tree)
    if tree.n_modes > 1:
        assert ModeTree.from_children({n: tree.children(n) for n in tree.interior_nodes}) == tree


@given(mode_trees(max_modes=12, max_arity=4))
def test_tree_invariants(tree):
    assert tree.root == frozenset(range(tree.n_modes))
    for node in tree.interior_nodes:
        kids = tree.children(node)
        assert len(kids) >= 2
        assert sorted(m for k in kids for m in k) == sorted(node)
        for k in kids:
            assert tree.parent(k) == node and tree.depth(k) == tree.depth(node) + 1
        assert tree.node_height(node) == 1 + max(tree.node_height(k) for k in kids)
    assert sorted(tree.leaf_order) == list(range(tree.n_modes))


@given(st.integers(1, 7).flatmap(lambda L: st.permutations([2**i for i in range(L)])))
def test_dilation_tree_shape(dilations):
    # Independent description: the node of height h above output time τ = N-1 covers
    # {τ' - Σ_{i in S} d_i : S ⊆ {1..h}} where τ' is its own (latest) time, and its first
    # child is its second child shifted back by d_h.
    tree = ModeTree.from_dilations(dilations)
    L = len(dilations)
    assert tree.n_modes == 2**L and tree.height == L
    for node in tree.interior_nodes:
        h = tree.node_height(node)
        top = max(node)
        sums = {sum(s) for r in range(h + 1) for s in itertools.combinations(dilations[:h], r)}
        assert node == frozenset(top - s for s in sums)
        first, second = tree.children(node)
        assert first == frozenset(m - dilations[h - 1] for m in second)


@pytest.mark.parametrize("L", range(2, 7))
def test_swapped_shares_nodes_of_height_multiple_of_k(L):
    base = ModeTree.baseline(L)
    for k in (k for k in range(1, L + 1) if L % k == 0):
        swapped = ModeTree.swapped(L, k)
        shared = set(base.nodes) & set(swapped.nodes)
        # theory: baseline nodes are contiguous blocks; exactly those of height ≡ 0 mod k
        want = {n for n in base.nodes if base.node_height(n) % k == 0}
        assert shared == want
        assert all(max(n) - min(n) + 1 == len(n) == 2 ** base.node_height(n) for n in want)


def test_large_dilation_tree_is_built_without_quadratic_blowup():
    t = ModeTree.baseline(12)  # 4096 modes
    assert t.n_modes == 4096 and len(t.interior_nodes) == 4095


@pytest.mark.parametrize(("arity", "L"), [(2, 1), (2, 5), (3, 4), (4, 3), (5, 2), (7, 1)])
def test_perfect_balanced_trees_equal_their_recursive_definition(arity, L):
    # N = arity^L is built in numpy (pre-order ids from the children's positions); the
    # recursive split into near-equal ranges, written out here, must give the same tree
    def nest(a, b):
        if b - a == 1:
            return a
        k = min(arity, b - a)
        cuts = [a + ((b - a) * j + k - 1) // k for j in range(k + 1)]
        return tuple(nest(x, y) for x, y in zip(cuts, cuts[1:], strict=False))

    t = ModeTree.balanced(arity**L, arity=arity)
    want = ModeTree.from_nested(nest(0, arity**L))
    assert t == want and t.to_nested() == want.to_nested()
    assert [t.depth(n) for n in t.nodes] == [want.depth(n) for n in want.nodes]
    assert [t.node_height(n) for n in t.nodes] == [want.node_height(n) for n in want.nodes]
    assert t.tiling(range(0, arity**L, 2)) == want.tiling(range(0, arity**L, 2))
