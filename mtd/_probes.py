"""Private: probe matrices ``Pᵀ [[A]]_I Q`` of a plan modulo a prime, without forming ``A``.

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
import threading
from dataclasses import replace
from typing import Any

import numpy as np

from ._elimination import _EXACT, MAX_PRIME, _Field
from .decompositions._plan import LeafStep, NodeStep, OutputTerm, Plan, Step, SwapStep
from .errors import TensorTooLargeError

__all__: list[str] = []

_INT64_MAX = 2**63 - 1
_BLOCK_BYTES = 1 << 22
"""Target size of one straddling block's array (rows × columns × channels × 8 bytes)."""

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


class _IntResidues:
    """``int64`` residues in ``[0, p)``, for any prime below ``2**31``."""

    dtype: Any = np.int64

    def __init__(self, p: int):
        self.p = p

    def convert(self, a: np.ndarray) -> np.ndarray:
        """The arithmetic's form of ``int64`` residues in ``[0, p)``."""
        return a

    def residues(self, x: np.ndarray) -> np.ndarray:
        """``int64`` residues in ``[0, p)`` of values in this arithmetic's form."""
        return x

    def mul(self, a: Any, b: Any) -> np.ndarray:
        return _mul(a, b, self.p)

    def imul(self, a: np.ndarray, b: Any) -> np.ndarray:
        """``a * b`` in place in ``a`` (broadcast to its shape), returned."""
        a *= b
        a %= self.p
        return a

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = a + b
        out %= self.p
        return out

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return mm(a, b, self.p)

    def combine(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``Σ_α w[α] x[α]`` over the first axis of ``x``."""
        return mm(w[None, :], x.reshape(len(w), -1), self.p).reshape(x.shape[1:])

    # in-place forms for the blocks (no temporaries where the arithmetic allows)
    def matmul_into(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """``out[...] = a @ b`` (reduced)."""
        out[...] = self.matmul(a, b)

    def combine_into(self, w: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
        """``out[...] = Σ_α w[α] x[α]`` (reduced)."""
        out[...] = self.combine(w, x)

    def imul_into(self, a: np.ndarray, b: Any) -> None:
        """``a *= b`` (reduced)."""
        self.imul(a, b)


class _FloatResidues(_IntResidues):
    """Balanced float64 residues, ``|x| <= p/2 + 2``, for primes below ``MAX_PRIME``.

    Reductions and matrix products are :class:`mtd._elimination._Field`'s; a product of
    two reduced residues is below ``2**51``, so elementwise products are exact.
    """

    dtype: Any = np.float64

    def __init__(self, p: int):
        super().__init__(p)
        self.F = _Field(p)
        self._local = threading.local()
        """Per thread (blocks are formed on several): scratch arrays by shape."""

    def convert(self, a: np.ndarray) -> np.ndarray:
        return self.F.balanced(a)

    def residues(self, x: np.ndarray) -> np.ndarray:
        out = x.astype(np.int64)
        out += (out < 0) * self.p
        return out

    def mul(self, a: Any, b: Any) -> np.ndarray:
        return self.F.reduce(np.multiply(a, b))

    def imul(self, a: np.ndarray, b: Any) -> np.ndarray:
        a *= b
        return self.F.reduce(a)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.F.reduce(a + b)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 2:
            return self.F.matmul(a, b)
        out = self.F.matmul(a.reshape(-1, a.shape[-1]), b)
        return out.reshape(*a.shape[:-1], b.shape[-1])

    def combine(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape[1:])
        self.combine_into(w, x, out)
        return out

    def _scratch(self, shape: tuple[int, ...]) -> np.ndarray:
        """A scratch array of ``shape`` for the quotients of a reduction (this thread's)."""
        buffers = getattr(self._local, "buffers", None)
        if buffers is None:
            buffers = self._local.buffers = {}
        buf = buffers.get(shape)
        if buf is None:
            buf = buffers[shape] = np.empty(shape)
        return buf

    def matmul_into(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        if a.shape[1] * self.F.h * self.F.h < _EXACT:  # one exact product
            np.matmul(a, b, out=out)
            self.F.reduce(out, self._scratch(out.shape))
        else:
            out[...] = self.F.matmul(a, b)

    def combine_into(self, w: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
        k = len(w)
        if k > self.F.single_inner:
            out[...] = self.matmul(w[None, :], x.reshape(k, -1)).reshape(x.shape[1:])
            return
        np.multiply(x[0], w[0], out=out)
        tmp = self._scratch(out.shape)
        for a in range(1, k):
            out += np.multiply(x[a], w[a], out=tmp)
        self.F.reduce(out, tmp)

    def imul_into(self, a: np.ndarray, b: Any) -> None:
        a *= b
        self.F.reduce(a, self._scratch(a.shape))


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


def residue_arithmetic(p: int) -> _IntResidues:
    """Float64 balanced residues for ``p < MAX_PRIME``, ``int64`` residues otherwise."""
    return _FloatResidues(p) if p < MAX_PRIME else _IntResidues(p)


def randomize_plan(plan: Plan, rng: np.random.Generator, p: int) -> Plan:
    """The same plan with every free array replaced by uniform residues mod ``p`` (int64).

    Arrays shared by several steps (tied weights) stay shared and the plan's fixed
    arrays (identities, copy structure: :attr:`Plan.fixed`) are kept: the
    architecture, ties included, is kept; only the free numbers change.
    """
    new: dict[int, np.ndarray] = {}

    def fresh(a: Any) -> Any:
        if a is None or plan.is_fixed(a):
            return a
        if id(a) not in new:
            arr = rng.integers(0, p, size=a.shape, dtype=np.int64)
            arr.setflags(write=False)
            new[id(a)] = arr
        return new[id(a)]

    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, LeafStep):
            steps.append(replace(step, matrix=fresh(step.matrix), weight=fresh(step.weight)))
        elif isinstance(step, NodeStep):
            steps.append(replace(step, weights=tuple(fresh(w) for w in step.weights)))
        else:
            steps.append(step)
    outputs = tuple(OutputTerm(t.slot, fresh(t.matrix)) for t in plan.outputs)
    return Plan(
        modes=plan.modes,
        dims=dict(plan.dims),
        g=plan.g,
        steps=tuple(steps),
        outputs=outputs,
        n_outputs=plan.n_outputs,
        fixed=plan.fixed,
    )


def classify(plan: Plan, rows: frozenset[int]) -> dict[int, int]:
    """``ROW``, ``COL`` or ``BOTH`` for every slot, from the modes it covers."""
    out: dict[int, int] = {}
    for slot, modes in plan.slot_modes.items():
        inside = sum(m in rows for m in modes)
        out[slot] = ROW if inside == len(modes) else COL if inside == 0 else BOTH
    return out


def _convert_plan(plan: Plan, ar: _IntResidues) -> Plan:
    """The plan with every array in ``ar``'s form (shared arrays stay shared)."""
    new: dict[int, np.ndarray] = {}

    def conv(a: Any) -> Any:
        if a is None:
            return None
        if id(a) not in new:
            new[id(a)] = ar.convert(np.asarray(a))
        return new[id(a)]

    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, LeafStep):
            steps.append(replace(step, matrix=conv(step.matrix), weight=conv(step.weight)))
        elif isinstance(step, NodeStep):
            steps.append(replace(step, weights=tuple(conv(w) for w in step.weights)))
        else:
            steps.append(step)
    outputs = tuple(OutputTerm(t.slot, conv(t.matrix)) for t in plan.outputs)
    return Plan(
        modes=plan.modes,
        dims=dict(plan.dims),
        g=plan.g,
        steps=tuple(steps),
        outputs=outputs,
        n_outputs=plan.n_outputs,
        fixed=plan.fixed,
    )


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
        colv = self._side_product(step, i, COL, C)
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
