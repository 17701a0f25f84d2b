"""JAX forward passes against mtd's own, weight round trips, and training (extra ``learn``)."""

import numpy as np
import pytest

import mtd

jax = pytest.importorskip("jax")
pytest.importorskip("optax")

from mtd import training  # noqa: E402
from mtd.networks import DilatedConvNet, InterconnectedDilatedNets  # noqa: E402


def _nets(g):
    rng = np.random.default_rng(0)
    a = DilatedConvNet([1, 2, 4, 8], (3, 4, 4, 4, 2), g=g, seed=rng)
    b = DilatedConvNet(mtd.ModeTree.swapped_dilations(4, 2), (3, 4, 4, 4, 2), g=g, seed=rng)
    return {
        "alone": a,
        "pair-k0": InterconnectedDilatedNets(a, b, []),
        "pair-mix": InterconnectedDilatedNets(a, b, [2]),
    }


@pytest.mark.parametrize("g", ["product", "relu", "max", "relu_sum"])
@pytest.mark.parametrize("which", ["alone", "pair-k0", "pair-mix"])
def test_jax_forward_equals_forward(g, which):
    net = _nets(g)[which]
    x = np.random.default_rng(1).normal(size=(5, 20, 3))
    np.testing.assert_allclose(training.jax_forward(net, x), net.forward(x), rtol=1e-12, atol=1e-12)


def test_enable_x64_does_not_leak():
    before = jax.config.jax_enable_x64
    training.jax_forward(_nets("relu")["alone"], np.zeros((1, 16, 3)))
    assert jax.config.jax_enable_x64 == before


def test_weights_round_trip():
    net = _nets("relu")["pair-mix"]
    params = training.network_params(net)
    back = training.to_network(net, params)
    x = np.random.default_rng(2).normal(size=(3, 17, 3))
    assert np.array_equal(back.forward(x), net.forward(x))
    again = training.network_params(back)
    for p, q in zip(
        jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(again), strict=True
    ):
        assert np.array_equal(p, q)


def test_training_fits_a_separable_task_and_returns_a_network():
    rng = np.random.default_rng(3)
    net = DilatedConvNet([1, 2], (2, 4, 2), g="relu", seed=4)
    x = rng.normal(size=(200, 4, 2))
    y = (x[:, -1, 0] + x[:, -2, 1] > 0).astype(int)
    res = training.train(net, x, y, epochs=30, batch_size=32, learning_rate=1e-2, seed=0)
    assert res.history[-1]["loss"] < 0.7 * res.history[0]["loss"]
    # the returned mtd network computes the trained model: its accuracy matches the history
    pred = res.network.forward(x)[:, -1].argmax(axis=1)
    assert (pred == y).mean() == pytest.approx(res.final["train_accuracy"], abs=1e-12)


def test_bad_labels_and_untied_networks():
    net = DilatedConvNet([1, 2], (2, 4, 2), g="relu", seed=4)
    with pytest.raises(mtd.InvalidArgumentError, match="labels"):
        training.train(net, np.zeros((3, 4, 2)), np.array([0, 1, 2]))
    untied = DilatedConvNet([1, 2], (2, 4, 2), tied=False, seed=0)
    with pytest.raises(mtd.InvalidArgumentError, match="stationary"):
        training.network_params(untied)


def test_digits_sequences_encode_the_images():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    x, y = mtd.datasets.digits_sequences(levels=4)
    img = load_digits().images
    # raster order: time t is pixel (t // 8, t % 8); the hot channel is the quantized level
    assert np.array_equal(x[5].argmax(axis=1), np.minimum(img[5].ravel() * 4 // 17, 3))
    assert np.array_equal(y, load_digits().target)
