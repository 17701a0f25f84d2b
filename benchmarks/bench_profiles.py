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
    every partition of N = 24 modes for two trees (the balanced binary and ternary trees;
    2 × (2^23 - 1), about 16.8 million sets): the symmetry classes computed from bit masks
    (never listing tuples), the seconds per ``generic_rank`` job measured at N = 24 on a
    random sample, and the projected cost with and without the reduction.
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


def projection(workers: int, n_sample: int) -> dict:
    N = 24
    masks = np.arange(1, 2 ** (N - 1), dtype=np.int64)  # each partition once (mode 23 outside)
    out: dict = {"sets_per_tree": int(masks.size), "trees": {}}
    sample = index_set_family("random", N, n_random=n_sample, seed=2)
    for name, tree in (
        ("balanced binary", mtd.ModeTree.balanced(N)),
        ("balanced ternary", mtd.ModeTree.balanced(N, 3)),
    ):
        model = mtd.TreeDecomposition.random(tree, M=2, r=2, seed=0)
        t0 = time.perf_counter()
        keys = symmetry_classes(model.plan, masks)
        class_s = time.perf_counter() - t0
        classes = int(np.unique(keys).size)
        del keys
        t0 = time.perf_counter()
        prof = mtd.rank_profile(model, sample, seed=0, symmetry=False, n_jobs=1)
        per = (time.perf_counter() - t0) / prof.n_computed
        out["trees"][name] = {
            "classes": classes,
            "class_seconds": class_s,
            "per_job_s": per,
            "sample_jobs": prof.n_computed,
            "sample_certified": sum(prof.certified),
            "projected_without_symmetry_h": masks.size * per / workers / 3600,
            "projected_with_symmetry_s": classes * per / workers,
        }
    out["workers"] = workers
    out["projected_without_symmetry_h"] = sum(
        v["projected_without_symmetry_h"] for v in out["trees"].values()
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--only", nargs="+", choices=("exhaustive", "throughput", "projection"))
    args = ap.parse_args()
    res: dict = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "command": " ".join(sys.argv),
    }
    parts = args.only or ["exhaustive", "throughput", "projection"]

    def save() -> None:
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(res, fh, indent=1)

    if "exhaustive" in parts:
        res["exhaustive_N16"] = exhaustive(1 if args.quick else 3)
        print(json.dumps(res["exhaustive_N16"], indent=1), flush=True)
        save()
    if "throughput" in parts:
        res["throughput_N16"] = throughput(64 if args.quick else 400)
        print(json.dumps(res["throughput_N16"], indent=1), flush=True)
        save()
    if "projection" in parts:
        res["projection_N24"] = projection(os.cpu_count() or 1, 8 if args.quick else 24)
        print(json.dumps(res["projection_N24"], indent=1), flush=True)
        save()


if __name__ == "__main__":
    main()
