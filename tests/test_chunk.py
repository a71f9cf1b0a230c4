"""Long texts in windows (``long_text="chunk"``) in BertClassifier and
BertRegressor, on tiny models: windows in fit, weights, the early-stopping
split, each ``chunk_aggregation`` against a manual one, and the contract."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree, tolerance
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from sklearn_bert import BertClassifier, BertRegressor
from sklearn_bert._params import CHUNK_AGGREGATIONS
from sklearn_bert._tasks.sequence.chunks import aggregate_windows, window_weights
from sklearn_bert._text.inputs import TextInput
from sklearn_bert._text.tokenize import model_input_names, tokenize

MAX_LENGTH = 16
STRIDE = 4
# Several windows of at most 16 tokens each for the long texts, one for the
# short ones.
LONG_POS = " ".join(["good great love happy film"] * 6)
LONG_NEG = " ".join(["bad terrible hate sad film"] * 5)
X = [LONG_POS, "good film", LONG_NEG, "bad film", "great story", "sad story"] * 2
Y = np.array(["pos", "pos", "neg", "neg", "pos", "neg"] * 2, dtype=object)
SHORT = ["good film", "bad film", "great story", "sad story", "love it", "hate it"]
Y_SHORT = np.array(["pos", "neg", "pos", "neg", "pos", "neg"], dtype=object)

FAST = {
    "max_length": MAX_LENGTH,
    "stride": STRIDE,
    "batch_size": 8,
    "max_epochs": 1,
    "random_state": 0,
    "device": "cpu",
    "precision": "float32",
}


def chunked(cls=BertClassifier, model=None, **kw):
    return cls(model, **{**FAST, "long_text": "chunk", **kw})


class Record(Callback):
    """Keeps the training dataset and the validation dataset of a fit."""

    def on_train_begin(self, net, X=None, **kwargs):
        self.train = X
        self.valid = net.train_split.valid


def windows(est, texts, pairs=None):
    """The windows ``est`` makes of ``texts`` (tokenized as in ``fit``)."""
    return tokenize(
        est.tokenizer_,
        TextInput(list(texts), pairs),
        max_length=est.max_length_,
        long_text="chunk",
        stride=est.stride,
        input_names=model_input_names(est.net_.module_.hf_model),
    )


def windows_of(tokenizer, texts):
    return tokenize(
        tokenizer,
        TextInput(list(texts)),
        max_length=MAX_LENGTH,
        long_text="chunk",
        stride=STRIDE,
    )


def per_window(est, tok, method="forward"):
    """The module's outputs (or pooled vectors) of each window, one at a time
    (no padding, no batching: independent of the inference loop)."""
    module = est.net_.module_.eval()
    run = module if method == "forward" else module.pooled
    out = []
    with torch.no_grad():
        for feature in tok.features:
            batch = {k: torch.tensor([v]) for k, v in feature.items()}
            batch["attention_mask"] = torch.ones_like(batch["input_ids"])
            out.append(run(**batch)[0].numpy())
    return np.stack(out)


@pytest.fixture(scope="module")
def fitted(tiny_bert):
    record = Record()
    clf = chunked(model=tiny_bert, callbacks=[record]).fit(X, Y)
    return clf, record


@pytest.fixture
def clf(fitted):
    return copy.deepcopy(fitted[0]).set_params(callbacks=None)


# -- fit: windows, targets, weights ----------------------------------------------


def test_fit_trains_on_every_window_with_its_texts_label(fitted):
    clf, record = fitted
    tok = windows(clf, X)
    counts = np.bincount(tok.owners, minlength=len(X))
    assert counts[0] > 2 and counts[2] > 2 and counts[1] == 1  # long, long, short
    train = record.train
    assert len(train) == len(tok.features) > len(X)
    assert [f["input_ids"] for f in train.features] == [
        f["input_ids"] for f in tok.features
    ]
    labels = clf.classes_[np.asarray(train.targets)]
    np.testing.assert_array_equal(labels, Y[tok.owners])


def test_a_texts_windows_share_its_sample_weight(tiny_bert):
    record = Record()
    weights = np.arange(1, len(X) + 1, dtype=float)
    est = chunked(model=tiny_bert, callbacks=[record])
    est.fit(X, Y, sample_weight=weights)
    tok = windows(est, X)
    per_text = np.bincount(tok.owners, weights=record.train.weights, minlength=len(X))
    assert_agree(per_text, weights, "float32")  # float32 weight arithmetic
    # windows of one text weigh the same
    first = record.train.weights[tok.owners == 0]
    np.testing.assert_allclose(first, weights[0] / len(first))


def test_window_weights_split_a_rows_weight():
    owners = np.array([0, 0, 0, 1, 2, 2])
    w = window_weights(np.array([3.0, 2.0, 1.0]), owners, 3)
    np.testing.assert_allclose(w, [1, 1, 1, 2, 0.5, 0.5])
    np.testing.assert_allclose(window_weights(None, owners, 3).sum(), 3)


def test_a_texts_windows_stay_on_one_side_of_the_validation_split(tiny_bert):
    record = Record()
    est = chunked(
        model=tiny_bert,
        early_stopping=True,
        validation_fraction=0.34,
        max_epochs=2,
        callbacks=[record],
    ).fit(X, Y)
    owners = windows(est, X).owners
    train_texts = set(owners[record.train.ids].tolist())
    valid_texts = set(owners[record.valid.ids].tolist())
    assert valid_texts and not train_texts & valid_texts
    assert train_texts | valid_texts == set(range(len(X)))
    assert len(record.valid) > len(valid_texts)  # a long text is held out whole
    # the validation accuracy counts texts, not windows
    valid = sorted(valid_texts)
    acc = np.mean(est.predict([X[i] for i in valid]) == Y[valid])
    assert est.history_[-1]["valid_acc"] == pytest.approx(acc)


# -- predict: each aggregation against a manual one -------------------------------


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


@pytest.mark.parametrize("how", CHUNK_AGGREGATIONS)
def test_predict_proba_aggregates_the_windows(clf, how):
    texts = X[:4]
    tok = windows(clf, texts)
    if how == "mean_pooled":  # the head on the token-weighted mean vector
        pooled = per_window(clf, tok, "pooled")
        n = np.bincount(tok.owners, weights=tok.lengths())[:, None]
        vectors = np.stack(
            [
                (pooled[tok.owners == i] * tok.lengths()[tok.owners == i, None]).sum(0)
                for i in range(len(texts))
            ]
        )
        head = clf.net_.module_.head
        with torch.no_grad():
            logits = head(torch.from_numpy(vectors / n).float()).numpy()
    else:
        outputs = per_window(clf, tok)
        reduce = np.mean if how == "mean_logits" else np.max
        logits = np.stack(
            [reduce(outputs[tok.owners == i], axis=0) for i in range(len(texts))]
        )
    proba = clf.set_params(chunk_aggregation=how).predict_proba(texts)
    assert_agree(proba.sum(axis=1), 1, "float32")
    # the windows run one at a time, unpadded: a float32 reference
    assert_agree(proba, _softmax(logits), clf.precision_, "float32")
    np.testing.assert_array_equal(clf.predict(texts), clf.classes_[proba.argmax(1)])
    dec = clf.decision_function(texts)
    assert_agree(dec, logits[:, 1] - logits[:, 0], clf.precision_, "float32")


def test_aggregations_differ_on_long_texts_only(clf):
    out = {
        how: clf.set_params(chunk_aggregation=how).predict_proba(X[:4])
        for how in CHUNK_AGGREGATIONS
    }
    for how in CHUNK_AGGREGATIONS[1:]:
        assert_agree(out[how][[1, 3]], out["mean_logits"][[1, 3]], clf.precision_)
        assert not np.allclose(
            out[how][[0, 2]], out["mean_logits"][[0, 2]], **tolerance(clf.precision_)
        )


def test_aggregate_windows_by_hand():
    out = np.array([[0.0, 2.0], [4.0, 0.0], [1.0, -1.0]])
    owners, lengths = np.array([0, 0, 1]), np.array([6, 2, 5])
    mean = aggregate_windows(out, owners, lengths, 2, "mean_logits")
    np.testing.assert_allclose(mean, [[2, 1], [1, -1]])
    top = aggregate_windows(out, owners, lengths, 2, "max_logits")
    np.testing.assert_allclose(top, [[4, 2], [1, -1]])
    pooled = aggregate_windows(out, owners, lengths, 2, "mean_pooled")
    np.testing.assert_allclose(pooled, [[1, 1.5], [1, -1]])
    # one window per row: the outputs themselves
    np.testing.assert_array_equal(
        aggregate_windows(out, np.arange(3), lengths, 3, "mean_pooled"), out
    )


def test_repeated_texts_and_several_parts_match(clf, monkeypatch):
    from sklearn_bert._engine import inference

    whole = clf.predict_proba(X)
    monkeypatch.setattr(inference, "STREAM_ROWS", 2)
    assert_agree(clf.predict_proba(X), whole, clf.precision_)
    assert_agree(whole[:6], whole[6:], clf.precision_)  # other batches


def test_short_texts_give_what_truncate_gives(tiny_bert):
    kw = {"early_stopping": True, "validation_fraction": 0.34, "max_epochs": 2}
    trunc = BertClassifier(tiny_bert, **{**FAST, **kw}).fit(SHORT, Y_SHORT)
    chunk = chunked(model=tiny_bert, **kw).fit(SHORT, Y_SHORT)
    assert trunc.long_text == "truncate"  # the default
    assert_agree(
        chunk.predict_proba(SHORT), trunc.predict_proba(SHORT), chunk.precision_
    )
    assert_agree(
        [r["valid_loss"] for r in chunk.history_],
        [r["valid_loss"] for r in trunc.history_],
        chunk.precision_,
    )


def test_multilabel_probabilities_are_sigmoids_of_the_aggregate(tiny_bert):
    Y_multi = np.array([[1, 0], [1, 1], [0, 1], [0, 0]] * 3)
    est = chunked(model=tiny_bert, chunk_aggregation="max_logits").fit(X, Y_multi)
    tok = windows(est, X[:4])
    outputs = per_window(est, tok)
    logits = np.stack([outputs[tok.owners == i].max(axis=0) for i in range(4)])
    proba = est.predict_proba(X[:4])
    assert_agree(proba, 1 / (1 + np.exp(-logits)), est.precision_, "float32")
    assert est.predict(X[:4]).shape == (4, 2)


# -- the regressor, sentence pairs, text columns ------------------------------------


@pytest.mark.parametrize("how", ["mean_logits", "max_logits"])
def test_regressor_aggregates_its_windows(tiny_bert, how):
    y = np.arange(len(X), dtype=float)
    reg = chunked(BertRegressor, tiny_bert, chunk_aggregation=how).fit(X, y)
    tok = windows(reg, X[:4])
    outputs = per_window(reg, tok)[:, 0]
    reduce = np.mean if how == "mean_logits" else np.max
    raw = np.array([reduce(outputs[tok.owners == i]) for i in range(4)])
    expected = raw * reg.target_scale_[0] + reg.target_mean_[0]
    assert_agree(reg.predict(X[:4]), expected, reg.precision_, "float32")
    assert np.isfinite(reg.score(X, y))


def test_sentence_pairs_are_split_along_their_second_text(tiny_bert):
    pairs = pd.DataFrame({"a": ["a film", "a story"] * 3, "b": [LONG_POS, "bad"] * 3})
    y = np.array([1, 0] * 3)
    record = Record()
    est = chunked(model=tiny_bert, callbacks=[record]).fit(pairs, y)
    tok = windows(est, pairs["a"], list(pairs["b"]))
    assert len(record.train) == len(tok.features) > len(pairs)
    assert est.predict_proba(pairs).shape == (6, 2)
    long_first = pairs.assign(a=LONG_POS)
    with pytest.raises(ValueError, match="second text"):
        est.predict(long_first)


def test_text_columns_cannot_be_chunked(tiny_bert):
    df = pd.DataFrame({"review": X, "price": np.arange(len(X), dtype=float)})
    est = chunked(model=tiny_bert, text_columns="review")
    with pytest.raises(ValueError, match="long_text='chunk' does not apply"):
        est.fit(df, Y)
    fused = est.set_params(long_text="truncate")
    with pytest.warns(UserWarning, match="truncated") as rec:
        fused.fit(df, Y)
    # the warning does not suggest what fused rows cannot do
    assert all("chunk" not in str(r.message) for r in rec)
    with pytest.raises(ValueError, match="long_text='chunk' does not apply"):
        fused.set_params(long_text="chunk").predict(df)


def test_truncation_warning_suggests_chunking(tiny_bert):
    est = BertClassifier(tiny_bert, **FAST)
    with pytest.warns(UserWarning, match="long_text='chunk'"):
        est.fit(X, Y)
    with pytest.warns(UserWarning, match="long_text='chunk'"):
        est.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_params(long_text="chunk").predict(X)  # nothing is cut


def test_fine_tuning_transformer_trains_on_the_windows_it_embeds(tiny_bert):
    from sklearn_bert import BertTransformer

    est = BertTransformer(
        tiny_bert,
        max_length=MAX_LENGTH,
        long_text="chunk",
        stride=STRIDE,
        batch_size=4,
        fine_tune=True,
        max_epochs=1,
        random_state=0,
        device="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is truncated
        embeddings = est.fit_transform(X, Y)
    assert embeddings.shape == (len(X), est.n_features_out_)
    n_windows = len(windows_of(est.tokenizer_, X).features)
    assert est.history_[0]["train_batch_count"] == -(-n_windows // 4)


# -- the contract: search, clone, pickle, validation -------------------------------


def test_grid_search_tunes_the_aggregation(tiny_bert):
    search = GridSearchCV(
        chunked(model=tiny_bert),
        {"chunk_aggregation": list(CHUNK_AGGREGATIONS)},
        cv=2,
    ).fit(X, Y)
    assert search.best_params_["chunk_aggregation"] in CHUNK_AGGREGATIONS
    assert len(search.cv_results_["params"]) == 3
    assert search.predict_proba(X).shape == (len(X), 2)


def test_clone_and_pickle_keep_the_parameters(clf):
    params = {"long_text": "chunk", "stride": STRIDE, "chunk_aggregation": "max_logits"}
    clf.set_params(chunk_aggregation="max_logits")
    twin = clone(clf)
    assert {k: twin.get_params()[k] for k in params} == params
    restored = pickle.loads(pickle.dumps(clf))
    assert {k: restored.get_params()[k] for k in params} == params
    assert_agree(
        restored.predict_proba(X[:4]), clf.predict_proba(X[:4]), clf.precision_
    )


@pytest.mark.parametrize(
    "params",
    [{"long_text": "cut"}, {"chunk_aggregation": "median"}, {"stride": -1}],
    ids=lambda p: next(iter(p)),
)
@pytest.mark.parametrize("cls", [BertClassifier, BertRegressor])
def test_bad_values_raise(tiny_bert, cls, params):
    (name,) = params
    est = cls(tiny_bert, **{**FAST, **params})
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        est.fit(SHORT, np.arange(len(SHORT)) % 2)


def test_bad_values_raise_at_prediction_too(clf):
    clf.set_params(chunk_aggregation="median")
    with pytest.raises(InvalidParameterError, match="'chunk_aggregation' parameter"):
        clf.predict(X[:2])
