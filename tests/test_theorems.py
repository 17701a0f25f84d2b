"""The checks behind `mtd verify`: they hold, and they can fail."""

import json

import numpy as np
import pytest

import mtd
from mtd import theorems
from mtd.theorems import CHECKS, CheckReport, run_checks


def test_quick_run_holds_and_reports():
    reports = run_checks(quick=True)
    assert [r.claim for r in reports] and all(isinstance(r, CheckReport) for r in reports)
    assert all(r.holds for r in reports), theorems.reports_to_markdown(reports)
    md = theorems.reports_to_markdown(reports)
    assert md.count("\n") == len(reports) + 1 and "| holds |" in md
    assert "| independent route |" in md.splitlines()[0]
    data = json.loads(theorems.reports_to_json(reports))
    assert data["all_hold"] and len(data["checks"]) == len(CHECKS)
    assert reports[0].to_dict()["verdict"] == "holds"
    # every check names the independent route its expectation took, in every format
    assert all(r.independent for r in reports)
    assert [c["independent"] for c in data["checks"]] == [r.independent for r in reports]
    assert all(r.independent.replace("|", "\\|") in md for r in reports)


# Each check must be able to fail: break the code it checks and watch the verdict flip.


def test_tiling_check_fails_on_wrong_tiling(monkeypatch):
    monkeypatch.setattr(mtd.ModeTree, "tiling", lambda self, I: tuple(self.leaves)[:1])
    assert not theorems.check_tilings(n_trees=5).holds


def test_dilation_check_fails_on_wrong_tree(monkeypatch):
    real = mtd.ModeTree.from_dilations.__func__

    def wrong(cls, dilations):
        return real(cls, list(reversed(list(dilations))))

    monkeypatch.setattr(mtd.ModeTree, "from_dilations", classmethod(wrong))
    assert not theorems.check_dilation_trees(layers=[3]).holds


def test_swapped_check_fails_on_wrong_companion(monkeypatch):
    monkeypatch.setattr(mtd.ModeTree, "swapped", classmethod(lambda cls, L, k: cls.linear(2**L)))
    assert not theorems.check_swapped_shared_nodes(layers=[2]).holds


def test_theorem7_check_fails_on_wrong_bounds(monkeypatch):
    monkeypatch.setattr(theorems.structure, "theorem7_exponents", lambda tree, I: (5, 6))
    assert not theorems.check_theorem7_structure(n_cases=3).holds


def test_rank_check_fails_on_wrong_rank(monkeypatch):
    monkeypatch.setattr(
        theorems.arithmetic, "matrix_rank", lambda X, method, **kw: min(np.shape(X))
    )
    assert not theorems.check_exact_ranks(n_cases=10).holds


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_check_holds_and_names_its_route(name):
    rep = CHECKS[name](**theorems._QUICK[name])
    assert rep.holds, rep.to_markdown()
    assert rep.verdict == "holds" and rep.independent
    assert rep.seconds > 0 and rep.setting and rep.expected and rep.measured


def test_theorem7_check_fails_when_ranks_exceed_bounds(monkeypatch):
    monkeypatch.setattr(theorems.dilated, "theorem7_bounds", lambda tree, I, r: (1, 1))
    assert not theorems.check_theorem7_exact(n_cases=4, max_modes=5).holds


def test_claim5_check_fails_on_a_wrong_embedding(monkeypatch):
    import mtd.decompositions as dec

    real = dec.embed_hybrid

    def wrong(H, T, Tb, mix, *, hybrid=None):
        # embed into the wrong mixture: interconnect nowhere
        return real(H, T, Tb, mix, hybrid=hybrid).__class__.random(
            T, Tb, [], M=2, r=2 * H.r, kind="integer", seed=0
        )

    monkeypatch.setattr(dec, "embed_hybrid", wrong)
    assert not theorems.check_claim5(n_hybrids=3).holds


def test_separating_example_check_fails_on_wrong_bounds(monkeypatch):
    monkeypatch.setattr(theorems.dilated, "theorem7_bounds", lambda tree, I, r: (r**6, r**6))
    assert not theorems.check_separating_example(ks=(2,)).holds


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("separating_example", {"ks": (2,)}),
        ("depth_efficiency", {"N": 8}),
        ("pooling_geometry", {"big": False, "partitions": ("checkerboard",)}),
        ("overlapping", {"windows": (1, 2)}),
    ],
)
def test_rank_based_checks_fail_when_ranks_are_wrong(monkeypatch, name, kwargs):
    # a rank routine that always answers 1 must flip every rank-based verdict
    for module in (theorems.dilated, theorems.circuits):
        monkeypatch.setattr(module, "_max_exact_rank", lambda make, I, tries=3, stop_at=None: 1)
    assert not CHECKS[name](**kwargs).holds


def test_generalized_g_check_fails_when_relu_sum_rank_exceeds_two(monkeypatch):
    monkeypatch.setattr(
        theorems.circuits, "_max_exact_rank", lambda make, I, tries=3, stop_at=None: 3
    )
    assert not theorems.check_generalized_g().holds


def test_mixed_vs_sum_check_fails_when_the_mixed_rank_is_low(monkeypatch):
    import mtd.certify

    real = mtd.certify.generic_rank

    def capped(d, I, **kw):
        g = real(d, I, **kw)
        return (
            g
            if not isinstance(d, mtd.MixedDecomposition) or not d.mixture_nodes
            else (type(g)(**{**g.__dict__, "lower": 1}))
        )

    monkeypatch.setattr(mtd.certify, "generic_rank", capped)
    assert not theorems.check_mixed_vs_sum(paper=False).holds


def test_large_separating_example_check_fails_on_wrong_ranks(monkeypatch):
    # a wrong exact rank of a root factor, or a witness one short, flips the verdict
    with monkeypatch.context() as m:
        m.setattr(theorems.mixed.ref, "matricization_rank", lambda A, I: 1)
        assert not theorems.check_separating_example_large().holds
    import mtd.certify

    real = mtd.certify.generic_rank
    monkeypatch.setattr(
        mtd.certify,
        "generic_rank",
        lambda d, I, **kw: type(g := real(d, I, **kw))(**{**g.__dict__, "lower": g.lower // 2}),
    )
    assert not theorems.check_separating_example_large(exact_factors=False).holds


def test_mixed_vs_sum_r4_check_fails_when_the_mixed_rank_is_low(monkeypatch):
    import mtd.certify

    real = mtd.certify.generic_rank

    def capped(d, I, **kw):
        g = real(d, I, **kw)
        if isinstance(d, mtd.MixedDecomposition):
            return type(g)(**{**g.__dict__, "lower": 100})  # below (r/2)^8 = 256
        return g

    monkeypatch.setattr(mtd.certify, "generic_rank", capped)
    assert not theorems.check_mixed_vs_sum_r4(max_probes=256).holds


def test_mincut_check_fails_when_the_bound_is_wrong(monkeypatch):
    # a bound one too high (never reached) and one too low (exceeded) both flip it
    import mtd.theorems.mincut as m

    real = m.tree_mincut_bound
    monkeypatch.setattr(m, "tree_mincut_bound", lambda *a, **k: real(*a, **k) + 1)
    assert not theorems.check_mincut_unequal_sizes(n_cases=6).holds
    monkeypatch.setattr(m, "tree_mincut_bound", lambda *a, **k: max(1, real(*a, **k) - 1))
    assert not theorems.check_mincut_unequal_sizes(n_cases=6).holds


def test_pooling_windows_check_fails_on_wrong_ranks_or_network(monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(theorems.circuits.ref, "matricization_rank", lambda A, I: 1)
        assert not theorems.check_pooling_all_windows_split().holds
    import mtd.networks

    real = mtd.networks.PoolingConvAC.forward
    monkeypatch.setattr(mtd.networks.PoolingConvAC, "forward", lambda self, x: real(self, x) + 1)
    assert not theorems.check_pooling_all_windows_split().holds


def test_mixed_same_size_check_fails_on_low_ranks_or_a_wrong_factorization(monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(theorems.mixed.ref, "matricization_rank", lambda A, I: 90)  # 8100 <= 8192
        assert not theorems.check_mixed_vs_sum_same_size(reference=False).holds
    import mtd.decompositions.evaluate as ev

    real = ev.contract_leaf_vectors
    monkeypatch.setattr(ev, "contract_leaf_vectors", lambda *a, **k: real(*a, **k) * 2)
    assert not theorems.check_mixed_vs_sum_same_size(reference=False).holds
