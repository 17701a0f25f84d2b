"""HTML tables of mtd's objects for :func:`mtd.display.html` (one function per kind).

Each ``html_<kind>`` returns a ``<div class="mtd-repr">`` with a title and a
``<table class="mtd-table">`` of ``<th>fact</th><td>value</td>`` rows, plus the SVG
drawings of the object's trees where it has any.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._typing import Node
from .display import auto_svg, tree_svg
from .trees import ModeTree, format_node

__all__: list[str] = []


def _e(x: Any) -> str:
    return _html.escape(str(x))


def _int(n: int) -> str:
    n = int(n)
    if n.bit_length() <= 100:
        return f"{n:,}" if abs(n) >= 10_000 else str(n)
    return f"~2^{n.bit_length() - 1}"


def _modes(modes: Iterable[int]) -> str:
    return format_node(frozenset(int(m) for m in modes))


def _table(title: str, rows: Sequence[tuple[str, Any]], extra: str = "") -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return (
        f'<div class="mtd-repr"><strong>{_e(title)}</strong>'
        f'<table class="mtd-table">{body}</table>{extra}</div>'
    )


def _sizes(tree: ModeTree, sizes: Mapping[Node, int]) -> str:
    by_depth = []
    for d, nodes in enumerate(tree.nodes_by_depth()):
        vals = sorted({int(sizes[n]) for n in nodes if not tree.is_leaf(n)})
        if vals:
            by_depth.append(f"{d}: {vals[0]}" if len(vals) == 1 else f"{d}: {vals[0]}..{vals[-1]}")
    return "; ".join(by_depth)


def html_generic_rank(res: Any) -> str:
    how = (
        f"rank mod p of a {res.probes} × {res.probes} probe matrix"
        if res.method == "probes"
        else f"{res.method}"
    )
    if res.method == "structural":
        how = "structural witness: a Kronecker product of identity blocks"
    rows: list[tuple[str, Any]] = [
        ("lower", f"{_int(res.lower)} ({how})"),
        ("upper", f"{_int(res.upper)} ({res.upper_source})"),
        ("certified", "yes" if res.certified else "no"),
    ]
    if getattr(res, "probable", None) is not None:
        rows.append(
            (
                "Monte Carlo",
                f"{_int(res.probable)} (not certified; failure probability <= "
                f"{res.failure_probability:.2g})",
            )
        )
    rows += [(f"bound: {k}", _int(v)) for k, v in res.bounds.items() if v is not None]
    rows += [
        ("index set", f"I = {_modes(res.index_set)} of {res.n_modes} modes"),
        ("output", res.output),
        ("prime", res.prime),
        ("seconds", f"{res.seconds:.3g}"),
    ]
    verdict = f"generic rank {_int(res.lower)}" if res.certified else "not certified"
    return _table(f"GenericRank: {verdict}", rows)


def html_check(rep: Any) -> str:
    rows = [
        ("claim", rep.claim),
        ("setting", rep.setting),
        ("expected", rep.expected),
        ("measured", rep.measured),
        ("independent route", rep.independent),
        ("verdict", rep.verdict),
        ("seconds", f"{rep.seconds:.3g}"),
    ]
    return _table(f"CheckReport: {rep.claim} {rep.verdict}", rows)


def html_separating(ex: Any) -> str:
    rows = [
        ("layers L", ex.L),
        ("swap block k", ex.k),
        ("modes N", ex.n_modes),
        ("I", _modes(ex.I)),
        ("mixture nodes", ", ".join(format_node(m) for m in ex.mixture_nodes)),
    ]
    svg = tree_svg(
        ex.hybrid.tree,
        I=ex.I,
        highlight=ex.mixture_nodes,
        sources=ex.hybrid.source,
        title="the hybrid H: green from T, red from T̄, gold mixture nodes",
    )
    return _table(f"SeparatingExample (L = {ex.L}, k = {ex.k})", rows, svg)


def html_gap(rep: Any) -> str:
    rows = [
        ("L, k, r", f"{rep.L}, {rep.k}, {rep.r}"),
        ("modes N", 2**rep.L),
        ("I", _modes(rep.I)),
        ("rank of T", f"r^{rep.exponent_T} = {_int(rep.r**rep.exponent_T)}"),
        ("rank of T̄", f"r^{rep.exponent_Tbar} = {_int(rep.r**rep.exponent_Tbar)}"),
        (
            "rank of H (size r/2)",
            f"(r/2)^{rep.exponent_H} = {_int((rep.r // 2) ** rep.exponent_H)}",
        ),
        ("Theorem 7's bounds meet", "yes" if rep.bounds_meet else "no"),
        ("exponent ratio", f"{rep.exponent_ratio} ≈ {float(rep.exponent_ratio):.3f}"),
        ("channels a single network needs", _int(rep.channels_needed)),
        ("channels T + T̄ need (each)", _int(rep.channels_needed_sum)),
    ]
    return _table(f"GapReport (Corollary 8): {_int(rep.channels_needed)} channels", rows)


def html_decomposition(d: Any) -> str:
    from .decompositions import MixedDecomposition, n_parameters

    rows: list[tuple[str, Any]] = [
        ("modes N", d.n_modes),
        ("discretizers M × r_0", f"{d.M} × {int(d.discretizers.shape[1])}"),
        ("g", d.g),
        ("outputs", d.n_outputs),
        ("tied", "yes" if d.tied else "no"),
        ("integer (exact arithmetic)", "yes" if d.is_integer else "no"),
        ("parameters", _int(n_parameters(d))),
    ]
    if isinstance(d, MixedDecomposition):
        rows[1:1] = [
            ("sizes in T, by depth", _sizes(d.T, d.sizes)),
            ("sizes in T̄, by depth", _sizes(d.T_bar, d.sizes_bar)),
            ("mixture nodes", ", ".join(format_node(m) for m in d.mixture_nodes) or "none"),
        ]
        drawings = tree_svg(d.T, highlight=d.mixture_nodes, title="T, mixture nodes in gold")
        drawings += tree_svg(d.T_bar, highlight=d.mixture_nodes, title="T̄, mixture nodes in gold")
        return _table("MixedDecomposition (eq. 4)", rows, drawings)
    rows[1:1] = [("form", d.form), ("sizes by depth", _sizes(d.tree, d.sizes))]
    return _table(f"TreeDecomposition ({d.form})", rows, tree_svg(d.tree))


def html_network(net: Any) -> str:
    rows: list[tuple[str, Any]] = [("channels", ", ".join(map(str, net.channels)))]
    for attr, label in (
        ("dilations", "dilations"),
        ("mix_layers", "mixed after layers"),
        ("input_shape", "input shape"),
        ("receptive_field", "receptive field"),
        ("n_outputs", "outputs"),
        ("g", "g"),
        ("tied", "tied"),
    ):
        if hasattr(type(net), attr):
            v = getattr(net, attr)
            rows.append((label, ", ".join(map(str, v)) if isinstance(v, tuple) else v))
    if type(net).__name__ == "OverlappingConvAC":
        rows.append(
            (
                "layers (R, S, P)",
                "; ".join(f"{a.window}, {a.stride}, {a.padding}" for a in net.layers),
            )
        )
    rows.append(("parameters", _int(net.n_parameters())))
    tree = getattr(type(net), "tree", None)
    extra = tree_svg(net.tree) if tree is not None else ""
    if type(net).__name__ == "InterconnectedDilatedNets":
        extra = "".join(
            tree_svg(n.tree, highlight=net.mixture_nodes, title=f"{name}, mixture nodes in gold")
            for name, n in (("net_a", net.net_a), ("net_b", net.net_b))
        )
    return _table(type(net).__name__, rows, extra)


def html_tree(tree: ModeTree) -> str:
    return (
        f'<div class="mtd-repr"><strong>ModeTree over {tree.n_modes} modes, height '
        f"{tree.height}, {len(tree.interior_nodes)} interior nodes</strong><br/>"
        f"{auto_svg(tree) or ''}</div>"
    )


def html_hybrid(h: Any) -> str:
    n_bar = sum(1 for s in h.source.values() if s)
    return (
        f'<div class="mtd-repr"><strong>HybridTree: {len(h.source) - n_bar} interior nodes '
        f"from T (green), {n_bar} from T̄ (red)</strong><br/>"
        f"{tree_svg(h.tree, sources=h.source, highlight=[m for m in h.choice if m != h.tree.root])}"
        "</div>"
    )
