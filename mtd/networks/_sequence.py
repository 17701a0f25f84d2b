"""Evaluation shared by dilated networks and interconnected pairs: layers over time, grids.

Sequences are ``(batch, T, channels)`` arrays; layer ``l`` shortens them by ``d_l``
(index ``i`` of layer ``l`` is time ``i + d_1 + … + d_l``), so the outputs with a full
receptive field are the ``T - N + 1`` entries of the last layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ._common import (
    Arith,
    as_input,
    check_arithmetic,
    check_output_index,
    grid_by_points,
    is_int_array,
    plan_grid_tensor,
)

__all__ = ["GRID_METHODS", "check_discretizers", "check_method", "forward_grid", "run_layers"]

Node = frozenset[int]
GRID_METHODS = ("decomposition", "forward")


def check_discretizers(discretizers: Any, r0: int) -> np.ndarray:
    """The ``(M, r_0)`` discretizer matrix."""
    V = as_input(discretizers, "discretizers")
    if V.ndim != 2 or V.shape[0] == 0 or V.shape[1] != r0:
        raise InvalidArgumentError(
            f"discretizers must be an (M, r_0) matrix with r_0 = {r0} columns (row i is the "
            f"discretizer v^(i)); got shape {V.shape}"
        )
    return V


def check_method(method: Any) -> str:
    """``"decomposition"`` or ``"forward"``."""
    if not isinstance(method, str) or method not in GRID_METHODS:
        raise InvalidArgumentError(f"method must be one of {GRID_METHODS}; got {method!r}")
    return method


def run_layers(net: Any, h: np.ndarray, arith: Arith, *, mix: Any) -> np.ndarray:
    """Forward pass of one network (``mix is None``) or an interconnected pair.

    ``net`` is a :class:`DilatedConvNet`; for a pair, ``mix`` is ``(other, layers)``
    and the first ``r_l/2`` channels of both networks' layer-``l`` outputs are
    exchanged after every ``l`` in ``layers``; the two outputs are added.
    """
    nets = [net] if mix is None else [net, mix[0]]
    swap_at = set() if mix is None else set(mix[1])
    L, N = net.n_layers, net.receptive_field
    n_out = h.shape[1] - N + 1
    if all(n._tied for n in nets):
        hs = [h for _ in nets]
        for l in range(1, L + 1):
            for i, n in enumerate(nets):
                d = n._dilations[l - 1]
                hs[i] = n._combine(arith, n._layers[l - 1], hs[i][:, :-d], hs[i][:, d:])
            if l in swap_at:
                _swap(hs, net._channels[l] // 2)
    else:
        # One value per node, at every output time; nodes of height l form layer l.
        vals: list[dict[Node, np.ndarray]] = [
            {frozenset((j,)): h[:, j : j + n_out] for j in range(N)} for _ in nets
        ]
        for l in range(1, L + 1):
            for i, n in enumerate(nets):
                for node in n._tree.interior_nodes:
                    if n._tree.node_height(node) != l:
                        continue
                    c1, c2 = n._tree.children(node)
                    vals[i][node] = n._combine(arith, n._nodes[node], vals[i][c1], vals[i][c2])
            for i in range(len(nets)):
                vals[i] = {k: v for k, v in vals[i].items() if len(k) == 2**l}
            if l in swap_at:
                half = net._channels[l] // 2
                for node in vals[0]:
                    pair = [vals[0][node], vals[1][node]]
                    _swap(pair, half)
                    vals[0][node], vals[1][node] = pair
        hs = [v[net._tree.root] for v in vals]
    out = hs[0]
    for other in hs[1:]:
        out = arith.add(out, other)
    return out


def _swap(pair: list[np.ndarray], half: int) -> None:
    a, b = pair[0].copy(), pair[1].copy()
    a[..., :half], b[..., :half] = pair[1][..., :half], pair[0][..., :half]
    pair[0], pair[1] = a, b


def forward_grid(
    net: Any,
    V: np.ndarray,
    rows: list[int],
    *,
    single: bool,
    arithmetic: str | None,
    prime: Any,
    max_bytes: int | None,
) -> np.ndarray:
    """A grid tensor by running ``net._run`` on every sequence ``v^(d_0), …``, in chunks."""
    arith = net._arith(V, arithmetic, prime)
    Vc = arith.convert(V)
    N = net.receptive_field
    width = max(net.channels) * (2 if hasattr(net, "net_b") else 1)
    itemsize = 8 if arith.dtype != object else 64

    def evaluate(idx: np.ndarray) -> np.ndarray:
        return net._run(Vc[idx], arith)[:, 0, rows]

    return grid_by_points(
        evaluate,
        int(V.shape[0]),
        N,
        len(rows),
        arith.dtype,
        max_bytes=max_bytes,
        bytes_per_point=3 * N * width * itemsize,
        single=single,
    )


def sequence_grid_tensor(
    net: Any,
    discretizers: Any,
    output: int | None,
    *,
    method: Any,
    arithmetic: str | None,
    prime: Any,
    max_bytes: int | None,
) -> np.ndarray:
    """The grid tensor of a sequence network (dilated, or two interconnected), either way.

    ``method="decomposition"`` evaluates ``net.to_decomposition(V)`` with the engine;
    ``method="forward"`` runs the network on every sequence in chunks (:func:`forward_grid`).
    Both check the memory limit before allocating.
    """
    V = check_discretizers(discretizers, net.channels[0])
    method = check_method(method)
    rows = check_output_index(output, net.n_outputs)
    if method == "decomposition":
        arith = check_arithmetic(arithmetic, integer=net.is_integer and is_int_array(V), g=net.g)
        return plan_grid_tensor(
            net.to_decomposition(V).plan,
            output,
            arithmetic=arith,
            prime=prime,
            max_bytes=max_bytes,
        )
    return forward_grid(
        net,
        V,
        rows,
        single=output is not None,
        arithmetic=arithmetic,
        prime=prime,
        max_bytes=max_bytes,
    )
