"""Which weights train, and the dropout of task heads."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def freeze_layers(
    encoder: nn.Module, freeze_encoder: bool, trainable_layers: int | None
) -> None:
    """Freeze the encoder's weights as asked.

    ``freeze_encoder=True`` freezes all of the encoder. Otherwise
    ``trainable_layers=k`` keeps only the top ``k`` transformer layers
    trainable (embeddings and lower layers frozen); None trains everything.
    """
    if not freeze_encoder and trainable_layers is None:
        return
    for p in encoder.parameters():
        p.requires_grad_(False)
    if freeze_encoder or trainable_layers == 0:
        return
    for layer in encoder_layers(encoder)[-int(trainable_layers) :]:
        for p in layer.parameters():
            p.requires_grad_(True)


def encoder_layers(encoder: nn.Module) -> list[nn.Module]:
    """The stack of transformer blocks of any supported family."""
    best: list[nn.Module] = []
    for _, child in encoder.named_modules():
        if isinstance(child, nn.ModuleList) and len(child) > len(best):
            best = list(child)
    if not best:
        raise ValueError("Could not find the transformer layers of this encoder.")
    return best


def unfreeze(module: nn.Module) -> None:
    """Make every weight of ``module`` trainable again."""
    for p in module.parameters():
        p.requires_grad_(True)


def train_heads(head_modules: list[nn.Module], encoder: nn.Module) -> None:
    """Make the heads' own weights trainable; a weight a head shares with the
    encoder (a masked-LM decoder tied to the word embeddings) stays as the
    encoder's freezing left it."""
    shared = {id(p) for p in encoder.parameters()}
    for head in head_modules:
        for p in head.parameters():
            if id(p) not in shared:
                p.requires_grad_(True)


class InputDropout:
    """A forward pre-hook applying dropout to a layer's input in training."""

    def __init__(self, p: float):
        self.p = float(p)

    def __call__(self, module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return (F.dropout(args[0], self.p, module.training), *args[1:])


def set_head_dropout(
    head_modules: list[nn.Module], output_layer: nn.Linear, p: float
) -> None:
    """Use dropout ``p`` before a task head's output layer, in training.

    The head's own dropout layers get probability ``p``; a head without any
    (the span head of BERT-style question answering) gets a dropout on the
    input of its output layer, so that ``dropout`` means the same in every
    estimator. The encoder's own dropout stays as its config says.
    """
    layers = [
        m for head in head_modules for m in head.modules() if isinstance(m, nn.Dropout)
    ]
    for layer in layers:
        layer.p = float(p)
    if not layers and p > 0:
        output_layer.register_forward_pre_hook(InputDropout(p))


def last_linear(modules: list[nn.Module]) -> nn.Linear:
    """The last ``nn.Linear`` among ``modules`` (a head's output layer)."""
    last = None
    for head in modules:
        for m in head.modules():
            if isinstance(m, torch.nn.Linear):
                last = m
    if last is None:
        raise ValueError("Could not find the output layer of the head.")
    return last
