"""Tests for ``BertTokenClassifier`` and its helpers (``_words``, ``_token_modules``).

No package ships English NER data, so the tests build a small IOB2 data set of
template sentences (PER / LOC / ORG entities) below. The real-data check (the
Japanese ``hironsancorpus`` on the bundled model) is marked slow.
"""

from __future__ import annotations

import copy
import os
import pickle
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree
from seqeval.metrics import f1_score
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback
from transformers import AutoModelForTokenClassification, AutoTokenizer

from sklearn_bert import BertTokenClassifier
from sklearn_bert._engine import inference
from sklearn_bert._engine.stopping import split_train_valid
from sklearn_bert._nn.losses import IGNORE_INDEX, TokenLoss
from sklearn_bert._tasks.token.scoring import looks_like_iob, resolve_scoring
from sklearn_bert._tasks.token.words import (
    assign_words,
    check_tag_input,
    check_word_input,
    plan_windows,
    prepare_word_tokenizer,
    tokenize_windows,
    word_pieces,
)
from sklearn_bert._text.tokenize import model_input_names

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# -- a small English NER data set (IOB2) ----------------------------------------
PER = ["John Smith", "Mary Jones", "Anna", "Peter Brown", "Lisa", "Tom Miller"]
LOC = ["Paris", "London", "New York", "Berlin", "Rome", "Madrid"]
ORG = ["Acme Corp", "Google", "United Nations", "IBM", "Red Cross"]
TEMPLATES = [
    "{PER} lives in {LOC} .",
    "{PER} works for {ORG} .",
    "{ORG} opened an office in {LOC} .",
    "yesterday {PER} visited {LOC} with {PER} .",
    "the city of {LOC} is very old .",
    "{PER} joined {ORG} in {LOC} last year .",
    "nothing happened today .",
    "{ORG} hired {PER} .",
]


def make_ner_data(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` template sentences with their IOB2 tags."""
    rng = random.Random(seed)
    names = {"PER": PER, "LOC": LOC, "ORG": ORG}
    X, y = [], []
    for _ in range(n):
        words, tags = [], []
        for part in rng.choice(TEMPLATES).split():
            if part.startswith("{"):
                kind = part[1:-1]
                entity = rng.choice(names[kind]).split()
                words += entity
                tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(entity) - 1)
            else:
                words.append(part)
                tags.append("O")
        X.append(words)
        y.append(tags)
    return X, y


X_TRAIN, Y_TRAIN = make_ner_data(40, seed=0)
X_TEST, Y_TEST = make_ner_data(20, seed=1)
X_SMALL, Y_SMALL = X_TRAIN[:8], Y_TRAIN[:8]
# 45 words: several windows of max_length=16 in every family.
LONG = ("the quick brown fox jumps over the lazy dog " * 5).split()
# Words that tokenize to nothing in some families (empty, space, zero-width).
ODD = ["", " ", "\u200b", "x\u0007", "Paris"]

FAST = {"max_length": 32, "batch_size": 8, "random_state": 0, "device": "cpu"}


def tagger(model: str, **params) -> BertTokenClassifier:
    return BertTokenClassifier(model, **{**FAST, **params})


@pytest.fixture(scope="module")
def trained(tiny_bert: str) -> BertTokenClassifier:
    """A tiny BERT tagger trained to learn the template data (shared, read-only)."""
    return tagger(tiny_bert, max_epochs=10, lr=5e-3, warmup_ratio=0.0).fit(
        X_TRAIN, Y_TRAIN
    )


# -- input checks ------------------------------------------------------------------
def test_word_input_forms():
    lists = [["John", "lives", "here"], [], ["in", "Paris"]]
    strings = ["John lives  here", "  ", "in\tParis"]
    assert check_word_input(strings).sentences == lists
    assert check_word_input(pd.Series(lists)).sentences == lists
    assert check_word_input(pd.Series(strings)).sentences == lists
    assert check_word_input(np.array(lists, dtype=object)).sentences == lists
    assert check_word_input(np.array([["a", "b"], ["c", "d"]])).sentences == [
        ["a", "b"],
        ["c", "d"],
    ]
    column = np.empty((3, 1), dtype=object)  # as a ColumnTransformer passes it
    column[:, 0] = [lists[0], "", "in Paris"]
    assert check_word_input(column).sentences == lists
    frame = pd.DataFrame({"tokens": lists})
    checked = check_word_input(frame)
    assert checked.sentences == lists and checked.columns == ["tokens"]
    assert check_word_input([("a", "b"), np.array(["c"])]).sentences == [
        ["a", "b"],
        ["c"],
    ]


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ([["a"], None], ValueError, "missing value .* at row 1"),
        ([["a"], ["b", None]], ValueError, r"token 1 of row 1"),
        ([["a", float("nan")]], ValueError, r"token 1 of row 0"),
        ([["a"], ["b", 3]], TypeError, r"string at token 1 of row 1"),
        ([["a"], 5], TypeError, "at row 1"),
        ("John lives here", ValueError, "single str"),
        ([], ValueError, "0 sentences"),
        (pd.DataFrame({"a": [["x"]], "b": [["y"]]}), ValueError, "2 columns"),
    ],
)
def test_word_input_errors(X, error, match):
    with pytest.raises(error, match=match):
        check_word_input(X)


def test_word_input_errors_name_the_index():
    X = pd.Series([["a"], ["b", None]], index=["s1", "s2"])
    with pytest.raises(ValueError, match=r"token 1 of row 1 \(index 's2'\)"):
        check_word_input(X)


def test_tag_input_checks():
    words = check_word_input([["a", "b"], ["c"], []])
    assert check_tag_input([["O", "B-X"], "O", []], words) == [["O", "B-X"], ["O"], []]
    assert check_tag_input(pd.Series([[1, 2], [3], []]), words) == [[1, 2], [3], []]
    with pytest.raises(ValueError, match=r"Row 1 has 1 tokens but 2 tags"):
        check_tag_input([["O", "O"], ["O", "O"], []], words)
    with pytest.raises(ValueError, match="3 sentences but y has 2"):
        check_tag_input([["O", "O"], ["O"]], words)
    with pytest.raises(ValueError, match=r"tag 0 of row 1"):
        check_tag_input([["O", "O"], [None], []], words)
    with pytest.raises(TypeError, match="mix strings and integers"):
        check_tag_input([["O", 1], ["O"], []], words)
    with pytest.raises(ValueError, match="y is required"):
        check_tag_input(None, words)


def test_looks_like_iob():
    assert looks_like_iob(["O", "B-PER", "I-PER"])
    assert looks_like_iob(["B-LOC", "I-LOC", "E-LOC", "S-PER", "O"])
    assert not looks_like_iob(["NOUN", "VERB", "O"])
    assert not looks_like_iob(["O"])
    assert not looks_like_iob([0, 1, 2])


# -- windows -----------------------------------------------------------------------
@pytest.mark.parametrize("stride", [0, 2, 5, 100])
@pytest.mark.parametrize("seed", range(5))
def test_windows_cover_every_word_once(stride, seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 6, size=int(rng.integers(1, 60))).tolist()
    counts[len(counts) // 2] = 25  # a word longer than a whole window
    budget = 12
    windows = plan_windows(counts, budget, stride)
    assert windows[0][0] == 0 and windows[-1][1] == len(counts)
    for (s0, e0), (s1, e1) in zip(windows, windows[1:], strict=False):
        assert s0 < s1 <= e0 < e1  # forward, overlapping or touching, no gap
        shared = sum(min(c, budget) for c in counts[s1:e0])
        assert shared <= min(stride, budget // 2)
    for start, end in windows:
        assert end > start
        assert sum(min(c, budget) for c in counts[start:end]) <= budget
    owner = assign_words(windows, counts, budget)
    for word, w in enumerate(owner):
        start, end = windows[w]
        assert start <= word < end


def test_windows_pick_the_most_central_window():
    # 10 one-token words, windows of 6 sharing 3 words: [0, 6), [3, 9), [6, 10)
    windows = plan_windows([1] * 10, budget=6, stride=3)
    assert windows == [(0, 6), (3, 9), (6, 10)]
    owner = assign_words(windows, [1] * 10, 6).tolist()
    # word 4 has 4 words before / 1 after in window 0, 1 / 4 in window 1: a
    # tie goes to the earlier window; word 5 is more central in window 1.
    assert owner == [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]


def test_window_features_and_targets(tiny_model_dirs):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dirs["bert"])
    sentences = [LONG, [], ["John", "lives"]]
    windows = tokenize_windows(
        tokenizer, sentences, max_length=16, stride=4, with_token_type_ids=True
    )
    assert set(windows.sentence.tolist()) == {0, 2}  # no window for []
    owned = {s: [] for s in (0, 2)}
    for feat, s, words, pos in zip(
        windows.features,
        windows.sentence,
        windows.words,
        windows.positions,
        strict=True,
    ):
        ids = feat["input_ids"]
        assert len(ids) <= 16 and feat["token_type_ids"] == [0] * len(ids)
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
        owned[s] += words.tolist()
        for word, p in zip(words, pos, strict=True):  # first piece of the word
            first = tokenizer(sentences[s][word], add_special_tokens=False)
            assert ids[p] == first["input_ids"][0]
    assert sorted(owned[0]) == list(range(len(LONG)))
    assert owned[2] == [0, 1]
    labels = [np.arange(len(s)) for s in sentences]
    targets = windows.targets(labels, IGNORE_INDEX)
    last = targets[-1]  # [CLS] john ##... lives [SEP] ("john" is 4 pieces)
    assert [t for t in last if t != IGNORE_INDEX] == [0, 1]
    assert last[0] == IGNORE_INDEX and last[-1] == IGNORE_INDEX
    assert len(last) == len(windows.features[-1]["input_ids"])


@pytest.mark.parametrize("family", ["roberta", "modernbert"])
def test_byte_level_words_get_the_running_text_marker(tiny_model_dirs, family):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dirs[family])
    assert prepare_word_tokenizer(tokenizer)
    assert not prepare_word_tokenizer(tokenizer)  # idempotent
    split = tokenizer(["in", "the", "city"], is_split_into_words=True)
    running = tokenizer(" in the city")
    assert split["input_ids"] == running["input_ids"]
    assert tokenizer.convert_ids_to_tokens(split["input_ids"])[1].startswith("Ġ")


def test_metaspace_marking_only_the_first_word_is_made_to_mark_every_word():
    from sklearn_bert._tasks.token.words import _mark_every_word

    pre = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"},
        ],
    }
    assert _mark_every_word(pre)
    assert pre["pretokenizers"][1]["prepend_scheme"] == "always"
    assert not _mark_every_word(pre)
    assert not _mark_every_word({"type": "ByteLevel", "add_prefix_space": True})


def test_words_without_pieces_get_the_unknown_token(tiny_model_dirs):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dirs["bert"])
    pieces = word_pieces(tokenizer, [ODD, []])
    assert pieces[1] == []
    assert len(pieces[0]) == len(ODD)
    assert pieces[0][0] == pieces[0][1] == [tokenizer.unk_token_id]
    assert all(len(p) >= 1 for p in pieces[0])
    # Words spelling special tokens are text, not control tokens.
    specials = word_pieces(tokenizer, [["[SEP]", "[CLS]"]])[0]
    ids = {i for word in specials for i in word}
    assert not ids & {tokenizer.sep_token_id, tokenizer.cls_token_id}


# -- loss ------------------------------------------------------------------------------
def test_token_loss_is_a_per_row_mean_ignoring_padding():
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 3)
    target = torch.tensor(
        [[-100, 0, 2, -100], [-100, 1, -100, -100], [-100, -100, -100, -100]]
    )
    loss = TokenLoss()(logits, target)
    assert loss.shape == (3,)
    ce = torch.nn.functional.cross_entropy
    assert torch.isclose(loss[0], ce(logits[0, 1:3], target[0, 1:3]))
    assert torch.isclose(loss[1], ce(logits[1, 1:2], target[1, 1:2]))
    assert loss[2] == 0
    weighted = TokenLoss(torch.tensor([1.0, 1.0, 3.0]))(logits, target)
    expected = (ce(logits[0, 1], target[0, 1]) + 3 * ce(logits[0, 2], target[0, 2])) / 2
    assert torch.isclose(weighted[0], expected)


def test_validation_split_keeps_sentences_together():
    groups = np.repeat(np.arange(10), [1, 3, 1, 1, 2, 1, 1, 4, 1, 1])
    train, valid = split_train_valid(
        len(groups),
        validation_fraction=0.3,
        stratify=None,
        random_state=0,
        groups=groups,
    )
    assert set(groups[train]).isdisjoint(groups[valid])
    assert len(set(groups[valid])) == 3
    assert sorted(np.concatenate([train, valid]).tolist()) == list(range(len(groups)))


# -- the estimator on every family ---------------------------------------------------
def test_fit_predict_every_family(tiny_model, tmp_path):
    est = tagger(tiny_model, max_length=16, max_epochs=1).fit(X_SMALL, Y_SMALL)
    assert est.classes_.tolist() == sorted({t for row in Y_SMALL for t in row})
    X = [LONG, ODD, [], *X_SMALL[:3], " ".join(X_SMALL[0])]
    tags = est.predict(X)
    assert [len(t) for t in tags] == [len(s) for s in X[:6]] + [len(X_SMALL[0])]
    assert all(t in est.classes_ for row in tags for t in row)
    assert tags[-1] == tags[3]  # a string is its whitespace-split tokens
    proba = est.predict_proba(X)
    assert [p.shape for p in proba] == [(len(t), len(est.classes_)) for t in tags]
    assert all(np.allclose(p.sum(axis=1), 1.0) for p in proba)
    assert [est.classes_[p.argmax(axis=1)].tolist() for p in proba] == tags
    assert 0.0 <= est.score(X_SMALL, Y_SMALL) <= 1.0

    # save_pretrained: transformers alone reproduces predict_proba (alignment:
    # each word is read at its first sub-word).
    folder = est.save_pretrained(tmp_path / "saved")
    model = AutoModelForTokenClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert model.config.id2label == dict(enumerate(est.classes_.tolist()))
    words = X_SMALL[1]
    enc = tokenizer(words, is_split_into_words=True, return_tensors="pt")
    if "token_type_ids" not in model_input_names(est.net_.module_.hf_model):
        enc.pop("token_type_ids", None)
    with torch.no_grad():
        logits = model(**enc).logits[0]
    word_ids = enc.word_ids(0)
    first = [word_ids.index(w) for w in range(len(words))]
    expected = torch.softmax(logits[first], dim=-1).numpy()  # float32
    assert_agree(est.predict_proba([words])[0], expected, est.precision_, "float32")

    # pickle: the same predictions; the fitted parts add no absolute path
    # (only the user's ``model`` parameter holds one)
    blob = pickle.dumps(est)
    root = str(Path(tiny_model).parent).encode()
    assert blob.count(root) == pickle.dumps(clone(est)).count(root) == 1
    assert str(tmp_path).encode() not in blob and os.getcwd().encode() not in blob
    again = pickle.loads(blob)
    for a, b in zip(again.predict_proba(X), proba, strict=True):
        assert_agree(a, b, est.precision_)


def test_long_sentences_use_windows_not_truncation(tiny_bert):
    est = tagger(tiny_bert, max_length=16, max_epochs=1, stride=6)
    est.fit([*X_SMALL, LONG], [*Y_SMALL, ["O"] * len(LONG)])
    windows = est._windows(
        est.tokenizer_, est.net_.module_.hf_model, [LONG], est.max_length_
    )
    assert len(windows.features) > 2
    assert max(len(f["input_ids"]) for f in windows.features) <= 16
    assert sorted(np.concatenate(windows.words).tolist()) == list(range(len(LONG)))
    # Each word is read from the window that owns it, run on its own.
    proba = est.predict_proba([LONG])[0]
    module = est.net_.module_.eval()
    for w, feature in enumerate(windows.features):
        batch = {k: torch.tensor([v]) for k, v in feature.items()}
        batch["attention_mask"] = torch.ones_like(batch["input_ids"])
        with torch.no_grad():  # float32
            logits = module(**batch)[0]
        expected = torch.softmax(logits[windows.positions[w]], dim=-1).numpy()
        assert_agree(proba[windows.words[w]], expected, est.precision_, "float32")


def test_prediction_streams_by_parts_of_sentences(tiny_bert, monkeypatch):
    # A few sentences at a time are windowed, run and reduced to their tags;
    # the result is that of one part holding every sentence. A long sentence
    # (several windows) ends a part: its windows all stay in that part.
    est = tagger(tiny_bert, max_length=16, max_epochs=1, stride=6)
    est.set_params(precision="float32").fit(
        [*X_SMALL, LONG], [*Y_SMALL, ["O"] * len(LONG)]
    )
    X = [*X_TEST[:5], LONG, [], X_TEST[0], *X_TEST[5:9], LONG[:25], X_TEST[1]]
    parts, windowed = [], []
    streamed, windows = inference.streamed, est._windows

    def spy_streamed(n, max_length=None):
        for part in streamed(n, max_length):
            parts.append(part)
            yield part

    def spy_windows(tokenizer, model, sentences, max_length):
        windowed.append((sentences, windows(tokenizer, model, sentences, max_length)))
        return windowed[-1][1]

    monkeypatch.setattr(inference, "streamed", spy_streamed)
    monkeypatch.setattr(est, "_windows", spy_windows)
    n_distinct = len({tuple(s) for s in X})
    whole_tags, whole_proba = est.predict(X), est.predict_proba(X)
    assert [len(p) for p in parts] == [n_distinct] * 2  # one part each
    parts.clear()
    windowed.clear()
    monkeypatch.setattr(inference, "STREAM_ROWS", 3)
    tags, proba = est.predict(X), est.predict_proba(X)
    assert len(parts) == 2 * -(-n_distinct // 3)
    assert tags == whole_tags
    for a, b in zip(proba, whole_proba, strict=True):
        assert_agree(a, b, "float32")
    for sentences, found in windowed:
        assert sorted(set(found.sentence)) == [
            s for s, words in enumerate(sentences) if words
        ]
    assert any(
        LONG in sentences and len(found.features) > len(sentences) + 1
        for sentences, found in windowed
    )
    # A repeated sentence gets arrays of its own.
    assert proba[7] is not proba[0] and np.array_equal(proba[7], proba[0])


# -- training --------------------------------------------------------------------------
def test_training_learns_the_template_data(trained, tiny_bert):
    losses = trained.net_.history[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    untrained = tagger(tiny_bert, max_epochs=1, lr=1e-12).fit(X_TRAIN, Y_TRAIN)
    before, after = untrained.score(X_TEST, Y_TEST), trained.score(X_TEST, Y_TEST)
    assert after > before + 0.3
    assert after == pytest.approx(f1_score(Y_TEST, trained.predict(X_TEST)))


def test_random_state_gives_identical_refits(tiny_bert):
    est = tagger(tiny_bert, max_epochs=1, random_state=3)
    first = est.fit(X_SMALL, Y_SMALL).predict_proba(X_SMALL)
    second = clone(est).fit(X_SMALL, Y_SMALL).predict_proba(X_SMALL)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_saved_folder_continues_as_model(trained, tmp_path):
    folder = trained.save_pretrained(tmp_path / "ner")
    # A tiny learning rate keeps the loaded weights: same predictions.
    again = tagger(str(folder), max_epochs=1, lr=1e-12).fit(X_TRAIN, Y_TRAIN)
    assert again.classes_.tolist() == trained.classes_.tolist()
    for a, b in zip(
        again.predict_proba(X_TEST), trained.predict_proba(X_TEST), strict=True
    ):
        assert_agree(a, b, trained.precision_)
    # Other tags: a new classification layer of the right size.
    pos = [["DET" if w == "the" else "X" for w in s] for s in X_SMALL]
    other = tagger(str(folder), max_epochs=1).fit(X_SMALL, pos)
    assert other.net_.module_.hf_model.config.id2label == {0: "DET", 1: "X"}
    assert other.predict_proba(X_SMALL)[0].shape[1] == 2
    # POS-like tags: scoring="auto" is token accuracy.
    assert resolve_scoring(other.scoring, other.classes_) == "accuracy"
    true, pred = sum(pos, []), sum(other.predict(X_SMALL), [])
    accuracy = np.mean([a == b for a, b in zip(true, pred, strict=True)])
    assert other.score(X_SMALL, pos) == pytest.approx(accuracy)


def test_scoring_options(trained):
    assert resolve_scoring(trained.scoring, trained.classes_) == "entity_f1"
    f1 = trained.score(X_TEST, Y_TEST)
    y_pred = trained.predict(X_TEST)
    true, pred = sum(Y_TEST, []), sum(y_pred, [])
    accuracy = np.mean([a == b for a, b in zip(true, pred, strict=True)])
    est = copy.deepcopy(trained).set_params(scoring="accuracy")
    assert est.score(X_TEST, Y_TEST) == pytest.approx(accuracy)
    assert f1 != pytest.approx(accuracy)
    assert est.set_params(scoring="entity_f1").score(X_TEST, Y_TEST) == f1


def test_early_stopping_validation_score_and_callbacks(tiny_bert):
    class Count(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = Count()
    est = tagger(
        tiny_bert,
        max_epochs=2,
        early_stopping=True,
        validation_fraction=0.25,
        callbacks=[counter],
    ).fit(X_TRAIN[:16], Y_TRAIN[:16])
    history = est.net_.history
    assert {"valid_loss", "valid_f1"} <= set(history[-1])
    assert 0.0 <= history[-1, "valid_f1"] <= 1.0
    assert counter.epochs == len(history)


def test_bfloat16_precision(tiny_bert):
    est = tagger(tiny_bert, max_epochs=1, precision="bfloat16").fit(X_SMALL, Y_SMALL)
    proba = est.predict_proba(X_SMALL[:2])
    assert all(p.dtype == np.float64 for p in proba)
    assert all(np.allclose(p.sum(axis=1), 1.0) for p in proba)


def test_freeze_encoder_and_trainable_layers(tiny_bert):
    base = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=2)
    initial = {k: v.clone() for k, v in base.base_model.state_dict().items()}
    frozen = tagger(tiny_bert, max_epochs=1, lr=1e-2, freeze_encoder=True)
    frozen.fit(X_SMALL, Y_SMALL)
    encoder = frozen.net_.module_.hf_model.base_model.state_dict()
    assert all(torch.equal(encoder[k], v) for k, v in initial.items())
    top = tagger(tiny_bert, max_epochs=1, lr=1e-2, trainable_layers=1)
    top.fit(X_SMALL, Y_SMALL)
    encoder = top.net_.module_.hf_model.base_model.state_dict()
    changed = {k for k, v in initial.items() if not torch.equal(encoder[k], v)}
    assert changed and all(k.startswith("encoder.layer.1.") for k in changed)


def test_class_and_sample_weights_change_training(tiny_bert):
    est = tagger(tiny_bert, max_epochs=1, lr=1e-2)
    plain = est.fit(X_SMALL, Y_SMALL).net_.history[-1, "train_loss"]
    balanced = clone(est).set_params(class_weight="balanced")
    assert balanced.fit(X_SMALL, Y_SMALL).net_.history[-1, "train_loss"] != plain
    weighted = clone(est).fit(X_SMALL, Y_SMALL, sample_weight=np.arange(8) % 2)
    assert weighted.net_.history[-1, "train_loss"] != plain
    with pytest.raises(ValueError, match="sample_weight has shape"):
        clone(est).fit(X_SMALL, Y_SMALL, sample_weight=[1.0, 2.0])


# -- contract and errors ---------------------------------------------------------------
def test_grid_search_pipeline_and_clone(tiny_bert):
    est = tagger(tiny_bert, max_epochs=1)
    search = GridSearchCV(est, {"lr": [1e-4, 5e-3]}, cv=2).fit(X_SMALL, Y_SMALL)
    assert set(search.cv_results_["param_lr"]) == {1e-4, 5e-3}
    assert len(search.predict(X_TEST[:2])[1]) == len(X_TEST[1])
    pipe = make_pipeline(clone(est)).fit(pd.Series(X_SMALL), pd.Series(Y_SMALL))
    assert [len(t) for t in pipe.predict(X_TEST[:3])] == [len(s) for s in X_TEST[:3]]
    assert clone(est).get_params() == est.get_params()


def test_errors(tiny_bert):
    est = tagger(tiny_bert, max_epochs=1)
    with pytest.raises(NotFittedError):
        est.predict(X_SMALL)
    with pytest.raises(ValueError, match="Row 1 has"):
        est.fit(X_SMALL[:2], [Y_SMALL[0], Y_SMALL[1][:-1]])
    with pytest.raises(ValueError, match="token 2 of row 0"):
        est.fit([["a", "b", None]], [["O", "O", "B-X"]])
    with pytest.raises(ValueError, match="at least 2 distinct tags"):
        est.fit([["a", "b"]], [["O", "O"]])
    with pytest.raises(ValueError, match="every sentence in X is empty"):
        est.fit([[], []], [[], []])
    with pytest.raises(InvalidParameterError, match="stride"):
        clone(est).set_params(stride=-1).fit(X_SMALL, Y_SMALL)
    with pytest.raises(InvalidParameterError, match="scoring"):
        clone(est).set_params(scoring="f2").fit(X_SMALL, Y_SMALL)


def test_verbose_zero_is_silent(tiny_bert, capsys):
    est = tagger(tiny_bert, max_epochs=1).fit(X_SMALL, Y_SMALL)
    est.predict(X_SMALL)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    tagger(tiny_bert, max_epochs=1, verbose=1).fit(X_SMALL, Y_SMALL)
    assert "train_loss" in capsys.readouterr().out


# -- the bundled model on real data ----------------------------------------------------
def _hironsan_sentences() -> tuple[list[list[str]], list[list[str]]]:
    from importlib.resources import files

    text = (files("hironsan") / "corpus" / "iob_sents.txt").read_text("utf-8")
    X, y = [], []
    for block in text.split("\n\n"):
        rows = [line.split("\t") for line in block.splitlines() if line.strip()]
        if rows:
            X.append([r[0] for r in rows])
            y.append([r[-1] for r in rows])
    return X, y


@pytest.mark.slow
def test_hironsan_japanese_ner_on_the_bundled_model():
    X, y = _hironsan_sentences()
    assert len(X) == 500
    # The corpus' own split: the first 90 % for training, the rest for testing.
    # These settings reach 0.49 entity F1 (lookup baseline: 0.44) in ~2 min.
    est = BertTokenClassifier(max_epochs=4, lr=2e-4, random_state=0, device="cpu")
    est.fit(X[:450], y[:450])
    predicted = est.predict(X[450:])
    assert [len(p) for p in predicted] == [len(s) for s in X[450:]]
    assert est.score(X[450:], y[450:]) > 0.3


@pytest.mark.slow
def test_docstring_example_on_the_bundled_model():
    import doctest

    from sklearn_bert import token

    result = doctest.testmod(token, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
