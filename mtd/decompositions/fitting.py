"""Fitting tree and mixed decompositions to a target tensor, dense or partly observed.

The model's architecture (trees, forms, sizes, mixture nodes, ``g``, ties) is kept
and its weights are the starting point; the *discretizers stay fixed* (the leaves'
functions are a choice of the user, as in the theory page).  Every other array of
the plan is fitted: interior-node weights, leaf weights and the dense output layer.

The loss is the squared error over the observed entries ``Ω`` (every entry for a
dense target) of one output ``y``, and the history reports the relative error
``‖A^y − T‖_Ω / ‖T‖_Ω`` after every sweep / iteration.

Methods (:data:`FIT_METHODS`):

* ``"als"`` — alternating least squares, for ``g = "product"`` when every fitted
  array is used once (no tied weights).  The decomposition is then multilinear in
  its arrays, so with all arrays but one fixed, every entry is an affine function of
  that array, ``A[d] = ⟨J_d, X⟩ + c_d``; ``J`` is read off the reverse pass over the
  plan (:mod:`mtd.decompositions._gradient`) and the update is the exact
  least-squares solution (minimum-norm when ``J`` is rank deficient).  One sweep
  updates every array once, bottom-up.  ``J_d = left_d ⊗ x_t`` where ``x_t`` is a row of
  the table the array reads (few distinct rows), so the problem is compressed to one
  block of rows per table row (:func:`~mtd.decompositions._gradient.compressed_design`),
  and after an update only the steps depending on the array are recomputed.
* ``"lm"`` — Levenberg-Marquardt (damped Gauss-Newton) over *all* arrays at once.  The
  Jacobian's column block of an array is that array's design matrix ``J`` above, all of
  them from one per-point reverse pass over a chunk of points.  The damped system
  ``(JᵀJ + λ D) δ = −Jᵀr`` (``D = diag JᵀJ``; Nielsen's damping rule) is solved in one of
  two ways (``solver`` of :func:`fit`), inside the same loop:

  - ``"cholesky"``: the chunks are folded into the normal equations ``JᵀJ``, ``Jᵀr``
    (BLAS ``syrk``, ``K P²`` flops per step for ``K`` points and ``P`` fitted numbers),
    scaled to a unit diagonal and factored once per damping tried, with a geodesic
    acceleration that corrects the step for the model's curvature;
  - ``"cg"``: matrix-free, by truncated conjugate gradients on the same scaled system
    (the scaling is the Jacobi preconditioner).  ``J v`` is a forward-mode pass and
    ``Jᵀu`` a reverse pass over the deduplicated tape
    (:func:`~mtd.decompositions._gradient.tangent`,
    :func:`~mtd.decompositions._gradient.backward`), each about one evaluation of the
    model, so a CG iteration costs two evaluations instead of ``K P``
    flops; ``D`` comes from the per-point Jacobian's factors once per step.  At most
    1000 CG iterations (and ``10 P``) per solve, or the residual at most a forcing term
    times ``‖Jᵀr‖``: ``‖Jᵀr‖`` relative to the first step's, within ``[1e-6, 0.1]``;
    the gain ratio uses the quadratic model of the step actually taken, so a truncated
    step is still judged exactly.  No geodesic acceleration (a second CG solve per
    trial would double the cost).  Measured at ``N = 16`` (``K = 65536``, a shared
    machine): one product ``JᵀJ v`` takes 0.017 s at ``P = 960`` and 0.035 s at
    ``P = 3840``, where forming ``JᵀJ`` takes seconds to minutes.
  - ``"auto"`` (default): Cholesky while ``K P² ≤ 1e11`` and ``P ≤ 4000``, else CG.

  Any ``g``, tied weights allowed.  It converges fast near a solution where ALS crawls
  (mixed decompositions).
* ``"auto"`` — ALS sweeps while each removes at least a tenth of the error (at most
  20), then Levenberg-Marquardt for the remaining iterations (with ``solver="cholesky"``
  only up to ``P = 4000``, beyond which ALS alone runs; the CG solver has no such cap).
* ``"lbfgs"`` — SciPy's L-BFGS-B on the same loss with the reverse-mode gradient;
  any ``g``, tied weights allowed.

The default is ``"auto"`` for ``g = "product"`` without tied weights and ``"lbfgs"``
otherwise.  All are local methods: from random starts they can stall in swamps or
local minima (``restarts`` helps).  What recovers a planted target to relative error
``1e-10`` from random starts (``M = 2``, size 2, 200 iterations, five starts; the tests
and ``benchmarks/bench_fit.py --only recovery`` measure it):

* trees (``N = 10``): the balanced eq. 3 tree 4 of 5 from one start, the tensor train
  2 of 5; with ``restarts=5``, 5 of 5 for both;
* mixed decompositions (``N = 8``) with orthogonal weights: 1 of 5, and 5 of 5 with
  ``restarts=5`` (target seed 0; on target seed 1, 3 of 5 with ``restarts=5``);
* mixed decompositions with Gaussian weights (the default of
  :meth:`~mtd.decompositions.MixedDecomposition.random`): **none** — 0 of 25 (five
  targets, five starts; errors ``1e-6`` to ``0.3``), and 0 of 100 random starts of
  ``"lm"`` (300 iterations) on one target.  The fits stop at stationary points, not
  because of a Levenberg-Marquardt defect: the residual is orthogonal to the range of
  the column-scaled Jacobian to ``1e-6``, the full Hessian (finite differences) has no
  eigenvalue below ``−1e-8`` times its largest, and the scaled Jacobian has fewer
  well-conditioned directions there than at the target (47 or 38 singular values above
  ``1e-8`` of the largest, against 54): degenerate configurations, whose large channels
  mostly match the target's and whose small ones do not.  Such targets are badly
  conditioned (the column-scaled Jacobian at the target has condition number ``8e4`` to
  ``9e11``, against ``27`` to ``640`` for orthogonal ones) and the target's basin is
  narrow (from starts moved 1 % off it 5 of 5 converge, 10 % 3 of 5, 30 % 0 of 5).
  The same architecture with *twice the size* (an exact fit exists: the target padded
  with zero channels) recovers them: 12 of 15 with ``"auto"``, 15 of 15 with ``"lm"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._config import check_allocation
from .._typing import Seed
from .._validation import check_int
from ..errors import InvalidArgumentError, InvalidArgumentTypeError
from ._gradient import (
    Tape,
    backward,
    compressed_design,
    forward,
    gradients,
    jacobian,
    jacobian_factors,
    jacobian_gram_diagonal,
    point_factors,
    point_layout,
    refresh,
    tangent,
    use_counts,
)
from ._plan import LeafStep, NodeStep, Plan
from .mixed import MixedDecomposition
from .tree import TreeDecomposition

__all__ = ["FIT_METHODS", "FitResult", "fit"]

FitMethod = Literal["auto", "als", "lm", "lbfgs"]
LMSolver = Literal["auto", "cholesky", "cg"]

FIT_METHODS: dict[str, str] = {
    "auto": "ALS sweeps while they make fast progress, then Levenberg-Marquardt (g = 'product')",
    "als": "alternating least squares (g = 'product', no tied weights); exact per array",
    "lm": "Levenberg-Marquardt over all arrays at once (Gauss-Newton, damped; any g)",
    "lbfgs": "L-BFGS-B on the squared error with reverse-mode gradients (any g)",
}
"""The fitting methods by name."""

_CHUNK_BYTES = 1 << 27
"""Design matrices and Jacobians larger than this are folded into normal equations in chunks."""


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    decomposition : TreeDecomposition or MixedDecomposition
        The fitted decomposition (float weights; same architecture as the model).
    loss : tuple of float
        Relative error ``‖A − T‖_Ω / ‖T‖_Ω`` at the start and after every sweep
        (ALS) or iteration (L-BFGS-B).
    converged : bool
        Whether the stopping test held before ``max_iter`` was reached: the error fell to
        ``tol``, or an iteration lowered the loss by less than ``tol`` relative to it (or
        no damped step lowered it at all).  The second case is a stationary point, which
        may be a local minimum far from the target: read ``relative_error``, not this
        flag, to know whether the target was reached.
    method : str
        The method used: ``"als"``, ``"lm"``, ``"lbfgs"``, or for ``method="auto"`` what
        ran, ``"als"`` or ``"als+lm"`` (ALS sweeps, then Levenberg-Marquardt).
    n_iter : int
        Sweeps or iterations done (from the start that gave the result).
    seconds : float
        Wall time of the fit (all starts).
    start : int
        Which start gave the result: ``0`` the model's own weights, ``i ≥ 1`` the ``i``-th
        random start drawn from ``seed`` (``restarts`` of :func:`fit`).
    """

    decomposition: TreeDecomposition | MixedDecomposition
    loss: tuple[float, ...]
    converged: bool
    method: str
    n_iter: int
    seconds: float
    start: int = 0

    @property
    def relative_error(self) -> float:
        """The final relative error (the last entry of ``loss``)."""
        return self.loss[-1]

    def __repr__(self) -> str:
        state = "converged" if self.converged else "not converged"
        where = f", start {self.start}" if self.start else ""
        return (
            f"<FitResult {self.method}: relative error {self.relative_error:.3g} after "
            f"{self.n_iter} iterations, {state}{where}, {self.seconds:.2f} s>"
        )


# ------------------------------------------------------------------ input handling
def _points(plan: Plan, target: Any, observed: Any) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Index arrays per mode for the observed points, and the target's values there."""
    shape = plan.shape
    N = plan.n_modes
    try:
        T = np.asarray(target, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentTypeError(
            f"target must be a real array; got {type(target).__name__}"
        ) from exc
    if observed is None:
        if T.shape != shape:
            raise InvalidArgumentError(
                f"target must have the decomposition's shape {shape} (or give observed); "
                f"got {T.shape}"
            )
        check_allocation((T.size, N), 8, max_bytes=None, what="the index list of the target")
        idx = np.indices(shape).reshape(N, -1)
        values = T.reshape(-1)
    else:
        obs = np.asarray(observed)
        if obs.dtype == bool:
            if obs.shape != shape or T.shape != shape:
                raise InvalidArgumentError(
                    f"a boolean observed mask and the target must both have shape {shape}; got "
                    f"{obs.shape} and {T.shape}"
                )
            idx = np.array(np.nonzero(obs)).reshape(N, -1)
            values = T[obs]
        elif obs.dtype.kind in "iu":
            if obs.ndim != 2 or obs.shape[1] != N:
                raise InvalidArgumentError(
                    f"observed indices must have shape (K, {N}) (one index tuple per row); got "
                    f"{obs.shape}"
                )
            for j, m in enumerate(plan.modes):
                col = obs[:, j]
                if col.size and (col.min() < 0 or col.max() >= plan.dims[m]):
                    raise InvalidArgumentError(
                        f"observed indices of mode {m} must be in 0..{plan.dims[m] - 1}; got "
                        f"{int(col.min())}..{int(col.max())}"
                    )
            idx = obs.T.astype(np.int64)
            if T.shape == shape:
                values = T[tuple(idx)]
            elif T.shape == (obs.shape[0],):
                values = T
            else:
                raise InvalidArgumentError(
                    f"with observed indices of shape {obs.shape}, target must have shape {shape} "
                    f"or ({obs.shape[0]},) (the observed values); got {T.shape}"
                )
        else:
            raise InvalidArgumentTypeError(
                f"observed must be a boolean mask or an integer index array; got dtype {obs.dtype}"
            )
    if values.size == 0:
        raise InvalidArgumentError("observed selects no entries; at least one is needed")
    if not np.all(np.isfinite(values)):
        raise InvalidArgumentError("target must be finite at the observed entries")
    return {m: idx[j] for j, m in enumerate(plan.modes)}, np.ascontiguousarray(values)


def _trainable(plan: Plan) -> list[np.ndarray]:
    """The fitted arrays in bottom-up order: leaf weights, node weights, output layers."""
    seen: dict[int, np.ndarray] = {}
    for step in plan.steps:
        if isinstance(step, LeafStep) and step.weight is not None:
            seen.setdefault(id(step.weight), step.weight)
        elif isinstance(step, NodeStep):
            for w in step.weights:
                seen.setdefault(id(w), w)
    for t in plan.outputs:
        if t.matrix is not None:
            seen.setdefault(id(t.matrix), t.matrix)
    return list(seen.values())


def _rebuild(model: Any, params: dict[int, np.ndarray]) -> Any:
    """The model's architecture with the fitted arrays."""

    def new(a: np.ndarray) -> np.ndarray:
        return params.get(id(a), a)

    def payload(tree: Any, weights: Any, *, tied: bool, form: str) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for node in tree.interior_nodes:
            key = tree.depth(node) if tied else node
            if key in out:
                continue
            ws = [new(w) for w in weights[node]]
            out[key] = ws if form == "eq3" else ws[0]
        return out

    if isinstance(model, TreeDecomposition):
        O = model.outputs
        return TreeDecomposition(
            model.tree,
            model.discretizers,
            payload(model.tree, model.weights, tied=model.tied, form=model.form),
            g=model.g,
            form=model.form,
            outputs=None if O is None else new(O),
            leaf_weights={
                m: (None if w is None else new(w)) for m, w in model.leaf_weights.items()
            },
            tied=model.tied,
        )
    return MixedDecomposition(
        model.T,
        model.T_bar,
        model.mixture_nodes,
        model.discretizers,
        payload(model.T, model.weights, tied=model.tied, form="eq3"),
        payload(model.T_bar, model.weights_bar, tied=model.tied, form="eq3"),
        g=model.g,
        tied=model.tied,
    )


def _rel(out: np.ndarray, y: np.ndarray, ynorm: float) -> float:
    return float(np.linalg.norm(out - y) / ynorm)


# ------------------------------------------------------------------------ methods
Runner = Callable[..., tuple[list[float], bool, int]]


def _als(
    plan: Plan,
    idx: dict[int, np.ndarray],
    y: np.ndarray,
    params: dict[int, np.ndarray],
    *,
    output: int,
    max_iter: int,
    tol: float,
    rng: np.random.Generator | None,
    slow: float | None = None,
) -> tuple[list[float], bool, int]:
    """Sweeps of exact per-array least squares.

    ``slow``: also stop (not converged) once a sweep leaves more than this fraction of the
    error (``"auto"`` then hands over to Levenberg-Marquardt).
    """
    keys = list(params)
    ynorm = float(np.linalg.norm(y)) or 1.0
    layout = point_layout(plan, idx, dedup=True)
    tape = forward(plan, layout, params, output=output)
    assert tape.out is not None
    history = [_rel(tape.out, y, ynorm)]
    for it in range(1, max_iter + 1):
        order = keys if rng is None else [keys[i] for i in rng.permutation(len(keys))]
        for key in order:
            # exact least squares for this array: J δ ≈ y − A, with J = left ⊗ table
            assert tape.out is not None
            K, c = compressed_design(*point_factors(tape, key), y - tape.out)
            delta = np.linalg.lstsq(K, c, rcond=None)[0]
            params[key] = params[key] + delta.reshape(params[key].shape)
            refresh(tape, key)
        assert tape.out is not None
        history.append(_rel(tape.out, y, ynorm))
        prev, cur = history[-2], history[-1]
        if cur <= tol or prev - cur <= tol * prev:
            return history, True, it
        if slow is not None and cur > slow * prev:
            return history, False, it
    return history, False, max_iter


def _lbfgs(
    plan: Plan,
    idx: dict[int, np.ndarray],
    y: np.ndarray,
    params: dict[int, np.ndarray],
    *,
    output: int,
    max_iter: int,
    tol: float,
    rng: np.random.Generator | None,
) -> tuple[list[float], bool, int]:
    from scipy.optimize import minimize

    keys = list(params)
    shapes = {k: params[k].shape for k in keys}
    sizes = [params[k].size for k in keys]
    splits = np.cumsum(sizes)[:-1]
    yy = float(y @ y) or 1.0
    layout = point_layout(plan, idx, dedup=True)

    def unpack(v: np.ndarray) -> None:
        for k, part in zip(keys, np.split(v, splits), strict=True):
            params[k] = part.reshape(shapes[k])

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        unpack(v)
        tape = forward(plan, layout, params, output=output)
        assert tape.out is not None
        r = tape.out - y
        grads = gradients(backward(tape, r / yy), shapes)
        return 0.5 * float(r @ r) / yy, np.concatenate([grads[k].ravel() for k in keys])

    v0 = np.concatenate([params[k].ravel() for k in keys])
    history = [math.sqrt(2 * fun(v0)[0])]

    def callback(intermediate_result: Any) -> None:
        history.append(math.sqrt(2 * float(intermediate_result.fun)))

    res = minimize(
        fun,
        v0,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "ftol": tol * tol, "gtol": tol * tol},
    )
    unpack(np.asarray(res.x, dtype=float))
    final = math.sqrt(2 * fun(res.x)[0])
    if history[-1] != final:
        history.append(final)
    return history, bool(res.success) or final <= tol, int(res.nit)


def _normal_equations(
    plan: Plan,
    idx: dict[int, np.ndarray],
    y: np.ndarray,
    params: dict[int, np.ndarray],
    shapes: dict[int, tuple[int, ...]],
    *,
    output: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``H = JᵀJ`` and ``g = Jᵀ(A − y)`` over all fitted arrays (flattened in order).

    The Jacobian is formed for one chunk of points at a time (a per-point reverse pass,
    :func:`~mtd.decompositions._gradient.jacobian`; chunks of at most :data:`_CHUNK_BYTES`)
    and folded into ``H`` by a symmetric rank-``k`` update (BLAS ``dsyrk``), so it is never
    held whole and the work is ``K P²`` flops of level-3 BLAS for ``K`` points.
    """
    from scipy.linalg.blas import dsyrk

    P = sum(math.prod(s) for s in shapes.values())
    check_allocation((3 * P, P), 8, max_bytes=None, what="the Gauss-Newton normal matrix")
    width = P + 4 * max(plan.slot_sizes.values()) * (len(plan.steps) + 1)
    step = max(1, _CHUNK_BYTES // (8 * width))
    H = np.zeros((P, P), order="F")
    g = np.zeros(P)
    for start in range(0, len(y), step):
        sub = {m: v[start : start + step] for m, v in idx.items()}
        tape = forward(plan, point_layout(plan, sub, dedup=False), params, output=output)
        assert tape.out is not None
        J = jacobian(tape, shapes)
        # J.T is Fortran-ordered: no copy; H (upper triangle) += JᵀJ in place
        H = dsyrk(1.0, J.T, beta=1.0, c=H, trans=0, lower=0, overwrite_c=1)
        g += J.T @ (tape.out - y[start : start + step])
    H = np.triu(H)
    H += np.triu(H, 1).T
    return H, g


class _Cholesky:
    """The damped system from the dense normal equations (:func:`_normal_equations`).

    ``H`` scaled to a unit diagonal (``s = √diag H``); each ``λ`` is one Cholesky
    factorization, reused for a second right-hand side (the geodesic acceleration).
    """

    geodesic = True

    def __init__(self, H: np.ndarray, g: np.ndarray) -> None:
        self.finite = bool(np.all(np.isfinite(H)) and np.all(np.isfinite(g)))
        s = np.sqrt(np.diag(H))
        s[s == 0] = 1.0
        self.s = s
        self.Hs = H / s[:, None] / s[None, :]
        self.gs = g / s
        self._factor: tuple[float, Any] | None = None

    def solve(self, lam: float, rhs: np.ndarray) -> np.ndarray:
        """``z`` with ``(Hs + λ I) z = rhs``; ``LinAlgError`` if singular."""
        from scipy.linalg import cho_factor, cho_solve

        if self._factor is None or self._factor[0] != lam:
            A = self.Hs.copy()
            A[np.diag_indices_from(A)] += lam
            self._factor = (lam, cho_factor(A, lower=False, overwrite_a=True, check_finite=False))
        return cho_solve(self._factor[1], rhs, check_finite=False)

    def predicted(self, lam: float, z: np.ndarray) -> float:
        """The decrease of ``½‖r‖²`` the quadratic model predicts for the step ``z``.

        ``z`` solved ``(Hs + λ I) z = −gs``, so the decrease is ``½ (λ zᵀz − gsᵀz)``.
        """
        return 0.5 * (lam * float(z @ z) - float(self.gs @ z))


class _ConjugateGradients:
    """The damped system applied matrix-free, by truncated conjugate gradients.

    ``Hs z = S⁻¹ Jᵀ (J (S⁻¹ z))``: ``J v`` by a forward-mode pass
    (:func:`~mtd.decompositions._gradient.tangent`) and ``Jᵀ u`` by a reverse pass
    (:func:`~mtd.decompositions._gradient.backward`), both over the tape of the
    deduplicated layout, so a product costs about two evaluations of the plan (not
    ``K P²`` flops for ``JᵀJ``, nor ``K P`` for a per-point Jacobian).
    ``S = √diag(JᵀJ)`` comes from the Jacobian's factors, chunk by chunk
    (:func:`~mtd.decompositions._gradient.jacobian_factors`); the scaled system has a
    unit diagonal, so the Marquardt scaling *is* the Jacobi preconditioner.  Each ``λ`` is
    one CG solve, cut off after :data:`_CG_MAX_ITER` iterations or at the relative
    residual :data:`_CG_RTOL`.
    """

    geodesic = False

    def __init__(self, tape: Tape, diag: np.ndarray, g: np.ndarray, shapes: Any) -> None:
        self.tape = tape
        self.shapes = dict(shapes)
        self.keys = list(self.shapes)
        self.sizes = [math.prod(v) for v in self.shapes.values()]
        self.splits = np.cumsum(self.sizes)[:-1]
        self.finite = bool(np.all(np.isfinite(diag)) and np.all(np.isfinite(g)))
        s = np.sqrt(diag)
        s[s == 0] = 1.0
        self.s = s
        self.gs = g / s
        self.max_iter = min(10 * len(g), _CG_MAX_ITER)
        self.rtol = _CG_RTOL
        self.iterations: list[int] = []
        """CG iterations of every solve (for benchmarks)."""
        self.zHz = 0.0

    def gram(self, z: np.ndarray) -> np.ndarray:
        """``Hs z``."""
        x = np.split(z / self.s, self.splits)
        direction = {k: v.reshape(self.shapes[k]) for k, v in zip(self.keys, x, strict=True)}
        jv = tangent(self.tape, direction)
        grads = gradients(backward(self.tape, jv), self.shapes)
        return np.concatenate([grads[k].ravel() for k in self.keys]) / self.s

    def solve(self, lam: float, rhs: np.ndarray) -> np.ndarray:
        """Truncated CG for ``(Hs + λ I) z = rhs`` from ``z = 0``.

        Every iterate lowers the quadratic model, so a truncated ``z`` is a descent step.
        ``self.zHz`` keeps ``zᵀ Hs z`` (from the recursive residual) for :meth:`predicted`.
        """
        z = np.zeros_like(rhs)
        res = rhs.copy()
        d = res.copy()
        rr = float(res @ res)
        stop = (self.rtol * float(np.linalg.norm(rhs))) ** 2
        n = 0
        while n < self.max_iter and rr > stop:
            Ad = self.gram(d) + lam * d
            dAd = float(d @ Ad)
            if not dAd > 0:
                break
            alpha = rr / dAd
            z += alpha * d
            res -= alpha * Ad
            rr, rr_old = float(res @ res), rr
            d = res + (rr / rr_old) * d
            n += 1
        self.iterations.append(n)
        # z·(Hs + λ I) z = z·(rhs − res) for the recursive residual
        self.zHz = float(z @ (rhs - res)) - lam * float(z @ z)
        return z

    def predicted(self, lam: float, z: np.ndarray) -> float:
        """The decrease of ``½‖r‖²`` the quadratic model predicts for the last solve's ``z``.

        ``−gsᵀz − ½ zᵀHs z``: exact for a truncated step too.
        """
        del lam
        return -float(self.gs @ z) - 0.5 * self.zHz


def _cg_system(
    plan: Plan,
    idx: dict[int, np.ndarray],
    y: np.ndarray,
    params: dict[int, np.ndarray],
    shapes: dict[int, tuple[int, ...]],
    *,
    output: int,
    tape: Tape | None = None,
) -> _ConjugateGradients:
    """The matrix-free damped system of one LM step at ``params``.

    ``tape``: the forward pass at ``params`` on the deduplicated layout, if at hand.
    ``diag JᵀJ`` is summed over chunks of points as in :func:`_normal_equations`.
    """
    if tape is None:
        tape = forward(plan, point_layout(plan, idx, dedup=True), params, output=output)
    assert tape.out is not None
    P = sum(math.prod(s) for s in shapes.values())
    g_arrays = gradients(backward(tape, tape.out - y), shapes)
    g = np.concatenate([g_arrays[k].ravel() for k in shapes])
    counts = use_counts(plan)
    per_point = sum(
        (s[0] + math.prod(s) // max(s[0], 1)) * counts.get(k, 1) for k, s in shapes.items()
    )
    width = per_point + 4 * max(plan.slot_sizes.values()) * (len(plan.steps) + 1)
    step = max(1, _CHUNK_BYTES // (8 * width))
    diag = np.zeros(P)
    for start in range(0, len(y), step):
        sub = {m: v[start : start + step] for m, v in idx.items()}
        chunk = forward(plan, point_layout(plan, sub, dedup=False), params, output=output)
        diag += jacobian_gram_diagonal(jacobian_factors(chunk, shapes))
    return _ConjugateGradients(tape, diag, g, shapes)


def _choose_solver(solver: str, n_points: int, n_params: int) -> str:
    """The solver for ``"auto"``: Cholesky while affordable, else CG.

    Cholesky while ``K P²`` is at most :data:`_DENSE_MAX_FLOPS` and ``P`` at most
    :data:`_DENSE_MAX_PARAMS`.
    """
    if solver != "auto":
        return solver
    if n_params <= _DENSE_MAX_PARAMS and n_points * n_params**2 <= _DENSE_MAX_FLOPS:
        return "cholesky"
    return "cg"


def _lm(
    plan: Plan,
    idx: dict[int, np.ndarray],
    y: np.ndarray,
    params: dict[int, np.ndarray],
    *,
    output: int,
    max_iter: int,
    tol: float,
    rng: np.random.Generator | None,
    solver: str = "auto",
    _used: list[str] | None = None,
) -> tuple[list[float], bool, int]:
    """Levenberg-Marquardt over all arrays at once (Marquardt's diagonal scaling).

    Every step builds the damped system once: ``H = JᵀJ`` and ``g = Jᵀr`` scaled to a unit
    diagonal (``D = diag H``), and solves ``(D^{-1/2} H D^{-1/2} + λ I) z = −D^{-1/2} g``
    for each damping tried; ``δ = D^{-1/2} z``.  The solve is the pluggable part
    (``solver``): ``"cholesky"`` forms ``H`` (:func:`_normal_equations`, :class:`_Cholesky`),
    ``"cg"`` applies it matrix-free by truncated conjugate gradients
    (:class:`_ConjugateGradients`); ``"auto"`` picks by cost (:func:`_choose_solver`).  The
    scaling symmetries of a multilinear model make ``H`` singular: ``g`` has no component
    along its null space, and ``λ > 0`` keeps the solve regular.  Damping follows Nielsen's
    gain-ratio rule (Madsen, Nielsen & Tingleff, *Methods for non-linear least squares
    problems*, 2004, §3.2), with the gain predicted by the quadratic model of the step
    actually taken (exact for a truncated CG step too).  A *geodesic acceleration*
    (Transtrum & Sethna, 2012) corrects the step for the curvature of the model along
    ``δ``: ``a`` solves the same damped system with ``Jᵀr''`` for ``r''`` the second
    directional derivative of the residual (central differences, two evaluations) and the
    step is ``δ + a/2`` when ``‖a‖ ≤ α‖δ‖``; this matters near zero-residual solutions of
    curved valleys, where plain steps overshoot and ``λ`` stalls progress.  It is used with
    the Cholesky solve only (a second CG solve per trial would double the step's cost).
    Before the first step all arrays are moved by one common factor that makes the output
    its best multiple (:func:`_rescaled`): a random start can be off by orders of magnitude.
    ``_used`` receives the solver chosen.
    """
    del rng
    keys = list(params)
    shapes = {k: params[k].shape for k in keys}
    sizes = [params[k].size for k in keys]
    splits = np.cumsum(sizes)[:-1]
    ynorm = float(np.linalg.norm(y)) or 1.0
    layout = point_layout(plan, idx, dedup=True)
    solver = _choose_solver(solver, len(y), sum(sizes))
    if _used is not None:
        _used.append(solver)

    def moved(base: dict[int, np.ndarray], delta: np.ndarray) -> dict[int, np.ndarray]:
        parts = np.split(delta, splits)
        return {k: base[k] + q.reshape(shapes[k]) for k, q in zip(keys, parts, strict=True)}

    def run(p: dict[int, np.ndarray]) -> Any:
        return forward(plan, layout, p, output=output)

    def system() -> _Cholesky | _ConjugateGradients:
        if solver == "cg":
            return _cg_system(plan, idx, y, params, shapes, output=output, tape=tape)
        return _Cholesky(*_normal_equations(plan, idx, y, params, shapes, output=output))

    tape = run(params)
    assert tape.out is not None
    history = [float(np.linalg.norm(tape.out - y)) / ynorm]
    # the best common scale first (a start far too large or small costs damped steps)
    params.update(_rescaled(plan, layout, y, params, output=output, best=True))
    tape = run(params)
    assert tape.out is not None
    r = tape.out - y
    f = float(r @ r)
    lam, nu = _LM_DAMPING_START, 2.0
    g0: float | None = None
    for it in range(1, max_iter + 1):
        if history[-1] <= tol:
            return history, True, it - 1
        sys = system()
        if not sys.finite:
            return history, False, it - 1  # the weights overflowed: stop where the loss was
        s, gs = sys.s, sys.gs
        if isinstance(sys, _ConjugateGradients):
            gnorm = float(np.linalg.norm(gs))
            g0 = gnorm if g0 is None else g0
            sys.rtol = min(_CG_FORCING_MAX, max(_CG_RTOL, gnorm / g0 if g0 > 0 else 0.0))
        accepted = False
        for _ in range(_LM_TRIALS):
            lam = max(lam, _LM_DAMPING_MIN)
            if lam > _LM_DAMPING_MAX:  # steps of size ~ 1/λ: nothing left to try
                break
            try:
                z = sys.solve(lam, -gs)
            except np.linalg.LinAlgError:
                lam, nu = lam * nu, 2 * nu
                continue
            predicted = sys.predicted(lam, z)
            step = z
            if _GEODESIC and sys.geodesic:
                h = _GEODESIC_H
                up, down = run(moved(params, h * z / s)), run(moved(params, -h * z / s))
                assert up.out is not None and down.out is not None
                rdd = (up.out - 2 * tape.out + down.out) / (h * h)
                grads = gradients(backward(tape, rdd), shapes)
                v = np.concatenate([grads[k].ravel() for k in keys]) / s
                acc = sys.solve(lam, -v)
                if 2 * np.linalg.norm(acc) <= _GEODESIC_ALPHA * np.linalg.norm(z):
                    step = z + 0.5 * acc
            trial = moved(params, step / s)
            t_new = run(trial)
            assert t_new.out is not None
            r_new = t_new.out - y
            f_new = float(r_new @ r_new)
            rho = 0.5 * (f - f_new) / predicted if predicted > 0 else -1.0
            if np.isfinite(f_new) and f_new < f and rho > 0:
                params.update(trial)
                tape, r = t_new, r_new
                lam *= max(1 / 3, 1 - (2 * rho - 1) ** 3)
                nu = 2.0
                accepted = True
                break
            lam, nu = lam * nu, 2 * nu
        if not accepted:  # no step lowers the loss: stationary to rounding
            return history, True, it
        prev, f = f, f_new
        history.append(math.sqrt(f) / ynorm)
        if history[-1] <= tol or prev - f <= tol * prev:
            return history, True, it
    return history, False, max_iter


_LM_DAMPING_START = 1e-3
"""Levenberg-Marquardt: the first ``λ`` (relative to the unit diagonal of the scaled ``H``)."""

_LM_DAMPING_MIN = 1e-15
"""Levenberg-Marquardt: the smallest ``λ``; it keeps the singular ``H`` (the model's scaling
symmetries) regular, and rounding noise along its null space small."""

_LM_DAMPING_MAX = 1e16
"""Levenberg-Marquardt: past this ``λ`` no step is tried (Nielsen's rule grows ``λ`` by
``2, 4, 8, …`` per rejected trial, which would overflow)."""

_LM_TRIALS = 40
"""Levenberg-Marquardt: damping values tried per step before the fit is called stationary."""

_GEODESIC = True
"""Levenberg-Marquardt: add the geodesic acceleration to every step."""

_GEODESIC_H = 0.1
"""The finite-difference step (a fraction of ``δ``) for the residual's second derivative."""

_GEODESIC_ALPHA = 0.75
"""The acceleration is used only while ``‖a‖ ≤ α ‖δ‖`` (scaled norms)."""

_CG_MAX_ITER = 1000
"""Levenberg-Marquardt with ``solver="cg"``: at most this many CG iterations per solve (and
at most ten per fitted number: ill-conditioned systems need more than ``P`` in floating
point, and a cap near ``P`` lets LM crawl on mixed targets)."""

_CG_RTOL = 1e-6
"""Levenberg-Marquardt with ``solver="cg"``: the smallest forcing term (CG stops at this
residual relative to ``Jᵀr``)."""

_CG_FORCING_MAX = 0.1
"""Levenberg-Marquardt with ``solver="cg"``: the largest forcing term.  The forcing term of a
step is ``‖g‖ / ‖g₀‖`` (the scaled gradient now and at the first step) clipped to
``[_CG_RTOL, _CG_FORCING_MAX]``: rough steps far from a solution, accurate ones near it
(inexact Newton; the error then still falls superlinearly to a zero-residual fit)."""

_DENSE_MAX_PARAMS = 4000
"""``solver="auto"``: the dense normal equations for at most this many fitted numbers."""

_DENSE_MAX_FLOPS = 1e11
"""``solver="auto"``: the dense normal equations while ``K P²`` is at most this."""

_AUTO_ALS_SWEEPS = 20
"""``"auto"``: at most this many ALS sweeps before Levenberg-Marquardt takes over."""

_AUTO_MAX_PARAMS = 4000
"""``"auto"`` with ``solver="cholesky"`` polishes with Levenberg-Marquardt only up to this many
fitted numbers (the CG solver has no such cap)."""


def _auto(
    plan: Plan,
    idx: dict[int, np.ndarray],
    y: np.ndarray,
    params: dict[int, np.ndarray],
    *,
    output: int,
    max_iter: int,
    tol: float,
    rng: np.random.Generator | None,
    solver: str = "auto",
    _used: list[str] | None = None,
) -> tuple[list[float], bool, int]:
    """ALS while it makes fast progress, then Levenberg-Marquardt to polish.

    ``_used`` receives what ran: ``"als"`` or ``"als+lm"``.
    """
    if _used is None:
        _used = []
    n_params = sum(a.size for a in params.values())
    if n_params > _AUTO_MAX_PARAMS and solver == "cholesky":
        _used.append("als")
        return _als(plan, idx, y, params, output=output, max_iter=max_iter, tol=tol, rng=rng)
    history, converged, n = _als(
        plan,
        idx,
        y,
        params,
        output=output,
        max_iter=min(max_iter, _AUTO_ALS_SWEEPS),
        tol=tol,
        rng=rng,
        slow=0.9,
    )
    if history[-1] <= tol or n >= max_iter:
        _used.append("als")
        return history, converged, n
    _used.append("als+lm")
    more, converged, m = _lm(
        plan, idx, y, params, output=output, max_iter=max_iter - n, tol=tol, rng=rng, solver=solver
    )
    return history + more[1:], converged, n + m


_RUNNERS: dict[str, Runner] = {"als": _als, "lbfgs": _lbfgs, "lm": _lm, "auto": _auto}


def _degree(plan: Plan, layout: Any, params: dict[int, np.ndarray], *, output: int) -> float:
    """The output's degree in a factor common to all arrays, measured by doubling it.

    Exact when the model is homogeneous, as for ``g = "product"``; ``nan`` if unreadable.
    """
    out = forward(plan, layout, params, output=output).out
    doubled = forward(plan, layout, {k: 2 * v for k, v in params.items()}, output=output).out
    assert out is not None and doubled is not None
    a, b = float(np.linalg.norm(out)), float(np.linalg.norm(doubled))
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        return math.nan
    return math.log2(b / a)


def _rescaled(
    plan: Plan,
    layout: Any,
    y: np.ndarray,
    params: dict[int, np.ndarray],
    *,
    output: int,
    best: bool,
) -> dict[int, np.ndarray]:
    """All arrays times one common factor, chosen so the output ``A`` becomes ``c A``.

    ``best``: ``c = ⟨A, y⟩ / ‖A‖²`` (the best multiple; the loss cannot grow), when positive;
    otherwise (or for ``best=False``) ``c = ‖y‖ / ‖A‖`` (the target's norm).  Up to three
    rounds (one suffices for a homogeneous model).  Unchanged if nothing can be read.
    """
    out = forward(plan, layout, params, output=output).out
    assert out is not None
    for _ in range(3):
        aa, ay = float(out @ out), float(out @ y)
        if not (aa > 0 and math.isfinite(aa)):
            break
        c = ay / aa if best and ay > 0 else float(np.linalg.norm(y)) / math.sqrt(aa)
        if not c > 0 or abs(math.log(c)) < 1e-9:
            break
        degree = _degree(plan, layout, params, output=output)
        if not (math.isfinite(degree) and degree > 0.5):
            break
        trial = {k: v * c ** (1.0 / degree) for k, v in params.items()}
        new = forward(plan, layout, trial, output=output).out
        assert new is not None
        if best and not float((new - y) @ (new - y)) < float((out - y) @ (out - y)):
            break
        params, out = trial, new
    return params


def _random_start(
    plan: Plan,
    idx: dict[int, np.ndarray],
    y: np.ndarray,
    model: dict[int, np.ndarray],
    rng: np.random.Generator,
    *,
    output: int,
) -> dict[int, np.ndarray]:
    """Random weights of the model's shapes, each array as large as the model's own.

    Every array has orthonormal rows (columns, if it is tall) from the QR factorization of
    a Gaussian matrix (so no direction is amplified level after level, as products of
    Gaussian matrices do), rescaled to the Frobenius norm of the model's array (unit for an
    all-zero one); then all arrays are scaled by one common factor so
    that the model's output has the target's norm on the observed points (:func:`_rescaled`).
    """
    start: dict[int, np.ndarray] = {}
    for k, a in model.items():
        w = rng.standard_normal(a.shape)
        if a.ndim >= 2:
            # orthonormal rows (or columns, for a tall array): no direction is amplified
            m = w.reshape(a.shape[0], -1)
            if m.shape[0] <= m.shape[1]:
                w = np.linalg.qr(m.T)[0].T.reshape(a.shape)
            else:
                w = np.linalg.qr(m)[0].reshape(a.shape)
        norm = float(np.linalg.norm(a))
        start[k] = w * (norm / (float(np.linalg.norm(w)) or 1.0) if norm > 0 else 1.0)
    layout = point_layout(plan, idx, dedup=True)
    return _rescaled(plan, layout, y, start, output=output, best=False)


# ---------------------------------------------------------------------------- API
def fit(
    model: TreeDecomposition | MixedDecomposition,
    target: Any,
    *,
    observed: Any = None,
    method: FitMethod | None = None,
    max_iter: int = 200,
    tol: float = 1e-12,
    seed: Seed = None,
    output: int = 0,
    restarts: int = 1,
    solver: LMSolver = "auto",
) -> FitResult:
    """Fit a tree or mixed decomposition to a target tensor (dense, or observed entries only).

    The model's weights are the starting point; its architecture and discretizers
    are kept (module docstring :mod:`mtd.decompositions.fitting`).

    Parameters
    ----------
    model : TreeDecomposition or MixedDecomposition
        The architecture and the starting weights.
    target : (M,) * N array_like, or (K,) array_like with index ``observed``
        The tensor to fit (one output of the model).
    observed : (M,) * N bool array or (K, N) int array, optional
        The entries that count (tensor completion); ``None``: every entry.
    method : {"auto", "als", "lm", "lbfgs"}, optional
        See :data:`FIT_METHODS`; default ``"auto"`` (ALS, then Levenberg-Marquardt) for
        ``g = "product"`` without tied weights, else ``"lbfgs"``.
    max_iter : int, default 200
        Most ALS sweeps plus Levenberg-Marquardt steps, or L-BFGS-B iterations.
    tol : float, default 1e-12
        ALS and Levenberg-Marquardt stop when the relative error is at most ``tol`` or
        improves by less than ``tol`` times itself in a sweep / step; L-BFGS-B uses
        ``tol²`` for SciPy's ``ftol`` and ``gtol``.
    seed : None, int or numpy.random.Generator
        ALS: ``None`` updates the arrays in the plan's bottom-up order every sweep;
        otherwise each sweep uses a random order drawn from this seed.  The random starts
        of ``restarts`` are drawn from it too.
    output : int, default 0
        Which output of the model is fitted.
    restarts : int, default 1
        How many starts to fit: the model's weights, then ``restarts − 1`` random ones
        (arrays with orthonormal rows, as large as the model's, scaled together so the
        output has the target's norm).  The fit with the smallest final error is returned
        (``FitResult.start`` says which); the remaining starts are skipped once one reaches
        ``tol``.
    solver : {"auto", "cholesky", "cg"}, default "auto"
        How Levenberg-Marquardt (``method="lm"`` or ``"auto"``; ignored otherwise) solves
        its damped system: ``"cholesky"`` forms the normal equations ``JᵀJ`` (``K P²``
        flops per step for ``K`` points and ``P`` fitted numbers), ``"cg"`` applies them
        matrix-free by truncated conjugate gradients (about ``2 K P`` flops per CG
        iteration, at most 100 per solve; no geodesic acceleration).  ``"auto"``:
        Cholesky while ``K P² ≤ 1e11`` and ``P ≤ 4000``, else CG.

    Returns
    -------
    FitResult
        ``.decomposition``, ``.loss`` (relative-error history), ``.converged``.

    Raises
    ------
    InvalidArgumentError
        For a target or ``observed`` of the wrong shape, indices out of range, an
        unknown method, or ``"als"`` / ``"auto"`` where ALS is not exact (``g`` not the
        product, or a tied array).
    TensorTooLargeError
        If the index list, the tape, a design matrix or the Gauss-Newton factor is over
        the memory limit.

    Examples
    --------
    Recover a planted tensor train (the linear tree with dense transfer tensors);
    ``r_input=M`` makes the leaves span every vector, so the model can match any
    discretizers the target was made with:

    >>> lin = mtd.ModeTree.linear(5)
    >>> planted = mtd.TreeDecomposition.random(lin, M=3, r=2, form="ht", seed=0, r_input=3)
    >>> model = mtd.TreeDecomposition.random(lin, M=3, r=2, form="ht", seed=1, r_input=3)
    >>> res = mtd.fit(model, planted.to_tensor())
    >>> res.method.startswith("als"), res.converged, res.relative_error < 1e-10
    (True, True, True)

    Levenberg-Marquardt over all weights at once, from the same start:

    >>> res = mtd.fit(model, planted.to_tensor(), method="lm")
    >>> res.method, res.relative_error < 1e-10
    ('lm', True)

    Completion: fit on 60% of the entries, then compare on all of them:

    >>> A = planted.to_tensor()
    >>> mask = np.random.default_rng(0).random(A.shape) < 0.6
    >>> res = mtd.fit(model, A, observed=mask)
    >>> bool(np.linalg.norm(res.decomposition.to_tensor() - A) < 1e-9 * np.linalg.norm(A))
    True

    Several starts, the best kept (the model's weights are start 0):

    >>> res = mtd.fit(model, A, restarts=3, seed=0)
    >>> res.start in (0, 1, 2), res.relative_error < 1e-10
    (True, True)
    """
    if not isinstance(model, (TreeDecomposition, MixedDecomposition)):
        raise InvalidArgumentTypeError(
            f"model must be a TreeDecomposition or MixedDecomposition; got {type(model).__name__}"
        )
    plan = model.plan
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
        raise InvalidArgumentError(f"tol must be a number >= 0; got {tol!r}")
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)):
        raise InvalidArgumentTypeError(f"output must be an int; got {output!r}")
    if not 0 <= output < plan.n_outputs:
        raise InvalidArgumentError(f"output must be in 0..{plan.n_outputs - 1}; got {output}")
    arrays = _trainable(plan)
    counts = use_counts(plan)
    tied = [a for a in arrays if counts[id(a)] > 1]
    if method is None:
        method = "auto" if plan.g == "product" and not tied else "lbfgs"
    if method not in _RUNNERS:
        raise InvalidArgumentError(f"method must be one of {sorted(_RUNNERS)}; got {method!r}")
    if method in ("als", "auto") and plan.g != "product":
        raise InvalidArgumentError(
            f"method {method!r} needs g = 'product' (only then is the model multilinear); got "
            f"g = {plan.g!r}"
        )
    if method in ("als", "auto") and tied:
        raise InvalidArgumentError(
            f"method {method!r} needs every weight array used once; {len(tied)} array(s) are "
            f"tied across nodes (use method='lm' or 'lbfgs')"
        )
    restarts = check_int(restarts, "restarts", minimum=1)
    if solver not in ("auto", "cholesky", "cg"):
        raise InvalidArgumentError(
            f"solver must be one of ['auto', 'cg', 'cholesky']; got {solver!r}"
        )
    idx, y = _points(plan, target, observed)
    initial = {id(a): np.array(a, dtype=float) for a in arrays}
    rng = None if seed is None else np.random.default_rng(seed)
    draw = rng if rng is not None else np.random.default_rng()
    clock = time.perf_counter()
    kw: dict[str, Any] = {"output": int(output), "max_iter": max_iter, "tol": float(tol)}
    if method in ("lm", "auto"):
        kw["solver"] = solver
    best: tuple[list[float], bool, int, str, dict[int, np.ndarray], int] | None = None
    for i in range(restarts):
        params = (
            dict(initial)
            if i == 0
            else _random_start(plan, idx, y, initial, draw, output=int(output))
        )
        used: list[str] = []
        if method == "auto":
            history, converged, n_iter = _auto(plan, idx, y, params, rng=rng, _used=used, **kw)
        else:
            history, converged, n_iter = _RUNNERS[method](plan, idx, y, params, rng=rng, **kw)
        if best is None or history[-1] < best[0][-1]:
            best = (history, converged, n_iter, used[0] if used else method, params, i)
        if history[-1] <= tol:
            break
    assert best is not None
    history, converged, n_iter, ran, params, which = best
    return FitResult(
        decomposition=_rebuild(model, params),
        loss=tuple(history),
        converged=converged,
        method=ran,
        n_iter=n_iter,
        seconds=time.perf_counter() - clock,
        start=which,
    )
