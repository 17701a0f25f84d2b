"""The accuracy experiment (Fig. 7 protocol) on scikit-learn's digits as length-64 sequences.

Two stationary dilated networks with size-2 filters over ``N = 64 = 2^6`` inputs
(``L = 6`` layers): the baseline (dilations 1, 2, 4, …, 32) and its companion with each
pair of layers swapped (2, 1, 8, 4, 32, 16).  Interconnections are added at the shared
nodes of even depth from the top down: ``k = 2`` mixes after layer ``L − 2``, ``k = 4``
after layers ``L − 2`` and ``L − 4``; ``k = 0`` only sums the two outputs (a swap at the
root would change nothing, as the outputs are summed; depth 6 is the input).  The
interconnected pairs all have the same parameters (asserted); each network alone has
half.  Every model is trained with :func:`mtd.training.train` (Adam with weight decay,
softmax cross-entropy on the output at the last time step) from random weights, for
several seeds, on one fixed train/test split; the table reports train and test accuracy,
mean ± standard deviation over the seeds.  Whatever trend appears is reported as is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._validation import check_int
from ..errors import InvalidArgumentError

__all__ = ["InterconnectResult", "interconnect_experiment", "plot_interconnect"]


@dataclass
class InterconnectResult:
    """Per model: accuracies per seed, their mean and std, and the parameter count."""

    settings: dict[str, Any]
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)

    def table(self) -> str:
        """Model / parameters / train accuracy / test accuracy (mean ± std over seeds)."""
        lines = [f"{'model':<14} {'params':>7} {'train acc':>17} {'test acc':>17}"]
        for name, m in self.models.items():
            lines.append(
                f"{name:<14} {m['n_parameters']:>7} "
                f"{m['train_mean']:>8.4f} ± {m['train_std']:.4f} "
                f"{m['test_mean']:>8.4f} ± {m['test_std']:.4f}"
            )
        st = self.settings
        lines.append(
            f"digits as sequences: N = 64, L = 6, channels {st['channels']}, g = {st['g']}, "
            f"{st['epochs']} epochs, {len(st['seeds'])} seeds, train/test "
            f"{st['n_train']}/{st['n_test']}"
        )
        return "\n".join(lines)


def interconnect_experiment(
    *,
    hidden: int = 16,
    levels: int = 4,
    g: str = "relu",
    epochs: int = 30,
    seeds: int = 5,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-5,
    test_fraction: float = 0.25,
    progress: Callable[[str], None] | None = None,
) -> InterconnectResult:
    """Train the baseline, the swapped network and their interconnections for every even k.

    Parameters
    ----------
    hidden : int, default 16
        Channels of layers 1..5 (even); layer 6 has 10 (the classes).
    levels : int, default 4
        Quantized gray levels (the input channels, one-hot).
    g : str, default "relu"
    epochs, batch_size, learning_rate, weight_decay
        As in :func:`mtd.training.train`.
    seeds : int, default 5
        Seeds ``0..seeds-1`` (weights and shuffling); the split is fixed.
    test_fraction : float, default 0.25
    progress : callable, optional
        Called with a line of text after every training run.

    Returns
    -------
    InterconnectResult
    """
    from ..datasets import digits_sequences
    from ..networks import DilatedConvNet, InterconnectedDilatedNets
    from ..training import train
    from ..trees import ModeTree

    hidden = check_int(hidden, "hidden", minimum=2)
    if hidden % 2:
        raise InvalidArgumentError(
            f"hidden must be even (interconnections swap half the channels); got {hidden}"
        )
    seeds = check_int(seeds, "seeds", minimum=1)
    L = 6
    base = tuple(2**i for i in range(L))
    swapped = tuple(ModeTree.swapped_dilations(L, 2))
    channels = (levels, *([hidden] * (L - 1)), 10)
    x, y = digits_sequences(levels=levels)
    perm = np.random.default_rng(12345).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, tr = perm[:n_test], perm[n_test:]
    specs: dict[str, Any] = {"baseline alone": ("a", ()), "swapped alone": ("b", ())}
    for k in (0, 2, 4):
        specs[f"k={k}"] = ("pair", tuple(L - d for d in range(2, k + 1, 2)))
    res = InterconnectResult(
        settings={
            "channels": list(channels),
            "g": g,
            "epochs": epochs,
            "seeds": list(range(seeds)),
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "weight_decay": weight_decay,
            "n_train": len(tr),
            "n_test": len(test),
            "dilations": {"baseline": list(base), "swapped": list(swapped)},
            "mix_layers": {k: list(v[1]) for k, v in specs.items() if v[0] == "pair"},
            "split_seed": 12345,
        }
    )
    start = time.perf_counter()
    pair_params = set()
    for name, (which, mix) in specs.items():
        trains, tests = [], []
        n_params = 0
        for s in range(seeds):
            rng = np.random.default_rng([s, 7])
            na = DilatedConvNet(base, channels, g=g, seed=rng)
            nb = DilatedConvNet(swapped, channels, g=g, seed=rng)
            net: Any = (
                na
                if which == "a"
                else nb
                if which == "b"
                else InterconnectedDilatedNets(na, nb, mix)
            )
            n_params = net.n_parameters()
            out = train(
                net,
                x[tr],
                y[tr],
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=learning_rate,
                weight_decay=weight_decay,
                x_test=x[test],
                y_test=y[test],
                seed=s,
                progress=False,
            )
            trains.append(out.final["train_accuracy"])
            tests.append(out.final["test_accuracy"])
            if progress is not None:
                progress(
                    f"{name} seed {s}: train {trains[-1]:.4f} test {tests[-1]:.4f} "
                    f"({out.seconds:.1f} s)"
                )
        if which == "pair":
            pair_params.add(n_params)
        res.models[name] = {
            "n_parameters": n_params,
            "train": trains,
            "test": tests,
            "train_mean": float(np.mean(trains)),
            "train_std": float(np.std(trains)),
            "test_mean": float(np.mean(tests)),
            "test_std": float(np.std(tests)),
        }
    assert len(pair_params) == 1, "interconnections must add no parameters"
    res.seconds = time.perf_counter() - start
    return res


def plot_interconnect(result: InterconnectResult, path: Any) -> None:
    """Write the plot (accuracy against k, mean ± std; the networks alone as lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ks = [n for n in result.models if n.startswith("k=")]
    xs = [int(n[2:]) for n in ks]
    for part, color in (("train", "C0"), ("test", "C1")):
        ax.errorbar(
            xs,
            [result.models[n][f"{part}_mean"] for n in ks],
            yerr=[result.models[n][f"{part}_std"] for n in ks],
            marker="o",
            color=color,
            capsize=3,
            label=f"{part}, interconnected",
        )
        for name, style in (("baseline alone", "--"), ("swapped alone", ":")):
            if name in result.models:
                ax.axhline(
                    result.models[name][f"{part}_mean"],
                    color=color,
                    linestyle=style,
                    label=f"{part}, {name}",
                )
    ax.set_xlabel("interconnections up to k")
    ax.set_ylabel("accuracy")
    ax.set_xticks(xs)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
