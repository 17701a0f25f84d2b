"""Grid tensors of functions of N vector inputs.

For a function ``f`` of ``N`` inputs and ``M`` *discretizers* (templates)
``v⁽⁰⁾ … v⁽ᴹ⁻¹⁾ ∈ Rʳ``, the grid tensor (the theory page, §1) is the order-``N`` tensor

    A[d₀, …, d_{N-1}] = f(v⁽ᵈ⁰⁾, …, v⁽ᵈᴺ⁻¹⁾).

Mode ``j`` is input ``j`` of ``f`` (for a causal network: input ``x[t-N+1+j]``, so
mode 0 is the oldest sample).  ``A`` is stored in C order.  It has ``M^N``
entries, so :func:`grid_tensor` checks the size against the memory limit
(:func:`mtd.get_memory_limit`) *before* allocating and evaluates ``f`` in
vectorized chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._config import check_allocation
from ._typing import ArrayLike
from ._validation import check_bool, check_int
from .errors import InvalidArgumentError, InvalidArgumentTypeError

__all__ = ["grid_tensor"]

_CHUNK_BYTES = 32 * 2**20


def grid_tensor(
    f: Callable[..., Any],
    discretizers: ArrayLike,
    n_modes: int,
    *,
    max_bytes: int | None = None,
    vectorized: bool = True,
    chunk_size: int | None = None,
) -> np.ndarray:
    """Evaluate ``f`` on every combination of discretizers: the grid tensor.

    Parameters
    ----------
    f : callable
        With ``vectorized=True`` (default), ``f(X)`` takes an array ``X`` of shape
        ``(batch, n_modes, r)`` — row ``X[b, j]`` is the ``j``-th input of the
        ``b``-th evaluation — and returns an array of shape ``(batch,)`` or
        ``(batch, *out_shape)``.  With ``vectorized=False``, ``f(v_0, …, v_{N-1})``
        takes ``N`` vectors of length ``r`` and returns a scalar or array of shape
        ``out_shape``; it is then called once per grid point (slow, but any
        callable works).
    discretizers : (M, r) array_like
        Row ``i`` is the discretizer ``v⁽ⁱ⁾``.  A 1-d array of length ``M`` is
        read as ``M`` scalar discretizers (``r = 1``).
    n_modes : int
        The number ``N`` of inputs of ``f`` (the order of the grid tensor).
    max_bytes : int, optional
        Refuse to build a tensor larger than this many bytes; default: the
        library-wide limit (:func:`mtd.get_memory_limit`, 4 GiB unless changed).
    vectorized : bool, default True
        How ``f`` is called (see ``f``).
    chunk_size : int, optional
        Grid points per call of a vectorized ``f``; default: as many as fit in
        about 32 MiB of inputs.

    Returns
    -------
    A : ndarray of shape ``(M,) * n_modes + out_shape``
        The dtype is the one ``f`` returns (e.g. ``object`` for exact Python ints).

    Raises
    ------
    TensorTooLargeError
        If the tensor would exceed the memory limit; raised before it is allocated
        (``f`` is evaluated on at most one chunk first, to learn its output dtype).
    InvalidArgumentError
        If ``discretizers`` is not 1-d or 2-d or is empty, or ``f`` returns a batch
        of the wrong length.

    Examples
    --------
    The product of the first coordinates of the inputs, on two scalar templates:

    >>> V = np.array([[1.0], [2.0]])
    >>> A = mtd.grid_tensor(lambda X: X[:, :, 0].prod(axis=1), V, 3)
    >>> A.shape, float(A[1, 1, 0]), float(A[1, 1, 1])
    ((2, 2, 2), 4.0, 8.0)
    """
    if not callable(f):
        raise InvalidArgumentTypeError(f"f must be callable; got {type(f).__name__}")
    V = np.asarray(discretizers)
    if V.ndim == 1:
        V = V[:, None]
    if V.ndim != 2 or V.shape[0] == 0 or V.shape[1] == 0:
        raise InvalidArgumentError(
            f"discretizers must be a non-empty (M, r) array (row i is v^(i)); got shape {V.shape}"
        )
    N = check_int(n_modes, "n_modes", minimum=1)
    M, r = V.shape
    grid_shape = (M,) * N
    # Refuse hopeless sizes before calling f at all (at least one byte per entry).
    check_allocation(grid_shape, 1, max_bytes=max_bytes, what="grid tensor")
    total = M**N
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_BYTES // max(1, N * r * V.itemsize))
    chunk = check_int(chunk_size, "chunk_size", minimum=1)
    if not check_bool(vectorized, "vectorized"):
        return _grid_scalar(f, V, N, grid_shape, max_bytes)

    out: np.ndarray | None = None
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        idx = np.unravel_index(np.arange(start, stop, dtype=np.int64), grid_shape)
        X = V[np.stack(idx, axis=1)]  # (batch, N, r)
        vals = np.asarray(f(X))
        if vals.ndim == 0 or vals.shape[0] != stop - start:
            raise InvalidArgumentError(
                f"a vectorized f must return one value per grid point: an array of shape "
                f"({stop - start}, ...) for X of shape {X.shape}; got shape {vals.shape}"
            )
        if out is None:
            shape = grid_shape + vals.shape[1:]
            check_allocation(shape, vals.dtype.itemsize, max_bytes=max_bytes, what="grid tensor")
            out = np.empty(shape, dtype=vals.dtype)
            flat = out.reshape(total, -1) if vals.ndim > 1 else out.reshape(total)
        flat[start:stop] = vals.reshape(stop - start, -1) if vals.ndim > 1 else vals
    assert out is not None
    return out


def _grid_scalar(
    f: Callable[..., Any],
    V: np.ndarray,
    N: int,
    grid_shape: tuple[int, ...],
    max_bytes: int | None,
) -> np.ndarray:
    first = np.asarray(f(*([V[0]] * N)))
    shape = grid_shape + first.shape
    check_allocation(shape, first.dtype.itemsize, max_bytes=max_bytes, what="grid tensor")
    out = np.empty(shape, dtype=first.dtype)
    for index in np.ndindex(*grid_shape):
        out[index] = f(*(V[d] for d in index))
    return out
