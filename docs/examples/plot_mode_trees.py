"""
The trees of the separating example
===================================

Mode trees of the separating example: the baseline, its swapped companion and a hybrid.

Each tree is drawn with its leaves (the modes, the network's inputs in time order) on the
bottom row and every interior node at its height, above the mean position of its
children, so the dilations of a network show as the spans of its edges.  Edges are
coloured by the tree whose weights they carry (T or T̄); the square nodes are the mixture
nodes, the four blocks of four modes that both trees share.  The paper's index set
I = {0,2,4,6,8,9,12,13} is marked: dark nodes lie inside I, light ones inside Iᶜ, and the
large ones are the tiles, the maximal such nodes (Θ(I;T) and Θ(Iᶜ;T)).  Theorem 7's
exponents follow from the tiles (see the titles).

Run it on its own with ``python docs/examples/plot_mode_trees.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

import mtd
from mtd.bounds import theorem7_exponents
from mtd.separation import separating_example

COLORS = {mtd.FROM_T: "tab:blue", mtd.FROM_T_BAR: "tab:orange"}
INSIDE, OUTSIDE, ACROSS = "#222222", "white", "#bbbbbb"


def positions(tree: mtd.ModeTree) -> dict[frozenset[int], tuple[float, float]]:
    """x: the mode for a leaf, the mean of the children's x otherwise; y: the height."""
    pos: dict[frozenset[int], tuple[float, float]] = {}
    for node in reversed(tree.nodes):  # children before parents
        if tree.is_leaf(node):
            x = float(next(iter(node)))
        else:
            x = sum(pos[c][0] for c in tree.children(node)) / len(tree.children(node))
        pos[node] = (x, float(tree.node_height(node)))
    return pos


def draw_tree(
    ax: Any,
    tree: mtd.ModeTree,
    I: tuple[int, ...],
    *,
    source: Mapping[frozenset[int], int],
    mixture: frozenset[frozenset[int]],
    title: str,
) -> None:
    """Draw ``tree`` on ``ax``: edges coloured by ``source``, nodes by their side of I."""
    pos = positions(tree)
    rows = frozenset(I)
    cols = frozenset(range(tree.n_modes)) - rows
    tiles = set(tree.tiling(rows)) | set(tree.tiling(cols))
    for node in tree.interior_nodes:
        x0, y0 = pos[node]
        for child in tree.children(node):
            x1, y1 = pos[child]
            ax.plot([x0, x1], [y0, y1], color=COLORS[source[node]], lw=1.6, zorder=1)
    for node in tree.nodes:
        x, y = pos[node]
        face = INSIDE if node <= rows else OUTSIDE if node <= cols else ACROSS
        size = 11 if node in tiles else 6
        marker = "s" if node in mixture else "o"
        ax.plot(x, y, marker=marker, ms=size, mfc=face, mec="black", mew=0.8, zorder=2)
    for j in range(tree.n_modes):
        ax.annotate(str(j), (j, 0), xytext=(0, -14), textcoords="offset points", ha="center")
    p, q = theorem7_exponents(tree, I)
    n_rows, n_cols = len(tree.tiling(rows)), len(tree.tiling(cols))
    ax.set_title(
        f"{title}:  |Θ(I)| = {n_rows}, |Θ(Iᶜ)| = {n_cols};  Theorem 7: "
        f"$r^{{{p}}}$ ≤ rank ≤ $r^{{{q}}}$",
        fontsize=10,
        loc="left",
    )
    ax.set_xlim(-0.6, tree.n_modes - 0.4)
    ax.set_ylim(-0.9, tree.height + 0.4)
    ax.set_yticks(range(tree.height + 1))
    ax.set_ylabel("height")
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)


def main() -> Any:
    """The figure: T, T̄ and the hybrid H of the separating example, with I marked."""
    ex = separating_example(4, 2)
    T, T_bar, H, I = ex.T, ex.T_bar, ex.hybrid, ex.I
    mixture = frozenset(ex.mixture_nodes)
    dilations = ", ".join(map(str, mtd.ModeTree.swapped_dilations(4, 2)))

    fig, axes = plt.subplots(3, 1, figsize=(9.5, 9.0))
    draw_tree(
        axes[0],
        T,
        I,
        source=dict.fromkeys(T.interior_nodes, mtd.FROM_T),
        mixture=mixture,
        title="T, baseline (dilations 1, 2, 4, 8)",
    )
    draw_tree(
        axes[1],
        T_bar,
        I,
        source=dict.fromkeys(T_bar.interior_nodes, mtd.FROM_T_BAR),
        mixture=mixture,
        title=r"$\bar{T}$" + f", swapped k = 2 (dilations {dilations})",
    )
    draw_tree(
        axes[2],
        H.tree,
        I,
        source=H.source,
        mixture=mixture,
        title=r"H, hybrid ({0..3}, {4..7} from T; the rest from $\bar{T}$)",
    )
    handles = [
        Line2D([], [], color=COLORS[mtd.FROM_T], lw=2, label="edge of T"),
        Line2D([], [], color=COLORS[mtd.FROM_T_BAR], lw=2, label="edge of T̄"),
        Line2D([], [], ls="", marker="o", ms=9, mfc=INSIDE, mec="k", label="node inside I"),
        Line2D([], [], ls="", marker="o", ms=9, mfc=OUTSIDE, mec="k", label="node inside Iᶜ"),
        Line2D([], [], ls="", marker="o", ms=6, mfc=ACROSS, mec="k", label="node across the cut"),
        Line2D([], [], ls="", marker="s", ms=8, mfc="white", mec="k", label="mixture node"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False)
    fig.suptitle("I = {0, 2, 4, 6, 8, 9, 12, 13}; large markers: the tiles", fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    return fig


# %%
# The figure
# ----------

figure = main()
plt.show()
