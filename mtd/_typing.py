"""Type aliases shared by mtd's modules."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["Mode", "Node", "Modes", "Nested", "Seed", "ArrayLike"]

Mode = int
"""A mode index, counted from 0."""

Node = frozenset[int]
"""A node of a mode tree: the set of modes below it."""

Modes = Iterable[int]
"""Anything iterable over modes, e.g. an index set ``I``."""

Nested = int | tuple["Nested", ...]
"""Nested-tuple form of a mode tree: an int leaf or a tuple of children."""

Seed = None | int | np.random.Generator
"""Anything :func:`numpy.random.default_rng` accepts as a seed."""

ArrayLike = npt.ArrayLike
