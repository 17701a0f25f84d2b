"""How long ``import mtd`` takes over ``import numpy``, in fresh interpreters.

Each repetition starts a new Python process that imports numpy, then mtd, and prints both
times (``time.perf_counter``).  Two settings, side by side in one run:

``bytecode``
    compiled bytecode cached, as after ``pip install`` (pip compiles every module): a
    private ``PYTHONPYCACHEPREFIX`` is warmed by one discarded run first.
``source``
    ``PYTHONDONTWRITEBYTECODE=1`` and no cache prefix: numpy loads its installed bytecode,
    while the checkout's modules are compiled from source on every import unless a
    ``__pycache__`` already sits next to them (an editable checkout in an environment that
    forbids bytecode writes).  A user of an installed wheel never pays this.

The baseline in the same run is numpy's own import time.  Run
``python benchmarks/bench_import.py [--repeats 15]``; prints a Markdown table (median and
range over the repetitions).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import time\n"
    "t0 = time.perf_counter(); import numpy; t1 = time.perf_counter()\n"
    "import mtd; t2 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1)\n"
)


def _run(env: dict[str, str]) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    numpy_s, mtd_s = (float(v) for v in out.stdout.split())
    return numpy_s, mtd_s


def measure(setting: str, repeats: int) -> dict[str, list[float]]:
    """Times of ``import numpy`` and of ``import mtd`` after it, ``repeats`` fresh processes."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as cache:
        if setting == "bytecode":
            env["PYTHONPYCACHEPREFIX"] = cache
            _run(env)  # warm the cache: compiles and writes every module once
        else:
            env.pop("PYTHONPYCACHEPREFIX", None)
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        runs = [_run(env) for _ in range(repeats)]
    return {"numpy": [r[0] for r in runs], "mtd": [r[1] for r in runs]}


def _fmt(values: list[float]) -> str:
    ms = [1000 * v for v in values]
    return f"{statistics.median(ms):.0f} ms ({min(ms):.0f}–{max(ms):.0f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    print("| setting | import numpy | import mtd over numpy | ratio of medians |")
    print("|---|---|---|---|")
    for setting in ("bytecode", "source"):
        t = measure(setting, args.repeats)
        ratio = statistics.median(t["mtd"]) / statistics.median(t["numpy"])
        print(f"| {setting} | {_fmt(t['numpy'])} | {_fmt(t['mtd'])} | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
