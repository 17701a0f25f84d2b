"""Root conftest: doctests in mtd/ get ``np`` and ``mtd`` injected."""

import numpy as np
import pytest

import mtd


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["mtd"] = mtd
