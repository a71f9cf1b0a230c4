"""Training data: tokenized rows with targets and weights, batching, splits.

- :class:`FeatureDataset`: tokenized rows (unpadded), one target and one
  weight per row.
- :class:`Collate`: pads a batch to its longest row and stacks the targets,
  weights and row numbers.
- :class:`LengthGroupedSampler`: batches of rows of similar length, drawn
  afresh every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from .._nn.losses import IGNORE_INDEX
from .._text.batching import pad_batch, row_length


class FeatureDataset(torch.utils.data.Dataset):
    """Tokenized rows with optional targets and per-row weights.

    Parameters
    ----------
    features : list of dict
        One dict per row of token-level sequences (``input_ids``, optionally
        ``token_type_ids`` and task extras), unpadded.
    targets : sequence or None
        One target per row: an int or float, a fixed-size array, or a list of
        token labels (padded with ``IGNORE_INDEX`` in a batch).
    weights : array-like or None
        One non-negative weight per row (sample weight times class weight).
    ids : array-like of int or None
        The rows' numbers in the dataset they were taken from (see
        :meth:`subset`), so that a scorer can find a row's metadata; default
        ``arange(n)``.
    """

    def __init__(
        self,
        features: Sequence[dict[str, Any]],
        targets: Sequence[Any] | None = None,
        weights: np.ndarray | None = None,
        ids: np.ndarray | None = None,
    ):
        self.features = list(features)
        self.targets = targets
        n = len(self.features)
        self.weights = (
            np.ones(n, dtype=np.float32)
            if weights is None
            else np.asarray(weights, dtype=np.float32)
        )
        self.ids = np.arange(n) if ids is None else np.asarray(ids, dtype=np.int64)
        self._lengths: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        target = 0 if self.targets is None else self.targets[i]
        return self.features[i], {
            "target": target,
            "weight": self.weights[i],
            "index": i,
        }

    def lengths(self) -> np.ndarray:
        """Tokens per row (of all its texts)."""
        if self._lengths is None:
            self._lengths = np.fromiter(
                (row_length(f) for f in self.features),
                dtype=np.int64,
                count=len(self.features),
            )
        return self._lengths

    def subset(self, indices: Sequence[int]) -> FeatureDataset:
        """The rows at ``indices`` as a new dataset (keeping their ``ids``)."""
        indices = np.asarray(indices, dtype=np.int64)
        targets = None if self.targets is None else [self.targets[i] for i in indices]
        return FeatureDataset(
            [self.features[i] for i in indices],
            targets,
            self.weights[indices],
            self.ids[indices],
        )


def _stack_targets(targets: list[Any]) -> torch.Tensor:
    first = targets[0]
    if isinstance(first, list):  # token-level labels: pad to the longest row
        width = max(len(t) for t in targets)
        return torch.tensor(
            [t + [IGNORE_INDEX] * (width - len(t)) for t in targets],
            dtype=torch.long,
        )
    return torch.as_tensor(np.stack([np.asarray(t) for t in targets]))


class Collate:
    """A picklable ``collate_fn``: pads the features, stacks the targets.

    Returns ``(X, y)``: ``X`` the padded tensors (with ``attention_mask``),
    ``y`` a dict of ``target``, ``weight`` and ``index`` (the rows' numbers
    in their dataset, so that outputs can be matched to rows).
    """

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, items):
        X = pad_batch([x for x, _ in items], self.pad_token_id)
        return X, collate_meta([m for _, m in items])


def collate_meta(meta: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Stack the ``target``, ``weight`` and ``index`` of a batch's rows."""
    return {
        "target": _stack_targets([m["target"] for m in meta]),
        "weight": torch.as_tensor(
            np.asarray([m["weight"] for m in meta], dtype=np.float32)
        ),
        "index": torch.as_tensor(
            np.asarray([m["index"] for m in meta], dtype=np.int64)
        ),
    }


class LengthGroupedSampler(torch.utils.data.Sampler):
    """Batches of rows of similar length, composed afresh every epoch.

    Each epoch the rows are ranked by length (ties in random order), each
    rank is jittered by a random offset of up to ``jitter_batches`` batches,
    and the rows, sorted by the jittered rank, are cut into batches, which are
    then shuffled. Neighbours thus change every epoch while batches stay close
    in length: on 900 fine-food reviews (batch 16) this computes 9 % more
    tokens than a full sort by length (which fixes the batches) and 2.5 times
    fewer than plain shuffled batches. On a few hundred rows the jitter spans
    most of the data, so batches are nearly as mixed as shuffled ones. With
    ``group_by_length=False`` batches are plain shuffled slices. With a
    ``seed``, epoch ``e`` draws its batches from a generator seeded with
    ``(seed, e)``: the batches depend on nothing else drawn during training
    (dropout), which data-parallel processes rely on to draw the same
    batches, and a fit resumed at epoch ``first_epoch`` draws the batches the
    uninterrupted fit would have. Without one, torch's global generator is
    used.
    """

    #: How far (in batches) a row's place in the length order may move.
    jitter_batches = 4

    def __init__(
        self,
        lengths: np.ndarray,
        batch_size: int,
        *,
        group_by_length: bool = True,
        seed: int | None = None,
        first_epoch: int = 0,
    ):
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.group_by_length = group_by_length
        self.seed = seed
        self.epoch = first_epoch

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        n = len(self.lengths)
        size = self.batch_size
        generator = None
        if self.seed is not None:
            generator = torch.Generator().manual_seed(
                int(
                    np.random.SeedSequence([self.seed, self.epoch]).generate_state(1)[0]
                )
            )
        self.epoch += 1
        order = torch.randperm(n, generator=generator).numpy()
        if self.group_by_length:
            ranks = np.empty(n)
            ranks[order[np.argsort(-self.lengths[order], kind="stable")]] = np.arange(n)
            jitter = torch.rand(n, dtype=torch.float64, generator=generator).numpy()
            order = np.argsort(ranks + jitter * self.jitter_batches * size)
        batches = [order[i : i + size].tolist() for i in range(0, n, size)]
        shuffled = torch.randperm(len(batches), generator=generator).tolist()
        return iter([batches[i] for i in shuffled])


def training_loader(
    dataset: Any,
    batch_size: int,
    collate_fn: Any = None,
    group_by_length: bool = True,
    seed: int | None = None,
    first_epoch: int = 0,
    rank: int = 0,
    world_size: int = 1,
    **kwargs: Any,
) -> torch.utils.data.DataLoader:
    """The training ``DataLoader`` (skorch's ``iterator_train``).

    ``seed`` gives the batches generators of their own, one per epoch
    counted from ``first_epoch`` (see :class:`LengthGroupedSampler`). With
    ``world_size``
    processes, each global batch of ``batch_size`` rows is split across them
    and this loader yields process ``rank``'s share (see
    :mod:`._engine.distributed`).
    """
    kwargs.pop("shuffle", None)  # the sampler always shuffles
    sampler: Any = LengthGroupedSampler(
        dataset.lengths(),
        batch_size,
        group_by_length=group_by_length,
        seed=seed,
        first_epoch=first_epoch,
    )
    if world_size > 1:
        from .distributed import ScaledRows, ShardedBatches

        sampler = ShardedBatches(sampler, rank, world_size)
        dataset = ScaledRows(dataset)
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate_fn, **kwargs
    )


def validation_loader(
    dataset: Any, batch_size: int, collate_fn: Any = None, **kwargs: Any
) -> torch.utils.data.DataLoader:
    """The validation ``DataLoader``: length-sorted batches (less padding)."""
    from .._text.batching import length_sorted_batches

    kwargs.pop("shuffle", None)
    batches = [b.tolist() for b in length_sorted_batches(dataset.lengths(), batch_size)]
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=batches, collate_fn=collate_fn, **kwargs
    )
