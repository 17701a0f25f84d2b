"""ConvACs with a pooling geometry (COLT'16, ICLR'17; the theory page, §3 and §5)."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import _reference
from mtd.decompositions import n_parameters
from mtd.errors import InvalidArgumentError, InvalidArgumentTypeError, TensorTooLargeError
from mtd.networks import (
    PoolingConvAC,
    image_modes,
    image_partition,
    image_tree,
    pooling_tree,
)


def g_fold(g, values):
    acc = values[0]
    for v in values[1:]:
        if g == "product":
            acc = acc * v
        elif g == "relu":
            acc = max(acc + v, 0)
        elif g == "max":
            acc = max(acc, v, 0)
        else:
            acc = max(acc, 0) + max(v, 0)
    return acc


def naive_network(net, reps):
    """Recursion over the tree with explicit loops: conv, pool (g folded in child order), conv."""
    tree, W = net.tree, {n: w.tolist() for n, w in net.node_weights.items()}

    def value(node):
        kids = tree.children(node)
        if not kids:
            (j,) = node
            inp = reps[j]
        else:
            vals = [value(c) for c in kids]
            inp = [g_fold(net.g, [v[a] for v in vals]) for a in range(len(vals[0]))]
        return [sum(w * x for w, x in zip(row, inp, strict=True)) for row in W[node]]

    return value(tree.root)


TREES = [
    mtd.ModeTree.balanced(4),
    pooling_tree(8, geometry="interleaved"),
    pooling_tree(9, window=3, geometry="mirror"),
    image_tree(4, geometry="mirror"),
    mtd.ModeTree.star(5),
]


@st.composite
def nets(draw, *, g=None, kind="integer", small=False):
    tree = draw(st.sampled_from(TREES[:3] + TREES[4:] if small else TREES))
    L = tree.depth(tree.leaves[0])
    channels = tuple(draw(st.lists(st.integers(1, 3), min_size=L, max_size=L)))
    g = draw(st.sampled_from(["product", "relu", "max", "relu_sum"])) if g is None else g
    return PoolingConvAC(
        tree,
        channels,
        M=draw(st.integers(1, 3)),
        n_outputs=draw(st.integers(1, 2)),
        g=g,
        kind=kind,
        tied=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
        max_weight=2,  # small weights: these tests compare evaluation routes (int64), not ranks
    )


# ------------------------------------------------------------------------ geometries
@pytest.mark.parametrize(
    ("N", "window", "geometry", "nested"),
    [
        (4, 2, "contiguous", ((0, 1), (2, 3))),
        (8, 2, "interleaved", (((0, 4), (2, 6)), ((1, 5), (3, 7)))),
        (8, 2, "mirror", (((0, 7), (1, 6)), ((2, 5), (3, 4)))),
        (9, 3, "interleaved", ((0, 3, 6), (1, 4, 7), (2, 5, 8))),
        (4, 4, "contiguous", (0, 1, 2, 3)),
    ],
)
def test_pooling_trees_by_hand(N, window, geometry, nested):
    assert pooling_tree(N, window=window, geometry=geometry).to_nested() == nested


@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_binary_interleaved_tree_is_the_reversed_dilation_tree(L):
    t = pooling_tree(2**L, geometry="interleaved")
    rev = mtd.ModeTree.from_dilations([2 ** (L - 1 - i) for i in range(L)])
    assert set(t.nodes) == set(rev.nodes)


def test_image_modes_by_hand_and_windows_are_nodes():
    assert image_modes(2).tolist() == [[0, 1], [2, 3]]
    m = image_modes(8)
    assert sorted(m.ravel().tolist()) == list(range(64))
    for geometry, mirror in (("contiguous", False), ("mirror", True)):
        t = image_tree(8, geometry=geometry)
        nodes = set(t.nodes)
        for r, c in itertools.product(range(0, 8, 2), range(4 if mirror else 8)):
            if not mirror and c % 2:
                continue
            cols = (c, 7 - c) if mirror else (c, c + 1)
            window = frozenset(int(m[r + i, cc]) for i in (0, 1) for cc in cols)
            assert window in nodes
        # every 2^h x 2^h block (contiguous) is a range of consecutive modes
    for h in (1, 2, 3):
        s = 2**h
        for r, c in itertools.product(range(0, 8, s), repeat=2):
            block = sorted(m[r : r + s, c : c + s].ravel().tolist())
            assert block == list(range(block[0], block[0] + s * s))


def test_image_partitions():
    assert image_partition(2, "top") == (0, 1)
    assert image_partition(2, "checkerboard") == (0, 3)
    with pytest.raises(InvalidArgumentError, match="which must be one of"):
        image_partition(4, "diagonal")


# --------------------------------------------------------------------------- forward
@given(nets(), st.integers(0, 2**16))
def test_forward_equals_naive_recursion(net, seed):
    x = np.random.default_rng(seed).integers(-2, 3, (3, net.n_inputs, net.M))
    out = net.forward(x)
    for b in range(3):
        assert out[b].tolist() == naive_network(net, x[b].tolist())
    assert net.forward(x[0]).tolist() == out[0].tolist()


def test_forward_templates_looks_up_rows_of_the_representation():
    F = np.array([[1, 0], [0, 1], [2, -1]])
    net = PoolingConvAC(
        mtd.ModeTree.balanced(4), (2, 2), M=2, representation=F, kind="integer", seed=1
    )
    assert net.forward_templates([2, 0, 1, 2]).tolist() == net.forward(F[[2, 0, 1, 2]]).tolist()
    A = net.grid_tensor()
    assert A.shape == (3,) * 4 and A[2, 0, 1, 2] == net.forward_templates([2, 0, 1, 2])[0]


# ---------------------------------------------------------------------- grid tensors
@given(nets(g="product", small=True), st.integers(0, 2**16))
def test_grid_tensor_equals_colt_decomposition_exactly(net, seed):
    V = np.random.default_rng(seed).integers(-2, 3, (2, net.M))
    A = net.grid_tensor(V, None, method="forward")
    d = net.to_decomposition(V)
    assert d.form == "colt"
    B = d.to_tensor(None, arithmetic="exact")
    assert A.dtype.kind == "i" and np.array_equal(A, B)
    # the default route (the decomposition) against the COLT form evaluated independently
    G = net.grid_tensor(V, None)
    for y in range(G.shape[0]):
        R = _reference.colt_tensor(
            d.tree.to_nested(), d.discretizers, d.weights, d.leaf_weights, output=y
        )
        assert np.array_equal(G[y], R)


@pytest.mark.parametrize("g", ["relu", "max", "relu_sum"])
@pytest.mark.parametrize("tree", TREES[:3], ids=["balanced4", "interleaved8", "mirror9"])
def test_relu_grid_tensors_equal_decomposition(g, tree):
    L = tree.depth(tree.leaves[0])
    net = PoolingConvAC(tree, (3,) * L, M=2, n_outputs=2, g=g, seed=2)
    V = np.random.default_rng(3).standard_normal((2, 2))
    np.testing.assert_allclose(
        net.grid_tensor(V, None, method="forward"),
        net.to_decomposition(V).to_tensor(None),
        rtol=1e-10,
        atol=1e-12,
    )


def test_shallow_network_is_cp():
    net = PoolingConvAC.shallow(4, M=3, Z=2, n_outputs=2, kind="integer", seed=0)
    (A0, Aout) = net.node_weights[frozenset({0})], net.node_weights[net.tree.root]
    F = net.representation @ A0.T  # (M, Z): column z is the CP factor of rank-one term z
    want = np.einsum("yz,az,bz,cz,dz->yabcd", Aout, F, F, F, F)
    assert np.array_equal(net.grid_tensor(output=None), want)
    for I in ([0], [0, 1], [0, 2], [1, 3]):
        assert mtd.matricization_rank(want[0], I, method="exact") <= 2


def test_modular_grid_is_exact_mod_p():
    net = PoolingConvAC(pooling_tree(8), (2, 2, 2), M=2, kind="integer", seed=4, max_weight=9)
    exact = net.grid_tensor()
    for method in ("decomposition", "forward"):
        assert np.array_equal(
            net.grid_tensor(arithmetic="modular", prime=65521, method=method), exact % 65521
        )


# ----------------------------------------------------------------------------- theory
def rank(net, I):
    return mtd.matricization_rank(net.grid_tensor(), I, method="exact")


def witnesses(tree, channels, M, n=6, **kwargs):
    """Integer-weight networks: each exact rank is a lower bound on the generic rank."""
    return [
        PoolingConvAC(tree, channels, M=M, kind="integer", seed=s, max_weight=4, **kwargs)
        for s in range(n)
    ]


def test_pooling_geometry_decides_which_partitions_get_high_rank():
    # ICLR'17 Thm. 1: partitions splitting every size-2 window get rank >= min(r0, M)^(N/2)
    # for almost all weights (= M^(N/2), also the trivial upper bound, so a witness certifies
    # it); coarse ones are capped by the last hidden layer's channels, for all weights.
    N, M, r = 8, 2, 2
    odd, left = [1, 3, 5, 7], [0, 1, 2, 3]
    contiguous = witnesses(pooling_tree(N), (r,) * 3, M)
    interleaved = witnesses(pooling_tree(N, geometry="interleaved"), (r,) * 3, M)
    assert max(rank(net, odd) for net in contiguous) == M ** (N // 2)
    assert max(rank(net, left) for net in contiguous) <= r
    assert max(rank(net, left) for net in interleaved) == M ** (N // 2)
    assert max(rank(net, odd) for net in interleaved) <= r


def test_2d_checkerboard_versus_halves():
    # 4x4 image, 2x2 windows: the checkerboard splits each of the 4 bottom windows 2/2 (rank
    # >= min(r0, M)^4 generically); "left" is a union of root children under contiguous
    # pooling (rank <= r_{L-1}) but splits every mirror window.
    contiguous = witnesses(image_tree(4), (2, 2), 2, n=3)
    mirror = witnesses(image_tree(4, geometry="mirror"), (2, 2), 2, n=3)
    assert max(rank(net, image_partition(4, "checkerboard")) for net in contiguous) >= 2**4
    assert max(rank(net, image_partition(4, "left")) for net in contiguous) <= 2
    assert max(rank(net, image_partition(4, "left")) for net in mirror) >= 2**4


def test_depth_efficiency_cp_rank_witness():
    # COLT'16: CP rank >= rank of the matricization w.r.t. the odd modes, which is
    # min(r0, M)^(N/2) = 16 for almost all weights of the deep network; a shallow network
    # with Z channels stays <= Z.
    assert max(rank(net, [1, 3, 5, 7]) for net in witnesses(pooling_tree(8), (2, 2, 2), 2)) == 16
    for net in witnesses(mtd.ModeTree.star(8), (15,), 2, n=2):
        assert rank(net, [1, 3, 5, 7]) <= 15


# ------------------------------------------------------------------------------ costs
@given(nets())
def test_parameter_counts(net):
    assert net.n_parameters() == n_parameters(net.to_decomposition())
    L, r, M, Y = net.depth, net.channels, net.M, net.n_outputs
    sizes = [r[0] * M] + [r[h] * r[h - 1] for h in range(1, L)] + [Y * r[L - 1]]
    if net.tied:
        assert net.n_parameters() == sum(sizes)
    else:
        counts = [len(level) for level in reversed(net.tree.nodes_by_depth())]
        assert net.n_parameters() == sum(c * s for c, s in zip(counts, sizes, strict=True))


def test_operation_count_by_hand():
    net = PoolingConvAC(pooling_tree(8), (2, 3, 4), M=5, n_outputs=1)
    c = net.operation_count()
    assert c.macs == 8 * 2 * 5 + 4 * 3 * 2 + 2 * 4 * 3 + 1 * 1 * 4
    assert c.nonlinear == 4 * 2 + 2 * 3 + 1 * 4


# ------------------------------------------------------------------------------ errors
def test_errors():
    with pytest.raises(InvalidArgumentError, match=r"same depth L >= 1.*\[2, 3\]"):
        PoolingConvAC(mtd.ModeTree.balanced(5), (2, 2), M=2)
    with pytest.raises(InvalidArgumentError, match="L = 2 entries"):
        PoolingConvAC(mtd.ModeTree.balanced(4), (2,), M=2)
    with pytest.raises(InvalidArgumentError, match=r"A_0.*must have shape \(2, 3\)"):
        PoolingConvAC(
            mtd.ModeTree.balanced(4),
            (2, 2),
            M=3,
            weights=[np.ones((2, 2)), np.ones((2, 2)), np.ones((1, 2))],
        )
    with pytest.raises(InvalidArgumentError, match="L \\+ 1 = 3 matrices"):
        PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=3, weights=[np.ones((2, 3))])
    with pytest.raises(InvalidArgumentError, match=r"missing the matrix of node"):
        PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=3, tied=False, weights={})
    with pytest.raises(InvalidArgumentError, match="representation must be an"):
        PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=3, representation=np.eye(2))
    with pytest.raises(InvalidArgumentError, match="power 2\\^L"):
        pooling_tree(6)
    with pytest.raises(InvalidArgumentError, match="geometry must be one of"):
        pooling_tree(8, geometry="spiral")
    with pytest.raises(InvalidArgumentError, match="'contiguous' or 'mirror'"):
        image_tree(4, geometry="interleaved")
    net = PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=3)
    with pytest.raises(InvalidArgumentError, match=r"N = 4 inputs and M = 3"):
        net.forward(np.zeros((4, 2)))
    with pytest.raises(InvalidArgumentError, match=r"template numbers in 0\.\.2"):
        net.forward_templates([0, 1, 2, 3])
    with pytest.raises(InvalidArgumentTypeError, match="ModeTree"):
        PoolingConvAC("tree", (2,), M=2)
    with pytest.raises(TensorTooLargeError):
        net.grid_tensor(method="forward", max_bytes=100)
    with pytest.raises(TensorTooLargeError):
        net.grid_tensor(max_bytes=100)
