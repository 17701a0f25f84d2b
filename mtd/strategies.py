"""Hypothesis strategies for testing code built on mtd.

Users import these in their own property-based tests::

    from hypothesis import given
    from mtd.strategies import mode_trees, index_sets

    @given(mode_trees(max_modes=8))
    def test_tiling_partitions(tree): ...

Every strategy takes keyword-only ``min_*``/``max_*`` bounds whose defaults adjust
to each other, and raises :class:`mtd.errors.InvalidArgumentError` on impossible
combinations (e.g. ``min_modes > max_modes``).  This module needs the optional
dependency ``hypothesis`` (``pip install "mtd[strategies]"``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ._optional import import_optional

import_optional("hypothesis", purpose="mtd.strategies")  # a clear error if it is missing
from hypothesis import strategies as st  # noqa: E402

from .errors import InvalidArgumentError  # noqa: E402
from .trees import ModeTree  # noqa: E402

__all__ = [
    "mode_trees",
    "index_sets",
    "integer_matrices_of_rank",
    "integer_tensors",
]


def _check_range(name: str, lo: int, hi: int, floor: int) -> None:
    if lo < floor:
        raise InvalidArgumentError(f"min_{name} must be >= {floor}; got {lo}")
    if hi < lo:
        raise InvalidArgumentError(f"max_{name} must be >= min_{name}; got {hi} < {lo}")


@st.composite
def _trees(draw: Any, modes: tuple[int, ...], max_arity: int) -> Any:
    """Nested tuple over exactly ``modes``: shuffle, then split recursively."""
    if len(modes) == 1:
        return modes[0]
    k = draw(st.integers(2, min(max_arity, len(modes))))
    cuts = sorted(
        draw(st.lists(st.integers(1, len(modes) - 1), min_size=k - 1, max_size=k - 1, unique=True))
    )
    bounds = [0, *cuts, len(modes)]
    return tuple(draw(_trees(modes[a:b], max_arity)) for a, b in itertools.pairwise(bounds))


def mode_trees(
    *, min_modes: int = 1, max_modes: int = 8, max_arity: int = 2, contiguous: bool = False
) -> st.SearchStrategy[ModeTree]:
    """Generate :class:`~mtd.ModeTree` objects.

    Parameters
    ----------
    min_modes, max_modes : int
        Bounds on the number of modes ``N`` (``1 <= min_modes <= max_modes``).
    max_arity : int
        The largest number of children of an interior node (>= 2).
    contiguous : bool
        If True every node is a contiguous range of modes (like the baseline
        dilated network); otherwise the modes are shuffled first, so nodes such
        as ``{0, 2}`` appear.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of ModeTree
    """
    _check_range("modes", min_modes, max_modes, 1)
    if max_arity < 2:
        raise InvalidArgumentError(f"max_arity must be >= 2; got {max_arity}")

    @st.composite
    def build(draw: Any) -> ModeTree:
        n = draw(st.integers(min_modes, max_modes))
        order = list(range(n))
        if not contiguous:
            order = draw(st.permutations(order))
        return ModeTree.from_nested(draw(_trees(tuple(order), max_arity)))

    return build()


def index_sets(
    n_modes: int, *, min_size: int = 1, max_size: int | None = None, proper: bool = True
) -> st.SearchStrategy[frozenset[int]]:
    """Generate index sets ``I`` of modes of an order-``n_modes`` tensor.

    Parameters
    ----------
    n_modes : int
        The order ``N``.
    min_size, max_size : int
        Bounds on ``|I|``; ``max_size`` defaults to ``N - 1`` if ``proper`` else ``N``.
    proper : bool
        If True (default) ``I`` is never the set of all modes, so ``Iᶜ`` is non-empty.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of frozenset of int
    """
    top = n_modes - 1 if proper else n_modes
    if max_size is None:
        max_size = top
    if max_size > top:
        raise InvalidArgumentError(
            f"max_size must be <= {top} for n_modes={n_modes} (proper={proper}); got {max_size}"
        )
    _check_range("size", min_size, max_size, 0)
    return st.sets(st.integers(0, n_modes - 1), min_size=min_size, max_size=max_size).map(frozenset)


def integer_matrices_of_rank(
    *,
    min_rows: int = 1,
    max_rows: int = 12,
    min_cols: int = 1,
    max_cols: int = 12,
    max_entry: int = 3,
) -> st.SearchStrategy[tuple[np.ndarray, int]]:
    """Generate ``(X, rank)``: integer matrices whose rank is known by construction.

    ``X = P @ Q`` where ``P`` (``m×k``) is ``[E; B]`` and ``Q`` (``k×n``) is
    ``[E', C]`` with ``E``, ``E'`` identity-containing blocks arranged under
    random row/column permutations, so both factors have full rank ``k`` and
    ``rank X = k`` exactly, independently of any rank routine.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of (ndarray of int64, int)
    """
    _check_range("rows", min_rows, max_rows, 1)
    _check_range("cols", min_cols, max_cols, 1)

    @st.composite
    def build(draw: Any) -> tuple[np.ndarray, int]:
        m = draw(st.integers(min_rows, max_rows))
        n = draw(st.integers(min_cols, max_cols))
        k = draw(st.integers(0, min(m, n)))
        ent = st.integers(-max_entry, max_entry)
        # P = perm_rows([I_k; B]) has rank k because it contains I_k; likewise Q.
        B = np.array(
            draw(st.lists(ent, min_size=(m - k) * k, max_size=(m - k) * k)), dtype=np.int64
        ).reshape(m - k, k)
        C = np.array(
            draw(st.lists(ent, min_size=k * (n - k), max_size=k * (n - k))), dtype=np.int64
        ).reshape(k, n - k)
        P = np.vstack([np.eye(k, dtype=np.int64), B])[draw(st.permutations(range(m)))]
        Q = np.hstack([np.eye(k, dtype=np.int64), C])[:, draw(st.permutations(range(n)))]
        return P @ Q, k

    return build()


def integer_tensors(
    *, min_modes: int = 1, max_modes: int = 4, max_dim: int = 3, max_entry: int = 3
) -> st.SearchStrategy[np.ndarray]:
    """Generate small integer tensors (int64) of random order and shape.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of ndarray
    """
    _check_range("modes", min_modes, max_modes, 1)

    @st.composite
    def build(draw: Any) -> np.ndarray:
        shape = tuple(
            draw(st.lists(st.integers(1, max_dim), min_size=min_modes, max_size=max_modes))
        )
        size = int(np.prod(shape))
        vals = draw(st.lists(st.integers(-max_entry, max_entry), min_size=size, max_size=size))
        return np.array(vals, dtype=np.int64).reshape(shape)

    return build()
