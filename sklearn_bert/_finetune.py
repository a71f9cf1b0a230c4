"""Shared fine-tuning base: training parameters and the fit procedure.

Task estimators (classifier, regressor, token classifier, question answerer,
masked LM) subclass :class:`BertFineTuneBase`, build their module and loss,
tokenize their data into a :class:`~sklearn_bert._skorch.FeatureDataset`, and
call :meth:`BertFineTuneBase._train`.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BertBase
from ._device import release_memory, seed_from

#: Constraints of the training parameters (names from DESIGN.md); re-exported
#: by ``_skorch`` (kept here so that importing estimators does not load torch).
TRAINING_CONSTRAINTS: dict[str, list] = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "warmup_ratio": [Interval(Real, 0, 1, closed="both")],
    "gradient_accumulation_steps": [Interval(Integral, 1, None, closed="left")],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "early_stopping": ["boolean"],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "freeze_encoder": ["boolean"],
    "trainable_layers": [Interval(Integral, 0, None, closed="left"), None],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "random_state": ["random_state"],
    "callbacks": [list, None],
}

#: Defaults shared by the fine-tuning estimators (overridable per class).
TRAINING_DEFAULTS: dict[str, Any] = {
    "max_epochs": 3,
    "lr": 5e-5,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "gradient_accumulation_steps": 1,
    "validation_fraction": 0.1,
    "early_stopping": False,
    "n_iter_no_change": 2,
    "freeze_encoder": False,
    "trainable_layers": None,
    "dropout": 0.1,
    "random_state": None,
    "callbacks": None,
}


class BertFineTuneBase(BertBase):
    """Base of estimators that fine-tune the encoder with skorch.

    Subclasses declare the training parameters in their ``__init__`` (names
    in ``TRAINING_DEFAULTS``) and extend ``_parameter_constraints`` with
    ``TRAINING_CONSTRAINTS``.
    """

    def _train(
        self,
        build: Callable[[], tuple[Any, Any]],
        dataset: Any,
        *,
        pad_token_id: int,
        stratify: np.ndarray | None = None,
        scorer: Callable | None = None,
        score_name: str = "valid_score",
        collate: Callable | None = None,
        valid_collate: Callable | None = None,
        groups: np.ndarray | None = None,
    ):
        """Seed, build the module, split, fit; return the fitted ``BertNet``.

        Parameters
        ----------
        build : callable
            Returns ``(module, criterion)``; called after seeding so the head's
            initialisation follows ``random_state``.
        dataset : FeatureDataset
            All training rows.
        pad_token_id : int
        stratify : ndarray or None
            Labels to stratify the validation split on (classifiers).
        scorer : callable or None
            ``scorer(net, valid_dataset) -> float`` recorded each epoch.
        score_name : str
            History key of that score (for example ``"valid_acc"``).
        collate, valid_collate : callable or None
            Replace the padding collate of training / validation batches
            (see :func:`~sklearn_bert._skorch.build_net`).
        groups : ndarray or None
            One group id per row (for example the sentence of each window);
            the early-stopping split keeps each group on one side.
        """
        import torch

        from ._skorch import build_net, split_train_valid

        seed = seed_from(self.random_state)
        device = self._resolved_device()
        train_idx, valid_idx = split_train_valid(
            len(dataset),
            early_stopping=self.early_stopping,
            validation_fraction=self.validation_fraction,
            stratify=stratify,
            random_state=seed,
            groups=groups,
        )
        train = dataset if valid_idx is None else dataset.subset(train_idx)
        valid = None if valid_idx is None else dataset.subset(valid_idx)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module, criterion = build()
            net = build_net(
                module,
                criterion,
                estimator=self,
                n_train=len(train),
                valid=valid,
                pad_token_id=pad_token_id,
                device=device,
                scorer=scorer,
                score_name=score_name,
                collate=collate,
                valid_collate=valid_collate,
            )
            net.fit(train, None)
        net.release_training_state()
        release_memory(device)
        return net

    def _predict_outputs(self, dataset: Any) -> list[tuple[np.ndarray, Any]]:
        """Module outputs on ``dataset`` as ``(indices, output)`` batches."""
        from ._skorch import predict_batches

        net = self.net_
        device = self._resolved_device()
        if str(device) != str(net.device):
            net.device = str(device)  # e.g. unpickled on a machine without CUDA
            net.module_.to(device)
        outputs = list(predict_batches(net, dataset, self.batch_size))
        release_memory(device)
        return outputs
