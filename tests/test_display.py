"""Rich display (mtd.display): the SVG and HTML are parsed and their content checked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd import strategies as mst
from mtd.display import COLORS, html, reports_html, tree_svg
from mtd.separation import gap_report, separating_example
from mtd.theorems import CheckReport

SVG = "{http://www.w3.org/2000/svg}"


def _circles(svg: str) -> list[tuple[frozenset[int], set[str], dict[str, str]]]:
    root = ET.fromstring(svg)  # also checks that the SVG is well-formed XML
    out = []
    for c in root.iter(f"{SVG}circle"):
        if "node" not in c.get("class").split():
            continue
        modes = frozenset(int(m) for m in c.get("data-modes").split(","))
        out.append((modes, set(c.get("class").split()), dict(c.attrib)))
    return out


def _with(circles, cls):
    return {modes for modes, classes, _ in circles if cls in classes}


def _maximal_inside(tree, I):
    """Θ(I;T) from its definition: nodes inside I whose parent is not inside I."""
    out = set()
    for n in tree.nodes:
        p = tree.parent(n)
        if n <= I and (p is None or not p <= I):
            out.add(n)
    return out


@st.composite
def trees_and_sets(draw):
    tree = draw(mst.mode_trees(min_modes=2, max_modes=14, max_arity=3))
    return tree, draw(mst.index_sets(tree.n_modes))


@given(trees_and_sets())
def test_tree_svg_nodes_edges_and_tilings(case):
    tree, I = case
    svg = tree_svg(tree, I=I)
    circles = _circles(svg)
    assert len(circles) == len(tree.nodes)
    assert {m for m, _, _ in circles} == set(tree.nodes)
    assert len(list(ET.fromstring(svg).iter(f"{SVG}line"))) == len(tree.nodes) - 1
    assert _with(circles, "leaf") == set(tree.leaves)
    assert _with(circles, "in-I") == {frozenset({m}) for m in I}
    rest = frozenset(range(tree.n_modes)) - I
    assert _with(circles, "tile-I") == _maximal_inside(tree, I)
    assert _with(circles, "tile-Ic") == _maximal_inside(tree, rest)
    for _modes, classes, attrs in circles:
        if "in-I" in classes:
            assert attrs["fill"] == COLORS["in-I"]


def test_highlight_and_hybrid_sources():
    ex = separating_example(4, 2)
    H = ex.hybrid
    svg = tree_svg(H.tree, highlight=ex.mixture_nodes, sources=H.source)
    circles = _circles(svg)
    assert _with(circles, "highlight") == set(ex.mixture_nodes)
    halos = [c for c in ET.fromstring(svg).iter(f"{SVG}circle") if c.get("class") == "halo"]
    assert {frozenset(map(int, c.get("data-modes").split(","))) for c in halos} == set(
        ex.mixture_nodes
    )
    assert all(c.get("fill") == COLORS["highlight"] for c in halos)
    for modes, classes, attrs in circles:  # the fill still tells the source tree
        if "highlight" in classes:
            want = COLORS["from-Tbar"] if H.source[modes] else COLORS["from-T"]
            assert attrs["fill"] == want
    # H takes the first half of the blocks from T and everything else from T_bar (module doc)
    from_t = {n for n, s in H.source.items() if s == mtd.FROM_T}
    assert _with(circles, "from-T") == from_t
    assert _with(circles, "from-Tbar") == set(H.source) - from_t
    assert from_t and all(max(n) < 8 for n in from_t)


def test_mode_tree_svg_methods():
    T = mtd.ModeTree.swapped(3, 2)
    circles = _circles(T._repr_svg_())
    assert len(circles) == 15
    d = T.svg(I=[0, 1], highlight=[T.children(T.root)[1]])
    circles = _circles(str(d))
    assert _with(circles, "highlight") == {T.children(T.root)[1]}
    assert d._repr_svg_() == str(d)
    with pytest.raises(ValueError):
        T.svg(highlight=[[0, 5]])  # not a node of T


def test_big_tree_fits_and_drops_labels():
    T = mtd.ModeTree.baseline(7)  # 128 leaves
    root = ET.fromstring(tree_svg(T, max_width=960))
    assert int(root.get("width")) <= 960
    assert not [t for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert len(repr(T)) < 100  # N > 16: a summary, not a from_nested line


class _Tables(HTMLParser):
    """Collects ``<th>key</th><td>value</td>`` rows and every row's cells."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.svgs = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "svg":
            self.svgs += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    @property
    def facts(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.rows if len(r) == 2}


def _parse(text: str) -> _Tables:
    p = _Tables()
    p.feed(text)
    return p


def test_generic_rank_html():
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=3, r=3, seed=0)
    res = mtd.generic_rank(d, [0, 1, 2], seed=1)
    facts = _parse(res._repr_html_()).facts
    # the theory page, §5: I = {0, 1, 2} on the baseline tree: min-cut r = 3, reached
    assert facts["lower"].startswith("3 ") and facts["upper"].startswith("3 ")
    assert facts["certified"] == "yes"
    assert facts["index set"] == "I = {0,1,2} of 8 modes"
    assert facts["bound: min-cut"] == "3"


def test_reports_html_rows():
    reps = [
        CheckReport("a", "s", "1", "1", True),
        CheckReport("b <x>", "s", "1", "2", False),
    ]
    p = _parse(reports_html(reps))
    assert len(p.rows) == 3  # header + one row per report
    assert p.rows[1][4] == "holds" and p.rows[2][4] == "FAILS"
    assert p.rows[2][0] == "b <x>"  # escaped in the HTML, read back as text
    assert "1 of 2 checks hold" in reports_html(reps)
    assert _parse(reps[1]._repr_html_()).facts["verdict"] == "FAILS"
    assert "\n" not in repr(reps[0]) and "FAILS" in repr(reps[1])


def test_gap_and_separating_html():
    facts = _parse(gap_report(5, 4, 128)._repr_html_()).facts
    # Corollary 8 for L = 5, k = 4, r = 128: exponents 9 and 16, ceil(64^(16/9)) = 1626
    assert facts["channels a single network needs"] == "1626"
    assert facts["rank of H (size r/2)"].startswith("(r/2)^16")
    p = _parse(separating_example(4, 2)._repr_html_())
    assert p.facts["I"] == "{0,2,4,6,8,9,12,13}" and p.svgs == 1
    assert repr(separating_example(4, 2)).count("\n") == 0


def test_decomposition_html_parameter_counts():
    T = mtd.ModeTree.baseline(2)
    d = mtd.TreeDecomposition.random(T, M=3, r=2, seed=0)
    facts = _parse(d._repr_html_()).facts
    assert facts["parameters"] == "24"  # 3 interior nodes x 2 children x (2 x 2)
    assert facts["form"] == "eq3" and facts["sizes by depth"] == "0: 2; 1: 2"
    Tb = mtd.ModeTree.swapped(2, 2)
    m = mtd.MixedDecomposition.random(T, Tb, [], M=2, r=2, seed=0)
    p = _parse(m._repr_html_())
    assert p.facts["parameters"] == "48" and p.facts["mixture nodes"] == "none"
    assert p.svgs == 2


def test_network_html():
    net = mtd.DilatedConvNet([1, 2], (3, 4, 5))
    p = _parse(html(net))
    assert p.facts["parameters"] == "64"  # 2·(4·3) + 2·(5·4)
    assert p.facts["dilations"] == "1, 2" and p.svgs == 1
    nets = mtd.InterconnectedDilatedNets.random([1, 2, 4], [2, 1, 4], (2, 2, 2, 1), [2], seed=0)
    p = _parse(nets._repr_html_())
    assert p.facts["mixed after layers"] == "2" and p.svgs == 2
    ov = mtd.OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 2, 2), seed=0)
    assert _parse(ov._repr_html_()).facts["layers (R, S, P)"] == "3, 1, 0; 2, 2, 0"


def test_html_of_unknown_object():
    with pytest.raises(TypeError, match="no HTML display for int"):
        html(3)


def test_jupyter_picks_up_the_rich_reprs():
    """IPython's own display formatter (what a notebook runs) finds SVG and HTML."""
    formatters = pytest.importorskip("IPython.core.formatters")
    fmt = formatters.DisplayFormatter()
    data, _ = fmt.format(mtd.ModeTree.baseline(2))
    assert {"image/svg+xml", "text/html", "text/plain"} <= set(data)
    assert len(_circles(data["image/svg+xml"])) == 7
    data, _ = fmt.format(gap_report(5, 4, 128))
    assert _parse(data["text/html"]).facts["channels a single network needs"] == "1626"
    assert data["text/plain"].startswith("<GapReport L=5 k=4 r=128")
