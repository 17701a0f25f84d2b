"""Random weights and discretizers for the ``random`` constructors.

Kinds (``kind=``):

* ``"gaussian"`` — weights ``N(0, 1/fan_in)`` (``fan_in`` = the number of summed
  coordinates), discretizers ``N(0, 1)``.
* ``"orthogonal"`` — every weight matrix (a transfer tensor flattened to
  ``(r_node, Π r_children)``) and the discretizer matrix has orthonormal rows or
  columns (whichever is fewer), from the QR factorization of a Gaussian matrix.
* ``"integer"`` — integers uniform in ``-max_weight..max_weight``; the discretizers
  are the ``r × r`` identity stacked on random integer rows when ``M >= r`` (so they
  span ``R^r`` and Theorem 7's hypothesis holds), random integer rows otherwise.
  Exact and modular arithmetic apply.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .._sizes import check_bytes
from .._validation import _is_int, check_int
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..trees import ModeTree, format_node

__all__ = [
    "KINDS",
    "check_kind",
    "gaussian_arrays",
    "gc_paused",
    "random_array",
    "random_discretizers",
    "size_function",
]

KINDS = ("gaussian", "orthogonal", "integer")


def check_kind(kind: Any) -> str:
    """Return ``kind`` if valid, else raise listing the valid kinds."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidArgumentError(f"kind must be one of {KINDS}; got {kind!r}")
    return kind


def random_array(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    kind: str,
    max_weight: int,
    *,
    checked: bool = False,
) -> np.ndarray:
    """A random weight array of ``shape`` (first axis: the node's channels).

    ``checked=True`` skips the memory check of this one array: for callers that
    checked every array they draw against the limit beforehand (``random``
    constructors, through :func:`mtd._sizes.check_shapes`).
    """
    if not checked:
        check_bytes(shape, 8, what="a random weight array")
    if kind == "integer":
        return rng.integers(-max_weight, max_weight + 1, size=shape, dtype=np.int64)
    rows = shape[0]
    cols = math.prod(shape[1:])
    if kind == "gaussian":
        return rng.standard_normal(shape) / math.sqrt(max(cols, 1))
    g = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(g)
    q = q * np.sign(np.diag(r))  # Haar-distributed
    mat = q if rows >= cols else q.T
    return np.ascontiguousarray(mat).reshape(shape)


def gaussian_arrays(
    rng: np.random.Generator, shapes: Sequence[tuple[int, ...]]
) -> list[np.ndarray]:
    """``[random_array(rng, s, "gaussian", …) for s in shapes]`` from one draw.

    The same numbers: ``standard_normal`` fills an array value by value from the bit
    generator, so one draw of the total is the concatenation of the per-array draws
    (tested against them).  One call instead of one per array, for huge trees; the
    caller has checked the total against the memory limit.
    """
    sizes = [math.prod(s) for s in shapes]
    flat = rng.standard_normal(sum(sizes))
    out = []
    start = 0
    for shape, n in zip(shapes, sizes, strict=True):
        block = flat[start : start + n].reshape(shape)
        out.append(block / math.sqrt(max(math.prod(shape[1:]), 1)))
        start += n
    return out


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (restored on exit).

    Building a decomposition of a huge tree makes some 10^5 arrays, tuples and steps,
    none of them in a reference cycle; the collector's passes over them, triggered by
    the allocations alone, took a quarter of ``TreeDecomposition.random`` on the
    baseline tree over 2^16 modes.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def random_discretizers(
    rng: np.random.Generator, M: int, r_in: int, kind: str, max_weight: int
) -> np.ndarray:
    """An ``(M, r_in)`` discretizer matrix of the given kind."""
    check_bytes((M, r_in), 8, what="the discretizers")
    if kind == "integer":
        if M >= r_in:
            extra = rng.integers(-max_weight, max_weight + 1, size=(M - r_in, r_in))
            return np.vstack([np.eye(r_in, dtype=np.int64), extra.astype(np.int64)])
        return rng.integers(-max_weight, max_weight + 1, size=(M, r_in), dtype=np.int64)
    if kind == "gaussian":
        return rng.standard_normal((M, r_in))
    return random_array(rng, (M, r_in), "orthogonal", max_weight)


def size_function(tree: ModeTree, r: Any, name: str = "r") -> Any:
    """``node -> size`` from ``r``: an int, or a mapping of nodes and/or depths to ints."""
    if _is_int(r):
        val = check_int(r, name, minimum=1)
        return lambda node: val
    if not isinstance(r, Mapping):
        raise InvalidArgumentTypeError(
            f"{name} must be an int or a mapping from nodes / depths to ints; got "
            f"{type(r).__name__}"
        )
    by_node: dict[frozenset[int], int] = {}
    by_depth: dict[int, int] = {}
    for key, val in r.items():
        v = check_int(val, f"{name}[{key!r}]", minimum=1)
        if _is_int(key):
            by_depth[int(key)] = v
        else:
            by_node[tree._node(key, f"{name} key")] = v

    def size(node: frozenset[int]) -> int:
        if node in by_node:
            return by_node[node]
        d = tree.depth(node)
        if d in by_depth:
            return by_depth[d]
        raise InvalidArgumentError(
            f"{name} gives no size for node {format_node(node)} (depth {d}); map every interior "
            f"node or its depth"
        )

    return size
