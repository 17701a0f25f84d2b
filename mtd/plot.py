"""Plots with matplotlib: mode trees with an index set, rank-versus-size curves, rank profiles.

matplotlib is optional (``pip install "mtd[plot]"``) and imported only when a function
here is called.  Every function draws on ``ax`` (a new figure's axes when ``ax`` is
None) and returns a named tuple of the matplotlib objects it made, so that a caller
can restyle them or test what was drawn.

* :func:`tree` — the layout of :func:`mtd.display.tree_layout` with the colours of
  :data:`mtd.display.COLORS`: leaves of ``I`` filled, the tiling Θ(I;T) outlined,
  highlighted nodes (e.g. mixture nodes) ringed in gold, a hybrid's nodes by source.
* :func:`ranks` — Theorem 7's lower and upper bounds on ``rank [[A]]_I`` against the
  size ``r`` (the theory page, §4), with certified generic ranks on top when given.
* :func:`profile` — the bounds over a family of index sets (records with keys ``I``,
  ``lower``, ``upper`` and optionally ``certified``, as
  :meth:`GenericRank.to_dict <mtd.GenericRank.to_dict>` or a rank profile's
  ``to_records()`` give).

Ranks are drawn on a log₂ axis: they grow like ``r^e``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ._typing import Node
from .errors import InvalidArgumentError, MissingDependencyError
from .trees import ModeTree, format_node

__all__ = ["TreeArtists", "RankArtists", "ProfileArtists", "tree", "ranks", "profile", "profiles"]


class TreeArtists(NamedTuple):
    """What :func:`tree` drew: ``nodes`` has one point per node, in ``tree.nodes`` order.

    ``halos`` has one gold disc behind each highlighted node (None without highlights).
    """

    ax: Any
    nodes: Any
    edges: Any
    labels: list[Any]
    halos: Any = None


class RankArtists(NamedTuple):
    """What :func:`ranks` drew: the two bound curves and the certified results (or None)."""

    ax: Any
    lower: Any
    upper: Any
    results: Any


class ProfileArtists(NamedTuple):
    """What :func:`profile` drew: a segment per index set, lower and upper markers."""

    ax: Any
    ranges: Any
    lower: Any
    upper: Any


def _axes(ax: Any) -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingDependencyError(
            'mtd.plot needs matplotlib; install it with `pip install "mtd[plot]"`'
        ) from exc
    del matplotlib
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def tree(
    tree: ModeTree,
    I: Iterable[int] | None = None,
    *,
    ax: Any = None,
    highlight: Iterable[Any] | None = None,
    sources: Mapping[Node, int] | None = None,
    labels: bool | None = None,
) -> TreeArtists:
    """Draw a mode tree, optionally with an index set, highlighted nodes and sources.

    Parameters
    ----------
    tree : ModeTree
    I : iterable of int, optional
        Its leaves are filled blue, the nodes of Θ(I;T) get a thick dark-blue outline
        and those of Θ(Iᶜ;T) a thick grey one.
    ax : matplotlib Axes, optional
    highlight : iterable of nodes, optional
        Ringed in gold (e.g. mixture nodes).
    sources : mapping, optional
        Node -> 0 (from T, green) or 1 (from T̄, red), as :attr:`mtd.HybridTree.source`.
    labels : bool, optional
        Label the leaves with their modes; default when ``N <= 64``.

    Returns
    -------
    TreeArtists
        ``nodes`` (a ``PathCollection``, one point per node of ``tree.nodes``),
        ``edges`` (a ``LineCollection``) and the leaf ``labels``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> art = mtd.plot.tree(mtd.ModeTree.baseline(3), I=[0, 2, 5])
    >>> len(art.nodes.get_offsets()), len(art.edges.get_segments())
    (15, 14)
    """
    from .display import COLORS, _fill, node_classes, tree_layout

    ax = _axes(ax)
    from matplotlib.collections import LineCollection

    pos = tree_layout(tree)
    classes = node_classes(tree, I=I, highlight=highlight, sources=sources)
    segs = [
        [(pos[n][0], -pos[n][1]), (pos[c][0], -pos[c][1])]
        for n in tree.interior_nodes
        for c in tree.children(n)
    ]
    edges = LineCollection(segs, colors="#808080", linewidths=1.0, zorder=1)
    ax.add_collection(edges)
    face, edge, width = [], [], []
    for n in tree.nodes:
        c = classes[n]
        face.append(_fill(c))
        if "tile-I" in c:
            edge.append(COLORS["tile-I"])
            width.append(2.5)
        elif "tile-Ic" in c:
            edge.append(COLORS["tile-Ic"])
            width.append(2.5)
        else:
            edge.append(COLORS["stroke"])
            width.append(1.0)
    xs = [pos[n][0] for n in tree.nodes]
    ys = [-pos[n][1] for n in tree.nodes]
    size = max(12.0, min(120.0, 3000.0 / tree.n_modes))
    nodes = ax.scatter(xs, ys, s=size, c=face, edgecolors=edge, linewidths=width, zorder=2)
    marked = [i for i, n in enumerate(tree.nodes) if "highlight" in classes[n]]
    halos = None
    if marked:
        halos = ax.scatter(
            [xs[i] for i in marked],
            [ys[i] for i in marked],
            s=size * 2.6,
            c=COLORS["highlight"],
            linewidths=0,
            zorder=1.5,
        )
    texts = []
    if labels if labels is not None else tree.n_modes <= 64:
        for leaf in tree.leaves:
            x, d = pos[leaf]
            texts.append(ax.text(x, -d - 0.3, str(min(leaf)), ha="center", va="top", fontsize=8))
    ax.set_xlim(-1, tree.n_modes)
    ax.set_ylim(-tree.height - 0.8, 0.5)
    ax.set_axis_off()
    title = f"mode tree over {tree.n_modes} modes"
    if I is not None:
        title += f", I = {format_node(frozenset(int(m) for m in I))}"
    ax.set_title(title)
    return TreeArtists(ax, nodes, edges, texts, halos)


def _bounds_of(item: Any) -> tuple[int, int, bool]:
    if isinstance(item, Mapping):
        lo, up = int(item["lower"]), int(item["upper"])
        return lo, up, bool(item.get("certified", lo == up))
    return int(item.lower), int(item.upper), bool(item.lower == item.upper)


def _index_set(item: Any) -> Any:
    if isinstance(item, Mapping):
        return item["I"] if "I" in item else item["index_set"]
    return item.index_set


def ranks(
    tree: ModeTree,
    I: Iterable[int],
    rs: Sequence[int],
    *,
    results: Sequence[Any] | None = None,
    ax: Any = None,
) -> RankArtists:
    """Theorem 7's bounds on ``rank [[A]]_I`` against the size ``r``, with measured ranks.

    Parameters
    ----------
    tree : ModeTree
    I : iterable of int
    rs : sequence of int
        The sizes on the x axis.
    results : sequence, optional
        One per ``r``: a :class:`~mtd.GenericRank` or a mapping with ``lower`` and
        ``upper`` (e.g. of :func:`mtd.generic_rank` on ``TreeDecomposition.random(tree,
        M=..., r=r)``): drawn as a range with a filled marker when certified.
    ax : matplotlib Axes, optional

    Returns
    -------
    RankArtists
        ``lower`` and ``upper`` (``Line2D``) and ``results`` (an ``ErrorbarContainer``
        or None).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> art = mtd.plot.ranks(mtd.ModeTree.baseline(3), [0, 2, 4, 6], [2, 3, 4])
    >>> art.upper.get_ydata().tolist()  # r^4: every leaf pair split
    [16, 81, 256]
    """
    from .bounds import theorem7_bounds

    ax = _axes(ax)
    rs = [int(r) for r in rs]
    modes = sorted(int(m) for m in I)
    pairs = [theorem7_bounds(tree, modes, r) for r in rs]
    (lower,) = ax.plot(rs, [p[0] for p in pairs], "--", color="#4c72b0", label="Theorem 7 lower")
    (upper,) = ax.plot(rs, [p[1] for p in pairs], "-", color="#e15759", label="Theorem 7 upper")
    drawn = None
    if results is not None:
        if len(results) != len(rs):
            raise InvalidArgumentError(
                f"results must have one entry per r ({len(rs)}); got {len(results)}"
            )
        got = [_bounds_of(x) for x in results]
        mid = [lo for lo, _, _ in got]
        err = [[0] * len(got), [up - lo for lo, up, _ in got]]
        drawn = ax.errorbar(
            rs, mid, yerr=err, fmt="o", color="#59a14f", capsize=3, label="generic rank bounds"
        )
        certified = [c for _, _, c in got]
        drawn.lines[0].set_markerfacecolor("none" if not all(certified) else "#59a14f")
    ax.set_yscale("log", base=2)
    ax.set_xticks(rs)
    ax.set_xlabel("size r")
    ax.set_ylabel("rank of [[A]]_I")
    ax.set_title(f"I = {format_node(frozenset(modes))} on a tree of {tree.n_modes} modes")
    ax.legend()
    return RankArtists(ax, lower, upper, drawn)


def profile(records: Any, *, ax: Any = None) -> ProfileArtists:
    """Rank bounds over a family of index sets: a vertical range per set.

    Parameters
    ----------
    records : iterable, or an object with ``to_records()``
        Mappings with keys ``I`` (or ``index_set``), ``lower``, ``upper`` and optionally
        ``certified``; or :class:`~mtd.GenericRank` results.
    ax : matplotlib Axes, optional

    Returns
    -------
    ProfileArtists
        ``ranges`` (a ``LineCollection``, one segment per set), ``lower`` (certified
        sets filled, others hollow) and ``upper`` (``PathCollection``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> recs = [{"I": [0, 1], "lower": 4, "upper": 4}, {"I": [0, 2], "lower": 4, "upper": 16}]
    >>> art = mtd.plot.profile(recs)
    >>> [t.get_text() for t in art.ax.get_xticklabels()]
    ['{0,1}', '{0,2}']
    """
    ax = _axes(ax)
    if hasattr(records, "to_records"):
        records = records.to_records()
    recs = list(records)
    if not recs:
        raise InvalidArgumentError("records must hold at least one index set; got none")
    try:
        got = [_bounds_of(r) for r in recs]
        names = [format_node(frozenset(int(m) for m in _index_set(r))) for r in recs]
    except (KeyError, TypeError) as exc:
        raise InvalidArgumentError(
            f"records must be mappings with keys I, lower and upper; got {recs[0]!r}"
        ) from exc
    xs = list(range(len(recs)))
    from matplotlib.collections import LineCollection

    ranges = LineCollection(
        [[(x, lo), (x, up)] for x, (lo, up, _) in zip(xs, got, strict=True)],
        colors="#808080",
        linewidths=2,
    )
    ax.add_collection(ranges)
    face = ["#4c72b0" if c else "none" for _, _, c in got]
    lower = ax.scatter(xs, [g[0] for g in got], c=face, edgecolors="#4c72b0", zorder=3)
    upper = ax.scatter(xs, [g[1] for g in got], marker="_", s=120, c="#e15759", zorder=3)
    ax.set_xticks(xs)
    slanted = len(xs) > 6
    ax.set_xticklabels(names, rotation=60 if slanted else 0, ha="right" if slanted else "center")
    ax.set_yscale("log", base=2)
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylabel("rank of [[A]]_I")
    ax.set_xlabel("index set I (filled: certified)")
    return ProfileArtists(ax, ranges, lower, upper)


def profiles(
    named: Any,
    *,
    ax: Any = None,
    sort: bool = False,
    labels: bool | None = None,
) -> Any:
    """Compare architectures: one line per rank profile over the same index sets.

    The base-2 log of each set's certified rank (the lower bound; where it is not
    certified the gap to the upper bound is shaded), sets along the x axis in the family's
    order — the comparison the ICLR 2018 paper makes in words for its Fig. 6: the
    baseline tree gives interleaved partitions high rank and contiguous ones low rank,
    its swapped companion favours others.  :func:`profile` draws one profile's ranges.

    Parameters
    ----------
    named : RankProfile or mapping of name -> RankProfile
        Profiles (:func:`mtd.rank_profile`) over the same index sets, in the same order.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    sort : bool, default False
        Order the sets by the first profile's log-rank, largest first.
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
        If there are no profiles, or they are over different index sets.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> T = mtd.ModeTree.baseline(3)
    >>> d = mtd.TreeDecomposition.random(T, M=2, r=2, seed=0)
    >>> ax = mtd.plot.profiles({"baseline": mtd.rank_profile(d, "tiles")})
    >>> ax.get_ylabel()
    'log2 generic rank'
    """
    import math

    from .profiles import RankProfile

    given = {"profile": named} if isinstance(named, RankProfile) else dict(named)
    if not given:
        raise InvalidArgumentError("profiles must name at least one profile; got none")
    first = next(iter(given.values()))
    for name, p in given.items():
        if p.index_sets != first.index_sets:
            raise InvalidArgumentError(
                f"profiles must share their index sets; {name!r} differs from the first"
            )
    order = list(range(len(first)))
    if sort:
        order.sort(key=lambda i: -math.log2(first.lower[i]))
    if ax is None:
        ax = _axes(None)
        ax.figure.set_size_inches(max(6.0, 0.3 * len(first)), 3.5)
    x = list(range(len(first)))
    for name, p in given.items():
        lo = [math.log2(p.lower[i]) for i in order]
        up = [math.log2(p.upper[i]) for i in order]
        (line,) = ax.plot(x, lo, marker="o", ms=3, label=name)
        if any(u > v for u, v in zip(up, lo, strict=True)):
            ax.fill_between(x, lo, up, color=line.get_color(), alpha=0.2, step="mid")
    if len(first) <= 24 if labels is None else labels:
        ax.set_xticks(x)
        ax.set_xticklabels(
            [format_node(frozenset(first.index_sets[i])) for i in order], rotation=90, fontsize=7
        )
    else:
        ax.set_xlabel("index set")
    ax.set_ylabel("log2 generic rank")
    ax.legend()
    return ax
