"""Mixed decompositions (eq. 4) against a literal entry-by-entry evaluation of the definition."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import _reference
from mtd.decompositions import G_FUNCTIONS, MixedDecomposition, mixed_to_tensor

P = 1_000_003


def _g(name):
    return {
        "product": lambda a, b: a * b,
        "relu": lambda a, b: max(a + b, 0),
        "max": lambda a, b: max(a, b, 0),
        "relu_sum": lambda a, b: max(a, 0) + max(b, 0),
    }[name]


def reference_mixed(d, y=0):
    """Eq. 4 literally: walk mix ∪ {root} by size, compute, swap the low half, add the roots."""
    T, Tb, V = d.T, d.T_bar, d.discretizers.tolist()
    walk = sorted(set(d.mixture_nodes) | {T.root}, key=lambda n: (len(n), sorted(n)))
    g = _g(d.g)
    out = np.empty((d.M,) * d.n_modes, dtype=object)
    for index in itertools.product(range(d.M), repeat=d.n_modes):
        vals = [{frozenset([j]): V[index[j]] for j in range(d.n_modes)} for _ in range(2)]
        for mu in walk:
            for t, (tree, W) in enumerate(((T, d.weights), (Tb, d.weights_bar))):
                for node in reversed(tree.nodes):
                    if tree.is_leaf(node) or node in vals[t] or not node <= mu:
                        continue
                    sums = [
                        [
                            sum(a * b for a, b in zip(row, vals[t][c], strict=True))
                            for row in w.tolist()
                        ]
                        for w, c in zip(W[node], tree.children(node), strict=False)
                    ]
                    chans = []
                    for gam in range(len(sums[0])):
                        acc = g(sums[0][gam], sums[1][gam])
                        for s in sums[2:]:
                            acc = g(acc, s[gam])
                        chans.append(acc)
                    vals[t][node] = chans
            if mu in d.mixture_nodes:
                a, b = vals[0][mu], vals[1][mu]
                h = len(a) // 2
                vals[0][mu], vals[1][mu] = b[:h] + a[h:], a[:h] + b[h:]
        out[index] = vals[0][T.root][y] + vals[1][T.root][y]
    return out


T3, TB3 = mtd.ModeTree.baseline(3), mtd.ModeTree.swapped(3, 2)
COMMON3 = sorted(mtd.common_interior(T3, TB3), key=len)


@pytest.mark.parametrize("g", sorted(G_FUNCTIONS))
@pytest.mark.parametrize("k", range(len(COMMON3) + 1))
def test_mixed_matches_eq4_reference(g, k):
    for mix in itertools.combinations(COMMON3, k):
        d = MixedDecomposition.random(T3, TB3, mix, M=2, r=2, kind="integer", g=g, seed=k)
        ref = reference_mixed(d, 1)
        assert (mixed_to_tensor(d, 1, arithmetic="exact") == ref).all()
        np.testing.assert_allclose(d.to_tensor(1), ref.astype(float), rtol=1e-12, atol=1e-9)
        idx = np.array(list(itertools.product(range(2), repeat=8)))[::5]
        assert (d.entries(idx, output=1, arithmetic="exact") == ref[tuple(idx.T)]).all()
        if g == "product":
            assert (d.to_tensor(1, arithmetic="modular", prime=P) == ref % P).all()


def _pair_with_shared_nodes(draw):
    """Two random trees that share the nodes of a random partition (and the root)."""
    n = draw(st.integers(3, 6))
    modes = draw(st.permutations(range(n)))
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=n - 2)))
    blocks = [tuple(modes[a:b]) for a, b in zip([0, *cuts], [*cuts, n], strict=False)]

    def build(items):
        if len(items) == 1:
            return items[0]
        items = list(draw(st.permutations(items)))
        k = draw(st.integers(1, len(items) - 1))
        return (build(items[:k]), build(items[k:]))

    def tree():
        return mtd.ModeTree.from_nested(build([build(list(b)) for b in blocks]))

    return tree(), tree()


@given(data=st.data())
def test_random_tree_pairs_match_reference(data):
    T, Tb = _pair_with_shared_nodes(data.draw)
    common = sorted(mtd.common_interior(T, Tb), key=lambda n: (len(n), sorted(n)))
    mix = data.draw(st.lists(st.sampled_from(common), unique=True)) if common else []
    d = MixedDecomposition.random(
        T, Tb, mix, M=2, r=2, kind="integer", seed=data.draw(st.integers(0, 99))
    )
    assert (d.to_tensor(0, arithmetic="exact") == reference_mixed(d, 0)).all()


def test_no_mixture_nodes_is_the_sum_of_the_two_networks():
    d = MixedDecomposition.random(T3, TB3, [], M=3, r=2, kind="integer", seed=0)
    a, b = d.tree_decompositions()
    total = a.to_tensor(None, arithmetic="exact") + b.to_tensor(None, arithmetic="exact")
    assert (d.to_tensor(None, arithmetic="exact") == total).all()
    assert d.n_parameters() == a.n_parameters() + b.n_parameters()


def test_leaf_vectors_of_a_mixed_decomposition():
    d = MixedDecomposition.random(T3, TB3, COMMON3[:2], M=3, r=4, kind="integer", seed=1)
    A = d.to_tensor(2, arithmetic="exact").astype(object)
    U = np.random.default_rng(0).integers(-2, 3, size=(4, 8, 3))
    exp = np.einsum(
        "abcdefgh,za,zb,zc,zd,ze,zf,zg,zh->z", A, *[U[:, j].astype(object) for j in range(8)]
    )
    assert (d.contract(U, output=2, arithmetic="exact") == exp).all()
    assert (d.contract(U, output=2, arithmetic="modular", prime=P) == exp % P).all()
    np.testing.assert_allclose(d.contract(U.astype(float), output=2), exp.astype(float))


def test_tied_weights_and_structure():
    d = MixedDecomposition.random(T3, TB3, COMMON3, M=2, r=2, seed=0)
    assert d.mixture_nodes == tuple(COMMON3)
    assert d.r == 2 and d.n_outputs == 2 and d.M == 2 and d.n_modes == 8
    assert "MixedDecomposition" in repr(d)
    tied = {dep: [np.eye(2, dtype=int)] * 2 for dep in range(3)}
    t = MixedDecomposition(T3, TB3, COMMON3, np.eye(2, dtype=int), tied, tied)
    assert t.tied and t.is_integer
    A = t.to_tensor(arithmetic="exact")
    assert (A == reference_mixed(t, 0)).all()


def test_mixed_errors():
    V = np.eye(2, dtype=int)

    def w(tree, r=2):
        return {
            n: [np.ones((r, 2 if tree.is_leaf(c) else r), dtype=int) for c in tree.children(n)]
            for n in tree.interior_nodes
        }

    with pytest.raises(mtd.InvalidArgumentError, match="r must be even"):
        MixedDecomposition.random(T3, TB3, COMMON3, M=2, r=3)
    odd = {
        n: [np.ones((3, 2 if T3.is_leaf(c) else 3), dtype=int) for c in T3.children(n)]
        for n in T3.interior_nodes
    }
    odd_bar = {
        n: [np.ones((3, 2 if TB3.is_leaf(c) else 3), dtype=int) for c in TB3.children(n)]
        for n in TB3.interior_nodes
    }
    with pytest.raises(mtd.InvalidArgumentError, match=r"r must be even.*\{0..3\}"):
        MixedDecomposition(T3, TB3, [frozenset(range(4))], V, odd, odd_bar)
    with pytest.raises(
        mtd.InvalidArgumentError,
        match=r"mixture node \{0,1\} must be interior "
        r"in both trees; it is not a node of T_bar",
    ):
        MixedDecomposition(T3, TB3, [frozenset({0, 1})], V, w(T3), w(TB3))
    with pytest.raises(mtd.InvalidArgumentError, match="same modes"):
        MixedDecomposition.random(T3, mtd.ModeTree.baseline(2), [], M=2, r=2)
    with pytest.raises(mtd.InvalidArgumentError, match=r"weights_bar\[\{0,2\}\]"):
        bad = w(TB3)
        bad[frozenset({0, 2})] = [np.ones((2, 3)), np.ones((2, 2))]
        MixedDecomposition(T3, TB3, [], V, w(T3), bad)
    with pytest.raises(mtd.InvalidArgumentError, match="same size in both trees"):
        MixedDecomposition(
            T3,
            TB3,
            [frozenset(range(4))],
            V,
            w(T3),
            {
                n: ws if len(n) != 4 else [np.ones((4, 2)), np.ones((4, 2))]
                for n, ws in w(TB3).items()
            }
            | {frozenset(range(8)): [np.ones((2, 4)), np.ones((2, 4))]},
        )
    with pytest.raises(mtd.InvalidArgumentTypeError, match="must be a MixedDecomposition"):
        mixed_to_tensor(MixedDecomposition.random(T3, TB3, [], M=2, r=2).tree_decompositions()[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_defaults_reach_the_generic_ranks_of_the_n8_example(seed):
    # the N = 8 example: with weights in -2..2 the best of three draws gave 5 and
    # 8; the default range must give the generic r^4 = 16 (mixed) and 2r^3 - r^2 = 12
    # (plain sum) on every draw.  Ranks by python-flint, independently of mtd's ranks.
    T, Tb = mtd.ModeTree.from_dilations([1, 2, 4]), mtd.ModeTree.from_dilations([2, 1, 4])
    mix = [frozenset(range(4)), frozenset(range(4, 8))]
    I, r = [0, 2, 4, 5], 2
    mixed = MixedDecomposition.random(T, Tb, mix, M=3, r=r, kind="integer", seed=seed)
    plain = MixedDecomposition.random(T, Tb, [], M=3, r=r, kind="integer", seed=seed)
    rank = {
        name: _reference.matricization_rank(d.to_tensor(arithmetic="exact"), I)
        for name, d in (("mixed", mixed), ("plain", plain))
    }
    assert rank == {"mixed": r**4, "plain": 2 * r**3 - r**2}
