"""Checkpoints of a fit: written after every epoch, safe to load, resumable.

With ``checkpoint_dir`` set, :class:`Checkpointer` (a skorch callback) writes
the whole training state after each epoch, and once more when training ends::

    checkpoint_dir/
      latest.json              which epoch folder is complete (written last)
      epoch-0002-<id>/
        state.json             epochs, seed, fingerprint of the fit, history,
                               LR schedule, gradient scaler, early stopping,
                               module class and arguments, optimizer settings
        model/                 the module's Hugging Face folder (safetensors)
        head.safetensors       the module's weights outside that folder
        optimizer.safetensors  AdamW's moments
        rng.safetensors        torch's generator states
        best.safetensors       early stopping's best weights (when kept)

Only JSON and safetensors: reading a checkpoint runs no code. An epoch
folder is written under a temporary name and renamed to a new name when
complete, ``latest.json`` is replaced atomically after it, and older folders
are removed last, so a process killed at any moment leaves a complete
checkpoint that ``latest.json`` names. Only the process that trains
writes (rank 0 under ``torch.distributed``).

:func:`read_checkpoint` reads the latest checkpoint; the fit template resumes
from it when ``warm_start=True`` and its fingerprint (the training rows and
the parameters that shape training) matches the fit's, so that a resumed fit
ends where the uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch.callbacks import Callback

#: Version of the layout above.
FORMAT = 1
LATEST = "latest.json"
_EPOCH_FOLDER = re.compile(r"^epoch-\d{4,}-[0-9a-f]{8}$")

#: Parameters that do not change what a fit computes (left out of the
#: fingerprint): how it reports, where it runs, where it keeps its state.
_NEUTRAL = frozenset(
    {
        "verbose",
        "callbacks",
        "checkpoint_dir",
        "training_store",
        "warm_start",
        "device",
        "batch_size",
    }
)


# -- fingerprint -----------------------------------------------------------------


def fingerprint(estimator: Any, train: Any, valid: Any) -> dict[str, Any]:
    """What identifies a fit: its parameters (as text) and a hash of its
    training and validation rows (tokens, targets, weights)."""
    from .base import model_name

    params = {}
    for name, value in sorted(estimator.get_params(deep=False).items()):
        if name in _NEUTRAL:
            continue
        if name == "model":
            value = model_name(value)
        elif name == "random_state" and not isinstance(value, int | np.integer):
            value = None  # the seed drawn is stored with the checkpoint
        params[name] = repr(value)
    # batch_size shapes the batches: it is part of the data hash instead
    digest = hashlib.sha256(repr(estimator.get_params()["batch_size"]).encode())
    for dataset in (train, valid):
        if dataset is None:
            digest.update(b"no validation rows")
            continue
        _hash_dataset(digest, dataset)
    return {"params": params, "data": digest.hexdigest()}


def _hash_dataset(digest: Any, dataset: Any) -> None:
    def add(value: Any) -> None:
        array = np.asarray(value)
        if array.dtype == object:
            digest.update(repr(value).encode())
            return
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())

    digest.update(str(len(dataset)).encode())
    for feature in dataset.features:
        for key in sorted(feature):
            digest.update(key.encode())
            add(feature[key])
    for target in dataset.targets if dataset.targets is not None else ():
        add(target)
    add(dataset.weights)
    add(dataset.ids)


def fingerprint_difference(saved: dict[str, Any], current: dict[str, Any]) -> str:
    """How two fingerprints differ, in words ("" when they do not)."""
    changed = [
        f"{name}={current['params'].get(name)} (the checkpoint's fit used {value})"
        for name, value in saved["params"].items()
        if current["params"].get(name) != value
    ]
    changed += [
        f"{name} (new)" for name in current["params"] if name not in saved["params"]
    ]
    if saved["data"] != current["data"]:
        changed.append("the training rows or batch_size")
    return "; ".join(changed)


# -- writing ---------------------------------------------------------------------


def _is_writer() -> bool:
    """Whether this process writes checkpoints (rank 0, or not distributed)."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized() and dist.get_rank())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | torch.Tensor):
        return value.tolist()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"Cannot store {type(value).__name__} in a checkpoint.")


def _dumps(data: Any) -> str:
    return json.dumps(data, default=_json_default, indent=1)


class Checkpointer(Callback):
    """Write a checkpoint after every epoch (and when training ends); restore
    the training state of ``resume`` when training begins.

    Parameters
    ----------
    folder : path
        ``checkpoint_dir``.
    info : dict
        Plain values stored with every checkpoint: ``seed``, ``fingerprint``,
        ``max_epochs`` and ``epochs_before`` (history rows the fit started
        with).
    resume : Checkpoint or None
        The checkpoint whose optimizer, schedule, scaler, early stopping and
        generator states to restore when training begins.
    """

    def __init__(self, folder: Any, info: dict[str, Any], resume: Any = None):
        self.folder = Path(folder)
        self.info = info
        self.resume = resume

    def on_train_begin(self, net, **kwargs):
        self._saved_epoch = None
        if self.resume is not None:
            self.resume.restore_training(net)
            self.resume = None

    def on_epoch_end(self, net, **kwargs):
        self.save(net, finished=False)

    def on_train_end(self, net, **kwargs):
        if getattr(net, "interrupted_", False):
            return  # keep the last complete epoch to resume from
        stopper = _early_stopping(net)
        # early stopping's on_train_end (before this one) restored the best
        # epoch's weights: the last epoch's checkpoint no longer holds them
        restored = stopper is not None and stopper.restores(net)
        if self._saved_epoch == len(net.history) and not restored:
            self._mark_finished()
        else:
            self.save(net, finished=True)

    # -- the files ---------------------------------------------------------------
    def save(self, net: Any, *, finished: bool) -> None:
        if not _is_writer():
            return
        epoch = len(net.history)
        self.folder.mkdir(parents=True, exist_ok=True)
        # a new name every time: the folder latest.json names is never touched
        target = self.folder / f"epoch-{epoch:04d}-{uuid.uuid4().hex[:8]}"
        write_state(net, target, {**self.info, "finished": finished})
        _write_latest(self.folder, target.name)
        self._saved_epoch = epoch
        for old in self.folder.iterdir():
            if old.name != target.name and (
                _EPOCH_FOLDER.match(old.name) or old.name.startswith("tmp-")
            ):
                shutil.rmtree(old, ignore_errors=True)

    def _mark_finished(self) -> None:
        if not _is_writer():
            return
        checkpoint = read_checkpoint(self.folder)
        if checkpoint is None:
            return
        state = dict(checkpoint.state, finished=True)
        tmp = checkpoint.path / "state.json.tmp"
        tmp.write_text(_dumps(state))
        os.replace(tmp, checkpoint.path / "state.json")


def write_state(net: Any, target: Path, info: dict[str, Any]) -> bool:
    """Write the training state of ``net`` as the folder ``target`` (the
    layout of the module docstring, ``info`` added to ``state.json``).

    The folder is written under a temporary name beside ``target`` and renamed
    when complete; returns False, writing nothing, when ``target`` already
    exists (another process wrote it first).
    """
    from .._nn.portable import export_module
    from .._version import __version__
    from .inference import to_cpu

    tmp = target.parent / f"tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        module = export_module(net.module_)
        _write_folder(module["hf_files"], tmp / "model")
        (tmp / "head.safetensors").write_bytes(module["head"])
        optimizer = net.optimizer_.state_dict()
        _save_tensors(
            {
                f"{i}.{key}": value
                for i, state in optimizer["state"].items()
                for key, value in state.items()
                if isinstance(value, torch.Tensor)
            },
            tmp / "optimizer.safetensors",
        )
        rng = {"cpu": torch.get_rng_state()}
        device = torch.device(net.device)
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(device)
        _save_tensors(rng, tmp / "rng.safetensors")
        stopping = _early_stopping(net)
        if stopping is not None and stopping.best_weights_ is not None:
            _save_tensors(
                {k: to_cpu(v) for k, v in stopping.best_weights_.items()},
                tmp / "best.safetensors",
            )
        collate = getattr(net, "iterator_train__collate_fn", None)
        state = {
            "format": FORMAT,
            "library_version": __version__,
            "epoch": len(net.history),
            **info,
            "history": [dict(row) for row in net.history],
            "module": {"class": module["class"], "spec": module["spec"]},
            "optimizer": {
                "param_groups": optimizer["param_groups"],
                "other_state": {
                    f"{i}.{key}": value
                    for i, s in optimizer["state"].items()
                    for key, value in s.items()
                    if not isinstance(value, torch.Tensor)
                },
            },
            "scheduler": net.scheduler_.state_dict(),
            "grad_scaler": net.grad_scaler_.state_dict(),
            "early_stopping": None if stopping is None else stopping.state(),
            "collate_rng": collate.get_rng_state()
            if hasattr(collate, "get_rng_state")
            else None,
        }
        (tmp / "state.json").write_text(_dumps(state))
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():
                raise
            return False  # written by another process meanwhile
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return True


def _early_stopping(net: Any) -> Any:
    """The fit's :class:`~._engine.stopping.EarlyStopper`, or None."""
    from .stopping import EarlyStopper

    return next((cb for _, cb in net.callbacks_ if isinstance(cb, EarlyStopper)), None)


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    save_file(
        {k: v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()},
        str(path),
    )


def _write_folder(files: dict[str, bytes], path: Path) -> None:
    from .._io.loading import write_files

    write_files(files, path)


def _write_latest(folder: Path, name: str) -> None:
    tmp = folder / f"{LATEST}.tmp-{uuid.uuid4().hex}"
    tmp.write_text(json.dumps({"format": FORMAT, "folder": name}))
    os.replace(tmp, folder / LATEST)


# -- reading ---------------------------------------------------------------------


class Checkpoint:
    """A checkpoint read back (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        state: dict[str, Any],
        files: dict[str, bytes] | None = None,
    ):
        self.path = path
        self.state = state
        # the folder's files read ahead (a training store's entry, which
        # another process may remove), else read when needed
        self.files = files

    def _read(self, name: str) -> bytes | None:
        """The bytes of the file ``name`` of the checkpoint, None if absent."""
        if self.files is not None:
            return self.files.get(name)
        path = self.path / name
        return path.read_bytes() if path.is_file() else None

    @property
    def resumable(self) -> bool:
        """Whether the optimizer's and generators' states are kept."""
        if self.files is not None:
            return "optimizer.safetensors" in self.files
        return (self.path / "optimizer.safetensors").is_file()

    @property
    def epoch(self) -> int:
        return int(self.state["epoch"])

    @property
    def finished(self) -> bool:
        return bool(self.state["finished"])

    @property
    def seed(self) -> int:
        return int(self.state["seed"])

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.state["history"]

    def remaining_epochs(self) -> int:
        """Epochs left of the checkpoint's fit (0 once it finished)."""
        if self.finished:
            return 0
        planned = int(self.state["epochs_before"]) + int(self.state["max_epochs"])
        return max(0, planned - self.epoch)

    def module(self) -> Any:
        """The task module with the checkpoint's weights, on the CPU."""
        from .._nn.portable import import_module

        if self.files is not None:
            files = {
                name[len("model/") :]: data
                for name, data in self.files.items()
                if name.startswith("model/")
            }
        else:
            model = self.path / "model"
            files = {
                p.relative_to(model).as_posix(): p.read_bytes()
                for p in model.rglob("*")
                if p.is_file()
            }
        return import_module(
            {
                **self.state["module"],
                "hf_files": files,
                "head": self._read("head.safetensors"),
            }
        )

    def restore_training(self, net: Any) -> None:
        """Restore the optimizer, LR schedule, gradient scaler, early stopping,
        masking and torch generator states into an initialized ``net`` (early
        stopping alone for an entry that is not :attr:`resumable`, which only
        ends a fit)."""
        from safetensors.torch import load

        state = self.state
        stopping = _early_stopping(net)
        device = torch.device(net.device)
        if stopping is not None and state["early_stopping"] is not None:
            best = self._read("best.safetensors")
            stopping.load_state(
                state["early_stopping"],
                None
                if best is None
                else {k: v.to(device) for k, v in load(best).items()},
            )
        if not self.resumable:
            return
        tensors = load(self._read("optimizer.safetensors"))
        moments: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            i, name = key.split(".", 1)
            moments.setdefault(int(i), {})[name] = value
        for key, value in state["optimizer"]["other_state"].items():
            i, name = key.split(".", 1)
            moments.setdefault(int(i), {})[name] = value
        net.optimizer_.load_state_dict(
            {"state": moments, "param_groups": state["optimizer"]["param_groups"]}
        )
        net.scheduler_.load_state_dict(state["scheduler"])
        if state["grad_scaler"]:
            net.grad_scaler_.load_state_dict(state["grad_scaler"])
        collate = getattr(net, "iterator_train__collate_fn", None)
        if state.get("collate_rng") is not None and hasattr(collate, "set_rng_state"):
            collate.set_rng_state(state["collate_rng"])
        rng = load(self._read("rng.safetensors"))
        torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], device)


def read_checkpoint(folder: Any) -> Checkpoint | None:
    """The latest complete checkpoint in ``folder``, or None if there is none.

    Raises a ``ValueError`` for a folder whose checkpoint cannot be read (an
    unknown format, a damaged ``state.json``).
    """
    folder = Path(folder)
    latest = folder / LATEST
    if not latest.is_file():
        return None
    try:
        pointer = json.loads(latest.read_text())
        name = pointer["folder"]
        if not isinstance(name, str) or not _EPOCH_FOLDER.match(name):
            raise ValueError(f"unexpected folder name {name!r}")
        path = folder / name
        state = json.loads((path / "state.json").read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"checkpoint_dir={str(folder)!r} holds a checkpoint that cannot be "
            f"read ({exc}); remove the folder or choose another one."
        ) from None
    if state.get("format") != FORMAT:
        raise ValueError(
            f"checkpoint_dir={str(folder)!r} holds a checkpoint of format "
            f"{state.get('format')!r} (written by sklearn_bert "
            f"{state.get('library_version')}); this version reads format {FORMAT}."
        )
    return Checkpoint(path, state)
