"""Small labelled sequence data sets shipped inside installed packages (no network access).

* :func:`digits_sequences` — scikit-learn's 8×8 handwritten digits (1797 images, 10
  classes) read in raster order as sequences of length 64, gray levels 0..16 quantized
  into ``levels`` bins and one-hot encoded: ``x`` of shape ``(n, 64, levels)``.
* :func:`japanese_vowels_sequences` — the JapaneseVowels speech set (UCI; 9 speakers,
  12 LPC cepstrum coefficients per frame, 7..29 frames; 270 training and 370 test
  utterances), read from the copy that sktime or aeon ships inside the package (extra
  ``speech``), each coefficient quantized and one-hot encoded, padded to 32 frames.

scikit-learn is imported only in :func:`digits_sequences` (extra ``learn``); the speech
set's files are read directly, without importing sktime or aeon.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from ._sizes import check_bytes
from ._validation import check_int
from .errors import InvalidArgumentError, MissingDependencyError

__all__ = ["digits_sequences", "japanese_vowels_sequences", "read_ts"]

_JV = Path("datasets", "data", "JapaneseVowels")


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
    check_bytes((1797, 64, levels), 8, what="the one-hot digits sequences")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f'the digits data set needs scikit-learn: pip install "mtd[learn]" ({exc})'
        ) from exc
    data: Any = load_digits()
    images = np.asarray(data.images, dtype=np.int64).reshape(-1, 64)
    q = np.minimum(images * levels // 17, levels - 1)
    return np.eye(levels)[q], np.asarray(data.target, dtype=np.int64)


def read_ts(path: Any) -> tuple[list[np.ndarray], np.ndarray]:
    r"""Read a multivariate time-series classification file in the ``.ts`` text format.

    Header lines start with ``@`` (``@data`` ends the header) and comments with ``#``;
    every data line holds the dimensions separated by ``:``, each a comma-separated
    series, and the class label last.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    series : list of (length, n_dimensions) float64 arrays
    labels : (n,) array of str

    Raises
    ------
    InvalidArgumentError
        If a data line is malformed (the message names the line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "toy.ts"
    >>> _ = f.write_text("@dimensions 2\n@data\n1,2,3:4,5,6:b\n7:8:a\n")
    >>> series, labels = mtd.datasets.read_ts(f)
    >>> [s.shape for s in series], labels.tolist()
    ([(3, 2), (1, 2)], ['b', 'a'])
    """
    series: list[np.ndarray] = []
    labels: list[str] = []
    in_data = False
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower().startswith("@data")
                continue
            *dims, label = line.split(":")
            try:
                cols = [np.array(d.split(","), dtype=float) for d in dims]
            except ValueError:
                raise InvalidArgumentError(
                    f"{path}, line {number}: a dimension holds a value that is not a number"
                ) from None
            if not cols or len({len(c) for c in cols}) != 1:
                raise InvalidArgumentError(
                    f"{path}, line {number}: expected dimensions of equal length followed by a "
                    f"label; got lengths {[len(c) for c in cols]}"
                )
            series.append(np.stack(cols, axis=1))
            labels.append(label.strip())
    return series, np.array(labels)


def _japanese_vowels_dir() -> Path:
    """The JapaneseVowels folder inside an installed sktime or aeon (not imported)."""
    found = []
    for package in ("sktime", "aeon"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            folder = Path(root) / _JV
            found.append(folder)
            if (folder / "JapaneseVowels_TRAIN.ts").is_file():
                return folder
    if found:
        raise MissingDependencyError(
            f"JapaneseVowels_TRAIN.ts is not in the installed sktime/aeon (looked in "
            f"{', '.join(map(str, found))}); install a version that ships it: "
            f'pip install "mtd[speech]"'
        )
    raise MissingDependencyError(
        'the JapaneseVowels data set is read from sktime or aeon: pip install "mtd[speech]"'
    )


def japanese_vowels_sequences(
    *, levels: int = 4, length: int = 32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """JapaneseVowels as one-hot sequences of a fixed length, with its standard split.

    Every frame has 12 LPC cepstrum coefficients.  Each coefficient is quantized into
    ``levels`` bins whose edges are the quantiles ``1/levels, 2/levels, …`` of that
    coefficient over all frames of the *training* utterances (the test set does not move
    the edges), and one-hot encoded; a frame is the ``12 · levels`` such bits plus one
    *padding* channel, which is 0.  Utterances (7..29 frames) are aligned to the end —
    the last time step is the last frame, where the network's output is read — and
    padded in front with frames whose only 1 is the padding channel (not zeros, so a
    product network is not zeroed).  An utterance longer than ``length`` keeps its last
    ``length`` frames (none at the default 32).

    Parameters
    ----------
    levels : int, default 4
        Bins per coefficient.
    length : int, default 32
        Frames per sequence (a power of two makes it a dilated network's receptive field).

    Returns
    -------
    x_train : (270, length, 12 * levels + 1) float64 array
    y_train : (270,) int64 array
        Speakers 0..8 (the file's labels 1..9 minus one).
    x_test : (370, length, 12 * levels + 1) float64 array
    y_test : (370,) int64 array

    Raises
    ------
    MissingDependencyError
        If neither sktime nor aeon (with the data files) is installed:
        ``pip install "mtd[speech]"``.

    Examples
    --------
    >>> xtr, ytr, xte, yte = mtd.datasets.japanese_vowels_sequences()  # doctest: +SKIP
    >>> xtr.shape, xte.shape, sorted(set(ytr.tolist()))  # doctest: +SKIP
    ((270, 32, 49), (370, 32, 49), [0, 1, 2, 3, 4, 5, 6, 7, 8])
    """
    levels = check_int(levels, "levels", minimum=2)
    length = check_int(length, "length", minimum=1)
    if length > 4096:
        raise InvalidArgumentError(f"length must be at most 4096 frames; got {length}")
    check_bytes((640, length, 12 * levels + 1), 8, what="the one-hot JapaneseVowels sequences")
    folder = _japanese_vowels_dir()
    train, y_train = read_ts(folder / "JapaneseVowels_TRAIN.ts")
    test, y_test = read_ts(folder / "JapaneseVowels_TEST.ts")
    frames = np.concatenate(train)
    edges = np.quantile(frames, np.arange(1, levels) / levels, axis=0)  # (levels - 1, 12)

    def encode(series: list[np.ndarray]) -> np.ndarray:
        D = series[0].shape[1]
        out = np.zeros((len(series), length, D * levels + 1))
        out[:, :, -1] = 1.0
        for i, s in enumerate(series):
            s = s[-length:]
            bins = np.stack([np.searchsorted(edges[:, d], s[:, d], side="right") for d in range(D)])
            rows = np.arange(length - len(s), length)
            out[i, rows, -1] = 0.0
            for d in range(D):
                out[i, rows, d * levels + bins[d]] = 1.0
        return out

    return (
        encode(train),
        y_train.astype(np.int64) - 1,
        encode(test),
        y_test.astype(np.int64) - 1,
    )
