"""The approximation experiment and ``mtd experiment``."""

import json

import numpy as np
import pytest

import mtd
from mtd.cli import main
from mtd.experiments._starts import Schedule, build_model, run_start
from mtd.experiments.approximation import _rank_floor, _rank_one_floor, _target


def test_single_trees_stay_above_the_rank_one_floor():
    res = mtd.experiments.approximation_experiment(
        L=3, M=2, r=2, sizes=(2, 4), restarts=1, max_iter=4, seed=3
    )
    floors = res.settings["rank_one_floor"]
    for model in ("T", "T_bar"):
        for s in ("2", "4"):
            assert min(res.errors[model][s]) >= floors[model] - 1e-9
    assert set(res.errors) == {"T", "T_bar", "T + T_bar", "mixed"}
    assert "r_prime" in res.table()


def test_rank_one_floor_matches_an_explicit_rank_one_fit():
    """The floor is the best rank-one error across the root split (Eckart-Young)."""
    T = mtd.ModeTree.baseline(2)
    A = np.random.default_rng(0).normal(size=(2,) * 4)
    left = sorted(T.children(T.root)[0])
    Am = mtd.matricize(A, left)
    u, s, vt = np.linalg.svd(Am)
    best = np.linalg.norm(Am - s[0] * np.outer(u[:, 0], vt[0])) / np.linalg.norm(A)
    assert _rank_one_floor(A, T) == pytest.approx(best, rel=1e-12)


def test_table_has_one_row_per_model_and_size_with_its_spread():
    res = mtd.experiments.approximation_experiment(
        L=3, M=2, r=4, sizes=(2, 3), restarts=2, max_iter=2, seed=1
    )
    lines = res.table().splitlines()
    assert lines[0].split() == ["r_prime", "model", "best", "median", "worst", "reached"] + [
        "stops",
        "floor",
    ]
    rows = lines[1:8]
    expected = [(2, m) for m in mtd.experiments.MODELS] + [
        (3, m)
        for m in ("T", "T_bar", "T + T_bar")  # no mixed model at an odd size
    ]
    assert [(int(row[:7]), row[8:18].strip()) for row in rows] == expected
    for row, (size, model) in zip(rows, expected, strict=True):
        vals = res.errors[model][str(size)]
        assert len(vals) == 2 and len(res.runs[model][str(size)]) == 2
        assert f"{min(vals):.3e}" in row and f"{max(vals):.3e}" in row
        assert f"{sum(v <= 1e-10 for v in vals)}/2" in row
    assert "Corollary 8 threshold for one network: 3 channels" in lines[8]
    for per in res.runs.values():
        for runs in per.values():
            for run in runs:
                assert run["stop"] in ("tol", "stall", "budget")
                assert run["als"] + run["lm"] <= 2


def test_starts_are_reproducible_from_their_seeds_whatever_the_workers():
    kw = {"L": 3, "M": 2, "r": 4, "sizes": (2,), "restarts": 2, "max_iter": 2, "seed": 4}
    a = mtd.experiments.approximation_experiment(**kw)
    b = mtd.experiments.approximation_experiment(**kw, workers=2)
    seeds = [run["seed"] for per in a.runs.values() for runs in per.values() for run in runs]
    assert len(set(seeds)) == len(seeds) == 8  # every start its own seed
    for model, per in a.errors.items():
        assert b.errors[model]["2"] == pytest.approx(per["2"], rel=1e-6)
        assert [x["seed"] for x in b.runs[model]["2"]] == [x["seed"] for x in a.runs[model]["2"]]
    # a start is its recorded seed: rebuilding it from the seed gives the same fit
    run = a.runs["T + T_bar"]["2"][1]
    t = _target(3, 2, 4, 2, 4)
    A = t.to_tensor()
    model = build_model(
        "T + T_bar", 3, t.mixture_nodes, t.discretizers, 2, run["seed"], float(np.linalg.norm(A))
    )
    out = run_start(model, A, Schedule(max_iter=2, method="auto", lm_max_params=1000))
    assert out["error"] == pytest.approx(run["error"], rel=1e-9)
    c = mtd.experiments.approximation_experiment(**{**kw, "seed": 5})
    assert c.errors["T"]["2"] != a.errors["T"]["2"]


def test_rank_floor_is_the_eckart_young_error_of_an_explicit_truncation():
    A = np.random.default_rng(2).normal(size=(2,) * 8)
    I = [0, 2, 4, 5]
    Am = mtd.matricize(A, I)
    u, s, vt = np.linalg.svd(Am)
    for rank in (1, 3, 7):
        best = (u[:, :rank] * s[:rank]) @ vt[:rank]
        assert _rank_floor(A, I, rank) == pytest.approx(
            np.linalg.norm(Am - best) / np.linalg.norm(A), rel=1e-10
        )


def test_floors_at_n16_follow_theorem_7_and_bound_every_fit():
    """At r' = 2 a tree has rank at most 2^6 on the separating set (Theorem 7, bounds meet),
    the sum at most 2 * 2^6 < 2^8: the floor is the Eckart-Young error at that rank."""
    res = mtd.experiments.approximation_experiment(sizes=(2,), restarts=1, max_iter=1, seed=0)
    st = res.settings
    I = st["I"]
    assert I == [0, 2, 4, 6, 8, 9, 12, 13]
    A = _target(4, 2, 4, 2, 0).to_tensor()
    T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
    up_T, up_Tb = mtd.theorem7_bounds(T, I, 2)[1], mtd.theorem7_bounds(Tb, I, 2)[1]
    assert (up_T, up_Tb) == (64, 64)
    sv = np.linalg.svd(mtd.matricize(A, I), compute_uv=False)
    assert sv[128] > 1e-6 * sv[0]  # the target's rank on I exceeds what the sum can reach

    def tail(k):
        return float(np.sqrt(np.sum(sv[k:] ** 2) / np.sum(sv**2)))

    assert st["floor"]["T + T_bar"]["2"] == pytest.approx(tail(up_T + up_Tb), rel=1e-9)
    assert st["floor"]["T + T_bar"]["2"] > 0
    for name, tree, up in (("T", T, up_T), ("T_bar", Tb, up_Tb)):
        left = sorted(tree.children(tree.root)[0])
        root = np.linalg.svd(mtd.matricize(A, left), compute_uv=False)
        root_floor = float(np.sqrt(np.sum(root[1:] ** 2) / np.sum(root**2)))
        assert st["floor"][name]["2"] == pytest.approx(max(root_floor, tail(up)), rel=1e-9)
    for model, per in res.errors.items():
        assert min(per["2"]) >= st["floor"][model]["2"] * (1 - 1e-9)


def test_the_targets_own_architecture_reaches_it_from_near_the_planted_weights():
    """Pipeline sanity: the experiment's target, its discretizers and a start's schedule fit
    together (from a start 1e-6 off the planted weights Levenberg-Marquardt converges)."""
    t = _target(3, 2, 4, 2, 0)
    A = t.to_tensor()
    probe = build_model("mixed", 3, t.mixture_nodes, t.discretizers, 4, 0, 1.0)
    assert set(probe.mixture_nodes) == set(t.mixture_nodes)
    rng = np.random.default_rng(5)

    def jiggle(weights):
        return {
            n: [w * (1 + 1e-6 * rng.normal(size=w.shape)) for w in ws] for n, ws in weights.items()
        }

    start = mtd.MixedDecomposition(
        t.T,
        t.T_bar,
        list(t.mixture_nodes),
        t.discretizers,
        jiggle(t.weights),
        jiggle(t.weights_bar),
    )
    out = run_start(
        start, A, Schedule(max_iter=12, method="auto", lm_max_params=10_000, chunk=11, first=1)
    )
    assert out["error"] <= 1e-10 and out["stop"] == "tol"
    assert out["lm"] >= 1


def test_bad_options_are_refused_by_name():
    with pytest.raises(mtd.MTDError, match="method"):
        mtd.experiments.approximation_experiment(L=3, method="lm")
    with pytest.raises(ValueError, match="workers"):
        mtd.experiments.approximation_experiment(L=3, workers=0)


def test_cli_approximation_json(tmp_path, capsys):
    code = main(
        [
            "experiment",
            "approximation",
            "--quick",
            "--sizes",
            "2",
            "--max-iter",
            "1",
            "--restarts",
            "1",
            "--json",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["best"]) == {"T", "T_bar", "T + T_bar", "mixed"}
    assert data["settings"]["N"] == 8
    assert (tmp_path / "approximation.json").exists()
    if data["plot"] is not None:
        assert (tmp_path / "approximation.png").stat().st_size > 0


def test_cli_bad_sizes_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["experiment", "approximation", "--sizes", "2,x"])
    assert info.value.code == 2


def test_cli_interconnect_json(tmp_path, capsys):
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    pytest.importorskip("sklearn")
    code = main(
        [
            "experiment",
            "interconnect",
            "--dataset",
            "digits",
            "--seeds",
            "2",
            "--epochs",
            "1",
            "--hidden",
            "2",
            "--json",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    models = data["models"]
    assert set(models) == {"baseline alone", "swapped alone", "k=0", "k=2", "k=4"}
    pairs = {models[k]["n_parameters"] for k in ("k=0", "k=2", "k=4")}
    assert len(pairs) == 1
    assert models["baseline alone"]["n_parameters"] * 2 == pairs.pop()
    for m in models.values():
        assert len(m["test"]) == 2
        assert m["test_mean"] == pytest.approx(np.mean(m["test"]))
    assert data["settings"]["mix_layers"] == {"k=0": [], "k=2": [4], "k=4": [4, 2]}


def test_cli_dilations_trains_each_order_with_equal_parameters(tmp_path, capsys):
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    pytest.importorskip("sklearn")
    orders = ["1,2,4,8,16,32", "8,1,16,4,2,32"]
    code = main(
        ["experiment", "dilations", "--orders", *orders, "--seeds", "2", "--epochs", "1"]
        + ["--hidden", "2", "--json", "--out", str(tmp_path)]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["models"]) == orders
    assert data["settings"]["orders"] == [[1, 2, 4, 8, 16, 32], [8, 1, 16, 4, 2, 32]]
    assert len({m["n_parameters"] for m in data["models"].values()}) == 1
    assert (tmp_path / "dilations.json").exists()


def test_cli_dilations_refuses_an_order_that_is_not_a_permutation(capsys):
    pytest.importorskip("sklearn")
    code = main(["experiment", "dilations", "--orders", "1,2,4,8", "--seeds", "1"])
    assert code != 0
    err = capsys.readouterr().err
    assert "permutation of 1, 2, ..., 32" in err and "1,2,4,8" in err
    assert "Traceback" not in err


def test_cli_interconnect_japanese_vowels(tmp_path, capsys):
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    pytest.importorskip("sktime")
    code = main(
        ["experiment", "interconnect", "--dataset", "japanese_vowels", "--seeds", "1"]
        + ["--epochs", "1", "--hidden", "2", "--json", "--out", str(tmp_path)]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    st = data["settings"]
    assert (st["T"], st["L"], st["n_train"], st["n_test"]) == (32, 5, 270, 370)
    assert st["channels"] == [49, 2, 2, 2, 2, 9]
    # the shared hidden layers of (1, 2, 4, 8, 16) and (2, 1, 8, 4, 16) are 2 and 4
    assert st["mix_layers"] == {"k=0": [], "k=2": [4], "k=4": [4, 2]}
