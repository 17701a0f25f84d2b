"""Rank profiles: certified bounds on the generic rank for every index set of a family.

The *rank profile* of an architecture over a family of index sets (:mod:`mtd.families`)
lists, for every ``I``, bounds ``lower <= rank <= upper`` on the generic rank of
``[[A^y]]_I`` (the rank for almost every choice of weights), both proven, as
:func:`mtd.generic_rank` computes them: ``lower`` from an exact witness with random
integer weights (modulo a prime), ``upper`` from the structure (min-cut, Theorem 7,
trivial).  ``certified`` means ``lower == upper``.

Which partitions get high rank is what an architecture's mode tree decides (the
theory page, §5, "Pooling geometry"): a profile is the table that shows it.

**Batched lower bounds.**  For a tensor of at most :data:`BATCH_MAX_ENTRIES` entries
(``2^16`` at ``N = 16``, ``M = 2``) one random integer instance (weights uniform
residues modulo a prime ``p < 2^21``) is materialized once, and every matricization's
rank modulo ``p`` is bounded below by batched Gaussian elimination
(:mod:`mtd._batch_ranks`).  A rank modulo ``p`` of an integer matrix is at most its rank
over the rationals, which is at most the generic rank: each bound is proven whatever
the draw.  Only the sets whose bound stays below their upper bound see a further,
independent instance (at most :data:`BATCH_DRAWS`).  Upper bounds are the structural
ones of :func:`mtd.generic_rank` (min-cut, Theorem 7, trivial), per set.

Only one set per symmetry class is computed (:mod:`mtd.symmetry`): complements always
share their rank, and for single trees with untied weights so do index sets related
by an automorphism of the tree — over the 32,767 partitions of 16 modes the baseline
tree has 126 classes.  Every record of a class carries the bounds of its computed
representative, which are proven bounds for every member.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import _batch_ranks
from ._batch_ranks import BATCH_DRAWS, BATCH_MAX_ENTRIES
from ._progress import reporter
from ._typing import Seed
from .certify import _witness_scope, generic_rank
from .decompositions._plan import LeafStep, NodeStep, Plan, SwapStep
from .errors import InvalidArgumentError, MissingDependencyError, MTDError, TensorTooLargeError
from .families import all_masks, masks_to_sets, resolve_index_sets
from .mincut import get_any_plan
from .symmetry import index_set_masks, symmetry_classes

__all__ = [
    "BATCH_DRAWS",
    "BATCH_MAX_ENTRIES",
    "PROFILE_METHODS",
    "RankProfile",
    "architecture_fingerprint",
    "rank_profile",
]

PROFILE_METHODS = ("auto", "batched", "per-set")
"""How :func:`rank_profile` finds lower bounds: ``"batched"`` materializes one random
instance and ranks all its matricizations together (:data:`BATCH_MAX_ENTRIES`),
``"per-set"`` calls :func:`mtd.generic_rank` once per set, ``"auto"`` batches whenever
the tensor fits, at least :data:`BATCH_FROM` sets are computed and the architecture has
no structural witness (tree decompositions with untied eq. 3 nodes have one,
:mod:`mtd.witness`: exact at any size and cheaper per set)."""

BATCH_FROM = 32
"""``"auto"`` batches from this many computed sets (fewer: per set, cheap anyway)."""


def _log2(x: int) -> float:
    return math.log2(x) if x > 0 else float("-inf")


@dataclass(frozen=True, repr=False)
class RankProfile:
    """Certified bounds on the generic rank for every index set of a family.

    Attributes
    ----------
    index_sets : tuple of tuple of int
        The sets, sorted tuples, in the family's order.
    lower, upper : tuple of int
        Proven bounds per set (exact Python ints).
    maximum : tuple of int
        The trivial bound ``min(Π_{j∈I} M_j, Π_{j∉I} M_j)`` per set: the largest rank
        any tensor of that shape has.
    n_modes : int
    n_computed : int
        How many sets were computed (one per symmetry class); the others share bounds.
    seconds : float
        Wall time.

    Examples
    --------
    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, seed=0)
    >>> prof = mtd.rank_profile(d, "all", seed=0)
    >>> prof.to_records()[:2]
    [{'I': (0,), 'lower': 2, 'upper': 2, 'certified': True}, {'I': (1,), 'lower': 2, \
'upper': 2, 'certified': True}]
    >>> prof.summary()["n_certified"], prof.n_computed
    (7, 3)
    """

    index_sets: tuple[tuple[int, ...], ...]
    lower: tuple[int, ...]
    upper: tuple[int, ...]
    maximum: tuple[int, ...]
    n_modes: int
    n_computed: int
    seconds: float

    @property
    def certified(self) -> tuple[bool, ...]:
        """``lower == upper`` per set."""
        return tuple(lo == up for lo, up in zip(self.lower, self.upper, strict=True))

    def __len__(self) -> int:
        return len(self.index_sets)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per set, with keys ``I``, ``lower``, ``upper``, ``certified``."""
        return [
            {"I": I, "lower": lo, "upper": up, "certified": lo == up}
            for I, lo, up in zip(self.index_sets, self.lower, self.upper, strict=True)
        ]

    def to_pandas(self) -> Any:
        """The profile as a pandas DataFrame, one row per index set.

        Columns ``I``, ``size``, ``lower``, ``upper``, ``certified``, ``maximum``,
        ``log2_lower``, ``log2_upper``, ``full`` (the rank certainly equals ``maximum``).

        Raises
        ------
        MissingDependencyError
            If pandas is not installed (``pip install "mtd[sweep]"`` installs it).
        """
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError(
                'to_pandas needs pandas: pip install "mtd[sweep]"'
            ) from None
        big = max(self.upper, default=0) >= 2**63
        col = (lambda xs: pd.Series(list(xs), dtype=object)) if big else list
        return pd.DataFrame(
            {
                "I": list(self.index_sets),
                "size": [len(I) for I in self.index_sets],
                "lower": col(self.lower),
                "upper": col(self.upper),
                "certified": list(self.certified),
                "maximum": col(self.maximum),
                "log2_lower": [_log2(v) for v in self.lower],
                "log2_upper": [_log2(v) for v in self.upper],
                "full": [lo == m for lo, m in zip(self.lower, self.maximum, strict=True)],
            }
        )

    def summary(self) -> dict[str, Any]:
        """Summary statistics (JSON-ready).

        Keys: ``n_sets``, ``n_computed``, ``n_certified``, ``n_full`` (sets whose rank is
        certainly the maximum any tensor has there), ``log2_lower`` / ``log2_upper``
        (``min``, ``mean``, ``max`` of the base-2 logarithms), ``histogram`` (``{log2 of
        the certified rank: count}``, uncertified sets under ``"uncertified"``),
        ``seconds``.
        """
        lo = [_log2(v) for v in self.lower]
        up = [_log2(v) for v in self.upper]
        hist: Counter[str] = Counter(
            (f"{_log2(a):g}" if a == b else "uncertified")
            for a, b in zip(self.lower, self.upper, strict=True)
        )

        def stats(xs: list[float]) -> dict[str, float]:
            return {"min": min(xs), "mean": sum(xs) / len(xs), "max": max(xs)}

        return {
            "n_sets": len(self),
            "n_computed": self.n_computed,
            "n_certified": sum(self.certified),
            "n_full": sum(a == m for a, m in zip(self.lower, self.maximum, strict=True)),
            "log2_lower": stats(lo),
            "log2_upper": stats(up),
            "histogram": dict(sorted(hist.items(), key=lambda kv: (kv[0] == "uncertified", kv))),
            "seconds": self.seconds,
        }

    def __repr__(self) -> str:
        s = self.summary()
        hist = ", ".join(f"{k}: {v}" for k, v in s["histogram"].items())
        return "\n".join(
            [
                f"RankProfile({s['n_sets']} index sets of {self.n_modes} modes, "
                f"{s['n_certified']} certified)",
                f"  computed     : {s['n_computed']} (one per symmetry class)",
                f"  log2 rank    : min {s['log2_lower']['min']:g}, mean "
                f"{s['log2_lower']['mean']:.3g}, max {s['log2_lower']['max']:g} (lower bounds)",
                f"  at maximum   : {s['n_full']} sets have the largest rank of their shape",
                f"  histogram    : {{log2 rank: count}} {{{hist}}}",
                f"  time         : {self.seconds:.3g} s",
            ]
        )


def architecture_fingerprint(plan: Plan, output: int = 0) -> str:
    """A hash of the architecture (structure, sizes, ties; never the weights' values)."""
    ids: dict[int, int] = {}

    def tie(a: Any) -> Any:
        return None if a is None else (ids.setdefault(id(a), len(ids)), tuple(a.shape))

    parts: list[Any] = [plan.g, sorted(plan.dims.items()), output]
    for s in plan.steps:
        if isinstance(s, LeafStep):
            parts.append(("L", s.slot, s.mode, s.size, tie(s.matrix), tie(s.weight)))
        elif isinstance(s, NodeStep):
            parts.append(("N", s.slot, s.children, s.kind, s.size, [tie(w) for w in s.weights]))
        elif isinstance(s, SwapStep):
            parts.append(("S", s.slots, s.n_channels))
    parts.append([(t.slot, tie(t.matrix)) for t in plan.outputs])
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _bounds_chunk(
    chunk: list[tuple[str, tuple[tuple[int, ...], list[int]]]], model: Any, output: int
) -> list[tuple[str, list[int]]]:
    """Sweep task: ``generic_rank`` of every ``(key, (I, seed words))``."""
    out = []
    for key, (I, words) in chunk:
        res = generic_rank(model, I, output=output, seed=np.random.default_rng(words))
        out.append((key, [res.lower, res.upper]))
    return out


def _tree_of(model: Any) -> Any:
    for attr in ("tree", "T"):
        t = getattr(model, attr, None)
        if t is not None and hasattr(t, "tiling"):
            return t
    convert = getattr(model, "to_decomposition", None)
    if not callable(convert):
        return None
    try:  # an overlapping ConvAC has no tree (its plan is a DAG)
        return _tree_of(convert())
    except MTDError:
        return None


def _maxima(plan: Plan, sets: tuple[tuple[int, ...], ...], masks: np.ndarray) -> list[int]:
    """``min(Π_{j∈I} M_j, Π_{j∉I} M_j)`` per set (vectorized when every ``M_j`` is equal)."""
    dims = [plan.dims[m] for m in plan.modes]
    N = len(dims)
    if len(set(dims)) == 1 and masks.dtype != object:
        sizes = sum(((masks >> j) & 1 for j in range(N)), np.zeros(len(masks), np.int64))
        d = dims[0]
        return [d**k for k in np.minimum(sizes, N - sizes).tolist()]
    out = []
    for I in sets:
        inside = math.prod(plan.dims[j] for j in I)
        out.append(min(inside, math.prod(dims) // inside))
    return out


def _words(x: int) -> list[int]:
    return [(x >> (32 * i)) & 0xFFFFFFFF for i in range(max(1, (x.bit_length() + 31) // 32))]


def rank_profile(
    model: Any,
    index_sets: Any = "all",
    *,
    client: Any = None,
    progress: bool | Callable[[str], None] = False,
    seed: Seed = None,
    output: int = 0,
    max_size: int | None = None,
    n_random: int = 64,
    n_jobs: int | None = None,
    results: Any = None,
    symmetry: bool = True,
    method: Literal["auto", "batched", "per-set"] = "auto",
) -> RankProfile:
    """Certified bounds on the generic rank for every index set of a family.

    Parameters
    ----------
    model : TreeDecomposition, MixedDecomposition, network, …
        Any architecture :func:`mtd.generic_rank` accepts (its weights are ignored),
        overlapping ConvACs (:class:`mtd.networks.OverlappingConvAC`) included.
    index_sets : str or iterable of index sets, default "all"
        A family name (:data:`mtd.families.FAMILIES`: ``"all"``, ``"contiguous"``,
        ``"interleaved"``, ``"canonical"``, ``"tiles"``, ``"left"``, ``"right"``,
        ``"top"``, ``"bottom"``, ``"checkerboard"``, ``"random"``) or the sets.
    client : distributed.Client, optional
        Run the sweep on this Dask cluster (``pip install "mtd[dask]"``).
    progress : bool or callable, default False
        Reported through mtd's progress reporter: True shows a bar (tqdm, when
        installed, on a terminal or in a notebook) or lines on stderr; a callable
        receives the messages (the projected cost, then progress).  The projected cost
        is printed anyway when it exceeds a minute.
    seed : None, int or numpy.random.Generator
        Draws the witnesses (reproducible: a resumed sweep draws what an uninterrupted
        one would).
    output : int, default 0
        Which output ``A^y``.
    max_size, n_random
        Options of the ``"all"`` and ``"random"`` families.
    n_jobs : int, optional
        Local worker processes (joblib; default all cores, 1 for this process).
    results : path, optional
        A JSON-lines results file: the sweep appends to it as it goes and resumes from
        it (:mod:`mtd.sweeps`).
    symmetry : bool, default True
        Compute one set per symmetry class (:mod:`mtd.symmetry`); False computes
        every set up to complements.
    method : {"auto", "batched", "per-set"}, default "auto"
        How lower bounds are found (:data:`PROFILE_METHODS`, module docstring).

    Returns
    -------
    RankProfile

    Raises
    ------
    InvalidIndexSetError
        A set that is empty, every mode, or has a mode out of range.
    InvalidArgumentError, InvalidArgumentTypeError
        An unknown family or method, a bad option, or a model :func:`generic_rank`
        refuses.
    TensorTooLargeError
        For ``method="batched"`` on a tensor over :data:`BATCH_MAX_ENTRIES` entries or
        the memory limit.

    Examples
    --------
    The baseline tree of 8 modes favours interleaved partitions over contiguous ones:

    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2, seed=0)
    >>> [r["upper"] for r in mtd.rank_profile(d, "interleaved", seed=0).to_records()]
    [16, 4, 1]

    All 127 partitions of a mixed decomposition, from one batched instance:

    >>> T, Tb = mtd.ModeTree.baseline(3), mtd.ModeTree.swapped(3, 2)
    >>> m = mtd.MixedDecomposition.random(T, Tb, [(0, 1, 2, 3), (4, 5, 6, 7)], M=2, r=2,
    ...                                   seed=0)
    >>> prof = mtd.rank_profile(m, "all", seed=0, method="batched")
    >>> len(prof), prof.summary()["n_certified"]
    (127, 127)
    """
    started = time.perf_counter()
    if not isinstance(method, str) or method not in PROFILE_METHODS:
        raise InvalidArgumentError(f"method must be one of {PROFILE_METHODS}; got {method!r}")
    plan = get_any_plan(model)
    N = plan.n_modes
    sets: tuple[tuple[int, ...], ...] | None = None
    if isinstance(index_sets, str) and index_sets == "all" and N <= 62:
        masks = all_masks(N, max_size=max_size)  # no tuples before the sweep (N = 24: 8M)
    else:
        sets = resolve_index_sets(
            index_sets, N, tree=_tree_of(model), max_size=max_size, n_random=n_random, seed=seed
        )
        masks = index_set_masks(sets, N)
    keys = symmetry_classes(plan, masks, use_tree=bool(symmetry))
    rep_of = _representatives(masks, keys, N)
    wanted = (
        sorted(set(rep_of.values())) if isinstance(rep_of, dict) else np.unique(rep_of).tolist()
    )
    if method == "batched" and not _batch_ranks.fits(plan):
        raise TensorTooLargeError(
            f"method='batched' materializes the {N}-mode tensor: at most "
            f"{BATCH_MAX_ENTRIES:,} entries under the memory limit, modes numbered "
            f"0..N-1, g = 'product'; got shape {plan.shape} (use method='per-set')"
        )
    batched = method == "batched" or (
        method == "auto"
        and len(wanted) >= BATCH_FROM
        and _witness_scope(plan) is not None  # trees: structural witnesses, cheaper per set
        and _batch_ranks.fits(plan)
    )
    base = int(np.random.default_rng(seed).integers(0, 2**62))
    jobs: list[tuple[str, Any]] = []
    for c in wanted:
        I = tuple(j for j in range(N) if c >> j & 1)
        jobs.append((str(c), I if batched else (I, [*_words(base), *_words(c)])))
    from .sweeps import run_sweep

    fp = architecture_fingerprint(plan, output)
    with reporter(progress, total=len(jobs), desc="rank_profile", unit="sets") as rep:
        how = "batched instances" if batched else "generic_rank per set"
        rep.say(
            f"{len(masks)} index sets, {len(jobs)} to compute (one per symmetry class), "
            f"lower bounds by {how}"
        )
        done = run_sweep(
            _batch_ranks.profile_chunk if batched else _bounds_chunk,
            jobs,
            (model, output, _words(base)) if batched else (model, output),
            fingerprint=fp,
            client=client,
            n_jobs=n_jobs,
            results=results,
            progress=rep,
            sample_size=256 if batched else 16,
        )
    if sets is None:
        sets = masks_to_sets(masks, N)
    reps = rep_of if isinstance(rep_of, dict) else rep_of.tolist()
    lower, upper = [], []
    for i in range(len(sets)):
        lo, up = done[str(reps[i])]
        lower.append(int(lo))
        upper.append(int(up))
    return RankProfile(
        index_sets=tuple(sets),
        lower=tuple(lower),
        upper=tuple(upper),
        maximum=tuple(_maxima(plan, sets, masks)),
        n_modes=N,
        n_computed=len(jobs),
        seconds=time.perf_counter() - started,
    )


def _representatives(masks: np.ndarray, keys: np.ndarray, N: int) -> Any:
    """Per set, the mask its bounds are computed at: the smallest canonical mask of its class.

    An int64 array (vectorized) for ``N <= 62``, else a dict ``{position: mask}``.
    """
    full = (1 << N) - 1
    if masks.dtype != object:
        canon = np.minimum(masks, full - masks)
        if N <= 31 and (len(keys) == 0 or int(keys.min()) >= 0) and int(keys.max(initial=0)) < 2**N:
            order = np.argsort((keys << N) | canon, kind="stable")  # one key: faster
        else:
            order = np.lexsort((canon, keys))
        first = np.ones(len(order), dtype=bool)
        first[1:] = keys[order][1:] != keys[order][:-1]
        group = np.cumsum(first) - 1
        best = canon[order][first]
        out = np.empty(len(masks), dtype=np.int64)
        out[order] = best[group]
        return out
    reps: dict[Any, int] = {}
    for m, k in zip(masks.tolist(), keys.tolist(), strict=True):
        c = min(int(m), full - int(m))
        if k not in reps or c < reps[k]:
            reps[k] = c
    return {i: reps[k] for i, k in enumerate(keys.tolist())}
