"""Exact and modular ranks: mtd vs python-flint vs sympy vs float SVD.

Matrices are n x n with integer entries: ``full`` has entries uniform in [-10, 10]
(rank n); ``rank 8`` and ``rank n/4`` are products of two such random factors
(entries up to 100 r).  Contenders:

``mtd exact`` / ``mtd modular``
    ``mtd.matrix_rank(X, method="exact" | "modular")`` with the default backend
    (python-flint for n <= 64, else numpy), split into *conversion* (input checks,
    dtype normalization and conversion to the backend's type; for numpy modular, the
    reduction mod p) and *elimination* (everything else, including the per-prime
    reductions of the multimodular exact rank).
``flint exact`` / ``flint modular``
    python-flint: *conversion* ``fmpz_mat(X.tolist())`` (and ``nmod_mat(.., p)``),
    *elimination* ``.rank()``; this is what ``backend="flint"`` runs.
``sympy DomainMatrix``
    ``DomainMatrix`` over ``ZZ`` (``backend="sympy"``).
``sympy Matrix.rank``
    only for n <= 16: at n = 24 one random matrix took 63 s here.
``numpy SVD``
    ``np.linalg.matrix_rank(X)`` (float64; not a trustworthy rank, for scale).

The prime is ``mtd.DEFAULT_PRIME = 2**31 - 1`` for every modular contender.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import sympy

import mtd
from mtd import ranks

Result = tuple[Any, dict[str, float]]
P = mtd.DEFAULT_PRIME


def _split(convert: Any, eliminate: Any) -> Any:
    def fn(X: np.ndarray) -> Result:
        t0 = time.perf_counter()
        data = convert(X)
        t1 = time.perf_counter()
        result = int(eliminate(data))
        t2 = time.perf_counter()
        return result, {"conversion": t1 - t0, "elimination": t2 - t1}

    return fn


def _flint() -> Any:
    import flint

    return flint


def _mtd(p: int | None) -> Any:
    """``mtd.matrix_rank`` with its default backend, timed in two parts."""

    def convert(X: np.ndarray) -> tuple[Any, str]:
        M = ranks._integer_matrix(X, "X")[0]
        which = ranks._choose_backend(M, p, None)
        return ranks._convert(M, which, p), which

    return _split(convert, lambda data: ranks._eliminate(data[0], data[1], p))


CONTENDERS = {
    "mtd exact": _mtd(None),
    "mtd modular": _mtd(P),
    "flint exact": _split(lambda X: _flint().fmpz_mat(X.tolist()), lambda M: M.rank()),
    "flint modular": _split(
        lambda X: _flint().nmod_mat(_flint().fmpz_mat(X.tolist()), P), lambda M: M.rank()
    ),
    "sympy DomainMatrix": _split(lambda X: ranks._sympy_matrix(X, None), lambda M: M.rank()),
    "sympy Matrix.rank": lambda X: (int(sympy.Matrix(X.tolist()).rank()), {}),
    "numpy SVD": lambda X: (int(np.linalg.matrix_rank(X)), {}),
}


def _setup(n: int, r: int | None, seed: int) -> Any:
    def setup() -> np.ndarray:
        rng = np.random.default_rng(seed)
        if r is None:
            return rng.integers(-10, 11, (n, n))
        # float64 BLAS is exact here (|entries| <= 100 r < 2**53) and much faster than int64
        F = rng.integers(-10, 11, (n, r)).astype(np.float64)
        G = rng.integers(-10, 11, (r, n)).astype(np.float64)
        return (F @ G).astype(np.int64)

    return setup


def cases(quick: bool) -> list[dict[str, Any]]:
    sizes = [16, 32, 64, 128, 256] if quick else [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    out = []
    for kind in ("full", "rank 8", "rank n/4"):
        for n in sizes:
            r = None if kind == "full" else 8 if kind == "rank 8" else n // 4
            if r is not None and r >= n:
                continue
            quarter = 5 if kind == "rank n/4" else 3
            out.append(
                {
                    "group": "ranks",
                    "series": kind,
                    "case": f"{kind}, n={n}",
                    "size": n,
                    "params": {"n": n, "rank": n if r is None else r, "kind": kind},
                    "setup": _setup(n, r, seed=n),
                    "contenders": CONTENDERS,
                    "baseline": "mtd exact",
                    "scaling": {
                        "mtd exact": 4 if kind == "rank n/4" else 3,
                        "mtd modular": 3,
                        "flint exact": quarter,
                        "flint modular": 3,
                        "sympy DomainMatrix": 4,
                        "numpy SVD": 3,
                    },
                    "limits": {"sympy Matrix.rank": ("n", 16)},
                }
            )
    return out
