"""Random weights drawn in bulk (mtd.decompositions._random) give the per-array numbers."""

import gc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.decompositions._random import gaussian_arrays, gc_paused, random_array

shapes = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 4)), min_size=1, max_size=12)


@given(shapes, st.integers(0, 2**32 - 1))
def test_one_gaussian_draw_equals_one_draw_per_array(shape_list, seed):
    bulk = gaussian_arrays(np.random.default_rng(seed), shape_list)
    rng = np.random.default_rng(seed)
    one_by_one = [random_array(rng, s, "gaussian", 1000) for s in shape_list]
    assert len(bulk) == len(one_by_one)
    for a, b in zip(bulk, one_by_one, strict=True):
        assert a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("kind", ["gaussian", "integer", "orthogonal"])
@pytest.mark.parametrize("sizes", ["uniform", "per node"])
def test_tree_random_draws_children_first_as_documented(kind, sizes):
    # the draw order users' seeds depend on: discretizers, then every interior node in
    # reversed pre-order, one (r_node, r_child) array per child, per-array draws
    T = mtd.ModeTree.from_nested((((0, 1), 2), (3, (4, 5, 6))))
    r = 3 if sizes == "uniform" else {n: 2 + len(n) % 3 for n in T.interior_nodes}
    d = mtd.TreeDecomposition.random(T, M=4, r=r, r_input=3, kind=kind, seed=7)
    rng = np.random.default_rng(7)
    from mtd.decompositions._random import random_discretizers

    V = random_discretizers(rng, 4, 3, kind, 1000)
    assert np.array_equal(V, d.discretizers)
    size = {leaf: 3 for leaf in T.leaves}
    for node in reversed(T.nodes):
        if T.is_leaf(node):
            continue
        size[node] = r if isinstance(r, int) else r[node]
        for c, W in zip(T.children(node), d.weights[node], strict=True):
            assert np.array_equal(W, random_array(rng, (size[node], size[c]), kind, 1000))


def test_gc_paused_restores_the_collector_state():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector the caller turned off stays off
    finally:
        gc.enable()


def test_random_refuses_over_the_limit_where_the_walk_passes_it():
    # baseline over 8 modes, M = 2, r = 40: discretizers 2x40, one 40x40 matrix per edge
    # (8 to leaves, 6 to other interior nodes): 80 + 14 * 1600 entries of 8 bytes
    need = 8 * (2 * 40 + 14 * 1600)
    T = mtd.ModeTree.baseline(3)
    with mtd.memory_limit(need):
        assert mtd.TreeDecomposition.random(T, M=2, r=40, seed=0).n_modes == 8
    # half the bytes: the running total passes 11240 entries at the 8th array (80 + 7 * 1600)
    too_large = pytest.raises(mtd.errors.TensorTooLargeError, match="at array 8 of shape 40")
    with mtd.memory_limit(need // 2), too_large:
        mtd.TreeDecomposition.random(T, M=2, r=40, seed=0)
