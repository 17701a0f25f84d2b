"""Mixture nodes and hybrid trees (Def. 4)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import FROM_T, FROM_T_BAR, ModeTree, common_interior, hybrid_tree, hybrid_trees
from mtd.bounds import theorem7_exponents
from mtd.strategies import mode_trees

T4, TB4 = ModeTree.baseline(4), ModeTree.swapped(4, 2)
BLOCKS = [frozenset(range(4 * i, 4 * i + 4)) for i in range(4)]


def test_common_interior_of_paper_pair():
    assert common_interior(T4, TB4) == frozenset([*BLOCKS, T4.root])


def test_paper_hybrid_worked_by_hand():
    # the theory page, §5: H takes the segments of {0..3} and {4..7} from T, all else from T̄.
    choice = {
        BLOCKS[0]: FROM_T,
        BLOCKS[1]: FROM_T,
        BLOCKS[2]: FROM_T_BAR,
        BLOCKS[3]: FROM_T_BAR,
        T4.root: FROM_T_BAR,
    }
    h = hybrid_tree(T4, TB4, BLOCKS, choice)
    assert h.tree.to_nested() == (
        (((0, 1), (2, 3)), ((8, 10), (9, 11))),
        (((4, 5), (6, 7)), ((12, 14), (13, 15))),
    )
    assert h.source[frozenset({0, 1})] == FROM_T and h.source[frozenset({8, 10})] == FROM_T_BAR
    assert h.source[T4.root] == FROM_T_BAR
    # and Theorem 7's bounds meet at r^8 for H, r^6 for T and T̄ (the theory page, §5)
    I = [0, 2, 4, 6, 8, 9, 12, 13]
    assert theorem7_exponents(h.tree, I) == (8, 8)
    assert theorem7_exponents(T4, I) == theorem7_exponents(TB4, I) == (6, 6)


def test_all_hybrids_of_paper_setting():
    hs = hybrid_trees(T4, TB4, BLOCKS)
    assert len(hs) == 2**5  # every segment differs between T and T̄, so all are distinct
    assert hs[0].tree == T4
    assert any(h.tree == TB4 for h in hs)
    assert len({h.tree for h in hs}) == len(hs)


def test_no_mixture_gives_the_two_trees():
    assert [h.tree for h in hybrid_trees(T4, TB4, [])] == [T4, TB4]
    assert [h.tree for h in hybrid_trees(T4, T4, BLOCKS)] == [T4]


def test_errors():
    with pytest.raises(ValueError, match=r"mixture node \{0,1\} must be interior in both trees"):
        hybrid_trees(T4, TB4, [{0, 1}])
    with pytest.raises(ValueError, match="it is a leaf of T"):
        hybrid_trees(T4, TB4, [3])
    with pytest.raises(ValueError, match="same modes; got 16 and 8"):
        common_interior(T4, ModeTree.baseline(3))
    with pytest.raises(TypeError, match="T_bar must be a ModeTree"):
        common_interior(T4, "tree")
    with pytest.raises(ValueError, match="max_hybrids"):
        hybrid_trees(T4, TB4, BLOCKS, max_hybrids=8)
    with pytest.raises(ValueError, match="choice keys must be mixture nodes or the root"):
        hybrid_tree(T4, TB4, BLOCKS, {frozenset({0, 1}): 0})
    with pytest.raises(ValueError, match="choice values must be 0"):
        hybrid_tree(T4, TB4, BLOCKS, {T4.root: 2})


@given(mode_trees(min_modes=2, max_modes=10, max_arity=3), st.data())
def test_hybrid_properties(T, data):
    # T̄: T with the children of some interior nodes re-split, so that they share nodes.
    seed = data.draw(st.integers(0, 2**16))
    T_bar = _resplit(T, seed)
    common = sorted(common_interior(T, T_bar), key=lambda n: (len(n), sorted(n)))
    mix = data.draw(st.lists(st.sampled_from(common), unique=True, max_size=4)) if common else []
    hs = hybrid_trees(T, T_bar, mix)
    assert hs[0].tree == T and any(h.tree == T_bar for h in hs)
    assert len(hs) <= 2 ** (len(mix) + 1)
    for h in hs:
        for node in h.tree.interior_nodes:
            src = (T, T_bar)[h.source[node]]
            assert h.tree.children(node) == src.children(node)
        # every mixture node stays a node of every hybrid
        assert all(mu in h.tree for mu in mix)


def _resplit(tree, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    table = {n: tree.children(n) for n in tree.interior_nodes}
    for node in list(table):
        if len(node) >= 3 and node in table and rng.random() < 0.5 and node != tree.root:
            # replace the subtree below `node` with a random one over the same modes
            for sub in [n for n in table if n < node]:
                del table[sub]
            sub_tree = ModeTree.random(len(node), seed=rng)
            modes = sorted(node)
            for n in sub_tree.interior_nodes:
                table[frozenset(modes[m] for m in n)] = tuple(
                    frozenset(modes[m] for m in c) for c in sub_tree.children(n)
                )
    return ModeTree.from_children(table)


def test_resplit_helper_makes_valid_trees():
    t = ModeTree.baseline(4)
    assert isinstance(_resplit(t, 1), mtd.ModeTree)
