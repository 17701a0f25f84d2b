"""Checks of the companion papers on convolutional and recurrent arithmetic circuits.

Depth efficiency (COLT'16), pooling geometry (ICLR'17), generalized g (ICML'16),
overlapping windows (ICLR'18) and recurrent Start-End ranks (Levine et al. 2017).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import _reference as ref
from .._typing import Seed
from ..trees import ModeTree
from .report import CheckReport, _max_exact_rank, _timed

__all__ = [
    "check_depth_efficiency",
    "check_pooling_geometry",
    "check_generalized_g",
    "check_overlapping",
    "check_recurrent_start_end",
    "check_pooling_all_windows_split",
]


@_timed
def check_depth_efficiency(
    *, N: int = 8, M: int = 3, channels: tuple[int, ...] = (2, 3, 4)
) -> CheckReport:
    """COLT'16 with ``r_0 < M`` and unequal widths: odd-modes rank = ``min(r_0, M)^(N/2)``.

    A deep ConvAC (binary pooling, COLT form, channels ``(r_0, r_1, …)``, integer
    weights |w| ≤ 1000).  Expected: ``min(r_0, M)^(N/2)`` exactly — the theorem's
    almost-everywhere lower bound, and an upper bound for every weight since each
    first-level window is a sum of ``r_0`` products across the odd/even cut — which
    differs from the trivial ``M^(N/2)`` when ``r_0 < M``.  A shallow network (CP)
    with ``Z = r_0`` components has rank ≤ ``r_0`` for every weight.  The grid tensor
    is also compared, at sampled templates, with the network's own forward pass.
    """
    from ..networks import PoolingConvAC

    odd = list(range(1, N, 2))
    tree = ModeTree.balanced(N)
    r0 = channels[0]

    def deep(seed: int) -> np.ndarray:
        net = PoolingConvAC(tree, channels, M=M, kind="integer", max_weight=1000, seed=seed)
        return net.grid_tensor()

    def shallow(seed: int) -> np.ndarray:
        net = PoolingConvAC.shallow(N, M=M, Z=r0, kind="integer", max_weight=1000, seed=seed)
        return net.grid_tensor()

    net = PoolingConvAC(tree, channels, M=M, kind="integer", max_weight=1000, seed=0)
    A = net.grid_tensor()
    rng = np.random.default_rng(0)
    forward_bad = 0
    for _ in range(8):
        d = [int(x) for x in rng.integers(0, M, size=N)]
        forward_bad += A[tuple(d)] != net.forward_templates(d)[0]
    want = min(r0, M) ** (N // 2)
    got_deep = _max_exact_rank(deep, odd, stop_at=want)
    got_shallow = _max_exact_rank(shallow, odd)
    return CheckReport(
        claim="depth efficiency (COLT'16)",
        setting=f"N = {N}, M = {M}, channels {channels}; odd modes; shallow Z = {r0}",
        expected=f"deep: min(r0,M)^(N/2) = {want} (trivial {M ** (N // 2)}); shallow: <= {r0}",
        measured=f"deep: {got_deep}; shallow: {got_shallow}; forward mismatches {forward_bad}",
        independent="closed form; python-flint ranks; network forward at templates",
        holds=got_deep == want and got_shallow <= r0 and forward_bad == 0,
        details={"deep": got_deep, "shallow": got_shallow, "forward_mismatch": forward_bad},
    )


def _image_set(side: int, which: str) -> tuple[int, ...]:
    """Pixel modes of a ``side × side`` image: ``"corners"`` or ``"band"``.

    ``"corners"``: the top-left pixel of every 2×2 window in the top half;
    ``"band"``: the left half of the top two rows.
    """
    from ..networks import image_modes

    modes = image_modes(side)
    if which == "corners":
        cells = [(r, c) for r in range(0, side // 2, 2) for c in range(0, side, 2)]
    else:
        cells = [(r, c) for r in range(2) for c in range(side // 2)]
    return tuple(sorted(int(modes[r, c]) for r, c in cells))


@_timed
def check_pooling_geometry(
    *,
    side: int = 4,
    M: int = 2,
    channels: tuple[int, ...] = (2, 3),
    geometries: Iterable[str] = ("contiguous", "mirror"),
    partitions: Iterable[str] = ("left", "top", "checkerboard"),
    big: bool = True,
) -> CheckReport:
    """ICLR'17 Thm. 1: the pooling windows decide which partitions get high rank.

    A ``side × side`` image with 2×2 windows, contiguous and mirror pooling, unequal
    widths, on the coarse (left half), top-half and interleaved (checkerboard)
    partitions.  Expected, from :mod:`mtd._reference`: ``min(r_0, M)^S`` ≤ rank ≤ the
    recursive bound, ``S`` counted from the split windows; measured: exact ranks
    (python-flint) of random integer networks.  With ``big``, also an 8 × 8 image
    (channels (2, 3, 2), M = 3; also the top-left pixels of the windows in the top half,
    and the left half of the top two rows, which splits windows only under mirror
    pooling) through :func:`mtd.generic_rank`, whose interval
    must meet Theorem 1's: lower ≤ upper, certified lower ≤ recursive bound and
    ``min(r_0, M)^S`` ≤ its upper bound.
    """
    from ..certify import generic_rank
    from ..networks import PoolingConvAC, image_partition, image_tree

    failures: list[str] = []
    cells: list[str] = []
    want_cells: list[str] = []
    details: dict[str, Any] = {}

    def bounds(tree: ModeTree, I: Any, chans: tuple[int, ...], m: int) -> tuple[int, int]:
        nested = tree.to_nested()
        S = ref.split_windows(nested, I)
        return min(chans[0], m) ** S, ref.pooling_upper_bound(nested, I, channels=chans, M=m)

    geometries, partitions = list(geometries), list(partitions)
    for geometry in geometries:
        tree = image_tree(side, geometry=geometry)
        for part in partitions:
            I = image_partition(side, part)
            lower, upper = bounds(tree, I, channels, M)

            def make(seed: int, tree: ModeTree = tree) -> np.ndarray:
                net = PoolingConvAC(tree, channels, M=M, kind="integer", max_weight=1000, seed=seed)
                return net.grid_tensor()

            got = _max_exact_rank(make, I, stop_at=lower)  # each instance is <= upper
            if not lower <= got <= upper:
                failures.append(f"{geometry}/{part}")
            cells.append(f"{side}x{side} {geometry}/{part}: {got}")
            want_cells.append(f"{geometry}/{part}: [{lower}, {upper}]")
            details[f"{side}/{geometry}/{part}"] = {"lower": lower, "upper": upper, "got": got}
    if big:
        chans8 = (2, 3, 2)
        for geometry in ("contiguous", "mirror"):
            tree = image_tree(8, geometry=geometry)
            for part in ("left", "top", "corners", "band"):
                if geometry == "mirror" and part == "left":
                    continue  # all 16 windows split: check_pooling_all_windows_split
                if part in ("corners", "band"):
                    I = _image_set(8, part)
                else:
                    I = image_partition(8, part)
                lower, upper = bounds(tree, I, chans8, 3)
                net = PoolingConvAC(tree, chans8, M=3, kind="integer", max_weight=1000, seed=0)
                g = generic_rank(net, I, seed=0)
                if not (g.lower <= g.upper and g.lower <= upper and lower <= g.upper):
                    failures.append(f"8x8 {geometry}/{part}")
                cells.append(
                    f"8x8 {geometry}/{part}: {g.lower}" + ("" if g.certified else f"..{g.upper}")
                )
                want_cells.append(f"8x8 {geometry}/{part}: [{lower}, {upper}]")
                details[f"8/{geometry}/{part}"] = {
                    "lower": lower,
                    "upper": upper,
                    "generic_rank": [g.lower, g.upper],
                }
    return CheckReport(
        claim="pooling geometry (ICLR'17)",
        setting=f"{side}x{side} (channels {channels}, M = {M})"
        + (" and 8x8 (channels (2, 3, 2), M = 3)" if big else "")
        + ", 2x2 windows",
        expected="; ".join(want_cells) + " ([min(r0,M)^S, recursive bound])",
        measured="; ".join(cells),
        independent="S from split windows, Thm. 1's recursive bound; python-flint ranks",
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
    Integer inputs stay integers through ReLU, so ranks are exact (python-flint).
    """
    from ..networks import PoolingConvAC

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
        independent="the sum-of-single-mode argument; python-flint ranks",
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
    the ranks (the paper's exact constants were not available).  Each grid tensor
    also equals the one computed by the network's forward pass.
    """
    from ..networks import OverlappingConvAC

    halves = list(range(N // 2))
    ranks: dict[int, int] = {}
    forward_bad = 0
    for R in windows:

        def make(seed: int, R: int = R) -> np.ndarray:
            net = OverlappingConvAC(
                N, [(R, 1), (R, 1)], (r, r, r), kind="integer", max_weight=1000, seed=seed
            )
            return net.grid_tensor()

        net = OverlappingConvAC(N, [(R, 1), (R, 1)], (r, r, r), kind="integer", seed=0)
        forward_bad += not np.array_equal(net.grid_tensor(), net.grid_tensor(method="forward"))
        ranks[R] = _max_exact_rank(make, halves)
    seq = [ranks[R] for R in sorted(ranks)]
    ok = (
        ranks[min(ranks)] <= r
        and all(a < b for a, b in itertools.pairwise(seq))
        and forward_bad == 0
    )
    return CheckReport(
        claim="overlapping ConvACs (ICLR'18)",
        setting=f"N = {N}, M = r = {r}, two GC layers (R, 1); two halves",
        expected=f"R = 1 (no overlap): <= {r}; strictly increasing in R",
        measured=", ".join(f"R={R}: {v}" for R, v in sorted(ranks.items()))
        + f"; forward mismatches {forward_bad}",
        independent="python-flint ranks; the network's forward pass",
        holds=ok,
        details={**{str(k): v for k, v in ranks.items()}, "forward_mismatch": forward_bad},
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
    from ..certify import generic_rank
    from ..networks import RecurrentAC

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
        independent="closed forms (tensor-train bond; degree count) and the paper's lower bound",
        holds=holds,
        details={str(d): list(v) for d, v in got.items()},
    )


@_timed
def check_pooling_all_windows_split(
    *, channels: tuple[int, ...] = (2, 3, 2), M: int = 3, trials: int = 3, seed: Seed = 0
) -> CheckReport:
    """ICLR'17 on an 8 × 8 image, mirror pooling, left half: all 16 windows split, rank 2^16.

    Expected (Thm. 1): ``min(r_0, M)^S`` with ``S`` the split windows counted from the
    nested tree, and the recursive upper bound, both by :mod:`mtd._reference`.  Measured
    without a 65536-side matrix: an explicit 0/1 witness (``A_0`` picks template ``α``
    for channel ``α``; every later layer keeps channel 0, the first after the windows
    summing the window's ``r_0`` channels) makes the grid tensor a Kronecker product over
    the 16 windows of ``T[d] = Σ_α Π_j [d_j = α]``, so its rank is the product of the
    windows' exact ranks (python-flint).  The factorization is tested on the network's
    own forward pass: ``trials`` random integer inputs (|x| ≤ 1000; a wrong identity
    survives one with probability at most 64/2001, Schwartz–Zippel) must give the
    product of the windows' contractions.  The upper bound is :func:`mtd.mincut_bound`.
    """
    from ..mincut import mincut_bound
    from ..networks import PoolingConvAC, image_partition, image_tree

    tree = image_tree(8, geometry="mirror")
    I = set(image_partition(8, "left"))
    nested = tree.to_nested()
    L = len(channels)
    r0 = channels[0]
    A0 = np.zeros((r0, M), np.int64)
    k = min(r0, M)
    A0[np.arange(k), np.arange(k)] = 1
    layers = [A0]
    for h in range(1, L):
        A = np.zeros((channels[h], channels[h - 1]), np.int64)
        A[0, :] = 1 if h == 1 else 0
        A[0, 0] = 1
        layers.append(A)
    out = np.zeros((1, channels[-1]), np.int64)
    out[0, 0] = 1
    layers.append(out)
    net = PoolingConvAC(tree, channels, M=M, weights=layers)
    windows = [sorted(n) for n in tree.nodes if tree.node_height(n) == 1]
    # the window tensor by its formula, with Python ints: sum over channels of the
    # products of the pixels' representation rows
    grids = np.indices((M,) * 4).reshape(4, -1).T
    T = np.array(
        [sum(math.prod(int(A0[a, dj]) for dj in d) for a in range(r0)) for d in grids],
        dtype=object,
    ).reshape((M,) * 4)
    ranks = [ref.matricization_rank(T, [i for i, m in enumerate(w) if m in I]) for w in windows]
    lower = math.prod(ranks)
    rng = np.random.default_rng(seed)
    identity = True
    for _ in range(trials):
        x = rng.integers(-1000, 1001, size=(64, M))
        want = 1
        for w in windows:  # contract the window tensor with its pixels' inputs
            X = T
            for m in w:
                X = np.tensordot(x[m].astype(object), X, axes=(0, 0))
            want *= int(X)
        identity &= int(net.forward(x)[0]) == want
    S = ref.split_windows(nested, I)
    expected = min(r0, M) ** S
    recursive = ref.pooling_upper_bound(nested, I, channels=channels, M=M)
    upper = mincut_bound(net, sorted(I))
    ok = identity and lower == expected and lower <= upper <= recursive and lower == upper
    return CheckReport(
        claim="pooling geometry, all 16 windows split (ICLR'17)",
        setting=f"8x8, mirror pooling, left half, channels {channels}, M = {M}",
        expected=f"min(r0,M)^S = {min(r0, M)}^{S} = {expected} <= recursive bound {recursive}",
        measured=(
            f"witness rank {' x '.join(map(str, sorted(set(ranks))))}^{len(ranks)} = {lower}, "
            f"min-cut {upper}: certified {lower if lower == upper else 'no'}; Kronecker "
            f"factorization {'holds' if identity else 'FAILS'} on {trials} forward passes"
        ),
        independent=(
            "S and Thm. 1's recursive bound from the nested tree; the window tensor by its "
            "formula, ranked by python-flint; the network's forward pass"
        ),
        holds=bool(ok),
        details={"window_ranks": ranks, "lower": lower, "min_cut": upper, "S": S},
    )
