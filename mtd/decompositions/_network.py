"""The plan as a tensor network: contraction by a planned path, and its copy-tensor picture.

Trees have fast evaluators (:mod:`._dense`, :mod:`._pointwise`, :mod:`mtd._probes`); a
plan that is not a tree (a slot read by several nodes, children sharing modes) is
contracted here.  Every read of a slot becomes one *instance* of its sub-plan (the
plan is unrolled into a tree of instances), and the instances are joined by labels:

* an instance's channel is a label shared by every factor that reads it — a copy
  tensor over the channel (eq. 3's product, the COLT form's product);
* the index of mode ``j`` is one label shared by every leaf instance of that mode and
  by the vector (or probe) closing it — the input copy tensor of overlapping windows;
* weights are the factors ``W[γ, α]``; a fixed identity is not a factor (its two
  labels are merged).

The contraction order comes from ``opt_einsum`` (a path over shapes only); the memory
guard is applied to the planned largest intermediate before anything is allocated,
and the same path runs in float, exact and modular arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._config import check_allocation
from ..errors import InvalidArgumentError
from ._arith import Arith
from ._plan import LeafStep, NodeStep, Plan, SwapStep, is_identity

__all__ = [
    "Factors",
    "TNTensor",
    "TensorNetwork",
    "contract",
    "count_instances",
    "plan_factors",
    "plan_tensor_network",
]

MAX_INSTANCES = 100_000
"""Unrolling refuses plans with more instances than this (they grow with paths in the DAG)."""

_INT64_MAX = 2**63 - 1
_LIMB = 16


def _opt_einsum() -> Any:
    import opt_einsum  # a dependency, imported lazily (import mtd stays light)

    return opt_einsum


def count_instances(plan: Plan) -> int:
    """The number of factors of the unrolled plan, computed without unrolling it."""
    count: dict[int, int] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep):
            count[step.slot] = 1 + (step.weight is not None)
        elif isinstance(step, NodeStep):
            own = len(step.weights)
            if step.kind == "eq3":
                own -= sum(plan.is_fixed(w) and is_identity(w) for w in step.weights)
            count[step.slot] = own + sum(count[c] for c in step.children)
    return sum(count[t.slot] + 1 for t in plan.outputs)


def _check_unrollable(plan: Plan, max_instances: int) -> None:
    if any(isinstance(s, SwapStep) for s in plan.steps):
        raise InvalidArgumentError(
            "plans with channel swaps (eq. 4) are trees; use the tree evaluators"
        )
    n = count_instances(plan)
    if n > max_instances:
        raise InvalidArgumentError(
            f"the unrolled plan has {n:,} factors, over the limit of {max_instances:,} (one "
            f"instance of every slot per path to the output)"
        )


@dataclass
class Factors:
    """An unrolled plan: ``arrays[i]`` carries the labels ``labels[i]``.

    ``dims[label]`` is a label's dimension, ``mode_label[m]`` the label of mode ``m``
    and ``out_label`` the output's (its rows ``rows``).
    """

    arrays: list[np.ndarray]
    labels: list[tuple[int, ...]]
    dims: dict[int, int]
    mode_label: dict[int, int]
    out_label: int


def _label_maker(dims: dict[int, int]) -> Any:
    def new(d: int) -> int:
        dims[len(dims)] = int(d)
        return len(dims) - 1

    return new


def plan_factors(
    plan: Plan, rows: Sequence[int], *, max_instances: int = MAX_INSTANCES
) -> list[Factors]:
    """The plan's outputs ``rows`` unrolled into factors, one :class:`Factors` per output term."""
    _check_unrollable(plan, max_instances)
    producer = {s.slot: s for s in plan.steps if isinstance(s, (LeafStep, NodeStep))}
    terms = []
    for term in plan.outputs:
        dims: dict[int, int] = {}
        mode_label: dict[int, int] = {}
        arrays: list[np.ndarray] = []
        labels: list[tuple[int, ...]] = []
        new = _label_maker(dims)

        for m in plan.modes:
            mode_label[m] = new(plan.dims[m])
        out = new(len(rows))
        top = new(plan.slot_sizes[term.slot])
        sel = (
            np.eye(plan.slot_sizes[term.slot], dtype=np.int64)[list(rows)]
            if term.matrix is None
            else term.matrix[list(rows)]
        )
        arrays.append(sel)
        labels.append((out, top))
        stack = [(term.slot, top)]
        while stack:
            slot, lab = stack.pop()
            step = producer[slot]
            if isinstance(step, LeafStep):
                if step.weight is None:
                    arrays.append(step.matrix)
                    labels.append((mode_label[step.mode], lab))
                else:
                    a = new(step.matrix.shape[1])
                    arrays += [step.weight, step.matrix]
                    labels += [(lab, a), (mode_label[step.mode], a)]
                continue
            if step.kind == "eq3":
                for w, c in zip(step.weights, step.children, strict=True):
                    if plan.is_fixed(w) and is_identity(w):
                        stack.append((c, lab))
                        continue
                    a = new(w.shape[1])
                    arrays.append(w)
                    labels.append((lab, a))
                    stack.append((c, a))
            elif step.kind == "colt":
                w = step.weights[0]
                a = new(w.shape[1])
                arrays.append(w)
                labels.append((lab, a))
                stack.extend((c, a) for c in step.children)
            else:
                B = step.weights[0]
                kids = [new(d) for d in B.shape[1:]]
                arrays.append(B)
                labels.append((lab, *kids))
                stack.extend(zip(step.children, kids, strict=True))
        terms.append(Factors(arrays, labels, dims, mode_label, out))
    return terms


# ------------------------------------------------------------------------ contraction
def plan_path(
    shapes: Sequence[tuple[int, ...]],
    labels: Sequence[tuple[int, ...]],
    out: tuple[int, ...],
    itemsize: int,
    *,
    max_bytes: int | None = None,
    what: str = "the largest intermediate of the contraction",
) -> list[tuple[int, ...]]:
    """A contraction path (opt_einsum, shapes only), checked against the memory limit.

    Raises :class:`~mtd.errors.TensorTooLargeError` when the planned largest
    intermediate (or the result) is over the limit, before anything is allocated.
    """
    oe = _opt_einsum()
    sym = oe.get_symbol
    eq = ",".join("".join(sym(x) for x in lab) for lab in labels) + "->"
    eq += "".join(sym(x) for x in out)
    known = _PATHS.get(eq)
    if known is not None:  # the same network with other batch sizes: re-check its memory
        _, info = oe.contract_path(eq, *shapes, shapes=True, optimize=known)
        path = known
    elif len(shapes) <= 12:
        path, info = oe.contract_path(eq, *shapes, shapes=True, optimize="auto")
    else:
        path, info = oe.contract_path(eq, *shapes, shapes=True, optimize="greedy")
        if info.opt_cost > _GREEDY_ENOUGH:
            # copy tensors mislead the greedy heuristic; a few randomized greedy trials
            # (deterministic: opt_einsum seeds trial i with i) usually do far better
            trial = oe.RandomGreedy(max_repeats=_RANDOM_REPEATS)
            p2, i2 = oe.contract_path(eq, *shapes, shapes=True, optimize=trial)
            if i2.opt_cost < info.opt_cost:
                path, info = p2, i2
    path = [tuple(p) for p in path]
    if known is None:
        if len(_PATHS) >= _MAX_PATHS:
            _PATHS.pop(next(iter(_PATHS)))
        _PATHS[eq] = path
    largest = max(int(info.largest_intermediate), 1)
    check_allocation((largest,), itemsize, max_bytes=max_bytes, what=what)
    return path


_PATHS: dict[str, list[tuple[int, ...]]] = {}
"""Recent contraction paths by equation (a path stays valid when only dimensions change)."""
_MAX_PATHS = 32
_GREEDY_ENOUGH = 1e8
_RANDOM_REPEATS = 8


def _pair(
    a: np.ndarray,
    la: tuple[int, ...],
    b: np.ndarray,
    lb: tuple[int, ...],
    keep: tuple[int, ...],
    arith: Arith,
) -> np.ndarray:
    """Contract ``a`` (labels ``la``) with ``b`` (``lb``) to the labels ``keep``.

    As a batched matrix product: labels in both and kept are the batch, labels in both
    and not kept are summed (the inner dimension), the others are rows or columns;
    a label of one operand only and not kept is summed out first.
    """
    a, la = _sum_out(a, la, set(lb) | set(keep), arith)
    b, lb = _sum_out(b, lb, set(la) | set(keep), arith)
    sa, sb = set(la), set(lb)
    batch = [x for x in la if x in sb and x in keep]
    inner = [x for x in la if x in sb and x not in keep]
    left = [x for x in la if x not in sb]
    right = [x for x in lb if x not in sa]
    size = dict(zip(la, a.shape, strict=True)) | dict(zip(lb, b.shape, strict=True))

    def n(xs: list[int]) -> int:
        out = 1
        for x in xs:
            out *= int(size[x])
        return out

    A = np.transpose(a, [la.index(x) for x in (*batch, *left, *inner)])
    B = np.transpose(b, [lb.index(x) for x in (*batch, *inner, *right)])
    A = A.reshape(n(batch), n(left), n(inner))
    B = B.reshape(n(batch), n(inner), n(right))
    C = _matmul(A, B, arith)
    C = C.reshape([int(size[x]) for x in (*batch, *left, *right)])
    order = [*batch, *left, *right]
    return np.transpose(C, [order.index(x) for x in keep])


def _sum_out(
    a: np.ndarray, la: tuple[int, ...], wanted: set[int], arith: Arith
) -> tuple[np.ndarray, tuple[int, ...]]:
    drop = [i for i, x in enumerate(la) if x not in wanted]
    if not drop:
        return a, la
    if arith.kind == "exact" and a.dtype != object and a.size:
        count = 1
        for i in drop:
            count *= int(a.shape[i])
        if int(np.abs(a).max()) * count > _INT64_MAX:
            a = a.astype(object)
    a = a.sum(axis=tuple(drop))
    if arith.kind == "modular":
        assert arith.prime is not None
        a = np.remainder(a, arith.prime)
    return a, tuple(x for x in la if x in wanted)


_FLOAT_EXACT = 2**53
_FLOAT_LIMB = 11


def _bmm(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Batched float ``A @ B``; a short batch of large matrices as separate BLAS calls."""
    nb, L, _ = A.shape
    if nb == 1 or nb > 64 or L * B.shape[-1] < 4096:
        return np.matmul(A, B)
    out = np.empty((nb, L, B.shape[-1]), dtype=np.result_type(A, B))
    for i in range(nb):
        np.matmul(A[i], B[i], out=out[i])
    return out


def _limbs(a: np.ndarray) -> list[np.ndarray]:
    """Residues ``< 2**31`` as float64 limbs of 11 bits (``a = Σ_i limb_i 2**(11 i)``)."""
    out = []
    rest = np.array(a, dtype=np.int64)
    for _ in range(3):
        out.append(np.ascontiguousarray(rest & ((1 << _FLOAT_LIMB) - 1), dtype=np.float64))
        rest >>= _FLOAT_LIMB
    return out


def _matmul(A: np.ndarray, B: np.ndarray, arith: Arith) -> np.ndarray:
    """Batched ``A @ B`` in ``arith``: residues through exact float64 BLAS products."""
    k = A.shape[-1]
    if arith.kind == "float":
        return _bmm(A, B)
    if arith.kind == "modular":
        p = arith.prime
        assert p is not None
        mask = (1 << _FLOAT_LIMB) - 1
        if k * (p - 1) * mask < _FLOAT_EXACT:
            a_limbs = [np.ascontiguousarray(A, dtype=np.float64)]  # A whole, B in limbs
        elif k * mask * mask < _FLOAT_EXACT:
            a_limbs = _limbs(A)  # both in 11-bit limbs: every partial sum below 2**53
        else:  # pragma: no cover - over 2**31 summed terms
            raise InvalidArgumentError(f"a contraction sums {k} terms, too many for residues")
        b_limbs = _limbs(B)
        out = np.zeros(A.shape[:-1] + B.shape[-1:], dtype=np.int64)
        for i, Ai in enumerate(a_limbs):
            for j, Bj in enumerate(b_limbs):
                part = _bmm(Ai, Bj).astype(np.int64) % p
                part *= pow(2, _FLOAT_LIMB * (i + j), p)
                out += part % p
                out %= p
        return out
    # exact: int64 when a bound on every partial sum proves it safe, else Python ints
    if A.dtype != object and B.dtype != object:
        ma = int(np.abs(A).max()) if A.size else 0
        mb = int(np.abs(B).max()) if B.size else 0
        if ma * mb * max(k, 1) <= _INT64_MAX:
            return np.matmul(A, B)
    return np.matmul(A.astype(object), B.astype(object))


def contract(
    arrays: Sequence[np.ndarray],
    labels: Sequence[tuple[int, ...]],
    dims: Mapping[int, int],
    out: tuple[int, ...],
    arith: Arith,
    *,
    max_bytes: int | None = None,
    what: str = "the largest intermediate of the contraction",
) -> np.ndarray:
    """Contract labelled factors to the labels ``out`` along an opt_einsum path.

    Labels may appear in any number of factors (copy tensors); pairs are contracted
    with ``numpy.einsum`` in ``arith`` (residues reduced after every pair, exact
    products in ``int64`` only where a bound proves it safe).
    """
    shapes = [tuple(int(dims[x]) for x in lab) for lab in labels]
    itemsize = 8 if arith.dtype != object else 36
    path = plan_path(shapes, labels, out, itemsize, max_bytes=max_bytes, what=what)
    converted: dict[int, np.ndarray] = {}  # tied arrays are converted once
    ops = []
    for a in arrays:
        if id(a) not in converted:
            converted[id(a)] = arith.convert(a)
        ops.append(converted[id(a)])
    labs = [tuple(lab) for lab in labels]
    for group in path:
        picked = sorted(group, reverse=True)
        items = [(ops.pop(i), labs.pop(i)) for i in picked]
        rest = {x for lab in labs for x in lab} | set(out)
        acc, lab_acc = items[0]
        if len(items) == 1:
            acc, lab_acc = _sum_out(acc, lab_acc, rest, arith)
        for k in range(1, len(items)):
            b, lab_b = items[k]
            later = rest | {x for _, lb in items[k + 1 :] for x in lb}
            keep = tuple(x for x in dict.fromkeys((*lab_acc, *lab_b)) if x in later)
            acc = _pair(acc, lab_acc, b, lab_b, keep, arith)
            lab_acc = keep
        ops.append(acc)
        labs.append(lab_acc)
    ((res, lab_res),) = zip(ops, labs, strict=True)
    res, lab_res = _sum_out(res, lab_res, set(out), arith)
    return np.transpose(res, [lab_res.index(x) for x in out])


def contract_terms(
    terms: Sequence[Factors],
    extra: Any,
    out_of: Any,
    arith: Arith,
    *,
    max_bytes: int | None = None,
    what: str = "the largest intermediate of the contraction",
) -> np.ndarray:
    """Sum over output terms of the contraction with ``extra(term)`` factors appended.

    ``extra(term)`` returns ``(arrays, labels, dims)`` to add (e.g. leaf vectors) and
    ``out_of(term)`` the output labels.
    """
    total: np.ndarray | None = None
    for t in terms:
        arrays, labels, more = extra(t)
        dims = {**t.dims, **more}
        val = contract(
            [*t.arrays, *arrays],
            [*t.labels, *labels],
            dims,
            out_of(t),
            arith,
            max_bytes=max_bytes,
            what=what,
        )
        total = val if total is None else arith.add(total, val)
    assert total is not None
    return total


def contract_vectors(
    plan: Plan,
    inputs: Mapping[int, np.ndarray],
    rows: Sequence[int],
    arith: Arith,
    *,
    max_bytes: int | None = None,
    what: str = "the largest intermediate of the contraction",
) -> np.ndarray:
    """``Σ_d A^y[d] Π_j u_j[d_j]`` for a batch: ``inputs[m]`` is ``(B, dims[m])``; ``(B, rows)``."""
    terms = plan_factors(plan, rows)
    B = int(next(iter(inputs.values())).shape[0])

    def extra(t: Factors) -> Any:
        b = len(t.dims)
        arrays = [inputs[m] for m in plan.modes]
        return arrays, [(b, t.mode_label[m]) for m in plan.modes], {b: B}

    return contract_terms(
        terms, extra, lambda t: (len(t.dims), t.out_label), arith, max_bytes=max_bytes, what=what
    )


# ------------------------------------------------------------- copy-tensor description
@dataclass(frozen=True, eq=False)
class TNTensor:
    """One tensor of a :class:`TensorNetwork`.

    Attributes
    ----------
    kind : str
        ``"copy"`` (``δ``: 1 where all its indices are equal; ``data`` is ``None``) or
        ``"matrix"`` (``data`` given).
    legs : tuple of int
        Edge ids, in the order of ``data``'s axes.
    data : ndarray or None
    label : str
        What the tensor is, e.g. ``"weight of node {0,1}"`` or ``"copy of input 3"``.
    """

    kind: str
    legs: tuple[int, ...]
    data: np.ndarray | None
    label: str


@dataclass(frozen=True, eq=False)
class TensorNetwork:
    """A tensor network: tensors joined by edges, open input legs and one output leg.

    Attributes
    ----------
    tensors : tuple of TNTensor
    edge_dims : tuple of int
        ``edge_dims[e]`` is the dimension of edge ``e``.
    input_legs : tuple of int
        ``input_legs[j]`` is the open edge of mode ``j``.
    output_leg : int
        The open edge of the outputs.

    Notes
    -----
    Contracting every closed edge leaves a tensor over ``output_leg`` and the input legs
    whose entry ``[y, d_0, …, d_{N-1}]`` is the grid tensor ``A^y[d_0, …]``.  A minimum
    cut separating the input legs of ``I`` from those of ``Iᶜ`` (edges weighted by the
    log of their dimension) bounds ``rank [[A^y]]_I``.
    """

    tensors: tuple[TNTensor, ...]
    edge_dims: tuple[int, ...]
    input_legs: tuple[int, ...]
    output_leg: int

    @property
    def n_edges(self) -> int:
        """The number of edges (closed and open)."""
        return len(self.edge_dims)

    def edge_ends(self) -> dict[int, tuple[int, ...]]:
        """For every edge, the indices of the tensors it touches (two, or one for open legs)."""
        ends: dict[int, list[int]] = {e: [] for e in range(self.n_edges)}
        for i, t in enumerate(self.tensors):
            for e in t.legs:
                ends[e].append(i)
        return {e: tuple(v) for e, v in ends.items()}

    def __repr__(self) -> str:
        kinds = {k: sum(t.kind == k for t in self.tensors) for k in ("copy", "matrix")}
        return (
            f"<TensorNetwork: {kinds['copy']} copy and {kinds['matrix']} matrix tensors, "
            f"{self.n_edges} edges, {len(self.input_legs)} input legs>"
        )


def plan_tensor_network(
    plan: Plan, output: int = 0, *, max_instances: int = MAX_INSTANCES
) -> TensorNetwork:
    """The unrolled plan with explicit copy tensors (for the max-flow min-cut).

    The output matrix (or the selection of channel ``output``) on the output leg; per
    node instance a copy tensor over its channels with a leg up and one per child, a
    child reached through its weight matrix (legs: parent, child) unless the weight
    is a fixed identity; a COLT node's weight sits above its copy tensor, a transfer
    tensor is one tensor; a leaf instance is its matrix (transposed: legs unit,
    index) with its weight above it; each mode's copy tensor joins its leaf
    instances and carries the mode's open leg.
    """
    _check_unrollable(plan, max_instances)
    producer = {s.slot: s for s in plan.steps if isinstance(s, (LeafStep, NodeStep))}
    dims: list[int] = []
    tensors: list[TNTensor] = []

    def edge(d: int) -> int:
        dims.append(int(d))
        return len(dims) - 1

    occurrences: dict[int, list[int]] = {m: [] for m in plan.modes}
    transposed: dict[int, np.ndarray] = {}

    def matrix_t(a: np.ndarray) -> np.ndarray:
        if id(a) not in transposed:
            t = np.ascontiguousarray(a.T)
            t.setflags(write=False)
            transposed[id(a)] = t
        return transposed[id(a)]

    (term,) = plan.outputs if len(plan.outputs) == 1 else (None,)
    if term is None:
        raise InvalidArgumentError("the copy-tensor picture needs a plan with one output term")
    size = plan.slot_sizes[term.slot]
    out_leg, top = edge(plan.n_outputs if term.matrix is not None else 1), edge(size)
    sel = term.matrix if term.matrix is not None else np.eye(size, dtype=np.int64)[[output]]
    tensors.append(TNTensor("matrix", (out_leg, top), sel, "output layer"))
    stack = [(term.slot, top)]
    while stack:
        slot, up = stack.pop()
        step = producer[slot]
        if isinstance(step, LeafStep):
            if step.weight is not None:
                mid = edge(step.matrix.shape[1])
                tensors.append(TNTensor("matrix", (up, mid), step.weight, f"leaf weight {slot}"))
                up = mid
            e = edge(plan.dims[step.mode])
            occurrences[step.mode].append(e)
            tensors.append(
                TNTensor("matrix", (up, e), matrix_t(step.matrix), f"F^T at input {step.mode}")
            )
            continue
        name = "{" + ",".join(map(str, step.modes)) + "}"
        if step.kind == "eq3":
            legs = [up]
            for w, c in zip(step.weights, step.children, strict=True):
                mid = edge(step.size)
                legs.append(mid)
                if plan.is_fixed(w) and is_identity(w):
                    stack.append((c, mid))
                    continue
                down = edge(w.shape[1])
                tensors.append(TNTensor("matrix", (mid, down), w, f"weight of node {name}"))
                stack.append((c, down))
            tensors.append(TNTensor("copy", tuple(legs), None, f"node {name}"))
        elif step.kind == "colt":
            w = step.weights[0]
            mid = edge(w.shape[1])
            tensors.append(TNTensor("matrix", (up, mid), w, f"weight of node {name}"))
            kids = [edge(w.shape[1]) for _ in step.children]
            tensors.append(TNTensor("copy", (mid, *kids), None, f"node {name}"))
            stack.extend(zip(step.children, kids, strict=True))
        else:
            B = step.weights[0]
            kids = [edge(d) for d in B.shape[1:]]
            tensors.append(TNTensor("matrix", (up, *kids), B, f"transfer tensor of {name}"))
            stack.extend(zip(step.children, kids, strict=True))
    inputs = []
    for m in plan.modes:
        leg = edge(plan.dims[m])
        inputs.append(leg)
        tensors.append(TNTensor("copy", (*occurrences[m], leg), None, f"copy of input {m}"))
    return TensorNetwork(tuple(tensors), tuple(dims), tuple(inputs), out_leg)
