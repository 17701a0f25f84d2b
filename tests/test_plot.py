"""mtd.plot on the Agg backend: the artists drawn are counted and their colours checked."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import mtd
from mtd.display import COLORS
from mtd.separation import separating_example

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.colors import to_rgba  # noqa: E402

import mtd.plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_tree_nodes_edges_and_colours():
    ex = separating_example(4, 2)
    H = ex.hybrid
    art = mtd.plot.tree(H.tree, ex.I, highlight=ex.mixture_nodes, sources=H.source)
    nodes = H.tree.nodes
    assert len(art.nodes.get_offsets()) == len(nodes) == 31
    assert len(art.edges.get_segments()) == 30
    assert len(art.labels) == 16
    pos = {tuple(p) for p in art.nodes.get_offsets()[[nodes.index(m) for m in ex.mixture_nodes]]}
    assert {tuple(p) for p in art.halos.get_offsets()} == pos
    assert np.allclose(art.halos.get_facecolors()[0], to_rgba(COLORS["highlight"]))
    face = art.nodes.get_facecolors()
    for i, n in enumerate(nodes):
        if n in H.source:
            want = COLORS["from-Tbar"] if H.source[n] else COLORS["from-T"]
        elif len(n) == 1 and n <= set(ex.I):
            want = COLORS["in-I"]
        else:
            want = COLORS["node"]
        assert np.allclose(face[i], to_rgba(want)), (sorted(n), want)


def test_tree_tiling_outline():
    T = mtd.ModeTree.baseline(3)
    art = mtd.plot.tree(T, [0, 1, 2, 3, 5])
    edge = art.nodes.get_edgecolors()
    # Θ(I) = {0..3}, {5}: drawn with the tiling colour, and nothing else is
    outlined = {
        T.nodes[i] for i in range(len(T.nodes)) if np.allclose(edge[i], to_rgba(COLORS["tile-I"]))
    }
    assert outlined == {frozenset(range(4)), frozenset({5})}


def test_ranks_against_theorem7():
    T = mtd.ModeTree.baseline(3)
    I = [0, 2, 4, 6]  # every leaf pair of T split: rank r^4 (the theory page, §4)
    rs = [2, 3, 4]
    results = [{"lower": r**4, "upper": r**4} for r in rs]
    art = mtd.plot.ranks(T, I, rs, results=results)
    assert art.lower.get_ydata().tolist() == [16, 81, 256]
    assert art.upper.get_ydata().tolist() == [16, 81, 256]
    assert art.results.lines[0].get_ydata().tolist() == [16, 81, 256]
    assert art.ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="one entry per r"):
        mtd.plot.ranks(T, I, rs, results=results[:1])


def test_profile_ranges_and_certified_markers():
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2, seed=0)
    res = mtd.generic_rank(d, [0, 2, 4], seed=0)
    recs = [res, {"I": [0, 1], "lower": 2, "upper": 8, "certified": False}]
    art = mtd.plot.profile(recs)
    segs = art.ranges.get_segments()
    assert [s[:, 1].tolist() for s in segs] == [[res.lower, res.upper], [2, 8]]
    face = art.lower.get_facecolors()
    assert face[0][3] > 0 and face[1][3] == 0  # certified filled, the other hollow
    labels = [t.get_text() for t in art.ax.get_xticklabels()]
    assert labels == ["{0,2,4}", "{0,1}"]
    with pytest.raises(ValueError, match="keys I, lower and upper"):
        mtd.plot.profile([{"lower": 1}])
    with pytest.raises(ValueError, match="at least one"):
        mtd.plot.profile([])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(mtd.errors.MissingDependencyError, match=r"mtd\[plot\]"):
        mtd.plot.tree(mtd.ModeTree.baseline(2))
    with pytest.raises(ImportError):
        mtd.plot.profile([{"I": [0], "lower": 1, "upper": 1}])
