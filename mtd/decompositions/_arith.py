"""Arithmetics the evaluators run in: float64, exact integers, and integers modulo a prime.

* ``"float"`` — ``float64`` throughout, BLAS matrix products.
* ``"exact"`` — integer weights and discretizers only.  The evaluator first bounds
  every number the evaluation can form (:func:`mtd.decompositions._plan.plan_bound`,
  the same network run on absolute values) and uses ``int64`` when the bound is below
  ``2**63``, which proves that no overflow occurs; otherwise it uses ``object``
  arrays of Python ints (exact at any size, much slower).  Either way the result is
  the exact integer tensor.
* ``"modular"`` — residues in ``[0, p)`` stored as ``int64`` with a prime
  ``p < 2**31``, so the product of two residues (``< 2**62``) fits.  Matrix products
  split one factor into 16-bit limbs so that every partial sum stays below ``2**63``.
  Only ``g = "product"`` is a polynomial map, so only it has a modular evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._modular import is_prime
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ..ranks import DEFAULT_PRIME as _RANKS_DEFAULT_PRIME
from ._plan import Plan

__all__ = ["ARITHMETICS", "DEFAULT_PRIME", "Arith", "arith_for_bound", "g_apply", "make_arith"]

ARITHMETICS = ("float", "exact", "modular")
# One prime for the whole library: modular evaluation here and modular ranks in
# mtd.ranks must agree, so that a tensor evaluated mod p has its rank taken mod p.
DEFAULT_PRIME = _RANKS_DEFAULT_PRIME
"""The default prime for modular evaluation: :data:`mtd.ranks.DEFAULT_PRIME` (``2**31 - 1``)."""

_INT64_MAX = 2**63 - 1
_LIMB = 16

GOp = Callable[..., np.ndarray]


def check_prime(prime: Any) -> int:
    """Validate a prime for modular evaluation (``None`` gives :data:`DEFAULT_PRIME`)."""
    if prime is None:
        return DEFAULT_PRIME
    if isinstance(prime, bool) or not isinstance(prime, (int, np.integer)):
        raise InvalidArgumentTypeError(f"prime must be an int; got {prime!r}")
    p = int(prime)
    if not 2 <= p < 2**31 or not is_prime(p):
        raise InvalidArgumentError(
            f"prime must be a prime below 2**31 (so residue products fit in int64); got {p}"
        )
    return p


class Arith:
    """One arithmetic: conversions, matrix products and the generalized products ``g``."""

    def __init__(self, kind: str, dtype: Any, prime: int | None = None, *, bound: int = 0):
        self.kind = kind
        self.dtype = np.dtype(dtype)
        self.prime = prime
        self.bound = int(bound)

    @property
    def itemsize(self) -> int:
        """Bytes per entry used for memory-limit checks.

        For ``object`` arrays of Python ints: the pointer, the int object for numbers up to
        ``bound`` and the temporaries of evaluation (the size model's measured estimate).
        """
        if self.dtype == object:
            from .._sizes import object_int_bytes

            return object_int_bytes(self.bound.bit_length())
        return self.dtype.itemsize

    def convert(self, a: np.ndarray) -> np.ndarray:
        """An array in this arithmetic's dtype (residues for modular; Python ints kept exact)."""
        if self.kind == "modular":
            assert self.prime is not None
            if a.dtype == object:
                flat = [int(v) % self.prime for v in a.ravel().tolist()]
                return np.array(flat, dtype=np.int64).reshape(a.shape)
            return np.mod(a.astype(np.int64), self.prime)
        if self.kind == "exact" and self.dtype == object:
            return np.asarray(a.astype(object), dtype=object)
        return np.asarray(a, dtype=self.dtype)

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The elementwise product (broadcasting; reduced for modular)."""
        return self.reduce(np.multiply(a, b))

    def sum(self, a: np.ndarray, axis: Any) -> np.ndarray:
        """The sum over ``axis`` (residues below ``2**31``: int64 holds their sums)."""
        out = np.asarray(a.sum(axis=axis))
        return self.reduce(out) if self.kind == "modular" else out

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        """An uninitialized array (zeros for ``object``, which has no garbage values)."""
        if self.dtype == object:
            return np.zeros(shape, dtype=object)
        return np.empty(shape, dtype=self.dtype)

    def reduce(self, x: np.ndarray) -> np.ndarray:
        """Reduce in place modulo the prime (a no-op for the other arithmetics)."""
        if self.kind == "modular":
            assert self.prime is not None
            np.remainder(x, self.prime, out=x)
        return x

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a @ b`` (2-d), written into ``out`` when given."""
        if self.kind != "modular":
            if out is None:
                return np.matmul(a, b)
            return np.matmul(a, b, out=out)
        p = self.prime
        assert p is not None
        k = a.shape[-1]
        if k * (p - 1) ** 2 <= _INT64_MAX:
            res = np.matmul(a, b)
        elif k >= 2 ** (63 - 31 - _LIMB):
            # Limb products need a shorter inner dimension: sum chunks of it mod p.
            step = 2 ** (63 - 31 - _LIMB) - 1
            res = np.zeros((a.shape[0], b.shape[1]), np.int64)
            for s in range(0, k, step):
                res += self.matmul(a[:, s : s + step], b[s : s + step])
                res %= p
        else:
            lo = np.bitwise_and(b, (1 << _LIMB) - 1)
            hi = np.right_shift(b, _LIMB)
            res = np.matmul(a, hi)
            res %= p
            res <<= _LIMB
            res += np.matmul(a, lo) % p
        if out is None:
            return np.remainder(res, p, out=res)
        return np.remainder(res, p, out=out)

    def add(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a + b`` (reduced for modular)."""
        res = np.add(a, b, out=out)
        return self.reduce(res)

    def g_op(self, g: str) -> GOp:
        """The generalized product ``g(a, b)`` with broadcasting, as ``op(a, b, out=None)``."""
        if g == "product":

            def product(a: Any, b: Any, out: np.ndarray | None = None) -> np.ndarray:
                return self.reduce(np.multiply(a, b, out=out))

            return product
        if self.kind == "modular":
            raise InvalidArgumentError(
                f"modular arithmetic needs g = 'product' (the only polynomial g); got {g!r}"
            )
        if g == "relu":

            def relu(a: Any, b: Any, out: np.ndarray | None = None) -> np.ndarray:
                res = np.add(a, b, out=out)
                return np.maximum(res, 0, out=res)

            return relu
        if g == "max":

            def gmax(a: Any, b: Any, out: np.ndarray | None = None) -> np.ndarray:
                res = np.maximum(a, b, out=out)
                return np.maximum(res, 0, out=res)

            return gmax
        assert g == "relu_sum"

        def relu_sum(a: Any, b: Any, out: np.ndarray | None = None) -> np.ndarray:
            return np.add(np.maximum(a, 0), np.maximum(b, 0), out=out)

        return relu_sum


def make_arith(arithmetic: Any, prime: Any, plan: Plan) -> Arith:
    """Validate ``arithmetic`` and ``prime`` for ``plan``; exact starts as ``int64``.

    The exact arithmetic's final dtype is chosen by the evaluator from the bound on
    the entries (see the module docstring), with :func:`exact_dtype`.
    """
    if arithmetic not in ARITHMETICS:
        raise InvalidArgumentError(f"arithmetic must be one of {ARITHMETICS}; got {arithmetic!r}")
    if arithmetic == "float":
        if prime is not None:
            raise InvalidArgumentError("prime is only used with arithmetic='modular'")
        return Arith("float", np.float64)
    if not plan.is_integer():
        raise InvalidArgumentError(
            f"arithmetic={arithmetic!r} needs integer weights and discretizers (e.g. "
            f"kind='integer'); this decomposition holds floating-point numbers"
        )
    if arithmetic == "exact":
        if prime is not None:
            raise InvalidArgumentError("prime is only used with arithmetic='modular'")
        return Arith("exact", np.int64)
    if plan.g != "product":
        raise InvalidArgumentError(
            f"arithmetic='modular' needs g = 'product' (the only polynomial g); got {plan.g!r}"
        )
    return Arith("modular", np.int64, check_prime(prime))


def arith_for_bound(arithmetic: str, *, bound: int | None = None, prime: Any = None) -> Arith:
    """The arithmetic of a network evaluation.

    ``bound`` (on every number the evaluation forms) picks the exact dtype
    (:func:`exact_dtype`).
    """
    if arithmetic == "float":
        return Arith("float", np.float64)
    if arithmetic == "exact":
        assert bound is not None
        return Arith("exact", exact_dtype(bound))
    return Arith("modular", np.int64, check_prime(prime))


_PLAIN = Arith("float", np.float64)


def g_apply(g: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The generalized product ``g(a, b)`` elementwise, in float or exact arithmetic."""
    return _PLAIN.g_op(g)(a, b)


def exact_dtype(bound: int) -> Any:
    """``int64`` if no number exceeds ``bound <= 2**63 - 1`` in absolute value, else object."""
    return np.int64 if bound <= _INT64_MAX else object
