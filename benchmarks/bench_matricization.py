"""Matricization vs. a plain copy of the same array.

``mtd.matricize`` returns a view when numpy can give one; the benchmark times
``np.ascontiguousarray(mtd.matricize(A, I))`` so that it materializes the matrix (except
when ``I`` is a leading block of modes: that matricization is a C-contiguous view, free), against
``A.copy()`` (a contiguous memcpy: the floor for any reordering) and, for a single mode,
``np.ascontiguousarray(tensorly.base.unfold(A, k))``.  Tensors are float64 with 2**16 ..
2**24 entries (0.5 MiB .. 128 MiB), with modes of dimension 2 (the papers' binary grid
tensors), 4 and 16; index sets are the first half of the modes (contiguous), every other
mode (interleaved) and the middle mode (single).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorly

import mtd

Result = tuple[Any, dict[str, float]]


def _copy(A: np.ndarray) -> Result:
    return int(A.copy().size), {}


def _matricize(I: list[int]) -> Any:
    def fn(A: np.ndarray) -> Result:
        return int(np.ascontiguousarray(mtd.matricize(A, I)).size), {}

    return fn


def _unfold(k: int) -> Any:
    def fn(A: np.ndarray) -> Result:
        return int(np.ascontiguousarray(tensorly.base.unfold(A, k)).size), {}

    return fn


def _setup(dim: int, n_modes: int) -> Any:
    def setup() -> np.ndarray:
        rng = np.random.default_rng(0)
        return rng.standard_normal(dim**n_modes).reshape((dim,) * n_modes)

    return setup


def cases(quick: bool) -> list[dict[str, Any]]:
    out = []
    for log_size in (16, 20) if quick else (16, 20, 24):
        for dim in (2, 4, 16):
            n_modes = log_size // int(np.log2(dim))
            index_sets = {
                "contiguous": list(range(n_modes // 2)),
                "interleaved": list(range(0, n_modes, 2)),
                "single": [n_modes // 2],
            }
            for kind, I in index_sets.items():
                contenders = {"copy": _copy, "matricize": _matricize(I)}
                if kind == "single":
                    contenders["tensorly unfold"] = _unfold(I[0])
                out.append(
                    {
                        "group": "matricization",
                        "case": f"{dim}^{n_modes}, {kind} I={I}"
                        if len(I) <= 4
                        else f"{dim}^{n_modes}, {kind}",
                        "params": {"entries": 2**log_size, "shape": [dim] * n_modes, "I": I},
                        "setup": _setup(dim, n_modes),
                        "contenders": contenders,
                        "baseline": "copy",
                    }
                )
    return out
