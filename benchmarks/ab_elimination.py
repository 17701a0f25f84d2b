"""A/B of two versions of ``mtd/_elimination.py`` in one process, interleaved, in CPU time.

``python benchmarks/ab_elimination.py N BITS REPS NAME=PATH [NAME=PATH ...]`` loads each
file as a module, checks that all give the same rank of a random full-rank ``N × N``
matrix modulo the largest prime below ``2**BITS``, then in every repetition times one
float64 ``N × N`` product (the floor is a third of it) and each version, one after the
other, in CPU time of this process (one BLAS thread): a shared machine moves every
contender of a repetition alike.  Prints each version's median and smallest ratio to the
floor.  Example (the base a checkout of an earlier commit)::

    python benchmarks/ab_elimination.py 2048 21 7 \\
        base=/tmp/base-12a/mtd/_elimination.py new=mtd/_elimination.py

A file without ``rank_mod_float`` (an ``mtd/_modular.py``) is timed by its ``rank_mod``
on ``int64`` residues: the path primes from ``2**26`` on took before they had the float
elimination (its relative imports resolve in the current mtd)::

    python benchmarks/ab_elimination.py 2048 31 5 \\
        base=/tmp/base/mtd/_modular.py new=mtd/_elimination.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from mtd._modular import first_prime_below  # noqa: E402


def load(path: str, name: str):
    """``path`` as the module ``mtd.<name>`` (so its relative imports resolve in mtd)."""
    spec = importlib.util.spec_from_file_location("mtd." + name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "mtd"
    spec.loader.exec_module(module)
    return module


def main() -> None:
    n, bits, reps = (int(a) for a in sys.argv[1:4])
    versions = {}
    for arg in sys.argv[4:]:
        name, path = arg.split("=", 1)
        versions[name] = load(path, "_ab_" + name)
    p = first_prime_below(2**bits)
    rng = np.random.default_rng(0)
    A = rng.integers(0, p, (n, n))
    X = rng.random((n, n))
    rank = {name: getattr(m, "rank_mod_float", None) or m.rank_mod for name, m in versions.items()}
    ranks = {name: rank[name](A, p)[0] for name in versions}
    assert len(set(ranks.values())) == 1, ranks
    ratios: dict[str, list[float]] = {name: [] for name in versions}
    for _ in range(reps):
        t = time.process_time()
        X @ X
        floor = (time.process_time() - t) / 3
        for name in versions:
            t = time.process_time()
            rank[name](A, p)
            ratios[name].append((time.process_time() - t) / floor)
    for name, r in ratios.items():
        print(f"{name}: CPU / floor median {statistics.median(r):.2f}, min {min(r):.2f}")


if __name__ == "__main__":
    main()
