"""The report every check returns, and helpers shared by the checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import _reference as ref
from .._rich import Rich

__all__ = ["CheckReport"]


@dataclass(frozen=True, repr=False)
class CheckReport(Rich):
    """The outcome of one check: what was claimed, expected, measured, and whether it held.

    Attributes
    ----------
    claim : str
        The claim checked, e.g. ``"dilation trees"``.
    setting : str
        The parameters it was checked on.
    expected : str
        What theory says, computed independently of the checked code.
    measured : str
        What mtd computed.
    independent : str
        The independent route the expected value came from: a formula of the theory
        page computed by :mod:`mtd._reference`, or a second computation that does not
        pass through the code under test.
    holds : bool
        The verdict.
    seconds : float
        Wall time of the check.
    details : dict
        Machine-readable specifics (counts, failures).
    """

    claim: str
    setting: str
    expected: str
    measured: str
    holds: bool
    independent: str = ""
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``"holds"`` or ``"FAILS"``."""
        return "holds" if self.holds else "FAILS"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field plus ``verdict``."""
        d = asdict(self)
        d["verdict"] = self.verdict
        return d

    def to_markdown(self) -> str:
        """One Markdown row: claim | setting | expected | measured | independent route | verdict."""
        cells = [
            self.claim,
            self.setting,
            self.expected,
            self.measured,
            self.independent,
            self.verdict,
        ]
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _timed(fn: Callable[..., CheckReport]) -> Callable[..., CheckReport]:
    def wrapper(*args: Any, **kwargs: Any) -> CheckReport:
        t0 = time.perf_counter()
        rep = fn(*args, **kwargs)
        return CheckReport(**{**asdict(rep), "seconds": time.perf_counter() - t0})

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _max_exact_rank(
    make: Callable[[int], np.ndarray], I: Any, *, tries: int = 3, stop_at: int | None = None
) -> int:
    """The largest exact rank (python-flint, :mod:`mtd._reference`) of ``[[make(seed)]]_I``.

    Random integer weights reach the generic rank except on a null set; a few tries
    guard against an unlucky draw.  Each value is a lower bound on the generic rank,
    so the search stops early once it reaches ``stop_at`` (a proven upper bound).
    """
    best = 0
    for seed in range(tries):
        best = max(best, ref.matricization_rank(make(seed), I))
        if stop_at is not None and best >= stop_at:
            break
    return best
