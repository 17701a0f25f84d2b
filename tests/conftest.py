"""Hypothesis settings profiles: `dev` (default, fast) and `ci` (HYPOTHESIS_PROFILE=ci).

The `ci` profile runs more examples and is derandomized, so a CI run is
reproducible: the same examples on every run of the same code.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_collection_modifyitems(config, items):
    """Skip the ``fuzz`` suite (minutes, subprocesses) unless selected with ``-m fuzz``."""
    import pytest

    if "fuzz" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="fuzz suite: run with -m fuzz")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)
