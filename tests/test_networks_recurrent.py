"""Recurrent arithmetic circuits: forward pass, grid tensors and Start-End ranks."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.errors import InvalidArgumentError, TensorTooLargeError
from mtd.networks.recurrent import start_end


def naive_output(rac, d):
    """The circuit on one-hot inputs ``e_{d_t}``, in Python ints, straight from the equations."""
    L, T = rac.depth, rac.n_steps
    w = rac.weights
    WI = [w[2 * l].tolist() for l in range(L)]
    WH = [w[2 * l + 1].tolist() for l in range(L)]
    O = w[-1].tolist()
    seq = [[int(i == d[t]) for i in range(rac.M)] for t in range(T)]

    def lin(W, v):
        return [sum(a * b for a, b in zip(row, v, strict=True)) for row in W]

    for l in range(L):
        h = lin(WI[l], seq[0])
        out = [h]
        for t in range(1, T):
            h = [a * b for a, b in zip(lin(WH[l], h), lin(WI[l], seq[t]), strict=True)]
            out.append(h)
        seq = out
    return [sum(a * b for a, b in zip(row, seq[-1], strict=True)) for row in O]


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_grid_tensor_matches_the_equations(depth):
    rac = mtd.RecurrentAC(4, M=2, hidden=2, depth=depth, n_outputs=2, kind="integer", seed=3)
    A = rac.grid_tensor(output=None, arithmetic="exact")
    for d in itertools.product(range(2), repeat=4):
        assert [int(A[(y, *d)]) for y in range(2)] == naive_output(rac, d)


@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3))
def test_forward_matches_grid_tensor(seed, depth):
    rac = mtd.RecurrentAC(3, M=3, hidden=2, depth=depth, kind="integer", seed=seed)
    A = rac.grid_tensor(arithmetic="exact")
    d = np.random.default_rng(seed).integers(0, 3, size=3)
    assert rac.forward(np.eye(3, dtype=np.int64)[d])[0] == A[tuple(d)]
    # float weights: the same function up to rounding
    g = mtd.RecurrentAC(3, M=3, hidden=2, depth=depth, seed=seed)
    np.testing.assert_allclose(g.forward(np.eye(3)[d])[0], g.grid_tensor()[tuple(d)], rtol=1e-9)


def test_plan_structure():
    assert mtd.RecurrentAC(5, M=2, hidden=2).plan.is_tree  # a tensor train
    deep = mtd.RecurrentAC(5, M=2, hidden=2, depth=2)
    assert not deep.plan.is_tree  # h^1_t feeds h^1_{t+1} and h^2_t
    arrays = deep.plan.arrays()
    # W_I^1, W_H^1, W_I^2, W_H^2, O and the fixed identity: weights tied across time
    assert len(arrays) == 6 and len(deep.plan.fixed) == 1


@pytest.mark.parametrize(
    ("T", "M", "R"), [(4, 2, 3), (6, 2, 2), (6, 3, 2), (8, 2, 2), (8, 3, 3), (10, 2, 3)]
)
def test_shallow_start_end_rank_is_min_r_m_half(T, M, R):
    # depth 1 is a tensor train with bond R: the Start-End rank is min(R, M^(T/2))
    rac = mtd.RecurrentAC(T, M=M, hidden=R, seed=0)
    res = mtd.generic_rank(rac, start_end(T), seed=1)
    assert res.certified and res.rank == min(R, M ** (T // 2))
    assert mtd.mincut_bound(rac, start_end(T)) == min(R, M ** (T // 2))


@pytest.mark.parametrize(("T", "M", "R"), [(6, 2, 2), (8, 2, 2), (8, 3, 3), (10, 2, 2)])
def test_deep_start_end_rank_certified(T, M, R):
    rac = mtd.RecurrentAC(T, M=M, hidden=R, depth=2, seed=0)
    I = start_end(T)
    res = mtd.generic_rank(rac, I, seed=1)
    # the cut state (h^1, h^2): linear in h^2, degree T/2 in h^1
    want = min(R * math.comb(R + T // 2 - 1, T // 2), M ** (T // 2))
    assert res.certified and res.rank == want
    # Levine, Sharir & Shashua: depth 2 reaches at least C(min(M, R) + T/2 - 1, T/2)
    assert res.rank >= math.comb(min(M, R) + T // 2 - 1, T // 2)
    # depth beats the shallow circuit of the same width
    assert res.rank > min(R, M ** (T // 2)) or want == M ** (T // 2)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_bounds_bracket_exact_ranks_of_integer_instances(depth, seed):
    # lower <= exact rank of a wide random integer instance <= upper, for several I
    T, M, R = 6, 2, 2
    rac = mtd.RecurrentAC(T, M=M, hidden=R, depth=depth, kind="integer", max_weight=1000, seed=seed)
    A = rac.grid_tensor(arithmetic="exact")
    for I in ([0, 1, 2], [0], [0, 1], [3, 4, 5], [0, 2, 4], [1, 2]):
        exact = mtd.matricization_rank(A, I, method="exact")
        upper = mtd.mincut_bound(rac, I)
        own = rac.rank_upper_bound(I)
        assert exact <= upper
        if own is not None:
            assert exact <= own
        res = mtd.generic_rank(rac, I, seed=seed)
        assert res.lower <= res.upper
        if res.certified:
            assert exact <= res.rank  # the generic rank is the maximum over weights


def test_rank_upper_bound_only_for_prefixes_and_suffixes():
    rac = mtd.RecurrentAC(6, M=2, hidden=2, depth=2)
    assert rac.rank_upper_bound([0, 2]) is None
    assert rac.rank_upper_bound([3, 4, 5]) == rac.rank_upper_bound([0, 1, 2])
    assert mtd.RecurrentAC(6, M=2, hidden=3).rank_upper_bound([0, 1]) == 3


def test_errors():
    with pytest.raises(InvalidArgumentError, match="n_steps"):
        mtd.RecurrentAC(1, M=2, hidden=2)
    with pytest.raises(InvalidArgumentError, match="hidden"):
        mtd.RecurrentAC(4, M=2, hidden=0)
    rac = mtd.RecurrentAC(4, M=2, hidden=2)
    with pytest.raises(InvalidArgumentError, match=r"\(T, M\) = \(4, 2\)"):
        rac.forward(np.zeros((3, 2)))
    with pytest.raises(InvalidArgumentError, match="needs integer"):
        rac.grid_tensor(arithmetic="exact")
    with pytest.raises(TensorTooLargeError, match="grid tensor"):
        mtd.RecurrentAC(40, M=2, hidden=2).grid_tensor()


def test_verify_check_holds_and_can_fail(monkeypatch):
    from mtd import theorems

    rep = theorems.check_recurrent_start_end(T=8)
    assert rep.holds and rep.details == {"1": [2, 2], "2": [10, 10]}
    real = mtd.certify.generic_rank

    def short(*args, **kwargs):  # a witness one short of the certified rank
        res = real(*args, **kwargs)
        return type(res)(**{**res.__dict__, "lower": res.lower - 1})

    monkeypatch.setattr(mtd.certify, "generic_rank", short)
    assert not theorems.check_recurrent_start_end(T=8).holds


def test_save_load_and_display(tmp_path):
    rac = mtd.RecurrentAC(4, M=2, hidden=2, depth=2, n_outputs=2, kind="integer", seed=4)
    back = mtd.RecurrentAC.from_dict(rac.to_dict())
    np.testing.assert_array_equal(back.grid_tensor(output=None), rac.grid_tensor(output=None))
    mtd.save(rac, tmp_path / "rac.json")
    again = mtd.load(tmp_path / "rac.json")
    np.testing.assert_array_equal(again.grid_tensor(), rac.grid_tensor())
    assert "parameters" in rac._repr_html_()
    with pytest.raises(InvalidArgumentError, match="2 \\* depth \\+ 1 = 5"):
        mtd.RecurrentAC(4, M=2, hidden=2, depth=2, weights=[np.eye(2)])
    with pytest.raises(InvalidArgumentError, match=r"W_I of layer 1.*shape \(2, 3\)"):
        mtd.RecurrentAC(4, M=3, hidden=2, weights=[np.eye(2), np.eye(2), np.ones((1, 2))])


def test_random_integer_weights_are_wide_by_default():
    # the house rule for random witnesses is |w| <= 1000, not a narrow range like -3..3
    rac = mtd.RecurrentAC(4, M=3, hidden=4, depth=2, kind="integer", seed=0)
    w = np.concatenate([np.abs(np.asarray(a)).ravel() for a in rac.weights])
    assert w.max() > 3 and w.max() <= 1000
