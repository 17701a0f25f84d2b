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


# ------------------------------------------------------------- last-step logits
@pytest.mark.parametrize("g", ["product", "relu"])
@pytest.mark.parametrize("which", ["alone", "pair-k0", "pair-mix"])
def test_last_step_forward_equals_forward_last_column(g, which):
    # the pruned pass evaluates only the units the last output depends on; mtd's full
    # forward evaluates every time step, so agreement checks the dependency sets
    net = _nets(g)[which]
    x = np.random.default_rng(4).normal(size=(4, 19, 3))
    np.testing.assert_allclose(
        training.jax_forward(net, x, last=True), net.forward(x)[:, -1], rtol=1e-12, atol=1e-12
    )


def test_needed_units_of_a_binary_tree_halve_per_layer():
    from mtd._jax_forward import dilated_needed

    # T = N = 16 with dilations 1, 2, 4, 8: the last output reads a full binary tree whose
    # units at layer l are the positions of the receptive field's blocks of 2^l inputs
    orders = dilated_needed(((1, 2, 4, 8),), 16)[0]
    assert [len(s) for s in orders] == [16, 8, 4, 2, 1]
    assert sorted(orders[0]) == list(range(16))
    assert sorted(orders[1]) == list(range(0, 16, 2))  # layer 1 pairs (t, t + 1), t even
    # a gap shorter than the receptive field: the tree ends at the last valid output
    assert dilated_needed(((2, 1),), 6)[0][2] == (2,)


# ------------------------------------------------------------- pooling networks
def _pools(g):
    trees = {
        "balanced": mtd.ModeTree.balanced(8),
        "ternary": mtd.ModeTree.balanced(9, arity=3),
        "interleaved": mtd.networks.pooling_tree(8, geometry="interleaved"),
        "star": mtd.ModeTree.star(5),
    }
    out = {}
    for name, tree in trees.items():
        chans = (3,) * tree.depth(tree.leaves[0])
        for tied in (True, False):
            out[f"{name}-{'tied' if tied else 'untied'}"] = mtd.networks.PoolingConvAC(
                tree, chans, M=2, n_outputs=4, g=g, tied=tied, seed=len(out)
            )
    return out


@pytest.mark.parametrize("g", ["product", "relu", "max", "relu_sum"])
def test_pooling_jax_forward_equals_forward(g):
    for name, net in _pools(g).items():
        x = np.random.default_rng(5).normal(size=(6, net.n_inputs, 2))
        np.testing.assert_allclose(
            training.jax_forward(net, x), net.forward(x), rtol=1e-12, atol=1e-12, err_msg=name
        )


def test_pooling_weights_round_trip():
    for name, net in _pools("relu").items():
        params = training.network_params(net)
        back = training.to_network(net, params)
        assert back.tied == net.tied and back.tree == net.tree, name
        for node, w in net.node_weights.items():
            assert np.array_equal(back.node_weights[node], w), name
        again = training.network_params(back)
        for p, q in zip(params, again, strict=True):
            assert np.array_equal(p, q), name


def test_pooling_network_trains_and_comes_back():
    rng = np.random.default_rng(6)
    net = mtd.networks.PoolingConvAC(
        mtd.ModeTree.balanced(4), (4, 4), M=2, n_outputs=2, g="relu", seed=1
    )
    z = rng.normal(size=(200, 4))
    x = np.stack([np.ones_like(z), z], axis=2)  # representation (1, z_i)
    y = (z[:, 0] + z[:, 3] > 0).astype(int)  # needs inputs from both halves
    res = training.train(net, x, y, epochs=40, batch_size=32, learning_rate=1e-2, seed=0)
    assert res.history[-1]["loss"] < 0.8 * res.history[0]["loss"]
    assert isinstance(res.network, mtd.networks.PoolingConvAC)
    pred = res.network.forward(x).argmax(axis=1)
    assert (pred == y).mean() == pytest.approx(res.final["train_accuracy"], abs=1e-12)


def test_pooling_input_shape_is_checked():
    net = mtd.networks.PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=2, n_outputs=2)
    with pytest.raises(mtd.InvalidArgumentError, match=r"x must have shape \(n, N, M\)"):
        training.train(net, np.zeros((3, 5, 2)), np.array([0, 1, 0]))


# ------------------------------------------------------------- compile once
def test_seeds_and_fresh_networks_reuse_one_compiled_step():
    training._compiled.cache_clear()
    x = np.random.default_rng(7).normal(size=(64, 8, 3))
    y = (x[:, -1, 0] > 0).astype(int)
    for seed in range(3):
        net = DilatedConvNet([1, 2, 4], (3, 4, 4, 2), g="relu", seed=seed)
        training.train(net, x, y, epochs=2, batch_size=16, seed=seed, x_test=x[:10], y_test=y[:10])
    (comp,) = [training._compiled(training._structure(net), 1e-3, 1e-5)]
    # one trace of the step, and one of the prediction for the training and test sets
    assert comp.traces == {"step": 1, "predict": 1}
    assert training._compiled.cache_info().currsize == 1
