"""Certified ranks at scale: elimination near the float64 floor, structural witnesses.

Side by side in one run, one BLAS thread each (``MTD_BENCH_THREADS=2`` for two):

``elimination``
    full-rank ``n × n`` residue matrices (uniform in ``[0, p)``): mtd's rank modulo
    ``p`` now (``mtd.matrix_rank(method="modular", prime=p)``), the previous path (the
    same call in a checkout of an earlier commit, given by ``--base``, run in a
    subprocess), python-flint's ``nmod_mat(...).rank()`` (elimination only, conversion
    timed apart), and the *floor*: one third of a float64 ``n × n`` product's time
    (LU takes a third of a product's flops).  The product, mtd and python-flint are
    interleaved in every repetition, and the ratio to the floor is taken per
    repetition (wall and CPU), so a shared machine moves both sides of a ratio alike.
    Primes: the largest below ``2**21`` (one exact BLAS call per product up to
    ``n = 8192``; what :func:`mtd.generic_rank` draws witnesses modulo), below ``2**25``
    (two products; the witness prime before) and ``2**31 - 1`` (the default of
    ``matrix_rank``; above ``2**26`` mtd keeps its ``int64`` limb path).
``generic``
    :func:`mtd.generic_rank` on 64-mode architectures (``M = r = 2``): the baseline
    tree (structural witness, then ``method="probes"``) and the mixed decomposition of
    the baseline with its 2-swapped companion (probes), ``I`` the first ``j`` even
    modes (generic rank ``2^j``); and the baseline over ``2^16`` modes with ``I`` the
    odd modes (rank ``2^32768``, structural).
``--exact n ...``
    the exact rank over Q (``method="exact"``) against python-flint's
    ``fmpz_mat(X.tolist()).rank()``, full rank and rank 8 (the README's comparison).
``--probes j ...``
    the mixed decomposition certified at rank ``2^j`` by probes (``max_probes=2^j``),
    once, with the probe-matrix and rank seconds of every round, wall and CPU time and the
    load average before and after (the machine may be shared).
``--structural j ...``
    the same mixed decomposition and ``I`` by ``generic_rank``'s default
    (``method="auto"``: the hybrid-routed structural witness first), ``--reps`` times.
``--mixed-fraction n``
    ``n`` random small mixed architectures (the generator of
    ``tests/test_certify.py``: nested mixture nodes, ``M`` in 2..4, ``r`` in {2, 4}):
    how many the structural witness alone certifies (before: none, mixed decompositions
    had no structural witness), how many ``generic_rank`` certifies, and the median time
    of ``method="auto"`` against ``method="probes"``.
``--big n``
    one rank of a random full-rank ``n × n`` matrix modulo the largest prime below
    ``2**21`` (``matrix_rank(method="modular")``), once, with the time to draw it and
    the float64 product as the floor, estimated as 64 times the best of 3 products of
    ``n/4 × n/4`` (same BLAS threads; a 16384 × 16384 run needs about 6 GB).

Run ``python benchmarks/bench_issue12.py --base /path/to/old/checkout [--quick]``;
prints Markdown tables (and, with ``--out``, JSON with every repetition).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = os.environ.get("MTD_BENCH_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import mtd  # noqa: E402
from mtd._modular import first_prime_below  # noqa: E402

_OLD = """
import sys, time, json, numpy as np
sys.path.insert(0, {base!r})
import mtd
n, p, reps = {n}, {p}, {reps}
A = np.random.default_rng(0).integers(0, p, (n, n))
ts = []
for _ in range(reps):
    t = time.perf_counter(); k = mtd.matrix_rank(A, method="modular", prime=p)
    ts.append(time.perf_counter() - t)
print(json.dumps({{"rank": k, "times": ts, "file": mtd.__file__}}))
"""


def _times(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _fmt(ts: list[float]) -> str:
    return f"{statistics.median(ts):.3g} s [{min(ts):.3g}–{max(ts):.3g}]"


def _clock(fn) -> tuple[float, float]:
    """Wall and CPU (this process) seconds of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def elimination(n: int, p: int, reps: int, base: str | None) -> dict:
    """One matrix size and prime; the contenders interleaved within each repetition.

    Each repetition times the float64 product, mtd now and python-flint back to back,
    so a ratio to the floor is taken between calls seconds apart (the machine may be
    shared); wall and CPU times are both kept.
    """
    import flint

    rng = np.random.default_rng(0)
    A = rng.integers(0, p, (n, n))
    X, Y = rng.random((n, n)), rng.random((n, n))
    row: dict = {"n": n, "p": p, "new": [], "new cpu": [], "product": [], "product cpu": []}
    row["flint"] = []
    new_rank = mtd.matrix_rank(A, method="modular", prime=p, backend="numpy")  # warm-up
    t = time.perf_counter()
    F = flint.nmod_mat(A.tolist(), p)
    row["flint conversion"] = time.perf_counter() - t
    for _ in range(reps):
        w, c = _clock(lambda: X @ Y)
        row["product"].append(w)
        row["product cpu"].append(c)
        w, c = _clock(lambda: mtd.matrix_rank(A, method="modular", prime=p, backend="numpy"))
        row["new"].append(w)
        row["new cpu"].append(c)
        row["flint"].append(_clock(F.rank)[0])
    row["ratio to floor"] = [3 * a / b for a, b in zip(row["new"], row["product"], strict=True)]
    cpu = zip(row["new cpu"], row["product cpu"], strict=True)
    row["cpu ratio to floor"] = [3 * a / b for a, b in cpu]
    if base:
        code = _OLD.format(base=base, n=n, p=p, reps=reps)
        env = {**os.environ, "PYTHONPATH": base}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        old = json.loads(out.stdout)
        assert old["rank"] == new_rank and old["file"].startswith(base), old
        row["previous"] = old["times"]
    assert new_rank == F.rank() == n
    return row


_OLD_GENERIC = """
import sys, time, json
sys.path.insert(0, {base!r})
import mtd
from mtd.certify import generic_rank
T = mtd.ModeTree.baseline(6)
Tb = mtd.ModeTree.swapped(6, 2)
mix = [n for n in mtd.common_interior(T, Tb) if T.depth(n) == 4]
d = (mtd.TreeDecomposition.random(T, M=2, r=2, seed=0) if {kind!r} == "baseline"
     else mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0))
t = time.perf_counter()
res = generic_rank(d, list(range(0, 2 * {j}, 2)), seed=0, method="probes")
print(json.dumps({{"times": [time.perf_counter() - t], "lower": res.lower,
                  "rank seconds": sum(r[3] for r in res.rounds), "file": mtd.__file__}}))
"""


def generic(reps: int, quick: bool, base: str | None) -> list[dict]:
    """64-mode generic ranks, new and previous, and the 2^16-mode structural case."""
    from mtd.certify import generic_rank

    rows = []
    T = mtd.ModeTree.baseline(6)
    Tb = mtd.ModeTree.swapped(6, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if T.depth(n) == 4]
    archs = {
        "baseline": mtd.TreeDecomposition.random(T, M=2, r=2, seed=0),
        "mixed": mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0),
    }
    for j in (10,) if quick else (10, 12):
        I = list(range(0, 2 * j, 2))
        for kind, method in (("baseline", "auto"), ("baseline", "probes"), ("mixed", "probes")):
            got: list = []

            def run(d=archs[kind], I=I, method=method, got=got) -> None:
                got.append(generic_rank(d, I, seed=0, method=method))

            ts = _times(run, 1 if method == "probes" and j >= 12 else reps)
            res = got[-1]
            row = {
                "case": f"N=64 {kind}, I = first {j} even modes, method={method}",
                "times": ts,
                "lower": res.lower,
                "upper": res.upper,
                "certified": res.certified,
                "method": res.method,
                "rank seconds": sum(r[3] for r in res.rounds),
            }
            if base and method == "probes":
                code = _OLD_GENERIC.format(base=base, kind=kind, j=j)
                env = {**os.environ, "PYTHONPATH": base}
                out = subprocess.run(
                    [sys.executable, "-c", code],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                )
                old = json.loads(out.stdout)
                assert old["file"].startswith(base)
                row["previous"] = old
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    L = 12 if quick else 16
    big = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(L), M=2, r=2, seed=0)
    I = list(range(1, 2**L, 2))
    got_big: list = []
    ts = _times(lambda: got_big.append(generic_rank(big, I, seed=0)), reps)
    res = got_big[-1]
    assert res.certified
    rows.append(
        {
            "case": f"baseline, 2^{L} modes, I = odd modes",
            "times": ts,
            "lower": f"2^{res.lower.bit_length() - 1}",
            "upper": f"2^{res.upper.bit_length() - 1}",
            "certified": res.certified,
            "method": res.method,
        }
    )
    return rows


def probe_certification(j: int) -> dict:
    """Generic rank ``2^j`` of the mixed decomposition by probes, up to ``2^j`` probes."""
    from mtd.certify import generic_rank

    d = _mixed_64()
    got: list = []
    I = list(range(0, 2 * j, 2))
    load = os.getloadavg()[0]
    wall, cpu = _clock(
        lambda: got.append(generic_rank(d, I, seed=0, method="probes", max_probes=2**j))
    )
    res = got[0]
    row = {
        "j": j,
        "wall": wall,
        "cpu": cpu,
        "load average": [load, os.getloadavg()[0]],
        "lower": res.lower,
        "upper": res.upper,
        "certified": res.certified,
        "prime": res.prime,
        "rounds": [list(r) for r in res.rounds],
        "blas threads": os.environ["OPENBLAS_NUM_THREADS"],
    }
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def _mixed_64() -> mtd.MixedDecomposition:
    T = mtd.ModeTree.baseline(6)
    Tb = mtd.ModeTree.swapped(6, 2)
    mix = [n for n in mtd.common_interior(T, Tb) if T.depth(n) == 4]
    return mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, seed=0)


def structural_certification(j: int, reps: int) -> dict:
    """Generic rank ``2^j`` of the 64-mode mixed decomposition by ``generic_rank``'s default."""
    from mtd.certify import generic_rank

    d = _mixed_64()
    I = list(range(0, 2 * j, 2))
    got: list = []
    ts = _times(lambda: got.append(generic_rank(d, I, seed=0)), reps)
    res = got[-1]
    row = {
        "j": j,
        "times": ts,
        "lower": res.lower,
        "upper": res.upper,
        "certified": res.certified,
        "method": res.method,
    }
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def _random_mixed(rng: np.random.Generator, case: int) -> tuple:
    """One architecture and index set as ``tests/test_certify.py`` draws them."""

    def nest(items: list) -> object:
        items = list(items)
        while len(items) > 1:
            k = int(rng.integers(2, min(3, len(items)) + 1))
            order = rng.permutation(len(items))
            items = [items[i] for i in order]
            items = [tuple(items[:k]), *items[k:]]
        return items[0]

    def tree(blocks: list) -> mtd.ModeTree:
        parts = []
        for block in blocks:
            modes = list(block)
            rng.shuffle(modes)
            parts.append(nest(modes))
        return mtd.ModeTree.from_nested(nest(parts))

    N = int(rng.integers(4, 9))
    modes = [int(x) for x in rng.permutation(N)]
    cuts = sorted(
        int(c) for c in rng.choice(np.arange(1, N), size=int(rng.integers(1, 3)), replace=False)
    )
    blocks = [modes[a:b] for a, b in zip([0, *cuts], [*cuts, N], strict=True)]
    T, Tb = tree(blocks), tree(blocks)
    common = [c for c in mtd.common_interior(T, Tb) if len(c) < N]
    mix = [c for c in common if rng.random() < 0.7]
    M, r = int(rng.integers(2, 5)), int(rng.choice([2, 4]))
    m = mtd.MixedDecomposition.random(T, Tb, mix, M=M, r=r, seed=case)
    I = sorted(int(i) for i in rng.choice(N, size=int(rng.integers(1, N)), replace=False))
    return m, I


def mixed_fraction(n: int) -> dict:
    """Certified fractions on ``n`` random small mixed architectures, auto against probes."""
    from mtd.certify import generic_rank

    rng = np.random.default_rng(12)
    row: dict = {"n": n, "structural": 0, "auto": 0, "probes": 0, "auto s": [], "probes s": []}
    for case in range(n):
        m, I = _random_mixed(rng, case)
        t = time.perf_counter()
        auto = generic_rank(m, I, seed=case)
        row["auto s"].append(time.perf_counter() - t)
        t = time.perf_counter()
        probed = generic_rank(m, I, seed=case, method="probes")
        row["probes s"].append(time.perf_counter() - t)
        row["structural"] += auto.witness is not None and auto.witness.rank == auto.upper
        row["auto"] += auto.certified
        row["probes"] += probed.certified
        assert auto.lower >= (auto.witness.rank if auto.witness else 0)
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def exact_vs_flint(n: int, kind: str) -> dict:
    """``matrix_rank(method="exact")`` against python-flint's ``fmpz_mat(X.tolist()).rank()``.

    Entries uniform in ``[-10, 10]`` (``full``) or a product of two such ``n x 8`` and
    ``8 x n`` factors (``rank 8``); one call each, conversion included for flint.
    """
    import flint

    rng = np.random.default_rng(0)
    if kind == "full":
        X = rng.integers(-10, 11, (n, n))
    else:
        X = rng.integers(-10, 11, (n, 8)) @ rng.integers(-10, 11, (8, n))
    got: list = []
    mine = _clock(lambda: got.append(mtd.matrix_rank(X, method="exact")))
    theirs = _clock(lambda: got.append(flint.fmpz_mat(X.tolist()).rank()))
    assert got[0] == got[1]
    row = {"n": n, "kind": kind, "rank": got[0], "mtd": mine, "flint": theirs}
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def big_rank(n: int) -> dict:
    """One modular rank of a random ``n × n`` matrix (p < 2**21), against one product."""
    p = first_prime_below(2**21)
    mtd.matrix_rank(np.eye(300, dtype=np.int64), method="modular", prime=p)  # first-use imports
    t = time.perf_counter()
    A = np.random.default_rng(0).integers(0, p, (n, n))
    draw = time.perf_counter() - t
    got: list = []
    wall, cpu = _clock(lambda A=A: got.append(mtd.matrix_rank(A, method="modular", prime=p)))
    rank = got[0]
    del A
    row = {"n": n, "p": p, "rank": rank, "draw": draw, "wall": wall, "cpu": cpu}
    row["blas threads"] = os.environ["OPENBLAS_NUM_THREADS"]
    print(json.dumps(row), file=sys.stderr, flush=True)
    # the floor from a product of a quarter the size, times 64 (a full-size product takes
    # three times the elimination's flops: too long on a shared machine)
    m = n // 4
    X = np.random.default_rng(1).random((m, m))
    row["product"] = 64 * min(_clock(lambda: X @ X)[0] for _ in range(3))
    row["ratio to floor"] = 3 * wall / row["product"]
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", help="checkout of the previous commit (for the previous path)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-generic", action="store_true")
    ap.add_argument("--sizes", type=int, nargs="*", default=None, help="matrix sides")
    ap.add_argument(
        "--exact",
        type=int,
        nargs="*",
        default=[],
        help="sides n: the exact rank against python-flint's fmpz_mat (full rank and rank 8)",
    )
    ap.add_argument(
        "--structural",
        type=int,
        nargs="*",
        default=[],
        help="j: rank 2^j of the 64-mode mixed decomposition by generic_rank's default",
    )
    ap.add_argument(
        "--mixed-fraction",
        type=int,
        default=0,
        help="n: certified fractions on n random small mixed architectures",
    )
    ap.add_argument(
        "--probes",
        type=int,
        nargs="*",
        default=[],
        help="j: certify rank 2^j of the 64-mode mixed decomposition by probes (13: 8192)",
    )
    ap.add_argument("--big", type=int, nargs="*", default=[], help="n: one rank of n x n")
    ap.add_argument(
        "--primes",
        type=int,
        nargs="*",
        default=[21, 25, 31],
        help="b: the largest prime below 2**b (31: 2**31 - 1) for the elimination table",
    )
    args = ap.parse_args()
    sizes = args.sizes if args.sizes is not None else (1024,) if args.quick else (2048, 4096)
    primes = [first_prime_below(2**b) for b in args.primes]
    elim = []
    for n in sizes:
        for p in primes:
            elim.append(elimination(n, p, args.reps, args.base))
            print(json.dumps({k: v for k, v in elim[-1].items()}), file=sys.stderr, flush=True)
    if elim:
        print(
            "| n | p | mtd now | previous | python-flint | floor (product / 3) | now / floor "
            "[spread] | same, CPU | previous / now | flint / now |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
    for r in elim:
        now = statistics.median(r["new"])
        floor = statistics.median(r["product"]) / 3
        prev = statistics.median(r["previous"]) if "previous" in r else float("nan")
        fl = statistics.median(r["flint"])
        ratio, cpu = r["ratio to floor"], r["cpu ratio to floor"]
        print(
            f"| {r['n']} | {r['p']} | {_fmt(r['new'])} | "
            f"{_fmt(r['previous']) if 'previous' in r else '-'} | {_fmt(r['flint'])} | "
            f"{floor:.3g} s | {statistics.median(ratio):.2f}× [{min(ratio):.2f}–"
            f"{max(ratio):.2f}] | {statistics.median(cpu):.2f}× | {prev / now:.2f}× | "
            f"{fl / now:.2f}× |"
        )
    exact = []
    if args.exact:
        mtd.matrix_rank(np.ones((300, 300), dtype=np.int64), method="exact")  # first-use imports
        exact = [exact_vs_flint(n, kind) for kind in ("full", "rank 8") for n in args.exact]
        print()
        print("| exact rank over Q | mtd | python-flint (with conversion) | flint / mtd |")
        print("|---|---|---|---|")
        for e in exact:
            print(
                f"| {e['kind']}, n = {e['n']} | {e['mtd'][0]:.3g} s | {e['flint'][0]:.3g} s | "
                f"{e['flint'][0] / e['mtd'][0]:.1f}× |"
            )
    big = [big_rank(n) for n in args.big]
    for b in big:
        print(
            f"\nrank {b['rank']} of a random {b['n']} × {b['n']} matrix mod {b['p']}: "
            f"{b['wall']:.1f} s wall ({b['cpu']:.1f} s CPU), float64 product "
            f"{b['product']:.1f} s (64 × one of n/4), {b['ratio to floor']:.2f}× the floor, "
            f"{b['blas threads']} BLAS thread(s)"
        )
    probes = [probe_certification(j) for j in args.probes]
    if probes:
        print()
        print(
            "| rank 2^j by probes (mixed, N = 64) | BLAS threads | wall | CPU | forming / ranking "
            "(all rounds) | rounds: K (probe s, rank s) | load average before, after |"
        )
        print("|---|---|---|---|---|---|---|")
        for g in probes:
            rounds = ", ".join(f"{k} ({a:.1f}, {b:.1f})" for k, _, a, b in g["rounds"] if k >= 1024)
            form = sum(r[2] for r in g["rounds"])
            rank = sum(r[3] for r in g["rounds"])
            la = ", ".join(f"{x:.2f}" for x in g["load average"])
            print(
                f"| 2^{g['j']}: lower {g['lower']}, certified {g['certified']} | "
                f"{g['blas threads']} | {g['wall']:.1f} s | {g['cpu']:.1f} s | "
                f"{form:.1f} s / {rank:.1f} s | {rounds} | {la} |"
            )
    structural = [structural_certification(j, args.reps) for j in args.structural]
    if structural:
        print()
        print("| rank 2^j (mixed, N = 64), generic_rank default | time | certified | method |")
        print("|---|---|---|---|")
        for g in structural:
            print(
                f"| 2^{g['j']}: lower {g['lower']}, upper {g['upper']} | {_fmt(g['times'])} | "
                f"{g['certified']} | {g['method']} |"
            )
    fraction = mixed_fraction(args.mixed_fraction) if args.mixed_fraction else None
    if fraction:
        n = fraction["n"]
        print()
        print(
            "| random small mixed architectures | structural alone | auto | probes | "
            "auto s (median) | probes s (median) |"
        )
        print("|---|---|---|---|---|---|")
        print(
            f"| {n} | {fraction['structural']} ({100 * fraction['structural'] / n:.0f} %) | "
            f"{fraction['auto']} ({100 * fraction['auto'] / n:.0f} %) | "
            f"{fraction['probes']} ({100 * fraction['probes'] / n:.0f} %) | "
            f"{statistics.median(fraction['auto s']):.3g} | "
            f"{statistics.median(fraction['probes s']):.3g} |"
        )
    gen = [] if args.skip_generic else generic(args.reps, args.quick, args.base)
    if gen:
        print()
        print("| case | time now | previous | lower..upper | certified | method |")
        print("|---|---|---|---|---|---|")
        for g in gen:
            prev = g.get("previous")
            shown = f"{prev['times'][0]:.3g} s (rank {prev['lower']})" if prev else "-"
            print(
                f"| {g['case']} | {_fmt(g['times'])} | {shown} | {g['lower']}..{g['upper']} | "
                f"{g['certified']} | {g['method']} |"
            )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(
                {
                    "elimination": elim,
                    "exact": exact,
                    "generic": gen,
                    "probes": probes,
                    "structural": structural,
                    "mixed fraction": fraction,
                    "big": big,
                    "argv": sys.argv,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
