"""Identical subtrees of a tree plan, found in numpy, so programmes run once per class.

A programme over a tree plan (the structural witness, the min-cut bound) computes a
value per node from the node's own data and its children's values.  Two subtrees
with equal data everywhere get equal values, and large trees are repetitive: the
baseline tree over ``2^16`` modes with ``I`` the odd modes has 18 classes of identical
subtrees among its 131071 steps.  :func:`subtree_classes` labels every step of a plan
with its class, level by level in numpy (no Python work per step beyond reading the
steps once), so the programme itself runs once per class.

The data a programme depends on is its own business: callers pass integer labels
for the leaves and the nodes, and steps get the same class exactly when their labels
are equal and their children's classes are equal, in order.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .decompositions._plan import LeafStep, NodeStep, Plan

__all__ = ["KINDS", "Classes", "Skeleton", "labels", "skeleton", "subtree_classes"]

KINDS = ("eq3", "colt", "ht")
"""Node kinds, in the order of :attr:`Skeleton.kind`'s codes."""

_DEEP = 4096
"""Trees deeper than this are classified by one pass in Python (one numpy round per
level would cost more)."""


@dataclass(frozen=True, eq=False)
class Skeleton:
    """The shape of a tree plan as arrays over its steps (in plan order).

    Attributes
    ----------
    node : ndarray of bool
        Whether each step is a node (else a leaf).
    slot, size : ndarray of int64
        Each step's slot and number of channels.
    mode : ndarray of int64
        Each leaf's mode (``-1`` for nodes).
    kind : ndarray of int64
        Each node's kind as its index in :data:`KINDS` (``-1`` for leaves).
    kid_ptr, kids : ndarray of int64
        Children as step indices: those of step ``i`` are ``kids[kid_ptr[i]:kid_ptr[i+1]]``.
    depth : ndarray of int64
        Distance from the root (the step nobody reads).
    matrix_cols, weight_cols, matrix_id : ndarray of int64
        Per leaf step (``-1`` for nodes): the columns of its matrix, of its weight (or
        of its matrix when it has none), and which matrix it is (leaves reading one
        array share the number).
    """

    node: np.ndarray
    slot: np.ndarray
    size: np.ndarray
    mode: np.ndarray
    kind: np.ndarray
    kid_ptr: np.ndarray
    kids: np.ndarray
    depth: np.ndarray
    matrix_cols: np.ndarray
    weight_cols: np.ndarray
    matrix_id: np.ndarray

    def step_of_slot(self, slot: int) -> int:
        """The index of the step that writes ``slot``."""
        return int(np.flatnonzero(self.slot == slot)[0])


def skeleton(plan: Plan) -> Skeleton | None:
    """The plan's :class:`Skeleton` (cached on the plan), or None if it is not one tree.

    None when a step is neither a leaf nor a node (eq. 4 swaps), a slot is written
    twice or read twice, or more than one step is read by nobody.
    """
    key = "subtree skeleton"
    if key not in plan.cache:
        plan.cache[key] = _skeleton(plan)
    got: Skeleton | None = plan.cache[key]
    return got


def _skeleton(plan: Plan) -> Skeleton | None:
    steps = plan.steps
    S = len(steps)
    types = [type(s) for s in steps]
    node = np.fromiter((t is NodeStep for t in types), bool, S)
    if int(np.count_nonzero(node)) + sum(t is LeafStep for t in types) != S:
        return None
    slot = np.fromiter(map(operator.attrgetter("slot"), steps), np.int64, S)
    size = np.fromiter(map(operator.attrgetter("size"), steps), np.int64, S)
    if S == 0 or slot.min() < 0 or np.bincount(slot).max() > 1:
        return None
    node_ids = np.flatnonzero(node)
    node_steps = [steps[i] for i in node_ids.tolist()]
    kid_slots = [s.children for s in node_steps]
    kind = np.full(S, -1, np.int64)
    kind[node_ids] = [KINDS.index(s.kind) for s in node_steps]
    arity = np.zeros(S, np.int64)
    arity[node_ids] = np.fromiter(map(len, kid_slots), np.int64, len(kid_slots))
    flat = np.fromiter(itertools.chain.from_iterable(kid_slots), np.int64, int(arity.sum()))
    pos = np.full(int(slot.max()) + 1, -1, np.int64)
    pos[slot] = np.arange(S)
    if len(flat) and (flat.max() >= len(pos) or (pos[flat] < 0).any()):
        return None
    kids = pos[flat] if len(flat) else flat
    parent = np.full(S, -1, np.int64)
    parent[kids] = np.repeat(np.arange(S), arity)
    if (len(kids) and np.bincount(kids).max() > 1) or int(np.count_nonzero(parent < 0)) != 1:
        return None  # a value read twice, or a forest
    leaf_ids = np.flatnonzero(~node)
    leaves = [steps[i] for i in leaf_ids.tolist()]
    mode = np.full(S, -1, np.int64)
    mode[leaf_ids] = [s.mode for s in leaves]
    matrices = [s.matrix for s in leaves]
    weights = [s.weight for s in leaves]
    found: dict[int, int] = {}
    matrix_id = np.full(S, -1, np.int64)
    matrix_id[leaf_ids] = [found.setdefault(id(m), len(found)) for m in matrices]
    matrix_cols = np.full(S, -1, np.int64)
    matrix_cols[leaf_ids] = [m.shape[1] for m in matrices]
    weight_cols = matrix_cols.copy()
    has = [i for i, w in enumerate(weights) if w is not None]
    weight_cols[leaf_ids[has]] = [weights[i].shape[1] for i in has]
    depth = (parent >= 0).astype(np.int64)  # pointer doubling
    jump = parent.copy()
    while True:
        idx = np.flatnonzero(jump >= 0)
        if not len(idx):
            break
        depth[idx] += depth[jump[idx]]
        jump[idx] = jump[jump[idx]]
    kid_ptr = np.concatenate([[0], np.cumsum(arity)])
    return Skeleton(
        node, slot, size, mode, kind, kid_ptr, kids, depth, matrix_cols, weight_cols, matrix_id
    )


@dataclass(frozen=True, eq=False)
class Classes:
    """Classes of identical subtrees: ``of[i]`` is step ``i``'s class.

    Classes are numbered children first, so a programme can run over
    ``range(len(rep))`` in order; ``rep[c]`` is one step of class ``c`` and
    ``kids[c]`` its children's classes, in order.
    """

    of: np.ndarray
    rep: list[int]
    kids: list[tuple[int, ...]]


def subtree_classes(skel: Skeleton, label: np.ndarray) -> Classes:
    """Label every step with its class of identical subtrees.

    Parameters
    ----------
    skel : Skeleton
    label : ndarray of int64
        One integer per step summarizing everything a programme reads at that step
        other than its children (leaves and nodes must not share labels unless the
        programme treats them alike).

    Returns
    -------
    Classes
        Two steps share a class iff their labels are equal and their children's
        classes are equal, in order.
    """
    S = len(skel.node)
    of = np.full(S, -1, np.int64)
    rep: list[int] = []
    kids: list[tuple[int, ...]] = []
    table: dict[tuple[int, ...], int] = {}
    ptr, flat = skel.kid_ptr, skel.kids

    def intern(key: tuple[int, ...], step: int, children: tuple[int, ...]) -> int:
        c = table.get(key)
        if c is None:
            c = table[key] = len(rep)
            rep.append(step)
            kids.append(children)
        return c

    leaves = np.flatnonzero(~skel.node)
    values, first, inverse = np.unique(label[leaves], return_index=True, return_inverse=True)
    ids = [intern((0, int(v)), int(leaves[i]), ()) for v, i in zip(values, first, strict=True)]
    of[leaves] = np.asarray(ids, np.int64)[inverse.reshape(-1)]
    nodes = np.flatnonzero(skel.node)
    if not len(nodes):
        return Classes(of, rep, kids)
    top = int(skel.depth[nodes].max())
    if top > _DEEP:  # one pass in Python, children before parents (post-order by depth)
        order = nodes[np.argsort(-skel.depth[nodes], kind="stable")]
        lab = label.tolist()
        p, f, o = ptr.tolist(), flat.tolist(), of.tolist()
        for i in order.tolist():
            ch = tuple(o[k] for k in f[p[i] : p[i + 1]])
            o[i] = intern((1, lab[i], *ch), i, ch)
        return Classes(np.asarray(o, np.int64), rep, kids)
    arity = ptr[1:] - ptr[:-1]
    by_depth = nodes[np.argsort(skel.depth[nodes], kind="stable")]
    cuts = np.searchsorted(skel.depth[by_depth], np.arange(top + 2))
    for d in range(top, -1, -1):
        level = by_depth[cuts[d] : cuts[d + 1]]
        if not len(level):
            continue
        width = int(arity[level].max())
        if width > 64:  # wide nodes: tuples in Python, linear in the children
            lab = label.tolist()
            p, f, o = ptr.tolist(), flat.tolist(), of.tolist()
            for i in level.tolist():
                ch = tuple(o[k] for k in f[p[i] : p[i + 1]])
                of[i] = intern((1, lab[i], *ch), i, ch)
            continue
        # dense ids of (label, arity, child class 1, 2, ...), one column at a time
        key = _dense(label[level] * (width + 1) + arity[level])
        for j in range(width):
            has = arity[level] > j
            col = np.zeros(len(level), np.int64)
            col[has] = of[flat[ptr[level[has]] + j]] + 1
            key = _dense(key * (len(rep) + 1) + col)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        ids = []
        for i in level[first].tolist():
            ch = tuple(of[flat[ptr[i] : ptr[i + 1]]].tolist())
            ids.append(intern((1, int(label[i]), *ch), i, ch))
        of[level] = np.asarray(ids, np.int64)[inverse.reshape(-1)]
    return Classes(of, rep, kids)


def _dense(key: np.ndarray) -> np.ndarray:
    """Equal keys, equal ids in ``0..len(key)-1``."""
    _, inverse = np.unique(key, return_inverse=True)
    return np.asarray(inverse.reshape(-1), np.int64)


def labels(*columns: Any) -> np.ndarray:
    """One int64 label per row of equal-length integer columns (equal rows, equal labels)."""
    out = np.zeros(len(columns[0]), np.int64)
    for c in columns:
        col = _dense(np.asarray(c, np.int64))
        out = _dense(out * (int(col.max(initial=0)) + 1) + col)
    return out
