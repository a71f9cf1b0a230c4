"""The training store: the state of a fit at every epoch end, for later fits.

With ``training_store`` set, :class:`StoreRecorder` (a skorch callback)
writes the training state after each epoch, and :func:`find_start` gives a
later fit of the same *trajectory* the longest stored prefix of its epochs::

    store/
      <trajectory>/            one per fingerprint (below)
        epoch-0001/            the layout of ``checkpoint.py``: the model,
        epoch-0002/            the history, early stopping; the last epoch
                               also keeps the optimizer and generator states
                               that a longer fit resumes from

A trajectory is named by a digest of what decides the weights after every
epoch: the training and validation rows (tokens, targets, weights, batch
size), every parameter that shapes training, the integer seed, the starting
weights (a digest of the task module before training), the resolved
precision, the device type and the library version. ``max_epochs`` is left
out under ``lr_schedule="constant"``: the first ``k`` epochs of a fit are
then those of any longer one, so a fit of 2 epochs takes epoch 2 of a stored
4-epoch fit without training, and a fit of 6 resumes from epoch 4.

Entries are written under a temporary name and renamed when complete, so
processes share a folder safely: two that write the same epoch write the same
state, and the second keeps the first's. A fit reads its entry whole into
memory before using it, so an entry removed meanwhile is a miss, never a
half-read state. The store holds at most :func:`size_limit` bytes
(``SKLEARN_BERT_TRAINING_STORE_GB``, default 8); past it, the least recently
used trajectories are removed after each write.

``training_store=True`` keeps the store in a temporary folder of this
process, shared by every estimator of the process (the clones of a search),
removed at exit and by :func:`~sklearn_bert.clear_cache`; the first one a
process opens removes those of processes that ended without removing theirs
(a search worker killed before its exit handlers ran).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from skorch.callbacks import Callback

from .checkpoint import Checkpoint, _early_stopping, _is_writer, write_state

#: Environment variable: the store's size limit, in gigabytes.
LIMIT_VARIABLE = "SKLEARN_BERT_TRAINING_STORE_GB"
DEFAULT_LIMIT_GB = 8.0
_ENTRY = re.compile(r"^epoch-(\d{4,})$")
_TRAJECTORY = re.compile(r"^[0-9a-f]{32}$")
#: Name prefix of the temporary stores (``training_store=True``), followed by
#: the process id.
_PREFIX = "sklearn_bert_store_"

_lock = threading.Lock()
_process_folder: list[Path] = []


def size_limit() -> int:
    """The store's size limit in bytes (``SKLEARN_BERT_TRAINING_STORE_GB``)."""
    text = os.environ.get(LIMIT_VARIABLE, "")
    try:
        gigabytes = float(text) if text.strip() else DEFAULT_LIMIT_GB
    except ValueError:
        raise ValueError(
            f"{LIMIT_VARIABLE}={text!r} is not a number of gigabytes."
        ) from None
    return int(gigabytes * 2**30)


def open_store(value: Any) -> Path | None:
    """The folder a ``training_store`` parameter names (None for no store)."""
    if value is None or value is False:
        return None
    if value is True:
        with _lock:
            if not _process_folder:
                _remove_orphans()
                folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}_"))
                _process_folder.append(folder)
                atexit.register(shutil.rmtree, folder, True)
            return _process_folder[0]
    folder = Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"training_store={os.fspath(value)!r} is a file; pass a folder "
            "(created if needed) or training_store=True for a temporary one."
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _remove_orphans() -> None:
    """Remove the temporary stores of processes that ended without removing
    theirs (a search's worker killed before its exit handlers ran)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*_*"):
        try:
            pid = int(folder.name[len(_PREFIX) :].split("_", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no permission to ask
        return True
    return True


def clear_process_store() -> None:
    """Empty the temporary store of ``training_store=True``."""
    with _lock:
        for folder in _process_folder:
            for child in list(folder.iterdir()) if folder.is_dir() else ():
                shutil.rmtree(child, ignore_errors=True)


def trajectory(fingerprint: dict[str, Any], *, horizon_free: bool, **facts: Any) -> str:
    """The name of a fit's trajectory (see the module docstring):
    ``fingerprint`` from :func:`~._engine.checkpoint.fingerprint`,
    ``horizon_free`` when the schedule does not depend on ``max_epochs``,
    ``facts`` the rest (weights digest, precision, device type, version)."""
    params = dict(fingerprint["params"])
    if horizon_free:
        params.pop("max_epochs", None)
    text = json.dumps(
        {"params": params, "data": fingerprint["data"], **facts},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _entries(folder: Path) -> dict[int, Path]:
    """The complete epoch entries of a trajectory folder, by epoch."""
    found = {}
    try:
        children = list(folder.iterdir())
    except OSError:
        return {}
    for child in children:
        match = _ENTRY.match(child.name)
        if match:
            found[int(match.group(1))] = child
    return found


def _read_entry(path: Path) -> Checkpoint | None:
    """An entry read whole into memory, or None if it vanished meanwhile."""
    try:
        files = {
            p.relative_to(path).as_posix(): p.read_bytes()
            for p in path.rglob("*")
            if p.is_file()
        }
        state = json.loads(files["state.json"])
    except (OSError, KeyError, ValueError):
        return None
    return Checkpoint(path, state, files)


def find_start(folder: Path, epochs: int) -> tuple[Checkpoint, int] | None:
    """Where a fit of ``epochs`` epochs of the trajectory in ``folder``
    starts: the stored entry and the epochs left to train after it (0: the
    entry is the fit's end), or None to train from the start.

    The entry at ``epochs`` ends the fit; so does the last entry before it
    when early stopping ended training there. Otherwise the fit resumes from
    the last stored epoch when that one kept its optimizer state.
    """
    entries = _entries(folder)
    if epochs in entries:
        entry = _read_entry(entries[epochs])
        return None if entry is None else _touched(folder, entry, 0)
    shorter = [e for e in entries if e < epochs]
    if not shorter:
        return None
    entry = _read_entry(entries[max(shorter)])
    if entry is None:
        return None
    if entry.state.get("stopped"):
        return _touched(folder, entry, 0)
    if entry.resumable:
        return _touched(folder, entry, epochs - entry.epoch)
    return None


def _touched(folder: Path, entry: Checkpoint, left: int) -> tuple[Checkpoint, int]:
    """Mark the trajectory used now (the size limit removes the least
    recently used first)."""
    try:
        os.utime(folder)
    except OSError:
        pass
    return entry, left


class StoreRecorder(Callback):
    """Write each epoch's training state to a trajectory folder; restore the
    state of ``start`` when training begins.

    Parameters
    ----------
    folder : Path
        The trajectory's folder in the store.
    info : dict
        Plain values stored with every entry (``seed``).
    start : Checkpoint or None
        The stored entry the fit continues from.
    """

    def __init__(self, folder: Path, info: dict[str, Any], start: Any = None):
        self.folder = folder
        self.info = info
        self.start = start

    def on_train_begin(self, net, **kwargs):
        self._written = None
        if self.start is not None:
            self.start.restore_training(net)
            self._written = self.start.epoch
            self.start = None

    def on_epoch_end(self, net, **kwargs):
        self._write(net, stopped=False)

    def on_train_end(self, net, **kwargs):
        # an epoch that early stopping ended was not written at its end
        # (the stopper raised before this callback ran); its weights are now
        # the best epoch's, which is what a fit that takes it must end with
        if getattr(net, "interrupted_", False) or self._written == len(net.history):
            return
        stopper = _early_stopping(net)
        stopped = stopper is not None and stopper.misses_ >= stopper.patience
        self._write(net, stopped=stopped)

    def _write(self, net: Any, *, stopped: bool) -> None:
        epoch = len(net.history)
        self._written = epoch
        if not _is_writer():
            return
        target = self.folder / f"epoch-{epoch:04d}"
        if target.is_dir():
            return  # another fit of the same trajectory wrote it
        self.folder.mkdir(parents=True, exist_ok=True)
        if not write_state(net, target, {**self.info, "stopped": stopped}):
            return
        # only the last epoch is resumed from: the earlier ones keep what a
        # fit that ends there needs (the model, history, early stopping)
        for earlier, path in _entries(self.folder).items():
            if earlier < epoch:
                for name in ("optimizer.safetensors", "rng.safetensors"):
                    try:
                        (path / name).unlink()
                    except OSError:
                        pass
        enforce_limit(self.folder.parent, keep=self.folder)


def _size(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:
            pass
    return total


def enforce_limit(store: Path, keep: Path | None = None) -> None:
    """Remove the least recently used trajectories of ``store`` until it
    holds at most :func:`size_limit` bytes (never ``keep``)."""
    limit = size_limit()
    folders = []
    for child in store.iterdir():
        if _TRAJECTORY.match(child.name) and child.is_dir():
            try:
                folders.append((child.stat().st_mtime, child, _size(child)))
            except OSError:
                pass
    total = sum(size for _, _, size in folders)
    for _, folder, size in sorted(folders, key=lambda item: item[0]):
        if total <= limit:
            break
        if keep is not None and folder == keep:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        total -= size
