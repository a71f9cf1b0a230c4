"""Batches of tokenized rows: length-sorted order and right padding."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

#: Separates a feature's name from the number of the text it belongs to, for
#: rows holding several texts encoded separately (``input_ids.1``).
TEXT_SEP = "."


def text_key(key: str, text: int) -> str:
    """The name of feature ``key`` of the ``text``-th text of a row (0: ``key``)."""
    return key if text == 0 else f"{key}{TEXT_SEP}{text}"


def is_row_vector(value: Any) -> bool:
    """Whether a row's feature is one fixed-size float vector (tabular values),
    not a sequence of token-level ids."""
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def row_length(features: Mapping[str, Any]) -> int:
    """Tokens of a row: of its text, or of all its texts encoded separately."""
    return sum(
        len(value)
        for key, value in features.items()
        if key.partition(TEXT_SEP)[0] == "input_ids"
    )


def pad_batch(
    features: Sequence[Mapping[str, Sequence[int]]], pad_token_id: int
) -> dict[str, Any]:
    """Right-pad a batch to its longest row; returns CPU tensors.

    Every token-level key of the rows (``input_ids``, ``token_type_ids``, ...)
    is padded, ``input_ids`` with ``pad_token_id`` and the others with 0, into
    ``int64`` tensors, and an ``attention_mask`` is added. A row holding
    several texts encoded separately names the features of its ``j``-th text
    ``input_ids.j``, ``token_type_ids.j``, ... (see :func:`text_key`): each
    text is padded to its own longest row, with its own ``attention_mask.j``.
    Row-level float vectors (NumPy float arrays, such as tabular features)
    are stacked into one ``float32`` tensor instead.
    """
    import torch

    first = features[0]
    out: dict[str, Any] = {}
    for key, value in first.items():
        if is_row_vector(value):
            out[key] = torch.from_numpy(
                np.stack([np.asarray(f[key], dtype=np.float32) for f in features])
            )
    texts = sorted(
        {
            key.partition(TEXT_SEP)[2]
            for key, value in first.items()
            if not is_row_vector(value)
        }
    )
    for suffix in texts:
        ids = text_key("input_ids", int(suffix or 0))
        lengths = np.fromiter((len(f[ids]) for f in features), dtype=np.int64)
        width = int(lengths.max())
        filled = np.arange(width)[None, :] < lengths[:, None]
        for key, value in first.items():
            if is_row_vector(value) or key.partition(TEXT_SEP)[2] != suffix:
                continue
            fill = pad_token_id if key == ids else 0
            block = np.full((len(features), width), fill, dtype=np.int64)
            block[filled] = np.concatenate(
                [np.asarray(f[key], dtype=np.int64) for f in features]
            )
            out[key] = torch.from_numpy(block)
        out[text_key("attention_mask", int(suffix or 0))] = torch.from_numpy(
            filled.astype(np.int64)
        )
    return out


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length, longest first."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
