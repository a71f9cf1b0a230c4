"""Text plus tabular: one module that fine-tunes an encoder with table columns.

:class:`FusionModule` pools each text of a row (one text, several texts
joined with the separator token, or several texts encoded one by one with the
same encoder), turns the row's preprocessed tabular vector into a learned
representation, fuses the two as ``fusion`` says and ends in one linear layer:

- ``"concat"``: the tabular vector goes through ``Linear -> GELU`` (width of
  the encoder) and is concatenated with the pooled text vector(s);
- ``"gated"``: a gated multimodal unit (Arevalo et al., 2017): each side is
  projected (``tanh``) to the encoder's width and a sigmoid gate computed from
  both chooses, feature by feature, how much each contributes;
- ``"attention"``: each tabular value becomes a token (value times a learned
  vector plus a learned bias, as FT-Transformer's feature tokenizer), and one
  transformer layer lets the pooled text vector(s) attend to those tokens.

Everything outside ``hf_model`` is a new weight (see ``head_modules``), so
the engine can give it its own learning rate.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .._text.batching import TEXT_SEP
from .._text.pooling import pool
from .heads import TaskModule, new_head

#: Values of ``fusion``.
FUSIONS = ("concat", "gated", "attention")


class GatedUnit(nn.Module):
    """``z * tanh(W_t t) + (1 - z) * tanh(W_x x)``, ``z = sigmoid(W_z [t; x])``."""

    def __init__(self, text_dim: int, tabular_dim: int, width: int):
        super().__init__()
        self.text = nn.Linear(text_dim, width)
        self.tabular = nn.Linear(tabular_dim, width)
        self.gate = nn.Linear(text_dim + tabular_dim, width)

    def forward(self, text: torch.Tensor, tabular: torch.Tensor) -> torch.Tensor:
        z = torch.sigmoid(self.gate(torch.cat([text, tabular], dim=-1)))
        return z * torch.tanh(self.text(text)) + (1 - z) * torch.tanh(
            self.tabular(tabular)
        )


class FeatureTokens(nn.Module):
    """One token per tabular value: ``x_j * weight_j + bias_j``."""

    def __init__(self, n_features: int, width: int):
        super().__init__()
        bound = 1.0 / math.sqrt(width)
        self.weight = nn.Parameter(torch.empty(n_features, width))
        self.bias = nn.Parameter(torch.empty(n_features, width))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(-1) * self.weight + self.bias


class FusionModule(TaskModule):
    """Encoder, pooling, tabular layers, fusion, dropout and a linear layer.

    Parameters
    ----------
    hf_model : transformers.PreTrainedModel
        An ``AutoModel`` encoder, shared by every text of a row.
    n_outputs : int
        Classes, labels or regression targets.
    pooling : {"cls", "mean", "max"}
        How the token vectors of the last layer become one vector per text.
    dropout : float
        Dropout before the linear layer (and inside the attention layer), in
        training.
    n_texts : int
        Texts per row encoded one by one (their pooled vectors are
        concatenated); 1 for one text or texts joined into one sequence.
    n_tabular : int
        Width of the preprocessed tabular vector (0: texts only).
    fusion : {"concat", "gated", "attention"}
        How the tabular vector joins the text vector(s) (see the module doc).
    """

    hf_task = "base"

    def __init__(
        self,
        hf_model: nn.Module,
        n_outputs: int,
        pooling: str,
        dropout: float,
        n_texts: int = 1,
        n_tabular: int = 0,
        fusion: str = "concat",
    ):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}.")
        self.hf_model = hf_model
        self.n_outputs = int(n_outputs)
        self.pooling = pooling
        self.n_texts = int(n_texts)
        self.n_tabular = int(n_tabular)
        self.fusion_kind = fusion
        width = int(hf_model.config.hidden_size)
        text_dim = self.n_texts * width
        self.tabular: nn.Module | None = None
        self.fusion: nn.Module | None = None
        fused_dim = text_dim
        if self.n_tabular and fusion == "concat":
            self.tabular = nn.Sequential(nn.Linear(self.n_tabular, width), nn.GELU())
            fused_dim = text_dim + width
        elif self.n_tabular and fusion == "gated":
            self.tabular = nn.Sequential(nn.Linear(self.n_tabular, width), nn.GELU())
            self.fusion = GatedUnit(text_dim, width, width)
            fused_dim = width
        elif self.n_tabular:  # attention
            self.tabular = FeatureTokens(self.n_tabular, width)
            self.fusion = nn.TransformerEncoderLayer(
                width,
                nhead=4 if width % 4 == 0 else 1,
                dim_feedforward=2 * width,
                dropout=float(dropout),
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
        self.dropout = nn.Dropout(float(dropout))
        self.head = new_head(fused_dim, self.n_outputs, hf_model.config)

    @property
    def encoder(self) -> nn.Module:
        return self.hf_model

    def head_modules(self) -> list[nn.Module]:
        modules = [self.tabular, self.fusion, self.dropout, self.head]
        return [m for m in modules if m is not None]

    def spec(self) -> dict[str, Any]:
        return {
            "n_outputs": self.n_outputs,
            "pooling": self.pooling,
            "dropout": self.dropout.p,
            "n_texts": self.n_texts,
            "n_tabular": self.n_tabular,
            "fusion": self.fusion_kind,
        }

    def _pooled(self, inputs: dict[str, torch.Tensor], text: int) -> torch.Tensor:
        suffix = "" if text == 0 else f"{TEXT_SEP}{text}"
        ids = inputs["input_ids" + suffix]
        mask = inputs["attention_mask" + suffix]
        types = inputs.get("token_type_ids" + suffix)
        hidden = self.hf_model(**self._inputs(ids, mask, types)).last_hidden_state
        return pool(hidden, mask, self.pooling)

    def forward(
        self,
        input_ids,
        attention_mask,
        token_type_ids=None,
        tabular=None,
        **more_texts,
    ) -> torch.Tensor:
        inputs = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            **more_texts,
        }
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        dtype = self.head.weight.dtype
        texts = [self._pooled(inputs, j).to(dtype) for j in range(self.n_texts)]
        if self.tabular is None:
            fused = torch.cat(texts, dim=-1)
        elif self.fusion_kind == "attention":
            tokens = torch.cat(
                [torch.stack(texts, dim=1), self.tabular(tabular.to(dtype))], dim=1
            )
            fused = self.fusion(tokens)[:, : self.n_texts].flatten(1)
        else:
            tab = self.tabular(tabular.to(dtype))
            text = torch.cat(texts, dim=-1)
            if self.fusion is None:  # concat
                fused = torch.cat([text, tab], dim=-1)
            else:
                fused = self.fusion(text, tab)
        return self.head(self.dropout(fused))
