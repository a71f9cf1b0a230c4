"""Saving a fine-tuned sequence model, and reading its head back.

``save_pretrained`` writes one folder that three loaders understand:

- transformers: the fine-tuned encoder as a standard Hugging Face folder
  (``AutoModel.from_pretrained``), with the labels in its config;
- sentence-transformers: ``modules.json`` chains that encoder, the
  estimator's pooling (``1_Pooling``) and its linear head as a ``Dense`` layer
  without activation (``2_Dense``), so ``SentenceTransformer(path).encode``
  returns the head's outputs: the logits of a classifier, the predictions of
  a regressor (the target scaling is folded into the layer);
- this library: ``sklearn_bert_head.safetensors`` and the pooling recorded in
  the config let an estimator started from the folder (``model=path``) with
  the same pooling restore the head.
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
    max_length: int,
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
    _write_sentence_transformers_modules(path, module, max_length)
    return path


def _write_sentence_transformers_modules(path: Path, module: Any, max_length: int):
    """The sentence-transformers description of the folder (see module doc)."""
    from safetensors.torch import save_file

    def write(rel: str, data: Any) -> None:
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2) + "\n")

    dim = int(module.hf_model.config.hidden_size)
    write(
        "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": _ST + "Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": _ST + "Pooling"},
            {"idx": 2, "name": "2", "path": "2_Dense", "type": _ST + "Dense"},
        ],
    )
    write(
        "sentence_bert_config.json",
        {"max_seq_length": int(max_length), "do_lower_case": False},
    )
    write(
        "1_Pooling/config.json",
        {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": module.pooling == "cls",
            "pooling_mode_mean_tokens": module.pooling == "mean",
            "pooling_mode_max_tokens": module.pooling == "max",
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    write(
        "2_Dense/config.json",
        {
            "in_features": dim,
            "out_features": int(module.head.out_features),
            "bias": True,
            "activation_function": "torch.nn.modules.linear.Identity",
        },
    )
    save_file(
        {
            "linear.weight": module.head.weight.detach().contiguous(),
            "linear.bias": module.head.bias.detach().contiguous(),
        },
        str(path / "2_Dense" / "model.safetensors"),
    )


#: Module path prefix of sentence-transformers' classes (the stable names that
#: its releases since v2 load).
_ST = "sentence_transformers.models."
