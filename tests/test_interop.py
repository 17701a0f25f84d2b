"""TensorLy CP / TT interop, parameter counts, and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd

tl = pytest.importorskip("tensorly")  # the `interop` extra

from mtd.decompositions import (  # noqa: E402
    MixedDecomposition,
    TreeDecomposition,
    from_tensorly_cp,
    from_tensorly_tt,
    n_parameters,
    parameter_count,
    to_tensorly_cp,
    to_tensorly_tt,
)
from mtd.strategies import mode_trees  # noqa: E402


@pytest.mark.parametrize("form", ["colt", "eq3"])
@pytest.mark.parametrize("N", [2, 3, 5])
def test_cp_both_ways(form, N):
    d = TreeDecomposition.random(mtd.ModeTree.star(N), M=3, r=3, form=form, seed=N)
    for y in range(d.n_outputs):
        cp = to_tensorly_cp(d, y)
        np.testing.assert_allclose(tl.cp_to_tensor(cp), d.to_tensor(y), atol=1e-12)
    rng = np.random.default_rng(N)
    factors = [rng.standard_normal((4, 3)) for _ in range(N)]
    weights = rng.standard_normal(3)
    back = from_tensorly_cp((weights, factors))
    assert back.form == "colt" and back.tree == mtd.ModeTree.star(N)
    np.testing.assert_allclose(back.to_tensor(), tl.cp_to_tensor((weights, factors)), atol=1e-12)
    again = to_tensorly_cp(back)
    np.testing.assert_allclose(tl.cp_to_tensor(again), tl.cp_to_tensor((weights, factors)))


def test_integer_cp_is_exact_and_dense_output_layer():
    factors = [np.arange(6).reshape(3, 2) - 2 + j for j in range(3)]
    d = from_tensorly_cp(tl.cp_tensor.CPTensor((None, factors)))
    assert d.is_integer
    exact = d.to_tensor(arithmetic="exact")
    assert (exact == np.einsum("ar,br,cr->abc", *factors)).all()
    T = mtd.ModeTree.star(3)
    w = TreeDecomposition.random(T, M=2, r=2, form="eq3", seed=0)
    dl = TreeDecomposition(T, w.discretizers, w.weights, outputs=np.array([[1.0, -2.0]]))
    np.testing.assert_allclose(tl.cp_to_tensor(to_tensorly_cp(dl)), dl.to_tensor())


@pytest.mark.parametrize("form", ["eq3", "colt", "ht"])
@pytest.mark.parametrize("N", [2, 4, 6])
def test_tt_both_ways(form, N):
    d = TreeDecomposition.random(mtd.ModeTree.linear(N), M=3, r=2, form=form, seed=N)
    for y in range(d.n_outputs):
        tt = to_tensorly_tt(d, y)
        np.testing.assert_allclose(tl.tt_to_tensor(tt), d.to_tensor(y), atol=1e-12)
    rng = np.random.default_rng(N)
    ranks = [1, *rng.integers(1, 4, size=N - 1), 1]
    cores = [rng.standard_normal((ranks[m], 3, ranks[m + 1])) for m in range(N)]
    back = from_tensorly_tt(tl.tt_tensor.TTTensor(cores))
    np.testing.assert_allclose(back.to_tensor(), tl.tt_to_tensor(cores), atol=1e-12)
    np.testing.assert_allclose(
        tl.tt_to_tensor(to_tensorly_tt(back)), tl.tt_to_tensor(cores), atol=1e-12
    )


def test_interop_errors():
    d = TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="star tree"):
        to_tensorly_cp(d)
    with pytest.raises(mtd.InvalidArgumentError, match="linear tree"):
        to_tensorly_tt(d)
    relu = TreeDecomposition.random(mtd.ModeTree.star(3), M=2, r=2, g="relu", seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="only g = 'product'"):
        to_tensorly_cp(relu)
    with pytest.raises(mtd.InvalidArgumentError, match="same shape"):
        from_tensorly_cp((None, [np.ones((2, 2)), np.ones((3, 2))]))
    with pytest.raises(mtd.InvalidArgumentError, match="weights must have shape"):
        from_tensorly_cp((np.ones(3), [np.ones((2, 2)), np.ones((2, 2))]))
    with pytest.raises(mtd.InvalidArgumentError, match="core 1 must have shape"):
        from_tensorly_tt([np.ones((1, 2, 2)), np.ones((3, 2, 1))])
    with pytest.raises(mtd.InvalidArgumentTypeError, match="TreeDecomposition"):
        to_tensorly_tt("tt")


# ------------------------------------------------------------------ parameter counts


@given(
    tree=mode_trees(min_modes=1, max_modes=7, max_arity=3),
    form=st.sampled_from(["eq3", "colt", "ht"]),
    r=st.integers(1, 3),
    r_input=st.integers(1, 3),
    tied=st.booleans(),
)
def test_parameter_count_matches_n_parameters(tree, form, r, r_input, tied):
    try:
        d = TreeDecomposition.random(tree, M=2, r=r, r_input=r_input, form=form, tied=tied, seed=0)
    except mtd.InvalidArgumentError:
        return  # e.g. tied weights over nodes of different arity, or a COLT size mismatch
    expected = parameter_count(tree, 2, r, form=form, tied=tied, r_input=r_input)
    assert n_parameters(d) == d.n_parameters() == expected
    assert n_parameters(d, include_discretizers=True) == expected + 2 * r_input


def test_parameter_counts_by_hand():
    T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
    assert parameter_count(T, 2, 8) == 15 * 2 * 64
    mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    m = MixedDecomposition.random(T, Tb, mix, M=2, r=4, seed=0)
    assert n_parameters(m) == parameter_count((T, Tb), 2, 4) == 2 * 15 * 2 * 16
    assert parameter_count(mtd.ModeTree.star(4), 3, 5, form="colt", r_input=3) == 4 * 15 + 25
    assert parameter_count(T, 2, 8, tied=True) == 4 * 2 * 64
    with pytest.raises(mtd.InvalidArgumentError, match="counted in form 'eq3'"):
        parameter_count((T, Tb), 2, 4, form="colt")
    with pytest.raises(mtd.InvalidArgumentTypeError, match="pair of ModeTrees"):
        parameter_count("tree", 2, 4)


def test_tensorly_is_imported_lazily():
    code = "import sys, mtd.decompositions; print('tensorly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
