"""Training dilated and interconnected networks with JAX (the optional extra ``learn``).

A *stationary* :class:`~mtd.networks.DilatedConvNet` (one weight pair per layer) or an
:class:`~mtd.networks.InterconnectedDilatedNets` pair of them is converted to a pytree
of arrays (:func:`network_params`); :func:`jax_forward` is the same computation as the
network's own ``forward`` written in ``jax.numpy`` — layer ``l`` maps ``h`` to
``g(h[:, :-d_l] W_lᴵᵀ, h[:, d_l:] W_lᴵᴵᵀ)`` and an interconnected pair exchanges the
first half of the channels of both networks after every mixing layer, then adds the
two outputs — and :func:`to_network` turns trained arrays back into an mtd network.

:func:`train` fits a classifier on labelled sequences: the network's outputs at the
last time step are the logits of a softmax cross-entropy loss, optimized by Adam with
decoupled weight decay (optax ``adamw``), in mini-batches.  Everything runs in float64
inside ``jax.enable_x64`` (the global setting is left as it was).

JAX, optax and tqdm are imported only inside these functions; without them a
:class:`~mtd.MTDError` says which extra to install.  Pooling networks are not covered
yet.
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._typing import Seed
from ._validation import check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError, MissingDependencyError
from .networks import DilatedConvNet, InterconnectedDilatedNets

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


Net = DilatedConvNet | InterconnectedDilatedNets


def _nets(net: Any) -> tuple[list[DilatedConvNet], tuple[int, ...]]:
    if isinstance(net, InterconnectedDilatedNets):
        nets, mix = [net.net_a, net.net_b], net.mix_layers
    elif isinstance(net, DilatedConvNet):
        nets, mix = [net], ()
    else:
        raise InvalidArgumentTypeError(
            f"net must be a DilatedConvNet or InterconnectedDilatedNets; got {type(net).__name__}"
        )
    for n in nets:
        if not n.tied:
            raise InvalidArgumentError(
                "only stationary networks (tied=True: one weight pair per layer) can be trained"
            )
    return nets, tuple(mix)


def network_params(net: Net) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """The weights as a pytree: per network, per layer, the pair ``(W_lᴵ, W_lᴵᴵ)`` (float64).

    Examples
    --------
    >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 4, 3), seed=0)
    >>> [[a.shape for a in pair] for pair in mtd.training.network_params(net)[0]]
    [[(4, 2), (4, 2)], [(3, 4), (3, 4)]]
    """
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


def _g(jnp: Any, g: str, a: Any, b: Any) -> Any:
    if g == "product":
        return a * b
    if g == "relu":
        return jnp.maximum(a + b, 0.0)
    if g == "max":
        return jnp.maximum(jnp.maximum(a, b), 0.0)
    return jnp.maximum(a, 0.0) + jnp.maximum(b, 0.0)


def _structure(net: Net) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], str, int]:
    nets, mix = _nets(net)
    return tuple(n.dilations for n in nets), mix, nets[0].g, nets[0].channels[0]


def _forward_fn(structure: Any) -> Any:
    import jax.numpy as jnp

    dilations, mix, g, _ = structure

    def fwd(params: Any, x: Any) -> Any:
        hs = [x for _ in dilations]
        for l in range(len(dilations[0])):
            for i, dl in enumerate(dilations):
                d = dl[l]
                w1, w2 = params[i][l]
                hs[i] = _g(jnp, g, hs[i][:, :-d] @ w1.T, hs[i][:, d:] @ w2.T)
            if l + 1 in mix:
                half = hs[0].shape[-1] // 2
                a = jnp.concatenate([hs[1][..., :half], hs[0][..., half:]], axis=-1)
                b = jnp.concatenate([hs[0][..., :half], hs[1][..., half:]], axis=-1)
                hs = [a, b]
        out = hs[0]
        for h in hs[1:]:
            out = out + h
        return out

    return fwd


def jax_forward(net: Net, x: Any, params: Any = None) -> np.ndarray:
    """The network's ``forward`` computed with JAX in float64 (for checks and training).

    Parameters
    ----------
    net : DilatedConvNet or InterconnectedDilatedNets
        Stationary (tied) networks.
    x : (batch, T, r_0) array_like
    params : optional
        Weights as from :func:`network_params` (default: the network's own).

    Returns
    -------
    ndarray ``(batch, T - N + 1, r_L)``

    Examples
    --------
    >>> net = mtd.networks.DilatedConvNet([1, 2], (2, 4, 3), g="relu", seed=0)
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 2))
    >>> bool(np.allclose(mtd.training.jax_forward(net, x), net.forward(x), rtol=1e-12))
    True
    """
    jax = _jax()
    structure = _structure(net)
    p = network_params(net) if params is None else params
    with jax.enable_x64(new_val=True):
        import jax.numpy as jnp

        out = _forward_fn(structure)(
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


@functools.lru_cache(maxsize=32)
def _compiled(structure: Any, learning_rate: float, weight_decay: float) -> Any:
    """Optimizer, jitted training step and prediction for one architecture (cached)."""
    import jax
    import jax.numpy as jnp
    import optax

    fwd = _forward_fn(structure)
    opt = optax.adamw(learning_rate, weight_decay=weight_decay)

    def logits(p: Any, xb: Any) -> Any:
        return fwd(p, xb)[:, -1, :]

    def loss_fn(p: Any, xb: Any, yb: Any) -> Any:
        return optax.softmax_cross_entropy_with_integer_labels(logits(p, xb), yb).mean()

    @jax.jit
    def step(p: Any, s: Any, xb: Any, yb: Any) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(p, xb, yb)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    predict = jax.jit(lambda p, xb: jnp.argmax(logits(p, xb), axis=-1))
    return opt, step, predict


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
    """Train a classifier: logits = the network's outputs at the last time step.

    Parameters
    ----------
    net : DilatedConvNet or InterconnectedDilatedNets
        Stationary networks; ``r_L`` must be at least the number of classes.  Its
        weights are the start.
    x : (n, T, r_0) array_like
        Input sequences (``T >= N``).
    y : (n,) int array_like
        Class labels ``0 .. r_L - 1``.
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
    X = np.asarray(x, dtype=float)
    Y = np.asarray(y)
    r_L = _nets(net)[0][0].channels[-1]
    if X.ndim != 3 or X.shape[-1] != structure[3] or X.shape[1] < _nets(net)[0][0].receptive_field:
        raise InvalidArgumentError(
            f"x must have shape (n, T, {structure[3]}) with T >= {_nets(net)[0][0].receptive_field}"
            f"; got {X.shape}"
        )
    if Y.shape != (X.shape[0],) or Y.dtype.kind not in "iu" or Y.min() < 0 or Y.max() >= r_L:
        raise InvalidArgumentError(
            f"y must hold {X.shape[0]} integer labels in 0..{r_L - 1} (the network has r_L = "
            f"{r_L} outputs); got shape {Y.shape}, dtype {Y.dtype}"
        )
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    history: list[dict[str, float]] = []
    with jax.enable_x64(new_val=True):
        import jax.numpy as jnp

        opt, step, predict = _compiled(structure, float(learning_rate), float(weight_decay))
        params = jax.tree_util.tree_map(jnp.asarray, network_params(net))
        state = opt.init(params)
        # Full batches only (one compiled shape); the remainder of a shuffle is left out of
        # that epoch, a different part every epoch.
        bs = min(batch_size, len(X))
        n_batches = len(X) // bs
        Xj = jnp.asarray(X)
        Xt = None if x_test is None else jnp.asarray(np.asarray(x_test, dtype=float))
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
                "train_accuracy": float((np.asarray(predict(params, Xj)) == Y).mean()),
            }
            if Xt is not None and y_test is not None:
                rec["test_accuracy"] = float(
                    (np.asarray(predict(params, Xt)) == np.asarray(y_test)).mean()
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
