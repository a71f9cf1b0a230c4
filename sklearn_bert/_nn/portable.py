"""Task modules as portable files: Hugging Face config + safetensors.

A fitted net pickles its module as plain data (the Hugging Face folder of
``hf_model``, the head's other weights as safetensors bytes, the module's
class name and ``spec()``), never as pickled torch or transformers objects:
such a pickle loads on a machine without the GPU it was trained on and
survives changes of transformers' class layout.
"""

from __future__ import annotations

import tempfile
from typing import Any

from .fusion import FusionModule
from .heads import TASK_MODULES, TaskModule

#: Every module a portable export may name.
MODULES: dict[str, type[TaskModule]] = {**TASK_MODULES, "FusionModule": FusionModule}

_HF_PREFIX = "hf_model."


def export_module(module: TaskModule) -> dict[str, Any]:
    """``module`` as plain data (see the module docstring)."""
    from safetensors.torch import save

    from .._io.loading import dump_pretrained

    own = {
        k: v.detach().to("cpu").contiguous()
        for k, v in module.state_dict().items()
        if not k.startswith(_HF_PREFIX)
    }
    return {
        "class": type(module).__name__,
        "spec": module.spec(),
        "hf_files": dump_pretrained(module.hf_model, None),
        "head": save(own) if own else b"",
    }


def import_module(data: dict[str, Any]) -> TaskModule:
    """Rebuild a module exported by :func:`export_module`, on the CPU."""
    from safetensors.torch import load

    from .._io.loading import load_model, write_files

    cls = MODULES.get(data["class"])
    if cls is None:
        raise ValueError(f"Unknown task module {data['class']!r} in a pickle.")
    with tempfile.TemporaryDirectory() as tmp:
        write_files(data["hf_files"], tmp)
        hf_model = load_model(tmp, cls.hf_task)
    module = cls.from_spec(hf_model, data["spec"])
    if data["head"]:
        missing, unexpected = module.load_state_dict(load(data["head"]), strict=False)
        if unexpected or any(not k.startswith(_HF_PREFIX) for k in missing):
            raise ValueError(
                "The pickled head does not match its module "
                f"(missing {missing}, unexpected {unexpected})."
            )
    return module.eval()
