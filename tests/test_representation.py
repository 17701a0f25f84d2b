"""The representation beyond trees: DAG plans, planned contractions, probes and min-cuts."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd._probes import NetworkProbeMatrix, PointProbeMatrix, randomize_plan
from mtd.decompositions._arith import Arith
from mtd.decompositions._dense import dense_tensor
from mtd.decompositions._network import (
    contract_vectors,
    count_instances,
    plan_factors,
    plan_path,
    plan_tensor_network,
)
from mtd.errors import TensorTooLargeError
from mtd.networks import OverlappingConvAC

P = 2**31 - 1

NETS = [
    (6, [(3, 1)], (2, 2)),
    (6, [(2, 1), (2, 1)], (2, 2, 2)),
    (8, [(3, 1, 1), (2, 2)], (2, 3, 2)),
    ((3, 3), [(2, 1), (2, 1)], (2, 2, 2)),
    ((4, 4), [(3, 1, 1), (2, 2)], (2, 2, 2)),
]


def _one_hot_einsum(A, vectors):
    """``Σ_d A[d] Π_j u_j[d_j]`` in Python ints by brute force (independent of mtd)."""
    total = 0
    for d in itertools.product(*[range(s) for s in A.shape]):
        term = int(A[d])
        for j, dj in enumerate(d):
            term *= int(vectors[j][dj])
        total += term
    return total


@pytest.mark.parametrize("case", NETS[:3], ids=["R3S1", "two-layers", "padded"])
def test_leaf_vectors_in_three_arithmetics(case):
    shape, layers, channels = case
    net = OverlappingConvAC(shape, layers, channels, kind="integer", max_weight=1000, seed=4)
    A = net.grid_tensor(arithmetic="exact")
    u = np.random.default_rng(1).integers(-1000, 1001, size=(3, net.n_inputs, net.M))
    want = [_one_hot_einsum(A, u[b]) for b in range(3)]
    plan = net.plan
    inputs = {m: u[:, m, :] for m in range(net.n_inputs)}
    exact = contract_vectors(plan, inputs, [0], Arith("exact", np.int64))
    assert [int(v) for v in exact[:, 0]] == want
    mod = contract_vectors(plan, inputs, [0], Arith("modular", np.int64, P))
    assert [int(v) for v in mod[:, 0]] == [w % P for w in want]
    flt = contract_vectors(plan, inputs, [0], Arith("float", np.float64))
    np.testing.assert_allclose(flt[:, 0], np.array(want, dtype=float), rtol=1e-9)


@pytest.mark.parametrize("case", NETS, ids=["R3S1", "two-layers", "padded", "2d", "2d-pad"])
def test_dense_plan_equals_forward(case):
    shape, layers, channels = case
    net = OverlappingConvAC(shape, layers, channels, kind="integer", seed=2)
    A = dense_tensor(net.plan, 0, arithmetic="exact")
    np.testing.assert_array_equal(A, net.grid_tensor(method="forward", arithmetic="exact"))


@given(seed=st.integers(0, 2**32 - 1))
def test_probe_entries_are_contractions(seed):
    net = OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 2, 2), seed=0)
    rng = np.random.default_rng(seed)
    rplan = randomize_plan(net.plan, rng, P)
    rows = frozenset({0, 2, 3})
    pm = NetworkProbeMatrix(rplan, rows, 0, P, rng)
    E = pm.grow(3)
    E = pm.grow(5)  # grown: old entries kept, new ones evaluated
    A = dense_tensor(rplan, 0, arithmetic="modular", prime=P)
    for k in range(5):
        for l in range(5):
            vec = [pm.vectors[m][k if m in rows else l] for m in range(6)]
            assert E[k, l] == _one_hot_einsum(A, vec) % P


def test_randomize_keeps_ties_and_fixed_structure():
    net = OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 2, 2), seed=0)
    rplan = randomize_plan(net.plan, np.random.default_rng(0), P)
    old, new = net.plan.arrays(), rplan.arrays()
    assert len(old) == len(new)  # F, W[0..2], W'[0..1], O, the pooling identity
    assert rplan.fixed == net.plan.fixed and all(any(a is f for a in new) for f in net.plan.fixed)
    free = [a for a in new if not rplan.is_fixed(a)]
    assert all(not np.array_equal(a, b) for a, b in zip(free, old, strict=False) if a.size > 2)


def test_description_and_min_cut_on_the_plan():
    net = OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 3, 3), seed=0)
    tn = plan_tensor_network(net.plan)
    assert len(tn.input_legs) == 6
    assert count_instances(net.plan) == len(plan_factors(net.plan, [0])[0].arrays)
    A = net.grid_tensor(arithmetic="float")
    for I in ([0, 1, 2], [0, 2, 4], [0]):
        bound = mtd.mincut_bound(net, I)
        assert bound == mtd.mincut.network_mincut_bound(tn, I)
        assert mtd.matricization_rank(A, I, method="numeric") <= bound


def test_memory_guard_on_the_planned_intermediate():
    shapes = [(2, 50), (50, 50), (50, 50), (50, 2)]
    labels = [(0, 1), (1, 2), (3, 4), (4, 5)]
    with pytest.raises(TensorTooLargeError, match="largest intermediate"):
        plan_path(shapes, labels, (0, 2, 3, 5), 8, max_bytes=1000)
    assert plan_path(shapes, labels, (0, 2, 3, 5), 8, max_bytes=None)


# ------------------------------------------------------------------ certification
def test_issue_reproducer_is_certified():
    net = mtd.OverlappingConvAC(16, [(2, 2)] * 4, (3,) * 5, seed=0)
    res = mtd.generic_rank(net, range(8))
    assert res.certified and res.rank == 3  # the root's copy tensor over 3 channels


def test_five_layer_network_gets_bounds_without_allocating():
    net = mtd.OverlappingConvAC(16, [(3, 1), (3, 1), (2, 2), (2, 2), (3, 1)], (3,) * 6, seed=0)
    before = mtd.get_memory_limit()
    mtd.set_memory_limit(64 * 2**20)  # far below the 264 GB the old contraction needed
    try:
        upper = mtd.mincut_bound(net, range(8))
        res = mtd.generic_rank(net, range(8), seed=0, max_probes=16)
    finally:
        mtd.set_memory_limit(before)
    assert upper == 243 and res.upper == 243
    assert res.lower == 16  # every probe independent; the cap stops the search


@pytest.mark.parametrize("I", [[0, 1, 2], [0, 2, 4], [1, 2, 3, 4], [0, 5]])
@pytest.mark.parametrize("seed", [0, 1])
def test_certified_overlapping_ranks_bracket_exact_instances(I, seed):
    net = OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 2, 2), seed=0)
    res = mtd.generic_rank(net, I, seed=seed, method="probes")
    inst = OverlappingConvAC(
        6, [(3, 1), (2, 2)], (2, 2, 2), kind="integer", max_weight=1000, seed=seed
    )
    exact = mtd.matricization_rank(inst.grid_tensor(arithmetic="exact"), I, method="exact")
    assert res.lower <= res.upper
    assert exact <= res.upper
    if res.certified:
        assert exact <= res.rank


def _image_net():
    return mtd.OverlappingConvAC((8, 8), [(3, 1, 1), (2, 2), (2, 2), (2, 2)], (2,) * 5, seed=0)


def test_image_network_bounds():
    net = _image_net()
    halves = [r * 8 + c for r in range(8) for c in range(4)]
    checker = [r * 8 + c for r in range(8) for c in range(8) if (r + c) % 2 == 0]
    assert not net.plan.is_tree
    # two 8-pixel boundary columns feed both halves (2^8 each), times the root's 2
    assert mtd.mincut_bound(net, halves) == 2**17
    res = mtd.generic_rank(net, halves, seed=0, max_probes=32)
    assert res.lower == 32 and res.upper == 2**17
    assert mtd.mincut_bound(net, checker) == 2**32  # nothing better than trivial


def test_point_probes_are_grid_entries():
    net = OverlappingConvAC((3, 3), [(2, 1), (2, 1)], (2, 2, 2), seed=0)
    rng = np.random.default_rng(5)
    rplan = randomize_plan(net.plan, rng, P)
    rows = frozenset({0, 1, 3, 4})
    pm = PointProbeMatrix(rplan, rows, 0, P, rng)
    pm.grow(4)
    E = pm.grow(7)
    A = dense_tensor(rplan, 0, arithmetic="modular", prime=P)
    for k in range(7):
        for l in range(7):
            d = tuple(int(pm.index[m][k if m in rows else l]) for m in range(9))
            assert E[k, l] == A[d]


def test_small_image_network_certified_for_halves_and_checkerboard():
    # the issue's image network on 4 x 4 pixels: both partitions reach the trivial 2^8
    net = mtd.OverlappingConvAC((4, 4), [(3, 1, 1), (2, 2), (2, 2)], (2,) * 4, seed=0)
    halves = [r * 4 + c for r in range(4) for c in range(2)]
    checker = [r * 4 + c for r in range(4) for c in range(4) if (r + c) % 2 == 0]
    for I in (halves, checker):
        res = mtd.generic_rank(net, I, seed=0)
        assert res.certified and res.rank == 2**8


def test_public_leaf_vector_contraction_of_a_dag_plan():
    # mtd.contract_leaf_vectors on a plan whose modes are read by several windows
    net = OverlappingConvAC(5, [(3, 1)], (2, 2), kind="integer", seed=2)
    u = np.random.default_rng(0).integers(-1000, 1001, (4, 5, 2))
    A = net.grid_tensor(arithmetic="exact")
    got = mtd.contract_leaf_vectors(net.plan, u, arithmetic="exact")
    assert [int(v) for v in got] == [_one_hot_einsum(A, u[b]) for b in range(4)]


@st.composite
def small_overlapping(draw):
    """A random 1-D overlapping ConvAC with at most 7 inputs and M = 2."""
    N = draw(st.integers(3, 7))
    layers, n = [], N
    for _ in range(draw(st.integers(1, 2))):
        R = draw(st.integers(1, min(3, n)))
        S = draw(st.integers(1, R))
        if (n - R) % S:
            continue
        layers.append((R, S))
        n = (n - R) // S + 1
    if not layers:
        layers = [(1, 1)]
    channels = tuple(draw(st.integers(1, 3)) for _ in range(len(layers))) + (2,)
    return N, layers, (2, *channels[1:])


@given(arch=small_overlapping(), seed=st.integers(0, 2**16), data=st.data())
def test_bounds_bracket_exact_ranks_of_random_architectures(arch, seed, data):
    N, layers, channels = arch
    net = OverlappingConvAC(N, layers, channels, kind="integer", max_weight=1000, seed=seed)
    I = data.draw(st.sets(st.integers(0, N - 1), min_size=1, max_size=N - 1))
    exact = mtd.matricization_rank(net.grid_tensor(arithmetic="exact"), sorted(I), method="exact")
    res = mtd.generic_rank(net, I, seed=seed, method="probes")
    assert res.lower <= res.upper
    assert exact <= res.upper  # the max-flow (or tree) min-cut bounds every instance
    if res.certified:
        assert exact <= res.rank
