"""Dense grid tensors of tree decompositions vs. the time to write the output, numpy and TensorLy.

``TreeDecomposition.to_tensor()`` (float64, rank r = 4, output 0) on the star tree
(COLT form: a CP decomposition of rank 4), the linear tree (eq. 3: a tensor train of
rank 4), and the baseline / swapped dilated-network trees (eq. 3), for tensors of about
2**20 .. 2**24 entries (M = 2, N = 20..24 and M = 4, N = 10..12 for star and linear;
L = 3 (N = 8) with M = 6, 7, 8 and L = 2 (N = 4) with M = 32, 64 for baseline and
swapped).  Contenders:

``write``
    the floor: ``np.multiply(a, b, out=np.empty(...))`` of two precomputed factors of
    ``sqrt(M^N)`` entries each (allocating and writing every entry once);
``mtd to_tensor``
    the decomposition's dense evaluation;
``numpy reference``
    plain numpy: Khatri-Rao chain then a matrix-vector product for CP, a chain of
    ``tensordot`` for TT, a naive bottom-up ``einsum`` evaluation with one final
    transpose to ascending-mode order for the dilated trees;
``tensorly``
    ``tensorly.cp_to_tensor`` / ``tensorly.tt_to_tensor`` of the equivalent CP / TT
    (``mtd.decompositions.to_tensorly_cp`` / ``to_tensorly_tt``).

Every contender's output is checked against mtd's once, in the (untimed) setup.
Run through ``python benchmarks/run.py`` or standalone, ``python
benchmarks/bench_decompositions.py [--quick]`` (BLAS pinned to one thread).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import mtd  # noqa: E402
from mtd.decompositions import TreeDecomposition, to_tensorly_cp, to_tensorly_tt  # noqa: E402

Result = tuple[Any, dict[str, float]]
RANK = 4


def _write(data: dict[str, Any]) -> Result:
    a, b = data["factors"]
    out = np.empty(a.size * b.size)
    np.multiply(a[:, None], b[None, :], out=out.reshape(a.size, b.size))
    return int(out.size), {}


def _mtd(data: dict[str, Any]) -> Result:
    return int(data["decomposition"].to_tensor(0).size), {}


def _numpy_cp(cp: Any) -> np.ndarray:
    weights, factors = cp
    acc = factors[0]
    for f in factors[1:]:
        acc = (acc[:, None, :] * f[None, :, :]).reshape(-1, f.shape[1])
    return (acc @ weights).reshape([f.shape[0] for f in factors])


def _numpy_tt(cores: list[np.ndarray]) -> np.ndarray:
    acc = cores[0]
    for core in cores[1:]:
        acc = np.tensordot(acc, core, axes=([acc.ndim - 1], [0]))
    return acc.reshape([c.shape[1] for c in cores])


def _numpy_tree(d: TreeDecomposition) -> np.ndarray:
    """Naive eq. 3: each node's tensor in its tree's leaf order, one transpose at the end."""
    tree = d.tree
    V = np.asarray(d.discretizers, dtype=float)
    vals: dict[frozenset[int], tuple[np.ndarray, list[int]]] = {}
    for node in reversed(tree.nodes):
        if tree.is_leaf(node):
            vals[node] = (V.T, sorted(node))
            continue
        ops = []
        order: list[int] = []
        for w, c in zip(d.weights[node], tree.children(node), strict=False):
            x, modes = vals.pop(c)
            rows = w if node != tree.root else w[:1]
            ops.append(np.tensordot(rows, x, axes=([1], [0])))
            order += modes
        acc = ops[0]
        for op in ops[1:]:
            acc = np.einsum("g...,gj->g...j", acc, op.reshape(op.shape[0], -1))
        vals[node] = (acc.reshape(acc.shape[0], *([d.M] * len(order))), order)
    x, order = vals[tree.root]
    return np.ascontiguousarray(x[0].transpose(np.argsort(order)))


def _numpy(data: dict[str, Any]) -> Result:
    return int(data["numpy"](data).size), {}


def _tensorly(data: dict[str, Any]) -> Result:
    return int(data["tensorly"](data).size), {}


def _setup(tree_name: str, M: int, N: int) -> Any:
    def setup() -> dict[str, Any]:
        import tensorly

        if tree_name == "star":
            tree, form = mtd.ModeTree.star(N), "colt"
        elif tree_name == "linear":
            tree, form = mtd.ModeTree.linear(N), "eq3"
        else:
            L = int(np.log2(N))
            tree = (
                mtd.ModeTree.baseline(L) if tree_name == "baseline" else mtd.ModeTree.swapped(L, 2)
            )
            form = "eq3"
        d = TreeDecomposition.random(tree, M=M, r=RANK, form=form, seed=0, kind="orthogonal")
        half = M ** (N // 2)
        rng = np.random.default_rng(1)
        data: dict[str, Any] = {
            "decomposition": d,
            "factors": (rng.random(half), rng.random(M**N // half)),
        }
        if tree_name == "star":
            cp = to_tensorly_cp(d)
            data["numpy"] = lambda data: _numpy_cp(cp)
            data["tensorly"] = lambda data: tensorly.cp_to_tensor(cp)
        elif tree_name == "linear":
            tt = to_tensorly_tt(d)
            data["numpy"] = lambda data: _numpy_tt(list(tt))
            data["tensorly"] = lambda data: tensorly.tt_to_tensor(tt)
        else:
            data["numpy"] = lambda data: _numpy_tree(d)
        ref = d.to_tensor(0)
        scale = np.abs(ref).max()
        for key in ("numpy", "tensorly"):
            if key in data:
                other = data[key](data)
                assert np.allclose(other, ref, atol=1e-9 * scale), f"{key} disagrees"
        return data

    return setup


def cases(quick: bool) -> list[dict[str, Any]]:
    """Benchmark cases in the format of ``benchmarks/run.py``."""
    out = []
    small = [(2, 16), (4, 8)] if quick else [(2, 20), (2, 22), (2, 24), (4, 10), (4, 12)]
    dilated = [(4, 3, 8)] if quick else [(6, 3, 8), (7, 3, 8), (8, 3, 8), (32, 2, 4), (64, 2, 4)]
    specs = [(t, M, N) for t in ("star", "linear") for M, N in small]
    specs += [(t, M, N) for t in ("baseline", "swapped") for M, _, N in dilated]
    for tree_name, M, N in specs:
        contenders = {"write": _write, "mtd to_tensor": _mtd, "numpy reference": _numpy}
        if tree_name in ("star", "linear"):
            contenders["tensorly"] = _tensorly
        out.append(
            {
                "group": "decompositions: to_tensor",
                "case": f"{tree_name}, {M}^{N} (2^{np.log2(M**N):.1f}), r={RANK}",
                "params": {"tree": tree_name, "M": M, "N": N, "r": RANK, "entries": M**N},
                "setup": _setup(tree_name, M, N),
                "contenders": contenders,
                "baseline": "write",
                "series": f"{tree_name}-{M}",
                "size": M**N,
            }
        )
    return out


def main() -> None:
    """Run this module's cases alone and print the table (as ``run.py`` would)."""
    import argparse

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run as runner

    parser = argparse.ArgumentParser(description="bench_decompositions standalone")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runner.MODULES = ("decompositions",)
    rows = runner.run(args.quick, 30.0, [])
    print(runner.markdown(rows))


if __name__ == "__main__":
    main()
