"""Issue 11: compact mode trees, the size model, validation, pickling and the CLI's exits."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtd
from mtd.cli import main

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- compact mode trees
def _reference(nested):
    """Nodes (pre-order), children, parents and depths computed directly from nested tuples."""
    order, kids, parent, depth = [], {}, {}, {}

    def walk(x, d, p):
        node = frozenset(_leaves(x))
        order.append(node)
        depth[node], parent[node] = d, p
        kids[node] = tuple(frozenset(_leaves(c)) for c in x) if isinstance(x, tuple) else ()
        if isinstance(x, tuple):
            for c in x:
                walk(c, d + 1, node)

    walk(nested, 0, None)
    return order, kids, parent, depth


def _leaves(x):
    return [x] if isinstance(x, int) else [m for c in x for m in _leaves(c)]


@st.composite
def nested_trees(draw, max_modes=12):
    n = draw(st.integers(1, max_modes))
    items = list(draw(st.permutations(range(n))))
    while len(items) > 1:
        k = draw(st.integers(2, min(4, len(items))))
        i = draw(st.integers(0, len(items) - k))
        items[i : i + k] = [tuple(items[i : i + k])]
    return items[0]


@given(nested=nested_trees(), I=st.sets(st.integers(0, 11)))
def test_compact_tree_matches_direct_computation(nested, I):
    t = mtd.ModeTree.from_nested(nested)
    order, kids, parent, depth = _reference(nested)
    assert list(t.nodes) == order
    assert t.to_nested() == nested
    for node in order:
        assert t.children(node) == kids[node]
        assert t.parent(node) == parent[node]
        assert t.depth(node) == depth[node]
        assert t.is_leaf(node) == (len(node) == 1)
        assert set(t.leaves_under(node)) == {frozenset((m,)) for m in node}
        assert node in t and list(node) in t
    I = {m for m in I if m < t.n_modes}
    # Θ(I; T) from the definition: nodes inside I whose parent is not inside I
    want = [n for n in order if n <= I and (parent[n] is None or not parent[n] <= I)]
    assert list(t.tiling(I)) == want
    assert pickle.loads(pickle.dumps(t)) == t and hash(copy.deepcopy(t)) == hash(t)
    assert mtd.ModeTree.from_children(t._children) == t if t.n_modes > 1 else True


def test_constructors_agree_with_nested_forms():
    # by hand: layer 3 (d=2) joins times 5, 7; layer 2 (d=1) 4,5 and 6,7; layer 1 (d=4) t-4, t
    assert mtd.ModeTree.linear(5).to_nested() == ((((0, 1), 2), 3), 4)
    assert mtd.ModeTree.star(4).to_nested() == (0, 1, 2, 3)
    assert mtd.ModeTree.balanced(7, arity=3).to_nested() == ((0, 1, 2), (3, 4), (5, 6))
    assert mtd.ModeTree.from_dilations([4, 1, 2]).to_nested() == (
        ((0, 4), (1, 5)),
        ((2, 6), (3, 7)),
    )
    assert mtd.ModeTree.linear(1).nodes == (frozenset({0}),)


def test_large_trees_are_built_compactly():
    t = mtd.ModeTree.linear(10**5)
    assert t.height == 10**5 - 1 and t.depth(0) == 10**5 - 1
    assert t.children(t.root)[1] == frozenset({10**5 - 1})
    assert len(t.tiling(range(10))) == 1
    b = mtd.ModeTree.baseline(16)
    assert b.node_height(range(2**15)) == 15 and b.depth(5) == 16


def test_not_a_node_errors():
    t = mtd.ModeTree.baseline(2)
    with pytest.raises(mtd.InvalidArgumentTypeError, match="node must be a set of int modes.*'0'"):
        t.children("0")
    with pytest.raises(mtd.InvalidArgumentError, match=r"node \{0,2\} is not a node"):
        t.depth({0, 2})
    with pytest.raises(mtd.InvalidArgumentTypeError, match="dilations must be a sequence"):
        mtd.ModeTree.from_dilations(None)
    with pytest.raises(mtd.InvalidArgumentTypeError, match=r"children\[\{0,1\}\] must be a seq"):
        mtd.ModeTree.from_children({(0, 1): 5})
    loop: list = [0]
    loop.append(loop)
    with pytest.raises(mtd.InvalidModeTreeError):
        mtd.ModeTree.from_nested(loop)


# ------------------------------------------------------------------------ size model
@pytest.mark.parametrize(
    "build",
    [
        lambda: mtd.ModeTree.linear(10**8),
        lambda: mtd.ModeTree.star(10**9),
        lambda: mtd.ModeTree.balanced(2**31),
        lambda: mtd.ModeTree.baseline(30),
        lambda: mtd.ModeTree.baseline(10**6),
        lambda: mtd.ModeTree.random(10**9),
        lambda: mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=10**5),
        lambda: mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=10**9, r=2),
        lambda: mtd.DilatedConvNet([1, 2], (2, 10**5, 10**5)),
        lambda: mtd.grid_tensor(lambda X: X.sum(axis=(1, 2)), np.eye(2), 10**6),
    ],
)
def test_sizes_over_the_limit_are_refused_first(build):
    with mtd.memory_limit(2**28), pytest.raises(mtd.TensorTooLargeError):
        build()


def test_byte_estimates():
    from mtd._sizes import check_bytes, object_int_bytes

    assert check_bytes((3, 4), 8, what="x") == 96
    assert check_bytes((10**9, 0, 10**9), 8, what="x") == 0
    with pytest.raises(MemoryError, match="10\\^60"):
        check_bytes((10,) * 59, 10, what="x")
    # pointer + 28-byte int + 4 bytes per extra 30-bit digit, times 1.3 for temporaries
    assert object_int_bytes(30) == 47 and object_int_bytes(61) == 58


def test_shape_totals_at_the_limit_boundary():
    from mtd._sizes import check_shapes

    # 100 bytes hold 12 eight-byte entries (96 bytes), not 13 (104 bytes)
    assert check_shapes([(3, 2), (6,)], 8, what="x", max_bytes=100) == 96
    with pytest.raises(mtd.TensorTooLargeError, match="array 2"):
        check_shapes([(3, 2), (7,)], 8, what="x", max_bytes=100)
    with pytest.raises(mtd.TensorTooLargeError, match="array 1"):
        check_shapes([(13,)], 8, what="x", max_bytes=100)


def test_modular_products_chunk_long_inner_dimensions():
    from mtd._probes import mm

    p = 2**31 - 1
    rng = np.random.default_rng(0)
    k = 2**16 + 7
    a = rng.integers(0, p, (2, k), dtype=np.int64)
    b = rng.integers(0, p, (k, 2), dtype=np.int64)
    want = [
        [sum(int(x) * int(y) for x, y in zip(a[i], b[:, j], strict=True)) % p for j in range(2)]
        for i in range(2)
    ]
    assert mm(a, b, p).tolist() == want


# ------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda: mtd.ModeTree.random(4, seed=-1), ValueError, "seed must be an int >= 0"),
        (lambda: mtd.ModeTree.random(4, seed="x"), TypeError, "seed must be None"),
        (
            lambda: mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, seed=-3),
            ValueError,
            "seed",
        ),
        (
            lambda: mtd.TreeDecomposition.random(
                mtd.ModeTree.baseline(2), M=2, r=2, kind="integer", max_weight=2**63
            ),
            ValueError,
            "max_weight must be at most 2\\^62",
        ),
        (lambda: mtd.matricization_shape((2, -2), [0]), ValueError, r"shape\[1\] must be >= 0"),
        (lambda: mtd.matricize([[1, 2], [3]], [0]), ValueError, "A must be a rectangular"),
        (lambda: mtd.matrix_rank(np.eye(3), rtol=float("inf")), ValueError, "rtol must be"),
        (
            lambda: mtd.hierarchical_svd(np.zeros((2, 2, 2, 2)), mtd.ModeTree.baseline(2), rtol=-1),
            ValueError,
            "rtol",
        ),
        (
            lambda: mtd.hierarchical_svd(np.full((2, 2, 2, 2), np.nan), mtd.ModeTree.baseline(2)),
            ValueError,
            "A must be finite",
        ),
        (
            lambda: mtd.grid_tensor(lambda X: X.sum(axis=(1, 2)), np.eye(2), 2, vectorized="no"),
            TypeError,
            "vectorized must be True or False",
        ),
        (
            lambda: mtd.MixedDecomposition.random(
                mtd.ModeTree.baseline(2), mtd.ModeTree.swapped(2, 2), ["abc"], M=2, r=2
            ),
            TypeError,
            "mixture_nodes",
        ),
    ],
)
def test_bad_input_errors(call, err, match):
    with pytest.raises(err, match=match) as info:
        call()
    assert isinstance(info.value, mtd.MTDError)


# ----------------------------------------------------------------- pickle / deepcopy
def _objects():
    T, Tb = mtd.ModeTree.baseline(2), mtd.ModeTree.swapped(2, 2)
    d = mtd.TreeDecomposition.random(T, M=2, r=2, kind="integer", seed=0)
    mix = mtd.MixedDecomposition.random(T, Tb, [], M=2, r=2, kind="integer", seed=0)
    from mtd.separation import gap_report
    from mtd.theorems import check_dilation_trees

    A = np.random.default_rng(0).standard_normal((2, 2, 2, 2))
    net = mtd.DilatedConvNet([1, 2], (2, 2, 2), seed=0, kind="integer")
    return {
        "tree": T,
        "decomposition": d,
        "mixed": mix,
        "generic_rank": mtd.generic_rank(d, [0, 2], seed=0),
        "hierarchical": mtd.hierarchical_svd(A, T),
        "hybrid": mtd.hybrid_trees(T, Tb, [])[0],
        "gap": gap_report(3, 2, 4),
        "numeric_rank": mtd.numeric_rank(np.eye(3)),
        "dilated": net,
        "check_report": check_dilation_trees(layers=[2]),
    }


@pytest.mark.parametrize("name", list(_objects()))
def test_pickle_and_deepcopy(name):
    obj = _objects()[name]
    for twin in (pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj)):
        assert type(twin) is type(obj)
        if hasattr(obj, "to_tensor"):
            np.testing.assert_array_equal(twin.to_tensor(), obj.to_tensor())
        elif hasattr(obj, "to_dict"):
            a, b = obj.to_dict(), twin.to_dict()
            a.pop("seconds", None), b.pop("seconds", None)
            assert a == b
        elif hasattr(obj, "grid_tensor"):
            V = np.eye(2, dtype=np.int64)
            np.testing.assert_array_equal(twin.grid_tensor(V), obj.grid_tensor(V))
        else:
            assert twin == obj or repr(twin) == repr(obj)


# ------------------------------------------------------------------------------ CLI
def test_cli_version_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("mtd ")
    with pytest.raises(SystemExit) as info:
        main(
            [
                "rank",
                "--dilations",
                "1,2",
                "--modes",
                "0",
                "--rank",
                "2",
                "--dim",
                "2",
                "--seed",
                "-1",
            ]
        )
    assert info.value.code == 2 and "argument --seed" in capsys.readouterr().err
    argv = ["rank", "--dilations", "1,2", "--modes", "0", "--rank", "2", "--dim", "2"]
    assert main([*argv, "--mixed-with", "abc"]) == 2
    assert "--mixed-with" in capsys.readouterr().err
    # baseline N = 4, I = {0, 2}: rank r^2 = 4 for M = 2 >= r; a 1-probe cap cannot certify it
    argv = ["rank", "--dilations", "1,2", "--modes", "0,2", "--rank", "2", "--dim", "2"]
    assert main([*argv, "--method", "probes", "--max-probes", "1", "--require-certified"]) == 1
    err = capsys.readouterr().err
    assert "warning: the upper bound 4 is beyond the probe cap 1" in err


def test_cli_gap_huge_ranks_keep_one_json_type(capsys):
    assert main(["gap", "--layers", "15", "--k", "2", "--rank", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # exponents from Theorem 7 for the separating example: a power string past 4000 digits
    assert out["rank_T"] == f"4^{out['exponent_T']}" and out["exponent_T"] * np.log10(4) > 4000
    assert out["rank_Tbar"] == f"4^{out['exponent_Tbar']}"
    assert out["rank_H_half_size"] == f"2^{out['exponent_H']}"  # 4933 digits


def test_cli_quiet_on_broken_pipe():
    dil = ",".join(str(2**i) for i in range(12))
    proc = subprocess.run(
        f"{sys.executable} -m mtd tree --dilations {dil} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.stdout.strip() == "{0..4095}" and proc.stderr == ""
