"""BertTransformer's opt-in fine-tuning mode (``fine_tune=True``)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from _precision import assert_agree, tolerance
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_bert import BertClassifier, BertRegressor, BertTransformer

X = ["good film great", "great story love", "bad film terrible", "hate terrible"] * 3
Y = np.array(["pos", "pos", "neg", "neg"] * 3, dtype=object)
FT = {"max_length": 32, "batch_size": 4, "max_epochs": 2, "lr": 1e-3}


@pytest.fixture(scope="module")
def frozen_embeddings(tiny_bert):
    return BertTransformer(tiny_bert).fit(X).transform(X)


def test_off_by_default_ignores_y(tiny_bert, frozen_embeddings):
    est = BertTransformer(tiny_bert)
    assert est.get_params()["fine_tune"] is False
    np.testing.assert_array_equal(est.fit(X, Y).transform(X), frozen_embeddings)
    assert not hasattr(est, "history_")


def test_fine_tune_classification_changes_embeddings(
    tiny_bert, frozen_embeddings, monkeypatch
):
    calls = []
    original = BertClassifier.fit

    def spy(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BertClassifier, "fit", spy)
    est = BertTransformer(tiny_bert, fine_tune=True, random_state=0, **FT)
    emb = est.fit(X, Y).transform(X)
    assert calls == ["BertClassifier"]
    assert emb.shape == frozen_embeddings.shape
    assert not np.allclose(emb, frozen_embeddings, **tolerance(est.precision_))
    assert len(est.history_) == FT["max_epochs"]
    # the tuned encoder separates the labels: a linear model fits them
    assert LogisticRegression().fit(emb, Y).score(emb, Y) == 1.0
    # refit with the same random_state gives the same embeddings
    again = clone(est).fit(X, Y).transform(X)
    np.testing.assert_array_equal(again, emb)


def test_fine_tune_regression_is_inferred(tiny_bert, monkeypatch):
    calls = []
    original = BertRegressor.fit

    def spy(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BertRegressor, "fit", spy)
    y = np.linspace(0.0, 1.0, len(X))
    est = BertTransformer(tiny_bert, fine_tune=True, random_state=0, **FT)
    assert est.fit(X, y).transform(X).shape == (len(X), 32)
    assert calls == ["BertRegressor"]


def test_fine_tune_needs_y(tiny_bert):
    with pytest.raises(ValueError, match="fine_tune=True needs targets"):
        BertTransformer(tiny_bert, fine_tune=True).fit(X)


def test_fine_tune_parameter_validation(tiny_bert):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="max_epochs"):
        BertTransformer(tiny_bert, fine_tune=True, max_epochs=0).fit(X, Y)


def test_fine_tuned_pickle_and_pipeline(tiny_bert):
    est = BertTransformer(tiny_bert, fine_tune=True, random_state=0, **FT)
    emb = est.fit(X, Y).transform(X)
    loaded = pickle.loads(pickle.dumps(est))
    assert_agree(loaded.transform(X), emb, est.precision_)
    pipe = make_pipeline(
        BertTransformer(tiny_bert, fine_tune=True, random_state=0, **FT),
        LogisticRegression(),
    ).fit(X, Y)
    assert pipe.score(X, Y) == 1.0


@pytest.mark.parametrize("pooling", ["cls", "max"])
def test_fine_tune_other_poolings_and_pairs(tiny_bert, pooling):
    pairs = np.column_stack([X, X[::-1]])
    est = BertTransformer(tiny_bert, pooling=pooling, fine_tune=True, **FT)
    emb = est.fit(pairs, Y).transform(pairs)
    assert emb.shape == (len(X), 32)
    assert np.isfinite(emb).all()
