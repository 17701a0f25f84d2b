"""Certifying huge trees: where the time of ``generic_rank`` goes, and tree construction.

The baseline tree over ``2^L`` modes, ``I`` the odd modes, ``M = r = 2`` (generic rank
``2^(2^(L-1))``, Theorem 7's bounds meet): the time of Theorem 7's bounds, of the
min-cut bound and of the structural witness (each with the plan's caches cleared, so
each pays for reading the plan), and of the whole :func:`mtd.generic_rank`; then
``ModeTree.baseline`` / ``ModeTree.balanced`` at ``2^16 .. 2^20`` modes and
``TreeDecomposition.random`` (part of a user's wall time too).  Wall and CPU time,
median and range over ``--reps`` runs, one BLAS thread.  A calibration line
(``sum(range(10**7))``) says how loaded the machine was.

Run ``python benchmarks/bench_huge_trees.py [--L 16] [--reps 5] [--trees 16 18 20]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import mtd  # noqa: E402
from mtd.bounds import theorem7_bounds  # noqa: E402
from mtd.mincut import plan_mincut_bound  # noqa: E402
from mtd.witness import _witness  # noqa: E402


def _timed(fn: Callable[[], Any], reps: int) -> tuple[list[float], list[float], Any]:
    wall, cpu, value = [], [], None
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        value = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, value


def _fmt(ts: list[float]) -> str:
    return f"{statistics.median(ts):.3f} s [{min(ts):.3f}, {max(ts):.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=16)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--trees", type=int, nargs="*", default=[16, 18, 20])
    args = ap.parse_args()
    t0 = time.perf_counter()
    sum(range(10**7))
    print(f"calibration: sum(range(10**7)) took {time.perf_counter() - t0:.3f} s")
    print(f"load average: {os.getloadavg()}")
    L = args.L
    c0, t0 = time.process_time(), time.perf_counter()
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(L), M=2, r=2, seed=0)
    print(
        f"TreeDecomposition.random(baseline({L})), first call (tree tables included): "
        f"{time.perf_counter() - t0:.3f} s wall, {time.process_time() - c0:.3f} s CPU"
    )
    wall, cpu, _ = _timed(
        lambda: mtd.TreeDecomposition.random(mtd.ModeTree.baseline(L), M=2, r=2, seed=0).plan,
        args.reps,
    )
    print(
        f"TreeDecomposition.random(ModeTree.baseline({L})).plan, fresh tree each time: "
        f"{_fmt(wall)} wall, {_fmt(cpu)} CPU"
    )
    I = list(range(1, 2**L, 2))
    rows = frozenset(I)

    def fresh() -> Any:
        d.plan.cache.clear()
        return d.plan

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("Theorem 7 bounds", lambda: theorem7_bounds(d.tree, I, 2)[1] == 2 ** (2 ** (L - 1))),
        ("min-cut bound", lambda: plan_mincut_bound(fresh(), I) == 2 ** (2 ** (L - 1))),
        ("structural witness", lambda: _witness(fresh(), rows, 0).rank == 2 ** (2 ** (L - 1))),
        (
            "generic_rank",
            lambda: (lambda g: g.certified and g.lower == 2 ** (2 ** (L - 1)))(
                (fresh(), mtd.generic_rank(d, I, seed=0))[1]
            ),
        ),
    ]
    print(f"\n| baseline 2^{L}, odd modes | wall (median [min, max]) | CPU | right value |")
    print("|---|---|---|---|")
    for name, fn in cases:
        wall, cpu, ok = _timed(fn, args.reps)
        print(f"| {name} | {_fmt(wall)} | {_fmt(cpu)} | {ok} |")
    print("\n| tree | wall (median [min, max]) | CPU |")
    print("|---|---|---|")
    for k in args.trees:
        for name in ("baseline", "balanced"):
            make = (
                (lambda k=k: mtd.ModeTree.baseline(k))
                if name == "baseline"
                else (lambda k=k: mtd.ModeTree.balanced(2**k))
            )
            wall, cpu, _ = _timed(make, 3)
            print(f"| {name}(2^{k}) | {_fmt(wall)} | {_fmt(cpu)} |")


if __name__ == "__main__":
    main()
