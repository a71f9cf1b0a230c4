"""skorch glue shared by every fine-tuning estimator.

The estimators own a :class:`BertNet` (a skorch ``NeuralNet``) in ``net_``;
this module holds what they share:

- :class:`FeatureDataset`: tokenized rows with targets and per-row weights;
  :func:`make_collate` pads each batch to its longest row (dynamic padding).
- :class:`BertNet`: AdamW with linear warmup and decay computed from the data
  actually passed to ``fit``, gradient accumulation, gradient clipping,
  autocast precision, weighted losses.
- :func:`build_net`: the callbacks (epoch table, progress bars, early
  stopping with the best weights restored, validation score) and settings.
- :func:`predict_batches`: length-sorted inference without gradients.

Task estimators supply the module, a per-row loss and a validation scorer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from skorch.dataset import unpack_data

from ._device import autocast
from ._encode import length_sorted_batches, pad_batch
from ._finetune import TRAINING_CONSTRAINTS  # noqa: F401  (re-exported)

#: Targets that are token sequences are padded with this value (ignored).
IGNORE_INDEX = -100


class FeatureDataset(torch.utils.data.Dataset):
    """Tokenized rows with optional targets and per-row weights.

    Parameters
    ----------
    features : list of dict
        One dict per row of token-level lists (``input_ids``, optionally
        ``token_type_ids``), as returned by the tokenizer without padding.
    targets : sequence or None
        One target per row: an int or float, a fixed-size array, or a list of
        token labels (padded with ``IGNORE_INDEX`` in a batch).
    weights : array-like or None
        One non-negative weight per row (sample weight times class weight).
    """

    def __init__(
        self,
        features: Sequence[dict[str, list[int]]],
        targets: Sequence[Any] | None = None,
        weights: np.ndarray | None = None,
    ):
        self.features = list(features)
        self.targets = targets
        n = len(self.features)
        self.weights = (
            np.ones(n, dtype=np.float32)
            if weights is None
            else np.asarray(weights, dtype=np.float32)
        )

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> tuple[dict[str, list[int]], dict[str, Any]]:
        target = 0 if self.targets is None else self.targets[i]
        return self.features[i], {"target": target, "weight": self.weights[i]}

    def lengths(self) -> np.ndarray:
        return np.array([len(f["input_ids"]) for f in self.features])

    def subset(self, indices: Sequence[int]) -> FeatureDataset:
        """The rows at ``indices`` as a new dataset."""
        targets = None if self.targets is None else [self.targets[i] for i in indices]
        return FeatureDataset(
            [self.features[i] for i in indices], targets, self.weights[indices]
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
    """A picklable ``collate_fn`` padding features and targets per batch."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, items):
        features = [x for x, _ in items]
        meta = [y for _, y in items]
        X = pad_batch(features, self.pad_token_id)
        y = {
            "target": _stack_targets([m["target"] for m in meta]),
            "weight": torch.as_tensor(
                np.asarray([m["weight"] for m in meta], dtype=np.float32)
            ),
        }
        return X, y


def make_collate(pad_token_id: int) -> Callable:
    """A ``collate_fn`` padding features and targets to the batch's longest row."""
    return Collate(pad_token_id)


def linear_schedule(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """LR multiplier: linear warmup to 1, then linear decay to 0."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        remaining = total_steps - step
        return max(0.0, remaining / max(1, total_steps - warmup_steps))

    return factor


def count_optimizer_steps(
    n_train: int, batch_size: int, accumulation: int, max_epochs: int
) -> int:
    """Optimizer steps of a whole fit, from the number of training rows."""
    batches = math.ceil(n_train / batch_size)
    return max(1, math.ceil(batches / accumulation) * max_epochs)


class BertNet(NeuralNet):
    """skorch ``NeuralNet`` with the fine-tuning recipe of the estimators.

    Parameters beyond ``NeuralNet``'s
    ---------------------------------
    num_training_steps : int
        Optimizer steps of the whole fit, for the LR schedule.
    warmup_ratio : float
        Fraction of those steps with a linear warmup.
    gradient_accumulation_steps : int
        Batches whose gradients add up before one optimizer step.
    precision : str
        Autocast precision of forward passes.
    max_grad_norm : float or None
        Gradient clipping norm.

    The criterion returns one loss per row (or a scalar); rows are weighted
    by the batch's ``weight`` target.
    """

    def __init__(
        self,
        *args,
        num_training_steps=1,
        warmup_ratio=0.0,
        gradient_accumulation_steps=1,
        precision="float32",
        max_grad_norm=1.0,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.num_training_steps = num_training_steps
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.precision = precision
        self.max_grad_norm = max_grad_norm

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        warmup = int(round(self.warmup_ratio * self.num_training_steps))
        self.scheduler_ = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer_, linear_schedule(warmup, self.num_training_steps)
        )
        self._pending_batches = 0
        return self

    def infer(self, x, **fit_params):
        x = {k: v.to(self.device) for k, v in x.items()}
        with autocast(torch.device(self.device), self.precision):
            return self.module_(**x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target = y_true["target"].to(self.device)
        weight = y_true["weight"].to(self.device)
        losses = self.criterion_(_to_float(y_pred), target)
        if losses.ndim == 0:
            return losses
        return (losses * weight).sum() / weight.sum().clamp(min=1e-12)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if training and iterator is not None:
            self._batches_left = len(iterator)
        return super().run_single_epoch(
            iterator, training, prefix, step_fn, **fit_params
        )

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        (loss / self.gradient_accumulation_steps).backward()
        return {"loss": loss.detach(), "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        step = self.train_step_single(batch, **fit_params)
        self._pending_batches += 1
        self._batches_left = getattr(self, "_batches_left", 1) - 1
        if (
            self._pending_batches >= self.gradient_accumulation_steps
            or self._batches_left <= 0
        ):
            if self.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(
                    (p for p in self.module_.parameters() if p.requires_grad),
                    self.max_grad_norm,
                )
            self.optimizer_.step()
            self.scheduler_.step()
            self.optimizer_.zero_grad(set_to_none=True)
            self._pending_batches = 0
        return step

    def release_training_state(self) -> None:
        """Drop what only training needs (optimizer moments, best-weight copies)."""
        if getattr(self, "optimizer_", None) is not None:
            self.optimizer_.state.clear()
            self.optimizer_.zero_grad(set_to_none=True)
        for _, callback in getattr(self, "callbacks_", []):
            if hasattr(callback, "best_model_weights_"):
                callback.best_model_weights_ = None
        # The schedule is a closure (not picklable) and only serves training;
        # the validation rows are only needed while fitting.
        self.scheduler_ = None
        if isinstance(self.train_split, _NoValidSplit):
            self.train_split.valid = None

    # ``module`` and ``criterion`` are the very instances that ``module_`` and
    # ``criterion_`` hold, which skorch pickles in its device-aware blob.
    # Plain pickling would store the weights a second time, with their
    # device (a CUDA-trained net would not unpickle without CUDA): store
    # them once, in the blob.
    def __getstate__(self):
        state = super().__getstate__()
        for name in ("module", "criterion"):
            if name in state and state[name] is getattr(self, f"{name}_", None):
                state[name] = _SameAsFitted()
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        for name in ("module", "criterion"):
            if isinstance(self.__dict__.get(name), _SameAsFitted):
                self.__dict__[name] = self.__dict__[f"{name}_"]


class _SameAsFitted:
    """Pickled in place of a parameter that is its fitted attribute."""


def _to_float(y_pred):
    if isinstance(y_pred, torch.Tensor):
        return y_pred.float()
    if isinstance(y_pred, tuple | list):
        return type(y_pred)(_to_float(p) for p in y_pred)
    return y_pred


class ValidScore(Callback):
    """Record a task score on the validation set after each epoch."""

    def __init__(self, scorer: Callable[[Any, FeatureDataset], float], name: str):
        self.scorer = scorer
        self.name = name

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is not None:
            net.history.record(self.name, float(self.scorer(net, dataset_valid)))


class _NoValidSplit:
    """A ``train_split`` returning a fixed validation dataset (or none)."""

    def __init__(self, valid: FeatureDataset | None):
        self.valid = valid

    def __call__(self, dataset, y=None, **kwargs):
        return dataset, self.valid


def build_net(
    module: torch.nn.Module,
    criterion: torch.nn.Module,
    *,
    estimator: Any,
    n_train: int,
    valid: FeatureDataset | None,
    pad_token_id: int,
    device: Any,
    scorer: Callable[[Any, FeatureDataset], float] | None = None,
    score_name: str = "valid_score",
    collate: Callable | None = None,
    valid_collate: Callable | None = None,
) -> BertNet:
    """A :class:`BertNet` configured from an estimator's training parameters.

    ``estimator`` provides ``max_epochs``, ``lr``, ``weight_decay``,
    ``warmup_ratio``, ``gradient_accumulation_steps``, ``batch_size``,
    ``early_stopping``, ``n_iter_no_change``, ``precision``, ``verbose`` and
    ``callbacks``. ``collate`` replaces the default padding collate of the
    training batches (for example dynamic masking), ``valid_collate`` that of
    the validation batches (default: ``collate``).
    """
    est = estimator
    if collate is None:
        collate = make_collate(pad_token_id)
    if valid_collate is None:
        valid_collate = collate
    callbacks: list[tuple[str, Callback]] = []
    if valid is not None and scorer is not None:
        callbacks.append((score_name, ValidScore(scorer, score_name)))
    if valid is not None and est.early_stopping:
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss",
                    patience=est.n_iter_no_change,
                    load_best=True,
                    sink=_silent if est.verbose < 1 else print,
                ),
            )
        )
    if est.verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    callbacks.extend((f"user_{i}", cb) for i, cb in enumerate(est.callbacks or []))
    no_decay = [("*bias", {"weight_decay": 0.0})]
    no_decay += [(p, {"weight_decay": 0.0}) for p in ("*LayerNorm*", "*norm*")]
    net = BertNet(
        module=module,
        criterion=criterion,
        optimizer=torch.optim.AdamW,
        lr=est.lr,
        optimizer__weight_decay=est.weight_decay,
        optimizer__param_groups=no_decay,
        max_epochs=est.max_epochs,
        batch_size=est.batch_size,
        iterator_train=bucketed_loader,
        iterator_train__shuffle=True,
        iterator_train__collate_fn=collate,
        iterator_valid__collate_fn=valid_collate,
        train_split=_NoValidSplit(valid),
        callbacks=callbacks,
        device=str(device),
        verbose=int(est.verbose >= 1),
        num_training_steps=count_optimizer_steps(
            n_train, est.batch_size, est.gradient_accumulation_steps, est.max_epochs
        ),
        warmup_ratio=est.warmup_ratio,
        gradient_accumulation_steps=est.gradient_accumulation_steps,
        precision=est.precision,
    )
    return net


def _silent(*args, **kwargs) -> None:
    return None


class LengthBucketSampler(torch.utils.data.Sampler):
    """Shuffled batches of rows of similar length (less padding in training).

    Each epoch the rows are shuffled, cut into pools of ``pool_batches``
    batches, sorted by length inside each pool, batched, and the batches are
    shuffled again. Randomness comes from torch's generator, so a seeded fit
    is reproducible.
    """

    def __init__(
        self,
        lengths: np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        pool_batches: int = 50,
    ):
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool_batches = pool_batches

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        n = len(self.lengths)
        order = torch.randperm(n).numpy() if self.shuffle else np.arange(n)
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, n, pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]
            batches.extend(
                chunk[i : i + self.batch_size].tolist()
                for i in range(0, len(chunk), self.batch_size)
            )
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches)).tolist()]
        return iter(batches)


def bucketed_loader(
    dataset: Any,
    batch_size: int,
    shuffle: bool = True,
    collate_fn: Callable | None = None,
    **kwargs: Any,
) -> torch.utils.data.DataLoader:
    """The training ``DataLoader``: length-bucketed batches when the dataset
    knows its row lengths, plain (shuffled) batches otherwise."""
    if not hasattr(dataset, "lengths"):
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            collate_fn=collate_fn,
            **kwargs,
        )
    sampler = LengthBucketSampler(dataset.lengths(), batch_size, shuffle)
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate_fn, **kwargs
    )


def predict_batches(
    net: BertNet, dataset: FeatureDataset, batch_size: int
) -> Iterator[tuple[np.ndarray, Any]]:
    """Run the module on length-sorted batches without gradients.

    Yields ``(indices, output)`` pairs; ``output`` is whatever the module
    returns (tensors in float32 on the CPU, nested as returned).
    """
    module = net.module_
    module.eval()
    device = torch.device(net.device)
    collate = net.iterator_valid__collate_fn  # the padding used in fit
    with torch.inference_mode():
        for idx in length_sorted_batches(dataset.lengths(), batch_size):
            X, _ = collate([dataset[i] for i in idx])
            with autocast(device, net.precision):
                out = module(**{k: v.to(device) for k, v in X.items()})
            yield idx, _to_cpu(out)


def _to_cpu(out):
    if isinstance(out, torch.Tensor):
        return out.float().cpu()
    if isinstance(out, tuple | list):
        return type(out)(_to_cpu(o) for o in out)
    return out


def split_train_valid(
    n_samples: int,
    *,
    early_stopping: bool,
    validation_fraction: float,
    stratify: np.ndarray | None,
    random_state: int,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and validation row indices (validation only for early stopping).

    Stratified on ``stratify`` when given and possible. With ``groups`` (one
    group id per row, for example the sentence of each window of a long
    sentence), whole groups go to one side: ``validation_fraction`` is then a
    fraction of the groups, and ``stratify`` is ignored.
    """
    indices = np.arange(n_samples)
    if not early_stopping:
        return indices, None
    if groups is not None:
        _, inverse = np.unique(np.asarray(groups), return_inverse=True)
        _, valid_groups = split_train_valid(
            int(inverse.max()) + 1,
            early_stopping=True,
            validation_fraction=validation_fraction,
            stratify=None,
            random_state=random_state,
        )
        in_valid = np.isin(inverse, valid_groups)
        return indices[~in_valid], indices[in_valid]
    from sklearn.model_selection import train_test_split

    n_valid = int(math.ceil(validation_fraction * n_samples))
    if n_valid < 1 or n_samples - n_valid < 1:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves no training or no "
            f"validation rows out of {n_samples}; use more data or "
            "early_stopping=False."
        )
    strat = stratify
    if strat is not None:
        _, counts = np.unique(strat, return_counts=True, axis=0)
        if counts.min() < 2 or n_valid < len(counts):
            strat = None
    train, valid = train_test_split(
        indices,
        test_size=n_valid,
        random_state=random_state,
        stratify=strat,
    )
    return np.sort(train), np.sort(valid)


def freeze_layers(
    encoder: torch.nn.Module, freeze_encoder: bool, trainable_layers: int | None
) -> None:
    """Freeze the encoder's weights as asked (the task head always trains).

    ``freeze_encoder=True`` freezes all of the encoder. Otherwise
    ``trainable_layers=k`` keeps only the top ``k`` transformer layers
    trainable (embeddings and lower layers frozen); None trains everything.
    """
    if not freeze_encoder and trainable_layers is None:
        return
    for p in encoder.parameters():
        p.requires_grad_(False)
    if freeze_encoder or trainable_layers == 0:
        return
    for layer in _encoder_layers(encoder)[-int(trainable_layers) :]:
        for p in layer.parameters():
            p.requires_grad_(True)


def _encoder_layers(encoder: torch.nn.Module) -> list[torch.nn.Module]:
    """The stack of transformer blocks of any supported family."""
    best: list[torch.nn.Module] = []
    for _, child in encoder.named_modules():
        if isinstance(child, torch.nn.ModuleList) and len(child) > len(best):
            best = list(child)
    if not best:
        raise ValueError("Could not find the transformer layers of this encoder.")
    return best
