"""Metrics and scorers of the library's tasks.

Question answering: SQuAD's token F1 and exact match (:func:`squad_f1`,
:func:`exact_match`, on answer strings) and scorers for model selection that
read answers in any form :class:`~sklearn_bert.BertQuestionAnswerer` accepts
(:func:`squad_f1_scorer`, :func:`exact_match_scorer`).
"""

from ._tasks.qa.scorers import exact_match_scorer, squad_f1_scorer
from ._tasks.qa.squad import exact_match, normalize_answer, squad_f1

__all__ = [
    "exact_match",
    "exact_match_scorer",
    "normalize_answer",
    "squad_f1",
    "squad_f1_scorer",
]
