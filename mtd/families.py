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
    "canonical_side",
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
