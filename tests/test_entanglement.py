"""Entanglement of data against the materialized data tensor, and the order it selects."""

import math

import numpy as np
import pytest

import mtd
from mtd import entanglement as ent


def _direct_qe(X, I, y=None):
    # independent path: build the D^N data tensor, matricize it, take its SVD
    E = ent.embed_features(X)
    m, N, D = E.shape
    w = np.ones(m) if y is None else np.asarray(y, float)
    T = np.zeros((D,) * N)
    for a in range(m):
        t = np.array(w[a] / m)
        for n in range(N):
            t = np.multiply.outer(t, E[a, n])
        T += t
    s = np.linalg.svd(mtd.matricize(T, I), compute_uv=False)
    p = s**2 / (s**2).sum()
    p = p[p > 1e-15]
    return float(-(p * np.log(p)).sum())


@pytest.mark.parametrize("I", [(0,), (0, 2), (1, 2, 4), (0, 5)])
def test_matches_the_materialized_tensor(I):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 6, 3))
    y = rng.choice([-1.0, 1.0], 30)
    assert ent.entanglement(X, I, y=y) == pytest.approx(_direct_qe(X, I, y), abs=1e-9)
    Xs = rng.standard_normal((25, 6))
    assert ent.entanglement(Xs, I) == pytest.approx(_direct_qe(Xs, I), abs=1e-9)


def test_known_values():
    # independent features: the data tensor is a product of the marginal moments: QE = 0
    X = np.array([[a, b] for a in (-1.0, 1.0) for b in (-1.0, 1.0)])
    assert ent.entanglement(X, [0]) == pytest.approx(0.0, abs=1e-12)
    # k equal fair coins split 1 | k-1: two equal singular values, ln 2
    X = np.array([[1.0] * 4, [-1.0] * 4])
    assert ent.entanglement(X, [0, 1]) == pytest.approx(math.log(2))
    assert ent.entanglement(X, [0, 1], base=2) == pytest.approx(1.0)
    with pytest.raises(mtd.InvalidArgumentError, match="shape"):
        ent.entanglement(np.zeros(3), [0])
    with pytest.raises(mtd.InvalidArgumentError, match="one value per example"):
        ent.entanglement(X, [0], y=[1, 2, 3])


def test_planted_pairs_pick_the_pairing_layer():
    # features n and n + 2 coupled (N = 8): the first layer must pair them (dilation 2),
    # which gives high rank exactly on the partitions that split such pairs
    X = ent.planted_pairs_data(8, shift=2, m=300, seed=1)
    res = ent.data_driven_dilations(X, r=2, seed=0, n_random=48, top=2)
    assert res.best.description["dilations"][0] == 2
    assert res.best.score > 0.5
    sets = res.extra["entanglement"]["index_sets"]
    assert len(sets) == len(res.extra["entanglement"]["values"]) == len(res.index_sets)


def test_digits_sequences_shape_and_scale():
    pytest.importorskip("sklearn")
    X, y = ent.digits_sequences(side=4, m=50, seed=0)
    assert X.shape == (50, 16) and y.shape == (50,)
    assert X.min() >= -1.0 and X.max() <= 1.0
    # pooling 2x2 blocks of values 0..16 and scaling to [-1, 1]: a blank block maps to -1
    assert (X == -1.0).any()
    with pytest.raises(mtd.InvalidArgumentError, match="divide 8"):
        ent.digits_sequences(side=3)
