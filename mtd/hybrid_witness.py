"""Structural witnesses for mixed decompositions, routed through a hybrid tree.

A mixed decomposition (eq. 4; the theory page, §4) runs two tree decompositions side
by side and, at every mixture node ``μ``, exchanges the first ``n = r_μ/2`` channels of
the two trees' values.  After the exchange, the parent of ``μ`` in either tree reads
``n`` channels computed by the *other* tree and ``r_μ - n`` computed by its own.

With ``g`` = product, 0/1 weights can route paths through this network so that it
computes exactly the tree decomposition of one hybrid tree ``H`` (Def. 4):

* every node outside ``H`` gets zero weights, in particular the root of the tree whose
  output term is not used (the output is ``φ^{root,y} + φ̄^{root,y}``);
* where ``H`` changes tree at a mixture node ``μ`` (the segment of ``μ`` from one tree,
  its parent from the other), the parent reads ``μ`` through the ``n`` exchanged
  channels; where it does not, through the ``r_μ - n`` channels that stay;
* every other edge of ``H`` carries all the channels of its child.

``H``'s tree decomposition with these per-edge channel counts is a single tree, and
:mod:`mtd.witness`'s path-routing construction applies to it: its matricization is a
Kronecker product of identity blocks up to permutations, of rank the product of their
sizes.  Embedding those 0/1 weights in the mixed decomposition's own arrays (each
node's rows and each parent's columns at the channel window the edge uses) gives
weights *of the mixed decomposition* at which ``[[A^y]]_I`` has that rank, hence a
proven lower bound on its generic rank.  The rank is maximized over every hybrid at
once by one dynamic programme over the plan: at a mixture node the parent takes the
better of the two trees' Pareto frontiers (exchanged or staying channels), so no
hybrid is enumerated.  :meth:`HybridWitness.check` materializes small cases and ranks
them exactly over Q, independently of the construction.

Scope: plans of leaves, eq. 3 nodes and eq. 4 exchanges, outputs summed without a
dense layer, no weight array shared by two nodes and nothing of fixed structure;
:func:`hybrid_witness` returns None for anything else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._typing import Modes
from ._validation import check_index_set
from .decompositions._plan import (
    LeafStep,
    NodeStep,
    OutputTerm,
    Plan,
    Step,
    SwapStep,
    check_output,
)
from .witness import (
    StructuralWitness,
    _check_materialized,
    _leaf_cap,
    _prune,
    _solve_node,
    _Solved,
    _witness,
)

__all__ = ["HybridWitness", "hybrid_witness"]


@dataclass(frozen=True)
class _Use:
    """One way a reader can use a child position: the step reached and its channel window."""

    slot: int
    offset: int
    room: int


@dataclass(frozen=True, eq=False, repr=False)
class HybridWitness:
    """Explicit weights of a mixed decomposition that compute one hybrid's witness.

    Attributes
    ----------
    rank : int
        The rank of ``[[A^output]]_I`` at the witness weights: the product of ``blocks``.
    blocks : Mapping[int, int]
        ``{t: count}``: the identity blocks whose Kronecker product is the
        matricization up to row and column permutations (and a rank-one factor).
    index_set : tuple of int
        ``I``, sorted.
    output : int
    plan : Plan
        The mixed decomposition's plan (its numbers are ignored).
    sources : Mapping[frozenset, int]
        The hybrid tree ``H`` the weights route through: each of its interior nodes and
        the tree it is computed in (0 for ``T``, 1 for ``T̄``, as
        :data:`mtd.hybrids.FROM_T` / :data:`~mtd.hybrids.FROM_T_BAR`).
    choice : Mapping[frozenset, int]
        For each mixture node in ``H`` and the root: the tree ``H`` took its segment
        from (the ``choice`` of :func:`mtd.hybrid_tree`).
    channels : Mapping[frozenset, int]
        For each interior node of ``H`` but its root: how many of its channels its
        parent in ``H`` reads (all of them, or the exchanged / staying half at a
        mixture node).
    tree_witness : StructuralWitness
        The path-routing witness of ``H``'s tree decomposition with those channel
        counts, which the weights embed.

    Examples
    --------
    The paper's N = 8 example: the baseline tree against dilations 2, 1, 4, mixed at
    ``{0..3}`` and ``{4..7}``, ``M = 3``, ``r = 2``, ``I = {0, 2, 4, 5}``.

    >>> T, Tb = mtd.ModeTree.from_dilations([1, 2, 4]), mtd.ModeTree.from_dilations([2, 1, 4])
    >>> m = mtd.MixedDecomposition.random(T, Tb, [range(4), range(4, 8)], M=3, r=2, seed=0)
    >>> w = mtd.hybrid_witness.hybrid_witness(m, [0, 2, 4, 5])
    >>> w.rank, dict(w.blocks)
    (16, {2: 4})
    >>> w.check()
    True
    """

    rank: int
    blocks: Mapping[int, int]
    index_set: tuple[int, ...]
    output: int
    plan: Plan
    sources: Mapping[frozenset[int], int]
    choice: Mapping[frozenset[int], int]
    channels: Mapping[frozenset[int], int]
    tree_witness: StructuralWitness
    _uses: Mapping[int, _Use]

    def __repr__(self) -> str:
        parts = ", ".join(f"{t}^{n}" if n > 1 else str(t) for t, n in sorted(self.blocks.items()))
        r = self.rank
        shown = str(r) if r.bit_length() <= 100 else f"~2^{math.log2(r):.1f}"
        picks = sum(1 for c in self.choice.values() if c)
        return (
            f"HybridWitness(rank={shown}, blocks=[{parts or '1'}], |I|={len(self.index_set)}, "
            f"output={self.output}, segments from T_bar: {picks} of {len(self.choice)})"
        )

    def weights(self) -> Plan:
        """The mixed decomposition's plan with the witness's 0/1 integer weights (``int64``)."""
        return _embed(self)

    def check(self, *, max_entries: int = 2**16) -> bool:
        """Materialize the mixed decomposition at the witness weights; compare exact ranks.

        The tensor is evaluated from :meth:`weights` (the mixed plan, with its channel
        exchanges and summed outputs) in exact integer arithmetic and ranked by
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
            self.weights(), self.output, self.index_set, self.rank, max_entries=max_entries
        )


def hybrid_applicable(plan: Plan) -> str | None:
    """Why :func:`hybrid_witness` does not apply to ``plan`` (None if it does; cached)."""
    key = "hybrid witness scope"
    if key not in plan.cache:
        plan.cache[key] = _scope(plan)
    return plan.cache[key]


def _scope(plan: Plan) -> str | None:
    if plan.g != "product":
        return f"g = {plan.g!r} is not the product"
    if plan.fixed:
        return "arrays of fixed structure (not free weights)"
    if any(t.matrix is not None for t in plan.outputs):
        return "a dense output layer"
    nodes = [s for s in plan.steps if isinstance(s, NodeStep)]
    if any(s.kind != "eq3" for s in nodes):
        return "a node that is not an eq. 3 node"
    ids = [id(w) for s in nodes for w in s.weights]
    if len(set(ids)) != len(ids):
        return "weights tied across nodes"
    swapped: set[int] = set()
    for s in plan.steps:
        if isinstance(s, SwapStep):
            if swapped & set(s.slots) or s.slots[0] == s.slots[1]:
                return "a slot exchanged twice"
            swapped.update(s.slots)
    readers: dict[int, int] = {}
    for s in nodes:
        for c in s.children:
            readers[c] = readers.get(c, 0) + 1
    outs = {t.slot for t in plan.outputs}
    kinds = {s.slot: type(s) for s in plan.steps if not isinstance(s, SwapStep)}
    for s in nodes:
        read = readers.get(s.slot, 0) + (s.slot in outs)
        if read != 1:
            return "a node value read by several nodes (not two trees)"
    if all(kinds.get(t.slot) is LeafStep for t in plan.outputs):
        return "the output is a leaf"
    return None


def hybrid_witness(decomposition: Any, I: Modes, *, output: int = 0) -> HybridWitness | None:
    """The best hybrid-routed structural witness of a mixed decomposition for ``[[A]]_I``.

    Parameters
    ----------
    decomposition : MixedDecomposition, network or Plan
        Anything that compiles to a plan of eq. 3 nodes and eq. 4 exchanges.
    I : iterable of int
        A non-empty proper subset of the modes.
    output : int, default 0
        Which output ``A^y``.

    Returns
    -------
    HybridWitness or None
        None when the architecture is out of scope (module docstring).

    Raises
    ------
    InvalidIndexSetError
        If ``I`` is empty, is every mode, or has a mode out of range.
    InvalidArgumentError
        If ``output`` is out of range.

    See Also
    --------
    mtd.witness.structural_witness : the same construction for one tree.
    mtd.certify.generic_rank : uses this witness first on mixed decompositions.

    Notes
    -----
    The rank is the maximum, over every hybrid tree ``H`` of the two trees (either tree
    on top, every choice of segments), of the path-routing witness rank of ``H`` with
    the channel counts the exchanges allow (module docstring).  It is a lower bound on
    the generic rank; it can be below it, since weights mixing both trees' channels at
    a node are not considered.

    Examples
    --------
    The 16-mode separating example (the theory page, §5) mixed at its four blocks:
    the routed hybrid reaches ``2^8`` at ``M = r = 2``, where either tree alone has
    generic rank ``2^6``; it takes the segments of ``{8..11}`` and ``{12..15}`` from
    ``T̄``.

    >>> T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
    >>> mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    >>> m = mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0)
    >>> w = mtd.hybrid_witness.hybrid_witness(m, [0, 2, 4, 6, 8, 9, 12, 13])
    >>> w.rank, sorted(min(n) for n, t in w.choice.items() if t == 1)
    (256, [8, 12])
    """
    from .mincut import get_any_plan

    plan = get_any_plan(decomposition)
    rows = frozenset(check_index_set(I, plan.n_modes, proper=True))
    (y,) = check_output(output, plan.n_outputs)
    return _hybrid(plan, rows, y)


def _options(plan: Plan) -> dict[int, list[list[_Use]]]:
    """For each node slot, each child position's ways to be read (one, or two if exchanged)."""
    partner: dict[int, tuple[int, int]] = {}
    for s in plan.steps:
        if isinstance(s, SwapStep):
            a, b = s.slots
            partner[a], partner[b] = (b, s.n_channels), (a, s.n_channels)
    size = plan.slot_sizes
    out: dict[int, list[list[_Use]]] = {}
    for s in plan.steps:
        if not isinstance(s, NodeStep):
            continue
        pos = []
        for c in s.children:
            if c in partner:
                other, n = partner[c]
                pos.append([_Use(c, n, size[c] - n), _Use(other, 0, min(n, size[other]))])
            else:
                pos.append([_Use(c, 0, size[c])])
        out[s.slot] = pos
    return out


def _hybrid(plan: Plan, rows: frozenset[int], y: int) -> HybridWitness | None:
    """:func:`hybrid_witness` on validated arguments."""
    if hybrid_applicable(plan) is not None:
        return None
    steps: dict[int, LeafStep | NodeStep] = {
        s.slot: s for s in plan.steps if not isinstance(s, SwapStep)
    }
    options = _options(plan)
    roots = _roots(plan, y)
    if not roots:
        return None
    # every room each node can be read with, then the programme children first
    rooms: dict[int, set[int]] = {r: {1} for r in roots}
    for pos in options.values():
        for use in (u for opts in pos for u in opts):
            rooms.setdefault(use.slot, set()).add(use.room)
    solved: dict[tuple[int, int], _Solved] = {}
    origin: dict[tuple[int, int], dict[tuple[int, int], _Use]] = {}
    for s in plan.steps:
        if isinstance(s, LeafStep):
            cap = _leaf_cap(plan, s)
            entry = (cap, 1) if s.mode in rows else (1, cap)
            for room in rooms.get(s.slot, ()):
                e = (min(entry[0], room), 1) if s.mode in rows else (1, min(entry[1], room))
                solved[(s.slot, room)] = _Solved({e: 1}, {})
        elif isinstance(s, NodeStep):
            kids = []
            for i, opts in enumerate(options[s.slot]):
                kids.append(_merge([(u, solved[(u.slot, u.room)]) for u in opts], origin, s, i))
            for room in sorted(rooms.get(s.slot, ())):
                solved[(s.slot, room)] = _solve_node(room, kids)
    best = max(roots, key=lambda r: solved[(r, 1)].frontier[(1, 1)])
    rank = solved[(best, 1)].frontier[(1, 1)]
    # follow the best entries down: the hybrid's nodes and how each is read
    uses: dict[int, _Use] = {best: _Use(best, 0, 1)}
    picked: dict[int, tuple[int, ...]] = {}
    todo = [(best, 1, (1, 1))]
    while todo:
        slot, room, entry = todo.pop()
        if isinstance(steps[slot], LeafStep):
            continue
        how = solved[(slot, room)].how[entry]
        chosen = []
        for i, (opts, ke) in enumerate(zip(options[slot], how.kids, strict=True)):
            use = opts[0] if len(opts) == 1 else origin[(slot, i)][ke]
            if use.slot in uses:  # pragma: no cover - the segment argument excludes it
                raise AssertionError("mtd bug: a hybrid routes through a node twice")
            uses[use.slot] = use
            chosen.append(use.slot)
            todo.append((use.slot, use.room, ke))
        picked[slot] = tuple(chosen)
    tree = _tree_plan(plan, picked, uses, best)
    sw = _witness(tree, rows, y)
    if sw is None or sw.rank != rank:  # pragma: no cover - the same programme on H
        raise AssertionError("mtd bug: the hybrid's tree witness disagrees with the programme")
    nodes = [s for s in (steps[k] for k in uses) if isinstance(s, NodeStep)]
    swaps = {s.node for s in plan.steps if isinstance(s, SwapStep)}
    root_node = frozenset(plan.modes)
    return HybridWitness(
        rank=rank,
        blocks=sw.blocks,
        index_set=tuple(sorted(rows)),
        output=y,
        plan=plan,
        sources={n.node: n.tree for n in nodes},
        choice={n.node: n.tree for n in nodes if n.node in swaps or n.node == root_node},
        channels={n.node: uses[n.slot].room for n in nodes if n.slot != best},
        tree_witness=sw,
        _uses=uses,
    )


def _roots(plan: Plan, y: int) -> list[int]:
    """The node slots an output term reads channel ``y`` of (after the exchanges)."""
    partner: dict[int, tuple[int, int]] = {}
    for s in plan.steps:
        if isinstance(s, SwapStep):
            a, b = s.slots
            partner[a], partner[b] = (b, s.n_channels), (a, s.n_channels)
    nodes = {s.slot for s in plan.steps if isinstance(s, NodeStep)}
    out = []
    for term in plan.outputs:
        other, n = partner.get(term.slot, (term.slot, 0))
        slot = other if y < n else term.slot
        if slot in nodes and slot not in out:
            out.append(slot)
    return out


def _merge(
    got: list[tuple[_Use, _Solved]],
    origin: dict[tuple[int, int], dict[tuple[int, int], _Use]],
    step: NodeStep,
    i: int,
) -> _Solved:
    """The better of a child position's ways to be read, entry by entry (and which one)."""
    if len(got) == 1:
        return got[0][1]
    best: dict[tuple[int, int], int] = {}
    came: dict[tuple[int, int], _Use] = {}
    for use, sol in got:
        for e, R in sol.frontier.items():
            if R > best.get(e, 0):
                best[e], came[e] = R, use
    keep = _prune(best)
    origin[(step.slot, i)] = {e: came[e] for e in keep}
    return _Solved({e: best[e] for e in keep}, {})


def _tree_plan(
    plan: Plan, picked: Mapping[int, tuple[int, ...]], uses: Mapping[int, _Use], root: int
) -> Plan:
    """The hybrid's tree decomposition: its nodes, each of the channels its parent reads."""
    out: list[Step] = []
    for s in plan.steps:
        if isinstance(s, SwapStep) or s.slot not in uses:
            continue
        if isinstance(s, LeafStep):
            out.append(s)
            continue
        kids = picked[s.slot]
        room = s.size if s.slot == root else uses[s.slot].room
        sizes = [s.size if c == root else uses[c].room for c in kids]
        # placeholders: the witness reads the structure only (one array per edge)
        weights = tuple(np.zeros((room, k), np.int64) for k in sizes)
        out.append(replace(s, children=kids, weights=weights, size=room))
    return Plan(
        modes=plan.modes,
        dims=dict(plan.dims),
        g=plan.g,
        steps=tuple(out),
        outputs=(OutputTerm(root, None),),
        n_outputs=plan.n_outputs,
    )


def _embed(w: HybridWitness) -> Plan:
    """The mixed plan with the tree witness's weights at their channel windows, zeros elsewhere."""
    plan, uses = w.plan, w._uses
    tree = w.tree_witness.weights()
    virtual = {s.slot: s for s in tree.steps if not isinstance(s, SwapStep)}
    root = tree.outputs[0].slot
    out: list[Step] = []
    for s in plan.steps:
        if isinstance(s, SwapStep):
            out.append(s)
        elif isinstance(s, LeafStep):
            leaf = virtual[s.slot]
            assert isinstance(leaf, LeafStep)
            out.append(replace(s, matrix=leaf.matrix, weight=leaf.weight))
        else:
            mats = [np.zeros(W.shape, np.int64) for W in s.weights]
            v = virtual.get(s.slot)
            if isinstance(v, NodeStep):
                r0 = 0 if s.slot == root else uses[s.slot].offset
                for i, (W, c) in enumerate(zip(v.weights, v.children, strict=True)):
                    c0 = uses[c].offset
                    mats[i][r0 : r0 + W.shape[0], c0 : c0 + W.shape[1]] = W
            out.append(replace(s, weights=tuple(mats)))
    return Plan(
        modes=plan.modes,
        dims=dict(plan.dims),
        g=plan.g,
        steps=tuple(out),
        outputs=plan.outputs,
        n_outputs=plan.n_outputs,
    )
