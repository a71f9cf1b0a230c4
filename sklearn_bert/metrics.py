"""Metrics and scorers of the library's tasks.

Question answering: SQuAD's token F1 and exact match (:func:`squad_f1`,
:func:`exact_match`, on answer strings) and scorers for model selection that
read answers in any form :class:`~sklearn_bert.BertQuestionAnswerer` accepts
(:func:`squad_f1_scorer`, :func:`exact_match_scorer`).

Token classification: the entity-level F1 of tag sequences
(:func:`entity_f1`), the score of :class:`~sklearn_bert.BertTokenClassifier`
on IOB tags.

Probabilities: the expected calibration error of ``predict_proba``
(:func:`expected_calibration_error`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._tasks.qa.scorers import exact_match_scorer, squad_f1_scorer
from ._tasks.qa.squad import exact_match, normalize_answer, squad_f1
from ._tasks.token.scoring import tag_score as _tag_score
from ._typing import Targets

__all__ = [
    "entity_f1",
    "exact_match",
    "exact_match_scorer",
    "expected_calibration_error",
    "normalize_answer",
    "squad_f1",
    "squad_f1_scorer",
]


def entity_f1(
    y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]
) -> float:
    """Entity-level micro F1 of tag sequences (``seqeval``).

    The score :class:`~sklearn_bert.BertTokenClassifier` reports on entity
    tags (``scoring="entity_f1"``, the choice of ``"auto"`` for IOB tags):
    entities are read from the IOB tags of each sentence (``B-PER``,
    ``I-PER``, ..., ``O``) and one counts as found when its type and span
    match exactly; the F1 is micro-averaged over all entities of all
    sentences, as ``seqeval.metrics.f1_score`` computes it in its default
    mode. Tags are compared as strings.

    Parameters
    ----------
    y_true : list of list of str
        The true tags, one list per sentence.
    y_pred : list of list of str
        The predicted tags (``BertTokenClassifier.predict``), one per true
        tag.

    Returns
    -------
    f1 : float
        Between 0 and 1; 0.0 when neither has an entity (``seqeval`` then
        warns).

    See Also
    --------
    sklearn_bert.BertTokenClassifier.score : This score on predictions of
        ``X``.

    Examples
    --------
    >>> from sklearn_bert.metrics import entity_f1
    >>> y_true = [["B-PER", "I-PER", "O", "B-LOC"]]
    >>> y_pred = [["B-PER", "I-PER", "O", "O"]]
    >>> round(entity_f1(y_true, y_pred), 3)  # precision 1, recall 1/2
    0.667
    """
    return _tag_score(y_true, y_pred, "entity_f1")


def expected_calibration_error(
    y_true: Targets,
    y_proba: np.ndarray | Sequence[Sequence[float]],
    *,
    n_bins: int = 15,
) -> float:
    """Expected calibration error of the most probable class (equal-width bins).

    Rows are put in ``n_bins`` bins of equal width by the probability of
    their predicted class (the confidence); the error is the mean, over the
    rows, of the gap between their bin's accuracy and its mean confidence.
    0 is perfectly calibrated; a model that is always sure and right half of
    the time scores 0.5.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true classes, as indices into the columns of ``y_proba``.
    y_proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities (``predict_proba``); rows sum to 1.
    n_bins : int, default=15
        Bins of the confidence in [0, 1].

    Returns
    -------
    ece : float
        Between 0 and 1.

    See Also
    --------
    sklearn.metrics.brier_score_loss : The mean squared error of probabilities.
    sklearn.calibration.calibration_curve : The bins' accuracy and confidence.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_bert.metrics import expected_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])
    >>> round(expected_calibration_error([0, 1, 1, 1], proba), 3)
    0.325
    """
    proba = np.asarray(y_proba, dtype=np.float64)
    y_true = np.asarray(y_true)
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise ValueError(
            "y_proba must have shape (n_samples, n_classes) with one row per "
            f"label of y_true; got {proba.shape} for {len(y_true)} labels."
        )
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1; got {n_bins}.")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        inside = bins == b
        ece += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece / len(y_true))
