"""torch parts of the token classifier: the logits module and the per-row loss.

:class:`TokenLogits` exposes ``encoder`` and ``head_modules()`` like the
sequence modules, so ``_sequence.freeze`` and ``_sequence.set_head_dropout``
apply to it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._skorch import IGNORE_INDEX


class TokenLogits(nn.Module):
    """A Hugging Face token classification model returning only its logits.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        An ``AutoModelForTokenClassification`` model.
    input_names : set of str
        The inputs its ``forward`` accepts (``token_type_ids`` is dropped for
        models without token types).
    """

    def __init__(self, model: Any, input_names: set[str]):
        super().__init__()
        self.model = model
        self.input_names = set(input_names)

    @property
    def encoder(self) -> nn.Module:
        return self.model.base_model

    def head_modules(self) -> list[nn.Module]:
        """Modules outside the encoder (dropout, classification layer, ...)."""
        prefix = self.model.base_model_prefix
        return [m for n, m in self.model.named_children() if n != prefix]

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and "token_type_ids" in self.input_names:
            kwargs["token_type_ids"] = token_type_ids
        return self.model(**kwargs).logits


class TokenLoss(nn.Module):
    """Per-row mean of the token cross-entropies, ignoring ``IGNORE_INDEX``.

    Returns one loss per row (shape ``(batch,)``): the sum of the labelled
    tokens' (class-weighted) cross-entropies divided by their number. A row
    without labelled tokens has loss 0 (its row weight should be 0).

    Parameters
    ----------
    class_weight : tensor of shape (n_classes,) or None
        Weight of each class's tokens.
    """

    def __init__(self, class_weight: torch.Tensor | None = None):
        super().__init__()
        self.register_buffer(
            "class_weight", None if class_weight is None else class_weight.float()
        )

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target[:, : logits.shape[1]]
        weight = None
        if self.class_weight is not None:
            weight = self.class_weight.to(logits.device)
        losses = nn.functional.cross_entropy(
            logits.transpose(1, 2),
            target,
            weight=weight,
            ignore_index=IGNORE_INDEX,
            reduction="none",
        )
        count = (target != IGNORE_INDEX).sum(dim=1)
        return losses.sum(dim=1) / count.clamp(min=1)
