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
from ._validation import _is_int, as_rng, check_bool, check_index_set, check_int
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

    __slots__ = (
        "_n",
        "_parent",
        "_nk",
        "_nsub",
        "_depth",
        "_height",
        "_start",
        "_size",
        "_leaf",
        "_lid",
        "_lpos",
        "_hash",
        "_fsc",
        "_fid",
        "_memo",
    )

    # Internally a tree is compact: node ids 0..K-1 in pre-order, with numpy arrays of
    # parents, child counts, subtree node counts, depths, heights and each node's span
    # [start, start + size) in the leaf order.  The first child of node i is i + 1 and each
    # next child follows the previous one's subtree.  Frozensets are made only at the API,
    # on demand (and cached).
    _n: int
    _parent: np.ndarray
    _nk: np.ndarray
    _nsub: np.ndarray
    _depth: np.ndarray
    _height: np.ndarray
    _start: np.ndarray
    _size: np.ndarray
    _leaf: np.ndarray
    _lid: np.ndarray
    _lpos: np.ndarray
    _hash: int
    _fsc: dict[int, Node]
    _fid: dict[Node, int]
    _memo: dict[str, Any]

    def __init__(self, children: Mapping[Node, tuple[Node, ...]], root: Node, n_modes: int):
        # Private: callers use the validated constructors.  ``children`` maps every
        # interior node to its ordered children and is assumed valid.
        parent: list[int] = []
        leafmode: list[int] = []
        stack: list[tuple[Node, int]] = [(root, -1)]
        while stack:
            node, p = stack.pop()
            i = len(parent)
            parent.append(p)
            kids = children.get(node, ())
            leafmode.append(-1 if kids else next(iter(node)))
            stack.extend((c, i) for c in reversed(kids))
        self._setup(n_modes, np.asarray(parent, np.int64), np.asarray(leafmode, np.int64))

    @classmethod
    def _from_preorder(
        cls, n: int, parent: np.ndarray, leafmode: np.ndarray, **known: np.ndarray
    ) -> ModeTree:
        """A tree from its pre-order parent ids (``-1`` for the root) and leaf modes.

        ``known`` may give ``depth``, ``size``, ``height`` and ``nsub`` when the
        constructor knows them in closed form (they are computed otherwise).
        """
        obj = object.__new__(cls)
        obj._setup(n, np.asarray(parent, np.int64), np.asarray(leafmode, np.int64), **known)
        return obj

    def _setup(self, n: int, parent: np.ndarray, leafmode: np.ndarray, **known: Any) -> None:
        K = len(parent)
        nk = np.bincount(parent[1:], minlength=K) if K > 1 else np.zeros(K, np.int64)
        is_leaf = nk == 0
        leaf_ids = np.flatnonzero(is_leaf)
        leaf = leafmode[leaf_ids]
        start = np.cumsum(is_leaf) - is_leaf
        if "depth" in known:
            depth, size = known["depth"], known["size"]
            height, nsub = known["height"], known["nsub"]
        else:
            depth, size, height, nsub = self._bottom_up(parent, is_leaf)
        pos = np.empty(n, np.int64)
        pos[leaf] = np.arange(n)
        s = object.__setattr__
        s(self, "_n", int(n))
        s(self, "_parent", parent)
        s(self, "_nk", nk)
        s(self, "_nsub", nsub)
        s(self, "_depth", depth)
        s(self, "_height", height)
        s(self, "_start", start)
        s(self, "_size", size)
        s(self, "_leaf", leaf)
        s(self, "_lpos", leaf_ids)
        s(self, "_lid", leaf_ids[pos])
        s(self, "_hash", hash((int(n), parent.tobytes(), leaf.tobytes())))
        s(self, "_fsc", {})
        s(self, "_fid", {})
        s(self, "_memo", {})

    @staticmethod
    def _bottom_up(
        parent: np.ndarray, is_leaf: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Depths, subtree leaf counts, heights and subtree node counts of a pre-order tree."""
        K = len(parent)
        # Depth by pointer doubling (parents come before children in pre-order).
        depth = (parent >= 0).astype(np.int64)
        jump = parent.copy()
        while True:
            idx = np.flatnonzero(jump >= 0)
            if not len(idx):
                break
            depth[idx] += depth[jump[idx]]
            jump[idx] = jump[jump[idx]]
        size = is_leaf.astype(np.int64)
        nsub = np.ones(K, np.int64)
        height = np.zeros(K, np.int64)
        top = int(depth.max()) if K else 0
        if top <= 256:  # shallow: level by level, deepest first
            order = np.argsort(depth, kind="stable")
            bounds = np.searchsorted(depth[order], np.arange(top + 2))
            for d in range(top, 0, -1):
                ids = order[bounds[d] : bounds[d + 1]]
                np.add.at(size, parent[ids], size[ids])
                np.add.at(nsub, parent[ids], nsub[ids])
                np.maximum.at(height, parent[ids], height[ids] + 1)
            return depth, size, height, nsub
        par = parent.tolist()
        sz = size.tolist()
        ns = nsub.tolist()
        ht = height.tolist()
        for i in range(K - 1, 0, -1):
            p = par[i]
            sz[p] += sz[i]
            ns[p] += ns[i]
            if ht[i] >= ht[p]:
                ht[p] = ht[i] + 1
        return depth, np.asarray(sz, np.int64), np.asarray(ht, np.int64), np.asarray(ns, np.int64)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ModeTree is immutable")

    # ----------------------------------------------------------- compact internals
    def _fs(self, i: int) -> Node:
        """The frozenset of node id ``i`` (made once, then cached)."""
        fs = self._fsc.get(i)
        if fs is None:
            a = int(self._start[i])
            fs = frozenset(self._leaf[a : a + int(self._size[i])].tolist())
            self._fsc[i] = fs
            self._fid[fs] = i
        return fs

    def _kid_ids(self, i: int) -> list[int]:
        out = []
        c = i + 1
        for _ in range(int(self._nk[i])):
            out.append(c)
            c += int(self._nsub[c])
        return out

    def _guard_listing(self, what: str) -> None:
        """Refuse to list every node as frozensets when their total size passes the limit."""
        from ._sizes import check_bytes

        check_bytes((int(self._size.sum()),), 64, what=f"{what} (every node as a frozenset)")

    def _id(self, node: Any, name: str = "node") -> int:
        """The id of ``node`` (an int leaf or an iterable of modes), or raise naming ``name``."""
        if _is_int(node):
            m = int(node)
            if not 0 <= m < self._n:
                raise InvalidArgumentError(
                    f"{name} {{{m}}} is not a node of this tree over {self._n} modes (modes "
                    f"are 0..{self._n - 1})"
                )
            return int(self._lid[m])
        if isinstance(node, frozenset):
            hit = self._fid.get(node)
            if hit is not None:
                return hit
        if isinstance(node, (str, bytes, Mapping)):
            raise InvalidArgumentTypeError(
                f"{name} must be a set of int modes (or an int for a leaf); got {node!r} of "
                f"type {type(node).__name__}"
            )
        try:
            key = node if isinstance(node, frozenset) else frozenset(node)
        except TypeError:
            raise InvalidArgumentTypeError(
                f"{name} must be a set of int modes (or an int for a leaf); got {node!r} of "
                f"type {type(node).__name__}"
            ) from None
        bad = [m for m in key if not _is_int(m)]
        if bad:
            raise InvalidArgumentTypeError(
                f"{name} must contain int modes; got {bad[0]!r} of type {type(bad[0]).__name__}"
            )
        modes = [int(m) for m in key]
        i = -1
        if modes and all(0 <= m < self._n for m in modes):
            starts = self._start[self._lid[modes]]
            a = int(starts.min())
            if int(starts.max()) - a + 1 == len(modes):
                # The nodes whose span starts at a are consecutive in pre-order, from the
                # first id with that start down to the leaf, with decreasing sizes.
                lo = int(np.searchsorted(self._start, a, side="left"))
                hi = int(self._lpos[a])
                want = len(modes)
                while lo < hi:
                    mid = (lo + hi) // 2
                    if int(self._size[mid]) > want:
                        lo = mid + 1
                    else:
                        hi = mid
                if int(self._size[lo]) == want:
                    i = lo
        if i < 0:
            shown = format_node(modes) if modes else "{}"
            raise InvalidArgumentError(
                f"{name} {shown} is not a node of this tree over {self._n} modes"
            )
        return i

    def _node(self, node: Any, name: str = "node") -> Node:
        return self._fs(self._id(node, name))

    @property
    def _children(self) -> dict[Node, tuple[Node, ...]]:
        """Interior node -> ordered children, as frozensets (made once, then cached)."""
        table = self._memo.get("children")
        if table is None:
            self._guard_listing("the children table")
            table = {
                self._fs(i): tuple(self._fs(k) for k in self._kid_ids(i))
                for i in range(len(self._parent))
                if self._nk[i]
            }
            self._memo["children"] = table
        return table

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
        seen: set[int] = set()

        def leaf(x: Any) -> int:
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
            return m

        # Iterative pre-order so that deep (e.g. linear) trees do not hit the recursion
        # limit; a container met twice (a self-referential list) is refused.
        parent: list[int] = []
        leafmode: list[int] = []
        visited: set[int] = set()
        stack: list[tuple[Any, int]] = [(obj, -1)]
        while stack:
            item, p = stack.pop()
            i = len(parent)
            parent.append(p)
            if not isinstance(item, (tuple, list)):
                leafmode.append(leaf(item))
                continue
            if len(item) < 2:
                raise InvalidModeTreeError(
                    f"every interior node needs at least two children; got {tuple(item)!r}"
                )
            if id(item) in visited:
                raise InvalidModeTreeError(
                    "a nested tree must not contain the same list or tuple twice (a node "
                    "cannot be its own descendant or appear in two places)"
                )
            visited.add(id(item))
            leafmode.append(-1)
            stack.extend((c, i) for c in reversed(item))
        n = len(seen)
        if max(seen) != n - 1:
            missing = [m for m in range(n) if m not in seen][:10]
            raise InvalidModeTreeError(
                f"the leaves must be exactly the modes 0..N-1; got {n} leaves with largest "
                f"mode {max(seen)}, missing {missing}"
            )
        return cls._from_preorder(n, np.asarray(parent), np.asarray(leafmode))

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
            if isinstance(kids, (str, bytes, Mapping)) or not isinstance(kids, Iterable):
                raise InvalidArgumentTypeError(
                    f"children[{format_node(node)}] must be a sequence of child nodes; got "
                    f"{kids!r} of type {type(kids).__name__}"
                )
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
        if (
            isinstance(dilations, (str, bytes, Mapping))
            or _is_int(dilations)
            or not isinstance(dilations, Iterable)
        ):
            raise InvalidArgumentTypeError(
                f"dilations must be a sequence of ints; got {dilations!r} of type "
                f"{type(dilations).__name__}"
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
        from ._sizes import TREE_NODE_BYTES, check_log2

        check_log2(
            L + 1,
            TREE_NODE_BYTES,
            what=f"the mode tree of {L} dilations (L = {L} layers, N = 2^{L} modes)",
        )
        want = [2**i for i in range(L)]
        if sorted(int(d) for d in ds) != want:
            raise InvalidModeTreeError(
                f"dilations of a size-2 dilated stack form a mode tree only if they are a "
                f"permutation of 1, 2, ..., 2^(L-1) = {want} (L = {L} layers); got {tuple(ds)}"
            )
        ds = [int(d) for d in ds]
        # The tree is the perfect binary tree of height L; only the leaf labels depend on
        # the dilations.  The unit (layer l, time t) has children (l-1, t-d_l), (l-1, t):
        # walking down from the output at time N-1 gives the leaf times left to right.
        times = np.array([2**L - 1], np.int64)
        for layer in range(L, 0, -1):
            d = ds[layer - 1]
            times = np.stack([times - d, times], axis=1).ravel()
        # The perfect binary tree in pre-order, grown from the top: a new root above two
        # copies of the previous tree (ids shifted by 1 and by 1 + its node count).
        parent = np.array([-1], np.int64)
        depth = np.zeros(1, np.int64)
        size = np.ones(1, np.int64)
        height = np.zeros(1, np.int64)
        for h in range(1, L + 1):
            S = len(parent)
            first = parent + 1
            first[0] = 0
            second = parent + 1 + S
            second[0] = 0
            parent = np.concatenate(([-1], first, second))
            depth = np.concatenate(([0], depth + 1, depth + 1))
            size = np.concatenate(([2**h], size, size))
            height = np.concatenate(([h], height, height))
        leafmode = np.full(len(parent), -1, np.int64)
        leafmode[height == 0] = times
        return cls._from_preorder(
            2**L, parent, leafmode, depth=depth, size=size, height=height, nsub=2 * size - 1
        )

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
        from ._sizes import TREE_NODE_BYTES, check_log2

        check_log2(L + 1, TREE_NODE_BYTES, what=f"the baseline tree of L = {L} layers")
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
        from ._sizes import TREE_NODE_BYTES, check_log2

        check_log2(L + 1, TREE_NODE_BYTES, what=f"the tree of L = {L} dilated layers")
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
        from ._sizes import check_tree_nodes

        check_tree_nodes(
            N + (N - 1) // (arity - 1), what=f"a balanced mode tree over N = {N} modes"
        )
        L = 0
        while arity**L < N:
            L += 1
        if arity**L == N and L > 0:
            return cls._perfect(arity, L)
        parent: list[int] = []
        leafmode: list[int] = []
        stack = [(0, N, -1)]
        while stack:
            a, b, p = stack.pop()
            i = len(parent)
            parent.append(p)
            size = b - a
            if size == 1:
                leafmode.append(a)
                continue
            leafmode.append(-1)
            k = min(arity, size)
            bounds = [a + (size * j + k - 1) // k for j in range(k + 1)]
            stack.extend((lo, hi, i) for lo, hi in reversed(list(itertools.pairwise(bounds))))
        return cls._from_preorder(N, np.asarray(parent), np.asarray(leafmode))

    @classmethod
    def _perfect(cls, k: int, L: int) -> ModeTree:
        """The perfect ``k``-ary tree of height ``L`` over contiguous modes, in numpy.

        A node at depth ``d`` whose path from the root takes children ``c_1 … c_d`` has
        pre-order id ``Σ_t (1 + c_t · S_{L-t})``, with ``S_h`` the node count of a
        perfect subtree of height ``h``; its parent drops the last term, and a leaf's
        mode is ``Σ_t c_t k^{L-t}``.
        """
        S = [(k ** (h + 1) - 1) // (k - 1) for h in range(L + 1)]
        K = S[L]
        parent = np.full(K, -1, np.int64)
        leafmode = np.full(K, -1, np.int64)
        depth = np.zeros(K, np.int64)
        pre = np.zeros(1, np.int64)  # ids of the nodes of the current depth, in order
        for d in range(1, L + 1):
            digit = np.tile(np.arange(k, dtype=np.int64), len(pre))
            up = np.repeat(pre, k)
            pre = up + 1 + digit * S[L - d]
            parent[pre] = up
            depth[pre] = d
        leafmode[pre] = np.arange(len(pre))
        height = L - depth
        size = np.asarray([k**h for h in range(L + 1)], np.int64)[height]
        nsub = np.asarray(S, np.int64)[height]
        return cls._from_preorder(
            k**L, parent, leafmode, depth=depth, size=size, height=height, nsub=nsub
        )

    @classmethod
    def star(cls, N: int) -> ModeTree:
        """The star tree: the root with all ``N`` leaves as children (CP / shallow network).

        Examples
        --------
        >>> mtd.ModeTree.star(3).to_nested()
        (0, 1, 2)
        """
        N = check_int(N, "N", minimum=1)
        from ._sizes import check_tree_nodes

        check_tree_nodes(N + 1, what=f"the star tree over N = {N} modes")
        if N == 1:
            return cls._from_preorder(1, np.array([-1]), np.array([0]))
        parent = np.zeros(N + 1, np.int64)
        parent[0] = -1
        return cls._from_preorder(N, parent, np.arange(-1, N))

    @classmethod
    def linear(cls, N: int) -> ModeTree:
        """The left-deep tree ``((((0, 1), 2), 3), …)`` of a tensor train.

        Examples
        --------
        >>> mtd.ModeTree.linear(4).to_nested()
        (((0, 1), 2), 3)
        """
        N = check_int(N, "N", minimum=1)
        from ._sizes import check_tree_nodes

        check_tree_nodes(2 * N - 1, what=f"the linear tree over N = {N} modes")
        if N == 1:
            return cls._from_preorder(1, np.array([-1]), np.array([0]))
        # Pre-order: the chain of interior nodes {0..N-1}, {0..N-2}, ..., {0, 1} (ids
        # 0..N-2), then leaf 0 (id N-1), leaf 1 (id N), ..., leaf N-1 (id 2N-2); leaf
        # m >= 1 is the second child of the chain node with id N-1-m.
        parent = np.concatenate(([-1], np.arange(N - 2), [N - 2], N - 1 - np.arange(1, N)))
        leafmode = np.concatenate((np.full(N - 1, -1), np.arange(N)))
        chain = np.arange(N - 1)
        ones = np.ones(N, np.int64)
        return cls._from_preorder(
            N,
            parent,
            leafmode,
            depth=np.concatenate((chain, [N - 1], N - np.arange(1, N))),
            size=np.concatenate((N - chain, ones)),
            height=np.concatenate((N - 1 - chain, ones - 1)),
            nsub=np.concatenate((2 * (N - chain) - 1, ones)),
        )

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
        contiguous = check_bool(contiguous, "contiguous")
        from ._sizes import check_tree_nodes

        check_tree_nodes(
            N + (N - 1) // (max_arity - 1), what=f"a random mode tree over N = {N} modes"
        )
        rng = as_rng(seed)
        order = list(range(N)) if contiguous else [int(m) for m in rng.permutation(N)]
        # Segments are ranges [a, b) of ``order``; split in the same sequence as always, so
        # that a seed keeps giving the same tree, then renumbered in pre-order.
        kids: dict[int, list[int]] = {}
        spans: list[tuple[int, int]] = [(0, N)]
        stack = [0]
        while stack:
            s = stack.pop()
            a, b = spans[s]
            if b - a == 1:
                continue
            k = int(rng.integers(2, min(max_arity, b - a) + 1))
            cuts = sorted(int(c) for c in rng.choice(np.arange(1, b - a), k - 1, replace=False))
            ids = []
            for lo, hi in itertools.pairwise([0, *cuts, b - a]):
                ids.append(len(spans))
                spans.append((a + lo, a + hi))
            kids[s] = ids
            stack.extend(ids)
        parent: list[int] = []
        leafmode: list[int] = []
        walk = [(0, -1)]
        while walk:
            s, p = walk.pop()
            i = len(parent)
            parent.append(p)
            leafmode.append(order[spans[s][0]] if s not in kids else -1)
            walk.extend((c, i) for c in reversed(kids.get(s, ())))
        return cls._from_preorder(N, np.asarray(parent), np.asarray(leafmode))

    # --------------------------------------------------------------------- structure
    @property
    def n_modes(self) -> int:
        """The number ``N`` of modes (leaves)."""
        return self._n

    @property
    def root(self) -> Node:
        """The root: the set of all modes."""
        return self._fs(0)

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node, in pre-order (a node before its children, children in order)."""
        self._guard_listing("the node listing")
        return tuple(self._fs(i) for i in range(len(self._parent)))

    @property
    def interior_nodes(self) -> tuple[Node, ...]:
        """The interior (non-leaf) nodes, in pre-order."""
        self._guard_listing("the node listing")
        inner = np.flatnonzero(self._nk).tolist()
        return tuple(self._fs(i) for i in inner)

    @property
    def leaves(self) -> tuple[Node, ...]:
        """The leaves ``{0}, {1}, …`` in mode order."""
        return tuple(frozenset((m,)) for m in range(self._n))

    @property
    def height(self) -> int:
        """The height of the root (a single-leaf tree has height 0)."""
        return int(self._height[0])

    @property
    def leaf_order(self) -> tuple[int, ...]:
        """The modes as the leaves appear left to right (children in order)."""
        return tuple(self._leaf.tolist())

    def __contains__(self, node: object) -> bool:
        try:
            self._id(node)
        except (InvalidArgumentError, InvalidArgumentTypeError):
            return False
        return True

    def is_leaf(self, node: Any) -> bool:
        """Whether ``node`` (a node of this tree) is a leaf."""
        i = self._id(node)
        return not self._nk[i]

    def children(self, node: Any) -> tuple[Node, ...]:
        """The ordered children of ``node``; ``()`` for a leaf."""
        return tuple(self._fs(k) for k in self._kid_ids(self._id(node)))

    def parent(self, node: Any) -> Node | None:
        """The parent of ``node``; ``None`` for the root."""
        p = int(self._parent[self._id(node)])
        return None if p < 0 else self._fs(p)

    def depth(self, node: Any) -> int:
        """The depth of ``node`` (the root has depth 0)."""
        return int(self._depth[self._id(node)])

    def node_height(self, node: Any) -> int:
        """The height of ``node`` (a leaf has height 0)."""
        return int(self._height[self._id(node)])

    def leaves_under(self, node: Any) -> tuple[Node, ...]:
        """The leaves below ``node``, left to right in the tree's order."""
        i = self._id(node)
        a = int(self._start[i])
        return tuple(frozenset((m,)) for m in self._leaf[a : a + int(self._size[i])].tolist())

    def nodes_by_depth(self) -> tuple[tuple[Node, ...], ...]:
        """Nodes grouped by depth: entry ``d`` holds the nodes of depth ``d`` in pre-order."""
        self._guard_listing("the node listing")
        order = np.argsort(self._depth, kind="stable")
        bounds = np.searchsorted(self._depth[order], np.arange(int(self._depth.max()) + 2))
        return tuple(
            tuple(self._fs(i) for i in order[bounds[d] : bounds[d + 1]].tolist())
            for d in range(len(bounds) - 1)
        )

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
        modes = check_index_set(I, self._n, allow_empty=True)
        marks = np.zeros(self._n + 1, np.int64)
        if modes:
            marks[1:][self._start[self._lid[list(modes)]]] = 1
        inside = np.cumsum(marks)
        out: list[Node] = []
        stack = [0] if modes else []
        while stack:
            i = stack.pop()
            a, z = int(self._start[i]), int(self._size[i])
            count = int(inside[a + z] - inside[a])
            if count == z:
                out.append(self._fs(i))
            elif count:
                stack.extend(reversed(self._kid_ids(i)))
        return tuple(out)

    # ------------------------------------------------------------------ conversions
    def to_nested(self) -> Nested:
        """The nested-tuple form (the inverse of :meth:`from_nested`)."""
        K = len(self._parent)
        leafmode = np.full(K, -1, np.int64)
        leafmode[self._lid] = np.arange(self._n)
        modes = leafmode.tolist()
        built: list[Any] = [None] * K
        kids = self._kid_lists()
        for i in range(K - 1, -1, -1):
            built[i] = tuple(built[k] for k in kids[i]) if kids[i] else modes[i]
        return built[0]

    def _kid_lists(self) -> list[list[int]]:
        """Every node's child ids (one pass over the parent array)."""
        kids: list[list[int]] = [[] for _ in range(len(self._parent))]
        for i, p in enumerate(self._parent.tolist()):
            if p >= 0:
                kids[p].append(i)
        return kids

    def canonical(self) -> ModeTree:
        """The same tree with every node's children sorted by their smallest mode."""
        K = len(self._parent)
        kid_lists = self._kid_lists()
        leafmode = np.full(K, -1, np.int64)
        leafmode[self._lid] = np.arange(self._n)
        lm = leafmode.tolist()
        low = list(lm)
        for i in range(K - 1, -1, -1):
            if kid_lists[i]:
                low[i] = min(low[k] for k in kid_lists[i])
        parent: list[int] = []
        modes: list[int] = []
        stack = [(0, -1)]
        while stack:
            i, p = stack.pop()
            j = len(parent)
            parent.append(p)
            modes.append(lm[i])
            kids = sorted(kid_lists[i], key=low.__getitem__)
            stack.extend((k, j) for k in reversed(kids))
        return ModeTree._from_preorder(self._n, np.asarray(parent), np.asarray(modes))

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
        self._guard_listing("the drawing")
        lines: list[str] = [format_node(self._fs(0))]
        top = self._kid_ids(0)
        stack: list[tuple[int, str, bool]] = [
            (c, "", i == len(top) - 1) for i, c in reversed(list(enumerate(top)))
        ]
        while stack:
            node, prefix, last = stack.pop()
            lines.append(prefix + ("└── " if last else "├── ") + format_node(self._fs(node)))
            kids = self._kid_ids(node)
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
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModeTree):
            return NotImplemented
        return (
            self._hash == other._hash
            and self._n == other._n
            and np.array_equal(self._parent, other._parent)
            and np.array_equal(self._leaf, other._leaf)
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        if self._n <= 16:
            return f"ModeTree.from_nested({self.to_nested()!r})"
        return (
            f"<ModeTree over {self._n} modes, height {self.height}, "
            f"{len(self._parent) - self._n} interior nodes>"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        leafmode = np.full(len(self._parent), -1, np.int64)
        leafmode[self._lid] = np.arange(self._n)
        return (_rebuild, (self._n, self._parent, leafmode))

    def __copy__(self) -> ModeTree:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ModeTree:
        return self


def _rebuild(n: int, parent: np.ndarray, leafmode: np.ndarray) -> ModeTree:
    # Unpickling: the compact form is trusted only after a structural check.
    parent = np.asarray(parent, np.int64)
    leafmode = np.asarray(leafmode, np.int64)
    K = len(parent)
    ok = (
        K >= 1
        and len(leafmode) == K
        and parent[0] == -1
        and bool(np.all((parent[1:] >= 0) & (parent[1:] < np.arange(1, K))))
    )
    if ok:
        nk = np.bincount(parent[1:], minlength=K)
        lm = leafmode[nk == 0]
        ok = bool(np.all(nk != 1)) and np.array_equal(np.sort(lm), np.arange(n))
    if not ok:
        raise InvalidModeTreeError("the pickled mode tree is corrupt")
    return ModeTree._from_preorder(n, parent, leafmode)
