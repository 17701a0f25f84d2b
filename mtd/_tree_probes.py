"""Private: the probe matrix ``Pᵀ [[A]]_I Q`` of a tree plan modulo a prime (:class:`ProbeMatrix`).

Row probe ``k`` is a product vector ``⊗_{j∈I} u_{k,j}`` and column probe ``l`` a product
vector ``⊗_{j∈Iᶜ} v_{l,j}``; entry ``(k, l)`` of ``Pᵀ [[A]]_I Q`` is then the full
contraction of the plan with ``u_{k,j}`` on the leaves of ``I`` and ``v_{l,j}`` on the
others (the theory page, §6).  Slots are classified by their modes:

* *row* slots (modes inside ``I``) depend on the row probe only and *column* slots
  (inside ``Iᶜ``) on the column probe only: they are evaluated once per probe, as
  ``(K, channels)`` arrays, and what they feed into the nodes above them is recorded;
* *straddling* slots (modes on both sides, e.g. the root) depend on both: they are
  evaluated on blocks of ``rows × columns`` as ``(channels, rows, columns)`` arrays,
  combining only along the straddling nodes.

Low in the straddling part of a tree, a slot's block is kept *factored*: channel ``γ``
is ``X_γ Y_γᵀ`` with ``X_γ`` of shape ``(rows, D_γ)`` from the row probes and ``Y_γ`` of
shape ``(columns, D_γ)`` from the column probes (a node whose children are a row-side and
a column-side slot has ``D = 1``; an eq. 3 node multiplies its children's weighted
factors, so its ``D_γ = Π_c Σ_α D_{c,α}``).  While ``D`` stays at most
:data:`FACTORED_MAX` a node is factored; which nodes are is decided once from the
structure, and the factors are computed once per probe (the column factors once for all
row blocks), at ``O(K D)`` cost.  A factored child of a dense eq. 3 node enters it
*weighted*: ``Σ_α W[γ, α] X_α Y_αᵀ`` is one matrix product ``[W[γ, α] X_α]_α [Y_α]_αᵀ``
(BLAS), with the node's row and column factors folded into its two sides.

Arithmetic: for primes below :data:`mtd._elimination.MAX_PRIME` (``2**26``), float64
*balanced* residues with the reduction and the exact matrix products of
:class:`mtd._elimination._Field` (one BLAS product per block where ``inner (p/2)² <
2**53``: primes below ``2**21`` up to ``inner = 8191``), the elementwise products of
two reduced residues exact below ``2**51``; the matrix is then handed to the float
elimination as it is (:meth:`ProbeMatrix.grow_values`).  Larger primes (below ``2**31``)
use ``int64`` residues in ``[0, p)`` (products ``< 2**62``; a matrix product whose inner
dimension ``k`` has ``k (p-1)² >= 2**63`` splits its right factor into 16-bit limbs).
Probes can be added (``grow``): only the new rows and columns of the matrix are
evaluated.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Any

import numpy as np

from ._probes import BOTH, COL, ROW, _slot_of, classify
from ._residue_arith import _IntResidues, residue_arithmetic
from ._sizes import check_bytes
from .decompositions._plan import LeafStep, NodeStep, Plan, Step, SwapStep, map_arrays

__all__: list[str] = []

_BLOCK_BYTES = 1 << 21
"""Target size of one straddling block's array (rows × columns × channels × 8 bytes)."""


def formation_threads() -> int:
    """Threads that form a probe matrix: the CPUs, at most a BLAS thread pin if one is set.

    The pins read are ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
    ``MKL_NUM_THREADS`` (the smallest): pinning BLAS to one thread pins this too.
    """
    n = os.cpu_count() or 1
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            n = min(n, int(value))
    return n


def _blas_threads(n: int) -> Any:
    """A context limiting BLAS to ``n`` threads (threadpoolctl, when installed; else none)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - the optional package is missing
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


def _convert_plan(plan: Plan, ar: _IntResidues) -> Plan:
    """The plan with every array in ``ar``'s form (shared arrays stay shared)."""
    return map_arrays(plan, lambda a: ar.convert(np.asarray(a)))


def _node_value(step: NodeStep, parts: list[np.ndarray], ar: _IntResidues) -> np.ndarray:
    """A node's value from its children's contributions (eq. 3: already weighted)."""
    if step.kind == "ht":
        acc = parts[0]
        for x in parts[1:]:
            acc = ar.mul(acc[..., :, None], x[..., None, :])
            acc = acc.reshape(*acc.shape[:-2], -1)
        B = step.weights[0]
        return ar.matmul(acc, np.ascontiguousarray(B.reshape(B.shape[0], -1).T))
    acc = parts[0]
    for x in parts[1:]:
        acc = ar.mul(acc, x)
    if step.kind == "colt":
        acc = ar.matmul(acc, np.ascontiguousarray(step.weights[0].T))
    return acc


def _contribution(step: NodeStep, j: int, value: np.ndarray, ar: _IntResidues) -> np.ndarray:
    """What child ``j``'s value feeds into ``step``: weighted by ``W_j`` in eq. 3."""
    if step.kind == "eq3":
        return ar.matmul(value, np.ascontiguousarray(step.weights[j].T))
    return value


_RAW_MAX = 256
"""Largest raw width ``D`` of a slot that is compressed (its column factors are formed
before compression: ``K × D`` per channel)."""

FACTORED_MAX = 16
"""Largest inner dimension ``D`` of a factored straddling block (module docstring):
``rows × columns × D`` multiply-adds in BLAS form a channel of it, where a dense node
costs about fifteen elementwise passes over the block per channel."""


class _Factored:
    """A straddling slot's block as ``X_γ Y_γᵀ mod p`` per channel (module docstring)."""

    __slots__ = ("X", "Y")

    def __init__(self, X: list[np.ndarray], Y: list[np.ndarray]):
        self.X, self.Y = X, Y

    def channel(self, g: int, ar: _IntResidues) -> np.ndarray:
        """Channel ``g`` of the block: ``(rows, columns)``."""
        return ar.matmul(self.X[g], np.ascontiguousarray(self.Y[g].T))

    def dense(self, ar: _IntResidues) -> np.ndarray:
        """The block ``(channels, rows, columns)``."""
        return np.stack([self.channel(g, ar) for g in range(len(self.X))])


def _kron_rows(A: np.ndarray, B: np.ndarray, ar: _IntResidues) -> np.ndarray:
    """Row-wise Kronecker product mod ``p``: ``(n, a) ⊗ (n, b) -> (n, a b)``."""
    out = ar.mul(A[:, :, None], B[:, None, :])
    return out.reshape(A.shape[0], -1)


class ProbeMatrix:
    """The growing ``K × K`` matrix ``Pᵀ [[A^y]]_I Q mod p`` of a (randomized) plan.

    Parameters
    ----------
    plan : Plan
        Integer residues mod ``p``, ``g = "product"``.
    rows : frozenset of int
        ``I``, a non-empty proper subset of the modes.
    output : int
    p : int
        A prime below ``2**31``.
    rng : numpy.random.Generator
        Draws the probe vectors (uniform residues).

    Notes
    -----
    *Compressed* factored slots.  A straddling slot ``v`` whose modes in ``I`` are
    ``I_v`` has row factors multilinear in the row probes of ``I_v``, so
    ``X_γ = Φ_v G_γ`` with ``Φ_v`` the row-wise Kronecker product of those probe
    vectors (``K × m_v``, ``m_v = Π_{j∈I_v} dims[j]``, the same for every channel) and
    ``G_γ`` the row factors evaluated at the unit vectors (computed once, from the
    weights alone).  Then ``X_γ Y_γᵀ = Φ_v (Y_γ G_γᵀ)ᵀ``: inner dimension ``m_v``
    whatever ``D_γ``, and a weighted sum over channels stays of width ``m_v`` (the
    weights act on the column side).  A factored node is compressed when that is
    narrower for its parent (``m_v <`` channels × ``D``).
    """

    def __init__(self, plan: Plan, rows: frozenset[int], output: int, p: int, rng: Any):
        self.rows, self.output, self.p, self.rng = rows, output, p, rng
        self.ar = residue_arithmetic(p)
        self.plan = _convert_plan(plan, self.ar)
        self.dims = dict(plan.dims)
        self.cls = classify(plan, rows)
        self.steps = list(enumerate(self.plan.steps))
        self.records: tuple[dict[tuple[int, int], np.ndarray], ...] = ({}, {})
        self.vectors: tuple[dict[int, np.ndarray], ...] = ({}, {})
        """The probe vectors drawn so far: ``vectors[side][mode]`` is ``(K, dims[mode])``,
        ``int64`` residues in ``[0, p)``."""
        self.K = 0
        self.values = np.zeros((0, 0), dtype=self.ar.dtype)
        """The matrix in the arithmetic's form (float64 balanced or ``int64`` residues)."""
        last = plan.last_use()
        self.last = {s: last.get(s, -1) for s in plan.slot_modes}
        self.width = max([plan.slot_sizes[s] for s in plan.slot_modes] + [1])
        self._structure(plan)
        self._col_key: tuple[int, int, int] | None = None
        self._col_cache: dict[Any, Any] = {}
        self.G = {i: self._unit_factors(i, modes) for i, modes in self.compress.items()}
        """``G_γ`` of every compressed step (class notes): ``(m_v, D_γ)`` per channel."""

    def _structure(self, plan: Plan) -> None:
        """Which straddling steps are factored, compressed or dense: from the widths alone."""
        both = [
            (i, s)
            for i, s in self.steps
            if not isinstance(s, LeafStep) and self.cls[_slot_of(s)] == BOTH
        ]
        widths: dict[int, list[int]] = {}
        shared: dict[int, tuple[int, ...]] = {}  # compressed slot -> its modes in I
        self.factored_steps: list[tuple[int, Step]] = []
        self.dense_steps: list[tuple[int, Step]] = []
        self.compress: dict[int, tuple[int, ...]] = {}
        self.shared: dict[tuple[int, int], bool] = {}
        """``(step, child)``: whether the child is compressed when the step reads it."""
        read = {c for s in plan.steps if isinstance(s, NodeStep) for c in s.children}
        read |= {c for s in plan.steps if isinstance(s, SwapStep) for c in s.slots}
        self.output_only = {
            t.slot
            for t in plan.outputs
            if t.slot not in read
            and all(u.matrix is None for u in plan.outputs if u.slot == t.slot)
        }
        """Slots read only by outputs without a dense layer: only channel ``output`` is needed."""
        for i, s in both:
            if isinstance(s, SwapStep):
                a, b = s.slots
                if a in widths and b in widths:
                    n = s.n_channels
                    widths[a], widths[b] = (
                        widths[b][:n] + widths[a][n:],
                        widths[a][:n] + widths[b][n:],
                    )
                    if not (a in shared and b in shared and shared[a] == shared[b]):
                        shared.pop(a, None)
                        shared.pop(b, None)
                    self.factored_steps.append((i, s))
                else:
                    self.dense_steps.append((i, s))
                continue
            kids = [c for c in s.children if self.cls[c] == BOTH]
            for c in kids:
                self.shared[(i, c)] = c in shared
            if s.kind == "eq3" and all(c in widths for c in kids):
                w = math.prod(
                    math.prod(self.dims[m] for m in shared[c]) if c in shared else sum(widths[c])
                    for c in kids
                )
                modes = tuple(m for m in sorted(plan.slot_modes[s.slot]) if m in self.rows)
                m_v = math.prod(self.dims[m] for m in modes)
                size = plan.slot_sizes[s.slot]
                if m_v <= FACTORED_MAX and m_v < size * w and w <= _RAW_MAX:
                    widths[s.slot] = [m_v] * size
                    shared[s.slot] = modes
                    self.compress[i] = modes
                    self.factored_steps.append((i, s))
                    continue
                if w <= FACTORED_MAX:
                    widths[s.slot] = [w] * size
                    self.factored_steps.append((i, s))
                    continue
            self.dense_steps.append((i, s))

    def _unit_factors(self, stop: int, modes: tuple[int, ...]) -> list[np.ndarray]:
        """The raw row factors of compressed step ``stop`` at the unit vectors of its modes.

        Row ``t`` of the result corresponds to the multi-index ``t`` over ``modes`` (the first
        mode most significant), the order of :meth:`_phi`'s columns.
        """
        sizes = [self.dims[m] for m in modes]
        m_v = math.prod(sizes)
        index = np.unravel_index(np.arange(m_v), sizes)
        vecs = {}
        for m in self.plan.modes:
            if m in self.rows:
                unit = np.zeros((m_v, self.dims[m]), dtype=np.int64)
                if m in modes:
                    unit[np.arange(m_v), index[modes.index(m)]] = 1
                vecs[m] = unit
        rec = self._one_side(ROW, m_v, vecs)
        got = self._factors(ROW, np.arange(m_v), rec, vecs, stop)
        assert isinstance(got, list)
        return got

    # ------------------------------------------------------------ one-sided values
    def _one_side(
        self, side: int, B: int, given: dict[int, np.ndarray] | None = None
    ) -> dict[tuple[int, int], np.ndarray]:
        """Evaluate the slots of ``side`` for ``B`` new probes; record what they feed.

        The probes are drawn (and appended to :attr:`vectors`) unless ``given``.
        """
        ar = self.ar
        vals: dict[int, np.ndarray] = {}
        rec: dict[tuple[int, int], np.ndarray] = {}
        for i, step in self.steps:
            if isinstance(step, LeafStep):
                if self.cls[step.slot] != side:
                    continue
                if given is None:
                    shape = (B, self.dims[step.mode])
                    u = self.rng.integers(0, self.p, size=shape, dtype=np.int64)
                    got = self.vectors[side].get(step.mode)
                    self.vectors[side][step.mode] = u if got is None else np.concatenate([got, u])
                else:
                    u = given[step.mode]
                x = ar.matmul(ar.convert(u), step.matrix)
                if step.weight is not None:
                    x = ar.matmul(x, np.ascontiguousarray(step.weight.T))
                vals[step.slot] = x
            elif isinstance(step, NodeStep):
                where = self.cls[step.slot]
                if where == side:
                    parts = [
                        _contribution(step, j, vals[c], ar) for j, c in enumerate(step.children)
                    ]
                    vals[step.slot] = _node_value(step, parts, ar)
                elif where == BOTH:
                    for j, c in enumerate(step.children):
                        if self.cls[c] == side:
                            rec[(i, j)] = _contribution(step, j, vals[c], ar)
            elif self.cls[step.slots[0]] == side:
                a, b = step.slots
                n = step.n_channels
                va, vb = vals[a], vals[b]
                vals[a] = np.concatenate([vb[:, :n], va[:, n:]], axis=1)
                vals[b] = np.concatenate([va[:, :n], vb[:, n:]], axis=1)
        return rec

    # ------------------------------------------------------------ factored blocks
    def _side_product(
        self, step: NodeStep, i: int, side: int, sel: np.ndarray, records: Any = None
    ) -> Any:
        """The product of the contributions of ``step``'s children on ``side`` at ``sel``."""
        records = self.records[side] if records is None else records
        acc = None
        for j, c in enumerate(step.children):
            if self.cls[c] == side:
                x = records[(i, j)][sel]
                acc = x if acc is None else self.ar.mul(acc, x)
        return acc

    def _phi(self, modes: tuple[int, ...], sel: np.ndarray, vectors: Any) -> np.ndarray:
        """``Φ``: the row-wise Kronecker product of the row probes of ``modes`` at ``sel``."""
        ar = self.ar
        acc = ar.convert(vectors[modes[0]][sel])
        for m in modes[1:]:
            acc = _kron_rows(acc, ar.convert(vectors[m][sel]), ar)
        return acc

    def _factors(
        self,
        side: int,
        sel: np.ndarray,
        records: Any = None,
        vectors: Any = None,
        stop: int | None = None,
    ) -> Any:
        """The ``side`` factors (``X`` for rows, ``Y`` for columns) of the factored slots.

        Only those still to be read (by a dense step or an output) are kept.  Row factors
        carry the weights ``W[γ, α]`` of uncompressed children, column factors those of
        compressed ones.  With ``stop``, the raw (uncompressed) factors of that step.
        """
        ar = self.ar
        vectors = self.vectors[side] if vectors is None else vectors
        vals: dict[int, list[np.ndarray]] = {}
        for i, step in self.factored_steps:
            if isinstance(step, SwapStep):
                a, b = step.slots
                n = step.n_channels
                va, vb = vals[a], vals[b]
                vals[a], vals[b] = vb[:n] + va[n:], va[:n] + vb[n:]
                continue
            assert isinstance(step, NodeStep)
            own = self._side_product(step, i, side, sel, records)
            kids = [(j, c) for j, c in enumerate(step.children) if self.cls[c] == BOTH]
            size = step.weights[0].shape[0]
            if i in self.compress and side == ROW and stop != i:
                vals[step.slot] = [self._phi(self.compress[i], sel, vectors)] * size
            else:
                out = []
                for g in range(size):
                    F = None if own is None else own[:, g : g + 1]
                    for j, c in kids:
                        Fc = self._child_factor(
                            side, vals[c], step.weights[j][g], shared=self.shared[(i, c)]
                        )
                        F = Fc if F is None else _kron_rows(F, Fc, ar)
                    assert F is not None
                    out.append(F)
                if stop == i:
                    return out
                if i in self.compress:  # the column side: Z_γ = Y_γ G_γᵀ
                    out = [
                        ar.matmul(Y, np.ascontiguousarray(G.T))
                        for Y, G in zip(out, self.G[i], strict=True)
                    ]
                vals[step.slot] = out
            for _, c in kids:
                del vals[c]
        return vals

    def _child_factor(self, side: int, f: list[np.ndarray], w: np.ndarray, *, shared: bool) -> Any:
        """A factored child's ``side`` factor in ``Σ_α w[α] X_α Y_αᵀ`` (side by side)."""
        ar = self.ar
        if shared:  # X_α = Φ for every α: the weights go to the column side
            return f[0] if side == ROW else ar.combine(w, np.stack(f))
        if side == ROW:
            return np.concatenate([ar.mul(x, w[a]) for a, x in enumerate(f)], axis=1)
        return np.concatenate(f, axis=1)

    def _column_factors(self, C: np.ndarray) -> dict[int, list[np.ndarray]]:
        """:meth:`_factors` of the columns ``C``, cached for the row blocks that share them."""
        key = (int(C[0]), int(C[-1]), len(C))
        if key != self._col_key:
            self._col_cache = {"Y": self._factors(COL, C)}
            self._col_key = key
        return self._col_cache["Y"]

    def _weighted(
        self,
        i: int,
        j: int,
        c: int,
        g: int,
        X: list[np.ndarray],
        rowv: Any,
        colv: Any,
        out: np.ndarray,
    ) -> None:
        """``out = Σ_α W[g, α] X_α Y_αᵀ`` of factored child ``c`` (``j``-th of step ``i``).

        Times the node's row and column factors of channel ``g`` (None: none): one matrix
        product.
        """
        ar = self.ar
        W = self.plan.steps[i].weights[j]  # type: ignore[union-attr]
        shared = self.shared[(i, c)]
        Xc = self._child_factor(ROW, X, W[g], shared=shared)
        if rowv is not None:
            Xc = ar.mul(Xc, rowv[:, g : g + 1])
        key = (i, j, g, colv is not None)
        Yt = self._col_cache.get(key)
        if Yt is None:
            Yc = self._child_factor(COL, self._col_cache["Y"][c], W[g], shared=shared)
            if colv is not None:
                Yc = ar.mul(Yc, colv[:, g : g + 1])
            Yt = self._col_cache[key] = np.ascontiguousarray(Yc.T)
        ar.matmul_into(Xc, Yt, out)

    # ------------------------------------------------------------ straddling block
    def _block(self, R: np.ndarray, C: np.ndarray) -> np.ndarray:
        """Entries ``(k, l)`` for ``k`` in ``R`` and ``l`` in ``C``: shape ``(len(R), len(C))``."""
        ar = self.ar
        row_rec, col_rec = self.records
        Y = self._column_factors(C)
        X = self._factors(ROW, R)
        vals: dict[int, np.ndarray] = {}  # dense blocks (channels, R, C)

        def get(c: int) -> Any:
            return vals[c] if c in vals else _Factored(X[c], Y[c])

        def dense(v: Any) -> np.ndarray:
            return v.dense(ar) if isinstance(v, _Factored) else v

        for i, step in self.dense_steps:
            if isinstance(step, SwapStep):
                a, b = step.slots
                n = step.n_channels
                va, vb = dense(get(a)), dense(get(b))
                vals[a] = np.concatenate([vb[:n], va[n:]])
                vals[b] = np.concatenate([va[:n], vb[n:]])
                continue
            assert isinstance(step, NodeStep)
            if step.kind == "eq3":
                vals[step.slot] = self._eq3(i, step, R, C, get)
            else:
                parts: list[np.ndarray] = []  # channel-last, in child order
                for j, c in enumerate(step.children):
                    where = self.cls[c]
                    if where == ROW:
                        parts.append(row_rec[(i, j)][R][:, None, :])
                    elif where == COL:
                        parts.append(col_rec[(i, j)][C][None, :, :])
                    else:
                        parts.append(np.moveaxis(dense(get(c)), 0, -1))
                got = _node_value(step, parts, ar)
                vals[step.slot] = np.ascontiguousarray(np.moveaxis(got, -1, 0))
            for c in step.children:
                if self.last.get(c) == i and c in vals:
                    del vals[c]
        total: np.ndarray | None = None
        for term in self.plan.outputs:
            x = get(term.slot)
            if isinstance(x, _Factored) and term.matrix is None:
                v = x.channel(self.output, ar)
            elif term.matrix is None:
                v = x[self.output]
            else:
                v = ar.combine(term.matrix[self.output], dense(x))
            total = v if total is None else ar.add(total, v)
        assert total is not None
        return np.ascontiguousarray(total)

    def _eq3(self, i: int, step: NodeStep, R: np.ndarray, C: np.ndarray, get: Any) -> np.ndarray:
        """A dense eq. 3 node on a block, ``(channels, R, C)``.

        Per channel ``γ``: the product over straddling children of ``Σ_α W[γ, α] x_α`` (one
        BLAS product for a factored child, with the row and column factors folded into its
        two sides), times the row and column factors if no factored child took them.  A
        slot read only by the outputs gets only channel ``output`` (the others are unset).
        """
        ar = self.ar
        rowv = self._side_product(step, i, ROW, R)
        colv = self._col_cache.get(("colv", i), False)  # shared by the row blocks
        if colv is False:
            colv = self._col_cache["colv", i] = self._side_product(step, i, COL, C)
        kids = [(j, c, get(c)) for j, c in enumerate(step.children) if self.cls[c] == BOTH]
        kids.sort(key=lambda t: not isinstance(t[2], _Factored))  # a factored child first
        size = step.weights[0].shape[0]
        out = np.empty((size, len(R), len(C)), dtype=ar.dtype)
        tmp: np.ndarray | None = None
        channels = [self.output] if step.slot in self.output_only else range(size)
        for g in channels:
            acc = out[g]
            rv, cv = rowv, colv
            for n, (j, c, x) in enumerate(kids):
                if n:
                    if tmp is None:
                        tmp = np.empty((len(R), len(C)), dtype=ar.dtype)
                    y = tmp
                else:
                    y = acc
                if isinstance(x, _Factored):
                    self._weighted(i, j, c, g, x.X, rv, cv, y)
                    rv = cv = None
                else:
                    ar.combine_into(step.weights[j][g], x, y)
                if n:
                    ar.imul_into(acc, y)
            if not kids:
                assert rv is not None and cv is not None
                acc[...] = rv[:, g : g + 1]
                rv = None
            if rv is not None:
                ar.imul_into(acc, rv[:, g : g + 1])
            if cv is not None:
                ar.imul_into(acc, cv[None, :, g])
        return out

    # ------------------------------------------------------------------ growing
    def grow_values(self, K: int) -> np.ndarray:
        """Add probes up to ``K`` rows and columns; return the ``K × K`` matrix as it is kept.

        Float64 balanced residues for ``p < MAX_PRIME``, else ``int64`` in ``[0, p)``.
        """
        old = self.K
        if K <= old:
            return self.values[:K, :K]
        check_bytes((K, K), 8, what="the probe matrix (max_probes K)")
        for side in (ROW, COL):
            rec = self._one_side(side, K - old)
            store = self.records[side]
            for key, x in rec.items():
                store[key] = np.concatenate([store[key], x]) if key in store else x
        out = np.zeros((K, K), dtype=self.ar.dtype)
        out[:old, :old] = self.values
        self.values = np.zeros((0, 0), dtype=self.ar.dtype)  # release the old copy
        if old:
            self._fill(out, 0, old, np.arange(old, K))
        self._fill(out, old, K, np.arange(K))
        self._col_key, self._col_cache = None, {}
        self.values, self.K = out, K
        return out

    def _fill(self, out: np.ndarray, start: int, stop: int, C: np.ndarray) -> None:
        """Rows ``start..stop-1`` of ``out`` at the columns ``C`` (a range), block by block.

        The blocks are independent: they are formed on :func:`formation_threads` threads
        (numpy and BLAS release the GIL), each BLAS call then on one thread.
        """
        per = max(1, _BLOCK_BYTES // (8 * len(C) * self.width))
        cols = slice(int(C[0]), int(C[-1]) + 1)
        self._column_factors(C)  # before any thread reads the cache
        jobs = [np.arange(s, min(stop, s + per)) for s in range(start, stop, per)]

        def run(R: np.ndarray) -> None:
            out[R[0] : R[-1] + 1, cols] = self._block(R, C)

        n = min(formation_threads(), len(jobs))
        if n <= 1:
            for R in jobs:
                run(R)
            return
        from concurrent.futures import ThreadPoolExecutor

        with _blas_threads(1), ThreadPoolExecutor(n) as pool:
            for _ in pool.map(run, jobs):
                pass

    def grow(self, K: int) -> np.ndarray:
        """Add probes up to ``K`` rows and columns; return the ``K × K`` matrix (residues).

        ``int64`` residues in ``[0, p)`` whatever the arithmetic.
        """
        return self.ar.residues(self.grow_values(K))
