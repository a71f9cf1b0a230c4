"""The fine-tuning base: ``fit`` as a template, one inference entry point.

A task estimator subclasses :class:`FineTuneBase` and fills in four steps:

1. ``_prepare(X, y, sample_weight)`` checks the inputs and encodes the
   targets, before any model work (:class:`Prepared`);
2. ``_load(prepared)`` loads the tokenizer and the Hugging Face model (the
   default loads the auto class family ``_hf_task`` with
   ``prepared.load_kwargs``);
3. ``_training_data(prepared, tokenizer, model, max_length)`` tokenizes the
   rows into a dataset, with the validation scorer (:class:`TrainingData`);
4. ``_module(model, prepared)`` builds the task module and its loss.

The template seeds, splits, trains with :func:`~._engine.net.build_net` and
sets the fitted attributes last, on an unfitted twin (see
``BertBase._fit_atomically``). An estimator with a ``distributed`` parameter
set trains across the processes of a launched job (see
:mod:`._engine.distributed`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._params import AUTO_BUDGET, AUTO_HEAD_LR_FACTOR, TRAINING, constraints
from .base import BertBase


@dataclass
class Prepared:
    """What a task made of ``fit``'s arguments, before any model work.

    Attributes
    ----------
    X : object
        ``fit``'s ``X`` as given (a ``BertMaskedLM`` ``model`` adapts on it).
    rows : object
        The validated input (texts, sentences, question and context rows).
    targets : object
        The encoded targets, in the task's form.
    weights : ndarray or None
        One weight per row (``sample_weight`` times class weights).
    stratify : ndarray or None
        Labels to stratify the early-stopping split on.
    load_kwargs : dict
        Keyword arguments of ``from_pretrained`` (labels of a new head).
    fitted : dict
        Fitted attributes that follow from ``y`` (``classes_``, ...) and from
        loading the model.
    seed : int or None
        The fit's seed, drawn once from ``random_state`` (set by the
        template before ``_load``).
    new_head : bool
        Whether the task head starts from random weights (set by ``_load``
        or ``_module``; False when a checkpoint held a trained head).
    """

    X: Any
    rows: Any
    targets: Any = None
    weights: np.ndarray | None = None
    stratify: np.ndarray | None = None
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    fitted: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    new_head: bool = True


@dataclass(frozen=True)
class Budget:
    """The resolved training budget of one fit (``"auto"`` decided).

    Attributes
    ----------
    max_epochs : int
        Passes over the training sequences.
    lr : float
        Peak learning rate of the encoder.
    head_lr : float
        Peak learning rate of the task head.
    warmup_steps : int or None
        Steps of the learning-rate warmup when they do not depend on
        ``max_epochs`` (``lr_schedule="constant"``: ``warmup_ratio`` of the
        task's ``"auto"`` steps); None: ``warmup_ratio`` of the fit's steps.
    """

    max_epochs: int
    lr: float
    head_lr: float
    warmup_steps: int | None = None


@dataclass
class TrainingData:
    """The tokenized training rows and how to split and score them.

    Attributes
    ----------
    dataset : FeatureDataset
        Every training sequence (text, pair, chunk or window).
    stratify : ndarray or None
        Labels of the sequences to stratify the early-stopping split on.
    groups : ndarray or None
        The row each sequence comes from: the split keeps a row's sequences
        on one side.
    scorer : callable or None
        ``scorer(outputs, valid_dataset) -> float`` after each epoch, from the
        outputs of the validation pass (in dataset order).
    score_name : str
        History key of that score (``"valid_acc"``, ``"valid_f1"``, ...).
    collate, valid_collate : callable or None
        Replace the padding collate of training / validation batches.
    row_outputs : callable
        ``row_outputs(outputs, dataset) -> (outputs, targets)``: the outputs
        of a subset's sequences (in dataset order) as one row each, with the
        rows' targets (default: one sequence per row).
    fitted : dict
        Fitted attributes that follow from the tokenized data.
    """

    dataset: Any
    stratify: np.ndarray | None = None
    groups: np.ndarray | None = None
    scorer: Callable[[list[Any], Any], float] | None = None
    score_name: str = "valid_score"
    collate: Callable | None = None
    valid_collate: Callable | None = None
    row_outputs: Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]] = field(
        default=lambda outputs, dataset: (outputs, np.asarray(dataset.targets))
    )
    fitted: dict[str, Any] = field(default_factory=dict)


class FineTuneBase(BertBase):
    """Base of the estimators that fine-tune the encoder (see module doc).

    Subclasses declare the shared training parameters (``_params.TRAINING``)
    in their ``__init__`` and set ``_hf_task`` (the auto class family their
    module wraps, see ``_nn.heads``).
    """

    _parameter_constraints: dict = {
        **BertBase._parameter_constraints,
        **constraints(*TRAINING),
    }

    #: The task's row of ``_params.AUTO_BUDGET`` (what ``"auto"`` means).
    _task: str

    def _continues_fitted(self) -> bool:
        return self.warm_start

    # -- the template --------------------------------------------------------
    def _fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> None:
        from .._nn.freezing import freeze_layers, train_heads, unfreeze
        from .._text.tokenize import effective_max_length, pad_token_id
        from .device import release_memory, resolve_precision, seed_from, seeded
        from .net import build_net
        from .stopping import training_record

        prepared = self._prepare(X, y, sample_weight)
        previous = self.__dict__.get("_previous_fit")
        store = self._open_store()
        resume = self._checkpoint_to_resume(previous)
        seed = resume.seed if resume is not None else seed_from(self.random_state)
        device = self._resolved_device()
        world = self._world()
        if world is not None:  # data-parallel: see _engine.distributed
            from .distributed import agree, join

            device = join(world, device)
            seed = agree(seed)
        prepared.seed = seed
        precision = resolve_precision(self.precision, device)
        with seeded(seed, device):
            tokenizer, model = self._load(prepared)
        max_length = effective_max_length(tokenizer, model.config, self.max_length)
        if resume is None and previous is not None:
            self._continue_from(prepared, previous)
        data = self._training_data(prepared, tokenizer, model, max_length)
        dataset = data.dataset
        if len(dataset) == 0:
            raise ValueError("X holds nothing to train on (no tokens in any row).")
        stopper, train, valid = self._early_stopping(data, seed)
        if stopper is None and self._holds_out(len(data.dataset)):
            train, valid = split_held_out(data, self.validation_fraction, seed)
        if world is not None:
            from .distributed import check_same_data

            check_same_data(train, valid)
        with seeded(seed, device):
            module, criterion = self._module(model, prepared)
            budget = self._budget(len(train), prepared)
            checkpointer, start = self._start(
                resume, previous, seed, train, valid, budget
            )
            recorder = None
            if store is not None and start is None:
                recorder, start = self._from_store(
                    store, module, seed, train, valid, budget, precision, device
                )
            if start is not None:
                module = start["module"]
            freeze_layers(module.encoder, self.freeze_encoder, self.trainable_layers)
            train_heads(module.head_modules(), module.encoder)
            net = build_net(
                module,
                criterion,
                estimator=self,
                precision=precision,
                budget=budget,
                train=train,
                valid=valid if stopper is not None else None,
                pad_token_id=pad_token_id(tokenizer),
                device=device,
                stopper=stopper,
                collate=data.collate,
                valid_collate=data.valid_collate,
                checkpointer=checkpointer,
                recorder=recorder,
                seed=seed,
                world=world,
            )
            if start is not None:  # continue: a checkpoint, or the fitted model
                from skorch.history import History

                net.initialize()
                net.history = History(start["history"])
                if start["epochs"] > 0 or start.get("stored"):
                    # a stored epoch that ends the fit trains 0 epochs: the
                    # callbacks restore its state, early stopping its best
                    net.max_epochs = start["epochs"]
                    net.partial_fit(train, None)
                    net.max_epochs = budget.max_epochs
            elif budget.max_epochs > 0:
                net.fit(train, None)
            else:  # nothing to train (a masked LM scored before adaptation)
                net.initialize()
        net.release_training_state()
        release_memory(device)
        if getattr(net, "interrupted_", False):
            raise KeyboardInterrupt
        unfreeze(module)
        fitted = {
            "n_samples_fit_": len(prepared.X),
            "tokenizer_": tokenizer,
            "max_length_": max_length,
            "precision_": precision,
            "max_epochs_": budget.max_epochs,
            "lr_": budget.lr,
            "head_lr_": budget.head_lr,
            **prepared.fitted,
            **data.fitted,
            **self._fitted_model(net),
            **training_record(net.history, stopper),
        }
        self._set_fitted(fitted)
        self._set_fitted(self._after_training(data, valid))

    def _budget(self, n_train: int, prepared: Prepared) -> Budget:
        """Epochs and learning rates, with ``"auto"`` decided for ``n_train``
        training sequences (see the user guide, "Defaults that adapt"): the
        head learns faster than the encoder when it starts from random
        weights (``prepared.new_head``)."""
        from .net import steps_per_epoch

        steps = steps_per_epoch(
            n_train, self.batch_size, self.gradient_accumulation_steps
        )
        auto = AUTO_BUDGET[self._task]
        epochs = self.max_epochs
        if epochs == "auto":
            low, high = auto.epochs
            epochs = int(np.clip(math.ceil(auto.steps / steps), low, high))
        lr = auto.lr if self.lr == "auto" else float(self.lr)
        head_lr = self.head_lr
        if head_lr == "auto":
            head_lr = AUTO_HEAD_LR_FACTOR * lr if prepared.new_head else lr
        warmup = None
        if self.lr_schedule == "constant":
            warmup = int(round(self.warmup_ratio * auto.steps))
        return Budget(
            int(epochs), lr, lr if head_lr is None else float(head_lr), warmup
        )

    def _early_stopping(self, data: TrainingData, seed: int):
        """The early stopper (None without ``early_stopping``) and the
        training and validation sequences (see :mod:`._engine.stopping`)."""
        if not self.early_stopping:
            return None, data.dataset, None
        from .stopping import EarlyStopper

        stopper = EarlyStopper(
            validation_fraction=self.validation_fraction,
            patience=self.n_iter_no_change,
            scorer=data.scorer,
            score_name=data.score_name,
        )
        return stopper, *split_held_out(data, self.validation_fraction, seed)

    def _holds_out(self, n_sequences: int) -> bool:
        """Whether a fit without early stopping holds ``validation_fraction``
        of its rows out of training (split as early stopping splits them): a
        task that fits something on unseen rows after training (the
        temperature of ``calibration``) says so; with early stopping it uses
        that split instead."""
        return False

    def _after_training(self, data: TrainingData, valid: Any) -> dict[str, Any]:
        """Fitted attributes learnt from the validation sequences ``valid``
        (None without a split) once the model is fitted; none by default."""
        return {}

    # -- warm starts and checkpoints -------------------------------------------
    def _checkpoint_to_resume(self, previous: dict | None):
        """The checkpoint to resume from: with ``warm_start=True``, the one in
        ``checkpoint_dir`` if its fit did not finish, or if it did and this
        estimator is not fitted (its model is then restored as it was)."""
        if not self.warm_start or self.checkpoint_dir is None:
            return None
        from .checkpoint import read_checkpoint

        checkpoint = read_checkpoint(self.checkpoint_dir)
        if checkpoint is None or (checkpoint.finished and previous is not None):
            return None
        return checkpoint

    def _start(self, resume, previous, seed, train, valid, budget):
        """The checkpointer (when ``checkpoint_dir`` is set) and where training
        starts: None for a new fit, else the module, the history so far and
        the epochs to train (``budget.max_epochs`` more for a warm start)."""
        from .checkpoint import Checkpointer, fingerprint, fingerprint_difference

        if self.checkpoint_dir is None and resume is None and previous is None:
            return None, None
        current = fingerprint(self, train, valid)
        start = None
        if resume is not None:
            difference = fingerprint_difference(resume.state["fingerprint"], current)
            if difference:
                raise ValueError(
                    f"warm_start=True, but checkpoint_dir={str(self.checkpoint_dir)!r}"
                    f" holds the checkpoint of another fit: {difference}. Fit with "
                    "the same data and parameters to resume it, choose another "
                    "checkpoint_dir, or set warm_start=False to start over (the "
                    "checkpoint is then replaced)."
                )
            start = {
                "module": resume.module(),
                "history": resume.history,
                "epochs": resume.remaining_epochs(),
            }
            epochs_before = int(resume.state["epochs_before"])
        elif previous is not None:
            start = {
                "module": self._previous_module(previous),
                "history": [dict(row) for row in previous.get("history_", [])],
                "epochs": budget.max_epochs,
            }
            epochs_before = len(start["history"])
        else:
            epochs_before = 0
        checkpointer = None
        if self.checkpoint_dir is not None:
            checkpointer = Checkpointer(
                self.checkpoint_dir,
                {
                    "seed": seed,
                    "fingerprint": current,
                    "max_epochs": budget.max_epochs,
                    "epochs_before": epochs_before,
                },
                resume=resume,
            )
        return checkpointer, start

    def _open_store(self):
        """The training store's folder, or None (see :mod:`._engine.store`)."""
        from .store import open_store

        if self.training_store is None or self.training_store is False:
            return None
        if not isinstance(self.random_state, int | np.integer):
            raise ValueError(
                "training_store reuses the epochs of fits with the same seed; "
                f"set random_state to an int (it is {self.random_state!r})."
            )
        if self.callbacks:
            raise ValueError(
                "training_store cannot be used with callbacks: a callback may "
                "change training in ways the store cannot tell apart. Remove "
                "the callbacks or set training_store=None."
            )
        if self._world() is not None:
            raise ValueError(
                "training_store is not used by distributed fits; set "
                "training_store=None."
            )
        return open_store(self.training_store)

    def _from_store(self, store, module, seed, train, valid, budget, precision, device):
        """The store's recorder and where training starts (None: from the
        beginning; else the stored module, its history and the epochs left)."""
        import torch

        from .._version import __version__
        from .cache import tensor_digest
        from .checkpoint import fingerprint
        from .store import StoreRecorder, find_start, trajectory

        name = trajectory(
            fingerprint(self, train, valid),
            horizon_free=self.lr_schedule == "constant",
            weights=tensor_digest(module),
            precision=precision,
            device=torch.device(device).type,
            version=__version__,
        )
        folder = store / name
        found = find_start(folder, budget.max_epochs)
        if found is None:
            return StoreRecorder(folder, {"seed": seed}), None
        entry, left = found
        if self.verbose >= 1:
            print(
                f"training_store: epoch {entry.epoch} taken from the store, "
                f"{left} more to train."
            )
        start = {
            "module": entry.module(),
            "history": entry.history,
            "epochs": left,
            "stored": True,
        }
        return StoreRecorder(folder, {"seed": seed}, start=entry), start

    #: Fitted attributes a warm start must find unchanged (the model's
    #: outputs mean the same).
    _warm_start_keys: tuple[str, ...] = ("n_features_in_",)

    def _continue_from(self, prepared: Prepared, previous: dict) -> None:
        """Check that ``warm_start=True`` can continue the fitted model on
        these targets (a task may also adapt ``prepared`` to it)."""
        for key in self._warm_start_keys:
            if key not in previous:
                continue
            old, new = previous[key], prepared.fitted.get(key)
            if not np.array_equal(np.asarray(old), np.asarray(new)):
                raise ValueError(
                    f"warm_start=True continues the fitted model, which has "
                    f"{key.strip('_')}={_short(old)}, but this fit gives "
                    f"{_short(new)}. Set warm_start=False to start over."
                )

    def _previous_module(self, previous: dict) -> Any:
        """A copy of the fitted module, to continue training."""
        import copy

        return copy.deepcopy(previous["net_"].module_)

    def _world(self):
        """The launched job to train across, or None: estimators with a
        ``distributed`` parameter say (see :mod:`._engine.distributed`)."""
        return None

    # -- the steps -----------------------------------------------------------
    def _prepare(self, X: Any, y: Any, sample_weight: Any) -> Prepared:
        raise NotImplementedError  # pragma: no cover

    def _load(self, prepared: Prepared) -> tuple[Any, Any]:
        """The tokenizer and model; notes in ``prepared.new_head`` whether the
        checkpoint lacked the task head (or had one of another shape)."""
        tokenizer, model, info = self._load_pretrained(
            self._hf_task,
            prepared.X,
            output_loading_info=True,
            **prepared.load_kwargs,
        )
        prepared.new_head = bool(head_keys(model, info))
        return tokenizer, model

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        raise NotImplementedError  # pragma: no cover

    def _module(self, model: Any, prepared: Prepared) -> tuple[Any, Any]:
        raise NotImplementedError  # pragma: no cover

    def _trained_model(self) -> Any:
        if "net_" not in self.__dict__:
            return super()._trained_model()
        return self.net_.module_.hf_model

    def _fitted_model(self, net: Any) -> dict[str, Any]:
        """The fitted attributes holding the trained model."""
        return {"net_": net, "history_": net.history}

    # -- inference -----------------------------------------------------------
    def _run(self, features: list[dict[str, Any]], **kwargs: Any):
        """The trained module's outputs on ``features`` (see ``_run_model``;
        the public method that asks has checked that the estimator is
        fitted)."""
        return self._run_model(self.net_.module_, features, **kwargs)


def split_held_out(data: TrainingData, fraction: float, seed: int) -> tuple[Any, Any]:
    """The training and held-out sequences of ``data``, split as the
    early-stopping split is (stratified, a row's windows on one side)."""
    from .stopping import split_train_valid

    train, valid = split_train_valid(
        len(data.dataset),
        validation_fraction=fraction,
        stratify=data.stratify,
        random_state=seed,
        groups=data.groups,
    )
    return data.dataset.subset(train), data.dataset.subset(valid)


def head_keys(model: Any, info: dict[str, Any]) -> list[str]:
    """The weights outside the base model that a checkpoint did not provide
    (missing, or of another shape): a new task head."""
    prefix = model.base_model_prefix + "."
    keys = [*info.get("missing_keys", ()), *info.get("mismatched_keys", ())]
    names = [k[0] if isinstance(k, tuple) else k for k in keys]
    return sorted(k for k in names if not k.startswith(prefix))


def _short(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 60 else text[:57] + "..."
