"""Checks of mtd's mathematical claims, run on demand by ``mtd verify``.

Each check compares what mtd computes with a value that does **not** pass through
the code under test, and returns a :class:`CheckReport`: the claim, the setting,
what was expected, what was measured, the independent route the expectation took
(shown in every table and JSON report) and a verdict.  :func:`run_checks` runs
them all and is what the command line calls.

Independent routes live in :mod:`mtd._reference`, which imports nothing from mtd's
engine, ranks, matricization, bounds or certification: a walk down a dilated stack,
tilings and Theorem 7's exponents from nested tuples, eq. 3 / eq. 4 evaluated entry
by entry with Python integers, matricization by index mapping (and
``tensorly.unfold`` when TensorLy is installed), exact ranks by python-flint.  Other
second routes are a network's own forward pass and closed forms from the theory
page.  Every check of a certificate asserts ``lower <= upper`` and compares a
certified value with an independently computed rank where the size allows.
Random integer weights are drawn from ``-1000..1000`` (generic except with small
probability; see :meth:`mtd.TreeDecomposition.random`).

**Adding a check** (other work appends checks here; keep the signature uniform):

1. Write ``check_<name>(*, <keyword-only settings with full defaults>) -> CheckReport``
   decorated with ``@_timed``; compute the expected value by an independent route
   (add a plain routine to :mod:`mtd._reference` if needed, importing nothing from
   the engine) and name that route in ``independent=``.
2. Register it: ``CHECKS["<name>"] = check_<name>`` (the dict below, in the order
   the table should show) and its quick settings in ``_QUICK["<name>"]`` (``{}`` if
   the defaults are quick).  ``mtd verify --quick`` must stay under 10 s and the full
   run under 60 s on two cores.
3. Add it to ``__all__`` and plant a bug it must catch in ``tests/mutants.py``.

:data:`NOT_YET_CHECKED` lists the claims of the theory page, §5 that need machinery
mtd does not have yet; ``mtd verify`` prints them so that it never claims more than
it checked.
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

from . import _reference as ref
from ._progress import reporter
from ._rich import Rich
from ._typing import Seed
from .bounds import theorem7_bounds, theorem7_exponents, tree_mincut_bound, trivial_bound
from .hybrids import common_interior, hybrid_trees
from .matricization import matricize
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
    "check_matricize",
    "check_theorem7_exact",
    "check_claim5",
    "check_separating_example",
    "check_corollary8",
    "check_networks",
    "check_depth_efficiency",
    "check_pooling_geometry",
    "check_generalized_g",
    "check_overlapping",
    "check_mixed_vs_sum",
    "check_separating_example_large",
    "check_mixed_vs_sum_r4",
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
    independent : str
        The independent route the expected value came from: a formula of the theory
        page computed by :mod:`mtd._reference`, or a second computation that does not
        pass through the code under test.
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
    independent: str = ""
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
        """One Markdown row: claim | setting | expected | measured | independent route | verdict."""
        cells = [
            self.claim,
            self.setting,
            self.expected,
            self.measured,
            self.independent,
            self.verdict,
        ]
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


def _adversarial_matrices() -> list[tuple[np.ndarray, int]]:
    """Integer matrices whose rank drops modulo natural primes or in floating point.

    A modular rank is a lower bound that an exact rank must certify.  The natural
    moduli are the largest primes below ``2^16 … 2^32`` and ``2^61 … 2^64`` (float-exact
    and machine-word moduli) and a few well-known primes, so
    each gets ``diag(1, p)`` (rank 2 over Q, 1 modulo ``p``), its dense relative
    ``[[1, 3], [5, 15 + p]]`` (both ``int64`` where they fit), and
    ``p·[[1, 2], [3, 6]]`` (rank 1); one
    object matrix has a determinant divisible by all of them at once; and
    ``[[2^53, 2^53+1], [2^53-1, 2^53]]`` has determinant 1 though it is singular
    after rounding to float64.
    """
    primes = sorted(
        {ref.largest_prime_below(2**k) for k in (*range(16, 33), 61, 62, 63, 64)}
        | {10**9 + 7, 998244353, 1753413037}
    )
    out: list[tuple[np.ndarray, int]] = []
    prod = 1
    for p in primes:
        prod *= p
        small = np.int64 if 15 + p < 2**63 else object
        out.append((np.array([[1, 0], [0, p]], dtype=small), 2))
        out.append((np.array([[1, 3], [5, 15 + p]], dtype=small), 2))
        out.append((np.array([[p, 2 * p], [3 * p, 6 * p]], dtype=object), 1))
    out.append((np.array([[1, 7, 0], [2, 14 + prod, 0], [0, 0, 1]], dtype=object), 3))
    a = 2**53
    out.append((np.array([[a, a + 1], [a - 1, a]], dtype=object), 2))
    return out


@_timed
def check_exact_ranks(*, n_cases: int = 40, max_size: int = 24, seed: Seed = 0) -> CheckReport:
    """Exact rank against python-flint, on products of known rank and adversarial matrices.

    ``X = P Q`` with ``P = perm([I_k; B])`` and ``Q = [I_k, C] perm`` (entries of B, C
    up to ``2^40``) has rank ``k`` by construction; the adversarial matrices have
    ranks that drop modulo common primes or in float64.  Expected: mtd's exact rank =
    ``k`` = python-flint's ``fmpz_mat.rank``, with mtd's default backend and with its
    own elimination (``backend="numpy"``); modular ≤ exact; numeric = ``k`` on the
    well-scaled products.
    """
    rng = np.random.default_rng(seed)
    mismatch = modular_bad = numeric_bad = 0
    wrong: list[str] = []
    for _ in range(n_cases):
        m, n = (int(x) for x in rng.integers(1, max_size + 1, size=2))
        k = int(rng.integers(0, min(m, n) + 1))
        wide = 2**40
        P = np.vstack([np.eye(k, dtype=np.int64), rng.integers(-wide, wide, (m - k, k))])
        Q = np.hstack([np.eye(k, dtype=np.int64), rng.integers(-wide, wide, (k, n - k))])
        X = P.astype(object)[rng.permutation(m)] @ Q.astype(object)[:, rng.permutation(n)]
        exact = matrix_rank(X, method="exact")
        own = matrix_rank(X, method="exact", backend="numpy")  # mtd's own elimination
        if not exact == own == k == ref.exact_rank(X):
            mismatch += 1
            wrong.append(f"{m}x{n} rank {k}: mtd {exact}, numpy backend {own}")
        modular_bad += matrix_rank(X, method="modular") > exact
        Ps = np.vstack([np.eye(k, dtype=np.int64), rng.integers(-3, 4, (m - k, k))])
        Qs = np.hstack([np.eye(k, dtype=np.int64), rng.integers(-3, 4, (k, n - k))])
        Xs = Ps[rng.permutation(m)] @ Qs[:, rng.permutation(n)]
        numeric_bad += matrix_rank(Xs.astype(float), method="numeric") != k
    for X, want in _adversarial_matrices():
        got = {b: matrix_rank(X, method="exact", backend=b) for b in (None, "numpy")}
        if not set(got.values()) == {want} or ref.exact_rank(X) != want:
            mismatch += 1
            wrong.append(f"{X.tolist()}: mtd {got}, want {want}")
    ok = mismatch == modular_bad == numeric_bad == 0
    return CheckReport(
        claim="exact / modular / numeric rank",
        setting=f"{n_cases} products P@Q (sizes <= {max_size}, entries ~2^80) + adversarial",
        expected="exact = k = flint's rank; modular <= exact; numeric = k on small entries",
        measured=(
            f"exact wrong {mismatch}, modular > exact {modular_bad}, numeric wrong {numeric_bad}"
        ),
        independent="rank by construction and python-flint fmpz_mat.rank",
        holds=ok,
        details={
            "exact_wrong": mismatch,
            "modular_above": modular_bad,
            "numeric_wrong": numeric_bad,
            "examples": wrong[:5],
        },
    )


@_timed
def check_matricize(*, n_cases: int = 30, seed: Seed = 0, tensorly: bool = True) -> CheckReport:
    """``matricize`` follows the theory page, §1: rows are I ascending, most significant first.

    Expected: the matrix built entry by entry by index mapping
    (:func:`mtd._reference.matricize`) on random shapes (unequal dimensions) and index
    sets, and for single modes also TensorLy's ``unfold`` when TensorLy is installed
    and ``tensorly`` is true (its import alone takes seconds, so the quick run skips it).
    """
    rng = np.random.default_rng(seed)
    bad: list[str] = []
    unfolds = 0
    for _ in range(n_cases):
        n = int(rng.integers(1, 6))
        shape = tuple(int(s) for s in rng.integers(1, 5, size=n))
        A = rng.integers(-1000, 1001, size=shape)
        I = [int(m) for m in np.flatnonzero(rng.random(n) < 0.5)]
        if not np.array_equal(matricize(A, I), ref.matricize(A, I)):
            bad.append(f"shape {shape}, I = {I}")
        mode = int(rng.integers(0, n))
        U = ref.unfold(A, mode) if tensorly else None
        if U is not None:
            unfolds += 1
            if not np.array_equal(matricize(A, [mode]), U):
                bad.append(f"unfold shape {shape}, mode {mode}")
    return CheckReport(
        claim="matricization convention",
        setting=f"{n_cases} random integer tensors, order <= 5, unequal dimensions",
        expected="[[A]]_I by index mapping; single modes = tensorly.unfold",
        measured="all equal" if not bad else f"differ: {'; '.join(bad[:3])}",
        independent="entry-by-entry index mapping"
        + (f"; tensorly.unfold ({unfolds} cases)" if unfolds else " (TensorLy not installed)"),
        holds=not bad,
        details={"failures": bad, "unfold_cases": unfolds},
    )


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
    from .decompositions import TreeDecomposition

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
    from .decompositions import TreeDecomposition, embed_hybrid

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


def _max_exact_rank(
    make: Callable[[int], np.ndarray], I: Any, *, tries: int = 3, stop_at: int | None = None
) -> int:
    """The largest exact rank (python-flint, :mod:`mtd._reference`) of ``[[make(seed)]]_I``.

    Random integer weights reach the generic rank except on a null set; a few tries
    guard against an unlucky draw.  Each value is a lower bound on the generic rank,
    so the search stops early once it reaches ``stop_at`` (a proven upper bound).
    """
    best = 0
    for seed in range(tries):
        best = max(best, ref.matricization_rank(make(seed), I))
        if stop_at is not None and best >= stop_at:
            break
    return best


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
    from .decompositions import TreeDecomposition
    from .separation import separating_example

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

    from .separation import gap_report, separating_example

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

    from .networks import DilatedConvNet, InterconnectedDilatedNets

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
    from .networks import PoolingConvAC

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
    from .networks import image_modes

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
    from .certify import generic_rank
    from .networks import PoolingConvAC, image_partition, image_tree

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
                    continue  # splits all 16 windows: rank 2^16, past what probes certify
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
    from .networks import OverlappingConvAC

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


def _mixed_case(
    T: ModeTree,
    T_bar: ModeTree,
    mix: list[Any],
    I: Any,
    *,
    M: int,
    r: int,
    seed: int,
    reference_trees: bool = True,
) -> dict[str, Any]:
    # reference_trees=False evaluates T, T_bar and T + T_bar (mix = ∅) with mtd, whose tree
    # evaluator check_theorem7_exact compares with eq. 3; the mixed one always by eq. 4.
    """generic_rank of T, T_bar, T + T_bar and the mixed decomposition, with instances.

    Each result carries the exact rank (python-flint) of a random integer instance
    evaluated by eq. 3 / eq. 4 in :mod:`mtd._reference`.
    """
    from .certify import generic_rank
    from .decompositions import MixedDecomposition, TreeDecomposition

    out: dict[str, Any] = {}
    nT, nB = T.to_nested(), T_bar.to_nested()
    for name in ("T", "T_bar", "T+T_bar", "mixed"):
        if name in ("T", "T_bar"):
            tree = T if name == "T" else T_bar
            d: Any = TreeDecomposition.random(
                tree, M=M, r=r, kind="integer", max_weight=1000, seed=seed
            )
            if reference_trees:
                A = ref.eq3_tensor(tree.to_nested(), d.discretizers, d.weights)
            else:  # the tree evaluator is compared with eq. 3 by check_theorem7_exact
                A = d.to_tensor(arithmetic="exact")
        else:
            m = [] if name == "T+T_bar" else mix
            d = MixedDecomposition.random(
                T, T_bar, m, M=M, r=r, kind="integer", max_weight=1000, seed=seed
            )
            if reference_trees or name == "mixed":
                A = ref.eq4_tensor(nT, nB, m, d.discretizers, d.weights, d.weights_bar)
            else:
                A = d.to_tensor(arithmetic="exact")
        instance = ref.matricization_rank(A, I)
        g = generic_rank(d, I, seed=seed)
        out[name] = {
            "lower": g.lower,
            "upper": g.upper,
            "certified": g.certified,
            "instance": instance,
            "tensor_equal": bool(np.array_equal(d.to_tensor(arithmetic="exact"), A)),
        }
    return out


@_timed
def check_mixed_vs_sum(*, r: int = 2, paper: bool = True) -> CheckReport:
    """Interconnection boosts rank at no cost: the mixed decomposition against T, T̄, T + T̄.

    Settings: the issue's N = 8 example (dilations 1,2,4 and 2,1,4, mixture nodes
    {0..3}, {4..7}, I = {0,2,4,5}, M = 3) and, with ``paper``, the paper's N = 16
    (T baseline, T̄ 2-swapped, the four blocks, I = {0,2,4,6,8,9,12,13}, M = r).
    Expected: T and T̄ reach Theorem 7's bounds (``r^p = r^q``, recomputed); ranks
    add, so T + T̄ has rank ≤ ``2·r^q``; the mixed decomposition exceeds that.
    For each of the four architectures, :func:`mtd.generic_rank` must give
    lower ≤ upper, an upper bound ≥ the exact rank of an independent random
    instance (|w| ≤ 1000, evaluated by eq. 3 / eq. 4 with Python integers, ranked
    by python-flint), and a certified value equal to that rank (which reaches the
    generic rank except on a null set).  mtd's own evaluation must equal eq. 3 / 4.
    """
    from .separation import separating_example

    cases = {
        "N=8": (
            ModeTree.from_dilations([1, 2, 4]),
            ModeTree.from_dilations([2, 1, 4]),
            [frozenset(range(4)), frozenset(range(4, 8))],
            [0, 2, 4, 5],
            3,
        )
    }
    if paper:
        ex = separating_example(4, 2)
        cases["N=16"] = (ex.T, ex.T_bar, list(ex.mixture_nodes), list(ex.I), r)
    ok = True
    cells: list[str] = []
    want_cells: list[str] = []
    details: dict[str, Any] = {}
    for label, (T, T_bar, mix, I, M) in cases.items():
        res = _mixed_case(T, T_bar, mix, I, M=M, r=r, seed=0, reference_trees=label == "N=8")
        pT, qT = ref.theorem7_exponents(T.to_nested(), I)
        pB, qB = ref.theorem7_exponents(T_bar.to_nested(), I)
        sum_cap = r**qT + r**qB  # ranks add
        ok &= pT == qT and pB == qB
        for v in res.values():
            ok &= v["tensor_equal"] and v["lower"] <= v["upper"] and v["instance"] <= v["upper"]
            if v["certified"]:
                ok &= v["lower"] == v["instance"]
        ok &= res["T"]["instance"] == r**qT and res["T_bar"]["instance"] == r**qB
        ok &= res["T+T_bar"]["instance"] <= sum_cap and res["T+T_bar"]["lower"] <= sum_cap
        if label == "N=8":  # the generic values: 2r^3 - r^2 and r^4
            sum_want, mixed_want = 2 * r**3 - r**2, r**4
            ok &= res["T+T_bar"]["instance"] == sum_want and res["T+T_bar"]["lower"] <= sum_want
            ok &= res["mixed"]["instance"] == mixed_want == res["mixed"]["lower"]
            want = f"T+T_bar {sum_want}, mixed {mixed_want} (instances)"
        else:  # proven separation: mixed's certified lower bound beats the sum's cap
            ok &= res["mixed"]["lower"] > sum_cap and res["mixed"]["instance"] > sum_cap
            want = f"T+T_bar <= {sum_cap}, mixed > {sum_cap}"
        want_cells.append(f"{label}: T {r**qT}, T_bar {r**qB}, {want}")
        cells.append(
            f"{label}: "
            + ", ".join(
                f"{n}: {v['lower']}"
                + ("" if v["certified"] else f"..{v['upper']}")
                + f" (instance {v['instance']})"
                for n, v in res.items()
            )
        )
        details[label] = res
    return CheckReport(
        claim="mixed vs T, T_bar, T + T_bar",
        setting="N = 8 example (M = 3)"
        + (", paper's N = 16 (M = r)" if paper else "")
        + f", r = {r}; generic ranks (witness..bound)",
        expected="; ".join(want_cells),
        measured="; ".join(cells),
        independent="eq. 3 / eq. 4 with Python ints, python-flint ranks; Theorem 7 recomputed",
        holds=bool(ok),
        details=details,
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
        independent="closed forms (tensor-train bond; degree count) and the paper's lower bound",
        holds=holds,
        details={str(d): list(v) for d, v in got.items()},
    )


def _root_factor_ranks(tree: ModeTree, I: Any, r: int, seed: int) -> list[int]:
    """Exact ranks of the root's factors ``(W_c φ^c)_0`` of a wide random integer instance.

    Eq. 3's root is a product over its children, so ``[[A^0]]_I`` is the Kronecker
    product of the factors' matricizations and its rank is the product of theirs.
    Each factor is materialized from its subtree (``M^{|c|}`` entries) and ranked
    exactly over Q by the independent route (:func:`mtd._reference.matricization_rank`);
    none is ever multiplied out to ``M^N``.
    """
    from .decompositions import TreeDecomposition
    from .decompositions._dense import dense_tensor
    from .decompositions._plan import NodeStep, subtree_plan

    d = TreeDecomposition.random(tree, M=r, r=r, kind="integer", max_weight=1000, seed=seed)
    plan = d.plan
    root = plan.outputs[0].slot
    (step,) = [s for s in plan.steps if isinstance(s, NodeStep) and s.slot == root]
    rows = set(I)
    out = []
    for child, W in zip(step.children, step.weights, strict=True):
        sub = subtree_plan(plan, child)
        X = dense_tensor(sub, None, arithmetic="exact")  # (channels, *modes of the child)
        row = np.asarray(W[0], dtype=object)
        factor = np.tensordot(row, X.astype(object), axes=(0, 0))
        mine = [i for i, m in enumerate(sub.modes) if m in rows]
        if not mine or len(mine) == len(sub.modes):
            out.append(1)
            continue
        out.append(ref.matricization_rank(factor, mine))
    return out


@_timed
def check_separating_example_large(
    *, L: int = 5, k: int = 4, r: int = 2, exact_factors: bool = True
) -> CheckReport:
    """The separating example for ``k >= 4`` (N = 32): T, T̄ and H with certified ranks.

    :func:`mtd.separation.separating_example` gives T (baseline), T̄ (``k``-swapped),
    H and I.  Expected (theory, Theorem 7 and §5): ``r^(N/4 + N/2^(k+1))`` for T and
    T̄, ``r^(N/2)`` for H.  Measured two independent ways: (a) :func:`generic_rank`,
    which certifies by a structural witness (exact by construction) meeting the
    min-cut bound; (b) exact ranks over Q of the two root factors of a random
    integer instance (weights in -1000..1000), whose product is the rank since eq. 3's
    root is a product — so H's ``r^(N/2)`` is seen to factor at the root.  With
    ``exact_factors=False`` (``mtd verify --quick``) only (a) runs.
    """
    from .certify import generic_rank
    from .decompositions import TreeDecomposition
    from .separation import separating_example

    N = 2**L
    ex = separating_example(L, k)
    want = {"T": N // 4 + N // 2 ** (k + 1), "T_bar": N // 4 + N // 2 ** (k + 1), "H": N // 2}
    ok = True
    measured = []
    details: dict[str, Any] = {"I": list(ex.I)}
    for i, (name, tree) in enumerate((("T", ex.T), ("T_bar", ex.T_bar), ("H", ex.hybrid.tree))):
        d = TreeDecomposition.random(tree, M=r, r=r, seed=i)
        res = generic_rank(d, ex.I, seed=i)
        factors = _root_factor_ranks(tree, ex.I, r, seed=100 + i) if exact_factors else []
        product = int(np.prod(factors)) if factors else res.lower
        ok &= res.certified and res.lower == product == r ** want[name]
        shown = f"; root factors {' x '.join(map(str, factors))}" if factors else ""
        measured.append(f"{name} {res.lower} ({res.method}, certified={res.certified}{shown})")
        details[name] = {
            "expected": r ** want[name],
            "certified": res.certified,
            "generic_rank": res.lower,
            "method": res.method,
            "root_factors": factors,
        }
    expected = ", ".join(f"{n} {r}^{e}" for n, e in want.items())
    return CheckReport(
        claim="separating example, k >= 4",
        independent=(
            "Theorem 7's exponents (formula); the exact ranks over Q of the root factors of "
            "a random instance, materialized from their subtrees"
        ),
        setting=f"N = {N}, k = {k}, r = M = {r}; certified"
        + (" + exact root factors" if exact_factors else ""),
        expected=expected,
        measured="; ".join(measured),
        holds=bool(ok),
        details=details,
    )


@_timed
def check_mixed_vs_sum_r4(*, r: int = 4, max_probes: int = 512, seed: Seed = 0) -> CheckReport:
    """The mixed decomposition against T + T̄ at ``r = 4`` (N = 16, k = 2, the paper's I).

    Expected (theory): T and T̄ have generic rank ``r^6`` (Theorem 7's bounds meet), so
    ``T + T̄`` of size ``r'`` has rank at most ``2 r'^6``; by Claim 5 the mixed
    decomposition of size ``r`` contains H of size ``r/2``, of rank ``(r/2)^8``
    (Corollary 8: T + T̄ needs ``r' >= (r/2)^(2/(1+2^(1-k)))``).  Measured with
    :func:`generic_rank`: T and T̄ certified at ``r^6`` (structural witness), the
    upper bound of ``T + T̄`` at sizes ``r`` and ``r/2``, and a certified lower bound
    for the mixed decomposition from a probe matrix of at most ``max_probes``.  The
    check holds if the mixed decomposition's lower bound exceeds both ``(r/2)^8`` and
    what ``T + T̄`` of size ``r/2`` can reach.
    """
    from .certify import generic_rank
    from .decompositions import MixedDecomposition, TreeDecomposition
    from .mincut import mincut_bound
    from .separation import separating_example

    ex = separating_example(4, 2)
    half = r // 2
    res = {
        "T": generic_rank(TreeDecomposition.random(ex.T, M=r, r=r, seed=0), ex.I, seed=seed),
        "T_bar": generic_rank(
            TreeDecomposition.random(ex.T_bar, M=r, r=r, seed=0), ex.I, seed=seed
        ),
        "mixed": generic_rank(
            MixedDecomposition.random(ex.T, ex.T_bar, ex.mixture_nodes, M=r, r=r, seed=0),
            ex.I,
            seed=seed,
            max_probes=max_probes,
        ),
    }
    sums = {
        size: mincut_bound(MixedDecomposition.random(ex.T, ex.T_bar, [], M=r, r=size, seed=0), ex.I)
        for size in (r, half)
    }
    tree_rank = r**6
    small_sum = sums[half]
    ok = (
        all(res[n].certified and res[n].lower == tree_rank for n in ("T", "T_bar"))
        and sums[r] <= 2 * tree_rank
        and small_sum <= 2 * half**6
        and res["mixed"].lower >= half**8
        and res["mixed"].lower > small_sum
    )
    threshold = (r / 2) ** (2 / (1 + 2 ** (1 - 2)))
    measured = ", ".join(
        f"{n}: {g.lower}" + ("" if g.certified else f"..{g.upper}") for n, g in res.items()
    )
    measured += f", T+T_bar: <= {sums[r]}, T+T_bar (r={half}): <= {small_sum}"
    return CheckReport(
        claim="mixed vs T + T_bar, r = 4",
        independent="Theorem 7 and Claim 5 (formulas r^6, 2 r'^6, (r/2)^8)",
        setting=f"N = 16, k = 2, r = M = {r}, paper's I; generic ranks (witness..bound)",
        expected=(
            f"T, T_bar: {tree_rank}; T+T_bar: <= {2 * tree_rank}; T+T_bar (r={half}): "
            f"<= {2 * half**6}; mixed: >= {half**8} (Claim 5); Corollary 8: T + T_bar "
            f"needs r' >= {threshold:.2f}"
        ),
        measured=measured,
        holds=bool(ok),
        details={
            **{n: g.to_dict() for n, g in res.items()},
            "T+T_bar upper": sums[r],
            f"T+T_bar (r={half}) upper": small_sum,
        },
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
    "matricize": check_matricize,
    "theorem7_exact": check_theorem7_exact,
    "claim5": check_claim5,
    "separating_example": check_separating_example,
    "corollary8": check_corollary8,
    "networks": check_networks,
    "depth_efficiency": check_depth_efficiency,
    "pooling_geometry": check_pooling_geometry,
    "generalized_g": check_generalized_g,
    "overlapping": check_overlapping,
    "mixed_vs_sum": check_mixed_vs_sum,
    "recurrent_start_end": check_recurrent_start_end,
    "separating_example_large": check_separating_example_large,
    "mixed_vs_sum_r4": check_mixed_vs_sum_r4,
    "width_control": check_width_control,
}
"""Registry of the checks ``mtd verify`` runs, by name."""

_QUICK: dict[str, dict[str, Any]] = {
    "dilation_trees": {"layers": range(2, 5)},
    "swapped_shared_nodes": {"layers": range(2, 5)},
    "tilings": {"n_trees": 10},
    "theorem7_structure": {"n_cases": 30},
    "exact_ranks": {"n_cases": 10},
    "matricize": {"n_cases": 10, "tensorly": False},
    "theorem7_exact": {"n_cases": 10, "max_modes": 6},
    "claim5": {"n_hybrids": 4},
    "separating_example": {"ks": (2,), "trees": ("T", "H")},
    "corollary8": {},
    "networks": {"M": 2},
    "depth_efficiency": {},
    "pooling_geometry": {"big": False, "partitions": ("left",)},
    "generalized_g": {},
    "overlapping": {"windows": (1, 2, 3)},
    "mixed_vs_sum": {"paper": False},
    "recurrent_start_end": {"T": 6},
    "separating_example_large": {"exact_factors": False},
    "mixed_vs_sum_r4": {"max_probes": 256},
    "width_control": {"L": 3, "widths": (2, 2)},
}

NOT_YET_CHECKED: tuple[str, ...] = (
    "the tree min-cut bound with M > r (checked against exact ranks at M = r only)",
    "pooling geometry on 8x8 images for partitions that split all 16 windows (rank 2^16)",
    "whether the mixed decomposition exceeds T + T_bar of the same size r = 4 (its rank "
    "lies between the probed lower bound and 65536; T + T_bar's is at most 8192, and "
    "certifying more than 8192 needs probe matrices of side 16384)",
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
    head = (
        "| claim | setting | expected | measured | independent route | verdict |\n"
        "|---|---|---|---|---|---|"
    )
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
