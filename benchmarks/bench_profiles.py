"""Rank profiles (``mtd.rank_profile``): exhaustive N = 16, throughput, N = 24 projection.

Standalone: ``python benchmarks/bench_profiles.py [--quick] [--out FILE]``.  BLAS is pinned to
one thread.  Architectures: eq. 3 tree decompositions with ``M = r = 2`` of the baseline
dilated tree and its 2-swapped companion, and their mixed decomposition (interconnected at
the blocks of four modes).  Measured:

``exhaustive``
    ``rank_profile(model, "all")`` over all 32,767 partitions of 16 modes (one computed per
    symmetry class), ``repeats`` times: median and spread of the wall time, the number of
    classes and of certified sets;
``throughput``
    ``generic_rank`` jobs per second per worker, without the symmetry reduction
    (``symmetry=False``), on a fixed random sample of partitions, with ``n_jobs = 1`` and 2;
``projection``
    every partition of N = 24 modes for two trees (2 × (2^23 - 1), about 16.8 million sets):
    the symmetry classes computed from bit masks (never listing tuples), and the projected
    cost with and without the reduction from the measured throughput.
"""

from __future__ import annotations

import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import mtd  # noqa: E402
from mtd.families import index_set_family  # noqa: E402
from mtd.symmetry import symmetry_classes  # noqa: E402


def _models(L: int):
    T, Tb = mtd.ModeTree.baseline(L), mtd.ModeTree.swapped(L, 2)
    mix = [v for v in mtd.common_interior(T, Tb) if len(v) == 4]
    return {
        "baseline": mtd.TreeDecomposition.random(T, M=2, r=2, seed=0),
        "swapped": mtd.TreeDecomposition.random(Tb, M=2, r=2, seed=0),
        "mixed": mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0),
    }


def exhaustive(repeats: int) -> dict:
    out = {}
    for name, model in _models(4).items():
        if name == "mixed":
            continue
        times, prof = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            prof = mtd.rank_profile(model, "all", seed=0)
            times.append(time.perf_counter() - t0)
        out[name] = {
            "sets": len(prof),
            "computed": prof.n_computed,
            "certified": sum(prof.certified),
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
        }
    return out


def throughput(n_sample: int) -> dict:
    sets = index_set_family("random", 16, n_random=n_sample, seed=1)
    out = {}
    for name, model in _models(4).items():
        row = {}
        for jobs in (1, 2):
            t0 = time.perf_counter()
            prof = mtd.rank_profile(model, sets, seed=0, symmetry=False, n_jobs=jobs)
            dt = time.perf_counter() - t0
            row[f"n_jobs={jobs}"] = {
                "jobs": prof.n_computed,
                "seconds": dt,
                "jobs_per_s": prof.n_computed / dt,
                "jobs_per_s_per_worker": prof.n_computed / dt / jobs,
            }
        out[name] = row
    return out


def projection(per_job_s: float, workers: int) -> dict:
    N = 24
    masks = np.arange(1, 2 ** (N - 1), dtype=np.int64)  # each partition once (mode 23 outside)
    out = {"sets_per_tree": int(masks.size), "trees": {}}
    for name, tree in (("balanced", mtd.ModeTree.balanced(N)), ("linear", mtd.ModeTree.linear(N))):
        model = mtd.TreeDecomposition.random(tree, M=2, r=2, seed=0)
        t0 = time.perf_counter()
        keys = symmetry_classes(model.plan, masks)
        dt = time.perf_counter() - t0
        classes = int(np.unique(keys).size)
        out["trees"][name] = {"classes": classes, "class_seconds": dt}
        del keys
    total_sets = 2 * int(masks.size)
    total_classes = sum(v["classes"] for v in out["trees"].values())
    out["projected_without_symmetry_h"] = total_sets * per_job_s / workers / 3600
    out["projected_with_symmetry_s"] = total_classes * per_job_s / workers
    out["per_job_s_assumed"] = per_job_s
    out["workers"] = workers
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    res: dict = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "command": " ".join(sys.argv),
    }
    res["exhaustive_N16"] = exhaustive(1 if args.quick else 3)
    print(json.dumps(res["exhaustive_N16"], indent=1), flush=True)
    res["throughput_N16"] = throughput(64 if args.quick else 400)
    print(json.dumps(res["throughput_N16"], indent=1), flush=True)
    per = 1 / res["throughput_N16"]["baseline"]["n_jobs=1"]["jobs_per_s"]
    if not args.quick:
        res["projection_N24"] = projection(per, os.cpu_count() or 1)
        print(json.dumps(res["projection_N24"], indent=1), flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
