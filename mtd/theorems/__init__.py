"""Checks of mtd's mathematical claims, run on demand by ``mtd verify``.

Each check compares what mtd computes with a value that does **not** pass through
the code under test, and returns a :class:`CheckReport`: the claim, the setting,
what was expected, what was measured, the independent route the expectation took
(shown in every table and JSON report) and a verdict.  :func:`run_checks` runs
them all and is what the command line calls.

Independent routes live in :mod:`mtd._reference`, which imports nothing from mtd's
engine, ranks, matricization, bounds or certification: a walk down a dilated stack,
tilings and Theorem 7's exponents from nested tuples, eq. 3 / eq. 4 evaluated entry
by entry with Python integers, matricization by index mapping (and
``tensorly.unfold`` when TensorLy is installed), exact ranks by python-flint.  Other
second routes are a network's own forward pass and closed forms from the theory
page.  Every check of a certificate asserts ``lower <= upper`` and compares a
certified value with an independently computed rank where the size allows.
Random integer weights are drawn from ``-1000..1000`` (generic except with small
probability; see :meth:`mtd.TreeDecomposition.random`).

The checks are grouped by what they check, one submodule per group:
:mod:`~mtd.theorems.structure` (mode trees, tilings, Theorem 7's exponents),
:mod:`~mtd.theorems.arithmetic` (ranks, matricization), :mod:`~mtd.theorems.dilated`
(the dilated-network paper: Theorem 7, Claim 5, the separating example, Corollary 8),
:mod:`~mtd.theorems.mixed` (mixed decompositions at scale),
:mod:`~mtd.theorems.circuits` (the companion papers on arithmetic circuits) and
:mod:`~mtd.theorems.widths` (width design); :mod:`~mtd.theorems.report` holds
:class:`CheckReport`.  Every check is importable from :mod:`mtd.theorems`.

**Adding a check** (keep the signature uniform):

1. Write ``check_<name>(*, <keyword-only settings with full defaults>) -> CheckReport``
   in the submodule of its group, decorated with ``@_timed`` (from
   :mod:`~mtd.theorems.report`); compute the expected value by an independent route
   (add a plain routine to :mod:`mtd._reference` if needed, importing nothing from
   the engine) and name that route in ``independent=``.
2. Register it: ``CHECKS["<name>"] = check_<name>`` (the dict below, in the order
   the table should show) and its quick settings in ``_QUICK["<name>"]`` (``{}`` if
   the defaults are quick).  ``mtd verify --quick`` must stay under 10 s and the full
   run under 60 s on two cores.
3. Add it to the submodule's and this package's ``__all__``, and plant a bug it must
   catch in ``tests/mutants.py``.

:data:`NOT_YET_CHECKED` lists the claims of the theory page, §5 that need machinery
mtd does not have yet; ``mtd verify`` prints them so that it never claims more than
it checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from .._progress import reporter
from .arithmetic import check_exact_ranks, check_matricize
from .circuits import (
    check_depth_efficiency,
    check_generalized_g,
    check_overlapping,
    check_pooling_all_windows_split,
    check_pooling_geometry,
    check_recurrent_start_end,
)
from .dilated import (
    check_claim5,
    check_corollary8,
    check_networks,
    check_separating_example,
    check_theorem7_exact,
)
from .mincut import check_mincut_unequal_sizes
from .mixed import (
    check_mixed_vs_sum,
    check_mixed_vs_sum_r4,
    check_mixed_vs_sum_same_size,
    check_separating_example_large,
)
from .report import CheckReport
from .structure import (
    check_dilation_trees,
    check_swapped_shared_nodes,
    check_theorem7_structure,
    check_tilings,
)
from .widths import check_width_control

__all__ = [
    "CheckReport",
    "CHECKS",
    "NOT_YET_CHECKED",
    "check_dilation_trees",
    "check_swapped_shared_nodes",
    "check_tilings",
    "check_theorem7_structure",
    "check_exact_ranks",
    "check_matricize",
    "check_theorem7_exact",
    "check_mincut_unequal_sizes",
    "check_claim5",
    "check_separating_example",
    "check_corollary8",
    "check_networks",
    "check_depth_efficiency",
    "check_pooling_geometry",
    "check_pooling_all_windows_split",
    "check_generalized_g",
    "check_overlapping",
    "check_mixed_vs_sum",
    "check_recurrent_start_end",
    "check_separating_example_large",
    "check_mixed_vs_sum_r4",
    "check_mixed_vs_sum_same_size",
    "check_width_control",
    "run_checks",
    "reports_to_markdown",
    "reports_to_json",
]

CHECKS: dict[str, Callable[..., CheckReport]] = {
    "dilation_trees": check_dilation_trees,
    "swapped_shared_nodes": check_swapped_shared_nodes,
    "tilings": check_tilings,
    "theorem7_structure": check_theorem7_structure,
    "exact_ranks": check_exact_ranks,
    "matricize": check_matricize,
    "theorem7_exact": check_theorem7_exact,
    "mincut_unequal_sizes": check_mincut_unequal_sizes,
    "claim5": check_claim5,
    "separating_example": check_separating_example,
    "corollary8": check_corollary8,
    "networks": check_networks,
    "depth_efficiency": check_depth_efficiency,
    "pooling_geometry": check_pooling_geometry,
    "pooling_all_windows_split": check_pooling_all_windows_split,
    "generalized_g": check_generalized_g,
    "overlapping": check_overlapping,
    "mixed_vs_sum": check_mixed_vs_sum,
    "recurrent_start_end": check_recurrent_start_end,
    "separating_example_large": check_separating_example_large,
    "mixed_vs_sum_r4": check_mixed_vs_sum_r4,
    "mixed_vs_sum_same_size": check_mixed_vs_sum_same_size,
    "width_control": check_width_control,
}
"""Registry of the checks ``mtd verify`` runs, by name."""

_QUICK: dict[str, dict[str, Any]] = {
    "dilation_trees": {"layers": range(2, 5)},
    "swapped_shared_nodes": {"layers": range(2, 5)},
    "tilings": {"n_trees": 10},
    "theorem7_structure": {"n_cases": 30},
    "exact_ranks": {"n_cases": 10},
    "matricize": {"n_cases": 10, "tensorly": False},
    "theorem7_exact": {"n_cases": 10, "max_modes": 6},
    "mincut_unequal_sizes": {"n_cases": 12},
    "claim5": {"n_hybrids": 4},
    "separating_example": {"ks": (2,), "trees": ("T", "H")},
    "corollary8": {},
    "networks": {"M": 2},
    "depth_efficiency": {},
    "pooling_geometry": {"big": False, "partitions": ("left",)},
    "pooling_all_windows_split": {},
    "generalized_g": {},
    "overlapping": {"windows": (1, 2, 3)},
    "mixed_vs_sum": {"paper": False},
    "recurrent_start_end": {"T": 6},
    "separating_example_large": {"exact_factors": False},
    "mixed_vs_sum_r4": {"max_probes": 256},
    "mixed_vs_sum_same_size": {"reference": False},
    "width_control": {"L": 3, "widths": (2, 2)},
}

NOT_YET_CHECKED: tuple[str, ...] = ()
"""Claims of the theory page, §5 that ``mtd verify`` does not check yet."""


def run_checks(
    *, quick: bool = False, progress: Callable[[str], None] | bool | None = None
) -> list[CheckReport]:
    """Run every registered check and return their reports in registry order.

    Parameters
    ----------
    quick : bool, default False
        Use smaller settings (a few seconds in all).
    progress : callable or bool, optional
        A callable is called with each check's name before it runs; ``True`` shows a
        progress bar (tqdm, when installed) or the names on stderr.  Off by default.

    Examples
    --------
    >>> from mtd.theorems import run_checks
    >>> reports = run_checks(quick=True)
    >>> all(r.holds for r in reports)
    True
    """
    out = []
    with reporter(progress, total=len(CHECKS), desc="mtd verify", unit="checks") as rep:
        for name, fn in CHECKS.items():
            rep.say(name)
            out.append(fn(**(_QUICK[name] if quick else {})))
            rep.advance()
    return out


def reports_to_markdown(reports: Iterable[CheckReport]) -> str:
    """A Markdown table of reports."""
    head = (
        "| claim | setting | expected | measured | independent route | verdict |\n"
        "|---|---|---|---|---|---|"
    )
    return "\n".join([head, *(r.to_markdown() for r in reports)])


def reports_to_json(reports: Iterable[CheckReport]) -> str:
    """One JSON object: ``{"all_hold": bool, "checks": [...], "not_yet_checked": [...]}``."""
    reps = list(reports)
    return json.dumps(
        {
            "all_hold": all(r.holds for r in reps),
            "checks": [r.to_dict() for r in reps],
            "not_yet_checked": list(NOT_YET_CHECKED),
        },
        indent=2,
    )
