"""Checks of width design: which per-depth channels cap which cuts.

See :func:`mtd.design.width_controls`.
"""

from __future__ import annotations

import numpy as np

from .._typing import Seed
from ..ranks import matricization_rank
from ..trees import ModeTree
from .report import CheckReport, _timed

__all__ = [
    "check_width_control",
]


_WIDTH_PRIME = 2**31 - 1


@_timed
def check_width_control(
    *, L: int = 3, M: int = 4, widths: tuple[int, ...] = (2, 2), seed: Seed = 0
) -> CheckReport:
    """Width allocation: the per-depth channels in the min-cut bound decide which cuts they cap.

    For the baseline tree and its swapped companion over ``2^L`` modes, eq. 3 with one
    output channel at the root, ``M`` at the leaves and ``widths[d-1]`` channels at depth
    ``d``: for every index set of a small family and every depth, the bound
    :func:`mtd.design.width_controls` predicts with that depth halved, as given and
    doubled.  Expected, independently: the rank modulo ``2**31 - 1`` (a proven lower
    bound on the rank over Q) of the materialized grid tensor of random integer
    instances with weights in ``[-1000, 1000]`` (the larger of two seeds).  Holds when
    the two agree everywhere: the bound is reached, so which depths limit (or would
    lift) each cut is known.
    """
    from ..decompositions import TreeDecomposition
    from ..design import width_controls

    rng = np.random.default_rng(seed)
    N = 2**L
    sets = [(0, 1), (0, 2, 4, 6), (0, 1, 2), (1, 2), (0, 4), tuple(range(1, N, 2))]
    sets = [I for I in sets if max(I) < N]
    base = {d + 1: w for d, w in enumerate(widths)}
    variants = {("base", 0): base}
    for d, w in base.items():
        variants["halved", d] = {**base, d: max(1, w // 2)}
        variants["doubled", d] = {**base, d: 2 * w}
    mismatches = []
    n = 0
    for tree in (ModeTree.baseline(L), ModeTree.swapped(L, 2)):
        # instance ranks: one pair of random integer instances per width variant
        ranks: dict[tuple[str, int], list[int]] = {}
        for key, ws in variants.items():
            best = [0] * len(sets)
            for _ in range(2):
                inst = TreeDecomposition.random(
                    tree,
                    M=M,
                    r={0: 1, **ws},
                    r_input=M,
                    kind="integer",
                    max_weight=1000,
                    seed=int(rng.integers(2**31)),
                )
                # the integer tensor reduced mod p: its rank mod p is a proven lower bound
                A = inst.to_tensor(arithmetic="modular", prime=_WIDTH_PRIME)
                best = [
                    max(b, matricization_rank(A, I, method="modular", prime=_WIDTH_PRIME))
                    for b, I in zip(best, sets, strict=True)
                ]
            ranks[key] = best
        for i, I in enumerate(sets):
            for d, row in width_controls(tree, I, widths=base, M=M).items():
                for how in ("halved", "base", "doubled"):
                    got = ranks["base", 0][i] if how == "base" else ranks[how, d][i]
                    n += 1
                    if got != row[how]:
                        mismatches.append(
                            {
                                "tree": tree.to_nested(),
                                "I": list(I),
                                "depth": d,
                                "variant": how,
                                "bound": row[how],
                                "instance_rank": got,
                            }
                        )
    return CheckReport(
        claim="width control (design)",
        setting=f"baseline and 2-swapped trees, N = {N}, M = {M}, widths {widths}, "
        f"{len(sets)} cuts, each depth halved / doubled",
        expected="exact ranks of random integer instances",
        independent=(
            "instances evaluated by the engine modulo p and ranked by modular elimination, "
            "which share no code with the min-cut DP behind the predicted bounds"
        ),
        measured=f"{n - len(mismatches)} of {n} predicted bounds reached",
        holds=not mismatches,
        details={"cases": n, "mismatches": mismatches[:10]},
    )
