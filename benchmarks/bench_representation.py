"""The representation (issue 9): no regression on trees, overlapping grid tensors vs einsum.

Two parts, BLAS pinned to one thread:

``regression``
    ``to_tensor`` and ``generic_rank`` on tree and mixed decompositions, timed for this
    checkout and for another one (``--base PATH``, e.g. a ``git worktree`` of the previous
    commit) *in one run*: each repeat runs both, alternating, in fresh subprocesses, so
    the two see the same machine load.  Times are CPU seconds of the workload's process
    (``time.process_time``: less sensitive than wall time to other jobs on a shared
    machine).  Prints the median and the spread (min..max) of each, and the ratios of
    the medians and of the minima.
``overlapping``
    ``OverlappingConvAC.grid_tensor()`` (the plan's dense evaluator) against a plain
    ``numpy.einsum(..., optimize=True)`` over the unrolled copy-tensor network (every
    input index a shared label), float64; both results are compared once.

Usage: ``python benchmarks/bench_representation.py [--base PATH] [--repeats K]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

WORKLOAD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import mtd
out = {}
def timed(name, fn):
    t = time.process_time(); fn(); out[name] = time.process_time() - t
d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=6, r=4, seed=0)
timed("to_tensor baseline N=8 M=6 r=4", lambda: d.to_tensor())
tt = mtd.TreeDecomposition.random(mtd.ModeTree.linear(20), M=2, r=4, seed=0)
timed("to_tensor linear N=20 M=2 r=4", lambda: tt.to_tensor())
I = [0, 2, 4, 6, 8, 9, 12, 13]
h = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(4), M=2, r=2, seed=0)
timed("generic_rank baseline N=16 (64)", lambda: mtd.generic_rank(h, I, seed=1, method="probes"))
T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
m = mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0)
timed("generic_rank mixed N=16", lambda: mtd.generic_rank(m, I, seed=1, method="probes"))
print(json.dumps(out))
"""


def _run(path: str) -> dict[str, float]:
    got = subprocess.run(
        [sys.executable, "-c", WORKLOAD, path], capture_output=True, text=True, check=True
    )
    return json.loads(got.stdout.strip().splitlines()[-1])


def regression(base: str, repeats: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {"this": [], "base": []}
    for i in range(repeats):
        order = [("this", HERE), ("base", base)]
        for name, path in order if i % 2 == 0 else order[::-1]:
            runs[name].append(_run(path))
    print("| workload | base median (min..max) s | this median (min..max) s | ratio med / min |")
    print("|---|---|---|---|")
    for key in runs["this"][0]:
        b = [r[key] for r in runs["base"]]
        t = [r[key] for r in runs["this"]]
        mb, mt = statistics.median(b), statistics.median(t)
        print(
            f"| {key} | {mb:.4f} ({min(b):.4f}..{max(b):.4f}) | {mt:.4f} "
            f"({min(t):.4f}..{max(t):.4f}) | {mt / mb:.2f} / {min(t) / min(b):.2f} |"
        )


def overlapping(repeats: int) -> None:
    sys.path.insert(0, HERE)
    import numpy as np

    import mtd
    from mtd.decompositions._network import plan_factors

    cases = [
        (10, [(3, 1)], (2, 2)),
        (12, [(3, 1)], (3, 3)),
        (9, [(2, 1), (2, 2)], (2, 2, 2)),
    ]
    print("| network | M^N | mtd grid_tensor median (min..max) s | einsum optimize=True s |")
    print("|---|---|---|---|")
    for N, layers, channels in cases:
        net = mtd.OverlappingConvAC(N, layers, channels, seed=0)
        (t,) = plan_factors(net.plan, [0])
        ops: list = []
        for a, lab in zip(t.arrays, t.labels, strict=True):
            ops += [np.asarray(a, dtype=float), list(lab)]
        out_labels = [t.out_label, *(t.mode_label[m] for m in range(N))]
        if len(t.dims) > 52:
            print(f"| N={N} {layers} | skipped: {len(t.dims)} labels > 52 for numpy.einsum |")
            continue
        want = net.grid_tensor()
        got = np.einsum(*ops, out_labels, optimize=True)[0]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        ours, theirs = [], []
        for _ in range(repeats):
            s = time.perf_counter()
            net.grid_tensor()
            ours.append(time.perf_counter() - s)
            s = time.perf_counter()
            np.einsum(*ops, out_labels, optimize=True)
            theirs.append(time.perf_counter() - s)
        print(
            f"| N={N} {layers} r={channels} | {net.M}^{N} | {statistics.median(ours):.4f} "
            f"({min(ours):.4f}..{max(ours):.4f}) | {statistics.median(theirs):.4f} "
            f"({min(theirs):.4f}..{max(theirs):.4f}) |"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", help="another checkout to compare against (regression part)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.base:
        regression(args.base, args.repeats)
    overlapping(args.repeats)


if __name__ == "__main__":
    main()
