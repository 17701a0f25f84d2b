"""Private: probe matrices ``Pᵀ [[A]]_I Q`` of a plan modulo a prime, without forming ``A``.

Row probe ``k`` is a product vector ``⊗_{j∈I} u_{k,j}`` and column probe ``l`` a product
vector ``⊗_{j∈Iᶜ} v_{l,j}``; entry ``(k, l)`` of ``Pᵀ [[A]]_I Q`` is then the full
contraction of the plan with ``u_{k,j}`` on the leaves of ``I`` and ``v_{l,j}`` on the
others (the theory page, §6).  Trees: :class:`mtd._tree_probes.ProbeMatrix` (factored
and compressed straddling blocks, float64 residues).  Here: the shared pieces (random
witnesses, the row/column/straddling classification of slots, ``int64`` modular
products), :class:`NetworkProbeMatrix` for plans that are not trees,
:class:`PointProbeMatrix` (grid entries) and the entries' degree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .decompositions._plan import LeafStep, NodeStep, Plan, Step, SwapStep, map_arrays
from .errors import TensorTooLargeError

__all__: list[str] = []

_INT64_MAX = 2**63 - 1
ROW, COL, BOTH = 0, 1, 2


def mm(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    """``a @ b mod p`` for residue arrays (``matmul`` broadcasting), without overflow."""
    k = a.shape[-1]
    if k * (p - 1) ** 2 <= _INT64_MAX:
        out = np.matmul(a, b)
        out %= p
        return out
    if k >= 2**16:
        # 16-bit limbs need an inner dimension below 2^16: sum chunks of it mod p.
        step = 2**16 - 1
        total = None
        for s in range(0, k, step):
            bs = b[s : s + step] if b.ndim == 1 else b[..., s : s + step, :]
            part = mm(a[..., s : s + step], bs, p)
            total = part if total is None else (total + part) % p
        assert total is not None
        return total
    out = np.matmul(a, b >> 16)
    out %= p
    out <<= 16
    lo = np.matmul(a, b & 0xFFFF)
    lo %= p
    out += lo
    out %= p
    return out


def _mul(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    out = a * b
    out %= p
    return out


def randomize_plan(plan: Plan, rng: np.random.Generator, p: int) -> Plan:
    """The same plan with every free array replaced by uniform residues mod ``p`` (int64).

    Arrays shared by several steps (tied weights) stay shared and the plan's fixed
    arrays (identities, copy structure: :attr:`Plan.fixed`) are kept: the
    architecture, ties included, is kept; only the free numbers change.
    """

    def fresh(a: np.ndarray) -> np.ndarray:
        if plan.is_fixed(a):
            return a
        arr = rng.integers(0, p, size=a.shape, dtype=np.int64)
        arr.setflags(write=False)
        return arr

    return map_arrays(plan, fresh)


def classify(plan: Plan, rows: frozenset[int]) -> dict[int, int]:
    """``ROW``, ``COL`` or ``BOTH`` for every slot, from the modes it covers."""
    out: dict[int, int] = {}
    for slot, modes in plan.slot_modes.items():
        inside = sum(m in rows for m in modes)
        out[slot] = ROW if inside == len(modes) else COL if inside == 0 else BOTH
    return out


class NetworkProbeMatrix:
    """:class:`ProbeMatrix` for a plan that is not a tree (shared slots, shared modes).

    A block of entries is one contraction of the unrolled plan
    (:mod:`mtd.decompositions._network`) with the row probes on the modes of ``I``
    (a batch label ``k`` shared by all of them) and the column probes on the others
    (label ``l``), along an ``opt_einsum`` path whose largest intermediate is checked
    against the memory limit first; a block that does not fit is split by rows.
    """

    def __init__(self, plan: Plan, rows: frozenset[int], output: int, p: int, rng: Any):
        from .decompositions._arith import Arith
        from .decompositions._network import plan_factors

        self.plan, self.rows, self.p, self.rng = plan, rows, p, rng
        self.terms = plan_factors(plan, [output])
        self.arith = Arith("modular", np.int64, p)
        self.vectors = {m: np.zeros((0, plan.dims[m]), dtype=np.int64) for m in plan.modes}
        """Row probes on the modes of ``I``, column probes on the others: ``(K, dims[m])``."""
        self.K = 0
        self.matrix = np.zeros((0, 0), dtype=np.int64)

    def _block(self, R: np.ndarray, C: np.ndarray) -> np.ndarray:
        from .decompositions._network import contract_terms

        def extra(t: Any) -> Any:
            k, l = len(t.dims), len(t.dims) + 1
            arrays, labels = [], []
            for m in self.plan.modes:
                mine = m in self.rows
                arrays.append(self.vectors[m][R if mine else C])
                labels.append((k if mine else l, t.mode_label[m]))
            return arrays, labels, {k: len(R), l: len(C)}

        try:
            got = contract_terms(
                self.terms,
                extra,
                lambda t: (len(t.dims), len(t.dims) + 1, t.out_label),
                self.arith,
                what="the largest intermediate of a probe block",
            )
        except TensorTooLargeError:
            if len(R) == 1:
                raise
            self._block(R[:1], C[:1])  # raises at once when not even one entry fits
            h = len(R) // 2
            return np.concatenate([self._block(R[:h], C), self._block(R[h:], C)])
        return np.ascontiguousarray(got[..., 0])

    def grow(self, K: int) -> np.ndarray:
        """Add probes up to ``K`` rows and columns; return the ``K × K`` matrix."""
        old = self.K
        if K <= old:
            return self.matrix[:K, :K]
        for m in self.plan.modes:
            new = self.rng.integers(0, self.p, size=(K - old, self.plan.dims[m]), dtype=np.int64)
            self.vectors[m] = np.concatenate([self.vectors[m], new])
        out = np.zeros((K, K), dtype=np.int64)
        out[:old, :old] = self.matrix
        if old:
            out[:old, old:] = self._block(np.arange(old), np.arange(old, K))
        out[old:, :] = self._block(np.arange(old, K), np.arange(K))
        self.matrix, self.K = out, K
        return out


class PointProbeMatrix:
    """A ``K × K`` submatrix of ``[[A^y]]_I mod p`` at random grid points, for any plan.

    Row ``k`` is a random index tuple over the modes of ``I``, column ``l`` one over
    the others; entry ``(k, l)`` is the grid-tensor entry at their union, from the
    pointwise evaluator (exact for every plan: a leaf takes the row of its index).
    The rank of a submatrix is a lower bound on the rank of the matrix, so the witness
    stays proven; unlike product-vector probes, the chance of reaching the rank is not
    covered by the Schwartz–Zippel bound (index tuples are not generic).  Used when
    no contraction of the plan fits in memory.
    """

    def __init__(self, plan: Plan, rows: frozenset[int], output: int, p: int, rng: Any):
        self.plan, self.rows, self.output, self.p, self.rng = plan, rows, output, p, rng
        self.index = {m: np.zeros(0, dtype=np.int64) for m in plan.modes}
        self.K = 0
        self.matrix = np.zeros((0, 0), dtype=np.int64)

    def _block(self, R: np.ndarray, C: np.ndarray) -> np.ndarray:
        from .decompositions._pointwise import evaluate_points

        out = np.empty((len(R), len(C)), dtype=np.int64)
        per = max(1, (1 << 16) // max(1, len(C)))
        for s in range(0, len(R), per):
            rr = R[s : s + per]
            inputs = {
                m: (
                    np.repeat(self.index[m][rr], len(C))
                    if m in self.rows
                    else np.tile(self.index[m][C], len(rr))
                )
                for m in self.plan.modes
            }
            got = evaluate_points(
                self.plan,
                inputs,
                self.output,
                indices=True,
                arithmetic="modular",
                prime=self.p,
            )
            out[s : s + len(rr)] = np.asarray(got)[:, 0].reshape(len(rr), len(C))
        return out

    def grow(self, K: int) -> np.ndarray:
        """Add index tuples up to ``K`` rows and columns; return the ``K × K`` matrix."""
        old = self.K
        if K <= old:
            return self.matrix[:K, :K]
        for m in self.plan.modes:
            new = self.rng.integers(0, self.plan.dims[m], size=K - old, dtype=np.int64)
            self.index[m] = np.concatenate([self.index[m], new])
        out = np.zeros((K, K), dtype=np.int64)
        out[:old, :old] = self.matrix
        if old:
            out[:old, old:] = self._block(np.arange(old), np.arange(old, K))
        out[old:, :] = self._block(np.arange(old, K), np.arange(K))
        self.matrix, self.K = out, K
        return out


def _slot_of(step: Step) -> int:
    return step.slots[0] if isinstance(step, SwapStep) else step.slot


def _product(xs: list[np.ndarray], p: int) -> np.ndarray | None:
    if not xs:
        return None
    acc = xs[0]
    for x in xs[1:]:
        acc = _mul(acc, x, p)
    return acc


def entry_degree(plan: Plan) -> int:
    """The degree of an entry of ``Pᵀ [[A]] Q`` as a polynomial in weights and probes.

    Every array of the plan counts as variables (tied arrays once per use); a probe
    vector contributes degree 1 per mode.  An ``R × R`` minor has ``R`` times this
    degree, which is what the Schwartz–Zippel lemma needs.
    """
    deg: dict[int, int] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep):
            deg[step.slot] = 2 + (step.weight is not None)  # probe, matrix, weight
        elif isinstance(step, NodeStep):
            kids = [deg[c] for c in step.children]
            deg[step.slot] = sum(kids) + (len(kids) if step.kind == "eq3" else 1)
        else:
            a, b = step.slots
            deg[a] = deg[b] = max(deg[a], deg[b])
    return max(deg[t.slot] + (t.matrix is not None) for t in plan.outputs)
