"""Experiments on the learning side: approximation by fitting, and the accuracy experiment.

* :func:`approximation_experiment` — the expressive gap as approximation error: single
  networks, their sum and the mixed decomposition fitted to a random mixed target
  (``mtd experiment approximation``).

Imported lazily (``mtd.experiments``); plots need matplotlib.
"""

from .approximation import MODELS, ApproximationResult, approximation_experiment

__all__ = ["MODELS", "ApproximationResult", "approximation_experiment"]
