"""Rich display: SVG drawings of mode trees and HTML tables of mtd's objects and results.

Jupyter shows an object through its ``_repr_svg_`` / ``_repr_html_`` method; mtd's
classes delegate those to the functions here, which build plain strings (no
dependency beyond the standard library).

**Tree drawings** (:func:`tree_svg`): the root at the top, one row per depth, the
leaves left to right in the tree's leaf order (:attr:`mtd.ModeTree.leaf_order`), an
interior node above the middle of its children.  Every node is an SVG ``<circle>``
whose ``class`` says what it is, so that the drawing can be styled and inspected:

* ``node`` and ``leaf`` or ``interior``;
* with an index set ``I``: ``in-I`` for the leaves in ``I``, ``tile-I`` for the
  nodes of the tiling Θ(I;T) and ``tile-Ic`` for those of Θ(Iᶜ;T) (the theory page, §2);
* ``highlight`` for the nodes passed as ``highlight`` (e.g. mixture nodes), which are
  also ringed in gold by a ``<circle class="halo">`` drawn behind them, so that their
  fill can still show ``I`` or their source tree;
* ``from-T`` / ``from-Tbar`` for the interior nodes of a hybrid tree, after the tree
  they came from.

Each circle has a ``data-modes`` attribute (its modes, comma-separated) and a
``<title>`` tooltip.  :func:`tree_layout` gives the coordinates to other renderers
(:mod:`mtd.plot` draws the same layout with matplotlib).

**Tables** (:func:`html`): a summary of a decomposition (sizes, parameter count,
form), a network, a :class:`~mtd.GenericRank`, a :class:`~mtd.theorems.CheckReport`
(or a list of them: :func:`reports_html`), a separating example or a gap report.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._typing import Node
from .trees import ModeTree, format_node

__all__ = [
    "COLORS",
    "Drawing",
    "tree_layout",
    "node_classes",
    "tree_svg",
    "auto_svg",
    "MAX_AUTO_MODES",
    "html",
    "reports_html",
    "short_repr",
]

COLORS: Mapping[str, str] = {
    "node": "#ffffff",
    "stroke": "#404040",
    "in-I": "#4c72b0",
    "tile-I": "#1f3d7a",
    "tile-Ic": "#c0c0c0",
    "highlight": "#f2b701",
    "from-T": "#59a14f",
    "from-Tbar": "#e15759",
}
"""The colours of the drawings (shared with :mod:`mtd.plot`)."""


class Drawing:
    """An SVG drawing: ``str(d)`` is its text; notebooks show it as a picture.

    Examples
    --------
    >>> d = mtd.ModeTree.baseline(2).svg(I=[0, 2])
    >>> str(d).startswith("<svg")
    True
    """

    __slots__ = ("data",)

    def __init__(self, data: str):
        self.data = data

    def _repr_svg_(self) -> str:
        return self.data

    def __str__(self) -> str:
        return self.data

    def __repr__(self) -> str:
        return f"<Drawing: SVG of {len(self.data)} characters>"


def tree_layout(tree: ModeTree) -> dict[Node, tuple[float, int]]:
    """Coordinates ``(x, depth)`` of every node: leaves at ``x = 0, 1, …`` in leaf order.

    Examples
    --------
    >>> from mtd.display import tree_layout
    >>> pos = tree_layout(mtd.ModeTree.from_nested(((0, 1), 2)))
    >>> pos[frozenset({0, 1})], pos[frozenset({2})], pos[frozenset({0, 1, 2})]
    ((0.5, 1), (2.0, 1), (1.25, 0))
    """
    order = {m: i for i, m in enumerate(tree.leaf_order)}
    pos: dict[Node, tuple[float, int]] = {}
    for node in reversed(tree.nodes):  # children before parents
        kids = tree.children(node)
        if kids:
            pos[node] = ((pos[kids[0]][0] + pos[kids[-1]][0]) / 2, tree.depth(node))
        else:
            (m,) = node
            pos[node] = (float(order[m]), tree.depth(node))
    return pos


def _nodes(tree: ModeTree, raw: Iterable[Any] | None, name: str) -> set[Node]:
    return set() if raw is None else {tree._node(n, name) for n in raw}


def node_classes(
    tree: ModeTree,
    *,
    I: Iterable[int] | None = None,
    highlight: Iterable[Any] | None = None,
    sources: Mapping[Node, int] | None = None,
) -> dict[Node, list[str]]:
    """The classes of every node in a drawing (module docstring).

    Examples
    --------
    >>> from mtd.display import node_classes
    >>> T = mtd.ModeTree.baseline(2)
    >>> node_classes(T, I=[0, 1])[frozenset({0, 1})]
    ['node', 'interior', 'tile-I']
    """
    marked = _nodes(tree, highlight, "highlight")
    classes: dict[Node, list[str]] = {}
    rows: frozenset[int] = frozenset()
    tile_i: set[Node] = set()
    tile_c: set[Node] = set()
    if I is not None:
        rows = frozenset(int(m) for m in I)
        tile_i = set(tree.tiling(rows)) if rows else set()
        rest = frozenset(range(tree.n_modes)) - rows
        tile_c = set(tree.tiling(rest)) if rest else set()
    for node in tree.nodes:
        c = ["node", "leaf" if tree.is_leaf(node) else "interior"]
        if tree.is_leaf(node) and node <= rows:
            c.append("in-I")
        if node in tile_i:
            c.append("tile-I")
        if node in tile_c:
            c.append("tile-Ic")
        if node in marked:
            c.append("highlight")
        if sources is not None and node in sources:
            c.append("from-Tbar" if sources[node] else "from-T")
        classes[node] = c
    return classes


def _fill(c: Sequence[str]) -> str:
    for key in ("from-Tbar", "from-T", "in-I"):
        if key in c:
            return COLORS[key]
    return COLORS["node"]


def _stroke(c: Sequence[str]) -> tuple[str, float]:
    if "tile-I" in c:
        return COLORS["tile-I"], 3.0
    if "tile-Ic" in c:
        return COLORS["stroke"], 2.5
    return COLORS["stroke"], 1.0


MAX_AUTO_MODES = 2048
"""Notebooks draw trees of at most this many modes by themselves (:func:`auto_svg`)."""


def auto_svg(tree: ModeTree) -> str | None:
    """The drawing a notebook shows by itself: :func:`tree_svg`, or None for big trees.

    Past :data:`MAX_AUTO_MODES` modes only the text summary is shown (a drawing of
    megabytes would stall the notebook); :meth:`ModeTree.svg` draws it anyway.

    Examples
    --------
    >>> from mtd.display import auto_svg
    >>> auto_svg(mtd.ModeTree.baseline(2)).startswith("<svg")
    True
    >>> auto_svg(mtd.ModeTree.baseline(12)) is None  # 4096 modes
    True
    """
    return tree_svg(tree) if tree.n_modes <= MAX_AUTO_MODES else None


def tree_svg(
    tree: ModeTree,
    *,
    I: Iterable[int] | None = None,
    highlight: Iterable[Any] | None = None,
    sources: Mapping[Node, int] | None = None,
    title: str | None = None,
    max_width: int = 960,
) -> str:
    """An SVG drawing of a mode tree, optionally with an index set, highlights and sources.

    Parameters
    ----------
    tree : ModeTree
    I : iterable of int, optional
        An index set: its leaves are filled, the nodes of its tiling Θ(I;T) get a
        thick blue outline and those of Θ(Iᶜ;T) a thick grey one.
    highlight : iterable of nodes, optional
        Nodes to ring in gold (e.g. mixture nodes).
    sources : mapping, optional
        Node -> 0 (from T) or 1 (from T̄), as :attr:`mtd.HybridTree.source`.
    title : str, optional
        A caption above the tree; default: the tree's size, and ``I`` if given.
    max_width : int, default 960
        The drawing is narrowed to fit this many pixels, down to 6 px per leaf (leaf
        labels are dropped below 14 px).

    Returns
    -------
    str
        An ``<svg>`` element (module docstring for its classes).

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> svg = mtd.display.tree_svg(mtd.ModeTree.baseline(2), I=[0, 1])
    >>> circles = ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}circle")
    >>> sorted(c.get("data-modes") for c in circles if "tile-I" in c.get("class").split())
    ['0,1']
    """
    if not isinstance(tree, ModeTree):
        raise TypeError(f"tree must be a ModeTree; got {type(tree).__name__}")
    pos = tree_layout(tree)
    classes = node_classes(tree, I=I, highlight=highlight, sources=sources)
    n = tree.n_modes
    dx = max(6.0, min(36.0, (max_width - 40) / max(n, 1)))
    dy = 56.0 if tree.height <= 8 else max(24.0, 448.0 / tree.height)
    rad = max(2.5, min(9.0, dx / 3))
    top = 40.0
    width = int(dx * n + 40)
    height = int(top + dy * tree.height + 44)
    if title is None:
        title = f"mode tree over {n} modes, height {tree.height}"
        if I is not None:
            title += f"; I = {format_node(frozenset(int(m) for m in I))}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<text class="title" x="8" y="16">{_html.escape(title)}</text>',
    ]

    def xy(node: Node) -> tuple[float, float]:
        x, d = pos[node]
        return 20 + dx / 2 + dx * x, top + dy * d

    for node in tree.interior_nodes:
        x0, y0 = xy(node)
        for c in tree.children(node):
            x1, y1 = xy(c)
            out.append(
                f'<line class="edge" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                f'stroke="#808080" stroke-width="1"/>'
            )
    for node in tree.nodes:
        x, y = xy(node)
        cls = classes[node]
        stroke, sw = _stroke(cls)
        modes = ",".join(str(m) for m in sorted(node))
        if "highlight" in cls:
            out.append(
                f'<circle class="halo" data-modes="{modes}" cx="{x:.1f}" cy="{y:.1f}" '
                f'r="{rad + max(2.5, rad / 2):.1f}" fill="{COLORS["highlight"]}"/>'
            )
        out.append(
            f'<circle class="{" ".join(cls)}" data-modes="{modes}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{rad:.1f}" fill="{_fill(cls)}" stroke="{stroke}" stroke-width="{sw}">'
            f"<title>{format_node(node)}</title></circle>"
        )
        if tree.is_leaf(node) and dx >= 14:
            out.append(
                f'<text class="label" x="{x:.1f}" y="{y + rad + 12:.1f}" '
                f'text-anchor="middle">{modes}</text>'
            )
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------------ tables
def reports_html(reports: Iterable[Any]) -> str:
    """One HTML table of check reports (claim, setting, expected, measured, verdict, route).

    Examples
    --------
    >>> from mtd.theorems import check_tilings
    >>> "<td>holds</td>" in mtd.display.reports_html([check_tilings(n_trees=2)])
    True
    """
    from ._tables import _e

    reps = list(reports)
    head = "".join(
        f"<th>{h}</th>"
        for h in ("claim", "setting", "expected", "measured", "verdict", "independent route", "s")
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{_e(v)}</td>"
            for v in (
                r.claim,
                r.setting,
                r.expected,
                r.measured,
                r.verdict,
                r.independent,
                f"{r.seconds:.2g}",
            )
        )
        + "</tr>"
        for r in reps
    )
    held = sum(r.holds for r in reps)
    return (
        f'<div class="mtd-repr"><strong>{held} of {len(reps)} checks hold</strong>'
        f'<table class="mtd-table"><tr>{head}</tr>{body}</table></div>'
    )


def html(obj: Any) -> str:
    """An HTML summary of an mtd object (what notebooks show).

    Parameters
    ----------
    obj : ModeTree, HybridTree, TreeDecomposition, MixedDecomposition, a network,
        GenericRank, CheckReport, SeparatingExample, GapReport, or a list of CheckReports

    Returns
    -------
    str
        A ``<div>`` holding a ``<table>`` with one row per fact (and a tree drawing
        where there is a tree).

    Examples
    --------
    >>> from mtd.separation import gap_report
    >>> "<td>1626</td>" in mtd.display.html(gap_report(5, 4, 128))
    True
    """
    from . import _tables as t

    name = type(obj).__name__
    if isinstance(obj, (list, tuple)):
        return reports_html(obj)
    table = {
        "ModeTree": t.html_tree,
        "HybridTree": t.html_hybrid,
        "GenericRank": t.html_generic_rank,
        "CheckReport": t.html_check,
        "SeparatingExample": t.html_separating,
        "GapReport": t.html_gap,
        "TreeDecomposition": t.html_decomposition,
        "MixedDecomposition": t.html_decomposition,
    }
    if name in table:
        return table[name](obj)
    if hasattr(obj, "channels") and hasattr(obj, "n_parameters"):
        return t.html_network(obj)
    raise TypeError(f"mtd has no HTML display for {name}")


def short_repr(obj: Any) -> str:
    """A one-line ``repr`` of a result dataclass (the dataclass dumps are unreadable).

    Examples
    --------
    >>> from mtd.separation import gap_report, separating_example
    >>> gap_report(5, 4, 128)
    <GapReport L=5 k=4 r=128: exponents T 9, T_bar 9, H 16; channels needed 1626>
    >>> separating_example(4, 2)
    <SeparatingExample L=4 k=2: N=16, I={0,2,4,6,8,9,12,13}, 4 mixture nodes>
    """
    name = type(obj).__name__
    if name == "CheckReport":
        return f"<CheckReport {obj.claim!r}: {obj.verdict} ({obj.setting}; {obj.seconds:.2g} s)>"
    if name == "SeparatingExample":
        modes = format_node(frozenset(int(m) for m in obj.I))
        return (
            f"<SeparatingExample L={obj.L} k={obj.k}: N={obj.n_modes}, I={modes}, "
            f"{len(obj.mixture_nodes)} mixture nodes>"
        )
    if name == "GapReport":
        return (
            f"<GapReport L={obj.L} k={obj.k} r={obj.r}: exponents T {obj.exponent_T}, T_bar "
            f"{obj.exponent_Tbar}, H {obj.exponent_H}; channels needed {obj.channels_needed}>"
        )
    return object.__repr__(obj)
