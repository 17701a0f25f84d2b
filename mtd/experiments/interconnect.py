"""The accuracy experiment (Fig. 7 protocol) on sequences shipped inside packages.

Two stationary dilated networks with size-2 filters over ``N = T = 2^L`` inputs: the
baseline (dilations 1, 2, 4, …) and its companion with each pair of layers swapped
(2, 1, 8, 4, …).  Interconnections are added at the layers whose units are nodes of both
trees, from the top down: ``k = 2`` mixes after the highest such hidden layer, ``k = 4``
after the two highest (for digits, ``L = 6``: after layer 4, then 4 and 2 — the shared
nodes of even depth; for JapaneseVowels, ``L = 5``: after 4, then 4 and 2); ``k = 0``
only sums the two outputs (a swap at the root would change nothing, as the outputs are
summed).  The interconnected pairs all have the same parameters (asserted); each network
alone has half.  Every model is trained with :func:`mtd.training.train` (Adam with weight
decay, softmax cross-entropy on the output at the last time step) from random weights,
for several seeds, on one fixed train/test split; the table reports train and test
accuracy, mean ± standard deviation over the seeds.  Whatever trend appears is reported
as is.

Data sets (``dataset``):

* ``"digits"`` — :func:`mtd.datasets.digits_sequences`, ``T = 64`` (``L = 6``), a fixed
  random 75/25 split (seed 12345);
* ``"japanese_vowels"`` — :func:`mtd.datasets.japanese_vowels_sequences`, ``T = 32``
  (``L = 5``), the set's own 270/370 split.

:func:`dilation_experiment` trains single networks of given dilation orders under the
same protocol (which order trains best).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from .._validation import check_int
from ..errors import InvalidArgumentError

__all__ = [
    "DATASETS",
    "InterconnectResult",
    "dilation_experiment",
    "interconnect_experiment",
    "plot_interconnect",
]

DATASETS = ("digits", "japanese_vowels")
"""The data sets the experiments know (both read from installed packages)."""

Dataset = Literal["digits", "japanese_vowels"]


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
        width = max(14, *(len(n) for n in self.models))
        lines = [f"{'model':<{width}} {'params':>7} {'train acc':>17} {'test acc':>17}"]
        for name, m in self.models.items():
            lines.append(
                f"{name:<{width}} {m['n_parameters']:>7} "
                f"{m['train_mean']:>8.4f} ± {m['train_std']:.4f} "
                f"{m['test_mean']:>8.4f} ± {m['test_std']:.4f}"
            )
        st = self.settings
        lines.append(
            f"{st.get('dataset', 'digits')} as sequences: N = {st.get('T', 64)}, "
            f"L = {st.get('L', 6)}, channels {st['channels']}, g = {st['g']}, "
            f"{st['epochs']} epochs, {len(st['seeds'])} seeds, train/test "
            f"{st['n_train']}/{st['n_test']}"
        )
        return "\n".join(lines)


def _load_split(dataset: str, *, levels: int = 4, test_fraction: float = 0.25) -> dict[str, Any]:
    """``x_train, y_train, x_test, y_test`` and the split's description for ``dataset``."""
    if dataset == "digits":
        from ..datasets import digits_sequences

        x, y = digits_sequences(levels=levels)
        perm = np.random.default_rng(12345).permutation(len(x))
        if not 0 < test_fraction < 1:
            raise InvalidArgumentError(f"test_fraction must be in (0, 1); got {test_fraction}")
        n_test = int(round(test_fraction * len(x)))
        test, tr = perm[:n_test], perm[n_test:]
        return {
            "x_train": x[tr],
            "y_train": y[tr],
            "x_test": x[test],
            "y_test": y[test],
            "split": f"random, test fraction {test_fraction}, seed 12345",
        }
    if dataset == "japanese_vowels":
        from ..datasets import japanese_vowels_sequences

        xtr, ytr, xte, yte = japanese_vowels_sequences(levels=levels)
        return {
            "x_train": xtr,
            "y_train": ytr,
            "x_test": xte,
            "y_test": yte,
            "split": "the set's own train/test files",
        }
    raise InvalidArgumentError(f"dataset must be one of {list(DATASETS)}; got {dataset!r}")


def _summary(trains: list[float], tests: list[float], n_params: int) -> dict[str, Any]:
    return {
        "n_parameters": n_params,
        "train": trains,
        "test": tests,
        "train_mean": float(np.mean(trains)),
        "train_std": float(np.std(trains)),
        "test_mean": float(np.mean(tests)),
        "test_std": float(np.std(tests)),
    }


def _run_seeds(
    name: str,
    make: Callable[[np.random.Generator], Any],
    data: dict[str, Any],
    seeds: int,
    train_kw: dict[str, Any],
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    """Train ``make(rng)`` for seeds ``0..seeds-1``; the accuracies after the last epoch."""
    from ..training import train

    trains, tests, n_params = [], [], 0
    for s in range(seeds):
        net = make(np.random.default_rng([s, 7]))
        n_params = net.n_parameters()
        out = train(
            net,
            data["x_train"],
            data["y_train"],
            x_test=data["x_test"],
            y_test=data["y_test"],
            seed=s,
            progress=False,
            **train_kw,
        )
        trains.append(out.final["train_accuracy"])
        tests.append(out.final["test_accuracy"])
        if progress is not None:
            progress(
                f"{name} seed {s}: train {trains[-1]:.4f} test {tests[-1]:.4f} "
                f"({out.seconds:.1f} s)"
            )
    return _summary(trains, tests, n_params)


def _setup(
    dataset: str, hidden: int, levels: int, seeds: int, test_fraction: float
) -> tuple[Any, ...]:
    hidden = check_int(hidden, "hidden", minimum=2)
    if hidden % 2:
        raise InvalidArgumentError(
            f"hidden must be even (interconnections swap half the channels); got {hidden}"
        )
    seeds = check_int(seeds, "seeds", minimum=1)
    data = _load_split(dataset, levels=levels, test_fraction=test_fraction)
    T = data["x_train"].shape[1]
    L = T.bit_length() - 1
    if 2**L != T or L < 2:
        raise InvalidArgumentError(f"sequences must have length 2^L >= 4; got {T}")
    n_classes = int(max(data["y_train"].max(), data["y_test"].max())) + 1
    channels = (data["x_train"].shape[2], *([hidden] * (L - 1)), n_classes)
    return data, T, L, channels, seeds


def interconnect_experiment(
    *,
    dataset: Dataset = "digits",
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
    dataset : {"digits", "japanese_vowels"}, default "digits"
        See the module's description (lengths, splits).
    hidden : int, default 16
        Channels of the hidden layers (even); the last layer has one per class.
    levels : int, default 4
        Quantization levels of the input (the one-hot channels).
    g : str, default "relu"
    epochs, batch_size, learning_rate, weight_decay
        As in :func:`mtd.training.train`.
    seeds : int, default 5
        Seeds ``0..seeds-1`` (weights and shuffling); the split is fixed.
    test_fraction : float, default 0.25
        The test part of digits' random split (JapaneseVowels keeps its own split).
    progress : callable, optional
        Called with a line of text after every training run.

    Returns
    -------
    InterconnectResult
    """
    from ..networks import DilatedConvNet, InterconnectedDilatedNets
    from ..networks.mixed import interconnectable_layers
    from ..trees import ModeTree

    data, T, L, channels, seeds = _setup(dataset, hidden, levels, seeds, test_fraction)
    base = tuple(2**i for i in range(L))
    swapped = tuple(ModeTree.swapped_dilations(L, 2))
    shared = sorted((l for l in interconnectable_layers(base, swapped) if l < L), reverse=True)
    specs: dict[str, Any] = {"baseline alone": ("a", ()), "swapped alone": ("b", ())}
    for j in range(len(shared) + 1):
        specs[f"k={2 * j}"] = ("pair", tuple(sorted(shared[:j], reverse=True)))
    train_kw = {
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
    }
    res = InterconnectResult(
        settings={
            **_protocol_settings(dataset, T, L, channels, seeds, data, g=g, **train_kw),
            "dilations": {"baseline": list(base), "swapped": list(swapped)},
            "mix_layers": {k: list(v[1]) for k, v in specs.items() if v[0] == "pair"},
            "split_seed": 12345 if dataset == "digits" else None,
        }
    )
    start = time.perf_counter()
    for name, (which, mix) in specs.items():

        def make(rng: np.random.Generator, which: str = which, mix: Any = mix) -> Any:
            na = DilatedConvNet(base, channels, g=g, seed=rng)
            nb = DilatedConvNet(swapped, channels, g=g, seed=rng)
            if which == "a":
                return na
            if which == "b":
                return nb
            return InterconnectedDilatedNets(na, nb, mix)

        res.models[name] = _run_seeds(name, make, data, seeds, train_kw, progress)
    pair_params = {m["n_parameters"] for n, m in res.models.items() if n.startswith("k=")}
    assert len(pair_params) == 1, "interconnections must add no parameters"
    res.seconds = time.perf_counter() - start
    return res


def dilation_experiment(
    orders: Sequence[Sequence[int]],
    *,
    dataset: Dataset = "digits",
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
    """Train single networks of the given dilation orders under the same protocol.

    All orders get the same channels, seeds, epochs and optimizer (so the same parameter
    count: asserted); the table has one row per order.  Used to ask whether the order a
    data-driven design prefers (:func:`mtd.entanglement.data_driven_dilations`) trains
    better than the baseline and its swapped companion.

    Parameters
    ----------
    orders : sequence of sequences of int
        Each a permutation of ``1, 2, …, 2^(L-1)`` for the data set's ``L``.
    dataset, hidden, levels, g, epochs, seeds, batch_size, learning_rate, weight_decay
        As in :func:`interconnect_experiment`.
    test_fraction, progress
        As in :func:`interconnect_experiment`.

    Returns
    -------
    InterconnectResult
        Models named by their dilations, e.g. ``"1,2,4,8,16,32"``.
    """
    from ..networks import DilatedConvNet

    data, T, L, channels, seeds = _setup(dataset, hidden, levels, seeds, test_fraction)
    names = [",".join(str(int(d)) for d in o) for o in orders]
    if not names:
        raise InvalidArgumentError("orders must name at least one dilation order; got none")
    for o, name in zip(orders, names, strict=True):
        if sorted(int(d) for d in o) != [2**i for i in range(L)]:
            raise InvalidArgumentError(
                f"every order must be a permutation of 1, 2, ..., {2 ** (L - 1)} (L = {L} for "
                f"{dataset}, T = {T}); got {name}"
            )
    train_kw = {
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
    }
    res = InterconnectResult(
        settings={
            **_protocol_settings(dataset, T, L, channels, seeds, data, g=g, **train_kw),
            "orders": [list(map(int, o)) for o in orders],
        }
    )
    start = time.perf_counter()
    for o, name in zip(orders, names, strict=True):

        def make(rng: np.random.Generator, o: Any = tuple(int(d) for d in o)) -> Any:
            return DilatedConvNet(o, channels, g=g, seed=rng)

        res.models[name] = _run_seeds(name, make, data, seeds, train_kw, progress)
    assert len({m["n_parameters"] for m in res.models.values()}) == 1, "same parameter counts"
    res.seconds = time.perf_counter() - start
    return res


def _protocol_settings(
    dataset: str,
    T: int,
    L: int,
    channels: Any,
    seeds: int,
    data: dict[str, Any],
    **protocol: Any,
) -> dict[str, Any]:
    """The settings both experiments record: data, architecture size and training protocol."""
    return {
        "dataset": dataset,
        "T": T,
        "L": L,
        "channels": list(channels),
        "g": protocol.pop("g"),
        "epochs": protocol["epochs"],
        "seeds": list(range(seeds)),
        "batch_size": protocol["batch_size"],
        "learning_rate": protocol["learning_rate"],
        "weight_decay": protocol["weight_decay"],
        "n_train": len(data["x_train"]),
        "n_test": len(data["x_test"]),
        "split": data["split"],
    }


def plot_interconnect(result: InterconnectResult, path: Any) -> None:
    """Write the plot: accuracy (mean ± std) against k, or per order of dilations.

    An :func:`interconnect_experiment` result is drawn against k with the networks alone
    as lines; a :func:`dilation_experiment` result as one pair of bars per order.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ks = [n for n in result.models if n.startswith("k=")]
    if not ks:
        names = list(result.models)
        pos = np.arange(len(names))
        for off, part, color in ((-0.2, "train", "C0"), (0.2, "test", "C1")):
            ax.bar(
                pos + off,
                [result.models[n][f"{part}_mean"] for n in names],
                0.4,
                yerr=[result.models[n][f"{part}_std"] for n in names],
                color=color,
                capsize=3,
                label=part,
            )
        ax.set_xticks(pos)
        ax.set_xticklabels(names, fontsize=7)
        ax.set_xlabel("dilations")
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return
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
