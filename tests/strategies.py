"""Hypothesis strategies shared by the tests (users' strategies live in mtd.strategies).

:func:`sharing_pairs` draws two mode trees that really share interior nodes: two
independently drawn trees almost never do (about 5 % of such pairs have a common
interior node other than the root), so mixed decompositions drawn that way are
nearly always a plain sum T + T̄ and bugs in the interconnection go unseen.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import mtd
from mtd.strategies import mode_trees


def _relabel(nested: Any, modes: list[int]) -> Any:
    if isinstance(nested, int):
        return modes[nested]
    return tuple(_relabel(c, modes) for c in nested)


@st.composite
def sharing_pairs(draw: Any, *, min_modes: int = 4, max_modes: int = 7, max_arity: int = 3) -> Any:
    """``(T, T_bar, mix)``: T_bar keeps an antichain of T's interior nodes, mix ⊆ those.

    T is any drawn tree; a non-empty antichain of its non-root interior nodes is
    kept as blocks; T_bar is a random tree over the blocks and the other modes with
    a random tree inside each block, so every kept node is interior in both trees.
    ``mix`` is a non-empty subset of the kept nodes (plus, sometimes, the root).
    """
    n = draw(st.integers(min_modes, max_modes))
    T = draw(mode_trees(min_modes=n, max_modes=n, max_arity=max_arity))
    candidates = sorted((v for v in T.interior_nodes if v != T.root), key=sorted)
    if not candidates:  # a star: no interior node below the root
        T = mtd.ModeTree.balanced(n)
        candidates = sorted((v for v in T.interior_nodes if v != T.root), key=sorted)
    order = draw(st.permutations(candidates))
    kept = [order[0]]
    for v in order[1:]:
        if all(v.isdisjoint(k) for k in kept) and draw(st.booleans()):
            kept.append(v)
    blocks = [sorted(k) for k in kept]
    blocks += [[m] for m in range(n) if not any(m in k for k in kept)]
    top = draw(mode_trees(min_modes=len(blocks), max_modes=len(blocks), max_arity=max_arity))

    def expand(nested: Any) -> Any:
        if isinstance(nested, int):
            block = blocks[nested]
            if len(block) == 1:
                return block[0]
            inner = draw(
                mode_trees(min_modes=len(block), max_modes=len(block), max_arity=max_arity)
            )
            return _relabel(inner.to_nested(), block)
        return tuple(expand(c) for c in nested)

    T_bar = mtd.ModeTree.from_nested(expand(top.to_nested()))
    mix = draw(st.lists(st.sampled_from(kept), min_size=1, unique=True))
    if draw(st.booleans()):
        mix.append(T.root)
    return T, T_bar, mix
