"""Checks of mtd's mathematical claims, run on demand by ``mtd verify``.

Each check is a function that computes something independently of the code it
checks where it can (expected values come from the theory page, not from
the code under test) and returns a :class:`CheckReport`: the claim, the setting,
what was expected, what was measured and a verdict.  :func:`run_checks` runs them
all and is what the command line calls.

What is checked so far: mode trees built from dilations, the swapped
companion's shared nodes, tilings, structural bounds, exact, modular and numeric
ranks, Theorem 7's bounds against exact ranks of tree decompositions, and Claim 5
on the paper's setting.  :data:`NOT_YET_CHECKED` lists the claims of the theory page, §5
that need machinery mtd does not have yet; ``mtd verify`` prints them so that it
never claims more than it checked.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._progress import reporter
from ._rich import Rich
from ._typing import Seed
from .bounds import theorem7_bounds, theorem7_exponents, tree_mincut_bound, trivial_bound
from .hybrids import common_interior, hybrid_trees
from .ranks import matricization_rank, matrix_rank
from .trees import ModeTree

__all__ = [
    "CheckReport",
    "CHECKS",
    "NOT_YET_CHECKED",
    "check_dilation_trees",
    "check_swapped_shared_nodes",
    "check_tilings",
    "check_theorem7_structure",
    "check_exact_ranks",
    "check_theorem7_exact",
    "check_claim5",
    "check_separating_example",
    "check_depth_efficiency",
    "check_pooling_geometry",
    "check_generalized_g",
    "check_overlapping",
    "check_mixed_vs_sum",
    "check_width_control",
    "run_checks",
    "reports_to_markdown",
    "reports_to_json",
]


@dataclass(frozen=True, repr=False)
class CheckReport(Rich):
    """The outcome of one check: what was claimed, expected, measured, and whether it held.

    Attributes
    ----------
    claim : str
        The claim checked, e.g. ``"dilation trees"``.
    setting : str
        The parameters it was checked on.
    expected : str
        What theory says, computed independently of the checked code.
    measured : str
        What mtd computed.
    holds : bool
        The verdict.
    seconds : float
        Wall time of the check.
    details : dict
        Machine-readable specifics (counts, failures).
    """

    claim: str
    setting: str
    expected: str
    measured: str
    holds: bool
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``"holds"`` or ``"FAILS"``."""
        return "holds" if self.holds else "FAILS"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field plus ``verdict``."""
        d = asdict(self)
        d["verdict"] = self.verdict
        return d

    def to_markdown(self) -> str:
        """One Markdown table row: claim | setting | expected | measured | verdict."""
        cells = [self.claim, self.setting, self.expected, self.measured, self.verdict]
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _timed(fn: Callable[..., CheckReport]) -> Callable[..., CheckReport]:
    def wrapper(*args: Any, **kwargs: Any) -> CheckReport:
        t0 = time.perf_counter()
        rep = fn(*args, **kwargs)
        return CheckReport(**{**asdict(rep), "seconds": time.perf_counter() - t0})

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


@_timed
def check_dilation_trees(*, layers: Iterable[int] = range(2, 7)) -> CheckReport:
    """Baseline dilations 1, 2, …, 2^(L-1) give the perfect binary tree of contiguous blocks.

    Expected (the theory page, §2): the nodes of height ``h`` are exactly the ``2^(L-h)``
    blocks ``{b·2^h, …, (b+1)·2^h − 1}``; and every non-permutation of the
    dilations is rejected.
    """
    layers = list(layers)
    failures: list[str] = []
    for L in layers:
        tree = ModeTree.from_dilations([2**i for i in range(L)])
        for h in range(L + 1):
            want = {frozenset(range(b * 2**h, (b + 1) * 2**h)) for b in range(2 ** (L - h))}
            got = {n for n in tree.nodes if tree.node_height(n) == h}
            if got != want:
                failures.append(f"L={L} h={h}")
        bad = [2**i for i in range(L)]
        bad[-1] = bad[0]
        try:
            ModeTree.from_dilations(bad)
            failures.append(f"L={L}: accepted non-permutation {bad}")
        except ValueError:
            pass
    return CheckReport(
        claim="dilations -> mode tree",
        setting=f"L = {layers[0]}..{layers[-1]}",
        expected="height-h nodes = contiguous blocks of 2^h; non-permutations rejected",
        measured="all match" if not failures else f"mismatch: {', '.join(failures)}",
        holds=not failures,
        details={"failures": failures},
    )


@_timed
def check_swapped_shared_nodes(*, layers: Iterable[int] = range(2, 7)) -> CheckReport:
    """The baseline and its k-swapped companion share exactly the nodes of height ≡ 0 mod k.

    Expected: the shared nodes are the baseline's blocks of height ``h`` for every
    ``h`` that is a multiple of ``k`` (the theory page, §2), for every ``k`` dividing ``L``.
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
            want = {
                frozenset(range(b * 2**h, (b + 1) * 2**h))
                for h in range(0, L + 1, k)
                for b in range(2 ** (L - h))
            }
            if set(base.nodes) & set(swapped.nodes) != want:
                failures.append(f"L={L},k={k}")
    return CheckReport(
        claim="swapped companion",
        setting=f"L = {layers[0]}..{layers[-1]}, every k | L ({cases} pairs)",
        expected="shared nodes = baseline blocks of height multiple of k",
        measured="all match" if not failures else f"mismatch: {', '.join(failures)}",
        holds=not failures,
        details={"failures": failures, "cases": cases},
    )


@_timed
def check_tilings(*, n_trees: int = 50, max_modes: int = 12, seed: Seed = 0) -> CheckReport:
    """Θ(I;T) partitions I into nodes of T, each maximal (its parent is not inside I)."""
    rng = np.random.default_rng(seed)
    failures = 0
    for _ in range(n_trees):
        n = int(rng.integers(2, max_modes + 1))
        tree = ModeTree.random(n, max_arity=int(rng.integers(2, 5)), seed=rng)
        I = frozenset(int(m) for m in np.flatnonzero(rng.random(n) < 0.5))
        tiles = tree.tiling(I)
        union = frozenset().union(*tiles) if tiles else frozenset()
        ok = (
            union == I
            and sum(len(t) for t in tiles) == len(I)
            and all(t in tree for t in tiles)
            and all(not (p := tree.parent(t)) or not p <= I for t in tiles)
        )
        failures += not ok
    return CheckReport(
        claim="tilings",
        setting=f"{n_trees} random trees, N <= {max_modes}, arity <= 4",
        expected="tiles partition I; each tile maximal",
        measured=f"{n_trees - failures}/{n_trees} partitions correct",
        holds=failures == 0,
        details={"failures": failures},
    )


@_timed
def check_theorem7_structure(*, seed: Seed = 0, n_cases: int = 200) -> CheckReport:
    """Theorem 7's bounds are consistent and reproduce the paper's separating example.

    Expected: ``r^p ≤ r^q ≤`` the trivial bound for ``M = r`` on random trees and
    index sets; and for the paper's example (N = 16, I = {0,2,4,6,8,9,12,13})
    exponents (6, 6) for both the baseline and the 2-swapped tree (the theory page, §5).
    This checks the bound formulas only; ranks are checked once decompositions
    exist.
    """
    rng = np.random.default_rng(seed)
    bad = 0
    for _ in range(n_cases):
        n = int(rng.integers(2, 13))
        tree = ModeTree.random(n, seed=rng)
        k = int(rng.integers(1, n))
        I = [int(m) for m in rng.choice(n, size=k, replace=False)]
        lo, hi = theorem7_bounds(tree, I, 3)
        bad += not (lo <= hi <= trivial_bound(n, I, 3))
    I = [0, 2, 4, 6, 8, 9, 12, 13]
    ex = (
        theorem7_exponents(ModeTree.baseline(4), I),
        theorem7_exponents(ModeTree.swapped(4, 2), I),
    )
    ok = bad == 0 and ex == ((6, 6), (6, 6))
    return CheckReport(
        claim="Theorem 7 bounds (structure)",
        setting=f"{n_cases} random binary trees, r = M = 3; paper's N = 16 example",
        expected="lower <= upper <= M^min(|I|,|Ic|); exponents T: (6,6), T_bar: (6,6)",
        measured=f"{n_cases - bad}/{n_cases} consistent; exponents T: {ex[0]}, T_bar: {ex[1]}",
        holds=ok,
        details={"inconsistent": bad},
    )


@_timed
def check_exact_ranks(*, n_cases: int = 40, max_size: int = 24, seed: Seed = 0) -> CheckReport:
    """Exact rank equals the known rank of a product of full-rank integer factors.

    ``X = P Q`` with ``P = perm([I_k; B])`` and ``Q = [I_k, C] perm``: both factors
    contain an identity block, so ``rank X = k`` by construction.  Also checks
    modular ≤ exact and that numeric SVD agrees on these well-scaled matrices.
    """
    rng = np.random.default_rng(seed)
    mismatch = modular_bad = numeric_bad = 0
    for _ in range(n_cases):
        m, n = (int(x) for x in rng.integers(1, max_size + 1, size=2))
        k = int(rng.integers(0, min(m, n) + 1))
        P = np.vstack([np.eye(k, dtype=np.int64), rng.integers(-3, 4, (m - k, k))])
        Q = np.hstack([np.eye(k, dtype=np.int64), rng.integers(-3, 4, (k, n - k))])
        X = P[rng.permutation(m)] @ Q[:, rng.permutation(n)]
        exact = matrix_rank(X, method="exact")
        mismatch += exact != k
        modular_bad += matrix_rank(X, method="modular") > exact
        numeric_bad += matrix_rank(X.astype(float), method="numeric") != k
    ok = mismatch == modular_bad == numeric_bad == 0
    return CheckReport(
        claim="exact / modular / numeric rank",
        setting=f"{n_cases} integer products P@Q, sizes <= {max_size}",
        expected="exact = k (by construction); modular <= exact; numeric = k",
        measured=(
            f"exact wrong {mismatch}, modular > exact {modular_bad}, numeric wrong {numeric_bad}"
        ),
        holds=ok,
        details={
            "exact_wrong": mismatch,
            "modular_above": modular_bad,
            "numeric_wrong": numeric_bad,
        },
    )


@_timed
def check_theorem7_exact(
    *, n_cases: int = 30, max_modes: int = 8, r: int = 2, seed: Seed = 0
) -> CheckReport:
    """Theorem 7 against exact ranks: lower ≤ rank [[A]]_I ≤ upper for tree decompositions.

    Random binary trees and index sets, ``M = r``, random integer weights in
    -1000..1000 (small weights, e.g. -2..2, often give degenerate, non-generic
    ranks).  The upper bound must hold for every weight, so every exact rank is
    compared with it.  The lower bound holds for almost every weight; a witness is
    the modular rank (a lower bound on the exact rank) of one of three random
    integer decompositions, which must reach it.
    """
    from .decompositions import TreeDecomposition

    rng = np.random.default_rng(seed)
    above = below = 0
    for _ in range(n_cases):
        n = int(rng.integers(3, max_modes + 1))
        tree = ModeTree.random(n, seed=rng)
        I = sorted(int(m) for m in rng.choice(n, size=int(rng.integers(1, n)), replace=False))
        lower, upper = theorem7_bounds(tree, I, r)
        best = 0
        for _try in range(3):
            dec = TreeDecomposition.random(
                tree, M=r, r=r, kind="integer", max_weight=1000, seed=rng
            )
            A = dec.to_tensor(arithmetic="exact")
            exact = matricization_rank(A, I, method="exact")
            above += exact > upper
            best = max(best, matricization_rank(A, I, method="modular"))
            if best >= lower:
                break
        below += best < lower
    return CheckReport(
        claim="Theorem 7 (exact ranks)",
        setting=f"{n_cases} random binary trees, N <= {max_modes}, M = r = {r}, integer weights",
        expected="every exact rank <= r^min(|Θ(I)|,|Θ(Ic)|); a witness reaches r^p",
        measured=f"above upper: {above}; lower bound not reached: {below}",
        holds=above == below == 0,
        details={"above_upper": above, "lower_not_reached": below},
    )


@_timed
def check_claim5(*, h: int = 2, seed: Seed = 0, n_hybrids: int | None = None) -> CheckReport:
    """Claim 5 on the paper's setting: every hybrid lives in the mixed decomposition.

    ``T`` = baseline(4), ``T̄`` = swapped(4, 2), mixture nodes = the four blocks
    of size 4 (all 32 hybrids).  For each hybrid, a random integer decomposition
    of size ``h`` is embedded (eq. 6) in a mixed decomposition of size ``2h``;
    outputs ``0..h-1`` must be equal, entry for entry, in exact arithmetic.
    """
    from .decompositions import TreeDecomposition, embed_hybrid

    T, T_bar = ModeTree.baseline(4), ModeTree.swapped(4, 2)
    mix = [n for n in common_interior(T, T_bar) if len(n) == 4]
    hybrids = hybrid_trees(T, T_bar, mix)[:n_hybrids]
    rng = np.random.default_rng(seed)
    equal = 0
    for hyb in hybrids:
        H = TreeDecomposition.random(hyb.tree, M=2, r=h, kind="integer", seed=rng)
        mixed = embed_hybrid(H, T, T_bar, mix, hybrid=hyb)
        equal += all(
            np.array_equal(
                mixed.to_tensor(y, arithmetic="exact"), H.to_tensor(y, arithmetic="exact")
            )
            for y in range(h)
        )
    return CheckReport(
        claim="Claim 5 (hybrids embed)",
        setting=f"L = 4, k = 2, 4 mixture nodes, {len(hybrids)} hybrids, size {h} -> {2 * h}",
        expected="mixed outputs 0..h-1 = hybrid outputs, exactly",
        measured=f"{equal}/{len(hybrids)} equal",
        holds=equal == len(hybrids),
        details={"equal": equal, "hybrids": len(hybrids)},
    )


def _max_exact_rank(
    make: Callable[[int], np.ndarray], I: Any, *, tries: int = 3, stop_at: int | None = None
) -> int:
    """The largest exact rank of ``[[make(seed)]]_I`` over a few seeds.

    Random integer weights reach the generic rank except on a null set; a few tries
    guard against an unlucky draw.  Each value is a lower bound on the generic rank,
    so the search stops early once it reaches ``stop_at`` (a proven upper bound).
    """
    best = 0
    for seed in range(tries):
        best = max(best, matricization_rank(make(seed), I, method="exact"))
        if stop_at is not None and best >= stop_at:
            break
    return best


@_timed
def check_separating_example(*, r: int = 2, ks: Iterable[int] = (2, 3)) -> CheckReport:
    """The separating example (and Corollary 8's exponents) for each k, with exact ranks.

    For ``L = 4`` (N = 16) and each ``k``: T (baseline), T̄ (k-swapped), mixture
    nodes the blocks of ``2^k`` modes, H and I from
    :func:`mtd.separation.separating_example`.  Expected (theory): Theorem 7's
    bounds meet at ``r^(N/4 + N/2^(k+1))`` for T and T̄ and at ``r^(N/2)`` for H;
    measured: the largest exact rank of a few random integer decompositions
    (``M = r``, weights in -1000..1000), which must reach those values.  The
    exponent ratio is ``2/(1 + 2^(1-k))`` (Corollary 8).
    """
    from .decompositions import TreeDecomposition
    from .separation import separating_example

    ks = list(ks)
    L = 4
    N = 2**L
    rng = np.random.default_rng(0)
    rows: list[str] = []
    measured_rows: list[str] = []
    ok = True
    details: dict[str, Any] = {}
    for k in ks:
        ex = separating_example(L, k)
        want = {"T": N // 4 + N // 2 ** (k + 1), "T_bar": N // 4 + N // 2 ** (k + 1), "H": N // 2}
        got: dict[str, int] = {}
        for name, tree in (("T", ex.T), ("T_bar", ex.T_bar), ("H", ex.hybrid.tree)):
            lower, upper = theorem7_bounds(tree, ex.I, r)
            ok &= lower == upper == r ** want[name]
            seeds = [int(x) for x in rng.integers(0, 2**32, size=3)]

            def make(i: int, tree: ModeTree = tree, seeds: list[int] = seeds) -> np.ndarray:
                dec = TreeDecomposition.random(
                    tree, M=r, r=r, kind="integer", max_weight=1000, seed=seeds[i]
                )
                return dec.to_tensor(arithmetic="exact")

            got[name] = _max_exact_rank(make, ex.I, stop_at=upper)
        ok &= got == {n: r**e for n, e in want.items()}
        rows.append(f"k={k}: T {r}^{want['T']}, T_bar {r}^{want['T_bar']}, H {r}^{want['H']}")
        measured_rows.append(f"k={k}: T {got['T']}, T_bar {got['T_bar']}, H {got['H']}")
        details[f"k={k}"] = {"I": list(ex.I), "expected_exponents": want, "measured": got}
    return CheckReport(
        claim="separating example",
        setting=f"N = {N}, r = M = {r}, k = {', '.join(map(str, ks))}; exact ranks",
        expected="; ".join(rows),
        measured="; ".join(measured_rows),
        holds=ok,
        details=details,
    )


@_timed
def check_depth_efficiency(*, N: int = 16, M: int = 2, r: int = 2) -> CheckReport:
    """COLT'16: the deep ConvAC's odd-modes matricization has rank min(r_0, M)^(N/2).

    A deep ConvAC (binary pooling, COLT form, ``r`` channels per layer, integer
    weights) and a shallow one (CP) with ``Z = r`` components.  Expected: the
    deep network reaches ``min(r, M)^(N/2)`` on the odd modes (its almost-everywhere
    lower bound, here also the trivial bound ``M^(N/2)``); the shallow network's rank
    is at most ``Z`` for every weight, so a shallow network needs at least
    ``min(r, M)^(N/2)`` components to match.
    """
    from .networks import PoolingConvAC

    odd = list(range(1, N, 2))
    tree = ModeTree.balanced(N)
    depth = tree.height

    def deep(seed: int) -> np.ndarray:
        net = PoolingConvAC(tree, (r,) * depth, M=M, kind="integer", max_weight=1000, seed=seed)
        return net.grid_tensor()

    def shallow(seed: int) -> np.ndarray:
        net = PoolingConvAC.shallow(N, M=M, Z=r, kind="integer", max_weight=1000, seed=seed)
        return net.grid_tensor()

    want = min(r, M) ** (N // 2)
    got_deep = _max_exact_rank(deep, odd, stop_at=want)
    got_shallow = _max_exact_rank(shallow, odd)
    return CheckReport(
        claim="depth efficiency (COLT'16)",
        setting=f"N = {N}, M = {M}, r = {r}; odd modes; shallow Z = {r}",
        expected=f"deep: {want}; shallow: <= {r}",
        measured=f"deep: {got_deep}; shallow: {got_shallow}",
        holds=got_deep == want and got_shallow <= r,
        details={"deep": got_deep, "shallow": got_shallow, "needed_components": want},
    )


@_timed
def check_pooling_geometry(*, side: int = 4, M: int = 2, r: int = 2) -> CheckReport:
    """ICLR'17 Thm. 1: the pooling windows decide which partitions get high rank.

    A ``side × side`` image (2×2 windows), contiguous and mirror pooling, on the
    coarse (left half), top-half and interleaved (checkerboard) partitions.
    Expected: when ``S`` first-level windows are split, rank ≥ ``min(r, M)^S``
    (almost everywhere); every rank ≤ the min-cut bound of the pooling tree, which
    caps coarse partitions at the channels of the last hidden layer.
    """
    from .networks import PoolingConvAC, image_partition, image_tree

    failures: list[str] = []
    cells: list[str] = []
    want_cells: list[str] = []
    details: dict[str, Any] = {}
    for geometry in ("contiguous", "mirror"):
        tree = image_tree(side, geometry=geometry)
        windows = [n for n in tree.interior_nodes if tree.node_height(n) == 1]
        for part in ("left", "top", "checkerboard"):
            I = image_partition(side, part)
            rows = set(I)
            S = sum(1 for w in windows if 0 < len(w & rows) < len(w))
            lower = min(r, M) ** S
            upper = tree_mincut_bound(tree, I, r=r, M=M, dense_output=True)

            def make(seed: int, tree: ModeTree = tree) -> np.ndarray:
                net = PoolingConvAC(
                    tree, (r,) * tree.height, M=M, kind="integer", max_weight=1000, seed=seed
                )
                return net.grid_tensor()

            got = _max_exact_rank(make, I, stop_at=upper)
            if not lower <= got <= upper:
                failures.append(f"{geometry}/{part}")
            cells.append(f"{geometry}/{part}: {got}")
            want_cells.append(f"{geometry}/{part}: [{lower}, {upper}]")
            details[f"{geometry}/{part}"] = {
                "split_windows": S,
                "lower": lower,
                "upper": upper,
                "measured": got,
            }
    return CheckReport(
        claim="pooling geometry (ICLR'17)",
        setting=f"{side}x{side} image, 2x2 windows, M = {M}, r = {r}",
        expected="; ".join(want_cells) + " ([min(r,M)^S, min-cut])",
        measured="; ".join(cells),
        holds=not failures,
        details=details,
    )


@_timed
def check_generalized_g(*, N: int = 8, M: int = 3, Z: int = 4) -> CheckReport:
    """ICML'16: ReLU with sum pooling in a shallow network gives rank ≤ 2; max pooling does not.

    A shallow network (star tree, ``Z`` components) on integer templates: with
    ``g`` = ``max(a,0) + max(b,0)`` (ReLU, sum pooling) it computes a sum of
    single-mode functions, so every matricization has rank ≤ 2 (expected, for every
    weight); with ``g = max(a, b, 0)`` (max pooling, universal) ranks above 2 occur.
    Integer inputs stay integers through ReLU, so ranks are exact.
    """
    from .networks import PoolingConvAC

    sets = ([0, 1, 2, 3], [0, 2, 4, 6], [0])
    measured: dict[str, int] = {}
    for g in ("relu_sum", "max", "product"):

        def make(seed: int, g: str = g) -> np.ndarray:
            net = PoolingConvAC.shallow(
                N, M=M, Z=Z, g=g, kind="integer", max_weight=1000, seed=seed
            )
            return net.grid_tensor()

        measured[g] = max(_max_exact_rank(make, I) for I in sets)
    ok = measured["relu_sum"] <= 2 < measured["max"] and measured["product"] <= Z
    return CheckReport(
        claim="generalized g (ICML'16)",
        setting=f"shallow, N = {N}, M = {M}, Z = {Z}; I in {{0..3}}, evens, {{0}}",
        expected=f"relu_sum: <= 2; max: > 2; product: <= {Z}",
        measured=", ".join(f"{g}: {v}" for g, v in measured.items()) + " (largest rank)",
        holds=ok,
        details=measured,
    )


@_timed
def check_overlapping(
    *, N: int = 8, r: int = 2, windows: Iterable[int] = (1, 2, 3, 4)
) -> CheckReport:
    """Sharir & Shashua (ICLR'18): overlapping windows raise the two-halves rank.

    Two GC layers of window ``R`` and stride 1 on ``N`` inputs, ``r`` channels,
    global product pooling.  ``R = S = 1`` is non-overlapping: a sum of ``r``
    products of single-input functions, so rank ≤ ``r`` for every weight
    (expected).  Overlapping windows (``R > S``) must raise the rank of the
    coarse (two halves) partition strictly as ``R`` grows; the library computes
    the ranks (the paper's exact constants were not available).
    """
    from .networks import OverlappingConvAC

    halves = list(range(N // 2))
    ranks: dict[int, int] = {}
    for R in windows:

        def make(seed: int, R: int = R) -> np.ndarray:
            net = OverlappingConvAC(
                N, [(R, 1), (R, 1)], (r, r, r), kind="integer", max_weight=1000, seed=seed
            )
            return net.grid_tensor()

        ranks[R] = _max_exact_rank(make, halves)
    seq = [ranks[R] for R in sorted(ranks)]
    ok = ranks[min(ranks)] <= r and all(a < b for a, b in itertools.pairwise(seq))
    return CheckReport(
        claim="overlapping ConvACs (ICLR'18)",
        setting=f"N = {N}, M = r = {r}, two GC layers (R, 1); two halves",
        expected=f"R = 1 (no overlap): <= {r}; strictly increasing in R",
        measured=", ".join(f"R={R}: {v}" for R, v in sorted(ranks.items())),
        holds=ok,
        details={str(k): v for k, v in ranks.items()},
    )


@_timed
def check_mixed_vs_sum(*, r: int = 2, seed: Seed = 0) -> CheckReport:
    """Interconnection boosts rank at no cost: the mixed decomposition against T, T̄, T + T̄.

    The paper's setting (N = 16, T baseline, T̄ 2-swapped, mixture nodes the four
    blocks, I = {0,2,4,6,8,9,12,13}), all of size ``r`` with ``M = r``.  Expected
    (theory): T and T̄ have generic rank ``r^6`` (Theorem 7's bounds meet), so their
    sum (no interconnection) has rank at most ``2·r^6`` — ranks add.  Measured with
    :func:`mtd.generic_rank` (a certified lower bound from a random witness modulo a
    prime, an upper bound from the architecture's min-cut): the mixed decomposition
    of the same size must exceed what the sum can reach.
    """
    from .certify import generic_rank
    from .decompositions import MixedDecomposition, TreeDecomposition
    from .separation import separating_example

    ex = separating_example(4, 2)
    archs = {
        "T": TreeDecomposition.random(ex.T, M=r, r=r, seed=0),
        "T_bar": TreeDecomposition.random(ex.T_bar, M=r, r=r, seed=0),
        "T+T_bar": MixedDecomposition.random(ex.T, ex.T_bar, [], M=r, r=r, seed=0),
        "mixed": MixedDecomposition.random(ex.T, ex.T_bar, ex.mixture_nodes, M=r, r=r, seed=0),
    }
    res = {name: generic_rank(d, ex.I, seed=seed) for name, d in archs.items()}
    tree_rank = r**6
    ok = (
        all(res[n].certified and res[n].lower == tree_rank for n in ("T", "T_bar"))
        and res["T+T_bar"].upper <= 2 * tree_rank
        and res["mixed"].lower > 2 * tree_rank
    )
    measured = ", ".join(
        f"{n}: {g.lower}" + ("" if g.certified else f"..{g.upper}") for n, g in res.items()
    )
    return CheckReport(
        claim="mixed vs T, T_bar, T + T_bar",
        setting=f"N = 16, k = 2, r = M = {r}, paper's I; generic ranks (witness..bound)",
        expected=f"T, T_bar: {tree_rank}; T+T_bar: <= {2 * tree_rank}; mixed: > {2 * tree_rank}",
        measured=measured,
        holds=ok,
        details={n: g.to_dict() for n, g in res.items()},
    )


@_timed
def check_recurrent_start_end(
    *, T: int = 8, M: int = 2, R: int = 2, depths: Iterable[int] = (1, 2), seed: Seed = 0
) -> CheckReport:
    """Recurrent arithmetic circuits: Start-End ranks of depth 1 and 2 (Levine et al. 2017).

    The Start-End matricization (first ``T/2`` steps against the rest) of a RAC with
    ``R`` hidden channels, certified by :func:`mtd.generic_rank` on its compiled plan.
    Expected from theory: depth 1 is a tensor train of bond ``R``, so
    ``min(R, M^(T/2))``; depth 2 is linear in the cut state ``h^2`` and of degree
    ``T/2`` in ``h^1``, so at most ``R·C(R + T/2 - 1, T/2)``, and at least Levine,
    Sharir & Shashua's depth-2 lower bound ``C(min(M, R) + T/2 - 1, T/2)`` (arXiv:1710.09431,
    Theorem 1 as we recall it: its text was not at hand when this check was written, so
    it is only asserted as a lower bound, never as the expected value).  Holds when
    every rank is certified (lower = upper) at the expected value, above the paper's
    lower bound, and ``lower <= upper`` everywhere.
    """
    from .certify import generic_rank
    from .networks import RecurrentAC

    half = T // 2
    expected = {
        1: min(R, M**half),
        2: min(R * math.comb(R + half - 1, half), M**half),
    }
    paper = math.comb(min(M, R) + half - 1, half)
    got: dict[int, tuple[int, int]] = {}
    for depth in depths:
        rac = RecurrentAC(T, M=M, hidden=R, depth=depth, seed=seed)
        res = generic_rank(rac, range(half), seed=seed)
        got[depth] = (res.lower, res.upper)
    holds = all(lo <= up for lo, up in got.values()) and all(
        lo == up == expected[d] for d, (lo, up) in got.items() if d in expected
    )
    if 2 in got:
        holds = holds and got[2][0] >= paper
    return CheckReport(
        claim="recurrent circuits: Start-End rank grows with depth",
        setting=f"T = {T}, M = {M}, R = {R}; first {half} steps vs the rest",
        expected=", ".join(f"depth {d}: {expected[d]}" for d in sorted(got) if d in expected)
        + f" (paper's depth-2 lower bound {paper})",
        measured=", ".join(f"depth {d}: [{lo}, {up}]" for d, (lo, up) in sorted(got.items())),
        holds=holds,
        details={str(d): list(v) for d, v in got.items()},
    )


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
    from .decompositions import TreeDecomposition
    from .design import width_controls

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
        measured=f"{n - len(mismatches)} of {n} predicted bounds reached",
        holds=not mismatches,
        details={"cases": n, "mismatches": mismatches[:10]},
    )


CHECKS: dict[str, Callable[..., CheckReport]] = {
    "dilation_trees": check_dilation_trees,
    "swapped_shared_nodes": check_swapped_shared_nodes,
    "tilings": check_tilings,
    "theorem7_structure": check_theorem7_structure,
    "exact_ranks": check_exact_ranks,
    "theorem7_exact": check_theorem7_exact,
    "claim5": check_claim5,
    "separating_example": check_separating_example,
    "depth_efficiency": check_depth_efficiency,
    "pooling_geometry": check_pooling_geometry,
    "generalized_g": check_generalized_g,
    "overlapping": check_overlapping,
    "mixed_vs_sum": check_mixed_vs_sum,
    "recurrent_start_end": check_recurrent_start_end,
    "width_control": check_width_control,
}
"""Registry of the checks ``mtd verify`` runs, by name."""

_QUICK: dict[str, dict[str, Any]] = {
    "dilation_trees": {"layers": range(2, 5)},
    "swapped_shared_nodes": {"layers": range(2, 5)},
    "tilings": {"n_trees": 10},
    "theorem7_structure": {"n_cases": 30},
    "exact_ranks": {"n_cases": 10},
    "theorem7_exact": {"n_cases": 8, "max_modes": 6},
    "claim5": {"n_hybrids": 8},
    "separating_example": {"ks": (2,)},
    "depth_efficiency": {"N": 8},
    "pooling_geometry": {},
    "generalized_g": {},
    "overlapping": {"windows": (1, 2, 3)},
    "mixed_vs_sum": {},
    "recurrent_start_end": {"T": 6},
    "width_control": {"L": 3, "widths": (2, 2)},
}

NOT_YET_CHECKED: tuple[str, ...] = (
    "separating example for k >= 4 with measured ranks (N >= 32: H's rank r^(N/2) is past "
    "what probe matrices certify; `mtd gap` gives the exponents from Theorem 7)",
    "the mixed decomposition against T + T_bar at r > 2 (T's rank r^6 needs probe matrices "
    "of side 4096 and more, tens of seconds each)",
)
"""Claims of the theory page, §5 that ``mtd verify`` does not check yet."""


def run_checks(
    *, quick: bool = False, progress: Callable[[str], None] | bool | None = None
) -> list[CheckReport]:
    """Run every registered check and return their reports in registry order.

    Parameters
    ----------
    quick : bool, default False
        Use smaller settings (a few seconds in all).
    progress : callable or bool, optional
        A callable is called with each check's name before it runs; ``True`` shows a
        progress bar (tqdm, when installed) or the names on stderr.  Off by default.

    Examples
    --------
    >>> from mtd.theorems import run_checks
    >>> reports = run_checks(quick=True)
    >>> all(r.holds for r in reports)
    True
    """
    out = []
    with reporter(progress, total=len(CHECKS), desc="mtd verify", unit="checks") as rep:
        for name, fn in CHECKS.items():
            rep.say(name)
            out.append(fn(**(_QUICK[name] if quick else {})))
            rep.advance()
    return out


def reports_to_markdown(reports: Iterable[CheckReport]) -> str:
    """A Markdown table of reports."""
    head = "| claim | setting | expected | measured | verdict |\n|---|---|---|---|---|"
    return "\n".join([head, *(r.to_markdown() for r in reports)])


def reports_to_json(reports: Iterable[CheckReport]) -> str:
    """One JSON object: ``{"all_hold": bool, "checks": [...], "not_yet_checked": [...]}``."""
    reps = list(reports)
    return json.dumps(
        {
            "all_hold": all(r.holds for r in reps),
            "checks": [r.to_dict() for r in reps],
            "not_yet_checked": list(NOT_YET_CHECKED),
        },
        indent=2,
    )
