"""Shared fine-tuning base: training parameters and the fit procedure.

Task estimators (classifier, regressor, token classifier, question answerer,
masked LM) subclass :class:`BertFineTuneBase`, build their module and loss,
tokenize their data into a :class:`~sklearn_bert._skorch.FeatureDataset`, and
call :meth:`BertFineTuneBase._train`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._base import BertBase
from ._device import release_memory, seed_from

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
    ``_skorch.TRAINING_CONSTRAINTS``.
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
