"""Experiments on the learning side: approximation by fitting, and the accuracy experiment.

* :func:`approximation_experiment` — the expressive gap as approximation error: single
  networks, their sum and the mixed decomposition fitted to a random mixed target
  (``mtd experiment approximation``).
* :func:`interconnect_experiment` — the Fig. 7 protocol on scikit-learn's digits or the
  JapaneseVowels speech set (``mtd experiment interconnect --dataset digits``; needs the
  extra ``learn``, and ``speech`` for JapaneseVowels).
* :func:`dilation_experiment` — single networks of chosen dilation orders under the same
  protocol (``mtd experiment dilations``).

Imported lazily (``mtd.experiments``); plots need matplotlib.
"""

from .approximation import MODELS, ApproximationResult, approximation_experiment
from .interconnect import (
    DATASETS,
    InterconnectResult,
    dilation_experiment,
    interconnect_experiment,
)

__all__ = [
    "MODELS",
    "ApproximationResult",
    "DATASETS",
    "InterconnectResult",
    "approximation_experiment",
    "dilation_experiment",
    "interconnect_experiment",
]
