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

A model fusing text and tabular columns (``text_columns``) also writes its
fitted tabular preprocessor with skops (``sklearn_bert_tabular.skops``: no
pickle, loading runs no code of the file) and records its columns and
fusion in the config; ``sklearn_bert_head.safetensors`` then holds the
tabular and fusion layers with the head. An estimator started from the
folder with the same text columns and fusion restores all of it and uses the
saved preprocessor as it is (it belongs to those weights, as the tokenizer
does). sentence-transformers cannot feed tabular values: its description of
such a folder stops at the pooling, so ``encode`` returns the fine-tuned
text embeddings.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: File holding the linear head of a saved model.
HEAD_FILE = "sklearn_bert_head.safetensors"
#: Config attribute recording how a folder was saved.
CONFIG_KEY = "sklearn_bert"
#: File holding the fitted tabular preprocessor of a fused model (skops).
TABULAR_FILE = "sklearn_bert_tabular.skops"
#: Module arguments that must agree for a saved fused head to be restored.
_FUSION_SPEC = ("n_outputs", "pooling", "n_texts", "n_tabular", "fusion")


def _saved_config(model: Any) -> tuple[Path, dict] | None:
    """The folder ``model`` names and what its config records about how it
    was saved, if it is a folder with a config."""
    if not isinstance(model, str | os.PathLike):
        return None
    from ..._io.models import resolve_model

    folder = resolve_model(model).path
    if folder is None:
        return None
    config = Path(folder) / "config.json"
    if not config.is_file():
        return None
    return Path(folder), json.loads(config.read_text()).get(CONFIG_KEY, {})


def read_saved_head(model: Any, pooling: str, head: torch.nn.Linear) -> dict | None:
    """The head saved with ``pooling`` in the folder ``model``, if it fits
    ``head``'s shape (a folder saved for other labels gives a new head)."""
    found = _saved_config(model)
    if found is None:
        return None
    folder, saved = found
    path = folder / HEAD_FILE
    # a fused model's head file holds its tabular and fusion layers too
    if not path.is_file() or saved.get("pooling") != pooling or "fusion" in saved:
        return None
    from safetensors.torch import load_file

    state = load_file(str(path))
    if tuple(state["weight"].shape) != tuple(head.weight.shape):
        return None
    return state


@dataclass
class SavedFusion:
    """What a folder records about the fused model saved in it.

    Attributes
    ----------
    folder : Path
    info : dict
        ``text_columns``, ``tabular_columns``, ``tabular_features`` (the
        names of the preprocessor's outputs) and ``module`` (the fusion
        module's arguments).
    pooling : str
    preprocessor_file : Path or None
        The saved tabular preprocessor, if the model has tabular columns.
    """

    folder: Path
    info: dict[str, Any]
    pooling: str | None
    preprocessor_file: Path | None


def saved_fusion(model: Any) -> SavedFusion | None:
    """The fused model saved in the folder ``model``, if there is one."""
    found = _saved_config(model)
    if found is None or "fusion" not in found[1]:
        return None
    folder, saved = found
    file = folder / TABULAR_FILE
    return SavedFusion(
        folder, saved["fusion"], saved.get("pooling"), file if file.is_file() else None
    )


def read_saved_fusion(model: Any, module: Any, info: dict[str, Any]) -> dict | None:
    """The saved weights outside the encoder of a fused model (head, tabular
    and fusion layers), if the folder ``model`` holds a model with the same
    columns, tabular features and module arguments as ``module``."""
    saved = saved_fusion(model)
    if saved is None or not (saved.folder / HEAD_FILE).is_file():
        return None
    spec = module.spec()
    same_module = all(
        saved.info.get("module", {}).get(k) == spec[k] for k in _FUSION_SPEC
    )
    if not same_module or any(saved.info.get(k) != v for k, v in info.items()):
        return None
    from safetensors.torch import load_file

    return load_file(str(saved.folder / HEAD_FILE))


def save_sequence_model(
    module: Any,
    tokenizer: Any,
    path: Any,
    *,
    config_updates: dict[str, Any],
    output_shift: np.ndarray | None = None,
    output_scale: np.ndarray | None = None,
    max_length: int,
    verbose: int = 0,
    fusion: dict[str, Any] | None = None,
    preprocessor: Any = None,
) -> Path:
    """Write a :class:`~sklearn_bert._nn.heads.PooledHeadModule` (or, with
    ``fusion``, a :class:`~sklearn_bert._nn.fusion.FusionModule` and its
    tabular ``preprocessor``) as a folder.

    ``output * output_scale + output_shift`` is folded into the output
    layer: regression targets standardised for training, so the saved head
    predicts on the user's scale; a classifier's ``1 / temperature_``, so its
    saved logits are the calibrated ones.
    """
    from safetensors.torch import save_file

    from ..._io.loading import save_pretrained

    module = copy.deepcopy(module).to("cpu").float()
    if output_scale is not None:
        layer = module.head
        scale = torch.as_tensor(output_scale, dtype=torch.float32)
        with torch.no_grad():
            layer.weight.mul_(scale.unsqueeze(1))
            layer.bias.mul_(scale)
            if output_shift is not None:
                layer.bias.add_(torch.as_tensor(output_shift, dtype=torch.float32))
    config = module.hf_model.config
    for key, value in config_updates.items():
        setattr(config, key, value)
    record: dict[str, Any] = {"pooling": module.pooling}
    if fusion is not None:
        record["fusion"] = {**fusion, "module": module.spec()}
    setattr(config, CONFIG_KEY, record)
    path = save_pretrained(module.hf_model, tokenizer, path, verbose=verbose)
    if fusion is None:
        state = module.head.state_dict()
    else:  # every weight outside the encoder
        state = {
            k: v
            for k, v in module.state_dict().items()
            if not k.startswith("hf_model.")
        }
    save_file(
        {k: v.contiguous() for k, v in state.items()}, str(Path(path) / HEAD_FILE)
    )
    tabular_file = Path(path) / TABULAR_FILE
    if preprocessor is not None:
        from .tabular import save_preprocessor

        save_preprocessor(preprocessor, tabular_file)
    elif tabular_file.exists():  # left by an earlier save into this folder
        tabular_file.unlink()
    _write_sentence_transformers_modules(path, module, max_length, head=fusion is None)
    return path


def _write_sentence_transformers_modules(
    path: Path, module: Any, max_length: int, *, head: bool = True
):
    """The sentence-transformers description of the folder (see module doc);
    without ``head``, it ends at the pooling."""
    import shutil

    from safetensors.torch import save_file

    def write(rel: str, data: Any) -> None:
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2) + "\n")

    dim = int(module.hf_model.config.hidden_size)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": _ST + "Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": _ST + "Pooling"},
    ]
    if head:
        modules.append(
            {"idx": 2, "name": "2", "path": "2_Dense", "type": _ST + "Dense"}
        )
    write("modules.json", modules)
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
    if not head:
        shutil.rmtree(path / "2_Dense", ignore_errors=True)
        return
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
