"""Interconnected dilated networks (eq. 4 as a network, the theory page, §4)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import _reference
from mtd.decompositions import MixedDecomposition, n_parameters
from mtd.errors import InvalidArgumentError, InvalidArgumentTypeError
from mtd.networks import DilatedConvNet, InterconnectedDilatedNets, interconnectable_layers


def g_scalar(g, a, b):
    if g == "product":
        return a * b
    if g == "relu":
        return max(a + b, 0)
    if g == "max":
        return max(a, b, 0)
    return max(a, 0) + max(b, 0)


def naive_layer(d, pair, g, h):
    WI, WII = pair
    out = {}
    for t in h:
        if t - d in h:
            out[t] = [
                g_scalar(
                    g,
                    sum(WI[c][a] * h[t - d][a] for a in range(len(h[t]))),
                    sum(WII[c][a] * h[t][a] for a in range(len(h[t]))),
                )
                for c in range(len(WI))
            ]
    return out


def naive_interconnected(nets, x):
    """Two networks side by side, loops over times; half the channels exchanged at mixed layers."""
    a, b = nets.net_a, nets.net_b
    ha = hb = {t: list(v) for t, v in enumerate(x)}
    for l in range(1, a.n_layers + 1):
        pa = [w.tolist() for w in a.layer_weights[l - 1]]
        pb = [w.tolist() for w in b.layer_weights[l - 1]]
        ha = naive_layer(a.dilations[l - 1], pa, a.g, ha)
        hb = naive_layer(b.dilations[l - 1], pb, b.g, hb)
        if l in nets.mix_layers:
            half = a.channels[l] // 2
            assert set(ha) == set(hb)
            for t in ha:
                ha[t], hb[t] = hb[t][:half] + ha[t][half:], ha[t][:half] + hb[t][half:]
    return {t: [u + v for u, v in zip(ha[t], hb[t], strict=True)] for t in ha}


@st.composite
def pairs(draw, *, g=None, tied=True, max_layers=4):
    L = draw(st.integers(2, max_layers))
    k = draw(st.integers(1, L))
    ok = [l for l in range(1, L + 1) if l % k == 0 or l == L]
    mix = draw(st.lists(st.sampled_from(ok), unique=True, max_size=len(ok)))
    channels = [draw(st.integers(1, 3))] + [2 * draw(st.integers(1, 2)) for _ in range(L)]
    g = draw(st.sampled_from(["product", "relu", "max", "relu_sum"])) if g is None else g
    seed = draw(st.integers(0, 2**16))
    return InterconnectedDilatedNets.swapped_pair(
        L, k, channels, mix, g=g, kind="integer", seed=seed, tied=tied, max_weight=2
    )


# ----------------------------------------------------------------------------- examples
def test_mixture_nodes_are_the_height_l_nodes_of_both_trees():
    nets = InterconnectedDilatedNets.swapped_pair(4, 2, (2,) * 5, [2, 4], seed=0)
    T, Tb = nets.net_a.tree, nets.net_b.tree
    assert set(nets.mixture_nodes) == {n for n in mtd.common_interior(T, Tb)}
    assert [len(n) for n in nets.mixture_nodes] == [4, 4, 4, 4, 16]
    d = nets.to_decomposition()
    assert isinstance(d, MixedDecomposition) and set(d.mixture_nodes) == set(nets.mixture_nodes)


@pytest.mark.parametrize(
    ("L", "k", "want"), [(4, 2, (2, 4)), (4, 1, (1, 2, 3, 4)), (6, 3, (3, 6)), (5, 2, (2, 4, 5))]
)
def test_interconnectable_layers_are_multiples_of_k(L, k, want):
    base = mtd.ModeTree.swapped_dilations(L, 1)
    assert interconnectable_layers(base, mtd.ModeTree.swapped_dilations(L, k)) == want


def test_one_layer_worked_example():
    # L = 1, r_1 = 2: the two networks' single layers, channel 0 exchanged, outputs added.
    one = np.array([[1]])
    a = DilatedConvNet([1], (1, 2), weights=[([[1], [2]], [[3], [4]])])
    b = DilatedConvNet([1], (1, 2), weights=[([[5], [6]], [[7], [8]])])
    nets = InterconnectedDilatedNets(a, b, [1])
    # a: (3 x0 x1, 8 x0 x1); b: (35 x0 x1, 48 x0 x1); swap channel 0 then add: same sum
    assert nets.forward([[1], [2]]).tolist() == [[2 * (3 + 35), 2 * (8 + 48)]]
    assert nets.grid_tensor(one, None).ravel().tolist() == [38, 56]


# ------------------------------------------------------------------------- properties
@given(pairs(), st.integers(0, 2**16))
def test_forward_equals_naive_side_by_side_loops(nets, seed):
    N = nets.receptive_field
    x = np.random.default_rng(seed).integers(-2, 3, (N + 2, nets.net_a.channels[0]))
    want = naive_interconnected(nets, x.tolist())
    assert nets.forward(x).tolist() == [want[t] for t in sorted(want)]


@given(pairs(g="product", max_layers=3), st.integers(0, 2**16))
def test_grid_tensor_equals_mixed_decomposition_exactly(nets, seed):
    r0 = nets.net_a.channels[0]
    V = np.random.default_rng(seed).integers(-2, 3, (3, r0))
    A = nets.grid_tensor(V, None, method="forward")
    B = nets.to_decomposition(V).to_tensor(None, arithmetic="exact")
    assert A.dtype.kind == "i" and np.array_equal(A, B)
    # the default route (the decomposition) against eq. 4 evaluated independently
    d = nets.to_decomposition(V)
    G = nets.grid_tensor(V, None)
    for y in range(G.shape[0]):
        R = _reference.eq4_tensor(
            d.T.to_nested(),
            d.T_bar.to_nested(),
            d.mixture_nodes,
            d.discretizers,
            d.weights,
            d.weights_bar,
            output=y,
        )
        assert np.array_equal(G[y], R)


@pytest.mark.parametrize("mix", [[2], [2, 4], [4], []])
def test_separating_pair_grid_tensor_equals_mixed_decomposition(mix):
    nets = InterconnectedDilatedNets.swapped_pair(
        4, 2, (2,) * 5, mix, kind="integer", max_weight=1, seed=7
    )
    V = np.array([[1, 0], [1, -1]])
    A = nets.grid_tensor(V, method="forward")
    assert A.dtype.kind == "i"
    assert np.array_equal(A, nets.to_decomposition(V).to_tensor(arithmetic="exact"))


@given(pairs(g="relu", max_layers=3), st.integers(0, 2**16))
def test_relu_grid_tensor_equals_decomposition(nets, seed):
    V = np.random.default_rng(seed).integers(-2, 3, (2, nets.net_a.channels[0]))
    A = nets.grid_tensor(V, None, method="forward")
    np.testing.assert_array_equal(A, nets.to_decomposition(V).to_tensor(None, arithmetic="exact"))


@given(pairs(), st.integers(0, 2**16))
def test_no_interconnection_is_the_sum_and_root_swap_changes_nothing(pairs_, seed):
    a, b = pairs_.net_a, pairs_.net_b
    L = a.n_layers
    x = np.random.default_rng(seed).integers(-2, 3, (2, a.receptive_field + 1, a.channels[0]))
    plain = InterconnectedDilatedNets(a, b, [])
    assert np.array_equal(plain.forward(x), a.forward(x) + b.forward(x))
    # exchanging half the output channels and adding is the same sum
    assert np.array_equal(InterconnectedDilatedNets(a, b, [L]).forward(x), plain.forward(x))


def test_non_stationary_pair_matches_its_decomposition():
    nets = InterconnectedDilatedNets.swapped_pair(
        3, 3, (2, 2, 2, 2), [3], tied=False, kind="integer", seed=4
    )
    nets2 = InterconnectedDilatedNets(nets.net_a, nets.net_b, [])
    V = np.array([[1, 0], [0, 1], [1, 1]])
    for n in (nets, nets2):
        A = n.grid_tensor(V, None, method="forward")
        assert np.array_equal(A, n.to_decomposition(V).to_tensor(None, arithmetic="exact"))
    a = DilatedConvNet([1, 2, 4], (2, 2, 2, 2), tied=False, kind="integer", seed=5)
    b = DilatedConvNet([2, 1, 4], (2, 2, 2, 2), kind="integer", seed=6)
    mixed = InterconnectedDilatedNets(a, b, [2])
    A = mixed.grid_tensor(V, method="forward")
    assert np.array_equal(A, mixed.to_decomposition(V).to_tensor(arithmetic="exact"))


# ------------------------------------------------------------------------------ costs
@given(pairs(), st.integers(1, 5))
def test_interconnections_are_free(nets, extra):
    a, b = nets.net_a, nets.net_b
    assert nets.n_parameters() == a.n_parameters() + b.n_parameters()
    assert nets.n_parameters() == n_parameters(nets.to_decomposition())
    plain = InterconnectedDilatedNets(a, b, [])
    assert nets.n_parameters() == plain.n_parameters()
    T = nets.receptive_field + extra
    assert (
        nets.operation_count(T)
        == plain.operation_count(T)
        == (a.operation_count(T) + b.operation_count(T))
    )


# ------------------------------------------------------------------------------ errors
def test_errors_name_the_layer_and_the_rule():
    base, sw = [1, 2, 4, 8], [2, 1, 8, 4]
    with pytest.raises(InvalidArgumentError, match=r"layer 1 cannot be interconnected.*\[2, 4\]"):
        InterconnectedDilatedNets.random(base, sw, (2,) * 5, [1])
    with pytest.raises(InvalidArgumentError, match=r"layer 3 .* node \{0\.\.7\}"):
        InterconnectedDilatedNets.random(base, sw, (2,) * 5, [3])
    with pytest.raises(InvalidArgumentError, match="r_2 must be even.*got r_2 = 3"):
        InterconnectedDilatedNets.random(base, sw, (2, 2, 3, 2, 2), [2])
    with pytest.raises(InvalidArgumentError, match=r"layers 1\.\.4 .*got layer 0"):
        InterconnectedDilatedNets.random(base, sw, (2,) * 5, [0])
    with pytest.raises(InvalidArgumentTypeError, match="int layer numbers"):
        InterconnectedDilatedNets.random(base, sw, (2,) * 5, ["2"])
    with pytest.raises(InvalidArgumentTypeError, match="iterable of layer numbers"):
        InterconnectedDilatedNets.random(base, sw, (2,) * 5, 2)
    a = DilatedConvNet(base, (2,) * 5)
    with pytest.raises(InvalidArgumentError, match="same number of layers"):
        InterconnectedDilatedNets(a, DilatedConvNet([1, 2], (2, 2, 2)), [])
    with pytest.raises(InvalidArgumentError, match="same g"):
        InterconnectedDilatedNets(a, DilatedConvNet(sw, (2,) * 5, g="relu"), [])
    with pytest.raises(InvalidArgumentError, match="same input channels"):
        InterconnectedDilatedNets(a, DilatedConvNet(sw, (3, 2, 2, 2, 2)), [])
    with pytest.raises(InvalidArgumentError, match=r"r_2 = 2 in net_a and 4 in net_b"):
        InterconnectedDilatedNets(a, DilatedConvNet(sw, (2, 2, 4, 2, 2)), [2])
    with pytest.raises(InvalidArgumentTypeError, match="net_b must be a DilatedConvNet"):
        InterconnectedDilatedNets(a, "net", [])
    nets = InterconnectedDilatedNets(a, DilatedConvNet(sw, (2,) * 5), [2])
    with pytest.raises(InvalidArgumentError, match="T >= N = 16"):
        nets.forward(np.zeros((8, 2)))
