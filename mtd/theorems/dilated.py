"""Checks of the dilated-network paper (Cohen, Tamari & Shashua, ICLR 2018).

Theorem 7 against exact ranks, Claim 5, the separating example, Corollary 8, and
networks computing their decompositions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import _reference as ref
from .._typing import Seed
from ..bounds import theorem7_bounds, tree_mincut_bound
from ..hybrids import common_interior, hybrid_trees
from ..ranks import matricization_rank
from ..trees import ModeTree
from .report import CheckReport, _max_exact_rank, _timed

__all__ = [
    "check_theorem7_exact",
    "check_claim5",
    "check_separating_example",
    "check_corollary8",
    "check_networks",
]


@_timed
def check_theorem7_exact(
    *, n_cases: int = 30, max_modes: int = 8, r: int = 2, seed: Seed = 0
) -> CheckReport:
    """Theorem 7 against exact ranks: lower ≤ rank [[A]]_I ≤ upper for tree decompositions.

    Random trees (binary, and arity ≤ 3 for half of them: the split-node count),
    ``M = r``, integer weights in -1000..1000.  Every tensor is also evaluated
    entry by entry by :func:`mtd._reference.eq3_tensor` and must be equal; ranks are
    computed by mtd and by python-flint and must be equal.  The upper bound
    (recomputed from tilings) must hold for every weight, and so must the tree's
    min-cut bound, which lies between the rank and Theorem 7's upper bound; the
    lower bound is reached by one of three random integer decompositions.
    """
    from ..decompositions import TreeDecomposition

    rng = np.random.default_rng(seed)
    above = below = tensor_bad = rank_bad = bounds_bad = 0
    for i in range(n_cases):
        n = int(rng.integers(3, max_modes + 1))
        tree = ModeTree.random(n, max_arity=3 if i % 2 else 2, seed=rng)
        nested = tree.to_nested()
        I = sorted(int(m) for m in rng.choice(n, size=int(rng.integers(1, n)), replace=False))
        p, q = ref.theorem7_exponents(nested, I)
        bounds_bad += theorem7_bounds(tree, I, r) != (r**p, r**q)
        best = 0
        for _try in range(3):
            dec = TreeDecomposition.random(
                tree, M=r, r=r, kind="integer", max_weight=1000, seed=rng
            )
            A = dec.to_tensor(arithmetic="exact")
            tensor_bad += not np.array_equal(
                A, ref.eq3_tensor(nested, dec.discretizers, dec.weights)
            )
            exact = ref.matricization_rank(A, I)
            rank_bad += matricization_rank(A, I, method="exact") != exact
            above += not exact <= tree_mincut_bound(tree, I, r=r, M=r) <= r**q
            best = max(best, exact)
            if best >= r**p:
                break
        below += best < r**p
    bad = above + below + tensor_bad + rank_bad + bounds_bad
    return CheckReport(
        claim="Theorem 7 (exact ranks)",
        setting=f"{n_cases} random trees (arity <= 3), N <= {max_modes}, M = r = {r}, |w| <= 1000",
        expected="tensor = eq. 3 entry by entry; rank = flint's; r^p <= rank <= min-cut <= r^q",
        measured=(
            f"tensors differ {tensor_bad}, ranks differ {rank_bad}, bounds differ {bounds_bad}, "
            f"above upper {above}, lower not reached {below}"
        ),
        independent="eq. 3 with Python ints; python-flint rank; exponents from nested tilings",
        holds=bad == 0,
        details={
            "above_upper": above,
            "lower_not_reached": below,
            "tensor_mismatch": tensor_bad,
            "rank_mismatch": rank_bad,
            "bounds_mismatch": bounds_bad,
        },
    )


def _claim5_case(
    T: ModeTree,
    T_bar: ModeTree,
    mix: list[Any],
    *,
    h: int,
    M: int,
    rng: Any,
    reference: bool,
    n_hybrids: int | None,
) -> tuple[int, int, dict[str, int]]:
    """(equal, total, root sources) for every hybrid of (T, T_bar, mix), outputs 0..h-1."""
    from ..decompositions import TreeDecomposition, embed_hybrid

    hybrids = list(hybrid_trees(T, T_bar, mix))
    roots = {"T": 0, "T_bar": 0}
    if n_hybrids is not None:  # keep hybrids whose root comes from either tree
        hybrids = (
            sorted(hybrids, key=lambda hb: hb.source[T.root])[: n_hybrids // 2]
            + sorted(hybrids, key=lambda hb: -hb.source[T.root])[: n_hybrids - n_hybrids // 2]
        )
    equal = 0
    for hyb in hybrids:
        roots["T_bar" if hyb.source[T.root] else "T"] += 1
        H = TreeDecomposition.random(hyb.tree, M=M, r=h, kind="integer", max_weight=1000, seed=rng)
        mixed = embed_hybrid(H, T, T_bar, mix, hybrid=hyb)
        ok = True
        arith = "exact" if reference else "modular"  # modular: a fast, sound identity test
        for y in range(h):
            want = H.to_tensor(y, arithmetic=arith)
            got = mixed.to_tensor(y, arithmetic=arith)
            if reference:
                want_ref = ref.eq3_tensor(hyb.tree.to_nested(), H.discretizers, H.weights, output=y)
                got_ref = ref.eq4_tensor(
                    T.to_nested(),
                    T_bar.to_nested(),
                    mix,
                    mixed.discretizers,
                    mixed.weights,
                    mixed.weights_bar,
                    output=y,
                )
                ok &= np.array_equal(want, want_ref) and np.array_equal(got, got_ref)
                ok &= np.array_equal(got_ref, want_ref)
            ok &= np.array_equal(got, want)
        equal += ok
    return equal, len(hybrids), roots


@_timed
def check_claim5(*, h: int = 2, seed: Seed = 0, n_hybrids: int | None = None) -> CheckReport:
    """Claim 5: every hybrid, every output, lives in the mixed decomposition (eq. 6).

    Two settings: N = 8 with T = dilations (1,2,4), T̄ = (2,1,4), mixture nodes
    {0..3}, {4..7} (every hybrid, both sides evaluated entry by entry with Python
    integers by :mod:`mtd._reference`, independently of mtd's evaluator), and the
    paper's N = 16 (T baseline, T̄ 2-swapped, the four blocks; all 32 hybrids,
    compared modulo the default prime: two different polynomials agree there only
    with probability ≤ degree / p).  For each hybrid a random integer decomposition of size ``h``
    (|w| ≤ 1000) is embedded in a mixed decomposition of size ``2h``; outputs
    ``0..h-1`` must be equal, entry for entry, and hybrids whose root comes from
    either tree are covered.
    """
    rng = np.random.default_rng(seed)
    T8, Tb8 = ModeTree.from_dilations([1, 2, 4]), ModeTree.from_dilations([2, 1, 4])
    mix8 = [frozenset(range(4)), frozenset(range(4, 8))]
    e8, n8, roots8 = _claim5_case(T8, Tb8, mix8, h=h, M=2, rng=rng, reference=True, n_hybrids=None)
    T, T_bar = ModeTree.baseline(4), ModeTree.swapped(4, 2)
    mix = [n for n in common_interior(T, T_bar) if len(n) == 4]
    e16, n16, roots16 = _claim5_case(
        T, T_bar, mix, h=h, M=2, rng=rng, reference=False, n_hybrids=n_hybrids
    )
    ok = e8 == n8 and e16 == n16 and min(roots16.values()) > 0
    return CheckReport(
        claim="Claim 5 (hybrids embed)",
        setting=(
            f"N = 8 (dilations 1,2,4 / 2,1,4): {n8} hybrids; N = 16 (k = 2): {n16} hybrids; "
            f"size {h} -> {2 * h}, outputs 0..{h - 1}"
        ),
        expected="mixed outputs = hybrid outputs exactly; roots from T and from T_bar",
        measured=(
            f"N=8: {e8}/{n8} equal (roots T {roots8['T']}, T_bar {roots8['T_bar']}); "
            f"N=16: {e16}/{n16} equal (roots T {roots16['T']}, T_bar {roots16['T_bar']})"
        ),
        independent="eq. 3 and eq. 4 evaluated with Python ints by a separate routine (N = 8)",
        holds=ok,
        details={"N8": [e8, n8, roots8], "N16": [e16, n16, roots16]},
    )


@_timed
def check_separating_example(
    *, r: int = 2, ks: Iterable[int] = (2, 3), trees: Iterable[str] = ("T", "T_bar", "H")
) -> CheckReport:
    """The separating example for each k, with exact ranks.

    For ``L = 4`` (N = 16) and each ``k``: T (baseline), T̄ (k-swapped), mixture
    nodes the blocks of ``2^k`` modes, H and I from
    :func:`mtd.separation.separating_example`.  Expected (theory): Theorem 7's
    bounds meet at ``r^(N/4 + N/2^(k+1))`` for T and T̄ and at ``r^(N/2)`` for H;
    measured: mtd's bounds, and the largest exact rank (python-flint) of a few
    random integer decompositions (``M = r``, |w| ≤ 1000), which must equal them.
    H must be a hybrid: each of its interior nodes is a node of T or of T̄.  ``trees``
    picks which of T, T_bar, H get measured ranks (all of them get the bounds).
    """
    from ..decompositions import TreeDecomposition
    from ..separation import separating_example

    ks = list(ks)
    measure = set(trees)
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
        ok &= ex.T.to_nested() == ref.tree_from_dilations([2**i for i in range(L)])
        ok &= all(v in ex.T or v in ex.T_bar for v in ex.hybrid.tree.interior_nodes)
        got: dict[str, int] = {}
        for name, tree in (("T", ex.T), ("T_bar", ex.T_bar), ("H", ex.hybrid.tree)):
            lower, upper = theorem7_bounds(tree, ex.I, r)
            ok &= lower == upper == r ** want[name]
            ok &= ref.theorem7_exponents(tree.to_nested(), ex.I) == (want[name], want[name])
            seeds = [int(x) for x in rng.integers(0, 2**32, size=3)]

            def make(i: int, tree: ModeTree = tree, seeds: list[int] = seeds) -> np.ndarray:
                dec = TreeDecomposition.random(
                    tree, M=r, r=r, kind="integer", max_weight=1000, seed=seeds[i]
                )
                return dec.to_tensor(arithmetic="exact")

            if name in measure:
                got[name] = _max_exact_rank(make, ex.I, stop_at=r ** want[name])
        ok &= got == {n: r**e for n, e in want.items() if n in measure}
        rows.append(f"k={k}: T {r}^{want['T']}, T_bar {r}^{want['T_bar']}, H {r}^{want['H']}")
        measured_rows.append(f"k={k}: " + ", ".join(f"{n} {v}" for n, v in got.items()))
        details[f"k={k}"] = {"I": list(ex.I), "expected_exponents": want, "measured": got}
    return CheckReport(
        claim="separating example",
        setting=f"N = {N}, r = M = {r}, k = {', '.join(map(str, ks))}; exact ranks",
        expected="; ".join(rows),
        measured="; ".join(measured_rows),
        independent="formula N/4 + N/2^(k+1), N/2; exponents from nested tilings; flint ranks",
        holds=bool(ok),
        details=details,
    )


def _least_channels(half: int, e_T: int, e_H: int, copies: int = 1) -> int:
    """The least ``r'`` with ``copies · r'^e_T >= half^e_H``, by integer search."""
    target = half**e_H
    lo = 1
    while copies * lo**e_T < target:
        lo *= 2
    lo_ = lo // 2 if lo > 1 else 1
    while lo_ < lo:
        mid = (lo_ + lo) // 2
        if copies * mid**e_T >= target:
            lo = mid
        else:
            lo_ = mid + 1
    return lo


@_timed
def check_corollary8(*, ks: Iterable[int] = (2, 3, 4), r: int = 128) -> CheckReport:
    """Corollary 8: the channels a single network (or T + T̄) needs, for k = 2..4.

    For each ``k`` (``L = k + 1``, so ``N = 2^(k+1)``): the exponents of T, T̄ and H on
    the separating example must be ``N/4 + N/2^(k+1)`` and ``N/2`` (Theorem 7's bounds
    meeting, recomputed from the nested trees), the exponent ratio
    ``2/(1 + 2^(1-k))``, and the channels needed to match the mixed network of size
    ``r`` the least ``r'`` with ``r'^e_T >= (r/2)^e_H`` (resp. ``2 r'^e_T`` for the
    sum); for ``k = 4``, ``r = 128`` this is about 1625 (the theory page, §5).
    """
    from fractions import Fraction

    from ..separation import gap_report, separating_example

    ks = list(ks)
    cells: list[str] = []
    want_cells: list[str] = []
    ok = True
    details: dict[str, Any] = {}
    for k in ks:
        L = k + 1
        N = 2**L
        eT, eH = N // 4 + N // 2 ** (k + 1), N // 2
        ex = separating_example(L, k)
        refs = [ref.theorem7_exponents(t.to_nested(), ex.I) for t in (ex.T, ex.T_bar)]
        refH = ref.theorem7_exponents(ex.hybrid.tree.to_nested(), ex.I)
        ok &= refs == [(eT, eT), (eT, eT)] and refH == (eH, eH)
        need = _least_channels(r // 2, eT, eH)
        need_sum = _least_channels(r // 2, eT, eH, copies=2)
        ratio = Fraction(2) / (1 + Fraction(1, 2 ** (k - 1)))
        rep = gap_report(L, k, r)
        got = (rep.exponent_T, rep.exponent_Tbar, rep.exponent_H, rep.exponent_ratio)
        ok &= got == (eT, eT, eH, ratio) and (rep.channels_needed, rep.channels_needed_sum) == (
            need,
            need_sum,
        )
        want_cells.append(f"k={k}: e_T {eT}, e_H {eH}, ratio {ratio}, r' >= {need} ({need_sum})")
        cells.append(
            f"k={k}: e_T {rep.exponent_T}, e_H {rep.exponent_H}, ratio {rep.exponent_ratio}, "
            f"r' >= {rep.channels_needed} ({rep.channels_needed_sum})"
        )
        details[f"k={k}"] = {"N": N, "channels_needed": need, "channels_needed_sum": need_sum}
    return CheckReport(
        claim="Corollary 8 (channels needed)",
        setting=f"k = {', '.join(map(str, ks))}, N = 2^(k+1), mixed size r = {r}",
        expected="; ".join(want_cells) + " (single network (sum T+T_bar))",
        measured="; ".join(cells),
        independent="closed-form exponents; nested-tree exponents; integer root search",
        holds=bool(ok),
        details=details,
    )


@_timed
def check_networks(*, M: int = 3, max_weight: int = 1000) -> CheckReport:
    """Dilated and interconnected networks compute their decompositions' grid tensors.

    A dilated network (dilations 2, 1, 4; unequal channels (2, 3, 2, 2)) and two
    interconnected networks (dilations 1, 2, 4 and 2, 1, 4, channels (2, 2, 2, 2),
    interconnected after layer 2), integer weights |w| ≤ ``max_weight``, ``M`` (2 or 3)
    integer discretizers.
    Expected: every output's grid tensor equals (a) eq. 3 / eq. 4 evaluated entry by
    entry with Python integers (:mod:`mtd._reference`) on the weights of
    ``to_decomposition()``, and (b) the network's own ``forward`` run on every
    sequence of discretizers.
    """
    import itertools as it

    from ..networks import DilatedConvNet, InterconnectedDilatedNets

    V = np.array([[1, 0], [3, -2], [0, 1]])[:M]
    idx = np.array(list(it.product(range(M), repeat=8)))
    net = DilatedConvNet([2, 1, 4], (2, 3, 2, 2), kind="integer", max_weight=max_weight, seed=0)
    nets = InterconnectedDilatedNets.random(
        [1, 2, 4], [2, 1, 4], (2, 2, 2, 2), [2], kind="integer", max_weight=max_weight, seed=1
    )
    bad: list[str] = []
    models: tuple[tuple[str, Any], ...] = (("dilated", net), ("interconnected", nets))
    for name, model in models:
        A = model.grid_tensor(V, None)
        d: Any = model.to_decomposition(V)
        F = model.forward(V[idx])[:, -1, :]
        for y in range(A.shape[0]):
            if name == "dilated":
                R = ref.eq3_tensor(d.tree.to_nested(), d.discretizers, d.weights, output=y)
            else:
                R = ref.eq4_tensor(
                    d.T.to_nested(),
                    d.T_bar.to_nested(),
                    d.mixture_nodes,
                    d.discretizers,
                    d.weights,
                    d.weights_bar,
                    output=y,
                )
            if not np.array_equal(A[y], R):
                bad.append(f"{name} y={y}: grid tensor != eq. {3 if name == 'dilated' else 4}")
            if not np.array_equal(A[y].reshape(-1), F[:, y]):
                bad.append(f"{name} y={y}: grid tensor != forward")
    return CheckReport(
        claim="networks = decompositions",
        setting=f"dilated (2,1,4; channels 2,3,2,2) and interconnected (1,2,4 | 2,1,4), M = {M}",
        expected="grid tensor = eq. 3 / eq. 4 entry by entry = forward on every input",
        measured="all equal" if not bad else "; ".join(bad),
        independent="eq. 3 / eq. 4 with Python ints; the networks' forward pass",
        holds=not bad,
        details={"failures": bad},
    )
