"""Architecture design: search dilation orders, mixture sets and layer widths for a rank profile.

An architecture is judged by its rank profile over a family of partitions
(:func:`mtd.rank_profile`) through an *objective* on the base-2 logarithms of the ranks
(:data:`OBJECTIVES`):

``"min"``
    the smallest log-rank over the family (no partition left weak);
``"mean"``
    their mean;
``"target"``
    agreement with a target profile (one number per index set, e.g. the data's
    entanglement, :mod:`mtd.entanglement`): the Pearson correlation between the
    log-ranks and the target, so the target's units do not matter.

Every search runs in two stages.  **Screening** scores every candidate by its proven
*upper* bounds (structure only, :func:`mtd.certify.upper_bounds`: min-cut, Theorem 7,
trivial), which is cheap.  **Certification** computes the certified profiles of the
best ``top`` candidates (:func:`mtd.rank_profile`) and ranks them by the score of their
proven *lower* bounds.  For ``"min"`` and ``"mean"`` (increasing in every rank) a
candidate's true score is at most its screening score, so when the best certified score
reaches the best screening score of every candidate left out, the winner is *proven*
optimal over the searched space (:attr:`DesignResult.proven_best`).

Search spaces: :func:`search_dilations` (all ``L!`` orders of the dilations
``1, 2, …, 2^(L-1)`` for ``L <= exhaustive_up_to``, else a hill climb over swaps of two
layers from the baseline and random starts), :func:`search_mixtures` (every set of
mixture nodes common to two trees, up to ``max_nodes`` of them), and
:func:`allocate_widths` (per-depth channel counts under a parameter budget, with
:func:`width_controls` telling which depths' channels bound which cut).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ._typing import Seed
from ._validation import check_int
from .certify import _pick_upper, upper_bounds
from .decompositions import MixedDecomposition, TreeDecomposition, parameter_count
from .errors import InvalidArgumentError
from .families import resolve_index_sets
from .hybrids import common_interior
from .mincut import get_any_plan
from .profiles import RankProfile, rank_profile
from .trees import ModeTree, format_node

__all__ = [
    "OBJECTIVES",
    "Objective",
    "Candidate",
    "DesignResult",
    "profile_score",
    "search_dilations",
    "search_mixtures",
    "allocate_widths",
    "width_controls",
]

Objective = Literal["min", "mean", "target"]
OBJECTIVES: tuple[str, ...] = ("min", "mean", "target")
"""The objectives of :func:`profile_score` (module docstring)."""


def profile_score(
    log2_ranks: Sequence[float],
    objective: Objective = "mean",
    target: Sequence[float] | None = None,
) -> float:
    """The objective's value on a profile's log-ranks (higher is better).

    Examples
    --------
    >>> mtd.design.profile_score([1, 2, 3], "min"), mtd.design.profile_score([1, 2, 3], "mean")
    (1.0, 2.0)
    >>> mtd.design.profile_score([1, 2, 3], "target", target=[0.1, 0.2, 0.3])
    1.0
    """
    xs = np.asarray(log2_ranks, dtype=float)
    if objective == "min":
        return float(xs.min())
    if objective == "mean":
        return float(xs.mean())
    if objective == "target":
        if target is None or len(target) != len(xs):
            raise InvalidArgumentError(
                f"objective 'target' needs one target value per index set ({len(xs)}); got "
                f"{None if target is None else len(target)}"
            )
        t = np.asarray(target, dtype=float)
        if xs.std() == 0 or t.std() == 0:
            return 0.0
        return float(np.corrcoef(xs, t)[0, 1])
    raise InvalidArgumentError(f"objective must be one of {OBJECTIVES}; got {objective!r}")


@dataclass(frozen=True, repr=False)
class Candidate:
    """One architecture of a search: what it is, its scores and (finalists) its profile.

    Attributes
    ----------
    description : dict
        JSON-ready: ``dilations``, ``mixture_nodes`` or ``widths`` (and ``parameters``).
    model : decomposition
        A random instance of the architecture (its weights do not matter).
    screen_score : float
        The objective on the proven upper bounds.
    score : float or None
        The objective on the certified profile's lower bounds (finalists only).
    profile : RankProfile or None
        The certified profile (finalists only).
    """

    description: dict[str, Any]
    model: Any
    screen_score: float
    score: float | None = None
    profile: RankProfile | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the description, the scores and the profile's records."""
        out = dict(self.description)
        out.update(screen_score=self.screen_score, score=self.score)
        if self.profile is not None:
            out["profile"] = [
                {**r, "I": list(r["I"]), "lower": int(r["lower"]), "upper": int(r["upper"])}
                for r in self.profile.to_records()
            ]
            out["all_certified"] = all(self.profile.certified)
        return out


@dataclass(frozen=True, repr=False)
class DesignResult:
    """The outcome of a search: finalists best first, and whether the best is proven optimal.

    Attributes
    ----------
    candidates : tuple of Candidate
        The certified finalists, best certified score first.
    objective : str
    index_sets : tuple of tuple of int
    n_screened : int
        Candidates scored by their upper bounds.
    proven_best : bool
        The best finalist's certified score reaches every other candidate's screening
        score (only for ``"min"`` and ``"mean"``).
    """

    candidates: tuple[Candidate, ...]
    objective: str
    index_sets: tuple[tuple[int, ...], ...]
    n_screened: int
    proven_best: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> Candidate:
        """The finalist with the best certified score."""
        return self.candidates[0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "objective": self.objective,
            "index_sets": [list(I) for I in self.index_sets],
            "n_screened": self.n_screened,
            "proven_best": self.proven_best,
            "candidates": [c.to_dict() for c in self.candidates],
            **self.extra,
        }

    def __repr__(self) -> str:
        lines = [
            f"DesignResult(objective={self.objective!r}, {self.n_screened} screened, "
            f"{len(self.candidates)} certified, proven_best={self.proven_best})"
        ]
        for i, c in enumerate(self.candidates):
            desc = ", ".join(f"{k}={v}" for k, v in c.description.items())
            lines.append(f"  {i + 1}. {desc}: score {c.score:.4g} (screened {c.screen_score:.4g})")
        return "\n".join(lines)


# ------------------------------------------------------------------------- engine
def _upper_log2(model: Any, sets: Sequence[tuple[int, ...]]) -> list[float]:
    plan = get_any_plan(model)
    out = []
    for I in sets:
        up, _ = _pick_upper(upper_bounds(model, plan, frozenset(I), 0))
        out.append(math.log2(up))
    return out


def _finish(
    screened: list[tuple[float, dict[str, Any], Any]],
    sets: tuple[tuple[int, ...], ...],
    objective: Objective,
    target: Sequence[float] | None,
    *,
    top: int,
    seed: Seed,
    client: Any,
    n_jobs: int | None,
    extra: dict[str, Any] | None = None,
) -> DesignResult:
    screened.sort(key=lambda t: -t[0])
    finals = []
    for s, desc, model in screened[:top]:
        prof = rank_profile(model, list(sets), seed=seed, client=client, n_jobs=n_jobs)
        score = profile_score([math.log2(v) for v in prof.lower], objective, target)
        finals.append(Candidate(desc, model, s, score, prof))
    finals.sort(key=lambda c: -(c.score or 0.0))
    rest = [s for s, _, _ in screened[top:]]
    proven = objective in ("min", "mean") and all(
        (finals[0].score or 0.0) >= s - 1e-12 for s in rest + [c.screen_score for c in finals]
    )
    return DesignResult(tuple(finals), objective, sets, len(screened), proven, extra or {})


def _check_objective(objective: Any, target: Any) -> None:
    if objective not in OBJECTIVES:
        raise InvalidArgumentError(f"objective must be one of {OBJECTIVES}; got {objective!r}")
    if objective == "target" and target is None:
        raise InvalidArgumentError("objective 'target' needs target= (one value per index set)")


# ------------------------------------------------------------------------- searches
def search_dilations(
    L: int,
    *,
    r: int,
    M: int,
    index_sets: Any = "interleaved",
    objective: Objective = "mean",
    target: Sequence[float] | None = None,
    top: int = 3,
    exhaustive_up_to: int = 8,
    n_restarts: int = 4,
    seed: Seed = None,
    client: Any = None,
    n_jobs: int | None = None,
) -> DesignResult:
    """The dilation orders of an ``L``-layer network best for an objective.

    Parameters
    ----------
    L : int
        Layers (``N = 2^L`` modes).
    r, M : int
        Channels and discretizers.
    index_sets : family name or iterable, default "interleaved"
        The partitions the objective reads (:mod:`mtd.families`).
    objective : {"min", "mean", "target"}, default "mean"
    target : sequence of float, optional
        For ``"target"``: one value per index set.
    top : int, default 3
        Finalists to certify.
    exhaustive_up_to : int, default 8
        Try all ``L!`` orders up to this ``L``; beyond, hill-climb.
    n_restarts : int, default 4
        Random starts of the hill climb (besides the baseline).
    seed, client, n_jobs
        As in :func:`mtd.rank_profile`.

    Returns
    -------
    DesignResult
        ``description`` has ``dilations`` (layer 1 first).

    Examples
    --------
    Contiguous partitions get their highest ranks when the first layer pairs distant
    inputs (the baseline order ``(1, 2, 4)`` gives them the lowest):

    >>> res = mtd.design.search_dilations(3, r=2, M=2, index_sets="contiguous", seed=0)
    >>> res.best.description["dilations"], res.proven_best
    ((4, 1, 2), True)
    """
    L = check_int(L, "L", minimum=1)
    _check_objective(objective, target)
    N = 2**L
    sets = resolve_index_sets(index_sets, N, tree=ModeTree.baseline(L), seed=seed)
    cache: dict[tuple[int, ...], tuple[float, Any]] = {}

    def score(order: tuple[int, ...]) -> float:
        if order not in cache:
            model = TreeDecomposition.random(ModeTree.from_dilations(order), M=M, r=r, seed=0)
            cache[order] = (profile_score(_upper_log2(model, sets), objective, target), model)
        return cache[order][0]

    base = tuple(2**i for i in range(L))
    if L <= exhaustive_up_to:
        for order in itertools.permutations(base):
            score(order)
        how = "exhaustive"
    else:
        rng = np.random.default_rng(seed)
        starts = [base] + [tuple(int(x) for x in rng.permutation(base)) for _ in range(n_restarts)]
        for order in starts:
            cur = order
            while True:
                best = max((_swap(cur, i, j) for i in range(L) for j in range(i + 1, L)), key=score)
                if score(best) <= score(cur):
                    break
                cur = best
        how = "hill climb"
    screened = [(s, {"dilations": o}, m) for o, (s, m) in cache.items()]
    return _finish(
        screened,
        sets,
        objective,
        target,
        top=top,
        seed=seed,
        client=client,
        n_jobs=n_jobs,
        extra={"method": how},
    )


def _swap(order: tuple[int, ...], i: int, j: int) -> tuple[int, ...]:
    out = list(order)
    out[i], out[j] = out[j], out[i]
    return tuple(out)


def search_mixtures(
    T: ModeTree,
    T_bar: ModeTree,
    *,
    r: int,
    M: int,
    index_sets: Any = "interleaved",
    objective: Objective = "mean",
    target: Sequence[float] | None = None,
    top: int = 3,
    max_nodes: int = 10,
    seed: Seed = None,
    client: Any = None,
    n_jobs: int | None = None,
) -> DesignResult:
    """The sets of mixture nodes (eq. 4) of two trees best for an objective.

    Every subset of the non-root nodes interior to both trees is tried (at most
    ``2^max_nodes``; with more common nodes, the ``max_nodes`` largest are used).
    ``r`` must be even.

    Examples
    --------
    >>> T, Tb = mtd.ModeTree.baseline(3), mtd.ModeTree.swapped(3, 2)
    >>> res = mtd.design.search_mixtures(T, Tb, r=2, M=2, index_sets="random", seed=0)
    >>> res.n_screened
    4
    """
    _check_objective(objective, target)
    common = sorted(
        (v for v in common_interior(T, T_bar) if v != T.root), key=lambda v: (-len(v), min(v))
    )[: check_int(max_nodes, "max_nodes", minimum=0)]
    sets = resolve_index_sets(index_sets, T.n_modes, tree=T, seed=seed)
    screened = []
    for k in range(len(common) + 1):
        for mix in itertools.combinations(common, k):
            model = MixedDecomposition.random(T, T_bar, list(mix), M=M, r=r, seed=0)
            s = profile_score(_upper_log2(model, sets), objective, target)
            screened.append((s, {"mixture_nodes": [format_node(v) for v in mix]}, model))
    return _finish(
        screened, sets, objective, target, top=top, seed=seed, client=client, n_jobs=n_jobs
    )


def allocate_widths(
    tree: ModeTree,
    *,
    M: int,
    budget: int,
    index_sets: Any = "interleaved",
    objective: Objective = "mean",
    target: Sequence[float] | None = None,
    choices: Iterable[int] = (1, 2, 3, 4, 6, 8),
    top: int = 3,
    seed: Seed = None,
    client: Any = None,
    n_jobs: int | None = None,
) -> DesignResult:
    """Channels per depth, under a parameter budget, best for an objective.

    The root (depth 0) has one channel (the output ``A^0``); leaves have ``M``
    (the discretizers' columns); every other depth takes a value of ``choices``.
    Architectures with more than ``budget`` parameters
    (:func:`mtd.decompositions.parameter_count`) are not considered.

    Examples
    --------
    >>> res = mtd.design.allocate_widths(mtd.ModeTree.baseline(3), M=2, budget=60,
    ...                                  choices=(1, 2, 4), index_sets="all", seed=0)
    >>> res.best.description["widths"], res.best.description["parameters"]
    ({1: 2, 2: 2}, 52)
    """
    _check_objective(objective, target)
    budget = check_int(budget, "budget", minimum=1)
    depths = sorted({tree.depth(v) for v in tree.interior_nodes} - {0})
    opts = sorted({check_int(c, "choices", minimum=1) for c in choices})
    sets = resolve_index_sets(index_sets, tree.n_modes, tree=tree, seed=seed)
    screened = []
    for combo in itertools.product(opts, repeat=len(depths)):
        widths = {0: 1, **dict(zip(depths, combo, strict=True))}
        n_par = parameter_count(tree, M, widths, r_input=M)
        if n_par > budget:
            continue
        model = TreeDecomposition.random(tree, M=M, r=widths, r_input=M, seed=0)
        s = profile_score(_upper_log2(model, sets), objective, target)
        screened.append(
            (s, {"widths": dict(zip(depths, combo, strict=True)), "parameters": n_par}, model)
        )
    if not screened:
        raise InvalidArgumentError(
            f"no width allocation fits budget={budget} parameters with choices {opts}"
        )
    return _finish(
        screened, sets, objective, target, top=top, seed=seed, client=client, n_jobs=n_jobs
    )


def width_controls(
    tree: ModeTree, I: Iterable[int], *, widths: Mapping[int, int], M: int
) -> dict[int, dict[str, int]]:
    """Which depths' channels bound the cut ``(I, Iᶜ)``, from the proven upper bound.

    For every interior depth ``d >= 1`` (root: one channel; leaves: ``M``), the upper
    bound on ``rank [[A]]_I`` (:func:`mtd.certify.upper_bounds`) with that depth's
    channels halved (at least 1), as given, and doubled.  Depth ``d`` *limits* the
    cut when halving it lowers the bound; widening it alone *helps* when doubling
    raises the bound (several depths can limit a cut together, then neither helps
    alone).  ``mtd verify`` checks these bounds against exact ranks of random integer
    instances (:func:`mtd.theorems.check_width_control`).

    Returns
    -------
    dict
        ``{depth: {"halved": int, "base": int, "doubled": int}}``.

    Examples
    --------
    Baseline tree of 8 modes: the cut around the pair ``{0, 1}`` (a node of depth 2)
    passes through the pair's channels and its parent's, so both limit it and
    neither helps alone; the odd/even cut is limited only next to the input:

    >>> t = mtd.ModeTree.baseline(3)
    >>> mtd.design.width_controls(t, [0, 1], widths={1: 2, 2: 2}, M=4)
    {1: {'halved': 1, 'base': 2, 'doubled': 2}, 2: {'halved': 1, 'base': 2, 'doubled': 2}}
    >>> mtd.design.width_controls(t, [0, 2, 4, 6], widths={1: 2, 2: 2}, M=4)[1]
    {'halved': 16, 'base': 16, 'doubled': 16}
    """
    widths = {int(k): check_int(v, f"widths[{k}]", minimum=1) for k, v in widths.items()}
    rows = frozenset(I)
    full = {0: 1, **widths}

    def bound(w: dict[int, int]) -> int:
        model = TreeDecomposition.random(tree, M=M, r=w, r_input=M, seed=0)
        return _pick_upper(upper_bounds(model, get_any_plan(model), rows, 0))[0]

    base = bound(full)
    return {
        d: {
            "halved": bound({**full, d: max(1, full[d] // 2)}),
            "base": base,
            "doubled": bound({**full, d: 2 * full[d]}),
        }
        for d in sorted(widths)
    }
