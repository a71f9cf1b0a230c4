"""The contrastive trainer: pooled vectors pulled together within a class.

Labelled rows are batched as usual; within each batch every pair of rows is
a training pair (same class: similar; different classes: dissimilar; for
label sets the Jaccard similarity; for numbers one minus their scaled
distance), and the cosine similarity of the pooled vectors is regressed on
it (``_nn.losses.PairCosineLoss``). A batch of ``b`` rows gives
``b (b - 1) / 2`` pairs for ``b`` forward passes, where SetFit's explicit
pairs cost two forward passes each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._engine.finetune import FineTuneBase, Prepared, TrainingData
from ..._params import DEFAULTS


class ContrastiveTrainer(FineTuneBase):
    """Fine-tunes an encoder contrastively (used by the public estimators).

    Takes the shared training parameters plus ``pooling`` (those that
    ``BertTransformer`` does not have take their shared defaults, see
    ``_params.DEFAULTS``; ``head_lr`` is None: the module has no head);
    ``fit(X, y)`` leaves the trained encoder in ``net_.module_.hf_model``.
    """

    _hf_task = "base"
    _task = "contrastive"

    def __init__(
        self,
        model,
        *,
        pooling,
        max_length,
        batch_size,
        max_epochs,
        lr,
        weight_decay,
        warmup_ratio,
        validation_fraction,
        early_stopping,
        n_iter_no_change,
        device,
        precision,
        random_state,
        verbose,
        gradient_accumulation_steps=DEFAULTS["gradient_accumulation_steps"],
        group_by_length=DEFAULTS["group_by_length"],
        max_grad_norm=DEFAULTS["max_grad_norm"],
        freeze_encoder=DEFAULTS["freeze_encoder"],
        trainable_layers=DEFAULTS["trainable_layers"],
        dropout=DEFAULTS["dropout"],
        callbacks=DEFAULTS["callbacks"],
        warm_start=DEFAULTS["warm_start"],
        checkpoint_dir=DEFAULTS["checkpoint_dir"],
        lr_schedule=DEFAULTS["lr_schedule"],
        training_store=DEFAULTS["training_store"],
        head_lr=None,
    ):
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.group_by_length = group_by_length
        self.max_grad_norm = max_grad_norm
        self.freeze_encoder = freeze_encoder
        self.trainable_layers = trainable_layers
        self.dropout = dropout
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.lr_schedule = lr_schedule
        self.training_store = training_store
        self.head_lr = head_lr  # no head: one learning rate

    def fit(self, X, y, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(
                "Contrastive fine-tuning trains on pairs of rows and does not take "
                "sample_weight; pass it to the head instead."
            )
        return self._fit_atomically(X, y)

    def _prepare(self, X: Any, y: Any, sample_weight: Any) -> Prepared:
        text_input = self._check_text(X, reset=True)
        targets, kind = pair_targets(y, len(text_input))
        return Prepared(
            X,
            text_input,
            targets=targets,
            stratify=np.asarray(targets) if kind == "labels" else None,
            load_kwargs={},
            fitted={"pair_targets_": kind},
        )

    def _training_data(
        self, prepared: Prepared, tokenizer: Any, model: Any, max_length: int
    ) -> TrainingData:
        from ..._engine.data import FeatureDataset
        from ..._text.tokenize import model_input_names, tokenize, warn_truncated

        tok = tokenize(
            tokenizer,
            prepared.rows,
            max_length=max_length,
            input_names=model_input_names(model),
        )
        warn_truncated(tok.n_truncated, max_length, can_chunk=False)
        return TrainingData(
            FeatureDataset(tok.features, prepared.targets),
            stratify=prepared.stratify,
        )

    def _module(self, model: Any, prepared: Prepared):
        from ..._nn.heads import PooledModule
        from ..._nn.losses import PairCosineLoss

        kind = prepared.fitted["pair_targets_"]
        return PooledModule(model, self.pooling), PairCosineLoss(kind)


def pair_targets(y: Any, n_rows: int) -> tuple[list[Any], str]:
    """Row targets for pair similarities, and their kind.

    Class labels become class indices (``"labels"``); a 0/1 indicator matrix
    stays as it is (``"sets"``); numbers are scaled to [0, 1] per column
    (``"values"``).
    """
    from sklearn.utils.multiclass import type_of_target

    from ..._text.inputs import as_target_array, check_target_values

    if y is None:
        raise ValueError("Contrastive fine-tuning needs targets: call fit(X, y).")
    values = as_target_array(y)
    if len(values) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(values)} targets.")
    check_target_values(values)
    y_type = type_of_target(y, input_name="y")
    if y_type == "multilabel-indicator":
        return list(values.astype(np.float32)), "sets"
    if y_type in ("continuous", "continuous-multioutput"):
        numbers = values.astype(np.float64).reshape(n_rows, -1)
        span = numbers.max(axis=0) - numbers.min(axis=0)
        scaled = (numbers - numbers.min(axis=0)) / np.where(span > 0, span, 1.0)
        return list(scaled.astype(np.float32)), "values"
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    classes, codes = np.unique(values, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            "Contrastive fine-tuning needs at least 2 classes in y (pairs of "
            f"different classes); got only {classes.tolist()}."
        )
    return list(codes.astype(np.int64)), "labels"
