"""The plan: one internal description of a multilinear (or generalized) tree computation.

Every architecture mtd knows compiles to a :class:`Plan`, and every evaluator
(dense float / exact / modular tensors, batched leaf vectors, grid points) is
written once over it, as opt_einsum splits a contraction into a path and its
execution.

A plan is an ordered list of steps that fill numbered *slots*:

* :class:`LeafStep` — the leaf of one mode.  Its value has ``size`` channels; channel
  ``γ`` is the vector ``(matrix @ weight.T)[:, γ]`` over the mode's ``dims[mode]``
  indices (``weight`` ``None`` means the identity, i.e. eq. 3's ``φ^{{j},γ} = V[:, γ]``).
* :class:`NodeStep` — an interior node combining its children's slots, of one of
  three kinds (``g`` is the plan's generalized product, folded over the ``k``
  operands in order, see :data:`G_FUNCTIONS`):

  - ``"eq3"``: a product of ``k`` weighted sums (eq. 3),
    ``φ^γ = σ(⊗_g,c Σ_α W_c[γ, α] φ^{c,α})``, ``weights = (W_1, …, W_k)``;
  - ``"colt"``: a sum of products (COLT'16), ``φ^γ = Σ_α a[γ, α] σ(⊗_g,c φ^{c,α})``,
    ``weights = (a,)``;
  - ``"ht"``: a dense transfer tensor (hierarchical Tucker; ``g`` = product only),
    ``φ^γ = Σ_{α_1…α_k} B[γ, α_1, …, α_k] σ(⊗_c φ^{c,α_c})``, ``weights = (B,)``.

  ``σ`` puts the modes of every node value in ascending order.
* :class:`SwapStep` — eq. 4's interconnection: exchange channels ``0..n-1`` of two slots.

The output is ``Σ_t O_t @ slot_t`` over the :class:`OutputTerm` list (``O_t`` a dense
output layer, or ``None`` for the identity).  Steps never read a slot before it is
written; weights tied across nodes are the same array object in several steps.

Beyond trees
------------
A plan is in general a DAG, which is what overlapping windows and stacked recurrent
cells need:

* a slot may be read by several nodes (a unit feeding overlapping windows, a hidden
  state feeding the next time step and the layer above);
* the children of an ``"eq3"`` node may share modes: their product is then taken
  pointwise on the shared modes, i.e. the mode's index is *copied* to every reader by
  a copy tensor ``δ`` (the node's modes are the union).

:attr:`Plan.is_tree` tells which evaluators apply: the layout-optimized dense
evaluator works on every plan, the leaf-vector, probe and min-cut evaluators have a
tree fast path and a general tensor-network path (:mod:`._network`).
:attr:`Plan.fixed` lists arrays that are *structure*, not weights (identities of a
pooling node, …): a random witness of the architecture re-draws every other array,
once per distinct array object (ties kept), and keeps these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Union

import numpy as np

from ..errors import InvalidArgumentError, InvalidArgumentTypeError

__all__ = [
    "G_FUNCTIONS",
    "LeafStep",
    "NodeStep",
    "OutputTerm",
    "Plan",
    "Step",
    "SwapStep",
    "check_g",
    "check_output",
    "cut_plan",
    "g_bound",
    "is_identity",
    "map_arrays",
    "plan_bound",
    "subtree_plan",
]

G_FUNCTIONS: dict[str, str] = {
    "product": "a * b (convolutional arithmetic circuit)",
    "relu": "max(a + b, 0) (ReLU, sum pooling of the two terms)",
    "max": "max(a, b, 0) (ReLU with max pooling)",
    "relu_sum": "max(a, 0) + max(b, 0) (ReLU with sum pooling)",
}
"""The generalized products ``⊗_g`` mtd knows, by name.

For a node with ``k > 2`` operands ``g`` is folded in order,
``g(…g(g(x_1, x_2), x_3)…, x_k)``.  For ``"product"``, ``"max"`` and ``"relu_sum"``
this fold is associative and commutative (``max(a, b, c, 0)``,
``Σ max(x_i, 0)``), so evaluators may regroup it; ``"relu"`` is evaluated strictly
in order.
"""

REGROUPABLE = frozenset({"product", "max", "relu_sum"})


def check_output(output: Any, n_outputs: int) -> list[int]:
    """Rows to evaluate: ``[output]``, or every output for ``None``."""
    if output is None:
        return list(range(n_outputs))
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)):
        raise InvalidArgumentTypeError(f"output must be an int or None; got {output!r}")
    if not 0 <= int(output) < n_outputs:
        raise InvalidArgumentError(
            f"output must be in 0..{n_outputs - 1} (the decomposition has {n_outputs} "
            f"outputs); got {output}"
        )
    return [int(output)]


def check_g(g: Any) -> str:
    """Return ``g`` if it names a generalized product, else raise listing the valid names."""
    if not isinstance(g, str) or g not in G_FUNCTIONS:
        raise InvalidArgumentError(f"g must be one of {sorted(G_FUNCTIONS)}; got {g!r}")
    return g


@dataclass(frozen=True, eq=False)
class LeafStep:
    """The leaf of ``mode``: ``size`` channels, the columns of ``matrix @ weight.T``."""

    slot: int
    mode: int
    matrix: np.ndarray
    weight: np.ndarray | None
    size: int


@dataclass(frozen=True, eq=False)
class NodeStep:
    """An interior node: ``kind`` in ``{"eq3", "colt", "ht"}`` over the ``children`` slots."""

    slot: int
    node: frozenset[int]
    modes: tuple[int, ...]
    children: tuple[int, ...]
    kind: str
    weights: tuple[np.ndarray, ...]
    size: int
    tree: int = 0


@dataclass(frozen=True, eq=False)
class SwapStep:
    """Eq. 4: exchange channels ``0..n_channels-1`` of the two slots (at mixture ``node``)."""

    slots: tuple[int, int]
    n_channels: int
    node: frozenset[int]


@dataclass(frozen=True, eq=False)
class OutputTerm:
    """One summand of the output: ``slot``'s channels, through ``matrix`` if given."""

    slot: int
    matrix: np.ndarray | None = None


Step = Union[LeafStep, NodeStep, SwapStep]  # noqa: UP007 (a runtime alias on Python 3.10)


@dataclass(frozen=True, eq=False)
class Plan:
    """A compiled computation: steps over slots, and the output terms.

    Attributes
    ----------
    modes : tuple of int
        The output's modes, ascending (the dense layout's axis order).
    dims : Mapping[int, int]
        The dimension of every mode (``M`` for grid tensors).
    g : str
        The generalized product (:data:`G_FUNCTIONS`).
    steps : tuple of steps
    outputs : tuple of OutputTerm
    n_outputs : int
    fixed : tuple of ndarray
        Arrays that are fixed structure, not free weights (see the module docstring).
    """

    modes: tuple[int, ...]
    dims: Mapping[int, int]
    g: str
    steps: tuple[Step, ...]
    outputs: tuple[OutputTerm, ...]
    n_outputs: int
    fixed: tuple[np.ndarray, ...] = ()
    """Arrays of fixed structure (kept by random witnesses); all others are free weights."""
    slot_modes: dict[int, tuple[int, ...]] = field(init=False, repr=False)
    slot_sizes: dict[int, int] = field(init=False, repr=False)
    _tree: bool = field(init=False, repr=False, default=True)
    cache: dict[Any, Any] = field(init=False, repr=False, default_factory=dict)
    """Evaluators' derived data (e.g. the cut plans of :mod:`._dense`); plans are immutable."""

    def __post_init__(self) -> None:
        modes: dict[int, tuple[int, ...]] = {}
        sizes: dict[int, int] = {}
        tree = True
        for step in self.steps:
            if isinstance(step, LeafStep):
                modes[step.slot] = (step.mode,)
                sizes[step.slot] = step.size
            elif isinstance(step, NodeStep):
                assert all(c in modes for c in step.children), "child read before written"
                union = [m for c in step.children for m in modes[c]]
                if len(set(union)) < len(union):
                    assert step.kind == "eq3", "shared modes need an eq3 (product) node"
                    tree = False
                assert step.modes == tuple(sorted(set(union)))
                modes[step.slot] = step.modes
                sizes[step.slot] = step.size
            else:
                assert all(s in modes for s in step.slots)
        assert all(t.slot in modes for t in self.outputs)
        object.__setattr__(self, "slot_modes", modes)
        object.__setattr__(self, "slot_sizes", sizes)
        object.__setattr__(self, "_tree", tree)

    @property
    def is_tree(self) -> bool:
        """Whether no node's children share a mode (then the tree evaluators apply).

        A slot may still have several readers whose values are only added (the two
        trees of a mixed decomposition share their leaves); a product of two values
        that share a slot always shares its modes, which is what this detects.
        """
        return self._tree

    def is_fixed(self, a: np.ndarray | None) -> bool:
        """Whether ``a`` is one of the plan's fixed-structure arrays (:attr:`fixed`)."""
        return a is not None and any(a is f for f in self.fixed)

    @property
    def n_modes(self) -> int:
        """The number of modes of the output."""
        return len(self.modes)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one output's dense tensor."""
        return tuple(self.dims[m] for m in self.modes)

    def is_integer(self) -> bool:
        """Whether every number in the plan has an integer dtype (exact arithmetic possible)."""
        return all(_is_int_array(a) for a in self.arrays())

    def arrays(self) -> list[np.ndarray]:
        """Every distinct array the plan holds (tied weights once)."""
        seen: dict[int, np.ndarray] = {}
        for step in self.steps:
            if isinstance(step, LeafStep):
                items: Sequence[np.ndarray | None] = (step.matrix, step.weight)
            elif isinstance(step, NodeStep):
                items = step.weights
            else:
                items = ()
            for a in items:
                if a is not None:
                    seen.setdefault(id(a), a)
        for t in self.outputs:
            if t.matrix is not None:
                seen.setdefault(id(t.matrix), t.matrix)
        return list(seen.values())

    def last_use(self) -> dict[int, int]:
        """For every slot, the index of the last step reading it (``len(steps)``: the output)."""
        last: dict[int, int] = {}
        for i, step in enumerate(self.steps):
            if isinstance(step, NodeStep):
                for c in step.children:
                    last[c] = i
            elif isinstance(step, SwapStep):
                for s in step.slots:
                    last[s] = i
        for t in self.outputs:
            last[t.slot] = len(self.steps)
        return last


def map_arrays(plan: Plan, f: Callable[[np.ndarray], np.ndarray]) -> Plan:
    """The same plan with every array ``a`` replaced by ``f(a)``.

    The arrays are the leaves' matrices and weights, the nodes' weights and the output
    matrices.  ``f`` is called once per distinct array, in the order of the steps (a leaf's matrix
    before its weight), the outputs last, so that arrays shared by several steps (tied
    weights) stay shared and random draws in ``f`` are reproducible.
    """
    new: dict[int, np.ndarray] = {}

    def conv(a: Any) -> Any:
        if a is None:
            return None
        if id(a) not in new:
            new[id(a)] = f(a)
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


def _is_int_array(a: np.ndarray) -> bool:
    return a.dtype.kind in "iu"


def is_identity(a: np.ndarray | None) -> bool:
    """Whether ``a`` is a square identity matrix."""
    return (
        a is not None
        and a.ndim == 2
        and a.shape[0] == a.shape[1]
        and bool((a == np.eye(a.shape[0], dtype=a.dtype)).all())
    )


# ------------------------------------------------------------------ bounds on entries
def _abs_row_sum_max(a: np.ndarray) -> int:
    """``max_γ Σ |a[γ, …]|`` as a Python int (``a`` integer)."""
    flat = np.abs(a.astype(object)).reshape(a.shape[0], -1)
    return int(max(sum(row) for row in flat)) if flat.size else 0


def g_bound(g: str, bounds: Sequence[int]) -> int:
    """A bound on ``|g|`` folded over operands bounded by ``bounds`` (Python ints)."""
    if g == "product":
        return math.prod(bounds)
    if g == "max":
        return max(bounds)
    return sum(bounds)  # relu, relu_sum: |g(a, b)| <= |a| + |b|


def plan_bound(plan: Plan, leaf_bounds: Mapping[int, int]) -> int:
    """An upper bound on the absolute value of every number an integer evaluation forms.

    ``leaf_bounds`` maps each leaf slot to the largest absolute entry of its value.
    The bound is the value of the same network with every weight and input replaced
    by its absolute value, maximized per slot; it bounds every partial sum of the
    matrix products too, so an evaluation whose bound is below ``2**63`` cannot
    overflow ``int64``.
    """
    b: dict[int, int] = {}
    top = 0
    for step in plan.steps:
        if isinstance(step, LeafStep):
            b[step.slot] = int(leaf_bounds[step.slot])
        elif isinstance(step, NodeStep):
            kids = [b[c] for c in step.children]
            if step.kind == "eq3":
                ops = [_abs_row_sum_max(w) * bc for w, bc in zip(step.weights, kids, strict=False)]
                b[step.slot] = g_bound(plan.g, ops)
                top = max(top, *ops)
            elif step.kind == "colt":
                inner = g_bound(plan.g, kids)
                b[step.slot] = _abs_row_sum_max(step.weights[0]) * inner
                top = max(top, inner)
            else:
                b[step.slot] = _abs_row_sum_max(step.weights[0]) * math.prod(kids)
        else:
            s, t = step.slots
            b[s] = b[t] = max(b[s], b[t])
            continue
        top = max(top, b[step.slot])
    out = 0
    for term in plan.outputs:
        scale = 1 if term.matrix is None else _abs_row_sum_max(term.matrix)
        out += scale * b[term.slot]
    return max(top, out)


# ------------------------------------------------------------- plan transformations
def _subtree_slots(plan: Plan, slot: int) -> set[int]:
    producers = {s.slot: s for s in plan.steps if isinstance(s, (LeafStep, NodeStep))}
    out: set[int] = set()
    stack = [slot]
    while stack:
        s = stack.pop()
        out.add(s)
        step = producers[s]
        if isinstance(step, NodeStep):
            stack.extend(step.children)
    return out


def subtree_plan(plan: Plan, slot: int) -> Plan:
    """The plan computing only ``slot`` (all its channels are the outputs)."""
    assert not any(isinstance(s, SwapStep) for s in plan.steps)
    keep = _subtree_slots(plan, slot)
    steps = tuple(s for s in plan.steps if not isinstance(s, SwapStep) and s.slot in keep)
    modes = plan.slot_modes[slot]
    return Plan(
        modes=modes,
        dims={m: plan.dims[m] for m in modes},
        g=plan.g,
        steps=steps,
        outputs=(OutputTerm(slot),),
        n_outputs=plan.slot_sizes[slot],
        fixed=plan.fixed,
    )


def cut_plan(plan: Plan, slot: int) -> Plan:
    """The *environment* of ``slot``: the plan with that slot's subtree replaced by a free leg.

    The subtree is replaced by a leaf of a new mode (smaller than every mode, so it
    comes first in the dense layout) whose ``r`` channels are the unit vectors of
    ``R^r``; evaluating output ``y`` gives ``E`` with
    ``A^y = Σ_α X[α] ⊗ E[α]`` for ``X`` the value of ``slot``.
    """
    assert not any(isinstance(s, SwapStep) for s in plan.steps)
    drop = _subtree_slots(plan, slot)
    cut = frozenset(plan.slot_modes[slot])
    pseudo = min(plan.modes) - 1
    r = plan.slot_sizes[slot]
    eye = np.eye(r, dtype=np.int64)
    steps: list[Step] = [LeafStep(slot=slot, mode=pseudo, matrix=eye, weight=None, size=r)]
    for s in plan.steps:
        if isinstance(s, SwapStep) or s.slot in drop:
            continue
        if isinstance(s, NodeStep) and cut <= frozenset(s.modes):
            s = replace(s, modes=tuple(sorted([pseudo, *(m for m in s.modes if m not in cut)])))
        steps.append(s)
    modes = tuple(sorted([pseudo, *(m for m in plan.modes if m not in cut)]))
    dims = {m: (r if m == pseudo else plan.dims[m]) for m in modes}
    return Plan(
        modes=modes,
        dims=dims,
        g=plan.g,
        steps=tuple(steps),
        outputs=plan.outputs,
        n_outputs=plan.n_outputs,
        fixed=(*plan.fixed, eye),
    )


def leaf_plan_from_tree(
    tree: Any,
    leaves: Mapping[int, tuple[np.ndarray, np.ndarray | None]],
    node_weights: Mapping[frozenset[int], tuple[np.ndarray, ...]],
    *,
    kind: str,
    g: str,
    output_matrix: np.ndarray | None,
    size_of: Callable[[frozenset[int]], int],
) -> Plan:
    """Compile one mode tree: leaf slots ``0..N-1`` by mode, interior nodes in post-order."""
    slot: dict[frozenset[int], int] = {}
    steps: list[Step] = []
    dims: dict[int, int] = {}
    for m in range(tree.n_modes):
        matrix, weight = leaves[m]
        node = frozenset((m,))
        slot[node] = m
        dims[m] = int(matrix.shape[0])
        steps.append(LeafStep(slot=m, mode=m, matrix=matrix, weight=weight, size=size_of(node)))
    children = tree._children  # one table, not a lookup per node
    for node in reversed(tree.nodes):
        if node not in node_weights:
            continue
        slot[node] = len(slot)
        steps.append(
            NodeStep(
                slot=slot[node],
                node=node,
                modes=tuple(sorted(node)),
                children=tuple(slot[c] for c in children[node]),
                kind=kind,
                weights=node_weights[node],
                size=size_of(node),
            )
        )
    n_out = size_of(tree.root) if output_matrix is None else int(output_matrix.shape[0])
    return Plan(
        modes=tuple(range(tree.n_modes)),
        dims=dims,
        g=g,
        steps=tuple(steps),
        outputs=(OutputTerm(slot[tree.root], output_matrix),),
        n_outputs=n_out,
    )
