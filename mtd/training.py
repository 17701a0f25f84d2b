"""Training dilated, interconnected and pooling networks with JAX (the optional extra ``learn``).

A *stationary* :class:`~mtd.networks.DilatedConvNet` (one weight pair per layer), an
:class:`~mtd.networks.InterconnectedDilatedNets` pair of them, or a
:class:`~mtd.networks.PoolingConvAC` (shared or per-node weights) is converted to a
pytree of arrays (:func:`network_params`); :func:`jax_forward` is the same computation
as the network's own ``forward`` written in ``jax.numpy`` — a dilated layer ``l`` maps
``h`` to ``g(h[:, :-d_l] W_lᴵᵀ, h[:, d_l:] W_lᴵᴵᵀ)`` and an interconnected pair
exchanges the first half of the channels of both networks after every mixing layer,
then adds the two outputs; a pooling network folds ``g`` over every window and applies
each level's 1×1 convolution — and :func:`to_network` turns trained arrays back into an
mtd network.

:func:`train` fits a classifier on labelled data: a dilated network's outputs at the
last time step (computed from only the units they depend on) or a pooling network's
outputs are the logits of a softmax cross-entropy loss, optimized by Adam with decoupled
weight decay (optax ``adamw``), in mini-batches.  Everything runs in float64 inside
``jax.enable_x64`` (the global setting is left as it was).  The training step is
compiled once per architecture and reused across seeds.

JAX, optax and tqdm are imported only inside these functions; without them a
:class:`~mtd.MTDError` says which extra to install.
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._jax_forward import (
    dilated_forward,
    dilated_last_forward,
    pooling_forward,
    pooling_structure,
)
from ._typing import Seed
from ._validation import check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError, MissingDependencyError
from .networks import DilatedConvNet, InterconnectedDilatedNets, PoolingConvAC

__all__ = [
    "MissingExtraError",
    "TrainResult",
    "jax_forward",
    "network_params",
    "to_network",
    "train",
]


MissingExtraError = MissingDependencyError
"""The error for a missing package of the ``learn`` extra (:class:`mtd.MissingDependencyError`)."""


def _jax() -> Any:
    try:
        import jax
        import optax  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            f'training needs JAX and optax: pip install "mtd[learn]" ({exc})'
        ) from exc
    return jax


Net = DilatedConvNet | InterconnectedDilatedNets | PoolingConvAC


def _nets(net: Any) -> tuple[list[DilatedConvNet], tuple[int, ...]]:
    if isinstance(net, InterconnectedDilatedNets):
        nets, mix = [net.net_a, net.net_b], net.mix_layers
    elif isinstance(net, DilatedConvNet):
        nets, mix = [net], ()
    else:
        raise InvalidArgumentTypeError(
            "net must be a DilatedConvNet, InterconnectedDilatedNets or PoolingConvAC; got "
            f"{type(net).__name__}"
        )
    for n in nets:
        if not n.tied:
            raise InvalidArgumentError(
                "only stationary dilated networks (tied=True: one weight pair per layer) can "
                "be trained"
            )
    return nets, tuple(mix)


def _pooling_levels(net: PoolingConvAC) -> list[tuple[frozenset[int], ...]]:
    by_depth = net.tree.nodes_by_depth()
    return [tuple(by_depth[net.depth - h]) for h in range(net.depth + 1)]


def network_params(net: Net) -> Any:
    """The weights as a pytree of float64 arrays.

    Dilated networks: per network, per layer, the pair ``(W_lᴵ, W_lᴵᴵ)``.  A pooling
    network: per level ``h = 0..L`` (``A_0``, …, the output layer) its matrix when it
    shares weights, else the stack of its nodes' matrices ``(n_nodes, r_out, r_in)`` in
    the level's node order.

    Examples
    --------
    >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 4, 3), seed=0)
    >>> [[a.shape for a in pair] for pair in mtd.training.network_params(net)[0]]
    [[(4, 2), (4, 2)], [(3, 4), (3, 4)]]
    >>> pool = mtd.networks.PoolingConvAC(mtd.ModeTree.balanced(4), (3, 2), M=2, tied=False)
    >>> [w.shape for w in mtd.training.network_params(pool)]
    [(4, 3, 2), (2, 2, 3), (1, 1, 2)]
    """
    if isinstance(net, PoolingConvAC):
        if net.tied:
            return [np.array(net.node_weights[lv[0]], dtype=float) for lv in _pooling_levels(net)]
        return [
            np.stack([np.array(net.node_weights[n], dtype=float) for n in lv])
            for lv in _pooling_levels(net)
        ]
    nets, _ = _nets(net)
    return [
        [(np.array(a, dtype=float), np.array(b, dtype=float)) for a, b in n.layer_weights]
        for n in nets
    ]


def to_network(net: Net, params: Any) -> Net:
    """A network of ``net``'s architecture with the weights ``params`` (a round trip).

    Examples
    --------
    >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 4, 3), seed=0)
    >>> back = mtd.training.to_network(net, mtd.training.network_params(net))
    >>> x = np.random.default_rng(0).normal(size=(6, 2))
    >>> bool(np.array_equal(back.forward(x), net.forward(x)))
    True
    """
    if isinstance(net, PoolingConvAC):
        mats = [np.asarray(w, dtype=float) for w in params]
        weights: Any = (
            mats
            if net.tied
            else {
                n: mats[h][j] for h, lv in enumerate(_pooling_levels(net)) for j, n in enumerate(lv)
            }
        )
        return PoolingConvAC(
            net.tree,
            net.channels,
            M=net.M,
            n_outputs=net.n_outputs,
            representation=net.representation,
            g=net.g,
            weights=weights,
            tied=net.tied,
        )
    nets, mix = _nets(net)
    new = [
        DilatedConvNet(
            n.dilations,
            n.channels,
            g=n.g,
            weights=[(np.asarray(a, dtype=float), np.asarray(b, dtype=float)) for a, b in p],
        )
        for n, p in zip(nets, params, strict=True)
    ]
    if isinstance(net, InterconnectedDilatedNets):
        return InterconnectedDilatedNets(new[0], new[1], mix)
    return new[0]


def _structure(net: Net) -> tuple[Any, ...]:
    """Hashable shape of the computation (weights excluded): the key of compiled code."""
    if isinstance(net, PoolingConvAC):
        return pooling_structure(net)
    nets, mix = _nets(net)
    return tuple(n.dilations for n in nets), mix, nets[0].g, nets[0].channels[0]


def _full_forward(structure: Any) -> Any:
    if structure[0] == "pooling":
        return functools.partial(pooling_forward, structure)
    return functools.partial(dilated_forward, structure)


def _logits_fn(structure: Any) -> Any:
    """Params, batch -> logits: a pooling network's outputs, a dilated one's last step."""
    if structure[0] == "pooling":
        return functools.partial(pooling_forward, structure)
    return functools.partial(dilated_last_forward, structure)


def jax_forward(net: Net, x: Any, params: Any = None, *, last: bool = False) -> np.ndarray:
    """The network's ``forward`` computed with JAX in float64 (for checks and training).

    Parameters
    ----------
    net : DilatedConvNet, InterconnectedDilatedNets or PoolingConvAC
        Dilated networks must be stationary (tied).
    x : array_like
        Dilated: ``(batch, T, r_0)``; pooling: ``(batch, N, M)`` representation values.
    params : optional
        Weights as from :func:`network_params` (default: the network's own).
    last : bool, default False
        Dilated networks: only the output at the last time step, computed from just the
        units it depends on (what :func:`train` uses as logits).

    Returns
    -------
    ndarray
        Dilated: ``(batch, T - N + 1, r_L)`` (``(batch, r_L)`` with ``last``); pooling:
        ``(batch, n_outputs)``.

    Examples
    --------
    >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 4, 3), g="relu", seed=0)
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 2))
    >>> bool(np.allclose(mtd.training.jax_forward(net, x), net.forward(x), rtol=1e-12))
    True
    >>> pool = mtd.networks.PoolingConvAC(mtd.ModeTree.balanced(4), (3, 2), M=2, seed=0)
    >>> z = np.random.default_rng(0).normal(size=(2, 4, 2))
    >>> bool(np.allclose(mtd.training.jax_forward(pool, z), pool.forward(z), rtol=1e-12))
    True
    """
    jax = _jax()
    structure = _structure(net)
    p = network_params(net) if params is None else params
    fn = _logits_fn(structure) if last else _full_forward(structure)
    with jax.enable_x64(new_val=True):
        import jax.numpy as jnp

        out = fn(
            jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jnp.float64), p),
            jnp.asarray(np.asarray(x, dtype=float)),
        )
        return np.asarray(out)


@dataclass
class TrainResult:
    """The outcome of :func:`train`: the trained network and per-epoch history."""

    network: Any
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's record (``loss``, ``train_accuracy``, ``test_accuracy`` if given)."""
        return self.history[-1]


def _progress(total: int, *, progress: bool | None) -> Any:
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:  # pragma: no cover
        raise MissingExtraError(
            f'a progress bar needs tqdm: pip install "mtd[learn]" ({exc})'
        ) from exc
    return tqdm(total=total, unit="epoch", leave=False)


@dataclass
class _Compiled:
    """One architecture's optimizer, jitted step and prediction, and a trace counter."""

    opt: Any
    step: Any
    predict: Any
    traces: dict[str, int]


@functools.lru_cache(maxsize=32)
def _compiled(structure: Any, learning_rate: float, weight_decay: float) -> _Compiled:
    """Compiled once per architecture and optimizer setting; params and batch are arguments.

    ``jax.jit`` caches the traced step by argument shapes, so every seed of the same
    architecture (same shapes, different weights and batches) reuses one compilation;
    ``traces`` counts how often the step and the prediction were traced (the tests check
    that each stays at one).
    """
    import jax
    import jax.numpy as jnp
    import optax

    logits = _logits_fn(structure)
    opt = optax.adamw(learning_rate, weight_decay=weight_decay)
    traces = {"step": 0, "predict": 0}

    def loss_fn(p: Any, xb: Any, yb: Any) -> Any:
        traces["step"] += 1  # runs only while tracing
        return optax.softmax_cross_entropy_with_integer_labels(logits(p, xb), yb).mean()

    @jax.jit
    def step(p: Any, s: Any, xb: Any, yb: Any) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(p, xb, yb)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    @jax.jit
    def predict(p: Any, xb: Any) -> Any:
        traces["predict"] += 1
        return jnp.argmax(logits(p, xb), axis=-1)

    return _Compiled(opt, step, predict, traces)


def _predict_all(predict: Any, params: Any, X: Any, bs: int) -> np.ndarray:
    """Predicted classes in chunks of ``bs`` rows, the last one padded.

    One compiled shape serves the training and the test set alike.
    """
    import jax.numpy as jnp

    n = X.shape[0]
    pad = -n % bs
    if pad:
        X = jnp.concatenate([X, jnp.zeros((pad, *X.shape[1:]), dtype=X.dtype)])
    out = [np.asarray(predict(params, X[i : i + bs])) for i in range(0, n + pad, bs)]
    return np.concatenate(out)[:n]


def _n_outputs(net: Net) -> int:
    if isinstance(net, PoolingConvAC):
        return net.n_outputs
    return _nets(net)[0][0].channels[-1]


def _check_x(net: Net, x: Any, name: str) -> np.ndarray:
    """``x`` as float64, checked against the network's input shape."""
    X = np.asarray(x, dtype=float)
    if isinstance(net, PoolingConvAC):
        if X.ndim != 3 or X.shape[1:] != (net.n_inputs, net.M):
            raise InvalidArgumentError(
                f"{name} must have shape (n, N, M) = (n, {net.n_inputs}, {net.M}) (representation"
                f" values of the N inputs); got {X.shape}"
            )
        return X
    first = _nets(net)[0][0]
    r0, field = first.channels[0], first.receptive_field
    if X.ndim != 3 or X.shape[-1] != r0 or X.shape[1] < field:
        raise InvalidArgumentError(
            f"{name} must have shape (n, T, r_0) with r_0 = {r0} and T >= {field} (the "
            f"receptive field); got {X.shape}"
        )
    return X


def train(
    net: Net,
    x: Any,
    y: Any,
    *,
    epochs: int = 20,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-5,
    x_test: Any = None,
    y_test: Any = None,
    seed: Seed = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train a classifier on the network's outputs (softmax cross-entropy).

    The logits are a dilated network's outputs at the last time step, or a pooling
    network's outputs.  One compiled step serves every call with the same architecture,
    optimizer setting and shapes (params and batch are its arguments), so several seeds
    compile once.

    Parameters
    ----------
    net : DilatedConvNet, InterconnectedDilatedNets or PoolingConvAC
        Dilated networks must be stationary; the number of outputs (``r_L`` or
        ``n_outputs``) must be at least the number of classes.  Its weights are the
        start.
    x : array_like
        Dilated: ``(n, T, r_0)`` sequences (``T >= N``); pooling: ``(n, N, M)``
        representation values.
    y : (n,) int array_like
        Class labels ``0 .. n_outputs - 1``.
    epochs, batch_size, learning_rate, weight_decay
        Adam with decoupled weight decay (optax ``adamw``), shuffled mini-batches.
    x_test, y_test : optional
        Evaluated after every epoch (``test_accuracy`` in the history).
    seed : None, int or numpy.random.Generator
        Shuffling.
    progress : bool, optional
        A tqdm bar; default: only when stderr is a terminal.

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 4, 2), g="relu", seed=0)
    >>> x = np.random.default_rng(0).normal(size=(40, 4, 2))
    >>> y = (x[:, -1, 0] > 0).astype(int)
    >>> res = mtd.training.train(net, x, y, epochs=3, batch_size=8, seed=0)
    >>> len(res.history), sorted(res.final)
    (3, ['loss', 'train_accuracy'])
    """
    jax = _jax()
    epochs = check_int(epochs, "epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    structure = _structure(net)
    X = _check_x(net, x, "x")
    Y = np.asarray(y)
    n_out = _n_outputs(net)
    if Y.shape != (X.shape[0],) or Y.dtype.kind not in "iu" or Y.min() < 0 or Y.max() >= n_out:
        raise InvalidArgumentError(
            f"y must hold {X.shape[0]} integer labels in 0..{n_out - 1} (the network has "
            f"{n_out} outputs); got shape {Y.shape}, dtype {Y.dtype}"
        )
    if (x_test is None) != (y_test is None):
        raise InvalidArgumentError("x_test and y_test must be given together")
    if x_test is not None:
        X_test = _check_x(net, x_test, "x_test")
        Y_test = np.asarray(y_test)
        if Y_test.shape != (X_test.shape[0],):
            raise InvalidArgumentError(
                f"y_test must hold {X_test.shape[0]} labels (one per row of x_test); got shape "
                f"{Y_test.shape}"
            )
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    history: list[dict[str, float]] = []
    with jax.enable_x64(new_val=True):
        import jax.numpy as jnp

        comp = _compiled(structure, float(learning_rate), float(weight_decay))
        opt, step, predict = comp.opt, comp.step, comp.predict
        params = jax.tree_util.tree_map(jnp.asarray, network_params(net))
        state = opt.init(params)
        # Full batches only (one compiled shape); the remainder of a shuffle is left out of
        # that epoch, a different part every epoch.
        bs = min(batch_size, len(X))
        n_batches = len(X) // bs
        Xj = jnp.asarray(X)
        Xt = None if x_test is None else jnp.asarray(X_test)
        bar = _progress(epochs, progress=progress)
        for _ in range(epochs):
            order = rng.permutation(len(X))
            total = 0.0
            for i in range(n_batches):
                idx = order[i * bs : (i + 1) * bs]
                params, state, loss = step(params, state, Xj[idx], jnp.asarray(Y[idx]))
                total += float(loss)
            rec = {
                "loss": total / n_batches,
                "train_accuracy": float((_predict_all(predict, params, Xj, bs) == Y).mean()),
            }
            if Xt is not None:
                rec["test_accuracy"] = float(
                    (_predict_all(predict, params, Xt, bs) == Y_test).mean()
                )
            history.append(rec)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{rec['loss']:.3f}")
        if bar is not None:
            bar.close()
        trained = jax.tree_util.tree_map(lambda a: np.asarray(a), params)
    return TrainResult(
        network=to_network(net, trained), history=history, seconds=time.perf_counter() - start
    )
