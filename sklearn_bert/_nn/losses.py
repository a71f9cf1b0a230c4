"""Per-row losses of the task modules.

Every loss returns one value per row (shape ``(batch,)``), except
:class:`MaskedLMLoss` which returns the batch's mean over masked tokens; the
training loop weights rows (see ``_engine.net.BertNet.get_loss``). Each loss
describes itself with :meth:`spec` (plain Python values) so that a fitted net
pickles without torch objects, and is rebuilt with :func:`loss_from_spec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

#: Label of positions that carry no target (padding, non-first sub-words).
IGNORE_INDEX = -100


class RowLoss(nn.Module):
    """Base of the losses: a name and constructor arguments as plain values."""

    def spec(self) -> dict[str, Any]:
        return {}


class CrossEntropyPerRow(RowLoss):
    """Cross-entropy of each row (class-index targets)."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target.long(), reduction="none")


class BCEPerRow(RowLoss):
    """Binary cross-entropy averaged over the labels of each row."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = F.binary_cross_entropy_with_logits(
            logits, target.float(), reduction="none"
        )
        return loss.mean(dim=1)


class MSEPerRow(RowLoss):
    """Squared error averaged over the outputs of each row."""

    def forward(self, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((outputs - target.float()) ** 2).mean(dim=1)


class TokenLoss(RowLoss):
    """Per-row mean of the token cross-entropies, ignoring ``IGNORE_INDEX``.

    A row's loss is the sum of its labelled tokens' cross-entropies, each
    multiplied by its tag's weight, divided by the number of labelled tokens
    (not by the sum of their weights: a tag weight means repetition, as a
    class weight does in the sequence classifier). A row without labelled
    tokens has loss 0.

    Parameters
    ----------
    class_weight : sequence of float or None
        Weight of each tag's tokens.
    """

    def __init__(self, class_weight: Sequence[float] | None = None):
        super().__init__()
        self.class_weight = None if class_weight is None else list(class_weight)

    def spec(self) -> dict[str, Any]:
        return {"class_weight": self.class_weight}

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target[:, : logits.shape[1]]
        weight = None
        if self.class_weight is not None:
            weight = torch.as_tensor(
                self.class_weight, dtype=logits.dtype, device=logits.device
            )
        losses = F.cross_entropy(
            logits.transpose(1, 2),
            target,
            weight=weight,
            ignore_index=IGNORE_INDEX,
            reduction="none",
        )
        count = (target != IGNORE_INDEX).sum(dim=1)
        return losses.sum(dim=1) / count.clamp(min=1)


class SpanLoss(RowLoss):
    """Per-row mean of the start and end token cross-entropies.

    Targets are ``(batch, k)`` integers whose first two columns are the start
    and end token positions (further columns are ignored).
    """

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        start = F.cross_entropy(logits[..., 0], target[:, 0], reduction="none")
        end = F.cross_entropy(logits[..., 1], target[:, 1], reduction="none")
        return (start + end) / 2


class MaskedLMLoss(RowLoss):
    """Mean cross-entropy over the masked tokens of a batch (a scalar).

    Every masked token weighs the same: a per-row weighting would favour the
    tokens of short texts.
    """

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        target = labels[labels != IGNORE_INDEX]
        total = F.cross_entropy(logits, target, reduction="sum")
        return total / max(int(target.numel()), 1)


class PairCosineLoss(RowLoss):
    """Contrastive loss over every pair of rows of a batch (a scalar).

    For rows ``i != j`` the cosine similarity of their vectors is pulled
    towards the pair's target similarity: 1 for the same class and 0 for
    different ones (``targets="labels"``), the Jaccard similarity of label
    sets (``"sets"``), or ``1 - |y_i - y_j|`` for targets scaled to [0, 1]
    (``"values"``); the loss is the mean squared difference. With class
    labels, similar and dissimilar pairs weigh half each, whatever their
    numbers in the batch (as SetFit balances its pairs). Each batch of ``b``
    rows gives ``b (b - 1) / 2`` pairs for ``b`` forward passes.

    Parameters
    ----------
    targets : {"labels", "sets", "values"}
        What the row targets are (see above).
    """

    def __init__(self, targets: str = "labels"):
        super().__init__()
        self.targets = targets

    def spec(self) -> dict[str, Any]:
        return {"targets": self.targets}

    def forward(self, vectors: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        n = vectors.shape[0]
        if n < 2:
            return vectors.sum() * 0.0
        unit = F.normalize(vectors.float(), dim=1)
        cosine = unit @ unit.T
        upper = torch.triu(torch.ones(n, n, dtype=torch.bool, device=vectors.device), 1)
        similarity = self._similarity(target.to(vectors.device))
        errors = (cosine - similarity)[upper] ** 2
        if self.targets != "labels":
            return errors.mean()
        same = similarity[upper] > 0.5
        losses = [errors[part].mean() for part in (same, ~same) if part.any()]
        return torch.stack(losses).mean()

    def _similarity(self, target: torch.Tensor) -> torch.Tensor:
        if self.targets == "labels":
            return (target[:, None] == target[None, :]).float()
        if self.targets == "sets":
            sets = target.float()
            both = sets @ sets.T
            either = sets.sum(1)[:, None] + sets.sum(1)[None, :] - both
            return torch.where(either > 0, both / either.clamp(min=1), 1.0)
        values = target.float().reshape(len(target), -1)
        return 1.0 - torch.cdist(values, values, p=1) / values.shape[1]


_LOSSES = {
    cls.__name__: cls
    for cls in (
        CrossEntropyPerRow,
        BCEPerRow,
        MSEPerRow,
        TokenLoss,
        SpanLoss,
        MaskedLMLoss,
        PairCosineLoss,
    )
}


def loss_to_spec(loss: RowLoss) -> tuple[str, dict[str, Any]]:
    """A loss as ``(class name, constructor arguments)``."""
    return type(loss).__name__, loss.spec()


def loss_from_spec(spec: tuple[str, dict[str, Any]]) -> RowLoss:
    """Inverse of :func:`loss_to_spec` (only this module's losses)."""
    name, kwargs = spec
    if name not in _LOSSES:
        raise ValueError(f"Unknown loss {name!r} in a pickled estimator.")
    return _LOSSES[name](**kwargs)
