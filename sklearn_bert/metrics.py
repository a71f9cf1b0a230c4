"""Metrics and scorers of the library's tasks.

Question answering: SQuAD's token F1 and exact match (:func:`squad_f1`,
:func:`exact_match`, on answer strings) and scorers for model selection that
read answers in any form :class:`~sklearn_bert.BertQuestionAnswerer` accepts
(:func:`squad_f1_scorer`, :func:`exact_match_scorer`).

Token classification: the entity-level F1 of tag sequences
(:func:`entity_f1`), the score of :class:`~sklearn_bert.BertTokenClassifier`
on IOB tags.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._tasks.qa.scorers import exact_match_scorer, squad_f1_scorer
from ._tasks.qa.squad import exact_match, normalize_answer, squad_f1
from ._tasks.token.scoring import tag_score as _tag_score

__all__ = [
    "entity_f1",
    "exact_match",
    "exact_match_scorer",
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
