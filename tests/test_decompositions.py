"""Tree decompositions (eq. 3, COLT and dense-transfer forms): the engine against a literal
reference, rank properties in exact arithmetic, batched evaluation, and error paths.

The reference below evaluates the definitions entry by entry with Python loops and Python
ints, sharing no code with mtd's evaluators.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.decompositions import (
    G_FUNCTIONS,
    TreeDecomposition,
    contract_leaf_vectors,
    grid_entries,
    tree_to_tensor,
)
from mtd.strategies import index_sets, mode_trees

P = 1_000_003  # a prime below 2**31


# ------------------------------------------------------------------ literal reference
def _g(name):
    return {
        "product": lambda a, b: a * b,
        "relu": lambda a, b: max(a + b, 0),
        "max": lambda a, b: max(a, b, 0),
        "relu_sum": lambda a, b: max(a, 0) + max(b, 0),
    }[name]


def _fold(g, xs):
    f = _g(g)
    acc = f(xs[0], xs[1])
    for x in xs[2:]:
        acc = f(acc, x)
    return acc


def _node_values(d, index):
    """Every node's channel list at one grid point, straight from the definitions."""
    tree, V = d.tree, d.discretizers.tolist()
    vals = {}
    for node in reversed(tree.nodes):
        if tree.is_leaf(node):
            (j,) = node
            x = V[index[j]]
            L = d.leaf_weights[j]
            if L is not None:
                x = [sum(a * b for a, b in zip(row, x, strict=False)) for row in L.tolist()]
            vals[node] = x
            continue
        kids = tree.children(node)
        w = [a.tolist() for a in d.weights[node]]
        if d.form == "eq3":
            vals[node] = [
                _fold(
                    d.g,
                    [
                        sum(wr * v for wr, v in zip(w[i][gam], vals[c], strict=True))
                        for i, c in enumerate(kids)
                    ],
                )
                for gam in range(len(w[0]))
            ]
        elif d.form == "colt":
            a = w[0]
            vals[node] = [
                sum(a[gam][al] * _fold(d.g, [vals[c][al] for c in kids]) for al in range(len(a[0])))
                for gam in range(len(a))
            ]
        else:
            B = d.weights[node][0]
            out = []
            for gam in range(B.shape[0]):
                s = 0
                for al in itertools.product(*[range(n) for n in B.shape[1:]]):
                    term = B[(gam, *al)].item()
                    for c, a_c in zip(kids, al, strict=False):
                        term *= vals[c][a_c]
                    s += term
                out.append(s)
            vals[node] = out
    return vals


def reference_tensor(d, y=0):
    out = np.empty((d.M,) * d.n_modes, dtype=object)
    for index in itertools.product(range(d.M), repeat=d.n_modes):
        root = _node_values(d, index)[d.tree.root]
        if d.outputs is None:
            out[index] = root[y]
        else:
            out[index] = sum(o * v for o, v in zip(d.outputs[y].tolist(), root, strict=False))
    return out


TREES = {
    "baseline": mtd.ModeTree.baseline(2),
    "swapped": mtd.ModeTree.swapped(2, 2),
    "star": mtd.ModeTree.star(4),
    "linear": mtd.ModeTree.linear(4),
    "ternary": mtd.ModeTree.from_nested(((0, 3), (1, (2, 4)), 5)),
    "interleaved": mtd.ModeTree.from_nested((((0, 4), 2), (1, (3, 5)))),
}
FORM_G = [(f, g) for f in ("eq3", "colt") for g in G_FUNCTIONS] + [("ht", "product")]


@pytest.mark.parametrize("tree_name", sorted(TREES))
@pytest.mark.parametrize(("form", "g"), FORM_G)
def test_dense_matches_literal_reference(tree_name, form, g):
    # small weights on purpose: this also pins the int64 path of exact evaluation
    d = TreeDecomposition.random(
        TREES[tree_name], M=2, r=2, kind="integer", form=form, g=g, seed=7, max_weight=2
    )
    for y in range(d.n_outputs):
        ref = reference_tensor(d, y)
        exact = d.to_tensor(y, arithmetic="exact")
        assert exact.dtype == np.int64
        assert (exact == ref).all()
        np.testing.assert_allclose(d.to_tensor(y), ref.astype(float), rtol=1e-12, atol=1e-9)
        if g == "product":
            assert (d.to_tensor(y, arithmetic="modular", prime=P) == ref % P).all()
    stacked = d.to_tensor(None, arithmetic="exact")
    assert stacked.shape == (d.n_outputs,) + d.shape
    assert (stacked[-1] == d.to_tensor(d.n_outputs - 1, arithmetic="exact")).all()


@given(
    tree=mode_trees(min_modes=2, max_modes=5, max_arity=3),
    form_g=st.sampled_from(FORM_G),
    seed=st.integers(0, 2**16),
    tied=st.booleans(),
)
def test_random_trees_match_reference(tree, form_g, seed, tied):
    form, g = form_g
    try:
        d = TreeDecomposition.random(
            tree, M=2, r=2, kind="integer", form=form, g=g, seed=seed, tied=tied
        )
    except mtd.InvalidArgumentError:
        assert tied  # nodes of one depth with different arities cannot share weights
        return
    assert (d.to_tensor(1, arithmetic="exact") == reference_tensor(d, 1)).all()


def test_dense_output_layer_and_leaf_weights():
    T = TREES["ternary"]
    rng = np.random.default_rng(0)
    V = rng.integers(-2, 3, size=(3, 2))
    weights = {
        n: [rng.integers(-2, 3, size=(3, 2 if T.is_leaf(c) else 3)) for c in T.children(n)]
        for n in T.interior_nodes
    }
    weights = {
        n: [
            w if not T.is_leaf(c) else rng.integers(-2, 3, size=(3, 4))
            for w, c in zip(ws, T.children(n), strict=False)
        ]
        for n, ws in weights.items()
    }
    L = {m: rng.integers(-2, 3, size=(4, 2)) for m in range(T.n_modes)}
    O = rng.integers(-2, 3, size=(2, 3))
    d = TreeDecomposition(T, V, weights, outputs=O, leaf_weights=L)
    assert d.n_outputs == 2
    for y in range(2):
        assert (d.to_tensor(y, arithmetic="exact") == reference_tensor(d, y)).all()


def test_tied_equals_untied_copy():
    T = mtd.ModeTree.baseline(3)
    d = TreeDecomposition.random(T, M=3, r=2, kind="integer", seed=1, tied=True)
    assert d.tied and len({id(d.weights[n][0]) for n in T.interior_nodes}) == 3
    untied = TreeDecomposition(
        T, d.discretizers, {n: [w.copy() for w in d.weights[n]] for n in T.interior_nodes}
    )
    assert (d.to_tensor(arithmetic="exact") == untied.to_tensor(arithmetic="exact")).all()
    assert d.n_parameters() == 3 * 2 * 2 * 2
    assert untied.n_parameters() == 7 * 2 * 2 * 2


def test_cut_evaluation_of_deep_trees():
    # The left-deep tree is evaluated by cutting it at a prefix node (one matrix product).
    from mtd.decompositions._dense import _choose_cut

    for form in ("eq3", "colt", "ht"):
        d = TreeDecomposition.random(
            mtd.ModeTree.linear(12), M=2, r=3, kind="integer", form=form, seed=2
        )
        assert _choose_cut(d.plan, 1) is not None
        exact = d.to_tensor(arithmetic="exact")
        np.testing.assert_allclose(d.to_tensor(), exact.astype(float), rtol=1e-10)
        assert (d.to_tensor(arithmetic="modular") == exact % mtd.decompositions.MODULAR_PRIME).all()


def test_exact_falls_back_to_python_ints_when_int64_could_overflow():
    T = mtd.ModeTree.linear(5)
    big = 2**20
    weights = {n: [np.full((1, 1), big), np.full((1, 1), big)] for n in T.interior_nodes}
    d = TreeDecomposition(T, np.array([[1], [2]]), weights)
    A = d.to_tensor(arithmetic="exact")
    assert A.dtype == object
    assert A[1, 1, 1, 1, 1] == 2**5 * big**8  # 2^165: far beyond int64
    assert (A == reference_tensor(d)).all()
    assert (d.to_tensor(arithmetic="modular", prime=P) == A % P).all()


# --------------------------------------------------------------------------- ranks


@given(tree=mode_trees(min_modes=3, max_modes=6), seed=st.integers(0, 2**16))
def test_node_ranks_at_most_node_sizes_and_root_child_rank_one(tree, seed):
    r = 2
    d = TreeDecomposition.random(tree, M=3, r=r, kind="integer", seed=seed)
    A = d.to_tensor(arithmetic="exact")
    for node in tree.nodes:
        if node == tree.root:
            continue
        rank = mtd.matricization_rank(A, sorted(node), method="exact")
        assert rank <= d.sizes[node]
        if tree.parent(node) == tree.root:
            assert rank <= 1  # no dense layer after the root (eq. 3)


@given(data=st.data())
def test_theorem7_bounds_hold_in_exact_arithmetic(data):
    # Upper bound: for every weight.  Lower bound: almost everywhere, witnessed by the
    # modular rank (a lower bound on the exact rank) of random integer weights in -9..9; it
    # fails only on a null set, i.e. with small probability per seed, so one of three seeds
    # must reach it.
    tree = data.draw(mode_trees(min_modes=3, max_modes=7))
    I = sorted(data.draw(index_sets(tree.n_modes)))
    r = 2
    lower, upper = mtd.theorem7_bounds(tree, I, r)
    best = 0
    for seed in range(3):
        d = TreeDecomposition.random(tree, M=r, r=r, kind="integer", seed=seed, max_weight=9)
        A = d.to_tensor(arithmetic="exact")
        modular = mtd.matricization_rank(A, I, method="modular")
        exact = mtd.matricization_rank(A, I, method="exact")
        assert modular <= exact <= upper
        best = max(best, modular)
        if best >= lower:
            break
    assert lower <= best


# ------------------------------------------------------------ batched evaluation
@pytest.mark.parametrize("tree_name", ["swapped", "ternary", "interleaved"])
@pytest.mark.parametrize("form", ["eq3", "colt", "ht"])
def test_leaf_vectors_contract_the_dense_tensor(tree_name, form):
    T = TREES[tree_name]
    d = TreeDecomposition.random(T, M=3, r=2, kind="integer", form=form, seed=3)
    A = d.to_tensor(None, arithmetic="exact")
    N = T.n_modes
    rng = np.random.default_rng(0)
    U = rng.integers(-3, 4, size=(6, N, 3))
    letters = "abcdefgh"[:N]
    spec = "y" + letters + "," + ",".join("z" + c for c in letters) + "->zy"
    expected = np.einsum(spec, A.astype(object), *[U[:, j].astype(object) for j in range(N)])
    assert (d.contract(U, output=None, arithmetic="exact") == expected).all()
    assert (d.contract(U, output=None, arithmetic="modular", prime=P) == expected % P).all()
    np.testing.assert_allclose(d.contract(U.astype(float), output=None), expected.astype(float))
    # one-hot vectors pick entries; a single set gives a scalar
    idx = rng.integers(0, 3, size=(5, N))
    onehot = np.eye(3, dtype=np.int64)[idx]
    entries = grid_entries(d, idx, output=1, arithmetic="exact")
    assert (contract_leaf_vectors(d, onehot, output=1, arithmetic="exact") == entries).all()
    assert (entries == A[(1, *idx.T)]).all()
    assert contract_leaf_vectors(d, onehot[0], output=1, arithmetic="exact") == entries[0]


@pytest.mark.parametrize("g", sorted(G_FUNCTIONS))
def test_grid_entries_for_every_g(g):
    d = TreeDecomposition.random(TREES["ternary"], M=3, r=2, g=g, seed=4)
    A = d.to_tensor(1)
    idx = np.array(list(itertools.product(range(3), repeat=6)))[::7]
    np.testing.assert_allclose(d.entries(idx, output=1), A[tuple(idx.T)], rtol=1e-12)


def test_leaf_vectors_with_per_mode_dimensions():
    from mtd.decompositions import hierarchical_svd

    A = np.random.default_rng(0).standard_normal((2, 3, 4))
    h = hierarchical_svd(A, mtd.ModeTree.from_nested((0, (1, 2))))
    u = [np.ones(2), np.arange(3.0), np.array([1.0, 0, 0, 2])]
    assert np.isclose(contract_leaf_vectors(h, u), np.einsum("abc,a,b,c->", A, *u))


# ---------------------------------------------------------------- random kinds
def test_random_kinds_and_seeds():
    T = mtd.ModeTree.baseline(2)
    a = TreeDecomposition.random(T, M=5, r=3, kind="integer", seed=0)
    b = TreeDecomposition.random(T, M=5, r=3, kind="integer", seed=0)
    assert (a.to_tensor(arithmetic="exact") == b.to_tensor(arithmetic="exact")).all()
    assert (a.discretizers[:3] == np.eye(3)).all() and a.is_integer
    # the default range is wide (generic ranks): |w| <= 1000, and the draws use it
    assert all(np.abs(w).max() <= 1000 for ws in a.weights.values() for w in ws)
    assert max(np.abs(w).max() for ws in a.weights.values() for w in ws) > 100
    o = TreeDecomposition.random(T, M=5, r=3, kind="orthogonal", seed=0)
    assert np.allclose(o.discretizers.T @ o.discretizers, np.eye(3))
    for ws in o.weights.values():
        for w in ws:
            assert np.allclose(w @ w.T, np.eye(3))
    g = TreeDecomposition.random(T, M=5, r={0: 1, 1: 4}, r_input=2, seed=0)
    assert g.sizes[T.root] == 1 and g.n_outputs == 1 and g.r is None
    assert g.discretizers.shape == (5, 2) and not g.is_integer
    assert "TreeDecomposition" in repr(g)


# ------------------------------------------------------------------- error paths
def _weights(T, r=2, r_in=2):
    return {
        n: [np.ones((r, r_in if T.is_leaf(c) else r), dtype=int) for c in T.children(n)]
        for n in T.interior_nodes
    }


def test_wrong_weight_shapes_name_the_node():
    T = mtd.ModeTree.baseline(2)
    w = _weights(T)
    w[frozenset({0, 1})] = [np.ones((2, 3)), np.ones((2, 2))]
    with pytest.raises(mtd.InvalidArgumentError, match=r"\{0,1\}, child 0\) must have shape"):
        TreeDecomposition(T, np.eye(2), w)
    w = _weights(T)
    w[T.root] = [np.ones((2, 2)), np.ones((3, 2))]
    with pytest.raises(mtd.InvalidArgumentError, match="same number of rows"):
        TreeDecomposition(T, np.eye(2), w)
    w = _weights(T)
    w[T.root] = [np.ones((2, 2))]
    with pytest.raises(mtd.InvalidArgumentError, match="one matrix per child"):
        TreeDecomposition(T, np.eye(2), w)
    with pytest.raises(mtd.InvalidArgumentError, match=r"missing the weights of node"):
        TreeDecomposition(T, np.eye(2), {T.root: _weights(T)[T.root]})
    with pytest.raises(mtd.InvalidArgumentError, match="is a leaf"):
        TreeDecomposition(T, np.eye(2), {**_weights(T), (0,): [np.ones((2, 2))]})
    with pytest.raises(mtd.InvalidArgumentError, match="form 'colt' every child"):
        T3 = TREES["ternary"]
        TreeDecomposition(
            T3,
            np.eye(2),
            {
                n: np.ones((2, 3 if all(T3.is_leaf(c) for c in T3.children(n)) else 2))
                for n in T3.interior_nodes
            },
            form="colt",
            leaf_weights=np.ones((3, 2)),
        )
    with pytest.raises(mtd.InvalidArgumentError, match="transfer tensor of shape"):
        TreeDecomposition(
            T, np.eye(2), {n: np.ones((2, 2, 3)) for n in T.interior_nodes}, form="ht"
        )
    with pytest.raises(mtd.InvalidArgumentTypeError, match="sequence of matrices"):
        TreeDecomposition(T, np.eye(2), {n: 1.0 for n in T.interior_nodes})


def test_discretizers_of_the_wrong_dimension():
    T = mtd.ModeTree.baseline(2)
    with pytest.raises(
        mtd.InvalidArgumentError,
        match=r"a leaf: the number of columns of "
        r"discretizers",
    ):
        TreeDecomposition(T, np.eye(3), _weights(T))
    with pytest.raises(mtd.InvalidArgumentError, match=r"discretizers must be a non-empty"):
        TreeDecomposition(T, np.ones(3), _weights(T))
    with pytest.raises(mtd.InvalidArgumentError, match=r"leaf_weights of leaf 0 must have"):
        TreeDecomposition(T, np.eye(2), _weights(T), leaf_weights={0: np.ones((2, 3))})
    with pytest.raises(mtd.InvalidArgumentError, match=r"outputs .* must have shape"):
        TreeDecomposition(T, np.eye(2), _weights(T), outputs=np.ones((1, 3)))


def test_unknown_names_and_bad_arguments():
    T = mtd.ModeTree.baseline(2)
    with pytest.raises(mtd.InvalidArgumentError, match="g must be one of"):
        TreeDecomposition.random(T, M=2, r=2, g="tanh")
    with pytest.raises(mtd.InvalidArgumentError, match="kind must be one of"):
        TreeDecomposition.random(T, M=2, r=2, kind="uniform")
    with pytest.raises(mtd.InvalidArgumentError, match="form must be one of"):
        TreeDecomposition.random(T, M=2, r=2, form="tucker")
    with pytest.raises(mtd.InvalidArgumentError, match="form 'ht' .* needs g = 'product'"):
        TreeDecomposition.random(T, M=2, r=2, form="ht", g="relu")
    with pytest.raises(mtd.InvalidArgumentTypeError, match="tree must be a ModeTree"):
        TreeDecomposition.random(((0, 1), 2), M=2, r=2)
    with pytest.raises(mtd.InvalidArgumentError, match="r_input is required"):
        TreeDecomposition.random(T, M=2, r={0: 2})
    with pytest.raises(mtd.InvalidArgumentError, match="gives no size for node"):
        TreeDecomposition.random(T, M=2, r={0: 2}, r_input=2)
    d = TreeDecomposition.random(T, M=2, r=2, seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="arithmetic must be one of"):
        d.to_tensor(arithmetic="rational")
    with pytest.raises(mtd.InvalidArgumentError, match="needs integer weights"):
        d.to_tensor(arithmetic="exact")
    with pytest.raises(mtd.InvalidArgumentError, match="output must be in 0..1"):
        d.to_tensor(2)
    with pytest.raises(mtd.InvalidArgumentTypeError, match="must be a TreeDecomposition"):
        tree_to_tensor("not a decomposition")
    i = TreeDecomposition.random(T, M=2, r=2, kind="integer", g="max", seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="arithmetic='modular' needs g"):
        i.to_tensor(arithmetic="modular")
    with pytest.raises(mtd.InvalidArgumentError, match="prime must be a prime below"):
        TreeDecomposition.random(T, M=2, r=2, kind="integer").to_tensor(
            arithmetic="modular", prime=2**31 + 11
        )
    with pytest.raises(mtd.InvalidArgumentError, match="multilinear form only for g"):
        i.contract(np.ones((4, 2)))
    with pytest.raises(mtd.InvalidArgumentError, match=r"vectors must have shape \(B, 4, M\)"):
        d.contract(np.ones((2, 3, 2)))
    with pytest.raises(mtd.InvalidArgumentError, match="indices of mode 0 must be in 0..1"):
        d.entries([[2, 0, 0, 0]])
    with pytest.raises(mtd.InvalidArgumentError, match="integer leaf vectors"):
        TreeDecomposition.random(T, M=2, r=2, kind="integer").contract(
            np.ones((4, 2)), arithmetic="exact"
        )


def test_tensor_too_large_is_refused_before_allocating():
    d = TreeDecomposition.random(mtd.ModeTree.star(40), M=2, r=1, seed=0)
    with pytest.raises(mtd.TensorTooLargeError, match="over the memory limit"):
        d.to_tensor()
    small = TreeDecomposition.random(mtd.ModeTree.baseline(3), M=3, r=2, seed=0)
    with mtd.memory_limit(1024), pytest.raises(MemoryError, match="refusing to allocate"):
        small.to_tensor()
    # evaluating at points never needs the dense tensor
    assert np.isfinite(d.entries(np.zeros(40, dtype=int)))
