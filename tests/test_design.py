"""Architecture search: screening by proven upper bounds, certification of finalists."""

import itertools
import math

import pytest

import mtd
from mtd import design


def _brute_force_best(L, sets, objective):
    # independent: Theorem 7's bounds from the tree alone, for every order; for M = r the
    # upper bound is min(r^min(tilings), M^min(|I|,|Ic|)) and the lower bound meets it
    # on these cases (checked against the certified profile below)
    best = None
    for order in itertools.permutations([2**i for i in range(L)]):
        tree = mtd.ModeTree.from_dilations(order)
        vals = [math.log2(mtd.theorem7_bounds(tree, I, 2)[0]) for I in sets]
        s = min(vals) if objective == "min" else sum(vals) / len(vals)
        if best is None or s > best[0]:
            best = (s, order)
    return best


@pytest.mark.parametrize("objective", ["min", "mean"])
def test_search_dilations_finds_the_best_certified_order(objective):
    sets = [(0, 1, 2, 3), (0, 2, 4, 6), (0, 1, 4, 5), (1, 2, 5, 6), (0, 3, 4, 7)]
    res = design.search_dilations(3, r=2, M=2, index_sets=sets, objective=objective, seed=0)
    assert res.n_screened == 6
    best = res.best
    assert best.profile is not None and all(best.profile.certified)
    lower = _brute_force_best(3, sets, objective)[0]
    # Theorem 7's lower bound is a proven lower bound on every order's generic ranks,
    # so the best certified score is at least the best Theorem-7 score
    assert best.score >= lower - 1e-12
    # and no candidate's certified score beats the screening maximum
    assert all(c.score <= c.screen_score + 1e-12 for c in res.candidates)
    assert res.proven_best
    assert [c.score for c in res.candidates] == sorted(
        (c.score for c in res.candidates), reverse=True
    )


def test_hill_climb_beyond_exhaustive():
    res = design.search_dilations(
        4, r=2, M=2, index_sets="interleaved", objective="min", exhaustive_up_to=3, seed=1, top=1
    )
    assert res.extra["method"] == "hill climb" and res.n_screened < math.factorial(4)
    assert sorted(res.best.description["dilations"]) == [1, 2, 4, 8]


def test_search_mixtures_counts_subsets_and_certifies():
    T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
    sets = [(0, 2, 4, 6, 8, 9, 12, 13)]  # the separating example's I
    res = design.search_mixtures(T, Tb, r=2, M=2, index_sets=sets, objective="min", seed=0, top=2)
    assert res.n_screened == 2**4  # the four blocks {0..3}, …, {12..15}
    assert all(res.best.profile.certified)
    # independent: the exact rank of a random integer instance of the winning architecture
    mix = [frozenset(v) for v in res.best.model.mixture_nodes]
    inst = mtd.MixedDecomposition.random(
        T, Tb, mix, M=2, r=2, kind="integer", max_weight=1000, seed=7
    )
    rank = mtd.matricization_rank(inst.to_tensor(arithmetic="exact"), sets[0], method="exact")
    assert rank == res.best.profile.lower[0] == 2**res.best.score


def test_allocate_widths_respects_the_budget():
    tree = mtd.ModeTree.baseline(3)
    res = design.allocate_widths(tree, M=2, budget=60, choices=(1, 2, 4), index_sets="all", seed=0)
    for c in res.candidates:
        assert c.description["parameters"] <= 60
        widths = {0: 1, **c.description["widths"]}
        assert (
            mtd.decompositions.parameter_count(tree, 2, widths, r_input=2)
            == c.description["parameters"]
        )
    with pytest.raises(mtd.InvalidArgumentError, match="budget"):
        design.allocate_widths(tree, M=2, budget=1)


def test_width_controls_reads_the_bottleneck():
    tree = mtd.ModeTree.baseline(3)
    ctl = design.width_controls(tree, [0, 2, 4, 6], widths={1: 2, 2: 2}, M=4)
    assert ctl[2] == {"halved": 1, "base": 16, "doubled": 16 * 16}  # four split pairs
    assert ctl[1]["halved"] == ctl[1]["base"] == ctl[1]["doubled"]


def test_objectives():
    assert design.profile_score([0, 1, 5], "min") == 0
    assert design.profile_score([1, 2, 3], "target", target=[3, 2, 1]) == pytest.approx(-1)
    with pytest.raises(mtd.InvalidArgumentError, match="objective"):
        design.profile_score([1], "max")
    with pytest.raises(mtd.InvalidArgumentError, match="target"):
        design.search_dilations(2, r=2, M=2, objective="target")


def test_width_control_check_holds():
    from mtd import theorems

    report = theorems.check_width_control()
    assert report.holds, report.details
    assert report.details["cases"] == 72
