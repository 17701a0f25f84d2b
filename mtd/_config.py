"""Library-wide settings: the memory limit under which mtd materializes dense tensors."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ._validation import check_int

__all__ = ["get_memory_limit", "set_memory_limit", "memory_limit", "check_allocation"]

_DEFAULT = 4 * 2**30
_limit: int = int(os.environ.get("MTD_MAX_BYTES", _DEFAULT))


def get_memory_limit() -> int:
    """Return the number of bytes above which mtd refuses to allocate a dense tensor.

    The default is 4 GiB, or the integer in the environment variable
    ``MTD_MAX_BYTES`` when mtd was imported.

    Examples
    --------
    >>> mtd.get_memory_limit() > 0
    True
    """
    return _limit


def set_memory_limit(nbytes: int) -> None:
    """Set the memory limit (in bytes) for dense tensors materialized by mtd.

    Parameters
    ----------
    nbytes : int
        A positive number of bytes.
    """
    global _limit
    _limit = check_int(nbytes, "nbytes", minimum=1)


@contextlib.contextmanager
def memory_limit(nbytes: int) -> Iterator[None]:
    """Context manager: temporarily use a different memory limit.

    Examples
    --------
    >>> with mtd.memory_limit(1024):
    ...     mtd.get_memory_limit()
    1024
    """
    old = get_memory_limit()
    set_memory_limit(nbytes)
    try:
        yield
    finally:
        set_memory_limit(old)


def check_allocation(
    shape: tuple[int, ...], itemsize: int, *, max_bytes: int | None, what: str
) -> int:
    """Raise :class:`TensorTooLargeError` if ``shape`` × ``itemsize`` exceeds the limit.

    The product stops as soon as it passes the limit (the size model, early exit), so a
    shape of millions of modes is refused in linear time.  Returns the byte count.
    """
    from ._sizes import check_bytes

    return check_bytes(shape, itemsize, max_bytes=max_bytes, what=what)
