"""Certified generic ranks (``mtd.certify.generic_rank``) vs. materialize-then-rank.

Architectures with ``M = r = 2`` (the paper's Fig. 6 setting): the baseline dilated tree
(dilations 1, 2, 4, …), its ``k = 2`` swapped companion, and the mixed decomposition of
the two interconnected at depth ``L - 2`` (blocks of four modes).  Index sets:

``sep``
    the paper's separating example ``{0,2,4,6,8,9,12,13}`` (repeated on every block of
    16 modes for ``sep×b``): Theorem 7 gives ``r^6`` per block for a tree;
``odd``, ``{0,1,2}``, ``{0..3,8..11}``
    more Fig. 6 partitions;
``even<j>``
    the first ``j`` even modes ``{0, 2, …, 2j-2}``: ``j`` split leaf pairs, generic rank
    ``2^j`` (16 … 4096 for ``j = 4 … 12``).

Contenders (results: the certified rank, or ``lower..upper``):

``generic_rank``
    default settings (materializes ``M^N <= 2^16``, probes above); phases: forming the
    probe matrices, ranking them (modulo ``p``), the rest (bounds, setup);
``generic_rank probes``
    ``method="probes"`` (Fig. 6 only; on larger tensors it is what ``generic_rank`` does);
``materialize + exact rank``
    the baseline: a random integer instance (weights in ±100), its dense tensor, the
    exact rank over Q of its matricization (``mtd.matricization_rank(method="exact")``).
    A lower bound, not a certificate; impossible beyond ``N = 20`` (``2^32`` entries and
    more), recorded as skipped.

Group ``min-cut`` times :func:`mtd.mincut.mincut_bound` on ``2^16`` modes against
:func:`mtd.tree_mincut_bound` (the single-tree DP), and on a mixed decomposition.

Run through ``python benchmarks/run.py --only certify`` or standalone
``python benchmarks/bench_certify.py [--quick]``.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import mtd  # noqa: E402
from mtd.certify import generic_rank  # noqa: E402
from mtd.mincut import mincut_bound  # noqa: E402

Result = tuple[Any, dict[str, float]]
SEP = (0, 2, 4, 6, 8, 9, 12, 13)
MATERIALIZE_MAX_N = 20


def _arch(kind: str, L: int, *, max_weight: int = 2, seed: int = 0) -> Any:
    T = mtd.ModeTree.baseline(L)
    if kind == "baseline":
        return mtd.TreeDecomposition.random(
            T, M=2, r=2, kind="integer", seed=seed, max_weight=max_weight
        )
    Tb = mtd.ModeTree.swapped(L, 2)
    if kind == "swapped":
        return mtd.TreeDecomposition.random(
            Tb, M=2, r=2, kind="integer", seed=seed, max_weight=max_weight
        )
    mix = [n for n in mtd.common_interior(T, Tb) if T.depth(n) == L - 2]
    return mtd.MixedDecomposition.random(
        T, Tb, mix, M=2, r=2, kind="integer", seed=seed, max_weight=max_weight
    )


def _generic(method: str) -> Any:
    def fn(data: dict[str, Any]) -> Result:
        res = generic_rank(data["decomposition"], data["I"], seed=0, method=method)
        forming = sum(r[2] for r in res.rounds)
        ranking = sum(r[3] for r in res.rounds)
        phases = {"probe matrices": forming, "ranks": ranking}
        if res.method == "materialized":
            phases = {}
        value = res.lower if res.certified else f"{res.lower}..{res.upper}"
        return value, phases

    return fn


def _materialize(data: dict[str, Any]) -> Result:
    d = data["instance"]
    A = d.to_tensor(arithmetic="exact")
    return mtd.matricization_rank(A, data["I"], method="exact"), {}


def _setup(kind: str, L: int, I: list[int]) -> Any:
    def setup() -> dict[str, Any]:
        data = {"decomposition": _arch(kind, L), "I": I}
        if L <= 4:
            data["instance"] = _arch(kind, L, max_weight=100, seed=1)
        return data

    return setup


def _index_sets(kind: str, quick: bool) -> dict[str, list[int]]:
    js = (4, 8) if quick else (4, 6, 8, 10, 12)
    sets = {f"even{j}": list(range(0, 2 * j, 2)) for j in js}
    if kind == "baseline" and not quick:  # upper 4096 from the structure (trivial: 2^16)
        sets["sep×2"] = [16 * b + x for b in range(2) for x in SEP]
    return sets


def cases(quick: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    fig6 = {
        "sep": list(SEP),
        "odd": list(range(1, 16, 2)),
        "{0,1,2}": [0, 1, 2],
        "{0..3,8..11}": [0, 1, 2, 3, 8, 9, 10, 11],
    }
    if quick:
        fig6 = {"sep": fig6["sep"], "odd": fig6["odd"]}
    for kind in ("baseline", "swapped", "mixed"):
        for name, I in fig6.items():
            out.append(
                {
                    "group": "certify N=16",
                    "case": f"{kind} {name}",
                    "params": {"N": 16, "kind": kind, "I": I},
                    "setup": _setup(kind, 4, I),
                    "contenders": {
                        "generic_rank": _generic("auto"),
                        "generic_rank probes": _generic("probes"),
                        "materialize + exact rank": _materialize,
                    },
                    "baseline": "materialize + exact rank",
                }
            )
    for L in (5,) if quick else (5, 6):
        N = 2**L
        for kind in ("baseline", "mixed"):
            for name, I in _index_sets(kind, quick).items():
                out.append(
                    {
                        "group": "certify N=32, 64",
                        "case": f"{kind} N={N} {name}",
                        "params": {"N": N, "kind": kind, "I": I},
                        "setup": _setup(kind, L, I),
                        "contenders": {
                            "generic_rank": _generic("auto"),
                            "materialize + exact rank": _materialize,
                        },
                        "baseline": "generic_rank",
                        "limits": {"materialize + exact rank": ("N", MATERIALIZE_MAX_N)},
                    }
                )
    L = 12 if quick else 16

    def tree_setup() -> dict[str, Any]:
        T = mtd.ModeTree.baseline(L)
        d = mtd.TreeDecomposition.random(T, M=2, r=2, kind="integer", seed=0, tied=True)
        return {"decomposition": d, "tree": T, "I": list(range(0, 2**L, 2))}

    def mixed_setup() -> dict[str, Any]:
        T, Tb = mtd.ModeTree.baseline(L), mtd.ModeTree.swapped(L, 2)
        mix = [n for n in mtd.common_interior(T, Tb) if T.depth(n) == 2]
        W = np.ones((2, 2), dtype=np.int64)
        w = {depth: [W, W] for depth in range(L)}
        V = np.eye(2, dtype=np.int64)
        d = mtd.MixedDecomposition(T, Tb, mix, V, w, w, tied=True)
        return {"decomposition": d, "I": list(range(0, 2**L, 2))}

    def bits(b: int) -> str:
        return f"2^{b.bit_length() - 1}" if b & (b - 1) == 0 else f"{b.bit_length()} bits"

    def dp(data: dict[str, Any]) -> Result:
        return bits(mtd.tree_mincut_bound(data["tree"], data["I"], r=2, M=2)), {}

    def cut(data: dict[str, Any]) -> Result:
        return bits(mincut_bound(data["decomposition"], data["I"])), {}

    out.append(
        {
            "group": "min-cut",
            "case": f"baseline tree, N=2^{L}, I = even modes",
            "params": {"N": 2**L},
            "setup": tree_setup,
            "contenders": {"tree_mincut_bound": dp, "mincut_bound": cut},
            "baseline": "tree_mincut_bound",
        }
    )
    out.append(
        {
            "group": "min-cut",
            "case": f"mixed (4 mixture nodes), N=2^{L}, I = even modes",
            "params": {"N": 2**L},
            "setup": mixed_setup,
            "contenders": {"mincut_bound": cut},
            "baseline": "mincut_bound",
        }
    )
    return out


if __name__ == "__main__":
    import time

    quick = "--quick" in sys.argv
    for case in cases(quick):
        data = case["setup"]()
        for label, fn in case["contenders"].items():
            limit = case.get("limits", {}).get(label)
            if limit and case["params"][limit[0]] > limit[1]:
                print(f"{case['case']:<40} {label:<26} skipped ({limit[0]} > {limit[1]})")
                continue
            t0 = time.perf_counter()
            result, phases = fn(data)
            took = time.perf_counter() - t0
            print(f"{case['case']:<40} {label:<26} {took:8.3f} s  {result}  {phases}")
