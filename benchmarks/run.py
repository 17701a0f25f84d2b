"""Run mtd's benchmarks side by side with their competitors and write JSON + a Markdown table.

Usage::

    python benchmarks/run.py            # every bench_*.py (matricization + ranks: ~6 min)
    python benchmarks/run.py --quick    # small sizes only (well under a minute)
    python benchmarks/run.py --only matricization ranks --out benchmarks/results/mine.json
    python benchmarks/run.py --table benchmarks/results/full-20250101.json   # reprint

BLAS is pinned to one thread (the variables below are set before numpy is imported),
so the numbers compare algorithms, not core counts.  Every ``bench_<name>.py`` next to
this file is run (``--only`` picks some) and defines ``cases(quick)``: a list of dicts with

``group``, ``case``, ``params``
    labels;
``setup``
    a callable returning the data (not timed);
``contenders``
    ``{label: fn}``; ``fn(data)`` returns ``(result, phases)`` where ``phases`` maps
    phase names (e.g. conversion, elimination) to seconds the function measured itself;
``baseline``
    the label the ratios divide by;
``scaling``
    optional ``{label: exponent}``: the runtime is predicted as ``t * (n' / n) ** exponent``
    from the previous size of the same series, and a case predicted over ``--budget``
    seconds is recorded as skipped instead of run;
``limits``
    optional ``{label: (param, max)}``: skip when ``params[param] > max``.

Timing is ``time.perf_counter``, best of up to 5 repeats (fewer for slow cases).
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import datetime  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
MODULES = tuple(sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py")))
sys.path[:0] = [str(HERE.parent), str(HERE)]  # this checkout's mtd, and the bench modules


def _version(name: str) -> str | None:
    try:
        mod = importlib.import_module(name)
    except ImportError:
        return None
    return str(getattr(mod, "__version__", "?"))


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_name = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        blas_name = "unknown"
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "blas": blas_name,
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "versions": {
            name: _version(name) for name in ("mtd", "numpy", "scipy", "sympy", "flint", "tensorly")
        },
    }


def time_call(fn: Any, data: Any) -> tuple[float, Any, dict[str, float], int]:
    """Best-of-k wall time of ``fn(data)``; k = 5, 3 or 1 depending on the first run."""
    best, result, phases, runs = float("inf"), None, {}, 0
    while True:
        t0 = time.perf_counter()
        result_i, phases_i = fn(data)
        elapsed = time.perf_counter() - t0
        runs += 1
        if elapsed < best:
            best, result, phases = elapsed, result_i, dict(phases_i)
        limit = 5 if best < 0.2 else 3 if best < 2.0 else 1
        if runs >= limit:
            return best, result, phases, runs


def _fmt(t: float) -> str:
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def run(quick: bool, budget: float, only: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in MODULES:
        if only and name not in only:
            continue
        module = importlib.import_module(f"bench_{name}")
        last: dict[tuple[str, str], tuple[float, float]] = {}  # (series, label) -> (size, t)
        for case in module.cases(quick):
            data = case["setup"]()
            size = float(case.get("size", 1))
            series = case.get("series", case["case"])
            entry = {k: case[k] for k in ("group", "case", "params", "baseline")}
            entry["results"] = {}
            for label, fn in case["contenders"].items():
                limit = case.get("limits", {}).get(label)
                if limit and case["params"][limit[0]] > limit[1]:
                    entry["results"][label] = {"skipped": f"{limit[0]} > {limit[1]} (size cap)"}
                    continue
                exponent = case.get("scaling", {}).get(label)
                prev = last.get((series, label))
                if exponent is not None and prev is not None:
                    predicted = prev[1] * (size / prev[0]) ** exponent
                    if predicted > budget:
                        entry["results"][label] = {
                            "skipped": f"predicted {predicted:.0f} s > {budget:.0f} s budget"
                        }
                        last[(series, label)] = (size, predicted)
                        continue
                best, result, phases, runs = time_call(fn, data)
                last[(series, label)] = (size, best)
                entry["results"][label] = {
                    "seconds": best,
                    "runs": runs,
                    "result": result,
                    "phases": phases,
                }
                print(
                    f"  {case['group']:<14} {case['case']:<34} {label:<28} {_fmt(best):>10}",
                    file=sys.stderr,
                    flush=True,
                )
            results = [r["result"] for r in entry["results"].values() if "result" in r]
            entry["agree"] = all(r == results[0] for r in results)
            rows.append(entry)
            del data
    return rows


def _phases(phases: dict[str, float]) -> str:
    return " + ".join(f"{k[:4]} {_fmt(v)}" for k, v in phases.items())


def markdown(rows: list[dict[str, Any]]) -> str:
    """One table per group: best time per contender, its phases, and ``time / baseline``."""
    out: list[str] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    for group, items in groups.items():
        labels: list[str] = []
        for row in items:
            labels += [lab for lab in row["results"] if lab not in labels]
        base = items[0]["baseline"]
        out.append(f"\n### {group}: time, and (ratio to `{base}`)\n")
        out.append("| case | " + " | ".join(labels) + " |")
        out.append("|---|" + "---|" * len(labels))
        for row in items:
            b = row["results"].get(row["baseline"], {}).get("seconds")
            cells = []
            for lab in labels:
                r = row["results"].get(lab)
                if r is None:
                    cells.append("")
                elif "skipped" in r:
                    cells.append(f"skipped: {r['skipped']}")
                else:
                    cell = _fmt(r["seconds"])
                    if b and lab != row["baseline"]:
                        cell += f" ({r['seconds'] / b:.2g}×)"
                    if r["phases"]:
                        cell += f" [{_phases(r['phases'])}]"
                    cells.append(cell)
            flag = "" if row["agree"] else " ⚠ results differ"
            out.append(f"| {row['case']}{flag} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--out", type=Path, help="JSON output path")
    parser.add_argument(
        "--budget",
        type=float,
        help="skip cases predicted slower than this many seconds (default 60; 5 with --quick)",
    )
    parser.add_argument("--only", nargs="*", default=[], choices=MODULES)
    parser.add_argument("--table", type=Path, help="print the tables of an earlier JSON; no run")
    args = parser.parse_args()
    if args.table:
        print(markdown(json.loads(args.table.read_text())["cases"]))
        return
    budget = args.budget if args.budget is not None else (5.0 if args.quick else 60.0)
    mode = "quick" if args.quick else "full"
    out = args.out or HERE / "results" / f"{mode}-{datetime.date.today():%Y%m%d}.json"
    started = time.perf_counter()
    rows = run(args.quick, budget, args.only)
    report = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "mode": mode,
        "budget_seconds": budget,
        "total_seconds": time.perf_counter() - started,
        "machine": machine_info(),
        "cases": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(markdown(rows))
    print(f"\nwrote {out} ({report['total_seconds']:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
