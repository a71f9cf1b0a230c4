"""Scorers (``scoring=`` callables) of question answerers: SQuAD F1 and
exact match, reading answers in any form ``fit`` accepts."""

from __future__ import annotations

from typing import Any

from ..._text.inputs import check_text_input
from ..._typing import QAData, SampleWeight, Targets
from .answers import answer_texts
from .squad import exact_match, squad_f1


def _score(metric, estimator: Any, X: Any, y: Any, sample_weight=None) -> float:
    text_input = check_text_input(X)
    if text_input.pairs is None:
        raise ValueError(
            "Question answering needs (question, context) rows: a two-column "
            "DataFrame or an (n, 2) array; got a single column of texts."
        )
    gold = answer_texts(y, text_input.pairs, text_input.index)
    return metric(gold, estimator.predict(X), sample_weight=sample_weight)


def squad_f1_scorer(
    estimator: Any, X: QAData, y: Targets, sample_weight: SampleWeight = None
) -> float:
    """Scorer (``scoring=`` callable) giving the SQuAD F1 of a question answerer.

    Unlike ``make_scorer(squad_f1)``, it also accepts answers given as
    character offsets (it reads the contexts from ``X``).

    Parameters
    ----------
    estimator : BertQuestionAnswerer
        A fitted question answerer (or a pipeline ending in one).
    X : DataFrame or ndarray of shape (n_samples, 2)
        (question, context) rows.
    y : sequence, array-like of shape (n_samples, 2) or DataFrame
        True answers, in any form :meth:`BertQuestionAnswerer.fit` accepts.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    f1 : float
        The metric on the estimator's predictions, in [0, 1].

    See Also
    --------
    exact_match_scorer : Exact match as a scorer.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_bert import BertQuestionAnswerer
    >>> from sklearn_bert.metrics import exact_match_scorer, squad_f1_scorer
    >>> scoring = {"f1": squad_f1_scorer, "em": exact_match_scorer}
    >>> search = GridSearchCV(
    ...     BertQuestionAnswerer(), {"lr": [3e-5, 1e-4]}, scoring=scoring, refit="f1"
    ... )
    """
    return _score(squad_f1, estimator, X, y, sample_weight=sample_weight)


def exact_match_scorer(
    estimator: Any, X: QAData, y: Targets, sample_weight: SampleWeight = None
) -> float:
    """Scorer (``scoring=`` callable) giving the exact match of a question answerer.

    Parameters
    ----------
    estimator : BertQuestionAnswerer
        A fitted question answerer.
    X : DataFrame or ndarray of shape (n_samples, 2)
        (question, context) rows.
    y : sequence, array-like of shape (n_samples, 2) or DataFrame
        True answers, in any form :meth:`BertQuestionAnswerer.fit` accepts.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    exact_match : float
        The metric on the estimator's predictions, in [0, 1].

    See Also
    --------
    squad_f1_scorer : SQuAD F1 as a scorer.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_bert import BertQuestionAnswerer
    >>> from sklearn_bert.metrics import exact_match_scorer
    >>> search = GridSearchCV(
    ...     BertQuestionAnswerer(), {"lr": [3e-5, 1e-4]}, scoring=exact_match_scorer
    ... )
    """
    return _score(exact_match, estimator, X, y, sample_weight=sample_weight)
