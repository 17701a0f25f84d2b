"""One fit per random start, on an iteration budget, and many starts on worker processes.

A start is fully described by a :class:`Start` (the model's name and size and the seed of
its weights), so its result does not depend on which process runs it or in what order:
the experiment is reproducible from the recorded seeds whatever the number of workers.

The schedule of one start (:func:`run_start`): one chunk of ALS sweeps, then chunks of
Levenberg-Marquardt steps when the model has at most ``lm_max_params`` fitted numbers
(more chunks of ALS sweeps otherwise: an LM step costs ``O(K P²)``), until the relative
error is at most ``tol`` (``"tol"``), a chunk after the first improves it by less than
the fraction ``stall`` (``"stall"``), or ``max_iter`` sweeps and steps are used
(``"budget"``).  Each chunk is one call to :func:`mtd.fit` continuing from
the previous chunk's weights.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..decompositions.fitting import fit
from ..decompositions.mixed import MixedDecomposition
from ..decompositions.tree import TreeDecomposition
from ..trees import ModeTree

__all__ = ["Schedule", "Start", "build_model", "run_start", "run_starts"]

_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Start:
    """One random start: the model's name, its size ``r'`` and the seed of its weights."""

    model: str
    size: int
    seed: int


@dataclass(frozen=True)
class Schedule:
    """The iteration budget and stopping rules of every start (module docstring)."""

    max_iter: int
    method: str
    lm_max_params: int
    chunk: int = 5
    stall: float = 1e-3
    tol: float = 1e-12
    first: int | None = None
    """ALS sweeps before Levenberg-Marquardt takes over (default: ``chunk``)."""


@dataclass(frozen=True)
class _Problem:
    """What a worker needs: the target and its architecture."""

    L: int
    mix: tuple[frozenset[int], ...]
    V: np.ndarray
    A: np.ndarray


def build_model(
    name: str, L: int, mix: Any, V: np.ndarray, size: int, seed: int, norm: float
) -> TreeDecomposition | MixedDecomposition:
    """The model ``name`` of size ``size`` with normal random weights drawn from ``seed``.

    The roots' weights are rescaled so output 0 has about the norm ``norm``.
    """
    T, Tb = ModeTree.baseline(L), ModeTree.swapped(L, 2)
    rng = np.random.default_rng(seed)
    r_in = V.shape[1]

    def weights(tree: ModeTree) -> dict[Any, Any]:
        return {
            n: [
                rng.normal(size=(size, r_in if tree.is_leaf(c) else size)) for c in tree.children(n)
            ]
            for n in tree.interior_nodes
        }

    model: TreeDecomposition | MixedDecomposition
    if name == "T":
        model = TreeDecomposition(T, V, weights(T))
    elif name == "T_bar":
        model = TreeDecomposition(Tb, V, weights(Tb))
    else:
        model = MixedDecomposition(
            T, Tb, list(mix) if name == "mixed" else [], V, weights(T), weights(Tb)
        )
    return _scale_to(model, norm)


def _scale_to(model: Any, target_norm: float) -> Any:
    """Rescale the roots' weights so output 0 has about the target's norm (a better start)."""
    norm = float(np.linalg.norm(model.to_tensor()))
    if not norm or not math.isfinite(norm):
        return model
    s = math.sqrt(target_norm / norm)  # the root is a product of two weighted sums
    if isinstance(model, TreeDecomposition):
        root = model.tree.root
        w = {n: list(ws) for n, ws in model.weights.items()}
        w[root] = [a * s for a in w[root]]
        return TreeDecomposition(model.tree, model.discretizers, w, g=model.g)
    w = {n: list(ws) for n, ws in model.weights.items()}
    wb = {n: list(ws) for n, ws in model.weights_bar.items()}
    w[model.T.root] = [a * s for a in w[model.T.root]]
    wb[model.T.root] = [a * s for a in wb[model.T.root]]
    return MixedDecomposition(
        model.T, model.T_bar, model.mixture_nodes, model.discretizers, w, wb, g=model.g
    )


def n_fitted(model: TreeDecomposition | MixedDecomposition) -> int:
    """The number of fitted weights (every array but the discretizers)."""
    if isinstance(model, TreeDecomposition):
        return sum(int(a.size) for ws in model.weights.values() for a in ws)
    return sum(
        int(a.size) for d in (model.weights, model.weights_bar) for ws in d.values() for a in ws
    )


def run_start(
    model: TreeDecomposition | MixedDecomposition, A: np.ndarray, schedule: Schedule
) -> dict[str, Any]:
    """Fit ``model`` to ``A`` on the schedule; the outcome as plain data.

    Returns ``error`` (final relative error), ``als`` and ``lm`` (sweeps and steps
    used), ``stop`` (``"tol"``, ``"stall"`` or ``"budget"``), ``params`` and ``seconds``.
    """
    t0 = time.perf_counter()
    n_params = n_fitted(model)
    use_lm = schedule.method == "auto" and n_params <= schedule.lm_max_params
    used = {"als": 0, "lm": 0}
    phase = "als"
    error = math.inf
    stop = "budget"
    while used["als"] + used["lm"] < schedule.max_iter:
        size = schedule.chunk
        if phase == "als" and use_lm and schedule.first is not None:
            size = schedule.first
        n = min(size, schedule.max_iter - used["als"] - used["lm"])
        res = fit(model, A, method=phase, max_iter=n, tol=schedule.tol)  # type: ignore[arg-type]
        model = res.decomposition
        used[phase] += res.n_iter
        before, error = res.loss[0], res.relative_error
        if error <= schedule.tol:
            stop = "tol"
            break
        if phase == "als" and use_lm:
            phase = "lm"  # one chunk of ALS sweeps, then Levenberg-Marquardt
            continue
        if res.n_iter < n or before - error < schedule.stall * before:
            stop = "stall"  # the method stopped itself (nothing lowers the loss) or crawls
            break
    return {
        "error": float(error),
        "als": used["als"],
        "lm": used["lm"],
        "stop": stop,
        "params": n_params,
        "seconds": time.perf_counter() - t0,
    }


_PROBLEM: _Problem | None = None


def _init_worker(problem: _Problem) -> None:
    global _PROBLEM
    _PROBLEM = problem


def _work(start: Start, schedule: Schedule, norm: float) -> dict[str, Any]:
    assert _PROBLEM is not None
    p = _PROBLEM
    model = build_model(start.model, p.L, p.mix, p.V, start.size, start.seed, norm)
    return run_start(model, p.A, schedule)


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Environment for spawned workers: BLAS on one thread each (restored afterwards)."""
    saved = {v: os.environ.get(v) for v in _BLAS_VARS}
    os.environ.update({v: "1" for v in _BLAS_VARS})
    try:
        yield
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def run_starts(
    starts: list[Start],
    *,
    L: int,
    mix: Any,
    V: np.ndarray,
    A: np.ndarray,
    schedule: Schedule,
    workers: int,
    done: Callable[[Start, dict[str, Any]], None] | None = None,
) -> dict[Start, dict[str, Any]]:
    """Run every start (``workers`` processes, or this one for ``workers=1``)."""
    problem = _Problem(L, tuple(frozenset(n) for n in mix), V, A)
    norm = float(np.linalg.norm(A))
    out: dict[Start, dict[str, Any]] = {}
    if workers == 1 or len(starts) <= 1:
        _init_worker(problem)
        for s in starts:
            out[s] = _work(s, schedule, norm)
            if done is not None:
                done(s, out[s])
        return out
    import multiprocessing

    # the most expensive first, so the last to finish are short
    order = sorted(starts, key=lambda s: (s.size, s.model != "T", s.model != "T_bar"), reverse=True)
    ctx = multiprocessing.get_context("spawn")
    with (
        _one_blas_thread(),
        ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(problem,)
        ) as pool,
    ):
        futures = {pool.submit(_work, s, schedule, norm): s for s in order}
        for fut in as_completed(futures):
            s = futures[fut]
            out[s] = fut.result()
            if done is not None:
                done(s, out[s])
    return out
