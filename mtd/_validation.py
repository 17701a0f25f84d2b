"""Validation helpers used at mtd's public boundary (argument names passed explicitly)."""

from __future__ import annotations

import collections
import math
import numbers
from typing import Any

import numpy as np

from .errors import InvalidArgumentError, InvalidArgumentTypeError, InvalidIndexSetError

__all__: list[str] = []


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the rule."""
    if not _is_int(value):
        raise InvalidArgumentTypeError(
            f"{name} must be an int; got {value!r} of type {type(value).__name__}"
        )
    v = int(value)
    if minimum is not None and v < minimum:
        raise InvalidArgumentError(f"{name} must be >= {minimum}; got {v}")
    return v


def check_index_set(
    modes: Any, n_modes: int, name: str = "I", *, allow_empty: bool = False, proper: bool = False
) -> tuple[int, ...]:
    """Validate an index set of modes of an order-``n_modes`` tensor.

    Returns the modes sorted ascending.  Raises :class:`InvalidIndexSetError`
    (a ``ValueError``) on out-of-range or repeated modes, an empty set where one is
    not allowed, or (with ``proper=True``) the set of all modes;
    :class:`InvalidArgumentTypeError` on non-integers.
    """
    if isinstance(modes, (str, bytes)) or _is_int(modes):
        raise InvalidArgumentTypeError(f"{name} must be an iterable of int modes; got {modes!r}")
    try:
        items = list(modes)
    except TypeError:
        raise InvalidArgumentTypeError(
            f"{name} must be an iterable of int modes; got {type(modes).__name__}"
        ) from None
    bad = [m for m in items if not _is_int(m)]
    if bad:
        raise InvalidArgumentTypeError(
            f"{name} must contain only int modes; got {bad[0]!r} of type {type(bad[0]).__name__}"
        )
    ints = [int(m) for m in items]
    out = [m for m in ints if not 0 <= m < n_modes]
    if out:
        raise InvalidIndexSetError(
            f"{name} must contain modes in 0..{n_modes - 1} (the tensor has {n_modes} modes); "
            f"got {sorted(set(out))}"
        )
    if len(set(ints)) != len(ints):
        counts = collections.Counter(ints)
        dup = sorted(m for m, c in counts.items() if c > 1)[:10]
        raise InvalidIndexSetError(f"{name} must not repeat a mode; got {dup} more than once")
    if not ints and not allow_empty:
        raise InvalidIndexSetError(f"{name} must not be empty")
    if proper and len(ints) == n_modes:
        raise InvalidIndexSetError(
            f"{name} must be a proper subset of the {n_modes} modes "
            f"(its complement must not be empty)"
        )
    return tuple(sorted(ints))


def check_rtol(rtol: Any, name: str = "rtol") -> float | None:
    """``None`` or a finite real number >= 0 (a tolerance)."""
    if rtol is None:
        return None
    if not isinstance(rtol, numbers.Real) or isinstance(rtol, (bool, np.bool_)):
        # a ValueError, as before (callers catch ValueError for every bad rtol)
        raise InvalidArgumentError(
            f"{name} must be a non-negative finite real number or None; got {rtol!r} of type "
            f"{type(rtol).__name__}"
        )
    if not (math.isfinite(float(rtol)) and float(rtol) >= 0):
        raise InvalidArgumentError(
            f"{name} must be a non-negative finite real number or None; got {rtol!r}"
        )
    return float(rtol)


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a bool (``numpy.bool_`` too), else raise naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentTypeError(
            f"{name} must be True or False; got {value!r} of type {type(value).__name__}"
        )
    return bool(value)


def as_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """A generator from ``seed``: None, an int >= 0, a Generator, BitGenerator or SeedSequence."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (np.random.BitGenerator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if not _is_int(seed):
        raise InvalidArgumentTypeError(
            f"{name} must be None, an int >= 0 or a numpy.random.Generator; got {seed!r} of "
            f"type {type(seed).__name__}"
        )
    if int(seed) < 0:
        raise InvalidArgumentError(f"{name} must be an int >= 0 (or None); got {int(seed)}")
    return np.random.default_rng(int(seed))


MAX_WEIGHT = 2**62


def check_max_weight(value: Any, name: str = "max_weight") -> int:
    """An int in ``1..2^62`` (random integer weights are drawn in int64)."""
    v = check_int(value, name, minimum=1)
    if v > MAX_WEIGHT:
        raise InvalidArgumentError(
            f"{name} must be at most 2^62 (weights are drawn as 64-bit ints); got {v}"
        )
    return v
