"""Checks of the tree min-cut bound where the leaf dimension ``M`` differs from ``r``.

The theory page, §5 ("Min-cut bound"): the minimum cut of a product-``g`` decomposition
read as a tensor network bounds every matricization rank, and for single trees the
generic rank has equalled it in every case checked (a conjecture until proven).
"""

from __future__ import annotations

import numpy as np

from .. import _reference as ref
from .._typing import Seed
from ..bounds import tree_mincut_bound
from ..trees import ModeTree
from .report import CheckReport, _timed

__all__ = ["check_mincut_unequal_sizes"]


@_timed
def check_mincut_unequal_sizes(
    *, n_cases: int = 40, max_entries: int = 4096, seed: Seed = 0
) -> CheckReport:
    """The tree min-cut bound with ``M > r`` and ``M < r`` against exact ranks.

    Random trees (binary, and arity ≤ 3 for half of them), ``r`` in 2..3, ``M`` above
    ``r`` for two cases in three and below it otherwise (``M^N <= max_entries``), a
    random index set; in every fourth case each interior node gets a size of its own in
    ``1..r+1`` (so that subtrees of the same shape differ in their sizes), and the first
    case is a fixed one where they must (sizes 1, 3, 1, 3 on the four leaf pairs of a
    balanced tree over 8 modes, ``I`` the even modes).  Expected:
    the exact rank over Q (python-flint) of random integer instances (|w| ≤ 1000)
    evaluated entry by entry by eq. 3 with Python ints
    (:mod:`mtd._reference`); every instance must be at most the bound (the bound holds
    for every weight), and the largest of up to three must equal it (the conjecture of
    the theory page).  Measured: :func:`mtd.tree_mincut_bound` and
    :func:`mtd.mincut.mincut_bound` on the decomposition's plan, which must agree.
    """
    from ..decompositions import TreeDecomposition
    from ..mincut import mincut_bound

    rng = np.random.default_rng(seed)
    above = below = disagree = varied = 0
    counts = {"M > r": [0, 0], "M < r": [0, 0]}  # [cases, bound reached]
    misses: list[str] = []
    for i in range(n_cases):
        sizes: dict[frozenset[int], int] | None
        if i == 0:
            # a fixed case whose answer depends on sizes within one level: the balanced
            # binary tree over 8 modes, I the even modes (every leaf pair straddles the
            # cut), r = 2, M = 3, the four pairs of sizes 1, 3, 1, 3: the bound is
            # min(1, 2) * min(3, 2) * ... = 4, and any confusion of the pairs' sizes moves it
            r, M, bigger, tree, I = 2, 3, True, ModeTree.balanced(8), [0, 2, 4, 6]
            pairs = sorted((v for v in tree.nodes if len(v) == 2), key=min)
            sizes = {v: r for v in tree.nodes if not tree.is_leaf(v)}
            sizes.update({v: 1 if k % 2 == 0 else 3 for k, v in enumerate(pairs)})
        else:
            r = int(rng.integers(2, 4))
            bigger = i % 3 != 2
            M = r + int(rng.integers(1, 3)) if bigger else int(rng.integers(1, r))
            n = int(rng.integers(3, 8))
            while n > 3 and M**n > max_entries:
                n -= 1
            tree = ModeTree.random(n, max_arity=3 if i % 2 else 2, seed=rng)
            I = sorted(int(m) for m in rng.choice(n, size=int(rng.integers(1, n)), replace=False))
            # every fourth case: a size of its own for each interior node (1..r+1, so
            # that nodes of one level differ), the discretizers keeping r columns
            sizes = (
                {v: int(rng.integers(1, r + 2)) for v in tree.nodes if not tree.is_leaf(v)}
                if i % 4 == 3
                else None
            )
        bound = tree_mincut_bound(tree, I, r=r, M=M, sizes=sizes)
        varied += sizes is not None
        best = 0
        for _try in range(3):
            d = TreeDecomposition.random(
                tree,
                M=M,
                r=r if sizes is None else sizes,
                r_input=r,
                kind="integer",
                max_weight=1000,
                seed=rng,
            )
            if _try == 0:
                disagree += mincut_bound(d, I) != bound
            A = ref.eq3_tensor(tree.to_nested(), d.discretizers, d.weights)
            rank = ref.matricization_rank(A, I)
            above += rank > bound
            best = max(best, rank)
            if best >= bound:
                break
        key = "M > r" if bigger else "M < r"
        counts[key][0] += 1
        counts[key][1] += best == bound
        if best != bound:
            below += 1
            misses.append(f"{tree.to_nested()} I={I} r={r} M={M} sizes={sizes}: {best} < {bound}")
    return CheckReport(
        claim="tree min-cut bound, M != r",
        setting=f"{n_cases} random trees (arity <= 3), r in 2..3, M above and below r, "
        f"{varied} with a size per interior node, M^N <= {max_entries}, |w| <= 1000",
        expected="rank <= min-cut for every instance; the largest of three = min-cut",
        measured=", ".join(f"{k}: {v[1]}/{v[0]} reached" for k, v in counts.items())
        + f"; above the bound {above}; the two min-cut routines disagree {disagree}",
        independent="eq. 3 with Python ints; python-flint ranks",
        holds=above == below == disagree == 0,
        details={"counts": counts, "above": above, "misses": misses[:5], "disagree": disagree},
    )
