"""The one batching loop: tokenize, sort by length, pad per batch, run, pool.

Each distinct row is encoded once; results are scattered back to the input
order. Long texts are truncated or split into overlapping chunks.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import TextInput

LONG_TEXT_OPTIONS = ("truncate", "chunk")


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
    enc = tokenizer(
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
        n_truncated = _count_truncated(tokenizer, text_input, max_length, enc)
    return Tokenized(features, owners, len(text_input), n_truncated)


def _pair_stride(
    tokenizer: Any, firsts: list[str], max_length: int, stride: int
) -> int:
    """The chunk overlap for pairs chunked along their second text.

    The room left for the second text is what the longest first text leaves;
    the tokenizer needs the overlap to be smaller than that room.
    """
    longest = max(
        len(ids) for ids in tokenizer(firsts, add_special_tokens=False)["input_ids"]
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


def _count_truncated(tokenizer, text_input, max_length, enc) -> int:
    full = [len(ids) for ids in enc["input_ids"]]
    candidates = [i for i, n in enumerate(full) if n >= max_length]
    if not candidates:
        return 0
    sub = TextInput(
        [text_input.texts[i] for i in candidates],
        None if text_input.pairs is None else [text_input.pairs[i] for i in candidates],
    )
    raw = tokenizer(sub.texts, sub.pairs, truncation=False, verbose=False)
    return sum(len(ids) > max_length for ids in raw["input_ids"])


def warn_truncated(n_truncated: int, max_length: int) -> None:
    if n_truncated:
        warnings.warn(
            f"{n_truncated} text(s) are longer than max_length={max_length} tokens "
            "and were truncated. Pass long_text='chunk' to encode them whole in "
            "overlapping chunks, or raise max_length.",
            UserWarning,
            stacklevel=3,
        )


def pad_batch(
    features: Sequence[dict[str, list[int]]], pad_token_id: int
) -> dict[str, Any]:
    """Right-pad a batch to its longest member; returns CPU tensors."""
    import torch

    width = max(len(f["input_ids"]) for f in features)
    out: dict[str, Any] = {}
    for key in features[0]:
        fill = pad_token_id if key == "input_ids" else 0
        rows = [f[key] + [fill] * (width - len(f[key])) for f in features]
        out[key] = torch.tensor(rows, dtype=torch.long)
    out["attention_mask"] = torch.tensor(
        [
            [1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"]))
            for f in features
        ],
        dtype=torch.long,
    )
    return out


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length, longest first."""
    order = np.argsort(-lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


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


def embed(
    forward: Callable[[dict[str, Any]], Any],
    tokenizer: Any,
    text_input: TextInput,
    *,
    max_length: int,
    pooling: str,
    batch_size: int,
    device: Any,
    precision: str = "float32",
    long_text: str = "truncate",
    stride: int = 0,
    normalize: bool = False,
    input_names: set[str] | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Encode rows into pooled float32 embeddings, in input order.

    ``forward`` maps a padded batch (tensors on ``device``) to the last hidden
    states ``(batch, tokens, dim)``.
    """
    import torch

    from ._device import autocast
    from ._pooling import pool, pool_chunks

    uniq, inverse = unique_rows(text_input)
    tok = tokenize(
        tokenizer,
        uniq,
        max_length=max_length,
        long_text=long_text,
        stride=stride,
        input_names=input_names,
    )
    warn_truncated(tok.n_truncated, max_length)
    lengths = tok.lengths()
    batches = list(length_sorted_batches(lengths, batch_size))
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="Encoding", unit="batch")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    chunk_vectors: list[Any] = [None] * len(tok.features)
    with torch.inference_mode(), autocast(device, precision):
        for idx in batches:
            batch = pad_batch([tok.features[i] for i in idx], pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            hidden = forward(batch)
            pooled = pool(hidden.float(), batch["attention_mask"], pooling).cpu()
            for row, i in enumerate(idx):
                chunk_vectors[i] = pooled[row]
    vectors = torch.stack(chunk_vectors)
    if len(tok.features) != tok.n_rows:
        vectors = pool_chunks(
            vectors,
            torch.as_tensor(tok.owners),
            torch.as_tensor(lengths, dtype=torch.float32),
            tok.n_rows,
            pooling,
        )
    if normalize:
        vectors = torch.nn.functional.normalize(vectors, dim=1)
    return vectors.numpy().astype(np.float32, copy=False)[inverse]
