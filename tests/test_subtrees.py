"""Classes of identical subtrees (mtd._subtrees) against canonical forms built by recursion."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtd import MixedDecomposition, ModeTree, TreeDecomposition
from mtd._subtrees import _DEEP, labels, skeleton, subtree_classes
from mtd.strategies import mode_trees


def canonical_forms(skel, label):
    """Each step's subtree as a nested tuple of labels, by plain recursion (no hashing tricks)."""
    out = {}

    def form(i):
        if i not in out:
            kids = skel.kids[skel.kid_ptr[i] : skel.kid_ptr[i + 1]].tolist()
            out[i] = (bool(skel.node[i]), int(label[i]), tuple(form(k) for k in kids))
        return out[i]

    for i in range(len(skel.node)):
        form(i)
    return out


def assert_classes_match_forms(skel, label):
    classes = subtree_classes(skel, label)
    forms = canonical_forms(skel, label)
    by_form = {}
    for i, f in forms.items():
        by_form.setdefault(f, set()).add(int(classes.of[i]))
    # same subtree <=> same class
    assert all(len(c) == 1 for c in by_form.values())
    assert len(by_form) == len(classes.rep) == len(set(classes.of.tolist()))
    # representatives and children are consistent, and classes come children first
    for c, (i, kids) in enumerate(zip(classes.rep, classes.kids, strict=True)):
        assert classes.of[i] == c
        mine = skel.kids[skel.kid_ptr[i] : skel.kid_ptr[i + 1]]
        assert tuple(classes.of[mine].tolist()) == kids
        assert all(k < c for k in kids)


@given(mode_trees(min_modes=2, max_modes=40, max_arity=4), st.data())
def test_classes_are_the_identical_subtrees(tree, data):
    sizes = {n: data.draw(st.integers(1, 3)) for n in tree.interior_nodes}
    d = TreeDecomposition.random(tree, M=2, r=sizes, r_input=2, seed=0)
    skel = skeleton(d.plan)
    n = len(skel.node)
    label = np.asarray(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    assert_classes_match_forms(skel, label)
    assert_classes_match_forms(skel, labels(skel.node, skel.size))


@pytest.mark.parametrize(
    "tree",
    [
        ModeTree.baseline(8),
        ModeTree.balanced(81, arity=3),
        ModeTree.star(100),  # one wide node: classified by tuples
        ModeTree.linear(60),
    ],
)
def test_repetitive_trees(tree):
    d = TreeDecomposition.random(tree, M=2, r=2, seed=0)
    skel = skeleton(d.plan)
    odd = np.isin(skel.mode, np.arange(1, tree.n_modes, 2))
    assert_classes_match_forms(skel, labels(skel.node, odd))


def test_deep_trees_take_the_python_pass(monkeypatch):
    import mtd._subtrees as sub

    d = TreeDecomposition.random(ModeTree.linear(30), M=2, r=2, seed=0)
    skel = skeleton(d.plan)
    label = labels(skel.node, skel.mode % 3)
    levels = subtree_classes(skel, label)
    monkeypatch.setattr(sub, "_DEEP", 5)
    assert _DEEP > 5
    python = subtree_classes(skel, label)
    assert np.array_equal(levels.of, python.of) and levels.kids == python.kids
    assert_classes_match_forms(skel, label)


def test_mixed_plans_have_no_skeleton():
    T, Tb = ModeTree.baseline(3), ModeTree.swapped(3, 1)
    m = MixedDecomposition.random(T, Tb, [frozenset(range(4))], M=2, r=2, seed=0)
    assert skeleton(m.plan) is None
