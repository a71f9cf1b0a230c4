"""Saving a fine-tuned sequence model, and reading its head back.

``save_pretrained`` writes the fine-tuned encoder as a standard Hugging Face
folder, the linear head in ``sklearn_bert_head.safetensors`` and the pooling
in the config, so that an estimator started from the folder with the same
pooling restores both.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: File holding the linear head of a saved model.
HEAD_FILE = "sklearn_bert_head.safetensors"
#: Config attribute recording how a folder was saved.
CONFIG_KEY = "sklearn_bert"


def read_saved_head(model: Any, pooling: str, head: torch.nn.Linear) -> dict | None:
    """The head saved with ``pooling`` in the folder ``model``, if it fits
    ``head``'s shape (a folder saved for other labels gives a new head)."""
    if not isinstance(model, str | os.PathLike):
        return None
    from ..._io.models import resolve_model

    folder = resolve_model(model).path
    if folder is None:
        return None
    path = Path(folder) / HEAD_FILE
    config = Path(folder) / "config.json"
    if not path.is_file() or not config.is_file():
        return None
    saved = json.loads(config.read_text()).get(CONFIG_KEY, {})
    if saved.get("pooling") != pooling:
        return None
    from safetensors.torch import load_file

    state = load_file(str(path))
    if tuple(state["weight"].shape) != tuple(head.weight.shape):
        return None
    return state


def save_sequence_model(
    module: Any,
    tokenizer: Any,
    path: Any,
    *,
    config_updates: dict[str, Any],
    target_mean: np.ndarray | None = None,
    target_scale: np.ndarray | None = None,
    verbose: int = 0,
) -> Path:
    """Write a :class:`~sklearn_bert._nn.heads.PooledHeadModule` as a folder.

    Regression targets standardised for training are folded into the output
    layer, so the saved head predicts on the user's scale.
    """
    from safetensors.torch import save_file

    from ..._io.loading import save_pretrained

    module = copy.deepcopy(module).to("cpu").float()
    if target_mean is not None:
        layer = module.head
        scale = torch.as_tensor(target_scale, dtype=torch.float32)
        mean = torch.as_tensor(target_mean, dtype=torch.float32)
        with torch.no_grad():
            layer.weight.mul_(scale.unsqueeze(1))
            layer.bias.mul_(scale).add_(mean)
    config = module.hf_model.config
    for key, value in config_updates.items():
        setattr(config, key, value)
    setattr(config, CONFIG_KEY, {"pooling": module.pooling})
    path = save_pretrained(module.hf_model, tokenizer, path, verbose=verbose)
    state = {k: v.contiguous() for k, v in module.head.state_dict().items()}
    save_file(state, str(Path(path) / HEAD_FILE))
    return path
