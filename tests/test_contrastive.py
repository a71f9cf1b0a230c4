"""Contrastive fine-tuning (the SetFit recipe) and the few-shot estimators."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _precision import assert_agree
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from sklearn_bert import (
    BertContrastiveClassifier,
    BertContrastiveRegressor,
    BertTransformer,
)
from sklearn_bert._nn.losses import PairCosineLoss
from sklearn_bert._tasks.contrastive.trainer import pair_targets

GOOD = ["good film great", "great story love", "happy good friendly", "love great"]
BAD = ["bad film terrible", "terrible story hate", "sad bad slow", "hate terrible"]
X = GOOD * 2 + BAD * 2
Y = np.array(["pos"] * 8 + ["neg"] * 8)
FAST = {"max_length": 32, "batch_size": 8, "random_state": 0}


def test_pair_loss_matches_its_definition():
    v = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    # cosines: (0,1)=1 same class -> error 0; (0,2)=(1,2)=0 different -> 0
    assert float(PairCosineLoss("labels")(v, labels)) == pytest.approx(0.0)
    flipped = torch.tensor([0, 1, 1])
    # (0,1): cos 1, target 0 -> 1; (0,2): 0, target 0 -> 0; (1,2): 0, target 1 -> 1
    # balanced halves: similar pairs mean 1, dissimilar pairs mean (1 + 0) / 2
    assert float(PairCosineLoss("labels")(v, flipped)) == pytest.approx(0.75)
    sets = torch.tensor([[1, 1], [1, 0], [0, 1]])
    # Jaccard targets 0.5, 0.5, 0: errors (1-.5)^2, (0-.5)^2, (0-0)^2
    assert float(PairCosineLoss("sets")(v, sets)) == pytest.approx(0.5 / 3)
    values = torch.tensor([[0.0], [1.0], [0.5]])
    # targets 0, 0.5, 0.5: errors 1, .25, .25
    assert float(PairCosineLoss("values")(v, values)) == pytest.approx(1.5 / 3)


def test_pair_targets_read_the_kind_of_y():
    assert pair_targets(["a", "b", "a"], 3)[1] == "labels"
    assert pair_targets(np.eye(3, dtype=int), 3)[1] == "sets"
    targets, kind = pair_targets([1.5, 3.0, 2.25], 3)
    assert kind == "values"
    np.testing.assert_allclose(np.ravel(targets), [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="at least 2 classes"):
        pair_targets(["a", "a"], 2)
    with pytest.raises(ValueError, match="3 rows but y has 2"):
        pair_targets(["a", "b"], 3)


def test_contrastive_transformer_pulls_classes_apart(tiny_bert):
    def separation(emb):
        unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        cos = unit @ unit.T
        same = Y[:, None] == Y[None, :]
        off = ~np.eye(len(Y), dtype=bool)
        return cos[same & off].mean() - cos[~same].mean()

    frozen = BertTransformer(tiny_bert, **FAST).fit(X).transform(X)
    tuned = BertTransformer(
        tiny_bert, fine_tune="contrastive", max_epochs=20, lr=1e-3, **FAST
    ).fit(X, Y)
    assert tuned.max_epochs_ == 20 and tuned.lr_ == 1e-3
    assert separation(tuned.transform(X)) > separation(frozen) + 0.2
    assert len(tuned.history_) == 20
    # the recipe in scikit-learn terms
    pipe = make_pipeline(
        BertTransformer(tiny_bert, fine_tune="contrastive", max_epochs=2, **FAST),
        LogisticRegression(),
    ).fit(X, Y)
    assert set(pipe.predict(X)) <= {"pos", "neg"}


def test_classifier_labels_probabilities_and_heads(tiny_bert):
    clf = BertContrastiveClassifier(tiny_bert, max_epochs=2, **FAST).fit(X, Y)
    assert list(clf.classes_) == ["neg", "pos"]
    proba = clf.predict_proba(X)
    assert proba.shape == (16, 2)
    assert_agree(proba.sum(axis=1), 1, "float32")
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert clf.decision_function(X).shape == (16,)
    assert clf.transform(X).shape == (16, 32)
    svc = BertContrastiveClassifier(tiny_bert, head=SVC(), max_epochs=1, **FAST)
    assert isinstance(svc.fit(X, Y).head_, SVC)
    again = BertContrastiveClassifier(tiny_bert, max_epochs=2, **FAST).fit(X, Y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)


def test_classifier_multi_label(tiny_bert):
    Y2 = np.column_stack([Y == "pos", np.arange(16) % 2 == 0]).astype(int)
    clf = BertContrastiveClassifier(tiny_bert, max_epochs=1, **FAST).fit(X, Y2)
    assert clf.predict(X).shape == (16, 2)
    assert clf.predict_proba(X).shape == (16, 2)
    assert clf.encoder_.transform(X).shape == (16, 32)


def test_regressor_learns_a_score(tiny_bert):
    y = np.array([5.0] * 8 + [1.0] * 8) + np.linspace(0, 0.5, 16)
    reg = BertContrastiveRegressor(tiny_bert, max_epochs=15, lr=1e-3, **FAST).fit(X, y)
    assert reg.predict(X).shape == (16,)
    assert reg.score(X, y) > 0.5
    two = np.column_stack([y, -y])
    assert BertContrastiveRegressor(tiny_bert, max_epochs=1, **FAST).fit(
        X, two
    ).predict(X).shape == (16, 2)
    with pytest.raises(ValueError, match="numeric"):
        BertContrastiveRegressor(tiny_bert, max_epochs=1, **FAST).fit(X, Y)


def test_auto_budget_and_errors(tiny_bert):
    clf = BertContrastiveClassifier(tiny_bert, **FAST).fit(X, Y)
    # 16 rows, batches of 8: two steps per epoch, aiming at 20 steps
    assert clf.max_epochs_ == 10
    assert clf.lr_ == 1e-4
    # one batch holds all 16 rows: the epoch cap, not 20 passes over it
    assert (
        BertContrastiveClassifier(tiny_bert, **{**FAST, "batch_size": 16})
        .fit(X, Y)
        .max_epochs_
        == 10
    )
    with pytest.raises(ValueError, match="sample_weight"):
        BertTransformer(tiny_bert, fine_tune="contrastive", **FAST).fit(
            X, Y, sample_weight=np.ones(16)
        )
    with pytest.raises(ValueError, match="class_weight"):
        BertTransformer(
            tiny_bert, fine_tune="contrastive", class_weight="balanced", **FAST
        ).fit(X, Y)
