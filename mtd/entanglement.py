"""Entanglement of data across partitions of its features, and the dilation order it asks for.

Alexander, De La Vega, Razin & Cohen (NeurIPS 2023, arXiv 2303.11249) show that a
locally connected network fits a data distribution well iff the data's *quantum
entanglement* is low under the partitions its tree cannot correlate.  With ``m``
examples, ``N`` features per example, feature ``n`` of example ``a`` embedded as a
vector ``x_{a,n} ∈ R^D`` and labels ``y_a`` (all 1 without labels), the **empirical data
tensor** is

    D = (1/m) Σ_a y_a · x_{a,0} ⊗ x_{a,1} ⊗ … ⊗ x_{a,N-1}      (order N, each mode D),

and its entanglement across ``(I, Iᶜ)`` is the entropy of the normalized squared
singular values ``ρ_j = σ_j² / Σ_k σ_k²`` of the matricization ``[[D]]_I`` (the theory
page, §1): ``QE(D; I) = -Σ_j ρ_j ln ρ_j``.  It is 0 iff ``[[D]]_I`` has rank 1 (the data
separable across ``I``) and at most ``ln rank [[D]]_I``.

The ``D^N`` tensor is never formed: ``[[D]]_I = U W Vᵀ`` with ``U``'s columns
``⊗_{n∈I} x_{a,n}``, ``V``'s ``⊗_{n∉I} x_{a,n}`` and ``W = diag(y)/m``, and the Gram
matrices are elementwise products of per-feature Gram matrices,
``(UᵀU)_{ab} = Π_{n∈I} ⟨x_{a,n}, x_{b,n}⟩``.  The non-zero ``σ_j²`` are the eigenvalues of
``Rᵀ W (VᵀV) W R`` where ``UᵀU = R Rᵀ``: ``O(m³)`` per partition for any ``N``.  This is a
floating-point measure (an entropy, not a rank).

:func:`data_driven_dilations` computes the entanglement over a family of partitions
and asks :func:`mtd.design.search_dilations` for the dilation order whose certified
log-ranks correlate best with it: high rank where the data is entangled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._typing import Seed
from ._validation import check_int
from .errors import InvalidArgumentError
from .families import resolve_index_sets

__all__ = [
    "embed_features",
    "entanglement",
    "entanglement_profile",
    "data_driven_dilations",
    "planted_pairs_data",
    "digits_sequences",
]


def embed_features(X: Any) -> np.ndarray:
    """Scalar features ``(m, N)`` as vectors ``(1, x)``: shape ``(m, N, 2)``; ``(m, N, D)`` kept.

    Examples
    --------
    >>> mtd.entanglement.embed_features([[0.5, -1.0]]).tolist()
    [[[1.0, 0.5], [1.0, -1.0]]]
    """
    arr = np.asarray(X, dtype=float)
    if arr.ndim == 2:
        return np.stack([np.ones_like(arr), arr], axis=-1)
    if arr.ndim != 3:
        raise InvalidArgumentError(
            f"X must have shape (m, N) (scalar features) or (m, N, D); got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise InvalidArgumentError("X must have finite entries; got NaN or inf")
    return arr


def _labels(y: Any, m: int) -> np.ndarray:
    if y is None:
        return np.ones(m)
    w = np.asarray(y, dtype=float).reshape(-1)
    if w.shape != (m,):
        raise InvalidArgumentError(f"y must have one value per example ({m}); got shape {w.shape}")
    return w


def _grams(X: np.ndarray) -> np.ndarray:
    # per-feature Gram matrices K_n[a, b] = <x_{a,n}, x_{b,n}>, shape (N, m, m)
    return np.einsum("and,bnd->nab", X, X)


def _qe(grams: np.ndarray, w: np.ndarray, rows: Sequence[int], base: float) -> float:
    N = grams.shape[0]
    inside = np.zeros(N, dtype=bool)
    inside[list(rows)] = True
    GU = np.prod(grams[inside], axis=0)
    GV = np.prod(grams[~inside], axis=0)
    vals, vecs = np.linalg.eigh(GU)
    R = vecs * np.sqrt(np.clip(vals, 0.0, None))  # GU = R R^T
    S = R.T @ (w[:, None] * GV * w[None, :]) @ R
    s2 = np.clip(np.linalg.eigvalsh((S + S.T) / 2), 0.0, None)
    total = s2.sum()
    if total <= 0:
        return 0.0
    p = s2[s2 > total * 1e-15] / total
    return float(-(p * np.log(p)).sum() / math.log(base))


def entanglement(X: Any, I: Any, *, y: Any = None, base: float = math.e) -> float:
    """The quantum entanglement of the empirical data tensor across ``(I, Iᶜ)``.

    Parameters
    ----------
    X : (m, N) or (m, N, D) array_like
        ``m`` examples of ``N`` features; scalars are embedded as ``(1, x)``.
    I : iterable of int
        A non-empty proper subset of the features.
    y : (m,) array_like, optional
        Labels (weights of the examples); default all 1.
    base : float, default e
        Logarithm base (2 gives bits).

    Returns
    -------
    float
        ``QE(D; I) >= 0``; 0 iff the data tensor is separable across ``I``.

    Examples
    --------
    One example is a product: no entanglement.  Two features that are equal (``±1``
    with equal probability) are maximally entangled across their split (ln 2):

    >>> mtd.entanglement.entanglement([[0.3, -2.0, 5.0]], [0])
    0.0
    >>> X = [[1, 1], [-1, -1]]
    >>> round(mtd.entanglement.entanglement(X, [0], base=2), 12)
    1.0
    """
    from ._validation import check_index_set

    E = embed_features(X)
    rows = check_index_set(I, E.shape[1], proper=True)
    return _qe(_grams(E), _labels(y, E.shape[0]), rows, base)


def entanglement_profile(
    X: Any, index_sets: Any = "all", *, y: Any = None, base: float = math.e, seed: Seed = None
) -> tuple[tuple[tuple[int, ...], ...], np.ndarray]:
    """The entanglement across every index set of a family (:mod:`mtd.families`).

    Returns
    -------
    (index_sets, values)
        The sets as sorted tuples and a float array of their entanglement.

    Examples
    --------
    >>> X = mtd.entanglement.planted_pairs_data(8, shift=4, m=200, seed=0)
    >>> sets, qe = mtd.entanglement.entanglement_profile(X, [[0], [0, 4]])
    >>> bool(qe[0] > 0.3 > qe[1])
    True
    """
    E = embed_features(X)
    sets = resolve_index_sets(index_sets, E.shape[1], seed=seed)
    grams = _grams(E)
    w = _labels(y, E.shape[0])
    return sets, np.array([_qe(grams, w, I, base) for I in sets])


def planted_pairs_data(
    N: int, *, shift: int, m: int = 256, agree: float = 0.95, seed: Seed = None
) -> np.ndarray:
    """Synthetic ``±1`` sequences whose features ``n`` and ``n + shift`` (mod N) are coupled.

    Feature ``n`` (for ``n`` with ``⌊n / shift⌋`` even) is a fair coin; feature
    ``n + shift`` equals it with probability ``agree``, else its opposite.  The data is
    entangled exactly across partitions that separate such pairs.

    Returns
    -------
    (m, N) float ndarray
    """
    N = check_int(N, "N", minimum=2)
    shift = check_int(shift, "shift", minimum=1)
    if N % (2 * shift):
        raise InvalidArgumentError(f"N must be a multiple of 2*shift; got N={N}, shift={shift}")
    rng = np.random.default_rng(seed)
    X = np.empty((m, N))
    for n in range(N):
        if (n // shift) % 2 == 0:
            X[:, n] = rng.choice([-1.0, 1.0], size=m)
            flip = rng.random(m) >= agree
            X[:, n + shift] = np.where(flip, -X[:, n], X[:, n])
    return X


def digits_sequences(*, side: int = 4, m: int = 300, seed: Seed = None) -> tuple[Any, Any]:
    """scikit-learn's 8×8 digits, average-pooled to ``side × side``, read row by row.

    Returns ``(X, y)``: ``X`` of shape ``(m, side²)`` with pixels scaled to ``[-1, 1]``
    (a random subset of ``m`` images) and the digit labels.

    Raises
    ------
    MissingDependencyError
        If scikit-learn is not installed (``pip install scikit-learn``).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        from .errors import MissingDependencyError

        raise MissingDependencyError(
            "digits_sequences needs scikit-learn: pip install scikit-learn"
        ) from None
    side = check_int(side, "side", minimum=1)
    if 8 % side:
        raise InvalidArgumentError(f"side must divide 8; got {side}")
    data = load_digits()
    imgs = data.images.reshape(-1, side, 8 // side, side, 8 // side).mean(axis=(2, 4))
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(imgs), size=min(check_int(m, "m", minimum=1), len(imgs)), replace=False)
    X = imgs[pick].reshape(len(pick), side * side) / 8.0 - 1.0
    return X, data.target[pick]


def data_driven_dilations(
    X: Any,
    *,
    r: int,
    M: int | None = None,
    y: Any = None,
    index_sets: Any = "random",
    n_random: int = 64,
    top: int = 3,
    seed: Seed = None,
    client: Any = None,
    n_jobs: int | None = None,
) -> Any:
    """The dilation order whose high-rank partitions are where the data is entangled.

    ``N = m``'s feature count must be ``2^L``.  The entanglement over a family of
    partitions is the *target* of :func:`mtd.design.search_dilations` (the Pearson
    correlation between certified log-ranks and entanglement is maximized).

    Parameters
    ----------
    X : (m, N) or (m, N, D) array_like
    r : int
        Channels of the network.
    M : int, optional
        Discretizers; default ``D`` (2 for scalar features).
    y, index_sets, n_random, top, seed, client, n_jobs
        As in :func:`entanglement_profile` and :func:`mtd.design.search_dilations`.

    Returns
    -------
    DesignResult
        With ``extra["entanglement"]``: the sets and their entanglement.

    Examples
    --------
    Features ``n`` and ``n + 4`` coupled: the first layer should pair them (dilation 4):

    >>> X = mtd.entanglement.planted_pairs_data(8, shift=4, m=200, seed=0)
    >>> res = mtd.entanglement.data_driven_dilations(X, r=2, seed=0)
    >>> res.best.description["dilations"][0]
    4
    """
    from .design import search_dilations

    E = embed_features(X)
    N = E.shape[1]
    L = N.bit_length() - 1
    if N < 2 or 2**L != N:
        raise InvalidArgumentError(
            f"X must have 2^L features for a dilated network; got {N} features"
        )
    rng = np.random.default_rng(seed)
    sets = resolve_index_sets(index_sets, N, n_random=n_random, seed=rng)
    _, qe = entanglement_profile(E, sets, y=y)
    res = search_dilations(
        L,
        r=r,
        M=E.shape[2] if M is None else M,
        index_sets=list(sets),
        objective="target",
        target=list(qe),
        top=top,
        seed=rng,
        client=client,
        n_jobs=n_jobs,
    )
    res.extra["entanglement"] = {"index_sets": [list(I) for I in sets], "values": qe.tolist()}
    return res
