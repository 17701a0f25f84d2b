"""Root conftest: doctests in mtd/ get ``np`` and ``mtd`` injected."""

import importlib.util

import numpy as np
import pytest

import mtd


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["mtd"] = mtd


# mtd.plot's examples need the optional matplotlib (the ``plot`` extra).
collect_ignore = [] if importlib.util.find_spec("matplotlib") else ["mtd/plot.py"]
