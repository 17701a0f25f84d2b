"""
The separating example and Theorem 7
====================================

The paper's separating example (k = 2, N = 16) and Theorem 7 on its trees, with exact ranks.

``T`` is the baseline tree of a dilated network with ``L = 4`` layers (dilations 1, 2, 4, 8;
``N = 16`` modes), ``T̄`` its companion swapped in blocks of ``k = 2`` layers (dilations
2, 1, 8, 4).  The mixture nodes are the four blocks ``{0..3}, …, {12..15}`` (the output
of layer 2, shared by both trees), and the hybrid ``H`` takes the segments of ``{0..3}``
and ``{4..7}`` from ``T`` and everything else, the root segment too, from ``T̄``.

For every tree the table gives, on the paper's ``I``, the tiles, Theorem 7's bounds (from
the tree alone), and the exact rank
of ``[[A]]_I`` (over the rationals) for a tree decomposition of size ``r = M = 2`` with
random integer weights in ``-1000..1000`` (small weights give degenerate ranks).  The
rank of one integer witness is a lower bound on the rank reached for almost all
weights, so where it meets an upper bound that generic rank is *certified*.

Run it on its own with ``python docs/examples/plot_separating_example.py``.
"""

# %%
# The trees, the index sets and the witnesses
# -------------------------------------------

from __future__ import annotations

import functools
import time

import numpy as np

import mtd
from mtd.bounds import theorem7_exponents
from mtd.separation import separating_example

R = 2  # size (channels) of the decompositions, and M = R discretizers
MAX_WEIGHT = 1000
TRIES = 3  # witnesses per tree, until one reaches the upper bound

EXAMPLE = separating_example(4, 2)  # mtd's construction, the paper's for k = 2
T, T_BAR, HYBRID = EXAMPLE.T, EXAMPLE.T_bar, EXAMPLE.hybrid
TREES = {"T": T, "T̄": T_BAR, "H": HYBRID.tree}
PAPER_I = (0, 2, 4, 6, 8, 9, 12, 13)
assert EXAMPLE.I == PAPER_I
INDEX_SETS = {
    "contiguous halves": tuple(range(8)),
    "interleaved (odd modes)": tuple(range(1, 16, 2)),
    "pairs": (0, 1, 4, 5, 8, 9, 12, 13),
    "the paper's I": PAPER_I,
}


@functools.cache
def witnesses(name: str) -> tuple[np.ndarray, ...]:
    """Exact grid tensors of a few tree decompositions of ``TREES[name]`` (r = M = R)."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(TRIES):
        dec = mtd.TreeDecomposition.random(
            TREES[name], M=R, r=R, kind="integer", max_weight=MAX_WEIGHT, seed=rng
        )
        out.append(dec.to_tensor(arithmetic="exact"))
    return tuple(out)


@functools.cache
def exact_rank(name: str, I: tuple[int, ...]) -> int:
    """The largest exact rank of ``[[A]]_I`` over the witnesses (stop at the upper bound)."""
    upper = mtd.theorem7_bounds(TREES[name], I, R)[1]
    best = 0
    for A in witnesses(name):
        best = max(best, mtd.matricization_rank(A, I, method="exact"))
        if best >= upper:
            break
    return best


def _set(I: tuple[int, ...]) -> str:
    return "{" + ",".join(map(str, I)) + "}"


def separating_table() -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    """T, T̄ and H on the paper's I: tilings, Theorem 7's exponents and exact ranks."""
    header = (
        "tree",
        "|Θ(I)|",
        "|Θ(Iᶜ)|",
        "Theorem 7 (lower, upper)",
        f"at r = {R}",
        f"exact rank, r = M = {R}",
        "certified",
    )
    rows = []
    for name, tree in TREES.items():
        p, q = theorem7_exponents(tree, PAPER_I)
        Ic = mtd.complement(PAPER_I, tree.n_modes)
        lower, upper = mtd.theorem7_bounds(tree, PAPER_I, R)
        rank = exact_rank(name, PAPER_I)
        rows.append(
            (
                name,
                len(tree.tiling(PAPER_I)),
                len(tree.tiling(Ic)),
                f"(r^{p}, r^{q})",
                f"({lower}, {upper})",
                rank,
                "yes" if rank == upper else "no",
            )
        )
    return header, rows


def theorem7_table() -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    """Theorem 7's bounds, the min-cut bound and exact ranks for several index sets."""
    header = (
        "index set I",
        "tree",
        "|Θ(I)|, |Θ(Iᶜ)|",
        "Thm 7 lower",
        "Thm 7 upper",
        "min-cut",
        "exact rank",
        "certified",
    )
    rows = []
    for label, I in INDEX_SETS.items():
        for name, tree in TREES.items():
            Ic = mtd.complement(I, tree.n_modes)
            lower, upper = mtd.theorem7_bounds(tree, I, R)
            cut = mtd.tree_mincut_bound(tree, I, r=R, M=R)
            rank = exact_rank(name, I)
            rows.append(
                (
                    f"{label} {_set(I)}" if name == "T" else "",
                    name,
                    f"{len(tree.tiling(I))}, {len(tree.tiling(Ic))}",
                    lower,
                    upper,
                    cut,
                    rank,
                    "yes" if rank == min(upper, cut) else "no",
                )
            )
    return header, rows


def _print_table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    cells = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for i, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    start = time.perf_counter()
    print(f"H = {HYBRID.tree.to_nested()}")
    print(f"\nThe separating example, I = {_set(PAPER_I)}:\n")
    _print_table(*separating_table())
    print(f"\n(exact ranks over the rationals; {time.perf_counter() - start:.1f} s)")


# %%
# The separating example
# ----------------------
# Every number below is computed here: the bounds from the trees alone, the ranks
# exactly, over the rationals.

main()

# %%
# ``theorem7_table()`` applies Theorem 7 to the same trees for more index sets (the
# contiguous halves, the odd modes, pairs); the guide's chapter on Theorem 7 shows its
# table, computed while the docs build.  Print it here with
# ``_print_table(*theorem7_table())`` (about 30 exact ranks of 256 × 256 matrices).
