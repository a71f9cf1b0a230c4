"""Batches of tokenized rows: length-sorted order and right padding."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np


def pad_batch(
    features: Sequence[Mapping[str, Sequence[int]]], pad_token_id: int
) -> dict[str, Any]:
    """Right-pad a batch to its longest row; returns CPU ``int64`` tensors.

    Every key of the rows (``input_ids``, ``token_type_ids``, ...) is padded,
    ``input_ids`` with ``pad_token_id`` and the others with 0, and an
    ``attention_mask`` is added.
    """
    import torch

    lengths = np.fromiter((len(f["input_ids"]) for f in features), dtype=np.int64)
    width = int(lengths.max())
    filled = np.arange(width)[None, :] < lengths[:, None]
    out: dict[str, Any] = {}
    for key in features[0]:
        fill = pad_token_id if key == "input_ids" else 0
        block = np.full((len(features), width), fill, dtype=np.int64)
        block[filled] = np.concatenate([np.asarray(f[key]) for f in features])
        out[key] = torch.from_numpy(block)
    out["attention_mask"] = torch.from_numpy(filled.astype(np.int64))
    return out


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Indices in batches of similar length, longest first."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
