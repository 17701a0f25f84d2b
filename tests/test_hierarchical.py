"""Hierarchical SVD along mode trees: node ranks, reconstruction and the documented error bound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import _reference
from mtd.decompositions import (
    HierarchicalTensor,
    TreeDecomposition,
    hierarchical_svd,
    n_parameters,
    tree_rank_profile,
)
from mtd.strategies import mode_trees


@given(tree=mode_trees(min_modes=2, max_modes=6, max_arity=3), seed=st.integers(0, 999))
def test_hsvd_ranks_equal_exact_node_ranks(tree, seed):
    # small weights: the float SVD needs the entries exact in float64
    d = TreeDecomposition.random(tree, M=2, r=2, kind="integer", seed=seed, max_weight=5)
    A = d.to_tensor(arithmetic="exact")
    if not A.any():
        return
    exact = tree_rank_profile(A, tree, method="exact")
    modular = tree_rank_profile(A, tree, method="modular")
    assert all(modular[n] <= exact[n] <= d.sizes[n] for n in tree.nodes if n != tree.root)
    # the node ranks, from python-flint on the theory page's matricization
    for node in tree.nodes:
        if node != tree.root:
            assert exact[node] == _reference.matricization_rank(A, node)
    assert exact[tree.root] == 1
    # an HT format with the exact node ranks represents A: truncating every node to its
    # exact rank must lose nothing (in exact arithmetic; here to float accuracy)
    h = hierarchical_svd(A, tree, max_rank=dict(exact))
    np.testing.assert_allclose(h.to_tensor(), A.astype(float), atol=1e-8 * np.abs(A).max())
    assert h.error_bound <= 1e-8 * np.linalg.norm(A.astype(float))


@given(
    tree=mode_trees(min_modes=3, max_modes=7, max_arity=3),
    seed=st.integers(0, 999),
    cap=st.integers(1, 3),
)
def test_truncation_error_respects_the_documented_bound(tree, seed, cap):
    A = np.random.default_rng(seed).standard_normal((2,) * tree.n_modes)
    h = hierarchical_svd(A, tree, max_rank=cap)
    err = np.linalg.norm(A - h.to_tensor())
    assert err <= h.error_bound * (1 + 1e-9) + 1e-12
    # error_bound <= sqrt(|E|) * max_ν (truncation error at ν) <= sqrt(|E|) * ||A - A_best||
    root_kids = tree.children(tree.root)
    n_terms = len(tree.nodes) - 1 - (1 if len(root_kids) == 2 else 0)
    worst = max(h.truncation_errors.values())
    assert h.error_bound <= np.sqrt(n_terms) * worst * (1 + 1e-9) + 1e-12
    if all(len(tree.children(n)) == 2 for n in tree.interior_nodes):
        assert n_terms == 2 * tree.n_modes - 3
    assert all(k <= cap for n, k in h.ranks.items() if n != tree.root)


def test_hsvd_rtol_and_per_node_caps():
    d = TreeDecomposition.random(
        mtd.ModeTree.baseline(3), M=3, r=2, kind="integer", max_weight=5, seed=0
    )
    A = d.to_tensor(arithmetic="exact").astype(float)
    A = A / np.linalg.norm(A)
    exact = tree_rank_profile(d.to_tensor(arithmetic="exact"), d.tree, method="exact")
    A_noisy = A + 1e-12 * np.random.default_rng(0).standard_normal(A.shape)
    h = hierarchical_svd(A_noisy, d.tree, rtol=1e-7)
    # rtol far above the noise: the ranks are the exact ones, not the noise's full ranks
    assert {n: h.ranks[n] for n in d.tree.nodes if n != d.tree.root} == {
        n: exact[n] for n in d.tree.nodes if n != d.tree.root
    }
    assert max(exact[n] for n in d.tree.nodes) == 2
    assert np.linalg.norm(h.to_tensor() - A_noisy) <= h.error_bound + 1e-12
    node = frozenset({0, 1})
    h2 = hierarchical_svd(A, d.tree, max_rank={node: 1})
    assert h2.ranks[node] == 1 and h2.ranks[frozenset({2, 3})] == 2
    assert isinstance(h2, HierarchicalTensor) and "HierarchicalTensor" in repr(h2)
    leaves = sum(u.size for u in h2.leaf_bases.values())
    assert (
        n_parameters(h2) == h2.n_parameters() == leaves + sum(b.size for b in h2.transfer.values())
    )


def test_hsvd_of_unequal_dimensions():
    A = np.random.default_rng(1).integers(-1000, 1001, (2, 3, 4, 5))
    tree = mtd.ModeTree.from_nested(((0, 2), (1, 3)))
    h = hierarchical_svd(A.astype(float), tree)
    np.testing.assert_allclose(h.to_tensor(), A, atol=1e-8)
    # the kept ranks are the exact ranks (python-flint), which here are full: 8 and 3
    want = {n: _reference.matricization_rank(A, n) for n in (frozenset({0, 2}), frozenset({1}))}
    assert want == {frozenset({0, 2}): 8, frozenset({1}): 3}
    assert all(h.ranks[n] == w for n, w in want.items())


def test_hierarchical_errors():
    tree = mtd.ModeTree.baseline(2)
    with pytest.raises(mtd.InvalidArgumentError, match="one axis per mode"):
        hierarchical_svd(np.ones((2, 2, 2)), tree)
    with pytest.raises(mtd.InvalidArgumentTypeError, match="tree must be a ModeTree"):
        hierarchical_svd(np.ones((2, 2, 2, 2)), ((0, 1), (2, 3)))
    with pytest.raises(mtd.InvalidArgumentTypeError, match="max_rank must be"):
        hierarchical_svd(np.ones((2, 2, 2, 2)), tree, max_rank="full")
    with pytest.raises(mtd.InvalidArgumentError, match="one axis per mode"):
        tree_rank_profile(np.ones((2, 2)), tree)
