"""Overlapping ConvACs (Sharir & Shashua 2018; the theory page, §5): copy-tensor grid tensors."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.errors import InvalidArgumentError, InvalidArgumentTypeError, TensorTooLargeError
from mtd.networks import GCLayer, OverlappingConvAC, contract_network


# ------------------------------------------------------------------ naive references
def naive_forward(net, x):
    """Loops over positions, windows and channels; padding factors are omitted (= 1)."""
    shape = net.input_shape
    h = {pos: [int(v) for v in x[pos]] for pos in itertools.product(*[range(n) for n in shape])}
    for layer, W in zip(net.layers, net.weights[:-1], strict=False):
        R, S, P = layer.window, layer.stride, layer.padding
        n_out = [(n + 2 * P - R) // S + 1 for n in shape]
        new = {}
        for pos in itertools.product(*[range(n) for n in n_out]):
            vec = []
            for gamma in range(W.shape[-2]):
                prod = 1
                for k in itertools.product(range(R), repeat=len(shape)):
                    q = tuple(p * S - P + kk for p, kk in zip(pos, k, strict=True))
                    if all(0 <= qq < n for qq, n in zip(q, shape, strict=True)):
                        w = W[k][gamma]
                        prod *= sum(int(w[a]) * h[q][a] for a in range(len(w)))
                vec.append(prod)
            new[pos] = vec
        h, shape = new, n_out
    pooled = [math.prod(v[g] for v in h.values()) for g in range(len(next(iter(h.values()))))]
    O = net.weights[-1]
    return [sum(int(O[y, g]) * pooled[g] for g in range(len(pooled))) for y in range(len(O))]


CASES = [
    (5, [(3, 1)], (2, 2)),
    (6, [(3, 1), (2, 2)], (2, 2, 2)),
    (7, [(3, 2, 1), (2, 1)], (2, 3, 2)),
    (4, [(2, 1), (2, 1), (2, 1)], (1, 2, 2, 1)),
    (8, [(2, 2), (2, 2), (2, 2)], (2, 2, 2, 2)),
    (5, [(5, 1, 2)], (2, 2)),
    ((3, 3), [(2, 1)], (2, 2)),
    ((2, 3), [(2, 1, 1), (3, 2, 1)], (2, 2, 1)),
]


@st.composite
def nets(draw):
    shape, layers, channels = draw(st.sampled_from(CASES))
    return OverlappingConvAC(
        shape,
        layers,
        channels,
        n_outputs=draw(st.integers(1, 2)),
        kind="integer",
        seed=draw(st.integers(0, 2**16)),
        max_weight=2,  # small weights: these tests compare evaluation routes (int64), not ranks
    )


# ------------------------------------------------------------------------- structure
def test_layer_shapes_and_receptive_fields_by_hand():
    net = OverlappingConvAC(7, [(3, 2, 1), (2, 1)], (2, 2, 2))
    # layer 1: n_out = (7 + 2 - 3)//2 + 1 = 4 windows [-1,1], [1,3], [3,5], [5,7]
    assert net.layer_shapes == ((7,), (4,), (3,))
    assert net.children[0][0] == ((1, 0), (2, 1))  # offset 0 falls on the padding
    assert net.receptive_fields[1] == ((0, 1), (1, 2, 3), (3, 4, 5), (5, 6))
    assert net.receptive_fields[2] == ((0, 1, 2, 3), (1, 2, 3, 4, 5), (3, 4, 5, 6))
    img = OverlappingConvAC((3, 3), [(2, 1)], (1, 1))
    assert img.layer_shapes == ((3, 3), (2, 2))
    assert img.receptive_fields[1][3] == (4, 5, 7, 8)  # pixels (1,1),(1,2),(2,1),(2,2)
    assert [layer.overlapping for layer in net.layers] == [True, True]
    assert net.layers[0] == GCLayer(3, 2, 1)


# --------------------------------------------------------------------------- forward
@given(nets(), st.integers(0, 2**16))
def test_forward_equals_naive_loops(net, seed):
    x = np.random.default_rng(seed).integers(-2, 3, (2, *net.input_shape, net.channels[0]))
    out = net.forward(x)
    for b in range(2):
        assert out[b].tolist() == naive_forward(net, x[b])
    assert net.forward(x[1]).tolist() == out[1].tolist()


# ---------------------------------------------------------------------- grid tensors
@given(nets(), st.integers(0, 2**16))
def test_copy_network_grid_equals_direct_evaluation(net, seed):
    V = np.random.default_rng(seed).integers(-2, 3, (2, net.channels[0]))
    A = net.grid_tensor(V, None)
    assert A.dtype.kind in "iO"
    assert np.array_equal(A, net.grid_tensor(V, None, method="forward"))


def test_grid_entries_are_the_naive_function_at_every_point():
    net = OverlappingConvAC(5, [(3, 1, 1), (3, 2)], (2, 2, 2), kind="integer", seed=9)
    F = np.array([[1, 0], [0, 1], [1, -1]])
    A = net.grid_tensor(F)
    for idx in itertools.product(range(3), repeat=5):
        assert A[idx] == naive_forward(net, F[list(idx)])[0]


def test_float_grid_matches_forward():
    net = OverlappingConvAC((3, 3), [(2, 1)], (3, 2), n_outputs=2, seed=1)
    V = np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_allclose(
        net.grid_tensor(V, None), net.grid_tensor(V, None, method="forward"), rtol=1e-10
    )


@pytest.mark.parametrize("shape", [8, (4, 4)])
def test_non_overlapping_network_is_a_tree_decomposition(shape):
    net = OverlappingConvAC(
        shape,
        [(2, 2), (2, 2)] if shape == 8 else [(2, 2)],
        (2, 2, 2)[: 3 if shape == 8 else 2],
        n_outputs=2,
        kind="integer",
        seed=4,
    )
    d = net.to_decomposition()
    want = d.to_tensor(None, arithmetic="exact")
    assert np.array_equal(net.grid_tensor(output=None), want)
    assert np.array_equal(net.grid_tensor(output=None, method="decomposition"), want)
    if shape == (4, 4):  # the four 2x2 blocks of the row-major image
        kids = {tuple(sorted(c)) for c in d.tree.children(d.tree.root)}
        assert kids == {(0, 1, 4, 5), (2, 3, 6, 7), (8, 9, 12, 13), (10, 11, 14, 15)}


def test_modular_grid_is_exact_mod_p():
    net = OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 2, 2), kind="integer", seed=3, max_weight=7)
    exact = net.grid_tensor()
    for method in ("network", "forward"):
        assert np.array_equal(
            net.grid_tensor(arithmetic="modular", prime=7919, method=method), exact % 7919
        )


# ---------------------------------------------------------------------- leaf vectors
def multilinear(A, u):
    """Σ_d A[d] Π_j u_j[d_j] by a plain loop over the grid (Python ints)."""
    total = 0
    for idx in itertools.product(range(A.shape[0]), repeat=A.ndim):
        total += int(A[idx]) * math.prod(int(u[j, d]) for j, d in enumerate(idx))
    return total


@given(nets(), st.integers(0, 2**16))
def test_leaf_vector_contraction(net, seed):
    rng = np.random.default_rng(seed)
    M = 2
    V = rng.integers(-2, 3, (M, net.channels[0]))
    u = rng.integers(-3, 4, (3, net.n_inputs, M))
    A = net.grid_tensor(V)
    got = net.contract(u, discretizers=V, arithmetic="exact")
    want = [multilinear(A, u[b]) for b in range(3)]
    assert [int(v) for v in got] == want
    p = 2**31 - 1
    mod = contract_network(net, u, discretizers=V, arithmetic="modular")
    assert mod.dtype == np.int64 and mod.tolist() == [w % p for w in want]
    flt = net.contract(u.astype(float), discretizers=V)
    np.testing.assert_allclose(flt, np.array(want, dtype=float), rtol=1e-9)
    one_hot = np.eye(M, dtype=np.int64)[rng.integers(0, M, net.n_inputs)]
    idx = tuple(int(i) for i in one_hot.argmax(axis=1))
    assert net.contract(one_hot, discretizers=V, arithmetic="exact") == A[idx]


def test_contraction_outputs_and_shapes():
    net = OverlappingConvAC(4, [(2, 1)], (2, 2), n_outputs=3, kind="integer", seed=0)
    u = np.random.default_rng(1).integers(-2, 3, (5, 4, 2))
    allout = net.contract(u, output=None, arithmetic="exact")
    assert allout.shape == (5, 3)
    for y in range(3):
        assert np.array_equal(net.contract(u, output=y, arithmetic="exact"), allout[:, y])
    assert net.contract(u[0], output=None, arithmetic="exact").shape == (3,)


# ----------------------------------------------------------------- network description
def contract_description(tn):
    """Contract a TensorNetwork pairwise along shared edges (independent of the library)."""
    items = []
    for t in tn.tensors:
        if t.kind == "copy":
            dim = tn.edge_dims[t.legs[0]]
            data = np.zeros((dim,) * len(t.legs), dtype=object)
            for i in range(dim):
                data[(i,) * len(t.legs)] = 1
        else:
            data = t.data.astype(object)
        items.append((data, list(t.legs)))
    while len(items) > 1:
        a, la = items.pop()
        j = next(i for i, (_, lb) in enumerate(items) if set(lb) & set(la))
        b, lb = items.pop(j)
        shared = [e for e in la if e in lb]
        out = np.tensordot(
            a, b, axes=([la.index(e) for e in shared], [lb.index(e) for e in shared])
        )
        items.append((out, [e for e in la if e not in shared] + [e for e in lb if e not in shared]))
    data, legs = items[0]
    order = [tn.output_leg, *tn.input_legs]
    return data.transpose([legs.index(e) for e in order])


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[6]], ids=["1layer", "2layers", "2d"])
def test_tensor_network_description_contracts_to_the_grid_tensor(case):
    shape, layers, channels = case
    net = OverlappingConvAC(shape, layers, channels, n_outputs=2, kind="integer", seed=5)
    tn = net.tensor_network()
    ends = tn.edge_ends()
    open_edges = sorted(e for e, ts in ends.items() if len(ts) == 1)
    assert open_edges == sorted([tn.output_leg, *tn.input_legs])
    assert all(len(ts) in (1, 2) for ts in ends.values())
    for t in tn.tensors:
        if t.data is not None:
            assert t.data.shape == tuple(tn.edge_dims[e] for e in t.legs)
        else:
            assert len({tn.edge_dims[e] for e in t.legs}) == 1
    np.testing.assert_array_equal(contract_description(tn), net.grid_tensor(output=None))


def test_input_copies_count_the_paths_to_the_output():
    # R = 2, S = 1, two layers on 4 inputs: input j is reached by C(2, j)-like path counts
    net = OverlappingConvAC(4, [(2, 1), (2, 1)], (1, 1, 1))
    tn = net.tensor_network()
    copies = [len(tn.tensors[tn.edge_ends()[e][0]].legs) - 1 for e in tn.input_legs]
    assert copies == [1, 3, 3, 1]  # top units see inputs {0,1,2} and {1,2,3}


# ----------------------------------------------------------------------------- theory
def test_overlaps_raise_the_rank_of_coarse_partitions():
    # Non-overlapping (R = S = 2) on N = 8: the two halves are the two top units, so
    # rank [[A]]_{0..3} <= r_L.  With overlapping windows the halves share units and an
    # integer witness exceeds r_L (a lower bound on the generic rank).
    r = 2
    left = [0, 1, 2, 3]
    for seed in range(3):
        tree_like = OverlappingConvAC(8, [(2, 2), (2, 2)], (2, r, r), kind="integer", seed=seed)
        A = tree_like.grid_tensor()
        assert mtd.matricization_rank(A, left, method="exact") <= r
    ranks = []
    for seed in range(3):
        over = OverlappingConvAC(
            8, [(3, 1, 1), (3, 2, 1)], (2, r, r), kind="integer", seed=seed, max_weight=3
        )
        ranks.append(mtd.matricization_rank(over.grid_tensor(), left, method="exact"))
    assert max(ranks) > r


# ------------------------------------------------------------------------------ costs
def test_counts_by_hand():
    net = OverlappingConvAC(5, [(3, 1)], (2, 3), n_outputs=2)
    assert net.n_parameters() == 3 * 3 * 2 + 2 * 3
    c = net.operation_count()
    # 3 windows x 3 offsets x (3x2), output 2x3; 3 windows x 2 x 3 products + 2 x 3 pooling
    assert (c.macs, c.nonlinear) == (3 * 3 * 6 + 6, 3 * 2 * 3 + 2 * 3)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("args", "err", "match"),
    [
        ((6, [(2, 3)], (1, 1)), InvalidArgumentError, "position 2 lies in none"),
        ((5, [(2, 2)], (1, 1)), InvalidArgumentError, "position 4 lies in none"),
        ((5, [(2, 1, 2)], (1, 1)), InvalidArgumentError, "padding P must be < window R"),
        ((2, [(4, 1)], (1, 1)), InvalidArgumentError, "exceeds the padded input"),
        ((4, [(2, 1)], (1, 1, 1)), InvalidArgumentError, r"L \+ 1 = 2 entries"),
        ((4, [], (1,)), InvalidArgumentError, "at least one GC layer"),
        ((4, [(2,)], (1, 1)), InvalidArgumentTypeError, r"layers\[0\] must be a GCLayer"),
        ((4, [(0, 1)], (1, 1)), InvalidArgumentError, r"layers\[0\] window R must be >= 1"),
        (((2, 2, 2), [(2, 1)], (1, 1)), InvalidArgumentTypeError, "input_shape must be"),
    ],
)
def test_construction_errors(args, err, match):
    with pytest.raises(err, match=match):
        OverlappingConvAC(*args)


def test_evaluation_errors():
    net = OverlappingConvAC(4, [(2, 1)], (2, 2), kind="integer", seed=0)
    with pytest.raises(InvalidArgumentError, match=r"layer 1\).*shape \(2, 2, 2\)"):
        OverlappingConvAC(4, [(2, 1)], (2, 2), weights=[np.ones((2, 2)), np.ones((1, 2))])
    with pytest.raises(InvalidArgumentError, match=r"\(N, r_0\) = \(4, 2\)"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(InvalidArgumentError, match="needs non-overlapping"):
        net.to_decomposition()
    with pytest.raises(InvalidArgumentError, match=r"vectors must have shape \(B, 4, 2\)"):
        net.contract(np.zeros((4, 3)))
    with pytest.raises(InvalidArgumentError, match="needs integer"):
        net.contract(np.zeros((4, 2)), arithmetic="exact")
    with pytest.raises(InvalidArgumentError, match="max_tensors"):
        net.tensor_network(max_tensors=5)
    with pytest.raises(InvalidArgumentError, match="method must be one of"):
        net.grid_tensor(method="loops")
    big = OverlappingConvAC(12, [(3, 1)], (2, 2), seed=0)
    with pytest.raises(TensorTooLargeError, match="grid tensor"):
        big.grid_tensor(max_bytes=1000)
    # the planned path needs only (r_1 x r_1)-sized intermediates here (4 entries)
    with pytest.raises(TensorTooLargeError, match="largest .*intermediate"):
        big.contract(np.ones((12, 2)), max_bytes=24)
    assert big.contract(np.ones((12, 2)), max_bytes=32).shape == ()
