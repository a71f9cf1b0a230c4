"""Word-level input for token classification: checks, word pieces, windows.

Pure Python / NumPy helpers behind :class:`~sklearn_bert.BertTokenClassifier`:

- :func:`check_word_input` / :func:`check_tag_input`: sentences as token
  lists (or whitespace-split strings) and one tag per token, with errors that
  name the row and the token position.
- :func:`prepare_word_tokenizer`: byte-level BPE and Metaspace tokenizers are
  set to add the word-start marker to every pre-split word, as in running
  text.
- :func:`word_pieces`: the sub-word ids of every word, from the fast
  tokenizer's ``word_ids()`` on ``is_split_into_words=True`` input. A word
  with no sub-word (an empty string, a lone control or zero-width character)
  becomes the tokenizer's unknown token, so it keeps a position and a
  prediction of its own.
- :func:`plan_windows` / :func:`tokenize_windows`: long sentences are split into
  overlapping windows of whole words; each word belongs to the window where
  it is most central.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._text.inputs import check_encodable, is_missing, row_name, short_repr
from ..._text.tokenize import call_tokenizer


@dataclass
class WordInput:
    """Validated sentences.

    Attributes
    ----------
    sentences : list of list of str
        The tokens (words) of each sentence.
    index : pandas.Index or None
        The index of pandas input.
    columns : list of str or None
        The column name of a one-column DataFrame or a named Series.
    """

    sentences: list[list[str]]
    index: Any = None
    columns: list[str] | None = None

    def __len__(self) -> int:
        return len(self.sentences)


def _rows_of(X: Any, what: str) -> tuple[list[Any], Any, list[str] | None]:
    """Rows of a list / array / Series / one-column DataFrame, index, columns."""
    import pandas as pd

    if isinstance(X, str | bytes):
        raise ValueError(
            f"Expected a list of {what} (one per sentence), got a single "
            f"{type(X).__name__}. Wrap it in a list: [sentence]."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"Expected one column of {what} (one sentence per row), got a "
                f"DataFrame with {X.shape[1]} columns."
            )
        return X.iloc[:, 0].tolist(), X.index, [str(X.columns[0])]
    if isinstance(X, pd.Series):
        columns = None if X.name is None else [str(X.name)]
        return X.tolist(), X.index, columns
    if isinstance(X, np.ndarray):
        if X.ndim == 0 or X.ndim > 2:
            raise ValueError(f"Expected 1-D or 2-D input, got {X.ndim}-D.")
        if X.ndim == 2 and X.shape[1] == 1:  # one column (a ColumnTransformer's)
            return list(X[:, 0]), None, None
        return list(X), None, None  # 2-D: each row is one sentence
    if hasattr(X, "__iter__") and not isinstance(X, dict):
        return list(X), None, None
    raise TypeError(
        f"Expected a list, array or Series of {what}, got {type(X).__name__}."
    )


def _split_row(row: Any, position: int, index: Any, what: str) -> list[Any]:
    """One row as a list: strings are split on whitespace."""
    if isinstance(row, str):
        return row.split()
    if isinstance(row, list | tuple | np.ndarray):
        return list(row.tolist() if isinstance(row, np.ndarray) else row)
    if hasattr(row, "tolist") and not np.isscalar(row):  # a pandas Series
        return list(row.tolist())
    name = row_name(position, index)
    if is_missing(row):
        raise ValueError(
            f"Input contains a missing value ({row!r}) at {name} instead of a "
            f"list of {what}. Use an empty list for an empty sentence."
        )
    raise TypeError(
        f"Expected a list of {what} (or a whitespace-separated string) at "
        f"{name}, got {type(row).__name__} ({short_repr(row)})."
    )


def _check_items(items: list[Any], position: int, index: Any, kind: str) -> None:
    """Every item is a string (tokens) or a string / integer (tags)."""
    for j, item in enumerate(items):
        if isinstance(item, str):
            if kind == "token":
                check_encodable(
                    item, lambda j=j: f"token {j} of {row_name(position, index)}"
                )
            continue
        if (
            kind == "tag"
            and isinstance(item, int | np.integer)
            and not isinstance(item, bool | np.bool_)
        ):
            continue
        where = f"{kind} {j} of {row_name(position, index)}"
        if is_missing(item):
            raise ValueError(
                f"Input contains a missing value ({item!r}) at {where}. Every "
                f"{kind} must be a string."
            )
        allowed = "a string" if kind == "token" else "a string or an integer"
        raise TypeError(
            f"Expected {allowed} at {where}, got {type(item).__name__} "
            f"({short_repr(item)})."
        )


def check_word_input(X: Any) -> WordInput:
    """Validate sentences given as token lists or whitespace-separated strings.

    Parameters
    ----------
    X : list, ndarray, Series or one-column DataFrame
        One sentence per row: a list (or tuple, 1-D array) of token strings,
        or a string split on whitespace. Empty sentences are allowed.

    Returns
    -------
    word_input : WordInput

    Raises
    ------
    ValueError
        For no sentences, or a missing value (naming row and token position).
    TypeError
        For a row or a token of the wrong type (naming row and position).

    Examples
    --------
    >>> from sklearn_bert._tasks.token.words import check_word_input
    >>> check_word_input(["John lives here", ["in", "Paris"]]).sentences
    [['John', 'lives', 'here'], ['in', 'Paris']]
    """
    rows, index, columns = _rows_of(X, "tokens")
    if len(rows) == 0:
        raise ValueError("Found an empty input (0 sentences); at least 1 is required.")
    sentences = []
    for i, row in enumerate(rows):
        tokens = _split_row(row, i, index, "tokens")
        _check_items(tokens, i, index, "token")
        sentences.append([str(t) for t in tokens])
    return WordInput(sentences, index, columns)


def check_tag_input(y: Any, word_input: WordInput) -> list[list[Any]]:
    """Validate one tag list per sentence, with one tag per token.

    Tags are strings (for example IOB2 ``"B-PER"``) or integers, not mixed.
    A row given as a string is split on whitespace.
    """
    if y is None:
        raise ValueError(
            "y is required: one list of tags per sentence, with one tag per token."
        )
    rows, _, _ = _rows_of(y, "tags")
    if len(rows) != len(word_input):
        raise ValueError(
            f"X has {len(word_input)} sentences but y has {len(rows)} tag lists."
        )
    index = word_input.index
    tags = []
    kinds = set()
    for i, (row, tokens) in enumerate(zip(rows, word_input.sentences, strict=True)):
        row_tags = _split_row(row, i, index, "tags")
        _check_items(row_tags, i, index, "tag")
        if len(row_tags) != len(tokens):
            raise ValueError(
                f"{row_name(i, index).capitalize()} has {len(tokens)} tokens but "
                f"{len(row_tags)} tags; give exactly one tag per token."
            )
        row_tags = [t if isinstance(t, str) else int(t) for t in row_tags]
        kinds.update(type(t) for t in row_tags)
        tags.append(row_tags)
    if len(kinds) > 1:
        raise TypeError("Tags mix strings and integers; use one type for all tags.")
    return tags


# -- tokenizer -----------------------------------------------------------------
def _mark_every_word(node: Any) -> bool:
    """Make byte-level and Metaspace pre-tokenizers mark each word's start."""
    changed = False
    if isinstance(node, dict):
        if node.get("type") == "ByteLevel" and node.get("add_prefix_space") is False:
            node["add_prefix_space"] = True
            changed = True
        if node.get("type") == "Metaspace" and node.get("prepend_scheme") == "first":
            node["prepend_scheme"] = "always"
            changed = True
        for value in node.values():
            changed |= _mark_every_word(value)
    elif isinstance(node, list):
        for value in node:
            changed |= _mark_every_word(value)
    return changed


def prepare_word_tokenizer(tokenizer: Any) -> bool:
    """Have the tokenizer mark the start of every pre-split word (in place).

    With ``is_split_into_words=True`` each word is pre-tokenized on its own.
    Byte-level BPE tokenizers (RoBERTa, ModernBERT, GPT-2 style) without
    ``add_prefix_space`` then encode every word as if it started a text
    (``"York"`` instead of ``"ĠYork"``), unlike the words of running text the
    model was trained on. transformers 5 no longer raises for this, and its
    ``add_prefix_space=True`` loading option is ignored by generic
    ``PreTrainedTokenizerFast`` tokenizers (ModernBERT), so the backend's
    pre-tokenizer is changed directly. The change is saved with the tokenizer.
    Returns whether anything changed.
    """
    backend = tokenizer.backend_tokenizer
    state = json.loads(backend.to_str())
    pre = state.get("pre_tokenizer")
    if pre is None or not _mark_every_word(pre):
        return False
    from tokenizers import Tokenizer

    backend.pre_tokenizer = Tokenizer.from_str(json.dumps(state)).pre_tokenizer
    if hasattr(tokenizer, "add_prefix_space"):
        tokenizer.add_prefix_space = True  # saved in tokenizer_config.json
    return True


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special token ids before and after a single sentence."""
    enc = call_tokenizer(
        tokenizer, [["a"]], is_split_into_words=True, add_special_tokens=True
    )
    ids = enc["input_ids"][0]
    words = enc.word_ids(0)
    inside = [k for k, w in enumerate(words) if w is not None]
    if not inside:
        return [], []
    return ids[: inside[0]], ids[inside[-1] + 1 :]


def unknown_token_id(tokenizer: Any) -> int:
    """The id standing in for words that tokenize to nothing."""
    for token_id in (tokenizer.unk_token_id, tokenizer.pad_token_id):
        if token_id is not None:
            return int(token_id)
    return 0


def word_pieces(tokenizer: Any, sentences: list[list[str]]) -> list[list[list[int]]]:
    """Sub-word ids of every word of every sentence (never empty).

    Uses the fast tokenizer on pre-split words and groups the ids with
    ``word_ids()``. Words that tokenize to nothing get ``[unknown id]``.
    Words spelling a special token (``"[SEP]"``) are split like other text
    where the tokenizer supports it.
    """
    unk = unknown_token_id(tokenizer)
    out: list[list[list[int]]] = [[] for _ in sentences]
    todo = [i for i, s in enumerate(sentences) if s]
    if not todo:
        return out
    enc = call_tokenizer(
        tokenizer,
        [sentences[i] for i in todo],
        is_split_into_words=True,
        add_special_tokens=False,
        return_attention_mask=False,
        return_token_type_ids=False,
        split_special_tokens=True,  # a word "[SEP]" in the data is text
        verbose=False,
    )
    for row, i in enumerate(todo):
        pieces: list[list[int]] = [[] for _ in sentences[i]]
        for token_id, word in zip(
            enc["input_ids"][row], enc.word_ids(row), strict=True
        ):
            if word is not None:
                pieces[word].append(int(token_id))
        out[i] = [p if p else [unk] for p in pieces]
    return out


# -- windows -------------------------------------------------------------------
def plan_windows(counts: list[int], budget: int, stride: int) -> list[tuple[int, int]]:
    """Split words into windows ``[start, end)`` of at most ``budget`` tokens.

    ``counts`` are the sub-word counts of the words (each at least 1; a word
    longer than ``budget`` counts as ``budget``, its extra pieces are cut).
    Consecutive windows share the last words of the previous window, up to
    ``min(stride, budget // 2)`` tokens (whole words). Every window moves
    forward by at least one word.
    """
    n = len(counts)
    if n == 0:
        return []
    c = [min(k, budget) for k in counts]
    overlap = min(stride, budget // 2)
    windows = []
    start = 0
    while True:
        used, end = c[start], start + 1
        while end < n and used + c[end] <= budget:
            used += c[end]
            end += 1
        windows.append((start, end))
        if end >= n:
            return windows
        # Step back over whole words while they fit in the overlap and still
        # leave room for the next new word.
        room = min(overlap, budget - c[end])
        nxt, tail = end, 0
        while nxt - 1 > start and tail + c[nxt - 1] <= room:
            nxt -= 1
            tail += c[nxt]
        start = nxt


def assign_words(windows: list[tuple[int, int]], counts: list[int], budget: int):
    """For each word, the window where it is most central.

    Centrality is the smaller of the token counts before and after the word
    inside the window; ties go to the earlier window.
    """
    n = windows[-1][1] if windows else 0
    owner = np.zeros(n, dtype=np.int64)
    best = np.full(n, -1, dtype=np.int64)
    c = np.minimum(np.asarray(counts, dtype=np.int64), budget)
    for w, (start, end) in enumerate(windows):
        sizes = c[start:end]
        before = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        after = sizes.sum() - before - sizes
        central = np.minimum(before, after)
        better = central > best[start:end]
        best[start:end] = np.where(better, central, best[start:end])
        owner[start:end] = np.where(better, w, owner[start:end])
    return owner


@dataclass
class Windows:
    """Encoded windows of sentences.

    Attributes
    ----------
    features : list of dict
        Model inputs of each window (``input_ids``, maybe ``token_type_ids``).
    sentence : ndarray of int
        The sentence each window belongs to.
    words : list of ndarray
        The words each window predicts (the words it owns).
    positions : list of ndarray
        The token position of those words' first sub-word in the window.
    """

    features: list[dict[str, list[int]]] = field(default_factory=list)
    sentence: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    words: list[np.ndarray] = field(default_factory=list)
    positions: list[np.ndarray] = field(default_factory=list)

    def subset(self, indices: Any) -> Windows:
        """The windows at ``indices`` (sentences keep their numbers)."""
        indices = np.asarray(indices, dtype=np.int64)
        return Windows(
            [self.features[i] for i in indices],
            self.sentence[indices],
            [self.words[i] for i in indices],
            [self.positions[i] for i in indices],
        )

    def targets(self, labels: list[np.ndarray], ignore_index: int) -> list[list[int]]:
        """Per-window token targets: labels at owned first pieces, else ignored."""
        out = []
        for feat, s, words, pos in zip(
            self.features, self.sentence, self.words, self.positions, strict=True
        ):
            target = [ignore_index] * len(feat["input_ids"])
            for word, p in zip(words, pos, strict=True):
                target[int(p)] = int(labels[s][word])
            out.append(target)
        return out


def tokenize_windows(
    tokenizer: Any,
    sentences: list[list[str]],
    *,
    max_length: int,
    stride: int,
    with_token_type_ids: bool,
) -> Windows:
    """Windows of whole words fitting ``max_length`` tokens with special tokens.

    Empty sentences get no window. Every word of the other sentences is owned
    by exactly one window (see :func:`assign_words`).
    """
    prefix, suffix = special_tokens(tokenizer)
    budget = max(1, max_length - len(prefix) - len(suffix))
    pieces = word_pieces(tokenizer, sentences)
    out = Windows()
    owners = []
    for s, words in enumerate(pieces):
        counts = [len(p) for p in words]
        windows = plan_windows(counts, budget, stride)
        if not windows:
            continue
        owner = assign_words(windows, counts, budget)
        for w, (start, end) in enumerate(windows):
            ids = list(prefix)
            first = []
            for word in range(start, end):
                first.append(len(ids))
                ids.extend(words[word][:budget])
            ids.extend(suffix)
            mine = np.flatnonzero(owner[start:end] == w)
            feature = {"input_ids": ids}
            if with_token_type_ids:
                feature["token_type_ids"] = [0] * len(ids)
            out.features.append(feature)
            out.words.append(mine + start)
            out.positions.append(np.asarray(first, dtype=np.int64)[mine])
            owners.append(s)
    out.sentence = np.asarray(owners, dtype=np.int64)
    return out
