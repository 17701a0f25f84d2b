"""Mode trees: hierarchies of the modes of a tensor (the theory page, §2).

A **mode tree** over the modes ``{0, …, N-1}`` is a rooted tree whose nodes are
sets of modes: the leaves are exactly the ``N`` singletons, every interior node
is the disjoint union of its (at least two) children, and the root is the set of
all modes.  Children are *ordered*: for a dilated network the first child is the
earlier one in time.  A node is represented as a ``frozenset`` of modes; wherever
a method takes a node it also accepts any iterable of modes, or an int for a leaf.

:class:`ModeTree` is immutable and hashable; two trees are equal when they have
the same nodes *and* the same child order (compare ``set(t.nodes)`` to ignore
order, or use :meth:`ModeTree.canonical`).

Conventions
-----------
* The root has depth 0; a leaf has height 0 and an interior node has height one
  more than its highest child.
* Node listings (:attr:`ModeTree.nodes`, tilings) are in pre-order: a node before
  its children, children in their order.
* Tilings follow Cohen, Tamari & Shashua (ICLR 2018), §3, counted from mode 0;
  mixture nodes and hybrid trees are in :mod:`mtd.hybrids`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ._rich import Rich
from ._typing import Modes, Nested, Node, Seed
from ._validation import _is_int, check_index_set, check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError, InvalidModeTreeError

__all__ = [
    "ModeTree",
    "format_node",
]


def format_node(node: Iterable[int]) -> str:
    """Format a node compactly: sorted modes, runs of four or more as ``a..b``.

    Examples
    --------
    >>> from mtd.trees import format_node
    >>> format_node({0, 1, 2, 3, 8, 10})
    '{0..3,8,10}'
    """
    modes = sorted(node)
    parts: list[str] = []
    i = 0
    while i < len(modes):
        j = i
        while j + 1 < len(modes) and modes[j + 1] == modes[j] + 1:
            j += 1
        if j - i >= 3:
            parts.append(f"{modes[i]}..{modes[j]}")
        else:
            parts.extend(str(m) for m in modes[i : j + 1])
        i = j + 1
    return "{" + ",".join(parts) + "}"


class ModeTree(Rich):
    """An immutable, hashable mode tree over the modes ``0..N-1``.

    Build one with a constructor rather than ``ModeTree(...)``:
    :meth:`from_nested`, :meth:`from_children`, :meth:`from_dilations`,
    :meth:`baseline`, :meth:`swapped`, :meth:`balanced`, :meth:`star`,
    :meth:`linear` or :meth:`random`.

    Examples
    --------
    >>> t = mtd.ModeTree.from_nested(((0, 1), (2, 3)))
    >>> t.n_modes, t.height
    (4, 2)
    >>> sorted(t.children(t.root)[0])
    [0, 1]
    >>> t.tiling([0, 1, 2])
    (frozenset({0, 1}), frozenset({2}))
    >>> print(t.draw())
    {0..3}
    ├── {0,1}
    │   ├── {0}
    │   └── {1}
    └── {2,3}
        ├── {2}
        └── {3}
    """

    __slots__ = ("_n", "_root", "_children", "_parent", "_depth", "_height", "_order", "_hash")

    _n: int
    _root: Node
    _children: dict[Node, tuple[Node, ...]]
    _parent: dict[Node, Node]
    _depth: dict[Node, int]
    _height: dict[Node, int]
    _order: tuple[Node, ...]
    _hash: int

    def __init__(self, children: Mapping[Node, tuple[Node, ...]], root: Node, n_modes: int):
        # Private: callers use the validated constructors.  ``children`` maps every
        # interior node to its ordered children and is assumed valid.
        parent: dict[Node, Node] = {}
        depth: dict[Node, int] = {root: 0}
        order: list[Node] = []
        stack = [root]
        while stack:
            node = stack.pop()
            order.append(node)
            kids = children.get(node, ())
            for c in kids:
                parent[c] = node
                depth[c] = depth[node] + 1
            stack.extend(reversed(kids))
        height: dict[Node, int] = {}
        for node in reversed(order):
            kids = children.get(node, ())
            height[node] = 1 + max(height[c] for c in kids) if kids else 0
        object.__setattr__(self, "_n", n_modes)
        object.__setattr__(self, "_root", root)
        # Keep only nodes reachable from the root (constructors may build extra units).
        object.__setattr__(self, "_children", {n: children[n] for n in order if n in children})
        object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_depth", depth)
        object.__setattr__(self, "_height", height)
        object.__setattr__(self, "_order", tuple(order))
        object.__setattr__(self, "_hash", hash(self._key()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ModeTree is immutable")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_nested(cls, obj: Nested | ModeTree) -> ModeTree:
        """Build a tree from nested tuples of int modes; children keep their order.

        Parameters
        ----------
        obj : int or nested tuple (or list) of ints
            A leaf is an int mode; an interior node is a tuple of at least two
            children.  The leaves must be exactly ``0..N-1``, each once.  An
            existing :class:`ModeTree` is returned unchanged.

        Returns
        -------
        ModeTree

        Raises
        ------
        InvalidModeTreeError
            On a node with fewer than two children, a repeated or missing mode, or
            a negative mode.
        InvalidArgumentTypeError
            On a leaf that is not an int (``bool`` is not accepted).

        Examples
        --------
        >>> mtd.ModeTree.from_nested(((0, 2), (1, 3))).to_nested()
        ((0, 2), (1, 3))
        >>> mtd.ModeTree.from_nested(((0, 1), (1, 2)))
        Traceback (most recent call last):
        ...
        mtd.errors.InvalidModeTreeError: mode 1 appears more than once in the tree...
        """
        if isinstance(obj, ModeTree):
            return obj
        children: dict[Node, tuple[Node, ...]] = {}
        seen: set[int] = set()

        # Iterative post-order so that deep (e.g. linear) trees do not hit the
        # recursion limit.
        def leaf(x: Any) -> Node:
            if not _is_int(x):
                raise InvalidArgumentTypeError(
                    f"leaves of a mode tree must be int modes; got {x!r} of type {type(x).__name__}"
                )
            m = int(x)
            if m < 0:
                raise InvalidModeTreeError(f"modes must be non-negative ints; got leaf {m}")
            if m in seen:
                raise InvalidModeTreeError(
                    f"mode {m} appears more than once in the tree; every mode must be one leaf"
                )
            seen.add(m)
            return frozenset((m,))

        result: dict[int, Node] = {}
        stack: list[tuple[Any, bool]] = [(obj, False)]
        while stack:
            item, expanded = stack.pop()
            if not isinstance(item, (tuple, list)):
                result[id(item)] = leaf(item)
                continue
            if len(item) < 2:
                raise InvalidModeTreeError(
                    f"every interior node needs at least two children; got {tuple(item)!r}"
                )
            if not expanded:
                stack.append((item, True))
                stack.extend((c, False) for c in reversed(item))
                continue
            kids = []
            for c in item:
                kids.append(result[id(c)] if isinstance(c, (tuple, list)) else frozenset((int(c),)))
            node = frozenset().union(*kids)
            children[node] = tuple(kids)
            result[id(item)] = node
        root = result[id(obj)]
        n = len(seen)
        if seen != set(range(n)):
            missing = sorted(set(range(max(seen) + 1)) - seen)
            raise InvalidModeTreeError(
                f"the leaves must be exactly the modes 0..N-1; got {n} leaves "
                f"{format_node(seen)}, missing {missing}"
            )
        return cls(children, root, n)

    @classmethod
    def from_children(cls, children: Mapping[Any, Sequence[Any]]) -> ModeTree:
        """Build a tree from a mapping of each interior node to its ordered children.

        Parameters
        ----------
        children : mapping
            Keys are interior nodes (iterables of modes), values the sequence of
            their children (iterables of modes, or ints for leaves).  The root is
            the one node that is nobody's child.

        Returns
        -------
        ModeTree

        Raises
        ------
        InvalidModeTreeError
            If the children of a node do not partition it, a node has fewer than
            two children, a leaf (singleton) is given children, a non-leaf child
            has no entry, there is not exactly one root, or the modes are not
            ``0..N-1``.

        Examples
        --------
        >>> t = mtd.ModeTree.from_children({(0, 1, 2): [(0, 2), 1], (0, 2): [0, 2]})
        >>> t.to_nested()
        ((0, 2), 1)
        >>> mtd.ModeTree.from_children({(0, 1, 2): [(0,), (2,)]})
        Traceback (most recent call last):
        ...
        mtd.errors.InvalidModeTreeError: children of node {0,1,2} must partition it; got {0}, {2}
        """
        if not isinstance(children, Mapping):
            raise InvalidArgumentTypeError(
                f"children must be a mapping node -> children; got {type(children).__name__}"
            )

        def as_node(x: Any) -> Node:
            if _is_int(x):
                return frozenset((int(x),))
            try:
                items = list(x)
            except TypeError:
                raise InvalidArgumentTypeError(
                    f"nodes must be iterables of int modes (or an int for a leaf); got {x!r}"
                ) from None
            bad = [m for m in items if not _is_int(m)]
            if bad:
                raise InvalidArgumentTypeError(
                    f"nodes must contain int modes; got {bad[0]!r} in {x!r}"
                )
            if not items:
                raise InvalidModeTreeError("a node must not be empty")
            return frozenset(int(m) for m in items)

        table: dict[Node, tuple[Node, ...]] = {}
        for key, kids in children.items():
            node = as_node(key)
            if node in table:
                raise InvalidModeTreeError(f"node {format_node(node)} is given twice")
            table[node] = tuple(as_node(c) for c in kids)
        if not table:
            raise InvalidModeTreeError("children must list at least one interior node")
        child_count: dict[Node, int] = {}
        for node, kids in table.items():
            if len(node) == 1:
                raise InvalidModeTreeError(
                    f"leaf {format_node(node)} cannot have children; got {len(kids)}"
                )
            if len(kids) < 2:
                raise InvalidModeTreeError(
                    f"every interior node needs at least two children; node {format_node(node)} "
                    f"has {len(kids)}"
                )
            union = frozenset().union(*kids)
            if union != node or sum(len(c) for c in kids) != len(node):
                got = ", ".join(format_node(c) for c in kids)
                raise InvalidModeTreeError(
                    f"children of node {format_node(node)} must partition it; got {got}"
                )
            for c in kids:
                child_count[c] = child_count.get(c, 0) + 1
                if len(c) > 1 and c not in table:
                    raise InvalidModeTreeError(
                        f"child {format_node(c)} of {format_node(node)} is not a leaf and has no "
                        f"entry listing its children"
                    )
        twice = [c for c, k in child_count.items() if k > 1]
        if twice:
            raise InvalidModeTreeError(
                f"node {format_node(twice[0])} is the child of more than one node"
            )
        roots = [n for n in table if n not in child_count]
        if len(roots) != 1:
            raise InvalidModeTreeError(
                f"a mode tree has exactly one root (a node that is nobody's child); got "
                f"{len(roots)}: {', '.join(format_node(r) for r in roots)}"
            )
        root = roots[0]
        n = len(root)
        if root != frozenset(range(n)):
            raise InvalidModeTreeError(
                f"the root must be the set of modes 0..N-1; got {format_node(root)}"
            )
        unreachable = set(table) - set(cls._reach(table, root))
        if unreachable:
            raise InvalidModeTreeError(
                f"nodes not below the root: {', '.join(format_node(u) for u in unreachable)}"
            )
        return cls(table, root, n)

    @staticmethod
    def _reach(table: Mapping[Node, tuple[Node, ...]], root: Node) -> Iterator[Node]:
        stack = [root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(table.get(node, ()))

    @classmethod
    def from_dilations(cls, dilations: Sequence[int]) -> ModeTree:
        """The mode tree of a stack of size-2 dilated convolutions (the theory page, §2).

        Layer ``l`` (1-based, layer 1 next to the input) has dilation ``d_l``.
        The unit of layer ``l`` at time ``τ`` has first child the layer-``l-1``
        unit at ``τ - d_l`` and second child the unit at ``τ``; the tree follows
        the output unit at time ``N - 1`` down to the inputs ``0..N-1``.

        Parameters
        ----------
        dilations : sequence of int
            ``d_1, …, d_L``; they must be a permutation of ``1, 2, 4, …, 2^(L-1)``,
            the only case in which the receptive field covers every input once.

        Returns
        -------
        ModeTree
            Over ``N = 2^L`` modes.

        Raises
        ------
        InvalidModeTreeError
            If the dilations are not such a permutation.

        Examples
        --------
        >>> mtd.ModeTree.from_dilations([1, 2]).to_nested()
        ((0, 1), (2, 3))
        >>> mtd.ModeTree.from_dilations([2, 1]).to_nested()
        ((0, 2), (1, 3))
        """
        if isinstance(dilations, (str, bytes)) or _is_int(dilations):
            raise InvalidArgumentTypeError(
                f"dilations must be a sequence of ints; got {dilations!r}"
            )
        ds = list(dilations)
        for d in ds:
            if not _is_int(d):
                raise InvalidArgumentTypeError(
                    f"dilations must be ints; got {d!r} of type {type(d).__name__}"
                )
        L = len(ds)
        if L == 0:
            raise InvalidModeTreeError("dilations must name at least one layer; got none")
        want = [2**i for i in range(L)]
        if sorted(int(d) for d in ds) != want:
            raise InvalidModeTreeError(
                f"dilations of a size-2 dilated stack form a mode tree only if they are a "
                f"permutation of 1, 2, ..., 2^(L-1) = {want} (L = {L} layers); got {tuple(ds)}"
            )
        ds = [int(d) for d in ds]
        n = 2**L
        children: dict[Node, tuple[Node, ...]] = {}
        # The units the output at time N-1 depends on, layer by layer (top-down) ...
        needed: list[list[int]] = [[n - 1]]
        for layer in range(L, 0, -1):
            d = ds[layer - 1]
            needed.append(sorted({u for t in needed[-1] for u in (t - d, t)}))
        needed.reverse()  # needed[l] = times of layer-l units used; needed[0] = 0..N-1
        # ... then their nodes, bottom-up.
        level: dict[int, Node] = {t: frozenset((t,)) for t in needed[0]}
        for layer in range(1, L + 1):
            d = ds[layer - 1]
            nxt: dict[int, Node] = {}
            for t in needed[layer]:
                first, second = level[t - d], level[t]
                nxt[t] = first | second
                children[nxt[t]] = (first, second)
            level = nxt
        root = level[n - 1]
        return cls(children, root, n)

    @classmethod
    def baseline(cls, L: int) -> ModeTree:
        """The baseline dilated network's tree: dilations ``1, 2, …, 2^(L-1)``.

        Every node is a contiguous range of modes (a perfect binary tree).

        Examples
        --------
        >>> mtd.ModeTree.baseline(2).to_nested()
        ((0, 1), (2, 3))
        """
        L = check_int(L, "L", minimum=1)
        return cls.from_dilations([2**i for i in range(L)])

    @staticmethod
    def swapped_dilations(L: int, k: int) -> tuple[int, ...]:
        """Dilations of the k-swapped companion: reversed inside each block of k layers.

        For ``k`` dividing ``L`` this is the theory page's (§2)
        ``d_l = 2^(⌈l/k⌉·k − 1 − ((l−1) mod k))``; when ``k`` does not divide ``L``
        the last block (of ``L mod k`` layers) is reversed within itself.

        Examples
        --------
        >>> mtd.ModeTree.swapped_dilations(4, 2)
        (2, 1, 8, 4)
        """
        L = check_int(L, "L", minimum=1)
        k = check_int(k, "k", minimum=1)
        if k > L:
            raise InvalidArgumentError(f"k must be between 1 and L = {L}; got k = {k}")
        out: list[int] = []
        for start in range(0, L, k):
            block = [2**i for i in range(start, min(L, start + k))]
            out.extend(reversed(block))
        return tuple(out)

    @classmethod
    def swapped(cls, L: int, k: int) -> ModeTree:
        """The paper's companion tree: baseline dilations reversed in blocks of ``k``.

        It shares with :meth:`baseline` exactly the nodes whose height is a
        multiple of ``k`` (and the root, when ``k`` does not divide ``L``).

        Examples
        --------
        >>> mtd.ModeTree.swapped(2, 2).to_nested()
        ((0, 2), (1, 3))
        >>> shared = set(mtd.ModeTree.swapped(4, 2).interior_nodes)
        >>> sorted(len(n) for n in shared & set(mtd.ModeTree.baseline(4).interior_nodes))
        [4, 4, 4, 4, 16]
        """
        return cls.from_dilations(cls.swapped_dilations(L, k))

    @classmethod
    def balanced(cls, N: int, arity: int = 2) -> ModeTree:
        """A contiguous tree in which every node splits into ``arity`` near-equal ranges.

        A node with fewer than ``arity`` modes splits into its leaves.  For
        ``N = arity^L`` this is the perfect ``arity``-ary tree of a ConvAC with
        pooling windows of size ``arity``.

        Examples
        --------
        >>> mtd.ModeTree.balanced(8, arity=4).to_nested()
        ((0, 1), (2, 3), (4, 5), (6, 7))
        >>> mtd.ModeTree.balanced(5).to_nested()
        (((0, 1), 2), (3, 4))
        """
        N = check_int(N, "N", minimum=1)
        arity = check_int(arity, "arity", minimum=2)
        children: dict[Node, tuple[Node, ...]] = {}
        stack = [(0, N)]
        while stack:
            a, b = stack.pop()
            size = b - a
            if size == 1:
                continue
            k = min(arity, size)
            bounds = [a + (size * i + k - 1) // k for i in range(k + 1)]
            kids = [(lo, hi) for lo, hi in itertools.pairwise(bounds)]
            children[frozenset(range(a, b))] = tuple(frozenset(range(lo, hi)) for lo, hi in kids)
            stack.extend(kids)
        return cls(children, frozenset(range(N)), N)

    @classmethod
    def star(cls, N: int) -> ModeTree:
        """The star tree: the root with all ``N`` leaves as children (CP / shallow network).

        Examples
        --------
        >>> mtd.ModeTree.star(3).to_nested()
        (0, 1, 2)
        """
        N = check_int(N, "N", minimum=1)
        leaves = tuple(frozenset((m,)) for m in range(N))
        return cls({frozenset(range(N)): leaves} if N > 1 else {}, frozenset(range(N)), N)

    @classmethod
    def linear(cls, N: int) -> ModeTree:
        """The left-deep tree ``((((0, 1), 2), 3), …)`` of a tensor train.

        Examples
        --------
        >>> mtd.ModeTree.linear(4).to_nested()
        (((0, 1), 2), 3)
        """
        N = check_int(N, "N", minimum=1)
        children: dict[Node, tuple[Node, ...]] = {}
        prev: Node = frozenset((0,))
        for m in range(1, N):
            node = frozenset(range(m + 1))
            children[node] = (prev, frozenset((m,)))
            prev = node
        return cls(children, frozenset(range(N)), N)

    @classmethod
    def random(
        cls, N: int, *, max_arity: int = 2, contiguous: bool = False, seed: Seed = None
    ) -> ModeTree:
        """A random mode tree: shuffle the modes (unless ``contiguous``), split recursively.

        Parameters
        ----------
        N : int
            Number of modes.
        max_arity : int, default 2
            Each interior node gets between 2 and ``max_arity`` children.
        contiguous : bool, default False
            Keep every node a contiguous range of modes.
        seed : None, int or numpy.random.Generator
            Randomness, normalized with :func:`numpy.random.default_rng`.

        Examples
        --------
        >>> t = mtd.ModeTree.random(6, seed=0)
        >>> t == mtd.ModeTree.random(6, seed=0), t.n_modes
        (True, 6)
        """
        N = check_int(N, "N", minimum=1)
        max_arity = check_int(max_arity, "max_arity", minimum=2)
        rng = np.random.default_rng(seed)
        order = list(range(N)) if contiguous else [int(m) for m in rng.permutation(N)]
        children: dict[Node, tuple[Node, ...]] = {}
        stack = [tuple(order)]
        while stack:
            seg = stack.pop()
            if len(seg) == 1:
                continue
            k = int(rng.integers(2, min(max_arity, len(seg)) + 1))
            cuts = sorted(int(c) for c in rng.choice(np.arange(1, len(seg)), k - 1, replace=False))
            parts = [seg[a:b] for a, b in itertools.pairwise([0, *cuts, len(seg)])]
            children[frozenset(seg)] = tuple(frozenset(p) for p in parts)
            stack.extend(parts)
        return cls(children, frozenset(range(N)), N)

    # --------------------------------------------------------------------- structure
    @property
    def n_modes(self) -> int:
        """The number ``N`` of modes (leaves)."""
        return self._n

    @property
    def root(self) -> Node:
        """The root: the set of all modes."""
        return self._root

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node, in pre-order (a node before its children, children in order)."""
        return self._order

    @property
    def interior_nodes(self) -> tuple[Node, ...]:
        """The interior (non-leaf) nodes, in pre-order."""
        return tuple(n for n in self._order if n in self._children)

    @property
    def leaves(self) -> tuple[Node, ...]:
        """The leaves ``{0}, {1}, …`` in mode order."""
        return tuple(frozenset((m,)) for m in range(self._n))

    @property
    def height(self) -> int:
        """The height of the root (a single-leaf tree has height 0)."""
        return self._height[self._root]

    @property
    def leaf_order(self) -> tuple[int, ...]:
        """The modes as the leaves appear left to right (children in order)."""
        return tuple(next(iter(n)) for n in self._order if len(n) == 1)

    def _node(self, node: Any, name: str = "node") -> Node:
        if _is_int(node):
            key: Node = frozenset((int(node),))
        elif isinstance(node, frozenset):
            key = node
        else:
            try:
                key = frozenset(node)
            except TypeError:
                raise InvalidArgumentTypeError(
                    f"{name} must be a set of modes (or an int for a leaf); got {node!r}"
                ) from None
        if key not in self._depth:
            raise InvalidArgumentError(
                f"{name} {format_node(key) if key else '{}'} is not a node of this tree "
                f"over {self._n} modes"
            )
        return key

    def __contains__(self, node: object) -> bool:
        if _is_int(node):
            return frozenset((int(node),)) in self._depth  # type: ignore[call-overload]
        try:
            return frozenset(node) in self._depth  # type: ignore[call-overload]
        except TypeError:
            return False

    def is_leaf(self, node: Any) -> bool:
        """Whether ``node`` (a node of this tree) is a leaf."""
        return self._node(node) not in self._children

    def children(self, node: Any) -> tuple[Node, ...]:
        """The ordered children of ``node``; ``()`` for a leaf."""
        return self._children.get(self._node(node), ())

    def parent(self, node: Any) -> Node | None:
        """The parent of ``node``; ``None`` for the root."""
        return self._parent.get(self._node(node))

    def depth(self, node: Any) -> int:
        """The depth of ``node`` (the root has depth 0)."""
        return self._depth[self._node(node)]

    def node_height(self, node: Any) -> int:
        """The height of ``node`` (a leaf has height 0)."""
        return self._height[self._node(node)]

    def leaves_under(self, node: Any) -> tuple[Node, ...]:
        """The leaves below ``node``, left to right in the tree's order."""
        key = self._node(node)
        out: list[Node] = []
        stack = [key]
        while stack:
            n = stack.pop()
            kids = self._children.get(n)
            if kids:
                stack.extend(reversed(kids))
            else:
                out.append(n)
        return tuple(out)

    def nodes_by_depth(self) -> tuple[tuple[Node, ...], ...]:
        """Nodes grouped by depth: entry ``d`` holds the nodes of depth ``d`` in pre-order."""
        groups: list[list[Node]] = [[] for _ in range(max(self._depth.values()) + 1)]
        for n in self._order:
            groups[self._depth[n]].append(n)
        return tuple(tuple(g) for g in groups)

    def tiling(self, I: Modes) -> tuple[Node, ...]:
        """Θ(I; T): the maximal nodes of the tree contained in ``I``, in pre-order.

        They partition ``I``.  An empty ``I`` has the empty tiling.

        Parameters
        ----------
        I : iterable of int
            Modes in ``0..N-1``, without repeats.

        Returns
        -------
        tuple of frozenset

        Examples
        --------
        >>> t = mtd.ModeTree.baseline(3)
        >>> [sorted(n) for n in t.tiling([0, 1, 2, 3, 5])]
        [[0, 1, 2, 3], [5]]
        """
        modes = frozenset(check_index_set(I, self._n, allow_empty=True))
        out: list[Node] = []
        stack = [self._root] if modes else []
        while stack:
            node = stack.pop()
            if node <= modes:
                out.append(node)
            elif not node.isdisjoint(modes):
                stack.extend(reversed(self._children[node]))
        return tuple(out)

    # ------------------------------------------------------------------ conversions
    def to_nested(self) -> Nested:
        """The nested-tuple form (the inverse of :meth:`from_nested`)."""
        built: dict[Node, Nested] = {}
        for node in reversed(self._order):
            kids = self._children.get(node)
            built[node] = tuple(built[c] for c in kids) if kids else next(iter(node))
        return built[self._root]

    def canonical(self) -> ModeTree:
        """The same tree with every node's children sorted by their smallest mode."""
        table = {n: tuple(sorted(k, key=min)) for n, k in self._children.items()}
        return ModeTree(table, self._root, self._n)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: modes, nested form, height and nodes by depth."""
        return {
            "n_modes": self._n,
            "height": self.height,
            "nested": self.to_nested(),
            "nodes_by_depth": [[sorted(n) for n in g] for g in self.nodes_by_depth()],
        }

    def draw(self) -> str:
        """A text drawing of the tree, one node per line, children indented in order."""
        lines: list[str] = [format_node(self._root)]
        stack: list[tuple[Node, str, bool]] = [
            (c, "", i == len(kids) - 1)
            for kids in [self._children.get(self._root, ())]
            for i, c in reversed(list(enumerate(kids)))
        ]
        while stack:
            node, prefix, last = stack.pop()
            lines.append(prefix + ("└── " if last else "├── ") + format_node(node))
            kids = self._children.get(node, ())
            child_prefix = prefix + ("    " if last else "│   ")
            stack.extend(
                (c, child_prefix, i == len(kids) - 1) for i, c in reversed(list(enumerate(kids)))
            )
        return "\n".join(lines)

    def svg(self, *, I: Modes | None = None, highlight: Iterable[Any] | None = None) -> Any:
        """An SVG drawing: ``I``'s leaves filled and its tiling outlined, ``highlight`` in gold.

        Returns a :class:`mtd.display.Drawing` (``str()`` gives the SVG text; notebooks
        show the picture); see :func:`mtd.display.tree_svg`.

        Examples
        --------
        >>> T = mtd.ModeTree.baseline(2)
        >>> svg = str(T.svg(I=[0, 1], highlight=[[2, 3]]))
        >>> svg.count('<circle class="node'), svg.count('<circle class="halo" data-modes="2,3"')
        (7, 1)
        """
        from .display import Drawing, tree_svg

        return Drawing(tree_svg(self, I=I, highlight=highlight))

    def _repr_svg_(self) -> str | None:
        from .display import auto_svg

        return auto_svg(self)

    # --------------------------------------------------------------------- dunders
    def _key(self) -> tuple[Any, ...]:
        return (self._n, tuple((n, self._children.get(n, ())) for n in self._order))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModeTree):
            return NotImplemented
        return self._hash == other._hash and self._key() == other._key()

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        if self._n <= 16:
            return f"ModeTree.from_nested({self.to_nested()!r})"
        return (
            f"<ModeTree over {self._n} modes, height {self.height}, "
            f"{len(self._children)} interior nodes>"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            (ModeTree.from_children, ({n: k for n, k in self._children.items()},))
            if (self._n > 1)
            else (ModeTree.from_nested, (0,))
        )
