"""Min-cut upper bounds (mtd.mincut): worked examples, soundness against exact ranks, speed."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sharing_pairs

import mtd
from mtd import MixedDecomposition, ModeTree, TreeDecomposition, _reference
from mtd.mincut import mincut_bound, network_mincut_bound, plan_mincut_bound
from mtd.strategies import index_sets, mode_trees

SEP = [0, 2, 4, 6, 8, 9, 12, 13]  # the paper's separating example, 0-based


def tree_dec(tree, M, r, **kw):
    return TreeDecomposition.random(tree, M=M, r=r, kind="integer", seed=0, **kw)


def exact_rank(d, I, output=0):
    # python-flint on the theory page's matricization: independent of mtd's ranks
    return _reference.matricization_rank(d.to_tensor(output, arithmetic="exact"), I)


# ------------------------------------------------------------------ worked examples
@pytest.mark.parametrize(
    ("tree", "I", "r", "M", "want"),
    [
        # the theory page, §5: Theorem 7 gives (r, r²); one leaf edge is cheaper: r
        (ModeTree.baseline(3), [0, 1, 2], 2, 2, 2),
        (ModeTree.baseline(3), [0, 1, 2], 3, 3, 3),
        # a child of the root: eq. 3's root is a product, rank 1
        (ModeTree.baseline(3), [0, 1, 2, 3], 3, 3, 1),
        # interleaved: four split leaf pairs, each edge min(r, M)
        (ModeTree.baseline(3), [0, 2, 4, 6], 3, 2, 16),
        # the separating example: Theorem 7's bounds meet at r^6 for T and T-bar
        (ModeTree.baseline(4), SEP, 2, 2, 2**6),
        (ModeTree.swapped(4, 2), SEP, 2, 2, 2**6),
        (ModeTree.baseline(4), SEP, 3, 3, 3**6),
        # the eq. 3 star tree with the output fixed is a single product: rank 1
        (ModeTree.star(5), [0, 3], 4, 4, 1),
        # a 4-ary tree (2x2 pooling windows): a split window below the root costs r
        (ModeTree.balanced(16, arity=4), [0, 5, 10, 15], 3, 3, 3**4),
    ],
)
def test_worked_examples_trees(tree, I, r, M, want):
    assert mincut_bound(tree_dec(tree, M, r), I) == want


def test_cp_and_dense_outputs():
    # CP (star tree, COLT form): a sum of r products has rank <= r, and <= M^|I|
    cp = tree_dec(ModeTree.star(6), 4, 5, form="colt")
    assert mincut_bound(cp, [0, 2, 4]) == 5
    assert mincut_bound(tree_dec(ModeTree.star(6), 2, 5, form="colt"), [0]) == 2
    # a dense output layer after an eq. 3 root: a child of the root now has rank r
    d = tree_dec(ModeTree.baseline(3), 3, 3)
    dense = TreeDecomposition(d.tree, d.discretizers, d.weights, outputs=np.ones((2, 3), int))
    assert mincut_bound(dense, [0, 1, 2, 3]) == 3 and mincut_bound(d, [0, 1, 2, 3]) == 1
    assert mincut_bound(dense, [0, 1, 2, 3], output=1) == 3


def test_per_node_sizes_and_hierarchical_tensor():
    T = ModeTree.baseline(3)
    left = frozenset(range(4))
    sizes = {n: (2 if n == frozenset({0, 1}) else 3) for n in T.interior_nodes}
    d = TreeDecomposition.random(T, M=3, r=sizes, r_input=3, kind="integer", seed=0)
    assert mincut_bound(d, [0, 1]) == 2  # cut the edge above {0, 1} (size 2)
    # the edges above {0, 1} and {4, 5}: min(2, 3) * min(3, 3)
    assert mincut_bound(d, [0, 1, 4, 5]) == 6
    # a hierarchical tensor: rank [[A]]_nu <= k_nu for every node nu
    A = np.random.default_rng(0).normal(size=(2,) * 8)
    ht = mtd.hierarchical_svd(A, T, max_rank={left: 2, frozenset({0, 1}): 3})
    assert mincut_bound(ht, sorted(left)) == 2
    assert mincut_bound(ht, [0, 1]) == 3


def test_separating_example_mixed():
    # r = 2: the mixed network's bound is the trivial 2^8 (and a witness reaches it)
    T, Tb = ModeTree.baseline(4), ModeTree.swapped(4, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    m = MixedDecomposition.random(T, Tb, mix, M=2, r=2, kind="integer", seed=0)
    assert mincut_bound(m, SEP) == 256
    # no mixture nodes: the sum of the two networks, whose ranks (r^6 each) add
    s = MixedDecomposition.random(T, Tb, [], M=4, r=4, kind="integer", seed=0)
    assert mincut_bound(s, SEP) == 2 * 4**6


def test_mixed_half_channels_add_not_multiply():
    # r/2 = 1 at a mixture node: charging products there would be unsound
    T = ModeTree.from_nested(((0, 1), (2, 3)))
    Tb = ModeTree.from_nested(((0, 1), (2, 3)))
    for seed in range(5):
        m = MixedDecomposition.random(
            T, Tb, [frozenset({0, 1})], M=2, r=2, kind="integer", seed=seed
        )
        for I in ([0], [0, 2], [0, 1], [1, 3]):
            assert exact_rank(m, I) <= mincut_bound(m, I)


# ---------------------------------------------------------------------- properties
@st.composite
def tree_decompositions(draw, max_modes=7):
    tree = draw(mode_trees(min_modes=2, max_modes=max_modes, max_arity=3))
    form = draw(st.sampled_from(["eq3", "colt", "ht"]))
    M = draw(st.integers(1, 3))
    sizes = {n: draw(st.integers(1, 3)) for n in tree.interior_nodes}
    r_in = draw(st.integers(1, 3))
    if form == "colt":  # children of a COLT node share one size: use one size per depth
        sizes = {n: sizes[tree.root] for n in tree.interior_nodes}
        r_in = sizes[tree.root]
    seed = draw(st.integers(0, 2**16))
    d = TreeDecomposition.random(
        tree, M=M, r=sizes, r_input=r_in, kind="integer", seed=seed, form=form
    )
    return d


@given(tree_decompositions(), st.data())
def test_bound_holds_for_random_instances(d, data):
    I = data.draw(index_sets(d.n_modes))
    b = mincut_bound(d, I)
    assert exact_rank(d, sorted(I)) <= b <= mtd.trivial_bound(d.n_modes, I, d.M)
    Ic = set(range(d.n_modes)) - set(I)
    assert mincut_bound(d, Ic) == b  # rank [[A]]_I = rank [[A]]_Ic


@st.composite
def mixed_decompositions(draw):
    # pairs that really share interior nodes (independent draws almost never do), and
    # witness weights wide enough (|w| <= 1000) that instance ranks are generic
    T, Tb, mix = draw(sharing_pairs(min_modes=3, max_modes=7))
    r = draw(st.sampled_from([2, 4]))
    M = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return MixedDecomposition.random(
        T, Tb, mix, M=M, r=r, kind="integer", seed=seed, max_weight=1000
    )


@given(mixed_decompositions(), st.data())
def test_mixed_bound_holds_for_random_instances(m, data):
    I = sorted(data.draw(index_sets(m.n_modes)))
    assert exact_rank(m, I) <= mincut_bound(m, I)


@pytest.mark.parametrize(
    ("dil_a", "dil_b", "mix"),
    [
        ([1, 2, 4], [2, 1, 4], [range(4), range(4, 8)]),  # the N = 8 example
        ([1, 2, 4], [2, 1, 4], [range(4)]),
        ([1, 2, 4], [1, 4, 2], [range(2), range(2, 4), range(4, 6), range(6, 8)]),
    ],
)
def test_mixed_bound_holds_on_every_index_set_of_shared_node_examples(dil_a, dil_b, mix):
    # deterministic: mixture nodes below the root, wide weights, every I of N = 8
    T, Tb = ModeTree.from_dilations(dil_a), ModeTree.from_dilations(dil_b)
    m = MixedDecomposition.random(
        T, Tb, [frozenset(v) for v in mix], M=2, r=2, kind="integer", seed=3, max_weight=1000
    )
    A = m.to_tensor(arithmetic="exact")
    for k in range(1, 8):
        for I in itertools.combinations(range(8), k):
            assert _reference.matricization_rank(A, I) <= mincut_bound(m, I), I


@given(mixed_decompositions(), st.data())
def test_mixed_bound_holds_for_wide_random_instances(m, data):
    # wide weights: the instance is generic unless unlucky, so a bound that undercounts
    # the shared spaces of eq. 4 (leaf spaces, pools at mixture nodes, the two roots)
    # would be caught here; the bound is also symmetric in I and its complement
    I = sorted(data.draw(index_sets(m.n_modes)))
    b = mincut_bound(m, I)
    assert exact_rank(m, I) <= b
    assert mincut_bound(m, sorted(set(range(m.n_modes)) - set(I))) == b


def test_mixed_paper_example_n8_is_tight():
    # baseline against dilations 2,1,4; mixture nodes {0..3}, {4..7}; M = 3, r = 2.
    # Both roots have their I-parts in P_{0..3} (x) P_{4..7}, each of dimension
    # min(M, r)^2 = 4 (the discretizers span a 2-dim space): 16, not 25 + 25.
    T, Tb = ModeTree.from_dilations([1, 2, 4]), ModeTree.from_dilations([2, 1, 4])
    mix = [frozenset(range(4)), frozenset(range(4, 8))]
    I = [0, 2, 4, 5]
    m = MixedDecomposition.random(T, Tb, mix, M=3, r=2, kind="integer", seed=0, max_weight=1000)
    assert mincut_bound(m, I) == 16
    assert exact_rank(m, I) == 16  # a wide random instance reaches it


@given(mode_trees(min_modes=2, max_modes=12), st.data(), st.integers(1, 4))
def test_between_theorem7_bounds_and_below_tree_dp(tree, data, r):
    I = data.draw(index_sets(tree.n_modes))
    M = r + data.draw(st.integers(0, 2))
    d = tree_dec(tree, M, r)
    lo, hi = mtd.theorem7_bounds(tree, I, r)
    cut = mincut_bound(d, I)
    assert lo <= cut <= hi
    assert cut <= mtd.tree_mincut_bound(tree, I, r=r, M=M)


# -------------------------------------------------------------- overlapping networks
NETS = [
    (5, [(3, 1)], (2, 2)),
    (6, [(3, 1), (2, 2)], (2, 3, 3)),
    (6, [(2, 1), (2, 1)], (2, 2, 2)),
    ((3, 3), [(2, 1)], (2, 2)),
    (8, [(2, 2), (2, 2), (2, 2)], (2, 2, 2, 2)),
]


@pytest.mark.parametrize("config", NETS)
def test_overlapping_network_bound_holds(config):
    net = mtd.networks.OverlappingConvAC(*config, kind="integer", seed=1)
    A = net.grid_tensor(arithmetic="exact")
    N = net.n_inputs
    for I in itertools.islice(
        (I for k in range(1, N) for I in itertools.combinations(range(N), k)), 0, None, 7
    ):
        b = mincut_bound(net, I)
        exact = _reference.matricization_rank(A, I)  # python-flint, not mtd's ranks
        assert exact <= b
        # each route is sound on its own (mincut_bound is the smaller of the two)
        assert exact <= network_mincut_bound(net.tensor_network(), I)
        rows = math.prod(A.shape[m] for m in I)
        assert b <= min(rows, A.size // rows)  # never above the smaller side


def test_overlapping_global_pooling_is_one_hyperedge():
    # one GC layer then global product pooling: for a fixed pooled channel every unit is
    # a product over its inputs, so rank <= r_1 whatever I (copy tensors merge)
    net = mtd.networks.OverlappingConvAC(5, [(3, 1)], (2, 2), kind="integer", seed=0)
    assert all(mincut_bound(net, I) <= 2 for I in ([0, 1], [0, 2], [1, 3], [0, 4]))


# ------------------------------------------------------------------ networks, speed
def test_networks_convert():
    net = mtd.networks.DilatedConvNet([1, 2, 4], (2, 2, 2, 2), seed=0)
    assert mincut_bound(net, [0, 1, 2]) == 2
    assert mincut_bound(net, [0, 2, 4, 6]) == 16


def test_large_tree_is_exact():
    # 4096 modes, I = the even modes: each of the 2048 leaf pairs (2j, 2j + 1) is cut at
    # its leaves, r = M = 2 per pair, so the bound is 2^2048 (beyond any float).  Speed
    # is measured in benchmarks/bench_huge_trees.py, not asserted here.
    T = ModeTree.baseline(12)
    d = TreeDecomposition.random(T, M=2, r=2, kind="integer", seed=0, tied=True)
    I = range(0, 2**12, 2)
    assert mincut_bound(d, I) == 2**2048 == mtd.tree_mincut_bound(T, I, r=2, M=2)


# --------------------------------------------------------------------------- errors
def test_errors():
    d = tree_dec(ModeTree.baseline(2), 2, 2)
    with pytest.raises(mtd.InvalidIndexSetError):
        mincut_bound(d, [])
    with pytest.raises(mtd.InvalidIndexSetError):
        mincut_bound(d, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="output must be in 0..1"):
        mincut_bound(d, [0], output=2)
    relu = TreeDecomposition.random(ModeTree.baseline(2), M=2, r=2, g="relu", seed=0)
    with pytest.raises(ValueError, match="g = 'product' only"):
        mincut_bound(relu, [0])
    with pytest.raises(TypeError, match="expected a decomposition"):
        mincut_bound(np.zeros((2, 2)), [0])
    with pytest.raises(TypeError, match="plan must be a Plan"):
        plan_mincut_bound(d, [0])


@settings(max_examples=10)
@given(st.integers(2, 6))
def test_trivial_cap(n):
    # CP with more terms than the smaller side's dimension: the trivial bound wins
    cp = tree_dec(ModeTree.star(n), 2, 2**n, form="colt")
    assert mincut_bound(cp, [0]) == 2


@given(tree_decompositions(max_modes=30), st.data())
def test_per_class_programme_equals_the_step_by_step_one(d, data):
    # one tree: the bound is computed once per class of identical subtrees; the general
    # programme walks every step (and is what mixed decompositions use)
    from mtd.mincut import _general_bound

    I = frozenset(data.draw(index_sets(d.n_modes)))
    assert plan_mincut_bound(d.plan, I) == _general_bound(d.plan, I, 0)


@pytest.mark.parametrize(
    ("tree", "I", "r", "M"),
    [
        (ModeTree.baseline(10), range(1, 1024, 2), 2, 2),
        (ModeTree.baseline(10), range(0, 1024, 4), 3, 2),  # M < r
        (ModeTree.balanced(243, arity=3), range(0, 243, 3), 2, 3),  # M > r
        (ModeTree.linear(200), range(0, 200, 2), 3, 3),
    ],
)
def test_large_repetitive_trees_match_the_tree_dp(tree, I, r, M):
    d = TreeDecomposition.random(tree, M=M, r=r, seed=0)
    assert mincut_bound(d, I) == mtd.tree_mincut_bound(tree, I, r=r, M=M)
