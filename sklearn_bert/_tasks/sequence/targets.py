"""Targets of the sequence tasks: labels to indices with weights, and
numbers to standardised values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ..._text.inputs import (
    as_target_array,
    check_sample_weight_length,
    check_target_values,
)


@dataclass
class Labels:
    """Encoded class labels.

    Attributes
    ----------
    classes : ndarray
        The sorted labels (``arange(n_labels)`` for multi-label ``y``).
    multilabel : bool
    targets : list
        One class index (or 0/1 row for multi-label) per row.
    weights : ndarray
        ``sample_weight`` times the class weights.
    stratify : ndarray or None
        Class indices to stratify on (None for multi-label).
    """

    classes: np.ndarray
    multilabel: bool
    targets: list[Any]
    weights: np.ndarray
    stratify: np.ndarray | None


def encode_labels(y: Any, n_rows: int, class_weight: Any, sample_weight: Any) -> Labels:
    """Check ``y`` (1-D labels or a 0/1 indicator matrix) and encode it."""
    import scipy.sparse as sp

    if y is None:
        raise ValueError("y is required: one label per row of X.")
    if sp.issparse(y):
        y = y.toarray()
    values = _as_array(y, "y must be 1-D labels or a 2-D 0/1 indicator matrix")
    if values.dtype.kind in "fO":  # missing labels, named by row
        check_target_values(values)
    y_type = type_of_target(y, input_name="y")
    weights = check_sample_weight_length(sample_weight, n_rows)
    if y_type == "multilabel-indicator":
        Y = np.asarray(y).astype(np.float32)
        _check_rows(len(Y), n_rows)
        if class_weight is not None:
            raise ValueError(
                "class_weight is not supported for multi-label y; pass "
                "sample_weight instead."
            )
        return Labels(np.arange(Y.shape[1]), True, list(Y), weights, None)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-D labels or a 2-D 0/1 indicator matrix; got {y_type} "
            f"of shape {y.shape}."
        )
    _check_rows(len(y), n_rows)
    check_target_values(y)
    check_classification_targets(y)
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"A classifier needs at least 2 classes in y; got only {classes.tolist()}."
        )
    encoded = encoded.astype(np.int64)
    if class_weight is not None:
        from sklearn.utils.class_weight import compute_class_weight

        per_class = compute_class_weight(class_weight, classes=classes, y=y)
        weights = weights * per_class[encoded].astype(np.float32)
    return Labels(classes, False, list(encoded), weights, encoded)


def label_config(classes: np.ndarray, multilabel: bool) -> dict[str, Any]:
    """The Hugging Face config entries describing the labels."""
    names = [str(c) for c in classes]
    return {
        "id2label": dict(enumerate(names)),
        "label2id": {n: i for i, n in enumerate(names)},
        "problem_type": (
            "multi_label_classification"
            if multilabel
            else "single_label_classification"
        ),
    }


def standardize(y: Any, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Check numeric ``y``; return standardised targets, mean, scale, ndim."""
    if y is None:
        raise ValueError("y is required: one target (or row of targets) per row of X.")
    y = _as_array(
        y, "y must be a numeric array of shape (n_samples,) or (n_samples, n_outputs)"
    )
    if y.dtype.kind not in "biuf":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"y must be numeric; got values of dtype {y.dtype}."
            ) from None
    y = y.astype(np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(
            "y must be a numeric array of shape (n_samples,) or (n_samples, "
            f"n_outputs); got shape {y.shape}."
        )
    _check_rows(len(y), n_rows)
    check_target_values(y)
    Y = y.reshape(len(y), -1)
    mean = Y.mean(axis=0)
    scale = Y.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return ((Y - mean) / scale).astype(np.float32), mean, scale, y.ndim


def _as_array(y: Any, expected: str) -> np.ndarray:
    """``np.asarray(y)``, with a clear error for ragged rows."""
    try:
        return as_target_array(y)
    except (ValueError, TypeError):
        raise ValueError(
            f"{expected}; got rows of different lengths (a ragged sequence)."
        ) from None


def _check_rows(n_targets: int, n_rows: int) -> None:
    if n_targets != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {n_targets} targets.")
