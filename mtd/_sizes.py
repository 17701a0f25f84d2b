"""The size model: bytes an allocation will take, estimated before anything is allocated.

Every site that allocates in proportion to a size the user chose (mode trees, weights,
discretizers, network layers, grid tensors, exact big-integer tensors) asks this module
first.  Products of dimensions are computed with early exit (or in logarithms), so that a
shape of millions of modes is refused in time linear in its length, never by forming a
huge Python integer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .errors import TensorTooLargeError

__all__: list[str] = []

#: Bytes per node of a :class:`mtd.ModeTree` in its compact form (arrays of ids, spans,
#: depths and the lookup table, with the temporaries of construction), measured with
#: tracemalloc on ``ModeTree.linear`` and ``ModeTree.baseline``.
TREE_NODE_BYTES = 160


def object_int_bytes(bits: int) -> int:
    """Bytes per entry of an ``object`` array of Python ints of up to ``bits`` bits.

    The 8-byte pointer plus the int object (28 bytes, and 4 more per further 30-bit digit),
    times 1.3 for the temporaries of evaluation.  Measured with tracemalloc on the exact
    evaluation of integer decompositions (``to_tensor(arithmetic="exact")`` of a baseline
    tree, 6561 entries): 137 bytes per entry at 558 bits (model: 140), 179 at 865 bits
    (model: 192); the former flat estimate of 36 bytes was 2.85 times too low.
    """
    per = 8 + 28 + 4 * max(0, -(-int(bits) // 30) - 1)
    return -(-13 * per // 10)


def limit_of(max_bytes: int | None) -> int:
    """The limit in force: ``max_bytes`` (validated) or the library-wide memory limit."""
    from ._config import get_memory_limit
    from ._validation import check_int

    if max_bytes is None:
        return get_memory_limit()
    return check_int(max_bytes, "max_bytes", minimum=1)


def _describe(shape: tuple[int, ...]) -> str:
    if len(shape) <= 8:
        return "×".join(str(s) for s in shape)
    if len(set(shape)) == 1:
        return f"{shape[0]}^{len(shape)}"
    return f"{len(shape)} modes"


def product_capped(dims: Iterable[int], cap: int) -> int | None:
    """The product of ``dims``, or ``None`` as soon as it exceeds ``cap`` (dims >= 0)."""
    dims = [int(d) for d in dims]
    if 0 in dims:
        return 0
    n = 1
    for d in dims:
        n *= d
        if n > cap:
            return None
    return n


def check_bytes(
    shape: Iterable[int], itemsize: int, *, max_bytes: int | None = None, what: str
) -> int:
    """Raise :class:`TensorTooLargeError` if ``prod(shape) * itemsize`` is over the limit.

    Early exit: the running product stops as soon as it passes the limit, so the check
    costs time linear in ``len(shape)`` whatever the sizes.  Returns the byte count.
    """
    shape = tuple(int(s) for s in shape)
    limit = limit_of(max_bytes)
    itemsize = max(int(itemsize), 1)
    n = product_capped(shape, limit // itemsize + 1)
    if n is not None and n * itemsize <= limit:
        return n * itemsize
    log10 = sum(math.log10(s) for s in shape) + math.log10(itemsize)
    raise TensorTooLargeError(
        f"{what} of shape {_describe(shape)} with {itemsize}-byte entries needs about "
        f"10^{log10:.1f} bytes, over the memory limit of {limit:,} bytes (max_bytes / "
        f"mtd.set_memory_limit); refusing to allocate it"
    )


def check_log2(
    log2_count: float, itemsize: int, *, what: str, max_bytes: int | None = None
) -> None:
    """Refuse ``2^log2_count`` items of ``itemsize`` bytes over the limit (no big ints formed)."""
    limit = limit_of(max_bytes)
    log2_bytes = log2_count + math.log2(max(int(itemsize), 1))
    if log2_bytes > math.log2(limit):
        raise TensorTooLargeError(
            f"{what} needs about 2^{log2_bytes:.1f} bytes, over the memory limit of "
            f"{limit:,} bytes (max_bytes / mtd.set_memory_limit); refusing to build it"
        )


def check_tree_nodes(count: int, *, what: str) -> None:
    """Refuse a mode tree of ``count`` nodes whose compact form would pass the limit."""
    limit = limit_of(None)
    if count * TREE_NODE_BYTES > limit:
        raise TensorTooLargeError(
            f"{what} has {count:,} nodes, needing about {count * TREE_NODE_BYTES:,} bytes at "
            f"{TREE_NODE_BYTES} bytes per node, over the memory limit of {limit:,} bytes "
            f"(mtd.set_memory_limit); refusing to build it"
        )


def check_shapes(
    shapes: Iterable[tuple[int, ...]], itemsize: int, *, what: str, max_bytes: int | None = None
) -> int:
    """Refuse arrays of these ``shapes`` whose total passes the limit (early exit)."""
    limit = limit_of(max_bytes)
    most = limit // max(int(itemsize), 1)  # the most entries that fit within the limit
    total = 0
    count = 0
    for shape in shapes:
        count += 1
        n = product_capped(shape, most + 1)
        total = most + 1 if n is None else total + n
        if total > most:
            raise TensorTooLargeError(
                f"{what} need more than {limit:,} bytes (the memory limit; max_bytes / "
                f"mtd.set_memory_limit) with {itemsize}-byte entries, already at array "
                f"{count} of shape {_describe(tuple(int(s) for s in shape))}; refusing to "
                f"allocate them"
            )
    return total * int(itemsize)
