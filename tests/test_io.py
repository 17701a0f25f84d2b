"""Save and load (mtd.io): round trips, exact numbers, the file format and its errors."""

from __future__ import annotations

import json
from fractions import Fraction
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mtd
from mtd import strategies as mst
from mtd.certify import GenericRank
from mtd.io import FORMAT_VERSION, from_dict, load, save
from mtd.separation import gap_report, separating_example
from mtd.theorems import CheckReport

FORMATS = ["json", "npz"]
_tmp = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def _round_trip(obj, tmp_path, fmt):
    path = tmp_path / f"obj.{fmt}"
    save(obj, path)
    return load(path)


# ----------------------------------------------------------------------- mode trees
@_tmp
@given(tree=mst.mode_trees(max_modes=12, max_arity=3), fmt=st.sampled_from(FORMATS))
def test_mode_tree_round_trip(tree, fmt, tmp_path):
    assert _round_trip(tree, tmp_path, fmt) == tree  # same nodes and child order
    assert mtd.ModeTree.from_dict(tree.to_dict()) == tree
    assert mtd.ModeTree.from_dict(json.loads(json.dumps(tree.to_dict()))) == tree


# ------------------------------------------------------------------- decompositions
def _same_arrays(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b)


@_tmp
@given(
    tree=mst.mode_trees(min_modes=2, max_modes=5),
    M=st.integers(1, 3),
    r=st.integers(1, 3),
    kind=st.sampled_from(["integer", "gaussian"]),
    form=st.sampled_from(["eq3", "colt", "ht"]),
    tied=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(FORMATS),
)
def test_tree_decomposition_round_trip(tree, M, r, kind, form, tied, seed, fmt, tmp_path):
    d = mtd.TreeDecomposition.random(tree, M=M, r=r, kind=kind, form=form, tied=tied, seed=seed)
    back = _round_trip(d, tmp_path, fmt)
    assert isinstance(back, mtd.TreeDecomposition)
    assert (back.tree, back.form, back.g, back.tied) == (d.tree, d.form, d.g, d.tied)
    assert dict(back.sizes) == dict(d.sizes)
    _same_arrays(back.discretizers, d.discretizers)
    for node, arrays in d.weights.items():
        for a, b in zip(arrays, back.weights[node], strict=True):
            _same_arrays(a, b)
    # the behaviour, not only the data: the same grid tensors, bit for bit
    arith = "exact" if kind == "integer" else "float"
    A, B = d.to_tensor(None, arithmetic=arith), back.to_tensor(None, arithmetic=arith)
    assert A.dtype == B.dtype and np.array_equal(A, B)
    # plain data survives JSON text too
    again = mtd.TreeDecomposition.from_dict(json.loads(json.dumps(d.to_dict())))
    assert np.array_equal(again.to_tensor(None, arithmetic=arith), A)


@_tmp
@given(
    L=st.integers(2, 3),
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(FORMATS),
)
def test_mixed_decomposition_round_trip(L, data, seed, fmt, tmp_path):
    k = data.draw(st.integers(1, L))
    T, Tb = mtd.ModeTree.baseline(L), mtd.ModeTree.swapped(L, k)
    common = sorted(mtd.common_interior(T, Tb) - {T.root}, key=sorted)
    mix = data.draw(st.lists(st.sampled_from(common), unique=True) if common else st.just([]))
    d = mtd.MixedDecomposition.random(T, Tb, mix, M=2, r=2, kind="integer", seed=seed)
    back = _round_trip(d, tmp_path, fmt)
    assert set(back.mixture_nodes) == set(mix)
    assert (back.T, back.T_bar) == (T, Tb)
    assert np.array_equal(
        back.to_tensor(None, arithmetic="exact"), d.to_tensor(None, arithmetic="exact")
    )


def test_hand_written_document_loads():
    """A version-1 document written by hand (not by mtd) decodes to the tensor worked out by hand.

    T = (0, 1), V = I, the root's two 1 x 2 weight rows w1 = (1, 2), w2 = (3, 4):
    A[i, j] = w1[i] * w2[j] = [[3, 4], [6, 8]].
    """
    doc = {
        "mtd_format": 1,
        "kind": "TreeDecomposition",
        "data": {
            "tree": [0, 1],
            "discretizers": {"__array__": "int64", "shape": [2, 2], "data": [1, 0, 0, 1]},
            "form": "eq3",
            "g": "product",
            "tied": False,
            "weights": [
                {
                    "node": [0, 1],
                    "arrays": [
                        {"__array__": "int64", "shape": [1, 2], "data": [1, 2]},
                        {"__array__": "int64", "shape": [1, 2], "data": [3, 4]},
                    ],
                }
            ],
            "leaf_weights": None,
            "outputs": None,
        },
    }
    d = from_dict(json.loads(json.dumps(doc)))
    assert d.to_tensor(arithmetic="exact").tolist() == [[3, 4], [6, 8]]


# ------------------------------------------------------------------------- networks
V2 = np.eye(2, dtype=int)
NETWORKS = [
    lambda: mtd.DilatedConvNet([1, 2], (2, 3, 1), kind="integer", seed=0),
    lambda: mtd.DilatedConvNet([2, 1, 4], (2, 2, 3, 2), kind="integer", tied=False, seed=1),
    lambda: mtd.DilatedConvNet([1, 2], (2, 3, 1), seed=2),  # float weights
    lambda: mtd.InterconnectedDilatedNets.random(
        [1, 2, 4], [2, 1, 4], (2, 2, 2, 1), [2], kind="integer", seed=0
    ),
    lambda: mtd.PoolingConvAC(mtd.ModeTree.balanced(4), (2, 2), M=2, kind="integer", seed=0),
    lambda: mtd.PoolingConvAC(
        mtd.ModeTree.balanced(4), (2, 3), M=2, kind="integer", tied=False, n_outputs=2, seed=0
    ),
    lambda: mtd.OverlappingConvAC(6, [(3, 1), (2, 2)], (2, 2, 2), kind="integer", seed=0),
    lambda: mtd.OverlappingConvAC((3, 3), [(2, 1), (2, 2)], (2, 2, 1), kind="integer", seed=3),
]


@_tmp
@given(
    L=st.integers(1, 3),
    data=st.data(),
    tied=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(FORMATS),
)
def test_dilated_network_round_trip_property(L, data, tied, seed, fmt, tmp_path):
    dilations = data.draw(st.permutations([2**i for i in range(L)]))
    channels = data.draw(st.lists(st.integers(1, 3), min_size=L + 1, max_size=L + 1))
    net = mtd.DilatedConvNet(dilations, channels, kind="integer", tied=tied, seed=seed)
    back = _round_trip(net, tmp_path, fmt)
    assert (back.dilations, back.channels, back.tied) == (net.dilations, net.channels, tied)
    V = np.eye(channels[0], dtype=int)[: min(channels[0], 2)]
    assert np.array_equal(back.grid_tensor(V), net.grid_tensor(V))


@_tmp
@given(
    arity=st.integers(2, 3),
    L=st.integers(1, 2),
    data=st.data(),
    tied=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(FORMATS),
)
def test_pooling_network_round_trip_property(arity, L, data, tied, seed, fmt, tmp_path):
    tree = mtd.ModeTree.balanced(arity**L, arity=arity)
    channels = data.draw(st.lists(st.integers(1, 3), min_size=L, max_size=L))
    M, Y = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    net = mtd.PoolingConvAC(tree, channels, M=M, n_outputs=Y, kind="integer", tied=tied, seed=seed)
    back = _round_trip(net, tmp_path, fmt)
    for y in range(Y):
        assert np.array_equal(back.grid_tensor(output=y), net.grid_tensor(output=y))


def _grid(net):
    if isinstance(net, (mtd.DilatedConvNet, mtd.InterconnectedDilatedNets)):
        return net.grid_tensor(V2)
    return net.grid_tensor()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("make", NETWORKS)
def test_network_round_trip(make, fmt, tmp_path):
    net = make()
    back = _round_trip(net, tmp_path, fmt)
    assert type(back) is type(net)
    assert back.channels == net.channels
    A, B = _grid(net), _grid(back)
    assert A.dtype == B.dtype and np.array_equal(A, B)
    assert back.n_parameters() == net.n_parameters()
    assert repr(type(net).from_dict(net.to_dict())) == repr(net)


# -------------------------------------------------------------------------- results
@pytest.mark.parametrize("fmt", FORMATS)
def test_generic_rank_round_trip(fmt, tmp_path):
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(3), M=2, r=2, seed=0)
    res = mtd.generic_rank(d, [0, 2, 4], seed=0, method="probes")
    back = _round_trip(res, tmp_path, fmt)
    assert back == res
    assert back.certified == res.certified and back.rounds == res.rounds
    assert GenericRank.from_dict(res.to_dict()) == res


@pytest.mark.parametrize("fmt", FORMATS)
def test_huge_exact_integers_survive(fmt, tmp_path):
    big = 3**20000 + 1  # 9543 decimal digits: past Python's 4300-digit str limit
    res = GenericRank(
        lower=7,
        upper=big,
        method="probes",
        probes=16,
        prime=2**31 - 1,
        seconds=0.5,
        upper_source="trivial",
        bounds=MappingProxyType({"min-cut": big + 1, "theorem 7": None, "trivial": big}),
        index_set=(0, 3),
        n_modes=40000,
        output=0,
    )
    back = _round_trip(res, tmp_path, fmt)
    assert back.upper == big and back.bounds["min-cut"] == big + 1
    assert back == res


@_tmp
@given(
    values=st.lists(
        st.integers(-(2**300), 2**300) | st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=12
    ),
    fmt=st.sampled_from(FORMATS),
)
def test_object_int_arrays_exact(values, fmt, tmp_path):
    A = np.empty(len(values), dtype=object)
    A[:] = values
    back = _round_trip(A, tmp_path, fmt)
    assert back.dtype == object
    assert [type(v) for v in back.tolist()] == [int] * len(values)
    assert back.tolist() == values


@_tmp
@given(
    values=st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=12),
    fmt=st.sampled_from(FORMATS),
)
def test_float_arrays_bit_exact(values, fmt, tmp_path):
    A = np.array(values, dtype=np.float64).reshape(len(values), 1)
    back = _round_trip(A, tmp_path, fmt)
    assert back.dtype == np.float64 and back.shape == A.shape
    assert back.tobytes() == A.tobytes()  # bit for bit, signed zeros and infinities included


def test_check_report_round_trip(tmp_path):
    rep = CheckReport(
        "claim", "setting", "1", "1", True, 0.25, {"counts": [1, 2], "nested": {"a": None}}
    )
    for fmt in FORMATS:
        assert _round_trip(rep, tmp_path, fmt) == rep
    assert CheckReport.from_dict(rep.to_dict()) == rep


@pytest.mark.parametrize("fmt", FORMATS)
def test_separation_reports_round_trip(fmt, tmp_path):
    ex = separating_example(4, 2)
    back = _round_trip(ex, tmp_path, fmt)
    assert back == ex
    assert back.hybrid.source == ex.hybrid.source
    H = ex.hybrid
    assert _round_trip(H, tmp_path, fmt) == H
    assert mtd.HybridTree.from_dict(H.to_dict()) == H
    rep = gap_report(5, 4, 128)
    back = _round_trip(rep, tmp_path, fmt)
    assert back == rep and back.exponent_ratio == Fraction(16, 9)


def test_list_of_objects(tmp_path):
    items = [mtd.ModeTree.baseline(2), gap_report(3, 1, 4), np.arange(3)]
    for fmt in FORMATS:
        back = _round_trip(items, tmp_path, fmt)
        assert back[0] == items[0] and back[1] == items[1]
        assert np.array_equal(back[2], items[2])


def test_npz_needs_no_pickle(tmp_path):
    path = tmp_path / "big.npz"
    A = np.empty(2, dtype=object)
    A[:] = [2**100, 3]
    save([A, np.ones((2, 2))], path)
    with np.load(path, allow_pickle=False) as z:  # would raise on an object array
        assert "__mtd__" in z.files
        assert all(z[k].dtype != object for k in z.files)


# --------------------------------------------------------------------------- errors
def test_unknown_version_is_refused(tmp_path):
    path = tmp_path / "future.json"
    path.write_text(json.dumps({"mtd_format": FORMAT_VERSION + 1, "kind": "ModeTree", "data": {}}))
    with pytest.raises(mtd.MTDError, match=r"version 2.*reads versions 1\.\.1"):
        load(path)
    with pytest.raises(ValueError, match="version 'x'"):
        from_dict({"mtd_format": "x", "kind": "ModeTree", "data": {}})


def test_unknown_kind_and_mismatch():
    with pytest.raises(ValueError, match="unknown kind 'Frobnicator'"):
        from_dict({"mtd_format": 1, "kind": "Frobnicator", "data": {}})
    doc = {"mtd_format": 1, "kind": "ModeTree", "data": mtd.ModeTree.baseline(1).to_dict()}
    with pytest.raises(ValueError, match="expected a saved GapReport"):
        mtd.separation.GapReport.from_dict(doc)
    with pytest.raises(ValueError, match="pass kind="):
        from_dict({"nested": [0, 1]})
    with pytest.raises(ValueError, match="missing the field 'nested'"):
        from_dict({"n_modes": 2}, kind="ModeTree")


def test_bad_objects_and_paths(tmp_path):
    with pytest.raises(TypeError, match="kinds mtd can save.*got dict"):
        save({"a": 1}, tmp_path / "x.json")
    with pytest.raises(mtd.MTDError):
        save(object(), tmp_path / "x.json")
    with pytest.raises(ValueError, match=r"\.json or \.npz.*x\.pickle"):
        save(mtd.ModeTree.baseline(1), tmp_path / "x.pickle")
    with pytest.raises(TypeError, match="ints only"):
        save(np.array([1, "a"], dtype=object), tmp_path / "x.json")
    with pytest.raises(TypeError, match="dtypes"):
        save(np.array([1j]), tmp_path / "x.json")


def test_corrupt_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(mtd.MTDError, match="cannot read"):
        load(bad)
    plain = tmp_path / "plain.json"
    plain.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not an mtd file"):
        load(plain)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.ones(2))
    with pytest.raises(ValueError, match="no __mtd__"):
        load(other)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.json")


def test_loaded_weights_are_validated_again():
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, kind="integer", seed=0)
    data = d.to_dict()
    data["weights"][0]["arrays"][0]["shape"] = [1, 4]  # a 1 x 4 matrix where 2 x 2 is due
    with pytest.raises(ValueError, match="shape"):
        mtd.TreeDecomposition.from_dict(data)


# ------------------------------------------------------------------ corrupted data
def _samples():
    T = mtd.ModeTree.baseline(2)
    d = mtd.TreeDecomposition.random(T, M=2, r=2, kind="integer", seed=0)
    objs = [
        T,
        d,
        mtd.TreeDecomposition.random(T, M=2, r=2, form="colt", tied=True, seed=0),
        mtd.MixedDecomposition.random(T, mtd.ModeTree.swapped(2, 2), [], M=2, r=2, seed=0),
        NETWORKS[1](),
        NETWORKS[3](),
        NETWORKS[5](),
        NETWORKS[6](),
        mtd.generic_rank(d, [0, 2], seed=0),
        separating_example(3, 1),
        gap_report(3, 1, 4),
    ]
    return [(mtd.io.kind_of(o), json.loads(json.dumps(o.to_dict()))) for o in objs]


SAMPLES = _samples()
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.lists(st.integers(-2, 2), max_size=3),
    st.dictionaries(st.sampled_from(["__array__", "shape", "data", "node"]), st.integers(-1, 2)),
)


def _locations(x, where=()):
    yield where
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _locations(v, (*where, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _locations(v, (*where, i))


@given(data=st.data())
def test_corrupted_data_raises_only_mtd_errors(data):
    kind, plain = data.draw(st.sampled_from(SAMPLES))
    plain = json.loads(json.dumps(plain))  # a private copy
    where = data.draw(st.sampled_from(list(_locations(plain))[1:]))
    parent = plain
    for key in where[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[where[-1]]
    else:
        parent[where[-1]] = data.draw(JUNK)
    try:
        from_dict(plain, kind=kind)
    except mtd.MTDError:
        pass  # a clear mtd error (also a ValueError / TypeError); anything else fails the test
