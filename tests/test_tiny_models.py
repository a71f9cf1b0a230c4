"""Checks for the tiny offline models built by ``_tiny_models``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _tiny_models import FAMILIES, build_tiny_model
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
    BatchEncoding,
)

HIDDEN = 32
TEXTS = ["hello world", "a much longer sentence, with punctuation!"]
PAIRS = ["second", "pair text"]
LONG_TEXT = " ".join(
    ["The quick brown fox jumps over the lazy dog, again and again."] * 8
)
WITHOUT_TOKEN_TYPES = {"roberta", "distilbert", "modernbert"}
EXTRA_KEYS = ("offset_mapping", "overflow_to_sample_mapping")


def _model_inputs(enc: BatchEncoding) -> dict[str, torch.Tensor]:
    return {k: v for k, v in enc.items() if k not in EXTRA_KEYS}


def _pair_batch(folder: str) -> BatchEncoding:
    tok = AutoTokenizer.from_pretrained(folder)
    return tok(TEXTS, PAIRS, padding=True, return_tensors="pt")


def test_families_order() -> None:
    assert FAMILIES == (
        "bert",
        "roberta",
        "deberta-v2",
        "distilbert",
        "electra",
        "modernbert",
    )


def test_files_and_config(tiny_model: str) -> None:
    family = Path(tiny_model).name
    files = {p.name for p in Path(tiny_model).iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= files
    config = AutoConfig.from_pretrained(tiny_model)
    assert config.model_type == family
    assert config.hidden_size == HIDDEN
    assert config.num_hidden_layers == 2
    assert config.num_attention_heads == 2


def test_tokenizer(tiny_model: str) -> None:
    family = Path(tiny_model).name
    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert tok.is_fast
    assert tok.pad_token is not None and tok.mask_token is not None
    assert tok.cls_token is not None and tok.sep_token is not None
    assert tok.model_max_length == 512
    config = AutoConfig.from_pretrained(tiny_model)
    assert config.pad_token_id == tok.pad_token_id
    assert len(tok) == config.vocab_size
    has_types = "token_type_ids" in tok.model_input_names
    assert has_types == (family not in WITHOUT_TOKEN_TYPES)

    enc = tok(TEXTS, PAIRS, padding=True, return_offsets_mapping=True)
    assert ("token_type_ids" in enc) == has_types
    for i in range(len(TEXTS)):
        word_ids = enc.word_ids(i)
        assert len(word_ids) == len(enc["input_ids"][i])
        assert word_ids[0] is None  # leading special token
        assert any(w is not None for w in word_ids)
        assert len(enc["offset_mapping"][i]) == len(word_ids)
    assert tok.unk_token_id not in enc["input_ids"][1]


def test_forward_all_heads(tiny_model: str) -> None:
    enc = _pair_batch(tiny_model)
    inputs = _model_inputs(enc)
    batch, length = enc["input_ids"].shape
    vocab_size = AutoConfig.from_pretrained(tiny_model).vocab_size
    with torch.no_grad():
        base = AutoModel.from_pretrained(tiny_model).eval()
        assert base(**inputs).last_hidden_state.shape == (batch, length, HIDDEN)

        seq = AutoModelForSequenceClassification.from_pretrained(
            tiny_model, num_labels=3
        ).eval()
        assert seq(**inputs).logits.shape == (batch, 3)

        tokc = AutoModelForTokenClassification.from_pretrained(
            tiny_model, num_labels=5
        ).eval()
        assert tokc(**inputs).logits.shape == (batch, length, 5)

        qa = AutoModelForQuestionAnswering.from_pretrained(tiny_model).eval()
        out = qa(**inputs)
        assert out.start_logits.shape == (batch, length)
        assert out.end_logits.shape == (batch, length)

        mlm = AutoModelForMaskedLM.from_pretrained(tiny_model).eval()
        assert mlm(**inputs).logits.shape == (batch, length, vocab_size)


def test_overflow_long_text(tiny_model: str) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model)
    enc = tok(
        [LONG_TEXT],
        return_overflowing_tokens=True,
        stride=4,
        truncation=True,
        max_length=16,
        padding=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )
    n_windows, length = enc["input_ids"].shape
    assert n_windows > 1 and length == 16
    assert enc["overflow_to_sample_mapping"].tolist() == [0] * n_windows
    model = AutoModel.from_pretrained(tiny_model).eval()
    with torch.no_grad():
        hidden = model(**_model_inputs(enc)).last_hidden_state
    assert hidden.shape == (n_windows, 16, HIDDEN)


def test_max_length_512(tiny_model: str) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model)
    enc = tok([LONG_TEXT * 10], truncation=True, return_tensors="pt")
    assert enc["input_ids"].shape == (1, 512)
    model = AutoModel.from_pretrained(tiny_model).eval()
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    assert hidden.shape == (1, 512, HIDDEN)


def test_build_is_deterministic(tmp_path: Path, tiny_model: str) -> None:
    family = Path(tiny_model).name
    again = Path(build_tiny_model(family, tmp_path / family))
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (again / name).read_bytes() == (Path(tiny_model) / name).read_bytes()


def test_tiny_bert_fixture(tiny_bert: str, tiny_model_dirs: dict[str, str]) -> None:
    assert tiny_bert == tiny_model_dirs["bert"]
    assert set(tiny_model_dirs) == set(FAMILIES)


def test_unknown_family(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unknown family"):
        build_tiny_model("gpt2", tmp_path)
