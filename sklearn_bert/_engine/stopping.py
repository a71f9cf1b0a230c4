"""Early stopping in one object: the score, patience and the best weights.

With ``early_stopping=True`` the fit template makes one :class:`EarlyStopper`
from the estimator's parameters and splits the training sequences with
:func:`split_train_valid` (stratified, a row's windows kept on one side; the
same split holds rows out for ``calibration``). As a skorch callback the
stopper records the task's validation score after each
epoch (from the outputs of skorch's own validation pass), watches the
validation loss, keeps the best epoch's weights, and ends training by
raising :class:`StopTraining` after ``n_iter_no_change`` epochs without
improvement, with the best weights restored. Its state (for checkpoints) is
plain values plus those weights.

Ending training is not an interruption: :class:`~._engine.net.BertNet`
catches :class:`StopTraining` and the fit completes, while a real
``KeyboardInterrupt`` makes ``fit`` raise (the estimator keeps its previous
model).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from skorch.callbacks import Callback

from .inference import to_cpu

#: A validation loss improves on the best one when it is lower by more than
#: this fraction of it (skorch's ``EarlyStopping`` default).
THRESHOLD = 1e-4


class StopTraining(Exception):
    """Raised by a callback's ``on_epoch_end`` to end training early: the fit
    is complete (see :class:`~._engine.net.BertNet`)."""


class EarlyStopper(Callback):
    """Early stopping of one fit (see the module docstring).

    Parameters
    ----------
    validation_fraction : float
        Share of the training rows (of the groups, with ``groups``) held out.
    patience : int
        Epochs without improvement of the validation loss before stopping.
    scorer : callable or None
        ``scorer(outputs, valid_dataset) -> float``, from the validation
        outputs in dataset order; recorded in the history as ``score_name``.
    score_name : str
        History key of that score.
    verbose : int
        Print when stopping and restoring (``>= 1``).
    """

    def __init__(
        self,
        *,
        validation_fraction: float,
        patience: int,
        scorer: Callable[[list[Any], Any], float] | None = None,
        score_name: str = "valid_score",
        verbose: int = 0,
    ):
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.scorer = scorer
        self.score_name = score_name
        self.verbose = verbose
        self.reset()

    # -- state -----------------------------------------------------------------
    def reset(self) -> None:
        """Forget every epoch (a new training run)."""
        self.misses_ = 0
        self.dynamic_threshold_ = np.inf
        self.best_epoch_ = 0
        self.best_weights_: dict[str, Any] | None = None
        self._outputs: dict[int, Any] = {}

    def state(self) -> dict[str, Any]:
        """The plain values of the state (the best weights apart)."""
        return {
            "misses_": self.misses_,
            "dynamic_threshold_": float(self.dynamic_threshold_),
            "best_epoch_": self.best_epoch_,
        }

    def load_state(self, state: dict[str, Any], best_weights: Any) -> None:
        """Take back a :meth:`state` and its best weights (a resumed fit)."""
        self.misses_ = int(state["misses_"])
        self.dynamic_threshold_ = float(state["dynamic_threshold_"])
        self.best_epoch_ = int(state["best_epoch_"])
        self.best_weights_ = best_weights

    def restores(self, net: Any) -> bool:
        """Whether ending training puts an earlier epoch's weights back."""
        return (
            self.best_weights_ is not None
            and self.best_epoch_ != net.history[-1, "epoch"]
        )

    def release(self) -> None:
        """Drop what only training needs (the weights copy, the scorer)."""
        self.best_weights_ = None
        self.scorer = None
        self._outputs = {}

    # -- the callback ----------------------------------------------------------
    def on_train_begin(self, net, **kwargs):
        self.reset()

    def on_epoch_begin(self, net, **kwargs):
        self._outputs = {}

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training or y_pred is None or self.scorer is None:
            return
        out = to_cpu(y_pred)
        for k, i in enumerate(batch[1]["index"].tolist()):
            self._outputs[i] = _row(out, k)

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if self.scorer is not None and dataset_valid is not None and self._outputs:
            outputs = [self._outputs[i] for i in range(len(dataset_valid))]
            score = float(self.scorer(outputs, dataset_valid))
            net.history.record(self.score_name, score)
        self._outputs = {}
        loss = net.history[-1, "valid_loss"]
        if loss < self.dynamic_threshold_:
            self.misses_ = 0
            self.dynamic_threshold_ = loss - THRESHOLD * loss
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_weights_ = copy.deepcopy(net.module_.state_dict())
        else:
            self.misses_ += 1
        if self.misses_ >= self.patience:
            self._say(
                f"Stopping since valid_loss has not improved in the last "
                f"{self.patience} epochs."
            )
            raise StopTraining

    def on_train_end(self, net, **kwargs):
        if self.restores(net):
            net.module_.load_state_dict(self.best_weights_)
            self._say(f"Restoring best model from epoch {self.best_epoch_}.")

    def _say(self, text: str) -> None:
        if self.verbose >= 1:
            print(text)


#: The fitted attributes :func:`training_record` sets.
RECORD = (
    "n_iter_",
    "loss_curve_",
    "validation_loss_curve_",
    "validation_scores_",
    "best_epoch_",
)


def training_record(history: Any, stopper: EarlyStopper | None) -> dict[str, Any]:
    """The fitted attributes that summarise a fit's epochs, named as
    scikit-learn's iterative estimators name them (``MLPClassifier``):

    ``n_iter_``
        Epochs trained (with ``warm_start``, all of them so far).
    ``loss_curve_``
        The training loss of each epoch.
    ``validation_loss_curve_``, ``validation_scores_``
        The validation loss and the task's validation score of each epoch
        (None without ``early_stopping``, or for a task without a score).
    ``best_epoch_``
        The epoch whose weights the fitted model holds: the last one, or with
        ``early_stopping`` the one of the lowest validation loss.
    """
    rows = [dict(row) for row in history]
    record: dict[str, Any] = {
        "n_iter_": len(rows),
        "loss_curve_": _column(rows, "train_loss"),
        "validation_loss_curve_": None,
        "validation_scores_": None,
        "best_epoch_": len(rows),
    }
    if stopper is None or not rows:
        return record
    record["validation_loss_curve_"] = _column(rows, "valid_loss")
    if stopper.score_name in rows[-1]:
        record["validation_scores_"] = _column(rows, stopper.score_name)
    if stopper.best_epoch_:
        record["best_epoch_"] = int(stopper.best_epoch_)
    return record


def _column(rows: list[dict[str, Any]], key: str) -> np.ndarray:
    """One value per epoch (NaN where an epoch has none: a continued fit's
    earlier epochs without validation)."""
    return np.asarray([row.get(key, np.nan) for row in rows], dtype=np.float64)


def _row(out: Any, k: int) -> Any:
    if isinstance(out, tuple | list):
        return type(out)(_row(o, k) for o in out)
    return out[k].numpy()


def user_stopped(callback: Any) -> bool:
    """Whether a user's skorch ``EarlyStopping`` (the one skorch callback that
    ends training, by raising ``KeyboardInterrupt``) has reached its patience,
    read from its state."""
    from skorch.callbacks import EarlyStopping

    return isinstance(callback, EarlyStopping) and callback.misses_ >= callback.patience


def split_train_valid(
    n_samples: int,
    *,
    validation_fraction: float,
    stratify: np.ndarray | None,
    random_state: int,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices of the early-stopping split.

    Stratified on ``stratify`` when given and possible. With ``groups`` (one
    group id per row, for example the text of each chunk), whole groups go to
    one side: ``validation_fraction`` is then a fraction of the groups, each
    group stratified on the ``stratify`` value of its first row (the rows of
    a group share it). Groups ``0, 1, 2, ...`` of one row each split as
    ``groups=None`` does.
    """
    indices = np.arange(n_samples)
    if groups is not None:
        _, first, inverse = np.unique(
            np.asarray(groups), return_index=True, return_inverse=True
        )
        _, valid_groups = split_train_valid(
            len(first),
            validation_fraction=validation_fraction,
            stratify=None if stratify is None else np.asarray(stratify)[first],
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
        indices, test_size=n_valid, random_state=random_state, stratify=strat
    )
    return np.sort(train), np.sort(valid)
