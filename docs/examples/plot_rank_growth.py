"""
Rank growth: one tree versus a hybrid
=====================================

Ranks against size: one tree versus a hybrid of two, exactly.

Left, the paper's separating example (N = 16, k = 2; ``plot_separating_example.py``): for
T, T̄ and H Theorem 7's lower and upper bounds coincide, at r^6 for T and T̄ and at r^8
for H, so these are the ranks reached for almost all weights (lines).  The markers are
exact ranks over the rationals of tree decompositions of size r with M = r discretizers
and random integer weights in -1000..1000, computed where the M^N grid tensor is small
(r ≤ 2).

Right, the same construction one level down (N = 8, L = 3, k = 2; mixture nodes {0..3}
and {4..7}; H takes {0..3} from T and {4..7} from T̄; I = {0,2,4,5}): Theorem 7 gives
r^3 for T and T̄ and r^4 for H, and here exact ranks are cheap up to r = 4.

On log-log axes a rank r^e is a line of slope e.  H's rank is also the trivial bound
``M^min(|I|,|Iᶜ|)`` (full rank): no tree decomposition over these modes can exceed it.

Run it on its own with ``python docs/examples/plot_rank_growth.py``.
"""

from __future__ import annotations

import functools
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import mtd
from mtd.bounds import theorem7_exponents
from mtd.separation import separating_example

MAX_WEIGHT = 1000
TRIES = 3
LABEL = {"T": "T", "T̄": r"$\bar{T}$", "H": "H"}  # mathtext drops combining accents
STYLE = {
    "T": {"color": "tab:blue", "marker": "o", "ms": 10},
    "T̄": {"color": "tab:orange", "marker": "s", "ms": 6},
    "H": {"color": "tab:green", "marker": "D", "ms": 7},
}


def setting(L: int) -> tuple[dict[str, mtd.ModeTree], tuple[int, ...]]:
    """T, T̄ (k = 2) and the separating hybrid H over N = 2^L modes, with its index set I."""
    ex = separating_example(L, 2)
    return {"T": ex.T, "T̄": ex.T_bar, "H": ex.hybrid.tree}, ex.I


@functools.cache
def exact_rank(L: int, name: str, r: int) -> int:
    """Largest exact rank of ``[[A]]_I`` over a few integer witnesses of size r, M = r."""
    trees, I = setting(L)
    tree = trees[name]
    upper = mtd.theorem7_bounds(tree, I, r)[1]
    rng = np.random.default_rng(r)
    best = 0
    for _ in range(TRIES):
        dec = mtd.TreeDecomposition.random(
            tree, M=r, r=r, kind="integer", max_weight=MAX_WEIGHT, seed=rng
        )
        A = dec.to_tensor(arithmetic="exact")
        best = max(best, mtd.matricization_rank(A, I, method="exact"))
        if best >= upper:
            break
    return best


def panel(ax: Any, L: int, r_exact: range, r_max: int) -> None:
    """Theorem 7's (coinciding) bounds as lines, exact ranks as markers."""
    trees, I = setting(L)
    rs = np.arange(1, r_max + 1)
    exponents = {}
    for name, tree in trees.items():
        p, q = theorem7_exponents(tree, I)
        assert p == q, "the example is chosen so that Theorem 7's bounds meet"
        exponents.setdefault(q, []).append(name)
    for q, names in exponents.items():
        color = STYLE[names[-1]]["color"] if len(names) == 1 else "tab:gray"
        who = " and ".join(LABEL[n] for n in names)
        ax.plot(rs, rs**q, color=color, lw=1.5, label=f"{who}: Theorem 7's bounds, $r^{{{q}}}$")
    for name in trees:
        ranks = [exact_rank(L, name, r) for r in r_exact]
        ax.plot(
            list(r_exact),
            ranks,
            ls="",
            mfc="none",
            mew=1.5,
            **STYLE[name],
            label=f"{LABEL[name]}: exact rank",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(rs), [str(r) for r in rs])
    ax.minorticks_off()
    ax.set_xlabel("r (channels; M = r discretizers)")
    ax.set_ylabel("rank of $[[A]]_I$")
    ax.grid(alpha=0.3)
    ax.set_title(f"N = {2**L}, I = {{{','.join(map(str, I))}}}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")


def main() -> Any:
    """The figure: the N = 16 separating example and its N = 8 analogue."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    panel(axes[0], 4, range(1, 3), 8)
    panel(axes[1], 3, range(1, 5), 8)
    fig.tight_layout()
    return fig


# %%
# The figure
# ----------

figure = main()
plt.show()
