"""Extractive QA spans: overlapping windows, token targets, best-span decoding.

A (question, context) row becomes one or more *windows*
``[CLS] question [SEP] context-part [SEP]`` of at most ``max_length`` tokens;
consecutive windows share ``stride`` context tokens. Which tokens belong
to the context is read from the fast tokenizer's ``sequence_ids``, never
assumed from a family's layout, and their character offsets map token spans
back to the original context string.

Pure functions on token lists and NumPy arrays; the tokenizer is the only
outside object used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._text.tokenize import call_tokenizer

#: Character offsets of a context token, or None for question/special tokens.
Offsets = list[tuple[int, int] | None]


@dataclass
class Windows:
    """Tokenized windows of (question, context) rows.

    Attributes
    ----------
    features : list of dict
        Token lists of each window (``input_ids``, maybe ``token_type_ids``).
    owners : ndarray of int
        The row each window comes from; windows of a row are consecutive and
        in context order.
    offsets : list of list
        Per window and token, the ``(start, end)`` character offsets in the
        row's context for answer-bearing context tokens, None for the
        question, special tokens and whitespace-only tokens.
    cls_index : ndarray of int
        Per window, the position of the "no answer" token (``[CLS]``).
    n_rows : int
        Number of rows.
    n_questions_truncated : int
        Questions cut to leave room for the context.
    """

    features: list[dict[str, list[int]]]
    owners: np.ndarray
    offsets: list[Offsets]
    cls_index: np.ndarray
    n_rows: int
    n_questions_truncated: int = 0

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, indices: Any) -> Windows:
        """The windows at ``indices`` (rows keep their numbers)."""
        indices = np.asarray(indices, dtype=np.int64)
        return Windows(
            [self.features[i] for i in indices],
            self.owners[indices],
            [self.offsets[i] for i in indices],
            self.cls_index[indices],
            self.n_rows,
            self.n_questions_truncated,
        )


@dataclass
class Span:
    """One predicted answer: text, character offsets in the context, score.

    ``start`` and ``end`` are -1 for "no answer" (``answer == ""``).
    """

    answer: str
    start: int
    end: int
    score: float


def _truncate_questions(
    tokenizer: Any, questions: list[str], limit: int
) -> tuple[list[str], np.ndarray, int]:
    """Cut questions to at most ``limit`` tokens; return them and their lengths."""
    questions = list(questions)
    n_cut = 0
    lengths = np.zeros(len(questions), dtype=np.int64)
    todo = np.arange(len(questions))
    for attempt in range(4):
        enc = call_tokenizer(
            tokenizer,
            [questions[i] for i in todo],
            add_special_tokens=False,
            return_offsets_mapping=True,
        )
        again = []
        for k, i in enumerate(todo):
            ids, offsets = enc["input_ids"][k], enc["offset_mapping"][k]
            lengths[i] = len(ids)
            if len(ids) > limit:
                n_cut += attempt == 0
                # Cutting the text at a token boundary may re-tokenize to a
                # slightly different count: check once more.
                questions[i] = questions[i][: offsets[max(0, limit - 1 - attempt)][1]]
                again.append(i)
        if not again:
            return questions, lengths, n_cut
        todo = np.asarray(again)
    raise ValueError(  # pragma: no cover - needs a pathological tokenizer
        f"Could not shorten questions to {limit} tokens."
    )


def make_windows(
    tokenizer: Any,
    questions: list[str],
    contexts: list[str],
    *,
    max_length: int,
    stride: int,
    input_names: set[str] | None = None,
) -> Windows:
    """Tokenize rows into overlapping windows of at most ``max_length`` tokens.

    Questions longer than half of the room left by the special tokens are
    truncated (counted in ``n_questions_truncated``); ``stride`` is
    lowered to half of a row's context part when it is larger.
    """
    n_special = tokenizer.num_special_tokens_to_add(pair=True)
    budget = max_length - n_special
    if budget < 2:
        raise ValueError(
            f"max_length={max_length} leaves no room for a question and a context "
            f"next to the {n_special} special tokens; use a larger max_length."
        )
    questions, q_lengths, n_cut = _truncate_questions(
        tokenizer, questions, max(1, budget // 2)
    )
    # Windows advance by at least half of their context part.
    strides = np.minimum(stride, (budget - q_lengths) // 2)
    cls_id = tokenizer.cls_token_id
    per_row: list[list[tuple[dict, Offsets, int]]] = [[] for _ in questions]
    for window_stride in np.unique(strides):
        rows = np.flatnonzero(strides == window_stride)
        enc = call_tokenizer(
            tokenizer,
            [questions[r] for r in rows],
            [contexts[r] for r in rows],
            truncation="only_second",
            max_length=max_length,
            stride=int(window_stride),
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_attention_mask=False,
        )
        keys = [k for k in ("input_ids", "token_type_ids") if k in enc]
        if input_names is not None:
            keys = [k for k in keys if k in input_names]
        for w, k in enumerate(enc["overflow_to_sample_mapping"]):
            row = int(rows[k])
            ids = enc["input_ids"][w]
            offsets = _context_offsets(
                enc["offset_mapping"][w], enc.sequence_ids(w), contexts[row]
            )
            cls = ids.index(cls_id) if cls_id is not None and cls_id in ids else 0
            per_row[row].append(({key: enc[key][w] for key in keys}, offsets, cls))
    flat = [(row, *w) for row, windows in enumerate(per_row) for w in windows]
    return Windows(
        features=[f for _, f, _, _ in flat],
        owners=np.asarray([r for r, _, _, _ in flat], dtype=np.int64),
        offsets=[o for _, _, o, _ in flat],
        cls_index=np.asarray([c for _, _, _, c in flat], dtype=np.int64),
        n_rows=len(questions),
        n_questions_truncated=n_cut,
    )


def _context_offsets(
    offset_mapping: list[tuple[int, int]],
    sequence_ids: list[int | None],
    context: str,
) -> Offsets:
    """Offsets of the tokens that can start or end an answer, None elsewhere."""
    out: Offsets = []
    for (start, end), seq in zip(offset_mapping, sequence_ids, strict=True):
        if seq == 1 and start < end and context[start:end].strip():
            out.append((int(start), int(end)))
        else:
            out.append(None)
    return out


def window_targets(
    windows: Windows, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Token ``(start, end)`` of each row's answer in each of its windows.

    ``starts``/``ends`` are the answers' character offsets (end exclusive,
    -1 for "no answer"). Windows that do not hold the whole answer get the
    "no answer" target ``(cls, cls)``.

    Returns
    -------
    targets : ndarray of shape (n_windows, 2), int64
    """
    targets = np.repeat(windows.cls_index[:, None], 2, axis=1)
    for w, offsets in enumerate(windows.offsets):
        row = windows.owners[w]
        char_start, char_end = int(starts[row]), int(ends[row])
        if char_start < 0:
            continue
        tokens = [t for t, o in enumerate(offsets) if o is not None]
        if not tokens:
            continue
        first, last = offsets[tokens[0]], offsets[tokens[-1]]
        if first[0] > char_start or last[1] < char_end:
            continue  # the answer is (partly) outside this window
        inside = [
            t for t in tokens if offsets[t][1] > char_start and offsets[t][0] < char_end
        ]
        if inside:
            targets[w] = (inside[0], inside[-1])
    return targets


def _logsumexp(values: np.ndarray) -> float:
    top = float(np.max(values))
    return top + float(np.log(np.sum(np.exp(values - top))))


def _best_in_window(
    logits: np.ndarray, offsets: Offsets, max_answer_length: int
) -> tuple[float, int, int, np.ndarray]:
    """Best (score, start token, end token) and all valid span scores."""
    valid = np.asarray(
        [i for i, o in enumerate(offsets) if o is not None and i < len(logits)],
        dtype=np.int64,
    )
    if valid.size == 0:
        return -np.inf, -1, -1, np.empty(0)
    scores = logits[valid, 0][:, None] + logits[valid, 1][None, :]
    gap = valid[None, :] - valid[:, None]
    allowed = (gap >= 0) & (gap < max_answer_length)
    candidates = scores[allowed]
    masked = np.where(allowed, scores, -np.inf)
    i, j = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return float(masked[i, j]), int(valid[i]), int(valid[j]), candidates


def decode_spans(
    windows: Windows,
    logits: list[np.ndarray],
    contexts: list[str],
    *,
    max_answer_length: int,
    null_score_threshold: float | None = None,
) -> list[Span | None]:
    """The best answer of each row over all its windows.

    A span's score is ``start_logit[i] + end_logit[j]`` for context tokens
    ``i <= j < i + max_answer_length``; the best span over all windows of a
    row wins. Its reported ``score`` is its softmax probability among all
    candidate spans and "no answer" candidates of the row. With
    ``null_score_threshold`` set, the row's answer is ``""`` when the lowest
    "no answer" score over its windows (``start_logit[cls] + end_logit[cls]``)
    exceeds the best span's score by more than the threshold.

    Parameters
    ----------
    windows : Windows
    logits : list of ndarray of shape (n_tokens, 2)
        Start and end logits per window (in ``windows`` order).
    contexts : list of str
        The contexts of all rows.
    max_answer_length : int
        Longest answer in tokens.
    null_score_threshold : float or None
        None never answers "" (unless no span exists).

    Returns
    -------
    spans : list of Span or None
        One per row; None for rows without windows.
    """
    best: list[tuple[float, int, int, int] | None] = [None] * windows.n_rows
    null = np.full(windows.n_rows, np.inf)
    pools: list[list[np.ndarray]] = [[] for _ in range(windows.n_rows)]
    for w, (window_logits, offsets) in enumerate(
        zip(logits, windows.offsets, strict=True)
    ):
        row = int(windows.owners[w])
        window_logits = np.asarray(window_logits, dtype=np.float64)
        cls = int(windows.cls_index[w])
        null_w = float(window_logits[cls, 0] + window_logits[cls, 1])
        null[row] = min(null[row], null_w)
        score, i, j, candidates = _best_in_window(
            window_logits, offsets, max_answer_length
        )
        pools[row] += [candidates, np.asarray([null_w])]
        if best[row] is None or score > best[row][0]:
            best[row] = (score, w, i, j)
    spans: list[Span | None] = []
    for row, found in enumerate(best):
        if found is None:
            spans.append(None)
            continue
        total = _logsumexp(np.concatenate(pools[row]))
        score, w, i, j = found
        no_answer = not np.isfinite(score) or (
            null_score_threshold is not None
            and null[row] - score > null_score_threshold
        )
        if no_answer:
            spans.append(Span("", -1, -1, float(np.exp(null[row] - total))))
            continue
        start, end = windows.offsets[w][i][0], windows.offsets[w][j][1]
        spans.append(_stripped(contexts[row], start, end, float(np.exp(score - total))))
    return spans


def _stripped(context: str, start: int, end: int, score: float) -> Span:
    """The span without surrounding whitespace (offsets may include a space)."""
    raw = context[start:end]
    text = raw.strip()
    if not text:
        return Span("", -1, -1, score)
    start += len(raw) - len(raw.lstrip())
    return Span(text, start, start + len(text), score)
