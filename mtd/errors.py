"""Exceptions raised by mtd.

Every error mtd raises for bad input derives from :class:`MTDError` *and* from the
matching builtin exception, so callers may catch either ``mtd.MTDError`` or the
builtin (``ValueError``, ``TypeError``, ``MemoryError``).  Messages state the
rule that was broken, the argument it concerns and what was received.
"""

from __future__ import annotations

__all__ = [
    "MTDError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidModeTreeError",
    "InvalidIndexSetError",
    "TensorTooLargeError",
    "AmbiguousRankWarning",
    "MissingDependencyError",
]


class MTDError(Exception):
    """Base class of every exception raised by mtd."""


class InvalidArgumentError(MTDError, ValueError):
    """Raised when an argument has the right type but a value that breaks a rule."""


class InvalidArgumentTypeError(MTDError, TypeError):
    """Raised when an argument has a type mtd does not accept."""


class InvalidModeTreeError(InvalidArgumentError):
    """Raised when a mode tree is malformed.

    For example: duplicate or missing modes, children that do not partition their
    parent, interior nodes with a single child, or leaves that are not ints.
    """


class InvalidIndexSetError(InvalidArgumentError):
    """Raised when an index set of modes breaks a rule.

    For example: it is empty where it must not be, repeats a mode, or contains a
    mode out of range.
    """


class TensorTooLargeError(MTDError, MemoryError):
    """Raised *before allocating* when a tensor would exceed the memory limit."""


class AmbiguousRankWarning(UserWarning):
    """Warned when a numerically computed rank sits on an ambiguous singular-value gap.

    The reported rank then depends on the tolerance; use ``method="exact"`` or
    ``method="modular"`` on integer data for a rank that can be trusted.
    """


class MissingDependencyError(MTDError, ImportError):
    """Raised when a feature needs an optional package that is not installed.

    The message names the package and the extra that installs it, e.g.
    ``pip install "mtd[plot]"``.
    """
