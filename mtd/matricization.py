"""Matricization of tensors with respect to an index set of modes.

Convention
----------
The convention of the theory page, §1: for an order-``N`` tensor ``A`` and an index
set ``I`` of its modes, the matricization ``[[A]]_I`` has its **rows indexed by the
modes of I in ascending order** and its **columns by the remaining modes Iᶜ in
ascending order**; in both, the smallest mode is the most significant (row-major,
C order).  In numpy::

    A.transpose(sorted(I) + sorted(Ic)).reshape(prod(shape[I]), -1)

For a single mode ``I = {k}`` this is exactly ``tensorly.unfold(A, k)``.  Ranks do
not depend on the ordering, but matrices do, and users compare matrices, so mtd
keeps this one convention everywhere.  Modes count from 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ._typing import ArrayLike, Modes
from ._validation import check_index_set, check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError

__all__ = ["matricize", "unmatricize", "matricization_shape", "complement"]


def complement(I: Modes, n_modes: int) -> tuple[int, ...]:
    """Return the modes of ``0..n_modes-1`` not in ``I``, ascending.

    Parameters
    ----------
    I : iterable of int
        An index set of modes (validated: in range, no repeats).
    n_modes : int
        The order ``N`` of the tensor.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> mtd.complement([0, 2], 5)
    (1, 3, 4)
    """
    rows = check_index_set(I, n_modes, allow_empty=True)
    s = set(rows)
    return tuple(m for m in range(n_modes) if m not in s)


def matricization_shape(shape: tuple[int, ...], I: Modes) -> tuple[int, int]:
    """Return the shape of ``[[A]]_I`` for a tensor of the given shape, without data.

    Parameters
    ----------
    shape : tuple of int
        The tensor's shape ``(n_0, ..., n_{N-1})``.
    I : iterable of int
        The row modes.

    Returns
    -------
    (rows, cols) : tuple of int
        ``prod(n_i for i in I)`` and ``prod(n_j for j not in I)``.

    Examples
    --------
    >>> mtd.matricization_shape((2, 3, 4), [1])
    (3, 8)
    """
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
        raise InvalidArgumentTypeError(
            f"shape must be a tuple of ints; got {shape!r} of type {type(shape).__name__}"
        )
    shape = tuple(check_int(s, f"shape[{i}]", minimum=0) for i, s in enumerate(shape))
    rows = check_index_set(I, len(shape), allow_empty=True)
    row_set = set(rows)
    cols = [m for m in range(len(shape)) if m not in row_set]
    return math.prod(shape[m] for m in rows), math.prod(shape[m] for m in cols)


def _as_tensor(A: Any, name: str = "A") -> np.ndarray:
    if isinstance(A, (str, bytes)) or A is None:
        raise InvalidArgumentTypeError(f"{name} must be array_like; got {type(A).__name__}")
    try:
        arr = np.asarray(A)
    except ValueError as exc:  # ragged nested sequences
        raise InvalidArgumentError(
            f"{name} must be a rectangular array (every row the same length); got a ragged "
            f"{type(A).__name__} ({exc})"
        ) from None
    if arr.dtype == object and any(isinstance(x, (list, tuple, np.ndarray)) for x in arr.flat):
        raise InvalidArgumentError(
            f"{name} must be a rectangular array (every row the same length); got a ragged "
            f"{type(A).__name__}"
        )
    if arr.ndim == 0:
        raise InvalidArgumentError(f"{name} must have at least one mode; got a 0-d array")
    return arr


def matricize(A: ArrayLike, I: Modes) -> np.ndarray:
    """Return the matricization ``[[A]]_I`` (the theory page, §1 convention).

    Rows are indexed by the modes of ``I`` in ascending order, columns by the
    other modes in ascending order, smallest mode most significant in both.

    Parameters
    ----------
    A : (n_0, ..., n_{N-1}) array_like
        The tensor.  Any dtype, including ``object`` arrays of Python ints.
    I : iterable of int
        The row modes, each in ``0..N-1`` without repeats.  May be empty (one
        row) or all modes (one column).

    Returns
    -------
    ndarray of shape ``matricization_shape(A.shape, I)``
        A view where numpy can give one, else a copy.

    Raises
    ------
    InvalidIndexSetError
        If ``I`` has a mode out of range or repeats one.
    InvalidArgumentTypeError
        If ``I`` holds a non-integer.

    See Also
    --------
    unmatricize : the inverse.
    tensorly.base.unfold : the same matrix when ``I`` is a single mode.

    Examples
    --------
    >>> A = np.arange(8).reshape(2, 2, 2)
    >>> mtd.matricize(A, [1])
    array([[0, 1, 4, 5],
           [2, 3, 6, 7]])
    >>> mtd.matricize(A, [0, 2]).shape
    (4, 2)
    """
    arr = _as_tensor(A)
    rows = check_index_set(I, arr.ndim, allow_empty=True)
    rs = set(rows)
    cols = tuple(m for m in range(arr.ndim) if m not in rs)
    n_rows = math.prod(arr.shape[m] for m in rows)
    return arr.transpose(rows + cols).reshape(n_rows, -1)


def unmatricize(matrix: ArrayLike, I: Modes, shape: tuple[int, ...]) -> np.ndarray:
    """Fold a matricization back into a tensor: the inverse of :func:`matricize`.

    Parameters
    ----------
    matrix : (rows, cols) array_like
        A matrix laid out as ``matricize(A, I)`` would lay it out.
    I : iterable of int
        The row modes used to produce ``matrix``.
    shape : tuple of int
        The shape of the tensor to recover.

    Returns
    -------
    ndarray of the given shape
        ``unmatricize(matricize(A, I), I, A.shape)`` equals ``A``.

    Raises
    ------
    InvalidArgumentError
        If ``matrix`` does not have shape ``matricization_shape(shape, I)``.

    Examples
    --------
    >>> A = np.arange(24).reshape(2, 3, 4)
    >>> bool((mtd.unmatricize(mtd.matricize(A, [0, 2]), [0, 2], A.shape) == A).all())
    True
    """
    mat = np.asarray(matrix)
    shape = tuple(int(s) for s in shape)
    expected = matricization_shape(shape, I)
    if mat.shape != expected:
        raise InvalidArgumentError(
            f"matrix must have shape {expected} to fold into a tensor of shape {shape} "
            f"with row modes {sorted(I)}; got {mat.shape}"
        )
    rows = check_index_set(I, len(shape), allow_empty=True)
    rs = set(rows)
    cols = tuple(m for m in range(len(shape)) if m not in rs)
    perm = rows + cols
    t = mat.reshape(tuple(shape[m] for m in perm))
    return t.transpose(np.argsort(perm))
