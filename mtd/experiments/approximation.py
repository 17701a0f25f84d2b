"""The expressive gap as approximation: how well single networks fit a mixed one.

The target is a random mixed decomposition (eq. 4) of size ``r`` over ``N = 2^L``
modes: the baseline tree ``T`` and the companion ``T̄`` swapped in blocks of ``k = 2``
layers, interconnected at their common interior nodes of ``2^mix_level`` modes.  For
sizes ``r'`` from small to past Corollary 8's threshold (the channels a single network
needs to reach the target's rank on the separating index set, :func:`mtd.separation.
gap_report`), four models are fitted to the target's output 0 with :func:`mtd.fit`
(ALS sweeps, then Levenberg-Marquardt; several random starts each):

* ``T`` — eq. 3 on the baseline tree, size ``r'``;
* ``T_bar`` — eq. 3 on the swapped tree;
* ``T + T_bar`` — the two summed (a mixed decomposition with no mixture nodes);
* ``mixed`` — the target's own architecture at size ``r'`` (``r'`` even).

Every model uses the target's discretizers.  The reported number is the *best relative
error found* over the starts, ``‖A − T‖ / ‖T‖``: local optimization, so it is an upper
bound on the best error a model of that size can reach — a model's error is evidence
of a gap only together with the rank bound, never a proof.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from .._validation import check_int
from ..decompositions.fitting import fit
from ..decompositions.mixed import MixedDecomposition
from ..decompositions.tree import TreeDecomposition
from ..hybrids import common_interior
from ..separation import gap_report
from ..trees import ModeTree

__all__ = ["MODELS", "ApproximationResult", "approximation_experiment", "plot_approximation"]

MODELS = ("T", "T_bar", "T + T_bar", "mixed")
"""The fitted models, in table order."""


@dataclass
class ApproximationResult:
    """Best relative errors per model and size; ``table()`` prints them.

    Attributes
    ----------
    settings : dict
        ``L``, ``N``, ``M``, ``r``, ``mix_level``, ``mixture_nodes``, ``sizes``,
        ``restarts``, ``max_iter``, ``seed``, ``threshold`` (Corollary 8's channels).
    errors : dict
        ``errors[model][str(r')]`` is the list of final relative errors, one per start.
    seconds : float
    """

    settings: dict[str, Any]
    errors: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    seconds: float = 0.0

    def best(self, model: str, size: int) -> float:
        """The best (smallest) error of ``model`` at size ``size``."""
        return min(self.errors[model][str(size)])

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): settings, errors, best errors, seconds."""
        out = asdict(self)
        out["best"] = {m: {s: min(v) for s, v in per.items()} for m, per in self.errors.items()}
        return out

    def table(self) -> str:
        """A text table: one row per size, the best error of every model."""
        sizes = self.settings["sizes"]
        head = f"{'r_prime':>7} " + " ".join(f"{m:>12}" for m in MODELS)
        lines = [head]
        for s in sizes:
            cells = []
            for m in MODELS:
                vals = self.errors.get(m, {}).get(str(s))
                cells.append(f"{min(vals):12.3e}" if vals else f"{'-':>12}")
            lines.append(f"{s:>7} " + " ".join(cells))
        st = self.settings
        lines.append(
            f"target: mixed decomposition, L = {st['L']} (N = {st['N']}), M = {st['M']}, "
            f"r = {st['r']}; Corollary 8 threshold for one network: {st['threshold']} channels"
        )
        fl = st["rank_one_floor"]
        lines.append(
            f"rank-one floor across the root (no eq. 3 tree alone can go below): "
            f"T {fl['T']:.3e}, T_bar {fl['T_bar']:.3e}"
        )
        return "\n".join(lines)


def _scale_to(model: Any, target_norm: float) -> Any:
    """Rescale the roots' weights so output 0 has about the target's norm (a better start)."""
    norm = float(np.linalg.norm(model.to_tensor()))
    if not norm or not math.isfinite(norm):
        return model
    s = math.sqrt(target_norm / norm)  # the root is a product of two weighted sums
    if isinstance(model, TreeDecomposition):
        root = model.tree.root
        w = {n: list(ws) for n, ws in model.weights.items()}
        w[root] = [a * s for a in w[root]]
        return TreeDecomposition(model.tree, model.discretizers, w, g=model.g)
    w = {n: list(ws) for n, ws in model.weights.items()}
    wb = {n: list(ws) for n, ws in model.weights_bar.items()}
    w[model.T.root] = [a * s for a in w[model.T.root]]
    wb[model.T.root] = [a * s for a in wb[model.T.root]]
    return MixedDecomposition(
        model.T, model.T_bar, model.mixture_nodes, model.discretizers, w, wb, g=model.g
    )


def approximation_experiment(
    *,
    L: int = 4,
    M: int = 2,
    r: int = 4,
    sizes: tuple[int, ...] | None = None,
    mix_level: int = 2,
    restarts: int = 1,
    max_iter: int = 8,
    seed: int = 0,
    method: Literal["auto", "als"] = "auto",
    progress: Callable[[str], None] | None = None,
) -> ApproximationResult:
    """Fit ``T``, ``T̄``, ``T + T̄`` and the mixed decomposition to a random mixed target.

    Parameters
    ----------
    L : int, default 4
        Layers: ``N = 2^L`` modes.
    M : int, default 2
        Discretizers (every mode's dimension); the target has ``M^N`` entries.
    r : int, default 4
        The target's size (even).
    sizes : tuple of int, optional
        The sizes ``r'`` to fit; default ``(2, 4, …, r + 2)`` (even, so the mixed model
        exists at each).
    mix_level : int, default 2
        Mixture nodes: the common interior nodes of ``2^mix_level`` modes.
    restarts : int, default 1
        Random starts per model and size.
    max_iter : int, default 8
        Iterations per start (ALS sweeps, then Levenberg-Marquardt steps for ``"auto"``).
    seed : int, default 0
    method : {"auto", "als"}, default "auto"
        The :func:`mtd.fit` method: ALS sweeps then Levenberg-Marquardt, or ALS only.
    progress : callable, optional
        Called with a line of text after every fit.

    Returns
    -------
    ApproximationResult

    Examples
    --------
    >>> res = mtd.experiments.approximation_experiment(
    ...     L=2, M=2, r=2, sizes=(2,), restarts=1, max_iter=3, mix_level=1)
    >>> sorted(res.errors), len(res.errors["mixed"]["2"])
    (['T', 'T + T_bar', 'T_bar', 'mixed'], 1)
    """
    L = check_int(L, "L", minimum=3 if mix_level >= 2 else 2)
    M = check_int(M, "M", minimum=1)
    r = check_int(r, "r", minimum=2)
    restarts = check_int(restarts, "restarts", minimum=1)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    if sizes is None:
        sizes = tuple(range(2, r + 3, 2))
    sizes = tuple(check_int(s, "sizes", minimum=1) for s in sizes)
    T, Tb = ModeTree.baseline(L), ModeTree.swapped(L, 2)
    mix = [n for n in common_interior(T, Tb) if len(n) == 2**mix_level]
    target_model = MixedDecomposition.random(T, Tb, mix, M=M, r=r, seed=seed)
    A = target_model.to_tensor()
    V = target_model.discretizers
    norm = float(np.linalg.norm(A))
    threshold = gap_report(L, 2, r).channels_needed if L >= 3 else None
    floors = {name: _rank_one_floor(A, tree) for name, tree in (("T", T), ("T_bar", Tb))}
    res = ApproximationResult(
        settings={
            "L": L,
            "N": 2**L,
            "M": M,
            "r": r,
            "mix_level": mix_level,
            "mixture_nodes": [sorted(n) for n in mix],
            "sizes": list(sizes),
            "restarts": restarts,
            "max_iter": max_iter,
            "seed": seed,
            "threshold": threshold,
            "method": method,
            "rank_one_floor": floors,
        }
    )
    rng = np.random.default_rng(seed + 1)
    start = time.perf_counter()
    for s in sizes:
        for model_name in MODELS:
            if model_name == "mixed" and (s % 2 or s < 2):
                continue
            errs = res.errors.setdefault(model_name, {}).setdefault(str(s), [])
            for _ in range(restarts):
                model = _model(model_name, T, Tb, mix, V, s, rng)
                fitted = fit(_scale_to(model, norm), A, method=method, max_iter=max_iter)
                errs.append(fitted.relative_error)
                if progress is not None:
                    progress(
                        f"r'={s} {model_name}: {fitted.relative_error:.3e} "
                        f"({fitted.n_iter} iterations, {fitted.seconds:.1f} s)"
                    )
    res.seconds = time.perf_counter() - start
    return res


def _rank_one_floor(A: np.ndarray, tree: ModeTree) -> float:
    """``min ‖A − B‖/‖A‖`` over ``B`` of rank one across the root's first child (SVD).

    Eq. 3 has no layer after the root, so each output of a single tree is a product of
    one function of the first child's modes and one of the rest: its error is at least
    this, whatever its size (a reference for the table, computed independently).
    """
    from ..matricization import matricize

    sv = np.linalg.svd(matricize(A, sorted(tree.children(tree.root)[0])), compute_uv=False)
    return float(np.sqrt(np.sum(sv[1:] ** 2)) / np.sqrt(np.sum(sv**2)))


def _model(
    name: str, T: ModeTree, Tb: ModeTree, mix: list[Any], V: np.ndarray, s: int, rng: Any
) -> Any:
    r_in = V.shape[1]

    def weights(tree: ModeTree) -> dict[Any, Any]:
        return {
            n: [rng.normal(size=(s, r_in if tree.is_leaf(c) else s)) for c in tree.children(n)]
            for n in tree.interior_nodes
        }

    if name == "T":
        return TreeDecomposition(T, V, weights(T))
    if name == "T_bar":
        return TreeDecomposition(Tb, V, weights(Tb))
    return MixedDecomposition(T, Tb, mix if name == "mixed" else [], V, weights(T), weights(Tb))


def plot_approximation(result: ApproximationResult, path: Any) -> None:
    """Write the plot (best error against ``r'``, log scale) to ``path`` (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for m in MODELS:
        per = result.errors.get(m, {})
        xs = [int(s) for s in per]
        ax.plot(xs, [min(per[str(x)]) for x in xs], marker="o", label=m)
    th = result.settings.get("threshold")
    if th:
        ax.axvline(th, color="gray", linestyle=":", label="Corollary 8 threshold")
    ax.set_yscale("log")
    ax.set_xlabel("size r' of the fitted model")
    ax.set_ylabel("best relative error")
    st = result.settings
    ax.set_title(f"mixed target: N = {st['N']}, M = {st['M']}, r = {st['r']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
