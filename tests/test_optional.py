"""The light install: what works without the optional packages, and the errors that name
the extra to install when a feature needs one."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mtd
from mtd import _modular, _optional

OPTIONAL = ("tensorly", "sympy", "matplotlib")


def _run_without_optional(body: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter where importing the optional packages fails."""
    code = f"import sys\nfor m in {OPTIONAL!r}: sys.modules[m] = None\n" + body
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_core_works_without_optional_packages():
    out = _run_without_optional(
        "import mtd\n"
        "T = mtd.ModeTree.baseline(3)\n"
        "d = mtd.TreeDecomposition.random(T, M=2, r=2, kind='integer', max_weight=1000, seed=0)\n"
        "A = d.to_tensor(arithmetic='exact')\n"
        "print(mtd.matricization_rank(A, [0, 2, 4, 6], method='exact'),\n"
        "      mtd.matricization_rank(A, [0, 2, 4, 6], method='modular'),\n"
        "      mtd.generic_rank(d, [0, 2, 4, 6], seed=0).lower)\n"
    )
    assert out.returncode == 0, out.stderr
    # Theorem 7, baseline tree over 8 modes, I = the even modes: every mode of I is a leaf
    # whose sibling leaf is in Iᶜ (4 pairs at depth 3) and |Θ(I)| = |Θ(Iᶜ)| = 4, so both
    # bounds are r^4 = 16; a random integer witness reaches the generic rank.
    assert [int(v) for v in out.stdout.split()] == [2**4] * 3


def test_verify_runs_without_optional_packages():
    out = _run_without_optional("from mtd.cli import main\nsys.exit(main(['verify', '--quick']))\n")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks hold" in out.stdout


def test_import_optional_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorly", None)  # makes `import tensorly` fail
    with pytest.raises(mtd.MissingDependencyError, match=r'pip install "mtd\[interop\]"'):
        _optional.import_optional("tensorly", purpose="this test")
    with pytest.raises(ImportError, match="this test needs the optional package 'tensorly'"):
        _optional.import_optional("tensorly", purpose="this test")


def test_tensorly_conversion_without_tensorly(monkeypatch):
    for name in ("tensorly", "tensorly.cp_tensor", "tensorly.tt_tensor"):
        monkeypatch.setitem(sys.modules, name, None)
    d = mtd.TreeDecomposition.random(mtd.ModeTree.star(3), M=3, r=2, form="colt", seed=0)
    with pytest.raises(mtd.MissingDependencyError, match=r"to_tensorly_cp.*mtd\[interop\]"):
        mtd.to_tensorly_cp(d)
    with pytest.raises(mtd.MissingDependencyError, match=r"to_tensorly_tt.*mtd\[interop\]"):
        mtd.to_tensorly_tt(d)


def test_sympy_backend_without_sympy(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)
    X = np.array([[1, 2], [2, 4]])
    with pytest.raises(mtd.MissingDependencyError, match=r"sympy.*mtd\[sympy\]"):
        mtd.matrix_rank(X, method="exact", backend="sympy")
    # the default backends do not need sympy: rank 1 (the rows are proportional)
    assert mtd.matrix_rank(X, method="exact") == 1
    assert mtd.matrix_rank(X, method="modular", prime=2**61 - 1) == 1  # flint, below 2**64


def test_huge_primes_use_flint_then_sympy(monkeypatch):
    mersenne = 2**89 - 1  # prime, above the deterministic Miller-Rabin range
    assert mersenne >= _modular._MR_LIMIT
    assert _modular.is_prime(mersenne) and not _modular.is_prime(mersenne + 2)  # 3 divides it
    assert (mersenne + 2) % 3 == 0
    monkeypatch.setitem(sys.modules, "flint", None)
    monkeypatch.setitem(sys.modules, "sympy", None)
    with pytest.raises(mtd.MissingDependencyError, match=r"mtd\[sympy\]"):
        _modular.is_prime(mersenne)


def test_import_mtd_loads_no_heavy_package():
    # `import mtd` stays light (README): the engine's dependencies (python-flint, opt_einsum,
    # scipy) and every optional package load on first use.  An eager import anywhere in the
    # package's import graph puts its name in sys.modules and fails this test.
    heavy = (
        "flint", "opt_einsum", "scipy", "tensorly", "sympy", "jax", "optax", "dask",
        "joblib", "matplotlib", "pandas", "tqdm", "sklearn", "hypothesis", "IPython",
    )  # fmt: skip
    code = f"import sys, mtd\nprint(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
