"""``mtd.fit`` beside TensorLy's ``parafac`` (CP) and ``tensor_train`` (TT) on the same targets.

Standalone: ``python benchmarks/bench_fit.py [--quick] [--repeats R] [--only cp,tt,sweep,lm]
[--lm-sizes 8:4,16:4,...] [--lm-solvers cholesky,cg] [--mtd CHECKOUT] [--out FILE.json]``
(recovery: ``--only recovery [--restarts K] [--method NAME] [--recovery-cases ...]``) (BLAS
pinned to one thread before numpy is imported; ``--mtd`` imports mtd from another checkout,
e.g. the commit before a change).  Targets are exact low-rank tensors built with TensorLy's
own random CP / TT generators (seeded), so neither library made them.

* **CP** (order 3 and 4): ``mtd.fit`` on the star tree in the COLT form (the CP format;
  discretizers ``I_M``, random start) with ALS, and with ``"auto"`` (ALS, then
  Levenberg-Marquardt; its "per sweep" is per iteration of either kind), against
  ``parafac(init="random", tol=0)`` for the same number of sweeps.  Reported: seconds
  per sweep and the final relative error, median over ``R`` repeats (different random
  starts) and the spread (min..max).
* **TT**: ``mtd.fit`` on the linear tree with dense transfer tensors (ALS), against
  ``tensor_train`` (TT-SVD: one pass of truncated SVDs, not iterative).  Reported: total
  seconds and final error; for mtd also seconds per sweep and the number of sweeps.
* **sweep**: seconds per ALS sweep of ``mtd.fit`` alone on larger trees and a mixed
  decomposition (``M = 2``, ``r = 4``, ``N = 12`` and ``16``), two sweeps per repeat.
* **lm**: seconds per Levenberg-Marquardt step (``method="lm"``, one step per repeat, from
  a random start) on the balanced eq. 3 tree at ``N = 12`` and on mixed decompositions of
  the baseline and 2-swapped trees (mixture nodes of 4 modes; ``N = 8`` or ``16``), ``M = 2``,
  sizes ``r`` from ``--lm-sizes`` (``N:r`` pairs), for each ``solver=`` of
  ``--lm-solvers`` (``auto``, ``cholesky``: dense normal equations, ``cg``: matrix-free
  truncated conjugate gradients).  Run it with ``--mtd`` on an older checkout for the
  before/after comparison (with the default ``--lm-solvers auto``: older checkouts have no
  ``solver``).
* **recovery**: how often ``mtd.fit`` (default method, 200 iterations) recovers a planted
  target to relative error ``1e-10`` from random starts: the target is the architecture
  drawn with seed 0, the starts are the same architecture drawn with seeds 101-105
  (``M = 2``, ``r = 2``): balanced eq. 3 tree and tensor train at ``N = 10`` (``r_input =
  2``), mixed decompositions of the baseline and 2-swapped trees at ``N = 8`` (and ``16``,
  not run by default) with Gaussian weights, and at ``N = 8`` with orthogonal weights
  (``kind="orthogonal"``, target and starts: a target whose entries are not dominated by a
  few, as products of Gaussian matrices make them), and "mixed N=8 r'=4": the Gaussian
  ``N = 8`` target (``r = 2``) fitted by the mixed architecture with twice its size
  (``r' = 4``; an exact fit exists: the target's weights padded with zeros).
  ``--restarts K`` passes ``restarts=K, seed=<start seed>`` to ``mtd.fit`` (checkouts
  that have it), ``--method NAME`` passes ``method=NAME``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

_root = Path(__file__).resolve().parents[1]
if "--mtd" in sys.argv:
    _root = Path(sys.argv[sys.argv.index("--mtd") + 1]).resolve()
sys.path.insert(0, str(_root))

import mtd  # noqa: E402


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _cp_model(N, M, R, seed):
    rng = np.random.default_rng(seed)
    tree = mtd.ModeTree.star(N)
    leaves = {m: rng.normal(size=(R, M)) for m in range(N)}
    return mtd.TreeDecomposition(
        tree, np.eye(M), {tree.root: rng.normal(size=(1, R))}, form="colt", leaf_weights=leaves
    )


def _tt_model(N, M, R, seed):
    # A random TT of ranks R (TensorLy's generator, another seed) in mtd's dense-transfer
    # form: every leaf has M channels, as a TT core needs.
    from tensorly.random import random_tt

    return mtd.from_tensorly_tt(random_tt((M,) * N, [1] + [R] * (N - 1) + [1], random_state=seed))


def bench_cp(N, M, R, sweeps, repeats):
    import tensorly as tl
    from tensorly.decomposition import parafac
    from tensorly.random import random_cp

    target = tl.cp_to_tensor(random_cp((M,) * N, R, random_state=0))
    rows = {"mtd als": [], "mtd auto (als+lm)": [], "tensorly parafac": []}
    for rep in range(repeats):
        for who, method in (("mtd als", "als"), ("mtd auto (als+lm)", "auto")):
            if method not in importlib.import_module("mtd.decompositions.fitting").FIT_METHODS:
                continue  # an older checkout (--mtd)
            t = time.perf_counter()
            res = mtd.fit(
                _cp_model(N, M, R, 100 + rep), target, max_iter=sweeps, tol=0.0, method=method
            )
            dt = time.perf_counter() - t
            err = _rel(res.decomposition.to_tensor(), target)
            rows[who].append((dt / res.n_iter, err))
        t = time.perf_counter()
        cp = parafac(target, R, n_iter_max=sweeps, init="random", tol=0, random_state=100 + rep)
        dt = time.perf_counter() - t
        rows["tensorly parafac"].append((dt / sweeps, _rel(tl.cp_to_tensor(cp), target)))
    return rows


def bench_tt(N, M, R, repeats):
    import tensorly as tl
    from tensorly.decomposition import tensor_train
    from tensorly.random import random_tt

    target = tl.tt_to_tensor(random_tt((M,) * N, [1] + [R] * (N - 1) + [1], random_state=0))
    rows = {"mtd als": [], "tensorly tensor_train": []}
    for rep in range(repeats):
        t = time.perf_counter()
        res = mtd.fit(_tt_model(N, M, R, 200 + rep), target, max_iter=50, method="als")
        dt = time.perf_counter() - t
        rows["mtd als"].append(
            (dt, _rel(res.decomposition.to_tensor(), target), dt / res.n_iter, res.n_iter)
        )
        t = time.perf_counter()
        tt = tensor_train(target, [1] + [R] * (N - 1) + [1])
        dt = time.perf_counter() - t
        rows["tensorly tensor_train"].append((dt, _rel(tl.tt_to_tensor(tt), target)))
    return rows


def _sweep_models(N, seed):
    TD = mtd.TreeDecomposition
    if N == 16:
        T, Tb = mtd.ModeTree.baseline(4), mtd.ModeTree.swapped(4, 2)
        mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
        yield "mixed", mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=4, seed=seed)
    yield "eq3 balanced", TD.random(mtd.ModeTree.balanced(N), M=2, r=4, seed=seed)
    yield "TT (ht linear)", TD.random(mtd.ModeTree.linear(N), M=2, r=4, form="ht", seed=seed)


def bench_sweep(N, repeats):
    rows = {}
    targets = dict(_sweep_models(N, 0))
    for rep in range(repeats):
        for name, model in _sweep_models(N, 300 + rep):
            A = targets[name].to_tensor()
            t = time.perf_counter()
            res = mtd.fit(model, A, method="als", max_iter=2, tol=0.0)
            rows.setdefault(name, []).append((time.perf_counter() - t) / res.n_iter)
    return rows


def _lm_models(N, r, seed):
    if N in (8, 16):
        L = 3 if N == 8 else 4
        T, Tb = mtd.ModeTree.baseline(L), mtd.ModeTree.swapped(L, 2)
        mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
        return "mixed", mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=r, seed=seed)
    return "eq3 balanced", mtd.TreeDecomposition.random(
        mtd.ModeTree.balanced(N), M=2, r=r, seed=seed
    )


def bench_lm(N, r, repeats, solver="auto"):
    name, planted = _lm_models(N, r, 0)
    A = planted.to_tensor()
    n_params = mtd.n_parameters(planted)
    times = []
    for rep in range(repeats):
        model = _lm_models(N, r, 300 + rep)[1]
        t = time.perf_counter()
        kw = {} if solver == "auto" else {"solver": solver}  # older checkouts: no solver
        res = mtd.fit(model, A, method="lm", max_iter=1, tol=0.0, **kw)
        times.append((time.perf_counter() - t) / max(res.n_iter, 1))
    return f"lm N={N} M=2 r={r} {name} P={n_params}", times


def _recovery_models(case, seed, *, target=False):
    TD = mtd.TreeDecomposition
    if case == "eq3 balanced N=10":
        return TD.random(mtd.ModeTree.balanced(10), M=2, r=2, seed=seed, r_input=2)
    if case == "TT (ht linear) N=10":
        return TD.random(mtd.ModeTree.linear(10), M=2, r=2, form="ht", seed=seed, r_input=2)
    L = 4 if "N=16" in case else 3
    kind = "orthogonal" if "orthogonal" in case else "gaussian"
    r = 4 if "r'=4" in case and not target else 2  # the over-sized model: 4 channels
    T, Tb = mtd.ModeTree.baseline(L), mtd.ModeTree.swapped(L, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if len(n) == 4]
    return mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=r, seed=seed, kind=kind, r_input=2)


RECOVERY_CASES = (
    "eq3 balanced N=10",
    "TT (ht linear) N=10",
    "mixed N=8",
    "mixed N=8 orthogonal",
    "mixed N=8 r'=4",
    "mixed N=16",
)


def bench_recovery(case, seeds, restarts, method=None):
    A = _recovery_models(case, 0, target=True).to_tensor()
    rows = []
    for s in seeds:
        kw = {} if restarts is None else {"restarts": restarts, "seed": s}
        if method is not None:
            kw["method"] = method
        t = time.perf_counter()
        res = mtd.fit(_recovery_models(case, s), A, max_iter=200, **kw)
        dt = time.perf_counter() - t
        err = _rel(res.decomposition.to_tensor(), A)
        start = getattr(res, "start", 0)
        rows.append({"seed": s, "error": err, "seconds": dt, "method": res.method, "start": start})
    return rows


def _summ(values):
    med = statistics.median(values)
    return med, min(values), max(values)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path)
    p.add_argument(
        "--only",
        default="cp,tt,sweep",
        help="comma-separated: cp, tt, sweep, lm, recovery",
    )
    p.add_argument(
        "--lm-sizes",
        default="12:4,8:4,16:4,16:6,16:8",
        help="Levenberg-Marquardt cases as N:r pairs (N = 8 or 16: mixed; else a tree)",
    )
    p.add_argument(
        "--lm-solvers",
        default="auto",
        help="comma-separated solver= values for the lm cases: auto, cholesky, cg",
    )
    p.add_argument("--mtd", type=Path, help="import mtd from this checkout")
    p.add_argument("--restarts", type=int, help="recovery: restarts= for mtd.fit")
    p.add_argument("--method", help="recovery: method= for mtd.fit (default: mtd's default)")
    p.add_argument(
        "--recovery-cases",
        default=",".join(RECOVERY_CASES[:5]),
        help=f"comma-separated, of {RECOVERY_CASES} (mixed N=16: about an hour per start set)",
    )
    a = p.parse_args(argv)
    only = set(a.only.split(","))
    cp_cases = [(3, 10, 3, 20)] if a.quick else [(3, 10, 3, 50), (3, 20, 5, 50), (4, 8, 3, 50)]
    tt_cases = [(5, 3, 2)] if a.quick else [(5, 3, 2), (6, 4, 3), (8, 3, 2)]
    sweep_sizes = [12] if a.quick else [12, 16]
    cp_cases = cp_cases if "cp" in only else []
    tt_cases = tt_cases if "tt" in only else []
    sweep_sizes = sweep_sizes if "sweep" in only else []
    lm_cases = [tuple(int(v) for v in c.split(":")) for c in a.lm_sizes.split(",")]
    lm_cases = ([(12, 4), (8, 4)] if a.quick else lm_cases) if "lm" in only else []
    rec_cases = a.recovery_cases.split(",") if "recovery" in only else []
    report = {
        "command": " ".join(["python", "benchmarks/bench_fit.py", *(argv or sys.argv[1:])]),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cases": [],
    }
    print(f"{'case':<28} {'contender':<22} {'s/sweep (median, min..max)':<34} final rel. error")
    for N, M, R, sweeps in cp_cases:
        rows = bench_cp(N, M, R, sweeps, a.repeats)
        name = f"CP N={N} M={M} R={R} x{sweeps}"
        for who, vals in rows.items():
            if not vals:
                continue
            t = _summ([v[0] for v in vals])
            e = _summ([v[1] for v in vals])
            print(
                f"{name:<28} {who:<22} {t[0]:.2e} ({t[1]:.1e}..{t[2]:.1e})      "
                f"{e[0]:.1e} ({e[1]:.1e}..{e[2]:.1e})"
            )
            report["cases"].append({"case": name, "contender": who, "per_sweep": t, "error": e})
    print(f"{'case':<28} {'contender':<22} {'total s (median, min..max)':<34} final rel. error")
    for N, M, R in tt_cases:
        rows = bench_tt(N, M, R, a.repeats)
        name = f"TT N={N} M={M} R={R}"
        for who, vals in rows.items():
            t = _summ([v[0] for v in vals])
            e = _summ([v[1] for v in vals])
            extra = ""
            if who == "mtd als":
                extra = f"  [{_summ([v[2] for v in vals])[0]:.1e} s/sweep, "
                extra += f"{_summ([v[3] for v in vals])[0]:g} sweeps]"
            print(
                f"{name:<28} {who:<22} {t[0]:.2e} ({t[1]:.1e}..{t[2]:.1e})      "
                f"{e[0]:.1e} ({e[1]:.1e}..{e[2]:.1e}){extra}"
            )
            report["cases"].append({"case": name, "contender": who, "total": t, "error": e})
    for N in sweep_sizes:
        for name, vals in bench_sweep(N, a.repeats).items():
            t = _summ(vals)
            case = f"sweep N={N} M=2 r=4 {name}"
            print(f"{case:<40} mtd als {t[0]:.2e} s/sweep ({t[1]:.1e}..{t[2]:.1e})")
            report["cases"].append({"case": case, "contender": "mtd als", "per_sweep": t})
    for N, r in lm_cases:
        for solver in a.lm_solvers.split(","):
            case, vals = bench_lm(N, r, a.repeats, solver)
            t = _summ(vals)
            who = f"mtd lm {solver}"
            print(f"{case:<40} {who:<18} {t[0]:.2e} s/step ({t[1]:.1e}..{t[2]:.1e})", flush=True)
            report["cases"].append({"case": case, "contender": who, "per_step": t})
    for case in rec_cases:
        rows = bench_recovery(case, range(101, 106), a.restarts, a.method)
        ok = sum(row["error"] < 1e-10 for row in rows)
        errs = " ".join(f"{row['error']:.1e}" for row in rows)
        secs = _summ([row["seconds"] for row in rows])
        print(
            f"recovery {case:<22} {ok}/{len(rows)} below 1e-10  errors [{errs}]  "
            f"{secs[0]:.1f} s/fit ({secs[1]:.1f}..{secs[2]:.1f})",
            flush=True,
        )
        report["cases"].append({"case": f"recovery {case}", "fits": rows, "successes": ok})
    if a.out:
        a.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
