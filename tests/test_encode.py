"""Tests for ``sklearn_bert._text``: dedup, batching, padding, tokenizing."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from sklearn_bert._text.batching import length_sorted_batches, pad_batch
from sklearn_bert._text.inputs import TextInput
from sklearn_bert._text.tokenize import (
    effective_max_length,
    model_input_names,
    tokenize,
    unique_rows,
    warn_truncated,
)

SENTENCE = "the movie was great and the story was very moving"
LONG = " ".join([SENTENCE] * 4)


@pytest.fixture(scope="module")
def bert_tokenizer(tiny_bert):
    return AutoTokenizer.from_pretrained(tiny_bert)


def n_tokens(tokenizer, text, pair=None):
    return len(tokenizer(text, pair)["input_ids"])


# -- unique_rows ---------------------------------------------------------------


def test_unique_rows_single_texts():
    rows = TextInput(["b", "a", "b", "c", "a", "b"])
    uniq, inverse = unique_rows(rows)
    assert uniq.texts == ["b", "a", "c"]  # first-seen order
    assert uniq.pairs is None
    assert inverse.tolist() == [0, 1, 0, 2, 1, 0]
    assert [uniq.texts[i] for i in inverse] == rows.texts


def test_unique_rows_pairs_compare_both_texts():
    rows = TextInput(["q", "q", "q", "r"], ["x", "y", "x", "x"])
    uniq, inverse = unique_rows(rows)
    assert uniq.rows() == [("q", "x"), ("q", "y"), ("r", "x")]
    assert inverse.tolist() == [0, 1, 0, 2]


def test_unique_rows_all_distinct():
    rows = TextInput(["a", "b", "c"])
    uniq, inverse = unique_rows(rows)
    assert uniq.texts == ["a", "b", "c"]
    assert inverse.tolist() == [0, 1, 2]


# -- length_sorted_batches -----------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 100])
def test_length_sorted_batches_cover_every_index_once(batch_size):
    lengths = np.array([5, 9, 1, 9, 3, 7, 2])
    batches = list(length_sorted_batches(lengths, batch_size))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert all(len(b) <= batch_size for b in batches)
    assert all(len(b) == batch_size for b in batches[:-1])
    # longest first, and never increasing along the way
    assert lengths[flat[0]] == lengths.max()
    assert np.all(np.diff(lengths[flat]) <= 0)


def test_length_sorted_batches_group_similar_lengths():
    lengths = np.array([1, 50, 2, 49, 3, 48])
    batches = [sorted(b.tolist()) for b in length_sorted_batches(lengths, 3)]
    assert batches == [[1, 3, 5], [0, 2, 4]]


def test_length_sorted_batches_ties_keep_input_order():
    lengths = np.array([4, 4, 4, 4])
    flat = np.concatenate(list(length_sorted_batches(lengths, 2)))
    assert flat.tolist() == [0, 1, 2, 3]


# -- pad_batch -----------------------------------------------------------------


def test_pad_batch_right_pads_to_longest():
    features = [
        {"input_ids": [2, 10, 11, 3], "token_type_ids": [0, 0, 1, 1]},
        {"input_ids": [2, 12, 3], "token_type_ids": [0, 0, 0]},
    ]
    batch = pad_batch(features, pad_token_id=7)
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
    assert all(t.dtype == torch.long for t in batch.values())
    assert batch["input_ids"].tolist() == [[2, 10, 11, 3], [2, 12, 3, 7]]
    assert batch["token_type_ids"].tolist() == [[0, 0, 1, 1], [0, 0, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]


def test_pad_batch_without_token_types():
    batch = pad_batch([{"input_ids": [1]}, {"input_ids": [1, 2, 3]}], pad_token_id=0)
    assert set(batch) == {"input_ids", "attention_mask"}
    assert batch["input_ids"].tolist() == [[1, 0, 0], [1, 2, 3]]
    assert batch["attention_mask"].tolist() == [[1, 0, 0], [1, 1, 1]]


def test_pad_batch_does_not_modify_features():
    features = [{"input_ids": [1, 2]}, {"input_ids": [1]}]
    pad_batch(features, pad_token_id=0)
    assert features == [{"input_ids": [1, 2]}, {"input_ids": [1]}]


# -- tokenize: truncation ------------------------------------------------------


def test_tokenize_truncate_mode(bert_tokenizer):
    rows = TextInput(["hello world", LONG, "ok"])
    tok = tokenize(bert_tokenizer, rows, max_length=16)
    assert tok.n_rows == 3
    assert tok.owners.tolist() == [0, 1, 2]
    assert tok.lengths().tolist() == [
        n_tokens(bert_tokenizer, "hello world"),
        16,
        n_tokens(bert_tokenizer, "ok"),
    ]
    assert tok.n_truncated == 1
    assert set(tok.features[0]) == {"input_ids", "token_type_ids"}
    # truncated rows still end with [SEP]
    assert tok.features[1]["input_ids"][-1] == bert_tokenizer.sep_token_id


def test_truncation_count_is_exact_at_the_limit(bert_tokenizer):
    length = n_tokens(bert_tokenizer, SENTENCE)
    rows = TextInput([SENTENCE])
    assert tokenize(bert_tokenizer, rows, max_length=length).n_truncated == 0
    assert tokenize(bert_tokenizer, rows, max_length=length - 1).n_truncated == 1
    assert tokenize(bert_tokenizer, rows, max_length=length + 1).n_truncated == 0


def test_truncation_count_of_pairs(bert_tokenizer):
    length = n_tokens(bert_tokenizer, "hello world", SENTENCE)
    rows = TextInput(["hello world", "a", "b"], [SENTENCE, "c", SENTENCE])
    tok = tokenize(bert_tokenizer, rows, max_length=length - 1)
    assert tok.n_truncated == 1
    assert tok.lengths().max() == length - 1
    assert tokenize(bert_tokenizer, rows, max_length=length).n_truncated == 0


def test_tokenize_filters_input_names(bert_tokenizer):
    tok = tokenize(
        bert_tokenizer, TextInput(["a b"]), max_length=16, input_names={"input_ids"}
    )
    assert set(tok.features[0]) == {"input_ids"}


def test_warn_truncated():
    with pytest.warns(UserWarning, match=r"3 text\(s\).*max_length=16.*chunk"):
        warn_truncated(3, 16, can_chunk=True)
    with pytest.warns(UserWarning, match=r"1 text\(s\).*Raise max_length") as rec:
        warn_truncated(1, 16, can_chunk=False)
    assert "chunk" not in str(rec[0].message)
    # The warning points at the caller's line, outside the library.
    assert rec[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_truncated(0, 16, can_chunk=True)


# -- tokenize: chunks ----------------------------------------------------------


def test_chunk_mode_splits_long_texts(bert_tokenizer):
    rows = TextInput(["hi", LONG, "ok there"])
    tok = tokenize(bert_tokenizer, rows, max_length=16, long_text="chunk", stride=4)
    owners = tok.owners.tolist()
    assert tok.n_rows == 3
    assert tok.n_truncated == 0
    assert sorted(set(owners)) == [0, 1, 2]  # every text represented
    assert owners == sorted(owners)  # chunks of a text are contiguous
    assert owners.count(0) == 1 and owners.count(2) == 1
    assert owners.count(1) > 1
    assert max(tok.lengths()) <= 16
    for feature in tok.features:
        ids = feature["input_ids"]
        assert ids[0] == bert_tokenizer.cls_token_id
        assert ids[-1] == bert_tokenizer.sep_token_id


def test_chunks_overlap_by_stride_and_cover_the_text(bert_tokenizer):
    stride = 4
    tok = tokenize(
        bert_tokenizer, TextInput([LONG]), max_length=16, long_text="chunk", stride=4
    )
    contents = [f["input_ids"][1:-1] for f in tok.features]
    for prev, nxt in zip(contents, contents[1:], strict=False):
        assert prev[-stride:] == nxt[:stride]
    rebuilt = contents[0] + [t for c in contents[1:] for t in c[stride:]]
    assert rebuilt == bert_tokenizer(LONG, add_special_tokens=False)["input_ids"]


def test_chunk_stride_is_capped_below_half_the_window(bert_tokenizer):
    # stride 32 with a 16-token window would never advance; it is capped to 6
    tok = tokenize(
        bert_tokenizer, TextInput([LONG]), max_length=16, long_text="chunk", stride=32
    )
    contents = [f["input_ids"][1:-1] for f in tok.features]
    assert contents[0][-6:] == contents[1][:6]
    assert contents[0][-7:] != contents[1][:7]


def test_chunk_mode_pairs_keep_the_first_text(bert_tokenizer):
    rows = TextInput(["question", "q2"], [LONG, "short"])
    tok = tokenize(bert_tokenizer, rows, max_length=16, long_text="chunk", stride=4)
    assert tok.owners.tolist().count(0) > 1
    assert tok.owners.tolist()[-1] == 1
    question = bert_tokenizer("question", add_special_tokens=False)["input_ids"]
    for feature, owner in zip(tok.features, tok.owners, strict=True):
        if owner == 0:
            assert feature["input_ids"][1 : 1 + len(question)] == question
            assert 1 in feature["token_type_ids"]


def test_chunk_mode_all_families(tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    rows = TextInput(["short", LONG, "", LONG + " again"])
    tok = tokenize(tokenizer, rows, max_length=16, long_text="chunk", stride=4)
    assert sorted(set(tok.owners.tolist())) == [0, 1, 2, 3]
    assert max(tok.lengths()) <= 16
    assert np.bincount(tok.owners)[[1, 3]].min() > 1


def test_chunk_mode_without_long_texts_is_one_unit_per_row(bert_tokenizer):
    rows = TextInput(["a", "b c"])
    tok = tokenize(bert_tokenizer, rows, max_length=16, long_text="chunk")
    assert tok.owners.tolist() == [0, 1]
    plain = tokenize(bert_tokenizer, rows, max_length=16)
    assert tok.features == plain.features


# -- model limits and input names ----------------------------------------------


@pytest.mark.parametrize(
    ("max_length", "model_max", "positions", "model_type", "expected"),
    [
        (None, 512, 512, "bert", 512),
        (64, 512, 512, "bert", 64),
        (4096, 512, 512, "bert", 512),
        (None, 10**30, 128, "bert", 128),  # tokenizer without a real limit
        (None, 10**30, 130, "roberta", 128),  # positions offset by pad + 1
        (None, 256, None, "modernbert", 256),
        (None, None, 0, "x", 512),
    ],
)
def test_effective_max_length(max_length, model_max, positions, model_type, expected):
    tokenizer = SimpleNamespace(model_max_length=model_max)
    config = SimpleNamespace(max_position_embeddings=positions, model_type=model_type)
    assert effective_max_length(tokenizer, config, max_length) == expected


def test_model_input_names(tiny_model_dirs):
    bert = AutoModel.from_pretrained(tiny_model_dirs["bert"])
    distilbert = AutoModel.from_pretrained(tiny_model_dirs["distilbert"])
    assert model_input_names(bert) == {"input_ids", "attention_mask", "token_type_ids"}
    assert model_input_names(distilbert) == {"input_ids", "attention_mask"}


def test_chunked_pairs_fit_the_room_the_first_text_leaves(tiny_bert):
    import pandas as pd

    from sklearn_bert import BertTransformer

    short_first = pd.DataFrame({"a": ["short", "x"], "b": ["y z " * 60, "q"]})
    out = BertTransformer(
        tiny_bert, long_text="chunk", max_length=16, stride=32
    ).fit_transform(short_first)
    assert out.shape == (2, 32)
    assert np.isfinite(out).all()
    long_first = pd.DataFrame({"a": ["word " * 40, "x"], "b": ["y z", "q"]})
    with pytest.raises(ValueError, match="leaves no room"):
        BertTransformer(tiny_bert, long_text="chunk", max_length=16).fit_transform(
            long_first
        )
