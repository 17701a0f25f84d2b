"""Encoders and decoders of mtd's classes for :mod:`mtd.io` (plain data, arrays left as arrays).

Each ``enc_*`` returns a dict of plain values and numpy arrays; each ``dec_*`` rebuilds
the object through its class's validating constructor.  Nodes are sorted lists of modes
and trees their nested form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from .errors import InvalidArgumentError

__all__: list[str] = []


def _node(n: Any) -> list[int]:
    return sorted(int(m) for m in n)


def _nested(tree: Any) -> Any:
    return tree.to_nested()


def _tree(x: Any) -> Any:
    from .trees import ModeTree

    return ModeTree.from_nested(x)


def enc_mode_tree(t: Any) -> dict[str, Any]:
    return dict(t.to_dict())


def dec_mode_tree(d: Mapping[str, Any]) -> Any:
    tree = _tree(d["nested"])
    if "n_modes" in d and int(d["n_modes"]) != tree.n_modes:
        raise InvalidArgumentError(
            f"saved ModeTree says n_modes = {d['n_modes']} but its nested form has "
            f"{tree.n_modes} modes"
        )
    return tree


def enc_hybrid(h: Any) -> dict[str, Any]:
    return {
        "tree": _nested(h.tree),
        "source": [[_node(n), int(s)] for n, s in h.source.items()],
        "choice": [[_node(n), int(c)] for n, c in h.choice.items()],
    }


def dec_hybrid(d: Mapping[str, Any]) -> Any:
    from .hybrids import HybridTree

    return HybridTree(
        _tree(d["tree"]),
        MappingProxyType({frozenset(n): int(s) for n, s in d["source"]}),
        MappingProxyType({frozenset(n): int(c) for n, c in d["choice"]}),
    )


def _weights(tree: Any, weights: Mapping[Any, Any], *, tied: bool) -> list[dict[str, Any]]:
    """Per-node (or, tied, per-depth) weight arrays in the tree's pre-order."""
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for n in tree.interior_nodes:
        if tied:
            d = tree.depth(n)
            if d not in seen:
                seen.add(d)
                out.append({"depth": d, "arrays": list(weights[n])})
        else:
            out.append({"node": _node(n), "arrays": list(weights[n])})
    return out


def _unweights(items: list[Mapping[str, Any]], *, form: str = "eq3") -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for item in items:
        key = int(item["depth"]) if "depth" in item else frozenset(item["node"])
        arrays = list(item["arrays"])
        out[key] = arrays if form == "eq3" else arrays[0]
    return out


def enc_tree_decomposition(d: Any) -> dict[str, Any]:
    leaf = d.leaf_weights
    return {
        "tree": _nested(d.tree),
        "discretizers": d.discretizers,
        "form": d.form,
        "g": d.g,
        "tied": d.tied,
        "weights": _weights(d.tree, d.weights, tied=d.tied),
        "leaf_weights": None
        if all(w is None for w in leaf.values())
        else [[m, w] for m, w in sorted(leaf.items()) if w is not None],
        "outputs": d.outputs,
    }


def dec_tree_decomposition(d: Mapping[str, Any]) -> Any:
    from .decompositions import TreeDecomposition

    leaf = d.get("leaf_weights")
    return TreeDecomposition(
        _tree(d["tree"]),
        d["discretizers"],
        _unweights(d["weights"], form=d["form"]),
        g=d["g"],
        form=d["form"],
        outputs=d.get("outputs"),
        leaf_weights=None if leaf is None else {int(m): w for m, w in leaf},
        tied=bool(d["tied"]),
    )


def enc_mixed_decomposition(d: Any) -> dict[str, Any]:
    return {
        "T": _nested(d.T),
        "T_bar": _nested(d.T_bar),
        "mixture_nodes": [_node(n) for n in d.mixture_nodes],
        "discretizers": d.discretizers,
        "g": d.g,
        "tied": d.tied,
        "weights": _weights(d.T, d.weights, tied=d.tied),
        "weights_bar": _weights(d.T_bar, d.weights_bar, tied=d.tied),
    }


def dec_mixed_decomposition(d: Mapping[str, Any]) -> Any:
    from .decompositions import MixedDecomposition

    return MixedDecomposition(
        _tree(d["T"]),
        _tree(d["T_bar"]),
        [frozenset(n) for n in d["mixture_nodes"]],
        d["discretizers"],
        _unweights(d["weights"]),
        _unweights(d["weights_bar"]),
        g=d["g"],
        tied=bool(d["tied"]),
    )


def enc_dilated(net: Any) -> dict[str, Any]:
    if net.tied:
        weights: Any = [list(pair) for pair in net.layer_weights]
    else:
        weights = [{"node": _node(n), "pair": list(p)} for n, p in net.node_weights.items()]
    return {
        "dilations": list(net.dilations),
        "channels": list(net.channels),
        "g": net.g,
        "tied": net.tied,
        "weights": weights,
    }


def dec_dilated(d: Mapping[str, Any]) -> Any:
    from .networks import DilatedConvNet

    tied = bool(d["tied"])
    w = d["weights"]
    weights = [tuple(p) for p in w] if tied else {frozenset(i["node"]): tuple(i["pair"]) for i in w}
    return DilatedConvNet(d["dilations"], d["channels"], g=d["g"], weights=weights, tied=tied)


def enc_interconnected(net: Any) -> dict[str, Any]:
    return {
        "net_a": enc_dilated(net.net_a),
        "net_b": enc_dilated(net.net_b),
        "mix_layers": list(net.mix_layers),
    }


def dec_interconnected(d: Mapping[str, Any]) -> Any:
    from .networks import InterconnectedDilatedNets

    return InterconnectedDilatedNets(
        dec_dilated(d["net_a"]), dec_dilated(d["net_b"]), [int(x) for x in d["mix_layers"]]
    )


def enc_pooling(net: Any) -> dict[str, Any]:
    tree = net.tree
    if net.tied:
        by_depth = tree.nodes_by_depth()
        L = net.depth
        weights: Any = [net.node_weights[by_depth[L - h][0]] for h in range(L + 1)]
    else:
        weights = [{"node": _node(n), "matrix": w} for n, w in net.node_weights.items()]
    return {
        "tree": _nested(tree),
        "channels": list(net.channels),
        "M": int(net.M),
        "n_outputs": int(net.n_outputs),
        "representation": net.representation,
        "g": net.g,
        "tied": net.tied,
        "weights": weights,
    }


def dec_pooling(d: Mapping[str, Any]) -> Any:
    from .networks import PoolingConvAC

    tied = bool(d["tied"])
    w = d["weights"]
    weights = list(w) if tied else {frozenset(i["node"]): i["matrix"] for i in w}
    return PoolingConvAC(
        _tree(d["tree"]),
        d["channels"],
        M=int(d["M"]),
        n_outputs=int(d["n_outputs"]),
        representation=d["representation"],
        g=d["g"],
        weights=weights,
        tied=tied,
    )


def enc_overlapping(net: Any) -> dict[str, Any]:
    return {
        "input_shape": list(net.input_shape),
        "layers": [[lay.window, lay.stride, lay.padding] for lay in net.layers],
        "channels": list(net.channels),
        "n_outputs": int(net.n_outputs),
        "representation": net.representation,
        "weights": list(net.weights),
    }


def dec_overlapping(d: Mapping[str, Any]) -> Any:
    from .networks import OverlappingConvAC

    return OverlappingConvAC(
        [int(n) for n in d["input_shape"]],
        [tuple(int(v) for v in lay) for lay in d["layers"]],
        d["channels"],
        n_outputs=int(d["n_outputs"]),
        representation=d["representation"],
        weights=list(d["weights"]),
    )


def enc_recurrent(net: Any) -> dict[str, Any]:
    return {
        "n_steps": int(net.n_steps),
        "M": int(net.M),
        "hidden": int(net.hidden),
        "depth": int(net.depth),
        "n_outputs": int(net.n_outputs),
        "weights": list(net.weights),
    }


def dec_recurrent(d: Mapping[str, Any]) -> Any:
    from .networks import RecurrentAC

    return RecurrentAC(
        int(d["n_steps"]),
        M=int(d["M"]),
        hidden=int(d["hidden"]),
        depth=int(d["depth"]),
        n_outputs=int(d["n_outputs"]),
        weights=list(d["weights"]),
    )


def _fields_from(
    cls: Any, d: Mapping[str, Any], convert: Mapping[str, Callable[[Any], Any]]
) -> Any:
    """Build a dataclass from the keys of ``d`` that are its fields (derived keys ignored)."""
    names = [f.name for f in fields(cls)]
    kwargs = {n: convert.get(n, lambda v: v)(d[n]) for n in names if n in d}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"saved {cls.__name__} is missing fields: {exc}") from None


def dec_generic_rank(d: Mapping[str, Any]) -> Any:
    from .certify import GenericRank

    return _fields_from(
        GenericRank,
        d,
        {
            "bounds": lambda b: MappingProxyType(dict(b)),
            "index_set": lambda v: tuple(int(m) for m in v),
            "rounds": lambda rs: tuple(tuple(r) for r in rs),
        },
    )


def dec_check_report(d: Mapping[str, Any]) -> Any:
    from .theorems import CheckReport

    return _fields_from(CheckReport, d, {})


def enc_separating(ex: Any) -> dict[str, Any]:
    return {
        "L": ex.L,
        "k": ex.k,
        "T": _nested(ex.T),
        "T_bar": _nested(ex.T_bar),
        "mixture_nodes": [_node(n) for n in ex.mixture_nodes],
        "hybrid": enc_hybrid(ex.hybrid),
        "I": list(ex.I),
    }


def dec_separating(d: Mapping[str, Any]) -> Any:
    from .separation import SeparatingExample

    return SeparatingExample(
        int(d["L"]),
        int(d["k"]),
        _tree(d["T"]),
        _tree(d["T_bar"]),
        tuple(frozenset(n) for n in d["mixture_nodes"]),
        dec_hybrid(d["hybrid"]),
        tuple(int(m) for m in d["I"]),
    )


def dec_gap(d: Mapping[str, Any]) -> Any:
    from .separation import GapReport

    return _fields_from(
        GapReport,
        d,
        {"I": lambda v: tuple(int(m) for m in v), "exponent_ratio": lambda v: Fraction(v)},
    )


def via_to_dict(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict())
