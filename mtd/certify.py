"""Certified generic ranks: exact lower bounds from witnesses, upper bounds from structure.

The *generic rank* of an architecture (its trees, node sizes, forms, mixture nodes,
ties, ``M``; not its weights) at an index set ``I`` is the rank of ``[[A^y]]_I`` for
almost every choice of weights.  Because every entry of ``A^y`` is a polynomial in
the weights (``g`` = product), it is also the **maximum** rank over all weights: once
some weights reach rank ``R``, an ``R × R`` minor is a non-zero polynomial, non-zero
almost everywhere (the theory page, §5).  :func:`generic_rank` brackets it:

* **lower** — the rank of a witness.  Fresh weights are drawn as uniform residues
  modulo a prime ``p < 2**31`` (read as integers in ``[0, p)``) and the probe matrix
  ``Pᵀ [[A^y]]_I Q`` is formed modulo ``p`` with product-vector probes (random
  residues), one full contraction per entry (:mod:`mtd._tree_probes`), never the
  ``M^N`` tensor; small tensors are materialized instead.  Since
  ``rank_p(Pᵀ A Q) <= rank_Q(Pᵀ A Q) <= rank_Q [[A]]_I <= generic rank`` for the
  integer instance, *the lower bound is proven, whatever the random draw*.  The witness
  is the architecture's plan with its free arrays re-drawn (ties and fixed structure
  kept).  For a plan that is not a tree (overlapping windows, stacked recurrent cells)
  a block of the probe matrix is one planned contraction of the unrolled plan; when no
  contraction fits in memory, the witness is a submatrix of ``[[A^y]]_I`` at random grid
  points instead (still proven; its chance of reaching the rank is not covered by the
  bound below).
* **upper** — the min-cut bound (:func:`mtd.mincut.mincut_bound`), Theorem 7's upper
  bound where it applies, an architecture's own bound (``rank_upper_bound``, e.g.
  :class:`mtd.RecurrentAC`'s), and the trivial bound ``M^min(|I|,|Iᶜ|)``: valid for
  every weight.
* **certified** — ``lower == upper``: then the generic rank is known exactly.

Only the chance of *certifying* is random.  If the generic rank is ``R`` and ``K >= R``
probes are used, the leading ``R × R`` minor of ``Pᵀ A Q`` is a non-zero integer polynomial
of degree at most ``R·δ`` in the weights and the probe entries (``δ``, the degree of one
entry, is :func:`mtd._probes.entry_degree`: two per leaf, for its probe and its
discretizers, plus one per use of a weight matrix).  Unless ``p`` divides all its
coefficients, the Schwartz–Zippel lemma over GF(p) says the witness falls short of ``R``
with probability at most ``R·δ / p``.  The default prime is small
(:data:`WITNESS_PRIME_BITS`: below ``2**21``, so that forming the probe matrix and
eliminating it take one exact float64 product per block), which makes a short witness
*likelier* and this bound *weaker*: ``1024 · 256 / (2**21 - 9) < 0.13`` for rank 1024 at
``N = 64``, ``r = 2``, and no bound at all (``R·δ >= p``) from rank 8192 on.  That costs
time, never correctness: a witness short of ``R`` is still a proven lower bound, it just
does not certify.  Where ``lower < upper`` after the first witness, independent witnesses
are drawn modulo primes below ``2**26`` (:data:`MONTE_CARLO_PRIME_BITS`; each can raise
``lower``, since each is a proven lower bound; each contributes a factor ``R·δ / q``, e.g.
``8192 · 256 / 2**26 = 2**-5``) until the Monte Carlo failure probability, the product of
the factors of all draws, is below :data:`MONTE_CARLO_TARGET`; the result then carries that
value as ``probable``, labelled, never as certified.  A redraw whose ``K × K`` probe
matrix has full rank shows that the first witness was short by chance: the probe rounds
then resume, modulo that redraw's prime, from ``2K`` probes.

For tree decompositions a **structural** witness comes first (:mod:`mtd.witness`):
0/1 weights whose matricization is a Kronecker product of identity blocks, its rank a
product computed exactly without forming anything, at any size.  For mixed
decompositions the same construction is routed through the best hybrid tree
(:mod:`mtd.hybrid_witness`): explicit 0/1 weights of the mixed decomposition itself.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._frozen import FrozenMap
from ._modular import first_prime_below, primes_below, rank_mod
from ._probes import NetworkProbeMatrix, PointProbeMatrix, entry_degree, randomize_plan
from ._progress import reporter
from ._rich import Rich
from ._sizes import product_capped
from ._subtrees import KINDS, skeleton
from ._tree_probes import ProbeMatrix
from ._typing import Seed
from ._validation import as_rng, check_index_set, check_int
from .bounds import theorem7_bounds
from .decompositions._arith import check_prime
from .decompositions._dense import dense_tensor
from .decompositions._plan import NodeStep, Plan, check_output
from .errors import InvalidArgumentError, TensorTooLargeError
from .hybrid_witness import HybridWitness, _hybrid, hybrid_applicable
from .mincut import get_any_plan, plan_mincut_bound
from .ranks import DEFAULT_PRIME, matricization_rank
from .witness import StructuralWitness, _witness

__all__ = ["GenericRank", "generic_rank", "GENERIC_RANK_METHODS"]

GENERIC_RANK_METHODS = ("auto", "structural", "probes", "materialize")
"""How :func:`generic_rank` finds its witness.  ``"auto"`` first tries the structural
witness (any size: :mod:`mtd.witness` for tree decompositions, :mod:`mtd.hybrid_witness`
for mixed ones); if that does not reach the upper bound it materializes a random
instance when ``M^N <= MATERIALIZE_MAX`` and the probe matrices could reach a quarter
of the tensor's entries (``4 K² > M^N`` for ``K = min(upper, max_probes)``), and probes
otherwise (measured on N = 16, ``benchmarks/bench_certify.py``)."""

MONTE_CARLO_TARGET = 2.0**-40
"""Where the bounds stay apart, probe rounds are repeated with fresh weights, probes and
primes until the Monte Carlo failure probability is below this."""

MATERIALIZE_MAX = 2**16
"""``"auto"`` never materializes more than this many entries."""

DEFAULT_MAX_PROBES = 4096
"""Default cap on the probe matrix's side (its rank takes about 10 s at 4096)."""

_FIRST_PROBES = 16


@dataclass(frozen=True, repr=False)
class GenericRank(Rich):
    """Bounds on the generic rank of ``[[A^y]]_I`` for an architecture, and how they were found.

    Attributes
    ----------
    lower : int
        A proven lower bound: the rank modulo ``prime`` of a witness (a random integer
        instance, probed or materialized).  The generic rank is at least this.
    upper : int
        A proven upper bound from the structure, valid for every weight.
    method : str
        ``"structural"`` (an explicit witness whose matricization is a Kronecker
        product of identity blocks, :mod:`mtd.witness`), ``"probes"`` (a ``probes ×
        probes`` probe matrix) or ``"materialized"`` (the whole matricization of a
        random instance).
    probes : int
        The side of the last probe matrix (0 when materialized).
    prime : int
        The prime ``p`` of the modular arithmetic: the one of the last probe rounds
        (when a witness falls short of full rank but an independent redraw modulo a
        larger prime has it, the doubling resumes modulo that prime).
    seconds : float
        Wall time of the whole computation.
    upper_source : str
        Which bound gave ``upper``: ``"trivial"``, ``"theorem 7"``, ``"architecture"``
        or ``"min-cut"`` (the first that attains it, in that order).
    bounds : Mapping[str, int or None]
        Every upper bound computed: ``"min-cut"``, ``"theorem 7"`` (None where it does
        not apply: it needs an eq. 3 tree decomposition of one size ``r``),
        ``"architecture"`` (only for architectures with their own
        ``rank_upper_bound(I, output)``, e.g. :class:`mtd.RecurrentAC`; None where it
        does not apply) and ``"trivial"``.
    index_set : tuple of int
        ``I``, sorted.
    n_modes : int
    output : int
    rounds : tuple of (int, int, float, float)
        ``(probes, rank, seconds forming the probe matrix, seconds ranking it)`` for
        every probe round (empty when materialized), resumed rounds included.
    probable : int or None
        Only where ``lower < upper`` (None when certified): a **Monte Carlo** value,
        not a certificate.  Independent random witnesses (fresh weights, probes and
        prime each) all fell short of their probe count; the generic rank equals
        ``probable`` unless every one of them fell short of it by chance.  None when
        no such statement can be made (e.g. the probe cap was reached).
    failure_probability : float or None
        An upper bound on the probability that ``probable`` is below the generic rank
        (Schwartz–Zippel, multiplied over the independent draws); below
        :data:`MONTE_CARLO_TARGET` unless the time was cut short.  None with
        ``probable``.
    witness : StructuralWitness, HybridWitness or None
        The structural witness when one was built (``method="structural"`` or
        ``"auto"``): a :class:`mtd.witness.StructuralWitness` for a tree
        decomposition, a :class:`mtd.hybrid_witness.HybridWitness` (weights of the
        mixed decomposition routed through a hybrid tree) for a mixed one; its
        ``check()`` re-derives the rank.

    Examples
    --------
    >>> res = mtd.certify.generic_rank(
    ...     mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2, seed=0),
    ...     [0, 2, 4, 6], seed=0)
    >>> res.lower, res.upper, res.certified
    (16, 16, True)
    """

    lower: int
    upper: int
    method: str
    probes: int
    prime: int
    seconds: float
    upper_source: str
    bounds: Mapping[str, int | None]
    index_set: tuple[int, ...]
    n_modes: int
    output: int
    rounds: tuple[tuple[int, int, float, float], ...] = field(default=())
    probable: int | None = None
    failure_probability: float | None = None
    witness: Any = field(default=None, compare=False)

    @property
    def certified(self) -> bool:
        """Whether ``lower == upper``: the generic rank is then exactly that value."""
        return self.lower == self.upper

    @property
    def rank(self) -> int | None:
        """The generic rank if certified, else None."""
        return self.lower if self.certified else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every attribute and ``certified`` (ints stay exact)."""
        return {
            "lower": self.lower,
            "upper": self.upper,
            "certified": self.certified,
            "method": self.method,
            "probes": self.probes,
            "prime": self.prime,
            "seconds": self.seconds,
            "upper_source": self.upper_source,
            "bounds": dict(self.bounds),
            "index_set": list(self.index_set),
            "n_modes": self.n_modes,
            "output": self.output,
            "rounds": [list(r) for r in self.rounds],
            "probable": self.probable,
            "failure_probability": self.failure_probability,
        }

    def __repr__(self) -> str:
        others = ", ".join(f"{k}: {_short(v)}" for k, v in self.bounds.items() if v is not None)
        if self.method == "probes":
            how = f"rank mod p of a {self.probes} x {self.probes} probe matrix"
        elif self.method == "structural":
            how = "structural witness: a Kronecker product of identity blocks"
        else:
            how = "rank mod p of the materialized matricization"
        mods = "{" + ",".join(map(str, self.index_set)) + "}"
        verdict = "certified" if self.certified else "not certified"
        return "\n".join(
            [
                f"GenericRank(lower={_short(self.lower)}, upper={_short(self.upper)}, "
                f"certified={self.certified})",
                f"  index set    : I = {mods} of {self.n_modes} modes, output {self.output}",
                f"  lower bound  : {_short(self.lower)} ({how} of a random instance)",
                f"  upper bound  : {_short(self.upper)} ({self.upper_source}; {others})",
                f"  verdict      : {verdict}",
                *(
                    [
                        f"  Monte Carlo  : {_short(self.probable)} (probably the generic rank; "
                        f"not certified, failure probability <= {self.failure_probability:.2g})"
                    ]
                    if self.probable is not None and self.failure_probability is not None
                    else []
                ),
                f"  prime        : {self.prime}",
                f"  time         : {self.seconds:.3g} s",
            ]
        )


def _short(n: int) -> str:
    """An int in full, or as ``~2^k`` when it has more than 100 bits."""
    if n.bit_length() <= 100:
        return str(n)
    return f"~2^{math.log2(n):.1f}"


# ---------------------------------------------------------------------- upper bounds
def _theorem7(decomposition: Any, rows: frozenset[int]) -> int | None:
    """Theorem 7's upper bound, for an eq. 3 tree decomposition of one size ``r``."""
    from .decompositions import TreeDecomposition

    d = decomposition
    if not isinstance(d, TreeDecomposition) or d.form != "eq3" or d.outputs is not None:
        return None
    r = d.r
    if r is None or d.g != "product" or any(w is not None for w in d.leaf_weights.values()):
        return None
    if int(d.discretizers.shape[1]) != r:
        return None
    return theorem7_bounds(d.tree, rows, r)[1]


def upper_bounds(
    decomposition: Any, plan: Plan, rows: frozenset[int], output: int
) -> dict[str, int | None]:
    """Every structural upper bound: ``{"min-cut": …, "theorem 7": … or None, "trivial": …}``.

    ``plan`` is the decomposition's plan (a tree: the min-cut programme; otherwise a
    maximum flow through its unrolled copy-tensor network).
    """
    cut = plan_mincut_bound(plan, rows, output)
    dims = plan.dims
    inside = Counter(d for m, d in dims.items() if m in rows)  # products as powers
    outside = Counter(d for m, d in dims.items() if m not in rows)
    trivial = min(
        math.prod(d**k for d, k in inside.items()), math.prod(d**k for d, k in outside.items())
    )
    out: dict[str, int | None] = {"min-cut": cut, "theorem 7": _theorem7(decomposition, rows)}
    own = getattr(decomposition, "rank_upper_bound", None)
    if callable(own):  # an architecture's own theorem (e.g. RecurrentAC's cut state)
        out["architecture"] = own(sorted(rows), output)
    out["trivial"] = trivial
    return out


def _pick_upper(bounds: Mapping[str, int | None]) -> tuple[int, str]:
    best = min(v for v in bounds.values() if v is not None)
    for name in ("trivial", "theorem 7", "architecture", "min-cut"):
        if bounds.get(name) == best:
            return best, name
    raise AssertionError  # pragma: no cover


# --------------------------------------------------------------------------- the API
WITNESS_PRIME_BITS = 21
"""Random witnesses are drawn modulo the largest prime below ``2**21`` by default.  Then
``inner (p/2)² < 2**53`` for every inner dimension up to 8191, so both the probe
matrix (:mod:`mtd._tree_probes`: float64 balanced residues) and its elimination
(:mod:`mtd._elimination`) take one exact BLAS product per block, where primes up to
``2**26`` need two.  A smaller prime makes a short witness likelier (Schwartz–Zippel,
module docstring): the certificate stays a proof, only the chance of certifying with
the first witness is lower; Monte Carlo draws use larger primes
(:data:`MONTE_CARLO_PRIME_BITS`)."""

MONTE_CARLO_PRIME_BITS = 26
"""Further witnesses (where the bounds stay apart) are drawn modulo primes below
``2**26``, largest first: the largest still eliminated on float64 residues, each draw
multiplying the failure probability by ``K δ / q`` (module docstring)."""


def default_prime(plan: Plan) -> int:
    """The prime :func:`generic_rank` uses by default for ``plan``.

    The largest prime below ``2**WITNESS_PRIME_BITS``, unless a matrix product of the
    evaluation has an inner dimension ``w`` with ``w (p - 1)² >= 2**63``: then the
    largest prime with ``w (p - 1)² < 2**63`` (no limbs), or ``2**31 - 1`` (with
    limbs) if that would be below ``2**20``.
    """
    w = 1
    skel = skeleton(plan)
    if skel is not None and not (skel.kind == KINDS.index("ht")).any():  # one tree, in numpy
        w = max(
            int(skel.size[skel.kids].max(initial=1)),
            *(plan.slot_sizes[t.slot] for t in plan.outputs),
        )
        top = min(math.isqrt((2**63 - 1) // w) + 1, 2**WITNESS_PRIME_BITS)
        return DEFAULT_PRIME if top < 2**20 else first_prime_below(top)
    for step in plan.steps:
        if isinstance(step, NodeStep):
            sizes = [plan.slot_sizes[c] for c in step.children]
            w = max(w, math.prod(sizes) if step.kind == "ht" else max(sizes))
    for term in plan.outputs:
        w = max(w, plan.slot_sizes[term.slot])
    top = min(math.isqrt((2**63 - 1) // w) + 1, 2**WITNESS_PRIME_BITS)
    if top < 2**20:
        return DEFAULT_PRIME
    return first_prime_below(top)


def generic_rank(
    decomposition: Any,
    I: Any,
    *,
    output: int = 0,
    seed: Seed = None,
    prime: int | None = None,
    max_probes: int | None = None,
    progress: Callable[[str], None] | bool | None = None,
    method: str = "auto",
) -> GenericRank:
    """Bound, and where possible certify, the generic rank of ``[[A^output]]_I``.

    The architecture of ``decomposition`` is used, never its weights: the witness
    has fresh random weights (uniform residues mod ``prime``; weights tied in the
    architecture stay tied).  See the module docstring for why ``lower`` and
    ``upper`` are proven bounds and how likely ``lower`` is to reach the generic rank.

    Parameters
    ----------
    decomposition : TreeDecomposition, MixedDecomposition, HierarchicalTensor, network or Plan
        Any architecture that compiles to a plan (``g`` = product): decompositions,
        networks (``plan`` or ``to_decomposition()``), including plans that are not
        trees (overlapping ConvACs, stacked recurrent circuits: witnessed by planned
        contractions of the unrolled plan, bounded by a maximum flow through it).
    I : iterable of int
        A non-empty proper subset of the modes.
    output : int, default 0
        Which output ``A^y``.
    seed : None, int or numpy.random.Generator
        Draws the weights and the probes.
    prime : int, optional
        A prime below ``2**31``; default :func:`default_prime` (the largest prime below
        ``2**WITNESS_PRIME_BITS``, :data:`WITNESS_PRIME_BITS`).
    max_probes : int, optional
        Cap on the probe matrix's side (default :data:`DEFAULT_MAX_PROBES`): a lower
        bound above it is never sought.
    progress : callable or bool, optional
        A callable is called with a one-line message after each probe round (e.g. to
        print it); ``True`` shows a progress bar (tqdm, when installed) or those lines
        on stderr.  Off by default.
    method : {"auto", "probes", "materialize"}, default "auto"
        ``"materialize"`` forms the random instance's ``M^N`` tensor (under the memory
        limit, :func:`mtd.get_memory_limit`) and ranks its matricization; ``"probes"``
        starts with 16 probes and doubles ``K`` while the ``K × K`` probe matrix has
        full rank ``K`` and ``K`` is below the upper bound (and ``max_probes``);
        ``"auto"`` materializes small tensors whose upper bound is large (see
        :data:`GENERIC_RANK_METHODS`).

    Returns
    -------
    GenericRank
        ``lower``, ``upper``, ``certified`` and how they were found.

    Raises
    ------
    InvalidIndexSetError
        If ``I`` is empty, is every mode, or has a mode out of range.
    InvalidArgumentError
        For ``g`` other than the product, a bad ``prime``, ``method`` or ``output``.
    TensorTooLargeError
        For ``method="materialize"`` on a tensor over the memory limit.

    Notes
    -----
    With random weights the materialized rank is a lower bound on the generic rank,
    like a probed one: it *equals* the generic rank only when it reaches the upper
    bound, which is what ``certified`` reports.  The probe rounds reuse every probe:
    going from ``K`` to ``2K`` evaluates only the new entries.  For a plan, the values
    of nodes inside ``I`` (or inside ``Iᶜ``) are computed once per probe, and only the
    nodes straddling the cut are evaluated per pair of probes.

    Examples
    --------
    the theory page, §5: baseline tree, ``N = 8``, ``I = {0, 1, 2}``: Theorem 7 gives
    ``(r, r²)``; the min-cut gives ``r`` and a witness reaches it.

    >>> T = mtd.ModeTree.baseline(3)
    >>> d = mtd.TreeDecomposition.random(T, M=3, r=3, seed=0)
    >>> res = mtd.certify.generic_rank(d, [0, 1, 2], seed=1)
    >>> res.lower, res.upper, res.certified, res.upper_source
    (3, 3, True, 'min-cut')

    The paper's separating example on the baseline tree (``r^6``), by probes:

    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(4), M=2, r=2, seed=0)
    >>> res = mtd.certify.generic_rank(d, [0, 2, 4, 6, 8, 9, 12, 13], seed=1, method="probes")
    >>> res.lower, res.certified, res.method, res.upper_source
    (64, True, 'probes', 'theorem 7')
    """
    started = time.perf_counter()
    if not isinstance(method, str) or method not in GENERIC_RANK_METHODS:
        raise InvalidArgumentError(f"method must be one of {GENERIC_RANK_METHODS}; got {method!r}")
    rng = as_rng(seed)
    p = None if prime is None else check_prime(prime)
    cap = (
        DEFAULT_MAX_PROBES if max_probes is None else check_int(max_probes, "max_probes", minimum=1)
    )
    plan = get_any_plan(decomposition)
    if plan.g != "product":
        raise InvalidArgumentError(
            f"generic ranks are defined for g = 'product' only (entries polynomial in the "
            f"weights); got g = {plan.g!r}"
        )
    n_modes, n_outputs, size = plan.n_modes, plan.n_outputs, _capped_size(plan.shape)
    rows = frozenset(check_index_set(I, n_modes, proper=True))
    (y,) = check_output(output, n_outputs)
    bounds = upper_bounds(decomposition, plan, rows, y)
    upper, source = _pick_upper(bounds)
    rep = reporter(progress, total=max(1, min(upper, cap)), desc="generic_rank", unit="probes")
    say = rep.say
    say(f"upper bound {_short(upper)} ({source})")
    if p is None:
        p = default_prime(plan)

    def result(lower: int, how: str, K: int, **extra: Any) -> GenericRank:
        assert p is not None  # set above; the probe rounds may move it to another prime
        return GenericRank(
            lower=int(lower),
            upper=int(upper),
            method=how,
            probes=K,
            prime=int(p),
            seconds=time.perf_counter() - started,
            upper_source=source,
            bounds=FrozenMap(bounds),
            index_set=tuple(sorted(rows)),
            n_modes=n_modes,
            output=y,
            **extra,
        )

    structural: StructuralWitness | HybridWitness | None = None
    if method in ("auto", "structural"):
        why = _witness_scope(plan)
        if why is None:
            structural = _witness(plan, rows, y)
        elif hybrid_applicable(plan) is None:
            structural = _hybrid(plan, rows, y)
        elif method == "structural":
            raise InvalidArgumentError(
                f"method='structural' needs a tree or mixed decomposition with eq. 3 nodes, "
                f"untied node weights and no dense output layer; got {why} (use method='auto')"
            )
        if structural is not None:
            say(f"structural witness: rank {_short(structural.rank)}")
        if structural is not None and (structural.rank >= upper or method == "structural"):
            rep.reach(max(1, min(upper, cap)))  # done: no probe rounds to show
            rep.close()
            return result(structural.rank, "structural", 0, witness=structural)
    if method in ("auto", "structural"):
        k = min(upper, cap)
        method = "materialize" if size <= MATERIALIZE_MAX and 4 * k * k > size else "probes"
    trial = _Trial(plan, rows, y, rng, say)
    if method == "materialize":
        lower = trial.materialize(p)
        K = 0
        rounds: list[tuple[int, int, float, float]] = []
        say(f"materialized rank {lower} ({time.perf_counter() - started:.2f} s)")
        rep.reach(max(1, min(upper, cap)))  # done: no probe rounds to show
    else:
        lower, K, rounds = trial.probe_rounds(p, max(1, min(upper, cap)), rep.reach)
    how = "materialized" if method == "materialize" else "probes"
    if structural is not None and structural.rank > lower:
        lower, how = structural.rank, "structural"
    probable, failure, resume = None, None, None
    used = {p}  # primes of all draws (Monte Carlo draws take distinct ones)
    if lower < upper:
        probable, failure, lower, resume = _monte_carlo(trial, lower, K, p, upper, say, used)
    target = max(1, min(upper, cap))
    for _ in range(_MAX_TRIALS):
        if resume is None or K >= target or lower >= upper:
            break
        # An independent witness modulo `resume` had full rank K: the first one fell short
        # by chance (likelier with a small prime), so the doubling resumes with that prime.
        p = resume
        say(f"resuming the probe rounds modulo {p} from {min(2 * K, target)} probes")
        found, K, more = trial.probe_rounds(p, target, rep.reach, first=min(2 * K, target))
        rounds.extend(more)
        lower = max(lower, found)
        probable, failure, resume = None, None, None
        if lower < upper:
            probable, failure, lower, resume = _monte_carlo(trial, lower, K, p, upper, say, used)
    rep.close()
    return result(
        lower,
        how,
        K,
        rounds=tuple(rounds),
        probable=probable,
        failure_probability=failure,
        witness=structural,
    )


def _witness_scope(plan: Plan) -> str | None:
    from .witness import _applicable

    return _applicable(plan)


class _Trial:
    """One architecture's random witnesses: materialized or probed, for any prime.

    Each call draws fresh residues for the free weights (ties and fixed structure
    kept, :func:`mtd._probes.randomize_plan`) and fresh probes.
    """

    def __init__(
        self,
        plan: Plan,
        rows: frozenset[int],
        y: int,
        rng: np.random.Generator,
        say: Callable[[str], None],
    ):
        self.plan, self.rows, self.y, self.rng, self.say = plan, rows, y, rng, say

    def materialize(self, p: int) -> int:
        A = dense_tensor(
            randomize_plan(self.plan, self.rng, p), self.y, arithmetic="modular", prime=p
        )
        return matricization_rank(A, sorted(self.rows), method="modular", prime=p)

    def probes(self, p: int) -> tuple[Any, Plan]:
        rplan = randomize_plan(self.plan, self.rng, p)
        cls = ProbeMatrix if rplan.is_tree else NetworkProbeMatrix
        return cls(rplan, self.rows, self.y, p, self.rng), rplan

    def grow(self, probes: Any, rplan: Plan, K: int, p: int) -> tuple[Any, np.ndarray]:
        """``probes.grow(K)``, falling back to grid-entry probes when no contraction fits.

        A tree's probe matrix comes in its arithmetic's form (float64 balanced residues
        for ``p < 2**26``: :meth:`mtd._tree_probes.ProbeMatrix.grow_values`), for
        :func:`_rank_mod`.
        """
        try:
            if isinstance(probes, ProbeMatrix):
                return probes, probes.grow_values(K)
            return probes, probes.grow(K)
        except TensorTooLargeError:
            if not isinstance(probes, NetworkProbeMatrix):
                raise
            # no contraction of this plan fits: a submatrix at random grid points
            self.say("no probe contraction fits in memory: probing grid entries instead")
            probes = PointProbeMatrix(rplan, self.rows, self.y, p, self.rng)
            return probes, probes.grow(K)

    def probe_rounds(
        self, p: int, target: int, reach: Callable[[int], None], *, first: int = _FIRST_PROBES
    ) -> tuple[int, int, list[tuple[int, int, float, float]]]:
        """Double ``K`` from ``first`` while the ``K × K`` probe matrix has full rank.

        ``K`` stops at ``target``.
        """
        probes, rplan = self.probes(p)
        rounds: list[tuple[int, int, float, float]] = []
        K = min(first, target)
        while True:
            t0 = time.perf_counter()
            probes, E = self.grow(probes, rplan, K, p)
            t1 = time.perf_counter()
            # the last round's matrix is never grown again: eliminated in place, no copy
            lower = _rank_mod(E, p, overwrite=K >= target)
            rounds.append((K, lower, t1 - t0, time.perf_counter() - t1))
            reach(K)
            self.say(
                f"{K} probes: rank {lower} (probe matrix {t1 - t0:.2f} s, "
                f"rank {rounds[-1][3]:.2f} s)"
            )
            if lower < K or K >= target:
                return lower, K, rounds
            K = min(2 * K, target)


def _rank_mod(E: np.ndarray, p: int, *, overwrite: bool = False) -> int:
    """Rank modulo ``p`` of a probe matrix, eliminated as it is (:func:`mtd._modular.rank_mod`).

    ``int64`` residues in ``[0, p)``, or float64 balanced residues (``p < 2**26``); with
    ``overwrite`` the latter is eliminated in place (destroyed).
    """
    if E.size == 0:
        return 0
    return int(rank_mod(E, p, overwrite=overwrite)[0])


_MAX_TRIALS = 12


def _monte_carlo(
    trial: _Trial,
    lower: int,
    K: int,
    p: int,
    upper: int,
    say: Callable[[str], None],
    used: set[int],
) -> tuple[int | None, float | None, int, int | None]:
    """Repeat independent witnesses until the Monte Carlo value is sure enough.

    A witness of ``K`` probes (``K = 0``: materialized, then ``K`` is the matrix's
    smaller side) falls short of ``min(R, K)``, ``R`` the generic rank, with
    probability at most ``K δ / q`` (Schwartz–Zippel over GF(q), ``δ`` the entries'
    degree) — for a prime ``q`` that does not divide every coefficient of the minor.
    A probed witness of rank ``< K`` therefore gives ``R`` except with that
    probability, and independent draws multiply.  Returns ``(probable, failure, lower,
    resume)``: ``resume`` is the prime of a redraw of full rank ``K < upper`` (then
    ``probable`` and ``failure`` are ``None``: the doubling should go on), else ``None``.
    ``used`` holds the primes drawn so far (updated): each draw takes a new one.
    """
    plan = trial.plan
    if K == 0:
        side = min(
            math.prod(plan.dims[m] for m in plan.modes if m in trial.rows),
            math.prod(plan.dims[m] for m in plan.modes if m not in trial.rows),
        )
        n = min(upper, side)
    else:
        if lower >= K:
            return None, None, lower, None
        n = K
    degree = entry_degree(plan)
    failure = min(1.0, n * degree / p)
    used.add(p)
    best = lower
    primes = primes_below(max(p, 2**MONTE_CARLO_PRIME_BITS))  # larger than a small p
    for _ in range(_MAX_TRIALS):
        if failure < MONTE_CARLO_TARGET:
            break
        q = next(x for x in primes if x not in used)
        used.add(q)
        if K == 0:
            got = trial.materialize(q)
        else:
            probes, rplan = trial.probes(q)
            _, E = trial.grow(probes, rplan, K, q)
            got = _rank_mod(E, q, overwrite=True)  # a one-off matrix
            if got >= K:
                return None, None, max(best, got), q
        best = max(best, got)
        if best >= upper:
            return None, None, best, None
        failure *= min(1.0, n * degree / q)
        say(f"Monte Carlo draw mod {q}: rank {got}, failure probability <= {failure:.2g}")
    return best, failure, best, None


def _capped_size(shape: Any) -> int:
    # The number of entries, capped just above MATERIALIZE_MAX (no huge ints for huge trees).
    n = product_capped(shape, MATERIALIZE_MAX)
    return MATERIALIZE_MAX + 1 if n is None else n
