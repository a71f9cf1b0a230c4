"""Tests of BertQuestionAnswerer, its span logic and the SQuAD metrics."""

from __future__ import annotations

import copy
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree
from _qa_data import company_profiles, qa_frame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

from sklearn_bert import BertQuestionAnswerer
from sklearn_bert._engine import inference
from sklearn_bert._tasks.qa.answers import answer_offsets
from sklearn_bert._tasks.qa.spans import decode_spans, make_windows, window_targets
from sklearn_bert.metrics import (
    exact_match,
    exact_match_scorer,
    normalize_answer,
    squad_f1,
    squad_f1_scorer,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = {"max_length": 64, "batch_size": 8, "max_epochs": 1, "random_state": 0}

LONG_CONTEXT = (
    "The museum opened its doors to the public after many years of work. "
    "Visitors come from all over the world to see the paintings and the "
    "gardens. The old library holds many rare books and maps. "
    "The museum was designed by Mira Kovac in the spring."
)
LONG_QUESTION = "Who designed it?"
LONG_ANSWER = "Mira Kovac"


@pytest.fixture(scope="module")
def data():
    return qa_frame(2)


@pytest.fixture(scope="module")
def fitted_bert(tiny_bert, data):
    X, y = data
    return BertQuestionAnswerer(tiny_bert, **FAST).fit(X, y)


@pytest.fixture
def qa_bert(fitted_bert):
    return copy.deepcopy(fitted_bert)


# -- metrics -------------------------------------------------------------------
def test_normalize_answer_follows_squad():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("an apple, a pear") == "apple pear"
    assert normalize_answer("  Theatre ") == "theatre"  # not an article


def test_squad_f1_and_exact_match_values():
    truth = ["John Smith", "1990", "the Beatles"]
    pred = ["Smith", "in 1990", "Beatles"]
    # F1: (2/3 + 2/3 + 1) / 3; exact: only "Beatles" after normalisation.
    assert squad_f1(truth, pred) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert exact_match(truth, pred) == pytest.approx(1 / 3)
    assert squad_f1(["a b"], ["c d"]) == 0.0


def test_metrics_take_the_best_of_several_answers_and_weights():
    assert exact_match([["Paris", "the city of Paris"]], ["city of Paris"]) == 1.0
    assert squad_f1(["x", "y"], ["x", "z"], sample_weight=[3, 1]) == 0.75


def test_metrics_empty_answer_means_no_answer():
    assert squad_f1(["", ""], ["", "something"]) == 0.5
    assert exact_match(["", "b"], ["", ""]) == 0.5


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="2 answers but y_pred has 1"):
        squad_f1(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="y_pred at row 0"):
        squad_f1(["a"], [None])
    with pytest.raises(TypeError, match="y_true at row 1"):
        exact_match(["a", 3], ["a", "b"])


# -- answers in y --------------------------------------------------------------
CONTEXTS = ["Acme was founded by Ada in 1901 by Ada.", "It is in Boston."]


def test_answer_texts_use_the_first_occurrence():
    starts, ends = answer_offsets(["Ada", "Boston"], CONTEXTS, None)
    assert list(starts) == [20, 9] and list(ends) == [23, 15]
    assert CONTEXTS[0][starts[0] : ends[0]] == "Ada"


@pytest.mark.parametrize(
    "y",
    [
        np.array([[20, 23], [9, 15]]),
        [(20, 23), (9, 15)],
        pd.DataFrame({"answer_start": [20, 9], "answer_end": [23, 15]}),
        pd.DataFrame({"answer_start": [20, 9], "text": ["Ada", "Boston"]}),
        pd.Series(["Ada", "Boston"]),
        pd.DataFrame({"answer": ["Ada", "Boston"]}),
    ],
    ids=["array", "tuples", "start_end", "start_text", "series", "one_column"],
)
def test_answer_forms_agree(y):
    starts, ends = answer_offsets(y, CONTEXTS, None)
    assert list(starts) == [20, 9] and list(ends) == [23, 15]


def test_answers_are_stripped_and_empty_means_no_answer():
    starts, ends = answer_offsets([" Ada ", ""], CONTEXTS, None)
    assert (starts[0], ends[0]) == (20, 23) and (starts[1], ends[1]) == (-1, -1)
    starts, ends = answer_offsets([(19, 24), (-1, -1)], CONTEXTS, None)
    assert (starts[0], ends[0]) == (20, 23) and starts[1] == -1


def test_answer_errors_name_the_row():
    index = pd.Index(["q1", "q2"])
    with pytest.raises(ValueError, match=r"row 1 \(index 'q2'\) does not occur"):
        answer_offsets(["Ada", "Paris"], CONTEXTS, index)
    with pytest.raises(ValueError, match="row 1 are not a span"):
        answer_offsets([(0, 4), (10, 99)], CONTEXTS, None)
    with pytest.raises(ValueError, match="missing answer"):
        answer_offsets(["Ada", None], CONTEXTS, None)
    with pytest.raises(TypeError, match="row 1 must be an answer string"):
        answer_offsets(["Ada", (9, 15)], CONTEXTS, None)
    with pytest.raises(ValueError, match="2 rows but y has 3"):
        answer_offsets(["a", "b", "c"], CONTEXTS, None)
    with pytest.raises(ValueError, match="does not read"):
        answer_offsets(
            pd.DataFrame({"answer_start": [0, 9], "text": ["Ada", "Boston"]}),
            CONTEXTS,
            None,
        )
    with pytest.raises(ValueError, match="answer_start and answer_end"):
        answer_offsets(pd.DataFrame({"a": [0, 1], "b": [1, 2]}), CONTEXTS, None)


# -- windows and decoding ------------------------------------------------------
def _windows(folder, max_length=32, stride=8):
    tokenizer = AutoTokenizer.from_pretrained(folder)
    windows = make_windows(
        tokenizer,
        [LONG_QUESTION],
        [LONG_CONTEXT],
        max_length=max_length,
        stride=stride,
    )
    start = LONG_CONTEXT.index(LONG_ANSWER)
    targets = window_targets(
        windows, np.array([start]), np.array([start + len(LONG_ANSWER)])
    )
    return tokenizer, windows, targets


def test_long_context_is_windowed_and_labelled(tiny_model):
    tokenizer, windows, targets = _windows(tiny_model)
    assert len(windows) > 2
    assert all(len(f["input_ids"]) <= 32 for f in windows.features)
    assert np.all(windows.owners == 0)
    holding = [w for w in range(len(windows)) if targets[w, 0] != 0]
    # Only late windows hold the answer; the first one says "no answer".
    assert holding and holding[0] > 0 and tuple(targets[0]) == (0, 0)
    assert np.all(windows.cls_index == 0)
    for w in holding:
        offsets = windows.offsets[w]
        start, end = targets[w]
        assert start <= end
        text = LONG_CONTEXT[offsets[start][0] : offsets[end][1]]
        assert text.strip() == LONG_ANSWER
        # Question and special tokens never carry offsets.
        ids = windows.features[w]["input_ids"]
        assert offsets[0] is None and offsets[len(ids) - 1] is None


def test_consecutive_windows_overlap_by_the_stride(tiny_bert):
    _, windows, _ = _windows(tiny_bert, stride=8)
    first = [o for o in windows.offsets[0] if o is not None]
    second = [o for o in windows.offsets[1] if o is not None]
    # The second window starts inside the first one's context part.
    assert first[-1][1] > second[0][0] > first[0][0]


def _hand_logits(windows, targets, *, scale=10.0):
    """Logits that point at the labelled span of every window holding it."""
    logits = []
    for w, features in enumerate(windows.features):
        window = np.zeros((len(features["input_ids"]), 2))
        start, end = targets[w]
        if start != 0:
            window[start, 0] = window[end, 1] = scale
        logits.append(window)
    return logits


def test_decoding_finds_the_answer_in_a_later_window(tiny_model):
    _, windows, targets = _windows(tiny_model)
    spans = decode_spans(
        windows, _hand_logits(windows, targets), [LONG_CONTEXT], max_answer_length=30
    )
    (span,) = spans
    assert span.answer == LONG_ANSWER
    assert LONG_CONTEXT[span.start : span.end] == LONG_ANSWER
    assert 0.5 < span.score <= 1.0


def test_decoding_never_picks_question_or_special_tokens(tiny_bert):
    _, windows, targets = _windows(tiny_bert)
    logits = _hand_logits(windows, targets)
    logits[0][1, :] = 100.0  # a question token
    logits[-1][-1, :] = 100.0  # the final [SEP]
    span = decode_spans(windows, logits, [LONG_CONTEXT], max_answer_length=30)[0]
    assert span.answer == LONG_ANSWER


def test_decoding_never_ends_before_it_starts(tiny_bert):
    _, windows, targets = _windows(tiny_bert)
    w = int(np.flatnonzero(targets[:, 0])[0])
    start, end = targets[w]
    logits = [np.zeros((len(f["input_ids"]), 2)) for f in windows.features]
    logits[w][end, 0] = logits[w][start, 1] = 10.0  # reversed
    span = decode_spans(windows, logits, [LONG_CONTEXT], max_answer_length=30)[0]
    assert span.end > span.start and span.answer != LONG_ANSWER


def test_decoding_respects_max_answer_length(tiny_bert):
    _, windows, targets = _windows(tiny_bert)
    w = int(np.flatnonzero(targets[:, 0])[0])
    assert targets[w, 1] > targets[w, 0]  # "Mira Kovac" is several tokens
    logits = _hand_logits(windows, targets)
    span = decode_spans(windows, logits, [LONG_CONTEXT], max_answer_length=1)[0]
    assert span.answer in LONG_ANSWER and len(span.answer) < len(LONG_ANSWER)


def test_null_score_threshold_returns_no_answer(tiny_bert):
    _, windows, targets = _windows(tiny_bert)
    logits = _hand_logits(windows, targets)
    for window in logits:
        window[0, :] = 20.0  # a confident "no answer" everywhere
    kwargs = {"max_answer_length": 30}
    assert decode_spans(windows, logits, [LONG_CONTEXT], **kwargs)[0].answer == (
        LONG_ANSWER
    )
    span = decode_spans(
        windows, logits, [LONG_CONTEXT], null_score_threshold=0.0, **kwargs
    )[0]
    assert (span.answer, span.start, span.end) == ("", -1, -1)
    span = decode_spans(
        windows, logits, [LONG_CONTEXT], null_score_threshold=100.0, **kwargs
    )[0]
    assert span.answer == LONG_ANSWER


@pytest.mark.parametrize("family", ["modernbert", "deberta-v2"])
def test_leading_space_offsets_are_stripped(tiny_model_dirs, family):
    # ModernBERT's "Ġin" and DeBERTa's "▁in" have offsets that include the
    # space before the word.
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dirs[family])
    answer = "in the spring"
    windows = make_windows(
        tokenizer, ["When?"], [LONG_CONTEXT], max_length=64, stride=16
    )
    start = LONG_CONTEXT.index(answer)
    targets = window_targets(windows, np.array([start]), np.array([start + 13]))
    w = int(np.flatnonzero(targets[:, 0])[0])
    token_start = windows.offsets[w][targets[w, 0]][0]
    assert LONG_CONTEXT[token_start] == " "  # the quirk this test is about
    span = decode_spans(
        windows, _hand_logits(windows, targets), [LONG_CONTEXT], max_answer_length=30
    )[0]
    assert span.answer == answer
    assert (span.start, span.end) == (start, start + len(answer))


def test_long_questions_are_truncated_with_a_warning(tiny_bert):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    question = "Who " + "really " * 40 + "designed it?"
    windows = make_windows(
        tokenizer, [question], [LONG_CONTEXT], max_length=32, stride=16
    )
    assert windows.n_questions_truncated == 1
    assert all(len(f["input_ids"]) <= 32 for f in windows.features)
    covered = {o for offsets in windows.offsets for o in offsets if o is not None}
    assert max(end for _, end in covered) == len(LONG_CONTEXT)


# -- the estimator on every family ---------------------------------------------
def test_fit_predict_every_family(tiny_model, data):
    X, y = data
    qa = BertQuestionAnswerer(tiny_model, **FAST).fit(X, y)
    answers = qa.predict(X)
    assert answers.shape == (len(X),) and answers.dtype == object
    spans = qa.predict_spans(X)
    assert list(spans.columns) == ["answer", "start", "end", "score"]
    assert spans.index.equals(X.index)
    for (_, row), span in zip(X.iterrows(), spans.itertuples(), strict=True):
        assert span.answer and span.answer == span.answer.strip()
        assert row["context"][span.start : span.end] == span.answer
        assert 0.0 < span.score <= 1.0
    assert list(answers) == list(spans["answer"])
    assert 0.0 <= qa.score(X, y) <= 1.0
    assert qa.n_features_in_ == 2
    assert list(qa.feature_names_in_) == ["question", "context"]


def test_prediction_streams_by_parts_of_rows(qa_bert, data, monkeypatch):
    # Rows are windowed, run and decoded a few at a time; the spans are those
    # of one part holding every row. A context longer than max_length (several
    # windows) ends a part: parts are counted in rows, so its windows stay
    # together. Questions cut in different parts make one warning.
    X, _ = data
    long_question = "Who " + "really " * 40 + "designed it?"
    extra = pd.DataFrame(
        {
            "question": [LONG_QUESTION, long_question, long_question],
            "context": [LONG_CONTEXT * 2, LONG_CONTEXT, X["context"][0]],
        }
    )
    X = pd.concat([X[:3], extra[:1], X[3:], extra[1:]], ignore_index=True)
    qa = qa_bert.set_params(precision="float32")
    parts, windowed = [], []
    streamed, windows = inference.streamed, qa._windows

    def spy_streamed(n, max_length=None):
        for part in streamed(n, max_length):
            parts.append(part)
            yield part

    def spy_windows(*args, **kwargs):
        windowed.append(windows(*args, **kwargs))
        return windowed[-1]

    def predict_both():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spans, answers = qa.predict_spans(X), qa.predict(X)
        cut = [str(w.message) for w in caught if "question(s)" in str(w.message)]
        assert len(cut) == 2 and all(m.startswith("2 question(s)") for m in cut)
        return spans, answers

    monkeypatch.setattr(inference, "streamed", spy_streamed)
    monkeypatch.setattr(qa, "_windows", spy_windows)
    whole_spans, whole_answers = predict_both()
    assert [len(p) for p in parts] == [len(X)] * 2
    parts.clear()
    windowed.clear()
    monkeypatch.setattr(inference, "STREAM_ROWS", 2)
    spans, answers = predict_both()
    assert [len(p) for p in parts] == [2, 2, 2, 2, 1] * 2
    assert list(answers) == list(whole_answers)
    pd.testing.assert_frame_equal(
        spans.drop(columns="score"), whole_spans.drop(columns="score")
    )
    assert_agree(spans["score"].to_numpy(), whole_spans["score"].to_numpy(), "float32")
    # Each part's windows are those of all its rows; the long row's are in one.
    for found in windowed:
        assert sorted(set(found.owners)) == list(range(found.n_rows))
    assert np.bincount(windowed[1].owners).tolist()[0] == 1
    assert np.bincount(windowed[1].owners).tolist()[1] > 1


def test_training_improves_f1(tiny_bert):
    X, y = qa_frame(6)
    params = {**FAST, "max_length": 96, "warmup_ratio": 0.0}
    untrained = BertQuestionAnswerer(tiny_bert, **{**params, "lr": 1e-9}).fit(X, y)
    trained = BertQuestionAnswerer(
        tiny_bert, **{**params, "lr": 3e-3, "max_epochs": 8}
    ).fit(X, y)
    before, after = untrained.score(X, y), trained.score(X, y)
    assert after > before + 0.2, (before, after)
    assert exact_match_scorer(trained, X, y) > exact_match_scorer(untrained, X, y)


def test_refit_with_random_state_is_identical(qa_bert, tiny_bert, data):
    X, y = data
    again = BertQuestionAnswerer(tiny_bert, **FAST).fit(X, y)
    pd.testing.assert_frame_equal(qa_bert.predict_spans(X), again.predict_spans(X))
    other = BertQuestionAnswerer(tiny_bert, **{**FAST, "random_state": 1}).fit(X, y)
    assert not np.allclose(
        qa_bert.predict_spans(X)["score"], other.predict_spans(X)["score"]
    )


def test_pickle_round_trip_is_identical_and_portable(qa_bert, tiny_bert, data):
    X, _ = data
    blob = pickle.dumps(qa_bert)
    # The user's ``model`` parameter is the only absolute path left.
    assert len(re.findall(re.escape(tiny_bert.encode()), blob)) == 1
    # The weights are stored once (skorch's ``module`` is ``module_``).
    n_bytes = sum(p.numel() * 4 for p in qa_bert.net_.module_.parameters())
    assert len(blob) < 1.6 * n_bytes
    restored = pickle.loads(blob)
    assert restored.net_.module is restored.net_.module_
    pd.testing.assert_frame_equal(restored.predict_spans(X), qa_bert.predict_spans(X))


def test_save_pretrained_loads_as_a_qa_model(qa_bert, data, tmp_path):
    X, y = data
    assert qa_bert.save_pretrained(tmp_path / "qa") == tmp_path / "qa"
    hf = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "qa")
    ours = qa_bert.net_.module_.hf_model
    torch.testing.assert_close(hf.qa_outputs.weight, ours.qa_outputs.weight)
    # A new estimator starts from the saved head: with a negligible learning
    # rate it answers as the saved one.
    again = BertQuestionAnswerer(str(tmp_path / "qa"), **{**FAST, "lr": 1e-12}).fit(
        X, y
    )
    assert list(again.predict(X)) == list(qa_bert.predict(X))
    assert again.net_.module_.hf_model.config._name_or_path == "qa"


def test_scores_with_offsets_equal_scores_with_texts(qa_bert, data):
    X, y = data
    starts, ends = answer_offsets(y, X["context"].tolist(), None)
    offsets = np.column_stack([starts, ends])
    assert qa_bert.score(X, offsets) == qa_bert.score(X, y)
    assert squad_f1_scorer(qa_bert, X, y) == qa_bert.score(X, y)
    assert exact_match_scorer(qa_bert, X, offsets) == exact_match(y, qa_bert.predict(X))
    # Several acceptable answers per row: the best one counts.
    many = [[answer, "something else"] for answer in y]
    assert qa_bert.score(X, many) == qa_bert.score(X, y)


def test_numpy_input_and_null_threshold(qa_bert, data):
    X, _ = data
    array = X.to_numpy()
    assert list(qa_bert.predict(array)) == list(qa_bert.predict(X))
    spans = qa_bert.predict_spans(array)
    assert spans.index.equals(pd.RangeIndex(len(X)))
    qa_bert.set_params(null_score_threshold=-1e9)  # "no answer" always wins
    assert set(qa_bert.predict(X)) == {""}
    assert set(qa_bert.predict_spans(X)["start"]) == {-1}


def test_input_errors(tiny_bert, qa_bert, data):
    X, y = data
    with pytest.raises(NotFittedError):
        BertQuestionAnswerer(tiny_bert).predict(X)
    with pytest.raises(ValueError, match="needs \\(question, context\\) rows"):
        BertQuestionAnswerer(tiny_bert, **FAST).fit(X["question"], y)
    with pytest.raises(ValueError, match="1 or 2 columns"):
        BertQuestionAnswerer(tiny_bert, **FAST).fit(X.assign(extra="x"), y)
    bad = list(y)
    bad[3] = "Nowhere"
    with pytest.raises(ValueError, match=r"row 3 \(index 3\) does not occur"):
        BertQuestionAnswerer(tiny_bert, **FAST).fit(X, bad)
    with pytest.raises(ValueError, match="missing value"):
        qa_bert.predict(X.assign(context=[None] + X["context"].tolist()[1:]))
    with pytest.raises(ValueError, match="column"):
        qa_bert.predict(X["question"])
    with pytest.raises(ValueError, match="stride"):
        BertQuestionAnswerer(tiny_bert, stride=-1).fit(X, y)


def test_starts_from_a_masked_lm(tiny_bert, data):
    from sklearn_bert import BertMaskedLM

    X, y = data
    mlm = BertMaskedLM(tiny_bert, max_epochs=1, max_length=32, random_state=0)
    qa = BertQuestionAnswerer(mlm, **FAST).fit(X, y)  # adapted on X's texts
    assert qa.predict(X).shape == (len(X),)
    assert qa.net_.module_.hf_model.config._name_or_path == "bert"
    assert "/" not in str(qa.net_.module_.hf_model.name_or_path)


# -- training features -----------------------------------------------------------
class _RecordSplit(Callback):
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.train_ids = set(X.ids.tolist())
        self.valid_ids = set(net.train_split.valid.ids.tolist())


def test_early_stopping_splits_by_question(tiny_bert):
    X, y = qa_frame(3)
    extra = " The old library holds many rare books and maps."
    X = X.assign(context=[c + extra for c in X["context"]])
    record = _RecordSplit()
    qa = BertQuestionAnswerer(
        tiny_bert,
        **{**FAST, "max_epochs": 2},
        early_stopping=True,
        validation_fraction=0.3,
        callbacks=[record],
    ).fit(X, y)
    history = qa.net_.history
    assert (
        len(history) == 2
        and "valid_f1" in history[-1]
        and "valid_loss" in (history[-1])
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    owners = make_windows(
        tokenizer,
        X["question"].tolist(),
        X["context"].tolist(),
        max_length=64,
        stride=128,
    ).owners
    assert len(owners) == qa.n_windows_ > len(X)  # long contexts: several each
    train_rows = {owners[i] for i in record.train_ids}
    valid_rows = {owners[i] for i in record.valid_ids}
    assert valid_rows and train_rows and not train_rows & valid_rows
    assert len(valid_rows) == 3  # ceil(0.3 * 9) questions
    # Training data stays out of the fitted net.
    assert pickle.loads(pickle.dumps(qa)).predict(X).shape == (len(X),)


def test_freeze_encoder_trains_only_the_head(tiny_bert, data):
    X, y = data
    params = {**FAST, "lr": 1e-2}
    frozen = BertQuestionAnswerer(tiny_bert, freeze_encoder=True, **params).fit(X, y)
    base = AutoModelForQuestionAnswering.from_pretrained(tiny_bert)
    model = frozen.net_.module_.hf_model
    torch.testing.assert_close(
        model.bert.embeddings.word_embeddings.weight,
        base.bert.embeddings.word_embeddings.weight,
    )
    top = BertQuestionAnswerer(tiny_bert, trainable_layers=1, **params).fit(X, y)
    layers = top.net_.module_.hf_model.bert.encoder.layer
    torch.testing.assert_close(
        layers[0].output.dense.weight, base.bert.encoder.layer[0].output.dense.weight
    )
    assert not torch.allclose(
        layers[1].output.dense.weight, base.bert.encoder.layer[1].output.dense.weight
    )


def test_sample_weight_changes_training(qa_bert, tiny_bert, data):
    X, y = data
    ones = BertQuestionAnswerer(tiny_bert, **FAST).fit(
        X, y, sample_weight=np.ones(len(X))
    )
    pd.testing.assert_frame_equal(ones.predict_spans(X), qa_bert.predict_spans(X))
    weights = np.r_[np.ones(3), np.zeros(len(X) - 3)]
    skewed = BertQuestionAnswerer(tiny_bert, **FAST).fit(X, y, sample_weight=weights)
    assert not np.allclose(
        skewed.predict_spans(X)["score"], qa_bert.predict_spans(X)["score"]
    )
    with pytest.raises(ValueError, match="sample_weight"):
        BertQuestionAnswerer(tiny_bert, **FAST).fit(X, y, sample_weight=[1.0])


def test_verbose_and_bfloat16(tiny_bert, data, capsys):
    X, y = data
    BertQuestionAnswerer(tiny_bert, **FAST).fit(X, y).predict(X)
    assert capsys.readouterr().out == ""
    qa = BertQuestionAnswerer(tiny_bert, **FAST, verbose=1, precision="bfloat16")
    qa.fit(X, y)
    assert "train_loss" in capsys.readouterr().out
    assert all(isinstance(a, str) for a in qa.predict(X))


def test_grid_search_with_both_scorers(tiny_bert, data):
    X, y = data
    search = GridSearchCV(
        BertQuestionAnswerer(tiny_bert, **FAST),
        {"max_answer_length": [1, 30]},
        scoring={"f1": squad_f1_scorer, "em": exact_match_scorer},
        refit="f1",
        cv=2,
    )
    search.fit(X, y)
    assert set(search.cv_results_) >= {"mean_test_f1", "mean_test_em"}
    assert search.predict(X).shape == (len(X),)
    assert clone(search.best_estimator_).get_params()["max_answer_length"] in (1, 30)


# -- the bundled model ---------------------------------------------------------
@pytest.mark.slow
def test_bundled_model_learns_to_answer_unseen_entities():
    X, y = company_profiles(48, part=0)  # 144 questions
    X_test, y_test = company_profiles(12, part=1)  # new people, cities, years
    assert not set(y) & set(y_test)
    params = {"random_state": 0, "max_length": 128, "batch_size": 8}
    untrained = BertQuestionAnswerer(max_epochs=1, lr=1e-12, **params)
    untrained.fit(X[:8], y[:8])
    qa = BertQuestionAnswerer(lr=1e-4, max_epochs=4, **params).fit(X, y)
    before, after = untrained.score(X_test, y_test), qa.score(X_test, y_test)
    assert after > before + 0.3, (before, after)


def test_a_list_of_question_context_tuples_is_the_two_columns(qa_bert, data):
    X, _ = data
    rows = list(X.itertuples(index=False, name=None))  # [(question, context), ...]
    assert isinstance(rows[0], tuple)
    assert list(qa_bert.predict(rows)) == list(qa_bert.predict(X))
