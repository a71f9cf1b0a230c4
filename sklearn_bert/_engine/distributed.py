"""Data-parallel fine-tuning: one fit spread over the processes of a
``torchrun`` (or ``accelerate launch``) job with torch's
``DistributedDataParallel``.

Every process runs the same script and calls ``fit`` with the same data;
:func:`launched_world` reads where it stands from the launcher's environment
(``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``).
Then, in each process:

- :func:`join` starts the default process group once (gloo on the CPU, NCCL
  on CUDA, where each process takes the GPU ``LOCAL_RANK``) and
  :func:`agree` makes every process use process 0's seed, so the data split,
  the new head and the batches agree; :func:`check_same_data` stops a fit
  whose processes were given different rows, before any collective could
  hang on it;
- each global batch of ``batch_size`` rows, drawn as in a single-process
  fit, is split across the processes (:func:`shard_batch`): every process
  gets the same number of batches, so no collective waits forever, and the
  loss is scaled so that the gradients averaged by DDP are those of the
  global batch (the effective batch size is ``batch_size``, as in one
  process);
- :class:`DataParallelMixin` makes the net's training forward passes go
  through ``DistributedDataParallel`` (gradients all-reduced once per
  optimizer step: accumulation micro-batches run under ``no_sync``), while
  validation and inference use the plain module on the full validation set
  in every process (identical validation losses, so early stopping stops
  every process at the same epoch); the epoch's losses are averaged over the
  processes; only process 0 prints;
- at the end of ``fit`` the wrapper is dropped and the net becomes a plain
  single-process net: in every process the estimator predicts, pickles and
  saves to skops as any other (in-memory exports never ask who writes:
  ``_io.loading.dump_pretrained``), and :func:`is_writer` lets only
  process 0 write the files a user asks for (``save_pretrained``; the
  checkpoints of ``checkpoint_dir`` follow the same rule in
  ``_engine.checkpoint``).

skorch's ``AccelerateMixin`` is not used: in a trial with this net it gave
4 times the gradients under accumulation, sharded the validation set (so
early stopping could disagree between processes), needed ``device=None``
and failed to prepare a loss without parameters on the CPU; the few DDP
hooks here keep the net's own accumulation, validation and devices.
"""

from __future__ import annotations

import atexit
import inspect
import os
import zlib
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

#: Environment variables a launcher sets besides ``WORLD_SIZE``.
_LAUNCH_VARIABLES = ("RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class World:
    """This process's place in a launched job."""

    rank: int
    size: int
    local_rank: int


def launched_world() -> World | None:
    """The job this process was launched in, or None when it runs alone."""
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1:
        return None
    missing = [name for name in _LAUNCH_VARIABLES if not os.environ.get(name)]
    if missing:
        raise RuntimeError(
            f"WORLD_SIZE={size} is set but {', '.join(missing)} are not: start "
            "the script with `torchrun --nproc_per_node=N script.py` (or "
            "`accelerate launch`), which sets them."
        )
    rank = int(os.environ["RANK"])
    return World(rank, size, int(os.environ.get("LOCAL_RANK", rank)))


def is_writer(distributed: bool) -> bool:
    """Whether this process writes the files a user asks ``estimator`` for.

    Always, except in the processes other than 0 of a launched job fitting
    with ``distributed=True``: they hold the same model, and process 0 alone
    writes it. Only user-requested files (``save_pretrained``) consult this;
    pickles and skops files are made in every process.

    Parameters
    ----------
    distributed : bool
        The ``distributed`` parameter of the estimator asked to write.

    Returns
    -------
    bool
        True if this process writes the files.
    """
    if not distributed:
        return True
    world = launched_world()
    return world is None or world.rank == 0


def join(world: World, device: torch.device) -> torch.device:
    """Join the job's default process group (started once per process) and
    return this process's device: ``cuda:LOCAL_RANK`` for a CUDA ``device``
    without an index."""
    import torch.distributed as dist

    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        atexit.register(_leave)
    if dist.get_world_size() != world.size or dist.get_rank() != world.rank:
        raise RuntimeError(
            f"The process group (rank {dist.get_rank()} of "
            f"{dist.get_world_size()}) is not the launched job (rank "
            f"{world.rank} of {world.size})."
        )
    return device


def _leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def _collective_device() -> torch.device:
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def agree(seed: int) -> int:
    """Process 0's ``seed``, in every process."""
    import torch.distributed as dist

    value = torch.tensor([seed], dtype=torch.int64, device=_collective_device())
    dist.broadcast(value, src=0)
    return int(value.item())


def check_same_data(*datasets: Any) -> None:
    """Raise in every process unless all processes hold the same rows (their
    number and token lengths), before training could hang on a mismatch."""
    import torch.distributed as dist

    mine = []
    for dataset in datasets:
        lengths = np.zeros(0, np.int64) if dataset is None else dataset.lengths()
        mine += [len(lengths), zlib.crc32(np.ascontiguousarray(lengths).tobytes())]
    local = torch.tensor(mine, dtype=torch.int64, device=_collective_device())
    gathered = [torch.empty_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, local)
    if any(not torch.equal(g, gathered[0]) for g in gathered):
        rows = [int(g[0]) for g in gathered]
        raise ValueError(
            "distributed=True: the processes were given different training data "
            f"(training rows per process: {rows}); every process must call fit "
            "with the same X, y and sample_weight."
        )


# -- batches -----------------------------------------------------------------
def shard_batch(batch: Sequence[int], rank: int, size: int) -> list[tuple[int, float]]:
    """This process's rows of one global batch, each with its loss factor.

    Process ``rank`` takes rows ``rank, rank + size, ...``. The factor
    ``size * len(rows) / len(batch)`` turns the process's loss (a mean over
    its rows) into its share of the global batch's loss, so that the mean
    over processes DDP takes is the single-process loss of the whole batch.
    A process left without rows (a global batch smaller than ``size``) takes
    the batch's first row with factor 0: it still runs the forward and
    backward passes every process must run.
    """
    rows = list(batch[rank::size])
    if not rows:
        return [(int(batch[0]), 0.0)]
    factor = size * len(rows) / len(batch)
    return [(int(i), factor) for i in rows]


class ShardedBatches(torch.utils.data.Sampler):
    """The global batches of ``batches``, split across processes
    (:func:`shard_batch`): one (possibly padded) batch per global batch."""

    def __init__(self, batches: Any, rank: int, size: int):
        self.batches = batches
        self.rank = rank
        self.size = size

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[list[tuple[int, float]]]:
        for batch in self.batches:
            yield shard_batch(batch, self.rank, self.size)


class ScaledRows(torch.utils.data.Dataset):
    """``dataset`` read with ``(row, factor)`` keys: the row's weight is
    multiplied by the factor (weights scale the per-row losses)."""

    def __init__(self, dataset: Any):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, float]) -> Any:
        i, factor = key
        features, meta = self.dataset[i]
        return features, {**meta, "weight": meta["weight"] * np.float32(factor)}


# -- the net -----------------------------------------------------------------
class DataParallelMixin:
    """Training forward passes through ``DistributedDataParallel`` (see the
    module docstring). Mixed into ``BertNet`` (``_engine.net``), which
    provides ``_forward`` and ``_group``; ``world`` is the launched job."""

    world: World

    def fit_loop(self, X, y=None, **fit_params):
        from torch.nn.parallel import DistributedDataParallel

        device = torch.device(self.device)
        options: dict[str, Any] = {"find_unused_parameters": True}  # a pooler
        # No buffers to keep in sync (BERT's are constant position ids); the
        # newest torch names the option forward_sync_buffers.
        if (
            "forward_sync_buffers"
            in inspect.signature(DistributedDataParallel).parameters
        ):
            options["forward_sync_buffers"] = False
        else:  # pragma: no cover - older torch
            options["broadcast_buffers"] = False
        ddp = DistributedDataParallel(
            self.module_,
            device_ids=[device.index] if device.type == "cuda" else None,
            **options,
        )
        # skorch registers modules only in initialize_module: keep the wrapper
        # out of its bookkeeping.
        object.__setattr__(self, "_ddp", ddp)
        try:
            result = super().fit_loop(X, y, **fit_params)
        finally:
            object.__setattr__(self, "_ddp", None)
        import torch.distributed as dist

        dist.barrier()  # no process leaves the fit while others train
        return result

    def _forward(self, **inputs):
        ddp = getattr(self, "_ddp", None)
        if ddp is not None and self.module_.training:
            return ddp(**inputs)
        return super()._forward(**inputs)

    def train_step_single(self, batch, **fit_params):
        ddp = getattr(self, "_ddp", None)
        _, closes = self._group()
        # gradients are all-reduced on the batch that closes a group only
        with nullcontext() if ddp is None or closes else ddp.no_sync():
            return super().train_step_single(batch, **fit_params)

    def on_epoch_end(self, net, **kwargs):
        """Average the epoch's batch losses over the processes (before the
        callbacks turn them into ``train_loss`` and ``valid_loss``, and early
        stopping reads them): every process records the same losses."""
        import torch.distributed as dist

        super().on_epoch_end(net, **kwargs)
        batches = self.history[-1, "batches"]
        train = [b for b in batches if "train_loss" in b]
        valid = [b for b in batches if "valid_loss" in b]
        values = torch.tensor(
            [b["train_loss"] for b in train]
            + [b["train_batch_size"] for b in train]
            + [b["valid_loss"] for b in valid],
            dtype=torch.float64,
            device=_collective_device(),
        )
        dist.all_reduce(values)
        values = (values / self.world.size).tolist()
        n = len(train)
        for k, b in enumerate(train):
            b["train_loss"] = values[k]
            b["train_batch_size"] = int(round(values[n + k] * self.world.size))
        for k, b in enumerate(valid):
            b["valid_loss"] = values[2 * n + k]
