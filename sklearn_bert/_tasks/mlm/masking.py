"""Masked-language-model pieces used by :class:`~sklearn_bert.BertMaskedLM`.

- :func:`tokenize_for_mlm`: rows to token ids with word groups (for whole-word
  masking); long single texts are cut into consecutive ``max_length`` chunks.
- :class:`MaskingCollate`: pads a batch and masks it (BERT's 80/10/10 recipe),
  either dynamically (a running generator: new masks every epoch) or with
  fixed masks (each row's masks follow from a seed and the row's token ids,
  so scores do not depend on batch size, order or calls).
- :func:`random_token_ids`: the ids a chosen token may be replaced with.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..._nn.losses import IGNORE_INDEX
from ..._text.batching import pad_batch
from ..._text.inputs import TextInput
from ..._text.tokenize import call_tokenizer, count_truncated

#: The fixed recipe of ``score``: seed and share of masked tokens.
SCORE_SEED = 20240229
SCORE_MLM_PROBABILITY = 0.15

#: Shares of the chosen tokens replaced by the mask token, by a random token
#: (the rest stay unchanged): BERT's 80 / 10 / 10 recipe.
MASK_SHARE = 0.8
RANDOM_SHARE = 0.1

# Word group of tokens that are never chosen (special tokens).
_NOT_MASKABLE = -1


def tokenize_for_mlm(
    tokenizer: Any,
    text_input: TextInput,
    *,
    max_length: int,
    long_text: str,
    input_names: set[str],
) -> tuple[list[dict[str, list[int]]], np.ndarray, int]:
    """Tokenize rows for masked-LM training or scoring.

    Single texts longer than ``max_length`` are split into consecutive,
    non-overlapping chunks when ``long_text="chunk"`` (no token is lost or
    counted twice); otherwise, and always for sentence pairs, they are
    truncated (longest text first).

    Returns
    -------
    features : list of dict
        ``input_ids`` (and ``token_type_ids`` when the model takes them) plus
        ``word_ids``: one group number per token, shared by the sub-tokens of
        a word, ``-1`` for special tokens (never masked).
    owners : ndarray of int
        The row each feature (chunk) comes from.
    n_truncated : int
        Rows that lost tokens to truncation.
    """
    pairs = text_input.pairs
    chunk = long_text == "chunk" and pairs is None
    enc = call_tokenizer(
        tokenizer,
        text_input.texts,
        pairs,
        truncation=True if chunk else "longest_first",
        max_length=max_length,
        stride=0,
        return_overflowing_tokens=chunk,
        return_attention_mask=False,
    )
    keys = [k for k in ("input_ids", "token_type_ids") if k in enc and k in input_names]
    special = set(tokenizer.all_special_ids)
    features = []
    for i in range(len(enc["input_ids"])):
        row = {k: list(enc[k][i]) for k in keys}
        row["word_ids"] = _word_groups(
            row["input_ids"], enc.word_ids(i), enc.sequence_ids(i), special
        )
        features.append(row)
    n_truncated = (
        0 if chunk else count_truncated(tokenizer, text_input, max_length, enc)
    )
    owners = (
        np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)
        if chunk
        else np.arange(len(features), dtype=np.int64)
    )
    return features, owners, n_truncated


def tokenize_masked_texts(
    tokenizer: Any,
    texts: Sequence[str],
    *,
    placeholder: str,
    max_length: int,
    input_names: set[str],
) -> list[dict[str, list[int]]]:
    """Tokenize texts holding mask tokens (``placeholder`` also counts as one).

    Raises a ``ValueError`` naming the first row without a mask token within
    ``max_length`` tokens.
    """
    mask = tokenizer.mask_token
    rows = [text.replace(placeholder, mask) for text in texts]
    enc = call_tokenizer(
        tokenizer,
        rows,
        truncation=True,
        max_length=max_length,
        return_attention_mask=False,
    )
    keys = [k for k in ("input_ids", "token_type_ids") if k in enc and k in input_names]
    features = [{k: list(enc[k][i]) for k in keys} for i in range(len(rows))]
    for i, row in enumerate(features):
        if tokenizer.mask_token_id not in row["input_ids"]:
            raise ValueError(
                f"Text at row {i} has no mask token ({placeholder!r} or {mask!r}) "
                f"within max_length={max_length} tokens."
            )
    return features


def _word_groups(
    ids: Sequence[int],
    words: Sequence[int | None],
    sequences: Sequence[int | None],
    special: set[int],
) -> list[int]:
    """Number the words of a row (across both texts of a pair); -1 = special."""
    groups = []
    previous: tuple[Any, Any] | None = None
    group = -1
    for token, word, sequence in zip(ids, words, sequences, strict=True):
        if word is None or token in special:
            groups.append(_NOT_MASKABLE)
            previous = None
            continue
        if (sequence, word) != previous:
            group += 1
            previous = (sequence, word)
        groups.append(group)
    return groups


def mask_row(
    ids: Sequence[int],
    groups: Sequence[int],
    rng: np.random.Generator,
    *,
    mlm_probability: float,
    whole_word: bool,
    mask_token_id: int,
    random_token_ids: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose and corrupt tokens of one row.

    Each maskable token (or each word with ``whole_word``) is chosen with
    probability ``mlm_probability``, and at least one per row that has any.
    Chosen tokens become the mask token (80 %), a random token (10 %) or stay
    (10 %).

    Returns
    -------
    input_ids : ndarray
        The corrupted ids.
    labels : ndarray
        The original id at chosen positions, ``IGNORE_INDEX`` elsewhere.
    """
    ids = np.asarray(ids, dtype=np.int64).copy()
    groups = np.asarray(groups, dtype=np.int64)
    labels = np.full(len(ids), IGNORE_INDEX, dtype=np.int64)
    maskable = groups != _NOT_MASKABLE
    if not maskable.any():
        return ids, labels
    units = np.unique(groups[maskable]) if whole_word else np.flatnonzero(maskable)
    pick = rng.random(len(units)) < mlm_probability
    if not pick.any():
        pick[rng.integers(len(units))] = True
    if whole_word:
        chosen = np.isin(groups, units[pick]) & maskable
    else:
        chosen = np.zeros(len(ids), dtype=bool)
        chosen[units[pick]] = True
    labels[chosen] = ids[chosen]
    draw = rng.random(len(ids))
    to_mask = chosen & (draw < MASK_SHARE)
    to_random = chosen & (draw >= MASK_SHARE) & (draw < MASK_SHARE + RANDOM_SHARE)
    ids[to_mask] = mask_token_id
    n_random = int(to_random.sum())
    if n_random:
        ids[to_random] = rng.choice(random_token_ids, size=n_random)
    return ids, labels


class MaskingCollate:
    """``collate_fn`` that pads a batch of rows and masks it.

    With ``fixed=False`` masks come from one generator seeded with ``seed``,
    so every epoch draws new masks and a seeded fit is reproducible. With
    ``fixed=True`` each row's masks depend only on ``seed`` and its token ids.

    Called on ``(features, meta)`` items (skorch) it returns ``(X, y)``:
    ``X`` holds the padded, corrupted ``input_ids``, ``attention_mask``,
    ``token_type_ids`` if any, and ``mlm_mask`` (where labels are set); ``y``
    holds ``target`` (labels padded with ``IGNORE_INDEX``) and ``weight``
    (ones), as the other collates do. :meth:`batch` returns one dict with the
    labels under ``labels`` (for the inference loop).
    """

    def __init__(
        self,
        *,
        pad_token_id: int,
        mask_token_id: int,
        random_token_ids: np.ndarray,
        mlm_probability: float,
        whole_word: bool,
        seed: int,
        fixed: bool,
    ):
        self.pad_token_id = pad_token_id
        self.mask_token_id = mask_token_id
        self.random_token_ids = random_token_ids
        self.mlm_probability = mlm_probability
        self.whole_word = whole_word
        self.seed = seed
        self.fixed = fixed
        self._rng = np.random.default_rng(seed)

    def get_rng_state(self) -> dict[str, Any]:
        """The state of the dynamic masks' generator (plain values, for a
        checkpoint)."""
        return self._rng.bit_generator.state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state

    def _row_rng(self, ids: Sequence[int]) -> np.random.Generator:
        if not self.fixed:
            return self._rng
        digest = zlib.crc32(np.asarray(ids, dtype=np.int64).tobytes())
        return np.random.default_rng([self.seed, digest])

    def batch(self, rows: Sequence[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        """Pad and mask rows: the model inputs plus ``mlm_mask`` and ``labels``
        (the original ids where chosen, ``IGNORE_INDEX`` elsewhere)."""
        corrupted = []
        labels = []
        for features in rows:
            ids, row_labels = mask_row(
                features["input_ids"],
                features["word_ids"],
                self._row_rng(features["input_ids"]),
                mlm_probability=self.mlm_probability,
                whole_word=self.whole_word,
                mask_token_id=self.mask_token_id,
                random_token_ids=self.random_token_ids,
            )
            row = {k: v for k, v in features.items() if k != "word_ids"}
            row["input_ids"] = ids
            corrupted.append(row)
            labels.append(row_labels)
        batch = pad_batch(corrupted, self.pad_token_id)
        width = batch["input_ids"].shape[1]
        target = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
        for i, row_labels in enumerate(labels):
            target[i, : len(row_labels)] = torch.from_numpy(row_labels)
        batch["mlm_mask"] = target != IGNORE_INDEX
        batch["labels"] = target
        return batch

    def __call__(self, items: Sequence[tuple[dict[str, list[int]], Any]]):
        """The skorch collate: ``(X, y)`` with ``y["target"]`` the labels."""
        X = self.batch([features for features, _ in items])
        target = X.pop("labels")
        return X, {"target": target, "weight": torch.ones(len(items))}


def random_token_ids(tokenizer: Any, model: Any) -> np.ndarray:
    """Ids that may replace a chosen token: the vocabulary less special tokens."""
    n = min(len(tokenizer), model.get_input_embeddings().num_embeddings)
    special = np.asarray(sorted(tokenizer.all_special_ids), dtype=np.int64)
    return np.setdiff1d(np.arange(n, dtype=np.int64), special)
