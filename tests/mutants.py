"""A battery of single-line bugs planted in mtd's math, to show what catches them.

Each :class:`Mutant` names a module file, an exact snippet of its current source
(which must occur exactly once: ``tests/test_mutants.py`` fails loudly when a snippet
goes stale), its replacement, and the test files that exercise that code.  A mutant
is applied to a copy of the repository in a temporary directory, never in place.

Two uses:

* ``python -m pytest -m mutants tests/test_mutants.py``: each mutant must make
  ``mtd.theorems.run_checks(quick=True)`` fail (a check that does not hold, or an
  exception), and at least 90 % of the battery must be flagged;
* ``python tests/mutants.py [--verify] [--tests] [--jobs 2] [NAME ...]``: runs ``mtd verify``
  (quick) and/or each mutant's test files against every mutant and prints a table.
  A mutant is *killed* by the tests when pytest fails.

All mutants change a number mtd reports (a tree, a bound, a rank, a tensor entry),
except where ``wrong_number`` is false (a mutant that only loosens a bound, for
instance): the test suite must kill every mutant that yields a wrong number.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    """One planted bug: replace ``original`` (exactly once in ``path``) by ``replacement``."""

    name: str
    path: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    wrong_number: bool = True
    verify_catches: bool = True


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # ---------------------------------------------------------------- mode trees
    M(
        "from_dilations children reversed",
        "mtd/trees.py",
        "times = np.stack([times - d, times], axis=1)",
        "times = np.stack([times, times - d], axis=1)",
        ("tests/test_trees.py",),
    ),
    M(
        "from_dilations reads the dilations top-down",
        "mtd/trees.py",
        "d = ds[layer - 1]",
        "d = ds[L - layer]",
        ("tests/test_trees.py",),
    ),
    M(
        "swapped dilations not reversed",
        "mtd/trees.py",
        "out.extend(reversed(block))",
        "out.extend(block)",
        ("tests/test_trees.py",),
    ),
    M(
        "tiling takes strict subsets only",
        "mtd/trees.py",
        "            if count == z:\n",
        "            if count == z and z < len(modes):\n",
        ("tests/test_trees.py",),
    ),
    M(
        "tiling skips the last child",
        "mtd/trees.py",
        "stack.extend(reversed(self._kid_ids(i)))",
        "stack.extend(reversed(self._kid_ids(i)[:-1]))",
        ("tests/test_trees.py",),
    ),
    M(
        "hybrid segments not inherited from ancestors",
        "mtd/hybrids.py",
        "        best[n] = b\n",
        "        best[n] = where.get(n, none)\n",
        ("tests/test_hybrids.py", "tests/test_claim5.py"),
    ),
    # ---------------------------------------------------------------- bounds
    M(
        "Theorem 7 upper uses max",
        "mtd/bounds.py",
        "q = min(tiles_I, tiles_C)",
        "q = max(tiles_I, tiles_C)",
        ("tests/test_bounds.py",),
    ),
    M(
        "Theorem 7 lower counts the root",
        "mtd/bounds.py",
        "split &= tree._depth >= 1",
        "split &= tree._depth >= 0",
        ("tests/test_bounds.py",),
    ),
    M(
        "Theorem 7 lower: one side suffices",
        "mtd/bounds.py",
        "& (kids_I > 0) & (kids_C > 0)",
        "& ((kids_I > 0) | (kids_C > 0))",
        ("tests/test_bounds.py",),
    ),
    M(
        "Theorem 7 lower := upper",
        "mtd/bounds.py",
        "    return r**p, r**q",
        "    return r**q, r**q",
        ("tests/test_bounds.py",),
    ),
    M(
        "trivial bound uses max",
        "mtd/bounds.py",
        "return M ** min(len(rows), n - len(rows))",
        "return M ** max(len(rows), n - len(rows))",
        ("tests/test_bounds.py",),
    ),
    M(
        "tree min-cut: leaf cut max(r, M)",
        "mtd/bounds.py",
        "leaf_cut = min(r, M)",
        "leaf_cut = max(r, M)",
        ("tests/test_bounds.py", "tests/test_mincut.py"),
        wrong_number=False,  # only loosens an upper bound (when M > r)
    ),
    M(
        "tree min-cut: split node free",
        "mtd/bounds.py",
        "            f[node] = (min(together[0], d * split), min(together[1], d * split))",
        "            f[node] = (min(together[0], split), min(together[1], split))",
        ("tests/test_bounds.py", "tests/test_mincut.py"),
    ),
    # ---------------------------------------------------------------- matricization
    M(
        "matricize returns the transpose",
        "mtd/matricization.py",
        "return arr.transpose(rows + cols).reshape(n_rows, -1)",
        "return arr.transpose(rows + cols).reshape(n_rows, -1).T",
        ("tests/test_matricization.py",),
    ),
    M(
        "matricize columns in descending mode order",
        "mtd/matricization.py",
        "cols = tuple(m for m in range(arr.ndim) if m not in rs)",
        "cols = tuple(m for m in reversed(range(arr.ndim)) if m not in rs)",
        ("tests/test_matricization.py",),
    ),
    # ---------------------------------------------------------------- ranks
    M(
        "exact rank modulo 2^31 - 1 (flint)",
        "mtd/ranks.py",
        "        return Z if p is None else flint.nmod_mat(Z, p)",
        "        return flint.nmod_mat(Z, p or 2**31 - 1)",
        ("tests/test_ranks.py",),
    ),
    M(
        "exact rank modulo 2^31 - 1 (numpy)",
        "mtd/ranks.py",
        "        return int(_modular.exact_rank(data))",
        "        return int(_modular.rank_mod(_modular.residues(data, 2**31 - 1), 2**31 - 1)[0])",
        ("tests/test_ranks.py",),
    ),
    M(
        "exact rank skips the verification",
        "mtd/_modular.py",
        "    while r < n:\n        bound = log2_minor_bound(A, R, C)",
        "    while False:\n        bound = log2_minor_bound(A, R, C)",
        ("tests/test_ranks.py",),
    ),
    M(
        "p-adic check accepts a non-divisible remainder",
        "mtd/_modular.py",
        "  # T is not divisible by q\n            return False",
        "  # T is not divisible by q\n            return True",
        ("tests/test_ranks.py",),
    ),
    # ---------------------------------------------------------------- evaluation
    M(
        "mixed: swap every channel",
        "mtd/decompositions/mixed.py",
        "n_channels=d.sizes[mu] // 2, node=mu)",
        "n_channels=d.sizes[mu], node=mu)",
        ("tests/test_mixed.py", "tests/test_claim5.py"),
    ),
    M(
        "mixed: output of T only",
        "mtd/decompositions/mixed.py",
        "outputs=(OutputTerm(slots[0][root]), OutputTerm(slots[1][root])),",
        "outputs=(OutputTerm(slots[0][root]),),",
        ("tests/test_mixed.py",),
    ),
    M(
        "dense swap copies one way",
        "mtd/decompositions/_dense.py",
        "            vals[s][:n] = vals[t][:n]\n",
        "            vals[s][:n] = vals[s][:n]\n",
        ("tests/test_mixed.py", "tests/test_decompositions.py"),
    ),
    M(
        "eq. 3 children weights swapped",
        "mtd/decompositions/_dense.py",
        "ops = [(arith.matmul(w, x), m) for w, (x, m) in zip(weights, kids, strict=False)]",
        "ops = [(arith.matmul(w, x), m) for w, (x, m) in zip(weights[::-1], kids, strict=False)]",
        ("tests/test_decompositions.py",),
    ),
    M(
        "plan children out of order",
        "mtd/decompositions/_plan.py",
        "children=tuple(slot[c] for c in children[node]),",
        "children=tuple(slot[c] for c in sorted(children[node], key=min)),",
        ("tests/test_decompositions.py",),
    ),
    M(
        "embed: high and low halves exchanged",
        "mtd/decompositions/embed.py",
        "cols = slice(h, r) if upper else slice(0, h)",
        "cols = slice(0, h) if upper else slice(h, r)",
        ("tests/test_claim5.py", "tests/test_mixed.py"),
    ),
    M(
        "embed: no swap at the root",
        "mtd/decompositions/embed.py",
        "cross = parent is None or source[parent] != t",
        "cross = parent is not None and source[parent] != t",
        ("tests/test_claim5.py", "tests/test_mixed.py"),
    ),
    # ---------------------------------------------------------------- min-cut, certification
    M(
        "mixed min-cut: max instead of sum",
        "mtd/mincut.py",
        "    total = sum(rank for rank, _ in terms)",
        "    total = max(rank for rank, _ in terms)",
        ("tests/test_mincut.py", "tests/test_certify.py"),
    ),
    M(
        "min-cut: leaf rank 1",
        "mtd/mincut.py",
        "rank = min(dim, int(step.matrix.shape[1]), step.size)",
        "rank = 1",
        ("tests/test_mincut.py", "tests/test_certify.py"),
    ),
    M(
        "min-cut (one tree): leaf rank 1",
        "mtd/mincut.py",
        "rank[leaf] = np.minimum(np.minimum(dim[leaf], skel.matrix_cols[leaf]), skel.size[leaf])",
        "rank[leaf] = 1",
        ("tests/test_mincut.py", "tests/test_certify.py"),
    ),
    M(
        "subtree classes ignore the labels",
        "mtd/_subtrees.py",
        "key = _dense(label[level] * (width + 1) + arity[level])",
        "key = _dense(arity[level])",
        ("tests/test_subtrees.py", "tests/test_witness.py", "tests/test_mincut.py"),
    ),
    M(
        "generic_rank: lower := upper",
        "mtd/certify.py",
        "        lower=int(lower),",
        "        lower=int(upper),",
        ("tests/test_certify.py",),
    ),
    M(
        "generic_rank: probes stop at half",
        "mtd/certify.py",
        "trial.probe_rounds(p, max(1, min(upper, cap)), rep.reach)",
        "trial.probe_rounds(p, max(1, min(upper, cap) // 2), rep.reach)",
        ("tests/test_certify.py",),
        wrong_number=False,  # the lower bound stays valid, only less often certified
        verify_catches=False,  # quick verify materializes its witnesses; probes run in full
    ),
    M(
        "batched ranks: a dependent column still counts",
        "mtd/_batch_ranks.py",
        "self.rank[self.alive & ~has] = i",
        "self.rank[self.alive & ~has] = i + 1",
        ("tests/test_profiles_batched.py",),
        verify_catches=False,  # verify does not take rank profiles
    ),
    # ---------------------------------------------------------------- networks
    M(
        "pooling network: windows pool only their first child",
        "mtd/networks/pooling.py",
        "                for j in range(1, k):\n                    nxt = x[:, idx[:, j]]",
        "                for j in range(1, 1):\n                    nxt = x[:, idx[:, j]]",
        ("tests/test_networks_pooling.py",),
    ),
    M(
        "dilated network: both operands from the second child",
        "mtd/networks/dilated.py",
        "        a = arith.matmul(first, arith.convert(pair[0]).T)",
        "        a = arith.matmul(second, arith.convert(pair[0]).T)",
        ("tests/test_networks_dilated.py",),
    ),
    M(
        "overlapping network: global pooling squares the first half",
        "mtd/networks/overlapping.py",
        "prod = arith.mul(flat[:, :half], flat[:, half : 2 * half])",
        "prod = arith.mul(flat[:, :half], flat[:, :half])",
        ("tests/test_networks_overlapping.py",),
    ),
    # ---------------------------------------------------------------- separation
    M(
        "Corollary 8: exponent ratio inverted",
        "mtd/separation.py",
        "needed = int_root_ceil(half, Fraction(eH, eT))",
        "needed = int_root_ceil(half, Fraction(eT, eH))",
        ("tests/test_separation.py",),
    ),
)


def check_snippets(mutants: tuple[Mutant, ...] = MUTANTS, root: Path = ROOT) -> list[str]:
    """Problems with the battery: snippets that do not occur exactly once, duplicate names."""
    problems = []
    names = [m.name for m in mutants]
    problems += [f"duplicate name {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    for m in mutants:
        text = (root / m.path).read_text()
        count = text.count(m.original)
        if count != 1:
            problems.append(f"{m.name}: snippet occurs {count} times in {m.path}")
        if m.original == m.replacement:
            problems.append(f"{m.name}: replacement equals the original")
    return problems


def apply(mutant: Mutant, dest: Path, root: Path = ROOT, *, with_tests: bool = False) -> Path:
    """Copy the package (and tests) to ``dest`` and plant ``mutant`` there."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    shutil.copytree(root / "mtd", dest / "mtd", ignore=ignore)
    if with_tests:
        shutil.copytree(root / "tests", dest / "tests", ignore=ignore)
        shutil.copy(root / "pyproject.toml", dest / "pyproject.toml")
    target = dest / mutant.path
    text = target.read_text()
    assert text.count(mutant.original) == 1, f"stale mutant {mutant.name!r}"
    target.write_text(text.replace(mutant.original, mutant.replacement))
    return dest


_VERIFY = (
    "import sys\n"
    "from mtd.theorems import run_checks\n"
    "reps = run_checks(quick=True)\n"
    "bad = [r.claim for r in reps if not r.holds]\n"
    "print('FLAGGED: ' + '; '.join(bad) if bad else 'ALL HOLD')\n"
    "sys.exit(1 if bad else 0)\n"
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    return env


def run_verify(mutant: Mutant, *, timeout: float = 300) -> tuple[bool, str]:
    """``(flagged, how)``: whether ``run_checks(quick=True)`` fails under ``mutant``."""
    with tempfile.TemporaryDirectory(prefix="mtd-mutant-") as tmp:
        apply(mutant, Path(tmp))
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _VERIFY],
                cwd=tmp,
                env=_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return True, "timeout"
    if proc.returncode == 0:
        return False, "all checks hold"
    if proc.stdout.startswith("FLAGGED"):
        return True, proc.stdout.strip()
    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
    return True, f"error: {last[:160]}"


def run_tests(mutant: Mutant, *, timeout: float = 600) -> tuple[bool, str]:
    """``(killed, how)``: whether the mutant's test files fail under it."""
    with tempfile.TemporaryDirectory(prefix="mtd-mutant-") as tmp:
        apply(mutant, Path(tmp), with_tests=True)
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
        cmd += ["--no-header", "-o", "addopts=", *mutant.tests]
        env = _env()
        env["HYPOTHESIS_PROFILE"] = "dev"  # derandomized: the same examples every run
        try:
            proc = subprocess.run(
                cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return True, "timeout"
    lines = proc.stdout.strip().splitlines()
    return proc.returncode != 0, (lines[-1] if lines else proc.stderr[-160:])


def main(argv: list[str] | None = None) -> int:
    """Run the battery and print one line per mutant (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="mutant names (default: all)")
    ap.add_argument("--verify", action="store_true", help="run mtd verify --quick")
    ap.add_argument("--tests", action="store_true", help="run each mutant's test files")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if not (args.verify or args.tests):
        args.verify = args.tests = True
    problems = check_snippets()
    if problems:
        print("stale battery:", *problems, sep="\n  ")
        return 2
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]

    def one(m: Mutant) -> tuple[Mutant, tuple[bool, str] | None, tuple[bool, str] | None, float]:
        t0 = time.perf_counter()
        v = run_verify(m) if args.verify else None
        t = run_tests(m) if args.tests else None
        return m, v, t, time.perf_counter() - t0

    flagged = killed = wrong = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for m, v, t, secs in pool.map(one, chosen):
            cells = [f"{m.name:55s}"]
            if v is not None:
                flagged += v[0]
                cells.append(f"verify: {'FLAGGED' if v[0] else 'missed '}")
            if t is not None:
                killed += t[0]
                wrong += m.wrong_number
                cells.append(f"tests: {'killed ' if t[0] else 'SURVIVED'}")
            cells.append(f"{secs:5.1f}s")
            print(" | ".join(cells), flush=True)
            for res in (v, t):
                if res is not None and not res[0]:
                    print(f"    {res[1]}", flush=True)
    n = len(chosen)
    if args.verify:
        print(f"verify flagged {flagged}/{n} ({100 * flagged / max(n, 1):.0f} %)")
    if args.tests:
        print(f"tests killed {killed}/{n} ({wrong} yield a wrong number)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
