"""Task modules: a Hugging Face model with the head of one task.

Every module subclasses :class:`TaskModule`: it holds the Hugging Face model
in ``hf_model`` (loaded with the auto class named by ``hf_task``), exposes
its ``encoder``, ``head_modules()`` and ``output_layer()``, and describes its
own constructor arguments with ``spec()``, so that it can be exported as
config + safetensors and rebuilt (see :mod:`._nn.portable`).

- :class:`PooledHeadModule`: sequence classification and regression: the
  encoder, pooling of :mod:`._text.pooling` (``"cls"``, ``"mean"`` or
  ``"max"``, the same vectors ``BertTransformer`` returns), dropout and one
  linear layer.
- :class:`PooledModule`: the encoder and its pooling alone (contrastive
  fine-tuning trains the vectors themselves).
- :class:`TokenModule`: the family's token classification model.
- :class:`SpanModule`: the family's question-answering model, start and end
  logits stacked, padding masked out.
- :class:`MaskedLMModule`: the family's masked-LM model, logits at the
  masked positions only.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import torch
from torch import nn

from .._text.pooling import pool
from .freezing import last_linear, set_head_dropout

#: Logit of padding positions in span logits: no span starts or ends there.
MASKED_LOGIT = -1e4


class TaskModule(nn.Module):
    """Base of the task modules (see the module docstring)."""

    #: Auto class family of ``hf_model`` (a key of ``_io.loading.AUTO_CLASSES``).
    hf_task: ClassVar[str] = "base"

    hf_model: nn.Module

    @property
    def encoder(self) -> nn.Module:
        """The Hugging Face base model (embeddings and transformer layers)."""
        return self.hf_model.base_model

    def head_modules(self) -> list[nn.Module]:
        """Modules outside the encoder (they always train)."""
        prefix = self.hf_model.base_model_prefix
        return [m for n, m in self.hf_model.named_children() if n != prefix]

    def output_layer(self) -> nn.Linear:
        """The linear layer producing the outputs."""
        return last_linear(self.head_modules())

    def spec(self) -> dict[str, Any]:
        """Constructor arguments besides ``hf_model``, as plain values."""
        return {}

    @classmethod
    def from_spec(cls, hf_model: nn.Module, spec: dict[str, Any]) -> TaskModule:
        return cls(hf_model, **spec)

    @staticmethod
    def _inputs(input_ids, attention_mask, token_type_ids):
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        return inputs


class PooledHeadModule(TaskModule):
    """Encoder, pooling, dropout and a linear layer (texts and pairs).

    Parameters
    ----------
    hf_model : transformers.PreTrainedModel
        An ``AutoModel`` encoder.
    n_outputs : int
        Classes, labels or regression targets.
    pooling : {"cls", "mean", "max"}
        How the token vectors of the last layer become one vector.
    dropout : float
        Dropout before the linear layer, in training.
    """

    hf_task = "base"

    def __init__(
        self, hf_model: nn.Module, n_outputs: int, pooling: str, dropout: float
    ):
        super().__init__()
        self.hf_model = hf_model
        self.n_outputs = int(n_outputs)
        self.pooling = pooling
        self.dropout = nn.Dropout(float(dropout))
        self.head = new_head(
            int(hf_model.config.hidden_size), self.n_outputs, hf_model.config
        )

    @property
    def encoder(self) -> nn.Module:
        return self.hf_model

    def head_modules(self) -> list[nn.Module]:
        return [self.dropout, self.head]

    def spec(self) -> dict[str, Any]:
        return {
            "n_outputs": self.n_outputs,
            "pooling": self.pooling,
            "dropout": self.dropout.p,
        }

    def pooled(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        """The pooled vector of each row (what ``BertTransformer`` returns)."""
        inputs = self._inputs(input_ids, attention_mask, token_type_ids)
        hidden = self.hf_model(**inputs).last_hidden_state
        return pool(hidden, attention_mask, self.pooling)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        pooled = self.pooled(input_ids, attention_mask, token_type_ids)
        return self.head(self.dropout(pooled.to(self.head.weight.dtype)))


class PooledModule(TaskModule):
    """The encoder and its pooling, returning one vector per row.

    What :class:`~sklearn_bert.BertTransformer` returns, as a module to train
    with a loss on the vectors themselves (contrastive fine-tuning).

    Parameters
    ----------
    hf_model : transformers.PreTrainedModel
        An ``AutoModel`` encoder.
    pooling : {"cls", "mean", "max"}
        How the token vectors of the last layer become one vector.
    """

    hf_task = "base"

    def __init__(self, hf_model: nn.Module, pooling: str):
        super().__init__()
        self.hf_model = hf_model
        self.pooling = pooling

    @property
    def encoder(self) -> nn.Module:
        return self.hf_model

    def head_modules(self) -> list[nn.Module]:
        return []

    def spec(self) -> dict[str, Any]:
        return {"pooling": self.pooling}

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        inputs = self._inputs(input_ids, attention_mask, token_type_ids)
        hidden = self.hf_model(**inputs).last_hidden_state
        return pool(hidden, attention_mask, self.pooling)


class FamilyHeadModule(TaskModule):
    """A task model of the family (its own head) with our ``dropout``."""

    def __init__(self, hf_model: nn.Module, dropout: float):
        super().__init__()
        self.hf_model = hf_model
        self.dropout = float(dropout)
        set_head_dropout(self.head_modules(), self.output_layer(), self.dropout)

    def spec(self) -> dict[str, Any]:
        return {"dropout": self.dropout}


class TokenModule(FamilyHeadModule):
    """A token classification model returning its logits ``(batch, tokens, k)``.

    Parameters
    ----------
    hf_model : transformers.PreTrainedModel
        An ``AutoModelForTokenClassification`` model.
    dropout : float
        Dropout of the head, before its output layer.
    """

    hf_task = "token"

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        inputs = self._inputs(input_ids, attention_mask, token_type_ids)
        return self.hf_model(**inputs).logits


class SpanModule(FamilyHeadModule):
    """A question-answering model returning ``(batch, tokens, 2)`` logits.

    ``[..., 0]`` are the start and ``[..., 1]`` the end logits; padding
    positions are set to :data:`MASKED_LOGIT`.

    Parameters
    ----------
    hf_model : transformers.PreTrainedModel
        An ``AutoModelForQuestionAnswering`` model.
    dropout : float
        Dropout before the span layer, in training.
    """

    hf_task = "qa"

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        out = self.hf_model(**self._inputs(input_ids, attention_mask, token_type_ids))
        logits = torch.stack([out.start_logits, out.end_logits], dim=-1)
        return logits.masked_fill(attention_mask[..., None] == 0, MASKED_LOGIT)


class MaskedLMModule(TaskModule):
    """A masked-LM model returning the logits at the masked positions.

    ``forward`` takes the padded batch and ``mlm_mask`` (where labels are
    set) and returns ``(n_masked, vocab)`` logits, row-major.
    """

    hf_task = "mlm"

    def __init__(self, hf_model: nn.Module):
        super().__init__()
        self.hf_model = hf_model

    def forward(self, input_ids, attention_mask, mlm_mask, token_type_ids=None):
        inputs = self._inputs(input_ids, attention_mask, token_type_ids)
        return masked_logits(self.hf_model, inputs, mlm_mask)


def new_head(in_features: int, n_outputs: int, config: Any) -> nn.Linear:
    """A task head's linear layer, initialised as the encoder's own layers
    (normal weights of the config's ``initializer_range``, zero bias)."""
    head = nn.Linear(in_features, n_outputs)
    nn.init.normal_(head.weight, std=getattr(config, "initializer_range", 0.02))
    nn.init.zeros_(head.bias)
    return head


def masked_logits(
    mlm: nn.Module, inputs: dict[str, torch.Tensor], mlm_mask: torch.Tensor
) -> torch.Tensor:
    """Logits ``(n_masked, vocab)`` at the ``mlm_mask`` positions, row-major.

    A forward hook keeps only the selected hidden states between the base
    model and the prediction head (which works position by position), so the
    vocabulary projection runs on the masked tokens alone instead of every
    token of the batch. The hook is registered once per model and reads the
    selection of the calling thread, so threads sharing a model (concurrent
    ``score`` calls) never see each other's selection.
    """
    base = mlm.base_model
    if not getattr(base, "_sklearn_bert_selects", False):
        with _hook_lock:
            if not getattr(base, "_sklearn_bert_selects", False):
                base.register_forward_hook(_keep_selected)
                base._sklearn_bert_selects = True
    outer = getattr(_selection, "mask", None)
    _selection.mask = mlm_mask.to(torch.bool)
    try:
        logits = mlm(**inputs).logits
    finally:
        _selection.mask = outer
    return logits.reshape(-1, logits.shape[-1])


#: The positions the masked-LM hook keeps, per thread (None: all of them).
_selection = threading.local()
_hook_lock = threading.Lock()


def _keep_selected(module: nn.Module, args: Any, output: Any) -> Any:
    selected = getattr(_selection, "mask", None)
    if selected is None:  # a plain forward pass of the base model
        return output
    _selection.mask = None  # once per masked_logits call
    if isinstance(output, tuple):
        return (output[0][selected].unsqueeze(0), *output[1:])
    key = next(iter(output.keys()))
    setattr(output, key, output[key][selected].unsqueeze(0))
    return output


#: The task modules by class name (what a portable export may name).
TASK_MODULES: dict[str, type[TaskModule]] = {
    cls.__name__: cls
    for cls in (PooledHeadModule, PooledModule, TokenModule, SpanModule, MaskedLMModule)
}
