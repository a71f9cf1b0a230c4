"""The only module that imports transformers: model resolution and loading.

Everything is loaded from a local folder. A hub id is first looked up in the
local cache, then (when online) downloaded with safetensors weights only, then
loaded from that folder. ``trust_remote_code`` is never enabled.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .logging import quiet_transformers
from .models import resolve_model

# Files a model folder needs; weights are safetensors only.
_ALLOW_PATTERNS = [
    "*.json",
    "*.safetensors",
    "*.txt",
    "*.model",
    "merges.txt",
    "vocab.*",
    "spiece.model",
]

#: Held while transformers builds a model. ``from_pretrained`` is not
#: thread-safe: it swaps class attributes of ``PreTrainedModel``
#: (``tie_weights``, ``init_weights``) and ``torch.nn.init`` functions for
#: no-ops and puts back what it found, so two loads in threads can leave the
#: no-ops in place for the rest of the process (tied output layers then stay
#: without data). Loads in this library take turns.
_LOAD_LOCK = threading.RLock()

#: The auto classes by task, as names so transformers is imported lazily.
AUTO_CLASSES = {
    "base": "AutoModel",
    "token": "AutoModelForTokenClassification",
    "qa": "AutoModelForQuestionAnswering",
    "mlm": "AutoModelForMaskedLM",
}


class ModelNotAvailableError(OSError, ValueError):
    """Raised when a ``model`` cannot be found locally and cannot be downloaded.

    An ``OSError`` (the model is not on this machine) and a ``ValueError``
    (the ``model`` value cannot be used), like scikit-learn's input errors.
    """


#: Weight files of other formats: pickle-based, never loaded.
_UNSAFE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.h5", "*.msgpack")
#: Files a tokenizer is read from (one of them must be there).
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.*", "*.model")


def model_folder(model: str, *, verbose: int = 0) -> str:
    """Return a local folder holding ``model``, downloading it when allowed."""
    resolved = resolve_model(model)
    if resolved.path is not None:
        return resolved.path
    hub_id = resolved.hub_id
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(
            hub_id, allow_patterns=_ALLOW_PATTERNS, local_files_only=True
        )
    except Exception:  # not cached: fall through to a download
        pass
    hint = (
        f"model={model!r} is not a local folder, not a bundled model and not in "
        "the Hugging Face cache, and it cannot be downloaded{why}. Pass the path "
        "of a local folder holding the model (config.json, tokenizer files and "
        "model.safetensors, as written by `save_pretrained`), for example "
        "model='path/to/my-model', or use the bundled default "
        "'sentence-transformers/all-MiniLM-L6-v2'."
    )
    if _offline():
        raise ModelNotAvailableError(hint.format(why=" (offline mode is set)"))
    if not _hub_reachable():
        raise ModelNotAvailableError(hint.format(why=" (the hub is not reachable)"))
    try:
        return snapshot_download(hub_id, allow_patterns=_ALLOW_PATTERNS, etag_timeout=5)
    except Exception as exc:
        raise ModelNotAvailableError(hint.format(why=f" ({exc})")) from exc


def _offline() -> bool:
    flags = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    return any(
        os.environ.get(f, "").upper() in {"1", "ON", "YES", "TRUE"} for f in flags
    )


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connection to the hub endpoint: no retry storms."""
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_model_folder(
    folder: str | os.PathLike, *, name: str | None = None, weights: bool = True
) -> None:
    """Raise a ``ValueError`` naming what a model folder lacks, before
    transformers reads it: a readable ``config.json``, tokenizer files and
    (with ``weights``) safetensors weights."""
    path = Path(folder)
    what = f"model={name!r}" if name is not None else f"The folder {str(path)!r}"
    if not path.is_dir():
        raise ValueError(f"{what} is not a folder.")
    hint = (
        " A model folder holds config.json, the tokenizer files and "
        "model.safetensors, as `save_pretrained` writes them."
    )
    config = path / "config.json"
    if weights and not config.is_file():
        raise ValueError(f"{what} has no config.json: it is not a model folder.{hint}")
    try:
        if config.is_file():
            json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what}: config.json is not valid JSON ({exc}).") from None
    if not any(any(path.glob(pattern)) for pattern in _TOKENIZER_FILES):
        raise ValueError(
            f"{what} has no tokenizer files (one of {', '.join(_TOKENIZER_FILES)})."
            f"{hint}"
        )
    if weights and not any(path.glob("*.safetensors")):
        unsafe = sorted(
            p.name for pattern in _UNSAFE_WEIGHTS for p in path.glob(pattern)
        )
        if unsafe:
            raise ValueError(
                f"{what} holds weights only in pickle-based files "
                f"({', '.join(unsafe)}), which sklearn_bert never loads: loading "
                "them can run arbitrary "
                "code. Convert them in an environment you trust, for example "
                "`AutoModel.from_pretrained(folder).save_pretrained(folder)` "
                "(which writes model.safetensors)."
            )
        raise ValueError(f"{what} has no weights (model.safetensors).{hint}")


def load_tokenizer(folder: str, *, verbose: int = 0, name: str | None = None):
    """Load the fast tokenizer of a local model folder."""
    from transformers import AutoTokenizer

    try:
        with _LOAD_LOCK, quiet_transformers(verbose):
            tokenizer = AutoTokenizer.from_pretrained(
                folder, local_files_only=True, trust_remote_code=False
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        what = f"model={name!r}" if name is not None else repr(folder)
        raise ValueError(f"Could not load the tokenizer of {what}: {exc}") from exc
    if not tokenizer.is_fast:
        raise ValueError(
            f"The tokenizer in {folder!r} has no fast (Rust) version; sklearn_bert "
            "needs a fast tokenizer for offsets and word alignment."
        )
    return tokenizer


def load_model(folder: str, task: str = "base", *, verbose: int = 0, **kwargs):
    """Load model weights from a local folder for a task (see AUTO_CLASSES)."""
    import transformers

    auto = getattr(transformers, AUTO_CLASSES[task])
    try:
        with _LOAD_LOCK, quiet_transformers(verbose):
            loaded = auto.from_pretrained(
                folder,
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=True,
                # transformers 5.25 turns hub kernels on by default: on a GPU
                # the first train()/eval() then downloads and runs layer code
                # from the hub (and fails offline); the model stays as saved
                use_kernels=False,
                **kwargs,
            )
    except Exception as exc:
        # unreadable or mismatched weights; other errors pass as they are
        if isinstance(exc, OSError | RuntimeError) or (
            type(exc).__name__ == "SafetensorError"
        ):
            raise ValueError(
                f"Could not load the weights of {str(folder)!r}: {exc}"
            ) from exc
        raise
    _check_materialized(loaded[0] if isinstance(loaded, tuple) else loaded, folder)
    return loaded


def _check_materialized(model: Any, folder: str) -> None:
    """Raise if transformers left weights without data (on the meta device)."""
    empty = [
        name
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]
        if tensor.is_meta
    ]
    if empty:
        raise RuntimeError(
            f"transformers loaded {str(folder)!r} with {len(empty)} weight(s) "
            f"that hold no data ({', '.join(empty[:3])}). This happens after "
            "models were loaded with transformers in several threads at once "
            "outside sklearn_bert: from_pretrained is not thread-safe and can "
            "leave weight tying or initialisation switched off for the rest of "
            "the process. Restart the Python process, and load models in one "
            "thread at a time."
        )


def load_pretrained(model: str, task: str = "base", *, verbose: int = 0, **kwargs):
    """Resolve ``model`` and load its tokenizer and weights for ``task``.

    The loaded objects record ``model`` (made portable: the folder name for an
    absolute path) as their ``name_or_path``, so pickles and saved configs
    carry no absolute cache paths.

    Returns
    -------
    tokenizer, model
        Or ``tokenizer, model, loading_info`` with ``output_loading_info=True``
        (see :func:`load_folder`).
    """
    folder = model_folder(model, verbose=verbose)
    return load_folder(folder, task, name=str(model), verbose=verbose, **kwargs)


def load_folder(
    folder: str | os.PathLike,
    task: str | None = "base",
    *,
    name: str | None = None,
    verbose: int = 0,
    **kwargs,
):
    """Load the tokenizer and the ``task`` model of a local folder.

    ``name`` (made portable) becomes their ``name_or_path``. With
    ``output_loading_info=True`` a third value is returned: transformers'
    loading report (``missing_keys``, ``unexpected_keys``, ...) plus
    ``unexpected_tensors``, the checkpoint tensors the model did not use (for
    example a pooler that a masked-LM model has no place for).
    """
    folder = os.fspath(folder)
    check_model_folder(folder, name=name, weights=task is not None)
    tokenizer = load_tokenizer(folder, verbose=verbose, name=name)
    info = None
    net = None
    if task is not None:
        net = load_model(folder, task, verbose=verbose, **kwargs)
        if kwargs.get("output_loading_info"):
            net, info = net
            info = dict(info)
            info["unexpected_tensors"] = read_tensors(
                folder, info.get("unexpected_keys") or ()
            )
    if name is not None:
        name = portable_name(name)
        tokenizer.name_or_path = name
        if net is not None:
            net.config._name_or_path = name
            # Copied from the config at load time, also into the base model.
            for module in net.modules():
                if isinstance(getattr(module, "name_or_path", None), str):
                    module.name_or_path = name
    if kwargs.get("output_loading_info"):
        return tokenizer, net, info
    return tokenizer, net


def read_tensors(folder: str | os.PathLike, keys: Any) -> dict[str, Any]:
    """The tensors named ``keys`` found in a folder's safetensors files (CPU)."""
    from safetensors import safe_open

    wanted = set(keys)
    found: dict[str, Any] = {}
    if not wanted:
        return found
    for file in sorted(Path(folder).glob("*.safetensors")):
        with safe_open(str(file), framework="pt", device="cpu") as handle:
            for key in wanted.intersection(handle.keys()):
                found[key] = handle.get_tensor(key).clone()
    return found


def portable_name(name: str) -> str:
    """``name`` without machine-specific folders (the last part of a path)."""
    expanded = os.path.expanduser(name)
    if os.path.isabs(expanded) or os.path.isdir(expanded):
        return Path(expanded).name
    return name


def save_pretrained(
    model: Any, tokenizer: Any, path: str | os.PathLike, *, verbose: int = 0
) -> Path:
    """Write a standard Hugging Face folder (config, tokenizer, safetensors)."""
    path = writable_folder(path)
    with quiet_transformers(verbose):
        if model is not None:
            model.save_pretrained(path, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(path)
    return path


def dump_pretrained(model: Any, tokenizer: Any) -> dict[str, bytes]:
    """Serialise a model and/or tokenizer to ``{filename: bytes}``.

    The result is portable: safetensors weights, no absolute paths. Every
    process of a ``torch.distributed`` job makes its own dump (a pickle, a
    skops file, the start of another estimator): transformers writes a
    model's files only in process 0 of a process group
    (``should_save_on_this_rank``), right for a folder the processes share,
    wrong for these, so here the model writes in this process whatever its
    rank. Which process writes the folders a user asks for is decided by the
    caller (``_engine.distributed.is_writer``).
    """
    with tempfile.TemporaryDirectory() as tmp, _saving_in_this_process(model):
        save_pretrained(model, tokenizer, tmp)
        files = {
            p.relative_to(tmp).as_posix(): p.read_bytes()
            for p in Path(tmp).rglob("*")
            if p.is_file()
        }
    if model is not None and "config.json" not in files:
        raise RuntimeError(
            "transformers wrote no model files for an in-memory copy in this "
            f"process (torch.distributed rank {_rank()}); please report this "
            "with your transformers version."
        )
    return files


def _rank() -> int:
    """This process's rank in an initialised process group (0 outside one)."""
    import torch

    dist = torch.distributed
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


@contextlib.contextmanager
def _saving_in_this_process(model: Any) -> Iterator[None]:
    """While dumping, ``model.save_pretrained`` writes in this process even if
    it is not process 0 of a process group (see :func:`dump_pretrained`)."""
    name = "should_save_on_this_rank"
    if model is None or _rank() == 0 or not hasattr(model, name):
        yield
        return
    setattr(model, name, lambda is_main_process: is_main_process)  # shadows
    try:
        yield
    finally:
        vars(model).pop(name, None)


def load_dumped(
    files: dict[str, bytes],
    task: str | None = "base",
    *,
    name: str | None = None,
    verbose: int = 0,
    **kwargs,
):
    """Inverse of :func:`dump_pretrained`: ``(tokenizer, model)`` on the CPU.

    ``model`` is None when ``task`` is None (a tokenizer-only dump). ``task``
    may differ from the dumped model's (a masked-LM dump loads as a sequence
    classifier, with a new head). ``name`` and ``output_loading_info`` as in
    :func:`load_folder`.
    """
    with tempfile.TemporaryDirectory() as tmp:
        write_files(files, tmp)
        return load_folder(tmp, task, name=name, verbose=verbose, **kwargs)


def write_files(files: dict[str, bytes], path: str | os.PathLike) -> Path:
    """Write an in-memory folder (``{relative name: bytes}``) under ``path``.

    The names come from pickles and skops files, which may be crafted: only
    relative names of the files a model folder holds are written (no ``..``,
    no pickle-based weights), so nothing lands outside ``path`` and nothing
    written can run code when loaded.
    """
    for rel, data in files.items():
        check_file_name(rel)
        if not isinstance(data, bytes):
            raise ValueError(f"The file {rel!r} of a stored model is not bytes.")
    path = writable_folder(path)
    for rel, data in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return path


#: Suffixes of the files an in-memory model folder may hold.
_SAFE_SUFFIXES = (".json", ".safetensors", ".txt", ".model", ".jinja")


def check_file_name(rel: str) -> None:
    """Refuse a stored file name that could escape its folder or hold code."""
    parts = Path(rel).parts
    if (
        not isinstance(rel, str)
        or not parts
        or Path(rel).is_absolute()
        or any(part in ("..", "") for part in parts)
        or "\\" in rel
        or not rel.endswith(_SAFE_SUFFIXES)
    ):
        raise ValueError(
            f"A stored model names the file {rel!r}; only relative names of "
            f"{', '.join(_SAFE_SUFFIXES)} files are allowed. The file was not "
            "made by sklearn_bert (or was altered): do not load it."
        )


def writable_folder(path: Any) -> Path:
    """``path`` as a folder that exists and can be written, or a clear error.

    ``save_pretrained`` targets: an existing file, a path under a file, or a
    read-only folder raise before anything is written.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"Expected a folder path (str or path-like), got {type(path).__name__}."
        )
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"{str(path)!r} is an existing file; save_pretrained writes a folder. "
            "Pass the path of a folder (it is created if needed)."
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(
                    f"Cannot create the folder {str(path)!r}: {str(parent)!r} is "
                    "a file."
                )
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise type(exc)(
            exc.errno,
            f"Cannot write into the folder {str(path)!r} ({exc.strerror}); is it "
            "read-only? Choose a folder you can write to",
        ) from None
    return path
