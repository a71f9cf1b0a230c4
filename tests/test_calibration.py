"""Temperature scaling of the classifier (``calibration="temperature"``) and
the expected calibration error metric.

The temperature is fitted on rows held out of training; it changes no
prediction, divides every logit the estimator returns (``decision_function``,
``predict_proba``) and is folded into the head ``save_pretrained`` writes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _precision import assert_agree

from sklearn_bert import BertClassifier
from sklearn_bert._engine.calibration import fit_temperature
from sklearn_bert.metrics import expected_calibration_error

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RNG = np.random.default_rng(0)
WORDS = ["good", "bad", "fine", "awful", "great", "poor", "film", "plot"]
X = [" ".join(RNG.choice(WORDS, 6)) for _ in range(120)]
Y = np.array(["pos" if ("good" in t or "great" in t) else "neg" for t in X])
FAST = {"max_epochs": 2, "batch_size": 16, "max_length": 16, "random_state": 0}


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# -- the temperature fit (numpy only, float64) --------------------------------


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 3.0])
def test_fit_temperature_recovers_the_scale_of_sampled_labels(true_temperature):
    # labels drawn from softmax(z); logits handed over as z * T: the fit
    # must find T back (the log-loss minimum; 4,000 rows: within 10 %)
    rng = np.random.default_rng(1)
    z = rng.normal(scale=2.0, size=(4000, 4))
    p = _softmax(z)
    y = (p.cumsum(axis=1) > rng.random((4000, 1))).argmax(axis=1)
    found = fit_temperature(z * true_temperature, y, multilabel=False)
    assert found == pytest.approx(true_temperature, rel=0.1)


@pytest.mark.parametrize("n_rows", [20, 200])
def test_held_out_rows_all_right_do_not_sharpen_without_bound(n_rows):
    # every held-out row right by a wide margin: a plain log-loss fit runs
    # to the sharpest temperature allowed (1/20); with Laplace's smoothing
    # the probability of the true class is about (n + 1) / (n + 2)
    rng = np.random.default_rng(3)
    z = rng.normal(size=(n_rows, 5))
    y = rng.integers(0, 5, n_rows)
    z[np.arange(n_rows), y] += 8.0
    found = fit_temperature(z, y, multilabel=False)
    assert found > 1 / 20 + 1e-3
    p = _softmax(z / found)[np.arange(n_rows), y]
    assert p.mean() == pytest.approx((n_rows + 1) / (n_rows + 2), abs=0.02)
    # the same for each label of a multi-label output
    signs = np.where(rng.random((n_rows, 2)) < 0.5, -1.0, 1.0)
    found = fit_temperature(6.0 * signs, (signs > 0).astype(float), multilabel=True)
    np.testing.assert_allclose(
        1 / (1 + np.exp(-6.0 / found)), (n_rows + 1) / (n_rows + 2), atol=1e-3
    )


def test_fit_temperature_multilabel_has_one_per_label():
    rng = np.random.default_rng(2)
    z = rng.normal(scale=2.0, size=(4000, 2))
    y = (rng.random((4000, 2)) < 1 / (1 + np.exp(-z))).astype(float)
    found = fit_temperature(z * np.array([4.0, 1.0]), y, multilabel=True)
    assert found.shape == (2,)
    np.testing.assert_allclose(found, [4.0, 1.0], rtol=0.1)


def test_expected_calibration_error_by_hand():
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    # bins of confidence 0.9 (accuracy 1/2), 0.8 (1) and 0.7 (1):
    # (2 * 0.4 + 0.2 + 0.3) / 4
    assert expected_calibration_error([0, 1, 1, 1], proba) == pytest.approx(0.325)
    assert expected_calibration_error([0, 0, 1, 1], proba, n_bins=1) == pytest.approx(
        abs(1.0 - 0.825)
    )
    with pytest.raises(ValueError, match="shape"):
        expected_calibration_error([0, 1], proba)


# -- the estimator (tiny random model, float32 tolerance of its precision) ----


@pytest.fixture(scope="module")
def calibrated(tiny_bert):
    return BertClassifier(tiny_bert, calibration="temperature", **FAST).fit(X, Y)


def test_temperature_changes_probabilities_not_predictions(calibrated):
    clf = calibrated
    assert isinstance(clf.temperature_, float)
    assert clf.temperature_ != 1.0
    proba = clf.predict_proba(X)
    scores = clf.decision_function(X)
    temperature = clf.temperature_
    clf.temperature_ = 1.0
    try:
        raw_proba = clf.predict_proba(X)
        raw_scores = clf.decision_function(X)
        raw_pred = clf.predict(X)
    finally:
        clf.temperature_ = temperature
    np.testing.assert_array_equal(clf.predict(X), raw_pred)
    assert_agree(scores, raw_scores / temperature, clf.precision_)
    assert_agree(proba[:, 1], 1 / (1 + np.exp(-scores)), clf.precision_)
    assert not np.allclose(proba, raw_proba)


def test_held_out_rows_are_the_early_stopping_split(tiny_bert):
    # with early stopping both fits train on the same rows with the same
    # seed: the calibrated one differs only by its temperature
    kw = {**FAST, "early_stopping": True}
    plain = BertClassifier(tiny_bert, **kw).fit(X, Y)
    cal = BertClassifier(tiny_bert, calibration="temperature", **kw).fit(X, Y)
    assert plain.temperature_ == 1.0
    assert_agree(
        cal.decision_function(X) * cal.temperature_,
        plain.decision_function(X),
        cal.precision_,
    )


def test_without_early_stopping_rows_are_held_out_of_training(tiny_bert):
    # the held-out tenth does not train: another model than calibration=None
    plain = BertClassifier(tiny_bert, **FAST).fit(X, Y)
    cal = BertClassifier(tiny_bert, calibration="temperature", **FAST).fit(X, Y)
    scaled = cal.decision_function(X) * cal.temperature_
    assert not np.allclose(scaled, plain.decision_function(X), atol=1e-3)


def test_too_few_held_out_rows_fit_no_temperature(tiny_bert):
    clf = BertClassifier(tiny_bert, calibration="temperature", **FAST)
    clf.fit(X[:60], Y[:60])  # 6 held-out rows
    assert clf.temperature_ == 1.0


def test_multilabel_chunked_and_fused_calibrate(tiny_bert):
    labels = np.stack([Y == "pos", np.arange(120) % 3 == 0], axis=1).astype(int)
    multi = BertClassifier(tiny_bert, calibration="temperature", **FAST)
    multi.fit(X, labels)
    assert multi.temperature_.shape == (2,)
    assert np.all(multi.temperature_ > 0)

    chunked = BertClassifier(
        tiny_bert,
        calibration="temperature",
        **{**FAST, "max_length": 6},
        long_text="chunk",
        stride=2,
    ).fit(X, Y)
    assert chunked.temperature_ != 1.0
    np.testing.assert_allclose(chunked.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)

    frame = pd.DataFrame({"text": X, "n": RNG.normal(size=len(X))})
    fused = BertClassifier(
        tiny_bert, text_columns=["text"], calibration="temperature", **FAST
    ).fit(frame, Y)
    assert fused.temperature_ != 1.0
    np.testing.assert_allclose(fused.predict_proba(frame).sum(axis=1), 1.0, rtol=1e-6)


def test_saved_head_holds_the_temperature(calibrated, tmp_path):
    # loaded the way the deployment docs say: the saved logits are the
    # calibrated ones
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(calibrated.save_pretrained(tmp_path)), device="cpu")
    logits = st.encode(X[:8])  # float32
    assert_agree(
        logits[:, 1] - logits[:, 0],
        calibrated.decision_function(X[:8]),
        calibrated.precision_,
        "float32",
    )


def test_bad_calibration_value_is_refused(tiny_bert):
    with pytest.raises(ValueError, match="calibration"):
        BertClassifier(tiny_bert, calibration="platt", **FAST).fit(X, Y)


def test_token_classifier_temperature(tiny_bert, tmp_path):
    # 40 sentences: 4 held out, tens of words; probabilities of every word
    # divided, tags unchanged, the saved classification layer divided too
    from test_token import X_TRAIN, Y_TRAIN
    from transformers import AutoModelForTokenClassification

    from sklearn_bert import BertTokenClassifier

    kw = {"max_epochs": 2, "batch_size": 8, "random_state": 0}
    tagger = BertTokenClassifier(tiny_bert, calibration="temperature", **kw)
    tagger.fit(X_TRAIN, Y_TRAIN)
    assert tagger.temperature_ != 1.0
    proba = tagger.predict_proba(X_TRAIN[:3])
    tags = tagger.predict(X_TRAIN[:3])
    temperature = tagger.temperature_
    tagger.temperature_ = 1.0
    try:
        raw = tagger.predict_proba(X_TRAIN[:3])
        assert tagger.predict(X_TRAIN[:3]) == tags
    finally:
        tagger.temperature_ = temperature
    for p, r in zip(proba, raw, strict=True):
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        assert_agree(np.log(p), _log_softmax(np.log(r) / temperature), "float32")
    folder = tagger.save_pretrained(tmp_path)
    model = AutoModelForTokenClassification.from_pretrained(folder)
    layer = tagger.net_.module_.hf_model.classifier
    assert_agree(
        model.classifier.weight.detach().numpy(),
        layer.weight.detach().numpy() / temperature,
        "float32",
    )


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
