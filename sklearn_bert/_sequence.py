"""Sequence-level modules: an encoder with a pooled head, and their persistence.

Two module layouts, both returning logits of shape ``(batch, n_outputs)``:

- ``pooling="cls"``: :class:`HFSequenceModule` wraps the family's own
  ``AutoModelForSequenceClassification`` (its head on the first token), so a
  folder written by :func:`save_sequence_model` reloads exactly with
  transformers.
- ``pooling="mean"`` / ``"max"``: :class:`PooledHeadModule`, an ``AutoModel``
  encoder, the pooling of :mod:`._pooling`, dropout and one linear layer.
  Saving writes the encoder as a standard folder (transformers adds a fresh
  head of its own when loading it for sequence classification) plus the
  linear head in ``sklearn_bert_head.safetensors``, which the estimators
  restore when they start from that folder with the same pooling.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._pooling import pool

#: File holding the linear head of a mean/max pooled model.
HEAD_FILE = "sklearn_bert_head.safetensors"
#: Config attribute recording how a folder was saved.
CONFIG_KEY = "sklearn_bert"


class HFSequenceModule(torch.nn.Module):
    """A transformers sequence-classification model returning its logits."""

    def __init__(self, hf_model: torch.nn.Module):
        super().__init__()
        self.hf_model = hf_model

    @property
    def encoder(self) -> torch.nn.Module:
        return self.hf_model.base_model

    def head_modules(self) -> list[torch.nn.Module]:
        """Modules outside the encoder's layers (the task head and pooler)."""
        prefix = self.hf_model.base_model_prefix
        heads = [m for n, m in self.hf_model.named_children() if n != prefix]
        pooler = getattr(self.encoder, "pooler", None)
        # the pooler runs first: the output layer is the last linear of ``heads``
        return ([pooler] if pooler is not None else []) + heads

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        return self.hf_model(**batch).logits


class PooledHeadModule(torch.nn.Module):
    """Encoder, pooling (mean or max), dropout and a linear layer."""

    def __init__(
        self, encoder: torch.nn.Module, n_outputs: int, pooling: str, dropout: float
    ):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(int(encoder.config.hidden_size), n_outputs)
        std = getattr(encoder.config, "initializer_range", 0.02)
        torch.nn.init.normal_(self.head.weight, std=std)
        torch.nn.init.zeros_(self.head.bias)

    def head_modules(self) -> list[torch.nn.Module]:
        return [self.head]

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(**batch).last_hidden_state
        pooled = pool(hidden, batch["attention_mask"], self.pooling)
        return self.head(self.dropout(pooled.to(self.head.weight.dtype)))


class CrossEntropyPerRow(torch.nn.Module):
    """Cross-entropy of each row (class-index targets)."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(
            logits, target.long(), reduction="none"
        )


class BCEPerRow(torch.nn.Module):
    """Binary cross-entropy averaged over the labels of each row."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, target.float(), reduction="none"
        )
        return loss.mean(dim=1)


class MSEPerRow(torch.nn.Module):
    """Squared error averaged over the outputs of each row."""

    def forward(self, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((outputs - target.float()) ** 2).mean(dim=1)


def set_head_dropout(module: HFSequenceModule, dropout: float) -> None:
    """Use ``dropout`` in the head of a transformers model (not its encoder)."""
    for head in module.head_modules():
        for m in head.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = dropout


def freeze(module: torch.nn.Module, freeze_encoder: bool, trainable_layers) -> None:
    """Freeze the encoder as asked; the head (and a pooler) always train."""
    from ._skorch import freeze_layers

    freeze_layers(module.encoder, freeze_encoder, trainable_layers)
    for head in module.head_modules():
        for p in head.parameters():
            p.requires_grad_(True)


def build_module(
    tokenizer_and_model: tuple[Any, Any],
    *,
    pooling: str,
    n_outputs: int,
    dropout: float,
    head_state: dict[str, torch.Tensor] | None = None,
) -> torch.nn.Module:
    """Wrap a loaded model (task "sequence" for cls, "base" otherwise)."""
    _, model = tokenizer_and_model
    if pooling == "cls":
        module = HFSequenceModule(model)
        set_head_dropout(module, dropout)
        return module
    module = PooledHeadModule(model, n_outputs, pooling, dropout)
    if head_state is not None and tuple(head_state["weight"].shape) == tuple(
        module.head.weight.shape
    ):
        module.head.load_state_dict(head_state)
    return module


def read_saved_head(folder: str | None, pooling: str) -> dict | None:
    """The linear head saved with a mean/max model in ``folder``, if any."""
    if folder is None or pooling == "cls":
        return None
    path = Path(folder) / HEAD_FILE
    config = Path(folder) / "config.json"
    if not path.is_file() or not config.is_file():
        return None
    saved = json.loads(config.read_text()).get(CONFIG_KEY, {})
    if saved.get("pooling") != pooling:
        return None
    from safetensors.torch import load_file

    return load_file(str(path))


def output_layer(module: torch.nn.Module) -> torch.nn.Linear:
    """The last linear layer of the head (the one producing the logits)."""
    last = None
    for head in module.head_modules():
        for m in head.modules():
            if isinstance(m, torch.nn.Linear):
                last = m
    if last is None:  # pragma: no cover - every supported head has one
        raise ValueError("Could not find the output layer of the head.")
    return last


def save_sequence_model(
    module: torch.nn.Module,
    tokenizer: Any,
    path: Any,
    *,
    config_updates: dict[str, Any],
    pooling: str,
    target_mean: np.ndarray | None = None,
    target_scale: np.ndarray | None = None,
    verbose: int = 0,
) -> Path:
    """Write ``module`` as a standard Hugging Face folder.

    Regression targets standardised for training are folded into the output
    layer, so the saved model predicts on the user's scale.
    """
    from safetensors.torch import save_file

    from ._hf import save_pretrained

    module = copy.deepcopy(module).to("cpu").float()
    if target_mean is not None:
        layer = output_layer(module)
        scale = torch.as_tensor(target_scale, dtype=torch.float32)
        mean = torch.as_tensor(target_mean, dtype=torch.float32)
        with torch.no_grad():
            layer.weight.mul_(scale.unsqueeze(1))
            layer.bias.mul_(scale).add_(mean)
    hf_model = module.hf_model if pooling == "cls" else module.encoder
    config = hf_model.config
    for key, value in config_updates.items():
        setattr(config, key, value)
    setattr(config, CONFIG_KEY, {"pooling": pooling})
    path = save_pretrained(hf_model, tokenizer, path, verbose=verbose)
    if pooling != "cls":
        state = {k: v.contiguous() for k, v in module.head.state_dict().items()}
        save_file(state, str(Path(path) / HEAD_FILE))
    return path
