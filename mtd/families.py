"""Families of index sets: the partitions a rank profile is taken over.

An *index set* ``I`` is a non-empty proper subset of the modes ``0..N-1`` (the rows of
``[[A]]_I``, the theory page, §1); the partition it names is ``(I, Iᶜ)``, and since
``rank [[A]]_I = rank [[A]]_{Iᶜ}`` a family lists each partition once, by the side
chosen by :func:`canonical_side` unless the family is defined by one side (``"left"``
and ``"right"`` name the same partition).  Every family is a tuple of sorted tuples of
modes, in a fixed order.

Named families (:data:`FAMILIES`):

``"all"``
    Every partition with ``min(|I|, |Iᶜ|) <= max_size`` (default ``N // 2``: all
    ``2^(N-1) - 1`` of them), by its canonical side.
``"contiguous"``
    Every interval ``{a, …, b-1}`` (the partitions a baseline network gives low rank).
``"interleaved"``
    For every stride ``s = 1, 2, 4, … < N``: the modes ``j`` with ``⌊j / s⌋`` even
    (``s = 1``: the even modes, the ICLR'17 odd/even partition).
``"canonical"``
    The non-root nodes of the architecture's mode tree (ranks 1 or ``r``).
``"tiles"``
    Every block of ``2^k`` consecutive modes aligned at a multiple of ``2^k``
    (``k = 0, 1, …`` while ``2^k < N``): every tile of the regular dyadic tilings.
``"left"``, ``"right"``, ``"top"``, ``"bottom"``, ``"checkerboard"``
    On a ``side × side`` image with ``N = side²`` and pixels numbered by
    :func:`mtd.image_modes` (Z order): the left / right / top / bottom half, or the
    pixels with ``row + col`` even.
``"random"``
    ``n_random`` partitions drawn uniformly (each mode in ``I`` with probability
    1/2, redrawn when empty or full), deduplicated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

from ._config import check_allocation
from ._typing import Seed
from ._validation import check_index_set, check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError

__all__ = [
    "FAMILIES",
    "Family",
    "all_masks",
    "canonical_side",
    "masks_to_sets",
    "family_size",
    "index_set_family",
    "resolve_index_sets",
]

Family = Literal[
    "all",
    "contiguous",
    "interleaved",
    "canonical",
    "tiles",
    "left",
    "right",
    "top",
    "bottom",
    "checkerboard",
    "random",
]
FAMILIES: tuple[str, ...] = (
    "all",
    "contiguous",
    "interleaved",
    "canonical",
    "tiles",
    "left",
    "right",
    "top",
    "bottom",
    "checkerboard",
    "random",
)
"""The named families of :func:`index_set_family`."""


def canonical_side(I: Iterable[int], n_modes: int) -> tuple[int, ...]:
    """The side of the partition ``(I, Iᶜ)`` that families list.

    The smaller side, or at a tie the one holding mode 0.

    Parameters
    ----------
    I : iterable of int
        A non-empty proper subset of ``0..n_modes-1``.
    n_modes : int

    Returns
    -------
    tuple of int
        Sorted modes.

    Examples
    --------
    >>> mtd.families.canonical_side([1, 2, 3], 4), mtd.families.canonical_side([2, 3], 4)
    ((0,), (0, 1))
    """
    rows = check_index_set(I, n_modes, proper=True)
    comp = tuple(m for m in range(n_modes) if m not in set(rows))
    if len(rows) != len(comp):
        return rows if len(rows) < len(comp) else comp
    return rows if rows[0] == 0 else comp


def family_size(n_modes: int, *, max_size: int | None = None) -> int:
    """The number of partitions in the ``"all"`` family (computed, nothing listed).

    Examples
    --------
    >>> mtd.families.family_size(16), mtd.families.family_size(16, max_size=2)
    (32767, 136)
    """
    N = check_int(n_modes, "n_modes", minimum=2)
    k = N // 2 if max_size is None else check_int(max_size, "max_size", minimum=1)
    total = sum(math.comb(N, j) for j in range(1, min(k, (N - 1) // 2) + 1))
    if k >= N // 2 and N % 2 == 0:
        total += math.comb(N, N // 2) // 2
    return total


def _all(N: int, max_size: int | None) -> list[tuple[int, ...]]:
    size = family_size(N, max_size=max_size)
    # a tuple of k small ints takes about 56 + 8 k bytes: refuse before listing
    check_allocation((size,), 56 + 8 * N, max_bytes=None, what="the 'all' family's index sets")
    k = N // 2 if max_size is None else max_size
    out: list[tuple[int, ...]] = []
    for j in range(1, min(k, N // 2) + 1):
        for c in itertools.combinations(range(N), j):
            if 2 * j < N or c[0] == 0:
                out.append(c)
    return out


def all_masks(n_modes: int, *, max_size: int | None = None) -> np.ndarray:
    """The ``"all"`` family as int64 bit masks (bit ``j``: mode ``j`` in ``I``), in its order.

    Vectorized: nothing is listed as tuples, so every partition of ``N = 24`` modes
    (``2^23 - 1``) takes a second and 0.3 GB.  The order is the family's: by size, then
    lexicographic (for one size, descending in the bit-reversed mask).

    Raises
    ------
    TensorTooLargeError
        If the ``2^N`` candidate masks would exceed the memory limit.

    Examples
    --------
    >>> mtd.families.all_masks(4).tolist()  # {0}, {1}, {2}, {3}, {0,1}, {0,2}, {0,3}
    [1, 2, 4, 8, 3, 5, 9]
    """
    from ._sizes import check_log2

    N = check_int(n_modes, "n_modes", minimum=2)
    if N > 62:
        raise InvalidArgumentError(f"all_masks needs n_modes <= 62 (int64 masks); got {N}")
    k = N // 2 if max_size is None else check_int(max_size, "max_size", minimum=1)
    check_log2(N, 4 * 8, what=f"the masks of every partition of {N} modes")
    masks = np.arange(1, 2 ** (N - 1), dtype=np.int64)  # each partition once: mode N-1 out
    # popcounts and bit reversals byte by byte, through 256-entry tables
    ones = np.array([bin(b).count("1") for b in range(256)], dtype=np.int64)
    mirror = np.array([int(f"{b:08b}"[::-1], 2) for b in range(256)], dtype=np.int64)
    n_bytes = (N + 7) // 8

    def popcount(x: np.ndarray) -> np.ndarray:
        return sum((ones[(x >> (8 * i)) & 255] for i in range(n_bytes)), np.zeros_like(x))

    size = popcount(masks)
    full = (1 << N) - 1
    # the canonical side: the smaller, at a tie the one holding mode 0
    flip = (2 * size > N) | ((2 * size == N) & (masks & 1 == 0))
    masks[flip] = full - masks[flip]
    size[flip] = N - size[flip]
    keep = size <= k
    masks, size = masks[keep], size[keep]
    rev = np.zeros(len(masks), dtype=np.int64)
    for i in range(n_bytes):
        rev |= mirror[(masks >> (8 * i)) & 255] << (8 * (n_bytes - 1 - i))
    rev >>= 8 * n_bytes - N
    # by size, then by descending bit-reversed mask: one sort of a combined key
    return masks[np.argsort((size << N) | (full - rev), kind="stable")]


def masks_to_sets(masks: np.ndarray, n_modes: int) -> tuple[tuple[int, ...], ...]:
    """Index sets (sorted tuples) of int64 bit masks.

    Examples
    --------
    >>> mtd.families.masks_to_sets(np.array([5, 2]), 3)
    ((0, 2), (1,))
    """
    check_allocation((len(masks),), 56 + 8 * n_modes, max_bytes=None, what="the index sets")
    bits = [(masks >> j) & 1 for j in range(n_modes)]
    table = np.stack(bits, axis=1).astype(bool) if len(masks) else np.zeros((0, n_modes), bool)
    modes = np.arange(n_modes)
    return tuple(tuple(modes[row].tolist()) for row in table)


def _image(N: int, which: str) -> tuple[int, ...]:
    from .networks import image_modes

    side = math.isqrt(N)
    if side * side != N or side < 2 or side & (side - 1):
        raise InvalidArgumentError(
            f"family {which!r} is for square images: n_modes must be side**2 with side a "
            f"power of 2; got n_modes={N}"
        )
    modes = image_modes(side)
    rows, cols = np.indices(modes.shape)
    mask = {
        "left": cols < side // 2,
        "right": cols >= side // 2,
        "top": rows < side // 2,
        "bottom": rows >= side // 2,
        "checkerboard": (rows + cols) % 2 == 0,
    }[which]
    return tuple(sorted(int(m) for m in modes[mask]))


def index_set_family(
    name: Family,
    n_modes: int,
    *,
    tree: Any = None,
    max_size: int | None = None,
    n_random: int = 64,
    seed: Seed = None,
) -> tuple[tuple[int, ...], ...]:
    """The index sets of a named family (module docstring), each a sorted tuple.

    Parameters
    ----------
    name : {"all", "contiguous", "interleaved", "canonical", "tiles", "left", "right", \
"top", "bottom", "checkerboard", "random"}
        The family.
    n_modes : int
        ``N``.
    tree : ModeTree, optional
        Needed by ``"canonical"`` (its non-root nodes).
    max_size : int, optional
        ``"all"`` only: the largest ``min(|I|, |Iᶜ|)``.
    n_random : int, default 64
        ``"random"`` only: how many draws (duplicates are dropped).
    seed : None, int or numpy.random.Generator
        ``"random"`` only.

    Returns
    -------
    tuple of tuple of int

    Raises
    ------
    InvalidArgumentError
        Unknown family, an image family for ``N`` not a square of a power of 2,
        or ``"canonical"`` without a tree.
    TensorTooLargeError
        If listing the ``"all"`` family would exceed the memory limit.

    Examples
    --------
    >>> mtd.families.index_set_family("interleaved", 8)
    ((0, 2, 4, 6), (0, 1, 4, 5), (0, 1, 2, 3))
    >>> mtd.families.index_set_family("left", 16)
    ((0, 1, 2, 3, 8, 9, 10, 11),)
    >>> len(mtd.families.index_set_family("all", 8))
    127
    """
    N = check_int(n_modes, "n_modes", minimum=2)
    if not isinstance(name, str) or name not in FAMILIES:
        raise InvalidArgumentError(f"family must be one of {FAMILIES}; got {name!r}")
    if name == "all":
        return tuple(_all(N, max_size))
    if name == "contiguous":
        return tuple(tuple(range(a, b)) for a in range(N) for b in range(a + 1, N + 1) if b - a < N)
    if name == "interleaved":
        strides = [s for s in (2**i for i in range(N.bit_length())) if s < N]
        return tuple(tuple(j for j in range(N) if (j // s) % 2 == 0) for s in strides)
    if name == "tiles":
        out: list[tuple[int, ...]] = []
        w = 1
        while w < N:
            out.extend(tuple(range(a, min(a + w, N))) for a in range(0, N, w))
            w *= 2
        return tuple(out)
    if name == "canonical":
        if tree is None:
            raise InvalidArgumentError("family 'canonical' needs the architecture's mode tree")
        return tuple(tuple(sorted(v)) for v in tree.nodes if v != tree.root)
    if name == "random":
        k = check_int(n_random, "n_random", minimum=1)
        rng = np.random.default_rng(seed)
        seen: dict[tuple[int, ...], None] = {}
        for _ in range(k):
            while True:
                bits = rng.integers(0, 2, N)
                if 0 < bits.sum() < N:
                    break
            seen.setdefault(tuple(int(j) for j in np.flatnonzero(bits)), None)
        return tuple(seen)
    return (_image(N, name),)


def resolve_index_sets(
    index_sets: Any,
    n_modes: int,
    *,
    tree: Any = None,
    max_size: int | None = None,
    n_random: int = 64,
    seed: Seed = None,
) -> tuple[tuple[int, ...], ...]:
    """A family name or an iterable of index sets, as validated sorted tuples.

    Examples
    --------
    >>> mtd.families.resolve_index_sets([[2, 0], (1,)], 4)
    ((0, 2), (1,))
    """
    if isinstance(index_sets, str):
        return index_set_family(
            index_sets,  # type: ignore[arg-type]
            n_modes,
            tree=tree,
            max_size=max_size,
            n_random=n_random,
            seed=seed,
        )
    if index_sets is None or isinstance(index_sets, (bytes, int)):
        raise InvalidArgumentTypeError(
            f"index_sets must be a family name {FAMILIES} or an iterable of index sets; got "
            f"{index_sets!r}"
        )
    try:
        items = list(index_sets)
    except TypeError:
        raise InvalidArgumentTypeError(
            f"index_sets must be a family name or an iterable of index sets; got "
            f"{type(index_sets).__name__}"
        ) from None
    if not items:
        raise InvalidArgumentError("index_sets must not be empty")
    return tuple(
        check_index_set(I, n_modes, f"index_sets[{i}]", proper=True) for i, I in enumerate(items)
    )
