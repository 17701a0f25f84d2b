"""The expressive gap as approximation: how well single networks fit a mixed one.

The target is a random mixed decomposition (eq. 4) of size ``r`` over ``N = 2^L``
modes: the baseline tree ``T`` and the companion ``T̄`` swapped in blocks of ``k = 2``
layers, interconnected at their common interior nodes of ``2^mix_level`` modes.  For
sizes ``r'`` from small to past Corollary 8's threshold (the channels a single network
needs to reach the target's rank on the separating index set, :func:`mtd.separation.
gap_report`), four models are fitted to the target's output 0 with :func:`mtd.fit`
from several random starts each:

* ``T`` — eq. 3 on the baseline tree, size ``r'``;
* ``T_bar`` — eq. 3 on the swapped tree;
* ``T + T_bar`` — the two summed (a mixed decomposition with no mixture nodes);
* ``mixed`` — the target's own architecture at size ``r'`` (``r'`` even).

Every model uses the target's discretizers.  Each start runs on an iteration budget: one
chunk of ALS sweeps, then Levenberg-Marquardt steps (models of at most
``lm_max_params`` weights; ALS sweeps beyond), stopping early below ``1e-12`` or when a
chunk improves the error by less than a thousandth of itself.  The starts run on
``workers`` processes (BLAS on one thread each); each start's weights come from its own
recorded seed, so the results do not depend on the number of workers.

Reported per model and size: the best, median and worst final relative error
``‖A − T‖ / ‖A‖`` over the starts, how many reached ``1e-10`` and why each stopped.
Local optimization gives *upper* bounds on the best error of a model of that size.  Two
*lower* bounds are computed independently by SVDs of the target: the error of the best
tensor of rank one across the root's children (no eq. 3 tree alone goes below it, at any
size), and the Eckart-Young error of the best matrix of rank at most the model's min-cut
bound on the separating index set (:func:`mtd.mincut.plan_mincut_bound`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from .._validation import check_int
from ..decompositions.mixed import MixedDecomposition
from ..errors import InvalidArgumentError
from ..hybrids import common_interior
from ..separation import gap_report, separating_example
from ..trees import ModeTree
from ._starts import Schedule, Start, build_model, run_starts

__all__ = [
    "MODELS",
    "REACHED",
    "ApproximationResult",
    "approximation_experiment",
    "plot_approximation",
]

MODELS = ("T", "T_bar", "T + T_bar", "mixed")
"""The fitted models, in table order."""

REACHED = 1e-10
"""A start whose final relative error is at most this has reached the target."""


@dataclass
class ApproximationResult:
    """Errors per model, size and start; ``table()`` prints them.

    Attributes
    ----------
    settings : dict
        ``L``, ``N``, ``M``, ``r``, ``mix_level``, ``mixture_nodes``, ``sizes``,
        ``restarts``, ``max_iter``, ``seed``, ``threshold`` (Corollary 8's channels),
        ``method``, ``lm_max_params``, ``workers``, ``I`` (the separating index set),
        ``rank_one_floor`` (per single tree) and ``floor`` (per model and size: the
        larger of the two lower bounds of the module docstring).
    errors : dict
        ``errors[model][str(r')]`` is the list of final relative errors, one per start.
    runs : dict
        ``runs[model][str(r')]``: per start its ``seed``, ``error``, ``als`` sweeps and
        ``lm`` steps used, ``stop`` (``"tol"``, ``"stall"`` or ``"budget"``), ``params``
        and ``seconds``.
    seconds : float
        Wall time of the fits.
    """

    settings: dict[str, Any]
    errors: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    seconds: float = 0.0

    def best(self, model: str, size: int) -> float:
        """The best (smallest) error of ``model`` at size ``size``."""
        return min(self.errors[model][str(size)])

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): settings, errors, runs, best errors, seconds."""
        out = asdict(self)
        out["best"] = {m: {s: min(v) for s, v in per.items()} for m, per in self.errors.items()}
        return out

    def table(self) -> str:
        """A text table: one row per size and model, over its starts."""
        st = self.settings
        head = (
            f"{'r_prime':>7} {'model':<10} {'best':>10} {'median':>10} {'worst':>10} "
            f"{'reached':>8}  {'stops':<22} {'floor':>10}"
        )
        lines = [head]
        for s in st["sizes"]:
            for m in MODELS:
                vals = self.errors.get(m, {}).get(str(s))
                if not vals:
                    continue
                runs = self.runs.get(m, {}).get(str(s), [])
                stops = [r["stop"] for r in runs]
                stop_text = ", ".join(
                    f"{stops.count(k)} {k}" for k in ("tol", "stall", "budget") if k in stops
                )
                reached = sum(v <= REACHED for v in vals)
                floor = st["floor"][m][str(s)]
                lines.append(
                    f"{s:>7} {m:<10} {min(vals):10.3e} {float(np.median(vals)):10.3e} "
                    f"{max(vals):10.3e} {f'{reached}/{len(vals)}':>8}  {stop_text:<22} "
                    f"{floor:10.3e}"
                )
        lines.append(
            f"target: mixed decomposition, L = {st['L']} (N = {st['N']}), M = {st['M']}, "
            f"r = {st['r']}; Corollary 8 threshold for one network: {st['threshold']} channels"
        )
        lines.append(
            f"reached: starts ending at relative error <= {REACHED:.0e}; floor: a lower bound "
            f"on every model of that size (SVD of the target)"
        )
        return "\n".join(lines)


def approximation_experiment(
    *,
    L: int = 4,
    M: int = 2,
    r: int = 4,
    sizes: tuple[int, ...] | None = None,
    mix_level: int = 2,
    restarts: int = 3,
    max_iter: int = 15,
    seed: int = 0,
    method: Literal["auto", "als"] = "auto",
    lm_max_params: int = 1000,
    workers: int = 1,
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
        The sizes ``r'`` to fit; default ``(2, 3, 4)``: below Corollary 8's threshold (3
        for ``r = 4``), at it, and the target's own size (the mixed model only at even
        sizes).
    mix_level : int, default 2
        Mixture nodes: the common interior nodes of ``2^mix_level`` modes.
    restarts : int, default 3
        Random starts per model and size.
    max_iter : int, default 15
        The budget per start: ALS sweeps plus Levenberg-Marquardt steps.
    seed : int, default 0
        The target's seed; start ``j`` of model ``m`` at size ``r'`` uses the seed
        drawn from ``(seed, m, r', j)`` (recorded in ``runs``).
    method : {"auto", "als"}, default "auto"
        ``"auto"``: one chunk of ALS sweeps, then Levenberg-Marquardt for models of at
        most ``lm_max_params`` weights; ``"als"``: ALS sweeps only.
    lm_max_params : int, default 1000
        Larger models use ALS only (a Levenberg-Marquardt step costs ``O(M^N P²)``).
    workers : int, default 1
        Processes running the starts (``1``: this one).
    progress : callable, optional
        Called with a line of text after every start.

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
    lm_max_params = check_int(lm_max_params, "lm_max_params", minimum=0)
    workers = check_int(workers, "workers", minimum=1)
    if method not in ("auto", "als"):
        raise InvalidArgumentError(f"method must be 'auto' or 'als'; got {method!r}")
    if sizes is None:
        sizes = (2, 3, 4)
    sizes = tuple(check_int(s, "sizes", minimum=1) for s in sizes)
    T, Tb = ModeTree.baseline(L), ModeTree.swapped(L, 2)
    mix = [n for n in common_interior(T, Tb) if len(n) == 2**mix_level]
    target_model = _target(L, M, r, mix_level, seed)
    A = target_model.to_tensor()
    V = target_model.discretizers
    norm = float(np.linalg.norm(A))
    I = sorted(separating_example(L, 2).I) if L >= 3 else sorted(range(0, 2**L, 2))
    threshold = gap_report(L, 2, r).channels_needed if L >= 3 else None
    root_floor = {name: _rank_one_floor(A, tree) for name, tree in (("T", T), ("T_bar", Tb))}
    starts: list[Start] = []
    floor: dict[str, dict[str, float]] = {m: {} for m in MODELS}
    for s in sizes:
        for mi, name in enumerate(MODELS):
            if name == "mixed" and s % 2:
                continue
            model = build_model(name, L, mix, V, s, 0, norm)
            floor[name][str(s)] = max(
                root_floor.get(name, 0.0), _rank_floor(A, I, _mincut(model, I))
            )
            for j in range(restarts):
                ss = np.random.SeedSequence([seed, mi, s, j])
                starts.append(Start(name, s, int(ss.generate_state(1)[0])))
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
            "lm_max_params": lm_max_params,
            "workers": workers,
            "I": I,
            "rank_one_floor": root_floor,
            "floor": {m: v for m, v in floor.items() if v},
        }
    )

    def done(start: Start, out: dict[str, Any]) -> None:
        if progress is not None:
            progress(
                f"r'={start.size} {start.model} seed {start.seed}: {out['error']:.3e} "
                f"({out['als']} ALS sweeps, "
                f"{out['lm']} LM steps, {out['stop']}, {out['seconds']:.1f} s)"
            )

    schedule = Schedule(max_iter=max_iter, method=method, lm_max_params=lm_max_params)
    t0 = time.perf_counter()
    outs = run_starts(starts, L=L, mix=mix, V=V, A=A, schedule=schedule, workers=workers, done=done)
    res.seconds = time.perf_counter() - t0
    for st in starts:  # in table order, whatever order the workers finished in
        out = outs[st]
        res.errors.setdefault(st.model, {}).setdefault(str(st.size), []).append(out["error"])
        res.runs.setdefault(st.model, {}).setdefault(str(st.size), []).append(
            {"seed": st.seed, **out}
        )
    return res


def _target(L: int, M: int, r: int, mix_level: int, seed: int) -> MixedDecomposition:
    """The experiment's target: a random mixed decomposition of ``T`` and ``T̄`` (k = 2)."""
    T, Tb = ModeTree.baseline(L), ModeTree.swapped(L, 2)
    mix = [n for n in common_interior(T, Tb) if len(n) == 2**mix_level]
    return MixedDecomposition.random(T, Tb, mix, M=M, r=r, seed=seed)


def _mincut(model: Any, I: list[int]) -> int:
    from ..mincut import plan_mincut_bound

    return int(plan_mincut_bound(model.plan, I))


def _rank_floor(A: np.ndarray, I: list[int], rank: int) -> float:
    """``min ‖A − B‖/‖A‖`` over ``B`` with ``rank [[B]]_I <= rank`` (Eckart-Young, by SVD)."""
    from ..matricization import matricize

    sv = np.linalg.svd(matricize(A, I), compute_uv=False)
    return float(np.sqrt(np.sum(sv[rank:] ** 2)) / np.sqrt(np.sum(sv**2)))


def _rank_one_floor(A: np.ndarray, tree: ModeTree) -> float:
    """``min ‖A − B‖/‖A‖`` over ``B`` of rank one across the root's first child (SVD).

    Eq. 3 has no layer after the root, so each output of a single tree is a product of
    one function of the first child's modes and one of the rest: its error is at least
    this, whatever its size (a reference for the table, computed independently).
    """
    return _rank_floor(A, sorted(tree.children(tree.root)[0]), 1)


def plot_approximation(result: ApproximationResult, path: Any) -> None:
    """Write the plot to ``path`` (needs matplotlib).

    Per model: the best error against ``r'`` (line), the spread over the starts (vertical
    bar from best to worst), and its lower bound ``floor`` (open markers, dotted).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    floors = result.settings.get("floor", {})
    for i, m in enumerate(MODELS):
        per = result.errors.get(m, {})
        if not per:
            continue
        color = f"C{i}"
        xs = [int(s) for s in per]
        shift = [x + 0.06 * (i - 1.5) for x in xs]
        lo = [min(per[str(x)]) for x in xs]
        hi = [max(per[str(x)]) for x in xs]
        ax.plot(shift, lo, marker="o", color=color, label=f"{m} (best)")
        ax.vlines(shift, lo, hi, color=color, alpha=0.6)
        fl = [floors.get(m, {}).get(str(x), 0.0) for x in xs]
        pts = [(x, f) for x, f in zip(shift, fl, strict=True) if f > 0]
        if pts:
            ax.plot(*zip(*pts, strict=True), linestyle=":", marker="v", mfc="none", color=color)
    th = result.settings.get("threshold")
    if th:
        ax.axvline(th, color="gray", linestyle="--", label="Corollary 8 threshold")
    ax.set_yscale("log")
    ax.set_xlabel("size r' of the fitted model")
    ax.set_ylabel("relative error (bar: spread over starts; v: floor)")
    st = result.settings
    ax.set_title(
        f"mixed target: N = {st['N']}, M = {st['M']}, r = {st['r']}, {st['restarts']} starts"
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
