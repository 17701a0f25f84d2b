"""Pooling geometries: mode trees of 1-D pooling windows and of 2×2 windows on images.

:func:`pooling_tree` builds 1-D trees over ``N = w^L`` positions with windows of size
``w``: ``"contiguous"`` (windows of neighbours), ``"interleaved"`` (mode ``j`` sits at
the position with its base-``w`` digits reversed: for ``w = 2`` the bottom windows are
``{j, j + N/2}``), ``"mirror"`` (positions hold modes ``0, N-1, 1, N-2, …``: the bottom
windows pair ``j`` with ``N-1-j``).  :func:`image_tree` builds 2-D trees on a
``2^L × 2^L`` image with 2×2 windows; pixels are numbered by :func:`image_modes` (Z
order), so that every pooling window, and every block above it, is a node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_int
from ..errors import InvalidArgumentError
from ..trees import ModeTree

__all__ = ["GEOMETRIES", "image_modes", "image_partition", "image_tree", "pooling_tree"]

GEOMETRIES = ("contiguous", "interleaved", "mirror")
"""The 1-D pooling geometries of :func:`pooling_tree`."""


def _levels(n: int, base: int, name: str) -> int:
    L, size = 0, 1
    while size < n:
        size *= base
        L += 1
    if size != n or L == 0:
        raise InvalidArgumentError(f"{name} must be a power {base}^L (L >= 1); got {n}")
    return L


def _tree_from_order(order: Sequence[int], arity: int) -> ModeTree:
    """The contiguous ``arity``-ary tree over positions; position ``q`` holds mode ``order[q]``."""
    base = ModeTree.balanced(len(order), arity).to_nested()

    def relabel(x: Any) -> Any:
        return order[x] if isinstance(x, int) else tuple(relabel(c) for c in x)

    return ModeTree.from_nested(relabel(base))


def pooling_tree(N: int, *, window: int = 2, geometry: str = "contiguous") -> ModeTree:
    """The mode tree of 1-D pooling windows of size ``window`` over ``N = window^L`` inputs.

    Parameters
    ----------
    N : int
        The number of inputs, a power of ``window``.
    window : int, default 2
        The pooling window size (the arity of every node).
    geometry : {"contiguous", "interleaved", "mirror"}, default "contiguous"
        See the module docstring.

    Returns
    -------
    ModeTree
        Every leaf at depth ``L``.

    Examples
    --------
    >>> mtd.networks.pooling_tree(8, geometry="interleaved").to_nested()
    (((0, 4), (2, 6)), ((1, 5), (3, 7)))
    >>> mtd.networks.pooling_tree(8, geometry="mirror").to_nested()
    (((0, 7), (1, 6)), ((2, 5), (3, 4)))
    """
    N = check_int(N, "N", minimum=2)
    window = check_int(window, "window", minimum=2)
    L = _levels(N, window, "N")
    if geometry == "contiguous":
        return ModeTree.balanced(N, window)
    if geometry == "interleaved":
        order = []
        for q in range(N):
            digits, m = [], q
            for _ in range(L):
                digits.append(m % window)
                m //= window
            order.append(sum(d * window ** (L - 1 - i) for i, d in enumerate(digits)))
        return _tree_from_order(order, window)
    if geometry == "mirror":
        return _tree_from_order(
            [q // 2 if q % 2 == 0 else N - 1 - q // 2 for q in range(N)], window
        )
    raise InvalidArgumentError(f"geometry must be one of {GEOMETRIES}; got {geometry!r}")


def image_modes(side: int) -> np.ndarray:
    """The mode of every pixel of a ``side × side`` image (``side = 2^L``): Z order.

    Writing ``row = Σ_b ρ_b 2^b`` and ``col = Σ_b κ_b 2^b`` in binary, pixel
    ``(row, col)`` is mode ``Σ_b (2 ρ_b + κ_b) 4^b``.  Inside every 2×2 window the
    modes are consecutive in row-major order (``(0,0), (0,1), (1,0), (1,1)``), and
    every aligned ``2^h × 2^h`` block is a range of ``4^h`` consecutive modes, its four
    quadrants in row-major order.  So the contiguous 4-ary tree
    ``ModeTree.balanced(side**2, 4)`` has exactly the 2×2 pooling windows (and the
    blocks above them) as nodes.

    Parameters
    ----------
    side : int
        A power of 2.

    Returns
    -------
    (side, side) int64 ndarray
        Entry ``[row, col]`` is the pixel's mode.

    Examples
    --------
    >>> mtd.networks.image_modes(4)
    array([[ 0,  1,  4,  5],
           [ 2,  3,  6,  7],
           [ 8,  9, 12, 13],
           [10, 11, 14, 15]])
    """
    side = check_int(side, "side", minimum=2)
    L = _levels(side, 2, "side")
    rows, cols = np.indices((side, side), dtype=np.int64)
    out = np.zeros((side, side), dtype=np.int64)
    for b in range(L):
        out += (2 * ((rows >> b) & 1) + ((cols >> b) & 1)) * 4**b
    return out


def image_tree(side: int, *, geometry: str = "contiguous") -> ModeTree:
    """The pooling tree of 2×2 windows on a ``side × side`` image (modes: :func:`image_modes`).

    Parameters
    ----------
    side : int
        A power of 2; the tree has ``side**2`` modes and depth ``log2(side)``.
    geometry : {"contiguous", "mirror"}, default "contiguous"
        ``"contiguous"``: the windows are the aligned 2×2 squares, then 4×4 … blocks
        (ICLR'17's standard pooling).  ``"mirror"``: columns are reordered
        ``0, side-1, 1, side-2, …`` before the contiguous windows are taken, so each
        bottom window is ``{(r, c), (r, side-1-c), (r+1, c), (r+1, side-1-c)}``: a pixel
        pools with its mirror image across the vertical axis.

    Returns
    -------
    ModeTree

    Examples
    --------
    >>> t = mtd.networks.image_tree(4)
    >>> sorted(map(sorted, t.children(t.root)))[0]
    [0, 1, 2, 3]
    >>> m = mtd.networks.image_modes(4)
    >>> t2 = mtd.networks.image_tree(4, geometry="mirror")
    >>> sorted(t2.parent(int(m[0, 0]))) == sorted(int(m[r, c]) for r in (0, 1) for c in (0, 3))
    True
    """
    side = check_int(side, "side", minimum=2)
    _levels(side, 2, "side")
    modes = image_modes(side)
    if geometry == "contiguous":
        return ModeTree.balanced(side * side, 4)
    if geometry != "mirror":
        raise InvalidArgumentError(
            f"geometry must be 'contiguous' or 'mirror' for images; got {geometry!r}"
        )
    colorder = [q // 2 if q % 2 == 0 else side - 1 - q // 2 for q in range(side)]
    order = [0] * (side * side)
    for r in range(side):
        for v in range(side):
            order[int(modes[r, v])] = int(modes[r, colorder[v]])
    return _tree_from_order(order, 4)


def image_partition(side: int, which: str) -> tuple[int, ...]:
    """An index set of pixel modes (:func:`image_modes`) on a ``side × side`` image.

    Parameters
    ----------
    side : int
        A power of 2.
    which : {"left", "top", "checkerboard"}
        The left half (``col < side/2``), the top half (``row < side/2``), or the
        pixels with ``row + col`` even.

    Returns
    -------
    tuple of int
        Sorted modes.

    Examples
    --------
    >>> mtd.networks.image_partition(4, "left")
    (0, 1, 2, 3, 8, 9, 10, 11)
    """
    modes = image_modes(side)
    rows, cols = np.indices(modes.shape)
    masks = {
        "left": cols < side // 2,
        "top": rows < side // 2,
        "checkerboard": (rows + cols) % 2 == 0,
    }
    if which not in masks:
        raise InvalidArgumentError(f"which must be one of {sorted(masks)}; got {which!r}")
    return tuple(sorted(int(m) for m in modes[masks[which]]))
