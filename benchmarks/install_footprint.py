"""Measure what installing mtd costs on disk, in fresh virtual environments.

Usage (from the repository root; needs network access to the package index)::

    python benchmarks/install_footprint.py [--dir /tmp/mtd-footprint] [--extras "" test all]

For each set of extras it creates a fresh venv, runs ``pip install ".[extras]"`` and
reports the size of the venv's ``site-packages`` minus that of an empty venv (pip and
setuptools), with the distributions that were installed.  The numbers in the README's
"Dependencies, and why" section come from this script.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree_size(path: Path) -> int:
    """Bytes of the regular files under ``path``."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            f = Path(dirpath, name)
            if not f.is_symlink():
                total += f.stat().st_size
    return total


def site_packages(venv: Path) -> Path:
    """The ``site-packages`` folder of a venv."""
    (sp,) = venv.glob("lib/python*/site-packages")
    return sp


def measure(base: Path, extras: str) -> tuple[int, list[str]]:
    """Install mtd with ``extras`` into a fresh venv; its added size and distributions."""
    venv = base / f"venv-{extras or 'core'}"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    py = venv / "bin" / "python"
    empty = tree_size(site_packages(venv))
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", target],
        check=True,
    )
    frozen = subprocess.run(
        [str(py), "-m", "pip", "list", "--format=freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return tree_size(site_packages(venv)) - empty, frozen


def main() -> None:
    """Parse the arguments, measure each set of extras and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to create the venvs")
    parser.add_argument("--extras", nargs="*", default=["", "test", "all"])
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="mtd-footprint-"))
    base.mkdir(parents=True, exist_ok=True)
    for extras in args.extras:
        size, frozen = measure(base, extras)
        label = f"mtd[{extras}]" if extras else "mtd"
        print(f"{label:12s} {size / 2**20:8.1f} MiB  {' '.join(sorted(frozen))}", flush=True)


if __name__ == "__main__":
    main()
