"""Rank profiles (``mtd.rank_profile``): exhaustive N = 16 before/after, throughput, N = 24.

Standalone: ``python benchmarks/bench_profiles.py [--quick] [--repeats R] [--only PART ...]
[--out FILE]``.  BLAS is pinned to one thread.  Architectures: eq. 3 tree decompositions
with ``M = r = 2`` of the baseline dilated tree and its 2-swapped companion, and their mixed
decomposition (interconnected at the blocks of four modes).  Measured, in one run:

``exhaustive``
    all 32,767 partitions of 16 modes, side by side: **after** = ``rank_profile(model,
    "all")`` (``method="auto"``: one materialized instance, batched modular ranks), **before**
    = ``method="per-set"`` (one ``generic_rank`` per computed set, the previous path): in
    full for the trees (126 symmetry classes); for the mixed decomposition (no tree
    symmetry: 32,767 jobs, about 47 minutes per worker) on a random sample, the full cost
    projected from it and labelled so.  Wall time median and spread over ``repeats``, CPU
    time of this process, sets computed and certified;
``cpu``
    the mixed decomposition's exhaustive N = 16 profile in this process (``n_jobs=1``): its
    CPU time, which on a shared machine says more than the wall time (on two free cores a
    sweep takes about half of it: the jobs are independent);
``throughput``
    jobs per second per worker without the symmetry reduction, on one random sample of
    partitions, for both methods, with ``n_jobs = 1`` and 2;
``projection``
    every partition of N = 24 modes for two trees (balanced binary and ternary; 2 × (2^23 -
    1), about 16.8 million sets): the seconds until ``rank_profile(model, "all")`` prints its
    projected cost (the sweep is stopped there), the symmetry classes, ``generic_rank`` per
    job measured at N = 24 on a random sample, and the projected cost with and without the
    reduction.
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
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import mtd  # noqa: E402
from mtd.families import index_set_family  # noqa: E402


def _models(L: int):
    T, Tb = mtd.ModeTree.baseline(L), mtd.ModeTree.swapped(L, 2)
    mix = [v for v in mtd.common_interior(T, Tb) if len(v) == 4]
    return {
        "baseline": mtd.TreeDecomposition.random(T, M=2, r=2, seed=0),
        "swapped": mtd.TreeDecomposition.random(Tb, M=2, r=2, seed=0),
        "mixed": mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0),
    }


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def _stats(times: list[float]) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def exhaustive(repeats: int, n_sample: int) -> dict:
    out: dict = {}
    sample = index_set_family("random", 16, n_random=n_sample, seed=1)
    for name, model in _models(4).items():
        row: dict = {}
        walls, cpus, prof = [], [], None
        for _ in range(repeats):
            prof, w, c = _timed(lambda m=model: mtd.rank_profile(m, "all", seed=0, n_jobs=2))
            walls.append(w)
            cpus.append(c)
        row["after"] = {
            "method": "auto (batched)",
            "sets": len(prof),
            "computed": prof.n_computed,
            "certified": sum(prof.certified),
            **_stats(walls),
            "main_process_cpu_s": statistics.median(cpus),
        }
        if name == "mixed":
            part, w, _ = _timed(
                lambda m=model: mtd.rank_profile(m, sample, seed=0, n_jobs=2, method="per-set")
            )
            row["before"] = {
                "method": "per-set, projected from a random sample",
                "sample_sets": part.n_computed,
                "sample_s": w,
                "sample_certified": sum(part.certified),
                "projected_s": w / part.n_computed * prof.n_computed,
            }
        else:
            walls = []
            for _ in range(repeats):
                old, w, _ = _timed(
                    lambda m=model: mtd.rank_profile(m, "all", seed=0, n_jobs=2, method="per-set")
                )
                walls.append(w)
            row["before"] = {
                "method": "per-set",
                "computed": old.n_computed,
                "certified": sum(old.certified),
                **_stats(walls),
            }
        out[name] = row
        print(name, json.dumps(row), flush=True)
    return out


def cpu() -> dict:
    model = _models(4)["mixed"]
    prof, w, c = _timed(lambda: mtd.rank_profile(model, "all", seed=0, n_jobs=1))
    out = {
        "sets": len(prof),
        "certified": sum(prof.certified),
        "wall_s": w,
        "cpu_s": c,
        "cpu_ms_per_set": 1e3 * c / len(prof),
    }
    print("cpu", json.dumps(out), flush=True)
    return out


def throughput(n_sample: int) -> dict:
    sets = index_set_family("random", 16, n_random=n_sample, seed=1)
    out: dict = {}
    for name, model in _models(4).items():
        row = {}
        for method in ("batched", "per-set"):
            for jobs in (1, 2):
                prof, dt, _ = _timed(
                    lambda m=model, j=jobs, k=method: mtd.rank_profile(
                        m, sets, seed=0, symmetry=False, n_jobs=j, method=k
                    )
                )
                row[f"{method} n_jobs={jobs}"] = {
                    "jobs": prof.n_computed,
                    "seconds": dt,
                    "jobs_per_s": prof.n_computed / dt,
                    "jobs_per_s_per_worker": prof.n_computed / dt / jobs,
                }
        out[name] = row
        print(name, json.dumps(row), flush=True)
    return out


class _Projected(Exception):
    """Raised by the progress hook once the projected cost is printed: the sweep stops."""


def projection(workers: int, n_sample: int) -> dict:
    N = 24
    out: dict = {"sets_per_tree": 2 ** (N - 1) - 1, "trees": {}}
    sample = index_set_family("random", N, n_random=n_sample, seed=2)
    for name, tree in (
        ("balanced binary", mtd.ModeTree.balanced(N)),
        ("balanced ternary", mtd.ModeTree.balanced(N, 3)),
    ):
        model = mtd.TreeDecomposition.random(tree, M=2, r=2, seed=0)
        heard: list[tuple[float, str]] = []
        t0 = time.perf_counter()

        def hook(msg: str, heard=heard, t0=t0) -> None:
            heard.append((time.perf_counter() - t0, msg))
            if "jobs to run" in msg:
                raise _Projected

        try:
            mtd.rank_profile(model, "all", seed=0, n_jobs=workers, progress=hook)
        except _Projected:
            pass
        classes = int(re.search(r"(\d+) to compute", heard[0][1]).group(1))
        prof, dt, _ = _timed(
            lambda m=model: mtd.rank_profile(m, sample, seed=0, symmetry=False, n_jobs=1)
        )
        per = dt / prof.n_computed
        out["trees"][name] = {
            "seconds_to_projected_cost": heard[-1][0],
            "printed": [m for _, m in heard],
            "classes": classes,
            "per_job_s": per,
            "sample_jobs": prof.n_computed,
            "sample_certified": sum(prof.certified),
            "projected_without_symmetry_h": out["sets_per_tree"] * per / workers / 3600,
            "projected_with_symmetry_s": classes * per / workers,
        }
        print(name, json.dumps(out["trees"][name]), flush=True)
    out["workers"] = workers
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out")
    ap.add_argument("--only", nargs="+", choices=("exhaustive", "cpu", "throughput", "projection"))
    args = ap.parse_args()
    res: dict = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "command": " ".join(sys.argv),
        "load_average_at_start": os.getloadavg(),
    }
    parts = args.only or ["exhaustive", "cpu", "throughput", "projection"]

    def save() -> None:
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(res, fh, indent=1)

    if "exhaustive" in parts:
        repeats = 1 if args.quick else args.repeats
        res["exhaustive_N16"] = exhaustive(repeats, 48 if args.quick else 400)
        print(json.dumps(res["exhaustive_N16"], indent=1), flush=True)
        save()
    if "cpu" in parts:
        res["cpu_N16_mixed"] = cpu()
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
