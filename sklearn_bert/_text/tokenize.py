"""Tokenization of text rows: limits, truncation or chunking, distinct rows.

Rows are tokenized without padding (batches are padded later, to their own
longest row); long texts are truncated (counted, for one warning) or split
into overlapping chunks that remember the row they come from.
"""

from __future__ import annotations

import inspect
import threading
import warnings
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from .inputs import TextInput

LONG_TEXT_OPTIONS = ("truncate", "chunk")


_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_locks_lock = threading.Lock()


def call_tokenizer(tokenizer: Any, *args: Any, **kwargs: Any) -> Any:
    """``tokenizer(*args, **kwargs)``, holding the tokenizer's lock.

    A fast tokenizer keeps its truncation and padding settings in state that
    every call sets before encoding (and the encoding releases the GIL), so
    concurrent calls with different settings (``predict`` from several
    threads, one of them counting truncated texts) would tokenize with each
    other's settings. Every call of the library goes through here.
    """
    with _locks_lock:
        lock = _locks.get(tokenizer)
        if lock is None:
            lock = _locks[tokenizer] = threading.Lock()
    with lock:
        return tokenizer(*args, **kwargs)


def effective_max_length(tokenizer: Any, config: Any, max_length: int | None) -> int:
    """``max_length`` capped by what the model's position embeddings allow."""
    limits = [512 if max_length is None else max_length]
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max is not None and model_max < 100_000:
        limits.append(int(model_max))
    positions = getattr(config, "max_position_embeddings", None)
    if positions:
        # RoBERTa-style models offset positions by padding_idx + 1.
        offset = 2 if getattr(config, "model_type", "") in {"roberta"} else 0
        limits.append(int(positions) - offset)
    return min(limits)


def model_input_names(model: Any) -> set[str]:
    """The tokenizer outputs a model's ``forward`` accepts."""
    params = inspect.signature(model.forward).parameters
    return {"input_ids", "attention_mask", "token_type_ids"} & set(params)


@dataclass
class Tokenized:
    """Tokenized units (whole texts or chunks) and the row each belongs to."""

    features: list[dict[str, list[int]]]
    owners: np.ndarray
    n_rows: int
    n_truncated: int = 0

    def lengths(self) -> np.ndarray:
        return np.array([len(f["input_ids"]) for f in self.features])


def tokenize(
    tokenizer: Any,
    text_input: TextInput,
    *,
    max_length: int,
    long_text: str = "truncate",
    stride: int = 0,
    input_names: set[str] | None = None,
) -> Tokenized:
    """Tokenize rows without padding; chunk long ones when asked."""
    pairs = text_input.pairs
    chunk = long_text == "chunk"
    if chunk:
        stride = min(stride, max(0, max_length // 2 - 2))
        truncation: Any = "only_second" if pairs is not None else True
    else:
        truncation = "longest_first"
    if chunk and pairs is not None:
        stride = _pair_stride(tokenizer, text_input.texts, max_length, stride)
    enc = call_tokenizer(
        tokenizer,
        text_input.texts,
        pairs,
        truncation=truncation,
        max_length=max_length,
        stride=stride if chunk else 0,
        return_overflowing_tokens=chunk,
        return_attention_mask=False,
        return_length=not chunk,
    )
    keys = [k for k in ("input_ids", "token_type_ids") if k in enc]
    if input_names is not None:
        keys = [k for k in keys if k in input_names]
    n = len(enc["input_ids"])
    features = [{k: enc[k][i] for k in keys} for i in range(n)]
    if chunk:
        owners = np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)
        n_truncated = 0
    else:
        owners = np.arange(n, dtype=np.int64)
        n_truncated = count_truncated(tokenizer, text_input, max_length, enc)
    return Tokenized(features, owners, len(text_input), n_truncated)


def _pair_stride(
    tokenizer: Any, firsts: list[str], max_length: int, stride: int
) -> int:
    """The chunk overlap for pairs chunked along their second text.

    The room left for the second text is what the longest first text leaves;
    the tokenizer needs the overlap to be smaller than that room.
    """
    longest = max(
        len(ids)
        for ids in call_tokenizer(tokenizer, firsts, add_special_tokens=False)[
            "input_ids"
        ]
    )
    room = max_length - longest - tokenizer.num_special_tokens_to_add(pair=True)
    if room < 2:
        raise ValueError(
            "With long_text='chunk', sentence pairs are split along their second "
            f"text only, and a first text of {longest} tokens leaves no room for "
            f"it within max_length={max_length} tokens. Raise max_length or use "
            "long_text='truncate'."
        )
    return min(stride, room // 2)


def count_truncated(tokenizer, text_input, max_length, enc) -> int:
    full = [len(ids) for ids in enc["input_ids"]]
    candidates = [i for i, n in enumerate(full) if n >= max_length]
    if not candidates:
        return 0
    sub = TextInput(
        [text_input.texts[i] for i in candidates],
        None if text_input.pairs is None else [text_input.pairs[i] for i in candidates],
    )
    raw = call_tokenizer(
        tokenizer, sub.texts, sub.pairs, truncation=False, verbose=False
    )
    return sum(len(ids) > max_length for ids in raw["input_ids"])


def pad_token_id(tokenizer: Any) -> int:
    """The id that pads batches (0 for tokenizers without a pad token)."""
    pad = tokenizer.pad_token_id
    return 0 if pad is None else int(pad)


def warn_truncated(n_truncated: int, max_length: int, *, can_chunk: bool) -> None:
    """One ``UserWarning`` saying how many texts lost tokens to ``max_length``.

    ``can_chunk`` says whether the estimator offers ``long_text="chunk"``.
    """
    if not n_truncated:
        return
    remedy = (
        "Pass long_text='chunk' to use them whole in overlapping chunks, or raise "
        "max_length."
        if can_chunk
        else "Raise max_length (up to the model's limit) to keep more of each text."
    )
    warnings.warn(
        f"{n_truncated} text(s) are longer than max_length={max_length} tokens and "
        f"were truncated. {remedy}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


#: Packages whose frames stand between the user's line and a warning: the
#: library, scikit-learn (pipelines, column transformers, search), joblib
#: (``Pipeline(memory=...)``, parallel workers), skorch, PyTorch and
#: Hugging Face.
_INTERNAL_PACKAGES = frozenset(
    {"sklearn_bert", "sklearn", "joblib", "skorch", "torch", "transformers"}
)


def user_stacklevel() -> int:
    """The ``stacklevel`` pointing a warning at the first frame outside the
    library and the packages it runs through (:data:`_INTERNAL_PACKAGES`:
    the user's own line), counted from the caller of this function."""
    import sys

    level = 1
    frame = sys._getframe(1)
    while frame is not None and _is_internal(frame):
        frame = frame.f_back
        level += 1
    return level


def _is_internal(frame: Any) -> bool:
    """Whether ``frame`` runs code of :data:`_INTERNAL_PACKAGES` (told by
    its module's name, so that a user's folder of any name is the user's)."""
    module = frame.f_globals.get("__name__") or ""
    return module.partition(".")[0] in _INTERNAL_PACKAGES


def unique_rows(text_input: TextInput) -> tuple[TextInput, np.ndarray]:
    """The distinct rows of ``text_input`` and the inverse mapping to them."""
    rows = text_input.rows()
    position: dict[tuple[str, ...], int] = {}
    inverse = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        inverse[i] = position.setdefault(row, len(position))
    uniq = list(position)
    texts = [r[0] for r in uniq]
    pairs = None if text_input.pairs is None else [r[1] for r in uniq]
    return TextInput(texts, pairs), inverse
