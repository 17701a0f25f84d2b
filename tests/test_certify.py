"""Certified generic ranks (mtd.certify): witnesses, probe matrices, the result object."""

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sharing_pairs

import mtd
from mtd import MixedDecomposition, ModeTree, TreeDecomposition, _reference
from mtd._probes import entry_degree, randomize_plan
from mtd._tree_probes import ProbeMatrix
from mtd.certify import GenericRank, default_prime, generic_rank
from mtd.strategies import index_sets, mode_trees

SEP = [0, 2, 4, 6, 8, 9, 12, 13]  # the paper's separating example, 0-based
P = mtd.DEFAULT_PRIME


def tree_dec(tree, M, r, **kw):
    return TreeDecomposition.random(tree, M=M, r=r, kind="integer", seed=0, **kw)


def instance_ranks(make, I, seeds=(1, 2, 3)):
    """Exact ranks (over Q) of materialized random integer instances (weights in ±1000).

    Ranked by python-flint on the theory page's matricization, not by mtd's ranks.
    """
    out = []
    for s in seeds:
        d = make(s)
        A = d.to_tensor(arithmetic="exact")
        out.append(_reference.matricization_rank(A, I))
    return out


# ------------------------------------------------------------------ worked examples
@pytest.mark.parametrize("method", ["materialize", "probes"])
@pytest.mark.parametrize("r", [2, 3])
def test_theory_example_generic_rank_is_r(method, r):
    # the theory page, §5: baseline N = 8, I = {0,1,2}: Theorem 7 gives (r, r²), generic rank r
    d = tree_dec(ModeTree.baseline(3), r, r)
    assert mtd.theorem7_bounds(d.tree, [0, 1, 2], r) == (r, r * r)
    res = generic_rank(d, [0, 1, 2], seed=0, method=method)
    assert (res.lower, res.upper, res.certified) == (r, r, True)


@pytest.mark.parametrize("tree", [ModeTree.baseline(4), ModeTree.swapped(4, 2)])
def test_separating_example_trees(tree):
    # Theorem 7's bounds meet at r^6 (r = M = 2): the witness must reach them
    d = tree_dec(tree, 2, 2)
    assert mtd.theorem7_bounds(tree, SEP, 2) == (64, 64)
    for method in ("materialize", "probes"):
        res = generic_rank(d, SEP, seed=0, method=method)
        assert res.certified and res.lower == 64 and res.upper_source == "theorem 7"


def test_separating_example_mixed_and_claim5():
    T, Tb = ModeTree.baseline(4), ModeTree.swapped(4, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    m = MixedDecomposition.random(T, Tb, mix, M=2, r=2, kind="integer", seed=0)
    res = generic_rank(m, SEP, seed=0)
    assert res.certified and res.lower == 256  # full rank: the trivial bound
    # an independent witness: the exact rank of random integer instances
    ranks = instance_ranks(
        lambda s: MixedDecomposition.random(
            T, Tb, mix, M=2, r=2, kind="integer", seed=s, max_weight=100
        ),
        SEP,
    )
    assert max(ranks) == res.lower
    # Claim 5 + Theorem 7: the mixed decomposition of size 4 contains the hybrid H of
    # size 2, whose bounds meet at 2^8 here: the generic rank is >= 256
    m4 = MixedDecomposition.random(T, Tb, mix, M=4, r=4, kind="integer", seed=0)
    res4 = generic_rank(m4, SEP, seed=0, max_probes=512)
    assert res4.lower >= 256 and res4.probes <= 512 and res4.upper == 4**8


def test_child_of_root_and_cp():
    d = tree_dec(ModeTree.baseline(3), 3, 3)
    res = generic_rank(d, [0, 1, 2, 3], seed=0)
    assert (res.lower, res.upper) == (1, 1)  # eq. 3: no dense layer after the root
    cp = tree_dec(ModeTree.star(8), 3, 4, form="colt")
    res = generic_rank(cp, [0, 2, 4, 6], seed=0, method="probes")
    assert (res.lower, res.upper, res.certified) == (4, 4, True)  # CP rank r


# ---------------------------------------------------------------------- properties
@st.composite
def architectures(draw):
    if draw(st.booleans()):
        tree = draw(mode_trees(min_modes=2, max_modes=7, max_arity=3))
        form = draw(st.sampled_from(["eq3", "colt", "ht"]))
        M = draw(st.integers(1, 3))
        if form == "colt":
            r_in = r = draw(st.integers(1, 3))
        else:
            r = {n: draw(st.integers(1, 3)) for n in tree.interior_nodes}
            r_in = draw(st.integers(1, 3))

        def make(seed, mw=1000):
            return TreeDecomposition.random(
                tree, M=M, r=r, r_input=r_in, kind="integer", seed=seed, form=form, max_weight=mw
            )

        return make
    # pairs that really share interior nodes (independent draws almost never do)
    T, Tb, mix = draw(sharing_pairs(min_modes=3, max_modes=7))
    r, M = draw(st.sampled_from([2, 4])), draw(st.integers(1, 3))

    def make_mixed(seed, mw=1000):
        return MixedDecomposition.random(
            T, Tb, mix, M=M, r=r, kind="integer", seed=seed, max_weight=mw
        )

    return make_mixed


@given(architectures(), st.data())
def test_witness_bounds_and_certified_value(make, data):
    d = make(0, 2)
    I = sorted(data.draw(index_sets(d.n_modes)))
    res = generic_rank(d, I, seed=data.draw(st.integers(0, 99)))
    assert 0 <= res.lower <= res.upper
    ranks = instance_ranks(make, I)
    assert max(ranks) <= res.upper  # exact rank of an instance <= generic <= upper
    if res.certified:
        assert res.lower == max(ranks)
    probed = generic_rank(d, I, seed=1, method="probes")
    # the probe witness is judged against the independent instance ranks, not against
    # the other method's (same-code) upper bound
    assert probed.lower <= probed.upper and max(ranks) <= probed.upper
    if probed.certified:
        assert probed.lower == max(ranks)


@settings(max_examples=30)
@given(architectures(), st.data())
def test_probe_matrix_entries_are_contractions(make, data):
    d = make(0, 2)
    rows = frozenset(data.draw(index_sets(d.n_modes)))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    # the default prime (no limbs), 2**31 - 1 (16-bit limbs beyond 2 channels), a tiny one
    p = data.draw(st.sampled_from([default_prime(d.plan), P, 101]))
    plan = randomize_plan(d.plan, rng, p)
    pm = ProbeMatrix(plan, rows, 0, p, rng)
    pm.grow(3)
    E = pm.grow(5)
    N, M = plan.n_modes, plan.dims[0]
    vecs = np.zeros((5, 5, N, M), dtype=np.int64)
    for m in range(N):
        if m in rows:
            vecs[:, :, m] = pm.vectors[0][m][:, None, :]
        else:
            vecs[:, :, m] = pm.vectors[1][m][None, :, :]
    want = mtd.contract_leaf_vectors(
        plan, vecs.reshape(25, N, M), arithmetic="modular", prime=p
    ).reshape(5, 5)
    assert np.array_equal(E, want)


@pytest.mark.parametrize("cap", [0, 4, 2**40])
@settings(max_examples=15)
@given(architectures(), st.data())
def test_factored_blocks_give_the_contractions_whatever_the_cap(cap, make, data):
    # cap 0: every straddling block dense (the elementwise path); 4: factored low in the
    # tree, dense above (both paths meet at a node, and at an eq. 4 exchange); 2**40:
    # factored up to the output; each against the independent leaf-vector contraction
    import mtd._tree_probes as probes

    d = make(0, 2)
    rows = frozenset(data.draw(index_sets(d.n_modes)))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    p = data.draw(st.sampled_from([default_prime(d.plan), P]))
    plan = randomize_plan(d.plan, rng, p)
    old, probes.FACTORED_MAX = probes.FACTORED_MAX, cap
    try:
        pm = ProbeMatrix(plan, rows, 0, p, rng)
        pm.grow(2)
        E = pm.grow(6)
    finally:
        probes.FACTORED_MAX = old
    N, M = plan.n_modes, plan.dims[0]
    vecs = np.zeros((6, 6, N, M), dtype=np.int64)
    for m in range(N):
        side = 0 if m in rows else 1
        u = pm.vectors[side][m]
        vecs[:, :, m] = u[:, None, :] if side == 0 else u[None, :, :]
    want = mtd.contract_leaf_vectors(plan, vecs.reshape(36, N, M), arithmetic="modular", prime=p)
    assert np.array_equal(E, want.reshape(6, 6))


@pytest.mark.parametrize("form", ["eq3", "colt", "ht"])
def test_probe_matrix_with_limbs(form):
    # 4 channels and p = 2**31 - 1: every product needs 16-bit limbs; mixed with swaps
    T, Tb = ModeTree.baseline(3), ModeTree.swapped(3, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    archs = [
        tree_dec(ModeTree.random(7, max_arity=3, seed=1), 3, 4, form=form),
        MixedDecomposition.random(T, Tb, mix, M=3, r=4, kind="integer", seed=0),
    ]
    for d in archs:
        rows = frozenset({0, 3, 5})
        rng = np.random.default_rng(0)
        plan = randomize_plan(d.plan, rng, P)
        pm = ProbeMatrix(plan, rows, 0, P, rng)
        E = pm.grow(4)
        N, M = plan.n_modes, plan.dims[0]
        vecs = np.zeros((4, 4, N, M), dtype=np.int64)
        for m in range(N):
            side = 0 if m in rows else 1
            u = pm.vectors[side][m]
            vecs[:, :, m] = u[:, None, :] if side == 0 else u[None, :, :]
        want = mtd.contract_leaf_vectors(plan, vecs.reshape(16, N, M), arithmetic="modular")
        assert np.array_equal(E, want.reshape(4, 4))


def test_randomize_keeps_ties_and_shapes():
    d = TreeDecomposition.random(ModeTree.baseline(3), M=2, r=2, seed=0, tied=True)
    plan = randomize_plan(d.plan, np.random.default_rng(0), P)
    ids = {id(w) for s in plan.steps if hasattr(s, "weights") for w in s.weights}
    assert len(ids) == 2 * 3  # one pair per depth
    assert plan.is_integer() and entry_degree(plan) > plan.n_modes


def test_tied_network():
    net = mtd.networks.DilatedConvNet([1, 2, 4], (2, 2, 2, 2), seed=0)
    res = generic_rank(net, [0, 2, 4, 6], seed=0)
    assert res.certified and res.lower == 16


def test_overlapping_network_witness():
    net = mtd.networks.OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 3, 3), kind="integer", seed=0)
    for method in ("materialize", "probes"):
        res = generic_rank(net, [0, 2, 4], seed=0, method=method)
        A = net.grid_tensor(arithmetic="exact")
        assert mtd.matricization_rank(A, [0, 2, 4], method="exact") <= res.upper
        assert res.certified and res.lower == res.upper == 8


# ------------------------------------------------------------------ large, limits
def test_large_tree_certified_without_materializing():
    # N = 32: 2^32 entries; the memory limit forbids anything dense
    T = ModeTree.baseline(5)
    d = TreeDecomposition.random(T, M=2, r=2, seed=0)
    I = list(range(0, 12, 2))  # six split leaf pairs: r^6
    with mtd.memory_limit(2**24):
        res = generic_rank(d, I, seed=0, method="probes")
        assert res.method == "probes" and res.certified and res.lower == 64
        res = generic_rank(d, I, seed=0)  # auto: the structural witness, nothing probed
        assert res.method == "structural" and res.certified and res.lower == 64
        assert res.rounds == () and res.witness.blocks == {2: 6}
        with pytest.raises(mtd.TensorTooLargeError):
            generic_rank(d, I, method="materialize")


def test_max_probes_caps_the_lower_bound():
    d = tree_dec(ModeTree.baseline(4), 2, 2)
    res = generic_rank(d, SEP, seed=0, method="probes", max_probes=20)
    assert (res.lower, res.probes, res.certified) == (20, 20, False)
    assert [k for k, *_ in res.rounds] == [16, 20]


def test_progress_messages():
    seen = []
    generic_rank(
        tree_dec(ModeTree.baseline(4), 2, 2), SEP, seed=0, method="probes", progress=seen.append
    )
    assert seen[0].startswith("upper bound 64") and "64 probes: rank 64" in seen[-1]


def test_default_prime_gives_single_products():
    # the largest prime below 2**21: inner (p/2 + 2)**2 < 2**53 up to inner 8191, so the
    # probe matrix and its elimination take one exact float64 product per block
    sympy = pytest.importorskip("sympy")  # the independent primality oracle
    p = default_prime(tree_dec(ModeTree.baseline(2), 2, 2).plan)
    assert p == 2**21 - 9 and sympy.isprime(p) and sympy.prevprime(2**21) == p
    assert 8191 * (p // 2 + 2) ** 2 + p // 2 + 2 < 2**53
    assert default_prime(tree_dec(ModeTree.baseline(2), 4, 4).plan) == p
    # a wide hierarchical node (a transfer tensor over 16**4 children's channels): its
    # products take limbs in float64, exact either way
    assert default_prime(tree_dec(ModeTree.star(4), 2, 16, form="ht").plan) == p
    res = generic_rank(tree_dec(ModeTree.baseline(3), 4, 4), [0, 2, 4, 6], seed=0, prime=101)
    assert res.prime == 101 and res.lower <= res.upper == 256


# ------------------------------------------------------------------- result object
def test_result_object():
    res = generic_rank(tree_dec(ModeTree.baseline(3), 2, 2), [0, 1, 2], seed=0)
    assert isinstance(res, GenericRank) and res.rank == 2
    d = res.to_dict()
    assert json.loads(json.dumps(d))["certified"] is True
    assert {"lower", "upper", "certified", "method", "probes", "prime", "seconds"} <= set(d)
    assert d["bounds"] == {"min-cut": 2, "theorem 7": 4, "trivial": 8}
    text = repr(res)
    assert text.startswith("GenericRank(lower=2, upper=2, certified=True)")
    assert "upper bound  : 2 (min-cut; " in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.lower = 3  # type: ignore[misc]
    big = dataclasses.replace(res, upper=2**300, lower=1)
    assert big.rank is None and "~2^300.0" in repr(big)


def test_errors():
    d = tree_dec(ModeTree.baseline(2), 2, 2)
    with pytest.raises(ValueError, match="method must be one of"):
        generic_rank(d, [0], method="svd")
    with pytest.raises(ValueError, match="prime below 2\\*\\*31"):
        generic_rank(d, [0], prime=2**61 - 1)
    with pytest.raises(ValueError, match="prime below"):
        generic_rank(d, [0], prime=100)
    with pytest.raises(ValueError, match="max_probes must be >= 1"):
        generic_rank(d, [0], max_probes=0)
    with pytest.raises(mtd.InvalidIndexSetError):
        generic_rank(d, [0, 1, 2, 3])
    relu = TreeDecomposition.random(ModeTree.baseline(2), M=2, r=2, g="relu", seed=0)
    with pytest.raises(ValueError, match="g = 'product' only"):
        generic_rank(relu, [0])


# ------------------------------------------------------------- mixed: tight bounds, Monte Carlo
def test_mixed_paper_example_n8_certified():
    # baseline against dilations 2,1,4, mixture nodes {0..3}, {4..7}, M = 3, r = 2
    T, Tb = ModeTree.from_dilations([1, 2, 4]), ModeTree.from_dilations([2, 1, 4])
    mix = [frozenset(range(4)), frozenset(range(4, 8))]
    m = mtd.MixedDecomposition.random(T, Tb, mix, M=3, r=2, seed=0)
    res = generic_rank(m, [0, 2, 4, 5], seed=0)
    assert (res.lower, res.upper, res.certified) == (16, 16, True)
    assert res.probable is None and res.failure_probability is None


def test_monte_carlo_value_is_labelled_and_never_certified():
    # the sum of two trees (no mixture node), M = 2, I = {0, 2}: every bound says 4, but
    # the two terms' row spaces, E_0 (x) v_2 and v_0 (x) E_2 (v_j a fixed vector of
    # mode j), meet in v_0 (x) v_2: the rank is 3, which the bounds do not see
    T = ModeTree.from_nested(((3, 0), 1, 2))
    Tb = ModeTree.from_nested((3, (1, 2), 0))
    m = mtd.MixedDecomposition.random(T, Tb, [], M=2, r=4, seed=0)
    res = generic_rank(m, [0, 2], seed=0)
    assert not res.certified and res.rank is None
    assert res.probable == res.lower < res.upper
    assert 0 < res.failure_probability < 2.0**-40
    assert "Monte Carlo" in repr(res) and "not certified" in repr(res)
    assert res.to_dict()["failure_probability"] == res.failure_probability
    # the value is a proven lower bound all the same: the exact rank of a wide instance
    wide = mtd.MixedDecomposition.random(T, Tb, [], M=2, r=4, kind="integer", max_weight=1000)
    A = wide.to_tensor(0, arithmetic="exact")
    assert mtd.matricization_rank(A, [0, 2], method="exact") >= res.lower


def _random_tree(rng, blocks):
    """A random tree whose subtrees include random trees over the given blocks of modes."""
    parts = []
    for block in blocks:
        modes = list(block)
        rng.shuffle(modes)
        parts.append(_nest(rng, modes))
    return _nest(rng, parts)


def _nest(rng, items):
    items = list(items)
    while len(items) > 1:
        k = int(rng.integers(2, min(3, len(items)) + 1))
        order = rng.permutation(len(items))
        items = [items[i] for i in order]
        items = [tuple(items[:k]), *items[k:]]
    return items[0]


def test_random_small_mixed_architectures_mostly_certified():
    # the dimension-counting bound must meet the witness on nearly every small mixed
    # architecture (nested mixture nodes from blocks shared by both trees); where it does
    # not, the result carries a labelled Monte Carlo value instead
    rng = np.random.default_rng(12)
    n_cases, certified = 60, 0
    for case in range(n_cases):
        N = int(rng.integers(4, 9))
        modes = [int(x) for x in rng.permutation(N)]
        n_cuts = int(rng.integers(1, 3))
        cuts = sorted(int(c) for c in rng.choice(np.arange(1, N), size=n_cuts, replace=False))
        blocks = [modes[a:b] for a, b in zip([0, *cuts], [*cuts, N], strict=True)]
        T = ModeTree.from_nested(_random_tree(rng, blocks))
        Tb = ModeTree.from_nested(_random_tree(rng, blocks))
        common = [c for c in mtd.common_interior(T, Tb) if len(c) < N]
        mix = [c for c in common if rng.random() < 0.7]
        M, r = int(rng.integers(2, 5)), int(rng.choice([2, 4]))
        m = mtd.MixedDecomposition.random(T, Tb, mix, M=M, r=r, seed=case)
        I = sorted(int(i) for i in rng.choice(N, size=int(rng.integers(1, N)), replace=False))
        res = generic_rank(m, I, seed=case)
        certified += res.certified
        if not res.certified:
            assert res.probable is not None and res.failure_probability < 2.0**-40
    assert certified >= 0.95 * n_cases


def test_monte_carlo_redraws_use_larger_primes():
    # the witness prime is below 2**21 (a weak Schwartz-Zippel factor for large K); the
    # redraws are modulo distinct primes between it and 2**26, so that each multiplies the
    # failure probability by a small factor K δ / q and the 2^-40 target is reached
    sympy = pytest.importorskip("sympy")
    T = ModeTree.from_nested(((3, 0), 1, 2))
    Tb = ModeTree.from_nested((3, (1, 2), 0))
    m = mtd.MixedDecomposition.random(T, Tb, [], M=2, r=4, seed=0)
    seen: list[str] = []
    res = generic_rank(m, [0, 2], seed=0, method="probes", progress=seen.append)
    qs = [int(t.split(" mod ")[1].split(":")[0]) for t in seen if t.startswith("Monte Carlo")]
    assert res.prime == sympy.prevprime(2**21) and qs and len(set(qs)) == len(qs)
    assert all(res.prime < q < 2**26 and sympy.isprime(q) for q in qs)
    assert res.probable == res.lower == 3 and res.failure_probability < 2.0**-40


def test_probe_rounds_resume_after_a_short_first_witness():
    # modulo 3 the first 16 x 16 probe matrix of this 16-mode mixed decomposition is
    # short (measured rank 0 to 12 over seeds 0-2); the Monte Carlo redraw modulo a larger
    # prime has full rank 16, so the doubling must go on modulo that prime and certify
    # M^|I| = 2^8 = 256 (the trivial bound, met by the generic rank): stopping at the
    # redraw leaves lower = 16 < 256 with no Monte Carlo value
    T, Tb = ModeTree.baseline(4), ModeTree.swapped(4, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    m = mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0)
    for seed in range(3):
        res = generic_rank(m, list(range(0, 16, 2)), seed=seed, method="probes", prime=3)
        assert res.rounds[0][:2] != (16, 16)  # the short first witness
        assert (res.lower, res.upper, res.certified) == (2**8, 2**8, True), res
        assert res.prime != 3 and res.rounds[-1][:2] == (256, 256)


# ------------------------------------------------ probe matrices against exact integers
def _residue_plan(plan, p):
    """The plan with every array reduced mod ``p`` (what ProbeMatrix takes)."""
    from mtd.decompositions._plan import LeafStep, NodeStep, OutputTerm, Plan

    def red(a):
        return None if a is None else np.mod(np.asarray(a, dtype=np.int64), p)

    steps = []
    for s in plan.steps:
        if isinstance(s, LeafStep):
            s = dataclasses.replace(s, matrix=red(s.matrix), weight=red(s.weight))
        elif isinstance(s, NodeStep):
            s = dataclasses.replace(s, weights=tuple(red(w) for w in s.weights))
        steps.append(s)
    outputs = tuple(OutputTerm(t.slot, red(t.matrix)) for t in plan.outputs)
    return Plan(plan.modes, dict(plan.dims), plan.g, tuple(steps), outputs, plan.n_outputs)


def _kron_rows_exact(vectors):
    """Row ``k``: ``⊗_t vectors[t][k]`` in Python ints, the first factor most significant."""
    out = [[1] for _ in range(len(vectors[0]))]
    for V in vectors:
        out = [[a * int(b) for a in row for b in v] for row, v in zip(out, V, strict=True)]
    return np.array(out, dtype=object)


@pytest.mark.parametrize("prime", [2**21 - 9, 101, P])
@pytest.mark.parametrize("cap", [0, 16, 2**40])
@pytest.mark.parametrize("which", ["mixed", "tree"])
def test_probe_matrix_is_p_times_matricization_times_q(prime, cap, which):
    # Pᵀ [[A]]_I Q mod p against exact integers: the grid tensor tabulated entry by entry by
    # the reference evaluator (eq. 3 / eq. 4 from the theory page, Python ints), its
    # matricization, and the Kronecker products of the probe vectors the matrix drew.
    # Catches a Φ whose Kronecker order differs from the unit-vector factors G (compressed
    # slots), weights put on the wrong side of a compressed child, a swap of compressed
    # factors, lost row/column factors of a dense node, an inexact float product or
    # reduction, and an output channel left unset.  cap 0: every straddling node dense;
    # 16: factored and compressed low in the tree; 2**40: up to the root.
    import mtd._tree_probes as probes

    if which == "mixed":
        T, Tb = ModeTree.baseline(3), ModeTree.swapped(3, 2)
        mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
        d = MixedDecomposition.random(T, Tb, mix, M=2, r=4, kind="integer", seed=3)
        A = _reference.eq4_tensor(
            T.to_nested(), Tb.to_nested(), mix, d.discretizers, d.weights, d.weights_bar, output=1
        )
        rows = frozenset({0, 2, 4, 5})
    else:
        d = TreeDecomposition.random(ModeTree.baseline(3), M=3, r=2, kind="integer", seed=3)
        A = _reference.eq3_tensor(d.tree.to_nested(), d.discretizers, d.weights, output=1)
        rows = frozenset({0, 2, 3, 6})
    assert max(abs(int(w)) for W in d.weights.values() for w in np.ravel(W)) > 100  # wide
    assert d.plan.n_outputs >= 2
    plan = _residue_plan(d.plan, prime)
    rng = np.random.default_rng(5)
    old = probes.FACTORED_MAX, probes._BLOCK_BYTES, probes.formation_threads
    probes.FACTORED_MAX, probes._BLOCK_BYTES = cap, 64  # and one row per block
    probes.formation_threads = lambda: 1 + (cap == 16)  # blocks on two threads, or one
    try:
        pm = ProbeMatrix(plan, rows, 1, prime, rng)  # output 1, not 0
        pm.grow(3)
        E = pm.grow(7)
    finally:
        probes.FACTORED_MAX, probes._BLOCK_BYTES, probes.formation_threads = old
    if cap == 2**40:
        assert pm.compress  # the compressed path ran
    I, Ic = sorted(rows), sorted(set(range(8)) - rows)
    Pk = _kron_rows_exact([pm.vectors[0][m] for m in I])
    Ql = _kron_rows_exact([pm.vectors[1][m] for m in Ic])
    want = (Pk @ _reference.matricize(A, I) @ Ql.T) % prime
    assert E.dtype == np.int64 and E.tolist() == want.tolist()


def test_probe_matrix_checks_the_memory_limit_first():
    # K x K float64 entries are checked against the limit before anything is evaluated
    d = tree_dec(ModeTree.baseline(4), 2, 2)
    rng = np.random.default_rng(0)
    pm = ProbeMatrix(randomize_plan(d.plan, rng, P), frozenset(SEP), 0, P, rng)
    with mtd.memory_limit(2**20), pytest.raises(mtd.TensorTooLargeError, match="max_probes"):
        pm.grow(512)  # 2 MiB
    assert pm.K == 0 and not pm.vectors[0]  # nothing drawn
    assert pm.grow(8).shape == (8, 8)
