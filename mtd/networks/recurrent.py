"""Recurrent arithmetic circuits (Levine, Sharir & Shashua 2017; Khrulkov et al. 2018).

A recurrent arithmetic circuit (RAC) merges its hidden state with the input by
*multiplicative integration*.  With ``T`` time steps, inputs ``x_1, …, x_T ∈ R^M`` and
``R`` hidden channels, layer ``l`` (``l = 1..L``) computes

    h^l_1 = W_I^l x^l_1,      h^l_t = (W_H^l h^l_{t-1}) ⊙ (W_I^l x^l_t)   (t >= 2),

with ``x^1_t = x_t`` and ``x^l_t = h^{l-1}_t`` (the layer below at the same time step),
weights shared across time (``W_I^1`` is ``R × M``, the others ``R × R``), and the
outputs ``y = O h^L_T``.  The first step is the recursion with an initial state whose
image ``W_H h_0`` is the all-ones vector.

The grid tensor is ``A[d_1, …, d_T]`` = the output on one-hot inputs ``x_t = e_{d_t}``.
Depth 1 is a tensor train whose cores are shared across time; at depth ``L >= 2`` the
hidden state ``h^{l-1}_t`` feeds two cells (the next time step and the layer above), so
the network is not a tree.

The class is a front end only: it holds the weights, runs :meth:`RecurrentAC.forward`
on data, and compiles to mtd's representation (:attr:`RecurrentAC.plan`); the grid
tensor, min-cut bounds and certified ranks are the engine's.  Its *Start-End*
matricization (the first ``⌊T/2⌋`` time steps against the rest) is what the papers
study: the modes ``0..⌊T/2⌋-1``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._rich import Rich
from .._typing import Seed
from .._validation import check_int
from ..decompositions._plan import LeafStep, NodeStep, OutputTerm, Plan
from ..errors import InvalidArgumentError
from ._common import (
    OperationCount,
    as_input,
    as_weight,
    check_arithmetic,
    check_kind,
    plan_grid_tensor,
    random_weight,
)

__all__ = ["RecurrentAC", "start_end"]


def start_end(n_steps: int) -> tuple[int, ...]:
    """The Start-End index set: the first ``⌊n_steps / 2⌋`` time steps (modes).

    Examples
    --------
    >>> mtd.networks.recurrent.start_end(6)
    (0, 1, 2)
    """
    return tuple(range(check_int(n_steps, "n_steps", minimum=2) // 2))


class RecurrentAC(Rich):
    """A recurrent arithmetic circuit of ``depth`` stacked multiplicative-integration cells.

    Parameters
    ----------
    n_steps : int
        ``T >= 2``: the number of time steps (modes of the grid tensor).
    M : int
        The input dimension (number of templates: inputs are one-hot on the grid).
    hidden : int
        ``R``: hidden channels of every layer.
    depth : int, default 1
        ``L``: the number of stacked layers.
    n_outputs : int, default 1
    weights : sequence of arrays, optional
        ``(W_I^1, W_H^1, …, W_I^L, W_H^L, O)`` as :attr:`weights` returns them; default
        random.
    kind : {"gaussian", "integer"}, default "gaussian"
        Random weights: Gaussians, or integers in ``-max_weight..max_weight``.
    max_weight : int, default 1000
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> rac = mtd.RecurrentAC(4, M=2, hidden=3, kind="integer", seed=0)
    >>> A = rac.grid_tensor()
    >>> A.shape
    (2, 2, 2, 2)
    >>> bool(A[1, 0, 0, 1] == rac.forward(np.eye(2, dtype=int)[[1, 0, 0, 1]])[0])
    True
    """

    __slots__ = ("_T", "_M", "_R", "_L", "_Y", "_WI", "_WH", "_O", "_plan")

    def __init__(
        self,
        n_steps: int,
        *,
        M: int,
        hidden: int,
        depth: int = 1,
        n_outputs: int = 1,
        weights: Any = None,
        kind: str = "gaussian",
        max_weight: int = 1000,
        seed: Seed = None,
    ):
        self._T = check_int(n_steps, "n_steps", minimum=2)
        self._M = check_int(M, "M", minimum=1)
        self._R = check_int(hidden, "hidden", minimum=1)
        self._L = check_int(depth, "depth", minimum=1)
        self._Y = check_int(n_outputs, "n_outputs", minimum=1)
        R, L = self._R, self._L
        shapes = [((R, self._M if l == 0 else R), (R, R)) for l in range(L)]
        if weights is None:
            kind = check_kind(kind)
            max_weight = check_int(max_weight, "max_weight", minimum=1)
            rng = np.random.default_rng(seed)
            self._WI = tuple(random_weight(rng, s[0], kind, max_weight, R) for s in shapes)
            self._WH = tuple(random_weight(rng, sh[1], kind, max_weight, R) for sh in shapes)
            self._O = random_weight(rng, (self._Y, R), kind, max_weight, R)
        else:
            if not isinstance(weights, (list, tuple)) or len(weights) != 2 * L + 1:
                raise InvalidArgumentError(
                    f"weights must be a sequence of 2 * depth + 1 = {2 * L + 1} arrays "
                    f"(W_I, W_H per layer, then O); got {type(weights).__name__}"
                )
            self._WI = tuple(
                as_weight(weights[2 * l], f"weights[{2 * l}] (W_I of layer {l + 1})", s[0])
                for l, s in enumerate(shapes)
            )
            self._WH = tuple(
                as_weight(weights[2 * l + 1], f"weights[{2 * l + 1}] (W_H of layer {l + 1})", s[1])
                for l, s in enumerate(shapes)
            )
            self._O = as_weight(weights[-1], f"weights[{2 * L}] (output layer)", (self._Y, R))
        self._plan: Plan | None = None

    # --------------------------------------------------------------------- structure
    @property
    def n_steps(self) -> int:
        """``T``: time steps (modes)."""
        return self._T

    @property
    def n_inputs(self) -> int:
        """``T`` (the number of modes, as for the other networks)."""
        return self._T

    @property
    def M(self) -> int:
        """The input dimension."""
        return self._M

    @property
    def hidden(self) -> int:
        """``R``: hidden channels per layer."""
        return self._R

    @property
    def depth(self) -> int:
        """``L``: stacked layers."""
        return self._L

    @property
    def n_outputs(self) -> int:
        """Outputs of the dense layer."""
        return self._Y

    @property
    def channels(self) -> tuple[int, ...]:
        """``(M, R, …, R)``: the input dimension, then the hidden channels of each layer."""
        return (self._M, *(self._R,) * self._L)

    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """``(W_I^1, W_H^1, …, W_I^L, W_H^L, O)``."""
        return (*(w for pair in zip(self._WI, self._WH, strict=True) for w in pair), self._O)

    @property
    def is_integer(self) -> bool:
        """Whether every weight is an integer."""
        return all(w.dtype.kind in "iu" for w in self.weights)

    # ------------------------------------------------------------------- evaluation
    def forward(self, x: Any) -> np.ndarray:
        """Run the circuit on ``x`` of shape ``(T, M)`` or ``(batch, T, M)``.

        Returns
        -------
        ndarray of shape ``(n_outputs,)`` or ``(batch, n_outputs)``

        Examples
        --------
        >>> rac = mtd.RecurrentAC(3, M=2, hidden=2, kind="integer", seed=1)
        >>> rac.forward(np.ones((3, 2), dtype=int)).shape
        (1,)
        """
        arr = as_input(x)
        want = (self._T, self._M)
        if arr.ndim not in (2, 3) or arr.shape[-2:] != want:
            raise InvalidArgumentError(
                f"x must have shape (T, M) = {want} or (batch, T, M); got shape {arr.shape}"
            )
        single = arr.ndim == 2
        h = arr[None] if single else arr
        integer = self.is_integer and h.dtype.kind in "iu"
        if integer:
            h = h.astype(object)
        else:
            h = h.astype(np.float64)
        seq = [h[:, t, :] for t in range(self._T)]
        for l in range(self._L):
            WI, WH = (w.astype(object) if integer else w for w in (self._WI[l], self._WH[l]))
            state = seq[0] @ WI.T
            out = [state]
            for t in range(1, self._T):
                state = (state @ WH.T) * (seq[t] @ WI.T)
                out.append(state)
            seq = out
        O = self._O.astype(object) if integer else self._O
        y = seq[-1] @ O.T
        if integer:
            y = np.array(y.tolist(), dtype=object)
            try:
                y = y.astype(np.int64)
            except OverflowError:
                pass
        return y[0] if single else y

    @property
    def plan(self) -> Plan:
        """The circuit compiled to mtd's representation.

        Leaf ``t`` is time step ``t`` (the fixed identity: one-hot inputs); the cell of
        layer ``l`` at step ``t`` is an ``"eq3"`` node over ``(h^l_{t-1}, x^l_t)`` with the
        weights ``(W_H^l, W_I^l)``, the same two arrays at every step (tied); at depth
        ``>= 2`` a hidden state has two readers and the cells' modes overlap.

        Examples
        --------
        >>> mtd.RecurrentAC(4, M=2, hidden=2).plan.is_tree
        True
        >>> mtd.RecurrentAC(4, M=2, hidden=2, depth=2).plan.is_tree
        False
        """
        if self._plan is None:
            self._plan = self._compile()
        return self._plan

    def _compile(self) -> Plan:
        F = np.eye(self._M, dtype=np.int64)
        F.setflags(write=False)
        steps: list[Any] = [
            LeafStep(slot=t, mode=t, matrix=F, weight=None, size=self._M) for t in range(self._T)
        ]
        below = list(range(self._T))
        slot = self._T
        for l in range(self._L):
            cur: list[int] = []
            for t in range(self._T):
                modes = tuple(range(t + 1))
                kids: tuple[int, ...]
                weights: tuple[np.ndarray, ...]
                if t == 0:
                    kids, weights = (below[0],), (self._WI[l],)
                else:
                    kids, weights = (cur[-1], below[t]), (self._WH[l], self._WI[l])
                steps.append(
                    NodeStep(
                        slot=slot,
                        node=frozenset(modes),
                        modes=modes,
                        children=kids,
                        kind="eq3",
                        weights=weights,
                        size=self._R,
                    )
                )
                cur.append(slot)
                slot += 1
            below = cur
        return Plan(
            modes=tuple(range(self._T)),
            dims=dict.fromkeys(range(self._T), self._M),
            g="product",
            steps=tuple(steps),
            outputs=(OutputTerm(below[-1], self._O),),
            n_outputs=self._Y,
            fixed=(F,),
        )

    def grid_tensor(
        self,
        output: int | None = 0,
        *,
        arithmetic: str | None = None,
        prime: int | None = None,
        max_bytes: int | None = None,
    ) -> np.ndarray:
        """The grid tensor ``A[d_1, …, d_T]`` (the engine's dense evaluator on :attr:`plan`).

        Parameters
        ----------
        output : int or None, default 0
        arithmetic : {"float", "exact", "modular"}, optional
            Default: exact for integer weights, else float.
        prime : int, optional
        max_bytes : int, optional

        Returns
        -------
        ndarray of shape ``(M,) * T`` (or ``(n_outputs,) + (M,) * T`` for ``None``)
        """
        kind = check_arithmetic(arithmetic, integer=self.is_integer)
        return plan_grid_tensor(
            self.plan,
            output,
            arithmetic=kind,
            prime=prime if kind == "modular" else None,
            max_bytes=max_bytes,
        )

    def rank_upper_bound(self, I: Any, output: int = 0) -> int | None:
        """An upper bound on ``rank [[A^y]]_I`` for a prefix (or suffix) of the time steps.

        With ``I`` the first ``k`` steps, the output is a function of the right-hand
        inputs and of the cut state ``(h^1_k, …, h^L_k)``; every entry of ``h^L_T`` is
        a polynomial in the cut state, homogeneous of degree ``δ_j`` in ``h^j_k``, where
        ``δ_j(l, t) = δ_j(l, t-1) + δ_j(l-1, t)`` (``δ_j(1, t) = δ_j(1, t-1)``,
        ``δ_j(l, k) = [j = l]``): each step multiplies a linear form of the state by one
        of the layer below.  So the left-hand functions lie in the span of the
        monomials, ``Π_j C(R + δ_j - 1, δ_j)`` of them (depth 1: ``R``; depth 2:
        ``R · C(R + T - k - 1, T - k)``), for every choice of weights.  A suffix is
        bounded through its complement (the same rank); other ``I`` give None.

        Examples
        --------
        >>> rac = mtd.RecurrentAC(8, M=2, hidden=2, depth=2)
        >>> rac.rank_upper_bound([0, 1, 2, 3])   # 2 · C(5, 4)
        10
        """
        from .._validation import check_index_set

        rows = sorted(check_index_set(I, self._T, proper=True))
        k = len(rows)
        if rows != list(range(k)):
            rest = sorted(set(range(self._T)) - set(rows))
            if rest != list(range(self._T - k)):
                return None
            k = self._T - k
        L, R = self._L, self._R
        # deg[l][j]: degree of h^{l+1}_t in h^{j+1}_k, advanced from t = k to t = T
        deg = [[int(j == l) for j in range(L)] for l in range(L)]
        for _ in range(k, self._T):
            new = [deg[0][:]]
            for l in range(1, L):
                new.append([deg[l][j] + new[l - 1][j] for j in range(L)])
            deg = new
        bound = 1
        for d in deg[L - 1]:
            bound *= math.comb(R + d - 1, d)
        return min(bound, self._M**k, self._M ** (self._T - k))

    # ------------------------------------------------------------------------ costs
    def n_parameters(self) -> int:
        """The number of weights (shared across time, so independent of ``T``)."""
        return sum(int(w.size) for w in self.weights)

    def operation_count(self) -> OperationCount:
        """Operations of one forward evaluation.

        Examples
        --------
        >>> c = mtd.RecurrentAC(3, M=2, hidden=2).operation_count()
        >>> c.macs, c.nonlinear   # inputs 3x(2x2), states 2x(2x2), output 1x2; 2 steps x 2
        (22, 4)
        """
        R, T = self._R, self._T
        macs = nonlinear = 0
        for l in range(self._L):
            macs += T * R * (self._M if l == 0 else R) + (T - 1) * R * R
            nonlinear += (T - 1) * R
        return OperationCount(macs + self._Y * R, nonlinear)

    def __repr__(self) -> str:
        return (
            f"RecurrentAC(n_steps={self._T}, M={self._M}, hidden={self._R}, depth={self._L}, "
            f"n_outputs={self._Y})"
        )
