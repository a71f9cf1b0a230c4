"""torch modules of the question answerer: span logits and their loss."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

#: Logit of padding positions: no span can start or end there.
_MASKED_LOGIT = -1e4


class QAModule(nn.Module):
    """A Hugging Face ``*ForQuestionAnswering`` model returning stacked logits.

    ``forward`` returns a ``(batch, tokens, 2)`` tensor of start (``[..., 0]``)
    and end (``[..., 1]``) logits, padding positions masked out.
    """

    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        out = self.model(**inputs)
        logits = torch.stack([out.start_logits, out.end_logits], dim=-1)
        return logits.masked_fill(attention_mask[..., None] == 0, _MASKED_LOGIT)


class SpanLoss(nn.Module):
    """Per-row mean of the start and end token cross-entropies.

    Targets are ``(batch, k)`` integers whose first two columns are the start
    and end token positions (further columns are ignored).
    """

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred = y_pred.float()
        start = F.cross_entropy(y_pred[..., 0], y_true[:, 0], reduction="none")
        end = F.cross_entropy(y_pred[..., 1], y_true[:, 1], reduction="none")
        return (start + end) / 2


def set_dropout(model: nn.Module, p: float) -> None:
    """Set the probability of every ``nn.Dropout`` layer of ``model``."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = float(p)
