"""Import optional dependencies lazily, with an error that names the extra to install.

``import mtd`` needs only numpy, scipy, python-flint and opt_einsum.  The other packages
are optional, each installed by an extra of the package::

    tensorly    pip install "mtd[interop]"   TensorLy conversions
    sympy       pip install "mtd[sympy]"     exact ranks for primes >= 2**64, huge primes
    matplotlib  pip install "mtd[plot]"      pictures (mtd.plot)
    tqdm        pip install "mtd[progress]"  progress bars
    hypothesis  pip install "mtd[strategies]"  property-test strategies
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

__all__: list[str] = []

EXTRAS = {
    "tensorly": ("interop", "tensorly"),
    "sympy": ("sympy", "sympy"),
    "matplotlib": ("plot", "matplotlib"),
    "hypothesis": ("strategies", "hypothesis"),
    "tqdm": ("progress", "tqdm"),
}
"""Top-level module -> (the extra that installs it, its distribution name)."""


def import_optional(name: str, *, purpose: str) -> ModuleType:
    """Import the module ``name``, or raise :class:`MissingDependencyError` naming its extra.

    ``purpose`` completes the sentence "<purpose> needs <package>", e.g.
    ``"to_tensorly_cp"``.
    """
    top = name.split(".")[0]
    extra, dist = EXTRAS[top]
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the optional package {dist!r}, which is not installed; "
            f'install it with `pip install "mtd[{extra}]"` (or `pip install {dist}`)'
        ) from exc
