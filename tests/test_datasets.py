"""The speech data set's reader and encoding (sktime's own loader is the independent check)."""

import numpy as np
import pytest

import mtd
from mtd import datasets


def test_read_ts_parses_dimensions_and_labels(tmp_path):
    f = tmp_path / "toy.ts"
    f.write_text("# comment\n@problemName toy\n@data\n1,2:3,4:x\n\n5:6.5:y\n")
    series, labels = datasets.read_ts(f)
    assert [s.tolist() for s in series] == [[[1, 3], [2, 4]], [[5, 6.5]]]
    assert labels.tolist() == ["x", "y"]


@pytest.mark.parametrize("line", ["1,2:3:a", "1,b:3,4:a"])
def test_read_ts_names_the_bad_line(tmp_path, line):
    f = tmp_path / "bad.ts"
    f.write_text(f"@data\n1:2:a\n{line}\n")
    with pytest.raises(mtd.InvalidArgumentError, match="line 3"):
        datasets.read_ts(f)


def test_missing_packages_name_the_extra(monkeypatch):
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(mtd.MissingDependencyError, match=r"mtd\[speech\]") as info:
        datasets.japanese_vowels_sequences()
    assert isinstance(info.value, ImportError)


def test_japanese_vowels_matches_sktimes_loader_and_quantizes_by_training_quantiles():
    pytest.importorskip("sktime")
    from sktime.datasets import load_japanese_vowels

    levels = 4
    xtr, ytr, xte, yte = datasets.japanese_vowels_sequences(levels=levels)
    assert xtr.shape == (270, 32, 12 * levels + 1) and xte.shape == (370, 32, 12 * levels + 1)
    raw = {}
    for split, x, y in (("train", xtr, ytr), ("test", xte, yte)):
        X, labels = load_japanese_vowels(split=split, return_X_y=True)
        assert np.array_equal(y, labels.astype(int) - 1)
        values = [
            np.stack([X.iloc[i, d].to_numpy() for d in range(12)], axis=1) for i in range(len(X))
        ]
        raw[split] = values
        for i, v in enumerate(values):
            n = len(v)
            # end-aligned: the last n frames are the utterance, the rest the padding symbol
            assert np.array_equal(x[i, : 32 - n, -1], np.ones(32 - n))
            assert not x[i, : 32 - n, :-1].any()
            body = x[i, 32 - n :]
            assert not body[:, -1].any()
            assert np.array_equal(body[:, :-1].reshape(n, 12, levels).sum(axis=2), np.ones((n, 12)))
    # quantile bins of the training frames: monotone in the value, about equally filled
    frames = np.concatenate(raw["train"])
    bins = np.concatenate(
        [
            xtr[i, 32 - len(v) :, :-1].reshape(len(v), 12, levels).argmax(axis=2)
            for i, v in enumerate(raw["train"])
        ]
    )
    for d in range(12):
        order = np.argsort(frames[:, d], kind="stable")
        assert np.all(np.diff(bins[order, d]) >= 0)
        counts = np.bincount(bins[:, d], minlength=levels) / len(frames)
        assert np.allclose(counts, 1 / levels, atol=0.01)


@pytest.mark.parametrize(
    ("loader", "what"),
    [
        (datasets.digits_sequences, "digits"),
        (datasets.japanese_vowels_sequences, "JapaneseVowels"),
    ],
)
def test_huge_levels_are_refused_before_anything_is_read(monkeypatch, loader, what):
    # the one-hot output is sized by ``levels``: a billion bins must be refused by the
    # memory guard before the data set is looked up (no package or file is needed)
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(mtd.TensorTooLargeError, match=what) as info:
        loader(levels=10**9)
    assert isinstance(info.value, MemoryError)
