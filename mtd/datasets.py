"""Small labelled sequence data sets shipped inside installed packages (no network access).

* :func:`digits_sequences` — scikit-learn's 8×8 handwritten digits (1797 images, 10
  classes) read in raster order as sequences of length 64, gray levels 0..16 quantized
  into ``levels`` bins and one-hot encoded: ``x`` of shape ``(n, 64, levels)``.

scikit-learn is imported only here (extra ``learn``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_int

__all__ = ["digits_sequences"]


def digits_sequences(*, levels: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as one-hot sequences of length 64 (raster order).

    Parameters
    ----------
    levels : int, default 4
        Gray levels ``0..16`` are quantized into ``levels`` equal bins
        (``min(v * levels // 17, levels - 1)``).

    Returns
    -------
    x : (1797, 64, levels) float64 array
        One-hot rows.
    y : (1797,) int64 array
        Labels 0..9.

    Examples
    --------
    >>> x, y = mtd.datasets.digits_sequences(levels=4)
    >>> x.shape, y.shape, bool((x.sum(axis=2) == 1).all())
    ((1797, 64, 4), (1797,), True)
    """
    levels = check_int(levels, "levels", minimum=2)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from .training import MissingExtraError

        raise MissingExtraError(
            f'the digits data set needs scikit-learn: pip install "mtd[learn]" ({exc})'
        ) from exc
    data: Any = load_digits()
    images = np.asarray(data.images, dtype=np.int64).reshape(-1, 64)
    q = np.minimum(images * levels // 17, levels - 1)
    return np.eye(levels)[q], np.asarray(data.target, dtype=np.int64)
