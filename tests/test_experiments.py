"""The approximation experiment and ``mtd experiment``."""

import json

import numpy as np
import pytest

import mtd
from mtd.cli import main
from mtd.experiments.approximation import _rank_one_floor


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
