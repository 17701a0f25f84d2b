"""Min-cut upper bounds on matricization ranks, for every architecture mtd knows.

A product-``g`` decomposition is a tensor network (the theory page, §5, "Min-cut bound"):
each interior node is a copy tensor over its channels joined to its children by
weight matrices, each leaf the discretizer matrix on an open leg of dimension ``M``.
Cutting the network between the legs of ``I`` and those of ``Iᶜ`` bounds
``rank [[A^y]]_I`` by the product of the dimensions it cuts.  :func:`mincut_bound`
computes the best such bound from the architecture alone (the trees, the node sizes,
the forms, the mixture nodes, ``M``; never the weights), exactly, in Python ints:

* every decomposition compiles to a plan (:mod:`mtd.decompositions._plan`), and the
  bound is a dynamic programme over it — tree decompositions in the ``"eq3"``,
  ``"colt"`` and ``"ht"`` forms with per-node sizes and ``k``-ary nodes, mixed
  decompositions (eq. 4), the CP decomposition (the star tree in the ``"colt"`` form),
  hierarchical tensors, and the networks that convert to them;
* plans that are not trees (overlapping ConvACs, whose inputs feed several windows;
  stacked recurrent circuits, whose hidden states feed two cells) are unrolled into
  their copy-tensor network
  (:func:`mtd.decompositions._network.plan_tensor_network`), which is cut by a
  maximum flow (``scipy.sparse.csgraph.maximum_flow``).  Both programmes run on the
  same representation, the plan.

Conventions: ``I`` is a non-empty proper subset of the modes (the rows of
``[[A]]_I``, the theory page, §1); the bound is for one output ``A^y``; it is also capped by
the trivial bound ``Π_{j∈I} M_j`` / ``Π_{j∈Iᶜ} M_j`` (the smaller side).  Only
``g = "product"`` is multilinear, so other ``g`` are refused.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from ._subtrees import KINDS, Skeleton, labels, skeleton, subtree_classes
from ._validation import check_index_set
from .decompositions._plan import LeafStep, NodeStep, Plan, SwapStep, check_output
from .errors import InvalidArgumentError, InvalidArgumentTypeError

__all__ = ["mincut_bound", "network_mincut_bound", "plan_mincut_bound"]

Bounds = tuple[int, int]
"""``(B_I, B_Iᶜ)``: rank bounds of a value with its channel leg on the I / Iᶜ side."""


# ------------------------------------------------------------------ entry point
def mincut_bound(decomposition: Any, I: Any, output: int = 0) -> int:
    """The min-cut upper bound on ``rank [[A^output]]_I`` for a decomposition's architecture.

    The bound holds for **every** choice of weights and discretizers: it reads only
    the structure (trees, node sizes, forms, mixture nodes, ``M``), never the numbers.

    Parameters
    ----------
    decomposition : TreeDecomposition, MixedDecomposition, HierarchicalTensor, network or Plan
        Anything that compiles to a plan (a ``plan`` attribute), a network with
        ``to_decomposition()``, or an overlapping ConvAC / tensor network (cut by a
        maximum flow, see :func:`network_mincut_bound`).
    I : iterable of int
        A non-empty proper subset of the modes (the row modes of ``[[A]]_I``).
    output : int, default 0
        Which output ``A^y``.

    Returns
    -------
    int
        An exact Python int, never above the trivial bound ``M^min(|I|, |Iᶜ|)``.

    Raises
    ------
    InvalidIndexSetError
        If ``I`` is empty, is every mode, or has a mode out of range.
    InvalidArgumentError
        If ``g`` is not the product (other ``g`` are not multilinear), or ``output``
        is out of range.
    InvalidArgumentTypeError
        If ``decomposition`` is none of the above.

    See Also
    --------
    mtd.theorem7_bounds, mtd.trivial_bound, mtd.tree_mincut_bound
    mtd.certify.generic_rank : a matching lower bound from exact witnesses.

    Notes
    -----
    Write ``B(X, s)`` for an upper bound on the rank of a value ``X[γ, x]`` (channel
    ``γ``, modes ``x``) matricized with the modes of ``I`` and, if ``s = I``, the
    channel on the rows.  The programme runs over the plan's steps:

    * a leaf restricted to ``d`` channels: ``1`` with its channel on its mode's side,
      else ``min(d, M, r_0)``;
    * a weight matrix ``W`` (``d × r_c``) on a channel leg: ``E(s) = min(B(c, s),
      min(d, r_c)·B(c, 1-s))`` — moving a leg of dimension ``k`` across the cut
      multiplies the rank by at most ``k``, and ``W`` factors through ``rank W``;
    * an eq. 3 node (a copy tensor ``δ`` over ``d`` channels, restricted to ``d`` of
      its channels when it is swapped): ``B(s) = min(Π_c E_c(s), d·Π_c min(E_c(I),
      E_c(Iᶜ)))``.  The first term: every column of ``[[Π_c ψ_c]]`` is a multilinear
      image of columns of the ``[[ψ_c]]``.  The second cuts the hyperedge ``δ``
      once: ``Σ_{α<d} e_α ⊗ (⊗_c ψ_c[α])`` is ``d`` terms, each a Kronecker product of
      slices, and a slice has rank at most ``min(E_c(I), E_c(Iᶜ))``.  The COLT form
      (a ``δ`` over the children's channels, then a matrix) and dense transfer tensors
      (a general vertex: ``B(s) = min(P(s), d·P(1-s))``) follow the same rules;
    * a mixture node: after eq. 4's swap a slot holds the *concatenation* of ``r/2``
      channels of the other tree's node and ``r/2`` of its own, and stacking adds
      ranks: ``B = B(φ̄|_{<r/2}) + B(φ|_{≥r/2})``, each a restricted copy tensor of
      dimension ``r/2`` (charging a product here would be unsound when ``r/2 = 1``);
    * outputs: the output ``y`` restricts the root to one channel (``d = 1``: both
      sides agree) or contracts it with a row of the dense layer
      (``min(B(I), B(Iᶜ))``); a sum of outputs (eq. 4: two roots) adds;
    * every value is also capped by its smaller matricization side, counted in the
      *spaces* its parts live in rather than in ``M``, which is what makes mixed
      decompositions tight (dimension counting, below).

    Dimension counting.  For a value ``X`` write ``S_I(X)`` for the span of its
    ``I``-parts (the column space of ``[[X]]`` with every channel on the ``Iᶜ`` side;
    ``dim S_I(X) = B(X, Iᶜ)``) and likewise ``S_Iᶜ(X)``.  (i) Every leaf vector of mode
    ``j`` lies in ``E_j``, the sum of the column spaces of the leaf matrices of mode
    ``j`` (``dim E_j <= min(M_j, r_0)`` for the discretizers shared by eq. 4's two
    trees).  (ii) A node value is multilinear in its children's values, so
    ``S_I(ν) ⊆ ⊗_c S_I(c)``.  (iii) After eq. 4's swap at a mixture node ``μ`` both
    slots hold channels of ``φ^μ`` and ``φ̄^μ``, so both have their ``I``-parts in the
    *same* space ``P = S_I(φ^μ) + S_I(φ̄^μ)``, of dimension at most ``B(φ^μ, Iᶜ) +
    B(φ̄^μ, Iᶜ)`` and at most the dimension of the tensor product of atoms (``E_j``,
    or pools ``P`` of mixture nodes below) that holds both.  Hence every slot's
    ``I``-parts lie in a tensor product of *atoms*, one per part of a partition of its
    ``I``-modes, whose dimension caps its ranks.  (iv) The row space of ``Σ_t A_t``
    is the sum of the terms' row spaces; terms whose rows lie in the same tensor
    product of atoms (eq. 4's two roots above common mixture nodes) span at most its
    dimension together, instead of the sum of their ranks.  The same holds with
    ``I`` and ``Iᶜ`` exchanged, and the bound is the smaller of the two counts and of
    the rank sum.  Each step is an inclusion of subspaces, so the bound holds for
    every weight.  On the paper's ``N = 8`` example (baseline against dilations 2,
    1, 4, mixture nodes ``{0..3}``, ``{4..7}``, ``I = {0,2,4,5}``, ``M = 3``, ``r = 2``)
    both roots have their rows in ``P_{0..3} ⊗ P_{4..7}`` of dimension ``4 · 4``:
    the bound is 16 (adding the two roots' ranks gave 50), and a witness reaches it.

    Every rule is a valid rank inequality, so the result bounds the rank for every
    weight, including tied and zero weights.  On a single tree it is at most
    :func:`mtd.tree_mincut_bound` and Theorem 7's upper bound (for ``M >= r``).
    The cost is linear in the plan's size: about a quarter of a second for a tree
    over ``2^16`` modes (``benchmarks/bench_certify.py``).

    Examples
    --------
    the theory page, §5: baseline tree, ``N = 8``, ``I = {0, 1, 2}``; Theorem 7 gives
    ``(r, r²)``, the cut finds ``r``:

    >>> T = mtd.ModeTree.baseline(3)
    >>> d = mtd.TreeDecomposition.random(T, M=3, r=3, seed=0)
    >>> mtd.mincut.mincut_bound(d, [0, 1, 2])
    3

    The CP decomposition (star tree, COLT form) has rank at most its ``r`` terms:

    >>> cp = mtd.TreeDecomposition.random(mtd.ModeTree.star(6), M=4, r=5, form="colt", seed=0)
    >>> mtd.mincut.mincut_bound(cp, [0, 2, 4])
    5

    A mixed decomposition adds its two trees' bounds:

    >>> T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
    >>> mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    >>> m = mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0)
    >>> mtd.mincut.mincut_bound(m, [0, 2, 4, 6, 8, 9, 12, 13])
    256
    """
    if _is_tensor_network(decomposition):
        return network_mincut_bound(decomposition, I)
    return plan_mincut_bound(get_any_plan(decomposition), I, output)


def get_any_plan(decomposition: Any) -> Plan:
    """The plan of a decomposition, of a network (through ``to_decomposition()``), or a plan."""
    plan = _plan_or_none(decomposition)
    if plan is None:
        raise InvalidArgumentTypeError(
            f"expected a decomposition (TreeDecomposition, MixedDecomposition, "
            f"HierarchicalTensor), a network with to_decomposition(), or a plan; got "
            f"{type(decomposition).__name__}"
        )
    return plan


def _plan_or_none(obj: Any) -> Plan | None:
    if isinstance(obj, Plan):
        return obj
    plan = getattr(obj, "plan", None)
    if isinstance(plan, Plan):
        return plan
    convert = getattr(obj, "to_decomposition", None)
    if callable(convert):
        try:
            plan = getattr(convert(), "plan", None)
        except InvalidArgumentError:  # e.g. an overlapping network: not a tree
            return None
        if isinstance(plan, Plan):
            return plan
    return None


def _is_tensor_network(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("tensors", "edge_dims", "input_legs", "output_leg"))


def _check_rows(I: Any, modes: tuple[int, ...]) -> frozenset[int]:
    assert modes == tuple(range(len(modes))), "plans of public objects have modes 0..N-1"
    return frozenset(check_index_set(I, len(modes), proper=True))


# ------------------------------------------------------------- the plan programme
Kid = tuple[int, int, int]
"""A child as seen by its parent: ``(B(I), B(Iᶜ), channels)`` of its (full) slot value."""


def _vertex_bounds(kind: str, kids: list[Kid], d: int, inner: int) -> Bounds:
    """``(B(I), B(Iᶜ))`` of a node value restricted to ``d`` channels (uncapped)."""
    if kind == "eq3":  # a copy tensor over d channels, a matrix (rank <= min(d, r_c)) per child
        a0 = a1 = h = 1
        for c0, c1, rc in kids:
            k = d if d < rc else rc
            e0 = c0 if c0 < k * c1 else k * c1
            e1 = c1 if c1 < k * c0 else k * c0
            a0 *= e0
            a1 *= e1
            h *= e0 if e0 < e1 else e1
        h *= d
        return (a0 if a0 < h else h), (a1 if a1 < h else h)
    if kind == "colt":  # a copy tensor over the children's channels, then a matrix
        a0 = a1 = h = 1
        for c0, c1, rc in kids:
            e0, e1 = min(c0, rc * c1), min(c1, rc * c0)
            a0 *= e0
            a1 *= e1
            h *= min(e0, e1)
        x0, x1 = min(a0, inner * h), min(a1, inner * h)
        k = min(d, inner)
        return min(x0, k * x1), min(x1, k * x0)
    p0 = p1 = 1  # "ht": a general vertex with a leg to every child
    for c0, c1, rc in kids:
        p0 *= min(c0, rc * c1)
        p1 *= min(c1, rc * c0)
    return min(p0, d * p1), min(p1, d * p0)


class _Source:
    """A node or leaf value before any swap, kept for slots that are swapped or output.

    Its bounds depend on how many of its channels are kept (eq. 4's swaps keep half;
    an output keeps one), and are memoized by that number.
    """

    __slots__ = ("kind", "kids", "inner", "size", "prods", "memo")

    def __init__(self, kind: str, kids: list[Kid], inner: int, size: int, prods: tuple[int, int]):
        self.kind, self.kids, self.inner, self.size, self.prods = kind, kids, inner, size, prods
        self.memo: dict[int, Bounds] = {}

    def bounds(self, d: int) -> Bounds:
        got = self.memo.get(d)
        if got is None:
            if self.kind == "leaf I":  # its mode in I: rank 1 with the channel on I
                got = (1, min(d, self.inner))
            elif self.kind == "leaf Ic":
                got = (min(d, self.inner), 1)
            else:
                got = _capped(_vertex_bounds(self.kind, self.kids, d, self.inner), d, self.prods)
            self.memo[d] = got
        return got


def _capped(b: Bounds, d: int, prods: tuple[int, int]) -> Bounds:
    """Cap by the smaller matricization side (``P_I``/``P_Iᶜ``: the modes' dimensions)."""
    pi, pc = prods
    b0, b1 = b
    if b0 > pc or b0 > pi:
        b0 = min(b0, pc, d * pi)
    if b1 > pi or b1 > pc:
        b1 = min(b1, pi, d * pc)
    return b0, b1


Run = tuple[_Source, int]
"""``n`` consecutive channels of a slot taken from one source."""


def _runs_bounds(runs: list[Run], prods: tuple[int, int]) -> Bounds:
    """A concatenation (direct sum) along the channel leg: the ranks add."""
    b0 = b1 = total = 0
    for src, n in runs:
        x0, x1 = src.bounds(n)
        b0 += x0
        b1 += x1
        total += n
    return _capped((min(b0, total * b1), min(b1, total * b0)), total, prods)


def _split(runs: list[Run], n: int) -> tuple[list[Run], list[Run]]:
    head: list[Run] = []
    tail: list[Run] = []
    left = n
    for src, k in runs:
        if left >= k:
            head.append((src, k))
        elif left > 0:
            head.append((src, left))
            tail.append((src, k - left))
        else:
            tail.append((src, k))
        left = max(0, left - k)
    return head, tail


def plan_mincut_bound(plan: Plan, I: Any, output: int = 0) -> int:
    """The min-cut bound of :func:`mincut_bound`, computed from a compiled plan.

    Parameters
    ----------
    plan : Plan
        A plan (:mod:`mtd.decompositions._plan`) with ``g = "product"``.
    I : iterable of int
        A non-empty proper subset of the plan's modes.
    output : int, default 0

    Returns
    -------
    int

    Examples
    --------
    >>> d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=3, seed=0)
    >>> mtd.mincut.plan_mincut_bound(d.plan, [0, 2, 4, 6])
    16
    """
    if not isinstance(plan, Plan):
        raise InvalidArgumentTypeError(f"plan must be a Plan; got {type(plan).__name__}")
    if plan.g != "product":
        raise InvalidArgumentError(
            f"the min-cut bound holds for g = 'product' only (other g are not multilinear); "
            f"got g = {plan.g!r}; mtd.trivial_bound still applies"
        )
    rows = _check_rows(I, plan.modes)
    (y,) = check_output(output, plan.n_outputs)
    if not plan.is_tree:
        from .decompositions._network import plan_tensor_network

        return network_mincut_bound(plan_tensor_network(plan, y), rows)
    if len(plan.outputs) == 1:
        skel = skeleton(plan)
        if skel is not None:  # one tree: run the programme once per class of subtrees
            return _tree_bound(plan, skel, rows, y)
    return _general_bound(plan, rows, y)


def _general_bound(plan: Plan, rows: frozenset[int], y: int) -> int:
    """The programme of :func:`plan_mincut_bound` step by step (swaps, sums of outputs)."""
    # slots whose value is swapped or read by an output keep their source (see _Source)
    keep = {t.slot for t in plan.outputs}
    for step in plan.steps:
        if isinstance(step, SwapStep):
            keep.update(step.slots)
    eff = _leaf_spaces(plan)
    # the spaces as tensor products of atoms matter only where values are pooled or
    # summed (eq. 4); a single tree skips them (sets over 2^16 modes are not free)
    track = len(plan.outputs) > 1 or any(isinstance(s, SwapStep) for s in plan.steps)
    no_atoms: tuple[frozenset[Any], frozenset[Any]] = (frozenset(), frozenset())
    full: dict[int, Kid] = {}  # slot -> its bounds and size, as its parent sees it
    prods: dict[int, tuple[int, int]] = {}  # dimensions of the spaces holding its I / Iᶜ parts
    atoms: dict[int, tuple[frozenset[Any], frozenset[Any]]] = {}  # ... as tensor products
    atom_dim: dict[Any, int] = {}
    runs: dict[int, list[Run]] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep):
            dim = eff[step.mode]
            rank = min(dim, int(step.matrix.shape[1]), step.size)
            mine = step.mode in rows
            full[step.slot] = (1, rank, step.size) if mine else (rank, 1, step.size)
            prods[step.slot] = (dim, 1) if mine else (1, dim)
            if track:
                leaf_atom = frozenset([("leaf", step.mode)])
                atom_dim[("leaf", step.mode)] = dim
                atoms[step.slot] = (leaf_atom, frozenset()) if mine else (frozenset(), leaf_atom)
            if step.slot in keep:
                kind = "leaf I" if mine else "leaf Ic"
                leaf = _Source(kind, [], rank, step.size, (0, 0))  # inner: the leaf's rank
                runs[step.slot] = [(leaf, step.size)]
        elif isinstance(step, NodeStep):
            kids = [full[c] for c in step.children]
            pi = pc = 1
            for c in step.children:
                a, b = prods[c]
                pi *= a
                pc *= b
            if track:
                atoms[step.slot] = (
                    frozenset().union(*(atoms[c][0] for c in step.children)),
                    frozenset().union(*(atoms[c][1] for c in step.children)),
                )
            inner = kids[0][2]
            b0, b1 = _capped(_vertex_bounds(step.kind, kids, step.size, inner), step.size, (pi, pc))
            full[step.slot] = (b0, b1, step.size)
            prods[step.slot] = (pi, pc)
            if step.slot in keep:
                src = _Source(step.kind, kids, inner, step.size, (pi, pc))
                src.memo[step.size] = (b0, b1)
                runs[step.slot] = [(src, step.size)]
        else:
            a, b = step.slots
            pooled = _pool(step, full[a], full[b], prods[a], prods[b], atoms[a], atoms[b], atom_dim)
            ha, ta = _split(runs[a], step.n_channels)
            hb, tb = _split(runs[b], step.n_channels)
            runs[a], runs[b] = hb + ta, ha + tb
            for s in (a, b):
                prods[s], atoms[s] = pooled
                full[s] = (*_runs_bounds(runs[s], prods[s]), full[s][2])
    terms: list[tuple[int, tuple[frozenset[Any], frozenset[Any]]]] = []
    for term in plan.outputs:
        if term.matrix is None:
            ((src, _),) = _split(_split(runs[term.slot], y + 1)[0], y)[1]
            b0, b1 = src.bounds(1)  # channel y alone
        else:
            b0, b1 = full[term.slot][:2]
        terms.append((min(b0, b1, *prods[term.slot]), atoms.get(term.slot, no_atoms)))
    total = sum(rank for rank, _ in terms)
    if track:
        for side in (0, 1):  # the parts of all terms on one side share their spaces
            total = min(total, _shared_dimension(terms, side, atom_dim))
    trivial = min(math.prod(eff[m] for m in rows), math.prod(eff[m] for m in eff if m not in rows))
    return min(total, trivial)


def _tree_bound(plan: Plan, skel: Skeleton, rows: frozenset[int], y: int) -> int:
    """:func:`plan_mincut_bound` of a one-tree plan with one output term, per subtree class.

    The same programme as the general loop (leaf ranks in their leaf spaces, each
    node's :func:`_vertex_bounds` capped by :func:`_capped`, the output's channel
    ``y`` alone), run once per class of identical subtrees (:mod:`mtd._subtrees`).
    """
    modes = np.asarray(plan.modes, np.int64)
    dims = np.fromiter((int(plan.dims[m]) for m in plan.modes), np.int64, len(modes))
    pos = np.full(int(modes.max()) + 1, -1, np.int64)
    pos[modes] = np.arange(len(modes))
    leaf = np.flatnonzero(~skel.node)
    # the leaf spaces (see _leaf_spaces): distinct matrices of a mode add their columns
    mode_at, mid = pos[skel.mode[leaf]], skel.matrix_id[leaf]
    _, first = np.unique(mode_at * (int(mid.max()) + 1) + mid, return_index=True)
    cols = np.bincount(mode_at[first], weights=skel.matrix_cols[leaf][first], minlength=len(modes))
    eff = np.minimum(dims, cols.astype(np.int64))
    mine = np.zeros(len(skel.node), np.int64)
    mine[leaf] = np.isin(skel.mode[leaf], np.fromiter(rows, np.int64, len(rows)))
    dim = np.zeros(len(skel.node), np.int64)
    dim[leaf] = eff[mode_at]
    rank = np.zeros(len(skel.node), np.int64)
    rank[leaf] = np.minimum(np.minimum(dim[leaf], skel.matrix_cols[leaf]), skel.size[leaf])
    classes = subtree_classes(skel, labels(skel.node, skel.kind, skel.size, mine, dim, rank))
    full: list[Kid] = []
    prods: list[tuple[int, int]] = []
    for i, kids in zip(classes.rep, classes.kids, strict=True):
        size = int(skel.size[i])
        if not skel.node[i]:
            r, d = int(rank[i]), int(dim[i])
            full.append((1, r, size) if mine[i] else (r, 1, size))
            prods.append((d, 1) if mine[i] else (1, d))
            continue
        vals = [full[k] for k in kids]
        pi = math.prod(prods[k][0] for k in kids)
        pc = math.prod(prods[k][1] for k in kids)
        kind = KINDS[int(skel.kind[i])]
        full.append((*_capped(_vertex_bounds(kind, vals, size, vals[0][2]), size, (pi, pc)), size))
        prods.append((pi, pc))
    term = plan.outputs[0]
    top = int(classes.of[skel.step_of_slot(term.slot)])
    i = classes.rep[top]
    if term.matrix is not None:
        b0, b1 = full[top][:2]
    elif not skel.node[i]:  # channel y of a leaf (see _Source)
        r = int(rank[i])
        b0, b1 = (1, min(1, r)) if mine[i] else (min(1, r), 1)
    else:  # channel y of a node: the same vertex restricted to one channel
        vals = [full[k] for k in classes.kids[top]]
        kind = KINDS[int(skel.kind[i])]
        b0, b1 = _capped(_vertex_bounds(kind, vals, 1, vals[0][2]), 1, prods[top])
    total = min(b0, b1, *prods[top])
    inside = np.zeros(len(modes), bool)
    inside[pos[np.fromiter(rows, np.int64, len(rows))]] = True
    return min(total, _power_product(eff[inside]), _power_product(eff[~inside]))


def _power_product(values: np.ndarray) -> int:
    """The product of the entries as an exact Python int, as powers of the distinct ones."""
    vals, counts = np.unique(values, return_counts=True)
    return math.prod(int(v) ** int(c) for v, c in zip(vals, counts, strict=True))


def _leaf_spaces(plan: Plan) -> dict[int, int]:
    """Mode ``j`` -> a bound on the dimension of the span of every leaf vector of ``j``.

    A leaf's channels are columns of ``matrix @ weight.T``, inside the column space of
    ``matrix``; leaves sharing one matrix (eq. 4's two trees, tied discretizers) share
    that space, otherwise the spaces add.
    """
    seen: dict[int, dict[int, int]] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep):
            seen.setdefault(step.mode, {})[id(step.matrix)] = int(step.matrix.shape[1])
    return {m: min(int(plan.dims[m]), sum(seen.get(m, {}).values())) for m in plan.dims}


def _pool(
    step: SwapStep,
    fa: Kid,
    fb: Kid,
    pa: tuple[int, int],
    pb: tuple[int, int],
    aa: tuple[frozenset[Any], frozenset[Any]],
    ab: tuple[frozenset[Any], frozenset[Any]],
    atom_dim: dict[Any, int],
) -> tuple[tuple[int, int], tuple[frozenset[Any], frozenset[Any]]]:
    """The space both slots of an eq. 4 swap live in after it, per side, as a new atom.

    After the swap each slot holds channels of both values, so its ``I``-parts lie in
    the sum ``S`` of the two values' ``I``-part spans: ``dim S`` is at most the sum of
    their ranks with the channel on the ``Iᶜ`` side, and at most the dimension of the
    space they both live in (or the sum of the two).  The same on the ``Iᶜ`` side.
    """
    dims = []
    out_atoms = []
    for side in (0, 1):
        span_a = fa[1 - side]  # channel on the other side: the span of the parts
        span_b = fb[1 - side]
        room = pa[side] if aa[side] == ab[side] else pa[side] + pb[side]
        dim = min(span_a + span_b, room)
        atom = ("pool", id(step), side)
        atom_dim[atom] = dim
        dims.append(dim)
        out_atoms.append(frozenset([atom]) if aa[side] or ab[side] else frozenset())
        if not (aa[side] or ab[side]):
            dims[-1] = 1
    return (dims[0], dims[1]), (out_atoms[0], out_atoms[1])


def _shared_dimension(
    terms: list[tuple[int, tuple[frozenset[Any], frozenset[Any]]]],
    side: int,
    atom_dim: dict[Any, int],
) -> int:
    """A bound on the rank of a sum of terms from the spaces their ``side`` parts share.

    Terms whose parts lie in the same tensor product of atoms span at most its
    dimension together (and at most the sum of their ranks); the groups add.
    """
    groups: dict[frozenset[Any], int] = {}
    for rank, sides in terms:
        groups[sides[side]] = groups.get(sides[side], 0) + rank
    return sum(min(ranks, math.prod(atom_dim[a] for a in key)) for key, ranks in groups.items())


# ------------------------------------------------------- general tensor networks
_INT32_MAX = 2**31 - 1


def network_mincut_bound(network: Any, I: Any) -> int:
    """The min-cut bound of a tensor network with copy tensors, found by a maximum flow.

    Vertices are the network's non-copy tensors and two terminals (the open legs of
    ``I`` and of ``Iᶜ``); an edge between two of them has capacity ``log2`` of its
    dimension; a copy tensor ``δ`` of dimension ``d`` is a *hyperedge* over the
    tensors on its legs, cut (at cost ``d``, once) when they fall on both sides — as
    in the plan programme, ``δ = Σ_α e_α ⊗ … ⊗ e_α``.  The output leg is ignored
    (one output is fixed).  A maximum flow (``scipy.sparse.csgraph.maximum_flow``,
    hyperedges by Lawler's two-vertex gadget) on capacities scaled to integers
    finds a cut; the bound is then the **exact** product of the dimensions that cut
    crosses, a valid bound whatever the rounding did, capped by the trivial bound.

    Parameters
    ----------
    network : TensorNetwork
        With ``tensors`` (each with ``kind`` ``"copy"`` or ``"matrix"`` and ``legs``),
        ``edge_dims``, ``input_legs`` (mode ``j``'s open leg) and ``output_leg``, as
        :func:`mtd.networks.copy_network.tensor_network` returns.
    I : iterable of int
        A non-empty proper subset of the modes.

    Returns
    -------
    int

    Examples
    --------
    Windows of 3 with stride 1 on 6 inputs, then pairs: every unit of the first
    layer overlaps its neighbours.

    >>> net = mtd.networks.OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 3, 3), seed=0)
    >>> tn = net.tensor_network()
    >>> [mtd.mincut.network_mincut_bound(tn, I) for I in ([0, 1, 2], [0, 2, 4], [0])]
    [8, 8, 2]
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    dims = [int(x) for x in network.edge_dims]
    n_modes = len(network.input_legs)
    rows = frozenset(check_index_set(I, n_modes, proper=True))
    mode_of = {leg: j for j, leg in enumerate(network.input_legs)}
    ends: dict[int, list[int]] = {e: [] for e in range(len(dims))}
    for i, t in enumerate(network.tensors):
        for e in t.legs:
            ends[e].append(i)
    # vertex ids: 0 = source (I), 1 = sink (Iᶜ), then matrices, pseudo-vertices, gadgets
    vid: dict[Any, int] = {"s": 0, "t": 1}

    def vertex(key: Any) -> int:
        if key not in vid:
            vid[key] = len(vid)
        return vid[key]

    is_copy = [t.kind == "copy" for t in network.tensors]
    # copy tensors joined by an edge are one copy tensor (δ contracted with δ is δ)
    group = list(range(len(network.tensors)))

    def find(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for at in ends.values():
        if len(at) == 2 and is_copy[at[0]] and is_copy[at[1]]:
            group[find(at[0])] = find(at[1])
    normal: list[tuple[int, int, int]] = []  # (u, v, dim)
    members: dict[int, set[int]] = {}  # copy group -> the vertices on its legs
    size: dict[int, int] = {}  # copy group -> its dimension
    for i, t in enumerate(network.tensors):
        if is_copy[i]:
            g = find(i)
            size[g] = min([size.get(g, dims[t.legs[0]])] + [dims[e] for e in t.legs])
            mine = members.setdefault(g, set())
            for e in t.legs:
                if len(ends[e]) == 2:
                    j = ends[e][0] if ends[e][1] == i else ends[e][1]
                    if not is_copy[j]:
                        mine.add(vertex(("tensor", j)))
                elif e in mode_of:
                    mine.add(0 if mode_of[e] in rows else 1)
            continue  # (the output leg, fixed to one output, has dimension 1)
        u = vertex(("tensor", i))
        for e in t.legs:
            if len(ends[e]) == 2:
                j = ends[e][0] if ends[e][1] == i else ends[e][1]
                if not is_copy[j] and j > i:
                    normal.append((u, vertex(("tensor", j)), dims[e]))
            elif e in mode_of:
                normal.append((u, 0 if mode_of[e] in rows else 1, dims[e]))
    hyper = [(size[g], sorted(members[g])) for g in members]
    logs = [math.log2(d) for _, _, d in normal] + [math.log2(d) for d, _ in hyper]
    scale = max(1, min(1 << 16, int((1 << 29) / max(1.0, sum(logs)))))

    def cap(d: int) -> int:
        return 0 if d <= 1 else max(1, round(math.log2(d) * scale))

    inf = min(_INT32_MAX, sum(cap(d) for _, _, d in normal) + sum(cap(d) for d, _ in hyper) + 1)
    arcs: dict[tuple[int, int], int] = {}

    def arc(u: int, v: int, c: int) -> None:
        if u != v and c > 0:
            arcs[(u, v)] = min(_INT32_MAX, arcs.get((u, v), 0) + c)

    for u, v, d in normal:
        arc(u, v, cap(d))
        arc(v, u, cap(d))
    for k, (d, group_vertices) in enumerate(hyper):
        a, b = vertex(("in", k)), vertex(("out", k))
        arc(a, b, cap(d))
        for v in group_vertices:
            arc(v, a, inf)
            arc(b, v, inf)
    n = len(vid)
    keys = list(arcs)
    src = np.array([u for u, _ in keys], dtype=np.int32)
    dst = np.array([v for _, v in keys], dtype=np.int32)
    caps = np.array([arcs[k] for k in keys], dtype=np.int32)
    graph = csr_matrix((caps, (src, dst)), shape=(n, n))
    result = maximum_flow(graph, 0, 1)
    flow = getattr(result, "flow", None)
    flow = (result.residual if flow is None else flow).tocsr()  # antisymmetric
    # residual reachability from the source: r(u, v) = cap(u, v) - flow(u, v)
    both = np.concatenate([src, dst]), np.concatenate([dst, src])
    cap_both = np.concatenate([caps, [arcs.get((v, u), 0) for u, v in keys]])
    residual = cap_both - np.asarray(flow[both[0], both[1]]).ravel()
    out: dict[int, list[int]] = {}
    for u, v in zip(both[0][residual > 0].tolist(), both[1][residual > 0].tolist(), strict=True):
        out.setdefault(u, []).append(v)
    seen = {0}
    queue = deque([0])
    while queue:
        for v in out.get(queue.popleft(), ()):
            if v not in seen:
                seen.add(v)
                queue.append(v)
    bound = 1
    for u, v, d in normal:
        if (u in seen) != (v in seen):
            bound *= d
    for d, group_vertices in hyper:
        if len({v in seen for v in group_vertices}) == 2:
            bound *= d
    trivial = min(
        math.prod(dims[leg] for j, leg in enumerate(network.input_legs) if j in rows),
        math.prod(dims[leg] for j, leg in enumerate(network.input_legs) if j not in rows),
    )
    return min(bound, trivial)
