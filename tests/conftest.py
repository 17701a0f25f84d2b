"""Hypothesis settings profiles: `dev` (default, fast), `ci` and `explore`.

`dev` and `ci` (HYPOTHESIS_PROFILE=ci, more examples) are derandomized: the same
examples on every run of the same code, so a failure always reproduces.  `explore`
(HYPOTHESIS_PROFILE=explore) draws fresh random examples and prints the blob that
reproduces a failure (`@reproduce_failure`); use it to hunt for new counterexamples.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None, derandomize=True)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    max_examples=200,
    deadline=None,
    print_blob=True,
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
