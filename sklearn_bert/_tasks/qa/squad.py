"""SQuAD answer metrics: token F1 and exact match on normalised answers.

The normalisation is the one of the official SQuAD evaluation script:
lower-case, drop punctuation, drop the articles "a", "an" and "the", and
collapse whitespace. An empty answer means "no answer" (SQuAD 2.0): it
scores 1 against an empty prediction and 0 against anything else.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..._typing import SampleWeight

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", flags=re.UNICODE)


def normalize_answer(text: str) -> str:
    """Lower-case, remove punctuation and articles, collapse whitespace.

    Parameters
    ----------
    text : str
        An answer.

    Returns
    -------
    normalized : str
        The answer as SQuAD compares it.

    See Also
    --------
    squad_f1 : The token F1 of normalised answers.

    Examples
    --------
    >>> from sklearn_bert.metrics import normalize_answer
    >>> normalize_answer("  The  Eiffel-Tower! ")
    'eiffeltower'
    """
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _token_f1(prediction: str, truth: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    true_tokens = normalize_answer(truth).split()
    if not pred_tokens or not true_tokens:
        return float(pred_tokens == true_tokens)
    common = Counter(pred_tokens) & Counter(true_tokens)
    n_same = sum(common.values())
    if n_same == 0:
        return 0.0
    precision = n_same / len(pred_tokens)
    recall = n_same / len(true_tokens)
    return 2 * precision * recall / (precision + recall)


def _exact(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def _golds(value: Any, position: int) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence | np.ndarray) and len(value) > 0:
        golds = list(value)
        if all(isinstance(g, str) for g in golds):
            return golds
    raise TypeError(
        f"y_true at row {position} must be an answer string or a non-empty list "
        f"of acceptable answer strings, got {type(value).__name__}."
    )


def _mean_of(
    metric: Callable[[str, str], float],
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
) -> float:
    y_true = list(y_true)
    y_pred = list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} answers but y_pred has {len(y_pred)}."
        )
    if not y_true:
        raise ValueError("Found empty y_true; at least 1 answer is required.")
    values = np.empty(len(y_true))
    for i, (truth, pred) in enumerate(zip(y_true, y_pred, strict=True)):
        if not isinstance(pred, str):
            raise TypeError(
                f"y_pred at row {i} must be a string, got {type(pred).__name__}."
            )
        values[i] = max(metric(pred, gold) for gold in _golds(truth, i))
    return float(np.average(values, weights=sample_weight))


def squad_f1(
    y_true: Sequence[str | Sequence[str]] | np.ndarray | pd.Series,
    y_pred: Sequence[str] | np.ndarray | pd.Series,
    *,
    sample_weight: SampleWeight = None,
) -> float:
    """Mean SQuAD token F1 between predicted and true answers.

    Each pair of answers is normalised (lower-case, no punctuation, no
    articles a/an/the, single spaces) and split on whitespace; the score of a
    row is the F1 of the bag-of-tokens overlap, the maximum over the row's
    acceptable answers. Empty answers (no answer) score 1 against an empty
    prediction and 0 otherwise.

    Parameters
    ----------
    y_true : sequence of str or of list of str
        The true answer of each row, or a list of acceptable answers.
    y_pred : sequence of str
        The predicted answers.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of the mean.

    Returns
    -------
    f1 : float
        In [0, 1].

    See Also
    --------
    exact_match : The stricter companion metric.
    BertQuestionAnswerer.score : This metric on the estimator's predictions.

    Examples
    --------
    >>> from sklearn_bert.metrics import squad_f1
    >>> round(squad_f1(["John Smith", "1990"], ["Smith", "in 1990"]), 3)
    0.667
    """
    return _mean_of(_token_f1, y_true, y_pred, sample_weight)


def exact_match(
    y_true: Sequence[str | Sequence[str]] | np.ndarray | pd.Series,
    y_pred: Sequence[str] | np.ndarray | pd.Series,
    *,
    sample_weight: SampleWeight = None,
) -> float:
    """Fraction of predictions equal to a true answer after normalisation.

    Parameters
    ----------
    y_true : sequence of str or of list of str
        The true answer of each row, or a list of acceptable answers.
    y_pred : sequence of str
        The predicted answers.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of the mean.

    Returns
    -------
    exact_match : float
        In [0, 1].

    See Also
    --------
    squad_f1 : Partial credit for overlapping answers.

    Examples
    --------
    >>> from sklearn_bert.metrics import exact_match
    >>> exact_match(["The Beatles", "1990"], ["beatles", "in 1990"])
    0.5
    """
    return _mean_of(_exact, y_true, y_pred, sample_weight)
