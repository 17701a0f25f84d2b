"""Dilated convolutional networks (theory page, §1-§3): forward, grid tensors, decompositions."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import _reference
from mtd.decompositions import n_parameters
from mtd.errors import InvalidArgumentError, InvalidArgumentTypeError, TensorTooLargeError
from mtd.networks import DilatedConvNet

G_NAMES = ["product", "relu", "max", "relu_sum"]


# ------------------------------------------------------------------ naive references
def g_scalar(g, a, b):
    if g == "product":
        return a * b
    if g == "relu":
        return max(a + b, 0)
    if g == "max":
        return max(a, b, 0)
    return max(a, 0) + max(b, 0)


def naive_forward(dilations, pairs, g, x):
    """Explicit loops over layers, times and channels; Python numbers throughout.

    ``x`` is a list of T vectors (lists); returns {time: output vector} for every time at
    which the last layer is defined.
    """
    h = {t: [v for v in x[t]] for t in range(len(x))}
    for d, (WI, WII) in zip(dilations, pairs, strict=True):
        nxt = {}
        for t in h:
            if t - d not in h:
                continue
            out = []
            for gamma in range(len(WI)):
                a = sum(WI[gamma][al] * h[t - d][al] for al in range(len(h[t])))
                b = sum(WII[gamma][al] * h[t][al] for al in range(len(h[t])))
                out.append(g_scalar(g, a, b))
            nxt[t] = out
        h = nxt
    return h


def pairs_as_lists(net):
    return [(a.tolist(), b.tolist()) for a, b in net.layer_weights]


def random_dilations(draw, L):
    perm = draw(st.permutations(list(range(L))))
    return [2**i for i in perm]


@st.composite
def networks(draw, *, g=None, kind="integer", tied=True, max_layers=3):
    L = draw(st.integers(1, max_layers))
    dils = random_dilations(draw, L)
    channels = tuple(draw(st.lists(st.integers(1, 3), min_size=L + 1, max_size=L + 1)))
    g = draw(st.sampled_from(G_NAMES)) if g is None else g
    seed = draw(st.integers(0, 2**16))
    return DilatedConvNet(
        # small weights: these tests compare evaluation routes (int64), not ranks
        dils,
        channels,
        g=g,
        kind=kind,
        seed=seed,
        tied=tied,
        max_weight=2,
    )


# ----------------------------------------------------------------------- worked examples
def test_one_layer_by_hand():
    net = DilatedConvNet([1], (1, 1), weights=[([[2]], [[3]])])
    # x_1(τ) = (2 x(τ-1)) (3 x(τ)): outputs at times 1, 2, 3
    assert net.forward([[1], [2], [5], [-1]]).tolist() == [[12], [60], [-30]]


def test_two_layers_by_hand_and_first_child_is_earlier():
    # Layer 1 (d=2): W_I = [1], W_II = [10]; layer 2 (d=1): W_I = [1], W_II = [100].
    net = DilatedConvNet([2, 1], (1, 1, 1), weights=[([[1]], [[10]]), ([[1]], [[100]])])
    x = [[1], [2], [3], [4]]
    # x_1(2) = 1·x(0)·10·x(2) = 30, x_1(3) = 2·10·4 = 80; x_2(3) = 30·100·80
    assert net.forward(x).tolist() == [[30 * 100 * 80]]
    A = net.grid_tensor(np.array([[1], [2]]))
    # entry [d0..d3] = (10 v0 v2)·100·(10 v1 v3) with v = d + 1
    for idx in itertools.product(range(2), repeat=4):
        v = [i + 1 for i in idx]
        assert A[idx] == 10_000 * v[0] * v[2] * v[1] * v[3]


@pytest.mark.parametrize(
    ("dilations", "nested"),
    [([1, 2], ((0, 1), (2, 3))), ([2, 1], ((0, 2), (1, 3))), ([4, 1, 2], None)],
)
def test_tree_is_from_dilations(dilations, nested):
    net = DilatedConvNet(dilations, (1,) * (len(dilations) + 1))
    assert net.tree == mtd.ModeTree.from_dilations(dilations)
    if nested is not None:
        assert net.tree.to_nested() == nested
    assert net.receptive_field == 2 ** len(dilations)


# ---------------------------------------------------------------- forward vs naive loops
@given(networks(), st.integers(0, 5), st.integers(0, 2**16))
def test_forward_equals_naive_loops_exactly(net, extra, seed):
    rng = np.random.default_rng(seed)
    T = net.receptive_field + extra
    x = rng.integers(-3, 4, (T, net.channels[0]))
    want = naive_forward(net.dilations, pairs_as_lists(net), net.g, x.tolist())
    got = net.forward(x)
    assert got.dtype.kind in "iO"
    times = sorted(want)
    assert times == list(range(net.receptive_field - 1, T))
    assert got.tolist() == [want[t] for t in times]


@given(networks(kind="gaussian"), st.integers(0, 2**16))
def test_forward_batch_float_equals_naive(net, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, net.receptive_field + 2, net.channels[0]))
    got = net.forward(x)
    for b in range(3):
        want = naive_forward(net.dilations, pairs_as_lists(net), net.g, x[b].tolist())
        np.testing.assert_allclose(got[b], [want[t] for t in sorted(want)], rtol=1e-12, atol=1e-12)


def test_large_integer_weights_stay_exact():
    # 4 layers of products of weights 10^4: values near 10^100, beyond int64.
    w = np.full((1, 1), 10**4)
    net = DilatedConvNet([1, 2, 4, 8], (1,) * 5, weights=[(w, w)] * 4)
    out = net.forward(np.full((16, 1), 3))
    assert out.dtype == object
    assert out[0, 0] == (10**4) ** (2 + 4 + 8 + 16) * 3**16


# --------------------------------------------------------------------- grid tensors
@given(networks(g="product"), st.integers(1, 3), st.integers(0, 2**16))
def test_product_grid_tensor_equals_decomposition_exactly(net, M, seed):
    if M**net.receptive_field > 5000:
        M = 2
    V = np.random.default_rng(seed).integers(-2, 3, (M, net.channels[0]))
    A = net.grid_tensor(V, None, method="forward")
    B = net.to_decomposition(V).to_tensor(None, arithmetic="exact")
    assert A.dtype.kind == "i" and B.dtype.kind == "i"
    assert np.array_equal(A, B)
    # the default route (the decomposition) against eq. 3 evaluated independently
    d = net.to_decomposition(V)
    G = net.grid_tensor(V, None)
    for y in range(G.shape[0]):
        R = _reference.eq3_tensor(d.tree.to_nested(), d.discretizers, d.weights, output=y)
        assert np.array_equal(G[y], R)


@pytest.mark.parametrize("g", ["relu", "max", "relu_sum"])
def test_relu_grid_tensors_equal_decomposition(g):
    rng = np.random.default_rng(5)
    for dils in ([1, 2, 4], [4, 1, 2], [2, 4, 1]):
        net = DilatedConvNet(dils, (2, 3, 2, 2), g=g, seed=rng)
        V = rng.standard_normal((3, 2))
        A = net.grid_tensor(V, None, method="forward")
        np.testing.assert_allclose(
            A, net.to_decomposition(V).to_tensor(None), rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(A, net.grid_tensor(V, None), rtol=1e-10, atol=1e-12)


@given(networks(), st.integers(0, 2**16))
def test_output_on_a_sequence_is_the_grid_entry_of_its_window(net, seed):
    rng = np.random.default_rng(seed)
    M, N = 3, net.receptive_field
    V = rng.integers(-2, 3, (M, net.channels[0]))
    A = net.grid_tensor(V, None)
    s = rng.integers(0, M, 3 * N)
    out = net.forward(V[s])
    for t in rng.integers(N - 1, len(s), 5):
        window = tuple(s[t - N + 1 : t + 1])
        assert out[t - N + 1].tolist() == A[(slice(None), *window)].tolist()


def test_grid_tensor_of_one_hot_discretizers_is_the_naive_function():
    # An independent grid: the naive loops at every grid point.
    net = DilatedConvNet([2, 1], (2, 2, 1), g="relu", kind="integer", seed=3)
    V = np.array([[1, 0], [0, 1], [1, -1]])
    A = net.grid_tensor(V)
    for idx in itertools.product(range(3), repeat=4):
        want = naive_forward(net.dilations, pairs_as_lists(net), "relu", V[list(idx)].tolist())
        assert A[idx] == want[3][0]


def test_modular_grid_tensor_is_exact_mod_p():
    net = DilatedConvNet([1, 2, 4], (2, 2, 2, 2), kind="integer", seed=2, max_weight=5)
    V = np.array([[1, 0], [0, 1]])
    exact = net.grid_tensor(V, 1)
    for method in ("decomposition", "forward"):
        mod = net.grid_tensor(V, 1, arithmetic="modular", prime=10007, method=method)
        assert np.array_equal(mod, exact % 10007)


def test_float_weights_give_float_grids():
    net = DilatedConvNet([1, 2], (2, 2, 2), seed=0)
    A = net.grid_tensor(np.eye(2))
    assert A.dtype == np.float64
    np.testing.assert_allclose(A, net.grid_tensor(np.eye(2), method="forward"))


# -------------------------------------------------------------- non-stationary weights
@given(networks(tied=True), st.integers(0, 2**16))
def test_per_node_copies_of_layer_weights_equal_the_stationary_net(net, seed):
    per_node = {n: net.layer_weights[net.tree.node_height(n) - 1] for n in net.tree.interior_nodes}
    twin = DilatedConvNet.from_node_weights(net.dilations, per_node, g=net.g)
    assert not twin.tied and twin.channels == net.channels
    x = np.random.default_rng(seed).integers(-2, 3, (2, net.receptive_field + 3, net.channels[0]))
    assert np.array_equal(twin.forward(x), net.forward(x))


def naive_node_value(tree, weights, g, leaf_vectors, node):
    kids = tree.children(node)
    if not kids:
        return list(leaf_vectors[next(iter(node))])
    a_vec = naive_node_value(tree, weights, g, leaf_vectors, kids[0])
    b_vec = naive_node_value(tree, weights, g, leaf_vectors, kids[1])
    WI, WII = weights[node]
    out = []
    for gamma in range(len(WI)):
        a = sum(WI[gamma][al] * a_vec[al] for al in range(len(a_vec)))
        b = sum(WII[gamma][al] * b_vec[al] for al in range(len(b_vec)))
        out.append(g_scalar(g, a, b))
    return out


@given(networks(tied=False), st.integers(0, 2**16))
def test_non_stationary_forward_equals_tree_recursion(net, seed):
    weights = {n: (a.tolist(), b.tolist()) for n, (a, b) in net.node_weights.items()}
    N = net.receptive_field
    x = np.random.default_rng(seed).integers(-2, 3, (N + 2, net.channels[0]))
    out = net.forward(x)
    for i in range(3):
        want = naive_node_value(net.tree, weights, net.g, x[i : i + N].tolist(), net.tree.root)
        assert out[i].tolist() == want
    V = np.array([[1] * net.channels[0], [-1] + [0] * (net.channels[0] - 1)])
    assert np.array_equal(net.grid_tensor(V, None), net.grid_tensor(V, None, method="forward"))
    assert not net.to_decomposition().tied


# ----------------------------------------------------------------------------- theory
@pytest.mark.parametrize("dilations", [[1, 2, 4], [2, 1, 4], [4, 2, 1]])
def test_theorem7_bounds_hold_and_root_children_have_rank_one(dilations):
    net = DilatedConvNet(dilations, (2, 2, 2, 2), kind="integer", seed=11, max_weight=3)
    A = net.grid_tensor(np.array([[1, 0], [0, 1], [1, 1]]))
    tree = net.tree
    first = tree.children(tree.root)[0]
    assert mtd.matricization_rank(A, first, method="exact") <= 1  # the theory page, §3
    for I in ([0, 1, 2], [0, 2, 4, 6], [1, 2, 5, 6], [0, 7]):
        lower, upper = mtd.theorem7_bounds(tree, I, 2)
        assert mtd.matricization_rank(A, I, method="exact") <= upper


# ------------------------------------------------------------------------------ costs
@given(networks(), networks(tied=False))
def test_parameter_counts(net, free):
    r = net.channels
    assert net.n_parameters() == sum(2 * r[l] * r[l - 1] for l in range(1, len(r)))
    assert net.n_parameters() == n_parameters(net.to_decomposition())
    L, q = free.n_layers, free.channels
    assert free.n_parameters() == sum(2 ** (L - l) * 2 * q[l] * q[l - 1] for l in range(1, L + 1))
    assert free.n_parameters() == n_parameters(free.to_decomposition())


def test_operation_counts_by_hand():
    net = DilatedConvNet([1, 2], (3, 4, 5))
    # streaming: one unit per layer: 2·4·3 + 2·5·4 multiply-accumulates, 4 + 5 g's
    c = net.operation_count()
    assert (c.macs, c.nonlinear, c.total) == (64, 9, 73)
    # T = 6: layer 1 has 5 units, layer 2 has 3
    c = net.operation_count(T=6)
    assert (c.macs, c.nonlinear) == (5 * 24 + 3 * 40, 5 * 4 + 3 * 5)
    free = DilatedConvNet([1, 2], (3, 4, 5), tied=False)
    assert free.operation_count().macs == 2 * 24 + 40
    assert "multiply-accumulates" in str(c)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        (dict(dilations=[1, 3], channels=(1, 1, 1)), InvalidArgumentError, "permutation of 1, 2"),
        (
            dict(dilations=[1, 2], channels=(1, 1)),
            InvalidArgumentError,
            r"L \+ 1 = 3 entries .* got 2 entries",
        ),
        (dict(dilations=[1, 2], channels=(1, 0, 1)), InvalidArgumentError, r"channels\[1\]"),
        (
            dict(dilations=[1, 2], channels=(1, 1.5, 1)),
            InvalidArgumentTypeError,
            r"channels\[1\] must be an int",
        ),
        (dict(dilations=[1], channels=(1, 1), g="tanh"), InvalidArgumentError, "g must be one of"),
        (
            dict(dilations=[1], channels=(1, 1), kind="normal"),
            InvalidArgumentError,
            "kind must be one of",
        ),
        (
            dict(dilations=[1], channels=(2, 1), weights=[([[1, 1]], [[1]])]),
            InvalidArgumentError,
            r"W_II must have shape \(r_1, r_0\) = \(1, 2\)",
        ),
        (
            dict(dilations=[1], channels=(2, 1), weights=[([[1, 1]],)]),
            InvalidArgumentError,
            "got 1 matrices",
        ),
        (
            dict(dilations=[1], channels=(2, 1), weights={}),
            InvalidArgumentTypeError,
            "sequence of 1 pairs",
        ),
        (
            dict(dilations=[1, 2], channels=(1, 1, 1), weights={}, tied=False),
            InvalidArgumentError,
            "missing the pair of node",
        ),
        (
            dict(dilations=[1], channels=(1, 1), tied=1),
            InvalidArgumentTypeError,
            "tied must be a bool",
        ),
    ],
)
def test_construction_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        DilatedConvNet(**kwargs)


def test_evaluation_errors():
    net = DilatedConvNet([1, 2], (2, 2, 1), kind="integer", seed=0)
    with pytest.raises(InvalidArgumentError, match=r"r_0 = 2 .* got shape \(5, 3\)"):
        net.forward(np.zeros((5, 3)))
    with pytest.raises(InvalidArgumentError, match=r"T = 3 time steps.*T >= N = 4"):
        net.forward(np.zeros((3, 2)))
    with pytest.raises(InvalidArgumentTypeError, match="real numbers"):
        net.forward(np.zeros((4, 2), dtype=bool))
    with pytest.raises(InvalidArgumentError, match=r"r_0 = 2 columns.*got shape \(3,\)"):
        net.grid_tensor(np.zeros(3))
    with pytest.raises(InvalidArgumentError, match=r"output must be in 0\.\.0"):
        net.grid_tensor(np.eye(2), 1)
    with pytest.raises(InvalidArgumentError, match="method must be one of"):
        net.grid_tensor(np.eye(2), method="loops")
    with pytest.raises(InvalidArgumentError, match="needs integer weights"):
        net.grid_tensor(np.eye(2) * 0.5, arithmetic="exact")
    relu = DilatedConvNet([1], (1, 1), g="relu", kind="integer")
    with pytest.raises(InvalidArgumentError, match="modular' needs g = 'product'"):
        relu.grid_tensor(np.eye(1, dtype=int), arithmetic="modular")
    with pytest.raises(InvalidArgumentError, match="only for a stationary network"):
        DilatedConvNet([1], (1, 1), tied=False).layer_weights  # noqa: B018


@pytest.mark.parametrize("method", ["decomposition", "forward"])
def test_memory_guard_refuses_before_allocating(method):
    net = DilatedConvNet([1, 2, 4, 8], (2, 2, 2, 2, 2), seed=0)
    with pytest.raises(TensorTooLargeError, match="max_bytes"):
        net.grid_tensor(np.eye(2), method=method, max_bytes=10_000)
    with mtd.memory_limit(10_000), pytest.raises(MemoryError):
        net.grid_tensor(np.eye(2), method=method)


def test_from_node_weights_errors():
    T = mtd.ModeTree.from_dilations([1, 2])
    bad = {
        n: (np.ones((2 if len(n) == 2 and 0 in n else 1, 1)), np.ones((1, 1)))
        for n in T.interior_nodes
    }
    with pytest.raises(InvalidArgumentError, match="channels are per layer"):
        DilatedConvNet.from_node_weights([1, 2], bad)
    with pytest.raises(InvalidArgumentTypeError, match="must be a mapping"):
        DilatedConvNet.from_node_weights([1, 2], [1, 2])
