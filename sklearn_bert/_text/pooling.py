"""Pooling token embeddings into one vector per sequence.

Pure functions of ``(hidden_states, attention_mask)``; no model state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported by callers, keeping the package import light
    import torch

POOLINGS = ("mean", "cls", "max")


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors where ``mask`` is 1."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    total = (hidden * weights).sum(dim=1)
    return total / weights.sum(dim=1).clamp(min=1e-9)


def cls_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The vector of the first token (``[CLS]`` / ``<s>``)."""
    return hidden[:, 0]


def max_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Element-wise maximum over the token vectors where ``mask`` is 1."""
    import torch

    fill = torch.finfo(hidden.dtype).min
    return hidden.masked_fill(mask.unsqueeze(-1) == 0, fill).max(dim=1).values


_POOLERS = {"mean": mean_pool, "cls": cls_pool, "max": max_pool}


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """Pool ``hidden`` (batch, tokens, dim) with ``pooling`` in POOLINGS."""
    return _POOLERS[pooling](hidden, mask)


def pool_chunks(
    embeddings: torch.Tensor,
    owners: torch.Tensor,
    weights: torch.Tensor,
    n_samples: int,
    pooling: str,
) -> torch.Tensor:
    """Pool chunk embeddings of long texts into one vector per text.

    Parameters
    ----------
    embeddings : Tensor of shape (n_chunks, dim)
    owners : LongTensor of shape (n_chunks,)
        The text each chunk comes from.
    weights : Tensor of shape (n_chunks,)
        Number of real tokens per chunk, used to weight the mean.
    n_samples : int
    pooling : str
        ``"max"`` takes the element-wise maximum over chunks; otherwise a
        token-count weighted mean (the first chunk's ``[CLS]`` alone would
        ignore the rest of the text).
    """
    import torch

    dim = embeddings.shape[1]
    if pooling == "max":
        out = torch.full((n_samples, dim), torch.finfo(embeddings.dtype).min)
        out = out.to(embeddings)
        return out.scatter_reduce(
            0, owners.unsqueeze(1).expand(-1, dim), embeddings, reduce="amax"
        )
    w = weights.to(embeddings.dtype).unsqueeze(1)
    total = torch.zeros((n_samples, dim), dtype=embeddings.dtype)
    total = total.index_add(0, owners, embeddings * w)
    norm = torch.zeros((n_samples, 1), dtype=embeddings.dtype).index_add(0, owners, w)
    return total / norm.clamp(min=1e-9)
