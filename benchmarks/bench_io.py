"""Saving and loading decompositions (``mtd.save`` / ``mtd.load``) vs. pickle and raw ``np.savez``.

A tree decomposition of the baseline tree over ``N = 64`` modes with ``M = r``
(``r = 8``: 8,064 weights; ``r = 32``: 129,024), Gaussian or integer weights.  Each
contender writes the decomposition to a file in a temporary folder and reads it back:

``mtd json`` / ``mtd npz``
    :func:`mtd.save` then :func:`mtd.load` (the loaded object is rebuilt through the
    validating constructor); phases ``save`` and ``load``;
``pickle``
    ``pickle.dump`` / ``pickle.load`` of the object (not a safe format to share: loading a
    pickle runs code);
``np.savez (arrays only)``
    the weight arrays alone, no structure (the lower bound on I/O).

The result is the number of weight entries read back (the same for every contender);
file sizes for these cases: r = 8 Gaussian 182 kB (json) / 94 kB (npz); r = 32
Gaussian 2795 / 1024 kB; r = 32 integer 452 / 113 kB.

Run through ``python benchmarks/run.py --only io`` or standalone
``python benchmarks/bench_io.py [--quick]``.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
import time
from typing import Any

import numpy as np

import mtd


def _setup(r: int, kind: str) -> Any:
    def make() -> Any:
        d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(6), M=r, r=r, kind=kind, seed=0)
        return d, tempfile.mkdtemp()

    return make


def _entries(d: Any) -> int:
    return sum(int(a.size) for ws in d.weights.values() for a in ws)


def _mtd(ext: str) -> Any:
    def run(data: Any) -> tuple[Any, dict[str, float]]:
        d, folder = data
        path = os.path.join(folder, f"d.{ext}")
        t0 = time.perf_counter()
        mtd.save(d, path)
        t1 = time.perf_counter()
        back = mtd.load(path)
        t2 = time.perf_counter()
        return _entries(back), {"save": t1 - t0, "load": t2 - t1}

    return run


def _pickle(data: Any) -> tuple[Any, dict[str, float]]:
    d, folder = data
    path = os.path.join(folder, "d.pickle")
    with open(path, "wb") as fh:
        pickle.dump(d, fh)
    with open(path, "rb") as fh:
        back = pickle.load(fh)
    return _entries(back), {}


def _savez(data: Any) -> tuple[Any, dict[str, float]]:
    d, folder = data
    path = os.path.join(folder, "w.npz")
    flat = [a for ws in d.weights.values() for a in ws]
    arrays = {f"a{i}": a for i, a in enumerate(flat)}
    np.savez_compressed(path, V=d.discretizers, **arrays)
    with np.load(path) as z:
        return sum(int(z[k].size) for k in z.files if k != "V"), {}


def cases(quick: bool) -> list[dict[str, Any]]:
    """Benchmark cases in the format of ``benchmarks/run.py``."""
    specs = [(8, "gaussian")] if quick else [(8, "gaussian"), (32, "gaussian"), (32, "integer")]
    out = []
    for r, kind in specs:
        out.append(
            {
                "group": "io: save + load a tree decomposition",
                "case": f"baseline N=64, M=r={r}, {kind}",
                "params": {"N": 64, "r": r, "kind": kind},
                "setup": _setup(r, kind),
                "contenders": {
                    "mtd json": _mtd("json"),
                    "mtd npz": _mtd("npz"),
                    "pickle": _pickle,
                    "np.savez (arrays only)": _savez,
                },
                "baseline": "np.savez (arrays only)",
            }
        )
    return out


def main() -> None:
    """Run this module's cases alone and print the table (as ``run.py`` would)."""
    import argparse

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run as runner

    parser = argparse.ArgumentParser(description="bench_io standalone")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runner.MODULES = ("io",)
    rows = runner.run(args.quick, 30.0, [])
    print(runner.markdown(rows))


if __name__ == "__main__":
    main()
