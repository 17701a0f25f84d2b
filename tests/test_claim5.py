"""Claim 5: every hybrid decomposition of size h equals (outputs 0..h-1) the mixed
decomposition of size 2h built by eq. 6 — exactly, with integer weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.decompositions import G_FUNCTIONS, TreeDecomposition, embed_hybrid

T4, TB4 = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
MIX4 = [n for n in mtd.common_interior(T4, TB4) if len(n) == 4]
HYBRIDS4 = mtd.hybrid_trees(T4, TB4, MIX4)


def _assert_embeds(H, T, Tb, mix, **kw):
    m = embed_hybrid(H, T, Tb, mix, **kw)
    assert m.r == 2 * H.r and m.discretizers.shape == (H.M, 2 * H.r)
    assert not m.discretizers[:, H.r :].any()
    for y in range(H.r):
        assert (m.to_tensor(y, arithmetic="exact") == H.to_tensor(y, arithmetic="exact")).all()
    return m


def test_the_papers_setting_has_32_hybrids():
    assert len(MIX4) == 4 and len(HYBRIDS4) == 32


@pytest.mark.parametrize("i", range(32))
def test_every_hybrid_of_the_papers_setting_embeds_exactly(i):
    hyb = HYBRIDS4[i]
    H = TreeDecomposition.random(hyb.tree, M=2, r=2, kind="integer", seed=i)
    _assert_embeds(H, T4, TB4, MIX4, hybrid=hyb)


def test_both_trees_embed_at_twice_the_size():
    for tree in (T4, TB4):
        H = TreeDecomposition.random(tree, M=2, r=1, kind="integer", seed=5)
        _assert_embeds(H, T4, TB4, MIX4)  # source inferred from mtd.hybrid_trees


@pytest.mark.parametrize("g", sorted(set(G_FUNCTIONS) - {"product"}))
def test_claim5_holds_for_every_g(g):
    T, Tb = mtd.ModeTree.baseline(3), mtd.ModeTree.swapped(3, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    for i, hyb in enumerate(mtd.hybrid_trees(T, Tb, mix)):
        H = TreeDecomposition.random(hyb.tree, M=3, r=2, g=g, seed=i)
        m = embed_hybrid(H, T, Tb, mix, hybrid=(hyb.tree, hyb.source))
        np.testing.assert_allclose(m.to_tensor(None)[:2], H.to_tensor(None), rtol=1e-12, atol=1e-12)
        Hi = TreeDecomposition.random(hyb.tree, M=3, r=2, g=g, kind="integer", seed=i)
        mi = embed_hybrid(Hi, T, Tb, mix, hybrid=hyb)
        assert (mi.to_tensor(1, arithmetic="exact") == Hi.to_tensor(1, arithmetic="exact")).all()


@st.composite
def tree_pairs_with_mixture(draw):
    """Two trees sharing the nodes of a random partition of the modes, and mixture nodes."""
    n = draw(st.integers(4, 7))
    modes = draw(st.permutations(range(n)))
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), min_size=1, max_size=n - 2)))
    blocks = [list(modes[a:b]) for a, b in zip([0, *cuts], [*cuts, n], strict=False)]

    def build(items):
        if len(items) == 1:
            return items[0]
        items = list(draw(st.permutations(items)))
        k = draw(st.integers(1, len(items) - 1))
        return (build(items[:k]), build(items[k:]))

    T = mtd.ModeTree.from_nested(build([build(b) for b in blocks]))
    Tb = mtd.ModeTree.from_nested(build([build(b) for b in blocks]))
    common = sorted(mtd.common_interior(T, Tb), key=lambda x: (len(x), sorted(x)))
    mix = draw(st.lists(st.sampled_from(common), unique=True))
    return T, Tb, mix


@given(
    case=tree_pairs_with_mixture(),
    choice=st.integers(0, 2**10),
    seed=st.integers(0, 999),
    h=st.integers(1, 2),
)
def test_claim5_for_random_tree_pairs(case, choice, seed, h):
    T, Tb, mix = case
    hybrids = mtd.hybrid_trees(T, Tb, mix)
    hyb = hybrids[choice % len(hybrids)]
    H = TreeDecomposition.random(hyb.tree, M=2, r=h, kind="integer", seed=seed, max_weight=3)
    _assert_embeds(H, T, Tb, mix, hybrid=hyb)


def test_embed_errors():
    H = TreeDecomposition.random(mtd.ModeTree.linear(16), M=2, r=1, kind="integer", seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="not a hybrid"):
        embed_hybrid(H, T4, TB4, MIX4)
    hyb = HYBRIDS4[3]
    H = TreeDecomposition.random(hyb.tree, M=2, r={0: 1, 1: 2, 2: 2, 3: 2}, r_input=2, seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="one size h at every node"):
        embed_hybrid(H, T4, TB4, MIX4, hybrid=hyb)
    H = TreeDecomposition.random(hyb.tree, M=2, r=2, seed=0)
    flipped = {n: 1 - s for n, s in hyb.source.items()}
    with pytest.raises(mtd.InvalidArgumentError, match="does not have the same children"):
        embed_hybrid(H, T4, TB4, MIX4, hybrid=(hyb.tree, flipped))
    with pytest.raises(mtd.InvalidArgumentError, match="must be interior in both trees"):
        embed_hybrid(H, T4, TB4, [frozenset({0, 1})])
    with pytest.raises(mtd.InvalidArgumentError, match="eq. 3 decompositions"):
        embed_hybrid(TreeDecomposition.random(hyb.tree, M=2, r=2, form="colt"), T4, TB4, MIX4)
    with pytest.raises(mtd.InvalidArgumentTypeError, match="HybridTree or a"):
        embed_hybrid(H, T4, TB4, MIX4, hybrid="T")
