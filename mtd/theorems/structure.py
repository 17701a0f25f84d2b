"""Checks of mode-tree structure: dilated stacks, companions, tilings, Theorem 7.

The dilated stacks and swapped companions of §2 and Theorem 7's exponents
(Cohen, Tamari & Shashua, ICLR 2018).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from .. import _reference as ref
from .._typing import Seed
from ..bounds import theorem7_bounds, theorem7_exponents, trivial_bound
from ..trees import ModeTree
from .report import CheckReport, _timed

__all__ = [
    "check_dilation_trees",
    "check_swapped_shared_nodes",
    "check_tilings",
    "check_theorem7_structure",
]


@_timed
def check_dilation_trees(*, layers: Iterable[int] = range(2, 7)) -> CheckReport:
    """Every permutation of the dilations gives the tree its dilated stack computes.

    Expected (the theory page, §2): the tree found by following the output unit down
    the stack (:func:`mtd._reference.tree_from_dilations`), children in order, for every
    permutation of ``1, 2, …, 2^(L-1)`` (all of them for ``L <= 4``, a sample above);
    for the baseline the nodes of height ``h`` are the blocks of ``2^h``; and every
    non-permutation of the dilations is rejected.
    """
    layers = list(layers)
    failures: list[str] = []
    cases = 0
    rng = np.random.default_rng(0)
    for L in layers:
        dil = [2**i for i in range(L)]
        perms = [list(p) for p in itertools.permutations(dil)] if L <= 4 else []
        perms += [list(rng.permutation(dil)) for _ in range(6 if L > 4 else 0)]
        for d in perms:
            cases += 1
            d = [int(x) for x in d]
            if ModeTree.from_dilations(d).to_nested() != ref.tree_from_dilations(d):
                failures.append(f"{d}")
        tree = ModeTree.from_dilations(dil)
        for h in range(L + 1):
            want = {frozenset(range(b * 2**h, (b + 1) * 2**h)) for b in range(2 ** (L - h))}
            got = {n for n in tree.nodes if tree.node_height(n) == h}
            if got != want:
                failures.append(f"L={L} h={h}")
        bad = list(dil)
        bad[-1] = bad[0]
        try:
            ModeTree.from_dilations(bad)
            failures.append(f"L={L}: accepted non-permutation {bad}")
        except ValueError:
            pass
    return CheckReport(
        claim="dilations -> mode tree",
        setting=f"L = {layers[0]}..{layers[-1]}, {cases} dilation orders",
        expected="the stack's own tree, children in order; baseline blocks; bad input rejected",
        measured="all match" if not failures else f"mismatch: {', '.join(failures[:5])}",
        independent="a separate walk down the dilated stack, compared as nested tuples",
        holds=not failures,
        details={"failures": failures, "cases": cases},
    )


@_timed
def check_swapped_shared_nodes(*, layers: Iterable[int] = range(2, 7)) -> CheckReport:
    """The k-swapped companion is the tree of the reversed-in-blocks dilations.

    Expected: ``ModeTree.swapped(L, k)`` equals the tree of the dilations
    ``d_l = 2^(⌈l/k⌉·k − 1 − ((l−1) mod k))`` (children in order), and it shares with
    the baseline exactly the blocks of height a multiple of ``k`` (the theory page, §2),
    for every ``k`` dividing ``L``.
    """
    layers = list(layers)
    failures: list[str] = []
    cases = 0
    for L in layers:
        base = ModeTree.baseline(L)
        for k in range(1, L + 1):
            if L % k:
                continue
            cases += 1
            swapped = ModeTree.swapped(L, k)
            dil = [2 ** (-(-l // k) * k - 1 - ((l - 1) % k)) for l in range(1, L + 1)]
            if swapped.to_nested() != ref.tree_from_dilations(dil):
                failures.append(f"L={L},k={k}: not the tree of {dil}")
            want = {
                frozenset(range(b * 2**h, (b + 1) * 2**h))
                for h in range(0, L + 1, k)
                for b in range(2 ** (L - h))
            }
            if set(base.nodes) & set(swapped.nodes) != want:
                failures.append(f"L={L},k={k}: shared nodes")
    return CheckReport(
        claim="swapped companion",
        setting=f"L = {layers[0]}..{layers[-1]}, every k | L ({cases} pairs)",
        expected="tree of the block-reversed dilations; shared = blocks of height k·j",
        measured="all match" if not failures else f"mismatch: {', '.join(failures)}",
        independent="the dilation formula walked by a separate routine; blocks by formula",
        holds=not failures,
        details={"failures": failures, "cases": cases},
    )


@_timed
def check_tilings(*, n_trees: int = 50, max_modes: int = 12, seed: Seed = 0) -> CheckReport:
    """Θ(I;T) is the set of maximal nodes inside I, on random k-ary trees."""
    rng = np.random.default_rng(seed)
    failures = 0
    for _ in range(n_trees):
        n = int(rng.integers(2, max_modes + 1))
        tree = ModeTree.random(n, max_arity=int(rng.integers(2, 5)), seed=rng)
        I = frozenset(int(m) for m in np.flatnonzero(rng.random(n) < 0.5))
        tiles = tree.tiling(I)
        want = set(ref.tiling(tree.to_nested(), I))
        ok = set(tiles) == want and sum(len(t) for t in tiles) == len(I)
        failures += not ok
    return CheckReport(
        claim="tilings",
        setting=f"{n_trees} random trees, N <= {max_modes}, arity <= 4",
        expected="Θ(I;T) = the maximal subtrees inside I",
        measured=f"{n_trees - failures}/{n_trees} tilings equal",
        independent="recursive descent over the nested tree",
        holds=failures == 0,
        details={"failures": failures},
    )


@_timed
def check_theorem7_structure(*, seed: Seed = 0, n_cases: int = 200) -> CheckReport:
    """Theorem 7's exponents on random k-ary trees, the k-ary example and the paper's example.

    Expected: ``(p, q)`` recomputed from the nested tree by :mod:`mtd._reference`
    (``q`` from tilings, ``p`` the split nodes of depth ≥ 1, which for binary trees
    must equal the paper's count of sibling pairs); ``r^p ≤ r^q ≤`` the trivial bound
    ``M^min(|I|, |Iᶜ|)``, computed here and by :func:`mtd.trivial_bound`;
    for the tree ``((1,3,0),2)`` and ``I = {3}`` the exponent ``p = 1`` (the theory page,
    §5: counting sibling pairs would say 2); and for the paper's example (N = 16,
    I = {0,2,4,6,8,9,12,13}) exponents (6, 6) for T and T̄.
    """
    rng = np.random.default_rng(seed)
    bad: list[str] = []
    for i in range(n_cases):
        n = int(rng.integers(2, 13))
        tree = ModeTree.random(n, max_arity=2 if i % 2 else 4, seed=rng)
        k = int(rng.integers(1, n))
        I = [int(m) for m in rng.choice(n, size=k, replace=False)]
        nested = tree.to_nested()
        want = ref.theorem7_exponents(nested, I)
        got = theorem7_exponents(tree, I)
        lo, hi = theorem7_bounds(tree, I, 3)
        trivial = trivial_bound(n, I, 3)
        binary = all(len(tree.children(v)) == 2 for v in tree.interior_nodes)
        if (
            got != want
            or (lo, hi) != (3 ** want[0], 3 ** want[1])
            or not lo <= hi <= 3 ** min(k, n - k) == trivial
            or (binary and want[0] != ref.sibling_pairs(nested, I))
        ):
            bad.append(f"{nested} I={sorted(I)}: {got} vs {want}")
    kary = theorem7_exponents(ModeTree.from_nested(((1, 3, 0), 2)), [3])
    I16 = [0, 2, 4, 6, 8, 9, 12, 13]
    ex = (
        theorem7_exponents(ModeTree.baseline(4), I16),
        theorem7_exponents(ModeTree.swapped(4, 2), I16),
    )
    ok = not bad and ex == ((6, 6), (6, 6)) and kary == (1, 1)
    return CheckReport(
        claim="Theorem 7 bounds (structure)",
        setting=f"{n_cases} random trees (binary and arity <= 4), r = 3; ((1,3,0),2); N = 16",
        expected="exponents as recomputed; ((1,3,0),2), I={3}: (1, 1); N=16: T (6,6), T_bar (6,6)",
        measured=(
            f"{n_cases - len(bad)}/{n_cases} equal; ((1,3,0),2): {kary}; T: {ex[0]}, T_bar: {ex[1]}"
        ),
        independent="tilings and split nodes from the nested tree; sibling pairs (binary)",
        holds=ok,
        details={"mismatches": bad[:5], "kary_example": kary},
    )
