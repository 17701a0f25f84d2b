"""Private: probe matrices ``Pᵀ [[A]]_I Q`` of a plan modulo a prime, without forming ``A``.

Row probe ``k`` is a product vector ``⊗_{j∈I} u_{k,j}`` and column probe ``l`` a product
vector ``⊗_{j∈Iᶜ} v_{l,j}``; entry ``(k, l)`` of ``Pᵀ [[A]]_I Q`` is then the full
contraction of the plan with ``u_{k,j}`` on the leaves of ``I`` and ``v_{l,j}`` on the
others (the theory page, §6).  Slots are classified by their modes:

* *row* slots (modes inside ``I``) depend on the row probe only and *column* slots
  (inside ``Iᶜ``) on the column probe only: they are evaluated once per probe, as
  ``(K, channels)`` arrays, and what they feed into the nodes above them is recorded;
* *straddling* slots (modes on both sides, e.g. the root) depend on both: they are
  evaluated on blocks of ``rows × columns`` as ``(rows, columns, channels)`` arrays,
  combining only along the straddling nodes.  An eq. 3 node with one straddling child
  and row-side children folds the row factors into that child's weight matrix, so the
  block costs one batched matrix product.

Low in the straddling part of a tree, a slot's block is kept *factored*: channel ``γ``
is ``X_γ Y_γᵀ`` with ``X_γ`` of shape ``(rows, D_γ)`` from the row probes and ``Y_γ`` of
shape ``(columns, D_γ)`` from the column probes (a node whose children are a row-side and
a column-side slot has ``D = 1``; an eq. 3 node multiplies its children's weighted
factors, so its ``D_γ = Π_c Σ_α D_{c,α}``).  While ``D`` stays at most
:data:`FACTORED_MAX`, a node costs ``O((rows + columns) D)`` instead of
``O(rows × columns)`` element operations; a factored block is formed only where it is
read in full, by one exact float64 BLAS product per channel (:func:`mtd._modular.matmul_mod`),
and the output needs only its channel ``y``.

Arithmetic is modulo a prime ``p < 2**31`` in ``int64`` (residue products ``< 2**62``);
a matrix product whose inner dimension ``k`` has ``k (p-1)² >= 2**63`` splits its right
factor into 16-bit limbs.  Probes can be added (``grow``): only the new rows and columns
of the matrix are evaluated.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

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


def _node_value(step: NodeStep, parts: list[np.ndarray], p: int) -> np.ndarray:
    """A node's value from its children's contributions (eq. 3: already weighted)."""
    if step.kind == "ht":
        acc = parts[0]
        for x in parts[1:]:
            acc = _mul(acc[..., :, None], x[..., None, :], p)
            acc = acc.reshape(*acc.shape[:-2], -1)
        B = step.weights[0]
        return mm(acc, np.ascontiguousarray(B.reshape(B.shape[0], -1).T), p)
    acc = parts[0]
    for x in parts[1:]:
        acc = _mul(acc, x, p)
    if step.kind == "colt":
        acc = mm(acc, np.ascontiguousarray(step.weights[0].T), p)
    return acc


def _contribution(step: NodeStep, j: int, value: np.ndarray, p: int) -> np.ndarray:
    """What child ``j``'s value feeds into ``step``: weighted by ``W_j`` in eq. 3."""
    if step.kind == "eq3":
        return mm(value, np.ascontiguousarray(step.weights[j].T), p)
    return value


FACTORED_MAX = 16
"""Largest inner dimension ``D`` of a factored straddling block (module docstring):
``rows × columns × D`` multiply-adds in BLAS form it, where the elementwise path costs
about ten integer operations per entry and straddling node."""


class _Factored:
    """A straddling slot's block as ``X_γ Y_γᵀ mod p`` per channel (module docstring)."""

    __slots__ = ("X", "Y")

    def __init__(self, X: list[np.ndarray], Y: list[np.ndarray]):
        self.X, self.Y = X, Y

    @property
    def width(self) -> int:
        return max(x.shape[1] for x in self.X)

    def channel(self, g: int, p: int) -> np.ndarray:
        """Channel ``g`` of the block: ``(rows, columns)``."""
        from ._modular import matmul_mod

        return matmul_mod(self.X[g], np.ascontiguousarray(self.Y[g].T), p)

    def dense(self, p: int) -> np.ndarray:
        """The block ``(rows, columns, channels)``."""
        return np.stack([self.channel(g, p) for g in range(len(self.X))], axis=-1)


def _dense(v: Any, p: int) -> np.ndarray:
    return v.dense(p) if isinstance(v, _Factored) else v


def _factored_eq3(
    rowv: np.ndarray | None,
    colv: np.ndarray | None,
    both: list[tuple[_Factored, np.ndarray]],
    p: int,
) -> _Factored | None:
    """An eq. 3 node on factored children, factored (None if ``D`` would pass the cap)."""
    size = next(
        (W.shape[0] for _, W in both),
        rowv.shape[1] if rowv is not None else colv.shape[1] if colv is not None else 0,
    )
    widths = [1] * size
    for f, _ in both:
        inner = sum(x.shape[1] for x in f.X)
        widths = [w * inner for w in widths]
    if max(widths, default=1) > FACTORED_MAX:
        return None
    Xs, Ys = [], []
    for g in range(size):
        X = None if rowv is None else rowv[:, g : g + 1]
        Y = None if colv is None else colv[:, g : g + 1]
        for f, W in both:
            # Σ_α W[g, α] X_α Y_αᵀ: the weighted row factors side by side, the column ones too
            Xc = np.concatenate([_mul(x, W[g, a], p) for a, x in enumerate(f.X)], axis=1)
            Yc = np.concatenate(f.Y, axis=1)
            X = Xc if X is None else _kron_rows(X, Xc, p)
            Y = Yc if Y is None else _kron_rows(Y, Yc, p)
        assert X is not None and Y is not None
        Xs.append(X)
        Ys.append(Y)
    return _Factored(Xs, Ys)


def _kron_rows(A: np.ndarray, B: np.ndarray, p: int) -> np.ndarray:
    """Row-wise Kronecker product mod ``p``: ``(n, a) ⊗ (n, b) -> (n, a b)``."""
    out = _mul(A[:, :, None], B[:, None, :], p)
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
    """

    def __init__(self, plan: Plan, rows: frozenset[int], output: int, p: int, rng: Any):
        self.plan, self.rows, self.output, self.p, self.rng = plan, rows, output, p, rng
        self.cls = classify(plan, rows)
        self.steps = list(enumerate(plan.steps))
        self.both = [
            (i, s)
            for i, s in self.steps
            if not isinstance(s, LeafStep) and self.cls[_slot_of(s)] == BOTH
        ]
        self.records: tuple[dict[tuple[int, int], np.ndarray], ...] = ({}, {})
        self.vectors: tuple[dict[int, np.ndarray], ...] = ({}, {})
        """The probe vectors drawn so far: ``vectors[side][mode]`` is ``(K, dims[mode])``."""
        self.K = 0
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        last = plan.last_use()
        self.last = {s: last.get(s, -1) for s in plan.slot_modes}
        self.width = max([plan.slot_sizes[s] for s in plan.slot_modes] + [1])

    # ------------------------------------------------------------ one-sided values
    def _one_side(self, side: int, B: int) -> dict[tuple[int, int], np.ndarray]:
        """Evaluate the slots of ``side`` for ``B`` new probes; record what they feed."""
        p, plan = self.p, self.plan
        vals: dict[int, np.ndarray] = {}
        rec: dict[tuple[int, int], np.ndarray] = {}
        for i, step in self.steps:
            if isinstance(step, LeafStep):
                if self.cls[step.slot] != side:
                    continue
                u = self.rng.integers(0, p, size=(B, plan.dims[step.mode]), dtype=np.int64)
                got = self.vectors[side].get(step.mode)
                self.vectors[side][step.mode] = u if got is None else np.concatenate([got, u])
                x = mm(u, step.matrix, p)
                if step.weight is not None:
                    x = mm(x, np.ascontiguousarray(step.weight.T), p)
                vals[step.slot] = x
            elif isinstance(step, NodeStep):
                where = self.cls[step.slot]
                if where == side:
                    parts = [
                        _contribution(step, j, vals[c], p) for j, c in enumerate(step.children)
                    ]
                    vals[step.slot] = _node_value(step, parts, p)
                elif where == BOTH:
                    for j, c in enumerate(step.children):
                        if self.cls[c] == side:
                            rec[(i, j)] = _contribution(step, j, vals[c], p)
            elif self.cls[step.slots[0]] == side:
                a, b = step.slots
                n = step.n_channels
                va, vb = vals[a], vals[b]
                vals[a] = np.concatenate([vb[:, :n], va[:, n:]], axis=1)
                vals[b] = np.concatenate([va[:, :n], vb[:, n:]], axis=1)
        return rec

    # ------------------------------------------------------------ straddling block
    def _block(self, R: np.ndarray, C: np.ndarray) -> np.ndarray:
        """Entries ``(k, l)`` for ``k`` in ``R`` and ``l`` in ``C``: shape ``(len(R), len(C))``."""
        p = self.p
        row_rec, col_rec = self.records
        vals: dict[int, Any] = {}  # an (R, C, channels) block, or _Factored
        for i, step in self.both:
            if isinstance(step, SwapStep):
                a, b = step.slots
                n = step.n_channels
                va, vb = vals[a], vals[b]
                if isinstance(va, _Factored) and isinstance(vb, _Factored):
                    vals[a] = _Factored(vb.X[:n] + va.X[n:], vb.Y[:n] + va.Y[n:])
                    vals[b] = _Factored(va.X[:n] + vb.X[n:], va.Y[:n] + vb.Y[n:])
                    continue
                va, vb = _dense(va, p), _dense(vb, p)
                vals[a] = np.concatenate([vb[..., :n], va[..., n:]], axis=-1)
                vals[b] = np.concatenate([va[..., :n], vb[..., n:]], axis=-1)
                continue
            assert isinstance(step, NodeStep)
            row_f: list[np.ndarray] = []
            col_f: list[np.ndarray] = []
            both: list[int] = []
            parts: list[np.ndarray] = []  # in child order (a transfer tensor needs it)
            for j, c in enumerate(step.children):
                where = self.cls[c]
                if where == ROW:
                    row_f.append(row_rec[(i, j)][R])
                    parts.append(row_f[-1][:, None, :])
                elif where == COL:
                    col_f.append(col_rec[(i, j)][C])
                    parts.append(col_f[-1][None, :, :])
                else:
                    both.append(j)
                    parts.append(vals[c])
            if step.kind == "eq3":
                pairs = [(vals[step.children[j]], step.weights[j]) for j in both]
                got: Any = None
                if all(isinstance(x, _Factored) for x, _ in pairs):
                    rowv, colv = _product(row_f, p), _product(col_f, p)
                    got = _factored_eq3(rowv, colv, pairs, p)
                if got is None:
                    got = self._eq3(row_f, col_f, [(_dense(x, p), W) for x, W in pairs])
                vals[step.slot] = got
            else:
                parts = [_dense(x, p) for x in parts]
                vals[step.slot] = _node_value(step, parts, p)
            for c in step.children:
                if self.last.get(c) == i and c in vals:
                    del vals[c]
        total: np.ndarray | None = None
        for term in self.plan.outputs:
            x = vals[term.slot]
            if isinstance(x, _Factored) and term.matrix is None:
                v = x.channel(self.output, p)
            elif term.matrix is None:
                v = x[..., self.output]
            else:
                x = _dense(x, p)
                row = np.ascontiguousarray(term.matrix[self.output][:, None])
                v = mm(x, row, p)[..., 0]
            total = v if total is None else (total + v) % p
        assert total is not None
        return np.ascontiguousarray(total)

    def _eq3(
        self,
        row_f: list[np.ndarray],
        col_f: list[np.ndarray],
        both: list[tuple[np.ndarray, np.ndarray]],
    ) -> np.ndarray:
        """An eq. 3 node on a block: row/column contributions and straddling ``(x, W)``."""
        p = self.p
        rowv = _product(row_f, p)
        colv = _product(col_f, p)
        acc: np.ndarray | None = None
        for x, W in both:
            rc = W.shape[1]
            if acc is None and rowv is not None and rc * (p - 1) ** 2 <= _INT64_MAX:
                # fold the row factors into W: one batched product over the rows
                Wk = _mul(rowv[:, :, None], W[None, :, :], p)  # (R, size, rc)
                acc = np.matmul(x, Wk.transpose(0, 2, 1))
                acc %= p
                rowv = None
                continue
            y = mm(x, np.ascontiguousarray(W.T), p)
            acc = y if acc is None else _mul(acc, y, p)
        if acc is None:
            assert rowv is not None and colv is not None
            return _mul(rowv[:, None, :], colv[None, :, :], p)
        if rowv is not None:
            acc = _mul(acc, rowv[:, None, :], p)
        if colv is not None:
            acc = _mul(acc, colv[None, :, :], p)
        return acc

    # ------------------------------------------------------------------ growing
    def grow(self, K: int) -> np.ndarray:
        """Add probes up to ``K`` rows and columns; return the ``K × K`` matrix."""
        old = self.K
        if K <= old:
            return self.matrix[:K, :K]
        for side in (ROW, COL):
            rec = self._one_side(side, K - old)
            store = self.records[side]
            for key, x in rec.items():
                store[key] = np.concatenate([store[key], x]) if key in store else x
        out = np.zeros((K, K), dtype=np.int64)
        out[:old, :old] = self.matrix
        cols_all = np.arange(K)
        per = max(1, _BLOCK_BYTES // (8 * K * self.width))
        new_cols = np.arange(old, K)
        if old:
            per_old = max(1, _BLOCK_BYTES // (8 * max(1, K - old) * self.width))
            for s in range(0, old, per_old):
                R = np.arange(s, min(old, s + per_old))
                out[R[0] : R[-1] + 1, old:] = self._block(R, new_cols)
        for s in range(old, K, per):
            R = np.arange(s, min(K, s + per))
            out[R[0] : R[-1] + 1, :] = self._block(R, cols_all)
        self.matrix, self.K = out, K
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
