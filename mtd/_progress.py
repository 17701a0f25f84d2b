"""Progress reports for long computations: silent, a callback, text lines, or a tqdm bar.

Long functions (:func:`mtd.generic_rank`, :func:`mtd.theorems.run_checks`) take a
``progress`` argument, resolved here by :func:`reporter`:

* ``None`` or ``False`` (the default in library calls): nothing is reported;
* a callable: called with a one-line message at each step (as before this module);
* ``True``: a tqdm progress bar (``tqdm.auto``: a widget in notebooks) when tqdm is
  installed and there is somewhere to draw it (a notebook, or stderr is a terminal);
  otherwise one line per step on stderr.

tqdm is optional (the ``progress`` extra, ``pip install "mtd[progress]"``): the text
fallback says the same things, and a library must not pull a UI package into every
install.  The command line turns progress on (:func:`for_terminal`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["Reporter", "reporter", "for_terminal", "have_tqdm"]

Progress = bool | Callable[[str], None] | None


def have_tqdm() -> bool:
    """Whether tqdm can be imported."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class Reporter:
    """Reports steps of a computation; the base class is silent.

    ``say(message)`` reports a message; ``advance(n)`` / ``reach(value)`` move a bar
    (ignored by text reporters); ``close()`` ends it.  Use as a context manager.
    """

    def say(self, message: str) -> None:
        """Report one message."""

    def advance(self, n: int = 1) -> None:
        """Move the bar ``n`` steps."""

    def reach(self, value: int) -> None:
        """Move the bar to ``value`` (never backwards)."""

    def close(self) -> None:
        """End the report."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Callback(Reporter):
    def __init__(self, fn: Callable[[str], None]):
        self.fn = fn

    def say(self, message: str) -> None:
        self.fn(message)


class _Text(Reporter):
    def __init__(self, prefix: str):
        self.prefix = prefix

    def say(self, message: str) -> None:
        print(f"{self.prefix}{message}", file=sys.stderr, flush=True)


class _Bar(Reporter):
    def __init__(self, total: int | None, desc: str, unit: str):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, unit=unit, leave=True, file=sys.stderr)

    def say(self, message: str) -> None:
        self.bar.set_postfix_str(message, refresh=True)

    def advance(self, n: int = 1) -> None:
        self.bar.update(n)

    def reach(self, value: int) -> None:
        if value > self.bar.n:
            self.bar.update(value - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def reporter(
    progress: Progress, *, total: int | None = None, desc: str = "", unit: str = "it"
) -> Reporter:
    """The reporter for a ``progress`` argument (module docstring).

    Parameters
    ----------
    progress : None, bool or callable
    total : int, optional
        The bar's length (unknown if None).
    desc : str
        The bar's label, and the prefix of text lines.
    unit : str
        The bar's unit.

    Raises
    ------
    InvalidArgumentTypeError
        If ``progress`` is none of these.

    Examples
    --------
    >>> from mtd._progress import reporter
    >>> with reporter(print) as rep:
    ...     rep.say("step 1")
    step 1
    >>> with reporter(None) as rep:
    ...     rep.say("nothing is printed")
    """
    from .errors import InvalidArgumentTypeError

    if progress is None or progress is False:
        return Reporter()
    if progress is True:
        if have_tqdm() and (_in_notebook() or sys.stderr.isatty()):
            return _Bar(total, desc, unit)
        return _Text(f"{desc}: " if desc else "")
    if callable(progress):
        return _Callback(progress)
    raise InvalidArgumentTypeError(
        f"progress must be None, a bool or a callable taking a message; got {progress!r}"
    )


def for_terminal(prefix: str) -> Progress:
    """What the command line passes as ``progress``: a bar on a terminal, else text lines.

    Lines (for logs and pipes) read ``<prefix><message>``.
    """
    if have_tqdm() and sys.stderr.isatty():
        return True

    def say(message: str) -> None:
        print(f"{prefix}{message}", file=sys.stderr, flush=True)

    return say
