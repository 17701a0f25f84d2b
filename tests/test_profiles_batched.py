"""Batched rank profiles, tree symmetry classes and overlapping ConvACs, against independent paths.

References here share nothing with the batched elimination: exact ranks over Q of dense
integer instances (python-flint or sympy through ``method="exact"``), ``mtd.generic_rank``'s
own witnesses (probes or a materialized instance modulo another prime), and tree
automorphisms found by brute force over all permutations of the modes.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtd
from mtd import _batch_ranks, families
from mtd.strategies import mode_trees


def _mixed(L, **kw):
    T, Tb = mtd.ModeTree.baseline(L), mtd.ModeTree.swapped(L, 2)
    mix = [v for v in mtd.common_interior(T, Tb) if len(v) == 4]
    return mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, **kw)


def _exact_instance_ranks(make, sets):
    """Per set, the larger exact rank over Q of two independent wide-integer instances."""
    ranks = []
    tensors = [make(s) for s in (11, 12)]
    for I in sets:
        ranks.append(max(mtd.matricization_rank(A, I, method="exact") for A in tensors))
    return ranks


def _check(prof, ranks):
    for rec, rank in zip(prof.to_records(), ranks, strict=True):
        assert rec["lower"] <= rank <= rec["upper"], (rec, rank)
        if rec["certified"]:
            assert rank == rec["lower"], (rec, rank)


# ------------------------------------------------------------------ the elimination kernel
@settings(max_examples=20)
@given(
    data=st.data(),
    m=st.integers(1, 40),
    extra=st.integers(0, 30),
    batch=st.integers(1, 6),
)
def test_leading_rank_is_the_exact_rank_of_planted_matrices(data, m, extra, batch):
    # planted rank r = U V (wide entries), zero rows and columns and repeated columns
    # so that pivoting and stopping are exercised; the kernel after random mixing must
    # return exactly the rank over Q here (rank mod p < rank over Q would need p to
    # divide every r x r minor), and never more
    p = _batch_ranks.BATCH_PRIME
    n = m + extra
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    mats, want = [], []
    for _ in range(batch):
        r = int(rng.integers(0, m + 1))
        M = rng.integers(-1000, 1001, (m, r)) @ rng.integers(-1000, 1001, (r, n))
        if rng.random() < 0.5:
            M[rng.integers(0, m)] = 0
            M[:, : rng.integers(0, n)] = 0
        mats.append(M)
        want.append(mtd.matrix_rank(M, method="exact"))
    Qt = _batch_ranks.random_compressor(n, m, p, rng).T
    cols = np.stack([_batch_ranks.balanced(M, p).T for M in mats])
    C = _batch_ranks._reduce(np.matmul(Qt, cols), p)
    got = _batch_ranks.leading_rank(C, p).tolist()
    assert got == want


def test_leading_rank_without_mixing_stops_at_a_dependent_column():
    # column 1 = 2 * column 0: only one leading column has a pivot, a valid lower bound
    p = _batch_ranks.BATCH_PRIME
    M = np.array([[1, 2, 0], [3, 6, 0], [0, 0, 5]])
    C = _batch_ranks.balanced(M, p).T[None].copy()
    assert _batch_ranks.leading_rank(C, p).tolist() == [1]
    assert mtd.matrix_rank(M, method="exact") == 2


# ------------------------------------------------------------------ profiles, batched
def test_batched_mixed_profile_agrees_with_exact_ranks_of_instances():
    model = _mixed(3, seed=0)
    prof = mtd.rank_profile(model, "all", seed=0, method="batched", n_jobs=1)
    assert len(prof) == 127 and prof.n_computed == 127  # no tree symmetry for mixed
    assert sum(prof.certified) == 127

    def make(s):
        return _mixed(3, kind="integer", max_weight=1000, seed=s).to_tensor(arithmetic="exact")

    _check(prof, _exact_instance_ranks(make, prof.index_sets))
    per_set = mtd.rank_profile(model, "all", seed=0, method="per-set", n_jobs=1)
    assert per_set.upper == prof.upper  # the same structural bounds
    both = [a and b for a, b in zip(prof.certified, per_set.certified, strict=True)]
    assert all(lo == pl for lo, pl, b in zip(prof.lower, per_set.lower, both, strict=True) if b)


def test_batched_tied_network_profile_agrees_with_exact_ranks():
    # a stationary dilated network: weights tied per depth, ranks below the maximum
    net = mtd.DilatedConvNet([1, 2, 4], [2, 2, 1, 2], seed=0)
    prof = mtd.rank_profile(net, "all", seed=1, method="batched", n_jobs=1)
    assert prof.n_computed == 127
    assert min(prof.upper) < max(prof.maximum)

    def make(s):
        w = mtd.DilatedConvNet([1, 2, 4], [2, 2, 1, 2], kind="integer", max_weight=1000, seed=s)
        return w.to_decomposition().to_tensor(arithmetic="exact")

    _check(prof, _exact_instance_ranks(make, prof.index_sets))


def test_batched_agrees_with_generic_rank_at_sixteen_modes():
    model = _mixed(4, seed=0)
    sets = families.index_set_family("random", 16, n_random=12, seed=4)
    prof = mtd.rank_profile(model, sets, seed=2, method="batched", n_jobs=1)
    for rec in prof.to_records():
        ref = mtd.generic_rank(model, rec["I"], seed=5)
        assert rec["upper"] == ref.upper
        assert rec["lower"] <= ref.upper and ref.lower <= rec["upper"]
        if rec["certified"] and ref.certified:
            assert rec["lower"] == ref.lower


def test_auto_falls_back_to_per_set_over_the_memory_limit():
    model = _mixed(3, seed=0)
    sets = families.index_set_family("all", 8)
    with mtd.memory_limit(2**20):
        with pytest.raises(mtd.TensorTooLargeError, match="per-set"):
            mtd.rank_profile(model, sets, seed=0, method="batched")
        messages = []
        prof = mtd.rank_profile(model, sets, seed=0, n_jobs=1, progress=messages.append)
    assert any("generic_rank per set" in m for m in messages)
    assert sum(prof.certified) == len(sets)


def test_progress_goes_through_the_reporter(capsys):
    model = _mixed(3, seed=0)
    messages = []
    mtd.rank_profile(model, "all", seed=0, n_jobs=1, progress=messages.append)
    assert "lower bounds by batched instances" in messages[0]
    assert any("jobs to run" in m for m in messages) and "127/127" in messages[-1]
    mtd.rank_profile(model, "tiles", seed=0, n_jobs=1)
    assert capsys.readouterr().err == ""  # off by default in the library
    with pytest.raises(mtd.InvalidArgumentError, match="method must be one of"):
        mtd.rank_profile(model, "tiles", method="fast")


# ------------------------------------------------------------------ overlapping ConvACs
def test_overlapping_convac_profile_agrees_with_exact_ranks():
    net = mtd.networks.OverlappingConvAC(7, [(3, 2), (3, 3)], (2, 2, 2), seed=0)
    prof = mtd.rank_profile(net, "all", seed=0, n_jobs=1)
    assert len(prof) == 63
    assert sum(prof.certified) == 63
    assert prof.summary()["n_full"] < 63  # some partitions stay below the maximum

    def make(s):
        w = mtd.networks.OverlappingConvAC(
            7, [(3, 2), (3, 3)], (2, 2, 2), kind="integer", max_weight=1000, seed=s
        )
        return w.grid_tensor()

    _check(prof, _exact_instance_ranks(make, prof.index_sets))
    per_set = mtd.rank_profile(net, "contiguous", seed=0, method="per-set", n_jobs=1)
    _check(per_set, _exact_instance_ranks(make, per_set.index_sets))


# ------------------------------------------------------------------ symmetry classes
def _brute_force_classes(tree, masks):
    """Orbits of masks under all mode permutations that map the tree's node sets onto
    themselves, and complements."""
    N = tree.n_modes
    nodes = {frozenset(v) for v in tree.nodes}
    autos = [
        pi
        for pi in itertools.permutations(range(N))
        if {frozenset(pi[j] for j in v) for v in nodes} == nodes
    ]
    full = (1 << N) - 1

    def image(mask, pi):
        return sum(1 << pi[j] for j in range(N) if mask >> j & 1)

    return [min(min(image(m, pi), image(full - m, pi)) for pi in autos) for m in masks.tolist()]


@settings(max_examples=25)
@given(tree=mode_trees(min_modes=2, max_modes=7, max_arity=3))
def test_tree_symmetry_classes_are_the_brute_force_orbits(tree):
    model = mtd.TreeDecomposition.random(tree, M=2, r=2, seed=0)
    N = tree.n_modes
    masks = np.arange(1, 2 ** (N - 1), dtype=np.int64)
    keys = mtd.symmetry.symmetry_classes(model.plan, masks).tolist()
    orbit = _brute_force_classes(tree, masks)
    pairs = set(zip(keys, orbit, strict=True))
    assert len(pairs) == len(set(keys)) == len(set(orbit))


# ------------------------------------------------------------------ the "all" family as masks
@pytest.mark.parametrize("N", [2, 3, 7, 10, 13])
@pytest.mark.parametrize("max_size", [None, 1, 3])
def test_all_masks_list_the_family_in_its_order(N, max_size):
    # the reference lists tuples with itertools (families._all), the masks are vectorized
    masks = families.all_masks(N, max_size=max_size)
    want = families.index_set_family("all", N, max_size=max_size)
    assert families.masks_to_sets(masks, N) == want
    assert masks.tolist() == mtd.symmetry.index_set_masks(want, N).tolist()


def test_profile_of_all_equals_profile_of_the_listed_sets():
    model = mtd.TreeDecomposition.random(mtd.ModeTree.swapped(3, 2), M=2, r=2, seed=0)
    by_name = mtd.rank_profile(model, "all", seed=0, n_jobs=1)
    listed = mtd.rank_profile(model, list(families.index_set_family("all", 8)), seed=0, n_jobs=1)
    assert by_name.to_records() == listed.to_records()
    assert by_name.maximum == listed.maximum
