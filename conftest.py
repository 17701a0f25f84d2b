"""Root conftest: doctests in mtd/ get ``np`` and ``mtd`` injected.

A doctest that imports an optional package (the extras ``interop``, ``sympy``, ``plot``)
is skipped when that package is not installed, as the tests do with ``importorskip``.
"""

import importlib.util

import numpy as np
import pytest
from _pytest.doctest import DoctestItem

import mtd

OPTIONAL = ("tensorly", "sympy", "matplotlib", "tqdm")


def _installed(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def pytest_collection_modifyitems(config, items):
    """Skip the doctests that import an optional package that is not installed."""
    missing = [m for m in OPTIONAL if not _installed(m)]
    for item in items:
        if not missing or not isinstance(item, DoctestItem):
            continue
        source = "\n".join(example.source for example in item.dtest.examples)
        for name in missing:
            if f"import {name}" in source or f"from {name}" in source:
                item.add_marker(pytest.mark.skip(reason=f"needs the optional package {name}"))


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["mtd"] = mtd


# mtd.plot's examples need the optional matplotlib (the ``plot`` extra).
collect_ignore = [] if importlib.util.find_spec("matplotlib") else ["mtd/plot.py"]
