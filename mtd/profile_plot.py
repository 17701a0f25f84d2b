"""Plots of rank profiles: which partitions each architecture favours (matplotlib, lazily).

One panel, one line per architecture: the base-2 log of the certified rank of every
index set of a family (the lower bound; where it is not certified, the gap to the upper
bound is shaded), index sets along the x axis in the family's order, sorted by the first
profile's ranks when ``sort=True``.  This is the comparison the ICLR 2018 paper makes in
words for its Fig. 6: the baseline tree gives interleaved partitions high rank and
contiguous ones low rank, its swapped companion the reverse on other partitions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InvalidArgumentError, MissingDependencyError
from .profiles import RankProfile

__all__ = ["plot_rank_profiles"]


def plot_rank_profiles(
    profiles: RankProfile | Mapping[str, RankProfile],
    *,
    ax: Any = None,
    sort: bool = False,
    labels: bool | None = None,
) -> Any:
    """Plot one or several rank profiles over the same index sets.

    Parameters
    ----------
    profiles : RankProfile or mapping of name -> RankProfile
        Profiles over the same index sets, in the same order.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    sort : bool, default False
        Order the sets by the first profile's log-rank.
    labels : bool, optional
        Write the index sets under the x axis; default when there are at most 24.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    MissingDependencyError
        If matplotlib is not installed (``pip install "mtd[plot]"``).
    InvalidArgumentError
        If the profiles are over different index sets.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> T = mtd.ModeTree.baseline(3)
    >>> d = mtd.TreeDecomposition.random(T, M=2, r=2, seed=0)
    >>> ax = mtd.profile_plot.plot_rank_profiles({"baseline": mtd.rank_profile(d, "tiles")})
    >>> ax.get_ylabel()
    'log2 generic rank'
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError('plotting needs matplotlib: pip install "mtd[plot]"') from None
    named = {"profile": profiles} if isinstance(profiles, RankProfile) else dict(profiles)
    if not named:
        raise InvalidArgumentError("profiles must not be empty")
    first = next(iter(named.values()))
    for name, p in named.items():
        if p.index_sets != first.index_sets:
            raise InvalidArgumentError(
                f"profiles must share their index sets; {name!r} differs from the first"
            )
    order = np.arange(len(first))
    if sort:
        order = np.argsort([-math.log2(v) for v in first.lower], kind="stable")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.3 * len(first)), 3.5))
    x = np.arange(len(first))
    for name, p in named.items():
        lo = np.array([math.log2(p.lower[i]) for i in order])
        up = np.array([math.log2(p.upper[i]) for i in order])
        (line,) = ax.plot(x, lo, marker="o", ms=3, label=name)
        if (up > lo).any():
            ax.fill_between(x, lo, up, color=line.get_color(), alpha=0.2, step="mid")
    show = len(first) <= 24 if labels is None else labels
    if show:
        ax.set_xticks(x)
        ax.set_xticklabels(
            ["{" + ",".join(map(str, first.index_sets[i])) + "}" for i in order],
            rotation=90,
            fontsize=7,
        )
    else:
        ax.set_xlabel("index set")
    ax.set_ylabel("log2 generic rank")
    ax.legend()
    return ax
