"""Helpers shared by the network front ends: validation, weights, costs.

Arithmetic
----------
Networks evaluate in the engine's arithmetics (:mod:`mtd.decompositions._arith`;
``Arith``, ``make_arith`` and ``g_apply`` here are the engine's, re-exported):

* ``"float"`` — ``float64``.
* ``"exact"`` — integer weights and inputs only.  A bound on every number the
  evaluation forms (the same network run on absolute values) decides the dtype:
  ``int64`` when the bound is below ``2**63`` (no overflow is possible), otherwise
  ``object`` arrays of Python ints.  Either way the result is exact.
* ``"modular"`` — residues modulo a prime ``p < 2**31`` stored as ``int64``
  (products of two residues fit); matrix products split one factor into 16-bit
  limbs so that no partial sum overflows.  Only ``g = "product"`` is polynomial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._sizes import check_bytes
from .._validation import _is_int, check_int
from ..decompositions import G_FUNCTIONS
from ..decompositions._arith import Arith, g_apply
from ..decompositions._arith import arith_for_bound as make_arith
from ..decompositions._plan import g_bound
from ..decompositions._weights import as_real_array
from ..errors import InvalidArgumentError, InvalidArgumentTypeError

__all__ = [
    "Arith",
    "OperationCount",
    "as_input",
    "as_weight",
    "check_arithmetic",
    "check_channels",
    "check_g",
    "check_output_index",
    "check_kind",
    "g_apply",
    "g_bound",
    "grid_by_points",
    "plan_grid_tensor",
    "make_arith",
    "random_weight",
    "row_bound",
]

KINDS = ("gaussian", "integer")
ARITHMETICS = ("float", "exact", "modular")
_INT64_MAX = 2**63 - 1


# ----------------------------------------------------------------------------- checks
def check_g(g: Any) -> str:
    """Return ``g`` if it names a generalized product, else raise listing the names."""
    if not isinstance(g, str) or g not in G_FUNCTIONS:
        raise InvalidArgumentError(f"g must be one of {sorted(G_FUNCTIONS)}; got {g!r}")
    return g


def check_kind(kind: Any) -> str:
    """Return ``kind`` if it names a kind of random weights, else raise."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidArgumentError(f"kind must be one of {KINDS}; got {kind!r}")
    return kind


def check_arithmetic(arithmetic: Any, *, integer: bool, g: str = "product") -> str:
    """Resolve ``arithmetic`` (``None``: exact for integer data, else float) and check it."""
    if arithmetic is None:
        return "exact" if integer else "float"
    if not isinstance(arithmetic, str) or arithmetic not in ARITHMETICS:
        raise InvalidArgumentError(f"arithmetic must be one of {ARITHMETICS}; got {arithmetic!r}")
    if arithmetic != "float" and not integer:
        raise InvalidArgumentError(
            f"arithmetic={arithmetic!r} needs integer weights and inputs (kind='integer'); "
            f"got floating-point data"
        )
    if arithmetic == "modular" and g != "product":
        raise InvalidArgumentError(
            f"arithmetic='modular' needs g = 'product' (the only polynomial g); got g = {g!r}"
        )
    return arithmetic


def check_channels(channels: Any, length: int | None, name: str = "channels") -> tuple[int, ...]:
    """A tuple of positive ints, of the given length when ``length`` is not None."""
    if isinstance(channels, (str, bytes)) or _is_int(channels):
        raise InvalidArgumentTypeError(
            f"{name} must be a sequence of ints (channels per layer); got {channels!r}"
        )
    try:
        items = list(channels)
    except TypeError:
        raise InvalidArgumentTypeError(
            f"{name} must be a sequence of ints (channels per layer); got {type(channels).__name__}"
        ) from None
    out = tuple(check_int(c, f"{name}[{i}]", minimum=1) for i, c in enumerate(items))
    if length is not None and len(out) != length:
        raise InvalidArgumentError(f"{name} must have {length} entries; got {len(out)}: {out}")
    return out


def _as_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidArgumentTypeError(f"{name} must be a numeric array; got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentTypeError(f"{name} must be a numeric array; got {x!r}") from exc
    if arr.dtype == object:
        flat = arr.ravel().tolist()
        if flat and all(_is_int(v) for v in flat):
            return arr  # Python ints (exact), possibly beyond int64
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentTypeError(f"{name} must hold real numbers; got {x!r}") from exc
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise InvalidArgumentTypeError(
            f"{name} must hold real numbers (integer or float); got dtype {arr.dtype}"
        )
    return arr


def as_weight(x: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A read-only ``int64`` (integer input) or ``float64`` copy of a weight array.

    The engine's :func:`~mtd.decompositions._weights.as_real_array`, plus a shape check.
    """
    arr = as_real_array(x, name)
    if shape is not None and arr.shape != shape:
        raise InvalidArgumentError(f"{name} must have shape {shape}; got {arr.shape}")
    return arr


def as_input(x: Any, name: str = "x") -> np.ndarray:
    """A real input array: integers are kept (exact evaluation), floats as ``float64``."""
    arr = _as_array(x, name)
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float64, copy=False)
        if not np.all(np.isfinite(arr)):
            raise InvalidArgumentError(f"{name} must be finite; got inf or nan")
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64, copy=False)
    return arr


def is_int_array(a: np.ndarray) -> bool:
    """Whether ``a`` holds integers (an integer dtype, or Python ints in an object array)."""
    return a.dtype.kind in "iu" or a.dtype == object


def random_weight(
    rng: np.random.Generator, shape: tuple[int, ...], kind: str, max_weight: int, fan_in: int
) -> np.ndarray:
    """Integers in ``-max_weight..max_weight``, or Gaussians with variance ``1/fan_in``."""
    arr: np.ndarray
    check_bytes(shape, 8, what="a random weight array")
    if kind == "integer":
        arr = rng.integers(-max_weight, max_weight + 1, size=shape, dtype=np.int64)
    else:
        arr = rng.standard_normal(shape) / math.sqrt(max(fan_in, 1))
    arr.setflags(write=False)
    return arr


def row_bound(w: np.ndarray) -> int:
    """``max_γ Σ_α |w[..., γ, α]|`` as a Python int (integer weights)."""
    if w.size == 0:
        return 0
    flat = np.abs(w.astype(object)).reshape(-1, w.shape[-1])
    return int(max(sum(row) for row in flat.tolist()))


def max_abs(a: np.ndarray) -> int:
    """The largest absolute entry of an integer array, as a Python int."""
    return int(max((abs(int(v)) for v in a.ravel().tolist()), default=0))


# ----------------------------------------------------------------------------- costs
@dataclass(frozen=True)
class OperationCount:
    """Arithmetic operations of a network evaluation.

    Attributes
    ----------
    macs : int
        Multiply-accumulates of the linear maps (a ``(m, n)`` matrix applied to a
        vector costs ``m·n``).
    nonlinear : int
        Evaluations of the two-argument ``g`` (a product of ``k`` factors costs
        ``k - 1``); channel swaps and copies are wiring and cost nothing.
    """

    macs: int
    nonlinear: int

    @property
    def total(self) -> int:
        """``macs + nonlinear``."""
        return self.macs + self.nonlinear

    def __add__(self, other: OperationCount) -> OperationCount:
        return OperationCount(self.macs + other.macs, self.nonlinear + other.nonlinear)

    def __str__(self) -> str:
        return f"{self.macs:,} multiply-accumulates + {self.nonlinear:,} g evaluations"


# ------------------------------------------------------------------ grids by points
_CHUNK_BYTES = 32 * 2**20
"""Working memory per chunk of grid points (inputs and intermediate activations)."""


def check_output_index(output: Any, n_outputs: int) -> list[int]:
    """Rows to evaluate: ``[output]``, or every output for ``None``."""
    if output is None:
        return list(range(n_outputs))
    if not _is_int(output):
        raise InvalidArgumentTypeError(f"output must be an int or None; got {output!r}")
    if not 0 <= int(output) < n_outputs:
        raise InvalidArgumentError(
            f"output must be in 0..{n_outputs - 1} (the network has {n_outputs} outputs); "
            f"got {output}"
        )
    return [int(output)]


def plan_grid_tensor(
    plan: Any,
    output: Any,
    *,
    arithmetic: str,
    prime: Any = None,
    max_bytes: int | None = None,
) -> np.ndarray:
    """Every network's grid tensor by the engine: the dense evaluator of its plan.

    The result (shape ``(M,) * N``, or ``(n_outputs,) + (M,) * N`` for ``output=None``)
    is checked against the memory limit first, as "grid tensor"; then every
    intermediate by the evaluator.  ``prime`` is passed on as given (the engine refuses
    a prime without ``arithmetic="modular"``).
    """
    from .._config import check_allocation
    from ..decompositions._dense import dense_tensor

    rows = check_output_index(output, plan.n_outputs)
    full = plan.shape if output is not None else (len(rows), *plan.shape)
    check_allocation(full, 8, max_bytes=max_bytes, what="grid tensor")
    return dense_tensor(plan, output, arithmetic=arithmetic, prime=prime, max_bytes=max_bytes)


def grid_by_points(
    evaluate: Any,
    M: int,
    N: int,
    n_rows: int,
    dtype: Any,
    *,
    max_bytes: int | None,
    bytes_per_point: int,
    single: bool,
) -> np.ndarray:
    """A grid tensor filled chunk by chunk from ``evaluate(idx) -> (B, n_rows)``.

    ``idx`` is a ``(B, N)`` int64 array of index tuples in C order.  The result (shape
    ``(M,) * N``, or ``(n_rows,) + (M,) * N`` unless ``single``) is checked against
    the memory limit before it is allocated; each chunk uses about 32 MiB.
    """
    from .._config import check_allocation

    shape = (M,) * N
    full = shape if single else (n_rows, *shape)
    check_allocation(full, np.dtype(dtype).itemsize, max_bytes=max_bytes, what="grid tensor")
    total = M**N
    out = np.empty((n_rows, total), dtype=dtype)
    chunk = max(1, _CHUNK_BYTES // max(1, bytes_per_point))
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        idx = np.stack(np.unravel_index(np.arange(start, stop, dtype=np.int64), shape), axis=1)
        out[:, start:stop] = np.asarray(evaluate(idx)).T
    return out.reshape(full)
