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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._params import TRAINING, constraints
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
    """

    X: Any
    rows: Any
    targets: Any = None
    weights: np.ndarray | None = None
    stratify: np.ndarray | None = None
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    fitted: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None


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

    # -- the template --------------------------------------------------------
    def _fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> None:
        from .._nn.freezing import freeze_layers, train_heads, unfreeze
        from .._text.tokenize import effective_max_length, pad_token_id
        from .data import split_train_valid
        from .device import release_memory, seed_from, seeded
        from .net import build_net

        prepared = self._prepare(X, y, sample_weight)
        seed = seed_from(self.random_state)
        device = self._resolved_device()
        world = self._world()
        if world is not None:  # data-parallel: see _engine.distributed
            from .distributed import agree, join

            device = join(world, device)
            seed = agree(seed)
        prepared.seed = seed
        with seeded(seed, device):
            tokenizer, model = self._load(prepared)
        max_length = effective_max_length(tokenizer, model.config, self.max_length)
        data = self._training_data(prepared, tokenizer, model, max_length)
        dataset = data.dataset
        if len(dataset) == 0:
            raise ValueError("X holds nothing to train on (no tokens in any row).")
        train_idx, valid_idx = split_train_valid(
            len(dataset),
            early_stopping=self.early_stopping,
            validation_fraction=self.validation_fraction,
            stratify=data.stratify,
            random_state=seed,
            groups=data.groups,
        )
        train = dataset if valid_idx is None else dataset.subset(train_idx)
        valid = None if valid_idx is None else dataset.subset(valid_idx)
        if world is not None:
            from .distributed import check_same_data

            check_same_data(train, valid)
        with seeded(seed, device):
            module, criterion = self._module(model, prepared)
            freeze_layers(module.encoder, self.freeze_encoder, self.trainable_layers)
            train_heads(module.head_modules(), module.encoder)
            net = build_net(
                module,
                criterion,
                estimator=self,
                train=train,
                valid=valid,
                pad_token_id=pad_token_id(tokenizer),
                device=device,
                scorer=data.scorer,
                score_name=data.score_name,
                collate=data.collate,
                valid_collate=data.valid_collate,
                seed=seed,
                world=world,
            )
            if self.max_epochs > 0:
                net.fit(train, None)
            else:  # nothing to train (a masked LM scored before adaptation)
                net.initialize()
        net.release_training_state()
        release_memory(device)
        if getattr(net, "interrupted_", False):
            raise KeyboardInterrupt
        unfreeze(module)
        fitted = {
            "tokenizer_": tokenizer,
            "max_length_": max_length,
            **prepared.fitted,
            **data.fitted,
            **self._fitted_model(net),
        }
        for name, value in fitted.items():
            setattr(self, name, value)

    def _world(self):
        """The launched job to train across (``distributed=True`` in a
        ``torchrun`` job), or None."""
        if not getattr(self, "distributed", False):
            return None
        from .distributed import launched_world

        return launched_world()

    # -- the steps -----------------------------------------------------------
    def _prepare(self, X: Any, y: Any, sample_weight: Any) -> Prepared:
        raise NotImplementedError  # pragma: no cover

    def _load(self, prepared: Prepared) -> tuple[Any, Any]:
        return self._load_pretrained(self._hf_task, prepared.X, **prepared.load_kwargs)

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        raise NotImplementedError  # pragma: no cover

    def _module(self, model: Any, prepared: Prepared) -> tuple[Any, Any]:
        raise NotImplementedError  # pragma: no cover

    def _fitted_model(self, net: Any) -> dict[str, Any]:
        """The fitted attributes holding the trained model."""
        return {"net_": net, "history_": net.history}

    # -- inference -----------------------------------------------------------
    def _run(self, features: list[dict[str, Any]], **kwargs: Any):
        """The trained module's outputs on ``features`` (see ``_run_model``)."""
        check_is_fitted(self, "net_")
        return self._run_model(self.net_.module_, features, **kwargs)
