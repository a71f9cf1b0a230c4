"""Scores of tag sequences: entity-level F1 (seqeval) or token accuracy."""

from __future__ import annotations

import re
from typing import Any

#: Values of the token classifier's ``scoring`` parameter.
SCORINGS = ("auto", "entity_f1", "accuracy")

_IOB_TAG = re.compile(r"^[BIES]-.+")


def looks_like_iob(tags: Any) -> bool:
    """Whether a tag set is an entity scheme (``O`` and ``B-X``/``I-X``/...)."""
    tags = list(tags)
    return (
        all(isinstance(t, str) for t in tags)
        and any(_IOB_TAG.match(t) for t in tags)
        and all(t == "O" or _IOB_TAG.match(t) for t in tags)
    )


def resolve_scoring(scoring: str, classes: Any) -> str:
    """``"entity_f1"`` or ``"accuracy"``; ``"auto"`` follows the tag set."""
    if scoring != "auto":
        return scoring
    return "entity_f1" if looks_like_iob(classes) else "accuracy"


def tag_score(y_true: list[list[Any]], y_pred: list[list[Any]], scoring: str) -> float:
    """Entity-level micro F1 (seqeval) or token accuracy of tag sequences.

    Token accuracy is 0.0 when there are no tokens at all.
    """
    if scoring == "entity_f1":
        from seqeval.metrics import f1_score

        true = [[str(t) for t in row] for row in y_true]
        pred = [[str(t) for t in row] for row in y_pred]
        return float(f1_score(true, pred))
    n = sum(len(row) for row in y_true)
    if n == 0:
        return 0.0
    hits = sum(
        a == b
        for row_true, row_pred in zip(y_true, y_pred, strict=True)
        for a, b in zip(row_true, row_pred, strict=True)
    )
    return hits / n
