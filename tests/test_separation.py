"""The separating example for every k, and Corollary 8's numbers."""

import math
from fractions import Fraction

import pytest

import mtd
from mtd.bounds import theorem7_exponents
from mtd.separation import gap_report, int_root_ceil, separating_example

CASES = [(L, k) for L in range(2, 8) for k in range(1, L)]


def test_paper_example_is_reproduced():
    ex = separating_example(4, 2)
    assert ex.I == (0, 2, 4, 6, 8, 9, 12, 13)  # the theory page, §5, 0-based
    assert ex.hybrid.tree.to_nested() == (
        (((0, 1), (2, 3)), ((8, 10), (9, 11))),
        (((4, 5), (6, 7)), ((12, 14), (13, 15))),
    )


@pytest.mark.parametrize(("L", "k"), CASES)
def test_every_element_of_I_has_its_leaf_sibling_outside(L, k):
    ex = separating_example(L, k)
    H, I = ex.hybrid.tree, set(ex.I)
    assert len(I) == 2 ** (L - 1)
    for m in I:
        (sibling,) = [c for c in H.children(H.parent(m)) if c != frozenset({m})]
        assert len(sibling) == 1 and not sibling <= I
    # mixture nodes are the blocks of 2^k modes, nodes of both trees
    assert set(ex.mixture_nodes) <= mtd.common_interior(ex.T, ex.T_bar) | {ex.T.root}


@pytest.mark.parametrize(("L", "k"), CASES)
def test_theorem7_bounds_meet_at_the_papers_exponents(L, k):
    ex = separating_example(L, k)
    N = 2**L
    tree_exp = N // 4 + N // 2 ** (k + 1)  # the paper: r^(N/4 + N/2^(k+1))
    assert theorem7_exponents(ex.T, ex.I) == (tree_exp, tree_exp)
    assert theorem7_exponents(ex.T_bar, ex.I) == (tree_exp, tree_exp)
    assert theorem7_exponents(ex.hybrid.tree, ex.I) == (N // 2, N // 2)


def test_corollary8_numbers():
    rep = gap_report(5, 4, 128)
    assert rep.exponent_ratio == Fraction(2, 1) / (1 + Fraction(2, 2**4))  # 2/(1+2^(1-k))
    exact = 64 ** (16 / 9)  # the theory page: "for k = 4 and r = 128 the bound is about 1625"
    assert rep.channels_needed == math.ceil(exact)
    assert rep.channels_needed_sum <= rep.channels_needed
    assert 2 * rep.channels_needed_sum**rep.exponent_T >= 64**rep.exponent_H
    assert 2 * (rep.channels_needed_sum - 1) ** rep.exponent_T < 64**rep.exponent_H
    d = rep.to_dict()
    assert d["exponent_T"] == d["exponent_Tbar"] == 9 and d["exponent_H"] == 16


@pytest.mark.parametrize(("value", "p", "q"), [(64, 16, 9), (2, 1, 2), (10, 3, 1), (1, 5, 3)])
def test_int_root_ceil(value, p, q):
    x = int_root_ceil(value, Fraction(p, q))
    assert x**q >= value**p and (x == 1 or (x - 1) ** q < value**p)


def test_errors():
    with pytest.raises(mtd.InvalidArgumentError, match="L >= k \\+ 1"):
        separating_example(3, 3)
    with pytest.raises(mtd.InvalidArgumentError, match="r must be even"):
        gap_report(4, 2, 5)
