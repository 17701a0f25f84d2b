"""The separating example of Cohen, Tamari & Shashua (ICLR 2018) and Corollary 8, for every k.

``T`` is the baseline tree over ``N = 2^L`` modes, ``T̄`` its k-swapped companion,
and the mixture nodes are the blocks of ``2^k`` consecutive modes (the nodes of
height ``k``, shared by both trees: the output of layer ``k``).  The paper gives H
and I for ``k = 2`` only; this module constructs them for every ``k`` (with
``L ≥ k + 1``, so that there are at least two blocks):

* **H** takes the segments of the first half of the blocks from ``T`` and all else
  (the other blocks and the root segment) from ``T̄``;
* **I** takes, in each block from ``T``, its even offsets (which split every leaf
  pair ``{2i, 2i+1}`` of ``T`` and form one node of ``T̄``), and in each block from
  ``T̄``, its lower half (which splits every leaf pair ``{b, b + 2^(k-1)}`` of ``T̄``
  and is one node of ``T``).

Then every element of ``I`` has its leaf sibling (in H) in ``Iᶜ``, so Theorem 7's
bounds meet at ``r^(N/2)`` for H, while for ``T`` and for ``T̄`` they meet at
``r^(N/4 + N/2^(k+1))``: a block contributes ``2^(k-1)`` split pairs in its own
tree and one split pair of halves in the other.  For ``k = 2``, ``L = 4`` this is
the paper's example, ``I = {0,2,4,6,8,9,12,13}``.  A single tree decomposition of
size ``r'`` therefore needs ``r'^(N/4 + N/2^(k+1)) ≥ (r/2)^(N/2)``, i.e.
``r' ≥ (r/2)^(2/(1+2^(1-k)))``, to match what the mixed decomposition of size
``r`` realizes (Claim 5 puts hybrids of size ``r/2`` inside it) — Corollary 8.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ._rich import Rich
from ._typing import Node
from ._validation import check_int
from .bounds import theorem7_exponents
from .errors import InvalidArgumentError
from .hybrids import FROM_T, FROM_T_BAR, HybridTree, hybrid_tree
from .trees import ModeTree

__all__ = ["SeparatingExample", "separating_example", "GapReport", "gap_report", "int_root_ceil"]


@dataclass(frozen=True, repr=False)
class SeparatingExample(Rich):
    """The trees, mixture nodes, hybrid and index set of the separating example.

    Attributes
    ----------
    L, k : int
        Layers (``N = 2^L`` modes) and the swap block size.
    T, T_bar : ModeTree
        The baseline tree and its k-swapped companion.
    mixture_nodes : tuple of frozenset
        The blocks of ``2^k`` consecutive modes (depth ``L − k``).
    hybrid : HybridTree
        H, with the tree each of its nodes came from.
    I : tuple of int
        The index set, sorted.
    """

    L: int
    k: int
    T: ModeTree
    T_bar: ModeTree
    mixture_nodes: tuple[Node, ...]
    hybrid: HybridTree
    I: tuple[int, ...]

    @property
    def n_modes(self) -> int:
        """``N = 2^L``."""
        return 2**self.L


def separating_example(L: int, k: int) -> SeparatingExample:
    """Construct the separating example's T, T̄, mixture nodes, H and I (module docstring).

    Parameters
    ----------
    L : int
        The number of layers; ``N = 2^L`` modes.  Needs ``L >= k + 1``.
    k : int
        The block size of the swapped companion (``k >= 1``).

    Returns
    -------
    SeparatingExample

    Raises
    ------
    InvalidArgumentError
        If ``L < k + 1`` (fewer than two blocks).

    Examples
    --------
    The paper's example (0-based):

    >>> from mtd.separation import separating_example
    >>> ex = separating_example(4, 2)
    >>> ex.I
    (0, 2, 4, 6, 8, 9, 12, 13)
    """
    k = check_int(k, "k", minimum=1)
    L = check_int(L, "L", minimum=1)
    if L < k + 1:
        raise InvalidArgumentError(
            f"the separating example needs L >= k + 1 (at least two blocks of 2^k modes); "
            f"got L = {L}, k = {k}"
        )
    T, T_bar = ModeTree.baseline(L), ModeTree.swapped(L, k)
    size = 2**k
    n_blocks = 2 ** (L - k)
    blocks = tuple(frozenset(range(b * size, (b + 1) * size)) for b in range(n_blocks))
    choice = {blk: (FROM_T if b < n_blocks // 2 else FROM_T_BAR) for b, blk in enumerate(blocks)}
    choice[T.root] = FROM_T_BAR
    H = hybrid_tree(T, T_bar, blocks, choice)
    I: list[int] = []
    for b in range(n_blocks):
        start = b * size
        if b < n_blocks // 2:
            I.extend(range(start, start + size, 2))  # even offsets: split T's leaf pairs
        else:
            I.extend(range(start, start + size // 2))  # lower half: split T̄'s leaf pairs
    return SeparatingExample(L, k, T, T_bar, blocks, H, tuple(I))


def int_root_ceil(value: int, exponent: Fraction) -> int:
    """The smallest integer ``x >= 1`` with ``x ** exponent.numerator >= value ** ...``.

    Precisely: the least integer ``x`` with ``x^q >= value^p`` for ``exponent = p/q``
    — i.e. ``ceil(value^(p/q))`` computed exactly with integers.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from mtd.separation import int_root_ceil
    >>> int_root_ceil(64, Fraction(16, 9))  # 64^(16/9) = 1625.5
    1626
    """
    p, q = exponent.numerator, exponent.denominator
    target = value**p
    lo, hi = 1, 1
    while hi**q < target:
        hi *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        if mid**q >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass(frozen=True, repr=False)
class GapReport(Rich):
    """Corollary 8's numbers for one setting (``mtd gap``)."""

    L: int
    k: int
    r: int
    I: tuple[int, ...]
    exponent_T: int
    exponent_Tbar: int
    exponent_H: int
    bounds_meet: bool
    exponent_ratio: Fraction
    channels_needed: int
    channels_needed_sum: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``mtd gap --json`` keys)."""
        return {
            "L": self.L,
            "k": self.k,
            "r": self.r,
            "n_modes": 2**self.L,
            "I": list(self.I),
            "exponent_T": self.exponent_T,
            "exponent_Tbar": self.exponent_Tbar,
            "exponent_H": self.exponent_H,
            "bounds_meet": self.bounds_meet,
            "rank_T": _power_string(self.r, self.exponent_T),
            "rank_Tbar": _power_string(self.r, self.exponent_Tbar),
            "rank_H_half_size": _power_string(self.r // 2, self.exponent_H),
            "exponent_ratio": str(self.exponent_ratio),
            "exponent_ratio_float": float(self.exponent_ratio),
            "channels_needed": self.channels_needed,
            "channels_needed_sum": self.channels_needed_sum,
        }

    def to_json(self) -> str:
        """One JSON object."""
        return json.dumps(self.to_dict())


def _power_string(base: int, exp: int) -> str:
    """``base**exp`` as decimal digits, or ``"base^exp"`` beyond 4000 digits.

    Converting a huge int to decimal is quadratic in CPython (and refused past 4300 digits
    by default), so very large ranks keep their exact power form.
    """
    if base > 1 and exp * math.log10(base) >= 4000:
        return f"{base}^{exp}"
    return str(base**exp)


def gap_report(L: int, k: int, r: int) -> GapReport:
    """Corollary 8: the channels a single network needs to match the mixed one.

    Computes Theorem 7's exponents for T, T̄ and H on the separating example
    (they meet, so the generic ranks are ``r^e``), and the least ``r'`` with
    ``r'^e_T ≥ (r/2)^e_H`` (one network of size ``r'``, ``channels_needed``) and
    with ``2·r'^e_T ≥ (r/2)^e_H`` (the sum T + T̄ of size ``r'`` each,
    ``channels_needed_sum``), exactly with integers.

    Parameters
    ----------
    L, k : int
        As in :func:`separating_example`.
    r : int
        The mixed decomposition's size (even, >= 2).

    Examples
    --------
    >>> from mtd.separation import gap_report
    >>> rep = gap_report(5, 4, 128)
    >>> rep.exponent_T, rep.exponent_H, str(rep.exponent_ratio), rep.channels_needed
    (9, 16, '16/9', 1626)
    """
    r = check_int(r, "r", minimum=2)
    if r % 2:
        raise InvalidArgumentError(
            f"r must be even (the mixed decomposition swaps r/2 channels); got r = {r}"
        )
    ex = separating_example(L, k)
    (pT, qT), (pB, qB), (pH, qH) = (
        theorem7_exponents(t, ex.I) for t in (ex.T, ex.T_bar, ex.hybrid.tree)
    )
    meet = pT == qT and pB == qB and pH == qH
    eT, eH = qT, pH
    half = r // 2
    needed = int_root_ceil(half, Fraction(eH, eT))
    # sum of the two networks of size r' each: 2 r'^eT >= half^eH
    target = half**eH
    lo, hi = 1, needed  # needed^eT >= target, so `needed` qualifies
    while lo < hi:
        mid = (lo + hi) // 2
        if 2 * mid**eT >= target:
            hi = mid
        else:
            lo = mid + 1
    return GapReport(
        L=ex.L,
        k=ex.k,
        r=r,
        I=ex.I,
        exponent_T=qT,
        exponent_Tbar=qB,
        exponent_H=pH,
        bounds_meet=meet,
        exponent_ratio=Fraction(2 * 2**k, 2**k + 2),
        channels_needed=needed,
        channels_needed_sum=lo,
    )
