"""Answers of a question-answering ``y``: texts or character offsets.

``y`` holds one answer per (question, context) row: a text that occurs in the
context (first occurrence), ``(start, end)`` character offsets (end
exclusive) as an ``(n, 2)`` array or a list of pairs, or a DataFrame with
``answer_start`` and ``answer_end`` (or ``answer_start`` and ``text``). ``""``
and ``(-1, -1)`` mean "no answer". Errors name the row.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..._text.inputs import is_missing, row_name


def _is_offset(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_rows(y: Any, n_rows: int) -> list[Any]:
    if y is None:
        raise ValueError("y is required: one answer (text or offsets) per row of X.")
    if isinstance(y, str | bytes):
        raise ValueError(
            "y must hold one answer per row (a list, array, Series or "
            f"DataFrame), got a single {type(y).__name__}."
        )
    rows = y.tolist() if isinstance(y, np.ndarray) else list(y)
    if len(rows) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(rows)} answers.")
    return rows


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if (
        isinstance(value, list | tuple | np.ndarray)
        and len(value) == 2
        and all(_is_offset(v) for v in value)
    ):
        return "offsets"
    return "other"


def _offsets_from_frame(
    y: Any, contexts: list[str], index: Any
) -> tuple[np.ndarray, np.ndarray] | None:
    columns = set(map(str, y.columns))
    if {"answer_start", "answer_end"} <= columns:
        return _check_offsets(
            list(zip(y["answer_start"], y["answer_end"], strict=True)),
            contexts,
            index,
        )
    if {"answer_start", "text"} <= columns:
        rows = list(zip(y["answer_start"], y["text"], strict=True))
        offsets = []
        for i, (start, text) in enumerate(rows):
            if not isinstance(text, str) or not _is_offset(start):
                raise TypeError(
                    f"y at {row_name(i, index)} needs an integer answer_start "
                    f"and a text, got {start!r} and {text!r}."
                )
            offsets.append((-1, -1) if text == "" else (start, start + len(text)))
            if text and contexts[i][start : start + len(text)] != text:
                raise ValueError(
                    f"y at {row_name(i, index)}: the context at answer_start="
                    f"{start} does not read {text!r}."
                )
        return _check_offsets(offsets, contexts, index)
    if y.shape[1] == 1:
        return None
    raise ValueError(
        "A DataFrame y needs the columns answer_start and answer_end (character "
        "offsets, end exclusive), or answer_start and text; got "
        f"{sorted(columns)}."
    )


def answer_offsets(
    y: Any, contexts: list[str], index: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Character ``(start, end)`` of each row's answer, -1 for "no answer"."""
    import pandas as pd

    if isinstance(y, pd.DataFrame):
        found = _offsets_from_frame(y, contexts, index)
        if found is not None:
            return found
        y = y.iloc[:, 0]
    rows = _as_rows(y, len(contexts))
    first = next((_kind(r) for r in rows if not _is_missing_answer(r)), "text")
    if first == "offsets":
        return _check_offsets(rows, contexts, index)
    starts = np.empty(len(rows), dtype=np.int64)
    ends = np.empty(len(rows), dtype=np.int64)
    for i, (answer, context) in enumerate(zip(rows, contexts, strict=True)):
        _check_answer_type(answer, i, index, "text")
        text = answer.strip()
        position = context.find(text) if text else -1
        if text and position < 0:
            raise ValueError(
                f"The answer {_short(answer)} at {row_name(i, index)} does not "
                "occur in its context. Answers must be pieces of the context "
                "(case-sensitive); give character offsets otherwise."
            )
        starts[i] = position
        ends[i] = position + len(text) if text else -1
    return starts, ends


def _is_missing_answer(value: Any) -> bool:
    return not isinstance(value, list | tuple | np.ndarray) and is_missing(value)


def _check_answer_type(value: Any, i: int, index: Any, kind: str) -> None:
    if _is_missing_answer(value):
        raise ValueError(
            f"y contains a missing answer ({value!r}) at {row_name(i, index)}. "
            "Use '' for a question whose context holds no answer."
        )
    if _kind(value) != kind:
        expected = "an answer string" if kind == "text" else "a (start, end) pair"
        raise TypeError(
            f"y at {row_name(i, index)} must be {expected} like the other rows, "
            f"got {_short(value)}."
        )


def _check_offsets(
    rows: list[Any], contexts: list[str], index: Any
) -> tuple[np.ndarray, np.ndarray]:
    starts = np.empty(len(rows), dtype=np.int64)
    ends = np.empty(len(rows), dtype=np.int64)
    for i, (pair, context) in enumerate(zip(rows, contexts, strict=True)):
        _check_answer_type(pair, i, index, "offsets")
        start, end = int(pair[0]), int(pair[1])
        if (start, end) == (-1, -1):
            starts[i] = ends[i] = -1
            continue
        if not 0 <= start < end <= len(context):
            raise ValueError(
                f"The answer offsets ({start}, {end}) at {row_name(i, index)} "
                f"are not a span of its context of {len(context)} characters: "
                "need 0 <= start < end <= len(context) (end exclusive), or "
                "(-1, -1) for no answer."
            )
        raw = context[start:end]
        if not raw.strip():
            raise ValueError(
                f"The answer offsets ({start}, {end}) at {row_name(i, index)} "
                "select only whitespace."
            )
        starts[i] = start + len(raw) - len(raw.lstrip())
        ends[i] = end - (len(raw) - len(raw.rstrip()))
    return starts, ends


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def answer_texts(y: Any, contexts: list[str], index: Any) -> list[Any]:
    """True answers for scoring: texts (or lists of texts) kept as they are."""
    import pandas as pd

    if not isinstance(y, pd.DataFrame):
        rows = _as_rows(y, len(contexts))
        if all(
            isinstance(r, str)
            or (
                isinstance(r, list | tuple | np.ndarray)
                and len(r) > 0
                and all(isinstance(a, str) for a in r)
            )
            for r in rows
        ):
            return rows
    starts, ends = answer_offsets(y, contexts, index)
    return sliced(contexts, starts, ends)


def sliced(contexts: list[str], starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """The answer texts at character offsets (``""`` for start -1)."""
    return [
        c[s:e] if s >= 0 else "" for c, s, e in zip(contexts, starts, ends, strict=True)
    ]
