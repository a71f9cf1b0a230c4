"""Tiny, randomly initialised BERT-style models built offline for the test suite.

:func:`build_tiny_model` writes a model checkpoint (safetensors) and a matching
fast tokenizer into a folder with ``save_pretrained``, so that the usual
``AutoTokenizer.from_pretrained(folder)`` / ``AutoModel*.from_pretrained(folder)``
calls work without any access to the Hugging Face Hub.

Every model has hidden size 32, 2 layers, 2 attention heads and accepts inputs of
up to 512 tokens. The vocabularies are small (a few hundred entries) but cover
any ASCII text: the WordPiece vocabulary contains ``##``-continuations of every
letter and digit, the Unigram vocabulary every printable ASCII character and the
byte-level BPE vocabularies all 256 bytes.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["FAMILIES", "build_tiny_model"]

FAMILIES: tuple[str, ...] = (
    "bert",
    "roberta",
    "deberta-v2",
    "distilbert",
    "electra",
    "modernbert",
)

HIDDEN_SIZE = 32
NUM_LAYERS = 2
NUM_HEADS = 2
INTERMEDIATE_SIZE = 37
MAX_LENGTH = 512

_BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_ROBERTA_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

_WORDS = """
the of and to in is was for on that with as by at from it be this are or an
not have has had but which were they their one all there can more will other
been would its when who we what so if into up out about some than them then
these two may only do time new could no over first also after like many most
such he she his her you your our my me him i us very just any each make made
way well where how much long still own here even both see use should good
between through because under while over few last same great small large old
world people year years day days work life man men woman women child children
school country state city house home water hand part place case point number
group problem fact word words text sentence sentences question answer model
data train test label class positive negative good bad great terrible movie
film book story hello yes not never always nothing something everything love
hate happy sad price food service room staff friendly slow fast cheap
expensive second pair short longer longest punctuation example
""".split()

_CORPUS = (
    "Hello world! This is a tiny corpus for building tokenizers offline.",
    "The quick brown fox jumps over the lazy dog.",
    "A much longer sentence, with punctuation: commas, colons; and dashes - too!",
    "Is this the second sentence? Yes, and here is a pair of texts.",
    "Machine learning models read text and predict labels for each document.",
    "The movie was great, the acting was good and the story was very moving.",
    "The food was terrible and the service was slow; I will never go back.",
    "We trained the model for two days on a small data set of 1,000 examples.",
    "Prices rose by 3.5% in 2024, while wages grew by only 2%.",
    "She said: \"It's not what you say, it's how you say it.\"",
    "Named entities like Paris, London and New York appear in many texts.",
    "Question answering finds the answer span inside a long context.",
    "Token classification assigns one label to every word in the sentence.",
    "Children play in the school garden after class every afternoon.",
    "The staff were friendly, the room was clean and the price was cheap.",
    "Numbers such as 0, 1, 2, 3, 4, 5, 6, 7, 8 and 9 are tokens too.",
    "Email me at someone@example.com or visit https://example.org today.",
    "Life is short; read good books, eat good food and love your people.",
    "The state and the city both work on the same water problem this year.",
    "Between you and me, the first answer was better than the last one.",
)


def build_tiny_model(family: str, folder: str | os.PathLike[str]) -> str:
    """Build a tiny random ``family`` model and tokenizer and save them to ``folder``.

    The model is created after ``torch.manual_seed(0)`` so the saved weights are
    identical from one build to the next. The folder is created if needed.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    folder : str or os.PathLike
        Output folder for ``config.json``, ``model.safetensors`` and the
        tokenizer files.

    Returns
    -------
    str
        The output folder.
    """
    if family not in _BUILDERS:
        raise ValueError(f"Unknown family {family!r}; expected one of {FAMILIES}.")
    import torch

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer, make_model = _BUILDERS[family]()
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    model = make_model()
    model.eval()
    model.save_pretrained(out)
    return str(out)


# ---------------------------------------------------------------------------
# vocabularies
# ---------------------------------------------------------------------------


def _wordpiece_vocab() -> dict[str, int]:
    """Return a small lower-case WordPiece vocabulary covering any ASCII word."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = [f"##{c}" for c in string.ascii_lowercase + string.digits]
    tokens = [*_BERT_SPECIALS, *chars, *_unique(_WORDS), *pieces]
    return {tok: i for i, tok in enumerate(_unique(tokens))}


def _unigram_vocab() -> list[tuple[str, float]]:
    """Return a small SentencePiece-style Unigram vocabulary (piece, log-prob)."""
    chars = string.ascii_letters + string.digits + string.punctuation
    words = _unique(_WORDS)
    scored: list[tuple[str, float]] = [(tok, 0.0) for tok in _BERT_SPECIALS]
    scored.append(("\u2581", -3.0))
    # Longer words get slightly better scores so whole words win over pieces.
    scored += [(f"\u2581{w}", -4.0 - 1.0 / (1 + len(w))) for w in words]
    scored += [(c, -8.0) for c in chars]
    scored += [(f"\u2581{c}", -9.0) for c in chars]
    best: dict[str, float] = {}
    for piece, score in scored:  # keep the first score of e.g. "\u2581a"
        best.setdefault(piece, score)
    return list(best.items())


def _train_byte_level_bpe(
    special_tokens: tuple[str, ...], vocab_size: int = 500
) -> Any:
    """Train a byte-level BPE ``tokenizers.Tokenizer`` on the built-in corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([*_CORPUS, " ".join(_WORDS)], trainer=trainer)
    return tok


def _bpe_vocab_and_merges(tok: Any) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Extract vocabulary and merges from a trained BPE ``tokenizers.Tokenizer``."""
    state = json.loads(tok.to_str())["model"]
    merges = [
        tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1))
        for m in state["merges"]
    ]
    return dict(state["vocab"]), merges


# ---------------------------------------------------------------------------
# per-family builders: each returns (tokenizer, zero-argument model factory)
# ---------------------------------------------------------------------------

_Built = tuple[Any, Callable[[], Any]]


def _common_tokenizer_kwargs() -> dict[str, Any]:
    return {"model_max_length": MAX_LENGTH, "clean_up_tokenization_spaces": False}


def _bert_like_config_kwargs(tokenizer: Any) -> dict[str, Any]:
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": HIDDEN_SIZE,
        "num_hidden_layers": NUM_LAYERS,
        "num_attention_heads": NUM_HEADS,
        "intermediate_size": INTERMEDIATE_SIZE,
        "max_position_embeddings": MAX_LENGTH,
        "pad_token_id": tokenizer.pad_token_id,
    }


def _build_bert() -> _Built:
    from transformers import BertConfig, BertForPreTraining, BertTokenizerFast

    tokenizer = BertTokenizerFast(
        vocab=_wordpiece_vocab(), do_lower_case=True, **_common_tokenizer_kwargs()
    )
    config = BertConfig(type_vocab_size=2, **_bert_like_config_kwargs(tokenizer))
    # BertForPreTraining (like bert-base-uncased) also stores the pooler weights.
    return tokenizer, lambda: BertForPreTraining(config)


def _build_roberta() -> _Built:
    from transformers import (
        RobertaConfig,
        RobertaForMaskedLM,
        RobertaModel,
        RobertaTokenizerFast,
    )

    vocab, merges = _bpe_vocab_and_merges(_train_byte_level_bpe(_ROBERTA_SPECIALS))
    tokenizer = RobertaTokenizerFast(
        vocab=vocab, merges=merges, add_prefix_space=False, **_common_tokenizer_kwargs()
    )
    kwargs = _bert_like_config_kwargs(tokenizer)
    # RoBERTa positions start at pad_token_id + 1, hence the two extra rows.
    kwargs["max_position_embeddings"] = MAX_LENGTH + tokenizer.pad_token_id + 1
    config = RobertaConfig(
        type_vocab_size=1,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **kwargs,
    )

    def make_model() -> Any:
        # Like roberta-base, the checkpoint also holds the base model's pooler so
        # that ``AutoModel`` loads without newly initialised weights.
        pooler = RobertaModel(config).pooler
        model = RobertaForMaskedLM(config)
        model.roberta.pooler = pooler
        return model

    return tokenizer, make_model


def _build_deberta_v2() -> _Built:
    from transformers import DebertaV2Config, DebertaV2ForMaskedLM, DebertaV2Tokenizer

    vocab = _unigram_vocab()
    tokenizer = DebertaV2Tokenizer(
        vocab=vocab,
        unk_id=_BERT_SPECIALS.index("[UNK]"),
        do_lower_case=False,
        **_common_tokenizer_kwargs(),
    )
    # DeBERTa-v3 style: relative attention only, no absolute positions or types.
    config = DebertaV2Config(
        type_vocab_size=0,
        relative_attention=True,
        position_biased_input=False,
        pos_att_type=["p2c", "c2p"],
        max_relative_positions=-1,
        position_buckets=64,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        **_bert_like_config_kwargs(tokenizer),
    )
    return tokenizer, lambda: DebertaV2ForMaskedLM(config)


def _build_distilbert() -> _Built:
    from transformers import (
        DistilBertConfig,
        DistilBertForMaskedLM,
        DistilBertTokenizerFast,
    )

    tokenizer = DistilBertTokenizerFast(
        vocab=_wordpiece_vocab(), do_lower_case=True, **_common_tokenizer_kwargs()
    )
    config = DistilBertConfig(
        vocab_size=len(tokenizer),
        dim=HIDDEN_SIZE,
        n_layers=NUM_LAYERS,
        n_heads=NUM_HEADS,
        hidden_dim=INTERMEDIATE_SIZE,
        max_position_embeddings=MAX_LENGTH,
        pad_token_id=tokenizer.pad_token_id,
    )
    return tokenizer, lambda: DistilBertForMaskedLM(config)


def _build_electra() -> _Built:
    from transformers import BertTokenizerFast, ElectraConfig, ElectraForMaskedLM

    tokenizer = BertTokenizerFast(
        vocab=_wordpiece_vocab(), do_lower_case=True, **_common_tokenizer_kwargs()
    )
    config = ElectraConfig(
        embedding_size=HIDDEN_SIZE,
        type_vocab_size=2,
        **_bert_like_config_kwargs(tokenizer),
    )
    return tokenizer, lambda: ElectraForMaskedLM(config)


def _build_modernbert() -> _Built:
    from tokenizers import processors
    from transformers import (
        ModernBertConfig,
        ModernBertForMaskedLM,
        PreTrainedTokenizerFast,
    )

    backend = _train_byte_level_bpe(_BERT_SPECIALS)
    cls_id = backend.token_to_id("[CLS]")
    sep_id = backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:0 [SEP]:0",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    # Like answerdotai/ModernBERT-base: a generic fast tokenizer without types.
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "attention_mask"],
        **_common_tokenizer_kwargs(),
    )
    config = ModernBertConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        intermediate_size=INTERMEDIATE_SIZE,
        num_hidden_layers=NUM_LAYERS,
        num_attention_heads=NUM_HEADS,
        max_position_embeddings=MAX_LENGTH,
        # One global and one sliding-window (local) attention layer.
        layer_types=["full_attention", "sliding_attention"],
        local_attention=16,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=cls_id,
        eos_token_id=sep_id,
        cls_token_id=cls_id,
        sep_token_id=sep_id,
    )
    return tokenizer, lambda: ModernBertForMaskedLM(config)


_BUILDERS: dict[str, Callable[[], _Built]] = {
    "bert": _build_bert,
    "roberta": _build_roberta,
    "deberta-v2": _build_deberta_v2,
    "distilbert": _build_distilbert,
    "electra": _build_electra,
    "modernbert": _build_modernbert,
}


def _unique(items: list[Any]) -> list[Any]:
    """Drop duplicates, keeping the first occurrence."""
    return list(dict.fromkeys(items))
