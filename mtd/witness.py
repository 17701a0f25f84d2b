"""Structural witnesses: explicit weights whose matricization rank is known in closed form.

For a tree decomposition with ``g`` = product (eq. 3: every node a copy tensor over its
channels, joined to its children by weight matrices; the theory page, §3 and §5), the
generic rank of ``[[A^y]]_I`` is at least the rank at any one choice of weights.  This
module picks weights for which that rank is a *product of integers*, computed without
forming anything of size ``M^N``, in the spirit of the edge-disjoint-paths (max-flow)
constructions behind min-cut characterizations of these ranks (Levine, Yakira, Cohen &
Shashua, ICLR 2018; Buczyńska, arXiv 1802.00222).

The construction routes *paths* of integer *widths* through the tree.  Every weight
matrix is 0/1, every leaf's channel ``γ`` is the basis vector ``e_γ``.  At a node ``ν``
of ``d`` channels, write ``u`` for the product of the widths of the paths that leave
``ν`` upwards from leaves of ``I``, ``v`` for those from leaves of ``Iᶜ`` and ``t`` for
the width of the path that *turns* at ``ν`` (it comes up from a leaf of ``I`` and goes
down to a leaf of ``Iᶜ``, both below ``ν``).  The channel of ``ν`` encodes the triple
``(τ, μ, λ) ∈ [t] × [u] × [v]`` injectively, so ``t·u·v <= d``; the children's upward
paths (of product ``A`` from ``I``, ``B`` from ``Iᶜ``) are re-encoded injectively, so
``t·u <= A`` and ``t·v <= B``.  The parent's weight matrix sums over ``τ``, which closes
the turning path into ``Σ_τ a_τ ⊗ b_τ`` with linearly independent (distinct basis)
``a_τ`` and ``b_τ``.  At the root the output ``y`` fixes the channel (``d = 1``).  Up to
row and column permutations, ``[[A^y]]_I`` is then a Kronecker product of identity
blocks, one of size ``t`` per turning node, with a rank-one factor: its rank is the
product of the ``t``.

A dynamic programme over the tree keeps, for each node, the Pareto frontier of
``(u, v) -> best product of t below``; identical subtrees (same shape, sizes, and
split by ``I``) are solved once, so the baseline tree over ``2^16`` modes takes a
fraction of a second.  The widths are maximized within this family only: when the
result falls short of an upper bound, the generic rank may still be higher (a random
witness then decides, :func:`mtd.certify.generic_rank`).

Scope: plans made of leaves and ``"eq3"`` nodes with one output term and no dense
output layer, no eq. 4 swaps, and no weight matrix shared by two nodes (ties between
leaves are kept: every leaf gets the same matrices).  :func:`structural_witness`
returns None for anything else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ._subtrees import Skeleton, labels, skeleton, subtree_classes
from ._typing import Modes
from ._validation import check_index_set
from .decompositions._plan import LeafStep, NodeStep, OutputTerm, Plan, Step, check_output
from .errors import InvalidArgumentError

__all__ = ["StructuralWitness", "structural_witness", "witness_plan"]

_Frontier = dict[tuple[int, int], int]
"""``(u, v) -> R``: the best product of turning widths with ``u``/``v`` leaving upwards."""


@dataclass(frozen=True, eq=False)
class _Choice:
    """How a node reaches one frontier entry: its turning width and its children's entries."""

    t: int
    kids: tuple[tuple[int, int], ...]


@dataclass(frozen=True, eq=False)
class _Solved:
    frontier: _Frontier
    how: dict[tuple[int, int], _Choice]


@dataclass(frozen=True, eq=False, repr=False)
class StructuralWitness:
    """An explicit witness for a lower bound on a generic rank, and its claimed structure.

    Attributes
    ----------
    rank : int
        The rank of ``[[A^output]]_I`` at the witness weights: the product of ``blocks``.
    blocks : Mapping[int, int]
        The claimed structure: ``{t: count}``, the sizes of the identity blocks whose
        Kronecker product is ``[[A^output]]_I`` up to row and column permutations (and
        a rank-one factor).
    index_set : tuple of int
        ``I``, sorted.
    output : int
    plan : Plan
        The architecture the witness is for (its numbers are ignored).

    Examples
    --------
    The paper's separating example on the baseline tree: ``r^6`` with ``r = 2``.

    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(4), M=2, r=2, seed=0)
    >>> w = mtd.witness.structural_witness(d, [0, 2, 4, 6, 8, 9, 12, 13])
    >>> w.rank, dict(w.blocks)
    (64, {2: 6})
    >>> w.check()
    True
    """

    rank: int
    blocks: Mapping[int, int]
    index_set: tuple[int, ...]
    output: int
    plan: Plan
    _solved: Mapping[int, _Solved] = field(repr=False)
    _root_entry: tuple[int, int] = field(repr=False)

    def __repr__(self) -> str:
        parts = ", ".join(f"{t}^{n}" if n > 1 else str(t) for t, n in sorted(self.blocks.items()))
        r = self.rank
        shown = str(r) if r.bit_length() <= 100 else f"~2^{math.log2(r):.1f}"
        return (
            f"StructuralWitness(rank={shown}, blocks=[{parts or '1'}], "
            f"|I|={len(self.index_set)}, output={self.output})"
        )

    def weights(self) -> Plan:
        """The witness: the architecture's plan with its 0/1 integer weights (see the module)."""
        return witness_plan(self)

    def check(self, *, max_entries: int = 2**16) -> bool:
        """Materialize the witness and compare its exact rank over Q with :attr:`rank`.

        Independent of the construction: the dense tensor is evaluated from the
        witness plan in exact integer arithmetic and ranked by
        :func:`mtd.matricization_rank` with ``method="exact"``.

        Parameters
        ----------
        max_entries : int, default 2**16
            Refuse tensors with more entries than this.

        Returns
        -------
        bool
            Whether the exact rank equals :attr:`rank`.

        Raises
        ------
        InvalidArgumentError
            If the tensor has more than ``max_entries`` entries.
        """
        return _check_materialized(
            witness_plan(self), self.output, self.index_set, self.rank, max_entries=max_entries
        )


def _check_materialized(
    plan: Plan, output: int, index_set: Iterable[int], rank: int, *, max_entries: int
) -> bool:
    """Whether ``plan``'s output, evaluated exactly and dense, has rank ``rank`` on ``I``.

    The check every witness object runs (:meth:`StructuralWitness.check` and the mixed
    decompositions' :meth:`mtd.hybrid_witness.HybridWitness.check`): independent of the
    construction, the dense tensor is evaluated from ``plan`` in exact integer arithmetic
    and ranked over Q by :func:`mtd.matricization_rank`.
    """
    from .decompositions._dense import dense_tensor
    from .ranks import matricization_rank

    size = math.prod(plan.shape)
    if size > max_entries:
        raise InvalidArgumentError(
            f"check() materializes M^N entries; must be at most max_entries = "
            f"{max_entries}; got {size}"
        )
    A = dense_tensor(plan, output, arithmetic="exact")
    return matricization_rank(A, list(index_set), method="exact") == rank


# ------------------------------------------------------------------ the programme
def _prune(entries: dict[tuple[int, int], int]) -> list[tuple[int, int]]:
    """Keys of ``entries`` not dominated (``u' >= u``, ``v' >= v``, ``R' >= R``)."""
    order = sorted(entries, key=lambda k: (-entries[k], -k[0], -k[1]))
    kept: list[tuple[int, int]] = []
    for u, v in order:
        if not any(a >= u and b >= v for a, b in kept):
            kept.append((u, v))
    return kept


def _solve_node(d: int, kids: list[_Solved]) -> _Solved:
    # combine the children: (A, B) capped at d -> (R, the children's entries)
    combos: dict[tuple[int, int], tuple[int, tuple[tuple[int, int], ...]]] = {(1, 1): (1, ())}
    for kid in kids:
        nxt: dict[tuple[int, int], tuple[int, tuple[tuple[int, int], ...]]] = {}
        for (A, B), (R, path) in combos.items():
            for (u, v), Rc in kid.frontier.items():
                key = (min(A * u, d), min(B * v, d))
                val = R * Rc
                old = nxt.get(key)
                if old is None or val > old[0]:
                    nxt[key] = (val, (*path, (u, v)))
        best = {k: r for k, (r, _) in nxt.items()}
        combos = {k: nxt[k] for k in _prune(best)}
    frontier: _Frontier = {}
    how: dict[tuple[int, int], _Choice] = {}
    for (A, B), (R, path) in combos.items():
        for t in range(1, min(A, B) + 1):
            for u in range(1, min(A // t, d // t) + 1):
                v = min(B // t, d // (t * u))
                if v < 1:
                    break
                val = R * t
                if val > frontier.get((u, v), 0):
                    frontier[(u, v)] = val
                    how[(u, v)] = _Choice(t, path)
    keep = _prune(frontier)
    return _Solved({k: frontier[k] for k in keep}, {k: how[k] for k in keep})


def _applicable(plan: Plan) -> str | None:
    """Why the structural witness does not apply to ``plan`` (None if it does; cached)."""
    key = "structural witness scope"
    if key not in plan.cache:
        plan.cache[key] = _scope(plan)
    return plan.cache[key]


def _scope(plan: Plan) -> str | None:
    if plan.g != "product":
        return f"g = {plan.g!r} is not the product"
    if not plan.is_tree:
        return "a plan that is not a tree (a value read by several nodes)"
    if plan.fixed:
        return "arrays of fixed structure (not free weights)"
    if len(plan.outputs) != 1 or plan.outputs[0].matrix is not None:
        return "the output is not one node's channel (a dense layer or a sum of outputs)"
    steps = plan.steps
    node_steps = [s for s in steps if type(s) is NodeStep]
    first_bad = next((s for s in steps if type(s) not in (LeafStep, NodeStep)), None)
    first_kind = next((s for s in node_steps if s.kind != "eq3"), None)
    if first_kind is not None and (
        first_bad is None or steps.index(first_kind) < steps.index(first_bad)
    ):
        return f"a node of kind {first_kind.kind!r} (only eq. 3 nodes are routed)"
    if first_bad is not None:
        return "an eq. 4 interconnection (mixed decomposition)"
    ids = [id(w) for s in node_steps for w in s.weights]
    if len(set(ids)) != len(ids):
        return "weights tied across nodes"
    skel = skeleton(plan)
    if skel is None:
        return "a value read by several nodes"
    if not skel.node[skel.step_of_slot(plan.outputs[0].slot)]:
        return "the output is a leaf"
    return None


def _leaf_cap(plan: Plan, step: LeafStep) -> int:
    m = int(step.matrix.shape[1]) if step.weight is None else int(step.weight.shape[1])
    return min(int(plan.dims[step.mode]), int(step.matrix.shape[1]), m, step.size)


def structural_witness(
    decomposition: Any, I: Modes, *, output: int = 0
) -> StructuralWitness | None:
    """Build the path-routing witness of a tree decomposition's architecture for ``[[A]]_I``.

    Parameters
    ----------
    decomposition : TreeDecomposition, network or Plan
        Anything that compiles to a plan (see the module docstring for the scope).
    I : iterable of int
        A non-empty proper subset of the modes.
    output : int, default 0
        Which output ``A^y``.

    Returns
    -------
    StructuralWitness or None
        None when the architecture is out of scope (mixed decompositions, COLT or
        hierarchical nodes, weights tied across nodes, dense output layers).

    Raises
    ------
    InvalidIndexSetError
        If ``I`` is empty, is every mode, or has a mode out of range.
    InvalidArgumentError
        If ``output`` is out of range.

    See Also
    --------
    mtd.certify.generic_rank : uses this witness first (``method="structural"``).
    mtd.mincut.mincut_bound : the upper bound it is compared with.

    Notes
    -----
    The rank claim is a theorem about the construction (module docstring): each
    turning node contributes a factor ``Σ_τ a_τ ⊗ b_τ`` with distinct basis vectors,
    every other factor is a basis vector, and the encodings are injective, so the
    matricization is a Kronecker product of identities of sizes ``t`` (up to
    permutations).  :meth:`StructuralWitness.check` tests this claim independently on
    small cases; the test suite does so on random architectures.

    Examples
    --------
    Baseline tree, ``N = 8``, ``I = {0, 1, 2}``: Theorem 7 brackets the rank by
    ``(r, r²)``; the witness reaches ``r``, which is the min-cut bound.

    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=3, r=3, seed=0)
    >>> mtd.witness.structural_witness(d, [0, 1, 2]).rank
    3
    """
    from .mincut import get_any_plan

    plan = get_any_plan(decomposition)
    rows = frozenset(check_index_set(I, plan.n_modes, proper=True))
    (y,) = check_output(output, plan.n_outputs)
    return _witness(plan, rows, y)


def _witness(plan: Plan, rows: frozenset[int], y: int) -> StructuralWitness | None:
    """:func:`structural_witness` on validated arguments."""
    if _applicable(plan) is not None:
        return None
    skel = skeleton(plan)
    assert skel is not None  # in scope: one tree of leaves and eq. 3 nodes
    root = skel.step_of_slot(plan.outputs[0].slot)
    # what the programme reads at a step: a leaf's side and capacity, a node's channels
    leaf = ~skel.node
    side = np.zeros(len(leaf), np.int64)
    side[leaf] = np.isin(skel.mode[leaf], np.fromiter(rows, np.int64, len(rows)))
    room = skel.size.copy()
    room[leaf] = _leaf_caps(plan, skel, np.flatnonzero(leaf))
    room[root] = 1  # the output fixes the root's channel
    classes = subtree_classes(skel, labels(skel.node, side, room))
    solved: list[_Solved] = []
    for c, (i, kids) in enumerate(zip(classes.rep, classes.kids, strict=True)):
        cap = int(room[i])
        if not skel.node[i]:
            entry = (cap, 1) if side[i] else (1, cap)
            solved.append(_Solved({entry: 1}, {entry: _Choice(1, ())}))
        else:
            solved.append(_solve_node(cap, [solved[k] for k in kids]))
        assert len(solved) == c + 1
    top_class = int(classes.of[root])
    ((entry, rank),) = solved[top_class].frontier.items()
    blocks = _count_blocks(solved, top_class, entry, classes.kids)
    assert math.prod(t**n for t, n in blocks.items()) == rank
    return StructuralWitness(
        rank=rank,
        blocks=blocks,
        index_set=tuple(sorted(rows)),
        output=y,
        plan=plan,
        _solved=_BySlot(skel.slot, classes.of, solved),
        _root_entry=entry,
    )


class _BySlot(Mapping[int, _Solved]):
    """Slot -> its class's solution, without a dict over every slot of a huge tree."""

    def __init__(self, slots: np.ndarray, of: np.ndarray, solved: list[_Solved]):
        self._slots, self._of, self._solved = slots, of, solved
        self._index: dict[int, int] | None = None  # slot -> step, built on first lookup

    def __getitem__(self, slot: int) -> _Solved:
        if self._index is None:
            self._index = {s: i for i, s in enumerate(self._slots.tolist())}
        return self._solved[int(self._of[self._index[slot]])]

    def __iter__(self) -> Any:
        return iter(self._slots.tolist())

    def __len__(self) -> int:
        return len(self._slots)


def _leaf_caps(plan: Plan, skel: Skeleton, leaf_steps: np.ndarray) -> np.ndarray:
    """:func:`_leaf_cap` of the given leaf steps, as an int64 array."""
    dims = np.fromiter((int(plan.dims[m]) for m in plan.modes), np.int64, len(plan.modes))
    pos = np.full(max(plan.modes) + 1, -1, np.int64)
    pos[list(plan.modes)] = np.arange(len(plan.modes))
    i = leaf_steps
    caps = np.minimum(dims[pos[skel.mode[i]]], skel.matrix_cols[i])
    return np.minimum(np.minimum(caps, skel.weight_cols[i]), skel.size[i])


def _count_blocks(
    solved: list[_Solved], top: int, entry: tuple[int, int], kids_of: list[tuple[int, ...]]
) -> dict[int, int]:
    """``{t: count}`` over the turning nodes: requests pushed down the class DAG."""
    pending: dict[int, dict[tuple[int, int], int]] = {top: {entry: 1}}
    out: dict[int, int] = {}
    for s in range(top, -1, -1):  # classes are numbered children first
        for e, n in pending.pop(s, {}).items():
            choice = solved[s].how[e]
            if choice.t > 1:
                out[choice.t] = out.get(choice.t, 0) + n
            for ks, ke in zip(kids_of[s], choice.kids, strict=True):
                got = pending.setdefault(ks, {})
                got[ke] = got.get(ke, 0) + n
    return dict(sorted(out.items()))


# ------------------------------------------------------------------ the weights
def _digits(value: int, radices: list[int]) -> list[int]:
    out = []
    for r in radices:
        out.append(value % r)
        value //= r
    return out


def witness_plan(witness: StructuralWitness) -> Plan:
    """The plan of ``witness`` with its 0/1 integer weights (``int64``).

    Every node's channel ``τ + t (μ + u λ)`` carries its turning digit ``τ`` and its
    upward digits ``μ`` (from ``I``) and ``λ`` (from ``Iᶜ``); a weight matrix row selects,
    in its child, the channels whose upward digits are the re-encoded ``(μ, λ)`` and
    sums over the child's turning digit.  Leaves give ``e_γ`` for channel ``γ``.
    """
    plan = witness.plan
    root = plan.outputs[0].slot
    steps = {getattr(s, "slot", None): s for s in plan.steps}
    request: dict[int, tuple[int, int]] = {root: witness._root_entry}
    new_weights: dict[int, tuple[np.ndarray, ...]] = {}
    for step in reversed(plan.steps):
        if not isinstance(step, NodeStep):
            continue
        u, v = request[step.slot]
        choice = witness._solved[step.slot].how[(u, v)]
        t = choice.t
        mats = []
        us = [e[0] for e in choice.kids]
        vs = [e[1] for e in choice.kids]
        for i, (c, (uc, vc)) in enumerate(zip(step.children, choice.kids, strict=True)):
            request[c] = (uc, vc)
            rc = plan.slot_sizes[c]
            tc = 1 if isinstance(steps[c], LeafStep) else witness._solved[c].how[(uc, vc)].t
            W = np.zeros((step.size, rc), dtype=np.int64)
            for tau in range(t):
                for mu in range(u):
                    for lam in range(v):
                        row = witness.output if step.slot == root else tau + t * (mu + u * lam)
                        mu_c = _digits(tau + t * mu, us)[i]
                        lam_c = _digits(tau + t * lam, vs)[i]
                        for tau_c in range(tc):
                            W[row, tau_c + tc * (mu_c + uc * lam_c)] = 1
            mats.append(W)
        new_weights[step.slot] = tuple(mats)
    leaf_arrays: dict[int, np.ndarray] = {}

    def basis(a: np.ndarray) -> np.ndarray:
        if id(a) not in leaf_arrays:
            leaf_arrays[id(a)] = np.eye(a.shape[0], a.shape[1], dtype=np.int64)
        return leaf_arrays[id(a)]

    out: list[Step] = []
    for step in plan.steps:
        if isinstance(step, LeafStep):
            weight = None if step.weight is None else basis(step.weight)
            out.append(replace(step, matrix=basis(step.matrix), weight=weight))
        elif isinstance(step, NodeStep):
            out.append(replace(step, weights=new_weights[step.slot]))
        else:  # pragma: no cover - excluded by _applicable
            raise AssertionError
    return Plan(
        modes=plan.modes,
        dims=dict(plan.dims),
        g=plan.g,
        steps=tuple(out),
        outputs=(OutputTerm(root, None),),
        n_outputs=plan.n_outputs,
    )
