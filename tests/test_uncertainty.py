"""Calibrated probabilities and conformal prediction around our estimators.

``CalibratedClassifierCV(FrozenEstimator(clf))`` with every classifier of the
package (tiny models: the checks are of shapes and contracts, not of
calibration quality), and :mod:`sklearn_bert.conformal`: its coverage on
synthetic data, its sets and intervals around tiny fitted models, and its
agreement with MAPIE (skipped when MAPIE is not installed).
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression

from sklearn_bert import (
    BertClassifier,
    BertContrastiveClassifier,
    BertRegressor,
    BertTokenClassifier,
)
from sklearn_bert.conformal import (
    ConformalClassifier,
    ConformalRegressor,
    conformal_quantile,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

POS = ["good film great", "great story love", "happy good friendly", "love great"]
NEG = ["bad film terrible", "terrible story hate", "sad bad slow", "hate terrible"]
MID = ["the film was long", "a story of a day", "the room and food", "old house"]
X_BIN = POS * 2 + NEG * 2
Y_BIN = np.array(["pos"] * 8 + ["neg"] * 8, dtype=object)
X_MULTI = (POS + NEG + MID) * 2
Y_MULTI = np.array((["pos"] * 4 + ["neg"] * 4 + ["mid"] * 4) * 2, dtype=object)
FAST = {"max_length": 32, "batch_size": 8, "max_epochs": 1, "random_state": 0}
METHODS = ["sigmoid", "isotonic", "temperature"]


@pytest.fixture(scope="module")
def binary(tiny_bert):
    return BertClassifier(tiny_bert, **FAST).fit(X_BIN, Y_BIN)


@pytest.fixture(scope="module")
def multiclass(tiny_bert):
    return BertClassifier(tiny_bert, **FAST).fit(X_MULTI, Y_MULTI)


def _check_calibrated(calibrated, model, X):
    proba = calibrated.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(calibrated.classes_, model.classes_)
    np.testing.assert_array_equal(
        calibrated.predict(X), calibrated.classes_[proba.argmax(axis=1)]
    )


# -- CalibratedClassifierCV(FrozenEstimator(...)) ---------------------------


@pytest.mark.parametrize("method", METHODS)
def test_calibrated_binary(binary, method):
    calibrated = CalibratedClassifierCV(FrozenEstimator(binary), method=method)
    calibrated.fit(X_BIN, Y_BIN)
    _check_calibrated(calibrated, binary, X_BIN)


@pytest.mark.parametrize("method", METHODS)
def test_calibrated_multiclass(multiclass, method):
    calibrated = CalibratedClassifierCV(FrozenEstimator(multiclass), method=method)
    calibrated.fit(X_MULTI, Y_MULTI)
    _check_calibrated(calibrated, multiclass, X_MULTI)


def test_frozen_model_is_not_refitted(binary):
    before = binary.predict_proba(X_BIN)
    CalibratedClassifierCV(FrozenEstimator(binary)).fit(X_BIN[::-1], Y_BIN[::-1])
    np.testing.assert_array_equal(binary.predict_proba(X_BIN), before)


def test_calibrated_wrapper_pickles(binary):
    calibrated = CalibratedClassifierCV(FrozenEstimator(binary), method="temperature")
    calibrated.fit(X_BIN, Y_BIN)
    again = pickle.loads(pickle.dumps(calibrated))
    np.testing.assert_allclose(
        again.predict_proba(X_BIN), calibrated.predict_proba(X_BIN), atol=1e-6
    )


def test_calibrated_text_columns_dataframe(tiny_bert):
    X = pd.DataFrame(
        {"review": X_BIN, "price": np.where(Y_BIN == "pos", 2.0, -2.0)},
        index=pd.RangeIndex(50, 66),
    )
    model = BertClassifier(tiny_bert, text_columns="review", **FAST).fit(X, Y_BIN)
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid")
    calibrated.fit(X, Y_BIN)
    _check_calibrated(calibrated, model, X)


def test_calibrated_contrastive_classifier(tiny_bert):
    model = BertContrastiveClassifier(
        tiny_bert, max_length=32, batch_size=8, max_epochs=1, random_state=0
    ).fit(X_MULTI, Y_MULTI)
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="isotonic")
    calibrated.fit(X_MULTI, Y_MULTI)
    _check_calibrated(calibrated, model, X_MULTI)


def test_multilabel_is_not_supported_by_calibrated_classifier(tiny_bert):
    Y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]] * 4)
    model = BertClassifier(tiny_bert, **FAST).fit(X_BIN, Y)
    with pytest.raises(ValueError, match="1d array"):
        CalibratedClassifierCV(FrozenEstimator(model)).fit(X_BIN, Y)


def test_token_classifier_is_not_supported_by_calibrated_classifier(tiny_bert):
    # one label per word: y is a list of tag lists, not one label per row
    X = [["Paris", "is", "big"], ["John", "lives", "here", "now"]] * 4
    y = [["B-LOC", "O", "O"], ["B-PER", "O", "O", "O"]] * 4
    model = BertTokenClassifier(tiny_bert, **FAST).fit(X, y)
    with pytest.raises(ValueError):
        CalibratedClassifierCV(FrozenEstimator(model)).fit(X, y)


# -- conformal_quantile ------------------------------------------------------


def test_quantile_is_the_finite_sample_rank():
    scores = np.arange(1, 20) / 20  # n = 19
    # ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(scores, 0.1) == scores[17]
    assert conformal_quantile(scores[::-1], 0.1) == scores[17]
    assert conformal_quantile(scores, 0.5) == scores[9]  # ceil(20 * 0.5) = 10
    assert conformal_quantile(scores[:8], 0.1) == np.inf  # ceil(9 * 0.9) = 9 > 8
    # 100 * 0.55 is 55.00000000000001 in floating point; the rank is 55
    assert conformal_quantile(np.arange(99.0), 0.45) == 54.0
    with pytest.raises(ValueError, match="alpha"):
        conformal_quantile(scores, 1.0)
    with pytest.raises(ValueError, match="at least one"):
        conformal_quantile([], 0.1)


# -- coverage on synthetic data ----------------------------------------------


def _synthetic_classification(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    logits = np.column_stack([X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]]) * 1.5
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(["a", "b", "c"], p=row) for row in p])
    return X, y


def test_classification_coverage_on_synthetic_data():
    """Mean coverage over 40 random calibration/test splits of 1,000 rows.

    Split conformal coverage is at least 1 - alpha and below
    1 - alpha + 1 / (n_cal + 1) in expectation; each split's coverage varies by
    about 0.019 (binomial over 500 test rows plus the Beta spread of the
    calibration quantile), so the mean of 40 splits by about 0.003: the
    tolerance of 0.01 is over three of those (and the seeds are fixed).
    """
    X, y = _synthetic_classification(1500, seed=0)
    model = LogisticRegression().fit(X[:500], y[:500])
    X_held, y_held = X[500:], y[500:]
    rng = np.random.default_rng(1)
    coverages = []
    for _ in range(40):
        order = rng.permutation(1000)
        cal, test = order[:500], order[500:]
        conformal = ConformalClassifier(model, alpha=0.1).fit(X_held[cal], y_held[cal])
        sets = conformal.predict_set(X_held[test])
        assert sets.shape == (500, 3) and sets.dtype == bool
        assert sets.any(axis=1).all()  # never empty
        truth = np.searchsorted(conformal.classes_, y_held[test])
        coverages.append(sets[np.arange(500), truth].mean())
    assert 0.9 - 0.01 <= np.mean(coverages) <= 0.9 + 1 / 501 + 0.01


def test_empty_sets_bring_a_good_model_down_to_its_aim():
    """A model right on 75 % of the rows, at alpha=0.4: the sets that always
    hold the top class cover at least its accuracy, far above 0.6; with
    ``allow_empty=True`` the mean coverage over 40 splits is 0.6 within the
    tolerance of the coverage test above."""
    X, y = _synthetic_classification(1500, seed=0)
    model = LogisticRegression().fit(X[:500], y[:500])
    X_held, y_held = X[500:], y[500:]
    accuracy = (model.predict(X_held) == y_held).mean()
    assert accuracy > 0.6 + 0.1
    rng = np.random.default_rng(1)
    plain, loose = [], []
    for _ in range(40):
        order = rng.permutation(1000)
        cal, test = order[:500], order[500:]
        truth = np.searchsorted(model.classes_, y_held[test])
        for allow_empty, coverages in ((False, plain), (True, loose)):
            conformal = ConformalClassifier(
                model, alpha=0.4, allow_empty=allow_empty
            ).fit(X_held[cal], y_held[cal])
            sets = conformal.predict_set(X_held[test])
            coverages.append(sets[np.arange(500), truth].mean())
    assert np.mean(plain) >= accuracy - 0.01
    assert 0.6 - 0.01 <= np.mean(loose) <= 0.6 + 1 / 501 + 0.01


def test_regression_coverage_on_synthetic_data():
    """As above for intervals (same tolerance, same reasoning)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 1))
    y = 2 * X[:, 0] + rng.standard_t(df=4, size=1500)
    model = LinearRegression().fit(X[:500], y[:500])
    X_held, y_held = X[500:], y[500:]
    coverages = []
    for _ in range(40):
        order = rng.permutation(1000)
        cal, test = order[:500], order[500:]
        conformal = ConformalRegressor(model, alpha=0.1).fit(X_held[cal], y_held[cal])
        bounds = conformal.predict_interval(X_held[test])
        assert bounds.shape == (500, 2)
        assert np.all(bounds[:, 0] <= bounds[:, 1])
        np.testing.assert_allclose(bounds.mean(axis=1), model.predict(X_held[test]))
        inside = (bounds[:, 0] <= y_held[test]) & (y_held[test] <= bounds[:, 1])
        coverages.append(inside.mean())
    assert 0.9 - 0.01 <= np.mean(coverages) <= 0.9 + 1 / 501 + 0.01


# -- conformal wrappers around our estimators --------------------------------


def test_conformal_sets_around_bert_classifier(multiclass):
    conformal = ConformalClassifier(FrozenEstimator(multiclass), alpha=0.2)
    conformal.fit(X_MULTI, Y_MULTI)
    np.testing.assert_array_equal(conformal.classes_, multiclass.classes_)
    assert conformal.n_calibration_ == len(Y_MULTI)
    sets = conformal.predict_set(X_MULTI)
    assert sets.shape == (len(X_MULTI), 3)
    assert sets.any(axis=1).all()
    proba = multiclass.predict_proba(X_MULTI)
    assert sets[np.arange(len(proba)), proba.argmax(axis=1)].all()
    # calibrated on these rows: at least ceil((n + 1)(1 - alpha)) of them covered
    truth = np.searchsorted(conformal.classes_, Y_MULTI)
    assert sets[np.arange(len(truth)), truth].sum() >= np.ceil(25 * 0.8)
    np.testing.assert_array_equal(
        conformal.predict(X_MULTI), multiclass.predict(X_MULTI)
    )
    np.testing.assert_array_equal(conformal.predict_proba(X_MULTI), proba)
    # FrozenEstimator keeps the model fitted through clone
    again = clone(conformal).fit(X_MULTI, Y_MULTI)
    assert again.quantile_ == conformal.quantile_
    restored = pickle.loads(pickle.dumps(conformal))
    np.testing.assert_array_equal(restored.predict_set(X_MULTI), sets)


def test_conformal_intervals_around_bert_regressor(tiny_bert):
    y = np.where(Y_BIN == "pos", 4.0, 1.0) + np.linspace(0, 1, 16)
    model = BertRegressor(tiny_bert, **FAST).fit(X_BIN, y)
    conformal = ConformalRegressor(model, alpha=0.25).fit(X_BIN, y)
    bounds = conformal.predict_interval(X_BIN)
    assert bounds.shape == (16, 2) and np.all(bounds[:, 0] <= bounds[:, 1])
    np.testing.assert_allclose(bounds.mean(axis=1), model.predict(X_BIN), rtol=1e-6)
    np.testing.assert_allclose(bounds[:, 1] - bounds[:, 0], 2 * conformal.quantile_)
    inside = (bounds[:, 0] <= y) & (y <= bounds[:, 1])
    assert inside.sum() >= np.ceil(17 * 0.75)


def test_too_few_calibration_rows_give_every_class(binary):
    conformal = ConformalClassifier(binary, alpha=0.1).fit(X_BIN[:5], Y_BIN[:5])
    assert conformal.quantile_ == np.inf
    assert conformal.predict_set(X_BIN).all()


def test_conformal_errors(tiny_bert, binary):
    with pytest.raises(NotFittedError):
        ConformalClassifier(BertClassifier(tiny_bert)).fit(X_BIN, Y_BIN)
    with pytest.raises(NotFittedError):
        ConformalClassifier(binary).predict_set(X_BIN)
    with pytest.raises(ValueError, match="'maybe' is not one of"):
        ConformalClassifier(binary).fit(X_BIN[:2], ["pos", "maybe"])
    with pytest.raises(ValueError, match="alpha"):
        ConformalClassifier(binary, alpha=1.5).fit(X_BIN, Y_BIN)
    Y = np.array([[1, 0], [0, 1]] * 8)
    multilabel = BertClassifier(tiny_bert, **FAST).fit(X_BIN, Y)
    with pytest.raises(ValueError, match="one-dimensional"):
        ConformalClassifier(multilabel).fit(X_BIN, Y)


# -- MAPIE gives the same sets and intervals ----------------------------------


def test_mapie_lac_and_absolute_agree_with_ours():
    pytest.importorskip("mapie")
    from mapie.classification import SplitConformalClassifier
    from mapie.regression import SplitConformalRegressor

    X, y = _synthetic_classification(900, seed=2)
    model = LogisticRegression().fit(X[:300], y[:300])
    ours = ConformalClassifier(model, alpha=0.1).fit(X[300:600], y[300:600])
    mapie = SplitConformalClassifier(
        estimator=model, confidence_level=0.9, conformity_score="lac", prefit=True
    ).conformalize(X[300:600], y[300:600])
    _, mapie_sets = mapie.predict_set(X[600:])
    mapie_sets = mapie_sets[:, :, 0]
    top = model.predict_proba(X[600:]).argmax(axis=1)[:, None] == np.arange(3)
    # ours adds the most probable class where the LAC set would be empty
    np.testing.assert_array_equal(ours.predict_set(X[600:]), mapie_sets | top)
    # at 60 % some LAC sets are empty: with allow_empty=True ours are MAPIE's
    loose = ConformalClassifier(model, alpha=0.4, allow_empty=True)
    loose.fit(X[300:600], y[300:600])
    mapie_loose = SplitConformalClassifier(
        estimator=model, confidence_level=0.6, conformity_score="lac", prefit=True
    ).conformalize(X[300:600], y[300:600])
    loose_sets = mapie_loose.predict_set(X[600:])[1][:, :, 0]
    assert (~loose_sets.any(axis=1)).any()
    np.testing.assert_array_equal(loose.predict_set(X[600:]), loose_sets)

    rng = np.random.default_rng(3)
    Xr = rng.normal(size=(900, 1))
    yr = 2 * Xr[:, 0] + rng.normal(size=900)
    reg = LinearRegression().fit(Xr[:300], yr[:300])
    ours_r = ConformalRegressor(reg, alpha=0.1).fit(Xr[300:600], yr[300:600])
    mapie_r = SplitConformalRegressor(
        estimator=reg, confidence_level=0.9, conformity_score="absolute", prefit=True
    ).conformalize(Xr[300:600], yr[300:600])
    _, mapie_bounds = mapie_r.predict_interval(Xr[600:])
    np.testing.assert_allclose(
        ours_r.predict_interval(Xr[600:]), mapie_bounds[:, :, 0], rtol=1e-12
    )


class _Fitted(BaseEstimator):
    """The adapter of docs/user_guide/uncertainty.rst: a fitted model without
    ``n_features_in_``, which MAPIE would probe with a row of zeros."""

    fitted_ = True  # what MAPIE looks for in a fitted model

    def __init__(self, model):
        self.model = model

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    @property
    def classes_(self):
        return self.model.classes_

    def __sklearn_is_fitted__(self):
        return True


class _FittedClassifier(ClassifierMixin, _Fitted):
    pass


class _FittedRegressor(RegressorMixin, _Fitted):
    pass


def test_mapie_with_our_estimators_needs_the_adapter(multiclass, tiny_bert):
    """MAPIE 1.x probes a prefit model with ``np.zeros((1, n_features_in_))``,
    which a text model rejects; through the adapter, with the texts as one
    column, it gives our sets and intervals."""
    pytest.importorskip("mapie")
    from mapie.classification import SplitConformalClassifier
    from mapie.regression import SplitConformalRegressor

    X_col = np.asarray(X_MULTI, dtype=object).reshape(-1, 1)
    with pytest.raises(UserWarning, match="minimal prediction test"):
        SplitConformalClassifier(
            estimator=multiclass, confidence_level=0.8, prefit=True
        ).conformalize(X_col, Y_MULTI)
    mapie = SplitConformalClassifier(
        estimator=_FittedClassifier(multiclass), confidence_level=0.8, prefit=True
    ).conformalize(X_col, Y_MULTI)
    ours = ConformalClassifier(multiclass, alpha=0.2).fit(X_MULTI, Y_MULTI)
    proba = multiclass.predict_proba(X_MULTI)
    top = proba.argmax(axis=1)[:, None] == np.arange(3)
    np.testing.assert_array_equal(
        ours.predict_set(X_MULTI), mapie.predict_set(X_col)[1][:, :, 0] | top
    )

    y = np.arange(len(Y_MULTI), dtype=float)
    reg = BertRegressor(tiny_bert, **FAST).fit(X_MULTI, y)
    mapie_r = SplitConformalRegressor(
        estimator=_FittedRegressor(reg), confidence_level=0.8, prefit=True
    ).conformalize(X_col, y)
    ours_r = ConformalRegressor(reg, alpha=0.2).fit(X_MULTI, y)
    np.testing.assert_allclose(
        ours_r.predict_interval(X_MULTI),
        mapie_r.predict_interval(X_col)[1][:, :, 0],
        rtol=1e-6,
    )
