"""Prediction sets and intervals with a coverage guarantee (split conformal).

:class:`ConformalClassifier` turns a fitted classifier's probabilities into
prediction sets and :class:`ConformalRegressor` a fitted regressor's
predictions into intervals that hold the true value for a fraction
``1 - alpha`` of new rows, calibrated on held-out rows without refitting the
model; :func:`conformal_quantile` is the finite-sample quantile they use.
See the user guide, "Probabilities and uncertainty".
"""

from __future__ import annotations

from ._tasks.conformal import (
    ConformalClassifier,
    ConformalRegressor,
    conformal_quantile,
)

__all__ = ["ConformalClassifier", "ConformalRegressor", "conformal_quantile"]

# Pickles and skops files name the public path, never the private module.
for _cls in (ConformalClassifier, ConformalRegressor):
    _cls.__module__ = __name__
del _cls
