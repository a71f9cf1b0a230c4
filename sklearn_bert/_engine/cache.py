"""Embedding caches that outlive an estimator: in memory or in a folder.

A cache maps ``(space, row)`` to a float32 vector. The *space* names
everything that decides a vector besides the text: the model's weights (a
digest of their bytes), pooling, ``max_length``, long-text handling, stride,
normalisation and precision; a changed setting is another space, so it never
returns stale vectors. A row's key is a digest of its text (and the second
text of a pair).

- :class:`MemoryCache` (``cache=True``): one per process, shared by every
  estimator (and so by the clones of a grid search); thread-safe.
- :class:`FolderCache` (``cache="path"``): an SQLite file in the folder,
  shared by processes (workers of a search or of a Dask cluster); SQLite's
  own locking makes concurrent readers and writers safe.

Also here: the digest of a model's weights, and a registry of frozen models
loaded once per process for estimators that cache (so the clones of a search
do not each load the same checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: File name of a folder cache.
CACHE_FILE = "sklearn_bert_embeddings.sqlite3"
#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT = 120

_lock = threading.Lock()
_memory: dict[str, dict[bytes, np.ndarray]] = {}
_digests: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_file_digests: dict[tuple[str, int, int], str] = {}
_frozen_models: dict[tuple[str, str], tuple[Any, Any]] = {}


def row_key(row: Sequence[str]) -> bytes:
    """The key of one row (a text, or the texts of a pair)."""
    data = "\x1f".join(row).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).digest()


def space_key(**settings: Any) -> str:
    """The space of a set of settings (a short hex digest of their JSON)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class MemoryCache:
    """Vectors kept in this process's memory (see the module docstring)."""

    def get(self, space: str, keys: list[bytes]) -> dict[int, np.ndarray]:
        with _lock:
            store = _memory.get(space, {})
            return {i: store[k] for i, k in enumerate(keys) if k in store}

    def put(self, space: str, keys: list[bytes], vectors: np.ndarray) -> None:
        with _lock:
            store = _memory.setdefault(space, {})
            for key, vector in zip(keys, vectors, strict=True):
                store[key] = vector.copy()


class FolderCache:
    """Vectors kept in an SQLite file in ``folder`` (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(
                f"cache={os.fspath(folder)!r} is a file; pass a folder (created "
                "if needed) or cache=True for an in-memory cache."
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / CACHE_FILE

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
        try:
            _retry_while_locked(lambda: _initialise(connection))
        except BaseException:
            connection.close()
            raise
        return connection

    def get(self, space: str, keys: list[bytes]) -> dict[int, np.ndarray]:
        position = {k: i for i, k in enumerate(keys)}
        found: dict[int, np.ndarray] = {}
        connection = self._connect()
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, vector FROM vectors WHERE space = ? "
                    f"AND key IN ({marks})",
                    [space, *chunk],
                )
                for key, blob in rows:
                    found[position[key]] = np.frombuffer(blob, dtype=np.float32)
        finally:
            connection.close()
        return found

    def put(self, space: str, keys: list[bytes], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR IGNORE INTO vectors VALUES (?, ?, ?, ?)",
                    [
                        (space, key, vector.shape[0], vector.tobytes())
                        for key, vector in zip(keys, vectors, strict=True)
                    ],
                )
        finally:
            connection.close()


def _initialise(connection: sqlite3.Connection) -> None:
    """WAL mode (kept in the file, so set once) and the table."""
    (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    if str(mode).lower() != "wal":
        connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS vectors (space TEXT, key BLOB, "
        "dim INTEGER, vector BLOB, PRIMARY KEY (space, key))"
    )


def _retry_while_locked(step: Callable[[], Any]) -> Any:
    """Run ``step``, again while SQLite says the file is locked.

    Switching a new file to WAL mode takes an exclusive lock, and SQLite
    answers "database is locked" at once, without waiting for its busy
    timeout, when two connections would otherwise wait for each other; that
    happens when several writers open a new cache folder together.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.01
    while True:
        try:
            return step()
        except sqlite3.OperationalError as error:
            locked = "locked" in str(error) or "busy" in str(error)
            if not locked or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.5)


def open_cache(cache: Any) -> MemoryCache | FolderCache | None:
    """The cache a ``cache`` parameter names (None for no cache)."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return MemoryCache()
    return FolderCache(cache)


def cached_rows(
    cache: MemoryCache | FolderCache,
    space: str,
    rows: list[tuple[str, ...]],
    compute: Callable[[list[int]], np.ndarray],
) -> np.ndarray:
    """Vectors of ``rows``: from the cache, and ``compute(missing positions)``
    for the others (then stored)."""
    keys = [row_key(r) for r in rows]
    found = cache.get(space, keys)
    missing = [i for i in range(len(rows)) if i not in found]
    fresh = compute(missing) if missing else None
    if fresh is not None:
        cache.put(space, [keys[i] for i in missing], fresh)
    dim = fresh.shape[1] if fresh is not None else len(next(iter(found.values())))
    out = np.empty((len(rows), dim), dtype=np.float32)
    for i, vector in found.items():
        out[i] = vector
    if fresh is not None:
        out[missing] = fresh
    return out


def weights_digest(model: Any, folder: str | None = None) -> str:
    """A digest of a model's weights.

    For a model loaded unchanged from ``folder``: of the folder's safetensors
    files (computed once per process per file version). Otherwise: of the
    model's tensors (computed once per model object).
    """
    if folder is not None:
        files = sorted(Path(folder).glob("*.safetensors"))
        if files:
            return "+".join(_file_digest(f) for f in files)
    with _lock:
        known = _digests.get(model)
    if known is not None:
        return known
    value = tensor_digest(model)
    with _lock:
        _digests[model] = value
    return value


def tensor_digest(model: Any) -> str:
    """A digest of a torch module's tensors as they are now (not cached)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        data = tensor.detach().to("cpu").contiguous().view(-1)
        digest.update(data.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:32]


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key in _file_digests:
            return _file_digests[key]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()[:32]
    with _lock:
        _file_digests[key] = value
    return value


def shared_frozen_model(folder: str, load: Callable[[], tuple[Any, Any]]):
    """``(tokenizer, model)`` of a frozen checkpoint, loaded once per process.

    Only for estimators that never change the weights (a ``BertTransformer``
    without fine-tuning, with a cache): the clones of a search share one copy.
    """
    key = (str(Path(folder).resolve()), weights_digest(None, folder))
    with _lock:
        if key in _frozen_models:
            return _frozen_models[key]
    loaded = load()
    with _lock:
        return _frozen_models.setdefault(key, loaded)


def clear_cache() -> None:
    """Empty the in-memory embedding cache, the shared frozen models and the
    temporary training store of ``training_store=True``.

    Folder caches and stores are files: delete the folder to empty one.

    Examples
    --------
    >>> from sklearn_bert import clear_cache
    >>> clear_cache()
    """
    from .store import clear_process_store

    with _lock:
        _memory.clear()
        _frozen_models.clear()
    clear_process_store()
