"""Structural witnesses (mtd.witness): claimed ranks against exact ranks of the witness."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import MixedDecomposition, ModeTree, TreeDecomposition
from mtd.certify import generic_rank
from mtd.mincut import mincut_bound
from mtd.strategies import index_sets, mode_trees
from mtd.witness import structural_witness, witness_plan

SEP = [0, 2, 4, 6, 8, 9, 12, 13]


def arch(tree, M, r, **kw):
    return TreeDecomposition.random(tree, M=M, r=r, seed=0, **kw)


# ------------------------------------------------------------------ worked examples
@pytest.mark.parametrize(
    ("tree", "I", "M", "r", "rank", "blocks"),
    [
        # Theorem 7 with M >= r: split leaf pairs below depth 1 give r each
        (ModeTree.baseline(3), [0, 2, 4, 6], 3, 3, 81, {3: 4}),
        (ModeTree.baseline(4), SEP, 2, 2, 64, {2: 6}),
        (ModeTree.swapped(4, 2), SEP, 3, 3, 3**6, {3: 6}),
        # the theory page, §5: Theorem 7 brackets (r, r²); the generic rank is r
        (ModeTree.baseline(3), [0, 1, 2], 3, 3, 3, {3: 1}),
        # M below r: every path is as wide as the leaves allow
        (ModeTree.baseline(3), [0, 2, 4, 6], 2, 5, 16, {2: 4}),
        # a child of the root: eq. 3's root is one product, rank 1, no block
        (ModeTree.baseline(3), [0, 1, 2, 3], 3, 3, 1, {}),
        # k-ary: four split 2x2 windows below the root
        (ModeTree.balanced(16, arity=4), [0, 5, 10, 15], 3, 3, 81, {3: 4}),
        # the k-ary trap of the theory page: ((1,3,0),2), I = {3}: r, not r²
        (ModeTree.from_nested(((1, 3, 0), 2)), [3], 4, 4, 4, {4: 1}),
    ],
)
def test_worked_examples(tree, I, M, r, rank, blocks):
    w = structural_witness(arch(tree, M, r), I)
    assert (w.rank, dict(w.blocks)) == (rank, blocks)
    if M**tree.n_modes <= 2**16:
        assert w.check()


def test_width_is_shared_between_two_paths_through_one_node():
    # node {0,1} of size 4 carries two width-2 paths (one closes at {0,1,2,3}'s child,
    # one leaves upwards): the channel is split into digits, 2 * 2 <= 4
    T = ModeTree.from_nested((((0, 1), 2), 3))
    d = TreeDecomposition.random(
        T, M=2, r={T.root: 1, frozenset({0, 1}): 4, frozenset({0, 1, 2}): 4}, r_input=2, seed=0
    )
    w = structural_witness(d, [0, 2])
    assert w.check()
    assert w.rank == mincut_bound(d, [0, 2])


# ---------------------------------------------------------------------- properties
@st.composite
def eq3_decompositions(draw, max_modes=7):
    tree = draw(mode_trees(min_modes=2, max_modes=max_modes, max_arity=4))
    M = draw(st.integers(1, 4))
    sizes = {n: draw(st.integers(1, 6)) for n in tree.interior_nodes}
    r_in = draw(st.integers(1, 4))
    return TreeDecomposition.random(tree, M=M, r=sizes, r_input=r_in, seed=0)


@given(eq3_decompositions(), st.data())
def test_claimed_rank_is_the_exact_rank_of_the_witness(d, data):
    # check() materializes the 0/1 witness and ranks it over Q (exact elimination):
    # nothing of the routing programme is reused, so a wrong encoding or a wrong
    # block count fails here
    I = sorted(data.draw(index_sets(d.n_modes)))
    w = structural_witness(d, I)
    assert w.rank <= mincut_bound(d, I)
    if d.M**d.n_modes <= 2**14:
        assert w.check(max_entries=2**14)
    total = 1
    for t, n in w.blocks.items():
        assert t >= 2 and n >= 1
        total *= t**n
    assert total == w.rank


@given(eq3_decompositions(max_modes=6), st.data())
def test_witness_never_exceeds_a_wide_random_instance(d, data):
    # the generic rank is the maximum over weights, reached by almost every weight:
    # a random instance with wide integer weights is (almost surely) generic, so the
    # witness can never have a higher rank than it
    I = sorted(data.draw(index_sets(d.n_modes)))
    w = structural_witness(d, I)
    best = 0
    for seed in (1, 2):  # two draws guard against an unlucky one
        wide = TreeDecomposition.random(
            d.tree,
            M=d.M,
            r=dict(d.sizes),
            r_input=int(d.discretizers.shape[1]),
            kind="integer",
            max_weight=1000,
            seed=seed,
        )
        A = wide.to_tensor(0, arithmetic="exact")
        best = max(best, mtd.matricization_rank(A, I, method="exact"))
        if best >= w.rank:
            break
    assert w.rank <= best


def test_weights_are_zero_one_and_keep_the_architecture():
    d = arch(ModeTree.baseline(3), 3, 2)
    w = structural_witness(d, [0, 2, 4, 6])
    plan = witness_plan(w)
    for old, new in zip(d.plan.steps, plan.steps, strict=True):
        assert type(old) is type(new)
        if hasattr(old, "weights"):
            assert [a.shape for a in old.weights] == [a.shape for a in new.weights]
            assert all(set(a.ravel().tolist()) <= {0, 1} for a in new.weights)


def test_out_of_scope_architectures_give_none():
    T, Tb = ModeTree.baseline(3), ModeTree.swapped(3, 2)
    assert structural_witness(MixedDecomposition.random(T, Tb, [], M=2, r=2, seed=0), [0]) is None
    assert structural_witness(arch(T, 2, 2, tied=True), [0, 2]) is None
    assert structural_witness(arch(T, 2, 2, form="colt"), [0, 2]) is None
    # mixed decompositions have their own witness (mtd.hybrid_witness); tied weights none
    with pytest.raises(mtd.errors.InvalidArgumentError, match="method='structural'"):
        generic_rank(arch(T, 2, 2, tied=True), [0, 2], method="structural")


def test_check_refuses_large_tensors():
    w = structural_witness(arch(ModeTree.baseline(5), 2, 2), [0, 2])
    with pytest.raises(mtd.errors.InvalidArgumentError, match="max_entries"):
        w.check()


# ------------------------------------------------------------------ at scale
def test_large_baseline_odd_modes_certified_structurally():
    # 2^10 modes, I = odd modes: 512 split leaf pairs, generic rank 2^512 (Theorem 7's
    # bounds meet); nothing of size M^N is formed
    d = arch(ModeTree.baseline(10), 2, 2)
    I = list(range(1, 2**10, 2))
    res = generic_rank(d, I, seed=0)
    assert res.certified and res.method == "structural" and res.lower == 2**512
    assert res.witness.blocks == {2: 512}
    assert res.probable is None and res.failure_probability is None


@pytest.mark.parametrize("twin", ["pickle", "deepcopy"])
def test_generic_rank_with_witness_survives_pickle_and_deepcopy(twin):
    import copy
    import pickle

    import numpy as np

    from mtd.decompositions._dense import dense_tensor

    d = arch(ModeTree.swapped(3, 1), 3, 2)
    I = [0, 2, 4, 5]
    g = generic_rank(d, I, seed=0)
    assert g.method == "structural" and g.witness is not None
    h = pickle.loads(pickle.dumps(g)) if twin == "pickle" else copy.deepcopy(g)
    w, v = g.witness, h.witness
    assert h == g and type(v) is type(w) and v is not w
    assert (v.rank, dict(v.blocks), v.index_set, v.output) == (
        w.rank,
        dict(w.blocks),
        w.index_set,
        w.output,
    )
    assert v.plan.modes == w.plan.modes and v.plan.dims == w.plan.dims
    # the copy rebuilds the same 0/1 witness, and its exact rank is still the claimed one
    a = dense_tensor(witness_plan(w), 0, arithmetic="exact")
    b = dense_tensor(witness_plan(v), 0, arithmetic="exact")
    assert np.array_equal(a, b) and v.check()
