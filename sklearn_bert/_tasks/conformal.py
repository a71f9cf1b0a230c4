"""Split conformal prediction sets and intervals around a fitted estimator.

Split conformal prediction turns the outputs of any fitted model into
prediction *sets* (classification) or *intervals* (regression) that contain
the true value for at least a fraction ``1 - alpha`` of new rows, on average
over calibration sets, provided the calibration rows and the new rows are
exchangeable (drawn from the same distribution). The model itself is not
refitted: :meth:`ConformalClassifier.fit` and :meth:`ConformalRegressor.fit`
only read its predictions on held-out *calibration* rows.

- :class:`ConformalClassifier` uses the LAC score (least ambiguous set-valued
  classifier, Sadinle, Lei and Wasserman 2019): one minus the predicted
  probability of the true class. A class enters the set when its probability
  is at least ``1 - quantile_``; the most probable class is always in it,
  unless ``allow_empty=True``.
- :class:`ConformalRegressor` uses the absolute residual ``|y - f(x)|``; the
  interval is ``f(x) ± quantile_``.

The quantile is the finite-sample one: the ``ceil((n + 1)(1 - alpha))``-th
smallest of the ``n`` calibration scores (infinite when that rank exceeds
``n``, so too few calibration rows give the trivial set or interval rather
than a false guarantee).

These classes need only scikit-learn and NumPy and work with any estimator
that has ``predict_proba`` and ``classes_`` (classification) or ``predict``
(regression). The MAPIE library offers more scores and methods
(``mapie.classification.SplitConformalClassifier``); with the LAC score it
gives the same sets as ``allow_empty=True`` (without it, ours add the most
probable class to a set that would be empty), and with the absolute
residual the same intervals (see the
user guide, "Probabilities and uncertainty", for using MAPIE with text
models).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._typing import Targets, TextData

__all__ = ["ConformalClassifier", "ConformalRegressor", "conformal_quantile"]


def conformal_quantile(scores: Sequence[float] | np.ndarray, alpha: float) -> float:
    """The split conformal quantile of calibration scores.

    The ``ceil((n + 1)(1 - alpha))``-th smallest of the ``n`` scores: for a
    new row exchangeable with the calibration rows, its score is at most this
    value with probability at least ``1 - alpha``.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Non-conformity scores of the calibration rows (higher: worse fit).
    alpha : float in (0, 1)
        Allowed miss rate.

    Returns
    -------
    float
        The quantile; ``inf`` when ``ceil((n + 1)(1 - alpha)) > n``, that is
        when there are fewer than ``1 / alpha - 1`` calibration rows.

    Examples
    --------
    >>> from sklearn_bert.conformal import conformal_quantile
    >>> conformal_quantile([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], 0.2)
    0.8
    >>> conformal_quantile([0.1, 0.2, 0.3], 0.1)
    inf
    """
    scores = np.sort(np.asarray(scores, dtype=float).ravel())
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    n = len(scores)
    if n == 0:
        raise ValueError("conformal_quantile needs at least one calibration score")
    # a rounding error of (n + 1) * (1 - alpha) must not push an exact rank
    # up by one (n = 99, alpha = 0.45: 55.00000000000001, rank 55)
    rank = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    return math.inf if rank > n else float(scores[rank - 1])


class _SplitConformal(MetaEstimatorMixin, BaseEstimator):
    """What both split conformal wrappers share: parameters and delegation."""

    _parameter_constraints: dict = {
        "estimator": [object],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, estimator: Any, *, alpha: float = 0.1) -> None:
        self.estimator = estimator
        self.alpha = alpha

    def _check_estimator(self) -> None:
        self._validate_params()
        check_is_fitted(self.estimator)

    def predict(self, X: TextData) -> np.ndarray:
        """The point predictions of the wrapped estimator.

        Parameters
        ----------
        X : array-like
            Input the wrapped estimator accepts.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``self.estimator.predict(X)``.
        """
        check_is_fitted(self, "quantile_")
        return self.estimator.predict(X)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "quantile_")


class ConformalClassifier(_SplitConformal):
    """Prediction sets with coverage ``1 - alpha`` around a fitted classifier.

    Split conformal prediction with the LAC score (one minus the predicted
    probability of the true class). :meth:`fit` reads the classifier's
    probabilities on calibration rows that were not used to train it;
    :meth:`predict_set` then returns, for each new row, the classes whose
    probability is at least ``1 - quantile_``, plus the most probable class,
    so that no set is empty (unless ``allow_empty=True``). If calibration and
    new rows are exchangeable, the set contains the true class for at least a
    fraction ``1 - alpha`` of new rows (on average over calibration sets).

    Parameters
    ----------
    estimator : fitted classifier
        Any fitted estimator with ``predict_proba`` and ``classes_``, for
        example a :class:`~sklearn_bert.BertClassifier`. It is used as is,
        never refitted. Wrap it in :class:`sklearn.frozen.FrozenEstimator` to
        keep it fitted through :func:`sklearn.base.clone`.
    alpha : float in (0, 1), default=0.1
        Allowed miss rate: the sets aim at coverage ``1 - alpha``.
    allow_empty : bool, default=False
        Whether a row whose classes are all less probable than
        ``1 - quantile_`` gets an empty set (the plain LAC sets, as MAPIE
        returns them) rather than its most probable class. Adding that class
        only adds coverage: with a model right on more than ``1 - alpha`` of
        the rows, the default sets cover at least its accuracy, while the
        sets with ``allow_empty=True`` come closer to ``1 - alpha`` and an
        empty set says "none of the classes is likely enough".

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes of the wrapped estimator (columns of :meth:`predict_set`).
    quantile_ : float
        The conformal quantile of the calibration scores (see
        :func:`conformal_quantile`); ``inf`` with too few calibration rows,
        in which case every set holds every class.
    n_calibration_ : int
        Number of calibration rows.

    See Also
    --------
    ConformalRegressor : Prediction intervals around a fitted regressor.
    sklearn.calibration.CalibratedClassifierCV : Calibrated probabilities.

    Notes
    -----
    The guarantee is marginal (over all rows), not per class or per row.
    Multilabel classifiers (2-D ``y``) are not supported.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_bert.conformal import ConformalClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2))
    >>> y = np.where(X[:, 0] + 0.5 * rng.normal(size=600) > 0, "yes", "no")
    >>> model = LogisticRegression().fit(X[:200], y[:200])
    >>> conformal = ConformalClassifier(model, alpha=0.1).fit(X[200:400], y[200:400])
    >>> sets = conformal.predict_set(X[400:])
    >>> sets.shape, conformal.classes_.tolist()
    ((200, 2), ['no', 'yes'])
    >>> bool(sets.any(axis=1).all())  # never empty
    True
    >>> covered = sets[np.arange(200), np.searchsorted(conformal.classes_, y[400:])]
    >>> bool(covered.mean() >= 0.85)
    True

    At ``alpha=0.2`` the model (accuracy 0.845) is right more often than
    the sets need; with ``allow_empty=True`` some sets are empty and the
    coverage comes down towards 0.8:

    >>> loose = ConformalClassifier(model, alpha=0.2, allow_empty=True)
    >>> loose_sets = loose.fit(X[200:400], y[200:400]).predict_set(X[400:])
    >>> bool((~loose_sets.any(axis=1)).any())
    True
    """

    _parameter_constraints: dict = {
        **_SplitConformal._parameter_constraints,
        "allow_empty": ["boolean"],
    }

    def __init__(
        self, estimator: Any, *, alpha: float = 0.1, allow_empty: bool = False
    ) -> None:
        super().__init__(estimator, alpha=alpha)
        self.allow_empty = allow_empty

    def fit(self, X: TextData, y: Targets) -> ConformalClassifier:
        """Compute the conformal quantile on calibration rows.

        Parameters
        ----------
        X : array-like
            Calibration input, rows not used to train the estimator.
        y : array-like of shape (n_samples,)
            Their true classes; each must be one of ``estimator.classes_``.

        Returns
        -------
        self : ConformalClassifier
        """
        self._check_estimator()
        classes = np.asarray(self.estimator.classes_)
        if classes.ndim != 1:
            raise ValueError(
                "ConformalClassifier supports single-label classifiers only; "
                "this estimator's classes_ is not one-dimensional"
            )
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
        proba = np.asarray(self.estimator.predict_proba(X), dtype=float)
        index = _class_index(classes, y)
        scores = 1.0 - proba[np.arange(len(y)), index]
        self.classes_ = classes
        self.quantile_ = conformal_quantile(scores, self.alpha)
        self.n_calibration_ = len(y)
        return self

    def predict_proba(self, X: TextData) -> np.ndarray:
        """The class probabilities of the wrapped estimator.

        Parameters
        ----------
        X : array-like
            Input the wrapped estimator accepts.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``self.estimator.predict_proba(X)``.
        """
        check_is_fitted(self, "quantile_")
        return self.estimator.predict_proba(X)

    def predict_set(self, X: TextData) -> np.ndarray:
        """Prediction sets: which classes each row's set holds.

        Parameters
        ----------
        X : array-like
            Input the wrapped estimator accepts.

        Returns
        -------
        ndarray of bool, shape (n_samples, n_classes)
            ``sets[i, j]`` is True when ``classes_[j]`` is in the set of row
            ``i``: its probability is at least ``1 - quantile_``, or it is
            the most probable class (unless ``allow_empty=True``).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from sklearn_bert.conformal import ConformalClassifier
        >>> X, y = np.zeros((10, 1)), np.array([0] * 7 + [1] * 3)
        >>> model = DummyClassifier(strategy="prior").fit(X, y)  # p = (0.7, 0.3)
        >>> conformal = ConformalClassifier(model, alpha=0.2).fit(X, y)
        >>> conformal.predict_set(X[:1])  # 20 % misses allowed: both classes
        array([[ True,  True]])
        >>> ConformalClassifier(model, alpha=0.5).fit(X, y).predict_set(X[:1])
        array([[ True, False]])
        """
        check_is_fitted(self, "quantile_")
        proba = np.asarray(self.estimator.predict_proba(X), dtype=float)
        # the same arithmetic as the calibration scores, so ties stay ties
        sets = 1.0 - proba <= self.quantile_
        if not self.allow_empty:
            sets[np.arange(len(proba)), proba.argmax(axis=1)] = True
        return sets


class ConformalRegressor(_SplitConformal):
    """Prediction intervals with coverage ``1 - alpha`` around a fitted regressor.

    Split conformal prediction with the absolute residual ``|y - f(x)|`` as
    score: :meth:`fit` reads the regressor's predictions on calibration rows
    that were not used to train it; :meth:`predict_interval` returns
    ``f(x) ± quantile_``. If calibration and new rows are exchangeable, the
    interval contains the true value for at least a fraction ``1 - alpha``
    of new rows (on average over calibration sets). Every interval has the
    same width, ``2 * quantile_``.

    Parameters
    ----------
    estimator : fitted regressor
        Any fitted estimator with ``predict`` returning one value per row, for
        example a :class:`~sklearn_bert.BertRegressor`. It is used as is,
        never refitted. Wrap it in :class:`sklearn.frozen.FrozenEstimator` to
        keep it fitted through :func:`sklearn.base.clone`.
    alpha : float in (0, 1), default=0.1
        Allowed miss rate: the intervals aim at coverage ``1 - alpha``.

    Attributes
    ----------
    quantile_ : float
        The conformal quantile of the absolute calibration residuals (see
        :func:`conformal_quantile`), the interval's half width; ``inf`` with
        too few calibration rows.
    n_calibration_ : int
        Number of calibration rows.

    See Also
    --------
    ConformalClassifier : Prediction sets around a fitted classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn_bert.conformal import ConformalRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 1))
    >>> y = 3 * X[:, 0] + rng.normal(size=600)
    >>> model = LinearRegression().fit(X[:200], y[:200])
    >>> conformal = ConformalRegressor(model, alpha=0.1).fit(X[200:400], y[200:400])
    >>> intervals = conformal.predict_interval(X[400:])
    >>> intervals.shape
    (200, 2)
    >>> inside = (intervals[:, 0] <= y[400:]) & (y[400:] <= intervals[:, 1])
    >>> bool(inside.mean() >= 0.85)
    True
    """

    def fit(self, X: TextData, y: Targets) -> ConformalRegressor:
        """Compute the conformal quantile on calibration rows.

        Parameters
        ----------
        X : array-like
            Calibration input, rows not used to train the estimator.
        y : array-like of shape (n_samples,)
            Their true values.

        Returns
        -------
        self : ConformalRegressor
        """
        self._check_estimator()
        y = np.asarray(y, dtype=float)
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
        pred = np.asarray(self.estimator.predict(X), dtype=float).reshape(len(y))
        self.quantile_ = conformal_quantile(np.abs(y - pred), self.alpha)
        self.n_calibration_ = len(y)
        return self

    def predict_interval(self, X: TextData) -> np.ndarray:
        """Prediction intervals: lower and upper bound of each row.

        Parameters
        ----------
        X : array-like
            Input the wrapped estimator accepts.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Column 0 the lower bound ``f(x) - quantile_``, column 1 the upper
            bound ``f(x) + quantile_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.dummy import DummyRegressor
        >>> from sklearn_bert.conformal import ConformalRegressor
        >>> X, y = np.zeros((9, 1)), np.arange(9.0)
        >>> model = DummyRegressor().fit(X, y)  # predicts the mean, 4
        >>> conformal = ConformalRegressor(model, alpha=0.2).fit(X, y)
        >>> conformal.predict_interval(X[:1])
        array([[0., 8.]])
        """
        check_is_fitted(self, "quantile_")
        pred = np.asarray(self.estimator.predict(X), dtype=float).reshape(-1)
        return np.column_stack([pred - self.quantile_, pred + self.quantile_])


def _class_index(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Column of each label of ``y`` in ``classes``; unknown labels raise."""
    lookup = {label: i for i, label in enumerate(classes.tolist())}
    try:
        return np.array([lookup[label] for label in y.tolist()], dtype=int)
    except KeyError as err:
        raise ValueError(
            f"calibration label {err.args[0]!r} is not one of the estimator's "
            f"classes {classes.tolist()}"
        ) from None
