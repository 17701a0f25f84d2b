"""Rank profiles against independent exact ranks of materialized integer instances."""

import itertools
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtd
from mtd import families
from mtd.strategies import mode_trees

# The exact rank of one random instance with wide integer weights is a lower bound on the
# generic rank (a point of the architecture) and equals it except on a thin set; it is
# computed here by a path that shares nothing with generic_rank: the dense integer tensor
# and an exact rank over Q.


def _exact_ranks(decomposition, sets):
    A = decomposition.to_tensor(arithmetic="exact")
    return [mtd.matricization_rank(A, I, method="exact") for I in sets]


def _check_against_instances(model, make_instance, sets, prof):
    records = prof.to_records()
    assert [r["I"] for r in records] == [tuple(sorted(I)) for I in sets]
    ranks = [
        max(vals)
        for vals in zip(*(_exact_ranks(make_instance(s), sets) for s in (1, 2)), strict=True)
    ]
    for rec, rank in zip(records, ranks, strict=True):
        assert rec["lower"] <= rank <= rec["upper"], rec
        if rec["certified"]:
            assert rank == rec["lower"], rec


@pytest.mark.parametrize(
    "tree",
    [
        mtd.ModeTree.baseline(3),
        mtd.ModeTree.swapped(3, 2),
        mtd.ModeTree.from_nested(((0, (1, 5)), ((2, 7), (3, (4, 6))))),
        mtd.ModeTree.linear(7),
    ],
    ids=["baseline", "swapped", "irregular", "linear"],
)
def test_all_sets_agree_with_exact_ranks_of_instances(tree):
    # every set, not only the computed representatives: checks the symmetry sharing too
    N = tree.n_modes
    model = mtd.TreeDecomposition.random(tree, M=2, r=2, seed=0)
    prof = mtd.rank_profile(model, "all", seed=3)
    assert len(prof) == 2 ** (N - 1) - 1
    assert prof.n_computed < len(prof)

    def make(s):
        return mtd.TreeDecomposition.random(tree, M=2, r=2, kind="integer", max_weight=1000, seed=s)

    _check_against_instances(model, make, prof.index_sets, prof)
    assert sum(prof.certified) == len(prof)  # M = r = 2 trees: the min-cut is met


def test_mixed_profile_agrees_with_exact_ranks():
    T, Tb = mtd.ModeTree.baseline(3), mtd.ModeTree.swapped(3, 2)
    mix = [v for v in mtd.common_interior(T, Tb) if len(v) == 4]
    model = mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0)
    sets = families.index_set_family("random", 8, n_random=40, seed=5)
    prof = mtd.rank_profile(model, sets, seed=1)
    assert prof.n_computed <= len(sets)  # complements only: no tree symmetry is used

    def make(s):
        return mtd.MixedDecomposition.random(
            T, Tb, mix, M=2, r=2, kind="integer", max_weight=1000, seed=s
        )

    _check_against_instances(model, make, sets, prof)


def test_tied_weights_get_no_tree_symmetry():
    net = mtd.DilatedConvNet([1, 2, 4], [2, 2, 2, 2], seed=0)
    prof = mtd.rank_profile(net, "all", seed=0)
    assert prof.n_computed == len(prof) == 127
    A = net.to_decomposition()
    assert not mtd.symmetry.has_tree_symmetry(A.plan)


@given(tree=mode_trees(min_modes=3, max_modes=7), data=st.data())
def test_lower_never_exceeds_upper(tree, data):
    N = tree.n_modes
    r = data.draw(st.integers(1, 3))
    M = data.draw(st.integers(1, 3))
    sets = data.draw(
        st.lists(st.sets(st.integers(0, N - 1), min_size=1, max_size=N - 1), min_size=1, max_size=6)
    )
    model = mtd.TreeDecomposition.random(tree, M=M, r=r, seed=0)
    prof = mtd.rank_profile(model, sets, seed=0)
    for rec, I, mx in zip(prof.to_records(), sets, prof.maximum, strict=True):
        assert 1 <= rec["lower"] <= rec["upper"] <= mx
        assert mx == min(M ** len(I), M ** (N - len(I)))


def test_complements_and_orbits_share_classes():
    tree = mtd.ModeTree.baseline(3)
    plan = mtd.TreeDecomposition.random(tree, M=2, r=2, seed=0).plan
    sets = [(0,), (7,), tuple(range(1, 8)), (0, 1), (0, 2), (2, 3), (4, 5, 6, 7)]
    keys = mtd.symmetry.symmetry_classes(plan, mtd.symmetry.index_set_masks(sets, 8))
    assert keys[0] == keys[1] == keys[2]  # a leaf, another leaf, the complement of a leaf
    assert keys[3] == keys[5]  # two sibling pairs
    assert keys[3] != keys[4]  # a sibling pair and a cousin pair
    assert len(set(keys.tolist())) == 4


def test_family_sizes_and_contents():
    assert len(families.index_set_family("all", 16)) == 2**15 - 1 == families.family_size(16)
    assert len(families.index_set_family("all", 9, max_size=2)) == 9 + math.comb(9, 2)
    left = families.index_set_family("left", 16)[0]
    right = families.index_set_family("right", 16)[0]
    assert sorted(left + right) == list(range(16))
    top = families.index_set_family("top", 16)[0]
    bottom = families.index_set_family("bottom", 16)[0]
    assert set(top).isdisjoint(bottom) and len(top) == 8
    assert families.index_set_family("interleaved", 8)[0] == (0, 2, 4, 6)
    tiles = families.index_set_family("tiles", 8)
    assert (0,) in tiles and (4, 5) in tiles and (0, 1, 2, 3) in tiles and (1, 2) not in tiles
    tree = mtd.ModeTree.baseline(3)
    assert len(families.index_set_family("canonical", 8, tree=tree)) == len(tree.nodes) - 1
    seen = {tuple(sorted(c)) for c in itertools.combinations(range(6), 3)}
    assert set(families.index_set_family("all", 6)) <= seen | {
        c for k in (1, 2) for c in itertools.combinations(range(6), k)
    }


def test_bad_input_errors():
    model = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="family must be one of"):
        mtd.rank_profile(model, "diagonal")
    with pytest.raises(ValueError, match="proper subset"):
        mtd.rank_profile(model, [[0, 1, 2, 3]])
    with pytest.raises(mtd.InvalidIndexSetError, match="0..3"):
        mtd.rank_profile(model, [[5]])
    eight = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2, seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="square images"):
        mtd.rank_profile(eight, "checkerboard")
    with pytest.raises(TypeError, match="index_sets"):
        mtd.rank_profile(model, 3)


def test_results_file_resumes_and_refuses_another_sweep(tmp_path):
    model = mtd.TreeDecomposition.random(mtd.ModeTree.linear(6), M=2, r=2, seed=0)
    path = tmp_path / "profile.jsonl"
    first = mtd.rank_profile(model, "all", seed=0, results=path, n_jobs=1)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["mtd_sweep"] == 1 and len(lines) == 1 + first.n_computed
    path.write_text("\n".join(lines[: 1 + first.n_computed // 2]) + "\n")
    messages = []
    again = mtd.rank_profile(model, "all", seed=0, results=path, progress=messages.append)
    assert again.to_records() == first.to_records()
    assert any(f"({first.n_computed // 2} done before)" in m for m in messages)
    other = mtd.TreeDecomposition.random(mtd.ModeTree.linear(6), M=3, r=2, seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="another sweep"):
        mtd.rank_profile(other, "all", results=path)


def test_summary_and_pandas():
    model = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2, seed=0)
    prof = mtd.rank_profile(model, "interleaved", seed=0)
    s = prof.summary()
    assert s["n_sets"] == 3 and s["n_certified"] == 3
    assert s["histogram"] == {"0": 1, "2": 1, "4": 1}  # ranks 1, 4, 16: Theorem 7 meets
    assert s["n_full"] == 1  # only the odd/even partition reaches 2^4
    pd = pytest.importorskip("pandas")
    df = prof.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df["upper"]) == [16, 4, 1]
    assert "RankProfile(3 index sets" in repr(prof)


def test_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    model = mtd.TreeDecomposition.random(mtd.ModeTree.linear(7), M=2, r=2, seed=0)
    local = mtd.rank_profile(model, "all", seed=0, n_jobs=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = mtd.rank_profile(model, "all", seed=0, client=client)
        # the batched path ships the model, draws its instance once per worker
        mixed = mtd.MixedDecomposition.random(
            mtd.ModeTree.baseline(3), mtd.ModeTree.swapped(3, 2), [(0, 1, 2, 3)], M=2, r=2, seed=0
        )
        far = mtd.rank_profile(mixed, "all", seed=0, client=client, method="batched")
    near = mtd.rank_profile(mixed, "all", seed=0, n_jobs=1, method="batched")
    assert far.to_records() == near.to_records() and sum(far.certified) == len(far)
    assert remote.to_records() == local.to_records()
    assert local.n_computed > 16  # more than the in-process sample: the cluster ran some


@settings(max_examples=30)  # each example ranks 2 x 31 exact matricizations
@given(tree=mode_trees(min_modes=3, max_modes=6))
def test_symmetry_sharing_on_random_trees(tree):
    # k-ary and irregular trees: every set (not only class representatives) against the
    # exact rank of an independent wide-integer instance
    model = mtd.TreeDecomposition.random(tree, M=2, r=2, seed=0)
    prof = mtd.rank_profile(model, "all", seed=0, n_jobs=1)

    def make(s):
        return mtd.TreeDecomposition.random(tree, M=2, r=2, kind="integer", max_weight=1000, seed=s)

    _check_against_instances(model, make, prof.index_sets, prof)
