"""The skorch net every fine-tuning estimator trains with.

:class:`BertNet` is a skorch ``NeuralNet`` with the recipe of the library:

- AdamW (one fused kernel on the CPU and CUDA) with a linear warmup and
  decay computed from the rows actually passed to ``fit``; no weight decay
  on biases and normalisation weights;
- weights that mean repetition, as in scikit-learn: a batch's loss is
  ``sum(w_i * loss_i) / (mean_w * batch_rows)`` with ``mean_w`` the mean
  weight of all training rows, so a row of weight 2 counts like two copies
  and every batch is on the same scale;
- gradient accumulation in groups of ``gradient_accumulation_steps``
  batches, the last, partial group of an epoch scaled by its own size;
- gradient clipping, and a gradient scaler for float16 autocast;
- ``on_grad_computed`` notified once per optimizer step, with the complete
  (accumulated, unscaled) gradients;
- early stopping by one callback (:class:`~._engine.stopping.EarlyStopper`)
  that ends training with its own exception, told apart from a real
  ``KeyboardInterrupt``;
- pickles holding plain data: the module's Hugging Face folder and head
  weights, the loss's name and arguments, the history.

:func:`build_net` configures one from an estimator's parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, ProgressBar
from skorch.dataset import unpack_data
from skorch.history import History
from skorch.utils import TeeGenerator

from .._nn.losses import loss_from_spec, loss_to_spec
from .._nn.portable import export_module, import_module
from .data import Collate, FeatureDataset, training_loader, validation_loader
from .device import autocast
from .distributed import DataParallelMixin, World
from .progress import TrackedLoader
from .stopping import EarlyStopper, StopTraining, user_stopped


def linear_schedule(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """LR multiplier: linear warmup to 1, then linear decay to 0."""
    return _LinearSchedule(warmup_steps, total_steps)


def constant_schedule(warmup_steps: int) -> Callable[[int], float]:
    """LR multiplier: linear warmup to 1, then 1 (no dependence on the length
    of training, so the first epochs of a longer fit are those of a shorter
    one)."""
    return _ConstantSchedule(warmup_steps)


class _LinearSchedule:
    def __init__(self, warmup_steps: int, total_steps: int):
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        remaining = self.total_steps - step
        return max(0.0, remaining / max(1, self.total_steps - self.warmup_steps))


class _ConstantSchedule:
    def __init__(self, warmup_steps: int):
        self.warmup_steps = warmup_steps

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        return 1.0


def steps_per_epoch(n_train: int, batch_size: int, accumulation: int) -> int:
    """Optimizer steps of one epoch over ``n_train`` rows."""
    return math.ceil(math.ceil(n_train / batch_size) / accumulation)


def count_optimizer_steps(
    n_train: int, batch_size: int, accumulation: int, max_epochs: int
) -> int:
    """Optimizer steps of a whole fit, from the number of training rows."""
    return max(1, steps_per_epoch(n_train, batch_size, accumulation) * max_epochs)


class BertNet(NeuralNet):
    """skorch ``NeuralNet`` with the fine-tuning recipe (see the module doc).

    Parameters beyond ``NeuralNet``'s
    ---------------------------------
    num_training_steps : int
        Optimizer steps of the whole fit, for the LR schedule.
    warmup_ratio : float
        Fraction of those steps with a linear warmup (``lr_schedule="linear"``).
    lr_schedule : {"linear", "constant"}
        After the warmup: decay linearly to 0 at ``num_training_steps``, or
        stay at the peak.
    warmup_steps : int or None
        Steps of the warmup; None: ``warmup_ratio`` of ``num_training_steps``.
    gradient_accumulation_steps : int
        Batches whose gradients add up before one optimizer step.
    precision : str
        Autocast precision of forward passes.
    max_grad_norm : float or None
        Gradient clipping norm.
    weight_scale : float
        Mean weight of the training rows (the loss's normaliser).
    head_lr : float or None
        Peak learning rate of the module's head (its ``head_modules()``);
        None uses ``lr``.
    progress : bool
        Print a progress line now and then during a long training or
        validation epoch (see :mod:`._engine.progress`).
    """

    def __init__(
        self,
        *args,
        num_training_steps=1,
        warmup_ratio=0.0,
        lr_schedule="linear",
        warmup_steps=None,
        gradient_accumulation_steps=1,
        precision="float32",
        max_grad_norm=1.0,
        weight_scale=1.0,
        head_lr=None,
        progress=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.head_lr = head_lr
        self.progress = progress
        self.num_training_steps = num_training_steps
        self.warmup_ratio = warmup_ratio
        self.lr_schedule = lr_schedule
        self.warmup_steps = warmup_steps
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.precision = precision
        self.max_grad_norm = max_grad_norm
        self.weight_scale = weight_scale

    # -- optimisation --------------------------------------------------------
    def initialize_optimizer(self, *args, **kwargs):
        _, options = self.get_params_for_optimizer("optimizer", [])
        options.pop("param_groups", None)
        weight_decay = options.pop("weight_decay", 0.0)
        groups = param_groups(
            self.module_,
            lr=self.lr,
            head_lr=self.lr if self.head_lr is None else self.head_lr,
            weight_decay=weight_decay,
        )
        options["lr"] = self.lr
        if self.optimizer is torch.optim.AdamW and fused_adamw(groups, options):
            options["fused"] = True
        self.optimizer_ = self.optimizer(groups, **options)
        warmup = self.warmup_steps
        if warmup is None:
            warmup = int(round(self.warmup_ratio * self.num_training_steps))
        schedule = (
            constant_schedule(warmup)
            if self.lr_schedule == "constant"
            else linear_schedule(warmup, self.num_training_steps)
        )
        self.scheduler_ = torch.optim.lr_scheduler.LambdaLR(self.optimizer_, schedule)
        self.grad_scaler_ = torch.amp.GradScaler(
            torch.device(self.device).type, enabled=self.precision == "float16"
        )
        self._batch_number = 0
        self._n_batches = 1
        return self

    def infer(self, x, **fit_params):
        device = torch.device(self.device)
        x = {k: v.to(device) for k, v in x.items()}
        with autocast(device, self.precision):
            return self._forward(**x, **fit_params)

    def _forward(self, **inputs):
        """The module's forward pass (data-parallel training wraps it)."""
        return self.module_(**inputs)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target = y_true["target"].to(self.device)
        losses = self.criterion_(_to_float(y_pred), target)
        if losses.ndim == 0:
            return losses
        weight = y_true["weight"].to(self.device)
        return (losses * weight).sum() / (self.weight_scale * len(weight))

    def fit_loop(self, X, y=None, **fit_params):
        # skorch documents ``fit_loop`` as one to leave alone; this wrapper
        # adds no bookkeeping of its own. It tells the two ways a fit can end
        # early apart: early stopping (``StopTraining``, see
        # ``_engine.stopping``) completes the fit; a real ``KeyboardInterrupt``,
        # which skorch's ``partial_fit`` swallows, is remembered, so that the
        # estimator's fit raises instead of keeping a half-trained model.
        self.interrupted_ = False
        epochs = fit_params.get("epochs")
        # the number of the fit's last epoch, for the progress lines
        self._last_epoch = len(self.history) + (
            self.max_epochs if epochs is None else epochs
        )
        try:
            return super().fit_loop(X, y, **fit_params)
        except StopTraining:
            return self
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise
        finally:
            del self._last_epoch

    def notify(self, method_name, **cb_kwargs):
        # A user's skorch ``EarlyStopping`` ends training the skorch way, by
        # raising ``KeyboardInterrupt`` from ``on_epoch_end``: when its own
        # state says it stopped, that is early stopping, not an interruption.
        if method_name != "on_epoch_end":
            return super().notify(method_name, **cb_kwargs)
        self.on_epoch_end(self, **cb_kwargs)
        for _, callback in self.callbacks_:
            try:
                callback.on_epoch_end(self, **cb_kwargs)
            except KeyboardInterrupt:
                if user_stopped(callback):
                    raise StopTraining from None
                raise
        return None

    def get_iterator(self, dataset, training=False):
        if training:  # the epochs already trained (a resumed or continued fit)
            self.iterator_train__first_epoch = len(self.history)
        iterator = super().get_iterator(dataset, training=training)
        if training:  # accumulation groups close at the epoch's last batch
            self._n_batches = len(iterator)
        if self.progress and hasattr(self, "_last_epoch"):
            iterator = TrackedLoader(iterator, self._epoch_label(training))
        return iterator

    def _epoch_label(self, training: bool) -> Callable[[], str]:
        """The progress label of the epoch a pass over the training (or
        validation) batches belongs to (skorch opens the epoch's history row
        before the pass)."""

        def label() -> str:
            epoch = f"epoch {len(self.history)}/{self._last_epoch}"
            return epoch if training else f"{epoch}, validation"

        return label

    def _group(self) -> tuple[int, bool]:
        """Size of the current batch's accumulation group, and whether the
        batch closes it."""
        size = self.gradient_accumulation_steps
        b = self._batch_number
        start = (b // size) * size
        size = min(size, self._n_batches - start)
        return size, b + 1 - start >= size

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if not torch.isfinite(loss):
            if self._skip_non_finite(loss):
                return {"loss": loss.detach(), "y_pred": y_pred}
        size, _ = self._group()
        self.grad_scaler_.scale(loss / size).backward()
        return {"loss": loss.detach(), "y_pred": y_pred}

    def _skip_non_finite(self, loss: torch.Tensor) -> bool:
        """A NaN or infinite training loss: under float16 (whose range is
        small) the batch is skipped with a warning, as the gradient scaler
        skips steps with infinite gradients; otherwise training stops with an
        error naming the epoch and the batch."""
        value = float(loss.detach().float().item())
        where = f"epoch {len(self.history)}, batch {self._batch_number + 1}"
        if self.precision == "float16":
            import warnings

            from .._text.tokenize import user_stacklevel

            warnings.warn(
                f"The training loss is {value} at {where} in float16; the batch "
                "was skipped. If this repeats, use precision='bfloat16' or "
                "'float32', or a lower lr.",
                RuntimeWarning,
                stacklevel=user_stacklevel(),
            )
            return True
        raise ValueError(
            f"The training loss is {value} at {where}: training diverged or the "
            "batch holds invalid values. Lower lr, keep max_grad_norm set "
            "(gradient clipping), or check the targets and sample weights."
        )

    def train_step(self, batch, **fit_params):
        # the epoch's training batches so far (skorch opens a history row for
        # each batch before this step; validation batches come after them)
        self._batch_number = len(self.history[-1, "batches"]) - 1
        step = self.train_step_single(batch, **fit_params)
        _, closes = self._group()
        if closes:
            self._optimizer_step(batch)
        return step

    def _optimizer_step(self, batch) -> None:
        scaler = self.grad_scaler_
        scaler.unscale_(self.optimizer_)
        Xi, yi = unpack_data(batch)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            X=Xi,
            y=yi,
            training=True,
        )
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(
                (p for p in self.module_.parameters() if p.grad is not None),
                self.max_grad_norm,
            )
        scaler.step(self.optimizer_)
        scaler.update()
        self.scheduler_.step()
        self.optimizer_.zero_grad(set_to_none=True)

    def release_training_state(self) -> None:
        """Drop what only training needs (optimizer moments, best-weight copies,
        validation rows)."""
        if getattr(self, "optimizer_", None) is not None:
            self.optimizer_.state.clear()
            self.optimizer_.zero_grad(set_to_none=True)
        for _, callback in getattr(self, "callbacks_", []):
            if hasattr(callback, "best_model_weights_"):
                callback.best_model_weights_ = None
            if isinstance(callback, EarlyStopper):
                callback.release()
        self.train_split = None

    # -- pickling ------------------------------------------------------------
    # Plain data only (see the module docstring). A net that comes back from a
    # pickle serves inference; its callbacks and training iterators are not
    # kept.
    def __getstate__(self):
        if not getattr(self, "initialized_", False):
            raise ValueError("Only a fitted BertNet can be pickled.")
        return {
            "module": export_module(self.module_),
            "criterion": loss_to_spec(self.criterion_),
            "history": [dict(row) for row in self.history],
            "params": {
                "batch_size": self.batch_size,
                "device": str(self.device),
                "precision": self.precision,
                "max_epochs": self.max_epochs,
                "lr": self.lr,
                "head_lr": self.head_lr,
                "warmup_ratio": self.warmup_ratio,
                "lr_schedule": self.lr_schedule,
                "warmup_steps": self.warmup_steps,
                "gradient_accumulation_steps": self.gradient_accumulation_steps,
                "max_grad_norm": self.max_grad_norm,
                "weight_scale": self.weight_scale,
                "num_training_steps": self.num_training_steps,
            },
        }

    def __setstate__(self, state):
        params = dict(state["params"])
        if (
            torch.device(params["device"]).type == "cuda"
            and not torch.cuda.is_available()
        ):
            params["device"] = "cpu"
        self.__init__(
            module=import_module(state["module"]),
            criterion=loss_from_spec(state["criterion"]),
            optimizer=torch.optim.AdamW,
            callbacks="disable",
            train_split=None,
            **params,
        )
        self.initialize()
        self.history = History(state["history"])


def fused_adamw(groups: list[dict[str, Any]], options: dict[str, Any]) -> bool:
    """Whether AdamW can run as one fused kernel over all the weights: they
    are floating-point tensors on the CPU or a CUDA device, and the options
    choose no implementation of their own. The update is AdamW's (the same
    formula, rounded once per weight instead of once per operation); for the
    bundled model on two CPU cores a step took 18 ms instead of the default
    loop's 83 ms, a loop that took 12-14 % of a bfloat16 fit."""
    if "fused" in options or "foreach" in options:
        return False
    return all(
        p.is_floating_point() and p.device.type in ("cpu", "cuda")
        for group in groups
        for p in group["params"]
    )


def param_groups(
    module: torch.nn.Module, *, lr: float, head_lr: float, weight_decay: float
) -> list[dict[str, Any]]:
    """AdamW groups: the head's own weights at ``head_lr``, the rest at ``lr``;
    no weight decay on biases and normalisation weights."""
    head_ids = {
        id(p) for m in getattr(module, "head_modules", list)() for p in m.parameters()
    }
    encoder = getattr(module, "encoder", None)
    if encoder is not None:  # a weight shared with the encoder is the encoder's
        head_ids -= {id(p) for p in encoder.parameters()}
    groups: dict[tuple[bool, bool], list] = {}
    seen: set[int] = set()
    for name, p in module.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        no_decay = name.endswith("bias") or "norm" in name.lower()
        groups.setdefault((id(p) in head_ids, no_decay), []).append(p)
    return [
        {
            "params": params,
            "lr": head_lr if is_head else lr,
            "weight_decay": 0.0 if no_decay else weight_decay,
        }
        for (is_head, no_decay), params in groups.items()
    ]


class DataParallelBertNet(DataParallelMixin, BertNet):
    """A :class:`BertNet` training across the processes of a launched job
    (see :mod:`._engine.distributed`); a plain ``BertNet`` once trained.

    Parameters beyond ``BertNet``'s
    -------------------------------
    world : World
        This process's place in the job.
    """

    def __init__(self, *args, world, **kwargs):
        super().__init__(*args, **kwargs)
        self.world = world

    def release_training_state(self) -> None:
        super().release_training_state()
        # From here on a plain single-process net: it predicts alone, trains
        # alone if asked to (partial_fit) and pickles as any BertNet.
        del self.world
        self.iterator_train__rank = 0
        self.iterator_train__world_size = 1
        self.__class__ = BertNet


def _to_float(y_pred):
    if isinstance(y_pred, torch.Tensor):
        return y_pred.float()
    if isinstance(y_pred, tuple | list):
        return type(y_pred)(_to_float(p) for p in y_pred)
    return y_pred


class _FixedValidSplit:
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
    precision: str,
    budget: Any,
    train: FeatureDataset,
    valid: FeatureDataset | None,
    pad_token_id: int,
    device: Any,
    stopper: EarlyStopper | None = None,
    collate: Callable | None = None,
    valid_collate: Callable | None = None,
    checkpointer: Callback | None = None,
    recorder: Callback | None = None,
    seed: int | None = None,
    world: World | None = None,
) -> BertNet:
    """A :class:`BertNet` configured from an estimator's training parameters.

    ``estimator`` provides the shared training parameters (see
    ``_params.TRAINING``), ``batch_size`` and ``verbose``; ``precision`` and
    ``budget`` (epochs and learning rates, a :class:`~._engine.finetune.Budget`)
    are resolved (never ``"auto"``).
    ``collate`` replaces the padding collate of the training batches (for
    example dynamic masking), ``valid_collate`` that of the validation
    batches (default: ``collate``). ``stopper`` (with ``valid``) stops
    early, scores the validation rows and keeps the best weights (see
    :mod:`._engine.stopping`). ``checkpointer`` (see
    :mod:`._engine.checkpoint`) runs after the built-in callbacks and the
    user's, so that it saves what they updated; ``recorder`` (see
    :mod:`._engine.store`) after it. ``seed`` seeds the batches'
    own generator. With ``world``, a :class:`DataParallelBertNet` trains
    across the job's processes, and only process 0 prints.
    """
    est = estimator
    verbose = est.verbose if world is None or world.rank == 0 else 0
    if collate is None:
        collate = Collate(pad_token_id)
    if valid_collate is None:
        valid_collate = collate
    weight_scale = float(np.mean(train.weights))
    if not weight_scale > 0:
        raise ValueError(
            "The training rows' weights (sample_weight times class_weight) sum to "
            "0; give some rows a positive weight."
        )
    callbacks: list[tuple[str, Callback]] = []
    if stopper is not None:
        stopper.verbose = verbose
        callbacks.append(("early_stopping", stopper))
    if verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    callbacks.extend((f"user_{i}", cb) for i, cb in enumerate(est.callbacks or []))
    if checkpointer is not None:
        callbacks.append(("checkpoint", checkpointer))
    if recorder is not None:
        callbacks.append(("training_store", recorder))
    parallel: dict[str, Any] = {}
    if world is not None:
        parallel = {
            "world": world,
            "iterator_train__rank": world.rank,
            "iterator_train__world_size": world.size,
        }
    return (BertNet if world is None else DataParallelBertNet)(
        module=module,
        criterion=criterion,
        optimizer=torch.optim.AdamW,
        lr=budget.lr,
        head_lr=budget.head_lr,
        optimizer__weight_decay=est.weight_decay,
        max_epochs=budget.max_epochs,
        batch_size=est.batch_size,
        iterator_train=training_loader,
        iterator_train__collate_fn=collate,
        iterator_train__group_by_length=est.group_by_length,
        iterator_train__seed=seed,
        iterator_valid=validation_loader,
        iterator_valid__collate_fn=valid_collate,
        train_split=_FixedValidSplit(valid),
        callbacks=callbacks,
        device=str(device),
        verbose=int(verbose >= 1),
        progress=verbose == 1,
        num_training_steps=count_optimizer_steps(
            len(train),
            est.batch_size,
            est.gradient_accumulation_steps,
            budget.max_epochs,
        ),
        warmup_ratio=est.warmup_ratio,
        lr_schedule=est.lr_schedule,
        warmup_steps=budget.warmup_steps,
        gradient_accumulation_steps=est.gradient_accumulation_steps,
        precision=precision,
        max_grad_norm=est.max_grad_norm,
        weight_scale=weight_scale,
        **parallel,
    )
