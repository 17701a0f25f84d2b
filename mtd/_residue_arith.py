"""Private: residue arithmetic for probe matrices, ``int64`` or float64 balanced.

:class:`_IntResidues` keeps ``int64`` residues in ``[0, p)`` for any prime below
``2**31`` (products ``< 2**62``, limbs where a matrix product could overflow:
:func:`mtd._probes.mm`); :class:`_FloatResidues` keeps float64 *balanced* residues
(``|x| <= p/2 + 2``) for primes below :data:`mtd._elimination.MAX_PRIME`, with
:class:`mtd._elimination._Field`'s exact products and reductions, in place where a
block allows (per-thread scratch arrays: blocks are formed on several threads).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ._elimination import _EXACT, MAX_PRIME, _Field
from ._probes import _mul, mm

__all__: list[str] = []


class _IntResidues:
    """``int64`` residues in ``[0, p)``, for any prime below ``2**31``."""

    dtype: Any = np.int64

    def __init__(self, p: int):
        self.p = p

    def convert(self, a: np.ndarray) -> np.ndarray:
        """The arithmetic's form of ``int64`` residues in ``[0, p)``."""
        return a

    def residues(self, x: np.ndarray) -> np.ndarray:
        """``int64`` residues in ``[0, p)`` of values in this arithmetic's form."""
        return x

    def mul(self, a: Any, b: Any) -> np.ndarray:
        return _mul(a, b, self.p)

    def imul(self, a: np.ndarray, b: Any) -> np.ndarray:
        """``a * b`` in place in ``a`` (broadcast to its shape), returned."""
        a *= b
        a %= self.p
        return a

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = a + b
        out %= self.p
        return out

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return mm(a, b, self.p)

    def combine(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``Σ_α w[α] x[α]`` over the first axis of ``x``."""
        return mm(w[None, :], x.reshape(len(w), -1), self.p).reshape(x.shape[1:])

    # in-place forms for the blocks (no temporaries where the arithmetic allows)
    def matmul_into(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """``out[...] = a @ b`` (reduced)."""
        out[...] = self.matmul(a, b)

    def combine_into(self, w: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
        """``out[...] = Σ_α w[α] x[α]`` (reduced)."""
        out[...] = self.combine(w, x)

    def imul_into(self, a: np.ndarray, b: Any) -> None:
        """``a *= b`` (reduced)."""
        self.imul(a, b)


class _FloatResidues(_IntResidues):
    """Balanced float64 residues, ``|x| <= p/2 + 2``, for primes below ``MAX_PRIME``.

    Reductions and matrix products are :class:`mtd._elimination._Field`'s; a product of
    two reduced residues is below ``2**51``, so elementwise products are exact.
    """

    dtype: Any = np.float64

    def __init__(self, p: int):
        super().__init__(p)
        self.F = _Field(p)
        self._local = threading.local()
        """Per thread (blocks are formed on several): scratch arrays by shape."""

    def convert(self, a: np.ndarray) -> np.ndarray:
        return self.F.balanced(a)

    def residues(self, x: np.ndarray) -> np.ndarray:
        out = x.astype(np.int64)
        out += (out < 0) * self.p
        return out

    def mul(self, a: Any, b: Any) -> np.ndarray:
        return self.F.reduce(np.multiply(a, b))

    def imul(self, a: np.ndarray, b: Any) -> np.ndarray:
        a *= b
        return self.F.reduce(a)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.F.reduce(a + b)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 2:
            return self.F.matmul(a, b)
        out = self.F.matmul(a.reshape(-1, a.shape[-1]), b)
        return out.reshape(*a.shape[:-1], b.shape[-1])

    def combine(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape[1:])
        self.combine_into(w, x, out)
        return out

    def _scratch(self, shape: tuple[int, ...]) -> np.ndarray:
        """A scratch array of ``shape`` for the quotients of a reduction (this thread's)."""
        buffers = getattr(self._local, "buffers", None)
        if buffers is None:
            buffers = self._local.buffers = {}
        buf = buffers.get(shape)
        if buf is None:
            buf = buffers[shape] = np.empty(shape)
        return buf

    def matmul_into(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        if a.shape[1] * self.F.h * self.F.h < _EXACT:  # one exact product
            np.matmul(a, b, out=out)
            self.F.reduce(out, self._scratch(out.shape))
        else:
            out[...] = self.F.matmul(a, b)

    def combine_into(self, w: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
        k = len(w)
        if k > self.F.single_inner:
            out[...] = self.matmul(w[None, :], x.reshape(k, -1)).reshape(x.shape[1:])
            return
        np.multiply(x[0], w[0], out=out)
        tmp = self._scratch(out.shape)
        for a in range(1, k):
            out += np.multiply(x[a], w[a], out=tmp)
        self.F.reduce(out, tmp)

    def imul_into(self, a: np.ndarray, b: Any) -> None:
        a *= b
        self.F.reduce(a, self._scratch(a.shape))


def residue_arithmetic(p: int) -> _IntResidues:
    """Float64 balanced residues for ``p < MAX_PRIME``, ``int64`` residues otherwise."""
    return _FloatResidues(p) if p < MAX_PRIME else _IntResidues(p)
