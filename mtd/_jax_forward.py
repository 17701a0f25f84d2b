"""The forward passes of mtd's networks written in ``jax.numpy`` (used by :mod:`mtd.training`).

Each network is reduced to a hashable *structure* (its shape, not its weights) so that
compiled functions can be cached per architecture and reused across seeds; the weights
travel as a pytree of arrays.

* Dilated networks (one or an interconnected pair): :func:`dilated_forward` is the full
  sequence output, the same computation as ``forward``; :func:`dilated_last_forward`
  computes only the output at the last time step, evaluating each layer at just the time
  steps that output depends on (for ``T = N = 64`` one network evaluates 63 units
  instead of the full pass's 264), stored in tree order so that each layer reads the two
  halves of the one below without gathering — the logits of training.
* Pooling networks: :func:`pooling_forward`, window by window as
  :class:`~mtd.networks.PoolingConvAC` does, with one matrix per level (tied) or a stack of
  one per node (untied).

JAX is imported only inside the functions.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = [
    "dilated_forward",
    "dilated_last_forward",
    "dilated_needed",
    "g_jax",
    "pooling_forward",
    "pooling_structure",
]


def g_jax(jnp: Any, g: str, a: Any, b: Any) -> Any:
    """The generalized product ``g(a, b)`` (see :data:`mtd.decompositions.G_FUNCTIONS`)."""
    if g == "product":
        return a * b
    if g == "relu":
        return jnp.maximum(a + b, 0.0)
    if g == "max":
        return jnp.maximum(jnp.maximum(a, b), 0.0)
    return jnp.maximum(a, 0.0) + jnp.maximum(b, 0.0)


# ------------------------------------------------------------------------- dilated
def dilated_forward(structure: Any, params: Any, x: Any) -> Any:
    """``(B, T, r_0) -> (B, T - N + 1, r_L)``: every time step, as ``forward``."""
    import jax.numpy as jnp

    dilations, mix, g = structure[:3]
    hs = [x for _ in dilations]
    for l in range(len(dilations[0])):
        for i, dl in enumerate(dilations):
            d = dl[l]
            w1, w2 = params[i][l]
            hs[i] = g_jax(jnp, g, hs[i][:, :-d] @ w1.T, hs[i][:, d:] @ w2.T)
        if l + 1 in mix:
            hs = _exchange(jnp, hs)
    return _sum(hs)


def _exchange(jnp: Any, hs: list[Any]) -> list[Any]:
    half = hs[0].shape[-1] // 2
    a = jnp.concatenate([hs[1][..., :half], hs[0][..., half:]], axis=-1)
    b = jnp.concatenate([hs[0][..., :half], hs[1][..., half:]], axis=-1)
    return [a, b]


def _sum(hs: list[Any]) -> Any:
    out = hs[0]
    for h in hs[1:]:
        out = out + h
    return out


@functools.lru_cache(maxsize=64)
def dilated_needed(
    dilations: tuple[tuple[int, ...], ...], T: int
) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Per network, per layer ``0..L``: the time steps the last output reads, in tree order.

    Positions index that layer's own output (layer 0: the input), of length
    ``T - (d_1 + … + d_l)``.  Layer ``l`` at position ``t`` reads ``t`` and ``t + d_l`` of
    layer ``l - 1``, so the order of layer ``l - 1`` is the order of layer ``l`` followed
    by the same shifted by ``d_l``: each layer reads the first and second halves of the
    one below, with no gather in between.

    Examples
    --------
    >>> dilated_needed(((1, 2),), 4)[0]
    ((0, 2, 1, 3), (0, 2), (0,))
    """
    out = []
    for dl in dilations:
        L = len(dl)
        orders: list[tuple[int, ...]] = [()] * (L + 1)
        orders[L] = (T - sum(dl) - 1,)
        for l in range(L, 0, -1):
            orders[l - 1] = orders[l] + tuple(t + dl[l - 1] for t in orders[l])
        out.append(tuple(orders))
    return tuple(out)


def dilated_last_forward(structure: Any, params: Any, x: Any) -> Any:
    """``(B, T, r_0) -> (B, r_L)``: the output at the last time step only.

    mtd's dilations are a permutation of ``1, 2, …, 2^(L-1)``, so the units the output reads
    are a binary tree over ``2^L`` distinct inputs: ``2^(L-l)`` units at layer ``l``.
    """
    import jax.numpy as jnp
    import numpy as np

    dilations, mix, g = structure[:3]
    L = len(dilations[0])
    orders = dilated_needed(dilations, int(x.shape[1]))
    hs = [x[:, np.array(orders[i][0])] for i in range(len(dilations))]
    for l in range(1, L + 1):
        n = len(orders[0][l])
        for i in range(len(dilations)):
            w1, w2 = params[i][l - 1]
            hs[i] = g_jax(jnp, g, hs[i][:, :n] @ w1.T, hs[i][:, n:] @ w2.T)
        if l in mix:
            a, b = orders[0][l], orders[1][l]
            if a == b:
                hs = _exchange(jnp, hs)
            else:  # the same units in another order: align b's to a's and back
                where = {t: j for j, t in enumerate(b)}
                to_a = np.array([where[t] for t in a])
                mixed = _exchange(jnp, [hs[0], hs[1][:, to_a]])
                hs = [mixed[0], mixed[1][:, np.argsort(to_a)]]
    return _sum(hs)[:, 0]


# ------------------------------------------------------------------------- pooling
def pooling_structure(net: Any) -> tuple[Any, ...]:
    """``("pooling", g, tied, N, M, leaf modes, per level the children's positions)``.

    Levels and node order are :class:`~mtd.networks.PoolingConvAC`'s own (leaves first,
    the root last); a child's position indexes the level below.
    """
    tree = net.tree
    L = net.depth
    by_depth = tree.nodes_by_depth()
    levels = [tuple(by_depth[L - h]) for h in range(L + 1)]
    modes = tuple(next(iter(n)) for n in levels[0])
    kids = []
    for h in range(1, L + 1):
        pos = {n: i for i, n in enumerate(levels[h - 1])}
        kids.append(tuple(tuple(pos[c] for c in tree.children(n)) for n in levels[h]))
    return ("pooling", net.g, net.tied, net.n_inputs, net.M, modes, tuple(kids))


def _conv(jnp: Any, x: Any, w: Any, *, tied: bool) -> Any:
    """``x`` ``(B, n, r_in)``; tied: ``w`` ``(r_out, r_in)``, else ``(n, r_out, r_in)``."""
    if tied:
        return x @ w.T
    return jnp.einsum("bni,noi->bno", x, w)


def pooling_forward(structure: Any, params: Any, x: Any) -> Any:
    """``(B, N, M) -> (B, n_outputs)``: the network's ``forward``."""
    import jax.numpy as jnp
    import numpy as np

    _, g, tied, _, _, modes, kids = structure
    h = _conv(jnp, x[:, np.array(modes)], params[0], tied=tied)
    for level, children in enumerate(kids, start=1):
        by_arity: dict[int, list[int]] = {}
        for i, ch in enumerate(children):
            by_arity.setdefault(len(ch), []).append(i)
        parts, order = [], []
        for k, rows in by_arity.items():
            idx = np.array([children[i] for i in rows])
            acc = h[:, idx[:, 0]]
            for j in range(1, k):
                acc = g_jax(jnp, g, acc, h[:, idx[:, j]])
            parts.append(acc)
            order.extend(rows)
        pooled = jnp.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        if order != sorted(order):
            pooled = pooled[:, np.argsort(np.array(order))]
        h = _conv(jnp, pooled, params[level], tied=tied)
    return h[:, 0]
